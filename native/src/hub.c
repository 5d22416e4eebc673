/* hub.c - the hub's meaning (see hub.h): the records that carry sends to
 * the other nodes, and what a record from another node does here, through
 * local delivery (deliver.h).  The link itself is redis.c's, which hears
 * of nothing above it: it calls back into this file through the table of
 * callbacks handed to c4j__redis_start.
 *
 * A broadcast from the bus is delivered in offset order: a record whose
 * offset is not the channel's next waits, with every later record of that
 * channel (up to hub_catchup_bytes; beyond, they are fetched too), while
 * the missing ones are fetched from the Redis history, page after page;
 * whatever Redis no longer has is skipped (the ring jumps), and the
 * channel's pages here are told how many they lost (a recovered:false
 * frame with "lost"), counted and logged.  Every broadcast carries its
 * message id "<node id>.<n>": a copy of one delivered here already (sent
 * again after a lost link) only goes into the ring.  This node's own
 * broadcasts reach its pages from the bus, or through local_cb when the
 * bus cannot bring them back in time (the link is down).  All of that
 * runs on the Redis thread, under the history lock, as a local broadcast
 * does.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "common.h"
#include "deliver.h"
#include "engine.h"
#include "frames.h"
#include "hub.h"
#include "redis.h"

/* A record waiting behind a fetch: its offset, and whether this node
 * sent it. */
typedef struct hub_rec_s {
  struct hub_rec_s *next;
  uint64_t offset;
  int own;
  size_t len;
  char text[];
} hub_rec_t;

/* A channel whose history is being fetched (after its newest offset
 * here: the channel's subscribers stand there), and the bus records that
 * arrived meanwhile (oldest first).  `asking`: a fetch is under way (none
 * while the link is down: one goes at link-up).  `overflow`: records of
 * other nodes were dropped since it was sent (over hub_catchup_bytes,
 * e->hub_held counts what all waits hold): they are fetched next, as when
 * the answer was a full page.  Owned by the Redis thread; the list is
 * short (channels with a fetch under way). */
typedef struct c4j__hub_wait_s {
  struct c4j__hub_wait_s *next;
  int asking, overflow;
  size_t bytes;
  hub_rec_t *head, *tail;
  size_t ch_len;
  char ch[C4J_MAX_CHANNEL + 1];
} hub_wait_t;

int c4j__hub_remote(const c4j_engine_t *e) { return e->redis != NULL; }

void c4j__hub_stats(c4j_engine_t *e, c4j_stats_t *out) {
  out->hub_lost = atomic_load(&e->hub_lost);
  out->hub_gaps = atomic_load(&e->hub_gaps);
  out->hub_duplicates = atomic_load(&e->hub_duplicates);
  if (e->redis == NULL) return;
  out->hub_up = (uint64_t)c4j__redis_up(e->redis);
  c4j__redis_stats(e->redis, &out->hub_outbox, &out->hub_refused);
}

/* ---- What redis.c tells, on the Redis thread ------------------------------ */

static void on_log(void *data, int level, const char *text) {
  c4j_engine_t *e = data;
  c4j__events_log(&e->events, level, text);
}

static void on_record(void *data, const char *rec, size_t len);
static void on_history(void *data, const char *ch, size_t ch_len,
                       const c4j__redis_entry_t *v, size_t n, int status,
                       uint64_t newest);
static int on_local(void *data, const char *ch, size_t ch_len,
                    const char *json, size_t len, int64_t time_ms,
                    const char *u);
static void on_link(void *data, int up);

/* A request popped from the action queue: an ACTION event. */
static int on_action(void *data, const char *json, size_t len) {
  c4j_engine_t *e = data;
  return c4j__events_action(&e->events, json, len);
}

/* ---- Start and stop ------------------------------------------------------- */

