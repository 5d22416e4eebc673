/* http.h - the HTTP/1.1 request reader for the native port, over
 * libhttp-parser, with no I/O: it collects one request's line and the few
 * headers the core needs, within byte limits, and says when it is complete.
 */
#ifndef C4J_HTTP_H
#define C4J_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <http_parser.h>

/* Room for a ticket that lists many channels (the JWT rides in the query). */
#define C4J_HTTP_MAX_TARGET 4096

/* One request.  Strings are NUL terminated copies, truncation is an error
 * (431 or 414), never silent.  Invariant: `done` is set once the headers are
 * complete; for an Upgrade request the parser stops there and `consumed`
 * tells where the WebSocket bytes begin. */
typedef struct {
  http_parser parser;
  size_t max_header;           /* bytes of request line + headers */
  size_t header_bytes;
  int method;                  /* enum http_method */
  char target[C4J_HTTP_MAX_TARGET]; /* path and query, as sent */
  char ws_key[32];             /* Sec-WebSocket-Key */
  char ws_version[8];          /* Sec-WebSocket-Version */
  char origin[256];
  char forwarded_for[64];      /* first address of X-Forwarded-For */
  char authorization[300];     /* Authorization (for /api/) */
  char api_key[264];           /* X-Api-Key (for /api/) */
  char ws_ext[512];            /* Sec-WebSocket-Extensions, every copy's
                                  value joined with ", " */
  int ws_ext_long;             /* they did not fit: the extensions are
                                  declined (not an error) */
  int auth_too_long;           /* one of these two did not fit: no key
                                  can match (not an error otherwise) */
  int upgrade_websocket;       /* Upgrade: websocket (any case) */
  int connection_upgrade;      /* Connection: contains token "upgrade" */
  int done;
  int status;                  /* HTTP status to answer on error, else 0 */
  const char *error;           /* short reason on error */
  /* private: which header is being read, and a partial name (or, in the
   * value of Upgrade or Connection, the current token) */
  int cur;
  char name[32]; size_t name_len;
  size_t value_len;
  size_t target_len;
  unsigned seen;               /* bit per header kind already read */
  /* private: the strict scan of the head (RFC 9112), across feeds */
  uint8_t scan_prev;           /* the byte before, 0 at the start */
  uint8_t scan_lines;          /* lines ended so far, saturating */
  uint8_t scan_name;           /* inside a field name (before ':') */
} c4j_http_req_t;

void c4j_http_init(c4j_http_req_t *r, size_t max_header);
/* Feeds bytes.  Returns bytes consumed (it stops right after the headers of
 * a complete request, and consumes nothing once done), or -1 with
 * r->status (400, 414, 431, 505) and r->error set; after an error it keeps
 * returning -1.  A second Sec-WebSocket-Key, Sec-WebSocket-Version,
 * Origin, Authorization or X-Api-Key is a 400; only the first X-Forwarded-For header counts.
 * As RFC 9112 asks, the head is refused with 400 for a bare LF (an LF
 * without its CR), a folded header line (one that starts with white
 * space) and white space between a field name and its colon. */
long c4j_http_feed(c4j_http_req_t *r, const uint8_t *buf, size_t n);

/* Whether the complete request r lets its connection stay open after the
 * answer (RFC 9112 section 9.3): HTTP/1.1 without Connection: close, or
 * HTTP/1.0 with Connection: keep-alive. */
int c4j_http_keep_alive(const c4j_http_req_t *r);

/* The path of the target, without the query: writes at most cap-1 bytes. */
void c4j_http_path(const c4j_http_req_t *r, char *out, size_t cap);
/* Looks up a query parameter by name, percent-decoding its value into out.
 * Returns the decoded length, -1 if absent, -2 if it does not fit or is
 * malformed. */
long c4j_http_query(const c4j_http_req_t *r, const char *name, char *out,
                    size_t cap);

/* Writes a complete small response (status line, Content-Type text/plain,
 * Content-Length, Connection: close, CORS header if origin is non-empty,
 * body) into out.  Returns its length or -1 if it does not fit. */
long c4j_http_write_error(char *out, size_t cap, int status,
                          const char *body, const char *origin);

#endif /* C4J_HTTP_H */
