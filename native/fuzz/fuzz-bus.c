/* fuzz-bus.c - libFuzzer target: the Redis bus records (hub.h) into the
 * decoder that hears them, hub.c's on_record, and on through the real
 * engine: broadcasts in offset order with their gaps, fetches and
 * history answers, sends to an id or a user, frames, (un)subscriptions,
 * drops.  The link is fake-redis.c's (no Redis): the fuzzer plays the
 * Redis thread, calling the callbacks hub.c handed down.
 *
 * Two engines run for the whole process, each with a "redis://" hub, 2
 * workers and two pages attached over WebSocket (k0: user alice, channels
 * a and b; k1: user bob, channels b and c), and a dying identity g0
 * (channels a and c): engine 0 keeps a history of 8 per channel, engine 1
 * none.
 *
 * An input is a script.  Its first byte picks the engine (bit 0) and
 * when the fake answers (bit 1: fetches after every step, else at the
 * end; bit 2: echoes of this node's own records after every step).  The
 * rest is split at 0x1e bytes into steps:
 *   H\t<offset>\t<time>\t<u or ->\n<data>   a history entry, queued for
 *                                           the next fetch answers
 *   F                                       answer the fetches now
 *   E                                       echo this node's records now
 *   L0, L1                                  the link goes down, up
 *   P<channel>\t<json>                      c4j_send_all (through the hub)
 *   Q<channel>\t<bytes>                     c4j_send_all_binary
 *   anything else                           a record from the bus, "$N"
 *                                           replaced by this node's id
 * At the end the link comes back up, the echoes and fetches are played
 * out, and each page gets a barrier frame (keeper_barrier): what the
 * workers sent it before is read, and checked as a server's frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "c4j.h"
#include "fake-redis.h"
#include "harness.h"

#define NENGINES 2
#define PROBE_EVERY 4096
#define GHOST_EVERY 1024

typedef struct {
  c4j_engine_t *e;
  c4j__redis_t *r;
  keeper_t k[2];
  keeper_t ghost;
} node_t;

static node_t nodes[NENGINES];
static unsigned long runs;

static void ghost_refresh(node_t *n) {
  keeper_attach(&n->ghost);
  keeper_close(&n->ghost); /* lost: dying for conn_expires_ms */
}

static void init(void) {
  for (int i = 0; i < NENGINES; i++) {
    node_t *n = &nodes[i];
    c4j_config_t cfg;
    harness_config(&cfg);
    cfg.hub = "redis://fake";
    cfg.history_size = i == 0 ? 8 : 0;
    cfg.conn_expires_ms = 86400000;
    n->e = harness_start(&cfg);
    n->r = fake_redis_of(n->e);
    keeper_init(&n->k[0], n->e, "k0", "alice", "[\"a\",\"b\"]");
    keeper_init(&n->k[1], n->e, "k1", "bob", "[\"b\",\"c\"]");
    keeper_init(&n->ghost, n->e, "g0", NULL, "[\"a\",\"c\"]");
    keeper_attach(&n->k[0]);
    keeper_attach(&n->k[1]);
    ghost_refresh(n);
  }
}

/* rec with every "$N" replaced by the node's id, into out (cut at cap). */
static size_t with_node(const char *rec, size_t len, const char *node,
                        char *out, size_t cap) {
  size_t o = 0, nl = strlen(node);
  for (size_t i = 0; i < len && o < cap; i++) {
    if (rec[i] == '$' && i + 1 < len && rec[i + 1] == 'N' && o + nl <= cap) {
      memcpy(out + o, node, nl);
      o += nl;
      i++;
    } else {
      out[o++] = rec[i];
    }
  }
  return o;
}

/* "H\t<offset>\t<time>\t<u>\n<data>" */
static void entry(node_t *n, const char *s, size_t len) {
  char head[128];
  const char *nl = memchr(s, '\n', len), *f[3] = { NULL, NULL, NULL };
  size_t hn = nl ? (size_t)(nl - s) : len, k = 0;
  uint64_t off;
  int64_t t;
  if (hn >= sizeof(head)) return;
  memcpy(head, s, hn);
  head[hn] = '\0';
  for (char *p = head + 1; *p && k < 3; p++)
    if (*p == '\t') *p = '\0', f[k++] = p + 1;
  if (k < 3) return;
  off = strtoull(f[0], NULL, 10);
  t = strtoll(f[1], NULL, 10);
  fake_redis_entry(n->r, off, t, strcmp(f[2], "-") ? f[2] : NULL,
                   strlen(f[2]), nl ? nl + 1 : "",
                   nl ? len - hn - 1 : 0);
}

static void send_all(node_t *n, const char *s, size_t len, int binary) {
  const char *tab = memchr(s, '\t', len);
  size_t cn, dn;
  if (tab == NULL) return;
  cn = (size_t)(tab - s);
  dn = len - cn - 1;
  if (binary) c4j_send_all_binary(n->e, s, cn, tab + 1, dn, 0);
  else c4j_send_all(n->e, s, cn, tab + 1, dn, 0);
}

static void step(node_t *n, const char *s, size_t len) {
  static char rec[1 << 16];
  if (len >= 2 && s[0] == 'H' && s[1] == '\t') entry(n, s, len);
  else if (len == 1 && s[0] == 'F') fake_redis_answer(n->r);
  else if (len == 1 && s[0] == 'E') fake_redis_echo(n->r);
  else if (len == 2 && s[0] == 'L' && (s[1] == '0' || s[1] == '1'))
    fake_redis_link(n->r, s[1] == '1');
  else if (len >= 1 && (s[0] == 'P' || s[0] == 'Q'))
    send_all(n, s + 1, len - 1, s[0] == 'Q');
  else
    fake_redis_record(n->r, rec,
                      with_node(s, len, fake_redis_node(n->r), rec,
                                sizeof(rec)));
}

/* The engine starts here, before libFuzzer arms its SIGALRM timer, so
 * that the blocking reads of the start are not interrupted. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  harness_flags(argc, argv);
  init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data + 1, *end = (const char *)data + size;
  node_t *n;
  int opts;
  if (nodes[0].e == NULL) init();
  if (size < 1) return 0;
  opts = data[0];
  n = &nodes[opts & 1];
  while (s <= end) {
    const char *sep = memchr(s, 0x1e, (size_t)(end - s));
    const char *stop = sep ? sep : end;
    step(n, s, (size_t)(stop - s));
    if (opts & 2) fake_redis_answer(n->r);
    if (opts & 4) fake_redis_echo(n->r);
    s = stop + 1;
  }
  /* Play out what the input left: the link back, echoes and fetches (an
   * answer may ask for nothing more, but bound it). */
  if (!c4j__redis_up(n->r)) fake_redis_link(n->r, 1);
  for (int i = 0; i < 4 && (fake_redis_echo(n->r) +
                            fake_redis_answer(n->r)) > 0; i++) {}
  fake_redis_answer(n->r);
  /* What the records made the workers send the pages is read and checked
   * within this input. */
  keeper_barrier(&n->k[0]);
  keeper_barrier(&n->k[1]);
  for (int i = 0; i < NENGINES; i++) {
    keeper_drain(&nodes[i].k[0]);
    keeper_drain(&nodes[i].k[1]);
    harness_events(nodes[i].e, NULL, NULL);
  }
  if (++runs % GHOST_EVERY == 0) ghost_refresh(n);
  if (runs % PROBE_EVERY == 0)
    for (int i = 0; i < NENGINES; i++) harness_probe(nodes[i].e, 2);
  return 0;
}