int c4j__hub_start(c4j_engine_t *e) {
  char epoch[C4J__EPOCH_LEN + 1], why[256], text[400];
  uint8_t rnd[6];
  c4j__redis_options_t o;
  c4j__redis_callbacks_t cb = { NULL,       on_log,    on_record,
                                on_history, on_local,  on_action,
                                on_link };
  int rc;
  if (e->hub[0] == '\0' || strcmp(e->hub, "local") == 0) return 0;
  if (c4j_new_id(e->node_id) != 0 || c4j__random(rnd, sizeof(rnd)) != 0)
    return C4J_ENOMEM;
  c4j_b64url_encode(rnd, sizeof(rnd), epoch);
  memset(&o, 0, sizeof(o));
  o.url = e->hub;
  o.prefix = e->hub_prefix;
  o.node_id = e->node_id;
  o.epoch = epoch;
  o.history_size = e->cfg.history_size;
  o.stream_len = e->cfg.hub_catchup_records;
  o.history_age_ms = e->cfg.history_age_ms;
  o.outbox_records = (size_t)e->cfg.hub_outbox_records;
  o.outbox_bytes = e->cfg.hub_outbox_bytes;
  o.listen_actions = e->cfg.listen_actions;
  o.timeout_ms = 2000;
  cb.data = e;
  why[0] = '\0';
  rc = c4j__redis_start(&o, &cb, e->hist.epoch, &e->redis, why, sizeof(why));
  if (rc != 0) {
    snprintf(text, sizeof(text), "hub: %s", why[0] ? why : c4j_strerror(rc));
    c4j__config_set_error(text);
    e->redis = NULL;
    return C4J_EHUB;
  }
  /* Sends right after start should find the bus linked, not the outbox:
   * wait for the first link (Redis just answered, so it comes at once). */
  for (int t = 0; t < 2000 && !c4j__redis_up(e->redis); t += 5) uv_sleep(5);
  return 0;
}

static void waits_free(c4j_engine_t *e) {
  while (e->hub_waits != NULL) {
    hub_wait_t *w = e->hub_waits;
    e->hub_waits = w->next;
    while (w->head != NULL) {
      hub_rec_t *r = w->head;
      w->head = r->next;
      c4j__free(r);
    }
    c4j__free(w);
  }
  e->hub_held = 0;
}

void c4j__hub_stop(c4j_engine_t *e) {
  if (e->redis == NULL) return;
  c4j__redis_stop(e->redis); /* the Redis thread is gone after this */
  e->redis = NULL;
  waits_free(e);
}

/* ---- Records ---------------------------------------------------------------- */

/* A record: a header of up to n tab-separated fields, '\n', a payload.
 * Returns the number of fields, or -1 when there is no header line. */
typedef struct {
  const char *f[8];
  size_t n[8];
  const char *payload;
  size_t payload_len;
} hub_fields_t;

static int split(const char *rec, size_t len, hub_fields_t *out) {
  const char *nl = memchr(rec, '\n', len), *p = rec;
  int k = 0;
  if (nl == NULL) return -1;
  while (k < 8) {
    const char *tab = memchr(p, '\t', (size_t)(nl - p));
    const char *end = tab ? tab : nl;
    out->f[k] = p;
    out->n[k++] = (size_t)(end - p);
    if (tab == NULL) break;
    p = tab + 1;
  }
  out->payload = nl + 1;
  out->payload_len = len - (size_t)(nl + 1 - rec);
  return k;
}

static int field_is(const hub_fields_t *r, int i, const char *s) {
  return r->n[i] == strlen(s) && memcmp(r->f[i], s, r->n[i]) == 0;
}

/* A decimal field; 0 when malformed. */
static uint64_t field_u64(const hub_fields_t *r, int i) {
  char tmp[24];
  if (r->n[i] == 0 || r->n[i] >= sizeof(tmp)) return 0;
  memcpy(tmp, r->f[i], r->n[i]);
  tmp[r->n[i]] = '\0';
  return strtoull(tmp, NULL, 10);
}

static int from_self(const c4j_engine_t *e, const hub_fields_t *r) {
  return field_is(r, 1, e->node_id);
}

/* Makes "<header>\n<payload>" (header made by the caller) and publishes
 * it on the bus. */
static int bus_send(c4j_engine_t *e, const char *header, size_t hlen,
                    const char *p1, size_t n1, const char *p2, size_t n2) {
  char *rec = c4j__malloc(hlen + 1 + n1 + n2);
  int rc;
  if (rec == NULL) return C4J_ENOMEM;
  memcpy(rec, header, hlen);
  rec[hlen] = '\n';
  if (n1) memcpy(rec + hlen + 1, p1, n1);
  if (n2) memcpy(rec + hlen + 1 + n1, p2, n2);
  rc = c4j__redis_bus(e->redis, rec, hlen + 1 + n1 + n2);
  c4j__free(rec);
  return rc;
}

/* ---- Message ids --------------------------------------------------------- */

/* A broadcast's message id "<node id>.<n>", split. */
typedef struct {
  const char *node;
  size_t node_len;
  uint64_t n;
} msg_id_t;

