/* tls.c - TLS on the native port: the server context made from the PEM
 * files (TLS 1.2 and 1.3, AEAD suites, ALPN http/1.1, stateless session
 * tickets), and each connection's TLS.  The handshake is OpenSSL's: an
 * SSL object with a BIO of ours, which hands OpenSSL the bytes of the
 * current read and collects what it writes in the connection's raw
 * output.  Once the handshake is done the SSL object is freed (it is
 * ~15 KiB) and the connection keeps only its record keys (tlsrec.h, ~270
 * bytes here): records are opened in place in the worker's read buffer
 * and their plaintext goes to c4j__conn_bytes exactly as a plain socket's
 * bytes would (requests, WebSocket frames and bodies know nothing of
 * TLS); the output ring keeps the shared plaintext frames, and each flush
 * seals them into one ciphertext buffer of this connection.  close_notify
 * goes before FIN.  An idle TLS connection holds no buffer at all.
 *
 * Sequence numbers at the hand-over: OpenSSL reads no further than the
 * record it needs (read_ahead off), so what follows the client's Finished
 * in a read is left to the records here, and the first of them is the
 * client's record 1 (TLS 1.2: Finished was 0) or 0 (TLS 1.3).  The server
 * wrote its Finished as record 0 (TLS 1.2) or, under TLS 1.3, a session
 * ticket in each record it wrote while finishing: they are counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common.h"
#include "engine.h"
#include "tls.h"
#include "tlsrec.h"

/* What OpenSSL may agree on: the AEAD suites tlsrec.c seals with. */
#define TLS12_SUITES                                                         \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"               \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"               \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES                                                         \
  "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                           \
  "TLS_CHACHA20_POLY1305_SHA256"
#define MAX_PEM (1 << 20)       /* a certificate or key file */
#define SEAL_BUDGET (64 * 1024) /* plaintext sealed in one round */

enum { HANDSHAKE, OPEN, DEAD };

#define F_NOTIFIED 0x01    /* close_notify is queued or sent */
#define F_CLIENT_SECRET 0x02
#define F_SERVER_SECRET 0x04

/* Invariants: `ssl` is set exactly while phase is HANDSHAKE; `in` points
 * into the read being handled, only during SSL_do_handshake; `raw`
 * (capacity raw_cap, raw_len used) holds bytes to write before anything
 * sealed after them, NULL when empty; `rec` a record half read (rec_len of
 * rec_need bytes), NULL between records, and `hdr` a header half read
 * before it.  During the handshake, the TLS 1.3 traffic secrets that
 * OpenSSL logs wait in r.rd.secret and r.wr.secret. */
struct c4j__tls_s {
  SSL *ssl;
  const uint8_t *in;
  size_t in_len;
  c4j__buf_t *raw;
  uint32_t raw_len, raw_cap;
  uint8_t *rec;
  uint32_t rec_len, rec_need;
  uint8_t hdr[C4J_TLSREC_HEADER];
  uint8_t hdr_len;
  uint8_t phase;
  uint8_t flags;
  c4j_tlsrec_t r;
};

/* ---- Process-wide --------------------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static BIO_METHOD *bio_method;

static int bio_write(BIO *b, const char *p, int n);
static int bio_read(BIO *b, char *p, int n);
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr);
static int bio_create(BIO *b);

/* OpenSSL's configuration file is not read: the settings here are the
 * port's whatever the machine's openssl.cnf says (it could load other
 * providers into a library that carries its own OpenSSL). */
static void init_once(void) {
  OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
                       OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
  bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                            "comet4j connection");
  if (bio_method != NULL &&
      (!BIO_meth_set_write(bio_method, bio_write) ||
       !BIO_meth_set_read(bio_method, bio_read) ||
       !BIO_meth_set_ctrl(bio_method, bio_ctrl) ||
       !BIO_meth_set_create(bio_method, bio_create))) {
    BIO_meth_free(bio_method);
    bio_method = NULL;
  }
}

/* ---- The context ------------------------------------------------------------ */

static int config_error(const char *fmt, const char *field, const char *a,
                        const char *b) {
  char text[512];
  snprintf(text, sizeof(text), fmt, field, a, b);
  c4j__config_set_error(text);
  return -1;
}

