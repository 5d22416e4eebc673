/* redisact.c - the action queue (<p>:actions, hub.h): this node's pushes
 * (c4j__redis_action, written through the outbox), and, on a node that
 * listens, popping on the action connection with BLMOVE into this node's
 * taken list <p>:taken:<node id>, each request handed to action_cb, put
 * back at the head of the queue and popping paused a little when the
 * layer above is full, and left in the taken list until the embedder is
 * done with it (c4j__redis_action_done, an LREM through the outbox).
 * Every tick any node puts the taken requests of the nodes that are gone
 * back on the queue.
 */
#include <stdio.h>

#include "common.h"
#include "redis.h"
#include "redisint.h"

#define ACT_WAIT_MS 100 /* pause after the event queue was full */

/* ---- Popping ------------------------------------------------------------- */

static void pop(c4j__redis_t *r);

static void act_wait_cb(uv_timer_t *t) {
  c4j__redis_t *r = t->data;
  if (linked(r) && r->act.connected) pop(r);
}

/* A request moves from the queue to this node's taken list as it is
 * popped, and leaves it when the embedder says it is done
 * (c4j_hub_action_done): if this node dies meanwhile, another one puts it
 * back (c4j__ract_requeue_dead). */
static void pop_cb(redisAsyncContext *ac, void *reply, void *priv) {
  c4j__redis_t *r = ((conn_t *)ac->data)->r;
  redisReply *rep = reply;
  const char *argv[5] = { "LMOVE", r->k_taken, r->k_actions, "LEFT", "RIGHT" };
  if (rep == NULL || r->stopping) return;
  if (rep->type == REDIS_REPLY_STRING) {
    if (r->cb.action_cb(r->cb.data, rep->str, rep->len) != C4J_EFULL) {
      pop(r);
      return;
    }
    c4j__rlink_send_strs(&r->act, NULL, NULL, 5, argv); /* back at the head */
  } else if (rep->type != REDIS_REPLY_ERROR) {
    pop(r); /* nothing within the second */
    return;
  }
  uv_timer_start(&r->act_wait, act_wait_cb, ACT_WAIT_MS, 0);
}

static void pop(c4j__redis_t *r) {
  const char *argv[6] = { "BLMOVE", r->k_actions, r->k_taken, "RIGHT", "LEFT",
                          "1" };
  c4j__rlink_send_strs(&r->act, pop_cb, NULL, 6, argv);
}

/* The link came up: this node joins the takers (after the heartbeat, so
 * that no node finds it gone) and pops. */
void c4j__ract_start(c4j__redis_t *r) {
  const char *argv[3] = { "SADD", r->k_takers, r->node_id };
  c4j__rlink_send_strs(&r->cmd, NULL, NULL, 3, argv);
  pop(r);
}

/* ---- The requests of nodes that are gone --------------------------------- */

/* Every tick: the requests taken by nodes that are gone (no heartbeat for
 * ALIVE_MS, or left) go back to the head of the queue, oldest first.  A
 * node that was only cut off may still finish them: at least once. */
static const char requeue_lua[] =
    "local n = 0\n"
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local hb = tonumber(redis.call('HGET', KEYS[2], id))\n"
    "  if hb == nil or tonumber(ARGV[1]) - hb > tonumber(ARGV[2]) then\n"
    "    local k = ARGV[3] .. id\n"
    "    while redis.call('LMOVE', k, KEYS[3], 'RIGHT', 'RIGHT') do\n"
    "      n = n + 1\n"
    "    end\n"
    "    redis.call('SREM', KEYS[1], id)\n"
    "  end\n"
    "end\n"
    "return n\n";

void c4j__ract_requeue_dead(c4j__redis_t *r) {
  char now[24], alive[24], base[100];
  const char *argv[9] = { "EVAL", requeue_lua, "3", r->k_takers, r->k_nodes,
                          r->k_actions, now, alive, base };
  snprintf(now, sizeof(now), "%lld", (long long)c4j__wall_ms());
  snprintf(alive, sizeof(alive), "%d", ALIVE_MS);
  snprintf(base, sizeof(base), "%s:taken:", r->prefix);
  c4j__rlink_send_strs(&r->cmd, NULL, NULL, 9, argv);
}

/* ---- API ----------------------------------------------------------------- */

int c4j__redis_action(c4j__redis_t *r, const char *json, size_t len) {
  return c4j__rlink_submit(
      r, c4j__rlink_req(R_ACTION, json, len, NULL, 0, NULL, 0), 1);
}

int c4j__redis_action_done(c4j__redis_t *r, const char *json, size_t len) {
  return c4j__rlink_submit(
      r, c4j__rlink_req(R_DONE, json, len, NULL, 0, NULL, 0), 1);
}

