/* test-subscription.c - run-time (un)subscriptions (subscription.c) and the
 * register of who is here they keep (identity.c, members.c, presence.c),
 * over a real engine and real sockets: every subscription with an ack id
 * is answered, out of memory too; the SUB events in their order; the
 * answers of c4j_members, c4j_online, c4j_identity, c4j_user_identities;
 * the join and leave frames of a presence channel; the ack and where it
 * says the channel stands, unsubscribing, the 4290 over C4J_MAX_CHANNELS,
 * and subscriptions kept by the identity across a revival and poll hops.
 */
#include "engine-client.h"
#include "common.h"

/* Waits (up to 5 s) for the SUB event of cid on channel ch (subscribed
 * `on`); NULL on timeout. */
static event_t *wait_sub(c4j_engine_t *e, const char *cid, const char *ch,
                         int on) {
  for (uint64_t end = c4j__mono_ms() + 5000; c4j__mono_ms() < end;) {
    for (int i = 0; i < nevents; i++)
      if (events[i].type == C4J_EV_SUB && strcmp(events[i].cid, cid) == 0 &&
          strcmp(events[i].text, ch) == 0 && events[i].port == on) {
        events[i].type = -events[i].type;
        return &events[i];
      }
    pump(e, 50);
  }
  return NULL;
}

/* How many SUB events of cid on ch (subscribed `on`) wait unread, after
 * 200 ms more of events. */
static int subs_waiting(c4j_engine_t *e, const char *cid, const char *ch,
                        int on) {
  int n = 0;
  pump(e, 200);
  for (int i = 0; i < nevents; i++)
    n += events[i].type == C4J_EV_SUB && strcmp(events[i].cid, cid) == 0 &&
         strcmp(events[i].text, ch) == 0 && events[i].port == on;
  return n;
}

