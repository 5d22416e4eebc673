/* tlsrec.c - TLS 1.2 and 1.3 record protection with AEAD ciphers, after a
 * handshake done elsewhere (tlsrec.h): the traffic keys (HKDF-Expand-Label
 * for TLS 1.3, the PRF's key block for TLS 1.2, both OpenSSL's KDFs),
 * records sealed from pieces of plaintext, records opened in place, the
 * TLS 1.3 key update.  The ciphers and KDFs are fetched once per process.
 */
#include <pthread.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "tlsrec.h"

#define TAG 16
#define NONCE 12
#define EXPLICIT 8 /* TLS 1.2 AES-GCM: the nonce's part carried in a record */

/* ---- What is fetched once --------------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *ciphers[4];
static EVP_KDF *hkdf, *prf;

static void fetch(void) {
  ciphers[C4J_TLSREC_AES_128_GCM] = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  ciphers[C4J_TLSREC_AES_256_GCM] = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  ciphers[C4J_TLSREC_CHACHA20_POLY1305] =
      EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
  hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
}

static const EVP_CIPHER *cipher(int aead) {
  pthread_once(&once, fetch);
  return aead >= 1 && aead <= 3 ? ciphers[aead] : NULL;
}

/* Keys ctx for c: a context that has c already keeps its provider state
 * (given the cipher again, OpenSSL frees and makes it anew). */
static int rekey(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *c, const uint8_t *key,
                 const uint8_t *iv, int enc) {
  if (c == NULL) return 0;
  return EVP_CipherInit_ex2(ctx, EVP_CIPHER_CTX_get0_cipher(ctx) == c ? NULL : c,
                            key, iv, enc, NULL) == 1;
}

static size_t key_len(int aead) {
  return aead == C4J_TLSREC_AES_128_GCM ? 16 : 32;
}

static const char *digest(int hash_len) {
  return hash_len == 48 ? "SHA384" : "SHA256";
}

static int valid(int aead, int hash_len) {
  return aead >= 1 && aead <= 3 && (hash_len == 32 || hash_len == 48) &&
         cipher(aead) != NULL && hkdf != NULL && prf != NULL;
}

/* ---- Keys ---------------------------------------------------------------------- */

/* HKDF-Expand-Label(secret, label, "", n) of RFC 8446 section 7.1. */
static int expand_label(int hash_len, const uint8_t *secret,
                        const char *label, uint8_t *out, size_t n) {
  uint8_t info[4 + 6 + 32];
  size_t ll = strlen(label), len = 0;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, rc;
  EVP_KDF_CTX *k;
  OSSL_PARAM p[5];
  info[len++] = (uint8_t)(n >> 8);
  info[len++] = (uint8_t)n;
  info[len++] = (uint8_t)(6 + ll);
  memcpy(info + len, "tls13 ", 6);
  memcpy(info + len + 6, label, ll);
  len += 6 + ll;
  info[len++] = 0; /* no context */
  if ((k = EVP_KDF_CTX_new(hkdf)) == NULL) return -1;
  p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                          (char *)digest(hash_len), 0);
  p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                           (void *)secret, (size_t)hash_len);
  p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, len);
  p[4] = OSSL_PARAM_construct_end();
  rc = EVP_KDF_derive(k, out, n, p) == 1 ? 0 : -1;
  EVP_KDF_CTX_free(k);
  return rc;
}

/* The key and IV of one TLS 1.3 direction from its secret. */
static int keys13(const c4j_tlsrec_t *r, c4j_tlsrec_keys_t *d) {
  d->seq = 0;
  if (expand_label(r->hash_len, d->secret, "key", d->key, key_len(r->aead)) ||
      expand_label(r->hash_len, d->secret, "iv", d->iv, NONCE))
    return -1;
  return 0;
}

int c4j_tlsrec_init13(c4j_tlsrec_t *r, int aead, int hash_len,
                      const uint8_t *client_secret,
                      const uint8_t *server_secret) {
  memset(r, 0, sizeof(*r));
  if (!valid(aead, hash_len)) return -1;
  r->version = C4J_TLS13;
  r->aead = (uint8_t)aead;
  r->hash_len = (uint8_t)hash_len;
  memcpy(r->rd.secret, client_secret, (size_t)hash_len);
  memcpy(r->wr.secret, server_secret, (size_t)hash_len);
  if (keys13(r, &r->rd) || keys13(r, &r->wr)) {
    c4j_tlsrec_clear(r);
    return -1;
  }
  return 0;
}

