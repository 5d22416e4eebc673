/* hubbench.c - the load client of the hub benchmarks (bench/hub-latency.sh,
 * bench/hub-conns.sh): subscribers on one comet4j-node, a publisher on
 * another, both one libuv loop.
 *
 *   hubbench sub -p PORT -s SECRET -n N [-ch CHANNEL] [-m MESSAGES]
 *                [-addr K] [-per-addr 5000] [-idle MS] [-T SECONDS]
 *                [-ready-T SECONDS] [-hist FILE] [-stay 1]
 *     Mints N HS256 tickets with SECRET (channel CHANNEL, default "bench"),
 *     attaches N WebSocket clients bound to 127.0.K/256.K%256, then the
 *     next address, ... (per-addr clients each), prints "ready N of N
 *     open" once every client opened or failed (a refused handshake or a
 *     lost connection is a failure, the first three said on stderr), then
 *     counts the broadcasts {"seq":S,"ts":MICROSECONDS} each client gets
 *     and the delay now - ts of every delivery.  With -ready-T, clients
 *     that neither opened nor failed that long after the start are closed
 *     and said in a "stuck:" line, and the ready line comes then.  The
 *     ready line ends with ", F failed, S stuck; rss A kB at start, B kB"
 *     (this process's).  Ends when every client has MESSAGES of them, or
 *     after MS (default 3000) without one once one came, or after SECONDS
 *     (default 120), or on SIGTERM; prints one "sub:" line and, with
 *     -hist, writes the delays' histogram to FILE ("UPPER_US COUNT" lines,
 *     10 us buckets, the empty ones left out) for a caller that merges
 *     several.  With -stay 1 it reports then and stays connected (no
 *     client's close in the way of the others' deliveries) until SIGTERM
 *     or SECONDS.  It answers the server's pings.
 *
 *   hubbench pub -p PORT -k APIKEY [-ch CHANNEL] [-r RATE] [-d SECONDS]
 *                [-count N] [-c CONCURRENCY] [-addr K]
 *     POSTs /api/publish {"channel":CHANNEL,"data":{"seq":S,"ts":now}} at
 *     RATE a second for SECONDS (or N in all), at most CONCURRENCY at once
 *     (the API closes every connection: one connection per request, bound
 *     round-robin to 16 source addresses from 127.0.0.K so the ephemeral
 *     ports last); prints one "pub:" line.
 *
 * The WebSocket side is the shared test client's codec and reader
 * (native/test/wsclient.h) under this one libuv loop.
 */
#include <inttypes.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "../native/test/wsclient.h"

static int port, n_clients, messages = 1, per_addr = 5000, addr_base = 2;
static int idle_ms = 3000, limit_s = 120, ready_s, stay, reported;
static const char *secret, *api_key, *channel = "bench", *hist_path;
static uv_loop_t *loop;
static int64_t start_us;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void src_addr(int k, struct sockaddr_in *a) {
  char ip[32];
  snprintf(ip, sizeof ip, "127.0.%d.%d", k / 256, k % 256);
  uv_ip4_addr(ip, 0, a);
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char slab[65536];
  (void)h; (void)size;
  buf->base = slab;
  buf->len = sizeof slab;
}

/* ---- tickets ------------------------------------------------------------ */

/* A ticket for a fresh random connection id, valid for an hour. */
static char *mint(void) {
  unsigned char id[16];
  char cid[32], claims[256];
  static char tok[1024];
  RAND_bytes(id, sizeof id);
  wsc_b64url(id, sizeof id, cid);
  snprintf(claims, sizeof claims, "{\"cid\":\"%s\",\"exp\":%ld,\"ch\":[\"%s\"]}",
           cid, (long)time(NULL) + 3600, channel);
  if (wsc_ticket(secret, strlen(secret), claims, tok, sizeof tok) < 0) {
    fprintf(stderr, "hubbench: ticket too long\n");
    exit(1);
  }
  return tok;
}

/* ---- subscribers -------------------------------------------------------- */

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  uv_write_t wreq;
  char *request;
  int opened, closed;
  int got;          /* broadcasts received */
  wsc_reader_t rd;  /* the 101, then the server's frames */
} client_t;

