/* conn.c - one client connection: reads the HTTP request, checks it and its
 * ticket, routes it (WebSocket upgrade, SSE, long-poll, /cmd, OPTIONS) or
 * refuses it, then writes the frames queued to it and reads what the
 * transport carries; and the identity it attaches, which a dying or
 * parked ghost keeps when the socket goes.
 *
 * Memory while idle: the uv_tcp_t and this struct, the cid entry, one node
 * per subscribed channel and, until the next tick, the output ring.  Reads
 * land in the worker's 64 KiB buffer; the WebSocket parser lives on the heap
 * only while a frame is half read (otherwise the worker's scratch parser
 * reads for the connection).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "common.h"
#include "conn.h"
#include "engine.h"
#include "resume.h"
#include "stream.h"
#include "worker.h"

#define F_IN_FLUSH 0x01    /* on the worker's flush list */
#define F_PEER_CLOSED 0x02 /* the client's close frame arrived */
#define F_SHUTDOWN 0x04    /* uv_shutdown started */
#define F_NO_INPUT 0x08    /* the parser failed: ignore further bytes */
#define F_HTTP 0x10        /* u.http is the live member */
#define F_BATCH 0x20       /* a poll on the worker's batch list */

#define CLOSE_WAIT_MS 2000 /* how long a closing connection may linger */
#define MAX_IOV 64
#define MAX_OUT 32768      /* entries in one output ring */
#define MAX_SINCE 64       /* channels read from `since` */

struct c4j__wreq_s {
  uv_write_t req;
  c4j__conn_t *c;
  uint32_t bytes;          /* counted in c->queued until the callback */
  uint32_t n;
  c4j__buf_t *bufs[];
};

/* The body of POST /cmd being read, for the connection id its ticket
 * names; or of an /api/ request (then `target` follows the body). */
struct c4j__cmd_s {
  char cid[C4J_MAX_ID + 1];
  char acao[260];          /* Access-Control-Allow-Origin to answer */
  size_t need, got;
  int method;              /* /api/: enum http_method */
  const char *target;      /* /api/: path and query, NUL ended */
  char body[];
};

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len);
static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len);
static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *reason,
                    size_t len);
static const c4j_ws_callbacks_t ws_callbacks = { on_message, on_control,
                                                 on_close };

/* A ghost is no handle, but its tcp.loop is set like a handle's so that
 * the worker is found the same way. */
static c4j__worker_t *worker(c4j__conn_t *c) {
  return c4j__worker_of(c->tcp.loop);
}

static c4j_engine_t *engine(c4j__conn_t *c) { return worker(c)->engine; }

static int is_ghost(const c4j__conn_t *c) {
  return c->state == C4J__CONN_PARKED || c->state == C4J__CONN_DYING;
}

/* now - stamp, as 0 when the stamp is newer: a stamp taken during a tick
 * is later than the tick's `now`. */
static uint32_t age_of(uint32_t now, uint32_t stamp) {
  int32_t d = (int32_t)(now - stamp);
  return d > 0 ? (uint32_t)d : 0;
}

static const char *transport_name(int t) {
  static const char *names[] = { "websocket", "stream", "lpool", "cmd",
                                 "api" };
  return names[t];
}

/* ---- Output queue -------------------------------------------------------- */

static c4j__buf_t **slot(c4j__conn_t *c, unsigned i) {
  return &c->outq[(c->out_head + i) % c->out_cap];
}

/* Appends b, taking over the caller's reference.  Returns 0, or -1 when out
 * of memory (b untouched). */
static int push_out(c4j__conn_t *c, c4j__buf_t *b) {
  if (c->out_len == c->out_cap) {
    unsigned cap = c->out_cap ? c->out_cap * 2u : 4u;
    c4j__buf_t **q;
    if (cap > MAX_OUT) return -1;
    q = c4j__malloc(cap * sizeof(*q));
    if (q == NULL) return -1;
    for (unsigned i = 0; i < c->out_len; i++) q[i] = *slot(c, i);
    c4j__free(c->outq);
    c->outq = q;
    c->out_cap = (uint16_t)cap;
    c->out_head = 0;
  }
  *slot(c, c->out_len) = b;
  c->out_len++;
  c->queued += b->len;
  /* Ghosts and waiting polls write nothing until a transport takes them. */
  if (!is_ghost(c) &&
      !(c->transport == C4J__T_POLL && c->state == C4J__CONN_OPEN))
    c4j__worker_want_flush(worker(c), c);
  return 0;
}

static c4j__buf_t *pop_out(c4j__conn_t *c) {
  c4j__buf_t *b = c->outq[c->out_head];
  c->out_head = (uint16_t)((c->out_head + 1u) % c->out_cap);
  c->out_len--;
  return b;
}

/* Drops everything not yet handed to a write. */
static void drop_out(c4j__conn_t *c) {
  while (c->out_len > 0) {
    c4j__buf_t *b = pop_out(c);
    c->queued -= b->len;
    c4j__buf_unref(b);
  }
}

/* Queues bytes the connection itself produced (responses, control frames),
 * outside the max_queue check. */
static int queue_bytes(c4j__conn_t *c, const void *p, size_t n) {
  c4j__buf_t *b = c4j__buf_copy(p, n);
  if (b == NULL) return -1;
  if (push_out(c, b) < 0) {
    c4j__buf_unref(b);
    return -1;
  }
  return 0;
}

/* ---- Lists of the worker -------------------------------------------------- */

static void list_add(c4j__conn_t **head, c4j__conn_t *c) {
  c->gprev = NULL;
  c->gnext = *head;
  if (*head) (*head)->gprev = c;
  *head = c;
}

static void list_remove(c4j__conn_t **head, c4j__conn_t *c) {
  if (c->gprev) c->gprev->gnext = c->gnext;
  else *head = c->gnext;
  if (c->gnext) c->gnext->gprev = c->gprev;
  c->gnext = c->gprev = NULL;
}

static void unbatch(c4j__conn_t *c) {
  if (!(c->flags & F_BATCH)) return;
  c->flags &= (uint8_t)~F_BATCH;
  list_remove(&worker(c)->batch, c);
}

/* ---- Identities ----------------------------------------------------------- */

static void ghost_free(c4j__conn_t *g) {
  c4j__worker_t *w = worker(g);
  list_remove(&w->ghosts, g);
  drop_out(g);
  c4j__free(g->outq);
  c4j__free(g);
}

/* Forgets c's identity for good and reports DROP (unless silent). */
static void detach(c4j__conn_t *c, int code, const char *reason, int silent) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j__chan_unsubscribe_all(&w->chans, &c->subs);
  c4j__chan_unsubscribe_all(&w->users, &c->user);
  /* Released before DROP is reported, so that whoever hears of it finds
   * the id no longer held (an expired ticket is then refused). */
  c4j__held_release(&e->held, c->cid->id, w->index);
  /* A silent detach hands the identity to another worker, which counts
   * it from now on. */
  if (!silent) c4j__events_drop(&e->events, c->cid->id, code, reason);
  if (!silent && c->state != C4J__CONN_DYING) atomic_fetch_sub(&e->conns, 1);
  c4j__cid_map_remove(&w->cids, c->cid);
  c->cid = NULL;
}

/* Where c's client stands: the offset of the last broadcast of each
 * channel handed to it, that is queued to c and no longer in its queue nor
 * in a write in flight. */
static c4j__pos_t *positions(c4j__conn_t *c) {
  c4j__pos_t *p = c4j__resume_positions(c->subs);
  for (unsigned i = 0; p != NULL && i < c->out_len; i++)
    c4j__resume_unsent(p, *slot(c, i));
  for (uint32_t i = 0; p != NULL && c->wreq != NULL && i < c->wreq->n; i++)
    c4j__resume_unsent(p, c->wreq->bufs[i]);
  return p;
}

/* Moves c's identity into a new ghost in state, leaving its positions in
 * the held register for whichever connection takes it next.  A DYING
 * ghost reports DYING.  Either drops the subscriptions, since the next
 * connection replays the history from the positions, except a PARKED one
 * without history, which queues broadcasts for the next poll.  Returns
 * the ghost, or NULL when out of memory (nothing changed). */
