/* wsbench.c - a WebSocket load client for the benchmarks: opens N
 * connections (spread over source addresses 127.0.0.2, .3, ...), attaches
 * them with tickets, then measures how long one broadcast takes to reach
 * the last of them (and the server's CPU time a broadcast), and how much the
 * server's RSS grew per connection.
 *
 * It is one libuv loop over the shared test client's codec and reader
 * (native/test/wsclient.h); the frames only need "seq" and "ts" looked for.
 *
 *   wsbench -p PORT -n N -pid SERVER_PID
 *           (-t TICKETS_FILE | -handshake PATH [-hs-port PORT] [-hs-tls 1])
 *           (-cmd FIFO | -send-port PORT -send-path PATH
 *                       [-send-body FORMAT [-send-header LINE] [-size B]])
 *           [-path TARGET] [-tls 1] [-open 101] [-hook CMD]
 *           [-m MESSAGES] [-i INTERVAL_MS] [-per-addr 5000] [-src FIRST]
 *           [-steps K] [-ctl FIFO] [-hook-tickets 1] [-deflate 1]
 *
 * Tickets: one a line from TICKETS_FILE, or fetched through the
 * application's real handshake, GET PATH (e.g. /ctx/conn?cmd=conn) on
 * 127.0.0.1:hs-port (default PORT) over one keep-alive connection (TLS
 * with -hs-tls 1), each step's just before its clients open; "ticket" is
 * taken from the JSON answer.  The upgrade request's target is TARGET with
 * the ticket appended (default /ws?ticket=); "-t none" with no -handshake
 * sends TARGET as it is (an endpoint that wants no ticket).
 *
 * -tls 1: every WebSocket runs over TLS (OpenSSL over memory BIOs under
 * the libuv stream, TLS 1.3 with AES-128-GCM first, as browsers offer it;
 * the server's certificate is not checked: the benches' are self-signed,
 * made at run time).
 *
 * Broadcasts: "send SEQ" lines written to FIFO (bench/BenchServer.java
 * reads them), or GET PATH<SEQ> on 127.0.0.1:send-port (a new plain
 * connection each, not waited for: the loop keeps reading), for an
 * application that broadcasts {"seq": SEQ, "ts": <microseconds since the
 * epoch>} when asked.  With -send-body, a server that is handed the
 * message instead (nchan's publisher, an HTTP API, bench/ws-peer.cjs):
 * each broadcast is POST PATH with FORMAT as its body, its one %s replaced
 * by the message wsbench makes, {"seq":SEQ,"ts":<microseconds>,"pad":"x.."}
 * padded to B bytes (-size, default 64), ts read just before the request
 * is written; -send-header adds one header line (e.g. the API's key).  Any
 * 2xx answer is taken.
 *
 * -open 101: a client counts as open at its 101, for a server that sends
 * nothing when a subscriber attaches (nchan); else at {"t":"open"}.
 *
 * -src FIRST: the first source address is 127.0.0.FIRST (default 2), so
 * that runs one after another do not meet the TIME_WAIT ports of the one
 * before.
 *
 * -steps K: the clients open in K steps (default 2: N/2, then N), the
 * server's RSS read after each once it has settled.  A step whose clients
 * stop moving (none opens or fails for 20 s) fails the run, unless the
 * clients stuck are at most one in a thousand of N: those are closed and
 * given up on, said in "stuck:" lines on stdout, and the fan-out counts
 * the clients that opened.  A connection lost while the clients open
 * fails the run; one lost later (the server's close frame, a reset) is
 * said in a "lost:" line, and the fan-out counts the clients still open.
 *
 * -hook CMD: runs "CMD LABEL CONNECTIONS" (system(3)) before the first
 * step (LABEL start) and after each RSS reading (step, and full after the
 * last), while the connections are idle; its output goes to stdout (e.g.
 * the server's heap after a GC).  With -hook-tickets 1 (and -handshake)
 * it also runs "CMD tickets TICKETS" after each step's tickets are fetched
 * and before its clients open: what the handshakes alone left.
 *
 * -deflate 1: every upgrade offers permessage-deflate (as browsers do:
 * "permessage-deflate; client_max_window_bits"); a compressed frame
 * (RSV1) is inflated before its "seq" is looked for.  Either way the
 * "wire:" line gives the bytes the clients read from the broadcasts'
 * start, per message and client.
 *
 * -ctl FIFO: no broadcasts of its own (bench/sustained.sh, whose
 * publisher is bench/pubbench.c): once the clients are open it prints
 * "ready: N clients open" and reads lines from FIFO: "mark" starts a
 * window (deliveries and their latency counted from zero), "report LABEL
 * MESSAGES" prints the window's figures once MESSAGES times the clients
 * open deliveries arrived, or none for 1 s (at most 30 s): "window: LABEL deliveries D of E,
 * latency p50 X ms, p99 Y ms, max Z ms, open O, lost L", and "quit" ends
 * the run.  Every frame with "seq" and "ts" counts, whatever its seq.
 *
 * Besides the fan-out to the last client, every delivery's latency (from
 * "ts" to its arrival) goes into a histogram of 10 us buckets: the
 * "deliveries:" line gives its p50 and p99.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <zlib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "../native/test/wsclient.h"

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  char *request;
  SSL *ssl;        /* -tls: the session, its BIOs in memory; else NULL */
  int opened;      /* {"t":"open"} seen */
  wsc_reader_t rd; /* the 101, then the server's frames */
} client_t;

