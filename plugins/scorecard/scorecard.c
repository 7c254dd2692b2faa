/*
 * scorecard — balanced scorecards over the other KPI families' results:
 * per scope (agent, queue, team, tenant) and interval, each KPI of the
 * scorecard scored 0..100 between its floor and its (possibly ramping)
 * target, a weighted composite over the KPIs that have a value, trends
 * against the previous interval and the same interval a week before and
 * moving averages, percentile ranks of agents within their team and of teams
 * and queues within their tenant, day, week and month scorecards rolled up
 * from the intervals' numerators and denominators, a minimum sample per
 * KPI, and threshold alerts that fire once when a condition starts and once
 * when it clears (to kpi.alerts).
 *
 * This file: lifecycle and on_result, which files every result of interest
 * under the scopes it feeds. Scoring: scorecard_close.c, scorecard_eval.c,
 * scorecard_peers.c, scorecard_period.c. Model and options: docs/scorecards.md.
 *
 * Which rows feed which scope (a result whose labels are anything but its
 * KPI's `category` and `team` is not read, e.g. per-reason or per-action
 * rows):
 *   agent_id set                 -> agent scope (summed over its channels)
 *   team (field or label), no agent -> team scope, direct
 *   queue set                    -> queue scope (tenant, channel, queue), and
 *                                   the tenant's queue roll-up
 *   channel set, no queue        -> the tenant's queue roll-up
 *   nothing                      -> tenant scope, direct
 * Agent rows are rolled up into their team and tenant when the interval
 * closes (scorecard_close.c). Results whose interval is the host interval go
 * to `cells`; longer ones (day, week, month) to `periods`.
 */
#include <string.h>

#include "scorecard_internal.h"

_Static_assert(sizeof(sc_acc) == 72, "sc_acc layout");
_Static_assert(sizeof(sc_cell) % 8 == 0, "sc_cell layout");
_Static_assert(sizeof(sc_hist) % 8 == 0, "sc_hist layout");

static const uint32_t sc_interests[] = {0}; /* no events: results only */

static void acc_add(sc_acc *a, int src, double num, double den, int64_t count) {
  a->num[src] += num;
  a->den[src] += den;
  a->count[src] = ks_add_i64(a->count[src], count);
}

/* The cell of a scope in interval `start` (created). */
static sc_cell *cell_get(sc_plugin *p, ks_task *task, int kind, const char *tenant, int channel,
                         const char *name, int64_t start) {
  ks_key k;
  if (!sc_scope_key(&k, kind, tenant, channel, name))
    return NULL;
  ks_key_add_i64(&k, start);
  if (k.overflow)
    return NULL;
  sc_cell *c = p->api->keyed_get(task, p->cells, k.buf, k.len, 1);
  if (c && !c->used) {
    c->used = 1;
    c->interval = start;
    c->kind = (uint8_t)kind;
    c->channel = (uint8_t)channel;
    sc_name_set(c->tenant, tenant);
    sc_name_set(c->name, name);
  }
  return c;
}

/* Add to the latest period record of (scope, kpi); older periods are
 * ignored, a newer one replaces. */
static void period_add(sc_plugin *p, ks_task *task, int kind, const char *tenant, int channel,
                       const char *name, int kpi, int src, const ks_result *r, double num,
                       double den) {
  ks_key k;
  uint8_t kb = (uint8_t)kpi;
  if (!sc_scope_key(&k, kind, tenant, channel, name))
    return;
  ks_key_add(&k, &kb, 1);
  if (k.overflow)
    return;
  sc_period *pr = p->api->keyed_get(task, p->periods, k.buf, k.len, 1);
  if (pr == NULL || r->interval_start_ms < pr->start)
    return;
  if (r->interval_start_ms > pr->start || pr->end == 0) {
    memset(pr, 0, sizeof *pr);
    pr->start = r->interval_start_ms;
    pr->end = r->interval_end_ms;
  }
  acc_add(&pr->acc, src, num, den, r->count);
}

/* The team of an agent: from the row, else remembered; learns it. */
static void agent_team(sc_plugin *p, ks_task *task, const char *tenant, const char *agent,
                       const char *row_team, char *out) {
  ks_key k;
  out[0] = '\0';
  ks_key_reset(&k);
  ks_key_add_str(&k, tenant);
  ks_key_add_str(&k, agent);
  if (k.overflow)
    return;
  sc_agent *a = p->api->keyed_get(task, p->agents, k.buf, k.len, row_team[0] != '\0');
  if (a == NULL)
    return;
  if (row_team[0] != '\0' && strcmp(a->team, row_team) != 0)
    sc_name_set(a->team, row_team);
  memcpy(out, a->team, SC_NAME);
}

