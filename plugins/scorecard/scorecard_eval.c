/*
 * scorecard plugin — scoring one scope for one interval: the KPI values
 * (interval rows, else the latest period carried forward), the ramped
 * targets, scores, composite, trend, the results, and the alert rules.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scorecard_internal.h"

/* ---- results ------------------------------------------------------------------------ */

void sc_out_dims(sc_out *o, const sc_close *c, int kind, const char *tenant, int channel,
                 const char *name, const char *team) {
  const ks_result init = KS_RESULT_INIT;
  o->r = init;
  o->r.interval_start_ms = c->start;
  o->r.interval_end_ms = c->end;
  snprintf(o->tenant, SC_NAME, "%s", tenant);
  o->queue[0] = o->agent[0] = o->team[0] = '\0';
  if (kind == SC_QUEUE)
    snprintf(o->queue, SC_NAME, "%s", name);
  if (kind == SC_AGENT)
    snprintf(o->agent, SC_NAME, "%s", name);
  if (kind == SC_TEAM)
    snprintf(o->team, SC_NAME, "%s", name);
  else if (kind == SC_AGENT && team)
    snprintf(o->team, SC_NAME, "%s", team);
  o->r.tenant = o->tenant;
  o->r.channel = kind == SC_QUEUE ? channel : 0;
  o->r.queue = o->queue;
  o->r.agent_id = o->agent;
  o->r.team = o->team;
  static const ks_level scope_level[SC_NSCOPES] = {KS_LEVEL_AGENT, KS_LEVEL_QUEUE, KS_LEVEL_TEAM,
                                                   KS_LEVEL_TENANT};
  o->r.level = kind >= 0 && kind < SC_NSCOPES ? scope_level[kind] : KS_LEVEL_UNSPECIFIED;
  o->r.labels = o->labels;
  o->r.n_labels = 0;
  if (kind == SC_TEAM)
    sc_out_label(o, "team", o->team);
  if (c->period != SC_P_INTERVAL)
    sc_out_label(o, "period", sc_pkind_name[c->period]);
}

void sc_out_kpi(sc_out *o, const sc_close *c, int kind, const char *kpi) {
  o->r.n_labels = 0;
  sc_out_label(o, "kpi", kpi);
  if (kind == SC_TEAM)
    sc_out_label(o, "team", o->team);
  if (c->period != SC_P_INTERVAL)
    sc_out_label(o, "period", sc_pkind_name[c->period]);
}

void sc_out_label(sc_out *o, const char *key, const char *value) {
  if (o->r.n_labels < sizeof o->labels / sizeof o->labels[0]) {
    o->labels[o->r.n_labels].key = key;
    o->labels[o->r.n_labels].value = value;
    o->r.n_labels++;
  }
}

static void put(sc_close *c, sc_out *o, const char *metric, const char *unit) {
  o->r.metric = metric;
  o->r.unit = unit;
  if (c->p->api->emit(c->p->ctx, c->task, &o->r) != 0)
    c->failed = 1;
}

void sc_out_gauge(sc_close *c, sc_out *o, const char *metric, int has, double v, int64_t count,
                  const char *unit) {
  ks_result_set_value(&o->r, KS_AGG_GAUGE, has, v, count);
  put(c, o, metric, unit);
}

void sc_out_ratio(sc_close *c, sc_out *o, const char *metric, double num, double den, int64_t count,
                  const char *unit) {
  ks_result_set_ratio(&o->r, num, den, count);
  put(c, o, metric, unit);
}

/* ---- values ------------------------------------------------------------------------- */

static int from_acc(const sc_acc *a, sc_kval *out) {
  for (int s = 0; s < SC_NSRC; s++)
    if (a->den[s] > 0.0) { /* a negative sum (corrections) has no value either */
      out->has = 1;
      out->num = a->num[s];
      out->den = a->den[s];
      out->count = a->count[s];
      out->v = out->num / out->den;
      return 1;
    }
  return 0;
}

/* The scope's value of KPI k: this interval's rows, else the latest period
 * that ended by the interval's end and at most its own length + 1 day ago. */
static void kval_get(sc_close *c, const sc_cell *cell, const ks_key *scope, int k, sc_kval *out) {
  memset(out, 0, sizeof *out);
  if (from_acc(&cell->acc[k], out))
    return;
  ks_key key = *scope;
  uint8_t kb = (uint8_t)k;
  ks_key_add(&key, &kb, 1);
  if (key.overflow)
    return;
  const sc_period *pr = c->p->api->keyed_get(c->task, c->p->periods, key.buf, key.len, 0);
  if (pr && pr->end <= c->end && c->end - pr->end <= (pr->end - pr->start) + SC_DAY_MS)
    from_acc(&pr->acc, out);
}

