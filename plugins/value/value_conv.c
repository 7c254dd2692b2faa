/*
 * value plugin — contacts handled, conversions (a sale or a registration by
 * the same customer after a handled contact) and next-best-action offers
 * and reactions, per interval and (tenant, channel, queue[, agent]).
 *
 * Attribution: an outcome (order, registration, reaction) is credited to the
 * dimensions of its origin (the customer's last handled contact, the offer)
 * in the interval of the LATER in event time of the two events. That
 * interval is always still open when the second of the two is processed
 * (intervals close in time order and the event being processed is in an
 * open one), so the result does not depend on arrival order or lateness.
 */
#include <string.h>

#include "value_internal.h"

/* ---- keys and interval records ------------------------------------------------ */

static void customer_key(ks_key *k, const char *tenant, uint64_t h) {
  ks_key_reset(k);
  ks_key_add_str(k, tenant);
  ks_key_add(k, &h, sizeof h);
}

static int dims_key(ks_key *k, const char *tenant, int channel, const char *queue,
                    const char *agent, const char *action) {
  ks_dims_key(k, tenant, channel, queue);
  ks_key_add_str(k, agent);
  ks_key_add_str(k, action);
  return !k->overflow;
}

/* The per-agent dimension key per the per_agent option; 0 when off. */
static int agent_key(ks_key *k, const va_config *cfg, const char *tenant, int channel,
                     const char *queue, const char *agent) {
  if (cfg->per_agent == VA_AGENT_OFF || agent[0] == '\0')
    return 0;
  return dims_key(k, tenant, cfg->per_agent == VA_AGENT_ALL ? 0 : channel,
                  cfg->per_agent == VA_AGENT_QUEUE ? queue : "", agent, "");
}

/* Dimensions an outcome is credited to. */
typedef struct va_dims {
  int channel;
  char queue[VA_NAME_MAX];
  char agent[VA_NAME_MAX];
  char action[VA_NAME_MAX];
} va_dims;

static void add_to(va_iagg *a, const va_iagg *d) {
  a->handled += d->handled;
  a->converted += d->converted;
  a->registrations += d->registrations;
  a->orders += d->orders;
  a->revenue += d->revenue;
  a->nba_offered += d->nba_offered;
  a->nba_accepted += d->nba_accepted;
  a->nba_rejected += d->nba_rejected;
  a->nba_ignored += d->nba_ignored;
  a->flags |= d->flags;
}

static int add_key(va_plugin *p, ks_task *task, int64_t iv, const ks_key *k, const va_iagg *d) {
  va_iagg *a = p->api->window_get(task, p->by_dims, iv, k->buf, k->len, 1);
  if (a == NULL)
    return KS_ENOMEM; /* iv is the event's interval or a later one: always open */
  add_to(a, d);
  return 0;
}

/* Add d to the queue-level record, the per-action one (when d->flags has
 * IA_NBA and an action is named) and the agent's record of interval iv. */
static int credit(va_plugin *p, ks_task *task, const char *tenant, const va_dims *dm, int64_t iv,
                  const va_iagg *d) {
  ks_key k;
  int rc = 0;
  if (dims_key(&k, tenant, dm->channel, dm->queue, "", ""))
    rc = add_key(p, task, iv, &k, d);
  if (rc == 0 && (d->flags & IA_NBA) && dm->action[0] &&
      dims_key(&k, tenant, dm->channel, dm->queue, "", dm->action))
    rc = add_key(p, task, iv, &k, d);
  if (rc == 0 && agent_key(&k, &p->cfg, tenant, dm->channel, dm->queue, dm->agent))
    rc = add_key(p, task, iv, &k, d);
  return rc;
}

static inline int64_t later(int64_t a, int64_t b) {
  return a > b ? a : b;
}

