/* test-deflate.c - permessage-deflate (deflate.c, and its use by
 * request.c, wsconn.c and conn.c): the negotiation of offers (accepted,
 * declined, malformed), the compressed twin made once and shared by every
 * worker (and thread) that asks, frames that go plain, a client's message
 * inflated within the limit and the compression bomb stopped there, the
 * parser's RSV1 rules; then a real engine over real sockets: a client
 * that offers deflate gets compressed broadcasts whose inflation (by zlib
 * here, not by the core) is the plain client's frame, sends compressed
 * messages, and is closed 1009, 1007 or 1002 when it breaks the rules.
 */
#include <ctype.h>
#include <pthread.h>
#include <sys/resource.h>
#include <zlib.h>

#include "deflate.h"
#include "engine-client.h"
#include "frames.h"
#include "ws.h"

/* ---- Helpers ------------------------------------------------------------- */

/* Raw deflate of n bytes at p as a permessage-deflate sender makes it
 * (sync flush, the tail 00 00 ff ff removed); level 9 for the bombs.
 * Returns the length in out (cap bytes). */
static size_t zip(const void *p, size_t n, uint8_t *out, size_t cap,
                  int level) {
  z_stream s;
  size_t len;
  memset(&s, 0, sizeof(s));
  CHECK_EQ(deflateInit2(&s, level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY),
           Z_OK);
  s.next_in = (Bytef *)p;
  s.avail_in = (uInt)n;
  s.next_out = out;
  s.avail_out = (uInt)cap;
  CHECK_EQ(deflate(&s, Z_SYNC_FLUSH), Z_OK);
  CHECK_EQ(s.avail_in, 0);
  len = cap - s.avail_out;
  deflateEnd(&s);
  CHECK(len >= 4 && memcmp(out + len - 4, "\0\0\xff\xff", 4) == 0);
  return len - 4;
}

/* Inflates a compressed payload (the tail appended) with zlib alone;
 * returns its length in out, or -1. */
static long unzip(const uint8_t *p, size_t n, uint8_t *out, size_t cap) {
  z_stream s;
  uint8_t *in = malloc(n + 4);
  long len;
  memset(&s, 0, sizeof(s));
  memcpy(in, p, n);
  memcpy(in + n, "\0\0\xff\xff", 4);
  CHECK_EQ(inflateInit2(&s, -15), Z_OK);
  s.next_in = in;
  s.avail_in = (uInt)(n + 4);
  s.next_out = out;
  s.avail_out = (uInt)cap;
  len = inflate(&s, Z_SYNC_FLUSH) == Z_OK && s.avail_in == 0
            ? (long)(cap - s.avail_out) : -1;
  inflateEnd(&s);
  free(in);
  return len;
}

/* A JSON text of about n bytes that compresses well, as a stream of
 * similar records does. */
static char *json_of(size_t n) {
  char *t = malloc(n + 64);
  size_t k = 0;
  int i = 0;
  k += (size_t)sprintf(t, "[");
  while (k < n)
    k += (size_t)sprintf(t + k, "%s{\"id\":%d,\"price\":%d.%02d,\"sym\":\"X%d\"}",
                         i ? "," : "", i, 100 + i % 7, i % 100, i % 13), i++;
  sprintf(t + k, "]");
  return t;
}

/* ---- Negotiation ----------------------------------------------------------- */

TEST(deflate_negotiation_accepts) {
  static const char *on[] = {
    "permessage-deflate",
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate; client_max_window_bits=10",
    "permessage-deflate;client_max_window_bits=\"12\"",
    "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover",
    "x-webkit-deflate-frame, permessage-deflate",
    "foo; a=1; b=\"x y\", permessage-deflate",  /* another's quoted value */
    /* The first offer needs a window of 2^8: declined; the second taken. */
    "permessage-deflate; server_max_window_bits=8, permessage-deflate",
    "permessage-deflate; bogus, permessage-deflate",
    ", ,permessage-deflate ,",                   /* empty list elements */
    "PerMessage-Deflate",
  };
  for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
    int r = c4j__deflate_negotiate(on[i]);
    if (r != C4J__DEFLATE_ON) fprintf(stderr, "  offer: %s\n", on[i]);
    CHECK_EQ(r, C4J__DEFLATE_ON);
  }
  CHECK_EQ(c4j__deflate_negotiate("permessage-deflate; "
                                  "server_max_window_bits=15"),
           C4J__DEFLATE_ON_15);
  /* A smaller window is honoured: the value comes back. */
  CHECK_EQ(c4j__deflate_negotiate("permessage-deflate; "
                                  "server_max_window_bits=9"), 9);
  CHECK_EQ(c4j__deflate_negotiate("permessage-deflate; "
                                  "server_max_window_bits=\"12\"; "
                                  "client_max_window_bits"), 12);
  CHECK(strstr(c4j__deflate_header(12), "; server_max_window_bits=12\r\n") !=
        NULL);
  CHECK(strstr(c4j__deflate_header(C4J__DEFLATE_ON_15),
               "server_max_window_bits=15\r\n") != NULL);
  CHECK_STR(c4j__deflate_header(C4J__DEFLATE_ON),
            "Sec-WebSocket-Extensions: permessage-deflate; "
            "server_no_context_takeover; client_no_context_takeover\r\n");
  CHECK_STR(c4j__deflate_header(0), "");
}