static c4j__conn_t *to_ghost(c4j__conn_t *c, int state, int code,
                             const char *reason) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j__conn_t *g = c4j__calloc(1, sizeof(*g));
  c4j__pos_t *pos;
  c4j__names_t *chans;
  if (g == NULL) return NULL;
  pos = positions(c);
  /* The channel set goes with the identity: a ghost without
   * subscriptions, or the next connection on another worker, finds it in
   * the held register. */
  chans = c4j__names_of(c->subs);
  g->tcp.loop = &w->loop;
  g->state = (uint8_t)state;
  g->transport = c->transport;
  g->seq = c->seq;
  g->stamp = c4j__worker_now(w);
  g->cid = c->cid;
  g->cid->conn = g;
  c->cid = NULL;
  g->user = c->user;
  c->user = NULL;
  if (g->user != NULL) g->user->conn = g;
  if (state == C4J__CONN_PARKED && e->hist.size == 0) {
    g->subs = c->subs;
    for (c4j__sub_t *s = g->subs; s; s = s->conn_next) s->conn = g;
  } else {
    c4j__chan_unsubscribe_all(&w->chans, &c->subs);
  }
  if (state == C4J__CONN_DYING) {
    c4j__events_dying(&e->events, g->cid->id, code, reason);
    atomic_fetch_sub(&e->conns, 1);
  }
  c->subs = NULL;
  c4j__held_set(&e->held, g->cid->id, w->index,
                state == C4J__CONN_PARKED ? C4J__HELD_PARKED
                                          : C4J__HELD_DYING, pos, chans);
  list_add(&w->ghosts, g);
  return g;
}

/* The end of an attached connection's identity: dying when the transport
 * was lost and the configuration keeps lost connections, else DROP. */
static void end_identity(c4j__conn_t *c, int code, const char *reason) {
  if (c->cid == NULL) return;
  if ((code == 1006 || code == C4J_CLOSE_IDLE_TIMEOUT) &&
      engine(c)->cfg.conn_expires_ms > 0 &&
      to_ghost(c, C4J__CONN_DYING, code, reason) != NULL)
    return;
  detach(c, code, reason, 0);
}

/* Turns a parked ghost dying (its poll client did not come back). */
static void parked_to_dying(c4j__conn_t *g) {
  c4j__worker_t *w = worker(g);
  c4j_engine_t *e = w->engine;
  c4j__chan_unsubscribe_all(&w->chans, &g->subs);
  /* Broadcasts come back through resume; only sendTo frames are kept. */
  for (unsigned i = 0, n = g->out_len; i < n; i++) {
    c4j__buf_t *b = pop_out(g);
    g->queued -= b->len;
    if (b->offset != 0 || push_out(g, b) < 0) c4j__buf_unref(b);
  }
  g->state = C4J__CONN_DYING;
  g->stamp = c4j__worker_now(w);
  c4j__events_dying(&e->events, g->cid->id, 1006, "poll not renewed");
  c4j__held_set(&e->held, g->cid->id, w->index, C4J__HELD_DYING, NULL,
                NULL);
  atomic_fetch_sub(&e->conns, 1);
}

void c4j__conn_ghost_tick(c4j__conn_t *g, uint32_t now) {
  const c4j_config_t *cfg = &engine(g)->cfg;
  uint32_t age = age_of(now, g->stamp);
  if (g->state == C4J__CONN_PARKED) {
    if (age < c4j__worker_poll_hold(worker(g)) + (uint32_t)cfg->heartbeat_ms)
      return;
    if (cfg->conn_expires_ms > 0) {
      parked_to_dying(g);
      return;
    }
    detach(g, 1006, "poll not renewed", 0);
    ghost_free(g);
  } else if (age >= (uint32_t)cfg->conn_expires_ms) {
    detach(g, C4J_CLOSE_EXPIRED, "expired", 0);
    ghost_free(g);
  }
}

/* ---- Closing -------------------------------------------------------------- */

static void close_cb(uv_handle_t *h) {
  c4j__conn_t *c = (c4j__conn_t *)h;
  c4j_engine_t *e = c4j__worker_of(h->loop)->engine;
  if (c->flags & F_HTTP) {
    c4j__free(c->u.http);
  } else if (c->state == C4J__CONN_BODY || c->transport == C4J__T_CMD ||
             c->transport == C4J__T_API) {
    c4j__free(c->u.cmd);
  } else if (c->transport == C4J__T_POLL) {
    c4j__free(c->u.acao);
  } else if (c->u.ws != NULL) {
    c4j_ws_parser_free(c->u.ws);
    c4j__free(c->u.ws);
  }
  drop_out(c);
  c4j__free(c->outq);
  atomic_fetch_sub(&e->open_socks, 1);
  c4j__free(c);
}

void c4j__conn_abort(c4j__conn_t *c) {
  if (c->state == C4J__CONN_CLOSED) return;
  if (is_ghost(c)) {
    c4j__conn_close(c, 1006, "connection lost", 1);
    return;
  }
  if (c->state == C4J__CONN_OPEN) end_identity(c, 1006, "connection lost");
  unbatch(c);
  if (c->state == C4J__CONN_API) list_remove(&worker(c)->api_wait, c);
  c->state = C4J__CONN_CLOSED;
  uv_close((uv_handle_t *)&c->tcp, close_cb);
}

void c4j__conn_close(c4j__conn_t *c, int code, const char *reason,
                     int discard) {
  uint8_t frame[127];
  size_t n;
  if (is_ghost(c)) {
    detach(c, code, reason, 0);
    ghost_free(c);
    return;
  }
  if (c->state != C4J__CONN_OPEN) {
    if (c->state == C4J__CONN_HANDSHAKE || c->state == C4J__CONN_REFUSING ||
        c->state == C4J__CONN_BODY || c->state == C4J__CONN_API)
      c4j__conn_abort(c);
    return;
  }
  end_identity(c, code, reason);
  unbatch(c);
  if (discard) drop_out(c);
  c->stamp = c4j__worker_now(worker(c));
  if (c->transport != C4J__T_WS) {
    /* HTTP transports have no close frame: end the response. */
    c->state = C4J__CONN_REFUSING;
    c4j__worker_want_flush(worker(c), c);
    return;
  }
  c->state = C4J__CONN_CLOSING;
  n = c4j_ws_write_close(frame, code, reason);
  if (queue_bytes(c, frame, n) < 0) c4j__conn_abort(c);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  c4j__conn_t *c = (c4j__conn_t *)req->handle;
  c4j__free(req);
  if (status < 0) c4j__conn_abort(c);
}

/* All output is written: finish what the state asks for. */
static void drained(c4j__conn_t *c) {
  if (c->state == C4J__CONN_REFUSING) {
    c4j__conn_abort(c);
  } else if (c->state == C4J__CONN_CLOSING) {
    uv_shutdown_t *req;
    if (c->flags & F_PEER_CLOSED) {
      c4j__conn_abort(c);
      return;
    }
    if (c->flags & F_SHUTDOWN) return;
    /* Send FIN after the close frame and wait for the client's close frame
     * or EOF (or CLOSE_WAIT_MS), so that unread input cannot turn into a
     * reset that destroys the close frame in flight. */
    c->flags |= F_SHUTDOWN;
    req = c4j__malloc(sizeof(*req));
    if (req == NULL ||
        uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_cb) != 0) {
      c4j__free(req);
      c4j__conn_abort(c);
    }
  }
}

/* ---- Writing -------------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status) {
  c4j__wreq_t *wr = (c4j__wreq_t *)req;
  c4j__conn_t *c = wr->c;
  c->queued -= wr->bytes;
  for (uint32_t i = 0; i < wr->n; i++) c4j__buf_unref(wr->bufs[i]);
  c4j__free(wr);
  c->wreq = NULL;
  if (status < 0) {
    c4j__conn_abort(c);
    return;
  }
  c4j__conn_flush(c);
}

void c4j__conn_flush(c4j__conn_t *c) {
  uv_buf_t iov[MAX_IOV];
  unsigned n, i;
  size_t done, off = 0;
  int r;
  c4j__wreq_t *wr;

  if (c->state == C4J__CONN_CLOSED || c->wreq != NULL || is_ghost(c) ||
      c->state == C4J__CONN_BODY ||
      (c->transport == C4J__T_POLL && c->state == C4J__CONN_OPEN))
    return;
  if (c->out_len == 0) {
    drained(c);
    return;
  }
  /* First try to write at once, with one writev for up to MAX_IOV frames. */
  n = c->out_len < MAX_IOV ? c->out_len : MAX_IOV;
  for (i = 0; i < n; i++) {
    c4j__buf_t *b = *slot(c, i);
    iov[i] = uv_buf_init((char *)b->data, b->len);
  }
  r = uv_try_write((uv_stream_t *)&c->tcp, iov, n);
  if (r == UV_EAGAIN || r == UV_ENOSYS) {
    r = 0;
  } else if (r < 0) {
    c4j__conn_abort(c);
    return;
  }
  done = (size_t)r;
  while (done > 0) {
    c4j__buf_t *b = *slot(c, 0);
    if (done < b->len) {
      off = done;
      break;
    }
    done -= b->len;
    c->queued -= b->len;
    c4j__buf_unref(pop_out(c));
  }
  if (c->out_len == 0) {
    drained(c);
    return;
  }
  /* The kernel is full: hand the rest (up to MAX_IOV frames) to uv_write,
   * which owns those references until write_cb. */
  n = c->out_len < MAX_IOV ? c->out_len : MAX_IOV;
  wr = c4j__malloc(sizeof(*wr) + n * sizeof(c4j__buf_t *));
  if (wr == NULL) {
    c4j__conn_abort(c);
    return;
  }
  wr->c = c;
  wr->n = n;
  wr->bytes = 0;
  for (i = 0; i < n; i++) {
    c4j__buf_t *b = pop_out(c);
    size_t skip = i == 0 ? off : 0;
    wr->bufs[i] = b;
    iov[i] = uv_buf_init((char *)b->data + skip, (unsigned)(b->len - skip));
    wr->bytes += b->len - (uint32_t)skip;
  }
  c->queued -= (uint32_t)off;
  c->wreq = wr;
  r = uv_write(&wr->req, (uv_stream_t *)&c->tcp, iov, n, write_cb);
  if (r < 0) {
    c->wreq = NULL;
    c->queued -= wr->bytes;
    for (i = 0; i < n; i++) c4j__buf_unref(wr->bufs[i]);
    c4j__free(wr);
    c4j__conn_abort(c);
  }
}


