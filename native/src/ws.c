/* ws.c - RFC 6455 frame parser and encoders, with no I/O. */
#include "ws.h"

#include "c4j.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

/* ---- UTF-8 -------------------------------------------------------------
 * States of the validator: 0 is a code point boundary; 1..7 say how many
 * continuation bytes are still due and which range the next one must be in
 * (the narrow ranges after E0, ED, F0 and F4 rule out overlongs, surrogates
 * and values above U+10FFFF).  REJECT is sticky.
 */
enum { U_NEED1 = 1, U_NEED2, U_NEED2_E0, U_NEED2_ED, U_NEED3_F0, U_NEED3,
       U_NEED3_F4, U_REJECT };

static uint32_t utf8_step(uint32_t s, uint8_t c) {
  switch (s) {
  case 0:
    if (c < 0x80) return 0;
    if (c >= 0xC2 && c <= 0xDF) return U_NEED1;
    if (c == 0xE0) return U_NEED2_E0;
    if (c == 0xED) return U_NEED2_ED;
    if (c >= 0xE1 && c <= 0xEF) return U_NEED2;
    if (c == 0xF0) return U_NEED3_F0;
    if (c >= 0xF1 && c <= 0xF3) return U_NEED3;
    if (c == 0xF4) return U_NEED3_F4;
    return U_REJECT;
  case U_NEED1: return c >= 0x80 && c <= 0xBF ? 0 : U_REJECT;
  case U_NEED2: return c >= 0x80 && c <= 0xBF ? U_NEED1 : U_REJECT;
  case U_NEED2_E0: return c >= 0xA0 && c <= 0xBF ? U_NEED1 : U_REJECT;
  case U_NEED2_ED: return c >= 0x80 && c <= 0x9F ? U_NEED1 : U_REJECT;
  case U_NEED3_F0: return c >= 0x90 && c <= 0xBF ? U_NEED2 : U_REJECT;
  case U_NEED3: return c >= 0x80 && c <= 0xBF ? U_NEED2 : U_REJECT;
  case U_NEED3_F4: return c >= 0x80 && c <= 0x8F ? U_NEED2 : U_REJECT;
  default: return U_REJECT;
  }
}

int c4j_utf8_feed(c4j_utf8_t *u, const uint8_t *p, size_t n) {
  uint32_t s = u->state;
  size_t i = 0;
  while (i < n) {
    /* Most text is ASCII: skip it eight bytes at a time. */
    if (s == 0) {
      while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & UINT64_C(0x8080808080808080)) break;
        i += 8;
      }
      if (i == n) break;
    }
    s = utf8_step(s, p[i++]);
    if (s == U_REJECT) break;
  }
  u->state = s;
  return s == U_REJECT ? -1 : 0;
}

int c4j_utf8_complete(const c4j_utf8_t *u) {
  return u->state == 0;
}

/* ---- Parser ------------------------------------------------------------ */

static int fail(c4j_ws_parser_t *p, int code, const char *reason) {
  p->error_code = code;
  p->error_reason = reason;
  return -1;
}

static void *mem_realloc(const c4j_ws_alloc_t *a, void *ptr, size_t size) {
  if (a) return a->realloc(ptr, size, a->ud);
  if (size == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, size);
}

void c4j_ws_parser_init(c4j_ws_parser_t *p, const c4j_ws_callbacks_t *cb,
                        size_t max_frame, size_t max_message) {
  memset(p, 0, sizeof(*p));
  p->cb = cb;
  p->max_frame = max_frame;
  p->max_message = max_message;
  p->require_mask = 1;
}

static void drop_message(c4j_ws_parser_t *p) {
  if (p->msg) mem_realloc(p->alloc, p->msg, 0);
  p->msg = NULL;
  p->msg_len = p->msg_cap = 0;
  p->msg_opcode = 0;
}

void c4j_ws_parser_free(c4j_ws_parser_t *p) {
  drop_message(p);
}

static int is_control(int op) {
  return op & 0x8;
}

/* Whether the message in progress is text to check as UTF-8 while it
 * arrives: a compressed one is checked once inflated, by the caller. */
static int check_utf8(const c4j_ws_parser_t *p) {
  return p->msg_opcode == C4J_WS_OP_TEXT && !p->msg_rsv1;
}

/* Bytes the header of the frame in hdr[] needs in all, known once its
 * second byte is in. */
static size_t header_need(const c4j_ws_parser_t *p) {
  size_t len7 = p->hdr[1] & 0x7F;
  size_t need = 2 + (p->hdr[1] & 0x80 ? 4 : 0);
  if (len7 == 126) need += 2;
  else if (len7 == 127) need += 8;
  return need;
}

