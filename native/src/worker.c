/* worker.c - one libuv loop on its own thread: drains its inbox (handing
 * each message to the connection layer: fan-out of a broadcast to a
 * channel's subscribers, sends to an id or a user, commands, drops,
 * hand-overs), ticks once a period for heartbeats and timeouts (one timer
 * per worker, none per connection), and writes what was queued, each
 * connection once for all it got (the flush, a uv_prepare and a uv_check,
 * a slice of the connections at a time).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "deflate.h"
#include "conn.h"
#include "frames.h"
#include "listener.h"
#include "tls.h"
#include "worker.h"

#define H_ASYNC 0x01
#define H_TICK 0x02
#define H_BATCH 0x04
#define H_FLUSH 0x08

/* ---- Handling messages ---------------------------------------------------- */

static c4j__conn_t *find_conn(c4j__worker_t *w, const c4j__msg_t *m) {
  c4j__cid_t *e = c4j__cid_map_find(&w->cids, m->text, m->name_len);
  return e ? e->conn : NULL;
}

/* What handle() did with a message. */
enum { DONE, KEEP, MOVED };

/* A run-time (un)subscription, in its identity's order (held.h): applied
 * when its turn has come and the identity is here; kept for later while
 * an earlier one is not applied or the identity's socket is closing here;
 * handed to the worker that holds the identity now, if another. */
static int command(c4j__worker_t *w, c4j__msg_t *m) {
  c4j_engine_t *e = w->engine;
  int holder = -1, r;
  switch (c4j__held_cmd_turn(&e->held, m->text, m->name_len, w->index,
                             m->seq, &holder)) {
    case C4J__CMD_WAIT:
      return KEEP;
    case C4J__CMD_DROP:
      return DONE;
    case C4J__CMD_MOVED:
      if (!c4j__engine_enter(e)) return DONE;
      atomic_store(&m->node.next, NULL);
      c4j__worker_push(e->workers[holder], &m->node);
      c4j__engine_leave(e);
      return MOVED;
  }
  if (m->type == C4J__MSG_SUB)
    r = c4j__subscription_add(w, m->text, m->name_len, m->reason, m->id,
                              m->hist, m->off);
  else
    r = c4j__subscription_remove(w, m->text, m->name_len, m->reason);
  if (r == C4J__LATER) return KEEP;
  c4j__held_cmd_done(&e->held, m->text, m->name_len, m->seq);
  w->applied = 1;
  return DONE;
}

/* Handles one inbox message: DONE (the caller frees it), KEEP (for a
 * later turn: see retry_later) or MOVED (to another worker's inbox). */