/* Parses u (len bytes); 0 when it is no message id. */
static int msg_id(const char *u, size_t len, msg_id_t *out) {
  const char *dot;
  uint64_t n = 0;
  if (u == NULL || (dot = memchr(u, '.', len)) == NULL || dot == u ||
      (size_t)(dot - u) > C4J__NODE_ID_LEN || dot + 1 == u + len ||
      u + len - dot > 20)
    return 0;
  for (const char *p = dot + 1; p < u + len; p++) {
    if (*p < '0' || *p > '9') return 0;
    n = n * 10 + (uint64_t)(*p - '0');
  }
  out->node = u;
  out->node_len = (size_t)(dot - u);
  out->n = n;
  return 1;
}

static int id_is_mine(const c4j_engine_t *e, const msg_id_t *id) {
  return id->node_len == strlen(e->node_id) &&
         memcmp(id->node, e->node_id, id->node_len) == 0;
}

/* What a broadcast says besides its data: its message id u (id.node
 * NULL, u "" when it has none: a node of an older version), whether its
 * node delivered it to its own pages itself (then the frames carry u: a
 * page that had that copy drops this one) and whether it is this
 * node's. */
typedef struct {
  char u[C4J__MSG_ID_CAP];
  msg_id_t id;              /* points into u */
  int local, own;
} bcast_t;

/* From a message id and whether it is local (n bytes at f). */
static void bcast_set(const c4j_engine_t *e, const char *f, size_t n,
                      int local, bcast_t *b) {
  memset(b, 0, sizeof(*b));
  if (f == NULL || n == 0 || n >= C4J__MSG_ID_CAP) return;
  memcpy(b->u, f, n);
  b->u[n] = '\0';
  if (!msg_id(b->u, n, &b->id)) {
    memset(b, 0, sizeof(*b));
    return;
  }
  b->local = local;
  b->own = id_is_mine(e, &b->id);
}

/* From an "m" record's field 6 ("-": none, "~<u>", or "<u>": local). */
static void bcast_of(const c4j_engine_t *e, const char *f, size_t n,
                     bcast_t *b) {
  int local = n > 0 && f[0] != '~';
  if (!local && n > 0) f++, n--;
  bcast_set(e, f, n, local, b);
}

/* The id a frame carries: only a local broadcast's. */
static const char *frame_u(const bcast_t *b) {
  return b->local && b->id.node != NULL ? b->u : NULL;
}

/* ---- Broadcasts from the bus ------------------------------------------------ */

static hub_wait_t *wait_find(c4j_engine_t *e, const char *ch, size_t len) {
  for (hub_wait_t *w = e->hub_waits; w != NULL; w = w->next)
    if (w->ch_len == len && memcmp(w->ch, ch, len) == 0) return w;
  return NULL;
}

/* Unlinks w and frees it with what it still holds. */
static void wait_end(c4j_engine_t *e, hub_wait_t *w) {
  for (hub_wait_t **pw = &e->hub_waits; *pw != NULL; pw = &(*pw)->next)
    if (*pw == w) {
      *pw = w->next;
      break;
    }
  while (w->head != NULL) {
    hub_rec_t *r = w->head;
    w->head = r->next;
    c4j__free(r);
  }
  e->hub_held -= w->bytes;
  c4j__free(w);
}

/* Holds record rec (offset, this node's or not) behind w's fetch.  Over
 * hub_catchup_bytes another node's record is dropped (fetched later from
 * Redis); this node's are always kept (its pages may need them before
 * Redis is back: on_local). */
static void wait_add(c4j_engine_t *e, hub_wait_t *w, const char *rec,
                     size_t len, uint64_t offset, int own) {
  hub_rec_t *r;
  if (!own && e->hub_held + len > e->cfg.hub_catchup_bytes) {
    w->overflow = 1;
    return;
  }
  if ((r = c4j__malloc(sizeof(*r) + len)) == NULL) {
    w->overflow = 1; /* it is in Redis: fetched with the rest */
    return;
  }
  r->next = NULL;
  r->offset = offset;
  r->own = own;
  r->len = len;
  memcpy(r->text, rec, len);
  if (w->tail) w->tail->next = r;
  else w->head = r;
  w->tail = r;
  w->bytes += len;
  e->hub_held += len;
}

/* Asks for what the channel lacks after offset `after`. */
static void ask(c4j_engine_t *e, hub_wait_t *w, uint64_t after) {
  w->asking = 1;
  w->overflow = 0;
  if (c4j__redis_fetch(e->redis, w->ch, w->ch_len, after) != 0) {
    w->asking = 0; /* asked again at the next link-up */
    c4j__events_log(&e->events, 1, "hub: cannot fetch a channel's history");
  }
}

