/* test-tls.c - TLS on the native port (tls.c, tlsrec.c, the engine's
 * context and c4j_tls_reload) with OpenSSL's own client over real sockets
 * (the shared client's wsc_tls) and certificates this test makes in a
 * temporary folder: WebSocket and SSE over TLS 1.2 and 1.3 with every
 * suite, a frame split over records and records split over reads,
 * close_notify both ways, resumption, the key update, garbage and plain
 * HTTP instead of a ClientHello, TLS 1.1 refused, ALPN, a reload, the
 * errors naming tls_cert and tls_key, a slow consumer, a full port
 * (eviction and refusal without a plain answer), sockets adopted as
 * plain, and the memory an idle TLS connection holds.
 */
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "engine-client.h"

static char dir[64];

/* The bytes allocated and not freed: ASan's count (its allocator's
 * interface, which gcc ships without the header) under the sanitizers,
 * else malloc's (the cross build's tests run without them). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static size_t allocated_bytes(void) {
  if (__sanitizer_get_current_allocated_bytes != NULL)
    return __sanitizer_get_current_allocated_bytes();
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

/* ---- Certificates --------------------------------------------------------- */

/* A self-signed certificate for cn with its key (EC P-256, or RSA 2048)
 * at <dir>/<name>.crt and <dir>/<name>.key; their paths in crt and key. */
static void make_cert(const char *name, const char *cn, int rsa, char *crt,
                      char *key) {
  EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509_NAME *n;
  FILE *f;
  snprintf(crt, 128, "%s/%s.crt", dir, name);
  snprintf(key, 128, "%s/%s.key", dir, name);
  CHECK(k != NULL && x != NULL);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, k);
  n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn,
                             -1, -1, 0);
  X509_set_issuer_name(x, n);
  CHECK(X509_sign(x, k, EVP_sha256()) > 0);
  f = fopen(crt, "w");
  CHECK(f != NULL && PEM_write_X509(f, x) == 1);
  fclose(f);
  f = fopen(key, "w");
  CHECK(f != NULL &&
        PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(k);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
}

static void copy_file(const char *from, const char *to) {
  char buf[8192];
  FILE *a = fopen(from, "r"), *b = fopen(to, "w");
  size_t n;
  CHECK(a != NULL && b != NULL);
  while ((n = fread(buf, 1, sizeof(buf), a)) > 0) fwrite(buf, 1, n, b);
  fclose(a);
  fclose(b);
}

static char ec_crt[128], ec_key[128], rsa_crt[128], rsa_key[128];

static c4j_engine_t *start_tls(const char *crt, const char *key) {
  c4j_config_t cfg;
  base_config(&cfg);
  cfg.tls_cert = crt;
  cfg.tls_key = key;
  return start(&cfg);
}

/* ---- The client over TLS --------------------------------------------------- */

static int tls_open(client_t *c, int port, const wsc_tls_opts_t *o) {
  int rc = wsc_open(c, port, 0);
  if (rc == 0) rc = wsc_tls(c, o);
  return rc;
}

/* Attaches over TLS (options o, NULL for OpenSSL's defaults) to /ws with
 * a fresh ticket; returns the upgrade's status or a WSC_E* code. */
static int tls_attach(c4j_engine_t *e, client_t *c, const char *cid,
                      const char *channels, const wsc_tls_opts_t *o) {
  char ticket[2048], target[2200];
  int rc = tls_open(c, c4j_engine_port(e), o);
  if (rc < 0) return rc;
  mint(e, cid, NULL, channels, 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  return client_rc(wsc_handshake(c, target, NULL), __LINE__);
}

static SSL *ssl_of(client_t *c) { return (SSL *)c->ssl; }

static void peer_cn(client_t *c, char *out, size_t cap) {
  X509 *x = SSL_get1_peer_certificate(ssl_of(c));
  out[0] = '\0';
  if (x != NULL)
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out,
                              (int)cap);
  X509_free(x);
}

/* Attached: the open frame, then a broadcast and a client message. */
static void exchange(c4j_engine_t *e, client_t *c, const char *cid) {
  char text[4096];
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "\"t\":\"open\"") != NULL);
  CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
  CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":\"over tls\"}", 16, 1), 0);
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK(strstr(text, "over tls") != NULL);
  send_text(c, "{\"hello\":\"from the client\"}");
  event_t *ev = wait_event(e, C4J_EV_MESSAGE, cid);
  CHECK(ev != NULL && strcmp(ev->text, "{\"hello\":\"from the client\"}") == 0);
  send_text(c, "{\"t\":\"ping\"}");
  CHECK_EQ(read_text(c, text, sizeof(text)), 0);
  CHECK_STR(text, "{\"t\":\"pong\"}");
}

/* ---- Tests ------------------------------------------------------------------ */

