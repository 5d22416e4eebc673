/* test-redis.c - the link to Redis (redis.c) alone, against a real
 * redis-server started on a free port: the epoch, the publish script, the
 * floor, the fetch in pages, the outbox's bounds (down, and slow: CLIENT
 * PAUSE), the broadcasts handed to local_cb (queued while down, or in
 * flight when the link drops), the action queue, the cluster-wide maps,
 * Redis killed and restarted, stop while down, a busy Redis that answers
 * late (the link stays).  A synchronous hiredis client watches Redis.  No engine:
 * the link's callbacks are this test's (a host that keeps the actions in
 * a bounded queue, as the engine's events do, and the log lines).
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <uv.h>

#include "common.h"
#include "redis.h"
#include "test.h"
#include "redis-server.h"

#define NODE_A "AAAAAAAAAAAAAAAAAAAAAA"
#define NODE_B "BBBBBBBBBBBBBBBBBBBBBB"
#define NODE_C "CCCCCCCCCCCCCCCCCCCCCC"

static int g_port;
static pid_t g_pid = -1;
static char g_url[64];
static int g_order[64], g_norder; /* actions in the order they came */

/* ---- Helpers ------------------------------------------------------------- */

static redisContext *cli(void) {
  struct timeval tv = { 3, 0 };
  redisContext *c = redisConnectWithTimeout("127.0.0.1", g_port, tv);
  if (c != NULL && c->err) {
    redisFree(c);
    return NULL;
  }
  if (c) redisSetTimeout(c, tv);
  return c;
}

/* Starts redis-server on g_port (with a password unless pass is NULL)
 * and waits until it answers. */
static int server_up(const char *pass) {
  g_pid = test_redis_spawn(g_port, pass);
  for (int i = 0; i < 300; i++) {
    redisContext *c = cli();
    if (c != NULL) {
      redisFree(c);
      return 0;
    }
    usleep(10000);
  }
  return -1;
}

static void server_kill(void) { test_redis_kill(&g_pid); }

static long long cmd_int(const char *fmt, const char *a, const char *b) {
  redisContext *c = cli();
  redisReply *rep;
  long long v = -1;
  if (c == NULL) return -2;
  rep = redisCommand(c, fmt, a, b);
  if (rep && rep->type == REDIS_REPLY_INTEGER) v = rep->integer;
  if (rep && rep->type == REDIS_REPLY_STRING) v = atoll(rep->str);
  if (rep) freeReplyObject(rep);
  redisFree(c);
  return v;
}

static void cmd_do(const char *fmt, const char *a, const char *b,
                   const char *d) {
  redisContext *c = cli();
  redisReply *rep;
  if (c == NULL) return;
  rep = redisCommand(c, fmt, a, b, d);
  if (rep) freeReplyObject(rep);
  redisFree(c);
}

/* What the link tells its host, kept for the checks.  Actions wait in a
 * queue of `cap` bytes (the engine's event queue): when it is full the
 * callback answers C4J_EFULL and the link tries again later. */
typedef struct {
  c4j__redis_t *r;
  int listen;
  uv_mutex_t lock;
  size_t cap, used;
  int nact;
  char *act[64];
  char logs[1 << 14];
  size_t nlog;
  int records, histories;
  /* The last fetch answer: entries, first and last offset, status. */
  size_t hist_n;
  uint64_t hist_first, hist_last;
  int hist_status;
  /* local_cb: the message ids handed over, in order. */
  char locals[64][C4J__MSG_ID_CAP];
  int nlocal;
  /* link_cb(1) raises this channel's offset to floor_last (if set). */
  const char *floor_ch;
  uint64_t floor_last;
  size_t outbox_records; /* the bound (0: 10000) */
  int stream_len;        /* 0: 5 */
  int hist_local;        /* the last answer's first entry: local */
  char hist_u[C4J__MSG_ID_CAP];
} host_t;

static void host_log(void *data, int level, const char *text) {
  host_t *h = data;
  size_t n = strlen(text);
  uv_mutex_lock(&h->lock);
  if (h->nlog + n + 2 < sizeof(h->logs)) {
    memcpy(h->logs + h->nlog, text, n);
    h->nlog += n;
    h->logs[h->nlog++] = '\n';
    h->logs[h->nlog] = '\0';
  }
  uv_mutex_unlock(&h->lock);
}

static void host_record(void *data, const char *rec, size_t len) {
  host_t *h = data;
  uv_mutex_lock(&h->lock);
  h->records++;
  uv_mutex_unlock(&h->lock);
}

static void host_history(void *data, const char *ch, size_t ch_len,
                         const c4j__redis_entry_t *v, size_t n, int status,
                         uint64_t newest) {
  host_t *h = data;
  uv_mutex_lock(&h->lock);
  h->histories++;
  h->hist_n = n;
  h->hist_first = n ? v[0].offset : 0;
  h->hist_last = n ? v[n - 1].offset : 0;
  h->hist_status = status;
  h->hist_local = n ? v[0].local : 0;
  snprintf(h->hist_u, sizeof(h->hist_u), "%s", n && v[0].u ? v[0].u : "");
  uv_mutex_unlock(&h->lock);
}

static int host_local(void *data, const char *ch, size_t ch_len,
                      const char *json, size_t len, int64_t time_ms,
                      const char *u) {
  host_t *h = data;
  uv_mutex_lock(&h->lock);
  if (h->nlocal < 64) snprintf(h->locals[h->nlocal++], C4J__MSG_ID_CAP, "%s", u);
  uv_mutex_unlock(&h->lock);
  return 0;
}