static int ws(c4j_engine_t *e, client_t *c, const char *cid,
              const char *user, const char *channels) {
  char ticket[2048], target[2200];
  mint(e, cid, user, channels, 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  return upgrade(c, c4j_engine_port(e), target, NULL, 0);
}

/* The answer of a question of the core into a static buffer. */
static const char *members(c4j_engine_t *e, const char *ch) {
  static char out[4096];
  int n = c4j_members(e, ch, strlen(ch), 0, out, sizeof(out), 100);
  if (n < 0) snprintf(out, sizeof(out), "error %d", n);
  return out;
}

static const char *online(c4j_engine_t *e, const char *user) {
  static char out[1024];
  int n = c4j_online(e, user, user ? strlen(user) : 0, 0, out, sizeof(out),
                     100);
  if (n < 0) snprintf(out, sizeof(out), "error %d", n);
  return out;
}

/* The worker runs out of memory as it subscribes: the page still gets an
 * answer (err 5030 with its id) instead of waiting for its timeout, the
 * embedder hears the refusal, nothing is counted, and the next
 * subscription works. */
TEST(subscription_out_of_memory_is_answered) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  event_t *ev;
  base_config(&cfg);
  cfg.threads = 1; /* the client is c4j-worker-0's */
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(ws(e, c, "oom", "olga", "[\"news\"]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0); /* open */
  CHECK(wait_event(e, C4J_EV_CONNECT, "oom") != NULL);
  /* Its registration (after CONNECT) is over once its join is told. */
  CHECK(wait_sub(e, "oom", "news", 1) != NULL);
  c4j__alloc_fail_next("c4j-worker-0");
  CHECK_EQ(c4j_subscribe(e, "oom", 3, "room", 4, 7), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"err\",\"id\":7,\"code\":5030,"
                  "\"message\":\"out of memory\"}");
  CHECK((ev = wait_sub(e, "oom", "room", 1)) != NULL);
  CHECK_EQ(ev ? ev->code : -1, 5030);
  CHECK_EQ(c4j_member_count(e, "room", 4, 0, 100), 0);
  CHECK_EQ(c4j_subscribe(e, "oom", 3, "room", 4, 8), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"ack\",\"id\":8,\"pos\":{}}");
  CHECK((ev = wait_sub(e, "oom", "room", 1)) != NULL);
  CHECK_EQ(ev ? ev->code : -1, 0);
  CHECK_EQ(c4j_member_count(e, "room", 4, 0, 100), 1);
  client_close(c);
  free(c);
  finish(e);
}

/* The SUB events, in order: after CONNECT one per ticket channel, one per
 * run-time change or refusal (none for a subscription that changes
 * nothing), and before DROP one per channel left. */
TEST(subscription_events_in_order) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  int connect_at = -1, drop_at = -1, last_sub = -1, first_sub = -1;
  event_t *ev;
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(ws(e, c, "ev", "eve", "[\"a\",\"b\"]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(wait_sub(e, "ev", "a", 1) != NULL);
  CHECK(wait_sub(e, "ev", "b", 1) != NULL);
  CHECK_EQ(c4j_subscribe(e, "ev", 2, "c", 1, 1), 0);
  CHECK_EQ(c4j_subscribe(e, "ev", 2, "a", 1, 2), 0); /* has it: no event */
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK((ev = wait_sub(e, "ev", "c", 1)) != NULL);
  CHECK_EQ(ev ? ev->code : -1, 0);
  CHECK_EQ(subs_waiting(e, "ev", "a", 1), 0); /* only the first */
  CHECK_EQ(c4j_unsubscribe(e, "ev", 2, "b", 1), 0);
  CHECK(wait_sub(e, "ev", "b", 0) != NULL);
  /* Over the limit: refused with 4290, not counted. */
  for (int i = 0; i < C4J_MAX_CHANNELS - 2; i++) {
    char ch[16];
    int n = snprintf(ch, sizeof(ch), "x%d", i);
    CHECK_EQ(c4j_subscribe(e, "ev", 2, ch, (size_t)n, -1), 0);
  }
  CHECK_EQ(c4j_subscribe(e, "ev", 2, "over", 4, 3), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"code\":4290") != NULL);
  CHECK((ev = wait_sub(e, "ev", "over", 1)) != NULL);
  CHECK_EQ(ev ? ev->code : -1, 4290);
  CHECK_EQ(c4j_member_count(e, "over", 4, 0, 100), 0);
  CHECK_EQ(c4j_member_count(e, "x0", 2, 0, 100), 1);
  /* Dropped: the leaves come before the DROP. */
  CHECK_EQ(c4j_drop(e, "ev", 2, 4003, "bye"), 0);
  CHECK(wait_event(e, C4J_EV_DROP, "ev") != NULL);
  for (int i = 0; i < nevents; i++) {
    int t = events[i].type < 0 ? -events[i].type : events[i].type;
    if (strcmp(events[i].cid, "ev") != 0) continue;
    if (t == C4J_EV_CONNECT) connect_at = i;
    if (t == C4J_EV_DROP) drop_at = i;
    if (t == C4J_EV_SUB && first_sub < 0) first_sub = i;
    if (t == C4J_EV_SUB) last_sub = i;
  }
  CHECK(connect_at >= 0 && first_sub > connect_at);
  CHECK(drop_at > last_sub);
  CHECK(wait_sub(e, "ev", "x0", 0) != NULL);
  CHECK(wait_sub(e, "ev", "c", 0) != NULL);
  CHECK_EQ(c4j_member_count(e, "x0", 2, 0, 100), 0);
  client_close(c);
  free(c);
  finish(e);
}

/* The core's answers: members sorted by id, online counts, an identity,
 * a user's identities; too small a buffer; bad names. */
TEST(subscription_questions) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  client_t *x = calloc(1, sizeof(*x));
  char text[512], small[8];
  base_config(&cfg);
  cfg.conn_expires_ms = 5000; /* a lost page stays a member while dying */
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(ws(e, b, "qb", "uma", "[\"news\",\"room\"]"), 101);
  CHECK_EQ(ws(e, a, "qa", "uma", "[\"news\"]"), 101);
  CHECK_EQ(ws(e, x, "qx", NULL, "[\"news\"]"), 101);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(read_text(i == 0 ? a : i == 1 ? b : x, text, sizeof(text)), 0);
  CHECK(wait_sub(e, "qx", "news", 1) != NULL);
  CHECK(wait_sub(e, "qa", "news", 1) != NULL);
  CHECK(wait_sub(e, "qb", "room", 1) != NULL);
  CHECK_STR(members(e, "news"),
            "{\"channel\":\"news\",\"count\":3,\"members\":["
            "{\"cId\":\"qa\",\"user\":\"uma\"},{\"cId\":\"qb\",\"user\":\"uma\"},"
            "{\"cId\":\"qx\",\"user\":null}]}");
  CHECK_STR(members(e, "none"),
            "{\"channel\":\"none\",\"count\":0,\"members\":[]}");
  CHECK_STR(members(e, "bad name"), "error -1004");
  CHECK_STR(online(e, NULL), "{\"users\":1,\"connections\":3}");
  CHECK_STR(online(e, "uma"),
            "{\"user\":\"uma\",\"online\":true,\"connections\":2}");
  CHECK_STR(online(e, "ned"),
            "{\"user\":\"ned\",\"online\":false,\"connections\":0}");
  CHECK(c4j_identity(e, "qb", 2, text, sizeof(text)) > 0);
  CHECK_STR(text, "{\"cId\":\"qb\",\"user\":\"uma\","
                  "\"channels\":[\"news\",\"room\"]}");
  CHECK_EQ(c4j_identity(e, "zz", 2, text, sizeof(text)), C4J_ENOCONN);
  CHECK(c4j_user_identities(e, "uma", 3, text, sizeof(text)) > 0);
  CHECK(strcmp(text, "[\"qa\",\"qb\"]") == 0 ||
        strcmp(text, "[\"qb\",\"qa\"]") == 0);
  CHECK_EQ(c4j_members(e, "news", 4, 0, small, sizeof(small), 100),
           C4J_ETOOBIG);
  CHECK_EQ(c4j_member_count(e, "room", 4, 1, 100), 1); /* local: no hub */
  /* A lost page is still a member while dying; gone after its DROP. */
  client_close(a);
  CHECK(wait_event(e, C4J_EV_DYING, "qa") != NULL);
  CHECK_EQ(c4j_member_count(e, "news", 4, 0, 100), 3);
  CHECK_EQ(c4j_drop(e, "qa", 2, 4003, "gone"), 0);
  CHECK(wait_event(e, C4J_EV_DROP, "qa") != NULL);
  CHECK_EQ(c4j_member_count(e, "news", 4, 0, 100), 2);
  CHECK_STR(online(e, "uma"),
            "{\"user\":\"uma\",\"online\":true,\"connections\":1}");
  client_close(b);
  client_close(x);
  free(a);
  free(b);
  free(x);
  finish(e);
}

/* A presence channel: every member hears each join (its own too) and
 * each leave; a plain channel says nothing. */
TEST(subscription_presence_frames) {
  c4j_engine_t *e = start_default();
  client_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  char text[512];
  if (e == NULL) return;
  CHECK_EQ(c4j_channel_presence(e, "lobby", 5, 1), 0);
  CHECK_EQ(c4j_channel_presence(e, "bad name", 8, 1), C4J_EBADNAME);
  CHECK_EQ(ws(e, a, "pa", "ann", "[\"lobby\",\"plain\"]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0); /* open */
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"join\",\"ch\":\"lobby\",\"cId\":\"pa\","
                  "\"user\":\"ann\"}");
  CHECK_EQ(ws(e, b, "pb", NULL, "[\"lobby\"]"), 101);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"join\",\"ch\":\"lobby\",\"cId\":\"pb\","
                  "\"user\":null}");
  /* b leaves lobby at run time, then comes back, then is dropped. */
  CHECK_EQ(c4j_unsubscribe(e, "pb", 2, "lobby", 5), 0);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"leave\",\"ch\":\"lobby\",\"cId\":\"pb\","
                  "\"user\":null}");
  CHECK_EQ(c4j_subscribe(e, "pb", 2, "lobby", 5, -1), 0);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(strstr(text, "{\"t\":\"join\",\"ch\":\"lobby\",\"cId\":\"pb\"") ==
        text);
  CHECK_EQ(c4j_drop(e, "pb", 2, 4003, "bye"), 0);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(strstr(text, "{\"t\":\"leave\",\"ch\":\"lobby\",\"cId\":\"pb\"") ==
        text);
  /* Not a presence channel any more: a's own leave says nothing. */
  CHECK_EQ(c4j_channel_presence(e, "lobby", 5, 0), 0);
  CHECK_EQ(c4j_unsubscribe(e, "pa", 2, "lobby", 5), 0);
  CHECK_EQ(c4j_send_all(e, "plain", 5, "1", 1, 0), 0);
  CHECK_EQ(read_text(a, text, sizeof(text)), 0);
  CHECK(strstr(text, "{\"t\":\"msg\",\"ch\":\"plain\"") == text);
  client_close(a);
  client_close(b);
  free(a);
  free(b);
  finish(e);
}

