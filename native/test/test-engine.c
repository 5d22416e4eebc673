/* test-engine.c - the public layer over real sockets: engine.c (the
 * configuration's errors, connection ids, start, stop and the port, an
 * engine without a listener) and route.c (c4j_send_all, c4j_send_to,
 * c4j_send_frame, c4j_send_user, their argument checks), with an engine
 * on a free port with two workers (engine-client.h).  Each connection
 * file has its own test-<file>.c.
 */
#include "engine-client.h"

/* ---- engine.c: configuration, ids ---------------------------------------- */

TEST(engine_config_errors) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  base_config(&cfg);
  cfg.port = 70000;
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "port", 4) == 0);
  base_config(&cfg);
  cfg.secret_len = 4;
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "secret", 6) == 0);
  base_config(&cfg);
  cfg.secret = (const uint8_t *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  cfg.secret_len = 32;
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "secret: too little variety", 26) == 0);
  cfg.secret = (const uint8_t *)"abcdeabcdeabcdeabcdeabcdeabcdeab";
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  cfg.secret = (const uint8_t *)"abcdefabcdefabcdefabcdefabcdefab";
  CHECK_EQ(c4j_engine_new(&cfg, &e), 0);
  c4j_engine_free(e);
  e = NULL;
  base_config(&cfg);
  cfg.api_key = "0101010101010101";
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "api_key: too little variety", 27) == 0);
  base_config(&cfg);
  cfg.idle_timeout_ms = cfg.heartbeat_ms;
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "idle_timeout_ms", 15) == 0);
  CHECK(e == NULL);
  base_config(&cfg);
  cfg.hold_ms = -1;
  CHECK_EQ(c4j_engine_new(&cfg, &e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "hold_ms", 7) == 0);
  CHECK(e == NULL);
  CHECK_STR(c4j_strerror(C4J_ETICKETEXP), "ticket expired");
  CHECK_STR(c4j_strerror(-98), "address already in use");
}

TEST(engine_new_id) {
  char a[23], b[23];
  CHECK_EQ(c4j_new_id(a), 0);
  CHECK_EQ(c4j_new_id(b), 0);
  CHECK_EQ(strlen(a), 22);
  CHECK(strcmp(a, b) != 0);
  for (int i = 0; i < 22; i++)
    CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 "0123456789-_", a[i]) != NULL);
}

/* ---- route.c: sends ------------------------------------------------------ */

#define NCLIENTS 4

TEST(engine_send_all_and_send_to) {
  c4j_engine_t *e = start_default();
  client_t *c[NCLIENTS + 1];
  char text[512], want[512], cid[16];
  if (e == NULL) return;
  reset_events();
  for (int i = 0; i <= NCLIENTS; i++) {
    c[i] = calloc(1, sizeof(client_t));
    snprintf(cid, sizeof(cid), "b%d", i);
    /* The last client only listens to "other". */
    CHECK_EQ(attach(e, c[i], cid, i < NCLIENTS ? "[\"news\",\"other\"]"
                                               : "[\"other\"]"), 101);
    CHECK_EQ(read_text(c[i], text, sizeof(text)), 0);
    CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
  }
  /* 200 messages, in order, to every subscriber of "news". */
  for (int k = 0; k < 200; k++) {
    char data[64];
    int n = snprintf(data, sizeof(data), "{\"k\":%d}", k);
    CHECK_EQ(c4j_send_all(e, "news", 4, data, (size_t)n, 1700000000123), 0);
  }
  for (int i = 0; i < NCLIENTS; i++) {
    for (int k = 0; k < 200; k++) {
      snprintf(want, sizeof(want),
               "{\"t\":\"msg\",\"ch\":\"news\",\"data\":{\"k\":%d},"
               "\"time\":1700000000123}", k);
      CHECK_EQ(read_text(c[i], text, sizeof(text)), 0);
      if (strcmp(text, want) != 0) {
        CHECK_STR(text, want);
        break;
      }
    }
  }
  /* send_to reaches only b1; a later broadcast shows the others got
   * nothing in between. */
  CHECK_EQ(c4j_send_to(e, "b1", 2, "news", 4, "\"only\"", 6, 5), 0);
  CHECK_EQ(c4j_send_to(e, "nobody", 6, "news", 4, "1", 1, 5), 0);
  CHECK_EQ(c4j_send_all(e, "other", 5, "\"after\"", 7, 6), 0);
  for (int i = 0; i <= NCLIENTS; i++) {
    if (i == 1) {
      CHECK_EQ(read_text(c[i], text, sizeof(text)), 0);
      CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"news\",\"data\":\"only\",\"time\":5}");
    }
    CHECK_EQ(read_text(c[i], text, sizeof(text)), 0);
    CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"other\",\"data\":\"after\",\"time\":6}");
  }
  /* Bad arguments are refused without reaching a worker. */
  CHECK_EQ(c4j_send_all(e, "bad name", 8, "1", 1, 0), C4J_EBADNAME);
  CHECK_EQ(c4j_send_all(e, "news", 4, "", 0, 0), C4J_EBADJSON);
  CHECK_EQ(c4j_send_to(e, "", 0, "news", 4, "1", 1, 0), C4J_EBADNAME);
  {
    c4j_stats_t st;
    c4j_engine_stats(e, &st);
    CHECK_EQ(st.conns, NCLIENTS + 1);
    CHECK(st.messages_out >= NCLIENTS * 200 + NCLIENTS + 2);
  }
  for (int i = 0; i <= NCLIENTS; i++) {
    client_close(c[i]);
    free(c[i]);
  }
  finish(e);
}

