/* test-conformance.c - RFC 6455 conformance of the core's WebSocket code,
 * the categories of Autobahn|Testsuite's fuzzingclient (cases 1 to 10,
 * docs/protocol.md section 12) for CI, which cannot reach the testsuite:
 * a real engine in the conformance echo mode (engine.h, c4j__engine_echo)
 * over real sockets, driven by the shared test client.  Framing of text
 * and binary at every length boundary (1.*), pings and pongs (2.*),
 * reserved bits (3.*) and opcodes (4.*), fragmentation with control
 * frames between fragments (5.*), UTF-8 checked as it arrives, not at
 * the end of the message (6.*: fail-fast, so that no case is
 * NON-STRICT), the close handshake and its codes (7.*), big messages in
 * small fragments and many messages in one read (9.*), permessage-deflate
 * negotiated when offered, and not when it is off (12.*, 13.*); and the
 * reach of the hook itself: nothing ticket-less on an engine without it.
 */
#include <ctype.h>
#include <zlib.h>

#include "engine-client.h"
#include "engine.h"

static const uint8_t MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };

static c4j_engine_t *start_echo(void) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  base_config(&cfg);
  cfg.max_frame = 1u << 20;
  cfg.max_message = 1u << 20;
  cfg.max_queue = 8u << 20;
  CHECK_EQ(c4j_engine_new(&cfg, &e), 0);
  if (e == NULL) return NULL;
  CHECK_EQ(c4j__engine_echo(e), 0);
  CHECK_EQ(c4j_engine_start(e), 0);
  CHECK_EQ(c4j__engine_echo(e), C4J_ESTATE); /* only before the start */
  return e;
}

static int open_echo(c4j_engine_t *e, client_t *c) {
  return upgrade(c, c4j_engine_port(e), "/", NULL, 0);
}