/* ---- Sending -------------------------------------------------------------- */

/* A dying ghost keeps sendTo frames within max_queue, dropping the oldest
 * (counted) to make room. */
static void keep(c4j__conn_t *g, c4j__buf_t *b) {
  size_t max = engine(g)->cfg.max_queue;
  if (b->offset != 0 || b->len > max) return;
  while (g->out_len > 0 &&
         ((size_t)g->queued + b->len > max || g->out_len >= MAX_OUT)) {
    c4j__buf_t *old = pop_out(g);
    g->queued -= old->len;
    c4j__buf_unref(old);
    g->lost++;
  }
  if (push_out(g, c4j__buf_ref(b, 1)) < 0) {
    c4j__buf_unref(b);
    g->lost++;
  }
}

/* A poll has something to answer: answer within the batch window. */
static void batch(c4j__conn_t *c) {
  c4j__worker_t *w = worker(c);
  if (c->flags & F_BATCH) return;
  c->flags |= F_BATCH;
  list_add(&w->batch, c);
  c4j__worker_batch_start(w);
}

void c4j__conn_send(c4j__conn_t *c, c4j__buf_t *b) {
  c4j__worker_t *w;
  c4j__buf_t *out = b;
  if (c->state == C4J__CONN_DYING) {
    keep(c, b);
    return;
  }
  if (c->state != C4J__CONN_OPEN && c->state != C4J__CONN_PARKED) return;
  w = worker(c);
  if (c->transport == C4J__T_SSE && c->state == C4J__CONN_OPEN &&
      (out = c4j__stream_event(b)) == NULL) {
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  if ((size_t)c->queued + out->len > w->engine->cfg.max_queue ||
      c->out_len >= MAX_OUT) {
    atomic_fetch_add(&w->engine->slow_consumers, 1);
    c4j__conn_close(c, C4J_CLOSE_SLOW_CONSUMER, "slow consumer", 1);
    return;
  }
  if (push_out(c, c4j__buf_ref(out, 1)) < 0) {
    c4j__buf_unref(out);
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  if (c->transport == C4J__T_POLL && c->state == C4J__CONN_OPEN) batch(c);
  w->messages_out++;
  w->bytes_out += out->len;
}

void c4j__conn_send_sub(c4j__conn_t *c, c4j__sub_t *s, c4j__buf_t *b) {
  if (b->offset != 0) {
    if (b->offset <= s->last) return;
    s->last = b->offset;
  }
  c4j__conn_send(c, b);
}

/* ---- Long-poll answers ---------------------------------------------------- */

/* Answers a waiting poll with what it has queued (possibly nothing), parks
 * its identity and closes once the answer is written. */
static void answer_poll(c4j__conn_t *c) {
  c4j__buf_t *frames[MAX_IOV * 4], *resp;
  c4j__conn_t *g = NULL;
  size_t n = 0;
  unbatch(c);
  /* A poll answers at most this many frames; the rest stays parked. */
  while (c->out_len > 0 && n < sizeof(frames) / sizeof(frames[0])) {
    frames[n] = pop_out(c);
    c->queued -= frames[n]->len;
    n++;
  }
  resp = c4j__poll_answer(frames, n, c->u.acao);
  if (resp == NULL || (g = to_ghost(c, C4J__CONN_PARKED, 0, NULL)) == NULL) {
    for (size_t i = 0; i < n; i++) c4j__buf_unref(frames[i]);
    c4j__buf_unref(resp);
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  for (size_t i = 0; i < n; i++) c4j__buf_unref(frames[i]);
  /* Frames that did not fit wait in the ghost for the next poll, except
   * broadcasts with a history: the next poll replays those. */
  while (c->out_len > 0) {
    c4j__buf_t *b = pop_out(c);
    c->queued -= b->len;
    if (b->chan != NULL || push_out(g, b) < 0) c4j__buf_unref(b);
  }
  c->state = C4J__CONN_REFUSING;
  if (push_out(c, resp) < 0) {
    c4j__buf_unref(resp);
    c4j__conn_abort(c);
  }
}

void c4j__conn_answer_polls(c4j__worker_t *w) {
  while (w->batch != NULL) answer_poll(w->batch);
}

/* ---- Answers -------------------------------------------------------------- */

/* The Access-Control-Allow-Origin to answer the request with: its Origin,
 * or "*" without one; NULL when the origin is not allowed (or unsafe to
 * echo). */
static const char *allow_origin(c4j__conn_t *c, const char *origin) {
  for (const char *p = origin; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return NULL;
  if (!c4j__engine_origin_ok(engine(c), origin)) return NULL;
  return origin[0] ? origin : "*";
}

/* Queues a whole HTTP answer and closes once it is written. */
static void answer(c4j__conn_t *c, int status, const char *ctype,
                   const char *body, const char *acao) {
  char head[1024];
  size_t blen = body ? strlen(body) : 0;
  long n = c4j__http_head(head, sizeof(head), status, ctype,
                          ctype ? (long long)blen : -1, 0, acao);
  c4j__buf_t *b = n < 0 ? NULL : c4j__buf_new((size_t)n + blen);
  if (b != NULL) {
    memcpy(b->data, head, (size_t)n);
    if (blen) memcpy(b->data + n, body, blen);
  }
  if (c->flags & F_HTTP) {
    c4j__free(c->u.http);
    c->u.http = NULL;
    c->flags &= (uint8_t)~F_HTTP;
  }
  c->state = C4J__CONN_REFUSING;
  if (b == NULL || push_out(c, b) < 0) {
    c4j__buf_unref(b);
    c4j__conn_abort(c);
  }
}

/* Answers an HTTP error (text/plain reason) and closes. */
static void refuse(c4j__conn_t *c, int status, const char *reason) {
  const char *acao = NULL;
  if ((c->flags & F_HTTP) && status != 403)
    acao = allow_origin(c, c->u.http->origin);
  answer(c, status, "text/plain; charset=utf-8", reason, acao);
}

static void refuse_json(c4j__conn_t *c, int status, const char *message,
                        const char *acao) {
  char body[256];
  snprintf(body, sizeof(body), "{\"error\":{\"code\":%d,\"message\":\"%s\"}}",
           status, message);
  answer(c, status, "application/json", body, acao);
}
static void peer_name(c4j__conn_t *c, const char *forwarded, char *ip,
                      size_t cap, int *port) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int loopback = 0;
  ip[0] = '\0';
  *port = 0;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      uv_ip4_name(a, ip, cap);
      *port = ntohs(a->sin_port);
      loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      uv_ip6_name(a, ip, cap);
      *port = ntohs(a->sin6_port);
      loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
  }
  /* Trust X-Forwarded-For only from a proxy on this machine. */
  if (loopback && forwarded[0] != '\0') snprintf(ip, cap, "%s", forwarded);
}

/* {"t":"open","cId":..,"channels":[..],"pos":{"ch":["epoch",start],..}}:
 * pos has each subscribed channel with a history, where its frames start
 * (st[i] is the start of the i-th subscription of subs). */
static c4j__buf_t *open_frame(const c4j_ticket_t *t, const c4j__sub_t *subs,
                              const c4j__start_t *st) {
  size_t len = strlen("{\"t\":\"open\",\"cId\":\"\",\"channels\":[],"
                      "\"pos\":{}}") + strlen(t->cid);
  size_t h, at, i;
  char num[24];
  const c4j__sub_t *s;
  c4j__buf_t *b;
  int first = 1;
  for (int k = 0; k < t->nchannels; k++)
    len += strlen(t->channels[k]) + 2 + (k > 0);
  /* Each entry is "name":["epoch",start], with a comma between two. */
  for (s = subs, i = 0; s; s = s->conn_next, i++)
    if (s->hist != NULL) {
      len += (size_t)snprintf(num, sizeof(num), "%" PRIu64, st[i].start) +
             s->chan->len + C4J__EPOCH_LEN + 8 + !first;
      first = 0;
    }
  first = 1;
  h = c4j_ws_header_len(len);
  b = c4j__buf_new(h + len);
  if (b == NULL) return NULL;
  at = c4j_ws_write_header(b->data, C4J_WS_OP_TEXT, len);
#define PUT(s, n) (memcpy(b->data + at, (s), (n)), at += (n))
#define PUTS(s) PUT(s, strlen(s))
  PUTS("{\"t\":\"open\",\"cId\":\"");
  PUTS(t->cid);
  PUTS("\",\"channels\":[");
  for (int k = 0; k < t->nchannels; k++) {
    if (k > 0) PUTS(",");
    PUTS("\"");
    PUTS(t->channels[k]);
    PUTS("\"");
  }
  PUTS("],\"pos\":{");
  /* Channel names need no escaping (c4j_channel_name_ok), nor epochs. */
  for (s = subs, i = 0; s; s = s->conn_next, i++) {
    if (s->hist == NULL) continue;
    if (!first) PUTS(",");
    first = 0;
    PUTS("\"");
    PUT(s->chan->name, s->chan->len);
    PUTS("\":[\"");
    PUTS(((const c4j__hist_chan_t *)s->hist)->epoch);
    PUTS("\",");
    snprintf(num, sizeof(num), "%" PRIu64, st[i].start);
    PUTS(num);
    PUTS("]");
  }
  PUTS("}}");
#undef PUTS
#undef PUT
  return b;
}

/* A text frame holding text (for frames built per connection). */
static c4j__buf_t *text_frame(const char *text, size_t n) {
  size_t h = c4j_ws_header_len(n);
  c4j__buf_t *b = c4j__buf_new(h + n);
  if (b == NULL) return NULL;
  c4j_ws_write_header(b->data, C4J_WS_OP_TEXT, n);
  memcpy(b->data + h, text, n);
  return b;
}

/* Sends text as one frame; -1 when out of memory. */
static int send_text(c4j__conn_t *c, const char *text, size_t n) {
  c4j__buf_t *b = text_frame(text, n);
  if (b == NULL) return -1;
  c4j__conn_send(c, b);
  c4j__buf_unref(b);
  return 0;
}

/* ---- Resume --------------------------------------------------------------- */

/* Reads `since` ({"channel": ["epoch", offset], ...}) into *out (NULL when
 * absent).  Returns 0, or -1 when it is malformed or too big. */
static int read_since(c4j_http_req_t *r, json_t **out) {
  char text[C4J_HTTP_MAX_TARGET];
  long n = c4j_http_query(r, "since", text, sizeof(text));
  const char *k;
  json_t *j, *v;
  *out = NULL;
  if (n == -1) return 0;
  if (n < 0) return -1;
  j = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_object(j) || json_object_size(j) > MAX_SINCE) goto bad;
  json_object_foreach(j, k, v) {
    json_t *ep = json_array_get(v, 0), *off = json_array_get(v, 1);
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        !json_is_string(ep) || json_string_length(ep) != C4J__EPOCH_LEN ||
        !json_is_integer(off) || json_integer_value(off) < 0)
      goto bad;
  }
  *out = j;
  return 0;
bad:
  json_decref(j);
  return -1;
}

