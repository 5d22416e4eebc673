/* channel.c - per-worker channel index and connection id map: chained hash
 * tables (FNV-1a, power-of-two sizes, doubled at load factor 1).
 */
#include <string.h>

#include "channel.h"
#include "common.h"

static uint32_t hash(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)s[i];
    h *= 16777619u;
  }
  return h;
}

/* Defines a function doubling a table of chained entries of type T (chain
 * link `hnext`, hash `hash`).  It returns 0, or -1 with the table unchanged. */
#define DEFINE_GROW(fn, T)                                                   \
  static int fn(T ***buckets, size_t *nbuckets) {                            \
    size_t n = *nbuckets ? *nbuckets * 2 : 16;                               \
    T **nb = c4j__calloc(n, sizeof(T *));                                    \
    if (nb == NULL) return -1;                                               \
    for (size_t i = 0; i < *nbuckets; i++) {                                 \
      T *e = (*buckets)[i];                                                  \
      while (e != NULL) {                                                    \
        T *next = e->hnext;                                                  \
        e->hnext = nb[e->hash & (n - 1)];                                    \
        nb[e->hash & (n - 1)] = e;                                           \
        e = next;                                                            \
      }                                                                      \
    }                                                                        \
    c4j__free(*buckets);                                                     \
    *buckets = nb;                                                           \
    *nbuckets = n;                                                           \
    return 0;                                                                \
  }

DEFINE_GROW(grow_chans, c4j__chan_t)
DEFINE_GROW(grow_cids, c4j__cid_t)

/* ---- Channels ----------------------------------------------------------- */

void c4j__chan_index_init(c4j__chan_index_t *idx) {
  memset(idx, 0, sizeof(*idx));
}

void c4j__chan_index_free(c4j__chan_index_t *idx) {
  c4j__free(idx->buckets);
  memset(idx, 0, sizeof(*idx));
}

c4j__chan_t *c4j__chan_find(const c4j__chan_index_t *idx, const char *name,
                            size_t len) {
  uint32_t h;
  if (idx->nbuckets == 0) return NULL;
  h = hash(name, len);
  for (c4j__chan_t *c = idx->buckets[h & (idx->nbuckets - 1)]; c; c = c->hnext)
    if (c->hash == h && c->len == len && memcmp(c->name, name, len) == 0)
      return c;
  return NULL;
}

int c4j__chan_subscribe(c4j__chan_index_t *idx, const char *name, size_t len,
                        void *conn, c4j__sub_t **conn_subs) {
  c4j__chan_t *c;
  c4j__sub_t *s;

  if (len == 0 || len > 0xffff) return C4J_EBADNAME;
  c = c4j__chan_find(idx, name, len);
  if (c != NULL) {
    for (s = *conn_subs; s; s = s->conn_next)
      if (s->chan == c) return 0;
  }
  s = c4j__malloc(sizeof(*s));
  if (s == NULL) return C4J_ENOMEM;
  if (c == NULL) {
    if (idx->count >= idx->nbuckets &&
        grow_chans(&idx->buckets, &idx->nbuckets) != 0) {
      c4j__free(s);
      return C4J_ENOMEM;
    }
    c = c4j__malloc(sizeof(*c) + len + 1);
    if (c == NULL) {
      c4j__free(s);
      return C4J_ENOMEM;
    }
    c->subs = NULL;
    c->count = 0;
    c->hash = hash(name, len);
    c->len = (uint16_t)len;
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->hnext = idx->buckets[c->hash & (idx->nbuckets - 1)];
    idx->buckets[c->hash & (idx->nbuckets - 1)] = c;
    idx->count++;
  }
  s->chan = c;
  s->conn = conn;
  s->hist = NULL;
  s->last = 0;
  s->prev = NULL;
  s->next = c->subs;
  if (c->subs) c->subs->prev = s;
  c->subs = s;
  c->count++;
  s->conn_next = *conn_subs;
  *conn_subs = s;
  return 0;
}

