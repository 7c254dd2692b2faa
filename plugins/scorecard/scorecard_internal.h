/*
 * scorecard plugin — internal declarations shared by its files. Not part of
 * the SDK. The model, formulas and options are documented in
 * docs/scorecards.md.
 *
 * The scorecard reads no events: it reads the results the other KPI plugins
 * of its task emit (on_result), keeps what it needs in host tables and, when
 * an interval closes (after every producer has closed it), scores each scope.
 *
 * State layout (all host-owned, fixed-size, pointer-free records):
 *
 *   cells    KEYED (scope, interval start), TTL 1 day: per-KPI sums of the
 *            interval-long results of one scope, by source (direct row,
 *            queue rows rolled up, agent rows rolled up). Removed when the
 *            interval closes. (Keyed, not windowed: during a producer's
 *            close the host refuses window_get for the closing interval.)
 *   periods  KEYED (scope, KPI), TTL state_ttl: the latest day/week/month
 *            result of a KPI (results whose interval is longer than the
 *            host interval, e.g. proficiency, cost_per_contact).
 *   rollups  KEYED (scope, period kind, period start), TTL 40 days: the
 *            per-KPI sums (sc_cell) of the scope's intervals scored so far
 *            in a day, week or month of the `periods` option; scored and
 *            removed when an interval close reaches the period's end.
 *   history  KEYED (scope, interval start), TTL history_ttl: the values and
 *            composite scored for the interval (trend, moving average).
 *   phistory KEYED (scope, period kind, period start), TTL period_ttl: the
 *            same for day, week and month scorecards.
 *   scopes   KEYED (scope), TTL state_ttl: first day scored (ramps) and the
 *            alert rules in force.
 *   agents   KEYED (tenant, agent), TTL history_ttl: the agent's last team.
 */
#ifndef KS_SCORECARD_INTERNAL_H
#define KS_SCORECARD_INTERNAL_H

#include "kpistream/plugin.h"

#define SC_PLUGIN_NAME    "scorecard"
#define SC_PLUGIN_VERSION "1.0.0"

/* Bump when a record layout or the catalogue order changes. */
#define SC_STATE_VERSION 2 /* 2: SC_NCAT 48, sc_cell.period, rollups */

#define SC_NAME      48 /* stored tenant/queue/team/agent names (47 bytes + NUL) */
#define SC_NCAT      48 /* catalogue entries, at most (track is 64 bits) */
#define SC_MAX_KPIS  16 /* KPIs of one scorecard */
#define SC_MAX_RULES 8  /* alert rules */
#define SC_RULE_TEXT 64
#define SC_DAY_MS    INT64_C(86400000)

/* ---- scopes and sources ------------------------------------------------------ */

typedef enum sc_scope { SC_AGENT = 0, SC_QUEUE, SC_TEAM, SC_TENANT, SC_NSCOPES } sc_scope;

/* Where a scope's value of a KPI came from, in order of preference. */
typedef enum sc_src {
  SC_SRC_DIRECT = 0, /* a result at exactly this scope */
  SC_SRC_GROUPS,     /* tenant: queue (and channel) rows summed */
  SC_SRC_AGENTS,     /* team, tenant: agent rows summed */
  SC_NSRC
} sc_src;

typedef enum sc_dir { SC_HIGHER = 0, SC_LOWER, SC_BAND } sc_dir;

/* What a scorecard covers: one host interval, or a period rolled up from
 * the intervals (the `periods` option). */
typedef enum sc_pkind { SC_P_INTERVAL = 0, SC_P_DAY, SC_P_WEEK, SC_P_MONTH, SC_NPKINDS } sc_pkind;

/* ---- catalogue and profiles (scorecard_catalog.c) ------------------------------ */

typedef struct sc_kpi_def {
  const char *name;     /* KPI name used in options and the `kpi` label */
  const char *family;   /* producing plugin */
  const char *metric;   /* its metric */
  const char *category; /* required `category` label value, or NULL */
  const char *unit;     /* unit of kpi_value, kpi_target, kpi_floor */
  sc_dir dir;
  double target, floor;       /* band: the low ends */
  double target_hi, floor_hi; /* band only */
  int pct;                    /* source may be 0..1 ("ratio" unit): scale to 0..100 */
  int min_n;                  /* default minimum sample (count) before it is scored; 0 = 1 */
} sc_kpi_def;

typedef struct sc_profile_item {
  const char *kpi;
  double weight;
  int has_tf; /* target/floor below override the catalogue's */
  double target, floor, target_hi, floor_hi;
} sc_profile_item;

typedef struct sc_profile {
  const char *name;
  sc_profile_item items[SC_MAX_KPIS];
} sc_profile;

