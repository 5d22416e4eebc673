/* test-cmd.c - cmd.c, requests with a body, over a real engine and real
 * sockets (engine-client.h): POST /cmd (pings answered, frames to the
 * embedder, CORS, OPTIONS, the refusals of a body, bodies in pieces) and
 * the HTTP API's /api/ requests (the key, methods, lengths, the API event,
 * c4j_api_reply, the 504 timeout).
 */
#include "engine-client.h"

TEST(cmd_options_and_cors) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c)), *s = calloc(1, sizeof(*s));
  char ticket[2048], target[2200];
  event_t *ev;
  int port;
  base_config(&cfg);
  cfg.allowed_origins = "http://good.example";
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  reset_events();
  mint(e, "cm", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/cmd?ticket=%s", ticket);
  /* Unknown id. */
  CHECK_EQ(http(c, port, "POST", target, NULL, "{\"t\":\"ping\"}", NULL), 404);
  CHECK(strstr(body_of(c), "\"code\":404") != NULL);
  client_close(c);
  /* Attach over SSE, then talk through /cmd. */
  snprintf(target, sizeof(target), "/sse?ticket=%s", ticket);
  CHECK_EQ(http(s, port, "GET", target, NULL, NULL, "\"t\":\"open\""), 200);
  snprintf(target, sizeof(target), "/cmd?ticket=%s", ticket);
  CHECK_EQ(http(c, port, "POST", target, "Origin: http://good.example\r\n",
                "[{\"t\":\"ping\"},{\"t\":\"say\",\"x\":1}]", NULL), 200);
  CHECK_STR(body_of(c), "[{\"t\":\"pong\"}]");
  CHECK(strstr((char *)c->buf, "Content-Type: application/json") != NULL);
  CHECK(strstr((char *)c->buf,
               "Access-Control-Allow-Origin: http://good.example") != NULL);
  client_close(c);
  ev = wait_event(e, C4J_EV_MESSAGE, "cm");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->text, "{\"t\":\"say\",\"x\":1}");
  /* OPTIONS. */
  CHECK_EQ(http(c, port, "OPTIONS", "/poll", "Origin: http://good.example\r\n",
                NULL, NULL), 204);
  CHECK(strstr((char *)c->buf,
               "Access-Control-Allow-Methods: GET, POST, OPTIONS") != NULL);
  CHECK(strstr((char *)c->buf, "Access-Control-Max-Age: 600") != NULL);
  client_close(c);
  /* A disallowed origin. */
  CHECK_EQ(http(c, port, "GET", target, "Origin: http://evil.example\r\n",
                NULL, NULL), 403);
  CHECK(strstr((char *)c->buf, "Access-Control-Allow-Origin") == NULL);
  client_close(c);
  client_close(s);
  free(c);
  free(s);
  finish(e);
}

#define API_KEY "k-0123456789abcdef"

/* Sends an HTTP request without reading the answer. */
static void http_send(client_t *c, int port, const char *method,
                      const char *target, const char *extra,
                      const char *body) {
  char req[8192];
  int n;
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, 0);
  n = snprintf(req, sizeof(req),
               "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s",
               method, target, extra ? extra : "", body ? strlen(body) : 0,
               body ? body : "");
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* Waits (up to 5 s) for an API event; NULL on timeout. */
static event_t *wait_api(c4j_engine_t *e) {
  for (int tries = 0; tries < 100; tries++) {
    for (int i = 0; i < nevents; i++)
      if (events[i].type == C4J_EV_API) {
        events[i].type = -events[i].type;
        return &events[i];
      }
    pump(e, 50);
  }
  return NULL;
}

