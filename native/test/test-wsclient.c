/* test-wsclient.c - the shared test client's codec checked against the
 * core's own (they share no code): its masked frames through the server's
 * parser, the server's frames through its parser, its tickets through the
 * server's verification; the answer's head, and the reader fed a byte at a
 * time. */
#include <stdlib.h>
#include <time.h>

#include "auth.h"
#include "test.h"
#include "ws.h"
#include "wsclient.h"

static const char KEY[] = "0123456789abcdef0123456789abcdef";

/* ---- Client frames into the server's parser ------------------------------ */

typedef struct {
  int op, n;
  size_t len;
  uint8_t *data;
} got_t;

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *d,
                      size_t n) {
  got_t *g = p->data;
  g->op = op;
  g->len = n;
  g->n++;
  free(g->data);
  g->data = malloc(n ? n : 1);
  memcpy(g->data, d, n);
  return 0;
}

static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *d,
                      size_t n) {
  return on_message(p, op, d, n);
}

static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *r,
                    size_t n) {
  return 0;
}

TEST(client_frames_parse_on_the_server) {
  static const c4j_ws_callbacks_t cb = { on_message, on_control, on_close };
  static const uint8_t mask[4] = { 1, 2, 3, 4 };
  size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, 100000 };
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t n = sizes[i], len;
    uint8_t *data = malloc(n + 1), *f = malloc(n + 14);
    c4j_ws_parser_t p;
    got_t g = { 0, 0, 0, NULL };
    for (size_t k = 0; k < n; k++) data[k] = (uint8_t)('a' + k % 26);
    len = wsc_frame_write(f, WSC_OP_TEXT, 1, mask, data, n);
    CHECK_EQ(len, n + (n < 126 ? 6 : n <= 0xffff ? 8 : 14));
    CHECK(f[1] & 0x80);                      /* masked */
    c4j_ws_parser_init(&p, &cb, 1 << 20, 1 << 20);
    p.data = &g;
    CHECK_EQ(c4j_ws_feed(&p, f, len), (long)len);
    CHECK_EQ(g.n, 1);
    CHECK_EQ(g.op, C4J_WS_OP_TEXT);
    CHECK_EQ(g.len, n);
    CHECK(g.data != NULL && memcmp(g.data, data, n) == 0);
    c4j_ws_parser_free(&p);
    free(g.data);
    free(data);
    free(f);
  }
}

TEST(client_fragments_and_pongs_on_the_server) {
  static const c4j_ws_callbacks_t cb = { on_message, on_control, on_close };
  static const uint8_t mask[4] = { 9, 8, 7, 6 };
  uint8_t f[64];
  size_t n;
  c4j_ws_parser_t p;
  got_t g = { 0, 0, 0, NULL };
  c4j_ws_parser_init(&p, &cb, 1024, 1024);
  p.data = &g;
  n = wsc_frame_write(f, WSC_OP_TEXT, 0, mask, "hel", 3);
  CHECK_EQ(c4j_ws_feed(&p, f, n), (long)n);
  CHECK_EQ(g.n, 0);                          /* not whole yet */
  n = wsc_frame_write(f, WSC_OP_CONT, 1, mask, "lo", 2);
  CHECK_EQ(c4j_ws_feed(&p, f, n), (long)n);
  CHECK_EQ(g.n, 1);
  CHECK(g.len == 5 && memcmp(g.data, "hello", 5) == 0);
  n = wsc_frame_write(f, WSC_OP_PONG, 1, mask, "p", 1);
  CHECK_EQ(c4j_ws_feed(&p, f, n), (long)n);
  CHECK_EQ(g.n, 2);
  CHECK_EQ(g.op, C4J_WS_OP_PONG);
  c4j_ws_parser_free(&p);
  free(g.data);
}

/* ---- Server frames into the client's parser ------------------------------ */

