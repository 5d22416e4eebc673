/* api.c - /api/publish, /api/send, /api/online, /api/presence and
 * /api/stats for comet4j-node: routes, checks like ApiHandler (publish and
 * send take "data" or "b64"), answers with jansson.  The online and
 * presence answers are the core's own (c4j_online, c4j_members: the JSON
 * the Java library's ApiHandler passes on too), the cluster's with a Redis
 * hub; the statistics are c4j_engine_stats with the names of the JVM's
 * getStats(). */
#include "api.h"
#include "base64.h"

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
static char *ans_buf;     /* the core's answers; grows, main thread only */
static size_t ans_cap;

void api_set_hub(int remote) { hub_remote = remote; }

void api_free(void) {
  free(ans_buf);
  ans_buf = NULL;
  ans_cap = 0;
}

/* A JSON answer of the core (c4j_online, c4j_members) into a new value;
 * NULL with f filled when it cannot be had. */
static json_t *core_answer(fail_t *f, int n, const char *buf);

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

/* A send that the hub's full outbox refused was kept nowhere: 503, so
 * that the caller retries (docs/protocol.md section 9). */
#define OUTBOX_FULL "the hub's outbox is full: Redis is unreachable or slow " \
  "(Comet.HubOutboxRecords, Comet.HubOutboxBytes); not sent, retry later"

static json_t *send_result(fail_t *f, int rc) {
  if (rc >= 0) return ok();
  if (rc == C4J_EBADNAME || rc == C4J_ETOOBIG || rc == C4J_EBADJSON)
    return failf(f, 400, "%s", c4j_strerror(rc));
  if (rc == C4J_EFULL) return failf(f, 503, "%s", OUTBOX_FULL);
  return failf(f, rc == C4J_ESTOPPED ? 503 : 500, "%s", c4j_strerror(rc));
}

/* GET /api/stats: the core's counters, with getStats()'s names and order. */
static json_t *stats(c4j_engine_t *e) {
  c4j_stats_t s;
  uint64_t refused = 0;
  c4j_engine_stats(e, &s);
  for (int i = 0; i < C4J_STATS_NSTATUSES; i++) refused += s.refused[i];
  const struct { const char *name; uint64_t v; } f[] = {
    {"conns", s.conns}, {"accepted", s.accepted},
    {"messagesOut", s.messages_out}, {"bytesOut", s.bytes_out},
    {"slowConsumers", s.slow_consumers}, {"eventsDropped", s.events_dropped},
    {"hubUp", s.hub_up}, {"hubOutbox", s.hub_outbox},
    {"hubRefused", s.hub_refused}, {"pending", s.pending},
    {"refusedFull", s.refused_full}, {"refusedAddress", s.refused_address},
    {"evicted", s.evicted}, {"timeouts", s.timeouts},
    {"timeoutsShortened", s.timeouts_short}, {"messagesIn", s.messages_in},
    {"bytesIn", s.bytes_in}, {"broadcasts", s.broadcasts},
    {"sendsTo", s.sends_to}, {"sendsUser", s.sends_user},
    {"resumesRecovered", s.resumes[1]}, {"resumesLost", s.resumes[0]},
    {"eventQueueBytes", s.events_queued},
    {"outputQueueBytes", s.out_queued}, {"fanouts", s.fanout_count},
    {"hubLost", s.hub_lost}, {"hubGaps", s.hub_gaps},
    {"hubDuplicates", s.hub_duplicates}, {"fanoutNanos", s.fanout_sum_ns},
    {"httpRefused", refused}, {"deflated", s.deflated},
    {"deflatePlainBytes", s.deflate_bytes_in},
    {"deflateCompressedBytes", s.deflate_bytes_out},
  };
  json_t *o = json_object();
  for (size_t i = 0; o != NULL && i < sizeof f / sizeof f[0]; i++)
    if (json_object_set_new(o, f[i].name, json_integer((json_int_t)f[i].v))) {
      json_decref(o);
      o = NULL;
    }
  return o;
}