/* Sends each subscription what its start replays, then the `recovered`
 * frame it is owed: a quiet poll (one that continues a parked one) hears
 * only of losses.  Returns -1 when out of memory. */
static int replay(c4j__conn_t *c, c4j__start_t *st, int quiet) {
  size_t i = 0;
  for (c4j__sub_t *s = c->subs; s; s = s->conn_next, i++) {
    char text[C4J_MAX_CHANNEL + 64];
    int len;
    /* Sending may close c (a slow consumer), which frees its subs: stop
     * there; the references go with st. */
    for (size_t k = 0; k < st[i].n && c->state == C4J__CONN_OPEN; k++)
      c4j__conn_send_sub(c, s, st[i].missed[k]);
    if (c->state != C4J__CONN_OPEN) break;
    if (st[i].say == C4J__SAY_NOTHING ||
        (quiet && st[i].say == C4J__SAY_RECOVERED))
      continue;
    len = snprintf(text, sizeof(text),
                   "{\"t\":\"recovered\",\"ch\":\"%s\",\"recovered\":%s}",
                   s->chan->name,
                   st[i].say == C4J__SAY_RECOVERED ? "true" : "false");
    if (send_text(c, text, (size_t)len) < 0) return -1;
    if (c->state != C4J__CONN_OPEN) break;
  }
  return 0;
}

/* Moves what ghost g queued to c (which has taken g's identity) and frees
 * g. */
static void absorb(c4j__conn_t *c, c4j__conn_t *g) {
  while (g->out_len > 0) {
    c4j__buf_t *b = pop_out(g);
    g->queued -= b->len;
    c4j__conn_send(c, b);
    c4j__buf_unref(b);
  }
  ghost_free(g);
}

/* ---- Attaching ------------------------------------------------------------ */

/* Tells the holder of cid on another worker that this worker attached it
 * with seq: the holder hands its frames over, or closes (4004). */
static void take_from(c4j__worker_t *w, int holder, const char *cid,
                      uint32_t seq) {
  c4j_engine_t *e = w->engine;
  c4j__msg_t *m;
  if (!c4j__engine_enter(e)) return;
  m = c4j__msg_new(C4J__MSG_TAKE, cid, strlen(cid), NULL);
  if (m != NULL) {
    m->seq = seq;
    m->code = w->index;
    c4j__worker_push(e->workers[holder], &m->node);
  }
  c4j__engine_leave(e);
}

/* Attaches the checked request's ticket (w->ticket) with transport; for a
 * WebSocket, accept is the Sec-WebSocket-Accept value.  The identity may
 * come from a ghost here or on another worker: its subscriptions go on
 * from the positions it left (or the client's since), so that nothing
 * published meanwhile is lost or sent twice. */
static void attach(c4j__conn_t *c, int transport, const char *accept,
                   const char *acao, json_t *since) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j_ticket_t *t = &w->ticket;
  c4j__cid_t *local;
  c4j__conn_t *ghost = NULL;
  c4j__holder_t prev;
  c4j__pos_t *carried = NULL;
  c4j__names_t *chans = NULL;
  c4j__start_t *starts = NULL;
  size_t nsubs = 0;
  c4j__buf_t *open = NULL;
  char resp[1024], ip[64], *kept_acao = NULL;
  long n = 0;
  int port, quiet;

  peer_name(c, c->u.http->forwarded_for, ip, sizeof(ip), &port);
  local = c4j__cid_map_find(&w->cids, t->cid, strlen(t->cid));
  if (local != NULL) {
    if (is_ghost(local->conn)) ghost = local->conn;
    else c4j__conn_close(local->conn, C4J_CLOSE_REPLACED, "replaced", 0);
  }
  c->transport = (uint8_t)transport;
  c->seq = atomic_fetch_add(&e->next_seq, 1) + 1;
  prev = c4j__held_claim(&e->held, t->cid, w->index, C4J__HELD_ALIVE,
                         &carried, &chans);
  if (prev.worker == -2) goto nomem;
  if (prev.worker >= 0 && prev.worker != w->index)
    take_from(w, prev.worker, t->cid, c->seq);
  quiet = prev.state == C4J__HELD_PARKED && transport == C4J__T_POLL;

  if (ghost != NULL) {
    c->cid = ghost->cid;
    c->cid->conn = c;
    ghost->cid = NULL;
    c->subs = ghost->subs;
    ghost->subs = NULL;
    for (c4j__sub_t *s = c->subs; s; s = s->conn_next) s->conn = c;
    c->user = ghost->user;
    ghost->user = NULL;
    if (c->user != NULL) c->user->conn = c;
  } else {
    c->cid = c4j__cid_map_add(&w->cids, t->cid, strlen(t->cid), c);
    if (c->cid == NULL) goto nomem;
    if (t->user[0] != '\0' &&
        c4j__chan_subscribe(&w->users, t->user, strlen(t->user), c,
                            &c->user) != 0)
      goto nomem;
  }
  /* A held identity keeps the channel set it had, with what was
   * (un)subscribed at run time; a new one takes its ticket's. */
  if (c->subs == NULL && chans != NULL) {
    for (size_t at = 0; at < chans->len;) {
      size_t k = strlen(chans->names + at);
      if (c4j__chan_subscribe(&w->chans, chans->names + at, k, c,
                              &c->subs) != 0)
        goto nomem;
      at += k + 1;
    }
  } else if (c->subs == NULL) {
    for (int i = 0; i < t->nchannels; i++)
      if (c4j__chan_subscribe(&w->chans, t->channels[i],
                              strlen(t->channels[i]), c, &c->subs) != 0)
        goto nomem;
  }
  for (c4j__sub_t *s = c->subs; s; s = s->conn_next) nsubs++;
  if (nsubs > 0 && (starts = c4j__calloc(nsubs, sizeof(*starts))) == NULL)
    goto nomem;
  if (c4j__resume_plan(&e->hist, c->subs, since, carried, starts) != 0)
    goto nomem;
  if (!quiet && (open = open_frame(t, c->subs, starts)) == NULL) goto nomem;
  if (transport == C4J__T_WS)
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
  else if (transport == C4J__T_SSE)
    n = c4j__http_head(resp, sizeof(resp), 200, "text/event-stream", -1, 1,
                       acao);
  if (n < 0 || (n > 0 && queue_bytes(c, resp, (size_t)n) < 0)) goto nomem;
  /* acao may point into the request, which goes now. */
  if (transport == C4J__T_POLL &&
      (kept_acao = c4j__strndup(acao, strlen(acao))) == NULL)
    goto nomem;
  c4j__free(carried);
  c4j__free(chans);
  c4j__free(c->u.http);
  c->u.acao = kept_acao;
  c->flags &= (uint8_t)~F_HTTP;
  c->state = C4J__CONN_OPEN;
  c->stamp = c4j__worker_now(w);

  /* open, the replay, then what the ghost kept (sendTo frames; with no
   * history, the broadcasts a parked one queued). */
  if (open != NULL) {
    c4j__conn_send(c, open);
    c4j__buf_unref(open);
  }
  if (c->state == C4J__CONN_OPEN && replay(c, starts, quiet) < 0)
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
  c4j__resume_free(starts, nsubs);
  c4j__free(starts);
  if (ghost != NULL) absorb(c, ghost);
  if (c->state != C4J__CONN_OPEN) return;
  if (prev.state == C4J__HELD_DYING) {
    atomic_fetch_add(&e->conns, 1);
    c4j__events_revival(&e->events, t->cid, t->user, ip,
                        transport_name(transport), port);
  } else if (prev.state != C4J__HELD_PARKED) {
    atomic_fetch_add(&e->conns, 1);
    c4j__events_connect(&e->events, t->cid, t->user, ip,
                        transport_name(transport), port);
  }
  return;