/* Sends raw bytes as they are. */
static void send_raw(client_t *c, const void *p, size_t n) {
  CHECK_EQ(send(c->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Sends one frame whose first byte is byte0 (FIN, RSV, opcode as given). */
static void send_byte0(client_t *c, uint8_t byte0, const void *p, size_t n) {
  uint8_t f[256];
  size_t len = c4j_ws_write_masked(f, byte0 & 0x0f, byte0 >> 7, MASK, p, n);
  f[0] = byte0;
  send_raw(c, f, len);
}

/* Expects a close frame with code, then the end of the connection. */
static void expect_close(client_t *c, int code) {
  CHECK_EQ(read_close(c, NULL, 0), code);
  CHECK(wait_eof(c));
}

/* Expects one frame of opcode op carrying exactly p[0..n). */
static void expect_frame(client_t *c, int op, const void *p, size_t n) {
  static char got[1 << 17];
  size_t len = 0;
  CHECK_EQ(read_frame(c, got, sizeof(got), &len), op);
  CHECK_EQ(len, n);
  CHECK(len == n && memcmp(got, p, n) == 0);
}

/* ---- 1.* framing ------------------------------------------------------ */

TEST(conformance_framing_lengths) {
  static const size_t lens[] = { 0, 1, 125, 126, 127, 128, 65535, 65536,
                                 100000 };
  c4j_engine_t *e = start_echo();
  client_t *c = calloc(1, sizeof(*c));
  uint8_t *bin = malloc(100000);
  char *text = malloc(100000);
  if (e == NULL) return;
  for (size_t i = 0; i < 100000; i++) {
    bin[i] = (uint8_t)(i * 7 + (i >> 8)); /* every byte value, NUL too */
    text[i] = (char)('a' + i % 26);
  }
  CHECK_EQ(open_echo(e, c), 101);
  for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
    CHECK_EQ(wsc_send_frame(c, WSC_OP_TEXT, 1, text, lens[k]), 0);
    expect_frame(c, WSC_OP_TEXT, text, lens[k]);
    CHECK_EQ(wsc_send_frame(c, WSC_OP_BINARY, 1, bin, lens[k]), 0);
    expect_frame(c, WSC_OP_BINARY, bin, lens[k]);
  }
  send_frame(c, WSC_OP_CLOSE, "\x03\xe8", 2);
  expect_close(c, 1000);
  client_close(c);
  free(c);
  free(bin);
  free(text);
  finish(e);
}

/* ---- 2.* pings -------------------------------------------------------- */

TEST(conformance_pings) {
  c4j_engine_t *e = start_echo();
  client_t *c = calloc(1, sizeof(*c));
  uint8_t p125[126];
  if (e == NULL) return;
  for (int i = 0; i < 126; i++) p125[i] = (uint8_t)(255 - i);
  CHECK_EQ(open_echo(e, c), 101);
  send_frame(c, WSC_OP_PING, NULL, 0);
  expect_frame(c, WSC_OP_PONG, "", 0);
  send_frame(c, WSC_OP_PING, p125, 125);
  expect_frame(c, WSC_OP_PONG, p125, 125);
  /* An unsolicited pong is no message: nothing comes back for it. */
  send_frame(c, WSC_OP_PONG, "u", 1);
  for (int i = 0; i < 10; i++) send_frame(c, WSC_OP_PING, &i, sizeof(i));
  for (int i = 0; i < 10; i++) expect_frame(c, WSC_OP_PONG, &i, sizeof(i));
  /* A control frame over 125 bytes is a protocol error. */
  send_frame(c, WSC_OP_PING, p125, 126);
  expect_close(c, C4J_CLOSE_PROTOCOL);
  client_close(c);
  free(c);
  finish(e);
}

/* ---- 3.* reserved bits, 4.* opcodes ----------------------------------- */

/* One bad frame after a good text message: the message is echoed, then
 * the close 1002 comes, and nothing after it is echoed. */
static void expect_refused(c4j_engine_t *e, uint8_t byte0) {
  client_t *c = calloc(1, sizeof(*c));
  CHECK_EQ(open_echo(e, c), 101);
  send_text(c, "before");
  send_byte0(c, byte0, "x", 1);
  send_text(c, "after");
  expect_frame(c, WSC_OP_TEXT, "before", 6);
  expect_close(c, C4J_CLOSE_PROTOCOL);
  client_close(c);
  free(c);
}

TEST(conformance_reserved_bits_and_opcodes) {
  c4j_engine_t *e = start_echo();
  if (e == NULL) return;
  /* No extension is negotiated: RSV1, RSV2, RSV3 (on data and control). */
  expect_refused(e, 0x80 | 0x40 | WSC_OP_TEXT);
  expect_refused(e, 0x80 | 0x20 | WSC_OP_BINARY);
  expect_refused(e, 0x80 | 0x10 | WSC_OP_TEXT);
  expect_refused(e, 0x80 | 0x70 | WSC_OP_PING);
  /* Reserved opcodes, data (3-7) and control (0xB-0xF). */
  for (int op = 3; op <= 7; op++) expect_refused(e, (uint8_t)(0x80 | op));
  for (int op = 0xB; op <= 0xF; op++) expect_refused(e, (uint8_t)(0x80 | op));
  finish(e);
}

/* ---- 5.* fragmentation -------------------------------------------------- */

TEST(conformance_fragmentation) {
  c4j_engine_t *e = start_echo();
  client_t *c = calloc(1, sizeof(*c));
  if (e == NULL) return;
  CHECK_EQ(open_echo(e, c), 101);
  /* Pings between the fragments are answered at once, in order, and the
   * message still comes back whole. */
  CHECK_EQ(wsc_send_frame(c, WSC_OP_TEXT, 0, "frag", 4), 0);
  send_frame(c, WSC_OP_PING, "p1", 2);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 0, "men", 3), 0);
  send_frame(c, WSC_OP_PING, "p2", 2);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 1, "ts", 2), 0);
  expect_frame(c, WSC_OP_PONG, "p1", 2);
  expect_frame(c, WSC_OP_PONG, "p2", 2);
  expect_frame(c, WSC_OP_TEXT, "fragments", 9);
  /* Binary in fragments, one of them empty. */
  CHECK_EQ(wsc_send_frame(c, WSC_OP_BINARY, 0, "\x00\x01", 2), 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 0, NULL, 0), 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 1, "\xff", 1), 0);
  expect_frame(c, WSC_OP_BINARY, "\x00\x01\xff", 3);
  /* A message of empty fragments is an empty message. */
  CHECK_EQ(wsc_send_frame(c, WSC_OP_TEXT, 0, NULL, 0), 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 1, NULL, 0), 0);
  expect_frame(c, WSC_OP_TEXT, "", 0);
  send_frame(c, WSC_OP_CLOSE, NULL, 0);
  expect_close(c, 1000);
  client_close(c);

  /* A fragmented ping. */
  CHECK_EQ(open_echo(e, c), 101);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_PING, 0, "a", 1), 0);
  expect_close(c, C4J_CLOSE_PROTOCOL);
  client_close(c);
  /* A continuation that continues nothing. */
  CHECK_EQ(open_echo(e, c), 101);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 1, "a", 1), 0);
  expect_close(c, C4J_CLOSE_PROTOCOL);
  client_close(c);
  /* A new message inside a fragmented one. */
  CHECK_EQ(open_echo(e, c), 101);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_TEXT, 0, "a", 1), 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_BINARY, 1, "b", 1), 0);
  expect_close(c, C4J_CLOSE_PROTOCOL);
  client_close(c);
  free(c);
  finish(e);
}