double sc_score(const sc_kset *s, double target, double v, double *att) {
  double a;
  if (s->dir != SC_BAND)
    a = (v - s->floor) / (target - s->floor);
  else if (v < s->target)
    a = (v - s->floor) / (s->target - s->floor);
  else if (v > s->target_hi)
    a = (s->floor_hi - v) / (s->floor_hi - s->target_hi);
  else
    a = 1.0;
  *att = a;
  return 100.0 * (a < 0.0 ? 0.0 : a > 1.0 ? 1.0 : a);
}

/* ---- trend -------------------------------------------------------------------------- */

/* History key: the scope, [the period kind,] the start. */
static ks_table *hist_key(const sc_close *c, const ks_key *scope, int64_t start, ks_key *key) {
  *key = *scope;
  if (c->period != SC_P_INTERVAL) {
    uint8_t kb = (uint8_t)c->period;
    ks_key_add(key, &kb, 1);
  }
  ks_key_add_i64(key, start);
  return c->period != SC_P_INTERVAL ? c->p->phistory : c->p->history;
}

static const sc_hist *hist_at(sc_close *c, const ks_key *scope, int64_t start) {
  ks_key key;
  ks_table *t = hist_key(c, scope, start, &key);
  if (key.overflow)
    return NULL;
  const sc_hist *h = c->p->api->keyed_get(c->task, t, key.buf, key.len, 0);
  return h && h->fp == c->p->cfg.fp ? h : NULL;
}

/* The start of the interval or period `n` before c's. */
static int64_t back(const sc_close *c, int n) {
  return sc_period_shift(c->period, c->start, -n, c->p->cfg.interval_ms);
}

/* Moving average: the mean of v and the values of the moving_avg − 1
 * previous intervals (periods) that had one; item < 0: the composite. */
static void emit_moving(sc_close *c, sc_out *o, const char *metric, const ks_key *scope, double v,
                        int item, const char *unit) {
  const uint32_t bit = item < 0 ? SC_HIST_COMPOSITE : 1u << item;
  double sum = v;
  int64_t n = 1;
  for (int j = 1; j < c->p->cfg.moving_avg; j++) {
    const sc_hist *h = hist_at(c, scope, back(c, j));
    if (h && (h->present & bit)) {
      sum += item < 0 ? h->composite : h->value[item];
      n++;
    }
  }
  sc_out_ratio(c, o, metric, sum, (double)n, n, unit);
}

/* The change against a reference (known or not): the difference (SUM, a
 * difference adds up over scopes) and the difference over |reference|. */
static void emit_change(sc_close *c, sc_out *o, const char *base, double v, int known, double ref,
                        const char *unit) {
  char m[48];
  snprintf(m, sizeof m, "%s", base);
  ks_result_set_value(&o->r, KS_AGG_SUM, known, v - ref, known);
  put(c, o, m, unit);
  snprintf(m, sizeof m, "%s_ratio", base);
  sc_out_ratio(c, o, m, known ? v - ref : 0.0, known ? fabs(ref) : 0.0, known, "ratio");
}

static void emit_trend(sc_close *c, sc_out *o, const char *prefix, double v, const sc_hist *prev,
                       const sc_hist *week, uint32_t bit, double pv, double wv, const char *unit) {
  char m[40];
  snprintf(m, sizeof m, "%s_change_prev", prefix);
  emit_change(c, o, m, v, prev && (prev->present & bit), pv, unit);
  if (c->period != SC_P_INTERVAL)
    return; /* a period's trend is period over period */
  snprintf(m, sizeof m, "%s_change_week", prefix);
  emit_change(c, o, m, v, week && (week->present & bit), wv, unit);
}

/* ---- alerts ------------------------------------------------------------------------- */

