/* floorsrv.c - the machine's ceiling for bench/sustained.sh: the fastest
 * honest broadcast server, to hold the real ones against in the same run.
 * It speaks just enough for bench/wsbench.c -ctl and bench/pubbench.c:
 *
 *   GET <any> with Upgrade: websocket   101 with the right accept, then the
 *                                       socket only receives (no ticket, no
 *                                       first frame: wsbench -open 101)
 *   POST <any> with Content-Length      its body is the message: 200 with
 *                                       Content-Length: 0, kept alive
 *
 * Each publish becomes one WebSocket text frame, built once, and T writer
 * threads (the subscribers dealt out between them in turn) write it to
 * every subscriber with one plain send() a socket.  Frames published while
 * a thread's pass runs wait and go out together in its next pass; a socket
 * whose earlier bytes did not all fit keeps them and gets them with the
 * new ones in the same send() (or when epoll says it is writable).  No
 * per-socket work but the syscall: no history, one channel, no masking,
 * no ping, no close handshake, nothing read from a subscriber.
 *
 * It is a bench tool, not a server: no limits on who connects, no checks
 * beyond what the two clients send (anything else is answered 400 and
 * closed).
 *
 *   floorsrv PORT [THREADS=2]       (prints "listening on port PORT")
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* A subscriber's bytes that its socket did not take yet, beyond what the
 * kernel holds for it; more than this (some 3,700 frames of 64 bytes,
 * seconds behind at any rate the bench reaches) and it is closed: wsbench
 * counts it lost. */
#define MAX_PENDING (256 << 10)

typedef struct { char *p; size_t len, cap; } buf_t;

typedef struct {
  int fd;
  buf_t pending;
} sub_t;

typedef struct {
  pthread_t tid;
  int ep, wake;          /* its epoll; the eventfd that says "frames" */
  pthread_mutex_t mu;    /* guards batch and joined */
  buf_t batch;           /* frames published since its last pass */
  sub_t **joined;        /* subscribers handed over, not yet in subs */
  size_t n_joined, cap_joined;
  sub_t **subs;          /* its own: only this thread touches them */
  size_t n_subs, cap_subs;
} writer_t;

/* An HTTP connection of the main thread, until it upgrades or closes. */
typedef struct { int fd; size_t len; char in[16384]; } conn_t;

static writer_t *writers;
static int n_writers = 2, next_writer;

static void die(const char *what) { perror(what); exit(1); }

static void buf_add(buf_t *b, const void *p, size_t n) {
  if (n == 0) return;
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    if ((b->p = realloc(b->p, b->cap)) == NULL) die("realloc");
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

static void push(void ***arr, size_t *n, size_t *cap, void *x) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 1024;
    if ((*arr = realloc(*arr, *cap * sizeof(void *))) == NULL) die("realloc");
  }
  (*arr)[(*n)++] = x;
}

/* ---- The writers ---------------------------------------------------------- */

/* Subscribers this writer thread closed since its last sweep. */
static __thread int n_closed;

static void sub_close(sub_t *s) {
  close(s->fd);
  s->fd = -1;
  n_closed++;
}

/* One send() of what s holds plus frames (not kept when they all fit):
 * the rest stays pending. */
static void sub_write(sub_t *s, const char *frames, size_t n) {
  if (s->fd < 0) return;
  if (s->pending.len) {
    if (s->pending.len + n > MAX_PENDING) { sub_close(s); return; }
    buf_add(&s->pending, frames, n);
    frames = s->pending.p;
    n = s->pending.len;
  }
  if (n == 0) return;
  ssize_t w = send(s->fd, frames, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w < 0) {
    if (errno != EAGAIN) { sub_close(s); return; }
    w = 0;
  }
  size_t rest = n - (size_t)w;
  if (s->pending.len) {
    memmove(s->pending.p, s->pending.p + w, rest);
    s->pending.len = rest;
  } else if (rest)
    buf_add(&s->pending, frames + w, rest);
}

