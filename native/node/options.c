/* options.c - comet4j-node's flags and config file.  Each setting has one
 * Comet.* name (the config file's key, as in web.xml) and one flag; a bad
 * value is reported as "Comet.Name: ..." like CometConfig, exit status 2. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_INT, T_TEXT, T_SECRET_FILE, T_KEY_FILE, T_LEVEL, T_BOOL };

typedef struct {
  const char *key;   /* Comet.* name */
  const char *flag;  /* --flag */
  int type;
  long min, max;
  char *value;       /* last value given (owned), NULL if none */
  const char *origin;
} opt_t;

static opt_t opts[] = {
  {"Comet.Port", "--port", T_INT, 0, 65535, NULL, NULL},
  {"Comet.Host", "--host", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.Threads", "--threads", T_INT, 1, 1024, NULL, NULL},
  {"Comet.Secret", "--secret", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.SecretFile", "--secret-file", T_SECRET_FILE, 0, 0, NULL, NULL},
  {"Comet.ApiKey", "--api-key", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.ApiKeyFile", "--api-key-file", T_KEY_FILE, 0, 0, NULL, NULL},
  /* Comet4J's meaning: how long one SSE or long-poll request is held;
   * any int (<= 0: not ended on time, as a container's async timeout). */
  {"Comet.Timeout", "--timeout", T_INT, -2147483648L, 2147483647L, NULL, NULL},
  {"Comet.IdleTimeout", "--idle-timeout", T_INT, 1000, 2147483647L, NULL, NULL},
  {"Comet.Heartbeat", "--heartbeat", T_INT, 100, 2147483647L, NULL, NULL},
  {"Comet.MaxHeader", "--max-header", T_INT, 512, 1 << 20, NULL, NULL},
  {"Comet.MaxFrame", "--max-frame", T_INT, 16, 2147483647L, NULL, NULL},
  {"Comet.MaxMessage", "--max-message", T_INT, 16, 2147483647L, NULL, NULL},
  {"Comet.MaxQueue", "--max-queue", T_INT, 1024, 2147483647L, NULL, NULL},
  {"Comet.MaxConnections", "--max-connections", T_INT, 1, 2147483647L, NULL, NULL},
  {"Comet.HandshakeTimeout", "--handshake-timeout", T_INT, 100, 600000, NULL, NULL},
  {"Comet.MaxPendingPerAddress", "--max-pending-per-address", T_INT, 0, 1000000, NULL, NULL},
  {"Comet.AllowedOrigins", "--allowed-origins", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.HistorySize", "--history-size", T_INT, 0, 1000000, NULL, NULL},
  {"Comet.CacheExpires", "--cache-expires", T_INT, 0, 2147483647L, NULL, NULL},
  {"Comet.ConnExpires", "--conn-expires", T_INT, 0, 2147483647L, NULL, NULL},
  {"Comet.ApiTimeout", "--api-timeout", T_INT, 1, 2147483647L, NULL, NULL},
  {"Comet.Hub", "--hub", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.HubPrefix", "--hub-prefix", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.HubOutboxRecords", "--hub-outbox-records", T_INT, 1, 10000000, NULL, NULL},
  {"Comet.HubOutboxBytes", "--hub-outbox-bytes", T_INT, 65536, 2147483647L, NULL, NULL},
  {"Comet.HubCatchUpRecords", "--hub-catch-up-records", T_INT, 0, 10000000, NULL, NULL},
  {"Comet.HubCatchUpBytes", "--hub-catch-up-bytes", T_INT, 65536, 2147483647L, NULL, NULL},
  {"Comet.ListenActions", "--listen-actions", T_BOOL, 0, 0, NULL, NULL},
  {"Comet.PresenceChannels", "--presence-channels", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.TlsCert", "--tls-cert", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.TlsKey", "--tls-key", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.LogLevel", "--log-level", T_LEVEL, 0, 0, NULL, NULL},
  {"Comet.Metrics", "--metrics", T_TEXT, 0, 0, NULL, NULL},
  {"Comet.Deflate", "--deflate", T_BOOL, 0, 0, NULL, NULL},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static char *secret_buf, *key_buf;

static int bad(const char *key, const char *fmt, const char *v) {
  fprintf(stderr, "comet4j-node: %s: ", key);
  fprintf(stderr, fmt, v ? v : "");
  fputc('\n', stderr);
  return 2;
}

static void set(opt_t *o, const char *v) {
  free(o->value);
  o->value = strdup(v);
}

static opt_t *by_key(const char *k) {
  for (size_t i = 0; i < NOPTS; i++)
    if (strcmp(opts[i].key, k) == 0) return &opts[i];
  return NULL;
}

static opt_t *by_flag(const char *f, size_t n) {
  for (size_t i = 0; i < NOPTS; i++)
    if (strlen(opts[i].flag) == n && strncmp(opts[i].flag, f, n) == 0)
      return &opts[i];
  return NULL;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  return s;
}

/* Reads a whole file; drops one trailing "\n" or "\r\n". */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 256, n = 0;
  char *b = malloc(cap);
  size_t r;
  while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) {
      char *nb = cap > (1 << 20) ? NULL : realloc(b, cap *= 2);
      if (!nb) { free(b); b = NULL; break; }
      b = nb;
    }
  }
  fclose(f);
  if (!b) return NULL;
  if (n && b[n - 1] == '\n') n--;
  if (n && b[n - 1] == '\r') n--;
  b[n] = 0;
  *len = n;
  return b;
}

/* Settings of the JVM side that mean nothing here: a shared file may
 * carry them; they are ignored with a warning. */
static int jvm_only(const char *k) {
  static const char *names[] = {
    "Comet.CacheFrequency", "Comet.ConnFrequency", "Comet.WorkStyle", "Comet.Debug",
    "Comet.Language", "Comet.PublicUrl", "Comet.TicketTtl", "Comet.ActionTimeout",
    "Comet.ActionThreads", "Comet.CometEngine"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(names[i], k) == 0) return 1;
  return 0;
}

static int load_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return bad("--config", "cannot read '%s'", path);
  char line[8192];
  int lineno = 0, rc = 0;
  while (!rc && fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#') continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      fprintf(stderr, "comet4j-node: %s:%d: expected key = value\n", path, lineno);
      rc = 2;
      break;
    }
    *eq = 0;
    char *k = trim(s), *v = trim(eq + 1);
    opt_t *o = by_key(k);
    if (o) set(o, v);
    else if (jvm_only(k))
      fprintf(stderr, "comet4j-node: %s: ignored (no application on this node)\n", k);
    else rc = bad(k, "unknown parameter (in %s)", path);
  }
  fclose(f);
  return rc;
}

static void usage(void) {
  fprintf(stderr,
          "usage: comet4j-node [--config FILE] [--flag VALUE | --flag=VALUE]...\n"
          "  flag                       config file key\n");
  for (size_t i = 0; i < NOPTS; i++)
    fprintf(stderr, "  %-26s %s\n", opts[i].flag, opts[i].key);
  fprintf(stderr, "A secret (Comet.Secret or Comet.SecretFile, >= 16 bytes) is required.\n"
                  "Comet.Hub: local (default) or redis://host[:port][/db] (several nodes);\n"
                  "Comet.ListenActions: false (requests go to the hub's action queue).\n"
                  "Comet.HubOutbox{Records,Bytes}: what a node keeps while Redis is down\n"
                  "  or slow (a publish beyond: 503); Comet.HubCatchUp{Records,Bytes}: what\n"
                  "  Redis keeps per channel, and a node holds, for a node that catches up.\n"
                  "Comet.Deflate: on (default) or off: permessage-deflate on\n"
                  "  WebSocket with a client that offers it.\n"
                  "Comet.PresenceChannels: a comma list of channels whose members\n"
                  "  get join/leave frames and are listed in the hub's presence map.\n"
                  "Comet.HandshakeTimeout: ms a request may take to arrive (default\n"
                  "  10000, shorter while the node is more than half full);\n"
                  "  Comet.MaxPendingPerAddress: requests not yet arrived one address\n"
                  "  may hold while the node is at least half full (default 16, 0: no cap).\n"
                  "Comet.TlsCert, Comet.TlsKey: PEM files (both): the port speaks TLS;\n"
                  "  SIGHUP reads them again (new connections get the new certificate).\n");
}

static int parse_int(opt_t *o, int *out) {
  const char *v = o->value;
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (!*v || *end || errno) return bad(o->key, "not a number: '%s'", v);
  if (n < o->min || n > o->max) {
    fprintf(stderr, "comet4j-node: %s: must be between %ld and %ld: '%s'\n",
            o->key, o->min, o->max, v);
    return 2;
  }
  *out = (int)n;
  return 0;
}

/* "local", or redis://host[:port][/db] with a port of 1 to 65535 and a
 * db of digits: the form docs/protocol.md section 9 gives. */
static int hub_ok(const char *v) {
  if (!strcmp(v, "local")) return 1;
  if (strncmp(v, "redis://", 8) != 0 || strlen(v) > 512) return 0;
  const char *p = v + 8;
  size_t host = strcspn(p, ":/");
  if (host == 0) return 0;
  for (size_t i = 0; i < host; i++)
    if (isspace((unsigned char)p[i]) || p[i] == '@') return 0;
  p += host;
  if (*p == ':') {
    size_t n = strspn(++p, "0123456789");
    if (n == 0 || n > 5 || atol(p) < 1 || atol(p) > 65535) return 0;
    p += n;
  }
  if (*p == '/') {
    size_t n = strspn(++p, "0123456789");
    if (n == 0 || n > 5) return 0;
    p += n;
  }
  return *p == 0;
}

static int prefix_ok(const char *v) {
  size_t n = strlen(v);
  return n >= 1 && n <= 64 &&
         strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789_.:-") == n;
}

int node_options_parse(int argc, char **argv, node_options_t *out) {
  int rc;
  /* The file first, then the flags over it. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--config") == 0) {
      if (i + 1 >= argc) return bad("--config", "needs a file%s", "");
      if ((rc = load_file(argv[++i]))) return rc;
    } else if (strncmp(a, "--config=", 9) == 0) {
      if ((rc = load_file(a + 9))) return rc;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 1;
    }
    if (strcmp(a, "--config") == 0) { i++; continue; }
    if (strncmp(a, "--config=", 9) == 0) continue;
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    opt_t *o = strncmp(a, "--", 2) == 0 ? by_flag(a, n) : NULL;
    if (!o) {
      fprintf(stderr, "comet4j-node: %s: unknown flag (see --help)\n", a);
      return 2;
    }
    if (eq) set(o, eq + 1);
    else if (i + 1 < argc) set(o, argv[++i]);
    else return bad(o->key, "%s needs a value", o->flag);
    /* A secret in argv is read by anyone on the machine (ps, /proc). */
    if (o->type == T_TEXT &&
        (!strcmp(o->key, "Comet.Secret") || !strcmp(o->key, "Comet.ApiKey")))
      fprintf(stderr, "comet4j-node: warning: %s on the command line is "
              "visible to every user (ps, /proc/PID/cmdline): give %s-file "
              "FILE (or %sFile in --config) instead\n", o->flag, o->flag, o->key);
  }

  c4j_config_t *c = &out->cfg;
  c4j_config_init(c);
  c->listen_actions = 0; /* a node only holds connections */
  out->log_level = LOG_INFO;
  out->hub_remote = 0;
  out->presence = NULL;
  for (size_t i = 0; i < NOPTS; i++) {
    opt_t *o = &opts[i];
    if (!o->value) continue;
    int n = 0;
    if (o->type == T_INT && (rc = parse_int(o, &n))) return rc;
    const char *k = o->key;
    size_t len;
    if (!strcmp(k, "Comet.Port")) c->port = n;
    else if (!strcmp(k, "Comet.Host")) c->host = o->value;
    else if (!strcmp(k, "Comet.Threads")) c->threads = n;
    else if (!strcmp(k, "Comet.Secret")) {
      c->secret = (const uint8_t *)o->value;
      c->secret_len = strlen(o->value);
    } else if (!strcmp(k, "Comet.SecretFile")) {
      free(secret_buf);
      if (!(secret_buf = slurp(o->value, &len)))
        return bad(k, "cannot read '%s'", o->value);
      c->secret = (const uint8_t *)secret_buf;
      c->secret_len = len;
    } else if (!strcmp(k, "Comet.ApiKey")) c->api_key = o->value;
    else if (!strcmp(k, "Comet.ApiKeyFile")) {
      free(key_buf);
      if (!(key_buf = slurp(o->value, &len)))
        return bad(k, "cannot read '%s'", o->value);
      c->api_key = key_buf;
    } else if (!strcmp(k, "Comet.Timeout"))
      c->hold_ms = n <= 0 ? 0 : n > 86400000 ? 86400000 : (int)n;
    else if (!strcmp(k, "Comet.IdleTimeout")) c->idle_timeout_ms = n;
    else if (!strcmp(k, "Comet.Heartbeat")) c->heartbeat_ms = n;
    else if (!strcmp(k, "Comet.MaxHeader")) c->max_header = (size_t)n;
    else if (!strcmp(k, "Comet.MaxFrame")) c->max_frame = (size_t)n;
    else if (!strcmp(k, "Comet.MaxMessage")) c->max_message = (size_t)n;
    else if (!strcmp(k, "Comet.MaxQueue")) c->max_queue = (size_t)n;
    else if (!strcmp(k, "Comet.MaxConnections")) c->max_conns = n;
    else if (!strcmp(k, "Comet.HandshakeTimeout")) c->handshake_timeout_ms = n;
    else if (!strcmp(k, "Comet.MaxPendingPerAddress")) c->max_pending_per_addr = n;
    else if (!strcmp(k, "Comet.AllowedOrigins")) c->allowed_origins = o->value;
    else if (!strcmp(k, "Comet.Metrics")) c->metrics = o->value;
    else if (!strcmp(k, "Comet.HistorySize")) c->history_size = n;
    else if (!strcmp(k, "Comet.CacheExpires")) c->history_age_ms = n;
    else if (!strcmp(k, "Comet.ConnExpires")) c->conn_expires_ms = n;
    else if (!strcmp(k, "Comet.ApiTimeout")) c->api_timeout_ms = n;
    else if (!strcmp(k, "Comet.Hub")) {
      if (!hub_ok(o->value))
        return bad(k, "must be local or redis://host[:port][/db]: '%s'", o->value);
      c->hub = o->value;
      out->hub_remote = strncmp(o->value, "redis://", 8) == 0;
    } else if (!strcmp(k, "Comet.HubPrefix")) {
      if (!prefix_ok(o->value))
        return bad(k, "must be 1 to 64 of A-Z a-z 0-9 _ . : -: '%s'", o->value);
      c->hub_prefix = o->value;
    } else if (!strcmp(k, "Comet.HubOutboxRecords")) c->hub_outbox_records = n;
    else if (!strcmp(k, "Comet.HubOutboxBytes")) c->hub_outbox_bytes = (size_t)n;
    else if (!strcmp(k, "Comet.HubCatchUpRecords")) c->hub_catchup_records = n;
    else if (!strcmp(k, "Comet.HubCatchUpBytes")) c->hub_catchup_bytes = (size_t)n;
    else if (!strcmp(k, "Comet.ListenActions")) {
      /* The JVM's default is true; here there is nothing to run a
       * request, so only false is accepted (requests go to the queue for
       * the application's nodes). */
      if (!strcmp(o->value, "true"))
        return bad(k, "comet4j-node runs no actions (it has no action "
                      "handlers): must be false%s", "");
      if (strcmp(o->value, "false") != 0)
        return bad(k, "must be true or false: '%s'", o->value);
    } else if (!strcmp(k, "Comet.Deflate")) {
      /* on|off, or the JVM's true|false. */
      if (!strcmp(o->value, "on") || !strcmp(o->value, "true")) c->deflate = 1;
      else if (!strcmp(o->value, "off") || !strcmp(o->value, "false"))
        c->deflate = 0;
      else return bad(k, "must be on or off: '%s'", o->value);
    } else if (!strcmp(k, "Comet.TlsCert")) c->tls_cert = o->value;
    else if (!strcmp(k, "Comet.TlsKey")) c->tls_key = o->value;
    else if (!strcmp(k, "Comet.PresenceChannels")) {
      free(out->presence);
      if (!(out->presence = strdup(o->value)))
        return bad(k, "out of memory%s", "");
    } else if (!strcmp(k, "Comet.LogLevel")) {
      static const char *names[] = {"error", "warn", "info", "debug"};
      out->log_level = -1;
      for (int l = 0; l < 4; l++)
        if (!strcmp(o->value, names[l])) out->log_level = l;
      if (out->log_level < 0)
        return bad(k, "must be one of [debug, error, info, warn]: '%s'", o->value);
    }
  }
  if (!c->secret || c->secret_len == 0)
    return bad("Comet.Secret", "required: give --secret-file FILE (or --secret)%s", "");
  if (c->secret_len < 16) {
    fprintf(stderr, "comet4j-node: Comet.Secret: must be at least 16 bytes, got %zu\n",
            c->secret_len);
    return 2;
  }
  if (c->api_key && *c->api_key) {
    size_t n = strlen(c->api_key);
    int ok = n >= 16 && n <= 256;
    for (size_t i = 0; ok && i < n; i++)
      ok = c->api_key[i] > 0x20 && c->api_key[i] < 0x7f;
    if (!ok) return bad("Comet.ApiKey", "must be 16 to 256 printable ASCII characters%s", "");
  }
  if ((c->tls_cert && *c->tls_cert) != (c->tls_key && *c->tls_key))
    return bad(c->tls_cert && *c->tls_cert ? "Comet.TlsKey" : "Comet.TlsCert",
               "required with %s (a PEM certificate and its private key)",
               c->tls_cert && *c->tls_cert ? "Comet.TlsCert" : "Comet.TlsKey");
  if (c->idle_timeout_ms <= c->heartbeat_ms) {
    fprintf(stderr, "comet4j-node: Comet.IdleTimeout: must be greater than Comet.Heartbeat\n");
    return 2;
  }
  return 0;
}

