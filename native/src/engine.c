/* engine.c - the public C API: engine life cycle, sending, tickets, events
 * and statistics.  Sending only builds the frame once and pushes one inbox
 * message per worker; the workers do the rest.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "common.h"
#include "engine.h"
#include "server.h"
#include "stream.h"
#include "worker.h"

int c4j__engine_valid(const c4j_engine_t *e) {
  return e != NULL && e->magic == C4J__ENGINE_MAGIC;
}

/* ---- The push guard ------------------------------------------------------- */

int c4j__engine_enter(c4j_engine_t *e) {
  atomic_fetch_add(&e->inflight, 1);
  if (atomic_load(&e->state) == C4J__RUNNING) return 1;
  atomic_fetch_sub(&e->inflight, 1);
  return 0;
}

void c4j__engine_leave(c4j_engine_t *e) { atomic_fetch_sub(&e->inflight, 1); }

int c4j__engine_refusal(c4j_engine_t *e) {
  return atomic_load(&e->state) == C4J__NEW ? C4J_ESTATE : C4J_ESTOPPED;
}

int c4j__engine_origin_ok(const c4j_engine_t *e, const char *origin) {
  const char *p = e->origins;
  size_t olen = strlen(origin);
  if (strcmp(p, "*") == 0 || olen == 0) return 1; /* no Origin: not a page */
  while (*p != '\0') {
    const char *end = strchr(p, ',');
    size_t n;
    if (end == NULL) end = p + strlen(p);
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    n = (size_t)(end - p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if ((n == 1 && *p == '*') || (n == olen && strncasecmp(p, origin, n) == 0))
      return 1;
    p = *end ? end + 1 : end;
  }
  return 0;
}

/* ---- Life cycle ----------------------------------------------------------- */

int c4j_engine_new(const c4j_config_t *cfg, c4j_engine_t **out) {
  c4j_engine_t *e;
  int rc = c4j__config_check(cfg);
  if (rc != 0) return rc;
  e = c4j__calloc(1, sizeof(*e));
  if (e == NULL) return C4J_ENOMEM;
  e->cfg = *cfg;
  e->host = c4j__strndup(cfg->host, strlen(cfg->host));
  e->origins = c4j__strndup(cfg->allowed_origins,
                            strlen(cfg->allowed_origins));
  e->secret = (uint8_t *)c4j__strndup((const char *)cfg->secret,
                                      cfg->secret_len);
  e->hub = c4j__strndup(cfg->hub ? cfg->hub : "", cfg->hub ? strlen(cfg->hub) : 0);
  e->hub_prefix = c4j__strndup(cfg->hub_prefix, strlen(cfg->hub_prefix));
  if (cfg->api_key != NULL && cfg->api_key[0] != '\0') {
    e->api_key = c4j__strndup(cfg->api_key, strlen(cfg->api_key));
    if (e->api_key == NULL) {
      c4j__free(e->hub);
      c4j__free(e->hub_prefix);
      c4j__free(e->host);
      c4j__free(e->origins);
      c4j__free(e->secret);
      c4j__free(e);
      return C4J_ENOMEM;
    }
  }
  if (e->host == NULL || e->origins == NULL || e->secret == NULL ||
      e->hub == NULL || e->hub_prefix == NULL ||
      uv_mutex_init(&e->life) != 0) {
    c4j__free(e->hub);
    c4j__free(e->hub_prefix);
    c4j__free(e->api_key);
    c4j__free(e->host);
    c4j__free(e->origins);
    c4j__free(e->secret);
    c4j__free(e);
    return C4J_ENOMEM;
  }
  rc = c4j__events_init(&e->events, cfg->event_queue);
  if (rc == 0) {
    rc = c4j__hist_init(&e->hist, (uint32_t)cfg->history_size,
                        (uint64_t)cfg->history_age_ms);
    if (rc != 0) c4j__events_free(&e->events);
  }
  if (rc == 0 && (rc = c4j__held_init(&e->held)) != 0) {
    c4j__hist_free(&e->hist);
    c4j__events_free(&e->events);
  }
  if (rc != 0) {
    uv_mutex_destroy(&e->life);
    c4j__free(e->hub);
    c4j__free(e->hub_prefix);
    c4j__free(e->api_key);
    c4j__free(e->host);
    c4j__free(e->origins);
    c4j__free(e->secret);
    c4j__free(e);
    return C4J_ENOMEM;
  }
  e->cfg.host = e->host;
  e->cfg.allowed_origins = e->origins;
  e->cfg.secret = e->secret;
  e->cfg.api_key = e->api_key;
  e->cfg.hub = e->hub;
  e->cfg.hub_prefix = e->hub_prefix;
  e->port = -1;
  e->listen_fd = -1;
  atomic_init(&e->state, C4J__NEW);
  e->magic = C4J__ENGINE_MAGIC;
  *out = e;
  return 0;
}

/* Ends and frees every worker and closes the listener.  Called with the
 * life lock held, from start (on failure) or stop. */
static void teardown(c4j_engine_t *e) {
  atomic_store(&e->state, C4J__STOPPING);
  while (atomic_load(&e->inflight) != 0) uv_sleep(0);
  c4j__hub_stop(e); /* its thread delivers through the workers */
  if (e->workers != NULL) {
    for (int i = 0; i < e->nworkers; i++)
      if (e->workers[i] != NULL) c4j__worker_stop(e->workers[i]);
    for (int i = 0; i < e->nworkers; i++) {
      if (e->workers[i] == NULL) continue;
      c4j__worker_free(e->workers[i]);
      c4j__free(e->workers[i]);
    }
    c4j__free(e->workers);
    e->workers = NULL;
  }
  e->nworkers = 0;
  c4j__listener_close(e);
}

int c4j_engine_start(c4j_engine_t *e) {
  int rc = 0, n;
  struct sigaction sa;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  uv_mutex_lock(&e->life);
  if (atomic_load(&e->state) != C4J__NEW) {
    uv_mutex_unlock(&e->life);
    return C4J_ESTATE;
  }
  /* Writes to a closed socket must fail with EPIPE, not kill the process.
   * The JVM already handles SIGPIPE; only a default disposition is
   * changed. */
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
  n = e->cfg.threads;
  e->workers = c4j__calloc((size_t)n, sizeof(*e->workers));
  if (e->workers == NULL) {
    rc = C4J_ENOMEM;
    goto fail;
  }
  e->nworkers = n;
  for (int i = 0; i < n; i++) {
    e->workers[i] = c4j__calloc(1, sizeof(c4j__worker_t));
    if (e->workers[i] == NULL) {
      rc = C4J_ENOMEM;
      goto fail;
    }
    rc = c4j__worker_init(e->workers[i], e, i);
    if (rc != 0) goto fail;
  }
  if (e->cfg.port != -1) {
    rc = c4j__listener_open(e);
    if (rc != 0) goto fail;
    rc = c4j__listener_start(e->workers[0]);
    if (rc != 0) goto fail;
  }
  atomic_store(&e->state, C4J__RUNNING);
  for (int i = 0; i < n; i++) {
    rc = c4j__worker_run(e->workers[i]);
    if (rc != 0) goto fail;
  }
  /* Last: records from the other nodes need running workers. */
  rc = c4j__hub_start(e);
  if (rc != 0) goto fail;
  uv_mutex_unlock(&e->life);
  return 0;

fail:
  teardown(e);
  atomic_store(&e->state, C4J__NEW);
  uv_mutex_unlock(&e->life);
  return rc;
}

int c4j_engine_port(const c4j_engine_t *e) {
  if (!c4j__engine_valid(e)) return -1;
  return atomic_load(&((c4j_engine_t *)e)->state) == C4J__RUNNING ? e->port
                                                                  : -1;
}

int c4j_engine_stop(c4j_engine_t *e) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  uv_mutex_lock(&e->life);
  if (atomic_load(&e->state) == C4J__RUNNING) teardown(e);
  atomic_store(&e->state, C4J__STOPPED);
  c4j__events_stop(&e->events);
  uv_mutex_unlock(&e->life);
  return 0;
}

