/* test-request.c - request.c, the HTTP request of a new connection, over a
 * real engine and real sockets (engine-client.h): routing, the Origin,
 * ticket, upgrade and method checks, every refusal with its status and
 * reason, the handshake timeout, and frames that follow the request in
 * the same read.
 */
#include "engine-client.h"

TEST(request_refusals) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200], claims[256];
  int port, n;
  base_config(&cfg);
  cfg.allowed_origins = "http://good.example, https://also.example";
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);

  CHECK_EQ(upgrade(c, port, "/ws", NULL, 0), 401);
  CHECK(strstr(c->body, "ticket missing") != NULL);
  client_close(c);

  mint(e, "r1", NULL, "[]", -10, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, port, target, NULL, 0), 401);
  CHECK(strstr(c->body, "ticket expired") != NULL);
  client_close(c);

  /* Forged: signed with another key. */
  n = snprintf(claims, sizeof(claims), "{\"cid\":\"r2\",\"exp\":%ld}",
               (long)time(NULL) + 60);
  CHECK(c4j_auth_sign((const uint8_t *)"another-secret-of-32-bytes------",
                      32, claims, (size_t)n, ticket, sizeof(ticket)) > 0);
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, port, target, NULL, 0), 401);
  CHECK(strstr(c->body, "invalid ticket") != NULL);
  client_close(c);

  mint(e, "r3", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/other?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, port, target, NULL, 0), 404);
  client_close(c);

  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, port, target, "Origin: http://evil.example\r\n", 0),
           403);
  client_close(c);
  CHECK_EQ(upgrade(c, port, target, "Origin: https://also.example\r\n", 0),
           101);
  client_close(c);

  /* A plain GET on /ws. */
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, 0);
  {
    const char *req = "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n";
    char resp[512];
    ssize_t r;
    size_t got = 0;
    CHECK_EQ(send(c->fd, req, strlen(req), 0), (ssize_t)strlen(req));
    while ((r = recv(c->fd, resp + got, sizeof(resp) - 1 - got, 0)) > 0)
      got += (size_t)r;
    resp[got] = '\0';
    CHECK(strncmp(resp, "HTTP/1.1 426", 12) == 0);
  }
  client_close(c);

  /* Headers over max_header. */
  {
    /* Over the default max_header (16384). */
    char *big = malloc(20000);
    memset(big, 'a', 18000);
    memcpy(big, "X-Big: ", 7);
    strcpy(big + 18000, "\r\n");
    CHECK_EQ(upgrade(c, port, target, big, 0), 431);
    client_close(c);
    free(big);
  }
  {
    c4j_stats_t st;
    c4j_engine_stats(e, &st);
    CHECK_EQ(st.conns, 0);
  }
  free(c);
  finish(e);
}

TEST(request_handshake_timeout_and_pipelined_frame) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], req[4096], text[512];
  static const uint8_t mask[4] = { 5, 6, 7, 8 };
  uint64_t t0;
  int n;
  base_config(&cfg);
  cfg.handshake_timeout_ms = 200;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();

  /* Connect and say nothing: closed after the handshake timeout. */
  c->fd = tcp_connect(c4j_engine_port(e), 0);
  t0 = (uint64_t)time(NULL);
  CHECK(wait_eof(c));
  CHECK((uint64_t)time(NULL) - t0 <= 2);
  client_close(c);

  /* The upgrade request and a first frame in one packet. */
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(c4j_engine_port(e), 0);
  mint(e, "pipe", NULL, "[]", 60, ticket, sizeof(ticket));
  n = snprintf(req, sizeof(req),
               "GET /ws?ticket=%s HTTP/1.1\r\nHost: x\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n", ticket);
  n += (int)c4j_ws_write_masked((uint8_t *)req + n, C4J_WS_OP_TEXT, 1, mask,
                                (const uint8_t *)"{\"t\":\"ping\"}", 12);
  CHECK_EQ(send(c->fd, req, (size_t)n, 0), n);
  for (;;) {
    uint8_t *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (end != NULL) {
      CHECK(strncmp((char *)c->buf, "HTTP/1.1 101", 12) == 0);
      consume(c, (size_t)(end - c->buf) + 4);
      break;
    }
    if (fill(c) <= 0) break;
  }
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strncmp(text, "{\"t\":\"open\"", 11) == 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"pong\"}");
  client_close(c);
  free(c);
  finish(e);
}

/* ---- Checks and refusals, request by request ------------------------------ */

/* The upgrade request of /ws with its ticket, but method, one header line
 * changed: key and version as given, Connection only when conn. */
static void ws_request(char *out, size_t cap, const char *method,
                       const char *ticket, int conn, const char *key,
                       const char *version) {
  snprintf(out, cap,
           "%s /ws?ticket=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
           "%sSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n"
           "Content-Length: 0\r\n\r\n",
           method, ticket, conn ? "Connection: Upgrade\r\n" : "", key,
           version);
}

