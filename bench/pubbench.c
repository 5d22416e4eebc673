/* pubbench.c - a publisher for the benchmarks: POSTs RATE broadcasts a
 * second for SECONDS to a server's HTTP publish API, the same for every
 * server (bench/sustained.sh), and says whether it kept the pace.
 *
 *   pubbench -port PORT -path PATH -rate R -seconds S
 *            [-body FORMAT] [-header LINE] [-size B] [-seq0 N] [-conns K]
 *
 * Message i (seq0, seq0 + 1, ...) is due at start + i / R; its body is
 * FORMAT (default %s) with %s replaced by {"seq":SEQ,"ts":TS,"pad":"x.."}
 * of B bytes (64; the same message as wsbench's), TS the time it was due
 * in microseconds since the epoch: a server slow to take publishes shows
 * in the latency the subscribers measure, not only in this program's lag.
 * Up to K connections (default 16) each carry one request at a time,
 * kept alive as long as the server keeps them (a server answering
 * "Connection: close", or closing, gets a new connection for the next).
 * A message due while all K are busy waits for the first free one: its
 * lag (from due to written) is counted.
 *
 * One libuv loop; the schedule is checked every millisecond.  Prints one
 * line: "published: N of M due in T s, 2xx A, other E, failed F, lag p50
 * X ms, p99 Y ms, max Z ms, connections C, CPU U ms" and exits 0 (1 when a
 * request failed or was not answered 2xx).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

typedef struct pconn {
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_write_t wreq;
  int open;      /* connected (or connecting) and usable */
  int busy;      /* a request in flight */
  int closing;
  int keep;      /* the last answer allowed keep-alive */
  char out[4096];
  size_t out_len;
  char in[8192];
  size_t in_len;
} pconn_t;

static int port, rate, seconds, msg_size = 64, nconns = 16;
static long seq0;
static const char *path, *body = "%s", *header;
static pconn_t *conns;
static long n_due, n_sent, n_ok, n_other, n_failed, n_opened, next_i;
static int64_t start_us;
static int64_t *lags; /* per message: written - due, us */
static uv_timer_t timer;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t due_us(long i) { return start_us + i * 1000000 / rate; }

static void conn_start(pconn_t *c);
static void pump(void);

static void on_closed(uv_handle_t *h) {
  pconn_t *c = h->data;
  c->open = c->busy = c->closing = 0;
  c->in_len = 0;
  pump();
}

static void conn_close(pconn_t *c) {
  if (c->closing) return;
  c->closing = 1;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b) {
  pconn_t *c = h->data;
  b->base = c->in + c->in_len;
  b->len = sizeof(c->in) - 1 - c->in_len;
}

/* One whole answer in c->in (head and Content-Length body): counted, the
 * connection free again (or closed when the server said so). */
static int answer(pconn_t *c) {
  c->in[c->in_len] = 0;
  char *end = strstr(c->in, "\r\n\r\n");
  if (end == NULL) return 0;
  const char *cl = strcasestr(c->in, "\nContent-Length:");
  size_t head = (size_t)(end - c->in) + 4;
  size_t len = cl && cl < end ? (size_t)atol(cl + 16) : 0;
  if (c->in_len < head + len) return 0;
  int status = 0;
  sscanf(c->in, "HTTP/1.%*d %d", &status);
  if (status >= 200 && status < 300) n_ok++;
  else if (n_other++ < 3)
    fprintf(stderr, "pubbench: answered %.80s\n", c->in);
  c->keep = !strcasestr(c->in, "\nConnection: close") &&
            (!strncmp(c->in, "HTTP/1.1", 8));
  memmove(c->in, c->in + head + len, c->in_len - head - len);
  c->in_len -= head + len;
  c->busy = 0;
  return 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  pconn_t *c = s->data;
  if (nread < 0) {
    if (c->busy) n_failed++, c->busy = 0;
    conn_close(c);
    return;
  }
  c->in_len += (size_t)nread;
  if (answer(c) && !c->keep) conn_close(c);
  else if (c->in_len >= sizeof(c->in) - 1) {
    n_failed++;
    conn_close(c);
  }
  pump();
}

static void on_written(uv_write_t *w, int status) {
  pconn_t *c = w->data;
  if (status < 0 && c->busy) {
    n_failed++;
    c->busy = 0;
    conn_close(c);
  }
}

static void send_now(pconn_t *c) {
  uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
  c->wreq.data = c;
  if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
    n_failed++;
    c->busy = 0;
    conn_close(c);
  }
}