/* ---- 6.* UTF-8 ---------------------------------------------------------- */

TEST(conformance_utf8) {
  static const char *bad[] = {
    "\xc0\x80",             /* overlong NUL */
    "\xe0\x80\xaf",         /* overlong '/' */
    "\xed\xa0\x80",         /* a surrogate, U+D800 */
    "\xf4\x90\x80\x80",     /* above U+10FFFF */
    "\xff",                 /* never in UTF-8 */
    "\x80",                 /* a lone continuation */
    "ok\xce",               /* cut inside a code point at the end */
  };
  static const char good[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
                             "\xf0\x9f\x98\x80"; /* kosme and an emoji */
  c4j_engine_t *e = start_echo();
  client_t *c = calloc(1, sizeof(*c));
  if (e == NULL) return;
  CHECK_EQ(open_echo(e, c), 101);
  send_text(c, good);
  expect_frame(c, WSC_OP_TEXT, good, sizeof(good) - 1);
  /* A code point split between fragments is fine. */
  CHECK_EQ(wsc_send_frame(c, WSC_OP_TEXT, 0, "\xf0\x9f", 2), 0);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_CONT, 1, "\x98\x80", 2), 0);
  expect_frame(c, WSC_OP_TEXT, "\xf0\x9f\x98\x80", 4);
  client_close(c);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK_EQ(open_echo(e, c), 101);
    send_text(c, bad[i]);
    expect_close(c, C4J_CLOSE_BAD_DATA);
    client_close(c);
  }
  /* Fail fast (the 6.4.* cases): invalid bytes in the first fragment
   * close the connection before the last fragment is even sent. */
  CHECK_EQ(open_echo(e, c), 101);
  CHECK_EQ(wsc_send_frame(c, WSC_OP_TEXT, 0, "\xce\xba\xf4\x90", 4), 0);
  expect_close(c, C4J_CLOSE_BAD_DATA);
  client_close(c);
  /* Even inside one frame whose rest has not arrived yet. */
  CHECK_EQ(open_echo(e, c), 101);
  {
    uint8_t f[64];
    size_t n = c4j_ws_write_masked(f, C4J_WS_OP_TEXT, 1, MASK,
                                   (const uint8_t *)"ab\xffxxxxxxxx", 11);
    send_raw(c, f, n - 8); /* the header, "ab", 0xff and no more */
    expect_close(c, C4J_CLOSE_BAD_DATA);
  }
  client_close(c);
  free(c);
  finish(e);
}

