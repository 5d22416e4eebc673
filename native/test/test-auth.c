/* test-auth.c - unit tests of HS256 tickets, channel names and base64url. */
#include "test.h"
#include "auth.h"

#include <stdlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const uint8_t key[] = "0123456789abcdef-test-secret";
#define KEY_LEN (sizeof(key) - 1)
#define NOW 1700000000

static c4j_ticket_t ticket;

/* Builds header.payload.signature from raw JSON texts, signed with k. */
static size_t make_token(const char *header, const char *payload,
                         const uint8_t *k, size_t klen, char *out) {
  uint8_t mac[32];
  unsigned int mac_len;
  size_t n = c4j_b64url_encode((const uint8_t *)header, strlen(header), out);
  out[n++] = '.';
  n += c4j_b64url_encode((const uint8_t *)payload, strlen(payload), out + n);
  HMAC(EVP_sha256(), k, (int)klen, (const uint8_t *)out, n, mac, &mac_len);
  out[n++] = '.';
  n += c4j_b64url_encode(mac, 32, out + n);
  return n;
}

static int verify(const char *tok, size_t n) {
  return c4j_auth_verify(key, KEY_LEN, tok, n, NOW, &ticket);
}

static int verify_json(const char *header, const char *payload) {
  static char tok[40000];
  size_t n = make_token(header, payload, key, KEY_LEN, tok);
  return verify(tok, n);
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

TEST(sign_verify_round_trip) {
  const char *claims = "{\"cid\":\"AbC-_09xyzAbC-_09xyz12\",\"sub\":\"alice\","
                       "\"exp\":1700000060,\"ch\":[\"clock\",\"chat/room-1\"]}";
  char tok[1024];
  int n = c4j_auth_sign(key, KEY_LEN, claims, strlen(claims), tok,
                        sizeof(tok));
  CHECK(n > 0);
  CHECK_EQ(strlen(tok), n);
  CHECK(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);
  CHECK_EQ(verify(tok, n), 0);
  CHECK_STR(ticket.cid, "AbC-_09xyzAbC-_09xyz12");
  CHECK_STR(ticket.user, "alice");
  CHECK_EQ(ticket.exp, 1700000060);
  CHECK_EQ(ticket.nchannels, 2);
  CHECK_STR(ticket.channels[0], "clock");
  CHECK_STR(ticket.channels[1], "chat/room-1");
  /* The same claims through the test's own encoder agree. */
  CHECK_EQ(verify_json(HS256, claims), 0);
  /* Wrong key. */
  CHECK_EQ(c4j_auth_verify((const uint8_t *)"another key 12345", 17, tok, n,
                           NOW, &ticket), C4J_ETICKET);
  CHECK_STR(ticket.cid, "");
  /* Out too small, by one byte. */
  CHECK_EQ(c4j_auth_sign(key, KEY_LEN, claims, strlen(claims), tok, n),
           C4J_ETOOBIG);
  CHECK(c4j_auth_sign(key, KEY_LEN, claims, strlen(claims), tok, n + 1) > 0);
}

TEST(sign_refuses_bad_claims) {
  char tok[512];
  CHECK_EQ(c4j_auth_sign(key, KEY_LEN, "[1]", 3, tok, sizeof(tok)),
           C4J_EBADJSON);
  CHECK_EQ(c4j_auth_sign(key, KEY_LEN, "{\"a\":", 5, tok, sizeof(tok)),
           C4J_EBADJSON);
  CHECK_EQ(c4j_auth_sign(key, KEY_LEN, "{\"a\":1,\"a\":2}", 13, tok,
                         sizeof(tok)), C4J_EBADJSON);
  CHECK_EQ(c4j_auth_sign(key, KEY_LEN, "{} x", 4, tok, sizeof(tok)),
           C4J_EBADJSON);
}

TEST(forged_and_tampered) {
  const char *claims = "{\"cid\":\"abc\",\"exp\":1700000060}";
  char tok[512], copy[512];
  int n = c4j_auth_sign(key, KEY_LEN, claims, strlen(claims), tok,
                        sizeof(tok));
  CHECK_EQ(verify(tok, n), 0);
  /* Each character of the signature changed. */
  for (int i = n - 43; i < n; i++) {
    memcpy(copy, tok, n);
    copy[i] = copy[i] == 'A' ? 'B' : 'A';
    CHECK_EQ(verify(copy, n), C4J_ETICKET);
  }
  /* A payload granting another cid, with the old signature. */
  {
    char other[512];
    size_t m = make_token(HS256, "{\"cid\":\"abd\",\"exp\":1700000060}", key,
                          KEY_LEN, other);
    const char *sig = strrchr(tok, '.');
    memcpy(other + m - 43, sig + 1, 43);
    CHECK_EQ(verify(other, m), C4J_ETICKET);
  }
  /* Signed with another key. */
  {
    size_t m = make_token(HS256, claims, (const uint8_t *)"k", 1, copy);
    CHECK_EQ(verify(copy, m), C4J_ETICKET);
  }
  /* Truncated anywhere. */
  for (int i = 0; i < n; i++) CHECK_EQ(verify(tok, (size_t)i), C4J_ETICKET);
  /* Extra parts or bytes. */
  memcpy(copy, tok, n);
  memcpy(copy + n, ".x", 2);
  CHECK_EQ(verify(copy, n + 2), C4J_ETICKET);
  copy[n] = '=';
  CHECK_EQ(verify(copy, n + 1), C4J_ETICKET);
  copy[n] = 0;
  CHECK_EQ(verify(copy, n + 1), C4J_ETICKET);
}

TEST(header_alg) {
  const char *c = "{\"cid\":\"abc\",\"exp\":1700000060}";
  char tok[512];
  size_t n;
  CHECK_EQ(verify_json("{\"alg\":\"HS256\"}", c), 0);
  CHECK_EQ(verify_json("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", c), 0);
  CHECK_EQ(verify_json("{\"alg\":\"none\"}", c), C4J_ETICKET);
  CHECK_EQ(verify_json("{\"alg\":\"HS512\"}", c), C4J_ETICKET);
  CHECK_EQ(verify_json("{\"alg\":\"RS256\"}", c), C4J_ETICKET);
  CHECK_EQ(verify_json("{\"alg\":\"hs256\"}", c), C4J_ETICKET);
  CHECK_EQ(verify_json("{\"typ\":\"JWT\"}", c), C4J_ETICKET);
  CHECK_EQ(verify_json("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", c),
           C4J_ETICKET);
  CHECK_EQ(verify_json("{\"alg\":\"HS256\",\"kid\":\"1\"}", c), C4J_ETICKET);
  CHECK_EQ(verify_json("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", c),
           C4J_ETICKET);
  CHECK_EQ(verify_json("{\"alg\":256}", c), C4J_ETICKET);
  CHECK_EQ(verify_json("[\"HS256\"]", c), C4J_ETICKET);
  CHECK_EQ(verify_json("", c), C4J_ETICKET);
  /* alg none with an empty signature. */
  n = c4j_b64url_encode((const uint8_t *)"{\"alg\":\"none\"}", 14, tok);
  tok[n++] = '.';
  n += c4j_b64url_encode((const uint8_t *)c, strlen(c), tok + n);
  tok[n++] = '.';
  CHECK_EQ(verify(tok, n), C4J_ETICKET);
}

TEST(claims) {
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1700000000}"),
           C4J_ETICKETEXP);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1}"), C4J_ETICKETEXP);
  CHECK_STR(ticket.cid, "abc"); /* the claims of an expired ticket stay */
  CHECK_EQ(ticket.exp, 1);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1700000001}"), 0);
  CHECK_EQ(ticket.exp, 1700000001);
  CHECK_STR(ticket.user, "");
  CHECK_EQ(ticket.nchannels, 0);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1700000001.5}"), 0);
  /* Expiry is only reported when everything else is right. */
  CHECK_EQ(verify_json(HS256, "{\"exp\":1}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\"}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":\"1800000000\"}"),
           C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":null}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"\",\"exp\":1800000000}"),
           C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":7,\"exp\":1800000000}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"a b\",\"exp\":1800000000}"),
           C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"a/b\",\"exp\":1800000000}"),
           C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"cid\":\"abd\","
                              "\"exp\":1800000000}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1800000000,"
                              "\"sub\":5}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1800000000,"
                              "\"sub\":\"a\\u0000b\"}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "[1,2]"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1800000000} "),
           0);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"abc\",\"exp\":1800000000}x"),
           C4J_ETICKET);
}

