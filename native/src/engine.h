/* engine.h - the engine's state: one struct that every layer above the
 * leaves reads (configuration, workers, events, history, the held
 * register, the hub's link), and the push guard.  Data only: the
 * functions that act on it live in the file of each layer, but for the
 * conformance hook at the end.  Embedders see only the opaque
 * c4j_engine_t.
 */
#ifndef C4J_ENGINE_H
#define C4J_ENGINE_H

#include <stdatomic.h>
#include <uv.h>

#include "c4j.h"
#include "common.h"
#include "events.h"
#include "held.h"
#include "history.h"
#include "members.h"
#include "metrics.h"
#include "pending.h"

typedef struct c4j__worker_s c4j__worker_t;
typedef struct c4j__redis_s c4j__redis_t;
struct c4j__hub_wait_s;
struct ssl_ctx_st;

#define C4J__ENGINE_MAGIC 0x436f6d65u /* "Come": catches stale handles */

enum { C4J__NEW, C4J__RUNNING, C4J__STOPPING, C4J__STOPPED };

/* The one way up from the connection layer: what its decisions mean
 * beyond the worker that took them (presence frames, the cluster's maps).
 * The engine fills it at creation (presence.c); the workers call it on
 * their own thread, after the register (members.h) has changed. */
typedef struct {
  /* Identity cid (of user, "" when anonymous) came to this node (1) or
   * left it for good (0). */
  void (*identity_cb)(c4j_engine_t *e, const char *cid, const char *user,
                      int here);
  /* It joined (1) or left (0) channel ch. */
  void (*member_cb)(c4j_engine_t *e, const char *cid, const char *user,
                    const char *ch, size_t ch_len, int joined);
  /* The text of GET /metrics (c4j_metrics_text); 0 or C4J_ENOMEM. */
  int (*metrics_cb)(c4j_engine_t *e, char **out, size_t *len);
} c4j__hooks_t;

/* Invariant: `state` only moves forward, under `life`.  Any thread that
 * pushes into a worker inbox first raises `inflight`, then checks that the
 * state is RUNNING; stop() lowers the state and waits for `inflight` to be
 * 0 before it tells the workers to end, so no push can reach a worker
 * whose inbox is closed. */
struct c4j_engine_s {
  uint32_t magic;
  c4j_config_t cfg;        /* strings point to the copies below */
  char *host;
  char *origins;
  uint8_t *secret;
  char *api_key;           /* NULL when the HTTP API is off */
  char *tls_cert, *tls_key; /* copies of the PEM paths, NULL without TLS */
  struct ssl_ctx_st *tls_ctx; /* the native port's TLS context (tls.h),
                              NULL without TLS; swapped by c4j_tls_reload
                              under tls_lock, which each new connection
                              takes to reference it */
  uv_mutex_t tls_lock;
  atomic_uint next_api;    /* HTTP API request ids (with the worker index
                              in the low 8 bits) */
  uv_mutex_t life;
  atomic_int state;
  atomic_int inflight;
  int port;                /* bound port, or -1 */
  int listen_fd;           /* -1 when none */
  int nworkers;
  c4j__worker_t **workers;
  c4j__events_t events;
  c4j__hist_t hist;        /* broadcast history, for resume */
  c4j__held_t held;        /* which worker holds which connection id */
  c4j__members_t members;  /* who is here: identities, users, channels */
  c4j__hooks_t hooks;
  char *hub;               /* copies of cfg.hub and cfg.hub_prefix */
  char *hub_prefix;
  char node_id[C4J__NODE_ID_LEN + 1]; /* this engine's id on the hub */
  c4j__redis_t *redis;     /* the link to Redis; NULL with hub "local" */
  struct c4j__hub_wait_s *hub_waits; /* hub.c's, on the Redis thread */
  size_t hub_held;         /* bytes of the records in hub_waits (idem) */
  uint64_t hub_own_max;    /* without a history: the highest of this
                              node's message numbers delivered here (idem) */
  uint64_t hub_msg_ids;    /* the n of this node's message ids
                              "<node id>.<n>", under the history lock */
  atomic_ullong hub_lost, hub_gaps, hub_duplicates; /* c4j_stats_t's */
  atomic_int hub_warned;   /* a cluster map went unanswered (logged) */
  atomic_uint next_seq;    /* attach order, for "replaced" (4004) */
  atomic_uint next_adopt;  /* round-robin of the sockets handed over */
  atomic_int open_socks;   /* sockets held, attached or not */
  int conn_cap;            /* the most sockets held at once: max_conns, or
                              fewer when fewer descriptors were left at
                              start (listener.c) */
  c4j__pending_t pending;  /* unfinished requests by address */
  atomic_int evicting;     /* unfinished requests chosen to make room for
                              a new socket and not yet closed */
  atomic_int to_evict;     /* of those, the ones their worker has not yet
                              answered (still counted in `pending`) */
  atomic_ullong conns, accepted, slow_consumers;
  atomic_ullong refused_full, refused_addr, evicted, timeouts,
      timeouts_short;      /* what was refused, by reason (c4j_stats_t) */
  atomic_ullong messages_out, bytes_out; /* workers add once a loop turn */
  int echo;                /* conformance echo mode (c4j__engine_echo):
                              "GET /" upgrades without a ticket and echoes */
  /* The rest of c4j_stats_t (metrics.h maps codes to their slots). */
  atomic_ullong by_transport[C4J_STATS_NTRANSPORTS];
  atomic_ullong refused[C4J_STATS_NSTATUSES];
  atomic_ullong closed[C4J_STATS_NCLOSES];
  atomic_ullong messages_in, bytes_in; /* workers add once a loop turn */
  atomic_ullong broadcasts, sends_to, sends_user;
  atomic_ullong resumes[2];  /* [recovered] */
  c4j__histo_t fanout;       /* broadcast fan-out time (worker.c) */
  c4j__metrics_access_t metrics; /* who may GET /metrics */
};

