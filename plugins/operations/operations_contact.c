/*
 * operations — a contact's records: the contact itself (table `contacts`)
 * and its later queue slots and legs (`contacts_more`). Layouts:
 * operations_internal.h.
 *
 * Ownership: every record is host-owned; an op_cref only points at records
 * of the task being dispatched and lives on the handler's stack for one
 * event. Records never move, so holding the contact while fetching its
 * more-record or a name is fine (expiry runs only between callbacks).
 *
 * The more-record has the contact's key and TTL and is fetched whenever the
 * contact is (for contacts flagged C_HAS_MORE), so both are touched at the
 * same event time and expire together. A more-record found missing comes
 * back zeroed (create = 1): slots are zeroed when taken, so a stale or
 * empty one is never read as data. The legs record (same key and TTL) is
 * fetched by the events that read or add agent events; it is renewed by
 * those, the contact by every event, so it can expire first only when the
 * contact has had no agent event for contact_ttl: a late one then starts a
 * fresh set, as a contact does.
 */
#include <string.h>

#include "operations_internal.h"

_Static_assert(sizeof(op_qslot) == 32, "op_qslot layout");
_Static_assert(offsetof(op_contact, q01) == 64, "op_contact line 1");
_Static_assert(offsetof(op_contact, res_ms) == 128, "op_contact line 2");
_Static_assert(offsetof(op_contact, queue) == 192, "op_contact line 3");
_Static_assert(sizeof(op_contact) == 320, "op_contact layout");
_Static_assert(sizeof(op_contact_more) == 64, "op_contact_more layout");
_Static_assert(sizeof(op_legev) == 24, "op_legev layout");
_Static_assert(sizeof(op_legs) == 200 + 24 * OP_LEG_EVENTS, "op_legs layout");

/* Common envelope bookkeeping on the contact record. */
static inline void contact_note(op_contact *c, const Kpistream__V1__Event *m) {
  if (m->channel != 0 && c->channel != (int32_t)m->channel)
    c->channel = (int32_t)m->channel;
  if (!(c->flags & C_HAS_CUSTOMER) && m->customer_id && m->customer_id[0]) {
    c->customer_hash = ks_fnv1a(m->customer_id);
    c->flags |= C_HAS_CUSTOMER;
  }
}

op_contact *op_contact_fetch(op_cref *r, op_plugin *p, ks_task *task, const ks_key *ck,
                             const Kpistream__V1__Event *m) {
  r->p = p;
  r->task = task;
  r->ck = ck;
  r->more = NULL;
  r->legs = NULL;
  r->c = p->api->keyed_get(task, p->contacts, ck->buf, ck->len, 1);
  if (r->c == NULL)
    return NULL;
  if (r->c->flags & C_HAS_MORE) {
    /* renews its TTL with the contact's; a missing one comes back empty */
    r->more = p->api->keyed_get(task, p->contacts_more, ck->buf, ck->len, 1);
    if (r->more == NULL)
      return r->c = NULL;
  }
  contact_note(r->c, m);
  return r->c;
}

/* The contact's more-record, created (and flagged) when it has none yet. */
static op_contact_more *more_of(op_cref *r) {
  if (r->more == NULL) {
    r->more = r->p->api->keyed_get(r->task, r->p->contacts_more, r->ck->buf, r->ck->len, 1);
    if (r->more)
      r->c->flags |= C_HAS_MORE;
  }
  return r->more;
}

/* Slot i. Slots past 1 are used only by contacts with C_HAS_MORE, whose
 * more-record the fetch (or more_of) has set. */
static inline op_qslot *qslot_at(const op_cref *r, unsigned i) {
  return i < 2 ? &r->c->q01[i] : &r->more->q23[i - 2];
}

/* The used slot of queue hash h, or NULL. */
static op_qslot *slot_find(const op_cref *r, uint64_t h) {
  for (unsigned i = 0; i < r->c->n_slots; i++) {
    op_qslot *s = qslot_at(r, i);
    if (s->qhash == h)
      return s;
  }
  return NULL;
}

