/* identity.c - the identity a connection carries (its connection id, its
 * user, its channel set and where it stands in each channel), from the
 * attach that gives it to a socket to the DROP that ends it: attach, the
 * ghosts that keep it without a socket (PARKED between two long-polls,
 * DYING after a transport loss, for conn_expires_ms), the resume replay
 * of what it missed, and its hand-over between workers when it comes back
 * on another one.  The engine-wide held register (held.h) says which
 * worker holds each identity; this worker's cid map, channel index and
 * user index hold its connections.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "common.h"
#include "conn.h"
#include "deflate.h"
#include "engine.h"
#include "frames.h"
#include "resume.h"
#include "stream.h"

static const char *transport_name(int t) {
  static const char *names[] = { "websocket", "stream", "lpool", "cmd",
                                 "api" };
  return names[t];
}

/* ---- The register of who is here ------------------------------------------ */

/* The user of c's identity, "" when anonymous. */
static const char *user_of(const c4j__conn_t *c) {
  return c->user != NULL ? c->user->chan->name : "";
}

void c4j__identity_joined(c4j__conn_t *c, const char *ch, size_t len) {
  c4j_engine_t *e = c4j__conn_engine(c);
  int rc = c4j__members_join(&e->members, c->cid->id, ch, len);
  if (rc == 1) {
    c4j__events_sub(&e->events, c->cid->id, ch, len, 1, 0);
    e->hooks.member_cb(e, c->cid->id, user_of(c), ch, len, 1);
  } else if (rc < 0) {
    c4j__events_log(&e->events, 1, "out of memory: a membership is not "
                    "counted (members, presence)");
  }
}

void c4j__identity_left(c4j__conn_t *c, const char *ch, size_t len) {
  c4j_engine_t *e = c4j__conn_engine(c);
  if (c4j__members_leave(&e->members, c->cid->id, ch, len) == 1) {
    c4j__events_sub(&e->events, c->cid->id, ch, len, 0, 0);
    e->hooks.member_cb(e, c->cid->id, user_of(c), ch, len, 0);
  }
}

/* c's identity is here: in the register with every channel it has (after
 * its CONNECT, so that the embedder meets it before its joins).  A
 * register that knew it already changes only where it differs. */
static void registered(c4j__conn_t *c) {
  c4j_engine_t *e = c4j__conn_engine(c);
  int rc = c4j__members_connect(&e->members, c->cid->id, user_of(c));
  if (rc == 1) e->hooks.identity_cb(e, c->cid->id, user_of(c), 1);
  for (c4j__sub_t *s = c->subs; rc >= 0 && s != NULL; s = s->conn_next)
    c4j__identity_joined(c, s->chan->name, s->chan->len);
}

/* c's identity ends: out of the register, its leaves reported before its
 * DROP (listeners see the counts without it). */
static void unregistered(c4j__conn_t *c) {
  c4j_engine_t *e = c4j__conn_engine(c);
  char user[C4J_MAX_USER + 1];
  c4j__names_t *chans;
  if (!c4j__members_drop(&e->members, c->cid->id, &chans, user)) return;
  for (size_t at = 0; chans != NULL && at < chans->len;) {
    size_t k = strlen(chans->names + at);
    c4j__events_sub(&e->events, c->cid->id, chans->names + at, k, 0, 0);
    e->hooks.member_cb(e, c->cid->id, user, chans->names + at, k, 0);
    at += k + 1;
  }
  c4j__free(chans);
  e->hooks.identity_cb(e, c->cid->id, user, 0);
}

/* ---- Ghosts --------------------------------------------------------------- */

void c4j__identity_ghost_free(c4j__conn_t *g) {
  c4j__worker_t *w = c4j__conn_worker(g);
  c4j__conn_list_remove(&w->ghosts, g);
  c4j__conn_drop_out(g);
  c4j__free(g->outq);
  c4j__handover_free(g->ho);
  c4j__free(g);
}

/* One more (d 1) or one fewer (-1) attached connection of transport, in
 * `conns` and by transport. */