int va_first_seen(va_plugin *p, ks_task *task, char kind, const char *tenant, const char *id,
                  int64_t t) {
  if (p->dedupe == NULL || id[0] == '\0')
    return 1;
  ks_key k;
  ks_key_reset(&k);
  ks_key_add(&k, &kind, 1);
  ks_key_add_str(&k, tenant);
  ks_key_add_str(&k, id);
  if (k.overflow)
    return 1;
  if (p->api->keyed_get(task, p->dedupe, k.buf, k.len, 0) != NULL)
    return 0;
  va_seen *s = p->api->keyed_get(task, p->dedupe, k.buf, k.len, 1);
  if (s == NULL)
    return KS_ENOMEM;
  s->first_ms = t;
  return 1;
}

/* ---- contacts ----------------------------------------------------------------- */

static void contact_note(va_contact *c, const Kpistream__V1__Event *m, int64_t t) {
  if (!(c->flags & VC_START) || t < c->start_ms)
    c->start_ms = t;
  c->flags |= VC_START;
  if (m->customer_id && m->customer_id[0] && !(c->flags & VC_CUSTOMER)) {
    c->customer_hash = ks_fnv1a(m->customer_id);
    c->flags |= VC_CUSTOMER;
  }
  if (m->queue && m->queue[0])
    ks_name_copy(c->queue, VA_NAME_MAX, m->queue);
}

int va_on_contact_start(va_plugin *p, ks_task *task, const ks_event *ev) {
  ks_key ck;
  if (!ks_contact_key(&ck, ev->msg))
    return 0;
  va_contact *c = p->api->keyed_get(task, p->contacts, ck.buf, ck.len, 1);
  if (c == NULL)
    return KS_ENOMEM;
  contact_note(c, ev->msg, ev->time_ms);
  return 0;
}

/* A handled contact: the customer's last contact now (when it is the
 * newest), and the completion of an order or registration waiting for it. */
static int customer_handled(va_plugin *p, ks_task *task, const ks_event *ev, uint64_t cust,
                            uint64_t chash, int64_t start, const va_dims *dm) {
  const va_config *cfg = &p->cfg;
  const char *tenant = ks_nz(ev->msg->tenant);
  const int64_t t = ev->time_ms;
  ks_key uk;
  customer_key(&uk, tenant, cust);
  va_customer *u = p->api->keyed_get(task, p->customers, uk.buf, uk.len, 1);
  if (u == NULL)
    return KS_ENOMEM;
  if ((u->flags & CU_LAST) && t < u->handled_ms)
    return 0; /* an older contact, reordered: the newer one stays the last */
  if ((u->flags & CU_LAST) && u->contact_hash == chash) {
    if (start < u->start_ms)
      u->start_ms = start; /* another leg of the same contact */
  } else {
    u->flags &= ~(CU_CONVERTED | CU_REGISTERED);
    u->start_ms = start;
  }
  u->flags |= CU_LAST;
  u->handled_ms = t;
  u->contact_hash = chash;
  u->channel = dm->channel;
  ks_name_copy(u->queue, VA_NAME_MAX, dm->queue);
  ks_name_copy(u->agent, VA_NAME_MAX, dm->agent);
  va_iagg d;
  memset(&d, 0, sizeof d);
  int64_t at = t;
  if ((u->flags & CU_PEND_ORDER) && u->start_ms <= u->order_ms &&
      u->order_ms <= t + cfg->conv_window_ms) {
    u->flags &= ~CU_PEND_ORDER;
    d.converted = !(u->flags & CU_CONVERTED);
    d.orders = 1;
    d.revenue = u->order_amount;
    u->flags |= CU_CONVERTED;
    at = later(at, u->order_ms);
    d.flags = IA_CONV;
  }
  int64_t reg_at = t;
  int reg = 0;
  if ((u->flags & CU_PEND_REG) && u->start_ms <= u->reg_ms &&
      u->reg_ms <= t + cfg->conv_window_ms) {
    u->flags &= ~CU_PEND_REG;
    reg = !(u->flags & CU_REGISTERED);
    u->flags |= CU_REGISTERED;
    reg_at = later(reg_at, u->reg_ms);
  }
  /* u is not used past this point */
  int rc = 0;
  if (d.flags)
    rc = credit(p, task, tenant, dm, ks_interval_floor(at, cfg->interval_ms), &d);
  if (rc == 0 && reg) {
    memset(&d, 0, sizeof d);
    d.registrations = 1;
    d.flags = IA_CONV;
    rc = credit(p, task, tenant, dm, ks_interval_floor(reg_at, cfg->interval_ms), &d);
  }
  return rc;
}

