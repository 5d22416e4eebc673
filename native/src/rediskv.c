/* rediskv.c - the cluster-wide maps (c4j_hub_set, c4j_hub_get).  On the
 * Redis thread: this node's own entries, kept in the kv table and written
 * as HSET/HDEL of "<node id>:<field>" in <p>:kv:<key>, all of them again
 * after each link-up (Redis may have restarted empty), deleted when the
 * node leaves while linked.  On the caller's thread: the merged get, on
 * a blocking connection of its own, which keeps the fields of live nodes
 * and writes them as one JSON object sorted by field.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "redis.h"
#include "redisint.h"

#define KV_MAX_NAME 256
#define KV_MAX_VALUE 65536

/* ---- The kv table (this node's map entries) ------------------------------ */

static uint64_t kv_hash(const req_t *q) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < q->a_len; i++)
    h = (h ^ (uint8_t)q->a[i]) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull; /* key and field apart */
  for (size_t i = 0; i < q->b_len; i++)
    h = (h ^ (uint8_t)q->b[i]) * 1099511628211ull;
  return h;
}

/* The link pointing at the entry with q's key and field (or the chain's
 * end). */
static req_t **kv_link(c4j__redis_t *r, const req_t *q) {
  req_t **l = &r->slots[q->num % r->nslots];
  for (; *l != NULL; l = &(*l)->next) {
    const req_t *p = *l;
    if (p->num == q->num && p->a_len == q->a_len && p->b_len == q->b_len &&
        memcmp(p->a, q->a, q->a_len) == 0 &&
        memcmp(p->b, q->b, q->b_len) == 0)
      break;
  }
  return l;
}

static void kv_grow(c4j__redis_t *r) {
  size_t n = r->nslots ? r->nslots * 2 : 64;
  req_t **s = c4j__calloc(n, sizeof(*s));
  if (s == NULL) return; /* longer chains, still correct */
  for (size_t i = 0; i < r->nslots; i++) {
    req_t *q = r->slots[i], *next;
    for (; q != NULL; q = next) {
      next = q->next;
      q->next = s[q->num % n];
      s[q->num % n] = q;
    }
  }
  c4j__free(r->slots);
  r->slots = s;
  r->nslots = n;
}

/* Takes q (replacing the entry with the same key and field); 0, or
 * C4J_ENOMEM after freeing q. */
static int kv_put(c4j__redis_t *r, req_t *q) {
  req_t **l;
  q->num = kv_hash(q);
  if (r->nkv >= r->nslots * 2) kv_grow(r);
  if (r->nslots == 0) {
    c4j__free(q);
    return C4J_ENOMEM;
  }
  l = kv_link(r, q);
  if (*l != NULL) {
    req_t *old = *l;
    q->next = old->next;
    c4j__free(old);
  } else {
    q->next = NULL;
    r->nkv++;
  }
  *l = q;
  return 0;
}

void c4j__rkv_free(c4j__redis_t *r) {
  for (size_t i = 0; i < r->nslots; i++) {
    req_t *q = r->slots[i], *next;
    for (; q != NULL; q = next) next = q->next, c4j__free(q);
  }
  c4j__free(r->slots);
  r->slots = NULL;
  r->nslots = r->nkv = 0;
}

/* HSET (or HDEL, for a removal or when `remove`) of one entry. */
static void send_kv(c4j__redis_t *r, const req_t *q, int remove) {
  char key[KEY_CAP], name[C4J__NODE_ID_LEN + 2 + KV_MAX_NAME];
  size_t nl = strlen(r->node_id);
  const char *argv[4];
  size_t lens[4];
  memcpy(name, r->node_id, nl);
  name[nl] = ':';
  memcpy(name + nl + 1, q->b, q->b_len);
  remove = remove || !q->has_value;
  argv[0] = remove ? "HDEL" : "HSET";
  argv[1] = key;
  argv[2] = name;
  argv[3] = q->c;
  lens[0] = 4;
  lens[1] = c4j__rlink_key(r, ":kv:", q->a, q->a_len, key);
  lens[2] = nl + 1 + q->b_len;
  lens[3] = q->c_len;
  c4j__rlink_send(&r->cmd, NULL, NULL, remove ? 3 : 4, argv, lens);
}

/* Writes every entry (after a link-up: Redis may have restarted empty);
 * removals, once sent, are forgotten.  With `remove`, deletes them all
 * (the node stops). */
void c4j__rkv_write_all(c4j__redis_t *r, int remove) {
  for (size_t i = 0; i < r->nslots; i++) {
    req_t **l = &r->slots[i];
    while (*l != NULL) {
      req_t *q = *l;
      send_kv(r, q, remove);
      if (q->has_value || remove) {
        l = &q->next;
        continue;
      }
      *l = q->next;
      r->nkv--;
      c4j__free(q);
    }
  }
}