static void run_alerts(sc_close *c, const sc_cell *cell, const char *team, sc_state *st,
                       const sc_kval *vals, const double *item_target) {
  const sc_config *cfg = &c->p->cfg;
  for (int i = 0; i < cfg->n_rules; i++) {
    const sc_rule *r = &cfg->rules[i];
    const sc_kval *kv = &vals[r->kpi];
    if (!kv->has || kv->under)
      continue; /* no value, or too small a sample: the state holds */
    double th = r->threshold;
    if (r->ref != SC_REF_NUMBER) {
      th = r->ref == SC_REF_FLOOR ? cfg->kset[r->kpi].floor : cfg->kset[r->kpi].target;
      for (int j = 0; j < cfg->n_items && r->ref == SC_REF_TARGET; j++)
        if (cfg->items[j].kpi == r->kpi)
          th = item_target[j];
    }
    const double v = kv->v;
    const int cond = r->op == '<'   ? v < th
                     : r->op == '>' ? v > th
                     : r->op == 'l' ? v <= th
                                    : v >= th;
    const int on = (st->alert_on >> i & 1u) && st->rule_fp[i] == r->fp;
    if (cond == on)
      continue;
    if (cond) {
      st->alert_on |= 1u << i;
      st->rule_fp[i] = r->fp;
    } else
      st->alert_on &= ~(1u << i);
    sc_out o;
    sc_out_dims(&o, c, cell->kind, cell->tenant, cell->channel, cell->name, team);
    sc_out_kpi(&o, c, cell->kind, sc_catalog_get(r->kpi)->name);
    sc_out_label(&o, "rule", r->text);
    sc_out_label(&o, "state", cond ? "fire" : "clear");
    o.r.metric = "alert";
    o.r.unit = sc_catalog_get(r->kpi)->unit;
    ks_result_set_value(&o.r, KS_AGG_GAUGE, 1, v, kv->count);
    o.r.numerator = kv->num; /* the alert carries the KPI's own sums */
    o.r.denominator = kv->den;
    if (c->p->api->emit_to(c->p->ctx, c->task, "alerts", &o.r) != 0)
      c->failed = 1;
  }
}

/* ---- one scope ---------------------------------------------------------------------- */

static void missing_list(const sc_config *cfg, uint32_t has, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; i < cfg->n_items; i++) {
    if (has & (1u << i))
      continue;
    const char *name = sc_catalog_get(cfg->items[i].kpi)->name;
    size_t len = strlen(name) + (n ? 1 : 0);
    if (n + len + 4 >= cap) { /* keep room for "..." */
      snprintf(buf + n, cap - n, "%s...", n ? "," : "");
      return;
    }
    snprintf(buf + n, cap - n, "%s%s", n ? "," : "", name);
    n += len;
  }
}

