/* test-cmd.c - cmd.c, requests with a body, over a real engine and real
 * sockets (engine-client.h): POST /cmd (pings answered, frames to the
 * embedder, CORS, OPTIONS) and the HTTP API's /api/ requests (the key,
 * methods, lengths, the API event, c4j_api_reply, the 504 timeout).
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
  CHECK(strstr((char *)c->buf, "Connection: close\r\n") != NULL);
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

TEST_MAIN(T(cmd_options_and_cors), T(cmd_http_api))
