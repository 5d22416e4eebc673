/* redis.c - the link to Redis (redis.h): one thread with its own libuv
 * loop and three hiredis connections (commands, the bus subscription, the
 * action queue), the publish script, the outbox that keeps records while
 * Redis is unreachable, reconnecting with backoff, heartbeats.  Callers
 * never wait for Redis: they queue requests under `lock` and wake the
 * thread.  What Redis says goes up through the callbacks the layer above
 * handed in.  The action queue is redisact.c's, the cluster-wide maps
 * rediskv.c's (redisint.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>

#include "common.h"
#include "redis.h"
#include "redisint.h"

#define OUTBOX_MAX_N 10000
#define OUTBOX_MAX_BYTES (16u << 20)
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define GUARD_MS 1500       /* a connect attempt that has not linked by then
                               failed (hiredis 0.14's libuv adapter does not
                               report a refused non-blocking connect) */
#define TICK_MS 2000        /* heartbeat and dead-socket probe */
#define HB_LATE_MS 5000     /* an unanswered heartbeat this old: link lost */

/* Offsets are assigned here so that every node agrees; Lua numbers are
 * doubles, exact up to 2^53.  XADD and PEXPIRE may fail (a stream id not
 * above the top after someone trimmed by hand): the record is still
 * published. */
static const char publish_lua[] =
    "local o = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0\n"
    "local k = tonumber(ARGV[2]) or 0\n"
    "if k > o then o = k end\n"
    "local s = string.format('%d', o + 1)\n"
    "redis.call('HSET', KEYS[1], ARGV[1], s)\n"
    "if (tonumber(ARGV[6]) or 0) > 0 then\n"
    "  if ARGV[4] ~= '-' then\n"
    "    redis.pcall('XADD', KEYS[2], 'MAXLEN', ARGV[6], s .. '-1',\n"
    "                't', ARGV[3], 'd', ARGV[5], 'u', ARGV[4])\n"
    "  else\n"
    "    redis.pcall('XADD', KEYS[2], 'MAXLEN', ARGV[6], s .. '-1',\n"
    "                't', ARGV[3], 'd', ARGV[5])\n"
    "  end\n"
    "  if (tonumber(ARGV[7]) or 0) > 0 then\n"
    "    redis.pcall('PEXPIRE', KEYS[2], ARGV[7])\n"
    "  end\n"
    "end\n"
    "redis.call('SET', KEYS[3], ARGV[8], 'NX')\n"
    "redis.call('PUBLISH', KEYS[4], 'm\\t' .. ARGV[9] .. '\\t' .. ARGV[1] ..\n"
    "  '\\t' .. ARGV[8] .. '\\t' .. s .. '\\t' .. ARGV[3] .. '\\t' ..\n"
    "  ARGV[4] .. '\\n' .. ARGV[5])\n"
    "return s\n";

static void link_lost(c4j__redis_t *r, const char *why);

/* ---- Small helpers ------------------------------------------------------- */

static char *put_part(char *dst, const char *s, size_t n) {
  if (n) memcpy(dst, s, n);
  dst[n] = '\0';
  return dst;
}

req_t *c4j__rlink_req(int kind, const char *a, size_t al, const char *b,
                      size_t bl, const char *c, size_t cl) {
  req_t *q = c4j__malloc(sizeof(*q) + al + bl + cl + 3);
  if (q == NULL) return NULL;
  memset(q, 0, sizeof(*q));
  q->kind = kind;
  q->a = put_part(q->data, a, al);
  q->b = put_part(q->a + al + 1, b, bl);
  q->c = put_part(q->b + bl + 1, c, cl);
  q->a_len = al;
  q->b_len = bl;
  q->c_len = cl;
  return q;
}

/* "<prefix><mid><name>" into buf (KEY_CAP bytes); its length. */
size_t c4j__rlink_key(const c4j__redis_t *r, const char *mid,
                      const char *name, size_t len, char *buf) {
  int n = snprintf(buf, KEY_CAP, "%s%s", r->prefix, mid);
  if (n < 0 || (size_t)n + len >= KEY_CAP) len = 0; /* callers check */
  if (len) memcpy(buf + n, name, len);
  buf[n + len] = '\0';
  return (size_t)n + len;
}

void c4j__rlink_log(c4j__redis_t *r, int level, const char *fmt,
                    const char *a, const char *b) {
  char text[512];
  snprintf(text, sizeof(text), fmt, a, b);
  r->cb.log_cb(r->cb.data, level, text);
}

int c4j__rlink_send(conn_t *c, redisCallbackFn *fn, void *priv, int argc,
                    const char **argv, const size_t *lens) {
  if (c->ac == NULL) return -1;
  return redisAsyncCommandArgv(c->ac, fn, priv, argc, argv, lens) ==
                 REDIS_OK ? 0 : -1;
}

