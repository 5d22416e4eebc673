/* registry.c - two chained hash maps: connection id -> user, user -> count. */
#include "registry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NB 4096

typedef struct ent {
  struct ent *next;
  char *key;
  size_t len;
  char *user;      /* conns: the user (may be NULL) */
  size_t user_len;
  size_t count;    /* users: connections */
} ent_t;

static ent_t *conns[NB], *users[NB];
static size_t nconns, nusers;

static size_t hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return (size_t)(h & (NB - 1));
}

static ent_t **find(ent_t **map, const char *k, size_t n) {
  ent_t **p = &map[hash(k, n)];
  while (*p && !((*p)->len == n && memcmp((*p)->key, k, n) == 0)) p = &(*p)->next;
  return p;
}

static char *dup(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) { memcpy(d, s, n); d[n] = 0; }
  return d;
}

static void user_inc(const char *u, size_t n, int by) {
  if (!n) return;
  ent_t **p = find(users, u, n);
  if (!*p) {
    if (by < 0) return;
    ent_t *e = calloc(1, sizeof *e);
    if (!e || !(e->key = dup(u, n))) { free(e); return; }
    e->len = n;
    *p = e;
    nusers++;
  }
  (*p)->count += by;
  if ((*p)->count == 0) {
    ent_t *e = *p;
    *p = e->next;
    free(e->key); free(e);
    nusers--;
  }
}

void reg_remove(const char *cid, size_t n) {
  ent_t **p = find(conns, cid, n);
  if (!*p) return;
  ent_t *e = *p;
  *p = e->next;
  user_inc(e->user, e->user_len, -1);
  free(e->key); free(e->user); free(e);
  nconns--;
}

void reg_add(const char *cid, size_t n, const char *user, size_t ulen) {
  reg_remove(cid, n);
  ent_t *e = calloc(1, sizeof *e);
  if (!e || !(e->key = dup(cid, n))) { free(e); return; }
  e->len = n;
  if (ulen && (e->user = dup(user, ulen))) e->user_len = ulen;
  ent_t **p = find(conns, cid, n);
  *p = e;
  nconns++;
  user_inc(e->user, e->user_len, 1);
}

int reg_has(const char *cid, size_t n) { return *find(conns, cid, n) != NULL; }
size_t reg_conns(void) { return nconns; }
size_t reg_users(void) { return nusers; }

size_t reg_user_conns(const char *u, size_t n) {
  ent_t **p = find(users, u, n);
  return *p ? (*p)->count : 0;
}

void reg_free(void) {
  for (int i = 0; i < NB; i++) {
    while (conns[i]) reg_remove(conns[i]->key, conns[i]->len);
  }
}
