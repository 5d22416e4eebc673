/* redisbus.c - what this node writes in order, and the bus and history it
 * reads back (hub.h has the records and keys): the publish script, which
 * assigns a broadcast its offset, keeps it in the channel's stream and
 * publishes the "m" record, and the floor script that keeps offsets from
 * going back after Redis restarted empty; the outbox, where every record
 * (broadcasts, bus records, action pushes and dones) waits while Redis is
 * unreachable (a broadcast handed to local_cb first) and is written in
 * order on the command connection, then waits in `sent` until confirmed
 * (a broadcast: answered and its own copy back from the bus) and goes
 * back to the outbox when the link drops; the bus subscription, whose
 * messages go to record_cb; the history fetch in pages, answered to
 * history_cb, and the preload of every channel's history at start.
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
#define FETCH_PAGE 1000   /* stream entries a fetch asks for at once */

/* ---- The script and the subscription ------------------------------------- */

/* Offsets are assigned here so that every node agrees; Lua numbers are
 * doubles, exact up to 2^53.  XADD and PEXPIRE may fail (a stream id not
 * above the top after someone trimmed by hand): the record is still
 * published.  The stream is trimmed roughly (MAXLEN ~: whole nodes, so at
 * least ARGV[6] entries stay), which is cheaper than exactly. */
static const char publish_lua[] =
    "local o = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0\n"
    "local k = tonumber(ARGV[2]) or 0\n"
    "if k > o then o = k end\n"
    "local s = string.format('%d', o + 1)\n"
    "redis.call('HSET', KEYS[1], ARGV[1], s)\n"
    "if (tonumber(ARGV[6]) or 0) > 0 then\n"
    "  redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], s .. '-1',\n"
    "              't', ARGV[3], 'd', ARGV[5], 'u', ARGV[4])\n"
    "  if (tonumber(ARGV[7]) or 0) > 0 then\n"
    "    redis.pcall('PEXPIRE', KEYS[2], ARGV[7])\n"
    "  end\n"
    "end\n"
    "redis.call('SET', KEYS[3], ARGV[8], 'NX')\n"
    "redis.call('PUBLISH', KEYS[4], 'm\\t' .. ARGV[9] .. '\\t' .. ARGV[1] ..\n"
    "  '\\t' .. ARGV[8] .. '\\t' .. s .. '\\t' .. ARGV[3] .. '\\t' ..\n"
    "  ARGV[4] .. '\\n' .. ARGV[5])\n"
    "return s\n";

/* A channel's offset raised to at least ARGV[2] (and the epoch set if
 * Redis lost it): a Redis that restarted empty would otherwise start again
 * from the offset a queued broadcast knew, below what the nodes have. */
static const char floor_lua[] =
    "local o = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0\n"
    "if o < tonumber(ARGV[2]) then\n"
    "  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "end\n"
    "redis.call('SET', KEYS[2], ARGV[3], 'NX')\n"
    "return o\n";

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

static void echoed(c4j__redis_t *r, const char *rec, size_t len);

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
    echoed(r, rep->element[2]->str, rep->element[2]->len);
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

/* Forgets n confirmed (or dropped) records of bytes in all. */
static void uncount(c4j__redis_t *r, size_t n, size_t bytes) {
  if (n == 0) return;
  uv_mutex_lock(&r->lock);
  r->pending_n -= n;
  r->pending_bytes -= bytes;
  uv_mutex_unlock(&r->lock);
}

/* q is done with: out of `sent` and freed. */
static void confirm(c4j__redis_t *r, req_t *q) {
  fifo_remove(&r->sent, q);
  uncount(r, 1, req_size(q));
  c4j__free(q);
}

static void echo_push(c4j__redis_t *r, req_t *q) {
  q->enext = NULL;
  q->in_echo = 1;
  if (r->echo.tail) r->echo.tail->enext = q;
  else r->echo.head = q;
  r->echo.tail = q;
}

/* Takes the publish whose message id is u (n bytes) out of `echo`: the
 * head, unless an answer came out of order (NOSCRIPT); NULL when none (a
 * copy of one confirmed already, or sent again after a lost link). */
static req_t *echo_take(c4j__redis_t *r, const char *u, size_t n) {
  req_t *prev = NULL, *q;
  for (q = r->echo.head; q != NULL; prev = q, q = q->enext)
    if (strlen(q->u) == n && memcmp(q->u, u, n) == 0) break;
  if (q == NULL) return NULL;
  if (prev) prev->enext = q->enext;
  else r->echo.head = q->enext;
  if (r->echo.tail == q) r->echo.tail = prev;
  q->enext = NULL;
  q->in_echo = 0;
  return q;
}

