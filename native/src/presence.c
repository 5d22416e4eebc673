/* presence.c - who is here, for the embedder and for the other nodes.
 * The public questions of c4j.h ("Who is here": members, counts, online
 * users, an identity, a user's identities), answered from this node's
 * register (members.h) or, with a Redis hub, from the cluster's maps; and
 * the hooks the connection layer calls once it has decided a membership
 * (engine.h): the join/leave frames of a presence channel to its pages on
 * every node, and this node's entries in the cluster's maps "online",
 * "conn:<cId>" and "presence:<channel>", which every node's core writes
 * for its own identities (and writes again after Redis restarts, redis.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "auth.h"
#include "common.h"
#include "deliver.h"
#include "engine.h"
#include "frames.h"
#include "hub.h"
#include "presence.h"

#define MAP_MAX (64u << 20) /* the biggest cluster map read */
#define KEY_CAP (16 + C4J_MAX_CHANNEL)

/* ---- The hooks: what a decision means beyond its worker ------------------ */

/* Writes field = user (a JSON string or null; NULL removes the field) in
 * this node's part of map key.  Never blocks; a failure is logged (the
 * entry is missing until the identity comes again). */
static void map_set(c4j_engine_t *e, const char *key, const char *field,
                    const char *user, int present) {
  char *v = NULL;
  json_t *j = NULL;
  int rc;
  if (present) {
    j = user[0] ? json_string(user) : json_null();
    v = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(j);
    if (v == NULL) return;
  }
  rc = c4j_hub_set(e, key, strlen(key), field, strlen(field), v,
                   v ? strlen(v) : 0);
  free(v);
  if (rc == C4J_EFULL || rc == C4J_ENOMEM) {
    char text[KEY_CAP + 96];
    snprintf(text, sizeof(text), "hub: map %s not written: %s", key,
             c4j_strerror(rc));
    c4j__events_log(&e->events, 1, text);
  }
}

static void on_identity(c4j_engine_t *e, const char *cid, const char *user,
                        int here) {
  char key[8 + C4J_MAX_ID];
  if (!c4j__hub_remote(e)) return;
  snprintf(key, sizeof(key), "conn:%s", cid);
  map_set(e, "online", cid, user, here);
  map_set(e, key, "u", user, here);
}

static void on_member(c4j_engine_t *e, const char *cid, const char *user,
                      const char *ch, size_t ch_len, int joined) {
  json_t *f;
  char *text;
  if (!c4j__members_is_presence(&e->members, ch, ch_len)) return;
  f = json_pack("{s:s,s:s%,s:s,s:o}", "t", joined ? "join" : "leave", "ch",
                ch, ch_len, "cId", cid, "user",
                user[0] ? json_string(user) : json_null());
  text = f ? json_dumps(f, JSON_COMPACT) : NULL;
  json_decref(f);
  if (text != NULL) {
    size_t n = strlen(text);
    /* To this node's pages of the channel now, to the others' through
     * the bus: not a broadcast (no offset, no history). */
    if (c4j__deliver_channel_frame(e, ch, ch_len, text, n) == 0 &&
        c4j__hub_remote(e))
      c4j__hub_send_chan_frame(e, ch, ch_len, text, n);
    free(text);
  }
  if (c4j__hub_remote(e)) {
    char key[KEY_CAP];
    snprintf(key, sizeof(key), "presence:%.*s", (int)ch_len, ch);
    map_set(e, key, cid, user, joined);
  }
}

const c4j__hooks_t c4j__presence_hooks = { on_identity, on_member,
                                           NULL /* engine.c sets it */ };

/* ---- Answers -------------------------------------------------------------- */

/* Dumps j (stolen) into out; its length, or C4J_ETOOBIG / C4J_ENOMEM. */
static int answer(json_t *j, char *out, size_t cap) {
  size_t n;
  if (j == NULL) return C4J_ENOMEM;
  n = json_dumpb(j, out, cap, JSON_COMPACT);
  json_decref(j);
  if (n == 0) return C4J_ENOMEM;
  if (n >= cap) return C4J_ETOOBIG;
  out[n] = '\0';
  return (int)n;
}

