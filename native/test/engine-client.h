/* engine-client.h - what the tests that drive a real engine share: its
 * configuration, tickets signed by the engine, events read with
 * c4j_engine_poll, and the shared WebSocket client (wsclient.h, linked
 * from libwsclient.a) under the short names the tests use, its failures
 * counted as failed checks; plain HTTP requests, and the attaches and
 * broadcasts several tests make.  Included by test-engine.c, the tests of
 * the connection files (test-conn.c, test-wsconn.c, test-request.c,
 * test-cmd.c, test-poll.c, test-identity.c, test-subscription.c),
 * test-listener.c and test-hub.c: every function is static, so each test
 * uses what it needs; a helper only one file uses stays in that file.
 */
#ifndef C4J_ENGINE_CLIENT_H
#define C4J_ENGINE_CLIENT_H

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "c4j.h"
#include "test.h"
#include "ws.h"
#include "auth.h"
#include "wsclient.h"
#include <uv.h>

#pragma GCC diagnostic ignored "-Wunused-function"

static const char SECRET[] = "0123456789abcdef0123456789abcdef";

/* ---- Engine helpers -------------------------------------------------------- */

static void base_config(c4j_config_t *cfg) {
  c4j_config_init(cfg);
  cfg->host = "127.0.0.1";
  cfg->port = 0;
  cfg->threads = 2;
  cfg->secret = (const uint8_t *)SECRET;
  cfg->secret_len = sizeof(SECRET) - 1;
  /* The plain v1 behaviour; the resume and dying tests turn these on. */
  cfg->conn_expires_ms = 0;
  cfg->history_size = 0;
}

static c4j_engine_t *start(const c4j_config_t *cfg) {
  c4j_engine_t *e = NULL;
  int rc = c4j_engine_new(cfg, &e);
  CHECK_EQ(rc, 0);
  if (rc != 0) return NULL;
  rc = c4j_engine_start(e);
  CHECK_EQ(rc, 0);
  CHECK(c4j_engine_port(e) > 0);
  return e;
}

static c4j_engine_t *start_default(void) {
  c4j_config_t cfg;
  base_config(&cfg);
  return start(&cfg);
}

static void finish(c4j_engine_t *e) {
  CHECK_EQ(c4j_engine_stop(e), 0);
  c4j_engine_free(e);
}

/* A ticket for cid with channels (a JSON array text) expiring in ttl s. */
static void mint(c4j_engine_t *e, const char *cid, const char *user,
                 const char *channels, long ttl, char *out, size_t cap) {
  char claims[1024];
  int n;
  if (user)
    n = snprintf(claims, sizeof(claims),
                 "{\"cid\":\"%s\",\"sub\":\"%s\",\"exp\":%ld,\"ch\":%s}", cid,
                 user, (long)time(NULL) + ttl, channels);
  else
    n = snprintf(claims, sizeof(claims),
                 "{\"cid\":\"%s\",\"exp\":%ld,\"ch\":%s}", cid,
                 (long)time(NULL) + ttl, channels);
  int rc = c4j_ticket_sign(e, claims, (size_t)n, out, cap);
  CHECK(rc > 0);
}

/* ---- Events ---------------------------------------------------------------- */

typedef struct {
  int type;
  char cid[80], user[80], ip[64], transport[16], text[256];
  int code, port;
  uint32_t id;           /* C4J_EV_API: id; method in user, path in cid,
                            query in ip, body in text; C4J_EV_BINARY: the
                            FNV-1a hash of every byte */
  uint32_t len;          /* C4J_EV_BINARY: the bytes' count (the first
                            ones in text, not NUL ended) */
} event_t;

/* FNV-1a over n bytes: what a test compares a big binary message by. */
static uint32_t fnv1a(const void *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ ((const uint8_t *)p)[i]) * 16777619u;
  return h;
}

#define MAX_EVENTS 4096
static event_t events[MAX_EVENTS];
static int nevents;

static size_t get_str(const uint8_t *p, char *out, size_t cap) {
  size_t n = (size_t)p[0] | (size_t)p[1] << 8;
  size_t c = n < cap - 1 ? n : cap - 1;
  memcpy(out, p + 2, c);
  out[c] = '\0';
  return 2 + n;
}

