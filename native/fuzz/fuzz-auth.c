/* fuzz-auth.c - libFuzzer target: raw bytes as tickets, base64url and
 * channel names. */
#include "auth.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const uint8_t key[] = "fuzz-secret-0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static c4j_ticket_t t;
  static uint8_t dec[9000];
  static char tok[16384];
  const char *s = (const char *)data;
  c4j_auth_verify(key, sizeof(key) - 1, s, size, 1700000000, &t);
  c4j_b64url_decode(s, size, dec, sizeof(dec));
  c4j_channel_name_ok(s, size);
  /* Input that signs as claims also goes through verification. */
  if (c4j_auth_sign(key, sizeof(key) - 1, s, size, tok, sizeof(tok)) > 0)
    c4j_auth_verify(key, sizeof(key) - 1, tok, strlen(tok), 1700000000, &t);
  return 0;
}
