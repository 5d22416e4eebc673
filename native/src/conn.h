/* conn.h - one client connection: the HTTP request, then its transport
 * (WebSocket, SSE, a long-poll, or one /cmd request), an output queue of
 * shared buffers out, and the identity (connection id, subscriptions) that
 * may outlive the socket while dying or between two polls.
 */
#ifndef C4J_CONN_H
#define C4J_CONN_H

#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "channel.h"
#include "http.h"
#include "worker.h"
#include "ws.h"

enum {
  C4J__CONN_HANDSHAKE, /* reading the HTTP request */
  C4J__CONN_REFUSING,  /* writing an HTTP answer, then closing */
  C4J__CONN_OPEN,      /* attached: frames flow on the transport */
  C4J__CONN_CLOSING,   /* close frame queued; waiting for the peer */
  C4J__CONN_CLOSED,    /* uv_close called; freed in its callback */
  C4J__CONN_BODY,      /* reading the body of POST /cmd */
  C4J__CONN_PARKED,    /* ghost: a long-poll client between two polls */
  C4J__CONN_DYING,     /* ghost: transport lost, identity kept */
  C4J__CONN_API        /* an /api/ request waiting for the embedder's
                          answer: on the worker's api_wait list (`gnext`,
                          `gprev`), its id in `seq` */
};

enum { C4J__T_WS, C4J__T_SSE, C4J__T_POLL, C4J__T_CMD, C4J__T_API };

typedef struct c4j__wreq_s c4j__wreq_t;
typedef struct c4j__cmd_s c4j__cmd_t;

/* Invariants: `queued` is the byte count of every buffer in `outq` plus
 * those of the write in flight (`wreq`), and stays within max_queue for an
 * open connection; `outq` is a ring of `out_cap` slots (NULL while never
 * used or freed when idle).  An identity (`cid` set) is in its worker's
 * cid map exactly while state is OPEN, PARKED or DYING, and in the
 * channel index while OPEN or PARKED; an identity whose ticket names a
 * user is in the worker's user index (`user`) exactly while it is in the
 * cid map, so that sendUser frames are kept while dying.  A ghost
 * (PARKED, DYING) is no libuv handle: `tcp` is unused, the worker's
 * ghost list (`gnext`, `gprev`) holds it and frees it.  Any other connection is a UV_TCP handle of the
 * worker, freed in its close callback.  Between frames an open WebSocket
 * holds no parser (`u.ws` NULL): the worker's scratch parser reads for
 * it. */
struct c4j__conn_s {
  uv_tcp_t tcp;
  union {
    c4j_http_req_t *http;   /* HANDSHAKE */
    c4j_ws_parser_t *ws;    /* OPEN/CLOSING WebSocket, only mid-frame */
    c4j__cmd_t *cmd;        /* BODY */
    char *acao;             /* OPEN long-poll: the Allow-Origin to answer */
  } u;
  c4j__cid_t *cid;          /* entry in the cid map, or NULL */
  c4j__sub_t *subs;
  c4j__sub_t *user;         /* node in the worker's user index, or NULL */
  c4j__buf_t **outq;
  c4j__wreq_t *wreq;
  c4j__conn_t *flush_next;
  c4j__conn_t *gnext, *gprev; /* ghosts; for a poll, the batch list */
  uint32_t queued;
  uint32_t stamp;           /* accept, last read (for SSE: the last
                               /cmd of its id), close start, or when a
                               ghost became one */
  uint32_t seq;             /* attach order */
  uint32_t lost;            /* frames a dying ghost dropped (queue full) */
  uint16_t out_head, out_len, out_cap;
  uint8_t state;
  uint8_t flags;
  uint8_t transport;
};

/* Adopts an accepted socket on worker w; on failure closes fd. */
void c4j__conn_adopt(c4j__worker_t *w, int fd);
/* Queues b (a new reference) to a connection with an identity; over
 * max_queue an attached one is closed with 4001, a dying one drops its
 * oldest frames. */
void c4j__conn_send(c4j__conn_t *c, c4j__buf_t *b);
/* c4j__conn_send for a broadcast through subscription s: skipped when s
 * already had this offset. */
void c4j__conn_send_sub(c4j__conn_t *c, c4j__sub_t *s, c4j__buf_t *b);
/* Ends a connection with code and reason: a transport loss (1006, 4002)
 * leaves a dying ghost when conn_expires_ms allows, anything else drops
 * the identity.  A WebSocket gets a close frame; discard drops output not
 * yet written.  A ghost is dropped and freed. */
void c4j__conn_close(c4j__conn_t *c, int code, const char *reason,
                     int discard);
/* Closes the socket now (no close frame); the identity counts as lost. */
void c4j__conn_abort(c4j__conn_t *c);
/* Writes what can be written. */
void c4j__conn_flush(c4j__conn_t *c);
/* Checks timeouts, and queues a heartbeat on a heartbeat round. */
void c4j__conn_tick(c4j__conn_t *c, uint32_t now, int ping);
/* A ghost's timers: a parked poll turns dying, a dying one expires. */
void c4j__conn_ghost_tick(c4j__conn_t *g, uint32_t now);
/* Worker `to` attached cid with seq: a ghost of it here hands its sendTo
 * frames over (C4J__MSG_KEPT) and goes silently; an older attached
 * connection is closed with 4004. */
void c4j__conn_take(c4j__worker_t *w, const char *cid, size_t len, int to,
                    uint32_t seq);
/* A frame kept for cid on another worker arrived: queue it to cid. */
void c4j__conn_kept(c4j__worker_t *w, const char *cid, size_t len,
                    c4j__buf_t *b);
/* The client of cid talked through /cmd: an attached SSE stream of it on
 * w counts as alive from now (its idle timer restarts).  Anything else
 * (WebSocket, long-poll, ghost, unknown id) is left alone. */
void c4j__conn_touch(c4j__worker_t *w, const char *cid, size_t len);
/* Subscribes cid, if held here, to channel after offset off of its
 * history hist (NULL: none), the newest when the embedder asked, and,
 * when ack_id >= 0, queues it the ack (or the 4290 error over
 * C4J_MAX_CHANNELS); the identity's channel set in the held register
 * follows, so that the next connection of cid subscribes it too. */
int c4j__conn_subscribe(c4j__worker_t *w, const char *cid, size_t len,
                        const char *channel, int64_t ack_id,
                        const void *hist, uint64_t off);
/* Unsubscribes cid, if held here, from channel, for its next connections
 * too. */
int c4j__conn_unsubscribe(c4j__worker_t *w, const char *cid, size_t len,
                          const char *channel);
/* Both return C4J__LATER when cid's socket is closing here and its ghost
 * does not exist yet: the worker hands the command in again on a later
 * tick (otherwise the ghost, made from the closing socket's channels,
 * would undo it); else 0. */
#define C4J__LATER 1
/* The embedder answered /api/ request id: b (a whole HTTP answer, one
 * reference kept by the caller) goes to it if it still waits on w. */
void c4j__conn_api_reply(c4j__worker_t *w, uint32_t id, c4j__buf_t *b);
/* Answers the long-polls waiting in w's batch list. */
void c4j__conn_answer_polls(c4j__worker_t *w);

#endif /* C4J_CONN_H */
