/* base64.h - standard base64 (RFC 4648 section 4, with padding) for
 * comet4j-node's binary messages (docs/protocol.md section 11): the bytes
 * of a page's binary pub go to the action queue as "b64", and the HTTP
 * API's "b64" becomes bytes. */
#ifndef NODE_BASE64_H
#define NODE_BASE64_H

#include <stddef.h>

/* The bytes p[0..n) in base64, NUL ended, in a new string (malloc); NULL
 * when out of memory. */
char *b64_encode(const void *p, size_t n);

/* Decodes the n characters at s (padding required, no white space) into
 * a new buffer (malloc) of *out_len bytes (one extra byte, so that an
 * empty answer is not NULL); NULL when s is not base64 or out of
 * memory. */
unsigned char *b64_decode(const char *s, size_t n, size_t *out_len);

#endif
