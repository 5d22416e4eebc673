/* comet4j-node.c - the C core as a standalone server, no JVM: settings
 * from flags or a Comet.* file (options.c), the engine, and the embedder's
 * one thread: it drains c4j_engine_poll, answers the HTTP API (api.c),
 * hands a page's sub, unsub, pub and req to the hub's action queue (or
 * answers 4040 without a Redis hub: no application here), logs, stops on
 * SIGINT/SIGTERM and, with TLS, reads its certificate again on SIGHUP.  A
 * page's binary pub goes to the action queue too, its bytes as "b64".
 * Who is connected and subscribed it asks the core
 * (c4j.h, "Who is here"): it keeps no index of its own. */
#include "api.h"
#include "base64.h"
#include "options.h"

#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_signal, reload_signal;
static int log_level = LOG_INFO;
static int hub_remote; /* Comet.Hub is redis://... */

static void on_signal(int sig) { stop_signal = sig; }
static void on_hup(int sig) { reload_signal = 1; }

/* The core's text about a field, with the field as the Comet.* setting
 * that sets it here ("tls_key: ... in tls_cert: /k" -> "Comet.TlsKey: ...
 * in Comet.TlsCert: /k"); a text of no field unchanged. */
static const char *as_setting(const char *text, char *out, size_t cap) {
  const char *name = node_options_key_of(text);
  const char *rest, *in;
  if (!name) return text;
  rest = text + strcspn(text, ":");
  in = strstr(rest, "certificate in tls_cert:");
  if (in) /* "certificate in tls_cert" is 23 bytes */
    snprintf(out, cap, "%s%.*scertificate in Comet.TlsCert%s", name,
             (int)(in - rest), rest, in + 23);
  else
    snprintf(out, cap, "%s%s", name, rest);
  return out;
}

static void logf_(int level, const char *fmt, ...) {
  static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
  if (level > log_level) return;
  char ts[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(stderr, "%s %-5s ", ts, names[level]);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* ---- reading event records ---- */
typedef struct { const uint8_t *p, *end; int ok; } rd_t;

static uint32_t rd_u32(rd_t *r) {
  if (r->end - r->p < 4) { r->ok = 0; return 0; }
  uint32_t v = r->p[0] | r->p[1] << 8 | r->p[2] << 16 | (uint32_t)r->p[3] << 24;
  r->p += 4;
  return v;
}
static unsigned rd_u16(rd_t *r) {
  if (r->end - r->p < 2) { r->ok = 0; return 0; }
  unsigned v = r->p[0] | r->p[1] << 8;
  r->p += 2;
  return v;
}
static unsigned rd_u8(rd_t *r) {
  if (r->end - r->p < 1) { r->ok = 0; return 0; }
  return *r->p++;
}
static str_t rd_str(rd_t *r) {
  str_t s = {"", 0};
  size_t n = rd_u16(r);
  if (!r->ok || (size_t)(r->end - r->p) < n) { r->ok = 0; return s; }
  s.p = (const char *)r->p;
  s.n = n;
  r->p += n;
  return s;
}

#define S(s) (int)(s).n, (s).p

static void send_err(c4j_engine_t *e, str_t cid, json_t *id, int code,
                     const char *message) {
  json_t *err = json_pack("{s:s,s:O,s:i,s:s}", "t", "err", "id", id, "code", code,
                          "message", message);
  char *js = err ? json_dumps(err, JSON_COMPACT) : NULL;
  if (js) c4j_send_frame(e, cid.p, cid.n, js, strlen(js));
  free(js);
  json_decref(err);
}

/* A page's command, with a Redis hub: onto the action queue
 * (docs/protocol.md section 9) as {"t","cId","user","id"} and then
 * "route","params" (req), "ch" (sub, unsub) or "ch","data" (pub); a node
 * of the application pops it, decides (its listeners, which channels pages
 * may write) and answers the page through the hub.  A bad command gets
 * 4000 here; when the queue refuses it, 5000 at once. */
static void queue_action(c4j_engine_t *e, str_t cid, const char *t, json_t *m, json_t *id) {
  int req = !strcmp(t, "req"), pub = !strcmp(t, "pub");
  /* A pub of bytes carries "b64" (docs/protocol.md section 11). */
  const char *key = req ? "route" : "ch",
             *extra = req ? "params" : !pub ? NULL
                      : json_object_get(m, "b64") ? "b64" : "data";
  json_t *k = json_object_get(m, key), *x = extra ? json_object_get(m, extra) : NULL;
  if (!json_is_integer(id) || json_integer_value(id) < 0 || !json_is_string(k) ||
      json_string_length(k) == 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "bad command: \"id\" (an integer >= 0) and \"%s\" (a string) "
             "are required", key);
    send_err(e, cid, id, 4000, msg);
    return;
  }
  /* The page's user, as the core knows it. */
  static char who[1 << 17]; /* main thread only; 256 channels fit */
  int wn = c4j_identity(e, cid.p, cid.n, who, sizeof who);
  json_t *ident = wn > 0 ? json_loadb(who, (size_t)wn, 0, NULL) : NULL;
  json_t *user = json_object_get(ident, "user");
  json_t *a = json_pack("{s:s,s:s%,s:O,s:O,s:O}", "t", t, "cId", cid.p, cid.n,
                        "user", json_is_string(user) ? user : json_null(),
                        "id", id, key, k);
  json_decref(ident);
  if (a && extra && json_object_set(a, extra, x ? x : json_null()) < 0) {
    json_decref(a);
    a = NULL;
  }
  char *js = a ? json_dumps(a, JSON_COMPACT) : NULL;
  int rc = js ? c4j_hub_action(e, js, strlen(js)) : C4J_ENOMEM;
  if (rc < 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "request not queued: %s", c4j_strerror(rc));
    logf_(LOG_WARN, "%s from %.*s: %s", t, S(cid), msg);
    send_err(e, cid, id, 5000, msg);
  }
  free(js);
  json_decref(a);
}

