/* frames.c - the frames the core writes itself (frames.h), each built
 * once into a shared buffer as an unmasked WebSocket text frame.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "frames.h"
#include "ws.h"

int c4j__frame_json_ok(const char *json, size_t len) {
  size_t i = 0;
  while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' ||
                     json[i] == '\r'))
    i++;
  /* strchr finds the terminator too: a NUL is no JSON. */
  return i < len && json[i] != '\0' &&
         strchr("{[\"tfn-0123456789", json[i]) != NULL;
}

int c4j__frame_data_ok(const char *data, size_t len) {
  return c4j__frame_data_binary(data, len) || c4j__frame_json_ok(data, len);
}

/* The most the head, the "u" and the position add to a message frame. */
#define MSG_OVERHEAD 192

/* The base64 of n bytes, with its padding. */
static size_t b64_len(size_t n) { return (n + 2) / 3 * 4; }

size_t c4j__frame_msg_size(size_t ch_len, const char *data, size_t len) {
  if (c4j__frame_data_binary(data, len)) len = b64_len(len - 1);
  return 10 + MSG_OVERHEAD + ch_len + len;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int c4j__frame_trim(const char *frame, size_t len, size_t *a, size_t *b) {
  *a = 0;
  *b = len;
  while (*a < *b && is_space(frame[*a])) (*a)++;
  while (*b > *a && is_space(frame[*b - 1])) (*b)--;
  return *b - *a >= 2 && frame[*a] == '{' && frame[*b - 1] == '}';
}

c4j__buf_t *c4j__frame_text(const char *text, size_t n) {
  size_t h = c4j_ws_header_len(n);
  c4j__buf_t *b = c4j__buf_new(h + n);
  if (b == NULL) return NULL;
  c4j_ws_write_header(b->data, C4J_WS_OP_TEXT, n);
  memcpy(b->data + h, text, n);
  return b;
}

/* The binary message frame of bytes (n of them): a u16 head length, the
 * head {"t":"msg","ch":..[,"u":..][,"e":..,"o":..],"time":..}, the
 * bytes (frames.h). */
static int frame_binary(size_t max, const char *ch, size_t ch_len,
                        const c4j__hist_chan_t *hc, const char *u,
                        const uint8_t *bytes, size_t n, int64_t time_ms,
                        c4j__buf_t **out) {
  char head[C4J_MAX_CHANNEL + MSG_OVERHEAD];
  size_t hlen, len, h;
  int k;
  c4j__buf_t *buf;
  if (ch_len > C4J_MAX_CHANNEL) return C4J_EBADNAME;
  k = snprintf(head, sizeof(head), "{\"t\":\"msg\",\"ch\":\"%.*s\"",
               (int)ch_len, ch);
  if (u != NULL)
    k += snprintf(head + k, sizeof(head) - (size_t)k, ",\"u\":\"%.47s\"", u);
  if (hc != NULL)
    k += snprintf(head + k, sizeof(head) - (size_t)k,
                  ",\"e\":\"%s\",\"o\":%" PRIu64, hc->epoch, hc->last + 1);
  k += snprintf(head + k, sizeof(head) - (size_t)k, ",\"time\":%" PRId64 "}",
                time_ms);
  hlen = (size_t)k;
  /* Both forms must fit: this frame, and the JSON one with base64 that
   * SSE and long-poll pages get. */
  if (n > max || 10 + MSG_OVERHEAD + ch_len + b64_len(n) > max)
    return C4J_ETOOBIG;
  len = 2 + hlen + n;
  h = c4j_ws_header_len(len);
  if (h + len > max) return C4J_ETOOBIG;
  buf = c4j__buf_new(h + len);
  if (buf == NULL) return C4J_ENOMEM;
  if (hc != NULL) {
    buf->offset = hc->last + 1;
    buf->chan = hc;
  }
  c4j_ws_write_header(buf->data, C4J_WS_OP_BINARY, len);
  buf->data[h] = (uint8_t)(hlen >> 8);
  buf->data[h + 1] = (uint8_t)hlen;
  memcpy(buf->data + h + 2, head, hlen);
  if (n > 0) memcpy(buf->data + h + 2 + hlen, bytes, n);
  *out = buf;
  return 0;
}

/* Appends the decimal digits of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v) {
  char tmp[20];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

static char *put_i64(char *p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return put_u64(p, (uint64_t)0 - (uint64_t)v);
  }
  return put_u64(p, (uint64_t)v);
}

static char *put(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}
#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

/* A message's text frame is {"t":"msg","ch":CH[,"u":U][,"e":E,"o":O],
 * "data":DATA,"time":T}: built with memcpy and digits, no printf, since
 * every send to a page makes one. */
int c4j__frame_msg(size_t max, const char *ch, size_t ch_len,
                   const c4j__hist_chan_t *hc, const char *u,
                   const char *json, size_t json_len, int64_t time_ms,
                   c4j__buf_t **out) {
  static const char a[] = "{\"t\":\"msg\",\"ch\":\"";
  char mid[160], tail[40], *m = mid, *t = tail;
  size_t mid_len, tail_len, len, h, at;
  c4j__buf_t *buf;

  if (c4j__frame_data_binary(json, json_len))
    return frame_binary(max, ch, ch_len, hc, u, (const uint8_t *)json + 1,
                        json_len - 1, time_ms, out);
  if (!c4j__frame_json_ok(json, json_len)) return C4J_EBADJSON;
  if (u != NULL) { /* at most 47 bytes of it, as "%.47s" */
    m = PUT_LIT(m, "\",\"u\":\"");
    m = put(m, u, strnlen(u, 47));
  }
  if (hc != NULL) {
    m = PUT_LIT(m, "\",\"e\":\"");
    m = put(m, hc->epoch, strlen(hc->epoch));
    m = PUT_LIT(m, "\",\"o\":");
    m = put_u64(m, hc->last + 1);
    m = PUT_LIT(m, ",\"data\":");
  } else {
    m = PUT_LIT(m, "\",\"data\":");
  }
  mid_len = (size_t)(m - mid);
  t = PUT_LIT(t, ",\"time\":");
  t = put_i64(t, time_ms);
  *t++ = '}';
  tail_len = (size_t)(t - tail);
  len = sizeof(a) - 1 + ch_len + mid_len + json_len + tail_len;
  h = c4j_ws_header_len(len);
  if (h + len > max) return C4J_ETOOBIG;
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

c4j__buf_t *c4j__frame_open(const c4j_ticket_t *t, const c4j__sub_t *subs,
                            const c4j__start_t *st) {
  size_t len = strlen("{\"t\":\"open\",\"cId\":\"\",\"channels\":[],"
                      "\"pos\":{}}") + strlen(t->cid);
  size_t h, at, i;
  char num[24];
  const c4j__sub_t *s;
  c4j__buf_t *b;
  int first = 1;
  for (int k = 0; k < t->nchannels; k++)
    len += strlen(t->channels[k]) + 2 + (k > 0);
  /* Each entry is "name":["epoch",start], with a comma between two. */
  for (s = subs, i = 0; s; s = s->conn_next, i++)
    if (s->hist != NULL) {
      len += (size_t)snprintf(num, sizeof(num), "%" PRIu64, st[i].start) +
             s->chan->len + C4J__EPOCH_LEN + 8 + !first;
      first = 0;
    }
  first = 1;
  h = c4j_ws_header_len(len);
  b = c4j__buf_new(h + len);
  if (b == NULL) return NULL;
  at = c4j_ws_write_header(b->data, C4J_WS_OP_TEXT, len);
#define PUT(s, n) (memcpy(b->data + at, (s), (n)), at += (n))
#define PUTS(s) PUT(s, strlen(s))
  PUTS("{\"t\":\"open\",\"cId\":\"");
  PUTS(t->cid);
  PUTS("\",\"channels\":[");
  for (int k = 0; k < t->nchannels; k++) {
    if (k > 0) PUTS(",");
    PUTS("\"");
    PUTS(t->channels[k]);
    PUTS("\"");
  }
  PUTS("],\"pos\":{");
  for (s = subs, i = 0; s; s = s->conn_next, i++) {
    if (s->hist == NULL) continue;
    if (!first) PUTS(",");
    first = 0;
    PUTS("\"");
    PUT(s->chan->name, s->chan->len);
    PUTS("\":[\"");
    PUTS(((const c4j__hist_chan_t *)s->hist)->epoch);
    PUTS("\",");
    snprintf(num, sizeof(num), "%" PRIu64, st[i].start);
    PUTS(num);
    PUTS("]");
  }
  PUTS("}}");
#undef PUTS
#undef PUT
  return b;
}

c4j__buf_t *c4j__frame_ack(int64_t id, const char *ch, size_t len,
                           const c4j__hist_chan_t *hc, uint64_t off) {
  char text[C4J_MAX_CHANNEL + 128];
  int n;
  if (hc != NULL)
    n = snprintf(text, sizeof(text),
                 "{\"t\":\"ack\",\"id\":%" PRId64 ",\"pos\":{\"%.*s\":"
                 "[\"%s\",%" PRIu64 "]}}", id, (int)len, ch, hc->epoch, off);
  else
    n = snprintf(text, sizeof(text),
                 "{\"t\":\"ack\",\"id\":%" PRId64 ",\"pos\":{}}", id);
  if (n < 0 || (size_t)n >= sizeof(text)) return NULL;
  return c4j__frame_text(text, (size_t)n);
}

c4j__buf_t *c4j__frame_err(int64_t id, int code, const char *message) {
  char text[128 + 200 * 6];
  size_t n;
  if (id >= 0)
    n = (size_t)snprintf(text, sizeof(text),
                         "{\"t\":\"err\",\"id\":%" PRId64 ",\"code\":%d,"
                         "\"message\":\"", id, code);
  else
    n = (size_t)snprintf(text, sizeof(text),
                         "{\"t\":\"err\",\"code\":%d,\"message\":\"", code);
  for (size_t i = 0; message[i] != '\0' && i < 200; i++) {
    unsigned char c = (unsigned char)message[i];
    if (c == '"' || c == '\\')
      n += (size_t)snprintf(text + n, sizeof(text) - n, "\\%c", c);
    else if (c < 0x20)
      n += (size_t)snprintf(text + n, sizeof(text) - n, "\\u%04x", c);
    else
      text[n++] = (char)c;
  }
  n += (size_t)snprintf(text + n, sizeof(text) - n, "\"}");
  return c4j__frame_text(text, n);
}

c4j__buf_t *c4j__frame_recovered(const char *ch, int recovered) {
  char text[C4J_MAX_CHANNEL + 64];
  int n = snprintf(text, sizeof(text),
                   "{\"t\":\"recovered\",\"ch\":\"%s\",\"recovered\":%s}",
                   ch, recovered ? "true" : "false");
  if (n < 0 || (size_t)n >= sizeof(text)) return NULL;
  return c4j__frame_text(text, (size_t)n);
}

c4j__buf_t *c4j__frame_lost(const char *ch, size_t ch_len, uint64_t lost) {
  char text[C4J_MAX_CHANNEL + 96];
  int n = snprintf(text, sizeof(text),
                   "{\"t\":\"recovered\",\"ch\":\"%.*s\",\"recovered\":false,"
                   "\"lost\":%llu}",
                   (int)ch_len, ch, (unsigned long long)lost);
  if (n < 0 || (size_t)n >= sizeof(text)) return NULL;
  return c4j__frame_text(text, (size_t)n);
}
