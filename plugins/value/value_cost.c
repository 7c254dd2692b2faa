/*
 * value plugin — operating cost, budget, budget variance and cost per
 * contact per cost period (cost.period: UTC day, ISO week or month) and
 * scope (tenant, channel, queue of the record's envelope).
 *
 * A cost or budget record covers [period_start, period_end); its amount is
 * spread over the cost periods it overlaps in proportion to the time covered
 * (a weekly budget of 700 gives 100 to each day). A record repeating the
 * line of an earlier one (same scope, cost center, kind, category and
 * period) replaces it: only the difference is applied. Shares for periods
 * already emitted (the record arrived after period end + period_settle) are
 * dropped; see docs/metrics-value.md.
 *
 * Scopes: a record whose envelope names a channel and queue counts for
 * (channel, queue), (channel, all queues) and (all channels, all queues);
 * handled contacts are counted the same way, so cost per contact divides the
 * costs of a scope by the contacts handled in it.
 */
#include <string.h>

#include "value_internal.h"

/* The cost line key (below): four identifiers, two one-byte parts, two
 * times; KS_ID_MAX-byte identifiers always fit. */
_Static_assert(2 * 2 + 2 * 9 + 4 * (1 + KS_ID_MAX) <= sizeof(((ks_key *)0)->buf),
               "value's cost line key must hold KS_ID_MAX-byte identifiers");

static int cp_key(ks_key *k, const char *tenant, int channel, const char *queue, char type,
                  const char *name, int64_t start) {
  ks_dims_key(k, tenant, channel, queue);
  ks_key_add(k, &type, 1);
  ks_key_add_str(k, name);
  ks_key_add_i64(k, start);
  return !k->overflow;
}

static va_cperiod *cp_get(va_plugin *p, ks_task *task, const ks_key *k, int64_t start,
                          int64_t end) {
  va_cperiod *c = p->api->keyed_get(task, p->cost_periods, k->buf, k->len, 1);
  if (c) {
    c->start_ms = start;
    c->end_ms = end;
  }
  return c;
}

/* One line (a cost of `kind`, or a budget when kind < 0) to apply. */
typedef struct va_apply {
  int kind;
  const char *center;
  const char *category;
  int64_t ps, pe; /* covered time */
  double delta;   /* amount to add (the difference to the line's last amount) */
  int is_new;     /* first time the line is seen: counts in n_cost/n_budget */
} va_apply;

static void add_share(va_cperiod *c, const va_apply *a, double share) {
  if (a->kind < 0) {
    c->budget += share;
    c->n_budget += a->is_new;
    c->flags |= CP_BUDGET;
    return;
  }
  if (a->kind == KPISTREAM__V1__COST_KIND__COST_FIXED) {
    c->fixed += share;
    c->n_fixed += a->is_new;
  } else if (a->kind == KPISTREAM__V1__COST_KIND__COST_VARIABLE) {
    c->variable += share;
    c->n_variable += a->is_new;
  } else
    c->other += share;
  c->n_cost += a->is_new;
  c->flags |= CP_COST;
}

static int apply(va_plugin *p, ks_task *task, const ks_event *ev, const va_apply *a) {
  const va_config *cfg = &p->cfg;
  const Kpistream__V1__Event *m = ev->msg;
  const char *tenant = ks_nz(m->tenant);
  va_scope sc[3];
  const int ns = va_scopes((int)m->channel, ks_nz(m->queue), sc);
  const double span = (double)(a->pe - a->ps);
  /* periods ending before this are emitted already: start past them */
  const int64_t past = ev->interval_start_ms - cfg->settle_ms - cfg->interval_ms;
  const int64_t first = va_period_start(cfg->cost_period, a->ps > past ? a->ps : past);
  int dropped = first > a->ps, n = 0;
  for (int64_t P = first; P < a->pe && n < VA_MAX_PERIODS; n++) {
    const int64_t Pe = va_period_next(cfg->cost_period, P);
    if (P > ev->time_ms + VA_LOOKAHEAD_MS) {
      dropped++; /* too far ahead */
      break;
    }
    if (ev->interval_start_ms >= va_due_end(cfg, Pe)) {
      dropped++; /* emitted already */
      P = Pe;
      continue;
    }
    const int64_t lo = a->ps > P ? a->ps : P, hi = a->pe < Pe ? a->pe : Pe;
    const double share = a->delta * (double)(hi - lo) / span;
    for (int s = 0; s < ns; s++) {
      ks_key k;
      if (cp_key(&k, tenant, sc[s].channel, sc[s].queue, CP_TOTAL, "", P)) {
        va_cperiod *c = cp_get(p, task, &k, P, Pe);
        if (c == NULL)
          return KS_ENOMEM;
        add_share(c, a, share);
      }
      if (a->kind >= 0 && a->category[0] &&
          cp_key(&k, tenant, sc[s].channel, sc[s].queue, CP_CATEGORY, a->category, P)) {
        va_cperiod *c = cp_get(p, task, &k, P, Pe);
        if (c == NULL)
          return KS_ENOMEM;
        add_share(c, a, share);
      }
      if (a->center[0] && cp_key(&k, tenant, sc[s].channel, sc[s].queue, CP_CENTER, a->center, P)) {
        va_cperiod *c = cp_get(p, task, &k, P, Pe);
        if (c == NULL)
          return KS_ENOMEM;
        add_share(c, a, share);
      }
    }
    P = Pe;
  }
  if (dropped)
    p->api->log(p->ctx, KS_LOG_DEBUG,
                "%s record at %lld: period(s) emitted already or too far ahead, dropped",
                a->kind < 0 ? "budget" : "cost", (long long)ev->time_ms);
  return 0;
}