static client_t *clients;
static int n_open, n_failed, n_stuck, n_started, n_ready_printed;
static int64_t n_deliveries, last_msg_us;
static long rss_start_kb;
/* Delivery delays in 10 us buckets up to 60 s; beyond goes in the last
 * (only the buckets a delay falls in are touched). */
#define BUCKETS 6000000
static uint32_t *hist;
static int64_t max_delay_us, min_delay_us = INT64_MAX;
#define MAX_CONNECTING 256

static void start_client(int i);

static void ramp(void) {
  while (n_started < n_clients &&
         n_started - n_open - n_failed - n_stuck < MAX_CONNECTING)
    start_client(n_started++);
}

static void on_text(client_t *c, const char *p, size_t n) {
  if (!c->opened) {
    if (memmem(p, n, "\"open\"", 6)) {
      c->opened = 1;
      n_open++;
      ramp();
    }
    return;
  }
  const char *s = memmem(p, n, "\"seq\":", 6);
  const char *t = memmem(p, n, "\"ts\":", 5);
  if (!s || !t) return;
  int64_t now = now_us();
  int64_t d = now - strtoll(t + 5, NULL, 10);
  if (d < 0) d = 0;
  if (d > max_delay_us) max_delay_us = d;
  if (d < min_delay_us) min_delay_us = d;
  int64_t b = d / 10;
  hist[b >= BUCKETS ? BUCKETS - 1 : b]++;
  c->got++;
  n_deliveries++;
  last_msg_us = now;
}

static void pong_written(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

/* Answers a server ping (a client frame is masked; the mask is zero), so
 * that an idle client is not closed after Comet.Timeout. */
static void pong(client_t *c, const uint8_t *p, size_t n) {
  static const uint8_t zero[4];
  if (n > 125 || c->closed) return;
  uv_write_t *w = malloc(sizeof *w + 6 + n);
  uint8_t *f = (uint8_t *)(w + 1);
  size_t len = wsc_frame_write(f, WSC_OP_PONG, 1, zero, p, n);
  uv_buf_t b = uv_buf_init((char *)f, (unsigned)len);
  if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, pong_written) < 0) free(w);
}

/* One whole frame from the server. */
static void on_frame(void *arg, const wsc_frame_t *f) {
  client_t *c = arg;
  if (f->op == WSC_OP_TEXT) on_text(c, (const char *)f->data, f->len);
  if (f->op == WSC_OP_PING) pong(c, f->data, f->len);
  if (f->op == WSC_OP_CLOSE && f->len >= 2 && n_failed < 3)
    fprintf(stderr, "hubbench: server closed with %d %.*s\n",
            (f->data[0] << 8) | f->data[1], (int)f->len - 2,
            (const char *)f->data + 2);
}