static int handle(c4j__worker_t *w, c4j__msg_t *m) {
  c4j__conn_t *c;
  c4j__chan_t *ch;
  switch (m->type) {
    case C4J__MSG_FD: /* fd -1: only a dummy's other end to drain */
      if (w->stopping) {
        if (m->sink >= 0) close(m->sink);
        if (m->fd < 0) break;
        close(m->fd);
        c4j__listener_unplace(w->engine, m->seq, m->code);
      } else {
        if (m->fd >= 0)
          c4j__listener_place(w, m->fd, m->buf, m->seq, m->code, m->tls);
        if (m->sink >= 0) c4j__listener_sink(w, m->sink);
      }
      break;
    case C4J__MSG_SEND_ALL:
      ch = c4j__chan_find(&w->chans, m->text, m->name_len);
      if (ch != NULL) {
        /* Sending may close a slow consumer, which unlinks its own node
         * (and frees the channel with the last one): read next first and
         * never touch ch afterwards. */
        c4j__sub_t *s = ch->subs, *next;
        for (; s != NULL; s = next) {
          next = s->next;
          c4j__conn_send_sub(s->conn, s, m->buf);
        }
      }
      /* Timed until the flush has written every connection queued so
       * far (or when the list of those timed is full, until now). */
      if (m->fan != NULL && w->nfans < C4J__MAX_FANS) {
        w->fan_at[w->nfans] = w->flushed + w->flush_len;
        w->fans[w->nfans++] = m->fan;
        m->fan = NULL;
      }
      break;
    case C4J__MSG_SEND_TO:
      if ((c = find_conn(w, m)) != NULL) c4j__conn_send(c, m->buf);
      break;
    case C4J__MSG_SEND_USER:
      ch = c4j__chan_find(&w->users, m->text, m->name_len);
      if (ch != NULL) {
        /* As for SEND_ALL: a send may close a slow consumer and free its
         * node, and the user's entry with the last one. */
        c4j__sub_t *s = ch->subs, *next;
        for (; s != NULL; s = next) {
          next = s->next;
          c4j__conn_send(s->conn, m->buf);
        }
      }
      break;
    case C4J__MSG_SUB:
    case C4J__MSG_UNSUB:
      return command(w, m);
    case C4J__MSG_DROP:
      if ((c = find_conn(w, m)) != NULL)
        c4j__conn_close(c, m->code, m->reason, 0);
      break;
    case C4J__MSG_TAKE:
      c4j__identity_take(w, m->text, m->name_len, m->code, m->seq);
      break;
    case C4J__MSG_KEPT:
      c4j__identity_kept(w, m->text, m->name_len, m->buf);
      break;
    case C4J__MSG_TOUCH:
      c4j__identity_touch(w, m->text, m->name_len);
      break;
    case C4J__MSG_API_REPLY:
      c4j__cmd_api_reply(w, m->seq, m->code, m->buf);
      break;
    default:
      break;
  }
  return 0;
}

static void stop_walk_cb(uv_handle_t *h, void *arg) {
  c4j__conn_t *c;
  if (h->type == UV_NAMED_PIPE && !uv_is_closing(h)) {
    c4j__listener_sink_close(h); /* a dummy's other end (listener.h) */
    return;
  }
  if (h->type != UV_TCP || uv_is_closing(h)) return;
  c = (c4j__conn_t *)h;
  if (c->state == C4J__CONN_OPEN) {
    c4j__conn_close(c, C4J_CLOSE_GOING_AWAY, "server stopping", 0);
    c4j__conn_flush(c); /* best effort: whatever the kernel takes now */
  }
  c4j__conn_abort(c);
}

/* Closes every handle and drops every ghost (no dying phase at stop);
 * uv_run returns once the handles' callbacks have run. */
static void begin_stop(c4j__worker_t *w) {
  if (w->stopping) return;
  w->stopping = 1;
  c4j__listener_stop(w);
  uv_walk(&w->loop, stop_walk_cb, w);
  while (w->ghosts != NULL)
    c4j__conn_close(w->ghosts, C4J_CLOSE_GOING_AWAY, "server stopping", 1);
  if (w->handles & H_TICK) uv_close((uv_handle_t *)&w->tick, NULL);
  if (w->handles & H_BATCH) uv_close((uv_handle_t *)&w->batch_timer, NULL);
  if (w->handles & H_FLUSH) {
    uv_close((uv_handle_t *)&w->flush, NULL);
    uv_close((uv_handle_t *)&w->flush_io, NULL);
    uv_close((uv_handle_t *)&w->flush_more, NULL);
  }
  if (w->handles & H_ASYNC) uv_close((uv_handle_t *)&w->async, NULL);
}

/* Puts m at the end of the commands waiting for the next tick. */
static void keep_for_later(c4j__worker_t *w, c4j__msg_t *m) {
  c4j__qnode_t **tail = &w->later;
  while (*tail != NULL) tail = (c4j__qnode_t **)&(*tail)->next;
  atomic_store(&m->node.next, NULL);
  *tail = &m->node;
}

/* Hands the waiting commands in again, oldest first; on a tick (`tick`)
 * each counts one wait more.  A command still waiting after RETRY_TICKS
 * ticks is given up (its identity never became a ghost: it was dropped
 * for good, and the command with it), and the next one of its identity
 * has its turn. */
