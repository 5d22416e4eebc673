/* members.c - the engine-wide register of identities, their users and
 * their channels (members.h), under one mutex.  The indexes are channel.c's
 * (the same structure each worker keeps for its own connections); here
 * their "connection" is the member record.
 */
#include <string.h>

#include "common.h"
#include "members.h"

static const char PRESENT[] = "presence"; /* the presence map's marker */

int c4j__members_init(c4j__members_t *m) {
  c4j__cid_map_init(&m->ids);
  c4j__chan_index_init(&m->chans);
  c4j__chan_index_init(&m->users);
  c4j__cid_map_init(&m->presence);
  return uv_mutex_init(&m->lock) == 0 ? 0 : C4J_ENOMEM;
}

static void forget(c4j__members_t *m, c4j__member_t *r) {
  c4j__chan_unsubscribe_all(&m->chans, &r->subs);
  c4j__chan_unsubscribe_all(&m->users, &r->unode);
  c4j__cid_map_remove(&m->ids, r->id);
  c4j__free(r);
}

void c4j__members_free(c4j__members_t *m) {
  for (size_t i = 0; i < m->ids.nbuckets; i++)
    while (m->ids.buckets[i] != NULL) forget(m, m->ids.buckets[i]->conn);
  for (size_t i = 0; i < m->presence.nbuckets; i++)
    while (m->presence.buckets[i] != NULL)
      c4j__cid_map_remove(&m->presence, m->presence.buckets[i]);
  c4j__cid_map_free(&m->ids);
  c4j__cid_map_free(&m->presence);
  c4j__chan_index_free(&m->chans);
  c4j__chan_index_free(&m->users);
  uv_mutex_destroy(&m->lock);
}

static c4j__member_t *find(c4j__members_t *m, const char *cid) {
  c4j__cid_t *e = c4j__cid_map_find(&m->ids, cid, strlen(cid));
  return e != NULL ? e->conn : NULL;
}

/* ---- Written by the connection layer ------------------------------------ */

int c4j__members_connect(c4j__members_t *m, const char *cid,
                         const char *user) {
  c4j__member_t *r;
  int rc = 1;
  uv_mutex_lock(&m->lock);
  if (find(m, cid) != NULL) {
    rc = 0;
  } else if ((r = c4j__calloc(1, sizeof(*r))) == NULL) {
    rc = C4J_ENOMEM;
  } else if ((r->id = c4j__cid_map_add(&m->ids, cid, strlen(cid), r)) ==
             NULL) {
    c4j__free(r);
    rc = C4J_ENOMEM;
  } else if (user[0] != '\0' &&
             c4j__chan_subscribe(&m->users, user, strlen(user), r,
                                 &r->unode) != 0) {
    forget(m, r);
    rc = C4J_ENOMEM;
  }
  uv_mutex_unlock(&m->lock);
  return rc;
}

int c4j__members_join(c4j__members_t *m, const char *cid, const char *ch,
                      size_t len) {
  c4j__member_t *r;
  int rc = 0;
  uv_mutex_lock(&m->lock);
  r = find(m, cid);
  if (r != NULL && c4j__chan_sub_of(r->subs, ch, len) == NULL)
    rc = c4j__chan_subscribe(&m->chans, ch, len, r, &r->subs) == 0
             ? 1 : C4J_ENOMEM;
  uv_mutex_unlock(&m->lock);
  return rc;
}

int c4j__members_leave(c4j__members_t *m, const char *cid, const char *ch,
                       size_t len) {
  c4j__member_t *r;
  int rc = 0;
  uv_mutex_lock(&m->lock);
  r = find(m, cid);
  if (r != NULL) rc = c4j__chan_unsubscribe(&m->chans, &r->subs, ch, len);
  uv_mutex_unlock(&m->lock);
  return rc;
}

int c4j__members_drop(c4j__members_t *m, const char *cid,
                      c4j__names_t **chans, char *user) {
  c4j__member_t *r;
  *chans = NULL;
  user[0] = '\0';
  uv_mutex_lock(&m->lock);
  r = find(m, cid);
  if (r != NULL) {
    if (r->subs != NULL) *chans = c4j__names_of(r->subs);
    if (r->unode != NULL)
      memcpy(user, r->unode->chan->name, r->unode->chan->len + 1u);
    forget(m, r);
  }
  uv_mutex_unlock(&m->lock);
  return r != NULL;
}

