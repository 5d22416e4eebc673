/* redis.h - the link to Redis, on its own thread and libuv loop: hiredis
 * connections (commands, the bus subscription, the action queue), the
 * publish script, the outbox that keeps records while Redis is
 * unreachable, reconnecting, the history fetch, the action queue and the
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
  const char *u;            /* its message id (stream field u), or NULL */
  int mine;                 /* u is this node's: it delivered it itself
                               already (it waited in the outbox) */
} c4j__redis_entry_t;

/* What the layer above hears, on the Redis thread.  `data` is passed
 * back to each.  Every callback is required. */
typedef struct {
  void *data;
  /* A log line: level 0 error, 1 warn, 2 info, 3 debug. */
  void (*log_cb)(void *data, int level, const char *text);
  /* A record from the bus (every record, this node's own included). */
  void (*record_cb)(void *data, const char *rec, size_t len);
  /* The answer to c4j__redis_fetch: entries oldest first (n may be 0; on
   * error too, after a log). */
  void (*history_cb)(void *data, const char *ch, size_t ch_len,
                     const c4j__redis_entry_t *v, size_t n);
  /* A request popped from the action queue; returns 0, or C4J_EFULL when
   * it cannot be taken now (the request goes back to the head of the
   * queue and popping pauses a little). */
  int (*action_cb)(void *data, const char *json, size_t len);
  /* The link came up (after start, or after a loss: then the bus was
   * resubscribed and the outbox sent) or went down. */
  void (*link_cb)(void *data, int up);
} c4j__redis_callbacks_t;

typedef struct {
  const char *url;          /* "redis://host[:port][/db]" */
  const char *prefix;       /* of every key and channel */
  const char *node_id;      /* C4J__NODE_ID_LEN characters */
  const char *epoch;        /* this node's proposal for the cluster's */
  int history_size;         /* stream MAXLEN per channel; 0 keeps none */
  int history_age_ms;       /* stream PEXPIRE */
  int listen_actions;       /* 1: take requests from the action queue */
  int timeout_ms;           /* for the first, blocking, connection */
} c4j__redis_options_t;

/* Connects (blocking, at most opts->timeout_ms), reads the cluster's
 * epoch (setting it to opts->epoch if Redis has none) into epoch_out, and
 * loads every channel's history (history_cb, on the caller's thread);
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
 * full (the record is counted in `dropped`), UV_EINVAL for a bad
 * argument, or C4J_ENOMEM.  Strings need no NUL. */

/* A broadcast: the script assigns the offset (max(stored, known_last)+1),
 * appends it to the channel's stream and publishes the "m" record.
 * u: NULL, or the message id the caller gave it when it delivered it
 * itself (shorter than C4J__MSG_ID_CAP). */
int c4j__redis_publish(c4j__redis_t *r, const char *ch, size_t ch_len,
                       const char *data, size_t len, int64_t time_ms,
                       uint64_t known_last, const char *u);
/* A whole bus record, published as is. */
int c4j__redis_bus(c4j__redis_t *r, const char *rec, size_t len);
/* Asks for channel ch's history after offset `after` (at most
 * history_size entries, the newest if more); the answer comes to
 * history_cb. */
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
/* The records waiting for Redis, and those lost to a full outbox. */
void c4j__redis_stats(c4j__redis_t *r, uint64_t *outbox, uint64_t *dropped);

#endif /* C4J_REDIS_H */
