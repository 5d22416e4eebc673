/* jni.c - the JNI bridge for org.comet4j.core.Native, and nothing else: the
 * only file that includes jni.h.  Natives are registered in JNI_OnLoad, so
 * no generated headers are needed.  Handles are engine pointers in a jlong;
 * bad handles and arguments return negative codes, never crash the JVM.
 * Nothing here calls into Java from a libuv thread: only the caller's
 * thread ever touches the JNIEnv.
 */
#include <jni.h>
#include <stdlib.h>
#include <string.h>

#include "c4j.h"

#define NATIVE_CLASS "org/comet4j/core/Native"
#define C4J_EINVAL_ARG (-22) /* UV_EINVAL */

/* User-space pointers are positive and engines are 8-byte aligned: zero,
 * negative codes passed by mistake and odd values are refused here; the
 * engine's magic number catches most stale handles after that. */
static c4j_engine_t *handle(jlong h) {
  return h <= 0 || (h & 7) != 0 ? NULL : (c4j_engine_t *)(intptr_t)h;
}

/* Copies a Java string's modified UTF-8 into a malloc'd C string; NULL for
 * a null string or when out of memory (*oom set). */
static char *dup_string(JNIEnv *env, jstring s, int *oom) {
  const char *p;
  char *d;
  *oom = 0;
  if (s == NULL) return NULL;
  p = (*env)->GetStringUTFChars(env, s, NULL);
  if (p == NULL) {
    *oom = 1;
    return NULL;
  }
  d = strdup(p);
  (*env)->ReleaseStringUTFChars(env, s, p);
  if (d == NULL) *oom = 1;
  return d;
}

/* Copies a byte[] into a malloc'd buffer (one NUL added); NULL for null. */
static char *dup_bytes(JNIEnv *env, jbyteArray a, size_t *len, int *oom) {
  jsize n;
  char *d;
  *oom = 0;
  *len = 0;
  if (a == NULL) return NULL;
  n = (*env)->GetArrayLength(env, a);
  d = malloc((size_t)n + 1);
  if (d == NULL) {
    *oom = 1;
    return NULL;
  }
  (*env)->GetByteArrayRegion(env, a, 0, n, (jbyte *)d);
  d[n] = '\0';
  *len = (size_t)n;
  return d;
}

static jlong n_engine_new(JNIEnv *env, jclass cls, jstring host, jint port,
                          jint threads, jbyteArray secret, jint heartbeat_ms,
                          jint idle_timeout_ms, jint hold_ms,
                          jint max_header,
                          jint max_frame, jint max_message, jint max_queue,
                          jint max_conns, jstring allowed_origins,
                          jint conn_expires_ms, jint history_size,
                          jint history_age_ms, jstring api_key,
                          jstring hub, jstring hub_prefix,
                          jint listen_actions, jint handshake_timeout_ms,
                          jint max_pending_per_addr, jstring tls_cert,
                          jstring tls_key, jstring metrics,
                          jint hub_outbox_records, jint hub_outbox_bytes,
                          jint hub_catchup_records, jint hub_catchup_bytes,
                          jint deflate) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  char *h, *o, *s, *k, *hb, *hp, *tc, *tk, *mt;
  size_t slen;
  int oom1, oom2, oom3, oom4, oom5, oom6, oom7, oom8, oom9, rc;

  c4j_config_init(&cfg);
  h = dup_string(env, host, &oom1);
  o = dup_string(env, allowed_origins, &oom2);
  s = dup_bytes(env, secret, &slen, &oom3);
  k = dup_string(env, api_key, &oom4);
  hb = dup_string(env, hub, &oom5);
  hp = dup_string(env, hub_prefix, &oom6);
  tc = dup_string(env, tls_cert, &oom7);
  tk = dup_string(env, tls_key, &oom8);
  mt = dup_string(env, metrics, &oom9);
  if (oom1 || oom2 || oom3 || oom4 || oom5 || oom6 || oom7 || oom8 || oom9) {
    rc = C4J_ENOMEM;
    goto done;
  }
  /* Zero (or a null string) keeps the default; the port is taken as is
   * (0 picks a free port, -1 means no listener). */
  if (h != NULL && h[0] != '\0') cfg.host = h;
  cfg.port = port;
  if (threads != 0) cfg.threads = threads;
  cfg.secret = (const uint8_t *)s;
  cfg.secret_len = slen;
  if (heartbeat_ms != 0) cfg.heartbeat_ms = heartbeat_ms;
  if (idle_timeout_ms != 0) cfg.idle_timeout_ms = idle_timeout_ms;
  cfg.hold_ms = hold_ms; /* 0 is the core's default: taken as it is */
  /* Negative sizes become huge and are refused by the check. */
  if (max_header != 0) cfg.max_header = (size_t)(int64_t)max_header;
  if (max_frame != 0) cfg.max_frame = (size_t)(int64_t)max_frame;
  if (max_message != 0) cfg.max_message = (size_t)(int64_t)max_message;
  if (max_queue != 0) cfg.max_queue = (size_t)(int64_t)max_queue;
  if (max_conns != 0) cfg.max_conns = max_conns;
  if (o != NULL && o[0] != '\0') cfg.allowed_origins = o;
  /* These three are taken as they are: 0 is a meaningful value. */
  cfg.conn_expires_ms = conn_expires_ms;
  cfg.history_size = history_size;
  cfg.history_age_ms = history_age_ms;
  cfg.api_key = k; /* NULL or "": the HTTP API is off */
  if (hb != NULL && hb[0] != '\0') cfg.hub = hb;
  if (hp != NULL && hp[0] != '\0') cfg.hub_prefix = hp;
  cfg.listen_actions = listen_actions;
  if (handshake_timeout_ms != 0) cfg.handshake_timeout_ms = handshake_timeout_ms;
  cfg.max_pending_per_addr = max_pending_per_addr; /* 0: no cap */
  cfg.tls_cert = tc; /* NULL (or ""): no TLS */
  cfg.tls_key = tk;
  cfg.metrics = mt; /* NULL: off */
  /* The hub's bounds as CometConfig has them (its defaults are the
   * core's); a negative one becomes huge or stays negative: refused. */
  cfg.hub_outbox_records = hub_outbox_records;
  cfg.hub_outbox_bytes = (size_t)(int64_t)hub_outbox_bytes;
  cfg.hub_catchup_records = hub_catchup_records;
  cfg.hub_catchup_bytes = (size_t)(int64_t)hub_catchup_bytes;
  cfg.deflate = deflate; /* CometConfig's Comet.Deflate: 1 on, 0 off */
  rc = c4j_engine_new(&cfg, &e); /* copies every string it keeps */
