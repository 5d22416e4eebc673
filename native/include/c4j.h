/* c4j.h - the public API of the comet4j-native core: the only header that
 * the JNI bridge and comet4j-node include.  It reads as a table of contents:
 * errors, configuration, the engine's life cycle, sending, tickets, events.
 *
 * Threads: every function here may be called from any thread.  Calls that
 * send or drop only enqueue work for the worker loops and return at once;
 * they never block on network I/O.  c4j_engine_poll() is the one call that
 * blocks, and only one thread (the embedder's dispatcher) should call it.
 */
#ifndef C4J_H
#define C4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors ------------------------------------------------------------
 * Functions return >= 0 on success and a negative code on failure.  libuv's
 * codes (-errno) pass through unchanged; our own start at -1000.
 */
#define C4J_ERRNO_MAP(XX)                                                    \
  XX(EINVAL_CONFIG, -1000, "invalid configuration value")                   \
  XX(ESTATE,        -1001, "engine is not in the right state for this call")\
  XX(ENOCONN,       -1002, "no such connection")                             \
  XX(ETOOBIG,       -1003, "message too large")                              \
  XX(EBADNAME,      -1004, "invalid channel name or connection id")          \
  XX(ENOMEM,        -1005, "out of memory")                                  \
  XX(ETICKET,       -1006, "invalid ticket")                                 \
  XX(ETICKETEXP,    -1007, "ticket expired")                                 \
  XX(ESTOPPED,      -1008, "engine stopped")                                 \
  XX(EFULL,         -1009, "queue full")                                     \
  XX(EBADJSON,      -1010, "invalid JSON")                                 \
  XX(EHUB,          -1011, "hub unavailable")

typedef enum {
#define XX(name, val, msg) C4J_##name = (val),
  C4J_ERRNO_MAP(XX)
#undef XX
  C4J_ERR_MAX_ = 0
} c4j_errno_t;

/* Returns a static, human readable text for any code (ours or libuv's). */
const char *c4j_strerror(int err);

/* ---- Limits on names --------------------------------------------------- */
#define C4J_MAX_CHANNEL 128   /* bytes in a channel name */
#define C4J_MAX_CHANNELS 256  /* channels a connection may subscribe to */
#define C4J_MAX_ID 64         /* bytes in a connection id */
#define C4J_MAX_USER 256      /* bytes in a user id */

/* ---- WebSocket close codes used by the core ---------------------------- */
#define C4J_CLOSE_NORMAL 1000
#define C4J_CLOSE_GOING_AWAY 1001     /* engine stopping */
#define C4J_CLOSE_PROTOCOL 1002       /* e.g. unmasked client frame */
#define C4J_CLOSE_UNSUPPORTED 1003    /* unused: binary messages are taken */
#define C4J_CLOSE_BAD_DATA 1007       /* text that is not UTF-8 */
#define C4J_CLOSE_POLICY 1008
#define C4J_CLOSE_TOO_BIG 1009        /* frame or message over the limit */
#define C4J_CLOSE_INTERNAL 1011
#define C4J_CLOSE_SLOW_CONSUMER 4001  /* output queue over its byte limit */
#define C4J_CLOSE_IDLE_TIMEOUT 4002   /* no traffic within idle timeout */
#define C4J_CLOSE_DROPPED 4003        /* dropped by the application */
#define C4J_CLOSE_REPLACED 4004       /* same id attached again elsewhere */
#define C4J_CLOSE_EXPIRED 4005        /* dying period over (DROP event only) */