void c4j_engine_free(c4j_engine_t *e) {
  if (!c4j__engine_valid(e)) return;
  c4j_engine_stop(e);
  c4j__events_free(&e->events);
  c4j__hist_free(&e->hist);
  c4j__held_free(&e->held);
  uv_mutex_destroy(&e->life);
  c4j__free(e->hub);
  c4j__free(e->hub_prefix);
  c4j__free(e->host);
  c4j__free(e->origins);
  if (e->secret != NULL) memset(e->secret, 0, e->cfg.secret_len);
  c4j__free(e->secret);
  if (e->api_key != NULL) memset(e->api_key, 0, strlen(e->api_key));
  c4j__free(e->api_key);
  e->magic = 0;
  c4j__free(e);
}

/* ---- Sending -------------------------------------------------------------- */

/* A cheap sanity check; the embedder serializes the JSON itself. */
int c4j__engine_json_ok(const char *json, size_t len) {
  size_t i = 0;
  while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' ||
                     json[i] == '\r'))
    i++;
  return i < len && strchr("{[\"tfn-0123456789", json[i]) != NULL;
}

/* Builds {"t":"msg","ch":...[,"u":...][,"e":...,"o":...],"data":...,
 * "time":...} as one text frame; hc is the channel's history (NULL for
 * sendTo frames) and the frame gets its next offset; u (NULL: none) is
 * the id of a broadcast its node delivered before Redis gave it an offset
 * (docs/protocol.md section 9).  Channel names need no escaping
 * (c4j_channel_name_ok), nor do epochs and ids (base64url, '.'). */