int c4j_tlsrec_init12(c4j_tlsrec_t *r, int aead, int hash_len,
                      const uint8_t *master, size_t master_len,
                      const uint8_t client_random[32],
                      const uint8_t server_random[32]) {
  uint8_t seed[13 + 64], block[2 * 32 + 2 * 12];
  size_t kl = key_len(aead), il = aead == C4J_TLSREC_CHACHA20_POLY1305 ? 12 : 4;
  EVP_KDF_CTX *k;
  OSSL_PARAM p[4];
  int rc;
  memset(r, 0, sizeof(*r));
  if (!valid(aead, hash_len) || master_len == 0 || master_len > 64) return -1;
  r->version = C4J_TLS12;
  r->aead = (uint8_t)aead;
  r->hash_len = (uint8_t)hash_len;
  memcpy(seed, "key expansion", 13);
  memcpy(seed + 13, server_random, 32);
  memcpy(seed + 45, client_random, 32);
  if ((k = EVP_KDF_CTX_new(prf)) == NULL) return -1;
  p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                          (char *)digest(hash_len), 0);
  p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                           (void *)master, master_len);
  p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed,
                                           sizeof(seed));
  p[3] = OSSL_PARAM_construct_end();
  rc = EVP_KDF_derive(k, block, 2 * kl + 2 * il, p) == 1 ? 0 : -1;
  EVP_KDF_CTX_free(k);
  if (rc == 0) {
    /* client key, server key, client IV, server IV (no MAC keys). */
    memcpy(r->rd.key, block, kl);
    memcpy(r->wr.key, block + kl, kl);
    memcpy(r->rd.iv, block + 2 * kl, il);
    memcpy(r->wr.iv, block + 2 * kl + il, il);
  } else {
    c4j_tlsrec_clear(r);
  }
  OPENSSL_cleanse(block, sizeof(block));
  return rc;
}

void c4j_tlsrec_clear(c4j_tlsrec_t *r) { OPENSSL_cleanse(r, sizeof(*r)); }

int c4j_tlsrec_update(c4j_tlsrec_t *r, int write) {
  c4j_tlsrec_keys_t *d = write ? &r->wr : &r->rd;
  uint8_t next[48];
  if (r->version != C4J_TLS13 ||
      expand_label(r->hash_len, d->secret, "traffic upd", next, r->hash_len))
    return -1;
  memcpy(d->secret, next, r->hash_len);
  OPENSSL_cleanse(next, sizeof(next));
  return keys13(r, d);
}

/* ---- Records ------------------------------------------------------------------- */

/* The bytes a record adds to its plaintext, header included. */
static size_t overhead(const c4j_tlsrec_t *r) {
  if (r->version == C4J_TLS13) return C4J_TLSREC_HEADER + 1 + TAG;
  if (r->aead == C4J_TLSREC_CHACHA20_POLY1305) return C4J_TLSREC_HEADER + TAG;
  return C4J_TLSREC_HEADER + EXPLICIT + TAG;
}

size_t c4j_tlsrec_sealed_len(const c4j_tlsrec_t *r, size_t n) {
  size_t records = (n + C4J_TLSREC_MAX_PLAIN - 1) / C4J_TLSREC_MAX_PLAIN;
  return n + records * overhead(r);
}

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* The per-record nonce: the IV with the sequence number xored into its
 * last 8 bytes (TLS 1.3, TLS 1.2 ChaCha20), or the salt and the explicit
 * part (TLS 1.2 AES-GCM, whose explicit part is the sequence number). */
static void nonce(const c4j_tlsrec_t *r, const c4j_tlsrec_keys_t *d,
                  const uint8_t *explicit_part, uint8_t out[NONCE]) {
  if (r->version == C4J_TLS12 && r->aead != C4J_TLSREC_CHACHA20_POLY1305) {
    memcpy(out, d->iv, 4);
    memcpy(out + 4, explicit_part, EXPLICIT);
    return;
  }
  uint8_t s[8];
  put64(s, d->seq);
  memcpy(out, d->iv, NONCE);
  for (int i = 0; i < 8; i++) out[4 + i] ^= s[i];
}

/* TLS 1.2's additional data: seq, type, version, plaintext length. */
static void aad12(uint64_t seq, int type, size_t len, uint8_t out[13]) {
  put64(out, seq);
  out[8] = (uint8_t)type;
  out[9] = 3;
  out[10] = 3;
  out[11] = (uint8_t)(len >> 8);
  out[12] = (uint8_t)len;
}