TEST(ws_over_tls_every_suite) {
  static const struct { int version; const char *suite; } cases[] = {
    { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256" },
    { TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384" },
    { TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256" },
    { TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256" },
    { TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384" },
    { TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305" },
  };
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c;
  char cid[23], cn[64];
  if (e == NULL) return;
  reset_events();
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    wsc_tls_opts_t o = { 0 };
    o.min = o.max = cases[i].version;
    if (cases[i].version == TLS1_3_VERSION) o.suites = cases[i].suite;
    else o.ciphers = cases[i].suite;
    c4j_new_id(cid);
    CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", &o), 101);
    if (c.ssl == NULL) continue;
    CHECK_STR(SSL_get_cipher_name(ssl_of(&c)), cases[i].suite);
    CHECK_EQ(SSL_version(ssl_of(&c)), cases[i].version);
    peer_cn(&c, cn, sizeof(cn));
    CHECK_STR(cn, "one");
    exchange(e, &c, cid);
    client_close(&c);
    CHECK(wait_event(e, C4J_EV_DROP, cid) != NULL);
  }
  finish(e);
}

TEST(rsa_certificate) {
  c4j_engine_t *e = start_tls(rsa_crt, rsa_key);
  static client_t c;
  wsc_tls_opts_t o = { 0 };
  char cid[23];
  if (e == NULL) return;
  reset_events();
  o.max = TLS1_2_VERSION;
  c4j_new_id(cid);
  CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", &o), 101);
  if (c.ssl != NULL) {
    CHECK_STR(SSL_get_cipher_name(ssl_of(&c)), "ECDHE-RSA-AES256-GCM-SHA384");
    exchange(e, &c, cid);
  }
  client_close(&c);
  finish(e);
}

TEST(sse_over_tls) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c;
  char ticket[2048], req[4096], cid[23];
  if (e == NULL) return;
  reset_events();
  c4j_new_id(cid);
  mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  CHECK_EQ(tls_open(&c, c4j_engine_port(e), NULL), 0);
  snprintf(req, sizeof(req),
           "GET /sse?ticket=%s HTTP/1.1\r\nHost: x\r\n\r\n", ticket);
  CHECK_EQ(wsc_write(&c, req, strlen(req)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
  CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":\"sse over tls\"}", 20, 1), 0);
  for (uint64_t t0 = ms_now(); ms_now() - t0 < 5000;) {
    c.buf[c.len] = '\0';
    if (strstr((char *)c.buf, "sse over tls") != NULL) break;
    if (fill(&c) <= 0) break;
  }
  c.buf[c.len] = '\0';
  CHECK(strncmp((char *)c.buf, "HTTP/1.1 200", 12) == 0);
  CHECK(strstr((char *)c.buf, "text/event-stream") != NULL);
  CHECK(strstr((char *)c.buf, "data: {\"t\":\"open\"") != NULL);
  CHECK(strstr((char *)c.buf, "sse over tls") != NULL);
  client_close(&c);
  /* A refusal over TLS: its answer, close_notify, the end. */
  CHECK_EQ(tls_open(&c, c4j_engine_port(e), NULL), 0);
  snprintf(req, sizeof(req), "GET /sse?ticket=bad HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_EQ(wsc_write(&c, req, strlen(req)), 0);
  while (c.len + 1 < sizeof(c.buf) && fill(&c) > 0) {}
  c.buf[c.len] = '\0';
  CHECK(strncmp((char *)c.buf, "HTTP/1.1 401", 12) == 0);
  CHECK(strstr((char *)c.buf, "invalid ticket") != NULL);
  CHECK_EQ(c.tls_notified, 1);
  client_close(&c);
  finish(e);
}

TEST(stalled_handshake_cut) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  static client_t c;
  SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
  SSL *s = SSL_new(cc);
  BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
  char *hello;
  uint64_t t0;
  base_config(&cfg);
  cfg.tls_cert = ec_crt;
  cfg.tls_key = ec_key;
  cfg.handshake_timeout_ms = 300;
  if ((e = start(&cfg)) == NULL) return;
  /* Half a ClientHello, then nothing. */
  SSL_set_bio(s, in, out);
  SSL_set_connect_state(s);
  SSL_do_handshake(s);
  CHECK(BIO_get_mem_data(out, &hello) > 20);
  memset(&c, 0, offsetof(client_t, buf));
  c.fd = tcp_connect(c4j_engine_port(e), 0);
  CHECK_EQ(send(c.fd, hello, 20, MSG_NOSIGNAL), 20);
  t0 = ms_now();
  CHECK(wait_eof(&c));
  CHECK(ms_now() - t0 < 3000);
  close(c.fd);
  SSL_free(s);
  SSL_CTX_free(cc);
  finish(e);
}

/* An HTTP request over TLS (options o), its body written apart after a
 * pause when split; reads the answer to the end and returns its status. */
static int tls_http(client_t *c, int port, const wsc_tls_opts_t *o,
                    const char *method, const char *target, const char *body,
                    int split) {
  char req[8192];
  int n;
  if (tls_open(c, port, o) != 0) return -1;
  n = snprintf(req, sizeof(req),
               "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
               method, target, body ? strlen(body) : 0,
               body && !split ? body : "");
  CHECK_EQ(wsc_write(c, req, (size_t)n), 0);
  if (body && split) {
    usleep(50000);
    CHECK_EQ(wsc_write(c, body, strlen(body)), 0);
  }
  while (c->len + 1 < sizeof(c->buf) && fill(c) > 0) {}
  c->buf[c->len] = '\0';
  if (sscanf((char *)c->buf, "HTTP/1.1 %d", &c->status) != 1) c->status = -1;
  return c->status;
}

TEST(poll_and_cmd_over_tls) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c, s;
  char ticket[2048], target[2200], cid[23];
  int versions[2] = { TLS1_3_VERSION, TLS1_2_VERSION };
  if (e == NULL) return;
  reset_events();
  for (int v = 0; v < 2; v++) {
    wsc_tls_opts_t o = { 0 };
    o.min = o.max = versions[v];
    c4j_new_id(cid);
    mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
    /* The first poll answers at once; the next waits for a broadcast. */
    snprintf(target, sizeof(target), "/poll?ticket=%s", ticket);
    CHECK_EQ(tls_http(&c, c4j_engine_port(e), &o, "GET", target, NULL, 0),
             200);
    CHECK(strstr(body_of(&c), "\"t\":\"open\"") != NULL);
    CHECK_EQ(c.tls_notified, 1);
    client_close(&c);
    CHECK_EQ(tls_open(&c, c4j_engine_port(e), &o), 0);
    {
      char req[2400];
      int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                       target);
      CHECK_EQ(wsc_write(&c, req, (size_t)n), 0);
    }
    usleep(100000);
    CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":\"polled\"}", 14, 1), 0);
    while (c.len + 1 < sizeof(c.buf) && fill(&c) > 0) {}
    c.buf[c.len] = '\0';
    CHECK(strncmp((char *)c.buf, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(body_of(&c), "polled") != NULL);
    CHECK_EQ(c.tls_notified, 1);
    client_close(&c);
    /* SSE, and its commands through /cmd with the body apart. */
    c4j_new_id(cid);
    mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
    CHECK_EQ(tls_open(&s, c4j_engine_port(e), &o), 0);
    {
      char req[2400];
      int n = snprintf(req, sizeof(req),
                       "GET /sse?ticket=%s HTTP/1.1\r\nHost: x\r\n\r\n", ticket);
      CHECK_EQ(wsc_write(&s, req, (size_t)n), 0);
    }
    CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
    snprintf(target, sizeof(target), "/cmd?ticket=%s", ticket);
    CHECK_EQ(tls_http(&c, c4j_engine_port(e), &o, "POST", target,
                      "[{\"t\":\"ping\"},{\"t\":\"say\"}]", 1), 200);
    CHECK_STR(body_of(&c), "[{\"t\":\"pong\"}]");
    client_close(&c);
    event_t *ev = wait_event(e, C4J_EV_MESSAGE, cid);
    CHECK(ev != NULL && strcmp(ev->text, "{\"t\":\"say\"}") == 0);
    client_close(&s);
  }
  finish(e);
}

/* HTTP keep-alive over TLS, both versions: POST /cmd answers keep the
 * socket (the records of three requests, two of them in one write, are
 * read in order), and Connection: close closes with close_notify. */
TEST(keepalive_over_tls) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c, s;
  char ticket[2048], req[3 * 2600], out[1024], cid[23];
  int versions[2] = { TLS1_3_VERSION, TLS1_2_VERSION };
  if (e == NULL) return;
  reset_events();
  for (int v = 0; v < 2; v++) {
    wsc_tls_opts_t o = { 0 };
    int n = 0;
    o.min = o.max = versions[v];
    c4j_new_id(cid);
    mint(e, cid, NULL, "[]", 60, ticket, sizeof(ticket));
    CHECK_EQ(tls_open(&s, c4j_engine_port(e), &o), 0);
    n = snprintf(req, sizeof(req),
                 "GET /sse?ticket=%s HTTP/1.1\r\nHost: x\r\n\r\n", ticket);
    CHECK_EQ(wsc_write(&s, req, (size_t)n), 0);
    CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
    CHECK_EQ(tls_open(&c, c4j_engine_port(e), &o), 0);
    n = 0;
    for (int k = 0; k < 2; k++)
      n += snprintf(req + n, sizeof(req) - (size_t)n,
                    "POST /cmd?ticket=%s HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 12\r\n\r\n{\"t\":\"ping\"}", ticket);
    CHECK_EQ(wsc_write(&c, req, (size_t)n), 0);
    for (int k = 0; k < 2; k++) {
      CHECK_EQ(next_answer(&c, out, sizeof(out)), 200);
      CHECK(strstr(out, "Connection: close") == NULL);
      CHECK(strstr(out, "[{\"t\":\"pong\"}]") != NULL);
    }
    n = snprintf(req, sizeof(req),
                 "POST /cmd?ticket=%s HTTP/1.1\r\nHost: x\r\n"
                 "Connection: close\r\nContent-Length: 12\r\n\r\n"
                 "{\"t\":\"ping\"}", ticket);
    CHECK_EQ(wsc_write(&c, req, (size_t)n), 0);
    CHECK_EQ(next_answer(&c, out, sizeof(out)), 200);
    CHECK(strstr(out, "Connection: close\r\n") != NULL);
    CHECK(wait_eof(&c));
    CHECK_EQ(c.tls_notified, 1);
    client_close(&c);
    client_close(&s);
  }
  finish(e);
}

