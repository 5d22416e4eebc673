/* deliver.h - local delivery: what reaches this node's own connections.
 * Each call builds its frame once (frames.h) and pushes one inbox message
 * to every worker, sharing the frame; each worker looks the channel, the
 * id or the user up in its own indexes, so no global lock is taken.  The
 * public calls (route.c) use it for what this node holds, and the hub
 * (hub.c) for what records from other nodes ask.
 *
 * Arguments are checked by the caller (names, lengths, codes) but for
 * the JSON checks noted.  Each returns 0 once pushed, or C4J_ENOMEM (all
 * or nothing: no worker got it), C4J_ESTATE / C4J_ESTOPPED when the
 * engine does not run, and the frame's errors (frames.h).
 */
#ifndef C4J_DELIVER_H
#define C4J_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "history.h"

/* The message frame of a broadcast, once, pushed (unless !push) to every
 * worker.  hc: the channel's history, its lock held: the frame gets
 * offset hc->last + 1 and is kept in the ring.  hc NULL: a frame without
 * offset, kept nowhere.  u: NULL, or the broadcast's message id (hub.h).
 * json is checked (C4J_EBADJSON). */
int c4j__deliver_publish(c4j_engine_t *e, const char *ch, size_t ch_len,
                         c4j__hist_chan_t *hc, const char *u,
                         const char *json, size_t json_len, int64_t time_ms,
                         int push);
/* A broadcast of this node alone: its offset and history taken and its
 * pushes made under the history lock, so that concurrent publishers
 * deliver in offset order. */
int c4j__deliver_all(c4j_engine_t *e, const char *ch, size_t ch_len,
                     const char *json, size_t json_len, int64_t time_ms);
/* The message frame (no offset) to connection cid / to every connection
 * of user, kept while dying. */
int c4j__deliver_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                    const char *ch, size_t ch_len, const char *json,
                    size_t json_len, int64_t time_ms);
int c4j__deliver_user(c4j_engine_t *e, const char *user, size_t user_len,
                      const char *ch, size_t ch_len, const char *json,
                      size_t json_len, int64_t time_ms);
/* A whole frame (checked by the caller) to connection cid / to the
 * subscribers of channel ch. */
int c4j__deliver_frame(c4j_engine_t *e, const char *cid, size_t cid_len,
                       const char *frame, size_t len);
int c4j__deliver_channel_frame(c4j_engine_t *e, const char *ch,
                               size_t ch_len, const char *frame, size_t len);
/* The live recovered:false frame with the count lost (frames.h) to the
 * attached subscribers of ch (a page between two polls learns it from
 * its position when it comes back).  0, or a negative code. */
int c4j__deliver_lost(c4j_engine_t *e, const char *ch, size_t ch_len,
                      uint64_t lost);
/* (Un)subscribes cid to ch (see c4j_subscribe; ack_id: the ack's, or -1).
 * A subscription starts after the channel's newest broadcast now: it is
 * pushed under the history's lock, as broadcasts are, so that every later
 * broadcast follows it in each inbox. */
int c4j__deliver_subscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                           const char *ch, size_t ch_len, int64_t ack_id);
int c4j__deliver_unsubscribe(c4j_engine_t *e, const char *cid,
                             size_t cid_len, const char *ch, size_t ch_len);
/* Closes connection cid with code and reason. */
int c4j__deliver_drop(c4j_engine_t *e, const char *cid, size_t cid_len,
                      int code, const char *reason);
/* The HTTP answer to /api/ request id (see c4j_api_reply): to the one
 * worker holding it (the low 8 bits of id), C4J_ENOCONN when there is no
 * such worker. */
int c4j__deliver_api_reply(c4j_engine_t *e, uint32_t id, int status,
                           const char *json, size_t len);

#endif /* C4J_DELIVER_H */
