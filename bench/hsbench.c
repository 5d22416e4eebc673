/* hsbench.c - a storm of handshakes, as when every page comes back at once
 * after a server restart: N pages (spread over source addresses 127.0.0.2,
 * .3, ...) each do the application's real handshake, GET PATH on
 * 127.0.0.1:hs-port on a connection of its own ("Connection: close": a
 * page's keep-alive connection would hold a second file in the server),
 * take "ticket" from the JSON answer and attach a WebSocket with it
 * (TARGET with the ticket appended on 127.0.0.1:PORT), counted when
 * {"t":"open"} arrives.  At most C pages are between their first byte and
 * their open at once (a listen queue takes only so many SYNs; dropped ones
 * would wait out TCP's backoff and measure that instead).  With -attach 0
 * a page is only its GET: done when the whole 200 answer is read (no
 * ticket needed, so PATH may be any servlet), no WebSocket; and with
 * -keepalive K besides, a page is a keep-alive connection that does K such
 * GETs one after another (the answers framed by their Content-Length, the
 * last GET with "Connection: close"): N requests in all, N/K connections.
 *
 *   hsbench -p PORT -hs-port PORT -n N [-c C=1000] [-handshake PATH]
 *           [-path TARGET] [-src FIRST=2] [-per-addr 5000] [-hook CMD]
 *           [-attach 1] [-keepalive 1]
 *
 * Prints how long from the first request to the last open, and the
 * handshakes a second; the handshake answers' and the attaches' shares
 * (the time spent in each, summed over the pages, over the whole); then
 * runs "CMD N" (system(3)) with every page open and idle, and exits.
 * A page refused or lost fails the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "../native/test/wsclient.h"

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
  int i, phase;          /* 0 handshake, 1 WebSocket, 2 open */
  int left;              /* -keepalive: GETs still to send after this one */
  char *ticket;
  size_t len;            /* bytes of the handshake answer in in */
  char in[2048];
  wsc_reader_t rd;
  double t0, t1;         /* request sent, answer read */
} page_t;

typedef struct {
  uv_write_t w;
  char data[];
} wbuf_t;

static int n_pages, port, hs_port, max_busy = 1000, first_addr = 2;
static int per_addr = 5000, n_started, n_open, n_answered, attach = 1;
static int keepalive = 1;
static const char *hs_path = "/modes/conn?cmd=conn", *target = "/ws?ticket=";
static const char *hook;
static page_t *pages;
static double t_start, t_last, hs_sum, ws_sum;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(page_t *p, const char *why) {
  fprintf(stderr, "hsbench: page %d: %s\n", p->i, why);
  exit(1);
}

static void on_written(uv_write_t *w, int status) {
  free(w->data);
}

static void put(page_t *p, const char *s, size_t n) {
  wbuf_t *b = malloc(sizeof(*b) + n);
  memcpy(b->data, s, n);
  b->w.data = b;
  uv_buf_t ub = uv_buf_init(b->data, (unsigned)n);
  uv_write(&b->w, (uv_stream_t *)&p->tcp, &ub, 1, on_written);
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char slab[65536];
  buf->base = slab;
  buf->len = sizeof(slab);
}

static void start_page(uv_loop_t *loop, int i);
static void open_ws(page_t *p);

/* More pages while fewer than max_busy are between start and open. */
static void ramp(uv_loop_t *loop) {
  while (n_started < n_pages && n_started - n_open < max_busy)
    start_page(loop, n_started++);
}

static void on_frame(void *arg, const wsc_frame_t *f) {
  page_t *p = arg;
  if (f->op == WSC_OP_CLOSE) fail(p, "the server closed the WebSocket");
  if (p->phase == 1 && f->op == WSC_OP_TEXT &&
      memmem(f->data, f->len, "\"open\"", 6)) {
    double t = now_s();
    p->phase = 2;
    ws_sum += t - p->t1;
    t_last = t;
    n_open++;
    ramp(p->tcp.loop);
  }
}

/* The handshake's answer is whole (the server closed): its ticket, then
 * the WebSocket on a new connection. */