/* Sends what SSL wrote into its memory BIO (the records of the calls
 * since) in chunks of `step` bytes, with pauses, so that the server reads
 * records cut anywhere, their headers too. */
static void send_in_pieces(client_t *c, BIO *mem, size_t step) {
  char *p;
  long n = BIO_get_mem_data(mem, &p);
  for (long at = 0; at < n; at += (long)step) {
    size_t k = (size_t)(n - at) < step ? (size_t)(n - at) : step;
    CHECK_EQ(send(c->fd, p + at, k, MSG_NOSIGNAL), (long long)k);
    usleep(2000);
  }
  (void)BIO_reset(mem);
}

TEST(frames_split_over_records_and_reads) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c;
  static char big[60001], text[70000];
  uint8_t frame[200];
  static const uint8_t mask[4] = { 1, 2, 3, 4 };
  char cid[23];
  size_t n, len;
  BIO *mem;
  int one = 1;
  if (e == NULL) return;
  reset_events();
  c4j_new_id(cid);
  CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", NULL), 101);
  if (c.ssl == NULL) {
    finish(e);
    return;
  }
  CHECK_EQ(read_text(&c, text, sizeof(text)), 0);
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  /* From here the client's records go into a memory BIO first. */
  mem = BIO_new(BIO_s_mem());
  SSL_set0_wbio(ssl_of(&c), mem);
  /* One frame, three records (2 bytes, 5, the rest), sent byte by
   * byte and then 3 at a time. */
  n = wsc_frame_write(frame, WSC_OP_TEXT, 1, mask, "{\"split\":\"records\"}", 19);
  CHECK(SSL_write(ssl_of(&c), frame, 2) == 2);
  CHECK(SSL_write(ssl_of(&c), frame + 2, 5) == 5);
  CHECK(SSL_write(ssl_of(&c), frame + 7, (int)n - 7) == (int)n - 7);
  send_in_pieces(&c, mem, 1);
  event_t *ev = wait_event(e, C4J_EV_MESSAGE, cid);
  CHECK(ev != NULL && strcmp(ev->text, "{\"split\":\"records\"}") == 0);
  CHECK(SSL_write(ssl_of(&c), frame, (int)n) == (int)n);
  CHECK(SSL_write(ssl_of(&c), frame, (int)n) == (int)n);
  send_in_pieces(&c, mem, 3);
  CHECK(wait_event(e, C4J_EV_MESSAGE, cid) != NULL);
  CHECK(wait_event(e, C4J_EV_MESSAGE, cid) != NULL);
  /* A message of 60000 bytes: four records of the client's, sent in
   * pieces of 1000. */
  memset(big, 'x', 60000);
  big[0] = '"';
  big[59999] = '"';
  uint8_t *f = malloc(60000 + 14);
  n = wsc_frame_write(f, WSC_OP_TEXT, 1, mask, big, 60000);
  CHECK(SSL_write(ssl_of(&c), f, (int)n) == (int)n);
  free(f);
  send_in_pieces(&c, mem, 1000);
  ev = wait_event(e, C4J_EV_MESSAGE, cid);
  CHECK(ev != NULL && ev->text[0] == '"'); /* the event keeps 255 bytes */
  SSL_set0_wbio(ssl_of(&c), BIO_new_socket(c.fd, BIO_NOCLOSE));
  /* And the server's: a broadcast of 50000 bytes is 4 records. */
  big[50000] = '\0';
  big[49999] = '"';
  CHECK_EQ(c4j_send_all(e, "news", 4, big, 50000, 1), 0);
  CHECK_EQ(read_frame(&c, text, sizeof(text), &len), WSC_OP_TEXT);
  CHECK(len > 50000 && strstr(text, "xxxxxxxx\"") != NULL);
  client_close(&c);
  finish(e);
}

