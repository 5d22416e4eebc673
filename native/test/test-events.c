/* test-events.c - the bounded event queue to the embedder: the record
 * layouts of c4j.h, a ring that wraps (headers and strings split at its
 * end), a full queue counting what it drops, polls copying whole records
 * only, waiting (timeouts, wake-ups: one for each sleeping reader, none
 * slept through) and stop. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "c4j.h"
#include "common.h"
#include "events.h"
#include "test.h"

/* ---- Reading records back ------------------------------------------------ */

typedef struct {
  const uint8_t *p, *end;
} reader_t;

static unsigned u8(reader_t *r) { return r->p < r->end ? *r->p++ : 0xffff; }

static unsigned u16(reader_t *r) {
  unsigned lo = u8(r), hi = u8(r);
  return lo | hi << 8;
}

static uint32_t u32(reader_t *r) {
  uint32_t lo = u16(r), hi = u16(r);
  return lo | hi << 16;
}

/* Checks that the next string is s (of n bytes). */
static int str_is(reader_t *r, const char *s, size_t n) {
  size_t k = u16(r);
  int same = k == n && (size_t)(r->end - r->p) >= k && memcmp(r->p, s, n) == 0;
  r->p += k <= (size_t)(r->end - r->p) ? k : (size_t)(r->end - r->p);
  return same;
}
#define STR_IS(r, s) str_is((r), (s), strlen(s))

/* Starts reading the record at *at of buf[0..n): checks its header and
 * returns its type; *at moves past it. */
static int record(const uint8_t *buf, size_t n, size_t *at, reader_t *r) {
  uint32_t size;
  int type;
  r->p = buf + *at;
  r->end = buf + n;
  size = u32(r);
  type = (int)u8(r);
  CHECK(size >= 8 && *at + size <= n);
  CHECK(u8(r) == 0 && u8(r) == 0 && u8(r) == 0);
  if (size < 8 || *at + size > n) return -1;
  r->end = buf + *at + size;
  *at += size;
  return type;
}

/* The size of a MESSAGE record with a one-byte cid and k bytes of text. */
#define MSG_SIZE(k) (8 + 2 + 1 + 2 + (k))

static char filler[1 << 17];

static int message(c4j__events_t *ev, size_t k, char tag) {
  memset(filler, tag, k);
  return c4j__events_message(ev, "c", (const uint8_t *)filler, k);
}

/* Whether the next record is the MESSAGE of message(k, tag). */
static int is_message(const uint8_t *buf, size_t n, size_t *at, size_t k,
                      char tag) {
  reader_t r;
  int ok;
  if (record(buf, n, at, &r) != C4J_EV_MESSAGE) return 0;
  memset(filler, tag, k);
  ok = STR_IS(&r, "c") && str_is(&r, filler, k);
  return ok && r.p == r.end;
}

static unsigned long long dropped(c4j__events_t *ev) {
  return atomic_load(&ev->dropped);
}

/* ---- Tests --------------------------------------------------------------- */

