/*
 * watch_table — renders one (interval, tenant) group of decoded
 * kpistream.v1.MetricResult messages as a terminal table. Pure: no Kafka, no
 * loop, no state between calls, so it can be unit-tested with hand-built
 * results and open_memstream().
 *
 *   acme · 2026-11-23 09:00–09:15 UTC
 *   channel  queue    offered  answered  abandoned  aband%   ASA  ...
 *   voice    billing      120       110         10    8.3%  23.4s ...
 *
 * Rows: one per (channel, queue) — plus agent and labels when present; rows
 * for per-agent results only with show_agents. Order: voice, email, chat,
 * other channels, then "all" (CHANNEL_UNSPECIFIED); queues alphabetically
 * with the all-queues row ("(all)") last; agents after their queue's row.
 * Columns: the requested metrics in order (only_present: those present); by
 * default the operations set (ks_watch_default_metrics) restricted to the
 * metrics present, or — when the group has none of them (another family's
 * topic) — every metric present in order of first appearance, at most
 * max_columns of them when set. all_metrics: every metric present.
 * Cells: formatted by the result's unit (see ks_watch_format_value); "—" for
 * a null value (zero denominator), "·" for no result in that row. When two
 * results share a cell, the higher revision wins (then the later one).
 *
 * Family tables (opts.family set): columns are the family's default metrics
 * present (rollup_metrics for rollups), else every metric present; a pivot
 * metric gives one column per value of its pivot label ("kpi_score" with
 * kpi=aht -> column "AHT"). Only results whose labels are all row_labels,
 * ignored_labels or the pivot label take part (per-reason, per-category
 * breakdowns stay out). Key columns: channel and queue unless every row is
 * all/(all), one per row label present (team rows: "team", falling back to
 * an agent's team), agent. Rows: channel, queue, team (the tenant's row
 * last), agent.
 */
#ifndef KS_CMD_WATCH_TABLE_H
#define KS_CMD_WATCH_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "kpistream/v1/result.pb-c.h"

/*
 * How one KPI family is shown (watch_family.c has the table of them).
 * Every list is NULL-terminated; a NULL list is empty.
 */
typedef struct ks_watch_family {
  const char *name;                  /* the results' `family` */
  const char *const *metrics;        /* default columns, interval results */
  const char *const *rollup_metrics; /* default columns, day/week/month results */
  const char *const *row_labels;     /* label keys that make rows, one column each */
  const char *const *ignored_labels; /* label keys left out of a row's identity */
  const char *pivot_metric;          /* results of this metric become one column */
  const char *pivot_label;           /* per value of this label (named after it) */
  const char *const *pivot_order;    /* known values in column order; others after, A-Z */
} ks_watch_family;

typedef struct ks_watch_table_opts {
  const char *const *metrics; /* borrowed; columns in order; NULL/0: the default set */
  size_t n_metrics;
  int all_metrics;  /* every metric present (ignores metrics) */
  int show_agents;  /* include per-agent rows and an agent column */
  const char *note; /* borrowed; appended to the heading in brackets; may be NULL */

  /* Family tables (all zero: the table above, unchanged). */
  const ks_watch_family *family; /* borrowed; see "Family tables" above */
  int rollup;                    /* the results are day/week/month rollups */
  int only_present;              /* requested metrics: only those present */
  size_t max_columns;            /* cap on default columns; 0: none */
  int no_heading;                /* leave the tenant/interval heading out */
} ks_watch_table_opts;

/* offered answered abandoned abandonment_rate asa longest_wait service_level
 * aht fcr transfer_rate */
extern const char *const ks_watch_default_metrics[];
extern const size_t ks_watch_n_default_metrics;

/*
 * Writes the heading (the first result's tenant and interval) and the table,
 * then an empty line. results: n decoded results of one interval and tenant
 * (borrowed). Returns the number of data rows written (0 prints "(no rows)"),
 * or -1 when out of memory. out NULL: writes nothing, counts the rows.
 */
int ks_watch_table_render(FILE *out, const Kpistream__V1__MetricResult *const *results, size_t n,
                          const ks_watch_table_opts *opts);

/* "acme · 2026-11-23 10:00–10:15 UTC  [note]" and a newline; a day, month or
 * year rollup as "acme · 2026-11-23 UTC (day)". */
void ks_watch_heading(FILE *out, const Kpistream__V1__MetricResult *first, const char *note);

/* Text of a result's label `key`, NULL when it has none. */
const char *ks_watch_label(const Kpistream__V1__MetricResult *r, const char *key);

/* A name as a terminal cell: control characters and broken UTF-8 to '?', at
 * most 32 code points (the last one "…" when cut). */
void ks_watch_safe_text(char *dst, size_t size, const char *s);

/* "voice", "email", "chat", "all" (unspecified), else "ch<N>". */
void ks_watch_channel_text(char *buf, size_t size, int channel);

/* ---- values and headings (watch_format.c) ------------------------------ */

/*
 * Human form of one result's value into buf (always NUL-terminated):
 * unit "ratio" -> "93.1%"; "percent" -> "93.1%"; "seconds" -> "12.3s"
 * ("12345s" from 10000 s); "milliseconds" -> seconds; counts ("contacts",
 * "count", "evaluations", "offers", ...) -> "42"; "erlangs" -> "3.25";
 * "score" -> "78.3" ("0.25" below 10); "currency" -> "12.50" ("12345"
 * from 10000); "h" -> "1.5h"; "epoch_ms" -> "14:30" (UTC). Without a
 * known unit the metric name decides (…_rate, service_level, fcr -> %;
 * asa, aht, longest_wait, …_time -> seconds), else integers stay integers.
 * A null value (no oneof case set) -> "—".
 */
void ks_watch_format_value(const Kpistream__V1__MetricResult *r, char *buf, size_t size);

/* Display columns of the UTF-8 text s[0..len) (one per code point: the
 * table's "·", "—", "…", "─" are one column each). */
size_t ks_watch_text_width(const char *s, size_t len);

/* Bytes of s[0..len) that fit in width display columns (never splits a
 * UTF-8 sequence). */
size_t ks_watch_text_fit(const char *s, size_t len, size_t width);

/* Widest line (display columns) of the text s[0..len). */
size_t ks_watch_text_max_width(const char *s, size_t len);

/* Short column heading for a metric ("abandonment_rate" -> "aband%"); the
 * name itself when it has none. */
const char *ks_watch_metric_heading(const char *metric);

#endif
