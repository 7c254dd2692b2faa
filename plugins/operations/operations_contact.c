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
 * back zeroed (create = 1): slots and legs are zeroed when taken, so a
 * stale or empty one is never read as data.
 */
#include <string.h>

#include "operations_internal.h"

_Static_assert(sizeof(op_qslot) == 32, "op_qslot layout");
_Static_assert(sizeof(op_leg) == 56, "op_leg layout");
_Static_assert(offsetof(op_contact, q01) == 64, "op_contact line 1");
_Static_assert(offsetof(op_contact, leg0) == 128, "op_contact line 2");
_Static_assert(offsetof(op_contact, res_ms) == 184, "op_contact line 2 end");
_Static_assert(offsetof(op_contact, queue) == 192, "op_contact line 3");
_Static_assert(sizeof(op_contact) == 320, "op_contact layout");
_Static_assert(offsetof(op_contact_more, leg12) == 64, "op_contact_more line 1");
_Static_assert(sizeof(op_contact_more) == 192, "op_contact_more layout");

/* Common envelope bookkeeping on the contact record. */
static inline void contact_note(op_contact *c, const Kpistream__V1__Event *m) {
  if (m->channel != 0 && c->channel != (int32_t)m->channel)
    c->channel = (int32_t)m->channel;
  if (!(c->flags & C_HAS_CUSTOMER) && m->customer_id && m->customer_id[0]) {
    c->customer_hash = fnv1a(m->customer_id);
    c->flags |= C_HAS_CUSTOMER;
  }
}

op_contact *op_contact_fetch(op_cref *r, op_plugin *p, ks_task *task, const ks_key *ck,
                             const Kpistream__V1__Event *m) {
  r->p = p;
  r->task = task;
  r->ck = ck;
  r->more = NULL;
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

/* Slot i / leg i. Slots past 1 and legs past 0 are used only by contacts
 * with C_HAS_MORE, whose more-record the fetch (or more_of) has set. */
static inline op_qslot *qslot_at(const op_cref *r, unsigned i) {
  return i < 2 ? &r->c->q01[i] : &r->more->q23[i - 2];
}

static inline op_leg *leg_at(const op_cref *r, unsigned i) {
  return i == 0 ? &r->c->leg0 : &r->more->leg12[i - 1];
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

/* Legs are taken in index order (the first unused one is n_legs). */
op_leg *op_leg_get(op_cref *r, uint64_t ah) {
  op_contact *c = r->c;
  for (unsigned i = 0; i < c->n_legs; i++) {
    op_leg *l = leg_at(r, i);
    if (l->agent_hash == ah)
      return l;
  }
  int pick = c->n_legs < OP_LEGS ? (int)c->n_legs : -1;
  for (int k = 0; k < OP_LEGS && pick < 0; k++) {
    int i = (c->next_leg + k) % OP_LEGS;
    if (leg_at(r, (unsigned)i)->flags & L_HANDLED)
      pick = i;
  }
  if (pick < 0)
    pick = c->next_leg % OP_LEGS;
  if (pick >= 1 && more_of(r) == NULL)
    return NULL; /* the contact is left as it was */
  c->next_leg = (uint8_t)((pick + 1) % OP_LEGS);
  if (pick == c->n_legs)
    c->n_legs++;
  op_leg *l = leg_at(r, (unsigned)pick);
  memset(l, 0, sizeof *l);
  l->flags = L_USED;
  l->agent_hash = ah;
  return l;
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
