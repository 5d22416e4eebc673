/* pending.c - the register of unfinished requests by client address: a
 * chained hash table of (key, count) under one mutex, an entry made when
 * an address's first unfinished request comes and freed with its last,
 * and the keyed hash that makes a key of an address (pending.h).
 */
#include <string.h>
#include <netinet/in.h>

#include "common.h"
#include "pending.h"

#define FIRST_BUCKETS 256

struct c4j__pending_entry_s {
  c4j__pending_entry_t *next;
  uint32_t key;
  int count;
};

int c4j__pending_init(c4j__pending_t *p) {
  int rc;
  memset(p, 0, sizeof(*p));
  atomic_init(&p->total, 0);
  rc = c4j__random(p->seed, sizeof(p->seed));
  if (rc != 0) return rc;
  p->buckets = c4j__calloc(FIRST_BUCKETS, sizeof(*p->buckets));
  if (p->buckets == NULL) return C4J_ENOMEM;
  p->nbuckets = FIRST_BUCKETS;
  if (uv_mutex_init(&p->lock) != 0) {
    c4j__free(p->buckets);
    p->buckets = NULL;
    return C4J_ENOMEM;
  }
  return 0;
}

void c4j__pending_free(c4j__pending_t *p) {
  if (p->buckets == NULL) return;
  for (size_t i = 0; i < p->nbuckets; i++)
    while (p->buckets[i] != NULL) {
      c4j__pending_entry_t *e = p->buckets[i];
      p->buckets[i] = e->next;
      c4j__free(e);
    }
  c4j__free(p->buckets);
  p->buckets = NULL;
  uv_mutex_destroy(&p->lock);
}

/* ---- Keys ----------------------------------------------------------------- */

/* splitmix64's finalizer: every bit of x moves every bit of the result. */
static uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint32_t c4j__pending_key(const c4j__pending_t *p, const struct sockaddr *sa) {
  uint8_t a[16];
  uint64_t w0 = 0, w1 = 0, h;
  memset(a, 0, sizeof(a));
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
    a[10] = a[11] = 0xff;
    memcpy(a + 12, &v4->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
      memcpy(a, &v6->sin6_addr, 16);
    else
      memcpy(a, &v6->sin6_addr, 8); /* the /64 */
  } else {
    a[0] = 0xfe; /* a family of its own: one address */
    a[1] = (uint8_t)sa->sa_family;
  }
  memcpy(&w0, a, 8);
  memcpy(&w1, a + 8, 8);
  h = mix(w0 ^ p->seed[0]);
  h = mix(h ^ w1 ^ p->seed[1]);
  return (uint32_t)(h ^ (h >> 32));
}

/* ---- Counts --------------------------------------------------------------- */

static c4j__pending_entry_t **slot(c4j__pending_t *p, uint32_t key) {
  c4j__pending_entry_t **s = &p->buckets[key & (p->nbuckets - 1)];
  while (*s != NULL && (*s)->key != key) s = &(*s)->next;
  return s;
}

/* Doubles the buckets once there are more entries than buckets; stays as
 * it is when out of memory (chains only get longer). */
static void grow(c4j__pending_t *p) {
  size_t n = p->nbuckets * 2;
  c4j__pending_entry_t **b = c4j__calloc(n, sizeof(*b));
  if (b == NULL) return;
  for (size_t i = 0; i < p->nbuckets; i++)
    while (p->buckets[i] != NULL) {
      c4j__pending_entry_t *e = p->buckets[i];
      p->buckets[i] = e->next;
      e->next = b[e->key & (n - 1)];
      b[e->key & (n - 1)] = e;
    }
  c4j__free(p->buckets);
  p->buckets = b;
  p->nbuckets = n;
}

int c4j__pending_add(c4j__pending_t *p, uint32_t key, int cap) {
  c4j__pending_entry_t **s, *e;
  int rc = 1;
  uv_mutex_lock(&p->lock);
  s = slot(p, key);
  if ((e = *s) != NULL) {
    if (cap > 0 && e->count >= cap) rc = 0;
    else e->count++;
  } else if ((e = c4j__malloc(sizeof(*e))) == NULL) {
    rc = C4J_ENOMEM;
  } else {
    e->key = key;
    e->count = 1;
    e->next = NULL;
    *s = e;
    if (++p->nentries > p->nbuckets) grow(p);
  }
  if (rc == 1) atomic_fetch_add(&p->total, 1);
  uv_mutex_unlock(&p->lock);
  return rc;
}

void c4j__pending_remove(c4j__pending_t *p, uint32_t key) {
  c4j__pending_entry_t **s, *e;
  uv_mutex_lock(&p->lock);
  s = slot(p, key);
  if ((e = *s) != NULL) {
    atomic_fetch_sub(&p->total, 1);
    if (--e->count == 0) {
      *s = e->next;
      c4j__free(e);
      p->nentries--;
    }
  }
  uv_mutex_unlock(&p->lock);
}

int c4j__pending_count(c4j__pending_t *p, uint32_t key) {
  c4j__pending_entry_t *e;
  int n;
  uv_mutex_lock(&p->lock);
  e = *slot(p, key);
  n = e ? e->count : 0;
  uv_mutex_unlock(&p->lock);
  return n;
}