void c4j__rkv_dispatch(c4j__redis_t *r, req_t *q) {
  int removal = !q->has_value;
  if (kv_put(r, q) != 0) return;
  if (!linked(r)) return;
  send_kv(r, q, 0);
  if (removal) {
    req_t **l = kv_link(r, q);
    *l = q->next;
    r->nkv--;
    c4j__free(q);
  }
}

/* ---- API ----------------------------------------------------------------- */

int c4j__redis_set(c4j__redis_t *r, const char *key, size_t key_len,
                   const char *field, size_t field_len, const char *value,
                   size_t value_len) {
  req_t *q;
  if (key == NULL || field == NULL || key_len < 1 ||
      key_len > KV_MAX_NAME || field_len < 1 || field_len > KV_MAX_NAME)
    return UV_EINVAL;
  if (value != NULL && value_len > KV_MAX_VALUE) return C4J_ETOOBIG;
  q = c4j__rlink_req(R_SET, key, key_len, field, field_len, value,
                     value ? value_len : 0);
  if (q != NULL) q->has_value = value != NULL;
  return c4j__rlink_submit(r, q, 0);
}

/* ---- get: the merged map, on the caller's thread ------------------------- */

typedef struct {
  const char *field, *value;
  size_t field_len, value_len;
} item_t;

static int item_cmp(const void *a, const void *b) {
  const item_t *x = a, *y = b;
  size_t n = x->field_len < y->field_len ? x->field_len : y->field_len;
  int c = memcmp(x->field, y->field, n);
  if (c != 0) return c;
  return x->field_len < y->field_len ? -1 : x->field_len > y->field_len;
}

/* Whether node (n bytes) has a heartbeat within ALIVE_MS in `nodes`. */
static int node_alive(const redisReply *nodes, const char *node, size_t n,
                      int64_t now) {
  for (size_t i = 0; i + 1 < nodes->elements; i += 2) {
    const redisReply *k = nodes->element[i], *v = nodes->element[i + 1];
    char *end;
    long long t;
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
        k->len != n || memcmp(k->str, node, n) != 0)
      continue;
    t = strtoll(v->str, &end, 10);
    if (end == v->str || *end != '\0') return 0;
    return t > now - ALIVE_MS && t < now + ALIVE_MS;
  }
  return 0;
}

/* The fields of live nodes, sorted; how many. */
static size_t collect(const redisReply *kv, const redisReply *nodes,
                      item_t *v) {
  int64_t now = c4j__wall_ms();
  size_t n = 0;
  for (size_t i = 0; i + 1 < kv->elements; i += 2) {
    const redisReply *k = kv->element[i], *val = kv->element[i + 1];
    const char *colon;
    if (k->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING ||
        val->len == 0)
      continue;
    colon = memchr(k->str, ':', k->len);
    if (colon == NULL || colon + 1 == k->str + k->len ||
        !node_alive(nodes, k->str, (size_t)(colon - k->str), now))
      continue;
    v[n].field = colon + 1;
    v[n].field_len = k->len - (size_t)(colon + 1 - k->str);
    v[n].value = val->str;
    v[n].value_len = val->len;
    n++;
  }
  qsort(v, n, sizeof(*v), item_cmp);
  return n;
}

static void put(char *out, size_t cap, size_t *pos, const char *s,
                size_t n) {
  if (*pos < cap) memcpy(out + *pos, s, n < cap - *pos ? n : cap - *pos);
  *pos += n;
}

static void put_escaped(char *out, size_t cap, size_t *pos, const char *s,
                        size_t n) {
  char u[8];
  put(out, cap, pos, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') {
      u[0] = '\\', u[1] = (char)ch;
      put(out, cap, pos, u, 2);
    } else if (ch < 0x20) {
      snprintf(u, sizeof(u), "\\u%04x", ch);
      put(out, cap, pos, u, 6);
    } else {
      put(out, cap, pos, s + i, 1);
    }
  }
  put(out, cap, pos, "\"", 1);
}

/* {"field": value, ...}, one per field; the length or C4J_ETOOBIG. */
static int write_map(const redisReply *kv, const redisReply *nodes,
                     char *out, size_t cap) {
  item_t *v = NULL;
  size_t n = 0, pos = 0;
  if (kv->elements > 0) {
    v = c4j__calloc(kv->elements / 2 + 1, sizeof(*v));
    if (v == NULL) return C4J_ENOMEM;
    n = collect(kv, nodes, v);
  }
  put(out, cap, &pos, "{", 1);
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && item_cmp(&v[i - 1], &v[i]) == 0) continue;
    if (pos > 1) put(out, cap, &pos, ",", 1);
    put_escaped(out, cap, &pos, v[i].field, v[i].field_len);
    put(out, cap, &pos, ":", 1);
    put(out, cap, &pos, v[i].value, v[i].value_len);
  }
  put(out, cap, &pos, "}", 1);
  c4j__free(v);
  if (pos > cap || pos > INT_MAX) return C4J_ETOOBIG;
  if (pos < cap) out[pos] = '\0';
  return (int)pos;
}

