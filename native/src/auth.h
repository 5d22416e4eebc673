/* auth.h - handshake tickets: HS256 JWTs (RFC 7519) signed and checked with
 * OpenSSL's HMAC-SHA256, claims read with jansson.  The clock comes in as an
 * argument so that tests decide what "now" is.
 */
#ifndef C4J_AUTH_H
#define C4J_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include "c4j.h"

/* What a valid ticket grants.  Channel names point into `buf`. */
typedef struct {
  char cid[C4J_MAX_ID + 1];
  char user[C4J_MAX_USER + 1];   /* "" when the ticket has no "sub" */
  int64_t exp;                   /* seconds since the epoch */
  int nchannels;
  const char *channels[C4J_MAX_CHANNELS];
  char buf[C4J_MAX_CHANNELS * (C4J_MAX_CHANNEL + 1)];
} c4j_ticket_t;

/* Signs claims (a JSON object, checked) into header.payload.signature in
 * out, NUL ended.  Returns the token length, C4J_EBADJSON, C4J_ETOOBIG
 * (out too small, or a token over the 8 KiB that verify accepts), or
 * C4J_ENOMEM if OpenSSL fails. */
int c4j_auth_sign(const uint8_t *key, size_t key_len, const char *claims,
                  size_t claims_len, char *out, size_t cap);

/* Verifies a token: three base64url parts, header {"alg":"HS256"} (no other
 * alg, no "none"), a signature compared in constant time, "exp" present and
 * greater than now_s, "cid" a string of 1..C4J_MAX_ID URL-safe characters,
 * optional "sub" string of at most C4J_MAX_USER bytes, optional "ch" array
 * of at most C4J_MAX_CHANNELS valid channel names.  Tokens over 8 KiB,
 * duplicate JSON keys and header fields other than "alg" and "typ": "JWT"
 * are refused.  Returns 0 and fills t; C4J_ETICKETEXP when only the expiry
 * fails, with t filled too (the core still honours an expired ticket whose
 * connection id it holds); else C4J_ETICKET with t zeroed. */
int c4j_auth_verify(const uint8_t *key, size_t key_len, const char *token,
                    size_t token_len, int64_t now_s, c4j_ticket_t *t);

/* Whether name is a valid channel name: 1..C4J_MAX_CHANNEL bytes of
 * printable ASCII other than space, quote and backslash. */
int c4j_channel_name_ok(const char *name, size_t len);

/* base64url without padding.  encode returns the length written (out needs
 * 4*ceil(n/3)+1); decode returns the length, or -1 on bad input (padding,
 * a character outside the alphabet, nonzero unused bits) or if it does not
 * fit in cap. */
size_t c4j_b64url_encode(const uint8_t *in, size_t n, char *out);
long c4j_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif /* C4J_AUTH_H */