int va_on_acw_ended(va_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  ks_key ck;
  if (!ks_contact_key(&ck, m))
    return 0;
  va_contact *c = p->api->keyed_get(task, p->contacts, ck.buf, ck.len, 1);
  if (c == NULL)
    return KS_ENOMEM;
  contact_note(c, m, ev->time_ms);
  /* A leg is one assignment: its wrap-up (agent and time) is counted once,
   * a redelivered one is absorbed, and an agent the contact comes back to
   * (a1 -> a2 -> a1) has a second leg with a later wrap-up. */
  const uint64_t lh = va_leg_id(ks_nz(m->agent_id), ev->time_ms);
  for (uint32_t i = 0; i < c->n_legs && i < VA_LEGS; i++)
    if (c->legs[i] == lh)
      return 0;                      /* a repeated wrap-up of a handled leg */
  c->legs[c->n_legs % VA_LEGS] = lh; /* a fifth leg replaces the oldest */
  const int first_leg = c->n_legs == 0;
  c->n_legs++;
  va_dims dm;
  memset(&dm, 0, sizeof dm);
  dm.channel = (int)m->channel;
  ks_name_copy(dm.queue, VA_NAME_MAX, m->queue && m->queue[0] ? m->queue : c->queue);
  ks_name_copy(dm.agent, VA_NAME_MAX, ks_nz(m->agent_id));
  const int has_cust = (c->flags & VC_CUSTOMER) != 0;
  const uint64_t cust = c->customer_hash;
  const int64_t start = c->start_ms;
  /* c is not used past this point */

  const char *tenant = ks_nz(m->tenant);
  va_iagg d;
  memset(&d, 0, sizeof d);
  d.handled = 1;
  d.flags = IA_CONV;
  int rc = credit(p, task, tenant, &dm, ev->interval_start_ms, &d);
  /* cost per contact divides by contacts (cost.per: contacts), each counted
   * at its first handled leg; cost.per: legs counts every leg */
  if (rc == 0 && (first_leg || p->cfg.cost_per_leg))
    rc = va_cost_handled(p, task, tenant, dm.channel, dm.queue, ev->time_ms);
  if (rc == 0 && has_cust)
    rc = customer_handled(p, task, ev, cust, ks_fnv1a(ks_nz(m->contact_id)), start, &dm);
  return rc;
}

/* ---- orders and registrations ---------------------------------------------------- */

/* An order (is_order) or a registration of a customer: credited to the
 * customer's last handled contact when it started before and the outcome
 * came within conversion.window of its wrap-up; else kept waiting for a
 * contact (one of each kind, the latest). */
static int outcome(va_plugin *p, ks_task *task, const ks_event *ev, int is_order, double amount) {
  const va_config *cfg = &p->cfg;
  const Kpistream__V1__Event *m = ev->msg;
  if (m->customer_id == NULL || m->customer_id[0] == '\0')
    return 0; /* no customer: nothing to attribute it to */
  const char *tenant = ks_nz(m->tenant);
  const int64_t t = ev->time_ms;
  ks_key uk;
  customer_key(&uk, tenant, ks_fnv1a(m->customer_id));
  va_customer *u = p->api->keyed_get(task, p->customers, uk.buf, uk.len, 1);
  if (u == NULL)
    return KS_ENOMEM;
  const uint32_t done = is_order ? CU_CONVERTED : CU_REGISTERED;
  if (!(u->flags & CU_LAST) || t < u->start_ms || t > u->handled_ms + cfg->conv_window_ms) {
    if (is_order) {
      if (!(u->flags & CU_PEND_ORDER) || t >= u->order_ms) {
        u->order_ms = t;
        u->order_amount = amount;
      }
      u->flags |= CU_PEND_ORDER;
    } else {
      if (!(u->flags & CU_PEND_REG) || t >= u->reg_ms)
        u->reg_ms = t;
      u->flags |= CU_PEND_REG;
    }
    return 0;
  }
  va_iagg d;
  memset(&d, 0, sizeof d);
  d.flags = IA_CONV;
  const int first = !(u->flags & done);
  u->flags |= done;
  if (is_order) {
    d.converted = first;
    d.orders = 1;
    d.revenue = amount;
  } else {
    d.registrations = first;
  }
  va_dims dm;
  memset(&dm, 0, sizeof dm);
  dm.channel = u->channel;
  memcpy(dm.queue, u->queue, sizeof dm.queue);
  memcpy(dm.agent, u->agent, sizeof dm.agent);
  const int64_t at = later(t, u->handled_ms);
  /* u is not used past this point */
  if (!is_order && !first)
    return 0;
  return credit(p, task, tenant, &dm, ks_interval_floor(at, cfg->interval_ms), &d);
}

