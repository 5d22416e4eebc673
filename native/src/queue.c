/* queue.c - Vyukov's intrusive MPSC queue. */
#include "queue.h"

void c4j__mpsc_init(c4j__mpsc_t *q) {
  atomic_init(&q->stub.next, NULL);
  atomic_init(&q->head, &q->stub);
  q->tail = &q->stub;
}

void c4j__mpsc_push(c4j__mpsc_t *q, c4j__qnode_t *n) {
  c4j__qnode_t *prev;
  atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
  prev = atomic_exchange_explicit(&q->head, n, memory_order_acq_rel);
  atomic_store_explicit(&prev->next, n, memory_order_release);
}

c4j__qnode_t *c4j__mpsc_pop(c4j__mpsc_t *q) {
  c4j__qnode_t *tail = q->tail;
  c4j__qnode_t *next = atomic_load_explicit(&tail->next, memory_order_acquire);
  c4j__qnode_t *head;

  if (tail == &q->stub) {
    if (next == NULL) return NULL;
    q->tail = next;
    tail = next;
    next = atomic_load_explicit(&next->next, memory_order_acquire);
  }
  if (next != NULL) {
    q->tail = next;
    return tail;
  }
  head = atomic_load_explicit(&q->head, memory_order_acquire);
  if (tail != head) return NULL; /* A push is in progress. */
  /* tail is the last node: put the stub behind it so it can be taken. */
  c4j__mpsc_push(q, &q->stub);
  next = atomic_load_explicit(&tail->next, memory_order_acquire);
  if (next != NULL) {
    q->tail = next;
    return tail;
  }
  return NULL;
}
