/* test-tlsrec.c - tlsrec.c alone: records sealed by one side and opened
 * by the other for both versions and the three AEADs (in pieces, over
 * several records), forged, replayed and oversized records refused with
 * their alerts, TLS 1.3's padding and inner types, the key update; and
 * the keys from a real OpenSSL handshake in memory, against OpenSSL's own
 * record layer on the client's side (the secrets as the native port gets
 * them: logged for TLS 1.3, the master secret for TLS 1.2).
 */
#include <stdlib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "test.h"
#include "tlsrec.h"

static EVP_CIPHER_CTX *ctx;

/* The client's view of a server's r: the directions swapped. */
static void mirror(const c4j_tlsrec_t *r, c4j_tlsrec_t *m) {
  *m = *r;
  m->rd = r->wr;
  m->wr = r->rd;
}

static void pair13(int aead, int hash_len, c4j_tlsrec_t *s, c4j_tlsrec_t *c) {
  uint8_t cs[48], ss[48];
  for (int i = 0; i < 48; i++) cs[i] = (uint8_t)i, ss[i] = (uint8_t)(100 + i);
  CHECK_EQ(c4j_tlsrec_init13(s, aead, hash_len, cs, ss), 0);
  mirror(s, c);
}

static void pair12(int aead, int hash_len, c4j_tlsrec_t *s, c4j_tlsrec_t *c) {
  uint8_t master[48], cr[32], sr[32];
  memset(master, 7, sizeof(master));
  memset(cr, 1, sizeof(cr));
  memset(sr, 2, sizeof(sr));
  CHECK_EQ(c4j_tlsrec_init12(s, aead, hash_len, master, 48, cr, sr), 0);
  mirror(s, c);
}

/* Seals the pieces with `from` into buf; returns the bytes. */
static long seal(c4j_tlsrec_t *from, int type, const char *a, const char *b,
                 uint8_t *buf) {
  c4j_tlsrec_piece_t p[2] = { { (const uint8_t *)a, strlen(a) },
                              { (const uint8_t *)b, strlen(b) } };
  long n = c4j_tlsrec_seal(from, ctx, type, p, 2, buf);
  CHECK_EQ(n, (long long)c4j_tlsrec_sealed_len(from, p[0].n + p[1].n));
  return n;
}

TEST(round_trips) {
  static uint8_t buf[70000];
  static char big[40001];
  for (int v = 0; v < 2; v++)
    for (int aead = 1; aead <= 3; aead++) {
      c4j_tlsrec_t s, c;
      int hl = aead == C4J_TLSREC_AES_256_GCM ? 48 : 32, type;
      uint8_t *plain;
      long n, at = 0, got = 0;
      if (v) pair12(aead, hl, &s, &c);
      else pair13(aead, hl, &s, &c);
      n = seal(&s, C4J_TLS_APPDATA, "hello ", "world", buf);
      CHECK_EQ(c4j_tlsrec_record_len(&c, buf), n);
      CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain), 11);
      CHECK_EQ(type, C4J_TLS_APPDATA);
      CHECK(memcmp(plain, "hello world", 11) == 0);
      /* 50000 bytes in two pieces: four records, cut across the pieces. */
      memset(big, 'z', 40000);
      n = seal(&s, C4J_TLS_APPDATA, big, big + 30000, buf);
      CHECK_EQ(s.wr.seq, 5);
      while (at < n) {
        long len = c4j_tlsrec_record_len(&c, buf + at);
        long k = c4j_tlsrec_open(&c, ctx, buf + at, (size_t)len, &type, &plain);
        CHECK(k > 0 && k <= 16384 && plain[0] == 'z' && plain[k - 1] == 'z');
        got += k;
        at += len;
      }
      CHECK_EQ(got, 50000);
      CHECK_EQ(c.rd.seq, 5);
      /* Alerts keep their type (TLS 1.3: inside). */
      n = seal(&s, C4J_TLS_ALERT, "\x01", "", buf);
      CHECK_EQ(buf[0], v ? C4J_TLS_ALERT : C4J_TLS_APPDATA);
      CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain), 1);
      CHECK_EQ(type, C4J_TLS_ALERT);
      c4j_tlsrec_clear(&s);
      c4j_tlsrec_clear(&c);
    }
}

