/* test-ws.c - unit tests of the RFC 6455 frame parser and encoders. */
#include "test.h"
#include "ws.h"
#include "c4j.h"

#include <stdlib.h>

/* What the callbacks saw, as text: "T:hello;" for a text message, "B:3;"
 * for a binary one (its length), "P:x;" ping, "O:x;" pong, "C:1000:x;"
 * close. */
typedef struct {
  char log[1 << 17];
  size_t len;
  int stop;                 /* callbacks return this */
  const uint8_t *last_data; /* where the last message's bytes were */
} rec_t;

static void add(rec_t *r, const char *s, size_t n) {
  if (r->len + n >= sizeof(r->log)) n = sizeof(r->log) - 1 - r->len;
  memcpy(r->log + r->len, s, n);
  r->len += n;
  r->log[r->len] = 0;
}

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *d,
                      size_t n) {
  rec_t *r = p->data;
  char tmp[32];
  r->last_data = d;
  if (op == C4J_WS_OP_TEXT) {
    add(r, "T:", 2);
    add(r, (const char *)d, n);
  } else {
    snprintf(tmp, sizeof(tmp), "B:%zu", n);
    add(r, tmp, strlen(tmp));
  }
  add(r, ";", 1);
  return r->stop;
}

static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *d,
                      size_t n) {
  rec_t *r = p->data;
  add(r, op == C4J_WS_OP_PING ? "P:" : "O:", 2);
  add(r, (const char *)d, n);
  add(r, ";", 1);
  return r->stop;
}

static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *d,
                    size_t n) {
  rec_t *r = p->data;
  char tmp[32];
  snprintf(tmp, sizeof(tmp), "C:%d:", code);
  add(r, tmp, strlen(tmp));
  add(r, (const char *)d, n);
  add(r, ";", 1);
  return r->stop;
}

static const c4j_ws_callbacks_t cbs = { on_message, on_control, on_close };
static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

static rec_t rec;
static c4j_ws_parser_t parser;

static void setup(size_t max_frame, size_t max_message) {
  memset(&rec, 0, sizeof(rec));
  c4j_ws_parser_init(&parser, &cbs, max_frame, max_message);
  parser.data = &rec;
}

/* Appends a masked frame to out; returns the new length. */
static size_t frame(uint8_t *out, size_t at, int op, int fin,
                    const char *payload) {
  return at + c4j_ws_write_masked(out + at, op, fin, mask,
                                  (const uint8_t *)payload, strlen(payload));
}

/* Feeds in as chunks cut at the given offsets (ascending, ending with n).
 * Returns 0 or the error code. */
static int feed_cuts(const uint8_t *in, size_t n, const size_t *cuts,
                     size_t ncuts) {
  size_t at = 0, i;
  for (i = 0; i < ncuts; i++) {
    long rc = c4j_ws_feed(&parser, in + at, cuts[i] - at);
    if (rc < 0) return parser.error_code;
    if ((size_t)rc != cuts[i] - at) return -1;
    at = cuts[i];
  }
  return 0;
}

/* Runs in through a fresh parser whole, byte by byte, and split in two at
 * every offset; each run must log `want` and end with error `err`. */
static void check_splits(const uint8_t *in, size_t n, const char *want,
                         int err, size_t max) {
  size_t cuts[2], i, j;
  setup(max, max);
  cuts[0] = n;
  CHECK_EQ(feed_cuts(in, n, cuts, 1), err);
  CHECK_STR(rec.log, want);
  c4j_ws_parser_free(&parser);

  setup(max, max);
  for (i = 0; i < n; i++) {
    long rc = c4j_ws_feed(&parser, in + i, 1);
    if (rc < 0) break;
  }
  CHECK_EQ(i < n ? parser.error_code : 0, err);
  CHECK_STR(rec.log, want);
  c4j_ws_parser_free(&parser);

  for (j = 0; j <= n; j++) {
    setup(max, max);
    cuts[0] = j;
    cuts[1] = n;
    if (feed_cuts(in, n, cuts, 2) != err || strcmp(rec.log, want) != 0) {
      fprintf(stderr, "  split at %zu: log \"%s\" error %d\n", j, rec.log,
              parser.error_code);
      CHECK(0);
    }
    c4j_ws_parser_free(&parser);
  }
}

