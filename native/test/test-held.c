/* test-held.c - the engine-wide register of held connection ids: who holds
 * an id and how (claim, set, release), the positions and the channel set
 * an identity carries from one connection to the next (claim moves the
 * positions out, copies the set), update, and the channel set helpers. */
#include <stdlib.h>

#include "c4j.h"
#include "channel.h"
#include "common.h"
#include "held.h"
#include "test.h"

/* Two opaque history channels: only their addresses matter here. */
static int hist_a, hist_b;

/* A position record of n entries (chan, off) pairs. */
static c4j__pos_t *pos_of(uint32_t n, const void *chan0, uint64_t off0,
                          const void *chan1, uint64_t off1) {
  c4j__pos_t *p = c4j__malloc(sizeof(*p) + 2 * sizeof(p->v[0]));
  p->n = n;
  p->v[0].chan = chan0;
  p->v[0].off = off0;
  p->v[1].chan = chan1;
  p->v[1].off = off1;
  return p;
}

/* The i-th name of set (NULL past the end). */
static const char *name_at(const c4j__names_t *set, uint32_t i) {
  size_t at = 0;
  if (set == NULL || i >= set->n) return NULL;
  while (i-- > 0) at += strlen(set->names + at) + 1;
  return set->names + at;
}

static c4j__names_t *set_of(const char *a, const char *b) {
  c4j__names_t *one = c4j__names_with(NULL, a, strlen(a)), *two;
  if (b == NULL) return one;
  two = c4j__names_with(one, b, strlen(b));
  c4j__free(one);
  return two;
}

TEST(held_claim_get_release) {
  c4j__held_t h;
  c4j__holder_t r;
  c4j__pos_t *pos = (c4j__pos_t *)&hist_a; /* must be overwritten */
  c4j__names_t *chans = (c4j__names_t *)&hist_a;
  CHECK_EQ(c4j__held_init(&h), 0);
  r = c4j__held_get(&h, "id1");
  CHECK_EQ(r.worker, -1);
  CHECK_EQ(r.state, C4J__HELD_NONE);

  /* A first claim: nobody held it, nothing is carried. */
  r = c4j__held_claim(&h, "id1", 0, C4J__HELD_ALIVE, &pos, &chans);
  CHECK_EQ(r.worker, -1);
  CHECK_EQ(r.state, C4J__HELD_NONE);
  CHECK(pos == NULL);
  CHECK(chans == NULL);
  r = c4j__held_get(&h, "id1");
  CHECK_EQ(r.worker, 0);
  CHECK_EQ(r.state, C4J__HELD_ALIVE);
  CHECK_EQ(c4j__held_get(&h, "id2").worker, -1);
  CHECK_EQ(c4j__held_get(&h, "id").worker, -1);

  /* Another worker takes it over: the previous holder comes back. */
  r = c4j__held_claim(&h, "id1", 1, C4J__HELD_PARKED, &pos, &chans);
  CHECK_EQ(r.worker, 0);
  CHECK_EQ(r.state, C4J__HELD_ALIVE);
  r = c4j__held_get(&h, "id1");
  CHECK_EQ(r.worker, 1);
  CHECK_EQ(r.state, C4J__HELD_PARKED);

  /* Only the holder releases it. */
  c4j__held_release(&h, "id1", 0);
  CHECK_EQ(c4j__held_get(&h, "id1").worker, 1);
  c4j__held_release(&h, "id1", 1);
  CHECK_EQ(c4j__held_get(&h, "id1").worker, -1);
  CHECK_EQ(c4j__held_get(&h, "id1").state, C4J__HELD_NONE);
  /* Releasing an id nobody holds is harmless. */
  c4j__held_release(&h, "id1", 1);
  c4j__held_free(&h);
}

