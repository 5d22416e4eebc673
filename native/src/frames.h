/* frames.h - every frame the core writes itself, made in one place: the
 * message frame of a broadcast or a send ({"t":"msg"}), the open frame,
 * a subscription's ack, a command's err, the recovered frames, pong, and
 * a whole frame the embedder serialized.  Each comes back as a new buffer
 * (one reference, the caller's) holding one unmasked WebSocket text
 * frame, which the HTTP transports re-encode (stream.h), but for the
 * message frame of binary data: a WebSocket binary frame (below).  No
 * I/O.
 *
 * Channel names need no escaping (c4j_channel_name_ok), nor do epochs
 * and ids (base64url, '.').
 *
 * A message's data, as every layer under the public sends carries it (in
 * inbox messages, hub records and the Redis history alike), is either a
 * JSON value (UTF-8 text) or binary: its bytes after one C4J__DATA_BINARY
 * byte (NUL, which starts no JSON text).  The message frame of binary
 * data (docs/protocol.md section 11) is a WebSocket binary frame whose
 * payload is a u16 (big-endian) n, n bytes of the frame's JSON head (the
 * text frame without "data": {"t":"msg","ch":..[,"u":..][,"e":..,"o":..],
 * "time":..}) and the bytes; its JSON form, for SSE and long-poll, is the
 * head with "b64":"<the bytes in base64>" last (stream.h,
 * c4j__stream_text).
 */
#ifndef C4J_FRAMES_H
#define C4J_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "channel.h"
#include "history.h"
#include "resume.h"

#define C4J__FRAME_PONG "{\"t\":\"pong\"}"

#define C4J__DATA_BINARY '\0'

/* Whether json starts like a JSON value: a cheap check, since the
 * embedder serialized it and a full parse per send would repeat its
 * work.  Binary data (a leading C4J__DATA_BINARY) is not JSON. */
int c4j__frame_json_ok(const char *json, size_t len);
/* Whether data is a message's data: JSON (c4j__frame_json_ok) or binary. */
int c4j__frame_data_ok(const char *data, size_t len);
/* Whether data is binary (its first byte C4J__DATA_BINARY). */
static inline int c4j__frame_data_binary(const char *data, size_t len) {
  return len > 0 && data[0] == C4J__DATA_BINARY;
}
/* An upper bound of the bytes of the largest encoding of the message
 * frame of data on channel of ch_len bytes (with its WebSocket header; for
 * binary data, the JSON form with base64). */
size_t c4j__frame_msg_size(size_t ch_len, const char *data, size_t len);

/* Whether frame (len bytes) is a JSON object once trimmed of white
 * space; sets [*a, *b) to the trimmed part. */
int c4j__frame_trim(const char *frame, size_t len, size_t *a, size_t *b);

/* A text frame holding the n bytes of text; NULL when out of memory. */
c4j__buf_t *c4j__frame_text(const char *text, size_t n);

/* {"t":"msg","ch":ch[,"u":u][,"e":epoch,"o":offset],"data":json,
 * "time":time_ms} into *out, or for binary data (json[0] is
 * C4J__DATA_BINARY) the binary message frame of the bytes after it.  hc:
 * the channel's history (its lock held): the frame gets offset
 * hc->last + 1 and buf->offset, buf->chan say so; NULL for a frame
 * without offset.  u: NULL, or the message id of a broadcast its node
 * delivered before Redis gave it an offset.  Returns 0, C4J_EBADJSON
 * (json does not start like a value), C4J_ETOOBIG (over max bytes with
 * its header; for binary data, either form) or C4J_ENOMEM. */
int c4j__frame_msg(size_t max, const char *ch, size_t ch_len,
                   const c4j__hist_chan_t *hc, const char *u,
                   const char *json, size_t json_len, int64_t time_ms,
                   c4j__buf_t **out);

/* {"t":"open","cId":..,"channels":[..],"pos":{"ch":["epoch",start],..}}:
 * the ticket's id and channels, and each subscription of subs with a
 * history, where its frames start (st[i] is the start of the i-th
 * subscription).  NULL when out of memory. */
c4j__buf_t *c4j__frame_open(const c4j_ticket_t *t, const c4j__sub_t *subs,
                            const c4j__start_t *st);

/* {"t":"ack","id":id,"pos":{"<ch>":["<epoch>",off]}} (pos {} when hc is
 * NULL: the channel has no history).  NULL when out of memory. */
c4j__buf_t *c4j__frame_ack(int64_t id, const char *ch, size_t len,
                           const c4j__hist_chan_t *hc, uint64_t off);

/* {"t":"err"[,"id":id],"code":code,"message":message} (no id when id <
 * 0); message is plain text of at most 200 bytes, escaped here.  NULL
 * when out of memory. */
c4j__buf_t *c4j__frame_err(int64_t id, int code, const char *message);

/* {"t":"recovered","ch":ch,"recovered":true|false}.  NULL when out of
 * memory. */
c4j__buf_t *c4j__frame_recovered(const char *ch, int recovered);

/* {"t":"recovered","ch":ch,"recovered":false,"lost":lost}: live, to the
 * pages of a channel that lost broadcasts while they were attached.
 * NULL when out of memory. */
c4j__buf_t *c4j__frame_lost(const char *ch, size_t ch_len, uint64_t lost);

#endif /* C4J_FRAMES_H */