void sc_eval_cell(sc_close *c, const sc_cell *cell, sc_scored *out) {
  const sc_config *cfg = &c->p->cfg;
  const int card = (cfg->scopes >> cell->kind) & 1u;
  const int alerts =
      c->period == SC_P_INTERVAL && cfg->n_rules > 0 && ((cfg->alert_scopes >> cell->kind) & 1u);
  ks_key scope;
  /* the channel is part of a queue's scope only: an agent cell's channel is
   * that of the one queue its rows named (peers), not part of its scope,
   * under which on_result files its day/week/month values */
  if (!sc_scope_key(&scope, cell->kind, cell->tenant, cell->kind == SC_QUEUE ? cell->channel : 0,
                    cell->name))
    return;
  const char *team = cell->kind == SC_AGENT ? cell->team : NULL;

  sc_kval vals[SC_NCAT];
  for (int k = 0; k < sc_catalog_count(); k++) {
    if (cfg->track & (UINT64_C(1) << k))
      kval_get(c, cell, &scope, k, &vals[k]);
    else
      vals[k].has = 0;
    vals[k].under = vals[k].has && vals[k].count < cfg->kset[k].min_n;
  }

  /* ramp day and alert state */
  const int64_t day0 = c->start - c->start % SC_DAY_MS;
  sc_state *st = NULL;
  if (alerts || (card && cfg->any_ramp && cfg->ramp_start_ms < 0)) {
    st = c->p->api->keyed_get(c->task, c->p->scopes, scope.buf, scope.len, 1);
    if (st && st->first_day_ms == 0)
      st->first_day_ms = day0;
  }
  int64_t ramp_day = 0;
  if (cfg->ramp_start_ms >= 0)
    ramp_day = (day0 - cfg->ramp_start_ms) / SC_DAY_MS;
  else if (st)
    ramp_day = (day0 - st->first_day_ms) / SC_DAY_MS;

  double target[SC_MAX_KPIS], att[SC_MAX_KPIS], wsum = 0, wscore = 0;
  uint32_t has = 0;
  int n_has = 0;
  for (int i = 0; i < cfg->n_items; i++) {
    const int k = cfg->items[i].kpi;
    target[i] = sc_target_at(&cfg->kset[k], ramp_day);
    if (!vals[k].has || vals[k].under)
      continue;
    has |= 1u << i;
    n_has++;
    out->v[i] = vals[k].v;
    out->score[i] = sc_score(&cfg->kset[k], target[i], vals[k].v, &att[i]);
    wsum += cfg->items[i].weight;
    wscore += cfg->items[i].weight * out->score[i];
  }
  out->has = has;
  out->has_composite = wsum > 0;
  out->composite = wsum > 0 ? wscore / wsum : 0.0;

  if (card) {
    const sc_hist *prev = NULL, *week = NULL;
    if (cfg->trend) {
      prev = hist_at(c, &scope, back(c, 1));
      if (c->period == SC_P_INTERVAL)
        week = hist_at(c, &scope, c->start - 7 * SC_DAY_MS);
    }
    sc_out o;
    char missing[256];
    sc_out_dims(&o, c, cell->kind, cell->tenant, cell->channel, cell->name, team);
    const size_t base = o.r.n_labels;
    missing_list(cfg, has, missing, sizeof missing);
    if (missing[0])
      sc_out_label(&o, "missing", missing);
    sc_out_ratio(c, &o, "composite", wscore, wsum, n_has, "score");
    o.r.n_labels = base;
    if (cfg->trend && wsum > 0) {
      emit_trend(c, &o, "composite", wscore / wsum, prev, week, SC_HIST_COMPOSITE,
                 prev ? prev->composite : 0, week ? week->composite : 0, "score");
      if (cfg->moving_avg > 1)
        emit_moving(c, &o, "composite_moving_avg", &scope, wscore / wsum, -1, "score");
    }

    for (int i = 0; i < cfg->n_items; i++) {
      const int k = cfg->items[i].kpi;
      const sc_kpi_def *d = sc_catalog_get(k);
      const sc_kset *s = &cfg->kset[k];
      const sc_kval *kv = &vals[k];
      if (!(has & (1u << i))) {
        if (kv->has) { /* under min_sample: the value, no score (listed in missing) */
          sc_out_kpi(&o, c, cell->kind, d->name);
          sc_out_ratio(c, &o, "kpi_value", kv->num, kv->den, kv->count, d->unit);
        }
        continue;
      }
      sc_out_kpi(&o, c, cell->kind, d->name);
      const double wshare = cfg->items[i].weight / wsum * 100.0;
      sc_out_ratio(c, &o, "kpi_value", kv->num, kv->den, kv->count, d->unit);
      sc_out_gauge(c, &o, "kpi_score", 1, out->score[i], kv->count, "score");
      sc_out_gauge(c, &o, "kpi_contribution", 1, wshare * out->score[i] / 100.0, kv->count,
                   "score");
      if (!cfg->full)
        continue;
      sc_out_gauge(c, &o, "kpi_target", 1, target[i], 0, d->unit);
      sc_out_gauge(c, &o, "kpi_floor", 1, s->floor, 0, d->unit);
      if (s->dir == SC_BAND) {
        sc_out_gauge(c, &o, "kpi_target_high", 1, s->target_hi, 0, d->unit);
        sc_out_gauge(c, &o, "kpi_floor_high", 1, s->floor_hi, 0, d->unit);
      }
      sc_out_gauge(c, &o, "kpi_attainment", 1, att[i], kv->count, "ratio");
      sc_out_gauge(c, &o, "kpi_weight", 1, wshare, 0, "%");
      if (cfg->trend) {
        emit_trend(c, &o, "kpi", kv->v, prev, week, 1u << i, prev ? prev->value[i] : 0,
                   week ? week->value[i] : 0, d->unit);
        if (cfg->moving_avg > 1)
          emit_moving(c, &o, "kpi_moving_avg", &scope, kv->v, i, d->unit);
      }
    }

    if (cfg->trend) {
      ks_key key;
      ks_table *t = hist_key(c, &scope, c->start, &key);
      sc_hist *h = key.overflow ? NULL : c->p->api->keyed_get(c->task, t, key.buf, key.len, 1);
      if (h) {
        memset(h, 0, sizeof *h);
        h->fp = cfg->fp;
        h->present = has | (wsum > 0 ? SC_HIST_COMPOSITE : 0);
        for (int i = 0; i < cfg->n_items; i++)
          h->value[i] = (has & (1u << i)) ? out->v[i] : 0.0;
        h->composite = wsum > 0 ? wscore / wsum : 0.0;
      }
    }
  }

  /* st is still valid: records never move, and none was removed since */
  if (alerts && st)
    run_alerts(c, cell, team, st, vals, target);
}
