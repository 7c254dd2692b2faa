/*
 * scorecard plugin — peers: each agent's KPI values and composite as a
 * percentile rank within its peer group, each team's and queue's within its
 * tenant, and the group's median.
 *
 * Peer group: the agent's team (from its rows or remembered), else the one
 * queue its rows named (per_agent: queue in the producers), else its tenant.
 * Rank = 100 × (peers doing worse + ½ × peers doing equally) / (n − 1),
 * n = agents of the group with a value (so the best is 100, the worst 0,
 * the middle of three 50); no value when the agent is alone (n = 1).
 * "Worse" follows the KPI's direction; band KPIs compare their scores.
 */
#include <stdlib.h>
#include <string.h>

#include "scorecard_internal.h"

static const char *const gkind_name[SC_NSCOPES] = {"agent", "queue", "team", "tenant"};

static const char *gname(const sc_scored *s) {
  switch (s->gkind) {
  case SC_TEAM:
    return s->cell->team;
  case SC_QUEUE:
    return s->cell->aqueue;
  default:
    return "";
  }
}

static int gchannel(const sc_scored *s) {
  return s->gkind == SC_QUEUE ? s->cell->channel : 0;
}

static int same_group(const sc_scored *a, const sc_scored *b) {
  return a->gkind == b->gkind && gchannel(a) == gchannel(b) &&
         strcmp(a->cell->tenant, b->cell->tenant) == 0 && strcmp(gname(a), gname(b)) == 0;
}

static int by_group(const void *x, const void *y) {
  const sc_scored *a = x, *b = y;
  int d = strcmp(a->cell->tenant, b->cell->tenant);
  if (d)
    return d;
  if (a->gkind != b->gkind)
    return a->gkind < b->gkind ? -1 : 1;
  if (gchannel(a) != gchannel(b))
    return gchannel(a) < gchannel(b) ? -1 : 1;
  d = strcmp(gname(a), gname(b));
  if (d)
    return d;
  d = strcmp(a->cell->name, b->cell->name); /* members, for a stable output order */
  if (d)
    return d;
  return (a->cell->channel > b->cell->channel) - (a->cell->channel < b->cell->channel);
}

static int cmp_double(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Item i of a scorecard (i == n_items: the composite): has a value, the
 * value, and the value oriented so that larger is better. */
static int item_value(const sc_config *cfg, const sc_scored *a, int i, double *v, double *merit) {
  if (i == cfg->n_items) {
    *v = *merit = a->composite;
    return a->has_composite;
  }
  if (!(a->has & (1u << i)))
    return 0;
  const sc_kset *s = &cfg->kset[cfg->items[i].kpi];
  *v = a->v[i];
  *merit = s->dir == SC_HIGHER ? a->v[i] : s->dir == SC_LOWER ? -a->v[i] : a->score[i];
  return 1;
}

/* Ranks within one peer group g[0..n) and the group's median, per scorecard
 * KPI and for the composite. */
static void group(sc_close *c, sc_scored *g, size_t n, double *vals) {
  const sc_config *cfg = &c->p->cfg;
  for (int i = 0; i <= cfg->n_items; i++) {
    const int comp = i == cfg->n_items;
    const char *kname = comp ? "composite" : sc_catalog_get(cfg->items[i].kpi)->name;
    const char *unit = comp ? "score" : sc_catalog_get(cfg->items[i].kpi)->unit;
    size_t m = 0;
    double v, me, other;
    for (size_t a = 0; a < n; a++)
      if (item_value(cfg, &g[a], i, &v, &me))
        vals[m++] = v;
    if (m == 0)
      continue;
    for (size_t a = 0; a < n; a++) {
      if (!item_value(cfg, &g[a], i, &v, &me))
        continue;
      double worse = 0, equal = 0;
      for (size_t b = 0; b < n; b++) {
        if (b == a || !item_value(cfg, &g[b], i, &v, &other))
          continue;
        worse += other < me;
        equal += other == me;
      }
      const sc_cell *x = g[a].cell;
      sc_out o;
      sc_out_dims(&o, c, x->kind, x->tenant, x->channel, x->name, x->team);
      sc_out_kpi(&o, c, x->kind, kname);
      sc_out_label(&o, "peers", gkind_name[g[a].gkind]);
      sc_out_gauge(c, &o, "peer_rank", m > 1,
                   m > 1 ? 100.0 * (worse + 0.5 * equal) / (double)(m - 1) : 0, (int64_t)m,
                   "percentile");
    }
    qsort(vals, m, sizeof *vals, cmp_double);
    const double median = m % 2 ? vals[m / 2] : (vals[m / 2 - 1] + vals[m / 2]) / 2.0;
    sc_out o;
    sc_out_dims(&o, c, g[0].gkind, g[0].cell->tenant, gchannel(&g[0]), gname(&g[0]), NULL);
    sc_out_kpi(&o, c, g[0].gkind, kname);
    if (g[0].cell->kind != SC_AGENT) /* a ranking of teams or queues, not agents */
      sc_out_label(&o, "ranked", gkind_name[g[0].cell->kind]);
    sc_out_gauge(c, &o, "peer_median", 1, median, (int64_t)m, unit);
  }
}

/* Rank g[0..n) (sorted by group) group by group. */
static void rank_all(sc_close *c, sc_scored *g, size_t n) {
  qsort(g, n, sizeof *g, by_group);
  double *vals = c->p->api->alloc(n * sizeof *vals);
  if (vals == NULL) {
    c->failed = 1;
    return;
  }
  for (size_t a = 0; a < n;) {
    size_t b = a + 1;
    while (b < n && same_group(&g[a], &g[b]))
      b++;
    group(c, g + a, b - a, vals);
    a = b;
  }
  c->p->api->free(vals);
}

void sc_peers(sc_close *c, sc_scored *agents, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const sc_cell *cell = agents[i].cell;
    agents[i].gkind = cell->team[0] ? SC_TEAM : cell->aq == 1 ? SC_QUEUE : SC_TENANT;
  }
  rank_all(c, agents, n);
}

void sc_rank_groups(sc_close *c, sc_scored *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    s[i].gkind = SC_TENANT; /* teams and queues (all channels) of one tenant */
  rank_all(c, s, n);
}
