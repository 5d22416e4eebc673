/* test-node-client.c - the WebSocket client of test-node.sh: mints an HS256
 * ticket, attaches to /ws, optionally sends messages (in order, after the
 * open frame), and prints each text frame it gets as a line, and each
 * binary one as "binary <head> <hex of the bytes>" (docs/protocol.md
 * section 11), until the server closes or the time is up.  Exit 0 after a
 * close frame, 1 otherwise.  A message "pub:CH:ID:HEX" is sent as the
 * binary pub of those bytes on CH, "raw:HEX" as a binary message of those
 * bytes, anything else as text.  It is the shared test client
 * (test/wsclient.h) with a deadline.  PORT tls:N connects with TLS and
 * first prints "tls: <version> <ALPN> CN=<the certificate's common name>".
 *   test-node-client [tls:]PORT SECRET CID USER CHANNEL SECONDS [MESSAGE...] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../test/wsclient.h"

/* What the server's TLS agreed on, as one line. */
static void print_tls(wsc_t *c) {
  SSL *s = c->ssl;
  const unsigned char *alpn;
  unsigned n = 0;
  char cn[256] = "";
  X509 *x = SSL_get1_peer_certificate(s);
  if (x)
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                              sizeof cn);
  X509_free(x);
  SSL_get0_alpn_selected(s, &alpn, &n);
  printf("tls: %s %.*s CN=%s\n", SSL_get_version(s), n ? (int)n : 4,
         n ? (const char *)alpn : "none", cn);
}

/* Decodes hex into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  unsigned v;
  while (n < cap && sscanf(hex + 2 * n, "%2x", &v) == 1) out[n++] = (uint8_t)v;
  return n;
}

/* Sends one message of argv as the header says. */
static int send_message(wsc_t *c, const char *m) {
  static uint8_t msg[8192];
  size_t n = 0;
  if (strncmp(m, "raw:", 4) == 0) {
    n = unhex(m + 4, msg, sizeof msg);
    return wsc_send_frame(c, WSC_OP_BINARY, 1, msg, n);
  }
  if (strncmp(m, "pub:", 4) == 0) {
    char ch[256];
    long id;
    int used = 0;
    if (sscanf(m + 4, "%255[^:]:%ld:%n", ch, &id, &used) < 2) return -1;
    n = (size_t)snprintf((char *)msg + 2, sizeof msg - 2,
                         "{\"t\":\"pub\",\"id\":%ld,\"ch\":\"%s\"}", id, ch);
    msg[0] = (uint8_t)(n >> 8);
    msg[1] = (uint8_t)n;
    n += 2;
    n += unhex(m + 4 + used, msg + n, sizeof msg - n);
    return wsc_send_frame(c, WSC_OP_BINARY, 1, msg, n);
  }
  return wsc_send_text(c, m);
}

int main(int argc, char **argv) {
  static wsc_t c;
  static char frame[1 << 16];
  char claims[512], tok[2048], target[2200];
  size_t len;
  int op, status, sent = argc < 8, tls;
  if (argc < 7) {
    fprintf(stderr,
            "usage: %s [tls:]PORT SECRET CID USER CHANNEL SECONDS [MESSAGE...]\n",
            argv[0]);
    return 2;
  }
  snprintf(claims, sizeof claims,
           "{\"cid\":\"%s\",\"sub\":\"%s\",\"exp\":%ld,\"ch\":[\"%s\"]}",
           argv[3], argv[4], (long)time(NULL) + 60, argv[5]);
  if (wsc_ticket(argv[2], strlen(argv[2]), claims, tok, sizeof tok) < 0)
    return 2;
  snprintf(target, sizeof target, "/ws?ticket=%s", tok);
  setvbuf(stdout, NULL, _IOLBF, 0);

  tls = strncmp(argv[1], "tls:", 4) == 0;
  if (wsc_open(&c, atoi(argv[1] + (tls ? 4 : 0)), 0) < 0) {
    perror("connect");
    return 1;
  }
  if (tls) {
    wsc_tls_opts_t o = {"\x08http/1.1", 0, 0, NULL, NULL, NULL};
    if (wsc_tls(&c, &o) < 0) {
      printf("tls failed: %s\n", c.body);
      return 1;
    }
    print_tls(&c);
  }
  c.deadline_ms = wsc_now_ms() + 1000u * (uint64_t)atoi(argv[6]);
  status = wsc_handshake(&c, target, NULL);
  if (status > 0 && status != 101) {
    printf("refused: %.*s\n", (int)strcspn((char *)c.buf, "\r"),
           (char *)c.buf);
    return 1;
  }
  while (status == 101) {
    if ((op = wsc_read_frame(&c, frame, sizeof frame, &len)) < 0) {
      status = op;
      break;
    }
    if (len >= sizeof frame) len = sizeof frame - 1;
    if (op == WSC_OP_TEXT) printf("%.*s\n", (int)len, frame);
    if (op == WSC_OP_BINARY && len >= 2) {
      size_t h = (size_t)(uint8_t)frame[0] << 8 | (uint8_t)frame[1];
      if (h > len - 2) h = len - 2;
      printf("binary %.*s ", (int)h, frame + 2);
      for (size_t i = 2 + h; i < len; i++) printf("%02x", (uint8_t)frame[i]);
      printf("\n");
    }
    if (op == WSC_OP_CLOSE) {
      printf("close %d\n",
             len >= 2 ? (uint8_t)frame[0] << 8 | (uint8_t)frame[1] : 0);
      return 0;
    }
    if (op == WSC_OP_PING && len <= 125 &&
        wsc_send_frame(&c, WSC_OP_PONG, 1, frame, len) < 0)
      return 1;
    for (int m = 7; !sent && m < argc; m++) /* after the open frame */
      if (send_message(&c, argv[m]) < 0) return 1;
    sent = 1;
  }
  if (status == WSC_ETIMEDOUT) printf("timeout\n");
  else if (status != WSC_ECLOSED)
    fprintf(stderr, "test-node-client: %s\n", wsc_strerror(status));
  return 1;
}
