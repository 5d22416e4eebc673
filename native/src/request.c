/* request.c - the HTTP request of a new connection (or the next one on a
 * socket kept alive after an answer, conn.c): fed to http.c's parser,
 * then routed (`/ws`, `/sse`, `/poll`, `/cmd`, `/api/`, OPTIONS) once
 * complete; the Origin, the ticket (with the expiry forgiven while
 * the core holds the id), the WebSocket upgrade and `since` are checked
 * here, and every refusal is answered here with its status and reason.
 * What an accepted request becomes is identity.c's (attach) or cmd.c's
 * (a body to read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "common.h"
#include "conn.h"
#include "deflate.h"
#include "engine.h"
#include "stream.h"

#define MAX_SINCE 64 /* channels read from `since` */

/* ---- Origins -------------------------------------------------------------- */

/* Whether origin (NUL ended, "" when absent) may connect under
 * cfg.allowed_origins: a comma list of origins, "*" for any. */
static int origin_ok(const c4j_engine_t *e, const char *origin) {
  const char *p = e->origins;
  size_t olen = strlen(origin);
  if (strcmp(p, "*") == 0 || olen == 0) return 1; /* no Origin: not a page */
  while (*p != '\0') {
    const char *end = strchr(p, ',');
    size_t n;
    if (end == NULL) end = p + strlen(p);
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    n = (size_t)(end - p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if ((n == 1 && *p == '*') || (n == olen && strncasecmp(p, origin, n) == 0))
      return 1;
    p = *end ? end + 1 : end;
  }
  return 0;
}

/* The Access-Control-Allow-Origin to answer the request with: its Origin,
 * or "*" without one; NULL when the origin is not allowed (or unsafe to
 * echo).  It is never "null": the opaque origin of sandboxed frames,
 * data: URLs and file: pages is one value shared by all of them, so
 * listing it would let any of them in.  Such a page is answered "*" when
 * any origin is allowed, and refused otherwise. */
static const char *allow_origin(c4j__conn_t *c, const char *origin) {
  const c4j_engine_t *e = c4j__conn_engine(c);
  for (const char *p = origin; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return NULL;
  if (strcmp(origin, "null") == 0)
    return strcmp(e->origins, "*") == 0 ? "*" : NULL;
  if (!origin_ok(e, origin)) return NULL;
  return origin[0] ? origin : "*";
}

/* ---- Answers -------------------------------------------------------------- */

void c4j__request_answer(c4j__conn_t *c, int status, const char *ctype,
                         const char *body, const char *acao) {
  char head[1024];
  size_t blen = body ? strlen(body) : 0;
  /* A refusal closes: what follows it on the socket may be unread. */
  int keep = status < 400 && c4j__conn_may_keep(c);
  long n = c4j__http_head(head, sizeof(head), status, ctype,
                          ctype ? (long long)blen : -1, keep, acao);
  c4j__buf_t *b = n < 0 ? NULL : c4j__buf_new((size_t)n + blen);
  if (status >= 400)
    C4J__COUNT(c4j__conn_engine(c)->refused[c4j__metrics_status_slot(status)]);
  if (b != NULL) {
    memcpy(b->data, head, (size_t)n);
    if (blen) memcpy(b->data + n, body, blen);
  }
  if (c->flags & C4J__F_HTTP) {
    c4j__free(c->u.http);
    c->u.http = NULL;
    c->flags &= (uint16_t)~C4J__F_HTTP;
  }
  c4j__conn_answered(c, keep); /* no longer waited for */
  if (b == NULL || c4j__conn_push_out(c, b) < 0) {
    c4j__buf_unref(b);
    c4j__conn_abort(c);
  }
}

void c4j__request_refuse(c4j__conn_t *c, int status, const char *reason) {
  const char *acao = NULL;
  if ((c->flags & C4J__F_HTTP) && status != 403)
    acao = allow_origin(c, c->u.http->origin);
  c4j__request_answer(c, status, "text/plain; charset=utf-8", reason, acao);
}

void c4j__request_refuse_json(c4j__conn_t *c, int status,
                              const char *message, const char *acao) {
  char body[256];
  snprintf(body, sizeof(body), "{\"error\":{\"code\":%d,\"message\":\"%s\"}}",
           status, message);
  c4j__request_answer(c, status, "application/json", body, acao);
}

void c4j__request_refuse_pending(c4j__conn_t *c, int status,
                                 const char *reason) {
  if (c->state == C4J__CONN_BODY) c4j__cmd_refuse(c, status, reason);
  else c4j__request_refuse(c, status, reason);
}

/* ---- What is logged of the refusals -------------------------------------- */

/* A page refused for its ticket (401) or its origin (403) gets a log line
 * naming its address, at most one a minute per worker and kind; the
 * others of that minute are counted, and the tick says how many once it
 * is over.  Whatever a client sends, never a line per request. */

#define REFUSAL_LOG_MS 60000
enum { REFUSED_TICKET, REFUSED_ORIGIN };
static const char *const refusal_what[2] = {
  "for their ticket (401)", "for their origin (403, not in Comet.AllowedOrigins)"
};

/* Printable ASCII of s, at most cap - 1 bytes ('?' for the others). */
static void printable(char *out, size_t cap, const char *s) {
  size_t i = 0;
  for (; s[i] != '\0' && i + 1 < cap; i++)
    out[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i]
                                                                       : '?';
  out[i] = '\0';
}

static void log_more(c4j__worker_t *w, int kind) {
  char text[200];
  if (w->refusal_log[kind].more == 0) return;
  snprintf(text, sizeof(text),
           "%llu more requests refused %s in the last minute on worker %d "
           "(not logged one by one)",
           (unsigned long long)w->refusal_log[kind].more, refusal_what[kind],
           w->index);
  c4j__events_log(&w->engine->events, 1, text);
  w->refusal_log[kind].more = 0;
}

static void log_refusal(c4j__conn_t *c, int kind, const char *why) {
  c4j__worker_t *w = c4j__conn_worker(c);
  uint64_t now = c4j__mono_ms(), since = w->refusal_log[kind].since_ms;
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  char ip[64] = "?", origin[101], text[400];
  if (since != 0 && now - since < REFUSAL_LOG_MS) {
    w->refusal_log[kind].more++;
    return;
  }
  log_more(w, kind);
  w->refusal_log[kind].since_ms = now;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET)
      uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
    else if (ss.ss_family == AF_INET6)
      uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
  }
  printable(origin, sizeof(origin),
            (c->flags & C4J__F_HTTP) ? c->u.http->origin : "");
  snprintf(text, sizeof(text),
           "request refused %s: %s, from %s%s%s (one line a minute: the "
           "others are counted)",
           refusal_what[kind], why, ip, origin[0] ? ", origin " : "", origin);
  c4j__events_log(&w->engine->events, 1, text);
}

