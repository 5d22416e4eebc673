/* presence.h - who is here (presence.c): the hooks the engine hands the
 * connection layer.  The public questions are in c4j.h ("Who is here"). */
#ifndef C4J_PRESENCE_H
#define C4J_PRESENCE_H

#include "engine.h"

/* Presence frames and this node's entries in the cluster's maps, for
 * every membership the workers decide. */
extern const c4j__hooks_t c4j__presence_hooks;

#endif /* C4J_PRESENCE_H */