static void send_on(c4j_engine_t *e, const char *ch, int k) {
  char data[32];
  int n = snprintf(data, sizeof(data), "{\"k\":%d}", k);
  CHECK_EQ(c4j_send_all(e, ch, strlen(ch), data, (size_t)n, 1), 0);
}

/* Whether text is {"t":"ack","id":id,"pos":{"<ch>":["<8>",off]}}; the
 * epoch goes to epoch. */
static int is_ack(const char *text, int id, const char *ch, uint64_t off,
                  char epoch[9]) {
  char head[128], tail[64];
  size_t h = (size_t)snprintf(head, sizeof(head),
                              "{\"t\":\"ack\",\"id\":%d,\"pos\":{\"%s\":[\"",
                              id, ch);
  snprintf(tail, sizeof(tail), "\",%" PRIu64 "]}}", off);
  if (strncmp(text, head, h) != 0 || strlen(text) != h + 8 + strlen(tail) ||
      strcmp(text + h + 8, tail) != 0)
    return 0;
  memcpy(epoch, text + h, 8);
  epoch[8] = '\0';
  return 1;
}

TEST(subscription_ack_and_unsubscribe) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], epoch[9] = "", e2[9] = "";
  base_config(&cfg);
  cfg.history_size = 10;
  e = start(&cfg);
  if (e == NULL) return;
  CHECK_EQ(attach_user(e, c, "sb", NULL, "[\"news\"]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0); /* open */
  send_on(e, "room", 0);
  send_on(e, "room", 1);
  /* From now, with an ack saying where: no replay of 1 and 2. */
  CHECK_EQ(c4j_subscribe(e, "sb", 2, "room", 4, 7), 0);
  send_on(e, "room", 2);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(is_ack(text, 7, "room", 2, epoch));
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"ch\":\"room\"") != NULL);
  CHECK_EQ(frame_offset(text, e2), 3);
  CHECK_STR(e2, epoch);
  /* Twice: nothing changes, still acked, where it stands. */
  CHECK_EQ(c4j_subscribe(e, "sb", 2, "room", 4, 8), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(is_ack(text, 8, "room", 3, e2));
  /* Without an ack id: subscribed, nothing said. */
  CHECK_EQ(c4j_subscribe(e, "sb", 2, "quiet", 5, -1), 0);
  send_on(e, "quiet", 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "{\"t\":\"msg\",\"ch\":\"quiet\",") == text);
  /* Unsubscribed: no more. */
  CHECK_EQ(c4j_unsubscribe(e, "sb", 2, "room", 4), 0);
  send_on(e, "room", 3);
  send_on(e, "news", 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"ch\":\"news\"") != NULL);
  /* Bad arguments. */
  CHECK_EQ(c4j_subscribe(e, "sb", 2, "bad name", 8, 1), C4J_EBADNAME);
  CHECK_EQ(c4j_subscribe(e, "", 0, "room", 4, 1), C4J_EBADNAME);
  /* An unknown id: accepted, ignored. */
  CHECK_EQ(c4j_subscribe(e, "nobody", 6, "room", 4, 1), 0);
  client_close(c);
  free(c);
  finish(e);
}

