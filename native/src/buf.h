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

typedef struct c4j__buf_s c4j__buf_t;

/* Invariant: `data`, `len`, `offset` and `chan` are written only by the
 * creator,
 * before the buffer is shared; afterwards they are read-only and only
 * `refs` and `alt` change.  `offset` is the channel offset of a broadcast
 * frame (0 for every other frame) and `chan` its history channel (an
 * opaque c4j__hist_chan_t, which lives as long as the engine; NULL for
 * every other frame).  `alt` is NULL or another encoding of
 * the same frame (the SSE event), created at most once by whichever worker
 * first needs it and installed with a compare-and-swap; this buffer holds
 * one reference to it.  `zip` is the same for the frame compressed for
 * permessage-deflate (deflate.h): NULL until a worker needs it,
 * C4J__ZIP_BUSY while one makes it, C4J__ZIP_PLAIN when it goes plain
 * to every receiver, else the compressed frame (one reference held). */
struct c4j__buf_s {
  atomic_uint refs;
  uint32_t len;
  uint64_t offset;
  const void *chan;
  _Atomic(c4j__buf_t *) alt;
  _Atomic(c4j__buf_t *) zip;
  uint8_t data[];
};

/* The two marks `zip` holds instead of a buffer. */
#define C4J__ZIP_BUSY ((c4j__buf_t *)1)
#define C4J__ZIP_PLAIN ((c4j__buf_t *)2)

/* A buffer of len bytes (contents undefined) with one reference, or NULL
 * when out of memory or len does not fit in 32 bits. */
c4j__buf_t *c4j__buf_new(size_t len);
/* A buffer holding a copy of the n bytes at p, one reference. */
c4j__buf_t *c4j__buf_copy(const void *p, size_t n);
/* Adds n references; returns b. */
c4j__buf_t *c4j__buf_ref(c4j__buf_t *b, unsigned n);
/* Drops one reference, freeing the buffer (and its alt) with the last one.
 * NULL is a no-op. */
void c4j__buf_unref(c4j__buf_t *b);
/* Installs alt (one reference, taken over) unless another thread did
 * first; returns the installed one, borrowed for as long as b lives. */
c4j__buf_t *c4j__buf_set_alt(c4j__buf_t *b, c4j__buf_t *alt);

#endif /* C4J_BUF_H */
