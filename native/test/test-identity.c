/* test-identity.c - identity.c, the identity a connection carries, over a
 * real engine and real sockets (engine-client.h): the DROP of a lost or
 * dropped connection, a second connection of the same id replacing the
 * first (4004), the resume replay after `since`, the dying ghost (its
 * sendTo frames kept, its revival on another worker or on its own, its
 * expiry with 4005), a replacement on one worker, the client's address
 * behind a local proxy, a parked poll dropped without a dying phase.
 */
#include "engine-client.h"

TEST(identity_disconnect_drop_and_replace) {
  c4j_engine_t *e = start_default();
  client_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  char text[512], reason[128];
  event_t *ev;
  if (e == NULL) return;
  reset_events();

  /* The client just goes away: DROP with 1006. */
  CHECK_EQ(attach(e, a, "d1", "[]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "d1") != NULL);
  client_close(a);
  ev = wait_event(e, C4J_EV_DROP, "d1");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, 1006);

  /* The application drops a connection. */
  CHECK_EQ(attach(e, a, "d2", "[]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "d2") != NULL);
  CHECK_EQ(c4j_drop(e, "d2", 2, C4J_CLOSE_DROPPED, "bye"), 0);
  CHECK_EQ(read_close(a, reason, sizeof(reason)), C4J_CLOSE_DROPPED);
  CHECK_STR(reason, "bye");
  CHECK(wait_eof(a));
  ev = wait_event(e, C4J_EV_DROP, "d2");
  CHECK(ev != NULL);
  if (ev) {
    CHECK_EQ(ev->code, C4J_CLOSE_DROPPED);
    CHECK_STR(ev->text, "bye");
  }
  client_close(a);
  CHECK_EQ(c4j_drop(e, "d2", 2, 1004, "bad code"), -22);

  /* The same id attaching again replaces the first connection (they land
   * on different workers: round-robin over two). */
  CHECK_EQ(attach(e, a, "d3", "[]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "d3") != NULL);
  CHECK_EQ(attach(e, b, "d3", "[]"), 101);
  CHECK_EQ(read_text(b, text, sizeof(text)), 0);
  CHECK_EQ(read_close(a, NULL, 0), C4J_CLOSE_REPLACED);
  ev = wait_event(e, C4J_EV_DROP, "d3");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, C4J_CLOSE_REPLACED);
  CHECK_EQ(c4j_send_to(e, "d3", 2, "x", 1, "1", 1, 7), 0);
  CHECK_EQ(read_text(b, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"x\",\"data\":1,\"time\":7}");
  client_close(a);
  client_close(b);
  free(a);
  free(b);
  finish(e);
}

/* Attaches over WebSocket with since (already URL-encoded, may be NULL). */
static int attach_since(c4j_engine_t *e, client_t *c, const char *cid,
                        const char *channels, const char *since, long ttl) {
  char ticket[2048], target[3000];
  mint(e, cid, NULL, channels, ttl, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s%s%s", ticket,
           since ? "&since=" : "", since ? since : "");
  return upgrade(c, c4j_engine_port(e), target, NULL, 0);
}

TEST(identity_resume_replays_without_gap_or_duplicate) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], epoch[9] = "", since[128], want[256], open0[512];
  uint64_t off = 0;
  base_config(&cfg);
  cfg.history_size = 4;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach_since(e, c, "r1", "[\"news\"]", NULL, 60), 101);
  /* open says where the channel stands before its first broadcast. */
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"pos\":{\"news\":[\"") != NULL);
  CHECK(strstr(text, "\",0]}}") != NULL);
  snprintf(open0, sizeof(open0), "%s", text);
  send_k(e, 0, 3);
  for (int k = 0; k < 3; k++) {
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    off = frame_offset(text, epoch);
    CHECK_EQ(off, k + 1);
  }
  snprintf(want, sizeof(want), "\"pos\":{\"news\":[\"%s\",0]}}", epoch);
  CHECK(strstr(open0, want) != NULL);
  client_close(c);
  send_k(e, 3, 6); /* offsets 4..6 are missed */

  /* Resume: open, the three missed in order, recovered, then live. */
  snprintf(since, sizeof(since), "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C%"
           PRIu64 "%%5D%%7D", epoch, off);
  CHECK_EQ(attach_since(e, c, "r1", "[\"news\"]", since, 60), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strncmp(text, "{\"t\":\"open\"", 11) == 0);
  /* The replay follows from the client's offset. */
  snprintf(want, sizeof(want), "\"pos\":{\"news\":[\"%s\",3]}}", epoch);
  CHECK(strstr(text, want) != NULL);
  for (int k = 3; k < 6; k++) {
    snprintf(want, sizeof(want), "{\"t\":\"msg\",\"ch\":\"news\",\"e\":\"%s\","
             "\"o\":%d,\"data\":{\"k\":%d},\"time\":1}", epoch, k + 1, k);
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    CHECK_STR(text, want);
  }
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"recovered\",\"ch\":\"news\",\"recovered\":true}");
  send_k(e, 6, 7);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(frame_offset(text, epoch), 7);
  client_close(c);

  /* A gap older than the ring (offset 1: 2..7 needed, 4..7 kept): none
   * is replayed, and the frame says how many that is. */
  snprintf(since, sizeof(since),
           "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C1%%5D%%7D", epoch);
  CHECK_EQ(attach_since(e, c, "r1", "[\"news\"]", since, 60), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"recovered\",\"ch\":\"news\",\"recovered\":false,"
            "\"lost\":6}");
  client_close(c);
  /* An offset ahead of the channel: how many is not known. */
  snprintf(since, sizeof(since),
           "%%7B%%22news%%22%%3A%%5B%%22%s%%22%%2C99%%5D%%7D", epoch);
  CHECK_EQ(attach_since(e, c, "r1", "[\"news\"]", since, 60), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"recovered\",\"ch\":\"news\",\"recovered\":false}");
  client_close(c);
  /* Another epoch. */
  CHECK_EQ(attach_since(e, c, "r1", "[\"news\"]",
                        "%7B%22news%22%3A%5B%22AAAAAAAA%22%2C7%5D%7D", 60),
           101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"recovered\",\"ch\":\"news\",\"recovered\":false}");
  client_close(c);
  /* A malformed since is refused. */
  CHECK_EQ(attach_since(e, c, "r1", "[\"news\"]", "%7B%22news%22%3A1%7D", 60),
           400);
  client_close(c);
  free(c);
  finish(e);
}

