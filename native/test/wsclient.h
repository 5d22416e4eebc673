/* wsclient.h - the one WebSocket client of the native unit tests, the node
 * tests (node/test-node-client.c) and the load benches (bench/wsbench.c,
 * bench/hubbench.c), compiled once per flavour into
 * build/<flavour>/libwsclient.a.
 *
 * Two layers.  The codec does no I/O: the upgrade request, the answer's
 * head, masked client frames out, unmasked server frames in, HS256
 * tickets, and a reader that a caller's own event loop feeds (the libuv
 * benches).  The blocking client drives one socket with it (the tests).
 * It shares no code with the core (ws.c, auth.c, tls.c), so that it checks
 * the server from the outside; it needs libc, libcrypto and, for TLS
 * (wsc_tls: OpenSSL's own client over the socket), libssl.
 *
 * Every function returns >= 0 on success and a WSC_E* code on failure.
 */
#ifndef C4J_WSCLIENT_H
#define C4J_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
  WSC_OP_CONT = 0x0,
  WSC_OP_TEXT = 0x1,
  WSC_OP_BINARY = 0x2,
  WSC_OP_CLOSE = 0x8,
  WSC_OP_PING = 0x9,
  WSC_OP_PONG = 0xA
};

/* The first three are ordinary ends (a test may expect them); the others
 * mean the client or the server is broken. */
#define WSC_ERRNO_MAP(XX)                                                    \
  XX(WSC_ECLOSED, -1, "connection closed")                                   \
  XX(WSC_ETIMEDOUT, -2, "timed out")                                         \
  XX(WSC_EFRAME, -3, "another frame than expected")                          \
  XX(WSC_EHEAD, -4, "answer is not HTTP/1.1 with a status")                  \
  XX(WSC_EREFUSED, -5, "upgrade refused")                                    \
  XX(WSC_ECONNECT, -6, "cannot connect")                                     \
  XX(WSC_ESEND, -7, "short send")                                            \
  XX(WSC_ETOOBIG, -8, "does not fit in the buffer")                          \
  XX(WSC_EACCEPT, -9, "wrong Sec-WebSocket-Accept in the 101")               \
  XX(WSC_EMASKED, -10, "server frame is masked")                           \
  XX(WSC_ETLS, -11, "TLS handshake failed")

enum {
#define XX(name, val, msg) name = val,
  WSC_ERRNO_MAP(XX)
#undef XX
  WSC_ERR_MAX_ = 0
};

const char *wsc_strerror(int rc);

/* The key of every upgrade request, and the accept key it must get. */
#define WSC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WSC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* ---- Codec (no I/O) ----------------------------------------------------- */

/* Writes the upgrade request of target (path and query) for host, with
 * extra header lines (each ending "\r\n"; NULL for none).  Returns its
 * length, or WSC_ETOOBIG. */
int wsc_request(char *out, size_t cap, const char *host, const char *target,
                const char *extra);

/* Reads the head of an HTTP answer at p[0..n).  Returns 0 while the blank
 * line has not come, else the head's length with *status set (-1 when the
 * status line is not "HTTP/1.1 <number>"); WSC_EACCEPT for a 101 without
 * WSC_ACCEPT. */
long wsc_head(const void *p, size_t n, int *status);

/* One server frame: data points into the buffer parsed. */
typedef struct {
  int op, fin;
  const uint8_t *data;
  uint64_t len;
  int rsv;                    /* RSV1..3 (4: RSV1, a permessage-deflate
                                 compressed message) */
} wsc_frame_t;

/* Parses the frame at p[0..n): returns its whole size with *f set, 0 while
 * incomplete, or WSC_EMASKED. */
long wsc_frame_parse(const void *p, size_t n, wsc_frame_t *f);

/* Writes a masked client frame into out (len + 14 bytes suffice); returns
 * its size. */
size_t wsc_frame_write(uint8_t *out, int op, int fin, const uint8_t mask[4],
                       const void *data, size_t len);

/* Writes p[0..n) in base64url without padding at out (4 * n / 3 + 3 bytes
 * suffice), NUL ended; returns the length. */
size_t wsc_b64url(const void *p, size_t n, char *out);

/* Writes the HS256 ticket (JWT) of claims (a JSON object text) signed with
 * secret into out, NUL ended.  Returns its length, or WSC_ETOOBIG. */
int wsc_ticket(const void *secret, size_t secret_len, const char *claims,
               char *out, size_t cap);

/* The reading side of one connection whose bytes a caller's loop reads:
 * the answer's head, then whole frames, through one small buffer (a frame
 * must fit in it, header included). */
#define WSC_READER_CAP 1024
typedef struct {
  int upgraded;               /* the 101 was read */
  size_t len;
  uint8_t buf[WSC_READER_CAP];
} wsc_reader_t;

