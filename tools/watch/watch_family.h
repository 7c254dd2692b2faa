/*
 * watch_family — what `kpistream watch` prints for one closed (interval,
 * tenant) group of results: one compact table per KPI family, in the order
 * operations, experience, workforce, quality, value, forecast, scorecard,
 * then any other family alphabetically; and one line per alert. Pure, like
 * watch_table.c (no Kafka, no state between calls).
 *
 *   acme · 2026-11-23 10:00–10:15 UTC
 *   ── operations
 *   channel  queue    offered  answered  ...
 *   voice    billing       17        14  ...
 *
 *   ── workforce
 *   team         occup.  util.  adher.  ...
 *   digital       56.0%  82.6%   96.5%  ...
 *   (all)         68.2%  81.2%   93.1%  ...
 *
 * The "── family" title line is printed with family_titles or when the
 * group has several families. A group of operations (or an unknown family)
 * alone without family_titles is the plain table of watch_table.h,
 * unchanged: `watch -t kpi.operations` prints exactly what it did before.
 *
 * Per family (ks_watch_family_find): default columns (the headline metrics;
 * others with --metrics), the label keys that make rows (workforce, quality,
 * scorecard: team; quality also evaluator; value: segment) and, for the
 * scorecard, the pivot: each `kpi_score` result with label kpi=K is column K.
 * Operations and unknown families, and every family when metrics are
 * named (--metrics, "all"): the plain table's rules (labels in a column),
 * only the named metrics present, at most 10 default columns.
 *
 * Rollups: results whose interval is longer than an hour (intervals are at
 * most 60 minutes; day/week/month results of workforce, value, forecast)
 * form groups of their own, rendered with the families' rollup columns under
 * a heading like "acme · 2026-11-23 UTC (day)"; a rollup group with no row to
 * show prints nothing.
 */
#ifndef KS_CMD_WATCH_FAMILY_H
#define KS_CMD_WATCH_FAMILY_H

#include <stddef.h>
#include <stdio.h>

#include "watch_table.h"

typedef struct ks_watch_group_opts {
  const char *const *metrics; /* borrowed; requested columns (each family: those present) */
  size_t n_metrics;
  int all_metrics;   /* every metric present */
  int show_agents;   /* per-agent rows */
  const char *note;  /* borrowed; in the heading, may be NULL */
  int family_titles; /* a "── family" line before each table even when there is one */
  /* Screen mode (all zero: unchanged). width > 0: each family table drops its
   * lowest-priority columns (the last of its default columns: the order of
   * the family's metrics is its priority) until every line fits in width
   * display columns, keeping at least one metric column. */
  int width;
  int no_heading; /* leave the tenant/interval heading out */
} ks_watch_group_opts;

/* The family's display rules; NULL for operations (the plain table) and for
 * families it does not know. */
const ks_watch_family *ks_watch_family_find(const char *name);

/* The result covers more than one interval: a day, week, month rollup. */
int ks_watch_is_rollup(const Kpistream__V1__MetricResult *r);

/*
 * Writes the group: its heading, then each family's table (families with no
 * row to show left out; an interval group with none at all: "(no rows)").
 * results: n results of one tenant and interval (borrowed), in arrival order.
 * Returns the number of data rows, or -1 when out of memory.
 */
int ks_watch_group_render(FILE *out, const Kpistream__V1__MetricResult *const *results, size_t n,
                          const ks_watch_group_opts *opts);

/* An alert: read from a topic whose last dot-part is "alerts" (topic may be
 * NULL), or a result with metric "alert". */
int ks_watch_is_alert(const char *topic, const Kpistream__V1__MetricResult *r);

/*
 * One line per alert (the scorecard's layout: metric "alert", the KPI's unit
 * and value, labels kpi, rule "KPI<THRESHOLD", state fire|clear, team on
 * team scopes):
 *   ALERT fired   acme voice/support service_level 72.0% < 80.0%  10:15–10:30
 *   ALERT cleared acme team=digital occupancy 84.0% <= 85.0%  10:30–10:45
 * A cleared alert shows the opposite comparison. Labels other than those
 * are appended as k=v.
 */
void ks_watch_alert_print(FILE *out, const Kpistream__V1__MetricResult *r);

#endif
