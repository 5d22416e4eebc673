/* redisint.h - what the files behind redis.h share, and nothing above
 * them includes.  The link to Redis is cut by concern:
 *
 *   redis.c     the link's life: its thread and loop, the three hiredis
 *               connections, connect, loss, backoff, the connect guard,
 *               heartbeats and the dead-socket probe; the request queue
 *               (submit, wake, dispatch); start and stop, up, stats
 *   redisbus.c  what goes out in order and what comes back on the bus:
 *               the publish script, the outbox of records (broadcasts,
 *               bus records, action pushes and dones) and their requeue
 *               when the link drops, the bus subscription, the history
 *               fetch and the preload at start
 *   redisact.c  the action queue: popping (BLMOVE into this node's taken
 *               list), the pause when the layer above is full, the
 *               requeue of the requests of nodes that are gone
 *   rediskv.c   the cluster-wide maps: this node's entries (the kv
 *               table, written again after each link-up), and the
 *               merged get on the caller's thread
 *
 * Every function of this header runs on the Redis thread (or in start and
 * stop while that thread does not run) unless its comment says otherwise.
 * Names: c4j__rlink_ (redis.c), c4j__rbus_, c4j__ract_, c4j__rkv_; the
 * static inline helpers below are unprefixed.
 */
#ifndef C4J_REDISINT_H
#define C4J_REDISINT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "common.h"
#include "redis.h"

#define KEY_CAP 400     /* prefix (64) + ":kv:" + a name (256) */
#define ALIVE_MS 10000  /* a node with no heartbeat this long is gone: its
                           map fields are not read, its taken requests go
                           back to the queue */

/* ---- Types ---------------------------------------------------------------
 * A request from any thread.  a, b and c point into data (NUL ended):
 *   publish: a channel, b data (num known_last, time_ms, u its message
 *            id "<node id>.<n>")
 *   bus: a record; action, done: a JSON text; fetch: a channel (num after)
 *   set: a key, b field, c value (has_value 0: remove); in the kv table
 *        num holds the hash of key and field.
 */
enum { R_PUBLISH, R_BUS, R_ACTION, R_DONE, R_FETCH, R_SET };

/* A publish is confirmed when Redis answered it and its own copy came
 * back on the bus (`replied` and `echoed`): an answer alone may be all
 * that reached this node before Redis died, with the bus copy lost for
 * every node.  `local`: this node's pages have it already (local_cb). */
typedef struct req_s {
  struct req_s *next, *prev; /* in `in`, `outbox` or `sent` */
  struct req_s *enext;       /* in `echo` (publishes written, not echoed) */
  int kind;
  char u[C4J__MSG_ID_CAP];
  unsigned local : 1, replied : 1, echoed : 1, in_echo : 1;
  int has_value;
  int64_t time_ms;
  uint64_t num;
  size_t a_len, b_len, c_len;
  char *a, *b, *c;
  char data[];
} req_t;

typedef struct {
  req_t *head, *tail;
} fifo_t;

/* The publishes written and waiting for their copy from the bus, oldest
 * first (through enext): the copies come back in this order. */
typedef struct {
  req_t *head, *tail;
} echo_t;

typedef struct {
  c4j__redis_t *r;
  redisAsyncContext *ac; /* NULL when none; once hiredis frees it (in its
                            connect or disconnect callback) we drop it */
  int connected;
} conn_t;

/* Invariants: `in`, `pending_n`, `pending_bytes` and `closing` are shared
 * and guarded by `lock`; everything below `thread` belongs to the Redis
 * thread (and to start and stop while that thread does not run); what is
 * above `lock` is set by start and only read after.
 * pending_* count the publish, bus, action and done records that Redis
 * does not have yet for sure (in `in`, `outbox` or `sent`): the outbox's
 * bounds (outbox_records, outbox_bytes) apply to them, linked or not.
 * `sent` holds those written and not yet confirmed, in order: when the
 * link drops they go back to the head of the outbox (but a publish whose
 * copy came back on the bus: it was run).  The link is up (`up`) once the
 * command connection has the script (`scripted`), the bus subscription is
 * in (`subscribed`) and, when listening, the action connection is
 * connected. */