/* Checks the first byte: reserved bits, opcode, and whether it fits the
 * fragmentation state. */
static int check_byte0(c4j_ws_parser_t *p) {
  uint8_t b = p->hdr[0];
  int op = b & 0x0F;
  if (b & 0x30) return fail(p, C4J_CLOSE_PROTOCOL, "reserved bits set");
  if (b & 0x40) {
    if (!p->allow_rsv1)
      return fail(p, C4J_CLOSE_PROTOCOL, "reserved bits set");
    if (is_control(op))
      return fail(p, C4J_CLOSE_PROTOCOL, "compressed control frame");
    if (op == C4J_WS_OP_CONT)
      return fail(p, C4J_CLOSE_PROTOCOL, "RSV1 on a continuation frame");
  }
  p->rsv1 = (uint8_t)((b >> 6) & 1);
  switch (op) {
  case C4J_WS_OP_CONT:
    if (!p->msg_opcode)
      return fail(p, C4J_CLOSE_PROTOCOL, "continuation without message");
    break;
  case C4J_WS_OP_TEXT:
  case C4J_WS_OP_BINARY:
    if (p->msg_opcode)
      return fail(p, C4J_CLOSE_PROTOCOL, "new message inside fragmented one");
    break;
  case C4J_WS_OP_CLOSE:
  case C4J_WS_OP_PING:
  case C4J_WS_OP_PONG:
    if (!(b & 0x80))
      return fail(p, C4J_CLOSE_PROTOCOL, "fragmented control frame");
    break;
  default:
    return fail(p, C4J_CLOSE_PROTOCOL, "unknown opcode");
  }
  p->opcode = (uint8_t)op;
  p->fin = (uint8_t)(b >> 7);
  return 0;
}

/* Checks the payload length against the limits, before any payload has
 * arrived, so that an oversized frame costs no memory. */
static int check_length(c4j_ws_parser_t *p) {
  uint64_t len = p->payload_len;
  if (is_control(p->opcode)) return 0; /* at most 125, checked earlier */
  if (len > p->max_frame)
    return fail(p, C4J_CLOSE_TOO_BIG, "frame too big");
  if (len > p->max_message || p->msg_len > p->max_message - len)
    return fail(p, C4J_CLOSE_TOO_BIG, "message too big");
  return 0;
}

/* Takes one more header byte into account.  Returns 1 once the header is
 * complete, 0 while more bytes are due, -1 on error. */
static int header_byte(c4j_ws_parser_t *p) {
  size_t n = p->hdr_len, need, len7, i;
  if (n == 1) return check_byte0(p);
  len7 = p->hdr[1] & 0x7F;
  if (n == 2) {
    p->masked = (uint8_t)(p->hdr[1] >> 7);
    if (p->require_mask && !p->masked)
      return fail(p, C4J_CLOSE_PROTOCOL, "unmasked client frame");
    if (is_control(p->opcode) && len7 > 125)
      return fail(p, C4J_CLOSE_PROTOCOL, "control frame too long");
    if (len7 < 126) {
      p->payload_len = len7;
      if (check_length(p) < 0) return -1;
    }
  } else if ((len7 == 126 && n == 4) || (len7 == 127 && n == 10)) {
    uint64_t len = 0;
    for (i = 2; i < n; i++) len = len << 8 | p->hdr[i];
    if (len7 == 126 && len < 126)
      return fail(p, C4J_CLOSE_PROTOCOL, "length not minimally encoded");
    if (len7 == 127 && len >> 63)
      return fail(p, C4J_CLOSE_PROTOCOL, "length has high bit set");
    if (len7 == 127 && len < 65536)
      return fail(p, C4J_CLOSE_PROTOCOL, "length not minimally encoded");
    p->payload_len = len;
    if (check_length(p) < 0) return -1;
  }
  need = header_need(p);
  if (n < need) return 0;
  if (p->masked) memcpy(p->mask, p->hdr + need - 4, 4);
  return 1;
}

/* Makes room in msg for the rest of the current frame.  Grows at least
 * geometrically (up to max_message) so that a message sent in many small
 * fragments does not cost a copy per fragment. */
static int reserve(c4j_ws_parser_t *p) {
  size_t need = p->msg_len + (size_t)(p->payload_len - p->payload_got);
  size_t cap;
  uint8_t *m;
  if (need <= p->msg_cap) return 0;
  cap = p->msg_cap * 2;
  if (cap > p->max_message) cap = p->max_message;
  if (cap < need) cap = need;
  m = mem_realloc(p->alloc, p->msg, cap);
  /* An allocation failure is reported as 1009: the peer asked for more
   * memory than this process can give it now. */
  if (!m) return fail(p, C4J_CLOSE_TOO_BIG, "out of memory");
  p->msg = m;
  p->msg_cap = cap;
  return 0;
}