/* ---- Configuration ----------------------------------------------------- */
typedef struct {
  const char *host;       /* listen address; default "0.0.0.0" */
  int port;               /* default 4100; 0 picks a free port */
  int threads;            /* worker loops; default: number of cores */
  const uint8_t *secret;  /* HS256 key for tickets (copied) */
  size_t secret_len;      /* at least 16 bytes */
  int heartbeat_ms;       /* server ping interval; default 25000 */
  int idle_timeout_ms;    /* close after this long with no client bytes;
                             default 60000; must exceed heartbeat_ms */
  int hold_ms;            /* how long one HTTP request of a page is held
                             (Comet4J's Comet.Timeout), 0 to 86400000:
                             0 (the default): a long-poll min(25000,
                             idle_timeout_ms / 2), an SSE stream for as
                             long as it lives; else a long-poll is
                             answered [] after min(hold_ms, min(25000,
                             hold_ms / 2) + heartbeat_ms / 2) (what a
                             client told `timeout` = hold_ms waits for an
                             answer, less half a heartbeat), and an SSE
                             stream is ended after hold_ms: the response
                             ends, its identity waits for the client's
                             next request as between two long-polls */
  int handshake_timeout_ms; /* a request (head, and the body of POST /cmd
                             or /api/) must arrive within this long of the
                             accept, else 408; default 10000.  Shorter
                             while the engine is more than half full (see
                             max_pending_per_addr) */
  size_t max_header;      /* request line + headers; default 16384 */
  size_t max_frame;       /* payload of one client frame; default 65536 */
  size_t max_message;     /* reassembled client message; default 65536 */
  size_t max_queue;       /* bytes queued to one connection; default 1 MiB */
  int max_conns;          /* connections held at once; default 100000 */
  size_t event_queue;     /* bytes of pending events to the embedder;
                             default 8 MiB; overflow is counted */
  const char *allowed_origins; /* comma list or "*"; default "*" */
  int conn_expires_ms;    /* a lost connection keeps its identity this long
                             (dying), then DROP; default 5000 */
  int history_size;       /* broadcasts kept per channel for resume;
                             default 1000; 0 keeps none */
  int history_age_ms;     /* a kept broadcast expires after; default 60000 */
  const char *api_key;    /* the HTTP API's key (docs/protocol.md section
                             8), 16 to 256 printable ASCII characters
                             (copied); NULL or "": /api/ answers 404 */
  int api_timeout_ms;     /* an /api/ request unanswered this long gets
                             504; default 30000 */
  const char *hub;        /* how nodes reach each other (docs/protocol.md
                             section 9): "local" (the default; NULL and ""
                             too) or "redis://host[:port][/db]" (copied) */
  const char *hub_prefix; /* prefix of every Redis key and channel; default
                             "c4j"; 1 to 64 of [A-Za-z0-9_.:-] (copied) */
  int listen_actions;     /* 1 (default): with a Redis hub, this node takes
                             requests from the action queue (C4J_EV_ACTION);
                             0: it only holds connections */
  int max_pending_per_addr; /* unfinished requests (sockets whose request
                             has not fully arrived) one client address may
                             hold while the engine is at least half full:
                             more get 429; default 16, 0: no cap.  An
                             address is an IPv4 address or an IPv6 /64.
                             docs/protocol.md section 2, "Unfinished
                             requests": full is max_conns, or fewer when
                             the descriptors left at start are fewer; the
                             deadline shrinks from handshake_timeout_ms at
                             half full to a tenth of it when full, and a
                             socket that finds the engine full takes the
                             place of the oldest unfinished request (503
                             to that one) */
  const char *tls_cert;   /* TLS on the native port (docs/protocol.md
                             section 13): the PEM file of the certificate
                             and its chain, and */
  const char *tls_key;    /* the PEM file of its private key (unencrypted);
                             both or neither (NULL or ""); the paths are
                             copied and read again by c4j_tls_reload.
                             Sockets handed over (c4j_adopt) never speak
                             TLS. */
  const char *metrics;    /* GET /metrics on this port (docs/metrics.md):
                             NULL or "" (the default): 404; "true": open
                             to a request with api_key as a bearer
                             (api_key needed); else a comma list of
                             client addresses (IPv4 or IPv6, up to 32)
                             allowed without the key (copied) */
  /* The hub's bounds (docs/protocol.md section 9, "Redis faults"); the
   * defaults keep a 10 s outage at 1,000 broadcasts a second with room to
   * spare. */
  int hub_outbox_records; /* records (broadcasts, sends, commands) a node
                             keeps until Redis has them, while Redis is
                             down or slow; a send over it (or over
                             hub_outbox_bytes) is refused: C4J_EFULL, kept
                             nowhere.  Default 100000, 1 to 10000000 */
  size_t hub_outbox_bytes; /* the same in bytes; default 64 MiB, 65536 to
                             16 GiB */
  int hub_catchup_records; /* broadcasts Redis keeps per channel (its
                             stream, at least history_size of them) for a
                             node that was cut off to fetch; default
                             100000, 0 to 10000000 */
  size_t hub_catchup_bytes; /* live records a node holds while it fetches
                             what it missed (beyond: fetched again from
                             Redis); default 64 MiB, 65536 to 16 GiB */
  int deflate;            /* permessage-deflate (RFC 7692) on WebSocket
                             (docs/protocol.md, "Compression"): 1 (the
                             default) negotiates it with a client that
                             offers it, 0 never; Comet.Deflate */
} c4j_config_t;