/* Reads the whole file at path (for field) into *out (NUL ended). */
static int read_file(const char *field, const char *path, char **out,
                     size_t *len) {
  struct stat st;
  char *b;
  size_t n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC), err;
  *out = NULL;
  if (fd < 0)
    return config_error("%s: cannot read %s: %s", field, path,
                        strerror(errno));
  if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    close(fd);
    return config_error("%s: cannot read %s: %s", field, path, strerror(err));
  }
  if (st.st_size > MAX_PEM) {
    close(fd);
    return config_error("%s: %s is larger than 1 MiB%s", field, path, "");
  }
  if ((b = c4j__malloc((size_t)st.st_size + 1)) == NULL) {
    close(fd);
    return config_error("%s: out of memory reading %s%s", field, path, "");
  }
  while (n < (size_t)st.st_size) {
    ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      err = r < 0 ? errno : EIO;
      close(fd);
      c4j__free(b);
      return config_error("%s: cannot read %s: %s", field, path,
                          strerror(err));
    }
    n += (size_t)r;
  }
  close(fd);
  b[n] = '\0';
  *out = b;
  *len = n;
  return 0;
}

/* Never asks for a passphrase (OpenSSL's default would read the
 * terminal): an encrypted key is refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  return 0;
}

/* OpenSSL's reason for the last failure, for the error texts. */
static const char *ssl_reason(void) {
  const char *r = ERR_reason_error_string(ERR_peek_last_error());
  return r != NULL ? r : "unknown reason";
}

/* Selects http/1.1 when the client offers it, else no protocol (the
 * handshake goes on: the port speaks nothing else). */
