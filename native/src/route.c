/* route.c - the public sends and commands of c4j.h (c4j_send_*, c4j_drop,
 * c4j_subscribe, c4j_unsubscribe, c4j_api_reply): each checks its
 * arguments, then picks where the work goes: local delivery (deliver.h)
 * for what this node holds, the hub (hub.h) for what other nodes hold, or
 * both.  A broadcast with a Redis hub goes through the hub only: Redis
 * gives its offset and every node, this one too, delivers it from the bus.
 */
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "common.h"
#include "deliver.h"
#include "engine.h"
#include "frames.h"
#include "hub.h"
#include "ws.h"

static int cid_ok(const char *cid, size_t len) {
  if (cid == NULL || len == 0 || len > C4J_MAX_ID) return 0;
  for (size_t i = 0; i < len; i++)
    if ((uint8_t)cid[i] <= ' ' || (uint8_t)cid[i] >= 0x7f) return 0;
  return 1;
}

static int channel_ok(const char *ch, size_t len) {
  return ch != NULL && c4j_channel_name_ok(ch, len);
}

/* Where a send to cid goes: here (TO_HERE) when this node holds it, to
 * the other nodes (TO_HUB) when it does not, or both when it holds it only
 * as a dying ghost (its page may have come back on another node; a page
 * comes back on one node, so it gets the frame once).  Sent both ways, it
 * is delivered here whatever the hub answers (a full outbox keeps nothing
 * from the ghost), and the call fails only when neither took it. */
enum { TO_HERE = 1, TO_HUB = 2 };
static int route(c4j_engine_t *e, const char *cid, size_t len) {
  char id[C4J_MAX_ID + 1];
  c4j__holder_t h;
  if (!c4j__hub_remote(e)) return TO_HERE;
  memcpy(id, cid, len);
  id[len] = '\0';
  h = c4j__held_get(&e->held, id);
  if (h.worker < 0) return TO_HUB;
  return h.state == C4J__HELD_DYING ? TO_HERE | TO_HUB : TO_HERE;
}

/* The answer of a send routed `to`: here's alone, or for one made both
 * ways, 0 when either took it (not 0 whenever the hub was not asked: a
 * local refusal must reach the caller). */
static int both(int to, int hub, int here) {
  if (!(to & TO_HUB)) return here;
  return here == 0 || hub == 0 ? 0 : here;
}

/* ---- Messages: JSON, or binary data tagged (frames.h) ------------------- */

/* A message's data as the layers below carry it: the bytes of a binary
 * message after the C4J__DATA_BINARY tag, in a new buffer (NULL when out
 * of memory). */
static char *tagged(const void *data, size_t len) {
  char *t = len < SIZE_MAX ? c4j__malloc(len + 1) : NULL;
  if (t == NULL) return NULL;
  t[0] = C4J__DATA_BINARY;
  if (len > 0) memcpy(t + 1, data, len);
  return t;
}

/* JSON data must not pass for binary: it starts like a JSON value. */
static int data_ok(int json, const char *data, size_t len) {
  return json ? data != NULL && c4j__frame_json_ok(data, len)
              : c4j__frame_data_binary(data, len);
}

/* The three sends, of JSON (json 1) or tagged binary data (json 0). */
static int send_all(c4j_engine_t *e, const char *channel, size_t channel_len,
                    int json, const char *data, size_t len, int64_t time_ms) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!channel_ok(channel, channel_len)) return C4J_EBADNAME;
  if (!data_ok(json, data, len)) return C4J_EBADJSON;
  int rc;
  if (time_ms == 0) time_ms = c4j__wall_ms();
  rc = c4j__hub_remote(e)
           ? c4j__hub_send_all(e, channel, channel_len, data, len, time_ms)
           : c4j__deliver_all(e, channel, channel_len, data, len, time_ms);
  if (rc == 0) C4J__COUNT(e->broadcasts);
  return rc;
}