static int host_action(void *data, const char *json, size_t len) {
  host_t *h = data;
  int rc = 0;
  uv_mutex_lock(&h->lock);
  if (h->used + len > h->cap || h->nact == 64) {
    rc = C4J_EFULL;
  } else {
    h->act[h->nact] = c4j__strndup(json, len);
    if (h->act[h->nact] != NULL) {
      h->nact++;
      h->used += len;
    }
  }
  uv_mutex_unlock(&h->lock);
  return rc;
}

static void host_link(void *data, int up) {
  host_t *h = data;
  if (up && h->floor_ch != NULL)
    c4j__redis_floor(h->r, h->floor_ch, strlen(h->floor_ch), h->floor_last);
}

static host_t *host_q(int listen, size_t cap) {
  host_t *h = calloc(1, sizeof(*h));
  uv_mutex_init(&h->lock);
  h->listen = listen;
  h->cap = cap ? cap : 8u << 20;
  return h;
}

static host_t *host(int listen) { return host_q(listen, 0); }

/* Stops the host's link (the node says goodbye to Redis). */
static void host_stop(host_t *h) {
  c4j__redis_stop(h->r);
  h->r = NULL;
}

/* Stops the host's link (if any) and frees what it kept. */
static void host_free(host_t *h) {
  host_stop(h);
  for (int i = 0; i < h->nact; i++) c4j__free(h->act[i]);
  uv_mutex_destroy(&h->lock);
  free(h);
}

static int start(host_t *h, const char *url, const char *prefix,
                 const char *node, const char *epoch, char *epoch_out,
                 int timeout_ms, c4j__redis_t **out, char *why,
                 size_t why_cap) {
  c4j__redis_options_t o = { .url = url, .prefix = prefix, .node_id = node,
                             .epoch = epoch, .history_size = 5,
                             .stream_len = h->stream_len ? h->stream_len : 5,
                             .history_age_ms = 60000,
                             .outbox_records = h->outbox_records
                                                   ? h->outbox_records
                                                   : 10000,
                             .outbox_bytes = 16u << 20,
                             .listen_actions = h->listen,
                             .timeout_ms = timeout_ms };
  c4j__redis_callbacks_t cb = { .data = h, .log_cb = host_log,
                                .record_cb = host_record,
                                .history_cb = host_history,
                                .local_cb = host_local,
                                .action_cb = host_action,
                                .link_cb = host_link };
  return c4j__redis_start(&o, &cb, epoch_out, out, why, why_cap);
}

static c4j__redis_t *link_to(host_t *h, const char *prefix,
                             const char *node, const char *epoch,
                             char *epoch_out) {
  char why[256], out[C4J__EPOCH_LEN + 1];
  int rc = start(h, g_url, prefix, node, epoch, epoch_out ? epoch_out : out,
                 2000, &h->r, why, sizeof(why));
  CHECK_EQ(rc, 0);
  if (rc != 0) fprintf(stderr, "  start: %s\n", why);
  return h->r;
}

/* Waits up to ms for the link to be `up`; 1 if it was. */
static int wait_up(c4j__redis_t *r, int up, int ms) {
  for (int i = 0; i < ms / 10; i++) {
    if (c4j__redis_up(r) == up) return 1;
    usleep(10000);
  }
  return c4j__redis_up(r) == up;
}

/* A subscriber on <prefix>:bus; NULL if it could not subscribe. */
static redisContext *subscriber(const char *prefix, const char *pass) {
  redisContext *c = cli();
  redisReply *rep;
  if (c == NULL) return NULL;
  if (pass && (rep = redisCommand(c, "AUTH %s", pass)) != NULL)
    freeReplyObject(rep);
  rep = redisCommand(c, "SUBSCRIBE %s:bus", prefix);
  if (rep == NULL) {
    redisFree(c);
    return NULL;
  }
  freeReplyObject(rep);
  return c;
}

/* The next record on the bus, into buf (NUL ended); its length or -1. */
static int next_record(redisContext *c, char *buf, size_t cap) {
  redisReply *rep = NULL;
  int n = -1;
  if (c == NULL || redisGetReply(c, (void **)&rep) != REDIS_OK) return -1;
  if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
      rep->element[2]->type == REDIS_REPLY_STRING &&
      rep->element[2]->len < cap) {
    n = (int)rep->element[2]->len;
    memcpy(buf, rep->element[2]->str, (size_t)n);
    buf[n] = '\0';
  }
  freeReplyObject(rep);
  return n;
}

/* The offset field of an "m" record, or -1. */
static long long rec_offset(const char *rec) {
  const char *p = rec;
  for (int i = 0; i < 4 && p; i++) {
    p = strchr(p, '\t');
    if (p) p++;
  }
  return p ? atoll(p) : -1;
}

/* Adds to seen[n] for every action {"n":n} the host took (and empties
 * its queue); returns how many actions it read. */
static int drain_actions(host_t *h, int *seen, int max) {
  int got;
  uv_mutex_lock(&h->lock);
  got = h->nact;
  for (int i = 0; i < h->nact; i++) {
    int k = -1;
    if (sscanf(h->act[i], "{\"n\":%d", &k) == 1 && k >= 0 && k < max) {
      seen[k]++;
      if (g_norder < 64) g_order[g_norder++] = k;
    }
    c4j__free(h->act[i]);
  }
  h->nact = 0;
  h->used = 0;
  uv_mutex_unlock(&h->lock);
  return got;
}

/* Whether a log line with needle comes within a second (the Redis thread
 * logs a change just after it shows in the up flag); the lines read are
 * forgotten. */
