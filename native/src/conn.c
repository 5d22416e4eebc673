/* conn.c - a connection's socket, from accept to close: the output ring of
 * shared buffers and its writes (uv_try_write first, uv_write for the
 * rest), sending a frame (with the slow-consumer cut), closing (the close
 * handshake's last steps, FIN, the close callback), the read dispatch to
 * the request, the WebSocket or the body, the tick's timeouts and
 * heartbeats, and HTTP keep-alive (after an answer with a length the
 * socket reads its next request as a new one would, what its client
 * pipelined first).  What a connection reads is the other files'
 * (conn.h).  A socket of a TLS native port takes one branch on read and
 * one on flush into tls.c, which decrypts into c4j__conn_bytes and seals
 * the output ring; the plain path is the same without it.
 *
 * Memory while idle: the uv_tcp_t and this struct, the cid entry, one node
 * per subscribed channel and, until the next tick, the output ring (with
 * TLS, tls.c's record keys too).  Reads land in the worker's 64 KiB
 * buffer.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "common.h"
#include "conn.h"
#include "deflate.h"
#include "engine.h"
#include "stream.h"
#include "tls.h"

#define CLOSE_WAIT_MS 2000 /* how long a closing connection may linger */

/* ---- Output ring ---------------------------------------------------------- */

void c4j__conn_want_flush(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  if (c->flags & C4J__F_IN_FLUSH) return;
  c->flags |= C4J__F_IN_FLUSH;
  c->flush_next = NULL;
  if (w->flush_tail != NULL) w->flush_tail->flush_next = c;
  else w->flush_list = c;
  w->flush_tail = c;
  w->flush_len++;
}

int c4j__conn_push_out(c4j__conn_t *c, c4j__buf_t *b) {
  if (c->out_len == c->out_cap) {
    unsigned cap = c->out_cap ? c->out_cap * 2u : 4u;
    c4j__buf_t **q;
    if (cap > C4J__MAX_OUT) return -1;
    q = c4j__malloc(cap * sizeof(*q));
    if (q == NULL) return -1;
    for (unsigned i = 0; i < c->out_len; i++) q[i] = *c4j__conn_slot(c, i);
    c4j__free(c->outq);
    c->outq = q;
    c->out_cap = (uint16_t)cap;
    c->out_head = 0;
  }
  *c4j__conn_slot(c, c->out_len) = b;
  c->out_len++;
  c->queued += b->len;
  /* Ghosts and waiting polls write nothing until a transport takes them. */
  if (!c4j__conn_is_ghost(c) &&
      !(c->transport == C4J__T_POLL && c->state == C4J__CONN_OPEN))
    c4j__conn_want_flush(c);
  return 0;
}

c4j__buf_t *c4j__conn_pop_out(c4j__conn_t *c) {
  c4j__buf_t *b = c->outq[c->out_head];
  c->out_head = (uint16_t)((c->out_head + 1u) % c->out_cap);
  c->out_len--;
  return b;
}

void c4j__conn_drop_out(c4j__conn_t *c) {
  while (c->out_len > 0) {
    c4j__buf_t *b = c4j__conn_pop_out(c);
    c->queued -= b->len;
    c4j__buf_unref(b);
  }
}

int c4j__conn_queue_bytes(c4j__conn_t *c, const void *p, size_t n) {
  c4j__buf_t *b = c4j__buf_copy(p, n);
  if (b == NULL) return -1;
  if (c4j__conn_push_out(c, b) < 0) {
    c4j__buf_unref(b);
    return -1;
  }
  return 0;
}

/* ---- Lists of the worker -------------------------------------------------- */

void c4j__conn_list_add(c4j__conn_t **head, c4j__conn_t *c) {
  c->gprev = NULL;
  c->gnext = *head;
  if (*head) (*head)->gprev = c;
  *head = c;
}

void c4j__conn_list_remove(c4j__conn_t **head, c4j__conn_t *c) {
  if (c->gprev) c->gprev->gnext = c->gnext;
  else *head = c->gnext;
  if (c->gnext) c->gnext->gprev = c->gprev;
  c->gnext = c->gprev = NULL;
}

/* ---- Unfinished requests -------------------------------------------------- */

/* The worker's pending list runs from the newest (`pending_new`, through
 * `gnext`) to the oldest (`pending_old`), whose accept time the listener
 * reads. */
