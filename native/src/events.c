/* events.c - the bounded event queue to the embedder. */
#include <string.h>

#include "common.h"
#include "events.h"

#define REC_HEADER 8 /* u32 size, u8 type, u8[3] zero */

int c4j__events_init(c4j__events_t *ev, size_t cap) {
  memset(ev, 0, sizeof(*ev));
  ev->ring = c4j__malloc(cap);
  if (ev->ring == NULL) return C4J_ENOMEM;
  if (uv_mutex_init(&ev->lock) != 0) {
    c4j__free(ev->ring);
    return C4J_ENOMEM;
  }
  if (uv_cond_init(&ev->cond) != 0) {
    uv_mutex_destroy(&ev->lock);
    c4j__free(ev->ring);
    return C4J_ENOMEM;
  }
  ev->cap = cap;
  atomic_init(&ev->dropped, 0);
  return 0;
}

void c4j__events_free(c4j__events_t *ev) {
  if (ev->ring == NULL) return;
  uv_cond_destroy(&ev->cond);
  uv_mutex_destroy(&ev->lock);
  c4j__free(ev->ring);
  ev->ring = NULL;
}

void c4j__events_stop(c4j__events_t *ev) {
  uv_mutex_lock(&ev->lock);
  ev->stopped = 1;
  uv_cond_broadcast(&ev->cond);
  uv_mutex_unlock(&ev->lock);
}

size_t c4j__events_used(c4j__events_t *ev) {
  size_t n;
  uv_mutex_lock(&ev->lock);
  n = ev->used;
  uv_mutex_unlock(&ev->lock);
  return n;
}

/* ---- Writing records (called with the lock held) ----------------------- */

/* Copies n bytes in at the logical end of the ring. */
static void put(c4j__events_t *ev, const void *p, size_t n) {
  size_t at = (ev->head + ev->used) % ev->cap;
  size_t first = ev->cap - at < n ? ev->cap - at : n;
  memcpy(ev->ring + at, p, first);
  memcpy(ev->ring, (const uint8_t *)p + first, n - first);
  ev->used += n;
}

static void put_u16(c4j__events_t *ev, unsigned v) {
  uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
  put(ev, b, 2);
}

static void put_str(c4j__events_t *ev, const void *s, size_t n) {
  put_u16(ev, (unsigned)n);
  put(ev, s, n);
}

static void put_header(c4j__events_t *ev, size_t size, int type) {
  uint8_t h[REC_HEADER] = { (uint8_t)size, (uint8_t)(size >> 8),
                            (uint8_t)(size >> 16), (uint8_t)(size >> 24),
                            (uint8_t)type, 0, 0, 0 };
  put(ev, h, sizeof(h));
}

static size_t cut(size_t n) { return n > 65535 ? 65535 : n; }

/* Locks and checks room for size bytes; returns 0 with the lock held, or
 * C4J_EFULL without it. */
static int reserve(c4j__events_t *ev, size_t size) {
  uv_mutex_lock(&ev->lock);
  if (ev->cap - ev->used < size) {
    uv_mutex_unlock(&ev->lock);
    atomic_fetch_add(&ev->dropped, 1);
    return C4J_EFULL;
  }
  return 0;
}

/* Unlocks, and wakes a reader only when one sleeps and no record since a
 * reader last woke up has signalled yet: one futex call a sleep, not one a
 * record, and after the unlock, so that the woken reader does not block
 * again at once on the lock the writer still holds (in a storm of
 * attaches, signalling under the lock for every record was a fifth of a
 * worker's time, in futex calls and the context switches they cause). */
static void commit(c4j__events_t *ev) {
  int wake = ev->waiting > 0 && !ev->woken;
  if (wake) ev->woken = 1;
  uv_mutex_unlock(&ev->lock);
  if (wake) uv_cond_signal(&ev->cond);
}

/* CONNECT and REVIVAL share a layout. */
static int attach_record(c4j__events_t *ev, int type, const char *cid,
                         const char *user, const char *ip,
                         const char *transport, int port) {
  size_t lc = cut(strlen(cid)), lu = cut(strlen(user)), li = cut(strlen(ip));
  size_t lt = cut(strlen(transport));
  size_t size = REC_HEADER + 2 + lc + 2 + lu + 2 + li + 2 + lt + 2;
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, type);
  put_str(ev, cid, lc);
  put_str(ev, user, lu);
  put_str(ev, ip, li);
  put_str(ev, transport, lt);
  put_u16(ev, (unsigned)port);
  commit(ev);
  return 0;
}

int c4j__events_connect(c4j__events_t *ev, const char *cid, const char *user,
                        const char *ip, const char *transport, int port) {
  return attach_record(ev, C4J_EV_CONNECT, cid, user, ip, transport, port);
}

int c4j__events_revival(c4j__events_t *ev, const char *cid, const char *user,
                        const char *ip, const char *transport, int port) {
  return attach_record(ev, C4J_EV_REVIVAL, cid, user, ip, transport, port);
}

/* DROP and DYING share a layout. */
static int end_record(c4j__events_t *ev, int type, const char *cid, int code,
                      const char *reason) {
  size_t lc = cut(strlen(cid)), lr = cut(strlen(reason));
  size_t size = REC_HEADER + 2 + lc + 2 + 2 + lr;
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, type);
  put_str(ev, cid, lc);
  put_u16(ev, (unsigned)code);
  put_str(ev, reason, lr);
  commit(ev);
  return 0;
}

