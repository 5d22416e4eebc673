/* tlsrec.h - TLS 1.2 and TLS 1.3 records once the handshake is done: the
 * traffic keys from the handshake's secrets, sealing plaintext into
 * records, opening a record in place, and the TLS 1.3 key update; for the
 * AEAD ciphers alone (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305: the
 * only ones the native port's context offers, tls.c).  No I/O and no
 * OpenSSL connection state: a connection keeps this struct (keys, IVs,
 * sequence numbers, ~210 bytes) instead of an SSL object, and every call
 * runs on a cipher context the caller lends (one per worker), keyed for
 * the call.  The handshake is OpenSSL's (tls.c), which hands over the
 * secrets it logged and the sequence numbers it reached.
 *
 * Functions return >= 0 on success.  c4j_tlsrec_open and
 * c4j_tlsrec_record_len return a negative TLS alert description
 * (-C4J_TLS_BAD_RECORD_MAC, ...) that the caller sends before closing;
 * the others return -1 when OpenSSL fails (out of memory).
 */
#ifndef C4J_TLSREC_H
#define C4J_TLSREC_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>

#define C4J_TLS12 0x0303
#define C4J_TLS13 0x0304

#define C4J_TLSREC_HEADER 5u         /* type, version, length */
#define C4J_TLSREC_MAX_PLAIN 16384u  /* plaintext bytes in one record */
/* Records a TLS 1.3 write key seals before it is updated (AES-GCM's
 * limit, RFC 8446 section 5.5, is 2^24.5 full-size records). */
#define C4J_TLSREC_KEY_LIMIT (1ull << 24)

enum {
  C4J_TLSREC_AES_128_GCM = 1,
  C4J_TLSREC_AES_256_GCM = 2,
  C4J_TLSREC_CHACHA20_POLY1305 = 3
};

/* Content types. */
enum {
  C4J_TLS_CCS = 20,
  C4J_TLS_ALERT = 21,
  C4J_TLS_HANDSHAKE = 22,
  C4J_TLS_APPDATA = 23
};

/* Alert descriptions the core sends or reads. */
enum {
  C4J_TLS_CLOSE_NOTIFY = 0,
  C4J_TLS_UNEXPECTED_MESSAGE = 10,
  C4J_TLS_BAD_RECORD_MAC = 20,
  C4J_TLS_RECORD_OVERFLOW = 22,
  C4J_TLS_DECODE_ERROR = 50,
  C4J_TLS_INTERNAL_ERROR = 80,
  C4J_TLS_USER_CANCELED = 90,
  C4J_TLS_NO_RENEGOTIATION = 100
};

/* One direction: `secret` is TLS 1.3's traffic secret (hash_len bytes,
 * kept for the key update), `key` and `iv` what the cipher uses (TLS 1.2
 * with AES-GCM: the 4-byte implicit salt in iv), `seq` the next record's
 * sequence number. */
typedef struct {
  uint8_t secret[48];
  uint8_t key[32];
  uint8_t iv[12];
  uint64_t seq;
} c4j_tlsrec_keys_t;

/* The server's side of a connection: `rd` opens what the client sends,
 * `wr` seals what the server sends. */
typedef struct {
  uint16_t version;   /* C4J_TLS12 or C4J_TLS13 */
  uint8_t aead;       /* C4J_TLSREC_* */
  uint8_t hash_len;   /* of the suite's hash: 32 (SHA-256) or 48 */
  c4j_tlsrec_keys_t rd, wr;
} c4j_tlsrec_t;

/* A piece of the plaintext to seal (the shared frames of an output
 * ring are sealed where they are, without a copy). */
typedef struct {
  const uint8_t *p;
  size_t n;
} c4j_tlsrec_piece_t;

/* TLS 1.3: the keys of both directions from the client's and the server's
 * application traffic secrets (hash_len bytes each), with sequence
 * numbers 0.  Returns 0, or -1 (bad arguments, OpenSSL failed). */
int c4j_tlsrec_init13(c4j_tlsrec_t *r, int aead, int hash_len,
                      const uint8_t *client_secret,
                      const uint8_t *server_secret);
/* TLS 1.2: the keys of both directions from the master secret and the
 * hello randoms (the key block of RFC 5246 section 6.3, with the suite's
 * PRF hash), with sequence numbers 0. */
int c4j_tlsrec_init12(c4j_tlsrec_t *r, int aead, int hash_len,
                      const uint8_t *master, size_t master_len,
                      const uint8_t client_random[32],
                      const uint8_t server_random[32]);
/* Forgets every key (zeroes r). */
void c4j_tlsrec_clear(c4j_tlsrec_t *r);

/* Bytes of the records that seal n bytes of plaintext (0 for n 0). */
size_t c4j_tlsrec_sealed_len(const c4j_tlsrec_t *r, size_t n);
/* Seals the concatenated pieces as records of content type `type`, at
 * most C4J_TLSREC_MAX_PLAIN bytes of plaintext each, into out (room for
 * c4j_tlsrec_sealed_len of their total); the write sequence number
 * advances once a record.  Returns the bytes written, or -1. */
long c4j_tlsrec_seal(c4j_tlsrec_t *r, EVP_CIPHER_CTX *ctx, int type,
                     const c4j_tlsrec_piece_t *pieces, unsigned n,
                     uint8_t *out);
/* The whole length (header included) of the record whose header is
 * hdr[0..5), or -C4J_TLS_RECORD_OVERFLOW when it is larger than any
 * record of r's version may be. */
long c4j_tlsrec_record_len(const c4j_tlsrec_t *r, const uint8_t *hdr);
/* Opens the whole record rec[0..len) in place: returns its plaintext's
 * length with *type its content type and *plain pointing into rec; the
 * read sequence number advances.  Fails with the alert to send:
 * -C4J_TLS_BAD_RECORD_MAC (forged, or keys that do not match),
 * -C4J_TLS_UNEXPECTED_MESSAGE (a type that cannot come now),
 * -C4J_TLS_RECORD_OVERFLOW, -C4J_TLS_INTERNAL_ERROR. */
long c4j_tlsrec_open(c4j_tlsrec_t *r, EVP_CIPHER_CTX *ctx, uint8_t *rec,
                     size_t len, int *type, uint8_t **plain);
/* TLS 1.3's key update (RFC 8446 section 7.2) of the read (write 0) or
 * the write direction: the next traffic secret, its key and IV, sequence
 * number 0.  Returns 0, or -1. */
int c4j_tlsrec_update(c4j_tlsrec_t *r, int write);

#endif /* C4J_TLSREC_H */