/* Claims with a cid of n characters, a sub of m and k channels named with
 * prefix. */
static int verify_sized(size_t n, size_t m, int k, const char *name) {
  static char p[80000];
  size_t at = (size_t)snprintf(p, sizeof(p), "{\"exp\":1800000000,\"cid\":\"");
  memset(p + at, 'c', n);
  at += n;
  at += (size_t)snprintf(p + at, sizeof(p) - at, "\",\"sub\":\"");
  memset(p + at, 'u', m);
  at += m;
  at += (size_t)snprintf(p + at, sizeof(p) - at, "\",\"ch\":[");
  for (int i = 0; i < k; i++)
    at += (size_t)snprintf(p + at, sizeof(p) - at, "%s\"%s%d\"",
                           i ? "," : "", name, i);
  snprintf(p + at, sizeof(p) - at, "]}");
  return verify_json(HS256, p);
}

TEST(limits) {
  char name[200];
  CHECK_EQ(verify_sized(C4J_MAX_ID, C4J_MAX_USER, 3, "a"), 0);
  CHECK_EQ(strlen(ticket.cid), C4J_MAX_ID);
  CHECK_EQ(strlen(ticket.user), C4J_MAX_USER);
  CHECK_STR(ticket.channels[2], "a2");
  CHECK_EQ(verify_sized(C4J_MAX_ID + 1, 1, 0, "a"), C4J_ETICKET);
  CHECK_EQ(verify_sized(1, C4J_MAX_USER + 1, 0, "a"), C4J_ETICKET);
  /* Channel count: within the 8 KiB token only short names fit. */
  CHECK_EQ(verify_sized(1, 1, 100, "c"), 0);
  CHECK_EQ(ticket.nchannels, 100);
  CHECK_STR(ticket.channels[99], "c99");
  CHECK_EQ(verify_sized(1, 1, C4J_MAX_CHANNELS + 1, ""), C4J_ETICKET);
  /* Longest channel names. */
  memset(name, 'n', C4J_MAX_CHANNEL - 1);
  name[C4J_MAX_CHANNEL - 1] = 0;
  CHECK_EQ(verify_sized(1, 1, 10, name), 0);
  CHECK_EQ(strlen(ticket.channels[9]), C4J_MAX_CHANNEL);
  name[C4J_MAX_CHANNEL - 1] = 'n';
  name[C4J_MAX_CHANNEL] = 0;
  CHECK_EQ(verify_sized(1, 1, 10, name), C4J_ETICKET);
  /* Bad names in the list. */
  CHECK_EQ(verify_sized(1, 1, 2, "a b"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"a\",\"exp\":1800000000,"
                              "\"ch\":[\"\"]}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"a\",\"exp\":1800000000,"
                              "\"ch\":[\"a\\\"b\"]}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"a\",\"exp\":1800000000,"
                              "\"ch\":[1]}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"a\",\"exp\":1800000000,"
                              "\"ch\":\"a\"}"), C4J_ETICKET);
  CHECK_EQ(verify_json(HS256, "{\"cid\":\"a\",\"exp\":1800000000,"
                              "\"ch\":[\"\\u00e9\"]}"), C4J_ETICKET);
  /* Over 8 KiB, even when well signed. */
  {
    static char p[7000];
    size_t at = (size_t)snprintf(p, sizeof(p),
                                 "{\"cid\":\"a\",\"exp\":1800000000,\"x\":\"");
    memset(p + at, 'x', 6500);
    strcpy(p + at + 6500, "\"}");
    CHECK_EQ(verify_json(HS256, p), C4J_ETICKET);
  }
  {
    static char big[9000];
    memset(big, 'A', sizeof(big));
    CHECK_EQ(verify(big, sizeof(big)), C4J_ETICKET);
  }
}

