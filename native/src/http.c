/* http.c - one HTTP/1.x request's line and headers, over libhttp-parser. */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Which header a value belongs to (r->cur); H_NAME while a name is read. */
enum { H_NAME, H_OTHER, H_KEY, H_VERSION, H_ORIGIN, H_XFF, H_UPGRADE,
       H_CONNECTION, H_AUTH, H_APIKEY, H_EXT };

/* Headers whose second copy is an error (bit 1 << kind in r->seen). */
#define ONCE ((1u << H_KEY) | (1u << H_VERSION) | (1u << H_ORIGIN) |      \
              (1u << H_AUTH) | (1u << H_APIKEY))

static int fail(c4j_http_req_t *r, int status, const char *error) {
  if (!r->status) {
    r->status = status;
    r->error = error;
  }
  return -1;
}

/* fail() for callbacks: a nonzero return stops http_parser_execute(). */
static int stop(c4j_http_req_t *r, int status, const char *error) {
  fail(r, status, error);
  return 1;
}

/* The parser is the struct's first member, so a callback's parser pointer
 * is the request, wherever the caller keeps it. */
static c4j_http_req_t *req(http_parser *hp) {
  return (c4j_http_req_t *)hp;
}

static int on_url(http_parser *hp, const char *at, size_t len) {
  c4j_http_req_t *r = req(hp);
  if (len >= sizeof(r->target) - r->target_len)
    return stop(r, 414, "request target too long");
  memcpy(r->target + r->target_len, at, len);
  r->target_len += len;
  r->target[r->target_len] = 0;
  return 0;
}

/* Where a stored header's value goes, or NULL. */
static char *dest(c4j_http_req_t *r, size_t *cap) {
  switch (r->cur) {
  case H_KEY: *cap = sizeof(r->ws_key); return r->ws_key;
  case H_VERSION: *cap = sizeof(r->ws_version); return r->ws_version;
  case H_ORIGIN: *cap = sizeof(r->origin); return r->origin;
  case H_XFF: *cap = sizeof(r->forwarded_for); return r->forwarded_for;
  case H_AUTH: *cap = sizeof(r->authorization); return r->authorization;
  case H_APIKEY: *cap = sizeof(r->api_key); return r->api_key;
  case H_EXT: *cap = sizeof(r->ws_ext); return r->ws_ext;
  default: return NULL;
  }
}

static void trim_end(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
}

/* Ends the token gathered in r->name (Upgrade and Connection values are
 * comma lists, read a token at a time). */
static void end_token(c4j_http_req_t *r) {
  if (r->name_len < sizeof(r->name)) {
    r->name[r->name_len] = 0;
    trim_end(r->name);
    if (r->cur == H_UPGRADE && strcasecmp(r->name, "websocket") == 0)
      r->upgrade_websocket = 1;
    if (r->cur == H_CONNECTION && strcasecmp(r->name, "upgrade") == 0)
      r->connection_upgrade = 1;
  }
  r->name_len = 0;
}

/* Ends the value being read, if any. */
static void end_value(c4j_http_req_t *r) {
  size_t cap;
  char *d = dest(r, &cap);
  if (d) trim_end(d);
  if (r->cur == H_UPGRADE || r->cur == H_CONNECTION) end_token(r);
  r->cur = H_NAME;
  r->name_len = 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len) {
  c4j_http_req_t *r = req(hp);
  if (r->cur != H_NAME) end_value(r);
  /* A name longer than any we look for is just "other". */
  if (len >= sizeof(r->name) - r->name_len) {
    r->name_len = sizeof(r->name);
    return 0;
  }
  memcpy(r->name + r->name_len, at, len);
  r->name_len += len;
  return 0;
}

static int name_kind(const c4j_http_req_t *r) {
  static const struct { const char *name; int kind; } known[] = {
    { "sec-websocket-key", H_KEY }, { "sec-websocket-version", H_VERSION },
    { "origin", H_ORIGIN }, { "x-forwarded-for", H_XFF },
    { "upgrade", H_UPGRADE }, { "connection", H_CONNECTION },
    { "authorization", H_AUTH }, { "x-api-key", H_APIKEY },
    { "sec-websocket-extensions", H_EXT },
  };
  size_t i;
  if (r->name_len >= sizeof(r->name)) return H_OTHER;
  for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (strlen(known[i].name) == r->name_len &&
        strncasecmp(known[i].name, r->name, r->name_len) == 0)
      return known[i].kind;
  return H_OTHER;
}

