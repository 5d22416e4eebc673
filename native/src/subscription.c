/* subscription.c - run-time (un)subscriptions of an identity held by this
 * worker (c4j_subscribe, c4j_unsubscribe): an attached connection's (or
 * a parked one's without history) live in the worker's channel index; a
 * ghost's channel set and positions live in the held register, which the
 * next connection of the identity subscribes from.  Every subscription
 * with an ack id gets an answer: its ack, or an err (4290 over
 * C4J_MAX_CHANNELS, 5030 out of memory).
 */
#include <string.h>

#include "common.h"
#include "conn.h"
#include "engine.h"
#include "frames.h"

#define ERR_TOO_MANY 4290
#define ERR_BUSY 5030

/* Whether c's subscriptions are the model (attached, or a parked ghost
 * without history, which queues broadcasts); otherwise its channel set
 * and positions live in the held register, and a parked ghost's
 * subscriptions in the index only follow it (they queue what has no
 * offset, identity.c). */
static int subs_live(c4j__conn_t *c) {
  return c->state == C4J__CONN_OPEN ||
         (c->state == C4J__CONN_PARKED && c4j__conn_engine(c)->hist.size == 0);
}

/* Whether c is a socket on its way to becoming a ghost: neither attached
 * nor a ghost yet. */
static int in_transition(const c4j__conn_t *c) {
  return c->state != C4J__CONN_OPEN && c->state != C4J__CONN_PARKED &&
         c->state != C4J__CONN_DYING;
}

/* Refuses c's subscription to channel: the embedder hears it
 * (C4J_EV_SUB with the code) and the page gets the err answer (none
 * without an ack id). */
static void refuse(c4j__conn_t *c, const char *channel, size_t chlen,
                   int64_t id, int code, const char *why) {
  c4j__events_sub(&c4j__conn_engine(c)->events, c->cid->id, channel, chlen,
                  1, code);
  if (id >= 0) c4j__conn_send_new(c, c4j__frame_err(id, code, why));
}

/* Adds channel to a ghost's channel set in the held register, at off of
 * hist (or where the set already has it).  Returns 0, the err code, or -1
 * when this worker no longer holds the id (nothing to answer). */
static int add_to_ghost(c4j__worker_t *w, c4j__cid_t *id, const char *channel,
                        size_t chlen, const void **hist, uint64_t *off) {
  c4j_engine_t *e = w->engine;
  c4j__names_t *set, *more;
  int rc;
  if (!c4j__held_chans(&e->held, id->id, w->index, &set)) return -1;
  if (c4j__names_has(set, channel, chlen)) {
    c4j__free(set);
    if (*hist != NULL)
      c4j__held_update(&e->held, id->id, w->index, NULL, *hist, off, 0);
    return 0;
  }
  if (set != NULL && set->n >= C4J_MAX_CHANNELS) {
    c4j__free(set);
    return ERR_TOO_MANY;
  }
  more = c4j__names_with(set, channel, chlen);
  c4j__free(set);
  if (more == NULL) return ERR_BUSY;
  rc = c4j__held_update(&e->held, id->id, w->index, more, *hist, off, 1);
  return rc < 0 ? ERR_BUSY : rc == 0 ? -1 : 0;
}

/* A live subscription of c to channel that starts after off: the
 * broadcasts above off that reached this worker before the command's
 * turn (it waited for an earlier one, or followed its identity from
 * another worker) come from the history, in order; the `last` of the
 * subscription skips them when they come again.  A gap older than the
 * history is said with a `recovered` false frame.  Only an attached
 * connection's: a parked ghost with a history starts the channel at off
 * in the held register, where its next poll's replay begins, and its
 * subscription in the index takes only what has no offset. */
