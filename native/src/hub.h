/* hub.h - how one node reaches the others (docs/protocol.md section 9).
 *
 * hub.c owns the hub's meaning: which sends stay in this process, which go
 * to the other nodes, and what a record from another node does here (the
 * history ring, the workers).  redis.c owns the link to Redis: its own
 * thread and libuv loop, hiredis connections, the publish script, the
 * outbox, reconnecting, the history fetch, the action queue and the
 * cluster-wide maps.  With hub "local" there is no redis.c instance and
 * every send stays local, as before the hub existed.
 *
 * Bus records.  Every node subscribes to the one Redis channel
 * "<prefix>:bus"; a record is a header line of tab-separated fields, a
 * '\n', then the payload (bytes up to the end):
 *   m <origin> <channel> <epoch> <offset> <time> <u> \n <data>
 *       a broadcast; offset assigned by the publish script; u "-", or the
 *       message id "<origin>.<n>" the origin gave it when it delivered it
 *       to its own connections itself (it waited in the outbox: the frames
 *       carry "u" so that pages drop the second copy)
 *   t <origin> <cid> <channel> <time> \n <data>        sendTo
 *   u <origin> <channel> <time> <user length> \n <user><data>
 *                                                       sendToUser
 *   f <origin> <cid> \n <frame>                          sendFrame
 *   c <origin> <channel> \n <frame>                      channel frame
 *   s <origin> <cid> <channel> <ack id or -1> \n         subscribe
 *   x <origin> <cid> <channel> \n                        unsubscribe
 *   d <origin> <cid> <code> \n <reason>                  drop
 * (the spaces above stand for single tabs).  Channel names, ids, epochs
 * and numbers never hold a tab or a newline; user ids may, so they travel
 * in the payload with their length.  <origin> is the sending node's id,
 * so that a node skips what it already did itself.
 *
 * Redis keys ("<p>" is the prefix):
 *   <p>:epoch          the cluster's epoch (SET NX by every node)
 *   <p>:seq            hash: channel -> its newest offset
 *   <p>:h:<channel>    stream: id "<offset>-1", fields t (time), d (data),
 *                      u (the message id, when not "-");
 *                      MAXLEN history_size, PEXPIRE history_age_ms
 *   <p>:actions        list: requests for listen_actions nodes (LPUSH;
 *                      popped from the right)
 *   <p>:taken:<node>   list: the requests a node popped and is running
 *                      (BLMOVE from <p>:actions, LREM when done; put
 *                      back by any node once that node is gone)
 *   <p>:takers         set: the nodes that take requests
 *   <p>:nodes          hash: node id -> its last heartbeat (ms)
 *   <p>:kv:<key>       hash: "<node id>:<field>" -> value (c4j_hub_set)
 */
#ifndef C4J_HUB_H
#define C4J_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "c4j.h"
#include "history.h"

#define C4J__NODE_ID_LEN 22 /* like a connection id */
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
} c4j__hub_entry_t;

/* ---- hub.c: called by the engine ---------------------------------------- */

/* Parses cfg->hub; with "redis://" connects once (blocking, 2 s at most)
 * to read or set the cluster's epoch into e->hist.epoch, then starts the
 * Redis thread.  Returns 0, or a negative code with c4j_config_error()
 * naming "hub" and why (e.g. "hub: cannot reach redis://h:6379/0:
 * Connection refused").  Called by c4j_engine_start before the workers
 * accept anything; c4j__hub_stop by stop, after the workers ended. */
int c4j__hub_start(c4j_engine_t *e);
void c4j__hub_stop(c4j_engine_t *e);
/* Whether the engine has a Redis hub (else everything is local). */
int c4j__hub_remote(const c4j_engine_t *e);

/* The sends of c4j.h with a Redis hub, after their checks (time_ms set);
 * engine.c calls them for what this node does not hold. */
int c4j__hub_send_all(c4j_engine_t *e, const char *ch, size_t ch_len,
                      const char *json, size_t len, int64_t time_ms);
