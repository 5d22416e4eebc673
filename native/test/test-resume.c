/* test-resume.c - where the subscriptions of an attaching identity start,
 * against a real history: after the client's `since` when it names the
 * channel's epoch, else after the position carried from its previous
 * connection, else after the newest broadcast; what is replayed and which
 * `recovered` frame is owed; the positions a connection leaves, and
 * unsent frames putting a position back. */
#include <jansson.h>

#include "buf.h"
#include "channel.h"
#include "common.h"
#include "history.h"
#include "resume.h"
#include "test.h"

/* ~a minute: entries stamped now never expire during a test. */
#define AGE_MS 60000

/* Broadcasts one frame on name; returns its buffer (borrowed: the history
 * keeps it). */
static c4j__buf_t *broadcast(c4j__hist_t *h, const char *name) {
  c4j__hist_chan_t *ch;
  c4j__buf_t *b = c4j__buf_copy("x", 1);
  c4j__hist_lock(h);
  ch = c4j__hist_chan(h, name, strlen(name));
  b->offset = ch->last + 1;
  b->chan = ch;
  CHECK_EQ(c4j__hist_append(h, ch, b, c4j__mono_ms()), 0);
  c4j__hist_unlock(h);
  c4j__buf_unref(b);
  return b;
}

static c4j__hist_chan_t *chan(c4j__hist_t *h, const char *name) {
  c4j__hist_chan_t *ch;
  c4j__hist_lock(h);
  ch = c4j__hist_chan(h, name, strlen(name));
  c4j__hist_unlock(h);
  return ch;
}

/* {"name": [epoch, offset]} */
static json_t *since_of(const char *name, const char *epoch, long offset) {
  return json_pack("{s:[s,I]}", name, epoch, (json_int_t)offset);
}

/* One connection subscribed to the channels named, in this order (the
 * index prepends: the list holds them the other way round). */
typedef struct {
  c4j__chan_index_t idx;
  c4j__sub_t *subs;
  int conn;
} conn_t;

static void subscribe(conn_t *c, const char *a, const char *b) {
  c4j__chan_index_init(&c->idx);
  c->subs = NULL;
  if (b != NULL) c4j__chan_subscribe(&c->idx, b, strlen(b), &c->conn, &c->subs);
  c4j__chan_subscribe(&c->idx, a, strlen(a), &c->conn, &c->subs);
}

static void unsubscribe(conn_t *c) {
  c4j__chan_unsubscribe_all(&c->idx, &c->subs);
  c4j__chan_index_free(&c->idx);
}

static unsigned refs(const c4j__buf_t *b) { return atomic_load(&b->refs); }

TEST(resume_fresh_starts_after_the_newest) {
  c4j__hist_t h;
  conn_t c;
  c4j__start_t st[1];
  CHECK_EQ(c4j__hist_init(&h, 4, AGE_MS), 0);
  for (int i = 0; i < 3; i++) broadcast(&h, "news");
  subscribe(&c, "news", NULL);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, NULL, NULL, st), 0);
  CHECK_EQ(st[0].start, 3);
  CHECK_EQ(st[0].n, 0);
  CHECK_EQ(st[0].say, C4J__SAY_NOTHING);
  CHECK(c.subs->hist == chan(&h, "news"));
  CHECK_EQ(c.subs->last, 3);
  c4j__resume_free(st, 1);
  unsubscribe(&c);
  c4j__hist_free(&h);
}

TEST(resume_since_in_the_epoch_replays) {
  c4j__hist_t h;
  conn_t c;
  c4j__start_t st[1];
  c4j__buf_t *b[4];
  json_t *since;
  CHECK_EQ(c4j__hist_init(&h, 8, AGE_MS), 0);
  for (int i = 0; i < 4; i++) b[i] = broadcast(&h, "news");
  subscribe(&c, "news", NULL);
  since = since_of("news", chan(&h, "news")->epoch, 1);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_RECOVERED);
  CHECK_EQ(st[0].start, 1);
  CHECK_EQ(c.subs->last, 1);
  CHECK_EQ(st[0].n, 3);
  for (size_t i = 0; i < st[0].n && i < 3; i++) {
    CHECK(st[0].missed[i] == b[i + 1]);   /* oldest first */
    CHECK_EQ(st[0].missed[i]->offset, i + 2);
  }
  /* Each replayed frame holds its own reference until freed. */
  CHECK_EQ(refs(b[1]), 2);
  CHECK_EQ(refs(b[0]), 1);
  c4j__resume_free(st, 1);
  CHECK_EQ(refs(b[1]), 1);
  CHECK(st[0].missed == NULL);
  CHECK_EQ(st[0].n, 0);
  /* Up to date: nothing to replay, still recovered. */
  json_decref(since);
  since = since_of("news", chan(&h, "news")->epoch, 4);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_RECOVERED);
  CHECK_EQ(st[0].start, 4);
  CHECK_EQ(st[0].n, 0);
  c4j__resume_free(st, 1);
  json_decref(since);
  unsubscribe(&c);
  c4j__hist_free(&h);
}

