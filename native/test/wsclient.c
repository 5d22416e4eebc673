/* wsclient.c - the shared WebSocket test client: its codec, its reader for
 * event loops and its blocking client (see wsclient.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include "wsclient.h"

const char *wsc_strerror(int rc) {
  switch (rc) {
#define XX(name, val, msg) case val: return msg;
    WSC_ERRNO_MAP(XX)
#undef XX
    default: return rc >= 0 ? "success" : "unknown error";
  }
}

/* ---- Codec ------------------------------------------------------------- */

int wsc_request(char *out, size_t cap, const char *host, const char *target,
                const char *extra) {
  int n = snprintf(out, cap,
                   "GET %s HTTP/1.1\r\nHost: %s\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: " WSC_KEY "\r\n"
                   "Sec-WebSocket-Version: 13\r\n%s\r\n",
                   target, host, extra ? extra : "");
  return n < 0 || (size_t)n >= cap ? WSC_ETOOBIG : n;
}

long wsc_head(const void *p, size_t n, int *status) {
  static const char accept[] = "\r\nSec-WebSocket-Accept: " WSC_ACCEPT "\r\n";
  const char *s = p, *end = memmem(p, n, "\r\n\r\n", 4);
  size_t head, i = 9;
  if (end == NULL) return 0;
  head = (size_t)(end - s) + 4;
  *status = -1;
  if (head > 9 && memcmp(s, "HTTP/1.1 ", 9) == 0 && s[9] >= '0' &&
      s[9] <= '9') {
    *status = 0;
    for (; i < head && s[i] >= '0' && s[i] <= '9' && *status < 1000; i++)
      *status = *status * 10 + (s[i] - '0');
  }
  if (*status == 101 && memmem(s, head, accept, sizeof(accept) - 1) == NULL)
    return WSC_EACCEPT;
  return (long)head;
}

long wsc_frame_parse(const void *p, size_t n, wsc_frame_t *f) {
  const uint8_t *b = p;
  size_t h = 2;
  uint64_t len;
  if (n < 2) return 0;
  if (b[1] & 0x80) return WSC_EMASKED;
  len = b[1] & 0x7f;
  if (len == 126) {
    h = 4;
    if (n < h) return 0;
    len = (uint64_t)b[2] << 8 | b[3];
  } else if (len == 127) {
    h = 10;
    if (n < h) return 0;
    len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | b[2 + i];
  }
  if (len > n - h) return 0;
  f->op = b[0] & 0x0f;
  f->fin = b[0] >> 7;
  f->rsv = (b[0] >> 4) & 7;
  f->data = b + h;
  f->len = len;
  return (long)(h + len);
}

size_t wsc_frame_write(uint8_t *out, int op, int fin, const uint8_t mask[4],
                       const void *data, size_t len) {
  const uint8_t *d = data;
  size_t h = 2;
  out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
  if (len < 126) {
    out[1] = (uint8_t)(0x80 | len);
  } else if (len <= 0xffff) {
    out[1] = 0x80 | 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    h = 4;
  } else {
    out[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++)
      out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    h = 10;
  }
  memcpy(out + h, mask, 4);
  h += 4;
  for (size_t i = 0; i < len; i++) out[h + i] = d[i] ^ mask[i & 3];
  return h + len;
}

/* base64url without padding of p[0..n) at out, no NUL; returns the length. */
static size_t b64url(const void *p, size_t n, char *out) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const uint8_t *in = p;
  size_t j = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    out[j++] = t[v >> 18 & 63];
    out[j++] = t[v >> 12 & 63];
    if (i + 1 < n) out[j++] = t[v >> 6 & 63];
    if (i + 2 < n) out[j++] = t[v & 63];
  }
  return j;
}

size_t wsc_b64url(const void *p, size_t n, char *out) {
  size_t k = b64url(p, n, out);
  out[k] = '\0';
  return k;
}

static size_t b64url_len(size_t n) { return (n * 4 + 2) / 3; }

int wsc_ticket(const void *secret, size_t secret_len, const char *claims,
               char *out, size_t cap) {
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  size_t cl = strlen(claims), at;
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned maclen = 0;
  if (b64url_len(sizeof(header) - 1) + 1 + b64url_len(cl) + 1 +
          b64url_len(32) >= cap)
    return WSC_ETOOBIG;
  at = b64url(header, sizeof(header) - 1, out);
  out[at++] = '.';
  at += b64url(claims, cl, out + at);
  if (HMAC(EVP_sha256(), secret, (int)secret_len, (const uint8_t *)out, at,
           mac, &maclen) == NULL)
    return WSC_ETOOBIG;
  out[at++] = '.';
  at += b64url(mac, maclen, out + at);
  out[at] = '\0';
  return (int)at;
}

