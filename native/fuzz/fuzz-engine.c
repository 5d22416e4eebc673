/* fuzz-engine.c - libFuzzer target: a real engine fed over real sockets.
 * One engine runs for the whole process (127.0.0.1, a free port, 2
 * workers, a history of 16 per channel, dying identities kept for a day,
 * an API key, two allowed origins, channel p a presence channel) with a
 * page kept attached over WebSocket (k0: user alice, channels a, b, c).
 * Each input is a script: one request on a new connection, then for /ws
 * the frames a client sends (masked); the answer is read with a short
 * bound, the connection closed, and the engine's events read as an
 * embedder would: /api/ requests are answered, and a page's commands
 * acted on ({"t":"sub"|"unsub","ch","id"} with c4j_subscribe and
 * c4j_unsubscribe, {"t":"pub","ch","data"} with c4j_send_all, a binary
 * pub with c4j_send_all_binary, {"t":"req","id"} answered with
 * c4j_send_frame).  The answer must be
 * HTTP/1.1 with a status, and after a 101 the frames what a server may
 * send (frames_check, harness.h); the kept page gets a barrier frame at
 * the end of each input, so that what the input made the workers send it
 * is read and checked within it.  FUZZ_VERBOSE=1 in the environment
 * prints each request and answer.
 *
 * Input:
 *   byte 0  the request: w /ws upgrade, s /sse, p /poll, c POST /cmd,
 *           a /api/, r raw bytes, m a crowd (any other byte: its value
 *           modulo 7)
 *   byte 1  the connection id of the ticket, its low 2 bits: 0 k0 (the
 *           kept page, which the request then replaces), 1 d1 (bob: a, b),
 *           2 d2 (anonymous: c), 3 d3 (alice: a, b, c, p); d1 to d3 are
 *           left dying by the inputs that attach them
 *   byte 2  flags, its value xor 0x40 ('@' none):
 *             1 /ws: the frames go with the request (else after the 101)
 *             2 a broadcast on channel a once the request is sent
 *             4 linger: before closing our side, wait for the server
 *               to close or to be silent for QUIET_MS (LINGER_MS at
 *               most)
 *             8 every write in pieces of 3 bytes
 *            16 `since` in the query as it is (else percent-encoded)
 *            32 /api/: GET and "Authorization: Bearer" (else POST and
 *               X-Api-Key); /cmd: a Content-Length one byte too long;
 *               /ws: every frame length in 64 bits
 *            64 the ticket expired an hour ago (accepted only while the
 *               core holds the id)
 *           128 an allowed Origin header
 *   then    parts separated by "\n~": part 0 is `since` (/ws, /sse,
 *           /poll), the body (/cmd, /api/) or the whole request (raw);
 *           /ws: each further part a frame, its first byte the kind (T
 *           text, t text not final, C continuation, c continuation not
 *           final, B binary, b binary not final, P ping, O pong, X
 *           close, R text with RSV1; any other byte is the frame's first
 *           byte as is), the rest its payload; /api/: part 1 the path
 *           after "/api/" (with its query), part 2 the answer: a 3-digit
 *           status and the JSON body; m: each part (up to CROWD_MAX)
 *           sent as is on its own connection to the second engine, all
 *           open at once, from 1 + (byte 1 & 3) addresses in turn
 *           (127.0.0.2, 127.0.0.3, ...), a part that ends a request
 *           (an empty line) answered (CROWD_ANSWER_MS at most) before
 *           the next one opens, flags 4
 *           and 8 only (4 waits CROWD_LINGER_MS before reading the
 *           answers).
 * The second engine ("crowd": CROWD_PLACES places, 2 unfinished requests
 * an address while it is half full, a 100 ms handshake deadline) is where
 * the bounds on unfinished requests (pending.c, listener.c) act: the cap
 * per address (429), the deadline shrinking as places fill (408), the
 * oldest unfinished request making room (503), full (503).  Each
 * connection's answer must be HTTP/1.1 with a status, and once all are
 * closed the engine's count of unfinished requests must be back to 0
 * within PROBE_MS.  The crowd's counters are printed at exit.
 * Everywhere "$Ea", "$Eb", "$Ec" become the epochs of channels a, b, c,
 * "$T0" to "$T3" the tickets of the four ids, "$X" an expired ticket of
 * d1, "$K" the API key.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <sys/socket.h>

#include "c4j.h"
#include "harness.h"

#define API_KEY "fuzz-api-key-0123456789"
#define ANSWER_MS 50     /* waiting for a 101 or an API event */
#define LINGER_MS 20     /* at most, while the server keeps writing */
#define QUIET_MS 3
#define DRAIN_MS 500     /* after our FIN the server closes at once */
#define PROBE_EVERY 2048
#define MAX_OUT (1 << 16)
#define CROWD_PLACES 8
#define CROWD_MAX 12
#define CROWD_ANSWER_MS 5  /* for a whole request's answer (a held poll
                             gets none) */
