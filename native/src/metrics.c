/* metrics.c - the figures' labels, the fan-out histogram, Prometheus's
 * text format and the access to /metrics (metrics.h).  docs/metrics.md
 * lists every name written here: keep the two together.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "metrics.h"

/* ---- Labels --------------------------------------------------------------- */

static const char *const transports[C4J_STATS_NTRANSPORTS] = {
  "ws", "sse", "poll"
};
static const char *const states[C4J_STATS_NSTATES] = {
  "attached", "parked", "dying"
};
static const int statuses[C4J_STATS_NSTATUSES - 1] = {
  400, 401, 403, 404, 405, 408, 411, 413, 414, 426, 429, 431, 500, 503, 504
};
static const char *const status_names[C4J_STATS_NSTATUSES] = {
  "400", "401", "403", "404", "405", "408", "411", "413", "414", "426",
  "429", "431", "500", "503", "504", "other"
};
static const int closes[C4J_STATS_NCLOSES - 1] = {
  1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1011, 4001, 4002, 4003,
  4004, 4005
};
static const char *const close_names[C4J_STATS_NCLOSES] = {
  "1000", "1001", "1002", "1003", "1006", "1007", "1008", "1009", "1011",
  "4001", "4002", "4003", "4004", "4005", "other"
};
/* Bucket bounds in nanoseconds and as Prometheus writes them. */
static const uint64_t bounds_ns[C4J_STATS_NBUCKETS - 1] = {
  100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000,
  50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000u,
  5000000000u
};
static const char *const bucket_names[C4J_STATS_NBUCKETS] = {
  "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
  "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"
};

const char *c4j_stats_label(int kind, int i) {
  if (i < 0) return NULL;
  switch (kind) {
  case C4J_STATS_TRANSPORT:
    return i < C4J_STATS_NTRANSPORTS ? transports[i] : NULL;
  case C4J_STATS_STATE: return i < C4J_STATS_NSTATES ? states[i] : NULL;
  case C4J_STATS_STATUS:
    return i < C4J_STATS_NSTATUSES ? status_names[i] : NULL;
  case C4J_STATS_CLOSE: return i < C4J_STATS_NCLOSES ? close_names[i] : NULL;
  case C4J_STATS_BUCKET:
    return i < C4J_STATS_NBUCKETS ? bucket_names[i] : NULL;
  default: return NULL;
  }
}

int c4j__metrics_status_slot(int status) {
  int i;
  for (i = 0; i < C4J_STATS_NSTATUSES - 1; i++)
    if (statuses[i] == status) return i;
  return i;
}

int c4j__metrics_close_slot(int code) {
  int i;
  for (i = 0; i < C4J_STATS_NCLOSES - 1; i++)
    if (closes[i] == code) return i;
  return i;
}

/* ---- The histogram -------------------------------------------------------- */

