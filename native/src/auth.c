/* auth.c - HS256 tickets: signing, verification, channel names, base64url. */
#include "auth.h"

#include <string.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Longest token accepted; a real ticket is a few hundred bytes, and the cap
 * bounds every buffer below. */
#define MAX_TOKEN 8192

/* {"alg":"HS256","typ":"JWT"} in base64url. */
static const char jwt_header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t c4j_b64url_encode(const uint8_t *in, size_t n, char *out) {
  size_t i, o = 0;
  for (i = 0; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64url[v >> 18];
    out[o++] = b64url[v >> 12 & 63];
    out[o++] = b64url[v >> 6 & 63];
    out[o++] = b64url[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    out[o++] = b64url[v >> 18];
    out[o++] = b64url[v >> 12 & 63];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = b64url[v >> 18];
    out[o++] = b64url[v >> 12 & 63];
    out[o++] = b64url[v >> 6 & 63];
  }
  out[o] = 0;
  return o;
}

static int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

/* Strict: no padding, no whitespace, and the unused low bits of the last
 * character must be zero, so every byte string has exactly one encoding. */
long c4j_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap) {
  size_t i, o = 0, rem = n % 4;
  uint32_t v = 0;
  if (rem == 1 || n / 4 * 3 + (rem ? rem - 1 : 0) > cap) return -1;
  for (i = 0; i < n; i++) {
    int d = b64url_value(in[i]);
    if (d < 0) return -1;
    v = v << 6 | (uint32_t)d;
    if (i % 4 == 3) {
      out[o++] = (uint8_t)(v >> 16);
      out[o++] = (uint8_t)(v >> 8);
      out[o++] = (uint8_t)v;
      v = 0;
    }
  }
  if (rem == 2) {
    if (v & 0xF) return -1;
    out[o++] = (uint8_t)(v >> 4);
  } else if (rem == 3) {
    if (v & 0x3) return -1;
    out[o++] = (uint8_t)(v >> 10);
    out[o++] = (uint8_t)(v >> 2);
  }
  return (long)o;
}

int c4j_channel_name_ok(const char *name, size_t len) {
  size_t i;
  if (len == 0 || len > C4J_MAX_CHANNEL) return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\') return 0;
  }
  return 1;
}

static int hmac(const uint8_t *key, size_t key_len, const char *msg,
                size_t len, uint8_t mac[32]) {
  unsigned int mac_len = 0;
  /* OpenSSL takes a NULL key as "reuse the previous one". */
  static const uint8_t empty[1];
  if (!HMAC(EVP_sha256(), key_len ? key : empty, (int)key_len,
            (const uint8_t *)msg, len, mac, &mac_len))
    return -1;
  return mac_len == 32 ? 0 : -1;
}

int c4j_auth_sign(const uint8_t *key, size_t key_len, const char *claims,
                  size_t claims_len, char *out, size_t cap) {
  size_t h = sizeof(jwt_header) - 1, p, need;
  uint8_t mac[32];
  json_t *j;
  if (claims_len > MAX_TOKEN) return C4J_ETOOBIG;
  j = json_loadb(claims, claims_len, JSON_REJECT_DUPLICATES, NULL);
  if (!j || !json_is_object(j)) {
    json_decref(j);
    return C4J_EBADJSON;
  }
  json_decref(j);
  /* header "." payload "." 43 characters of signature, NUL. */
  need = h + 1 + claims_len / 3 * 4 + (claims_len % 3 ? claims_len % 3 + 1 : 0)
         + 1 + 43 + 1;
  if (need > cap) return C4J_ETOOBIG;
  memcpy(out, jwt_header, h);
  out[h] = '.';
  p = h + 1 + c4j_b64url_encode((const uint8_t *)claims, claims_len,
                                out + h + 1);
  /* Never sign what c4j_auth_verify() would refuse as too long. */
  if (p + 1 + 43 > MAX_TOKEN) return C4J_ETOOBIG;
  if (hmac(key, key_len, out, p, mac) < 0) return C4J_ENOMEM;
  out[p] = '.';
  p += 1 + c4j_b64url_encode(mac, 32, out + p + 1);
  return (int)p;
}

/* Decodes one base64url part and parses it as a JSON object. */
static json_t *part_json(const char *s, size_t n, uint8_t *tmp,
                         size_t cap) {
  long len = c4j_b64url_decode(s, n, tmp, cap);
  json_t *j;
  if (len <= 0) return NULL;
  j = json_loadb((const char *)tmp, (size_t)len, JSON_REJECT_DUPLICATES,
                 NULL);
  if (j && !json_is_object(j)) {
    json_decref(j);
    return NULL;
  }
  return j;
}

