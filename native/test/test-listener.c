/* test-listener.c - listener.c, the native port's listening socket, over a
 * real engine and real sockets (engine-client.h): the 503 over max_conns,
 * which counts open sockets (a silent one too) and frees a place when one
 * goes; the unfinished requests (clients bound to 127.0.0.2, 127.0.0.3
 * play other addresses): the oldest makes room for a new socket, the cap
 * per address of a crowded engine, the deadline that shrinks as it
 * fills.  test-slowloris.c puts it all under load.
 */
#include <sys/resource.h>

#include "engine-client.h"

TEST(listener_max_conns) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  char text[512];
  base_config(&cfg);
  cfg.max_conns = 1;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach(e, a, "m1", "[]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_EQ(attach(e, b, "m2", "[]"), 503);
  client_close(b);
  client_close(a);
  free(a);
  free(b);
  finish(e);
}

/* max_conns counts sockets, not identities: one that has sent nothing yet
 * takes a place.  When the engine is full, a new socket takes the place of
 * the oldest unfinished request (503 "server busy" to that one); once
 * every place is held by an attached connection, the next gets 503 "too
 * many connections" (and is counted as accepted); once one goes, the
 * place is free again. */
TEST(listener_counts_sockets_and_frees_places) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *q = calloc(1, sizeof(*q)), *a = calloc(1, sizeof(*a));
  client_t *b = calloc(1, sizeof(*b));
  char text[512];
  int status = 0;
  c4j_stats_t st;
  base_config(&cfg);
  cfg.max_conns = 1;
  cfg.handshake_timeout_ms = 30000; /* a tenth of it when full */
  e = start(&cfg);
  if (e == NULL) return;
  connect_quiet(e, q, "127.0.0.2", NULL, 1);
  usleep(100000); /* old enough to give its place up */
  CHECK_EQ(attach(e, a, "l1", "[]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_EQ(http_answer(q), 503);
  CHECK(strstr((char *)q->buf, "server busy: request not complete") != NULL);
  CHECK_EQ(attach(e, b, "l2", "[]"), 503);
  CHECK_STR(b->body, "too many connections");
  client_close(b);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.accepted, 3);
  CHECK_EQ(st.conns, 1);
  CHECK_EQ(st.evicted, 1);
  CHECK_EQ(st.refused_full, 1);
  CHECK_EQ(st.pending, 0);
  client_close(a);
  for (uint64_t end = ms_now() + 3000; ms_now() < end;) {
    status = attach(e, b, "l2", "[]");
    if (status != 503) break;
    client_close(b);
    usleep(20000);
  }
  CHECK_EQ(status, 101);
  CHECK_EQ(read_text(b, text, sizeof(text)), 0);
  CHECK(strncmp(text, "{\"t\":\"open\"", 11) == 0);
  client_close(b);
  free(q);
  free(a);
  free(b);
  finish(e);
}

/* Full of unfinished requests: each new socket takes the place of the
 * oldest one, whatever its address, so that honest clients that send
 * their request at once get in; the others wait their turn. */
TEST(listener_evicts_the_oldest_unfinished) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *q[3], *h[3];
  char text[512];
  c4j_stats_t st;
  base_config(&cfg);
  cfg.max_conns = 3;
  cfg.max_pending_per_addr = 0;
  cfg.handshake_timeout_ms = 30000; /* a tenth of it when full */
  e = start(&cfg);
  if (e == NULL) return;
  for (int i = 0; i < 3; i++) {
    q[i] = calloc(1, sizeof(*q[i]));
    h[i] = calloc(1, sizeof(*h[i]));
    /* The first sent nothing, the others the start of a request. */
    connect_quiet(e, q[i], i == 1 ? "127.0.0.3" : "127.0.0.2",
                  i ? "GET /ws?tic" : NULL, (uint64_t)i + 1);
    usleep(80000);
  }
  for (int i = 0; i < 3; i++) {
    char cid[16];
    snprintf(cid, sizeof(cid), "h%d", i);
    CHECK_EQ(attach(e, h[i], cid, "[]"), 101);
    CHECK_EQ(read_text(h[i], text, sizeof(text)), 0);
    /* The oldest went, the newer ones wait. */
    CHECK_EQ(http_answer(q[i]), 503);
    c4j_engine_stats(e, &st);
    CHECK_EQ(st.pending, 2 - i);
    CHECK_EQ(st.evicted, i + 1);
  }
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.conns, 3);
  CHECK_EQ(st.refused_full, 0);
  for (int i = 0; i < 3; i++) {
    client_close(h[i]);
    free(h[i]);
    free(q[i]);
  }
  finish(e);
}

/* While the engine is at least half full, an address may hold only
 * max_pending_per_addr unfinished requests: more get 429 at once, other
 * addresses are not affected, and a request that arrives frees its
 * address's place.  Below half full there is no cap (a proxy or a NAT
 * sends many requests at once). */