void c4j__request_report(c4j__worker_t *w) {
  uint64_t now = c4j__mono_ms();
  for (int kind = 0; kind < 2; kind++) {
    uint64_t since = w->refusal_log[kind].since_ms;
    if (since == 0 || now - since < REFUSAL_LOG_MS) continue;
    log_more(w, kind);
    w->refusal_log[kind].since_ms = 0;
  }
}

/* ---- Checks --------------------------------------------------------------- */

/* Reads `since` ({"channel": ["epoch", offset], ...}) into *out (NULL when
 * absent).  Returns 0, or -1 when it is malformed or too big. */
static int read_since(c4j_http_req_t *r, json_t **out) {
  char text[C4J_HTTP_MAX_TARGET];
  long n = c4j_http_query(r, "since", text, sizeof(text));
  const char *k;
  json_t *j, *v;
  *out = NULL;
  if (n == -1) return 0;
  if (n < 0) return -1;
  j = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_object(j) || json_object_size(j) > MAX_SINCE) goto bad;
  json_object_foreach(j, k, v) {
    json_t *ep = json_array_get(v, 0), *off = json_array_get(v, 1);
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        !json_is_string(ep) || json_string_length(ep) != C4J__EPOCH_LEN ||
        !json_is_integer(off) || json_integer_value(off) < 0)
      goto bad;
  }
  *out = j;
  return 0;