TEST(identity_dying_keeps_send_to_and_revives_elsewhere) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  event_t *ev;
  base_config(&cfg);
  cfg.conn_expires_ms = 3000;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach_since(e, c, "dy", "[]", NULL, 60), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "dy") != NULL);
  client_close(c); /* the network goes: dying, not dropped */
  ev = wait_event(e, C4J_EV_DYING, "dy");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, 1006);
  CHECK_EQ(c4j_send_to(e, "dy", 2, "x", 1, "\"kept\"", 6, 9), 0);
  usleep(50000);
  /* The next accept goes to the other worker; the ticket has expired, but
   * the core still holds the id. */
  CHECK_EQ(attach_since(e, c, "dy", "[]", NULL, -10), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strncmp(text, "{\"t\":\"open\"", 11) == 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"x\",\"data\":\"kept\",\"time\":9}");
  ev = wait_event(e, C4J_EV_REVIVAL, "dy");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->transport, "websocket");
  for (int i = 0; i < nevents; i++) {
    CHECK(events[i].type != C4J_EV_DROP);
    CHECK(events[i].type != C4J_EV_CONNECT);
  }
  /* A purposeful close drops at once. */
  CHECK_EQ(c4j_drop(e, "dy", 2, C4J_CLOSE_DROPPED, "bye"), 0);
  ev = wait_event(e, C4J_EV_DROP, "dy");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, C4J_CLOSE_DROPPED);
  client_close(c);
  /* Now the expired ticket is refused. */
  CHECK_EQ(attach_since(e, c, "dy", "[]", NULL, -10), 401);
  CHECK(strstr(c->body, "ticket expired") != NULL);
  client_close(c);
  free(c);
  finish(e);
}

/* A revival without `since` goes on from where the dying identity stood:
 * what was published meanwhile comes first, in order, then live frames. */
TEST(identity_revival_resumes_without_since) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], epoch[9] = "", want[128];
  base_config(&cfg);
  cfg.conn_expires_ms = 3000;
  cfg.history_size = 100;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach_since(e, c, "rv", "[\"news\"]", NULL, 60), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0); /* open */
  send_k(e, 0, 2);
  for (int k = 0; k < 2; k++) {
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    CHECK_EQ(frame_offset(text, epoch), k + 1);
  }
  client_close(c);
  CHECK(wait_event(e, C4J_EV_DYING, "rv") != NULL);
  send_k(e, 2, 5);
  CHECK_EQ(attach_since(e, c, "rv", "[\"news\"]", NULL, 60), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  snprintf(want, sizeof(want), "\"pos\":{\"news\":[\"%s\",2]}}", epoch);
  CHECK(strstr(text, want) != NULL);
  for (int k = 2; k < 5; k++) {
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    CHECK_EQ(frame_offset(text, epoch), k + 1);
  }
  send_k(e, 5, 6);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(frame_offset(text, epoch), 6);
  CHECK(wait_event(e, C4J_EV_REVIVAL, "rv") != NULL);
  client_close(c);
  free(c);
  finish(e);
}

