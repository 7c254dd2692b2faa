/*
 * test_testkit — the plugin test kit (sdk/testkit, kpistream/testkit.h) on
 * the real plugins: the watermark moved by hand closes exactly the
 * intervals it passes, refusals and plugin failures come back with a
 * reason, a restart through the checkpoint format changes no result,
 * restatements carry their revision, and the builders' events are what the
 * plugins count. Expected values are worked out in the comments.
 *
 * Times: I(k) is the k-th 15-minute interval from KS_TK_T0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testkit_engine.h"

#define OPS   KS_TEST_PLUGIN_DIR "/kpi_operations.so"
#define IV    KS_TK_MIN(15)
#define I(k)  (KS_TK_T0 + (int64_t)(k)*IV)
#define VOICE KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define CHAT  KPISTREAM__V1__CHANNEL__CHANNEL_CHAT

static ks_testkit *kit_with(const char *path, const ks_testkit_kv *kv, size_t n,
                            const ks_testkit_options *o) {
  ks_testkit *tk;
  char err[512];
  assert_int_equal(ks_testkit_new(&tk, o, err, sizeof err), 0);
  if (ks_testkit_add_plugin(tk, path, NULL, kv, n, err, sizeof err) != 0)
    fail_msg("add_plugin %s: %s", path, err);
  return tk;
}

/* The one result of metric for queue q (agent "") at start, or NULL. */
static const ks_testkit_result *one(const ks_testkit *tk, const char *metric, const char *q,
                                    int64_t start) {
  const ks_testkit_result *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(tk); i++) {
    const ks_testkit_result *r = ks_testkit_result_at(tk, i);
    if (strcmp(r->metric, metric) == 0 && strcmp(r->queue, q) == 0 && r->agent[0] == '\0' &&
        r->start_ms == start) {
      assert_null(hit);
      hit = r;
    }
  }
  return hit;
}

static size_t count_at(const ks_testkit *tk, int64_t start) {
  size_t n = 0;
  for (size_t i = 0; i < ks_testkit_result_count(tk); i++)
    n += ks_testkit_result_at(tk, i)->start_ms == start;
  return n;
}

/* advance_to closes I(0) when the watermark reaches its end, not before,
 * and leaves I(1) open. */
static void test_advance_closes_what_it_passes(void **state) {
  (void)state;
  ks_testkit *tk = kit_with(OPS, NULL, 0, NULL);
  assert_int_equal(ks_testkit_advance_to(tk, 0, I(1)), KS_EINVAL); /* nothing fed yet */
  assert_int_equal(ks_tk_queued(tk, I(0) + KS_TK_SEC(10), VOICE, "sales", "c1", "u1"),
                   KS_TESTKIT_PROCESSED);
  assert_int_equal(ks_tk_queued(tk, I(0) + KS_TK_SEC(20), VOICE, "sales", "c2", "u2"),
                   KS_TESTKIT_PROCESSED);
  assert_int_equal(ks_testkit_advance_to(tk, 0, I(1) - 1), 0);
  assert_int_equal(ks_testkit_result_count(tk), 0);
  assert_int_equal(ks_testkit_advance_to(tk, 0, I(1)), 0);
  const ks_testkit_result *r = one(tk, "offered", "sales", I(0));
  assert_non_null(r);
  assert_true(r->has_value && r->value == 2.0); /* c1, c2 */
  assert_string_equal(r->topic, "kpi.operations");
  assert_string_equal(r->family, "operations");
  assert_string_equal(r->tenant, KS_TK_TENANT);
  assert_int_equal(r->channel, VOICE);
  assert_int_equal(r->end_ms, I(1));
  assert_int_equal(r->revision, 0);
  /* an I(1) event is not closed by the same watermark again */
  size_t n0 = ks_testkit_result_count(tk);
  assert_int_equal(ks_tk_queued(tk, I(1) + KS_TK_SEC(5), VOICE, "sales", "c3", "u3"), 0);
  assert_int_equal(ks_testkit_advance_to(tk, 0, I(1) + KS_TK_SEC(5)), 0);
  assert_int_equal(ks_testkit_result_count(tk), n0);
  assert_int_equal(ks_testkit_flush(tk), 0);
  assert_true(count_at(tk, I(1)) > 0);
  ks_testkit_clear_results(tk);
  assert_int_equal(ks_testkit_result_count(tk), 0);
  assert_null(ks_testkit_result_at(tk, 0));
  ks_testkit_free(tk);
}

/* Undecodable bytes: REJECTED with the decoder's reason; the next good
 * event clears the reason. */