/* ---- 7.* the close handshake --------------------------------------------- */

/* A close frame with payload p[0..n) is answered with code (or, for a
 * protocol error, 1002 / 1007). */
static void close_with(c4j_engine_t *e, const void *p, size_t n, int code) {
  client_t *c = calloc(1, sizeof(*c));
  CHECK_EQ(open_echo(e, c), 101);
  send_frame(c, WSC_OP_CLOSE, p, n);
  /* Nothing more is read after a close: a message now is not echoed. */
  send_text(c, "late");
  expect_close(c, code);
  client_close(c);
  free(c);
}

static void close_code(c4j_engine_t *e, int code, int answer) {
  uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };
  close_with(e, p, 2, answer);
}

TEST(conformance_close) {
  static const int valid[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009,
                               1010, 1011, 3000, 3999, 4000, 4999 };
  static const int invalid[] = { 0, 999, 1004, 1005, 1006, 1015, 1016,
                                 1100, 2000, 2999, 5000, 65535 };
  uint8_t r[2 + 123];
  c4j_engine_t *e = start_echo();
  if (e == NULL) return;
  close_with(e, NULL, 0, 1000); /* no code: answered 1000 */
  close_with(e, "\x03", 1, C4J_CLOSE_PROTOCOL); /* half a code */
  for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
    close_code(e, valid[i], valid[i]);
  for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
    close_code(e, invalid[i], C4J_CLOSE_PROTOCOL);
  /* The longest reason, and a reason that is not UTF-8. */
  r[0] = 0x03, r[1] = 0xe8;
  memset(r + 2, 'r', 123);
  close_with(e, r, sizeof(r), 1000);
  close_with(e, "\x03\xe8\xce\xba\xf4\x90", 6, C4J_CLOSE_BAD_DATA);
  finish(e);
}

/* ---- 9.* limits and throughput -------------------------------------------- */

TEST(conformance_big_and_many) {
  enum { BIG = 100 * 1024, FRAG = 64, MANY = 1000 };
  c4j_engine_t *e = start_echo();
  client_t *c = calloc(1, sizeof(*c));
  uint8_t *big = malloc(BIG), *out = malloc(MANY * 16);
  size_t at = 0;
  if (e == NULL) return;
  for (size_t i = 0; i < BIG; i++) big[i] = (uint8_t)(i ^ (i >> 7));
  CHECK_EQ(open_echo(e, c), 101);
  /* 100 KiB in 64-byte fragments: 1600 of them, joined. */
  for (size_t off = 0; off < BIG; off += FRAG)
    CHECK_EQ(wsc_send_frame(c, off == 0 ? WSC_OP_BINARY : WSC_OP_CONT,
                            off + FRAG >= BIG, big + off, FRAG), 0);
  expect_frame(c, WSC_OP_BINARY, big, BIG);
  /* A thousand small messages in a few writes come back in order. */
  for (int i = 0; i < MANY; i++) {
    char m[8];
    int n = snprintf(m, sizeof(m), "%d", i);
    at += c4j_ws_write_masked(out + at, C4J_WS_OP_TEXT, 1, MASK,
                              (const uint8_t *)m, (size_t)n);
  }
  send_raw(c, out, at);
  for (int i = 0; i < MANY; i++) {
    char m[8];
    int n = snprintf(m, sizeof(m), "%d", i);
    expect_frame(c, WSC_OP_TEXT, m, (size_t)n);
  }
  send_frame(c, WSC_OP_CLOSE, "\x03\xe8", 2);
  expect_close(c, 1000);
  client_close(c);
  free(c);
  free(big);
  free(out);
  finish(e);
}

/* ---- 12.*, 13.*: permessage-deflate ------------------------------------------ */

static int offer(c4j_engine_t *e, client_t *c, const char *ext, char *head,
                 size_t cap);

