/* harness.h - what the fuzz targets that drive a real engine share
 * (fuzz-engine.c, fuzz-bus.c): starting one on a free loopback port,
 * tickets signed with its secret, a kept WebSocket client (a page that
 * stays attached while the inputs come, reattached whenever an input
 * closed it), draining the engine's events, and a liveness probe.
 *
 * Nothing here waits without a bound: reads wait at most the time given,
 * and a probe that gets no answer within PROBE_MS aborts, so that a hung
 * worker shows as a crash with the input that hung it, not as a fuzzer
 * that slows down.  Every failure of the harness itself aborts too.
 */
#ifndef C4J_FUZZ_HARNESS_H
#define C4J_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "c4j.h"
#include "wsclient.h"

#define HARNESS_SECRET "fuzz-0123456789abcdefghijklmnopq"
#define PROBE_MS 5000

/* What a server may send on a WebSocket, checked as its bytes come (RFC
 * 6455 5.2, 5.4, 5.5, 7.4.1): frames unmasked, without RSV bits (no
 * extension is negotiated), a defined opcode, lengths in their shortest
 * form, control frames final and at most 125 bytes, fragments in order, a
 * close frame's code one a server may send (1000-1003, 1007-1014,
 * 3000-4999: never 1005, 1006 or 1015) and nothing after the close frame.
 * A breach prints `who` and the frame and aborts.  A zeroed checker is a
 * fresh one; a frame cut by the end of the stream is not judged. */
typedef struct {
  uint8_t hdr[14];
  size_t hlen;
  uint64_t left;           /* payload bytes of the current frame to come */
  int op, in_msg, closed;
  uint8_t code[2];
  size_t code_len;
  uint64_t close_len;
} frames_check_t;

void frames_check(frames_check_t *f, const uint8_t *p, size_t n,
                  const char *who);

/* A page that stays attached over WebSocket: its id, user and channels
 * (a JSON array text) are the ticket's. */
typedef struct {
  c4j_engine_t *e;
  char cid[C4J_MAX_ID + 1];
  const char *user;        /* NULL: anonymous */
  const char *channels;
  wsc_t c;                 /* c.fd -1 while not attached */
  frames_check_t check;    /* what the server sends it */
  uint64_t last_sent;      /* wsc_now_ms() of its last frame */
  unsigned barriers;       /* keeper_barrier's frames sent */
  char tail[32];           /* the last bytes read, for the barrier */
  unsigned reattached;
} keeper_t;

/* For LLVMFuzzerInitialize: adds -detect_leaks=0 to libFuzzer's flags
 * unless they name it.  The engine's threads allocate and free across
 * inputs, so after nearly every input there were more mallocs than frees,
 * and libFuzzer's per-input check then runs the input again and a full
 * LeakSanitizer pass (until it gives up after 1000 of them): five times
 * fewer inputs.  LeakSanitizer's check at exit still runs (whatever is no
 * longer reachable then, with its stack, though without the input). */
void harness_flags(int *argc, char ***argv);

/* A started engine (port 0 on 127.0.0.1); aborts on failure. */
c4j_engine_t *harness_start(c4j_config_t *cfg);
/* The config every target starts from: 127.0.0.1, port 0, 2 workers,
 * HARNESS_SECRET, limits small enough that inputs reach them. */
void harness_config(c4j_config_t *cfg);

/* A ticket for cid (user may be NULL, channels a JSON array text) that
 * expires at exp (seconds since the epoch). */
void harness_ticket(c4j_engine_t *e, const char *cid, const char *user,
                    const char *channels, int64_t exp, char *out,
                    size_t cap);

/* Fills k for cid (not attached yet). */
void keeper_init(keeper_t *k, c4j_engine_t *e, const char *cid,
                 const char *user, const char *channels);
/* Attaches k (aborts when the engine refuses it). */
void keeper_attach(keeper_t *k);
/* Reads what k was sent without waiting, pings now and then so that the
 * idle timeout never ends it, and reattaches it when the server closed
 * it. */
void keeper_drain(keeper_t *k);
void keeper_close(keeper_t *k);
/* A barrier: queues k a frame of its own through the engine
 * (c4j_send_frame) and reads until it comes back, or until the server
 * closes k (then reattaches it), so that whatever the engine queued to k
 * before it has been read and checked.  Aborts after PROBE_MS: the worker
 * holding k is stuck. */
void keeper_barrier(keeper_t *k);
/* After whole frames were read from k->c with wsc_read_*: the checker
 * starts again where they stopped (what is left in k->c.buf). */
void keeper_sync(keeper_t *k);

/* Reads every pending event of e (without waiting); calls fn (may be
 * NULL) for each record (see c4j.h: type, the bytes after the header).
 * Returns the number of records. */
typedef void (*harness_event_cb)(void *arg, int type, const uint8_t *p,
                                 size_t n);
int harness_events(c4j_engine_t *e, harness_event_cb fn, void *arg);

/* One plain request that every worker answers at once (a 404): each of
 * the engine's workers must answer within PROBE_MS, else abort(). */
void harness_probe(c4j_engine_t *e, int nworkers);

/* poll() on p for at most ms, again after EINTR (libFuzzer's SIGALRM
 * interrupts the fuzzing thread's waits every -timeout/2 s). */
struct pollfd;
int harness_wait(struct pollfd *p, int ms);

/* A connected, blocking socket to 127.0.0.1:port (TCP_NODELAY), or abort;
 * closing it with harness_close resets it (SO_LINGER 0), so that no
 * TIME_WAIT piles up over millions of inputs. */
int harness_connect(int port);
/* The same from the loopback address from (host order, e.g. 127.0.0.2;
 * 0: the kernel picks), for clients that play other addresses. */
int harness_connect_from(int port, uint32_t from);
void harness_close(int fd);
/* Sends all n bytes (best effort: the server may have closed). */
void harness_send(int fd, const void *p, size_t n);
/* Reads and drops what comes for at most ms, or until EOF (returns 1) or
 * until `enough` bytes came (0: no such limit).  Returns 0 on timeout. */
int harness_drain(int fd, int ms, size_t enough);

#endif /* C4J_FUZZ_HARNESS_H */
