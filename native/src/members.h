/* members.h - the engine-wide register of who is here: every identity the
 * engine holds (attached, between long-polls or dying) with its user and
 * the channels it is subscribed to, indexed by channel and by user, and
 * the set of presence channels.  It is the one model of membership and
 * online users on this node: the connection layer writes it when it
 * decides (attach, run-time (un)subscription, drop), and every question
 * (members of a channel, connections of a user, online counts, an
 * identity's channels) is answered from it.  A hand-over between workers
 * changes nothing here.  One mutex guards it; it is taken on those
 * decisions and on queries, never on the per-message path.
 */
#ifndef C4J_MEMBERS_H
#define C4J_MEMBERS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <jansson.h>

#include "c4j.h"
#include "channel.h"
#include "held.h"

/* One identity: its entry in `ids` (whose conn points back here), its
 * user, its subscriptions in `chans` and its node in `users`. */
typedef struct {
  c4j__cid_t *id;
  c4j__sub_t *subs;
  c4j__sub_t *unode;       /* NULL when anonymous */
} c4j__member_t;

/* Invariant: a member is in `ids` exactly while the engine holds its
 * identity, in `users` under its user while it has one, and in `chans`
 * under each channel it is subscribed to; `presence` maps the names of
 * the presence channels (to a non-NULL marker). */
typedef struct {
  uv_mutex_t lock;
  c4j__cid_map_t ids;
  c4j__chan_index_t chans;
  c4j__chan_index_t users;
  c4j__cid_map_t presence;
} c4j__members_t;

int c4j__members_init(c4j__members_t *m); /* 0 or C4J_ENOMEM */
void c4j__members_free(c4j__members_t *m);

/* ---- Written by the connection layer ------------------------------------ */

/* Registers identity cid with user ("" when anonymous).  Returns 1 when
 * it is new, 0 when it was registered already, or C4J_ENOMEM. */
int c4j__members_connect(c4j__members_t *m, const char *cid,
                         const char *user);
/* cid joins / leaves channel ch.  Return 1 when that changed its set, 0
 * when it did not (already in, not in, or no such identity), or
 * C4J_ENOMEM (join). */
int c4j__members_join(c4j__members_t *m, const char *cid, const char *ch,
                      size_t len);
int c4j__members_leave(c4j__members_t *m, const char *cid, const char *ch,
                       size_t len);
/* Forgets identity cid.  Returns 1 and sets *chans to its channels (a new
 * set for the caller to free; NULL when none or out of memory) and user
 * (C4J_MAX_USER + 1 bytes; "" when anonymous), or 0 when it was not
 * registered. */
int c4j__members_drop(c4j__members_t *m, const char *cid,
                      c4j__names_t **chans, char *user);

/* ---- Presence channels -------------------------------------------------- */

/* Marks channel ch a presence channel (on 1) or not (0).  Returns 0 or
 * C4J_ENOMEM. */
int c4j__members_set_presence(c4j__members_t *m, const char *ch, size_t len,
                              int on);
int c4j__members_is_presence(c4j__members_t *m, const char *ch, size_t len);

/* ---- Questions (NULL when out of memory) ---------------------------------- */

/* {cid: user or null} of the members of ch ({} when none). */
json_t *c4j__members_of(c4j__members_t *m, const char *ch, size_t len);
/* How many identities are subscribed to ch. */
size_t c4j__members_count(c4j__members_t *m, const char *ch, size_t len);
/* The ids of user's identities, as a JSON array ([] when none). */
json_t *c4j__members_user_ids(c4j__members_t *m, const char *user,
                              size_t len);
/* How many identities user has. */
size_t c4j__members_user_count(c4j__members_t *m, const char *user,
                               size_t len);
/* Identities held, and distinct users among them. */
void c4j__members_totals(c4j__members_t *m, size_t *ids, size_t *users);
/* {"cId":cid,"user":user or null,"channels":[...]}, or NULL (with *found
 * 0) when cid is not held. */
json_t *c4j__members_identity(c4j__members_t *m, const char *cid,
                              size_t len, int *found);

#endif /* C4J_MEMBERS_H */