TEST(cmd_http_api) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  client_t *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
  event_t *ev;
  int port;
  uint64_t t0;

  /* Off without a key: 404 like any unknown path. */
  e = start_default();
  if (e == NULL) return;
  CHECK_EQ(http(c, c4j_engine_port(e), "GET", "/api/online",
                "X-Api-Key: " API_KEY "\r\n", NULL, NULL), 404);
  close(c->fd);
  CHECK_EQ(c4j_api_reply(e, 0, 200, "{}", 2), 0); /* nothing waits */
  finish(e);

  base_config(&cfg);
  cfg.api_key = "short";
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strstr(c4j_config_error(), "api_key") != NULL);
  cfg.api_key = "0123456789 abcdef";
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);

  base_config(&cfg);
  cfg.api_key = API_KEY;
  cfg.api_timeout_ms = 300;
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  reset_events();

  /* No key, a wrong key, a wrong scheme, an overlong key: 401, no CORS. */
  CHECK_EQ(http(c, port, "POST", "/api/publish",
                "Origin: http://a.example\r\n", "{}", NULL), 401);
  CHECK(strstr((char *)c->buf, "Content-Type: application/json") != NULL);
  CHECK(strstr((char *)c->buf, "Access-Control") == NULL);
  CHECK(strstr(body_of(c), "{\"error\":{\"code\":401,") == body_of(c));
  close(c->fd);
  CHECK_EQ(http(c, port, "GET", "/api/online",
                "X-Api-Key: " API_KEY "x\r\n", NULL, NULL), 401);
  close(c->fd);
  CHECK_EQ(http(c, port, "GET", "/api/online",
                "Authorization: Bearer k-0123456789abcdeX\r\n", NULL, NULL),
           401);
  close(c->fd);
  CHECK_EQ(http(c, port, "GET", "/api/online",
                "Authorization: Basic " API_KEY "\r\n", NULL, NULL), 401);
  close(c->fd);
  {
    char extra[1200];
    memset(extra, 0, sizeof(extra));
    strcpy(extra, "X-Api-Key: " API_KEY);
    memset(extra + strlen(extra), 'a', 600);
    strcat(extra, "\r\n");
    CHECK_EQ(http(c, port, "GET", "/api/online", extra, NULL, NULL), 401);
    close(c->fd);
  }
  CHECK_EQ(http(c, port, "PUT", "/api/online",
                "X-Api-Key: " API_KEY "\r\n", NULL, NULL), 405);
  close(c->fd);
  /* Over min(max_message, 65535), and without a length. */
  {
    static const char *raw[] = {
      "POST /api/publish HTTP/1.1\r\nX-Api-Key: " API_KEY
      "\r\nContent-Length: 65536\r\n\r\n",
      "POST /api/publish HTTP/1.1\r\nX-Api-Key: " API_KEY
      "\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /api/publish HTTP/1.1\r\nX-Api-Key: " API_KEY "\r\n\r\n",
    };
    static const int want[] = { 413, 411, 411 };
    for (int i = 0; i < 3; i++) {
      memset(c, 0, sizeof(*c));
      c->fd = tcp_connect(port, 0);
      CHECK_EQ(send(c->fd, raw[i], strlen(raw[i]), MSG_NOSIGNAL),
               (long long)strlen(raw[i]));
      CHECK_EQ(http_answer(c), want[i]);
    }
  }
  /* Still /ws works beside it. */
  CHECK_EQ(http(c, port, "GET", "/nothing", NULL, NULL, NULL), 404);
  close(c->fd);
  pump(e, 50);
  for (int i = 0; i < nevents; i++) CHECK(events[i].type != C4J_EV_API);

  /* A good request: the record, then the embedder's answer. */
  http_send(c, port, "POST", "/api/publish?x=1&y=%20",
            "Authorization: bearer " API_KEY "\r\n",
            "{\"channel\":\"news\",\"data\":1}");
  http_send(d, port, "GET", "/api/online?user=bob",
            "X-Api-Key: " API_KEY "\r\n", NULL);
  {
    event_t *a = wait_api(e), *b = wait_api(e);
    CHECK(a != NULL && b != NULL);
    if (a && b) {
      if (strcmp(a->user, "GET") == 0) {
        event_t *t = a;
        a = b;
        b = t;
      }
      CHECK_STR(a->user, "POST");
      CHECK_STR(a->cid, "/api/publish");
      CHECK_STR(a->ip, "x=1&y=%20");
      CHECK_STR(a->text, "{\"channel\":\"news\",\"data\":1}");
      CHECK_STR(b->user, "GET");
      CHECK_STR(b->cid, "/api/online");
      CHECK_STR(b->ip, "user=bob");
      CHECK_STR(b->text, "");
      CHECK(a->id != b->id);
      CHECK_EQ(c4j_api_reply(e, b->id, 200, "{\"online\":false}", 16), 0);
      CHECK_EQ(c4j_api_reply(e, a->id, 201, "{\"ok\":true}", 11), 0);
      CHECK_EQ(c4j_api_reply(e, a->id, 200, "{}", 2), 0); /* gone: ignored */
      CHECK_EQ(c4j_api_reply(e, a->id, 99, "{}", 2), UV_EINVAL);
      CHECK_EQ(c4j_api_reply(e, 0xff, 200, "{}", 2), C4J_ENOCONN);
    }
  }
  CHECK_EQ(http_answer(c), 201);
  CHECK(strstr((char *)c->buf, "Content-Type: application/json\r\n") != NULL);
  CHECK(strstr((char *)c->buf, "Content-Length: 11\r\n") != NULL);
  /* HTTP/1.1 without Connection: close: the socket is kept. */
  CHECK(strstr((char *)c->buf, "Connection: close\r\n") == NULL);
  CHECK(strstr((char *)c->buf, "Cache-Control: no-store\r\n") != NULL);
  CHECK_STR(body_of(c), "{\"ok\":true}");
  CHECK_EQ(http_answer(d), 200);
  CHECK_STR(body_of(d), "{\"online\":false}");

  /* Unanswered: 504 after api_timeout_ms. */
  t0 = ms_now();
  http_send(c, port, "GET", "/api/slow", "X-Api-Key: " API_KEY "\r\n",
            NULL);
  ev = wait_api(e);
  CHECK(ev != NULL);
  CHECK_EQ(http_answer(c), 504);
  CHECK(ms_now() - t0 >= 250);
  CHECK(strstr(body_of(c), "\"code\":504") != NULL);
  if (ev) CHECK_EQ(c4j_api_reply(e, ev->id, 200, "{}", 2), 0); /* late */

  /* A client that leaves while waiting, and one waiting at stop. */
  http_send(c, port, "GET", "/api/gone", "X-Api-Key: " API_KEY "\r\n",
            NULL);
  ev = wait_api(e);
  CHECK(ev != NULL);
  close(c->fd);
  http_send(d, port, "GET", "/api/held", "X-Api-Key: " API_KEY "\r\n",
            NULL);
  CHECK(wait_api(e) != NULL);
  if (ev) CHECK_EQ(c4j_api_reply(e, ev->id, 200, "{}", 2), 0);
  finish(e);
  CHECK(http_answer(d) <= 0 || d->status == -1);
  free(c);
  free(d);
}