#define CROWD_LINGER_MS 60 /* over a full crowd's deadline (10 ms) and
                             a tick (50 ms) */

static c4j_engine_t *engine, *crowd;
static keeper_t keeper;
static unsigned long runs;
static int verbose; /* FUZZ_VERBOSE set: each request and answer on stderr */

static const char *const cids[4] = { "k0", "d1", "d2", "d3" };
static const char *const users[4] = { "alice", "bob", NULL, "alice" };
static const char *const chans[4] = { "[\"a\",\"b\",\"c\"]", "[\"a\",\"b\"]",
                                      "[\"c\"]", "[\"a\",\"b\",\"c\",\"p\"]" };
static char tickets[4][1024], expired[1024];
static char epochs[3][16];

/* ---- Start ----------------------------------------------------------------- */

static void crowd_counts(void) {
  c4j_stats_t st;
  if (crowd == NULL) return;
  c4j_engine_stats(crowd, &st);
  fprintf(stderr, "fuzz-engine: crowd: %llu accepted, %llu refused full, "
          "%llu refused by address, %llu evicted, %llu timeouts (%llu "
          "shortened)\n", (unsigned long long)st.accepted,
          (unsigned long long)st.refused_full,
          (unsigned long long)st.refused_address,
          (unsigned long long)st.evicted, (unsigned long long)st.timeouts,
          (unsigned long long)st.timeouts_short);
}

/* The epoch of the msg frame text, into out. */
static int epoch_of(const char *text, char *out) {
  const char *e = strstr(text, "\"e\":\"");
  if (e == NULL || strlen(e + 5) < 9 || e[13] != '"') return -1;
  memcpy(out, e + 5, 8);
  out[8] = '\0';
  return 0;
}

static void init(void) {
  c4j_config_t cfg;
  int64_t now = (int64_t)time(NULL);
  harness_config(&cfg);
  cfg.history_size = 16;
  cfg.conn_expires_ms = 86400000;
  cfg.api_key = API_KEY;
  cfg.allowed_origins = "http://a.example, http://b.example";
  verbose = getenv("FUZZ_VERBOSE") != NULL;
  engine = harness_start(&cfg);
  if (c4j_channel_presence(engine, "p", 1, 1) != 0) abort();
  for (int i = 0; i < 4; i++)
    harness_ticket(engine, cids[i], users[i], chans[i], now + 86400 * 365,
                   tickets[i], sizeof(tickets[i]));
  harness_ticket(engine, cids[1], users[1], chans[1], now - 3600, expired,
                 sizeof(expired));
  harness_config(&cfg);
  cfg.max_conns = CROWD_PLACES;
  cfg.max_pending_per_addr = 2;
  cfg.handshake_timeout_ms = 100;
  crowd = harness_start(&cfg);
  atexit(crowd_counts);
  keeper_init(&keeper, engine, "k0", "alice", "[\"a\",\"b\",\"c\"]");
  keeper_attach(&keeper);
  /* One broadcast each, read back by the kept page, gives the epochs. */
  for (int i = 0; i < 3; i++) {
    char ch[2] = { (char)('a' + i), 0 }, text[512], want[16];
    int found = 0;
    snprintf(want, sizeof(want), "\"ch\":\"%s\"", ch);
    if (c4j_send_all(engine, ch, 1, "{\"init\":1}", 10, 0) != 0) abort();
    for (int k = 0; k < 8 && !found; k++)
      found = wsc_read_text(&keeper.c, text, sizeof(text)) == 0 &&
              strstr(text, "\"t\":\"msg\"") && strstr(text, want) &&
              epoch_of(text, epochs[i]) == 0;
    if (!found) {
      fprintf(stderr, "fuzz-engine: no epoch for channel %s\n", ch);
      abort();
    }
  }
  keeper_sync(&keeper);
  /* Every id held from the start, so that /cmd finds each. */
  for (int i = 1; i < 4; i++) {
    static keeper_t k;
    keeper_init(&k, engine, cids[i], users[i], chans[i]);
    keeper_attach(&k);
    keeper_close(&k);
  }
}