const char *node_options_key_of(const char *core_error) {
  static const char *fields[][2] = {
    {"host", "Comet.Host"}, {"port", "Comet.Port"},
    {"threads", "Comet.Threads"}, {"secret", "Comet.Secret"},
    {"heartbeat_ms", "Comet.Heartbeat"}, {"idle_timeout_ms", "Comet.IdleTimeout"},
    {"hold_ms", "Comet.Timeout"},
    {"max_header", "Comet.MaxHeader"}, {"max_frame", "Comet.MaxFrame"},
    {"max_message", "Comet.MaxMessage"}, {"max_queue", "Comet.MaxQueue"},
    {"max_conns", "Comet.MaxConnections"},
    {"handshake_timeout_ms", "Comet.HandshakeTimeout"},
    {"max_pending_per_addr", "Comet.MaxPendingPerAddress"},
    {"allowed_origins", "Comet.AllowedOrigins"},
    {"history_size", "Comet.HistorySize"},
    {"history_age_ms", "Comet.CacheExpires"},
    {"conn_expires_ms", "Comet.ConnExpires"}, {"api_key", "Comet.ApiKey"},
    {"api_timeout_ms", "Comet.ApiTimeout"}, {"hub", "Comet.Hub"},
    {"hub_prefix", "Comet.HubPrefix"},
    {"tls_cert", "Comet.TlsCert"}, {"tls_key", "Comet.TlsKey"},
    {"metrics", "Comet.Metrics"},
    {"hub_outbox_records", "Comet.HubOutboxRecords"},
    {"hub_outbox_bytes", "Comet.HubOutboxBytes"},
    {"hub_catchup_records", "Comet.HubCatchUpRecords"},
    {"hub_catchup_bytes", "Comet.HubCatchUpBytes"},
    {"deflate", "Comet.Deflate"},
  };
  size_t n = strcspn(core_error, ":");
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (strlen(fields[i][0]) == n && !strncmp(core_error, fields[i][0], n))
      return fields[i][1];
  return NULL;
}

void node_options_free(void) {
  for (size_t i = 0; i < NOPTS; i++) { free(opts[i].value); opts[i].value = NULL; }
  free(secret_buf); free(key_buf);
  secret_buf = key_buf = NULL;
}
