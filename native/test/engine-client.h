/* engine-client.h - what the tests that drive a real engine share: its
 * configuration, tickets, events read with c4j_engine_poll, and a
 * hand-written WebSocket client (upgrade request by hand, masked frames
 * from c4j_ws_write_masked).  Included by test-engine.c and test-hub.c:
 * every function is static, so each test uses what it needs.
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
                            query in ip, body in text */
} event_t;

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
  static uint8_t buf[1 << 16];
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

/* Waits (up to 5 s) for an event of type about cid; NULL on timeout. */
static event_t *wait_event(c4j_engine_t *e, int type, const char *cid) {
  for (int tries = 0; tries < 100; tries++) {
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

/* ---- A hand-written client -------------------------------------------------- */

typedef struct {
  int fd;
  uint8_t buf[1 << 17];
  size_t len;
  int status;            /* HTTP status of the upgrade answer */
  char body[256];        /* body of an error answer */
} client_t;

static int tcp_connect(int port, int rcvbuf) {
  struct sockaddr_in a;
  struct timeval tv = { 5, 0 };
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads more bytes; returns the count, 0 at EOF, -1 on timeout/error. */
static ssize_t fill(client_t *c) {
  ssize_t r;
  if (c->len == sizeof(c->buf)) return -1;
  r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
  if (r > 0) c->len += (size_t)r;
  return r;
}

static void consume(client_t *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

/* Sends the upgrade request for target with extra header lines and reads
 * the answer's head (and, for errors, its body).  Returns the status. */
static int upgrade(client_t *c, int port, const char *target,
                   const char *extra, int rcvbuf) {
  char req[32768];
  int n;
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, rcvbuf);
  CHECK(c->fd >= 0);
  if (c->fd < 0) return -1;
  n = snprintf(req, sizeof(req),
               "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n%s\r\n",
               target, extra ? extra : "");
  CHECK(n > 0 && (size_t)n < sizeof(req));
  if (n <= 0 || (size_t)n >= sizeof(req)) return -1;
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
  for (;;) {
    uint8_t *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (end != NULL) {
      size_t head = (size_t)(end - c->buf) + 4;
      c->buf[head - 1] = '\0';
      if (sscanf((char *)c->buf, "HTTP/1.1 %d", &c->status) != 1)
        c->status = -1;
      if (c->status == 101) {
        CHECK(strstr((char *)c->buf,
                     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") !=
              NULL);
        consume(c, head);
      } else {
        /* Error answers close the connection: read the body to EOF. */
        while (fill(c) > 0) {}
        snprintf(c->body, sizeof(c->body), "%.*s", (int)(c->len - head),
                 (char *)c->buf + head);
      }
      return c->status;
    }
    if (fill(c) <= 0) return -1;
  }
}

static void client_close(client_t *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

/* Reads one server frame: returns its opcode, payload in out (NUL ended),
 * or -1 on EOF/timeout. */
static int read_frame(client_t *c, char *out, size_t cap, size_t *len) {
  for (;;) {
    if (c->len >= 2) {
      size_t h = 2, n = c->buf[1] & 0x7f;
      CHECK((c->buf[1] & 0x80) == 0); /* servers do not mask */
      if (n == 126) {
        h = 4;
        if (c->len >= 4) n = (size_t)c->buf[2] << 8 | c->buf[3];
      } else if (n == 127) {
        h = 10;
        if (c->len >= 10) {
          n = 0;
          for (int i = 0; i < 8; i++) n = n << 8 | c->buf[2 + i];
        }
      }
      if (c->len >= h && c->len >= h + n) {
        int op = c->buf[0] & 0x0f;
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(out, c->buf + h, k);
        out[k] = '\0';
        if (len) *len = n;
        consume(c, h + n);
        return op;
      }
    }
    if (fill(c) <= 0) return -1;
  }
}

/* Reads frames until a text frame, skipping pings; returns 0 or -1. */
static int read_text(client_t *c, char *out, size_t cap) {
  for (;;) {
    int op = read_frame(c, out, cap, NULL);
    if (op == C4J_WS_OP_PING) continue;
    return op == C4J_WS_OP_TEXT ? 0 : -1;
  }
}

/* Reads until a close frame; returns its code, or -1. */
static int read_close(client_t *c, char *reason, size_t cap) {
  char p[256];
  size_t n;
  for (;;) {
    int op = read_frame(c, p, sizeof(p), &n);
    if (op < 0) return -1;
    if (op != C4J_WS_OP_CLOSE) continue;
    if (n < 2) return 1005;
    if (reason) snprintf(reason, cap, "%.*s", (int)n - 2, p + 2);
    return (uint8_t)p[0] << 8 | (uint8_t)p[1];
  }
}

/* Whether the server closed the TCP connection (EOF within 5 s). */
static int wait_eof(client_t *c) {
  for (;;) {
    ssize_t r;
    c->len = 0;
    r = fill(c);
    if (r == 0) return 1;
    if (r < 0) return errno == ECONNRESET;
  }
}

static void send_frame(client_t *c, int op, const void *data, size_t len) {
  static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  uint8_t *f = malloc(len + 14);
  size_t n = c4j_ws_write_masked(f, op, 1, mask, data, len);
  CHECK_EQ(send(c->fd, f, n, MSG_NOSIGNAL), (ssize_t)n);
  free(f);
}

static void send_text(client_t *c, const char *text) {
  send_frame(c, C4J_WS_OP_TEXT, text, strlen(text));
}

/* Connects and attaches with a fresh ticket; returns the status. */
static int attach(c4j_engine_t *e, client_t *c, const char *cid,
                  const char *channels) {
  char ticket[2048], target[2200];
  mint(e, cid, NULL, channels, 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  return upgrade(c, c4j_engine_port(e), target, NULL, 0);
}

#endif /* C4J_ENGINE_CLIENT_H */