done:
  free(mt);
  free(hb);
  free(hp);
  free(tc);
  free(tk);
  free(h);
  free(o);
  if (k != NULL) memset(k, 0, strlen(k));
  free(k);
  if (s != NULL) memset(s, 0, slen);
  free(s);
  if (rc != 0) return rc;
  return (jlong)(intptr_t)e;
}

static jstring n_config_error(JNIEnv *env, jclass cls) {
  return (*env)->NewStringUTF(env, c4j_config_error());
}

static jint n_engine_start(JNIEnv *env, jclass cls, jlong h) {
  c4j_engine_t *e = handle(h);
  return e ? c4j_engine_start(e) : C4J_ESTATE;
}

static jint n_engine_port(JNIEnv *env, jclass cls, jlong h) {
  c4j_engine_t *e = handle(h);
  return e ? c4j_engine_port(e) : -1;
}

static jint n_engine_stop(JNIEnv *env, jclass cls, jlong h) {
  c4j_engine_t *e = handle(h);
  return e ? c4j_engine_stop(e) : C4J_ESTATE;
}

static void n_engine_free(JNIEnv *env, jclass cls, jlong h) {
  c4j_engine_t *e = handle(h);
  if (e != NULL) c4j_engine_free(e);
}

/* Copies a name (channel, id, user) of 1..max bytes out of a Java array
 * into out; C4J_EBADNAME for a null, empty or longer one. */
static int copy_name(JNIEnv *env, jbyteArray a, char *out, jsize max,
                     jsize *len) {
  if (a == NULL) return C4J_EBADNAME;
  *len = (*env)->GetArrayLength(env, a);
  if (*len <= 0 || *len > max) return C4J_EBADNAME;
  (*env)->GetByteArrayRegion(env, a, 0, *len, (jbyte *)out);
  return 0;
}

/* The six sends (Native.send): one array from a SendBuffer holding the
 * data, the channel and who it goes to (an id, a user or nobody), back to
 * back.  What fits in SMALL is copied onto the stack (one JNI call); a
 * larger one stays pinned only for the copy into the frame (no blocking
 * happens inside).  Empty binary data is a message; empty JSON is not. */
enum { TO_ALL = 0, TO_CID = 1, TO_USER = 2, BINARY = 4 };
#define SMALL 4096