/* For arguments that are NUL-ended strings. */
int c4j__rlink_send_strs(conn_t *c, redisCallbackFn *fn, void *priv,
                         int argc, const char **argv) {
  size_t lens[12];
  if (argc > 12) return -1;
  for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
  return c4j__rlink_send(c, fn, priv, argc, argv, lens);
}

/* ---- The URL and the blocking connections -------------------------------- */

static int parse_number(const char **p, unsigned long max, int *out) {
  char *end;
  unsigned long v;
  if (!isdigit((unsigned char)**p)) return -1;
  errno = 0;
  v = strtoul(*p, &end, 10);
  if (errno != 0 || v > max || end - *p > 10) return -1;
  *out = (int)v;
  *p = end;
  return 0;
}

/* "redis://host[:port][/db]"; fills host, port, db and url. */
static int parse_url(c4j__redis_t *r, const char *url) {
  const char *h, *p;
  size_t hl;
  if (url == NULL || strncmp(url, "redis://", 8) != 0) return -1;
  h = url + 8;
  hl = strcspn(h, ":/");
  if (hl == 0 || hl >= sizeof(r->host)) return -1;
  for (size_t i = 0; i < hl; i++)
    if (!isalnum((unsigned char)h[i]) && !strchr(".-_", h[i])) return -1;
  memcpy(r->host, h, hl);
  r->host[hl] = '\0';
  r->port = 6379;
  r->db = 0;
  p = h + hl;
  if (*p == ':' && (++p, parse_number(&p, 65535, &r->port) != 0)) return -1;
  if (*p == '/' && (++p, parse_number(&p, INT_MAX, &r->db) != 0)) return -1;
  if (*p != '\0' || r->port == 0) return -1;
  snprintf(r->url, sizeof(r->url), "redis://%s:%d/%d", r->host, r->port,
           r->db);
  return 0;
}

static struct timeval tv_of(int ms) {
  struct timeval tv;
  if (ms < 1) ms = 1;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

/* A blocking connection with every call bounded by timeout_ms, on the
 * right database; NULL with why filled. */
redisContext *c4j__rlink_connect_sync(const c4j__redis_t *r, int timeout_ms,
                                      char *why, size_t cap) {
  uint64_t t0 = c4j__mono_ms();
  redisContext *c = redisConnectWithTimeout(r->host, r->port,
                                            tv_of(timeout_ms));
  redisReply *rep = NULL;
  if (c != NULL && c->err == 0) {
    int left = timeout_ms - (int)(c4j__mono_ms() - t0);
    redisSetTimeout(c, tv_of(left));
    if (r->db == 0) return c;
    rep = redisCommand(c, "SELECT %d", r->db);
    if (rep != NULL && rep->type != REDIS_REPLY_ERROR) {
      freeReplyObject(rep);
      return c;
    }
  }
  snprintf(why, cap, "cannot reach %s: %s", r->url,
           c == NULL ? "out of memory"
           : rep != NULL ? rep->str : c->errstr);
  if (rep) freeReplyObject(rep);
  if (c) redisFree(c);
  return NULL;
}

static int epoch_ok(const redisReply *rep) {
  if (rep == NULL || rep->type != REDIS_REPLY_STRING || rep->len < 1 ||
      rep->len > C4J__EPOCH_LEN)
    return 0;
  for (size_t i = 0; i < rep->len; i++)
    if (!isalnum((unsigned char)rep->str[i]) && rep->str[i] != '-' &&
        rep->str[i] != '_')
      return 0;
  return 1;
}

/* SET <p>:epoch NX, then GET it: the cluster's epoch. */
static int parse_entry(const c4j__redis_t *r, const redisReply *en,
                       c4j__redis_entry_t *out);

/* At start, on the blocking connection: every channel's history, so that
 * a page that resumes here from another node finds what it missed even
 * before the next broadcast.  At most PRELOAD_MAX channels. */
#define PRELOAD_MAX 10000
static void preload(c4j__redis_t *r, redisContext *c) {
  char key[KEY_CAP];
  int size = r->history_size;
  redisReply *seq = redisCommand(c, "HKEYS %s", r->k_seq);
  if (seq == NULL || seq->type != REDIS_REPLY_ARRAY || size <= 0) {
    if (seq) freeReplyObject(seq);
    return;
  }
  for (size_t i = 0; i < seq->elements && i < PRELOAD_MAX; i++) {
    const redisReply *ch = seq->element[i];
    redisReply *h;
    c4j__redis_entry_t *v;
    size_t n = 0, klen;
    /* The layer above checks the name (history_cb). */
    if (ch->type != REDIS_REPLY_STRING || ch->len == 0 ||
        ch->len > C4J_MAX_CHANNEL)
      continue;
    klen = c4j__rlink_key(r, ":h:", ch->str, ch->len, key);
    h = redisCommand(c, "XREVRANGE %b + - COUNT %d", key, klen, size);
    if (h == NULL) break;
    v = h->type == REDIS_REPLY_ARRAY ? c4j__calloc(h->elements + 1, sizeof(*v))
                                     : NULL;
    for (size_t j = h->elements; v != NULL && j-- > 0;) /* oldest first */
      if (parse_entry(r, h->element[j], &v[n])) n++;
    if (n > 0) r->cb.history_cb(r->cb.data, ch->str, ch->len, v, n);
    c4j__free(v);
    freeReplyObject(h);
  }
  freeReplyObject(seq);
}

static int read_epoch(c4j__redis_t *r, const char *epoch,
                      char epoch_out[C4J__EPOCH_LEN + 1], int timeout_ms,
                      char *why, size_t cap) {
  redisReply *set, *get;
  int rc = -1;
  redisContext *c = c4j__rlink_connect_sync(r, timeout_ms, why, cap);
  if (c == NULL) return -1;
  set = redisCommand(c, "SET %s %s NX", r->k_epoch, epoch);
  get = set ? redisCommand(c, "GET %s", r->k_epoch) : NULL;
  if (set == NULL || get == NULL || set->type == REDIS_REPLY_ERROR ||
      get->type == REDIS_REPLY_ERROR) {
    snprintf(why, cap, "cannot reach %s: %s", r->url,
             get ? get->str : set && set->type == REDIS_REPLY_ERROR
                                  ? set->str : c->errstr);
  } else if (!epoch_ok(get)) {
    snprintf(why, cap, "%s: %s is not 1 to %d base64url characters",
             r->url, r->k_epoch, C4J__EPOCH_LEN);
  } else {
    memcpy(epoch_out, get->str, get->len);
    epoch_out[get->len] = '\0';
    preload(r, c);
    rc = 0;
  }
  if (set) freeReplyObject(set);
  if (get) freeReplyObject(get);
  redisFree(c);
  return rc;
}

/* ---- Records: publish, bus, action --------------------------------------- */

static void send_record(c4j__redis_t *r, req_t *q, int eval);

static void record_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  redisReply *rep = reply;
  req_t *q = priv;
  if (rep == NULL) return; /* the link dropped: q went back to the outbox */
  fifo_remove(&r->sent, q);
  if (rep->type == REDIS_REPLY_ERROR && q->kind == R_PUBLISH &&
      strncmp(rep->str, "NOSCRIPT", 8) == 0) {
    send_record(r, q, 1); /* the script cache was flushed */
    return;
  }
  if (rep->type == REDIS_REPLY_ERROR)
    c4j__rlink_log(r, 1, "hub: redis refused a record: %s%s", rep->str, "");
  c4j__free(q);
}

