/* deliver.c - local delivery (deliver.h): one frame, one inbox message per
 * worker, all or nothing.
 */
#include <string.h>

#include "common.h"
#include "deliver.h"
#include "frames.h"
#include "worker.h"

/* Makes one message of type for each worker, all or nothing: returns
 * their count, or C4J_ENOMEM with none left allocated. */
static int new_msgs(c4j_engine_t *e, c4j__msg_t **msgs, int type,
                    const char *name, size_t name_len, const char *reason) {
  int rc = c4j__msgs_new(msgs, e->nworkers, type, name, name_len, reason);
  return rc < 0 ? rc : e->nworkers;
}

/* Pushes one message of type to every worker, all sharing buf (whose
 * reference is taken over, NULL for none).  All or nothing. */
static int push_all(c4j_engine_t *e, int type, const char *name,
                    size_t name_len, c4j__buf_t *buf, int code,
                    const char *reason) {
  c4j__msg_t *msgs[256];
  int n, i;
  if (!c4j__engine_enter(e)) {
    c4j__buf_unref(buf);
    return c4j__engine_refusal(e);
  }
  n = new_msgs(e, msgs, type, name, name_len, reason);
  if (n < 0) {
    c4j__engine_leave(e);
    c4j__buf_unref(buf);
    return n;
  }
  for (i = 0; i < n; i++) msgs[i]->code = code;
  if (type == C4J__MSG_SEND_ALL) { /* timed until every worker wrote it */
    c4j__fan_t *fan = c4j__fan_new(&e->fanout, n);
    for (i = 0; i < n; i++) msgs[i]->fan = fan;
  }
  if (buf != NULL && n > 1) c4j__buf_ref(buf, (unsigned)n - 1);
  for (i = 0; i < n; i++) {
    msgs[i]->buf = buf;
    c4j__worker_push(e->workers[i], &msgs[i]->node);
  }
  c4j__engine_leave(e);
  return 0;
}

/* ---- Broadcasts ----------------------------------------------------------- */

int c4j__deliver_publish(c4j_engine_t *e, const char *ch, size_t ch_len,
                         c4j__hist_chan_t *hc, const char *u,
                         const char *json, size_t json_len, int64_t time_ms,
                         int push) {
  c4j__buf_t *buf;
  int rc = 0;
  if (hc != NULL && c4j__hist_reserve(&e->hist, hc) != 0) return C4J_ENOMEM;
  rc = c4j__frame_msg(e->cfg.max_queue, ch, ch_len, hc, u, json, json_len,
                      time_ms, &buf);
  if (rc != 0) return rc;
  if (hc == NULL) /* no history: nothing to keep */
    return push ? push_all(e, C4J__MSG_SEND_ALL, ch, ch_len, buf, 0, NULL)
                : (c4j__buf_unref(buf), 0);
  if (push) {
    c4j__buf_ref(buf, 1); /* kept for the history if the push succeeds */
    rc = push_all(e, C4J__MSG_SEND_ALL, ch, ch_len, buf, 0, NULL);
  }
  if (rc == 0) c4j__hist_append(&e->hist, hc, buf, c4j__mono_ms());
  c4j__buf_unref(buf);
  return rc;
}

int c4j__deliver_all(c4j_engine_t *e, const char *ch, size_t ch_len,
                     const char *json, size_t json_len, int64_t time_ms) {
  c4j__hist_chan_t *hc;
  int rc;
  if (e->hist.size == 0)
    return c4j__deliver_publish(e, ch, ch_len, NULL, NULL, json, json_len,
                                time_ms, 1);
  /* Nothing here blocks on I/O: building the frame is a copy, a push is a
   * few atomics. */
  c4j__hist_lock(&e->hist);
  hc = c4j__hist_chan(&e->hist, ch, ch_len);
  rc = hc == NULL ? C4J_ENOMEM
                  : c4j__deliver_publish(e, ch, ch_len, hc, NULL, json,
                                         json_len, time_ms, 1);
  c4j__hist_unlock(&e->hist);
  return rc;
}

/* ---- To one connection or user -------------------------------------------- */

static int send_msg(c4j_engine_t *e, int type, const char *name,
                    size_t name_len, const char *ch, size_t ch_len,
                    const char *json, size_t json_len, int64_t time_ms) {
  c4j__buf_t *buf;
  int rc = c4j__frame_msg(e->cfg.max_queue, ch, ch_len, NULL, NULL, json,
                          json_len, time_ms ? time_ms : c4j__wall_ms(), &buf);
  if (rc != 0) return rc;
  return push_all(e, type, name, name_len, buf, 0, NULL);
}

int c4j__deliver_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                    const char *ch, size_t ch_len, const char *json,
                    size_t json_len, int64_t time_ms) {
  return send_msg(e, C4J__MSG_SEND_TO, cid, cid_len, ch, ch_len, json,
                  json_len, time_ms);
}