TEST(held_set_only_by_the_holder) {
  c4j__held_t h;
  c4j__pos_t *pos;
  c4j__names_t *chans;
  CHECK_EQ(c4j__held_init(&h), 0);
  c4j__held_claim(&h, "id", 2, C4J__HELD_ALIVE, &pos, &chans);
  /* Not the holder: nothing changes, and what was given is freed (the
   * sanitizer's leak check sees it otherwise). */
  CHECK_EQ(c4j__held_set(&h, "id", 1, C4J__HELD_DYING,
                         pos_of(1, &hist_a, 5, NULL, 0), set_of("x", NULL)),
           0);
  CHECK_EQ(c4j__held_get(&h, "id").state, C4J__HELD_ALIVE);
  CHECK_EQ(c4j__held_set(&h, "nobody", 2, C4J__HELD_DYING, NULL, NULL), 0);
  /* The holder: state, positions and set. */
  CHECK_EQ(c4j__held_set(&h, "id", 2, C4J__HELD_DYING,
                         pos_of(2, &hist_a, 5, &hist_b, 9),
                         set_of("news", "chat")),
           1);
  CHECK_EQ(c4j__held_get(&h, "id").worker, 2);
  CHECK_EQ(c4j__held_get(&h, "id").state, C4J__HELD_DYING);
  /* A state change alone (NULL, NULL) keeps positions and set. */
  CHECK_EQ(c4j__held_set(&h, "id", 2, C4J__HELD_PARKED, NULL, NULL), 1);
  CHECK_EQ(c4j__held_get(&h, "id").state, C4J__HELD_PARKED);

  /* The next claim moves the positions out and copies the set... */
  c4j__held_claim(&h, "id", 0, C4J__HELD_ALIVE, &pos, &chans);
  CHECK(pos != NULL);
  if (pos != NULL) {
    CHECK_EQ(pos->n, 2);
    CHECK(pos->v[0].chan == &hist_a);
    CHECK_EQ(pos->v[0].off, 5);
    CHECK(pos->v[1].chan == &hist_b);
    CHECK_EQ(pos->v[1].off, 9);
  }
  CHECK(chans != NULL);
  if (chans != NULL) {
    CHECK_EQ(chans->n, 2);
    CHECK_STR(name_at(chans, 0), "news");
    CHECK_STR(name_at(chans, 1), "chat");
  }
  c4j__free(pos);
  c4j__free(chans);
  /* ...so a second claim gets no positions but the same set again. */
  c4j__held_claim(&h, "id", 1, C4J__HELD_ALIVE, &pos, &chans);
  CHECK(pos == NULL);
  CHECK(chans != NULL && chans->n == 2 && c4j__names_has(chans, "chat", 4));
  c4j__free(chans);
  /* A later set replaces the set. */
  CHECK_EQ(c4j__held_set(&h, "id", 1, C4J__HELD_ALIVE, NULL,
                         set_of("solo", NULL)), 1);
  CHECK_EQ(c4j__held_chans(&h, "id", 1, &chans), 1);
  CHECK(chans != NULL && chans->n == 1 && c4j__names_has(chans, "solo", 4));
  c4j__free(chans);
  c4j__held_free(&h);
}

TEST(held_chans_copy) {
  c4j__held_t h;
  c4j__pos_t *pos;
  c4j__names_t *chans = NULL, *again = NULL;
  CHECK_EQ(c4j__held_init(&h), 0);
  c4j__held_claim(&h, "id", 0, C4J__HELD_ALIVE, &pos, &chans);
  /* The ticket's set: held, but NULL. */
  chans = (c4j__names_t *)&hist_a;
  CHECK_EQ(c4j__held_chans(&h, "id", 0, &chans), 1);
  CHECK(chans == NULL);
  c4j__held_set(&h, "id", 0, C4J__HELD_ALIVE, NULL, set_of("a", "b"));
  /* Not the holder, or not held: 0 and NULL. */
  chans = (c4j__names_t *)&hist_a;
  CHECK_EQ(c4j__held_chans(&h, "id", 1, &chans), 0);
  CHECK(chans == NULL);
  CHECK_EQ(c4j__held_chans(&h, "other", 0, &chans), 0);
  CHECK(chans == NULL);
  /* Each call gets its own copy. */
  CHECK_EQ(c4j__held_chans(&h, "id", 0, &chans), 1);
  CHECK_EQ(c4j__held_chans(&h, "id", 0, &again), 1);
  CHECK(chans != NULL && again != NULL && chans != again);
  if (chans != NULL && again != NULL) {
    CHECK_EQ(chans->len, 4);
    CHECK(memcmp(chans->names, "a\0b\0", 4) == 0);
    CHECK(memcmp(again->names, chans->names, chans->len) == 0);
  }
  c4j__free(chans);
  c4j__free(again);
  c4j__held_free(&h);
}