/* Each check of the upgrade and of the method refuses with its own status
 * and says why in the body (text/plain; JSON for /cmd), with a good
 * ticket, so that no other check answers first. */
TEST(request_upgrade_and_method_checks) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], req[4096];
  int port;
  if (e == NULL) return;
  port = c4j_engine_port(e);
  mint(e, "uc", NULL, "[]", 60, ticket, sizeof(ticket));

  ws_request(req, sizeof(req), "POST", ticket, 1, WSC_KEY, "13");
  CHECK_EQ(http_raw(c, port, req), 400);
  CHECK_STR(body_of(c), "method must be GET");
  CHECK(strstr((char *)c->buf, "Content-Type: text/plain") != NULL);
  ws_request(req, sizeof(req), "GET", ticket, 0, WSC_KEY, "13");
  CHECK_EQ(http_raw(c, port, req), 400);
  CHECK_STR(body_of(c), "Connection: Upgrade missing");
  ws_request(req, sizeof(req), "GET", ticket, 1, WSC_KEY, "8");
  CHECK_EQ(http_raw(c, port, req), 400);
  CHECK_STR(body_of(c), "unsupported WebSocket version");
  ws_request(req, sizeof(req), "GET", ticket, 1, "c2hvcnQ=", "13");
  CHECK_EQ(http_raw(c, port, req), 400);
  CHECK_STR(body_of(c), "bad Sec-WebSocket-Key");
  /* The same request, right, is accepted. */
  snprintf(req, sizeof(req), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, port, req, NULL, 0), 101);
  client_close(c);

  /* SSE and long-poll are GET, /cmd is POST. */
  snprintf(req, sizeof(req), "POST /sse?ticket=%s HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 0\r\n\r\n", ticket);
  CHECK_EQ(http_raw(c, port, req), 405);
  CHECK_STR(body_of(c), "method must be GET");
  snprintf(req, sizeof(req), "PUT /poll?ticket=%s HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 0\r\n\r\n", ticket);
  CHECK_EQ(http_raw(c, port, req), 405);
  CHECK_STR(body_of(c), "method must be GET");
  snprintf(req, sizeof(req), "GET /cmd?ticket=%s HTTP/1.1\r\nHost: x\r\n\r\n",
           ticket);
  CHECK_EQ(http_raw(c, port, req), 405);
  CHECK(strstr((char *)c->buf, "Content-Type: application/json") != NULL);
  CHECK_STR(body_of(c),
            "{\"error\":{\"code\":405,\"message\":\"method must be POST\"}}");
  free(c);
  finish(e);
}

/* What the parser refuses is answered, with its reason, not dropped: a
 * request target over C4J_HTTP_MAX_TARGET (414) and bytes that are not
 * HTTP (400). */
TEST(request_target_too_long_and_not_http) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char *req = malloc(8192);
  int n;
  if (e == NULL) return;
  n = snprintf(req, 8192, "GET /ws?ticket=");
  memset(req + n, 'a', 5000);
  strcpy(req + n + 5000, " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_EQ(http_raw(c, c4j_engine_port(e), req), 414);
  CHECK_STR(body_of(c), "request target too long");
  CHECK_EQ(http_raw(c, c4j_engine_port(e), "HELLO WORLD\r\n\r\n"), 400);
  CHECK(body_of(c)[0] != '\0');
  {
    c4j_stats_t st;
    c4j_engine_stats(e, &st);
    CHECK_EQ(st.conns, 0);
  }
  free(req);
  free(c);
  finish(e);
}

/* A refusal carries the CORS headers for an allowed origin, so that the
 * page can read why (a 401, a 404, a bad since); a refused origin gets 403
 * without them, on OPTIONS too. */
