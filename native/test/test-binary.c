/* test-binary.c - binary messages (docs/protocol.md section 11) through a
 * real engine over real sockets: c4j_send_all_binary, _to_ and _user_ on
 * WebSocket (one binary frame: u16 head length, the JSON head, the
 * bytes), SSE and long-poll (the head with "b64"), every byte value and
 * every base64 padding; the replay of binary broadcasts from the history
 * on every transport, in offset order among JSON ones; binary sendTo
 * frames kept by a dying identity; a client's binary messages to the
 * embedder (C4J_EV_BINARY, whole and unchanged, past the 65535 bytes of a
 * text event); and the sends' refusals.
 */
#include "engine-client.h"

/* Standard base64 with padding, written here apart from the core's. */
static void b64(const uint8_t *p, size_t n, char *out) {
  static const char a[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    out[o++] = a[v >> 18];
    out[o++] = a[(v >> 12) & 63];
    out[o++] = i + 1 < n ? a[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? a[v & 63] : '=';
  }
  out[o] = '\0';
}

/* n bytes of every value, NUL and quote and newline among them. */
static void pattern(uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + seed + (i >> 8));
}

/* Reads one frame and checks that it is the binary message frame of
 * bytes p[0..n) with the JSON head `head`. */
static void expect_binary(client_t *c, const char *head, const void *p,
                          size_t n) {
  static char got[1 << 17];
  size_t len = 0, hlen;
  int op;
  do op = read_frame(c, got, sizeof(got), &len);
  while (op == WSC_OP_PING);
  CHECK_EQ(op, WSC_OP_BINARY);
  if (op != WSC_OP_BINARY || len < 2) return;
  hlen = (size_t)(uint8_t)got[0] << 8 | (uint8_t)got[1];
  CHECK_EQ(hlen, strlen(head));
  CHECK(hlen <= len - 2 && memcmp(got + 2, head, strlen(head)) == 0);
  if (hlen != strlen(head) || memcmp(got + 2, head, hlen) != 0)
    fprintf(stderr, "  head: %.*s\n", (int)(hlen < len ? hlen : 0), got + 2);
  CHECK_EQ(len - 2 - hlen, n);
  CHECK(len - 2 - hlen == n && memcmp(got + 2 + hlen, p, n) == 0);
}

/* Reads an HTTP stream until `want` appears in it (or 5 s pass). */
static int stream_until(client_t *c, const char *want) {
  for (int i = 0; i < 100; i++) {
    c->buf[c->len] = '\0';
    if (strstr((char *)c->buf, want)) return 1;
    if (fill(c) <= 0) break;
  }
  c->buf[c->len] = '\0';
  return strstr((char *)c->buf, want) != NULL;
}

static int open_sse(c4j_engine_t *e, client_t *c, const char *cid,
                    const char *since) {
  char ticket[2048], target[3000];
  mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/sse?ticket=%s%s%s", ticket,
           since ? "&since=" : "", since ? since : "");
  return http(c, c4j_engine_port(e), "GET", target, NULL, NULL,
              "\"t\":\"open\"");
}

static int poll_once(c4j_engine_t *e, client_t *c, const char *cid,
                     const char *since) {
  char ticket[2048], target[3000];
  int rc;
  mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s%s%s", ticket,
           since ? "&since=" : "", since ? since : "");
  rc = http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL);
  close(c->fd);
  return rc;
}

/* since = {"news":[epoch, off]}, URL-encoded. */
static void since_of(const char *epoch, uint64_t off, char *out, size_t cap) {
  snprintf(out, cap, "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C%" PRIu64
           "%%5D%%7D", epoch, off);
}

/* The epoch of channel "news" from an open frame's pos. */
static void epoch_of(const char *text, char epoch[9]) {
  const char *p = strstr(text, "\"news\":[\"");
  epoch[0] = '\0';
  if (p == NULL) return;
  memcpy(epoch, p + 9, 8);
  epoch[8] = '\0';
}

/* ---- Sends ------------------------------------------------------------- */