static int msg_frame(const c4j_engine_t *e, const char *ch, size_t ch_len,
                     const c4j__hist_chan_t *hc, const char *u,
                     const char *json, size_t json_len, int64_t time_ms,
                     c4j__buf_t **out) {
  static const char a[] = "{\"t\":\"msg\",\"ch\":\"";
  char mid[160], tail[40];
  size_t mid_len, tail_len, len, h, at;
  c4j__buf_t *buf;

  if (!c4j__engine_json_ok(json, json_len)) return C4J_EBADJSON;
  mid_len = 0;
  if (u != NULL)
    mid_len = (size_t)snprintf(mid, sizeof(mid), "\",\"u\":\"%.47s", u);
  if (hc != NULL)
    mid_len += (size_t)snprintf(mid + mid_len, sizeof(mid) - mid_len,
                                "\",\"e\":\"%s\",\"o\":%" PRIu64 ",\"data\":",
                                hc->epoch, hc->last + 1);
  else
    mid_len += (size_t)snprintf(mid + mid_len, sizeof(mid) - mid_len,
                                "\",\"data\":");
  tail_len = (size_t)snprintf(tail, sizeof(tail), ",\"time\":%" PRId64 "}",
                              time_ms);
  len = sizeof(a) - 1 + ch_len + mid_len + json_len + tail_len;
  h = c4j_ws_header_len(len);
  if (h + len > e->cfg.max_queue) return C4J_ETOOBIG;
  buf = c4j__buf_new(h + len);
  if (buf == NULL) return C4J_ENOMEM;
  if (hc != NULL) {
    buf->offset = hc->last + 1;
    buf->chan = hc;
  }
  at = c4j_ws_write_header(buf->data, C4J_WS_OP_TEXT, len);
  memcpy(buf->data + at, a, sizeof(a) - 1);
  at += sizeof(a) - 1;
  memcpy(buf->data + at, ch, ch_len);
  at += ch_len;
  memcpy(buf->data + at, mid, mid_len);
  at += mid_len;
  memcpy(buf->data + at, json, json_len);
  at += json_len;
  memcpy(buf->data + at, tail, tail_len);
  *out = buf;
  return 0;
}

/* Makes one message of type for each worker, all or nothing: returns
 * their count, or C4J_ENOMEM with none left allocated. */
static int new_msgs(c4j_engine_t *e, c4j__msg_t **msgs, int type,
                    const char *name, size_t name_len, const char *reason) {
  int n = e->nworkers;
  for (int i = 0; i < n; i++) {
    msgs[i] = c4j__msg_new(type, name, name_len, reason);
    if (msgs[i] == NULL) {
      while (i-- > 0) c4j__free(msgs[i]);
      return C4J_ENOMEM;
    }
  }
  return n;
}

