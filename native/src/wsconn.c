/* wsconn.c - an attached WebSocket: the frames its client sends (text
 * and binary messages to the embedder, {"t":"ping"} answered here, pings
 * ponged; a compressed one, with permessage-deflate, inflated first by
 * the worker's deflate.c scratch), protocol errors closed with their
 * code, the client's side of the close handshake, and the conformance
 * echo (engine.h).  ws.c parses; this file decides.
 *
 * Between frames a connection holds no parser: the worker's scratch
 * parser reads for it, and only a frame or message left half read moves
 * to a parser of its own on the heap.
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "common.h"
#include "conn.h"
#include "deflate.h"
#include "engine.h"

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len);
static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len);
static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *reason,
                    size_t len);
static const c4j_ws_callbacks_t ws_callbacks = { on_message, on_control,
                                                 on_close };

void c4j__wsconn_bytes(c4j__conn_t *c, const uint8_t *data, size_t n) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_ws_parser_t *p = c->u.ws;
  long r;
  int idle;

  if (c->flags & C4J__F_NO_INPUT) return;
  if (p == NULL) {
    p = &w->parser;
    c4j_ws_parser_init(p, &ws_callbacks, w->engine->cfg.max_frame,
                       w->engine->cfg.max_message);
    p->allow_rsv1 = c->deflate != 0;
  }
  p->data = c;
  r = c4j_ws_feed(p, data, n);
  if (r < 0) {
    int code = p->error_code ? p->error_code : C4J_CLOSE_PROTOCOL;
    const char *reason = p->error_reason ? p->error_reason : "protocol error";
    c->flags |= C4J__F_NO_INPUT;
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
      c->flags |= C4J__F_NO_INPUT;
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

/* ---- The conformance echo --------------------------------------------------- */

void c4j__wsconn_echo_open(c4j__conn_t *c, const char *accept) {
  char resp[512];
  int n = snprintf(resp, sizeof(resp),
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "%sSec-WebSocket-Accept: %s\r\n\r\n",
                   c4j__deflate_header(c->deflate), accept);
  if (n < 0 || (size_t)n >= sizeof(resp) ||
      c4j__conn_queue_bytes(c, resp, (size_t)n) < 0) {
    c4j__request_refuse(c, 503, "out of memory");
    return;
  }
  c4j__free(c->u.http);
  c->u.ws = NULL;
  c->flags &= (uint16_t)~C4J__F_HTTP;
  c->transport = C4J__T_WS;
  c->state = C4J__CONN_OPEN;
  c->stamp = c4j__worker_now(c4j__conn_worker(c));
}

/* The message back as it came: one frame of the same opcode. */
static void echo(c4j__conn_t *c, int op, const uint8_t *data, size_t len) {
  size_t h = c4j_ws_header_len(len);
  c4j__buf_t *b = c4j__buf_new(h + len);
  if (b != NULL) {
    c4j_ws_write_header(b->data, op, len);
    if (len) memcpy(b->data + h, data, len);
  }
  c4j__conn_send_new(c, b);
}

/* ---- Messages ------------------------------------------------------------------ */

/* A compressed message (RSV1) inflated into the worker's scratch within
 * max_message, and its text checked as UTF-8 as ws.c checks a plain one;
 * 0, or -1 once c is closed with the code that says why. */
static int inflated(c4j__conn_t *c, int op, const uint8_t **data,
                    size_t *len) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_utf8_t u = { 0 };
  int rc;
  if (w->zip == NULL) { /* made with the worker when deflate is on */
    rc = C4J__INFLATE_NOMEM;
  } else {
    rc = c4j__inflate_message(w->zip, *data, *len, w->engine->cfg.max_message,
                              data, len);
  }
  if (rc == 0 && op == C4J_WS_OP_TEXT &&
      (c4j_utf8_feed(&u, *data, *len) < 0 || !c4j_utf8_complete(&u))) {
    c4j__conn_close(c, C4J_CLOSE_BAD_DATA, "text is not UTF-8", 0);
    return -1;
  }
  if (rc == C4J__INFLATE_TOO_BIG)
    c4j__conn_close(c, C4J_CLOSE_TOO_BIG, "message too big once inflated",
                    0);
  else if (rc == C4J__INFLATE_BAD)
    c4j__conn_close(c, C4J_CLOSE_BAD_DATA, "invalid compressed data", 0);
  else if (rc != 0)
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 0);
  return rc == 0 ? 0 : -1;
}

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len) {
  c4j__conn_t *c = p->data;
  c4j__worker_t *w = c4j__conn_worker(c);
  if (c->state != C4J__CONN_OPEN) return c->state == C4J__CONN_CLOSED;
  if (p->compressed && inflated(c, op, &data, &len) < 0) {
    c->flags |= C4J__F_NO_INPUT;
    return 1;
  }
  if (w->engine->echo && c->cid == NULL) { /* the conformance echo */
    echo(c, op, data, len);
    return c->state == C4J__CONN_CLOSED;
  }
  w->messages_in++; /* added to the engine's by the flush */
  w->bytes_in += len;
  if (op == C4J_WS_OP_BINARY) {
    /* Whole and unread: the embedder decodes it (docs/protocol.md section
     * 11).  A full event queue loses it, as it loses a text message. */
    c4j__events_binary(&w->engine->events, c->cid->id, data, len);
  } else if (is_ping(data, len)) {
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
    memcpy(frame + h, data, len);
    c4j__conn_send_new(c, c4j__buf_copy(frame, h + len));
  }
  return c->state == C4J__CONN_CLOSED;
}

static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *reason,
                    size_t len) {
  c4j__conn_t *c = p->data;
  c->flags |= C4J__F_PEER_CLOSED;
  if (c->state == C4J__CONN_OPEN) {
    char text[128];
    uint8_t frame[127];
    size_t n;
    snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)reason);
    if (c->cid != NULL) /* the conformance echo has no identity */
      c4j__identity_detach(c, code, len ? text : "closed by client", 0);
    c->state = C4J__CONN_CLOSING;
    c->stamp = c4j__worker_now(c4j__conn_worker(c));
    /* Echo the code; 1005 means "none" and must not be sent. */
    n = c4j_ws_write_close(frame, code == 1005 ? C4J_CLOSE_NORMAL : code, "");
    if (c4j__conn_queue_bytes(c, frame, n) < 0) c4j__conn_abort(c);
  } else if (c->state == C4J__CONN_CLOSING && c->wreq == NULL &&
             c->out_len == 0) {
    c4j__conn_abort(c);
  }
  c->flags |= C4J__F_NO_INPUT;
  return 1;
}
