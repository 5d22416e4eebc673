/* test-http.c - unit tests of the HTTP request reader. */
#include "test.h"
#include "http.h"

#include <stdlib.h>

static c4j_http_req_t req;

#define UPGRADE                                                             \
  "GET /ws?ticket=abc.def-ghi&v=1 HTTP/1.1\r\n"                             \
  "Host: example.com:4100\r\n"                                              \
  "upgrade: WebSocket\r\n"                                                  \
  "CONNECTION: keep-alive, Upgrade\r\n"                                     \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                         \
  "sec-websocket-version: 13\r\n"                                           \
  "Origin: http://example.com\r\n"                                          \
  "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n"                              \
  "X-Forwarded-For: 10.9.9.9\r\n"                                           \
  "User-Agent: test\r\n"                                                    \
  "\r\n"
#define FRAME "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"

/* Feeds in cut at the given offset; returns the bytes consumed in all, or
 * -1 on error.  Once the headers are done, later feeds consume nothing. */
static long feed2(const char *in, size_t n, size_t cut, size_t max) {
  long a, b;
  c4j_http_init(&req, max);
  a = c4j_http_feed(&req, (const uint8_t *)in, cut);
  if (a < 0) return -1;
  if (req.done) return a;
  b = c4j_http_feed(&req, (const uint8_t *)in + cut, n - cut);
  return b < 0 ? -1 : a + b;
}

static long feed_bytes(const char *in, size_t n, size_t max) {
  long total = 0;
  c4j_http_init(&req, max);
  for (size_t i = 0; i < n && !req.done; i++) {
    long rc = c4j_http_feed(&req, (const uint8_t *)in + i, 1);
    if (rc < 0) return -1;
    total += rc;
  }
  return total;
}

static void check_upgrade_fields(void) {
  CHECK(req.done);
  CHECK_EQ(req.status, 0);
  CHECK_EQ(req.method, HTTP_GET);
  CHECK_STR(req.target, "/ws?ticket=abc.def-ghi&v=1");
  CHECK_STR(req.ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK_STR(req.ws_version, "13");
  CHECK_STR(req.origin, "http://example.com");
  CHECK_STR(req.forwarded_for, "203.0.113.7");
  CHECK(req.upgrade_websocket);
  CHECK(req.connection_upgrade);
}

TEST(upgrade_every_split) {
  const char *in = UPGRADE FRAME;
  size_t n = strlen(in), head = strlen(UPGRADE);
  CHECK_EQ(feed2(in, n, n, 8192), head);
  check_upgrade_fields();
  CHECK_EQ(req.header_bytes, head);
  /* Done: no more bytes are taken. */
  CHECK_EQ(c4j_http_feed(&req, (const uint8_t *)in + head, n - head), 0);
  CHECK_EQ(feed_bytes(in, n, 8192), head);
  check_upgrade_fields();
  for (size_t cut = 0; cut <= n; cut++) {
    long got = feed2(in, n, cut, 8192);
    if (got != (long)head) {
      fprintf(stderr, "  cut at %zu: %ld\n", cut, got);
      CHECK(0);
    }
    check_upgrade_fields();
  }
}

TEST(plain_requests) {
  const char *get = "GET /stats HTTP/1.0\r\n\r\n";
  const char *post = "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
  const char *pipe = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  CHECK_EQ(feed2(get, strlen(get), strlen(get), 8192), strlen(get));
  CHECK_STR(req.target, "/stats");
  CHECK(!req.upgrade_websocket && !req.connection_upgrade);
  CHECK_STR(req.ws_key, "");
  CHECK_EQ(feed2(post, strlen(post), strlen(post), 8192), strlen(post) - 4);
  CHECK_EQ(req.method, HTTP_POST);
  CHECK_EQ(feed2(pipe, strlen(pipe), strlen(pipe), 8192), 19);
  CHECK_STR(req.target, "/a");
  /* Incomplete: everything consumed, not done. */
  CHECK_EQ(feed2(get, 10, 10, 8192), 10);
  CHECK(!req.done);
  CHECK_EQ(req.status, 0);
}

TEST(header_limit) {
  char in[600];
  size_t head;
  int n = snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nX-Pad: %0200d\r\n\r\n",
                   0);
  head = (size_t)n;
  /* Exactly at the limit, then one byte short. */
  CHECK_EQ(feed2(in, head, head, head), head);
  CHECK(req.done);
  CHECK_EQ(feed2(in, head, head, head - 1), -1);
  CHECK_EQ(req.status, 431);
  CHECK_EQ(feed_bytes(in, head, head - 1), -1);
  CHECK_EQ(req.status, 431);
  for (size_t cut = 0; cut <= head; cut++) {
    CHECK_EQ(feed2(in, head, cut, 100), -1);
    CHECK_EQ(req.status, 431);
  }
  /* A stored header too long for its field. */
  n = snprintf(in, sizeof(in),
               "GET / HTTP/1.1\r\nOrigin: http://%0300d\r\n\r\n", 0);
  CHECK_EQ(feed2(in, (size_t)n, (size_t)n, 8192), -1);
  CHECK_EQ(req.status, 431);
  n = snprintf(in, sizeof(in),
               "GET / HTTP/1.1\r\nSec-WebSocket-Key: %040d\r\n\r\n", 0);
  CHECK_EQ(feed2(in, (size_t)n, 30, 8192), -1);
  CHECK_EQ(req.status, 431);
  /* Long unknown names and long Connection tokens are only ignored. */
  n = snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nX-%0100d: 1\r\n"
               "Connection: %0100d, upgrade\r\n\r\n", 0, 0);
  CHECK_EQ(feed2(in, (size_t)n, 40, 8192), n);
  CHECK(req.connection_upgrade);
}

