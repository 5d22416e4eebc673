/* listener.h - the native port's listening socket: bound on the caller's
 * thread at start, accepted on worker 0's loop, sockets handed round-robin
 * to the workers.
 */
#ifndef C4J_LISTENER_H
#define C4J_LISTENER_H

#include "engine.h"
#include "worker.h"

/* Creates, binds and listens (SO_REUSEADDR, non-blocking) on cfg host and
 * port; sets e->listen_fd and e->port.  Returns 0 or a negative code
 * (UV_EADDRINUSE, UV_EACCES, UV_EAI_NONAME, ...) with nothing left open. */
int c4j__listener_open(c4j_engine_t *e);
/* Starts polling the listening socket on w's loop (worker 0). */
int c4j__listener_start(c4j__worker_t *w);
/* On w's thread: stops polling (the socket stays open until close). */
void c4j__listener_stop(c4j__worker_t *w);
/* On w's thread, from the tick: polls again after an accept pause. */
void c4j__listener_resume(c4j__worker_t *w);
/* Closes the socket (after the workers have ended). */
void c4j__listener_close(c4j_engine_t *e);

#endif /* C4J_LISTENER_H */