static int sc_on_result(void *data, ks_task *task, const char *family, const ks_result *r) {
  sc_plugin *p = data;
  const char *category = NULL, *team_label = NULL;
  for (size_t i = 0; i < r->n_labels; i++) {
    const char *key = ks_nz(r->labels[i].key);
    if (strcmp(key, "category") == 0 && category == NULL)
      category = ks_nz(r->labels[i].value);
    else if (strcmp(key, "team") == 0 && team_label == NULL)
      team_label = ks_nz(r->labels[i].value);
    else
      return 0; /* per-reason, per-action, per-evaluator ... rows */
  }
  const char *tenant = r->tenant, *queue = ks_nz(r->queue), *agent = ks_nz(r->agent_id);
  const char *team = r->team && r->team[0] ? r->team : ks_nz(team_label);
  if (strlen(tenant) >= SC_NAME || strlen(queue) >= SC_NAME || strlen(agent) >= SC_NAME ||
      strlen(team) >= SC_NAME)
    return 0;
  /* Rows are selected by their level, never by which dimensions are empty:
   * a row with no queue and no channel may be unattributed feedback, not
   * the tenant's total. Channel rows (a roll-up of queue rows) and rows of
   * other levels are not read; unspecified (SDK 1.1 producers) neither. */
  const ks_level level = r->level;
  if (level == KS_LEVEL_AGENT   ? !agent[0]
      : level == KS_LEVEL_TEAM  ? !team[0]
      : level == KS_LEVEL_QUEUE ? !queue[0]
                                : level != KS_LEVEL_TENANT && level != KS_LEVEL_UNATTRIBUTED)
    return 0;
  /* any agent row naming a team teaches the agent's team (workforce,
   * quality), whatever its metric: other families' agent rows lack it */
  char t[SC_NAME] = "";
  if (level == KS_LEVEL_AGENT && team[0])
    agent_team(p, task, tenant, agent, team, t);

  const int kpi = sc_catalog_match(family, r->metric, category);
  if (kpi < 0 || !(p->cfg.track & (UINT64_C(1) << kpi)))
    return 0;
  const sc_kpi_def *d = sc_catalog_get(kpi);
  double num, den;
  if (r->aggregation == KS_AGG_RATIO) {
    num = r->numerator;
    den = r->denominator;
  } else {
    num = r->has_value ? r->value : 0.0;
    den = r->has_value ? 1.0 : 0.0;
  }
  if (d->pct && r->unit && strcmp(r->unit, "ratio") == 0)
    num *= 100.0; /* quality with score_scale 1 */
  const int channel = r->channel >= 0 && r->channel < 256 ? r->channel : 0;
  const int64_t len = r->interval_end_ms - r->interval_start_ms;
  const int interval_row = len == p->cfg.interval_ms;

  if (level == KS_LEVEL_AGENT) {
    if (!team[0] && !interval_row) /* periods roll up into the team now */
      agent_team(p, task, tenant, agent, "", t);
    if (!interval_row) {
      period_add(p, task, SC_AGENT, tenant, 0, agent, kpi, SC_SRC_DIRECT, r, num, den);
      if (t[0])
        period_add(p, task, SC_TEAM, tenant, 0, t, kpi, SC_SRC_AGENTS, r, num, den);
      period_add(p, task, SC_TENANT, tenant, 0, "", kpi, SC_SRC_AGENTS, r, num, den);
      return 0;
    }
    sc_cell *c = cell_get(p, task, SC_AGENT, tenant, 0, agent, r->interval_start_ms);
    if (c == NULL)
      return 0;
    acc_add(&c->acc[kpi], SC_SRC_DIRECT, num, den, r->count);
    if (team[0] && strcmp(c->team, team) != 0)
      sc_name_set(c->team, team);
    if (queue[0]) {
      if (c->aq == 0) {
        c->aq = 1;
        c->channel = (uint8_t)channel;
        sc_name_set(c->aqueue, queue);
      } else if (c->aq == 1 && (strcmp(c->aqueue, queue) != 0 || c->channel != channel))
        c->aq = 2;
    }
    return 0;
  }

  int kind = SC_TENANT, src = SC_SRC_DIRECT, ch = 0;
  const char *name = "";
  if (level == KS_LEVEL_TEAM) {
    kind = SC_TEAM;
    name = team;
  } else if (level == KS_LEVEL_QUEUE) {
    kind = SC_QUEUE;
    name = queue;
    ch = channel;
  } else if (level == KS_LEVEL_UNATTRIBUTED)
    src = SC_SRC_GROUPS; /* in no queue: part of the tenant's queue roll-up */

  if (!interval_row) {
    if (kind == SC_QUEUE)
      period_add(p, task, SC_QUEUE, tenant, ch, name, kpi, SC_SRC_DIRECT, r, num, den);
    period_add(p, task, kind == SC_TEAM ? SC_TEAM : SC_TENANT, tenant, 0,
               kind == SC_TEAM ? name : "", kpi, kind == SC_QUEUE ? SC_SRC_GROUPS : src, r, num,
               den);
    return 0;
  }
  if (kind == SC_QUEUE) {
    sc_cell *c = cell_get(p, task, SC_QUEUE, tenant, ch, name, r->interval_start_ms);
    if (c)
      acc_add(&c->acc[kpi], SC_SRC_DIRECT, num, den, r->count);
    kind = SC_TENANT;
    name = "";
    src = SC_SRC_GROUPS;
  }
  sc_cell *c = cell_get(p, task, kind, tenant, 0, name, r->interval_start_ms);
  if (c)
    acc_add(&c->acc[kpi], src, num, den, r->count);
  return 0;
}

