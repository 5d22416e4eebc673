/* history.h - per channel, engine-wide: the epoch, the offsets and a
 * bounded ring of the last broadcasts (shared frame buffers) for resume.
 */
#ifndef C4J_HISTORY_H
#define C4J_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "common.h"

typedef struct {
  c4j__buf_t *buf;          /* one reference; buf->offset is its offset */
  uint64_t stamp;           /* c4j__mono_ms() when appended */
} c4j__hist_entry_t;

/* The highest message number delivered here of one node that publishes
 * on a channel, for the hub's copies (hub.c): message ids are
 * "<node id>.<n>" with n growing per node, and a channel's broadcasts of
 * one node come in the order of n, so a second copy (the node sent it
 * again after losing its link, or it came both fetched and live) is one
 * whose n is not above the highest. */
#define C4J__HIST_ORIGINS 16 /* nodes remembered per channel */
typedef struct {
  char node[C4J__NODE_ID_LEN + 1];
  uint64_t n;
  uint64_t used;            /* the channel's tick when last seen */
} c4j__hist_origin_t;

/* Invariants: a channel's entries hold consecutive offsets ending at
 * `last` (the newest), oldest at `head`; `len` <= the history's size;
 * offsets start at 1 and `last` is 0 before the first broadcast.  A
 * channel exists from its first broadcast or subscription until the
 * engine is freed, so its epoch never changes while the engine runs and a
 * pointer to it stays valid (positions and buffers keep one).  `ring` is
 * allocated at the first broadcast, so that a channel only subscribed
 * costs no ring. */
typedef struct c4j__hist_chan_s {
  struct c4j__hist_chan_s *hnext;
  uint64_t last;
  uint32_t head, len;
  uint32_t hash;
  char epoch[C4J__EPOCH_LEN + 1];
  c4j__hist_entry_t *ring;  /* `size` slots, allocated with the channel */
  c4j__hist_origin_t *origins; /* C4J__HIST_ORIGINS slots once a hub
                                  delivered a message id, else NULL */
  uint64_t tick;            /* of the origins */
  char name[];
} c4j__hist_chan_t;

/* Invariant: everything below `lock` is read and written only with it
 * held.  The lock is held by a publisher from assigning an offset until
 * the frame is pushed to every worker inbox, so offset order is delivery
 * order; the workers never take it on their delivery path. */
typedef struct {
  uv_mutex_t lock;
  uint32_t size;            /* entries per channel; 0 keeps none */
  char epoch[C4J__EPOCH_LEN + 1]; /* with a hub: every channel's epoch
                                     (the cluster's); "" picks one per
                                     channel */
  uint64_t age_ms;          /* entries older than this are dropped */
  c4j__hist_chan_t **buckets;
  size_t nbuckets, count;
} c4j__hist_t;

/* Returns 0 or C4J_ENOMEM. */
int c4j__hist_init(c4j__hist_t *h, uint32_t size, uint64_t age_ms);
void c4j__hist_free(c4j__hist_t *h);

void c4j__hist_lock(c4j__hist_t *h);
void c4j__hist_unlock(c4j__hist_t *h);

/* With the lock held: the channel, created (with a fresh epoch) when
 * absent.  NULL when out of memory or the history keeps nothing. */
c4j__hist_chan_t *c4j__hist_chan(c4j__hist_t *h, const char *name,
                                 size_t len);
/* With the lock held: makes sure ch has its ring.  0 or C4J_ENOMEM. */
int c4j__hist_reserve(c4j__hist_t *h, c4j__hist_chan_t *ch);
/* With the lock held: appends b (a new reference is taken), whose offset
 * must be ch->last + 1, dropping the oldest entry when full.  Returns 0, or
 * C4J_ENOMEM (nothing kept) when the ring was not reserved and cannot be. */
int c4j__hist_append(c4j__hist_t *h, c4j__hist_chan_t *ch, c4j__buf_t *b,
                     uint64_t now);
/* With the lock held: calls fn for every channel. */
void c4j__hist_each(c4j__hist_t *h, void (*fn)(c4j__hist_chan_t *, void *),
                    void *arg);
/* With the lock held: forgets ch's entries and makes `last` its newest
 * offset (only forward): the offsets between were never seen here. */
void c4j__hist_jump(c4j__hist_t *h, c4j__hist_chan_t *ch, uint64_t last);
/* With the lock held: whether message n of node (len bytes, at most
 * C4J__NODE_ID_LEN) was delivered on ch already (n is at most the
 * highest of node's seen here); if not, it is now the highest.  A node
 * not among the C4J__HIST_ORIGINS seen last on ch (the least recent one
 * makes room), or no memory for the table, counts as new: 0. */
int c4j__hist_seen(c4j__hist_chan_t *ch, const char *node, size_t len,
                   uint64_t n);
/* With the lock held: the entries of ch after offset, as for
 * c4j__hist_since (without the epoch check). */
int c4j__hist_after(c4j__hist_t *h, c4j__hist_chan_t *ch, uint64_t offset,
                    uint64_t now, c4j__buf_t ***out, size_t *n);

/* What a client that has [epoch, offset] of channel name missed.  Takes
 * the lock.  On success returns 1 and sets *out to a new array of *n
 * references (oldest first; *out NULL when nothing was missed) and *last
 * to the channel's newest offset.  Returns 0 (not recoverable: unknown
 * channel or epoch, an offset ahead of the channel, or a gap older than
 * the ring) or C4J_ENOMEM. */
int c4j__hist_since(c4j__hist_t *h, const char *name, size_t len,
                    const char *epoch, uint64_t offset, uint64_t now,
                    c4j__buf_t ***out, size_t *n, uint64_t *last);

#endif /* C4J_HISTORY_H */