/* With the history lock held: a new wait for hc (none yet), asking. */
static hub_wait_t *wait_new(c4j_engine_t *e, c4j__hist_chan_t *hc) {
  size_t n = strlen(hc->name);
  hub_wait_t *w = c4j__calloc(1, sizeof(*w));
  if (w == NULL) return NULL;
  w->ch_len = n;
  memcpy(w->ch, hc->name, n);
  w->next = e->hub_waits;
  e->hub_waits = w;
  return w;
}

/* With the history lock held: n broadcasts of hc before offset `before`
 * are lost here (Redis no longer has them, or there was no memory):
 * counted, logged, and the channel's pages here are told. */
static void lost(c4j_engine_t *e, c4j__hist_chan_t *hc, uint64_t n,
                 uint64_t before) {
  char text[C4J_MAX_CHANNEL + 256];
  size_t len = strlen(hc->name);
  atomic_fetch_add(&e->hub_lost, n);
  atomic_fetch_add(&e->hub_gaps, 1);
  snprintf(text, sizeof(text),
           "hub: channel %s: %llu broadcasts lost here (offsets %llu to %llu "
           "were gone from Redis before this node fetched them: see "
           "Comet.HubCatchUpRecords); its pages were told",
           hc->name, (unsigned long long)n,
           (unsigned long long)(before - n), (unsigned long long)(before - 1));
  c4j__events_log(&e->events, 1, text);
  c4j__deliver_lost(e, hc->name, len, n);
}

/* With the history lock held: delivers the broadcast at offset to this
 * node, in offset order, jumping over what was never seen here (told to
 * the pages when push: their position was before the jump).  push 0:
 * keep it in the ring only.  b: its ids.  A copy of a broadcast delivered here
 * already only goes into the ring; an offset this node has already,
 * holding a broadcast never seen here (Redis restarted empty and gave
 * the offset again), is delivered without an offset. */
static void deliver(c4j_engine_t *e, c4j__hist_chan_t *hc, uint64_t offset,
                    int64_t time_ms, const bcast_t *b, const char *data,
                    size_t len, int push) {
  const char *u = frame_u(b);
  int copy = b->id.node != NULL &&
             c4j__hist_seen(hc, b->id.node, b->id.node_len, b->id.n);
  if (offset <= hc->last) {
    if (b->id.node != NULL && !copy && push)
      c4j__deliver_publish(e, hc->name, strlen(hc->name), NULL, u, data, len,
                           time_ms, 1);
    return;
  }
  if (offset > hc->last + 1) {
    uint64_t gap = offset - 1 - hc->last;
    c4j__hist_jump(&e->hist, hc, offset - 1);
    if (push) lost(e, hc, gap, offset);
  }
  if (copy) {
    if (!(b->own && b->local)) atomic_fetch_add(&e->hub_duplicates, 1);
    push = 0; /* its pages here have it */
  }
  if (c4j__deliver_publish(e, hc->name, strlen(hc->name), hc, u, data, len,
                           time_ms, push) != 0) {
    c4j__hist_jump(&e->hist, hc, offset); /* lost here; the offset stays */
    if (push) lost(e, hc, 1, offset + 1);
  }
}

/* With the history lock held: deliver() for an "m" record (split). */
static void deliver_record(c4j_engine_t *e, c4j__hist_chan_t *hc,
                           const hub_fields_t *r, int push) {
  bcast_t b;
  bcast_of(e, r->f[6], r->n[6], &b);
  deliver(e, hc, field_u64(r, 4), (int64_t)field_u64(r, 5), &b, r->payload,
          r->payload_len, push);
}

/* With the history lock held: delivers the records w holds, oldest first,
 * while their offset is below `below` (what is still missing before one
 * is lost: the caller knows Redis does not have it), and then while they
 * follow hc's newest offset.  Each held record is done with once
 * delivered. */
static void drain(c4j_engine_t *e, hub_wait_t *w, c4j__hist_chan_t *hc,
                  uint64_t below) {
  while (w->head != NULL &&
         (w->head->offset < below || w->head->offset <= hc->last + 1)) {
    hub_rec_t *rec = w->head;
    hub_fields_t r;
    w->head = rec->next;
    if (w->head == NULL) w->tail = NULL;
    w->bytes -= rec->len;
    e->hub_held -= rec->len;
    if (split(rec->text, rec->len, &r) == 7) deliver_record(e, hc, &r, 1);
    c4j__free(rec);
  }
}