/* Pushes one message of type to every worker, all sharing buf (whose
 * reference is taken over).  All or nothing. */
static int broadcast(c4j_engine_t *e, int type, const char *name,
                     size_t name_len, c4j__buf_t *buf, int code,
                     const char *reason) {
  c4j__msg_t *msgs[256];
  int n, i;
  if (!c4j__engine_enter(e)) {
    c4j__buf_unref(buf);
    return c4j__engine_refusal(e);
  }
  n = new_msgs(e, msgs, type, name, name_len, reason);
  if (n < 0) {
    c4j__engine_leave(e);
    c4j__buf_unref(buf);
    return n;
  }
  for (i = 0; i < n; i++) msgs[i]->code = code;
  if (buf != NULL && n > 1) c4j__buf_ref(buf, (unsigned)n - 1);
  for (i = 0; i < n; i++) {
    msgs[i]->buf = buf;
    c4j__worker_push(e->workers[i], &msgs[i]->node);
  }
  c4j__engine_leave(e);
  return 0;
}

/* See engine.h. */
int c4j__engine_publish(c4j_engine_t *e, const char *ch, size_t ch_len,
                        c4j__hist_chan_t *hc, const char *u, const char *json,
                        size_t json_len, int64_t time_ms, int push) {
  c4j__buf_t *buf;
  int rc;
  if (hc != NULL && c4j__hist_reserve(&e->hist, hc) != 0) return C4J_ENOMEM;
  rc = msg_frame(e, ch, ch_len, hc, u, json, json_len, time_ms, &buf);
  if (rc != 0) return rc;
  if (hc == NULL) /* no history: nothing to keep */
    return push ? broadcast(e, C4J__MSG_SEND_ALL, ch, ch_len, buf, 0, NULL)
                : (c4j__buf_unref(buf), 0);
  if (push) {
    c4j__buf_ref(buf, 1); /* kept for the history if the push succeeds */
    rc = broadcast(e, C4J__MSG_SEND_ALL, ch, ch_len, buf, 0, NULL);
  }
  if (rc == 0) c4j__hist_append(&e->hist, hc, buf, c4j__mono_ms());
  c4j__buf_unref(buf);
  return rc;
}

int c4j_send_all(c4j_engine_t *e, const char *channel, size_t channel_len,
                 const char *json, size_t json_len, int64_t time_ms) {
  c4j__hist_chan_t *hc;
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  if (json == NULL) return C4J_EBADJSON;
  if (time_ms == 0) time_ms = c4j__wall_ms();
  if (c4j__hub_remote(e))
    return c4j__hub_send_all(e, channel, channel_len, json, json_len,
                             time_ms);
  if (e->hist.size == 0)
    return c4j__engine_publish(e, channel, channel_len, NULL, NULL, json,
                               json_len, time_ms, 1);
  /* Offset, history and the pushes to every inbox under one lock, so that
   * concurrent publishers deliver in offset order.  Nothing here blocks on
   * I/O: building the frame is a copy, a push is a few atomics. */
  c4j__hist_lock(&e->hist);
  hc = c4j__hist_chan(&e->hist, channel, channel_len);
  rc = hc == NULL ? C4J_ENOMEM
                  : c4j__engine_publish(e, channel, channel_len, hc, NULL,
                                        json,
                                        json_len, time_ms, 1);
  c4j__hist_unlock(&e->hist);
  return rc;
}

static int cid_ok(const char *cid, size_t len) {
  if (cid == NULL || len == 0 || len > C4J_MAX_ID) return 0;
  for (size_t i = 0; i < len; i++)
    if ((uint8_t)cid[i] <= ' ' || (uint8_t)cid[i] >= 0x7f) return 0;
  return 1;
}

/* How this node holds cid: C4J__HELD_NONE, or attached, parked, dying. */
static int held_here(c4j_engine_t *e, const char *cid, size_t len) {
  char id[C4J_MAX_ID + 1];
  c4j__holder_t h;
  memcpy(id, cid, len);
  id[len] = '\0';
  h = c4j__held_get(&e->held, id);
  return h.worker >= 0 ? h.state : C4J__HELD_NONE;
}