/* Fills every field with its default. */
void c4j_config_init(c4j_config_t *cfg);

/* ---- Engine life cycle -------------------------------------------------- */
typedef struct c4j_engine_s c4j_engine_t;

/* Validates cfg and allocates an engine.  Nothing is bound and no thread
 * runs yet; with tls_cert and tls_key the PEM files are read and checked
 * here.  Returns 0 and sets *out, or C4J_EINVAL_CONFIG / C4J_ENOMEM;
 * on C4J_EINVAL_CONFIG, c4j_config_error() names the bad field and why
 * ("tls_key: cannot read /x: Permission denied"). */
int c4j_engine_new(const c4j_config_t *cfg, c4j_engine_t **out);
const char *c4j_config_error(void); /* thread-local text of the last error */

/* Reads the engine's tls_cert and tls_key again (a renewed certificate):
 * connections accepted from then on use them, those already open keep
 * theirs.  Returns 0, C4J_ESTATE when the engine has no TLS, or
 * C4J_EINVAL_CONFIG with the old certificate kept and c4j_config_error()
 * saying why (as for c4j_engine_new).  Any thread, any time before
 * c4j_engine_free. */
int c4j_tls_reload(c4j_engine_t *e);

/* Binds the listener (unless port is -1) and starts the worker threads.
 * Returns 0, or a negative code (e.g. UV_EADDRINUSE) with nothing left
 * running. */
int c4j_engine_start(c4j_engine_t *e);

/* The port actually bound (useful with port 0), or -1. */
int c4j_engine_port(const c4j_engine_t *e);

/* Closes the listener and every connection (close code 1001), joins the
 * worker threads and wakes c4j_engine_poll() for good.  Idempotent. */
int c4j_engine_stop(c4j_engine_t *e);

/* Frees a stopped (or never started) engine. */
void c4j_engine_free(c4j_engine_t *e);

/* ---- Sending ------------------------------------------------------------
 * `json` is the data as one JSON value (already serialized, UTF-8); the core
 * wraps it into the message frame (see docs/protocol.md), encodes it once and
 * shares the bytes among all recipients.  `time_ms` is the wall-clock stamp
 * put into the frame (0: now).  Lengths are in bytes; strings need no NUL.
 */
int c4j_send_all(c4j_engine_t *e, const char *channel, size_t channel_len,
                 const char *json, size_t json_len, int64_t time_ms);
int c4j_send_to(c4j_engine_t *e, const char *cid, size_t cid_len,
                const char *channel, size_t channel_len,
                const char *json, size_t json_len, int64_t time_ms);
/* Closes a connection with the given close code and reason. */
int c4j_drop(c4j_engine_t *e, const char *cid, size_t cid_len, int code,
             const char *reason);