static int send_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                   const char *channel, size_t channel_len, int json,
                   const char *data, size_t len, int64_t time_ms) {
  int to, hub = 0;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (!channel_ok(channel, channel_len)) return C4J_EBADNAME;
  if (!data_ok(json, data, len)) return C4J_EBADJSON;
  if (time_ms == 0) time_ms = c4j__wall_ms();
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    hub = c4j__hub_send_to(e, cid, cid_len, channel, channel_len, data, len,
                           time_ms);
    if (!(to & TO_HERE)) {
      if (hub == 0) C4J__COUNT(e->sends_to);
      return hub;
    }
  }
  hub = both(to, hub, c4j__deliver_to(e, cid, cid_len, channel, channel_len,
                                      data, len, time_ms));
  if (hub == 0) C4J__COUNT(e->sends_to);
  return hub;
}

static int send_user(c4j_engine_t *e, const char *user, size_t user_len,
                     const char *channel, size_t channel_len, int json,
                     const char *data, size_t len, int64_t time_ms) {
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (user == NULL || user_len == 0 || user_len > C4J_MAX_USER)
    return C4J_EBADNAME;
  if (!channel_ok(channel, channel_len)) return C4J_EBADNAME;
  if (!data_ok(json, data, len)) return C4J_EBADJSON;
  if (time_ms == 0) time_ms = c4j__wall_ms();
  rc = c4j__deliver_user(e, user, user_len, channel, channel_len, data, len,
                         time_ms);
  /* The user's connections on the other nodes too. */
  if (rc == 0 && c4j__hub_remote(e))
    rc = c4j__hub_send_user(e, user, user_len, channel, channel_len, data,
                            len, time_ms);
  if (rc == 0) C4J__COUNT(e->sends_user);
  return rc;
}

int c4j_send_all(c4j_engine_t *e, const char *channel, size_t channel_len,
                 const char *json, size_t json_len, int64_t time_ms) {
  return send_all(e, channel, channel_len, 1, json, json_len, time_ms);
}

int c4j_send_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                const char *channel, size_t channel_len,
                const char *json, size_t json_len, int64_t time_ms) {
  return send_to(e, cid, cid_len, channel, channel_len, 1, json, json_len,
                 time_ms);
}

int c4j_send_user(c4j_engine_t *e, const char *user, size_t user_len,
                  const char *channel, size_t channel_len,
                  const char *json, size_t json_len, int64_t time_ms) {
  return send_user(e, user, user_len, channel, channel_len, 1, json,
                   json_len, time_ms);
}

int c4j_send_all_binary(c4j_engine_t *e, const char *channel,
                        size_t channel_len, const void *data, size_t len,
                        int64_t time_ms) {
  char *t;
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (data == NULL && len > 0) return UV_EINVAL;
  if ((t = tagged(data, len)) == NULL) return C4J_ENOMEM;
  rc = send_all(e, channel, channel_len, 0, t, len + 1, time_ms);
  c4j__free(t);
  return rc;
}

int c4j_send_to_binary(c4j_engine_t *e, const char *cid, size_t cid_len,
                       const char *channel, size_t channel_len,
                       const void *data, size_t len, int64_t time_ms) {
  char *t;
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (data == NULL && len > 0) return UV_EINVAL;
  if ((t = tagged(data, len)) == NULL) return C4J_ENOMEM;
  rc = send_to(e, cid, cid_len, channel, channel_len, 0, t, len + 1,
               time_ms);
  c4j__free(t);
  return rc;
}

int c4j_send_user_binary(c4j_engine_t *e, const char *user, size_t user_len,
                         const char *channel, size_t channel_len,
                         const void *data, size_t len, int64_t time_ms) {
  char *t;
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (data == NULL && len > 0) return UV_EINVAL;
  if ((t = tagged(data, len)) == NULL) return C4J_ENOMEM;
  rc = send_user(e, user, user_len, channel, channel_len, 0, t, len + 1,
                 time_ms);
  c4j__free(t);
  return rc;
}

