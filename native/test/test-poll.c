/* test-poll.c - poll.c, long-poll answers, over a real engine and real
 * sockets (engine-client.h): open at once, a frame between polls in the
 * next answer, a poll held then answered by a frame or with [], a parked
 * poll turning dying, and polls that hop between workers while a
 * publisher runs, with neither loss nor duplicate; the 5 ms batch window,
 * and at most 256 frames an answer, the rest in the next.
 */
#include "engine-client.h"

TEST(poll_long_poll) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[3000], epoch[9] = "";
  const char *b;
  uint64_t t0;
  event_t *ev;
  base_config(&cfg);
  /* A poll is held 300 ms; a parked one turns dying 800 ms after its
   * answer, far more than this client takes to poll again even on a
   * loaded machine. */
  cfg.idle_timeout_ms = 600;
  cfg.heartbeat_ms = 500;
  cfg.history_size = 10;
  cfg.conn_expires_ms = 5000;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  mint(e, "lp", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  send_k(e, 0, 2);

  /* The first poll answers at once with open. */
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL), 200);
  CHECK(strstr((char *)c->buf, "Connection: close") != NULL);
  CHECK(strncmp(body_of(c), "[{\"t\":\"open\"", 12) == 0);
  client_close(c);
  ev = wait_event(e, C4J_EV_CONNECT, "lp");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->transport, "lpool");

  /* A broadcast between polls waits for the next poll (which lands on the
   * other worker); then history after since is answered at once, without
   * recovered:true. */
  {
    char since[128];
    snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
    t0 = (uint64_t)c4j_engine_port(e);
    send_k(e, 2, 3);
    CHECK_EQ(http(c, (int)t0, "GET", target, NULL, NULL, NULL), 200);
    b = body_of(c);
    CHECK(strstr(b, "\"o\":3") != NULL);
    CHECK(frame_offset(b, epoch) == 3);
    client_close(c);
    snprintf(since, sizeof(since),
             "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C1%%5D%%7D", epoch);
    snprintf(target, sizeof(target), "/poll?ticket=%s&since=%s", ticket,
             since);
    CHECK_EQ(http(c, (int)t0, "GET", target, NULL, NULL, NULL), 200);
    b = body_of(c);
    CHECK(strstr(b, "\"o\":2") != NULL);
    CHECK(strstr(b, "\"o\":3") != NULL);
    CHECK(strstr(b, "recovered") == NULL);
    client_close(c);
    snprintf(since, sizeof(since),
             "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C3%%5D%%7D", epoch);
    snprintf(target, sizeof(target), "/poll?ticket=%s&since=%s", ticket,
             since);
  }
  /* Nothing new: held, then [].  Only a lower bound on the time: the
   * hold starts after the request is read, so load can only lengthen it. */
  {
    struct timespec a, z;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_EQ(http(c, (int)t0, "GET", target, NULL, NULL, NULL), 200);
    clock_gettime(CLOCK_MONOTONIC, &z);
    CHECK_STR(body_of(c), "[]");
    CHECK((z.tv_sec - a.tv_sec) * 1000 + (z.tv_nsec - a.tv_nsec) / 1000000 >=
          290);
    client_close(c);
  }
  /* Held, and answered when a frame comes. */
  {
    char req[3200];
    int n;
    memset(c, 0, sizeof(*c));
    c->fd = tcp_connect((int)t0, 0);
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                     target);
    CHECK_EQ(send(c->fd, req, (size_t)n, 0), n);
    /* Sent before or after the poll attaches, it comes in this answer
     * (kept by the parked ghost, or live). */
    usleep(100000);
    CHECK_EQ(c4j_send_to(e, "lp", 2, "x", 1, "\"direct\"", 8, 4), 0);
    while (fill(c) > 0) {}
    c->buf[c->len] = '\0';
    CHECK_STR(body_of(c),
              "[{\"t\":\"msg\",\"ch\":\"x\",\"data\":\"direct\",\"time\":4}]");
    client_close(c);
  }
  for (int i = 0; i < nevents; i++) CHECK(events[i].type != C4J_EV_DYING);
  /* No poll comes back: dying after hold + heartbeat. */
  CHECK(wait_event(e, C4J_EV_DYING, "lp") != NULL);
  free(c);
  finish(e);
}

typedef struct {
  c4j_engine_t *e;
  int n, rc;
} publisher_t;

static void *publish_fast(void *arg) {
  publisher_t *p = arg;
  for (int k = 0; k < p->n && p->rc == 0; k++) {
    char data[32];
    int n = snprintf(data, sizeof(data), "{\"k\":%d}", k);
    p->rc = c4j_send_all(p->e, "news", 4, data, (size_t)n, 1);
  }
  return NULL;
}

/* Reads the offsets of the news frames of a poll body into got[] (up to
 * cap); counts recovered:false.  Returns how many were read. */