TEST(signing_cap) {
  static char claims[9000], tok[20000];
  size_t n = (size_t)snprintf(claims, sizeof(claims),
                              "{\"cid\":\"a\",\"exp\":1800000000,\"x\":\"");
  /* The token of claims of c bytes is 37 + ceil(4c/3) + 44 long. */
  size_t fit = (8192 - 37 - 44) * 3 / 4;
  memset(claims + n, 'x', fit - n - 2);
  memcpy(claims + fit - 2, "\"}", 2);
  int len = c4j_auth_sign(key, KEY_LEN, claims, fit, tok, sizeof(tok));
  CHECK(len > 8000 && len <= 8192);
  CHECK_EQ(verify(tok, (size_t)len), 0);
  memset(claims + n, 'x', fit - n + 3);
  memcpy(claims + fit + 3, "\"}", 2);
  CHECK_EQ(c4j_auth_sign(key, KEY_LEN, claims, fit + 5, tok, sizeof(tok)),
           C4J_ETOOBIG);
}

TEST(channel_names) {
  CHECK(c4j_channel_name_ok("clock", 5));
  CHECK(c4j_channel_name_ok("a/b:c.d-e_f~!#", 14));
  CHECK(!c4j_channel_name_ok("", 0));
  CHECK(!c4j_channel_name_ok("a b", 3));
  CHECK(!c4j_channel_name_ok("a\"b", 3));
  CHECK(!c4j_channel_name_ok("a\\b", 3));
  CHECK(!c4j_channel_name_ok("a\tb", 3));
  CHECK(!c4j_channel_name_ok("a\x7f", 2));
  CHECK(!c4j_channel_name_ok("caf\xc3\xa9", 5));
  CHECK(!c4j_channel_name_ok("a\0b", 3));
  {
    char n[C4J_MAX_CHANNEL + 1];
    memset(n, 'x', sizeof(n));
    CHECK(c4j_channel_name_ok(n, C4J_MAX_CHANNEL));
    CHECK(!c4j_channel_name_ok(n, C4J_MAX_CHANNEL + 1));
  }
}