static void counted(c4j_engine_t *e, int transport, int d) {
  atomic_fetch_add(&e->conns, (unsigned long long)(long long)d);
#ifndef C4J_NO_METRICS
  if (transport >= 0 && transport < C4J_STATS_NTRANSPORTS)
    atomic_fetch_add_explicit(&e->by_transport[transport],
                              (unsigned long long)(long long)d,
                              memory_order_relaxed);
#endif
}

void c4j__identity_detach(c4j__conn_t *c, int code, const char *reason,
                          int silent) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_engine_t *e = w->engine;
  c4j__chan_unsubscribe_all(&w->chans, &c->subs);
  c4j__chan_unsubscribe_all(&w->users, &c->user);
  /* Released before DROP is reported, so that whoever hears of it finds
   * the id no longer held (an expired ticket is then refused). */
  c4j__held_release(&e->held, c->cid->id, w->index);
  /* A silent detach hands the identity to another worker, which counts
   * it from now on. */
  if (!silent) {
    /* Counted out first, so that whoever hears of the DROP finds the
     * figures without it. */
    if (c->state != C4J__CONN_DYING) counted(e, c->transport, -1);
    C4J__COUNT(e->closed[c4j__metrics_close_slot(code)]);
    /* Replaced (4004): only this transport ends; the identity lives on in
     * the connection that took its id (on any worker), and stays where it
     * is in the register. */
    if (code != C4J_CLOSE_REPLACED) unregistered(c);
    c4j__events_drop(&e->events, c->cid->id, code, reason);
  }
  c4j__cid_map_remove(&w->cids, c->cid);
  c->cid = NULL;
}

/* Where c's client stands: the offset of the last broadcast of each
 * channel handed to it, that is queued to c and no longer in its queue nor
 * in a write in flight. */
static c4j__pos_t *positions(c4j__conn_t *c) {
  c4j__pos_t *p = c4j__resume_positions(c->subs);
  for (unsigned i = 0; p != NULL && i < c->out_len; i++)
    c4j__resume_unsent(p, *c4j__conn_slot(c, i));
  for (uint32_t i = 0; p != NULL && c->wreq != NULL && i < c->wreq->n; i++)
    c4j__resume_unsent(p, c->wreq->bufs[i]);
  return p;
}

/* Moves c's identity into a new ghost in state, leaving its positions in
 * the held register for whichever connection takes it next.  A DYING
 * ghost reports DYING and drops the subscriptions, since the next
 * connection replays the history from the positions.  A PARKED one keeps
 * them and queues for the next poll what no history brings back: every
 * broadcast without history, and with one what has no offset (this
 * node's own broadcasts while the hub's link is down, lost notices). */
c4j__conn_t *c4j__identity_to_ghost(c4j__conn_t *c, int state, int code,
                                    const char *reason) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_engine_t *e = w->engine;
  c4j__conn_t *g = c4j__calloc(1, sizeof(*g));
  c4j__pos_t *pos;
  c4j__names_t *chans;
  if (g == NULL) return NULL;
  pos = positions(c);
  /* The channel set goes with the identity: a ghost without
   * subscriptions, or the next connection on another worker, finds it in
   * the held register. */
  chans = c4j__names_of(c->subs);
  g->tcp.loop = &w->loop;
  g->state = (uint8_t)state;
  g->transport = c->transport;
  g->seq = c->seq;
  g->stamp = c4j__worker_now(w);
  g->cid = c->cid;
  g->cid->conn = g;
  c->cid = NULL;
  g->user = c->user;
  c->user = NULL;
  if (g->user != NULL) g->user->conn = g;
  g->ho = c->ho; /* a hand-over still in progress goes on with the identity */
  c->ho = NULL;
  if (state == C4J__CONN_PARKED) {
    g->subs = c->subs;
    for (c4j__sub_t *s = g->subs; s; s = s->conn_next) s->conn = g;
  } else {
    c4j__chan_unsubscribe_all(&w->chans, &c->subs);
  }
  if (state == C4J__CONN_DYING) { /* counted out before it is told */
    counted(e, c->transport, -1);
    c4j__events_dying(&e->events, g->cid->id, code, reason);
  }
  c->subs = NULL;
  c4j__held_set(&e->held, g->cid->id, w->index,
                state == C4J__CONN_PARKED ? C4J__HELD_PARKED
                                          : C4J__HELD_DYING, pos, chans);
  c4j__conn_list_add(&w->ghosts, g);
  return g;
}