TEST(close_notify) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c;
  char cid[23], text[256];
  if (e == NULL) return;
  reset_events();
  /* The server closes: close frame, close_notify, FIN. */
  c4j_new_id(cid);
  CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", NULL), 101);
  CHECK_EQ(read_text(&c, text, sizeof(text)), 0);
  CHECK_EQ(c4j_drop(e, cid, strlen(cid), C4J_CLOSE_DROPPED, "bye"), 0);
  CHECK_EQ(read_close(&c, text, sizeof(text)), C4J_CLOSE_DROPPED);
  CHECK_STR(text, "bye");
  send_frame(&c, WSC_OP_CLOSE, "\x0f\xa3", 2);
  CHECK(wait_eof(&c));
  CHECK_EQ(c.tls_notified, 1);
  client_close(&c);
  /* The client closes the WebSocket: the echo, then close_notify. */
  c4j_new_id(cid);
  CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", NULL), 101);
  CHECK_EQ(read_text(&c, text, sizeof(text)), 0);
  send_frame(&c, WSC_OP_CLOSE, "\x03\xe8", 2);
  CHECK_EQ(read_close(&c, NULL, 0), 1000);
  CHECK(wait_eof(&c));
  CHECK_EQ(c.tls_notified, 1);
  event_t *ev = wait_event(e, C4J_EV_DROP, cid);
  CHECK(ev != NULL && ev->code == 1000);
  client_close(&c);
  /* The client sends close_notify alone: the connection is lost. */
  c4j_new_id(cid);
  CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", NULL), 101);
  CHECK_EQ(read_text(&c, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
  SSL_shutdown(ssl_of(&c));
  ev = wait_event(e, C4J_EV_DROP, cid);
  CHECK(ev != NULL && ev->code == 1006);
  CHECK(wait_eof(&c));
  CHECK_EQ(c.tls_notified, 1);
  client_close(&c);
  /* The engine stops: 1001, then close_notify. */
  c4j_new_id(cid);
  CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", NULL), 101);
  CHECK_EQ(read_text(&c, text, sizeof(text)), 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
  finish(e);
  CHECK_EQ(read_close(&c, text, sizeof(text)), C4J_CLOSE_GOING_AWAY);
  CHECK(wait_eof(&c));
  CHECK_EQ(c.tls_notified, 1);
  client_close(&c);
}

TEST(resumption_and_key_update) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c;
  char cid[23], text[256];
  int versions[2] = { TLS1_3_VERSION, TLS1_2_VERSION };
  if (e == NULL) return;
  reset_events();
  for (int v = 0; v < 2; v++) {
    wsc_tls_opts_t o = { 0 };
    SSL_SESSION *s;
    o.max = versions[v];
    c4j_new_id(cid);
    CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", &o), 101);
    CHECK_EQ(read_text(&c, text, sizeof(text)), 0); /* reads the ticket too */
    s = c.ssl ? SSL_get1_session(ssl_of(&c)) : NULL;
    CHECK(s != NULL && SSL_SESSION_is_resumable(s));
    /* (Closed without close_notify, OpenSSL's client would not resume.) */
    if (c.ssl != NULL) SSL_shutdown(ssl_of(&c));
    client_close(&c);
    /* Resumed: the records after a ticket have the right numbers. */
    o.session = s;
    c4j_new_id(cid);
    CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", &o), 101);
    CHECK(c.ssl != NULL && SSL_session_reused(ssl_of(&c)) == 1);
    if (c.ssl != NULL) exchange(e, &c, cid);
    /* TLS 1.3: the client updates its key and asks for ours. */
    if (versions[v] == TLS1_3_VERSION && c.ssl != NULL) {
      for (int i = 0; i < 3; i++) {
        CHECK(SSL_key_update(ssl_of(&c), SSL_KEY_UPDATE_REQUESTED) == 1);
        send_text(&c, "{\"after\":\"key update\"}");
        event_t *ev = wait_event(e, C4J_EV_MESSAGE, cid);
        CHECK(ev != NULL && strstr(ev->text, "key update") != NULL);
        CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":\"new key\"}", 15, 1), 0);
        CHECK_EQ(read_text(&c, text, sizeof(text)), 0);
        CHECK(strstr(text, "new key") != NULL);
      }
    }
    SSL_SESSION_free(s);
    client_close(&c);
  }
  finish(e);
}