static jint send_to_core(c4j_engine_t *e, int to, int binary, const char *w,
                         jsize wn, const char *ch, jsize chn, const char *d,
                         jsize dn, jlong time_ms) {
  if (binary && to == TO_ALL)
    return c4j_send_all_binary(e, ch, (size_t)chn, d, (size_t)dn, time_ms);
  if (binary && to == TO_CID)
    return c4j_send_to_binary(e, w, (size_t)wn, ch, (size_t)chn, d,
                              (size_t)dn, time_ms);
  if (binary)
    return c4j_send_user_binary(e, w, (size_t)wn, ch, (size_t)chn, d,
                                (size_t)dn, time_ms);
  if (to == TO_ALL)
    return c4j_send_all(e, ch, (size_t)chn, d, (size_t)dn, time_ms);
  if (to == TO_CID)
    return c4j_send_to(e, w, (size_t)wn, ch, (size_t)chn, d, (size_t)dn,
                       time_ms);
  return c4j_send_user(e, w, (size_t)wn, ch, (size_t)chn, d, (size_t)dn,
                       time_ms);
}

static jint n_send(JNIEnv *env, jclass cls, jlong h, jint kind,
                   jbyteArray buf, jint dn, jint chn, jint wn,
                   jlong time_ms) {
  c4j_engine_t *e = handle(h);
  int to = kind & 3, binary = (kind & BINARY) != 0;
  jsize max = to == TO_CID ? C4J_MAX_ID : C4J_MAX_USER;
  int64_t total = (int64_t)dn + chn + wn;
  char small[SMALL];
  jbyte *p;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if (buf == NULL || kind < 0 || kind > (TO_USER | BINARY) || to > TO_USER ||
      dn < 0 || chn < 0 || wn < 0 ||
      total > (*env)->GetArrayLength(env, buf))
    return C4J_EINVAL_ARG;
  if (to == TO_ALL ? wn != 0 : wn == 0 || wn > max) return C4J_EBADNAME;
  if (chn == 0 || chn > C4J_MAX_CHANNEL) return C4J_EBADNAME;
  if (dn == 0 && !binary) return C4J_EBADJSON;
  if (total <= SMALL) {
    (*env)->GetByteArrayRegion(env, buf, 0, (jsize)total, (jbyte *)small);
    return send_to_core(e, to, binary, small + dn + chn, wn, small + dn, chn,
                        small, dn, time_ms);
  }
  p = (*env)->GetPrimitiveArrayCritical(env, buf, NULL);
  if (p == NULL) return C4J_ENOMEM;
  rc = send_to_core(e, to, binary, (const char *)p + dn + chn, wn,
                    (const char *)p + dn, chn, (const char *)p, dn, time_ms);
  (*env)->ReleasePrimitiveArrayCritical(env, buf, p, JNI_ABORT);
  return rc;
}

static jint n_drop(JNIEnv *env, jclass cls, jlong h, jbyteArray cid,
                   jint code, jstring reason) {
  c4j_engine_t *e = handle(h);
  char id[C4J_MAX_ID + 1];
  char *r;
  jsize idn;
  int oom;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if (cid == NULL) return C4J_EBADNAME;
  idn = (*env)->GetArrayLength(env, cid);
  if (idn <= 0 || idn > C4J_MAX_ID) return C4J_EBADNAME;
  (*env)->GetByteArrayRegion(env, cid, 0, idn, (jbyte *)id);
  r = dup_string(env, reason, &oom);
  if (oom) return C4J_ENOMEM;
  rc = c4j_drop(e, id, (size_t)idn, code, r ? r : "");
  free(r);
  return rc;
}

/* Copies cid and channel (either may be absent: NULL) into id and ch;
 * returns their lengths through idn and chn, or C4J_EBADNAME. */
static int cid_and_channel(JNIEnv *env, jbyteArray cid, jbyteArray channel,
                           char *id, jsize *idn, char *ch, jsize *chn) {
  int rc = copy_name(env, cid, id, C4J_MAX_ID, idn);
  if (rc != 0 || ch == NULL) return rc;
  return copy_name(env, channel, ch, C4J_MAX_CHANNEL, chn);
}

static jint n_subscribe(JNIEnv *env, jclass cls, jlong h, jbyteArray cid,
                        jbyteArray channel, jlong ack_id) {
  c4j_engine_t *e = handle(h);
  char ch[C4J_MAX_CHANNEL + 1], id[C4J_MAX_ID + 1];
  jsize chn = 0, idn = 0;
  int rc;
  if (e == NULL) return C4J_ESTATE;
  rc = cid_and_channel(env, cid, channel, id, &idn, ch, &chn);
  if (rc != 0) return rc;
  return c4j_subscribe(e, id, (size_t)idn, ch, (size_t)chn, ack_id);
}