/* One write of bytes the call owns: freed when written. */
typedef struct {
  uv_write_t w;
  char data[];
} wbuf_t;

static int n_clients, port, messages = 20, interval_ms = 250;
static int per_addr = 5000, server_pid, first_addr = 2, steps = 2;
static int n_open, n_failed, n_started, n_target;
/* Clients given up on: they neither opened nor failed while nothing moved
 * for 20 s (at most one in a thousand, else the run fails). */
static int n_gaveup;
/* Connections lost after they opened, and how many of them by the
 * server's close frame. */
static int n_lost_open, n_closed;
/* Handshakes in flight at once: a burst of thousands of SYNs overflows the
 * listen queue, and the clients dropped there wait out TCP backoff. */
#define MAX_CONNECTING 256
static const char *cmd_path, *ticket_path, *hs_path, *hook;
static const char *target_prefix = "/ws?ticket=";
static const char *send_path, *send_body, *send_header;
static int msg_size = 64, open_on_101, hook_tickets;
static int offer_deflate;             /* -deflate 1 */
static uint64_t wire_bytes, wire_at_full; /* read by all clients */
/* Every delivery's latency, in 10 us buckets up to 60 s (the last one
 * holds anything later). */
#define LAT_BUCKETS 6000000
static uint32_t *lat_hist;
static long n_deliveries;
static int send_port, hs_port, hs_tls, use_tls, no_tickets;
static FILE *cmd;
static client_t *clients;
static char **tickets;
static SSL_CTX *tls_ctx;
/* -ctl: the FIFO, its partial line, the window's latest delivery and
 * largest latency, the report asked (the deliveries it waits for, -1 for
 * none) and since when. */
static const char *ctl_path;
static uv_pipe_t ctl_pipe;
static char ctl_line[512];
static size_t ctl_len;
static int64_t win_last_us, win_max_us, win_asked_us, read_us;
static long win_expected = -1;
static char win_label[64];

/* Per message: how many clients have it, and when the last one got it. */
typedef struct { int got; int64_t sent_us, first_us, last_us; } msg_stat_t;
static msg_stat_t *stats;
static int next_seq;
static uv_timer_t timer;
static long rss_before_kb;
static double cpu_at_full_ms; /* this process's CPU time when the broadcasts began */
static double server_cpu_before_ms; /* the server's, when the first was asked */

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* The server's CPU time so far (user + system, every thread), ms. */
static double server_cpu_ms(int pid) {
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

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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

static void run_hook(const char *label, int conns) {
  char line[1024];
  if (!hook) return;
  fflush(stdout);
  snprintf(line, sizeof(line), "%s %s %d", hook, label, conns);
  if (system(line) != 0) fprintf(stderr, "wsbench: hook failed: %s\n", line);
  fflush(stdout);
}

static SSL_CTX *tls_context(void) {
  if (tls_ctx) return tls_ctx;
  tls_ctx = SSL_CTX_new(TLS_client_method());
  if (!tls_ctx) {
    fprintf(stderr, "wsbench: SSL_CTX_new failed\n");
    exit(1);
  }
  SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
  SSL_CTX_set_ciphersuites(tls_ctx, "TLS_AES_128_GCM_SHA256:"
                           "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
  /* The client's own buffers go back while idle: 10,000 sessions in one
   * process. */
  SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS);
  static const unsigned char alpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(tls_ctx, alpn, sizeof(alpn) - 1);
  return tls_ctx;
}

/* ---- The handshake: tickets through the application's servlet ----------- */

/* One blocking keep-alive connection to 127.0.0.1:hs_port, TLS or not. */
typedef struct {
  int fd;
  SSL *ssl;
  char buf[65536];
  size_t len;
} hconn_t;

static void hs_close(hconn_t *h) {
  if (h->ssl) SSL_free(h->ssl);
  if (h->fd >= 0) close(h->fd);
  h->ssl = NULL;
  h->fd = -1;
  h->len = 0;
}

static int hs_open(hconn_t *h) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(hs_port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  h->len = 0;
  h->ssl = NULL;
  h->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    perror("wsbench: handshake connect");
    return -1;
  }
  if (hs_tls) {
    h->ssl = SSL_new(tls_context());
    SSL_set_fd(h->ssl, h->fd);
    if (SSL_connect(h->ssl) != 1) {
      fprintf(stderr, "wsbench: handshake TLS: ");
      ERR_print_errors_fp(stderr);
      return -1;
    }
  }
  return 0;
}