void c4j__identity_end(c4j__conn_t *c, int code, const char *reason) {
  if (c->cid == NULL) return;
  if ((code == 1006 || code == C4J_CLOSE_IDLE_TIMEOUT) &&
      c4j__conn_engine(c)->cfg.conn_expires_ms > 0 &&
      c4j__identity_to_ghost(c, C4J__CONN_DYING, code, reason) != NULL)
    return;
  c4j__identity_detach(c, code, reason, 0);
}

/* Turns a parked ghost dying (its poll client did not come back). */
static void parked_to_dying(c4j__conn_t *g) {
  c4j__worker_t *w = c4j__conn_worker(g);
  c4j_engine_t *e = w->engine;
  c4j__chan_unsubscribe_all(&w->chans, &g->subs);
  /* Broadcasts come back through resume; only sendTo frames are kept. */
  for (unsigned i = 0, n = g->out_len; i < n; i++) {
    c4j__buf_t *b = c4j__conn_pop_out(g);
    g->queued -= b->len;
    if (b->offset != 0 || c4j__conn_push_out(g, b) < 0) c4j__buf_unref(b);
  }
  g->state = C4J__CONN_DYING;
  g->stamp = c4j__worker_now(w);
  counted(e, g->transport, -1);
  c4j__events_dying(&e->events, g->cid->id, 1006, "poll not renewed");
  c4j__held_set(&e->held, g->cid->id, w->index, C4J__HELD_DYING, NULL,
                NULL);
}

void c4j__identity_ghost_tick(c4j__conn_t *g, uint32_t now) {
  const c4j_config_t *cfg = &c4j__conn_engine(g)->cfg;
  uint32_t age = c4j__conn_age(now, g->stamp);
  if (g->state == C4J__CONN_PARKED) {
    if (age < c4j__poll_hold(c4j__conn_worker(g)) +
                  (uint32_t)cfg->heartbeat_ms)
      return;
    if (cfg->conn_expires_ms > 0) {
      parked_to_dying(g);
      return;
    }
    c4j__identity_detach(g, 1006, "poll not renewed", 0);
    c4j__identity_ghost_free(g);
  } else if (age >= (uint32_t)cfg->conn_expires_ms) {
    c4j__identity_detach(g, C4J_CLOSE_EXPIRED, "expired", 0);
    c4j__identity_ghost_free(g);
  }
}

/* ---- Attaching ------------------------------------------------------------ */

/* The client's address: the socket's peer, or X-Forwarded-For when the
 * peer is a proxy on this machine. */
static void peer_name(c4j__conn_t *c, const char *forwarded, char *ip,
                      size_t cap, int *port) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int loopback = 0;
  ip[0] = '\0';
  *port = 0;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      uv_ip4_name(a, ip, cap);
      *port = ntohs(a->sin_port);
      loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      uv_ip6_name(a, ip, cap);
      *port = ntohs(a->sin6_port);
      loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
  }
  if (loopback && forwarded[0] != '\0') snprintf(ip, cap, "%s", forwarded);
}

/* Tells the holder of cid on another worker that this worker attached it
 * with seq: the holder hands its frames over, or closes (4004). */
static int take_from(c4j__worker_t *w, int holder, const char *cid,
                     uint32_t seq) {
  c4j_engine_t *e = w->engine;
  c4j__msg_t *m;
  if (!c4j__engine_enter(e)) return -1;
  m = c4j__msg_new(C4J__MSG_TAKE, cid, strlen(cid), NULL);
  if (m != NULL) {
    m->seq = seq;
    m->code = w->index;
    c4j__worker_push(e->workers[holder], &m->node);
  }
  c4j__engine_leave(e);
  return m != NULL ? 0 : -1;
}