/* Where a send to cid goes: here (TO_HERE) when this node holds it, to
 * the other nodes (TO_HUB) when it does not, or only as a dying ghost
 * (its page may have come back on another node; a page comes back on one
 * node, so it gets the frame once). */
enum { TO_HERE = 1, TO_HUB = 2 };
static int route(c4j_engine_t *e, const char *cid, size_t len) {
  int state;
  if (!c4j__hub_remote(e)) return TO_HERE;
  state = held_here(e, cid, len);
  if (state == C4J__HELD_NONE) return TO_HUB;
  return state == C4J__HELD_DYING ? TO_HERE | TO_HUB : TO_HERE;
}

int c4j__engine_send_local(c4j_engine_t *e, int type, const char *name,
                           size_t name_len, const char *channel,
                           size_t channel_len, const char *json,
                           size_t json_len, int64_t time_ms) {
  c4j__buf_t *buf;
  int rc = msg_frame(e, channel, channel_len, NULL, NULL, json, json_len,
                     time_ms ? time_ms : c4j__wall_ms(), &buf);
  if (rc != 0) return rc;
  /* Each worker looks the id (or the user) up in its own map: no global
   * lock. */
  return broadcast(e, type, name, name_len, buf, 0, NULL);
}

int c4j_send_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                const char *channel, size_t channel_len,
                const char *json, size_t json_len, int64_t time_ms) {
  int to;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  if (json == NULL) return C4J_EBADJSON;
  if (time_ms == 0) time_ms = c4j__wall_ms();
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    int rc = c4j__hub_send_to(e, cid, cid_len, channel, channel_len, json,
                              json_len, time_ms);
    if (rc != 0 || !(to & TO_HERE)) return rc;
  }
  return c4j__engine_send_local(e, C4J__MSG_SEND_TO, cid, cid_len, channel,
                                channel_len, json, json_len, time_ms);
}

int c4j__engine_drop_local(c4j_engine_t *e, const char *cid, size_t cid_len,
                           int code, const char *reason) {
  return broadcast(e, C4J__MSG_DROP, cid, cid_len, NULL, code,
                   reason ? reason : "");
}

int c4j_drop(c4j_engine_t *e, const char *cid, size_t cid_len, int code,
             const char *reason) {
  int to;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (code != 1000 && (code < 3000 || code > 4999)) return UV_EINVAL;
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    int rc = c4j__hub_drop(e, cid, cid_len, code, reason ? reason : "");
    if (rc != 0 || !(to & TO_HERE)) return rc;
  }
  return c4j__engine_drop_local(e, cid, cid_len, code, reason);
}

/* ---- Commands --------------------------------------------------------- */

/* Pushes one command message (cid, channel, id) to every worker: the one
 * holding cid acts on it, as for sendTo.  A subscription starts after the
 * channel's newest broadcast now: the messages are pushed under the
 * history's lock, as broadcasts are, so that every later broadcast
 * follows them in each inbox. */
int c4j__engine_command(c4j_engine_t *e, int type, const char *cid,
                        size_t cid_len, const char *channel,
                        size_t channel_len, int64_t id) {
  char ch[C4J_MAX_CHANNEL + 1];
  c4j__msg_t *msgs[256];
  c4j__hist_chan_t *hc = NULL;
  int n, i, locked = type == C4J__MSG_SUB && e->hist.size > 0;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  memcpy(ch, channel, channel_len);
  ch[channel_len] = '\0';
  if (!c4j__engine_enter(e))
    return c4j__engine_refusal(e);
  n = new_msgs(e, msgs, type, cid, cid_len, ch);
  if (n < 0) {
    c4j__engine_leave(e);
    return n;
  }
  for (i = 0; i < n; i++) msgs[i]->id = id;
  if (locked) {
    c4j__hist_lock(&e->hist);
    hc = c4j__hist_chan(&e->hist, ch, channel_len);
  }
  for (i = 0; i < n; i++) {
    msgs[i]->hist = hc;
    msgs[i]->off = hc ? hc->last : 0;
    c4j__worker_push(e->workers[i], &msgs[i]->node);
  }
  if (locked) c4j__hist_unlock(&e->hist);
  c4j__engine_leave(e);
  return 0;
}