static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg) {
  for (unsigned i = 0; i < inlen;) {
    unsigned n = in[i];
    if (n == 0 || i + 1 + n > inlen) break;
    if (n == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

/* The TLS 1.3 application traffic secrets, as OpenSSL derives them
 * ("SERVER_TRAFFIC_SECRET_0 <client random> <secret>", in hex): the only
 * way OpenSSL hands them out; the records need them once the SSL object
 * is gone. */
static void keylog_cb(const SSL *s, const char *line) {
  c4j__tls_t *t = SSL_get_app_data(s);
  uint8_t *to;
  const char *hex;
  size_t n = 0;
  int flag;
  if (t == NULL) return;
  if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0) {
    to = t->r.rd.secret;
    flag = F_CLIENT_SECRET;
  } else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0) {
    to = t->r.wr.secret;
    flag = F_SERVER_SECRET;
  } else {
    return;
  }
  if ((hex = strchr(line + 24, ' ')) == NULL) return;
  for (hex++; n < 48 && hex[0] != '\0' && hex[1] != '\0'; hex += 2) {
    int hi = OPENSSL_hexchar2int((unsigned char)hex[0]);
    int lo = OPENSSL_hexchar2int((unsigned char)hex[1]);
    if (hi < 0 || lo < 0) return;
    to[n++] = (uint8_t)(hi << 4 | lo);
  }
  if (hex[0] == '\0' && (n == 32 || n == 48)) t->flags |= (uint8_t)flag;
}

SSL_CTX *c4j__tls_ctx_new(const char *cert, const char *key) {
  char *cpem = NULL, *kpem = NULL;
  size_t clen = 0, klen = 0;
  BIO *cb = NULL, *kb = NULL;
  X509 *x = NULL;
  EVP_PKEY *pk = NULL;
  SSL_CTX *ctx = NULL;

  pthread_once(&once, init_once);
  ERR_clear_error();
  if (bio_method == NULL) {
    c4j__config_set_error("tls_cert: OpenSSL could not be set up");
    return NULL;
  }
  if (read_file("tls_cert", cert, &cpem, &clen) < 0 ||
      read_file("tls_key", key, &kpem, &klen) < 0)
    goto fail;
  if ((cb = BIO_new_mem_buf(cpem, (int)clen)) == NULL ||
      (kb = BIO_new_mem_buf(kpem, (int)klen)) == NULL ||
      (ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
    c4j__config_set_error("tls_cert: out of memory");
    goto fail;
  }
  if ((x = PEM_read_bio_X509(cb, NULL, no_passphrase, NULL)) == NULL) {
    config_error("%s: not a PEM certificate: %s%s", "tls_cert", cert, "");
    goto fail;
  }
  /* Keys of 112 bits of security at least (RSA 2048, P-256). */
  SSL_CTX_set_security_level(ctx, 2);
  if (SSL_CTX_use_certificate(ctx, x) != 1) {
    config_error("%s: refused: %s: %s", "tls_cert", ssl_reason(), cert);
    goto fail;
  }
  X509_free(x);
  /* The rest of the file is the chain, in order. */
  while ((x = PEM_read_bio_X509(cb, NULL, no_passphrase, NULL)) != NULL) {
    if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
      config_error("%s: chain certificate refused: %s: %s", "tls_cert",
                   ssl_reason(), cert);
      goto fail;
    }
  }
  x = NULL;
  ERR_clear_error(); /* the end of the file */
  if ((pk = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL)) == NULL) {
    config_error("%s: not a PEM private key (or one with a passphrase): "
                 "%s%s", "tls_key", key, "");
    goto fail;
  }
  if (SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    config_error("%s: does not match the certificate in tls_cert: %s%s",
                 "tls_key", key, "");
    goto fail;
  }
  /* TLS 1.2 and up, the suites tlsrec.c knows; no renegotiation. */
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, TLS12_SUITES) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1) {
    config_error("%s: the suites were refused: %s%s", "tls_cert",
                 ssl_reason(), "");
    goto fail;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  /* The handshake must not read past its last record (see the top). */
  SSL_CTX_set_read_ahead(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  /* Resumption costs the server no memory: stateless tickets (one per
   * TLS 1.3 handshake), no session cache. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
  SSL_CTX_set_keylog_callback(ctx, keylog_cb);
  EVP_PKEY_free(pk);
  BIO_free(cb);
  BIO_free(kb);
  c4j__free(cpem);
  OPENSSL_cleanse(kpem, klen);
  c4j__free(kpem);
  ERR_clear_error();
  return ctx;

fail:
  X509_free(x);
  EVP_PKEY_free(pk);
  BIO_free(cb);
  BIO_free(kb);
  SSL_CTX_free(ctx);
  c4j__free(cpem);
  if (kpem != NULL) OPENSSL_cleanse(kpem, klen);
  c4j__free(kpem);
  ERR_clear_error();
  return NULL;
}

void c4j__tls_ctx_free(SSL_CTX *ctx) { SSL_CTX_free(ctx); }

/* ---- Raw output -------------------------------------------------------------- */

/* Room for n more bytes in raw; 0, or -1 when out of memory. */
static int raw_room(c4j__tls_t *t, size_t n) {
  c4j__buf_t *b;
  size_t cap;
  if (t->raw != NULL && t->raw_len + n <= t->raw_cap) return 0;
  cap = t->raw_cap ? (size_t)t->raw_cap * 2 : 4096;
  while (cap < t->raw_len + n) cap *= 2;
  if (cap > (64u << 20) || (b = c4j__buf_new(cap)) == NULL) return -1;
  if (t->raw_len > 0) memcpy(b->data, t->raw->data, t->raw_len);
  c4j__buf_unref(t->raw);
  t->raw = b;
  t->raw_cap = (uint32_t)cap;
  return 0;
}

/* The worker's cipher context, keyed anew for each call (tlsrec.h). */
static EVP_CIPHER_CTX *cipher_ctx(c4j__conn_t *c) {
  c4j__worker_t *w = c4j__conn_worker(c);
  if (w->tls_cipher == NULL) w->tls_cipher = EVP_CIPHER_CTX_new();
  return w->tls_cipher;
}

/* Seals n bytes at p as one message of content type `type` into raw. */
static int raw_seal(c4j__conn_t *c, int type, const uint8_t *p, size_t n) {
  c4j__tls_t *t = c->tls;
  c4j_tlsrec_piece_t piece = { p, n };
  EVP_CIPHER_CTX *x = cipher_ctx(c);
  long m;
  if (x == NULL || raw_room(t, c4j_tlsrec_sealed_len(&t->r, n)) < 0)
    return -1;
  m = c4j_tlsrec_seal(&t->r, x, type, &piece, 1, t->raw->data + t->raw_len);
  if (m < 0) return -1;
  t->raw_len += (uint32_t)m;
  return 0;
}

/* TLS 1.3: our KeyUpdate (update_not_requested) under the current key,
 * then the next key for what follows. */
static int key_update(c4j__conn_t *c) {
  static const uint8_t msg[5] = { 24, 0, 0, 1, 0 };
  if (raw_seal(c, C4J_TLS_HANDSHAKE, msg, sizeof(msg)) < 0 ||
      c4j_tlsrec_update(&c->tls->r, 1) < 0)
    return -1;
  c4j__conn_want_flush(c);
  return 0;
}

/* Ends c at once after a fatal TLS error: the alert `desc` (when the
 * records are up; during the handshake, OpenSSL's own alert in raw) goes
 * out with what raw holds, as far as the kernel takes it now. */
static void fail(c4j__conn_t *c, int desc) {
  c4j__tls_t *t = c->tls;
  if (t->phase == OPEN) {
    uint8_t alert[2] = { 2, (uint8_t)desc };
    (void)raw_seal(c, C4J_TLS_ALERT, alert, sizeof(alert));
  }
  SSL_free(t->ssl); /* what it wrote is in raw */
  t->ssl = NULL;
  t->phase = DEAD;
  if (t->raw_len > 0 && c->wreq == NULL) {
    uv_buf_t b = uv_buf_init((char *)t->raw->data, t->raw_len);
    (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  }
  c4j__conn_abort(c);
}

/* ---- The handshake -------------------------------------------------------------- */

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static int bio_write(BIO *b, const char *p, int n) {
  c4j__tls_t *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (n <= 0) return 0;
  if (raw_room(t, (size_t)n) < 0) return -1;
  memcpy(t->raw->data + t->raw_len, p, (size_t)n);
  t->raw_len += (uint32_t)n;
  return n;
}

static int bio_read(BIO *b, char *p, int n) {
  c4j__tls_t *t = BIO_get_data(b);
  size_t k;
  BIO_clear_retry_flags(b);
  if (t->in_len == 0) {
    BIO_set_retry_read(b);
    return -1;
  }
  k = t->in_len < (size_t)n ? t->in_len : (size_t)n;
  memcpy(p, t->in, k);
  t->in += k;
  t->in_len -= k;
  return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  return cmd == BIO_CTRL_FLUSH; /* nothing is buffered here */
}

int c4j__tls_start(c4j__conn_t *c) {
  c4j_engine_t *e = c4j__conn_engine(c);
  c4j__tls_t *t = c4j__calloc(1, sizeof(*t));
  BIO *b;
  if (t == NULL) return -1;
  uv_mutex_lock(&e->tls_lock);
  t->ssl = e->tls_ctx != NULL ? SSL_new(e->tls_ctx) : NULL;
  uv_mutex_unlock(&e->tls_lock);
  if (t->ssl == NULL || (b = BIO_new(bio_method)) == NULL) {
    SSL_free(t->ssl);
    c4j__free(t);
    ERR_clear_error();
    return -1;
  }
  BIO_set_data(b, t);
  SSL_set_bio(t->ssl, b, b);
  SSL_set_app_data(t->ssl, t);
  SSL_set_accept_state(t->ssl);
  t->phase = HANDSHAKE;
  c->tls = t;
  return 0;
}

/* The records OpenSSL wrote in raw[from..), complete ones only. */
static uint64_t records_since(const c4j__tls_t *t, uint32_t from) {
  uint64_t n = 0;
  for (uint32_t at = from; at + C4J_TLSREC_HEADER <= t->raw_len; n++)
    at += C4J_TLSREC_HEADER +
          ((uint32_t)t->raw->data[at + 3] << 8 | t->raw->data[at + 4]);
  return n;
}

/* The handshake is done: the record keys and sequence numbers from
 * OpenSSL, then the SSL object goes.  mark: raw's length when the last
 * SSL_do_handshake began.  Returns 0, or -1 (a suite tlsrec.c does not
 * know, a secret not logged, out of memory). */
static int established(c4j__tls_t *t, uint32_t mark) {
  const SSL_CIPHER *sc = SSL_get_current_cipher(t->ssl);
  const EVP_MD *md = sc != NULL ? SSL_CIPHER_get_handshake_digest(sc) : NULL;
  int nid = sc != NULL ? SSL_CIPHER_get_cipher_nid(sc) : NID_undef;
  int aead = nid == NID_aes_128_gcm           ? C4J_TLSREC_AES_128_GCM
             : nid == NID_aes_256_gcm         ? C4J_TLSREC_AES_256_GCM
             : nid == NID_chacha20_poly1305   ? C4J_TLSREC_CHACHA20_POLY1305
                                              : 0;
  int hash_len = md != NULL ? EVP_MD_get_size(md) : 0, rc = -1;
  if (SSL_version(t->ssl) == TLS1_3_VERSION) {
    uint8_t cs[48], ss[48];
    if ((t->flags & (F_CLIENT_SECRET | F_SERVER_SECRET)) ==
        (F_CLIENT_SECRET | F_SERVER_SECRET)) {
      memcpy(cs, t->r.rd.secret, sizeof(cs));
      memcpy(ss, t->r.wr.secret, sizeof(ss));
      rc = c4j_tlsrec_init13(&t->r, aead, hash_len, cs, ss);
      OPENSSL_cleanse(cs, sizeof(cs));
      OPENSSL_cleanse(ss, sizeof(ss));
    }
    /* Each record written while finishing carried a session ticket. */
    t->r.wr.seq = records_since(t, mark);
  } else if (SSL_version(t->ssl) == TLS1_2_VERSION) {
    uint8_t master[64], cr[32], sr[32];
    size_t n = SSL_SESSION_get_master_key(SSL_get_session(t->ssl), master,
                                          sizeof(master));
    if (SSL_get_client_random(t->ssl, cr, sizeof(cr)) == sizeof(cr) &&
        SSL_get_server_random(t->ssl, sr, sizeof(sr)) == sizeof(sr))
      rc = c4j_tlsrec_init12(&t->r, aead, hash_len, master, n, cr, sr);
    OPENSSL_cleanse(master, sizeof(master));
    /* Both Finished messages were record 0 under these keys. */
    t->r.rd.seq = t->r.wr.seq = 1;
  }
  SSL_free(t->ssl);
  t->ssl = NULL;
  t->phase = OPEN;
  if (rc != 0) c4j_tlsrec_clear(&t->r);
  return rc;
}

/* Plain HTTP on the TLS port: a clear answer rather than a reset. */
static void plain_http(c4j__conn_t *c) {
  static const char answer[] =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8"
      "\r\nConnection: close\r\nContent-Length: 53\r\n\r\n"
      "this port speaks TLS: use https:// or wss:// URLs.\r\n\r\n";
  c4j__tls_t *t = c->tls;
  SSL_free(t->ssl);
  t->ssl = NULL;
  t->phase = DEAD;
  t->raw_len = 0;
  if (raw_room(t, sizeof(answer) - 1) < 0) {
    c4j__conn_abort(c);
    return;
  }
  memcpy(t->raw->data, answer, sizeof(answer) - 1);
  t->raw_len = sizeof(answer) - 1;
  c->state = C4J__CONN_REFUSING;
  c4j__conn_want_flush(c);
}

/* Feeds the handshake; returns the bytes it took from data. */
static size_t handshake(c4j__conn_t *c, const uint8_t *data, size_t n) {
  c4j__tls_t *t = c->tls;
  uint32_t mark = t->raw_len;
  size_t used;
  int rc, err;
  ERR_clear_error();
  t->in = data;
  t->in_len = n;
  rc = SSL_do_handshake(t->ssl);
  used = n - t->in_len;
  t->in = NULL;
  t->in_len = 0;
  if (rc == 1) {
    if (established(t, mark) < 0) {
      fail(c, C4J_TLS_INTERNAL_ERROR);
      return used;
    }
    if (t->raw_len > 0) c4j__conn_want_flush(c);
    return used;
  }
  err = SSL_get_error(t->ssl, rc);
  if (err == SSL_ERROR_WANT_READ) {
    if (t->raw_len > 0) c4j__conn_want_flush(c);
    return used;
  }
  if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST) plain_http(c);
  else fail(c, 0); /* OpenSSL's alert, if any, is in raw */
  ERR_clear_error();
  return used;
}

/* ---- Records ------------------------------------------------------------------ */

/* A handshake message after the handshake: TLS 1.3's KeyUpdate, whole in
 * its record (the only one a client may send us); anything else (a TLS
 * 1.2 renegotiation, a message split over records) ends the connection. */
static void post_handshake(c4j__conn_t *c, const uint8_t *p, size_t n) {
  c4j__tls_t *t = c->tls;
  if (t->r.version != C4J_TLS13) {
    fail(c, C4J_TLS_NO_RENEGOTIATION);
    return;
  }
  while (n > 0) {
    size_t len = n >= 4 ? (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3] : 0;
    if (n < 4 || 4 + len > n || p[0] != 24 || len != 1 || p[4] > 1) {
      fail(c, n < 4 || 4 + len > n ? C4J_TLS_DECODE_ERROR
                                   : C4J_TLS_UNEXPECTED_MESSAGE);
      return;
    }
    if (c4j_tlsrec_update(&t->r, 0) < 0 ||
        (p[4] == 1 && key_update(c) < 0)) {
      fail(c, C4J_TLS_INTERNAL_ERROR);
      return;
    }
    p += 5;
    n -= 5;
  }
}

/* One whole record at rec[0..len), opened in place. */
static void record(c4j__conn_t *c, uint8_t *rec, size_t len) {
  c4j__tls_t *t = c->tls;
  EVP_CIPHER_CTX *x = cipher_ctx(c);
  uint8_t *plain;
  int type;
  long n;
  if (x == NULL) {
    fail(c, C4J_TLS_INTERNAL_ERROR);
    return;
  }
  n = c4j_tlsrec_open(&t->r, x, rec, len, &type, &plain);
  if (n < 0) {
    fail(c, (int)-n);
    return;
  }
  if (type == C4J_TLS_APPDATA) {
    c4j__conn_bytes(c, plain, (size_t)n);
  } else if (type == C4J_TLS_ALERT) {
    /* close_notify: the peer sends nothing more, as at EOF (ours goes
     * out first when the connection can still take it); a warning
     * otherwise changes nothing under TLS 1.2; anything else is fatal. */
    if (n != 2) {
      fail(c, C4J_TLS_DECODE_ERROR);
    } else if (plain[1] == C4J_TLS_CLOSE_NOTIFY) {
      if (!(t->flags & F_NOTIFIED)) {
        uint8_t alert[2] = { 1, C4J_TLS_CLOSE_NOTIFY };
        t->flags |= F_NOTIFIED;
        (void)raw_seal(c, C4J_TLS_ALERT, alert, sizeof(alert));
      }
      t->phase = DEAD;
      if (t->raw_len > 0 && c->wreq == NULL) {
        uv_buf_t b = uv_buf_init((char *)t->raw->data, t->raw_len);
        (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
      }
      c4j__conn_abort(c);
    } else if (plain[0] == 2 || t->r.version == C4J_TLS13) {
      t->phase = DEAD;
      c4j__conn_abort(c);
    }
  } else if (type == C4J_TLS_HANDSHAKE) {
    post_handshake(c, plain, (size_t)n);
  } else {
    fail(c, C4J_TLS_UNEXPECTED_MESSAGE);
  }
}

/* Cuts data into records: whole ones are opened where they are, a record
 * cut by the end of the read waits in rec for the next read. */
static void records(c4j__conn_t *c, uint8_t *p, size_t n) {
  c4j__tls_t *t = c->tls;
  while (n > 0 && t->phase == OPEN && c->state != C4J__CONN_CLOSED) {
    long need;
    size_t k;
    if (t->rec == NULL) {
      const uint8_t *hdr = p;
      if (t->hdr_len > 0 || n < C4J_TLSREC_HEADER) {
        k = (size_t)(C4J_TLSREC_HEADER - t->hdr_len);
        if (k > n) k = n;
        memcpy(t->hdr + t->hdr_len, p, k);
        t->hdr_len = (uint8_t)(t->hdr_len + k);
        p += k;
        n -= k;
        if (t->hdr_len < C4J_TLSREC_HEADER) return;
        hdr = t->hdr;
      }
      if ((need = c4j_tlsrec_record_len(&t->r, hdr)) < 0) {
        fail(c, (int)-need);
        return;
      }
      if (hdr == p && (size_t)need <= n) {
        record(c, p, (size_t)need);
        p += need;
        n -= (size_t)need;
        continue;
      }
      if ((t->rec = c4j__malloc((size_t)need)) == NULL) {
        fail(c, C4J_TLS_INTERNAL_ERROR);
        return;
      }
      t->rec_need = (uint32_t)need;
      t->rec_len = 0;
      if (hdr == t->hdr) {
        memcpy(t->rec, t->hdr, C4J_TLSREC_HEADER);
        t->rec_len = C4J_TLSREC_HEADER;
        t->hdr_len = 0;
      }
    }
    k = t->rec_need - t->rec_len < n ? t->rec_need - t->rec_len : n;
    memcpy(t->rec + t->rec_len, p, k);
    t->rec_len += (uint32_t)k;
    p += k;
    n -= k;
    if (t->rec_len == t->rec_need) {
      uint8_t *rec = t->rec;
      t->rec = NULL;
      record(c, rec, t->rec_need);
      c4j__free(rec);
    }
  }
}

void c4j__tls_read(c4j__conn_t *c, uint8_t *data, size_t n) {
  c4j__tls_t *t = c->tls;
  if (t->phase == HANDSHAKE) {
    size_t used = handshake(c, data, n);
    data += used;
    n -= used;
  }
  if (t->phase == OPEN) records(c, data, n);
}

/* ---- Writing -------------------------------------------------------------------- */

/* The output ring's first frames, up to SEAL_BUDGET bytes (at least one
 * frame), sealed into one new buffer; the frames leave the ring. */
static c4j__buf_t *seal_ring(c4j__conn_t *c) {
  c4j__tls_t *t = c->tls;
  c4j_tlsrec_piece_t pieces[C4J__MAX_IOV];
  EVP_CIPHER_CTX *x = cipher_ctx(c);
  c4j__buf_t *out;
  unsigned k = 0;
  size_t total = 0;
  long m;
  while (k < c->out_len && k < C4J__MAX_IOV && total < SEAL_BUDGET) {
    c4j__buf_t *b = *c4j__conn_slot(c, k);
    pieces[k].p = b->data;
    pieces[k].n = b->len;
    total += b->len;
    k++;
  }
  if (x == NULL ||
      (out = c4j__buf_new(c4j_tlsrec_sealed_len(&t->r, total))) == NULL)
    return NULL;
  m = c4j_tlsrec_seal(&t->r, x, C4J_TLS_APPDATA, pieces, k, out->data);
  if (m < 0) {
    c4j__buf_unref(out);
    return NULL;
  }
  out->len = (uint32_t)m;
  while (k-- > 0) {
    c4j__buf_t *b = c4j__conn_pop_out(c);
    c->queued -= b->len;
    c4j__buf_unref(b);
  }
  return out;
}

int c4j__tls_flush(c4j__conn_t *c, int hold) {
  c4j__tls_t *t = c->tls;
  for (;;) {
    c4j__buf_t *b[2];
    unsigned n = 0;
    int rc, seal = !hold && t->phase == OPEN && c->out_len > 0;
    if (t->phase != OPEN && c->out_len > 0) c4j__conn_drop_out(c);
    if (seal && t->r.version == C4J_TLS13 &&
        t->r.wr.seq >= C4J_TLSREC_KEY_LIMIT && key_update(c) < 0) {
      c4j__conn_abort(c);
      return -1;
    }
    if (t->raw_len > 0) {
      t->raw->len = t->raw_len;
      b[n++] = t->raw;
      t->raw = NULL;
      t->raw_len = t->raw_cap = 0;
    }
    if (seal) {
      if ((b[n] = seal_ring(c)) == NULL) {
        while (n > 0) c4j__buf_unref(b[--n]);
        c4j__conn_abort(c);
        return -1;
      }
      n++;
    }
    if (n == 0) return 0;
    if ((rc = c4j__conn_write(c, b, n)) != 0) return rc;
  }
}

int c4j__tls_close_notify(c4j__conn_t *c) {
  static const uint8_t alert[2] = { 1, C4J_TLS_CLOSE_NOTIFY };
  c4j__tls_t *t = c->tls;
  if (t->phase != OPEN || (t->flags & F_NOTIFIED)) return 0;
  t->flags |= F_NOTIFIED;
  return raw_seal(c, C4J_TLS_ALERT, alert, sizeof(alert)) == 0;
}

void c4j__tls_free(c4j__conn_t *c) {
  c4j__tls_t *t = c->tls;
  if (t == NULL) return;
  SSL_free(t->ssl);
  c4j__buf_unref(t->raw);
  c4j__free(t->rec);
  c4j_tlsrec_clear(&t->r);
  c4j__free(t);
  c->tls = NULL;
  ERR_clear_error();
}

void c4j__tls_worker_free(c4j__worker_t *w) {
  EVP_CIPHER_CTX_free(w->tls_cipher);
  w->tls_cipher = NULL;
}
