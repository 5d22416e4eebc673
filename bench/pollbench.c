/* pollbench.c - long-polling load client: N clients, each polling
 * GET /poll?ticket=..&since=.. in a loop (one TCP connection per poll, as
 * the server answers with Connection: close), spread over source addresses
 * 127.0.0.2, .3, ...  The server (bench/BenchServer.java) broadcasts
 * {"seq":S,"ts":<µs>} on "send S" lines from the command FIFO; the client
 * records, for every (client, message) pair, the delay from ts to arrival
 * and prints p50 / p99 / max.
 *
 *   pollbench -p PORT -t TICKETS -n N -cmd FIFO [-m MESSAGES] [-i MS]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#define PER_ADDR 4000 /* clients per source address */

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_write_t wreq;
  int index;
  char req[2048];
  char *resp;        /* the answer being read */
  size_t len, cap;
  char epoch[16];    /* last epoch and offset seen on "bench" */
  long offset;
  int polls;
  int answered;      /* the whole body of this poll's answer is in */
} client_t;

static int n_clients, port, messages = 20, interval_ms = 1000;
static int n_ready, sent;
static char **tickets;
static client_t *clients;
static FILE *cmd;
static int64_t *lat;  /* n_clients * messages delays, µs; -1: not seen */
static int64_t errors;
static uv_loop_t *loop;
/* Clients whose answer is in, waiting to poll again.  They re-poll from a
 * 20 ms timer rather than at once: this one thread plays 2,000 browsers,
 * and re-connecting the first ones while the answers of the others are
 * still arriving would charge the load generator's own work to the
 * server's latency.  Every client is parked again long before the next
 * message (one a second), so the server sees the same load. */
static int *repoll;
static int n_repoll;
static uv_timer_t repoll_timer;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void start_poll(client_t *c);

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  client_t *c = h->data;
  if (c->cap - c->len < 4096) {
    c->cap = c->cap ? c->cap * 2 : 8192;
    c->resp = realloc(c->resp, c->cap);
  }
  *buf = uv_buf_init(c->resp + c->len, (unsigned)(c->cap - c->len - 1));
}

/* Reads the frames of one answer: records arrivals, remembers e/o. */
static void on_answer(client_t *c) {
  int64_t now = now_us();
  char *body = strstr(c->resp, "\r\n\r\n");
  if (strncmp(c->resp, "HTTP/1.1 200", 12) != 0 || body == NULL) {
    if (errors++ < 3)
      fprintf(stderr, "pollbench: bad answer: %.60s\n", c->resp);
    return;
  }
  for (char *p = body; (p = strstr(p, "\"t\":")) != NULL; p += 4) {
    char *end = strstr(p + 4, "\"t\":");
    char save = 0;
    if (end) { save = *end; *end = 0; }
    char *e = strstr(p, "\"e\":\""), *o = strstr(p, "\"o\":");
    char *s = strstr(p, "\"seq\":"), *ts = strstr(p, "\"ts\":");
    if (e && o) {
      size_t k = strcspn(e + 5, "\"");
      if (k < sizeof(c->epoch)) {
        memcpy(c->epoch, e + 5, k);
        c->epoch[k] = 0;
      }
      c->offset = atol(o + 4);
    }
    if (s && ts) {
      int seq = atoi(s + 6);
      if (seq >= 0 && seq < messages) {
        int64_t *slot = &lat[(size_t)c->index * messages + seq];
        if (*slot < 0) *slot = now - strtoll(ts + 5, NULL, 10);
      }
    }
    if (end) *end = save;
  }
}

static void on_close(uv_handle_t *h) {
  client_t *c = h->data;
  if (c->polls++ == 0) n_ready++;
  repoll[n_repoll++] = c->index;
}

static void on_repoll(uv_timer_t *t) {
  int n = n_repoll;
  n_repoll = 0;
  for (int i = 0; i < n; i++) start_poll(&clients[repoll[i]]);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  client_t *c = s->data;
  if (nread > 0) {
    c->len += (size_t)nread;
    c->resp[c->len] = 0;
    /* A browser's XHR completes at Content-Length, not at the close. */
    char *body = strstr(c->resp, "\r\n\r\n");
    char *cl = strcasestr(c->resp, "\r\nContent-Length:");
    if (!c->answered && body && cl && cl < body &&
        c->len - (size_t)(body + 4 - c->resp) >= (size_t)atol(cl + 17)) {
      c->answered = 1;
      on_answer(c);
    }
    return;
  }
  if (nread == 0) return;
  if (nread == UV_EOF) {
    if (!c->answered) on_answer(c);
  } else if (errors++ < 3)
    fprintf(stderr, "pollbench: read: %s\n", uv_strerror((int)nread));
  uv_close((uv_handle_t *)s, on_close);
}