/* ---- Commands (docs/protocol.md section 7) -------------------------------
 * Like sendTo, these reach a connection by its id on whichever worker holds
 * it (attached, between long-polls, or dying) and return 0 once queued,
 * whether or not the id is held: an unknown id is silently ignored.
 *
 * c4j_subscribe subscribes the connection to channel from now: no replay;
 * the broadcasts that follow have offsets above the channel's newest at
 * that moment.  With ack_id >= 0 it then queues to it
 *   {"t":"ack","id":ack_id,"pos":{"<channel>":["<epoch>",<offset>]}}
 * (pos {} when the engine keeps no history), or, when the connection
 * already has C4J_MAX_CHANNELS channels,
 *   {"t":"err","id":ack_id,"code":4290,"message":"too many subscriptions"}.
 * Subscribing twice changes nothing and still acks (with the position the
 * subscription stands at).  Run-time (un)subscriptions belong to the
 * identity: its next connection (a reconnect, the next long-poll, a
 * revival, on any worker) has the same channel set, not its ticket's.
 */
int c4j_subscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                  const char *channel, size_t channel_len, int64_t ack_id);
int c4j_unsubscribe(c4j_engine_t *e, const char *cid, size_t cid_len,
                    const char *channel, size_t channel_len);
/* Queues one whole frame, frame_json (a JSON object, e.g. a command's
 * answer), to one connection, framed for its transport like any frame and
 * kept while it is dying.  The core checks only that it starts with '{'
 * and ends with '}' (the embedder serializes it) and that it fits
 * max_queue. */
int c4j_send_frame(c4j_engine_t *e, const char *cid, size_t cid_len,
                   const char *frame_json, size_t len);
/* One whole frame (checked as for c4j_send_frame), e.g. a presence
 * join/leave, to every connection subscribed to channel, on every node
 * with a Redis hub.  Not a broadcast: no offset, no history (a page that
 * was away does not get it again). */
int c4j_send_channel_frame(c4j_engine_t *e, const char *channel,
                           size_t channel_len, const char *frame_json,
                           size_t len);
/* A message frame, as c4j_send_to builds it (no "e"/"o"), to every
 * connection whose ticket's "sub" is user, on every worker: attached,
 * between long-polls, or dying (kept, like sendTo frames).  Encoded once
 * and shared. */
int c4j_send_user(c4j_engine_t *e, const char *user, size_t user_len,
                  const char *channel, size_t channel_len,
                  const char *json, size_t json_len, int64_t time_ms);

/* Binary messages (docs/protocol.md section 11): c4j_send_all, c4j_send_to
 * and c4j_send_user with `data`, any len bytes (0 too; data may then be
 * NULL), instead of JSON.  A WebSocket page gets one binary frame: a u16
 * (big-endian) n, n bytes of the message frame's JSON head ({"t":"msg",
 * "ch":..,"time":.. and "e"/"o"/"u" as for JSON data), then the bytes; an
 * SSE or long-poll page gets the head with "b64":"<the bytes in base64>".
 * The history, resume and the hub keep and carry them like any message,
 * with the same offsets.  Besides the JSON sends' errors, C4J_ETOOBIG
 * when the base64 form would not fit max_queue, C4J_ENOMEM (the bytes
 * are copied once, with a tag, before they are framed). */
int c4j_send_all_binary(c4j_engine_t *e, const char *channel,
                        size_t channel_len, const void *data, size_t len,
                        int64_t time_ms);
int c4j_send_to_binary(c4j_engine_t *e, const char *cid, size_t cid_len,
                       const char *channel, size_t channel_len,
                       const void *data, size_t len, int64_t time_ms);
int c4j_send_user_binary(c4j_engine_t *e, const char *user, size_t user_len,
                         const char *channel, size_t channel_len,
                         const void *data, size_t len, int64_t time_ms);