/* A record from the bus: when it is the copy of one of this node's
 * publishes ("m\t<node id>\t" ... field 6 its u, "~" before it unless
 * local), that publish ran: confirmed once answered too. */
static void echoed(c4j__redis_t *r, const char *rec, size_t len) {
  size_t nl = strlen(r->node_id);
  const char *end = memchr(rec, '\n', len), *p = rec;
  req_t *q;
  if (end == NULL || (size_t)(end - rec) < nl + 3 || rec[0] != 'm' ||
      rec[1] != '\t' || memcmp(rec + 2, r->node_id, nl) != 0 ||
      rec[2 + nl] != '\t')
    return;
  for (int k = 0; k < 6 && p != NULL; k++)
    if ((p = memchr(p, '\t', (size_t)(end - p))) != NULL) p++;
  if (p == NULL) return;
  if (*p == '~') p++;
  if ((q = echo_take(r, p, (size_t)(end - p))) == NULL) return;
  q->echoed = 1;
  if (q->replied) confirm(r, q);
}

static void send_record(c4j__redis_t *r, req_t *q, int eval);

static void record_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  redisReply *rep = reply;
  req_t *q = priv;
  if (rep == NULL) return; /* the link dropped: requeue decides */
  c4j__rlink_answered(r);
  if (q->kind == R_PUBLISH && rep->type == REDIS_REPLY_ERROR &&
      strncmp(rep->str, "NOSCRIPT", 8) == 0) {
    fifo_remove(&r->sent, q);
    send_record(r, q, 1); /* the script cache was flushed */
    return;
  }
  if (q->kind == R_PUBLISH && rep->type != REDIS_REPLY_ERROR) {
    q->replied = 1; /* and confirmed once its copy is back */
    if (q->echoed) confirm(r, q);
    return;
  }
  if (rep->type == REDIS_REPLY_ERROR && q->kind == R_PUBLISH) {
    /* Not run: no copy comes.  Sending it again would stop the outbox
     * behind it for as long as Redis refuses (out of memory, say). */
    c4j__rlink_log(r, 0, "hub: redis refused a broadcast, lost for the "
                         "other nodes: %s%s", rep->str, "");
    echo_take(r, q->u, strlen(q->u));
  } else if (rep->type == REDIS_REPLY_ERROR) {
    c4j__rlink_log(r, 1, "hub: redis refused a record: %s%s", rep->str, "");
  }
  confirm(r, q);
}

static void send_publish(c4j__redis_t *r, req_t *q, int eval) {
  char hkey[KEY_CAP], known[24], when[24], size[24], age[24];
  char u[C4J__MSG_ID_CAP + 1];
  const char *argv[16];
  size_t lens[16];
  int i;
  snprintf(known, sizeof(known), "%llu", (unsigned long long)q->num);
  snprintf(when, sizeof(when), "%lld", (long long)q->time_ms);
  snprintf(size, sizeof(size), "%d", r->history_size > 0 ? r->stream_len : 0);
  snprintf(age, sizeof(age), "%d", r->history_age_ms);
  /* "~": its node's pages did not get it before Redis had it. */
  snprintf(u, sizeof(u), "%s%s", q->local ? "" : "~", q->u);
  c4j__rlink_key(r, ":h:", q->a, q->a_len, hkey);
  argv[0] = eval || !r->sha[0] ? "EVAL" : "EVALSHA";
  argv[1] = eval || !r->sha[0] ? publish_lua : r->sha;
  argv[2] = "4";
  argv[3] = r->k_seq, argv[4] = hkey, argv[5] = r->k_epoch;
  argv[6] = r->k_bus, argv[7] = q->a, argv[8] = known, argv[9] = when;
  argv[10] = u, argv[11] = q->b, argv[12] = size;
  argv[13] = age, argv[14] = r->epoch, argv[15] = r->node_id;
  for (i = 0; i < 16; i++) lens[i] = strlen(argv[i]);
  lens[7] = q->a_len;
  lens[11] = q->b_len;
  c4j__rlink_send(&r->cmd, record_cb, q, 16, argv, lens);
}

/* Writes q to Redis; it stays in `sent` until confirmed (a publish also
 * waits in `echo` for its copy). */