/* ---- Presence channels -------------------------------------------------- */

int c4j__members_set_presence(c4j__members_t *m, const char *ch, size_t len,
                              int on) {
  c4j__cid_t *e;
  int rc = 0;
  uv_mutex_lock(&m->lock);
  e = c4j__cid_map_find(&m->presence, ch, len);
  if (on && e == NULL &&
      c4j__cid_map_add(&m->presence, ch, len, (void *)PRESENT) == NULL)
    rc = C4J_ENOMEM;
  else if (!on && e != NULL)
    c4j__cid_map_remove(&m->presence, e);
  uv_mutex_unlock(&m->lock);
  return rc;
}

int c4j__members_is_presence(c4j__members_t *m, const char *ch, size_t len) {
  int yes;
  uv_mutex_lock(&m->lock);
  yes = c4j__cid_map_find(&m->presence, ch, len) != NULL;
  uv_mutex_unlock(&m->lock);
  return yes;
}

/* ---- Questions ------------------------------------------------------------ */

static json_t *user_of(const c4j__member_t *r) {
  return r->unode != NULL ? json_stringn(r->unode->chan->name,
                                         r->unode->chan->len)
                          : json_null();
}

json_t *c4j__members_of(c4j__members_t *m, const char *ch, size_t len) {
  json_t *o = json_object();
  c4j__chan_t *c;
  uv_mutex_lock(&m->lock);
  c = o != NULL ? c4j__chan_find(&m->chans, ch, len) : NULL;
  for (c4j__sub_t *s = c ? c->subs : NULL; s != NULL; s = s->next) {
    const c4j__member_t *r = s->conn;
    if (json_object_set_new(o, r->id->id, user_of(r)) != 0) {
      json_decref(o);
      o = NULL;
      break;
    }
  }
  uv_mutex_unlock(&m->lock);
  return o;
}

size_t c4j__members_count(c4j__members_t *m, const char *ch, size_t len) {
  c4j__chan_t *c;
  size_t n;
  uv_mutex_lock(&m->lock);
  c = c4j__chan_find(&m->chans, ch, len);
  n = c != NULL ? c->count : 0;
  uv_mutex_unlock(&m->lock);
  return n;
}

json_t *c4j__members_user_ids(c4j__members_t *m, const char *user,
                              size_t len) {
  json_t *a = json_array();
  c4j__chan_t *u;
  uv_mutex_lock(&m->lock);
  u = a != NULL ? c4j__chan_find(&m->users, user, len) : NULL;
  for (c4j__sub_t *s = u ? u->subs : NULL; s != NULL; s = s->next) {
    const c4j__member_t *r = s->conn;
    if (json_array_append_new(a, json_string(r->id->id)) != 0) {
      json_decref(a);
      a = NULL;
      break;
    }
  }
  uv_mutex_unlock(&m->lock);
  return a;
}

size_t c4j__members_user_count(c4j__members_t *m, const char *user,
                               size_t len) {
  c4j__chan_t *u;
  size_t n;
  uv_mutex_lock(&m->lock);
  u = c4j__chan_find(&m->users, user, len);
  n = u != NULL ? u->count : 0;
  uv_mutex_unlock(&m->lock);
  return n;
}

void c4j__members_totals(c4j__members_t *m, size_t *ids, size_t *users) {
  uv_mutex_lock(&m->lock);
  *ids = m->ids.count;
  *users = m->users.count;
  uv_mutex_unlock(&m->lock);
}

json_t *c4j__members_identity(c4j__members_t *m, const char *cid,
                              size_t len, int *found) {
  json_t *o = NULL, *chs = NULL;
  c4j__cid_t *e;
  uv_mutex_lock(&m->lock);
  e = c4j__cid_map_find(&m->ids, cid, len);
  *found = e != NULL;
  if (e != NULL) {
    const c4j__member_t *r = e->conn;
    chs = json_array();
    for (const c4j__sub_t *s = r->subs; chs != NULL && s != NULL;
         s = s->conn_next)
      if (json_array_append_new(chs, json_stringn(s->chan->name,
                                                  s->chan->len)) != 0) {
        json_decref(chs);
        chs = NULL;
      }
    if (chs != NULL)
      o = json_pack("{s:s,s:o,s:o}", "cId", r->id->id, "user", user_of(r),
                    "channels", chs);
  }
  uv_mutex_unlock(&m->lock);
  return o;
}
