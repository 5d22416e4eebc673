/* sendbench.c - the load client of bench/javasend.sh: opens N WebSocket
 * connections (spread over source addresses 127.0.0.2, .3, ...) with the
 * tickets of a file, then counts every message each one receives, checks
 * the order per connection and, at each end of a phase, that every
 * connection got exactly what the application sent it.
 *
 * It is one libuv loop over the shared test client's codec and reader
 * (native/test/wsclient.h).  The application (bench/JavaSend.java) sends
 * data {"w":W,"n":SEQ,"pad":"x.."}: W its sending thread (0..15), SEQ that
 * thread's count, so that on one connection the messages of one thread
 * come in increasing SEQ; and, to end a phase, one message to every
 * connection {"end":PHASE,"count":K[,"last":1]}: K how many that
 * connection was sent in the phase (what it got before the marker must be
 * K exactly: a message lost, doubled or sent to another connection shows).
 *
 *   sendbench -p PORT -t TICKETS -n N [-per-addr 5000] [-src FIRST]
 *
 * Prints "open N" once every connection has its {"t":"open"}, and for
 * each phase, once every connection has its marker:
 *   phase P: D deliveries (E expected), M connections off, O out of order,
 *   first_us F last_us L, client CPU C ms
 * (F, L: CLOCK_REALTIME microseconds of the phase's first and last
 * delivery).  Exits 0 after the marker with "last", 1 when a connection
 * is lost, a count is off or nothing moves for 30 s while a phase waits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "../native/test/wsclient.h"

#define MAX_SENDERS 16

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  char *request;
  int opened;
  uint32_t got;              /* messages in this phase, before its marker */
  int32_t last[MAX_SENDERS]; /* the last SEQ of each sending thread */
  int ended;                 /* the phase's marker came */
  wsc_reader_t rd;
} client_t;

typedef struct {
  uv_write_t w;
  char data[];
} wbuf_t;

static client_t *clients;
static char **tickets;
static int n_clients, port, per_addr = 5000, first_addr = 2;
static int n_open, n_started, n_ended, phase_no = -1, exit_after;
static long phase_got, phase_expected, phase_off, phase_order;
static int64_t first_us, last_us;
static long progress, progress_seen;
static int idle_ticks;
#define MAX_CONNECTING 256

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void start_client(uv_loop_t *loop, int i);

static void ramp(uv_loop_t *loop) {
  while (n_started < n_clients && n_started - n_open < MAX_CONNECTING)
    start_client(loop, n_started++);
}

static void fail(const char *why, int i) {
  fprintf(stderr, "sendbench: client %d: %s\n", i, why);
  printf("failed: client %d: %s\n", i, why);
  fflush(stdout);
  exit(1);
}

/* The phase's marker on every connection: the phase's line. */
static void phase_done(void) {
  static double cpu_before;
  double cpu = cpu_ms();
  printf("phase %d: %ld deliveries (%ld expected), %ld connections off, %ld "
         "out of order, first_us %" PRId64 " last_us %" PRId64
         ", client CPU %.0f ms\n", phase_no, phase_got, phase_expected,
         phase_off, phase_order, first_us, last_us, cpu - cpu_before);
  fflush(stdout);
  cpu_before = cpu;
  if (exit_after || phase_off || phase_order) exit(phase_off || phase_order);
  n_ended = 0;
  phase_got = phase_expected = phase_off = phase_order = 0;
  first_us = last_us = 0;
  for (int i = 0; i < n_clients; i++) clients[i].ended = 0;
}

static void on_marker(client_t *c, const char *p) {
  int i = (int)(c - clients), ph = atoi(p);
  const char *k = strstr(p, "\"count\":");
  long want = k ? atol(k + 8) : -1;
  if (c->ended) fail("two markers in one phase", i);
  if (n_ended == 0) phase_no = ph;
  else if (ph != phase_no) fail("marker of another phase", i);
  if ((long)c->got != want) {
    if (phase_off++ < 5)
      fprintf(stderr, "sendbench: client %d got %u of %ld in phase %d\n", i,
              c->got, want, ph);
  }
  phase_expected += want;
  c->got = 0;
  for (int w = 0; w < MAX_SENDERS; w++) c->last[w] = -1;
  c->ended = 1;
  if (strstr(p, "\"last\":1")) exit_after = 1;
  if (++n_ended == n_clients) phase_done();
}

static void on_text(client_t *c, const char *p, size_t n) {
  static const char data[] = "\"data\":{\"";
  const char *d;
  if (!c->opened) {
    if (n >= 10 && memmem(p, n, "\"open\"", 6)) {
      c->opened = 1;
      if (++n_open == n_clients) {
        printf("open %d\n", n_open);
        fflush(stdout);
      }
      ramp(c->tcp.loop);
    }
    return;
  }
  if ((d = memmem(p, n, data, sizeof(data) - 1)) == NULL) return;
  d += sizeof(data) - 1;
  progress++;
  if (!strncmp(d, "end\":", 5)) {
    on_marker(c, d + 5);
    return;
  }
  if (strncmp(d, "w\":", 3)) return;
  int w = atoi(d + 3);
  const char *s = strstr(d, "\"n\":");
  long seq = s ? atol(s + 4) : -1;
  if (w < 0 || w >= MAX_SENDERS || seq < 0) fail("a message without w or n", (int)(c - clients));
  if (c->ended) fail("a message after the phase's marker", (int)(c - clients));
  if (seq <= c->last[w]) phase_order++;
  c->last[w] = (int32_t)seq;
  c->got++;
  phase_got++;
  last_us = now_us();
  if (first_us == 0) first_us = last_us;
}

