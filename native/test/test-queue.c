/* test-queue.c - the MPSC inbox queue: FIFO with one producer, and with
 * several producer threads every item arrives once, in each producer's
 * order. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "queue.h"
#include "test.h"

typedef struct {
  c4j__qnode_t node;
  int producer;
  int seq;
} item_t;

TEST(queue_empty_pops_null) {
  c4j__mpsc_t q;
  c4j__mpsc_init(&q);
  CHECK(c4j__mpsc_pop(&q) == NULL);
  CHECK(c4j__mpsc_pop(&q) == NULL);
}

TEST(queue_fifo_single_thread) {
  c4j__mpsc_t q;
  item_t items[10];
  c4j__mpsc_init(&q);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 10; i++) {
      items[i].seq = i;
      c4j__mpsc_push(&q, &items[i].node);
    }
    for (int i = 0; i < 10; i++) {
      c4j__qnode_t *n = c4j__mpsc_pop(&q);
      CHECK(n != NULL);
      if (n) CHECK_EQ(((item_t *)n)->seq, i);
    }
    CHECK(c4j__mpsc_pop(&q) == NULL);
  }
}

#define PRODUCERS 4
#define PER_PRODUCER 50000

static c4j__mpsc_t shared_q;

static void *producer(void *arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < PER_PRODUCER; i++) {
    item_t *it = malloc(sizeof(*it));
    it->producer = id;
    it->seq = i;
    c4j__mpsc_push(&shared_q, &it->node);
  }
  return NULL;
}

TEST(queue_many_producers) {
  pthread_t t[PRODUCERS];
  int next[PRODUCERS] = { 0 };
  long got = 0, order_errors = 0;
  c4j__mpsc_init(&shared_q);
  for (int i = 0; i < PRODUCERS; i++)
    pthread_create(&t[i], NULL, producer, (void *)(intptr_t)i);
  while (got < (long)PRODUCERS * PER_PRODUCER) {
    c4j__qnode_t *n = c4j__mpsc_pop(&shared_q);
    item_t *it;
    if (n == NULL) {
      sched_yield();
      continue;
    }
    it = (item_t *)n;
    if (it->seq != next[it->producer]) order_errors++;
    next[it->producer] = it->seq + 1;
    free(it);
    got++;
  }
  for (int i = 0; i < PRODUCERS; i++) pthread_join(t[i], NULL);
  CHECK_EQ(order_errors, 0);
  for (int i = 0; i < PRODUCERS; i++) CHECK_EQ(next[i], PER_PRODUCER);
  CHECK(c4j__mpsc_pop(&shared_q) == NULL);
}

TEST_MAIN(T(queue_empty_pops_null), T(queue_fifo_single_thread),
          T(queue_many_producers))
