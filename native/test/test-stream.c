/* test-stream.c - the HTTP transports' encodings: the JSON inside a server
 * frame of every header size, the SSE event made once per frame and shared
 * (buf.h's alt), the head of every HTTP answer with its CORS headers,
 * long-poll answer bodies, and the JSON form of a binary message frame
 * (frames.h: its head with "b64") shared by both HTTP transports. */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "common.h"
#include "frames.h"
#include "stream.h"
#include "test.h"
#include "ws.h"

/* An unmasked text frame of json, as the core builds them. */
static c4j__buf_t *frame(const char *json, uint64_t offset, const void *chan) {
  size_t n = strlen(json), h = c4j_ws_header_len(n);
  c4j__buf_t *b = c4j__buf_new(h + n);
  c4j_ws_write_header(b->data, C4J_WS_OP_TEXT, n);
  memcpy(b->data + h, json, n);
  b->offset = offset;
  b->chan = chan;
  return b;
}

/* The buffer's bytes as a NUL-ended string (static, for CHECK_STR). */
static const char *text(const c4j__buf_t *b) {
  static char out[1 << 17];
  size_t n = b->len < sizeof(out) - 1 ? b->len : sizeof(out) - 1;
  memcpy(out, b->data, n);
  out[n] = '\0';
  return out;
}

/* A JSON string "zzz..." of n bytes in all. */
static char *long_json(size_t n) {
  char *s = malloc(n + 1);
  s[0] = '"';
  memset(s + 1, 'z', n - 2);
  s[n - 1] = '"';
  s[n] = '\0';
  return s;
}

TEST(frame_json_every_header_size) {
  size_t sizes[] = { 2, 125, 126, 65535, 65536, 70000 };
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    char *json = long_json(sizes[i]);
    c4j__buf_t *b = frame(json, 0, NULL);
    size_t n = 0;
    const uint8_t *p = c4j__frame_json(b, &n);
    CHECK_EQ(n, sizes[i]);
    CHECK(p == b->data + c4j_ws_header_len(sizes[i]));
    CHECK(memcmp(p, json, sizes[i]) == 0);
    c4j__buf_unref(b);
    free(json);
  }
}

TEST(stream_event_made_once_and_shared) {
  static int chan;
  c4j__buf_t *ws = frame("{\"t\":\"msg\",\"data\":1}", 7, &chan);
  c4j__buf_t *ev = c4j__stream_event(ws);
  CHECK(ev != NULL);
  if (ev == NULL) return;
  CHECK_STR(text(ev), "data: {\"t\":\"msg\",\"data\":1}\n\n");
  /* It carries the frame's offset and channel (resume counts it). */
  CHECK_EQ(ev->offset, 7);
  CHECK(ev->chan == &chan);
  /* Installed as the frame's alt, and the same one every time after. */
  CHECK(atomic_load(&ws->alt) == ev);
  CHECK(c4j__stream_event(ws) == ev);
  CHECK_EQ(atomic_load(&ev->refs), 1); /* the frame's only: borrowed */
  /* The frame's last reference frees the event too (the leak check). */
  c4j__buf_unref(ws);
}

TEST(stream_event_one_data_line) {
  /* Line breaks between JSON tokens become spaces; escaped ones stay. */
  c4j__buf_t *ws = frame("{\"a\":\r\n[1,\n2],\"s\":\"x\\ny\"}", 0, NULL);
  c4j__buf_t *ev = c4j__stream_event(ws);
  CHECK_STR(text(ev), "data: {\"a\":  [1, 2],\"s\":\"x\\ny\"}\n\n");
  c4j__buf_unref(ws);
}

TEST(stream_event_of_a_long_frame) {
  char *json = long_json(70000);
  c4j__buf_t *ws = frame(json, 0, NULL);
  c4j__buf_t *ev = c4j__stream_event(ws);
  CHECK_EQ(ev->len, 6 + 70000 + 2);
  CHECK(memcmp(ev->data, "data: \"zz", 9) == 0);
  CHECK(memcmp(ev->data + ev->len - 5, "zz\"\n\n", 5) == 0);
  c4j__buf_unref(ws);
  free(json);
}

