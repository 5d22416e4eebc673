/* engine.c - the engine's life cycle (c4j_engine_new, start, stop, free):
 * its configuration copied, the workers, the listener and the hub started
 * and stopped in order; and what the embedder reads of it: the port, the
 * events (c4j_engine_poll), the statistics, tickets signed with its
 * secret; the native port's TLS context, made at creation and replaced by
 * c4j_tls_reload (tls.c makes it).  The sends and commands are route.c's.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "common.h"
#include "deflate.h"
#include "engine.h"
#include "hub.h"
#include "listener.h"
#include "presence.h"
#include "tls.h"
#include "worker.h"

/* ---- Life cycle ----------------------------------------------------------- */

static int metrics_cb(c4j_engine_t *e, char **out, size_t *len) {
  return c4j_metrics_text(e, NULL, out, len);
}

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
  c4j__free(e->tls_cert);
  c4j__free(e->tls_key);
}

static char *copy(const char *s) {
  return c4j__strndup(s ? s : "", s ? strlen(s) : 0);
}

int c4j_engine_new(const c4j_config_t *cfg, c4j_engine_t **out) {
  c4j_engine_t *e;
  const char *why;
  int rc = c4j__config_check(cfg);
  if (rc != 0) return rc;
  e = c4j__calloc(1, sizeof(*e));
  if (e == NULL) return C4J_ENOMEM;
  e->cfg = *cfg;
  (void)c4j__metrics_parse(cfg->metrics, &e->metrics, &why); /* checked */
  e->cfg.metrics = NULL; /* kept parsed, in e->metrics */
  e->host = copy(cfg->host);
  e->origins = copy(cfg->allowed_origins);
  e->secret = (uint8_t *)c4j__strndup((const char *)cfg->secret,
                                      cfg->secret_len);
  e->hub = copy(cfg->hub);
  e->hub_prefix = copy(cfg->hub_prefix);
  if (cfg->api_key != NULL && cfg->api_key[0] != '\0' &&
      (e->api_key = copy(cfg->api_key)) == NULL)
    goto fail_copies;
  if (cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0' &&
      ((e->tls_cert = copy(cfg->tls_cert)) == NULL ||
       (e->tls_key = copy(cfg->tls_key)) == NULL))
    goto fail_copies;
  if (e->host == NULL || e->origins == NULL || e->secret == NULL ||
      e->hub == NULL || e->hub_prefix == NULL)
    goto fail_copies;
  /* The PEM files are read now, so that a bad one fails like any bad
   * value (naming its field). */
  if (e->tls_cert != NULL &&
      (e->tls_ctx = c4j__tls_ctx_new(e->tls_cert, e->tls_key)) == NULL) {
    free_copies(e);
    c4j__free(e);
    return C4J_EINVAL_CONFIG;
  }
  if (uv_mutex_init(&e->tls_lock) != 0) goto fail_tls;
  if (uv_mutex_init(&e->life) != 0) goto fail_tls_lock;
  if (c4j__events_init(&e->events, cfg->event_queue) != 0) goto fail_life;
  if (c4j__hist_init(&e->hist, (uint32_t)cfg->history_size,
                     (uint64_t)cfg->history_age_ms) != 0)
    goto fail_events;
  if (c4j__held_init(&e->held) != 0) goto fail_hist;
  if (c4j__members_init(&e->members) != 0) goto fail_held;
  if (c4j__pending_init(&e->pending) != 0) goto fail_members;
  e->hooks = c4j__presence_hooks;
  e->hooks.metrics_cb = metrics_cb;
  e->cfg.host = e->host;
  e->cfg.allowed_origins = e->origins;
  e->cfg.secret = e->secret;
  e->cfg.api_key = e->api_key;
  e->cfg.hub = e->hub;
  e->cfg.hub_prefix = e->hub_prefix;
  e->cfg.tls_cert = e->tls_cert;
  e->cfg.tls_key = e->tls_key;
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
fail_tls_lock:
  uv_mutex_destroy(&e->tls_lock);
fail_tls:
  c4j__tls_ctx_free(e->tls_ctx);
fail_copies:
  free_copies(e);
  c4j__free(e);
  return C4J_ENOMEM;
}

int c4j_tls_reload(c4j_engine_t *e) {
  SSL_CTX *ctx, *old;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  if (e->tls_cert == NULL) {
    c4j__config_set_error("tls_cert: not set (the engine has no TLS)");
    return C4J_ESTATE;
  }
  if ((ctx = c4j__tls_ctx_new(e->tls_cert, e->tls_key)) == NULL)
    return C4J_EINVAL_CONFIG;
  /* Handshakes under way keep their reference to the old one. */
  uv_mutex_lock(&e->tls_lock);
  old = e->tls_ctx;
  e->tls_ctx = ctx;
  uv_mutex_unlock(&e->tls_lock);
  c4j__tls_ctx_free(old);
  return 0;
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
  uv_mutex_destroy(&e->tls_lock);
  c4j__tls_ctx_free(e->tls_ctx);
  free_copies(e);
  e->magic = 0;
  c4j__free(e);
}

int c4j__engine_echo(c4j_engine_t *e) {
  if (!c4j__engine_valid(e) || atomic_load(&e->state) != C4J__NEW)
    return C4J_ESTATE;
  e->echo = 1;
  return 0;
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
  for (int i = 0; i < C4J_STATS_NTRANSPORTS; i++)
    out->by_transport[i] = atomic_load(&m->by_transport[i]);
  for (int i = 0; i < C4J_STATS_NSTATES; i++)
    out->by_state[i] = (uint64_t)atomic_load(&m->held.by_state[i + 1]);
  for (int i = 0; i < C4J_STATS_NSTATUSES; i++)
    out->refused[i] = atomic_load(&m->refused[i]);
  for (int i = 0; i < C4J_STATS_NCLOSES; i++)
    out->closed[i] = atomic_load(&m->closed[i]);
  out->messages_in = atomic_load(&m->messages_in);
  out->bytes_in = atomic_load(&m->bytes_in);
  out->broadcasts = atomic_load(&m->broadcasts);
  out->sends_to = atomic_load(&m->sends_to);
  out->sends_user = atomic_load(&m->sends_user);
  out->resumes[0] = atomic_load(&m->resumes[0]);
  out->resumes[1] = atomic_load(&m->resumes[1]);
  out->events_queued = c4j__events_used(&m->events);
  out->events_queue_cap = m->cfg.event_queue;
  c4j__histo_read(&m->fanout, out->fanout_le, &out->fanout_count,
                  &out->fanout_sum_ns);
  if (c4j__engine_enter(m)) { /* the hub lives while the engine runs */
    c4j__hub_stats(m, out);
    for (int i = 0; i < m->nworkers; i++) {
      uint64_t made, plain, packed;
      out->out_queued += atomic_load_explicit(&m->workers[i]->out_queued,
                                              memory_order_relaxed);
      if (m->workers[i]->zip == NULL) continue;
      c4j__zip_counts(m->workers[i]->zip, &made, &plain, &packed);
      out->deflated += made;
      out->deflate_bytes_in += plain;
      out->deflate_bytes_out += packed;
    }
    c4j__engine_leave(m);
  }
}

int c4j_metrics_text(const c4j_engine_t *e, const char *extra, char **out,
                     size_t *len) {
  c4j_stats_t s;
  if (!c4j__engine_valid(e)) return C4J_ESTATE;
  c4j_engine_stats(e, &s);
  return c4j__metrics_render(&s, extra, out, len);
}