static int has_log(host_t *h, const char *needle) {
  uint64_t end = c4j__mono_ms() + 1000;
  int found = 0;
  do {
    uv_mutex_lock(&h->lock);
    found = strstr(h->logs, needle) != NULL;
    if (found) h->nlog = h->logs[0] = 0;
    uv_mutex_unlock(&h->lock);
    if (!found) usleep(20000);
  } while (!found && c4j__mono_ms() < end);
  return found;
}

static int get_map(c4j__redis_t *r, const char *key, char *out, size_t cap) {
  return c4j__redis_get(r, key, strlen(key), out, cap, 1000);
}

static int set_kv(c4j__redis_t *r, const char *key, const char *field,
                  const char *value) {
  return c4j__redis_set(r, key, strlen(key), field, strlen(field), value,
                        value ? strlen(value) : 0);
}

/* Waits up to ms for get(key) to hold (want 1) or lack (0) field. */
static int wait_field(c4j__redis_t *r, const char *key, const char *field,
                      int want, int ms) {
  char out[4096];
  for (int i = 0; i <= ms / 20; i++) {
    json_t *o;
    int has = 0;
    int n = get_map(r, key, out, sizeof(out));
    if (n > 0 && (o = json_loadb(out, (size_t)n, 0, NULL)) != NULL) {
      has = json_object_get(o, field) != NULL;
      json_decref(o);
    }
    if (has == want) return 1;
    usleep(20000);
  }
  return 0;
}

