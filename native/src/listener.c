/* listener.c - how sockets reach the workers: the native port's
 * listening socket (bind and listen ourselves for clear errors at start,
 * accept4 on worker 0's loop through uv_poll), and sockets adopted from
 * another server of the process (c4j_adopt, with the bytes it had read,
 * and the dummy's other end drained).  Either way a socket is admitted
 * here (docs/protocol.md section 2, "Unfinished requests"): 429 when its
 * address has too many unfinished requests while the engine is crowded;
 * when the engine is full, it takes the place of the oldest unfinished
 * request (on the worker holding it), or gets 503 when there is none;
 * then a worker round-robin.  What was refused is logged at most once a
 * minute.  With a TLS context every socket accepted on the port speaks
 * TLS (a refusal is only a close: a plain answer would be garbage to a TLS
 * client); adopted ones never do.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "common.h"
#include "conn.h"
#include "http.h"
#include "listener.h"

#define ACCEPTS_PER_WAKE 128
/* Descriptors left to the rest of the process (the JVM's jars, Tomcat's
 * own sockets, Redis) when the file limit caps the connections. */
#define FD_RESERVE 256
#define REPORT_MS 60000

/* ---- Capacity ------------------------------------------------------------- */

static int open_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
  if (d == NULL) return 0;
  while ((de = readdir(d)) != NULL) n += de->d_name[0] != '.';
  closedir(d);
  return n;
}

void c4j__listener_capacity(c4j_engine_t *e) {
  struct rlimit rl;
  e->conn_cap = e->cfg.max_conns;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < (rlim_t)INT_MAX) {
    int used = open_fds();
    long room = (long)rl.rlim_cur - used - FD_RESERVE;
    if (room < 1) room = 1;
    if (room < e->cfg.max_conns) {
      char text[200];
      e->conn_cap = (int)room;
      snprintf(text, sizeof(text),
               "max_conns %d is more than the file limit allows (%ld, %d "
               "in use): at most %d connections",
               e->cfg.max_conns, (long)rl.rlim_cur, used, e->conn_cap);
      c4j__events_log(&e->events, 2, text);
    }
  }
}

/* ---- Admission ------------------------------------------------------------ */

int c4j__listener_open(c4j_engine_t *e) {
  struct addrinfo hints, *res = NULL;
  char port[8];
  int fd, rc, one = 1;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(port, sizeof(port), "%d", e->cfg.port);
  rc = getaddrinfo(e->host, port, &hints, &res);
  if (rc != 0) return rc == EAI_NONAME ? UV_EAI_NONAME : UV_EAI_FAIL;
  fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    rc = -errno;
    freeaddrinfo(res);
    return rc;
  }
  /* A redeploy must be able to bind the same port at once. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  /* The kernel caps the backlog at net.core.somaxconn: ask for the most,
   * since a burst of reconnects after a restart fills a small queue and
   * leaves clients in TCP retransmission backoff. */
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 65535) != 0 ||
      getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    rc = -errno;
    freeaddrinfo(res);
    close(fd);
    return rc;
  }
  freeaddrinfo(res);
  e->listen_fd = fd;
  e->port = ss.ss_family == AF_INET6
                ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return 0;
}

/* Answers status with reason on a socket no worker will own, then
 * closes it (a TLS port's client would read a plain answer as garbage:
 * only closed). */
static void refuse(c4j_engine_t *e, int fd, int status, const char *reason,
                   int tls) {
  char buf[512];
  long n;
  C4J__COUNT(e->refused[c4j__metrics_status_slot(status)]);
  /* Read what the client already sent, so close() does not reset. */
  while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {}
  n = tls ? 0 : c4j_http_write_error(buf, sizeof(buf), status, reason, "");
  if (n > 0) (void)!send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  close(fd);
}

/* The worker whose oldest unfinished request is the oldest of all, -1
 * when there is none to spare: `spare` are those not yet chosen.  That
 * worker reads it before it lets it go (c4j__conn_evict_oldest). */
static int oldest_pending(c4j_engine_t *e, int spare) {
  uint64_t best = 0;
  int who = -1;
  if (spare <= 0) return -1;
  for (int i = 0; i < e->nworkers; i++) {
    uint64_t since = atomic_load(&e->workers[i]->pending_since);
    if (since != 0 && (who < 0 || since < best)) {
      best = since;
      who = i;
    }
  }
  return who;
}

/* Gives a place to a new socket of client address sa, or refuses it.
 * Returns 0 with *key (its address's, counted as an unfinished request)
 * and *victim (the worker whose oldest unfinished request gives its
 * place up, -1 when there was room) set, open_socks counted; else the
 * status to refuse it with and *why, nothing counted. */