static ssize_t hs_io(hconn_t *h, void *p, size_t n, int wr) {
  if (h->ssl) {
    int r = wr ? SSL_write(h->ssl, p, (int)n) : SSL_read(h->ssl, p, (int)n);
    return r > 0 ? r : (SSL_get_error(h->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
  }
  return wr ? write(h->fd, p, n) : read(h->fd, p, n);
}

/* Reads until buf holds want bytes: 0, or -1 at the end. */
static int hs_fill(hconn_t *h, size_t want) {
  while (h->len < want) {
    if (h->len == sizeof(h->buf)) return -1;
    ssize_t r = hs_io(h, h->buf + h->len, sizeof(h->buf) - h->len, 0);
    if (r <= 0) return -1;
    h->len += (size_t)r;
  }
  return 0;
}

static void hs_consume(hconn_t *h, size_t n) {
  memmove(h->buf, h->buf + n, h->len - n);
  h->len -= n;
}

/* GET path: the status, the body (Content-Length or chunked) NUL ended in
 * body; -1 when the connection failed.  *keep is 0 after "Connection:
 * close". */
static int hs_get(hconn_t *h, const char *path, char *body, size_t cap,
                  int *keep) {
  char req[1024];
  int n = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "User-Agent: wsbench\r\n\r\n", path, hs_port);
  if (hs_io(h, req, (size_t)n, 1) != n) return -1;
  char *end;
  for (;;) {
    h->buf[h->len < sizeof(h->buf) ? h->len : sizeof(h->buf) - 1] = 0;
    if ((end = memmem(h->buf, h->len, "\r\n\r\n", 4))) break;
    if (hs_fill(h, h->len + 1) < 0) return -1;
  }
  size_t head = (size_t)(end - h->buf) + 4;
  *end = 0;
  int status = 0;
  if (sscanf(h->buf, "HTTP/1.1 %d", &status) != 1) return -1;
  *keep = !strcasestr(h->buf, "\nConnection: close");
  int chunked = strcasestr(h->buf, "\nTransfer-Encoding: chunked") != NULL;
  const char *cl = strcasestr(h->buf, "\nContent-Length:");
  long len = cl ? atol(cl + 16) : -1;
  hs_consume(h, head);
  size_t got = 0;
  if (!chunked) {
    if (len < 0) return -1;
    if (hs_fill(h, (size_t)len) < 0) return -1;
    got = (size_t)len < cap - 1 ? (size_t)len : cap - 1;
    memcpy(body, h->buf, got);
    hs_consume(h, (size_t)len);
  } else {
    for (;;) {
      char *eol;
      while (!(eol = memmem(h->buf, h->len, "\r\n", 2)))
        if (hs_fill(h, h->len + 1) < 0) return -1;
      long size = strtol(h->buf, NULL, 16);
      size_t line = (size_t)(eol - h->buf) + 2;
      if (hs_fill(h, line + (size_t)size + 2) < 0) return -1;
      size_t k = (size_t)size < cap - 1 - got ? (size_t)size : cap - 1 - got;
      memcpy(body + got, h->buf + line, k);
      got += k;
      hs_consume(h, line + (size_t)size + 2);
      if (size == 0) break;
    }
  }
  body[got] = 0;
  return status;
}

/* Tickets [from, to) through the handshake, one request each. */
static void fetch_tickets(int from, int to) {
  static hconn_t h = {.fd = -1};
  char body[4096];
  int64_t t0 = now_us();
  for (int i = from; i < to; i++) {
    int keep = 1, status = -1;
    for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
      if (h.fd < 0 && hs_open(&h) < 0) exit(1);
      status = hs_get(&h, hs_path, body, sizeof(body), &keep);
      if (status < 0) hs_close(&h); /* the server closed it: once more */
    }
    if (!keep) hs_close(&h);
    const char *t = strstr(body, "\"ticket\":\"");
    char *e = t ? strchr(t + 10, '"') : NULL;
    if (status != 200 || !e) {
      fprintf(stderr, "wsbench: handshake %d answered %d: %.200s\n", i, status,
              body);
      exit(1);
    }
    tickets[i] = strndup(t + 10, (size_t)(e - t - 10));
  }
  printf("handshake: %d tickets through GET %s on port %d%s, %.1f s\n",
         to - from, hs_path, hs_port, hs_tls ? " (TLS)" : "",
         (now_us() - t0) / 1e6);
  fflush(stdout);
}

/* ---- The clients ---------------------------------------------------------- */

static void start_client(uv_loop_t *loop, int i);

/* Starts clients up to n_target, keeping MAX_CONNECTING in the handshake. */
static void ramp(uv_loop_t *loop) {
  while (n_started < n_target &&
         n_started - n_open - n_failed - n_gaveup < MAX_CONNECTING)
    start_client(loop, n_started++);
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char slab[65536];
  buf->base = slab;
  buf->len = sizeof(slab);
}

static void on_written(uv_write_t *w, int status) {
  free(w->data);
}

/* Writes n bytes (copied) on the client's socket. */
static void put(client_t *c, const void *p, size_t n) {
  wbuf_t *b = malloc(sizeof(*b) + n);
  memcpy(b->data, p, n);
  b->w.data = b;
  uv_buf_t ub = uv_buf_init(b->data, (unsigned)n);
  uv_write(&b->w, (uv_stream_t *)&c->tcp, &ub, 1, on_written);
}