/* ---- /cmd bodies ------------------------------------------------------------ */

/* A /cmd body is a frame or an array of frames of known length, within
 * max_message; each refusal is JSON with its code and reason, with the
 * CORS headers of the allowed origin. */
TEST(cmd_body_refusals) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c)), *s = calloc(1, sizeof(*s));
  char ticket[2048], target[2200], req[2600];
  static const char good[] = "Origin: http://good.example\r\n";
  static const char bad_body[] =
      "{\"error\":{\"code\":400,\"message\":"
      "\"body must be a frame or an array of frames\"}}";
  int port;
  base_config(&cfg);
  cfg.allowed_origins = "http://good.example";
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  mint(e, "cr", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/sse?ticket=%s", ticket);
  CHECK_EQ(http(s, port, "GET", target, NULL, NULL, "\"t\":\"open\""), 200);
  snprintf(target, sizeof(target), "/cmd?ticket=%s", ticket);

  CHECK_EQ(http(c, port, "POST", target, good, "not json", NULL), 400);
  CHECK_STR(body_of(c), bad_body);
  CHECK(strstr((char *)c->buf, "Content-Type: application/json") != NULL);
  CHECK(strstr((char *)c->buf,
               "Access-Control-Allow-Origin: http://good.example") != NULL);
  client_close(c);
  CHECK_EQ(http(c, port, "POST", target, NULL, "\"ping\"", NULL), 400);
  CHECK_STR(body_of(c), bad_body);
  client_close(c);

  snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: x\r\n%s\r\n", target,
           good);
  CHECK_EQ(http_raw(c, port, req), 411);
  CHECK_STR(body_of(c), "{\"error\":{\"code\":411,"
                        "\"message\":\"Content-Length required\"}}");
  CHECK(strstr((char *)c->buf,
               "Access-Control-Allow-Origin: http://good.example") != NULL);
  snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: x\r\n"
           "Transfer-Encoding: chunked\r\n\r\n", target);
  CHECK_EQ(http_raw(c, port, req), 411);
  snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 65537\r\n\r\n", target);
  CHECK_EQ(http_raw(c, port, req), 413);
  CHECK_STR(body_of(c), "{\"error\":{\"code\":413,"
                        "\"message\":\"body too large\"}}");
  CHECK_EQ(http(c, port, "POST", "/cmd", NULL, "{\"t\":\"ping\"}", NULL),
           401);
  CHECK_STR(body_of(c), "{\"error\":{\"code\":401,"
                        "\"message\":\"ticket missing\"}}");
  client_close(c);
  /* The stream is still there and /cmd still works. */
  CHECK_EQ(http(c, port, "POST", target, NULL, "{\"t\":\"ping\"}", NULL),
           200);
  CHECK_STR(body_of(c), "[{\"t\":\"pong\"}]");
  client_close(c);
  client_close(s);
  free(c);
  free(s);
  finish(e);
}

