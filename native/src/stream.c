/* stream.c - SSE events, long-poll bodies and HTTP answer heads, and the
 * JSON form of a binary message frame that both HTTP transports send. */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "common.h"
#include "stream.h"
#include "ws.h"

const uint8_t *c4j__frame_json(const c4j__buf_t *ws, size_t *n) {
  size_t h = 2, len7 = ws->data[1] & 0x7f;
  if (len7 == 126) h = 4;
  else if (len7 == 127) h = 10;
  *n = ws->len - h;
  return ws->data + h;
}

static int is_binary(const c4j__buf_t *ws) {
  return (ws->data[0] & 0x0f) == C4J_WS_OP_BINARY;
}

/* The JSON form of a binary message frame: its head (the u16 length, the
 * JSON object) without the final '}', then ,"b64":"..."}.  NULL when out
 * of memory or malformed. */
static c4j__buf_t *binary_text(const c4j__buf_t *ws) {
  static const char key[] = ",\"b64\":\"";
  size_t n, hlen, blen, b64, len, h, at;
  const uint8_t *p = c4j__frame_json(ws, &n);
  c4j__buf_t *t;
  if (n < 2) return NULL;
  hlen = (size_t)p[0] << 8 | p[1];
  if (hlen < 2 || hlen > n - 2 || p[2] != '{' || p[1 + hlen] != '}')
    return NULL;
  blen = n - 2 - hlen;
  b64 = (blen + 2) / 3 * 4;
  len = hlen - 1 + sizeof(key) - 1 + b64 + 2;
  h = c4j_ws_header_len(len);
  if ((t = c4j__buf_new(h + len)) == NULL) return NULL;
  at = c4j_ws_write_header(t->data, C4J_WS_OP_TEXT, len);
  memcpy(t->data + at, p + 2, hlen - 1);
  at += hlen - 1;
  memcpy(t->data + at, key, sizeof(key) - 1);
  at += sizeof(key) - 1;
  /* EVP_EncodeBlock takes an int length: encode in slices of whole
   * 3-byte groups.  Each slice ends with a NUL, which the next one (or
   * the closing quote) overwrites. */
  for (size_t done = 0; done < blen;) {
    size_t k = blen - done > (3u << 20) ? 3u << 20 : blen - done;
    at += (size_t)EVP_EncodeBlock(t->data + at, p + 2 + hlen + done, (int)k);
    done += k;
  }
  memcpy(t->data + at, "\"}", 2);
  t->offset = ws->offset;
  t->chan = ws->chan;
  return t;
}

c4j__buf_t *c4j__stream_text(c4j__buf_t *ws) {
  c4j__buf_t *t;
  if (!is_binary(ws)) return ws;
  t = atomic_load_explicit(&ws->alt, memory_order_acquire);
  if (t != NULL) return t;
  /* Made on first use, like the SSE event: an engine whose pages are all
   * on WebSocket never encodes a byte in base64. */
  if ((t = binary_text(ws)) == NULL) return NULL;
  return c4j__buf_set_alt(ws, t);
}

c4j__buf_t *c4j__stream_event(c4j__buf_t *ws) {
  c4j__buf_t *ev;
  const uint8_t *json;
  size_t n;
  if ((ws = c4j__stream_text(ws)) == NULL) return NULL;
  ev = atomic_load_explicit(&ws->alt, memory_order_acquire);
  if (ev != NULL) return ev;
  /* Made on first use rather than at publish time, so that an engine with
   * no SSE client never pays for it; once made, every SSE connection on
   * every worker shares it. */
  json = c4j__frame_json(ws, &n);
  ev = c4j__buf_new(6 + n + 2);
  if (ev == NULL) return NULL;
  memcpy(ev->data, "data: ", 6);
  memcpy(ev->data + 6, json, n);
  /* JSON needs no raw line breaks (those in strings are escaped): turn any
   * between tokens into spaces so the event stays one data line. */
  for (size_t i = 6; i < 6 + n; i++)
    if (ev->data[i] == '\n' || ev->data[i] == '\r') ev->data[i] = ' ';
  memcpy(ev->data + 6 + n, "\n\n", 2);
  ev->offset = ws->offset;
  ev->chan = ws->chan;
  return c4j__buf_set_alt(ws, ev);
}

static const char *phrase(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

long c4j__http_head(char *out, size_t cap, int status, const char *ctype,
                    long long length, int keep_open, const char *acao) {
  char type[96] = "", clen[48] = "", cors[256] = "";
  int n;
  if (ctype != NULL)
    snprintf(type, sizeof(type), "Content-Type: %s\r\n", ctype);
  if (length >= 0)
    snprintf(clen, sizeof(clen), "Content-Length: %lld\r\n", length);
  if (acao != NULL &&
      snprintf(cors, sizeof(cors),
               "Access-Control-Allow-Origin: %s\r\n"
               "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
               "Access-Control-Allow-Headers: Content-Type\r\n"
               "Access-Control-Max-Age: 600\r\n"
               "Vary: Origin\r\n", acao) >= (int)sizeof(cors))
    return -1;
  /* RFC 9110: a 426 names the protocol to upgrade to. */
  n = snprintf(out, cap,
               "HTTP/1.1 %d %s\r\n%s%s%s%s%sCache-Control: no-store\r\n\r\n",
               status, phrase(status), type, clen,
               status == 426 ? "Upgrade: websocket\r\n" : "",
               keep_open ? "Connection: keep-alive\r\n" : "Connection: close\r\n",
               cors);
  if (n < 0 || (size_t)n >= cap) return -1;
  return n;
}

c4j__buf_t *c4j__stream_poll_body(c4j__buf_t *const *frames, size_t n,
                                  const char *acao) {
  char head[768];
  size_t body = 2 + (n > 0 ? n - 1 : 0), at, len;
  long h;
  c4j__buf_t *b;
  for (size_t i = 0; i < n; i++) {
    c4j__buf_t *t = c4j__stream_text(frames[i]);
    if (t == NULL) return NULL;
    c4j__frame_json(t, &len);
    body += len;
  }
  h = c4j__http_head(head, sizeof(head), 200, "application/json",
                     (long long)body, 0, acao);
  if (h < 0 || (b = c4j__buf_new((size_t)h + body)) == NULL) return NULL;
  memcpy(b->data, head, (size_t)h);
  at = (size_t)h;
  b->data[at++] = '[';
  for (size_t i = 0; i < n; i++) {
    const uint8_t *json = c4j__frame_json(c4j__stream_text(frames[i]), &len);
    if (i > 0) b->data[at++] = ',';
    memcpy(b->data + at, json, len);
    at += len;
  }
  b->data[at] = ']';
  return b;
}
