/* common.c - allocation helpers, clocks, the error map, connection ids and
 * the configuration defaults and checks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <uv.h>

#include "common.h"
#include "metrics.h"
#include "auth.h"

/* ---- Allocation ---------------------------------------------------------- */

/* The failure a test asked for: the next allocation on the thread named
 * fail_thread fails.  Unarmed, it costs one relaxed load. */
static atomic_int fail_armed;
static char fail_thread[16];

void c4j__alloc_fail_next(const char *thread) {
  snprintf(fail_thread, sizeof(fail_thread), "%s", thread);
  atomic_store(&fail_armed, 1);
}

static int fails(void) {
  char name[16];
  if (!atomic_load_explicit(&fail_armed, memory_order_relaxed)) return 0;
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0 ||
      strcmp(name, fail_thread) != 0)
    return 0;
  return atomic_exchange(&fail_armed, 0);
}

void *c4j__malloc(size_t n) { return fails() ? NULL : malloc(n ? n : 1); }
void *c4j__calloc(size_t n, size_t size) {
  return fails() ? NULL : calloc(n ? n : 1, size ? size : 1);
}
void *c4j__realloc(void *p, size_t n) {
  return fails() ? NULL : realloc(p, n ? n : 1);
}
void c4j__free(void *p) { free(p); }