int va_on_order_conv(va_plugin *p, ks_task *task, const ks_event *ev) {
  return outcome(p, task, ev, 1, ev->msg->order->amount);
}

int va_on_registration_conv(va_plugin *p, ks_task *task, const ks_event *ev) {
  return outcome(p, task, ev, 0, 0.0);
}

/* ---- next-best-action ----------------------------------------------------------------- */

static int offer_key(ks_key *k, const char *tenant, const char *offer_id) {
  if (offer_id[0] == '\0')
    return 0;
  ks_key_reset(k);
  ks_key_add_str(k, tenant);
  ks_key_add_str(k, offer_id);
  return !k->overflow;
}

static void reaction_add(va_iagg *d, int reaction) {
  d->flags |= IA_NBA;
  d->nba_accepted += reaction == KPISTREAM__V1__REACTION__REACTION_ACCEPTED;
  d->nba_rejected += reaction == KPISTREAM__V1__REACTION__REACTION_REJECTED;
  d->nba_ignored += reaction == KPISTREAM__V1__REACTION__REACTION_IGNORED;
}

static void offer_dims(va_dims *dm, const va_offer *o) {
  memset(dm, 0, sizeof *dm);
  dm->channel = o->channel;
  memcpy(dm->queue, o->queue, sizeof dm->queue);
  memcpy(dm->agent, o->agent, sizeof dm->agent);
  memcpy(dm->action, o->action, sizeof dm->action);
}

int va_on_nba_offer(va_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  if (m->nba_offer == NULL)
    return 0;
  const char *tenant = ks_nz(m->tenant);
  ks_key k;
  if (!offer_key(&k, tenant, ks_nz(m->nba_offer->offer_id)))
    return 0;
  va_offer *o = p->api->keyed_get(task, p->offers, k.buf, k.len, 1);
  if (o == NULL)
    return KS_ENOMEM;
  if (o->flags & OF_OFFERED)
    return 0; /* a repeated offer */
  o->flags |= OF_OFFERED;
  o->offer_ms = ev->time_ms;
  o->channel = (int32_t)m->channel;
  ks_name_copy(o->queue, VA_NAME_MAX, ks_nz(m->queue));
  ks_name_copy(o->agent, VA_NAME_MAX, ks_nz(m->agent_id));
  ks_name_copy(o->action, VA_NAME_MAX, ks_nz(m->nba_offer->action));
  va_dims dm;
  offer_dims(&dm, o);
  const int reacted = (o->flags & OF_REACTED) != 0;
  const int reaction = o->reaction;
  const int64_t react_ms = o->react_ms;
  /* o is not used past this point */
  va_iagg d;
  memset(&d, 0, sizeof d);
  d.nba_offered = 1;
  d.flags = IA_NBA;
  int rc = credit(p, task, tenant, &dm, ev->interval_start_ms, &d);
  if (rc == 0 && reacted) { /* the reaction arrived first */
    memset(&d, 0, sizeof d);
    reaction_add(&d, reaction);
    rc = credit(p, task, tenant, &dm,
                ks_interval_floor(later(ev->time_ms, react_ms), p->cfg.interval_ms), &d);
  }
  return rc;
}