/* Sends each subscription what its start replays, then the `recovered`
 * frame it is owed (with `lost` when the count is known): a quiet poll
 * (one that continues a parked one) hears only of losses. */
static void replay(c4j__conn_t *c, c4j__start_t *st, int quiet) {
  size_t i = 0;
  for (c4j__sub_t *s = c->subs; s; s = s->conn_next, i++) {
    /* Sending may close c (a slow consumer), which frees its subs: stop
     * there; the references go with st. */
    for (size_t k = 0; k < st[i].n && c->state == C4J__CONN_OPEN; k++)
      c4j__conn_send_sub(c, s, st[i].missed[k]);
    if (c->state != C4J__CONN_OPEN) break;
    if (st[i].say == C4J__SAY_NOTHING ||
        (quiet && st[i].say == C4J__SAY_RECOVERED))
      continue;
    c4j__conn_send_new(
        c, st[i].lost > 0
               ? c4j__frame_lost(s->chan->name, s->chan->len, st[i].lost)
               : c4j__frame_recovered(s->chan->name,
                                      st[i].say == C4J__SAY_RECOVERED));
    if (c->state != C4J__CONN_OPEN) break;
  }
}

/* Moves what ghost g queued to c (which has taken g's identity) and frees
 * g.  The ghost kept it within max_queue: it comes back whole, even on top
 * of the new transport's answer head and open frame. */
static void absorb(c4j__conn_t *c, c4j__conn_t *g) {
  while (g->out_len > 0) {
    c4j__buf_t *b = c4j__conn_pop_out(g);
    g->queued -= b->len;
    c4j__conn_send_kept(c, b);
    c4j__buf_unref(b);
  }
  if (c->ho == NULL) { /* still waiting for a former worker's frames */
    c->ho = g->ho;
    g->ho = NULL;
  }
  c4j__identity_ghost_free(g);
}

/* What an attach holds between its steps. */
typedef struct {
  c4j__conn_t *ghost;      /* the identity's ghost on this worker, or NULL */
  c4j__holder_t prev;      /* who held the id before the claim */
  c4j__pos_t *carried;     /* the positions it left (owned until commit) */
  c4j__names_t *chans;     /* its channel set, NULL: the ticket's */
  c4j__start_t *starts;    /* one per subscription */
  size_t nsubs;
  c4j__buf_t *open;        /* the open frame, NULL for a quiet poll */
  char *acao;              /* a long-poll's Allow-Origin, kept */
} attach_t;

/* Takes the identity: the ghost's (and the subscriptions a parked ghost
 * without history kept), or a new one in the cid map and the user index.
 * Returns 0, or -1 when out of memory (undone by give_back). */
static int take_identity(c4j__conn_t *c, attach_t *a, const c4j_ticket_t *t) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j__conn_t *g = a->ghost;
  if (g != NULL) {
    c->cid = g->cid;
    c->cid->conn = c;
    g->cid = NULL;
    /* With a history the held register has the channel set (run-time
     * changes while parked included): subscribe_set starts from it. */
    if (w->engine->hist.size > 0)
      c4j__chan_unsubscribe_all(&w->chans, &g->subs);
    c->subs = g->subs;
    g->subs = NULL;
    for (c4j__sub_t *s = c->subs; s; s = s->conn_next) s->conn = c;
    c->user = g->user;
    g->user = NULL;
    if (c->user != NULL) c->user->conn = c;
    return 0;
  }
  c->cid = c4j__cid_map_add(&w->cids, t->cid, strlen(t->cid), c);
  if (c->cid == NULL) return -1;
  if (t->user[0] != '\0' &&
      c4j__chan_subscribe(&w->users, t->user, strlen(t->user), c,
                          &c->user) != 0)
    return -1;
  return 0;
}

