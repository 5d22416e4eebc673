/* held.c - which worker holds which connection id, under one mutex. */
#include <string.h>

#include "common.h"
#include "held.h"

typedef struct {
  int worker, state;
  c4j__pos_t *pos;
} record_t;

int c4j__held_init(c4j__held_t *h) {
  c4j__cid_map_init(&h->ids);
  return uv_mutex_init(&h->lock) == 0 ? 0 : C4J_ENOMEM;
}

static void forget(c4j__held_t *h, c4j__cid_t *e) {
  record_t *r = e->conn;
  c4j__free(r->pos);
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
                              int state, c4j__pos_t **pos) {
  c4j__holder_t r;
  c4j__cid_t *e;
  record_t *rec;
  *pos = NULL;
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
  rec->worker = worker;
  rec->state = state;
  *pos = rec->pos;
  rec->pos = NULL;
  uv_mutex_unlock(&h->lock);
  return r;
}

int c4j__held_set(c4j__held_t *h, const char *cid, int worker, int state,
                  c4j__pos_t *pos) {
  c4j__cid_t *e;
  int mine;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  mine = e != NULL && unpack(e).worker == worker;
  if (mine) {
    record_t *rec = e->conn;
    rec->state = state;
    if (pos != NULL) {
      c4j__free(rec->pos);
      rec->pos = pos;
      pos = NULL;
    }
  }
  uv_mutex_unlock(&h->lock);
  c4j__free(pos);
  return mine;
}

void c4j__held_release(c4j__held_t *h, const char *cid, int worker) {
  c4j__cid_t *e;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  if (e != NULL && unpack(e).worker == worker) forget(h, e);
  uv_mutex_unlock(&h->lock);
}
