/* held.c - which worker holds which connection id, under one mutex, with
 * the positions and the channel set each identity carries from one
 * connection to the next. */
#include <string.h>

#include "common.h"
#include "held.h"

typedef struct {
  int worker, state;
  c4j__pos_t *pos;
  c4j__names_t *chans;
  uint32_t cmd_next, cmd_done; /* the last command numbered, applied */
} record_t;

int c4j__held_init(c4j__held_t *h) {
  c4j__cid_map_init(&h->ids);
  for (int i = 0; i < 4; i++) atomic_init(&h->by_state[i], 0);
  return uv_mutex_init(&h->lock) == 0 ? 0 : C4J_ENOMEM;
}

/* Moves one record from state `from` to state `to` in the counts, with
 * the lock held (NONE: it is new, or forgotten). */
static void recount(c4j__held_t *h, int from, int to) {
  if (from != C4J__HELD_NONE)
    atomic_fetch_sub_explicit(&h->by_state[from], 1, memory_order_relaxed);
  if (to != C4J__HELD_NONE)
    atomic_fetch_add_explicit(&h->by_state[to], 1, memory_order_relaxed);
}

static void forget(c4j__held_t *h, c4j__cid_t *e) {
  record_t *r = e->conn;
  recount(h, r->state, C4J__HELD_NONE);
  c4j__free(r->pos);
  c4j__free(r->chans);
  c4j__free(r);
  c4j__cid_map_remove(&h->ids, e);
}

void c4j__held_free(c4j__held_t *h) {
  for (size_t i = 0; i < h->ids.nbuckets; i++)
    while (h->ids.buckets[i] != NULL) forget(h, h->ids.buckets[i]);
  c4j__cid_map_free(&h->ids);
  uv_mutex_destroy(&h->lock);
}

static c4j__holder_t unpack(const c4j__cid_t *e) {
  c4j__holder_t r = { -1, C4J__HELD_NONE };
  if (e != NULL) {
    const record_t *rec = e->conn;
    r.worker = rec->worker;
    r.state = rec->state;
  }
  return r;
}

c4j__holder_t c4j__held_get(c4j__held_t *h, const char *cid) {
  c4j__holder_t r;
  uv_mutex_lock(&h->lock);
  r = unpack(c4j__cid_map_find(&h->ids, cid, strlen(cid)));
  uv_mutex_unlock(&h->lock);
  return r;
}

c4j__holder_t c4j__held_claim(c4j__held_t *h, const char *cid, int worker,
                              int state, c4j__pos_t **pos,
                              c4j__names_t **chans) {
  c4j__holder_t r;
  c4j__cid_t *e;
  record_t *rec;
  *pos = NULL;
  *chans = NULL;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  r = unpack(e);
  if (e == NULL) {
    rec = c4j__calloc(1, sizeof(*rec));
    if (rec != NULL &&
        (e = c4j__cid_map_add(&h->ids, cid, strlen(cid), rec)) == NULL)
      c4j__free(rec);
    if (e == NULL) {
      uv_mutex_unlock(&h->lock);
      r.worker = -2;
      return r;
    }
  }
  rec = e->conn;
  recount(h, rec->state, state);
  rec->worker = worker;
  rec->state = state;
  *pos = rec->pos;
  rec->pos = NULL;
  *chans = c4j__names_copy(rec->chans);
  uv_mutex_unlock(&h->lock);
  return r;
}

int c4j__held_set(c4j__held_t *h, const char *cid, int worker, int state,
                  c4j__pos_t *pos, c4j__names_t *chans) {
  c4j__cid_t *e;
  int mine;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  mine = e != NULL && unpack(e).worker == worker;
  if (mine) {
    record_t *rec = e->conn;
    recount(h, rec->state, state);
    rec->state = state;
    if (pos != NULL) {
      c4j__free(rec->pos);
      rec->pos = pos;
      pos = NULL;
    }
    if (chans != NULL) {
      c4j__free(rec->chans);
      rec->chans = chans;
      chans = NULL;
    }
  }
  uv_mutex_unlock(&h->lock);
  c4j__free(pos);
  c4j__free(chans);
  return mine;
}

int c4j__held_chans(c4j__held_t *h, const char *cid, int worker,
                    c4j__names_t **chans) {
  c4j__cid_t *e;
  int mine;
  *chans = NULL;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  mine = e != NULL && unpack(e).worker == worker;
  if (mine) *chans = c4j__names_copy(((record_t *)e->conn)->chans);
  uv_mutex_unlock(&h->lock);
  return mine;
}

/* With the lock held: sets (or reads) rec's position for hist. */
static int position(record_t *rec, const void *hist, uint64_t *off,
                    int set) {
  c4j__pos_t *p = rec->pos, *q;
  uint32_t n = p ? p->n : 0;
  for (uint32_t i = 0; i < n; i++)
    if (p->v[i].chan == hist) {
      if (set) p->v[i].off = *off;
      else *off = p->v[i].off;
      return 0;
    }
  if (!set) return 0;
  q = c4j__malloc(sizeof(*q) + (n + 1) * sizeof(q->v[0]));
  if (q == NULL) return C4J_ENOMEM;
  q->n = n + 1;
  if (n > 0) memcpy(q->v, p->v, n * sizeof(q->v[0]));
  q->v[n].chan = hist;
  q->v[n].off = *off;
  c4j__free(p);
  rec->pos = q;
  return 0;
}