/* What TLS has for the network goes out. */
static void tls_flush(client_t *c) {
  BIO *wbio = SSL_get_wbio(c->ssl);
  char tmp[16384];
  int r;
  while (BIO_ctrl_pending(wbio) > 0 && (r = BIO_read(wbio, tmp, sizeof(tmp))) > 0)
    put(c, tmp, (size_t)r);
}

static void mark_open(client_t *c) {
  c->opened = 1;
  n_open++;
  ramp(c->tcp.loop);
}

static void on_text(client_t *c, const char *p, size_t n) {
  if (!c->opened) {
    if (open_on_101) mark_open(c);
    else {
      if (n >= 10 && memmem(p, n, "\"open\"", 6)) mark_open(c);
      return;
    }
  }
  const char *s = memmem(p, n, "\"seq\":", 6);
  const char *t = memmem(p, n, "\"ts\":", 5);
  if (!s || !t) return;
  int seq = atoi(s + 6);
  /* -ctl: the time of the read that brought the frame (one clock read for
   * all the frames a read brings, at high rates many). */
  int64_t now = ctl_path ? read_us : now_us(), sent = strtoll(t + 5, NULL, 10);
  if (ctl_path) {
    win_last_us = now;
    if (now - sent > win_max_us) win_max_us = now - sent;
  } else {
    if (seq < 0 || seq >= messages) return;
    if (stats[seq].got++ == 0) stats[seq].first_us = now;
    stats[seq].sent_us = sent;
    stats[seq].last_us = now;
  }
  int64_t b = (now - sent) / 10;
  lat_hist[b < 0 ? 0 : b >= LAT_BUCKETS ? LAT_BUCKETS - 1 : b]++;
  n_deliveries++;
}

static void lost(client_t *c, const char *why);

/* One whole frame from the server; only text frames matter here, and a
 * close frame ends the client (counted as lost). */
/* A permessage-deflate message inflated (the 00 00 ff ff tail put back)
 * into one buffer of the loop; NULL when it does not inflate. */
static const char *inflated(const wsc_frame_t *f, size_t *len) {
  static uint8_t in[WSC_READER_CAP + 4], out[1 << 16];
  static z_stream z;
  static int ready;
  if (!ready && inflateInit2(&z, -15) != Z_OK) return NULL;
  ready = 1;
  inflateReset(&z);
  memcpy(in, f->data, (size_t)f->len);
  memcpy(in + f->len, "\0\0\xff\xff", 4);
  z.next_in = in;
  z.avail_in = (uInt)f->len + 4;
  z.next_out = out;
  z.avail_out = sizeof(out);
  if (inflate(&z, Z_SYNC_FLUSH) != Z_OK) return NULL;
  *len = sizeof(out) - z.avail_out;
  return (const char *)out;
}

static void on_frame(void *arg, const wsc_frame_t *f) {
  client_t *c = arg;
  if (f->op == WSC_OP_TEXT && (f->rsv & 4)) {
    size_t n;
    const char *t = inflated(f, &n);
    if (t == NULL) {
      fprintf(stderr, "wsbench: a compressed frame does not inflate\n");
      exit(1);
    }
    on_text(c, t, n);
    return;
  }
  if (f->op == WSC_OP_TEXT) on_text(c, (const char *)f->data, f->len);
  if (f->op == WSC_OP_CLOSE && !uv_is_closing((uv_handle_t *)&c->tcp)) {
    if (n_closed++ < 3)
      fprintf(stderr, "wsbench: server closed with %d %.*s\n",
              f->len >= 2 ? (f->data[0] << 8) | f->data[1] : 1005,
              f->len >= 2 ? (int)f->len - 2 : 0,
              f->len >= 2 ? (const char *)f->data + 2 : "");
    lost(c, "close frame");
  }
}

static void lost(client_t *c, const char *why) {
  if (uv_is_closing((uv_handle_t *)&c->tcp)) return;
  if (c->opened) n_open--, n_lost_open++;
  n_failed++;
  if (n_failed <= 3)  /* one line says it; ten thousand would not */
    fprintf(stderr, "wsbench: connection closed: %s (%s)\n", why,
            c->rd.upgraded ? "after 101" : "before 101");
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_close((uv_handle_t *)&c->tcp, NULL);
  ramp(c->tcp.loop);
}

/* Plain bytes from the server (after TLS, if any). */
static void feed(client_t *c, const char *p, size_t n) {
  int rc;
  wire_bytes += n;
  rc = wsc_reader_feed(&c->rd, p, n, on_frame, c);
  if (rc == WSC_EREFUSED) {
    fprintf(stderr, "wsbench: handshake refused: %.*s\n",
            (int)(c->rd.len < 200 ? c->rd.len : 200), (char *)c->rd.buf);
    exit(1);
  }
  if (rc < 0) {
    fprintf(stderr, "wsbench: %s\n", wsc_strerror(rc));
    exit(1);
  }
  if (open_on_101 && c->rd.upgraded && !c->opened &&
      !uv_is_closing((uv_handle_t *)&c->tcp))
    mark_open(c);
}

/* TLS: once the handshake is done, the upgrade request goes out. */
static void tls_request(client_t *c) {
  if (!c->request || !SSL_is_init_finished(c->ssl)) return;
  SSL_write(c->ssl, c->request, (int)strlen(c->request));
  free(c->request);
  c->request = NULL;
}

