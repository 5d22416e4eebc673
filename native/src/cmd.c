/* cmd.c - requests with a body: POST /cmd (a page's frames sent over
 * HTTP, for the SSE and long-poll transports: pings answered here, the
 * rest to the embedder as MESSAGE events, answered with a JSON array) and
 * the HTTP API's /api/ requests (docs/protocol.md section 8: the key is
 * checked here, the request goes to the embedder as an API event and
 * waits on the worker's api_wait list for c4j_api_reply or its timeout).
 * Their answers have a length, and may keep the socket for the next
 * request (conn.c, c4j__conn_answered).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "common.h"
#include "conn.h"
#include "engine.h"
#include "stream.h"

/* The body of POST /cmd being read, for the connection id its ticket
 * names; or of an /api/ request (then `target` follows the body). */
struct c4j__cmd_s {
  char cid[C4J_MAX_ID + 1];
  char acao[260];          /* Access-Control-Allow-Origin to answer */
  size_t need, got;
  int method;              /* /api/: enum http_method */
  const char *target;      /* /api/: path and query, NUL ended */
  char body[];
};

static void cmd_run(c4j__conn_t *c);
static void api_run(c4j__conn_t *c);

/* Takes the request's parser away: the body follows in cmd. */
static void to_body(c4j__conn_t *c, c4j__cmd_t *cmd, int transport) {
  c4j__free(c->u.http);
  c->flags &= (uint16_t)~C4J__F_HTTP;
  c->u.cmd = cmd;
  c->transport = (uint8_t)transport;
  c->state = C4J__CONN_BODY;
}

/* ---- /cmd ----------------------------------------------------------------- */

/* The client of cid, attached on worker holder, is alive: restart the idle
 * timer of its SSE stream.  Only the holder is told, not every worker as
 * sendTo does: the held register (already read to accept the request)
 * names it, one message beats one per worker on every ping, and a holder
 * that changed meanwhile needs no touch (a new attach starts its own
 * timer), so a touch that finds nothing is simply dropped. */
static void touch(c4j__worker_t *w, int holder, const char *cid) {
  c4j_engine_t *e = w->engine;
  c4j__msg_t *m;
  if (holder == w->index) {
    c4j__identity_touch(w, cid, strlen(cid));
    return;
  }
  if (!c4j__engine_enter(e)) return;
  m = c4j__msg_new(C4J__MSG_TOUCH, cid, strlen(cid), NULL);
  if (m != NULL) c4j__worker_push(e->workers[holder], &m->node);
  c4j__engine_leave(e);
}

void c4j__cmd_start(c4j__conn_t *c, const char *acao) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_engine_t *e = w->engine;
  c4j_http_req_t *r = c->u.http;
  c4j__cmd_t *cmd;
  uint64_t len = r->parser.content_length;
  c4j__holder_t holder = c4j__held_get(&e->held, w->ticket.cid);
  if (holder.worker < 0) {
    c4j__request_refuse_json(c, 404, "unknown connection", acao);
    return;
  }
  if ((r->parser.flags & F_CHUNKED) || len == ULLONG_MAX) {
    c4j__request_refuse_json(c, 411, "Content-Length required", acao);
    return;
  }
  if (len > e->cfg.max_message) {
    c4j__request_refuse_json(c, 413, "body too large", acao);
    return;
  }
  cmd = c4j__malloc(sizeof(*cmd) + (size_t)len + 1);
  if (cmd == NULL) {
    c4j__request_refuse_json(c, 503, "out of memory", acao);
    return;
  }
  snprintf(cmd->cid, sizeof(cmd->cid), "%s", w->ticket.cid);
  snprintf(cmd->acao, sizeof(cmd->acao), "%s", acao);
  if (holder.state == C4J__HELD_ALIVE) touch(w, holder.worker, cmd->cid);
  cmd->need = (size_t)len;
  cmd->got = 0;
  to_body(c, cmd, C4J__T_CMD);
  if (len == 0) cmd_run(c);
}

