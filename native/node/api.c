/* api.c - /api/publish, /api/send, /api/online, /api/presence for
 * comet4j-node: routes, checks like ApiHandler, answers with jansson; with
 * a Redis hub, online and presence come from the hub's maps. */
#include "api.h"
#include "registry.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int status; char msg[512]; } fail_t;

/* How long an API request may wait for a map from Redis: it blocks the
 * node's one thread (events, other requests) meanwhile. */
#define HUB_WAIT_MS 500
#define HUB_MAX_MAP (64u << 20)

static int hub_remote;
static char *map_buf;     /* c4j_hub_get's answer; grows, main thread only */
static size_t map_cap;

void api_set_hub(int remote) { hub_remote = remote; }

void api_free(void) {
  free(map_buf);
  map_buf = NULL;
  map_cap = 0;
}

/* The hub's map `key`, merged over the live nodes, as a JSON object: NULL
 * with *rc a negative code when there is no Redis hub (C4J_ESTATE), Redis
 * is down or slow (C4J_EHUB), or the answer is not an object. */
static json_t *hub_map(c4j_engine_t *e, const char *key, size_t klen, int *rc) {
  *rc = C4J_ESTATE;
  if (!hub_remote) return NULL;
  c4j_stats_t st;
  c4j_engine_stats(e, &st);
  *rc = C4J_EHUB;
  if (!st.hub_up) return NULL; /* not worth HUB_WAIT_MS */
  for (;;) {
    if (!map_buf) {
      map_cap = 64 << 10;
      if (!(map_buf = malloc(map_cap))) { map_cap = 0; *rc = C4J_ENOMEM; return NULL; }
    }
    int n = c4j_hub_get(e, key, klen, map_buf, map_cap, HUB_WAIT_MS);
    if (n == C4J_ETOOBIG || (n >= 0 && (size_t)n >= map_cap)) {
      size_t want = n > 0 ? (size_t)n + 1 : map_cap * 2;
      if (want < map_cap * 2) want = map_cap * 2;
      if (want > HUB_MAX_MAP) { *rc = C4J_ETOOBIG; return NULL; }
      char *nb = realloc(map_buf, want);
      if (!nb) { *rc = C4J_ENOMEM; return NULL; }
      map_buf = nb;
      map_cap = want;
      continue;
    }
    if (n < 0) { *rc = n; return NULL; }
    json_t *m = json_loadb(map_buf, (size_t)n, 0, NULL);
    if (json_is_object(m)) { *rc = 0; return m; }
    json_decref(m);
    *rc = C4J_EBADJSON;
    return NULL;
  }
}

static json_t *failf(fail_t *f, int status, const char *fmt, const char *a) {
  f->status = status;
  snprintf(f->msg, sizeof f->msg, fmt, a ? a : "");
  return NULL;
}

static int eq(str_t s, const char *lit) {
  return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes s (with '+' as space) into a new string; NULL if bad. */
static char *decode(const char *s, size_t n, size_t *out_len) {
  char *d = malloc(n + 1);
  size_t j = 0;
  if (!d) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') d[j++] = ' ';
    else if (s[i] == '%') {
      int h, l;
      if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0) {
        free(d);
        return NULL;
      }
      d[j++] = (char)(h * 16 + l);
      i += 2;
    } else d[j++] = s[i];
  }
  d[j] = 0;
  *out_len = j;
  return d;
}

/* The first value of query parameter `name`, decoded: 1 found, 0 absent,
 * -1 bad query. */
static int param(str_t q, const char *name, char **val, size_t *vlen) {
  size_t i = 0;
  int found = 0;
  *val = NULL;
  while (i < q.n) {
    size_t end = i;
    while (end < q.n && q.p[end] != '&') end++;
    if (end > i) {
      const char *part = q.p + i;
      size_t plen = end - i, klen = plen;
      const char *e = memchr(part, '=', plen);
      if (e) klen = (size_t)(e - part);
      size_t kl, vl = 0;
      char *k = decode(part, klen, &kl);
      char *v = e ? decode(e + 1, plen - klen - 1, &vl) : strdup("");
      if (!k || !v) { free(k); free(v); free(*val); *val = NULL; return -1; }
      if (!found && strcmp(k, name) == 0 && strlen(k) == kl) {
        *val = v; *vlen = vl; found = 1;
      } else free(v);
      free(k);
    }
    i = end + 1;
  }
  return found;
}