int sc_catalog_count(void);
const sc_kpi_def *sc_catalog_get(int id);
int sc_catalog_find(const char *name); /* id or -1 */
/* The KPI a result feeds: family, metric and its `category` label (NULL
 * when absent). -1 when none. */
int sc_catalog_match(const char *family, const char *metric, const char *category);
const sc_profile *sc_profile_find(const char *name);
const sc_profile *sc_profile_at(int i); /* NULL past the end */

/* ---- configuration (scorecard_config.c) ---------------------------------------- */

typedef struct sc_kset { /* effective settings of one catalogue KPI */
  sc_dir dir;
  double target, floor, target_hi, floor_hi;
  double ramp_from; /* with ramp_days > 0 */
  int ramp_days;
  int64_t min_n; /* a value from fewer than min_n (its count) is not scored */
} sc_kset;

typedef struct sc_item {
  int kpi;
  double weight; /* % of the composite, the items sum to 100 */
} sc_item;

typedef enum sc_ref { SC_REF_NUMBER = 0, SC_REF_TARGET, SC_REF_FLOOR } sc_ref;

typedef struct sc_rule {
  int kpi;
  int op; /* '<', '>', 'l' (<=), 'g' (>=) */
  sc_ref ref;
  double threshold; /* SC_REF_NUMBER */
  uint32_t fp;      /* hash of the text: state of a changed rule is not reused */
  char text[SC_RULE_TEXT];
} sc_rule;

typedef struct sc_config {
  char profile[32];
  sc_kset kset[SC_NCAT];
  sc_item items[SC_MAX_KPIS];
  int n_items;
  sc_rule rules[SC_MAX_RULES];
  int n_rules;
  uint32_t scopes;       /* 1u << sc_scope */
  uint32_t alert_scopes; /* 1u << sc_scope */
  int peers;
  int trend;
  uint32_t periods;      /* 1u << sc_pkind: day, week, month scorecards */
  int moving_avg;        /* values averaged by *_moving_avg (this one included); < 2: off */
  int64_t period_ttl_ms; /* phistory */
  int full;              /* detail: full (1) or compact (0) */
  int64_t ramp_start_ms; /* < 0: each scope's first day */
  int64_t history_ttl_ms;
  int64_t state_ttl_ms;
  int64_t interval_ms;
  uint64_t track; /* catalogue ids read from the results */
  uint32_t fp;    /* hash of the item list (history records) */
  int any_ramp;
} sc_config;

/* Every option the plugin accepts (the descriptor's option_map). */
extern const ks_option sc_option_map[];
/* Read and validate every option; KS_EINVAL with the first bad value in
 * errstr (or logged by the host's reader). */
int sc_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, sc_config *cfg, char *errstr,
                   size_t errstr_size);

/* Target in force `day` days into the ramp (no ramp: the target). */
double sc_target_at(const sc_kset *s, int64_t day);

/* ---- plugin ---------------------------------------------------------------------- */

typedef struct sc_plugin {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  sc_config cfg;
  ks_table *cells;
  ks_table *periods;
  ks_table *rollups;
  ks_table *history;
  ks_table *phistory;
  ks_table *scopes;
  ks_table *agents;
} sc_plugin;

/* ---- state records ----------------------------------------------------------------- */

typedef struct sc_acc {
  double num[SC_NSRC];
  double den[SC_NSRC];
  int64_t count[SC_NSRC];
} sc_acc;

typedef struct sc_cell {
  int64_t interval; /* start of the interval */
  uint8_t used;
  uint8_t kind;    /* sc_scope */
  uint8_t channel; /* queue scope; agents: channel of aqueue */
  uint8_t aq;      /* agents: 0 no queue named, 1 one queue (aqueue), 2 several */
  uint8_t period;  /* sc_pkind: rollups; SC_P_INTERVAL in cells */
  uint8_t pad[3];
  char tenant[SC_NAME];
  char name[SC_NAME];   /* queue, team or agent ("" for the tenant) */
  char team[SC_NAME];   /* agents: the team its rows named */
  char aqueue[SC_NAME]; /* agents: the one queue its rows named */
  sc_acc acc[SC_NCAT];
} sc_cell;

typedef struct sc_period {
  int64_t start, end; /* the period of the results in acc */
  sc_acc acc;
} sc_period;

#define SC_HIST_COMPOSITE (1u << 31)
typedef struct sc_hist {
  uint32_t fp;      /* sc_config.fp when written */
  uint32_t present; /* bit i: value[i]; SC_HIST_COMPOSITE: composite */
  double value[SC_MAX_KPIS];
  double composite;
} sc_hist;

