/*
 * metrics — writes the Prometheus text exposition format (version 0.0.4):
 *   # HELP kpistream_events_consumed_total Events read from the input topics.
 *   # TYPE kpistream_events_consumed_total counter
 *   kpistream_events_consumed_total 1234
 *   kpistream_watermark_lag_seconds{task="3"} 12.5
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and a counter's end in _total
 * (refused otherwise: a wrong name is a bug, reported by ks_metrics_error());
 * label values are escaped (\\, \", \n), HELP text too (\\, \n).
 * Which metrics kpistream serves, and what each means: docs/operations.md.
 *
 * Ownership: the ks_metrics owns its text buffer; ks_metrics_free() frees it.
 */
#ifndef KS_METRICS_H
#define KS_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ks_metrics {
  char *buf;
  size_t len, cap;
  int error; /* 0, KS_ENOMEM or KS_EINVAL (a name the format refuses) */
  char error_name[96];
} ks_metrics;

#define KS_METRIC_COUNTER "counter"
#define KS_METRIC_GAUGE   "gauge"

#define KS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

void ks_metrics_init(ks_metrics *m);
void ks_metrics_free(ks_metrics *m);
/* "# HELP" and "# TYPE" lines of a metric family; type is KS_METRIC_*. */
void ks_metrics_family(ks_metrics *m, const char *name, const char *type, const char *help);
/* One sample line. labels: NULL, or name/value pairs ending with NULL. */
void ks_metrics_u64(ks_metrics *m, const char *name, const char *const *labels, uint64_t v);
void ks_metrics_f64(ks_metrics *m, const char *name, const char *const *labels, double v);
/* A family with one unlabelled sample. */
void ks_metrics_one_u64(ks_metrics *m, const char *name, const char *type, const char *help,
                        uint64_t v);
void ks_metrics_one_f64(ks_metrics *m, const char *name, const char *type, const char *help,
                        double v);
/* A family of one label: "name{label=\"values[i]\"} counts[i]" for each
 * i < n, in that order (the caller keeps the values few: topics and
 * plugins of the configuration, a fixed set of reasons). */
void ks_metrics_u64_by(ks_metrics *m, const char *name, const char *type, const char *help,
                       const char *label, const char *const *values, const uint64_t *counts,
                       size_t n);
/* 0, or the first error with the offending name. */
int ks_metrics_error(const ks_metrics *m, const char **name);

#endif
