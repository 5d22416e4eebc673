/* hub.h - how one node reaches the others (docs/protocol.md section 9).
 *
 * hub.c owns the hub's meaning: which sends go to the other nodes, and
 * what a record from another node does here (through local delivery,
 * deliver.h).  redis.c, below it, owns the link to Redis (redis.h) and
 * hears nothing of the engine: hub.c hands it its options and callbacks.
 * With hub "local" there is no redis.c instance and every send stays
 * local, as before the hub existed.  The public calls (route.c) decide
 * what goes where: here, to the hub, or both.
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
 *   d <origin> <cid> <code> \n <reason>                  drop (code 1000
 *                                                       or 3000-4999)
 * (the spaces above stand for single tabs).  Channel names, ids, epochs
 * and numbers never hold a tab or a newline; user ids may, so they travel
 * in the payload with their length.  <data> is a message's data as
 * frames.h has it: JSON, or binary bytes after a NUL tag, carried as they
 * are (the payload is read to the end; Redis strings, the script and the
 * stream field d are binary-safe), so that a binary broadcast keeps its
 * offset, its history entry and its replay on every node.  A node of an
 * older version refuses tagged data as bad JSON (the offset is skipped
 * there, as for a lost record).  <origin> is the sending node's id,
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
#include "engine.h"

/* Parses cfg->hub; with "redis://" connects once (blocking, 2 s at most)
 * to read or set the cluster's epoch into e->hist.epoch, then starts the
 * Redis thread.  Returns 0, or a negative code with c4j_config_error()
 * naming "hub" and why (e.g. "hub: cannot reach redis://h:6379/0:
 * Connection refused").  Called by c4j_engine_start once the workers run,
 * before anything is accepted; c4j__hub_stop by stop, before the workers
 * end (the Redis thread delivers through them). */
int c4j__hub_start(c4j_engine_t *e);
void c4j__hub_stop(c4j_engine_t *e);
/* Whether the engine has a Redis hub (else everything is local). */
int c4j__hub_remote(const c4j_engine_t *e);
/* hub_up, hub_outbox and hub_dropped of c4j_engine_stats (zeros without a
 * Redis hub). */
void c4j__hub_stats(c4j_engine_t *e, uint64_t *up, uint64_t *outbox,
                    uint64_t *dropped);

/* The sends of c4j.h with a Redis hub, after their checks (time_ms set),
 * for what this node does not hold.  Each returns 0 once queued,
 * C4J_EFULL when the outbox is full, C4J_ENOMEM, or (send_all)
 * C4J_EBADJSON / C4J_ETOOBIG.  A broadcast is delivered here too, from
 * the bus, or at once while the link is down. */
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

#endif /* C4J_HUB_H */
