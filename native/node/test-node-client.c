/* test-node-client.c - the WebSocket client of test-node.sh: mints an HS256
 * ticket, attaches to /ws, optionally sends text messages (in order, after
 * the open frame), and prints each text frame it gets as a line until the
 * server closes or the time is up.  Exit 0 after a close frame, 1 otherwise.
 *   test-node-client PORT SECRET CID USER CHANNEL SECONDS [TEXT...] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void b64url(const unsigned char *in, size_t n, char *out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t j = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[j++] = t[v >> 18 & 63];
    out[j++] = t[v >> 12 & 63];
    if (i + 1 < n) out[j++] = t[v >> 6 & 63];
    if (i + 2 < n) out[j++] = t[v & 63];
  }
  out[j] = 0;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s PORT SECRET CID USER CHANNEL SECONDS [TEXT...]\n", argv[0]);
    return 2;
  }
  char payload[512], hdr[64], pl[1024], sig[64], tok[2048], req[2560];
  snprintf(payload, sizeof payload, "{\"cid\":\"%s\",\"sub\":\"%s\",\"exp\":%ld,\"ch\":[\"%s\"]}",
           argv[3], argv[4], (long)time(NULL) + 60, argv[5]);
  const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  b64url((const unsigned char *)h, strlen(h), hdr);
  b64url((const unsigned char *)payload, strlen(payload), pl);
  snprintf(tok, sizeof tok, "%s.%s", hdr, pl);
  unsigned char mac[32];
  unsigned maclen = 0;
  HMAC(EVP_sha256(), argv[2], (int)strlen(argv[2]), (const unsigned char *)tok, strlen(tok),
       mac, &maclen);
  b64url(mac, maclen, sig);
  strcat(tok, ".");
  strcat(tok, sig);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
  int n = snprintf(req, sizeof req,
                   "GET /ws?ticket=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n", tok);
  if (write(fd, req, (size_t)n) != n) return 1;

  static unsigned char buf[1 << 16];
  size_t len = 0;
  int upgraded = 0, sent = argc < 8;
  time_t deadline = time(NULL) + atoi(argv[6]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (time(NULL) < deadline) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = read(fd, buf + len, sizeof buf - len);
    if (r <= 0) return 1;
    len += (size_t)r;
    if (!upgraded) {
      unsigned char *end = memmem(buf, len, "\r\n\r\n", 4);
      if (!end) continue;
      if (memcmp(buf, "HTTP/1.1 101", 12) != 0) {
        printf("refused: %.*s\n", (int)(strchr((char *)buf, '\r') - (char *)buf), buf);
        return 1;
      }
      size_t hl = (size_t)(end + 4 - buf);
      memmove(buf, buf + hl, len - hl);
      len -= hl;
      upgraded = 1;
    }
    for (;;) { /* whole frames; the server's are unmasked */
      if (len < 2) break;
      size_t pl_len = buf[1] & 127, off = 2;
      if (pl_len == 126) {
        if (len < 4) break;
        pl_len = (size_t)buf[2] << 8 | buf[3];
        off = 4;
      } else if (pl_len == 127) {
        if (len < 10) break;
        pl_len = 0;
        for (int i = 2; i < 10; i++) pl_len = pl_len << 8 | buf[i];
        off = 10;
      }
      if (len < off + pl_len) break;
      int op = buf[0] & 15;
      if (op == 1) printf("%.*s\n", (int)pl_len, buf + off);
      if (op == 8) {
        printf("close %d\n", pl_len >= 2 ? buf[off] << 8 | buf[off + 1] : 0);
        return 0;
      }
      if (op == 9) { /* pong with the same payload (short pings only) */
        unsigned char f[2 + 4 + 125] = {0x8A, (unsigned char)(0x80 | pl_len), 1, 2, 3, 4};
        for (size_t i = 0; i < pl_len && i < 125; i++) f[6 + i] = buf[off + i] ^ f[2 + i % 4];
        if (write(fd, f, 6 + pl_len) < 0) return 1;
      }
      memmove(buf, buf + off + pl_len, len - off - pl_len);
      len -= off + pl_len;
      for (int m = 7; !sent && m < argc; m++) { /* after the open frame: masked text frames */
        const char *t = argv[m];
        size_t tl = strlen(t);
        unsigned char f[6 + 125] = {0x81, (unsigned char)(0x80 | tl), 7, 7, 7, 7};
        if (tl > 125) return 2;
        for (size_t i = 0; i < tl; i++) f[6 + i] = (unsigned char)t[i] ^ 7;
        if (write(fd, f, 6 + tl) < 0) return 1;
      }
      sent = 1;
    }
  }
  printf("timeout\n");
  return 1;
}
