/* resume.h - where each subscription of an attaching identity starts, and
 * what of the history it is replayed: after the client's `since` when it
 * names the channel's epoch, else after the position the identity's
 * previous connection left (held.h), else after the channel's newest
 * broadcast; and the positions a connection leaves when it goes.
 */
#ifndef C4J_RESUME_H
#define C4J_RESUME_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "buf.h"
#include "channel.h"
#include "held.h"
#include "history.h"

enum { C4J__SAY_NOTHING = 0, C4J__SAY_RECOVERED, C4J__SAY_LOST };

/* One subscription's start. */
typedef struct {
  c4j__buf_t **missed;  /* to replay, oldest first: n references */
  size_t n;
  uint64_t start;       /* the frames that follow have offsets above it */
  int say;              /* which `recovered` frame the client is owed */
  uint64_t lost;        /* C4J__SAY_LOST with its position known (the gap
                           older than the ring): the broadcasts after it,
                           none of them replayed; 0 when not known */
} c4j__start_t;

/* For the i-th subscription of subs, fills out[i] and sets its `hist`
 * (creating the history channel) and `last` (to out[i].start), under the
 * history's lock: every broadcast above `start` then is either in
 * `missed` or still to come through the worker's inbox.  since is the
 * request's (or NULL), carried the positions left (or NULL).  Returns 0,
 * or C4J_ENOMEM with out[] freed. */
int c4j__resume_plan(c4j__hist_t *h, c4j__sub_t *subs, const json_t *since,
                     const c4j__pos_t *carried, c4j__start_t *out);
/* Drops the references of n starts not yet replayed. */
void c4j__resume_free(c4j__start_t *st, size_t n);

/* The positions of subs (the `last` of each with a history), or NULL when
 * none has one or out of memory. */
c4j__pos_t *c4j__resume_positions(const c4j__sub_t *subs);
/* b was queued but never handed to the client: its channel's position goes
 * back to just before it. */
void c4j__resume_unsent(c4j__pos_t *p, const c4j__buf_t *b);

#endif /* C4J_RESUME_H */
