/* conn.h - one client connection, and the files that make up the
 * connection layer, each owning one concern:
 *
 *   conn.c          the socket's life: output ring and writes, sending,
 *                   closing, read dispatch, the tick, adoption
 *   wsconn.c        an attached WebSocket: frames in, the close handshake
 *   request.c       the HTTP request: routing, ticket and upgrade checks,
 *                   origins, refusals and plain answers
 *   cmd.c           POST /cmd bodies and /api/ requests
 *   poll.c          long-poll answers and their batch window
 *   identity.c      the identity a connection attaches: attach, ghosts
 *                   (dying, parked), the hand-over between workers
 *   subscription.c  run-time (un)subscriptions of an identity
 *   tls.c           TLS on the native port: the handshake (OpenSSL), then
 *                   records opened on read and sealed on flush (tlsrec.c,
 *                   a codec below); tls.h
 *
 * A connection is the HTTP request, then its transport (WebSocket, SSE, a
 * long-poll, or one /cmd or /api/ request), an output queue of shared
 * buffers, and the identity (connection id, subscriptions) that may
 * outlive the socket while dying or between two polls.  The worker's loop
 * (worker.c, above) calls the functions of the first section; the second
 * section is for the connection files among themselves.
 */
#ifndef C4J_CONN_H
#define C4J_CONN_H

#include <stdint.h>
#include <uv.h>
#include <jansson.h>

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
  C4J__CONN_BODY,      /* reading the body of POST /cmd or /api/ */
  C4J__CONN_PARKED,    /* ghost: a long-poll client between two polls */
  C4J__CONN_DYING,     /* ghost: transport lost, identity kept */
  C4J__CONN_API,       /* an /api/ request waiting for the embedder's
                          answer: on the worker's api_wait list (`gnext`,
                          `gprev`), its id in `seq` */
  C4J__CONN_GONE,      /* closed (its close callback ran) while on the
                          worker's flush list: freed when the flush
                          reaches it */
  C4J__CONN_KEEP       /* writing an answer with a length, then reading
                          the next request on the same socket (HTTP
                          keep-alive: c4j__conn_answered) */
};

enum { C4J__T_WS, C4J__T_SSE, C4J__T_POLL, C4J__T_CMD, C4J__T_API };

/* Flags. */
#define C4J__F_IN_FLUSH 0x01    /* on the worker's flush list */
#define C4J__F_PEER_CLOSED 0x02 /* the client's close frame arrived */
#define C4J__F_SHUTDOWN 0x04    /* uv_shutdown started */
#define C4J__F_NO_INPUT 0x08    /* the parser failed: ignore further bytes */
#define C4J__F_HTTP 0x10        /* u.http is the live member */
#define C4J__F_BATCH 0x20       /* a poll on the worker's batch list */
#define C4J__F_PENDING 0x40     /* counted as an unfinished request: in the
                                   engine's register (`akey`) and on the
                                   worker's pending list */
#define C4J__F_EVICTED 0x80     /* closing to make room: its close lowers
                                   the engine's `evicting` */
#define C4J__F_KEEP 0x100       /* the request lets the socket stay open
                                   after its answer (c4j_http_keep_alive) */
#define C4J__F_REST 0x200       /* u.rest is the live member: bytes of the
                                   next request, read while this one is
                                   answered (API, KEEP); reading is stopped
                                   meanwhile */
#define C4J__F_ADOPTED 0x400    /* handed over by another server (section
                                   10): every answer closes, as the next
                                   request on it is that server's */

/* Requests one socket may carry (HTTP keep-alive): the answer to the last
 * says Connection: close, as nginx's keepalive_requests. */
#define C4J__KEEPALIVE_MAX 1000

#define C4J__MAX_IOV 64
#define C4J__MAX_OUT 32768      /* entries in one output ring */

typedef struct c4j__wreq_s c4j__wreq_t;
typedef struct c4j__cmd_s c4j__cmd_t;
typedef struct c4j__tls_s c4j__tls_t;