/* An "m" record: m origin channel epoch offset time u. */
static void on_broadcast(c4j_engine_t *e, const char *rec, size_t len,
                         const hub_fields_t *r, int k) {
  uint64_t offset = k == 7 ? field_u64(r, 4) : 0;
  c4j__hist_chan_t *hc;
  hub_wait_t *w;
  if (offset == 0 || !c4j_channel_name_ok(r->f[2], r->n[2])) return;
  if (e->hist.size == 0) {
    /* No ring, no order: only this node's own copies are told apart
     * (they come in the order of their numbers). */
    bcast_t b;
    bcast_of(e, r->f[6], r->n[6], &b);
    if (b.own && b.id.n <= e->hub_own_max) return;
    if (b.own) e->hub_own_max = b.id.n;
    c4j__deliver_publish(e, r->f[2], r->n[2], NULL, frame_u(&b), r->payload,
                         r->payload_len, (int64_t)field_u64(r, 5), 1);
    return;
  }
  c4j__hist_lock(&e->hist);
  hc = c4j__hist_chan(&e->hist, r->f[2], r->n[2]);
  if (hc != NULL) {
    if ((w = wait_find(e, r->f[2], r->n[2])) != NULL) {
      wait_add(e, w, rec, len, offset, from_self(e, r));
    } else if (offset > hc->last + 1 && (w = wait_new(e, hc)) != NULL) {
      wait_add(e, w, rec, len, offset, from_self(e, r));
      ask(e, w, hc->last);
    } else {
      deliver_record(e, hc, r, 1); /* a gap without memory to wait: lost */
    }
  }
  c4j__hist_unlock(&e->hist);
}

/* The answer to a fetch (or, at start, the history Redis keeps). */
static void on_history(void *data, const char *ch, size_t ch_len,
                       const c4j__redis_entry_t *v, size_t n, int status,
                       uint64_t newest) {
  c4j_engine_t *e = data;
  hub_wait_t *w;
  c4j__hist_chan_t *hc;
  if (e->hist.size == 0 || !c4j_channel_name_ok(ch, ch_len)) return;
  c4j__hist_lock(&e->hist);
  hc = c4j__hist_chan(&e->hist, ch, ch_len);
  w = wait_find(e, ch, ch_len);
  if (hc == NULL) {
    if (w != NULL) wait_end(e, w);
    c4j__hist_unlock(&e->hist);
    return;
  }
  if (w != NULL) w->asking = 0;
  if (w != NULL && status == C4J__FETCH_FAILED) {
    /* No answer: the link dropped (asked again at link-up), or it is up
     * and the answer could not be read: ask again now. */
    if (c4j__redis_up(e->redis)) ask(e, w, hc->last);
    c4j__hist_unlock(&e->hist);
    return;
  }
  /* In offset order, the answer merged with what is held: the answer is
   * what Redis had after hc->last, from its oldest, so a gap before a
   * held record below an entry is lost. */
  /* Without a wait (the preload at start), a channel this node knew
   * nothing of: its entries only go into the ring. */
  for (size_t i = 0; i < n; i++) {
    bcast_t b;
    if (w != NULL) drain(e, w, hc, v[i].offset);
    bcast_set(e, v[i].u, v[i].u ? strlen(v[i].u) : 0, v[i].local, &b);
    deliver(e, hc, v[i].offset, v[i].time_ms, &b, v[i].data, v[i].data_len,
            w != NULL);
  }
  if (w == NULL) { /* the preload: where the channel stands in Redis */
    if (newest > hc->last) c4j__hist_jump(&e->hist, hc, newest);
    c4j__hist_unlock(&e->hist);
    return;
  }
  drain(e, w, hc, 0);
  if (status == C4J__FETCH_MORE || w->overflow) {
    ask(e, w, hc->last); /* the next page */
  } else {
    /* Redis had nothing after hc->last when it answered, and what came
     * since is held: whatever is still missing before it is lost. */
    drain(e, w, hc, UINT64_MAX);
    wait_end(e, w);
  }
  c4j__hist_unlock(&e->hist);
}

/* This node's broadcast (its message id u) for its own pages now: Redis
 * cannot bring it back in time.  Its own broadcasts held behind a fetch
 * go first, so that they stay in the order they were published. */
