/* engine.c - the engine's life cycle (c4j_engine_new, start, stop, free):
 * its configuration copied, the workers, the listener and the hub started
 * and stopped in order; and what the embedder reads of it: the port, the
 * events (c4j_engine_poll), the statistics, tickets signed with its
 * secret.  The sends and commands are route.c's.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "common.h"
#include "engine.h"
#include "hub.h"
#include "listener.h"
#include "presence.h"
#include "worker.h"

/* ---- Life cycle ----------------------------------------------------------- */

/* Frees what c4j_engine_new copied (any of it may be NULL). */
static void free_copies(c4j_engine_t *e) {
  c4j__free(e->hub);
  c4j__free(e->hub_prefix);
  c4j__free(e->host);
  c4j__free(e->origins);
  if (e->secret != NULL) memset(e->secret, 0, e->cfg.secret_len);
  c4j__free(e->secret);
  if (e->api_key != NULL) memset(e->api_key, 0, strlen(e->api_key));
  c4j__free(e->api_key);
}

static char *copy(const char *s) {
  return c4j__strndup(s ? s : "", s ? strlen(s) : 0);
}

int c4j_engine_new(const c4j_config_t *cfg, c4j_engine_t **out) {
  c4j_engine_t *e;
  int rc = c4j__config_check(cfg);
  if (rc != 0) return rc;
  e = c4j__calloc(1, sizeof(*e));
  if (e == NULL) return C4J_ENOMEM;
  e->cfg = *cfg;
  e->host = copy(cfg->host);
  e->origins = copy(cfg->allowed_origins);
  e->secret = (uint8_t *)c4j__strndup((const char *)cfg->secret,
                                      cfg->secret_len);
  e->hub = copy(cfg->hub);
  e->hub_prefix = copy(cfg->hub_prefix);
  if (cfg->api_key != NULL && cfg->api_key[0] != '\0' &&
      (e->api_key = copy(cfg->api_key)) == NULL)
    goto fail_copies;
  if (e->host == NULL || e->origins == NULL || e->secret == NULL ||
      e->hub == NULL || e->hub_prefix == NULL)
    goto fail_copies;
  if (uv_mutex_init(&e->life) != 0) goto fail_copies;
  if (c4j__events_init(&e->events, cfg->event_queue) != 0) goto fail_life;
  if (c4j__hist_init(&e->hist, (uint32_t)cfg->history_size,
                     (uint64_t)cfg->history_age_ms) != 0)
    goto fail_events;
  if (c4j__held_init(&e->held) != 0) goto fail_hist;
  if (c4j__members_init(&e->members) != 0) goto fail_held;
  if (c4j__pending_init(&e->pending) != 0) goto fail_members;
  e->hooks = c4j__presence_hooks;
  e->cfg.host = e->host;
  e->cfg.allowed_origins = e->origins;
  e->cfg.secret = e->secret;
  e->cfg.api_key = e->api_key;
  e->cfg.hub = e->hub;
  e->cfg.hub_prefix = e->hub_prefix;
  e->port = -1;
  e->listen_fd = -1;
  atomic_init(&e->state, C4J__NEW);
  e->magic = C4J__ENGINE_MAGIC;
  *out = e;
  return 0;

fail_members:
  c4j__members_free(&e->members);
fail_held:
  c4j__held_free(&e->held);
fail_hist:
  c4j__hist_free(&e->hist);
fail_events:
  c4j__events_free(&e->events);
fail_life:
  uv_mutex_destroy(&e->life);
fail_copies:
  free_copies(e);
  c4j__free(e);
  return C4J_ENOMEM;
}

/* Ends and frees every worker and closes the listener.  Called with the
 * life lock held, from start (on failure) or stop. */
static void teardown(c4j_engine_t *e) {
  atomic_store(&e->state, C4J__STOPPING);
  while (atomic_load(&e->inflight) != 0) uv_sleep(0);
  c4j__hub_stop(e); /* its thread delivers through the workers */
  if (e->workers != NULL) {
    for (int i = 0; i < e->nworkers; i++)
      if (e->workers[i] != NULL) c4j__worker_stop(e->workers[i]);
    for (int i = 0; i < e->nworkers; i++) {
      if (e->workers[i] == NULL) continue;
      c4j__worker_free(e->workers[i]);
      c4j__free(e->workers[i]);
    }
    c4j__free(e->workers);
    e->workers = NULL;
  }
  e->nworkers = 0;
  c4j__listener_close(e);
}