TEST(garbage_and_plain_http_instead_of_a_client_hello) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c;
  uint8_t junk[3000];
  char cid[23];
  if (e == NULL) return;
  reset_events();
  /* Random bytes, then a record header announcing too much: closed. */
  for (int i = 0; i < 2; i++) {
    memset(&c, 0, offsetof(client_t, buf));
    c.fd = tcp_connect(c4j_engine_port(e), 0);
    RAND_bytes(junk, sizeof(junk));
    if (i == 1) memcpy(junk, "\x16\x03\x01\xff\xff", 5);
    else junk[0] = 0x80; /* no SSLv2 hello either */
    (void)!send(c.fd, junk, sizeof(junk), MSG_NOSIGNAL);
    CHECK(wait_eof(&c));
    close(c.fd);
  }
  /* Plain HTTP: a clear answer. */
  CHECK_EQ(http(&c, c4j_engine_port(e), "GET", "/ws?ticket=x", NULL, NULL,
                NULL), 400);
  CHECK(strstr(body_of(&c), "this port speaks TLS") != NULL);
  close(c.fd);
  /* The port still serves. */
  c4j_new_id(cid);
  CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", NULL), 101);
  CHECK_EQ(read_text(&c, (char *)junk, sizeof(junk)), 0);
  client_close(&c);
  finish(e);
}

TEST(tls11_refused_and_alpn) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  static client_t c;
  wsc_tls_opts_t o = { 0 };
  const unsigned char *p;
  unsigned n;
  if (e == NULL) return;
  o.max = TLS1_1_VERSION;
  CHECK_EQ(tls_open(&c, c4j_engine_port(e), &o), WSC_ETLS);
  CHECK(strstr(c.body, "protocol version") != NULL);
  client_close(&c);
  o.max = 0;
  o.alpn = "\x02h2\x08http/1.1";
  CHECK_EQ(tls_open(&c, c4j_engine_port(e), &o), 0);
  SSL_get0_alpn_selected(ssl_of(&c), &p, &n);
  CHECK(n == 8 && memcmp(p, "http/1.1", 8) == 0);
  client_close(&c);
  o.alpn = "\x02h2";
  CHECK_EQ(tls_open(&c, c4j_engine_port(e), &o), 0);
  SSL_get0_alpn_selected(ssl_of(&c), &p, &n);
  CHECK_EQ(n, 0);
  client_close(&c);
  CHECK_EQ(tls_open(&c, c4j_engine_port(e), NULL), 0);
  SSL_get0_alpn_selected(ssl_of(&c), &p, &n);
  CHECK_EQ(n, 0);
  client_close(&c);
  finish(e);
}