TEST(binary_send_all_on_every_transport) {
  static const size_t lens[] = { 5, 0, 1, 2, 3, 70000 };
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *ws = calloc(1, sizeof(*ws)), *sse = calloc(1, sizeof(*sse));
  client_t *lp = calloc(1, sizeof(*lp));
  uint8_t *bytes = malloc(70000);
  char *enc = malloc(100000), *want = malloc(100200), text[512];
  char epoch[9] = "", head[256];
  base_config(&cfg);
  cfg.history_size = 10;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach(e, ws, "bw", "[\"news\"]"), 101);
  CHECK_EQ(read_text(ws, text, sizeof(text)), 0);
  epoch_of(text, epoch);
  CHECK_EQ(strlen(epoch), 8);
  CHECK_EQ(open_sse(e, sse, "bs", NULL), 200);
  CHECK_EQ(poll_once(e, lp, "bp", NULL), 200); /* open; parked after */

  for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
    size_t n = lens[k];
    pattern(bytes, n, (unsigned)k);
    if (n == 5) memcpy(bytes, "\x00\x01\xff\n\"", 5);
    CHECK_EQ(c4j_send_all_binary(e, "news", 4, bytes, n, 7), 0);
    snprintf(head, sizeof(head),
             "{\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\",\"o\":%zu,"
             "\"time\":7}", epoch, k + 1);
    expect_binary(ws, head, bytes, n);
    b64(bytes, n, enc);
    if (n == 5) CHECK_STR(enc, "AAH/CiI=");
    snprintf(want, 100200,
             "data: {\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\",\"o\":%zu,"
             "\"time\":7,\"b64\":\"%s\"}\n\n", epoch, k + 1, enc);
    CHECK(stream_until(sse, want));
    /* The poll that continues the parked one gets it from the history. */
    CHECK_EQ(poll_once(e, lp, "bp", NULL), 200);
    snprintf(want, 100200,
             "[{\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\",\"o\":%zu,"
             "\"time\":7,\"b64\":\"%s\"}]", epoch, k + 1, enc);
    CHECK_STR(body_of(lp), want);
  }
  client_close(ws);
  client_close(sse);
  free(ws);
  free(sse);
  free(lp);
  free(bytes);
  free(enc);
  free(want);
  finish(e);
}