/* Starts a value once its name is complete. */
static int begin_value(c4j_http_req_t *r) {
  int kind = name_kind(r);
  if ((ONCE & (1u << kind)) && (r->seen & (1u << kind)))
    return fail(r, 400, "duplicate header");
  /* Only the first X-Forwarded-For counts. */
  if (kind == H_XFF && (r->seen & (1u << kind))) kind = H_OTHER;
  r->seen |= 1u << kind;
  r->cur = kind;
  r->name_len = 0;
  r->value_len = 0;
  /* Another Sec-WebSocket-Extensions goes on the same list. */
  if (kind == H_EXT && (r->value_len = strlen(r->ws_ext)) > 0) {
    if (r->value_len + 2 >= sizeof(r->ws_ext)) r->ws_ext_long = 1;
    else r->value_len += (size_t)snprintf(r->ws_ext + r->value_len, 3, ", ");
  }
  return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len) {
  c4j_http_req_t *r = req(hp);
  size_t cap, i;
  char *d;
  if (r->cur == H_NAME && begin_value(r) < 0) return 1;
  if (r->cur == H_UPGRADE || r->cur == H_CONNECTION) {
    for (i = 0; i < len; i++) {
      char c = at[i];
      if (c == ',') end_token(r);
      else if (r->name_len == 0 && (c == ' ' || c == '\t')) continue;
      else if (r->name_len < sizeof(r->name) - 1) r->name[r->name_len++] = c;
      else r->name_len = sizeof(r->name); /* too long to match */
    }
    return 0;
  }
  d = dest(r, &cap);
  if (!d) return 0;
  if (r->cur == H_XFF) {
    /* Keep the first address only: value_len == cap once a comma passed. */
    const char *comma = memchr(at, ',', len);
    if (r->value_len == cap) return 0;
    if (comma) len = (size_t)(comma - at);
    if (len >= cap - r->value_len) return stop(r, 431, "header too long");
    memcpy(d + r->value_len, at, len);
    r->value_len += len;
    d[r->value_len] = 0;
    if (comma) r->value_len = cap;
    return 0;
  }
  if (len >= cap - r->value_len) {
    /* A key this long matches no key: keep reading the request, which
     * /api/ then refuses with 401 (and any other route ignores). */
    if (r->cur == H_AUTH || r->cur == H_APIKEY) {
      r->auth_too_long = 1;
      return 0;
    }
    if (r->cur == H_EXT) { /* declined, not refused */
      r->ws_ext_long = 1;
      return 0;
    }
    return stop(r, 431, "header too long");
  }
  memcpy(d + r->value_len, at, len);
  r->value_len += len;
  d[r->value_len] = 0;
  return 0;
}

static int on_headers_complete(http_parser *hp) {
  c4j_http_req_t *r = req(hp);
  if (r->cur != H_NAME) end_value(r);
  if (hp->http_major != 1 || hp->http_minor > 1)
    return stop(r, 505, "HTTP version not supported");
  r->method = hp->method;
  r->done = 1;
  /* Stop here: what follows (a body, WebSocket frames, a pipelined
   * request) is not this reader's business. */
  http_parser_pause(hp, 1);
  return 0;
}

static const http_parser_settings settings = {
  .on_url = on_url,
  .on_header_field = on_header_field,
  .on_header_value = on_header_value,
  .on_headers_complete = on_headers_complete,
};

void c4j_http_init(c4j_http_req_t *r, size_t max_header) {
  memset(r, 0, sizeof(*r));
  http_parser_init(&r->parser, HTTP_REQUEST);
  r->max_header = max_header;
  r->cur = H_NAME;
}

/* The strict scan of the head, byte by byte over what the parser took:
 * libhttp-parser accepts all three of these (a lenient build), and a
 * request that two parsers read two ways is how requests get smuggled.
 * Returns 0, or -1 with the 400 set. */
static int scan(c4j_http_req_t *r, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c == '\n') {
      if (r->scan_prev != '\r') return fail(r, 400, "bare LF in the request head");
      if (r->scan_lines < 255) r->scan_lines++;
      r->scan_name = 1;
    } else if (r->scan_prev == '\n' && r->scan_lines > 0 &&
               (c == ' ' || c == '\t')) {
      return fail(r, 400, "folded header line (obsolete line folding)");
    } else if (r->scan_name && r->scan_lines > 0 && c != '\r') {
      /* A field name is a token: white space in it or before its colon
       * is refused at the first such byte. */
      if (c == ':') r->scan_name = 0;
      else if (c == ' ' || c == '\t')
        return fail(r, 400, "white space in a header's name or before its colon");
    }
    r->scan_prev = c;
  }
  return 0;
}

