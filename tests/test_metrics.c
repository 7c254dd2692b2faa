/* metrics: the Prometheus text exposition format, byte for byte as written by
 * hand from the format's specification (HELP/TYPE lines, label escaping,
 * float spelling), and names the format refuses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpistream/plugin.h"
#include "metrics.h"

static void counter_and_gauge_with_labels(void **state) {
  (void)state;
  ks_metrics m;
  ks_metrics_init(&m);
  ks_metrics_one_u64(&m, "kpistream_events_consumed_total", KS_METRIC_COUNTER,
                     "Input events read from Kafka.", 18446744073709551615u);
  ks_metrics_family(&m, "kpistream_consumer_lag_messages", KS_METRIC_GAUGE, "Lag.");
  const char *l1[] = {"topic", "events.voice", "partition", "0", NULL};
  const char *l2[] = {"topic", "a\"b\\c\nd", "partition", "11", NULL};
  ks_metrics_u64(&m, "kpistream_consumer_lag_messages", l1, 0);
  ks_metrics_u64(&m, "kpistream_consumer_lag_messages", l2, 42);
  ks_metrics_one_f64(&m, "kpistream_watermark_lag_seconds", KS_METRIC_GAUGE,
                     "Help with \\ and\nnewline.", 12.5);
  assert_int_equal(ks_metrics_error(&m, NULL), 0);
  assert_string_equal(
      m.buf, "# HELP kpistream_events_consumed_total Input events read from Kafka.\n"
             "# TYPE kpistream_events_consumed_total counter\n"
             "kpistream_events_consumed_total 18446744073709551615\n"
             "# HELP kpistream_consumer_lag_messages Lag.\n"
             "# TYPE kpistream_consumer_lag_messages gauge\n"
             "kpistream_consumer_lag_messages{topic=\"events.voice\",partition=\"0\"} 0\n"
             "kpistream_consumer_lag_messages{topic=\"a\\\"b\\\\c\\nd\",partition=\"11\"} 42\n"
             "# HELP kpistream_watermark_lag_seconds Help with \\\\ and\\nnewline.\n"
             "# TYPE kpistream_watermark_lag_seconds gauge\n"
             "kpistream_watermark_lag_seconds 12.5\n");
  assert_int_equal(m.len, strlen(m.buf));
  ks_metrics_free(&m);
}

/* One family, one label, a sample per value in the given order (per topic,
 * plugin or reason: issue 14). */
static void family_by_label(void **state) {
  (void)state;
  ks_metrics m;
  ks_metrics_init(&m);
  const char *topics[] = {"events.voice", "events.\"odd\""};
  const uint64_t counts[] = {18, 0};
  ks_metrics_u64_by(&m, "kpistream_events_consumed_total", KS_METRIC_COUNTER,
                    "Input events read from Kafka, per input topic.", "topic", topics, counts, 2);
  ks_metrics_u64_by(&m, "kpistream_plugin_errors_total", KS_METRIC_COUNTER, "Errors.", "plugin",
                    NULL, NULL, 0);
  assert_int_equal(ks_metrics_error(&m, NULL), 0);
  assert_string_equal(
      m.buf,
      "# HELP kpistream_events_consumed_total Input events read from Kafka, per input topic.\n"
      "# TYPE kpistream_events_consumed_total counter\n"
      "kpistream_events_consumed_total{topic=\"events.voice\"} 18\n"
      "kpistream_events_consumed_total{topic=\"events.\\\"odd\\\"\"} 0\n"
      "# HELP kpistream_plugin_errors_total Errors.\n"
      "# TYPE kpistream_plugin_errors_total counter\n");
  const char *bad[] = {"x"};
  ks_metrics_u64_by(&m, "kpistream_x_total", KS_METRIC_COUNTER, "X.", "bad-label", bad, counts, 1);
  const char *name;
  assert_int_equal(ks_metrics_error(&m, &name), KS_EINVAL);
  assert_string_equal(name, "bad-label");
  ks_metrics_free(&m);
}

static void floats(void **state) {
  (void)state;
  ks_metrics m;
  ks_metrics_init(&m);
  ks_metrics_f64(&m, "a", NULL, 0.1);     /* %.15g reads back: short */
  ks_metrics_f64(&m, "b", NULL, 1.0 / 3); /* needs 17 digits */
  ks_metrics_f64(&m, "c", NULL, NAN);
  ks_metrics_f64(&m, "d", NULL, INFINITY);
  ks_metrics_f64(&m, "e", NULL, -INFINITY);
  ks_metrics_f64(&m, "f", NULL, 1e21);
  ks_metrics_f64(&m, "g", NULL, -0.0);
  assert_string_equal(m.buf,
                      "a 0.1\nb 0.33333333333333331\nc NaN\nd +Inf\ne -Inf\nf 1e+21\ng -0\n");
  ks_metrics_free(&m);
}

static void refused_names(void **state) {
  (void)state;
  const char *bad;
  ks_metrics m;
  ks_metrics_init(&m);
  ks_metrics_family(&m, "kpistream_events", KS_METRIC_COUNTER, "no _total");
  assert_int_equal(ks_metrics_error(&m, &bad), KS_EINVAL);
  assert_string_equal(bad, "kpistream_events");
  ks_metrics_free(&m);

  ks_metrics_init(&m);
  ks_metrics_family(&m, "9lives", KS_METRIC_GAUGE, "digit first");
  assert_int_equal(ks_metrics_error(&m, &bad), KS_EINVAL);
  ks_metrics_free(&m);

  ks_metrics_init(&m);
  ks_metrics_family(&m, "x_total", "histogram", "unsupported type");
  assert_int_equal(ks_metrics_error(&m, &bad), KS_EINVAL);
  ks_metrics_free(&m);

  ks_metrics_init(&m);
  const char *lab[] = {"bad-label", "v", NULL};
  ks_metrics_u64(&m, "ok", lab, 1);
  assert_int_equal(ks_metrics_error(&m, &bad), KS_EINVAL);
  assert_string_equal(bad, "bad-label");
  ks_metrics_free(&m);

  ks_metrics_init(&m);
  const char *reserved[] = {"__name__", "v", NULL};
  ks_metrics_u64(&m, "ok", reserved, 1);
  assert_int_equal(ks_metrics_error(&m, &bad), KS_EINVAL);
  ks_metrics_free(&m);

  ks_metrics_init(&m); /* a colon is fine in a metric name, not in a label */
  ks_metrics_u64(&m, "job:rate", NULL, 1);
  assert_int_equal(ks_metrics_error(&m, NULL), 0);
  assert_string_equal(m.buf, "job:rate 1\n");
  ks_metrics_free(&m);
}

static void grows(void **state) {
  (void)state;
  ks_metrics m;
  ks_metrics_init(&m);
  for (int i = 0; i < 2000; i++)
    ks_metrics_u64(&m, "kpistream_x", NULL, (uint64_t)i);
  assert_int_equal(ks_metrics_error(&m, NULL), 0);
  /* 2000 lines "kpistream_x N\n": 12 + digits + 1 */
  size_t want = 0;
  for (int i = 0; i < 2000; i++)
    want += 13 + (i < 10 ? 1 : i < 100 ? 2 : i < 1000 ? 3 : 4);
  assert_int_equal(m.len, want);
  ks_metrics_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(counter_and_gauge_with_labels),
      cmocka_unit_test(family_by_label),
      cmocka_unit_test(floats),
      cmocka_unit_test(refused_names),
      cmocka_unit_test(grows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
