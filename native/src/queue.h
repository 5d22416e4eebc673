/* queue.h - a lock-free, intrusive, multi-producer single-consumer FIFO
 * (Dmitry Vyukov's algorithm): the inbox of each worker.  Any thread may
 * push; only the worker's own thread pops.
 */
#ifndef C4J_QUEUE_H
#define C4J_QUEUE_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct c4j__qnode_s {
  _Atomic(struct c4j__qnode_s *) next;
} c4j__qnode_t;

/* Invariant: the list runs from `tail` (consumer side, oldest) to `head`
 * (the node pushed last); `stub` keeps it non-empty so that a push touches
 * only `head` and the previous node's `next`.  Nodes from one producer come
 * out in the order they went in. */
typedef struct {
  _Atomic(c4j__qnode_t *) head;
  c4j__qnode_t *tail;
  c4j__qnode_t stub;
} c4j__mpsc_t;

void c4j__mpsc_init(c4j__mpsc_t *q);
/* Wait-free; the node must stay alive until popped. */
void c4j__mpsc_push(c4j__mpsc_t *q, c4j__qnode_t *n);
/* Returns the oldest node, or NULL when the queue is empty or a producer is
 * half-way through a push (that producer's wake-up comes after it ends, so
 * the consumer simply tries again when woken). */
c4j__qnode_t *c4j__mpsc_pop(c4j__mpsc_t *q);

#endif /* C4J_QUEUE_H */