/* Slots are taken in index order, so the used ones are the first n_slots. */
op_qslot *op_slot_get(op_cref *r, uint64_t h) {
  op_qslot *s = slot_find(r, h);
  if (s)
    return s;
  op_contact *c = r->c;
  unsigned i = c->next_slot % OP_QSLOTS;
  if (i >= 2 && more_of(r) == NULL)
    return NULL; /* the contact is left as it was */
  c->next_slot = (uint8_t)((i + 1) % OP_QSLOTS);
  if (c->n_slots < OP_QSLOTS)
    c->n_slots++;
  s = qslot_at(r, i);
  memset(s, 0, sizeof *s);
  s->flags = QS_USED;
  s->qhash = h;
  return s;
}

op_legs *op_legs_of(op_cref *r) {
  if (r->legs == NULL)
    r->legs = r->p->api->keyed_get(r->task, r->p->legs, r->ck->buf, r->ck->len, 1);
  return r->legs;
}

static inline int64_t clamp0(int64_t v) {
  return v < 0 ? 0 : v;
}

/* Order of kinds at equal times: an offer first, then the answer that
 * opens the leg, ..., the wrap-up that closes it last. */
static inline int kind_rank(uint8_t kind) {
  return kind == LK_OFFER ? 0 : kind;
}

/* Event-time order; at equal times, kind order. */
static inline int legev_before(const op_legev *a, const op_legev *b) {
  return a->t < b->t || (a->t == b->t && kind_rank(a->kind) < kind_rank(b->kind));
}

/* The events of agent index `agent` (every agent when < 0) of the set,
 * sorted by agent, then event time (insertion sort: at most OP_LEG_EVENTS),
 * into ev[]; returns the count. */
static int legs_sorted(const op_legs *g, int agent, const op_legev **ev) {
  int n = 0;
  for (int i = 0; i < g->n_ev && i < OP_LEG_EVENTS; i++) {
    const op_legev *e = &g->ev[i];
    if (agent >= 0 && e->agent != agent)
      continue;
    int j = n++;
    while (j > 0 && (ev[j - 1]->agent > e->agent ||
                     (ev[j - 1]->agent == e->agent && legev_before(e, ev[j - 1])))) {
      ev[j] = ev[j - 1];
      j--;
    }
    ev[j] = e;
  }
  return n;
}

static inline int64_t iv_start(int64_t t, int64_t interval_ms) {
  int64_t r = t % interval_ms;
  if (r < 0)
    r += interval_ms;
  return t - r;
}

int op_offers_derive(const op_legs *g, int agent, int64_t interval_ms, op_offig *out, int max) {
  const op_legev *ev[OP_LEG_EVENTS];
  const int n = legs_sorted(g, agent, ev);
  int k = 0;
  for (int i = 0; i < n && k < max; i++) {
    const op_legev *e = ev[i];
    if (e->kind != LK_OFFER)
      continue;
    /* answered: the agent's next offer or answer of the contact is an answer */
    /* ... within the ring (at or before the ring end, when ring_ms is known) */
    int answered = 0;
    for (int j = i + 1; j < n && ev[j]->agent == e->agent; j++)
      if (ev[j]->kind == LK_OFFER || ev[j]->kind == LK_ANSWER) {
        answered = ev[j]->kind == LK_ANSWER && (e->ring_ms == 0 || ev[j]->t <= e->t + e->ring_ms);
        break;
      }
    op_offig *f = &out[k++];
    memset(f, 0, sizeof *f);
    f->iv = iv_start(e->t + e->ring_ms, interval_ms);
    f->ring_ms = e->ring_ms;
    f->channel = e->channel;
    f->queue = e->queue;
    f->agent = e->agent;
    f->answered = (uint8_t)answered;
  }
  return k;
}