int wsc_reader_feed(wsc_reader_t *r, const void *p, size_t n, wsc_frame_cb cb,
                    void *arg) {
  const uint8_t *in = p;
  do {
    size_t take = sizeof(r->buf) - r->len, at = 0;
    if (take > n) take = n;
    memcpy(r->buf + r->len, in, take);
    r->len += take;
    in += take;
    n -= take;
    for (;;) {
      long k;
      if (!r->upgraded) {
        int status;
        if ((k = wsc_head(r->buf, r->len, &status)) <= 0) {
          if (k < 0) return (int)k;
          break;
        }
        if (status < 0) return WSC_EHEAD;
        if (status != 101) return WSC_EREFUSED;
        r->upgraded = 1;
      } else {
        wsc_frame_t f;
        if ((k = wsc_frame_parse(r->buf + at, r->len - at, &f)) <= 0) {
          if (k < 0) return (int)k;
          break;
        }
        cb(arg, &f);
      }
      at += (size_t)k;
    }
    memmove(r->buf, r->buf + at, r->len - at);
    r->len -= at;
    if (r->len == sizeof(r->buf)) return WSC_ETOOBIG;
  } while (n > 0);
  return 0;
}

/* ---- Blocking client --------------------------------------------------- */

uint64_t wsc_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int wsc_connect(int port, int rcvbuf) {
  struct sockaddr_in a;
  struct timeval tv = { 5, 0 };
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int wsc_open(wsc_t *c, int port, int rcvbuf) {
  memset(c, 0, sizeof(*c));
  c->fd = wsc_connect(port, rcvbuf);
  return c->fd < 0 ? WSC_ECONNECT : 0;
}

void wsc_close(wsc_t *c) {
  SSL_free(c->ssl);
  c->ssl = NULL;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

int wsc_tls(wsc_t *c, const wsc_tls_opts_t *o) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *s = ctx ? SSL_new(ctx) : NULL;
  int rc = -1;
  ERR_clear_error();
  if (s != NULL) {
    if (o != NULL && o->min) SSL_set_min_proto_version(s, o->min);
    if (o != NULL && o->max) SSL_set_max_proto_version(s, o->max);
    if (o != NULL && ((o->min && o->min < TLS1_2_VERSION) ||
                      (o->max && o->max < TLS1_2_VERSION))) {
      SSL_set_security_level(s, 0);
      SSL_set_cipher_list(s, "DEFAULT:@SECLEVEL=0");
    }
    if (o != NULL && o->ciphers != NULL) SSL_set_cipher_list(s, o->ciphers);
    if (o != NULL && o->suites != NULL) SSL_set_ciphersuites(s, o->suites);
    if (o != NULL && o->alpn != NULL)
      SSL_set_alpn_protos(s, (const unsigned char *)o->alpn,
                          (unsigned)strlen(o->alpn));
    if (o != NULL && o->session != NULL) SSL_set_session(s, o->session);
    SSL_set_tlsext_host_name(s, "localhost");
    SSL_set_verify(s, SSL_VERIFY_NONE, NULL);
    SSL_set_fd(s, c->fd);
    rc = SSL_connect(s);
  }
  SSL_CTX_free(ctx); /* s keeps its reference */
  if (rc != 1) {
    const char *why = ERR_reason_error_string(ERR_peek_error());
    snprintf(c->body, sizeof(c->body), "%s", why ? why : "no reason");
    SSL_free(s);
    ERR_clear_error();
    return WSC_ETLS;
  }
  c->ssl = s;
  return 0;
}

int wsc_write(wsc_t *c, const void *p, size_t n) {
  if (c->ssl != NULL) {
    ERR_clear_error();
    return n == 0 || SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : WSC_ESEND;
  }
  return send(c->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : WSC_ESEND;
}

/* SSL_read's answer as recv's: bytes, 0 at the end, -1 with errno. */
static ssize_t tls_recv(wsc_t *c, void *p, size_t n) {
  int r, err;
  ERR_clear_error();
  r = SSL_read(c->ssl, p, (int)n);
  if (r > 0) return r;
  err = SSL_get_error(c->ssl, r);
  if (err == SSL_ERROR_ZERO_RETURN) {
    c->tls_notified = 1;
    return 0;
  }
  if (err == SSL_ERROR_WANT_READ) {
    errno = EAGAIN;
    return -1;
  }
  if (err == SSL_ERROR_SSL &&
      ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
    return 0;
  if (err == SSL_ERROR_SYSCALL && errno == 0) return 0;
  if (err != SSL_ERROR_SYSCALL) errno = ECONNRESET;
  return -1;
}

ssize_t wsc_fill(wsc_t *c) {
  ssize_t r;
  if (c->len == sizeof(c->buf)) {
    errno = ENOBUFS;
    return -1;
  }
  if (c->deadline_ms != 0 && (c->ssl == NULL || SSL_pending(c->ssl) == 0)) {
    struct pollfd p = { c->fd, POLLIN, 0 };
    uint64_t now = wsc_now_ms();
    if (now >= c->deadline_ms ||
        poll(&p, 1, (int)(c->deadline_ms - now)) == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
  }
  if (c->ssl != NULL)
    r = tls_recv(c, c->buf + c->len, sizeof(c->buf) - c->len);
  else
    r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
  if (r > 0) c->len += (size_t)r;
  return r;
}

void wsc_consume(wsc_t *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

/* Reads more: 0, or why not as a WSC_E* code. */
static int more(wsc_t *c) {
  ssize_t r = wsc_fill(c);
  if (r > 0) return 0;
  if (r == 0) return WSC_ECLOSED;
  if (errno == ENOBUFS) return WSC_ETOOBIG;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT)
    return WSC_ETIMEDOUT;
  return WSC_ECLOSED;
}

int wsc_handshake(wsc_t *c, const char *target, const char *extra) {
  char req[32768];
  int n = wsc_request(req, sizeof(req), "127.0.0.1", target, extra), rc;
  if (n < 0) return n;
  if (wsc_write(c, req, (size_t)n) < 0) return WSC_ESEND;
  for (;;) {
    long head = wsc_head(c->buf, c->len, &c->status);
    if (head < 0) return (int)head;
    if (head > 0) {
      if (c->status == 101) {
        wsc_consume(c, (size_t)head);
        return 101;
      }
      /* Error answers close the connection: read the body to the end. */
      c->buf[head - 1] = '\0';
      while (wsc_fill(c) > 0) {}
      snprintf(c->body, sizeof(c->body), "%.*s", (int)(c->len - (size_t)head),
               (char *)c->buf + head);
      return c->status < 0 ? WSC_EHEAD : c->status;
    }
    if ((rc = more(c)) < 0) return rc;
  }
}

int wsc_upgrade(wsc_t *c, int port, const char *target, const char *extra,
                int rcvbuf) {
  int rc = wsc_open(c, port, rcvbuf);
  return rc < 0 ? rc : wsc_handshake(c, target, extra);
}

int wsc_read_frame(wsc_t *c, char *out, size_t cap, size_t *len) {
  for (;;) {
    wsc_frame_t f;
    long n = wsc_frame_parse(c->buf, c->len, &f);
    int rc;
    if (n < 0) return (int)n;
    if (n > 0) {
      size_t k = f.len < cap - 1 ? (size_t)f.len : cap - 1;
      memcpy(out, f.data, k);
      out[k] = '\0';
      if (len != NULL) *len = (size_t)f.len;
      wsc_consume(c, (size_t)n);
      return f.op;
    }
    if ((rc = more(c)) < 0) return rc;
  }
}

int wsc_read_text(wsc_t *c, char *out, size_t cap) {
  for (;;) {
    int op = wsc_read_frame(c, out, cap, NULL);
    if (op == WSC_OP_PING) continue;
    if (op < 0) return op;
    return op == WSC_OP_TEXT ? 0 : WSC_EFRAME;
  }
}

int wsc_read_close(wsc_t *c, char *reason, size_t cap) {
  char p[256];
  size_t n;
  for (;;) {
    int op = wsc_read_frame(c, p, sizeof(p), &n);
    if (op < 0) return op;
    if (op != WSC_OP_CLOSE) continue;
    if (n < 2) return 1005;
    if (reason != NULL) snprintf(reason, cap, "%.*s", (int)n - 2, p + 2);
    return (uint8_t)p[0] << 8 | (uint8_t)p[1];
  }
}

int wsc_wait_eof(wsc_t *c) {
  for (;;) {
    ssize_t r;
    c->len = 0;
    r = wsc_fill(c);
    if (r == 0) return 1;
    if (r < 0) return errno == ECONNRESET;
  }
}

int wsc_send_frame(wsc_t *c, int op, int fin, const void *data, size_t len) {
  static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  uint8_t *f = malloc(len + 14);
  size_t n;
  int rc;
  if (f == NULL) return WSC_ESEND;
  n = wsc_frame_write(f, op, fin, mask, data, len);
  rc = wsc_write(c, f, n);
  free(f);
  return rc;
}

int wsc_send_text(wsc_t *c, const char *text) {
  return wsc_send_frame(c, WSC_OP_TEXT, 1, text, strlen(text));
}