/* A client's sub, unsub, pub or req with an id: with a Redis hub, to the
 * action queue (the application decides on its node); without one there
 * is no application here: sub, pub and req get 4040 (unsub nothing, as
 * before).  ping is the core's. */
static void on_message(c4j_engine_t *e, str_t cid, str_t text) {
  json_t *m = json_loadb(text.p, text.n, 0, NULL);
  json_t *t = json_object_get(m, "t"), *id = json_object_get(m, "id");
  const char *ts = json_string_value(t);
  int cmd = ts && (!strcmp(ts, "sub") || !strcmp(ts, "unsub") || !strcmp(ts, "pub") ||
                   !strcmp(ts, "req"));
  if (id && cmd && hub_remote) {
    queue_action(e, cid, ts, m, id);
  } else if (id && cmd && strcmp(ts, "unsub")) {
    send_err(e, cid, id, 4040, "no application on this node");
  }
  logf_(LOG_DEBUG, "message %.*s: %.*s", S(cid), (int)(text.n > 200 ? 200 : text.n), text.p);
  json_decref(m);
}

/* A page's binary message (docs/protocol.md section 11): u16 n, n bytes
 * of a command's JSON head, the bytes.  Only a pub carries bytes: with a
 * Redis hub it goes to the action queue with the bytes as "b64", like a
 * pub over /cmd; anything else gets 4000, and without a hub a pub gets
 * 4040 as a JSON one does. */
static void on_binary(c4j_engine_t *e, str_t cid, const uint8_t *p, size_t n) {
  size_t hlen = n >= 2 ? (size_t)p[0] << 8 | p[1] : 0;
  json_t *m = hlen >= 2 && hlen <= n - 2
                  ? json_loadb((const char *)p + 2, hlen, 0, NULL) : NULL;
  json_t *id = json_object_get(m, "id");
  const char *t = json_string_value(json_object_get(m, "t"));
  char *enc = NULL;
  logf_(LOG_DEBUG, "binary message %.*s: %zu bytes", S(cid), n);
  if (!json_is_object(m) || !t || strcmp(t, "pub") || json_object_get(m, "data") ||
      json_object_get(m, "b64")) {
    send_err(e, cid, json_is_integer(id) ? id : json_null(), 4000,
             "bad command: a binary message is a u16 length, the JSON head of a pub "
             "and its bytes");
  } else if (!hub_remote) {
    send_err(e, cid, id ? id : json_null(), 4040, "no application on this node");
  } else if ((enc = b64_encode(p + 2 + hlen, n - 2 - hlen)) == NULL ||
             json_object_set_new(m, "b64", json_string(enc)) < 0) {
    send_err(e, cid, id ? id : json_null(), 5000, "request not queued: out of memory");
  } else {
    queue_action(e, cid, "pub", m, id ? id : json_null());
  }
  free(enc);
  json_decref(m);
}

