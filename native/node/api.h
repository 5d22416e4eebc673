/* api.h - comet4j-node's answers to the HTTP API (docs/protocol.md section
 * 8), the same JSON as the Java library's ApiHandler; with a Redis hub,
 * online and presence are the cluster's (section 9). */
#ifndef NODE_API_H
#define NODE_API_H

#include <stddef.h>
#include <stdint.h>
#include "c4j.h"

typedef struct { const char *p; size_t n; } str_t;

/* Called once before any request: with a Redis hub (remote 1), online,
 * presence and the cId check of /api/send read the cluster-wide maps. */
void api_set_hub(int remote);

/* Answers one C4J_EV_API request with c4j_api_reply; returns the status. */
int api_handle(c4j_engine_t *e, uint32_t id, str_t method, str_t path,
               str_t query, str_t body);
void api_free(void);

#endif