/* TLS: the network's bytes in, the handshake on, the request out once it
 * is done, what is readable fed, what TLS has to say sent. */
static void tls_read(client_t *c, const char *p, size_t n) {
  char plain[16384];
  int r;
  BIO_write(SSL_get_rbio(c->ssl), p, (int)n);
  for (;;) {
    tls_request(c);
    if ((r = SSL_read(c->ssl, plain, sizeof(plain))) <= 0) break;
    feed(c, plain, (size_t)r);
  }
  int e = SSL_get_error(c->ssl, r);
  tls_request(c);
  tls_flush(c);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    char msg[256];
    ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
    lost(c, e == SSL_ERROR_ZERO_RETURN ? "TLS close_notify" : msg);
  }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client_t *c = s->data;
  if (nread == 0) return;
  if (nread < 0) {
    lost(c, uv_strerror((int)nread));
    return;
  }
  if (ctl_path) read_us = now_us();
  if (c->ssl) tls_read(c, buf->base, (size_t)nread);
  else feed(c, buf->base, (size_t)nread);
}

static void on_connect(uv_connect_t *req, int status) {
  client_t *c = req->data;
  if (status < 0) {
    fprintf(stderr, "wsbench: connect: %s\n", uv_strerror(status));
    exit(1);
  }
  if (use_tls) {
    c->ssl = SSL_new(tls_context());
    SSL_set_bio(c->ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(c->ssl);
    SSL_do_handshake(c->ssl);
    tls_flush(c);
  } else {
    put(c, c->request, strlen(c->request));
    free(c->request);
    c->request = NULL;
  }
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void start_client(uv_loop_t *loop, int i) {
  client_t *c = &clients[i];
  struct sockaddr_in src, dst;
  char ip[32];
  snprintf(ip, sizeof(ip), "127.0.%d.%d", (first_addr + i / per_addr) / 256,
           (first_addr + i / per_addr) % 256);
  uv_ip4_addr(ip, 0, &src);
  uv_ip4_addr("127.0.0.1", port, &dst);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  int rc = uv_tcp_bind(&c->tcp, (struct sockaddr *)&src, 0);
  if (rc < 0) {
    fprintf(stderr, "wsbench: bind %s: %s\n", ip, uv_strerror(rc));
    exit(1);
  }
  const char *ticket = no_tickets ? "" : tickets[i];
  size_t cap = strlen(ticket) + strlen(target_prefix) + 384;
  char host[32], *target = malloc(cap);
  snprintf(host, sizeof(host), "127.0.0.1:%d", port);
  snprintf(target, cap, "%s%s", target_prefix, ticket);
  c->request = malloc(cap);
  if (wsc_request(c->request, cap, host, target,
                  offer_deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                                  "client_max_window_bits\r\n"
                                : NULL) < 0) {
    fprintf(stderr, "wsbench: ticket %d too long\n", i);
    exit(1);
  }
  free(target);
  c->req.data = c;
  uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&dst, on_connect);
}

/* ---- Broadcasts asked of the application over HTTP ---------------------- */

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  int seq;
  size_t len;
  char in[256];
} trigger_t;

/* The message of -send-body: {"seq":SEQ,"ts":TS,"pad":"x..."}, msg_size
 * bytes (more if SEQ and TS need them). */
static int make_message(char *out, size_t cap, int seq, int64_t ts) {
  int n = snprintf(out, cap, "{\"seq\":%d,\"ts\":%" PRId64 ",\"pad\":\"", seq, ts);
  while (n < msg_size - 2 && (size_t)n < cap - 3) out[n++] = 'x';
  out[n++] = '"';
  out[n++] = '}';
  out[n] = 0;
  return n;
}

static void trigger_closed(uv_handle_t *h) {
  free(h->data);
}

static void trigger_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  trigger_t *t = h->data;
  buf->base = t->in + t->len;
  buf->len = sizeof(t->in) - 1 - t->len;
}

static void trigger_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  trigger_t *t = s->data;
  if (nread > 0) t->len += (size_t)nread;
  if (nread < 0 || t->len >= sizeof(t->in) - 1) {
    t->in[t->len] = 0;
    if (strncmp(t->in, "HTTP/1.1 2", 10) != 0)
      fprintf(stderr, "wsbench: broadcast %d: %.80s\n", t->seq,
              t->len ? t->in : "no answer");
    uv_close((uv_handle_t *)s, trigger_closed);
  }
}

