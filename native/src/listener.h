/* listener.h - the native port's listening socket: bound on the caller's
 * thread at start, accepted on worker 0's loop, sockets handed round-robin
 * to the workers.
 */
#ifndef C4J_LISTENER_H
#define C4J_LISTENER_H

#include "engine.h"
#include "worker.h"

/* At start, before any socket: the engine's capacity conn_cap, max_conns
 * or, when the file limit leaves fewer descriptors, those (less a reserve
 * for the rest of the process; logged). */
void c4j__listener_capacity(c4j_engine_t *e);
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
/* On w's thread: a socket the listener admitted for w (C4J__MSG_FD: key
 * in seq, evict in code, tls in tls): adopted, in the place of w's oldest
 * unfinished request when evict, or refused 503 (a TLS one only closed)
 * when w has none left. */
void c4j__listener_place(c4j__worker_t *w, int fd, const c4j__buf_t *first,
                         uint32_t key, int evict, int tls);
/* Counts out an admitted socket that no worker adopts (closed at stop). */
void c4j__listener_unplace(c4j_engine_t *e, uint32_t key, int evict);
/* On worker 0's thread, from the tick: logs what the admission and the
 * deadlines refused, at most once a minute and only once something
 * beyond the plain timeout was refused. */
void c4j__listener_report(c4j__worker_t *w);

/* ---- Sockets handed over by another server of the process ---------------
 * Adopts connected socket fd (owned from now on, closed on failure too)
 * whose client sent bytes (len, copied) that another server already read:
 * admitted as accepted ones are (429 for its address, 503 when full and
 * nothing makes room), then handed to a worker.  sink: -1, or the other end of the dummy now under that
 * server's old fd number, read and discarded until EOF on the same
 * worker.  Returns 0, C4J_ESTOPPED / C4J_ESTATE (fd closed), C4J_ENOMEM
 * (fd closed). */
int c4j__listener_adopt(c4j_engine_t *e, int fd, int sink, const char *bytes,
                        size_t len);
/* On w's thread: starts discarding what arrives on sink until EOF. */
void c4j__listener_sink(c4j__worker_t *w, int sink);
/* On w's thread, at stop: closes a sink handle. */
void c4j__listener_sink_close(uv_handle_t *h);

#endif /* C4J_LISTENER_H */
