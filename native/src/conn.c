/* conn.c - one client connection: reads the HTTP upgrade request, checks it
 * and its ticket, answers 101 (or an HTTP error), then reads WebSocket
 * frames and writes the frames queued to it, and runs the close handshake.
 *
 * Memory while idle: the uv_tcp_t and this struct, the cid entry, one node
 * per subscribed channel and, until the next tick, the output ring.  Reads
 * land in the worker's 64 KiB buffer; the WebSocket parser lives on the heap
 * only while a frame is half read (otherwise the worker's scratch parser
 * reads for the connection).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "common.h"
#include "conn.h"
#include "engine.h"
#include "worker.h"

#define F_IN_FLUSH 0x01    /* on the worker's flush list */
#define F_PEER_CLOSED 0x02 /* the client's close frame arrived */
#define F_SHUTDOWN 0x04    /* uv_shutdown started */
#define F_NO_INPUT 0x08    /* the parser failed: ignore further bytes */
#define F_HTTP 0x10        /* u.http is the live member */

#define CLOSE_WAIT_MS 2000 /* how long a closing connection may linger */
#define MAX_IOV 64
#define MAX_OUT 32768      /* entries in one output ring */

struct c4j__wreq_s {
  uv_write_t req;
  c4j__conn_t *c;
  uint32_t bytes;          /* counted in c->queued until the callback */
  uint32_t n;
  c4j__buf_t *bufs[];
};

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len);
static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len);
static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *reason,
                    size_t len);
static const c4j_ws_callbacks_t ws_callbacks = { on_message, on_control,
                                                 on_close };

static c4j__worker_t *worker(c4j__conn_t *c) {
  return c4j__worker_of(c->tcp.loop);
}

static c4j_engine_t *engine(c4j__conn_t *c) { return worker(c)->engine; }

/* ---- Output queue -------------------------------------------------------- */

static c4j__buf_t **slot(c4j__conn_t *c, unsigned i) {
  return &c->outq[(c->out_head + i) % c->out_cap];
}

/* Appends b, taking over the caller's reference.  Returns 0, or -1 when out
 * of memory (b untouched). */
static int push_out(c4j__conn_t *c, c4j__buf_t *b) {
  if (c->out_len == c->out_cap) {
    unsigned cap = c->out_cap ? c->out_cap * 2u : 4u;
    c4j__buf_t **q;
    if (cap > MAX_OUT) return -1;
    q = c4j__malloc(cap * sizeof(*q));
    if (q == NULL) return -1;
    for (unsigned i = 0; i < c->out_len; i++) q[i] = *slot(c, i);
    c4j__free(c->outq);
    c->outq = q;
    c->out_cap = (uint16_t)cap;
    c->out_head = 0;
  }
  *slot(c, c->out_len) = b;
  c->out_len++;
  c->queued += b->len;
  c4j__worker_want_flush(worker(c), c);
  return 0;
}

static c4j__buf_t *pop_out(c4j__conn_t *c) {
  c4j__buf_t *b = c->outq[c->out_head];
  c->out_head = (uint16_t)((c->out_head + 1u) % c->out_cap);
  c->out_len--;
  return b;
}

/* Drops everything not yet handed to a write. */
static void drop_out(c4j__conn_t *c) {
  while (c->out_len > 0) {
    c4j__buf_t *b = pop_out(c);
    c->queued -= b->len;
    c4j__buf_unref(b);
  }
}

/* Queues bytes the connection itself produced (responses, control frames),
 * outside the max_queue check. */
static int queue_bytes(c4j__conn_t *c, const void *p, size_t n) {
  c4j__buf_t *b = c4j__buf_copy(p, n);
  if (b == NULL) return -1;
  if (push_out(c, b) < 0) {
    c4j__buf_unref(b);
    return -1;
  }
  return 0;
}

/* ---- Closing -------------------------------------------------------------- */

