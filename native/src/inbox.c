/* inbox.c - the messages of a worker's inbox (inbox.h). */
#include <stdatomic.h>
#include <string.h>

#include "common.h"
#include "inbox.h"

/* Fills a zeroed message with room for name and reason (rlen bytes of
 * it) behind its struct. */
static void msg_init(c4j__msg_t *m, int type, const char *name,
                     size_t name_len, const char *reason, size_t rlen) {
  m->type = (uint8_t)type;
  m->fd = -1;
  m->sink = -1;
  m->name_len = (uint16_t)name_len;
  if (name_len) memcpy(m->text, name, name_len);
  m->reason = m->text + name_len + 1;
  if (rlen) memcpy(m->text + name_len + 1, reason, rlen);
}

c4j__msg_t *c4j__msg_new(int type, const char *name, size_t name_len,
                         const char *reason) {
  size_t rlen = reason ? strnlen(reason, 1024) : 0;
  c4j__msg_t *m = c4j__calloc(1, sizeof(*m) + name_len + 1 + rlen + 1);
  if (m == NULL) return NULL;
  msg_init(m, type, name, name_len, reason, rlen);
  return m;
}

/* The head of a block of messages: how many are not freed yet. */
typedef struct {
  atomic_int left;
} block_t;

int c4j__msgs_new(c4j__msg_t **out, int n, int type, const char *name,
                  size_t name_len, const char *reason) {
  size_t rlen = reason ? strnlen(reason, 1024) : 0;
  /* Each message on an 8-byte boundary (its struct holds pointers). */
  size_t slot = (sizeof(c4j__msg_t) + name_len + 1 + rlen + 1 + 7) & ~(size_t)7;
  size_t head = (sizeof(block_t) + 7) & ~(size_t)7;
  char *p;
  block_t *b;
  if (n < 1 || n > 256) return C4J_ENOMEM;
  if ((p = c4j__calloc(1, head + (size_t)n * slot)) == NULL) return C4J_ENOMEM;
  b = (block_t *)p;
  atomic_init(&b->left, n);
  for (int i = 0; i < n; i++) {
    c4j__msg_t *m = (c4j__msg_t *)(p + head + (size_t)i * slot);
    msg_init(m, type, name, name_len, reason, rlen);
    m->block = b;
    out[i] = m;
  }
  return 0;
}

void c4j__msg_free(c4j__msg_t *m) {
  block_t *b = m->block;
  c4j__buf_unref(m->buf);
  c4j__fan_done(m->fan);
  if (b == NULL) {
    c4j__free(m);
  } else if (atomic_fetch_sub_explicit(&b->left, 1, memory_order_acq_rel) ==
             1) {
    c4j__free(b); /* the last of the send's messages */
  }
}