TEST(server_frames_parse_on_the_client) {
  size_t sizes[] = { 0, 125, 126, 65535, 65536 };
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t n = sizes[i], h;
    uint8_t *f = malloc(n + 10);
    wsc_frame_t fr;
    h = c4j_ws_write_header(f, C4J_WS_OP_BINARY, n);
    memset(f + h, 'x', n);
    /* Every prefix is incomplete; the whole frame is one frame. */
    CHECK_EQ(wsc_frame_parse(f, 0, &fr), 0);
    CHECK_EQ(wsc_frame_parse(f, 1, &fr), 0);
    CHECK_EQ(wsc_frame_parse(f, h + n - 1, &fr), 0);
    CHECK_EQ(wsc_frame_parse(f, h + n, &fr), (long)(h + n));
    CHECK_EQ(fr.op, WSC_OP_BINARY);
    CHECK_EQ(fr.fin, 1);
    CHECK_EQ(fr.len, n);
    CHECK(fr.data == f + h);
    free(f);
  }
}

TEST(server_close_and_masked_frames) {
  uint8_t f[256];
  static const uint8_t mask[4] = { 1, 1, 1, 1 };
  wsc_frame_t fr;
  size_t n = c4j_ws_write_close(f, 4001, "bye");
  CHECK_EQ(wsc_frame_parse(f, n, &fr), (long)n);
  CHECK_EQ(fr.op, WSC_OP_CLOSE);
  CHECK_EQ(fr.len, 5);
  CHECK_EQ(fr.data[0] << 8 | fr.data[1], 4001);
  CHECK(memcmp(fr.data + 2, "bye", 3) == 0);
  /* A server never masks: the client says so. */
  n = wsc_frame_write(f, WSC_OP_TEXT, 1, mask, "x", 1);
  CHECK_EQ(wsc_frame_parse(f, n, &fr), WSC_EMASKED);
}

/* ---- Tickets, base64url -------------------------------------------------- */

TEST(tickets_verify_on_the_server) {
  char claims[256], tok[1024];
  c4j_ticket_t t;
  long exp = (long)time(NULL) + 60;
  int n;
  snprintf(claims, sizeof(claims),
           "{\"cid\":\"abc\",\"sub\":\"alice\",\"exp\":%ld,\"ch\":[\"news\"]}",
           exp);
  n = wsc_ticket(KEY, sizeof(KEY) - 1, claims, tok, sizeof(tok));
  CHECK(n > 0 && (size_t)n == strlen(tok));
  CHECK_EQ(c4j_auth_verify((const uint8_t *)KEY, sizeof(KEY) - 1, tok,
                           (size_t)n, exp - 30, &t), 0);
  CHECK_STR(t.cid, "abc");
  CHECK_STR(t.user, "alice");
  CHECK_EQ(t.nchannels, 1);
  /* Another key: refused.  Too small a buffer: WSC_ETOOBIG. */
  CHECK_EQ(c4j_auth_verify((const uint8_t *)"other", 5, tok, (size_t)n,
                           exp - 30, &t), C4J_ETICKET);
  CHECK_EQ(wsc_ticket(KEY, sizeof(KEY) - 1, claims, tok, (size_t)n),
           WSC_ETOOBIG);
  CHECK_EQ(wsc_ticket(KEY, sizeof(KEY) - 1, claims, tok, (size_t)n + 1), n);
}

TEST(b64url_as_the_core) {
  uint8_t in[40];
  char a[64], b[64];
  for (size_t i = 0; i < sizeof(in); i++) in[i] = (uint8_t)(i * 37 + 250);
  for (size_t n = 0; n <= sizeof(in); n++) {
    size_t k = wsc_b64url(in, n, a);
    size_t m = c4j_b64url_encode(in, n, b);
    b[m] = '\0';
    CHECK_EQ(k, m);
    CHECK_STR(a, b);
  }
}

/* ---- The answer's head, the reader --------------------------------------- */

#define HEAD_101                                                             \
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"             \
  "Connection: Upgrade\r\nSec-WebSocket-Accept: " WSC_ACCEPT "\r\n\r\n"