void c4j__histo_observe(c4j__histo_t *h, uint64_t ns) {
  int i = 0;
  while (i < C4J_STATS_NBUCKETS - 1 && ns > bounds_ns[i]) i++;
  atomic_fetch_add_explicit(&h->le[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void c4j__histo_read(c4j__histo_t *h, uint64_t *le, uint64_t *count,
                     uint64_t *sum_ns) {
  /* count first: a scrape may see a bucket ahead of it, never behind */
  *count = atomic_load_explicit(&h->count, memory_order_relaxed);
  *sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
  for (int i = 0; i < C4J_STATS_NBUCKETS; i++)
    le[i] = atomic_load_explicit(&h->le[i], memory_order_relaxed);
}

uint64_t c4j__metrics_now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

c4j__fan_t *c4j__fan_new(c4j__histo_t *h, int n) {
#ifdef C4J_NO_METRICS
  (void)h, (void)n;
  return NULL;
#else
  c4j__fan_t *f = malloc(sizeof(*f));
  if (f == NULL) return NULL;
  atomic_init(&f->left, n);
  f->h = h;
  f->t0_ns = c4j__metrics_now_ns();
  return f;
#endif
}

void c4j__fan_done(c4j__fan_t *f) {
  if (f == NULL || atomic_fetch_sub(&f->left, 1) != 1) return;
  c4j__histo_observe(f->h, c4j__metrics_now_ns() - f->t0_ns);
  free(f);
}

/* ---- Access --------------------------------------------------------------- */

int c4j__metrics_parse(const char *spec, c4j__metrics_access_t *a,
                       const char **why) {
  const char *p = spec;
  memset(a, 0, sizeof(*a));
  if (spec == NULL || spec[0] == '\0' || strcasecmp(spec, "false") == 0)
    return 0;
  a->on = 1;
  if (strcasecmp(spec, "true") == 0) {
    a->key = 1;
    return 0;
  }
  while (*p != '\0') {
    char one[64];
    size_t n;
    while (*p == ' ' || *p == ',') p++;
    if (*p == '\0') break;
    n = strcspn(p, ", ");
    if (n >= sizeof(one) || a->naddrs == C4J__METRICS_MAX_ADDRS) {
      *why = "metrics: \"true\" or a list of up to 32 IP addresses";
      return -1;
    }
    memcpy(one, p, n);
    one[n] = '\0';
    if (inet_pton(AF_INET, one, a->addrs[a->naddrs].bytes) == 1) {
      a->addrs[a->naddrs].family = AF_INET;
    } else if (inet_pton(AF_INET6, one, a->addrs[a->naddrs].bytes) == 1) {
      a->addrs[a->naddrs].family = AF_INET6;
    } else {
      *why = "metrics: \"true\" or a comma list of IP addresses (one is "
             "not an address)";
      return -1;
    }
    a->naddrs++;
    p += n;
  }
  if (a->naddrs == 0) {
    *why = "metrics: \"true\" or a comma list of IP addresses";
    return -1;
  }
  return 0;
}

/* Whether the bearer in authorization is key, in time that does not
 * depend on where they differ. */
static int bearer_is(const char *authorization, const char *key) {
  const char *got;
  size_t n, k = strlen(key);
  unsigned diff = 0;
  if (strncasecmp(authorization, "Bearer ", 7) != 0) return 0;
  got = authorization + 7;
  while (*got == ' ') got++;
  n = strlen(got);
  if (n != k) return 0;
  for (size_t i = 0; i < k; i++) diff |= (unsigned)(got[i] ^ key[i]);
  return diff == 0;
}

static int listed(const c4j__metrics_access_t *a, const void *peer) {
  const struct sockaddr *sa = peer;
  uint8_t v4[4];
  if (sa == NULL) return 0;
  for (int i = 0; i < a->naddrs; i++) {
    if (sa->sa_family == AF_INET) {
      const struct sockaddr_in *s4 = peer;
      if (a->addrs[i].family == AF_INET &&
          memcmp(a->addrs[i].bytes, &s4->sin_addr, 4) == 0)
        return 1;
    } else if (sa->sa_family == AF_INET6) {
      const struct sockaddr_in6 *s6 = peer;
      const uint8_t *b = s6->sin6_addr.s6_addr;
      if (a->addrs[i].family == AF_INET6 && memcmp(a->addrs[i].bytes, b, 16) == 0)
        return 1;
      /* An IPv4 client of a dual-stack socket: ::ffff:a.b.c.d */
      if (a->addrs[i].family == AF_INET && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        memcpy(v4, b + 12, 4);
        if (memcmp(a->addrs[i].bytes, v4, 4) == 0) return 1;
      }
    }
  }
  return 0;
}

int c4j__metrics_allowed(const c4j__metrics_access_t *a, const void *peer,
                         const char *authorization, const char *api_key) {
  if (!a->on) return 404;
  if (api_key != NULL && authorization != NULL && authorization[0] != '\0')
    return bearer_is(authorization, api_key) ? 0 : 401;
  if (a->naddrs > 0) return listed(a, peer) ? 0 : 403;
  return 401;
}

/* ---- Text ----------------------------------------------------------------- */

typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} out_t;

static void put(out_t *o, const char *fmt, ...) {
  va_list ap;
  int n;
  if (o->oom) return;
  for (;;) {
    va_start(ap, fmt);
    n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      o->oom = 1;
      return;
    }
    if ((size_t)n < o->cap - o->len) break;
    {
      size_t cap = o->cap * 2 + (size_t)n;
      char *q = realloc(o->p, cap);
      if (q == NULL) {
        o->oom = 1;
        return;
      }
      o->p = q;
      o->cap = cap;
    }
  }
  o->len += (size_t)n;
}

static void head(out_t *o, const char *name, const char *type,
                 const char *help) {
  put(o, "# HELP comet4j_%s %s\n# TYPE comet4j_%s %s\n", name, help, name,
      type);
}

static void one(out_t *o, const char *name, const char *type,
                const char *help, uint64_t v) {
  head(o, name, type, help);
  put(o, "comet4j_%s %llu\n", name, (unsigned long long)v);
}

/* A family with one label: n values, labels from kind. */
static void labelled(out_t *o, const char *name, const char *type,
                     const char *help, const char *label, int kind,
                     const uint64_t *v, int n) {
  head(o, name, type, help);
  for (int i = 0; i < n; i++)
    put(o, "comet4j_%s{%s=\"%s\"} %llu\n", name, label,
        c4j_stats_label(kind, i), (unsigned long long)v[i]);
}

static void histogram(out_t *o, const char *name, const char *help,
                      const uint64_t *le, uint64_t count, uint64_t sum_ns) {
  uint64_t cum = 0;
  head(o, name, "histogram", help);
  for (int i = 0; i < C4J_STATS_NBUCKETS; i++) {
    cum += le[i];
    /* +Inf is the count itself, and no bucket is above it, so that the
     * series agree when a scrape raced an observation */
    if (i == C4J_STATS_NBUCKETS - 1 || cum > count) cum = count;
    put(o, "comet4j_%s_bucket{le=\"%s\"} %llu\n", name, bucket_names[i],
        (unsigned long long)cum);
  }
  put(o, "comet4j_%s_sum %.9f\ncomet4j_%s_count %llu\n", name,
      (double)sum_ns / 1e9, name, (unsigned long long)count);
}

int c4j__metrics_render(const c4j_stats_t *s, const char *extra, char **out,
                        size_t *len) {
  out_t o = { NULL, 0, 16384, 0 };
  uint64_t v[5];
  o.p = malloc(o.cap);
  if (o.p == NULL) return C4J_ENOMEM;
  o.p[0] = '\0';
  labelled(&o, "connections", "gauge",
           "Connections attached now, by transport.", "transport",
           C4J_STATS_TRANSPORT, s->by_transport, C4J_STATS_NTRANSPORTS);
  labelled(&o, "identities", "gauge",
           "Connection ids held now, by state.", "state", C4J_STATS_STATE,
           s->by_state, C4J_STATS_NSTATES);
  one(&o, "sockets_accepted_total", "counter",
      "Sockets accepted on the port or handed over by the container.",
      s->accepted);
  labelled(&o, "http_refused_total", "counter",
           "HTTP requests answered with an error, by status.", "status",
           C4J_STATS_STATUS, s->refused, C4J_STATS_NSTATUSES);
  one(&o, "unfinished_requests", "gauge",
      "Sockets whose request has not fully arrived.", s->pending);
  head(&o, "unfinished_refused_total", "counter",
       "Sockets refused or cut while their request was unfinished, by "
       "reason.");
  v[0] = s->refused_full, v[1] = s->refused_address, v[2] = s->evicted;
  v[3] = s->timeouts, v[4] = s->timeouts_short;
  {
    static const char *const why[5] = { "full", "address", "evicted",
                                         "timeout", "timeout_shortened" };
    for (int i = 0; i < 5; i++)
      put(&o, "comet4j_unfinished_refused_total{reason=\"%s\"} %llu\n",
          why[i], (unsigned long long)v[i]);
  }
  labelled(&o, "closed_total", "counter",
           "Connection ids ended (DROP), by close code.", "code",
           C4J_STATS_CLOSE, s->closed, C4J_STATS_NCLOSES);
  one(&o, "slow_consumers_total", "counter",
      "Connections cut for a full output queue (4001).", s->slow_consumers);
  one(&o, "messages_in_total", "counter", "Client text messages received.",
      s->messages_in);
  one(&o, "bytes_in_total", "counter", "Bytes of client text messages.",
      s->bytes_in);
  one(&o, "messages_out_total", "counter",
      "Frames queued to connections.", s->messages_out);
  one(&o, "bytes_out_total", "counter",
      "Bytes of frames queued to connections.", s->bytes_out);
  one(&o, "deflated_total", "counter",
      "Frames compressed for permessage-deflate, each once for all its "
      "receivers.", s->deflated);
  one(&o, "deflate_plain_bytes_total", "counter",
      "Payload bytes of those frames before compression.",
      s->deflate_bytes_in);
  one(&o, "deflate_compressed_bytes_total", "counter",
      "Payload bytes of those frames once compressed.", s->deflate_bytes_out);
  head(&o, "sends_total", "counter",
       "Sends taken, by target: all (a broadcast), connection, user.");
  put(&o, "comet4j_sends_total{to=\"all\"} %llu\n"
      "comet4j_sends_total{to=\"connection\"} %llu\n"
      "comet4j_sends_total{to=\"user\"} %llu\n",
      (unsigned long long)s->broadcasts, (unsigned long long)s->sends_to,
      (unsigned long long)s->sends_user);
  head(&o, "resumes_total", "counter",
       "Attaches that asked to resume, by whether every broadcast missed "
       "was still kept.");
  put(&o, "comet4j_resumes_total{recovered=\"true\"} %llu\n"
      "comet4j_resumes_total{recovered=\"false\"} %llu\n",
      (unsigned long long)s->resumes[1], (unsigned long long)s->resumes[0]);
  one(&o, "event_queue_bytes", "gauge",
      "Bytes waiting in the event queue to the application.",
      s->events_queued);
  one(&o, "event_queue_capacity_bytes", "gauge",
      "The event queue's bound.", s->events_queue_cap);
  one(&o, "events_dropped_total", "counter",
      "Events lost to a full event queue.", s->events_dropped);
  one(&o, "output_queue_bytes", "gauge",
      "Bytes queued to connections (sampled once a tick).", s->out_queued);
  one(&o, "hub_up", "gauge", "1 while the Redis hub is linked.", s->hub_up);
  one(&o, "hub_outbox", "gauge",
      "Hub records Redis does not have (or has not confirmed) yet.",
      s->hub_outbox);
  one(&o, "hub_refused_total", "counter",
      "Sends refused because the hub's outbox was full (hub_outbox_records "
      "or hub_outbox_bytes).", s->hub_refused);
  one(&o, "hub_lost_total", "counter",
      "Broadcasts this node's pages never got: gone from Redis before this "
      "node fetched them (the pages were told how many).", s->hub_lost);
  one(&o, "hub_gaps_total", "counter",
      "Times broadcasts were lost that way (one notice to the channel's "
      "pages each time).", s->hub_gaps);
  one(&o, "hub_duplicates_total", "counter",
      "Copies of broadcasts delivered here already (sent again after a lost "
      "link), skipped.", s->hub_duplicates);
  histogram(&o, "broadcast_fanout_seconds",
            "From a broadcast's call to its frame written to every "
            "subscriber of this node.",
            s->fanout_le, s->fanout_count, s->fanout_sum_ns);
  if (extra != NULL) put(&o, "%s", extra);
  if (o.oom) {
    free(o.p);
    return C4J_ENOMEM;
  }
  *out = o.p;
  *len = o.len;
  return 0;
}