int c4j__redis_get(c4j__redis_t *r, const char *key, size_t key_len,
                   char *out, size_t cap, int timeout_ms) {
  char why[256], k[KEY_CAP];
  const char *argv[2] = { "HGETALL", r->k_nodes };
  size_t lens[2] = { 7, strlen(r->k_nodes) };
  redisReply *nodes = NULL, *kv = NULL;
  redisContext *c;
  int rc = C4J_EHUB;
  if (key == NULL || key_len < 1 || key_len > KV_MAX_NAME ||
      (out == NULL && cap > 0))
    return UV_EINVAL;
  if ((c = c4j__rlink_connect_sync(r, timeout_ms, why, sizeof(why))) == NULL)
    return C4J_EHUB;
  redisAppendCommandArgv(c, 2, argv, lens);
  argv[1] = k;
  lens[1] = c4j__rlink_key(r, ":kv:", key, key_len, k);
  redisAppendCommandArgv(c, 2, argv, lens);
  if (redisGetReply(c, (void **)&nodes) == REDIS_OK &&
      redisGetReply(c, (void **)&kv) == REDIS_OK && nodes && kv) {
    if (nodes->type != REDIS_REPLY_ARRAY) nodes->elements = 0;
    if (kv->type != REDIS_REPLY_ARRAY) kv->elements = 0;
    rc = write_map(kv, nodes, out, cap);
  }
  if (nodes) freeReplyObject(nodes);
  if (kv) freeReplyObject(kv);
  redisFree(c);
  return rc;
}

/* [{"id":..,"heartbeat":ms,"alive":bool,"self":bool}, ...] of `nodes`,
 * sorted by id; the length or C4J_ETOOBIG. */
static int write_nodes(const c4j__redis_t *r, const redisReply *nodes,
                       char *out, size_t cap) {
  int64_t now = c4j__wall_ms();
  size_t n = 0, pos = 0;
  item_t *v = NULL;
  char num[64];
  if (nodes->elements > 0) {
    v = c4j__calloc(nodes->elements / 2 + 1, sizeof(*v));
    if (v == NULL) return C4J_ENOMEM;
  }
  for (size_t i = 0; i + 1 < nodes->elements; i += 2) {
    const redisReply *k = nodes->element[i], *t = nodes->element[i + 1];
    if (k->type != REDIS_REPLY_STRING || t->type != REDIS_REPLY_STRING)
      continue;
    v[n].field = k->str, v[n].field_len = k->len;
    v[n].value = t->str, v[n].value_len = t->len;
    n++;
  }
  if (n > 0) qsort(v, n, sizeof(*v), item_cmp);
  put(out, cap, &pos, "[", 1);
  for (size_t i = 0; i < n; i++) {
    char *end;
    long long t = strtoll(v[i].value, &end, 10);
    int ok = end != v[i].value && *end == '\0';
    int alive = ok && t > now - ALIVE_MS && t < now + ALIVE_MS;
    int self = v[i].field_len == strlen(r->node_id) &&
               memcmp(v[i].field, r->node_id, v[i].field_len) == 0;
    if (i > 0) put(out, cap, &pos, ",", 1);
    put(out, cap, &pos, "{\"id\":", 6);
    put_escaped(out, cap, &pos, v[i].field, v[i].field_len);
    snprintf(num, sizeof(num), ",\"heartbeat\":%lld,\"alive\":%s,\"self\":%s}",
             ok ? t : 0LL, alive ? "true" : "false", self ? "true" : "false");
    put(out, cap, &pos, num, strlen(num));
  }
  put(out, cap, &pos, "]", 1);
  c4j__free(v);
  if (pos > cap || pos > INT_MAX) return C4J_ETOOBIG;
  if (pos < cap) out[pos] = '\0';
  return (int)pos;
}

int c4j__redis_nodes(c4j__redis_t *r, char *out, size_t cap,
                     int timeout_ms) {
  char why[256];
  const char *argv[2] = { "HGETALL", r->k_nodes };
  size_t lens[2] = { 7, strlen(r->k_nodes) };
  redisReply *nodes = NULL;
  redisContext *c;
  int rc = C4J_EHUB;
  if (out == NULL && cap > 0) return UV_EINVAL;
  if ((c = c4j__rlink_connect_sync(r, timeout_ms, why, sizeof(why))) == NULL)
    return C4J_EHUB;
  nodes = redisCommandArgv(c, 2, argv, lens);
  if (nodes != NULL) {
    if (nodes->type != REDIS_REPLY_ARRAY) nodes->elements = 0;
    rc = write_nodes(r, nodes, out, cap);
    freeReplyObject(nodes);
  }
  redisFree(c);
  return rc;
}