/* 4290 over C4J_MAX_CHANNELS, and the channel not subscribed. */
TEST(subscription_limit) {
  c4j_engine_t *e = start_default();
  client_t *c = calloc(1, sizeof(*c));
  char text[512];
  if (e == NULL) return;
  CHECK_EQ(attach_user(e, c, "lim", NULL, "[\"news\"]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0); /* open */
  for (int i = 1; i < C4J_MAX_CHANNELS; i++) {
    char ch[16];
    int n = snprintf(ch, sizeof(ch), "c%d", i);
    CHECK_EQ(c4j_subscribe(e, "lim", 3, ch, (size_t)n, -1), 0);
  }
  CHECK_EQ(c4j_subscribe(e, "lim", 3, "over", 4, 9), 0);
  CHECK_EQ(c4j_subscribe(e, "lim", 3, "c7", 2, 10), 0); /* had: acked */
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"err\",\"id\":9,\"code\":4290,"
                  "\"message\":\"too many subscriptions\"}");
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"ack\",\"id\":10,\"pos\":{}}");
  send_on(e, "over", 0);
  send_on(e, "c255", 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"ch\":\"c255\"") != NULL);
  client_close(c);
  free(c);
  finish(e);
}

/* A run-time subscription (and an unsubscription) belong to the identity:
 * a WebSocket revival and long-poll hops, across the two workers, keep
 * them, with neither loss nor duplicate, while the ticket still says
 * otherwise. */
