/*
 * test_restate — late data: within the restatement horizon a late event
 * reaches the restatable plugins (operations) and the interval's results are
 * published again with the next revision; beyond the horizon it is refused
 * as late (the runner dead-letters it). Driven through the real engine.
 *
 * Times: I(k) is the k-th 15-minute interval from KS_TK_T0; lateness 0, so an
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
#include "kpistream/v1/result.pb-c.h"
#include "testkit_engine.h"

#define PLUGIN KS_TEST_PLUGIN_DIR "/kpi_operations.so"
#define IV     KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV)
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

/* An engine with the operations plugin, results to sink(ud). */
static ks_engine *engine_with(ks_sink_fn sink_fn, void *ud, int64_t lateness_ms,
                              int64_t restate_ms) {
  static const char *const topics[] = {"events"};
  ks_engine_options o = {0};
  o.interval_ms = IV;
  o.lateness_ms = lateness_ms;
  o.restate_ms = restate_ms;
  o.topics = topics;
  o.n_topics = 1;
  o.sink = sink_fn;
  o.sink_ud = ud;
  o.log_level = KS_LOG_ERROR;
  ks_engine *e;
  char err[512];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  if (ks_engine_add_plugin(e, PLUGIN, NULL, NULL, 0, err, sizeof err) != 0)
    fail_msg("%s", err);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  return e;
}

static ks_engine *engine(seen *s, int64_t restate_ms) {
  return engine_with(sink, s, 0, restate_ms);
}

static void test_restated_with_next_revision(void **state) {
  (void)state;
  seen s = {0};
  ks_engine *e = engine(&s, KS_TK_MIN(60));
  ks_testkit *ke;
  assert_int_equal(ks_testkit_attach(&ke, e), 0);
  /* I(0): c1 queued and answered. */
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(10), VOICE, "sales", "c1", "u1"),
                   KS_PROCESSED);
  assert_int_equal(ks_tk_answered(ke, I(0) + KS_TK_SEC(20), VOICE, "sales", "c1", "a1"),
                   KS_PROCESSED);
  /* An event of I(1) closes I(0): offered = 1, revision 0. */
  assert_int_equal(ks_tk_queued(ke, I(1) + KS_TK_SEC(5), VOICE, "sales", "c2", "u2"), KS_PROCESSED);
  assert_int_equal(s.n_offered, 1);
  assert_int_equal(s.offered_rev[0], 0);
  assert_true(s.offered_val[0] == 1.0);
  /* c3 queued in I(0) arrives late, within the hour: offered = 2, revision 1. */
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(600), VOICE, "sales", "c3", "u3"),
                   KS_RESTATED);
  assert_int_equal(s.n_offered, 2);
  assert_int_equal(s.offered_rev[1], 1);
  assert_true(s.offered_val[1] == 2.0);
  /* Another late one: offered = 3, revision 2. */
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(700), VOICE, "sales", "c4", "u4"),
                   KS_RESTATED);
  assert_int_equal(s.n_offered, 3);
  assert_int_equal(s.offered_rev[2], 2);
  assert_true(s.offered_val[2] == 3.0);
  /* The watermark passes I(0)'s end + 1 h (an event at I(5) + 1 s): I(0) is
   * no longer kept, so a late event for it is refused as late. */
  assert_int_equal(ks_tk_queued(ke, I(5) + KS_TK_SEC(1), VOICE, "sales", "c5", "u5"), KS_PROCESSED);
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(800), VOICE, "sales", "c6", "u6"), KS_LATE);
  assert_int_equal(s.n_offered, 3);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_restated, 2);
  assert_int_equal(st.restatements, 2);
  assert_int_equal(st.events_late, 1);
  assert_int_equal(st.plugin_errors, 0);
  ks_testkit_free(ke);
  ks_engine_free(e);
}

static void test_no_horizon_means_late(void **state) {
  (void)state;
  seen s = {0};
  ks_engine *e = engine(&s, 0);
  ks_testkit *ke;
  assert_int_equal(ks_testkit_attach(&ke, e), 0);
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(10), VOICE, "sales", "c1", "u1"),
                   KS_PROCESSED);
  assert_int_equal(ks_tk_queued(ke, I(1) + KS_TK_SEC(5), VOICE, "sales", "c2", "u2"), KS_PROCESSED);
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(600), VOICE, "sales", "c3", "u3"), KS_LATE);
  assert_int_equal(s.n_offered, 1);
  ks_testkit_free(ke);
  ks_engine_free(e);
}

/* A restated interval survives a checkpoint: its revision goes on. */
static void test_retained_in_snapshot(void **state) {
  (void)state;
  seen s = {0};
  ks_engine *e = engine(&s, KS_TK_MIN(60));
  ks_testkit *ke;
  assert_int_equal(ks_testkit_attach(&ke, e), 0);
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(10), VOICE, "sales", "c1", "u1"),
                   KS_PROCESSED);
  assert_int_equal(ks_tk_queued(ke, I(1) + KS_TK_SEC(5), VOICE, "sales", "c2", "u2"), KS_PROCESSED);
  assert_int_equal(ks_tk_queued(ke, I(0) + KS_TK_SEC(600), VOICE, "sales", "c3", "u3"),
                   KS_RESTATED);
  uint8_t *snap;
  size_t len;
  assert_int_equal(ks_engine_snapshot(e, 0, 0, &snap, &len), 0);
  ks_testkit_free(ke);
  ks_engine_free(e);
  ks_engine *f = engine(&s, KS_TK_MIN(60));
  ks_testkit *kf;
  assert_int_equal(ks_testkit_attach(&kf, f), 0);
  char err[256];
  assert_int_equal(ks_engine_restore(f, 0, 0, snap, len, err, sizeof err), 0);
  free(snap);
  assert_int_equal(ks_tk_queued(kf, I(0) + KS_TK_SEC(700), VOICE, "sales", "c4", "u4"),
                   KS_RESTATED);
  assert_int_equal(s.n_offered, 3);
  assert_int_equal(s.offered_rev[2], 2); /* revision 0, 1, then 2 after the restore */
  assert_true(s.offered_val[2] == 3.0);  /* c1, c3 (restored records) and c4 */
  ks_testkit_free(kf);
  ks_engine_free(f);
}