TEST(http_head_fields) {
  char out[1024];
  long n = c4j__http_head(out, sizeof(out), 200, "application/json", 11, 0,
                          NULL);
  CHECK_EQ(n, (long)strlen(out));
  CHECK_STR(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Content-Length: 11\r\nConnection: close\r\n"
                 "Cache-Control: no-store\r\n\r\n");
  /* No type given, no length, kept open (HTTP keep-alive). */
  n = c4j__http_head(out, sizeof(out), 204, NULL, -1, 1, NULL);
  CHECK_STR(out, "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n"
                 "Cache-Control: no-store\r\n\r\n");
  CHECK_EQ(n, (long)strlen(out));
  /* A length of 0 is written. */
  c4j__http_head(out, sizeof(out), 404, NULL, 0, 0, NULL);
  CHECK(strstr(out, "HTTP/1.1 404 Not Found\r\n") == out);
  CHECK(strstr(out, "Content-Length: 0\r\n") != NULL);
  /* Every status has a phrase, unknown ones "Error". */
  c4j__http_head(out, sizeof(out), 429, NULL, -1, 0, NULL);
  CHECK(strstr(out, "HTTP/1.1 429 Too Many Requests\r\n") == out);
  c4j__http_head(out, sizeof(out), 503, NULL, -1, 0, NULL);
  CHECK(strstr(out, "HTTP/1.1 503 Service Unavailable\r\n") == out);
  c4j__http_head(out, sizeof(out), 418, NULL, -1, 0, NULL);
  CHECK(strstr(out, "HTTP/1.1 418 Error\r\n") == out);
}

TEST(http_head_cors) {
  char out[1024];
  c4j__http_head(out, sizeof(out), 200, "text/event-stream", -1, 1,
                 "https://app.example");
  CHECK(strstr(out, "\r\nAccess-Control-Allow-Origin: https://app.example\r\n"
                    "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
                    "Access-Control-Allow-Headers: Content-Type\r\n"
                    "Access-Control-Max-Age: 600\r\n"
                    "Vary: Origin\r\n") != NULL);
  CHECK(strstr(out, "Connection: close") == NULL);
  CHECK(strstr(out, "Content-Length") == NULL);
  /* Without an origin there is no CORS header at all. */
  c4j__http_head(out, sizeof(out), 200, "text/event-stream", -1, 1, NULL);
  CHECK(strstr(out, "Access-Control") == NULL);
  CHECK(strstr(out, "Vary") == NULL);
}

TEST(http_head_does_not_fit) {
  char out[1024], origin[300];
  long n = c4j__http_head(out, sizeof(out), 200, "application/json", 2, 0,
                          NULL);
  CHECK(n > 0);
  /* One byte short of the head and its NUL: -1. */
  CHECK_EQ(c4j__http_head(out, (size_t)n, 200, "application/json", 2, 0,
                          NULL), -1);
  CHECK_EQ(c4j__http_head(out, (size_t)n + 1, 200, "application/json", 2, 0,
                          NULL), n);
  /* An origin too long for the CORS headers. */
  memset(origin, 'o', sizeof(origin) - 1);
  origin[sizeof(origin) - 1] = '\0';
  CHECK_EQ(c4j__http_head(out, sizeof(out), 200, NULL, -1, 0, origin), -1);
}