/* One leg while it is walked in event-time order. */
typedef struct leg_walk {
  int open;     /* started (an answer, or an event before the first one) */
  int answered; /* started by an answer */
  int ended, hold_open, held, transferred, escalated, done;
  int64_t ans_t, end_t, hold_t, hold_ms;
} leg_walk;

static void walk_end(leg_walk *w, int64_t t) {
  if (!w->ended) {
    w->ended = 1;
    w->end_t = t;
    if (w->hold_open) {
      w->hold_ms += clamp0(t - w->hold_t);
      w->hold_open = 0;
      w->held = 1;
    }
  }
}

int op_legs_derive(const op_legs *g, int agent, int64_t interval_ms, op_legfig *out, int max) {
  const op_legev *ev[OP_LEG_EVENTS];
  const int n = legs_sorted(g, agent, ev);
  int k = 0;
  leg_walk w;
  memset(&w, 0, sizeof w);
  for (int i = 0; i < n; i++) {
    const op_legev *e = ev[i];
    if (i > 0 && e->agent != ev[i - 1]->agent)
      memset(&w, 0, sizeof w); /* the next agent (agent < 0 only) */
    if (e->kind == LK_OFFER)
      continue; /* not part of a leg (op_offers_derive) */
    if (e->kind == LK_ANSWER) {
      /* events before the agent's first answer belong to its first leg;
       * every later answer starts a new leg */
      if (w.open && (w.answered || w.done))
        memset(&w, 0, sizeof w);
      w.open = 1;
      w.answered = 1;
      w.ans_t = e->t;
      continue;
    }
    w.open = 1;
    if (w.done)
      continue; /* after the leg's wrap-up: not part of it */
    switch (e->kind) {
    case LK_HOLD_START:
      if (!w.ended && !w.hold_open) {
        w.hold_open = 1;
        w.hold_t = e->t;
      }
      break;
    case LK_HOLD_END:
      if (!w.ended && w.hold_open) {
        w.hold_ms += clamp0(e->t - w.hold_t);
        w.hold_open = 0;
        w.held = 1;
      }
      break;
    case LK_TRANSFER:
      w.transferred = 1;
      walk_end(&w, e->t); /* the transfer ends this agent's talk */
      break;
    case LK_END:
      walk_end(&w, e->t);
      break;
    case LK_ESCALATE:
      w.escalated = 1;
      break;
    case LK_ACW: {
      walk_end(&w, e->t); /* no ContactEnded: talking until wrap-up ended */
      w.done = 1;
      if (k >= max)
        break;
      op_legfig *f = &out[k++];
      memset(f, 0, sizeof *f);
      f->iv = iv_start(e->t, interval_ms);
      f->acw_t = e->t;
      f->channel = e->channel;
      f->queue = e->queue;
      f->agent = e->agent;
      f->hold_ms = w.hold_ms;
      f->talk_ms = w.answered ? clamp0(w.end_t - w.ans_t - w.hold_ms) : 0;
      f->acw_ms = clamp0(e->t - w.end_t);
      f->held = (uint8_t)(w.held || w.hold_ms > 0);
      f->transferred = (uint8_t)w.transferred;
      f->escalated = (uint8_t)w.escalated;
      break;
    }
    default:
      break;
    }
  }
  return k;
}

int op_name_set(op_cref *r, int agent, const char *name, uint64_t nh) {
  uint64_t *dst_nh = agent ? &r->c->agent_nh : &r->c->queue_nh;
  if (*dst_nh == nh)
    return 0; /* the same name: nothing to read or write */
  char *dst = agent ? r->c->agent : r->c->queue;
  size_t n = strlen(name);
  if (n > OP_NAME_MAX - 1)
    n = OP_NAME_MAX - 1;
  memcpy(dst, name, n);
  dst[n] = '\0';
  *dst_nh = nh;
  return 0;
}

void op_name_get(const op_contact *c, int agent, char *buf) {
  memcpy(buf, agent ? c->agent : c->queue, OP_NAME_MAX);
  buf[OP_NAME_MAX - 1] = '\0';
}