TEST(forged_replayed_oversized) {
  uint8_t buf[200], copy[200];
  for (int v = 0; v < 2; v++) {
    c4j_tlsrec_t s, c;
    uint8_t *plain;
    int type;
    long n;
    if (v) pair12(C4J_TLSREC_AES_128_GCM, 32, &s, &c);
    else pair13(C4J_TLSREC_CHACHA20_POLY1305, 32, &s, &c);
    n = seal(&s, C4J_TLS_APPDATA, "data", "", buf);
    memcpy(copy, buf, (size_t)n);
    buf[n - 1] ^= 1; /* the tag */
    CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain),
             -C4J_TLS_BAD_RECORD_MAC);
    c.rd.seq = 0;
    memcpy(buf, copy, (size_t)n);
    buf[8] ^= 0x40; /* the ciphertext */
    CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain),
             -C4J_TLS_BAD_RECORD_MAC);
    c.rd.seq = 0;
    memcpy(buf, copy, (size_t)n);
    CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain), 4);
    memcpy(buf, copy, (size_t)n); /* the same record again */
    CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain),
             -C4J_TLS_BAD_RECORD_MAC);
    /* Too short for a tag, a change_cipher_spec, too long. */
    memcpy(buf, "\x17\x03\x03\x00\x05" "abcde", 10);
    CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, 10, &type, &plain),
             -C4J_TLS_BAD_RECORD_MAC);
    memcpy(buf, "\x14\x03\x03\x00\x01\x01", 6);
    CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, 6, &type, &plain),
             -C4J_TLS_UNEXPECTED_MESSAGE);
    CHECK_EQ(c4j_tlsrec_record_len(&c, (const uint8_t *)"\x17\x03\x03\x41\x01"),
             v ? 5 + 0x4101 : -C4J_TLS_RECORD_OVERFLOW);
    CHECK_EQ(c4j_tlsrec_record_len(&c, (const uint8_t *)"\x17\x03\x03\x48\x01"),
             -C4J_TLS_RECORD_OVERFLOW);
  }
}

TEST(tls13_padding_and_inner_type) {
  c4j_tlsrec_t s, c;
  uint8_t buf[200], *plain;
  int type;
  long n;
  pair13(C4J_TLSREC_AES_128_GCM, 32, &s, &c);
  /* "abc", type 23, three zeros of padding, then the type our seal adds
   * (0, as if padding too). */
  c4j_tlsrec_piece_t p = { (const uint8_t *)"abc\x17\0\0\0", 7 };
  n = c4j_tlsrec_seal(&s, ctx, 0, &p, 1, buf);
  CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain), 3);
  CHECK_EQ(type, C4J_TLS_APPDATA);
  CHECK(memcmp(plain, "abc", 3) == 0);
  /* Nothing but zeros: no type at all. */
  p.p = (const uint8_t *)"\0\0";
  p.n = 2;
  n = c4j_tlsrec_seal(&s, ctx, 0, &p, 1, buf);
  CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain),
           -C4J_TLS_UNEXPECTED_MESSAGE);
}

TEST(key_update) {
  c4j_tlsrec_t s, c;
  uint8_t buf[200], copy[200], *plain;
  int type;
  long n;
  pair13(C4J_TLSREC_AES_256_GCM, 48, &s, &c);
  seal(&s, C4J_TLS_APPDATA, "x", "", buf);
  CHECK_EQ(c4j_tlsrec_update(&s, 1), 0);
  CHECK_EQ(s.wr.seq, 0);
  n = seal(&s, C4J_TLS_APPDATA, "after", "", buf);
  memcpy(copy, buf, (size_t)n);
  /* The reader still on the old key: refused (and the record, opened in
   * place, spoiled); updated: read. */
  CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain),
           -C4J_TLS_BAD_RECORD_MAC);
  memcpy(buf, copy, (size_t)n);
  CHECK_EQ(c4j_tlsrec_update(&c, 0), 0);
  CHECK_EQ(c4j_tlsrec_open(&c, ctx, buf, (size_t)n, &type, &plain), 5);
  /* TLS 1.2 has none. */
  pair12(C4J_TLSREC_AES_128_GCM, 32, &s, &c);
  CHECK_EQ(c4j_tlsrec_update(&s, 1), -1);
  /* Unknown ciphers and hashes. */
  CHECK_EQ(c4j_tlsrec_init13(&s, 9, 32, buf, buf), -1);
  CHECK_EQ(c4j_tlsrec_init13(&s, 1, 20, buf, buf), -1);
}

/* ---- Against OpenSSL's record layer ----------------------------------------- */

static uint8_t logged[2][48];
static int logged_len[2];

