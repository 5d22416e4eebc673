/* engine.h - the engine's internal state, shared by engine.c, worker.c,
 * server.c and conn.c.  Embedders see only the opaque c4j_engine_t.
 */
#ifndef C4J_ENGINE_H
#define C4J_ENGINE_H

#include <stdatomic.h>
#include <uv.h>

#include "c4j.h"
#include "events.h"
#include "held.h"
#include "history.h"
#include "hub.h"

typedef struct c4j__worker_s c4j__worker_t;

#define C4J__ENGINE_MAGIC 0x436f6d65u /* "Come": catches stale handles */

enum { C4J__NEW, C4J__RUNNING, C4J__STOPPING, C4J__STOPPED };

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
  char *hub;               /* copies of cfg.hub and cfg.hub_prefix */
  char *hub_prefix;
  char node_id[C4J__NODE_ID_LEN + 1]; /* this engine's id on the hub */
  c4j__redis_t *redis;     /* the link to Redis; NULL with hub "local" */
  struct c4j__hub_wait_s *hub_waits; /* hub.c's, on the Redis thread */
  atomic_ullong hub_msg_ids;  /* message ids of broadcasts delivered here
                                 while cut from Redis */
  atomic_uint next_seq;    /* attach order, for "replaced" (4004) */
  atomic_int open_socks;   /* sockets held, attached or not */
  atomic_ullong conns, accepted, slow_consumers;
  atomic_ullong messages_out, bytes_out; /* workers add once a callback */
};

/* The push guard described above: enter returns 1 when pushing is allowed
 * (and then leave must follow), 0 otherwise (and no leave). */
int c4j__engine_enter(c4j_engine_t *e);
void c4j__engine_leave(c4j_engine_t *e);
/* What a public call answers when enter refused: C4J_ESTATE before start,
 * C4J_ESTOPPED after stop. */
int c4j__engine_refusal(c4j_engine_t *e);
/* Whether e is a live engine handle (not freed, not garbage). */
int c4j__engine_valid(const c4j_engine_t *e);

/* Whether origin (NUL ended, "" when absent) may connect under cfg.allowed_origins. */
int c4j__engine_origin_ok(const c4j_engine_t *e, const char *origin);

/* ---- Local delivery, for c4j_* and the hub (hub.c) ----------------------
 * These skip the hub: they reach only this node's connections. */

/* Whether json starts like a JSON value (the embedder serialized it). */
int c4j__engine_json_ok(const char *json, size_t len);
/* Builds the message frame of a broadcast once and pushes it (unless
 * !push) to every worker.  hc: the channel's history, its lock held; the
 * frame gets offset hc->last + 1 and is kept in the ring.  hc NULL: a
 * frame without offset, kept nowhere.  u: NULL, or the broadcast's
 * message id (see hub.h). */
int c4j__engine_publish(c4j_engine_t *e, const char *ch, size_t ch_len,
                        c4j__hist_chan_t *hc, const char *u, const char *json,
                        size_t json_len, int64_t time_ms, int push);
/* type C4J__MSG_SEND_TO (name: a connection id) or C4J__MSG_SEND_USER
 * (name: a user): the message frame to it. */
int c4j__engine_send_local(c4j_engine_t *e, int type, const char *name,
                           size_t name_len, const char *channel,
                           size_t channel_len, const char *json,
                           size_t json_len, int64_t time_ms);
/* A whole frame (checked) to a connection. */
int c4j__engine_frame_local(c4j_engine_t *e, const char *cid, size_t cid_len,
                            const char *frame, size_t len);
/* A whole frame (checked) to the subscribers of a channel. */
int c4j__engine_chan_frame_local(c4j_engine_t *e, const char *ch,
                                 size_t ch_len, const char *frame,
                                 size_t len);
/* type C4J__MSG_SUB or C4J__MSG_UNSUB of cid to channel (see
 * c4j_subscribe; id: the ack's, or -1). */
int c4j__engine_command(c4j_engine_t *e, int type, const char *cid,
                        size_t cid_len, const char *channel,
                        size_t channel_len, int64_t id);
int c4j__engine_drop_local(c4j_engine_t *e, const char *cid, size_t cid_len,
                           int code, const char *reason);

#endif /* C4J_ENGINE_H */