static long self_rss_kb(void) {
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

/* The client is lost (refused, reset, closed): counted as failed, the
 * first three said, its socket closed, the next one started. */
static void fail(client_t *c, const char *what, const char *why) {
  if (c->closed) return;
  if (c->opened) n_open--;
  n_failed++;
  c->closed = 1;
  if (n_failed <= 3) fprintf(stderr, "hubbench: %s: %s\n", what, why);
  uv_close((uv_handle_t *)&c->tcp, NULL);
  ramp();
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client_t *c = s->data;
  int rc;
  char why[96];
  if (nread < 0) {
    fail(c, "connection closed", uv_strerror((int)nread));
    if (n_failed <= 3)
      fprintf(stderr, "hubbench: (%s)\n",
              c->rd.upgraded ? "after 101" : "before 101");
    return;
  }
  rc = wsc_reader_feed(&c->rd, buf->base, (size_t)nread, on_frame, c);
  if (rc == WSC_EREFUSED) {
    size_t n = c->rd.len < 60 ? c->rd.len : 60;
    snprintf(why, sizeof why, "%.*s", (int)n, (char *)c->rd.buf);
    why[strcspn(why, "\r\n")] = 0;
    fail(c, "handshake refused", why);
  } else if (rc < 0) {
    fail(c, "bad answer", wsc_strerror(rc));
  }
}

static void on_written(uv_write_t *w, int status) {
  client_t *c = w->data;
  (void)status;
  free(c->request);
  c->request = NULL;
}

static void on_connect(uv_connect_t *req, int status) {
  client_t *c = req->data;
  if (c->closed) return; /* given up on (-ready-T) */
  if (status < 0) {
    fail(c, "connect", uv_strerror(status));
    return;
  }
  uv_buf_t b = uv_buf_init(c->request, (unsigned)strlen(c->request));
  c->wreq.data = c;
  uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written);
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void start_client(int i) {
  client_t *c = &clients[i];
  struct sockaddr_in src, dst;
  src_addr(addr_base + i / per_addr, &src);
  uv_ip4_addr("127.0.0.1", port, &dst);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  int rc = uv_tcp_bind(&c->tcp, (struct sockaddr *)&src, 0);
  if (rc < 0) {
    fprintf(stderr, "hubbench: bind: %s\n", uv_strerror(rc));
    exit(1);
  }
  const char *ticket = mint();
  size_t cap = strlen(ticket) + 256;
  char host[32], *target = malloc(cap);
  snprintf(host, sizeof host, "127.0.0.1:%d", port);
  snprintf(target, cap, "/ws?ticket=%s", ticket);
  c->request = malloc(cap);
  if (wsc_request(c->request, cap, host, target, NULL) < 0) {
    fprintf(stderr, "hubbench: request too long\n");
    exit(1);
  }
  free(target);
  c->req.data = c;
  uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&dst, on_connect);
}

static double percentile(double q) {
  int64_t want = (int64_t)(q * (double)n_deliveries + 0.999999), seen = 0;
  if (want < 1) want = 1;
  for (int b = 0; b < BUCKETS; b++) {
    seen += hist[b];
    if (seen >= want) return (b + 1) * 10 / 1000.0; /* bucket's upper end, ms */
  }
  return max_delay_us / 1000.0;
}