static void pending_since(c4j__worker_t *w) {
  c4j__conn_t *o = w->pending_old;
  atomic_store(&w->pending_since, o ? w->start_ms + o->stamp : 0);
}

static void pending_add(c4j__conn_t *c, uint32_t key) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c->akey = key;
  c->flags |= C4J__F_PENDING;
  c->gprev = NULL;
  c->gnext = w->pending_new;
  if (w->pending_new != NULL) w->pending_new->gprev = c;
  w->pending_new = c;
  if (w->pending_old == NULL) {
    w->pending_old = c;
    pending_since(w);
  }
}

void c4j__conn_pending_done(c4j__conn_t *c) {
  c4j__worker_t *w;
  if (!(c->flags & C4J__F_PENDING)) return;
  w = c4j__conn_worker(c);
  c->flags &= (uint16_t)~C4J__F_PENDING;
  if (c->gprev) c->gprev->gnext = c->gnext;
  else w->pending_new = c->gnext;
  if (c->gnext) {
    c->gnext->gprev = c->gprev;
  } else {
    w->pending_old = c->gprev;
    pending_since(w);
  }
  c->gnext = c->gprev = NULL;
  c4j__pending_remove(&w->engine->pending, c->akey);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- HTTP keep-alive ------------------------------------------------------ */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

int c4j__conn_may_keep(const c4j__conn_t *c) {
  return (c->flags & (C4J__F_KEEP | C4J__F_ADOPTED)) == C4J__F_KEEP &&
         c->served + 1 < C4J__KEEPALIVE_MAX;
}

void c4j__conn_answered(c4j__conn_t *c, int keep) {
  c4j__conn_pending_done(c);
  if (!keep) {
    c->state = C4J__CONN_REFUSING;
    return;
  }
  /* A body's (or an answered head's) memory goes now; what its client
   * already sent of the next request (u.rest) stays. */
  if (c->flags & C4J__F_HTTP) {
    c4j__free(c->u.http);
    c->flags &= (uint16_t)~C4J__F_HTTP;
    c->u.http = NULL;
  } else if (!(c->flags & C4J__F_REST)) {
    c4j__free(c->u.cmd);
    c->u.cmd = NULL;
  }
  c->served++;
  c->stamp = c4j__worker_now(c4j__conn_worker(c)); /* the answer's time */
  c->state = C4J__CONN_KEEP;
}

/* Bytes that came while the request is answered (an /api/ request
 * waiting, an answer being written): the next request's, kept for when
 * the socket reads one again.  Reading stops until then, so that what
 * is kept is one read at most: the kernel holds the rest. */
static void keep_rest(c4j__conn_t *c, const uint8_t *data, size_t n) {
  c4j__buf_t *old = (c->flags & C4J__F_REST) ? c->u.rest : NULL;
  size_t have = old ? old->len : 0;
  c4j__buf_t *b = c4j__buf_new(have + n);
  if (b == NULL) {
    c4j__conn_abort(c);
    return;
  }
  if (have) memcpy(b->data, old->data, have);
  memcpy(b->data + have, data, n);
  c4j__buf_unref(old);
  c->u.rest = b;
  c->flags |= C4J__F_REST;
  uv_read_stop((uv_stream_t *)&c->tcp);
}

/* c reads a request (HANDSHAKE) with a fresh parser: a new socket, or
 * one kept alive after an answer.  0, or -1 when out of memory. */
static int to_request(c4j__conn_t *c) {
  c->state = C4J__CONN_HANDSHAKE;
  c->u.http = c4j__malloc(sizeof(*c->u.http));
  if (c->u.http == NULL) return -1;
  c->flags |= C4J__F_HTTP;
  c4j_http_init(c->u.http, c4j__conn_engine(c)->cfg.max_header);
  return 0;
}

/* The kept-alive answer is written: a fresh request is read, as on a new
 * socket, starting with what was kept. */
static void next_request(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j__buf_t *rest = (c->flags & C4J__F_REST) ? c->u.rest : NULL;
  c->flags &= (uint16_t)~(C4J__F_REST | C4J__F_KEEP);
  c->u.http = NULL;
  c->transport = C4J__T_WS; /* what a new socket has */
  c->deflate = 0;
  c->stamp = c4j__worker_now(w);
  if (c4j__pending_add(&w->engine->pending, c->akey, 0) != 1) {
    c4j__buf_unref(rest);
    c4j__conn_abort(c);
    return;
  }
  pending_add(c, c->akey);
  if (to_request(c) != 0 ||
      (rest != NULL &&
       uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0)) {
    c4j__buf_unref(rest);
    c4j__conn_abort(c);
    return;
  }
  if (rest != NULL) {
    c4j__conn_bytes(c, rest->data, rest->len);
    c4j__buf_unref(rest);
  }
}

/* An idle kept-alive socket: nothing of its next request has come.  It
 * is closed without an answer (a client would read one as its next
 * request's). */
static int idle_kept(const c4j__conn_t *c) {
  return c->state == C4J__CONN_HANDSHAKE && c->served > 0 &&
         (c->flags & C4J__F_HTTP) && c->u.http->header_bytes == 0;
}

/* Reads what c's client has sent and the loop has not read yet, as
 * read_cb would.  Returns 0, or -1 when the client has gone (or reset). */
static int read_now(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  uv_os_fd_t fd;
  if (w->rbuf_busy || uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) return 0;
  /* A few buffers at most: a head is at most max_header, and a body the
   * client is still sending is not one that stalls. */
  for (int i = 0; i < 4 && (c->flags & C4J__F_PENDING); i++) {
    ssize_t n = recv(fd, w->rbuf, sizeof(w->rbuf), MSG_DONTWAIT);
    uv_buf_t b = uv_buf_init((char *)w->rbuf, sizeof(w->rbuf));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return -1;
    if (n < 0) break;
    w->rbuf_busy = 1;
    read_cb((uv_stream_t *)&c->tcp, n, &b); /* clears rbuf_busy */
    if ((size_t)n < sizeof(w->rbuf)) break;
  }
  return 0;
}

int c4j__conn_evict_oldest(c4j__worker_t *w) {
  c4j__conn_t *c;
  while ((c = w->pending_old) != NULL) {
    if (read_now(c) < 0) {
      c->flags |= C4J__F_EVICTED;
      c4j__conn_abort(c);
      return 1;
    }
    if (c->flags & C4J__F_PENDING) break;
    /* Its request was there: it goes on, and the next oldest is tried. */
  }
  if (c == NULL) return 0;
  c->flags |= C4J__F_EVICTED;
  atomic_fetch_add(&w->engine->evicted, 1);
  if (idle_kept(c)) c4j__conn_abort(c);
  else c4j__request_refuse_pending(c, 503, "server busy: request not complete");
  return 1;
}

/* How long a request may take to arrive now: handshake_timeout_ms while
 * the engine is at most half full, then shorter in proportion to the room
 * left, down to a tenth of it when full.  An honest client sends its
 * request at once; a socket that keeps its place without one is what
 * fills an engine. */
static uint32_t request_deadline(c4j_engine_t *e) {
  int64_t t = e->cfg.handshake_timeout_ms, cap = e->conn_cap;
  int64_t held = c4j__engine_held(e), d;
  if (2 * held <= cap) return (uint32_t)t;
  d = held >= cap ? 0 : t * 2 * (cap - held) / cap;
  return (uint32_t)(d < t / 10 ? t / 10 : d);
}

/* ---- Closing -------------------------------------------------------------- */

static void close_cb(uv_handle_t *h) {
  c4j__conn_t *c = (c4j__conn_t *)h;
  c4j_engine_t *e = c4j__worker_of(h->loop)->engine;
  if (c->flags & C4J__F_HTTP) {
    c4j__free(c->u.http);
  } else if (c->flags & C4J__F_REST) {
    c4j__buf_unref(c->u.rest);
  } else if (c->state == C4J__CONN_BODY || c->transport == C4J__T_CMD ||
             c->transport == C4J__T_API) {
    c4j__free(c->u.cmd);
  } else if (c->transport == C4J__T_POLL) {
    c4j__free(c->u.acao);
  } else if (c->u.ws != NULL) {
    c4j_ws_parser_free(c->u.ws);
    c4j__free(c->u.ws);
  }
  c4j__conn_drop_out(c);
  c4j__free(c->outq);
  c4j__handover_free(c->ho);
  if (c->flags & C4J__F_EVICTED) atomic_fetch_sub(&e->evicting, 1);
  if (c->tls != NULL) c4j__tls_free(c);
  atomic_fetch_sub(&e->open_socks, 1);
  /* The flush list outlives a loop turn when the flush is sliced
   * (worker.c): the flush frees what it finds gone. */
  if (c->flags & C4J__F_IN_FLUSH) {
    c->state = C4J__CONN_GONE;
    return;
  }
  c4j__free(c);
}

void c4j__conn_abort(c4j__conn_t *c) {
  if (c->state == C4J__CONN_CLOSED) return;
  if (c4j__conn_is_ghost(c)) {
    c4j__conn_close(c, 1006, "connection lost", 1);
    return;
  }
  if (c->state == C4J__CONN_OPEN)
    c4j__identity_end(c, 1006, "connection lost");
  c4j__conn_pending_done(c);
  c4j__poll_unbatch(c);
  if (c->state == C4J__CONN_API)
    c4j__conn_list_remove(&c4j__conn_worker(c)->api_wait, c);
  c->state = C4J__CONN_CLOSED;
  uv_close((uv_handle_t *)&c->tcp, close_cb);
}

void c4j__conn_close(c4j__conn_t *c, int code, const char *reason,
                     int discard) {
  uint8_t frame[127];
  size_t n;
  if (c4j__conn_is_ghost(c)) {
    c4j__identity_detach(c, code, reason, 0);
    c4j__identity_ghost_free(c);
    return;
  }
  if (c->state != C4J__CONN_OPEN) {
    if (c->state == C4J__CONN_HANDSHAKE || c->state == C4J__CONN_REFUSING ||
        c->state == C4J__CONN_BODY || c->state == C4J__CONN_API ||
        c->state == C4J__CONN_KEEP)
      c4j__conn_abort(c);
    return;
  }
  c4j__identity_end(c, code, reason);
  c4j__poll_unbatch(c);
  if (discard) {
    /* A cut before the first write (a resume replay over max_queue) still
     * answers the request: the page learns why from a close frame. */
    c4j__buf_t *head = c->head ? c4j__conn_pop_out(c) : NULL;
    if (head != NULL) c->queued -= head->len;
    c4j__conn_drop_out(c);
    if (head != NULL && c4j__conn_push_out(c, head) < 0) {
      c4j__buf_unref(head);
      c4j__conn_abort(c);
      return;
    }
  }
  c->stamp = c4j__worker_now(c4j__conn_worker(c));
  if (c->transport != C4J__T_WS) {
    /* HTTP transports have no close frame: end the response. */
    c->state = C4J__CONN_REFUSING;
    c4j__conn_want_flush(c);
    return;
  }
  c->state = C4J__CONN_CLOSING;
  n = c4j_ws_write_close(frame, code, reason);
  if (c4j__conn_queue_bytes(c, frame, n) < 0) c4j__conn_abort(c);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  c4j__conn_t *c = (c4j__conn_t *)req->handle;
  c4j__free(req);
  if (status < 0) c4j__conn_abort(c);
}

/* All output is written: finish what the state asks for (with TLS, its
 * close_notify before the close or the FIN). */
static void drained(c4j__conn_t *c) {
  if ((c->state == C4J__CONN_REFUSING || c->state == C4J__CONN_CLOSING) &&
      c->tls != NULL && c4j__tls_close_notify(c)) {
    c4j__conn_flush(c);
    return;
  }
  if (c->state == C4J__CONN_REFUSING) {
    c4j__conn_abort(c);
  } else if (c->state == C4J__CONN_KEEP) {
    next_request(c);
  } else if (c->state == C4J__CONN_CLOSING) {
    uv_shutdown_t *req;
    if (c->flags & C4J__F_PEER_CLOSED) {
      c4j__conn_abort(c);
      return;
    }
    if (c->flags & C4J__F_SHUTDOWN) return;
    /* Send FIN after the close frame and wait for the client's close frame
     * or EOF (or CLOSE_WAIT_MS), so that unread input cannot turn into a
     * reset that destroys the close frame in flight. */
    c->flags |= C4J__F_SHUTDOWN;
    c->stamp = c4j__worker_now(c4j__conn_worker(c)); /* the client's time */
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

/* Frames in one writev: a flush at a few thousand broadcasts a second
 * finds a hundred or more small ones queued to each connection. */
#define WRITEV_FRAMES 256

void c4j__conn_flush(c4j__conn_t *c) {
  uv_buf_t iov[WRITEV_FRAMES];
  unsigned n, i;
  size_t done, off = 0;
  int r, hold;
  c4j__wreq_t *wr;

  if (c->state == C4J__CONN_CLOSED || c->wreq != NULL ||
      c4j__conn_is_ghost(c))
    return;
  /* A body being read, or a poll waiting, holds its output; TLS's own
   * bytes (the handshake's, a key update) go out anyway. */
  hold = c->state == C4J__CONN_BODY ||
         (c->transport == C4J__T_POLL && c->state == C4J__CONN_OPEN);
  if (c->tls != NULL) {
    if (c4j__tls_flush(c, hold) == 0 && !hold) drained(c);
    return;
  }
  if (hold) return;
  if (c->out_len == 0) {
    drained(c);
    return;
  }
  /* First try to write at once, one writev for up to WRITEV_FRAMES, and
   * again while the kernel took all of them and more are queued. */
  do {
    size_t want = 0;
    n = c->out_len < WRITEV_FRAMES ? c->out_len : WRITEV_FRAMES;
    for (i = 0; i < n; i++) {
      c4j__buf_t *b = *c4j__conn_slot(c, i);
      iov[i] = uv_buf_init((char *)b->data, b->len);
      want += b->len;
    }
    r = uv_try_write((uv_stream_t *)&c->tcp, iov, n);
    if (r == UV_EAGAIN || r == UV_ENOSYS) {
      r = 0;
    } else if (r < 0) {
      c4j__conn_abort(c);
      return;
    }
    c->head = 0; /* written now, or handed to uv_write below */
    done = (size_t)r;
    while (done > 0) {
      c4j__buf_t *b = *c4j__conn_slot(c, 0);
      if (done < b->len) {
        off = done;
        break;
      }
      done -= b->len;
      c->queued -= b->len;
      c4j__buf_unref(c4j__conn_pop_out(c));
    }
    if (c->out_len == 0) {
      drained(c);
      return;
    }
    if ((size_t)r < want) break;
  } while (1);
  /* The kernel is full: hand the rest (up to WRITEV_FRAMES) to uv_write,
   * which owns those references until write_cb. */
  n = c->out_len < WRITEV_FRAMES ? c->out_len : WRITEV_FRAMES;
  wr = c4j__malloc(sizeof(*wr) + n * sizeof(c4j__buf_t *));
  if (wr == NULL) {
    c4j__conn_abort(c);
    return;
  }
  wr->c = c;
  wr->n = n;
  wr->bytes = 0;
  for (i = 0; i < n; i++) {
    c4j__buf_t *b = c4j__conn_pop_out(c);
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

int c4j__conn_write(c4j__conn_t *c, c4j__buf_t **bufs, unsigned n) {
  uv_buf_t iov[4] = { { 0 } };
  unsigned i, first = 0;
  size_t done;
  int r;
  c4j__wreq_t *wr;
  for (i = 0; i < n; i++)
    iov[i] = uv_buf_init((char *)bufs[i]->data, bufs[i]->len);
  r = uv_try_write((uv_stream_t *)&c->tcp, iov, n);
  if (r == UV_EAGAIN || r == UV_ENOSYS) r = 0;
  if (r < 0) goto fail;
  for (done = (size_t)r; first < n && done >= bufs[first]->len; first++) {
    done -= bufs[first]->len;
    c4j__buf_unref(bufs[first]);
  }
  if (first == n) return 0;
  wr = c4j__malloc(sizeof(*wr) + (n - first) * sizeof(c4j__buf_t *));
  if (wr == NULL) goto fail;
  wr->c = c;
  wr->n = n - first;
  wr->bytes = 0;
  for (i = 0; i < wr->n; i++) {
    c4j__buf_t *b = bufs[first + i];
    size_t skip = i == 0 ? done : 0;
    wr->bufs[i] = b;
    iov[i] = uv_buf_init((char *)b->data + skip, (unsigned)(b->len - skip));
    wr->bytes += b->len - (uint32_t)skip;
  }
  c->queued += wr->bytes;
  c->wreq = wr;
  r = uv_write(&wr->req, (uv_stream_t *)&c->tcp, iov, wr->n, write_cb);
  if (r < 0) {
    c->wreq = NULL;
    c->queued -= wr->bytes;
    for (i = 0; i < wr->n; i++) c4j__buf_unref(wr->bufs[i]);
    c4j__free(wr);
    c4j__conn_abort(c);
    return -1;
  }
  return 1;
fail:
  for (i = first; i < n; i++) c4j__buf_unref(bufs[i]);
  c4j__conn_abort(c);
  return -1;
}

/* ---- Sending -------------------------------------------------------------- */

/* A dying ghost keeps sendTo frames within max_queue, dropping the oldest
 * (counted) to make room. */
static void keep(c4j__conn_t *g, c4j__buf_t *b) {
  size_t max = c4j__conn_engine(g)->cfg.max_queue;
  if (b->offset != 0 || b->len > max) return;
  while (g->out_len > 0 &&
         ((size_t)g->queued + b->len > max || g->out_len >= C4J__MAX_OUT)) {
    c4j__buf_t *old = c4j__conn_pop_out(g);
    g->queued -= old->len;
    c4j__buf_unref(old);
    g->lost++;
  }
  if (c4j__conn_push_out(g, c4j__buf_ref(b, 1)) < 0) {
    c4j__buf_unref(b);
    g->lost++;
  }
}

/* Appends a new reference to b to list (growing it); -1 out of memory. */
static int list_add(c4j__buf_t ***list, uint32_t *n, uint32_t *cap,
                    c4j__buf_t *b) {
  if (*n == *cap) {
    uint32_t k = *cap ? *cap * 2 : 8;
    c4j__buf_t **q = c4j__realloc(*list, k * sizeof(*q));
    if (q == NULL) return -1;
    *list = q;
    *cap = k;
  }
  (*list)[(*n)++] = c4j__buf_ref(b, 1);
  return 0;
}

void c4j__handover_free(c4j__handover_t *ho) {
  if (ho == NULL) return;
  for (uint32_t i = 0; i < ho->nheld; i++) c4j__buf_unref(ho->held[i]);
  for (uint32_t i = 0; i < ho->nkept; i++) c4j__buf_unref(ho->kept[i]);
  c4j__free(ho->held);
  c4j__free(ho->kept);
  c4j__free(ho);
}

/* What a connection that negotiated permessage-deflate gets for b: its
 * compressed twin, made once for every such receiver (deflate.h); for a
 * client that asked for a smaller window, b compressed for it alone, in
 * *own (its reference the caller's). */
static c4j__buf_t *deflated(c4j__conn_t *c, c4j__buf_t *b, c4j__buf_t **own) {
  c4j__worker_t *w = c4j__conn_worker(c);
  if (w->zip == NULL) return b;
  if (c->deflate >= 9 && c->deflate < 15)
    return (*own = c4j__deflate_own(w->zip, b, c->deflate)) ? *own : b;
  return c4j__deflate_frame(w->zip, b);
}

/* Queues b; `limit` 0 skips the max_queue cut (never the ring's). */
static void queue_frame(c4j__conn_t *c, c4j__buf_t *b, int limit) {
  c4j__worker_t *w;
  c4j__buf_t *out = b, *own = NULL;
  /* A hand-over in progress: later frames wait, but for broadcasts with a
   * history, which their offsets order and bring back (a long-poll's
   * next request names its positions: one held here as well would come
   * twice). */
  if (c->ho != NULL && b->chan == NULL) {
    if (c->ho->nheld >= C4J__MAX_OUT ||
        list_add(&c->ho->held, &c->ho->nheld, &c->ho->cap_held, b) < 0)
      c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  if (c->state == C4J__CONN_DYING) {
    keep(c, b);
    return;
  }
  /* A broadcast with a history comes back through the positions a
   * parked poll's next request names. */
  if (c->state == C4J__CONN_PARKED && b->chan != NULL) return;
  if (c->state != C4J__CONN_OPEN && c->state != C4J__CONN_PARKED) return;
  w = c4j__conn_worker(c);
  if (c->transport == C4J__T_SSE && c->state == C4J__CONN_OPEN &&
      (out = c4j__stream_event(b)) == NULL) {
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  if (c->deflate && c->state == C4J__CONN_OPEN) out = deflated(c, b, &own);
  if ((limit && (size_t)c->queued + out->len > w->engine->cfg.max_queue) ||
      c->out_len >= C4J__MAX_OUT) {
    c4j__buf_unref(own);
    atomic_fetch_add(&w->engine->slow_consumers, 1);
    c4j__conn_close(c, C4J_CLOSE_SLOW_CONSUMER, "slow consumer", 1);
    return;
  }
  if (c4j__conn_push_out(c, c4j__buf_ref(out, 1)) < 0) {
    c4j__buf_unref(out);
    c4j__buf_unref(own);
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  c4j__buf_unref(own); /* the ring holds it now */
  if (c->transport == C4J__T_POLL && c->state == C4J__CONN_OPEN)
    c4j__poll_batch(c);
  w->messages_out++;
  w->bytes_out += out->len;
}

void c4j__conn_send(c4j__conn_t *c, c4j__buf_t *b) { queue_frame(c, b, 1); }

void c4j__conn_send_kept(c4j__conn_t *c, c4j__buf_t *b) {
  queue_frame(c, b, 0);
}

void c4j__conn_send_handed(c4j__conn_t *c, c4j__buf_t *b) {
  c4j__handover_t *ho = c->ho;
  if (ho != NULL &&
      list_add(&ho->kept, &ho->nkept, &ho->cap_kept, b) < 0) {
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  c->ho = NULL;
  queue_frame(c, b, 0);
  if (c->ho == NULL) c->ho = ho; /* not moved on meanwhile (a close) */
  else c4j__handover_free(ho);
}

void c4j__conn_handover_end(c4j__conn_t *c) {
  c4j__handover_t *ho = c->ho;
  if (ho == NULL) return;
  c->ho = NULL;
  /* A send reaches every worker: one the former worker kept and handed
   * over, and that also arrived here after the attach, is the same
   * buffer (a few, so a scan). */
  for (uint32_t i = 0; i < ho->nheld; i++) {
    int dup = 0;
    for (uint32_t k = 0; k < ho->nkept && !dup; k++)
      dup = ho->kept[k] == ho->held[i];
    if (!dup && c->cid != NULL) queue_frame(c, ho->held[i], 1);
  }
  c4j__handover_free(ho);
}

void c4j__conn_send_sub(c4j__conn_t *c, c4j__sub_t *s, c4j__buf_t *b) {
  if (b->offset != 0) {
    if (b->offset <= s->last) return;
    s->last = b->offset;
  }
  c4j__conn_send(c, b);
}

void c4j__conn_send_new(c4j__conn_t *c, c4j__buf_t *b) {
  if (b == NULL) {
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  c4j__conn_send(c, b);
  c4j__buf_unref(b);
}

/* ---- Reading -------------------------------------------------------------- */

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

void c4j__conn_bytes(c4j__conn_t *c, const uint8_t *data, size_t n) {
  if (c->state == C4J__CONN_HANDSHAKE) {
    c4j__request_bytes(c, data, n);
  } else if (c->state == C4J__CONN_BODY) {
    c4j__cmd_bytes(c, data, n);
  } else if (c->state == C4J__CONN_KEEP ||
             (c->state == C4J__CONN_API && (c->flags & C4J__F_KEEP))) {
    if (n > 0) keep_rest(c, data, n); /* pipelined */
  } else if (c->transport == C4J__T_WS &&
             (c->state == C4J__CONN_OPEN || c->state == C4J__CONN_CLOSING)) {
    if (c->state == C4J__CONN_OPEN)
      c->stamp = c4j__worker_now(c4j__conn_worker(c));
    c4j__wsconn_bytes(c, data, n);
  }
  /* SSE and long-poll clients send nothing after the request: any more
   * bytes are ignored. */
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  c4j__conn_t *c = (c4j__conn_t *)s;
  c4j__worker_t *w = c4j__worker_of(s->loop);

  if (nread < 0) {
    c4j__conn_abort(c);
  } else if (nread > 0) {
    /* With TLS the records are opened in place: buf is the worker's. */
    if (c->tls != NULL) c4j__tls_read(c, (uint8_t *)buf->base, (size_t)nread);
    else c4j__conn_bytes(c, (const uint8_t *)buf->base, (size_t)nread);
  }
  if (buf->base == (char *)w->rbuf) w->rbuf_busy = 0;
}

/* ---- Life cycle ----------------------------------------------------------- */

void c4j__conn_adopt(c4j__worker_t *w, int fd, const c4j__buf_t *first,
                     uint32_t key, int tls) {
  c4j_engine_t *e = w->engine;
  c4j__conn_t *c = c4j__calloc(1, sizeof(*c));
  if (c == NULL) goto fail;
  if (uv_tcp_init(&w->loop, &c->tcp) != 0) goto fail;
  c->state = C4J__CONN_CLOSED;
  c->stamp = c4j__worker_now(w);
  /* From here the close callback counts it out. */
  pending_add(c, key);
  if (uv_tcp_open(&c->tcp, fd) != 0) {
    c4j__conn_pending_done(c);
    uv_close((uv_handle_t *)&c->tcp, close_cb);
    close(fd);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (to_request(c) != 0) {
    c4j__conn_abort(c);
    return;
  }
  if (first != NULL) c->flags |= C4J__F_ADOPTED;
  if (tls && c4j__tls_start(c) != 0) {
    c4j__conn_abort(c);
    return;
  }
  if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
    c4j__conn_abort(c);
    return;
  }
  if (first != NULL && first->len > 0)
    c4j__request_bytes(c, first->data, first->len);
  return;

fail:
  c4j__free(c);
  close(fd);
  c4j__pending_remove(&e->pending, key);
  atomic_fetch_sub(&e->open_socks, 1);
}

void c4j__conn_tick(c4j__conn_t *c, uint32_t now, int ping) {
  c4j__worker_t *w = c4j__conn_worker(c);
  const c4j_config_t *cfg = &w->engine->cfg;
  uint32_t age = c4j__conn_age(now, c->stamp);
  uint32_t deadline;
  switch (c->state) {
    case C4J__CONN_HANDSHAKE:
    case C4J__CONN_BODY:
      /* The whole request, head and body, counts from the accept (or,
       * kept alive, from the answer before). */
      deadline = request_deadline(w->engine);
      if (age < deadline) break;
      if (idle_kept(c)) {
        c4j__conn_abort(c);
        break;
      }
      if (deadline < (uint32_t)cfg->handshake_timeout_ms) {
        atomic_fetch_add(&w->engine->timeouts_short, 1);
        c4j__request_refuse_pending(c, 408, "request timeout (server busy)");
      } else {
        atomic_fetch_add(&w->engine->timeouts, 1);
        c4j__request_refuse_pending(c, 408, "request timeout");
      }
      break;
    case C4J__CONN_REFUSING:
    case C4J__CONN_KEEP:
      if (age >= (uint32_t)cfg->handshake_timeout_ms) c4j__conn_abort(c);
      break;
    case C4J__CONN_OPEN:
      if (c->transport == C4J__T_POLL) {
        if (age >= c4j__poll_hold(w)) c4j__poll_answer(c);
        break;
      }
      if (c->transport == C4J__T_SSE && cfg->hold_ms > 0 &&
          c4j__conn_age(now, c->born) >= (uint32_t)cfg->hold_ms &&
          c4j__poll_end_stream(c))
        break;
      /* A WebSocket's stamp is its last read; an SSE client talks through
       * /cmd, never on its stream, so its stamp is its last /cmd on any
       * worker (c4j__identity_touch).  Either silent this long is lost: a
       * half-open peer shows here, not when TCP gives up on writes. */
      if (age >= (uint32_t)cfg->idle_timeout_ms) {
        c4j__conn_close(c, C4J_CLOSE_IDLE_TIMEOUT, "idle timeout", 1);
        break;
      }
      if (ping && c->transport == C4J__T_WS) {
        c4j__conn_send(c, w->ping);
      } else if (ping && (size_t)c->queued + w->comment->len <=
                             cfg->max_queue) {
        if (c4j__conn_push_out(c, c4j__buf_ref(w->comment, 1)) < 0)
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
      /* The close frame may still wait behind full socket buffers (a slow
       * consumer cut with 4001): it gets the idle timeout to go out, so
       * that a client that reads again learns why; once it is out, the
       * client has CLOSE_WAIT_MS to answer. */
      if (age >= CLOSE_WAIT_MS &&
          ((c->out_len == 0 && c->wreq == NULL) ||
           age >= (uint32_t)cfg->idle_timeout_ms))
        c4j__conn_abort(c);
      break;
    case C4J__CONN_API:
      if (age >= (uint32_t)cfg->api_timeout_ms) c4j__cmd_api_timeout(c);
      break;
    default:
      break;
  }
}
