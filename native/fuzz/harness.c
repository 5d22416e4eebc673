/* harness.c - an engine on loopback and its clients, for the fuzz
 * targets (see harness.h). */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void die(const char *what, int rc) {
  fprintf(stderr, "harness: %s: %d (%s) %s\n", what, rc,
          rc < 0 ? c4j_strerror(rc) : "", c4j_config_error());
  abort();
}

void harness_flags(int *argc, char ***argv) {
  static char *args[256], flag[] = "-detect_leaks=0";
  int n = *argc;
  for (int i = 1; i < n; i++)
    if (strncmp((*argv)[i], "-detect_leaks=", 14) == 0) return;
  if (n + 2 > (int)(sizeof(args) / sizeof(args[0]))) return;
  /* Before the corpus directories: libFuzzer reads flags anywhere, but
   * keep argv[0] first. */
  args[0] = (*argv)[0];
  args[1] = flag;
  for (int i = 1; i < n; i++) args[i + 1] = (*argv)[i];
  args[n + 1] = NULL;
  *argc = n + 1;
  *argv = args;
}

void harness_config(c4j_config_t *cfg) {
  c4j_config_init(cfg);
  cfg->host = "127.0.0.1";
  cfg->port = 0;
  cfg->threads = 2;
  cfg->secret = (const uint8_t *)HARNESS_SECRET;
  cfg->secret_len = sizeof(HARNESS_SECRET) - 1;
  /* Small enough that an input reaches them. */
  cfg->max_header = 4096;
  cfg->max_frame = 4096;
  cfg->max_message = 8192;
  cfg->max_queue = 64 << 10;
  /* The kept clients ping well within this. */
  cfg->heartbeat_ms = 1000;
  cfg->idle_timeout_ms = 30000;
  cfg->handshake_timeout_ms = 2000;
  cfg->api_timeout_ms = 2000;
}

c4j_engine_t *harness_start(c4j_config_t *cfg) {
  c4j_engine_t *e = NULL;
  int rc = c4j_engine_new(cfg, &e);
  if (rc != 0) die("c4j_engine_new", rc);
  rc = c4j_engine_start(e);
  if (rc != 0) die("c4j_engine_start", rc);
  return e;
}

void harness_ticket(c4j_engine_t *e, const char *cid, const char *user,
                    const char *channels, int64_t exp, char *out,
                    size_t cap) {
  char claims[1024];
  int n;
  if (user)
    n = snprintf(claims, sizeof(claims),
                 "{\"cid\":\"%s\",\"sub\":\"%s\",\"exp\":%lld,\"ch\":%s}",
                 cid, user, (long long)exp, channels);
  else
    n = snprintf(claims, sizeof(claims),
                 "{\"cid\":\"%s\",\"exp\":%lld,\"ch\":%s}", cid,
                 (long long)exp, channels);
  n = c4j_ticket_sign(e, claims, (size_t)n, out, cap);
  if (n <= 0) die("c4j_ticket_sign", n);
}

/* ---- Sockets ------------------------------------------------------------- */

int harness_wait(struct pollfd *p, int ms) {
  uint64_t end = wsc_now_ms() + (uint64_t)(ms > 0 ? ms : 0);
  for (;;) {
    uint64_t t = wsc_now_ms();
    int r = poll(p, 1, t >= end ? 0 : (int)(end - t));
    if (r >= 0 || errno != EINTR) return r;
  }
}

int harness_connect(int port) { return harness_connect_from(port, 0); }

