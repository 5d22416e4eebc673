/* poll.c - the hold of the HTTP transports: a waiting long-poll is
 * answered with the frames queued to it as soon as it has one (frames
 * ready within BATCH_MS of the first share the answer: the worker's batch
 * list and timer) or after the poll hold with [], and an SSE stream held
 * hold_ms (Comet4J's Comet.Timeout) is ended; either way the identity is
 * parked as a ghost until the client's next request.
 */
#include "common.h"
#include "conn.h"
#include "engine.h"
#include "stream.h"

#define BATCH_MS 5 /* frames ready this soon after the first share a poll */

uint32_t c4j__poll_hold(const c4j__worker_t *w) {
  const c4j_config_t *cfg = &w->engine->cfg;
  uint32_t half, wait;
  if (cfg->hold_ms <= 0) {
    half = (uint32_t)cfg->idle_timeout_ms / 2;
    return half < 25000 ? half : 25000;
  }
  /* A client that read `timeout` = hold_ms gives a poll min(25000,
   * timeout / 2) + heartbeat before it calls it lost (docs/protocol.md,
   * section 6): answer within that, with half a heartbeat to spare. */
  half = (uint32_t)cfg->hold_ms / 2;
  wait = (half < 25000 ? half : 25000) + (uint32_t)cfg->heartbeat_ms / 2;
  return (uint32_t)cfg->hold_ms < wait ? (uint32_t)cfg->hold_ms : wait;
}

int c4j__poll_end_stream(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  /* Ended with nothing unwritten, the positions the ghost leaves are
   * exact: the next request replays from there, neither gap nor twice. */
  if (c->out_len > 0 || c->wreq != NULL) return 0;
  if (c4j__identity_to_ghost(c, C4J__CONN_PARKED, 0, NULL) == NULL) {
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return 1;
  }
  /* The response has no length: its end is the close, once this last
   * comment line is written. */
  c->state = C4J__CONN_REFUSING;
  if (c4j__conn_push_out(c, c4j__buf_ref(w->comment, 1)) < 0) {
    c4j__buf_unref(w->comment);
    c4j__conn_abort(c);
  }
  return 1;
}

static void batch_cb(uv_timer_t *timer) {
  c4j__worker_t *w = C4J__CONTAINER_OF(timer, c4j__worker_t, batch_timer);
  while (w->batch != NULL) c4j__poll_answer(w->batch);
}

void c4j__poll_batch(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  if (c->flags & C4J__F_BATCH) return;
  c->flags |= C4J__F_BATCH;
  c4j__conn_list_add(&w->batch, c);
  if (!uv_is_active((uv_handle_t *)&w->batch_timer))
    uv_timer_start(&w->batch_timer, batch_cb, BATCH_MS, 0);
}

void c4j__poll_unbatch(c4j__conn_t *c) {
  if (!(c->flags & C4J__F_BATCH)) return;
  c->flags &= (uint16_t)~C4J__F_BATCH;
  c4j__conn_list_remove(&c4j__conn_worker(c)->batch, c);
}

void c4j__poll_answer(c4j__conn_t *c) {
  c4j__buf_t *frames[C4J__MAX_IOV * 4], *resp;
  c4j__conn_t *g = NULL;
  size_t n = 0;
  c4j__poll_unbatch(c);
  /* A poll answers at most this many frames; the rest stays parked. */
  while (c->out_len > 0 && n < sizeof(frames) / sizeof(frames[0])) {
    frames[n] = c4j__conn_pop_out(c);
    c->queued -= frames[n]->len;
    n++;
  }
  resp = c4j__stream_poll_body(frames, n, c->u.acao);
  if (resp == NULL ||
      (g = c4j__identity_to_ghost(c, C4J__CONN_PARKED, 0, NULL)) == NULL) {
    for (size_t i = 0; i < n; i++) c4j__buf_unref(frames[i]);
    c4j__buf_unref(resp);
    c4j__conn_close(c, C4J_CLOSE_INTERNAL, "out of memory", 1);
    return;
  }
  for (size_t i = 0; i < n; i++) c4j__buf_unref(frames[i]);
  /* Frames that did not fit wait in the ghost for the next poll, except
   * broadcasts with a history: the next poll replays those. */
  while (c->out_len > 0) {
    c4j__buf_t *b = c4j__conn_pop_out(c);
    c->queued -= b->len;
    if (b->chan != NULL || c4j__conn_push_out(g, b) < 0) c4j__buf_unref(b);
  }
  c->state = C4J__CONN_REFUSING;
  if (c4j__conn_push_out(c, resp) < 0) {
    c4j__buf_unref(resp);
    c4j__conn_abort(c);
  }
}