static void give_back(c4j__conn_t *c, attach_t *a) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j__conn_t *g = a->ghost;
  if (g != NULL) {
    g->cid = c->cid;
    g->cid->conn = g;
    g->user = c->user;
    if (g->user != NULL) g->user->conn = g;
  } else {
    c4j__chan_unsubscribe_all(&w->users, &c->user);
    if (c->cid != NULL) c4j__cid_map_remove(&w->cids, c->cid);
  }
  c->cid = NULL;
  c->user = NULL;
}

/* Subscribes the identity's channel set: the one it kept, with what was
 * (un)subscribed at run time, or a new identity's ticket's.  Returns 0 or
 * -1 when out of memory (undone by unsubscribe_set). */
static int subscribe_set(c4j__conn_t *c, attach_t *a, const c4j_ticket_t *t) {
  c4j__worker_t *w = c4j__conn_worker(c);
  if (c->subs != NULL) return 0; /* a parked ghost's, still subscribed */
  if (a->chans != NULL) {
    for (size_t at = 0; at < a->chans->len;) {
      size_t k = strlen(a->chans->names + at);
      if (c4j__chan_subscribe(&w->chans, a->chans->names + at, k, c,
                              &c->subs) != 0)
        return -1;
      at += k + 1;
    }
    return 0;
  }
  for (int i = 0; i < t->nchannels; i++)
    if (c4j__chan_subscribe(&w->chans, t->channels[i],
                            strlen(t->channels[i]), c, &c->subs) != 0)
      return -1;
  return 0;
}

static void unsubscribe_set(c4j__conn_t *c, attach_t *a) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j__conn_t *g = a->ghost;
  if (g != NULL && g->state == C4J__CONN_PARKED && w->engine->hist.size == 0) {
    g->subs = c->subs; /* a parked ghost without history keeps them */
    for (c4j__sub_t *s = g->subs; s; s = s->conn_next) s->conn = g;
  } else {
    c4j__chan_unsubscribe_all(&w->chans, &c->subs);
  }
  c->subs = NULL;
}

/* Plans where each subscription starts (resume.h), makes the open frame
 * and queues the transport's answer head.  Returns 0 or -1 when out of
 * memory (undone by unplan). */
static int plan(c4j__conn_t *c, attach_t *a, const c4j_ticket_t *t,
                const char *accept, const char *acao, json_t *since,
                int quiet) {
  c4j_engine_t *e = c4j__conn_engine(c);
  char resp[1024];
  long n = 0;
  for (c4j__sub_t *s = c->subs; s; s = s->conn_next) a->nsubs++;
  if (a->nsubs > 0 &&
      (a->starts = c4j__calloc(a->nsubs, sizeof(*a->starts))) == NULL)
    return -1;
  if (c4j__resume_plan(&e->hist, c->subs, since, a->carried, a->starts) != 0)
    return -1;
  if (!quiet && (a->open = c4j__frame_open(t, c->subs, a->starts)) == NULL)
    return -1;
  if (c->transport == C4J__T_WS)
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "%sSec-WebSocket-Accept: %s\r\n\r\n",
                 c4j__deflate_header(c->deflate), accept);
  else if (c->transport == C4J__T_SSE)
    /* Connection: close: a stream without a length ends with the
     * connection, and a socket taken over from another server must get no
     * second request (docs/protocol.md section 10). */
    n = c4j__http_head(resp, sizeof(resp), 200, "text/event-stream", -1, 0,
                       acao);
  if (n < 0 || (n > 0 && c4j__conn_queue_bytes(c, resp, (size_t)n) < 0))
    return -1;
  c->head = n > 0;
  /* acao points into the request, which goes at commit. */
  if (c->transport == C4J__T_POLL &&
      (a->acao = c4j__strndup(acao, strlen(acao))) == NULL)
    return -1;
  return 0;
}

/* An attach that resumed some channel is counted once: recovered when
 * no channel lost broadcasts no longer kept. */
static void count_resume(c4j_engine_t *e, const c4j__start_t *st, size_t n) {
  int asked = 0, lost = 0;
  for (size_t i = 0; i < n; i++) {
    if (st[i].say != C4J__SAY_NOTHING) asked = 1;
    if (st[i].say == C4J__SAY_LOST) lost = 1;
  }
  if (asked) C4J__COUNT(e->resumes[!lost]);
}