/* The cluster's map key ({field: value} over the live nodes), or NULL
 * when there is no Redis hub or it did not answer in time (logged once
 * until it answers again). */
static json_t *cluster_map(c4j_engine_t *e, const char *key, int timeout_ms) {
  size_t cap = 64u << 10;
  char *buf = NULL;
  json_t *m = NULL;
  int n;
  if (!c4j__hub_remote(e)) return NULL;
  for (;;) {
    char *nb = c4j__realloc(buf, cap);
    if (nb == NULL) break;
    buf = nb;
    n = c4j_hub_get(e, key, strlen(key), buf, cap, timeout_ms);
    if ((n == C4J_ETOOBIG || (n >= 0 && (size_t)n >= cap)) &&
        cap < MAP_MAX) {
      cap *= 4;
      continue;
    }
    if (n >= 0) m = json_loadb(buf, (size_t)n, 0, NULL);
    if (!json_is_object(m)) {
      json_decref(m);
      m = NULL;
    }
    break;
  }
  c4j__free(buf);
  if (m != NULL) {
    atomic_store(&e->hub_warned, 0);
  } else if (atomic_exchange(&e->hub_warned, 1) == 0) {
    char text[KEY_CAP + 160];
    snprintf(text, sizeof(text),
             "hub: no answer for the map %s: members and online figures "
             "are this node's own until Redis answers (warned once)", key);
    c4j__events_log(&e->events, 1, text);
  }
  return m;
}

static int key_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* {cid: user} as [{"cId":cid,"user":user},...] sorted by cId (stolen). */
static json_t *sorted_members(json_t *map) {
  size_t n = json_object_size(map), i = 0;
  const char **keys = c4j__calloc(n ? n : 1, sizeof(*keys));
  const char *k;
  json_t *v, *a = keys ? json_array() : NULL;
  if (a != NULL) {
    json_object_foreach(map, k, v) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), key_cmp);
    for (i = 0; i < n; i++) {
      json_t *u = json_object_get(map, keys[i]);
      if (json_array_append_new(
              a, json_pack("{s:s,s:O}", "cId", keys[i], "user",
                           json_is_string(u) ? u : json_null())) != 0) {
        json_decref(a);
        a = NULL;
        break;
      }
    }
  }
  c4j__free(keys);
  json_decref(map);
  return a;
}

/* The members of channel: this node's register, with (cluster) the
 * cluster's presence map over it.  A channel this node does not mark
 * presence has no entries of this node's in the map (another node may
 * mark it): this node's own are always added. */
static json_t *members_map(c4j_engine_t *e, const char *ch, size_t len,
                           int cluster, int timeout_ms) {
  json_t *m = NULL, *mine = c4j__members_of(&e->members, ch, len);
  if (cluster && c4j__hub_remote(e) && mine != NULL) {
    char key[KEY_CAP];
    snprintf(key, sizeof(key), "presence:%.*s", (int)len, ch);
    m = cluster_map(e, key, timeout_ms);
  }
  if (m == NULL) return mine;
  json_object_update_missing(m, mine);
  json_decref(mine);
  return m;
}

int c4j_members(c4j_engine_t *e, const char *channel, size_t channel_len,
                int cluster, char *out, size_t cap, int timeout_ms) {
  json_t *list;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  if (out == NULL || cap == 0) return C4J_ETOOBIG;
  list = sorted_members(members_map(e, channel, channel_len, cluster,
                                    timeout_ms));
  if (list == NULL) return C4J_ENOMEM;
  return answer(json_pack("{s:s%,s:I,s:o}", "channel", channel, channel_len,
                          "count", (json_int_t)json_array_size(list),
                          "members", list), out, cap);
}

int c4j_member_count(c4j_engine_t *e, const char *channel,
                     size_t channel_len, int cluster, int timeout_ms) {
  json_t *m;
  size_t n;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  if (!cluster || !c4j__hub_remote(e))
    return (int)c4j__members_count(&e->members, channel, channel_len);
  if ((m = members_map(e, channel, channel_len, 1, timeout_ms)) == NULL)
    return C4J_ENOMEM;
  n = json_object_size(m);
  json_decref(m);
  return (int)n;
}