static void send_publish(c4j__redis_t *r, req_t *q, int eval) {
  char hkey[KEY_CAP], known[24], when[24], size[24], age[24];
  const char *argv[16];
  size_t lens[16];
  int i;
  snprintf(known, sizeof(known), "%llu", (unsigned long long)q->num);
  snprintf(when, sizeof(when), "%lld", (long long)q->time_ms);
  snprintf(size, sizeof(size), "%d", r->history_size);
  snprintf(age, sizeof(age), "%d", r->history_age_ms);
  c4j__rlink_key(r, ":h:", q->a, q->a_len, hkey);
  argv[0] = eval || !r->sha[0] ? "EVAL" : "EVALSHA";
  argv[1] = eval || !r->sha[0] ? publish_lua : r->sha;
  argv[2] = "4";
  argv[3] = r->k_seq, argv[4] = hkey, argv[5] = r->k_epoch;
  argv[6] = r->k_bus, argv[7] = q->a, argv[8] = known, argv[9] = when;
  argv[10] = q->u[0] ? q->u : "-", argv[11] = q->b, argv[12] = size;
  argv[13] = age, argv[14] = r->epoch, argv[15] = r->node_id;
  for (i = 0; i < 16; i++) lens[i] = strlen(argv[i]);
  lens[7] = q->a_len;
  lens[11] = q->b_len;
  c4j__rlink_send(&r->cmd, record_cb, q, 16, argv, lens);
}

/* Writes q to Redis; it stays in `sent` until answered. */
static void send_record(c4j__redis_t *r, req_t *q, int eval) {
  const char *argv[3];
  size_t lens[3];
  fifo_push(&r->sent, q);
  if (q->kind == R_PUBLISH) {
    send_publish(r, q, eval);
    return;
  }
  if (q->kind == R_DONE) { /* LREM <taken> 1 <request> */
    const char *dv[4] = { "LREM", r->k_taken, "1", q->a };
    size_t dl[4] = { 4, strlen(r->k_taken), 1, q->a_len };
    c4j__rlink_send(&r->cmd, record_cb, q, 4, dv, dl);
    return;
  }
  argv[0] = q->kind == R_BUS ? "PUBLISH" : "LPUSH";
  argv[1] = q->kind == R_BUS ? r->k_bus : r->k_actions;
  argv[2] = q->a;
  lens[0] = strlen(argv[0]);
  lens[1] = strlen(argv[1]);
  lens[2] = q->a_len;
  c4j__rlink_send(&r->cmd, record_cb, q, 3, argv, lens);
}