/* A write in flight: the buffers handed to uv_write, one reference each. */
struct c4j__wreq_s {
  uv_write_t req;
  c4j__conn_t *c;
  uint32_t bytes;          /* counted in c->queued until the callback */
  uint32_t n;
  c4j__buf_t *bufs[];
};

/* Invariants: `queued` is the byte count of every buffer in `outq` plus
 * those of the write in flight (`wreq`), and stays within max_queue for an
 * open connection; `outq` is a ring of `out_cap` slots (NULL while never
 * used or freed when idle).  An identity (`cid` set) is in its worker's
 * cid map exactly while state is OPEN, PARKED or DYING, and in the
 * channel index while OPEN or PARKED; an identity whose ticket names a
 * user is in the worker's user index (`user`) exactly while it is in the
 * cid map, so that sendUser frames are kept while dying.  A ghost
 * (PARKED, DYING) is no libuv handle: `tcp` is unused but for `tcp.loop`
 * (set as a handle's, so that the worker is found the same way), the
 * worker's ghost list (`gnext`, `gprev`) holds it and frees it.  Any other
 * connection is a UV_TCP handle of the worker, freed in its close
 * callback.  Between frames an open WebSocket holds no parser (`u.ws`
 * NULL): the worker's scratch parser reads for it.  A socket whose
 * request has not fully arrived (HANDSHAKE, BODY) is an unfinished
 * request (C4J__F_PENDING): counted under its address's key `akey` in the
 * engine's register (pending.h) and on its worker's pending list
 * (`gnext` older, `gprev` newer; no other list holds it meanwhile), until
 * its request is complete or it closes; a socket kept open after an
 * answer (HTTP keep-alive) is one again while it reads its next request,
 * and one that has sent nothing of it since (`served` > 0, no header byte)
 * is an idle one, closed without an answer at the deadline or to make
 * room.  `tls` is set for the whole life
 * of a socket accepted on a TLS native port (tls.c's), NULL for every
 * other; with it, `outq` and `queued` hold plaintext, and a write in
 * flight ciphertext. */
/* A hand-over from another worker in progress (identity.c): the identity
 * attached here while its former worker still held frames for it.  Until
 * that worker's last C4J__MSG_KEPT (the one without a buf) arrives,
 * frames for the identity without a history (sendTo frames, broadcasts
 * of a channel without one) wait in held, so that nothing sent later
 * overtakes what was kept; kept lists the frames handed over, so that a
 * send that reached both workers is delivered once.  Broadcasts with a
 * history go on at once: their offsets order them. */
typedef struct {
  c4j__buf_t **held, **kept;
  uint32_t nheld, cap_held, nkept, cap_kept;
} c4j__handover_t;

struct c4j__conn_s {
  uv_tcp_t tcp;
  union {
    c4j_http_req_t *http;   /* HANDSHAKE */
    c4j_ws_parser_t *ws;    /* OPEN/CLOSING WebSocket, only mid-frame */
    c4j__cmd_t *cmd;        /* BODY */
    char *acao;             /* OPEN long-poll: the Allow-Origin to answer */
    c4j__buf_t *rest;       /* C4J__F_REST: the next request's first bytes */
  } u;
  c4j__cid_t *cid;          /* entry in the cid map, or NULL */
  c4j__sub_t *subs;
  c4j__sub_t *user;         /* node in the worker's user index, or NULL */
  c4j__buf_t **outq;
  c4j__wreq_t *wreq;
  c4j__tls_t *tls;
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
  uint16_t flags;
  uint8_t transport;
  uint8_t head;             /* outq's first buffer is the answer head (the
                               101 or the SSE head), not yet written: a
                               discard keeps it */
  uint8_t deflate;          /* a WebSocket that negotiated
                               permessage-deflate (what
                               c4j__deflate_negotiate returned: 1, or the
                               server_max_window_bits named), else 0: its
                               data frames go compressed, and its client
                               may send compressed messages */
  uint16_t served;          /* answers that kept the socket open (HTTP
                               keep-alive), up to C4J__KEEPALIVE_MAX - 1 */
  uint32_t born;            /* an open SSE stream: when it attached (its
                               hold, c4j__poll_end_stream) */
  uint32_t akey;            /* its address's key while C4J__F_PENDING */
  c4j__handover_t *ho;      /* a hand-over in progress, or NULL */
};

