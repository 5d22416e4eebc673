/* test-slowloris.c - the unfinished requests under load (listener.c,
 * conn.c): a thread holds slow sockets from 127.0.0.2, 127.0.0.3, ... (a
 * connect, then nothing, or the start of a request and one byte every
 * 500 ms; reconnected at once whenever the engine closes one) while
 * honest clients from 127.0.0.1 attach over WebSocket, one every 100 ms,
 * each sending its request at once.  Every honest client must get its
 * 101 and its open frame, the first time, and the attack must have bitten
 * (the engine refused or evicted some of it).  Outcomes are asserted, not
 * durations.
 *
 *   test-slowloris                       (make test) two small scenarios:
 *                                        300 slow sockets against
 *                                        max_conns 200, from 10 addresses
 *                                        (the cap per address binds) and
 *                                        from 100 (only making room does)
 *   test-slowloris SLOW MAX HONEST [GAP] the same at that scale, an
 *                                        honest client every GAP ms (make
 *                                        stress-slowloris: 1500 1000 30
 *                                        400, past the 10 s deadline)
 *
 * It prints, per scenario, the honest clients served and what the engine
 * refused.
 */
#include <stdatomic.h>
#include <sys/epoll.h>

#include "engine-client.h"

#define TRICKLE_MS 500

typedef struct {
  int fd;
  int connected;
  uint64_t next;         /* when it sends its next byte, 0: never */
} slow_t;

typedef struct {
  int port, n, naddr;
  slow_t *s;
  int ep;
  atomic_int stop;
  pthread_t thread;
  /* What the slow sockets were answered (the thread's own). */
  uint64_t opened, s408, s429, s503, other, closed;
} attack_t;

static void slow_open(attack_t *a, int i) {
  slow_t *s = &a->s[i];
  struct sockaddr_in from, to;
  struct epoll_event ev;
  char ip[32];
  int one = 1;
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  s->connected = 0;
  s->next = 0;
  if (s->fd < 0) return;
  /* The port is chosen at connect, per destination: many sockets share
   * an address without running out of ports. */
  setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  snprintf(ip, sizeof(ip), "127.0.0.%d", 2 + i % a->naddr);
  memset(&from, 0, sizeof(from));
  from.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &from.sin_addr);
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)a->port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s->fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
      (connect(s->fd, (struct sockaddr *)&to, sizeof(to)) != 0 &&
       errno != EINPROGRESS)) {
    close(s->fd);
    s->fd = -1;
    return;
  }
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u32 = (uint32_t)i;
  epoll_ctl(a->ep, EPOLL_CTL_ADD, s->fd, &ev);
  a->opened++;
}

/* The engine answered or closed slow socket i: note what, open it again. */
static void slow_closed(attack_t *a, int i) {
  slow_t *s = &a->s[i];
  char buf[1024];
  int status = 0;
  ssize_t n = recv(s->fd, buf, sizeof(buf) - 1, 0);
  if (n > 0) {
    buf[n] = '\0';
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) status = -1;
  }
  if (status == 408) a->s408++;
  else if (status == 429) a->s429++;
  else if (status == 503) a->s503++;
  else if (status != 0) a->other++;
  else a->closed++;
  close(s->fd);
  s->fd = -1;
  slow_open(a, i);
}

static void *attack_main(void *arg) {
  attack_t *a = arg;
  struct epoll_event evs[256];
  for (int i = 0; i < a->n; i++) slow_open(a, i);
  while (!atomic_load(&a->stop)) {
    int n = epoll_wait(a->ep, evs, 256, 50);
    uint64_t now = ms_now();
    for (int k = 0; k < n; k++) {
      int i = (int)evs[k].data.u32;
      slow_t *s = &a->s[i];
      if (s->fd < 0) continue;
      if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        slow_closed(a, i);
      } else if ((evs[k].events & EPOLLOUT) && !s->connected) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
        ev.data.u32 = (uint32_t)i;
        epoll_ctl(a->ep, EPOLL_CTL_MOD, s->fd, &ev);
        s->connected = 1;
        /* Half say nothing at all; the others start a request. */
        if (i % 2 == 1) {
          (void)!send(s->fd, "GET /ws?ticket=", 15, MSG_NOSIGNAL);
          s->next = now + TRICKLE_MS;
        }
      }
    }
    for (int i = 0; i < a->n; i++) {
      slow_t *s = &a->s[i];
      if (s->fd < 0) {
        slow_open(a, i); /* out of descriptors or ports a moment ago */
      } else if (s->connected && s->next != 0 && s->next <= now) {
        (void)!send(s->fd, "x", 1, MSG_NOSIGNAL);
        s->next = now + TRICKLE_MS;
      }
    }
  }
  for (int i = 0; i < a->n; i++)
    if (a->s[i].fd >= 0) close(a->s[i].fd);
  return NULL;
}