static void close_cb(uv_handle_t *h) {
  c4j__conn_t *c = (c4j__conn_t *)h;
  c4j_engine_t *e = c4j__worker_of(h->loop)->engine;
  if (c->flags & F_HTTP) {
    c4j__free(c->u.http);
  } else if (c->u.ws != NULL) {
    c4j_ws_parser_free(c->u.ws);
    c4j__free(c->u.ws);
  }
  drop_out(c);
  c4j__free(c->outq);
  atomic_fetch_sub(&e->open_socks, 1);
  c4j__free(c);
}

/* Takes an open connection out of the indexes and reports its end. */
static void detach(c4j__conn_t *c, int code, const char *reason) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j__chan_unsubscribe_all(&w->chans, &c->subs);
  c4j__events_drop(&e->events, c->cid->id, code, reason);
  c4j__cid_map_remove(&w->cids, c->cid);
  c->cid = NULL;
  atomic_fetch_sub(&e->conns, 1);
}

void c4j__conn_abort(c4j__conn_t *c) {
  if (c->state == C4J__CONN_CLOSED) return;
  if (c->state == C4J__CONN_OPEN) detach(c, 1006, "connection lost");
  c->state = C4J__CONN_CLOSED;
  uv_close((uv_handle_t *)&c->tcp, close_cb);
}

void c4j__conn_close(c4j__conn_t *c, int code, const char *reason,
                     int discard) {
  uint8_t frame[127];
  size_t n;
  if (c->state != C4J__CONN_OPEN) {
    if (c->state == C4J__CONN_HANDSHAKE || c->state == C4J__CONN_REFUSING)
      c4j__conn_abort(c);
    return;
  }
  detach(c, code, reason);
  if (discard) drop_out(c);
  c->state = C4J__CONN_CLOSING;
  c->stamp = c4j__worker_now(worker(c));
  n = c4j_ws_write_close(frame, code, reason);
  if (queue_bytes(c, frame, n) < 0) c4j__conn_abort(c);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  c4j__conn_t *c = (c4j__conn_t *)req->handle;
  c4j__free(req);
  if (status < 0) c4j__conn_abort(c);
}

/* All output is written: finish what the state asks for. */
static void drained(c4j__conn_t *c) {
  if (c->state == C4J__CONN_REFUSING) {
    c4j__conn_abort(c);
  } else if (c->state == C4J__CONN_CLOSING) {
    uv_shutdown_t *req;
    if (c->flags & F_PEER_CLOSED) {
      c4j__conn_abort(c);
      return;
    }
    if (c->flags & F_SHUTDOWN) return;
    /* Send FIN after the close frame and wait for the client's close frame
     * or EOF (or CLOSE_WAIT_MS), so that unread input cannot turn into a
     * reset that destroys the close frame in flight. */
    c->flags |= F_SHUTDOWN;
    req = c4j__malloc(sizeof(*req));
    if (req == NULL ||
        uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_cb) != 0) {
      c4j__free(req);
      c4j__conn_abort(c);
    }
  }
}