static size_t count_of(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

/* ---- Tests --------------------------------------------------------------- */

TEST(redis_server_starts) {
  g_port = test_free_port();
  snprintf(g_url, sizeof(g_url), "redis://127.0.0.1:%d/0", g_port);
  atexit(server_kill); /* even when a check fails */
  CHECK_EQ(server_up(NULL), 0);
}

TEST(redis_start_errors) {
  host_t *e = host(0);
  c4j__redis_t *r = NULL;
  char why[256], out[9], url[64];
  const char *bad[] = { "http://127.0.0.1", "redis://", "redis://h:0",
                        "redis://h:99999", "redis://h:1/x", "redis://h:1/",
                        "redis://h:1/2/3", "redis://h:1:2", "redis://h h",
                        "redis://h:+1", NULL };
  snprintf(url, sizeof(url), "redis://127.0.0.1:%d", test_free_port());
  why[0] = '\0';
  CHECK_EQ(start(e, url, "c4j", NODE_A, "abcdefgh", out, 1000, &r,
                            why, sizeof(why)), C4J_EHUB);
  CHECK(strstr(why, "cannot reach") != NULL);
  CHECK(strstr(why, "/0: ") != NULL);
  for (int i = 0; bad[i]; i++) {
    why[0] = '\0';
    CHECK_EQ(start(e, bad[i], "c4j", NODE_A, "abcdefgh", out,
                              1000, &r, why, sizeof(why)), C4J_EHUB);
    CHECK(strstr(why, "bad URL") != NULL);
  }
  CHECK(r == NULL);
  /* A bad epoch already in Redis. */
  cmd_do("SET %s %s%s", "bad:epoch", "not an epoch", "");
  CHECK_EQ(start(e, g_url, "bad", NODE_A, "abcdefgh", out, 1000,
                            &r, why, sizeof(why)), C4J_EHUB);
  CHECK(strstr(why, "base64url") != NULL);
  host_free(e);
}

TEST(redis_epoch) {
  host_t *e1 = host(0), *e2 = host(0);
  char out1[9] = "", out2[9] = "";
  c4j__redis_t *r1 = link_to(e1, "ep", NODE_A, "abcdefgh", out1);
  c4j__redis_t *r2 = link_to(e2, "ep", NODE_B, "zzzzzzzz", out2);
  CHECK_STR(out1, "abcdefgh");
  CHECK_STR(out2, "abcdefgh"); /* the cluster's, not its own */
  CHECK(wait_up(r1, 1, 3000));
  CHECK(wait_up(r2, 1, 3000));
  CHECK_EQ(cmd_int("HEXISTS %s %s", "ep:nodes", NODE_A), 1);
  host_stop(e1);
  host_stop(e2);
  CHECK_EQ(cmd_int("HEXISTS %s %s", "ep:nodes", NODE_A), 0); /* goodbye */
  host_free(e1);
  host_free(e2);
}

TEST(redis_publish) {
  host_t *e = host(0);
  c4j__redis_t *r = link_to(e, "pub", NODE_A, "abcdefgh", NULL);
  redisContext *s = subscriber("pub", NULL);
  const char *data[3] = { "\"one\"", "\"a\tb\nc\"",
                          "\"h\xc3\xa9llo w\xc3\xb6rld\"" };
  char rec[256], want[256];
  CHECK(s != NULL);
  CHECK(wait_up(r, 1, 3000));
  /* A message id is required, without tab, newline or a leading "~". */
  CHECK_EQ(c4j__redis_publish(r, "news", 4, "1", 1, 5, 0, NULL), UV_EINVAL);
  CHECK_EQ(c4j__redis_publish(r, "news", 4, "1", 1, 5, 0, "~x.1"), UV_EINVAL);
  CHECK_EQ(c4j__redis_publish(r, "news", 4, "1", 1, 5, 0, "x\t.1"), UV_EINVAL);
  for (int i = 0; i < 3; i++) {
    char u[40];
    snprintf(u, sizeof(u), NODE_A ".%d", 7 + i);
    CHECK_EQ(c4j__redis_publish(r, "news", 4, data[i], strlen(data[i]),
                                1000 + i, 0, u),
             0);
  }
  /* Linked: this node's pages get them from the bus ("~": not local). */
  for (int i = 0; i < 3; i++) {
    snprintf(want, sizeof(want), "m\t%s\tnews\tabcdefgh\t%d\t%d\t~%s.%d\n%s",
             NODE_A, i + 1, 1000 + i, NODE_A, 7 + i, data[i]);
    CHECK_EQ(next_record(s, rec, sizeof(rec)), (long long)strlen(want));
    CHECK_STR(rec, want);
  }
  CHECK_EQ(e->nlocal, 0);
  CHECK_EQ(cmd_int("XLEN %s%s", "pub:h:news", ""), 3);
  CHECK_EQ(c4j__redis_publish(r, "news", 4, "1", 1, 5, 10, NODE_A ".10"), 0);
  CHECK_EQ(next_record(s, rec, sizeof(rec)) > 0, 1);
  CHECK_EQ(rec_offset(rec), 11);
  for (int i = 0; i < 3; i++) {
    char u[40];
    snprintf(u, sizeof(u), NODE_A ".%d", 11 + i);
    c4j__redis_publish(r, "news", 4, "2", 1, 5, 0, u);
  }
  for (int i = 0; i < 3; i++) next_record(s, rec, sizeof(rec));
  CHECK_EQ(rec_offset(rec), 14);
  /* Trimmed roughly (whole stream nodes): at least stream_len stay. */
  CHECK(cmd_int("XLEN %s%s", "pub:h:news", "") >= 5);
  CHECK_EQ(cmd_int("HGET %s %s", "pub:seq", "news"), 14);
  CHECK(cmd_int("PTTL %s%s", "pub:h:news", "") > 0);
  /* Fetches run (their answer goes to hub.c): no crash, no leak. */
  CHECK_EQ(c4j__redis_fetch(r, "news", 4, 0), 0);
  CHECK_EQ(c4j__redis_fetch(r, "news", 4, 11), 0);
  CHECK_EQ(c4j__redis_fetch(r, "none", 4, 3), 0);
  CHECK_EQ(c4j__redis_bus(r, "t\tx\n", 4), 0);
  CHECK_EQ(next_record(s, rec, sizeof(rec)), 4);
  CHECK_STR(rec, "t\tx\n");
  usleep(100000);
  redisFree(s);
  host_free(e);
}

TEST(redis_actions) {
  host_t *a = host(1), *b = host(1), *c = host(0);
  c4j__redis_t *ra = link_to(a, "act", NODE_A, "abcdefgh", NULL);
  c4j__redis_t *rc = link_to(c, "act3", NODE_C, "abcdefgh", NULL);
  c4j__redis_t *rb;
  int seen[20] = { 0 }, got = 0;
  CHECK(wait_up(ra, 1, 3000));
  CHECK(wait_up(rc, 1, 3000));
  /* One listening node: each exactly once. */
  CHECK_EQ(c4j__redis_action(ra, "{\"n\":0}", 7), 0);
  CHECK_EQ(c4j__redis_action(ra, "{\"n\":1}", 7), 0);
  for (int i = 0; i < 300 && got < 2; i++, usleep(10000))
    got += drain_actions(a, seen, 20);
  usleep(300000);
  got += drain_actions(a, seen, 20);
  CHECK_EQ(got, 2);
  CHECK_EQ(seen[0], 1);
  CHECK_EQ(seen[1], 1);
  /* Two listening nodes: 20 actions, each once in all. */
  rb = link_to(b, "act", NODE_B, "abcdefgh", NULL);
  CHECK(wait_up(rb, 1, 3000));
  memset(seen, 0, sizeof(seen));
  got = 0;
  for (int i = 0; i < 20; i++) {
    char j[24];
    snprintf(j, sizeof(j), "{\"n\":%d}", i);
    CHECK_EQ(c4j__redis_action(i % 2 ? rb : ra, j, strlen(j)), 0);
  }
  for (int i = 0; i < 500 && got < 20; i++, usleep(10000))
    got += drain_actions(a, seen, 20) + drain_actions(b, seen, 20);
  usleep(1200000);
  got += drain_actions(a, seen, 20) + drain_actions(b, seen, 20);
  CHECK_EQ(got, 20);
  for (int i = 0; i < 20; i++) CHECK_EQ(seen[i], 1);
  CHECK_EQ(cmd_int("LLEN %s%s", "act:actions", ""), 0);
  /* A node with listen_actions 0 leaves them in the queue. */
  CHECK_EQ(c4j__redis_action(rc, "{\"n\":0}", 7), 0);
  usleep(300000);
  CHECK_EQ(drain_actions(c, seen, 20), 0);
  CHECK_EQ(cmd_int("LLEN %s%s", "act3:actions", ""), 1);
  host_stop(a);
  host_stop(b);
  host_stop(c);
  host_free(a);
  host_free(b);
  host_free(c);
}

TEST(redis_set_get) {
  host_t *a = host(0), *b = host(0);
  c4j__redis_t *ra = link_to(a, "kv", NODE_A, "abcdefgh", NULL);
  c4j__redis_t *rb = link_to(b, "kv", NODE_B, "abcdefgh", NULL);
  char out[4096], now[24], big[70000];
  json_t *o;
  int n;
  CHECK(wait_up(ra, 1, 3000));
  CHECK(wait_up(rb, 1, 3000));
  CHECK_EQ(set_kv(ra, "presence", "u1", "1"), 0);
  CHECK_EQ(set_kv(rb, "presence", "u2", "{\"a\":2}"), 0);
  CHECK_EQ(set_kv(ra, "presence", "q\"t\tx", "true"), 0);
  CHECK(wait_field(ra, "presence", "u2", 1, 2000));
  CHECK(wait_field(ra, "presence", "q\"t\tx", 1, 2000));
  n = get_map(rb, "presence", out, sizeof(out));
  CHECK(n > 0);
  o = json_loadb(out, n > 0 ? (size_t)n : 0, 0, NULL);
  CHECK(o != NULL);
  CHECK_EQ(json_integer_value(json_object_get(o, "u1")), 1);
  CHECK_EQ(json_integer_value(json_object_get(json_object_get(o, "u2"), "a")),
           2);
  CHECK_EQ(json_object_size(o), 3);
  json_decref(o);
  /* Dead, unknown and odd nodes and fields are left out. */
  cmd_do("HSET %s %s %s", "kv:kv:presence", NODE_C ":u3", "3");
  cmd_do("HSET %s %s %s", "kv:nodes", NODE_C, "1000");
  cmd_do("HSET %s %s %s", "kv:kv:presence", "DDDDDDDDDDDDDDDDDDDDDD:u4", "4");
  cmd_do("HSET %s %s %s", "kv:kv:presence", "nocolon", "5");
  cmd_do("HSET %s %s %s", "kv:kv:presence", NODE_A ":", "6");
  cmd_do("HSET %s %s %s", "kv:kv:presence", NODE_A ":u5", "");
  cmd_do("HSET %s %s %s", "kv:nodes", "EEEEEEEEEEEEEEEEEEEEEE", "abc");
  cmd_do("HSET %s %s %s", "kv:kv:presence", "EEEEEEEEEEEEEEEEEEEEEE:u6", "6");
  n = get_map(ra, "presence", out, sizeof(out));
  o = json_loadb(out, n > 0 ? (size_t)n : 0, 0, NULL);
  CHECK(o != NULL);
  CHECK_EQ(json_object_size(o), 3);
  json_decref(o);
  snprintf(now, sizeof(now), "%lld", (long long)c4j__wall_ms());
  cmd_do("HSET %s %s %s", "kv:nodes", NODE_C, now);
  CHECK(wait_field(ra, "presence", "u3", 1, 500));
  /* Removal, and one field from two nodes. */
  CHECK_EQ(set_kv(ra, "presence", "u1", NULL), 0);
  CHECK(wait_field(ra, "presence", "u1", 0, 2000));
  CHECK_EQ(set_kv(ra, "presence", "dup", "1"), 0);
  CHECK_EQ(set_kv(rb, "presence", "dup", "2"), 0);
  CHECK(wait_field(ra, "presence", "dup", 1, 2000));
  usleep(100000);
  n = get_map(ra, "presence", out, sizeof(out));
  CHECK(n > 0 && count_of(out, "\"dup\"") == 1);
  /* Limits. */
  CHECK_EQ(get_map(ra, "presence", out, 4), C4J_ETOOBIG);
  CHECK_EQ(c4j__redis_get(ra, "x", 0, out, sizeof(out), 100), UV_EINVAL);
  n = get_map(ra, "empty", out, sizeof(out));
  CHECK_EQ(n, 2);
  CHECK_STR(out, "{}");
  CHECK_EQ(c4j__redis_set(ra, "k", 1, "", 0, "1", 1), UV_EINVAL);
  memset(big, '1', sizeof(big));
  CHECK_EQ(c4j__redis_set(ra, "k", 1, "f", 1, big, 65537), C4J_ETOOBIG);
  cmd_do("SET %s %s%s", "kv:kv:wrongtype", "x", "");
  CHECK_EQ(get_map(ra, "wrongtype", out, sizeof(out)), 2);
  host_stop(a);
  host_stop(b);
  host_free(a);
  host_free(b);
}

/* A full event queue: the action goes back to the head of the queue and
 * comes again later, in order, exactly once. */
TEST(redis_actions_full) {
  host_t *e = host_q(1, 256u << 10);
  c4j__redis_t *r = link_to(e, "act4", NODE_A, "abcdefgh", NULL);
  static char big[60001];
  int seen[10] = { 0 }, got;
  CHECK(wait_up(r, 1, 3000));
  memset(big, 'x', sizeof(big));
  for (int i = 0; i < 10; i++) {
    int n = snprintf(big, 32, "{\"n\":%d,\"pad\":\"", i);
    big[n] = 'x';
    memcpy(big + sizeof(big) - 3, "\"}", 2);
    CHECK_EQ(c4j__redis_action(r, big, sizeof(big) - 1), 0);
  }
  usleep(500000);
  CHECK(cmd_int("LLEN %s%s", "act4:actions", "") > 0); /* waiting */
  g_norder = 0;
  got = drain_actions(e, seen, 10);
  CHECK(got > 0 && got < 10);
  for (int i = 0; i < 500 && got < 10; i++, usleep(10000))
    got += drain_actions(e, seen, 10);
  usleep(300000);
  got += drain_actions(e, seen, 10);
  CHECK_EQ(got, 10);
  for (int i = 0; i < 10; i++) CHECK_EQ(seen[i], 1);
  for (int i = 0; i < 10 && i < g_norder; i++) CHECK_EQ(g_order[i], i);
  host_free(e);
}

/* Redis killed and restarted on the same port: the outbox waits, the link
 * comes back, the records follow in order and the map is written again. */
TEST(redis_restart) {
  host_t *e = host(0);
  c4j__redis_t *r = link_to(e, "rs", NODE_A, "abcdefgh", NULL);
  uint64_t outbox = 0, dropped = 0, t0;
  redisContext *s;
  char rec[256] = "";
  CHECK(wait_up(r, 1, 3000));
  CHECK_EQ(set_kv(r, "k7", "f", "7"), 0);
  CHECK(wait_field(r, "k7", "f", 1, 2000));
  CHECK(has_log(e, "hub: linked to redis://127.0.0.1:"));
  server_kill();
  CHECK(wait_up(r, 0, 2000));
  CHECK(has_log(e, "hub: lost redis://127.0.0.1:"));
  t0 = c4j__mono_ms();
  CHECK_EQ(c4j__redis_get(r, "k7", 2, rec, sizeof(rec), 300), C4J_EHUB);
  CHECK(c4j__mono_ms() - t0 < 1500);
  for (int i = 0; i < 3; i++) {
    char u[40];
    snprintf(u, sizeof(u), NODE_A ".%d", 1 + i);
    CHECK_EQ(c4j__redis_publish(r, "ch", 2, "\"x\"", 3, 7, 100, u), 0);
  }
  CHECK_EQ(c4j__redis_bus(r, "t\ty\n", 4), 0);
  usleep(50000);
  c4j__redis_stats(r, &outbox, &dropped);
  CHECK_EQ(outbox, 4);
  CHECK_EQ(dropped, 0);
  /* Queued while down: handed to this node's pages at once, in order. */
  CHECK_EQ(e->nlocal, 3);
  CHECK_STR(e->locals[0], NODE_A ".1");
  CHECK_STR(e->locals[2], NODE_A ".3");
  /* Redis answers NOAUTH until our subscriber is in place: the node keeps
   * trying (and must not link half-way). */
  CHECK_EQ(server_up("pw"), 0);
  s = subscriber("rs", "pw");
  CHECK(s != NULL);
  usleep(300000);
  CHECK_EQ(c4j__redis_up(r), 0);
  {
    redisContext *c = cli();
    redisReply *rep = c ? redisCommand(c, "AUTH pw") : NULL;
    if (rep) freeReplyObject(rep);
    rep = c ? redisCommand(c, "CONFIG SET requirepass %s", "") : NULL;
    CHECK(rep != NULL && rep->type == REDIS_REPLY_STATUS);
    if (rep) freeReplyObject(rep);
    if (c) redisFree(c);
  }
  CHECK(wait_up(r, 1, 8000));
  CHECK(has_log(e, "hub: linked to"));
  for (int i = 0; i < 3; i++) {
    char want[64];
    CHECK(next_record(s, rec, sizeof(rec)) > 0);
    CHECK_EQ(rec_offset(rec), 101 + i);
    snprintf(want, sizeof(want), "\t" NODE_A ".%d\n\"x\"", 1 + i); /* local */
    CHECK(strstr(rec, want) != NULL);
  }
  CHECK_EQ(next_record(s, rec, sizeof(rec)), 4);
  CHECK_STR(rec, "t\ty\n");
  CHECK_EQ(cmd_int("XLEN %s%s", "rs:h:ch", ""), 3);
  CHECK_EQ(cmd_int("HGET %s %s", "rs:seq", "ch"), 103);
  CHECK(wait_field(r, "k7", "f", 1, 2000));
  usleep(100000); /* the copies of the publishes confirm them */
  c4j__redis_stats(r, &outbox, &dropped);
  CHECK_EQ(outbox, 0);
  CHECK_EQ(e->nlocal, 3); /* each once */
  if (s) redisFree(s);
  host_free(e);
}

/* The outbox's bound, and stop while Redis is down: quick, no leak. */
TEST(redis_stop_while_down) {
  host_t *e = host(1);
  c4j__redis_t *r = link_to(e, "sd", NODE_A, "abcdefgh", NULL);
  uint64_t outbox = 0, dropped = 0, t0;
  int rc = 0, i;
  CHECK(wait_up(r, 1, 3000));
  server_kill();
  CHECK(wait_up(r, 0, 2000));
  for (i = 0; i < 10000 && rc == 0; i++) {
    char u[40];
    snprintf(u, sizeof(u), NODE_A ".%d", i + 1);
    rc = c4j__redis_publish(r, "ch", 2, "1", 1, 7, 0, u);
  }
  CHECK_EQ(rc, 0);
  CHECK_EQ(c4j__redis_action(r, "{}", 2), C4J_EFULL);
  CHECK_EQ(c4j__redis_publish(r, "ch", 2, "1", 1, 7, 0, NODE_A ".x"),
           C4J_EFULL);
  c4j__redis_stats(r, &outbox, &dropped);
  CHECK_EQ(outbox, 10000);
  CHECK_EQ(dropped, 2);
  CHECK_EQ(set_kv(r, "k", "f", "1"), 0);
  CHECK_EQ(c4j__redis_fetch(r, "ch", 2, 0), 0);
  usleep(200000);
  t0 = c4j__mono_ms();
  host_stop(e);
  CHECK(c4j__mono_ms() - t0 < 1000);
  host_free(e);
}

/* Waits up to ms for the host's fetch answers to reach n; 1 if so. */
static int wait_histories(host_t *h, int n, int ms) {
  for (int i = 0; i < ms / 10; i++) {
    int got;
    uv_mutex_lock(&h->lock);
    got = h->histories;
    uv_mutex_unlock(&h->lock);
    if (got >= n) return 1;
    usleep(10000);
  }
  return 0;
}

static void pause_writes(int ms) {
  char t[16];
  snprintf(t, sizeof(t), "%d", ms);
  cmd_do("CLIENT PAUSE %s %s%s", t, "WRITE", "");
}

/* A fetch asks for the oldest page after an offset (0: from the first)
 * and says whether there may be more; an entry's u tells whether its node
 * delivered it itself ("~": not). */
TEST(redis_fetch_pages) {
  host_t *e = host(0);
  redisContext *c = cli();
  c4j__redis_t *r;
  int n = 0;
  e->stream_len = 3000;
  r = link_to(e, "fp", NODE_A, "abcdefgh", NULL);
  CHECK(c != NULL && wait_up(r, 1, 3000));
  for (int i = 1; i <= 2500; i++) {
    char id[24], u[40];
    snprintf(id, sizeof(id), "%d-1", i);
    snprintf(u, sizeof(u), "%s" NODE_B ".%d", i % 2 ? "~" : "", i);
    redisAppendCommand(c, "XADD fp:h:news %s t 1 d x u %s", id, u);
  }
  for (int i = 1; i <= 2500; i++) {
    redisReply *rep = NULL;
    if (redisGetReply(c, (void **)&rep) == REDIS_OK && rep &&
        rep->type == REDIS_REPLY_STRING)
      n++;
    if (rep) freeReplyObject(rep);
  }
  CHECK_EQ(n, 2500);
  CHECK_EQ(c4j__redis_fetch(r, "news", 4, 0), 0);
  CHECK(wait_histories(e, 1, 3000));
  CHECK_EQ(e->hist_n, 1000);
  CHECK_EQ(e->hist_first, 1);
  CHECK_EQ(e->hist_last, 1000);
  CHECK_EQ(e->hist_status, C4J__FETCH_MORE);
  CHECK_EQ(c4j__redis_fetch(r, "news", 4, 10), 0);
  CHECK(wait_histories(e, 2, 3000));
  CHECK_EQ(e->hist_n, 1000);
  CHECK_EQ(e->hist_first, 11);
  CHECK_EQ(e->hist_last, 1010);
  CHECK_EQ(e->hist_status, C4J__FETCH_MORE);
  CHECK_EQ(e->hist_local, 0);
  CHECK_STR(e->hist_u, NODE_B ".11");
  CHECK_EQ(c4j__redis_fetch(r, "news", 4, 2001), 0);
  CHECK(wait_histories(e, 3, 3000));
  CHECK_EQ(e->hist_n, 499);
  CHECK_EQ(e->hist_first, 2002);
  CHECK_EQ(e->hist_status, C4J__FETCH_DONE);
  CHECK_EQ(e->hist_local, 1);
  CHECK_STR(e->hist_u, NODE_B ".2002");
  CHECK_EQ(c4j__redis_fetch(r, "news", 4, 2500), 0);
  CHECK(wait_histories(e, 4, 3000));
  CHECK_EQ(e->hist_n, 0);
  CHECK_EQ(e->hist_status, C4J__FETCH_DONE);
  redisFree(c);
  host_free(e);
}

/* link_cb(1) raises a channel's offset before the outbox goes out. */
TEST(redis_floor) {
  host_t *e = host(0);
  redisContext *s = subscriber("fl", NULL);
  c4j__redis_t *r;
  char rec[256];
  e->floor_ch = "news";
  e->floor_last = 500;
  r = link_to(e, "fl", NODE_A, "abcdefgh", NULL);
  CHECK(s != NULL && wait_up(r, 1, 3000));
  CHECK_EQ(c4j__redis_publish(r, "news", 4, "1", 1, 5, 7, NODE_A ".1"), 0);
  CHECK(next_record(s, rec, sizeof(rec)) > 0);
  CHECK_EQ(rec_offset(rec), 501);
  /* A floor below the offset changes nothing. */
  cmd_do("HSET %s %s %s", "fl:seq", "news", "900");
  host_stop(e);
  e->floor_last = 600;
  r = link_to(e, "fl", NODE_A, "abcdefgh", NULL);
  CHECK(wait_up(r, 1, 3000));
  CHECK_EQ(c4j__redis_publish(r, "news", 4, "1", 1, 5, 7, NODE_A ".2"), 0);
  CHECK(next_record(s, rec, sizeof(rec)) > 0);
  CHECK_EQ(rec_offset(rec), 901);
  redisFree(s);
  host_free(e);
}

/* A slow Redis fills the outbox too: what it has not confirmed counts,
 * linked or not, and a send over the bound is refused at once. */
TEST(redis_slow_fills_outbox) {
  host_t *e = host(0);
  c4j__redis_t *r;
  uint64_t outbox = 0, refused = 0;
  e->outbox_records = 5;
  r = link_to(e, "slow", NODE_A, "abcdefgh", NULL);
  CHECK(wait_up(r, 1, 3000));
  pause_writes(1500);
  for (int i = 0; i < 5; i++) {
    char u[40];
    snprintf(u, sizeof(u), NODE_A ".%d", i + 1);
    CHECK_EQ(c4j__redis_publish(r, "ch", 2, "1", 1, 7, 0, u), 0);
  }
  CHECK_EQ(c4j__redis_publish(r, "ch", 2, "1", 1, 7, 0, NODE_A ".6"),
           C4J_EFULL);
  CHECK_EQ(c4j__redis_up(r), 1); /* linked all along */
  c4j__redis_stats(r, &outbox, &refused);
  CHECK_EQ(outbox, 5);
  CHECK_EQ(refused, 1);
  for (int i = 0; i < 300 && outbox > 0; i++) {
    usleep(10000);
    c4j__redis_stats(r, &outbox, &refused);
  }
  CHECK_EQ(outbox, 0);
  CHECK_EQ(cmd_int("HGET %s %s", "slow:seq", "ch"), 5); /* not the 6th */
  CHECK_EQ(c4j__redis_publish(r, "ch", 2, "1", 1, 7, 0, NODE_A ".7"), 0);
  CHECK_EQ(e->nlocal, 0); /* linked: the bus brought them back */
  host_free(e);
}

/* Broadcasts written but not confirmed when the link drops (Redis paused,
 * then killed) go to this node's pages then, in order, each once, and to
 * Redis again once it is back, marked local. */
TEST(redis_in_flight_at_loss) {
  host_t *e = host(0);
  c4j__redis_t *r = link_to(e, "fly", NODE_A, "abcdefgh", NULL);
  redisContext *s;
  CHECK(wait_up(r, 1, 3000));
  pause_writes(3000);
  for (int i = 0; i < 3; i++) {
    char u[40];
    snprintf(u, sizeof(u), NODE_A ".%d", i + 1);
    CHECK_EQ(c4j__redis_publish(r, "ch", 2, "\"y\"", 3, 7, 0, u), 0);
  }
  usleep(100000);
  CHECK_EQ(e->nlocal, 0); /* written, waiting for Redis */
  server_kill();
  CHECK(wait_up(r, 0, 2000));
  usleep(50000);
  CHECK_EQ(e->nlocal, 3);
  CHECK_STR(e->locals[0], NODE_A ".1");
  CHECK_STR(e->locals[1], NODE_A ".2");
  CHECK_STR(e->locals[2], NODE_A ".3");
  CHECK_EQ(server_up(NULL), 0);
  CHECK(wait_up(r, 1, 8000));
  /* The link may be back before a subscriber here could listen: the
   * stream says what ran, in order, each marked local (no "~"). */
  for (int i = 0; i < 300 && cmd_int("XLEN %s%s", "fly:h:ch", "") < 3; i++)
    usleep(10000);
  CHECK_EQ(cmd_int("XLEN %s%s", "fly:h:ch", ""), 3);
  if ((s = cli()) != NULL) {
    redisReply *rep = redisCommand(s, "XRANGE fly:h:ch - +");
    CHECK(rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3);
    for (size_t i = 0; rep != NULL && i < rep->elements && i < 3; i++) {
      const redisReply *f = rep->element[i]->element[1];
      char want[40];
      snprintf(want, sizeof(want), NODE_A ".%zu", i + 1);
      CHECK(f->elements == 6 && strcmp(f->element[4]->str, "u") == 0);
      CHECK_STR(f->element[5]->str, want);
    }
    if (rep) freeReplyObject(rep);
    redisFree(s);
  }
  CHECK_EQ(e->nlocal, 3);
  host_free(e);
}

/* Redis kept busy by another client (a script that spins 50 ms, again
 * and again): between two of them it reads a little of this node's
 * backlog of map entries and answers it, so the heartbeat sent behind
 * the backlog is answered many seconds late.  A Redis that answers is
 * slow, not lost: the link stays up (it was lost after 5 s), and every
 * entry arrives. */
static uv_thread_t hog_thread;
static atomic_int hog_stop;

static void hog(void *arg) {
  static const char spin[] =
      "local s = redis.call('TIME') local n repeat n = redis.call('TIME') "
      "until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) >= 50000 return 1";
  redisContext *c = cli();
  (void)arg;
  while (c != NULL && !atomic_load(&hog_stop)) {
    redisReply *rep = redisCommand(c, "EVAL %s 0", spin);
    if (rep == NULL) break;
    freeReplyObject(rep);
  }
  if (c) redisFree(c);
}

TEST(redis_slow_answers_keep_link) {
  enum { ENTRIES = 200000 };
  host_t *e = host(0);
  c4j__redis_t *r = link_to(e, "busy", NODE_A, "abcdefgh", NULL);
  long long held = -1;
  int up = 1;
  CHECK(wait_up(r, 1, 3000));
  atomic_store(&hog_stop, 0);
  CHECK_EQ(uv_thread_create(&hog_thread, hog, NULL), 0);
  usleep(100000);
  for (int i = 0; i < ENTRIES; i++) {
    char f[16];
    snprintf(f, sizeof(f), "c%d", i);
    CHECK_EQ(set_kv(r, "m", f, "{\"node\":\"" NODE_A "\"}"), 0);
  }
  /* Past the heartbeat's 5 s and the tick that finds it late (the
   * backlog takes 25 s or more: Redis reads about 16 KB of it a spin). */
  for (int i = 0; i < 100; i++) {
    usleep(100000);
    up = up && c4j__redis_up(r);
  }
  held = cmd_int("HLEN %s%s", "busy:kv:m", "");
  atomic_store(&hog_stop, 1);
  uv_thread_join(&hog_thread);
  CHECK_EQ(up, 1);
  CHECK(!strstr(e->logs, "no answer to the heartbeat"));
  /* The backlog was still going in after 10 s: the heartbeat waited. */
  CHECK(held > 0 && held < ENTRIES);
  for (int i = 0; i < 1000 && cmd_int("HLEN %s%s", "busy:kv:m", "") < ENTRIES; i++)
    usleep(10000);
  CHECK_EQ(cmd_int("HLEN %s%s", "busy:kv:m", ""), ENTRIES);
  host_free(e);
}

TEST_MAIN(T(redis_server_starts), T(redis_start_errors), T(redis_epoch),
          T(redis_publish), T(redis_actions), T(redis_actions_full),
          T(redis_set_get), T(redis_fetch_pages), T(redis_floor),
          T(redis_slow_fills_outbox), T(redis_slow_answers_keep_link),
          T(redis_in_flight_at_loss), T(redis_restart),
          T(redis_stop_while_down))
