/* test-history.c - the broadcast history: epochs, offsets, the bounded
 * ring, expiry by age and what a resume gets back. */
#include "buf.h"
#include "common.h"
#include "history.h"
#include "test.h"

/* Appends one frame to channel "c" and returns its offset. */
static uint64_t add(c4j__hist_t *h, uint64_t now) {
  c4j__hist_chan_t *ch;
  c4j__buf_t *b = c4j__buf_copy("x", 1);
  uint64_t off;
  c4j__hist_lock(h);
  ch = c4j__hist_chan(h, "c", 1);
  b->offset = ch->last + 1;
  c4j__hist_append(h, ch, b, now);
  off = ch->last;
  c4j__hist_unlock(h);
  c4j__buf_unref(b);
  return off;
}

static const char *epoch_of(c4j__hist_t *h) {
  const char *e;
  c4j__hist_lock(h);
  e = c4j__hist_chan(h, "c", 1)->epoch;
  c4j__hist_unlock(h);
  return e;
}

static void release(c4j__buf_t **out, size_t n) {
  for (size_t i = 0; i < n; i++) c4j__buf_unref(out[i]);
  c4j__free(out);
}

TEST(history_offsets_and_epoch) {
  c4j__hist_t h;
  const char *e;
  CHECK_EQ(c4j__hist_init(&h, 3, 1000), 0);
  CHECK_EQ(add(&h, 0), 1);
  CHECK_EQ(add(&h, 0), 2);
  e = epoch_of(&h);
  CHECK_EQ(strlen(e), 8);
  for (int i = 0; i < 8; i++)
    CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 "0123456789-_", e[i]) != NULL);
  c4j__hist_free(&h);
}

TEST(history_since) {
  c4j__hist_t h;
  c4j__buf_t **out;
  size_t n;
  uint64_t last;
  char e[9];
  CHECK_EQ(c4j__hist_init(&h, 3, 1000), 0);
  for (int i = 0; i < 5; i++) add(&h, 0); /* offsets 1..5, 3..5 kept */
  snprintf(e, sizeof(e), "%s", epoch_of(&h));
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 2, 0, &out, &n, &last), 1);
  CHECK_EQ(n, 3);
  CHECK_EQ(last, 5);
  for (size_t i = 0; i < n; i++) CHECK_EQ(out[i]->offset, 3 + i);
  release(out, n);
  /* Nothing missed. */
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 5, 0, &out, &n, &last), 1);
  CHECK_EQ(n, 0);
  CHECK(out == NULL);
  /* Too old, ahead, another epoch, unknown channel. */
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 1, 0, &out, &n, &last), 0);
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 6, 0, &out, &n, &last), 0);
  CHECK_EQ(c4j__hist_since(&h, "c", 1, "AAAAAAAA", 4, 0, &out, &n, &last),
           0);
  CHECK_EQ(c4j__hist_since(&h, "d", 1, e, 0, 0, &out, &n, &last), 0);
  c4j__hist_free(&h);
}

TEST(history_expires_by_age) {
  c4j__hist_t h;
  c4j__buf_t **out;
  size_t n;
  uint64_t last;
  char e[9];
  CHECK_EQ(c4j__hist_init(&h, 10, 100), 0);
  add(&h, 0);
  add(&h, 50);
  snprintf(e, sizeof(e), "%s", epoch_of(&h));
  /* At 120 the first (at 0) is gone: a gap from 0 is lost, from 1 not. */
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 0, 120, &out, &n, &last), 0);
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 1, 120, &out, &n, &last), 1);
  CHECK_EQ(n, 1);
  release(out, n);
  c4j__hist_free(&h);
}

/* A reader whose `now` is older than the entries (it took the time
 * before the lock, and publishers appended meanwhile) keeps them: the
 * first of a fresh channel was dropped as 2^64 ms old, and a long poll's
 * resume then said recovered:false (test-poll's hops, under qemu). */
TEST(history_entries_newer_than_now_are_kept) {
  c4j__hist_t h;
  c4j__buf_t **out;
  size_t n;
  uint64_t last;
  char e[9];
  CHECK_EQ(c4j__hist_init(&h, 10, 100), 0);
  add(&h, 1000);
  add(&h, 1001);
  snprintf(e, sizeof(e), "%s", epoch_of(&h));
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 0, 990, &out, &n, &last), 1);
  CHECK_EQ(n, 2);
  release(out, n);
  c4j__hist_free(&h);
}