/* ---- For the worker's loop ------------------------------------------------ */

/* conn.c: adopts an accepted socket on worker w, counted by the listener
 * in open_socks and as an unfinished request of key (both counted out
 * again, and fd closed, on failure).  first: NULL for a socket accepted
 * on the native port, else the bytes (maybe none) its client sent that
 * another server read (a socket taken over, C4J__F_ADOPTED): read as if
 * they came from the socket.  tls: the socket was accepted on the native port
 * with a TLS context (never with first). */
void c4j__conn_adopt(c4j__worker_t *w, int fd, const c4j__buf_t *first,
                     uint32_t key, int tls);
/* conn.c: makes room on w for a new socket: its oldest unfinished
 * request is read first (what its client sent may simply not have been
 * read yet: an honest request is complete then, and goes on, and the next
 * oldest is tried); one still unfinished is answered 503 and closed
 * (counted in `evicted`), one whose client has gone is closed; either
 * close lowers `evicting`.  Returns 1, or 0 when w has none left. */
int c4j__conn_evict_oldest(c4j__worker_t *w);
/* conn.c: queues b (a new reference) to a connection with an identity;
 * over max_queue an attached one is closed with 4001, a dying one drops
 * its oldest frames. */
void c4j__conn_send(c4j__conn_t *c, c4j__buf_t *b);
/* conn.c: c4j__conn_send of a frame an identity kept while it had no
 * transport (bounded by max_queue then): not cut for a slow consumer. */
void c4j__conn_send_kept(c4j__conn_t *c, c4j__buf_t *b);
/* conn.c: a frame handed over by c's former worker during a hand-over:
 * queued ahead of what waits in c->ho, and remembered there. */
void c4j__conn_send_handed(c4j__conn_t *c, c4j__buf_t *b);
/* conn.c: the hand-over is complete: what waited is queued, but for the
 * frames that were handed over too; c->ho is freed. */
void c4j__conn_handover_end(c4j__conn_t *c);
/* conn.c: frees a hand-over and its references (NULL: nothing). */
void c4j__handover_free(c4j__handover_t *ho);
/* conn.c: c4j__conn_send for a broadcast through subscription s: skipped
 * when s already had this offset. */
void c4j__conn_send_sub(c4j__conn_t *c, c4j__sub_t *s, c4j__buf_t *b);
/* conn.c: ends a connection with code and reason: a transport loss (1006,
 * 4002) leaves a dying ghost when conn_expires_ms allows, anything else
 * drops the identity.  A WebSocket gets a close frame; discard drops
 * output not yet written but the answer head (`head`).  A ghost is dropped and freed. */
void c4j__conn_close(c4j__conn_t *c, int code, const char *reason,
                     int discard);
/* conn.c: closes the socket now (no close frame); the identity counts as
 * lost. */
void c4j__conn_abort(c4j__conn_t *c);
/* conn.c: writes what can be written. */
void c4j__conn_flush(c4j__conn_t *c);
/* conn.c: checks timeouts, and queues a heartbeat on a heartbeat round. */
void c4j__conn_tick(c4j__conn_t *c, uint32_t now, int ping);

/* identity.c: a ghost's timers: a parked poll turns dying, a dying one
 * expires. */
void c4j__identity_ghost_tick(c4j__conn_t *g, uint32_t now);
/* identity.c: worker `to` attached cid with seq: a ghost of it here hands
 * its sendTo frames over (C4J__MSG_KEPT) and goes silently; an older
 * attached connection is closed with 4004; either way the hand-over ends
 * with a C4J__MSG_KEPT without buf. */
