/* channel.h - the per-worker indexes: channel name -> subscribed
 * connections, and connection id -> connection.  Each worker owns its own
 * pair, so neither needs a lock.  Connections are opaque (void *) here.
 */
#ifndef C4J_CHANNEL_H
#define C4J_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct c4j__chan_s c4j__chan_t;
typedef struct c4j__sub_s c4j__sub_t;

/* One subscription: a node both in its channel's list (prev/next) and in
 * its connection's list (conn_next).  `last` is the offset of the newest
 * broadcast of the channel queued to the connection (0 before any): the
 * connection is never sent a broadcast at or below it, so that a resume
 * replay and live traffic neither repeat nor reorder.  `hist` is the
 * channel's history (an opaque c4j__hist_chan_t), NULL when the engine
 * keeps none. */
struct c4j__sub_s {
  c4j__chan_t *chan;
  void *conn;
  const void *hist;
  uint64_t last;
  c4j__sub_t *prev, *next;
  c4j__sub_t *conn_next;
};

/* Invariant: a channel exists in the index exactly while `subs` is not
 * empty; `count` is the length of that list. */
struct c4j__chan_s {
  c4j__chan_t *hnext;
  c4j__sub_t *subs;
  uint32_t count;
  uint32_t hash;
  uint16_t len;
  char name[];
};

typedef struct {
  c4j__chan_t **buckets;
  size_t nbuckets;  /* a power of two, or 0 before the first subscribe */
  size_t count;
} c4j__chan_index_t;

void c4j__chan_index_init(c4j__chan_index_t *idx);
/* Frees the table; every connection must have unsubscribed first. */
void c4j__chan_index_free(c4j__chan_index_t *idx);
/* Subscribes conn to name (1..65535 bytes, checked by the caller; the
 * worker's user index holds user ids this way too) and links
 * the node into *conn_subs.  Subscribing twice is a no-op.  Returns 0 or
 * C4J_ENOMEM (nothing changed). */
int c4j__chan_subscribe(c4j__chan_index_t *idx, const char *name, size_t len,
                        void *conn, c4j__sub_t **conn_subs);
/* Removes every subscription in *conn_subs and sets it to NULL; channels
 * left empty are freed. */
void c4j__chan_unsubscribe_all(c4j__chan_index_t *idx, c4j__sub_t **conn_subs);
/* Removes conn's subscription to name from *conn_subs, if any (the
 * channel goes with its last one); returns whether there was one. */
int c4j__chan_unsubscribe(c4j__chan_index_t *idx, c4j__sub_t **conn_subs,
                          const char *name, size_t len);
/* The subscription to name in a connection's list, or NULL. */
c4j__sub_t *c4j__chan_sub_of(c4j__sub_t *conn_subs, const char *name,
                             size_t len);
/* The channel, or NULL when nobody on this worker subscribes to it. */
c4j__chan_t *c4j__chan_find(const c4j__chan_index_t *idx, const char *name,
                            size_t len);

/* ---- Connection ids ----------------------------------------------------- */

typedef struct c4j__cid_s c4j__cid_t;
struct c4j__cid_s {
  c4j__cid_t *hnext;
  void *conn;
  uint32_t hash;
  uint8_t len;
  char id[];  /* NUL ended */
};

typedef struct {
  c4j__cid_t **buckets;
  size_t nbuckets, count;
} c4j__cid_map_t;

void c4j__cid_map_init(c4j__cid_map_t *m);
/* Frees the table; every entry must have been removed. */
void c4j__cid_map_free(c4j__cid_map_t *m);
/* Adds id -> conn (the caller has removed any entry with that id).  Returns
 * the entry, which the connection keeps as its id, or NULL when out of
 * memory. */
c4j__cid_t *c4j__cid_map_add(c4j__cid_map_t *m, const char *id, size_t len,
                             void *conn);
/* Unlinks and frees the entry. */
void c4j__cid_map_remove(c4j__cid_map_t *m, c4j__cid_t *e);
c4j__cid_t *c4j__cid_map_find(const c4j__cid_map_t *m, const char *id,
                              size_t len);

#endif /* C4J_CHANNEL_H */
