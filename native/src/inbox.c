/* inbox.c - the messages of a worker's inbox (inbox.h). */
#include <string.h>

#include "common.h"
#include "inbox.h"

c4j__msg_t *c4j__msg_new(int type, const char *name, size_t name_len,
                         const char *reason) {
  size_t rlen = reason ? strnlen(reason, 1024) : 0;
  c4j__msg_t *m = c4j__calloc(1, sizeof(*m) + name_len + 1 + rlen + 1);
  if (m == NULL) return NULL;
  m->type = (uint8_t)type;
  m->fd = -1;
  m->sink = -1;
  m->name_len = (uint16_t)name_len;
  if (name_len) memcpy(m->text, name, name_len);
  m->reason = m->text + name_len + 1;
  if (rlen) memcpy(m->text + name_len + 1, reason, rlen);
  return m;
}

void c4j__msg_free(c4j__msg_t *m) {
  c4j__buf_unref(m->buf);
  c4j__fan_done(m->fan);
  c4j__free(m);
}