static void flush_outbox(c4j__redis_t *r) {
  size_t n = 0, bytes = 0;
  req_t *q;
  while ((q = fifo_pop(&r->outbox)) != NULL) {
    n++;
    bytes += req_size(q);
    send_record(r, q, 0);
  }
  if (n == 0) return;
  uv_mutex_lock(&r->lock);
  r->pending_n -= n;
  r->pending_bytes -= bytes;
  uv_mutex_unlock(&r->lock);
}

/* The records written but not answered when the link dropped go back to
 * the head of the outbox, in order (Redis may or may not have run them:
 * at least once rather than at most once). */
static void requeue_sent(c4j__redis_t *r) {
  size_t n = 0, bytes = 0;
  req_t *q;
  if (r->sent.head == NULL) return;
  for (q = r->sent.head; q != NULL; q = q->next) n++, bytes += req_size(q);
  r->sent.tail->next = r->outbox.head;
  if (r->outbox.head == NULL) r->outbox.tail = r->sent.tail;
  r->outbox.head = r->sent.head;
  r->sent.head = r->sent.tail = NULL;
  uv_mutex_lock(&r->lock);
  r->pending_n += n;
  r->pending_bytes += bytes;
  uv_mutex_unlock(&r->lock);
}

/* ---- Fetch --------------------------------------------------------------- */

/* One stream entry [id "<offset>-1", [t, time, d, data(, u, id)]]; 1 if
 * usable.  u: the message id its node gave it, delivering it itself while
 * cut off (the id starts with the node's). */
static int parse_entry(const c4j__redis_t *r, const redisReply *en,
                       c4j__redis_entry_t *out) {
  const redisReply *id, *f;
  char *end;
  int have_d = 0;
  if (en->type != REDIS_REPLY_ARRAY || en->elements != 2) return 0;
  id = en->element[0];
  f = en->element[1];
  if (id->type != REDIS_REPLY_STRING || f->type != REDIS_REPLY_ARRAY ||
      !isdigit((unsigned char)id->str[0]))
    return 0;
  memset(out, 0, sizeof(*out));
  errno = 0;
  out->offset = strtoull(id->str, &end, 10);
  if (errno != 0 || *end != '-') return 0;
  for (size_t j = 0; j + 1 < f->elements; j += 2) {
    const redisReply *k = f->element[j], *v = f->element[j + 1];
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
        k->len != 1)
      continue;
    if (k->str[0] == 't') out->time_ms = strtoll(v->str, NULL, 10);
    if (k->str[0] == 'u' && v->len < C4J__MSG_ID_CAP) {
      out->u = v->str;
      out->mine = strncmp(v->str, r->node_id, strlen(r->node_id)) == 0;
    }
    if (k->str[0] == 'd') {
      out->data = v->str;
      out->data_len = v->len;
      have_d = 1;
    }
  }
  return have_d;
}

static void answer_fetch(c4j__redis_t *r, const req_t *q,
                         const redisReply *rep) {
  c4j__redis_entry_t *v = NULL;
  size_t n = 0;
  if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0) {
    v = c4j__calloc(rep->elements, sizeof(*v));
    /* XREVRANGE answers newest first; hub.c wants oldest first. */
    for (size_t i = rep->elements; v != NULL && i-- > 0;)
      if (parse_entry(r, rep->element[i], &v[n])) n++;
  } else if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
    c4j__rlink_log(r, 1, "hub: history fetch failed: %s%s", rep->str, "");
  }
  r->cb.history_cb(r->cb.data, q->a, q->a_len, v, n);
  c4j__free(v);
}

static void fetch_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  req_t *q = priv;
  if (!r->stopping) answer_fetch(r, q, reply);
  c4j__free(q);
}

/* The newest history_size entries after q->num, or an empty answer when
 * the link is down (hub.c fetches again once it is up). */
static void send_fetch(c4j__redis_t *r, req_t *q) {
  char key[KEY_CAP], start[32], count[24];
  const char *argv[6];
  size_t lens[6];
  int size = r->history_size;
  if (size > 0 && linked(r)) {
    lens[1] = c4j__rlink_key(r, ":h:", q->a, q->a_len, key);
    if (q->num == 0) snprintf(start, sizeof(start), "-");
    else snprintf(start, sizeof(start), "(%llu-1", (unsigned long long)q->num);
    snprintf(count, sizeof(count), "%d", size);
    argv[0] = "XREVRANGE", argv[1] = key, argv[2] = "+", argv[3] = start;
    argv[4] = "COUNT", argv[5] = count;
    for (int i = 0; i < 6; i++) lens[i] = i == 1 ? lens[1] : strlen(argv[i]);
    if (c4j__rlink_send(&r->cmd, fetch_cb, q, 6, argv, lens) == 0) return;
  }
  r->cb.history_cb(r->cb.data, q->a, q->a_len, NULL, 0);
  c4j__free(q);
}

