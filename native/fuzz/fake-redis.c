/* fake-redis.c - the calls of redis.h over no Redis at all, for fuzz-bus
 * (see fake-redis.h): what hub.c sends is queued, what hub.c hears comes
 * from the fuzzer. */
#include "fake-redis.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c4j.h"
#include "common.h"
#include <uv.h>

#define MAX_LINKS 4      /* engines with a fake link at once */
#define MAX_QUEUED 4096  /* records waiting for their echo: then EFULL */
#define MAX_ENTRIES 64   /* history entries waiting for a fetch */
#define MAX_FETCHES 256

typedef struct rec_s {
  struct rec_s *next;
  size_t len;
  char text[];
} rec_t;

typedef struct {
  char ch[C4J_MAX_CHANNEL + 1];
  size_t len;
  uint64_t after;
} fetch_t;

/* A channel's newest offset, as the publish script keeps it in <p>:seq. */
typedef struct seq_s {
  struct seq_s *next;
  uint64_t last;
  size_t len;
  char ch[];
} seq_t;

/* Invariant: everything below `lock` is guarded by it; the callbacks are
 * never called with it held (hub.c takes the history lock in them, and a
 * publisher holding that lock may be waiting here). */
struct c4j__redis_s {
  c4j__redis_callbacks_t cb;
  char node_id[C4J__NODE_ID_LEN + 1];
  char epoch[C4J__EPOCH_LEN + 1];
  int history_size;
  pthread_mutex_t lock;
  int up;
  rec_t *head, *tail;
  size_t queued;
  uint64_t dropped;
  seq_t *seqs;
  fetch_t fetches[MAX_FETCHES];
  int nfetches;
  c4j__redis_entry_t entries[MAX_ENTRIES];
  int nentries;
};

static c4j__redis_t *links[MAX_LINKS];
static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- redis.h ----------------------------------------------------------------- */

int c4j__redis_start(const c4j__redis_options_t *opts,
                     const c4j__redis_callbacks_t *cb,
                     char epoch_out[C4J__EPOCH_LEN + 1], c4j__redis_t **out,
                     char *why, size_t why_cap) {
  c4j__redis_t *r = calloc(1, sizeof(*r));
  int slot = -1;
  if (r == NULL) return C4J_ENOMEM;
  r->cb = *cb;
  snprintf(r->node_id, sizeof(r->node_id), "%s", opts->node_id);
  /* A fixed cluster epoch: inputs can name it ("since", records). */
  snprintf(r->epoch, sizeof(r->epoch), "fuzzEPOC");
  memcpy(epoch_out, r->epoch, C4J__EPOCH_LEN + 1);
  r->history_size = opts->history_size;
  r->up = 1;
  pthread_mutex_init(&r->lock, NULL);
  pthread_mutex_lock(&links_lock);
  for (int i = 0; i < MAX_LINKS && slot < 0; i++)
    if (links[i] == NULL) links[slot = i] = r;
  pthread_mutex_unlock(&links_lock);
  if (slot < 0) {
    snprintf(why, why_cap, "fake-redis: more than %d links", MAX_LINKS);
    free(r);
    return C4J_EHUB;
  }
  *out = r;
  return 0;
}

static void entries_free(c4j__redis_t *r) {
  for (int i = 0; i < r->nentries; i++) {
    free((char *)r->entries[i].data);
    free((char *)r->entries[i].u);
  }
  r->nentries = 0;
}