/* The covered time of a record: [start, end); a record without both bounds
 * (or with end == start) covers the cost period holding its start (else its
 * end, else its event time). */
static void covered(const va_config *cfg, int64_t start, int64_t end, int64_t t, int64_t *ps,
                    int64_t *pe) {
  if (start != 0 && end > start) {
    *ps = start;
    *pe = end;
    return;
  }
  const int64_t at = start != 0 ? start : end != 0 ? end - 1 : t;
  *ps = va_period_start(cfg->cost_period, at);
  *pe = va_period_next(cfg->cost_period, *ps);
}

/* Record the line's amount; fill a->delta and a->is_new. Returns 0 to
 * apply, 1 to ignore (an older version of the line), or an error. */
static int line_update(va_plugin *p, ks_task *task, const ks_event *ev, va_apply *a,
                       double amount) {
  const Kpistream__V1__Event *m = ev->msg;
  const char kind = a->kind < 0 ? 'B' : (char)('0' + a->kind);
  ks_key k;
  ks_key_reset(&k);
  ks_key_add_str(&k, ks_nz(m->tenant));
  ks_key_add(&k, &(uint8_t){(uint8_t)m->channel}, 1);
  ks_key_add_str(&k, ks_nz(m->queue));
  ks_key_add(&k, &kind, 1);
  ks_key_add_str(&k, a->center);
  ks_key_add_str(&k, a->category);
  ks_key_add_i64(&k, a->ps);
  ks_key_add_i64(&k, a->pe);
  if (k.overflow)
    return 1;
  va_line *l = p->api->keyed_get(task, p->cost_lines, k.buf, k.len, 1);
  if (l == NULL)
    return KS_ENOMEM;
  if (l->seen && ev->time_ms < l->event_ms)
    return 1; /* an older version of a line replaced already */
  a->is_new = !l->seen;
  a->delta = l->seen ? amount - l->amount : amount;
  l->seen = 1;
  l->amount = amount;
  l->event_ms = ev->time_ms;
  return 0;
}

int va_on_cost(va_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__CostRecord *b = ev->msg->cost;
  if (b == NULL)
    return 0;
  va_apply a;
  memset(&a, 0, sizeof a);
  a.kind = (int)b->kind;
  a.center = ks_nz(b->cost_center);
  a.category = ks_nz(b->category);
  covered(&p->cfg, b->period_start_ms, b->period_end_ms, ev->time_ms, &a.ps, &a.pe);
  int rc = line_update(p, task, ev, &a, b->amount);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  return apply(p, task, ev, &a);
}

int va_on_budget(va_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__BudgetRecord *b = ev->msg->budget;
  if (b == NULL)
    return 0;
  va_apply a;
  memset(&a, 0, sizeof a);
  a.kind = -1;
  a.center = ks_nz(b->cost_center);
  a.category = "";
  covered(&p->cfg, b->period_start_ms, b->period_end_ms, ev->time_ms, &a.ps, &a.pe);
  int rc = line_update(p, task, ev, &a, b->amount);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  return apply(p, task, ev, &a);
}

