/* common.h - what every file of the core shares: allocation, clocks, the
 * configuration check and a few small macros.  Internal names use c4j__.
 */
#ifndef C4J_COMMON_H
#define C4J_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "c4j.h"

#define C4J__CONTAINER_OF(ptr, type, member)                                 \
  ((type *)((char *)(ptr) - offsetof(type, member)))

/* Lengths every layer agrees on: a channel's epoch (base64url of 6 random
 * bytes, the same on every node of a cluster) and a node's id on the hub
 * (like a connection id). */
#define C4J__EPOCH_LEN 8
#define C4J__NODE_ID_LEN 22

/* Thin wrappers over libc so that one place can count or fail allocations
 * later.  c4j__free(NULL) is a no-op. */
void *c4j__malloc(size_t n);
void *c4j__calloc(size_t n, size_t size);
void *c4j__realloc(void *p, size_t n);
void c4j__free(void *p);
/* For tests: the next c4j__malloc, c4j__calloc or c4j__realloc on the
 * thread named `thread` (pthread_setname_np: "c4j-worker-0", ...) fails,
 * once, so that a test can walk an out-of-memory path. */
void c4j__alloc_fail_next(const char *thread);
/* Copies n bytes of s and a NUL; NULL when out of memory. */
char *c4j__strndup(const char *s, size_t n);

/* Monotonic milliseconds (for timeouts) and wall-clock milliseconds and
 * seconds since the epoch (for frames and ticket expiry). */
uint64_t c4j__mono_ms(void);
int64_t c4j__wall_ms(void);

/* Checks every field of cfg.  Returns 0, or C4J_EINVAL_CONFIG after setting
 * the thread-local text that c4j_config_error() returns. */
int c4j__config_check(const c4j_config_t *cfg);
void c4j__config_set_error(const char *text);

/* Fills n bytes with cryptographically strong randomness; 0 or -errno. */
int c4j__random(void *out, size_t n);

#endif /* C4J_COMMON_H */
