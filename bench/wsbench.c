/* wsbench.c - a WebSocket load client for the benchmarks: opens N
 * connections (spread over source addresses 127.0.0.2, .3, ...), attaches
 * them with tickets, then measures how long one broadcast takes to reach
 * the last of them (and the server's CPU time a broadcast), and how much the
 * server's RSS grew per connection.
 *
 * It is one libuv loop over the shared test client's codec and reader
 * (native/test/wsclient.h); the frames only need "seq" and "ts" looked for.
 * With -tls 1 each client speaks TLS (OpenSSL's client over memory BIOs,
 * TLS 1.3 with AES-128-GCM first, as browsers offer it).
 *
 *   wsbench -p PORT -t TICKETS_FILE -n N -pid SERVER_PID -cmd FIFO
 *           [-m MESSAGES] [-i INTERVAL_MS] [-per-addr 5000] [-tls 1]
 *
 * The server (bench/BenchServer.java) reads "send SEQ" lines from FIFO and
 * broadcasts {"seq": SEQ, "ts": <microseconds since the epoch>}.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../native/test/wsclient.h"

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  uv_write_t wreq;
  char *request;
  int opened;     /* {"t":"open"} seen */
  wsc_reader_t rd; /* the 101, then the server's frames */
  SSL *ssl;       /* with -tls: its records go through rb and wb */
  BIO *rb, *wb;
  int secured;    /* the TLS handshake is done, the request sent */
} client_t;

static int use_tls;
static SSL_CTX *tls_ctx;

static int n_clients, port, messages = 20, interval_ms = 250;
static int per_addr = 5000, server_pid;
static int n_open, n_failed, n_started, n_target;
/* Handshakes in flight at once: a burst of thousands of SYNs overflows the
 * listen queue, and the clients dropped there wait out TCP backoff. */
#define MAX_CONNECTING 256
static const char *cmd_path;
static FILE *cmd;
static client_t *clients;
static char **tickets;

/* Per message: how many clients have it, and when the last one got it. */
typedef struct { int got; int64_t sent_us, first_us, last_us; } msg_stat_t;
static msg_stat_t *stats;
static int next_seq;
static uv_timer_t timer;
static long rss_before_kb;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The server's CPU time so far (user + system, every thread), ms. */
static double cpu_ms(int pid) {
  char path[64], buf[1024], *p;
  unsigned long ut = 0, st = 0;
  FILE *f;
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  if ((f = fopen(path, "r")) == NULL) return -1;
  p = fgets(buf, sizeof(buf), f);
  fclose(f);
  if (p == NULL || (p = strrchr(buf, ')')) == NULL) return -1;
  /* After the name: state, then fields 4..13, then utime and stime. */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
             &ut, &st) != 2)
    return -1;
  return (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
}
static double cpu_before_ms;

static long rss_kb(int pid) {
  char path[64], line[256];
  long kb = -1;
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

static void start_client(uv_loop_t *loop, int i);

/* Starts clients up to n_target, keeping MAX_CONNECTING in the handshake. */
static void ramp(uv_loop_t *loop) {
  while (n_started < n_target &&
         n_started - n_open - n_failed < MAX_CONNECTING)
    start_client(loop, n_started++);
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char slab[65536];
  buf->base = slab;
  buf->len = sizeof(slab);
}

static void on_text(client_t *c, const char *p, size_t n) {
  if (!c->opened) {
    if (n >= 10 && memmem(p, n, "\"open\"", 6)) {
      c->opened = 1;
      n_open++;
      ramp(c->tcp.loop);
    }
    return;
  }
  const char *s = memmem(p, n, "\"seq\":", 6);
  const char *t = memmem(p, n, "\"ts\":", 5);
  if (!s || !t) return;
  int seq = atoi(s + 6);
  if (seq < 0 || seq >= messages) return;
  int64_t now = now_us();
  if (stats[seq].got++ == 0) stats[seq].first_us = now;
  stats[seq].sent_us = strtoll(t + 5, NULL, 10);
  stats[seq].last_us = now;
}


/* One whole frame from the server; only text frames matter here. */
static void on_frame(void *arg, const wsc_frame_t *f) {
  client_t *c = arg;
  if (f->op == WSC_OP_TEXT) on_text(c, (const char *)f->data, f->len);
  if (f->op == WSC_OP_CLOSE && f->len >= 2 && n_failed < 3)
    fprintf(stderr, "wsbench: server closed with %d %.*s\n",
            (f->data[0] << 8) | f->data[1], (int)f->len - 2,
            (const char *)f->data + 2);
}

/* Writes what the client's SSL produced (records) to its socket. */
static void free_write(uv_write_t *w, int status) { free(w); }

static void tls_send(client_t *c) {
  size_t n = BIO_ctrl_pending(c->wb);
  uv_write_t *w;
  if (n == 0) return;
  w = malloc(sizeof(*w) + n);
  BIO_read(c->wb, (char *)(w + 1), (int)n);
  uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)n);
  uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, free_write);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* TLS: ciphertext in, the handshake or plaintext for the reader out. */