static int utf8_ok(const char *s, size_t n) {
  c4j_utf8_t u = { 0 };
  return c4j_utf8_feed(&u, (const uint8_t *)s, n) == 0 &&
         c4j_utf8_complete(&u);
}

TEST(utf8_validator) {
  c4j_utf8_t u = { 0 };
  CHECK(utf8_ok("", 0));
  CHECK(utf8_ok("plain ascii text, longer than eight bytes", 41));
  CHECK(utf8_ok("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
  CHECK(utf8_ok("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", 10));
  CHECK(!utf8_ok("\xc0\x80", 2));             /* overlong NUL */
  CHECK(!utf8_ok("\xc1\xbf", 2));             /* overlong */
  CHECK(!utf8_ok("\xe0\x80\x80", 3));         /* overlong */
  CHECK(!utf8_ok("\xf0\x80\x80\x80", 4));     /* overlong */
  CHECK(!utf8_ok("\xed\xa0\x80", 3));         /* surrogate D800 */
  CHECK(!utf8_ok("\xed\xbf\xbf", 3));         /* surrogate DFFF */
  CHECK(!utf8_ok("\xf4\x90\x80\x80", 4));     /* above U+10FFFF */
  CHECK(!utf8_ok("\xf5\x80\x80\x80", 4));
  CHECK(!utf8_ok("\xff", 1));
  CHECK(!utf8_ok("\x80", 1));                 /* lone continuation */
  CHECK(!utf8_ok("\xe2\x82", 2));             /* truncated */
  CHECK(!utf8_ok("abcdefgh\xe2\x28\xa1", 11));
  /* Split in the middle of a code point. */
  CHECK_EQ(c4j_utf8_feed(&u, (const uint8_t *)"ab\xf0\x9f", 4), 0);
  CHECK(!c4j_utf8_complete(&u));
  CHECK_EQ(c4j_utf8_feed(&u, (const uint8_t *)"\x98", 1), 0);
  CHECK_EQ(c4j_utf8_feed(&u, (const uint8_t *)"\x80z", 2), 0);
  CHECK(c4j_utf8_complete(&u));
  CHECK_EQ(c4j_utf8_feed(&u, (const uint8_t *)"\xc3(", 2), -1);
  /* Rejection is sticky. */
  CHECK_EQ(c4j_utf8_feed(&u, (const uint8_t *)"a", 1), -1);
}

TEST(accept_key) {
  char out[29];
  CHECK_EQ(c4j_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0);
  CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK_EQ(c4j_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", 23, out), -1);
  CHECK_EQ(c4j_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", 25, out), -1);
  CHECK_EQ(c4j_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ.=", 24, out), -1);
  CHECK_EQ(c4j_ws_accept_key("dGhlIHNhbXBsZSBub25j*Q==", 24, out), -1);
  CHECK_EQ(c4j_ws_accept_key("dGhlIHNhbXBsZSBub25jZQAA", 24, out), -1);
}

TEST(masked_text_every_split) {
  uint8_t in[64];
  size_t n = frame(in, 0, C4J_WS_OP_TEXT, 1, "Hello");
  CHECK_EQ(n, 11);
  check_splits(in, n, "T:Hello;", 0, 1000);
  n = frame(in, 0, C4J_WS_OP_TEXT, 1, "");
  check_splits(in, n, "T:;", 0, 1000);
  n = frame(in, 0, C4J_WS_OP_BINARY, 1, "abc");
  n = frame(in, n, C4J_WS_OP_PING, 1, "hb");
  n = frame(in, n, C4J_WS_OP_PONG, 1, "");
  n = frame(in, n, C4J_WS_OP_TEXT, 1, "caf\xc3\xa9");
  n = frame(in, n, C4J_WS_OP_CLOSE, 1, "\x03\xe8" "bye");
  check_splits(in, n, "B:3;P:hb;O:;T:caf\xc3\xa9;C:1000:bye;", 0, 1000);
}

TEST(unmasked_frame) {
  /* The RFC 6455 example of an unmasked "Hello". */
  static const uint8_t in[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
  check_splits(in, sizeof(in), "", C4J_CLOSE_PROTOCOL, 1000);
  setup(1000, 1000);
  parser.require_mask = 0;
  CHECK_EQ(c4j_ws_feed(&parser, in, sizeof(in)), sizeof(in));
  CHECK_STR(rec.log, "T:Hello;");
  /* Delivered straight from the caller's buffer. */
  CHECK(rec.last_data == in + 2);
  CHECK(parser.msg == NULL);
  /* Split, it is copied. */
  setup(1000, 1000);
  parser.require_mask = 0;
  CHECK_EQ(c4j_ws_feed(&parser, in, 4), 4);
  CHECK_EQ(c4j_ws_feed(&parser, in + 4, 3), 3);
  CHECK_STR(rec.log, "T:Hello;");
  CHECK(rec.last_data != in + 2);
  CHECK(parser.msg == NULL);
}

TEST(extended_lengths) {
  static uint8_t in[140000];
  static char text[70001], want[210];
  size_t n;
  memset(text, 'x', 70000);
  text[200] = 0;
  n = frame(in, 0, C4J_WS_OP_TEXT, 1, text);
  CHECK_EQ(n, 200 + 4 + 4);
  CHECK_EQ(in[1], 0x80 | 126);
  snprintf(want, sizeof(want), "T:%.200s;", text);
  check_splits(in, n, want, 0, 1000);
  text[200] = 'x';
  n = frame(in, 0, C4J_WS_OP_BINARY, 1, text);
  CHECK_EQ(n, 70000 + 10 + 4);
  CHECK_EQ(in[1], 0x80 | 127);
  setup(100000, 100000);
  CHECK_EQ(c4j_ws_feed(&parser, in, n), n);
  CHECK_STR(rec.log, "B:70000;");
  /* Byte by byte, with the mask offset carried across calls. */
  n = frame(in, 0, C4J_WS_OP_TEXT, 1, text);
  setup(100000, 100000);
  for (size_t i = 0; i < n; i++) c4j_ws_feed(&parser, in + i, 1);
  CHECK_EQ(rec.len, 2 + 70000 + 1);
  CHECK(rec.log[2] == 'x' && rec.log[70001] == 'x');
}

TEST(non_minimal_lengths) {
  /* 16-bit length of 5, 64-bit length of 5 and of 65535. */
  static const uint8_t a[] = { 0x81, 0xfe, 0x00, 0x05 };
  static const uint8_t b[] = { 0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x05 };
  static const uint8_t c[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  static const uint8_t d[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0 };
  check_splits(a, sizeof(a), "", C4J_CLOSE_PROTOCOL, 1 << 20);
  check_splits(b, sizeof(b), "", C4J_CLOSE_PROTOCOL, 1 << 20);
  check_splits(c, sizeof(c), "", C4J_CLOSE_PROTOCOL, 1 << 20);
  check_splits(d, sizeof(d), "", C4J_CLOSE_PROTOCOL, 1 << 20);
  setup(SIZE_MAX, SIZE_MAX);
  CHECK_EQ(c4j_ws_feed(&parser, d, sizeof(d)), -1);
  CHECK_EQ(parser.error_code, C4J_CLOSE_PROTOCOL);
  CHECK_STR(parser.error_reason, "length has high bit set");
}

TEST(oversize_before_payload) {
  /* Only the header of a 2000-byte frame arrives: the limit is known. */
  static const uint8_t h16[] = { 0x82, 0xfe, 0x07, 0xd0 };
  static const uint8_t h64[] = { 0x81, 0xff, 0x7f, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff };
  static const uint8_t h7[] = { 0x81, 0xfd };
  setup(1000, 1000);
  CHECK_EQ(c4j_ws_feed(&parser, h16, sizeof(h16)), -1);
  CHECK_EQ(parser.error_code, C4J_CLOSE_TOO_BIG);
  CHECK(parser.msg == NULL);
  CHECK_EQ(c4j_ws_feed(&parser, h16, 1), -1); /* stays failed */
  setup(1 << 20, 1 << 20);
  CHECK_EQ(c4j_ws_feed(&parser, h64, sizeof(h64)), -1);
  CHECK_EQ(parser.error_code, C4J_CLOSE_TOO_BIG);
  setup(100, 100);
  CHECK_EQ(c4j_ws_feed(&parser, h7, sizeof(h7)), -1);
  CHECK_EQ(parser.error_code, C4J_CLOSE_TOO_BIG);
  /* Exactly at the limit is fine. */
  setup(125, 125);
  CHECK_EQ(c4j_ws_feed(&parser, h7, sizeof(h7)), 2);
  CHECK_EQ(parser.error_code, 0);
}

TEST(message_limit_across_fragments) {
  uint8_t in[256];
  size_t n = frame(in, 0, C4J_WS_OP_TEXT, 0, "0123456789");
  n = frame(in, n, C4J_WS_OP_CONT, 0, "0123456789");
  n = frame(in, n, C4J_WS_OP_CONT, 1, "0123456789");
  setup(10, 25);
  CHECK_EQ(c4j_ws_feed(&parser, in, n), -1);
  CHECK_EQ(parser.error_code, C4J_CLOSE_TOO_BIG);
  CHECK_STR(parser.error_reason, "message too big");
  c4j_ws_parser_free(&parser);
  setup(10, 30);
  CHECK_EQ(c4j_ws_feed(&parser, in, n), n);
  CHECK_STR(rec.log, "T:012345678901234567890123456789;");
  /* A frame over max_frame inside a message that would fit. */
  n = frame(in, 0, C4J_WS_OP_TEXT, 1, "0123456789a");
  setup(10, 30);
  CHECK_EQ(c4j_ws_feed(&parser, in, n), -1);
  CHECK_STR(parser.error_reason, "frame too big");
}

TEST(bad_header_bits) {
  uint8_t in[16];
  int op;
  for (int rsv = 1; rsv < 8; rsv++) {
    size_t n = frame(in, 0, C4J_WS_OP_TEXT, 1, "a");
    in[0] |= (uint8_t)(rsv << 4);
    check_splits(in, n, "", C4J_CLOSE_PROTOCOL, 100);
  }
  for (op = 3; op < 16; op++) {
    size_t n;
    if (op >= 8 && op <= 10) continue;
    n = frame(in, 0, op, 1, "a");
    check_splits(in, n, "", C4J_CLOSE_PROTOCOL, 100);
  }
  /* Control frames: not FIN, or a 126-byte length. */
  {
    size_t n = frame(in, 0, C4J_WS_OP_PING, 0, "a");
    check_splits(in, n, "", C4J_CLOSE_PROTOCOL, 100);
  }
  {
    static const uint8_t big[] = { 0x89, 0xfe, 0x00, 0x7e };
    check_splits(big, sizeof(big), "", C4J_CLOSE_PROTOCOL, 1000);
  }
}

TEST(fragmented_with_interleaved_ping) {
  uint8_t in[128];
  size_t n = frame(in, 0, C4J_WS_OP_TEXT, 0, "Hel");
  n = frame(in, n, C4J_WS_OP_PING, 1, "p1");
  n = frame(in, n, C4J_WS_OP_CONT, 0, "");
  n = frame(in, n, C4J_WS_OP_PONG, 1, "p2");
  n = frame(in, n, C4J_WS_OP_CONT, 1, "lo \xe2\x82\xac");
  n = frame(in, n, C4J_WS_OP_TEXT, 1, "next");
  check_splits(in, n, "P:p1;O:p2;T:Hello \xe2\x82\xac;T:next;", 0, 100);
  /* A code point split across fragments is valid. */
  n = frame(in, 0, C4J_WS_OP_TEXT, 0, "\xe2\x82");
  n = frame(in, n, C4J_WS_OP_CONT, 1, "\xac");
  check_splits(in, n, "T:\xe2\x82\xac;", 0, 100);
}

TEST(bad_fragmentation) {
  uint8_t in[64];
  size_t n = frame(in, 0, C4J_WS_OP_CONT, 1, "x");
  check_splits(in, n, "", C4J_CLOSE_PROTOCOL, 100);
  n = frame(in, 0, C4J_WS_OP_TEXT, 0, "a");
  n = frame(in, n, C4J_WS_OP_TEXT, 1, "b");
  check_splits(in, n, "", C4J_CLOSE_PROTOCOL, 100);
  n = frame(in, 0, C4J_WS_OP_BINARY, 0, "a");
  n = frame(in, n, C4J_WS_OP_CONT, 1, "b");
  n = frame(in, n, C4J_WS_OP_CONT, 1, "c");
  check_splits(in, n, "B:2;", C4J_CLOSE_PROTOCOL, 100);
}

TEST(bad_utf8_text) {
  static const char *bad[] = {
    "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
    "ok\xff", "caf\xc3", "\xe2\x82",
  };
  uint8_t in[64];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t n = frame(in, 0, C4J_WS_OP_TEXT, 1, bad[i]);
    check_splits(in, n, "", C4J_CLOSE_BAD_DATA, 100);
    /* Binary data is not checked. */
    n = frame(in, 0, C4J_WS_OP_BINARY, 1, bad[i]);
    setup(100, 100);
    CHECK_EQ(c4j_ws_feed(&parser, in, n), n);
  }
  /* Truncated at the end of a fragmented message. */
  {
    size_t n = frame(in, 0, C4J_WS_OP_TEXT, 0, "ab");
    n = frame(in, n, C4J_WS_OP_CONT, 1, "\xf0\x9f\x98");
    check_splits(in, n, "", C4J_CLOSE_BAD_DATA, 100);
  }
  /* Found in the first fragment, before the message ends. */
  {
    size_t n = frame(in, 0, C4J_WS_OP_TEXT, 0, "\xed\xa0\x80");
    setup(100, 100);
    CHECK_EQ(c4j_ws_feed(&parser, in, n), -1);
    CHECK_EQ(parser.error_code, C4J_CLOSE_BAD_DATA);
    c4j_ws_parser_free(&parser);
  }
  /* Unmasked, on the no-copy path. */
  {
    static const uint8_t u[] = { 0x81, 0x02, 0xc3, 0x28 };
    setup(100, 100);
    parser.require_mask = 0;
    CHECK_EQ(c4j_ws_feed(&parser, u, sizeof(u)), -1);
    CHECK_EQ(parser.error_code, C4J_CLOSE_BAD_DATA);
  }
}

static void check_close(const char *payload, size_t len, const char *want,
                        int err) {
  uint8_t in[200];
  size_t n = c4j_ws_write_masked(in, C4J_WS_OP_CLOSE, 1, mask,
                                 (const uint8_t *)payload, len);
  check_splits(in, n, want, err, 100);
}

TEST(close_frames) {
  static const int bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000,
                             2999, 5000, 65535 };
  static const int good[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009,
                              1010, 1011, 1012, 1013, 1014, 3000, 4999 };
  char p[4], want[32];
  check_close("", 0, "C:1005:;", 0);
  check_close("\x03", 1, "", C4J_CLOSE_PROTOCOL);
  check_close("\x03\xe9" "see you", 9, "C:1001:see you;", 0);
  check_close("\x03\xe8" "\xc3\xa9", 4, "C:1000:\xc3\xa9;", 0);
  check_close("\x03\xe8" "\xc3", 3, "", C4J_CLOSE_BAD_DATA);
  check_close("\x03\xe8" "\xed\xa0\x80", 5, "", C4J_CLOSE_BAD_DATA);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    p[0] = (char)(bad[i] >> 8);
    p[1] = (char)bad[i];
    check_close(p, 2, "", C4J_CLOSE_PROTOCOL);
  }
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    p[0] = (char)(good[i] >> 8);
    p[1] = (char)good[i];
    snprintf(want, sizeof(want), "C:%d:;", good[i]);
    check_close(p, 2, want, 0);
  }
}

TEST(callback_stops_feed) {
  uint8_t in[64];
  size_t n1 = frame(in, 0, C4J_WS_OP_TEXT, 1, "one");
  size_t n2 = frame(in, n1, C4J_WS_OP_PING, 1, "");
  size_t n = frame(in, n2, C4J_WS_OP_TEXT, 1, "two");
  setup(100, 100);
  rec.stop = 1;
  CHECK_EQ(c4j_ws_feed(&parser, in, n), n1);
  CHECK_EQ(c4j_ws_feed(&parser, in + n1, n - n1), n2 - n1);
  CHECK_EQ(c4j_ws_feed(&parser, in + n2, n - n2), n - n2);
  CHECK_STR(rec.log, "T:one;P:;T:two;");
}

TEST(encoders) {
  uint8_t out[300];
  char reason[201];
  size_t n;
  CHECK_EQ(c4j_ws_header_len(0), 2);
  CHECK_EQ(c4j_ws_header_len(125), 2);
  CHECK_EQ(c4j_ws_header_len(126), 4);
  CHECK_EQ(c4j_ws_header_len(65535), 4);
  CHECK_EQ(c4j_ws_header_len(65536), 10);
  CHECK_EQ(c4j_ws_write_header(out, C4J_WS_OP_TEXT, 5), 2);
  CHECK(out[0] == 0x81 && out[1] == 5);
  CHECK_EQ(c4j_ws_write_header(out, C4J_WS_OP_BINARY, 300), 4);
  CHECK(out[0] == 0x82 && out[1] == 126 && out[2] == 1 && out[3] == 44);
  CHECK_EQ(c4j_ws_write_header(out, C4J_WS_OP_TEXT, 65536), 10);
  CHECK(out[1] == 127 && out[7] == 1 && out[8] == 0 && out[9] == 0);
  n = c4j_ws_write_close(out, 1000, "bye");
  CHECK_EQ(n, 7);
  CHECK(memcmp(out, "\x88\x05\x03\xe8" "bye", 7) == 0);
  n = c4j_ws_write_close(out, 4001, NULL);
  CHECK(n == 4 && out[1] == 2 && out[2] == 0x0f && out[3] == 0xa1);
  /* 100 two-byte characters: cut at 122 bytes, not inside one. */
  for (int i = 0; i < 100; i++) memcpy(reason + 2 * i, "\xc3\xa9", 2);
  reason[200] = 0;
  n = c4j_ws_write_close(out, 1008, reason);
  CHECK_EQ(n, 4 + 122);
  CHECK_EQ(out[1], 124);
  /* What the encoder writes, the parser reads back. */
  setup(100, 100);
  parser.require_mask = 0;
  CHECK_EQ(c4j_ws_feed(&parser, out, n), n);
  CHECK(strncmp(rec.log, "C:1008:\xc3\xa9", 9) == 0);
  memset(reason, 'r', 200);
  n = c4j_ws_write_close(out, 1001, reason);
  CHECK_EQ(n, 127);
}

/* An allocator that fails after `left` successful allocations. */
typedef struct { int left; int live; } failing_t;

static void *failing_realloc(void *ptr, size_t size, void *ud) {
  failing_t *f = ud;
  if (size == 0) {
    if (ptr) f->live--;
    free(ptr);
    return NULL;
  }
  if (f->left-- <= 0) return NULL;
  if (!ptr) f->live++;
  return realloc(ptr, size);
}

TEST(failing_allocator) {
  uint8_t in[128];
  failing_t f = { 0, 0 };
  c4j_ws_alloc_t a = { failing_realloc, &f };
  size_t n = frame(in, 0, C4J_WS_OP_TEXT, 0, "frag");
  n = frame(in, n, C4J_WS_OP_PING, 1, "p");
  n = frame(in, n, C4J_WS_OP_CONT, 1, "ment");
  /* Control frames never allocate; the first data byte does, and the
   * second fragment grows the buffer. */
  for (int budget = 0; budget < 3; budget++) {
    setup(100, 100);
    parser.alloc = &a;
    f.left = budget;
    long rc = c4j_ws_feed(&parser, in, n);
    if (budget < 2) {
      CHECK_EQ(rc, -1);
      CHECK_EQ(parser.error_code, C4J_CLOSE_TOO_BIG);
      CHECK_STR(parser.error_reason, "out of memory");
      CHECK(budget == 0 ? parser.msg == NULL : parser.msg != NULL);
    } else {
      CHECK_EQ(rc, n);
      CHECK_STR(rec.log, "P:p;T:fragment;");
    }
    c4j_ws_parser_free(&parser);
    CHECK(parser.msg == NULL);
    CHECK_EQ(f.live, 0);
  }
}

TEST(free_mid_message) {
  uint8_t in[64];
  size_t n = frame(in, 0, C4J_WS_OP_TEXT, 0, "partial");
  setup(100, 100);
  CHECK_EQ(c4j_ws_feed(&parser, in, n - 2), n - 2);
  CHECK(parser.msg != NULL);
  c4j_ws_parser_free(&parser); /* leak detection checks the rest */
}

TEST_MAIN(T(utf8_validator), T(accept_key), T(masked_text_every_split),
          T(unmasked_frame), T(extended_lengths), T(non_minimal_lengths),
          T(oversize_before_payload), T(message_limit_across_fragments),
          T(bad_header_bits), T(fragmented_with_interleaved_ping),
          T(bad_fragmentation), T(bad_utf8_text), T(close_frames),
          T(callback_stops_feed), T(encoders), T(failing_allocator),
          T(free_mid_message))