/* Reads whatever events are pending (waiting up to ms) into events[]. */
static int pump(c4j_engine_t *e, int ms) {
  static uint8_t buf[1 << 18]; /* a binary message of 200 KiB fits */
  int n = c4j_engine_poll(e, buf, sizeof(buf), ms);
  if (n <= 0) return n;
  for (int at = 0; at < n;) {
    const uint8_t *r = buf + at;
    uint32_t size = r[0] | r[1] << 8 | r[2] << 16 | (uint32_t)r[3] << 24;
    const uint8_t *p = r + 8;
    event_t *ev = &events[nevents < MAX_EVENTS - 1 ? nevents++ : nevents];
    memset(ev, 0, sizeof(*ev));
    ev->type = r[4];
    CHECK(size >= 8 && at + (int)size <= n);
    if (ev->type == C4J_EV_CONNECT || ev->type == C4J_EV_REVIVAL) {
      p += get_str(p, ev->cid, sizeof(ev->cid));
      p += get_str(p, ev->user, sizeof(ev->user));
      p += get_str(p, ev->ip, sizeof(ev->ip));
      p += get_str(p, ev->transport, sizeof(ev->transport));
      ev->port = p[0] | p[1] << 8;
      p += 2;
    } else if (ev->type == C4J_EV_DROP || ev->type == C4J_EV_DYING) {
      p += get_str(p, ev->cid, sizeof(ev->cid));
      ev->code = p[0] | p[1] << 8;
      p += 2;
      p += get_str(p, ev->text, sizeof(ev->text));
    } else if (ev->type == C4J_EV_MESSAGE) {
      p += get_str(p, ev->cid, sizeof(ev->cid));
      p += get_str(p, ev->text, sizeof(ev->text));
    } else if (ev->type == C4J_EV_BINARY) {
      p += get_str(p, ev->cid, sizeof(ev->cid));
      ev->len = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
      p += 4;
      memcpy(ev->text, p, ev->len < sizeof(ev->text) ? ev->len
                                                      : sizeof(ev->text));
      ev->id = fnv1a(p, ev->len);
      p += ev->len;
    } else if (ev->type == C4J_EV_LOG) {
      p += 1;
      p += get_str(p, ev->text, sizeof(ev->text));
    } else if (ev->type == C4J_EV_ACTION) {
      p += get_str(p, ev->text, sizeof(ev->text));
    } else if (ev->type == C4J_EV_SUB) { /* text: channel, port: on */
      p += get_str(p, ev->cid, sizeof(ev->cid));
      p += get_str(p, ev->text, sizeof(ev->text));
      ev->port = p[0];
      ev->code = p[1] | p[2] << 8;
      p += 3;
    } else if (ev->type == C4J_EV_API) {
      ev->id = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
      p += 4;
      p += get_str(p, ev->user, sizeof(ev->user));
      p += get_str(p, ev->cid, sizeof(ev->cid));
      p += get_str(p, ev->ip, sizeof(ev->ip));
      p += get_str(p, ev->text, sizeof(ev->text));
    }
    CHECK_EQ(p - r, size);
    at += (int)size;
  }
  return n;
}

/* Waits (up to 5 s, however many events come meanwhile) for an event of
 * type about cid; NULL on timeout. */
static event_t *wait_event(c4j_engine_t *e, int type, const char *cid) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (t = t0; (t.tv_sec - t0.tv_sec) * 1000 +
                   (t.tv_nsec - t0.tv_nsec) / 1000000 < 5000;
       clock_gettime(CLOCK_MONOTONIC, &t)) {
    for (int i = 0; i < nevents; i++)
      if (events[i].type == type && strcmp(events[i].cid, cid) == 0) {
        events[i].type = -events[i].type; /* consumed */
        return &events[i];
      }
    pump(e, 50);
  }
  return NULL;
}

static void reset_events(void) { nevents = 0; }

/* ---- The client (wsclient.h), with its failures counted ----------------- */

/* The tests keep their short names; a client error other than an
 * ordinary end (closed, timed out, another frame, not HTTP) is a failed
 * check, and every error is -1 to the test, as before. */
typedef wsc_t client_t;

static int client_rc(int rc, int line) {
  if (rc < 0 && rc != WSC_ECLOSED && rc != WSC_ETIMEDOUT &&
      rc != WSC_EFRAME && rc != WSC_EHEAD) {
    fprintf(stderr, "  %s:%d: client: %s\n", __FILE__, line,
            wsc_strerror(rc));
    test_failed_checks++;
  }
  return rc < 0 ? -1 : rc;
}

static int tcp_connect(int port, int rcvbuf) {
  return wsc_connect(port, rcvbuf);
}