static void keylog(const SSL *s, const char *line) {
  int which = strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0   ? 0
              : strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0 ? 1
                                                                   : -1;
  const char *h = which >= 0 ? strchr(line + 24, ' ') + 1 : NULL;
  int n = 0;
  if (h == NULL) return;
  while (h[0] && h[1] && n < 48) {
    sscanf(h, "%2hhx", &logged[which][n++]);
    h += 2;
  }
  logged_len[which] = n;
}

static void move(BIO *from, BIO *to) {
  char b[16384];
  int n;
  while ((n = BIO_read(from, b, sizeof(b))) > 0) BIO_write(to, b, n);
}

TEST(keys_from_an_openssl_handshake) {
  static const char *suites[6] = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"
  };
  EVP_PKEY *k = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509_set_pubkey(x, k);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_sign(x, k, EVP_sha256());
  for (int i = 0; i < 6; i++) {
    SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
    SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
    SSL *s, *c;
    BIO *si = BIO_new(BIO_s_mem()), *so = BIO_new(BIO_s_mem());
    BIO *ci = BIO_new(BIO_s_mem()), *co = BIO_new(BIO_s_mem());
    c4j_tlsrec_t r;
    uint8_t buf[512], *plain;
    char got[64];
    int type, rc = -1, tls13 = i < 3;
    long n;
    SSL_CTX_use_certificate(sc, x);
    SSL_CTX_use_PrivateKey(sc, k);
    SSL_CTX_set_keylog_callback(sc, keylog);
    SSL_CTX_set_num_tickets(sc, 0);
    if (tls13) SSL_CTX_set_ciphersuites(cc, suites[i]);
    else {
      SSL_CTX_set_max_proto_version(cc, TLS1_2_VERSION);
      SSL_CTX_set_cipher_list(cc, suites[i]);
    }
    s = SSL_new(sc);
    c = SSL_new(cc);
    SSL_set_bio(s, si, so);
    SSL_set_bio(c, ci, co);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    for (int step = 0; step < 10 && rc != 1; step++) {
      SSL_do_handshake(c);
      move(co, si);
      rc = SSL_do_handshake(s);
      move(so, ci);
    }
    CHECK_EQ(rc, 1);
    SSL_do_handshake(c);
    const SSL_CIPHER *sc2 = SSL_get_current_cipher(s);
    int nid = SSL_CIPHER_get_cipher_nid(sc2);
    int aead = nid == NID_aes_128_gcm ? 1 : nid == NID_aes_256_gcm ? 2 : 3;
    int hl = EVP_MD_get_size(SSL_CIPHER_get_handshake_digest(sc2));
    if (tls13) {
      CHECK(logged_len[0] == hl && logged_len[1] == hl);
      CHECK_EQ(c4j_tlsrec_init13(&r, aead, hl, logged[0], logged[1]), 0);
    } else {
      uint8_t m[48], cr[32], sr[32];
      size_t ml = SSL_SESSION_get_master_key(SSL_get_session(s), m, 48);
      SSL_get_client_random(s, cr, 32);
      SSL_get_server_random(s, sr, 32);
      CHECK_EQ(c4j_tlsrec_init12(&r, aead, hl, m, ml, cr, sr), 0);
      r.rd.seq = r.wr.seq = 1; /* after the Finished messages */
    }
    /* The client's record, opened here. */
    CHECK(SSL_write(c, "from openssl", 12) == 12);
    n = BIO_read(co, buf, sizeof(buf));
    CHECK_EQ(c4j_tlsrec_open(&r, ctx, buf, (size_t)n, &type, &plain), 12);
    CHECK(type == C4J_TLS_APPDATA && memcmp(plain, "from openssl", 12) == 0);
    /* Ours, read by OpenSSL. */
    n = seal(&r, C4J_TLS_APPDATA, "from ", "tlsrec", buf);
    BIO_write(ci, buf, (int)n);
    CHECK_EQ(SSL_read(c, got, sizeof(got)), 11);
    CHECK(memcmp(got, "from tlsrec", 11) == 0);
    SSL_free(s);
    SSL_free(c);
    SSL_CTX_free(sc);
    SSL_CTX_free(cc);
  }
  X509_free(x);
  EVP_PKEY_free(k);
}

TEST(begin) { ctx = EVP_CIPHER_CTX_new(); }
TEST(end) { EVP_CIPHER_CTX_free(ctx); }

TEST_MAIN(T(begin), T(round_trips), T(forged_replayed_oversized),
          T(tls13_padding_and_inner_type), T(key_update),
          T(keys_from_an_openssl_handshake), T(end))