TEST(request_refusals_and_cors) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2300];
  static const char good[] = "Origin: http://good.example\r\n";
  static const char evil[] = "Origin: http://evil.example\r\n";
  static const char acao[] =
      "Access-Control-Allow-Origin: http://good.example\r\n";
  int port;
  base_config(&cfg);
  /* "null" listed is never echoed: the opaque origin is shared by every
   * sandboxed frame and file: page. */
  cfg.allowed_origins = "http://good.example, null";
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  mint(e, "co", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));

  CHECK_EQ(http(c, port, "GET", "/sse", good, NULL, NULL), 401);
  CHECK(strstr((char *)c->buf, acao) != NULL);
  CHECK(strstr((char *)c->buf, "Vary: Origin\r\n") != NULL);
  CHECK_STR(body_of(c), "ticket missing");
  client_close(c);
  CHECK_EQ(http(c, port, "GET", "/nowhere", good, NULL, NULL), 404);
  CHECK(strstr((char *)c->buf, acao) != NULL);
  CHECK_STR(body_of(c), "not found");
  client_close(c);
  snprintf(target, sizeof(target), "/poll?ticket=%s&since=%%7B%%7D%%5B",
           ticket);
  CHECK_EQ(http(c, port, "GET", target, good, NULL, NULL), 400);
  CHECK(strstr((char *)c->buf, acao) != NULL);
  CHECK_STR(body_of(c), "invalid since");
  client_close(c);

  snprintf(target, sizeof(target), "/sse?ticket=%s", ticket);
  CHECK_EQ(http(c, port, "GET", target, evil, NULL, NULL), 403);
  CHECK(strstr((char *)c->buf, "Access-Control") == NULL);
  CHECK_STR(body_of(c), "origin not allowed");
  client_close(c);
  CHECK_EQ(http(c, port, "OPTIONS", "/cmd", evil, NULL, NULL), 403);
  CHECK(strstr((char *)c->buf, "Access-Control") == NULL);
  client_close(c);
  CHECK_EQ(http(c, port, "GET", target, "Origin: null\r\n", NULL, NULL), 403);
  CHECK(strstr((char *)c->buf, "Access-Control") == NULL);
  client_close(c);
  free(c);
  finish(e);
}

/* Status lines say what their code means, and a 426 names the protocol
 * to upgrade to (RFC 9110). */
TEST(request_status_lines) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], req[2600];
  if (e == NULL) return;
  mint(e, "sl", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(req, sizeof(req), "GET /ws?ticket=%s HTTP/1.1\r\nHost: h\r\n\r\n",
           ticket);
  CHECK_EQ(http_raw(c, c4j_engine_port(e), req), 426);
  CHECK(strstr((char *)c->buf, "HTTP/1.1 426 Upgrade Required\r\n") ==
        (char *)c->buf);
  CHECK(strstr((char *)c->buf, "\r\nUpgrade: websocket\r\n") != NULL);
  client_close(c);
  CHECK_EQ(http_raw(c, c4j_engine_port(e), "GET /nowhere HTTP/1.1\r\n\r\n"),
           404);
  CHECK(strstr((char *)c->buf, "HTTP/1.1 404 Not Found\r\n") ==
        (char *)c->buf);
  CHECK(strstr((char *)c->buf, "Upgrade:") == NULL);
  client_close(c);
  /* Any origin allowed: a page of the opaque origin is answered "*". */
  CHECK_EQ(http(c, c4j_engine_port(e), "GET", "/nowhere", "Origin: null\r\n",
                NULL, NULL), 404);
  CHECK(strstr((char *)c->buf, "Access-Control-Allow-Origin: *\r\n") != NULL);
  CHECK(strstr((char *)c->buf, "Allow-Origin: null") == NULL);
  client_close(c);
  free(c);
  finish(e);
}

/* Many refusals for a ticket or an origin: at most one log line a minute
 * per worker and kind (the others are counted for a line once the minute
 * is over), naming the address and the origin. */
TEST(request_refusals_logged_a_line_a_minute) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  int port, tickets = 0, origins = 0, named = 0;
  base_config(&cfg);
  cfg.allowed_origins = "http://good.example";
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  reset_events();
  for (int i = 0; i < 200; i++) {
    CHECK_EQ(upgrade(c, port, "/ws?ticket=forged", NULL, 0), 401);
    client_close(c);
    CHECK_EQ(upgrade(c, port, "/ws?ticket=x",
                     "Origin: http://evil.example\r\n", 0), 403);
    client_close(c);
  }
  for (uint64_t end = ms_now() + 1000; ms_now() < end;) pump(e, 50);
  for (int i = 0; i < nevents; i++) {
    if (events[i].type != C4J_EV_LOG) continue;
    if (strstr(events[i].text, "refused for their ticket (401)")) {
      tickets++;
      named += strstr(events[i].text, "invalid ticket, from 127.0.0.1") != 0;
    }
    if (strstr(events[i].text, "refused for their origin (403")) {
      origins++;
      named += strstr(events[i].text,
                      "from 127.0.0.1, origin http://evil.example") != 0;
    }
  }
  CHECK(tickets >= 1 && tickets <= cfg.threads);
  CHECK(origins >= 1 && origins <= cfg.threads);
  CHECK_EQ(named, tickets + origins);
  free(c);
  finish(e);
}

TEST_MAIN(T(request_refusals), T(request_refusals_logged_a_line_a_minute),
          T(request_handshake_timeout_and_pipelined_frame),
          T(request_upgrade_and_method_checks),
          T(request_target_too_long_and_not_http),
          T(request_refusals_and_cors), T(request_status_lines))