/* ---- The script ----------------------------------------------------------------- */

/* in with the placeholders replaced, into out (cut at cap). */
static size_t expand(const char *in, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n && o < cap; i++) {
    const char *with = NULL;
    size_t skip = 0;
    if (in[i] == '$' && i + 1 < n) {
      char c = in[i + 1], d = i + 2 < n ? in[i + 2] : 0;
      if (c == 'E' && d >= 'a' && d <= 'c') with = epochs[d - 'a'], skip = 2;
      else if (c == 'T' && d >= '0' && d <= '3')
        with = tickets[d - '0'], skip = 2;
      else if (c == 'X') with = expired, skip = 1;
      else if (c == 'K') with = API_KEY, skip = 1;
    }
    if (with != NULL && o + strlen(with) <= cap) {
      memcpy(out + o, with, strlen(with));
      o += strlen(with);
      i += skip;
    } else {
      out[o++] = in[i];
    }
  }
  return o;
}

typedef struct {
  const char *p;
  size_t n;
} part_t;

static int split(const char *s, size_t n, part_t *parts, int max) {
  int k = 0;
  while (k < max) {
    const char *sep = NULL;
    for (size_t i = 0; i + 1 < n; i++)
      if (s[i] == '\n' && s[i + 1] == '~') {
        sep = s + i;
        break;
      }
    parts[k].p = s;
    parts[k].n = sep ? (size_t)(sep - s) : n;
    k++;
    if (sep == NULL) break;
    n -= (size_t)(sep + 2 - s);
    s = sep + 2;
  }
  return k;
}