TEST(resume_since_lost) {
  c4j__hist_t h;
  conn_t c;
  c4j__start_t st[1];
  json_t *since;
  char epoch[C4J__EPOCH_LEN + 1];
  CHECK_EQ(c4j__hist_init(&h, 3, AGE_MS), 0);
  for (int i = 0; i < 6; i++) broadcast(&h, "news"); /* 4..6 kept */
  subscribe(&c, "news", NULL);
  snprintf(epoch, sizeof(epoch), "%s", chan(&h, "news")->epoch);
  /* A gap older than the ring: lost, from the newest. */
  since = since_of("news", epoch, 2);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_LOST);
  CHECK_EQ(st[0].start, 6);
  CHECK_EQ(st[0].n, 0);
  CHECK_EQ(c.subs->last, 6);
  json_decref(since);
  /* The oldest kept is still recoverable. */
  since = since_of("news", epoch, 3);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_RECOVERED);
  CHECK_EQ(st[0].n, 3);
  c4j__resume_free(st, 1);
  json_decref(since);
  /* An offset ahead of the channel: lost. */
  since = since_of("news", epoch, 9);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_LOST);
  CHECK_EQ(st[0].start, 6);
  json_decref(since);
  /* Another epoch, nothing carried: lost, from the newest. */
  since = since_of("news", "AAAAAAAA", 5);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_LOST);
  CHECK_EQ(st[0].start, 6);
  CHECK_EQ(st[0].n, 0);
  json_decref(since);
  unsubscribe(&c);
  c4j__hist_free(&h);
}

TEST(resume_carried_position) {
  c4j__hist_t h;
  conn_t c;
  c4j__start_t st[1];
  c4j__pos_t *carried = c4j__malloc(sizeof(*carried) + sizeof(carried->v[0]));
  json_t *since;
  CHECK_EQ(c4j__hist_init(&h, 8, AGE_MS), 0);
  for (int i = 0; i < 5; i++) broadcast(&h, "news");
  subscribe(&c, "news", NULL);
  carried->n = 1;
  carried->v[0].chan = chan(&h, "news");
  carried->v[0].off = 2;
  /* No since: the identity goes on from where its last connection was. */
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, NULL, carried, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_NOTHING);
  CHECK_EQ(st[0].start, 2);
  CHECK_EQ(st[0].n, 3);
  CHECK(st[0].n == 3 && st[0].missed[0]->offset == 3);
  c4j__resume_free(st, 1);
  /* A since of another epoch: the client lost its place, the identity did
   * not: replayed from the carried position, and told it lost. */
  since = since_of("news", "AAAAAAAA", 1);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, carried, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_LOST);
  CHECK_EQ(st[0].start, 2);
  CHECK_EQ(st[0].n, 3);
  c4j__resume_free(st, 1);
  json_decref(since);
  /* A since in the epoch wins over the position carried. */
  since = since_of("news", chan(&h, "news")->epoch, 4);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, carried, st), 0);
  CHECK_EQ(st[0].say, C4J__SAY_RECOVERED);
  CHECK_EQ(st[0].start, 4);
  CHECK_EQ(st[0].n, 1);
  c4j__resume_free(st, 1);
  json_decref(since);
  /* A position carried for another channel does not count. */
  carried->v[0].chan = chan(&h, "other");
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, NULL, carried, st), 0);
  CHECK_EQ(st[0].start, 5);
  CHECK_EQ(st[0].n, 0);
  c4j__free(carried);
  unsubscribe(&c);
  c4j__hist_free(&h);
}

TEST(resume_several_subscriptions) {
  c4j__hist_t h;
  conn_t c;
  c4j__start_t st[2];
  json_t *since;
  size_t i = 0;
  CHECK_EQ(c4j__hist_init(&h, 8, AGE_MS), 0);
  for (int k = 0; k < 3; k++) broadcast(&h, "a");
  subscribe(&c, "a", "b");   /* "b" has never had a broadcast */
  since = json_pack("{s:[s,I],s:[s,I]}", "a", chan(&h, "a")->epoch,
                    (json_int_t)1, "b", "AAAAAAAA", (json_int_t)0);
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  /* out[i] is the i-th subscription of the list. */
  for (c4j__sub_t *s = c.subs; s; s = s->conn_next, i++) {
    CHECK(s->hist == chan(&h, s->chan->name));
    if (strcmp(s->chan->name, "a") == 0) {
      CHECK_EQ(st[i].say, C4J__SAY_RECOVERED);
      CHECK_EQ(st[i].start, 1);
      CHECK_EQ(st[i].n, 2);
    } else {
      /* Created by the plan, with an epoch the client cannot know. */
      CHECK_EQ(st[i].say, C4J__SAY_LOST);
      CHECK_EQ(st[i].start, 0);
      CHECK_EQ(st[i].n, 0);
      CHECK_EQ(((c4j__hist_chan_t *)s->hist)->last, 0);
    }
  }
  CHECK_EQ(i, 2);
  c4j__resume_free(st, 2);
  json_decref(since);
  unsubscribe(&c);
  c4j__hist_free(&h);
}