struct c4j__redis_s {
  c4j__redis_callbacks_t cb;
  int history_size, history_age_ms;
  int stream_len;             /* MAXLEN of a channel's stream */
  size_t outbox_records, outbox_bytes;
  char host[256];
  int port, db;
  char url[300];
  char node_id[C4J__NODE_ID_LEN + 1];
  char epoch[C4J__EPOCH_LEN + 1];
  char prefix[65];
  char k_bus[80], k_seq[80], k_epoch[80], k_actions[80], k_nodes[80];
  char k_taken[120], k_takers[80]; /* this node's taken requests; who takes */
  int listen;

  uv_mutex_t lock;
  fifo_t in;
  size_t pending_n, pending_bytes;
  int closing;
  atomic_int up;
  atomic_ullong refused;

  uv_thread_t thread;
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t retry, guard, tick, act_wait;
  conn_t cmd, sub, act;
  int scripted, subscribed, stopping;
  unsigned fails;
  char sha[41];     /* the publish script's, or "" (EVAL then) */
  uint64_t hb_sent; /* when the unanswered heartbeat left, or 0 */
  uint64_t answered; /* when Redis last answered a request (monotonic ms) */
  uint64_t rng;
  fifo_t outbox, sent;
  echo_t echo;
  req_t **slots; /* the kv table: chains of R_SET requests */
  size_t nslots, nkv;
};

/* ---- Small helpers, for every file -------------------------------------- */

static inline void fifo_push(fifo_t *f, req_t *q) {
  q->next = NULL;
  q->prev = f->tail;
  if (f->tail) f->tail->next = q;
  else f->head = q;
  f->tail = q;
}

static inline req_t *fifo_pop(fifo_t *f) {
  req_t *q = f->head;
  if (q == NULL) return NULL;
  f->head = q->next;
  if (f->head == NULL) f->tail = NULL;
  else f->head->prev = NULL;
  q->next = q->prev = NULL;
  return q;
}

/* Removes q, which is in f. */
static inline void fifo_remove(fifo_t *f, req_t *q) {
  if (q->prev) q->prev->next = q->next;
  else f->head = q->next;
  if (q->next) q->next->prev = q->prev;
  else f->tail = q->prev;
  q->next = q->prev = NULL;
}

static inline void fifo_free(fifo_t *f) {
  req_t *q;
  while ((q = fifo_pop(f)) != NULL) c4j__free(q);
}

static inline size_t req_size(const req_t *q) {
  return sizeof(*q) + q->a_len + q->b_len + q->c_len + 3;
}

/* Whether the link is up (any thread). */
static inline int linked(c4j__redis_t *r) { return atomic_load(&r->up); }

/* ---- redis.c: the link -------------------------------------------------- */

/* A request of `kind` holding copies of a, b and c (any thread); NULL when
 * out of memory. */
req_t *c4j__rlink_req(int kind, const char *a, size_t al, const char *b,
                      size_t bl, const char *c, size_t cl);
/* Queues q for the Redis thread (any thread) and steals it: freed when
 * refused.  Records (bounded) count in the outbox until Redis has them.
 * Returns 0, C4J_ENOMEM for a NULL q, C4J_ESTOPPED once stopping, or
 * C4J_EFULL (counted in `refused`) when bounded and the outbox would go
 * over outbox_records or outbox_bytes. */
int c4j__rlink_submit(c4j__redis_t *r, req_t *q, int bounded);
/* "<prefix><mid><name>" into buf (KEY_CAP bytes); its length (any
 * thread).  A name that does not fit is left out: callers bound it. */
