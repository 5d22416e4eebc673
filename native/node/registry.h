/* registry.h - what comet4j-node knows of its connections from events:
 * each held connection id (CONNECT/REVIVAL until DROP) and its user, and
 * per user the number of held connections.  With a Redis hub it also
 * keeps this node's entries of the cluster-wide map "online" (cId -> user
 * or null, docs/protocol.md section 9).  Main thread only. */
#ifndef NODE_REGISTRY_H
#define NODE_REGISTRY_H

#include <stddef.h>

#include "c4j.h"

/* With e (a Redis hub), reg_add and reg_remove also write the hub's
 * "online" map; NULL (the default): local only. */
void reg_hub(c4j_engine_t *e);

void reg_add(const char *cid, size_t cid_len, const char *user, size_t user_len);
void reg_remove(const char *cid, size_t cid_len);
int reg_has(const char *cid, size_t cid_len);
/* The user of a held connection: 1 and *user, *len (valid until the next
 * reg_* call; *len 0 for none), or 0 when the id is not held. */
int reg_user(const char *cid, size_t cid_len, const char **user, size_t *len);
size_t reg_conns(void);           /* held connections */
size_t reg_users(void);           /* distinct users with at least one */
size_t reg_user_conns(const char *user, size_t len);
void reg_free(void);

#endif