static void test_rejected_has_a_reason(void **state) {
  (void)state;
  ks_testkit *tk = kit_with(OPS, NULL, 0, NULL);
  static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  assert_int_equal(ks_testkit_feed_bytes(tk, 0, 0, 1, junk, sizeof junk), KS_TESTKIT_REJECTED);
  assert_true(ks_testkit_reason(tk)[0] != '\0');
  assert_int_equal(ks_tk_queued(tk, I(0), VOICE, "sales", "c1", "u1"), KS_TESTKIT_PROCESSED);
  assert_string_equal(ks_testkit_reason(tk), "");
  assert_int_equal(ks_testkit_flush(tk), 0);
  ks_testkit_free(tk);
}

/* A plugin callback that fails is no silent drop: flush says KS_EPLUGIN
 * and the error names the plugin, the callback and where. */
static void test_plugin_error_surfaces(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/counter.so", KS_TEST_PLUGIN_BUILD_DIR);
  const ks_testkit_kv kv[] = {{"fail_queue", "bad"}};
  ks_testkit *tk = kit_with(path, kv, 1, &(ks_testkit_options){.log_level = KS_LOG_ERROR});
  assert_int_equal(ks_tk_queued(tk, I(0) + 1000, VOICE, "bad", "c1", NULL), KS_TESTKIT_PROCESSED);
  assert_int_equal(ks_testkit_plugin_errors(tk), 1);
  assert_int_equal(ks_testkit_flush(tk), KS_EPLUGIN);
  const char *err = ks_testkit_error(tk);
  assert_non_null(strstr(err, "counter"));
  assert_non_null(strstr(err, "on_event"));
  char at[64];
  snprintf(at, sizeof at, "offset %lld", (long long)(I(0) + 1000)); /* the event time */
  assert_non_null(strstr(err, at));
  ks_testkit_free(tk);
}

/* A plugin the kit cannot load: refused with the path in the reason, and
 * the kit goes on without it. */
static void test_refused_plugin(void **state) {
  (void)state;
  ks_testkit *tk;
  char err[512] = "";
  assert_int_equal(ks_testkit_new(&tk, NULL, err, sizeof err), 0);
  assert_true(ks_testkit_add_plugin(tk, "/nonexistent/kpi_x.so", NULL, NULL, 0, err, sizeof err) <
              0);
  assert_non_null(strstr(err, "/nonexistent/kpi_x.so"));
  const ks_testkit_kv bad[] = {{"per_agent", "yes"}};
  assert_int_equal(ks_testkit_add_plugin(tk, OPS, NULL, bad, 1, err, sizeof err), KS_EINVAL);
  assert_int_equal(ks_testkit_add_plugin(tk, OPS, "out.ops", NULL, 0, err, sizeof err), 0);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(tk)), 1);
  assert_int_equal(ks_tk_queued(tk, I(0), VOICE, "sales", "c1", "u1"), 0);
  assert_int_equal(ks_testkit_flush(tk), 0);
  assert_string_equal(ks_testkit_result_at(tk, 0)->topic, "out.ops");
  ks_testkit_free(tk);
}

/* Contacts on two tasks, a restart between their legs: every result equals
 * the uninterrupted run's, in the same order. */
static void feed_legs(ks_testkit *tk, int part) {
  for (int32_t task = 0; task < 2; task++) {
    char c[16];
    for (int i = 0; i < 3; i++) {
      snprintf(c, sizeof c, "t%dc%d", task, i);
      Kpistream__V1__Event ev;
      ks_tk_bodies b;
      const int64_t t = I(0) + KS_TK_SEC(60 * i + 10 * part);
      ev = ks_tk_event(t, KS_TK_TENANT, i == 2 ? CHAT : VOICE, "sales", c, "u", part ? "a1" : NULL);
      assert_int_equal(ks_tk_set_body(&ev, &b,
                                      part ? KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED
                                           : KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED),
                       0);
      assert_int_equal(ks_testkit_feed_to(tk, task, 0, &ev), KS_TESTKIT_PROCESSED);
    }
  }
}