TEST(target_limit) {
  static char in[C4J_HTTP_MAX_TARGET + 64];
  size_t n;
  memcpy(in, "GET /", 5);
  memset(in + 5, 'a', C4J_HTTP_MAX_TARGET - 2);
  strcpy(in + 5 + C4J_HTTP_MAX_TARGET - 2, " HTTP/1.1\r\n\r\n");
  n = strlen(in);
  CHECK_EQ(feed2(in, n, n, 8192), n);
  CHECK_EQ(strlen(req.target), C4J_HTTP_MAX_TARGET - 1);
  CHECK_EQ(feed2(in, n, 1000, 8192), n);
  memcpy(in + 5, "aa", 2);
  memmove(in + 6, in + 5, n - 5 + 1);
  n++;
  CHECK_EQ(feed2(in, n, n, 8192), -1);
  CHECK_EQ(req.status, 414);
  CHECK_EQ(feed2(in, n, 700, 8192), -1);
  CHECK_EQ(req.status, 414);
  CHECK_EQ(feed_bytes(in, n, 8192), -1);
  CHECK_EQ(req.status, 414);
}

TEST(malformed) {
  static const char *bad[] = {
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "HELLO\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
    "GET /a b HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\n: empty-name\r\n\r\n",
    "GET / HTTP/x.1\r\n\r\n",
    "GET\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\nsec-websocket-key: b\r\n\r\n",
    ("GET / HTTP/1.1\r\nSec-WebSocket-Version: 13\r\n"
     "Sec-WebSocket-Version: 8\r\n\r\n"),
    "GET / HTTP/1.1\r\nSec-WebSocket-Key:\r\nSec-WebSocket-Key: x\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t n = strlen(bad[i]);
    long rc = feed2(bad[i], n, n, 8192);
    if (rc != -1 || req.status != 400) {
      fprintf(stderr, "  case %zu: rc %ld status %d\n", i, rc, req.status);
      CHECK(0);
    }
    CHECK(req.error != NULL);
    /* After an error, feeding fails again. */
    CHECK_EQ(c4j_http_feed(&req, (const uint8_t *)"x", 1), -1);
  }
  /* LF-only line ends are refused (RFC 9112 section 2.2 lets a server
   * refuse a bare LF; a proxy in front may read it another way). */
  CHECK_EQ(feed2("GET / HTTP/1.1\nHost: x\n\n", 24, 24, 8192), -1);
  CHECK_EQ(req.status, 400);
}

