/* pending.h - the engine-wide register of unfinished requests by client
 * address: how many sockets of each address have not yet delivered their
 * whole request (the head, and for POST /cmd and /api/ the body), under
 * one mutex.  No I/O: the listener counts a socket in when it admits it
 * (and there refuses an address over its cap), the connection layer
 * counts it out once its request is complete or it closes.
 *
 * An address is an IPv4 address (an IPv4-mapped IPv6 one counts as IPv4)
 * or the /64 prefix of an IPv6 one, since one IPv6 client usually holds a
 * whole /64.  Addresses are told apart by a 32-bit hash keyed with a
 * random seed per register: two addresses share a count only by a chance
 * an attacker cannot steer.
 */
#ifndef C4J_PENDING_H
#define C4J_PENDING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct c4j__pending_entry_s c4j__pending_entry_t;

/* Invariant: an entry exists exactly while its count is above 0; `total`
 * is the sum of the counts (read without the lock). */
typedef struct {
  uv_mutex_t lock;
  c4j__pending_entry_t **buckets;
  size_t nbuckets, nentries;
  uint64_t seed[2];
  atomic_int total;
} c4j__pending_t;

/* Returns 0, or C4J_ENOMEM / a libuv code with nothing to free. */
int c4j__pending_init(c4j__pending_t *p);
void c4j__pending_free(c4j__pending_t *p);

/* The key of the client address sa (AF_INET or AF_INET6; any other family
 * is one address of its own). */
uint32_t c4j__pending_key(const c4j__pending_t *p, const struct sockaddr *sa);

/* Counts one more unfinished request of key, unless cap > 0 and key has
 * cap of them already.  Returns 1 (counted), 0 (refused: nothing counted)
 * or C4J_ENOMEM (nothing counted). */
int c4j__pending_add(c4j__pending_t *p, uint32_t key, int cap);
/* Counts one unfinished request of key out (one that add counted). */
void c4j__pending_remove(c4j__pending_t *p, uint32_t key);
/* How many unfinished requests key has now. */
int c4j__pending_count(c4j__pending_t *p, uint32_t key);

static inline int c4j__pending_total(c4j__pending_t *p) {
  return atomic_load(&p->total);
}

#endif /* C4J_PENDING_H */
