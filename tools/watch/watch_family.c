/*
 * watch_family — see watch_family.h. Everything allocated here is
 * freed before each call returns; the results are borrowed.
 */
#include "watch_family.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAMILY_MAX_COLUMNS 10
#define ROLLUP_MIN_MS      (INT64_C(60) * 60 * 1000) /* intervals are at most an hour */
#define TEXT_MAX           64

/* ---- the families ------------------------------------------------------------ */

static const char *const experience_metrics[] = {
    "csat", "csat_mean", "nps", "ces_mean", "net_sentiment", "complaint_rate", NULL};
static const char *const workforce_metrics[] = {
    "occupancy", "utilization", "adherence", "conformance", "shrinkage", "absenteeism", NULL};
static const char *const workforce_rollup[] = {
    "proficiency", "proficiency_aht_index", "proficiency_fcr_index", "proficiency_qa_index",
    "attrition",   "attrition_annualised",  "separations",           "hires",
    NULL};
static const char *const quality_metrics[] = {"evaluations", "evaluation_score", "auto_fail_rate",
                                              "compliance_rate", NULL};
static const char *const value_metrics[] = {"conversions",
                                            "conversion_rate",
                                            "registration_rate",
                                            "attributed_revenue",
                                            "nba_offered",
                                            "nba_acceptance_rate",
                                            NULL};
static const char *const value_rollup[] = {"operating_cost",
                                           "budget",
                                           "budget_variance_ratio",
                                           "cost_per_contact",
                                           "customers_end",
                                           "new_customers",
                                           "retention_rate",
                                           "orders",
                                           "revenue",
                                           "clv",
                                           NULL};
static const char *const forecast_metrics[] = {
    "offered",         "forecast_offered", "offered_wape", "traffic_erlangs",
    "required_agents", "logged_in_agents", "staffing_gap", NULL};
static const char *const forecast_rollup[] = {"day_offered_wape",
                                              "day_offered_bias",
                                              "day_aht_wape",
                                              "day_peak_offered",
                                              "day_peak_traffic_erlangs",
                                              "day_peak_interval_start",
                                              NULL};
static const char *const scorecard_metrics[] = {"composite", "kpi_score", NULL};
/* The scorecard's KPI names (plugins/scorecard/scorecard_catalog.c), service
 * level first as in its profiles. */
static const char *const scorecard_kpis[] = {"service_level",
                                             "asa",
                                             "aht",
                                             "abandonment_rate",
                                             "fcr",
                                             "transfer_rate",
                                             "escalation_rate",
                                             "first_response_time",
                                             "resolution_time",
                                             "csat",
                                             "nps",
                                             "ces",
                                             "sentiment",
                                             "complaint_rate",
                                             "qa_score",
                                             "service_attitude",
                                             "communication_skill",
                                             "brand_representation",
                                             "product_knowledge",
                                             "process_compliance",
                                             "compliance_rate",
                                             "occupancy",
                                             "utilization",
                                             "adherence",
                                             "shrinkage",
                                             "proficiency",
                                             "cost_per_contact",
                                             "conversion_rate",
                                             "registration_rate",
                                             "nba_acceptance_rate",
                                             "forecast_wape",
                                             NULL};

static const char *const team_rows[] = {"team", NULL};
static const char *const quality_rows[] = {"team", "evaluator", NULL};
static const char *const value_rows[] = {"segment", NULL};
static const char *const scorecard_ignored[] = {"missing", NULL};

static const ks_watch_family families[] = {
    {.name = "experience", .metrics = experience_metrics},
    {.name = "workforce",
     .metrics = workforce_metrics,
     .rollup_metrics = workforce_rollup,
     .row_labels = team_rows},
    {.name = "quality", .metrics = quality_metrics, .row_labels = quality_rows},
    {.name = "value",
     .metrics = value_metrics,
     .rollup_metrics = value_rollup,
     .row_labels = value_rows},
    {.name = "forecast", .metrics = forecast_metrics, .rollup_metrics = forecast_rollup},
    {.name = "scorecard",
     .metrics = scorecard_metrics,
     .row_labels = team_rows,
     .ignored_labels = scorecard_ignored,
     .pivot_metric = "kpi_score",
     .pivot_label = "kpi",
     .pivot_order = scorecard_kpis},
};

