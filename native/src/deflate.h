/* deflate.h - permessage-deflate (RFC 7692) on WebSocket, over zlib: the
 * negotiation of the Sec-WebSocket-Extensions offers, the compressed twin
 * of a frame (made once, shared by every receiver that negotiated it, as
 * the SSE encoding is), and the inflation of a client's compressed
 * message within a limit.  No I/O.
 *
 * The core always answers server_no_context_takeover and
 * client_no_context_takeover: every message is compressed and inflated
 * alone, so that one worker-owned deflater and inflater (c4j__zip_t) serve
 * all its connections and an idle connection keeps no zlib state (one
 * flag).  A frame is compressed once with the full window for every
 * receiver; a client that asks for a smaller one (server_max_window_bits
 * 9 to 14, which no browser does) gets its frames compressed for it
 * alone; 8, which zlib cannot make, is declined.  The client's window
 * needs no answer (an inflater of 15 bits reads any).
 */
#ifndef C4J_DEFLATE_H
#define C4J_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Frames whose payload is below this many bytes go plain (RSV1 clear):
 * deflate's block header and the sync flush's end would make them no
 * smaller, and a frame that does not shrink goes plain too. */
#define C4J__DEFLATE_MIN 64

/* Reads the value of the Sec-WebSocket-Extensions headers (their values
 * joined with ", "; NULL or "" for none) and picks the first
 * permessage-deflate offer the core can honour (RFC 7692 section 5,
 * 7.1): an offer with an unknown parameter, a parameter twice, a value
 * where none belongs or a bad window size is declined, as is
 * server_max_window_bits=8; other extensions are ignored.  Returns
 * C4J__DEFLATE_ON (accepted), 9 to 15 (accepted, the offer named
 * server_max_window_bits with that value: C4J__DEFLATE_ON_15 for 15), 0
 * (none accepted), or -1 when the header breaks RFC 6455's grammar
 * (section 9.1: the handshake gets 400). */
enum { C4J__DEFLATE_ON = 1, C4J__DEFLATE_ON_15 = 15 };
int c4j__deflate_negotiate(const char *offers);
/* The header line of the 101 for what c4j__deflate_negotiate returned:
 * "Sec-WebSocket-Extensions: permessage-deflate; ...\r\n", or "" for 0. */
const char *c4j__deflate_header(int on);

/* A worker's scratch deflater and inflater, each made by zlib at its
 * first use, and its output buffer. */
typedef struct c4j__zip_s c4j__zip_t;

/* A new, empty scratch (zlib allocates nothing yet); NULL when out of
 * memory. */
c4j__zip_t *c4j__zip_new(void);
/* Frees z and what zlib holds for it (NULL: nothing). */
void c4j__zip_free(c4j__zip_t *z);

/* What to send for frame b to a receiver that negotiated deflate: its
 * compressed twin (RSV1 set, raw deflate, the sync flush's 00 00 ff ff
 * removed), made once by the first worker that needs it and kept on b
 * (b->zip; a worker that finds another making it waits the few
 * microseconds that takes), or b itself: a control frame, a frame under
 * C4J__DEFLATE_MIN, one that does not shrink, anything that is not one
 * whole text or binary frame, or when out of memory.  Borrowed for as
 * long as b lives. */
c4j__buf_t *c4j__deflate_frame(c4j__zip_t *z, c4j__buf_t *b);
/* b compressed for one receiver whose window is 2^bits bytes (bits 9 to
 * 14, its server_max_window_bits): a new buffer (one reference, the
 * caller's), or NULL when b goes plain (as c4j__deflate_frame's cases) or
 * out of memory. */
c4j__buf_t *c4j__deflate_own(c4j__zip_t *z, const c4j__buf_t *b, int bits);
/* What z compressed so far: frames, and their payload bytes before and
 * after (relaxed atomics: any thread may read them). */
void c4j__zip_counts(const c4j__zip_t *z, uint64_t *made, uint64_t *plain,
                     uint64_t *packed);

/* Inflates the n bytes of a compressed message (its frames' payloads
 * joined, without the 00 00 ff ff its sender removed) into z's buffer,
 * never more than max bytes: a small message that would inflate to more
 * stops there (the compression bomb).  Sets *out and *len to the
 * message, borrowed until z's next use.  Returns 0,
 * C4J__INFLATE_TOO_BIG (over max: close 1009), C4J__INFLATE_BAD (not
 * deflate data: close 1007) or C4J__INFLATE_NOMEM (close 1011). */
enum {
  C4J__INFLATE_TOO_BIG = -1, C4J__INFLATE_BAD = -2, C4J__INFLATE_NOMEM = -3
};
int c4j__inflate_message(c4j__zip_t *z, const uint8_t *in, size_t n,
                         size_t max, const uint8_t **out, size_t *len);

#endif /* C4J_DEFLATE_H */