void c4j__identity_take(c4j__worker_t *w, const char *cid, size_t len,
                        int to, uint32_t seq);
/* identity.c: a frame kept for cid on another worker arrived: queue it to
 * cid ahead of what waits for the hand-over; NULL: the hand-over is over,
 * what waited follows. */
void c4j__identity_kept(c4j__worker_t *w, const char *cid, size_t len,
                        c4j__buf_t *b);
/* identity.c: the client of cid talked through /cmd: an attached SSE
 * stream of it on w counts as alive from now (its idle timer restarts).
 * Anything else (WebSocket, long-poll, ghost, unknown id) is left alone. */
void c4j__identity_touch(c4j__worker_t *w, const char *cid, size_t len);

/* subscription.c: subscribes cid, if held here, to channel after offset
 * off of its history hist (NULL: none), the newest when the embedder
 * asked, and, when ack_id >= 0, queues it the ack (or the err 4290 over
 * C4J_MAX_CHANNELS, or the err 5030 when out of memory); the identity's
 * channel set in the held register follows, so that the next connection
 * of cid subscribes it too. */
int c4j__subscription_add(c4j__worker_t *w, const char *cid, size_t len,
                          const char *channel, int64_t ack_id,
                          const void *hist, uint64_t off);
/* subscription.c: unsubscribes cid, if held here, from channel, for its
 * next connections too. */
int c4j__subscription_remove(c4j__worker_t *w, const char *cid, size_t len,
                             const char *channel);
/* Both return C4J__LATER when cid's socket is closing here and its ghost
 * does not exist yet: the worker hands the command in again on a later
 * tick (otherwise the ghost, made from the closing socket's channels,
 * would undo it); else 0. */
#define C4J__LATER 1

/* cmd.c: the embedder answered /api/ request id with status and the JSON
 * body (the caller's): the answer goes to it if it still waits on w,
 * keeping the socket open when the request allows it. */
void c4j__cmd_api_reply(c4j__worker_t *w, uint32_t id, int status,
                        const c4j__buf_t *body);

/* ---- Within the connection files ------------------------------------------ */

static inline c4j__worker_t *c4j__conn_worker(const c4j__conn_t *c) {
  return c4j__worker_of(c->tcp.loop);
}

static inline c4j_engine_t *c4j__conn_engine(const c4j__conn_t *c) {
  return c4j__conn_worker(c)->engine;
}

static inline int c4j__conn_is_ghost(const c4j__conn_t *c) {
  return c->state == C4J__CONN_PARKED || c->state == C4J__CONN_DYING;
}

/* now - stamp, as 0 when the stamp is newer: a stamp taken during a tick
 * is later than the tick's `now`. */
static inline uint32_t c4j__conn_age(uint32_t now, uint32_t stamp) {
  int32_t d = (int32_t)(now - stamp);
  return d > 0 ? (uint32_t)d : 0;
}

static inline c4j__buf_t **c4j__conn_slot(c4j__conn_t *c, unsigned i) {
  return &c->outq[(c->out_head + i) % c->out_cap];
}

/* conn.c: appends b to the output ring, taking over the caller's
 * reference, outside the max_queue check.  Returns 0, or -1 when out of
 * memory (b untouched). */
int c4j__conn_push_out(c4j__conn_t *c, c4j__buf_t *b);
/* conn.c: takes the oldest buffer out of the ring (the caller's reference
 * from then on; `queued` is the caller's to lower). */
c4j__buf_t *c4j__conn_pop_out(c4j__conn_t *c);
/* conn.c: drops everything not yet handed to a write. */
void c4j__conn_drop_out(c4j__conn_t *c);
/* conn.c: queues a copy of n bytes the connection itself produced
 * (responses, control frames), outside the max_queue check; -1 when out
 * of memory. */
