/*
 * watch_format — how `kpistream watch` writes one value and one column
 * heading (declared in watch_table.h): units to "93.1%", "12.3s", "42",
 * short headings for the metrics of every family. Pure functions.
 */
#include "watch_table.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const ks_watch_default_metrics[] = {
    "offered",       "answered", "abandoned", "abandonment_rate", "asa", "longest_wait",
    "service_level", "aht",      "fcr",       "transfer_rate",
};
const size_t ks_watch_n_default_metrics =
    sizeof ks_watch_default_metrics / sizeof ks_watch_default_metrics[0];

static const struct {
  const char *metric;
  const char *heading;
} headings[] = {
    /* operations */
    {"abandonment_rate", "aband%"},
    {"short_abandoned", "short ab"},
    {"asa", "ASA"},
    {"longest_wait", "max wait"},
    {"service_level", "SL"},
    {"aht", "AHT"},
    {"avg_talk", "talk"},
    {"avg_hold", "hold"},
    {"avg_acw", "ACW"},
    {"fcr", "FCR"},
    {"transfer_rate", "xfer%"},
    {"escalation_rate", "esc%"},
    {"first_response_time", "1st resp"},
    {"traffic_erlangs", "Erlangs"},
    {"resolution_time", "resolution"},
    /* experience */
    {"csat_mean", "csat mean"}, /* csat stays "csat" */
    {"nps", "NPS"},
    {"ces_mean", "CES"},
    {"net_sentiment", "net sent."},
    {"sentiment_avg", "sentiment"},
    {"complaint_rate", "compl%"},
    /* workforce */
    {"occupancy", "occup."},
    {"utilization", "util."},
    {"adherence", "adher."},
    {"conformance", "conform."},
    {"shrinkage", "shrink."},
    {"absenteeism", "absent."},
    {"proficiency", "profic."},
    {"proficiency_aht_index", "AHT idx"},
    {"proficiency_fcr_index", "FCR idx"},
    {"proficiency_qa_index", "QA idx"},
    {"attrition_annualised", "annualised"},
    /* quality */
    {"evaluations", "evals"},
    {"evaluation_score", "QA score"},
    {"auto_fail_rate", "auto-fail"},
    {"compliance_rate", "compliance"},
    /* value */
    {"conversion_rate", "conv%"},
    {"registration_rate", "reg%"},
    {"attributed_revenue", "revenue"},
    {"nba_offered", "NBA offers"},
    {"nba_acceptance_rate", "NBA acc%"},
    {"operating_cost", "cost"},
    {"budget_variance_ratio", "vs budget"},
    {"cost_per_contact", "cost/contact"},
    {"customers_end", "customers"},
    {"new_customers", "new cust."},
    {"retention_rate", "retention"},
    {"clv", "CLV"},
    /* forecast */
    {"forecast_offered", "forecast"},
    {"offered_wape", "WAPE"},
    {"required_agents", "required"},
    {"logged_in_agents", "logged in"},
    {"staffing_gap", "gap"},
    {"day_offered_wape", "WAPE"},
    {"day_offered_bias", "bias"},
    {"day_aht_wape", "AHT WAPE"},
    {"day_peak_offered", "peak"},
    {"day_peak_traffic_erlangs", "peak Erl."},
    {"day_peak_interval_start", "peak at"},
    /* scorecard: the composite and KPI names (pivot columns) */
    {"composite", "score"},
    {"qa_score", "QA"},
    {"ces", "CES"},
    {"forecast_wape", "fc WAPE"},
    {"service_attitude", "attitude"},
    {"communication_skill", "communic."},
    {"brand_representation", "brand"},
    {"product_knowledge", "product"},
    {"process_compliance", "process"},
};

const char *ks_watch_metric_heading(const char *metric) {
  for (size_t i = 0; i < sizeof headings / sizeof headings[0]; i++)
    if (strcmp(headings[i].metric, metric) == 0)
      return headings[i].heading;
  return metric;
}

/* ---- value formatting ------------------------------------------------------ */

enum value_kind {
  KIND_PERCENT_OF_RATIO,
  KIND_PERCENT,
  KIND_SECONDS,
  KIND_MILLIS,
  KIND_COUNT,
  KIND_DECIMAL,
  KIND_SCORE,
  KIND_CURRENCY,
  KIND_HOURS,
  KIND_CLOCK,
  KIND_AUTO
};

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcasecmp(s, *list) == 0)
      return 1;
  return 0;
}

