/* test-members.c - the register of who is here (members.c) alone:
 * identities with and without a user, joins and leaves (only changes
 * count), drop handing back the channels and the user, the questions, the
 * presence set, and everything freed (LeakSanitizer).
 */
#include <string.h>
#include <jansson.h>

#include "common.h"
#include "members.h"
#include "test.h"

/* j (stolen) dumped compactly with sorted keys into a static buffer. */
static const char *dump(json_t *j) {
  static char out[1024];
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  snprintf(out, sizeof(out), "%s", s ? s : "(null)");
  free(s);
  json_decref(j);
  return out;
}

TEST(members_connect_join_leave) {
  c4j__members_t m;
  CHECK_EQ(c4j__members_init(&m), 0);
  CHECK_EQ(c4j__members_connect(&m, "a1", "alice"), 1);
  CHECK_EQ(c4j__members_connect(&m, "a1", "alice"), 0); /* known already */
  CHECK_EQ(c4j__members_connect(&m, "a2", "alice"), 1);
  CHECK_EQ(c4j__members_connect(&m, "x", ""), 1);
  CHECK_EQ(c4j__members_join(&m, "a1", "news", 4), 1);
  CHECK_EQ(c4j__members_join(&m, "a1", "news", 4), 0);  /* no change */
  CHECK_EQ(c4j__members_join(&m, "x", "news", 4), 1);
  CHECK_EQ(c4j__members_join(&m, "a2", "room", 4), 1);
  CHECK_EQ(c4j__members_join(&m, "nobody", "news", 4), 0);
  CHECK_EQ(c4j__members_count(&m, "news", 4), 2);
  CHECK_EQ(c4j__members_count(&m, "room", 4), 1);
  CHECK_EQ(c4j__members_count(&m, "none", 4), 0);
  CHECK_STR(dump(c4j__members_of(&m, "news", 4)),
            "{\"a1\":\"alice\",\"x\":null}");
  CHECK_STR(dump(c4j__members_of(&m, "none", 4)), "{}");
  CHECK_EQ(c4j__members_user_count(&m, "alice", 5), 2);
  CHECK_EQ(c4j__members_user_count(&m, "bob", 3), 0);
  {
    size_t ids, users;
    c4j__members_totals(&m, &ids, &users);
    CHECK_EQ(ids, 3);
    CHECK_EQ(users, 1);
  }
  CHECK_EQ(c4j__members_leave(&m, "a1", "news", 4), 1);
  CHECK_EQ(c4j__members_leave(&m, "a1", "news", 4), 0);
  CHECK_EQ(c4j__members_leave(&m, "a1", "room", 4), 0); /* never in it */
  CHECK_STR(dump(c4j__members_of(&m, "news", 4)), "{\"x\":null}");
  c4j__members_free(&m);
}

TEST(members_drop_hands_back) {
  c4j__members_t m;
  c4j__names_t *chans = (c4j__names_t *)1;
  char user[C4J_MAX_USER + 1] = "junk";
  CHECK_EQ(c4j__members_init(&m), 0);
  CHECK_EQ(c4j__members_connect(&m, "b1", "bob"), 1);
  CHECK_EQ(c4j__members_join(&m, "b1", "one", 3), 1);
  CHECK_EQ(c4j__members_join(&m, "b1", "two", 3), 1);
  CHECK_EQ(c4j__members_drop(&m, "b1", &chans, user), 1);
  CHECK_STR(user, "bob");
  CHECK(chans != NULL);
  CHECK_EQ(chans->n, 2);
  CHECK(c4j__names_has(chans, "one", 3));
  CHECK(c4j__names_has(chans, "two", 3));
  c4j__free(chans);
  /* Gone from every index. */
  CHECK_EQ(c4j__members_count(&m, "one", 3), 0);
  CHECK_EQ(c4j__members_user_count(&m, "bob", 3), 0);
  CHECK_EQ(c4j__members_drop(&m, "b1", &chans, user), 0);
  CHECK(chans == NULL);
  CHECK_STR(user, "");
  /* Anonymous and without channels. */
  CHECK_EQ(c4j__members_connect(&m, "c1", ""), 1);
  CHECK_EQ(c4j__members_drop(&m, "c1", &chans, user), 1);
  CHECK(chans == NULL);
  CHECK_STR(user, "");
  c4j__members_free(&m);
}

TEST(members_questions) {
  c4j__members_t m;
  int found = -1;
  CHECK_EQ(c4j__members_init(&m), 0);
  CHECK_EQ(c4j__members_connect(&m, "u1", "uma"), 1);
  CHECK_EQ(c4j__members_connect(&m, "u2", "uma"), 1);
  CHECK_EQ(c4j__members_join(&m, "u1", "a", 1), 1);
  CHECK_EQ(c4j__members_join(&m, "u1", "b", 1), 1);
  CHECK_STR(dump(c4j__members_identity(&m, "u1", 2, &found)),
            "{\"cId\":\"u1\",\"channels\":[\"b\",\"a\"],\"user\":\"uma\"}");
  CHECK_EQ(found, 1);
  CHECK(c4j__members_identity(&m, "zz", 2, &found) == NULL);
  CHECK_EQ(found, 0);
  {
    const char *ids = dump(c4j__members_user_ids(&m, "uma", 3));
    CHECK(strcmp(ids, "[\"u1\",\"u2\"]") == 0 ||
          strcmp(ids, "[\"u2\",\"u1\"]") == 0);
  }
  CHECK_STR(dump(c4j__members_user_ids(&m, "ned", 3)), "[]");
  c4j__members_free(&m); /* with members left: freed all the same */
}

TEST(members_presence_set) {
  c4j__members_t m;
  CHECK_EQ(c4j__members_init(&m), 0);
  CHECK_EQ(c4j__members_is_presence(&m, "lobby", 5), 0);
  CHECK_EQ(c4j__members_set_presence(&m, "lobby", 5, 1), 0);
  CHECK_EQ(c4j__members_set_presence(&m, "lobby", 5, 1), 0); /* twice */
  CHECK_EQ(c4j__members_is_presence(&m, "lobby", 5), 1);
  CHECK_EQ(c4j__members_is_presence(&m, "lobb", 4), 0);
  CHECK_EQ(c4j__members_set_presence(&m, "lobby", 5, 0), 0);
  CHECK_EQ(c4j__members_is_presence(&m, "lobby", 5), 0);
  CHECK_EQ(c4j__members_set_presence(&m, "kept", 4, 1), 0);
  c4j__members_free(&m);
}

TEST_MAIN(T(members_connect_join_leave), T(members_drop_hands_back),
          T(members_questions), T(members_presence_set))
