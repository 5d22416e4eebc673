/* fake-redis.h - redis.h without Redis, for fuzz-bus.c: fake-redis.c
 * defines every c4j__redis_* call that hub.c makes, so that a fuzz binary
 * linking it before libc4j.a takes none of the real link's objects
 * (redis.c, redisbus.c, redisact.c, rediskv.c).  An engine started with a
 * "redis://" hub then runs its real hub.c over this link: the fuzzer
 * holds the callback table hub.c handed down and plays the Redis thread,
 * calling record_cb with the records it makes (the bus record decoder,
 * hub.c's on_record), answering the history fetches hub.c asks for, and
 * taking the link down and up.
 *
 * Every call below runs on the fuzzer's thread, the one that plays the
 * Redis thread; the fake's own calls from the core (publish, bus, fetch)
 * may come from any thread and only queue.
 */
#ifndef C4J_FUZZ_FAKE_REDIS_H
#define C4J_FUZZ_FAKE_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "redis.h"

/* The link of engine e (the callbacks' data), or abort. */
c4j__redis_t *fake_redis_of(const void *e);
/* The node id hub.c gave the link (C4J__NODE_ID_LEN characters). */
const char *fake_redis_node(const c4j__redis_t *r);

/* Hands a record to hub.c as the bus would (record_cb). */
void fake_redis_record(c4j__redis_t *r, const char *rec, size_t len);
/* The records this node published (a broadcast through the emulated
 * publish script: "m" with the next offset of its channel; other records
 * as they are), handed back to record_cb as the bus echoes them.  Returns
 * how many. */
int fake_redis_echo(c4j__redis_t *r);

/* Queues one entry for the next fetch answers (any offset; an answer
 * takes, in order, those above the fetch's offset that are above the one
 * before, the newest history_size). */
void fake_redis_entry(c4j__redis_t *r, uint64_t offset, int64_t time_ms,
                      const char *u, size_t u_len, const char *data,
                      size_t len);
/* Answers every fetch asked so far (history_cb) from the queued entries,
 * then forgets the entries.  Returns how many fetches it answered. */
int fake_redis_answer(c4j__redis_t *r);
/* Whether fetches wait for an answer. */
int fake_redis_fetches(c4j__redis_t *r);

/* The link goes down (0) or up (1): c4j__redis_up says so, link_cb is
 * told. */
void fake_redis_link(c4j__redis_t *r, int up);

#endif /* C4J_FUZZ_FAKE_REDIS_H */