/* Handles one client frame of a /cmd body; appends a reply to replies. */
static void cmd_frame(c4j__conn_t *c, json_t *frame, json_t *replies) {
  c4j__worker_t *w = c4j__conn_worker(c);
  json_t *t = json_object_get(frame, "t");
  char *text;
  w->messages_in++; /* added to the engine's by the flush */
  if (json_is_string(t) && strcmp(json_string_value(t), "ping") == 0) {
    json_array_append_new(replies, json_pack("{s:s}", "t", "pong"));
    return;
  }
  text = json_dumps(frame, JSON_COMPACT | JSON_ENCODE_ANY);
  if (text == NULL) return;
  w->bytes_in += strlen(text);
  c4j__events_message(&w->engine->events, c->u.cmd->cid,
                      (const uint8_t *)text, strlen(text));
  free(text);
}

void c4j__cmd_refuse(c4j__conn_t *c, int status, const char *reason) {
  const char *acao = c->transport == C4J__T_CMD ? c->u.cmd->acao : NULL;
  c4j__request_refuse_json(c, status, reason, acao);
}

static void cmd_run(c4j__conn_t *c) {
  c4j__cmd_t *cmd = c->u.cmd;
  json_t *body, *replies;
  char *text;
  c4j__conn_pending_done(c); /* the whole request is here */
  body = json_loadb(cmd->body, cmd->got, 0, NULL);
  if (!json_is_object(body) && !json_is_array(body)) {
    json_decref(body);
    c->transport = C4J__T_CMD;
    c4j__request_refuse_json(c, 400,
                             "body must be a frame or an array of frames",
                             cmd->acao);
    return;
  }
  replies = json_array();
  if (json_is_object(body)) {
    cmd_frame(c, body, replies);
  } else {
    size_t i;
    json_t *f;
    json_array_foreach(body, i, f) if (json_is_object(f))
      cmd_frame(c, f, replies);
  }
  text = replies ? json_dumps(replies, JSON_COMPACT) : NULL;
  json_decref(body);
  json_decref(replies);
  if (text == NULL) {
    c4j__request_refuse_json(c, 503, "out of memory", cmd->acao);
    return;
  }
  c4j__request_answer(c, 200, "application/json", text, cmd->acao);
  free(text);
}

void c4j__cmd_bytes(c4j__conn_t *c, const uint8_t *data, size_t n) {
  c4j__cmd_t *cmd = c->u.cmd;
  size_t k = n < cmd->need - cmd->got ? n : cmd->need - cmd->got;
  memcpy(cmd->body + cmd->got, data, k);
  cmd->got += k;
  if (cmd->got < cmd->need) return;
  if (c->transport == C4J__T_API) api_run(c);
  else cmd_run(c);
  /* The next request, pipelined behind this body (conn.c keeps it or
   * drops it, as the state says). */
  if (k < n) c4j__conn_bytes(c, data + k, n - k);
}

/* ---- The HTTP API (docs/protocol.md section 8) ---------------------------- */

/* Whether the request carries the engine's API key, as
 * "Authorization: Bearer <key>" or "X-Api-Key: <key>", compared in
 * constant time (for keys of the right length). */
static int api_key_ok(const c4j_engine_t *e, const c4j_http_req_t *r) {
  const char *got = NULL;
  size_t klen = strlen(e->api_key), glen;
  if (r->auth_too_long) return 0;
  if (r->api_key[0] != '\0') {
    got = r->api_key;
  } else if (strncasecmp(r->authorization, "Bearer ", 7) == 0) {
    got = r->authorization + 7;
    while (*got == ' ') got++;
  }
  if (got == NULL) return 0;
  glen = strlen(got);
  return glen == klen && CRYPTO_memcmp(got, e->api_key, klen) == 0;
}