static void trigger_connected(uv_connect_t *req, int status) {
  trigger_t *t = req->data;
  if (status < 0) {
    fprintf(stderr, "wsbench: broadcast %d: connect: %s\n", t->seq,
            uv_strerror(status));
    uv_close((uv_handle_t *)&t->tcp, trigger_closed);
    return;
  }
  char line[8192];
  int n;
  if (send_body) {
    char msg[2048], body[4096];
    make_message(msg, sizeof(msg), t->seq, now_us());
    const char *at = strstr(send_body, "%s"); /* checked in main */
    int bn = snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - send_body),
                      send_body, msg, at + 2);
    n = snprintf(line, sizeof(line),
                 "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s"
                 "Content-Type: application/json\r\nContent-Length: %d\r\n"
                 "Connection: close\r\n\r\n%s", send_path, send_port,
                 send_header ? send_header : "", send_header ? "\r\n" : "",
                 bn, body);
  } else
    n = snprintf(line, sizeof(line),
                 "GET %s%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                 "Connection: close\r\n\r\n", send_path, t->seq, send_port);
  wbuf_t *b = malloc(sizeof(*b) + (size_t)n);
  memcpy(b->data, line, (size_t)n);
  b->w.data = b;
  uv_buf_t ub = uv_buf_init(b->data, (unsigned)n);
  uv_write(&b->w, (uv_stream_t *)&t->tcp, &ub, 1, on_written);
  uv_read_start((uv_stream_t *)&t->tcp, trigger_alloc, trigger_read);
}

static void broadcast(uv_loop_t *loop, int seq) {
  if (!send_path) {
    fprintf(cmd, "send %d\n", seq);
    fflush(cmd);
    return;
  }
  trigger_t *t = calloc(1, sizeof(*t));
  struct sockaddr_in dst;
  t->seq = seq;
  t->tcp.data = t;
  t->req.data = t;
  uv_ip4_addr("127.0.0.1", send_port, &dst);
  uv_tcp_init(loop, &t->tcp);
  uv_tcp_connect(&t->req, &t->tcp, (struct sockaddr *)&dst, trigger_connected);
}

/* ---- The run -------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void report(void) {
  int64_t lat[1024], first[1024];
  int k = 0;
  for (int i = 0; i < messages; i++) {
    if (stats[i].got < n_open) {
      fprintf(stderr, "wsbench: message %d reached %d of %d\n", i,
              stats[i].got, n_open);
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
         "CPU %.1f ms a broadcast\n", n_open,
         k, messages, lat[k / 2] / 1000.0, lat[p99] / 1000.0,
         lat[k - 1] / 1000.0, first[k / 2] / 1000.0,
         (server_cpu_ms(server_pid) - server_cpu_before_ms) / messages);
  if (n_lost_open)
    printf("lost: %d connections closed after they opened (%d by the "
           "server's close frame): the fan-out counts the %d still open\n",
           n_lost_open, n_closed, n_open);
  long p50 = -1, p99d = -1, seen = 0;
  for (long b = 0; b < LAT_BUCKETS && p99d < 0; b++) {
    seen += lat_hist[b];
    if (p50 < 0 && seen * 2 >= n_deliveries) p50 = b;
    if (seen * 100 >= n_deliveries * 99) p99d = b;
  }
  if (n_deliveries)
    printf("deliveries: %ld, latency p50 %.2f ms, p99 %.2f ms\n", n_deliveries,
           (p50 + 1) / 100.0, (p99d + 1) / 100.0);
  printf("client: %.0f ms of CPU since the broadcasts began\n",
         cpu_ms() - cpu_at_full_ms);
  if (n_open > 0)
    printf("wire: %" PRIu64 " bytes read by the clients since the broadcasts "
           "began: %.1f a message a client\n", wire_bytes - wire_at_full,
           (double)(wire_bytes - wire_at_full) / messages / n_open);
}

/* ---- -ctl: windows asked over a FIFO ------------------------------------- */

static void ctl_report(void) {
  long p50 = -1, p99 = -1, seen = 0;
  for (long b = 0; b < LAT_BUCKETS && p99 < 0 && n_deliveries; b++) {
    seen += lat_hist[b];
    if (p50 < 0 && seen * 2 >= n_deliveries) p50 = b;
    if (seen * 100 >= n_deliveries * 99) p99 = b;
  }
  printf("window: %s deliveries %ld of %ld, latency p50 %.2f ms, p99 %.2f ms, "
         "max %.2f ms, open %d, lost %d\n", win_label, n_deliveries,
         win_expected, (p50 + 1) / 100.0, (p99 + 1) / 100.0,
         win_max_us / 1000.0, n_open, n_lost_open);
  fflush(stdout);
  win_expected = -1;
}

static void ctl_command(const char *l) {
  char label[64];
  long expected;
  if (!strcmp(l, "mark")) {
    memset(lat_hist, 0, LAT_BUCKETS * sizeof(*lat_hist));
    n_deliveries = 0;
    win_max_us = 0;
  } else if (sscanf(l, "report %63s %ld", label, &expected) == 2) {
    snprintf(win_label, sizeof(win_label), "%s", label);
    win_expected = expected * n_open;
    win_asked_us = win_last_us = now_us();
  } else if (!strcmp(l, "quit")) {
    fflush(stdout);
    _exit(0);
  } else
    fprintf(stderr, "wsbench: -ctl: unknown command %s\n", l);
}

static void ctl_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  buf->base = ctl_line + ctl_len;
  buf->len = sizeof(ctl_line) - 1 - ctl_len;
}