TEST(versions) {
  const char *v2 = "GET / HTTP/2.0\r\n\r\n", *v12 = "GET / HTTP/1.2\r\n\r\n";
  const char *v10 = "GET / HTTP/1.0\r\n\r\n";
  CHECK_EQ(feed2(v2, strlen(v2), 7, 8192), -1);
  CHECK_EQ(req.status, 505);
  CHECK_EQ(feed2(v12, strlen(v12), 7, 8192), -1);
  CHECK_EQ(req.status, 505);
  CHECK_EQ(feed2(v10, strlen(v10), 7, 8192), strlen(v10));
}

static long query(const char *target, const char *name, char *out,
                  size_t cap) {
  c4j_http_init(&req, 8192);
  strcpy(req.target, target);
  return c4j_http_query(&req, name, out, cap);
}

TEST(query_and_path) {
  const char *t = "/ws?ticket=a%2Bb+c%41&x=1&empty=&flag&bad=%zz&trunc=%4"
                  "&nul=%00&tick=no&last=%e2%82%ac";
  char out[64];
  CHECK_EQ(query(t, "ticket", out, sizeof(out)), 6);
  CHECK_STR(out, "a+b cA");
  CHECK_EQ(query(t, "x", out, sizeof(out)), 1);
  CHECK_STR(out, "1");
  CHECK_EQ(query(t, "empty", out, sizeof(out)), 0);
  CHECK_STR(out, "");
  CHECK_EQ(query(t, "flag", out, sizeof(out)), 0);
  CHECK_EQ(query(t, "tick", out, sizeof(out)), 2);
  CHECK_EQ(query(t, "missing", out, sizeof(out)), -1);
  CHECK_EQ(query(t, "ticke", out, sizeof(out)), -1);
  CHECK_EQ(query(t, "bad", out, sizeof(out)), -2);
  CHECK_EQ(query(t, "trunc", out, sizeof(out)), -2);
  CHECK_EQ(query(t, "nul", out, sizeof(out)), -2);
  CHECK_EQ(query(t, "last", out, sizeof(out)), 3);
  CHECK_STR(out, "\xe2\x82\xac");
  /* Room for the value and its NUL, and one byte less. */
  CHECK_EQ(query(t, "ticket", out, 7), 6);
  CHECK_EQ(query(t, "ticket", out, 6), -2);
  CHECK_EQ(query(t, "flag", out, 0), -2);
  CHECK_EQ(query("/ws", "x", out, sizeof(out)), -1);
  CHECK_EQ(query("/ws?", "x", out, sizeof(out)), -1);
  CHECK_EQ(query("/ws?&&x=2", "x", out, sizeof(out)), 1);
  CHECK_EQ(query("/ws?x=1&x=2", "x", out, sizeof(out)), 1);
  CHECK_STR(out, "1");
  query(t, "x", out, sizeof(out));
  c4j_http_path(&req, out, sizeof(out));
  CHECK_STR(out, "/ws");
  c4j_http_path(&req, out, 2);
  CHECK_STR(out, "/");
  strcpy(req.target, "/plain/path");
  c4j_http_path(&req, out, sizeof(out));
  CHECK_STR(out, "/plain/path");
}

