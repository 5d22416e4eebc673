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

int harness_connect(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0) die("socket", -errno);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
    die("connect", -errno);
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
    if (poll(&p, 1, (int)(end - t)) <= 0) continue;
    k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) return 1;
    if (k > 0 && enough && (got += (size_t)k) >= enough) return 0;
  }
}

/* ---- The kept client ------------------------------------------------------ */

void keeper_attach(keeper_t *k) {
  char ticket[2048], target[2200];
  int rc;
  harness_ticket(k->e, k->cid, k->user, k->channels,
                 (int64_t)time(NULL) + 86400 * 365, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  rc = wsc_upgrade(&k->c, c4j_engine_port(k->e), target, NULL, 0);
  if (rc != 101) {
    fprintf(stderr, "harness: keeper %s: upgrade answered %d %s\n", k->cid,
            rc, rc < 0 ? wsc_strerror(rc) : k->c.body);
    abort();
  }
  k->last_sent = now_ms();
  k->reattached++;
}

void keeper_drain(keeper_t *k) {
  int closed = k->c.fd < 0;
  while (!closed) {
    ssize_t n = recv(k->c.fd, k->c.buf, sizeof(k->c.buf), MSG_DONTWAIT);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    closed = 1;
  }
  if (!closed && now_ms() - k->last_sent > 2000) {
    k->c.len = 0;
    if (wsc_send_text(&k->c, "{\"t\":\"ping\"}") != 0) closed = 1;
    k->last_sent = now_ms();
  }
  if (closed) {
    keeper_close(k);
    keeper_attach(k);
  }
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
    if (poll(&p, 1, PROBE_MS) != 1 || recv(fd, head, 12, 0) < 12 ||
        memcmp(head, "HTTP/1.1 404", 12) != 0) {
      fprintf(stderr, "harness: a worker did not answer within %d ms\n",
              PROBE_MS);
      abort();
    }
    harness_close(fd);
  }
}