TEST(held_update_positions_and_set) {
  c4j__held_t h;
  c4j__pos_t *pos;
  c4j__names_t *chans;
  uint64_t off;
  CHECK_EQ(c4j__held_init(&h), 0);
  c4j__held_claim(&h, "id", 3, C4J__HELD_ALIVE, &pos, &chans);
  /* Reading a position never kept leaves *off alone. */
  off = 77;
  CHECK_EQ(c4j__held_update(&h, "id", 3, NULL, &hist_a, &off, 0), 1);
  CHECK_EQ(off, 77);
  /* Setting adds it; reading gives it back; setting again replaces it. */
  off = 4;
  CHECK_EQ(c4j__held_update(&h, "id", 3, NULL, &hist_a, &off, 1), 1);
  off = 6;
  CHECK_EQ(c4j__held_update(&h, "id", 3, NULL, &hist_b, &off, 1), 1);
  off = 0;
  CHECK_EQ(c4j__held_update(&h, "id", 3, NULL, &hist_a, &off, 0), 1);
  CHECK_EQ(off, 4);
  off = 10;
  CHECK_EQ(c4j__held_update(&h, "id", 3, NULL, &hist_a, &off, 1), 1);
  off = 0;
  CHECK_EQ(c4j__held_update(&h, "id", 3, NULL, &hist_a, &off, 0), 1);
  CHECK_EQ(off, 10);
  /* Another worker: 0, nothing read or written, the set freed. */
  off = 99;
  CHECK_EQ(c4j__held_update(&h, "id", 4, set_of("no", NULL), &hist_a, &off,
                            1), 0);
  off = 0;
  c4j__held_update(&h, "id", 3, NULL, &hist_a, &off, 0);
  CHECK_EQ(off, 10);
  CHECK_EQ(c4j__held_update(&h, "gone", 3, NULL, &hist_a, &off, 1), 0);
  /* The set alone (hist NULL). */
  CHECK_EQ(c4j__held_update(&h, "id", 3, set_of("news", NULL), NULL, NULL, 0),
           1);
  CHECK_EQ(c4j__held_chans(&h, "id", 3, &chans), 1);
  CHECK(chans != NULL && chans->n == 1 && c4j__names_has(chans, "news", 4));
  c4j__free(chans);
  /* The positions come out at the next claim, both channels. */
  c4j__held_claim(&h, "id", 0, C4J__HELD_ALIVE, &pos, &chans);
  CHECK(pos != NULL && pos->n == 2);
  for (uint32_t i = 0; pos != NULL && i < pos->n; i++) {
    if (pos->v[i].chan == &hist_a) CHECK_EQ(pos->v[i].off, 10);
    else if (pos->v[i].chan == &hist_b) CHECK_EQ(pos->v[i].off, 6);
    else CHECK(!"an unknown channel");
  }
  c4j__free(pos);
  c4j__free(chans);
  c4j__held_free(&h);
}

TEST(held_many_ids) {
  enum { N = 500 };
  c4j__held_t h;
  c4j__pos_t *pos;
  c4j__names_t *chans;
  char id[32];
  CHECK_EQ(c4j__held_init(&h), 0);
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof(id), "conn-%d", i);
    c4j__held_claim(&h, id, i % 4, C4J__HELD_ALIVE, &pos, &chans);
    /* Some leave positions, freed by c4j__held_free. */
    if (i % 3 == 0)
      c4j__held_set(&h, id, i % 4, C4J__HELD_DYING,
                    pos_of(1, &hist_a, (uint64_t)i, NULL, 0),
                    set_of("c", NULL));
  }
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof(id), "conn-%d", i);
    c4j__holder_t r = c4j__held_get(&h, id);
    CHECK_EQ(r.worker, i % 4);
    CHECK_EQ(r.state, i % 3 == 0 ? C4J__HELD_DYING : C4J__HELD_ALIVE);
  }
  for (int i = 0; i < N; i += 2) {
    snprintf(id, sizeof(id), "conn-%d", i);
    c4j__held_release(&h, id, i % 4);
  }
  CHECK_EQ(h.ids.count, N / 2);
  CHECK_EQ(c4j__held_get(&h, "conn-2").worker, -1);
  CHECK_EQ(c4j__held_get(&h, "conn-3").worker, 3);
  c4j__held_free(&h);
}