typedef void (*wsc_frame_cb)(void *arg, const wsc_frame_t *f);

/* Feeds n bytes read; calls cb for every whole frame (its data is valid
 * during the call).  Returns 0, or WSC_EREFUSED (an answer other than 101,
 * whose start stays in buf), WSC_EHEAD, WSC_EACCEPT, WSC_ETOOBIG (a head or
 * frame larger than the buffer) or WSC_EMASKED; the reader must not be fed
 * again after an error.  A zeroed reader is a fresh one. */
int wsc_reader_feed(wsc_reader_t *r, const void *p, size_t n, wsc_frame_cb cb,
                    void *arg);

/* ---- Blocking client ----------------------------------------------------- */

/* One connection to 127.0.0.1.  Reads wait at most 5 s each (the socket's
 * receive timeout) and, when deadline_ms is not 0, not past it (monotonic
 * milliseconds, wsc_now_ms()). */
typedef struct {
  int fd;
  uint8_t buf[1 << 17];       /* bytes read and not consumed */
  size_t len;
  int status;                 /* the upgrade answer's status */
  char body[256];             /* an error answer's body */
  uint64_t deadline_ms;
  void *ssl;                  /* the SSL * after wsc_tls: every read and
                                 write goes through it */
  int tls_notified;           /* the server's close_notify was read */
} wsc_t;

uint64_t wsc_now_ms(void);

/* A socket connected to 127.0.0.1:port with a 5 s receive timeout and, when
 * rcvbuf > 0, that SO_RCVBUF; -1 when the connection fails. */
int wsc_connect(int port, int rcvbuf);
/* Clears c and connects it: 0 or WSC_ECONNECT. */
int wsc_open(wsc_t *c, int port, int rcvbuf);
/* Sends the upgrade request of target (with extra header lines, or NULL)
 * and reads the answer's head.  A 101 is consumed; any other answer is
 * read to its end, its head left NUL ended in buf and its body copied into
 * body.  Returns the status, or a WSC_E* code. */
int wsc_handshake(wsc_t *c, const char *target, const char *extra);
/* TLS on c's open socket: OpenSSL's client handshake, without checking
 * the certificate (the tests' are self-signed).  Options: alpn, the
 * protocols offered in wire form ("\x08http/1.1"; NULL: none); min and
 * max, TLS1_x_VERSION or 0 (OpenSSL's defaults; below TLS 1.2 the
 * security level is lowered so that the client offers it at all);
 * ciphers and suites, the TLS 1.2 cipher list and the TLS 1.3 suites
 * offered (NULL: OpenSSL's); session, one to resume (SSL_SESSION *, NULL
 * for none).  Returns 0, or WSC_ETLS with OpenSSL's reason in body. */
typedef struct {
  const char *alpn;
  int min, max;
  const char *ciphers, *suites;
  void *session;
} wsc_tls_opts_t;
int wsc_tls(wsc_t *c, const wsc_tls_opts_t *o);
/* Writes n bytes as they are (through TLS after wsc_tls): 0 or WSC_ESEND. */
int wsc_write(wsc_t *c, const void *p, size_t n);

/* wsc_open, then wsc_handshake. */
int wsc_upgrade(wsc_t *c, int port, const char *target, const char *extra,
                int rcvbuf);
void wsc_close(wsc_t *c);

/* Reads more bytes into buf: returns the count, 0 at the end (with TLS:
 * the server's close_notify, tls_notified set, or EOF), or -1 (errno set;
 * ENOBUFS when buf is full, ETIMEDOUT past the deadline, ECONNRESET for
 * a reset or a TLS alert). */
ssize_t wsc_fill(wsc_t *c);
/* Drops the first n bytes of buf. */
void wsc_consume(wsc_t *c, size_t n);

/* Reads one server frame: returns its opcode with its payload in out (cut
 * to cap - 1 bytes, NUL ended) and its length in *len (unless NULL). */
int wsc_read_frame(wsc_t *c, char *out, size_t cap, size_t *len);
/* Reads frames until one that is not a ping: 0 for a text frame (in out),
 * WSC_EFRAME for any other. */
int wsc_read_text(wsc_t *c, char *out, size_t cap);
/* Reads frames until a close frame: returns its code (1005 without one),
 * its reason in reason (unless NULL). */
int wsc_read_close(wsc_t *c, char *reason, size_t cap);
/* Whether the server closes the connection (EOF or reset) before a read
 * times out; what comes first is discarded. */
int wsc_wait_eof(wsc_t *c);

/* Sends one masked frame: 0 or WSC_ESEND. */
int wsc_send_frame(wsc_t *c, int op, int fin, const void *data, size_t len);
int wsc_send_text(wsc_t *c, const char *text);

#endif /* C4J_WSCLIENT_H */
