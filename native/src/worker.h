/* worker.h - one libuv loop on its own thread: its inbox (MPSC queue woken
 * by uv_async), its connections, its channel index and cid map, and one
 * periodic timer that drives heartbeats and every timeout of its
 * connections.
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
#include "queue.h"
#include "ws.h"

typedef struct c4j__conn_s c4j__conn_t;

#define C4J__READ_BUF (64 * 1024)

/* What travels through an inbox. */
enum {
  C4J__MSG_FD = 1,    /* an accepted socket to adopt: fd */
  C4J__MSG_SEND_ALL,  /* buf to the subscribers of channel `text` */
  C4J__MSG_SEND_TO,   /* buf to the connection whose id is `text` */
  C4J__MSG_DROP,      /* close connection `text` with code and reason */
  C4J__MSG_TAKE,      /* worker `code` attached `text` with seq */
  C4J__MSG_KEPT,      /* buf, kept for `text` by its former worker */
  C4J__MSG_TOUCH,     /* a /cmd request of `text` was accepted: its SSE
                         stream here is alive */
  C4J__MSG_SUB,       /* subscribe `text` to channel `reason`; ack `id`
                         when >= 0 */
  C4J__MSG_UNSUB,     /* unsubscribe `text` from channel `reason` */
  C4J__MSG_SEND_USER, /* buf to the connections of user `text` */
  C4J__MSG_API_REPLY  /* buf (a whole HTTP answer) to the /api/ request
                         `seq` waiting here */
};

typedef struct {
  c4j__qnode_t node;
  uint8_t type;
  int fd;
  int code;             /* C4J__MSG_SUB/UNSUB: ticks waited (C4J__LATER) */
  uint32_t seq;
  int64_t id;           /* C4J__MSG_SUB: the ack's id, the channel's
                           history (or NULL) and its newest offset when
                           c4j_subscribe was called */
  const void *hist;
  uint64_t off;
  c4j__buf_t *buf;      /* one reference, owned by the message */
  uint16_t name_len;
  const char *reason;   /* points into text, after the name's NUL */
  char text[];          /* name NUL reason NUL */
} c4j__msg_t;

/* A message with copies of name and reason (either may be NULL); NULL when
 * out of memory.  Freed with c4j__msg_free, which drops buf. */
c4j__msg_t *c4j__msg_new(int type, const char *name, size_t name_len,
                         const char *reason);
void c4j__msg_free(c4j__msg_t *m);

/* Invariant: everything here except `inbox`, `async` (for uv_async_send)
 * and the atomic counters belongs to the worker's thread once it runs.
 * Connections are the loop's UV_TCP handles (found with uv_walk); the
 * listener, async and timer are the only other handles. */
struct c4j__worker_s {
  c4j_engine_t *engine;
  int index;
  uv_loop_t loop;
  uv_async_t async;
  uv_timer_t tick;
  uv_poll_t listen;         /* worker 0 only, when listening */
  uv_thread_t thread;
  int loop_ready, thread_started, listening, listen_paused, stopping;
  c4j__mpsc_t inbox;
  c4j__qnode_t stop_node;   /* pushed by stop(); never allocated */
  c4j__chan_index_t chans;
  c4j__chan_index_t users;  /* user id -> its connections (conn.h) */
  c4j__cid_map_t cids;
  c4j__conn_t *flush_list;  /* connections with output to write */
  c4j__conn_t *ghosts;      /* identities without a socket (conn.h) */
  c4j__qnode_t *later;      /* subscribe commands to hand in again at the
                               next tick, oldest first (C4J__LATER) */
  c4j__conn_t *api_wait;    /* /api/ requests waiting for their answer
                               (conn.h) */
  c4j__conn_t *batch;       /* long-polls to answer when `batch_timer`
                               fires */
  uv_timer_t batch_timer;
  uint64_t start_ms;
  uint32_t next_ping;       /* worker time of the next heartbeat round */
  uint32_t tick_ms;
  c4j__buf_t *ping;         /* shared frames: ping, {"t":"pong"}, and the
                               SSE heartbeat comment */
  c4j__buf_t *pong_text;
  c4j__buf_t *comment;
  uint64_t messages_out, bytes_out; /* not yet added to the engine's */
  unsigned rr;              /* round-robin position of the listener */
  uint8_t handles;          /* which of async, tick were initialized */
  c4j_ws_parser_t parser;   /* scratch parser for connections between
                               frames (see conn.c) */
  c4j_ticket_t ticket;      /* scratch for the handshake */
  int rbuf_busy;
  uint8_t rbuf[C4J__READ_BUF];
};

/* Sets up the loop, async, timer and shared frames (on the caller's
 * thread).  Returns 0 or a negative code; c4j__worker_free cleans up
 * either way. */
int c4j__worker_init(c4j__worker_t *w, c4j_engine_t *e, int index);
int c4j__worker_run(c4j__worker_t *w);   /* starts the thread */
/* Pushes m and wakes the worker.  The caller holds the engine's push guard
 * (c4j__engine_enter) or is stop(). */
void c4j__worker_push(c4j__worker_t *w, c4j__qnode_t *n);
/* Tells the worker to close everything and end; joins its thread. */
void c4j__worker_stop(c4j__worker_t *w);
/* Frees what is left (the loop must be stopped or never started). */
void c4j__worker_free(c4j__worker_t *w);

/* Milliseconds since the worker started, wrapping at 2^32: compare with
 * unsigned subtraction. */
uint32_t c4j__worker_now(const c4j__worker_t *w);
/* How long a long-poll is held: min(25000, idle_timeout / 2) ms. */
uint32_t c4j__worker_poll_hold(const c4j__worker_t *w);
/* Starts the batch window unless it runs: the waiting polls with frames
 * are answered when it ends. */
void c4j__worker_batch_start(c4j__worker_t *w);
/* Puts c on the list written at the end of the current callback. */
void c4j__worker_want_flush(c4j__worker_t *w, c4j__conn_t *c);
void c4j__worker_flush(c4j__worker_t *w);

static inline c4j__worker_t *c4j__worker_of(uv_loop_t *loop) {
  return (c4j__worker_t *)((char *)loop - offsetof(c4j__worker_t, loop));
}

#endif /* C4J_WORKER_H */