/* Reads more bytes; returns the count, 0 at EOF, -1 on timeout/error. */
static ssize_t fill(client_t *c) { return wsc_fill(c); }

static void consume(client_t *c, size_t n) { wsc_consume(c, n); }

/* Sends the upgrade request for target with extra header lines and reads
 * the answer's head (and, for errors, its body).  Returns the status. */
static int upgrade(client_t *c, int port, const char *target,
                   const char *extra, int rcvbuf) {
  return client_rc(wsc_upgrade(c, port, target, extra, rcvbuf), __LINE__);
}

static void client_close(client_t *c) { wsc_close(c); }

/* Reads one server frame: returns its opcode, payload in out (NUL ended),
 * or -1 on EOF/timeout. */
static int read_frame(client_t *c, char *out, size_t cap, size_t *len) {
  return client_rc(wsc_read_frame(c, out, cap, len), __LINE__);
}

/* Reads frames until a text frame, skipping pings; returns 0 or -1. */
static int read_text(client_t *c, char *out, size_t cap) {
  return client_rc(wsc_read_text(c, out, cap), __LINE__);
}

/* Reads until a close frame; returns its code, or -1. */
static int read_close(client_t *c, char *reason, size_t cap) {
  return client_rc(wsc_read_close(c, reason, cap), __LINE__);
}

/* Whether the server closed the TCP connection (EOF within 5 s). */
static int wait_eof(client_t *c) { return wsc_wait_eof(c); }

static void send_frame(client_t *c, int op, const void *data, size_t len) {
  client_rc(wsc_send_frame(c, op, 1, data, len), __LINE__);
}

static void send_text(client_t *c, const char *text) {
  client_rc(wsc_send_text(c, text), __LINE__);
}

/* Connects and attaches with a fresh ticket; returns the status. */
static int attach(c4j_engine_t *e, client_t *c, const char *cid,
                  const char *channels) {
  char ticket[2048], target[2200];
  mint(e, cid, NULL, channels, 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  return upgrade(c, c4j_engine_port(e), target, NULL, 0);
}

/* ---- Plain HTTP, attaching, broadcasts ----------------------------------- */

/* Whether c->buf holds a whole answer with a Content-Length, or a 204
 * (the server may keep the socket open after it: HTTP keep-alive). */
static int whole_answer(const client_t *c) {
  const char *end = strstr((const char *)c->buf, "\r\n\r\n");
  const char *cl = strcasestr((const char *)c->buf, "\r\nContent-Length:");
  if (end != NULL && strncmp((const char *)c->buf, "HTTP/1.1 204 ", 13) == 0)
    return 1;
  if (end == NULL || cl == NULL || cl > end) return 0;
  return c->len >= (size_t)(end + 4 - (const char *)c->buf) +
                       strtoul(cl + 17, NULL, 10);
}

/* Reads one whole answer with a length (HTTP keep-alive: the socket stays
 * open, and the next answer may follow in the same read), copies it into
 * out (NUL ended) and consumes it.  Returns its status, or -1 at EOF or
 * after the client's timeout. */
static int next_answer(client_t *c, char *out, size_t cap) {
  const char *end;
  size_t n;
  int status;
  for (;;) {
    c->buf[c->len] = '\0';
    if (whole_answer(c)) break;
    if (c->len + 1 >= sizeof(c->buf) || fill(c) <= 0) return -1;
  }
  end = strstr((const char *)c->buf, "\r\n\r\n");
  n = (size_t)(end + 4 - (const char *)c->buf);
  if (strncmp((const char *)c->buf, "HTTP/1.1 204 ", 13) != 0)
    n += strtoul(strcasestr((const char *)c->buf, "\r\nContent-Length:") + 17,
                 NULL, 10);
  snprintf(out, cap, "%.*s", (int)n, (const char *)c->buf);
  if (sscanf((const char *)c->buf, "HTTP/1.1 %d", &status) != 1) status = -1;
  consume(c, n);
  return status;
}

/* Sends a plain HTTP request and reads until `until` appears, a whole
 * answer with a length is in, or EOF. */
static int http(client_t *c, int port, const char *method, const char *target,
                const char *extra, const char *body, const char *until) {
  char req[8192];
  int n;
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, 0);
  n = snprintf(req, sizeof(req),
               "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s",
               method, target, extra ? extra : "", body ? strlen(body) : 0,
               body ? body : "");
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
  for (;;) {
    c->buf[c->len] = '\0';
    if (until ? strstr((char *)c->buf, until) != NULL : whole_answer(c))
      break;
    if (c->len + 1 >= sizeof(c->buf) || fill(c) <= 0) break;
  }
  c->buf[c->len] = '\0';
  if (sscanf((char *)c->buf, "HTTP/1.1 %d", &c->status) != 1) c->status = -1;
  return c->status;
}