int harness_connect_from(int port, uint32_t from) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0) die("socket", -errno);
  memset(&a, 0, sizeof(a));
  if (from != 0) {
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(from);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) die("bind", -errno);
  }
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    /* Interrupted (libFuzzer's SIGALRM): the connect goes on; wait for
     * it. */
    struct pollfd p = { fd, POLLOUT, 0 };
    int err = errno;
    socklen_t len = sizeof(err);
    if (err != EINTR || harness_wait(&p, PROBE_MS) <= 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
      die("connect", -err);
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void harness_close(int fd) {
  struct linger l = { 1, 0 };
  if (fd < 0) return;
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

void harness_send(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return; /* closed by the server: what it does is its own */
    b += k;
    n -= (size_t)k;
  }
}

static uint64_t now_ms(void) { return wsc_now_ms(); }

int harness_drain(int fd, int ms, size_t enough) {
  static uint8_t buf[1 << 16];
  uint64_t end = now_ms() + (uint64_t)ms;
  size_t got = 0;
  for (;;) {
    struct pollfd p = { fd, POLLIN, 0 };
    uint64_t t = now_ms();
    ssize_t k;
    if (t >= end) return 0;
    if (harness_wait(&p, (int)(end - t)) <= 0) continue;
    k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) return 1;
    if (k > 0 && enough && (got += (size_t)k) >= enough) return 0;
  }
}

/* ---- What a server sends on a WebSocket ----------------------------------- */

static void breach(const frames_check_t *f, const char *who,
                   const char *what) {
  fprintf(stderr, "harness: %s: the server sent %s (frame header", who, what);
  for (size_t i = 0; i < f->hlen; i++) fprintf(stderr, " %02x", f->hdr[i]);
  fprintf(stderr, ")\n");
  abort();
}