/* ---- a retained interval changed by an event of an open one ---------------- */

/* Every result as "key revision value numerator denominator" lines. */
typedef struct all {
  char line[256][160];
  size_t n;
} all;

static int sink_all(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                    size_t valuelen, const ks_result *r) {
  (void)topic, (void)key, (void)keylen, (void)r;
  all *a = ud;
  Kpistream__V1__MetricResult *m = kpistream__v1__metric_result__unpack(NULL, valuelen, value);
  assert_non_null(m);
  assert_true(a->n < 256);
  snprintf(a->line[a->n++], sizeof a->line[0], "%s %u %.17g %.17g %.17g", m->key, m->revision,
           m->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE ? m->value : -1.0,
           m->numerator, m->denominator);
  kpistream__v1__metric_result__free_unpacked(m, NULL);
  return 0;
}

/* The latest revision of key's result ("" when none). */
static const char *latest(const all *a, const char *key, char *out, size_t size) {
  int best = -1;
  out[0] = '\0';
  for (size_t i = 0; i < a->n; i++) {
    char k[128];
    int rev;
    if (sscanf(a->line[i], "%127s %d", k, &rev) == 2 && strcmp(k, key) == 0 && rev > best) {
      best = rev;
      snprintf(out, size, "%s", strchr(strchr(a->line[i], ' ') + 1, ' ') + 1);
    }
  }
  return out;
}

/*
 * c1 queued at I(1) - 30 s, resolved at I(1) + 300 s: resolution time 330 s
 * in I(1). Its ContactCreated at I(2) + 20 s (a clock skew between systems:
 * created after resolved) makes the creation its start, so the resolution
 * time is clamp0(resolved - created) = 0. With 60 s lateness, I(1) closes
 * once an event at I(2) + 60 s or later is seen.
 *   in order: created (I(2) + 20 s) is processed before c2 (I(2) + 61 s)
 *             closes I(1): resolution_time 0 in revision 0;
 *   reordered within the lateness: c2 first (I(1) closes with 330), then
 *             created, whose own interval I(2) is open but which changes the
 *             retained I(1): I(1) is published again, revision 1, value 0.
 * The latest result per key is the same either way.
 */
static void test_retained_interval_changed_by_open_one(void **state) {
  (void)state;
  const char *key = "operations/resolution_time|acme|voice|sales|||";
  char want_key[128], got[128], want[128];
  snprintf(want_key, sizeof want_key, "%s%lld", key, (long long)I(1));
  all *in = calloc(1, sizeof *in), *re = calloc(1, sizeof *re);
  assert_non_null(in);
  assert_non_null(re);
  for (int reordered = 0; reordered < 2; reordered++) {
    all *a = reordered ? re : in;
    ks_engine *e = engine_with(sink_all, a, KS_TK_SEC(60), KS_TK_MIN(60));
    ks_testkit *ke;
    assert_int_equal(ks_testkit_attach(&ke, e), 0);
    assert_int_equal(ks_tk_queued(ke, I(1) - KS_TK_SEC(30), VOICE, "sales", "c1", "u1"),
                     KS_PROCESSED);
    assert_int_equal(ks_tk_resolved(ke, I(1) + KS_TK_SEC(300), VOICE, "sales", "c1"), KS_PROCESSED);
    if (!reordered)
      assert_int_equal(ks_tk_created(ke, I(2) + KS_TK_SEC(20), VOICE, "sales", "c1", "u1"),
                       KS_PROCESSED);
    assert_int_equal(ks_tk_queued(ke, I(2) + KS_TK_SEC(61), VOICE, "sales", "c2", "u2"),
                     KS_PROCESSED);
    if (reordered) {
      assert_non_null(strstr(latest(a, want_key, got, sizeof got), "330 "));
      assert_int_equal(ks_tk_created(ke, I(2) + KS_TK_SEC(20), VOICE, "sales", "c1", "u1"),
                       KS_PROCESSED);
    }
    assert_int_equal(ks_engine_flush_all(e), 0);
    ks_testkit_free(ke);
    ks_engine_free(e);
  }
  latest(in, want_key, want, sizeof want);
  for (size_t i = 0; getenv("KS_DEBUG") && i < in->n; i++)
    print_message("in: %s\n", in->line[i]);
  assert_string_equal(want, "0 0 1");
  assert_string_equal(latest(re, want_key, got, sizeof got), want);
  /* and every other key agrees too */
  for (size_t i = 0; i < in->n; i++) {
    char k[128];
    assert_int_equal(sscanf(in->line[i], "%127s", k), 1);
    char a1[128], a2[128];
    assert_string_equal(latest(in, k, a1, sizeof a1), latest(re, k, a2, sizeof a2));
  }
  free(in);
  free(re);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_restated_with_next_revision),
      cmocka_unit_test(test_no_horizon_means_late),
      cmocka_unit_test(test_retained_in_snapshot),
      cmocka_unit_test(test_retained_interval_changed_by_open_one),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
