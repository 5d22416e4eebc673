/* fuzz-tlsrec.c - libFuzzer target: raw bytes as TLS records into
 * c4j_tlsrec_open (the first byte picks the version and the AEAD), then
 * the same bytes sealed and opened again, which must give them back. */
#include "tlsrec.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static EVP_CIPHER_CTX *ctx;
  static uint8_t rec[C4J_TLSREC_HEADER + C4J_TLSREC_MAX_PLAIN + 2048];
  static uint8_t sealed[2 * 70000];
  static const uint8_t secret[48] = { 1, 2, 3 }, other[48] = { 9 };
  c4j_tlsrec_t s, c;
  uint8_t cr[32] = { 4 }, sr[32] = { 5 }, *plain;
  int aead, type;
  size_t at = 1;
  if (size < 1 || size > 65536) return 0;
  if (ctx == NULL) ctx = EVP_CIPHER_CTX_new();
  aead = 1 + (data[0] & 3) % 3;
#define INIT()                                                               \
  do {                                                                       \
    if (data[0] & 4)                                                         \
      c4j_tlsrec_init12(&s, aead, aead == 2 ? 48 : 32, secret, 48, cr, sr);  \
    else                                                                     \
      c4j_tlsrec_init13(&s, aead, aead == 2 ? 48 : 32, secret, other);       \
    c = s;                                                                   \
    c.rd = s.wr;                                                             \
    c.wr = s.rd;                                                             \
  } while (0)
  INIT();
  /* Records as a peer might send them: cut by their headers. */
  while (at + C4J_TLSREC_HEADER <= size) {
    long len = c4j_tlsrec_record_len(&s, data + at);
    if (len < 0 || (size_t)len > size - at) break;
    memcpy(rec, data + at, (size_t)len);
    c4j_tlsrec_open(&s, ctx, rec, (size_t)len, &type, &plain);
    at += (size_t)len;
  }
  /* A round trip of the whole input, with fresh keys. */
  INIT();
  c4j_tlsrec_piece_t p = { data + 1, size - 1 };
  long n = c4j_tlsrec_seal(&c, ctx, C4J_TLS_APPDATA, &p, 1, sealed);
  size_t got = 0;
  for (long o = 0; n > 0 && o < n;) {
    long len = c4j_tlsrec_record_len(&s, sealed + o);
    long k = c4j_tlsrec_open(&s, ctx, sealed + o, (size_t)len, &type, &plain);
    if (k < 0 || type != C4J_TLS_APPDATA ||
        memcmp(plain, data + 1 + got, (size_t)k) != 0)
      abort();
    got += (size_t)k;
    o += len;
  }
  if (got != size - 1) abort();
  return 0;
}