TEST(poll_answer_bodies) {
  c4j__buf_t *f[3], *b;
  const char *body;
  f[0] = frame("{\"o\":1}", 1, NULL);
  f[1] = frame("[2]", 2, NULL);
  f[2] = frame("\"three\"", 3, NULL);
  /* No frame: an empty array. */
  b = c4j__stream_poll_body(f, 0, NULL);
  CHECK(b != NULL);
  CHECK_STR(text(b), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\nConnection: close\r\n"
                     "Cache-Control: no-store\r\n\r\n[]");
  c4j__buf_unref(b);
  /* One, then three frames: their JSON, comma-separated. */
  b = c4j__stream_poll_body(f, 1, NULL);
  body = strstr(text(b), "\r\n\r\n") + 4;
  CHECK_STR(body, "[{\"o\":1}]");
  CHECK(strstr(text(b), "Content-Length: 9\r\n") != NULL);
  c4j__buf_unref(b);
  b = c4j__stream_poll_body(f, 3, "https://app.example");
  body = strstr(text(b), "\r\n\r\n") + 4;
  CHECK_STR(body, "[{\"o\":1},[2],\"three\"]");
  CHECK(strstr(text(b), "Content-Length: 21\r\n") != NULL);
  CHECK(strstr(text(b), "Access-Control-Allow-Origin: https://app.example\r\n")
        != NULL);
  /* A copy: the frames keep their one reference. */
  for (int i = 0; i < 3; i++) CHECK_EQ(atomic_load(&f[i]->refs), 1);
  c4j__buf_unref(b);
  for (int i = 0; i < 3; i++) c4j__buf_unref(f[i]);
}

TEST(poll_answer_long_frames) {
  char *json = long_json(70000), head[64];
  c4j__buf_t *f[2], *b;
  f[0] = frame(json, 1, NULL);
  f[1] = frame(json, 2, NULL);
  b = c4j__stream_poll_body(f, 2, NULL);
  snprintf(head, sizeof(head), "Content-Length: %d\r\n", 2 + 2 * 70000 + 1);
  CHECK(strstr(text(b), head) != NULL);
  CHECK_EQ(b->data[b->len - 1], ']');
  CHECK(memchr(b->data, ',', b->len) != NULL);
  c4j__buf_unref(b);
  c4j__buf_unref(f[0]);
  c4j__buf_unref(f[1]);
  free(json);
}

/* ---- Binary message frames ----------------------------------------------- */

/* The binary message frame of n bytes (frames.c), as the sends make it. */
static c4j__buf_t *binary(const uint8_t *bytes, size_t n, size_t max) {
  char *tagged = malloc(n + 1);
  c4j__buf_t *b = NULL;
  tagged[0] = C4J__DATA_BINARY;
  memcpy(tagged + 1, bytes, n);
  CHECK_EQ(c4j__frame_msg(max, "bin", 3, NULL, NULL, tagged, n + 1, 42, &b),
           0);
  free(tagged);
  return b;
}

