/* test-wsconn.c - wsconn.c, an attached WebSocket, over a real engine and
 * real sockets (engine-client.h): the open frame and the CONNECT event,
 * text messages to the embedder, {"t":"ping"} and WebSocket pings
 * answered, fragmented messages joined, the client's close echoed, and
 * every protocol error closed with its code.
 */
#include "engine-client.h"

TEST(wsconn_connect_open_ping_message_close) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200], text[512];
  c4j_stats_t st;
  event_t *ev;
  if (e == NULL) return;
  reset_events();
  mint(e, "conn-1", "alice", "[\"clock\",\"chat\"]", 60, ticket,
       sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, c4j_engine_port(e), target, NULL, 0), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  /* No history in this engine: no positions. */
  CHECK_STR(text, "{\"t\":\"open\",\"cId\":\"conn-1\",\"channels\":"
                  "[\"clock\",\"chat\"],\"pos\":{}}");
  ev = wait_event(e, C4J_EV_CONNECT, "conn-1");
  CHECK(ev != NULL);
  if (ev) {
    CHECK_STR(ev->user, "alice");
    CHECK_STR(ev->ip, "127.0.0.1");
    CHECK_STR(ev->transport, "websocket");
    CHECK(ev->port > 0);
  }
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.conns, 1);
  CHECK_EQ(st.accepted, 1);

  /* {"t":"ping"} is answered by the core, other text goes to the app. */
  send_text(c, "{\"t\": \"ping\"}");
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"pong\"}");
  send_text(c, "{\"t\":\"say\",\"text\":\"hi\"}");
  ev = wait_event(e, C4J_EV_MESSAGE, "conn-1");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->text, "{\"t\":\"say\",\"text\":\"hi\"}");

  /* A WebSocket ping gets a pong with the same payload. */
  send_frame(c, C4J_WS_OP_PING, "abc", 3);
  CHECK_EQ(read_frame(c, text, sizeof(text), NULL), C4J_WS_OP_PONG);
  CHECK_STR(text, "abc");

  /* A fragmented text message is joined. */
  {
    static const uint8_t mask[4] = { 1, 2, 3, 4 };
    uint8_t f[64];
    size_t n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 0, mask,
                                   (const uint8_t *)"frag", 4);
    CHECK_EQ(send(c->fd, f, n, 0), (ssize_t)n);
    usleep(20000); /* the parser must keep the half message meanwhile */
    n = c4j_ws_write_masked(f, C4J_WS_OP_CONT, 1, mask,
                            (const uint8_t *)"ment", 4);
    CHECK_EQ(send(c->fd, f, n, 0), (ssize_t)n);
    ev = wait_event(e, C4J_EV_MESSAGE, "conn-1");
    CHECK(ev != NULL);
    if (ev) CHECK_STR(ev->text, "fragment");
  }

  /* The client closes: the core echoes the code, reports the drop. */
  {
    uint8_t payload[2] = { 0x03, 0xE8 };
    send_frame(c, C4J_WS_OP_CLOSE, payload, 2);
    CHECK_EQ(read_close(c, NULL, 0), 1000);
    CHECK(wait_eof(c));
    ev = wait_event(e, C4J_EV_DROP, "conn-1");
    CHECK(ev != NULL);
    if (ev) CHECK_EQ(ev->code, 1000);
  }
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.conns, 0);
  client_close(c);
  free(c);
  finish(e);
}

/* Sends one bad frame and expects a close frame with code, then EOF and a
 * DROP event with that code. */
static void expect_protocol_close(c4j_engine_t *e, const char *cid,
                                  const uint8_t *frame, size_t n, int code) {
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  event_t *ev;
  CHECK_EQ(attach(e, c, cid, "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(send(c->fd, frame, n, MSG_NOSIGNAL), (ssize_t)n);
  CHECK_EQ(read_close(c, NULL, 0), code);
  CHECK(wait_eof(c));
  ev = wait_event(e, C4J_EV_DROP, cid);
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, code);
  client_close(c);
  free(c);
}

TEST(wsconn_protocol_errors) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  static const uint8_t mask[4] = { 9, 8, 7, 6 };
  uint8_t *f = malloc(5000);
  size_t n;
  base_config(&cfg);
  cfg.max_frame = 1024;
  cfg.max_message = 1024;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();

  /* Unmasked client frame: 1002. */
  f[0] = 0x81;
  f[1] = 2;
  f[2] = 'h';
  f[3] = 'i';
  expect_protocol_close(e, "p1", f, 4, C4J_CLOSE_PROTOCOL);

  /* Over max_frame: 1009. */
  memset(f + 100, 'x', 2000);
  n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 1, mask, f + 100, 2000);
  expect_protocol_close(e, "p2", f, n, C4J_CLOSE_TOO_BIG);

  /* Binary: 1003. */
  n = c4j_ws_write_masked(f, C4J_WS_OP_BINARY, 1, mask,
                          (const uint8_t *)"\x01\x02", 2);
  expect_protocol_close(e, "p3", f, n, C4J_CLOSE_UNSUPPORTED);

  /* Bad UTF-8: 1007. */
  n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 1, mask,
                          (const uint8_t *)"\xff\xfe", 2);
  expect_protocol_close(e, "p4", f, n, C4J_CLOSE_BAD_DATA);
  free(f);
  finish(e);
}

TEST_MAIN(T(wsconn_connect_open_ping_message_close), T(wsconn_protocol_errors))
