/* test-buf.c - shared frame buffers: copies, references shared across
 * threads, and the last reference freeing (ASan reports any leak). */
#include <pthread.h>

#include "buf.h"
#include "test.h"

TEST(buf_copy_holds_bytes) {
  c4j__buf_t *b = c4j__buf_copy("hello", 5);
  CHECK(b != NULL);
  CHECK_EQ(b->len, 5);
  CHECK(memcmp(b->data, "hello", 5) == 0);
  CHECK_EQ(atomic_load(&b->refs), 1);
  c4j__buf_unref(b);
}

TEST(buf_refs_count_down) {
  c4j__buf_t *b = c4j__buf_new(16);
  CHECK(c4j__buf_ref(b, 3) == b);
  CHECK_EQ(atomic_load(&b->refs), 4);
  c4j__buf_unref(b);
  c4j__buf_unref(b);
  c4j__buf_unref(b);
  CHECK_EQ(atomic_load(&b->refs), 1);
  c4j__buf_unref(b);
  c4j__buf_unref(NULL);
}

TEST(buf_refuses_huge) {
  CHECK(c4j__buf_new((size_t)UINT32_MAX) == NULL);
}

static void *unref_many(void *arg) {
  c4j__buf_t **bufs = arg;
  for (int i = 0; i < 1000; i++) c4j__buf_unref(bufs[i]);
  return NULL;
}

TEST(buf_shared_between_threads) {
  /* 1000 buffers, each referenced by 4 threads that drop in parallel. */
  static c4j__buf_t *bufs[1000];
  pthread_t t[4];
  for (int i = 0; i < 1000; i++) {
    bufs[i] = c4j__buf_new(64);
    c4j__buf_ref(bufs[i], 3);
  }
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, unref_many, bufs);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK(1); /* any double free or leak is reported by ASan */
}

TEST_MAIN(T(buf_copy_holds_bytes), T(buf_refs_count_down), T(buf_refuses_huge),
          T(buf_shared_between_threads))
