/*
 * value plugin — the customer base per customer period (customer_period:
 * UTC day, ISO week or month) and segment: retention rate from base
 * snapshots and registrations, and customer lifetime value from orders.
 *
 *   S = opening snapshot: the last snapshot at or before the period start
 *       (a snapshot exactly at the start, else the previous period's last
 *       one); when none is known, the period's first snapshot, and then
 *       registrations before it are not counted in N.
 *   E = closing snapshot: the last snapshot at or before the period end (a
 *       snapshot exactly at the end is the next period's opening one too).
 *   N = registrations (CustomerRegistered) in the period.
 *   retention = (E - N) / S.
 *
 *   CLV = average order value x margin x purchase frequency x lifespan
 *       = sum(amount x margin) / distinct buyers x lifespan (in periods),
 *   over orders with a customer id.
 *
 * The total (no segment label) holds every registration and order and the
 * snapshots whose segment is empty or total_segment; a segment's record
 * holds those naming it. Results are emitted when the interval ending at
 * period end + period_settle closes.
 */
#include <string.h>

#include "value_internal.h"

static int up_key(ks_key *k, const char *tenant, const char *seg, int64_t start) {
  ks_key_reset(k);
  ks_key_add_str(k, tenant);
  ks_key_add_str(k, seg);
  ks_key_add_i64(k, start);
  return !k->overflow;
}

/* The record of (tenant, seg) for the period starting at P, created when
 * new with the opening snapshot carried over from the previous period. */
static va_uperiod *up_get(va_plugin *p, ks_task *task, const char *tenant, const char *seg,
                          int64_t P) {
  const va_period per = p->cfg.cust_period;
  ks_key k;
  if (!up_key(&k, tenant, seg, P))
    return NULL;
  va_uperiod *u = p->api->keyed_get(task, p->cust_periods, k.buf, k.len, 0);
  if (u)
    return u;
  int carry = 0;
  int64_t s_value = 0, s_ms = 0;
  ks_key pk;
  if (up_key(&pk, tenant, seg, va_period_start(per, P - 1))) {
    const va_uperiod *prev = p->api->keyed_get(task, p->cust_periods, pk.buf, pk.len, 0);
    if (prev && (prev->flags & UP_E_KNOWN)) {
      carry = 1;
      s_value = prev->e_value;
      s_ms = prev->e_ms;
    }
  }
  u = p->api->keyed_get(task, p->cust_periods, k.buf, k.len, 1);
  if (u == NULL)
    return NULL;
  u->start_ms = P;
  u->end_ms = va_period_next(per, P);
  if (carry) {
    u->s_value = s_value;
    u->s_ms = s_ms;
    u->flags |= UP_S_KNOWN | (s_ms == P ? UP_S_EXACT : 0);
  }
  return u;
}

static int snapshot_seg(va_plugin *p, ks_task *task, const char *tenant, const char *seg, int64_t t,
                        int64_t value) {
  const va_period per = p->cfg.cust_period;
  const int64_t P = va_period_start(per, t);
  va_uperiod *u = up_get(p, task, tenant, seg, P);
  if (u == NULL)
    return KS_ENOMEM;
  u->flags |= UP_BASE;
  if (t == P) { /* exactly at the start: the opening snapshot */
    u->s_value = value;
    u->s_ms = t;
    u->regs_early = 0;
    u->flags |= UP_S_KNOWN | UP_S_EXACT;
  } else if (!(u->flags & UP_S_KNOWN)) { /* none before: the first one */
    u->s_value = value;
    u->s_ms = t;
    u->regs_early = u->regs; /* registrations so far came before it */
    u->flags |= UP_S_KNOWN;
  } else if (!(u->flags & UP_S_EXACT) && u->s_ms >= P && t < u->s_ms) {
    u->s_value = value; /* an earlier first snapshot, reordered */
    u->s_ms = t;
  }
  if (!(u->flags & UP_E_KNOWN) || t >= u->e_ms) {
    u->e_value = value;
    u->e_ms = t;
    u->flags |= UP_E_KNOWN;
  }
  if (t != P)
    return 0;
  /* ... and the previous period's closing snapshot, if not emitted yet */
  ks_key pk;
  if (!up_key(&pk, tenant, seg, va_period_start(per, P - 1)))
    return 0;
  va_uperiod *prev = p->api->keyed_get(task, p->cust_periods, pk.buf, pk.len, 0);
  if (prev && !(prev->flags & UP_EMITTED)) {
    prev->e_value = value;
    prev->e_ms = t;
    prev->flags |= UP_E_KNOWN | UP_BASE;
  }
  return 0;
}