bad:
  json_decref(j);
  return -1;
}

/* Checks the ticket of the request (the expiry is forgiven while the core
 * holds the id).  Returns 0 with w->ticket filled, else the HTTP status
 * and *why. */
static int check_ticket(c4j__conn_t *c, const char **why) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_engine_t *e = w->engine;
  char token[C4J_HTTP_MAX_TARGET];
  long tlen = c4j_http_query(c->u.http, "ticket", token, sizeof(token));
  int rc;
  if (tlen == -1 || tlen == 0) return *why = "ticket missing", 401;
  if (tlen < 0) return *why = "invalid ticket", 401;
  rc = c4j_auth_verify(e->secret, e->cfg.secret_len, token, (size_t)tlen,
                       c4j__wall_ms() / 1000, &w->ticket);
  if (rc == C4J_ETICKETEXP &&
      c4j__held_get(&e->held, w->ticket.cid).worker < 0) {
    memset(&w->ticket, 0, sizeof(w->ticket));
    return *why = "ticket expired", 401;
  }
  if (rc != 0 && rc != C4J_ETICKETEXP) return *why = "invalid ticket", 401;
  return 0;
}

/* Checks a WebSocket upgrade.  Returns 0 (accept set) or the status. */
static int check_upgrade(c4j_http_req_t *r, char accept[29],
                         const char **why) {
  if (r->method != HTTP_GET) return *why = "method must be GET", 400;
  if (!r->upgrade_websocket) return *why = "upgrade required", 426;
  if (!r->connection_upgrade)
    return *why = "Connection: Upgrade missing", 400;
  if (strcmp(r->ws_version, "13") != 0)
    return *why = "unsupported WebSocket version", 400;
  if (c4j_ws_accept_key(r->ws_key, strlen(r->ws_key), accept) != 0)
    return *why = "bad Sec-WebSocket-Key", 400;
  return 0;
}

/* The permessage-deflate offers of a checked upgrade (deflate.h), unless
 * the engine has it off: c->deflate says what was accepted.  Returns 0,
 * or 400 for a header that breaks RFC 6455's grammar. */
static int negotiate(c4j__conn_t *c, const c4j_http_req_t *r,
                     const char **why) {
  int on;
  c->deflate = 0;
  if (!c4j__conn_engine(c)->cfg.deflate || r->ws_ext_long) return 0;
  if ((on = c4j__deflate_negotiate(r->ws_ext)) < 0)
    return *why = "bad Sec-WebSocket-Extensions", 400;
  c->deflate = (uint8_t)on;
  return 0;
}

/* ---- Routing -------------------------------------------------------------- */

/* GET /metrics: Prometheus's text, to whom c4j_config_t.metrics allows. */
static void metrics(c4j__conn_t *c) {
  c4j_engine_t *e = c4j__conn_engine(c);
  c4j_http_req_t *r = c->u.http;
  struct sockaddr_storage ss;
  int len = sizeof(ss), status;
  char *text = NULL;
  size_t n;
  if (r->method != HTTP_GET) {
    c4j__request_refuse(c, 405, "method must be GET");
    return;
  }
  status = c4j__metrics_allowed(
      &e->metrics,
      uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 ? &ss
                                                                     : NULL,
      r->auth_too_long ? "-" : r->authorization, e->api_key);
  if (status != 0) {
    c4j__request_refuse(c, status, status == 401 ? "invalid API key"
                                                 : "address not allowed");
    return;
  }
  if (e->hooks.metrics_cb(e, &text, &n) != 0) {
    c4j__request_refuse(c, 503, "out of memory");
    return;
  }
  c4j__request_answer(c, 200, "text/plain; version=0.0.4; charset=utf-8",
                      text, NULL);
  free(text);
}