int va_on_nba_reaction(va_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  const Kpistream__V1__NextBestActionReaction *b = m->nba_reaction;
  if (b == NULL || b->reaction == KPISTREAM__V1__REACTION__REACTION_UNSPECIFIED)
    return 0;
  const char *tenant = ks_nz(m->tenant);
  ks_key k;
  if (!offer_key(&k, tenant, ks_nz(b->offer_id)))
    return 0;
  va_offer *o = p->api->keyed_get(task, p->offers, k.buf, k.len, 1);
  if (o == NULL)
    return KS_ENOMEM;
  if (o->flags & OF_REACTED)
    return 0; /* only the first reaction counts */
  o->flags |= OF_REACTED;
  o->reaction = (int32_t)b->reaction;
  o->react_ms = ev->time_ms;
  if (!(o->flags & OF_OFFERED))
    return 0; /* completed when the offer arrives */
  va_dims dm;
  offer_dims(&dm, o);
  const int64_t at = later(ev->time_ms, o->offer_ms);
  /* o is not used past this point */
  va_iagg d;
  memset(&d, 0, sizeof d);
  reaction_add(&d, (int)b->reaction);
  return credit(p, task, tenant, &dm, ks_interval_floor(at, p->cfg.interval_ms), &d);
}

/* ---- interval results ------------------------------------------------------------------ */

static void emit_nba(va_emitter *e, const va_iagg *a) {
  ks_emit_sum(&e->em, "nba_offered", (double)a->nba_offered, a->nba_offered, "offers");
  ks_emit_sum(&e->em, "nba_accepted", (double)a->nba_accepted, a->nba_accepted, "offers");
  const int64_t den =
      e->p->cfg.nba_over_responded ? ks_add_i64(a->nba_accepted, a->nba_rejected) : a->nba_offered;
  ks_emit_ratio(&e->em, "nba_acceptance_rate", (double)a->nba_accepted, (double)den, den, "ratio");
}

static int emit_dims(void *ud, const void *key, size_t keylen, void *record) {
  va_emitter *e = ud;
  const va_iagg *a = record;
  if (ks_emitter_dims(&e->em, key, keylen, 1) != 0 ||
      ks_key_part(key, keylen, 4, e->lvalue, sizeof e->lvalue) < 0)
    return 0;
  if (e->em.agent[0] == '\0') { /* a queue (or unattributed) row */
    e->em.r.agent_id = NULL;
    /* a contact without a queue is in no queue row: unattributed */
    e->em.r.level = e->em.queue[0] ? KS_LEVEL_QUEUE : KS_LEVEL_UNATTRIBUTED;
  }
  if (e->lvalue[0]) { /* one action */
    va_em_label(e, "action", e->lvalue);
    if (a->flags & IA_NBA)
      emit_nba(e, a);
    va_em_label(e, NULL, NULL);
    return 0;
  }
  va_em_label(e, NULL, NULL);
  if (a->flags & IA_CONV) {
    const double h = (double)a->handled;
    ks_emit_sum(&e->em, "conversions", (double)a->converted, a->converted, "contacts");
    ks_emit_ratio(&e->em, "conversion_rate", (double)a->converted, h, a->handled, "ratio");
    ks_emit_sum(&e->em, "attributed_revenue", a->revenue, a->orders, "currency");
    ks_emit_sum(&e->em, "contact_registrations", (double)a->registrations, a->registrations,
                "customers");
    ks_emit_ratio(&e->em, "registration_rate", (double)a->registrations, h, a->handled, "ratio");
  }
  if (a->flags & IA_NBA)
    emit_nba(e, a);
  return 0;
}

int va_emit_interval(va_emitter *e, int64_t iv_start) {
  e->em.r.interval_start_ms = iv_start;
  e->em.r.interval_end_ms = iv_start + e->p->cfg.interval_ms;
  return e->p->api->window_foreach(e->em.task, e->p->by_dims, iv_start, emit_dims, e);
}