TEST(reload) {
  char crt[128], key[128], two_crt[128], two_key[128], cn[64], text[256];
  char cid1[23], cid2[23];
  static client_t c1, c2;
  c4j_engine_t *e;
  snprintf(crt, sizeof(crt), "%s/live.crt", dir);
  snprintf(key, sizeof(key), "%s/live.key", dir);
  copy_file(ec_crt, crt);
  copy_file(ec_key, key);
  make_cert("two", "two", 0, two_crt, two_key);
  e = start_tls(crt, key);
  if (e == NULL) return;
  reset_events();
  c4j_new_id(cid1);
  CHECK_EQ(tls_attach(e, &c1, cid1, "[\"news\"]", NULL), 101);
  peer_cn(&c1, cn, sizeof(cn));
  CHECK_STR(cn, "one");
  CHECK_EQ(read_text(&c1, text, sizeof(text)), 0);
  /* A renewed certificate: the next connection has it. */
  copy_file(two_crt, crt);
  copy_file(two_key, key);
  CHECK_EQ(c4j_tls_reload(e), 0);
  c4j_new_id(cid2);
  CHECK_EQ(tls_attach(e, &c2, cid2, "[\"news\"]", NULL), 101);
  peer_cn(&c2, cn, sizeof(cn));
  CHECK_STR(cn, "two");
  CHECK_EQ(read_text(&c2, text, sizeof(text)), 0);
  /* The old connection goes on. */
  CHECK_EQ(c4j_send_all(e, "news", 4, "{\"k\":\"both\"}", 12, 1), 0);
  CHECK_EQ(read_text(&c1, text, sizeof(text)), 0);
  CHECK(strstr(text, "both") != NULL);
  CHECK_EQ(read_text(&c2, text, sizeof(text)), 0);
  CHECK(strstr(text, "both") != NULL);
  client_close(&c2);
  /* A broken key: refused with the reason, the last good one kept. */
  write_file(key, "not a key\n");
  CHECK_EQ(c4j_tls_reload(e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(), "tls_key: not a PEM private key", 30) == 0);
  copy_file(ec_key, key); /* one's key under two's certificate */
  CHECK_EQ(c4j_tls_reload(e), C4J_EINVAL_CONFIG);
  CHECK(strncmp(c4j_config_error(),
                "tls_key: does not match the certificate in tls_cert", 51) == 0);
  c4j_new_id(cid2);
  CHECK_EQ(tls_attach(e, &c2, cid2, "[\"news\"]", NULL), 101);
  peer_cn(&c2, cn, sizeof(cn));
  CHECK_STR(cn, "two");
  client_close(&c2);
  client_close(&c1);
  finish(e);
  /* Without TLS there is nothing to reload. */
  e = start_default();
  if (e == NULL) return;
  CHECK_EQ(c4j_tls_reload(e), C4J_ESTATE);
  finish(e);
}

/* c4j_engine_new with tls_cert and tls_key: the error it gives. */
static const char *refusal(const char *crt, const char *key) {
  c4j_config_t cfg;
  c4j_engine_t *e = NULL;
  base_config(&cfg);
  cfg.tls_cert = crt;
  cfg.tls_key = key;
  int rc = c4j_engine_new(&cfg, &e);
  CHECK_EQ(rc, C4J_EINVAL_CONFIG);
  if (rc == 0) c4j_engine_free(e);
  return c4j_config_error();
}

TEST(bad_files_name_the_field) {
  char text[256], notpem[128], expect[512];
  snprintf(notpem, sizeof(notpem), "%s/notpem", dir);
  write_file(notpem, "hello\n");
  CHECK_STR(refusal("/nonexistent/c.pem", ec_key),
            "tls_cert: cannot read /nonexistent/c.pem: No such file or "
            "directory");
  CHECK_STR(refusal(ec_crt, "/nonexistent/k.pem"),
            "tls_key: cannot read /nonexistent/k.pem: No such file or "
            "directory");
  snprintf(expect, sizeof(expect), "tls_key: cannot read %s: Is a directory",
           dir);
  CHECK_STR(refusal(ec_crt, dir), expect);
  snprintf(expect, sizeof(expect), "tls_cert: not a PEM certificate: %s",
           notpem);
  CHECK_STR(refusal(notpem, ec_key), expect);
  /* A key where the certificate should be, and the other way round. */
  snprintf(expect, sizeof(expect), "tls_cert: not a PEM certificate: %s",
           ec_key);
  CHECK_STR(refusal(ec_key, ec_key), expect);
  snprintf(text, sizeof(text), "%s", refusal(ec_crt, ec_crt));
  CHECK(strncmp(text, "tls_key: not a PEM private key", 30) == 0);
  snprintf(expect, sizeof(expect),
           "tls_key: does not match the certificate in tls_cert: %s", rsa_key);
  CHECK_STR(refusal(ec_crt, rsa_key), expect);
  CHECK_STR(refusal(ec_crt, NULL),
            "tls_key: required with tls_cert (the certificate's private key)");
  CHECK_STR(refusal("", ec_key),
            "tls_cert: required with tls_key (the key's certificate)");
  if (geteuid() != 0) { /* root reads anything */
    char locked[128];
    snprintf(locked, sizeof(locked), "%s/locked.key", dir);
    copy_file(ec_key, locked);
    chmod(locked, 0);
    snprintf(expect, sizeof(expect),
             "tls_key: cannot read %s: Permission denied", locked);
    CHECK_STR(refusal(ec_crt, locked), expect);
  }
}

