/*
 * scorecard plugin — interval close: gather the interval's cells (and drop
 * them, with any left behind by restated results of closed intervals), roll
 * agent rows up into their team and tenant, score every scope, rank the
 * agents within their peer groups and teams and queues within their tenant,
 * add the interval to its day, week and month, and score the periods that
 * ended (scorecard_period.c).
 *
 * The cells are copied into one scratch array allocated for the call (the
 * host's keyed_foreach may not add or remove records, and roll-ups create
 * team and tenant cells that had no row of their own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorecard_internal.h"

typedef struct gather {
  sc_close *c;
  sc_cell *cells;
  size_t n, cap;
  ks_key *dead;
  size_t n_dead, cap_dead;
} gather;

static int count_cb(void *ud, const void *key, size_t keylen, void *record) {
  (void)key;
  (void)keylen;
  (void)record;
  (*(size_t *)ud)++;
  return 0;
}

static int gather_cb(void *ud, const void *key, size_t keylen, void *record) {
  gather *g = ud;
  const sc_cell *cell = record;
  if (cell->interval > g->c->start)
    return 0; /* not expected: a later interval's cell */
  if (g->n_dead < g->cap_dead && keylen <= sizeof g->dead->buf) {
    ks_key *k = &g->dead[g->n_dead++];
    k->len = (uint8_t)keylen;
    k->overflow = 0;
    memcpy(k->buf, key, keylen);
  }
  if (cell->interval == g->c->start && cell->used && g->n < g->cap)
    g->cells[g->n++] = *cell;
  return 0;
}

/* The scratch cell of a team or tenant scope, appended (zeroed) when absent; NULL when full. */
static sc_cell *scratch_cell(gather *g, int kind, const char *tenant, const char *name) {
  for (size_t i = 0; i < g->n; i++) {
    sc_cell *x = &g->cells[i];
    if (x->kind == kind && strcmp(x->tenant, tenant) == 0 && strcmp(x->name, name) == 0)
      return x;
  }
  if (g->n == g->cap)
    return NULL;
  sc_cell *x = &g->cells[g->n++];
  memset(x, 0, sizeof *x);
  x->used = 1;
  x->interval = g->c->start;
  x->kind = (uint8_t)kind;
  sc_name_set(x->tenant, tenant);
  sc_name_set(x->name, name);
  return x;
}

static void acc_roll(sc_acc *dst, const sc_acc *src) {
  dst->num[SC_SRC_AGENTS] += src->num[SC_SRC_DIRECT];
  dst->den[SC_SRC_AGENTS] += src->den[SC_SRC_DIRECT];
  dst->count[SC_SRC_AGENTS] = ks_add_i64(dst->count[SC_SRC_AGENTS], src->count[SC_SRC_DIRECT]);
}

/* Resolve each agent's team (its rows, else the remembered one) and add its
 * KPIs to the team's and the tenant's agent roll-up. */
static void roll_up_agents(gather *g) {
  sc_plugin *p = g->c->p;
  const uint32_t wanted = p->cfg.scopes | p->cfg.alert_scopes;
  const size_t n_rows = g->n;
  for (size_t i = 0; i < n_rows; i++) {
    if (g->cells[i].kind != SC_AGENT)
      continue;
    if (g->cells[i].team[0] == '\0') {
      ks_key k;
      ks_key_reset(&k);
      ks_key_add_str(&k, g->cells[i].tenant);
      ks_key_add_str(&k, g->cells[i].name);
      const sc_agent *a =
          k.overflow ? NULL : p->api->keyed_get(g->c->task, p->agents, k.buf, k.len, 0);
      if (a)
        memcpy(g->cells[i].team, a->team, SC_NAME);
    }
    for (int kind = SC_TEAM; kind <= SC_TENANT; kind++) {
      if (!(wanted & (1u << kind)))
        continue;
      const char *name = kind == SC_TEAM ? g->cells[i].team : "";
      if (kind == SC_TEAM && name[0] == '\0')
        continue;
      char tenant[SC_NAME], nm[SC_NAME]; /* copies: scratch_cell may write g->cells */
      memcpy(tenant, g->cells[i].tenant, SC_NAME);
      snprintf(nm, sizeof nm, "%s", name);
      sc_cell *dst = scratch_cell(g, kind, tenant, nm);
      if (dst == NULL)
        continue;
      for (int k = 0; k < SC_NCAT; k++)
        if (p->cfg.track & (UINT64_C(1) << k))
          acc_roll(&dst->acc[k], &g->cells[i].acc[k]);
    }
  }
}

