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

TEST_MAIN(T(request_refusals),
          T(request_handshake_timeout_and_pipelined_frame))