/* sendTo and sendToUser: no offset; the HTTP transports get them too. */
TEST(binary_send_to_and_user) {
  c4j_engine_t *e = start_default();
  client_t *ws = calloc(1, sizeof(*ws)), *lp = calloc(1, sizeof(*lp));
  char text[512], enc[64];
  static const uint8_t bytes[] = { 0, 0, 0, 'x', 0x80, 0xfe };
  if (e == NULL) return;
  CHECK_EQ(attach_user(e, ws, "tw", "alice", "[]"), 101);
  CHECK_EQ(read_text(ws, text, sizeof(text)), 0);
  CHECK_EQ(c4j_send_to_binary(e, "tw", 2, "direct", 6, bytes, 6, 5), 0);
  expect_binary(ws, "{\"t\":\"msg\",\"ch\":\"direct\",\"time\":5}", bytes, 6);
  CHECK_EQ(c4j_send_user_binary(e, "alice", 5, "u", 1, bytes, 3, 6), 0);
  expect_binary(ws, "{\"t\":\"msg\",\"ch\":\"u\",\"time\":6}", bytes, 3);
  /* JSON still goes as text, between binary ones, in order. */
  CHECK_EQ(c4j_send_to(e, "tw", 2, "direct", 6, "[1]", 3, 7), 0);
  CHECK_EQ(c4j_send_to_binary(e, "tw", 2, "direct", 6, NULL, 0, 8), 0);
  CHECK_EQ(read_text(ws, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"direct\",\"data\":[1],\"time\":7}");
  expect_binary(ws, "{\"t\":\"msg\",\"ch\":\"direct\",\"time\":8}", "", 0);
  client_close(ws);

  /* A parked long-poll keeps it for its next poll. */
  CHECK_EQ(poll_once(e, lp, "tp", NULL), 200);
  CHECK_EQ(c4j_send_to_binary(e, "tp", 2, "direct", 6, bytes, 6, 9), 0);
  CHECK_EQ(poll_once(e, lp, "tp", NULL), 200);
  b64(bytes, 6, enc);
  CHECK_STR(enc, "AAAAeID+");
  CHECK_STR(body_of(lp), "[{\"t\":\"msg\",\"ch\":\"direct\",\"time\":9,"
                         "\"b64\":\"AAAAeID+\"}]");
  free(ws);
  free(lp);
  finish(e);
}

/* ---- History and resume -------------------------------------------------- */

/* Four broadcasts while nobody listens, binary and JSON by turns; then a
 * page resumes from before them on each transport and gets all four in
 * offset order, each in its own form, then recovered:true. */
TEST(binary_resume_on_every_transport) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], epoch[9] = "", since[160], want[512], enc[16];
  static const uint8_t one[] = { 1, 0, 1 }, three[] = { 3, 3, 0, 3 };
  base_config(&cfg);
  cfg.history_size = 10;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach(e, c, "r0", "[\"news\"]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  epoch_of(text, epoch);
  client_close(c);
  CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":0}", 7, 1), 0);
  CHECK_EQ(c4j_send_all_binary(e, "news", 4, one, 3, 1), 0);
  CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":2}", 7, 1), 0);
  CHECK_EQ(c4j_send_all_binary(e, "news", 4, three, 4, 1), 0);
  since_of(epoch, 0, since, sizeof(since));

  /* WebSocket. */
  {
    char ticket[2048], target[3000], head[128];
    mint(e, "rw", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
    snprintf(target, sizeof(target), "/ws?ticket=%s&since=%s", ticket,
             since);
    CHECK_EQ(upgrade(c, c4j_engine_port(e), target, NULL, 0), 101);
    CHECK_EQ(read_text(c, text, sizeof(text)), 0); /* open */
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    snprintf(want, sizeof(want), "{\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\","
             "\"o\":1,\"data\":{\"k\":0},\"time\":1}", epoch);
    CHECK_STR(text, want);
    snprintf(head, sizeof(head), "{\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\","
             "\"o\":2,\"time\":1}", epoch);
    expect_binary(c, head, one, 3);
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    CHECK(strstr(text, "\"o\":3,\"data\":{\"k\":2}") != NULL);
    snprintf(head, sizeof(head), "{\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\","
             "\"o\":4,\"time\":1}", epoch);
    expect_binary(c, head, three, 4);
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    CHECK_STR(text, "{\"t\":\"recovered\",\"ch\":\"news\",\"recovered\":true}");
    client_close(c);
  }
  /* SSE. */
  CHECK_EQ(open_sse(e, c, "rs", since), 200);
  CHECK(stream_until(c, "\"recovered\":true}\n\n"));
  b64(three, 4, enc);
  snprintf(want, sizeof(want),
           "\"o\":1,\"data\":{\"k\":0},\"time\":1}\n\n"
           "data: {\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\",\"o\":2,"
           "\"time\":1,\"b64\":\"AQAB\"}\n\n"
           "data: {\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\",\"o\":3,"
           "\"data\":{\"k\":2},\"time\":1}\n\n"
           "data: {\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\",\"o\":4,"
           "\"time\":1,\"b64\":\"%s\"}\n\n"
           "data: {\"t\":\"recovered\"", epoch, epoch, epoch, enc);
  CHECK(strstr((char *)c->buf, want) != NULL);
  client_close(c);
  /* Long-poll. */
  CHECK_EQ(poll_once(e, c, "rp", since), 200);
  snprintf(want, sizeof(want),
           "\"o\":2,\"time\":1,\"b64\":\"AQAB\"},{\"t\":\"msg\",\"ch\":\"news\","
           "\"e\":\"%s\",\"o\":3,\"data\":{\"k\":2},\"time\":1},{\"t\":\"msg\","
           "\"ch\":\"news\",\"e\":\"%s\",\"o\":4,\"time\":1,\"b64\":\"AwMAAw==\"},"
           "{\"t\":\"recovered\",\"ch\":\"news\",\"recovered\":true}]",
           epoch, epoch);
  CHECK(strstr(body_of(c), want) != NULL);
  free(c);
  finish(e);
}

/* A binary sendTo to a dying identity is kept and comes after the open
 * frame when it revives. */
TEST(binary_kept_while_dying) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  static const uint8_t bytes[] = { 0xde, 0xad, 0, 0xbe, 0xef };
  base_config(&cfg);
  cfg.conn_expires_ms = 5000;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, c, "dy", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "dy") != NULL);
  client_close(c); /* EOF: the transport is lost */
  CHECK(wait_event(e, C4J_EV_DYING, "dy") != NULL);
  CHECK_EQ(c4j_send_to_binary(e, "dy", 2, "k", 1, bytes, 5, 3), 0);
  CHECK_EQ(attach(e, c, "dy", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strncmp(text, "{\"t\":\"open\"", 11) == 0);
  expect_binary(c, "{\"t\":\"msg\",\"ch\":\"k\",\"time\":3}", bytes, 5);
  CHECK(wait_event(e, C4J_EV_REVIVAL, "dy") != NULL);
  client_close(c);
  free(c);
  finish(e);
}

/* ---- From the client ------------------------------------------------------- */