static jint n_unsubscribe(JNIEnv *env, jclass cls, jlong h, jbyteArray cid,
                          jbyteArray channel) {
  c4j_engine_t *e = handle(h);
  char ch[C4J_MAX_CHANNEL + 1], id[C4J_MAX_ID + 1];
  jsize chn = 0, idn = 0;
  int rc;
  if (e == NULL) return C4J_ESTATE;
  rc = cid_and_channel(env, cid, channel, id, &idn, ch, &chn);
  if (rc != 0) return rc;
  return c4j_unsubscribe(e, id, (size_t)idn, ch, (size_t)chn);
}

static jint n_send_frame(JNIEnv *env, jclass cls, jlong h, jbyteArray cid,
                         jbyteArray frame) {
  c4j_engine_t *e = handle(h);
  char id[C4J_MAX_ID + 1];
  jsize idn = 0, fn;
  jbyte *f;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  rc = cid_and_channel(env, cid, NULL, id, &idn, NULL, NULL);
  if (rc != 0) return rc;
  if (frame == NULL || (fn = (*env)->GetArrayLength(env, frame)) <= 0)
    return C4J_EBADJSON;
  f = (*env)->GetPrimitiveArrayCritical(env, frame, NULL);
  if (f == NULL) return C4J_ENOMEM;
  rc = c4j_send_frame(e, id, (size_t)idn, (const char *)f, (size_t)fn);
  (*env)->ReleasePrimitiveArrayCritical(env, frame, f, JNI_ABORT);
  return rc;
}

static jstring n_new_id(JNIEnv *env, jclass cls) {
  char id[23];
  if (c4j_new_id(id) != 0) return NULL;
  return (*env)->NewStringUTF(env, id);
}

static jstring n_ticket(JNIEnv *env, jclass cls, jlong h, jbyteArray claims) {
  c4j_engine_t *e = handle(h);
  char *c, out[16384];
  size_t n;
  int oom, rc;
  if (e == NULL || claims == NULL) return NULL;
  c = dup_bytes(env, claims, &n, &oom);
  if (c == NULL) return NULL;
  rc = c4j_ticket_sign(e, c, n, out, sizeof(out));
  free(c);
  if (rc < 0) return NULL;
  return (*env)->NewStringUTF(env, out);
}

/* Blocks in c4j_engine_poll with no JNI critical section held: a direct
 * buffer's address stays valid without pinning. */
static jint n_poll(JNIEnv *env, jclass cls, jlong h, jobject buf,
                   jint timeout_ms) {
  c4j_engine_t *e = handle(h);
  uint8_t *p;
  jlong cap;
  if (e == NULL) return C4J_ESTATE;
  if (buf == NULL) return C4J_EINVAL_ARG;
  p = (*env)->GetDirectBufferAddress(env, buf);
  cap = (*env)->GetDirectBufferCapacity(env, buf);
  if (p == NULL || cap <= 0) return C4J_EINVAL_ARG;
  return c4j_engine_poll(e, p, (size_t)cap, timeout_ms);
}

static void n_stats(JNIEnv *env, jclass cls, jlong h, jlongArray out) {
  c4j_engine_t *e = handle(h);
  c4j_stats_t s;
  jlong v[33];
  jsize n;
  if (e == NULL || out == NULL) return;
  c4j_engine_stats(e, &s);
  v[0] = (jlong)s.conns;
  v[1] = (jlong)s.accepted;
  v[2] = (jlong)s.messages_out;
  v[3] = (jlong)s.bytes_out;
  v[4] = (jlong)s.slow_consumers;
  v[5] = (jlong)s.events_dropped;
  v[6] = (jlong)s.hub_up;
  v[7] = (jlong)s.hub_outbox;
  v[8] = (jlong)s.hub_refused;
  v[9] = (jlong)s.pending;
  v[10] = (jlong)s.refused_full;
  v[11] = (jlong)s.refused_address;
  v[12] = (jlong)s.evicted;
  v[13] = (jlong)s.timeouts;
  v[14] = (jlong)s.timeouts_short;
  v[15] = (jlong)s.messages_in;
  v[16] = (jlong)s.bytes_in;
  v[17] = (jlong)s.broadcasts;
  v[18] = (jlong)s.sends_to;
  v[19] = (jlong)s.sends_user;
  v[20] = (jlong)s.resumes[1];
  v[21] = (jlong)s.resumes[0];
  v[22] = (jlong)s.events_queued;
  v[23] = (jlong)s.out_queued;
  v[24] = (jlong)s.fanout_count;
  v[25] = (jlong)s.hub_lost;
  v[26] = (jlong)s.hub_gaps;
  v[27] = (jlong)s.hub_duplicates;
  v[28] = (jlong)s.fanout_sum_ns;
  v[29] = 0;
  for (int i = 0; i < C4J_STATS_NSTATUSES; i++) v[29] += (jlong)s.refused[i];
  v[30] = (jlong)s.deflated;
  v[31] = (jlong)s.deflate_bytes_in;
  v[32] = (jlong)s.deflate_bytes_out;
  n = (*env)->GetArrayLength(env, out);
  (*env)->SetLongArrayRegion(env, out, 0, n < 33 ? n : 33, v);
}

