/* ws.h - RFC 6455 frames and handshake, with no I/O: the caller feeds bytes
 * and gets whole messages back through callbacks; encoders write into
 * caller-supplied buffers.  Nothing here touches a socket, a clock or rand().
 */
#ifndef C4J_WS_H
#define C4J_WS_H

#include <stddef.h>
#include <stdint.h>

enum {
  C4J_WS_OP_CONT = 0x0, C4J_WS_OP_TEXT = 0x1, C4J_WS_OP_BINARY = 0x2,
  C4J_WS_OP_CLOSE = 0x8, C4J_WS_OP_PING = 0x9, C4J_WS_OP_PONG = 0xA
};

/* Incremental validator of UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).  state starts at 0; 0 again means "at a code
 * point boundary". */
typedef struct { uint32_t state; } c4j_utf8_t;
/* Returns 0 while valid so far, -1 on the first invalid byte. */
int c4j_utf8_feed(c4j_utf8_t *u, const uint8_t *p, size_t n);
/* Whether the text fed so far ends on a code point boundary. */
int c4j_utf8_complete(const c4j_utf8_t *u);

typedef struct c4j_ws_parser_s c4j_ws_parser_t;

typedef struct {
  /* A complete text/binary message (fragments joined, unmasked).  For text
   * it has been validated as UTF-8.  Return 0 to continue, nonzero to stop
   * feeding (c4j_ws_feed then returns what was consumed so far). */
  int (*on_message)(c4j_ws_parser_t *p, int opcode, const uint8_t *data,
                    size_t len);
  /* A ping or pong, payload unmasked. */
  int (*on_control)(c4j_ws_parser_t *p, int opcode, const uint8_t *data,
                    size_t len);
  /* A close frame: code is 1005 if the frame had no code; reason may be
   * empty.  Codes and reason text are already validated. */
  int (*on_close)(c4j_ws_parser_t *p, int code, const uint8_t *reason,
                  size_t len);
} c4j_ws_callbacks_t;

typedef struct {
  void *(*realloc)(void *ptr, size_t size, void *ud); /* size 0 frees */
  void *ud;
} c4j_ws_alloc_t;

/* Parser state for one connection.  Invariant: `msg` holds the payload of
 * the fragmented message in progress (NULL when none), `msg_opcode` that
 * message's opcode (0 when none), `hdr` the bytes of a frame header split
 * across feeds.  The parser keeps no buffer while a connection is between
 * messages.  c4j_ws_parser_init() sets require_mask to 1 and alloc and data
 * to NULL; set them after it. */
struct c4j_ws_parser_s {
  const c4j_ws_callbacks_t *cb;
  const c4j_ws_alloc_t *alloc;   /* NULL: libc realloc/free */
  void *data;                    /* for the caller */
  size_t max_frame;              /* payload bytes in one frame */
  size_t max_message;            /* bytes in a reassembled message */
  int require_mask;              /* 1 on a server: clients must mask;
                                    0 accepts masked and unmasked */
  int allow_rsv1;                /* 1: permessage-deflate was negotiated
                                    (RFC 7692): RSV1 on a message's first
                                    frame marks it compressed; 0 (the
                                    default): RSV1 is an error (1002).
                                    RSV1 on a control or continuation
                                    frame is one either way */
  int compressed;                /* read in on_message: the message had
                                    RSV1, so its bytes are deflate data,
                                    not yet checked as UTF-8 */
  /* private */
  uint8_t hdr[14];
  uint8_t hdr_len;
  uint8_t opcode, fin, masked, in_frame, msg_opcode;
  uint8_t rsv1, msg_rsv1;
  uint8_t mask[4];
  uint64_t payload_len, payload_got;
  uint8_t *msg; size_t msg_len, msg_cap;
  uint8_t ctl[125]; size_t ctl_len;
  c4j_utf8_t utf8;
  int error_code;                /* close code after an error, else 0 */
  const char *error_reason;      /* static text after an error */
};

void c4j_ws_parser_init(c4j_ws_parser_t *p, const c4j_ws_callbacks_t *cb,
                        size_t max_frame, size_t max_message);
/* Frees what a message in progress holds; the struct itself is the
 * caller's. */
void c4j_ws_parser_free(c4j_ws_parser_t *p);

/* Feeds n bytes.  Returns the bytes consumed (n unless a callback asked to
 * stop), or -1 on a protocol error, after which p->error_code holds the
 * close code to send (1002 protocol, 1003 unsupported data is not used:
 * binary is delivered, 1007 bad UTF-8, 1009 too big, also when the
 * allocator fails) and p->error_reason a short text.  After an error the
 * parser must not be fed again (it would return -1 again).  Limits are
 * checked from the frame header, before any payload is read. */
long c4j_ws_feed(c4j_ws_parser_t *p, const uint8_t *buf, size_t n);

/* Size of an unmasked server frame header for a payload of len bytes
 * (2, 4 or 10). */
size_t c4j_ws_header_len(size_t len);
/* Writes an unmasked FIN frame header for opcode and len into out (at
 * least 10 bytes); returns its length. */
size_t c4j_ws_write_header(uint8_t *out, int opcode, size_t len);
/* Writes a whole close frame (code + reason, reason cut to fit 125 bytes at
 * a UTF-8 boundary) into out (at least 127 bytes); returns its length. */
size_t c4j_ws_write_close(uint8_t *out, int code, const char *reason);
/* Writes a masked client frame (for tests and tools) into out, which needs
 * len + 14 bytes; returns its length. */
size_t c4j_ws_write_masked(uint8_t *out, int opcode, int fin,
                           const uint8_t mask[4], const uint8_t *payload,
                           size_t len);

/* Computes Sec-WebSocket-Accept for a client key: base64(SHA1(key + GUID)),
 * 28 characters plus NUL into out.  Returns 0, or -1 if the key is not 24
 * characters of base64 that decode to 16 bytes. */
int c4j_ws_accept_key(const char *key, size_t key_len, char out[29]);

#endif /* C4J_WS_H */