/* The echo's upgrade with the offer the suite's cases 12 make; the 101's
 * head in lower case into head.  Returns the status. */
static int offer_deflate(c4j_engine_t *e, client_t *c, char *head,
                         size_t cap) {
  return offer(e, c, "permessage-deflate; client_no_context_takeover; "
                     "client_max_window_bits, x-webkit-deflate-frame",
               head, cap);
}

/* The same with the offer ext. */
static int offer(c4j_engine_t *e, client_t *c, const char *ext, char *head,
                 size_t cap) {
  char extra[512];
  const char *end;
  size_t n;
  int status;
  snprintf(extra, sizeof(extra),
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Extensions: %s\r\n", ext);
  status = http(c, c4j_engine_port(e), "GET", "/", extra, NULL, "\r\n\r\n");
  end = strstr((char *)c->buf, "\r\n\r\n");
  CHECK(end != NULL);
  if (end == NULL) return -1;
  n = (size_t)(end + 4 - (char *)c->buf);
  for (size_t i = 0; i < n && i < cap - 1; i++)
    head[i] = (char)tolower(c->buf[i]);
  head[n < cap - 1 ? n : cap - 1] = '\0';
  CHECK(strstr(head, "sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=") !=
        NULL);
  consume(c, n);
  return status;
}

/* A client that offers the extension (as the suite's cases 12 and 13 do)
 * gets it: the 101 names it, a compressed message (RSV1) comes back
 * compressed, a short one plain; RSV1 on a control frame is a protocol
 * error.  test-deflate.c tests the rest; Autobahn's cases 12 and 13 run
 * against c4j-echo (docs/protocol.md section 12). */
TEST(conformance_deflate_negotiated) {
  c4j_engine_t *e = start_echo();
  client_t *c = calloc(1, sizeof(*c));
  char head[2048];
  /* "Hello, world" * 8, raw deflate without the 00 00 ff ff tail (zlib,
   * level 6, sync flush). */
  static const uint8_t hello[] = {
    0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0x28, 0xcf, 0x2f, 0xca, 0x49,
    0xf1, 0xa0, 0x01, 0x1b, 0x00 };
  uint8_t out[256];
  size_t n;
  if (e == NULL) return;
  CHECK_EQ(offer_deflate(e, c, head, sizeof(head)), 101);
  CHECK(strstr(head, "sec-websocket-extensions: permessage-deflate; "
                     "server_no_context_takeover; "
                     "client_no_context_takeover\r\n") != NULL);
  send_byte0(c, 0x80 | 0x40 | WSC_OP_TEXT, hello, sizeof(hello));
  /* The echo: 96 bytes, compressed again by the server (RSV1). */
  for (;;) {
    wsc_frame_t f;
    long k = wsc_frame_parse(c->buf, c->len, &f);
    CHECK(k >= 0);
    if (k < 0) goto out;
    if (k > 0) {
      uint8_t in[256];
      z_stream z;
      CHECK_EQ(c->buf[0], 0x80 | 0x40 | WSC_OP_TEXT);
      CHECK(f.len < 96 && f.len + 4 <= sizeof(in));
      memcpy(in, f.data, (size_t)f.len);
      memcpy(in + f.len, "\0\0\xff\xff", 4); /* the tail back */
      memset(&z, 0, sizeof(z));
      inflateInit2(&z, -15);
      z.next_in = in;
      z.avail_in = (uInt)f.len + 4;
      z.next_out = out;
      z.avail_out = sizeof(out);
      CHECK_EQ(inflate(&z, Z_SYNC_FLUSH), Z_OK);
      n = sizeof(out) - z.avail_out;
      inflateEnd(&z);
      CHECK_EQ(n, 96);
      for (size_t i = 0; i < n; i += 12)
        CHECK(memcmp(out + i, "Hello, world", 12) == 0);
      consume(c, (size_t)k);
      break;
    }
    if (fill(c) <= 0) {
      CHECK(0);
      goto out;
    }
  }
  send_text(c, "Hello, world"); /* short: echoed plain */
  expect_frame(c, WSC_OP_TEXT, "Hello, world", 12);
  send_byte0(c, 0x80 | 0x40 | WSC_OP_PING, "", 0); /* a compressed ping */
  expect_close(c, C4J_CLOSE_PROTOCOL);
  client_close(c);
  /* The longest answer (13.4, 13.6: server_max_window_bits=15 named). */
  CHECK_EQ(offer(e, c, "permessage-deflate; client_no_context_takeover; "
                       "client_max_window_bits; server_max_window_bits=15",
                 head, sizeof(head)), 101);
  CHECK(strstr(head, "client_no_context_takeover; "
                     "server_max_window_bits=15\r\n") != NULL);
out:
  client_close(c);
  free(c);
  finish(e);
}

/* With it off (Comet.Deflate false) the offer is ignored: a 101 that
 * names no extension, frames echoed as they are, RSV1 a protocol error. */
TEST(conformance_deflate_off) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  client_t *c = calloc(1, sizeof(*c));
  char head[2048];
  base_config(&cfg);
  cfg.deflate = 0;
  CHECK_EQ(c4j_engine_new(&cfg, &e), 0);
  if (e == NULL) return;
  CHECK_EQ(c4j__engine_echo(e), 0);
  CHECK_EQ(c4j_engine_start(e), 0);
  CHECK_EQ(offer_deflate(e, c, head, sizeof(head)), 101);
  CHECK(strstr(head, "sec-websocket-extensions") == NULL);
  CHECK(strstr(head, "deflate") == NULL);
  send_text(c, "Hello, world");
  expect_frame(c, WSC_OP_TEXT, "Hello, world", 12);
  send_byte0(c, 0x80 | 0x40 | WSC_OP_TEXT, "x", 1); /* RSV1: compressed */
  expect_close(c, C4J_CLOSE_PROTOCOL);
  client_close(c);
  free(c);
  finish(e);
}