/* A body comes in any number of reads, its start in the request's own:
 * for /cmd (every object of an array handled, anything else skipped, by
 * a long-poll client between two polls too) and for /api/. */
TEST(cmd_body_in_pieces) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200], req[2600];
  static const char body[] = "[1,\"x\",{\"t\":\"ping\"},{\"t\":\"note\",\"n\":2}]";
  static const char api[] = "{\"channel\":\"news\",\"data\":[1,2,3]}";
  int port, n, one = 1;
  event_t *ev;
  base_config(&cfg);
  cfg.api_key = API_KEY;
  cfg.idle_timeout_ms = 2000;
  cfg.heartbeat_ms = 500;
  cfg.conn_expires_ms = 5000;
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  reset_events();
  mint(e, "cp", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  CHECK_EQ(http(c, port, "GET", target, NULL, NULL, NULL), 200); /* parked */
  client_close(c);

  snprintf(target, sizeof(target), "/cmd?ticket=%s", ticket);
  n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: x\r\n"
               "Content-Length: %zu\r\n\r\n", target, sizeof(body) - 1);
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, 0);
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
  CHECK_EQ(send(c->fd, body, 5, MSG_NOSIGNAL), 5);
  usleep(20000);
  CHECK_EQ(send(c->fd, body + 5, 10, MSG_NOSIGNAL), 10);
  usleep(20000);
  CHECK_EQ(send(c->fd, body + 15, sizeof(body) - 16, MSG_NOSIGNAL),
           (ssize_t)(sizeof(body) - 16));
  CHECK_EQ(http_answer(c), 200);
  CHECK_STR(body_of(c), "[{\"t\":\"pong\"}]");
  ev = wait_event(e, C4J_EV_MESSAGE, "cp");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->text, "{\"t\":\"note\",\"n\":2}");

  /* The headers and the first bytes of the body in one segment. */
  n = snprintf(req, sizeof(req), "POST /api/publish HTTP/1.1\r\nHost: x\r\n"
               "X-Api-Key: " API_KEY "\r\nContent-Length: %zu\r\n\r\n%.7s",
               sizeof(api) - 1, api);
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, 0);
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
  usleep(20000);
  CHECK_EQ(send(c->fd, api + 7, sizeof(api) - 8, MSG_NOSIGNAL),
           (ssize_t)(sizeof(api) - 8));
  ev = wait_api(e);
  CHECK(ev != NULL);
  if (ev) {
    CHECK_STR(ev->text, api);
    CHECK_EQ(c4j_api_reply(e, ev->id, 200, "{}", 2), 0);
  }
  CHECK_EQ(http_answer(c), 200);
  free(c);
  finish(e);
}

/* Slow bodies are unfinished requests too: under the cap per address of
 * a crowded engine from their head on (429 for the next socket of that
 * address), and cut at the deadline shrunk by the pressure: 408 in JSON,
 * with the CORS headers for /cmd, for /api/ alike.  max_conns 8: an SSE
 * stream and four WebSockets make it crowded; two slow bodies of
 * 127.0.0.2 hold that address's places; at 7 of 8 held the deadline is a
 * quarter of 8 s (half once one has gone). */
