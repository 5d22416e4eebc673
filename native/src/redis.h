/* redis.h - the link to Redis, on its own thread and libuv loop: hiredis
 * connections (commands, the bus subscription, the action queue), the
 * publish script, the bounded outbox that keeps records until Redis has
 * them, reconnecting, the history fetch, the action queue and the
 * cluster-wide maps (docs/protocol.md section 9 has the records and the
 * keys: hub.h).  It knows nothing of the engine above it: it gets an
 * options struct and a table of callbacks, which it calls on its own
 * thread, and reads nothing else.
 */
#ifndef C4J_REDIS_H
#define C4J_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define C4J__MSG_ID_CAP 48  /* "<node id>.<n>" and its NUL */

typedef struct c4j__redis_s c4j__redis_t;

/* One entry of a channel's history, as Redis keeps it. */
typedef struct {
  uint64_t offset;
  int64_t time_ms;
  const char *data;
  size_t data_len;
  const char *u;            /* its message id "<node id>.<n>" (stream
                               field u), or NULL (a node of an older
                               version) */
  int local;                /* its node delivered it to its own pages
                               itself (local_cb), before Redis had it */
} c4j__redis_entry_t;

/* How a fetch ended (history_cb). */
enum {
  C4J__FETCH_FAILED = -1,   /* no answer (the link dropped or is down):
                               ask again once it is up */
  C4J__FETCH_DONE = 0,      /* all Redis had then after the offset asked
                               for (or the preload) */
  C4J__FETCH_MORE = 1       /* a full page: ask again after the last one */
};

/* What the layer above hears, on the Redis thread.  `data` is passed
 * back to each.  Every callback is required. */
typedef struct {
  void *data;
  /* A log line: level 0 error, 1 warn, 2 info, 3 debug. */
  void (*log_cb)(void *data, int level, const char *text);
  /* A record from the bus (every record, this node's own included). */
  void (*record_cb)(void *data, const char *rec, size_t len);
  /* The answer to c4j__redis_fetch: entries oldest first (n may be 0;
   * on an error answer too, after a log) and how it ended
   * (C4J__FETCH_*); newest 0.  At start, the preload of each channel
   * Redis knows: its newest history_size entries (maybe none: the stream
   * expired) and its newest offset. */
  void (*history_cb)(void *data, const char *ch, size_t ch_len,
                     const c4j__redis_entry_t *v, size_t n, int status,
                     uint64_t newest);
  /* A broadcast of this node (c4j__redis_publish) that its own pages
   * must get now, since it will not come back from the bus in time: it
   * was queued while the link was down, or the link dropped before its
   * copy came back.  In the order they were published; each once.
   * Returns 0 when delivered (its copies then say so: local), or a
   * negative code (it is delivered from the bus once it comes). */
  int (*local_cb)(void *data, const char *ch, size_t ch_len,
                  const char *json, size_t len, int64_t time_ms,
                  const char *u);
  /* A request popped from the action queue; returns 0, or C4J_EFULL when
   * it cannot be taken now (the request goes back to the head of the
   * queue and popping pauses a little). */
  int (*action_cb)(void *data, const char *json, size_t len);
  /* The link came up (after start, or after a loss: the bus is
   * resubscribed, and the outbox goes out right after this returns, so
   * that c4j__redis_floor comes first) or went down (after the local_cb
   * calls of the records it kept). */
  void (*link_cb)(void *data, int up);
} c4j__redis_callbacks_t;

typedef struct {
  const char *url;          /* "redis://host[:port][/db]" */
  const char *prefix;       /* of every key and channel */
  const char *node_id;      /* C4J__NODE_ID_LEN characters */
  const char *epoch;        /* this node's proposal for the cluster's */
  int history_size;         /* entries of the preload and of a first
                               fetch; 0 keeps no stream */
  int stream_len;           /* stream MAXLEN (at least about; at least
                               history_size) */
  int history_age_ms;       /* stream PEXPIRE */
  size_t outbox_records;    /* the outbox's bounds (c4j__rlink_submit) */
  size_t outbox_bytes;
  int listen_actions;       /* 1: take requests from the action queue */
  int timeout_ms;           /* for the first, blocking, connection */
} c4j__redis_options_t;