static void sub_report(void) {
  int complete = 0, none = 0, open_now = 0;
  for (int i = 0; i < n_clients; i++) {
    if (clients[i].got >= messages) complete++;
    if (clients[i].got == 0) none++;
    if (clients[i].opened && !clients[i].closed) open_now++;
  }
  printf("sub: %d clients, %d open at the end, %d with all %d messages, %d with "
         "none; %" PRId64 " deliveries", n_clients, open_now, complete, messages,
         none, n_deliveries);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("; cpu %ld ms", (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
  if (n_deliveries)
    printf("; delay p50 %.2f ms, p99 %.2f ms, max %.2f ms, min %.2f ms",
           percentile(0.50), percentile(0.99), max_delay_us / 1000.0,
           min_delay_us / 1000.0);
  printf("\n");
  fflush(stdout);
  FILE *f = hist_path ? fopen(hist_path, "w") : NULL;
  if (hist_path && !f) perror(hist_path);
  for (int b = 0; f && b < BUCKETS; b++)
    if (hist[b]) fprintf(f, "%d %u\n", (b + 1) * 10, hist[b]);
  if (f) fclose(f);
}

/* Closes the clients that neither opened nor failed (those not started
 * yet too), says how many and where the first are, in a "stuck:" line. */
static void give_up(void) {
  int shown = 0, unstarted = n_clients - n_started;
  for (int i = 0; i < n_started; i++) {
    client_t *c = &clients[i];
    if (c->opened || c->closed) continue;
    c->closed = 1;
    n_stuck++;
    if (shown++ < 3)
      fprintf(stderr, "hubbench: client %d stuck: %s, %zu bytes unread\n", i,
              c->request ? "request not sent" : c->rd.upgraded
                  ? "after the 101, no open frame" : "request sent",
              c->rd.len);
    uv_close((uv_handle_t *)&c->tcp, NULL);
  }
  n_stuck += unstarted;
  n_started = n_clients;
  printf("stuck: %d of %d clients neither opened nor failed in %d s "
         "(%d of them not started): given up on\n", n_stuck, n_clients,
         ready_s, unstarted);
}

static void sub_tick(uv_timer_t *t) {
  int64_t now = now_us();
  if (!n_ready_printed && n_open + n_failed < n_clients && ready_s &&
      now - start_us > (int64_t)ready_s * 1000000)
    give_up();
  if (!n_ready_printed && n_open + n_failed + n_stuck >= n_clients) {
    n_ready_printed = 1;
    printf("ready %d of %d open, %d failed, %d stuck; rss %ld kB at start, "
           "%ld kB\n", n_open, n_clients, n_failed, n_stuck, rss_start_kb,
           self_rss_kb());
    fflush(stdout);
  }
  int done = n_ready_printed && n_deliveries >= (int64_t)messages * n_open &&
             n_open > 0;
  if (done) {
    done = 1;
    for (int i = 0; i < n_clients && done; i++)
      if (clients[i].opened && !clients[i].closed && clients[i].got < messages)
        done = 0;
  }
  if (done || (last_msg_us && now - last_msg_us > (int64_t)idle_ms * 1000) ||
      now - start_us > (int64_t)limit_s * 1000000) {
    if (!reported) sub_report();
    reported = 1;
    if (stay && now - start_us <= (int64_t)limit_s * 1000000) return;
    uv_timer_stop(t);
    _exit(0);   /* the kernel closes tens of thousands of sockets faster */
  }
}

/* SIGTERM or SIGINT: report what came so far (unless done) and exit. */
static void on_term(uv_signal_t *h, int sig) {
  (void)h; (void)sig;
  if (!reported) sub_report();
  _exit(0);
}

static int run_sub(void) {
  if (!port || !secret || n_clients <= 0) {
    fprintf(stderr, "usage: hubbench sub -p PORT -s SECRET -n N [-m M] ...\n");
    return 2;
  }
  clients = calloc((size_t)n_clients, sizeof *clients);
  hist = calloc(BUCKETS, sizeof *hist);
  rss_start_kb = self_rss_kb();
  ramp();
  static uv_timer_t t;
  uv_timer_init(loop, &t);
  uv_timer_start(&t, sub_tick, 50, 50);
  static uv_signal_t term, intr;
  uv_signal_init(loop, &term);
  uv_signal_start(&term, on_term, SIGTERM);
  uv_signal_init(loop, &intr);
  uv_signal_start(&intr, on_term, SIGINT);
  return uv_run(loop, UV_RUN_DEFAULT);
}

/* ---- publisher ---------------------------------------------------------- */

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  uv_write_t wreq;
  char out[512];
  char in[64];
  size_t in_len;
} post_t;

static int rate = 10000, duration_s = 5, concurrency = 256;
static int64_t total, sent, answered, ok, failed, in_flight;
static int64_t pub_start_us, pub_end_us;

static void post_closed(uv_handle_t *h) { free(h->data); }

static void post_done(post_t *p, int good) {
  answered++;
  in_flight--;
  if (good) ok++;
  else if (failed++ < 3)
    fprintf(stderr, "hubbench: publish failed: %.*s\n", (int)p->in_len, p->in);
  uv_close((uv_handle_t *)&p->tcp, post_closed);
}

static void post_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  post_t *p = s->data;
  if (nread > 0 && p->in_len < sizeof p->in) {
    size_t take = sizeof p->in - p->in_len;
    if (take > (size_t)nread) take = (size_t)nread;
    memcpy(p->in + p->in_len, buf->base, take);
    p->in_len += take;
  }
  if (nread < 0) {
    uv_read_stop(s);
    post_done(p, p->in_len >= 12 && !memcmp(p->in, "HTTP/1.1 200", 12));
  }
}

static void post_written(uv_write_t *w, int status) { (void)w; (void)status; }