static void unmask(const c4j_ws_parser_t *p, uint8_t *dst,
                   const uint8_t *src, size_t n) {
  size_t i = 0, k = (size_t)(p->payload_got & 3);
  uint8_t m8[8];
  uint64_t m, w;
  if (!p->masked) {
    memcpy(dst, src, n);
    return;
  }
  /* Eight bytes at a time with the mask rotated to this frame offset;
   * eight is a multiple of four, so the rotation holds for every word. */
  for (i = 0; i < 8; i++) m8[i] = p->mask[(k + i) & 3];
  memcpy(&m, m8, 8);
  for (i = 0; n - i >= 8; i += 8) {
    memcpy(&w, src + i, 8);
    w ^= m;
    memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++) dst[i] = src[i] ^ p->mask[(k + i) & 3];
}

static int close_code_ok(int code) {
  if (code >= 1000 && code <= 1003) return 1;
  if (code >= 1007 && code <= 1014) return 1;
  return code >= 3000 && code <= 4999;
}

static void end_frame_state(c4j_ws_parser_t *p) {
  p->in_frame = 0;
  p->hdr_len = 0;
  p->payload_len = p->payload_got = 0;
}

/* Delivers a complete control frame from ctl[].  Returns 1 if the callback
 * asked to stop, 0 to go on, -1 on error. */
static int end_control(c4j_ws_parser_t *p) {
  const c4j_ws_callbacks_t *cb = p->cb;
  int op = p->opcode, code = 1005;
  size_t len = p->ctl_len;
  end_frame_state(p);
  if (op != C4J_WS_OP_CLOSE) {
    if (!cb || !cb->on_control) return 0;
    return cb->on_control(p, op, p->ctl, len) ? 1 : 0;
  }
  if (len == 1) return fail(p, C4J_CLOSE_PROTOCOL, "close payload of 1 byte");
  if (len >= 2) {
    c4j_utf8_t u = { 0 };
    code = p->ctl[0] << 8 | p->ctl[1];
    if (!close_code_ok(code))
      return fail(p, C4J_CLOSE_PROTOCOL, "invalid close code");
    if (c4j_utf8_feed(&u, p->ctl + 2, len - 2) < 0 || !c4j_utf8_complete(&u))
      return fail(p, C4J_CLOSE_BAD_DATA, "close reason is not UTF-8");
  }
  if (!cb || !cb->on_close) return 0;
  return cb->on_close(p, code, p->ctl + (len ? 2 : 0), len ? len - 2 : 0)
             ? 1 : 0;
}

/* Delivers a message whose bytes are at data.  The parser is back between
 * messages before the callback runs, and the buffer is freed after it, so
 * the callback may even free the parser. */
static int deliver(c4j_ws_parser_t *p, int op, const uint8_t *data,
                   size_t len) {
  const c4j_ws_callbacks_t *cb = p->cb;
  const c4j_ws_alloc_t *alloc = p->alloc;
  uint8_t *owned = p->msg;
  int rc = 0;
  p->msg = NULL;
  p->msg_len = p->msg_cap = 0;
  p->msg_opcode = 0;
  p->compressed = p->msg_rsv1;
  p->msg_rsv1 = 0;
  end_frame_state(p);
  if (cb && cb->on_message)
    rc = cb->on_message(p, op, data ? data : (const uint8_t *)"", len);
  if (owned) mem_realloc(alloc, owned, 0);
  return rc ? 1 : 0;
}

/* Ends a data frame whose payload is in msg. */
static int end_data(c4j_ws_parser_t *p) {
  if (!p->fin) {
    end_frame_state(p);
    return 0;
  }
  if (check_utf8(p) && !c4j_utf8_complete(&p->utf8))
    return fail(p, C4J_CLOSE_BAD_DATA, "text is not UTF-8");
  return deliver(p, p->msg_opcode, p->msg, p->msg_len);
}

static void begin_frame(c4j_ws_parser_t *p) {
  p->in_frame = 1;
  p->payload_got = 0;
  if (is_control(p->opcode)) {
    p->ctl_len = 0;
  } else if (p->opcode != C4J_WS_OP_CONT) {
    p->msg_opcode = p->opcode;
    p->msg_rsv1 = p->rsv1;
    p->msg_len = 0;
    p->utf8.state = 0;
  }
}