/* The request is complete: route it, attach it or refuse it. */
static void route(c4j__conn_t *c) {
  c4j_http_req_t *r = c->u.http;
  char path[64], accept[29];
  const char *why = "", *acao;
  json_t *since = NULL;
  int status = 0, transport;

  c4j_http_path(r, path, sizeof(path));
  /* An answer with a length may keep the socket for the next request
   * (docs/protocol.md section 2, "Keep-alive"). */
  if (c4j_http_keep_alive(r)) c->flags |= C4J__F_KEEP;
  /* The metrics are for servers too (docs/metrics.md). */
  if (strcmp(path, "/metrics") == 0 && c4j__conn_engine(c)->metrics.on) {
    metrics(c);
    return;
  }
  /* The conformance echo (engine.h, c4j__engine_echo): "/" alone. */
  if (c4j__conn_engine(c)->echo && strcmp(path, "/") == 0) {
    status = check_upgrade(r, accept, &why);
    if (status == 0) status = negotiate(c, r, &why);
    if (status != 0) c4j__request_refuse(c, status, why);
    else c4j__wsconn_echo_open(c, accept);
    return;
  }
  /* The HTTP API is for servers: no Origin check, no CORS. */
  if (c4j__conn_engine(c)->api_key != NULL &&
      strncmp(r->target, "/api/", 5) == 0) {
    c4j__cmd_api_start(c);
    return;
  }
  acao = allow_origin(c, r->origin);
  if (acao == NULL) {
    log_refusal(c, REFUSED_ORIGIN, "origin not allowed");
    c4j__request_refuse(c, 403, "origin not allowed");
    return;
  }
  if (r->method == HTTP_OPTIONS) {
    c4j__request_answer(c, 204, NULL, NULL, acao);
    return;
  }
  if (strcmp(path, "/ws") == 0) transport = C4J__T_WS;
  else if (strcmp(path, "/sse") == 0) transport = C4J__T_SSE;
  else if (strcmp(path, "/poll") == 0) transport = C4J__T_POLL;
  else if (strcmp(path, "/cmd") == 0) transport = C4J__T_CMD;
  else {
    c4j__request_refuse(c, 404, "not found");
    return;
  }

  if (transport == C4J__T_WS) {
    status = check_upgrade(r, accept, &why);
    if (status == 0) status = negotiate(c, r, &why);
  } else if (transport == C4J__T_CMD && r->method != HTTP_POST)
    status = 405, why = "method must be POST";
  else if (transport != C4J__T_CMD && r->method != HTTP_GET)
    status = 405, why = "method must be GET";
  if (status == 0) status = check_ticket(c, &why);
  if (status == 0 && transport != C4J__T_CMD && read_since(r, &since) < 0)
    status = 400, why = "invalid since";
  if (status != 0) {
    if (status == 401) log_refusal(c, REFUSED_TICKET, why);
    if (transport == C4J__T_CMD) c4j__request_refuse_json(c, status, why, acao);
    else c4j__request_refuse(c, status, why);
    return;
  }
  if (transport == C4J__T_CMD) {
    c4j__cmd_start(c, acao); /* unfinished until its body is here */
  } else {
    c4j__conn_pending_done(c); /* the whole request is here */
    c4j__identity_attach(c, transport, accept, acao, since);
  }
  json_decref(since);
}

void c4j__request_bytes(c4j__conn_t *c, const uint8_t *data, size_t n) {
  long r = c4j_http_feed(c->u.http, data, n);
  if (r < 0) {
    c4j__request_refuse(c, c->u.http->status ? c->u.http->status : 400,
                        c->u.http->error ? c->u.http->error : "bad request");
    return;
  }
  if (!c->u.http->done) return;
  route(c);
  /* What followed the head: WebSocket frames, a body, or the next
   * request (kept, or ignored, as the state says). */
  if ((size_t)r < n) c4j__conn_bytes(c, data + r, n - (size_t)r);
}
