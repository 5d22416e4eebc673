/* buf.c - reference-counted shared frame buffers. */
#include <string.h>

#include "buf.h"
#include "common.h"

c4j__buf_t *c4j__buf_new(size_t len) {
  c4j__buf_t *b;
  if (len > UINT32_MAX - sizeof(*b)) return NULL;
  b = c4j__malloc(sizeof(*b) + len);
  if (b == NULL) return NULL;
  atomic_init(&b->refs, 1);
  b->len = (uint32_t)len;
  b->offset = 0;
  b->chan = NULL;
  atomic_init(&b->alt, NULL);
  atomic_init(&b->zip, NULL);
  return b;
}

c4j__buf_t *c4j__buf_copy(const void *p, size_t n) {
  c4j__buf_t *b = c4j__buf_new(n);
  if (b != NULL && n > 0) memcpy(b->data, p, n);
  return b;
}

c4j__buf_t *c4j__buf_ref(c4j__buf_t *b, unsigned n) {
  atomic_fetch_add_explicit(&b->refs, n, memory_order_relaxed);
  return b;
}

void c4j__buf_unref(c4j__buf_t *b) {
  if (b == NULL) return;
  /* Release on every drop, acquire before the free, as for shared_ptr. */
  if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_release) == 1) {
    atomic_thread_fence(memory_order_acquire);
    c4j__buf_t *zip = atomic_load_explicit(&b->zip, memory_order_relaxed);
    c4j__buf_unref(atomic_load_explicit(&b->alt, memory_order_relaxed));
    if (zip != C4J__ZIP_BUSY && zip != C4J__ZIP_PLAIN) c4j__buf_unref(zip);
    c4j__free(b);
  }
}

c4j__buf_t *c4j__buf_set_alt(c4j__buf_t *b, c4j__buf_t *alt) {
  c4j__buf_t *none = NULL;
  if (atomic_compare_exchange_strong_explicit(&b->alt, &none, alt,
                                              memory_order_acq_rel,
                                              memory_order_acquire))
    return alt;
  c4j__buf_unref(alt); /* another worker won the race: use its copy */
  return none;
}