nomem:
  c4j__buf_unref(open);
  c4j__resume_free(starts, nsubs);
  c4j__free(starts);
  c4j__free(chans);
  if (ghost != NULL && ghost->cid == NULL) {
    /* Give the identity back to the ghost it came from. */
    ghost->cid = c->cid;
    ghost->user = c->user;
    c->user = NULL;
    if (ghost->user != NULL) ghost->user->conn = ghost;
    if (e->hist.size == 0) {
      ghost->subs = c->subs;
      for (c4j__sub_t *s = ghost->subs; s; s = s->conn_next)
        s->conn = ghost;
    } else {
      c4j__chan_unsubscribe_all(&w->chans, &c->subs);
    }
    if (ghost->cid) ghost->cid->conn = ghost;
    c4j__held_set(&e->held, t->cid, w->index,
                  ghost->state == C4J__CONN_PARKED ? C4J__HELD_PARKED
                                                   : C4J__HELD_DYING,
                  carried, NULL);
  } else if (ghost != NULL) {
    c4j__free(carried); /* the claim failed: nothing moved */
  } else {
    c4j__chan_unsubscribe_all(&w->chans, &c->subs);
    c4j__chan_unsubscribe_all(&w->users, &c->user);
    if (c->cid != NULL) c4j__cid_map_remove(&w->cids, c->cid);
    c4j__held_release(&e->held, t->cid, w->index);
    c4j__free(carried);
  }
  c->cid = NULL;
  c->subs = NULL;
  drop_out(c);
  refuse(c, 503, "out of memory");
}

/* ---- Run-time subscriptions ---------------------------------------------- */

/* Whether c's subscriptions are in the channel index (attached, or a
 * parked ghost without history, which queues broadcasts); otherwise its
 * channel set and positions live in the held register only. */
static int subs_live(c4j__conn_t *c) {
  return c->state == C4J__CONN_OPEN ||
         (c->state == C4J__CONN_PARKED && engine(c)->hist.size == 0);
}

/* Queues {"t":"ack","id":id,"pos":{"<ch>":["<epoch>",off]}} (pos {} when
 * the channel has no history). */
static void ack_sub(c4j__conn_t *c, int64_t id, const char *ch, size_t len,
                    const c4j__hist_chan_t *hc, uint64_t off) {
  char text[C4J_MAX_CHANNEL + 128];
  int n;
  if (hc != NULL)
    n = snprintf(text, sizeof(text),
                 "{\"t\":\"ack\",\"id\":%" PRId64 ",\"pos\":{\"%.*s\":"
                 "[\"%s\",%" PRIu64 "]}}", id, (int)len, ch, hc->epoch, off);
  else
    n = snprintf(text, sizeof(text),
                 "{\"t\":\"ack\",\"id\":%" PRId64 ",\"pos\":{}}", id);
  if (n > 0 && (size_t)n < sizeof(text)) send_text(c, text, (size_t)n);
}

static void refuse_sub(c4j__conn_t *c, int64_t id) {
  char text[128];
  int n;
  if (id < 0) return;
  n = snprintf(text, sizeof(text),
               "{\"t\":\"err\",\"id\":%" PRId64 ",\"code\":4290,"
               "\"message\":\"too many subscriptions\"}", id);
  send_text(c, text, (size_t)n);
}

/* Whether c is a socket on its way to becoming a ghost: neither attached
 * nor a ghost yet. */
static int in_transition(const c4j__conn_t *c) {
  return c->state != C4J__CONN_OPEN && c->state != C4J__CONN_PARKED &&
         c->state != C4J__CONN_DYING;
}

int c4j__conn_subscribe(c4j__worker_t *w, const char *cid, size_t len,
                        const char *channel, int64_t ack_id,
                        const void *hist, uint64_t off) {
  c4j_engine_t *e = w->engine;
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  size_t chlen = strlen(channel);
  const c4j__hist_chan_t *hc = hist;
  c4j__conn_t *c;
  if (id == NULL) return 0;
  c = id->conn;
  if (in_transition(c)) return C4J__LATER;
  if (subs_live(c)) {
    c4j__sub_t *s = c4j__chan_sub_of(c->subs, channel, chlen);
    size_t n = 0;
    if (s == NULL) {
      for (s = c->subs; s; s = s->conn_next) n++;
      if (n >= C4J_MAX_CHANNELS) {
        refuse_sub(c, ack_id);
        return 0;
      }
      if (c4j__chan_subscribe(&w->chans, channel, chlen, c, &c->subs) != 0)
        return 0;
      s = c->subs; /* the new node is the head */
      /* Every broadcast above off is still to come through this inbox
       * (c4j_subscribe pushed this message under the history's lock, as
       * publishers do), and those at or below it are skipped (`last`). */
      s->hist = hist;
      s->last = off;
      c4j__held_update(&e->held, id->id, w->index, c4j__names_of(c->subs),
                       NULL, NULL, 0);
    }
    hc = (c4j__hist_chan_t *)s->hist;
    off = s->last;
  } else {
    /* A ghost: the next connection subscribes what the held register
     * says, from the position kept there. */
    c4j__names_t *set, *more;
    if (!c4j__held_chans(&e->held, id->id, w->index, &set)) return 0;
    if (!c4j__names_has(set, channel, chlen)) {
      if (set != NULL && set->n >= C4J_MAX_CHANNELS) {
        c4j__free(set);
        refuse_sub(c, ack_id);
        return 0;
      }
      more = c4j__names_with(set, channel, chlen);
      c4j__free(set);
      if (more == NULL) return 0;
      if (c4j__held_update(&e->held, id->id, w->index, more, hc, &off, 1) !=
          1)
        return 0;
    } else {
      c4j__free(set);
      if (hc != NULL)
        c4j__held_update(&e->held, id->id, w->index, NULL, hc, &off, 0);
    }
  }
  if (ack_id >= 0) ack_sub(c, ack_id, channel, chlen, hc, off);
  return 0;
}