static void chan_remove(c4j__chan_index_t *idx, c4j__chan_t *c) {
  c4j__chan_t **pp = &idx->buckets[c->hash & (idx->nbuckets - 1)];
  while (*pp != c) pp = &(*pp)->hnext;
  *pp = c->hnext;
  idx->count--;
  c4j__free(c);
}

/* Unlinks s from its channel (freed when left empty) and frees s. */
static void sub_remove(c4j__chan_index_t *idx, c4j__sub_t *s) {
  c4j__chan_t *c = s->chan;
  if (s->prev) s->prev->next = s->next;
  else c->subs = s->next;
  if (s->next) s->next->prev = s->prev;
  if (--c->count == 0) chan_remove(idx, c);
  c4j__free(s);
}

void c4j__chan_unsubscribe_all(c4j__chan_index_t *idx,
                               c4j__sub_t **conn_subs) {
  c4j__sub_t *s = *conn_subs;
  while (s != NULL) {
    c4j__sub_t *next = s->conn_next;
    sub_remove(idx, s);
    s = next;
  }
  *conn_subs = NULL;
}

c4j__sub_t *c4j__chan_sub_of(c4j__sub_t *conn_subs, const char *name,
                             size_t len) {
  for (c4j__sub_t *s = conn_subs; s; s = s->conn_next)
    if (s->chan->len == len && memcmp(s->chan->name, name, len) == 0)
      return s;
  return NULL;
}

int c4j__chan_unsubscribe(c4j__chan_index_t *idx, c4j__sub_t **conn_subs,
                          const char *name, size_t len) {
  for (c4j__sub_t **pp = conn_subs; *pp; pp = &(*pp)->conn_next)
    if ((*pp)->chan->len == len &&
        memcmp((*pp)->chan->name, name, len) == 0) {
      c4j__sub_t *s = *pp;
      *pp = s->conn_next;
      sub_remove(idx, s);
      return 1;
    }
  return 0;
}

/* ---- Connection ids ----------------------------------------------------- */

void c4j__cid_map_init(c4j__cid_map_t *m) { memset(m, 0, sizeof(*m)); }

void c4j__cid_map_free(c4j__cid_map_t *m) {
  c4j__free(m->buckets);
  memset(m, 0, sizeof(*m));
}

c4j__cid_t *c4j__cid_map_find(const c4j__cid_map_t *m, const char *id,
                              size_t len) {
  uint32_t h;
  if (m->nbuckets == 0) return NULL;
  h = hash(id, len);
  for (c4j__cid_t *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->hnext)
    if (e->hash == h && e->len == len && memcmp(e->id, id, len) == 0)
      return e;
  return NULL;
}

c4j__cid_t *c4j__cid_map_add(c4j__cid_map_t *m, const char *id, size_t len,
                             void *conn) {
  c4j__cid_t *e;
  if (len == 0 || len > 255) return NULL;
  if (m->count >= m->nbuckets &&
      grow_cids(&m->buckets, &m->nbuckets) != 0)
    return NULL;
  e = c4j__malloc(sizeof(*e) + len + 1);
  if (e == NULL) return NULL;
  e->conn = conn;
  e->hash = hash(id, len);
  e->len = (uint8_t)len;
  memcpy(e->id, id, len);
  e->id[len] = '\0';
  e->hnext = m->buckets[e->hash & (m->nbuckets - 1)];
  m->buckets[e->hash & (m->nbuckets - 1)] = e;
  m->count++;
  return e;
}

void c4j__cid_map_remove(c4j__cid_map_t *m, c4j__cid_t *e) {
  c4j__cid_t **pp = &m->buckets[e->hash & (m->nbuckets - 1)];
  while (*pp != e) pp = &(*pp)->hnext;
  *pp = e->hnext;
  m->count--;
  c4j__free(e);
}