/* The header must say HS256, and may only add "typ": "JWT". */
static int header_ok(json_t *h) {
  const char *k;
  json_t *v;
  json_object_foreach(h, k, v) {
    if (strcmp(k, "alg") == 0) {
      if (!json_is_string(v) || strcmp(json_string_value(v), "HS256") != 0)
        return 0;
    } else if (strcmp(k, "typ") == 0) {
      if (!json_is_string(v) || strcmp(json_string_value(v), "JWT") != 0)
        return 0;
    } else {
      return 0;
    }
  }
  return json_object_get(h, "alg") != NULL;
}

static int id_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Reads the claims into t.  Returns 0, or C4J_ETICKET. */
static int claims(json_t *c, c4j_ticket_t *t) {
  json_t *cid = json_object_get(c, "cid"), *sub = json_object_get(c, "sub");
  json_t *exp = json_object_get(c, "exp"), *ch = json_object_get(c, "ch");
  size_t n, i, at = 0;
  if (!json_is_string(cid)) return C4J_ETICKET;
  n = json_string_length(cid);
  if (n == 0 || n > C4J_MAX_ID) return C4J_ETICKET;
  for (i = 0; i < n; i++)
    if (!id_char_ok(json_string_value(cid)[i])) return C4J_ETICKET;
  memcpy(t->cid, json_string_value(cid), n + 1);
  if (sub) {
    if (!json_is_string(sub)) return C4J_ETICKET;
    n = json_string_length(sub);
    if (n > C4J_MAX_USER || memchr(json_string_value(sub), 0, n))
      return C4J_ETICKET;
    memcpy(t->user, json_string_value(sub), n + 1);
  }
  if (json_is_integer(exp)) t->exp = json_integer_value(exp);
  else if (json_is_real(exp) && json_real_value(exp) > -9e18 &&
           json_real_value(exp) < 9e18)
    t->exp = (int64_t)json_real_value(exp);
  else
    return C4J_ETICKET;
  if (ch) {
    if (!json_is_array(ch) || json_array_size(ch) > C4J_MAX_CHANNELS)
      return C4J_ETICKET;
    for (i = 0; i < json_array_size(ch); i++) {
      json_t *v = json_array_get(ch, i);
      if (!json_is_string(v)) return C4J_ETICKET;
      n = json_string_length(v);
      if (!c4j_channel_name_ok(json_string_value(v), n)) return C4J_ETICKET;
      /* Fits: at most C4J_MAX_CHANNELS names of C4J_MAX_CHANNEL + 1. */
      memcpy(t->buf + at, json_string_value(v), n + 1);
      t->channels[t->nchannels++] = t->buf + at;
      at += n + 1;
    }
  }
  return 0;
}

int c4j_auth_verify(const uint8_t *key, size_t key_len, const char *token,
                    size_t token_len, int64_t now_s, c4j_ticket_t *t) {
  const char *dot1, *dot2, *sig;
  uint8_t mac[32], got[33], tmp[MAX_TOKEN];
  json_t *h, *c;
  int rc;
  memset(t, 0, sizeof(*t));
  if (token_len == 0 || token_len > MAX_TOKEN) return C4J_ETICKET;
  dot1 = memchr(token, '.', token_len);
  if (!dot1) return C4J_ETICKET;
  dot2 = memchr(dot1 + 1, '.', token_len - (size_t)(dot1 + 1 - token));
  if (!dot2) return C4J_ETICKET;
  sig = dot2 + 1;
  if (memchr(sig, '.', token_len - (size_t)(sig - token)))
    return C4J_ETICKET;

  h = part_json(token, (size_t)(dot1 - token), tmp, sizeof(tmp));
  rc = h && header_ok(h) ? 0 : C4J_ETICKET;
  json_decref(h);
  if (rc) return rc;

  if (c4j_b64url_decode(sig, token_len - (size_t)(sig - token), got,
                        sizeof(got)) != 32 ||
      hmac(key, key_len, token, (size_t)(dot2 - token), mac) < 0 ||
      CRYPTO_memcmp(mac, got, 32) != 0)
    return C4J_ETICKET;

  c = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), tmp, sizeof(tmp));
  rc = c ? claims(c, t) : C4J_ETICKET;
  json_decref(c);
  if (rc == 0 && t->exp <= now_s) return C4J_ETICKETEXP; /* t stays filled */
  if (rc) memset(t, 0, sizeof(*t));
  return rc;
}
