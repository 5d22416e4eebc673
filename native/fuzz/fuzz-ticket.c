/* fuzz-ticket.c - libFuzzer target: the ticket verifier (auth.c) past its
 * signature.  fuzz-auth.c feeds raw tokens, which almost never carry a
 * valid HMAC; here the fuzzer's bytes become the parts of a token that is
 * then signed with the key, so that c4j_auth_verify reaches the header
 * check, the base64url of the payload and the claims with arbitrary JSON.
 *
 * The first byte picks how the rest makes a token:
 *   'c' (and any byte not below): the rest is the claims JSON, under the
 *       standard header, signed; also signed by c4j_auth_sign, which must
 *       give the same token whenever it accepts the claims
 *   'h' header JSON, a '\n', claims JSON: both encoded, signed
 *   'p' the rest is the payload part as sent (base64url text or not),
 *       under the standard header, signed
 *   't' the rest is the whole token, as is (no signing)
 * What verify accepts must hold what auth.h promises (an id of 1 to 64
 * URL-safe characters, valid channel names, a user of at most 256
 * bytes); a breach aborts, so that libFuzzer keeps the input.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MAX_TOKEN 8192 /* what verify accepts (auth.c) */

static const uint8_t key[] = "fuzz-secret-0123456789";
static const char std_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const int64_t now_s = 1700000000;

/* Appends ".<signature>" to the n bytes of token (room for 45 more). */
static size_t sign_tail(char *token, size_t n) {
  uint8_t mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key, (int)sizeof(key) - 1, (const uint8_t *)token, n,
       mac, &mac_len);
  token[n++] = '.';
  return n + c4j_b64url_encode(mac, 32, token + n);
}

/* base64url(header) "." base64url(claims), or claims as is (raw). */
static size_t build(char *out, const char *h, size_t hn, const char *c,
                    size_t cn, int raw) {
  size_t n = c4j_b64url_encode((const uint8_t *)h, hn, out);
  out[n++] = '.';
  if (raw) {
    memcpy(out + n, c, cn);
    n += cn;
  } else {
    n += c4j_b64url_encode((const uint8_t *)c, cn, out + n);
  }
  return sign_tail(out, n);
}

static int id_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* What auth.h promises of a ticket that verify filled. */
static void check(const c4j_ticket_t *t) {
  size_t n = strnlen(t->cid, sizeof(t->cid));
  if (n == 0 || n > C4J_MAX_ID) abort();
  for (size_t i = 0; i < n; i++)
    if (!id_char_ok(t->cid[i])) abort();
  if (strnlen(t->user, sizeof(t->user)) > C4J_MAX_USER) abort();
  if (t->nchannels < 0 || t->nchannels > C4J_MAX_CHANNELS) abort();
  for (int i = 0; i < t->nchannels; i++)
    if (!c4j_channel_name_ok(t->channels[i], strlen(t->channels[i])))
      abort();
}

/* Whether verify accepted the token (expired or not). */
static int verify(const char *token, size_t n) {
  static c4j_ticket_t t;
  int rc = c4j_auth_verify(key, sizeof(key) - 1, token, n, now_s, &t);
  if (rc == 0 || rc == C4J_ETICKETEXP) {
    check(&t);
    if ((rc == 0) != (t.exp > now_s)) abort();
    return 1;
  }
  if (rc != C4J_ETICKET || t.cid[0] != '\0' || t.nchannels != 0)
    abort(); /* a refusal leaves t zeroed */
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Parts of up to MAX_TOKEN bytes grow by a third in base64url. */
  static char token[2 * MAX_TOKEN + 128], signed_by_core[2 * MAX_TOKEN + 128];
  const char *s = (const char *)data + 1;
  size_t n = size ? size - 1 : 0, len;
  if (size < 1 || n > MAX_TOKEN) return 0;
  switch (data[0]) {
  case 't':
    verify(s, n);
    return 0;
  case 'p':
    len = build(token, std_header, sizeof(std_header) - 1, s, n, 1);
    break;
  case 'h': {
    const char *nl = memchr(s, '\n', n);
    size_t hn = nl ? (size_t)(nl - s) : n;
    len = build(token, s, hn, nl ? nl + 1 : "", nl ? n - hn - 1 : 0, 0);
    break;
  }
  default: {
    int rc;
    len = build(token, std_header, sizeof(std_header) - 1, s, n, 0);
    /* c4j_auth_sign writes the same header (in its base64url form), and
     * signs whatever verify accepts. */
    rc = c4j_auth_sign(key, sizeof(key) - 1, s, n, signed_by_core,
                       sizeof(signed_by_core));
    if (rc > 0 && ((size_t)rc != len || memcmp(signed_by_core, token, len)))
      abort();
    if (rc <= 0 && rc != C4J_EBADJSON && rc != C4J_ETOOBIG) abort();
    if (verify(token, len) && rc <= 0) abort();
    return 0;
  }
  }
  verify(token, len);
  return 0;
}