static const char *const family_order[] = {"operations", "experience", "workforce", "quality",
                                           "value",      "forecast",   "scorecard"};

const ks_watch_family *ks_watch_family_find(const char *name) {
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (strcmp(families[i].name, name) == 0)
      return &families[i];
  return NULL;
}

int ks_watch_is_rollup(const Kpistream__V1__MetricResult *r) {
  return r->interval_end_ms - r->interval_start_ms > ROLLUP_MIN_MS;
}

static size_t family_rank(const char *name) {
  size_t n = sizeof family_order / sizeof family_order[0];
  for (size_t i = 0; i < n; i++)
    if (strcmp(family_order[i], name) == 0)
      return i;
  return n;
}

static int family_cmp(const void *pa, const void *pb) {
  const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
  size_t ra = family_rank(a), rb = family_rank(b);
  if (ra != rb)
    return ra < rb ? -1 : 1;
  return strcmp(a, b);
}

/* ---- one group ----------------------------------------------------------------- */

static ks_watch_table_opts family_opts(const ks_watch_group_opts *g, const char *family,
                                       int rollup) {
  ks_watch_table_opts o = {
      .metrics = g->metrics,
      .n_metrics = g->n_metrics,
      .all_metrics = g->all_metrics,
      .show_agents = g->show_agents,
      /* named metrics: every result of them, labels in a column */
      .family = g->n_metrics || g->all_metrics ? NULL : ks_watch_family_find(family),
      .rollup = rollup,
      .only_present = 1,
      .max_columns = FAMILY_MAX_COLUMNS,
      .no_heading = 1,
  };
  return o;
}

/*
 * One family's table, its columns cut to fit `width` display columns: the
 * last (lowest-priority) default column is dropped, then the next, until
 * every line fits or one metric column is left. Rendered into memory first.
 * Returns the rows, or -1 when out of memory.
 */
static int render_fitted(FILE *out, const Kpistream__V1__MetricResult *const *rs, size_t n,
                         ks_watch_table_opts o, size_t width) {
  for (size_t cap = o.max_columns;; cap--) {
    o.max_columns = cap;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
      return -1;
    int rows = ks_watch_table_render(mem, rs, n, &o);
    if (fclose(mem) != 0 || rows < 0) {
      free(buf);
      return -1;
    }
    if (cap <= 1 || ks_watch_text_max_width(buf, len) <= width) {
      fwrite(buf, 1, len, out);
      free(buf);
      return rows;
    }
    free(buf);
  }
}

/* The results of one family, in arrival order, into sub; returns how many. */
static size_t pick(const Kpistream__V1__MetricResult **sub,
                   const Kpistream__V1__MetricResult *const *results, size_t n,
                   const char *family) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(results[i]->family, family) == 0)
      sub[m++] = results[i];
  return m;
}

