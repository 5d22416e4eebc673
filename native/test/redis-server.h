/* redis-server.h - a real redis-server for the hub tests (test-hub.c,
 * test-redis.c): a free port, a server started on it without persistence
 * (it dies with the test), and killed again.  Each test waits for it in
 * its own way (a TCP connect, a PING).
 */
#ifndef C4J_REDIS_SERVER_H
#define C4J_REDIS_SERVER_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* A loopback port nothing listens on (now). */
static int test_free_port(void) {
  struct sockaddr_in a;
  socklen_t n = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof(a));
  getsockname(fd, (struct sockaddr *)&a, &n);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* Starts redis-server on 127.0.0.1:port (with a password unless pass is
 * NULL); returns its pid at once. */
static pid_t test_redis_spawn(int port, const char *pass) {
  char p[16];
  pid_t pid;
  snprintf(p, sizeof(p), "%d", port);
  pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* no orphan if the test dies */
    dup2(null, 1); /* not the test's pipes: a reader would wait for it */
    dup2(null, 2);
    execlp("redis-server", "redis-server", "--port", p, "--bind",
           "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel",
           "warning", pass ? "--requirepass" : (char *)NULL, pass,
           (char *)NULL);
    _exit(127);
  }
  return pid;
}

static void test_redis_kill(pid_t *pid) {
  if (*pid <= 0) return;
  kill(*pid, SIGKILL);
  waitpid(*pid, NULL, 0);
  *pid = -1;
}

#endif /* C4J_REDIS_SERVER_H */
