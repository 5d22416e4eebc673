/* held.c - which worker holds which connection id, under one mutex. */
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "held.h"

#define PACK(w, s) ((void *)(uintptr_t)((unsigned)(w) << 2 | (unsigned)(s)))

int c4j__held_init(c4j__held_t *h) {
  c4j__cid_map_init(&h->ids);
  return uv_mutex_init(&h->lock) == 0 ? 0 : C4J_ENOMEM;
}

void c4j__held_free(c4j__held_t *h) {
  for (size_t i = 0; i < h->ids.nbuckets; i++)
    while (h->ids.buckets[i] != NULL)
      c4j__cid_map_remove(&h->ids, h->ids.buckets[i]);
  c4j__cid_map_free(&h->ids);
  uv_mutex_destroy(&h->lock);
}

static c4j__holder_t unpack(const c4j__cid_t *e) {
  c4j__holder_t r = { -1, C4J__HELD_NONE };
  if (e != NULL) {
    uintptr_t v = (uintptr_t)e->conn;
    r.worker = (int)(v >> 2);
    r.state = (int)(v & 3);
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
                              int state) {
  c4j__holder_t r;
  c4j__cid_t *e;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  r = unpack(e);
  if (e == NULL) e = c4j__cid_map_add(&h->ids, cid, strlen(cid), NULL);
  if (e == NULL) r.worker = -2;
  else e->conn = PACK(worker, state);
  uv_mutex_unlock(&h->lock);
  return r;
}

int c4j__held_set(c4j__held_t *h, const char *cid, int worker, int state) {
  c4j__cid_t *e;
  int mine;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  mine = e != NULL && unpack(e).worker == worker;
  if (mine) e->conn = PACK(worker, state);
  uv_mutex_unlock(&h->lock);
  return mine;
}

void c4j__held_release(c4j__held_t *h, const char *cid, int worker) {
  c4j__cid_t *e;
  uv_mutex_lock(&h->lock);
  e = c4j__cid_map_find(&h->ids, cid, strlen(cid));
  if (e != NULL && unpack(e).worker == worker)
    c4j__cid_map_remove(&h->ids, e);
  uv_mutex_unlock(&h->lock);
}