TEST(identity_dying_expires_with_4005) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  event_t *ev;
  c4j_stats_t st;
  base_config(&cfg);
  cfg.conn_expires_ms = 300;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach_since(e, c, "ex", "[]", NULL, 60), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  client_close(c);
  CHECK(wait_event(e, C4J_EV_DYING, "ex") != NULL);
  ev = wait_event(e, C4J_EV_DROP, "ex");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, C4J_CLOSE_EXPIRED);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.conns, 0);
  free(c);
  finish(e);
}

/* ---- On one worker ----------------------------------------------------------- */

/* A second connection of an id on the same worker: the first is closed
 * with 4004, its DROP told before the second's CONNECT; the second holds
 * the identity, counted once, in the register of who is here with its
 * channels, and gets its frames. */
TEST(identity_replace_on_one_worker) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  char text[512], reason[64] = "";
  c4j_stats_t st;
  event_t *ev, *again;
  base_config(&cfg);
  cfg.threads = 1;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, a, "one", "[\"room\"]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "one") != NULL);
  CHECK_EQ(attach(e, b, "one", "[\"room\"]"), 101);
  CHECK_EQ(read_text(b, text, sizeof(text)), 0);
  CHECK(strncmp(text, "{\"t\":\"open\",\"cId\":\"one\"", 23) == 0);
  CHECK_EQ(read_close(a, reason, sizeof(reason)), C4J_CLOSE_REPLACED);
  CHECK_STR(reason, "replaced");
  ev = wait_event(e, C4J_EV_DROP, "one");
  CHECK(ev != NULL);
  if (ev) CHECK_EQ(ev->code, C4J_CLOSE_REPLACED);
  /* The embedder hears of the first's end before the second's start. */
  again = wait_event(e, C4J_EV_CONNECT, "one");
  CHECK(again != NULL);
  if (ev && again) CHECK(again > ev);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.conns, 1);
  CHECK_EQ(c4j_member_count(e, "room", 4, 0, 100), 1);
  CHECK(c4j_identity(e, "one", 3, text, sizeof(text)) > 0);
  CHECK_STR(text, "{\"cId\":\"one\",\"user\":null,\"channels\":[\"room\"]}");
  CHECK_EQ(c4j_send_all(e, "room", 4, "1", 1, 2), 0);
  CHECK_EQ(read_text(b, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"msg\",\"ch\":\"room\",\"data\":1,\"time\":2}");
  client_close(a);
  client_close(b);
  free(a);
  free(b);
  finish(e);
}

/* A dying identity revived on the worker that keeps it: the open frame,
 * then its kept sendTo frames in order, a REVIVAL and no CONNECT. */
TEST(identity_revival_on_one_worker) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], want[128];
  event_t *ev;
  base_config(&cfg);
  cfg.threads = 1;
  cfg.conn_expires_ms = 3000;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, c, "rw", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "rw") != NULL);
  client_close(c);
  CHECK(wait_event(e, C4J_EV_DYING, "rw") != NULL);
  for (int k = 0; k < 3; k++) {
    snprintf(want, sizeof(want), "%d", k);
    CHECK_EQ(c4j_send_to(e, "rw", 2, "x", 1, want, 1, 3), 0);
  }
  usleep(50000);
  CHECK_EQ(attach(e, c, "rw", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strncmp(text, "{\"t\":\"open\",\"cId\":\"rw\"", 22) == 0);
  for (int k = 0; k < 3; k++) {
    snprintf(want, sizeof(want),
             "{\"t\":\"msg\",\"ch\":\"x\",\"data\":%d,\"time\":3}", k);
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    CHECK_STR(text, want);
  }
  ev = wait_event(e, C4J_EV_REVIVAL, "rw");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->transport, "websocket");
  for (int i = 0; i < nevents; i++)
    CHECK(!(events[i].type == C4J_EV_CONNECT &&
            strcmp(events[i].cid, "rw") == 0));
  client_close(c);
  free(c);
  finish(e);
}

/* ---- Where the client is, ghosts without a dying phase ----------------------- */

/* Behind a proxy on this machine, the client's address is the
 * X-Forwarded-For the proxy sends. */