void c4j__cmd_api_start(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_engine_t *e = w->engine;
  c4j_http_req_t *r = c->u.http;
  uint64_t len = r->parser.content_length;
  size_t max = e->cfg.max_message < 65535 ? e->cfg.max_message : 65535;
  size_t tlen = strlen(r->target);
  c4j__cmd_t *cmd;
  if (r->method != HTTP_GET && r->method != HTTP_POST) {
    c4j__request_refuse_json(c, 405, "method must be GET or POST", NULL);
    return;
  }
  if (!api_key_ok(e, r)) {
    c4j__request_refuse_json(c, 401, "invalid API key", NULL);
    return;
  }
  if (r->parser.flags & F_CHUNKED) {
    c4j__request_refuse_json(c, 411, "Content-Length required", NULL);
    return;
  }
  if (len == ULLONG_MAX) {
    if (r->method == HTTP_POST) {
      c4j__request_refuse_json(c, 411, "Content-Length required", NULL);
      return;
    }
    len = 0;
  }
  if (len > max) {
    c4j__request_refuse_json(c, 413, "body too large", NULL);
    return;
  }
  cmd = c4j__malloc(sizeof(*cmd) + (size_t)len + 1 + tlen + 1);
  if (cmd == NULL) {
    c4j__request_refuse_json(c, 503, "out of memory", NULL);
    return;
  }
  cmd->cid[0] = cmd->acao[0] = '\0';
  cmd->need = (size_t)len;
  cmd->got = 0;
  cmd->method = r->method;
  memcpy(cmd->body + len + 1, r->target, tlen + 1);
  cmd->target = cmd->body + len + 1;
  to_body(c, cmd, C4J__T_API);
  if (len == 0) api_run(c);
}

/* The body is read: hand the request to the embedder and wait. */
static void api_run(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_engine_t *e = w->engine;
  c4j__cmd_t *cmd = c->u.cmd;
  const char *t = cmd->target, *q = strchr(t, '?');
  size_t plen = q ? (size_t)(q - t) : strlen(t);
  uint32_t id = (atomic_fetch_add(&e->next_api, 1) << 8) |
                (uint32_t)w->index;
  c4j__conn_pending_done(c); /* the whole request is here */
  if (c4j__events_api(&e->events, id,
                      cmd->method == HTTP_POST ? "POST" : "GET", t, plen,
                      q ? q + 1 : "", q ? strlen(q + 1) : 0, cmd->body,
                      cmd->got) != 0) {
    c4j__request_refuse_json(c, 503, "event queue full", NULL);
    return;
  }
  c4j__free(cmd);
  c->u.cmd = NULL;
  c->seq = id;
  c->state = C4J__CONN_API;
  c->stamp = c4j__worker_now(w);
  c4j__conn_list_add(&w->api_wait, c);
}

void c4j__cmd_api_reply(c4j__worker_t *w, uint32_t id, int status,
                        const c4j__buf_t *body) {
  c4j__conn_t *c;
  c4j__buf_t *b;
  char head[256];
  long h;
  int keep;
  for (c = w->api_wait; c != NULL; c = c->gnext)
    if (c->seq == id) break;
  if (c == NULL) return;
  c4j__conn_list_remove(&w->api_wait, c);
  /* The whole request was read, so any status the embedder chose may
   * keep the socket. */
  keep = c4j__conn_may_keep(c);
  h = c4j__http_head(head, sizeof(head), status, "application/json",
                     (long long)body->len, keep, NULL);
  b = h < 0 ? NULL : c4j__buf_new((size_t)h + body->len);
  c4j__conn_answered(c, keep);
  if (b == NULL) {
    c4j__conn_abort(c);
    return;
  }
  memcpy(b->data, head, (size_t)h);
  if (body->len) memcpy(b->data + h, body->data, body->len);
  if (c4j__conn_push_out(c, b) < 0) {
    c4j__buf_unref(b);
    c4j__conn_abort(c);
  }
}

void c4j__cmd_api_timeout(c4j__conn_t *c) {
  c4j__conn_list_remove(&c4j__conn_worker(c)->api_wait, c);
  c->state = C4J__CONN_REFUSING;
  c4j__request_refuse_json(c, 504, "the application did not answer in time",
                           NULL);
}