static json_t *body_object(fail_t *f, str_t method, str_t body) {
  if (!eq(method, "POST")) return failf(f, 405, "method must be POST%s", "");
  json_error_t err;
  json_t *o = json_loadb(body.p, body.n, JSON_DECODE_ANY, &err);
  if (!o) return failf(f, 400, "bad JSON: %s", err.text);
  if (!json_is_object(o)) {
    json_decref(o);
    return failf(f, 400, "the body must be a JSON object%s", "");
  }
  return o;
}

static const char *string_field(fail_t *f, json_t *b, const char *name) {
  json_t *v = json_object_get(b, name);
  if (!json_is_string(v) || json_string_length(v) == 0) {
    failf(f, 400, "\"%s\" (a string) is required", name);
    return NULL;
  }
  return json_string_value(v);
}

static json_t *ok(void) { return json_pack("{s:b}", "ok", 1); }

static json_t *send_result(fail_t *f, int rc) {
  if (rc >= 0) return ok();
  if (rc == C4J_EBADNAME || rc == C4J_ETOOBIG || rc == C4J_EBADJSON)
    return failf(f, 400, "%s", c4j_strerror(rc));
  return failf(f, rc == C4J_ESTOPPED ? 503 : 500, "%s", c4j_strerror(rc));
}

/* Whether another node holds cid (the hub's "online" map).  When the map
 * cannot be read (Redis down), the answer is yes: the send then waits in
 * the outbox like any other, and an id nobody holds is ignored. */
static int held_elsewhere(c4j_engine_t *e, const char *cid, size_t cn) {
  int rc;
  if (!hub_remote) return 0;
  json_t *m = hub_map(e, "online", 6, &rc);
  if (!m) return 1;
  int held = strlen(cid) == cn && json_object_get(m, cid) != NULL;
  json_decref(m);
  return held;
}

static json_t *publish_or_send(c4j_engine_t *e, fail_t *f, int is_send,
                               str_t method, str_t body) {
  json_t *b = body_object(f, method, body), *res = NULL;
  if (!b) return NULL;
  const char *ch = string_field(f, b, "channel");
  json_t *data = json_object_get(b, "data");
  char *js = NULL;
  if (!ch) goto out;
  if (!data) { failf(f, 400, "\"data\" is required%s", ""); goto out; }
  js = json_dumps(data, JSON_ENCODE_ANY | JSON_COMPACT);
  if (!js) { failf(f, 500, "out of memory%s", ""); goto out; }
  size_t chn = json_string_length(json_object_get(b, "channel"));
  if (!is_send) {
    res = send_result(f, c4j_send_all(e, ch, chn, js, strlen(js), 0));
    goto out;
  }
  json_t *cid = json_object_get(b, "cId"), *user = json_object_get(b, "user");
  if (json_is_string(cid)) {
    const char *c = json_string_value(cid);
    size_t cn = json_string_length(cid);
    if (!reg_has(c, cn) && !held_elsewhere(e, c, cn)) {
      failf(f, 404, "unknown connection: %s", c);
      goto out;
    }
    res = send_result(f, c4j_send_to(e, c, cn, ch, chn, js, strlen(js), 0));
  } else if (json_is_string(user) && json_string_length(user) > 0) {
    res = send_result(f, c4j_send_user(e, json_string_value(user), json_string_length(user),
                                       ch, chn, js, strlen(js), 0));
  } else {
    failf(f, 400, "\"cId\" or \"user\" (a string) is required%s", "");
  }
out:
  free(js);
  json_decref(b);
  return res;
}

/* {"users","connections"} from the online map (cId -> user or null):
 * connections are its fields, users its distinct non-null values. */
static json_t *online_all(json_t *map) {
  json_t *seen = json_object(), *v;
  const char *k;
  if (!seen) return NULL;
  json_object_foreach(map, k, v) {
    if (json_is_string(v) && json_string_length(v) > 0)
      json_object_set_new(seen, json_string_value(v), json_true());
  }
  json_t *res = json_pack("{s:I,s:I}", "users", (json_int_t)json_object_size(seen),
                          "connections", (json_int_t)json_object_size(map));
  json_decref(seen);
  return res;
}

/* The connections of user u in the online map. */
static size_t online_user(json_t *map, const char *u, size_t un) {
  json_t *v;
  const char *k;
  size_t n = 0;
  json_object_foreach(map, k, v) {
    if (json_is_string(v) && json_string_length(v) == un &&
        memcmp(json_string_value(v), u, un) == 0)
      n++;
  }
  return n;
}