static int sc_on_event(void *data, ks_task *task, const ks_event *ev) {
  (void)data;
  (void)task;
  (void)ev;
  return 0;
}

static int sc_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  return sc_on_close(data, task, iv);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int sc_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                   size_t errstr_size) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, config_get_choice))
    return KS_EABI;
  sc_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  p->api = api;
  p->ctx = ctx;
  if (sc_config_load(ctx, api, &p->cfg, errstr, errstr_size) != 0) {
    api->free(p);
    return KS_EINVAL;
  }
  const sc_config *cfg = &p->cfg;
  p->cells = api->table_declare(ctx, "cells", KS_TABLE_KEYED, sizeof(sc_cell), SC_STATE_VERSION,
                                SC_DAY_MS);
  p->periods = api->table_declare(ctx, "periods", KS_TABLE_KEYED, sizeof(sc_period),
                                  SC_STATE_VERSION, cfg->state_ttl_ms);
  p->rollups = api->table_declare(ctx, "rollups", KS_TABLE_KEYED, sizeof(sc_cell), SC_STATE_VERSION,
                                  40 * SC_DAY_MS);
  p->history = api->table_declare(ctx, "history", KS_TABLE_KEYED, sizeof(sc_hist), SC_STATE_VERSION,
                                  cfg->history_ttl_ms);
  p->phistory = api->table_declare(ctx, "phistory", KS_TABLE_KEYED, sizeof(sc_hist),
                                   SC_STATE_VERSION, cfg->period_ttl_ms);
  p->scopes = api->table_declare(ctx, "scopes", KS_TABLE_KEYED, sizeof(sc_state), SC_STATE_VERSION,
                                 cfg->state_ttl_ms);
  p->agents = api->table_declare(ctx, "agents", KS_TABLE_KEYED, sizeof(sc_agent), SC_STATE_VERSION,
                                 cfg->history_ttl_ms);
  if (!p->cells || !p->periods || !p->rollups || !p->history || !p->phistory || !p->scopes ||
      !p->agents) {
    api->log(ctx, KS_LOG_ERROR, "could not declare the state tables");
    api->free(p);
    return KS_EINVAL;
  }
  api->log(ctx, KS_LOG_DEBUG, "profile %s: %d KPIs, %d alert rules, scopes 0x%x", cfg->profile,
           cfg->n_items, cfg->n_rules, cfg->scopes);
  *plugin_data = p;
  return 0;
}

static void sc_destroy(void *data) {
  sc_plugin *p = data;
  if (p)
    p->api->free(p);
}

static const ks_plugin_descriptor sc_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = SC_PLUGIN_NAME,
    .version = SC_PLUGIN_VERSION,
    .description = "balanced scorecards over the other families' results: KPI scores, weighted "
                   "composites, ramped targets, trends, peer ranks and threshold alerts",
    .interests = sc_interests,
    .init_ex = sc_init,
    .on_event = sc_on_event,
    .on_interval_close = sc_on_interval_close,
    .destroy = sc_destroy,
    .option_map = sc_option_map /* scorecard_config.c */,
    /* closing moves trend, ramp and alert state: not restatable */
    .flags = 0,
    .on_result = sc_on_result,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &sc_descriptor;
}