char *c4j__strndup(const char *s, size_t n) {
  char *d = c4j__malloc(n + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

/* ---- Clocks ------------------------------------------------------------- */

uint64_t c4j__mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t c4j__wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Errors ------------------------------------------------------------- */

const char *c4j_strerror(int err) {
  switch (err) {
#define XX(name, val, msg) case val: return msg;
    C4J_ERRNO_MAP(XX)
#undef XX
    default: break;
  }
  if (err == 0) return "success";
  if (err < 0) return uv_strerror(err); /* libuv's codes, incl. UV_EAI_* */
  return "unknown error";
}

/* ---- Randomness and ids ------------------------------------------------- */

int c4j__random(void *out, size_t n) {
  uint8_t *p = out;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int c4j_new_id(char out[23]) {
  uint8_t raw[16];
  char tmp[24];
  int rc = c4j__random(raw, sizeof(raw));
  if (rc < 0) return rc;
  size_t n = c4j_b64url_encode(raw, sizeof(raw), tmp);
  if (n != 22) return UV_EINVAL; /* Cannot happen: 16 bytes are 22 chars. */
  memcpy(out, tmp, 22);
  out[22] = '\0';
  return 0;
}

/* ---- Configuration ------------------------------------------------------ */

static _Thread_local char config_error[256];

void c4j__config_set_error(const char *text) {
  snprintf(config_error, sizeof(config_error), "%s", text);
}

const char *c4j_config_error(void) { return config_error; }

void c4j_config_init(c4j_config_t *cfg) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  memset(cfg, 0, sizeof(*cfg));
  cfg->host = "0.0.0.0";
  cfg->port = 4100;
  cfg->threads = cores > 0 ? (int)(cores > 64 ? 64 : cores) : 1;
  cfg->heartbeat_ms = 25000;
  cfg->idle_timeout_ms = 60000;
  cfg->hold_ms = 0;
  cfg->handshake_timeout_ms = 10000;
  /* Browsers send the application's cookies to this port too. */
  cfg->max_header = 16384;
  cfg->max_frame = 65536;
  cfg->max_message = 65536;
  cfg->max_queue = 1u << 20;
  cfg->max_conns = 100000;
  cfg->event_queue = 8u << 20;
  cfg->conn_expires_ms = 5000;
  cfg->history_size = 1000;
  cfg->history_age_ms = 60000;
  cfg->allowed_origins = "*";
  cfg->api_key = NULL;
  cfg->api_timeout_ms = 30000;
  cfg->hub = "local";
  cfg->hub_prefix = "c4j";
  cfg->listen_actions = 1;
  /* Sixteen unfinished requests at once from one address is more than
   * any browser opens; a NAT or a proxy concentrates many clients, but
   * their requests arrive at once, and the cap only applies to a crowded
   * engine (docs/protocol.md section 2). */
  cfg->max_pending_per_addr = 16;
  cfg->hub_outbox_records = 100000;
  cfg->hub_outbox_bytes = (size_t)64 << 20;
  cfg->hub_catchup_records = 100000;
  cfg->hub_catchup_bytes = (size_t)64 << 20;
  cfg->deflate = 1;
}

#define BAD(text)                                                            \
  do {                                                                       \
    c4j__config_set_error(text);                                             \
    return C4J_EINVAL_CONFIG;                                                \
  } while (0)

/* How many distinct bytes key holds: a secret or key of 16 times the same
 * character (or two characters alternating) passes a length check and
 * is guessed at once. */
#define C4J__KEY_VARIETY 6 /* distinct bytes a secret or key needs */

static int distinct_bytes(const uint8_t *key, size_t n) {
  uint8_t seen[256] = {0};
  int d = 0;
  for (size_t i = 0; i < n; i++)
    if (!seen[key[i]]++) d++;
  return d;
}

int c4j__config_check(const c4j_config_t *cfg) {
  config_error[0] = '\0';
  if (cfg == NULL) BAD("config: missing");
  if (cfg->host == NULL || cfg->host[0] == '\0' || strlen(cfg->host) > 255)
    BAD("host: must be an address or host name");
  if (cfg->port < -1 || cfg->port > 65535)
    BAD("port: must be between -1 and 65535");
  if (cfg->threads < 1 || cfg->threads > 256)
    BAD("threads: must be between 1 and 256");
  if (cfg->secret == NULL || cfg->secret_len < 16 || cfg->secret_len > 1024)
    BAD("secret: must be 16 to 1024 bytes");
  if (distinct_bytes(cfg->secret, cfg->secret_len) < C4J__KEY_VARIETY)
    BAD("secret: too little variety (fewer than 6 different bytes): use "
        "random bytes, for example the output of openssl rand -hex 32");
  if (cfg->heartbeat_ms < 100 || cfg->heartbeat_ms > 3600000)
    BAD("heartbeat_ms: must be between 100 and 3600000");
  if (cfg->idle_timeout_ms <= cfg->heartbeat_ms ||
      cfg->idle_timeout_ms > 86400000)
    BAD("idle_timeout_ms: must be longer than the ping interval "
        "(at most 86400000)");
  if (cfg->hold_ms < 0 || cfg->hold_ms > 86400000)
    BAD("hold_ms: must be between 0 and 86400000");
  if (cfg->handshake_timeout_ms < 100 || cfg->handshake_timeout_ms > 600000)
    BAD("handshake_timeout_ms: must be between 100 and 600000");
  if (cfg->max_header < 512 || cfg->max_header > (1u << 20))
    BAD("max_header: must be between 512 and 1048576");
  if (cfg->max_frame < 125 || cfg->max_frame > (64u << 20))
    BAD("max_frame: must be between 125 and 67108864");
  if (cfg->max_message < 125 || cfg->max_message > (64u << 20))
    BAD("max_message: must be between 125 and 67108864");
  if (cfg->max_queue < 1024 || cfg->max_queue > (1u << 30))
    BAD("max_queue: must be between 1024 and 1073741824");
  if (cfg->max_conns < 1)
    BAD("max_conns: must be at least 1");
  if (cfg->event_queue < (256u << 10) || cfg->event_queue > (1u << 30))
    BAD("event_queue: must be between 262144 and 1073741824");
  if (cfg->conn_expires_ms < 0 || cfg->conn_expires_ms > 86400000)
    BAD("conn_expires_ms: must be between 0 and 86400000");
  if (cfg->history_size < 0 || cfg->history_size > 1000000)
    BAD("history_size: must be between 0 and 1000000");
  if (cfg->history_age_ms < 0)
    BAD("history_age_ms: must not be negative");
  if (cfg->allowed_origins == NULL || cfg->allowed_origins[0] == '\0' ||
      strlen(cfg->allowed_origins) > 4096)
    BAD("allowed_origins: must be \"*\" or a comma list of origins");
  if (cfg->api_key != NULL && cfg->api_key[0] != '\0') {
    size_t n = strnlen(cfg->api_key, 257);
    if (n < 16 || n > 256)
      BAD("api_key: must be 16 to 256 printable ASCII characters");
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)cfg->api_key[i] <= ' ' ||
          (unsigned char)cfg->api_key[i] >= 0x7f)
        BAD("api_key: must be 16 to 256 printable ASCII characters");
    if (distinct_bytes((const uint8_t *)cfg->api_key, n) < C4J__KEY_VARIETY)
      BAD("api_key: too little variety (fewer than 6 different characters): "
          "use random characters, for example the output of openssl rand "
          "-hex 32");
  }
  if (cfg->api_timeout_ms < 100 || cfg->api_timeout_ms > 3600000)
    BAD("api_timeout_ms: must be between 100 and 3600000");
  if (cfg->hub != NULL && cfg->hub[0] != '\0' &&
      strcmp(cfg->hub, "local") != 0 &&
      (strncmp(cfg->hub, "redis://", 8) != 0 || strlen(cfg->hub) > 512))
    BAD("hub: must be \"local\" or redis://host[:port][/db]");
  if (cfg->hub_prefix == NULL || cfg->hub_prefix[0] == '\0' ||
      strlen(cfg->hub_prefix) > 64 ||
      strspn(cfg->hub_prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                              "qrstuvwxyz0123456789_.:-") !=
          strlen(cfg->hub_prefix))
    BAD("hub_prefix: must be 1 to 64 of A-Z a-z 0-9 _ . : -");
  if (cfg->listen_actions != 0 && cfg->listen_actions != 1)
    BAD("listen_actions: must be 0 or 1");
  if (cfg->max_pending_per_addr < 0 || cfg->max_pending_per_addr > 1000000)
    BAD("max_pending_per_addr: must be between 0 (no cap) and 1000000");
  if ((cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0') !=
      (cfg->tls_key != NULL && cfg->tls_key[0] != '\0'))
    BAD(cfg->tls_key == NULL || cfg->tls_key[0] == '\0'
            ? "tls_key: required with tls_cert (the certificate's private key)"
            : "tls_cert: required with tls_key (the key's certificate)");
  if ((cfg->tls_cert != NULL && strlen(cfg->tls_cert) > 4096) ||
      (cfg->tls_key != NULL && strlen(cfg->tls_key) > 4096))
    BAD(cfg->tls_key != NULL && strlen(cfg->tls_key) > 4096
            ? "tls_key: a path of at most 4096 bytes"
            : "tls_cert: a path of at most 4096 bytes");
  {
    c4j__metrics_access_t a;
    const char *why;
    if (c4j__metrics_parse(cfg->metrics, &a, &why) != 0) BAD(why);
    if (a.key && (cfg->api_key == NULL || cfg->api_key[0] == '\0'))
      BAD("metrics: \"true\" needs api_key (or list the addresses that "
          "may read)");
  }
  if (cfg->hub_outbox_records < 1 || cfg->hub_outbox_records > 10000000)
    BAD("hub_outbox_records: must be between 1 and 10000000");
  if (cfg->hub_outbox_bytes < 65536 ||
      cfg->hub_outbox_bytes > ((size_t)16 << 30))
    BAD("hub_outbox_bytes: must be between 65536 and 17179869184");
  if (cfg->hub_catchup_records < 0 || cfg->hub_catchup_records > 10000000)
    BAD("hub_catchup_records: must be between 0 and 10000000");
  if (cfg->hub_catchup_bytes < 65536 ||
      cfg->hub_catchup_bytes > ((size_t)16 << 30))
    BAD("hub_catchup_bytes: must be between 65536 and 17179869184");
  if (cfg->deflate != 0 && cfg->deflate != 1)
    BAD("deflate: must be 0 or 1");
  return 0;
}