TEST(cmd_slow_bodies_bounded) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *s = calloc(1, sizeof(*s)), *x = calloc(1, sizeof(*x));
  client_t *w[4], *b[2];
  char ticket[2048], target[2200], req[2600], text[512];
  c4j_stats_t st;
  int port;
  base_config(&cfg);
  cfg.api_key = API_KEY;
  cfg.max_conns = 8;
  cfg.max_pending_per_addr = 2;
  cfg.handshake_timeout_ms = 8000;
  cfg.allowed_origins = "http://good.example";
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  mint(e, "sb", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/sse?ticket=%s", ticket);
  CHECK_EQ(http(s, port, "GET", target, NULL, NULL, "\"t\":\"open\""), 200);
  for (int i = 0; i < 4; i++) {
    char cid[16];
    snprintf(cid, sizeof(cid), "w%d", i);
    w[i] = calloc(1, sizeof(*w[i]));
    CHECK_EQ(attach(e, w[i], cid, "[]"), 101);
    CHECK_EQ(read_text(w[i], text, sizeof(text)), 0);
  }
  /* Two bodies that stop after their first bytes, one of /cmd, one of
   * /api/. */
  snprintf(req, sizeof(req), "POST /cmd?ticket=%s HTTP/1.1\r\nHost: x\r\n"
           "Origin: http://good.example\r\nContent-Length: 100\r\n\r\n"
           "{\"t\":\"pi", ticket);
  b[0] = calloc(1, sizeof(*b[0]));
  connect_quiet(e, b[0], "127.0.0.2", req, 1);
  snprintf(req, sizeof(req), "POST /api/publish HTTP/1.1\r\nHost: x\r\n"
           "X-Api-Key: %s\r\nContent-Length: 100\r\n\r\n{\"chan", API_KEY);
  b[1] = calloc(1, sizeof(*b[1]));
  connect_quiet(e, b[1], "127.0.0.2", req, 2);
  /* Their heads are read, not their bodies: still unfinished. */
  usleep(100000);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.pending, 2);
  memset(x, 0, offsetof(client_t, buf));
  x->len = 0;
  x->fd = tcp_connect_from(port, "127.0.0.2");
  CHECK_EQ(http_answer(x), 429);
  /* 2 to 5 s of the full 8 (each read waits at most 5 s). */
  CHECK_EQ(http_answer(b[0]), 408);
  CHECK_STR(body_of(b[0]), "{\"error\":{\"code\":408,\"message\":"
                           "\"request timeout (server busy)\"}}");
  CHECK(strstr((char *)b[0]->buf,
               "Access-Control-Allow-Origin: http://good.example") != NULL);
  CHECK_EQ(http_answer(b[1]), 408);
  CHECK_STR(body_of(b[1]), "{\"error\":{\"code\":408,\"message\":"
                           "\"request timeout (server busy)\"}}");
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.refused_address, 1);
  CHECK_EQ(st.timeouts_short, 2);
  CHECK_EQ(st.timeouts, 0);
  CHECK_EQ(st.pending, 0);
  /* The stream is still there, and /cmd works at once. */
  snprintf(target, sizeof(target), "/cmd?ticket=%s", ticket);
  CHECK_EQ(http(x, port, "POST", target, NULL, "{\"t\":\"ping\"}", NULL),
           200);
  CHECK_STR(body_of(x), "[{\"t\":\"pong\"}]");
  client_close(x);
  client_close(s);
  for (int i = 0; i < 4; i++) {
    client_close(w[i]);
    free(w[i]);
  }
  free(b[0]);
  free(b[1]);
  free(s);
  free(x);
  finish(e);
}


/* ---- HTTP keep-alive -------------------------------------------------------- */