/* Counts one more in a counter of the engine, from any thread.  Built
 * with -DC4J_NO_METRICS (the bench's baseline) it counts nothing. */
#ifdef C4J_NO_METRICS
#define C4J__COUNT(counter) ((void)sizeof(counter))
#else
#define C4J__COUNT(counter)                                                  \
  atomic_fetch_add_explicit(&(counter), 1, memory_order_relaxed)
#endif

/* Whether e is a live engine handle (not freed, not garbage). */
static inline int c4j__engine_valid(const c4j_engine_t *e) {
  return e != NULL && e->magic == C4J__ENGINE_MAGIC;
}

/* The push guard described above: enter returns 1 when pushing is allowed
 * (and then leave must follow), 0 otherwise (and no leave). */
static inline int c4j__engine_enter(c4j_engine_t *e) {
  atomic_fetch_add(&e->inflight, 1);
  if (atomic_load(&e->state) == C4J__RUNNING) return 1;
  atomic_fetch_sub(&e->inflight, 1);
  return 0;
}

static inline void c4j__engine_leave(c4j_engine_t *e) {
  atomic_fetch_sub(&e->inflight, 1);
}

/* The sockets that count against conn_cap: those held, but for the
 * unfinished requests already chosen to make room.  The engine is
 * crowded from half of conn_cap on: unfinished requests are then capped
 * per address and their deadline shrinks (docs/protocol.md section 2). */
static inline int c4j__engine_held(c4j_engine_t *e) {
  return atomic_load(&e->open_socks) - atomic_load(&e->evicting);
}

/* What a public call answers when enter refused: C4J_ESTATE before start,
 * C4J_ESTOPPED after stop. */
static inline int c4j__engine_refusal(c4j_engine_t *e) {
  return atomic_load(&e->state) == C4J__NEW ? C4J_ESTATE : C4J_ESTOPPED;
}

/* ---- The conformance hook ------------------------------------------------
 * Test-only, for tools/c4j-echo.c (make echo) and the conformance tests:
 * turns a new engine (before c4j_engine_start) into an echo server, where
 * a WebSocket upgrade of the path "/" (any query) is accepted without a
 * ticket, gets no identity, no open frame and no event, and every message
 * its client sends comes back unchanged (text or binary); every other
 * path is routed as usual.  It is not in c4j.h: libcomet4j.so exports
 * JNI_OnLoad and JNI_OnUnload alone, comet4j-node never calls it, and no
 * configuration value sets it, so that no ticket-less path opens for the
 * users of the library.  Returns 0, or C4J_ESTATE once the engine has
 * started (engine.c). */
int c4j__engine_echo(c4j_engine_t *e);

#endif /* C4J_ENGINE_H */