/* Asks the core with ask(e, buf, cap), growing the buffer while the
 * answer does not fit; the answer's length or a negative code. */
typedef int (*ask_fn)(c4j_engine_t *e, const void *arg, char *buf,
                      size_t cap);
static int ask(c4j_engine_t *e, ask_fn fn, const void *arg) {
  for (;;) {
    if (!ans_buf) {
      ans_cap = 64 << 10;
      if (!(ans_buf = malloc(ans_cap))) { ans_cap = 0; return C4J_ENOMEM; }
    }
    int n = fn(e, arg, ans_buf, ans_cap);
    if (n != C4J_ETOOBIG) return n;
    if (ans_cap >= HUB_MAX_MAP) return n;
    char *nb = realloc(ans_buf, ans_cap * 4);
    if (!nb) return C4J_ENOMEM;
    ans_buf = nb;
    ans_cap *= 4;
  }
}

typedef struct { const char *s; size_t n; } text_t;

static int ask_identity(c4j_engine_t *e, const void *arg, char *b, size_t c) {
  const text_t *t = arg;
  return c4j_identity(e, t->s, t->n, b, c);
}

static int ask_online(c4j_engine_t *e, const void *arg, char *b, size_t c) {
  const text_t *t = arg;
  return c4j_online(e, t->s, t->n, 1, b, c, HUB_WAIT_MS);
}

static int ask_members(c4j_engine_t *e, const void *arg, char *b, size_t c) {
  const text_t *t = arg;
  return c4j_members(e, t->s, t->n, 1, b, c, HUB_WAIT_MS);
}

static json_t *core_answer(fail_t *f, int n, const char *buf) {
  if (n == C4J_EBADNAME) return failf(f, 400, "%s", c4j_strerror(n));
  if (n < 0) return failf(f, n == C4J_ESTOPPED ? 503 : 500, "%s", c4j_strerror(n));
  json_t *j = json_loadb(buf, (size_t)n, 0, NULL);
  return j ? j : failf(f, 500, "bad answer from the core%s", "");
}

/* Whether another node may hold cid (the cluster's "online" map, which
 * every node's core writes).  When the map cannot be read (Redis down),
 * the answer is yes: the send then waits in the outbox like any other,
 * and an id nobody holds is ignored. */
static int held_elsewhere(c4j_engine_t *e, const char *cid, size_t cn) {
  if (!hub_remote) return 0;
  size_t cap = 64 << 10;
  char *buf = malloc(cap);
  int n = buf ? c4j_hub_get(e, "online", 6, buf, cap, HUB_WAIT_MS) : C4J_ENOMEM;
  while (buf && (n == C4J_ETOOBIG || (n >= 0 && (size_t)n >= cap)) && cap < HUB_MAX_MAP) {
    char *nb = realloc(buf, cap *= 4);
    if (!nb) break;
    buf = nb;
    n = c4j_hub_get(e, "online", 6, buf, cap, HUB_WAIT_MS);
  }
  json_t *m = buf && n >= 0 && (size_t)n < cap ? json_loadb(buf, (size_t)n, 0, NULL) : NULL;
  free(buf);
  if (!json_is_object(m)) {
    json_decref(m);
    return 1;
  }
  int held = strlen(cid) == cn && json_object_get(m, cid) != NULL;
  json_decref(m);
  return held;
}

/* Whether this node holds cid. */
static int held_here(c4j_engine_t *e, const char *cid, size_t cn) {
  text_t t = {cid, cn};
  return ask(e, ask_identity, &t) >= 0;
}

/* The three sends, of JSON (bytes NULL) or of bytes (js NULL). */
static int send_all(c4j_engine_t *e, const char *ch, size_t chn, const char *js,
                    const unsigned char *bytes, size_t n) {
  return bytes ? c4j_send_all_binary(e, ch, chn, bytes, n, 0)
               : c4j_send_all(e, ch, chn, js, strlen(js), 0);
}

