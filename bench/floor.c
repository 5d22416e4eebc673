/* floor.c - the kernel's floor for a broadcast fan-out on this machine:
 * plain write() of 100 bytes to N loopback TCP sockets (from 1 or more
 * threads) while another process reads them all through one epoll, as
 * bench/wsbench does.  No WebSocket, no JVM, no event loop: whatever the
 * engine's fan-out takes beyond this number is the engine's own cost.
 *
 *   floor [N=9900] [THREADS=1]      (N client + N server sockets in one
 *                                    process: stay under the fd limit)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 20

static int n = 9900, threads = 1;
static int *srv, *cli;
static char msg[100];

typedef struct { int from, to; } range_t;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void *writer(void *arg) {
  range_t *r = arg;
  for (int i = r->from; i < r->to; i++)
    if (write(srv[i], msg, sizeof(msg)) != sizeof(msg)) die("write");
  return NULL;
}

/* The reader process: reports on q each time every socket had a message. */
static void reader(int q) {
  int ep = epoll_create1(0);
  struct epoll_event ev[1024];
  char buf[4096];
  for (int i = 0; i < n; i++) {
    struct epoll_event e = { .events = EPOLLIN, .data.fd = cli[i] };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &e) != 0) die("epoll_ctl");
  }
  for (int r = 0; r < ROUNDS; r++) {
    int got = 0;
    while (got < n) {
      int k = epoll_wait(ep, ev, 1024, -1);
      for (int j = 0; j < k; j++)
        if (read(ev[j].data.fd, buf, sizeof(buf)) > 0) got++;
    }
    if (write(q, "x", 1) != 1) die("write");
  }
  _exit(0);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t alen = sizeof(a);
  double lat[ROUNDS];
  int l, q[2], one = 1;

  if (argc > 1) n = atoi(argv[1]);
  if (argc > 2) threads = atoi(argv[2]);
  if (n <= 0 || threads <= 0 || threads > 64) return 2;
  srv = calloc(n, sizeof(int));
  cli = calloc(n, sizeof(int));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  l = socket(AF_INET, SOCK_STREAM, 0);
  if (bind(l, (void *)&a, sizeof(a)) || listen(l, 4096) ||
      getsockname(l, (void *)&a, &alen))
    die("listen");
  for (int i = 0; i < n; i++) {
    struct sockaddr_in s = { .sin_family = AF_INET };
    s.sin_addr.s_addr = htonl(0x7f000002 + i / 5000); /* 127.0.0.2, ... */
    cli[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (cli[i] < 0 || bind(cli[i], (void *)&s, sizeof(s)) ||
        connect(cli[i], (void *)&a, sizeof(a)))
      die("connect");
    if ((srv[i] = accept(l, NULL, NULL)) < 0) die("accept");
    setsockopt(srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (pipe(q) != 0) die("pipe");
  if (fork() == 0) reader(q[1]);

  for (int r = 0; r < ROUNDS; r++) {
    pthread_t th[64];
    range_t rg[64];
    char c;
    usleep(250000);
    double t0 = now_ms();
    for (int k = 0; k < threads; k++) {
      rg[k].from = (int)((long)n * k / threads);
      rg[k].to = (int)((long)n * (k + 1) / threads);
      pthread_create(&th[k], NULL, writer, &rg[k]);
    }
    for (int k = 0; k < threads; k++) pthread_join(th[k], NULL);
    if (read(q[0], &c, 1) != 1) die("read");
    lat[r] = now_ms() - t0;
  }
  qsort(lat, ROUNDS, sizeof(lat[0]), cmp);
  printf("floor: %d sockets, %d writer threads, %d rounds: median %.1f ms, "
         "p99 %.1f ms\n", n, threads, ROUNDS, lat[ROUNDS / 2],
         lat[ROUNDS - 1]);
  wait(NULL);
  return 0;
}
