/* test-hub.c - several engines in one process linked through a real
 * redis-server (started here on a free port, no persistence, killed and
 * restarted on the same port): broadcasts, sends to an id or a user held
 * by another engine, drops, resume on another engine, a late engine
 * filling its history from Redis, binary messages through all of it, the
 * action queue, Redis going away; what records of other nodes mean
 * (written straight onto the bus here): a gap Redis cannot fill told to
 * the pages, copies skipped, an offset given twice; the outbox's bound; a
 * parked long-poll page during an outage; a drop record with a code
 * c4j_drop refuses.
 */
#include <hiredis/hiredis.h>

#include "engine-client.h"
#include "redis-server.h"

#include <hiredis/hiredis.h>

/* ---- redis-server ------------------------------------------------------------ */

static int redis_port;
static pid_t redis_pid;

static int port_open(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  close(fd);
  return ok;
}

static void redis_start(void) {
  redis_pid = test_redis_spawn(redis_port, NULL);
  for (int i = 0; i < 200 && !port_open(redis_port); i++) uv_sleep(25);
  CHECK(port_open(redis_port));
}

static void redis_kill(void) { test_redis_kill(&redis_pid); }

/* ---- Engines on the hub ---------------------------------------------------------- */

static char hub_url[64];

static void hub_config(c4j_config_t *cfg, int listen_actions) {
  base_config(cfg);
  cfg->history_size = 100;
  cfg->conn_expires_ms = 0;
  cfg->hub = hub_url;
  cfg->listen_actions = listen_actions;
}

static c4j_engine_t *hub_engine(int listen_actions) {
  c4j_config_t cfg;
  hub_config(&cfg, listen_actions);
  return start(&cfg);
}

/* Waits until e's link to Redis is up (or down: want 0). */
static int wait_link(c4j_engine_t *e, int want, int ms) {
  c4j_stats_t s;
  for (int t = 0; t < ms; t += 20) {
    c4j_engine_stats(e, &s);
    if ((int)s.hub_up == want) return 1;
    uv_sleep(20);
  }
  return 0;
}

/* The text frame after the open frame, or "" on timeout. */
static void next_text(client_t *c, char *out, size_t cap) {
  if (read_text(c, out, cap) != 0) out[0] = '\0';
}

/* Attaches c to e for channel news and reads the open frame. */
static void attach_news(c4j_engine_t *e, client_t *c, const char *cid,
                        const char *since) {
  char ticket[2048], target[2600], open[1024];
  mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  if (since)
    snprintf(target, sizeof(target), "/ws?ticket=%s&since=%s", ticket, since);
  else
    snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, c4j_engine_port(e), target, NULL, 0), 101);
  next_text(c, open, sizeof(open));
  CHECK(strstr(open, "\"t\":\"open\"") != NULL);
}

static void publish(c4j_engine_t *e, int k) {
  char data[32];
  int n = snprintf(data, sizeof(data), "%d", k);
  CHECK_EQ(c4j_send_all(e, "news", 4, data, (size_t)n, 0), 0);
}

/* The offset ("o") and data of a message frame; 0 when it has none. */
static uint64_t offset_of(const char *text) {
  const char *o = strstr(text, "\"o\":");
  return o ? strtoull(o + 4, NULL, 10) : 0;
}

static long data_of(const char *text) {
  const char *d = strstr(text, "\"data\":");
  return d ? strtol(d + 7, NULL, 10) : -1;
}

static char last_text[1024]; /* the frame expect_data found */

/* The message id ("u") of a frame, or "". */
static void u_of(const char *text, char *out, size_t cap) {
  const char *u = strstr(text, "\"u\":\"");
  const char *end = u ? strchr(u + 5, '"') : NULL;
  snprintf(out, cap, "%.*s", end ? (int)(end - u - 5) : 0, end ? u + 5 : "");
}

/* Reads messages until one carries data k; returns its offset (0 when
 * none, -1 when k never came). */
static long long expect_data(client_t *c, long k) {
  char *text = last_text;
  for (int i = 0; i < 50; i++) {
    next_text(c, text, sizeof(last_text));
    if (getenv("HUB_DEBUG")) fprintf(stderr, "    got %s\n", text);
    if (text[0] == '\0') break;
    if (strstr(text, "\"t\":\"msg\"") && data_of(text) == k)
      return (long long)offset_of(text);
  }
  fprintf(stderr, "  data %ld never came\n", k);
  return -1;
}

/* Publishes rec (an "m" record of another node, as hub.h has them) on
 * the bus, as that node's script would, but without the stream. */
static void raw_record(const char *ch, uint64_t offset, const char *u,
                       const char *data) {
  char rec[512];
  struct timeval tv = { 3, 0 };
  redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
  redisReply *rep;
  int n = snprintf(rec, sizeof(rec),
                   "m\tZZZZZZZZZZZZZZZZZZZZZZ\t%s\tEEEEEEEE\t%llu\t1\t%s\n%s",
                   ch, (unsigned long long)offset, u, data);
  CHECK(c != NULL && c->err == 0);
  if (c == NULL) return;
  rep = redisCommand(c, "PUBLISH c4j:bus %b", rec, (size_t)n);
  CHECK(rep != NULL && rep->type == REDIS_REPLY_INTEGER);
  if (rep) freeReplyObject(rep);
  redisFree(c);
}