TEST(events_record_layouts) {
  c4j__events_t ev;
  static uint8_t buf[4096];
  size_t at = 0;
  reader_t r;
  int n;
  CHECK_EQ(c4j__events_init(&ev, 4096), 0);
  CHECK_EQ(c4j__events_connect(&ev, "c1", "alice", "1.2.3.4", "ws", 8080), 0);
  CHECK_EQ(c4j__events_revival(&ev, "c2", "", "::1", "sse", 65535), 0);
  CHECK_EQ(c4j__events_drop(&ev, "c1", 4001, "gone"), 0);
  CHECK_EQ(c4j__events_dying(&ev, "c2", 1006, ""), 0);
  CHECK_EQ(c4j__events_message(&ev, "c3", (const uint8_t *)"hi\0x", 4), 0);
  CHECK_EQ(c4j__events_action(&ev, "{\"r\":1}", 7), 0);
  CHECK_EQ(c4j__events_api(&ev, 0x01020304u, "POST", "/api/publishX", 12,
                           "a=1", 3, "{}", 2), 0);
  CHECK_EQ(c4j__events_log(&ev, 3, "hello"), 0);
  n = c4j__events_poll(&ev, buf, sizeof(buf), 0);
  /* 8-byte headers, u16-length strings: connect 34, revival 26, drop 20,
   * dying 16, message 18, action 17, api 41, log 16. */
  CHECK_EQ(n, 34 + 26 + 20 + 16 + 18 + 17 + 41 + 16);
  if (n <= 0) return;

  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_CONNECT);
  CHECK(STR_IS(&r, "c1") && STR_IS(&r, "alice") && STR_IS(&r, "1.2.3.4"));
  CHECK(STR_IS(&r, "ws"));
  CHECK_EQ(u16(&r), 8080);
  CHECK(r.p == r.end);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_REVIVAL);
  CHECK(STR_IS(&r, "c2") && STR_IS(&r, "") && STR_IS(&r, "::1"));
  CHECK(STR_IS(&r, "sse"));
  CHECK_EQ(u16(&r), 65535);
  CHECK(r.p == r.end);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_DROP);
  CHECK(STR_IS(&r, "c1"));
  CHECK_EQ(u16(&r), 4001);
  CHECK(STR_IS(&r, "gone"));
  CHECK(r.p == r.end);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_DYING);
  CHECK(STR_IS(&r, "c2"));
  CHECK_EQ(u16(&r), 1006);
  CHECK(STR_IS(&r, ""));
  CHECK(r.p == r.end);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_MESSAGE);
  CHECK(STR_IS(&r, "c3"));
  CHECK(str_is(&r, "hi\0x", 4));   /* bytes, not a C string */
  CHECK(r.p == r.end);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_ACTION);
  CHECK(STR_IS(&r, "{\"r\":1}"));
  CHECK(r.p == r.end);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_API);
  CHECK_EQ(u32(&r), 0x01020304u);
  CHECK(STR_IS(&r, "POST") && STR_IS(&r, "/api/publish"));
  CHECK(STR_IS(&r, "a=1") && STR_IS(&r, "{}"));
  CHECK(r.p == r.end);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_LOG);
  CHECK_EQ(u8(&r), 3);
  CHECK(STR_IS(&r, "hello"));
  CHECK(r.p == r.end);
  CHECK_EQ(at, (size_t)n);
  /* Read: the queue is empty again. */
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 0), 0);
  CHECK_EQ(dropped(&ev), 0);
  c4j__events_free(&ev);
}

TEST(events_ring_wraps) {
  /* A ring of 64 bytes read after every record: the records start at every
   * position, so that headers, lengths and strings split at its end. */
  c4j__events_t ev;
  uint8_t buf[64];
  int bad = 0;
  CHECK_EQ(c4j__events_init(&ev, 64), 0);
  for (int i = 0; i < 300 && !bad; i++) {
    size_t k = (size_t)(i * 7) % 40, at = 0;
    char tag = (char)('a' + i % 26);
    CHECK_EQ(message(&ev, k, tag), 0);
    int n = c4j__events_poll(&ev, buf, sizeof(buf), 0);
    if (n != (int)MSG_SIZE(k) || !is_message(buf, (size_t)n, &at, k, tag)) {
      fprintf(stderr, "  record %d (%zu bytes of text) came back wrong\n", i,
              k);
      bad = 1;
    }
  }
  CHECK(!bad);
  /* Two records at once across the end, read by one poll. */
  for (int i = 0; i < 40 && !bad; i++) {
    size_t at = 0;
    int n;
    CHECK_EQ(message(&ev, 10, 'x'), 0);
    CHECK_EQ(message(&ev, 12, 'y'), 0);
    n = c4j__events_poll(&ev, buf, sizeof(buf), 0);
    bad = n != (int)(MSG_SIZE(10) + MSG_SIZE(12)) ||
          !is_message(buf, (size_t)n, &at, 10, 'x') ||
          !is_message(buf, (size_t)n, &at, 12, 'y');
  }
  CHECK(!bad);
  CHECK_EQ(dropped(&ev), 0);
  c4j__events_free(&ev);
}

TEST(events_full_queue_counts_dropped) {
  c4j__events_t ev;
  uint8_t buf[128];
  size_t at = 0;
  CHECK_EQ(c4j__events_init(&ev, 64), 0);
  CHECK_EQ(message(&ev, 27, 'a'), 0);          /* 40 of 64 bytes */
  CHECK_EQ(message(&ev, 27, 'b'), C4J_EFULL);  /* would need 80 */
  CHECK_EQ(dropped(&ev), 1);
  CHECK_EQ(c4j__events_log(&ev, 0, "a log line that does not fit either"),
           C4J_EFULL);
  CHECK_EQ(dropped(&ev), 2);
  CHECK_EQ(ev.used, 40);                       /* nothing half written */
  /* What still fits goes in, to the last byte. */
  CHECK_EQ(message(&ev, 11, 'c'), 0);          /* 24: 64 in all */
  CHECK_EQ(ev.used, 64);
  CHECK_EQ(message(&ev, 0, 'd'), C4J_EFULL);
  CHECK_EQ(dropped(&ev), 3);
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 0), 64);
  CHECK(is_message(buf, 64, &at, 27, 'a'));
  CHECK(is_message(buf, 64, &at, 11, 'c'));
  /* Room again once read. */
  CHECK_EQ(message(&ev, 27, 'e'), 0);
  CHECK_EQ(dropped(&ev), 3);
  c4j__events_free(&ev);
}

