/* stream.h - the HTTP transports' encodings of the frames that the core
 * builds as WebSocket frames: SSE events (shared, made once per frame) and
 * long-poll bodies (copies), and the head of every HTTP answer of the
 * native port with its CORS headers.  No I/O.
 */
#ifndef C4J_STREAM_H
#define C4J_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The payload of an unmasked server frame (for a text frame, its JSON
 * text): returns where it starts and sets *n to its length. */
const uint8_t *c4j__frame_json(const c4j__buf_t *ws, size_t *n);

/* The text frame the HTTP transports send for the server frame ws: ws
 * itself for a text frame; for a binary message frame (frames.h), its
 * JSON form, the head with "b64":"<base64>" last, created on first use
 * and shared (buf.h, `alt`; the text frame carries ws's offset and
 * channel).  Borrowed from ws; NULL when out of memory or when ws is
 * binary but no message frame. */
c4j__buf_t *c4j__stream_text(c4j__buf_t *ws);

/* The SSE event "data: <json>\n\n" for the WebSocket frame ws (of a
 * binary one, its JSON form's), created on first use and shared by every
 * SSE connection (see buf.h, `alt`).  The result is borrowed from ws;
 * NULL when out of memory. */
c4j__buf_t *c4j__stream_event(c4j__buf_t *ws);

/* Writes the head of an HTTP answer: status line, Content-Type (unless
 * NULL), Content-Length (unless negative), Connection: close, or with
 * keep_open Connection: keep-alive (what an HTTP/1.0 client needs to keep
 * the socket; the same to HTTP/1.1), Cache-Control: no-store and, when
 * acao is not NULL, the CORS headers with Access-Control-Allow-Origin:
 * acao.  Returns its length or
 * -1 when it does not fit. */
long c4j__http_head(char *out, size_t cap, int status, const char *ctype,
                    long long length, int keep_open, const char *acao);

/* A long-poll answer: the head and the JSON array of the n frames (WebSocket
 * frames, their JSON copied out; of a binary one, its JSON form's), as
 * one new buffer; NULL when out of memory. */
c4j__buf_t *c4j__stream_poll_body(c4j__buf_t *const *frames, size_t n,
                                  const char *acao);

#endif /* C4J_STREAM_H */
