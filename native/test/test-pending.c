/* test-pending.c - the register of unfinished requests by address: keys
 * (IPv4 and IPv4-mapped IPv6 alike, an IPv6 /64 one address), counts in
 * and out with the cap, entries freed with their last request, growth
 * past the first buckets, out of memory. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "c4j.h"
#include "common.h"
#include "pending.h"
#include "test.h"

static uint32_t key4(c4j__pending_t *p, const char *ip) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons(1234);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return c4j__pending_key(p, (struct sockaddr *)&a);
}

static uint32_t key6(c4j__pending_t *p, const char *ip, int port) {
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof(a));
  a.sin6_family = AF_INET6;
  a.sin6_port = htons((uint16_t)port);
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return c4j__pending_key(p, (struct sockaddr *)&a);
}

TEST(pending_keys) {
  c4j__pending_t p, q;
  CHECK_EQ(c4j__pending_init(&p), 0);
  CHECK_EQ(c4j__pending_init(&q), 0);
  /* One address whatever the port or spelling; others differ. */
  CHECK_EQ(key4(&p, "127.0.0.2"), key6(&p, "::ffff:127.0.0.2", 9));
  CHECK(key4(&p, "127.0.0.2") != key4(&p, "127.0.0.3"));
  CHECK(key4(&p, "10.0.0.1") != key4(&p, "11.0.0.1"));
  /* An IPv6 /64 is one client; the next /64 is another. */
  CHECK_EQ(key6(&p, "2001:db8:1:2::1", 1), key6(&p, "2001:db8:1:2:ffff::9", 2));
  CHECK(key6(&p, "2001:db8:1:2::1", 1) != key6(&p, "2001:db8:1:3::1", 1));
  /* The seed is the register's own. */
  CHECK(key4(&p, "127.0.0.2") != key4(&q, "127.0.0.2") ||
        key4(&p, "127.0.0.3") != key4(&q, "127.0.0.3"));
  c4j__pending_free(&p);
  c4j__pending_free(&q);
}

TEST(pending_counts_and_cap) {
  c4j__pending_t p;
  uint32_t a, b;
  CHECK_EQ(c4j__pending_init(&p), 0);
  a = key4(&p, "192.0.2.1");
  b = key4(&p, "192.0.2.2");
  for (int i = 0; i < 3; i++) CHECK_EQ(c4j__pending_add(&p, a, 3), 1);
  CHECK_EQ(c4j__pending_add(&p, a, 3), 0); /* at the cap */
  CHECK_EQ(c4j__pending_count(&p, a), 3);
  CHECK_EQ(c4j__pending_add(&p, a, 0), 1); /* no cap */
  CHECK_EQ(c4j__pending_add(&p, b, 3), 1); /* another address */
  CHECK_EQ(c4j__pending_total(&p), 5);
  c4j__pending_remove(&p, a);
  c4j__pending_remove(&p, a);
  CHECK_EQ(c4j__pending_add(&p, a, 3), 1); /* room again */
  CHECK_EQ(c4j__pending_count(&p, a), 3);
  while (c4j__pending_count(&p, a) > 0) c4j__pending_remove(&p, a);
  c4j__pending_remove(&p, b);
  CHECK_EQ(c4j__pending_total(&p), 0);
  CHECK_EQ(p.nentries, 0);
  c4j__pending_remove(&p, b); /* not counted: nothing happens */
  CHECK_EQ(c4j__pending_total(&p), 0);
  c4j__pending_free(&p);
}

/* Many addresses: the buckets grow, every count stays its own. */
TEST(pending_many_addresses) {
  c4j__pending_t p;
  char ip[32];
  CHECK_EQ(c4j__pending_init(&p), 0);
  for (int i = 0; i < 5000; i++) {
    snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
    CHECK_EQ(c4j__pending_add(&p, key4(&p, ip), 2), 1);
    CHECK_EQ(c4j__pending_add(&p, key4(&p, ip), 2), 1);
  }
  CHECK(p.nbuckets >= 5000);
  CHECK_EQ(c4j__pending_total(&p), 10000);
  for (int i = 0; i < 5000; i++) {
    snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
    CHECK_EQ(c4j__pending_add(&p, key4(&p, ip), 2), 0);
    c4j__pending_remove(&p, key4(&p, ip));
  }
  CHECK_EQ(c4j__pending_total(&p), 5000);
  CHECK_EQ(p.nentries, 5000);
  c4j__pending_free(&p); /* frees what is left */
}

TEST(pending_out_of_memory) {
  c4j__pending_t p;
  char name[16];
  CHECK_EQ(c4j__pending_init(&p), 0);
  pthread_getname_np(pthread_self(), name, sizeof(name));
  c4j__alloc_fail_next(name);
  CHECK_EQ(c4j__pending_add(&p, 7, 4), C4J_ENOMEM);
  CHECK_EQ(c4j__pending_total(&p), 0);
  CHECK_EQ(c4j__pending_add(&p, 7, 4), 1);
  c4j__pending_remove(&p, 7);
  c4j__pending_free(&p);
}

TEST_MAIN(T(pending_keys), T(pending_counts_and_cap),
          T(pending_many_addresses), T(pending_out_of_memory))