int c4j_engine_start(c4j_engine_t *e) {
  int rc = 0, n;
  struct sigaction sa;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  uv_mutex_lock(&e->life);
  if (atomic_load(&e->state) != C4J__NEW) {
    uv_mutex_unlock(&e->life);
    return C4J_ESTATE;
  }
  /* Writes to a closed socket must fail with EPIPE, not kill the process.
   * The JVM already handles SIGPIPE; only a default disposition is
   * changed. */
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
  n = e->cfg.threads;
  e->workers = c4j__calloc((size_t)n, sizeof(*e->workers));
  if (e->workers == NULL) {
    rc = C4J_ENOMEM;
    goto fail;
  }
  e->nworkers = n;
  for (int i = 0; i < n; i++) {
    e->workers[i] = c4j__calloc(1, sizeof(c4j__worker_t));
    if (e->workers[i] == NULL) {
      rc = C4J_ENOMEM;
      goto fail;
    }
    rc = c4j__worker_init(e->workers[i], e, i);
    if (rc != 0) goto fail;
  }
  c4j__listener_capacity(e); /* once the workers hold their descriptors */
  if (e->cfg.port != -1) {
    rc = c4j__listener_open(e);
    if (rc != 0) goto fail;
    rc = c4j__listener_start(e->workers[0]);
    if (rc != 0) goto fail;
  }
  atomic_store(&e->state, C4J__RUNNING);
  for (int i = 0; i < n; i++) {
    rc = c4j__worker_run(e->workers[i]);
    if (rc != 0) goto fail;
  }
  /* Last: records from the other nodes need running workers. */
  rc = c4j__hub_start(e);
  if (rc != 0) goto fail;
  uv_mutex_unlock(&e->life);
  return 0;

fail:
  teardown(e);
  atomic_store(&e->state, C4J__NEW);
  uv_mutex_unlock(&e->life);
  return rc;
}

int c4j_engine_port(const c4j_engine_t *e) {
  if (!c4j__engine_valid(e)) return -1;
  return atomic_load(&((c4j_engine_t *)e)->state) == C4J__RUNNING ? e->port
                                                                  : -1;
}

int c4j_engine_stop(c4j_engine_t *e) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  uv_mutex_lock(&e->life);
  if (atomic_load(&e->state) == C4J__RUNNING) teardown(e);
  atomic_store(&e->state, C4J__STOPPED);
  c4j__events_stop(&e->events);
  uv_mutex_unlock(&e->life);
  return 0;
}

void c4j_engine_free(c4j_engine_t *e) {
  if (!c4j__engine_valid(e)) return;
  c4j_engine_stop(e);
  c4j__events_free(&e->events);
  c4j__hist_free(&e->hist);
  c4j__held_free(&e->held);
  c4j__members_free(&e->members);
  c4j__pending_free(&e->pending);
  uv_mutex_destroy(&e->life);
  free_copies(e);
  e->magic = 0;
  c4j__free(e);
}

/* ---- Tickets, events, statistics ---------------------------------------- */

int c4j_ticket_sign(const c4j_engine_t *e, const char *claims_json,
                    size_t claims_len, char *out, size_t out_cap) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (claims_json == NULL || out == NULL) return C4J_EBADJSON;
  return c4j_auth_sign(e->secret, e->cfg.secret_len, claims_json, claims_len,
                       out, out_cap);
}

int c4j_engine_poll(c4j_engine_t *e, uint8_t *buf, size_t cap,
                    int timeout_ms) {
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (buf == NULL && cap > 0) return UV_EINVAL;
  return c4j__events_poll(&e->events, buf, cap, timeout_ms);
}

void c4j_engine_stats(const c4j_engine_t *e, c4j_stats_t *out) {
  c4j_engine_t *m = (c4j_engine_t *)e; /* atomics are read, not changed */
  memset(out, 0, sizeof(*out));
  if (!c4j__engine_valid(e)) return;
  out->conns = atomic_load(&m->conns);
  out->accepted = atomic_load(&m->accepted);
  out->messages_out = atomic_load(&m->messages_out);
  out->bytes_out = atomic_load(&m->bytes_out);
  out->slow_consumers = atomic_load(&m->slow_consumers);
  out->events_dropped = atomic_load(&m->events.dropped);
  out->pending = (uint64_t)c4j__pending_total(&m->pending);
  out->refused_full = atomic_load(&m->refused_full);
  out->refused_address = atomic_load(&m->refused_addr);
  out->evicted = atomic_load(&m->evicted);
  out->timeouts = atomic_load(&m->timeouts);
  out->timeouts_short = atomic_load(&m->timeouts_short);
  if (c4j__engine_enter(m)) { /* the hub lives while the engine runs */
    c4j__hub_stats(m, out);
    c4j__engine_leave(m);
  }
}
