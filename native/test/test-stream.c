/* test-stream.c - the HTTP transports' encodings: the JSON inside a server
 * frame of every header size, the SSE event made once per frame and shared
 * (buf.h's alt), the head of every HTTP answer with its CORS headers, and
 * long-poll answer bodies. */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "common.h"
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
  /* A stream: no type given, no length, kept open. */
  n = c4j__http_head(out, sizeof(out), 204, NULL, -1, 1, NULL);
  CHECK_STR(out, "HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n\r\n");
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

TEST_MAIN(T(frame_json_every_header_size), T(stream_event_made_once_and_shared),
          T(stream_event_one_data_line), T(stream_event_of_a_long_frame),
          T(http_head_fields), T(http_head_cors), T(http_head_does_not_fit),
          T(poll_answer_bodies), T(poll_answer_long_frames))