TEST(resume_without_history) {
  c4j__hist_t h;
  conn_t c;
  c4j__start_t st[2];
  json_t *since = since_of("a", "AAAAAAAA", 3);
  size_t i = 0;
  CHECK_EQ(c4j__hist_init(&h, 0, AGE_MS), 0);
  subscribe(&c, "a", "b");
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, since, NULL, st), 0);
  /* Nothing to resume from: a since is lost, the others owe nothing. */
  for (c4j__sub_t *s = c.subs; s; s = s->conn_next, i++) {
    CHECK(s->hist == NULL);
    CHECK_EQ(st[i].n, 0);
    CHECK_EQ(st[i].say, strcmp(s->chan->name, "a") == 0 ? C4J__SAY_LOST
                                                        : C4J__SAY_NOTHING);
  }
  CHECK(c4j__resume_positions(c.subs) == NULL);
  json_decref(since);
  unsubscribe(&c);
  c4j__hist_free(&h);
}

TEST(resume_positions_and_unsent) {
  c4j__hist_t h;
  conn_t c;
  c4j__start_t st[2];
  c4j__pos_t *p;
  c4j__buf_t *b[6], *plain;
  c4j__hist_chan_t *a, *bb;
  CHECK_EQ(c4j__hist_init(&h, 8, AGE_MS), 0);
  for (int k = 0; k < 6; k++) b[k] = broadcast(&h, k < 4 ? "a" : "b");
  a = chan(&h, "a");   /* offsets 1..4 */
  bb = chan(&h, "b");  /* offsets 1..2 */
  subscribe(&c, "a", "b");
  memset(st, 0, sizeof(st));
  CHECK_EQ(c4j__resume_plan(&h, c.subs, NULL, NULL, st), 0);
  c4j__resume_free(st, 2);
  /* The positions of a connection: its `last` for each channel. */
  for (c4j__sub_t *s = c.subs; s; s = s->conn_next)
    if (s->hist == a) s->last = 4;
  p = c4j__resume_positions(c.subs);
  CHECK(p != NULL && p->n == 2);
  for (uint32_t i = 0; p != NULL && i < p->n; i++) {
    if (p->v[i].chan == a) CHECK_EQ(p->v[i].off, 4);
    else if (p->v[i].chan == bb) CHECK_EQ(p->v[i].off, 2);
    else CHECK(!"an unknown channel");
  }
  /* Frame 3 of "a" was queued but never written: "a" goes back to 2. */
  c4j__resume_unsent(p, b[2]);
  /* Frame 4 of "a" too: 2 stays (only backwards). */
  c4j__resume_unsent(p, b[3]);
  /* A frame of no channel changes nothing; NULL positions are fine. */
  plain = c4j__buf_copy("y", 1);
  c4j__resume_unsent(p, plain);
  c4j__resume_unsent(NULL, b[0]);
  c4j__buf_unref(plain);
  for (uint32_t i = 0; p != NULL && i < p->n; i++) {
    if (p->v[i].chan == a) CHECK_EQ(p->v[i].off, 2);
    if (p->v[i].chan == bb) CHECK_EQ(p->v[i].off, 2);
  }
  /* Frame 2 of "b" unsent: "b" goes back to 1, "a" stays. */
  c4j__resume_unsent(p, b[5]);
  for (uint32_t i = 0; p != NULL && i < p->n; i++) {
    if (p->v[i].chan == a) CHECK_EQ(p->v[i].off, 2);
    if (p->v[i].chan == bb) CHECK_EQ(p->v[i].off, 1);
  }
  c4j__free(p);
  unsubscribe(&c);
  c4j__hist_free(&h);
}

TEST_MAIN(T(resume_fresh_starts_after_the_newest),
          T(resume_since_in_the_epoch_replays), T(resume_since_lost),
          T(resume_carried_position), T(resume_several_subscriptions),
          T(resume_without_history), T(resume_positions_and_unsent))