int c4j__held_update(c4j__held_t *h, const char *cid, int worker,
                     c4j__names_t *chans, const void *hist, uint64_t *off,
                     int set) {
  c4j__cid_t *e;
  int rc = 0;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  if (e != NULL && unpack(e).worker == worker) {
    record_t *rec = e->conn;
    rc = 1;
    if (hist != NULL && position(rec, hist, off, set) != 0) rc = C4J_ENOMEM;
    if (rc == 1 && chans != NULL) {
      c4j__free(rec->chans);
      rec->chans = chans;
      chans = NULL;
    }
  }
  uv_mutex_unlock(&h->lock);
  c4j__free(chans);
  return rc;
}

/* ---- Channel sets ------------------------------------------------------ */

static c4j__names_t *names_new(uint32_t n, size_t len) {
  c4j__names_t *s = c4j__malloc(sizeof(*s) + len + 1);
  if (s == NULL) return NULL;
  s->n = n;
  s->len = (uint32_t)len;
  return s;
}

c4j__names_t *c4j__names_copy(const c4j__names_t *set) {
  c4j__names_t *s;
  if (set == NULL || (s = names_new(set->n, set->len)) == NULL) return NULL;
  memcpy(s->names, set->names, set->len);
  return s;
}

c4j__names_t *c4j__names_of(const c4j__sub_t *subs) {
  size_t len = 0, at = 0;
  uint32_t n = 0;
  c4j__names_t *s;
  for (const c4j__sub_t *p = subs; p; p = p->conn_next, n++)
    len += p->chan->len + 1u;
  if ((s = names_new(n, len)) == NULL) return NULL;
  for (const c4j__sub_t *p = subs; p; p = p->conn_next) {
    memcpy(s->names + at, p->chan->name, p->chan->len + 1u);
    at += p->chan->len + 1u;
  }
  return s;
}

int c4j__names_has(const c4j__names_t *set, const char *name, size_t len) {
  for (size_t at = 0; set != NULL && at < set->len;) {
    size_t k = strlen(set->names + at);
    if (k == len && memcmp(set->names + at, name, len) == 0) return 1;
    at += k + 1;
  }
  return 0;
}

c4j__names_t *c4j__names_with(const c4j__names_t *set, const char *name,
                              size_t len) {
  size_t old = set ? set->len : 0;
  c4j__names_t *s = names_new(set ? set->n + 1 : 1, old + len + 1);
  if (s == NULL) return NULL;
  if (old) memcpy(s->names, set->names, old);
  memcpy(s->names + old, name, len);
  s->names[old + len] = '\0';
  return s;
}

c4j__names_t *c4j__names_without(const c4j__names_t *set, const char *name,
                                 size_t len) {
  c4j__names_t *s = names_new(0, set ? set->len : 0);
  size_t out = 0;
  if (s == NULL) return NULL;
  for (size_t at = 0; set != NULL && at < set->len;) {
    size_t k = strlen(set->names + at);
    if (k != len || memcmp(set->names + at, name, len) != 0) {
      memcpy(s->names + out, set->names + at, k + 1);
      out += k + 1;
      s->n++;
    }
    at += k + 1;
  }
  s->len = (uint32_t)out;
  return s;
}

/* ---- The order of an identity's commands ---- */

uint32_t c4j__held_cmd_new(c4j__held_t *h, const char *cid, size_t len,
                           int *worker) {
  c4j__cid_t *e;
  uint32_t seq = 0;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, len);
  *worker = -1;
  if (e != NULL) {
    record_t *rec = e->conn;
    *worker = rec->worker;
    seq = ++rec->cmd_next;
  }
  uv_mutex_unlock(&h->lock);
  return seq;
}

int c4j__held_cmd_turn(c4j__held_t *h, const char *cid, size_t len,
                       int worker, uint32_t seq, int *holder) {
  c4j__cid_t *e;
  int r = C4J__CMD_DROP;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, len);
  if (e != NULL) {
    record_t *rec = e->conn;
    /* Numbered by another life of the id (released and claimed again):
     * not this one's to apply. */
    if ((int32_t)(seq - rec->cmd_done) <= 0 ||
        (int32_t)(seq - rec->cmd_next) > 0)
      r = C4J__CMD_DROP;
    else if (rec->worker != worker)
      r = C4J__CMD_MOVED, *holder = rec->worker;
    else
      r = seq == rec->cmd_done + 1 ? C4J__CMD_GO : C4J__CMD_WAIT;
  }
  uv_mutex_unlock(&h->lock);
  return r;
}

void c4j__held_cmd_done(c4j__held_t *h, const char *cid, size_t len,
                        uint32_t seq) {
  c4j__cid_t *e;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, len);
  if (e != NULL) {
    record_t *rec = e->conn;
    if ((int32_t)(seq - rec->cmd_done) > 0 &&
        (int32_t)(seq - rec->cmd_next) <= 0)
      rec->cmd_done = seq;
  }
  uv_mutex_unlock(&h->lock);
}

void c4j__held_release(c4j__held_t *h, const char *cid, int worker) {
  c4j__cid_t *e;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  if (e != NULL && unpack(e).worker == worker) forget(h, e);
  uv_mutex_unlock(&h->lock);
}
