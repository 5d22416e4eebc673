/* registry.c - two chained hash maps: connection id -> user, user -> count;
 * with a hub, this node's share of the "online" map follows them. */
#include "registry.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
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
static c4j_engine_t *hub;

void reg_hub(c4j_engine_t *e) { hub = e; }

/* The hub call only queues (c4j.h); a failure (outbox full, engine
 * stopping) leaves the map without this entry until the node's entries
 * are written again, which /api/online tolerates: it is a count. */
/* This node's entries of the cluster maps for one connection: "online"
 * (cId -> user) and "conn:<cId>" (u -> user), the one a handshake on
 * another node reads to keep the page's id (docs/protocol.md section 9). */
static void hub_online(const char *cid, size_t n, const char *user, size_t ulen,
                       int held) {
  char key[5 + 256];
  size_t klen;
  json_t *u;
  char *js;
  if (!hub) return;
  klen = (size_t)snprintf(key, sizeof key, "conn:%.*s", (int)(n < 256 ? n : 256), cid);
  if (!held) {
    c4j_hub_set(hub, "online", 6, cid, n, NULL, 0);
    c4j_hub_set(hub, key, klen, "u", 1, NULL, 0);
    return;
  }
  u = ulen ? json_stringn(user, ulen) : json_null();
  js = u ? json_dumps(u, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
  if (js) {
    c4j_hub_set(hub, "online", 6, cid, n, js, strlen(js));
    c4j_hub_set(hub, key, klen, "u", 1, js, strlen(js));
  }
  free(js);
  json_decref(u);
}

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

static int unlink_conn(const char *cid, size_t n) {
  ent_t **p = find(conns, cid, n);
  if (!*p) return 0;
  ent_t *e = *p;
  *p = e->next;
  user_inc(e->user, e->user_len, -1);
  free(e->key); free(e->user); free(e);
  nconns--;
  return 1;
}

void reg_remove(const char *cid, size_t n) {
  if (unlink_conn(cid, n)) hub_online(cid, n, NULL, 0, 0);
}

void reg_add(const char *cid, size_t n, const char *user, size_t ulen) {
  unlink_conn(cid, n);
  hub_online(cid, n, user, ulen, 1);
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

int reg_user(const char *cid, size_t n, const char **user, size_t *len) {
  ent_t *e = *find(conns, cid, n);
  if (!e) return 0;
  *user = e->user ? e->user : "";
  *len = e->user_len;
  return 1;
}
size_t reg_conns(void) { return nconns; }
size_t reg_users(void) { return nusers; }

size_t reg_user_conns(const char *u, size_t n) {
  ent_t **p = find(users, u, n);
  return *p ? (*p)->count : 0;
}

/* The engine has stopped: only memory is freed here (a stopped node's
 * entries are ignored once its hub heartbeat is 10 s old). */
void reg_free(void) {
  hub = NULL;
  for (int i = 0; i < NB; i++) {
    while (conns[i]) unlink_conn(conns[i]->key, conns[i]->len);
  }
}
