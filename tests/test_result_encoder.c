/* Result encoder: the direct MetricResult encoder writes exactly the bytes
 * protobuf-c's generated packer writes (the independent reference), and the
 * upsert key escapes its separators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpistream/v1/result.pb-c.h"
#include "result_encoder.h"

/* The reference: the same result through the generated struct and packer. */
static size_t reference(const ks_result *r, const char *key, uint8_t *out) {
  Kpistream__V1__MetricResult m = KPISTREAM__V1__METRIC_RESULT__INIT;
  Kpistream__V1__Label ls[16], *lp[16];
  m.key = (char *)key;
  m.family = "operations";
  m.metric = (char *)r->metric;
  m.interval_start_ms = r->interval_start_ms;
  m.interval_end_ms = r->interval_end_ms;
  m.tenant = (char *)r->tenant;
  m.channel = (Kpistream__V1__Channel)r->channel;
  m.queue = (char *)(r->queue ? r->queue : "");
  m.agent_id = (char *)(r->agent_id ? r->agent_id : "");
  m.team = (char *)(r->team ? r->team : "");
  for (size_t i = 0; i < r->n_labels; i++) {
    Kpistream__V1__Label l = KPISTREAM__V1__LABEL__INIT;
    l.key = (char *)r->labels[i].key;
    l.value = (char *)r->labels[i].value;
    ls[i] = l;
    lp[i] = &ls[i];
  }
  m.n_labels = r->n_labels;
  m.labels = lp;
  if (r->aggregation == KS_AGG_RATIO ? r->denominator != 0 : r->has_value) {
    m.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
    m.value = r->aggregation == KS_AGG_RATIO ? r->numerator / r->denominator : r->value;
  }
  m.numerator = r->numerator;
  m.denominator = r->denominator;
  m.count = r->count;
  m.aggregation = (Kpistream__V1__Aggregation)r->aggregation;
  m.unit = (char *)(r->unit ? r->unit : "");
  m.revision = 3;
  m.plugin_version = "1.0.0";
  return kpistream__v1__metric_result__pack(&m, out);
}

static void check(const ks_result *r) {
  uint8_t *buf = NULL;
  size_t cap = 0;
  char *key = NULL;
  size_t kcap = 0;
  assert_null(ks_result_validate(r));
  assert_true(ks_result_key("operations", r, &key, &kcap) > 0);
  long n = ks_result_encode("operations", "1.0.0", r, key, 3, &buf, &cap);
  uint8_t ref[4096];
  size_t rn = reference(r, key, ref);
  assert_int_equal((size_t)n, rn);
  assert_memory_equal(buf, ref, rn);
  free(buf);
  free(key);
}

static void bytes_match_protobuf_c(void **state) {
  (void)state;
  ks_label labels[2] = {{"reason", "billing"}, {"tier", "2"}};
  ks_result r = KS_RESULT_INIT;
  r.metric = "service_level";
  r.interval_start_ms = 1795428000000;
  r.interval_end_ms = 1795428900000;
  r.tenant = "acme";
  r.channel = 1;
  r.queue = "sales";
  r.aggregation = KS_AGG_RATIO;
  r.numerator = 2;
  r.denominator = 5;
  r.count = 5;
  r.unit = "ratio";
  check(&r); /* ratio with a value */
  r.numerator = 0;
  r.denominator = 0;
  check(&r); /* ratio with a zero denominator: no value */
  r.aggregation = KS_AGG_MAX;
  r.has_value = 1;
  r.value = 0.0;
  check(&r); /* an explicit 0 is a value, kept */
  r.value = -12.5;
  r.count = -3;
  r.agent_id = "agent-7";
  r.team = "team-a";
  r.labels = labels;
  r.n_labels = 2;
  check(&r); /* negatives, labels, agent and team */
  r.has_value = 0;
  r.channel = 0;
  r.queue = "";
  check(&r); /* null value, all channels, all queues */
}

static void key_escapes_separators(void **state) {
  (void)state;
  ks_label l = {"a=b", "c,d"};
  ks_result r = KS_RESULT_INIT;
  r.metric = "offered";
  r.interval_start_ms = 1795428000000;
  r.interval_end_ms = 1795428900000;
  r.tenant = "ac|me";
  r.channel = 3;
  r.queue = "q\\1";
  r.labels = &l;
  r.n_labels = 1;
  r.aggregation = KS_AGG_SUM;
  char *key = NULL;
  size_t cap = 0;
  assert_true(ks_result_key("operations", &r, &key, &cap) > 0);
  assert_string_equal(key, "operations/offered|ac\\|me|chat|q\\\\1||a\\=b=c\\,d|1795428000000");
  free(key);
}

static void bad_results_are_refused(void **state) {
  (void)state;
  ks_result r = KS_RESULT_INIT;
  r.metric = "x";
  r.tenant = "t";
  r.interval_start_ms = 10;
  r.interval_end_ms = 5;
  r.aggregation = KS_AGG_SUM;
  assert_string_equal(ks_result_validate(&r), "result interval end not after start");
  r.interval_end_ms = 20;
  r.aggregation = 9;
  assert_string_equal(ks_result_validate(&r), "result with an unknown aggregation");
  r.aggregation = KS_AGG_SUM;
  r.has_value = 1;
  r.value = 1.0 / 0.0;
  assert_string_equal(ks_result_validate(&r), "result with a non-finite number");
  r.struct_size = 8;
  assert_string_equal(ks_result_validate(&r), "result struct too small (use KS_RESULT_INIT)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bytes_match_protobuf_c),
      cmocka_unit_test(key_escapes_separators),
      cmocka_unit_test(bad_results_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
