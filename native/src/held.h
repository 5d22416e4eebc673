/* held.h - the engine-wide register of the connection ids the core holds
 * (attached, between long-polls, or dying), which worker holds each and,
 * for an id without a socket, where it stands in each channel: what a
 * worker needs to know about the others when an id attaches.
 */
#ifndef C4J_HELD_H
#define C4J_HELD_H

#include <stdatomic.h>

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

/* The identity's channel set, once it differs from its ticket's or its
 * subscriptions left with a connection: n names, each NUL ended, packed
 * one after the other in `names` (len bytes in all). */
typedef struct {
  uint32_t n, len;
  char names[];
} c4j__names_t;

/* Invariant: `ids` maps every held id to a record (holder, state, the
 * positions it left, if any, and its channel set, NULL while that is the
 * ticket's), read and written only under `lock`.  Taken on attach, state
 * changes, drops and run-time (un)subscriptions, never on the per-message
 * path. */
typedef struct {
  uv_mutex_t lock;
  c4j__cid_map_t ids;
  atomic_int by_state[4]; /* records by state (C4J__HELD_*), written under
                             `lock`, read without it (the statistics) */
} c4j__held_t;

int c4j__held_init(c4j__held_t *h);  /* 0 or C4J_ENOMEM */
void c4j__held_free(c4j__held_t *h);
/* Who holds cid. */
c4j__holder_t c4j__held_get(c4j__held_t *h, const char *cid);
/* Makes worker the holder of cid in state; returns the previous holder,
 * moves the positions it left into *pos (NULL when none; the caller frees
 * them) and a copy of its channel set into *chans (NULL while that is the
 * ticket's, or when out of memory; the caller frees it).  The set stays:
 * it is the identity's until changed.  Returns -2 in .worker when out of
 * memory (nothing changed). */
c4j__holder_t c4j__held_claim(c4j__held_t *h, const char *cid, int worker,
                              int state, c4j__pos_t **pos,
                              c4j__names_t **chans);
/* Sets cid's state if worker still holds it, its positions unless pos is
 * NULL and its channel set unless chans is NULL (both taken over either
 * way); returns whether worker holds it. */
int c4j__held_set(c4j__held_t *h, const char *cid, int worker, int state,
                  c4j__pos_t *pos, c4j__names_t *chans);
/* A copy of cid's channel set into *chans (NULL while the ticket's or when
 * out of memory) if worker holds cid; returns whether it does. */
int c4j__held_chans(c4j__held_t *h, const char *cid, int worker,
                    c4j__names_t **chans);
/* If worker holds cid: replaces its channel set with chans (taken over
 * either way) and, when hist is not NULL, sets the position kept for hist
 * to *off (set) or reads it into *off (!set; left alone when none is
 * kept).  Returns whether worker holds cid, or C4J_ENOMEM. */
int c4j__held_update(c4j__held_t *h, const char *cid, int worker,
                     c4j__names_t *chans, const void *hist, uint64_t *off,
                     int set);

/* ---- Channel sets (no lock: plain values) ---- */
/* The names of subs, in their order; NULL when out of memory. */
c4j__names_t *c4j__names_of(const c4j__sub_t *subs);
/* Whether set has name. */
int c4j__names_has(const c4j__names_t *set, const char *name, size_t len);
/* A new set: set (may be NULL: empty) with name added or removed; NULL
 * when out of memory. */
c4j__names_t *c4j__names_with(const c4j__names_t *set, const char *name,
                              size_t len);
c4j__names_t *c4j__names_without(const c4j__names_t *set, const char *name,
                                 size_t len);
c4j__names_t *c4j__names_copy(const c4j__names_t *set);
/* ---- The order of an identity's commands ----
 * A run-time (un)subscription is numbered when it is made, and applied by
 * whichever worker holds the id when its turn comes: after every earlier
 * one of the id, even when the id moved to another worker meanwhile (the
 * command follows it there).  Numbers of one life of an id: a command
 * numbered before the id was released is dropped. */
enum { C4J__CMD_GO, C4J__CMD_WAIT, C4J__CMD_MOVED, C4J__CMD_DROP };
/* Numbers a new command of cid and names the worker holding cid in
 * *worker (-1, and 0 returned, when none does). */
uint32_t c4j__held_cmd_new(c4j__held_t *h, const char *cid, size_t len,
                           int *worker);
/* Whether worker may apply command seq of cid now: GO; WAIT (an earlier
 * one is not applied yet); MOVED (another worker holds cid: *holder);
 * DROP (cid is not held, or seq is not of its present life). */
int c4j__held_cmd_turn(c4j__held_t *h, const char *cid, size_t len,
                       int worker, uint32_t seq, int *holder);
/* Command seq of cid was applied, or given up: the next one's turn. */
void c4j__held_cmd_done(c4j__held_t *h, const char *cid, size_t len,
                        uint32_t seq);
/* Forgets cid if worker still holds it. */
void c4j__held_release(c4j__held_t *h, const char *cid, int worker);

#endif /* C4J_HELD_H */
