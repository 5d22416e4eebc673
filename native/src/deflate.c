/* deflate.c - permessage-deflate (deflate.h): the offers' negotiation,
 * the compressed twin of a frame made once and shared, and a client's
 * message inflated within a limit, over one worker's zlib streams.
 */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <zlib.h>

#include "common.h"
#include "deflate.h"
#include "ws.h"

/* ---- Negotiation (RFC 7692 section 5 and 7.1, RFC 6455 section 9.1) ----- */

static int is_tchar(char ch) {
  unsigned char c = (unsigned char)ch;
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ows(const char **p) {
  while (**p == ' ' || **p == '\t') (*p)++;
}

/* A token at *p: its length (0 when there is none), *p after it. */
static size_t token(const char **p) {
  const char *s = *p;
  while (is_tchar(**p)) (*p)++;
  return (size_t)(*p - s);
}

/* Whether [s, s + n) is name, in any case. */
static int is(const char *s, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* A window size's value: "8" to "15" exactly (RFC 7692 section 7.1.2:
 * 1*DIGIT, no leading zero), else -1. */
static int window_bits(const char *v, size_t n) {
  if (n == 1 && (v[0] == '8' || v[0] == '9')) return v[0] - '0';
  if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
    return 10 + (v[1] - '0');
  return -1;
}

enum { P_SNCT = 1, P_CNCT = 2, P_SMWB = 4, P_CMWB = 8 };

/* One offer's parameter (its value unquoted; has: whether it had one):
 * updates *seen and *smwb, or returns 0 for a parameter that declines the
 * offer (unknown, twice, a value where none belongs or a bad one). */
static int offer_param(const char *name, size_t nlen, int has,
                       const char *v, size_t vlen, unsigned *seen,
                       int *smwb) {
  unsigned bit;
  if (is(name, nlen, "server_no_context_takeover")) bit = P_SNCT;
  else if (is(name, nlen, "client_no_context_takeover")) bit = P_CNCT;
  else if (is(name, nlen, "server_max_window_bits")) bit = P_SMWB;
  else if (is(name, nlen, "client_max_window_bits")) bit = P_CMWB;
  else return 0;
  if (*seen & bit) return 0;
  *seen |= bit;
  if (bit == P_SNCT || bit == P_CNCT) return !has;
  if (bit == P_SMWB) {
    if (!has) return 0;
    return (*smwb = window_bits(v, vlen)) > 0;
  }
  return !has || window_bits(v, vlen) > 0; /* client_max_window_bits */
}

#define ANSWER                                                              \
  "Sec-WebSocket-Extensions: permessage-deflate; "                          \
  "server_no_context_takeover; client_no_context_takeover"
/* Accepting an offer of server_max_window_bits means answering it
 * (7.1.2.1). */
#define BITS(n)                                                             \
  case n: return ANSWER "; server_max_window_bits=" #n "\r\n"

const char *c4j__deflate_header(int on) {
  switch (on) {
  case C4J__DEFLATE_ON: return ANSWER "\r\n";
  BITS(9); BITS(10); BITS(11); BITS(12); BITS(13); BITS(14); BITS(15);
  default: return "";
  }
}

int c4j__deflate_negotiate(const char *offers) {
  const char *p = offers ? offers : "";
  int accepted = 0;
  for (;;) {
    const char *ext;
    size_t elen;
    unsigned seen = 0;
    int ok = 1, smwb = 0;
    skip_ows(&p);
    if (*p == '\0') break;
    if (*p == ',') { /* an empty element of the list (RFC 9110 5.6.1) */
      p++;
      continue;
    }
    ext = p;
    if ((elen = token(&p)) == 0) return -1;
    for (;;) {
      const char *name, *v = "";
      char val[16];
      size_t nlen, vlen = 0;
      int has = 0;
      skip_ows(&p);
      if (*p != ';') break;
      p++;
      skip_ows(&p);
      name = p;
      if ((nlen = token(&p)) == 0) return -1;
      skip_ows(&p);
      if (*p == '=') {
        p++;
        skip_ows(&p);
        has = 1;
        if (*p == '"') { /* a quoted-string whose content is a token */
          int fits = 1;
          p++;
          while (*p != '"') {
            if (*p == '\\') p++;
            if (*p == '\0' || (unsigned char)*p < 0x20 || *p == 0x7f)
              return -1;
            if (vlen < sizeof(val)) val[vlen] = *p;
            else fits = 0;
            vlen++;
            p++;
          }
          p++;
          if (vlen == 0 || !fits) ok = 0;
          for (size_t i = 0; ok && i < vlen; i++)
            if (!is_tchar(val[i])) ok = 0;
          v = val;
        } else {
          v = p;
          if ((vlen = token(&p)) == 0) return -1;
        }
      }
      if (ok && is(ext, elen, "permessage-deflate"))
        ok = offer_param(name, nlen, has, v, vlen, &seen, &smwb);
    }
    if (*p != ',' && *p != '\0') return -1;
    /* The first offer the core honours: zlib makes no raw deflate with a
     * window of 2^8 bytes. */
    if (!accepted && ok && is(ext, elen, "permessage-deflate") &&
        smwb != 8) {
      accepted = smwb != 0 ? smwb : C4J__DEFLATE_ON;
    }
  }
  return accepted;
}

/* ---- The worker's streams ----------------------------------------------- */

/* A frame's compressed twin is made with the full window and zlib's
 * default level: once per broadcast, whatever the subscribers. */
struct c4j__zip_s {
  z_stream def[7];    /* windows of 2^9 to 2^15 bytes (def[bits - 9]): the
                         full one for the shared twins, the others for
                         c4j__deflate_own */
  uint8_t def_ready[7];
  z_stream inf;
  int inf_ready;
  uint8_t *out;       /* output of the last compression or inflation */
  size_t cap;
  atomic_ullong made, plain, packed;
};

/* zlib's memory through the core's allocator (its test hook included). */
static voidpf zalloc(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  return c4j__calloc(items, size);
}

static void zfree(voidpf opaque, voidpf p) {
  (void)opaque;
  c4j__free(p);
}

c4j__zip_t *c4j__zip_new(void) {
  c4j__zip_t *z = c4j__calloc(1, sizeof(*z));
  if (z == NULL) return NULL;
  z->inf.zalloc = zalloc;
  z->inf.zfree = zfree;
  for (int i = 0; i < 7; i++) {
    z->def[i].zalloc = zalloc;
    z->def[i].zfree = zfree;
  }
  return z;
}

void c4j__zip_free(c4j__zip_t *z) {
  if (z == NULL) return;
  for (int i = 0; i < 7; i++)
    if (z->def_ready[i]) deflateEnd(&z->def[i]);
  if (z->inf_ready) inflateEnd(&z->inf);
  c4j__free(z->out);
  c4j__free(z);
}

void c4j__zip_counts(const c4j__zip_t *z, uint64_t *made, uint64_t *plain,
                     uint64_t *packed) {
  *made = atomic_load_explicit(&z->made, memory_order_relaxed);
  *plain = atomic_load_explicit(&z->plain, memory_order_relaxed);
  *packed = atomic_load_explicit(&z->packed, memory_order_relaxed);
}

/* Makes room for n bytes of output; -1 when out of memory. */
static int reserve(c4j__zip_t *z, size_t n) {
  uint8_t *o;
  if (n <= z->cap) return 0;
  if ((o = c4j__malloc(n)) == NULL) return -1;
  c4j__free(z->out);
  z->out = o;
  z->cap = n;
  return 0;
}

/* After a big message the scratch shrinks back: an idle worker keeps no
 * megabytes for one client's burst. */
static void shrink(c4j__zip_t *z) {
  if (z->cap > (256u << 10)) {
    c4j__free(z->out);
    z->out = NULL;
    z->cap = 0;
  }
}

/* ---- Output: the compressed twin ---------------------------------------- */

/* The payload of b when it is one whole unmasked text or binary frame:
 * its header's length, and the payload's; 0 otherwise. */
static size_t data_frame(const c4j__buf_t *b, size_t *plen) {
  size_t h, len = 0, len7;
  if (b->len < 2 || (b->data[0] != (0x80 | C4J_WS_OP_TEXT) &&
                     b->data[0] != (0x80 | C4J_WS_OP_BINARY)))
    return 0;
  len7 = b->data[1];
  if (len7 & 0x80) return 0;
  h = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
  if (b->len < h) return 0;
  if (h == 2) len = len7;
  for (size_t i = 2; i < h; i++) len = len << 8 | b->data[i];
  if (h + len != b->len) return 0;
  *plen = len;
  return h;
}

/* The deflater of a window of 2^bits bytes, made at its first use; NULL
 * when out of memory. */
static z_stream *deflater(c4j__zip_t *z, int bits) {
  z_stream *s = &z->def[bits - 9];
  if (!z->def_ready[bits - 9]) {
    if (deflateInit2(s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
      return NULL;
    z->def_ready[bits - 9] = 1;
  }
  return s;
}

/* The compressed frame of b, whose payload starts at h and has n bytes,
 * with a window of 2^bits bytes; NULL when it would not be smaller, or out
 * of memory. */
static c4j__buf_t *compress_frame(c4j__zip_t *z, const c4j__buf_t *b,
                                  size_t h, size_t n, int bits) {
  size_t bound, clen, ch;
  c4j__buf_t *out;
  z_stream *s = deflater(z, bits);
  int rc;
  if (s == NULL) return NULL;
  /* deflateBound, and the sync flush's empty stored block. */
  bound = deflateBound(s, (uLong)n) + 16;
  if (reserve(z, bound) < 0) return NULL;
  s->next_in = (Bytef *)(b->data + h);
  s->avail_in = (uInt)n;
  s->next_out = z->out;
  s->avail_out = (uInt)bound;
  rc = deflate(s, Z_SYNC_FLUSH);
  clen = bound - s->avail_out;
  /* server_no_context_takeover: the next message starts afresh. */
  deflateReset(s);
  if (rc != Z_OK || s->avail_in != 0 || s->avail_out == 0 ||
      clen < 4 || memcmp(z->out + clen - 4, "\0\0\xff\xff", 4) != 0)
    return NULL;
  clen -= 4; /* RFC 7692 section 7.2.1: the tail goes */
  ch = c4j_ws_header_len(clen);
  if (ch + clen >= b->len) return NULL;
  if ((out = c4j__buf_new(ch + clen)) == NULL) return NULL;
  c4j_ws_write_header(out->data, b->data[0] & 0x0f, clen);
  out->data[0] |= 0x40; /* RSV1: a compressed message */
  memcpy(out->data + ch, z->out, clen);
  atomic_fetch_add_explicit(&z->made, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&z->plain, n, memory_order_relaxed);
  atomic_fetch_add_explicit(&z->packed, clen, memory_order_relaxed);
  shrink(z);
  return out;
}

c4j__buf_t *c4j__deflate_frame(c4j__zip_t *z, c4j__buf_t *b) {
  c4j__buf_t *zp = atomic_load_explicit(&b->zip, memory_order_acquire);
  size_t h, n;
  if (zp == NULL) {
    if ((h = data_frame(b, &n)) == 0 || n < C4J__DEFLATE_MIN) return b;
    /* The first worker to claim it makes it; the others wait for it. */
    if (atomic_compare_exchange_strong_explicit(&b->zip, &zp, C4J__ZIP_BUSY,
                                                memory_order_acq_rel,
                                                memory_order_acquire)) {
      zp = compress_frame(z, b, h, n, 15);
      if (zp == NULL) zp = C4J__ZIP_PLAIN;
      atomic_store_explicit(&b->zip, zp, memory_order_release);
    }
  }
  while (zp == C4J__ZIP_BUSY) {
    sched_yield();
    zp = atomic_load_explicit(&b->zip, memory_order_acquire);
  }
  return zp == C4J__ZIP_PLAIN ? b : zp;
}

c4j__buf_t *c4j__deflate_own(c4j__zip_t *z, const c4j__buf_t *b, int bits) {
  size_t h, n;
  if (bits < 9 || bits > 14 || (h = data_frame(b, &n)) == 0 ||
      n < C4J__DEFLATE_MIN)
    return NULL;
  return compress_frame(z, b, h, n, bits);
}

/* ---- Input: a client's compressed message -------------------------------- */

int c4j__inflate_message(c4j__zip_t *z, const uint8_t *in, size_t n,
                         size_t max, const uint8_t **out, size_t *len) {
  static const uint8_t tail[4] = { 0, 0, 0xff, 0xff };
  size_t got = 0;
  int part = 0, rc = 0;
  shrink(z);
  if (!z->inf_ready) {
    if (inflateInit2(&z->inf, -15) != Z_OK) return C4J__INFLATE_NOMEM;
    z->inf_ready = 1;
  }
  /* client_no_context_takeover: each message starts afresh. */
  inflateReset(&z->inf);
  z->inf.next_in = (Bytef *)in;
  z->inf.avail_in = (uInt)n;
  /* The message, then the tail its sender took off (7.2.2).  Output
   * grows geometrically up to max + 1 bytes: one byte past max is
   * enough to know it is too big, and a bomb never gets more. */
  for (;;) {
    int r;
    if (z->inf.avail_in == 0 && part == 0) {
      part = 1;
      z->inf.next_in = (Bytef *)tail;
      z->inf.avail_in = sizeof(tail);
    }
    if (got == z->cap) {
      size_t want = z->cap < 4096 ? 4096 : z->cap * 2;
      uint8_t *o;
      if (want > max + 1) want = max + 1;
      if (want <= got) {
        rc = C4J__INFLATE_TOO_BIG;
        break;
      }
      if ((o = c4j__realloc(z->out, want)) == NULL) {
        rc = C4J__INFLATE_NOMEM;
        break;
      }
      z->out = o;
      z->cap = want;
    }
    z->inf.next_out = z->out + got;
    z->inf.avail_out = (uInt)(z->cap - got);
    r = inflate(&z->inf, Z_SYNC_FLUSH);
    got = z->cap - z->inf.avail_out;
    if (got > max) {
      rc = C4J__INFLATE_TOO_BIG;
      break;
    }
    if (r == Z_STREAM_END) {
      /* A final block: what follows it in the message (not the tail) is
       * another stream. */
      if (part == 0 && z->inf.avail_in > 0) {
        inflateReset(&z->inf);
        continue;
      }
      break;
    }
    if (r == Z_MEM_ERROR) {
      rc = C4J__INFLATE_NOMEM;
      break;
    }
    if ((r != Z_OK && r != Z_BUF_ERROR) ||
        (r == Z_BUF_ERROR && z->inf.avail_in != 0 &&
         z->inf.avail_out != 0)) {
      rc = C4J__INFLATE_BAD;
      break;
    }
    /* All in, the tail too, and room left: nothing more comes out. */
    if (part == 1 && z->inf.avail_in == 0 && z->inf.avail_out != 0) break;
  }
  if (rc != 0) {
    shrink(z);
    return rc;
  }
  *out = z->out ? z->out : (const uint8_t *)"";
  *len = got;
  return 0;
}