#define RETRY_TICKS 20
static void retry_later(c4j__worker_t *w, int tick) {
  c4j__qnode_t *n = w->later, *next;
  w->later = NULL;
  for (; n != NULL; n = next) {
    c4j__msg_t *m = C4J__CONTAINER_OF(n, c4j__msg_t, node);
    int r;
    next = atomic_load(&n->next);
    r = handle(w, m);
    if (r == KEEP && (!tick || ++m->code < RETRY_TICKS)) {
      keep_for_later(w, m);
    } else if (r != MOVED) {
      if (r == KEEP)
        c4j__held_cmd_done(&w->engine->held, m->text, m->name_len, m->seq);
      c4j__msg_free(m);
    }
  }
}

static void async_cb(uv_async_t *a) {
  c4j__worker_t *w = C4J__CONTAINER_OF(a, c4j__worker_t, async);
  c4j__qnode_t *n;
  int r;
  w->applied = 0;
  while ((n = c4j__mpsc_pop(&w->inbox)) != NULL) {
    if (n == &w->stop_node) {
      begin_stop(w);
      continue;
    }
    c4j__msg_t *m = C4J__CONTAINER_OF(n, c4j__msg_t, node);
    if ((r = handle(w, m)) == KEEP)
      keep_for_later(w, m);
    else if (r == DONE)
      c4j__msg_free(m);
  }
  /* A command applied may be the one that others of its identity wait
   * for: they go on now, not at the next tick. */
  while (w->applied && w->later != NULL) {
    w->applied = 0;
    retry_later(w, 0);
  }
}

/* ---- The tick ------------------------------------------------------------- */

typedef struct {
  uint32_t now;
  int ping;
  uint64_t queued; /* bytes queued to the connections walked */
} tick_t;

static void tick_walk_cb(uv_handle_t *h, void *arg) {
  tick_t *t = arg;
  if (h->type != UV_TCP || uv_is_closing(h)) return;
  c4j__conn_tick((c4j__conn_t *)h, t->now, t->ping);
  t->queued += ((c4j__conn_t *)h)->queued;
}

static void tick_cb(uv_timer_t *timer) {
  c4j__worker_t *w = C4J__CONTAINER_OF(timer, c4j__worker_t, tick);
  tick_t t;
  t.now = c4j__worker_now(w);
  t.ping = (int32_t)(t.now - w->next_ping) >= 0;
  if (t.ping) w->next_ping = t.now + (uint32_t)w->engine->cfg.heartbeat_ms;
  c4j__listener_resume(w);
  if (w->index == 0) c4j__listener_report(w);
  c4j__request_report(w);
  retry_later(w, 1);
  t.queued = 0;
  uv_walk(&w->loop, tick_walk_cb, &t);
  for (c4j__conn_t *g = w->ghosts, *next; g != NULL; g = next) {
    next = g->gnext; /* the tick may free g */
    t.queued += g->queued;
    c4j__identity_ghost_tick(g, t.now);
  }
  atomic_store_explicit(&w->out_queued, t.queued, memory_order_relaxed);
}

/* ---- The flush ------------------------------------------------------------ */

/* Only keeps the loop from waiting while connections wait to be written:
 * the prepare and check callbacks write them. */
static void more_cb(uv_idle_t *h) { (void)h; }

/* Twice a loop turn: before the loop waits for I/O (after the timers) and
 * right after the I/O callbacks, the connections that got output (from
 * reads, the inbox, timers) are written, each once, whatever number of
 * frames it got, oldest first, FLUSH_SLICE of them at a time: while some
 * are left, the loop polls without waiting between two slices, so that
 * the inbox (more broadcasts, which the connections still waiting take
 * into the same write, and the API's answers) and new requests are not
 * held up for a whole fan-out to 10,000 sockets.  A connection closed
 * while on the list is freed here (C4J__CONN_GONE, conn.c's close
 * callback). */
#define FLUSH_SLICE 512