/* A (un)subscription of an id: here, and through the hub when this node
 * does not hold it (or holds it only dying), like sendTo. */
static int routed_command(c4j_engine_t *e, int type, const char *cid,
                          size_t cid_len, const char *channel,
                          size_t channel_len, int64_t id) {
  int to;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    int rc = c4j__hub_command(e, type == C4J__MSG_SUB, cid, cid_len, channel,
                              channel_len, id);
    if (rc != 0 || !(to & TO_HERE)) return rc;
  }
  return c4j__engine_command(e, type, cid, cid_len, channel, channel_len, id);
}

int c4j_subscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                  const char *channel, size_t channel_len, int64_t ack_id) {
  return routed_command(e, C4J__MSG_SUB, cid, cid_len, channel, channel_len,
                        ack_id < 0 ? -1 : ack_id);
}

int c4j_unsubscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                    const char *channel, size_t channel_len) {
  return routed_command(e, C4J__MSG_UNSUB, cid, cid_len, channel,
                        channel_len, -1);
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The frame_json of c4j_send_frame, trimmed, if it passes its check. */
static int frame_trim(const char *frame_json, size_t len, size_t *a,
                      size_t *b) {
  *a = 0;
  *b = len;
  /* Trimmed of white space, an object: the embedder serialized it, so a
   * full parse per answer would only repeat its work. */
  while (*a < *b && is_space(frame_json[*a])) (*a)++;
  while (*b > *a && is_space(frame_json[*b - 1])) (*b)--;
  return *b - *a >= 2 && frame_json[*a] == '{' && frame_json[*b - 1] == '}';
}

/* A whole frame (already checked) pushed as a message of type, to the
 * connection or the channel `name` on every worker. */
static int whole_frame(c4j_engine_t *e, int type, const char *name,
                       size_t name_len, const char *frame, size_t len) {
  size_t h = c4j_ws_header_len(len);
  c4j__buf_t *buf;
  if (h + len > e->cfg.max_queue) return C4J_ETOOBIG;
  if ((buf = c4j__buf_new(h + len)) == NULL) return C4J_ENOMEM;
  c4j_ws_write_header(buf->data, C4J_WS_OP_TEXT, len);
  memcpy(buf->data + h, frame, len);
  return broadcast(e, type, name, name_len, buf, 0, NULL);
}

int c4j__engine_frame_local(c4j_engine_t *e, const char *cid, size_t cid_len,
                            const char *frame, size_t len) {
  return whole_frame(e, C4J__MSG_SEND_TO, cid, cid_len, frame, len);
}

int c4j_send_frame(c4j_engine_t *e, const char *cid, size_t cid_len,
                   const char *frame_json, size_t len) {
  size_t a, b;
  int to;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (frame_json == NULL || !frame_trim(frame_json, len, &a, &b))
    return C4J_EBADJSON;
  if (c4j_ws_header_len(b - a) + b - a > e->cfg.max_queue)
    return C4J_ETOOBIG;
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    int rc = c4j__hub_send_frame(e, cid, cid_len, frame_json + a, b - a);
    if (rc != 0 || !(to & TO_HERE)) return rc;
  }
  return c4j__engine_frame_local(e, cid, cid_len, frame_json + a, b - a);
}

int c4j__engine_chan_frame_local(c4j_engine_t *e, const char *ch,
                                 size_t ch_len, const char *frame,
                                 size_t len) {
  return whole_frame(e, C4J__MSG_SEND_ALL, ch, ch_len, frame, len);
}

int c4j_send_channel_frame(c4j_engine_t *e, const char *channel,
                           size_t channel_len, const char *frame_json,
                           size_t len) {
  size_t a, b;
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  if (frame_json == NULL || !frame_trim(frame_json, len, &a, &b))
    return C4J_EBADJSON;
  rc = c4j__engine_chan_frame_local(e, channel, channel_len, frame_json + a,
                                    b - a);
  if (rc == 0 && c4j__hub_remote(e))
    rc = c4j__hub_send_chan_frame(e, channel, channel_len, frame_json + a,
                                  b - a);
  return rc;
}