TEST(deflate_negotiation_declines) {
  static const char *off[] = {
    "", "x-webkit-deflate-frame", "permessage-deflatex",
    "permessage-deflate; foo",                       /* unknown */
    "permessage-deflate; client_max_window_bits; client_max_window_bits",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_no_context_takeover=\"x\"",
    "permessage-deflate; server_max_window_bits",    /* needs a value */
    "permessage-deflate; server_max_window_bits=8",  /* zlib cannot */
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=015",
    "permessage-deflate; client_max_window_bits=7",
    "permessage-deflate; client_max_window_bits=1a",
    "permessage-deflate; client_max_window_bits=\"\"",
    "permessage-deflate; client_max_window_bits=\"1 0\"",
  };
  for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
    int r = c4j__deflate_negotiate(off[i]);
    if (r != 0) fprintf(stderr, "  offer: %s\n", off[i]);
    CHECK_EQ(r, 0);
  }
  CHECK_EQ(c4j__deflate_negotiate(NULL), 0);
}

TEST(deflate_negotiation_malformed) {
  static const char *bad[] = {
    "permessage-deflate;", "permessage-deflate; ", ";x",
    "permessage-deflate x", "permessage-deflate; a=",
    "permessage-deflate; a=\"unterminated", "permessage-deflate; =1",
    "permessage-deflate; a=b c", "permessage-deflate; a=\"x\"y",
    "perm\x01", "permessage-deflate; a=\"\x01\"", "\"quoted\"",
    /* A good offer before does not excuse a broken header. */
    "permessage-deflate, x;",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int r = c4j__deflate_negotiate(bad[i]);
    if (r != -1) fprintf(stderr, "  header: %s\n", bad[i]);
    CHECK_EQ(r, -1);
  }
}

/* ---- Output ------------------------------------------------------------------ */

static c4j__buf_t *text_frame(const char *t) {
  return c4j__frame_text(t, strlen(t));
}

/* The payload of frame b: its header's length. */
static size_t head_of(const c4j__buf_t *b) {
  size_t l = b->data[1] & 0x7f;
  return l == 126 ? 4 : l == 127 ? 10 : 2;
}

TEST(deflate_frame_once_shared) {
  char *json = json_of(20000);
  c4j__buf_t *b = text_frame(json);
  c4j__zip_t *z1 = c4j__zip_new(), *z2 = c4j__zip_new();
  c4j__buf_t *d1, *d2;
  uint8_t *back = malloc(40000);
  uint64_t made, plain, packed;
  long n;
  d1 = c4j__deflate_frame(z1, b);
  d2 = c4j__deflate_frame(z2, b); /* another worker: the same buffer */
  CHECK(d1 != b);
  CHECK(d1 == d2);
  CHECK(d1 == c4j__deflate_frame(z1, b));
  CHECK_EQ(d1->data[0], 0x80 | 0x40 | C4J_WS_OP_TEXT); /* FIN, RSV1 */
  CHECK(d1->len * 4 < b->len); /* such JSON shrinks by far more */
  n = unzip(d1->data + head_of(d1), d1->len - head_of(d1), back, 40000);
  CHECK_EQ(n, (long)strlen(json));
  CHECK(n > 0 && memcmp(back, json, (size_t)n) == 0);
  c4j__zip_counts(z1, &made, &plain, &packed);
  CHECK_EQ(made, 1);
  CHECK_EQ(plain, strlen(json));
  CHECK_EQ(packed, d1->len - head_of(d1));
  c4j__zip_counts(z2, &made, &plain, &packed);
  CHECK_EQ(made, 0);
  c4j__buf_unref(b); /* frees the twin with it (ASan: no leak) */
  c4j__zip_free(z1);
  c4j__zip_free(z2);
  free(back);
  free(json);
}

typedef struct {
  c4j__buf_t *b, *got;
  c4j__zip_t *z;
} race_t;

static void *race(void *arg) {
  race_t *r = arg;
  r->got = c4j__deflate_frame(r->z, r->b);
  return NULL;
}

/* Workers that meet one broadcast at once: one compresses, the others
 * wait for it; all get the same twin. */
