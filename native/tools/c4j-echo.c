/* c4j-echo.c - the core's own WebSocket code as an echo server, for
 * conformance runs only (Autobahn|Testsuite's fuzzingclient, docs/
 * protocol.md section 12):
 *
 *   make -C native echo && native/build/c4j-echo 9001 [THREADS]
 *
 * It is the real engine (c4j.h) with the test-only hook of engine.h,
 * c4j__engine_echo: a WebSocket upgrade of "/" is accepted without a
 * ticket and every message comes back unchanged, text or binary; pings,
 * the close handshake, limits and protocol errors are the core's as for
 * any page.  The hook is reachable from this program alone: it is not in
 * c4j.h, libcomet4j.so does not export it and no setting turns it on.
 * Listens on 127.0.0.1 until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c4j.h"
#include "engine.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

int main(int argc, char **argv) {
  static const char secret[] = "c4j-echo: no ticket is ever checked";
  static uint8_t events[1 << 16];
  c4j_config_t cfg;
  c4j_engine_t *e;
  struct sigaction sa;
  int rc, n;
  if (argc < 2 || argc > 3 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535 ||
      (argc == 3 && atoi(argv[2]) <= 0)) {
    fprintf(stderr, "usage: c4j-echo PORT [THREADS]\n");
    return 2;
  }
  c4j_config_init(&cfg);
  cfg.host = "127.0.0.1";
  cfg.port = atoi(argv[1]);
  cfg.threads = argc == 3 ? atoi(argv[2]) : 1;
  cfg.secret = (const uint8_t *)secret;
  cfg.secret_len = sizeof(secret) - 1;
  /* The testsuite's biggest messages are 16 MiB (cases 9.1.6, 9.2.6),
   * echoed while the next arrives. */
  cfg.max_frame = 32u << 20;
  cfg.max_message = 32u << 20;
  cfg.max_queue = 256u << 20;
  /* Server pings only where a case runs for minutes. */
  cfg.heartbeat_ms = 300000;
  cfg.idle_timeout_ms = 600000;
  if ((rc = c4j_engine_new(&cfg, &e)) != 0) {
    fprintf(stderr, "c4j-echo: %s\n", rc == C4J_EINVAL_CONFIG
                                          ? c4j_config_error()
                                          : c4j_strerror(rc));
    return 2;
  }
  if ((rc = c4j__engine_echo(e)) != 0 || (rc = c4j_engine_start(e)) != 0) {
    fprintf(stderr, "c4j-echo: cannot start: %s\n", c4j_strerror(rc));
    c4j_engine_free(e);
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("c4j-echo: ws://127.0.0.1:%d/\n", c4j_engine_port(e));
  fflush(stdout);
  /* Echo connections make no events; the core's log lines are read (and
   * dropped) so that the queue never fills. */
  while (!stop_signal) {
    n = c4j_engine_poll(e, events, sizeof(events), 200);
    if (n < 0) break;
  }
  c4j_engine_stop(e);
  c4j_engine_free(e);
  return 0;
}