static const char *body_of(client_t *c) {
  char *b = strstr((char *)c->buf, "\r\n\r\n");
  return b ? b + 4 : "";
}

static uint64_t ms_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Attaches over WebSocket as user (may be NULL) with channels. */
static int attach_user(c4j_engine_t *e, client_t *c, const char *cid,
                       const char *user, const char *channels) {
  char ticket[2048], target[2200];
  mint(e, cid, user, channels, 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  return upgrade(c, c4j_engine_port(e), target, NULL, 0);
}

/* Reads the epoch and offset out of a msg frame. */
static uint64_t frame_offset(const char *text, char epoch[9]) {
  const char *e = strstr(text, "\"e\":\""), *o = strstr(text, "\"o\":");
  if (e == NULL || o == NULL) return 0;
  memcpy(epoch, e + 5, 8);
  epoch[8] = '\0';
  return strtoull(o + 4, NULL, 10);
}

static void send_k(c4j_engine_t *e, int from, int to) {
  for (int k = from; k < to; k++) {
    char data[32];
    int n = snprintf(data, sizeof(data), "{\"k\":%d}", k);
    CHECK_EQ(c4j_send_all(e, "news", 4, data, (size_t)n, 1), 0);
  }
}

/* Reads the answer (to EOF, or whole when it has a length) and closes;
 * returns its status. */
static int http_answer(client_t *c) {
  c->buf[c->len] = '\0';
  while (!whole_answer(c) && c->len + 1 < sizeof(c->buf) && fill(c) > 0)
    c->buf[c->len] = '\0';
  c->buf[c->len] = '\0';
  if (sscanf((char *)c->buf, "HTTP/1.1 %d", &c->status) != 1) c->status = -1;
  close(c->fd);
  return c->status;
}

/* A socket connected to 127.0.0.1:port from the loopback address from
 * ("127.0.0.2", ...: another client as the engine sees it), with the
 * client's 5 s receive timeout; -1 when the connection fails. */
static int tcp_connect_from(int port, const char *from) {
  struct sockaddr_in a;
  struct timeval tv = { 5, 0 };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  inet_pton(AF_INET, from, &a.sin_addr);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* A client whose socket comes from address from: the WebSocket attach of
 * cid with a fresh ticket; returns the status. */
static int attach_from(c4j_engine_t *e, client_t *c, const char *from,
                       const char *cid) {
  char ticket[2048], target[2200];
  mint(e, cid, NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  memset(c, 0, offsetof(client_t, buf));
  c->len = 0;
  c->fd = tcp_connect_from(c4j_engine_port(e), from);
  CHECK(c->fd >= 0);
  if (c->fd < 0) return -1;
  return client_rc(wsc_handshake(c, target, NULL), __LINE__);
}

/* A client that connects from address from and sends nothing (or the
 * start of a request); the engine counts it as an unfinished request once
 * its stats say so (waits up to 2 s for `pending` to reach want). */
static void connect_quiet(c4j_engine_t *e, client_t *c, const char *from,
                          const char *start, uint64_t want) {
  c4j_stats_t st;
  memset(c, 0, offsetof(client_t, buf));
  c->len = 0;
  c->fd = tcp_connect_from(c4j_engine_port(e), from);
  CHECK(c->fd >= 0);
  if (start != NULL)
    CHECK_EQ(send(c->fd, start, strlen(start), MSG_NOSIGNAL),
             (long long)strlen(start));
  for (uint64_t end = ms_now() + 2000; ms_now() < end; usleep(5000)) {
    c4j_engine_stats(e, &st);
    if (st.pending >= want) break;
  }
}

/* Sends the bytes of req as they are on a new connection and reads the
 * answer to EOF; returns its status. */
static int http_raw(client_t *c, int port, const char *req) {
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, 0);
  CHECK_EQ(send(c->fd, req, strlen(req), MSG_NOSIGNAL),
           (long long)strlen(req));
  return http_answer(c);
}

#endif /* C4J_ENGINE_CLIENT_H */
