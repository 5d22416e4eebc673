/* redis.c - the link to Redis (redis.h), its life: one thread with its
 * own libuv loop and three hiredis connections (commands, the bus
 * subscription, the action queue); the blocking connection that reads the
 * cluster's epoch at start; connecting, losing the link and reconnecting
 * with backoff, the guard on a connect that never answers, heartbeats and
 * the probe for dead sockets; the request queue from the callers' threads
 * (submit, wake, dispatch); start and stop, up and stats.  Callers never
 * wait for Redis: they queue requests under `lock` and wake the thread.
 * What Redis says goes up through the callbacks the layer above handed
 * in.  The records, the bus and the history are redisbus.c's, the action
 * queue redisact.c's, the cluster-wide maps rediskv.c's (redisint.h).
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

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define GUARD_MS 1500       /* a connect attempt that has not linked by then
                               failed (hiredis 0.14's libuv adapter does not
                               report a refused non-blocking connect) */
#define TICK_MS 2000        /* heartbeat and dead-socket probe */
#define HB_LATE_MS 5000     /* an unanswered heartbeat this old, and no
                               answer to anything else for as long: link
                               lost */

static void link_lost(c4j__redis_t *r, const char *why);

/* ---- Requests and commands, for every file ------------------------------- */

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
  char text[640]; /* the longest format with a url (300) and a reason (256) fits */
  snprintf(text, sizeof(text), fmt, a, b);
  r->cb.log_cb(r->cb.data, level, text);
}

/* The answer to a request nobody waits for (a map's entry, an action
 * pushed): Redis is alive. */
static void answered_cb(redisAsyncContext *ac, void *reply, void *priv) {
  if (reply != NULL) c4j__rlink_answered(((conn_t *)ac->data)->r);
}

void c4j__rlink_answered(c4j__redis_t *r) { r->answered = c4j__mono_ms(); }

int c4j__rlink_send(conn_t *c, redisCallbackFn *fn, void *priv, int argc,
                    const char **argv, const size_t *lens) {
  if (c->ac == NULL) return -1;
  return redisAsyncCommandArgv(c->ac, fn ? fn : answered_cb, priv, argc, argv,
                               lens) == REDIS_OK ? 0 : -1;
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

/* SET <p>:epoch NX, then GET it: the cluster's epoch; then the preload. */
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
    c4j__rbus_preload(r, c);
    rc = 0;
  }
  if (set) freeReplyObject(set);
  if (get) freeReplyObject(get);
  redisFree(c);
  return rc;
}

/* ---- The link ------------------------------------------------------------ */

static void hb_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  if (reply != NULL) r->hb_sent = 0;
  if (reply != NULL) c4j__rlink_answered(r);
}

static void heartbeat(c4j__redis_t *r) {
  char now[24];
  const char *argv[4] = { "HSET", r->k_nodes, r->node_id, now };
  snprintf(now, sizeof(now), "%lld", (long long)c4j__wall_ms());
  if (c4j__rlink_send_strs(&r->cmd, hb_cb, NULL, 4, argv) == 0)
    r->hb_sent = c4j__mono_ms();
}

/* The layer above hears of the link first: what it writes then (the
 * floors of the offsets) goes before the outbox. */
static void link_up(c4j__redis_t *r) {
  uv_timer_stop(&r->guard);
  r->fails = 0;
  heartbeat(r);
  c4j__rkv_write_all(r, 0);
  c4j__rlink_log(r, 2, "hub: linked to %s%s", r->url, "");
  r->cb.link_cb(r->cb.data, 1);
  c4j__rbus_flush(r);
  atomic_store(&r->up, 1);
  if (r->listen) c4j__ract_start(r); /* after the heartbeat */
}

void c4j__rlink_ready(c4j__redis_t *r) {
  if (!linked(r) && r->cmd.connected && r->scripted && r->subscribed &&
      (!r->listen || r->act.connected))
    link_up(r);
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
  if (c == &r->cmd) c4j__rbus_load_script(r);
  if (c == &r->sub) c4j__rbus_subscribe(r);
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

/* Drops every connection, puts the unconfirmed records back in the
 * outbox (this node's pages get the broadcasts among them now, through
 * local_cb), tells the layer above once, and schedules the next attempt.
 * Safe to reach again from the callbacks that freeing the connections
 * runs. */
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
  c4j__rbus_requeue(r);
  if (was_up) {
    c4j__rlink_log(r, 1, "hub: lost %s (%s), reconnecting", r->url, text);
    r->cb.link_cb(r->cb.data, 0);
  } else if (r->fails == 0) {
    c4j__rlink_log(r, 1, "hub: cannot link to %s (%s), retrying", r->url,
                   text);
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
  /* The heartbeat waits behind what was sent before it: a Redis that
   * still answers those (half a million map entries deleted after a mass
   * disconnect, with the CPU taken by others) is slow, not lost. */
  if (r->hb_sent && c4j__mono_ms() - r->hb_sent > HB_LATE_MS &&
      c4j__mono_ms() - r->answered > HB_LATE_MS) {
    link_lost(r, "no answer to the heartbeat");
    return;
  }
  if (probe(r)) return;
  if (!r->hb_sent) heartbeat(r);
  c4j__ract_requeue_dead(r);
}

/* ---- The thread and its request queue ------------------------------------ */

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
  case R_FETCH: c4j__rbus_fetch(r, q); break;
  case R_SET: c4j__rkv_dispatch(r, q); break;
  default: c4j__rbus_queue(r, q); break;
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
  if (linked(r)) c4j__rbus_flush(r);
  if (closing) finish(r);
}

static void run(void *arg) {
  c4j__redis_t *r = arg;
  uv_run(&r->loop, UV_RUN_DEFAULT);
}

/* Queues q for the Redis thread.  Records (bounded) count in the outbox
 * until Redis has them; over its bounds, linked or not (a slow Redis
 * fills it too): C4J_EFULL, and q is refused. */
int c4j__rlink_submit(c4j__redis_t *r, req_t *q, int bounded) {
  size_t sz;
  int rc = 0;
  if (q == NULL) return C4J_ENOMEM;
  sz = req_size(q);
  uv_mutex_lock(&r->lock);
  if (r->closing) {
    rc = C4J_ESTOPPED;
  } else if (bounded && (r->pending_n >= r->outbox_records ||
                         r->pending_bytes + sz > r->outbox_bytes)) {
    atomic_fetch_add(&r->refused, 1);
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
  r->stream_len = opts->stream_len > opts->history_size ? opts->stream_len
                                                        : opts->history_size;
  r->history_age_ms = opts->history_age_ms;
  r->outbox_records = opts->outbox_records > 0 ? opts->outbox_records : 1;
  r->outbox_bytes = opts->outbox_bytes;
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
  c4j__rbus_free(r);
  c4j__rkv_free(r);
  c4j__free(r);
}

int c4j__redis_up(c4j__redis_t *r) { return r != NULL && linked(r); }

void c4j__redis_stats(c4j__redis_t *r, uint64_t *outbox, uint64_t *refused) {
  *outbox = *refused = 0;
  if (r == NULL) return;
  uv_mutex_lock(&r->lock);
  *outbox = r->pending_n;
  uv_mutex_unlock(&r->lock);
  *refused = atomic_load(&r->refused);
}