/* Appends the percent-encoding of p (every byte but unreserved ones). */
static size_t encode(char *out, size_t o, size_t cap, const char *p,
                     size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n && o + 3 < cap; i++) {
    unsigned char c = (unsigned char)p[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out[o++] = (char)c;
    } else {
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  return o;
}

static size_t append(char *out, size_t o, size_t cap, const char *s,
                     size_t n) {
  if (o + n > cap) n = cap - o;
  memcpy(out + o, s, n);
  return o + n;
}

#define APPEND(s) (o = append(out, o, cap, (s), strlen(s)))

/* A masked client frame of kind k with payload p into out. */
static size_t frame(uint8_t *out, int k, const char *p, size_t n, int long64) {
  static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  uint8_t b0;
  size_t h = 0;
  switch (k) {
  case 'T': b0 = 0x81; break;
  case 't': b0 = 0x01; break;
  case 'C': b0 = 0x80; break;
  case 'c': b0 = 0x00; break;
  case 'B': b0 = 0x82; break;
  case 'b': b0 = 0x02; break;
  case 'P': b0 = 0x89; break;
  case 'O': b0 = 0x8a; break;
  case 'X': b0 = 0x88; break;
  case 'R': b0 = 0xc1; break;
  default: b0 = (uint8_t)k; break;
  }
  out[h++] = b0;
  if (long64) {
    out[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
  } else if (n < 126) {
    out[h++] = 0x80 | (uint8_t)n;
  } else if (n < 65536) {
    out[h++] = 0x80 | 126;
    out[h++] = (uint8_t)(n >> 8);
    out[h++] = (uint8_t)n;
  } else {
    out[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
  }
  memcpy(out + h, mask, 4);
  h += 4;
  for (size_t i = 0; i < n; i++) out[h + i] = (uint8_t)p[i] ^ mask[i & 3];
  return h + n;
}

/* ---- What the embedder does with the events ------------------------------------ */

typedef struct {
  int status;
  const char *body;
  size_t body_len;
  int answered;       /* API requests answered */
} embedder_t;

static size_t str_at(const uint8_t *p, size_t n, size_t at, const char **s,
                     size_t *len) {
  if (at + 2 > n) return n + 1;
  *len = (size_t)p[at] | (size_t)p[at + 1] << 8;
  *s = (const char *)p + at + 2;
  return at + 2 + *len;
}

/* A page's command, as Commands.java would act on it (crudely). */
static void command(const char *cid, size_t cid_len, const char *text,
                    size_t len) {
  json_t *j = json_loadb(text, len, 0, NULL);
  const char *t = json_string_value(json_object_get(j, "t"));
  const char *ch = json_string_value(json_object_get(j, "ch"));
  json_t *id = json_object_get(j, "id");
  int64_t ack = json_is_integer(id) ? json_integer_value(id) : -1;
  if (t == NULL) goto done;
  if (strcmp(t, "sub") == 0 && ch != NULL) {
    c4j_subscribe(engine, cid, cid_len, ch, strlen(ch), ack);
  } else if (strcmp(t, "unsub") == 0 && ch != NULL) {
    c4j_unsubscribe(engine, cid, cid_len, ch, strlen(ch));
  } else if (strcmp(t, "pub") == 0 && ch != NULL) {
    char *data = json_dumps(json_object_get(j, "data"),
                            JSON_COMPACT | JSON_ENCODE_ANY);
    if (data != NULL) {
      c4j_send_all(engine, ch, strlen(ch), data, strlen(data), 0);
      free(data);
    }
  } else if (strcmp(t, "req") == 0) {
    char res[128];
    int n = snprintf(res, sizeof(res), "{\"t\":\"res\",\"id\":%lld}",
                     (long long)ack);
    c4j_send_frame(engine, cid, cid_len, res, (size_t)n);
  }
done:
  json_decref(j);
}

/* A page's binary message (docs/protocol.md section 11: u16 n, a JSON
 * head of n bytes, the bytes): a pub's bytes are broadcast as bytes. */
static void binary(const uint8_t *p, size_t n) {
  size_t hn;
  json_t *j;
  const char *t, *ch;
  if (n < 2 || (hn = (size_t)p[0] << 8 | p[1]) > n - 2) return;
  j = json_loadb((const char *)p + 2, hn, 0, NULL);
  t = json_string_value(json_object_get(j, "t"));
  ch = json_string_value(json_object_get(j, "ch"));
  if (t != NULL && ch != NULL && strcmp(t, "pub") == 0) {
    int rc = c4j_send_all_binary(engine, ch, strlen(ch), p + 2 + hn,
                                 n - 2 - hn, 0);
    if (verbose)
      fprintf(stderr, "fuzz-engine: binary pub of %zu bytes on %s: %d\n",
              n - 2 - hn, ch, rc);
  }
  json_decref(j);
}

static void on_event(void *arg, int type, const uint8_t *p, size_t n) {
  embedder_t *em = arg;
  const char *a, *b;
  size_t al, bl, at;
  if (type == C4J_EV_API && n >= 4) {
    uint32_t id = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
    c4j_api_reply(engine, id, em->status, em->body, em->body_len);
    em->answered++;
  } else if (type == C4J_EV_MESSAGE) {
    at = str_at(p, n, 0, &a, &al);
    if (at <= n && str_at(p, n, at, &b, &bl) <= n) command(a, al, b, bl);
  } else if (type == C4J_EV_BINARY) {
    at = str_at(p, n, 0, &a, &al);
    if (at + 4 <= n) {
      size_t len = (size_t)p[at] | (size_t)p[at + 1] << 8 |
                   (size_t)p[at + 2] << 16 | (size_t)p[at + 3] << 24;
      if (len <= n - at - 4) binary(p + at + 4, len);
    }
  }
}

/* ---- One input -------------------------------------------------------------------- */

static void send_all_of(int fd, const uint8_t *p, size_t n, int pieces) {
  if (!pieces) {
    harness_send(fd, p, n);
    return;
  }
  for (size_t at = 0; at < n; at += 3)
    harness_send(fd, p + at, n - at < 3 ? n - at : 3);
}

/* What the server sent on this input's connection (the first MAX_OUT
 * bytes), checked once it closed. */
static uint8_t resp[MAX_OUT];
static size_t resp_len;

static void heard(const void *p, size_t n) {
  if (n > sizeof(resp) - resp_len) n = sizeof(resp) - resp_len;
  memcpy(resp + resp_len, p, n);
  resp_len += n;
}

/* An answer is HTTP/1.1 with a status; after a 101, WebSocket frames as a
 * server may send them. */
static void check_answer(void) {
  const uint8_t *end;
  frames_check_t f;
  if (resp_len < 13) return; /* cut by our close: nothing to judge */
  if (memcmp(resp, "HTTP/1.1 ", 9) != 0 || resp[9] < '1' || resp[9] > '5' ||
      resp[10] < '0' || resp[10] > '9' || resp[11] < '0' || resp[11] > '9' ||
      resp[12] != ' ') {
    fprintf(stderr, "fuzz-engine: the answer is not HTTP/1.1: %.40s\n",
            (const char *)resp);
    abort();
  }
  if (memcmp(resp + 9, "101 ", 4) != 0) return;
  end = memmem(resp, resp_len, "\r\n\r\n", 4);
  /* An /api/ answer may carry any status the embedder gave, 101 too. */
  if (end == NULL ||
      !memmem(resp, (size_t)(end - resp), "\r\nUpgrade: websocket\r\n", 23))
    return;
  memset(&f, 0, sizeof(f));
  frames_check(&f, end + 4, resp_len - (size_t)(end + 4 - resp), "/ws");
}

/* Reads until the answer's head ends, or ms; 1 when it is a 101. */
static int read_head(int fd, int ms) {
  char head[4096];
  size_t got = 0;
  uint64_t end = wsc_now_ms() + (uint64_t)ms;
  while (got < sizeof(head) - 1) {
    struct pollfd pf = { fd, POLLIN, 0 };
    uint64_t t = wsc_now_ms();
    ssize_t k;
    /* Byte by byte: what follows the head is the frames' business. */
    if (t >= end || harness_wait(&pf, (int)(end - t)) <= 0) return 0;
    k = recv(fd, head + got, 1, MSG_DONTWAIT);
    if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (k <= 0) return 0;
    heard(head + got, 1);
    got++;
    head[got] = '\0';
    if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
      return strncmp(head, "HTTP/1.1 101 ", 13) == 0;
  }
  return 0;
}

/* Waits up to ms for the server to close, answering events meanwhile
 * (em); with api, until an API event is answered; with quiet_ms, until
 * the server has been silent that long.  1 when the server closed. */
static int wait_server(int fd, int ms, int quiet_ms, int api,
                       embedder_t *em) {
  static uint8_t buf[1 << 16];
  uint64_t t = wsc_now_ms(), end = t + (uint64_t)ms, last = t;
  while ((t = wsc_now_ms()) < end) {
    struct pollfd pf = { fd, POLLIN, 0 };
    ssize_t k;
    harness_events(engine, on_event, em);
    if (api && em->answered) return 0;
    if (quiet_ms && t - last >= (uint64_t)quiet_ms) return 0;
    if (harness_wait(&pf, 1) <= 0) continue;
    k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) return 1;
    if (k > 0) {
      heard(buf, (size_t)k);
      last = wsc_now_ms();
    }
  }
  return 0;
}

/* Reads what fd has now (without waiting) into resp. */
static void take(int fd) {
  static uint8_t buf[1 << 16];
  for (;;) {
    ssize_t k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return;
    heard(buf, (size_t)k);
  }
}

/* A crowd input (kind m): every part on its own connection to the crowd
 * engine, all open at once, each answer checked, all closed, and then
 * no unfinished request may be left counted. */
static void crowd_input(const part_t *parts, int nparts, int naddr,
                        int flags) {
  int fds[CROWD_MAX], n = nparts < CROWD_MAX ? nparts : CROWD_MAX;
  uint64_t end;
  c4j_stats_t st;
  for (int i = 0; i < n; i++) {
    fds[i] = harness_connect_from(c4j_engine_port(crowd),
                                  0x7f000002u + (uint32_t)(i % naddr));
    send_all_of(fds[i], (const uint8_t *)parts[i].p, parts[i].n, flags & 8);
    /* A whole request is answered before the next client comes (else it
     * is still unfinished, counted against its address, when they do). */
    if (parts[i].n >= 4 &&
        memcmp(parts[i].p + parts[i].n - 4, "\r\n\r\n", 4) == 0) {
      struct pollfd pf = { fds[i], POLLIN, 0 };
      harness_wait(&pf, CROWD_ANSWER_MS);
    }
  }
  /* What the workers answer at once; lingering, until every connection
   * got something (the shortened deadline's 408 comes at a tick), at
   * most CROWD_LINGER_MS (and not at all below half the places: the
   * deadline shrinks only above). */
  if ((flags & 4) && n >= CROWD_PLACES / 2) {
    struct pollfd pf[CROWD_MAX];
    for (end = wsc_now_ms() + CROWD_LINGER_MS; wsc_now_ms() < end;) {
      int waiting = 0;
      for (int i = 0; i < n; i++)
        pf[i] = (struct pollfd){ fds[i], POLLIN, 0 };
      if (poll(pf, (nfds_t)n, 1) < 0 && errno != EINTR) break;
      for (int i = 0; i < n; i++) waiting += pf[i].revents == 0;
      if (waiting == 0) break;
    }
  } else {
    usleep(2000);
  }
  for (int i = 0; i < n; i++) {
    resp_len = 0;
    take(fds[i]);
    check_answer();
    harness_close(fds[i]);
  }
  harness_events(crowd, NULL, NULL);
  for (end = wsc_now_ms() + PROBE_MS;; usleep(1000)) {
    c4j_engine_stats(crowd, &st);
    if (st.pending == 0) break;
    if (wsc_now_ms() >= end) {
      fprintf(stderr, "fuzz-engine: crowd: %llu unfinished requests still"
              " counted %d ms after their sockets closed\n",
              (unsigned long long)st.pending, PROBE_MS);
      abort();
    }
  }
}

/* The engine starts here, before libFuzzer arms its SIGALRM timer, so
 * that the blocking reads of the start are not interrupted. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  harness_flags(argc, argv);
  init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char text[MAX_OUT], out[MAX_OUT + 256];
  static uint8_t frames[MAX_OUT + 1024];
  static const char kinds[] = "wspcarm";
  part_t parts[64];
  const size_t cap = MAX_OUT;
  embedder_t em = { 200, "{}", 2, 0 };
  int kind, cid, flags, nparts, fd, upgraded = 0, closed;
  size_t o = 0, tn, fo = 0;
  const char *ticket, *path = "";
  char num[32];

  if (engine == NULL) init();
  if (size < 3) return 0;
  kind = strchr(kinds, data[0]) && data[0] ? (int)(strchr(kinds, data[0]) -
                                                   kinds)
                                           : data[0] % 7;
  cid = data[1] & 3;
  flags = data[2] ^ 0x40;
  tn = expand((const char *)data + 3, size - 3, text, sizeof(text));
  nparts = kind == 5 ? (parts[0] = (part_t){ text, tn }, 1)
                     : split(text, tn, parts, 64);
  ticket = flags & 64 ? (cid == 1 ? expired : tickets[cid]) : tickets[cid];
  if (flags & 64 && cid != 1) {
    /* An expired ticket of another id: mint it now (cheap). */
    static char exp_ticket[1024];
    harness_ticket(engine, cids[cid], users[cid], chans[cid],
                   (int64_t)time(NULL) - 3600, exp_ticket,
                   sizeof(exp_ticket));
    ticket = exp_ticket;
  }

  keeper_drain(&keeper);
  harness_events(engine, on_event, &em);
  if (kind == 6) {
    crowd_input(parts, nparts, 1 + cid, flags);
    if (++runs % PROBE_EVERY == 0) harness_probe(crowd, 2);
    return 0;
  }

  /* The request. */
  if (kind <= 2) {
    static const char *const paths[3] = { "/ws", "/sse", "/poll" };
    o = (size_t)snprintf(out, cap, "GET %s?ticket=%s", paths[kind], ticket);
    if (parts[0].n > 0) {
      APPEND("&since=");
      if (flags & 16) o = append(out, o, cap, parts[0].p, parts[0].n);
      else o = encode(out, o, cap, parts[0].p, parts[0].n);
    }
    APPEND(" HTTP/1.1\r\nHost: x\r\n");
    if (kind == 0)
      APPEND("Upgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: " WSC_KEY "\r\n"
             "Sec-WebSocket-Version: 13\r\n");
  } else if (kind == 3) {
    o = (size_t)snprintf(out, cap, "POST /cmd?ticket=%s HTTP/1.1\r\n"
                         "Host: x\r\nContent-Type: application/json\r\n",
                         ticket);
    snprintf(num, sizeof(num), "%zu", parts[0].n + (flags & 32 ? 1 : 0));
    APPEND("Content-Length: ");
    APPEND(num);
    APPEND("\r\n");
  } else if (kind == 4) {
    if (nparts > 1) path = parts[1].p;
    APPEND(flags & 32 ? "GET /api/" : "POST /api/");
    o = append(out, o, cap, path, nparts > 1 ? parts[1].n : 0);
    APPEND(" HTTP/1.1\r\nHost: x\r\n");
    APPEND(flags & 32 ? "Authorization: Bearer " API_KEY "\r\n"
                      : "X-Api-Key: " API_KEY "\r\n");
    snprintf(num, sizeof(num), "%zu", parts[0].n);
    APPEND("Content-Length: ");
    APPEND(num);
    APPEND("\r\n");
    if (nparts > 2 && parts[2].n >= 3) {
      em.status = (parts[2].p[0] - '0') * 100 + (parts[2].p[1] - '0') * 10 +
                  (parts[2].p[2] - '0');
      em.body = parts[2].p + 3;
      em.body_len = parts[2].n - 3;
    }
  }
  if (kind != 5) {
    if (flags & 128) APPEND("Origin: http://b.example\r\n");
    APPEND("\r\n");
    if (kind == 3 || kind == 4) o = append(out, o, cap, parts[0].p, parts[0].n);
  } else {
    o = append(out, o, cap, parts[0].p, parts[0].n);
  }

  /* The frames after a /ws upgrade. */
  for (int i = 1; kind == 0 && i < nparts; i++)
    if (parts[i].n > 0 && fo + parts[i].n + 14 <= sizeof(frames))
      fo += frame(frames + fo, (unsigned char)parts[i].p[0], parts[i].p + 1,
                  parts[i].n - 1, flags & 32);

  resp_len = 0;
  fd = harness_connect(c4j_engine_port(engine));
  if (kind == 0 && (flags & 1)) {
    memcpy(out + o, frames, fo <= cap + 256 - o ? fo : 0);
    send_all_of(fd, (const uint8_t *)out, o + (fo <= cap + 256 - o ? fo : 0),
                flags & 8);
  } else {
    send_all_of(fd, (const uint8_t *)out, o, flags & 8);
    if (kind == 0 && fo > 0 && (upgraded = read_head(fd, ANSWER_MS)))
      send_all_of(fd, frames, fo, flags & 8);
  }
  (void)upgraded;
  if (flags & 2) c4j_send_all(engine, "a", 1, "{\"fuzz\":1}", 10, 0);

  closed = 0;
  if (kind == 4) closed = wait_server(fd, ANSWER_MS, 0, 1, &em);
  if (!closed && (flags & 4)) closed = wait_server(fd, LINGER_MS, QUIET_MS, 0, &em);
  if (!closed) {
    shutdown(fd, SHUT_WR);
    if (!wait_server(fd, DRAIN_MS, 0, 0, &em)) {
      /* The server holds a connection whose client has gone: a worker
       * may be stuck. */
      harness_close(fd);
      harness_probe(engine, 2);
      fd = -1;
    }
  }
  harness_close(fd);
  if (verbose) {
    fprintf(stderr, "fuzz-engine: sent %zu bytes: %.*s\n", o, (int)(o < 300 ? o : 300), out);
    fprintf(stderr, "fuzz-engine: heard %zu bytes: ", resp_len);
    for (size_t i = 0; i < resp_len && i < 600; i++)
      fputc(resp[i] >= 0x20 && resp[i] < 0x7f ? resp[i] : '.', stderr);
    fputc('\n', stderr);
  }
  check_answer();
  harness_events(engine, on_event, &em);
  /* What this input made the workers send the kept page (broadcasts,
   * acks, answers) is read and checked within it. */
  keeper_barrier(&keeper);
  if (++runs % PROBE_EVERY == 0) harness_probe(engine, 2);
  return 0;
}