static void flush(c4j__worker_t *w) {
  c4j__conn_t *c;
  int n, k;
  /* Count before writing, so that whoever reads a frame sees it counted. */
  if (w->messages_out > 0) {
    atomic_fetch_add_explicit(&w->engine->messages_out, w->messages_out,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&w->engine->bytes_out, w->bytes_out,
                              memory_order_relaxed);
    w->messages_out = w->bytes_out = 0;
  }
#ifndef C4J_NO_METRICS
  if (w->messages_in > 0) {
    atomic_fetch_add_explicit(&w->engine->messages_in, w->messages_in,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&w->engine->bytes_in, w->bytes_in,
                              memory_order_relaxed);
    w->messages_in = w->bytes_in = 0;
  }
#endif
  for (n = 0; n < FLUSH_SLICE && (c = w->flush_list) != NULL; n++) {
    if ((w->flush_list = c->flush_next) == NULL) w->flush_tail = NULL;
    c->flush_next = NULL;
    c->flags &= (uint16_t)~C4J__F_IN_FLUSH;
    w->flush_len--;
    w->flushed++;
    if (c->state == C4J__CONN_GONE) c4j__free(c);
    else c4j__conn_flush(c);
  }
  /* The broadcasts whose connections are all written, oldest first. */
  for (k = 0; k < w->nfans && (w->flush_list == NULL ||
                               w->flushed >= w->fan_at[k]); k++)
    c4j__fan_done(w->fans[k]);
  if (k > 0) {
    w->nfans -= k;
    memmove(w->fans, w->fans + k, (size_t)w->nfans * sizeof(w->fans[0]));
    memmove(w->fan_at, w->fan_at + k, (size_t)w->nfans * sizeof(w->fan_at[0]));
  }
  if (w->flush_list != NULL) uv_idle_start(&w->flush_more, more_cb);
  else uv_idle_stop(&w->flush_more);
}

static void prepare_cb(uv_prepare_t *p) {
  flush(C4J__CONTAINER_OF(p, c4j__worker_t, flush));
}

static void check_cb(uv_check_t *p) {
  flush(C4J__CONTAINER_OF(p, c4j__worker_t, flush_io));
}

/* ---- Life cycle ----------------------------------------------------------- */

int c4j__worker_init(c4j__worker_t *w, c4j_engine_t *e, int index) {
  const c4j_config_t *cfg = &e->cfg;
  static const uint8_t ping[2] = { 0x80 | C4J_WS_OP_PING, 0 };
  uint32_t period = 1000;
  int rc;

  w->engine = e;
  w->index = index;
  c4j__mpsc_init(&w->inbox);
  c4j__chan_index_init(&w->chans);
  c4j__chan_index_init(&w->users);
  c4j__cid_map_init(&w->cids);
  w->start_ms = c4j__mono_ms();
  w->next_ping = (uint32_t)cfg->heartbeat_ms;
  w->ping = c4j__buf_copy(ping, sizeof(ping));
  w->pong_text = c4j__frame_text(C4J__FRAME_PONG, strlen(C4J__FRAME_PONG));
  w->comment = c4j__buf_copy(":\n\n", 3);
  if (w->ping == NULL || w->pong_text == NULL || w->comment == NULL)
    return C4J_ENOMEM;
  /* permessage-deflate's streams: zlib allocates them at their first use;
   * made here, so that the statistics read a pointer that never moves. */
  if (cfg->deflate && (w->zip = c4j__zip_new()) == NULL) return C4J_ENOMEM;
  rc = uv_loop_init(&w->loop);
  if (rc != 0) return rc;
  w->loop_ready = 1;
  rc = uv_async_init(&w->loop, &w->async, async_cb);
  if (rc != 0) return rc;
  w->handles |= H_ASYNC;
  uv_timer_init(&w->loop, &w->tick);
  w->handles |= H_TICK;
  uv_timer_init(&w->loop, &w->batch_timer);
  w->handles |= H_BATCH;
  uv_prepare_init(&w->loop, &w->flush);
  uv_check_init(&w->loop, &w->flush_io);
  uv_idle_init(&w->loop, &w->flush_more);
  w->handles |= H_FLUSH;
  if ((rc = uv_prepare_start(&w->flush, prepare_cb)) != 0 ||
      (rc = uv_check_start(&w->flush_io, check_cb)) != 0)
    return rc;
  /* One tick a second, finer when a configured period is shorter. */
  if ((uint32_t)cfg->heartbeat_ms / 2 < period) period = cfg->heartbeat_ms / 2;
  if ((uint32_t)cfg->handshake_timeout_ms / 2 < period)
    period = cfg->handshake_timeout_ms / 2;
  if (e->api_key != NULL && (uint32_t)cfg->api_timeout_ms / 2 < period)
    period = (uint32_t)cfg->api_timeout_ms / 2;
  if (period < 20) period = 20;
  w->tick_ms = period;
  return uv_timer_start(&w->tick, tick_cb, period, period);
}