int ks_watch_group_render(FILE *out, const Kpistream__V1__MetricResult *const *results, size_t n,
                          const ks_watch_group_opts *opts) {
  if (n == 0)
    return 0;
  const char **fams = malloc(n * sizeof *fams);
  const Kpistream__V1__MetricResult **sub = malloc(n * sizeof *sub);
  int *rows = calloc(n, sizeof *rows);
  int rc = -1, total = 0;
  size_t nf = 0;
  if (!fams || !sub || !rows)
    goto out;
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < nf && strcmp(fams[k], results[i]->family) != 0)
      k++;
    if (k == nf)
      fams[nf++] = results[i]->family;
  }
  qsort(fams, nf, sizeof *fams, family_cmp);

  if (nf == 1 && !opts->family_titles && !ks_watch_family_find(fams[0])) {
    ks_watch_table_opts o = {
        .metrics = opts->metrics,
        .n_metrics = opts->n_metrics,
        .all_metrics = opts->all_metrics,
        .show_agents = opts->show_agents,
        .note = opts->note,
    };
    rc = ks_watch_table_render(out, results, n, &o); /* the plain table */
    goto out;
  }

  const int rollup = ks_watch_is_rollup(results[0]);
  for (size_t k = 0; k < nf; k++) { /* count first: families without rows are left out */
    ks_watch_table_opts o = family_opts(opts, fams[k], rollup);
    rows[k] = ks_watch_table_render(NULL, sub, pick(sub, results, n, fams[k]), &o);
    if (rows[k] < 0)
      goto out;
    total += rows[k];
  }
  if (total == 0 && rollup) {
    rc = 0;
    goto out;
  }
  if (!opts->no_heading)
    ks_watch_heading(out, results[0], opts->note);
  if (total == 0)
    fprintf(out, "  (no rows)\n\n");
  for (size_t k = 0; k < nf; k++) {
    if (rows[k] == 0)
      continue;
    if (opts->family_titles || nf > 1) {
      char name[TEXT_MAX];
      ks_watch_safe_text(name, sizeof name, fams[k][0] ? fams[k] : "(no family)");
      fprintf(out, "── %s\n", name);
    }
    ks_watch_table_opts o = family_opts(opts, fams[k], rollup);
    size_t m = pick(sub, results, n, fams[k]);
    if ((opts->width > 0 ? render_fitted(out, sub, m, o, (size_t)opts->width)
                         : ks_watch_table_render(out, sub, m, &o)) < 0)
      goto out;
  }
  rc = total;

out:
  free(rows);
  free(sub);
  free(fams);
  return rc;
}

/* ---- alerts -------------------------------------------------------------------- */

int ks_watch_is_alert(const char *topic, const Kpistream__V1__MetricResult *r) {
  if (topic) {
    const char *dot = strrchr(topic, '.');
    if (strcmp(dot ? dot + 1 : topic, "alerts") == 0)
      return 1;
  }
  return strcmp(r->metric, "alert") == 0;
}

/* value formatted as a result of metric `metric` in r's unit */
static void format_as(const Kpistream__V1__MetricResult *r, const char *metric, int has, double v,
                      char *buf, size_t size) {
  Kpistream__V1__MetricResult x = *r;
  x.metric = (char *)metric;
  x.result_case = has ? KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE
                      : KPISTREAM__V1__METRIC_RESULT__RESULT__NOT_SET;
  x.value = v;
  ks_watch_format_value(&x, buf, size);
}

/* "voice/support", "team=digital", "agent=a1", "voice agent=a1", "tenant" */
static void scope_text(const Kpistream__V1__MetricResult *r, char *buf, size_t size) {
  char ch[TEXT_MAX], name[TEXT_MAX];
  size_t o = 0;
  buf[0] = '\0';
  if (r->channel != 0 || r->queue[0]) {
    ks_watch_channel_text(ch, sizeof ch, (int)r->channel);
    ks_watch_safe_text(name, sizeof name, r->queue);
    o += (size_t)snprintf(buf + o, size - o, r->queue[0] ? "%s/%s" : "%s", ch, name);
  }
  const char *team = ks_watch_label(r, "team");
  if (!team && r->team[0])
    team = r->team;
  if (r->agent_id[0]) {
    ks_watch_safe_text(name, sizeof name, r->agent_id);
    o += (size_t)snprintf(buf + o, size - o, "%sagent=%s", o ? " " : "", name);
  } else if (team) {
    ks_watch_safe_text(name, sizeof name, team);
    o += (size_t)snprintf(buf + o, size - o, "%steam=%s", o ? " " : "", name);
  }
  if (o == 0)
    snprintf(buf, size, "tenant");
}

