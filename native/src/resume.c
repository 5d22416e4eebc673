/* resume.c - the start of each subscription of an attaching identity and
 * the positions a connection leaves (see resume.h). */
#include <string.h>

#include "common.h"
#include "resume.h"

/* The position carried for channel ch, or -1 when none. */
static int64_t carried_of(const c4j__pos_t *p, const void *ch) {
  for (uint32_t i = 0; p != NULL && i < p->n; i++)
    if (p->v[i].chan == ch) return (int64_t)p->v[i].off;
  return -1;
}

/* Under the lock: the start of subscription s. */
static int plan_one(c4j__hist_t *h, c4j__sub_t *s, const json_t *since,
                    const c4j__pos_t *carried, c4j__start_t *st,
                    uint64_t now) {
  json_t *v = json_object_get(since, s->chan->name);
  c4j__hist_chan_t *ch = c4j__hist_chan(h, s->chan->name, s->chan->len);
  int64_t kept;
  uint64_t base;
  int rc;
  s->hist = ch;
  if (ch == NULL) {
    /* No history: nothing to resume from. */
    if (v != NULL) st->say = C4J__SAY_LOST;
    return 0;
  }
  kept = carried_of(carried, ch);
  if (v != NULL &&
      strcmp(json_string_value(json_array_get(v, 0)), ch->epoch) == 0) {
    /* The client knows best what it has (an answer written may still have
     * been lost), so its `since` wins over the position carried. */
    base = (uint64_t)json_integer_value(json_array_get(v, 1));
    st->say = C4J__SAY_RECOVERED;
  } else {
    /* Another epoch: the client lost its place; the identity did not. */
    if (v != NULL) st->say = C4J__SAY_LOST;
    base = kept >= 0 ? (uint64_t)kept : ch->last;
  }
  rc = c4j__hist_after(h, ch, base, now, &st->missed, &st->n);
  if (rc < 0) return rc;
  if (rc == 0) {
    /* A gap older than the ring (how many: all after base, as none is
     * replayed), or an offset ahead of the channel (not known). */
    st->say = C4J__SAY_LOST;
    st->lost = base < ch->last ? ch->last - base : 0;
    base = ch->last;
  }
  st->start = s->last = base;
  return 0;
}

int c4j__resume_plan(c4j__hist_t *h, c4j__sub_t *subs, const json_t *since,
                     const c4j__pos_t *carried, c4j__start_t *out) {
  uint64_t now = c4j__mono_ms();
  size_t i = 0;
  int rc = 0;
  if (h->size == 0) {
    for (c4j__sub_t *s = subs; s; s = s->conn_next, i++)
      if (json_object_get(since, s->chan->name) != NULL)
        out[i].say = C4J__SAY_LOST;
    return 0;
  }
  c4j__hist_lock(h);
  for (c4j__sub_t *s = subs; s && rc == 0; s = s->conn_next, i++)
    rc = plan_one(h, s, since, carried, &out[i], now);
  c4j__hist_unlock(h);
  if (rc != 0) c4j__resume_free(out, i);
  return rc;
}

void c4j__resume_free(c4j__start_t *st, size_t n) {
  for (size_t i = 0; st != NULL && i < n; i++) {
    for (size_t k = 0; k < st[i].n; k++) c4j__buf_unref(st[i].missed[k]);
    c4j__free(st[i].missed);
    st[i].missed = NULL;
    st[i].n = 0;
  }
}

c4j__pos_t *c4j__resume_positions(const c4j__sub_t *subs) {
  uint32_t n = 0;
  c4j__pos_t *p;
  for (const c4j__sub_t *s = subs; s; s = s->conn_next) n += s->hist != NULL;
  if (n == 0 || (p = c4j__malloc(sizeof(*p) + n * sizeof(p->v[0]))) == NULL)
    return NULL;
  p->n = 0;
  for (const c4j__sub_t *s = subs; s; s = s->conn_next)
    if (s->hist != NULL) {
      p->v[p->n].chan = s->hist;
      p->v[p->n].off = s->last;
      p->n++;
    }
  return p;
}

void c4j__resume_unsent(c4j__pos_t *p, const c4j__buf_t *b) {
  if (p == NULL || b->chan == NULL) return;
  for (uint32_t i = 0; i < p->n; i++)
    if (p->v[i].chan == b->chan && b->offset - 1 < p->v[i].off)
      p->v[i].off = b->offset - 1;
}