int va_cost_handled(va_plugin *p, ks_task *task, const char *tenant, int channel, const char *queue,
                    int64_t t) {
  const va_config *cfg = &p->cfg;
  const int64_t P = va_period_start(cfg->cost_period, t);
  const int64_t Pe = va_period_next(cfg->cost_period, P);
  va_scope sc[3];
  const int ns = va_scopes(channel, queue, sc);
  for (int s = 0; s < ns; s++) {
    ks_key k;
    if (!cp_key(&k, tenant, sc[s].channel, sc[s].queue, CP_TOTAL, "", P))
      continue;
    va_cperiod *c = cp_get(p, task, &k, P, Pe);
    if (c == NULL)
      return KS_ENOMEM;
    c->handled++;
  }
  return 0;
}

/* ---- results ---------------------------------------------------------------------- */

static void emit_variance(va_emitter *e, const va_cperiod *c, double cost) {
  const int has_cost = (c->flags & CP_COST) != 0, has_budget = (c->flags & CP_BUDGET) != 0;
  if (has_budget)
    ks_emit_sum(&e->em, "budget", c->budget, c->n_budget, "currency");
  else
    ks_emit_null(&e->em, "budget", KS_AGG_SUM, "currency");
  if (has_cost && has_budget) {
    ks_emit_sum(&e->em, "budget_variance", cost - c->budget, ks_add_i64(c->n_cost, c->n_budget),
                "currency");
    ks_emit_ratio(&e->em, "budget_variance_ratio", cost - c->budget, c->budget,
                  ks_add_i64(c->n_cost, c->n_budget), "ratio");
  } else {
    ks_emit_null(&e->em, "budget_variance", KS_AGG_SUM, "currency");
    ks_emit_null(&e->em, "budget_variance_ratio", KS_AGG_RATIO, "ratio");
  }
}

static void emit_cost(va_emitter *e, const char *metric, int known, double v, int64_t n) {
  if (known)
    ks_emit_sum(&e->em, metric, v, n, "currency");
  else
    ks_emit_null(&e->em, metric, KS_AGG_SUM, "currency");
}

static int emit_cp(void *ud, const void *key, size_t keylen, void *record) {
  va_emitter *e = ud;
  va_cperiod *c = record;
  if ((c->flags & CP_EMITTED) || !(c->flags & (CP_COST | CP_BUDGET)) ||
      va_due_end(&e->p->cfg, c->end_ms) > e->iv_end)
    return 0;
  c->flags |= CP_EMITTED;
  char type[4];
  if (ks_emitter_dims(&e->em, key, keylen, 0) != 0 ||
      ks_key_part(key, keylen, 3, type, sizeof type) != 1 ||
      ks_key_part(key, keylen, 4, e->lvalue, sizeof e->lvalue) < 0)
    return 0;
  /* the scopes of va_scopes: (channel, queue), (channel, all), (all, all) */
  e->em.r.level = e->em.queue[0]         ? KS_LEVEL_QUEUE
                  : e->em.r.channel != 0 ? KS_LEVEL_CHANNEL
                                         : KS_LEVEL_TENANT;
  e->em.r.interval_start_ms = c->start_ms;
  e->em.r.interval_end_ms = c->end_ms;
  const int has_cost = (c->flags & CP_COST) != 0;
  const double cost = c->fixed + c->variable + c->other;
  switch (type[0]) {
  case CP_TOTAL:
    va_em_label(e, NULL, NULL);
    emit_cost(e, "operating_cost", has_cost, cost, c->n_cost);
    emit_cost(e, "fixed_cost", has_cost, c->fixed, c->n_fixed);
    emit_cost(e, "variable_cost", has_cost, c->variable, c->n_variable);
    emit_variance(e, c, cost);
    if (has_cost)
      ks_emit_ratio(&e->em, "cost_per_contact", cost, (double)c->handled, c->handled, "currency");
    else
      ks_emit_null(&e->em, "cost_per_contact", KS_AGG_RATIO, "currency");
    break;
  case CP_CATEGORY:
    va_em_label(e, "category", e->lvalue);
    emit_cost(e, "operating_cost", has_cost, cost, c->n_cost);
    break;
  case CP_CENTER:
    va_em_label(e, "cost_center", e->lvalue);
    emit_cost(e, "operating_cost", has_cost, cost, c->n_cost);
    emit_variance(e, c, cost);
    break;
  default:
    break;
  }
  va_em_label(e, NULL, NULL);
  return 0;
}

int va_emit_cost_periods(va_emitter *e) {
  return e->p->api->keyed_foreach(e->em.task, e->p->cost_periods, emit_cp, e);
}