/* A channel whose offset jumped (hub.c: a broadcast lost here, or never
 * seen) keeps nothing up to it; a jump to the very end (a bus record with
 * offset UINT64_MAX) made the oldest kept offset wrap to 0, and a resume
 * from below asked for 2^64 - offset entries (found by fuzz-bus: an
 * allocation of 2^64 bytes, or a small one written far past its end). */
TEST(history_after_a_jump) {
  c4j__hist_t h;
  c4j__hist_chan_t *ch;
  c4j__buf_t **out;
  size_t n;
  uint64_t last;
  char e[9];
  CHECK_EQ(c4j__hist_init(&h, 3, 1000), 0);
  for (int i = 0; i < 2; i++) add(&h, 0); /* offsets 1, 2 */
  snprintf(e, sizeof(e), "%s", epoch_of(&h));
  c4j__hist_lock(&h);
  ch = c4j__hist_chan(&h, "c", 1);
  c4j__hist_jump(&h, ch, 10);
  c4j__hist_unlock(&h);
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 2, 0, &out, &n, &last), 0);
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 9, 0, &out, &n, &last), 0);
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 10, 0, &out, &n, &last), 1);
  CHECK_EQ(n, 0);
  c4j__hist_lock(&h);
  c4j__hist_jump(&h, ch, UINT64_MAX);
  c4j__hist_unlock(&h);
  n = 7;
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, 5, 0, &out, &n, &last), 0);
  CHECK_EQ(n, 0);
  CHECK(out == NULL);
  /* 2^61 + 1 missed: times 8 bytes, 8 bytes. */
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, UINT64_MAX - (1ull << 61) - 1, 0,
                           &out, &n, &last), 0);
  CHECK_EQ(n, 0);
  CHECK_EQ(c4j__hist_since(&h, "c", 1, e, UINT64_MAX, 0, &out, &n, &last), 1);
  CHECK_EQ(n, 0);
  CHECK_EQ(last, UINT64_MAX);
  c4j__hist_free(&h);
}

TEST(history_none) {
  c4j__hist_t h;
  CHECK_EQ(c4j__hist_init(&h, 0, 100), 0);
  c4j__hist_lock(&h);
  CHECK(c4j__hist_chan(&h, "c", 1) == NULL);
  c4j__hist_unlock(&h);
  c4j__hist_free(&h);
}

/* The highest message number per node: a number not above it is a copy;
 * the least recent of C4J__HIST_ORIGINS nodes makes room for a new one. */
TEST(history_seen_origins) {
  c4j__hist_t h;
  c4j__hist_chan_t *ch;
  char node[C4J__NODE_ID_LEN + 1];
  CHECK_EQ(c4j__hist_init(&h, 4, 60000), 0);
  c4j__hist_lock(&h);
  ch = c4j__hist_chan(&h, "o", 1);
  CHECK_EQ(c4j__hist_seen(ch, "A", 1, 5), 0);
  CHECK_EQ(c4j__hist_seen(ch, "A", 1, 5), 1);
  CHECK_EQ(c4j__hist_seen(ch, "A", 1, 3), 1);
  CHECK_EQ(c4j__hist_seen(ch, "A", 1, 6), 0);
  CHECK_EQ(c4j__hist_seen(ch, "B", 1, 1), 0); /* per node */
  CHECK_EQ(c4j__hist_seen(ch, "AB", 2, 6), 0);
  CHECK_EQ(c4j__hist_seen(ch, "", 0, 1), 0);   /* no node: never a copy */
  CHECK_EQ(c4j__hist_seen(ch, "", 0, 1), 0);
  /* Fill the table with others while A stays in use: B goes first. */
  for (int i = 0; i < C4J__HIST_ORIGINS; i++) {
    snprintf(node, sizeof(node), "N%d", i);
    CHECK_EQ(c4j__hist_seen(ch, node, strlen(node), 1), 0);
    CHECK_EQ(c4j__hist_seen(ch, "A", 1, 6), 1);
  }
  CHECK_EQ(c4j__hist_seen(ch, "A", 1, 6), 1);  /* remembered */
  CHECK_EQ(c4j__hist_seen(ch, "B", 1, 1), 0);  /* forgotten: new again */
  c4j__hist_unlock(&h);
  c4j__hist_free(&h);
}

TEST_MAIN(T(history_offsets_and_epoch), T(history_since),
          T(history_expires_by_age), T(history_entries_newer_than_now_are_kept),
          T(history_after_a_jump), T(history_none),
          T(history_seen_origins))
