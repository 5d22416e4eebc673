/* hub.c - the hub's meaning (see hub.h): the records that carry sends to
 * the other nodes, and what a record from another node does here, through
 * local delivery (deliver.h).  The link itself is redis.c's, which hears
 * of nothing above it: it calls back into this file through the table of
 * callbacks handed to c4j__redis_start.
 *
 * A broadcast from the bus is delivered in offset order: a record whose
 * offset is not the channel's next waits, with every later record of that
 * channel, while the missing ones are fetched from the Redis history;
 * whatever Redis no longer has is skipped (the ring jumps), so that pages
 * resuming from before the jump learn that they lost messages.  All of
 * that runs on the Redis thread, under the history lock, as a local
 * broadcast does.
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

/* A record waiting behind a fetch. */
typedef struct hub_rec_s {
  struct hub_rec_s *next;
  size_t len;
  char text[];
} hub_rec_t;

/* A channel whose history is being fetched, and the bus records that
 * arrived meanwhile (oldest first).  `push`: deliver the fetched entries
 * to the subscribers (the channel's position was real when the fetch
 * began), or only keep them in the ring (this node knew nothing of the
 * channel: its subscribers have seen none of it).  Owned by the Redis
 * thread; the list is short (channels with a fetch under way). */
typedef struct c4j__hub_wait_s {
  struct c4j__hub_wait_s *next;
  int push;
  hub_rec_t *head, *tail;
  size_t ch_len;
  char ch[C4J_MAX_CHANNEL + 1];
} hub_wait_t;

int c4j__hub_remote(const c4j_engine_t *e) { return e->redis != NULL; }

void c4j__hub_stats(c4j_engine_t *e, uint64_t *up, uint64_t *outbox,
                    uint64_t *dropped) {
  *up = *outbox = *dropped = 0;
  if (e->redis == NULL) return;
  *up = (uint64_t)c4j__redis_up(e->redis);
  c4j__redis_stats(e->redis, outbox, dropped);
}

/* ---- What redis.c tells, on the Redis thread ------------------------------ */

static void on_log(void *data, int level, const char *text) {
  c4j_engine_t *e = data;
  c4j__events_log(&e->events, level, text);
}

static void on_record(void *data, const char *rec, size_t len);
static void on_history(void *data, const char *ch, size_t ch_len,
                       const c4j__redis_entry_t *v, size_t n);
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
  c4j__redis_callbacks_t cb = { NULL, on_log, on_record, on_history,
                                on_action, on_link };
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
  o.history_age_ms = e->cfg.history_age_ms;
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

/* ---- Broadcasts from the bus ------------------------------------------------ */

static hub_wait_t *wait_find(c4j_engine_t *e, const char *ch, size_t len) {
  for (hub_wait_t *w = e->hub_waits; w != NULL; w = w->next)
    if (w->ch_len == len && memcmp(w->ch, ch, len) == 0) return w;
  return NULL;
}

/* wait_find, and unlinks what it found. */
static hub_wait_t *wait_take(c4j_engine_t *e, const char *ch, size_t len) {
  for (hub_wait_t **pw = &e->hub_waits; *pw != NULL; pw = &(*pw)->next)
    if ((*pw)->ch_len == len && memcmp((*pw)->ch, ch, len) == 0) {
      hub_wait_t *w = *pw;
      *pw = w->next;
      return w;
    }
  return NULL;
}

static void wait_add(hub_wait_t *w, const char *rec, size_t len) {
  hub_rec_t *r = c4j__malloc(sizeof(*r) + len);
  if (r == NULL) return; /* lost: pages resuming later find the gap */
  r->next = NULL;
  r->len = len;
  memcpy(r->text, rec, len);
  if (w->tail) w->tail->next = r;
  else w->head = r;
  w->tail = r;
}

/* The offset of a waiting "m" record. */
static uint64_t rec_offset(const hub_rec_t *rec) {
  hub_fields_t r;
  return split(rec->text, rec->len, &r) == 7 ? field_u64(&r, 4) : 0;
}

/* With the history lock held: starts fetching what ch lacks after its
 * newest offset; rec (may be NULL) waits for the answer. */