/* ---- Writing -------------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status) {
  c4j__wreq_t *wr = (c4j__wreq_t *)req;
  c4j__conn_t *c = wr->c;
  c->queued -= wr->bytes;
  for (uint32_t i = 0; i < wr->n; i++) c4j__buf_unref(wr->bufs[i]);
  c4j__free(wr);
  c->wreq = NULL;
  if (status < 0) {
    c4j__conn_abort(c);
    return;
  }
  c4j__conn_flush(c);
}

void c4j__conn_flush(c4j__conn_t *c) {
  uv_buf_t iov[MAX_IOV];
  unsigned n, i;
  size_t done, off = 0;
  int r;
  c4j__wreq_t *wr;

  if (c->state == C4J__CONN_CLOSED || c->wreq != NULL) return;
  if (c->out_len == 0) {
    drained(c);
    return;
  }
  /* First try to write at once, with one writev for up to MAX_IOV frames. */
  n = c->out_len < MAX_IOV ? c->out_len : MAX_IOV;
  for (i = 0; i < n; i++) {
    c4j__buf_t *b = *slot(c, i);
    iov[i] = uv_buf_init((char *)b->data, b->len);
  }
  r = uv_try_write((uv_stream_t *)&c->tcp, iov, n);
  if (r == UV_EAGAIN || r == UV_ENOSYS) {
    r = 0;
  } else if (r < 0) {
    c4j__conn_abort(c);
    return;
  }
  done = (size_t)r;
  while (done > 0) {
    c4j__buf_t *b = *slot(c, 0);
    if (done < b->len) {
      off = done;
      break;
    }
    done -= b->len;
    c->queued -= b->len;
    c4j__buf_unref(pop_out(c));
  }
  if (c->out_len == 0) {
    drained(c);
    return;
  }
  /* The kernel is full: hand the rest (up to MAX_IOV frames) to uv_write,
   * which owns those references until write_cb. */
  n = c->out_len < MAX_IOV ? c->out_len : MAX_IOV;
  wr = c4j__malloc(sizeof(*wr) + n * sizeof(c4j__buf_t *));
  if (wr == NULL) {
    c4j__conn_abort(c);
    return;
  }
  wr->c = c;
  wr->n = n;
  wr->bytes = 0;
  for (i = 0; i < n; i++) {
    c4j__buf_t *b = pop_out(c);
    size_t skip = i == 0 ? off : 0;
    wr->bufs[i] = b;
    iov[i] = uv_buf_init((char *)b->data + skip, (unsigned)(b->len - skip));
    wr->bytes += b->len - (uint32_t)skip;
  }
  c->queued -= (uint32_t)off;
  c->wreq = wr;
  r = uv_write(&wr->req, (uv_stream_t *)&c->tcp, iov, n, write_cb);
  if (r < 0) {
    c->wreq = NULL;
    c->queued -= wr->bytes;
    for (i = 0; i < n; i++) c4j__buf_unref(wr->bufs[i]);
    c4j__free(wr);
    c4j__conn_abort(c);
  }
}

void c4j__conn_send(c4j__conn_t *c, c4j__buf_t *b) {
  c4j__worker_t *w;
  if (c->state != C4J__CONN_OPEN) return;
  w = worker(c);
  if ((size_t)c->queued + b->len > w->engine->cfg.max_queue ||
      c->out_len >= MAX_OUT) {
    atomic_fetch_add(&w->engine->slow_consumers, 1);
    c4j__conn_close(c, C4J_CLOSE_SLOW_CONSUMER, "slow consumer", 1);
    return;
  }
  if (push_out(c, c4j__buf_ref(b, 1)) < 0) {
    c4j__buf_unref(b);
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  w->messages_out++;
  w->bytes_out += b->len;
}

/* ---- The handshake -------------------------------------------------------- */

/* Answers an HTTP error and closes once it is written. */
static void refuse(c4j__conn_t *c, int status, const char *reason) {
  char out[512];
  long n = c4j_http_write_error(out, sizeof(out), status, reason, "");
  if (c->flags & F_HTTP) {
    c4j__free(c->u.http);
    c->u.http = NULL;
    c->flags &= (uint8_t)~F_HTTP;
  }
  c->state = C4J__CONN_REFUSING;
  if (n < 0 || queue_bytes(c, out, (size_t)n) < 0) c4j__conn_abort(c);
}

static void peer_name(c4j__conn_t *c, const char *forwarded, char *ip,
                      size_t cap, int *port) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int loopback = 0;
  ip[0] = '\0';
  *port = 0;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      uv_ip4_name(a, ip, cap);
      *port = ntohs(a->sin_port);
      loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      uv_ip6_name(a, ip, cap);
      *port = ntohs(a->sin6_port);
      loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
  }
  /* Trust X-Forwarded-For only from a proxy on this machine. */
  if (loopback && forwarded[0] != '\0') snprintf(ip, cap, "%s", forwarded);
}

