/* test-metrics.c - the core's figures (c4j_engine_stats) after known
 * traffic over real sockets, their Prometheus text (metrics.c) and who may
 * read GET /metrics (c4j_config_t.metrics).
 */
#include "engine-client.h"
#include "metrics.h"

static const char KEY[] = "metrics-key-0123456789abcdefXYZ";

/* GET /metrics with extra headers; returns the status, the answer in c. */
static int get_metrics(client_t *c, c4j_engine_t *e, const char *extra) {
  return http(c, c4j_engine_port(e), "GET", "/metrics", extra, NULL, NULL);
}

/* Waits up to 2 s until figure (read by f) reaches want. */
static uint64_t await(c4j_engine_t *e, uint64_t (*f)(const c4j_stats_t *),
                      uint64_t want) {
  c4j_stats_t st;
  for (uint64_t end = ms_now() + 2000;; usleep(5000)) {
    c4j_engine_stats(e, &st);
    if (f(&st) == want || ms_now() > end) return f(&st);
  }
}
static uint64_t fanouts(const c4j_stats_t *s) { return s->fanout_count; }
static uint64_t ws_now(const c4j_stats_t *s) { return s->by_transport[0]; }
static uint64_t msgs_in(const c4j_stats_t *s) { return s->messages_in; }
static uint64_t closed_1006(const c4j_stats_t *s) {
  return s->closed[c4j__metrics_close_slot(1006)];
}

/* The value of the series `line` (name{labels}) in text, -1 when absent. */
static long long series(const char *text, const char *line) {
  char pat[256];
  const char *p;
  snprintf(pat, sizeof(pat), "\n%s ", line);
  p = strstr(text, pat);
  return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

TEST(metrics_count_known_traffic) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c)), *pages = calloc(3, sizeof(*c));
  char ticket[2048], target[2200], text[1024];
  c4j_stats_t st;
  base_config(&cfg);
  cfg.allowed_origins = "http://good.example";
  cfg.api_key = KEY;
  cfg.metrics = "127.0.0.1";
  e = start(&cfg);
  if (e == NULL) return;

  /* Three pages, one of them as user alice. */
  CHECK_EQ(attach(e, &pages[0], "m0", "[\"news\"]"), 101);
  CHECK_EQ(attach(e, &pages[1], "m1", "[\"news\"]"), 101);
  CHECK_EQ(attach_user(e, &pages[2], "m2", "alice", "[\"news\"]"), 101);
  for (int i = 0; i < 3; i++) CHECK_EQ(read_text(&pages[i], text, sizeof(text)), 0);
  CHECK_EQ(await(e, ws_now, 3), 3);

  /* Two refused origins, one missing ticket. */
  mint(e, "bad", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(upgrade(c, c4j_engine_port(e), target,
                     "Origin: http://evil.example\r\n", 0), 403);
    client_close(c);
  }
  CHECK_EQ(upgrade(c, c4j_engine_port(e), "/ws", NULL, 0), 401);
  client_close(c);

  /* Four broadcasts, one send to m0, one to alice, two client texts. */
  for (int k = 0; k < 4; k++)
    CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":1}", 7, 0), 0);
  CHECK_EQ(c4j_send_to(e, "m0", 2, "news", 4, "1", 1, 0), 0);
  CHECK_EQ(c4j_send_user(e, "alice", 5, "news", 4, "2", 1, 0), 0);
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < (i == 1 ? 4 : 5); k++)
      CHECK_EQ(read_text(&pages[i], text, sizeof(text)), 0);
  send_text(&pages[1], "{\"t\":\"pub\",\"id\":1,\"ch\":\"news\"}");
  send_text(&pages[1], "{\"t\":\"ping\"}");
  CHECK_EQ(await(e, fanouts, 4), 4);
  CHECK_EQ(await(e, msgs_in, 2), 2);

  /* One page goes without a close frame (1006; no dying period here). */
  client_close(&pages[1]);
  CHECK_EQ(await(e, closed_1006, 1), 1);

  c4j_engine_stats(e, &st);
  CHECK_EQ(st.by_transport[0], 2);
  CHECK_EQ(st.by_transport[1], 0);
  CHECK_EQ(st.by_state[0], 2); /* attached */
  CHECK_EQ(st.by_state[2], 0); /* dying */
  CHECK_EQ(st.refused[c4j__metrics_status_slot(403)], 2);
  CHECK_EQ(st.refused[c4j__metrics_status_slot(401)], 1);
  CHECK_EQ(st.broadcasts, 4);
  CHECK_EQ(st.sends_to, 1);
  CHECK_EQ(st.sends_user, 1);
  CHECK_EQ(st.messages_in, 2);
  CHECK_EQ(st.bytes_in, 42);
  CHECK_EQ(st.fanout_count, 4);
  CHECK(st.fanout_sum_ns > 0);
  CHECK(st.accepted >= 6);
  CHECK_EQ(st.events_queue_cap, cfg.event_queue);

  /* The same figures through GET /metrics, from a listed address. */
  CHECK_EQ(get_metrics(c, e, NULL), 200);
  {
    const char *b = (const char *)c->buf;
    CHECK(strstr(b, "Content-Type: text/plain; version=0.0.4") != NULL);
    CHECK(strstr(b, "\n# TYPE comet4j_sends_total counter\n") != NULL);
    CHECK(strstr(b, "\n# HELP comet4j_connections ") != NULL);
    CHECK_EQ(series(b, "comet4j_connections{transport=\"ws\"}"), 2);
    CHECK_EQ(series(b, "comet4j_sends_total{to=\"all\"}"), 4);
    CHECK_EQ(series(b, "comet4j_sends_total{to=\"user\"}"), 1);
    CHECK_EQ(series(b, "comet4j_http_refused_total{status=\"403\"}"), 2);
    CHECK_EQ(series(b, "comet4j_closed_total{code=\"1006\"}"), 1);
    CHECK_EQ(series(b, "comet4j_messages_in_total"), 2);
    CHECK(strstr(b, "\n# TYPE comet4j_broadcast_fanout_seconds histogram\n"));
    CHECK_EQ(series(b, "comet4j_broadcast_fanout_seconds_bucket{le=\"+Inf\"}"),
             4);
    CHECK_EQ(series(b, "comet4j_broadcast_fanout_seconds_count"), 4);
    CHECK(strstr(b, "\ncomet4j_broadcast_fanout_seconds_sum ") != NULL);
  }
  client_close(c);
  client_close(&pages[0]);
  client_close(&pages[2]);
  finish(e);
  free(c);
  free(pages);
}