static int admit(c4j_engine_t *e, const struct sockaddr *sa, uint32_t *key,
                 int *victim, const char **why) {
  int crowded = 2 * c4j__engine_held(e) >= e->conn_cap, rc, held;
  *key = c4j__pending_key(&e->pending, sa);
  *victim = -1;
  rc = c4j__pending_add(&e->pending, *key,
                        crowded ? e->cfg.max_pending_per_addr : 0);
  if (rc == 0) {
    atomic_fetch_add(&e->refused_addr, 1);
    return *why = "too many unfinished requests from this address", 429;
  }
  if (rc < 0) return *why = "out of memory", 503;
  held = atomic_fetch_add(&e->open_socks, 1) - atomic_load(&e->evicting);
  if (held >= e->conn_cap) {
    /* Full: the oldest unfinished request gives its place up, since an
     * honest client sends its request at once. */
    *victim = oldest_pending(e, c4j__pending_total(&e->pending) - 1 -
                                    atomic_load(&e->to_evict));
    if (*victim < 0) {
      atomic_fetch_sub(&e->open_socks, 1);
      c4j__pending_remove(&e->pending, *key);
      atomic_fetch_add(&e->refused_full, 1);
      return *why = "too many connections", 503;
    }
    atomic_fetch_add(&e->evicting, 1);
    atomic_fetch_add(&e->to_evict, 1);
  }
  return 0;
}

void c4j__listener_unplace(c4j_engine_t *e, uint32_t key, int evict) {
  c4j__pending_remove(&e->pending, key);
  if (evict) {
    atomic_fetch_sub(&e->to_evict, 1);
    atomic_fetch_sub(&e->evicting, 1);
  }
  atomic_fetch_sub(&e->open_socks, 1);
}

void c4j__listener_place(c4j__worker_t *w, int fd, const c4j__buf_t *first,
                         uint32_t key, int evict, int tls) {
  c4j_engine_t *e = w->engine;
  if (evict) {
    if (c4j__conn_evict_oldest(w)) {
      /* The evicted one is counted out of `pending`; its close lowers
       * `evicting`. */
      atomic_fetch_sub(&e->to_evict, 1);
    } else {
      /* Its unfinished requests arrived meanwhile, or were chosen
       * twice. */
      c4j__listener_unplace(e, key, 1);
      atomic_fetch_add(&e->refused_full, 1);
      refuse(e, fd, 503, "too many connections", tls);
      return;
    }
  }
  c4j__conn_adopt(w, fd, first, key, tls);
}

static void hand_off(c4j__worker_t *w0, int fd, uint32_t key, int victim) {
  c4j_engine_t *e = w0->engine;
  c4j__worker_t *w = victim >= 0
                         ? e->workers[victim]
                         : e->workers[w0->rr++ % (unsigned)e->nworkers];
  c4j__msg_t *m;
  int tls = e->tls_cert != NULL; /* TLS from c4j_engine_new on */
  if (w == w0) {
    c4j__listener_place(w0, fd, NULL, key, victim >= 0, tls);
    return;
  }
  m = c4j__msg_new(C4J__MSG_FD, NULL, 0, NULL);
  if (m != NULL && c4j__engine_enter(e)) {
    m->fd = fd;
    m->seq = key;
    m->code = victim >= 0;
    m->tls = (uint8_t)tls;
    c4j__worker_push(w, &m->node);
    c4j__engine_leave(e);
    return;
  }
  c4j__free(m);
  close(fd);
  c4j__listener_unplace(e, key, victim >= 0);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  c4j__worker_t *w = C4J__CONTAINER_OF(h, c4j__worker_t, listen);
  c4j_engine_t *e = w->engine;
  for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    const char *why;
    uint32_t key;
    int victim, status;
    int fd = accept4(e->listen_fd, (struct sockaddr *)&ss, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        /* Out of descriptors: the socket stays readable, so polling would
         * spin.  Pause until the next tick. */
        uv_poll_stop(&w->listen);
        w->listen_paused = 1;
        c4j__events_log(&e->events, 1, "accept paused: out of descriptors");
      }
      break;
    }
    atomic_fetch_add(&e->accepted, 1);
    status = admit(e, (struct sockaddr *)&ss, &key, &victim, &why);
    if (status != 0) {
      refuse(e, fd, status, why, e->tls_cert != NULL);
      continue;
    }
    hand_off(w, fd, key, victim);
  }
}

int c4j__listener_start(c4j__worker_t *w) {
  c4j_engine_t *e = w->engine;
  int rc;
  if (e->listen_fd < 0) return 0;
  rc = uv_poll_init_socket(&w->loop, &w->listen, e->listen_fd);
  if (rc != 0) return rc;
  w->listening = 1;
  return uv_poll_start(&w->listen, UV_READABLE, on_readable);
}

void c4j__listener_stop(c4j__worker_t *w) {
  if (!w->listening) return;
  w->listening = 0;
  uv_close((uv_handle_t *)&w->listen, NULL);
}

void c4j__listener_resume(c4j__worker_t *w) {
  if (!w->listening || !w->listen_paused) return;
  w->listen_paused = 0;
  uv_poll_start(&w->listen, UV_READABLE, on_readable);
}