static void catch_up(c4j__conn_t *c, const char *channel, const void *hist,
                     uint64_t off) {
  c4j_engine_t *e = c4j__conn_engine(c);
  c4j__sub_t *s;
  c4j__buf_t **missed = NULL;
  size_t n = 0, k = 0;
  int rc;
  c4j__hist_lock(&e->hist);
  rc = c4j__hist_after(&e->hist, (c4j__hist_chan_t *)hist, off,
                       c4j__mono_ms(), &missed, &n);
  c4j__hist_unlock(&e->hist);
  s = c4j__chan_sub_of(c->subs, channel, strlen(channel));
  /* Sending may close c (a slow consumer), which frees s. */
  for (; k < n && s != NULL && c->state == C4J__CONN_OPEN; k++)
    c4j__conn_send_sub(c, s, missed[k]);
  for (k = 0; k < n; k++) c4j__buf_unref(missed[k]);
  c4j__free(missed);
  if (rc != 1 && c->state == C4J__CONN_OPEN) /* or out of memory */
    c4j__conn_send_new(c, c4j__frame_recovered(channel, 0));
}

int c4j__subscription_add(c4j__worker_t *w, const char *cid, size_t len,
                          const char *channel, int64_t ack_id,
                          const void *hist, uint64_t off) {
  c4j_engine_t *e = w->engine;
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  size_t chlen = strlen(channel);
  c4j__conn_t *c;
  int err = 0, fresh = 0;
  if (id == NULL) return 0;
  c = id->conn;
  if (in_transition(c)) return C4J__LATER;
  if (subs_live(c)) {
    c4j__sub_t *s = c4j__chan_sub_of(c->subs, channel, chlen);
    size_t n = 0;
    if (s == NULL) {
      for (s = c->subs; s; s = s->conn_next) n++;
      if (n >= C4J_MAX_CHANNELS) {
        refuse(c, channel, chlen, ack_id, ERR_TOO_MANY,
               "too many subscriptions");
        return 0;
      }
      if (c4j__chan_subscribe(&w->chans, channel, chlen, c, &c->subs) != 0) {
        refuse(c, channel, chlen, ack_id, ERR_BUSY, "out of memory");
        return 0;
      }
      s = c->subs; /* the new node is the head */
      /* The subscription starts after off (those at or below it are
       * skipped: `last`); what came above it before this command's turn
       * is replayed below. */
      s->hist = hist;
      s->last = off;
      c4j__held_update(&e->held, id->id, w->index, c4j__names_of(c->subs),
                       NULL, NULL, 0);
      fresh = 1;
    }
    hist = s->hist;
    off = s->last;
  } else if ((err = add_to_ghost(w, id, channel, chlen, &hist, &off)) != 0) {
    if (err < 0) return 0;
    refuse(c, channel, chlen, ack_id, err,
           err == ERR_TOO_MANY ? "too many subscriptions" : "out of memory");
    return 0;
  } else if (c->state == C4J__CONN_PARKED &&
             c4j__chan_sub_of(c->subs, channel, chlen) == NULL &&
             c4j__chan_subscribe(&w->chans, channel, chlen, c, &c->subs) == 0) {
    c->subs->hist = hist; /* out of memory: only what has no offset waits */
    c->subs->last = off;
  }
  /* Decided: the register follows (nothing when subscribed already). */
  c4j__identity_joined(c, channel, chlen);
  if (ack_id >= 0)
    c4j__conn_send_new(c, c4j__frame_ack(ack_id, channel, chlen, hist, off));
  if (fresh && hist != NULL) catch_up(c, channel, hist, off);
  return 0;
}

int c4j__subscription_remove(c4j__worker_t *w, const char *cid, size_t len,
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
    if (c4j__chan_unsubscribe(&w->chans, &c->subs, channel, chlen)) {
      c4j__held_update(&e->held, id->id, w->index, c4j__names_of(c->subs),
                       NULL, NULL, 0);
      c4j__identity_left(c, channel, chlen);
    }
    return 0;
  }
  if (c->state == C4J__CONN_PARKED)
    c4j__chan_unsubscribe(&w->chans, &c->subs, channel, chlen);
  if (!c4j__held_chans(&e->held, id->id, w->index, &set)) return 0;
  if (c4j__names_has(set, channel, chlen) &&
      (less = c4j__names_without(set, channel, chlen)) != NULL &&
      c4j__held_update(&e->held, id->id, w->index, less, NULL, NULL, 0) == 1)
    c4j__identity_left(c, channel, chlen);
  c4j__free(set);
  return 0;
}