int c4j__conn_unsubscribe(c4j__worker_t *w, const char *cid, size_t len,
                          const char *channel) {
  c4j_engine_t *e = w->engine;
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  size_t chlen = strlen(channel);
  c4j__names_t *set, *less;
  c4j__conn_t *c;
  if (id == NULL) return 0;
  c = id->conn;
  if (in_transition(c)) return C4J__LATER;
  if (subs_live(c)) {
    if (c4j__chan_unsubscribe(&w->chans, &c->subs, channel, chlen))
      c4j__held_update(&e->held, id->id, w->index, c4j__names_of(c->subs),
                       NULL, NULL, 0);
    return 0;
  }
  if (!c4j__held_chans(&e->held, id->id, w->index, &set)) return 0;
  if (c4j__names_has(set, channel, chlen) &&
      (less = c4j__names_without(set, channel, chlen)) != NULL)
    c4j__held_update(&e->held, id->id, w->index, less, NULL, NULL, 0);
  c4j__free(set);
  return 0;
}

/* ---- Routing the request -------------------------------------------------- */

/* Checks the ticket of the request (the expiry is forgiven while the core
 * holds the id).  Returns 0 with w->ticket filled, else the HTTP status
 * and *why. */
static int check_ticket(c4j__conn_t *c, const char **why) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  char token[C4J_HTTP_MAX_TARGET];
  long tlen = c4j_http_query(c->u.http, "ticket", token, sizeof(token));
  int rc;
  if (tlen == -1 || tlen == 0) return *why = "ticket missing", 401;
  if (tlen < 0) return *why = "invalid ticket", 401;
  rc = c4j_auth_verify(e->secret, e->cfg.secret_len, token, (size_t)tlen,
                       c4j__wall_ms() / 1000, &w->ticket);
  if (rc == C4J_ETICKETEXP &&
      c4j__held_get(&e->held, w->ticket.cid).worker < 0) {
    memset(&w->ticket, 0, sizeof(w->ticket));
    return *why = "ticket expired", 401;
  }
  if (rc != 0 && rc != C4J_ETICKETEXP) return *why = "invalid ticket", 401;
  return 0;
}

/* Checks a WebSocket upgrade.  Returns 0 (accept set) or the status. */
static int check_upgrade(c4j_http_req_t *r, char accept[29],
                         const char **why) {
  if (r->method != HTTP_GET) return *why = "method must be GET", 400;
  if (!r->upgrade_websocket) return *why = "upgrade required", 426;
  if (!r->connection_upgrade)
    return *why = "Connection: Upgrade missing", 400;
  if (strcmp(r->ws_version, "13") != 0)
    return *why = "unsupported WebSocket version", 400;
  if (c4j_ws_accept_key(r->ws_key, strlen(r->ws_key), accept) != 0)
    return *why = "bad Sec-WebSocket-Key", 400;
  return 0;
}

static void cmd_run(c4j__conn_t *c);

/* The client of cid, attached on worker holder, is alive: restart the idle
 * timer of its SSE stream.  Only the holder is told, not every worker as
 * sendTo does: the held register (already read to accept the request)
 * names it, one message beats one per worker on every ping, and a holder
 * that changed meanwhile needs no touch (a new attach starts its own
 * timer), so a touch that finds nothing is simply dropped. */
static void touch(c4j__worker_t *w, int holder, const char *cid) {
  c4j_engine_t *e = w->engine;
  c4j__msg_t *m;
  if (holder == w->index) {
    c4j__conn_touch(w, cid, strlen(cid));
    return;
  }
  if (!c4j__engine_enter(e)) return;
  m = c4j__msg_new(C4J__MSG_TOUCH, cid, strlen(cid), NULL);
  if (m != NULL) c4j__worker_push(e->workers[holder], &m->node);
  c4j__engine_leave(e);
}

/* Starts reading the body of POST /cmd for the ticket's id. */
static void cmd_start(c4j__conn_t *c, const char *acao) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j_http_req_t *r = c->u.http;
  c4j__cmd_t *cmd;
  uint64_t len = r->parser.content_length;
  c4j__holder_t holder = c4j__held_get(&e->held, w->ticket.cid);
  if (holder.worker < 0) {
    refuse_json(c, 404, "unknown connection", acao);
    return;
  }
  if ((r->parser.flags & F_CHUNKED) || len == ULLONG_MAX) {
    refuse_json(c, 411, "Content-Length required", acao);
    return;
  }
  if (len > e->cfg.max_message) {
    refuse_json(c, 413, "body too large", acao);
    return;
  }
  cmd = c4j__malloc(sizeof(*cmd) + (size_t)len + 1);
  if (cmd == NULL) {
    refuse_json(c, 503, "out of memory", acao);
    return;
  }
  snprintf(cmd->cid, sizeof(cmd->cid), "%s", w->ticket.cid);
  snprintf(cmd->acao, sizeof(cmd->acao), "%s", acao);
  if (holder.state == C4J__HELD_ALIVE) touch(w, holder.worker, cmd->cid);
  cmd->need = (size_t)len;
  cmd->got = 0;
  c4j__free(c->u.http);
  c->flags &= (uint8_t)~F_HTTP;
  c->u.cmd = cmd;
  c->transport = C4J__T_CMD;
  c->state = C4J__CONN_BODY;
  if (len == 0) cmd_run(c);
}

/* ---- The HTTP API (docs/protocol.md section 8) ---------------------------- */

/* Whether the request carries the engine's API key, as
 * "Authorization: Bearer <key>" or "X-Api-Key: <key>", compared in
 * constant time (for keys of the right length). */
static int api_key_ok(const c4j_engine_t *e, const c4j_http_req_t *r) {
  const char *got = NULL;
  size_t klen = strlen(e->api_key), glen;
  if (r->auth_too_long) return 0;
  if (r->api_key[0] != '\0') {
    got = r->api_key;
  } else if (strncasecmp(r->authorization, "Bearer ", 7) == 0) {
    got = r->authorization + 7;
    while (*got == ' ') got++;
  }
  if (got == NULL) return 0;
  glen = strlen(got);
  return glen == klen && CRYPTO_memcmp(got, e->api_key, klen) == 0;
}

static void api_run(c4j__conn_t *c);

/* Checks an /api/ request (method, key, length) and starts reading its
 * body. */
static void api_start(c4j__conn_t *c) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j_http_req_t *r = c->u.http;
  uint64_t len = r->parser.content_length;
  size_t max = e->cfg.max_message < 65535 ? e->cfg.max_message : 65535;
  size_t tlen = strlen(r->target);
  c4j__cmd_t *cmd;
  if (r->method != HTTP_GET && r->method != HTTP_POST) {
    refuse_json(c, 405, "method must be GET or POST", NULL);
    return;
  }
  if (!api_key_ok(e, r)) {
    refuse_json(c, 401, "invalid API key", NULL);
    return;
  }
  if (r->parser.flags & F_CHUNKED) {
    refuse_json(c, 411, "Content-Length required", NULL);
    return;
  }
  if (len == ULLONG_MAX) {
    if (r->method == HTTP_POST) {
      refuse_json(c, 411, "Content-Length required", NULL);
      return;
    }
    len = 0;
  }
  if (len > max) {
    refuse_json(c, 413, "body too large", NULL);
    return;
  }
  cmd = c4j__malloc(sizeof(*cmd) + (size_t)len + 1 + tlen + 1);
  if (cmd == NULL) {
    refuse_json(c, 503, "out of memory", NULL);
    return;
  }
  cmd->cid[0] = cmd->acao[0] = '\0';
  cmd->need = (size_t)len;
  cmd->got = 0;
  cmd->method = r->method;
  memcpy(cmd->body + len + 1, r->target, tlen + 1);
  cmd->target = cmd->body + len + 1;
  c4j__free(c->u.http);
  c->flags &= (uint8_t)~F_HTTP;
  c->u.cmd = cmd;
  c->transport = C4J__T_API;
  c->state = C4J__CONN_BODY;
  if (len == 0) api_run(c);
}

/* The body is read: hand the request to the embedder and wait. */
static void api_run(c4j__conn_t *c) {
  c4j__worker_t *w = worker(c);
  c4j_engine_t *e = w->engine;
  c4j__cmd_t *cmd = c->u.cmd;
  const char *t = cmd->target, *q = strchr(t, '?');
  size_t plen = q ? (size_t)(q - t) : strlen(t);
  uint32_t id = (atomic_fetch_add(&e->next_api, 1) << 8) |
                (uint32_t)w->index;
  if (c4j__events_api(&e->events, id,
                      cmd->method == HTTP_POST ? "POST" : "GET", t, plen,
                      q ? q + 1 : "", q ? strlen(q + 1) : 0, cmd->body,
                      cmd->got) != 0) {
    refuse_json(c, 503, "event queue full", NULL);
    return;
  }
  c4j__free(cmd);
  c->u.cmd = NULL;
  c->seq = id;
  c->state = C4J__CONN_API;
  c->stamp = c4j__worker_now(w);
  list_add(&w->api_wait, c);
}