/* ---- engine.c: start, stop, the port ------------------------------------- */

TEST(engine_stop_frees_port) {
  c4j_engine_t *e = start_default(), *e2 = NULL, *e3 = NULL;
  c4j_config_t cfg;
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  int port, rc;
  uint8_t buf[4096];
  if (e == NULL) return;
  reset_events();
  port = c4j_engine_port(e);
  CHECK_EQ(attach(e, c, "s1", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "s1") != NULL);

  /* A second engine on the same port fails cleanly. */
  base_config(&cfg);
  cfg.port = port;
  CHECK_EQ(c4j_engine_new(&cfg, &e2), 0);
  CHECK_EQ(c4j_engine_start(e2), UV_EADDRINUSE);
  CHECK_EQ(c4j_engine_port(e2), -1);

  /* Stop: the client sees 1001, the app a DROP, then poll ends. */
  CHECK_EQ(c4j_engine_stop(e), 0);
  CHECK_EQ(c4j_engine_stop(e), 0); /* idempotent */
  CHECK_EQ(read_close(c, NULL, 0), C4J_CLOSE_GOING_AWAY);
  CHECK(wait_eof(c));
  CHECK(wait_event(e, C4J_EV_DROP, "s1") != NULL);
  do rc = c4j_engine_poll(e, buf, sizeof(buf), 100); while (rc > 0);
  CHECK_EQ(rc, C4J_ESTOPPED);
  CHECK_EQ(c4j_send_all(e, "x", 1, "1", 1, 0), C4J_ESTOPPED);
  CHECK_EQ(c4j_engine_port(e), -1);
  c4j_engine_free(e);

  /* The port is free at once: the failed engine can start now, and a
   * third one after it stops too. */
  CHECK_EQ(c4j_engine_start(e2), 0);
  CHECK_EQ(c4j_engine_port(e2), port);
  finish(e2);
  CHECK_EQ(c4j_engine_new(&cfg, &e3), 0);
  CHECK_EQ(c4j_engine_start(e3), 0);
  finish(e3);
  client_close(c);
  free(c);
}

TEST(engine_without_listener) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  base_config(&cfg);
  cfg.port = -1;
  CHECK_EQ(c4j_engine_new(&cfg, &e), 0);
  CHECK_EQ(c4j_send_all(e, "x", 1, "1", 1, 0), C4J_ESTATE);
  CHECK_EQ(c4j_engine_start(e), 0);
  CHECK_EQ(c4j_engine_port(e), -1);
  CHECK_EQ(c4j_send_all(e, "x", 1, "1", 1, 0), 0);
  CHECK_EQ(c4j_engine_start(e), C4J_ESTATE);
  finish(e);
  /* Never started. */
  CHECK_EQ(c4j_engine_new(&cfg, &e), 0);
  c4j_engine_free(e);
}

/* ---- route.c: whole frames, users ---------------------------------------- */