/* " < 80.0%" from rule "service_level<0.8" (a clear: the opposite, " >= 80.0%"). */
static void rule_text(const Kpistream__V1__MetricResult *r, const char *kpi, int cleared, char *buf,
                      size_t size) {
  const char *rule = ks_watch_label(r, "rule");
  buf[0] = '\0';
  const char *p = rule ? strpbrk(rule, "<>") : NULL;
  if (!p) {
    if (rule) {
      char t[TEXT_MAX];
      ks_watch_safe_text(t, sizeof t, rule);
      snprintf(buf, size, " (rule %s)", t);
    }
    return;
  }
  int lt = *p == '<', eq = p[1] == '=';
  const char *th = p + 1 + eq;
  if (cleared) { /* not (< x) is (>= x) */
    lt = !lt;
    eq = !eq;
  }
  char val[TEXT_MAX];
  char *end = NULL;
  double v = strtod(th, &end);
  if (*th && end && *end == '\0')
    format_as(r, kpi, 1, v, val, sizeof val);
  else
    ks_watch_safe_text(val, sizeof val, th); /* "target", "floor" */
  snprintf(buf, size, " %s%s %s", lt ? "<" : ">", eq ? "=" : "", val);
}

static void when_text(const Kpistream__V1__MetricResult *r, char *buf, size_t size) {
  time_t s = (time_t)(r->interval_start_ms / 1000), e = (time_t)(r->interval_end_ms / 1000);
  struct tm ts, te;
  gmtime_r(&s, &ts);
  gmtime_r(&e, &te);
  if (r->interval_end_ms - r->interval_start_ms <= ROLLUP_MIN_MS)
    snprintf(buf, size, "%02d:%02d–%02d:%02d", ts.tm_hour, ts.tm_min, te.tm_hour, te.tm_min);
  else
    snprintf(buf, size, "%04d-%02d-%02d–%04d-%02d-%02d", ts.tm_year + 1900, ts.tm_mon + 1,
             ts.tm_mday, te.tm_year + 1900, te.tm_mon + 1, te.tm_mday);
}

void ks_watch_alert_print(FILE *out, const Kpistream__V1__MetricResult *r) {
  static const char *const shown[] = {"kpi", "team", "rule", "state"};
  const char *state = ks_watch_label(r, "state");
  const char *kpi = ks_watch_label(r, "kpi");
  if (!kpi)
    kpi = r->metric;
  int fired = state && strcmp(state, "fire") == 0;
  int cleared = state && strcmp(state, "clear") == 0;
  char st[TEXT_MAX], tenant[TEXT_MAX], scope[3 * TEXT_MAX], name[TEXT_MAX], val[TEXT_MAX];
  char rule[2 * TEXT_MAX], when[TEXT_MAX];
  ks_watch_safe_text(st, sizeof st, fired ? "fired" : cleared ? "cleared" : state ? state : "");
  ks_watch_safe_text(tenant, sizeof tenant, r->tenant[0] ? r->tenant : "(no tenant)");
  scope_text(r, scope, sizeof scope);
  ks_watch_safe_text(name, sizeof name, kpi);
  format_as(r, kpi, r->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE, r->value, val,
            sizeof val);
  rule_text(r, kpi, cleared, rule, sizeof rule);
  when_text(r, when, sizeof when);
  fprintf(out, "ALERT %-7s %s %s %s %s%s  %s", st, tenant, scope, name, val, rule, when);
  int first = 1;
  for (size_t i = 0; i < r->n_labels; i++) {
    int known = 0;
    for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++)
      known |= strcmp(r->labels[i]->key, shown[k]) == 0;
    if (known)
      continue;
    char k[TEXT_MAX], v[TEXT_MAX];
    ks_watch_safe_text(k, sizeof k, r->labels[i]->key);
    ks_watch_safe_text(v, sizeof v, r->labels[i]->value);
    fprintf(out, "%s%s=%s", first ? "  " : ",", k, v);
    first = 0;
  }
  fputc('\n', out);
}