static void on_record(c4j_engine_t *e, const uint8_t *rec, size_t size) {
  rd_t r = {rec + 8, rec + size, 1};
  str_t cid, user, ip, tr, reason, text;
  unsigned code, port;
  switch (rec[4]) {
  case C4J_EV_CONNECT:
  case C4J_EV_REVIVAL:
    cid = rd_str(&r); user = rd_str(&r); ip = rd_str(&r); tr = rd_str(&r);
    port = rd_u16(&r);
    if (!r.ok) break;
    logf_(LOG_DEBUG, "%s %.*s user=%.*s %.*s:%u %.*s",
          rec[4] == C4J_EV_CONNECT ? "connect" : "revival", S(cid), S(user), S(ip),
          port, S(tr));
    return;
  case C4J_EV_DYING:
  case C4J_EV_DROP:
    cid = rd_str(&r); code = rd_u16(&r); reason = rd_str(&r);
    if (!r.ok) break;
    logf_(LOG_DEBUG, "%s %.*s %u %.*s", rec[4] == C4J_EV_DROP ? "drop" : "dying",
          S(cid), code, S(reason));
    return;
  case C4J_EV_MESSAGE:
    cid = rd_str(&r); text = rd_str(&r);
    if (!r.ok) break;
    on_message(e, cid, text);
    return;
  case C4J_EV_BINARY: {
    cid = rd_str(&r);
    uint32_t n = rd_u32(&r);
    if (!r.ok || (size_t)(r.end - r.p) != n) break;
    on_binary(e, cid, r.p, n);
    return;
  }
  case C4J_EV_LOG:
    code = rd_u8(&r); text = rd_str(&r);
    if (!r.ok) break;
    logf_(code > LOG_DEBUG ? LOG_DEBUG : (int)code, "core: %.*s", S(text));
    return;
  case C4J_EV_API: {
    uint32_t id = rd_u32(&r);
    str_t method = rd_str(&r), path = rd_str(&r), query = rd_str(&r), body = rd_str(&r);
    if (!r.ok) break;
    int status = api_handle(e, id, method, path, query, body);
    logf_(LOG_DEBUG, "api %.*s %.*s -> %d", S(method), S(path), status);
    return;
  }
  case C4J_EV_SUB:
    cid = rd_str(&r); text = rd_str(&r); port = rd_u8(&r); code = rd_u16(&r);
    if (!r.ok) break;
    logf_(LOG_DEBUG, "%s %.*s %.*s%s", port ? "sub" : "unsub", S(cid), S(text),
          code ? " refused" : "");
    return;
  case C4J_EV_ACTION:
    /* Not for this node: listen_actions is always 0 here. */
    text = rd_str(&r);
    if (!r.ok) break;
    logf_(LOG_WARN, "action ignored (no action handlers): %.*s",
          (int)(text.n > 200 ? 200 : text.n), text.p);
    return;
  default:
    logf_(LOG_DEBUG, "event type %u ignored", rec[4]);
    return;
  }
  logf_(LOG_WARN, "malformed event record (type %u)", rec[4]);
}

/* With a Redis hub: while the link is down (the core logs its loss and
 * return), how much waits in the outbox, every 10 s; and the sends the
 * full outbox refused (each answered 503 or an error already).  Checked
 * at most once a second.  What pages lost the core logs itself. */
static void watch_hub(c4j_engine_t *e) {
  static int64_t last_check, last_report;
  static uint64_t was_refused;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  if (now - last_check < 1000) return;
  last_check = now;
  c4j_stats_t st;
  c4j_engine_stats(e, &st);
  if (!st.hub_up && st.hub_outbox > 0 && now - last_report >= 10000) {
    logf_(LOG_WARN, "hub: Redis unreachable, %llu records wait in the outbox",
          (unsigned long long)st.hub_outbox);
    last_report = now;
  }
  if (st.hub_refused != was_refused)
    logf_(LOG_WARN, "hub: %llu sends refused so far: the outbox was full "
          "(Comet.HubOutboxRecords, Comet.HubOutboxBytes)",
          (unsigned long long)st.hub_refused);
  was_refused = st.hub_refused;
}

