/* history.c - the per-channel broadcast history: an engine-wide chained
 * hash table of channels, each with its epoch and a ring of entries.
 */
#include <string.h>

#include "auth.h"
#include "common.h"
#include "history.h"

static uint32_t hash(const char *s, size_t n) {
  uint32_t v = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    v ^= (uint8_t)s[i];
    v *= 16777619u;
  }
  return v;
}

int c4j__hist_init(c4j__hist_t *h, uint32_t size, uint64_t age_ms) {
  memset(h, 0, sizeof(*h));
  if (uv_mutex_init(&h->lock) != 0) return C4J_ENOMEM;
  h->size = size;
  h->age_ms = age_ms;
  return 0;
}

static void chan_free(c4j__hist_chan_t *ch, uint32_t size) {
  for (uint32_t i = 0; i < ch->len; i++)
    c4j__buf_unref(ch->ring[(ch->head + i) % size].buf);
  c4j__free(ch->ring);
  c4j__free(ch->origins);
  c4j__free(ch);
}

void c4j__hist_free(c4j__hist_t *h) {
  for (size_t i = 0; i < h->nbuckets; i++) {
    c4j__hist_chan_t *ch = h->buckets[i];
    while (ch != NULL) {
      c4j__hist_chan_t *next = ch->hnext;
      chan_free(ch, h->size);
      ch = next;
    }
  }
  c4j__free(h->buckets);
  uv_mutex_destroy(&h->lock);
  memset(h, 0, sizeof(*h));
}

void c4j__hist_lock(c4j__hist_t *h) { uv_mutex_lock(&h->lock); }
void c4j__hist_unlock(c4j__hist_t *h) { uv_mutex_unlock(&h->lock); }

static c4j__hist_chan_t *find(const c4j__hist_t *h, const char *name,
                              size_t len, uint32_t v) {
  if (h->nbuckets == 0) return NULL;
  for (c4j__hist_chan_t *ch = h->buckets[v & (h->nbuckets - 1)]; ch;
       ch = ch->hnext)
    if (ch->hash == v && strlen(ch->name) == len &&
        memcmp(ch->name, name, len) == 0)
      return ch;
  return NULL;
}

static int grow(c4j__hist_t *h) {
  size_t n = h->nbuckets ? h->nbuckets * 2 : 16;
  c4j__hist_chan_t **nb = c4j__calloc(n, sizeof(*nb));
  if (nb == NULL) return -1;
  for (size_t i = 0; i < h->nbuckets; i++) {
    c4j__hist_chan_t *ch = h->buckets[i];
    while (ch != NULL) {
      c4j__hist_chan_t *next = ch->hnext;
      ch->hnext = nb[ch->hash & (n - 1)];
      nb[ch->hash & (n - 1)] = ch;
      ch = next;
    }
  }
  c4j__free(h->buckets);
  h->buckets = nb;
  h->nbuckets = n;
  return 0;
}

c4j__hist_chan_t *c4j__hist_chan(c4j__hist_t *h, const char *name,
                                 size_t len) {
  uint32_t v = hash(name, len);
  c4j__hist_chan_t *ch;
  uint8_t rnd[6];
  if (h->size == 0) return NULL;
  if ((ch = find(h, name, len, v)) != NULL) return ch;
  if (h->count >= h->nbuckets && grow(h) != 0) return NULL;
  ch = c4j__calloc(1, sizeof(*ch) + len + 1);
  if (ch == NULL) return NULL;
  /* 48 random bits are 8 URL-safe characters. */
  if (h->epoch[0] != '\0') {
    memcpy(ch->epoch, h->epoch, sizeof(ch->epoch));
  } else if (c4j__random(rnd, sizeof(rnd)) != 0) {
    c4j__free(ch);
    return NULL;
  } else {
    c4j_b64url_encode(rnd, sizeof(rnd), ch->epoch);
  }
  ch->hash = v;
  memcpy(ch->name, name, len);
  ch->hnext = h->buckets[v & (h->nbuckets - 1)];
  h->buckets[v & (h->nbuckets - 1)] = ch;
  h->count++;
  return ch;
}

static void drop_oldest(c4j__hist_t *h, c4j__hist_chan_t *ch) {
  c4j__buf_unref(ch->ring[ch->head].buf);
  ch->head = (ch->head + 1) % h->size;
  ch->len--;
}

/* Drops the entries older than the history's age. */
/* now may be older than the newest entries (a resume takes its time
 * before it waits for the lock, while publishers append): an entry
 * stamped after it is fresh, not 2^64 ms old. */