static void send_record(c4j__redis_t *r, req_t *q, int eval) {
  const char *argv[3];
  size_t lens[3];
  fifo_push(&r->sent, q);
  if (q->kind == R_PUBLISH) {
    q->replied = q->echoed = 0;
    if (!q->in_echo) echo_push(r, q);
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
  req_t *q;
  while ((q = fifo_pop(&r->outbox)) != NULL) send_record(r, q, 0);
}

/* This node's pages get publish q now (once). */
static void make_local(c4j__redis_t *r, req_t *q) {
  if (q->kind != R_PUBLISH || q->local) return;
  if (r->cb.local_cb(r->cb.data, q->a, q->a_len, q->b, q->b_len, q->time_ms,
                     q->u) == 0)
    q->local = 1;
}

void c4j__rbus_queue(c4j__redis_t *r, req_t *q) {
  if (!linked(r)) make_local(r, q);
  fifo_push(&r->outbox, q);
}

/* The records written but not confirmed when the link dropped go back to
 * the head of the outbox, in order (Redis may or may not have run them:
 * at least once rather than at most once), but for the publishes whose
 * copy came back: those ran, and the layer above has their copy.  Then
 * this node's pages get every publish of the outbox they have not had. */
void c4j__rbus_requeue(c4j__redis_t *r) {
  size_t n = 0, bytes = 0;
  req_t *q, *next;
  r->echo.head = r->echo.tail = NULL;
  for (q = r->sent.head; q != NULL; q = next) {
    next = q->next;
    q->in_echo = 0;
    if (q->kind == R_PUBLISH && q->echoed) {
      fifo_remove(&r->sent, q);
      n++, bytes += req_size(q);
      c4j__free(q);
    }
  }
  uncount(r, n, bytes);
  if (r->sent.head != NULL) {
    r->sent.tail->next = r->outbox.head;
    if (r->outbox.head != NULL) r->outbox.head->prev = r->sent.tail;
    else r->outbox.tail = r->sent.tail;
    r->outbox.head = r->sent.head;
    r->sent.head = r->sent.tail = NULL;
  }
  for (q = r->outbox.head; q != NULL; q = q->next) make_local(r, q);
}

void c4j__rbus_free(c4j__redis_t *r) {
  fifo_free(&r->outbox);
  fifo_free(&r->sent);
  r->echo.head = r->echo.tail = NULL;
}

/* ---- History: the fetch and the preload --------------------------------- */

/* One stream entry [id "<offset>-1", [t, time, d, data, u, id]]; 1 if
 * usable.  u: the message id its node gave it, "~" before it unless that
 * node delivered it to its own pages itself (a node of an older version
 * wrote u only then, without "~"). */
static int parse_entry(const redisReply *en, c4j__redis_entry_t *out) {
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
    if (k->str[0] == 'u' && v->len > 1 && v->len <= C4J__MSG_ID_CAP) {
      out->local = v->str[0] != '~';
      out->u = out->local ? v->str : v->str + 1;
      if (strlen(out->u) >= C4J__MSG_ID_CAP) out->u = NULL, out->local = 0;
    }
    if (k->str[0] == 'd') {
      out->data = v->str;
      out->data_len = v->len;
      have_d = 1;
    }
  }
  return have_d;
}

/* The oldest page after q->num (XRANGE: oldest first, as hub.c wants). */
static void answer_fetch(c4j__redis_t *r, const req_t *q,
                         const redisReply *rep) {
  c4j__redis_entry_t *v = NULL;
  size_t n = 0;
  int status = rep == NULL ? C4J__FETCH_FAILED : C4J__FETCH_DONE;
  if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0) {
    v = c4j__calloc(rep->elements, sizeof(*v));
    for (size_t i = 0; v != NULL && i < rep->elements; i++)
      if (parse_entry(rep->element[i], &v[n])) n++;
    if (v == NULL) status = C4J__FETCH_FAILED; /* asked again later */
    else if (rep->elements >= FETCH_PAGE) status = C4J__FETCH_MORE;
  } else if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
    c4j__rlink_log(r, 1, "hub: history fetch failed: %s%s", rep->str, "");
  }
  r->cb.history_cb(r->cb.data, q->a, q->a_len, v, n, status, 0);
  c4j__free(v);
}

static void fetch_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  req_t *q = priv;
  if (!r->stopping) answer_fetch(r, q, reply);
  c4j__free(q);
}