TEST(write_error) {
  char out[512];
  long n = c4j_http_write_error(out, sizeof(out), 431, "too large", "");
  CHECK_EQ(n, strlen(out));
  CHECK_STR(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: 9\r\n"
                 "Connection: close\r\n\r\ntoo large");
  n = c4j_http_write_error(out, sizeof(out), 403, "no", "https://a.example");
  CHECK(n > 0);
  CHECK(strstr(out, "\r\nAccess-Control-Allow-Origin: https://a.example\r\n"
                    "Vary: Origin\r\n\r\nno") != NULL);
  n = c4j_http_write_error(out, sizeof(out), 426, "", "x\r\nSet-Cookie: a=b");
  CHECK(n > 0);
  CHECK(strstr(out, "Set-Cookie") == NULL);
  CHECK(strstr(out, "Upgrade: websocket\r\n") != NULL);
  CHECK(strstr(out, "Content-Length: 0\r\n") != NULL);
  n = c4j_http_write_error(out, sizeof(out), 404, "not found", NULL);
  CHECK_EQ(c4j_http_write_error(out, (size_t)n, 404, "not found", NULL), -1);
  CHECK_EQ(c4j_http_write_error(out, (size_t)n + 1, 404, "not found", NULL),
           n);
}

/* RFC 9112 asks a server to refuse these three, which a lenient parser
 * lets through (request smuggling): a bare LF, a folded header line, white
 * space before a header's colon; whole or a byte at a time. */
TEST(strict_head) {
  static const struct { const char *in; const char *why; } bad[] = {
    { "GET / HTTP/1.1\nHost: h\r\n\r\n", "bare LF in the request head" },
    { "GET / HTTP/1.1\r\nHost: h\n\r\n", "bare LF in the request head" },
    { "GET / HTTP/1.1\r\nHost: h\r\n\n", "bare LF in the request head" },
    { "GET / HTTP/1.1\r\nX-A: 1\r\n  2\r\n\r\n",
      "folded header line (obsolete line folding)" },
    { "GET / HTTP/1.1\r\nX-A: 1\r\n\t2\r\n\r\n",
      "folded header line (obsolete line folding)" },
    { "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
      "white space in a header's name or before its colon" },
    { "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n",
      "white space in a header's name or before its colon" },
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t n = strlen(bad[i].in);
    CHECK_EQ(feed2(bad[i].in, n, n, 4096), -1);
    CHECK_EQ(req.status, 400);
    CHECK_STR(req.error ? req.error : "", bad[i].why);
    CHECK_EQ(feed_bytes(bad[i].in, n, 4096), -1);
    CHECK_STR(req.error ? req.error : "", bad[i].why);
  }
  /* White space inside values and around them is fine. */
  {
    const char *ok = "GET /x HTTP/1.1\r\nHost: h\r\nX-A:  a b\t \r\n\r\n";
    size_t n = strlen(ok);
    CHECK_EQ(feed2(ok, n, 20, 4096), (long)n);
    CHECK(req.done);
    CHECK_EQ(feed_bytes(ok, n, 4096), (long)n);
    CHECK(req.done);
  }
}

/* Sec-WebSocket-Extensions: every copy on one list (byte by byte too),
 * and a list too long for the request is declined, not refused. */
TEST(extensions_joined) {
  static const char two[] =
      "GET /ws HTTP/1.1\r\nHost: x\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits \r\n"
      "sec-websocket-extensions: x-webkit-deflate-frame\r\n\r\n";
  char big[1400];
  int n;
  CHECK_EQ(feed_bytes(two, sizeof(two) - 1, 4096), (long)(sizeof(two) - 1));
  CHECK_STR(req.ws_ext, "permessage-deflate; client_max_window_bits, "
                        "x-webkit-deflate-frame");
  CHECK_EQ(req.ws_ext_long, 0);
  n = snprintf(big, sizeof(big),
               "GET /ws HTTP/1.1\r\nSec-WebSocket-Extensions: %0600d\r\n\r\n",
               0);
  CHECK_EQ(feed2(big, (size_t)n, 10, 4096), n);
  CHECK_EQ(req.done, 1);
  CHECK_EQ(req.ws_ext_long, 1);
}

TEST_MAIN(T(upgrade_every_split), T(plain_requests), T(header_limit),
          T(target_limit), T(malformed), T(versions), T(query_and_path),
          T(write_error), T(strict_head), T(extensions_joined))