static int poll_offsets(const char *b, uint64_t *got, int at, int cap,
                        int *lost) {
  const char *p = b;
  while ((p = strstr(p, "{\"t\":")) != NULL) {
    if (strncmp(p, "{\"t\":\"msg\",\"ch\":\"news\"", 22) == 0) {
      const char *o = strstr(p, "\"o\":");
      if (o != NULL && at < cap) got[at++] = strtoull(o + 4, NULL, 10);
    } else if (strncmp(p, "{\"t\":\"recovered\"", 16) == 0 &&
               strstr(p, "\"recovered\":false") != NULL) {
      (*lost)++;
    }
    p += 5;
  }
  return at;
}

/* hold_ms (Comet4J's Comet.Timeout) is the poll hold, instead of
 * min(25000, idle_timeout_ms / 2); at most min(25000, hold_ms / 2) +
 * heartbeat_ms / 2, what a client told `timeout` = hold_ms waits. */
TEST(poll_hold_ms) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200];
  int holds[2][3] = {{300, 25000, 300}, {2000, 200, 1100}};
  for (int k = 0; k < 2; k++) {
    uint64_t t0, dt;
    base_config(&cfg);
    cfg.idle_timeout_ms = 60000;
    cfg.hold_ms = holds[k][0];
    cfg.heartbeat_ms = holds[k][1];
    e = start(&cfg);
    if (e == NULL) break;
    mint(e, "hp", NULL, "[]", 60, ticket, sizeof(ticket));
    snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
    CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL), 200);
    CHECK(strncmp(body_of(c), "[{\"t\":\"open\"", 12) == 0);
    client_close(c);
    t0 = ms_now();
    CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL), 200);
    dt = ms_now() - t0;
    CHECK_STR(body_of(c), "[]");
    CHECK(dt >= (uint64_t)holds[k][2] - 10);
    CHECK(dt < (uint64_t)holds[k][2] + 1500);
    client_close(c);
    finish(e);
  }
  free(c);
}


/* A long-poll client that sends no `since` polls while a publisher sends
 * N broadcasts as fast as it can: each poll is a new TCP connection that
 * lands on the other worker, so the identity moves at every poll.  It must
 * get offsets 1..N exactly once, in order. */
TEST(poll_long_poll_hops_without_loss) {
  enum { N = 300, ROUNDS = 12 };
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  uint64_t *got = calloc(N * 2, sizeof(*got));
  char ticket[2048], target[2200], cid[16];
  base_config(&cfg);
  cfg.idle_timeout_ms = 1000; /* a poll is held 500 ms */
  cfg.heartbeat_ms = 500;
  cfg.history_size = 1000;
  cfg.conn_expires_ms = 5000;
  e = start(&cfg);
  if (e == NULL || c == NULL || got == NULL) {
    free(got);
    free(c);
    if (e) finish(e);
    return;
  }
  for (int round = 0; round < ROUNDS; round++) {
    publisher_t pub = { e, N, 0 };
    pthread_t th;
    int n = 0, lost = 0, polls = 0, ok = 1;
    uint64_t base = 0;
    char epoch[9];
    snprintf(cid, sizeof(cid), "hop%d", round);
    mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
    snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
    CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL),
             200);
    CHECK(strncmp(body_of(c), "[{\"t\":\"open\"", 12) == 0);
    client_close(c);
    /* Offsets go on from the earlier rounds: the history's last. */
    if (round > 0) base = (uint64_t)round * N;
    CHECK_EQ(pthread_create(&th, NULL, publish_fast, &pub), 0);
    /* Until everything came, or a poll is held empty to its end. */
    while (n < N && polls++ < 10 * N) {
      int before = n;
      CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL),
               200);
      n = poll_offsets(body_of(c), got, n, N * 2, &lost);
      client_close(c);
      if (n == before && strcmp(body_of(c), "[]") == 0) break;
    }
    pthread_join(th, NULL);
    CHECK_EQ(pub.rc, 0);
    CHECK_EQ(lost, 0);
    CHECK_EQ(n, N);
    for (int i = 0; i < n && i < N; i++)
      if (got[i] != base + (uint64_t)i + 1) ok = 0;
    if (!ok || n != N) {
      fprintf(stderr, "  round %d: %d frames, first %" PRIu64 ", last %"
              PRIu64 "\n", round, n, n ? got[0] : 0, n ? got[n - 1] : 0);
    }
    CHECK(ok);
    (void)epoch;
  }
  free(got);
  free(c);
  finish(e);
}

/* ---- The answer: its batch window, its size --------------------------------- */

/* The data k of every {"k":k} frame of a poll body into ks (up to cap);
 * returns how many. */
static int poll_ks(const char *b, int *ks, int cap) {
  int n = 0;
  for (const char *p = b; (p = strstr(p, "\"data\":{\"k\":")) != NULL; p++)
    if (n < cap) ks[n++] = atoi(p + 12);
  return n;
}

/* Starts a poll of target without reading its answer. */
static void poll_start(client_t *c, int port, const char *target) {
  char req[2400];
  int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                   target);
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(port, 0);
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