/* {"users":..,"connections":..} or {"user":..,"online":..,
 * "connections":..} from the cluster's "online" map (cId -> user). */
static json_t *online_of_map(json_t *map, const char *user, size_t len) {
  const char *k;
  json_t *v, *users, *o;
  size_t n = 0;
  if (user != NULL) {
    json_object_foreach(map, k, v) if (json_is_string(v) &&
                                       json_string_length(v) == len &&
                                       memcmp(json_string_value(v), user,
                                              len) == 0) n++;
    o = json_pack("{s:s%,s:b,s:I}", "user", user, len, "online", n > 0,
                  "connections", (json_int_t)n);
  } else {
    users = json_object(); /* as a set */
    json_object_foreach(map, k, v) if (json_is_string(v) &&
                                       json_string_length(v) > 0)
      json_object_set(users, json_string_value(v), json_true());
    o = users ? json_pack("{s:I,s:I}", "users",
                          (json_int_t)json_object_size(users), "connections",
                          (json_int_t)json_object_size(map))
              : NULL;
    json_decref(users);
  }
  json_decref(map);
  return o;
}

int c4j_online(c4j_engine_t *e, const char *user, size_t user_len,
               int cluster, char *out, size_t cap, int timeout_ms) {
  json_t *map = NULL;
  size_t ids, users;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (user != NULL && user_len > C4J_MAX_USER)
    return C4J_EBADNAME;
  if (out == NULL || cap == 0) return C4J_ETOOBIG;
  if (cluster && (map = cluster_map(e, "online", timeout_ms)) != NULL)
    return answer(online_of_map(map, user, user_len), out, cap);
  if (user != NULL) {
    size_t n = c4j__members_user_count(&e->members, user, user_len);
    return answer(json_pack("{s:s%,s:b,s:I}", "user", user, user_len,
                            "online", n > 0, "connections", (json_int_t)n),
                  out, cap);
  }
  c4j__members_totals(&e->members, &ids, &users);
  return answer(json_pack("{s:I,s:I}", "users", (json_int_t)users,
                          "connections", (json_int_t)ids), out, cap);
}

int c4j_identity(c4j_engine_t *e, const char *cid, size_t cid_len, char *out,
                 size_t cap) {
  int found;
  json_t *j;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (cid == NULL || cid_len == 0 || cid_len > C4J_MAX_ID)
    return C4J_EBADNAME;
  if (out == NULL || cap == 0) return C4J_ETOOBIG;
  j = c4j__members_identity(&e->members, cid, cid_len, &found);
  if (!found) return C4J_ENOCONN;
  return answer(j, out, cap);
}

int c4j_user_identities(c4j_engine_t *e, const char *user, size_t user_len,
                        char *out, size_t cap) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (user == NULL || user_len == 0 || user_len > C4J_MAX_USER)
    return C4J_EBADNAME;
  if (out == NULL || cap == 0) return C4J_ETOOBIG;
  return answer(c4j__members_user_ids(&e->members, user, user_len), out, cap);
}

int c4j_channel_presence(c4j_engine_t *e, const char *channel,
                         size_t channel_len, int on) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  rc = c4j__members_set_presence(&e->members, channel, channel_len, on != 0);
  /* Members already there are listed in the cluster's map from now. */
  if (rc == 0 && on && c4j__hub_remote(e) && c4j__engine_enter(e)) {
    json_t *m = c4j__members_of(&e->members, channel, channel_len), *v;
    const char *k;
    char key[KEY_CAP];
    snprintf(key, sizeof(key), "presence:%.*s", (int)channel_len, channel);
    json_object_foreach(m, k, v)
      map_set(e, key, k, json_is_string(v) ? json_string_value(v) : "", 1);
    json_decref(m);
    c4j__engine_leave(e);
  }
  return rc;
}