int va_on_snapshot(va_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__CustomerBaseSnapshot *b = ev->msg->customer_base;
  if (b == NULL)
    return 0;
  return snapshot_seg(p, task, ks_nz(ev->msg->tenant), va_segment(&p->cfg, b->segment), ev->time_ms,
                      b->active_customers);
}

static int registration_seg(va_plugin *p, ks_task *task, const char *tenant, const char *seg,
                            int64_t t) {
  va_uperiod *u = up_get(p, task, tenant, seg, va_period_start(p->cfg.cust_period, t));
  if (u == NULL)
    return KS_ENOMEM;
  u->flags |= UP_BASE;
  u->regs++;
  if (!(u->flags & UP_S_KNOWN) || t < u->s_ms)
    u->regs_early++;
  return 0;
}

int va_on_registration_base(va_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__CustomerRegistered *b = ev->msg->customer_registered;
  const char *tenant = ks_nz(ev->msg->tenant);
  int rc = registration_seg(p, task, tenant, "", ev->time_ms);
  const char *seg = b ? va_segment(&p->cfg, b->segment) : "";
  if (rc == 0 && seg[0])
    rc = registration_seg(p, task, tenant, seg, ev->time_ms);
  return rc;
}

/* Count the customer once per (segment, period); 1 when new. */
static int buyer_new(va_plugin *p, ks_task *task, const char *tenant, const char *seg, int64_t P,
                     uint64_t cust) {
  ks_key k;
  if (!up_key(&k, tenant, seg, P))
    return 0;
  ks_key_add(&k, &cust, sizeof cust);
  if (k.overflow)
    return 0;
  if (p->api->keyed_get(task, p->buyers, k.buf, k.len, 0) != NULL)
    return 0;
  va_seen *s = p->api->keyed_get(task, p->buyers, k.buf, k.len, 1);
  if (s == NULL)
    return KS_ENOMEM;
  s->first_ms = P;
  return 1;
}

static int order_seg(va_plugin *p, ks_task *task, const ks_event *ev, const char *seg,
                     double amount, double gross) {
  const Kpistream__V1__Event *m = ev->msg;
  const char *tenant = ks_nz(m->tenant);
  const int64_t P = va_period_start(p->cfg.cust_period, ev->time_ms);
  const int has_cust = m->customer_id && m->customer_id[0];
  int fresh = 0;
  if (has_cust) {
    fresh = buyer_new(p, task, tenant, seg, P, ks_fnv1a(m->customer_id));
    if (fresh < 0)
      return fresh;
  }
  va_uperiod *u = up_get(p, task, tenant, seg, P);
  if (u == NULL)
    return KS_ENOMEM;
  u->flags |= UP_ORDERS;
  u->orders++;
  u->revenue += amount;
  if (has_cust) {
    u->orders_cust++;
    u->gross_cust += gross;
    u->customers += fresh;
  }
  return 0;
}

int va_on_order_base(va_plugin *p, ks_task *task, const ks_event *ev) {
  const va_config *cfg = &p->cfg;
  const Kpistream__V1__Order *b = ev->msg->order;
  if (b == NULL)
    return 0;
  const double margin = cfg->margin_from_orders && b->margin > 0.0 ? b->margin : cfg->margin;
  const double gross = b->amount * margin;
  int rc = order_seg(p, task, ev, "", b->amount, gross);
  const char *seg = va_segment(cfg, b->segment);
  if (rc == 0 && seg[0])
    rc = order_seg(p, task, ev, seg, b->amount, gross);
  return rc;
}