int c4j__conn_queue_bytes(c4j__conn_t *c, const void *p, size_t n);
/* conn.c: c4j__conn_send of buffer b, then drops the caller's reference;
 * b NULL (out of memory) closes c with 1011.  For frames made for one
 * connection. */
void c4j__conn_send_new(c4j__conn_t *c, c4j__buf_t *b);
/* conn.c: what the client sent (decrypted, with TLS) goes where the
 * connection's state says: the request, a body, the WebSocket, or kept
 * for the next request while this one is answered (HTTP keep-alive). */
void c4j__conn_bytes(c4j__conn_t *c, const uint8_t *data, size_t n);
/* conn.c: puts c on the worker's flush list (written once this loop
 * turn ends). */
void c4j__conn_want_flush(c4j__conn_t *c);
/* conn.c: writes bufs[0..n) (n <= 4; their references taken over), what
 * the kernel takes at once with uv_try_write, the rest with uv_write
 * (counted in `queued` until written).  Returns 0 when all was written, 1
 * when a write is in flight, -1 when c was aborted.  For tls.c, whose
 * ciphertext is the connection's own. */
int c4j__conn_write(c4j__conn_t *c, c4j__buf_t **bufs, unsigned n);
/* conn.c: the worker's intrusive lists of connections (ghosts, polls in a
 * batch, /api/ requests waiting), through `gnext` and `gprev`. */
void c4j__conn_list_add(c4j__conn_t **head, c4j__conn_t *c);
void c4j__conn_list_remove(c4j__conn_t **head, c4j__conn_t *c);

/* conn.c: c's request is complete (or refused): it is no longer an
 * unfinished request.  Idempotent; nothing for a socket that was not one. */
void c4j__conn_pending_done(c4j__conn_t *c);
/* conn.c: whether the answer to c's request may leave the socket open
 * (HTTP keep-alive): the request allows it (C4J__F_KEEP), the socket is
 * the core's own (not C4J__F_ADOPTED) and the answer is not its
 * C4J__KEEPALIVE_MAX-th. */
int c4j__conn_may_keep(const c4j__conn_t *c);
/* conn.c: the answer to c's request (a whole one, with its length) is
 * queued: without keep the socket closes once it is written (REFUSING);
 * with keep (what c4j__conn_may_keep said, its head without Connection:
 * close) the request's memory goes and, once the answer is written, the
 * socket reads a fresh request as a new one does (KEEP, then HANDSHAKE:
 * an unfinished request again, whose deadline counts from then), first
 * the bytes its client sent meanwhile (pipelined). */
void c4j__conn_answered(c4j__conn_t *c, int keep);

/* request.c: feeds bytes read during the handshake; once the request is
 * complete routes it, and hands what followed it in the same read to the
 * transport (WebSocket frames, a body). */
void c4j__request_bytes(c4j__conn_t *c, const uint8_t *data, size_t n);
/* request.c: queues a whole HTTP answer (ctype NULL: no body headers)
 * and closes once it is written. */
void c4j__request_answer(c4j__conn_t *c, int status, const char *ctype,
                         const char *body, const char *acao);
/* request.c: an HTTP error with a text/plain reason (the CORS headers for
 * an allowed origin but on 403), then close. */
void c4j__request_refuse(c4j__conn_t *c, int status, const char *reason);
/* request.c: an HTTP error with the JSON body
 * {"error":{"code":status,"message":message}}, then close. */
void c4j__request_refuse_json(c4j__conn_t *c, int status,
                              const char *message, const char *acao);
/* request.c: refuses an unfinished request (HANDSHAKE or BODY) with
 * status and reason, as its path answers (JSON for /cmd and /api/). */
void c4j__request_refuse_pending(c4j__conn_t *c, int status,
                                 const char *reason);
/* request.c: once a worker tick, the count of the refusals for a ticket
 * (401) or an origin (403) not logged one by one, once their minute is
 * over (one line each; nothing when there were none). */
void c4j__request_report(c4j__worker_t *w);

