/* test-takeover.c - sockets handed over by another server of the process
 * (takeover.c, listener.c): the test plays that server.  It accepts on its
 * own port, reads the client's request as Tomcat would, checks and detaches
 * the socket (its epoll entry removed, a dummy under its number) and hands
 * it to the engine with the bytes it read; the client goes on with the
 * engine as if it had connected to it (WebSocket with a frame pipelined
 * after the upgrade, SSE with Connection: close, 503 over max_conns), the
 * dummy swallows what the server writes, and nothing leaks; on an engine
 * full of unfinished requests a socket handed over takes the place of the
 * oldest.
 */
#include <dirent.h>
#include <sys/epoll.h>

#include "engine-client.h"

/* The other server: a listening socket on 127.0.0.1 and its port. */
static int listen_on(int *port) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static int local_port_of(int fd, int peer) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  if ((peer ? getpeername(fd, (struct sockaddr *)&a, &len)
            : getsockname(fd, (struct sockaddr *)&a, &len)) != 0)
    return -1;
  return ntohs(a.sin_port);
}

/* Reads what the client sent (at least up to the blank line), as the
 * server parsing the request would have; its length. */
static size_t read_request(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n < cap - 1) {
    ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
    if (r <= 0) break;
    n += (size_t)r;
    buf[n] = '\0';
    if (strstr(buf, "\r\n\r\n") != NULL) {
      usleep(20000); /* what came right after, too */
      r = recv(fd, buf + n, cap - 1 - n, MSG_DONTWAIT);
      if (r > 0) n += (size_t)r;
      break;
    }
  }
  buf[n] = '\0';
  return n;
}

static int open_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) n += de->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

/* The client sends, the server reads, checks, detaches and hands over. */
static int hand_over(c4j_engine_t *e, int lfd, int lport, client_t *c,
                     const char *request, size_t rlen, int *server_fd) {
  char got[4096];
  int fd, newfd = -1, sink = -1, ep = epoll_create1(EPOLL_CLOEXEC), cport;
  struct epoll_event ev = { .events = EPOLLIN };
  size_t n;
  memset(c, 0, offsetof(client_t, buf));
  c->len = 0;
  c->fd = tcp_connect(lport, 0);
  CHECK(c->fd >= 0);
  CHECK_EQ(send(c->fd, request, rlen, 0), (ssize_t)rlen);
  fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  CHECK(fd >= 0);
  /* The server's poller watches it, as Tomcat's does. */
  ev.data.fd = fd;
  CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  n = read_request(fd, got, sizeof(got));
  CHECK_EQ(n, rlen);
  cport = local_port_of(c->fd, 0);
  CHECK_EQ(c4j_takeover_peer_ok(fd, "127.0.0.1", cport, lport), 1);
  CHECK_EQ(c4j_takeover_peer_ok(fd, "::ffff:127.0.0.1", cport, lport), 1);
  CHECK_EQ(c4j_takeover_peer_ok(fd, "127.0.0.1", cport + 1, lport), 0);
  CHECK_EQ(c4j_takeover_peer_ok(fd, "127.0.0.2", cport, lport), 0);
  CHECK_EQ(c4j_takeover_peer_ok(fd, "127.0.0.1", cport, lport + 1), 0);
  CHECK_EQ(c4j_takeover_peer_ok(fd, "not an address", cport, lport), 0);
  CHECK_EQ(c4j_takeover_detach(fd, ep, &newfd, &sink), 0);
  /* The epoll entry of the real socket is gone; the number is a dummy. */
  CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, fd, &ev), -1);
  CHECK_EQ(errno, ENOENT);
  CHECK_EQ(c4j_takeover_peer_ok(fd, "127.0.0.1", cport, lport), 0);
  CHECK_EQ(local_port_of(newfd, 1), cport);
  close(ep);
  *server_fd = fd;
  return c4j_adopt(e, newfd, sink, got, n);
}

/* The server finishes its request on the dummy, as Tomcat does: reads
 * (EOF), answers, closes. */
static void server_finishes(int fd) {
  char b[16];
  static const char ans[] = "HTTP/1.1 200 \r\nConnection: close\r\n"
                            "Content-Length: 0\r\n\r\n";
  CHECK_EQ(read(fd, b, sizeof(b)), 0);
  CHECK_EQ(write(fd, ans, sizeof(ans) - 1), (ssize_t)(sizeof(ans) - 1));
  close(fd);
}

TEST(takeover_websocket_with_pipelined_frame) {
  int fds0;
  c4j_engine_t *e;
  finish(start_default()); /* libuv's process-wide fds exist from now */
  fds0 = open_fds();
  e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200], req[4096], text[512];
  uint8_t frame[64];
  static const uint8_t mask[4] = { 1, 2, 3, 4 };
  int lport, lfd = listen_on(&lport), fd = -1, status = 0;
  long head;
  size_t n, fl;
  if (e == NULL || lfd < 0) return;
  reset_events();
  mint(e, "tk", "tom", "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  n = (size_t)wsc_request(req, sizeof(req), "127.0.0.1", target, NULL);
  /* A frame right behind the request, in the bytes the server read. */
  fl = wsc_frame_write(frame, C4J_WS_OP_TEXT, 1, mask,
                       (const uint8_t *)"{\"t\":\"hello\"}", 13);
  memcpy(req + n, frame, fl);
  CHECK_EQ(hand_over(e, lfd, lport, c, req, n + fl, &fd), 0);
  server_finishes(fd);
  /* The client talks to the core: the 101, the open frame. */
  while ((head = wsc_head(c->buf, c->len, &status)) == 0 && fill(c) > 0) {}
  CHECK(head > 0);
  CHECK_EQ(status, 101);
  consume(c, (size_t)head);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "{\"t\":\"open\",\"cId\":\"tk\"") == text);
  CHECK(wait_event(e, C4J_EV_CONNECT, "tk") != NULL);
  {
    event_t *m = wait_event(e, C4J_EV_MESSAGE, "tk");
    CHECK(m != NULL);
    CHECK_STR(m ? m->text : "", "{\"t\":\"hello\"}");
  }
  CHECK_EQ(c4j_send_all(e, "news", 4, "\"taken\"", 7, 1), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"data\":\"taken\"") != NULL);
  /* Nothing the server wrote on the dummy reached the client. */
  CHECK(memmem(c->buf, c->len, "HTTP/1.1 200", 12) == NULL);
  client_close(c);
  CHECK(wait_event(e, C4J_EV_DROP, "tk") != NULL);
  finish(e);
  close(lfd);
  CHECK_EQ(open_fds(), fds0); /* no socket, no dummy, no sink left */
  free(c);
}