long c4j_ws_feed(c4j_ws_parser_t *p, const uint8_t *buf, size_t n) {
  size_t i = 0;
  if (p->error_code) return -1;
  while (i < n) {
    size_t avail;
    int rc;
    if (!p->in_frame) {
      p->hdr[p->hdr_len++] = buf[i++];
      rc = header_byte(p);
      if (rc < 0) return -1;
      if (rc == 0) continue;
      begin_frame(p);
      if (p->payload_len > 0) continue;
      rc = is_control(p->opcode) ? end_control(p) : end_data(p);
      if (rc < 0) return -1;
      if (rc > 0) return (long)i;
      continue;
    }
    avail = n - i;
    if (avail > p->payload_len - p->payload_got)
      avail = (size_t)(p->payload_len - p->payload_got);
    if (is_control(p->opcode)) {
      unmask(p, p->ctl + p->ctl_len, buf + i, avail);
      p->ctl_len += avail;
    } else if (p->fin && p->opcode != C4J_WS_OP_CONT && !p->masked &&
               p->payload_got == 0 && avail == p->payload_len) {
      /* A whole unmasked message in this buffer: no copy. */
      const uint8_t *data = buf + i;
      if (check_utf8(p) &&
          (c4j_utf8_feed(&p->utf8, data, avail) < 0 ||
           !c4j_utf8_complete(&p->utf8)))
        return fail(p, C4J_CLOSE_BAD_DATA, "text is not UTF-8");
      i += avail;
      if (deliver(p, p->opcode, data, avail)) return (long)i;
      continue;
    } else {
      uint8_t *dst;
      if (reserve(p) < 0) return -1;
      dst = p->msg + p->msg_len;
      unmask(p, dst, buf + i, avail);
      p->msg_len += avail;
      if (check_utf8(p) && c4j_utf8_feed(&p->utf8, dst, avail) < 0)
        return fail(p, C4J_CLOSE_BAD_DATA, "text is not UTF-8");
    }
    i += avail;
    p->payload_got += avail;
    if (p->payload_got < p->payload_len) continue;
    rc = is_control(p->opcode) ? end_control(p) : end_data(p);
    if (rc < 0) return -1;
    if (rc > 0) return (long)i;
  }
  return (long)i;
}

/* ---- Encoders ---------------------------------------------------------- */

size_t c4j_ws_header_len(size_t len) {
  if (len < 126) return 2;
  if (len <= 0xFFFF) return 4;
  return 10;
}

/* Writes the length field of a header (after the first byte); mask_bit is
 * 0x80 for masked frames. */
static size_t write_length(uint8_t *out, size_t len, uint8_t mask_bit) {
  size_t i;
  if (len < 126) {
    out[0] = (uint8_t)(mask_bit | len);
    return 1;
  }
  if (len <= 0xFFFF) {
    out[0] = mask_bit | 126;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    return 3;
  }
  out[0] = mask_bit | 127;
  for (i = 0; i < 8; i++) out[1 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
  return 9;
}

size_t c4j_ws_write_header(uint8_t *out, int opcode, size_t len) {
  out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
  return 1 + write_length(out + 1, len, 0);
}

size_t c4j_ws_write_close(uint8_t *out, int code, const char *reason) {
  size_t rlen = reason ? strlen(reason) : 0;
  /* 125 bytes of payload minus the code; cutting must not split a UTF-8
   * sequence, so back up over continuation bytes. */
  if (rlen > 123) {
    rlen = 123;
    while (rlen > 0 && ((uint8_t)reason[rlen] & 0xC0) == 0x80) rlen--;
  }
  out[0] = 0x80 | C4J_WS_OP_CLOSE;
  out[1] = (uint8_t)(2 + rlen);
  out[2] = (uint8_t)(code >> 8);
  out[3] = (uint8_t)code;
  if (rlen) memcpy(out + 4, reason, rlen);
  return 4 + rlen;
}

size_t c4j_ws_write_masked(uint8_t *out, int opcode, int fin,
                           const uint8_t mask[4], const uint8_t *payload,
                           size_t len) {
  size_t h, i;
  out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
  h = 1 + write_length(out + 1, len, 0x80);
  memcpy(out + h, mask, 4);
  h += 4;
  for (i = 0; i < len; i++) out[h + i] = payload[i] ^ mask[i & 3];
  return h + len;
}

static int is_b64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int c4j_ws_accept_key(const char *key, size_t key_len, char out[29]) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  uint8_t in[24 + sizeof(guid) - 1], md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  size_t i;
  /* 16 bytes encode to 22 characters and "==". */
  if (key_len != 24 || key[22] != '=' || key[23] != '=') return -1;
  for (i = 0; i < 22; i++)
    if (!is_b64(key[i])) return -1;
  memcpy(in, key, 24);
  memcpy(in + 24, guid, sizeof(guid) - 1);
  if (!EVP_Digest(in, sizeof(in), md, &md_len, EVP_sha1(), NULL) ||
      md_len != 20)
    return -1;
  EVP_EncodeBlock((unsigned char *)out, md, 20);
  return 0;
}
