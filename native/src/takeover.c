/* takeover.c - sockets handed over by another server of the process (one
 * port, docs/protocol.md section 10): the check that a socket is the
 * request's, the detach that takes it from its server without closing it
 * (a dummy socket put under its number), and c4j_adopt, which gives it to
 * the core with the bytes its client already sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common.h"
#include "engine.h"
#include "listener.h"

/* An address as 16 bytes (IPv4 as IPv4-mapped IPv6) and a port. */
typedef struct {
  uint8_t a[16];
  int port;
} addr_t;

static int from_sockaddr(const struct sockaddr_storage *ss, addr_t *out) {
  static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
    memcpy(out->a, mapped, 12);
    memcpy(out->a + 12, &v4->sin_addr, 4);
    out->port = ntohs(v4->sin_port);
    return 0;
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
    memcpy(out->a, &v6->sin6_addr, 16);
    out->port = ntohs(v6->sin6_port);
    return 0;
  }
  return -1;
}

/* ip (either family, any spelling inet_pton takes) as 16 bytes. */
static int from_text(const char *ip, uint8_t out[16]) {
  struct in_addr v4;
  if (inet_pton(AF_INET, ip, &v4) == 1) {
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, &v4, 4);
    return 0;
  }
  return inet_pton(AF_INET6, ip, out) == 1 ? 0 : -1;
}

int c4j_takeover_peer_ok(int fd, const char *peer_ip, int peer_port,
                         int local_port) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  addr_t peer, local;
  uint8_t want[16];
  int type = 0;
  socklen_t tl = sizeof(type);
  if (peer_ip == NULL || from_text(peer_ip, want) != 0) return 0;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
      type != SOCK_STREAM)
    return 0;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
      from_sockaddr(&ss, &peer) != 0)
    return 0;
  len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
      from_sockaddr(&ss, &local) != 0)
    return 0;
  return memcmp(peer.a, want, 16) == 0 && peer.port == peer_port &&
         local.port == local_port;
}

int c4j_takeover_detach(int fd, int epfd, int *newfd, int *sink) {
  int sv[2], dup_fd, rc;
  /* The server's poller may still watch fd (its own removal can come
   * after the request is handed to the servlet): take it out first, or
   * its epoll would report the real socket under a number it reuses. */
  if (epfd >= 0) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    (void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev); /* ENOENT is fine */
  }
  if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) return -errno;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                 sv) != 0) {
    rc = -errno;
    close(dup_fd);
    return rc;
  }
  /* Under the server's fd number from now on: a non-blocking dummy, so
   * that its reads, writes and close touch nothing of the client's. */
  if (dup3(sv[0], fd, O_CLOEXEC) < 0) {
    rc = -errno;
    close(dup_fd);
    close(sv[0]);
    close(sv[1]);
    return rc;
  }
  close(sv[0]);
  /* The server reading the dummy sees EOF at once. */
  shutdown(sv[1], SHUT_WR);
  *newfd = dup_fd;
  *sink = sv[1];
  return 0;
}

int c4j_adopt(c4j_engine_t *e, int fd, int sink, const char *bytes,
              size_t len) {
  if (!c4j__engine_valid(e)) {
    close(fd);
    if (sink >= 0) close(sink);
    return C4J_ESTATE;
  }
  if (len > e->cfg.max_header + e->cfg.max_message || (len && !bytes)) {
    close(fd);
    if (sink >= 0) close(sink);
    return C4J_ETOOBIG;
  }
  return c4j__listener_adopt(e, fd, sink, bytes, len);
}