int c4j_send_user(c4j_engine_t *e, const char *user, size_t user_len,
                  const char *channel, size_t channel_len,
                  const char *json, size_t json_len, int64_t time_ms) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (user == NULL || user_len == 0 || user_len > C4J_MAX_USER)
    return C4J_EBADNAME;
  if (channel == NULL || !c4j_channel_name_ok(channel, channel_len))
    return C4J_EBADNAME;
  if (json == NULL) return C4J_EBADJSON;
  if (time_ms == 0) time_ms = c4j__wall_ms();
  rc = c4j__engine_send_local(e, C4J__MSG_SEND_USER, user, user_len, channel,
                              channel_len, json, json_len, time_ms);
  /* The user's connections on the other nodes too. */
  if (rc == 0 && c4j__hub_remote(e))
    rc = c4j__hub_send_user(e, user, user_len, channel, channel_len, json,
                            json_len, time_ms);
  return rc;
}

/* ---- The HTTP API ------------------------------------------------------ */

int c4j_api_reply(c4j_engine_t *e, uint32_t id, int status, const char *json,
                  size_t len) {
  char head[256];
  long h;
  c4j__buf_t *buf;
  c4j__msg_t *m;
  unsigned wi;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (status < 100 || status > 599) return UV_EINVAL;
  if (json == NULL) len = 0;
  if (!c4j__engine_enter(e))
    return c4j__engine_refusal(e);
  wi = id & 0xffu;
  if ((int)wi >= e->nworkers) {
    c4j__engine_leave(e);
    return C4J_ENOCONN;
  }
  h = c4j__http_head(head, sizeof(head), status, "application/json",
                     (long long)len, 0, NULL);
  buf = h < 0 ? NULL : c4j__buf_new((size_t)h + len);
  m = buf ? c4j__msg_new(C4J__MSG_API_REPLY, NULL, 0, NULL) : NULL;
  if (m == NULL) {
    c4j__buf_unref(buf);
    c4j__engine_leave(e);
    return C4J_ENOMEM;
  }
  memcpy(buf->data, head, (size_t)h);
  if (len) memcpy(buf->data + h, json, len);
  m->seq = id;
  m->buf = buf;
  c4j__worker_push(e->workers[wi], &m->node);
  c4j__engine_leave(e);
  return 0;
}

/* ---- Tickets, events, statistics ---------------------------------------- */

int c4j_ticket_sign(const c4j_engine_t *e, const char *claims_json,
                    size_t claims_len, char *out, size_t out_cap) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (claims_json == NULL || out == NULL) return C4J_EBADJSON;
  return c4j_auth_sign(e->secret, e->cfg.secret_len, claims_json, claims_len,
                       out, out_cap);
}

int c4j_engine_poll(c4j_engine_t *e, uint8_t *buf, size_t cap,
                    int timeout_ms) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (buf == NULL && cap > 0) return UV_EINVAL;
  return c4j__events_poll(&e->events, buf, cap, timeout_ms);
}

void c4j_engine_stats(const c4j_engine_t *e, c4j_stats_t *out) {
  c4j_engine_t *m = (c4j_engine_t *)e; /* atomics are read, not changed */
  memset(out, 0, sizeof(*out));
  if (!c4j__engine_valid(e)) return;
  out->conns = atomic_load(&m->conns);
  out->accepted = atomic_load(&m->accepted);
  out->messages_out = atomic_load(&m->messages_out);
  out->bytes_out = atomic_load(&m->bytes_out);
  out->slow_consumers = atomic_load(&m->slow_consumers);
  out->events_dropped = atomic_load(&m->events.dropped);
  if (c4j__engine_enter(m)) { /* the hub lives while the engine runs */
    if (m->redis != NULL) {
      out->hub_up = (uint64_t)c4j__redis_up(m->redis);
      c4j__redis_stats(m->redis, &out->hub_outbox, &out->hub_dropped);
    }
    c4j__engine_leave(m);
  }
}