static int tls_read(client_t *c, const char *p, size_t n) {
  static char plain[65536];
  int r, rc = 0;
  BIO_write(c->rb, p, (int)n);
  if (!c->secured) {
    r = SSL_do_handshake(c->ssl);
    tls_send(c);
    if (r != 1) {
      if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) return 0;
      fprintf(stderr, "wsbench: TLS handshake failed\n");
      ERR_print_errors_fp(stderr);
      exit(1);
    }
    c->secured = 1;
    SSL_write(c->ssl, c->request, (int)strlen(c->request));
    free(c->request);
    c->request = NULL;
    tls_send(c);
  }
  while (rc == 0 && (r = SSL_read(c->ssl, plain, sizeof(plain))) > 0)
    rc = wsc_reader_feed(&c->rd, plain, (size_t)r, on_frame, c);
  tls_send(c); /* a key update's answer, say */
  return rc;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client_t *c = s->data;
  int rc;
  if (nread < 0) {
    if (c->opened) n_open--;
    n_failed++;
    if (n_failed <= 3)  /* one line says it; ten thousand would not */
      fprintf(stderr, "wsbench: connection closed: %s (%s)\n",
              uv_strerror(nread), c->rd.upgraded ? "after 101" : "before 101");
    uv_close((uv_handle_t *)s, NULL);
    ramp(s->loop);
    return;
  }
  if (c->ssl != NULL) rc = tls_read(c, buf->base, (size_t)nread);
  else rc = wsc_reader_feed(&c->rd, buf->base, (size_t)nread, on_frame, c);
  if (rc == WSC_EREFUSED) {
    fprintf(stderr, "wsbench: handshake refused: %.*s\n",
            (int)(c->rd.len < 40 ? c->rd.len : 40), (char *)c->rd.buf);
    exit(1);
  }
  if (rc < 0) {
    fprintf(stderr, "wsbench: %s\n", wsc_strerror(rc));
    exit(1);
  }
}

static void on_written(uv_write_t *w, int status) {
  client_t *c = w->data;
  free(c->request);
  c->request = NULL;
}

static void on_connect(uv_connect_t *req, int status) {
  client_t *c = req->data;
  if (status < 0) {
    fprintf(stderr, "wsbench: connect: %s\n", uv_strerror(status));
    exit(1);
  }
  if (use_tls) {
    c->ssl = SSL_new(tls_ctx);
    c->rb = BIO_new(BIO_s_mem());
    c->wb = BIO_new(BIO_s_mem());
    SSL_set_bio(c->ssl, c->rb, c->wb);
    SSL_set_connect_state(c->ssl);
    SSL_do_handshake(c->ssl);
    tls_send(c);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    return;
  }
  uv_buf_t b = uv_buf_init(c->request, strlen(c->request));
  c->wreq.data = c;
  uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written);
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void start_client(uv_loop_t *loop, int i) {
  client_t *c = &clients[i];
  struct sockaddr_in src, dst;
  char ip[32];
  snprintf(ip, sizeof(ip), "127.0.%d.%d", (2 + i / per_addr) / 256,
           (2 + i / per_addr) % 256);
  uv_ip4_addr(ip, 0, &src);
  uv_ip4_addr("127.0.0.1", port, &dst);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  int rc = uv_tcp_bind(&c->tcp, (struct sockaddr *)&src, 0);
  if (rc < 0) {
    fprintf(stderr, "wsbench: bind %s: %s\n", ip, uv_strerror(rc));
    exit(1);
  }
  size_t cap = strlen(tickets[i]) + 256;
  char host[32], *target = malloc(cap);
  snprintf(host, sizeof(host), "127.0.0.1:%d", port);
  snprintf(target, cap, "/ws?ticket=%s", tickets[i]);
  c->request = malloc(cap);
  if (wsc_request(c->request, cap, host, target, NULL) < 0) {
    fprintf(stderr, "wsbench: ticket %d too long\n", i);
    exit(1);
  }
  free(target);
  c->req.data = c;
  uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&dst, on_connect);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void report(void) {
  int64_t lat[1024], first[1024];
  int k = 0;
  for (int i = 0; i < messages; i++) {
    if (stats[i].got != n_clients) {
      fprintf(stderr, "wsbench: message %d reached %d of %d\n", i,
              stats[i].got, n_clients);
      continue;
    }
    first[k] = stats[i].first_us - stats[i].sent_us;
    lat[k++] = stats[i].last_us - stats[i].sent_us;
  }
  qsort(lat, k, sizeof(lat[0]), cmp_i64);
  qsort(first, k, sizeof(first[0]), cmp_i64);
  if (k == 0) {
    printf("fanout: no message reached every client\n");
    exit(1);
  }
  int p99 = (int)((k * 99 + 99) / 100) - 1;
  printf("fanout: %d clients, %d/%d messages complete: median %.2f ms, "
         "p99 %.2f ms, max %.2f ms (first client: median %.2f ms); server "
         "CPU %.1f ms a broadcast\n", n_clients,
         k, messages, lat[k / 2] / 1000.0, lat[p99] / 1000.0,
         lat[k - 1] / 1000.0, first[k / 2] / 1000.0,
         (cpu_ms(server_pid) - cpu_before_ms) / messages);
}