TEST(listener_caps_unfinished_per_address) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *q[8], *h = calloc(1, sizeof(*h)), *x = calloc(1, sizeof(*x));
  char text[512];
  c4j_stats_t st;
  int n = 0;
  base_config(&cfg);
  cfg.max_conns = 10;
  cfg.max_pending_per_addr = 2;
  cfg.handshake_timeout_ms = 30000;
  e = start(&cfg);
  if (e == NULL) return;
  for (int i = 0; i < 8; i++) {
    q[i] = calloc(1, sizeof(*q[i]));
    q[i]->fd = -1;
  }
  /* Not crowded: five from one address (the fifth makes it half full). */
  for (; n < 5; n++) connect_quiet(e, q[n], "127.0.0.2", "GET /", n + 1);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.pending, 5);
  /* Crowded: that address gets 429, another gets its two. */
  memset(x, 0, offsetof(client_t, buf));
  x->len = 0;
  x->fd = tcp_connect_from(c4j_engine_port(e), "127.0.0.2");
  CHECK_EQ(http_answer(x), 429);
  CHECK(strstr((char *)x->buf, "too many unfinished requests from this "
                               "address") != NULL);
  connect_quiet(e, q[n++], "127.0.0.3", NULL, 6);
  connect_quiet(e, q[n++], "127.0.0.3", NULL, 7);
  memset(x, 0, offsetof(client_t, buf));
  x->len = 0;
  x->fd = tcp_connect_from(c4j_engine_port(e), "127.0.0.3");
  CHECK_EQ(http_answer(x), 429);
  /* The honest client of its own address gets in. */
  CHECK_EQ(attach(e, h, "hx", "[]"), 101);
  CHECK_EQ(read_text(h, text, sizeof(text)), 0);
  /* A request of 127.0.0.3 arrives (a 404): its place is free. */
  CHECK_EQ(send(q[6]->fd, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n", 28,
                MSG_NOSIGNAL), 28);
  CHECK_EQ(http_answer(q[6]), 404);
  connect_quiet(e, q[6], "127.0.0.3", NULL, 7);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.pending, 7);
  CHECK_EQ(st.refused_address, 2);
  CHECK_EQ(st.refused_full, 0);
  CHECK_EQ(st.evicted, 0);
  for (int i = 0; i < 8; i++) {
    client_close(q[i]);
    free(q[i]);
  }
  client_close(h);
  free(h);
  free(x);
  finish(e);
}

/* The deadline of an unfinished request shrinks as the engine fills: at
 * 9 of 10 places held, a fifth of handshake_timeout_ms (two fifths at 8);
 * the requests that miss it get 408 "request timeout (server busy)" and
 * are counted apart from those that miss the full deadline. */
TEST(listener_deadline_shrinks_under_pressure) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *h[7], *q[2];
  char text[512];
  c4j_stats_t st;
  base_config(&cfg);
  cfg.max_conns = 10;
  cfg.max_pending_per_addr = 0;
  cfg.handshake_timeout_ms = 10000;
  e = start(&cfg);
  if (e == NULL) return;
  for (int i = 0; i < 7; i++) {
    char cid[16];
    h[i] = calloc(1, sizeof(*h[i]));
    snprintf(cid, sizeof(cid), "d%d", i);
    CHECK_EQ(attach(e, h[i], cid, "[]"), 101);
    CHECK_EQ(read_text(h[i], text, sizeof(text)), 0);
  }
  /* One says nothing, one sends the start of its request. */
  q[0] = calloc(1, sizeof(*q[0]));
  q[1] = calloc(1, sizeof(*q[1]));
  connect_quiet(e, q[0], "127.0.0.2", NULL, 1);
  connect_quiet(e, q[1], "127.0.0.2", "GET /ws?ticket=", 2);
  /* 2 to 4 s of the full 10 (each read waits at most 5 s). */
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(http_answer(q[i]), 408);
    CHECK(strstr((char *)q[i]->buf, "request timeout (server busy)") != NULL);
    free(q[i]);
  }
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.timeouts_short, 2);
  CHECK_EQ(st.timeouts, 0);
  CHECK_EQ(st.pending, 0);
  CHECK_EQ(st.conns, 7);
  for (int i = 0; i < 7; i++) {
    client_close(h[i]);
    free(h[i]);
  }
  finish(e);
}

/* The places are max_conns, or what the file limit leaves (less a
 * reserve for the rest of the process), said in a log line at start. */
TEST(listener_capacity_from_the_file_limit) {
  struct rlimit was, low;
  c4j_config_t cfg;
  c4j_engine_t *e;
  int found = 0;
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &was), 0);
  low = was;
  low.rlim_cur = 1000;
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  base_config(&cfg);
  e = start(&cfg);
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &was), 0);
  if (e == NULL) return;
  reset_events();
  for (uint64_t end = ms_now() + 2000; ms_now() < end && !found;) {
    pump(e, 50);
    for (int k = 0; k < nevents; k++)
      if (events[k].type == C4J_EV_LOG &&
          strstr(events[k].text, "max_conns 100000 is more than the file "
                                 "limit allows (1000, ") != NULL &&
          strstr(events[k].text, "): at most ") != NULL)
        found = 1;
  }
  CHECK(found);
  finish(e);
}

TEST_MAIN(T(listener_max_conns), T(listener_counts_sockets_and_frees_places),
          T(listener_evicts_the_oldest_unfinished),
          T(listener_caps_unfinished_per_address),
          T(listener_deadline_shrinks_under_pressure),
          T(listener_capacity_from_the_file_limit))