void c4j__redis_stop(c4j__redis_t *r) {
  if (r == NULL) return;
  pthread_mutex_lock(&links_lock);
  for (int i = 0; i < MAX_LINKS; i++)
    if (links[i] == r) links[i] = NULL;
  pthread_mutex_unlock(&links_lock);
  while (r->head != NULL) {
    rec_t *q = r->head;
    r->head = q->next;
    free(q);
  }
  while (r->seqs != NULL) {
    seq_t *s = r->seqs;
    r->seqs = s->next;
    free(s);
  }
  entries_free(r);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

int c4j__redis_up(c4j__redis_t *r) {
  int up;
  pthread_mutex_lock(&r->lock);
  up = r->up;
  pthread_mutex_unlock(&r->lock);
  return up;
}

/* Queues a record for its echo; the caller holds the lock. */
static int queue(c4j__redis_t *r, const char *h, size_t hn, const char *p,
                 size_t pn) {
  rec_t *q;
  if (r->queued >= MAX_QUEUED) {
    r->dropped++;
    return C4J_EFULL;
  }
  if ((q = malloc(sizeof(*q) + hn + pn)) == NULL) return C4J_ENOMEM;
  q->next = NULL;
  q->len = hn + pn;
  memcpy(q->text, h, hn);
  if (pn) memcpy(q->text + hn, p, pn);
  if (r->tail) r->tail->next = q;
  else r->head = q;
  r->tail = q;
  r->queued++;
  return 0;
}

static seq_t *seq_of(c4j__redis_t *r, const char *ch, size_t len) {
  seq_t *s;
  for (s = r->seqs; s != NULL; s = s->next)
    if (s->len == len && memcmp(s->ch, ch, len) == 0) return s;
  if ((s = calloc(1, sizeof(*s) + len + 1)) == NULL) return NULL;
  memcpy(s->ch, ch, len);
  s->len = len;
  s->next = r->seqs;
  r->seqs = s;
  return s;
}

/* The publish script of redisbus.c: offset max(stored, known) + 1, then
 * the "m" record on the bus. */
int c4j__redis_publish(c4j__redis_t *r, const char *ch, size_t ch_len,
                       const char *data, size_t len, int64_t time_ms,
                       uint64_t known_last, const char *u) {
  char h[C4J_MAX_CHANNEL + C4J__MSG_ID_CAP + 128];
  seq_t *s;
  int n, rc;
  if (ch_len == 0 || ch_len > C4J_MAX_CHANNEL) return UV_EINVAL;
  if (u != NULL && (u[0] == '\0' || strlen(u) >= C4J__MSG_ID_CAP))
    return UV_EINVAL;
  pthread_mutex_lock(&r->lock);
  if ((s = seq_of(r, ch, ch_len)) == NULL) {
    pthread_mutex_unlock(&r->lock);
    return C4J_ENOMEM;
  }
  if (known_last > s->last) s->last = known_last;
  s->last++;
  n = snprintf(h, sizeof(h), "m\t%s\t%.*s\t%s\t%" PRIu64 "\t%" PRId64
               "\t%s\n", r->node_id, (int)ch_len, ch, r->epoch, s->last,
               time_ms, u ? u : "-");
  rc = queue(r, h, (size_t)n, data, len);
  pthread_mutex_unlock(&r->lock);
  return rc;
}

int c4j__redis_bus(c4j__redis_t *r, const char *rec, size_t len) {
  int rc;
  pthread_mutex_lock(&r->lock);
  rc = queue(r, rec, len, NULL, 0);
  pthread_mutex_unlock(&r->lock);
  return rc;
}

int c4j__redis_fetch(c4j__redis_t *r, const char *ch, size_t ch_len,
                     uint64_t after) {
  int rc = 0;
  if (ch_len == 0 || ch_len > C4J_MAX_CHANNEL) return UV_EINVAL;
  pthread_mutex_lock(&r->lock);
  if (r->nfetches < MAX_FETCHES) {
    fetch_t *f = &r->fetches[r->nfetches++];
    memcpy(f->ch, ch, ch_len);
    f->len = ch_len;
    f->after = after;
  } else {
    rc = C4J_EFULL;
  }
  pthread_mutex_unlock(&r->lock);
  return rc;
}

int c4j__redis_action(c4j__redis_t *r, const char *json, size_t len) {
  return 0;
}

int c4j__redis_action_done(c4j__redis_t *r, const char *json, size_t len) {
  return 0;
}

int c4j__redis_set(c4j__redis_t *r, const char *key, size_t key_len,
                   const char *field, size_t field_len, const char *value,
                   size_t value_len) {
  return 0;
}

int c4j__redis_get(c4j__redis_t *r, const char *key, size_t key_len,
                   char *out, size_t cap, int timeout_ms) {
  if (cap < 3) return C4J_ETOOBIG;
  memcpy(out, "{}", 3);
  return 2;
}

int c4j__redis_nodes(c4j__redis_t *r, char *out, size_t cap, int timeout_ms) {
  if (cap < 3) return C4J_ETOOBIG;
  memcpy(out, "[]", 3);
  return 2;
}

void c4j__redis_floor(c4j__redis_t *r, const char *ch, size_t ch_len,
                      uint64_t last) {}

void c4j__redis_stats(c4j__redis_t *r, uint64_t *outbox, uint64_t *dropped) {
  pthread_mutex_lock(&r->lock);
  *outbox = r->queued;
  *dropped = r->dropped;
  pthread_mutex_unlock(&r->lock);
}

/* ---- The fuzzer's side --------------------------------------------------------- */

c4j__redis_t *fake_redis_of(const void *e) {
  c4j__redis_t *r = NULL;
  pthread_mutex_lock(&links_lock);
  for (int i = 0; i < MAX_LINKS && r == NULL; i++)
    if (links[i] != NULL && links[i]->cb.data == e) r = links[i];
  pthread_mutex_unlock(&links_lock);
  if (r == NULL) abort();
  return r;
}

const char *fake_redis_node(const c4j__redis_t *r) { return r->node_id; }

void fake_redis_record(c4j__redis_t *r, const char *rec, size_t len) {
  r->cb.record_cb(r->cb.data, rec, len);
}

int fake_redis_echo(c4j__redis_t *r) {
  rec_t *q;
  int n = 0;
  pthread_mutex_lock(&r->lock);
  q = r->head;
  r->head = r->tail = NULL;
  r->queued = 0;
  pthread_mutex_unlock(&r->lock);
  while (q != NULL) {
    rec_t *next = q->next;
    r->cb.record_cb(r->cb.data, q->text, q->len);
    free(q);
    q = next;
    n++;
  }
  return n;
}

void fake_redis_entry(c4j__redis_t *r, uint64_t offset, int64_t time_ms,
                      const char *u, size_t u_len, const char *data,
                      size_t len) {
  c4j__redis_entry_t *v;
  pthread_mutex_lock(&r->lock);
  if (r->nentries < MAX_ENTRIES) {
    v = &r->entries[r->nentries++];
    memset(v, 0, sizeof(*v));
    v->offset = offset;
    v->time_ms = time_ms;
    v->data = malloc(len + 1);
    if (v->data) memcpy((char *)v->data, data, len);
    v->data_len = v->data ? len : 0;
    /* As parse_entry reads the stream's field u. */
    if (u != NULL && u_len > 0 && u[0] == '~') { /* not delivered by its node first */
      u++;
      u_len--;
    } else if (u != NULL) {
      v->local = 1;
    }
    if (u != NULL && u_len < C4J__MSG_ID_CAP) {
      char *c = malloc(u_len + 1);
      if (c) memcpy(c, u, u_len), c[u_len] = '\0';
      v->u = c;
    } else {
      v->local = 0;
    }
  }
  pthread_mutex_unlock(&r->lock);
}

int fake_redis_fetches(c4j__redis_t *r) {
  int n;
  pthread_mutex_lock(&r->lock);
  n = r->nfetches;
  pthread_mutex_unlock(&r->lock);
  return n;
}

int fake_redis_answer(c4j__redis_t *r) {
  static fetch_t f[MAX_FETCHES];
  static c4j__redis_entry_t v[MAX_ENTRIES], all[MAX_ENTRIES];
  int nf, ne, up;
  pthread_mutex_lock(&r->lock);
  up = r->up;
  nf = r->nfetches;
  memcpy(f, r->fetches, (size_t)nf * sizeof(f[0]));
  r->nfetches = 0;
  ne = r->nentries;
  memcpy(all, r->entries, (size_t)ne * sizeof(all[0]));
  r->nentries = 0; /* the strings now belong to `all` */
  pthread_mutex_unlock(&r->lock);
  for (int i = 0; i < nf; i++) {
    /* XREVRANGE <key> + (after-1 COUNT history_size, oldest first: the
     * entries above `after`, increasing, the newest history_size. */
    size_t n = 0, from = 0;
    /* While the link is down, redisbus.c answers at once, empty. */
    for (int k = 0; up && k < ne; k++)
      if (all[k].offset > f[i].after &&
          (n == 0 || all[k].offset > v[n - 1].offset))
        v[n++] = all[k];
    if (r->history_size > 0 && n > (size_t)r->history_size)
      from = n - (size_t)r->history_size;
    r->cb.history_cb(r->cb.data, f[i].ch, f[i].len, v + from, n - from,
                     up ? C4J__FETCH_DONE : C4J__FETCH_FAILED, 0);
  }
  for (int k = 0; k < ne; k++) {
    free((char *)all[k].data);
    free((char *)all[k].u);
  }
  return nf;
}

void fake_redis_link(c4j__redis_t *r, int up) {
  pthread_mutex_lock(&r->lock);
  r->up = up;
  pthread_mutex_unlock(&r->lock);
  r->cb.link_cb(r->cb.data, up);
}