int c4j__events_drop(c4j__events_t *ev, const char *cid, int code,
                     const char *reason) {
  return end_record(ev, C4J_EV_DROP, cid, code, reason);
}

int c4j__events_dying(c4j__events_t *ev, const char *cid, int code,
                      const char *reason) {
  return end_record(ev, C4J_EV_DYING, cid, code, reason);
}

int c4j__events_message(c4j__events_t *ev, const char *cid,
                        const uint8_t *text, size_t len) {
  size_t lc = cut(strlen(cid)), lt = cut(len);
  size_t size = REC_HEADER + 2 + lc + 2 + lt;
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, C4J_EV_MESSAGE);
  put_str(ev, cid, lc);
  put_str(ev, text, lt);
  commit(ev);
  return 0;
}

int c4j__events_binary(c4j__events_t *ev, const char *cid,
                       const uint8_t *data, size_t len) {
  size_t lc = cut(strlen(cid)), size = REC_HEADER + 2 + lc + 4 + len;
  uint8_t lb[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                    (uint8_t)(len >> 24) };
  if (len > UINT32_MAX - REC_HEADER - 2 - lc - 4 || size > ev->cap) {
    atomic_fetch_add(&ev->dropped, 1);
    return C4J_EFULL;
  }
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, C4J_EV_BINARY);
  put_str(ev, cid, lc);
  put(ev, lb, 4);
  if (len > 0) put(ev, data, len);
  commit(ev);
  return 0;
}

int c4j__events_sub(c4j__events_t *ev, const char *cid, const char *channel,
                    size_t channel_len, int subscribed, int code) {
  size_t lc = cut(strlen(cid)), lch = cut(channel_len);
  size_t size = REC_HEADER + 2 + lc + 2 + lch + 1 + 2;
  uint8_t on = (uint8_t)(subscribed != 0);
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, C4J_EV_SUB);
  put_str(ev, cid, lc);
  put_str(ev, channel, lch);
  put(ev, &on, 1);
  put_u16(ev, (unsigned)code);
  commit(ev);
  return 0;
}

int c4j__events_action(c4j__events_t *ev, const char *text, size_t len) {
  size_t lt = cut(len);
  size_t size = REC_HEADER + 2 + lt;
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, C4J_EV_ACTION);
  put_str(ev, text, lt);
  commit(ev);
  return 0;
}

int c4j__events_api(c4j__events_t *ev, uint32_t id, const char *method,
                    const char *path, size_t path_len, const char *query,
                    size_t query_len, const char *body, size_t body_len) {
  size_t lm = cut(strlen(method)), lp = cut(path_len), lq = cut(query_len);
  size_t lb = cut(body_len);
  size_t size = REC_HEADER + 4 + 2 + lm + 2 + lp + 2 + lq + 2 + lb;
  uint8_t idb[4] = { (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16),
                     (uint8_t)(id >> 24) };
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, C4J_EV_API);
  put(ev, idb, 4);
  put_str(ev, method, lm);
  put_str(ev, path, lp);
  put_str(ev, query, lq);
  put_str(ev, body, lb);
  commit(ev);
  return 0;
}

int c4j__events_log(c4j__events_t *ev, int level, const char *text) {
  size_t lt = cut(strlen(text));
  size_t size = REC_HEADER + 1 + 2 + lt;
  uint8_t lv = (uint8_t)level;
  if (reserve(ev, size) != 0) return C4J_EFULL;
  put_header(ev, size, C4J_EV_LOG);
  put(ev, &lv, 1);
  put_str(ev, text, lt);
  commit(ev);
  return 0;
}

/* ---- Reading ------------------------------------------------------------ */

static void take(c4j__events_t *ev, uint8_t *out, size_t n) {
  size_t first = ev->cap - ev->head < n ? ev->cap - ev->head : n;
  if (out != NULL) {
    memcpy(out, ev->ring + ev->head, first);
    memcpy(out + first, ev->ring, n - first);
  }
  ev->head = (ev->head + n) % ev->cap;
  ev->used -= n;
}

static size_t peek_size(const c4j__events_t *ev) {
  size_t s = 0;
  for (int i = 3; i >= 0; i--) s = (s << 8) | ev->ring[(ev->head + i) % ev->cap];
  return s;
}

int c4j__events_poll(c4j__events_t *ev, uint8_t *buf, size_t cap,
                     int timeout_ms) {
  size_t out = 0;
  uint64_t deadline = c4j__mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

  if (cap > 0x7fffffff) cap = 0x7fffffff;

  uv_mutex_lock(&ev->lock);
  while (ev->used == 0 && !ev->stopped && timeout_ms > 0) {
    uint64_t now = c4j__mono_ms();
    if (now >= deadline) break;
    ev->waiting++;
    uv_cond_timedwait(&ev->cond, &ev->lock, (deadline - now) * 1000000u);
    ev->waiting--;
    ev->woken = 0; /* a reader is up: the next record wakes another */
  }
  while (ev->used > 0) {
    size_t size = peek_size(ev);
    if (size > cap) {
      /* A record that can never fit would wedge the reader: drop it. */
      if (out == 0) {
        take(ev, NULL, size);
        atomic_fetch_add(&ev->dropped, 1);
        continue;
      }
      break;
    }
    if (size > cap - out) break;
    take(ev, buf + out, size);
    out += size;
  }
  if (out == 0 && ev->used == 0 && ev->stopped) {
    uv_mutex_unlock(&ev->lock);
    return C4J_ESTOPPED;
  }
  uv_mutex_unlock(&ev->lock);
  return (int)out;
}