static void fetch(c4j_engine_t *e, c4j__hist_chan_t *hc, const char *rec,
                  size_t len) {
  size_t n = strlen(hc->name);
  hub_wait_t *w = c4j__calloc(1, sizeof(*w));
  if (w == NULL) return;
  w->push = hc->last > 0;
  w->ch_len = n;
  memcpy(w->ch, hc->name, n);
  if (rec != NULL) wait_add(w, rec, len);
  w->next = e->hub_waits;
  e->hub_waits = w;
  if (c4j__redis_fetch(e->redis, hc->name, n, hc->last) != 0)
    c4j__events_log(&e->events, 1, "hub: cannot fetch a channel's history");
}

/* With the history lock held: delivers the broadcast at offset to this
 * node (unless it is older than the channel's newest), jumping over what
 * was never seen here.  push 0: keep it in the ring only.  u: its
 * message id, or NULL. */
static void deliver(c4j_engine_t *e, c4j__hist_chan_t *hc, uint64_t offset,
                    int64_t time_ms, const char *u, const char *data,
                    size_t len, int push) {
  if (offset <= hc->last) return;
  if (offset > hc->last + 1) c4j__hist_jump(&e->hist, hc, offset - 1);
  if (c4j__deliver_publish(e, hc->name, strlen(hc->name), hc, u, data, len,
                          time_ms, push) != 0)
    c4j__hist_jump(&e->hist, hc, offset); /* lost here; the offset stays */
}

/* An "m" record's message id (field 6, "-" for none) into u; NULL when
 * none or malformed. */
static const char *record_u(const hub_fields_t *r, char u[C4J__MSG_ID_CAP]) {
  if (r->n[6] == 0 || r->n[6] >= C4J__MSG_ID_CAP || field_is(r, 6, "-"))
    return NULL;
  for (size_t i = 0; i < r->n[6]; i++)
    if (r->f[6][i] == '"' || r->f[6][i] == '\\' ||
        (unsigned char)r->f[6][i] < 0x20)
      return NULL;
  memcpy(u, r->f[6], r->n[6]);
  u[r->n[6]] = '\0';
  return u;
}

/* Whether this node delivered the record's broadcast itself already (its
 * message id is this node's). */
static int done_here(const c4j_engine_t *e, const char *u) {
  return u != NULL && strncmp(u, e->node_id, C4J__NODE_ID_LEN) == 0;
}

/* With the history lock held: deliver() for an "m" record (split); its
 * pages here have it already when its message id is this node's. */
static void deliver_record(c4j_engine_t *e, c4j__hist_chan_t *hc,
                           const hub_fields_t *r) {
  char ubuf[C4J__MSG_ID_CAP];
  const char *u = record_u(r, ubuf);
  deliver(e, hc, field_u64(r, 4), (int64_t)field_u64(r, 5), u, r->payload,
          r->payload_len, !done_here(e, u));
}

/* An "m" record: m origin channel epoch offset time u. */
static void on_broadcast(c4j_engine_t *e, const char *rec, size_t len,
                         const hub_fields_t *r, int k) {
  uint64_t offset = k == 7 ? field_u64(r, 4) : 0;
  c4j__hist_chan_t *hc;
  if (offset == 0 || !c4j_channel_name_ok(r->f[2], r->n[2])) return;
  if (e->hist.size == 0) {
    char ubuf[C4J__MSG_ID_CAP];
    const char *u = record_u(r, ubuf);
    if (!done_here(e, u))
      c4j__deliver_publish(e, r->f[2], r->n[2], NULL, u, r->payload,
                          r->payload_len, (int64_t)field_u64(r, 5), 1);
    return;
  }
  c4j__hist_lock(&e->hist);
  hc = c4j__hist_chan(&e->hist, r->f[2], r->n[2]);
  if (hc != NULL) {
    hub_wait_t *w = wait_find(e, r->f[2], r->n[2]);
    if (w != NULL)
      wait_add(w, rec, len);
    else if (offset > hc->last + 1)
      fetch(e, hc, rec, len);
    else
      deliver_record(e, hc, r);
  }
  c4j__hist_unlock(&e->hist);
}

