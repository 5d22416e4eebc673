/* events.h - the bounded queue of event records from the workers to the
 * embedder (record format in c4j.h).  A mutex and a condition variable
 * guard it: it is not on the per-message hot path.
 */
#ifndef C4J_EVENTS_H
#define C4J_EVENTS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Invariant: `ring` holds `used` bytes of whole records starting at
 * `head` (wrapping at `cap`); a record is appended entirely or not at all
 * (then `dropped` grows). */
typedef struct {
  uv_mutex_t lock;
  uv_cond_t cond;
  uint8_t *ring;
  size_t cap, head, used;
  int stopped;
  int waiting;  /* readers asleep in c4j__events_poll */
  int woken;    /* a writer signalled since a reader last woke up */
  atomic_ullong dropped;
} c4j__events_t;

/* Returns 0 or C4J_ENOMEM. */
int c4j__events_init(c4j__events_t *ev, size_t cap);
void c4j__events_free(c4j__events_t *ev);
/* Marks the queue stopped and wakes every waiter; the records left can
 * still be read. */
void c4j__events_stop(c4j__events_t *ev);
/* Bytes of records waiting now (the statistics). */
size_t c4j__events_used(c4j__events_t *ev);

/* Appends one record.  Strings longer than 65535 bytes are cut.  Returns 0,
 * or C4J_EFULL after counting the record as dropped. */
int c4j__events_connect(c4j__events_t *ev, const char *cid, const char *user,
                        const char *ip, const char *transport, int port);
int c4j__events_revival(c4j__events_t *ev, const char *cid, const char *user,
                        const char *ip, const char *transport, int port);
int c4j__events_drop(c4j__events_t *ev, const char *cid, int code,
                     const char *reason);
int c4j__events_dying(c4j__events_t *ev, const char *cid, int code,
                      const char *reason);
int c4j__events_message(c4j__events_t *ev, const char *cid,
                        const uint8_t *text, size_t len);
/* C4J_EV_BINARY: a client's binary message, its len bytes whole (a u32
 * length: never cut; C4J_EFULL when it cannot fit the queue). */
int c4j__events_binary(c4j__events_t *ev, const char *cid,
                       const uint8_t *data, size_t len);
/* C4J_EV_SUB: cid's subscription to channel was decided: subscribed (1)
 * or unsubscribed (0), code 0 when done, else the refusal's (4290,
 * 5030). */
int c4j__events_sub(c4j__events_t *ev, const char *cid, const char *channel,
                    size_t channel_len, int subscribed, int code);
/* C4J_EV_ACTION: a request from the action queue (c4j_hub_action). */
int c4j__events_action(c4j__events_t *ev, const char *text, size_t len);
/* C4J_EV_API (record in c4j.h); strings longer than 65535 bytes are
 * cut (the caller keeps them within). */
int c4j__events_api(c4j__events_t *ev, uint32_t id, const char *method,
                    const char *path, size_t path_len, const char *query,
                    size_t query_len, const char *body, size_t body_len);
int c4j__events_log(c4j__events_t *ev, int level, const char *text);

/* See c4j_engine_poll(). */
int c4j__events_poll(c4j__events_t *ev, uint8_t *buf, size_t cap,
                     int timeout_ms);

#endif /* C4J_EVENTS_H */