/* The Prometheus text (c4j_metrics_text) with extra appended, as UTF-8
 * bytes; NULL when out of memory or not a live engine. */
static jbyteArray n_metrics_text(JNIEnv *env, jclass cls, jlong h,
                                 jbyteArray extra) {
  c4j_engine_t *e = handle(h);
  char *x, *text = NULL;
  size_t n = 0, xn;
  int oom;
  jbyteArray out = NULL;
  if (e == NULL) return NULL;
  x = dup_bytes(env, extra, &xn, &oom);
  if (oom) return NULL;
  if (c4j_metrics_text(e, x, &text, &n) == 0 && n <= 0x7fffffff) {
    out = (*env)->NewByteArray(env, (jsize)n);
    if (out != NULL)
      (*env)->SetByteArrayRegion(env, out, 0, (jsize)n, (const jbyte *)text);
  }
  free(text);
  free(x);
  return out;
}

static jint n_api_reply(JNIEnv *env, jclass cls, jlong h, jlong id,
                        jint status, jbyteArray json) {
  c4j_engine_t *e = handle(h);
  size_t n;
  int oom;
  char *j;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if (id < 0 || id > 0xffffffffLL) return C4J_EINVAL_ARG;
  j = dup_bytes(env, json, &n, &oom);
  if (oom) return C4J_ENOMEM;
  rc = c4j_api_reply(e, (uint32_t)id, status, j, n);
  free(j);
  return rc;
}

static jint n_send_channel_frame(JNIEnv *env, jclass cls, jlong h,
                                 jbyteArray channel, jbyteArray frame) {
  c4j_engine_t *e = handle(h);
  size_t cn, fn;
  int oom1, oom2;
  char *c, *f;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if (channel == NULL) return C4J_EBADNAME;
  if (frame == NULL) return C4J_EBADJSON;
  c = dup_bytes(env, channel, &cn, &oom1);
  f = dup_bytes(env, frame, &fn, &oom2);
  rc = oom1 || oom2 ? C4J_ENOMEM : c4j_send_channel_frame(e, c, cn, f, fn);
  free(c);
  free(f);
  return rc;
}

/* fn(e, the bytes of json): the calls that take one JSON text. */
static jint call_json(JNIEnv *env, jlong h, jbyteArray json,
                      int (*fn)(c4j_engine_t *, const char *, size_t)) {
  c4j_engine_t *e = handle(h);
  size_t n;
  int oom;
  char *j;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if (json == NULL) return C4J_EBADJSON;
  if ((j = dup_bytes(env, json, &n, &oom)) == NULL) return C4J_ENOMEM;
  rc = fn(e, j, n);
  free(j);
  return rc;
}

static jint n_hub_action(JNIEnv *env, jclass cls, jlong h,
                         jbyteArray json) {
  return call_json(env, h, json, c4j_hub_action);
}

static jint n_hub_action_done(JNIEnv *env, jclass cls, jlong h,
                              jbyteArray json) {
  return call_json(env, h, json, c4j_hub_action_done);
}

/* value null removes the field. */
static jint n_hub_set(JNIEnv *env, jclass cls, jlong h, jbyteArray key,
                      jbyteArray field, jbyteArray value) {
  c4j_engine_t *e = handle(h);
  size_t kn, fn, vn = 0;
  int oom1, oom2, oom3 = 0;
  char *k, *f, *v = NULL;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if (key == NULL || field == NULL) return C4J_EBADNAME;
  k = dup_bytes(env, key, &kn, &oom1);
  f = dup_bytes(env, field, &fn, &oom2);
  if (value != NULL) v = dup_bytes(env, value, &vn, &oom3);
  rc = oom1 || oom2 || oom3 ? C4J_ENOMEM
                            : c4j_hub_set(e, k, kn, f, fn, v, vn);
  free(k);
  free(f);
  free(v);
  return rc;
}

/* ---- Answers: the core's JSON texts --------------------------------------
 * One question of the core (the cluster's map, the members of a channel,
 * who is online, an identity, a user's identities), asked into a buffer
 * that grows (four times bigger, up to 256 MiB) while the answer does not
 * fit (C4J_ETOOBIG).  The answer crosses as a new byte[] (UTF-8 JSON), or
 * null with rc[0] set to the negative code; rc[0] is 0 on success. */
