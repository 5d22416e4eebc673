/* inbox.h - what travels through a worker's inbox (the lock-free queue of
 * queue.h): one message type for every kind of work another thread hands
 * a worker, and its constructor.  The worker's loop (worker.c) handles
 * them; delivery (deliver.c), the listener and the connection files make
 * them.
 */
#ifndef C4J_INBOX_H
#define C4J_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "metrics.h"
#include "queue.h"

enum {
  C4J__MSG_FD = 1,    /* an accepted socket to adopt: fd */
  C4J__MSG_SEND_ALL,  /* buf to the subscribers of channel `text` */
  C4J__MSG_SEND_TO,   /* buf to the connection whose id is `text` */
  C4J__MSG_DROP,      /* close connection `text` with code and reason */
  C4J__MSG_TAKE,      /* worker `code` attached `text` with seq */
  C4J__MSG_KEPT,      /* buf, kept for `text` by its former worker; the
                         last one, without buf, ends the hand-over */
  C4J__MSG_TOUCH,     /* a /cmd request of `text` was accepted: its SSE
                         stream here is alive */
  C4J__MSG_SUB,       /* subscribe `text` to channel `reason`; ack `id`
                         when >= 0 */
  C4J__MSG_UNSUB,     /* unsubscribe `text` from channel `reason` */
  C4J__MSG_SEND_USER, /* buf to the connections of user `text` */
  C4J__MSG_API_REPLY  /* buf (a whole HTTP answer) to the /api/ request
                         `seq` waiting here */
};

typedef struct {
  c4j__qnode_t node;
  uint8_t type;
  uint8_t tls;          /* C4J__MSG_FD: accepted on a TLS native port */
  int fd;
  int sink;             /* C4J__MSG_FD: -1, or the other end of the dummy
                           of a socket taken over (listener.h); buf: the
                           bytes its request began with (maybe none), or
                           NULL for one accepted on the native port */
  int code;             /* C4J__MSG_SUB/UNSUB: ticks waited (see
                           subscription.h, C4J__LATER); API_REPLY: the
                           status (buf: the JSON body) */
  uint32_t seq;
  int64_t id;           /* C4J__MSG_SUB: the ack's id, the channel's
                           history (or NULL) and its newest offset when
                           c4j_subscribe was called */
  const void *hist;
  uint64_t off;
  c4j__buf_t *buf;      /* one reference, owned by the message */
  c4j__fan_t *fan;      /* C4J__MSG_SEND_ALL: its timing (metrics.h), or
                           NULL; done when the message is freed unless
                           the worker took it */
  uint16_t name_len;
  const char *reason;   /* points into text, after the name's NUL */
  void *block;          /* NULL, or the allocation it shares with the
                           other messages of one send (c4j__msgs_new) */
  char text[];          /* name NUL reason NUL */
} c4j__msg_t;

/* A message with copies of name and reason (either may be NULL; reason
 * is cut at 1024 bytes); NULL when out of memory.  Freed with
 * c4j__msg_free, which drops buf. */
c4j__msg_t *c4j__msg_new(int type, const char *name, size_t name_len,
                         const char *reason);
/* n (1..256) such messages, alike, in one allocation (one send to every
 * worker: one malloc, not n, and one free, by whichever worker frees its
 * message last); 0, or C4J_ENOMEM with none made.  Each is freed with
 * c4j__msg_free like any other. */
int c4j__msgs_new(c4j__msg_t **out, int n, int type, const char *name,
                  size_t name_len, const char *reason);
void c4j__msg_free(c4j__msg_t *m);

#endif /* C4J_INBOX_H */