/* ---- The link ------------------------------------------------------------ */

static void hb_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  if (reply != NULL) r->hb_sent = 0;
}

static void heartbeat(c4j__redis_t *r) {
  char now[24];
  const char *argv[4] = { "HSET", r->k_nodes, r->node_id, now };
  snprintf(now, sizeof(now), "%lld", (long long)c4j__wall_ms());
  if (c4j__rlink_send_strs(&r->cmd, hb_cb, NULL, 4, argv) == 0)
    r->hb_sent = c4j__mono_ms();
}

static void link_up(c4j__redis_t *r) {
  uv_timer_stop(&r->guard);
  r->fails = 0;
  heartbeat(r);
  c4j__rkv_write_all(r, 0);
  flush_outbox(r);
  atomic_store(&r->up, 1);
  if (r->listen) c4j__ract_start(r); /* after the heartbeat */
  c4j__rlink_log(r, 2, "hub: linked to %s%s", r->url, "");
  r->cb.link_cb(r->cb.data, 1);
}

void c4j__rlink_ready(c4j__redis_t *r) {
  if (!linked(r) && r->cmd.connected && r->scripted && r->subscribed &&
      (!r->listen || r->act.connected))
    link_up(r);
}

static void script_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  redisReply *rep = reply;
  if (rep == NULL) return;
  r->sha[0] = '\0'; /* EVAL then */
  if (rep->type == REDIS_REPLY_STRING && rep->len < sizeof(r->sha))
    memcpy(r->sha, rep->str, rep->len + 1);
  else if (rep->type == REDIS_REPLY_ERROR)
    c4j__rlink_log(r, 1, "hub: SCRIPT LOAD failed: %s%s", rep->str, "");
  r->scripted = 1;
  c4j__rlink_ready(r);
}

static void sub_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  redisReply *rep = reply, *kind;
  if (rep == NULL || r->stopping || rep->type != REDIS_REPLY_ARRAY ||
      rep->elements < 3)
    return;
  kind = rep->element[0];
  if (kind->type != REDIS_REPLY_STRING) return;
  if (strcmp(kind->str, "message") == 0 &&
      rep->element[2]->type == REDIS_REPLY_STRING) {
    r->cb.record_cb(r->cb.data, rep->element[2]->str, rep->element[2]->len);
  } else if (strcmp(kind->str, "subscribe") == 0) {
    r->subscribed = 1;
    c4j__rlink_ready(r);
  }
}