typedef struct {
  const char *name; /* the key, channel, user or id; NULL: every user */
  size_t len;
  int cluster;
  int timeout_ms;
} question_t;

typedef int (*ask_fn)(c4j_engine_t *e, const question_t *q, char *out,
                      size_t cap);

static jbyteArray answer(JNIEnv *env, c4j_engine_t *e, ask_fn ask,
                         const question_t *q, size_t cap, jint rc,
                         jintArray rc_out) {
  char *out = NULL;
  jbyteArray arr = NULL;
  if (rc == 0) {
    do {
      free(out);
      out = malloc(cap);
      rc = out == NULL ? C4J_ENOMEM : ask(e, q, out, cap);
    } while (rc == C4J_ETOOBIG && (cap *= 4) <= (256u << 20));
  }
  if (rc >= 0 && (arr = (*env)->NewByteArray(env, rc)) != NULL)
    (*env)->SetByteArrayRegion(env, arr, 0, rc, (const jbyte *)out);
  free(out);
  if (rc_out != NULL && (*env)->GetArrayLength(env, rc_out) > 0) {
    jint code = rc < 0 ? rc : 0;
    (*env)->SetIntArrayRegion(env, rc_out, 0, 1, &code);
  }
  return arr;
}

static int ask_hub_get(c4j_engine_t *e, const question_t *q, char *out,
                       size_t cap) {
  return c4j_hub_get(e, q->name, q->len, out, cap, q->timeout_ms);
}

static int ask_members(c4j_engine_t *e, const question_t *q, char *out,
                       size_t cap) {
  return c4j_members(e, q->name, q->len, q->cluster, out, cap,
                     q->timeout_ms);
}

static int ask_online(c4j_engine_t *e, const question_t *q, char *out,
                      size_t cap) {
  return c4j_online(e, q->name, q->len, q->cluster, out, cap,
                    q->timeout_ms);
}

static int ask_identity(c4j_engine_t *e, const question_t *q, char *out,
                        size_t cap) {
  return c4j_identity(e, q->name, q->len, out, cap);
}

static int ask_user_identities(c4j_engine_t *e, const question_t *q,
                               char *out, size_t cap) {
  return c4j_user_identities(e, q->name, q->len, out, cap);
}

/* The merged map as UTF-8 JSON, or null with rc[0] set to the code.  A
 * map bigger than the buffer (a cluster's "online" with many connections)
 * is asked again with a bigger one. */
static jbyteArray n_hub_get(JNIEnv *env, jclass cls, jlong h, jbyteArray key,
                            jint timeout_ms, jintArray rc_out) {
  c4j_engine_t *e = handle(h);
  question_t q = { NULL, 0, 0, timeout_ms };
  char *k = NULL;
  int oom;
  jint rc = e == NULL || key == NULL ? C4J_ESTATE : 0;
  jbyteArray arr;
  if (rc == 0 && (k = dup_bytes(env, key, &q.len, &oom)) == NULL)
    rc = C4J_ENOMEM;
  q.name = k;
  arr = answer(env, e, ask_hub_get, &q, 1u << 20, rc, rc_out);
  free(k);
  return arr;
}

static int ask_hub_nodes(c4j_engine_t *e, const question_t *q, char *out,
                         size_t cap) {
  return c4j_hub_nodes(e, out, cap, q->timeout_ms);
}

/* c4j_hub_nodes: [{"id","heartbeat","alive","self"},...]. */
static jbyteArray n_hub_nodes(JNIEnv *env, jclass cls, jlong h,
                              jint timeout_ms, jintArray rc_out) {
  c4j_engine_t *e = handle(h);
  question_t q = { NULL, 0, 0, timeout_ms };
  return answer(env, e, ask_hub_nodes, &q, 4096, e == NULL ? C4J_ESTATE : 0,
                rc_out);
}

/* c4j_members: {"channel","count","members":[{"cId","user"},...]}. */
static jbyteArray n_members(JNIEnv *env, jclass cls, jlong h,
                            jbyteArray channel, jint cluster,
                            jint timeout_ms, jintArray rc_out) {
  c4j_engine_t *e = handle(h);
  char ch[C4J_MAX_CHANNEL + 1];
  jsize chn = 0;
  question_t q = { ch, 0, cluster, timeout_ms };
  jint rc = e == NULL ? C4J_ESTATE
                      : copy_name(env, channel, ch, C4J_MAX_CHANNEL, &chn);
  q.len = (size_t)chn;
  return answer(env, e, ask_members, &q, 16u << 10, rc, rc_out);
}