static void post_connected(uv_connect_t *req, int status) {
  post_t *p = req->data;
  if (status < 0) {
    snprintf(p->in, sizeof p->in, "connect: %s", uv_strerror(status));
    p->in_len = strlen(p->in);
    post_done(p, 0);
    return;
  }
  /* The send time is taken now, when the request leaves. */
  char body[160];
  int bl = snprintf(body, sizeof body,
                    "{\"channel\":\"%s\",\"data\":{\"seq\":%" PRId64 ",\"ts\":%" PRId64 "}}",
                    channel, sent++, now_us());
  int n = snprintf(p->out, sizeof p->out,
                   "POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n%s", api_key, bl, body);
  uv_buf_t b = uv_buf_init(p->out, (unsigned)n);
  uv_write(&p->wreq, (uv_stream_t *)&p->tcp, &b, 1, post_written);
  uv_read_start((uv_stream_t *)&p->tcp, alloc_cb, post_read);
}

static int64_t started;

static void start_post(void) {
  post_t *p = calloc(1, sizeof *p);
  struct sockaddr_in src, dst;
  src_addr(addr_base + (int)(started % 16), &src);
  uv_ip4_addr("127.0.0.1", port, &dst);
  uv_tcp_init(loop, &p->tcp);
  p->tcp.data = p;
  p->req.data = p;
  uv_tcp_bind(&p->tcp, (struct sockaddr *)&src, 0);
  in_flight++;
  started++;
  uv_tcp_connect(&p->req, &p->tcp, (struct sockaddr *)&dst, post_connected);
}

static void pub_tick(uv_timer_t *t) {
  int64_t now = now_us();
  int64_t due = (now - pub_start_us) * rate / 1000000 + 1;
  if (due > total) due = total;
  while (started < due && in_flight < concurrency) start_post();
  if (started >= total && !pub_end_us) pub_end_us = now;
  if (answered >= total) {
    double secs = (pub_end_us - pub_start_us) / 1e6;
    printf("pub: %" PRId64 " publishes in %.2f s (%.0f a second, asked %d), "
           "%" PRId64 " answered 200, %" PRId64 " failed\n", total, secs,
           secs > 0 ? total / secs : 0.0, rate, ok, failed);
    fflush(stdout);
    uv_timer_stop(t);
    uv_stop(loop);
  }
}

static int run_pub(void) {
  if (!port || !api_key) {
    fprintf(stderr, "usage: hubbench pub -p PORT -k APIKEY [-r RATE] [-d S] ...\n");
    return 2;
  }
  if (!total) total = (int64_t)rate * duration_s;
  pub_start_us = now_us();
  static uv_timer_t t;
  uv_timer_init(loop, &t);
  uv_timer_start(&t, pub_tick, 0, 1);
  uv_run(loop, UV_RUN_DEFAULT);
  return failed ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: hubbench sub|pub ...\n");
    return 2;
  }
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "-p")) port = atoi(v);
    else if (!strcmp(k, "-s")) secret = v;
    else if (!strcmp(k, "-k")) api_key = v;
    else if (!strcmp(k, "-n")) n_clients = atoi(v);
    else if (!strcmp(k, "-ch")) channel = v;
    else if (!strcmp(k, "-m")) messages = atoi(v);
    else if (!strcmp(k, "-addr")) addr_base = atoi(v);
    else if (!strcmp(k, "-per-addr")) per_addr = atoi(v);
    else if (!strcmp(k, "-idle")) idle_ms = atoi(v);
    else if (!strcmp(k, "-T")) limit_s = atoi(v);
    else if (!strcmp(k, "-ready-T")) ready_s = atoi(v);
    else if (!strcmp(k, "-hist")) hist_path = v;
    else if (!strcmp(k, "-stay")) stay = atoi(v);
    else if (!strcmp(k, "-r")) rate = atoi(v);
    else if (!strcmp(k, "-d")) duration_s = atoi(v);
    else if (!strcmp(k, "-count")) total = atoll(v);
    else if (!strcmp(k, "-c")) concurrency = atoi(v);
    else {
      fprintf(stderr, "hubbench: unknown option %s\n", k);
      return 2;
    }
  }
  loop = uv_default_loop();
  start_us = now_us();
  if (!strcmp(argv[1], "sub")) return run_sub();
  if (!strcmp(argv[1], "pub")) return run_pub();
  fprintf(stderr, "hubbench: sub or pub, not %s\n", argv[1]);
  return 2;
}
