/* redisbus.c - what this node writes in order, and the bus and history it
 * reads back (hub.h has the records and keys): the publish script, which
 * assigns a broadcast its offset, keeps it in the channel's stream and
 * publishes the "m" record; the outbox, where every record (broadcasts,
 * bus records, action pushes and dones) waits while Redis is unreachable
 * and is written in order on the command connection, then waits in `sent`
 * for its answer and goes back to the outbox when the link drops; the
 * bus subscription, whose messages go to record_cb; the history fetch,
 * answered to history_cb, and the preload of every channel's history at
 * start.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "redis.h"
#include "redisint.h"

#define PRELOAD_MAX 10000 /* channels whose history start loads */

/* ---- The script and the subscription ------------------------------------- */

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

void c4j__rbus_load_script(c4j__redis_t *r) {
  const char *argv[3] = { "SCRIPT", "LOAD", publish_lua };
  c4j__rlink_send_strs(&r->cmd, script_cb, NULL, 3, argv);
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

void c4j__rbus_subscribe(c4j__redis_t *r) {
  const char *argv[2] = { "SUBSCRIBE", r->k_bus };
  c4j__rlink_send_strs(&r->sub, sub_cb, NULL, 2, argv);
}

/* ---- The outbox: publish, bus, action, done ------------------------------ */

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

void c4j__rbus_flush(c4j__redis_t *r) {
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
void c4j__rbus_requeue(c4j__redis_t *r) {
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

/* ---- History: the fetch and the preload --------------------------------- */

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
void c4j__rbus_fetch(c4j__redis_t *r, req_t *q) {
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

/* At start, on the blocking connection: every channel's history, so that
 * a page that resumes here from another node finds what it missed even
 * before the next broadcast.  At most PRELOAD_MAX channels. */
void c4j__rbus_preload(c4j__redis_t *r, redisContext *c) {
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

/* ---- API ----------------------------------------------------------------- */

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