static void test_restart_changes_nothing(void **state) {
  (void)state;
  ks_testkit *ref = kit_with(OPS, NULL, 0, NULL), *tk = kit_with(OPS, NULL, 0, NULL);
  feed_legs(ref, 0);
  feed_legs(ref, 1);
  assert_int_equal(ks_testkit_flush(ref), 0);
  feed_legs(tk, 0);
  char err[512];
  if (ks_testkit_restart(tk, err, sizeof err) != 0)
    fail_msg("restart: %s", err);
  feed_legs(tk, 1);
  assert_int_equal(ks_testkit_flush(tk), 0);
  const size_t n = ks_testkit_result_count(ref);
  assert_int_equal(ks_testkit_result_count(tk), n);
  for (size_t i = 0; i < n; i++) {
    const ks_testkit_result *a = ks_testkit_result_at(ref, i), *b = ks_testkit_result_at(tk, i);
    assert_string_equal(a->key, b->key);
    assert_int_equal(a->has_value, b->has_value);
    assert_true(a->value == b->value && a->numerator == b->numerator &&
                a->denominator == b->denominator && a->count == b->count);
  }
  /* 3 contacts queued and answered per task, both tasks: answered 6 */
  size_t answered = 0;
  for (size_t i = 0; i < n; i++) {
    const ks_testkit_result *r = ks_testkit_result_at(tk, i);
    if (strcmp(r->metric, "answered") == 0 && r->agent[0] == '\0' && r->queue[0] != '\0')
      answered += (size_t)r->value;
  }
  assert_int_equal(answered, 6);
  ks_testkit_free(ref);
  ks_testkit_free(tk);
}

/* Late within the restatement horizon: RESTATED, and I(0) published again
 * with revision 1 and the late contact counted (offered 1, then 2). */
static void test_restatement_revision(void **state) {
  (void)state;
  ks_testkit *tk = kit_with(OPS, NULL, 0, &(ks_testkit_options){.restate_ms = KS_TK_MIN(60)});
  assert_int_equal(ks_tk_queued(tk, I(0) + KS_TK_SEC(10), VOICE, "sales", "c1", "u1"), 0);
  assert_int_equal(ks_tk_queued(tk, I(1) + KS_TK_SEC(5), VOICE, "sales", "c2", "u2"), 0);
  assert_int_equal(ks_tk_queued(tk, I(0) + KS_TK_SEC(600), VOICE, "sales", "c3", "u3"),
                   KS_TESTKIT_RESTATED);
  int seen = 0;
  for (size_t i = 0; i < ks_testkit_result_count(tk); i++) {
    const ks_testkit_result *r = ks_testkit_result_at(tk, i);
    if (strcmp(r->metric, "offered") == 0 && strcmp(r->queue, "sales") == 0 &&
        r->start_ms == I(0)) {
      assert_int_equal(r->revision, (uint32_t)seen);
      assert_true(r->value == (seen ? 2.0 : 1.0));
      seen++;
    }
  }
  assert_int_equal(seen, 2);
  assert_int_equal(ks_testkit_flush(tk), 0);
  ks_testkit_free(tk);
}

/* The survey builder: two CSAT answers on 1-5, a 5 and a 2: satisfied
 * (top-2-box) 1 of 2 = 0.5, 2 responses. */
static void test_survey_builder(void **state) {
  (void)state;
  ks_testkit *tk = kit_with(KS_TEST_PLUGIN_DIR "/kpi_experience.so", NULL, 0, NULL);
  const int csat = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT;
  assert_int_equal(ks_tk_survey(tk, I(0) + 1000, VOICE, "sales", NULL, NULL, csat, 1, 5, 5), 0);
  assert_int_equal(ks_tk_survey(tk, I(0) + 2000, VOICE, "sales", NULL, NULL, csat, 1, 5, 2), 0);
  assert_int_equal(ks_testkit_flush(tk), 0);
  const ks_testkit_result *r = one(tk, "csat", "sales", I(0));
  assert_non_null(r);
  assert_true(r->value == 0.5 && r->numerator == 1 && r->denominator == 2);
  r = one(tk, "survey_responses", "sales", I(0));
  assert_non_null(r);
  assert_true(r->value == 2.0);
  ks_testkit_free(tk);
}

/* set_body refuses a body that is no contact-lifecycle one. */
static void test_set_body_refuses_other_bodies(void **state) {
  (void)state;
  Kpistream__V1__Event ev = ks_tk_event(I(0), KS_TK_TENANT, VOICE, "q", "c", NULL, NULL);
  ks_tk_bodies b;
  assert_int_equal(ks_tk_set_body(&ev, &b, KPISTREAM__V1__EVENT__BODY_SURVEY), KS_EINVAL);
  assert_int_equal(ev.body_case, KPISTREAM__V1__EVENT__BODY__NOT_SET);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_advance_closes_what_it_passes),
      cmocka_unit_test(test_rejected_has_a_reason),
      cmocka_unit_test(test_plugin_error_surfaces),
      cmocka_unit_test(test_refused_plugin),
      cmocka_unit_test(test_restart_changes_nothing),
      cmocka_unit_test(test_restatement_revision),
      cmocka_unit_test(test_survey_builder),
      cmocka_unit_test(test_set_body_refuses_other_bodies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
