/* registry.h - what comet4j-node knows of its connections from events:
 * each held connection id (CONNECT/REVIVAL until DROP) and its user, and
 * per user the number of held connections.  Main thread only. */
#ifndef NODE_REGISTRY_H
#define NODE_REGISTRY_H

#include <stddef.h>

void reg_add(const char *cid, size_t cid_len, const char *user, size_t user_len);
void reg_remove(const char *cid, size_t cid_len);
int reg_has(const char *cid, size_t cid_len);
size_t reg_conns(void);           /* held connections */
size_t reg_users(void);           /* distinct users with at least one */
size_t reg_user_conns(const char *user, size_t len);
void reg_free(void);

#endif