static void answered(page_t *p) {
  p->in[p->len] = 0;
  int status = 0;
  if (sscanf(p->in, "HTTP/1.1 %d", &status) != 1 || status != 200)
    fail(p, p->len ? p->in : "no answer to the handshake");
  p->t1 = now_s();
  hs_sum += p->t1 - p->t0;
  n_answered++;
  if (!attach) { /* the GET alone: this page is done */
    p->phase = 2;
    t_last = p->t1;
    n_open++;
    return;
  }
  const char *t = strstr(p->in, "\"ticket\":\"");
  const char *e = t ? strchr(t + 10, '"') : NULL;
  if (!e) fail(p, "no ticket in the handshake's answer");
  p->ticket = strndup(t + 10, (size_t)(e - t - 10));
}

static void on_closed(uv_handle_t *h) {
  page_t *p = h->data;
  if (p->phase == 0) open_ws(p);
  else ramp(h->loop); /* -attach 0: its place is free once closed */
}

static void send_get(page_t *p);

/* -keepalive: one answer whole in p->in (its head and Content-Length
 * bytes)?  Then it is counted, and the next GET goes on the connection. */
static void keepalive_answer(page_t *p) {
  p->in[p->len] = 0;
  const char *end = strstr(p->in, "\r\n\r\n");
  if (!end) return;
  const char *cl = strcasestr(p->in, "\r\nContent-Length:");
  if (!cl || cl > end) fail(p, "a keep-alive answer without Content-Length");
  size_t want = (size_t)(end + 4 - p->in) + strtoul(cl + 17, NULL, 10);
  if (p->len < want) return;
  if (p->len > want) fail(p, "more than one answer at once");
  int status = 0;
  if (sscanf(p->in, "HTTP/1.1 %d", &status) != 1 || status != 200) fail(p, p->in);
  hs_sum += now_s() - p->t0;
  n_answered++;
  p->len = 0;
  p->left--;
  send_get(p);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  page_t *p = s->data;
  if (nread == 0) return;
  if (p->phase == 0) {
    if (nread > 0) {
      if (p->len + (size_t)nread >= sizeof(p->in)) fail(p, "handshake answer too long");
      memcpy(p->in + p->len, buf->base, (size_t)nread);
      p->len += (size_t)nread;
      if (p->left > 0) keepalive_answer(p);
      return;
    }
    if (nread != UV_EOF) fail(p, uv_strerror((int)nread));
    answered(p);
    uv_close((uv_handle_t *)&p->tcp, on_closed);
    return;
  }
  if (nread < 0) fail(p, uv_strerror((int)nread));
  int rc = wsc_reader_feed(&p->rd, buf->base, (size_t)nread, on_frame, p);
  if (rc < 0) fail(p, wsc_strerror(rc));
}

/* The GET of PATH ("Connection: close" but before a -keepalive page's
 * last). */
static void send_get(page_t *p) {
  char line[4096];
  int n = snprintf(line, sizeof(line),
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: hsbench\r\n"
                   "Accept: application/json\r\nConnection: %s\r\n\r\n",
                   hs_path, hs_port, p->left > 0 ? "keep-alive" : "close");
  p->t0 = now_s();
  put(p, line, (size_t)n);
}

static void on_connect(uv_connect_t *req, int status) {
  page_t *p = req->data;
  if (status < 0) fail(p, uv_strerror(status));
  if (p->phase == 0) {
    send_get(p);
  } else {
    char line[4096], host[32], tgt[2048];
    snprintf(host, sizeof(host), "127.0.0.1:%d", port);
    snprintf(tgt, sizeof(tgt), "%s%s", target, p->ticket);
    int n = wsc_request(line, sizeof(line), host, tgt, NULL);
    if (n < 0) fail(p, "ticket too long");
    free(p->ticket);
    p->ticket = NULL;
    put(p, line, (size_t)n);
  }
  uv_read_start((uv_stream_t *)&p->tcp, alloc_cb, on_read);
}