static int by_kind(const void *x, const void *y) {
  const sc_scored *a = x, *b = y;
  return (a->cell->kind > b->cell->kind) - (a->cell->kind < b->cell->kind);
}

int sc_score_cells(sc_close *c, sc_cell *cells, size_t n) {
  const sc_config *cfg = &c->p->cfg;
  const uint32_t wanted = cfg->scopes | (c->period == SC_P_INTERVAL ? cfg->alert_scopes : 0);
  sc_scored *scored = c->p->api->alloc((n ? n : 1) * sizeof *scored);
  if (scored == NULL)
    return KS_ENOMEM;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(wanted & (1u << cells[i].kind)))
      continue;
    sc_scored *s = &scored[m];
    memset(s, 0, sizeof *s);
    s->cell = &cells[i];
    sc_eval_cell(c, &cells[i], s);
    if (cfg->scopes & (1u << cells[i].kind)) /* alert-only scopes are not ranked */
      m++;
  }
  if (cfg->peers && m > 0) {
    qsort(scored, m, sizeof *scored, by_kind);
    for (size_t a = 0; a < m;) {
      size_t b = a + 1;
      while (b < m && scored[b].cell->kind == scored[a].cell->kind)
        b++;
      if (scored[a].cell->kind == SC_AGENT)
        sc_peers(c, scored + a, b - a);
      else if (scored[a].cell->kind == SC_TEAM || scored[a].cell->kind == SC_QUEUE)
        sc_rank_groups(c, scored + a, b - a);
      a = b;
    }
  }
  c->p->api->free(scored);
  return c->failed ? KS_EPLUGIN : 0;
}

int sc_on_close(sc_plugin *p, ks_task *task, const ks_interval *iv) {
  const ks_host_api *api = p->api;
  sc_close c = {.p = p, .task = task, .start = iv->start_ms, .end = iv->end_ms};
  size_t n = 0;
  int rc = 0;
  api->keyed_foreach(task, p->cells, count_cb, &n);
  if (n > 0) {
    gather g = {.c = &c};
    g.cap = 3 * n + 1; /* + a team and the tenant per agent cell */
    g.cap_dead = n;
    g.cells = api->alloc(g.cap * sizeof *g.cells);
    g.dead = api->alloc(g.cap_dead * sizeof *g.dead);
    if (g.cells == NULL || g.dead == NULL) {
      api->free(g.cells);
      api->free(g.dead);
      return KS_ENOMEM;
    }
    api->keyed_foreach(task, p->cells, gather_cb, &g);
    for (size_t i = 0; i < g.n_dead; i++)
      api->keyed_remove(task, p->cells, g.dead[i].buf, g.dead[i].len);
    roll_up_agents(&g);
    rc = sc_score_cells(&c, g.cells, g.n);
    /* the interval's sums join its day, week and month (after scoring: the
     * peers pass reorders nothing in g.cells) */
    const int rc2 = p->cfg.periods ? sc_periods_add(&c, g.cells, g.n) : 0;
    if (rc == 0)
      rc = rc2;
    api->free(g.cells);
    api->free(g.dead);
  }
  /* every period that ended by this interval's end, also after a gap */
  const int rc3 = p->cfg.periods ? sc_periods_close(p, task, iv->end_ms) : 0;
  return rc ? rc : rc3;
}