TEST(events_poll_copies_whole_records) {
  c4j__events_t ev;
  uint8_t buf[256];
  size_t at = 0;
  CHECK_EQ(c4j__events_init(&ev, 256), 0);
  CHECK_EQ(message(&ev, 27, 'a'), 0);
  CHECK_EQ(message(&ev, 27, 'b'), 0);
  CHECK_EQ(message(&ev, 27, 'c'), 0);
  /* Room for two and a half: two come, the third waits. */
  CHECK_EQ(c4j__events_poll(&ev, buf, 100, 0), 80);
  CHECK(is_message(buf, 80, &at, 27, 'a'));
  CHECK(is_message(buf, 80, &at, 27, 'b'));
  at = 0;
  CHECK_EQ(c4j__events_poll(&ev, buf, 100, 0), 40);
  CHECK(is_message(buf, 40, &at, 27, 'c'));
  /* A record that can never fit the reader's buffer is dropped rather than
   * wedging the queue; the next one comes through. */
  CHECK_EQ(message(&ev, 27, 'd'), 0);
  CHECK_EQ(message(&ev, 5, 'e'), 0);          /* 18 bytes */
  CHECK_EQ(c4j__events_poll(&ev, buf, 39, 0), 18);
  CHECK_EQ(dropped(&ev), 1);
  at = 0;
  CHECK(is_message(buf, 18, &at, 5, 'e'));
  /* Too small for the first but something already copied: it stays. */
  CHECK_EQ(message(&ev, 5, 'f'), 0);
  CHECK_EQ(message(&ev, 27, 'g'), 0);
  CHECK_EQ(c4j__events_poll(&ev, buf, 39, 0), 18);
  CHECK_EQ(dropped(&ev), 1);
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 0), 40);
  c4j__events_free(&ev);
}

TEST(events_cut_long_strings) {
  c4j__events_t ev;
  static uint8_t buf[1 << 17];
  size_t at = 0;
  reader_t r;
  int n;
  CHECK_EQ(c4j__events_init(&ev, sizeof(buf)), 0);
  CHECK_EQ(message(&ev, 70000, 'q'), 0);
  n = c4j__events_poll(&ev, buf, sizeof(buf), 0);
  CHECK_EQ(n, MSG_SIZE(65535));
  if (n > 0) {
    CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_MESSAGE);
    CHECK(STR_IS(&r, "c"));
    memset(filler, 'q', 65535);
    CHECK(str_is(&r, filler, 65535));
  }
  c4j__events_free(&ev);
}

TEST(events_poll_waits) {
  c4j__events_t ev;
  uint8_t buf[64];
  uint64_t t0;
  CHECK_EQ(c4j__events_init(&ev, 64), 0);
  t0 = c4j__mono_ms();
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 0), 0);
  CHECK(c4j__mono_ms() - t0 < 1000);
  t0 = c4j__mono_ms();
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 100), 0);
  CHECK(c4j__mono_ms() - t0 >= 95);
  c4j__events_free(&ev);
}

/* A thread that does `what` to the queue after 100 ms. */
typedef struct {
  c4j__events_t *ev;
  int what;   /* 0: a record, 1: stop */
} later_t;

static void later(void *arg) {
  later_t *l = arg;
  uv_sleep(100);
  if (l->what == 0) message(l->ev, 3, 'w');
  else c4j__events_stop(l->ev);
}

TEST(events_poll_woken_by_a_record) {
  c4j__events_t ev;
  uint8_t buf[64];
  uv_thread_t t;
  later_t l = { &ev, 0 };
  uint64_t t0;
  size_t at = 0;
  int n;
  CHECK_EQ(c4j__events_init(&ev, 64), 0);
  t0 = c4j__mono_ms();
  CHECK_EQ(uv_thread_create(&t, later, &l), 0);
  n = c4j__events_poll(&ev, buf, sizeof(buf), 10000);
  CHECK(c4j__mono_ms() - t0 < 5000);
  CHECK_EQ(n, MSG_SIZE(3));
  CHECK(n > 0 && is_message(buf, (size_t)n, &at, 3, 'w'));
  uv_thread_join(&t);
  c4j__events_free(&ev);
}