TEST(subscription_survives_revival_and_poll_hop) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char text[512], epoch[9] = "", e2[9] = "", want[128];
  char ticket[2048], target[3000];
  const char *b;
  base_config(&cfg);
  cfg.history_size = 10;
  cfg.conn_expires_ms = 5000;
  cfg.idle_timeout_ms = 600; /* polls held 300 ms */
  cfg.heartbeat_ms = 500;
  e = start(&cfg);
  if (e == NULL) return;
  reset_events();
  CHECK_EQ(attach_user(e, c, "rs", NULL, "[\"news\"]"), 101);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0); /* open */
  CHECK_EQ(c4j_subscribe(e, "rs", 2, "room", 4, 1), 0);
  CHECK_EQ(c4j_unsubscribe(e, "rs", 2, "news", 4), 0);
  send_on(e, "room", 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(is_ack(text, 1, "room", 0, epoch));
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_EQ(frame_offset(text, e2), 1);
  client_close(c);
  CHECK(wait_event(e, C4J_EV_DYING, "rs") != NULL);
  /* While dying: missed on room, not wanted on news; a subscription made
   * now counts from now. */
  send_on(e, "room", 1);
  send_on(e, "news", 1);
  send_on(e, "late", 0);
  CHECK_EQ(c4j_subscribe(e, "rs", 2, "late", 4, 2), 0);
  send_on(e, "late", 1);
  /* Two revivals, so that one lands on the other worker. */
  for (int round = 0; round < 2; round++) {
    CHECK_EQ(attach_user(e, c, "rs", NULL, "[\"news\"]"), 101);
    CHECK_EQ(read_text(c, text, sizeof(text)), 0);
    CHECK(strstr(text, "{\"t\":\"open\"") == text);
    CHECK(strstr(text, "\"pos\":{") != NULL);
    CHECK(strstr(text, "\"news\":[") == NULL);
    snprintf(want, sizeof(want), "\"room\":[\"%s\",%d]", epoch,
             round == 0 ? 1 : 3);
    CHECK(strstr(text, want) != NULL);
    if (round == 0) {
      /* the replay and the kept ack, in some order per channel */
      int room = 0, late = 0, ack = 0;
      for (int k = 0; k < 3; k++) {
        CHECK_EQ(read_text(c, text, sizeof(text)), 0);
        if (strstr(text, "\"ch\":\"room\""))
          room = (int)frame_offset(text, e2);
        else if (strstr(text, "\"ch\":\"late\""))
          late = (int)frame_offset(text, e2);
        else if (is_ack(text, 2, "late", 1, e2))
          ack = 1;
      }
      CHECK_EQ(room, 2);
      CHECK_EQ(late, 2);
      CHECK(ack);
      send_on(e, "news", 2);
      send_on(e, "room", 2);
      CHECK_EQ(read_text(c, text, sizeof(text)), 0);
      CHECK(strstr(text, "\"ch\":\"room\"") != NULL);
      CHECK_EQ(frame_offset(text, e2), 3);
      CHECK(wait_event(e, C4J_EV_REVIVAL, "rs") != NULL);
      client_close(c);
      CHECK(wait_event(e, C4J_EV_DYING, "rs") != NULL);
    } else {
      send_on(e, "news", 3);
      send_on(e, "late", 2);
      CHECK_EQ(read_text(c, text, sizeof(text)), 0);
      CHECK(strstr(text, "\"ch\":\"late\"") != NULL);
      CHECK_EQ(frame_offset(text, e2), 3);
      client_close(c);
    }
  }

  /* Long-poll: subscribed between two polls (a parked ghost), the ack and
   * what followed come with the next poll, on either worker; and again
   * after one more hop. */
  mint(e, "lq", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL), 200);
  CHECK(strncmp(body_of(c), "[{\"t\":\"open\"", 12) == 0);
  client_close(c);
  CHECK_EQ(c4j_subscribe(e, "lq", 2, "room", 4, 5), 0);
  CHECK_EQ(c4j_unsubscribe(e, "lq", 2, "news", 4), 0);
  send_on(e, "room", 3);
  send_on(e, "news", 4);
  /* A command that finds the answered poll still closing waits for the
   * next tick (C4J__LATER); subscription_follows_its_identity races it
   * with the next poll. */
  usleep(400000);
  for (int hop = 0; hop < 3; hop++) {
    CHECK_EQ(http(c, c4j_engine_port(e), "GET", target, NULL, NULL, NULL),
             200);
    b = body_of(c);
    if (hop == 0) {
      snprintf(want, sizeof(want),
               "{\"t\":\"ack\",\"id\":5,\"pos\":{\"room\":[\"%s\",3]}}",
               epoch);
      CHECK(strstr(b, want) != NULL);
      CHECK(strstr(b, "\"ch\":\"room\",\"e\"") != NULL);
      CHECK(strstr(b, "\"o\":4") != NULL);
      CHECK(strstr(b, "\"ch\":\"news\"") == NULL);
      send_on(e, "news", 5);
      send_on(e, "room", 4);
    } else if (hop == 1) {
      CHECK(strstr(b, "\"ch\":\"room\"") != NULL);
      CHECK(strstr(b, "\"o\":5") != NULL);
      CHECK(strstr(b, "\"o\":4") == NULL);
      CHECK(strstr(b, "\"ch\":\"news\"") == NULL);
    } else {
      CHECK_STR(b, "[]");
    }
    client_close(c);
  }
  free(c);
  finish(e);
}