static void dial(page_t *p, uv_loop_t *loop, int to) {
  struct sockaddr_in src, dst;
  char ip[32];
  int a = first_addr + p->i / per_addr;
  snprintf(ip, sizeof(ip), "127.0.%d.%d", a / 256, a % 256);
  uv_ip4_addr(ip, 0, &src);
  uv_ip4_addr("127.0.0.1", to, &dst);
  uv_tcp_init(loop, &p->tcp);
  p->tcp.data = p;
  int rc = uv_tcp_bind(&p->tcp, (struct sockaddr *)&src, 0);
  if (rc < 0) fail(p, uv_strerror(rc));
  p->req.data = p;
  uv_tcp_connect(&p->req, &p->tcp, (struct sockaddr *)&dst, on_connect);
}

static void open_ws(page_t *p) {
  p->phase = 1;
  dial(p, uv_default_loop(), port);
}

static void start_page(uv_loop_t *loop, int i) {
  page_t *p = &pages[i];
  p->i = i;
  p->left = attach ? 0 : keepalive - 1;
  dial(p, loop, hs_port);
}

static uv_timer_t timer;

static void tick(uv_timer_t *t) {
  static int last = -1, still;
  if (n_open < n_pages) {
    if (n_open != last) last = n_open, still = 0;
    else if (++still > 200) { /* 20 s without one more open */
      fprintf(stderr, "hsbench: only %d of %d pages open (%d answered)\n",
              n_open, n_pages, n_answered);
      exit(1);
    }
    return;
  }
  double all = t_last - t_start;
  if (!attach) {
    int n_req = n_pages * keepalive;
    printf("requests: %d GETs on %d connections (at most %d at once), first "
           "request to last answer %.0f ms: %.0f a second\n", n_req, n_pages,
           max_busy, all * 1000, n_req / all);
    printf("shares: the answer %.2f ms a request on average\n",
           hs_sum * 1000 / n_req);
  } else {
    printf("handshakes: %d pages (at most %d at once), first request to last "
           "open %.0f ms: %.0f a second\n", n_pages, max_busy, all * 1000,
           n_pages / all);
    printf("shares: the handshake's answer %.2f ms a page on average, the "
           "attach %.2f ms\n", hs_sum * 1000 / n_pages, ws_sum * 1000 / n_pages);
  }
  fflush(stdout);
  if (hook) {
    char line[1024];
    snprintf(line, sizeof(line), "%s %d", hook, n_pages);
    if (system(line) != 0) fprintf(stderr, "hsbench: hook failed: %s\n", line);
    fflush(stdout);
  }
  _exit(0);
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "-p")) port = atoi(v);
    else if (!strcmp(k, "-hs-port")) hs_port = atoi(v);
    else if (!strcmp(k, "-n")) n_pages = atoi(v);
    else if (!strcmp(k, "-c")) max_busy = atoi(v);
    else if (!strcmp(k, "-handshake")) hs_path = v;
    else if (!strcmp(k, "-path")) target = v;
    else if (!strcmp(k, "-src")) first_addr = atoi(v);
    else if (!strcmp(k, "-per-addr")) per_addr = atoi(v);
    else if (!strcmp(k, "-hook")) hook = v;
    else if (!strcmp(k, "-attach")) attach = atoi(v);
    else if (!strcmp(k, "-keepalive")) keepalive = atoi(v);
    else {
      fprintf(stderr, "hsbench: unknown option %s\n", k);
      return 2;
    }
  }
  if (keepalive > 1 && attach) {
    fprintf(stderr, "hsbench: -keepalive K needs -attach 0\n");
    return 2;
  }
  if (keepalive > 1) n_pages /= keepalive; /* N requests: N/K connections */
  if (!port || !hs_port || n_pages <= 0 || max_busy <= 0 || per_addr <= 0 ||
      keepalive <= 0) {
    fprintf(stderr, "usage: hsbench -p PORT -hs-port PORT -n N [-c C] "
                    "[-handshake PATH] [-path TARGET] [-src FIRST] "
                    "[-per-addr K] [-hook CMD] [-attach 0|1] "
                    "[-keepalive K]\n");
    return 2;
  }
  pages = calloc((size_t)n_pages, sizeof(page_t));
  uv_loop_t *loop = uv_default_loop();
  t_start = now_s();
  ramp(loop);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, tick, 100, 100);
  return uv_run(loop, UV_RUN_DEFAULT);
}
