/* worker.h - one libuv loop on its own thread: its inbox (MPSC queue woken
 * by uv_async), its connections, its channel index and cid map, one
 * periodic timer that drives heartbeats and every timeout of its
 * connections, and the flush once a loop turn.  The struct is read by the
 * connection files below (they own the lists in it that name them); the
 * functions of worker.c are for the engine above.
 */
#ifndef C4J_WORKER_H
#define C4J_WORKER_H

#include <stdatomic.h>
#include <uv.h>

#include "auth.h"
#include "buf.h"
#include "channel.h"
#include "engine.h"
#include "held.h"
#include "inbox.h"
#include "queue.h"
#include "ws.h"

typedef struct c4j__conn_s c4j__conn_t;
struct evp_cipher_ctx_st;

#define C4J__READ_BUF (64 * 1024)
#define C4J__MAX_FANS 64 /* broadcasts timed at once */

/* Invariant: everything here except `inbox`, `async` (for uv_async_send)
 * and the atomic counters belongs to the worker's thread once it runs.
 * Connections are the loop's UV_TCP handles (found with uv_walk); the
 * listener, async, the timers and the flush (a uv_prepare and a
 * uv_check, see worker.c) are the only other handles.
 * `flush_list` holds the connections with output queued, oldest first:
 * each is written once, whatever number of frames it got, by the flush
 * (worker.c), a slice of them at a time. */
struct c4j__worker_s {
  c4j_engine_t *engine;
  int index;
  uv_loop_t loop;
  uv_async_t async;
  uv_timer_t tick;
  uv_prepare_t flush;       /* the flush: before waiting for I/O, */
  uv_check_t flush_io;      /* and after the I/O callbacks */
  uv_idle_t flush_more;     /* active while the flush list is not empty:
                               the loop polls without waiting */
  uv_poll_t listen;         /* worker 0 only, when listening */
  uv_thread_t thread;
  int loop_ready, thread_started, listening, listen_paused, stopping;
  c4j__mpsc_t inbox;
  c4j__qnode_t stop_node;   /* pushed by stop(); never allocated */
  c4j__chan_index_t chans;
  c4j__chan_index_t users;  /* user id -> its connections (conn.h) */
  c4j__cid_map_t cids;
  c4j__conn_t *flush_list;  /* connections with output to write, */
  c4j__conn_t *flush_tail;  /* the last of them, */
  uint64_t flush_len;       /* how many, */
  uint64_t flushed;         /* and how many left it so far */
  c4j__conn_t *ghosts;      /* identities without a socket (conn.h) */
  c4j__qnode_t *later;      /* (un)subscriptions waiting for their turn
                               or a ghost, oldest first (worker.c) */
  int applied;              /* one was applied in this inbox round */
  c4j__conn_t *api_wait;    /* /api/ requests waiting for their answer
                               (conn.h) */
  c4j__conn_t *batch;       /* long-polls to answer when `batch_timer`
                               fires */
  c4j__conn_t *pending_new; /* unfinished requests, newest first (conn.h) */
  c4j__conn_t *pending_old; /* and the oldest, the first to make room */
  atomic_ullong pending_since; /* monotonic ms at which pending_old came,
                               0 when none: the listener reads it to pick
                               whose oldest makes room */
  uint64_t report_ms;       /* worker 0: when the listener last logged the
                               refusals, and their counts then */
  uint64_t reported[5];
  struct {                  /* request.c: the refusals for a ticket (401)
                               and an origin (403) logged, one line a
                               minute: when that minute began (0: none
                               running) and how many more it refused */
    uint64_t since_ms, more;
  } refusal_log[2];
  uv_timer_t batch_timer;   /* poll.c's, started with the first poll of
                               a batch */
  uint64_t start_ms;
  uint32_t next_ping;       /* worker time of the next heartbeat round */
  uint32_t tick_ms;
  c4j__buf_t *ping;         /* shared frames: ping, {"t":"pong"}, and the
                               SSE heartbeat comment */
  c4j__buf_t *pong_text;
  c4j__buf_t *comment;
  uint64_t messages_out, bytes_out; /* not yet added to the engine's */
  uint64_t messages_in, bytes_in;   /* the same, for client texts */
  atomic_ullong out_queued; /* bytes queued to its connections at the last
                               tick (read by c4j_engine_stats) */
  c4j__fan_t *fans[C4J__MAX_FANS]; /* broadcasts handled, not yet
                               written: done once the flush wrote them, */
  uint64_t fan_at[C4J__MAX_FANS]; /* that is once `flushed` reaches this
                               (it was flushed + flush_len then) */
  int nfans;
  unsigned rr;              /* round-robin position of the listener */
  uint8_t handles;          /* which handles were initialized */
  c4j_ws_parser_t parser;   /* scratch parser for connections between
                               frames (see conn.c) */
  c4j_ticket_t ticket;      /* scratch for the handshake */
  struct evp_cipher_ctx_st *tls_cipher; /* tls.c's, keyed for each record
                               sealed or opened; NULL until needed */
  struct c4j__zip_s *zip;   /* deflate.c's deflater and inflater for every
                               connection of the worker that negotiated
                               permessage-deflate (made with the worker
                               when deflate is on, else NULL) */
  int rbuf_busy;
  uint8_t rbuf[C4J__READ_BUF];
};

/* Sets up the loop, its handles and shared frames (on the caller's
 * thread).  Returns 0 or a negative code; c4j__worker_free cleans up
 * either way. */
int c4j__worker_init(c4j__worker_t *w, c4j_engine_t *e, int index);
int c4j__worker_run(c4j__worker_t *w);   /* starts the thread */
/* Tells the worker to close everything and end; joins its thread. */
void c4j__worker_stop(c4j__worker_t *w);
/* Frees what is left (the loop must be stopped or never started). */
void c4j__worker_free(c4j__worker_t *w);

/* Pushes n and wakes the worker.  The caller holds the engine's push guard
 * (c4j__engine_enter) or is stop(). */
static inline void c4j__worker_push(c4j__worker_t *w, c4j__qnode_t *n) {
  c4j__mpsc_push(&w->inbox, n);
  uv_async_send(&w->async);
}

/* Milliseconds since the worker started, wrapping at 2^32: compare with
 * unsigned subtraction. */
static inline uint32_t c4j__worker_now(const c4j__worker_t *w) {
  return (uint32_t)(c4j__mono_ms() - w->start_ms);
}

static inline c4j__worker_t *c4j__worker_of(uv_loop_t *loop) {
  return (c4j__worker_t *)((char *)loop - offsetof(c4j__worker_t, loop));
}

#endif /* C4J_WORKER_H */