static void expire(c4j__hist_t *h, c4j__hist_chan_t *ch, uint64_t now) {
  while (ch->len > 0 && now > ch->ring[ch->head].stamp &&
         now - ch->ring[ch->head].stamp > h->age_ms)
    drop_oldest(h, ch);
}

int c4j__hist_reserve(c4j__hist_t *h, c4j__hist_chan_t *ch) {
  if (ch->ring == NULL)
    ch->ring = c4j__malloc(h->size * sizeof(*ch->ring));
  return ch->ring != NULL ? 0 : C4J_ENOMEM;
}

int c4j__hist_append(c4j__hist_t *h, c4j__hist_chan_t *ch, c4j__buf_t *b,
                     uint64_t now) {
  c4j__hist_entry_t *e;
  if (c4j__hist_reserve(h, ch) != 0) return C4J_ENOMEM;
  expire(h, ch, now);
  if (ch->len == h->size) drop_oldest(h, ch);
  e = &ch->ring[(ch->head + ch->len) % h->size];
  e->buf = c4j__buf_ref(b, 1);
  e->stamp = now;
  ch->len++;
  ch->last = b->offset;
  return 0;
}

void c4j__hist_each(c4j__hist_t *h, void (*fn)(c4j__hist_chan_t *, void *),
                    void *arg) {
  for (size_t i = 0; i < h->nbuckets; i++)
    for (c4j__hist_chan_t *ch = h->buckets[i]; ch != NULL; ch = ch->hnext)
      fn(ch, arg);
}

void c4j__hist_jump(c4j__hist_t *h, c4j__hist_chan_t *ch, uint64_t last) {
  if (last <= ch->last) return;
  while (ch->len > 0) drop_oldest(h, ch);
  ch->last = last;
}

int c4j__hist_seen(c4j__hist_chan_t *ch, const char *node, size_t len,
                   uint64_t n) {
  c4j__hist_origin_t *o, *oldest;
  if (len == 0 || len > C4J__NODE_ID_LEN) return 0;
  if (ch->origins == NULL &&
      (ch->origins = c4j__calloc(C4J__HIST_ORIGINS,
                                 sizeof(*ch->origins))) == NULL)
    return 0;
  oldest = &ch->origins[0];
  ch->tick++;
  for (int i = 0; i < C4J__HIST_ORIGINS; i++) {
    o = &ch->origins[i];
    if (strlen(o->node) == len && memcmp(o->node, node, len) == 0) {
      o->used = ch->tick;
      if (n <= o->n) return 1;
      o->n = n;
      return 0;
    }
    if (o->used < oldest->used) oldest = o;
  }
  memcpy(oldest->node, node, len);
  oldest->node[len] = '\0';
  oldest->n = n;
  oldest->used = ch->tick;
  return 0;
}

int c4j__hist_after(c4j__hist_t *h, c4j__hist_chan_t *ch, uint64_t offset,
                    uint64_t now, c4j__buf_t ***out, size_t *n) {
  uint64_t missed;
  *out = NULL;
  *n = 0;
  if (offset > ch->last) return 0;
  expire(h, ch, now);
  /* The ring keeps the len newest offsets, up to last: the last - offset
   * missed are all kept when they are no more than len (compared without
   * a sum that could wrap: a hub record may carry any offset, up to
   * UINT64_MAX). */
  missed = ch->last - offset;
  if (missed > ch->len) return 0;
  if (missed > 0) {
    *out = c4j__malloc(missed * sizeof(**out));
    if (*out == NULL) return C4J_ENOMEM;
    for (size_t i = 0; i < missed; i++) {
      uint32_t at = (uint32_t)(ch->len - missed + i);
      (*out)[i] = c4j__buf_ref(ch->ring[(ch->head + at) % h->size].buf, 1);
    }
  }
  *n = missed;
  return 1;
}

int c4j__hist_since(c4j__hist_t *h, const char *name, size_t len,
                    const char *epoch, uint64_t offset, uint64_t now,
                    c4j__buf_t ***out, size_t *n, uint64_t *last) {
  c4j__hist_chan_t *ch;
  int rc = 0;
  *out = NULL;
  *n = 0;
  uv_mutex_lock(&h->lock);
  ch = find(h, name, len, hash(name, len));
  if (ch != NULL && strcmp(ch->epoch, epoch) == 0) {
    rc = c4j__hist_after(h, ch, offset, now, out, n);
    *last = ch->last;
  }
  uv_mutex_unlock(&h->lock);
  return rc;
}