/* Writes one request (HTTP/1.`minor`) on c's socket, without reading. */
static void ka_send(client_t *c, int minor, const char *method,
                    const char *target, const char *extra, const char *body) {
  char req[8192];
  int n = snprintf(req, sizeof(req),
                   "%s %s HTTP/1.%d\r\nHost: x\r\n%sContent-Length: %zu\r\n"
                   "\r\n%s",
                   method, target, minor, extra ? extra : "",
                   body ? strlen(body) : 0, body ? body : "");
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* A new socket for c. */
static void ka_open(client_t *c, int port) {
  memset(c, 0, offsetof(client_t, buf));
  c->len = 0;
  c->fd = tcp_connect(port, 0);
}

/* Waits for the API request to target and answers it with body. */
static void ka_reply(c4j_engine_t *e, const char *target, const char *body) {
  event_t *ev = wait_api(e);
  CHECK(ev != NULL);
  if (ev == NULL) return;
  CHECK_STR(ev->cid, target);
  CHECK_EQ(c4j_api_reply(e, ev->id, 200, body, strlen(body)), 0);
}

static int has_close(const char *answer) {
  return strstr(answer, "\r\nConnection: close\r\n") != NULL;
}

static uint64_t pending_now(c4j_engine_t *e) {
  c4j_stats_t st;
  c4j_engine_stats(e, &st);
  return st.pending;
}

/* An answer with a length keeps an HTTP/1.1 socket (HTTP/1.0 with
 * Connection: keep-alive) for the next request, of any route, counted as
 * an unfinished request meanwhile; pipelined requests are answered in
 * order; Connection: close, HTTP/1.0, a refusal and the
 * C4J__KEEPALIVE_MAX-th answer close; an idle socket is closed without
 * an answer at handshake_timeout_ms; one closed while its request and
 * the next wait is freed. */
TEST(cmd_keepalive) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c)), *s = calloc(1, sizeof(*s));
  static const char key[] = "X-Api-Key: " API_KEY "\r\n";
  char out[4096], ticket[2048], target[2200], want[64], batch[8 * 2400];
  uint64_t t0, timeouts;
  c4j_stats_t st;
  int port;
  base_config(&cfg);
  cfg.api_key = API_KEY;
  cfg.handshake_timeout_ms = 1500;
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  reset_events();

  /* Three requests one after another on one socket. */
  ka_open(c, port);
  for (int i = 0; i < 3; i++) {
    char body[32];
    snprintf(body, sizeof(body), "{\"n\":%d}", i);
    ka_send(c, 1, "POST", "/api/publish", key, body);
    ka_reply(e, "/api/publish", body);
    CHECK_EQ(next_answer(c, out, sizeof(out)), 200);
    CHECK(!has_close(out));
    CHECK_STR(strstr(out, "\r\n\r\n") + 4, body);
  }
  /* Waiting for its next request, it counts as an unfinished one. */
  for (t0 = ms_now(); pending_now(e) != 1 && ms_now() - t0 < 2000;)
    usleep(5000);
  CHECK_EQ(pending_now(e), 1);

  /* Two pipelined in one write: both answered, in order. */
  {
    char two[512];
    snprintf(two, sizeof(two),
             "GET /api/first HTTP/1.1\r\nHost: x\r\n%s\r\n"
             "POST /api/second HTTP/1.1\r\nHost: x\r\n%s"
             "Content-Length: 2\r\n\r\n{}", key, key);
    CHECK_EQ(send(c->fd, two, strlen(two), MSG_NOSIGNAL),
             (long long)strlen(two));
    ka_reply(e, "/api/first", "{\"a\":1}");
    ka_reply(e, "/api/second", "{\"b\":2}");
    CHECK_EQ(next_answer(c, out, sizeof(out)), 200);
    CHECK(strstr(out, "{\"a\":1}") != NULL);
    CHECK_EQ(next_answer(c, out, sizeof(out)), 200);
    CHECK(strstr(out, "{\"b\":2}") != NULL);
  }
  /* The next request is routed afresh: a WebSocket on the same socket. */
  mint(e, "ka", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(wsc_handshake(c, target, NULL), 101);
  CHECK(wait_event(e, C4J_EV_CONNECT, "ka") != NULL);
  client_close(c);

  /* Connection: close, and HTTP/1.0 without keep-alive: closed. */
  ka_open(c, port);
  ka_send(c, 1, "GET", "/api/bye", "Connection: close\r\nX-Api-Key: " API_KEY
          "\r\n", NULL);
  ka_reply(e, "/api/bye", "{}");
  CHECK_EQ(next_answer(c, out, sizeof(out)), 200);
  CHECK(has_close(out));
  CHECK(wait_eof(c));
  close(c->fd);
  ka_open(c, port);
  ka_send(c, 0, "GET", "/api/old", key, NULL);
  ka_reply(e, "/api/old", "{}");
  CHECK_EQ(next_answer(c, out, sizeof(out)), 200);
  CHECK(has_close(out));
  CHECK(wait_eof(c));
  close(c->fd);
  /* HTTP/1.0 asking for keep-alive is kept; then a refusal closes. */
  ka_open(c, port);
  ka_send(c, 0, "GET", "/api/old", "Connection: keep-alive\r\nX-Api-Key: "
          API_KEY "\r\n", NULL);
  ka_reply(e, "/api/old", "{}");
  CHECK_EQ(next_answer(c, out, sizeof(out)), 200);
  CHECK(!has_close(out));
  CHECK(strstr(out, "\r\nConnection: keep-alive\r\n") != NULL);
  ka_send(c, 1, "GET", "/api/online", "X-Api-Key: wrong-key-0123456\r\n",
          NULL);
  CHECK_EQ(next_answer(c, out, sizeof(out)), 401);
  CHECK(has_close(out));
  CHECK(wait_eof(c));
  close(c->fd);

  /* Idle: closed without an answer at handshake_timeout_ms, and not
   * counted as a 408. */
  c4j_engine_stats(e, &st);
  timeouts = st.timeouts;
  ka_open(c, port);
  ka_send(c, 1, "GET", "/api/idle", key, NULL);
  ka_reply(e, "/api/idle", "{}");
  CHECK_EQ(next_answer(c, out, sizeof(out)), 200);
  t0 = ms_now();
  CHECK(wait_eof(c));
  CHECK(ms_now() - t0 >= 1000);
  CHECK_EQ(c->len, 0);
  close(c->fd);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.timeouts, timeouts);
  for (t0 = ms_now(); pending_now(e) != 0 && ms_now() - t0 < 2000;)
    usleep(5000);
  CHECK_EQ(pending_now(e), 0);

  /* Closed while its request waits, the next one behind it: freed. */
  ka_open(c, port);
  {
    char two[512];
    snprintf(two, sizeof(two),
             "GET /api/left HTTP/1.1\r\nHost: x\r\n%s\r\n"
             "GET /api/never HTTP/1.1\r\nHost: x\r\n%s\r\n", key, key);
    CHECK_EQ(send(c->fd, two, strlen(two), MSG_NOSIGNAL),
             (long long)strlen(two));
  }
  {
    event_t *ev = wait_api(e);
    CHECK(ev != NULL);
    close(c->fd);
    pump(e, 100);
    if (ev) CHECK_EQ(c4j_api_reply(e, ev->id, 200, "{}", 2), 0);
  }

  /* POST /cmd, eight pipelined at a time: the 1000th answer closes. */
  mint(e, "kc", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/sse?ticket=%s", ticket);
  CHECK_EQ(http(s, port, "GET", target, NULL, NULL, "\"t\":\"open\""), 200);
  snprintf(target, sizeof(target), "/cmd?ticket=%s", ticket);
  {
    size_t len = 0;
    for (int k = 0; k < 8; k++)
      len += (size_t)snprintf(batch + len, sizeof(batch) - len,
                              "POST %s HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 12\r\n\r\n{\"t\":\"ping\"}",
                              target);
    ka_open(c, port);
    for (int i = 0; i < 1000; i += 8) {
      CHECK_EQ(send(c->fd, batch, len, MSG_NOSIGNAL), (long long)len);
      for (int k = 0; k < 8 && i + k < 1000; k++) {
        int n = i + k + 1;
        if (next_answer(c, out, sizeof(out)) != 200) {
          snprintf(want, sizeof(want), "answer %d", n);
          CHECK_STR(want, "answered");
          i = 1000;
          break;
        }
        CHECK_STR(strstr(out, "\r\n\r\n") + 4, "[{\"t\":\"pong\"}]");
        if (has_close(out) != (n == 1000)) {
          snprintf(want, sizeof(want), "answer %d closes: %d", n,
                   has_close(out));
          CHECK_STR(want, "only the 1000th closes");
        }
      }
    }
    CHECK(wait_eof(c));
    close(c->fd);
  }
  client_close(s);
  free(c);
  free(s);
  finish(e);
}

TEST_MAIN(T(cmd_options_and_cors), T(cmd_http_api), T(cmd_body_refusals),
          T(cmd_body_in_pieces), T(cmd_slow_bodies_bounded),
          T(cmd_keepalive))