/* A reader thread of the queue: one poll, its answer kept. */
typedef struct {
  c4j__events_t *ev;
  uv_thread_t t;
  uint8_t buf[64];
  int n;
  atomic_int done;
} reader_thread_t;

static void read_once(void *arg) {
  reader_thread_t *r = arg;
  r->n = c4j__events_poll(r->ev, r->buf, sizeof(r->buf), 10000);
  atomic_store(&r->done, 1);
}

static int sleeping(c4j__events_t *ev) {
  int n;
  uv_mutex_lock(&ev->lock);
  n = ev->waiting;
  uv_mutex_unlock(&ev->lock);
  return n;
}

/* Writers wake a sleeping reader once, not for every record; with two
 * asleep, the record after the first one woke up wakes the other. */
TEST(events_each_sleeping_reader_is_woken) {
  c4j__events_t ev;
  reader_thread_t r[2];
  uint64_t t0;
  int i, first;
  size_t at;
  CHECK_EQ(c4j__events_init(&ev, 256), 0);
  for (i = 0; i < 2; i++) {
    r[i].ev = &ev;
    r[i].n = -1;
    atomic_init(&r[i].done, 0);
    CHECK_EQ(uv_thread_create(&r[i].t, read_once, &r[i]), 0);
  }
  for (t0 = c4j__mono_ms(); sleeping(&ev) < 2 && c4j__mono_ms() - t0 < 5000;)
    uv_sleep(1);
  CHECK_EQ(sleeping(&ev), 2);
  t0 = c4j__mono_ms();
  CHECK_EQ(message(&ev, 3, 'a'), 0);
  while (!atomic_load(&r[0].done) && !atomic_load(&r[1].done) &&
         c4j__mono_ms() - t0 < 5000)
    uv_sleep(1);
  first = atomic_load(&r[0].done) ? 0 : 1;
  CHECK(atomic_load(&r[first].done));
  CHECK_EQ(r[first].n, MSG_SIZE(3));
  at = 0;
  CHECK(is_message(r[first].buf, (size_t)r[first].n, &at, 3, 'a'));
  CHECK_EQ(sleeping(&ev), 1);
  CHECK_EQ(message(&ev, 4, 'b'), 0);
  uv_thread_join(&r[1 - first].t);
  CHECK(c4j__mono_ms() - t0 < 5000); /* not the poll's 10 s */
  CHECK_EQ(r[1 - first].n, MSG_SIZE(4));
  at = 0;
  CHECK(is_message(r[1 - first].buf, (size_t)r[1 - first].n, &at, 4, 'b'));
  uv_thread_join(&r[first].t);
  c4j__events_free(&ev);
}

/* A writer thread's records, 20,000 through a small ring: the reader
 * never sleeps through one (each poll comes back long before its 10 s)
 * and gets every one, in order. */
static void write_many(void *arg) {
  c4j__events_t *ev = arg;
  uint8_t five[5]; /* not message()'s filler, which the reader uses */
  for (int i = 0; i < 20000;) {
    memset(five, 'a' + i % 26, sizeof(five));
    if (c4j__events_message(ev, "c", five, sizeof(five)) == 0) i++;
    else uv_sleep(0);
  }
}

TEST(events_a_stream_of_records_is_never_slept_through) {
  c4j__events_t ev;
  uv_thread_t t;
  uint8_t buf[512];
  int got = 0;
  CHECK_EQ(c4j__events_init(&ev, 512), 0);
  CHECK_EQ(uv_thread_create(&t, write_many, &ev), 0);
  while (got < 20000) {
    uint64_t t0 = c4j__mono_ms();
    int n = c4j__events_poll(&ev, buf, sizeof(buf), 10000);
    size_t at = 0;
    CHECK(n > 0);
    CHECK(c4j__mono_ms() - t0 < 5000);
    if (n <= 0) break;
    while (at < (size_t)n && is_message(buf, (size_t)n, &at, 5, (char)('a' + got % 26)))
      got++;
    CHECK_EQ(at, (size_t)n);
    if (at != (size_t)n) break;
  }
  CHECK_EQ(got, 20000);
  uv_thread_join(&t);
  c4j__events_free(&ev);
}