/* Dead peers are found by the kernel (keepalive), not only by reads. */
static void keepalive(int fd) {
  int on = 1, idle = 10, intvl = 5, cnt = 3;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static void on_connect(const redisAsyncContext *cac, int status) {
  redisAsyncContext *ac = (redisAsyncContext *)cac;
  conn_t *c = ac->data;
  c4j__redis_t *r = c->r;
  char db[16];
  const char *sel[2] = { "SELECT", db };
  const char *load[3] = { "SCRIPT", "LOAD", publish_lua };
  const char *subscribe[2] = { "SUBSCRIBE", r->k_bus };
  if (c->ac != ac) return;
  if (status != REDIS_OK) {
    c->ac = NULL; /* hiredis frees it when we return */
    link_lost(r, ac->errstr);
    return;
  }
  c->connected = 1;
  keepalive(ac->c.fd);
  snprintf(db, sizeof(db), "%d", r->db);
  if (c != &r->sub && r->db != 0) c4j__rlink_send_strs(c, NULL, NULL, 2, sel);
  if (c == &r->cmd) c4j__rlink_send_strs(c, script_cb, NULL, 3, load);
  if (c == &r->sub) c4j__rlink_send_strs(c, sub_cb, NULL, 2, subscribe);
  c4j__rlink_ready(r);
}

static void on_disconnect(const redisAsyncContext *cac, int status) {
  redisAsyncContext *ac = (redisAsyncContext *)cac;
  conn_t *c = ac->data;
  if (c->ac != ac) return; /* we freed it ourselves */
  c->ac = NULL;
  c->connected = 0;
  link_lost(c->r, ac->errstr[0] ? ac->errstr : "connection closed");
}

static int open_conn(c4j__redis_t *r, conn_t *c, char *why, size_t cap) {
  redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
  if (ac == NULL || ac->err) {
    snprintf(why, cap, "%s", ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    return -1;
  }
  ac->data = c;
  if (redisLibuvAttach(ac, &r->loop) != REDIS_OK) {
    snprintf(why, cap, "cannot watch the socket");
    ac->ev.cleanup = NULL; /* the adapter left no state to clean */
    redisAsyncFree(ac);
    return -1;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  c->ac = ac;
  c->connected = 0;
  return 0;
}

static void free_conn(conn_t *c) {
  redisAsyncContext *ac = c->ac;
  c->ac = NULL; /* first: its callbacks now see it is not ours */
  c->connected = 0;
  if (ac) redisAsyncFree(ac);
}

static void guard_cb(uv_timer_t *t);
static void attempt(c4j__redis_t *r) {
  char why[256];
  if (open_conn(r, &r->cmd, why, sizeof(why)) != 0 ||
      open_conn(r, &r->sub, why, sizeof(why)) != 0 ||
      (r->listen && open_conn(r, &r->act, why, sizeof(why)) != 0)) {
    link_lost(r, why);
    return;
  }
  uv_timer_start(&r->guard, guard_cb, GUARD_MS, 0);
}

static void retry_cb(uv_timer_t *t) { attempt(t->data); }

/* 100 ms doubling to 5 s, each between half and all of it. */
static uint64_t backoff(c4j__redis_t *r) {
  unsigned shift = r->fails < 6 ? r->fails : 6;
  uint64_t d = (uint64_t)BACKOFF_MIN_MS << shift;
  if (d > BACKOFF_MAX_MS) d = BACKOFF_MAX_MS;
  r->fails++;
  r->rng ^= r->rng << 13;
  r->rng ^= r->rng >> 7;
  r->rng ^= r->rng << 17;
  return d / 2 + r->rng % (d / 2 + 1);
}

/* Drops every connection, puts the unanswered records back in the
 * outbox, tells hub.c once, and schedules the next attempt.  Safe to
 * reach again from the callbacks that freeing the connections runs. */
static void link_lost(c4j__redis_t *r, const char *why) {
  char text[256];
  int was_up = linked(r);
  if (r->stopping) return;
  snprintf(text, sizeof(text), "%s", why); /* why may die with its context */
  atomic_store(&r->up, 0);
  free_conn(&r->cmd);
  free_conn(&r->sub);
  free_conn(&r->act);
  uv_timer_stop(&r->guard);
  uv_timer_stop(&r->act_wait);
  r->scripted = r->subscribed = 0;
  r->hb_sent = 0;
  requeue_sent(r);
  if (was_up) {
    c4j__rlink_log(r, 1, "hub: lost %s (%s), reconnecting", r->url, text);
    r->cb.link_cb(r->cb.data, 0);
  } else if (r->fails == 0) {
    c4j__rlink_log(r, 1, "hub: cannot link to %s (%s), retrying", r->url, text);
  }
  uv_timer_start(&r->retry, retry_cb, backoff(r), 0);
}

static void guard_cb(uv_timer_t *t) {
  c4j__redis_t *r = t->data;
  conn_t *cs[3] = { &r->cmd, &r->sub, &r->act };
  char why[128] = "connect timed out";
  for (int i = 0; i < 3; i++) {
    int err = 0;
    socklen_t l = sizeof(err);
    if (cs[i]->ac == NULL || cs[i]->connected) continue;
    if (getsockopt(cs[i]->ac->c.fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 &&
        err != 0) {
      snprintf(why, sizeof(why), "%s", strerror(err));
      break;
    }
  }
  link_lost(r, why);
}

/* libuv reports a socket error (EPOLLERR) to the adapter, which ignores
 * it; a peek finds such a socket, and a read makes hiredis see it. */
static int probe(c4j__redis_t *r) {
  conn_t *cs[3] = { &r->cmd, &r->sub, &r->act };
  for (int i = 0; i < 3; i++) {
    redisAsyncContext *ac = cs[i]->ac;
    char b;
    ssize_t n;
    if (ac == NULL || !cs[i]->connected) continue;
    n = recv(ac->c.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                            errno == EINTR)))
      continue;
    redisAsyncHandleRead(ac);
    if (cs[i]->ac == ac) link_lost(r, "connection lost");
    return 1;
  }
  return 0;
}

static void tick_cb(uv_timer_t *t) {
  c4j__redis_t *r = t->data;
  if (!linked(r)) return;
  if (r->hb_sent && c4j__mono_ms() - r->hb_sent > HB_LATE_MS) {
    link_lost(r, "no answer to the heartbeat");
    return;
  }
  if (probe(r)) return;
  if (!r->hb_sent) heartbeat(r);
  c4j__ract_requeue_dead(r);
}

/* ---- The thread ---------------------------------------------------------- */

/* The node leaves: best effort, written now since nothing waits after. */
static void goodbye(c4j__redis_t *r) {
  const char *argv[3] = { "HDEL", r->k_nodes, r->node_id };
  c4j__rkv_write_all(r, 1);
  c4j__rlink_send_strs(&r->cmd, NULL, NULL, 3, argv);
  if (r->cmd.ac) redisAsyncHandleWrite(r->cmd.ac);
}

static void finish(c4j__redis_t *r) {
  int was_up = linked(r);
  r->stopping = 1;
  if (was_up) goodbye(r);
  atomic_store(&r->up, 0);
  free_conn(&r->cmd);
  free_conn(&r->sub);
  free_conn(&r->act);
  uv_close((uv_handle_t *)&r->wake, NULL);
  uv_close((uv_handle_t *)&r->retry, NULL);
  uv_close((uv_handle_t *)&r->guard, NULL);
  uv_close((uv_handle_t *)&r->tick, NULL);
  uv_close((uv_handle_t *)&r->act_wait, NULL);
}

static void dispatch(c4j__redis_t *r, req_t *q) {
  switch (q->kind) {
  case R_FETCH: send_fetch(r, q); break;
  case R_SET: c4j__rkv_dispatch(r, q); break;
  default: fifo_push(&r->outbox, q); break;
  }
}

static void wake_cb(uv_async_t *h) {
  c4j__redis_t *r = h->data;
  fifo_t got;
  int closing;
  req_t *q;
  uv_mutex_lock(&r->lock);
  got = r->in;
  r->in.head = r->in.tail = NULL;
  closing = r->closing;
  uv_mutex_unlock(&r->lock);
  while ((q = fifo_pop(&got)) != NULL) dispatch(r, q);
  if (linked(r)) flush_outbox(r);
  if (closing) finish(r);
}

static void run(void *arg) {
  c4j__redis_t *r = arg;
  uv_run(&r->loop, UV_RUN_DEFAULT);
}

/* Queues q for the Redis thread.  Records (bounded) count in the outbox
 * until written; over its bounds while the link is down: C4J_EFULL. */
int c4j__rlink_submit(c4j__redis_t *r, req_t *q, int bounded) {
  size_t sz;
  int rc = 0;
  if (q == NULL) return C4J_ENOMEM;
  sz = req_size(q);
  uv_mutex_lock(&r->lock);
  if (r->closing) {
    rc = C4J_ESTOPPED;
  } else if (bounded && !linked(r) &&
             (r->pending_n >= OUTBOX_MAX_N ||
              r->pending_bytes + sz > OUTBOX_MAX_BYTES)) {
    atomic_fetch_add(&r->dropped, 1);
    rc = C4J_EFULL;
  } else {
    if (bounded) r->pending_n++, r->pending_bytes += sz;
    fifo_push(&r->in, q);
    uv_async_send(&r->wake);
  }
  uv_mutex_unlock(&r->lock);
  if (rc != 0) c4j__free(q);
  return rc;
}

/* ---- API ----------------------------------------------------------------- */

static int init_names(c4j__redis_t *r, const char *prefix,
                      const char *node_id, const char *epoch) {
  size_t pl = prefix ? strlen(prefix) : 0;
  size_t nl = node_id ? strlen(node_id) : 0;
  size_t el = epoch ? strlen(epoch) : 0;
  if (pl < 1 || pl > 64 || nl < 1 || nl > C4J__NODE_ID_LEN || el < 1 ||
      el > C4J__EPOCH_LEN)
    return -1;
  memcpy(r->prefix, prefix, pl + 1);
  memcpy(r->node_id, node_id, nl + 1);
  snprintf(r->k_bus, sizeof(r->k_bus), "%s:bus", prefix);
  snprintf(r->k_seq, sizeof(r->k_seq), "%s:seq", prefix);
  snprintf(r->k_epoch, sizeof(r->k_epoch), "%s:epoch", prefix);
  snprintf(r->k_actions, sizeof(r->k_actions), "%s:actions", prefix);
  snprintf(r->k_nodes, sizeof(r->k_nodes), "%s:nodes", prefix);
  snprintf(r->k_taken, sizeof(r->k_taken), "%s:taken:%s", prefix, node_id);
  snprintf(r->k_takers, sizeof(r->k_takers), "%s:takers", prefix);
  return 0;
}

static int init_loop(c4j__redis_t *r) {
  uv_timer_t *timers[4] = { &r->retry, &r->guard, &r->tick, &r->act_wait };
  if (uv_mutex_init(&r->lock) != 0) return -1;
  if (uv_loop_init(&r->loop) != 0) {
    uv_mutex_destroy(&r->lock);
    return -1;
  }
  uv_async_init(&r->loop, &r->wake, wake_cb);
  r->wake.data = r;
  for (int i = 0; i < 4; i++) {
    uv_timer_init(&r->loop, timers[i]);
    timers[i]->data = r;
  }
  r->cmd.r = r->sub.r = r->act.r = r;
  if (c4j__random(&r->rng, sizeof(r->rng)) != 0 || r->rng == 0)
    r->rng = c4j__mono_ms() | 1;
  uv_timer_start(&r->retry, retry_cb, 0, 0);
  uv_timer_start(&r->tick, tick_cb, TICK_MS, TICK_MS);
  return 0;
}

/* Closes the handles of a loop that never ran, and the loop. */
static void drop_loop(c4j__redis_t *r) {
  finish(r);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  uv_loop_close(&r->loop);
  uv_mutex_destroy(&r->lock);
}

int c4j__redis_start(const c4j__redis_options_t *opts,
                     const c4j__redis_callbacks_t *cb,
                     char epoch_out[C4J__EPOCH_LEN + 1], c4j__redis_t **out,
                     char *why, size_t why_cap) {
  const char *url = opts->url, *prefix = opts->prefix;
  const char *node_id = opts->node_id, *epoch = opts->epoch;
  int timeout_ms = opts->timeout_ms;
  c4j__redis_t *r = c4j__calloc(1, sizeof(*r));
  if (r == NULL) {
    snprintf(why, why_cap, "out of memory");
    return C4J_EHUB;
  }
  r->cb = *cb;
  r->history_size = opts->history_size;
  r->history_age_ms = opts->history_age_ms;
  r->listen = opts->listen_actions == 1;
  if (parse_url(r, url) != 0) {
    snprintf(why, why_cap, "bad URL %s (redis://host[:port][/db])",
             url ? url : "(null)");
  } else if (init_names(r, prefix, node_id, epoch) != 0) {
    snprintf(why, why_cap, "bad prefix, node id or epoch");
  } else if (read_epoch(r, epoch, epoch_out, timeout_ms, why, why_cap) == 0) {
    memcpy(r->epoch, epoch_out, strlen(epoch_out) + 1);
    *out = r; /* before the thread: its callbacks may read it */
    if (init_loop(r) != 0) {
      snprintf(why, why_cap, "cannot start the hub's loop");
    } else if (uv_thread_create(&r->thread, run, r) != 0) {
      snprintf(why, why_cap, "cannot start the hub's thread");
      drop_loop(r);
    } else {
      return 0;
    }
    *out = NULL;
  }
  c4j__free(r);
  return C4J_EHUB;
}

void c4j__redis_stop(c4j__redis_t *r) {
  if (r == NULL) return;
  uv_mutex_lock(&r->lock);
  r->closing = 1;
  uv_async_send(&r->wake);
  uv_mutex_unlock(&r->lock);
  uv_thread_join(&r->thread);
  uv_loop_close(&r->loop);
  uv_mutex_destroy(&r->lock);
  fifo_free(&r->in);
  fifo_free(&r->outbox);
  fifo_free(&r->sent);
  c4j__rkv_free(r);
  c4j__free(r);
}

int c4j__redis_up(c4j__redis_t *r) { return r != NULL && linked(r); }

int c4j__redis_publish(c4j__redis_t *r, const char *ch, size_t ch_len,
                       const char *data, size_t len, int64_t time_ms,
                       uint64_t known_last, const char *u) {
  req_t *q;
  if (ch_len == 0 || ch_len > C4J_MAX_CHANNEL) return UV_EINVAL;
  if (u != NULL && (u[0] == '\0' || strlen(u) >= C4J__MSG_ID_CAP))
    return UV_EINVAL;
  q = c4j__rlink_req(R_PUBLISH, ch, ch_len, data, len, NULL, 0);
  if (q != NULL) {
    q->time_ms = time_ms;
    q->num = known_last;
    if (u != NULL) memcpy(q->u, u, strlen(u) + 1);
  }
  return c4j__rlink_submit(r, q, 1);
}

int c4j__redis_bus(c4j__redis_t *r, const char *rec, size_t len) {
  return c4j__rlink_submit(
      r, c4j__rlink_req(R_BUS, rec, len, NULL, 0, NULL, 0), 1);
}

int c4j__redis_fetch(c4j__redis_t *r, const char *ch, size_t ch_len,
                     uint64_t after) {
  req_t *q;
  if (ch_len == 0 || ch_len > C4J_MAX_CHANNEL) return UV_EINVAL;
  q = c4j__rlink_req(R_FETCH, ch, ch_len, NULL, 0, NULL, 0);
  if (q != NULL) q->num = after;
  return c4j__rlink_submit(r, q, 0);
}

void c4j__redis_stats(c4j__redis_t *r, uint64_t *outbox, uint64_t *dropped) {
  *outbox = *dropped = 0;
  if (r == NULL) return;
  uv_mutex_lock(&r->lock);
  *outbox = r->pending_n;
  uv_mutex_unlock(&r->lock);
  *dropped = atomic_load(&r->dropped);
}
