/*
 * cmd_watch_table — renders one (interval, tenant) group of decoded
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
 * Columns: the requested metrics in order; by default the operations set
 * (ks_watch_default_metrics) restricted to the metrics present, or — when the
 * group has none of them (another family's topic) — every metric present in
 * order of first appearance. all_metrics: every metric present.
 * Cells: formatted by the result's unit (see ks_watch_format_value); "—" for
 * a null value (zero denominator), "·" for no result in that row. When two
 * results share a cell, the higher revision wins (then the later one).
 */
#ifndef KS_CMD_WATCH_TABLE_H
#define KS_CMD_WATCH_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "kpistream/v1/result.pb-c.h"

typedef struct ks_watch_table_opts {
  const char *const *metrics; /* borrowed; columns in order; NULL/0: the default set */
  size_t n_metrics;
  int all_metrics;  /* every metric present (ignores metrics) */
  int show_agents;  /* include per-agent rows and an agent column */
  const char *note; /* borrowed; appended to the heading in brackets; may be NULL */
} ks_watch_table_opts;

/* offered answered abandoned abandonment_rate asa longest_wait service_level
 * aht fcr transfer_rate */
extern const char *const ks_watch_default_metrics[];
extern const size_t ks_watch_n_default_metrics;

/*
 * Writes the heading (the first result's tenant and interval) and the table,
 * then an empty line. results: n decoded results of one interval and tenant
 * (borrowed). Returns the number of data rows written (0 prints "(no rows)"),
 * or -1 when out of memory.
 */
int ks_watch_table_render(FILE *out, const Kpistream__V1__MetricResult *const *results, size_t n,
                          const ks_watch_table_opts *opts);

/*
 * Human form of one result's value into buf (always NUL-terminated):
 * unit "ratio" -> "93.1%"; "percent" -> "93.1%"; "seconds" -> "12.3s"
 * ("12345s" from 10000 s); "milliseconds" -> seconds; counts ("contacts",
 * "count", ...) -> "42"; "erlangs" and other decimals -> "3.25". Without a
 * known unit the metric name decides (…_rate, service_level, fcr -> %;
 * asa, aht, longest_wait, …_time -> seconds), else integers stay integers.
 * A null value (no oneof case set) -> "—".
 */
void ks_watch_format_value(const Kpistream__V1__MetricResult *r, char *buf, size_t size);

/* Short column heading for a metric ("abandonment_rate" -> "aband%"); the
 * name itself when it has none. */
const char *ks_watch_metric_heading(const char *metric);

#endif