static void unplan(c4j__conn_t *c, attach_t *a) {
  c4j__buf_unref(a->open);
  c4j__resume_free(a->starts, a->nsubs);
  c4j__free(a->starts);
  c4j__free(a->acao);
  c4j__conn_drop_out(c);
  c->head = 0;
}

void c4j__identity_attach(c4j__conn_t *c, int transport, const char *accept,
                          const char *acao, json_t *since) {
  c4j__worker_t *w = c4j__conn_worker(c);
  c4j_engine_t *e = w->engine;
  c4j_ticket_t *t = &w->ticket;
  c4j__cid_t *local;
  attach_t a;
  char ip[64];
  int port, quiet, handing;

  memset(&a, 0, sizeof(a));
  peer_name(c, c->u.http->forwarded_for, ip, sizeof(ip), &port);
  local = c4j__cid_map_find(&w->cids, t->cid, strlen(t->cid));
  if (local != NULL) {
    if (c4j__conn_is_ghost(local->conn)) a.ghost = local->conn;
    else c4j__conn_close(local->conn, C4J_CLOSE_REPLACED, "replaced", 0);
  }
  c->transport = (uint8_t)transport;
  c->seq = atomic_fetch_add(&e->next_seq, 1) + 1;

  /* 1. The claim in the held register (nothing to undo when it fails). */
  a.prev = c4j__held_claim(&e->held, t->cid, w->index, C4J__HELD_ALIVE,
                           &a.carried, &a.chans);
  if (a.prev.worker == -2) goto fail_claim;
  handing = a.prev.worker >= 0 && a.prev.worker != w->index &&
            take_from(w, a.prev.worker, t->cid, c->seq) == 0;
  quiet = a.prev.state == C4J__HELD_PARKED && transport == C4J__T_POLL;
  /* 2. The identity, 3. its channels, 4. the plan and the answer head. */
  if (take_identity(c, &a, t) != 0) goto fail_identity;
  if (subscribe_set(c, &a, t) != 0) goto fail_channels;
  if (plan(c, &a, t, accept, acao, since, quiet) != 0) goto fail_plan;

  /* Commit: nothing fails from here on. */
  c4j__free(a.carried);
  c4j__free(a.chans);
  c4j__free(c->u.http);
  c->u.acao = a.acao;
  c->flags &= (uint16_t)~C4J__F_HTTP;
  c->state = C4J__CONN_OPEN;
  c->stamp = c->born = c4j__worker_now(w);
  /* open, the replay, then what the ghost kept (sendTo frames; with no
   * history, the broadcasts a parked one queued). */
  if (a.open != NULL) c4j__conn_send_new(c, a.open);
  count_resume(e, a.starts, a.nsubs);
  if (c->state == C4J__CONN_OPEN) replay(c, a.starts, quiet);
  c4j__resume_free(a.starts, a.nsubs);
  c4j__free(a.starts);
  if (a.ghost != NULL) absorb(c, a.ghost);
  /* Taken from another worker: what it kept comes before anything sent
   * from now on (c4j__handover_t); its last C4J__MSG_KEPT ends the wait. */
  if (handing) {
    c4j__cid_t *id = c4j__cid_map_find(&w->cids, t->cid, strlen(t->cid));
    c4j__conn_t *holder = id ? id->conn : NULL;
    if (holder != NULL && holder->ho == NULL &&
        (holder->ho = c4j__calloc(1, sizeof(c4j__handover_t))) == NULL)
      c4j__events_log(&e->events, 1, "out of memory: a hand-over between "
                      "workers goes without its order");
  }
  if (c->state != C4J__CONN_OPEN) return;
  if (a.prev.state == C4J__HELD_DYING) {
    counted(e, transport, 1);
    c4j__events_revival(&e->events, t->cid, t->user, ip,
                        transport_name(transport), port);
  } else if (a.prev.state != C4J__HELD_PARKED) {
    counted(e, transport, 1);
    c4j__events_connect(&e->events, t->cid, t->user, ip,
                        transport_name(transport), port);
  }
  /* A poll continuing a parked one is the same identity, unchanged. */
  if (a.prev.state != C4J__HELD_PARKED) registered(c);
  return;

  /* Out of memory: undo the steps that were done, last first. */
fail_plan:
  unplan(c, &a);
fail_channels:
  unsubscribe_set(c, &a);
fail_identity:
  give_back(c, &a);
  if (a.ghost != NULL) /* the ghost keeps its place and its positions */
    c4j__held_set(&e->held, t->cid, w->index,
                  a.ghost->state == C4J__CONN_PARKED ? C4J__HELD_PARKED
                                                     : C4J__HELD_DYING,
                  a.carried, NULL);
  else {
    c4j__held_release(&e->held, t->cid, w->index);
    c4j__free(a.carried);
  }
fail_claim:
  c4j__free(a.chans);
  c4j__request_refuse(c, 503, "out of memory");
}