static void send_to_k(c4j_engine_t *e, const char *cid, int k) {
  char data[32];
  int n = snprintf(data, sizeof(data), "{\"k\":%d}", k);
  CHECK_EQ(c4j_send_to(e, cid, strlen(cid), "x", 1, data, (size_t)n, 1), 0);
}

/* A held poll answers 5 ms after its first frame: frames ready within
 * that share the answer (tried a few times: a loaded machine may stretch
 * the 2 ms between them), and a frame 300 ms later waits for the next
 * poll; none is lost either way. */
TEST(poll_batch_window) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200];
  int ks[8], n, shared = 0, port;
  base_config(&cfg);
  cfg.threads = 1;
  cfg.idle_timeout_ms = 2000; /* a poll is held 1 s */
  cfg.heartbeat_ms = 500;
  cfg.conn_expires_ms = 5000;
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  mint(e, "bw", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  CHECK_EQ(http(c, port, "GET", target, NULL, NULL, NULL), 200); /* open */
  client_close(c);
  for (int round = 0; round < 5 && !shared; round++) {
    int got = 0;
    poll_start(c, port, target);
    usleep(100000); /* held */
    for (int k = 0; k < 3; k++) {
      if (k > 0) usleep(1000);
      send_to_k(e, "bw", round * 10 + k);
    }
    CHECK_EQ(http_answer(c), 200);
    n = poll_ks(body_of(c), ks, 8);
    shared = n == 3;
    for (int i = 0; i < n; i++) CHECK_EQ(ks[i], round * 10 + i);
    got = n;
    /* Whatever did not fit comes next, at once. */
    while (got < 3 && n > 0) {
      CHECK_EQ(http(c, port, "GET", target, NULL, NULL, NULL), 200);
      n = poll_ks(body_of(c), ks, 8);
      for (int i = 0; i < n; i++) CHECK_EQ(ks[i], round * 10 + got + i);
      got += n;
      client_close(c);
    }
    CHECK_EQ(got, 3);
  }
  CHECK(shared);

  poll_start(c, port, target);
  usleep(100000);
  send_to_k(e, "bw", 100);
  usleep(300000);
  send_to_k(e, "bw", 101);
  CHECK_EQ(http_answer(c), 200);
  CHECK_EQ(poll_ks(body_of(c), ks, 8), 1);
  CHECK_EQ(ks[0], 100);
  CHECK_EQ(http(c, port, "GET", target, NULL, NULL, NULL), 200);
  CHECK_EQ(poll_ks(body_of(c), ks, 8), 1);
  CHECK_EQ(ks[0], 101);
  client_close(c);
  free(c);
  finish(e);
}

/* An answer carries at most 256 frames; the rest comes with the next
 * poll, in order, none lost: sendTo frames kept by the parked ghost, and
 * broadcasts replayed from the history after where the answer stopped. */
TEST(poll_answer_holds_256_frames) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2][2200];
  int *ks = calloc(512, sizeof(*ks)), port;
  base_config(&cfg);
  cfg.threads = 1;
  cfg.idle_timeout_ms = 2000;
  cfg.heartbeat_ms = 500;
  cfg.conn_expires_ms = 5000;
  cfg.history_size = 1000;
  e = start(&cfg);
  if (e == NULL) return;
  port = c4j_engine_port(e);
  mint(e, "cap-to", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target[0], sizeof(target[0]), "/poll?ticket=%s", ticket);
  mint(e, "cap-all", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target[1], sizeof(target[1]), "/poll?ticket=%s", ticket);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(http(c, port, "GET", target[i], NULL, NULL, NULL), 200);
    CHECK(strncmp(body_of(c), "[{\"t\":\"open\"", 12) == 0);
    client_close(c);
  }
  for (int k = 0; k < 300; k++) send_to_k(e, "cap-to", k);
  send_k(e, 0, 300);
  usleep(50000);
  for (int i = 0; i < 2; i++) {
    int n;
    CHECK_EQ(http(c, port, "GET", target[i], NULL, NULL, NULL), 200);
    n = poll_ks(body_of(c), ks, 512);
    CHECK_EQ(n, 256);
    for (int k = 0; k < n; k++)
      if (ks[k] != k) {
        CHECK_EQ(ks[k], k);
        break;
      }
    client_close(c);
    CHECK_EQ(http(c, port, "GET", target[i], NULL, NULL, NULL), 200);
    n = poll_ks(body_of(c), ks, 512);
    CHECK_EQ(n, 44);
    for (int k = 0; k < n; k++)
      if (ks[k] != 256 + k) {
        CHECK_EQ(ks[k], 256 + k);
        break;
      }
    client_close(c);
  }
  free(ks);
  free(c);
  finish(e);
}

TEST_MAIN(T(poll_long_poll), T(poll_hold_ms), T(poll_long_poll_hops_without_loss),
          T(poll_batch_window), T(poll_answer_holds_256_frames))