long c4j_tlsrec_seal(c4j_tlsrec_t *r, EVP_CIPHER_CTX *ctx, int type,
                     const c4j_tlsrec_piece_t *pieces, unsigned n,
                     uint8_t *out) {
  const EVP_CIPHER *c = cipher(r->aead);
  size_t left = 0, off = 0;
  unsigned i = 0;
  uint8_t *o = out;
  int ol;
  for (unsigned k = 0; k < n; k++) left += pieces[k].n;
  if (left == 0) return 0;
  if (!rekey(ctx, c, r->wr.key, NULL, 1)) return -1;
  while (left > 0) {
    size_t len = left < C4J_TLSREC_MAX_PLAIN ? left : C4J_TLSREC_MAX_PLAIN;
    size_t clen = c4j_tlsrec_sealed_len(r, len) - C4J_TLSREC_HEADER;
    uint8_t iv[NONCE], aad[13], *q = o + C4J_TLSREC_HEADER;
    uint8_t inner = (uint8_t)type;
    o[0] = r->version == C4J_TLS13 ? C4J_TLS_APPDATA : (uint8_t)type;
    o[1] = 3;
    o[2] = 3;
    o[3] = (uint8_t)(clen >> 8);
    o[4] = (uint8_t)clen;
    if (r->version == C4J_TLS12 && r->aead != C4J_TLSREC_CHACHA20_POLY1305) {
      put64(q, r->wr.seq);
      q += EXPLICIT;
    }
    nonce(r, &r->wr, o + C4J_TLSREC_HEADER, iv);
    if (EVP_CipherInit_ex2(ctx, NULL, NULL, iv, 1, NULL) != 1) return -1;
    if (r->version == C4J_TLS13) {
      if (EVP_EncryptUpdate(ctx, NULL, &ol, o, C4J_TLSREC_HEADER) != 1)
        return -1;
    } else {
      aad12(r->wr.seq, type, len, aad);
      if (EVP_EncryptUpdate(ctx, NULL, &ol, aad, sizeof(aad)) != 1) return -1;
    }
    for (size_t want = len; want > 0;) {
      size_t k = pieces[i].n - off < want ? pieces[i].n - off : want;
      if (k > 0) {
        if (EVP_EncryptUpdate(ctx, q, &ol, pieces[i].p + off, (int)k) != 1)
          return -1;
        q += ol;
      }
      want -= k;
      off += k;
      if (off == pieces[i].n) {
        i++;
        off = 0;
      }
    }
    if (r->version == C4J_TLS13) {
      if (EVP_EncryptUpdate(ctx, q, &ol, &inner, 1) != 1) return -1;
      q += ol;
    }
    if (EVP_EncryptFinal_ex(ctx, q, &ol) != 1) return -1;
    q += ol;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG, q) != 1)
      return -1;
    q += TAG;
    r->wr.seq++;
    left -= len;
    o = q;
  }
  return (long)(o - out);
}

long c4j_tlsrec_record_len(const c4j_tlsrec_t *r, const uint8_t *hdr) {
  size_t body = (size_t)hdr[3] << 8 | hdr[4];
  size_t max = r->version == C4J_TLS13 ? C4J_TLSREC_MAX_PLAIN + 256
                                       : C4J_TLSREC_MAX_PLAIN + 2048;
  if (body > max) return -C4J_TLS_RECORD_OVERFLOW;
  return (long)(C4J_TLSREC_HEADER + body);
}

long c4j_tlsrec_open(c4j_tlsrec_t *r, EVP_CIPHER_CTX *ctx, uint8_t *rec,
                     size_t len, int *type, uint8_t **plain) {
  const EVP_CIPHER *c = cipher(r->aead);
  int t = rec[0], ol;
  size_t body = len - C4J_TLSREC_HEADER, skip = 0, plen;
  uint8_t iv[NONCE], aad[13], *p;
  if (len < C4J_TLSREC_HEADER || c4j_tlsrec_record_len(r, rec) != (long)len)
    return -C4J_TLS_RECORD_OVERFLOW;
  if (rec[1] != 3) return -C4J_TLS_UNEXPECTED_MESSAGE;
  if (r->version == C4J_TLS13 ? t != C4J_TLS_APPDATA
                              : t < C4J_TLS_ALERT || t > C4J_TLS_APPDATA)
    return -C4J_TLS_UNEXPECTED_MESSAGE; /* a change_cipher_spec included */
  if (r->version == C4J_TLS12 && r->aead != C4J_TLSREC_CHACHA20_POLY1305)
    skip = EXPLICIT;
  if (body < skip + TAG + (r->version == C4J_TLS13))
    return -C4J_TLS_BAD_RECORD_MAC;
  plen = body - skip - TAG;
  p = rec + C4J_TLSREC_HEADER + skip;
  nonce(r, &r->rd, rec + C4J_TLSREC_HEADER, iv);
  if (!rekey(ctx, c, r->rd.key, iv, 0)) return -C4J_TLS_INTERNAL_ERROR;
  if (r->version == C4J_TLS13) {
    if (EVP_DecryptUpdate(ctx, NULL, &ol, rec, C4J_TLSREC_HEADER) != 1)
      return -C4J_TLS_INTERNAL_ERROR;
  } else {
    aad12(r->rd.seq, t, plen, aad);
    if (EVP_DecryptUpdate(ctx, NULL, &ol, aad, sizeof(aad)) != 1)
      return -C4J_TLS_INTERNAL_ERROR;
  }
  if ((plen > 0 && EVP_DecryptUpdate(ctx, p, &ol, p, (int)plen) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG, p + plen) != 1)
    return -C4J_TLS_INTERNAL_ERROR;
  if (EVP_DecryptFinal_ex(ctx, p + plen, &ol) != 1)
    return -C4J_TLS_BAD_RECORD_MAC;
  r->rd.seq++;
  if (r->version == C4J_TLS13) {
    /* The inner type is the last byte that is not padding. */
    while (plen > 0 && p[plen - 1] == 0) plen--;
    if (plen == 0) return -C4J_TLS_UNEXPECTED_MESSAGE;
    t = p[--plen];
  }
  if (plen > C4J_TLSREC_MAX_PLAIN) return -C4J_TLS_RECORD_OVERFLOW;
  *type = t;
  *plain = p;
  return (long)plen;
}