typedef struct sc_state {
  int64_t first_day_ms; /* 0: not yet scored */
  uint32_t alert_on;    /* bit i: rule i firing */
  uint32_t pad;
  uint32_t rule_fp[SC_MAX_RULES];
} sc_state;

typedef struct sc_agent {
  char team[SC_NAME];
} sc_agent;

/* Scope key: kind, tenant, channel, name. */
static inline int sc_scope_key(ks_key *k, int kind, const char *tenant, int channel,
                               const char *name) {
  uint8_t kb = (uint8_t)kind, ch = (uint8_t)channel;
  ks_key_reset(k);
  ks_key_add(k, &kb, 1);
  ks_key_add_str(k, tenant);
  ks_key_add(k, &ch, 1);
  ks_key_add_str(k, name);
  return !k->overflow;
}

/* Copy a name into a fixed buffer; 0 when it does not fit. */
static inline int sc_name_set(char *dst, const char *src) {
  size_t n = strlen(src);
  if (n >= SC_NAME)
    return 0;
  memcpy(dst, src, n + 1);
  return 1;
}

/* ---- interval close (scorecard_close.c, scorecard_eval.c, scorecard_peers.c) -------- */

/* The value of one KPI at one scope. */
typedef struct sc_kval {
  int has;
  int under; /* has, but from fewer than min_sample: shown, not scored */
  double num, den, v;
  int64_t count;
} sc_kval;

/* What was scored for one scope, kept for the peer pass. */
typedef struct sc_scored {
  const sc_cell *cell;
  uint32_t has; /* bit i: item i has a value */
  double v[SC_MAX_KPIS];
  double score[SC_MAX_KPIS];
  double composite;
  int has_composite;
  uint8_t gkind; /* peer group: SC_TEAM, SC_QUEUE or SC_TENANT */
} sc_scored;

typedef struct sc_close {
  sc_plugin *p;
  ks_task *task;
  int64_t start, end;
  int period; /* sc_pkind */
  int failed;
} sc_close;

int sc_on_close(sc_plugin *p, ks_task *task, const ks_interval *iv);
/* Score every scope of cells[0..n) (c's interval or period): results,
 * alerts (intervals only), peer ranks. cells is reordered. */
int sc_score_cells(sc_close *c, sc_cell *cells, size_t n);

/* ---- periods (scorecard_period.c) ----------------------------------------------------- */

extern const char *const sc_pkind_name[SC_NPKINDS]; /* "interval", "day", "week", "month" */
/* Start of the period of `kind` holding t (UTC; weeks start on Monday), and
 * the start `n` periods after start (n < 0: before); SC_P_INTERVAL uses
 * interval_ms. */
int64_t sc_period_start(int kind, int64_t t, int64_t interval_ms);
int64_t sc_period_shift(int kind, int64_t start, int n, int64_t interval_ms);
/* Add the interval's scored cells to their open periods, then score and
 * remove every period that ended by `upto`. */
int sc_periods_add(sc_close *c, const sc_cell *cells, size_t n);
int sc_periods_close(sc_plugin *p, ks_task *task, int64_t upto);
/* Score one scope: emit its results and alerts, fill *out. */
void sc_eval_cell(sc_close *c, const sc_cell *cell, sc_scored *out);
/* Peer ranks and medians over the scored agents (sorted in place). */
void sc_peers(sc_close *c, sc_scored *agents, size_t n);
/* Rank teams (or queues) within their tenant, composite included. */
void sc_rank_groups(sc_close *c, sc_scored *s, size_t n);

/* Result helpers (scorecard_eval.c). */
typedef struct sc_out {
  ks_result r;
  ks_label labels[5];
  char tenant[SC_NAME], queue[SC_NAME], agent[SC_NAME], team[SC_NAME];
} sc_out;

void sc_out_dims(sc_out *o, const sc_close *c, int kind, const char *tenant, int channel,
                 const char *name, const char *team);
void sc_out_label(sc_out *o, const char *key, const char *value);
/* Reset the labels to: kpi, team (team scope), period (period scorecards). */
void sc_out_kpi(sc_out *o, const sc_close *c, int kind, const char *kpi);
void sc_out_gauge(sc_close *c, sc_out *o, const char *metric, int has, double v, int64_t count,
                  const char *unit);
void sc_out_ratio(sc_close *c, sc_out *o, const char *metric, double num, double den, int64_t count,
                  const char *unit);

/* Score 0..100 of value v against the KPI's settings with this target
 * (band: the settings' own band); *att gets the unclamped attainment. */
double sc_score(const sc_kset *s, double target, double v, double *att);

/* A stored name holds any identifier the host passes (plugin.h, KS_ID_MAX). */
_Static_assert(SC_NAME >= KS_ID_MAX + 1, "SC_NAME must hold KS_ID_MAX bytes");

#endif
