/* fuzz-ws.c - libFuzzer target: raw bytes into the WebSocket frame parser. */
#include "ws.h"

#include <stddef.h>
#include <stdint.h>

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *d,
                      size_t n) {
  return 0;
}

static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *d,
                      size_t n) {
  return 0;
}

static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *d,
                    size_t n) {
  return 0;
}

static const c4j_ws_callbacks_t cbs = { on_message, on_control, on_close };

/* The first byte picks the options: bit 0 require_mask off, bit 1 small
 * limits, bits 2..7 the chunk size the rest is fed in (0: all at once);
 * an odd chunk size also allows RSV1 (permessage-deflate negotiated). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  c4j_ws_parser_t p;
  size_t chunk, at = 1;
  if (size < 1) return 0;
  c4j_ws_parser_init(&p, &cbs, data[0] & 2 ? 64 : 65536,
                     data[0] & 2 ? 200 : 65536);
  p.require_mask = !(data[0] & 1);
  p.allow_rsv1 = (data[0] >> 2) & 1;
  chunk = data[0] >> 2;
  if (chunk == 0) chunk = size;
  while (at < size) {
    size_t n = size - at < chunk ? size - at : chunk;
    if (c4j_ws_feed(&p, data + at, n) < 0) break;
    at += n;
  }
  c4j_ws_parser_free(&p);
  return 0;
}
