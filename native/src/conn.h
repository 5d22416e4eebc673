/* conn.h - one client connection: the HTTP upgrade, then WebSocket frames
 * in, and an output queue of shared buffers out, with the close handshake.
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
  C4J__CONN_REFUSING,  /* writing an HTTP error, then closing */
  C4J__CONN_OPEN,      /* attached: WebSocket frames both ways */
  C4J__CONN_CLOSING,   /* close frame queued; waiting for the peer */
  C4J__CONN_CLOSED     /* uv_close called; freed in its callback */
};

typedef struct c4j__wreq_s c4j__wreq_t;

/* Invariants: `queued` is the byte count of every buffer in `outq` plus
 * those of the write in flight (`wreq`), and stays within max_queue for an
 * open connection; `outq` is a ring of `out_cap` slots (NULL while never
 * used or freed when idle).  An attached connection is in its worker's
 * channel index and cid map exactly while state is OPEN.  The worker owns
 * `tcp`; the connection is freed in the handle's close callback.  Between
 * frames an open connection holds no parser (`u.ws` NULL): the worker's
 * scratch parser reads for it. */
struct c4j__conn_s {
  uv_tcp_t tcp;
  union {
    c4j_http_req_t *http;   /* HANDSHAKE */
    c4j_ws_parser_t *ws;    /* OPEN/CLOSING, only mid-frame */
  } u;
  c4j__cid_t *cid;          /* entry in the cid map, or NULL */
  c4j__sub_t *subs;
  c4j__buf_t **outq;
  c4j__wreq_t *wreq;
  c4j__conn_t *flush_next;
  uint32_t queued;
  uint32_t stamp;           /* accept time, last byte read, or close start */
  uint32_t seq;             /* attach order */
  uint16_t out_head, out_len, out_cap;
  uint8_t state;
  uint8_t flags;
};

/* Adopts an accepted socket on worker w; on failure closes fd. */
void c4j__conn_adopt(c4j__worker_t *w, int fd);
/* Queues b (a new reference) to an open connection; over max_queue the
 * connection is closed with 4001 instead. */
void c4j__conn_send(c4j__conn_t *c, c4j__buf_t *b);
/* Starts the close handshake of an open connection with code and reason;
 * any other state is closed at once.  discard drops output not yet
 * written. */
void c4j__conn_close(c4j__conn_t *c, int code, const char *reason,
                     int discard);
/* Closes the socket now (no close frame). */
void c4j__conn_abort(c4j__conn_t *c);
/* Writes what can be written. */
void c4j__conn_flush(c4j__conn_t *c);
/* Checks timeouts, and queues a ping on a heartbeat round. */
void c4j__conn_tick(c4j__conn_t *c, uint32_t now, int ping);

#endif /* C4J_CONN_H */
