/* fuzz-deflate.c - libFuzzer target: permessage-deflate (deflate.c).  The
 * input as a Sec-WebSocket-Extensions value (c4j__deflate_negotiate must
 * answer -1, 0 or an acceptance), and after its first byte (which picks
 * the limit, 0 to 8 KiB) as a client's compressed message, whose
 * inflation must never pass the limit; then as a text frame's payload,
 * whose compressed twin must inflate back to exactly those bytes. */
#include <stdlib.h>
#include <string.h>

#include "deflate.h"
#include "frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static c4j__zip_t *z;
  static char text[70000];
  const uint8_t *out;
  size_t len, max;
  int r;
  c4j__buf_t *b, *d;
  if (z == NULL && (z = c4j__zip_new()) == NULL) abort();
  if (size >= sizeof(text)) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  r = c4j__deflate_negotiate(text);
  if (r < -1 || r > C4J__DEFLATE_ON_15) abort();
  if (size == 0) return 0;
  max = (size_t)data[0] * 32;
  r = c4j__inflate_message(z, data + 1, size - 1, max, &out, &len);
  if (r == 0 && len > max) abort();
  if (r != 0 && r != C4J__INFLATE_TOO_BIG && r != C4J__INFLATE_BAD &&
      r != C4J__INFLATE_NOMEM)
    abort();
  /* The twin of a frame of these bytes inflates back to them. */
  b = c4j__frame_text((const char *)data, size);
  if (b == NULL) return 0;
  d = c4j__deflate_frame(z, b);
  if (d != b) {
    size_t h = (d->data[1] & 0x7f) == 126 ? 4 : (d->data[1] & 0x7f) == 127 ? 10 : 2;
    if ((d->data[0] & 0x40) == 0 || d->len >= b->len) abort();
    if (c4j__inflate_message(z, d->data + h, d->len - h, size, &out, &len) != 0 ||
        len != size || memcmp(out, data, size) != 0)
      abort();
  }
  c4j__buf_unref(b);
  return 0;
}
