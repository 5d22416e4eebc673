/* test-wsconn.c - wsconn.c, an attached WebSocket, over a real engine and
 * real sockets (engine-client.h): the open frame and the CONNECT event,
 * text messages to the embedder, {"t":"ping"} and WebSocket pings
 * answered, fragmented messages joined, frames split anywhere between
 * reads, the client's close echoed (with or without a code), input after
 * the server's close ignored, and every protocol error closed with its
 * code (a text message longer than an event carries too; binary messages
 * are test-binary.c's).
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

  /* Binary messages are taken (test-binary.c), within the same limits:
   * one over max_message in two frames, 1009. */
  {
    static const uint8_t half[600];
    n = c4j_ws_write_masked(f, C4J_WS_OP_BINARY, 0, mask, half, 600);
    n += c4j_ws_write_masked(f + n, C4J_WS_OP_CONT, 1, mask, half, 600);
  }
  expect_protocol_close(e, "p3", f, n, C4J_CLOSE_TOO_BIG);

  /* Bad UTF-8: 1007. */
  n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 1, mask,
                          (const uint8_t *)"\xff\xfe", 2);
  expect_protocol_close(e, "p4", f, n, C4J_CLOSE_BAD_DATA);
  free(f);
  finish(e);
}

/* ---- The client's frames ---------------------------------------------------- */

/* The client's close: without a code it is answered 1000 (1005 is never
 * sent) and the DROP says "closed by client"; with a code and a reason
 * the code is echoed and the DROP carries both. */
TEST(wsconn_client_close_codes) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char text[512], reason[128] = "";
  static const uint8_t bye[] = { 0x10, 0x04, 's', 'e', 'e', ' ', 'y', 'o',
                                 'u' }; /* 4100 "see you" */
  event_t *ev;
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, c, "cc1", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  send_frame(c, C4J_WS_OP_CLOSE, NULL, 0);
  CHECK_EQ(read_close(c, reason, sizeof(reason)), C4J_CLOSE_NORMAL);
  CHECK(wait_eof(c));
  ev = wait_event(e, C4J_EV_DROP, "cc1");
  CHECK(ev != NULL);
  if (ev) {
    CHECK_EQ(ev->code, 1005);
    CHECK_STR(ev->text, "closed by client");
  }
  client_close(c);

  CHECK_EQ(attach(e, c, "cc2", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  send_frame(c, C4J_WS_OP_CLOSE, bye, sizeof(bye));
  CHECK_EQ(read_close(c, reason, sizeof(reason)), 4100);
  CHECK(wait_eof(c));
  ev = wait_event(e, C4J_EV_DROP, "cc2");
  CHECK(ev != NULL);
  if (ev) {
    CHECK_EQ(ev->code, 4100);
    CHECK_STR(ev->text, "see you");
  }
  client_close(c);
  free(c);
  finish(e);
}

/* Sends n bytes one at a time, each in its own segment. */
static void trickle(client_t *c, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ(send(c->fd, p + i, 1, MSG_NOSIGNAL), 1);
    usleep(2000);
  }
}

/* A frame may stop anywhere between two reads: a frame trickled a byte at
 * a time (its header too) is read whole; a ping between two fragments is
 * answered at once, and the message still joined; two frames in one read
 * are two messages, in order. */