static int send_to(c4j_engine_t *e, const char *cid, size_t cn, const char *ch,
                   size_t chn, const char *js, const unsigned char *bytes, size_t n) {
  return bytes ? c4j_send_to_binary(e, cid, cn, ch, chn, bytes, n, 0)
               : c4j_send_to(e, cid, cn, ch, chn, js, strlen(js), 0);
}

static int send_user(c4j_engine_t *e, const char *u, size_t un, const char *ch,
                     size_t chn, const char *js, const unsigned char *bytes, size_t n) {
  return bytes ? c4j_send_user_binary(e, u, un, ch, chn, bytes, n, 0)
               : c4j_send_user(e, u, un, ch, chn, js, strlen(js), 0);
}

/* "data" (any JSON value) or "b64" (bytes in base64: a binary message,
 * docs/protocol.md section 11), one of them, as the Java library's
 * ApiHandler takes them. */
static json_t *publish_or_send(c4j_engine_t *e, fail_t *f, int is_send,
                               str_t method, str_t body) {
  json_t *b = body_object(f, method, body), *res = NULL;
  if (!b) return NULL;
  const char *ch = string_field(f, b, "channel");
  json_t *data = json_object_get(b, "data"), *b64 = json_object_get(b, "b64");
  char *js = NULL;
  unsigned char *bytes = NULL;
  size_t n = 0;
  if (!ch) goto out;
  if (data && b64) { failf(f, 400, "\"data\" or \"b64\", not both%s", ""); goto out; }
  if (b64) {
    if (!json_is_string(b64)) { failf(f, 400, "\"b64\" must be a base64 string%s", ""); goto out; }
    bytes = b64_decode(json_string_value(b64), json_string_length(b64), &n);
    if (!bytes) { failf(f, 400, "\"b64\" is not base64%s", ""); goto out; }
  } else if (!data) {
    failf(f, 400, "\"data\" (or \"b64\") is required%s", "");
    goto out;
  } else if (!(js = json_dumps(data, JSON_ENCODE_ANY | JSON_COMPACT))) {
    failf(f, 500, "out of memory%s", "");
    goto out;
  }
  size_t chn = json_string_length(json_object_get(b, "channel"));
  if (!is_send) {
    res = send_result(f, send_all(e, ch, chn, js, bytes, n));
    goto out;
  }
  json_t *cid = json_object_get(b, "cId"), *user = json_object_get(b, "user");
  if (json_is_string(cid)) {
    const char *c = json_string_value(cid);
    size_t cn = json_string_length(cid);
    if (!held_here(e, c, cn) && !held_elsewhere(e, c, cn)) {
      failf(f, 404, "unknown connection: %s", c);
      goto out;
    }
    res = send_result(f, send_to(e, c, cn, ch, chn, js, bytes, n));
  } else if (json_is_string(user) && json_string_length(user) > 0) {
    res = send_result(f, send_user(e, json_string_value(user), json_string_length(user),
                                   ch, chn, js, bytes, n));
  } else {
    failf(f, 400, "\"cId\" or \"user\" (a string) is required%s", "");
  }
out:
  free(js);
  free(bytes);
  json_decref(b);
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
    /* The core's answer: the cluster's, or (Redis down or slow) what this
     * node holds, which is better than nothing. */
    text_t t = {r ? u : NULL, r ? un : 0};
    int n = ask(e, ask_online, &t); /* before reading ans_buf: it may move */
    json_t *res = core_answer(f, n, ans_buf);
    free(u);
    return res;
  }
  if (eq(path, "/api/stats")) {
    if (!eq(method, "GET")) return failf(f, 405, "method must be GET%s", "");
    return stats(e);
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
    text_t t = {c, cn};
    int n = ask(e, ask_members, &t);
    json_t *res = core_answer(f, n, ans_buf);
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
