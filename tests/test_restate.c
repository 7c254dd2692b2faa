/*
 * test_restate — late data: within the restatement horizon a late event
 * reaches the restatable plugins (operations) and the interval's results are
 * published again with the next revision; beyond the horizon it is refused
 * as late (the runner dead-letters it). Driven through the real engine.
 *
 * Times: I(k) is the k-th 15-minute interval from EB_T0; lateness 0, so an
 * interval closes as soon as an event of a later interval is seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "event_builder.h"
#include "kpistream/v1/result.pb-c.h"

#define PLUGIN KS_TEST_PLUGIN_DIR "/kpi_operations.so"
#define IV     EB_MIN(15)
#define I(k)   (EB_T0 + (int64_t)(k)*IV)
#define VOICE  KPISTREAM__V1__CHANNEL__CHANNEL_VOICE

typedef struct seen {
  int offered_rev[8]; /* revisions of operations/offered for sales, I(0) */
  double offered_val[8];
  int n_offered;
  int other_intervals;
} seen;

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)topic, (void)key, (void)keylen, (void)r;
  seen *s = ud;
  Kpistream__V1__MetricResult *m = kpistream__v1__metric_result__unpack(NULL, valuelen, value);
  assert_non_null(m);
  if (strcmp(m->metric, "offered") == 0 && strcmp(m->queue, "sales") == 0) {
    if (m->interval_start_ms == I(0)) {
      assert_true(s->n_offered < 8);
      s->offered_rev[s->n_offered] = (int)m->revision;
      s->offered_val[s->n_offered++] = m->value;
    } else
      s->other_intervals++;
  }
  kpistream__v1__metric_result__free_unpacked(m, NULL);
  return 0;
}

static ks_engine *engine(seen *s, int64_t restate_ms) {
  static const char *const topics[] = {"events"};
  ks_engine_options o = {0};
  o.interval_ms = IV;
  o.lateness_ms = 0;
  o.restate_ms = restate_ms;
  o.topics = topics;
  o.n_topics = 1;
  o.sink = sink;
  o.sink_ud = s;
  o.log_level = KS_LOG_ERROR;
  ks_engine *e;
  char err[512];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  if (ks_engine_add_plugin(e, PLUGIN, NULL, NULL, 0, err, sizeof err) != 0)
    fail_msg("%s", err);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  return e;
}

static void test_restated_with_next_revision(void **state) {
  (void)state;
  seen s = {0};
  ks_engine *e = engine(&s, EB_MIN(60));
  /* I(0): c1 queued and answered. */
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(10), VOICE, "sales", "c1", "u1"), KS_PROCESSED);
  assert_int_equal(eb_answered(e, I(0) + EB_SEC(20), VOICE, "sales", "c1", "a1"), KS_PROCESSED);
  /* An event of I(1) closes I(0): offered = 1, revision 0. */
  assert_int_equal(eb_queued(e, I(1) + EB_SEC(5), VOICE, "sales", "c2", "u2"), KS_PROCESSED);
  assert_int_equal(s.n_offered, 1);
  assert_int_equal(s.offered_rev[0], 0);
  assert_true(s.offered_val[0] == 1.0);
  /* c3 queued in I(0) arrives late, within the hour: offered = 2, revision 1. */
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(600), VOICE, "sales", "c3", "u3"), KS_RESTATED);
  assert_int_equal(s.n_offered, 2);
  assert_int_equal(s.offered_rev[1], 1);
  assert_true(s.offered_val[1] == 2.0);
  /* Another late one: offered = 3, revision 2. */
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(700), VOICE, "sales", "c4", "u4"), KS_RESTATED);
  assert_int_equal(s.n_offered, 3);
  assert_int_equal(s.offered_rev[2], 2);
  assert_true(s.offered_val[2] == 3.0);
  /* The watermark passes I(0)'s end + 1 h (an event at I(5) + 1 s): I(0) is
   * no longer kept, so a late event for it is refused as late. */
  assert_int_equal(eb_queued(e, I(5) + EB_SEC(1), VOICE, "sales", "c5", "u5"), KS_PROCESSED);
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(800), VOICE, "sales", "c6", "u6"), KS_LATE);
  assert_int_equal(s.n_offered, 3);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_restated, 2);
  assert_int_equal(st.restatements, 2);
  assert_int_equal(st.events_late, 1);
  assert_int_equal(st.plugin_errors, 0);
  ks_engine_free(e);
}

static void test_no_horizon_means_late(void **state) {
  (void)state;
  seen s = {0};
  ks_engine *e = engine(&s, 0);
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(10), VOICE, "sales", "c1", "u1"), KS_PROCESSED);
  assert_int_equal(eb_queued(e, I(1) + EB_SEC(5), VOICE, "sales", "c2", "u2"), KS_PROCESSED);
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(600), VOICE, "sales", "c3", "u3"), KS_LATE);
  assert_int_equal(s.n_offered, 1);
  ks_engine_free(e);
}

/* A restated interval survives a checkpoint: its revision goes on. */
static void test_retained_in_snapshot(void **state) {
  (void)state;
  seen s = {0};
  ks_engine *e = engine(&s, EB_MIN(60));
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(10), VOICE, "sales", "c1", "u1"), KS_PROCESSED);
  assert_int_equal(eb_queued(e, I(1) + EB_SEC(5), VOICE, "sales", "c2", "u2"), KS_PROCESSED);
  assert_int_equal(eb_queued(e, I(0) + EB_SEC(600), VOICE, "sales", "c3", "u3"), KS_RESTATED);
  uint8_t *snap;
  size_t len;
  assert_int_equal(ks_engine_snapshot(e, 0, 0, &snap, &len), 0);
  ks_engine_free(e);
  ks_engine *f = engine(&s, EB_MIN(60));
  char err[256];
  assert_int_equal(ks_engine_restore(f, 0, 0, snap, len, err, sizeof err), 0);
  free(snap);
  assert_int_equal(eb_queued(f, I(0) + EB_SEC(700), VOICE, "sales", "c4", "u4"), KS_RESTATED);
  assert_int_equal(s.n_offered, 3);
  assert_int_equal(s.offered_rev[2], 2); /* revision 0, 1, then 2 after the restore */
  assert_true(s.offered_val[2] == 3.0);  /* c1, c3 (restored records) and c4 */
  ks_engine_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_restated_with_next_revision),
      cmocka_unit_test(test_no_horizon_means_late),
      cmocka_unit_test(test_retained_in_snapshot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
