/* hub.c - the hub's meaning (see hub.h): which sends stay in this process
 * and which go to the other nodes, and what a record from another node
 * does here.  The link itself is redis.c's.
 */
#include <string.h>

#include "common.h"
#include "engine.h"
#include "hub.h"

int c4j__hub_remote(const c4j_engine_t *e) { return e->redis != NULL; }

int c4j__hub_start(c4j_engine_t *e) { return 0; }

void c4j__hub_stop(c4j_engine_t *e) {}

void c4j__hub_on_record(c4j_engine_t *e, const char *rec, size_t len) {}

void c4j__hub_on_history(c4j_engine_t *e, const char *ch, size_t ch_len,
                         const c4j__hub_entry_t *v, size_t n) {}

int c4j__hub_on_action(c4j_engine_t *e, const char *json, size_t len) {
  return c4j__events_action(&e->events, json, len);
}

void c4j__hub_on_link(c4j_engine_t *e, int up) {}