/* ---- The hub (docs/protocol.md section 9) --------------------------------
 * With hub "local" everything above stays in this process.  With a Redis
 * hub, c4j_send_all goes through Redis (which assigns the offset and keeps
 * the history) to every node, this one included; c4j_send_to,
 * c4j_send_frame and c4j_drop reach an id held by any node; c4j_send_user
 * reaches the user's connections on every node.  While Redis is
 * unreachable (or slow), sends still reach this node's own connections at
 * once and wait in a bounded outbox for the others (hub_outbox_records,
 * hub_outbox_bytes); a send over the bounds fails with C4J_EFULL and
 * reaches no connection, not even here.  The node reconnects with backoff
 * and fetches what it missed; pages that lost broadcasts Redis no longer
 * had are told (docs/protocol.md section 9).  None of these calls blocks
 * on Redis.
 *
 * c4j_hub_action queues a request (a JSON object the embedder made: the
 * core does not read it) for exactly one node with listen_actions, which
 * gets it as C4J_EV_ACTION.  With hub "local" it goes to this engine's own
 * events (C4J_ESTATE when listen_actions is 0).  At most 65535 bytes.
 * Once it has run (answered), the node that got it calls
 * c4j_hub_action_done with the same bytes; a request whose node dies
 * before that goes back to the queue for another node (at least once).
 *
 * c4j_hub_set and c4j_hub_get keep cluster-wide facts (presence, online)
 * in named maps: set writes field = value (a JSON value; NULL value:
 * removes the field) in map key for this node, kept in Redis while the
 * node lives and written again after Redis restarts; get returns, into
 * out, the JSON object {field: value} merged over every live node, and
 * its length; it waits for Redis at most timeout_ms (then C4J_EHUB).
 * Both answer C4J_ESTATE with hub "local" (the embedder knows it all).
 *
 * c4j_hub_nodes returns, into out, the nodes of the cluster as Redis
 * holds them (<prefix>:nodes, each node's last heartbeat):
 * [{"id":..,"heartbeat":<wall ms>,"alive":<a heartbeat within 10 s>,
 * "self":<this node>}, ...] sorted by id, and its length; C4J_ESTATE with
 * hub "local", C4J_EHUB while the link is down or Redis does not answer
 * within timeout_ms, C4J_ETOOBIG when cap is too small. */
int c4j_hub_action(c4j_engine_t *e, const char *json, size_t len);
int c4j_hub_action_done(c4j_engine_t *e, const char *json, size_t len);
int c4j_hub_set(c4j_engine_t *e, const char *key, size_t key_len,
                const char *field, size_t field_len, const char *value,
                size_t value_len);
int c4j_hub_get(c4j_engine_t *e, const char *key, size_t key_len, char *out,
                size_t cap, int timeout_ms);
int c4j_hub_nodes(c4j_engine_t *e, char *out, size_t cap, int timeout_ms);

/* ---- Ids and tickets ------------------------------------------------------
 * A connection id is 22 characters of URL-safe base64 (128 random bits).
 * A ticket is an HS256 JWT signed with the engine's secret whose payload is
 * {"cid": id, "sub": user (optional), "exp": seconds, "ch": [channels]}.
 */
int c4j_new_id(char out[23]);
/* Signs claims_json (a JSON object) into a JWT written to out (NUL ended).
 * Returns the length, or C4J_EBADJSON / C4J_ETOOBIG. */
int c4j_ticket_sign(const c4j_engine_t *e, const char *claims_json,
                    size_t claims_len, char *out, size_t out_cap);

/* ---- Events to the embedder ----------------------------------------------
 * Workers append records to a bounded queue; c4j_engine_poll() copies whole
 * records into buf.  Each record, all integers little-endian:
 *   u32 size (of the whole record, header included), u8 type, u8[3] zero,
 *   then fields by type, each string a u16 length and that many bytes:
 *     C4J_EV_CONNECT: cid, user, ip, transport; u16 remote port
 *     C4J_EV_DROP:    cid; u16 close code; reason
 *     C4J_EV_MESSAGE: cid; text (a client text message the core did not
 *                     handle itself)
 *     C4J_EV_BINARY:  cid; u32 length; that many bytes (a client binary
 *                     message, whole and as it came: docs/protocol.md
 *                     section 11 says what a page puts in it)
 *     C4J_EV_LOG:     u8 level (0 error, 1 warn, 2 info, 3 debug); text
 *     C4J_EV_DYING:   cid; u16 close code; reason (transport lost; the
 *                     identity is kept for conn_expires_ms)
 *     C4J_EV_REVIVAL: cid, user, ip, transport; u16 remote port
 *     C4J_EV_API:     u32 request id; method ("GET" or "POST"); path
 *                     (e.g. "/api/publish"); query (after '?', raw, may
 *                     be empty); body (raw bytes, may be empty).  The
 *                     request passed the API key; the core holds it until
 *                     c4j_api_reply(id) or api_timeout_ms (then 504).
 *     C4J_EV_ACTION:  text (a request from c4j_hub_action, on this node
 *                     or another)
 *     C4J_EV_SUB:     cid; channel; u8 subscribed (1) or unsubscribed
 *                     (0); u16 code: 0 when done, else why it was
 *                     refused (4290 too many subscriptions, 5030 out of
 *                     memory).  The core's decision on a subscription
 *                     of this node's identity: after CONNECT for each of
 *                     its channels, for each run-time change (or refusal)
 *                     of its set, and before DROP for each channel it
 *                     had (unsubscribed).  Nothing when a subscription
 *                     changes nothing (subscribed twice).
 */