static int on_local(void *data, const char *ch, size_t ch_len,
                    const char *json, size_t len, int64_t time_ms,
                    const char *u) {
  c4j_engine_t *e = data;
  c4j__hist_chan_t *hc = NULL;
  hub_wait_t *w;
  msg_id_t id;
  int rc;
  if (!msg_id(u, strlen(u), &id)) return UV_EINVAL;
  c4j__hist_lock(&e->hist);
  if (e->hist.size > 0) hc = c4j__hist_chan(&e->hist, ch, ch_len);
  if (hc != NULL && (w = wait_find(e, ch, ch_len)) != NULL) {
    for (hub_rec_t *rec = w->head; rec != NULL; rec = rec->next) {
      hub_fields_t r;
      bcast_t b;
      if (!rec->own || split(rec->text, rec->len, &r) != 7) continue;
      bcast_of(e, r.f[6], r.n[6], &b);
      if (b.id.node != NULL &&
          !c4j__hist_seen(hc, b.id.node, b.id.node_len, b.id.n))
        c4j__deliver_publish(e, ch, ch_len, NULL, b.u, r.payload,
                             r.payload_len, (int64_t)field_u64(&r, 5), 1);
    }
  }
  rc = c4j__deliver_publish(e, ch, ch_len, NULL, u, json, len, time_ms, 1);
  if (rc == 0 && hc != NULL)
    c4j__hist_seen(hc, id.node, id.node_len, id.n);
  else if (rc == 0 && id.n > e->hub_own_max)
    e->hub_own_max = id.n;
  c4j__hist_unlock(&e->hist);
  return rc;
}

/* ---- Records to a connection, a user or a channel's pages ------------------------ */

static void on_direct(c4j_engine_t *e, const hub_fields_t *r, int k) {
  char reason[128];
  int cid_ok = r->n[2] <= C4J_MAX_ID; /* for t, f, d: field 2 is an id */
  switch (r->f[0][0]) {
  case 't': /* t origin cid channel time */
    if (k == 5 && cid_ok && c4j_channel_name_ok(r->f[3], r->n[3]))
      c4j__deliver_to(e, r->f[2], r->n[2], r->f[3], r->n[3], r->payload,
                      r->payload_len, (int64_t)field_u64(r, 4));
    break;
  case 'u': { /* u origin channel time user_len; payload: user, data */
    uint64_t ulen = k == 5 ? field_u64(r, 4) : 0;
    if (ulen > 0 && ulen <= C4J_MAX_USER && ulen < r->payload_len &&
        c4j_channel_name_ok(r->f[2], r->n[2]))
      c4j__deliver_user(e, r->payload, ulen, r->f[2], r->n[2],
                        r->payload + ulen, r->payload_len - ulen,
                        (int64_t)field_u64(r, 3));
    break;
  }
  case 'f': /* f origin cid; payload: the frame */
    if (k == 3 && cid_ok)
      c4j__deliver_frame(e, r->f[2], r->n[2], r->payload, r->payload_len);
    break;
  case 'c': /* c origin channel; payload: the frame */
    if (k == 3 && c4j_channel_name_ok(r->f[2], r->n[2]))
      c4j__deliver_channel_frame(e, r->f[2], r->n[2], r->payload,
                                 r->payload_len);
    break;
  case 's': /* s origin cid channel ack */
  case 'x': /* x origin cid channel */
    if (k == (r->f[0][0] == 's' ? 5 : 4) && cid_ok &&
        c4j_channel_name_ok(r->f[3], r->n[3])) {
      int64_t ack = -1;
      if (k == 5 && !field_is(r, 4, "-1")) ack = (int64_t)field_u64(r, 4);
      if (r->f[0][0] == 's')
        c4j__deliver_subscribe(e, r->f[2], r->n[2], r->f[3], r->n[3], ack);
      else
        c4j__deliver_unsubscribe(e, r->f[2], r->n[2], r->f[3], r->n[3]);
    }
    break;
  case 'd': { /* d origin cid code; payload: the reason */
    /* Only the codes c4j_drop sends: another would go to the page as a
     * close code no server may send (1005, 0, ...). */
    uint64_t code = k == 4 ? field_u64(r, 3) : 0;
    if (cid_ok && (code == 1000 || (code >= 3000 && code <= 4999))) {
      size_t n = r->payload_len < sizeof(reason) ? r->payload_len
                                                 : sizeof(reason) - 1;
      memcpy(reason, r->payload, n);
      reason[n] = '\0';
      c4j__deliver_drop(e, r->f[2], r->n[2], (int)code, reason);
    }
    break;
  }
  }
}

/* A record from the bus: a broadcast, or a send for one of this node's
 * connections (skipped when this node sent it). */
static void on_record(void *data, const char *rec, size_t len) {
  c4j_engine_t *e = data;
  hub_fields_t r;
  int k = split(rec, len, &r);
  if (k < 3 || r.n[0] != 1 || r.n[2] == 0 || r.n[2] > C4J_MAX_CHANNEL)
    return; /* not ours: ignored */
  if (r.f[0][0] == 'm')
    on_broadcast(e, rec, len, &r, k);
  else if (!from_self(e, &r))
    on_direct(e, &r, k);
}