TEST(slow_consumer_over_tls) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  static client_t c;
  static char data[60000];
  char cid[23], ticket[2048], target[2200];
  base_config(&cfg);
  cfg.tls_cert = ec_crt;
  cfg.tls_key = ec_key;
  cfg.max_queue = 256 * 1024;
  if ((e = start(&cfg)) == NULL) return;
  reset_events();
  c4j_new_id(cid);
  mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
  CHECK_EQ(wsc_open(&c, c4j_engine_port(e), 4096), 0);
  CHECK_EQ(wsc_tls(&c, NULL), 0);
  CHECK_EQ(wsc_handshake(&c, target, NULL), 101);
  CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
  memset(data, 'y', sizeof(data));
  data[0] = data[sizeof(data) - 1] = '"';
  /* The client reads nothing: the kernel fills, then max_queue. */
  event_t *ev = NULL;
  for (int i = 0; i < 200 && ev == NULL; i++) {
    c4j_send_all(e, "news", 4, data, sizeof(data), 1);
    usleep(5000);
    for (int k = 0; k < nevents; k++)
      if (events[k].type == C4J_EV_DROP && strcmp(events[k].cid, cid) == 0)
        ev = &events[k];
    pump(e, 1);
  }
  if (ev == NULL) ev = wait_event(e, C4J_EV_DROP, cid);
  CHECK(ev != NULL && ev->code == C4J_CLOSE_SLOW_CONSUMER);
  client_close(&c);
  finish(e);
}

/* A full TLS port (listener.c's admission): the oldest unfinished request
 * gives its place up, answered 503 inside TLS once its handshake is done,
 * only closed before (a plain answer would be garbage to a TLS client);
 * a socket that finds every place held by an attached connection is
 * closed with nothing written. */
TEST(full_tls_port) {
  c4j_config_t cfg;
  c4j_engine_t *e;
  static client_t q, t, a, b, r;
  char text[512];
  c4j_stats_t st;
  base_config(&cfg);
  cfg.tls_cert = ec_crt;
  cfg.tls_key = ec_key;
  cfg.max_conns = 2;
  cfg.max_pending_per_addr = 0;
  cfg.handshake_timeout_ms = 30000; /* a tenth of it when full */
  if ((e = start(&cfg)) == NULL) return;
  /* q sent nothing (no ClientHello); t did its handshake and half a
   * request. */
  connect_quiet(e, &q, "127.0.0.2", NULL, 1);
  usleep(80000);
  CHECK_EQ(tls_open(&t, c4j_engine_port(e), NULL), 0);
  CHECK_EQ(wsc_write(&t, "GET /ws?tic", 11), 0);
  for (uint64_t end = ms_now() + 2000; ms_now() < end; usleep(5000)) {
    c4j_engine_stats(e, &st);
    if (st.pending >= 2) break;
  }
  usleep(80000);
  CHECK_EQ(tls_attach(e, &a, "f1", "[]", NULL), 101);
  CHECK_EQ(read_text(&a, text, sizeof(text)), 0);
  CHECK_EQ(http_answer(&q), -1);
  CHECK_EQ(q.len, 0);
  CHECK_EQ(tls_attach(e, &b, "f2", "[]", NULL), 101);
  CHECK_EQ(read_text(&b, text, sizeof(text)), 0);
  while (t.len + 1 < sizeof(t.buf) && fill(&t) > 0) {}
  t.buf[t.len] = '\0';
  CHECK(strncmp((char *)t.buf, "HTTP/1.1 503", 12) == 0);
  CHECK(strstr((char *)t.buf, "server busy: request not complete") != NULL);
  client_close(&t);
  c4j_engine_stats(e, &st);
  CHECK_EQ(st.evicted, 2);
  /* Every place held by an attached connection. */
  memset(&r, 0, offsetof(client_t, buf));
  r.fd = tcp_connect_from(c4j_engine_port(e), "127.0.0.3");
  CHECK(r.fd >= 0);
  for (uint64_t end = ms_now() + 2000; ms_now() < end; usleep(5000)) {
    c4j_engine_stats(e, &st);
    if (st.refused_full >= 1) break;
  }
  CHECK_EQ(st.refused_full, 1);
  CHECK_EQ(http_answer(&r), -1);
  CHECK_EQ(r.len, 0);
  client_close(&a);
  client_close(&b);
  finish(e);
}

TEST(adopted_sockets_stay_plain) {
  c4j_engine_t *e = start_tls(ec_crt, ec_key);
  char ticket[2048], req[4096], cid[23];
  int lfd, port, fd;
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  static client_t c;
  if (e == NULL) return;
  reset_events();
  /* A connection another server of the process accepted. */
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 4) == 0);
  getsockname(lfd, (struct sockaddr *)&a, &alen);
  port = ntohs(a.sin_port);
  memset(&c, 0, offsetof(client_t, buf));
  c.fd = tcp_connect(port, 0);
  fd = accept(lfd, NULL, NULL);
  close(lfd);
  c4j_new_id(cid);
  mint(e, cid, NULL, "[\"news\"]", 60, ticket, sizeof(ticket));
  snprintf(req, sizeof(req),
           "GET /ws?ticket=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: " WSC_KEY "\r\n\r\n", ticket);
  CHECK_EQ(c4j_adopt(e, fd, -1, req, strlen(req)), 0);
  for (uint64_t t0 = ms_now(); ms_now() - t0 < 5000;) {
    c.buf[c.len] = '\0';
    if (strstr((char *)c.buf, "\r\n\r\n") != NULL) break;
    if (fill(&c) <= 0) break;
  }
  CHECK(strncmp((char *)c.buf, "HTTP/1.1 101", 12) == 0);
  CHECK(wait_event(e, C4J_EV_CONNECT, cid) != NULL);
  close(c.fd);
  finish(e);
}