/* Standard base64, written here apart from the core's. */
static char *b64(const uint8_t *p, size_t n) {
  static const char a[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = malloc((n + 2) / 3 * 4 + 1);
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
  return out;
}

TEST(binary_frame_and_its_json_form) {
  static const uint8_t bytes[] = { 0, 0xff, '"', '\n', 'z' };
  static const char *want[] = { "", "AA==", "AP8=", "AP8i", "AP8iCg==",
                                "AP8iCno=" };
  for (size_t n = 0; n <= 5; n++) {
    c4j__buf_t *b = binary(bytes, n, 1 << 20), *t, *ev;
    size_t len = 0;
    const uint8_t *p;
    char json[128];
    if (b == NULL) continue;
    /* The WebSocket frame: opcode 2, u16 head length, head, bytes. */
    CHECK_EQ(b->data[0], 0x82);
    p = c4j__frame_json(b, &len);
    CHECK_EQ((p[0] << 8 | p[1]), 32);
    CHECK(memcmp(p + 2, "{\"t\":\"msg\",\"ch\":\"bin\",\"time\":42}", 32) == 0);
    CHECK_EQ(len, 2 + 32 + n);
    CHECK(memcmp(p + 2 + 32, bytes, n) == 0);
    /* Its JSON form, made once and shared. */
    t = c4j__stream_text(b);
    CHECK(t != NULL && t != b);
    if (t == NULL) continue;
    CHECK(c4j__stream_text(b) == t);
    CHECK_EQ(t->data[0], 0x81);
    snprintf(json, sizeof(json),
             "{\"t\":\"msg\",\"ch\":\"bin\",\"time\":42,\"b64\":\"%s\"}",
             want[n]);
    p = c4j__frame_json(t, &len);
    CHECK_EQ(len, strlen(json));
    CHECK(memcmp(p, json, len) == 0);
    /* The SSE event of the binary frame is its JSON form's. */
    ev = c4j__stream_event(b);
    CHECK(ev != NULL && ev == c4j__stream_event(t));
    if (ev) {
      char sse[160];
      snprintf(sse, sizeof(sse), "data: %s\n\n", json);
      CHECK_EQ(ev->len, strlen(sse));
      CHECK(memcmp(ev->data, sse, strlen(sse)) == 0);
    }
    c4j__buf_unref(b); /* frees the JSON form and the event too */
  }
}

/* A text frame is its own JSON form; binary frames go in a poll answer in
 * their JSON form, between text ones; and the base64 of a message longer
 * than the core encodes in one slice (3 MiB) is whole. */
TEST(binary_in_poll_bodies_and_long) {
  static const uint8_t bytes[] = { 1, 2, 3, 4 };
  size_t big = (3u << 20) + 7;
  uint8_t *lots = malloc(big);
  c4j__buf_t *f[3], *b, *t;
  char *enc;
  size_t len;
  const uint8_t *p;
  f[0] = frame("{\"o\":1}", 1, NULL);
  CHECK(c4j__stream_text(f[0]) == f[0]);
  f[1] = binary(bytes, 4, 1 << 20);
  f[2] = frame("[3]", 3, NULL);
  b = c4j__stream_poll_body(f, 3, NULL);
  CHECK(b != NULL);
  if (b)
    CHECK_STR(strstr(text(b), "\r\n\r\n") + 4,
              "[{\"o\":1},{\"t\":\"msg\",\"ch\":\"bin\",\"time\":42,"
              "\"b64\":\"AQIDBA==\"},[3]]");
  c4j__buf_unref(b);
  for (int i = 0; i < 3; i++) c4j__buf_unref(f[i]);

  for (size_t i = 0; i < big; i++) lots[i] = (uint8_t)(i * 13 + (i >> 10));
  f[0] = binary(lots, big, 8u << 20);
  t = f[0] ? c4j__stream_text(f[0]) : NULL;
  CHECK(t != NULL);
  if (t) {
    enc = b64(lots, big);
    p = c4j__frame_json(t, &len);
    /* The head without its '}' (31 bytes), ,"b64":" (8), the base64. */
    CHECK_EQ(len, 31 + 8 + strlen(enc) + 2);
    CHECK(len > 39 && memcmp(p + 39, enc, strlen(enc)) == 0);
    CHECK(memcmp(p + len - 2, "\"}", 2) == 0);
    free(enc);
  }
  c4j__buf_unref(f[0]);
  free(lots);
  /* A binary frame that is no message frame has no JSON form. */
  f[0] = c4j__buf_new(4);
  c4j_ws_write_header(f[0]->data, C4J_WS_OP_BINARY, 2);
  f[0]->data[2] = 0, f[0]->data[3] = 9;
  CHECK(c4j__stream_text(f[0]) == NULL);
  CHECK(c4j__stream_event(f[0]) == NULL);
  c4j__buf_unref(f[0]);
}

TEST_MAIN(T(frame_json_every_header_size), T(stream_event_made_once_and_shared),
          T(stream_event_one_data_line), T(stream_event_of_a_long_frame),
          T(http_head_fields), T(http_head_cors), T(http_head_does_not_fit),
          T(poll_answer_bodies), T(poll_answer_long_frames),
          T(binary_frame_and_its_json_form),
          T(binary_in_poll_bodies_and_long))