void c4j__conn_api_reply(c4j__worker_t *w, uint32_t id, c4j__buf_t *b) {
  c4j__conn_t *c;
  for (c = w->api_wait; c != NULL; c = c->gnext)
    if (c->seq == id) break;
  if (c == NULL) return;
  list_remove(&w->api_wait, c);
  c->state = C4J__CONN_REFUSING;
  if (push_out(c, c4j__buf_ref(b, 1)) < 0) {
    c4j__buf_unref(b);
    c4j__conn_abort(c);
  }
}

/* An /api/ request the embedder did not answer in time. */
static void api_timeout(c4j__conn_t *c) {
  list_remove(&worker(c)->api_wait, c);
  c->state = C4J__CONN_REFUSING;
  refuse_json(c, 504, "the application did not answer in time", NULL);
}

/* The request is complete: route it, attach it or refuse it. */
static void route(c4j__conn_t *c) {
  c4j_http_req_t *r = c->u.http;
  char path[64], accept[29];
  const char *why = "", *acao;
  json_t *since = NULL;
  int status = 0, transport;

  c4j_http_path(r, path, sizeof(path));
  /* The HTTP API is for servers: no Origin check, no CORS. */
  if (engine(c)->api_key != NULL && strncmp(r->target, "/api/", 5) == 0) {
    api_start(c);
    return;
  }
  acao = allow_origin(c, r->origin);
  if (acao == NULL) {
    refuse(c, 403, "origin not allowed");
    return;
  }
  if (r->method == HTTP_OPTIONS) {
    answer(c, 204, NULL, NULL, acao);
    return;
  }
  if (strcmp(path, "/ws") == 0) transport = C4J__T_WS;
  else if (strcmp(path, "/sse") == 0) transport = C4J__T_SSE;
  else if (strcmp(path, "/poll") == 0) transport = C4J__T_POLL;
  else if (strcmp(path, "/cmd") == 0) transport = C4J__T_CMD;
  else {
    refuse(c, 404, "not found");
    return;
  }

  if (transport == C4J__T_WS) status = check_upgrade(r, accept, &why);
  else if (transport == C4J__T_CMD && r->method != HTTP_POST)
    status = 405, why = "method must be POST";
  else if (transport != C4J__T_CMD && r->method != HTTP_GET)
    status = 405, why = "method must be GET";
  if (status == 0) status = check_ticket(c, &why);
  if (status == 0 && transport != C4J__T_CMD && read_since(r, &since) < 0)
    status = 400, why = "invalid since";
  if (status != 0) {
    if (transport == C4J__T_CMD) refuse_json(c, status, why, acao);
    else refuse(c, status, why);
    return;
  }
  if (transport == C4J__T_CMD) cmd_start(c, acao);
  else attach(c, transport, accept, acao, since);
  json_decref(since);
}

/* ---- /cmd ----------------------------------------------------------------- */

/* Handles one client frame of a /cmd body; appends a reply to replies. */
static void cmd_frame(c4j__conn_t *c, json_t *frame, json_t *replies) {
  c4j__worker_t *w = worker(c);
  json_t *t = json_object_get(frame, "t");
  char *text;
  if (json_is_string(t) && strcmp(json_string_value(t), "ping") == 0) {
    json_array_append_new(replies, json_pack("{s:s}", "t", "pong"));
    return;
  }
  text = json_dumps(frame, JSON_COMPACT | JSON_ENCODE_ANY);
  if (text == NULL) return;
  c4j__events_message(&w->engine->events, c->u.cmd->cid,
                      (const uint8_t *)text, strlen(text));
  free(text);
}

static void cmd_run(c4j__conn_t *c) {
  c4j__cmd_t *cmd = c->u.cmd;
  json_t *body = json_loadb(cmd->body, cmd->got, 0, NULL), *replies;
  char *text;
  if (!json_is_object(body) && !json_is_array(body)) {
    json_decref(body);
    c->transport = C4J__T_CMD;
    refuse_json(c, 400, "body must be a frame or an array of frames",
                cmd->acao);
    return;
  }
  replies = json_array();
  if (json_is_object(body)) {
    cmd_frame(c, body, replies);
  } else {
    size_t i;
    json_t *f;
    json_array_foreach(body, i, f) if (json_is_object(f))
      cmd_frame(c, f, replies);
  }
  text = replies ? json_dumps(replies, JSON_COMPACT) : NULL;
  json_decref(body);
  json_decref(replies);
  if (text == NULL) {
    refuse_json(c, 503, "out of memory", cmd->acao);
    return;
  }
  answer(c, 200, "application/json", text, cmd->acao);
  free(text);
}

static void cmd_bytes(c4j__conn_t *c, const uint8_t *data, size_t n) {
  c4j__cmd_t *cmd = c->u.cmd;
  size_t k = n < cmd->need - cmd->got ? n : cmd->need - cmd->got;
  memcpy(cmd->body + cmd->got, data, k);
  cmd->got += k;
  if (cmd->got == cmd->need) {
    if (c->transport == C4J__T_API) api_run(c);
    else cmd_run(c);
  }
}
/* ---- Reading -------------------------------------------------------------- */

static void ws_bytes(c4j__conn_t *c, const uint8_t *data, size_t n) {
  c4j__worker_t *w = worker(c);
  c4j_ws_parser_t *p = c->u.ws;
  long r;
  int idle;

  if (c->flags & F_NO_INPUT) return;
  if (p == NULL) {
    p = &w->parser;
    c4j_ws_parser_init(p, &ws_callbacks, w->engine->cfg.max_frame,
                       w->engine->cfg.max_message);
  }
  p->data = c;
  r = c4j_ws_feed(p, data, n);
  if (r < 0) {
    int code = p->error_code ? p->error_code : C4J_CLOSE_PROTOCOL;
    const char *reason = p->error_reason ? p->error_reason : "protocol error";
    c->flags |= F_NO_INPUT;
    if (p == &w->parser) c4j_ws_parser_free(p);
    c4j__conn_close(c, code, reason, 0);
    return;
  }
  if (c->state == C4J__CONN_CLOSED) {
    if (p == &w->parser) c4j_ws_parser_free(p);
    return;
  }
  /* Keep a parser only while a frame or message is half read. */
  idle = !p->in_frame && p->hdr_len == 0 && p->msg_opcode == 0 &&
         p->msg == NULL;
  if (p == &w->parser && !idle) {
    c4j_ws_parser_t *heap = c4j__malloc(sizeof(*heap));
    if (heap == NULL) {
      c4j_ws_parser_free(p);
      c->flags |= F_NO_INPUT;
      c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
      return;
    }
    *heap = *p;
    c->u.ws = heap;
  } else if (p != &w->parser && idle) {
    c4j_ws_parser_free(p);
    c4j__free(p);
    c->u.ws = NULL;
  }
}

/* Whether a client text is {"t":"ping"} (in any spacing). */
static int is_ping(const uint8_t *data, size_t len) {
  json_t *j;
  int yes;
  if (len > 64 || memchr(data, 'p', len) == NULL) return 0;
  j = json_loadb((const char *)data, len, 0, NULL);
  if (j == NULL) return 0;
  yes = json_is_object(j) && json_object_size(j) == 1 &&
        json_is_string(json_object_get(j, "t")) &&
        strcmp(json_string_value(json_object_get(j, "t")), "ping") == 0;
  json_decref(j);
  return yes;
}

static int on_message(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len) {
  c4j__conn_t *c = p->data;
  c4j__worker_t *w = worker(c);
  if (c->state != C4J__CONN_OPEN) return c->state == C4J__CONN_CLOSED;
  if (op != C4J_WS_OP_TEXT) {
    c4j__conn_close(c, C4J_CLOSE_UNSUPPORTED, "binary messages refused", 0);
    return 0;
  }
  if (is_ping(data, len)) {
    c4j__conn_send(c, w->pong_text);
  } else if (len > 65535) {
    /* An event string carries at most 65535 bytes. */
    c4j__conn_close(c, C4J_CLOSE_TOO_BIG, "message too big", 0);
  } else {
    c4j__events_message(&w->engine->events, c->cid->id, data, len);
  }
  return c->state == C4J__CONN_CLOSED;
}

static int on_control(c4j_ws_parser_t *p, int op, const uint8_t *data,
                      size_t len) {
  c4j__conn_t *c = p->data;
  if (op == C4J_WS_OP_PING && c->state == C4J__CONN_OPEN) {
    uint8_t frame[2 + 125];
    size_t h = c4j_ws_write_header(frame, C4J_WS_OP_PONG, len);
    c4j__buf_t *b;
    memcpy(frame + h, data, len);
    b = c4j__buf_copy(frame, h + len);
    if (b == NULL) {
      c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    } else {
      c4j__conn_send(c, b);
      c4j__buf_unref(b);
    }
  }
  return c->state == C4J__CONN_CLOSED;
}

