/* held.h - the engine-wide register of the connection ids the core holds
 * (attached, between long-polls, or dying), which worker holds each and,
 * for an id without a socket, where it stands in each channel: what a
 * worker needs to know about the others when an id attaches.
 */
#ifndef C4J_HELD_H
#define C4J_HELD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "channel.h"

/* How the holder keeps an id. */
enum {
  C4J__HELD_NONE = 0,   /* not held (only as a result) */
  C4J__HELD_ALIVE,      /* a transport is attached */
  C4J__HELD_PARKED,     /* a long-poll client between two polls */
  C4J__HELD_DYING       /* transport lost; kept for conn_expires_ms */
};

typedef struct {
  int worker;           /* holder's index, -1 when not held */
  int state;
} c4j__holder_t;

/* Where an identity stands: per history channel (an opaque
 * c4j__hist_chan_t, alive as long as the engine), the offset of the last
 * broadcast handed to its client.  The next connection of the identity
 * goes on from there, on whichever worker it lands. */
typedef struct {
  uint32_t n;
  struct {
    const void *chan;
    uint64_t off;
  } v[];
} c4j__pos_t;

/* Invariant: `ids` maps every held id to a record (holder, state and the
 * positions it left, if any), read and written only under `lock`.  Taken
 * on attach, state changes and drops, never on the per-message path. */
typedef struct {
  uv_mutex_t lock;
  c4j__cid_map_t ids;
} c4j__held_t;

int c4j__held_init(c4j__held_t *h);  /* 0 or C4J_ENOMEM */
void c4j__held_free(c4j__held_t *h);
/* Who holds cid. */
c4j__holder_t c4j__held_get(c4j__held_t *h, const char *cid);
/* Makes worker the holder of cid in state; returns the previous holder
 * and moves the positions it left into *pos (NULL when none; the caller
 * frees them).  Returns -2 in .worker when out of memory (nothing
 * changed). */
c4j__holder_t c4j__held_claim(c4j__held_t *h, const char *cid, int worker,
                              int state, c4j__pos_t **pos);
/* Sets cid's state if worker still holds it, and its positions unless pos
 * is NULL (taken over either way); returns whether worker holds it. */
int c4j__held_set(c4j__held_t *h, const char *cid, int worker, int state,
                  c4j__pos_t *pos);
/* Forgets cid if worker still holds it. */
void c4j__held_release(c4j__held_t *h, const char *cid, int worker);

#endif /* C4J_HELD_H */