TEST(answer_heads) {
  const char *bad = "HTTP/1.1 101 Switching Protocols\r\n"
                    "Sec-WebSocket-Accept: "
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
  const char *refused = "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno";
  int status = 0;
  CHECK_EQ(wsc_head(HEAD_101, sizeof(HEAD_101) - 5, &status), 0);
  CHECK_EQ(wsc_head(HEAD_101, sizeof(HEAD_101) - 1, &status),
           (long)sizeof(HEAD_101) - 1);
  CHECK_EQ(status, 101);
  CHECK_EQ(wsc_head(bad, strlen(bad), &status), WSC_EACCEPT);
  CHECK_EQ(wsc_head(refused, strlen(refused), &status),
           (long)strlen(refused) - 2);
  CHECK_EQ(status, 403);
  CHECK(wsc_head("SSH-2.0\r\n\r\n", 11, &status) == 11 && status == -1);
}

typedef struct {
  int n;
  int ops[8];
  char text[8][16];
} frames_t;

static void collect(void *arg, const wsc_frame_t *f) {
  frames_t *fs = arg;
  if (fs->n < 8) {
    fs->ops[fs->n] = f->op;
    snprintf(fs->text[fs->n], sizeof(fs->text[0]), "%.*s", (int)f->len,
             (const char *)f->data);
  }
  fs->n++;
}

TEST(reader_byte_by_byte) {
  uint8_t in[512];
  size_t n = sizeof(HEAD_101) - 1;
  static wsc_reader_t r;
  frames_t fs;
  memcpy(in, HEAD_101, n);
  n += c4j_ws_write_header(in + n, C4J_WS_OP_TEXT, 5);
  memcpy(in + n, "hello", 5);
  n += 5;
  n += c4j_ws_write_header(in + n, C4J_WS_OP_PING, 0);
  n += c4j_ws_write_close(in + n, 1001, "");
  memset(&r, 0, sizeof(r));
  memset(&fs, 0, sizeof(fs));
  for (size_t i = 0; i < n; i++)
    CHECK_EQ(wsc_reader_feed(&r, in + i, 1, collect, &fs), 0);
  CHECK(r.upgraded);
  CHECK_EQ(fs.n, 3);
  CHECK_EQ(fs.ops[0], WSC_OP_TEXT);
  CHECK_STR(fs.text[0], "hello");
  CHECK_EQ(fs.ops[1], WSC_OP_PING);
  CHECK_EQ(fs.ops[2], WSC_OP_CLOSE);
  CHECK_EQ(r.len, 0);
  /* All at once: the same. */
  memset(&r, 0, sizeof(r));
  memset(&fs, 0, sizeof(fs));
  CHECK_EQ(wsc_reader_feed(&r, in, n, collect, &fs), 0);
  CHECK_EQ(fs.n, 3);
}

TEST(reader_errors) {
  static wsc_reader_t r;
  static uint8_t big[4096];
  frames_t fs;
  const char *refused = "HTTP/1.1 401 Unauthorized\r\n\r\n";
  size_t n;
  memset(&r, 0, sizeof(r));
  CHECK_EQ(wsc_reader_feed(&r, refused, strlen(refused), collect, &fs),
           WSC_EREFUSED);
  CHECK(memcmp(r.buf, "HTTP/1.1 401", 12) == 0);
  /* A frame larger than the reader's buffer. */
  memset(&r, 0, sizeof(r));
  memset(&fs, 0, sizeof(fs));
  n = sizeof(HEAD_101) - 1;
  memcpy(big, HEAD_101, n);
  n += c4j_ws_write_header(big + n, C4J_WS_OP_TEXT, 2000);
  memset(big + n, 'b', 2000);
  n += 2000;
  CHECK_EQ(wsc_reader_feed(&r, big, n, collect, &fs), WSC_ETOOBIG);
  CHECK_EQ(fs.n, 0);
}

TEST_MAIN(T(client_frames_parse_on_the_server),
          T(client_fragments_and_pongs_on_the_server),
          T(server_frames_parse_on_the_client),
          T(server_close_and_masked_frames), T(tickets_verify_on_the_server),
          T(b64url_as_the_core), T(answer_heads), T(reader_byte_by_byte),
          T(reader_errors))