static int on_close(c4j_ws_parser_t *p, int code, const uint8_t *reason,
                    size_t len) {
  c4j__conn_t *c = p->data;
  c->flags |= F_PEER_CLOSED;
  if (c->state == C4J__CONN_OPEN) {
    char text[128];
    uint8_t frame[127];
    size_t n;
    snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)reason);
    detach(c, code, len ? text : "closed by client", 0);
    c->state = C4J__CONN_CLOSING;
    c->stamp = c4j__worker_now(worker(c));
    /* Echo the code; 1005 means "none" and must not be sent. */
    n = c4j_ws_write_close(frame, code == 1005 ? C4J_CLOSE_NORMAL : code, "");
    if (queue_bytes(c, frame, n) < 0) c4j__conn_abort(c);
  } else if (c->state == C4J__CONN_CLOSING && c->wreq == NULL &&
             c->out_len == 0) {
    c4j__conn_abort(c);
  }
  c->flags |= F_NO_INPUT;
  return 1;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  c4j__worker_t *w = c4j__worker_of(h->loop);
  /* read_cb runs right after and consumes everything, so one buffer serves
   * every connection of the worker. */
  if (w->rbuf_busy) {
    *buf = uv_buf_init(NULL, 0);
    return;
  }
  w->rbuf_busy = 1;
  *buf = uv_buf_init((char *)w->rbuf, sizeof(w->rbuf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  c4j__conn_t *c = (c4j__conn_t *)s;
  c4j__worker_t *w = c4j__worker_of(s->loop);
  const uint8_t *data = (const uint8_t *)buf->base;

  if (nread < 0) {
    c4j__conn_abort(c);
  } else if (nread > 0) {
    size_t n = (size_t)nread;
    if (c->state == C4J__CONN_HANDSHAKE) {
      long r = c4j_http_feed(c->u.http, data, n);
      if (r < 0) {
        refuse(c, c->u.http->status ? c->u.http->status : 400,
               c->u.http->error ? c->u.http->error : "bad request");
      } else if (c->u.http->done) {
        route(c);
        if (c->state == C4J__CONN_OPEN && c->transport == C4J__T_WS &&
            (size_t)r < n)
          ws_bytes(c, data + r, n - (size_t)r);
        else if (c->state == C4J__CONN_BODY && (size_t)r < n)
          cmd_bytes(c, data + r, n - (size_t)r);
      }
    } else if (c->state == C4J__CONN_BODY) {
      cmd_bytes(c, data, n);
    } else if (c->transport == C4J__T_WS &&
               (c->state == C4J__CONN_OPEN ||
                c->state == C4J__CONN_CLOSING)) {
      if (c->state == C4J__CONN_OPEN) c->stamp = c4j__worker_now(w);
      ws_bytes(c, data, n);
    }
    /* SSE and long-poll clients send nothing after the request: any more
     * bytes are ignored. */
  }
  if (buf->base == (char *)w->rbuf) w->rbuf_busy = 0;
  c4j__worker_flush(w);
}

/* ---- Life cycle ----------------------------------------------------------- */

void c4j__conn_adopt(c4j__worker_t *w, int fd) {
  c4j_engine_t *e = w->engine;
  c4j__conn_t *c = c4j__calloc(1, sizeof(*c));
  if (c == NULL) goto fail;
  if (uv_tcp_init(&w->loop, &c->tcp) != 0) goto fail;
  c->state = C4J__CONN_CLOSED;
  if (uv_tcp_open(&c->tcp, fd) != 0) {
    uv_close((uv_handle_t *)&c->tcp, close_cb);
    close(fd);
    return;
  }
  c->state = C4J__CONN_HANDSHAKE;
  c->stamp = c4j__worker_now(w);
  uv_tcp_nodelay(&c->tcp, 1);
  c->u.http = c4j__malloc(sizeof(*c->u.http));
  if (c->u.http == NULL) {
    c4j__conn_abort(c);
    return;
  }
  c->flags |= F_HTTP;
  c4j_http_init(c->u.http, e->cfg.max_header);
  if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0)
    c4j__conn_abort(c);
  return;

fail:
  c4j__free(c);
  close(fd);
  atomic_fetch_sub(&e->open_socks, 1);
}

void c4j__conn_tick(c4j__conn_t *c, uint32_t now, int ping) {
  c4j__worker_t *w = worker(c);
  const c4j_config_t *cfg = &w->engine->cfg;
  uint32_t age = age_of(now, c->stamp);
  switch (c->state) {
    case C4J__CONN_HANDSHAKE:
    case C4J__CONN_REFUSING:
    case C4J__CONN_BODY:
      if (age >= (uint32_t)cfg->handshake_timeout_ms) c4j__conn_abort(c);
      break;
    case C4J__CONN_OPEN:
      if (c->transport == C4J__T_POLL) {
        if (age >= c4j__worker_poll_hold(w)) answer_poll(c);
        break;
      }
      /* A WebSocket's stamp is its last read; an SSE client talks through
       * /cmd, never on its stream, so its stamp is its last /cmd on any
       * worker (c4j__conn_touch).  Either silent this long is lost: a
       * half-open peer shows here, not when TCP gives up on writes. */
      if (age >= (uint32_t)cfg->idle_timeout_ms) {
        c4j__conn_close(c, C4J_CLOSE_IDLE_TIMEOUT, "idle timeout", 1);
        break;
      }
      if (ping && c->transport == C4J__T_WS) {
        c4j__conn_send(c, w->ping);
      } else if (ping && (size_t)c->queued + w->comment->len <=
                             cfg->max_queue) {
        if (push_out(c, c4j__buf_ref(w->comment, 1)) < 0)
          c4j__buf_unref(w->comment);
      }
      /* Give the output ring back while the connection is idle. */
      if (c->out_len == 0 && c->outq != NULL) {
        c4j__free(c->outq);
        c->outq = NULL;
        c->out_cap = c->out_head = 0;
      }
      break;
    case C4J__CONN_CLOSING:
      if (age >= CLOSE_WAIT_MS) c4j__conn_abort(c);
      break;
    case C4J__CONN_API:
      if (age >= (uint32_t)cfg->api_timeout_ms) api_timeout(c);
      break;
    default:
      break;
  }
}

/* ---- Hand-over between workers -------------------------------------------- */

void c4j__conn_take(c4j__worker_t *w, const char *cid, size_t len, int to,
                    uint32_t seq) {
  c4j_engine_t *e = w->engine;
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  c4j__conn_t *c;
  if (id == NULL) return;
  c = id->conn;
  if (!is_ghost(c)) {
    if ((int32_t)(c->seq - seq) < 0)
      c4j__conn_close(c, C4J_CLOSE_REPLACED, "replaced", 0);
    return;
  }
  /* The kept frames go to the new worker: sendTo frames and, with no
   * history, the broadcasts a parked ghost queued.  Broadcasts with a
   * history come back through the positions the ghost left. */
  if (c4j__engine_enter(e)) {
    while (c->out_len > 0) {
      c4j__buf_t *b = pop_out(c);
      c4j__msg_t *m;
      c->queued -= b->len;
      if (b->chan != NULL ||
          (m = c4j__msg_new(C4J__MSG_KEPT, cid, len, NULL)) == NULL) {
        c4j__buf_unref(b);
        continue;
      }
      m->buf = b;
      c4j__worker_push(e->workers[to], &m->node);
    }
    c4j__engine_leave(e);
  }
  detach(c, 0, NULL, 1);
  ghost_free(c);
}

void c4j__conn_touch(c4j__worker_t *w, const char *cid, size_t len) {
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  c4j__conn_t *c = id ? id->conn : NULL;
  if (c != NULL && c->state == C4J__CONN_OPEN && c->transport == C4J__T_SSE)
    c->stamp = c4j__worker_now(w);
}

void c4j__conn_kept(c4j__worker_t *w, const char *cid, size_t len,
                    c4j__buf_t *b) {
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  if (id != NULL) c4j__conn_send(id->conn, b);
}

void c4j__worker_want_flush(c4j__worker_t *w, c4j__conn_t *c) {
  if (c->flags & F_IN_FLUSH) return;
  c->flags |= F_IN_FLUSH;
  c->flush_next = w->flush_list;
  w->flush_list = c;
}

void c4j__worker_flush(c4j__worker_t *w) {
  c4j__conn_t *c;
  /* Count before writing, so that whoever reads a frame sees it counted. */
  if (w->messages_out > 0) {
    atomic_fetch_add_explicit(&w->engine->messages_out, w->messages_out,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&w->engine->bytes_out, w->bytes_out,
                              memory_order_relaxed);
    w->messages_out = w->bytes_out = 0;
  }
  while ((c = w->flush_list) != NULL) {
    w->flush_list = c->flush_next;
    c->flush_next = NULL;
    c->flags &= (uint8_t)~F_IN_FLUSH;
    c4j__conn_flush(c);
  }
}