int c4j__deliver_user(c4j_engine_t *e, const char *user, size_t user_len,
                      const char *ch, size_t ch_len, const char *json,
                      size_t json_len, int64_t time_ms) {
  return send_msg(e, C4J__MSG_SEND_USER, user, user_len, ch, ch_len, json,
                  json_len, time_ms);
}

/* ---- Whole frames --------------------------------------------------------- */

static int whole_frame(c4j_engine_t *e, int type, const char *name,
                       size_t name_len, const char *frame, size_t len) {
  c4j__buf_t *buf;
  if (c4j_ws_header_len(len) + len > e->cfg.max_queue) return C4J_ETOOBIG;
  if ((buf = c4j__frame_text(frame, len)) == NULL) return C4J_ENOMEM;
  return push_all(e, type, name, name_len, buf, 0, NULL);
}

int c4j__deliver_frame(c4j_engine_t *e, const char *cid, size_t cid_len,
                       const char *frame, size_t len) {
  return whole_frame(e, C4J__MSG_SEND_TO, cid, cid_len, frame, len);
}

int c4j__deliver_channel_frame(c4j_engine_t *e, const char *ch,
                               size_t ch_len, const char *frame, size_t len) {
  return whole_frame(e, C4J__MSG_SEND_ALL, ch, ch_len, frame, len);
}

int c4j__deliver_lost(c4j_engine_t *e, const char *ch, size_t ch_len,
                      uint64_t lost) {
  c4j__buf_t *buf = c4j__frame_lost(ch, ch_len, lost);
  if (buf == NULL) return C4J_ENOMEM;
  return push_all(e, C4J__MSG_SEND_ALL, ch, ch_len, buf, 0, NULL);
}

/* ---- Commands and drops --------------------------------------------------- */

/* Pushes one command message (cid, channel, id) to the worker holding
 * cid, numbered in the identity's order (held.h): should cid move before
 * its turn, the command follows it.  A subscription carries its channel's
 * history and newest offset, read under the history's lock as publishers
 * assign theirs: every broadcast after the call is above that offset. */
static int command(c4j_engine_t *e, int type, const char *cid,
                   size_t cid_len, const char *channel, size_t channel_len,
                   int64_t id) {
  char ch[C4J_MAX_CHANNEL + 1];
  c4j__msg_t *m;
  int to;
  if (channel_len > C4J_MAX_CHANNEL) return C4J_EBADNAME;
  memcpy(ch, channel, channel_len);
  ch[channel_len] = '\0';
  if (!c4j__engine_enter(e)) return c4j__engine_refusal(e);
  if ((m = c4j__msg_new(type, cid, cid_len, ch)) == NULL) {
    c4j__engine_leave(e);
    return C4J_ENOMEM;
  }
  m->id = id;
  if (type == C4J__MSG_SUB && e->hist.size > 0) {
    c4j__hist_chan_t *hc;
    c4j__hist_lock(&e->hist);
    hc = c4j__hist_chan(&e->hist, ch, channel_len);
    m->hist = hc;
    m->off = hc ? hc->last : 0;
    c4j__hist_unlock(&e->hist);
  }
  m->seq = c4j__held_cmd_new(&e->held, cid, cid_len, &to);
  if (to < 0)
    c4j__msg_free(m); /* not held here: nothing to (un)subscribe */
  else
    c4j__worker_push(e->workers[to], &m->node);
  c4j__engine_leave(e);
  return 0;
}

int c4j__deliver_subscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                           const char *ch, size_t ch_len, int64_t ack_id) {
  return command(e, C4J__MSG_SUB, cid, cid_len, ch, ch_len, ack_id);
}

int c4j__deliver_unsubscribe(c4j_engine_t *e, const char *cid,
                             size_t cid_len, const char *ch, size_t ch_len) {
  return command(e, C4J__MSG_UNSUB, cid, cid_len, ch, ch_len, -1);
}

int c4j__deliver_drop(c4j_engine_t *e, const char *cid, size_t cid_len,
                      int code, const char *reason) {
  return push_all(e, C4J__MSG_DROP, cid, cid_len, NULL, code,
                  reason ? reason : "");
}

/* ---- HTTP API answers ----------------------------------------------------- */

int c4j__deliver_api_reply(c4j_engine_t *e, uint32_t id, int status,
                           const char *json, size_t len) {
  c4j__buf_t *buf;
  c4j__msg_t *m;
  unsigned wi;
  if (!c4j__engine_enter(e)) return c4j__engine_refusal(e);
  wi = id & 0xffu;
  if ((int)wi >= e->nworkers) {
    c4j__engine_leave(e);
    return C4J_ENOCONN;
  }
  /* The worker writes the head: whether the socket stays open is its. */
  buf = c4j__buf_copy(json, len);
  m = buf ? c4j__msg_new(C4J__MSG_API_REPLY, NULL, 0, NULL) : NULL;
  if (m == NULL) {
    c4j__buf_unref(buf);
    c4j__engine_leave(e);
    return C4J_ENOMEM;
  }
  m->seq = id;
  m->code = status;
  m->buf = buf;
  c4j__worker_push(e->workers[wi], &m->node);
  c4j__engine_leave(e);
  return 0;
}