static enum value_kind kind_of(const Kpistream__V1__MetricResult *r) {
  static const char *const ratio_units[] = {"ratio", "fraction", NULL};
  static const char *const pct_units[] = {"percent", "pct", "%", NULL};
  static const char *const sec_units[] = {"seconds", "second", "s", "sec", "secs", NULL};
  static const char *const ms_units[] = {"milliseconds", "millis", "ms", NULL};
  static const char *const count_units[] = {"contacts",  "count",  "events",      "agents",
                                            "customers", "items",  "transfers",   "escalations",
                                            "offers",    "orders", "evaluations", NULL};
  static const char *const dec_units[] = {"erlangs", "erlang", NULL};
  static const char *const score_units[] = {"score", "points", NULL};
  static const char *const money_units[] = {"currency", "money", NULL};
  static const char *const hour_units[] = {"h", "hours", "hour", NULL};
  static const char *const clock_units[] = {"epoch_ms", NULL};
  const char *unit = r->unit ? r->unit : "";
  if (in_list(unit, ratio_units))
    return KIND_PERCENT_OF_RATIO;
  if (in_list(unit, pct_units))
    return KIND_PERCENT;
  if (in_list(unit, sec_units))
    return KIND_SECONDS;
  if (in_list(unit, ms_units))
    return KIND_MILLIS;
  if (in_list(unit, count_units))
    return KIND_COUNT;
  if (in_list(unit, dec_units))
    return KIND_DECIMAL;
  if (in_list(unit, score_units))
    return KIND_SCORE;
  if (in_list(unit, money_units))
    return KIND_CURRENCY;
  if (in_list(unit, hour_units))
    return KIND_HOURS;
  if (in_list(unit, clock_units))
    return KIND_CLOCK;

  /* No (known) unit: go by the metric's name. */
  static const char *const ratio_names[] = {
      "service_level", "fcr", "occupancy", "utilization", "adherence", "shrinkage", NULL};
  static const char *const sec_names[] = {"asa", "aht", "longest_wait", NULL};
  const char *m = r->metric ? r->metric : "";
  if (in_list(m, ratio_names) || ends_with(m, "_rate") || ends_with(m, "_ratio"))
    return KIND_PERCENT_OF_RATIO;
  if (in_list(m, sec_names) || ends_with(m, "_time") || ends_with(m, "_seconds") ||
      strncmp(m, "avg_", 4) == 0 || strncmp(m, "average_", 8) == 0)
    return KIND_SECONDS;
  return KIND_AUTO;
}

void ks_watch_format_value(const Kpistream__V1__MetricResult *r, char *buf, size_t size) {
  if (size == 0)
    return;
  if (r->result_case != KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE) {
    snprintf(buf, size, "—");
    return;
  }
  double v = r->value;
  if (!isfinite(v)) { /* never produced by a correct plugin: show it as is */
    snprintf(buf, size, "%g", v);
    return;
  }
  switch (kind_of(r)) {
  case KIND_PERCENT_OF_RATIO:
    snprintf(buf, size, "%.1f%%", v * 100.0);
    break;
  case KIND_PERCENT:
    snprintf(buf, size, "%.1f%%", v);
    break;
  case KIND_MILLIS:
    v /= 1000.0;
    /* fall through */
  case KIND_SECONDS:
    if (fabs(v) < 9999.95)
      snprintf(buf, size, "%.1fs", v);
    else
      snprintf(buf, size, "%.0fs", v);
    break;
  case KIND_COUNT:
    if (fabs(v - round(v)) < 1e-9)
      snprintf(buf, size, "%.0f", v);
    else
      snprintf(buf, size, "%.1f", v);
    break;
  case KIND_DECIMAL:
    snprintf(buf, size, "%.2f", v);
    break;
  case KIND_SCORE: /* 0..100, -100..100, 1..7 and -1..1 scales alike */
    snprintf(buf, size, fabs(v) < 9.995 && v != 0.0 ? "%.2f" : "%.1f", v == 0.0 ? 0.0 : v);
    break;
  case KIND_CURRENCY:
    snprintf(buf, size, fabs(v) < 9999.995 ? "%.2f" : "%.0f", v);
    break;
  case KIND_HOURS:
    snprintf(buf, size, "%.1fh", v);
    break;
  case KIND_CLOCK: {
    if (fabs(v) > 1e15) { /* not an epoch in milliseconds */
      snprintf(buf, size, "%.0f", v);
      break;
    }
    time_t t = (time_t)floor(v / 1000.0);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, size, "%02d:%02d", tm.tm_hour, tm.tm_min);
    break;
  }
  case KIND_AUTO:
  default:
    if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
      snprintf(buf, size, "%.0f", v);
    else
      snprintf(buf, size, "%.2f", v);
    break;
  }
}

/* ---- display width ----------------------------------------------------------- */

size_t ks_watch_text_width(const char *s, size_t len) {
  size_t w = 0;
  for (size_t i = 0; i < len; i++)
    w += ((unsigned char)s[i] & 0xC0) != 0x80; /* continuation bytes take no column */
  return w;
}

size_t ks_watch_text_fit(const char *s, size_t len, size_t width) {
  size_t w = 0, i = 0;
  while (i < len) {
    size_t next = i + 1;
    while (next < len && ((unsigned char)s[next] & 0xC0) == 0x80)
      next++;
    if (w + 1 > width)
      break;
    w++;
    i = next;
  }
  return i;
}

size_t ks_watch_text_max_width(const char *s, size_t len) {
  size_t widest = 0, start = 0;
  for (size_t i = 0; i <= len; i++)
    if (i == len || s[i] == '\n') {
      size_t w = ks_watch_text_width(s + start, i - start);
      if (w > widest)
        widest = w;
      start = i + 1;
    }
  return widest;
}