/* One Redis command (hiredis format, three string arguments). */
static void raw_cmd(const char *fmt, const char *a, const char *b,
                    const char *c3) {
  struct timeval tv = { 3, 0 };
  redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
  redisReply *rep;
  CHECK(c != NULL && c->err == 0);
  if (c == NULL) return;
  rep = redisCommand(c, fmt, a, b, c3);
  CHECK(rep != NULL && rep->type != REDIS_REPLY_ERROR);
  if (rep) freeReplyObject(rep);
  redisFree(c);
}

/* Attaches c to e for channel ch and reads the open frame. */
static void attach_ch(c4j_engine_t *e, client_t *c, const char *cid,
                      const char *ch) {
  char ticket[2048], target[2200], chans[160], open[1024];
  snprintf(chans, sizeof(chans), "[\"%s\"]", ch);
  mint(e, cid, NULL, chans, 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, c4j_engine_port(e), target, NULL, 0), 101);
  next_text(c, open, sizeof(open));
  CHECK(strstr(open, "\"t\":\"open\"") != NULL);
}

/* Whether e's Prometheus text (c4j_metrics_text) holds needle. */
static int metrics_has(c4j_engine_t *e, const char *needle) {
  char *text = NULL;
  size_t len = 0;
  int found;
  if (c4j_metrics_text(e, NULL, &text, &len) != 0) return 0;
  found = strstr(text, needle) != NULL;
  free(text);
  return found;
}

/* Whether a log event holding needle comes within ms. */
static int logged(c4j_engine_t *e, const char *needle, int ms) {
  for (int t = 0; t < ms; t += 50) {
    reset_events();
    pump(e, 50);
    for (int i = 0; i < nevents; i++)
      if (events[i].type == C4J_EV_LOG && strstr(events[i].text, needle))
        return 1;
  }
  return 0;
}

/* ---- Tests ------------------------------------------------------------------------ */

TEST(hub_unreachable_fails_start) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  char url[64];
  snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", test_free_port());
  base_config(&cfg);
  cfg.hub = url;
  CHECK_EQ(c4j_engine_new(&cfg, &e), 0);
  CHECK_EQ(c4j_engine_start(e), C4J_EHUB);
  CHECK(strncmp(c4j_config_error(), "hub: ", 5) == 0);
  CHECK(strstr(c4j_config_error(), "cannot reach") != NULL);
  c4j_engine_free(e);
  base_config(&cfg);
  cfg.hub = "memcached://x";
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "hub", 3) == 0);
}

TEST(hub_broadcast_reaches_every_engine) {
  c4j_engine_t *a = hub_engine(1), *b = hub_engine(1);
  client_t ca, cb;
  long long oa, ob;
  attach_news(a, &ca, "hubA1", NULL);
  attach_news(b, &cb, "hubB1", NULL);
  publish(a, 1);
  oa = expect_data(&ca, 1);
  ob = expect_data(&cb, 1);
  CHECK(oa > 0);
  CHECK_EQ(oa, ob); /* one offset, assigned by Redis */
  publish(b, 2);
  CHECK_EQ(expect_data(&ca, 2), oa + 1);
  CHECK_EQ(expect_data(&cb, 2), oa + 1);
  client_close(&ca);
  client_close(&cb);
  finish(a);
  finish(b);
}