static jint n_member_count(JNIEnv *env, jclass cls, jlong h,
                           jbyteArray channel, jint cluster,
                           jint timeout_ms) {
  c4j_engine_t *e = handle(h);
  char ch[C4J_MAX_CHANNEL + 1];
  jsize chn = 0;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if ((rc = copy_name(env, channel, ch, C4J_MAX_CHANNEL, &chn)) != 0)
    return rc;
  return c4j_member_count(e, ch, (size_t)chn, cluster, timeout_ms);
}

/* c4j_online: user null asks for every user; an empty one is a user
 * nobody is (offline), as the core answers it. */
static jbyteArray n_online(JNIEnv *env, jclass cls, jlong h, jbyteArray user,
                           jint cluster, jint timeout_ms, jintArray rc_out) {
  c4j_engine_t *e = handle(h);
  char u[C4J_MAX_USER + 1];
  jsize un = 0;
  question_t q = { NULL, 0, cluster, timeout_ms };
  jint rc = e == NULL ? C4J_ESTATE : 0;
  if (rc == 0 && user != NULL) {
    if ((*env)->GetArrayLength(env, user) > 0)
      rc = copy_name(env, user, u, C4J_MAX_USER, &un);
    q.name = u;
    q.len = (size_t)un;
  }
  return answer(env, e, ask_online, &q, 4u << 10, rc, rc_out);
}

/* c4j_identity: {"cId","user","channels":[...]}, or rc[0] C4J_ENOCONN. */
static jbyteArray n_identity(JNIEnv *env, jclass cls, jlong h,
                             jbyteArray cid, jintArray rc_out) {
  c4j_engine_t *e = handle(h);
  char id[C4J_MAX_ID + 1];
  jsize idn = 0;
  question_t q = { id, 0, 0, 0 };
  jint rc = e == NULL ? C4J_ESTATE : copy_name(env, cid, id, C4J_MAX_ID, &idn);
  q.len = (size_t)idn;
  return answer(env, e, ask_identity, &q, 4u << 10, rc, rc_out);
}

/* c4j_user_identities: ["id",...]. */
static jbyteArray n_user_identities(JNIEnv *env, jclass cls, jlong h,
                                    jbyteArray user, jintArray rc_out) {
  c4j_engine_t *e = handle(h);
  char u[C4J_MAX_USER + 1];
  jsize un = 0;
  question_t q = { u, 0, 0, 0 };
  jint rc = e == NULL ? C4J_ESTATE : copy_name(env, user, u, C4J_MAX_USER, &un);
  q.len = (size_t)un;
  return answer(env, e, ask_user_identities, &q, 4u << 10, rc, rc_out);
}

static jint n_channel_presence(JNIEnv *env, jclass cls, jlong h,
                               jbyteArray channel, jint on) {
  c4j_engine_t *e = handle(h);
  char ch[C4J_MAX_CHANNEL + 1];
  jsize chn = 0;
  jint rc;
  if (e == NULL) return C4J_ESTATE;
  if ((rc = copy_name(env, channel, ch, C4J_MAX_CHANNEL, &chn)) != 0)
    return rc;
  return c4j_channel_presence(e, ch, (size_t)chn, on);
}

/* ---- One port: sockets taken over from the servlet container ------------ */

/* A private int field of a JDK object (SocketChannelImpl.fdVal,
 * EPollSelectorImpl.epfd): JNI reads it without the module system's
 * --add-opens that Java reflection would need.  -1 when o is null or has
 * no such field. */
static jint int_field(JNIEnv *env, jobject o, const char *name) {
  jclass c;
  jfieldID f;
  jint v;
  if (o == NULL) return -1;
  c = (*env)->GetObjectClass(env, o);
  f = (*env)->GetFieldID(env, c, name, "I");
  (*env)->DeleteLocalRef(env, c);
  if (f == NULL) {
    (*env)->ExceptionClear(env);
    return -1;
  }
  v = (*env)->GetIntField(env, o, f);
  return v;
}

static jint n_socket_fd(JNIEnv *env, jclass cls, jobject channel) {
  return int_field(env, channel, "fdVal");
}

static jint n_selector_fd(JNIEnv *env, jclass cls, jobject selector) {
  return int_field(env, selector, "epfd");
}

static jint n_takeover_peer_ok(JNIEnv *env, jclass cls, jint fd, jstring ip,
                               jint port, jint local_port) {
  int oom, ok;
  char *a = dup_string(env, ip, &oom);
  if (a == NULL) return 0;
  ok = c4j_takeover_peer_ok(fd, a, port, local_port);
  free(a);
  return ok;
}