TEST(engine_send_frame) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *a = calloc(1, sizeof(*a)), *o = calloc(1, sizeof(*o));
  char text[512], ticket[2048], target[3000];
  static const char res[] = "{\"t\":\"res\",\"id\":4,\"result\":[1,\"x\"]}";
  base_config(&cfg);
  cfg.idle_timeout_ms = 600;
  cfg.heartbeat_ms = 500;
  cfg.conn_expires_ms = 3000;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach_user(e, a, "fa", NULL, "[]"), 101);
  CHECK_EQ(attach_user(e, o, "fo", NULL, "[]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_EQ(read_text(o, text, sizeof(text)), 0);
  CHECK_EQ(c4j_send_frame(e, "fa", 2, res, sizeof(res) - 1), 0);
  CHECK_EQ(c4j_send_frame(e, "fa", 2, " {\"t\":\"x\"}\n", 11), 0);
  CHECK_EQ(c4j_send_to(e, "fo", 2, "x", 1, "0", 1, 1), 0);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_STR(text, res);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"x\"}");
  CHECK_EQ(read_text(o, text, sizeof(text)), 0); /* not the frame */
  CHECK(strstr(text, "{\"t\":\"msg\"") == text);
  CHECK_EQ(c4j_send_frame(e, "fa", 2, "[1]", 3), C4J_EBADJSON);
  CHECK_EQ(c4j_send_frame(e, "fa", 2, "{", 1), C4J_EBADJSON);
  /* No history: the ack has pos {}. */
  CHECK_EQ(c4j_subscribe(e, "fa", 2, "room", 4, 3), 0);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"ack\",\"id\":3,\"pos\":{}}");
  /* Kept while dying. */
  client_close(a);
  CHECK(wait_event(e, C4J_EV_DYING, "fa") != NULL);
  CHECK_EQ(c4j_send_frame(e, "fa", 2, res, sizeof(res) - 1), 0);
  CHECK_EQ(attach_user(e, a, "fa", NULL, "[]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0); /* open */
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_STR(text, res);
  client_close(a);
  client_close(o);
  /* Long-poll: the frame is the next answer. */
  mint(e, "fp", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  CHECK_EQ(http(a, c4j_engine_port(e), "GET", target, NULL, NULL, NULL), 200);
  client_close(a);
  CHECK_EQ(c4j_send_frame(e, "fp", 2, res, sizeof(res) - 1), 0);
  CHECK_EQ(http(a, c4j_engine_port(e), "GET", target, NULL, NULL, NULL), 200);
  snprintf(text, sizeof(text), "[%s]", res);
  CHECK_STR(body_of(a), text);
  client_close(a);
  free(a);
  free(o);
  finish(e);
}

TEST(engine_send_user) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c[4];
  static const char *cids[4] = { "ua", "ub", "uc", "ud" };
  static const char *users[4] = { "alice", "alice", "bob", NULL };
  char text[512];
  base_config(&cfg);
  cfg.history_size = 10;
  e = start(&cfg);
  if (e == NULL) return;
  /* Accepted round-robin: alice has a connection on each worker. */
  for (int i = 0; i < 4; i++) {
    c[i] = calloc(1, sizeof(*c[i]));
    CHECK_EQ(attach_user(e, c[i], cids[i], users[i], "[]"), 101);
    CHECK_EQ(read_text(c[i], text, sizeof(text)), 0); /* open */
  }
  CHECK_EQ(c4j_send_user(e, "alice", 5, "dm", 2, "{\"hi\":1}", 8, 5), 0);
  CHECK_EQ(c4j_send_user(e, "nobody", 6, "dm", 2, "1", 1, 5), 0);
  CHECK_EQ(c4j_send_user(e, "", 0, "dm", 2, "1", 1, 5), C4J_EBADNAME);
  for (int i = 0; i < 4; i++)
    CHECK_EQ(c4j_send_to(e, cids[i], 2, "probe", 5, "0", 1, 6), 0);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(read_text(c[i], text, sizeof(text)), 0);
    if (i < 2) {
      CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"dm\","
                      "\"data\":{\"hi\":1},\"time\":5}");
      CHECK_EQ(read_text(c[i], text, sizeof(text)), 0);
    }
    CHECK(strstr(text, "\"ch\":\"probe\"") != NULL);
  }
  /* Gone from the index with the connection. */
  client_close(c[0]);
  CHECK(wait_event(e, C4J_EV_DROP, "ua") != NULL);
  CHECK_EQ(c4j_send_user(e, "alice", 5, "dm", 2, "2", 1, 7), 0);
  CHECK_EQ(read_text(c[1], text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"dm\",\"data\":2,\"time\":7}");
  for (int i = 0; i < 4; i++) {
    client_close(c[i]);
    free(c[i]);
  }
  finish(e);
}

TEST_MAIN(T(engine_config_errors), T(engine_new_id),
          T(engine_send_all_and_send_to), T(engine_stop_frees_port),
          T(engine_without_listener), T(engine_send_frame),
          T(engine_send_user))
