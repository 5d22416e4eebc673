/* buf.h - a reference-counted, immutable byte buffer holding one framed
 * server WebSocket frame (or an HTTP response).  One broadcast is one buffer
 * shared by every recipient on every worker: each output queue entry and
 * each write in flight holds one reference.
 */
#ifndef C4J_BUF_H
#define C4J_BUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Invariant: `data` is written only by the creator, before the buffer is
 * shared; afterwards it is read-only and `refs` alone changes. */
typedef struct {
  atomic_uint refs;
  uint32_t len;
  uint8_t data[];
} c4j__buf_t;

/* A buffer of len bytes (contents undefined) with one reference, or NULL
 * when out of memory or len does not fit in 32 bits. */
c4j__buf_t *c4j__buf_new(size_t len);
/* A buffer holding a copy of the n bytes at p, one reference. */
c4j__buf_t *c4j__buf_copy(const void *p, size_t n);
/* Adds n references; returns b. */
c4j__buf_t *c4j__buf_ref(c4j__buf_t *b, unsigned n);
/* Drops one reference, freeing the buffer with the last one.  NULL is a
 * no-op. */
void c4j__buf_unref(c4j__buf_t *b);

#endif /* C4J_BUF_H */