static void thread_main(void *arg) {
  c4j__worker_t *w = arg;
  char name[16];
  /* Named, so that top -H and perf tell the loops apart from the JVM's. */
  snprintf(name, sizeof(name), "c4j-worker-%d", w->index);
  pthread_setname_np(pthread_self(), name);
  uv_run(&w->loop, UV_RUN_DEFAULT);
}

int c4j__worker_run(c4j__worker_t *w) {
  int rc = uv_thread_create(&w->thread, thread_main, w);
  if (rc == 0) w->thread_started = 1;
  return rc;
}

void c4j__worker_stop(c4j__worker_t *w) {
  if (w->thread_started) {
    c4j__worker_push(w, &w->stop_node);
    uv_thread_join(&w->thread);
    w->thread_started = 0;
  } else if (w->loop_ready && !w->stopping) {
    /* Never ran: close the handles here, on the only thread using it. */
    begin_stop(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
  }
}

void c4j__worker_free(c4j__worker_t *w) {
  c4j__qnode_t *n;
  c4j__conn_t *c;
  if (w->loop_ready) {
    if (!w->stopping) c4j__worker_stop(w);
    /* Pushes in progress at stop time cannot exist (see engine.h); what
     * is left here arrived before the stop and was never handled. */
    while ((n = c4j__mpsc_pop(&w->inbox)) != NULL) {
      c4j__msg_t *m;
      if (n == &w->stop_node) continue;
      m = C4J__CONTAINER_OF(n, c4j__msg_t, node);
      if (m->type == C4J__MSG_FD && m->fd < 0) {
        if (m->sink >= 0) close(m->sink);
      } else if (m->type == C4J__MSG_FD) {
        close(m->fd);
        if (m->sink >= 0) close(m->sink);
        c4j__listener_unplace(w->engine, m->seq, m->code);
      }
      c4j__msg_free(m);
    }
    while ((n = w->later) != NULL) {
      w->later = atomic_load(&n->next);
      c4j__msg_free(C4J__CONTAINER_OF(n, c4j__msg_t, node));
    }
    for (int i = 0; i < w->nfans; i++) c4j__fan_done(w->fans[i]);
    w->nfans = 0;
    if (uv_loop_close(&w->loop) == UV_EBUSY) {
      uv_run(&w->loop, UV_RUN_DEFAULT);
      uv_loop_close(&w->loop);
    }
    /* Every socket is closed now: what the flush list still holds is
     * gone (C4J__CONN_GONE). */
    while ((c = w->flush_list) != NULL) {
      w->flush_list = c->flush_next;
      c4j__free(c);
    }
    w->flush_tail = NULL;
    w->flush_len = 0;
    w->loop_ready = 0;
  }
  c4j__buf_unref(w->ping);
  c4j__buf_unref(w->pong_text);
  c4j__buf_unref(w->comment);
  w->ping = w->pong_text = w->comment = NULL;
  c4j__chan_index_free(&w->chans);
  c4j__chan_index_free(&w->users);
  c4j__cid_map_free(&w->cids);
  c4j__tls_worker_free(w);
  c4j__zip_free(w->zip);
  w->zip = NULL;
}