TEST(events_stop) {
  c4j__events_t ev;
  uint8_t buf[64];
  uv_thread_t t;
  later_t l = { &ev, 1 };
  uint64_t t0;
  size_t at = 0;
  CHECK_EQ(c4j__events_init(&ev, 64), 0);
  /* A waiter is woken by stop. */
  t0 = c4j__mono_ms();
  CHECK_EQ(uv_thread_create(&t, later, &l), 0);
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 10000), C4J_ESTOPPED);
  CHECK(c4j__mono_ms() - t0 < 5000);
  uv_thread_join(&t);
  c4j__events_free(&ev);

  /* The records left are still read after stop, then ESTOPPED at once. */
  CHECK_EQ(c4j__events_init(&ev, 64), 0);
  CHECK_EQ(message(&ev, 7, 's'), 0);
  c4j__events_stop(&ev);
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 10000), MSG_SIZE(7));
  CHECK(is_message(buf, MSG_SIZE(7), &at, 7, 's'));
  t0 = c4j__mono_ms();
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 10000), C4J_ESTOPPED);
  CHECK_EQ(c4j__events_poll(&ev, buf, sizeof(buf), 0), C4J_ESTOPPED);
  CHECK(c4j__mono_ms() - t0 < 1000);
  c4j__events_free(&ev);
}

/* A client's binary message: cid, u32 length, the bytes whole (past the
 * 65535 bytes a string carries, NULs among them) and across the ring's
 * end; one that can never fit the queue is dropped and counted. */
TEST(events_binary_records) {
  c4j__events_t ev;
  static uint8_t bytes[100000], buf[1 << 18];
  size_t at = 0;
  reader_t r;
  int n;
  enum { BIG = 70000 };
  for (size_t i = 0; i < sizeof(bytes); i++) bytes[i] = (uint8_t)(i * 7);
  CHECK_EQ(c4j__events_init(&ev, 100000), 0);
  CHECK_EQ(c4j__events_binary(&ev, "cid", bytes, 3), 0);
  CHECK_EQ(c4j__events_binary(&ev, "cid", NULL, 0), 0);
  n = c4j__events_poll(&ev, buf, sizeof(buf), 0);
  CHECK_EQ(n, (8 + 2 + 3 + 4 + 3) + (8 + 2 + 3 + 4));
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_BINARY);
  CHECK(STR_IS(&r, "cid"));
  CHECK_EQ(u32(&r), 3);
  CHECK(memcmp(r.p, bytes, 3) == 0);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_BINARY);
  CHECK(STR_IS(&r, "cid"));
  CHECK_EQ(u32(&r), 0);
  CHECK(r.p == r.end);
  /* 70000 bytes, written where the ring wraps (head at 37 now). */
  CHECK_EQ(c4j__events_binary(&ev, "c", bytes, BIG), 0);
  CHECK_EQ(c4j__events_binary(&ev, "c", bytes, 30000), C4J_EFULL);
  CHECK_EQ(dropped(&ev), 1);
  at = 0;
  n = c4j__events_poll(&ev, buf, sizeof(buf), 0);
  CHECK_EQ(n, 8 + 2 + 1 + 4 + BIG);
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_BINARY);
  CHECK(STR_IS(&r, "c"));
  CHECK_EQ(u32(&r), BIG);
  CHECK(memcmp(r.p, bytes, BIG) == 0);
  CHECK_EQ(c4j__events_binary(&ev, "c", bytes, BIG), 0);
  n = c4j__events_poll(&ev, buf, sizeof(buf), 0); /* wrapped this time */
  at = 0;
  CHECK_EQ(record(buf, (size_t)n, &at, &r), C4J_EV_BINARY);
  CHECK(STR_IS(&r, "c"));
  CHECK_EQ(u32(&r), BIG);
  CHECK(memcmp(r.p, bytes, BIG) == 0);
  /* Bigger than the whole queue: never. */
  CHECK_EQ(c4j__events_binary(&ev, "c", bytes, 100000), C4J_EFULL);
  CHECK_EQ(dropped(&ev), 2);
  c4j__events_free(&ev);
}

TEST_MAIN(T(events_binary_records), T(events_record_layouts), T(events_ring_wraps),
          T(events_full_queue_counts_dropped),
          T(events_poll_copies_whole_records), T(events_cut_long_strings),
          T(events_poll_waits), T(events_poll_woken_by_a_record),
          T(events_each_sleeping_reader_is_woken),
          T(events_a_stream_of_records_is_never_slept_through),
          T(events_stop))