/* Once linked again (before the outbox goes out): every channel known
 * here gets its offset floor in Redis (a Redis that restarted empty must
 * not give the offsets this node has to other broadcasts), and a fetch of
 * what it may have missed while the link was down (a channel without a
 * broadcast yet too: its pages stand before the first). */
static void relink(c4j__hist_chan_t *hc, void *arg) {
  c4j_engine_t *e = arg;
  size_t n = strlen(hc->name);
  hub_wait_t *w;
  if (hc->last > 0) c4j__redis_floor(e->redis, hc->name, n, hc->last);
  if (wait_find(e, hc->name, n) == NULL && (w = wait_new(e, hc)) != NULL)
    ask(e, w, hc->last);
}

static void on_link(void *data, int up) {
  c4j_engine_t *e = data;
  if (!up || e->hist.size == 0) return;
  c4j__hist_lock(&e->hist);
  /* The waits whose fetch found the link down first: they stay. */
  for (hub_wait_t *w = e->hub_waits; w != NULL; w = w->next)
    if (!w->asking) {
      c4j__hist_chan_t *hc = c4j__hist_chan(&e->hist, w->ch, w->ch_len);
      ask(e, w, hc != NULL ? hc->last : 0);
    }
  c4j__hist_each(&e->hist, relink, e);
  c4j__hist_unlock(&e->hist);
}

/* ---- Sends to the other nodes ------------------------------------------------- */

/* Every broadcast gets its message id here, under the history lock with
 * its submission, so that the outbox holds this node's broadcasts in the
 * order of their numbers.  Redis gives the offset; this node's pages get
 * it from the bus, or (link down) at once through on_local.  A broadcast
 * the outbox cannot take is refused (C4J_EFULL): it reaches no page. */
int c4j__hub_send_all(c4j_engine_t *e, const char *ch, size_t ch_len,
                      const char *json, size_t len, int64_t time_ms) {
  char u[C4J__MSG_ID_CAP];
  c4j__hist_chan_t *hc = NULL;
  int rc;
  if (!c4j__frame_data_ok(json, len)) return C4J_EBADJSON;
  if (c4j__frame_msg_size(ch_len, json, len) > e->cfg.max_queue)
    return C4J_ETOOBIG;
  c4j__hist_lock(&e->hist);
  if (e->hist.size > 0 &&
      (hc = c4j__hist_chan(&e->hist, ch, ch_len)) == NULL) {
    c4j__hist_unlock(&e->hist);
    return C4J_ENOMEM;
  }
  snprintf(u, sizeof(u), "%s.%llu", e->node_id,
           (unsigned long long)++e->hub_msg_ids);
  rc = c4j__redis_publish(e->redis, ch, ch_len, json, len, time_ms,
                          hc ? hc->last : 0, u);
  c4j__hist_unlock(&e->hist);
  return rc;
}

int c4j__hub_send_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                     const char *ch, size_t ch_len, const char *json,
                     size_t len, int64_t time_ms) {
  char h[C4J_MAX_ID + C4J_MAX_CHANNEL + 64];
  int n;
  if (!c4j__frame_data_ok(json, len)) return C4J_EBADJSON;
  n = snprintf(h, sizeof(h), "t\t%s\t%.*s\t%.*s\t%" PRId64, e->node_id,
               (int)cid_len, cid, (int)ch_len, ch, time_ms);
  return bus_send(e, h, (size_t)n, json, len, NULL, 0);
}

int c4j__hub_send_user(c4j_engine_t *e, const char *user, size_t user_len,
                       const char *ch, size_t ch_len, const char *json,
                       size_t len, int64_t time_ms) {
  char h[C4J_MAX_CHANNEL + 96];
  int n = snprintf(h, sizeof(h), "u\t%s\t%.*s\t%" PRId64 "\t%zu", e->node_id,
                   (int)ch_len, ch, time_ms, user_len);
  return bus_send(e, h, (size_t)n, user, user_len, json, len);
}

int c4j__hub_send_frame(c4j_engine_t *e, const char *cid, size_t cid_len,
                        const char *frame, size_t len) {
  char h[C4J_MAX_ID + 64];
  int n = snprintf(h, sizeof(h), "f\t%s\t%.*s", e->node_id, (int)cid_len,
                   cid);
  return bus_send(e, h, (size_t)n, frame, len, NULL, 0);
}