TEST(wsconn_frames_split_anywhere) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  static const uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
  static const char say[] = "{\"t\":\"say\",\"n\":1}";
  uint8_t f[256];
  char text[512];
  size_t n, m;
  int one = 1;
  event_t *ev;
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, c, "sp", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 1, mask, (const uint8_t *)say,
                          sizeof(say) - 1);
  trickle(c, f, n);
  ev = wait_event(e, C4J_EV_MESSAGE, "sp");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->text, say);

  n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 0, mask,
                          (const uint8_t *)"ab", 2);
  CHECK_EQ(send(c->fd, f, n, MSG_NOSIGNAL), (ssize_t)n);
  send_frame(c, C4J_WS_OP_PING, "mid", 3);
  CHECK_EQ(read_frame(c, text, sizeof(text), NULL), C4J_WS_OP_PONG);
  CHECK_STR(text, "mid");
  n = c4j_ws_write_masked(f, C4J_WS_OP_CONT, 1, mask,
                          (const uint8_t *)"cd", 2);
  CHECK_EQ(send(c->fd, f, n, MSG_NOSIGNAL), (ssize_t)n);
  ev = wait_event(e, C4J_EV_MESSAGE, "sp");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->text, "abcd");

  n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 1, mask,
                          (const uint8_t *)"first", 5);
  m = c4j_ws_write_masked(f + n, C4J_WS_OP_TEXT, 1, mask,
                          (const uint8_t *)"second", 6);
  CHECK_EQ(send(c->fd, f, n + m, MSG_NOSIGNAL), (ssize_t)(n + m));
  ev = wait_event(e, C4J_EV_MESSAGE, "sp");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->text, "first");
  ev = wait_event(e, C4J_EV_MESSAGE, "sp");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->text, "second");
  client_close(c);
  free(c);
  finish(e);
}

/* Once the server has sent its close frame, what the client still sends
 * is not the embedder's: a text message then is not reported, and the
 * client's close frame ends the connection. */
TEST(wsconn_input_while_closing_ignored) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  static const uint8_t normal[2] = { 0x03, 0xE8 };
  int late = 0;
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, c, "lc", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "lc") != NULL);
  CHECK_EQ(c4j_drop(e, "lc", 2, C4J_CLOSE_DROPPED, "bye"), 0);
  CHECK_EQ(read_close(c, NULL, 0), C4J_CLOSE_DROPPED);
  send_text(c, "{\"t\":\"say\",\"late\":1}");
  send_frame(c, C4J_WS_OP_CLOSE, normal, 2);
  CHECK(wait_eof(c));
  CHECK(wait_event(e, C4J_EV_DROP, "lc") != NULL);
  pump(e, 200);
  for (int i = 0; i < nevents; i++)
    late += (events[i].type == C4J_EV_MESSAGE ||
             events[i].type == -C4J_EV_MESSAGE) &&
            strcmp(events[i].cid, "lc") == 0;
  CHECK_EQ(late, 0);
  client_close(c);
  free(c);
  finish(e);
}

/* A message the parser accepts (under max_message) but longer than an
 * event carries (65535 bytes) is refused with 1009, and one under that
 * reaches the embedder. */
TEST(wsconn_message_over_event_limit) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], reason[128] = "";
  char *big = malloc(70001);
  event_t *ev;
  base_config(&cfg);
  cfg.max_frame = 100000;
  cfg.max_message = 100000;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, c, "big", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  memset(big, 'x', 70000);
  big[0] = big[59999] = '"';
  big[60000] = '\0';
  send_text(c, big); /* 60000 bytes */
  ev = wait_event(e, C4J_EV_MESSAGE, "big");
  CHECK(ev != NULL);
  if (ev) CHECK(strncmp(ev->text, "\"xxx", 4) == 0);
  big[60000] = 'x';
  big[70000] = '\0';
  send_text(c, big); /* 70000 bytes */
  CHECK_EQ(read_close(c, reason, sizeof(reason)), C4J_CLOSE_TOO_BIG);
  CHECK_STR(reason, "message too big");
  ev = wait_event(e, C4J_EV_DROP, "big");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, C4J_CLOSE_TOO_BIG);
  client_close(c);
  free(big);
  free(c);
  finish(e);
}

TEST_MAIN(T(wsconn_connect_open_ping_message_close), T(wsconn_protocol_errors),
          T(wsconn_client_close_codes), T(wsconn_frames_split_anywhere),
          T(wsconn_input_while_closing_ignored),
          T(wsconn_message_over_event_limit))