/* Builds {"t":"open","cId":"...","channels":[...]} as a text frame.  Names
 * were checked by c4j_auth_verify: nothing in them needs escaping. */
static c4j__buf_t *open_frame(const c4j_ticket_t *t) {
  size_t len = strlen("{\"t\":\"open\",\"cId\":\"\",\"channels\":[]}") +
               strlen(t->cid);
  size_t h, at;
  c4j__buf_t *b;
  for (int i = 0; i < t->nchannels; i++)
    len += strlen(t->channels[i]) + 2 + (i > 0);
  h = c4j_ws_header_len(len);
  b = c4j__buf_new(h + len);
  if (b == NULL) return NULL;
  at = c4j_ws_write_header(b->data, C4J_WS_OP_TEXT, len);
#define PUT(s, n) (memcpy(b->data + at, (s), (n)), at += (n))
#define PUTS(s) PUT(s, strlen(s))
  PUTS("{\"t\":\"open\",\"cId\":\"");
  PUTS(t->cid);
  PUTS("\",\"channels\":[");
  for (int i = 0; i < t->nchannels; i++) {
    if (i > 0) PUTS(",");
    PUTS("\"");
    PUTS(t->channels[i]);
    PUTS("\"");
  }
  PUTS("]}");
#undef PUTS
#undef PUT
  return b;
}

/* Tells the other workers that connection id cid attached with seq, so
 * that an older connection with that id there is closed (4004). */
static void announce(c4j__worker_t *w, const char *cid, uint32_t seq) {
  c4j_engine_t *e = w->engine;
  if (e->nworkers < 2 || !c4j__engine_enter(e)) return;
  for (int i = 0; i < e->nworkers; i++) {
    c4j__msg_t *m;
    if (i == w->index) continue;
    m = c4j__msg_new(C4J__MSG_REPLACE, cid, strlen(cid), NULL);
    if (m == NULL) continue;
    m->seq = seq;
    c4j__worker_push(e->workers[i], &m->node);
  }
  c4j__engine_leave(e);
}

static void attach(c4j__conn_t *c, const char *accept) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j_ticket_t *t = &w->ticket;
  c4j__cid_t *old;
  c4j__buf_t *open;
  char resp[192], ip[64];
  int n, port;

  peer_name(c, c->u.http->forwarded_for, ip, sizeof(ip), &port);
  old = c4j__cid_map_find(&w->cids, t->cid, strlen(t->cid));
  if (old != NULL)
    c4j__conn_close(old->conn, C4J_CLOSE_REPLACED, "replaced", 0);
  c->cid = c4j__cid_map_add(&w->cids, t->cid, strlen(t->cid), c);
  if (c->cid == NULL) goto nomem;
  for (int i = 0; i < t->nchannels; i++) {
    if (c4j__chan_subscribe(&w->chans, t->channels[i],
                            strlen(t->channels[i]), c, &c->subs) != 0)
      goto nomem;
  }
  open = open_frame(t);
  if (open == NULL) goto nomem;
  n = snprintf(resp, sizeof(resp),
               "HTTP/1.1 101 Switching Protocols\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
  if (queue_bytes(c, resp, (size_t)n) < 0 || push_out(c, open) < 0) {
    c4j__buf_unref(open);
    goto nomem;
  }
  c4j__free(c->u.http);
  c->u.http = NULL;
  c->flags &= (uint8_t)~F_HTTP;
  c->state = C4J__CONN_OPEN;
  c->stamp = c4j__worker_now(w);
  c->seq = atomic_fetch_add(&e->next_seq, 1) + 1;
  atomic_fetch_add(&e->conns, 1);
  c4j__events_connect(&e->events, t->cid, t->user, ip, "websocket", port);
  announce(w, t->cid, c->seq);
  return;

nomem:
  c4j__chan_unsubscribe_all(&w->chans, &c->subs);
  if (c->cid != NULL) c4j__cid_map_remove(&w->cids, c->cid);
  c->cid = NULL;
  drop_out(c);
  refuse(c, 503, "out of memory");
}