static void on_frame(void *arg, const wsc_frame_t *f) {
  client_t *c = arg;
  if (f->op == WSC_OP_TEXT) {
    /* A copy ended by a NUL, for strstr (a frame fits the reader's
     * buffer). */
    char tmp[WSC_READER_CAP + 1];
    memcpy(tmp, f->data, f->len);
    tmp[f->len] = 0;
    on_text(c, tmp, f->len);
  } else if (f->op == WSC_OP_CLOSE) {
    fail("the server closed the connection", (int)(c - clients));
  }
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char slab[65536];
  buf->base = slab;
  buf->len = sizeof(slab);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client_t *c = s->data;
  if (nread == 0) return;
  if (nread < 0) fail(uv_strerror((int)nread), (int)(c - clients));
  int rc = wsc_reader_feed(&c->rd, buf->base, (size_t)nread, on_frame, c);
  if (rc < 0) fail(wsc_strerror(rc), (int)(c - clients));
}

static void on_written(uv_write_t *w, int status) { free(w->data); }

static void on_connect(uv_connect_t *req, int status) {
  client_t *c = req->data;
  if (status < 0) fail(uv_strerror(status), (int)(c - clients));
  size_t n = strlen(c->request);
  wbuf_t *b = malloc(sizeof(*b) + n);
  memcpy(b->data, c->request, n);
  b->w.data = b;
  uv_buf_t ub = uv_buf_init(b->data, (unsigned)n);
  uv_write(&b->w, (uv_stream_t *)&c->tcp, &ub, 1, on_written);
  free(c->request);
  c->request = NULL;
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void start_client(uv_loop_t *loop, int i) {
  client_t *c = &clients[i];
  struct sockaddr_in src, dst;
  char ip[32], host[32], target[4096];
  snprintf(ip, sizeof(ip), "127.0.%d.%d", (first_addr + i / per_addr) / 256,
           (first_addr + i / per_addr) % 256);
  uv_ip4_addr(ip, 0, &src);
  uv_ip4_addr("127.0.0.1", port, &dst);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  for (int w = 0; w < MAX_SENDERS; w++) c->last[w] = -1;
  if (uv_tcp_bind(&c->tcp, (struct sockaddr *)&src, 0) < 0) fail("bind", i);
  snprintf(host, sizeof(host), "127.0.0.1:%d", port);
  snprintf(target, sizeof(target), "/ws?ticket=%s", tickets[i]);
  c->request = malloc(sizeof(target) + 256);
  if (wsc_request(c->request, sizeof(target) + 256, host, target, NULL) < 0)
    fail("ticket too long", i);
  c->req.data = c;
  uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&dst, on_connect);
}

/* Once a second: a phase under way that has not moved for 30 s fails. */
static void watchdog(uv_timer_t *t) {
  if (progress != progress_seen || (n_ended == 0 && phase_got == 0)) {
    progress_seen = progress;
    idle_ticks = 0;
    return;
  }
  if (++idle_ticks < 30) return;
  int missing = 0;
  for (int i = 0; i < n_clients; i++) missing += !clients[i].ended;
  fprintf(stderr, "sendbench: nothing for 30 s; %d connections without "
                  "their marker, %ld deliveries\n", missing, phase_got);
  printf("failed: %d connections never got phase %d's marker\n", missing,
         phase_no);
  exit(1);
}

int main(int argc, char **argv) {
  const char *ticket_path = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "-p")) port = atoi(v);
    else if (!strcmp(k, "-t")) ticket_path = v;
    else if (!strcmp(k, "-n")) n_clients = atoi(v);
    else if (!strcmp(k, "-per-addr")) per_addr = atoi(v);
    else if (!strcmp(k, "-src")) first_addr = atoi(v);
    else {
      fprintf(stderr, "sendbench: unknown option %s\n", k);
      return 2;
    }
  }
  if (!port || !ticket_path || n_clients <= 0 || per_addr <= 0) {
    fprintf(stderr, "usage: sendbench -p PORT -t TICKETS -n N "
                    "[-per-addr 5000] [-src FIRST]\n");
    return 2;
  }
  FILE *f = fopen(ticket_path, "r");
  if (!f) { perror(ticket_path); return 1; }
  char line[4096];
  tickets = calloc((size_t)n_clients, sizeof(char *));
  for (int i = 0; i < n_clients; i++) {
    if (!fgets(line, sizeof(line), f)) {
      fprintf(stderr, "sendbench: %s has fewer than %d tickets\n",
              ticket_path, n_clients);
      return 1;
    }
    line[strcspn(line, "\r\n")] = 0;
    tickets[i] = strdup(line);
  }
  fclose(f);
  clients = calloc((size_t)n_clients, sizeof(client_t));
  uv_loop_t *loop = uv_default_loop();
  uv_timer_t timer;
  ramp(loop);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, watchdog, 1000, 1000);
  return uv_run(loop, UV_RUN_DEFAULT);
}