static int close_code_ok(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/* The header in f->hdr is complete: judge it and start its payload. */
static void header(frames_check_t *f, const char *who) {
  int fin = f->hdr[0] & 0x80, op = f->hdr[0] & 0x0f, len7 = f->hdr[1] & 0x7f;
  uint64_t len = (uint64_t)len7;
  if (f->closed) breach(f, who, "a frame after its close frame");
  if (f->hdr[0] & 0x70) breach(f, who, "RSV bits");
  if (f->hdr[1] & 0x80) breach(f, who, "a masked frame");
  if (len7 == 126) {
    len = (uint64_t)f->hdr[2] << 8 | f->hdr[3];
    if (len < 126) breach(f, who, "a 16-bit length under 126");
  } else if (len7 == 127) {
    len = 0;
    for (int i = 2; i < 10; i++) len = len << 8 | f->hdr[i];
    if (len < 65536 || len >> 63) breach(f, who, "a bad 64-bit length");
  }
  if (op >= 8) {
    if (op > 10) breach(f, who, "an undefined control opcode");
    if (!fin || len > 125) breach(f, who, "a fragmented or long control");
    if (op == 8) {
      f->closed = 1;
      f->code_len = 0;
      f->close_len = len;
      if (len == 1) breach(f, who, "a close frame of one byte");
    }
  } else if (op > 2) {
    breach(f, who, "an undefined data opcode");
  } else if ((op == 0) != f->in_msg) {
    breach(f, who, op == 0 ? "a continuation outside a message"
                           : "a new message inside a fragmented one");
  } else if (op != 0 || fin) {
    f->in_msg = !fin;
  }
  f->op = op;
  f->left = len;
}

void frames_check(frames_check_t *f, const uint8_t *p, size_t n,
                  const char *who) {
  while (n > 0) {
    if (f->left > 0) {
      size_t k = f->left < n ? (size_t)f->left : n;
      for (size_t i = 0; f->op == 8 && i < k && f->code_len < 2; i++)
        f->code[f->code_len++] = p[i];
      if (f->op == 8 && f->code_len == 2 && f->close_len >= 2 &&
          !close_code_ok(f->code[0] << 8 | f->code[1])) {
        char what[64];
        snprintf(what, sizeof(what), "close code %d",
                 f->code[0] << 8 | f->code[1]);
        breach(f, who, what);
      }
      f->left -= k;
      p += k;
      n -= k;
      if (f->left == 0) f->hlen = 0;
      continue;
    }
    /* Reading a header: 2 bytes, then the extended length, no mask. */
    f->hdr[f->hlen++] = *p++;
    n--;
    if (f->hlen >= 2) {
      int len7 = f->hdr[1] & 0x7f;
      size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
      if (f->hlen == need) {
        header(f, who);
        if (f->left == 0) f->hlen = 0;
      }
    }
  }
}

/* ---- The kept client ------------------------------------------------------ */

void keeper_init(keeper_t *k, c4j_engine_t *e, const char *cid,
                 const char *user, const char *channels) {
  memset(k, 0, sizeof(*k));
  k->e = e;
  snprintf(k->cid, sizeof(k->cid), "%s", cid);
  k->user = user;
  k->channels = channels;
  k->c.fd = -1;
}

void keeper_close(keeper_t *k);

void keeper_attach(keeper_t *k) {
  char ticket[2048], target[2200];
  int rc;
  harness_ticket(k->e, k->cid, k->user, k->channels,
                 (int64_t)time(NULL) + 86400 * 365, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  /* The test client's blocking reads end on EINTR (libFuzzer's SIGALRM,
   * every -timeout/2 s): try again then. */
  for (int tries = 0; tries < 5; tries++) {
    errno = 0;
    rc = wsc_upgrade(&k->c, c4j_engine_port(k->e), target, NULL, 0);
    if (rc == 101 || errno != EINTR) break;
    keeper_close(k);
  }
  if (rc != 101) {
    c4j_stats_t st;
    int e = errno;
    c4j_engine_stats(k->e, &st);
    fprintf(stderr, "harness: keeper %s: upgrade answered %d %s (errno %s,"
            " %zu bytes read; engine: %llu conns, %llu accepted)\n", k->cid,
            rc, rc < 0 ? wsc_strerror(rc) : k->c.body, strerror(e), k->c.len,
            (unsigned long long)st.conns, (unsigned long long)st.accepted);
    abort();
  }
  k->last_sent = now_ms();
  k->reattached++;
  memset(&k->check, 0, sizeof(k->check));
  k->tail[0] = '\0';
  /* What came after the 101 with it. */
  frames_check(&k->check, k->c.buf, k->c.len, k->cid);
}

/* Whether mark is in p[0..n): a plain loop, not memmem, which libFuzzer
 * intercepts and would learn the harness's own marks from. */
static int find(const char *p, size_t n, const char *mark) {
  size_t m = strlen(mark);
  for (size_t i = 0; i + m <= n; i++) {
    size_t k = 0;
    while (k < m && p[i + k] == mark[k]) k++;
    if (k == m) return 1;
  }
  return 0;
}

/* Reads what k has (waiting up to ms for the first bytes): 0 when the
 * server closed it, 3 when nothing came, 2 when mark (unless NULL) was
 * among what came, else 1. */
static int keeper_read(keeper_t *k, int ms, const char *mark) {
  static char scan[sizeof(((keeper_t *)0)->tail) + sizeof(k->c.buf)];
  struct pollfd p = { k->c.fd, POLLIN, 0 };
  size_t t = strlen(k->tail);
  ssize_t n;
  if (ms > 0 && harness_wait(&p, ms) <= 0) return 3;
  n = recv(k->c.fd, k->c.buf, sizeof(k->c.buf), MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return 0;
  if (n < 0) return 3;
  frames_check(&k->check, k->c.buf, (size_t)n, k->cid);
  if (mark == NULL) return 1;
  /* The mark may straddle two reads: look in the tail and the new bytes
   * (a frame's payload holds no NUL the core wrote itself). */
  memcpy(scan, k->tail, t);
  memcpy(scan + t, k->c.buf, (size_t)n);
  if (find(scan, t + (size_t)n, mark)) return 2;
  t += (size_t)n;
  n = t < sizeof(k->tail) - 1 ? (ssize_t)t : (ssize_t)sizeof(k->tail) - 1;
  memcpy(k->tail, scan + t - (size_t)n, (size_t)n);
  k->tail[n] = '\0';
  for (ssize_t i = 0; i < n; i++)
    if (k->tail[i] == '\0') k->tail[i] = ' ';
  return 1;
}

void keeper_drain(keeper_t *k) {
  int r = k->c.fd < 0 ? 0 : 1;
  while (r == 1) r = keeper_read(k, 0, NULL);
  if (r == 3 && now_ms() - k->last_sent > 2000) {
    k->c.len = 0;
    if (wsc_send_text(&k->c, "{\"t\":\"ping\"}") != 0) r = 0;
    k->last_sent = now_ms();
  }
  if (r == 0) {
    keeper_close(k);
    keeper_attach(k);
  }
  k->c.len = 0;
}

void keeper_barrier(keeper_t *k) {
  char frame[64], mark[32];
  uint64_t end;
  int n, r = 1;
  if (k->c.fd < 0) keeper_attach(k);
  n = snprintf(mark, sizeof(mark), "\"barrier\":%u}", ++k->barriers);
  n = snprintf(frame, sizeof(frame), "{\"t\":\"x\",%s", mark);
  if (c4j_send_frame(k->e, k->cid, strlen(k->cid), frame, (size_t)n) != 0)
    abort();
  for (end = now_ms() + PROBE_MS; (r == 1 || r == 3) && now_ms() < end;)
    r = keeper_read(k, 5, mark);
  if (r == 1 || r == 3) {
    fprintf(stderr, "harness: keeper %s: no barrier frame within %d ms\n",
            k->cid, PROBE_MS);
    abort();
  }
  if (r == 0) {
    keeper_close(k);
    keeper_attach(k);
  }
  k->c.len = 0;
}

void keeper_sync(keeper_t *k) {
  memset(&k->check, 0, sizeof(k->check));
  frames_check(&k->check, k->c.buf, k->c.len, k->cid);
  k->c.len = 0;
}

void keeper_close(keeper_t *k) {
  if (k->c.fd >= 0) harness_close(k->c.fd);
  k->c.fd = -1;
  k->c.len = 0;
}

/* ---- Events and liveness -------------------------------------------------- */

int harness_events(c4j_engine_t *e, harness_event_cb fn, void *arg) {
  static uint8_t buf[1 << 16];
  int records = 0, n;
  while ((n = c4j_engine_poll(e, buf, sizeof(buf), 0)) > 0) {
    for (int at = 0; at + 8 <= n;) {
      const uint8_t *r = buf + at;
      uint32_t size = r[0] | r[1] << 8 | r[2] << 16 | (uint32_t)r[3] << 24;
      if (size < 8 || at + (int)size > n) die("event record size", (int)size);
      if (fn) fn(arg, r[4], r + 8, size - 8);
      records++;
      at += (int)size;
    }
  }
  if (n < 0) die("c4j_engine_poll", n);
  return records;
}

void harness_probe(c4j_engine_t *e, int nworkers) {
  static const char req[] = "GET /probe HTTP/1.1\r\nHost: x\r\n\r\n";
  /* The listener hands sockets round-robin: one each. */
  for (int i = 0; i < nworkers; i++) {
    int fd = harness_connect(c4j_engine_port(e));
    char head[16] = "";
    struct pollfd p = { fd, POLLIN, 0 };
    harness_send(fd, req, sizeof(req) - 1);
    ssize_t got = 0, k;
    uint64_t end = wsc_now_ms() + PROBE_MS;
    while (got < 12 && wsc_now_ms() < end && harness_wait(&p, PROBE_MS) == 1) {
      k = recv(fd, head + got, (size_t)(12 - got), MSG_DONTWAIT);
      if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) break;
      if (k > 0) got += k;
    }
    if (got < 12 || memcmp(head, "HTTP/1.1 404", 12) != 0) {
      fprintf(stderr, "harness: a worker did not answer within %d ms\n",
              PROBE_MS);
      abort();
    }
    harness_close(fd);
  }
}