/* Counts "ack" frames with id in text. */
static int acks_of(const char *text, int id) {
  char want[48];
  int n = 0;
  snprintf(want, sizeof(want), "{\"t\":\"ack\",\"id\":%d,", id);
  for (const char *p = text; (p = strstr(p, want)) != NULL; p++) n++;
  return n;
}

/* One long-poll of target: the request goes out, then run(e) (the
 * command racing with the poll's attach, on whichever worker it lands),
 * then the whole answer is read; its body is appended to got. */
static void poll_racing(c4j_engine_t *e, client_t *c, const char *target,
                        void (*run)(c4j_engine_t *, int), int arg,
                        char *got, size_t cap) {
  char req[3100];
  int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                   target);
  memset(c, 0, sizeof(*c));
  c->fd = tcp_connect(c4j_engine_port(e), 0);
  CHECK_EQ(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
  if (run != NULL) run(e, arg);
  while (c->len + 1 < sizeof(c->buf) && fill(c) > 0) {
  }
  c->buf[c->len] = '\0';
  if (strlen(got) + strlen(body_of(c)) < cap) strcat(got, body_of(c));
  client_close(c);
}

static void sub_room(c4j_engine_t *e, int id) {
  CHECK_EQ(c4j_subscribe(e, "lr", 2, "room", 4, id), 0);
}
static void unsub_room(c4j_engine_t *e, int id) {
  (void)id;
  CHECK_EQ(c4j_unsubscribe(e, "lr", 2, "room", 4), 0);
}