/* ---- results ------------------------------------------------------------------------ */

static int emit_up(void *ud, const void *key, size_t keylen, void *record) {
  va_emitter *e = ud;
  const va_config *cfg = &e->p->cfg;
  va_uperiod *u = record;
  if ((u->flags & UP_EMITTED) || !(u->flags & (UP_BASE | UP_ORDERS)) ||
      va_due_end(cfg, u->end_ms) > e->iv_end)
    return 0;
  u->flags |= UP_EMITTED;
  if (ks_key_part(key, keylen, 0, e->em.tenant, sizeof e->em.tenant) < 0 ||
      ks_key_part(key, keylen, 1, e->lvalue, sizeof e->lvalue) < 0)
    return 0;
  e->em.r.tenant = e->em.tenant;
  e->em.r.channel = 0;
  e->em.r.queue = "";
  e->em.r.agent_id = NULL;
  e->em.r.level = KS_LEVEL_TENANT; /* per segment when the label is set */
  e->em.r.interval_start_ms = u->start_ms;
  e->em.r.interval_end_ms = u->end_ms;
  if (e->lvalue[0])
    va_em_label(e, "segment", e->lvalue);
  else
    va_em_label(e, NULL, NULL);
  const int s_known = (u->flags & UP_S_KNOWN) != 0, e_known = (u->flags & UP_E_KNOWN) != 0;
  /* registrations before a fallback opening snapshot are not in N */
  const int64_t n = ks_sub_i64(u->regs, s_known ? u->regs_early : 0);
  const int ret_known = s_known && e_known && u->s_value != 0;
  const double retention = ret_known ? (double)ks_sub_i64(u->e_value, n) / (double)u->s_value : 0.0;
  if (u->flags & UP_BASE) {
    ks_emit_value(&e->em, "customers_start", KS_AGG_GAUGE, s_known, (double)u->s_value,
                  s_known ? 1 : 0, "customers");
    ks_emit_value(&e->em, "customers_end", KS_AGG_GAUGE, e_known, (double)u->e_value,
                  e_known ? 1 : 0, "customers");
    ks_emit_sum(&e->em, "new_customers", (double)n, n, "customers");
    if (s_known && e_known)
      ks_emit_ratio(&e->em, "retention_rate", (double)ks_sub_i64(u->e_value, n), (double)u->s_value,
                    u->s_value, "ratio");
    else
      ks_emit_null(&e->em, "retention_rate", KS_AGG_RATIO, "ratio");
  }
  if (u->flags & UP_ORDERS) {
    ks_emit_sum(&e->em, "orders", (double)u->orders, u->orders, "orders");
    ks_emit_sum(&e->em, "revenue", u->revenue, u->orders, "currency");
    ks_emit_ratio(&e->em, "average_order_value", u->revenue, (double)u->orders, u->orders,
                  "currency");
    ks_emit_ratio(&e->em, "purchase_frequency", (double)u->orders_cust, (double)u->customers,
                  u->customers, "orders");
    double lifespan = cfg->lifespan_years * va_periods_per_year(cfg->cust_period);
    int known = 1;
    if (cfg->lifespan_from_retention) {
      known = ret_known && retention < 1.0;
      lifespan = known ? 1.0 / (1.0 - retention) : 0.0;
    }
    if (known)
      ks_emit_ratio(&e->em, "clv", u->gross_cust * lifespan, (double)u->customers, u->customers,
                    "currency");
    else
      ks_emit_null(&e->em, "clv", KS_AGG_RATIO, "currency");
  }
  va_em_label(e, NULL, NULL);
  return 0;
}

int va_emit_cust_periods(va_emitter *e) {
  return e->p->api->keyed_foreach(e->em.task, e->p->cust_periods, emit_up, e);
}