int main(int argc, char **argv) {
  node_options_t o;
  int rc = node_options_parse(argc, argv, &o);
  if (rc) {
    node_options_free();
    return rc == 1 ? 0 : rc;
  }
  log_level = o.log_level;
  hub_remote = o.hub_remote;

  c4j_engine_t *e;
  char why[600];
  int tls = o.cfg.tls_cert && *o.cfg.tls_cert;
  char *cert = tls ? strdup(o.cfg.tls_cert) : NULL; /* for the log */
  if ((rc = c4j_engine_new(&o.cfg, &e)) < 0) {
    fprintf(stderr, "comet4j-node: %s\n",
            rc == C4J_EINVAL_CONFIG ? as_setting(c4j_config_error(), why, sizeof why)
                                    : c4j_strerror(rc));
    node_options_free();
    free(cert);
    return 2;
  }
  node_options_free(); /* the engine copied what it keeps */
  for (char *save = NULL, *ch = o.presence ? strtok_r(o.presence, ",", &save) : NULL;
       ch; ch = strtok_r(NULL, ",", &save)) {
    while (*ch == ' ') ch++;
    size_t n = strlen(ch);
    while (n && ch[n - 1] == ' ') ch[--n] = 0;
    if (n && (rc = c4j_channel_presence(e, ch, n, 1)) < 0) {
      fprintf(stderr, "comet4j-node: Comet.PresenceChannels: %s: '%s'\n",
              c4j_strerror(rc), ch);
      free(o.presence);
      free(cert);
      c4j_engine_free(e);
      return 2;
    }
  }
  free(o.presence);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_hup;
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* Like a busy port, an unreachable hub is the machine's state, not a
   * bad value: exit 1 (c4j_config_error() says which hub and why). */
  if ((rc = c4j_engine_start(e)) < 0) {
    if (rc == C4J_EHUB)
      fprintf(stderr, "comet4j-node: Comet.Hub: cannot start: %s\n", c4j_config_error());
    else
      fprintf(stderr, "comet4j-node: cannot start: %s\n", c4j_strerror(rc));
    c4j_engine_free(e);
    free(cert);
    return 1;
  }
  api_set_hub(hub_remote);
  logf_(LOG_INFO, "comet4j-node listening on port %d%s%s", c4j_engine_port(e),
        tls ? " (TLS)" : "", hub_remote ? " (Redis hub)" : "");

  /* A client's binary message comes whole in one record (up to
   * Comet.MaxMessage), as for the JVM's dispatcher. */
  size_t cap = o.cfg.max_message + 4096 > (1u << 20) ? o.cfg.max_message + 4096
                                                      : 1u << 20;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    c4j_engine_stop(e);
    c4j_engine_free(e);
    free(cert);
    return 1;
  }
  int stopping = 0;
  for (;;) {
    if (stop_signal && !stopping) {
      logf_(LOG_INFO, "signal %d: stopping", (int)stop_signal);
      stopping = 1;
      c4j_engine_stop(e);
    }
    if (reload_signal && !stopping) {
      reload_signal = 0;
      if (!tls)
        logf_(LOG_WARN, "SIGHUP: no TLS (Comet.TlsCert is not set): nothing to reload");
      else if (c4j_tls_reload(e) == 0)
        logf_(LOG_INFO, "SIGHUP: TLS certificate reloaded from %s (new connections "
              "get it)", cert);
      else
        logf_(LOG_ERROR, "SIGHUP: %s: keeping the old certificate",
              as_setting(c4j_config_error(), why, sizeof why));
    }
    int n = c4j_engine_poll(e, buf, cap, 200);
    if (n == C4J_ESTOPPED) break;
    if (hub_remote && !stopping) watch_hub(e);
    if (n < 0) {
      logf_(LOG_ERROR, "poll: %s", c4j_strerror(n));
      break;
    }
    for (int off = 0; off + 8 <= n;) {
      uint32_t size = buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16 |
                      (uint32_t)buf[off + 3] << 24;
      if (size < 8 || size > (uint32_t)(n - off)) {
        logf_(LOG_ERROR, "bad event record size %u", size);
        break;
      }
      on_record(e, buf + off, size);
      off += size;
    }
  }
  c4j_engine_stop(e);
  c4j_engine_free(e);
  free(buf);
  free(cert);
  api_free();
  logf_(LOG_INFO, "stopped");
  return 0;
}