/* The answer to a fetch (or, at start, the history Redis keeps). */
static void on_history(void *data, const char *ch, size_t ch_len,
                       const c4j__redis_entry_t *v, size_t n) {
  c4j_engine_t *e = data;
  hub_wait_t *w;
  c4j__hist_chan_t *hc;
  uint64_t limit;
  int push;
  if (e->hist.size == 0 || !c4j_channel_name_ok(ch, ch_len)) return;
  c4j__hist_lock(&e->hist);
  hc = c4j__hist_chan(&e->hist, ch, ch_len);
  w = wait_take(e, ch, ch_len);
  /* Pages here have seen none of a channel this node knew nothing of.
   * What the first waiting record holds and after is live: it comes from
   * the records, delivered, not from the fetch. */
  push = w != NULL ? w->push : hc != NULL && hc->last > 0;
  limit = w != NULL && w->head != NULL ? rec_offset(w->head) : UINT64_MAX;
  for (size_t i = 0; hc != NULL && i < n && v[i].offset < limit; i++)
    deliver(e, hc, v[i].offset, v[i].time_ms, v[i].u, v[i].data,
            v[i].data_len, push && !v[i].mine);
  /* Then what waited, in order; what is still missing is skipped. */
  while (w != NULL && w->head != NULL) {
    hub_rec_t *rec = w->head;
    hub_fields_t r;
    w->head = rec->next;
    if (hc != NULL && split(rec->text, rec->len, &r) == 7)
      deliver_record(e, hc, &r);
    c4j__free(rec);
  }
  c4j__free(w);
  c4j__hist_unlock(&e->hist);
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

/* Once linked again: fetch what every channel known here may have missed
 * while the link was down. */
static void refetch(c4j__hist_chan_t *hc, void *arg) {
  c4j_engine_t *e = arg;
  if (hc->last > 0 && wait_find(e, hc->name, strlen(hc->name)) == NULL)
    fetch(e, hc, NULL, 0);
}

static void on_link(void *data, int up) {
  c4j_engine_t *e = data;
  if (!up || e->hist.size == 0) return;
  c4j__hist_lock(&e->hist);
  c4j__hist_each(&e->hist, refetch, e);
  c4j__hist_unlock(&e->hist);
}

/* ---- Sends to the other nodes ------------------------------------------------- */

int c4j__hub_send_all(c4j_engine_t *e, const char *ch, size_t ch_len,
                      const char *json, size_t len, int64_t time_ms) {
  char u[C4J__MSG_ID_CAP];
  c4j__hist_chan_t *hc = NULL;
  int rc = 0, up;
  if (!c4j__frame_data_ok(json, len)) return C4J_EBADJSON;
  if (c4j__frame_msg_size(ch_len, json, len) > e->cfg.max_queue)
    return C4J_ETOOBIG;
  c4j__hist_lock(&e->hist);
  if (e->hist.size > 0 &&
      (hc = c4j__hist_chan(&e->hist, ch, ch_len)) == NULL) {
    c4j__hist_unlock(&e->hist);
    return C4J_ENOMEM;
  }
  /* Linked: Redis gives the offset and every node, this one too, delivers
   * it from the bus.  Not linked: this node's pages get it now, without an
   * offset but with a message id, and the others once the outbox is
   * sent; the copy with an offset (in this node's ring) has the same id. */
  up = c4j__redis_up(e->redis);
  if (!up) { /* the id lets pages drop the copy with an offset, later */
    snprintf(u, sizeof(u), "%s.%llu", e->node_id,
             (unsigned long long)atomic_fetch_add(&e->hub_msg_ids, 1) + 1);
    rc = c4j__deliver_publish(e, ch, ch_len, NULL, u, json, len, time_ms, 1);
  }
  if (rc == 0)
    rc = c4j__redis_publish(e->redis, ch, ch_len, json, len, time_ms,
                            hc ? hc->last : 0, up ? NULL : u);
  if (rc == C4J_EFULL && !up) rc = 0; /* delivered here at least */
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
