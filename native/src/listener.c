/* listener.c - how sockets reach the workers: the native port's
 * listening socket (bind and listen ourselves for clear errors at start,
 * accept4 on worker 0's loop through uv_poll), and sockets adopted from
 * another server of the process (c4j_adopt, with the bytes it had read,
 * and the dummy's other end drained); either way 503 over max_conns, then
 * a worker round-robin.  With a TLS context every socket accepted on the
 * port speaks TLS; adopted ones never do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/socket.h>

#include "common.h"
#include "conn.h"
#include "http.h"
#include "listener.h"

#define ACCEPTS_PER_WAKE 128

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

/* Answers 503 on a socket no worker will own, then closes it (a TLS
 * port's client would read a plain answer as garbage: only closed). */
static void refuse_busy(int fd, int tls) {
  char buf[512];
  long n;
  /* Read what the client already sent, so close() does not reset. */
  while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {}
  n = tls ? 0
          : c4j_http_write_error(buf, sizeof(buf), 503, "too many connections",
                                 "");
  if (n > 0) (void)!send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  close(fd);
}

static void hand_off(c4j__worker_t *w0, int fd) {
  c4j_engine_t *e = w0->engine;
  c4j__worker_t *w = e->workers[w0->rr++ % (unsigned)e->nworkers];
  c4j__msg_t *m;
  int tls = e->tls_cert != NULL; /* TLS from c4j_engine_new on */
  if (w == w0) {
    c4j__conn_adopt(w0, fd, NULL, tls);
    return;
  }
  m = c4j__msg_new(C4J__MSG_FD, NULL, 0, NULL);
  if (m != NULL && c4j__engine_enter(e)) {
    m->fd = fd;
    m->tls = (uint8_t)tls;
    c4j__worker_push(w, &m->node);
    c4j__engine_leave(e);
    return;
  }
  c4j__free(m);
  close(fd);
  atomic_fetch_sub(&e->open_socks, 1);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  c4j__worker_t *w = C4J__CONTAINER_OF(h, c4j__worker_t, listen);
  c4j_engine_t *e = w->engine;
  for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
    int fd = accept4(e->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
    if (atomic_fetch_add(&e->open_socks, 1) >= e->cfg.max_conns) {
      atomic_fetch_sub(&e->open_socks, 1);
      refuse_busy(fd, e->tls_cert != NULL);
      continue;
    }
    hand_off(w, fd);
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

/* ---- Sockets handed over -------------------------------------------------- */

int c4j__listener_adopt(c4j_engine_t *e, int fd, int sink, const char *bytes,
                        size_t len) {
  c4j__msg_t *m;
  unsigned i;
  if (!c4j__engine_enter(e)) {
    int rc = c4j__engine_refusal(e);
    close(fd);
    if (sink >= 0) close(sink);
    return rc;
  }
  atomic_fetch_add(&e->accepted, 1);
  m = c4j__msg_new(C4J__MSG_FD, NULL, 0, NULL);
  if (m == NULL || (len > 0 && (m->buf = c4j__buf_copy(bytes, len)) == NULL)) {
    if (m != NULL) c4j__msg_free(m);
    c4j__engine_leave(e);
    close(fd);
    if (sink >= 0) close(sink);
    return C4J_ENOMEM;
  }
  if (atomic_fetch_add(&e->open_socks, 1) >= e->cfg.max_conns) {
    /* Refused, but the dummy is still drained: the other server writes
     * its answer there. */
    atomic_fetch_sub(&e->open_socks, 1);
    refuse_busy(fd, 0);
    fd = -1;
  }
  m->fd = fd;
  m->sink = sink;
  i = atomic_fetch_add(&e->next_adopt, 1);
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