/* ---- Memory ------------------------------------------------------------------ */

/* A child (forked before the engine starts: it holds no thread of it)
 * opens n WebSockets, TLS or not, when told the port on `in`, reports
 * "ok" on `out` and idles until `in` closes. */
static void idle_clients(int in, int out, int n, int tls) {
  char line[64], ticket[2048], target[2200], claims[256], cid[23];
  wsc_t *cs = calloc((size_t)n, sizeof(wsc_t));
  int port = 0, ok = 0;
  FILE *f = fdopen(in, "r");
  if (cs == NULL || f == NULL || fgets(line, sizeof(line), f) == NULL) _exit(1);
  port = atoi(line);
  for (int i = 0; i < n; i++) {
    c4j_new_id(cid);
    snprintf(claims, sizeof(claims),
             "{\"cid\":\"%s\",\"exp\":%ld,\"ch\":[\"news\"]}", cid,
             (long)time(NULL) + 600);
    wsc_ticket(SECRET, sizeof(SECRET) - 1, claims, ticket, sizeof(ticket));
    snprintf(target, sizeof(target), "/ws?ticket=%s", ticket);
    if (wsc_open(&cs[i], port, 0) != 0 || (tls && wsc_tls(&cs[i], NULL) != 0) ||
        wsc_handshake(&cs[i], target, NULL) != 101)
      break;
    ok++;
  }
  dprintf(out, "%d\n", ok);
  while (fgets(line, sizeof(line), f) != NULL) {}
  _exit(0);
}

/* The bytes the engine holds per idle WebSocket (TLS or not): what the
 * process has allocated once n clients of a child attached and the tick
 * gave their output rings back, over n, above one warm-up connection. */
static long held_per_connection(int tls, int n) {
  int to[2], from[2], got = 0;
  pid_t pid;
  char line[32];
  size_t before, after;
  c4j_engine_t *e;
  static client_t c;
  char cid[23], text[256];
  CHECK(pipe(to) == 0 && pipe(from) == 0);
  fflush(NULL);
  if ((pid = fork()) == 0) {
    close(to[1]);
    close(from[0]);
    idle_clients(to[0], from[1], n, tls);
  }
  close(to[0]);
  close(from[1]);
  e = tls ? start_tls(ec_crt, ec_key) : start_default();
  if (e == NULL) return -1;
  reset_events();
  /* Warm up: the worker's cipher context, OpenSSL's caches, the maps. */
  for (int i = 0; i < 4; i++) {
    c4j_new_id(cid);
    if (tls) CHECK_EQ(tls_attach(e, &c, cid, "[\"news\"]", NULL), 101);
    else CHECK_EQ(attach(e, &c, cid, "[\"news\"]"), 101);
    CHECK_EQ(read_text(&c, text, sizeof(text)), 0);
    if (i < 3) client_close(&c);
  }
  usleep(1500 * 1000);
  while (pump(e, 10) > 0) {}
  before = allocated_bytes();
  dprintf(to[1], "%d\n", c4j_engine_port(e));
  for (int k = 0; k < 300 && read(from[0], line, sizeof(line)) <= 0; k++)
    usleep(100000);
  got = atoi(line);
  CHECK_EQ(got, n);
  usleep(1500 * 1000); /* the tick gives the output rings back */
  while (pump(e, 10) > 0) {}
  reset_events();
  after = allocated_bytes();
  close(to[1]);
  waitpid(pid, NULL, 0);
  close(from[0]);
  client_close(&c);
  finish(e);
  return got > 0 ? (long)(after - before) / got : -1;
}

TEST(memory_of_an_idle_tls_connection) {
  long plain = held_per_connection(0, 200);
  long tls = held_per_connection(1, 200);
  printf("memory: an idle WebSocket holds %ld bytes (allocated), %ld with "
         "TLS: %ld more\n", plain, tls, tls - plain);
  CHECK(plain > 0 && tls > 0);
  CHECK(tls <= 4096); /* issue 10's target */
  /* The record keys, no SSL object (15 KiB), no buffer: about 280 bytes
   * asked for (ASan's count), some 550 with malloc's headers and caches
   * (the cross build's). */
  CHECK(tls - plain <= 1024);
}

/* ---- Setup -------------------------------------------------------------------- */

static void setup(void) {
  snprintf(dir, sizeof(dir), "/tmp/c4j-test-tls-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  make_cert("one", "one", 0, ec_crt, ec_key);
  make_cert("rsa", "one", 1, rsa_crt, rsa_key);
  signal(SIGPIPE, SIG_IGN);
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

TEST(begin) { setup(); }
TEST(end) { teardown(); }

TEST_MAIN(T(begin), T(ws_over_tls_every_suite), T(rsa_certificate),
          T(sse_over_tls), T(stalled_handshake_cut), T(poll_and_cmd_over_tls),
          T(keepalive_over_tls),
          T(frames_split_over_records_and_reads),
          T(close_notify), T(resumption_and_key_update),
          T(garbage_and_plain_http_instead_of_a_client_hello),
          T(tls11_refused_and_alpn), T(reload), T(bad_files_name_the_field),
          T(slow_consumer_over_tls), T(full_tls_port), T(adopted_sockets_stay_plain),
          T(memory_of_an_idle_tls_connection), T(end))