enum {
  C4J_EV_CONNECT = 1,
  C4J_EV_DROP = 2,
  C4J_EV_MESSAGE = 3,
  C4J_EV_LOG = 4,
  C4J_EV_DYING = 5,
  C4J_EV_REVIVAL = 6,
  C4J_EV_API = 7,
  C4J_EV_ACTION = 8,
  C4J_EV_SUB = 9,
  C4J_EV_BINARY = 10
};

/* Answers the HTTP API request `id` (from C4J_EV_API) with status and a
 * JSON body (application/json, Content-Length, Cache-Control: no-store;
 * Connection: close unless the request keeps its socket for the next
 * one: docs/protocol.md section 2, "Keep-alive").  Returns 0 once queued
 * to the worker holding the request; an id no longer held (answered,
 * timed out, client gone) is ignored.  status must be 100..599 (else UV_EINVAL). */
int c4j_api_reply(c4j_engine_t *e, uint32_t id, int status, const char *json,
                  size_t len);

/* Waits up to timeout_ms for events and copies as many whole records as fit.
 * Returns the bytes written (0 on timeout), or C4J_ESTOPPED once the engine
 * has stopped and every event has been read. */
int c4j_engine_poll(c4j_engine_t *e, uint8_t *buf, size_t cap,
                    int timeout_ms);

/* ---- Who is here ------------------------------------------------------------
 * The core is the one model of membership: it registers every identity it
 * holds (attached, between long-polls or dying) with its user and its
 * channels, as its workers decide them (C4J_EV_SUB says so), and an
 * embedder asks it rather than keep an index of its own.  Each answer is
 * a JSON text written into out (NUL ended); the call returns its length,
 * or C4J_ETOOBIG when it does not fit in cap bytes (ask again with more
 * room), C4J_EBADNAME, C4J_ENOCONN (c4j_identity), C4J_ENOMEM.
 *
 * With a Redis hub and cluster 1, the answers are the cluster's, read from
 * the hub's maps that every node's core writes for its own identities
 * ("online": cId -> user, "conn:<cId>": u -> user, and for a presence
 * channel, see c4j_channel_presence, "presence:<channel>": cId -> user),
 * waiting at most timeout_ms; when Redis does not answer in time, the
 * answer is this node's own (and a warning is logged, once until Redis
 * answers again).  The members of a channel are this node's and, with
 * cluster 1, those the presence map lists (every node's members of a
 * channel some node marks presence).
 * Users are JSON strings, or null for an anonymous identity.
 */
/* {"channel":ch,"count":n,"members":[{"cId":id,"user":u},...]}, sorted by
 * cId: the identities subscribed to channel (the cluster's presence map
 * with cluster 1). */
int c4j_members(c4j_engine_t *e, const char *channel, size_t channel_len,
                int cluster, char *out, size_t cap, int timeout_ms);
/* How many identities are subscribed to channel (as c4j_members), or a
 * negative code. */
int c4j_member_count(c4j_engine_t *e, const char *channel,
                     size_t channel_len, int cluster, int timeout_ms);
/* user NULL: {"users":distinct users,"connections":identities}; else
 * {"user":user,"online":true|false,"connections":its identities}: this
 * node's, or the cluster's when cluster is 1 and the hub is Redis. */
