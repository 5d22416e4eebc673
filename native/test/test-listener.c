/* test-listener.c - listener.c, the native port's listening socket, over a
 * real engine and real sockets (engine-client.h): the 503 over max_conns,
 * which counts open sockets (a silent one too) and frees a place when one
 * goes.
 */
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
 * takes the place, so the next gets 503 "too many connections" (and is
 * counted as accepted); once it goes, the place is free again. */
TEST(listener_counts_sockets_and_frees_places) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *b = calloc(1, sizeof(*b));
  char text[512];
  int quiet, status = 0;
  c4j_stats_t st;
  base_config(&cfg);
  cfg.max_conns = 1;
  e = start(&cfg);
  if (e == NULL) return;
  quiet = tcp_connect(c4j_engine_port(e), 0);
  CHECK(quiet >= 0);
  usleep(50000); /* accepted */
  CHECK_EQ(attach(e, b, "l2", "[]"), 503);
  CHECK_STR(b->body, "too many connections");
  client_close(b);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.accepted, 2);
  CHECK_EQ(st.conns, 0);
  close(quiet);
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
  free(b);
  finish(e);
}

TEST_MAIN(T(listener_max_conns), T(listener_counts_sockets_and_frees_places))