void c4j__listener_close(c4j_engine_t *e) {
  if (e->listen_fd >= 0) close(e->listen_fd);
  e->listen_fd = -1;
  e->port = -1;
}

/* ---- What was refused ----------------------------------------------------- */

void c4j__listener_report(c4j__worker_t *w) {
  c4j_engine_t *e = w->engine;
  uint64_t now = c4j__mono_ms(), v[5];
  char text[400];
  v[0] = atomic_load(&e->refused_addr);
  v[1] = atomic_load(&e->evicted);
  v[2] = atomic_load(&e->timeouts_short);
  v[3] = atomic_load(&e->refused_full);
  v[4] = atomic_load(&e->timeouts);
  /* Requests that never come at the full deadline are ordinary (a
   * browser's speculative sockets); the others say the engine is
   * crowded. */
  if (v[0] == w->reported[0] && v[1] == w->reported[1] &&
      v[2] == w->reported[2] && v[3] == w->reported[3])
    return;
  if (w->report_ms != 0 && now - w->report_ms < REPORT_MS) return;
  snprintf(text, sizeof(text),
           "unfinished requests refused since the last report: %llu for "
           "their address (429), %llu to make room (503), %llu timed out "
           "early (408), %llu with the engine full (503), %llu timed out "
           "(408); %d unfinished now, %d of %d places held",
           (unsigned long long)(v[0] - w->reported[0]),
           (unsigned long long)(v[1] - w->reported[1]),
           (unsigned long long)(v[2] - w->reported[2]),
           (unsigned long long)(v[3] - w->reported[3]),
           (unsigned long long)(v[4] - w->reported[4]),
           c4j__pending_total(&e->pending), c4j__engine_held(e), e->conn_cap);
  c4j__events_log(&e->events, 1, text);
  memcpy(w->reported, v, sizeof(v));
  w->report_ms = now;
}

/* ---- Sockets handed over -------------------------------------------------- */

int c4j__listener_adopt(c4j_engine_t *e, int fd, int sink, const char *bytes,
                        size_t len) {
  struct sockaddr_storage ss;
  socklen_t slen = sizeof(ss);
  const char *why;
  c4j__msg_t *m;
  unsigned i;
  uint32_t key;
  int victim, status;
  if (!c4j__engine_enter(e)) {
    int rc = c4j__engine_refusal(e);
    close(fd);
    if (sink >= 0) close(sink);
    return rc;
  }
  atomic_fetch_add(&e->accepted, 1);
  m = c4j__msg_new(C4J__MSG_FD, NULL, 0, NULL);
  /* buf even when empty: it marks the socket as taken over (conn.h). */
  if (m == NULL || (m->buf = c4j__buf_copy(bytes, len)) == NULL) {
    if (m != NULL) c4j__msg_free(m);
    c4j__engine_leave(e);
    close(fd);
    if (sink >= 0) close(sink);
    return C4J_ENOMEM;
  }
  /* Its peer is the client of the other server (or the proxy in front of
   * it); one that is gone already counts as an address of its own. */
  if (getpeername(fd, (struct sockaddr *)&ss, &slen) != 0) {
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNSPEC;
  }
  status = admit(e, (struct sockaddr *)&ss, &key, &victim, &why);
  if (status != 0) {
    /* Refused, but the dummy is still drained: the other server writes
     * its answer there. */
    refuse(e, fd, status, why, 0);
    fd = -1;
  }
  m->fd = fd;
  m->sink = sink;
  m->seq = key;
  m->code = victim >= 0;
  i = victim >= 0 ? (unsigned)victim : atomic_fetch_add(&e->next_adopt, 1);
  c4j__worker_push(e->workers[i % (unsigned)e->nworkers], &m->node);
  c4j__engine_leave(e);
  return 0;
}

/* The dummy's other end: what the other server writes (its answer to the
 * request, nothing after an upgrade) is read and dropped. */
static void sink_closed(uv_handle_t *h) { c4j__free(h); }

static void sink_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  static _Thread_local char scratch[4096];
  *buf = uv_buf_init(scratch, sizeof(scratch));
}

static void sink_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  if (nread < 0 && !uv_is_closing((uv_handle_t *)s))
    uv_close((uv_handle_t *)s, sink_closed);
}

void c4j__listener_sink(c4j__worker_t *w, int sink) {
  uv_pipe_t *p = c4j__malloc(sizeof(*p));
  /* The other server shut the dummy's write side down or will close it:
   * this end is only ever read. */
  if (p == NULL || uv_pipe_init(&w->loop, p, 0) != 0) {
    c4j__free(p);
    close(sink);
    return;
  }
  if (uv_pipe_open(p, sink) != 0) {
    uv_close((uv_handle_t *)p, sink_closed);
    close(sink);
  } else if (uv_read_start((uv_stream_t *)p, sink_alloc, sink_read) != 0) {
    uv_close((uv_handle_t *)p, sink_closed); /* closes sink */
  }
}

void c4j__listener_sink_close(uv_handle_t *h) { uv_close(h, sink_closed); }