int c4j_online(c4j_engine_t *e, const char *user, size_t user_len,
               int cluster, char *out, size_t cap, int timeout_ms);
/* This node's identity cid: {"cId":id,"user":u,"channels":[...]}. */
int c4j_identity(c4j_engine_t *e, const char *cid, size_t cid_len, char *out,
                 size_t cap);
/* The ids of user's identities on this node: ["id",...]. */
int c4j_user_identities(c4j_engine_t *e, const char *user, size_t user_len,
                        char *out, size_t cap);
/* Marks channel a presence channel (on 1) or not (0): from then on, when
 * an identity joins or leaves it, its members get
 *   {"t":"join"|"leave","ch":channel,"cId":id,"user":u}
 * (on every node, through the hub) and, with a Redis hub, the core keeps
 * this node's members in the map "presence:<channel>".  Returns 0,
 * C4J_EBADNAME or C4J_ENOMEM. */
int c4j_channel_presence(c4j_engine_t *e, const char *channel,
                         size_t channel_len, int on);

/* ---- Sockets handed over (docs/protocol.md section 10) -------------------
 * A server of the same process (Tomcat) that accepted a connection the
 * core should hold hands it over, so that pages need no second port:
 *
 * c4j_takeover_peer_ok: whether fd is the request's socket: a stream
 * socket whose peer is peer_ip (IPv4 or IPv6, any spelling; IPv4-mapped
 * IPv6 counts as IPv4) and peer_port, and whose local port is local_port.
 *
 * c4j_takeover_detach takes connected socket fd from its server without
 * closing it: removes it from that server's epoll set epfd (unless -1),
 * duplicates it into *newfd, and puts under the number fd a non-blocking
 * dummy (one end of a socketpair, its write side shut), whose other end
 * comes back in *sink: the server goes on reading (EOF), writing and
 * closing fd, harmlessly.  Returns 0, or -errno with nothing changed.
 *
 * c4j_adopt gives the core connected socket fd with the bytes its client
 * sent that the other server already read: the request line and headers
 * (rebuilt by the embedder from what its server parsed) and what came
 * after them.  From then on the core owns fd exactly like a socket
 * accepted on its own port (routing, tickets, limits: 503 over
 * max_conns) and closes it, also when the call fails; sink (or -1) is
 * read and dropped until EOF, then closed.  Returns 0 once queued,
 * C4J_ESTATE / C4J_ESTOPPED, C4J_ETOOBIG (more than max_header +
 * max_message bytes), C4J_ENOMEM. */
int c4j_takeover_peer_ok(int fd, const char *peer_ip, int peer_port,
                         int local_port);
int c4j_takeover_detach(int fd, int epfd, int *newfd, int *sink);
int c4j_adopt(c4j_engine_t *e, int fd, int sink, const char *bytes,
              size_t len);

/* ---- Statistics ---------------------------------------------------------- */
/* The labels of the arrays of c4j_stats_t (docs/metrics.md). */
enum {
  C4J_STATS_TRANSPORT, /* "ws", "sse", "poll" */
  C4J_STATS_STATE,     /* "attached", "parked", "dying" */
  C4J_STATS_STATUS,    /* "400", "401", ... "other" */
  C4J_STATS_CLOSE,     /* "1000", "1001", ... "other" */
  C4J_STATS_BUCKET     /* "0.0001" ... "+Inf": seconds */
};
#define C4J_STATS_NTRANSPORTS 3
#define C4J_STATS_NSTATES 3
#define C4J_STATS_NSTATUSES 16
#define C4J_STATS_NCLOSES 15
#define C4J_STATS_NBUCKETS 16
/* Slot i's label of the array kind (above); NULL past its end. */
const char *c4j_stats_label(int kind, int i);