/* wsconn.c: bytes read on an attached (or closing) WebSocket. */
void c4j__wsconn_bytes(c4j__conn_t *c, const uint8_t *data, size_t n);
/* wsconn.c: the conformance echo (engine.h, c4j__engine_echo): answers the
 * checked upgrade of "/" with 101 (accept: Sec-WebSocket-Accept) and opens
 * a WebSocket with no identity (cid NULL: no ticket, no open frame, no
 * event) whose messages come back unchanged.  Answers 503 when out of
 * memory. */
void c4j__wsconn_echo_open(c4j__conn_t *c, const char *accept);

/* cmd.c: starts reading the body of POST /cmd for the checked ticket
 * (w->ticket) or of an /api/ request (checked here: method, key,
 * length); bytes read after the request go to c4j__cmd_bytes. */
void c4j__cmd_start(c4j__conn_t *c, const char *acao);
void c4j__cmd_api_start(c4j__conn_t *c);
void c4j__cmd_bytes(c4j__conn_t *c, const uint8_t *data, size_t n);
/* cmd.c: refuses a body still being read with status and reason, in
 * JSON (with its CORS headers for /cmd). */
void c4j__cmd_refuse(c4j__conn_t *c, int status, const char *reason);
/* cmd.c: an /api/ request the embedder did not answer in time: 504. */
void c4j__cmd_api_timeout(c4j__conn_t *c);

/* poll.c: a waiting poll has something to answer: answer it within the
 * batch window. */
void c4j__poll_batch(c4j__conn_t *c);
/* poll.c: takes c off the batch list, if on it. */
void c4j__poll_unbatch(c4j__conn_t *c);
/* poll.c: answers a waiting poll with what it has queued (possibly
 * nothing), parks its identity and closes once the answer is written. */
void c4j__poll_answer(c4j__conn_t *c);
/* poll.c: how long a long-poll is held (c4j_config_t.hold_ms). */
uint32_t c4j__poll_hold(const c4j__worker_t *w);
/* poll.c: an SSE stream held hold_ms: when everything queued to it is
 * written, ends the response (a last comment line, then the close) and
 * parks its identity for the client's next request; returns 1 if it did,
 * 0 while output is pending (the next tick tries again). */
int c4j__poll_end_stream(c4j__conn_t *c);

/* identity.c: attaches the checked request's ticket (w->ticket) with
 * transport; for a WebSocket, accept is the Sec-WebSocket-Accept value.
 * The identity may come from a ghost here or on another worker: its
 * subscriptions go on from the positions it left (or the client's since),
 * so that nothing published meanwhile is lost or sent twice.  Answers 503
 * when out of memory. */
void c4j__identity_attach(c4j__conn_t *c, int transport, const char *accept,
                          const char *acao, json_t *since);
/* identity.c: the end of an attached connection's identity: dying when
 * the transport was lost and the configuration keeps lost connections,
 * else DROP. */
void c4j__identity_end(c4j__conn_t *c, int code, const char *reason);
/* identity.c: forgets c's identity for good and reports DROP (unless
 * silent: handed to another worker). */
void c4j__identity_detach(c4j__conn_t *c, int code, const char *reason,
                          int silent);
/* identity.c: moves c's identity into a new ghost in state (PARKED or
 * DYING); NULL when out of memory (nothing changed). */
c4j__conn_t *c4j__identity_to_ghost(c4j__conn_t *c, int state, int code,
                                    const char *reason);
/* identity.c: c's identity (attached or a ghost) joined / left channel ch:
 * the register of who is here follows, and when that changed it, the
 * embedder hears it (C4J_EV_SUB) and the hooks run (engine.h). */
void c4j__identity_joined(c4j__conn_t *c, const char *ch, size_t len);
void c4j__identity_left(c4j__conn_t *c, const char *ch, size_t len);
/* identity.c: unlinks and frees a ghost (its identity already gone). */
void c4j__identity_ghost_free(c4j__conn_t *g);

#endif /* C4J_CONN_H */