/* (newfd << 32) | sink, or -errno. */
static jlong n_takeover_detach(JNIEnv *env, jclass cls, jint fd, jint epfd) {
  int newfd, sink, rc = c4j_takeover_detach(fd, epfd, &newfd, &sink);
  if (rc < 0) return rc;
  return ((jlong)newfd << 32) | (jlong)(uint32_t)sink;
}

static jint n_adopt(JNIEnv *env, jclass cls, jlong h, jint fd, jint sink,
                    jbyteArray bytes) {
  size_t n;
  int oom, rc;
  char *b = dup_bytes(env, bytes, &n, &oom);
  if (oom) {
    /* The core owns fd and sink from this call on: close them as it would. */
    (void)c4j_adopt(NULL, fd, sink, NULL, 0);
    return C4J_ENOMEM;
  }
  rc = c4j_adopt(handle(h), fd, sink, b, n);
  free(b);
  return rc;
}

static jstring n_strerror(JNIEnv *env, jclass cls, jint code) {
  return (*env)->NewStringUTF(env, c4j_strerror(code));
}

static const JNINativeMethod methods[] = {
  { "engineNew",
    "(Ljava/lang/String;II[BIIIIIIIILjava/lang/String;IIILjava/lang/String;"
    "Ljava/lang/String;Ljava/lang/String;IIILjava/lang/String;"
    "Ljava/lang/String;Ljava/lang/String;IIIII)J",
    (void *)n_engine_new },
  { "configError", "()Ljava/lang/String;", (void *)n_config_error },
  { "engineStart", "(J)I", (void *)n_engine_start },
  { "enginePort", "(J)I", (void *)n_engine_port },
  { "engineStop", "(J)I", (void *)n_engine_stop },
  { "engineFree", "(J)V", (void *)n_engine_free },
  { "send", "(JI[BIIIJ)I", (void *)n_send },
  { "drop", "(J[BILjava/lang/String;)I", (void *)n_drop },
  { "subscribe", "(J[B[BJ)I", (void *)n_subscribe },
  { "unsubscribe", "(J[B[B)I", (void *)n_unsubscribe },
  { "sendFrame", "(J[B[B)I", (void *)n_send_frame },
  { "newId", "()Ljava/lang/String;", (void *)n_new_id },
  { "ticket", "(J[B)Ljava/lang/String;", (void *)n_ticket },
  { "poll", "(JLjava/nio/ByteBuffer;I)I", (void *)n_poll },
  { "stats", "(J[J)V", (void *)n_stats },
  { "metricsText", "(J[B)[B", (void *)n_metrics_text },
  { "apiReply", "(JJI[B)I", (void *)n_api_reply },
  { "sendChannelFrame", "(J[B[B)I", (void *)n_send_channel_frame },
  { "hubAction", "(J[B)I", (void *)n_hub_action },
  { "hubActionDone", "(J[B)I", (void *)n_hub_action_done },
  { "hubSet", "(J[B[B[B)I", (void *)n_hub_set },
  { "hubGet", "(J[BI[I)[B", (void *)n_hub_get },
  { "hubNodes", "(JI[I)[B", (void *)n_hub_nodes },
  { "members", "(J[BII[I)[B", (void *)n_members },
  { "memberCount", "(J[BII)I", (void *)n_member_count },
  { "online", "(J[BII[I)[B", (void *)n_online },
  { "identity", "(J[B[I)[B", (void *)n_identity },
  { "userIdentities", "(J[B[I)[B", (void *)n_user_identities },
  { "channelPresence", "(J[BI)I", (void *)n_channel_presence },
  { "socketFd", "(Ljava/lang/Object;)I", (void *)n_socket_fd },
  { "selectorFd", "(Ljava/lang/Object;)I", (void *)n_selector_fd },
  { "takeoverPeerOk", "(ILjava/lang/String;II)I", (void *)n_takeover_peer_ok },
  { "takeoverDetach", "(II)J", (void *)n_takeover_detach },
  { "adopt", "(JII[B)I", (void *)n_adopt },
  { "strerror", "(I)Ljava/lang/String;", (void *)n_strerror },
};

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
  JNIEnv *env;
  jclass cls;
  if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
    return JNI_ERR;
  cls = (*env)->FindClass(env, NATIVE_CLASS);
  if (cls == NULL) return JNI_ERR;
  if ((*env)->RegisterNatives(env, cls, methods,
                              sizeof(methods) / sizeof(methods[0])) != 0) {
    (*env)->DeleteLocalRef(env, cls);
    return JNI_ERR;
  }
  (*env)->DeleteLocalRef(env, cls);
  return JNI_VERSION_1_8;
}

/* The class loader that loaded us is being collected, and Native with it:
 * there is nothing cached to release and no global state to clear (all
 * state lives in engine handles, which the Java side stops and frees). */
JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved) {}