static void ctl_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  char *nl;
  if (nread < 0) {
    fprintf(stderr, "wsbench: -ctl: %s\n", uv_strerror((int)nread));
    exit(1);
  }
  ctl_len += (size_t)nread;
  ctl_line[ctl_len] = 0;
  while ((nl = strchr(ctl_line, '\n')) != NULL) {
    *nl = 0;
    ctl_command(ctl_line);
    ctl_len -= (size_t)(nl + 1 - ctl_line);
    memmove(ctl_line, nl + 1, ctl_len + 1);
  }
  if (ctl_len == sizeof(ctl_line) - 1) ctl_len = 0; /* no line that long */
}

static void ctl_start(uv_loop_t *loop) {
  int fd = open(ctl_path, O_RDWR | O_NONBLOCK);
  if (fd < 0 || uv_pipe_init(loop, &ctl_pipe, 0) != 0 ||
      uv_pipe_open(&ctl_pipe, fd) != 0) {
    perror(ctl_path);
    exit(1);
  }
  uv_read_start((uv_stream_t *)&ctl_pipe, ctl_alloc, ctl_read);
  printf("ready: %d clients open\n", n_open);
  fflush(stdout);
}

/* A report asked is printed once its deliveries are in, or none came for
 * 1 s, or after 30 s. */
static void ctl_tick(void) {
  int64_t now = now_us();
  if (win_expected < 0) return;
  if (n_deliveries >= win_expected || now - win_last_us > 1000000 ||
      now - win_asked_us > 30000000)
    ctl_report();
}

/* Says where the clients that neither opened nor failed are stuck (five of
 * them, on out); with give_up, closes every one of them and counts it in
 * n_gaveup. */
static void stuck(int upto, FILE *out, int give_up) {
  int shown = 0;
  for (int i = 0; i < upto && i < n_started; i++) {
    client_t *c = &clients[i];
    if (c->opened || uv_is_closing((uv_handle_t *)&c->tcp)) continue;
    if (give_up) {
      n_gaveup++;
      uv_read_stop((uv_stream_t *)&c->tcp);
      uv_close((uv_handle_t *)&c->tcp, NULL);
    }
    if (shown++ >= 5) continue;
    fprintf(out, "%s client %d: %s%s, %s, %zu bytes unread: %.*s\n",
            give_up ? "stuck: given up on" : "wsbench:", i,
            c->ssl ? "TLS " : "",
            c->ssl ? (SSL_is_init_finished(c->ssl) ? "handshake done" : "in its handshake") : "plain",
            c->request ? "request not sent" : c->rd.upgraded ? "after the 101" : "request sent",
            c->rd.len, (int)(c->rd.len < 80 ? c->rd.len : 80), (const char *)c->rd.buf);
  }
}

/* How many clients are open after step j of the ramp (1..steps). */
static int step_target(int j) {
  return j >= steps ? n_clients : (int)((long)n_clients * j / steps);
}

/* The run, one step per timer tick: open the first 1/steps of the clients
 * (half of them by default), settle and read the server's RSS; open the
 * next, settle and read it again, up to all N; then broadcast.  Memory per
 * connection is the slope between the first reading and the last, so that
 * one-time costs of the first connections (JIT compilation, heap and arena
 * growth) are not charged to each of them. */
static void tick(uv_timer_t *t) {
  static int phase, waited, step = 1, last_seen = -1;
  static long rss_first_kb;
  uv_loop_t *loop = t->loop;
  int target = step_target(step);
  if (phase == 0) {               /* waiting for `target` clients to open */
    int seen = n_open + n_failed + n_gaveup;
    if (seen < target) {
      if (seen != last_seen) {      /* still moving */
        last_seen = seen;
        waited = 0;
        return;
      }
      if (++waited * interval_ms < 20000) return;
      /* Nothing moved for 20 s: the clients still waiting are stuck.  A
       * few (one in a thousand) are given up on and said, more fail. */
      if (n_failed == 0 && n_gaveup + target - seen <= n_clients / 1000) {
        stuck(target, stdout, 1);
        printf("stuck: %d of %d clients so far neither opened nor failed in "
               "20 s: given up on\n", n_gaveup, target);
        fflush(stdout);
      } else {
        fprintf(stderr, "wsbench: only %d of %d opened\n", n_open, target);
        stuck(target, stderr, 0);
        exit(1);
      }
    }
    if (n_failed) {
      fprintf(stderr, "wsbench: only %d of %d opened\n", n_open, target);
      exit(1);
    }
    phase = 1;
    waited = 0;
    return;
  }
  if (phase == 1) {               /* let the server settle, read RSS */
    if (++waited < 8) return;
    waited = 0;
    long kb = rss_kb(server_pid);
    if (step < steps) {
      if (step == 1) rss_first_kb = kb;
      run_hook("step", target);
      n_target = step_target(++step);
      if (hs_path) fetch_tickets(target, n_target);
      if (hs_path && hook_tickets) run_hook("tickets", n_target);
      ramp(loop);
      phase = 0;
      return;
    }
    int first = step_target(1);
    printf("memory: server RSS %ld kB at start, %ld kB with %d, %ld kB with "
           "%d idle connections: %.0f bytes per connection (slope), %.0f "
           "(total growth / N)\n", rss_before_kb, rss_first_kb, first,
           kb, n_clients, (kb - rss_first_kb) * 1024.0 / (n_clients - first),
           (kb - rss_before_kb) * 1024.0 / n_clients);
    fflush(stdout);
    run_hook("full", n_clients);
    cpu_at_full_ms = cpu_ms();
    wire_at_full = wire_bytes;
    phase = 2;
    if (ctl_path) {
      ctl_start(loop);
      phase = 4;
    }
    return;
  }
  if (phase == 4) {               /* -ctl: the FIFO's windows */
    ctl_tick();
    return;
  }
  if (phase == 2) {               /* one broadcast per tick */
    if (next_seq == 0) server_cpu_before_ms = server_cpu_ms(server_pid);
    if (next_seq < messages) {
      broadcast(loop, next_seq++);
      return;
    }
    phase = 3;
    waited = 0;
    return;
  }
  int done = 0;                   /* every message reached every client */
  for (int i = 0; i < messages; i++) done += stats[i].got >= n_open;
  /* Done when every message reached every client, else stragglers get 40
   * ticks (10 s by default). */
  if ((done == messages && waited >= 2) || ++waited > 40) {
    report();
    fflush(stdout);
    _exit(0);
  }
}