TEST(metrics_resumes_recovered_or_not) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2600], text[1024], epoch[16], since[160];
  c4j_stats_t st;
  base_config(&cfg);
  cfg.history_size = 3;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach(e, c, "r0", "[\"news\"]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(c4j_send_all(e, "news", 4, "1", 1, 0), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(frame_offset(text, epoch) == 1);
  client_close(c);
  /* From offset 1: 2 and 3 are kept (recovered); from 0 after 5 more,
   * 1..3 are gone (not recovered). */
  for (int k = 0; k < 2; k++)
    CHECK_EQ(c4j_send_all(e, "news", 4, "2", 1, 0), 0);
  for (int round = 0; round < 2; round++) {
    if (round == 1)
      for (int k = 0; k < 3; k++)
        CHECK_EQ(c4j_send_all(e, "news", 4, "3", 1, 0), 0);
    snprintf(since, sizeof(since),
             "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C%d%%5D%%7D", epoch,
             round == 0 ? 1 : 0);
    mint(e, round == 0 ? "r1" : "r2", NULL, "[\"news\"]", 60, ticket,
         sizeof(ticket));
    snprintf(target, sizeof(target), "/ws?ticket=%s&since=%s", ticket, since);
    CHECK_EQ(upgrade(c, c4j_engine_port(e), target, NULL, 0), 101);
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    client_close(c);
  }
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.resumes[1], 1);
  CHECK_EQ(st.resumes[0], 1);
  finish(e);
  free(c);
}

TEST(metrics_access) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  client_t *c = calloc(1, sizeof(*c));
  char auth[128];

  /* Off: 404, as any unknown path. */
  base_config(&cfg);
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(get_metrics(c, e, NULL), 404);
  client_close(c);
  finish(e);

  /* "true" needs the API key, as a bearer. */
  base_config(&cfg);
  cfg.metrics = "true";
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strstr(c4j_config_error(), "metrics") != NULL);
  cfg.metrics = "127.0.0.1, nonsense";
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strstr(c4j_config_error(), "metrics") != NULL);

  cfg.metrics = "true";
  cfg.api_key = KEY;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(get_metrics(c, e, NULL), 401);
  client_close(c);
  CHECK_EQ(get_metrics(c, e, "Authorization: Bearer wrong-key-0123456789\r\n"),
           401);
  client_close(c);
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", KEY);
  CHECK_EQ(get_metrics(c, e, auth), 200);
  CHECK(strstr((char *)c->buf, "comet4j_http_refused_total{status=\"401\"} 2")
        != NULL);
  client_close(c);
  CHECK_EQ(http(c, c4j_engine_port(e), "POST", "/metrics", auth, "", NULL),
           405);
  client_close(c);
  finish(e);

  /* A list that does not hold 127.0.0.1: 403, but the key still opens. */
  cfg.metrics = "10.1.2.3,::1";
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(get_metrics(c, e, NULL), 403);
  client_close(c);
  CHECK_EQ(get_metrics(c, e, auth), 200);
  client_close(c);
  finish(e);
  free(c);
}

TEST(metrics_text_of_zeros) {
  c4j_stats_t s;
  char *text = NULL;
  size_t len = 0;
  memset(&s, 0, sizeof(s));
  s.fanout_le[0] = 2;
  s.fanout_le[3] = 1;
  s.fanout_count = 3;
  s.fanout_sum_ns = 1500000;
  CHECK_EQ(c4j__metrics_render(&s, "# extra\nx_total 1\n", &text, &len), 0);
  if (text == NULL) return;
  CHECK_EQ(strlen(text), len);
  /* Cumulative buckets, in order, +Inf the count. */
  CHECK(strstr(text, "comet4j_broadcast_fanout_seconds_bucket{le=\"0.0001\"} 2\n"
                     "comet4j_broadcast_fanout_seconds_bucket{le=\"0.00025\"} 2\n")
        != NULL);
  CHECK(strstr(text, "comet4j_broadcast_fanout_seconds_bucket{le=\"0.001\"} 3\n")
        != NULL);
  CHECK(strstr(text, "comet4j_broadcast_fanout_seconds_bucket{le=\"+Inf\"} 3\n")
        != NULL);
  CHECK(strstr(text, "comet4j_broadcast_fanout_seconds_sum 0.001500000\n"));
  CHECK(strstr(text, "\n# extra\nx_total 1\n") != NULL);
  /* Every line is a comment or "name[{labels}] value". */
  for (char *p = text, *nl; *p; p = nl + 1) {
    nl = strchr(p, '\n');
    CHECK(nl != NULL);
    if (nl == NULL) break;
    if (*p != '#') CHECK(memchr(p, ' ', (size_t)(nl - p)) != NULL);
  }
  free(text);
}

TEST_MAIN(T(metrics_count_known_traffic), T(metrics_resumes_recovered_or_not),
          T(metrics_access), T(metrics_text_of_zeros))
