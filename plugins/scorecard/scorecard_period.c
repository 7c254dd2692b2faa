/*
 * scorecard plugin — day, week and month scorecards (option `periods`).
 *
 * Every interval close adds the per-KPI sums of each scope it scored (the
 * cells after the agents' roll-up: numerators, denominators and counts by
 * source, never the scores) to the scope's open record of each period kind
 * in the `rollups` table (keyed, so the sums survive checkpoints). When an
 * interval close reaches a period's end (or passes it: the close of the
 * first interval after a gap), the period's records are scored like one long
 * interval (sc_score_cells with the period's start and end) and removed. A
 * period's value of a KPI is therefore Σ numerators / Σ denominators of its
 * intervals, not a mean of the interval values.
 *
 * Periods are UTC: days from midnight, weeks from Monday 00:00 (ISO), months
 * from the 1st.
 */
#include <stdlib.h>
#include <string.h>

#include "kpistream/calendar.h"
#include "scorecard_internal.h"

const char *const sc_pkind_name[SC_NPKINDS] = {"interval", "day", "week", "month"};

int64_t sc_period_start(int kind, int64_t t, int64_t interval_ms) {
  switch (kind) {
  case SC_P_DAY:
    return ks_interval_floor(t, SC_DAY_MS);
  case SC_P_WEEK:
    return ks_week_start(t);
  case SC_P_MONTH:
    return ks_month_start(t, 0);
  default:
    return ks_interval_floor(t, interval_ms);
  }
}

int64_t sc_period_shift(int kind, int64_t start, int n, int64_t interval_ms) {
  switch (kind) {
  case SC_P_DAY:
    return start + (int64_t)n * SC_DAY_MS;
  case SC_P_WEEK:
    return start + (int64_t)n * 7 * SC_DAY_MS;
  case SC_P_MONTH:
    return ks_month_start(start, n);
  default:
    return start + (int64_t)n * interval_ms;
  }
}

/* ---- adding an interval ----------------------------------------------------------------- */

static void acc_sum(sc_acc *dst, const sc_acc *src) {
  for (int s = 0; s < SC_NSRC; s++) {
    dst->num[s] += src->num[s];
    dst->den[s] += src->den[s];
    dst->count[s] = ks_add_i64(dst->count[s], src->count[s]);
  }
}

int sc_periods_add(sc_close *c, const sc_cell *cells, size_t n) {
  sc_plugin *p = c->p;
  const sc_config *cfg = &p->cfg;
  for (size_t i = 0; i < n; i++) {
    const sc_cell *x = &cells[i];
    if (!(cfg->scopes & (1u << x->kind)))
      continue;
    for (int kind = SC_P_DAY; kind < SC_NPKINDS; kind++) {
      if (!(cfg->periods & (1u << kind)))
        continue;
      const int64_t start = sc_period_start(kind, c->start, cfg->interval_ms);
      ks_key k;
      uint8_t kb = (uint8_t)kind;
      if (!sc_scope_key(&k, x->kind, x->tenant, x->kind == SC_QUEUE ? x->channel : 0, x->name))
        continue;
      ks_key_add(&k, &kb, 1);
      ks_key_add_i64(&k, start);
      if (k.overflow)
        continue;
      sc_cell *r = p->api->keyed_get(c->task, p->rollups, k.buf, k.len, 1);
      if (r == NULL)
        return KS_ENOMEM;
      if (!r->used) {
        r->used = 1;
        r->interval = start;
        r->period = (uint8_t)kind;
        r->kind = x->kind;
        r->channel = x->kind == SC_QUEUE ? x->channel : 0;
        memcpy(r->tenant, x->tenant, SC_NAME);
        memcpy(r->name, x->name, SC_NAME);
      }
      if (x->team[0]) /* the agent's latest team */
        memcpy(r->team, x->team, SC_NAME);
      if (x->kind == SC_AGENT && x->aq) { /* the one queue of all its intervals, if one */
        if (r->aq == 0) {
          r->aq = x->aq;
          r->channel = x->channel;
          memcpy(r->aqueue, x->aqueue, SC_NAME);
        } else if (r->aq == 1 &&
                   (x->aq == 2 || r->channel != x->channel || strcmp(r->aqueue, x->aqueue) != 0))
          r->aq = 2;
      }
      for (int kpi = 0; kpi < SC_NCAT; kpi++)
        if (cfg->track & (UINT64_C(1) << kpi))
          acc_sum(&r->acc[kpi], &x->acc[kpi]);
    }
  }
  return 0;
}

/* ---- closing the periods that ended --------------------------------------------------------- */

typedef struct due {
  sc_plugin *p;
  int64_t upto;
  sc_cell *cells;
  ks_key *keys;
  size_t n, cap;
} due;

static int64_t rec_end(const sc_plugin *p, const sc_cell *r) {
  return sc_period_shift(r->period, r->interval, 1, p->cfg.interval_ms);
}

static int count_due(void *ud, const void *key, size_t keylen, void *record) {
  (void)key;
  (void)keylen;
  due *d = ud;
  d->cap += rec_end(d->p, record) <= d->upto;
  return 0;
}

static int gather_due(void *ud, const void *key, size_t keylen, void *record) {
  due *d = ud;
  const sc_cell *r = record;
  if (rec_end(d->p, r) > d->upto || d->n == d->cap || keylen > sizeof d->keys->buf)
    return 0;
  d->cells[d->n] = *r;
  ks_key *k = &d->keys[d->n++];
  k->len = (uint8_t)keylen;
  k->overflow = 0;
  memcpy(k->buf, key, keylen);
  return 0;
}

static int by_period(const void *x, const void *y) {
  const sc_cell *a = x, *b = y;
  if (a->period != b->period)
    return a->period < b->period ? -1 : 1;
  return a->interval < b->interval ? -1 : a->interval > b->interval;
}

int sc_periods_close(sc_plugin *p, ks_task *task, int64_t upto) {
  const ks_host_api *api = p->api;
  due d = {.p = p, .upto = upto};
  api->keyed_foreach(task, p->rollups, count_due, &d);
  if (d.cap == 0)
    return 0;
  d.cells = api->alloc(d.cap * sizeof *d.cells);
  d.keys = api->alloc(d.cap * sizeof *d.keys);
  if (d.cells == NULL || d.keys == NULL) {
    api->free(d.cells);
    api->free(d.keys);
    return KS_ENOMEM;
  }
  api->keyed_foreach(task, p->rollups, gather_due, &d);
  for (size_t i = 0; i < d.n; i++)
    api->keyed_remove(task, p->rollups, d.keys[i].buf, d.keys[i].len);
  api->free(d.keys);
  /* one scoring pass per period (kind, start), oldest first */
  qsort(d.cells, d.n, sizeof *d.cells, by_period);
  int rc = 0;
  for (size_t a = 0; a < d.n && rc == 0;) {
    size_t b = a + 1;
    while (b < d.n && by_period(&d.cells[a], &d.cells[b]) == 0)
      b++;
    sc_close c = {.p = p,
                  .task = task,
                  .start = d.cells[a].interval,
                  .end = rec_end(p, &d.cells[a]),
                  .period = d.cells[a].period};
    rc = sc_score_cells(&c, d.cells + a, b - a);
    a = b;
  }
  api->free(d.cells);
  return rc;
}