static void load_tickets(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(1); }
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
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "-p")) port = atoi(v);
    else if (!strcmp(k, "-t")) ticket_path = v;
    else if (!strcmp(k, "-n")) n_clients = atoi(v);
    else if (!strcmp(k, "-pid")) server_pid = atoi(v);
    else if (!strcmp(k, "-cmd")) cmd_path = v;
    else if (!strcmp(k, "-m")) messages = atoi(v);
    else if (!strcmp(k, "-i")) interval_ms = atoi(v);
    else if (!strcmp(k, "-per-addr")) per_addr = atoi(v);
    else if (!strcmp(k, "-path")) target_prefix = v;
    else if (!strcmp(k, "-tls")) use_tls = atoi(v);
    else if (!strcmp(k, "-handshake")) hs_path = v;
    else if (!strcmp(k, "-hs-port")) hs_port = atoi(v);
    else if (!strcmp(k, "-hs-tls")) hs_tls = atoi(v);
    else if (!strcmp(k, "-send-port")) send_port = atoi(v);
    else if (!strcmp(k, "-send-path")) send_path = v;
    else if (!strcmp(k, "-send-body")) send_body = v;
    else if (!strcmp(k, "-send-header")) send_header = v;
    else if (!strcmp(k, "-size")) msg_size = atoi(v);
    else if (!strcmp(k, "-open")) open_on_101 = atoi(v) == 101;
    else if (!strcmp(k, "-hook")) hook = v;
    else if (!strcmp(k, "-src")) first_addr = atoi(v);
    else if (!strcmp(k, "-steps")) steps = atoi(v);
    else if (!strcmp(k, "-ctl")) ctl_path = v;
    else if (!strcmp(k, "-hook-tickets")) hook_tickets = atoi(v);
    else if (!strcmp(k, "-deflate")) offer_deflate = atoi(v) == 1;
    else {
      fprintf(stderr, "wsbench: unknown option %s\n", k);
      return 2;
    }
  }
  no_tickets = !hs_path && ticket_path && !strcmp(ticket_path, "none");
  if (!hs_port) hs_port = port;
  if (!port || (!ticket_path && !hs_path) || n_clients <= 0 || !server_pid ||
      (!cmd_path && !ctl_path && !(send_path && send_port)) || messages <= 0 ||
      messages > 1024 || steps < 2 || steps > n_clients ||
      (send_body && (!send_path || !strstr(send_body, "%s"))) ||
      msg_size < 0 || msg_size > 1024) {
    fprintf(stderr, "usage: wsbench -p PORT -n N -pid PID (-t TICKETS | "
                    "-handshake PATH [-hs-port P] [-hs-tls 1]) (-cmd FIFO | "
                    "-send-port P -send-path PATH [-send-body FMT] "
                    "[-send-header LINE] [-size B]) [-path TARGET] [-tls 1] "
                    "[-open 101] "
                    "[-hook CMD] [-hook-tickets 1] [-steps K] [-src FIRST] [-m MESSAGES<=1024] "
                    "[-i MS] [-ctl FIFO] [-deflate 1]\n");
    return 2;
  }
  if (cmd_path && !send_path) {
    cmd = fopen(cmd_path, "w");
    if (!cmd) { perror(cmd_path); return 1; }
  }
  tickets = calloc(n_clients, sizeof(char *));
  if (!hs_path && !no_tickets) load_tickets(ticket_path);
  clients = calloc(n_clients, sizeof(client_t));
  stats = calloc(messages, sizeof(msg_stat_t));
  lat_hist = calloc(LAT_BUCKETS, sizeof(uint32_t));
  rss_before_kb = rss_kb(server_pid);
  run_hook("start", 0);

  uv_loop_t *loop = uv_default_loop();
  n_target = step_target(1);
  if (hs_path) fetch_tickets(0, n_target);
  if (hs_path && hook_tickets) run_hook("tickets", n_target);
  ramp(loop);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, tick, 100, interval_ms);
  return uv_run(loop, UV_RUN_DEFAULT);
}