TEST(takeover_sse_says_connection_close) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], req[4096], text[512];
  int lport, lfd = listen_on(&lport), fd = -1, n;
  if (e == NULL || lfd < 0) return;
  mint(e, "ts", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  n = snprintf(req, sizeof(req),
               "GET /sse?ticket=%s HTTP/1.1\r\nHost: h\r\n\r\n", ticket);
  CHECK_EQ(hand_over(e, lfd, lport, c, req, (size_t)n, &fd), 0);
  server_finishes(fd);
  while (memmem(c->buf, c->len, "\r\n\r\n", 4) == NULL && fill(c) > 0) {}
  c->buf[c->len < sizeof(c->buf) ? c->len : sizeof(c->buf) - 1] = 0;
  CHECK(strstr((char *)c->buf, "HTTP/1.1 200 OK\r\n") == (char *)c->buf);
  CHECK(strstr((char *)c->buf, "Content-Type: text/event-stream") != NULL);
  CHECK(strstr((char *)c->buf, "Connection: close\r\n") != NULL);
  CHECK(memmem(c->buf, c->len, "data: {\"t\":\"open\"", 17) != NULL ||
        (fill(c) > 0 && memmem(c->buf, c->len, "data: {\"t\":\"open\"", 17)));
  (void)text;
  client_close(c);
  finish(e);
  close(lfd);
  free(c);
}

TEST(takeover_over_max_conns_is_503) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  char ticket[2048], target[2200], req[4096];
  int lport, lfd = listen_on(&lport), fa = -1, fb = -1, status = 0;
  size_t n;
  base_config(&cfg);
  cfg.max_conns = 1;
  e = start(&cfg);
  if (e == NULL || lfd < 0) return;
  mint(e, "m1", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  n = (size_t)wsc_request(req, sizeof(req), "127.0.0.1", target, NULL);
  CHECK_EQ(hand_over(e, lfd, lport, a, req, n, &fa), 0);
  server_finishes(fa);
  CHECK(wait_event(e, C4J_EV_CONNECT, "m1") != NULL);
  CHECK_EQ(hand_over(e, lfd, lport, b, req, n, &fb), 0);
  server_finishes(fb);
  while (wsc_head(b->buf, b->len, &status) == 0 && fill(b) > 0) {}
  CHECK_EQ(status, 503);
  /* Bad arguments close what they were given. */
  {
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(c4j_adopt(NULL, sv[0], -1, "x", 1), C4J_ESTATE);
    CHECK_EQ(read(sv[1], req, 1), 0); /* closed: EOF */
    close(sv[1]);
  }
  client_close(a);
  client_close(b);
  finish(e);
  close(lfd);
  free(a);
  free(b);
}

/* A socket handed over arrives with its head read: it is an unfinished
 * request only for the moment it takes to route it, and it is admitted as
 * an accepted one is: on an engine full of unfinished requests it takes
 * the place of the oldest (503 to that one, on the native port). */
TEST(takeover_makes_room_when_full) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *a = calloc(1, sizeof(*a)), *q[2];
  char ticket[2048], target[2200], req[4096];
  int lport, lfd = listen_on(&lport), fa = -1, status = 0;
  c4j_stats_t st;
  size_t n;
  base_config(&cfg);
  cfg.max_conns = 2;
  cfg.handshake_timeout_ms = 30000;
  e = start(&cfg);
  if (e == NULL || lfd < 0) return;
  for (int i = 0; i < 2; i++) {
    q[i] = calloc(1, sizeof(*q[i]));
    connect_quiet(e, q[i], "127.0.0.2", NULL, (uint64_t)i + 1);
  }
  mint(e, "tm", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  n = (size_t)wsc_request(req, sizeof(req), "127.0.0.1", target, NULL);
  CHECK_EQ(hand_over(e, lfd, lport, a, req, n, &fa), 0);
  server_finishes(fa);
  while (wsc_head(a->buf, a->len, &status) == 0 && fill(a) > 0) {}
  CHECK_EQ(status, 101);
  CHECK_EQ(http_answer(q[0]), 503);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.evicted, 1);
  CHECK_EQ(st.pending, 1);
  CHECK_EQ(st.conns, 1);
  client_close(q[1]);
  client_close(a);
  finish(e);
  close(lfd);
  free(q[0]);
  free(q[1]);
  free(a);
}

TEST_MAIN(T(takeover_websocket_with_pipelined_frame),
          T(takeover_sse_says_connection_close),
          T(takeover_over_max_conns_is_503),
          T(takeover_makes_room_when_full))
