/* test-listener.c - listener.c, the native port's listening socket, over a
 * real engine and real sockets (engine-client.h): the 503 over max_conns.
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

TEST_MAIN(T(listener_max_conns))
