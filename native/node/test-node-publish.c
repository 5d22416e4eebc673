/* test-node-publish.c - the publisher of test-node-outage.sh: POSTs
 * /api/publish to one node at a steady rate for a number of seconds, from
 * STREAMS threads that each publish in order (one request at a time, one
 * TCP connection each, as the API answers Connection: close), and prints
 * one line a publish, "<source> <n> <status>", where the data published
 * was {"s":"<source>","n":<n>}, <source> the prefix and the stream's
 * index, and <status> the HTTP status (0 when no answer came within 5 s).
 * A stream that falls behind its pace publishes at once until it catches
 * up.  Ends with a summary line on stderr.
 *   test-node-publish PORT API_KEY CHANNEL PREFIX RATE SECONDS STREAMS */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port, streams;
static const char *key, *channel, *prefix;
static double rate, seconds;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One POST; the answer's status, or 0. */
static int publish(const char *src, long n) {
  char body[256], req[1024], ans[512];
  struct sockaddr_in a;
  struct timeval tv = {5, 0};
  size_t got = 0;
  int fd, len, blen, one = 1, status = 0;
  blen = snprintf(body, sizeof body,
                  "{\"channel\":\"%s\",\"data\":{\"s\":\"%s\",\"n\":%ld}}",
                  channel, src, n);
  len = snprintf(req, sizeof req,
                 "POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "X-Api-Key: %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                 key, blen, body);
  if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) return 0;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
    close(fd);
    return 0;
  }
  /* The status line is all we need; read until it has come. */
  while (got < sizeof ans - 1) {
    ssize_t r = recv(fd, ans + got, sizeof ans - 1 - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    ans[got] = '\0';
    if (strstr(ans, "\r\n")) break;
  }
  ans[got] = '\0';
  if (strncmp(ans, "HTTP/1.1 ", 9) == 0) status = atoi(ans + 9);
  close(fd);
  return status;
}

static void *run(void *arg) {
  long idx = (long)arg, total = (long)(rate / streams * seconds);
  double gap_us = 1e6 * streams / rate;
  char src[64];
  uint64_t t0 = now_us();
  snprintf(src, sizeof src, "%s%ld", prefix, idx);
  for (long n = 1; n <= total; n++) {
    uint64_t due = t0 + (uint64_t)(gap_us * (double)(n - 1)), t = now_us();
    int status;
    if (due > t) usleep((useconds_t)(due - t));
    status = publish(src, n);
    pthread_mutex_lock(&out_lock);
    printf("%s %ld %d\n", src, n, status);
    pthread_mutex_unlock(&out_lock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t th[64];
  uint64_t t0;
  if (argc != 8) {
    fprintf(stderr,
            "usage: %s PORT API_KEY CHANNEL PREFIX RATE SECONDS STREAMS\n",
            argv[0]);
    return 2;
  }
  port = atoi(argv[1]);
  key = argv[2];
  channel = argv[3];
  prefix = argv[4];
  rate = atof(argv[5]);
  seconds = atof(argv[6]);
  streams = atoi(argv[7]);
  if (port <= 0 || rate <= 0 || seconds <= 0 || streams < 1 || streams > 64)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  t0 = now_us();
  for (long i = 0; i < streams; i++)
    if (pthread_create(&th[i], NULL, run, (void *)i) != 0) return 1;
  for (int i = 0; i < streams; i++) pthread_join(th[i], NULL);
  fprintf(stderr, "test-node-publish: %ld publishes in %.1f s\n",
          (long)(rate / streams * seconds) * streams,
          (double)(now_us() - t0) / 1e6);
  return 0;
}