static void on_connect(uv_connect_t *r, int status) {
  client_t *c = r->data;
  if (status < 0) {
    if (errors++ < 3)
      fprintf(stderr, "pollbench: connect: %s\n", uv_strerror(status));
    uv_close((uv_handle_t *)&c->tcp, on_close);
    return;
  }
  uv_buf_t b = uv_buf_init(c->req, (unsigned)strlen(c->req));
  uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, NULL);
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void start_poll(client_t *c) {
  struct sockaddr_in src, dst;
  char ip[32], since[128] = "";
  int a = 2 + c->index / PER_ADDR;
  if (c->epoch[0])
    snprintf(since, sizeof(since),
             "&since=%%7B%%22bench%%22%%3A%%5B%%22%s%%22%%2C%ld%%5D%%7D",
             c->epoch, c->offset);
  snprintf(c->req, sizeof(c->req),
           "GET /poll?ticket=%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
           tickets[c->index], since);
  c->len = 0;
  c->answered = 0;
  snprintf(ip, sizeof(ip), "127.0.%d.%d", a / 256, a % 256);
  uv_ip4_addr(ip, 0, &src);
  uv_ip4_addr("127.0.0.1", port, &dst);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  c->creq.data = c;
  uv_tcp_bind(&c->tcp, (struct sockaddr *)&src, 0);
  uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&dst, on_connect);
}

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return a < b ? -1 : a > b;
}

static void report(void) {
  size_t total = (size_t)n_clients * messages, k = 0;
  for (size_t i = 0; i < total; i++)
    if (lat[i] >= 0) lat[k++] = lat[i];
  qsort(lat, k, sizeof(lat[0]), cmp_i64);
  if (k == 0) {
    printf("lpool: nothing received\n");
    exit(1);
  }
  printf("lpool: %d clients, %d messages: %zu of %zu deliveries; latency "
         "p50 %.1f ms, p99 %.1f ms, max %.1f ms; %" PRId64 " errors\n",
         n_clients, messages, k, total, lat[k / 2] / 1000.0,
         lat[(k * 99) / 100] / 1000.0, lat[k - 1] / 1000.0, errors);
}

static void tick(uv_timer_t *t) {
  static int waited;
  if (n_ready < n_clients && waited++ < 60) return; /* first polls answered */
  if (sent < messages) {
    fprintf(cmd, "send %d\n", sent++);
    fflush(cmd);
    return;
  }
  if (waited++ > 63) {
    report();
    fflush(stdout);
    _exit(0);
  }
}

int main(int argc, char **argv) {
  const char *tpath = NULL, *cpath = NULL;
  char line[4096];
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-p")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-t")) tpath = argv[i + 1];
    else if (!strcmp(argv[i], "-n")) n_clients = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-cmd")) cpath = argv[i + 1];
    else if (!strcmp(argv[i], "-m")) messages = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-i")) interval_ms = atoi(argv[i + 1]);
  }
  if (!port || !tpath || !cpath || n_clients <= 0 || messages <= 0) {
    fprintf(stderr, "usage: pollbench -p PORT -t TICKETS -n N -cmd FIFO "
                    "[-m MESSAGES] [-i MS]\n");
    return 2;
  }
  FILE *f = fopen(tpath, "r");
  if (!f || !(cmd = fopen(cpath, "w"))) { perror("open"); return 1; }
  tickets = calloc(n_clients, sizeof(char *));
  for (int i = 0; i < n_clients; i++) {
    if (!fgets(line, sizeof(line), f)) { fprintf(stderr, "few tickets\n"); return 1; }
    line[strcspn(line, "\r\n")] = 0;
    tickets[i] = strdup(line);
  }
  fclose(f);
  lat = malloc(sizeof(int64_t) * (size_t)n_clients * messages);
  for (size_t i = 0; i < (size_t)n_clients * messages; i++) lat[i] = -1;
  clients = calloc(n_clients, sizeof(client_t));
  repoll = calloc(n_clients, sizeof(int));
  loop = uv_default_loop();
  for (int i = 0; i < n_clients; i++) {
    clients[i].index = i;
    start_poll(&clients[i]);
  }
  uv_timer_init(loop, &repoll_timer);
  uv_timer_start(&repoll_timer, on_repoll, 20, 20);
  uv_timer_t timer;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, tick, interval_ms, interval_ms);
  return uv_run(loop, UV_RUN_DEFAULT);
}
