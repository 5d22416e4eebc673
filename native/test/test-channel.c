/* test-channel.c - the per-worker channel index and cid map: subscribe,
 * look up, unsubscribe (channels vanish with their last subscriber), and
 * growth past many entries. */
#include <stdio.h>

#include "c4j.h"
#include "channel.h"
#include "test.h"

static int count_subs(c4j__chan_t *c) {
  int n = 0;
  for (c4j__sub_t *s = c ? c->subs : NULL; s; s = s->next) n++;
  return n;
}

TEST(channel_subscribe_and_find) {
  c4j__chan_index_t idx;
  c4j__sub_t *a = NULL, *b = NULL;
  int conn_a, conn_b;
  c4j__chan_index_init(&idx);
  CHECK(c4j__chan_find(&idx, "clock", 5) == NULL);
  CHECK_EQ(c4j__chan_subscribe(&idx, "clock", 5, &conn_a, &a), 0);
  CHECK_EQ(c4j__chan_subscribe(&idx, "chat", 4, &conn_a, &a), 0);
  CHECK_EQ(c4j__chan_subscribe(&idx, "clock", 5, &conn_b, &b), 0);
  /* Twice is a no-op. */
  CHECK_EQ(c4j__chan_subscribe(&idx, "clock", 5, &conn_b, &b), 0);
  CHECK_EQ(idx.count, 2);
  CHECK_EQ(count_subs(c4j__chan_find(&idx, "clock", 5)), 2);
  CHECK_EQ(c4j__chan_find(&idx, "clock", 5)->count, 2);
  CHECK_EQ(count_subs(c4j__chan_find(&idx, "chat", 4)), 1);
  CHECK(c4j__chan_find(&idx, "chat", 4)->subs->conn == &conn_a);
  CHECK(c4j__chan_find(&idx, "cloc", 4) == NULL);

  c4j__chan_unsubscribe_all(&idx, &a);
  CHECK(a == NULL);
  CHECK(c4j__chan_find(&idx, "chat", 4) == NULL);
  CHECK_EQ(count_subs(c4j__chan_find(&idx, "clock", 5)), 1);
  CHECK(c4j__chan_find(&idx, "clock", 5)->subs->conn == &conn_b);
  c4j__chan_unsubscribe_all(&idx, &b);
  CHECK_EQ(idx.count, 0);
  CHECK(c4j__chan_find(&idx, "clock", 5) == NULL);
  c4j__chan_index_free(&idx);
}

TEST(channel_many) {
  enum { N = 1000 };
  static c4j__sub_t *subs[N];
  static int conns[N];
  c4j__chan_index_t idx;
  char name[32];
  c4j__chan_index_init(&idx);
  for (int i = 0; i < N; i++) {
    subs[i] = NULL;
    /* Each connection joins "all" and its own channel. */
    CHECK_EQ(c4j__chan_subscribe(&idx, "all", 3, &conns[i], &subs[i]), 0);
    snprintf(name, sizeof(name), "ch-%d", i);
    CHECK_EQ(c4j__chan_subscribe(&idx, name, strlen(name), &conns[i],
                                 &subs[i]), 0);
  }
  CHECK_EQ(idx.count, N + 1);
  CHECK_EQ(c4j__chan_find(&idx, "all", 3)->count, N);
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "ch-%d", i);
    c4j__chan_t *c = c4j__chan_find(&idx, name, strlen(name));
    CHECK(c != NULL && c->count == 1 && c->subs->conn == &conns[i]);
  }
  /* Remove the even ones. */
  for (int i = 0; i < N; i += 2) c4j__chan_unsubscribe_all(&idx, &subs[i]);
  CHECK_EQ(c4j__chan_find(&idx, "all", 3)->count, N / 2);
  CHECK_EQ(count_subs(c4j__chan_find(&idx, "all", 3)), N / 2);
  CHECK(c4j__chan_find(&idx, "ch-0", 4) == NULL);
  CHECK(c4j__chan_find(&idx, "ch-1", 4) != NULL);
  for (int i = 1; i < N; i += 2) c4j__chan_unsubscribe_all(&idx, &subs[i]);
  CHECK_EQ(idx.count, 0);
  c4j__chan_index_free(&idx);
}

TEST(cid_map_add_find_remove) {
  c4j__cid_map_t m;
  int conns[300];
  c4j__cid_t *e[300];
  char id[32];
  c4j__cid_map_init(&m);
  CHECK(c4j__cid_map_find(&m, "x", 1) == NULL);
  for (int i = 0; i < 300; i++) {
    snprintf(id, sizeof(id), "conn%03d", i);
    e[i] = c4j__cid_map_add(&m, id, strlen(id), &conns[i]);
    CHECK(e[i] != NULL);
  }
  CHECK_EQ(m.count, 300);
  CHECK(c4j__cid_map_find(&m, "conn123", 7) == e[123]);
  CHECK(c4j__cid_map_find(&m, "conn123", 7)->conn == &conns[123]);
  CHECK_STR(e[42]->id, "conn042");
  c4j__cid_map_remove(&m, e[123]);
  CHECK(c4j__cid_map_find(&m, "conn123", 7) == NULL);
  CHECK(c4j__cid_map_find(&m, "conn124", 7) == e[124]);
  for (int i = 0; i < 300; i++)
    if (i != 123) c4j__cid_map_remove(&m, e[i]);
  CHECK_EQ(m.count, 0);
  c4j__cid_map_free(&m);
}

TEST_MAIN(T(channel_subscribe_and_find), T(channel_many),
          T(cid_map_add_find_remove))