TEST(base64url) {
  static const struct { const char *raw, *enc; } v[] = {
    { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
    { "\xfb\xff\xfe", "-__-" },
  };
  char enc[64];
  uint8_t dec[64];
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    size_t n = strlen(v[i].raw);
    CHECK_EQ(c4j_b64url_encode((const uint8_t *)v[i].raw, n, enc),
             strlen(v[i].enc));
    CHECK_STR(enc, v[i].enc);
    CHECK_EQ(c4j_b64url_decode(v[i].enc, strlen(v[i].enc), dec,
                               sizeof(dec)), n);
    CHECK(memcmp(dec, v[i].raw, n) == 0);
    /* Exactly enough room, and one byte less. */
    CHECK_EQ(c4j_b64url_decode(v[i].enc, strlen(v[i].enc), dec, n), n);
    if (n) CHECK_EQ(c4j_b64url_decode(v[i].enc, strlen(v[i].enc), dec,
                                      n - 1), -1);
  }
  CHECK_EQ(c4j_b64url_decode("Zg==", 4, dec, sizeof(dec)), -1);
  CHECK_EQ(c4j_b64url_decode("Z", 1, dec, sizeof(dec)), -1);
  CHECK_EQ(c4j_b64url_decode("Zm9vY", 5, dec, sizeof(dec)), -1);
  CHECK_EQ(c4j_b64url_decode("+/+/", 4, dec, sizeof(dec)), -1);
  CHECK_EQ(c4j_b64url_decode("Zm 9v", 5, dec, sizeof(dec)), -1);
  CHECK_EQ(c4j_b64url_decode("Zh", 2, dec, sizeof(dec)), -1); /* bits */
  CHECK_EQ(c4j_b64url_decode("Zm9", 3, dec, sizeof(dec)), -1);
  CHECK_EQ(c4j_b64url_decode("Zm8\0", 4, dec, sizeof(dec)), -1);
  /* Every byte value round trips. */
  {
    uint8_t all[256];
    char e[400];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    size_t n = c4j_b64url_encode(all, 256, e);
    CHECK_EQ(n, 342);
    uint8_t back[256];
    CHECK_EQ(c4j_b64url_decode(e, n, back, 255), -1);
    CHECK_EQ(c4j_b64url_decode(e, n, back, sizeof(back)), 256);
    CHECK(memcmp(all, back, 256) == 0);
  }
}

TEST_MAIN(T(sign_verify_round_trip), T(sign_refuses_bad_claims),
          T(forged_and_tampered), T(header_alg), T(claims), T(limits),
          T(signing_cap), T(channel_names), T(base64url))