/* Checks a complete request.  Returns 0 when it may attach (accept set),
 * else the HTTP status to refuse with and *why. */
static int check_request(c4j__conn_t *c, char accept[29], const char **why) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j_http_req_t *r = c->u.http;
  char path[64], token[C4J_HTTP_MAX_TARGET];
  long tlen;
  int rc;

  c4j_http_path(r, path, sizeof(path));
  if (strcmp(path, "/ws") != 0) return *why = "not found", 404;
  if (r->method != HTTP_GET) return *why = "method must be GET", 400;
  if (!r->upgrade_websocket) return *why = "upgrade required", 426;
  if (!r->connection_upgrade)
    return *why = "Connection: Upgrade missing", 400;
  if (strcmp(r->ws_version, "13") != 0)
    return *why = "unsupported WebSocket version", 400;
  if (c4j_ws_accept_key(r->ws_key, strlen(r->ws_key), accept) != 0)
    return *why = "bad Sec-WebSocket-Key", 400;
  if (!c4j__engine_origin_ok(e, r->origin))
    return *why = "origin not allowed", 403;
  tlen = c4j_http_query(r, "ticket", token, sizeof(token));
  if (tlen == -1 || tlen == 0) return *why = "ticket missing", 401;
  if (tlen < 0) return *why = "invalid ticket", 401;
  rc = c4j_auth_verify(e->secret, e->cfg.secret_len, token, (size_t)tlen,
                       c4j__wall_ms() / 1000, &w->ticket);
  if (rc == C4J_ETICKETEXP) return *why = "ticket expired", 401;
  if (rc != 0) return *why = "invalid ticket", 401;
  return 0;
}

/* The request is complete: attach or refuse. */
static void upgrade(c4j__conn_t *c) {
  char accept[29];
  const char *why = "";
  int status = check_request(c, accept, &why);
  if (status != 0) refuse(c, status, why);
  else attach(c, accept);
}

/* ---- Reading -------------------------------------------------------------- */

static void ws_bytes(c4j__conn_t *c, const uint8_t *data, size_t n) {
  c4j__worker_t *w = worker(c);
  c4j_ws_parser_t *p = c->u.ws;
  long r;
  int idle;

  if (c->flags & F_NO_INPUT) return;
  if (p == NULL) {
    p = &w->parser;
    c4j_ws_parser_init(p, &ws_callbacks, w->engine->cfg.max_frame,
                       w->engine->cfg.max_message);
  }
  p->data = c;
  r = c4j_ws_feed(p, data, n);
  if (r < 0) {
    int code = p->error_code ? p->error_code : C4J_CLOSE_PROTOCOL;
    const char *reason = p->error_reason ? p->error_reason : "protocol error";
    c->flags |= F_NO_INPUT;
    if (p == &w->parser) c4j_ws_parser_free(p);
    c4j__conn_close(c, code, reason, 0);
    return;
  }
  if (c->state == C4J__CONN_CLOSED) {
    if (p == &w->parser) c4j_ws_parser_free(p);
    return;
  }
  /* Keep a parser only while a frame or message is half read. */
  idle = !p->in_frame && p->hdr_len == 0 && p->msg_opcode == 0 &&
         p->msg == NULL;
  if (p == &w->parser && !idle) {
    c4j_ws_parser_t *heap = c4j__malloc(sizeof(*heap));
    if (heap == NULL) {
      c4j_ws_parser_free(p);
      c->flags |= F_NO_INPUT;
      c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
      return;
    }
    *heap = *p;
    c->u.ws = heap;
  } else if (p != &w->parser && idle) {
    c4j_ws_parser_free(p);
    c4j__free(p);
    c->u.ws = NULL;
  }
}