TEST(hub_direct_sends_cross_engines) {
  c4j_engine_t *a = hub_engine(1), *b = hub_engine(1);
  client_t cb;
  char text[1024], ticket[2048], target[2200];
  /* A user's connection on b. */
  mint(b, "hubB2", "alice", "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(&cb, c4j_engine_port(b), target, NULL, 0), 101);
  next_text(&cb, text, sizeof(text));
  CHECK_EQ(c4j_send_to(a, "hubB2", 5, "direct", 6, "7", 1, 0), 0);
  next_text(&cb, text, sizeof(text));
  CHECK(strstr(text, "\"ch\":\"direct\"") && data_of(text) == 7);
  CHECK_EQ(c4j_send_user(a, "alice", 5, "u", 1, "8", 1, 0), 0);
  next_text(&cb, text, sizeof(text));
  CHECK(strstr(text, "\"ch\":\"u\"") && data_of(text) == 8);
  CHECK_EQ(c4j_send_frame(a, "hubB2", 5, "{\"t\":\"res\",\"id\":9}", 18), 0);
  next_text(&cb, text, sizeof(text));
  CHECK_STR(text, "{\"t\":\"res\",\"id\":9}");
  /* A whole frame to the channel's pages, on every engine. */
  {
    const char *f = "{\"t\":\"join\",\"ch\":\"news\"}";
    CHECK_EQ(c4j_send_channel_frame(a, "news", 4, f, strlen(f)), 0);
  }
  next_text(&cb, text, sizeof(text));
  CHECK_STR(text, "{\"t\":\"join\",\"ch\":\"news\"}");
  /* (Un)subscribing a page held by b, from a. */
  CHECK_EQ(c4j_subscribe(a, "hubB2", 5, "extra", 5, 12), 0);
  next_text(&cb, text, sizeof(text));
  CHECK(strstr(text, "\"t\":\"ack\",\"id\":12") != NULL);
  CHECK(strstr(text, "\"extra\"") != NULL);
  CHECK_EQ(c4j_send_all(a, "extra", 5, "13", 2, 0), 0);
  next_text(&cb, text, sizeof(text));
  CHECK(strstr(text, "\"ch\":\"extra\"") && data_of(text) == 13);
  CHECK_EQ(c4j_unsubscribe(a, "hubB2", 5, "extra", 5), 0);
  uv_sleep(100);
  CHECK_EQ(c4j_send_all(a, "extra", 5, "14", 2, 0), 0);
  CHECK_EQ(c4j_send_to(a, "hubB2", 5, "direct", 6, "15", 2, 0), 0);
  next_text(&cb, text, sizeof(text));
  CHECK(data_of(text) == 15); /* 14 did not come: unsubscribed */
  CHECK_EQ(c4j_drop(a, "hubB2", 5, 4100, "bye"), 0);
  CHECK_EQ(read_close(&cb, text, sizeof(text)), 4100);
  client_close(&cb);
  finish(a);
  finish(b);
}

TEST(hub_resume_on_another_engine) {
  c4j_engine_t *a = hub_engine(1), *b = hub_engine(1);
  client_t c;
  char since[128], epoch[16], text[1024];
  long long first;
  attach_news(a, &c, "hubR1", NULL);
  publish(a, 10);
  first = expect_data(&c, 10);
  CHECK(first > 0);
  client_close(&c);
  /* Published on b while the page is away (one publisher: one order). */
  publish(b, 11);
  publish(b, 12);
  publish(b, 13);
  uv_sleep(200);
  /* The cluster's epoch, as a live frame on b shows it. */
  {
    client_t p;
    attach_news(b, &p, "hubR0", NULL);
    publish(b, 14);
    next_text(&p, text, sizeof(text));
    const char *e = strstr(text, "\"e\":\"");
    CHECK(e != NULL);
    snprintf(epoch, sizeof(epoch), "%.8s", e ? e + 5 : "");
    client_close(&p);
  }
  /* The page comes back on b with the position it had on a. */
  snprintf(since, sizeof(since), "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C%lld%%5D%%7D",
           epoch, first);
  attach_news(b, &c, "hubR1", since);
  for (int k = 11; k <= 14; k++) CHECK_EQ(expect_data(&c, k), first + k - 10);
  client_close(&c);
  finish(a);
  finish(b);
}

/* A page whose connection died on a (a keeps its identity, dying) and
 * came back on b with the same id: sends from a reach it on b. */
TEST(hub_send_to_a_page_that_moved) {
  c4j_config_t cfg;
  c4j_engine_t *a, *b = hub_engine(1);
  client_t c;
  char text[1024];
  hub_config(&cfg, 1);
  cfg.conn_expires_ms = 5000;
  a = start(&cfg);
  attach_news(a, &c, "hubM1", NULL);
  client_close(&c);
  uv_sleep(200); /* a notices: the id is dying there */
  attach_news(b, &c, "hubM1", NULL);
  CHECK_EQ(c4j_send_to(a, "hubM1", 5, "direct", 6, "5", 1, 0), 0);
  next_text(&c, text, sizeof(text));
  CHECK(strstr(text, "\"ch\":\"direct\"") && data_of(text) == 5);
  CHECK_EQ(c4j_send_frame(a, "hubM1", 5, "{\"t\":\"res\",\"id\":6}", 18), 0);
  next_text(&c, text, sizeof(text));
  CHECK_STR(text, "{\"t\":\"res\",\"id\":6}");
  client_close(&c);
  finish(a);
  finish(b);
}

TEST(hub_late_engine_fills_its_history) {
  c4j_engine_t *a = hub_engine(1), *late;
  client_t c, p;
  char since[128], epoch[16], text[1024];
  long long base;
  attach_news(a, &p, "hubL0", NULL);
  publish(a, 20);
  next_text(&p, text, sizeof(text));
  base = (long long)offset_of(text);
  CHECK(strstr(text, "\"e\":\"") != NULL);
  snprintf(epoch, sizeof(epoch), "%.8s",
           strstr(text, "\"e\":\"") ? strstr(text, "\"e\":\"") + 5 : "");
  publish(a, 21);
  publish(a, 22);
  CHECK_EQ(expect_data(&p, 22), base + 2);
  /* Started after them: its history comes from Redis at start. */
  late = hub_engine(1);
  snprintf(since, sizeof(since),
           "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C%lld%%5D%%7D", epoch, base);
  attach_news(late, &c, "hubL1", since);
  CHECK_EQ(expect_data(&c, 21), base + 1);
  CHECK_EQ(expect_data(&c, 22), base + 2);
  publish(a, 23);
  CHECK_EQ(expect_data(&c, 23), base + 3);
  client_close(&c);
  client_close(&p);
  finish(a);
  finish(late);
}

/* Reads frames until a binary one: its head (NUL ended) into head and
 * whether its bytes are p[0..n). */
static int expect_binary(client_t *c, char *head, size_t cap, const void *p,
                         size_t n) {
  static char got[1 << 16];
  size_t len = 0, hlen;
  int op;
  head[0] = '\0';
  do op = read_frame(c, got, sizeof(got), &len);
  while (op == WSC_OP_PING || op == WSC_OP_TEXT);
  CHECK_EQ(op, WSC_OP_BINARY);
  if (op != WSC_OP_BINARY || len < 2) return 0;
  hlen = (size_t)(uint8_t)got[0] << 8 | (uint8_t)got[1];
  if (hlen > len - 2 || hlen >= cap) return 0;
  memcpy(head, got + 2, hlen);
  head[hlen] = '\0';
  return len - 2 - hlen == n && memcmp(got + 2 + hlen, p, n) == 0;
}

/* Binary messages cross the hub with their bytes whole (a tab, a newline
 * and NULs in them: the bus records' separators), broadcasts with one
 * offset on every engine, sendTo and sendToUser to a page on another
 * engine; and the Redis history keeps them: an engine started later
 * replays them to a page resuming there, as binary on WebSocket and as
 * base64 on long-poll. */
TEST(hub_binary_messages) {
  static const uint8_t bin[] = { 0, '\t', '\n', 0xff, 0, 'm', '\t' };
  c4j_engine_t *a = hub_engine(1), *b = hub_engine(1), *late;
  client_t ca, cb, *lp = calloc(1, sizeof(*lp));
  char ha[256], hb[256], epoch[16], since[160], text[1024];
  char ticket[2048], target[2600];
  uint64_t base;
  attach_news(a, &ca, "hubX1", NULL);
  mint(b, "hubX2", "bob", "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(&cb, c4j_engine_port(b), target, NULL, 0), 101);
  next_text(&cb, text, sizeof(text));
  CHECK_EQ(c4j_send_all_binary(a, "news", 4, bin, sizeof(bin), 5), 0);
  CHECK(expect_binary(&ca, ha, sizeof(ha), bin, sizeof(bin)));
  CHECK(expect_binary(&cb, hb, sizeof(hb), bin, sizeof(bin)));
  CHECK_STR(ha, hb); /* one offset, one epoch, the same head */
  base = offset_of(ha);
  CHECK(base > 0);
  CHECK(strstr(ha, "\"time\":5}") != NULL);
  snprintf(epoch, sizeof(epoch), "%.8s",
           strstr(ha, "\"e\":\"") ? strstr(ha, "\"e\":\"") + 5 : "");
  CHECK_EQ(c4j_send_all(b, "news", 4, "2", 1, 6), 0);
  CHECK_EQ(expect_data(&ca, 2), (long long)base + 1);
  CHECK_EQ(c4j_send_all_binary(b, "news", 4, bin, 3, 7), 0);
  CHECK(expect_binary(&ca, ha, sizeof(ha), bin, 3));
  CHECK_EQ(offset_of(ha), base + 2);
  CHECK(expect_binary(&cb, hb, sizeof(hb), bin, 3));
  CHECK_STR(ha, hb);
  /* To a page held by the other engine. */
  CHECK_EQ(c4j_send_to_binary(a, "hubX2", 5, "direct", 6, bin, 7, 8), 0);
  CHECK(expect_binary(&cb, hb, sizeof(hb), bin, 7));
  CHECK_STR(hb, "{\"t\":\"msg\",\"ch\":\"direct\",\"time\":8}");
  CHECK_EQ(c4j_send_user_binary(a, "bob", 3, "u", 1, bin + 1, 2, 9), 0);
  CHECK(expect_binary(&cb, hb, sizeof(hb), bin + 1, 2));
  CHECK_STR(hb, "{\"t\":\"msg\",\"ch\":\"u\",\"time\":9}");

  /* Started after them: its history comes from Redis's streams. */
  late = hub_engine(1);
  snprintf(since, sizeof(since),
           "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C%" PRIu64 "%%5D%%7D",
           epoch, base - 1);
  attach_news(late, &ca, "hubX3", since);
  CHECK(expect_binary(&ca, ha, sizeof(ha), bin, sizeof(bin)));
  CHECK_EQ(offset_of(ha), base);
  CHECK_EQ(expect_data(&ca, 2), (long long)base + 1);
  CHECK(expect_binary(&ca, ha, sizeof(ha), bin, 3));
  CHECK_EQ(offset_of(ha), base + 2);
  client_close(&ca);
  mint(late, "hubX4", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s&since=%s", ticket, since);
  CHECK_EQ(http(lp, c4j_engine_port(late), "GET", target, NULL, NULL, NULL),
           200);
  snprintf(text, sizeof(text), "\"o\":%" PRIu64 ",\"time\":5,"
           "\"b64\":\"AAkK/wBtCQ==\"}", base);
  CHECK(strstr(body_of(lp), text) != NULL);
  snprintf(text, sizeof(text), "\"o\":%" PRIu64 ",\"time\":7,"
           "\"b64\":\"AAkK\"}", base + 2);
  CHECK(strstr(body_of(lp), text) != NULL);
  close(lp->fd);
  free(lp);
  client_close(&cb);
  finish(a);
  finish(b);
  finish(late);
}

/* Broadcasts from another engine land in this one's ring even with no
 * page here: a page subscribing later gets only what follows, and one
 * resuming gets what it missed. */
TEST(hub_ring_serves_later_pages) {
  c4j_engine_t *a = hub_engine(1), *b = hub_engine(1);
  client_t pa, pb, c;
  char since[160], epoch[16], text[1024];
  long long base;
  attach_news(a, &pa, "hubG0", NULL);
  CHECK_EQ(c4j_send_all(a, "gaps", 4, "40", 2, 0), 0);
  CHECK_EQ(c4j_send_all(a, "gaps", 4, "41", 2, 0), 0);
  CHECK_EQ(c4j_send_all(a, "gaps", 4, "42", 2, 0), 0);
  uv_sleep(200);
  /* A page subscribes to gaps on b now. */
  {
    char ticket[2048], target[2300];
    mint(b, "hubG1", NULL, "[\"gaps\"]", 60, ticket, sizeof(ticket));
    snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
    CHECK_EQ(upgrade(&pb, c4j_engine_port(b), target, NULL, 0), 101);
    next_text(&pb, text, sizeof(text)); /* open */
  }
  CHECK_EQ(c4j_send_all(a, "gaps", 4, "43", 2, 0), 0);
  next_text(&pb, text, sizeof(text));
  CHECK_EQ(data_of(text), 43); /* not 40..42 */
  base = (long long)offset_of(text) - 3;
  snprintf(epoch, sizeof(epoch), "%.8s",
           strstr(text, "\"e\":\"") ? strstr(text, "\"e\":\"") + 5 : "");
  /* ...but they are in b's ring for a page that resumes there. */
  {
    char ticket[2048], target[2400];
    snprintf(since, sizeof(since),
             "%%7B%%22gaps%%22%%3A%%5B%%22%s%%22%%2C%lld%%5D%%7D", epoch, base);
    mint(b, "hubG2", NULL, "[\"gaps\"]", 60, ticket, sizeof(ticket));
    snprintf(target, sizeof(target), "/ws?ticket=%s&since=%s", ticket, since);
    CHECK_EQ(upgrade(&c, c4j_engine_port(b), target, NULL, 0), 101);
    next_text(&c, text, sizeof(text)); /* open */
    for (int k = 41; k <= 43; k++) CHECK_EQ(expect_data(&c, k), base + k - 40);
  }
  client_close(&c);
  client_close(&pb);
  client_close(&pa);
  finish(a);
  finish(b);
}

/* Pumps e's events once; each action is done at once.  How many. */
static int take_actions(c4j_engine_t *e) {
  int n = 0;
  reset_events();
  pump(e, 20);
  for (int i = 0; i < nevents; i++)
    if (events[i].type == C4J_EV_ACTION) {
      CHECK_EQ(c4j_hub_action_done(e, events[i].text, strlen(events[i].text)),
               0);
      n++;
    }
  return n;
}

TEST(hub_action_runs_once_on_a_listener) {
  c4j_engine_t *a = hub_engine(0), *b = hub_engine(1), *c = hub_engine(1);
  int got_b = 0, got_c = 0, got_a = 0;
  char json[64];
  for (int i = 0; i < 20; i++) {
    int n = snprintf(json, sizeof(json), "{\"cId\":\"x\",\"id\":%d}", i);
    CHECK_EQ(c4j_hub_action(a, json, (size_t)n), 0);
  }
  for (int t = 0; t < 100 && got_b + got_c < 20; t++) {
    got_b += take_actions(b);
    got_c += take_actions(c);
  }
  reset_events();
  pump(a, 200);
  for (int i = 0; i < nevents; i++) got_a += events[i].type == C4J_EV_ACTION;
  CHECK_EQ(got_b + got_c, 20);
  CHECK_EQ(got_a, 0);
  finish(a);
  finish(b);
  finish(c);
}

/* Waits up to ms for an action on e; returns it (its text) or "". */
static const char *next_action(c4j_engine_t *e, int ms) {
  static char text[256];
  for (int t = 0; t < ms; t += 50) {
    reset_events();
    pump(e, 50);
    for (int i = 0; i < nevents; i++)
      if (events[i].type == C4J_EV_ACTION) {
        snprintf(text, sizeof(text), "%s", events[i].text);
        return text;
      }
  }
  return "";
}

/* A request taken by a node that stops before it is done goes to another
 * node; one that is done does not. */
TEST(hub_action_of_a_lost_node_runs_elsewhere) {
  c4j_engine_t *a = hub_engine(0), *b = hub_engine(1), *c, *d;
  const char *req = "{\"cId\":\"y\",\"id\":77}";
  CHECK_EQ(c4j_hub_action(a, req, strlen(req)), 0);
  CHECK_STR(next_action(b, 3000), req);
  c = hub_engine(1);
  finish(b); /* gone without c4j_hub_action_done */
  CHECK_STR(next_action(c, 8000), req);
  CHECK_EQ(c4j_hub_action_done(c, req, strlen(req)), 0);
  uv_sleep(200);
  d = hub_engine(1);
  finish(c); /* done: nothing goes back */
  CHECK_STR(next_action(d, 5000), "");
  finish(a);
  finish(d);
}

TEST(hub_survives_redis_restart) {
  c4j_engine_t *a = hub_engine(1), *b = hub_engine(1);
  client_t ca, cb;
  char u31[64], u[64];
  long long o1, o2;
  attach_news(a, &ca, "hubF1", NULL);
  attach_news(b, &cb, "hubF2", NULL);
  publish(a, 30);
  o1 = expect_data(&ca, 30);
  CHECK_EQ(expect_data(&cb, 30), o1);
  redis_kill();
  CHECK(wait_link(a, 0, 3000));
  CHECK(wait_link(b, 0, 3000));
  {
    char out[256];
    uint64_t t0 = uv_hrtime();
    CHECK_EQ(c4j_hub_get(a, "online", 6, out, sizeof(out), 2000), C4J_EHUB);
    CHECK(uv_hrtime() - t0 < 100000000u); /* at once, not after 2 s */
  }
  publish(a, 31); /* a's own page gets it now, without an offset */
  CHECK_EQ(expect_data(&ca, 31), 0);
  u_of(last_text, u31, sizeof(u31));
  CHECK(strlen(u31) > 22); /* "<node id>.<n>" */
  redis_start(); /* empty: no epoch, no offsets */
  CHECK(wait_link(a, 1, 8000));
  CHECK(wait_link(b, 1, 8000));
  o2 = expect_data(&cb, 31); /* from the outbox, with an offset */
  CHECK(o2 > o1);
  u_of(last_text, u, sizeof(u));
  CHECK_STR(u, u31); /* the same id: a page can tell it had it */
  publish(b, 32);
  /* a's page had 31 already: the next message it sees is 32. */
  {
    char text[1024];
    next_text(&ca, text, sizeof(text));
    CHECK_EQ(data_of(text), 32);
    CHECK_EQ(offset_of(text), o2 + 1);
  }
  CHECK_EQ(expect_data(&cb, 32), o2 + 1);
  /* A page of a that resumes from before 31 gets it again, with its id. */
  {
    client_t cr;
    char since[128], epoch[16];
    const char *ep = strstr(last_text, "\"e\":\"");
    snprintf(epoch, sizeof(epoch), "%.8s", ep ? ep + 5 : "");
    snprintf(since, sizeof(since),
             "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C%lld%%5D%%7D", epoch, o1);
    attach_news(a, &cr, "hubF3", since);
    CHECK_EQ(expect_data(&cr, 31), o2);
    u_of(last_text, u, sizeof(u));
    CHECK_STR(u, u31);
    client_close(&cr);
  }
  client_close(&ca);
  client_close(&cb);
  finish(a);
  finish(b);
}

/* A record that no node writes (any client of Redis can publish on the
 * bus): a drop whose code c4j_drop refuses is ignored, not sent to the
 * page as a close code no server may send (found by fuzz-bus: a "d"
 * record with 1005 reached the page as close 1005). */
TEST(hub_drop_record_with_a_bad_code_is_ignored) {
  c4j_engine_t *a = hub_engine(0);
  client_t c;
  redisContext *r = redisConnect("127.0.0.1", redis_port);
  static const char *const bad[] = { "0", "999", "1005", "1006", "2999",
                                     "5000", "70000" };
  char rec[128], reason[64];
  if (a == NULL || r == NULL || r->err) {
    CHECK(0);
    return;
  }
  attach_news(a, &c, "hubD1", NULL);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int n = snprintf(rec, sizeof(rec), "d\tintruder\thubD1\t%s\nbad", bad[i]);
    redisReply *rep = redisCommand(r, "PUBLISH c4j:bus %b", rec, (size_t)n);
    CHECK(rep != NULL && rep->type == REDIS_REPLY_INTEGER);
    if (rep) freeReplyObject(rep);
  }
  /* Then one that c4j_drop would send: the page hears that one only. */
  redisReply *rep = redisCommand(r, "PUBLISH c4j:bus %s",
                                 "d\tintruder\thubD1\t4003\nby the bus");
  if (rep) freeReplyObject(rep);
  CHECK_EQ(read_close(&c, reason, sizeof(reason)), 4003);
  CHECK_STR(reason, "by the bus");
  client_close(&c);
  redisFree(r);
  finish(a);
}

/* A gap that Redis cannot fill (the stream does not hold the offsets) is
 * jumped, and the channel's pages here are told how many they lost, with
 * a counter and a log line; the broadcasts that follow come as before. */
TEST(hub_tells_pages_what_was_lost) {
  c4j_engine_t *a = hub_engine(1);
  client_t c;
  char text[1024];
  c4j_stats_t st;
  long long o1;
  attach_ch(a, &c, "hubT1", "lossy");
  CHECK_EQ(c4j_send_all(a, "lossy", 5, "1", 1, 0), 0);
  next_text(&c, text, sizeof(text));
  o1 = (long long)offset_of(text);
  CHECK(o1 > 0);
  raw_record("lossy", (uint64_t)o1 + 50, "~ZZZZZZZZZZZZZZZZZZZZZZ.1", "2");
  next_text(&c, text, sizeof(text));
  CHECK_STR(text, "{\"t\":\"recovered\",\"ch\":\"lossy\",\"recovered\":false,"
                  "\"lost\":49}");
  next_text(&c, text, sizeof(text));
  CHECK_EQ(data_of(text), 2);
  CHECK_EQ(offset_of(text), (uint64_t)o1 + 50);
  CHECK(strstr(text, "\"u\"") == NULL); /* not local to its node */
  c4j_engine_stats(a, &st);
  CHECK_EQ(st.hub_lost, 49);
  CHECK_EQ(st.hub_gaps, 1);
  CHECK(metrics_has(a, "\ncomet4j_hub_lost_total 49\n"));
  CHECK(metrics_has(a, "\ncomet4j_hub_gaps_total 1\n"));
  CHECK(logged(a, "broadcasts lost here", 1000));
  /* Redis's offset is behind what this node has now: it still goes on
   * from this node's (known_last). */
  CHECK_EQ(c4j_send_all(a, "lossy", 5, "3", 1, 0), 0);
  next_text(&c, text, sizeof(text));
  CHECK_EQ(data_of(text), 3);
  CHECK_EQ(offset_of(text), (uint64_t)o1 + 51);
  client_close(&c);
  finish(a);
}

/* A broadcast's copy (the same message id again, at a new offset: its
 * node sent it again after losing its link) only goes into the ring; an
 * offset this node has already, with a message it never saw (a Redis
 * that restarted empty gave the offset twice), is delivered without one. */
TEST(hub_skips_copies) {
  c4j_engine_t *a = hub_engine(1);
  client_t c;
  char text[1024];
  c4j_stats_t st;
  uint64_t o1;
  attach_ch(a, &c, "hubD1", "dups");
  CHECK_EQ(c4j_send_all(a, "dups", 4, "1", 1, 0), 0);
  next_text(&c, text, sizeof(text));
  o1 = offset_of(text);
  raw_record("dups", o1 + 1, "~ZZZZZZZZZZZZZZZZZZZZZZ.7", "7");
  raw_record("dups", o1 + 2, "~ZZZZZZZZZZZZZZZZZZZZZZ.7", "7"); /* a copy */
  raw_record("dups", o1 + 3, "~ZZZZZZZZZZZZZZZZZZZZZZ.8", "8");
  raw_record("dups", o1 + 2, "~ZZZZZZZZZZZZZZZZZZZZZZ.7", "7"); /* had it */
  raw_record("dups", o1 + 1, "YYYYYYYYYYYYYYYYYYYYYY.1", "9");  /* new */
  next_text(&c, text, sizeof(text));
  CHECK_EQ(data_of(text), 7);
  CHECK_EQ(offset_of(text), o1 + 1);
  next_text(&c, text, sizeof(text));
  CHECK_EQ(data_of(text), 8);
  CHECK_EQ(offset_of(text), o1 + 3);
  next_text(&c, text, sizeof(text));
  CHECK_EQ(data_of(text), 9);
  CHECK_EQ(offset_of(text), 0); /* no offset: this node has o1 + 1 */
  CHECK(strstr(text, "\"u\":\"YYYYYYYYYYYYYYYYYYYYYY.1\"") != NULL); /* local */
  c4j_engine_stats(a, &st);
  CHECK_EQ(st.hub_duplicates, 1);
  CHECK_EQ(st.hub_lost, 0);
  client_close(&c);
  finish(a);
}

/* Redis down: what the outbox keeps reaches this node's pages at once and
 * the others later; a broadcast over its bound (hub_outbox_records) is
 * refused, C4J_EFULL, and reaches nobody, not even here. */
TEST(hub_refuses_over_the_outbox_bound) {
  c4j_config_t cfg;
  c4j_engine_t *a, *b;
  client_t ca, cb;
  char text[1024];
  c4j_stats_t st;
  hub_config(&cfg, 1);
  cfg.hub_outbox_records = 3;
  a = start(&cfg);
  b = hub_engine(1);
  attach_ch(a, &ca, "hubO1", "full");
  attach_ch(b, &cb, "hubO2", "full");
  redis_kill();
  CHECK(wait_link(a, 0, 3000));
  for (int k = 1; k <= 3; k++) {
    char d[8];
    int n = snprintf(d, sizeof(d), "%d", k);
    CHECK_EQ(c4j_send_all(a, "full", 4, d, (size_t)n, 0), 0);
  }
  CHECK_EQ(c4j_send_all(a, "full", 4, "4", 1, 0), C4J_EFULL);
  for (int k = 1; k <= 3; k++) {
    next_text(&ca, text, sizeof(text));
    CHECK_EQ(data_of(text), k);
    CHECK(strstr(text, "\"u\":\"") != NULL); /* local: no offset yet */
  }
  c4j_engine_stats(a, &st);
  CHECK_EQ(st.hub_refused, 1);
  CHECK_EQ(st.hub_outbox, 3);
  CHECK(metrics_has(a, "\ncomet4j_hub_refused_total 1\n"));
  CHECK(metrics_has(a, "\ncomet4j_hub_outbox 3\n"));
  redis_start();
  CHECK(wait_link(a, 1, 8000));
  CHECK(wait_link(b, 1, 8000));
  for (int k = 1; k <= 3; k++) CHECK(expect_data(&cb, k) > 0);
  CHECK_EQ(c4j_send_all(a, "full", 4, "5", 1, 0), 0);
  next_text(&ca, text, sizeof(text));
  CHECK_EQ(data_of(text), 5); /* not 4, and 1-3 only once */
  next_text(&cb, text, sizeof(text));
  CHECK_EQ(data_of(text), 5);
  client_close(&ca);
  client_close(&cb);
  finish(a);
  finish(b);
}

/* A long-poll page between two polls (parked) gets this node's own
 * broadcasts of an outage on its next poll, though they have no offset
 * for its positions to bring back. */
TEST(hub_parked_poll_gets_local_broadcasts) {
  c4j_config_t cfg;
  c4j_engine_t *a;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200], u41[64], u[64];
  const char *body;
  hub_config(&cfg, 1);
  cfg.idle_timeout_ms = 600; /* a poll held 300 ms */
  cfg.heartbeat_ms = 500;
  cfg.conn_expires_ms = 5000;
  a = start(&cfg);
  mint(a, "hubP1", NULL, "[\"lp\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  CHECK_EQ(http(c, c4j_engine_port(a), "GET", target, NULL, NULL, NULL), 200);
  CHECK(strstr(body_of(c), "\"t\":\"open\"") != NULL);
  client_close(c); /* parked until the next poll */
  redis_kill();
  CHECK(wait_link(a, 0, 3000));
  CHECK_EQ(c4j_send_all(a, "lp", 2, "41", 2, 0), 0);
  CHECK_EQ(c4j_send_all(a, "lp", 2, "42", 2, 0), 0);
  uv_sleep(100);
  CHECK_EQ(http(c, c4j_engine_port(a), "GET", target, NULL, NULL, NULL), 200);
  body = body_of(c);
  CHECK(strstr(body, "\"data\":41") != NULL);
  CHECK(strstr(body, "\"data\":42") != NULL);
  CHECK(strstr(body, "\"data\":41") < strstr(body, "\"data\":42"));
  CHECK(offset_of(body) == 0); /* local: no offset yet */
  u_of(body, u41, sizeof(u41));
  CHECK(strlen(u41) > 22);
  client_close(c);
  redis_start();
  CHECK(wait_link(a, 1, 8000));
  /* Its positions are from before: the copies may come again, with the
   * same ids (the page tells them apart), then what follows. */
  CHECK_EQ(c4j_send_all(a, "lp", 2, "43", 2, 0), 0);
  uv_sleep(200);
  CHECK_EQ(http(c, c4j_engine_port(a), "GET", target, NULL, NULL, NULL), 200);
  body = body_of(c);
  CHECK(strstr(body, "\"data\":43") != NULL);
  if (strstr(body, "\"data\":41") != NULL) {
    u_of(body, u, sizeof(u));
    CHECK_STR(u, u41);
    CHECK(offset_of(body) > 0);
  }
  client_close(c);
  free(c);
  finish(a);
}

/* A channel without a broadcast here yet: its pages stand before the
 * first, so what Redis has before the first record seen here is theirs
 * (another node published it while this one was cut off); a channel whose
 * history expired in Redis starts where its offset is (the preload). */
TEST(hub_new_channel_gets_what_came_before) {
  c4j_engine_t *a = hub_engine(1), *late;
  client_t c, d;
  char text[1024];
  c4j_stats_t st;
  attach_ch(a, &c, "hubN1", "fresh");
  for (int k = 1; k <= 3; k++) {
    char id[16], u[40];
    snprintf(id, sizeof(id), "%d-1", k);
    snprintf(u, sizeof(u), "~ZZZZZZZZZZZZZZZZZZZZZZ.%d", k);
    raw_cmd("XADD c4j:h:fresh %s t 1 d 1%s u %s", id, "", u);
  }
  raw_cmd("HSET c4j:seq %s %s%s", "fresh", "3", "");
  raw_record("fresh", 4, "~ZZZZZZZZZZZZZZZZZZZZZZ.4", "14");
  for (int k = 1; k <= 4; k++) {
    next_text(&c, text, sizeof(text));
    CHECK(strstr(text, "\"t\":\"msg\"") != NULL);
    CHECK_EQ(offset_of(text), (uint64_t)k);
  }
  c4j_engine_stats(a, &st);
  CHECK_EQ(st.hub_lost, 0);
  /* Its stream expired, its offset stayed: a late engine starts there. */
  raw_cmd("HSET c4j:seq %s %s%s", "stale", "5000", "");
  late = hub_engine(1);
  attach_ch(late, &d, "hubN2", "stale");
  raw_record("stale", 5001, "~ZZZZZZZZZZZZZZZZZZZZZZ.9", "9");
  next_text(&d, text, sizeof(text));
  CHECK_EQ(data_of(text), 9); /* no notice before it */
  CHECK_EQ(offset_of(text), 5001);
  c4j_engine_stats(late, &st);
  CHECK_EQ(st.hub_lost, 0);
  client_close(&c);
  client_close(&d);
  finish(a);
  finish(late);
}

static void setup(void) {
  signal(SIGPIPE, SIG_IGN);
  redis_port = test_free_port();
  snprintf(hub_url, sizeof(hub_url), "redis://127.0.0.1:%d/0", redis_port);
  redis_start();
}

/* How many times needle occurs in s. */
static int occurrences(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
    n++;
  return n;
}

/* c4j_hub_nodes: every engine on the hub, alive, one of them self; a node
 * that stopped is gone; a local engine has none to tell. */
TEST(hub_nodes_lists_the_cluster) {
  c4j_engine_t *a = hub_engine(1), *b = hub_engine(1), *local = start_default();
  char out[2048], tiny[8];
  int n = 0;
  CHECK(wait_link(a, 1, 5000) && wait_link(b, 1, 5000));
  for (int t = 0; t < 5000; t += 20) { /* both heartbeats written */
    n = c4j_hub_nodes(a, out, sizeof(out), 2000);
    if (n > 0 && occurrences(out, "\"id\":") == 2) break;
    uv_sleep(20);
  }
  CHECK(n > 0);
  CHECK_EQ((size_t)n, strlen(out));
  CHECK(out[0] == '[' && out[n - 1] == ']');
  CHECK_EQ(occurrences(out, "\"id\":"), 2);
  CHECK_EQ(occurrences(out, "\"alive\":true"), 2);
  CHECK_EQ(occurrences(out, "\"self\":true"), 1);
  CHECK_EQ(c4j_hub_nodes(a, tiny, sizeof(tiny), 2000), C4J_ETOOBIG);
  CHECK_EQ(c4j_hub_nodes(local, out, sizeof(out), 2000), C4J_ESTATE);
  finish(b);
  n = c4j_hub_nodes(a, out, sizeof(out), 2000);
  CHECK(n > 0);
  CHECK_EQ(occurrences(out, "\"id\":"), 1);
  CHECK_EQ(occurrences(out, "\"self\":true"), 1);
  finish(a);
  finish(local);
}

TEST(hub_setup) { setup(); }
TEST(hub_teardown) { redis_kill(); }

TEST_MAIN(T(hub_setup), T(hub_unreachable_fails_start),
          T(hub_broadcast_reaches_every_engine),
          T(hub_direct_sends_cross_engines), T(hub_resume_on_another_engine),
          T(hub_send_to_a_page_that_moved),
          T(hub_late_engine_fills_its_history), T(hub_ring_serves_later_pages),
          T(hub_binary_messages),
          T(hub_action_runs_once_on_a_listener),
          T(hub_action_of_a_lost_node_runs_elsewhere),
          T(hub_tells_pages_what_was_lost), T(hub_skips_copies),
          T(hub_new_channel_gets_what_came_before),
          T(hub_refuses_over_the_outbox_bound),
          T(hub_parked_poll_gets_local_broadcasts),
          T(hub_nodes_lists_the_cluster),
          T(hub_survives_redis_restart),
          T(hub_drop_record_with_a_bad_code_is_ignored), T(hub_teardown))