/* ---- Drops, commands, frames ----------------------------------------------- */

int c4j_drop(c4j_engine_t *e, const char *cid, size_t cid_len, int code,
             const char *reason) {
  int to, hub = 0;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (code != 1000 && (code < 3000 || code > 4999)) return UV_EINVAL;
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    hub = c4j__hub_drop(e, cid, cid_len, code, reason ? reason : "");
    if (!(to & TO_HERE)) {
      if (hub == 0) C4J__COUNT(e->sends_to);
      return hub;
    }
  }
  return both(to, hub, c4j__deliver_drop(e, cid, cid_len, code, reason));
}

/* A (un)subscription of an id: here, and through the hub when this node
 * does not hold it (or holds it only dying), like sendTo. */
static int routed_command(c4j_engine_t *e, int subscribe, const char *cid,
                          size_t cid_len, const char *channel,
                          size_t channel_len, int64_t id) {
  int to, hub = 0;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (!channel_ok(channel, channel_len)) return C4J_EBADNAME;
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    hub = c4j__hub_command(e, subscribe, cid, cid_len, channel, channel_len,
                           id);
    if (!(to & TO_HERE)) {
      if (hub == 0) C4J__COUNT(e->sends_to);
      return hub;
    }
  }
  return both(to, hub,
              subscribe ? c4j__deliver_subscribe(e, cid, cid_len, channel,
                                                 channel_len, id)
                        : c4j__deliver_unsubscribe(e, cid, cid_len, channel,
                                                   channel_len));
}

int c4j_subscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                  const char *channel, size_t channel_len, int64_t ack_id) {
  return routed_command(e, 1, cid, cid_len, channel, channel_len,
                        ack_id < 0 ? -1 : ack_id);
}

int c4j_unsubscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                    const char *channel, size_t channel_len) {
  return routed_command(e, 0, cid, cid_len, channel, channel_len, -1);
}

int c4j_send_frame(c4j_engine_t *e, const char *cid, size_t cid_len,
                   const char *frame_json, size_t len) {
  size_t a, b;
  int to, hub = 0;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!cid_ok(cid, cid_len)) return C4J_EBADNAME;
  if (frame_json == NULL || !c4j__frame_trim(frame_json, len, &a, &b))
    return C4J_EBADJSON;
  if (c4j_ws_header_len(b - a) + b - a > e->cfg.max_queue)
    return C4J_ETOOBIG;
  if ((to = route(e, cid, cid_len)) & TO_HUB) {
    hub = c4j__hub_send_frame(e, cid, cid_len, frame_json + a, b - a);
    if (!(to & TO_HERE)) {
      if (hub == 0) C4J__COUNT(e->sends_to);
      return hub;
    }
  }
  return both(to, hub, c4j__deliver_frame(e, cid, cid_len, frame_json + a,
                                          b - a));
}

int c4j_send_channel_frame(c4j_engine_t *e, const char *channel,
                           size_t channel_len, const char *frame_json,
                           size_t len) {
  size_t a, b;
  int rc;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (!channel_ok(channel, channel_len)) return C4J_EBADNAME;
  if (frame_json == NULL || !c4j__frame_trim(frame_json, len, &a, &b))
    return C4J_EBADJSON;
  rc = c4j__deliver_channel_frame(e, channel, channel_len, frame_json + a,
                                  b - a);
  if (rc == 0 && c4j__hub_remote(e))
    rc = c4j__hub_send_chan_frame(e, channel, channel_len, frame_json + a,
                                  b - a);
  return rc;
}

int c4j_api_reply(c4j_engine_t *e, uint32_t id, int status, const char *json,
                  size_t len) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (status < 100 || status > 599) return UV_EINVAL;
  if (json == NULL) len = 0;
  return c4j__deliver_api_reply(e, id, status, json, len);
}