/* Whether a client text is {"t":"ping"} (in any spacing). */
static int is_ping(const uint8_t *data, size_t len) {
  json_t *j;
  int yes;
  if (len > 64 || memchr(data, 'p', len) == NULL) return 0;
  j = json_loadb((const char *)data, len, 0, NULL);
  if (j == NULL) return 0;
  yes = json_is_object(j) && json_object_size(j) == 1 &&
        json_is_string(json_object_get(j, "t")) &&
        strcmp(json_string_value(json_object_get(j, "t")), "ping") == 0;
  json_decref(j);
  return yes;
}

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len) {
  c4j__conn_t *c = p->data;
  c4j__worker_t *w = worker(c);
  if (c->state != C4J__CONN_OPEN) return c->state == C4J__CONN_CLOSED;
  if (op != C4J_WS_OP_TEXT) {
    c4j__conn_close(c, C4J_CLOSE_UNSUPPORTED, "binary messages refused", 0);
    return 0;
  }
  if (is_ping(data, len)) {
    c4j__conn_send(c, w->pong_text);
  } else if (len > 65535) {
    /* An event string carries at most 65535 bytes. */
    c4j__conn_close(c, C4J_CLOSE_TOO_BIG, "message too big", 0);
  } else {
    c4j__events_message(&w->engine->events, c->cid->id, data, len);
  }
  return c->state == C4J__CONN_CLOSED;
}

static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len) {
  c4j__conn_t *c = p->data;
  if (op == C4J_WS_OP_PING && c->state == C4J__CONN_OPEN) {
    uint8_t frame[2 + 125];
    size_t h = c4j_ws_write_header(frame, C4J_WS_OP_PONG, len);
    c4j__buf_t *b;
    memcpy(frame + h, data, len);
    b = c4j__buf_copy(frame, h + len);
    if (b == NULL) {
      c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    } else {
      c4j__conn_send(c, b);
      c4j__buf_unref(b);
    }
  }
  return c->state == C4J__CONN_CLOSED;
}

static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *reason,
                    size_t len) {
  c4j__conn_t *c = p->data;
  c->flags |= F_PEER_CLOSED;
  if (c->state == C4J__CONN_OPEN) {
    char text[128];
    uint8_t frame[127];
    size_t n;
    snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)reason);
    detach(c, code, len ? text : "closed by client");
    c->state = C4J__CONN_CLOSING;
    c->stamp = c4j__worker_now(worker(c));
    /* Echo the code; 1005 means "none" and must not be sent. */
    n = c4j_ws_write_close(frame, code == 1005 ? C4J_CLOSE_NORMAL : code, "");
    if (queue_bytes(c, frame, n) < 0) c4j__conn_abort(c);
  } else if (c->state == C4J__CONN_CLOSING && c->wreq == NULL &&
             c->out_len == 0) {
    c4j__conn_abort(c);
  }
  c->flags |= F_NO_INPUT;
  return 1;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  c4j__worker_t *w = c4j__worker_of(h->loop);
  /* read_cb runs right after and consumes everything, so one buffer serves
   * every connection of the worker. */
  if (w->rbuf_busy) {
    *buf = uv_buf_init(NULL, 0);
    return;
  }
  w->rbuf_busy = 1;
  *buf = uv_buf_init((char *)w->rbuf, sizeof(w->rbuf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  c4j__conn_t *c = (c4j__conn_t *)s;
  c4j__worker_t *w = c4j__worker_of(s->loop);
  const uint8_t *data = (const uint8_t *)buf->base;

  if (nread < 0) {
    c4j__conn_abort(c);
  } else if (nread > 0) {
    size_t n = (size_t)nread;
    if (c->state == C4J__CONN_HANDSHAKE) {
      long r = c4j_http_feed(c->u.http, data, n);
      if (r < 0) {
        refuse(c, c->u.http->status ? c->u.http->status : 400,
               c->u.http->error ? c->u.http->error : "bad request");
      } else if (c->u.http->done) {
        upgrade(c);
        if (c->state == C4J__CONN_OPEN && (size_t)r < n)
          ws_bytes(c, data + r, n - (size_t)r);
      }
    } else if (c->state == C4J__CONN_OPEN ||
               c->state == C4J__CONN_CLOSING) {
      if (c->state == C4J__CONN_OPEN) c->stamp = c4j__worker_now(w);
      ws_bytes(c, data, n);
    }
  }
  if (buf->base == (char *)w->rbuf) w->rbuf_busy = 0;
  c4j__worker_flush(w);
}

/* ---- Life cycle ----------------------------------------------------------- */

void c4j__conn_adopt(c4j__worker_t *w, int fd) {
  c4j_engine_t *e = w->engine;
  c4j__conn_t *c = c4j__calloc(1, sizeof(*c));
  if (c == NULL) goto fail;
  if (uv_tcp_init(&w->loop, &c->tcp) != 0) goto fail;
  c->state = C4J__CONN_CLOSED;
  if (uv_tcp_open(&c->tcp, fd) != 0) {
    uv_close((uv_handle_t *)&c->tcp, close_cb);
    close(fd);
    return;
  }
  c->state = C4J__CONN_HANDSHAKE;
  c->stamp = c4j__worker_now(w);
  uv_tcp_nodelay(&c->tcp, 1);
  c->u.http = c4j__malloc(sizeof(*c->u.http));
  if (c->u.http == NULL) {
    c4j__conn_abort(c);
    return;
  }
  c->flags |= F_HTTP;
  c4j_http_init(c->u.http, e->cfg.max_header);
  if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0)
    c4j__conn_abort(c);
  return;

fail:
  c4j__free(c);
  close(fd);
  atomic_fetch_sub(&e->open_socks, 1);
}