long c4j_http_feed(c4j_http_req_t *r, const uint8_t *buf, size_t n) {
  size_t len = n, got;
  enum http_errno e;
  if (r->status) return -1;
  /* An empty buffer would tell http_parser that the stream ended. */
  if (r->done || n == 0) return 0;
  if (len > r->max_header - r->header_bytes)
    len = r->max_header - r->header_bytes;
  if (len == 0) return fail(r, 431, "request header too large");
  got = http_parser_execute(&r->parser, &settings, (const char *)buf, len);
  if (r->status) return -1;
  e = HTTP_PARSER_ERRNO(&r->parser);
  if (r->done) {
    /* Paused on the header block's final LF, which counts as read. */
    if (e == HPE_PAUSED && got < len) got++;
    if (scan(r, buf, got) < 0) return -1;
    r->header_bytes += got;
    return (long)got;
  }
  if (e == HPE_HEADER_OVERFLOW) return fail(r, 431, "request header too large");
  /* On a parser error the scan reads the whole feed, so that its more
   * exact reason (the parser stops at the space of "Host : x") wins. */
  if (scan(r, buf, e == HPE_OK ? got : n) < 0) return -1;
  if (e != HPE_OK) return fail(r, 400, http_errno_description(e));
  r->header_bytes += got;
  if (len < n) return fail(r, 431, "request header too large");
  return (long)got;
}

int c4j_http_keep_alive(const c4j_http_req_t *r) {
  /* libhttp-parser read the Connection tokens (close, keep-alive) and the
   * version; a request never needs the end of the stream. */
  return r->done && http_should_keep_alive(&r->parser);
}

void c4j_http_path(const c4j_http_req_t *r, char *out, size_t cap) {
  size_t n = strcspn(r->target, "?");
  if (cap == 0) return;
  if (n > cap - 1) n = cap - 1;
  memcpy(out, r->target, n);
  out[n] = 0;
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes a query value; %00 is refused so that the result is a C string. */
static long decode(const char *s, size_t n, char *out, size_t cap) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      int hi, lo;
      if (n - i < 3) return -2;
      hi = hex(s[i + 1]);
      lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -2;
      c = (char)(hi << 4 | lo);
      i += 2;
    }
    if (o + 1 >= cap) return -2;
    out[o++] = c;
  }
  if (cap == 0) return -2;
  out[o] = 0;
  return (long)o;
}

long c4j_http_query(const c4j_http_req_t *r, const char *name, char *out,
                    size_t cap) {
  const char *q = strchr(r->target, '?');
  size_t name_len = strlen(name);
  while (q) {
    const char *p = q + 1, *end = strchr(p, '&'), *eq;
    size_t len = end ? (size_t)(end - p) : strlen(p);
    eq = memchr(p, '=', len);
    if ((size_t)((eq ? eq : p + len) - p) == name_len &&
        memcmp(p, name, name_len) == 0) {
      if (!eq) return decode("", 0, out, cap);
      return decode(eq + 1, len - (size_t)(eq + 1 - p), out, cap);
    }
    q = end;
  }
  return -1;
}

static const char *reason_phrase(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 426: return "Upgrade Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Error";
  }
}

/* An origin is echoed into a header, so it must not carry CR, LF or other
 * control characters. */
static int header_safe(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7F) return 0;
  return 1;
}

long c4j_http_write_error(char *out, size_t cap, int status,
                          const char *body, const char *origin) {
  int n;
  size_t blen = body ? strlen(body) : 0;
  int cors = origin && *origin && header_safe(origin);
  n = snprintf(out, cap,
               "HTTP/1.1 %d %s\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Content-Length: %zu\r\n"
               "Connection: close\r\n"
               "%s%s%s%s"
               "\r\n"
               "%s",
               status, reason_phrase(status), blen,
               status == 426 ? "Upgrade: websocket\r\n" : "",
               cors ? "Access-Control-Allow-Origin: " : "",
               cors ? origin : "", cors ? "\r\nVary: Origin\r\n" : "",
               body ? body : "");
  if (n < 0 || (size_t)n >= cap) return -1;
  return n;
}