/* ---- Hand-over between workers -------------------------------------------- */

/* Hands b (a reference taken over; NULL: the end of the hand-over) to
 * worker `to` for cid. */
static void hand(c4j_engine_t *e, int to, const char *cid, size_t len,
                 c4j__buf_t *b) {
  c4j__msg_t *m = c4j__msg_new(C4J__MSG_KEPT, cid, len, NULL);
  if (m == NULL) {
    c4j__buf_unref(b);
    if (b == NULL) /* the new worker's frames wait until this id goes */
      c4j__events_log(&e->events, 1, "out of memory: a hand-over between "
                      "workers is not ended; its frames wait");
    return;
  }
  m->buf = b;
  c4j__worker_push(e->workers[to], &m->node);
}

void c4j__identity_take(c4j__worker_t *w, const char *cid, size_t len,
                        int to, uint32_t seq) {
  c4j_engine_t *e = w->engine;
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  c4j__conn_t *c = id ? id->conn : NULL;
  if (!c4j__engine_enter(e)) return;
  if (c != NULL && !c4j__conn_is_ghost(c)) {
    if ((int32_t)(c->seq - seq) < 0)
      c4j__conn_close(c, C4J_CLOSE_REPLACED, "replaced", 0);
    c = NULL;
  }
  /* The kept frames go to the new worker, in their order: sendTo frames
   * and, with no history, the broadcasts a parked ghost queued (broadcasts
   * with a history come back through the positions the ghost left); then
   * what waited here for a hand-over of its own; then the end, which the
   * new worker waits for whatever happened here. */
  if (c != NULL) {
    while (c->out_len > 0) {
      c4j__buf_t *b = c4j__conn_pop_out(c);
      c->queued -= b->len;
      if (b->chan != NULL) c4j__buf_unref(b);
      else hand(e, to, cid, len, b);
    }
    for (uint32_t i = 0; c->ho != NULL && i < c->ho->nheld; i++)
      if (c->ho->held[i]->chan == NULL)
        hand(e, to, cid, len, c4j__buf_ref(c->ho->held[i], 1));
  }
  hand(e, to, cid, len, NULL);
  c4j__engine_leave(e);
  if (c != NULL) {
    c4j__identity_detach(c, 0, NULL, 1);
    c4j__identity_ghost_free(c);
  }
}

void c4j__identity_touch(c4j__worker_t *w, const char *cid, size_t len) {
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  c4j__conn_t *c = id ? id->conn : NULL;
  if (c != NULL && c->state == C4J__CONN_OPEN && c->transport == C4J__T_SSE)
    c->stamp = c4j__worker_now(w);
}

void c4j__identity_kept(c4j__worker_t *w, const char *cid, size_t len,
                        c4j__buf_t *b) {
  c4j__cid_t *id = c4j__cid_map_find(&w->cids, cid, len);
  c4j__conn_t *c = id ? id->conn : NULL;
  if (c == NULL) return;
  if (b == NULL) c4j__conn_handover_end(c);
  else if (c->ho != NULL) c4j__conn_send_handed(c, b);
  else c4j__conn_send(c, b);
}