/* Run-time (un)subscriptions made while a long-poll client hops between
 * the two workers, each one right as the next poll attaches: every one is
 * applied once, in the order made, on whichever worker holds the identity
 * when its turn comes (none is lost to the worker the identity left). */
TEST(subscription_follows_its_identity_across_poll_hops) {
  enum { HOPS = 16 };
  c4j_config_t cfg;
  c4j_engine_t *e;
  client_t *c = calloc(1, sizeof(*c));
  char ticket[2048], target[3000];
  static char got[1 << 16];
  base_config(&cfg);
  cfg.history_size = 10;
  cfg.conn_expires_ms = 5000;
  cfg.idle_timeout_ms = 600; /* polls held 300 ms */
  cfg.heartbeat_ms = 500;
  e = start(&cfg);
  if (e == NULL) return;
  mint(e, "lr", NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
  got[0] = '\0';
  poll_racing(e, c, target, NULL, 0, got, sizeof(got));
  CHECK(strncmp(got, "[{\"t\":\"open\"", 12) == 0);
  /* Subscribe (ack 1, 3, ...) and unsubscribe in turn, ending with an
   * unsubscription. */
  for (int hop = 0; hop < HOPS; hop++)
    poll_racing(e, c, target, hop % 2 ? unsub_room : sub_room, hop + 1, got,
                sizeof(got));
  for (int k = 0; k < 4; k++) {
    int all = 1;
    for (int id = 1; id <= HOPS; id += 2) all &= acks_of(got, id) == 1;
    if (all) break;
    poll_racing(e, c, target, NULL, 0, got, sizeof(got));
  }
  for (int id = 1; id <= HOPS; id += 2) {
    if (acks_of(got, id) != 1) fprintf(stderr, "ack %d\n", id);
    CHECK_EQ(acks_of(got, id), 1);
  }
  /* The last command was an unsubscription: room is not heard, news is. */
  got[0] = '\0';
  send_on(e, "room", 1);
  send_on(e, "news", 1);
  poll_racing(e, c, target, NULL, 0, got, sizeof(got));
  CHECK(strstr(got, "\"ch\":\"news\"") != NULL);
  CHECK(strstr(got, "\"ch\":\"room\"") == NULL);
  /* And a subscription racing the next poll hears what follows it. */
  got[0] = '\0';
  poll_racing(e, c, target, sub_room, 99, got, sizeof(got));
  for (int k = 0; k < 4 && acks_of(got, 99) == 0; k++)
    poll_racing(e, c, target, NULL, 0, got, sizeof(got));
  CHECK_EQ(acks_of(got, 99), 1);
  send_on(e, "room", 2);
  poll_racing(e, c, target, NULL, 0, got, sizeof(got));
  CHECK(strstr(got, "\"ch\":\"room\",\"e\"") != NULL);
  free(c);
  finish(e);
}

TEST_MAIN(T(subscription_out_of_memory_is_answered),
          T(subscription_events_in_order), T(subscription_questions),
          T(subscription_presence_frames), T(subscription_ack_and_unsubscribe),
          T(subscription_limit), T(subscription_survives_revival_and_poll_hop),
          T(subscription_follows_its_identity_across_poll_hops))