/* The hub's "presence:<channel>" map (cId -> user, written by the nodes
 * that run the application's presence) shaped like ApiHandler's answer.
 * Without a hub the node cannot know: a connection's channels are not
 * reported to it. */
static json_t *presence(c4j_engine_t *e, fail_t *f, const char *c, size_t cn) {
  if (!hub_remote)
    return failf(f, 501,
                 "presence is not available on comet4j-node without a hub: a "
                 "connection's channels (its ticket's) are not reported to the node%s", "");
  char key[16 + C4J_MAX_CHANNEL];
  if (cn > C4J_MAX_CHANNEL || memchr(c, 0, cn))
    return failf(f, 400, "%s", c4j_strerror(C4J_EBADNAME));
  int klen = snprintf(key, sizeof key, "presence:%.*s", (int)cn, c), rc;
  json_t *map = hub_map(e, key, (size_t)klen, &rc), *v;
  if (!map) {
    if (rc == C4J_EBADNAME) return failf(f, 400, "%s", c4j_strerror(rc));
    return failf(f, 503, "presence unavailable: %s", c4j_strerror(rc));
  }
  json_t *members = json_array();
  const char *k;
  json_object_foreach(map, k, v) {
    json_array_append_new(members, json_pack("{s:s,s:O}", "cId", k, "user", v));
  }
  json_t *res = json_pack("{s:s%,s:I,s:o}", "channel", c, cn, "count",
                          (json_int_t)json_array_size(members), "members", members);
  json_decref(map);
  return res;
}

static json_t *route(c4j_engine_t *e, fail_t *f, str_t method, str_t path,
                     str_t query, str_t body) {
  if (eq(path, "/api/publish")) return publish_or_send(e, f, 0, method, body);
  if (eq(path, "/api/send")) return publish_or_send(e, f, 1, method, body);
  if (eq(path, "/api/online")) {
    if (!eq(method, "GET")) return failf(f, 405, "method must be GET%s", "");
    char *u;
    size_t un;
    int r = param(query, "user", &u, &un);
    if (r < 0) return failf(f, 400, "bad query%s", "");
    int rc;
    json_t *map = hub_map(e, "online", 6, &rc), *res;
    /* Redis down or slow: what this node holds is better than nothing. */
    if (r == 0) {
      res = map ? online_all(map)
                : json_pack("{s:I,s:I}", "users", (json_int_t)reg_users(),
                            "connections", (json_int_t)reg_conns());
    } else {
      size_t k = map ? online_user(map, u, un) : reg_user_conns(u, un);
      res = json_pack("{s:s%,s:b,s:I}", "user", u, un, "online", k > 0,
                      "connections", (json_int_t)k);
      free(u);
    }
    json_decref(map);
    return res;
  }
  if (eq(path, "/api/presence")) {
    if (!eq(method, "GET")) return failf(f, 405, "method must be GET%s", "");
    char *c;
    size_t cn;
    int r = param(query, "channel", &c, &cn);
    if (r < 0) return failf(f, 400, "bad query%s", "");
    if (r == 0 || cn == 0) {
      free(c);
      return failf(f, 400, "query parameter \"channel\" is required%s", "");
    }
    json_t *res = presence(e, f, c, cn);
    free(c);
    return res;
  }
  char p[256];
  snprintf(p, sizeof p, "%.*s", (int)(path.n > 200 ? 200 : path.n), path.p);
  return failf(f, 404, "no such API: %s", p);
}

int api_handle(c4j_engine_t *e, uint32_t id, str_t method, str_t path,
               str_t query, str_t body) {
  fail_t f = {200, ""};
  json_t *res = route(e, &f, method, path, query, body);
  if (!res) {
    if (f.status == 200) failf(&f, 500, "out of memory%s", "");
    res = json_pack("{s:{s:i,s:s}}", "error", "code", f.status, "message", f.msg);
  }
  char *js = res ? json_dumps(res, JSON_COMPACT) : NULL;
  const char *out = js ? js : "{\"error\":{\"code\":500,\"message\":\"out of memory\"}}";
  int status = js ? f.status : 500;
  c4j_api_reply(e, id, status, out, strlen(out));
  free(js);
  json_decref(res);
  return status;
}