size_t c4j__rlink_key(const c4j__redis_t *r, const char *mid,
                      const char *name, size_t len, char *buf);
/* A log line through log_cb: fmt with two %s. */
void c4j__rlink_log(c4j__redis_t *r, int level, const char *fmt,
                    const char *a, const char *b);
/* A command on connection c, its reply to fn (may be NULL) with priv;
 * 0, or -1 when c has no context or hiredis refuses it (fn never runs). */
int c4j__rlink_send(conn_t *c, redisCallbackFn *fn, void *priv, int argc,
                    const char **argv, const size_t *lens);
/* Redis answered a request: the link is alive, however late the
 * heartbeat's answer (it waits behind the requests before it). */
void c4j__rlink_answered(c4j__redis_t *r);
/* The same for at most 12 arguments that are NUL-ended strings. */
int c4j__rlink_send_strs(conn_t *c, redisCallbackFn *fn, void *priv,
                         int argc, const char **argv);
/* A blocking connection (any thread) with every call bounded by
 * timeout_ms, on the right database; NULL with why filled. */
redisContext *c4j__rlink_connect_sync(const c4j__redis_t *r, int timeout_ms,
                                      char *why, size_t cap);
/* The script or the bus subscription just came in: links up if every
 * part of the link is there now. */
void c4j__rlink_ready(c4j__redis_t *r);

/* ---- redisbus.c: records, the bus, history ------------------------------ */

/* On a new command connection: SCRIPT LOAD of the publish script; sets
 * sha and scripted, then c4j__rlink_ready. */
void c4j__rbus_load_script(c4j__redis_t *r);
/* On a new bus connection: SUBSCRIBE; sets subscribed, then
 * c4j__rlink_ready; every message then goes to record_cb. */
void c4j__rbus_subscribe(c4j__redis_t *r);
/* Writes the whole outbox (the connections are ready); the records wait
 * in `sent` for their answers (and a publish for its copy). */
void c4j__rbus_flush(c4j__redis_t *r);
/* A record of the outbox's kinds from `in`, stolen: into the outbox;
 * while the link is down, a publish is handed to local_cb first. */
void c4j__rbus_queue(c4j__redis_t *r, req_t *q);
/* The link dropped (the connections are freed: no reply callback runs
 * any more): `sent` goes back to the head of the outbox, but for the
 * publishes whose copy came back (they were run), and every publish of
 * the outbox that this node's pages do not have yet goes to local_cb. */
void c4j__rbus_requeue(c4j__redis_t *r);
/* Frees the records of the outbox's lists (stop). */
void c4j__rbus_free(c4j__redis_t *r);
/* An R_FETCH request, stolen; its answer goes to history_cb (empty at
 * once when the link is down). */
void c4j__rbus_fetch(c4j__redis_t *r, req_t *q);
/* At start, on the caller's thread and blocking connection c: every
 * channel's history to history_cb. */
void c4j__rbus_preload(c4j__redis_t *r, redisContext *c);

/* ---- redisact.c: the action queue --------------------------------------- */

/* The link came up on a listening node: joins the takers and pops. */
void c4j__ract_start(c4j__redis_t *r);
/* Every tick: the requests of nodes that are gone go back to the queue. */
void c4j__ract_requeue_dead(c4j__redis_t *r);

/* ---- rediskv.c: the cluster-wide maps ----------------------------------- */

/* An R_SET request, stolen: kept in the kv table (a removal only until
 * sent) and written now when the link is up. */
void c4j__rkv_dispatch(c4j__redis_t *r, req_t *q);
/* Writes every entry (after a link-up: Redis may have restarted empty);
 * removals, once sent, are forgotten.  With `remove`, deletes them all
 * (the node stops). */
void c4j__rkv_write_all(c4j__redis_t *r, int remove);
/* Frees the kv table (stop). */
void c4j__rkv_free(c4j__redis_t *r);

#endif /* C4J_REDISINT_H */