typedef struct c4j_stats_s c4j_stats_t;
struct c4j_stats_s {
  uint64_t conns;            /* connections open now (attached) */
  uint64_t accepted;         /* sockets accepted since start */
  uint64_t messages_out;     /* frames queued to connections */
  uint64_t bytes_out;
  uint64_t slow_consumers;   /* closed with C4J_CLOSE_SLOW_CONSUMER */
  uint64_t events_dropped;   /* event queue overflows */
  uint64_t hub_up;           /* 1 while the Redis hub is linked */
  uint64_t hub_outbox;       /* hub records Redis does not have yet (or
                                has not confirmed) */
  uint64_t hub_refused;      /* sends refused (C4J_EFULL): the outbox was
                                over hub_outbox_records or _bytes */
  uint64_t hub_lost;         /* broadcasts this node's pages never got:
                                gone from Redis before this node fetched
                                them; its pages were told how many */
  uint64_t hub_gaps;         /* how often that happened (one notice to the
                                channel's pages each time) */
  uint64_t hub_duplicates;   /* copies of broadcasts delivered here already
                                (sent again after a lost link), skipped */
  /* Unfinished requests (docs/protocol.md section 2): how many there are
   * now, and what was refused, by reason, since start. */
  uint64_t pending;          /* sockets whose request has not fully arrived */
  uint64_t refused_full;     /* 503: full, and no unfinished request could
                                make room */
  uint64_t refused_address;  /* 429: the address had max_pending_per_addr
                                unfinished requests */
  uint64_t evicted;          /* 503: the oldest unfinished request, closed
                                to make room for a new socket */
  uint64_t timeouts;         /* 408: not arrived within handshake_timeout_ms */
  uint64_t timeouts_short;   /* 408: not arrived within the deadline
                                shortened under pressure */
  /* Since start, but for the gauges marked "now".  A labelled figure is an
   * array: slot i's label is c4j_stats_label(C4J_STATS_..., i). */
  uint64_t by_transport[C4J_STATS_NTRANSPORTS]; /* attached now, by
                                transport: ws, sse, poll */
  uint64_t by_state[C4J_STATS_NSTATES]; /* identities held now: attached,
                                parked (a long-poll between two polls),
                                dying */
  uint64_t refused[C4J_STATS_NSTATUSES]; /* HTTP requests answered with a
                                status >= 400, by status (the last slot:
                                any other) */
  uint64_t closed[C4J_STATS_NCLOSES]; /* identities ended (DROP), by close
                                code (the last slot: any other) */
  uint64_t messages_in, bytes_in; /* client messages and their bytes
                                (WebSocket texts and binaries, POST /cmd
                                frames) */
  uint64_t broadcasts;       /* c4j_send_all calls taken */
  uint64_t sends_to;         /* c4j_send_to calls taken */
  uint64_t sends_user;       /* c4j_send_user calls taken */
  uint64_t resumes[2];       /* attaches that asked to resume: [0] some
                                broadcast was no longer kept (recovered
                                false), [1] every one was replayed */
  uint64_t events_queued;    /* bytes in the event queue now */
  uint64_t events_queue_cap; /* its bound (event_queue) */
  uint64_t out_queued;       /* bytes queued to connections, sampled by each
                                worker once a tick */
  /* Broadcast fan-out: from its push to the workers (the call, or its
   * record's arrival from the hub) to its frame written to (or queued
   * for) every subscriber here, on the last worker to finish, one
   * observation per broadcast delivered. */
  uint64_t fanout_le[C4J_STATS_NBUCKETS]; /* counts <= each bound (not
                                cumulative: Prometheus sums them) */
  uint64_t fanout_count, fanout_sum_ns;
  /* permessage-deflate (docs/protocol.md section 14): frames compressed,
   * each once whatever its receivers (and once for each receiver that
   * asked for a smaller window), and their payloads' bytes before and
   * after. */
  uint64_t deflated, deflate_bytes_in, deflate_bytes_out;
};
void c4j_engine_stats(const c4j_engine_t *e, c4j_stats_t *out);

/* The figures of c4j_engine_stats in Prometheus's text format 0.0.4
 * (docs/metrics.md), with `extra` (the embedder's own lines, or NULL)
 * after them: a new NUL-ended string in *out (free() it) and its length in
 * *len.  Returns 0 or C4J_ENOMEM. */
int c4j_metrics_text(const c4j_engine_t *e, const char *extra, char **out,
                     size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* C4J_H */