int c4j__hub_send_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                     const char *ch, size_t ch_len, const char *json,
                     size_t len, int64_t time_ms);
int c4j__hub_send_user(c4j_engine_t *e, const char *user, size_t user_len,
                       const char *ch, size_t ch_len, const char *json,
                       size_t len, int64_t time_ms);
int c4j__hub_send_frame(c4j_engine_t *e, const char *cid, size_t cid_len,
                        const char *frame, size_t len);
int c4j__hub_drop(c4j_engine_t *e, const char *cid, size_t cid_len, int code,
                  const char *reason);
int c4j__hub_command(c4j_engine_t *e, int subscribe, const char *cid,
                     size_t cid_len, const char *ch, size_t ch_len,
                     int64_t ack_id);
int c4j__hub_send_chan_frame(c4j_engine_t *e, const char *ch, size_t ch_len,
                             const char *frame, size_t len);

/* ---- redis.c: called by hub.c, from any thread, never blocking ---------
 * Each returns 0 once queued (to the Redis thread, or to the outbox while
 * Redis is unreachable), C4J_EFULL when the outbox is full (the record is
 * counted in hub_dropped), or C4J_ENOMEM.  Strings need no NUL. */

/* Connects (blocking, at most timeout_ms) and reads the cluster's epoch
 * (setting it to `epoch` if Redis has none) into epoch_out; then starts
 * the thread, which keeps the link: SUBSCRIBE to the bus, heartbeats,
 * the action queue when listen_actions, reconnecting with backoff (100 ms
 * doubling to 5 s, jittered).  Returns 0 or C4J_EHUB with `why` filled. */
int c4j__redis_start(c4j_engine_t *e, const char *url, const char *prefix,
                     const char *node_id, const char *epoch,
                     char epoch_out[C4J__EPOCH_LEN + 1], int timeout_ms,
                     c4j__redis_t **out, char *why, size_t why_cap);
/* Stops the thread, frees everything (the outbox is lost). */
void c4j__redis_stop(c4j__redis_t *r);
/* Whether the link is up now (a hint: it may drop right after). */
int c4j__redis_up(c4j__redis_t *r);

/* A broadcast: the script assigns the offset (max(stored, known_last)+1),
 * appends it to the channel's stream and publishes the "m" record.
 * u: NULL, or the message id the caller gave it when it delivered it
 * here itself (shorter than C4J__MSG_ID_CAP). */
int c4j__redis_publish(c4j__redis_t *r, const char *ch, size_t ch_len,
                       const char *data, size_t len, int64_t time_ms,
                       uint64_t known_last, const char *u);
/* A whole bus record (t, u, f or d; hub.c made it) published as is. */
int c4j__redis_bus(c4j__redis_t *r, const char *rec, size_t len);
/* Asks for channel ch's history after offset `after` (at most
 * history_size entries, the newest if more); the answer comes to
 * c4j__hub_on_history, on the Redis thread. */
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
/* hub_outbox and hub_dropped for c4j_engine_stats. */
void c4j__redis_stats(c4j__redis_t *r, uint64_t *outbox, uint64_t *dropped);

/* ---- hub.c: called by redis.c on the Redis thread ------------------------ */

/* A record from the bus (every record, this node's own included). */
void c4j__hub_on_record(c4j_engine_t *e, const char *rec, size_t len);
/* The answer to c4j__redis_fetch: entries oldest first (n may be 0; on
 * error too, after a log). */
void c4j__hub_on_history(c4j_engine_t *e, const char *ch, size_t ch_len,
                         const c4j__hub_entry_t *v, size_t n);
/* A request popped from the action queue; returns 0, or C4J_EFULL when the
 * event queue is full (redis.c then puts it back at the head of the queue
 * and waits a little before popping again). */
int c4j__hub_on_action(c4j_engine_t *e, const char *json, size_t len);
/* The link came up (after start, or after a loss: then the bus was
 * resubscribed and the outbox sent) or went down. */
void c4j__hub_on_link(c4j_engine_t *e, int up);

#endif /* C4J_HUB_H */