/* ---- The hook's reach ------------------------------------------------------- */

/* Without the hook "/" is no endpoint; with it, the other paths still ask
 * for a ticket, and an echo connection makes no event. */
TEST(conformance_hook_is_test_only) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  if (e == NULL) return;
  CHECK_EQ(upgrade(c, c4j_engine_port(e), "/", NULL, 0), 404);
  client_close(c);
  CHECK_EQ(upgrade(c, c4j_engine_port(e), "/?ticket=x", NULL, 0), 404);
  client_close(c);
  finish(e);

  e = start_echo();
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(upgrade(c, c4j_engine_port(e), "/ws", NULL, 0), 401);
  client_close(c);
  CHECK_EQ(upgrade(c, c4j_engine_port(e), "/?agent=x&case=1", NULL, 0), 101);
  send_text(c, "{\"t\":\"ping\"}"); /* echoed, not answered */
  expect_frame(c, WSC_OP_TEXT, "{\"t\":\"ping\"}", 12);
  send_frame(c, WSC_OP_CLOSE, NULL, 0);
  expect_close(c, 1000);
  client_close(c);
  pump(e, 100);
  for (int i = 0; i < nevents; i++)
    CHECK(events[i].type != C4J_EV_CONNECT && events[i].type != C4J_EV_DROP &&
          events[i].type != C4J_EV_MESSAGE);
  /* A plain GET of "/" is no upgrade. */
  CHECK_EQ(http(c, c4j_engine_port(e), "GET", "/", NULL, NULL, "\r\n\r\n"),
           426);
  close(c->fd);
  free(c);
  finish(e);
}

TEST_MAIN(T(conformance_framing_lengths), T(conformance_pings),
          T(conformance_reserved_bits_and_opcodes),
          T(conformance_fragmentation), T(conformance_utf8),
          T(conformance_close), T(conformance_big_and_many),
          T(conformance_deflate_negotiated), T(conformance_deflate_off),
          T(conformance_hook_is_test_only))