TEST(deflate_frame_made_once_by_racing_threads) {
  char *json = json_of(200000);
  for (int round = 0; round < 20; round++) {
    race_t r[4];
    pthread_t t[4];
    uint64_t total = 0;
    c4j__buf_t *b = text_frame(json);
    for (int i = 0; i < 4; i++) {
      r[i].b = b;
      r[i].z = c4j__zip_new();
      pthread_create(&t[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
      uint64_t made, plain, packed;
      CHECK(r[i].got == r[0].got);
      CHECK(r[i].got != b);
      c4j__zip_counts(r[i].z, &made, &plain, &packed);
      total += made;
      c4j__zip_free(r[i].z);
    }
    CHECK_EQ(total, 1);
    c4j__buf_unref(b);
  }
  free(json);
}

/* A client's smaller window: its own compression, which an inflater of
 * that window reads (one of the full window could not: distances past
 * 512 bytes). */
/* Inflates a compressed payload (the tail appended) as a client of a
 * window of 2^bits bytes does: 64 bytes out at a time, so that only the
 * window holds what came before.  Returns the length in out, or -1. */
static long unzip_window(const uint8_t *p, size_t n, int bits, uint8_t *out,
                         size_t cap) {
  z_stream s;
  uint8_t *in = malloc(n + 4), chunk[64];
  size_t got = 0;
  int r = Z_OK;
  memset(&s, 0, sizeof(s));
  memcpy(in, p, n);
  memcpy(in + n, "\0\0\xff\xff", 4);
  CHECK_EQ(inflateInit2(&s, -bits), Z_OK);
  s.next_in = in;
  s.avail_in = (uInt)(n + 4);
  while (r == Z_OK && (s.avail_in > 0 || s.avail_out == 0)) {
    s.next_out = chunk;
    s.avail_out = sizeof(chunk);
    r = inflate(&s, Z_SYNC_FLUSH);
    if (r != Z_OK && r != Z_BUF_ERROR) break;
    if (got + sizeof(chunk) - s.avail_out > cap) break;
    memcpy(out + got, chunk, sizeof(chunk) - s.avail_out);
    got += sizeof(chunk) - s.avail_out;
    if (r == Z_BUF_ERROR) r = Z_OK, s.avail_out = 1; /* all in */
    if (s.avail_in == 0 && s.avail_out != 0) break;
  }
  inflateEnd(&s);
  free(in);
  return r == Z_OK ? (long)got : -1;
}

/* A client's smaller window: its own compression, which an inflater of
 * that window reads; the full window's twin, whose matches reach 1000
 * bytes back, it cannot. */
TEST(deflate_frame_own_window) {
  /* 1000 letters twice: the second copy is 1000 bytes back. */
  char *text = malloc(2001);
  uint32_t x = 7;
  for (int i = 0; i < 1000; i++) {
    x = x * 1103515245u + 12345u;
    text[i] = text[i + 1000] = (char)('a' + (x >> 16) % 26);
  }
  text[2000] = '\0';
  c4j__buf_t *b = text_frame(text), *own, *twin;
  c4j__zip_t *z = c4j__zip_new();
  uint8_t *back = malloc(4000);
  own = c4j__deflate_own(z, b, 9);
  CHECK(own != NULL && own != b);
  if (own == NULL) return;
  CHECK_EQ(own->data[0], 0x80 | 0x40 | C4J_WS_OP_TEXT);
  CHECK(atomic_load(&b->zip) == NULL); /* the shared twin is not made */
  CHECK_EQ(unzip_window(own->data + head_of(own), own->len - head_of(own), 9,
                        back, 4000), 2000);
  CHECK(memcmp(back, text, 2000) == 0);
  twin = c4j__deflate_frame(z, b);
  CHECK(twin != b && twin->len < own->len);
  CHECK_EQ(unzip_window(twin->data + head_of(twin),
                        twin->len - head_of(twin), 15, back, 4000), 2000);
  CHECK_EQ(unzip_window(twin->data + head_of(twin),
                        twin->len - head_of(twin), 9, back, 4000), -1);
  CHECK(c4j__deflate_own(z, b, 8) == NULL); /* no such window */
  c4j__buf_unref(own);
  c4j__buf_unref(b);
  c4j__zip_free(z);
  free(back);
  free(text);
}

TEST(deflate_frame_plain_cases) {
  c4j__zip_t *z = c4j__zip_new();
  uint8_t ping[2] = { 0x80 | C4J_WS_OP_PING, 0 };
  uint8_t rnd[4096];
  char small[C4J__DEFLATE_MIN];
  c4j__buf_t *b;
  uint32_t x = 12345;
  /* A control frame is never compressed (RFC 7692 section 6.1). */
  b = c4j__buf_copy(ping, sizeof(ping));
  CHECK(c4j__deflate_frame(z, b) == b);
  c4j__buf_unref(b);
  /* Under the threshold: plain, and nothing marked on it. */
  memset(small, 'a', sizeof(small) - 1);
  small[sizeof(small) - 1] = '\0';
  b = text_frame(small);
  CHECK(c4j__deflate_frame(z, b) == b);
  CHECK(atomic_load(&b->zip) == NULL);
  c4j__buf_unref(b);
  /* Bytes that do not shrink: plain, marked so that no worker tries
   * again. */
  for (size_t i = 0; i < sizeof(rnd); i++) {
    x = x * 1103515245u + 12345u;
    rnd[i] = (uint8_t)(x >> 16);
  }
  b = c4j__buf_new(4 + sizeof(rnd));
  c4j_ws_write_header(b->data, C4J_WS_OP_BINARY, sizeof(rnd));
  memcpy(b->data + 4, rnd, sizeof(rnd));
  CHECK(c4j__deflate_frame(z, b) == b);
  CHECK(atomic_load(&b->zip) == C4J__ZIP_PLAIN);
  CHECK(c4j__deflate_frame(z, b) == b);
  c4j__buf_unref(b);
  /* Not a frame (an HTTP head, an SSE event): as it is. */
  b = c4j__buf_copy("HTTP/1.1 101 Switching Protocols\r\n\r\n"
                    "0123456789012345678901234567890123456789", 77);
  CHECK(c4j__deflate_frame(z, b) == b);
  c4j__buf_unref(b);
  /* A binary frame compresses like a text one. */
  b = c4j__buf_new(4 + 1000);
  c4j_ws_write_header(b->data, C4J_WS_OP_BINARY, 1000);
  memset(b->data + 4, 7, 1000);
  CHECK(c4j__deflate_frame(z, b) != b);
  CHECK_EQ(c4j__deflate_frame(z, b)->data[0], 0x80 | 0x40 | C4J_WS_OP_BINARY);
  c4j__buf_unref(b);
  c4j__zip_free(z);
}

/* ---- Input ---------------------------------------------------------------- */

TEST(deflate_inflate_within_limit) {
  c4j__zip_t *z = c4j__zip_new();
  char *json = json_of(60000);
  size_t n = strlen(json), clen;
  uint8_t *packed = malloc(n + 1024);
  const uint8_t *out;
  size_t len;
  clen = zip(json, n, packed, n + 1024, 6);
  CHECK_EQ(c4j__inflate_message(z, packed, clen, n, &out, &len), 0);
  CHECK_EQ(len, n);
  CHECK(len == n && memcmp(out, json, n) == 0);
  /* One byte under what it inflates to: too big. */
  CHECK_EQ(c4j__inflate_message(z, packed, clen, n - 1, &out, &len),
           C4J__INFLATE_TOO_BIG);
  /* The scratch is ready for the next message after a failure. */
  CHECK_EQ(c4j__inflate_message(z, packed, clen, n, &out, &len), 0);
  CHECK_EQ(len, n);
  /* An empty message is the tail alone. */
  CHECK_EQ(c4j__inflate_message(z, (const uint8_t *)"", 0, 10, &out, &len),
           0);
  CHECK_EQ(len, 0);
  /* A message that ends with a final block (BFINAL) is read too. */
  {
    z_stream s;
    uint8_t fin[256];
    memset(&s, 0, sizeof(s));
    deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    s.next_in = (Bytef *)"hello hello hello";
    s.avail_in = 17;
    s.next_out = fin;
    s.avail_out = sizeof(fin);
    CHECK_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    CHECK_EQ(c4j__inflate_message(z, fin, sizeof(fin) - s.avail_out, 100,
                                  &out, &len), 0);
    CHECK_EQ(len, 17);
    CHECK(len == 17 && memcmp(out, "hello hello hello", 17) == 0);
    deflateEnd(&s);
  }
  /* Not deflate data (a reserved block type). */
  CHECK_EQ(c4j__inflate_message(z, (const uint8_t *)"\xff\xff\xff", 3, 100,
                                &out, &len),
           C4J__INFLATE_BAD);
  c4j__zip_free(z);
  free(packed);
  free(json);
}

/* A few hundred kilobytes that inflate to 512 MiB: stopped at the
 * limit, and the process never holds the inflated bytes (its peak
 * resident size grows by far less than they would take). */
TEST(deflate_inflate_bomb) {
  c4j__zip_t *z = c4j__zip_new();
  size_t chunk = 1 << 20, total = (size_t)512 << 20, cap = 2 << 20, len;
  uint8_t *zeros = calloc(1, chunk), *bomb = malloc(cap);
  const uint8_t *out;
  struct rusage before, after;
  z_stream s;
  size_t blen;
  uint64_t t0;
  memset(&s, 0, sizeof(s));
  deflateInit2(&s, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  s.next_out = bomb;
  s.avail_out = (uInt)cap;
  for (size_t done = 0; done < total; done += chunk) {
    s.next_in = zeros;
    s.avail_in = (uInt)chunk;
    CHECK_EQ(deflate(&s, done + chunk < total ? Z_NO_FLUSH : Z_SYNC_FLUSH),
             Z_OK);
  }
  blen = cap - s.avail_out - 4;
  deflateEnd(&s);
  CHECK(blen < 1u << 20);
  getrusage(RUSAGE_SELF, &before);
  t0 = ms_now();
  CHECK_EQ(c4j__inflate_message(z, bomb, blen, 65536, &out, &len),
           C4J__INFLATE_TOO_BIG);
  getrusage(RUSAGE_SELF, &after);
  /* It stops within the first 64 KiB, not after inflating it all. */
  CHECK(ms_now() - t0 < 1000);
  CHECK(after.ru_maxrss - before.ru_maxrss < 16 * 1024); /* KiB */
  c4j__zip_free(z);
  free(zeros);
  free(bomb);
}

/* ---- The parser's RSV1 rules (ws.c) ------------------------------------------ */

static int got_messages, got_compressed;
static size_t got_len;

static int on_msg(c4j_ws_parser_t *p, int op, const uint8_t *d, size_t n) {
  got_messages++;
  got_compressed = p->compressed;
  got_len = n;
  return 0;
}

static const c4j_ws_callbacks_t msg_cb = { on_msg, NULL, NULL };

static const uint8_t MASK[4] = { 1, 2, 3, 4 };

/* Feeds one masked frame with first byte byte0; returns c4j_ws_feed's. */
static long feed(c4j_ws_parser_t *p, uint8_t byte0, const void *d, size_t n) {
  uint8_t f[300];
  size_t len = c4j_ws_write_masked(f, byte0 & 0x0f, byte0 >> 7, MASK, d, n);
  f[0] = byte0;
  return c4j_ws_feed(p, f, len);
}

static void parser(c4j_ws_parser_t *p, int allow) {
  c4j_ws_parser_init(p, &msg_cb, 1 << 16, 1 << 16);
  p->allow_rsv1 = allow;
  got_messages = got_compressed = 0;
}

TEST(deflate_parser_rsv1_rules) {
  c4j_ws_parser_t p;
  /* Not negotiated: RSV1 is a protocol error. */
  parser(&p, 0);
  CHECK_EQ(feed(&p, 0x80 | 0x40 | C4J_WS_OP_TEXT, "x", 1), -1);
  CHECK_EQ(p.error_code, C4J_CLOSE_PROTOCOL);
  c4j_ws_parser_free(&p);
  /* Negotiated: a compressed text, bytes that are not UTF-8 taken as
   * they are (checked once inflated). */
  parser(&p, 1);
  CHECK_EQ(feed(&p, 0x80 | 0x40 | C4J_WS_OP_TEXT, "\xff\xfe", 2), 8);
  CHECK_EQ(got_messages, 1);
  CHECK_EQ(got_compressed, 1);
  CHECK_EQ(feed(&p, 0x80 | C4J_WS_OP_TEXT, "plain", 5), 11);
  CHECK_EQ(got_messages, 2);
  CHECK_EQ(got_compressed, 0);
  /* Fragmented: RSV1 on the first frame only. */
  CHECK_EQ(feed(&p, 0x40 | C4J_WS_OP_BINARY, "ab", 2), 8);
  CHECK_EQ(feed(&p, 0x80 | C4J_WS_OP_CONT, "cd", 2), 8);
  CHECK_EQ(got_messages, 3);
  CHECK_EQ(got_compressed, 1);
  CHECK_EQ(got_len, 4);
  /* RSV2 and RSV3 stay errors. */
  CHECK_EQ(feed(&p, 0x80 | 0x20 | C4J_WS_OP_TEXT, "x", 1), -1);
  CHECK_EQ(p.error_code, C4J_CLOSE_PROTOCOL);
  c4j_ws_parser_free(&p);
  /* RSV1 on a continuation frame. */
  parser(&p, 1);
  CHECK_EQ(feed(&p, 0x40 | C4J_WS_OP_TEXT, "ab", 2), 8);
  CHECK_EQ(feed(&p, 0x80 | 0x40 | C4J_WS_OP_CONT, "cd", 2), -1);
  CHECK_EQ(p.error_code, C4J_CLOSE_PROTOCOL);
  c4j_ws_parser_free(&p);
  /* RSV1 on a control frame. */
  parser(&p, 1);
  CHECK_EQ(feed(&p, 0x80 | 0x40 | C4J_WS_OP_PING, "", 0), -1);
  CHECK_EQ(p.error_code, C4J_CLOSE_PROTOCOL);
  c4j_ws_parser_free(&p);
}

/* ---- A real engine ------------------------------------------------------------ */

#define UPGRADE_HEADERS                                                     \
  "Upgrade: websocket\r\nConnection: Upgrade\r\n"                            \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                          \
  "Sec-WebSocket-Version: 13\r\n"

/* Attaches cid to channels over /ws with the extension header ext (NULL:
 * none); returns the status, the 101's head (lower case) in head. */
static int attach_ext(c4j_engine_t *e, client_t *c, const char *cid,
                      const char *channels, const char *ext, char *head,
                      size_t cap) {
  char ticket[2048], target[2200], extra[1024];
  const char *end;
  size_t n;
  mint(e, cid, NULL, channels, 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  snprintf(extra, sizeof(extra), UPGRADE_HEADERS "%s%s%s",
           ext ? "Sec-WebSocket-Extensions: " : "", ext ? ext : "",
           ext ? "\r\n" : "");
  http(c, c4j_engine_port(e), "GET", target, extra, NULL, "\r\n\r\n");
  end = strstr((char *)c->buf, "\r\n\r\n");
  if (end == NULL) return -1;
  n = (size_t)(end + 4 - (char *)c->buf);
  for (size_t i = 0; i < cap - 1; i++)
    head[i] = i < n ? (char)tolower(c->buf[i]) : '\0';
  head[cap - 1] = '\0';
  if (c->status == 101) consume(c, n);
  return c->status;
}

/* Reads one frame as sent: its first byte in *b0, the payload in out. */
static int raw_frame(client_t *c, uint8_t *b0, uint8_t *out, size_t cap,
                     size_t *len) {
  for (;;) {
    wsc_frame_t f;
    long n = wsc_frame_parse(c->buf, c->len, &f);
    if (n < 0) return -1;
    if (n > 0) {
      *b0 = c->buf[0];
      *len = (size_t)f.len;
      if (f.len <= cap) memcpy(out, f.data, (size_t)f.len);
      consume(c, (size_t)n);
      return f.op;
    }
    if (fill(c) <= 0) return -1;
  }
}

/* Reads the next data frame (pings skipped) and gives its message:
 * inflated by zlib when RSV1 is set (*rsv1 says so). */
static int read_message(client_t *c, uint8_t *out, size_t cap, size_t *len,
                        int *rsv1) {
  static uint8_t raw[1 << 17];
  uint8_t b0;
  size_t n;
  int op;
  do op = raw_frame(c, &b0, raw, sizeof(raw), &n);
  while (op == WSC_OP_PING);
  if (op < 0) return op;
  *rsv1 = (b0 & 0x40) != 0;
  if (!*rsv1) {
    memcpy(out, raw, n < cap ? n : cap);
    *len = n;
    return op;
  }
  long k = unzip(raw, n, out, cap);
  if (k < 0) return -1;
  *len = (size_t)k;
  return op;
}

/* Sends one masked frame whose first byte is byte0. */
static void send_raw_frame(client_t *c, uint8_t byte0, const void *d,
                           size_t n) {
  uint8_t *f = malloc(n + 14);
  size_t len = c4j_ws_write_masked(f, byte0 & 0x0f, byte0 >> 7, MASK, d, n);
  f[0] = byte0;
  CHECK_EQ(send(c->fd, f, len, MSG_NOSIGNAL), (ssize_t)len);
  free(f);
}

TEST(deflate_engine_broadcast_compressed_once) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *z = calloc(1, sizeof(*z)), *p = calloc(1, sizeof(*p));
  client_t *z2 = calloc(1, sizeof(*z2)), *z3 = calloc(1, sizeof(*z3));
  char head[2048];
  char *big = json_of(30000);
  uint8_t *gz = malloc(1 << 17), *gp = malloc(1 << 17);
  size_t nz, np;
  int rz, rp;
  base_config(&cfg);
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach_ext(e, z, "z1", "[\"q\"]",
                      "permessage-deflate; client_max_window_bits", head,
                      sizeof(head)), 101);
  CHECK(strstr(head, "sec-websocket-extensions: permessage-deflate; "
                     "server_no_context_takeover; "
                     "client_no_context_takeover\r\n") != NULL);
  CHECK_EQ(attach_ext(e, p, "p1", "[\"q\"]", NULL, head, sizeof(head)), 101);
  CHECK(strstr(head, "sec-websocket-extensions") == NULL);
  /* Another one, on the other worker (connections go round-robin). */
  CHECK_EQ(attach_ext(e, z2, "z2", "[\"q\"]", "permessage-deflate", head,
                      sizeof(head)), 101);
  CHECK_EQ(read_message(z2, gz, 1 << 17, &nz, &rz), WSC_OP_TEXT);
  /* One that asks for a window of 2^10 bytes gets frames of its own. */
  CHECK_EQ(attach_ext(e, z3, "z3", "[\"q\"]",
                      "permessage-deflate; server_max_window_bits=10", head,
                      sizeof(head)), 101);
  CHECK(strstr(head, "client_no_context_takeover; "
                     "server_max_window_bits=10\r\n") != NULL);
  CHECK_EQ(read_message(z3, gz, 1 << 17, &nz, &rz), WSC_OP_TEXT);
  /* The open frames first. */
  CHECK_EQ(read_message(z, gz, 1 << 17, &nz, &rz), WSC_OP_TEXT);
  CHECK(nz > 0 && memmem(gz, nz, "\"t\":\"open\"", 10) != NULL);
  CHECK_EQ(read_message(p, gp, 1 << 17, &np, &rp), WSC_OP_TEXT);
  CHECK_EQ(rp, 0);
  /* A big JSON: compressed for z, plain for p, the same message. */
  CHECK_EQ(c4j_send_all(e, "q", 1, big, strlen(big), 0), 0);
  CHECK_EQ(read_message(z, gz, 1 << 17, &nz, &rz), WSC_OP_TEXT);
  CHECK_EQ(rz, 1);
  CHECK_EQ(read_message(p, gp, 1 << 17, &np, &rp), WSC_OP_TEXT);
  CHECK_EQ(rp, 0);
  CHECK_EQ(nz, np);
  CHECK(nz == np && memcmp(gz, gp, np) == 0);
  CHECK(memmem(gp, np, big, strlen(big)) != NULL);
  CHECK_EQ(read_message(z2, gz, 1 << 17, &nz, &rz), WSC_OP_TEXT);
  CHECK_EQ(rz, 1);
  CHECK(nz == np && memcmp(gz, gp, np) == 0);
  {
    static uint8_t raw[1 << 17];
    uint8_t b0;
    size_t n;
    long k;
    CHECK_EQ(raw_frame(z3, &b0, raw, sizeof(raw), &n), WSC_OP_TEXT);
    CHECK_EQ(b0, 0x80 | 0x40 | WSC_OP_TEXT);
    k = unzip_window(raw, n, 10, gz, 1 << 17);
    CHECK_EQ(k, (long)np);
    CHECK(k == (long)np && memcmp(gz, gp, np) == 0);
  }
  /* Compressed once for both (the open frames are under the threshold),
   * and once more for z3's window. */
  {
    c4j_stats_t s;
    char *text = NULL;
    size_t tl;
    c4j_engine_stats(e, &s);
    CHECK_EQ(s.deflated, 2);
    CHECK(s.deflate_bytes_in > 2 * strlen(big));
    CHECK(s.deflate_bytes_out * 4 < s.deflate_bytes_in);
    CHECK_EQ(c4j_metrics_text(e, NULL, &text, &tl), 0);
    CHECK(text != NULL && strstr(text, "\ncomet4j_deflated_total 2\n") != NULL);
    free(text);
  }
  /* A small one goes plain to both. */
  CHECK_EQ(c4j_send_all(e, "q", 1, "1", 1, 0), 0);
  CHECK_EQ(read_message(z, gz, 1 << 17, &nz, &rz), WSC_OP_TEXT);
  CHECK_EQ(rz, 0);
  CHECK(memmem(gz, nz, "\"data\":1", 8) != NULL);
  /* The client sends a compressed message: the embedder gets it plain. */
  {
    const char *msg = "{\"hello\":\"compressed world, compressed world\"}";
    uint8_t packed[256];
    size_t k = zip(msg, strlen(msg), packed, sizeof(packed), 6);
    event_t *ev;
    reset_events();
    send_raw_frame(z, 0x80 | 0x40 | WSC_OP_TEXT, packed, k);
    ev = wait_event(e, C4J_EV_MESSAGE, "z1");
    CHECK(ev != NULL);
    if (ev != NULL) CHECK_STR(ev->text, msg);
    /* {"t":"ping"} compressed is answered too. */
    k = zip("{\"t\":\"ping\"}", 12, packed, sizeof(packed), 6);
    send_raw_frame(z, 0x80 | 0x40 | WSC_OP_TEXT, packed, k);
    CHECK_EQ(read_message(z, gz, 1 << 17, &nz, &rz), WSC_OP_TEXT);
    CHECK(nz == 12 && memcmp(gz, "{\"t\":\"pong\"}", 12) == 0);
  }
  client_close(z);
  client_close(z2);
  client_close(z3);
  client_close(p);
  finish(e);
  free(z2);
  free(z3);
  free(z);
  free(p);
  free(big);
  free(gz);
  free(gp);
}

TEST(deflate_engine_input_rules) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char head[2048];
  uint8_t *packed = malloc(1 << 20);
  char *zeros = calloc(1, 1 << 20);
  size_t k;
  base_config(&cfg);
  cfg.max_message = 65536;
  e = start(&cfg);
  if (e == NULL) return;
  /* A message that inflates past max_message: 1009, whatever its
   * compressed size (about 1 KiB here). */
  CHECK_EQ(attach_ext(e, c, "a", "[]", "permessage-deflate", head,
                      sizeof(head)), 101);
  k = zip(zeros, 1 << 20, packed, 1 << 20, 9);
  CHECK(k < 65536);
  send_raw_frame(c, 0x80 | 0x40 | WSC_OP_BINARY, packed, k);
  {
    char reason[128] = "";
    CHECK_EQ(read_close(c, reason, sizeof(reason)), C4J_CLOSE_TOO_BIG);
    CHECK(strstr(reason, "inflated") != NULL);
  }
  client_close(c);
  /* Exactly max_message once inflated is fine. */
  CHECK_EQ(attach_ext(e, c, "b", "[]", "permessage-deflate", head,
                      sizeof(head)), 101);
  k = zip(zeros, 65536, packed, 1 << 20, 9);
  reset_events();
  send_raw_frame(c, 0x80 | 0x40 | WSC_OP_BINARY, packed, k);
  {
    event_t *ev = wait_event(e, C4J_EV_BINARY, "b");
    CHECK(ev != NULL);
    if (ev != NULL) CHECK_EQ(ev->len, 65536);
  }
  /* Compressed text that is not UTF-8 once inflated: 1007. */
  k = zip("\xc3\x28 invalid", 10, packed, 1 << 20, 6);
  send_raw_frame(c, 0x80 | 0x40 | WSC_OP_TEXT, packed, k);
  CHECK_EQ(read_close(c, NULL, 0), C4J_CLOSE_BAD_DATA);
  client_close(c);
  /* Garbage as deflate data: 1007. */
  CHECK_EQ(attach_ext(e, c, "c", "[]", "permessage-deflate", head,
                      sizeof(head)), 101);
  send_raw_frame(c, 0x80 | 0x40 | WSC_OP_TEXT, "\xff\xff\xff", 3);
  CHECK_EQ(read_close(c, NULL, 0), C4J_CLOSE_BAD_DATA);
  client_close(c);
  /* RSV1 on a control frame, or on a connection without the extension:
   * 1002. */
  CHECK_EQ(attach_ext(e, c, "d", "[]", "permessage-deflate", head,
                      sizeof(head)), 101);
  send_raw_frame(c, 0x80 | 0x40 | WSC_OP_PING, "", 0);
  CHECK_EQ(read_close(c, NULL, 0), C4J_CLOSE_PROTOCOL);
  client_close(c);
  CHECK_EQ(attach_ext(e, c, "f", "[]", NULL, head, sizeof(head)), 101);
  k = zip("hello", 5, packed, 1 << 20, 6);
  send_raw_frame(c, 0x80 | 0x40 | WSC_OP_TEXT, packed, k);
  CHECK_EQ(read_close(c, NULL, 0), C4J_CLOSE_PROTOCOL);
  client_close(c);
  /* A header that breaks the grammar: 400, no upgrade. */
  CHECK_EQ(attach_ext(e, c, "g", "[]", "permessage-deflate; =", head,
                      sizeof(head)), 400);
  CHECK(strstr(body_of(c), "Sec-WebSocket-Extensions") != NULL);
  client_close(c);
  finish(e);
  free(c);
  free(packed);
  free(zeros);
}

/* Comet.Deflate false: the offer is ignored, RSV1 stays an error. */
TEST(deflate_engine_off) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char head[2048];
  base_config(&cfg);
  cfg.deflate = 0;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach_ext(e, c, "a", "[]", "permessage-deflate", head,
                      sizeof(head)), 101);
  CHECK(strstr(head, "sec-websocket-extensions") == NULL);
  send_raw_frame(c, 0x80 | 0x40 | WSC_OP_TEXT, "x", 1);
  CHECK_EQ(read_close(c, NULL, 0), C4J_CLOSE_PROTOCOL);
  client_close(c);
  {
    c4j_stats_t s;
    c4j_engine_stats(e, &s);
    CHECK_EQ(s.deflated, 0);
  }
  finish(e);
  cfg.deflate = 2;
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "deflate:", 8) == 0);
  free(c);
}

TEST_MAIN(T(deflate_negotiation_accepts), T(deflate_negotiation_declines),
          T(deflate_negotiation_malformed), T(deflate_frame_once_shared),
          T(deflate_frame_made_once_by_racing_threads),
          T(deflate_frame_own_window),
          T(deflate_frame_plain_cases), T(deflate_inflate_within_limit),
          T(deflate_inflate_bomb), T(deflate_parser_rsv1_rules),
          T(deflate_engine_broadcast_compressed_once),
          T(deflate_engine_input_rules), T(deflate_engine_off))