TEST(binary_from_the_client) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  uint8_t *big = malloc(200000);
  char text[512];
  event_t *ev;
  base_config(&cfg);
  cfg.max_frame = 200000;
  cfg.max_message = 200000;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  pattern(big, 200000, 9);
  CHECK_EQ(attach(e, c, "cb", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  /* Small, empty, and bigger than a text event may be (65535). */
  CHECK_EQ(wsc_send_frame(c, WSC_OP_BINARY, 1, "\x00\x02\x7b\x7d\x00", 5), 0);
  ev = wait_event(e, C4J_EV_BINARY, "cb");
  CHECK(ev != NULL);
  if (ev) {
    CHECK_EQ(ev->len, 5);
    CHECK(memcmp(ev->text, "\x00\x02\x7b\x7d\x00", 5) == 0);
  }
  CHECK_EQ(wsc_send_frame(c, WSC_OP_BINARY, 1, NULL, 0), 0);
  ev = wait_event(e, C4J_EV_BINARY, "cb");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->len, 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_BINARY, 1, big, 200000), 0);
  ev = wait_event(e, C4J_EV_BINARY, "cb");
  CHECK(ev != NULL);
  if (ev) {
    CHECK_EQ(ev->len, 200000);
    CHECK_EQ(ev->id, fnv1a(big, 200000));
  }
  /* In fragments, joined. */
  CHECK_EQ(wsc_send_frame(c, WSC_OP_BINARY, 0, big, 1000), 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 0, big + 1000, 1000), 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 1, big + 2000, 500), 0);
  ev = wait_event(e, C4J_EV_BINARY, "cb");
  CHECK(ev != NULL);
  if (ev) {
    CHECK_EQ(ev->len, 2500);
    CHECK_EQ(ev->id, fnv1a(big, 2500));
  }
  /* The connection lives on: no 1003 any more. */
  send_text(c, "{\"t\":\"ping\"}");
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"pong\"}");
  pump(e, 50);
  for (int i = 0; i < nevents; i++) CHECK(events[i].type != C4J_EV_DROP);
  client_close(c);
  free(c);
  free(big);
  finish(e);
}

/* ---- Refusals ---------------------------------------------------------------- */

TEST(binary_send_errors) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  uint8_t *bytes = calloc(1, 4096);
  base_config(&cfg);
  cfg.max_queue = 4096;
  e = start(&cfg);
  if (e == NULL) return;
  /* JSON cannot pass for binary, nor the reverse. */
  CHECK_EQ(c4j_send_all(e, "news", 4, "\0{}", 3, 0), C4J_EBADJSON);
  CHECK_EQ(c4j_send_to(e, "x", 1, "news", 4, "\0", 1, 0), C4J_EBADJSON);
  CHECK_EQ(c4j_send_user(e, "u", 1, "news", 4, "\0", 1, 0), C4J_EBADJSON);
  CHECK_EQ(c4j_send_all_binary(e, "news", 4, NULL, 3, 0), UV_EINVAL);
  CHECK_EQ(c4j_send_all_binary(e, "news", 4, NULL, 0, 0), 0);
  CHECK_EQ(c4j_send_all_binary(e, "bad name", 8, bytes, 1, 0), C4J_EBADNAME);
  CHECK_EQ(c4j_send_to_binary(e, "", 0, "news", 4, bytes, 1, 0), C4J_EBADNAME);
  CHECK_EQ(c4j_send_user_binary(e, "", 0, "news", 4, bytes, 1, 0),
           C4J_EBADNAME);
  CHECK_EQ(c4j_send_all_binary(NULL, "news", 4, bytes, 1, 0), C4J_ESTATE);
  /* Both forms must fit max_queue: 2800 bytes do (3736 in base64), 3300
   * do as they are but not in base64 (4400). */
  CHECK_EQ(c4j_send_all_binary(e, "news", 4, bytes, 2800, 0), 0);
  CHECK_EQ(c4j_send_all_binary(e, "news", 4, bytes, 3300, 0), C4J_ETOOBIG);
  CHECK_EQ(c4j_send_to_binary(e, "x", 1, "news", 4, bytes, 3300, 0),
           C4J_ETOOBIG);
  /* The local refusal reaches the caller, JSON too (route.c answered 0
   * whenever the hub was not asked). */
  memset(bytes, 'x', 4096);
  bytes[0] = bytes[4095] = '"';
  CHECK_EQ(c4j_send_to(e, "x", 1, "news", 4, (const char *)bytes, 4096, 0),
           C4J_ETOOBIG);
  CHECK_EQ(c4j_send_frame(e, "x", 1, "{\"t\":1}", 7), 0);
  finish(e);
  free(bytes);
}

TEST_MAIN(T(binary_send_all_on_every_transport), T(binary_send_to_and_user),
          T(binary_resume_on_every_transport), T(binary_kept_while_dying),
          T(binary_from_the_client), T(binary_send_errors))