static void on_connect(uv_connect_t *r, int status) {
  pconn_t *c = r->data;
  if (status < 0) {
    if (n_failed++ < 3)
      fprintf(stderr, "pubbench: connect: %s\n", uv_strerror(status));
    c->busy = 0;
    conn_close(c);
    return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (c->busy) send_now(c);
}

static void conn_start(pconn_t *c) {
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", port, &a);
  uv_tcp_init(uv_default_loop(), &c->tcp);
  uv_tcp_nodelay(&c->tcp, 1);
  c->tcp.data = c;
  c->creq.data = c;
  c->open = 1;
  c->in_len = 0;
  n_opened++;
  if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&a, on_connect) < 0) {
    n_failed++;
    conn_close(c);
  }
}

/* Message i's request into c, written at once (or once connected). */
static void publish(pconn_t *c, long i) {
  char msg[2048], b[4096];
  int64_t due = due_us(i), now = now_us();
  long seq = seq0 + i;
  int n = snprintf(msg, sizeof(msg), "{\"seq\":%ld,\"ts\":%" PRId64 ",\"pad\":\"",
                   seq, due);
  while (n < msg_size - 2 && (size_t)n < sizeof(msg) - 3) msg[n++] = 'x';
  msg[n++] = '"';
  msg[n++] = '}';
  msg[n] = 0;
  const char *at = strstr(body, "%s");
  int bn = snprintf(b, sizeof(b), "%.*s%s%s", (int)(at - body), body, msg, at + 2);
  c->out_len = (size_t)snprintf(
      c->out, sizeof(c->out),
      "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s"
      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
      path, port, header ? header : "", header ? "\r\n" : "", bn, b);
  lags[i] = now - due;
  c->busy = 1;
  n_sent++;
  if (!c->open) conn_start(c);
  else send_now(c);
}

/* Every message due goes out on a free connection, oldest first. */
static void pump(void) {
  int64_t now = now_us();
  while (next_i < n_due && due_us(next_i) <= now) {
    pconn_t *free_c = NULL;
    for (int k = 0; k < nconns && free_c == NULL; k++)
      if (!conns[k].busy && !conns[k].closing) free_c = &conns[k];
    if (free_c == NULL) return;
    publish(free_c, next_i++);
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void tick(uv_timer_t *t) {
  static int64_t end_wait;
  pump();
  int idle = 1;
  for (int k = 0; k < nconns; k++) idle &= !conns[k].busy;
  if (next_i < n_due) return;
  if (!end_wait) end_wait = now_us() + 10000000; /* 10 s for the answers */
  if (!idle && now_us() < end_wait) return;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  qsort(lags, (size_t)n_sent, sizeof(lags[0]), cmp_i64);
  double t_s = (now_us() - start_us) / 1e6;
  printf("published: %ld of %ld due in %.2f s, 2xx %ld, other %ld, failed %ld, "
         "unanswered %ld, lag p50 %.2f ms, p99 %.2f ms, max %.2f ms, "
         "connections %ld, CPU %.0f ms\n", n_sent, n_due, t_s, n_ok, n_other,
         n_failed, n_sent - n_ok - n_other - n_failed,
         n_sent ? lags[n_sent / 2] / 1000.0 : 0,
         n_sent ? lags[(n_sent * 99 + 99) / 100 - 1] / 1000.0 : 0,
         n_sent ? lags[n_sent - 1] / 1000.0 : 0, n_opened,
         (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
  fflush(stdout);
  exit(n_ok == n_due ? 0 : 1);
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "-port")) port = atoi(v);
    else if (!strcmp(k, "-path")) path = v;
    else if (!strcmp(k, "-rate")) rate = atoi(v);
    else if (!strcmp(k, "-seconds")) seconds = atoi(v);
    else if (!strcmp(k, "-body")) body = v;
    else if (!strcmp(k, "-header")) header = v;
    else if (!strcmp(k, "-size")) msg_size = atoi(v);
    else if (!strcmp(k, "-seq0")) seq0 = atol(v);
    else if (!strcmp(k, "-conns")) nconns = atoi(v);
    else {
      fprintf(stderr, "pubbench: unknown option %s\n", k);
      return 2;
    }
  }
  if (!port || !path || rate <= 0 || seconds <= 0 || nconns <= 0 ||
      nconns > 1024 || !strstr(body, "%s") || msg_size < 0 || msg_size > 1024) {
    fprintf(stderr, "usage: pubbench -port P -path PATH -rate R -seconds S "
                    "[-body FORMAT] [-header LINE] [-size B] [-seq0 N] "
                    "[-conns K]\n");
    return 2;
  }
  n_due = (long)rate * seconds;
  lags = calloc((size_t)n_due, sizeof(*lags));
  conns = calloc((size_t)nconns, sizeof(*conns));
  start_us = now_us();
  uv_timer_init(uv_default_loop(), &timer);
  uv_timer_start(&timer, tick, 0, 1);
  return uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}