/* One scenario: slow sockets from naddr addresses against max_conns while
 * `honest` clients attach.  Returns how many of them were served. */
static int scenario(int slow, int naddr, int max_conns, int honest,
                    int gap_ms) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  attack_t *a = calloc(1, sizeof(*a));
  client_t **h = calloc((size_t)honest, sizeof(*h));
  c4j_stats_t st;
  char text[512];
  int served = 0, bit = 0;
  uint64_t t0;
  base_config(&cfg);
  cfg.max_conns = max_conns; /* the defaults otherwise: 10 s, 16 */
  e = start(&cfg);
  if (e == NULL) return -1;
  a->port = c4j_engine_port(e);
  a->n = slow;
  a->naddr = naddr;
  a->s = calloc((size_t)slow, sizeof(*a->s));
  a->ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK_EQ(pthread_create(&a->thread, NULL, attack_main, a), 0);
  /* The attack bites first: places refused or taken back. */
  for (t0 = ms_now(); ms_now() - t0 < 15000 && !bit; usleep(20000)) {
    c4j_engine_stats(e, &st);
    bit = st.refused_address + st.evicted + st.refused_full > 0;
  }
  CHECK(bit);
  for (int i = 0; i < honest; i++) {
    char cid[32];
    snprintf(cid, sizeof(cid), "honest%d", i);
    h[i] = calloc(1, sizeof(*h[i]));
    if (attach(e, h[i], cid, "[]") == 101 &&
        read_text(h[i], text, sizeof(text)) == 0 &&
        strncmp(text, "{\"t\":\"open\"", 11) == 0)
      served++;
    else
      fprintf(stderr, "  honest client %d: %d %s\n", i, h[i]->status,
              h[i]->body);
    usleep((useconds_t)gap_ms * 1000);
  }
  c4j_engine_stats(e, &st);
  atomic_store(&a->stop, 1);
  pthread_join(a->thread, NULL);
  printf("slowloris: %d of %d honest clients served; %d slow sockets from "
         "%d addresses, max_conns %d, over %.1f s: the engine held %llu "
         "unfinished and %llu attached, refused %llu for their address "
         "(429), %llu to make room (503), %llu full (503), %llu timed out "
         "early (408), %llu at the full deadline; the slow sockets were "
         "opened %llu times\n",
         served, honest, slow, naddr, max_conns, (ms_now() - t0) / 1000.0,
         (unsigned long long)st.pending, (unsigned long long)st.conns,
         (unsigned long long)st.refused_address,
         (unsigned long long)st.evicted, (unsigned long long)st.refused_full,
         (unsigned long long)st.timeouts_short,
         (unsigned long long)st.timeouts, (unsigned long long)a->opened);
  for (int i = 0; i < honest; i++) {
    client_close(h[i]);
    free(h[i]);
  }
  close(a->ep);
  free(a->s);
  free(a);
  free(h);
  finish(e);
  return served;
}

TEST(slowloris_few_addresses) {
  CHECK_EQ(scenario(300, 10, 200, 10, 100), 10);
}

TEST(slowloris_many_addresses) {
  CHECK_EQ(scenario(300, 100, 200, 10, 100), 10);
}

static int run_default(void) {
  TEST_MAIN_BODY(T(slowloris_few_addresses), T(slowloris_many_addresses));
}

int main(int argc, char **argv) {
  int slow, max, honest, gap = 100, ok = 1;
  if (argc == 1) return run_default();
  if ((argc != 4 && argc != 5) || (slow = atoi(argv[1])) < 1 ||
      (max = atoi(argv[2])) < 1 || (honest = atoi(argv[3])) < 1 ||
      slow / 10 > 253 || (argc == 5 && (gap = atoi(argv[4])) < 0)) {
    fprintf(stderr, "usage: %s [SLOW MAX_CONNS HONEST [GAP_MS]]\n", argv[0]);
    return 2;
  }
  /* From few addresses (the cap binds), then from so many that each
   * stays under it (only making room helps). */
  ok &= scenario(slow, 10, max, honest, gap) == honest;
  ok &= scenario(slow, slow / 10 > 10 ? slow / 10 : 10, max, honest, gap) ==
        honest;
  ok &= test_failed_checks == 0;
  printf("slowloris: %s\n", ok ? "every honest client served" : "FAILED");
  return ok ? 0 : 1;
}
