/* fuzz-http.c - libFuzzer target: raw bytes into the HTTP request reader. */
#include "http.h"

#include <stddef.h>
#include <stdint.h>

/* The first byte picks the chunk size the rest is fed in (0: all at
 * once); a complete request then goes through the query and path
 * helpers. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  c4j_http_req_t r;
  char out[256];
  size_t chunk, at = 1;
  if (size < 1) return 0;
  c4j_http_init(&r, 1024);
  chunk = data[0] ? data[0] : size;
  while (at < size && !r.done) {
    size_t n = size - at < chunk ? size - at : chunk;
    if (c4j_http_feed(&r, data + at, n) < 0) return 0;
    at += n;
  }
  if (r.done) {
    c4j_http_path(&r, out, sizeof(out));
    c4j_http_query(&r, "ticket", out, sizeof(out));
    c4j_http_query(&r, "x", out, 4);
    c4j_http_write_error(out, sizeof(out), 400, "bad", r.origin);
  }
  return 0;
}