/* The run, one step per timer tick: open the first half of the clients,
 * settle and read the server's RSS; open the second half, settle and read
 * it again; then broadcast.  Memory per connection is the slope between the
 * two readings, so that one-time costs of the first connections (JIT
 * compilation, heap and arena growth) are not charged to each of them. */
static void tick(uv_timer_t *t) {
  static int phase, waited;
  static int target = -1;
  static long rss_half_kb;
  uv_loop_t *loop = t->loop;
  if (target < 0) target = n_clients / 2;
  if (phase == 0 || phase == 2) { /* waiting for `target` clients to open */
    if (n_open + n_failed < target && waited++ < 600) return;
    if (n_open < target) {
      fprintf(stderr, "wsbench: only %d of %d opened\n", n_open, target);
      exit(1);
    }
    phase++;
    waited = 0;
    return;
  }
  if (phase == 1 || phase == 3) { /* let the server settle, read RSS */
    if (++waited < 8) return;
    waited = 0;
    if (phase == 1) {
      rss_half_kb = rss_kb(server_pid);
      target = n_target = n_clients;
      ramp(loop);
      phase = 2;
      return;
    }
    long full = rss_kb(server_pid);
    printf("memory: server RSS %ld kB at start, %ld kB with %d, %ld kB with "
           "%d idle connections: %.0f bytes per connection (slope), %.0f "
           "(total growth / N)\n", rss_before_kb, rss_half_kb, n_clients / 2,
           full, n_clients,
           (full - rss_half_kb) * 1024.0 / (n_clients - n_clients / 2),
           (full - rss_before_kb) * 1024.0 / n_clients);
    fflush(stdout);
    phase = 4;
    return;
  }
  if (phase == 4) {               /* one broadcast per tick */
    if (next_seq == 0) cpu_before_ms = cpu_ms(server_pid);
    if (next_seq < messages) {
      fprintf(cmd, "send %d\n", next_seq++);
      fflush(cmd);
      return;
    }
    phase = 5;
    waited = 0;
    return;
  }
  if (++waited > 8) {             /* stragglers had their chance */
    report();
    fflush(stdout);
    _exit(0);
  }
}

static void load_tickets(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(1); }
  tickets = calloc(n_clients, sizeof(char *));
  char line[4096];
  for (int i = 0; i < n_clients; i++) {
    if (!fgets(line, sizeof(line), f)) {
      fprintf(stderr, "wsbench: %s has fewer than %d tickets\n", path,
              n_clients);
      exit(1);
    }
    line[strcspn(line, "\r\n")] = 0;
    tickets[i] = strdup(line);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  const char *ticket_path = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-p")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-t")) ticket_path = argv[i + 1];
    else if (!strcmp(argv[i], "-n")) n_clients = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-pid")) server_pid = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-cmd")) cmd_path = argv[i + 1];
    else if (!strcmp(argv[i], "-m")) messages = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-i")) interval_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-per-addr")) per_addr = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-tls")) use_tls = atoi(argv[i + 1]);
  }
  if (!port || !ticket_path || n_clients <= 0 || !server_pid || !cmd_path ||
      messages <= 0 || messages > 1024) {
    fprintf(stderr, "usage: wsbench -p PORT -t TICKETS -n N -pid PID "
                    "-cmd FIFO [-m MESSAGES<=1024] [-i MS] [-tls 1]\n");
    return 2;
  }
  if (use_tls) {
    tls_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_ciphersuites(tls_ctx, "TLS_AES_128_GCM_SHA256:"
                             "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  }
  cmd = fopen(cmd_path, "w");
  if (!cmd) { perror(cmd_path); return 1; }
  load_tickets(ticket_path);
  clients = calloc(n_clients, sizeof(client_t));
  stats = calloc(messages, sizeof(msg_stat_t));
  rss_before_kb = rss_kb(server_pid);

  uv_loop_t *loop = uv_default_loop();
  n_target = n_clients / 2;
  ramp(loop);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, tick, 100, interval_ms);
  return uv_run(loop, UV_RUN_DEFAULT);
}
