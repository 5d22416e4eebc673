/* metrics.h - the figures' labels, the fan-out histogram, the rendering of
 * c4j_stats_t in Prometheus's text format 0.0.4 and who may read it
 * (docs/metrics.md).  No I/O and nothing of the core: the counters
 * themselves live in the engine (engine.h) and its workers, which count
 * with relaxed atomics (or per worker, added once a loop turn); this file
 * only maps codes to their slots and writes text.
 */
#ifndef C4J_METRICS_H
#define C4J_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "c4j.h"

/* The slot of an HTTP status in c4j_stats_t.refused / of a close code in
 * .closed (the last slot for any other). */
int c4j__metrics_status_slot(int status);
int c4j__metrics_close_slot(int code);

/* A histogram of durations, filled from any thread without a lock.
 * Invariant: `le[i]` counts the observations above bound i-1 and at most
 * bound i (c4j_stats_label(C4J_STATS_BUCKET, i)); the last is +Inf. */
typedef struct {
  atomic_ullong le[C4J_STATS_NBUCKETS];
  atomic_ullong count, sum_ns;
} c4j__histo_t;

void c4j__histo_observe(c4j__histo_t *h, uint64_t ns);
/* Copies h into the three fields of c4j_stats_t's shape. */
void c4j__histo_read(c4j__histo_t *h, uint64_t *le, uint64_t *count,
                     uint64_t *sum_ns);

/* One broadcast's fan-out, shared by the workers it was pushed to: the
 * last to have written it (c4j__fan_done) observes the time since t0_ns
 * in h and frees it. */
typedef struct {
  atomic_int left;
  uint64_t t0_ns;
  c4j__histo_t *h;
} c4j__fan_t;

/* Monotonic nanoseconds. */
uint64_t c4j__metrics_now_ns(void);
/* A new fan-out of n workers starting now; NULL when out of memory (the
 * broadcast then goes untimed) or built with C4J_NO_METRICS. */
c4j__fan_t *c4j__fan_new(c4j__histo_t *h, int n);
/* One worker is done with f (NULL: nothing). */
void c4j__fan_done(c4j__fan_t *f);

/* Who may GET /metrics (c4j_config_t.metrics): nobody (off), a request
 * with the API key as a bearer (key), or the client addresses listed. */
#define C4J__METRICS_MAX_ADDRS 32
typedef struct {
  int on, key;
  int naddrs;
  struct {
    int family;          /* AF_INET or AF_INET6 */
    uint8_t bytes[16];
  } addrs[C4J__METRICS_MAX_ADDRS];
} c4j__metrics_access_t;

/* Reads spec (NULL or "": off; "true"; or a comma list of addresses).
 * Returns 0, or -1 with *why naming what is wrong. */
int c4j__metrics_parse(const char *spec, c4j__metrics_access_t *a,
                       const char **why);
/* Whether a request from peer (a struct sockaddr, or NULL) carrying the
 * Authorization header value `authorization` ("" when none) may read:
 * 0 yes, else the HTTP status to refuse it with (401: no key or a wrong
 * one, 403: an address not listed).  api_key: the engine's, or NULL. */
int c4j__metrics_allowed(const c4j__metrics_access_t *a, const void *peer,
                         const char *authorization, const char *api_key);

/* Renders s (and extra after it, when not NULL) as c4j_metrics_text
 * does. */
int c4j__metrics_render(const c4j_stats_t *s, const char *extra, char **out,
                        size_t *len);

#endif /* C4J_METRICS_H */