void c4j__conn_tick(c4j__conn_t *c, uint32_t now, int ping) {
  const c4j_config_t *cfg = &engine(c)->cfg;
  uint32_t age = now - c->stamp;
  switch (c->state) {
    case C4J__CONN_HANDSHAKE:
    case C4J__CONN_REFUSING:
      if (age >= (uint32_t)cfg->handshake_timeout_ms) c4j__conn_abort(c);
      break;
    case C4J__CONN_OPEN:
      if (age >= (uint32_t)cfg->idle_timeout_ms) {
        c4j__conn_close(c, C4J_CLOSE_IDLE_TIMEOUT, "idle timeout", 1);
        break;
      }
      if (ping) c4j__conn_send(c, worker(c)->ping);
      /* Give the output ring back while the connection is idle. */
      if (c->out_len == 0 && c->outq != NULL) {
        c4j__free(c->outq);
        c->outq = NULL;
        c->out_cap = c->out_head = 0;
      }
      break;
    case C4J__CONN_CLOSING:
      if (age >= CLOSE_WAIT_MS) c4j__conn_abort(c);
      break;
    default:
      break;
  }
}

void c4j__worker_want_flush(c4j__worker_t *w, c4j__conn_t *c) {
  if (c->flags & F_IN_FLUSH) return;
  c->flags |= F_IN_FLUSH;
  c->flush_next = w->flush_list;
  w->flush_list = c;
}

void c4j__worker_flush(c4j__worker_t *w) {
  c4j__conn_t *c;
  /* Count before writing, so that whoever reads a frame sees it counted. */
  if (w->messages_out > 0) {
    atomic_fetch_add_explicit(&w->engine->messages_out, w->messages_out,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&w->engine->bytes_out, w->bytes_out,
                              memory_order_relaxed);
    w->messages_out = w->bytes_out = 0;
  }
  while ((c = w->flush_list) != NULL) {
    w->flush_list = c->flush_next;
    c->flush_next = NULL;
    c->flags &= (uint8_t)~F_IN_FLUSH;
    c4j__conn_flush(c);
  }
}