TEST(names_with_without_has) {
  c4j__names_t *a = c4j__names_with(NULL, "news", 4), *b, *c, *d, *e;
  CHECK(a != NULL);
  if (a == NULL) return;
  CHECK_EQ(a->n, 1);
  CHECK_EQ(a->len, 5);
  CHECK(c4j__names_has(a, "news", 4));
  CHECK(!c4j__names_has(a, "new", 3));   /* a prefix is not a name */
  CHECK(!c4j__names_has(a, "newsx", 5));
  CHECK(!c4j__names_has(NULL, "news", 4));
  /* The length counts, not the NUL: "chat" out of "chatter". */
  b = c4j__names_with(a, "chatter", 4);
  CHECK_EQ(b->n, 2);
  CHECK_EQ(b->len, 10);
  CHECK_STR(name_at(b, 1), "chat");
  CHECK(c4j__names_has(b, "chat", 4));
  CHECK(c4j__names_has(a, "news", 4)); /* a is left as it was */
  CHECK_EQ(a->n, 1);
  /* Without: every equal name goes, the order of the others stays. */
  c = c4j__names_with(b, "news", 4);   /* news, chat, news */
  d = c4j__names_without(c, "news", 4);
  CHECK_EQ(d->n, 1);
  CHECK_EQ(d->len, 5);
  CHECK_STR(name_at(d, 0), "chat");
  e = c4j__names_without(b, "nope", 4);
  CHECK_EQ(e->n, 2);
  CHECK(e->len == b->len && memcmp(e->names, b->names, b->len) == 0);
  c4j__free(e);
  /* A name that another begins with: only the equal one goes. */
  e = set_of("chatter", "chat");
  c4j__free(a);
  a = c4j__names_without(e, "chat", 4);
  CHECK(a != NULL && a->n == 1 && a->len == 8);
  CHECK(c4j__names_has(a, "chatter", 7) && !c4j__names_has(a, "chat", 4));
  c4j__free(e);
  e = c4j__names_without(NULL, "x", 1);
  CHECK(e != NULL && e->n == 0 && e->len == 0);
  c4j__free(e);
  e = c4j__names_without(d, "chat", 4);
  CHECK(e != NULL && e->n == 0 && !c4j__names_has(e, "chat", 4));
  c4j__free(e);
  /* Copies. */
  CHECK(c4j__names_copy(NULL) == NULL);
  e = c4j__names_copy(c);
  CHECK(e != c && e->n == 3 && e->len == c->len &&
        memcmp(e->names, c->names, c->len) == 0);
  c4j__free(e);
  c4j__free(a);
  c4j__free(b);
  c4j__free(c);
  c4j__free(d);
}

TEST(names_of_subscriptions) {
  c4j__chan_index_t idx;
  c4j__sub_t *subs = NULL;
  c4j__names_t *s;
  int conn;
  c4j__chan_index_init(&idx);
  s = c4j__names_of(NULL);
  CHECK(s != NULL && s->n == 0 && s->len == 0);
  c4j__free(s);
  CHECK_EQ(c4j__chan_subscribe(&idx, "a", 1, &conn, &subs), 0);
  CHECK_EQ(c4j__chan_subscribe(&idx, "bb", 2, &conn, &subs), 0);
  CHECK_EQ(c4j__chan_subscribe(&idx, "ccc", 3, &conn, &subs), 0);
  s = c4j__names_of(subs);
  CHECK(s != NULL);
  if (s != NULL) {
    uint32_t i = 0;
    CHECK_EQ(s->n, 3);
    CHECK_EQ(s->len, 2 + 3 + 4);
    /* In the list's order. */
    for (c4j__sub_t *p = subs; p; p = p->conn_next, i++)
      CHECK_STR(name_at(s, i), p->chan->name);
    CHECK(c4j__names_has(s, "bb", 2));
    CHECK(!c4j__names_has(s, "b", 1));
  }
  c4j__free(s);
  c4j__chan_unsubscribe_all(&idx, &subs);
  c4j__chan_index_free(&idx);
}

TEST_MAIN(T(held_claim_get_release), T(held_set_only_by_the_holder),
          T(held_chans_copy), T(held_update_positions_and_set),
          T(held_many_ids), T(names_with_without_has),
          T(names_of_subscriptions))