static void *writer_run(void *arg) {
  writer_t *me = arg;
  buf_t frames = {0};
  struct epoll_event ev[256];
  for (;;) {
    int n = epoll_wait(me->ep, ev, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      if (ev[i].data.ptr == NULL) {     /* the eventfd */
        uint64_t k;
        if (read(me->wake, &k, sizeof(k)) < 0 && errno != EAGAIN) die("eventfd");
      } else if (ev[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        sub_close(ev[i].data.ptr);
      else
        sub_write(ev[i].data.ptr, NULL, 0);
    }
    /* The frames and the subscribers handed over since the last pass (the
     * frames whether or not this round saw the eventfd: it may come late). */
    pthread_mutex_lock(&me->mu);
    buf_t t = me->batch;
    me->batch = frames;
    frames = t;
    for (size_t i = 0; i < me->n_joined; i++)
      push((void ***)&me->subs, &me->n_subs, &me->cap_subs, me->joined[i]);
    me->n_joined = 0;
    pthread_mutex_unlock(&me->mu);
    if (frames.len)
      for (size_t i = 0; i < me->n_subs; i++)
        sub_write(me->subs[i], frames.p, frames.len);
    frames.len = 0;
    /* The closed ones go (no event of this round refers to them now). */
    if (n_closed == 0) continue;
    size_t k = 0;
    for (size_t i = 0; i < me->n_subs; i++)
      if (me->subs[i]->fd >= 0) me->subs[k++] = me->subs[i];
      else free(me->subs[i]->pending.p), free(me->subs[i]);
    me->n_subs = k;
    n_closed = 0;
  }
  return NULL;
}

/* ---- The main thread: accepts, upgrades, publishes ------------------------ */

/* The frame of one message goes to every writer, and each is woken. */
static void publish(const char *msg, size_t n) {
  unsigned char head[4] = {0x81};
  size_t h = 2;
  if (n < 126) head[1] = (unsigned char)n;
  else head[1] = 126, head[2] = (unsigned char)(n >> 8), head[3] = (unsigned char)n, h = 4;
  uint64_t one = 1;
  for (int i = 0; i < n_writers; i++) {
    writer_t *w = &writers[i];
    pthread_mutex_lock(&w->mu);
    buf_add(&w->batch, head, h);
    buf_add(&w->batch, msg, n);
    pthread_mutex_unlock(&w->mu);
    if (write(w->wake, &one, sizeof(one)) < 0) die("eventfd");
  }
}

/* The 101 for key, written at once (a new socket's buffer is empty); the
 * socket then belongs to the next writer and c is freed: 0; or -1 (c
 * untouched) to close. */
static int upgrade(int ep, conn_t *c, const char *key, size_t klen) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char sha[SHA_DIGEST_LENGTH], acc[64], cat[128];
  char out[256];
  if (klen > 64) return -1;
  memcpy(cat, key, klen);
  memcpy(cat + klen, guid, sizeof(guid) - 1);
  SHA1(cat, klen + sizeof(guid) - 1, sha);
  EVP_EncodeBlock(acc, sha, sizeof(sha));
  int n = snprintf(out, sizeof(out), "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
  if (send(c->fd, out, (size_t)n, MSG_NOSIGNAL) != n) return -1;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  writer_t *w = &writers[next_writer++ % n_writers];
  sub_t *s = calloc(1, sizeof(*s));
  s->fd = c->fd;
  free(c);
  /* Writable again after a full buffer, or gone: edge-triggered, so no
   * event while its writes fit. */
  struct epoll_event ev = {EPOLLOUT | EPOLLET | EPOLLRDHUP, {.ptr = s}};
  if (epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
    close(s->fd);
    free(s);
    return 0;
  }
  pthread_mutex_lock(&w->mu);
  push((void ***)&w->joined, &w->n_joined, &w->cap_joined, s);
  pthread_mutex_unlock(&w->mu);
  return 0;
}

/* Whole requests in c->in handled: 1 when the connection went to a
 * writer, 0 to read on, -1 to close. */
static int requests(int ep, conn_t *c) {
  static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  for (;;) {
    c->in[c->len] = 0;
    char *end = strstr(c->in, "\r\n\r\n");
    if (end == NULL) return c->len < sizeof(c->in) - 1 ? 0 : -1;
    size_t head = (size_t)(end - c->in) + 4;
    *end = 0;
    const char *key = strcasestr(c->in, "\nSec-WebSocket-Key:");
    if (!strncmp(c->in, "GET ", 4) && strcasestr(c->in, "\nUpgrade: websocket") && key) {
      key += 19;
      key += strspn(key, " ");
      return upgrade(ep, c, key, strcspn(key, " \r\n")) < 0 ? -1 : 1;
    }
    const char *cl = strcasestr(c->in, "\nContent-Length:");
    size_t len = cl ? (size_t)atol(cl + 16) : 0;
    if (strncmp(c->in, "POST ", 5) || !cl || head + len > sizeof(c->in) - 1 ||
        len > 65535)
      return -1;
    *end = '\r';
    if (c->len < head + len) return 0;
    publish(c->in + head, len);
    if (send(c->fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) != sizeof(ok) - 1) return -1;
    memmove(c->in, c->in + head + len, c->len - head - len);
    c->len -= head + len;
  }
}

int main(int argc, char **argv) {
  if (argc < 2 || atoi(argv[1]) <= 0 || (argc > 2 && atoi(argv[2]) <= 0)) {
    fprintf(stderr, "usage: floorsrv PORT [THREADS=2]\n");
    return 2;
  }
  if (argc > 2) n_writers = atoi(argv[2]);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  signal(SIGPIPE, SIG_IGN);

  writers = calloc((size_t)n_writers, sizeof(*writers));
  for (int i = 0; i < n_writers; i++) {
    writer_t *w = &writers[i];
    pthread_mutex_init(&w->mu, NULL);
    if ((w->ep = epoll_create1(0)) < 0 || (w->wake = eventfd(0, EFD_NONBLOCK)) < 0)
      die("epoll/eventfd");
    struct epoll_event ev = {EPOLLIN, {.ptr = NULL}};
    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &ev);
    pthread_create(&w->tid, NULL, writer_run, w);
  }

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0)
    die("listen");
  int ep = epoll_create1(0);
  struct epoll_event lev = {EPOLLIN, {.ptr = NULL}}, ev[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  fprintf(stderr, "floorsrv: %d writer threads, listening on port %s\n", n_writers, argv[1]);

  for (;;) {
    int n = epoll_wait(ep, ev, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      conn_t *c = ev[i].data.ptr;
      if (c == NULL) {                    /* the listener */
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          c = malloc(sizeof(*c));
          c->fd = fd;
          c->len = 0;
          struct epoll_event cev = {EPOLLIN, {.ptr = c}};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      ssize_t r = read(c->fd, c->in + c->len, sizeof(c->in) - 1 - c->len);
      if (r < 0 && errno == EAGAIN) continue;
      int rc = r <= 0 ? -1 : (c->len += (size_t)r, requests(ep, c));
      if (rc < 0) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";
        if (r > 0 && send(c->fd, bad, sizeof(bad) - 1, MSG_NOSIGNAL) < 0) {}
        close(c->fd);
        free(c);
      }
    }
  }
}
