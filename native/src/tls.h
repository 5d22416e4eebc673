/* tls.h - TLS on the native port (tls.c): the server context the engine
 * makes from its PEM files, and the TLS of each connection accepted on
 * the port, for conn.c (the read and flush paths) and worker.c.  Sockets
 * handed over by another server (c4j_adopt) never speak TLS here.
 */
#ifndef C4J_TLS_H
#define C4J_TLS_H

#include <openssl/types.h>

#include "conn.h"

/* ---- The context (the engine's, replaced by c4j_tls_reload) -------------- */

/* A server context from the PEM files cert (the certificate, then any
 * chain) and key: TLS 1.2 and 1.3 with AEAD suites only, ALPN http/1.1,
 * stateless session tickets (no session cache).  Returns it, or NULL
 * with c4j_config_error() naming the field and why ("tls_key: cannot read
 * /x: Permission denied", "tls_cert: not a PEM certificate: /x",
 * "tls_key: does not match the certificate in tls_cert: /k"). */
SSL_CTX *c4j__tls_ctx_new(const char *cert, const char *key);
void c4j__tls_ctx_free(SSL_CTX *ctx);

/* ---- A connection -------------------------------------------------------- */

/* Starts the server side of a handshake on c with the engine's context
 * (taken under its lock: a reload may swap it meanwhile).  Returns 0, or
 * -1 when out of memory (c unchanged). */
int c4j__tls_start(c4j__conn_t *c);
/* Bytes read from c's socket (data is the worker's read buffer, opened
 * in place): the handshake's, then records whose plaintext goes to
 * c4j__conn_bytes as a plain socket's bytes would. */
void c4j__tls_read(c4j__conn_t *c, uint8_t *data, size_t n);
/* Writes what c has for its peer: the handshake's and the alerts' bytes,
 * then (unless hold: a body being read, a poll waiting) the output ring
 * sealed into records (one ciphertext buffer per round, the plaintext
 * buffers dropped once sealed).  Returns 0 when everything is written, 1
 * while a write is in flight, -1 when c was aborted. */
int c4j__tls_flush(c4j__conn_t *c, int hold);
/* Before FIN (or a close after an answer): queues close_notify once.
 * Returns 1 when it did (flush again), 0 when there is none to send. */
int c4j__tls_close_notify(c4j__conn_t *c);
/* Frees c's TLS state (from the close callback). */
void c4j__tls_free(c4j__conn_t *c);

/* Frees the worker's cipher context (at the worker's end). */
void c4j__tls_worker_free(c4j__worker_t *w);

#endif /* C4J_TLS_H */