/* Connects (blocking, at most opts->timeout_ms), reads the cluster's
 * epoch (setting it to opts->epoch if Redis has none) into epoch_out, and
 * loads every channel's history and offset (history_cb, on the caller's
 * thread);
 * then starts the thread, which keeps the link: SUBSCRIBE to the bus,
 * heartbeats, the action queue when listen_actions, reconnecting with
 * backoff (100 ms doubling to 5 s, jittered).  The callbacks (copied) may
 * run before this returns.  Returns 0, or C4J_EHUB with `why` filled
 * (bad URL, unreachable, a bad epoch in Redis). */
int c4j__redis_start(const c4j__redis_options_t *opts,
                     const c4j__redis_callbacks_t *cb,
                     char epoch_out[C4J__EPOCH_LEN + 1], c4j__redis_t **out,
                     char *why, size_t why_cap);
/* Stops the thread, frees everything (the outbox is lost).  No callback
 * runs after it returns.  NULL is a no-op. */
void c4j__redis_stop(c4j__redis_t *r);
/* Whether the link is up now (a hint: it may drop right after). */
int c4j__redis_up(c4j__redis_t *r);

/* The calls below are for any thread and never block on Redis (but
 * c4j__redis_get).  Each returns 0 once queued (to the Redis thread, or
 * to the outbox while Redis is unreachable), C4J_EFULL when the outbox is
 * over its bounds (outbox_records, outbox_bytes: what Redis does not have
 * yet, linked or not; the record is refused, kept nowhere, and counted in
 * `refused`), UV_EINVAL for a bad argument, or C4J_ENOMEM.  Strings need
 * no NUL. */

/* A broadcast: the script assigns the offset (max(stored, known_last)+1),
 * appends it to the channel's stream and publishes the "m" record; this
 * node's pages get it from the bus, or through local_cb when it cannot
 * come back in time.  u: its message id, "<node id>.<n>" with n growing
 * with each broadcast (shorter than C4J__MSG_ID_CAP). */
int c4j__redis_publish(c4j__redis_t *r, const char *ch, size_t ch_len,
                       const char *data, size_t len, int64_t time_ms,
                       uint64_t known_last, const char *u);
/* On the Redis thread, from link_cb(up) only: raises channel ch's offset
 * in Redis to at least `last` (written before the outbox), so that a
 * Redis that restarted empty never gives an offset twice. */
void c4j__redis_floor(c4j__redis_t *r, const char *ch, size_t ch_len,
                      uint64_t last);
/* A whole bus record, published as is. */
int c4j__redis_bus(c4j__redis_t *r, const char *rec, size_t len);
/* Asks for channel ch's history after offset `after` (0: from its
 * first): the oldest page (C4J__FETCH_MORE when there may be more); the
 * answer comes to history_cb. */
int c4j__redis_fetch(c4j__redis_t *r, const char *ch, size_t ch_len,
                     uint64_t after);
/* LPUSH onto <p>:actions. */
int c4j__redis_action(c4j__redis_t *r, const char *json, size_t len);
/* LREM from this node's <p>:taken:<node id>: the request is done. */
int c4j__redis_action_done(c4j__redis_t *r, const char *json, size_t len);
/* c4j_hub_set / c4j_hub_get (see c4j.h).  get blocks the calling thread
 * at most timeout_ms on a connection of its own; it never waits for the
 * Redis thread. */
int c4j__redis_set(c4j__redis_t *r, const char *key, size_t key_len,
                   const char *field, size_t field_len, const char *value,
                   size_t value_len);
int c4j__redis_get(c4j__redis_t *r, const char *key, size_t key_len,
                   char *out, size_t cap, int timeout_ms);
/* c4j_hub_nodes (see c4j.h): HGETALL <p>:nodes on a connection of its
 * own, as c4j__redis_get. */
int c4j__redis_nodes(c4j__redis_t *r, char *out, size_t cap, int timeout_ms);
/* The records Redis does not have yet, and those refused (the outbox
 * over its bounds). */
void c4j__redis_stats(c4j__redis_t *r, uint64_t *outbox, uint64_t *refused);

#endif /* C4J_REDIS_H */