int c4j__hub_command(c4j_engine_t *e, int subscribe, const char *cid,
                     size_t cid_len, const char *ch, size_t ch_len,
                     int64_t ack_id) {
  char h[C4J_MAX_ID + C4J_MAX_CHANNEL + 64];
  int n = subscribe
              ? snprintf(h, sizeof(h), "s\t%s\t%.*s\t%.*s\t%lld", e->node_id,
                         (int)cid_len, cid, (int)ch_len, ch,
                         (long long)ack_id)
              : snprintf(h, sizeof(h), "x\t%s\t%.*s\t%.*s", e->node_id,
                         (int)cid_len, cid, (int)ch_len, ch);
  return bus_send(e, h, (size_t)n, NULL, 0, NULL, 0);
}

int c4j__hub_send_chan_frame(c4j_engine_t *e, const char *ch, size_t ch_len,
                             const char *frame, size_t len) {
  char h[C4J_MAX_CHANNEL + 64];
  int n = snprintf(h, sizeof(h), "c\t%s\t%.*s", e->node_id, (int)ch_len,
                   ch);
  return bus_send(e, h, (size_t)n, frame, len, NULL, 0);
}

int c4j__hub_drop(c4j_engine_t *e, const char *cid, size_t cid_len, int code,
                  const char *reason) {
  char h[C4J_MAX_ID + 64];
  int n = snprintf(h, sizeof(h), "d\t%s\t%.*s\t%d", e->node_id, (int)cid_len,
                   cid, code);
  return bus_send(e, h, (size_t)n, reason, strlen(reason), NULL, 0);
}

/* ---- The public hub calls ------------------------------------------------- */

int c4j_hub_action(c4j_engine_t *e, const char *json, size_t len) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (json == NULL || len < 2 || json[0] != '{' || json[len - 1] != '}')
    return C4J_EBADJSON;
  if (len > 65535) return C4J_ETOOBIG;
  if (!c4j__engine_enter(e))
    return c4j__engine_refusal(e);
  if (e->redis != NULL)
    rc = c4j__redis_action(e->redis, json, len);
  else
    rc = e->cfg.listen_actions ? c4j__events_action(&e->events, json, len)
                               : C4J_ESTATE;
  c4j__engine_leave(e);
  return rc;
}

int c4j_hub_action_done(c4j_engine_t *e, const char *json, size_t len) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (json == NULL || len == 0 || len > 65535) return C4J_EBADJSON;
  if (!c4j__engine_enter(e))
    return c4j__engine_refusal(e);
  rc = e->redis == NULL ? 0 /* local: nothing to forget */
                        : c4j__redis_action_done(e->redis, json, len);
  c4j__engine_leave(e);
  return rc;
}

int c4j_hub_set(c4j_engine_t *e, const char *key, size_t key_len,
                const char *field, size_t field_len, const char *value,
                size_t value_len) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (key == NULL || field == NULL || key_len == 0 || field_len == 0 ||
      key_len > 256 || field_len > 256)
    return C4J_EBADNAME;
  if (value != NULL && value_len > 65536) return C4J_ETOOBIG;
  if (!c4j__engine_enter(e))
    return c4j__engine_refusal(e);
  rc = e->redis == NULL ? C4J_ESTATE
                        : c4j__redis_set(e->redis, key, key_len, field,
                                         field_len, value, value_len);
  c4j__engine_leave(e);
  return rc;
}

int c4j_hub_nodes(c4j_engine_t *e, char *out, size_t cap, int timeout_ms) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (out == NULL || cap == 0) return C4J_ETOOBIG;
  if (timeout_ms < 1) timeout_ms = 1;
  if (!c4j__engine_enter(e))
    return c4j__engine_refusal(e);
  rc = e->redis == NULL            ? C4J_ESTATE
       : !c4j__redis_up(e->redis) ? C4J_EHUB
                                  : c4j__redis_nodes(e->redis, out, cap,
                                                     timeout_ms);
  c4j__engine_leave(e);
  return rc;
}

int c4j_hub_get(c4j_engine_t *e, const char *key, size_t key_len, char *out,
                size_t cap, int timeout_ms) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (key == NULL || key_len == 0 || key_len > 256) return C4J_EBADNAME;
  if (out == NULL || cap == 0) return C4J_ETOOBIG;
  if (timeout_ms < 1) timeout_ms = 1;
  if (!c4j__engine_enter(e))
    return c4j__engine_refusal(e);
  /* While the link is down the answer is known: no request thread waits
   * for a Redis that is not there. */
  rc = e->redis == NULL            ? C4J_ESTATE
       : !c4j__redis_up(e->redis) ? C4J_EHUB
                                  : c4j__redis_get(e->redis, key, key_len, out,
                                                   cap, timeout_ms);
  c4j__engine_leave(e);
  return rc;
}