/* The oldest FETCH_PAGE entries after q->num (0: from the first), or
 * C4J__FETCH_FAILED at once when the link is down (hub.c fetches again
 * once it is up). */
void c4j__rbus_fetch(c4j__redis_t *r, req_t *q) {
  char key[KEY_CAP], start[32], count[24];
  const char *argv[6];
  size_t lens[6];
  if (r->history_size > 0 && linked(r)) {
    lens[1] = c4j__rlink_key(r, ":h:", q->a, q->a_len, key);
    if (q->num == 0) snprintf(start, sizeof(start), "-");
    else snprintf(start, sizeof(start), "(%llu-1", (unsigned long long)q->num);
    snprintf(count, sizeof(count), "%d", FETCH_PAGE);
    argv[0] = "XRANGE", argv[1] = key, argv[2] = start, argv[3] = "+";
    argv[4] = "COUNT", argv[5] = count;
    for (int i = 0; i < 6; i++) lens[i] = i == 1 ? lens[1] : strlen(argv[i]);
    if (c4j__rlink_send(&r->cmd, fetch_cb, q, 6, argv, lens) == 0) return;
  }
  r->cb.history_cb(r->cb.data, q->a, q->a_len, NULL, 0, C4J__FETCH_FAILED,
                   0);
  c4j__free(q);
}

/* At start, on the blocking connection: every channel's history and
 * offset, so that a page that resumes here from another node finds what
 * it missed even before the next broadcast, and a page that subscribes
 * here stands where the channel does (its stream may have expired, its
 * offset not).  At most PRELOAD_MAX channels. */
void c4j__rbus_preload(c4j__redis_t *r, redisContext *c) {
  char key[KEY_CAP];
  int size = r->history_size;
  redisReply *seq = redisCommand(c, "HGETALL %s", r->k_seq);
  if (seq == NULL || seq->type != REDIS_REPLY_ARRAY || size <= 0) {
    if (seq) freeReplyObject(seq);
    return;
  }
  for (size_t i = 0; i + 1 < seq->elements && i < 2 * PRELOAD_MAX; i += 2) {
    const redisReply *ch = seq->element[i], *off = seq->element[i + 1];
    redisReply *h;
    c4j__redis_entry_t *v;
    size_t n = 0, klen;
    /* The layer above checks the name (history_cb). */
    if (ch->type != REDIS_REPLY_STRING || ch->len == 0 ||
        ch->len > C4J_MAX_CHANNEL || off->type != REDIS_REPLY_STRING)
      continue;
    klen = c4j__rlink_key(r, ":h:", ch->str, ch->len, key);
    h = redisCommand(c, "XREVRANGE %b + - COUNT %d", key, klen, size);
    if (h == NULL) break;
    v = h->type == REDIS_REPLY_ARRAY ? c4j__calloc(h->elements + 1, sizeof(*v))
                                     : NULL;
    for (size_t j = h->elements; v != NULL && j-- > 0;) /* oldest first */
      if (parse_entry(h->element[j], &v[n])) n++;
    r->cb.history_cb(r->cb.data, ch->str, ch->len, v, n, C4J__FETCH_DONE,
                     strtoull(off->str, NULL, 10));
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
  if (u == NULL || u[0] == '\0' || u[0] == '~' ||
      strlen(u) >= C4J__MSG_ID_CAP || strpbrk(u, "\t\n") != NULL)
    return UV_EINVAL;
  q = c4j__rlink_req(R_PUBLISH, ch, ch_len, data, len, NULL, 0);
  if (q != NULL) {
    q->time_ms = time_ms;
    q->num = known_last;
    memcpy(q->u, u, strlen(u) + 1);
  }
  return c4j__rlink_submit(r, q, 1);
}

void c4j__redis_floor(c4j__redis_t *r, const char *ch, size_t ch_len,
                      uint64_t last) {
  char off[24];
  const char *argv[8];
  size_t lens[8];
  snprintf(off, sizeof(off), "%llu", (unsigned long long)last);
  argv[0] = "EVAL", argv[1] = floor_lua, argv[2] = "2";
  argv[3] = r->k_seq, argv[4] = r->k_epoch;
  argv[5] = ch, argv[6] = off, argv[7] = r->epoch;
  for (int i = 0; i < 8; i++) lens[i] = strlen(argv[i]);
  lens[5] = ch_len;
  c4j__rlink_send(&r->cmd, NULL, NULL, 8, argv, lens);
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