TEST(identity_address_from_a_local_proxy) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200], text[512];
  event_t *ev;
  if (e == NULL) return;
  reset_events();
  mint(e, "px", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(upgrade(c, c4j_engine_port(e), target,
                   "X-Forwarded-For: 203.0.113.7\r\n", 0), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  ev = wait_event(e, C4J_EV_CONNECT, "px");
  CHECK(ev != NULL);
  if (ev) CHECK_STR(ev->ip, "203.0.113.7");
  client_close(c);
  free(c);
  finish(e);
}

/* With conn_expires_ms 0 there is no dying phase: a long-poll client that
 * does not poll again within hold + heartbeat is dropped, 1006 "poll not
 * renewed", never before. */
TEST(identity_parked_poll_not_renewed_is_dropped) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[2200];
  uint64_t t0;
  event_t *ev;
  c4j_stats_t st;
  base_config(&cfg);
  cfg.idle_timeout_ms = 600; /* held 300 ms */
  cfg.heartbeat_ms = 500;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  mint(e, "nr", NULL, "[]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL), 200);
  t0 = ms_now();
  client_close(c);
  ev = wait_event(e, C4J_EV_DROP, "nr");
  CHECK(ev != NULL);
  CHECK(ms_now() - t0 >= 700);
  if (ev) {
    CHECK_EQ(ev->code, 1006);
    CHECK_STR(ev->text, "poll not renewed");
  }
  for (int i = 0; i < nevents; i++)
    CHECK(events[i].type != C4J_EV_DYING && events[i].type != -C4J_EV_DYING);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.conns, 0);
  free(c);
  finish(e);
}

/* A page that comes back on another worker while its old transport is
 * still attached replaces it (4004): the identity lives on in the new
 * connection, and who is here says so (no leave, still a member). */
TEST(identity_replace_across_workers_keeps_who_is_here) {
  c4j_engine_t *e = start_default(); /* two workers: a and b on each */
  client_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  char text[512];
  c4j_stats_t st;
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, a, "rw", "[\"room\"]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, "rw") != NULL);
  CHECK_EQ(attach(e, b, "rw", "[\"room\"]"), 101);
  CHECK_EQ(read_text(b, text, sizeof(text)), 0);
  CHECK_EQ(read_close(a, NULL, 0), C4J_CLOSE_REPLACED);
  CHECK(wait_event(e, C4J_EV_DROP, "rw") != NULL);
  pump(e, 200);
  CHECK_EQ(c4j_member_count(e, "room", 4, 0, 100), 1);
  CHECK(c4j_identity(e, "rw", 2, text, sizeof(text)) > 0);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.conns, 1);
  for (int i = 0; i < nevents; i++) /* no leave of room */
    CHECK(!(events[i].type == C4J_EV_SUB && events[i].port == 0));
  CHECK_EQ(c4j_send_all(e, "room", 4, "1", 1, 0), 0);
  CHECK_EQ(read_text(b, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"ch\":\"room\"") != NULL);
  client_close(a);
  client_close(b);
  free(a);
  free(b);
  finish(e);
}

/* A ghost that kept as much as max_queue allows gives it all to its
 * revival, on top of the new answer head and open frame: not a slow
 * consumer. */
TEST(identity_revival_with_a_full_ghost) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], data[128];
  int last = -1, op;
  size_t len;
  base_config(&cfg);
  cfg.threads = 1;
  cfg.conn_expires_ms = 3000;
  cfg.max_queue = 2048;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach(e, c, "fg", "[]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  client_close(c);
  CHECK(wait_event(e, C4J_EV_DYING, "fg") != NULL);
  for (int k = 0; k < 100; k++) {
    int n = snprintf(data, sizeof(data), "{\"k\":%d,\"pad\":\"%060d\"}", k, 0);
    CHECK_EQ(c4j_send_to(e, "fg", 2, "x", 1, data, (size_t)n, 1), 0);
  }
  pump(e, 100);
  CHECK_EQ(attach(e, c, "fg", "[]"), 101);
  while ((op = read_frame(c, text, sizeof(text), &len)) == C4J_WS_OP_TEXT) {
    const char *k = strstr(text, "\"k\":");
    if (k) last = atoi(k + 4);
    if (last == 99) break;
  }
  CHECK_EQ(op, C4J_WS_OP_TEXT);
  CHECK_EQ(last, 99); /* the newest kept frames, then nothing lost */
  CHECK(wait_event(e, C4J_EV_REVIVAL, "fg") != NULL);
  {
    c4j_stats_t st;
    c4j_engine_stats(e, &st);
    CHECK_EQ(st.slow_consumers, 0);
    CHECK_EQ(st.conns, 1);
  }
  client_close(c);
  free(c);
  finish(e);
}

TEST_MAIN(T(identity_disconnect_drop_and_replace),
          T(identity_resume_replays_without_gap_or_duplicate),
          T(identity_dying_keeps_send_to_and_revives_elsewhere),
          T(identity_revival_resumes_without_since),
          T(identity_dying_expires_with_4005),
          T(identity_replace_on_one_worker), T(identity_revival_on_one_worker),
          T(identity_replace_across_workers_keeps_who_is_here),
          T(identity_revival_with_a_full_ghost),
          T(identity_address_from_a_local_proxy),
          T(identity_parked_poll_not_renewed_is_dropped))
