/* Window engine: watermarks per task, interval closing, lateness, idle
 * partitions, quiet intervals, commit offsets, keyed TTL — driven through
 * the real engine with the `counter` test plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kpistream/v1/result.pb-c.h"
#include "testkit_engine.h"

#define MAXR 64

typedef struct got {
  int n;
  char key[MAXR][160];
  char metric[MAXR][32];
  double value[MAXR];
  int64_t start[MAXR];
} got;

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)r;
  got *g = ud;
  assert_string_equal(topic, "kpi.counter");
  assert_true(g->n < MAXR);
  Kpistream__V1__MetricResult *m = kpistream__v1__metric_result__unpack(NULL, valuelen, value);
  assert_non_null(m);
  snprintf(g->key[g->n], sizeof g->key[0], "%.*s", (int)keylen, (const char *)key);
  assert_string_equal(g->key[g->n], m->key);
  snprintf(g->metric[g->n], sizeof g->metric[0], "%s", m->metric);
  assert_int_equal(m->result_case, KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE);
  g->value[g->n] = m->value;
  g->start[g->n] = m->interval_start_ms;
  g->n++;
  kpistream__v1__metric_result__free_unpacked(m, NULL);
  return 0;
}

static ks_engine *engine_skew(got *g, size_t n_topics, int64_t lateness_ms, const char *ttl,
                              int64_t max_future_skew_ms) {
  static const char *const topics[] = {"events.voice", "events.chat"};
  ks_engine_options o = {0};
  o.max_future_skew_ms = max_future_skew_ms;
  o.interval_ms = KS_TK_MIN(15);
  o.lateness_ms = lateness_ms;
  o.topics = topics;
  o.n_topics = n_topics;
  o.sink = sink;
  o.sink_ud = g;
  o.log_level = KS_LOG_ERROR;
  ks_engine *e = NULL;
  char err[256];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  ks_kv opt = {"contact_ttl", ttl};
  assert_int_equal(ks_engine_add_plugin(e, KS_TEST_PLUGIN_BUILD_DIR "/counter.so", NULL, &opt, 1,
                                        err, sizeof err),
                   0);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  return e;
}

static ks_engine *engine(got *g, size_t n_topics, int64_t lateness_ms, const char *ttl) {
  return engine_skew(g, n_topics, lateness_ms, ttl, 0);
}

/* A contact_queued at t, in a Kafka message with record timestamp rec (-1:
 * none); the refusal's reason into reason (256 bytes). */
static int qr(ks_engine *e, uint32_t topic, int64_t t, int64_t rec, const char *contact,
              int64_t offset, char *reason) {
  Kpistream__V1__Event ev = ks_tk_event(t, "acme", 1, "sales", contact, "cust", NULL);
  Kpistream__V1__ContactQueued body = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &body;
  uint8_t buf[512];
  size_t n = ks_tk_pack(&ev, buf, sizeof buf);
  ks_msg_origin from = {"acme", 4, 1, KS_PARTITIONER_ANY, rec};
  return ks_engine_process_from(e, 0, topic, offset, &from, buf, n, reason, 256);
}

static int q(ks_engine *e, uint32_t topic, int64_t t, const char *contact, int64_t offset) {
  char reason[256];
  return qr(e, topic, t, -1, contact, offset, reason);
}

static void closes_when_watermark_passes_end(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine(&g, 1, 0, "1h");
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600); /* 10:00 */
  assert_int_equal(q(e, 0, t10 + KS_TK_MIN(1), "c1", 0), KS_PROCESSED);
  assert_int_equal(q(e, 0, t10 + KS_TK_MIN(5), "c2", 1), KS_PROCESSED);
  assert_int_equal(q(e, 0, t10 + KS_TK_MIN(14) + KS_TK_SEC(59), "c2", 2), KS_PROCESSED);
  assert_int_equal(g.n, 0); /* watermark 10:14:59 < 10:15 */
  assert_int_equal(q(e, 0, t10 + KS_TK_MIN(15), "c3", 3), KS_PROCESSED);
  assert_int_equal(g.n, 2); /* 10:00 closed: 3 events, 2 new contacts */
  assert_string_equal(g.metric[0], "events");
  assert_true(g.value[0] == 3.0);
  assert_string_equal(g.metric[1], "new_contacts");
  assert_true(g.value[1] == 2.0);
  char want[160];
  snprintf(want, sizeof want, "counter/events|acme|voice|sales|||%lld", (long long)t10);
  assert_string_equal(g.key[0], want);
  /* late: 10:07 after 10:00 closed */
  assert_int_equal(q(e, 0, t10 + KS_TK_MIN(7), "c9", 4), KS_LATE);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_late, 1);
  assert_int_equal(st.events_in, 5);
  assert_int_equal(st.intervals_closed, 1);
  /* end of input closes the 10:15 interval: one event, c3 new */
  ks_engine_flush_all(e);
  assert_int_equal(g.n, 4);
  assert_true(g.value[2] == 1.0 && g.value[3] == 1.0);
  assert_true(g.start[2] == t10 + KS_TK_MIN(15));
  ks_engine_free(e);
}

static void lateness_delays_closing(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine(&g, 1, KS_TK_MIN(5), "1h");
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600);
  q(e, 0, t10 + KS_TK_MIN(1), "a", 0);
  q(e, 0, t10 + KS_TK_MIN(16), "b", 1); /* watermark 10:11 */
  assert_int_equal(g.n, 0);
  /* out of order but within lateness: still counted in 10:00 */
  assert_int_equal(q(e, 0, t10 + KS_TK_MIN(12), "c", 2), KS_PROCESSED);
  q(e, 0, t10 + KS_TK_MIN(20), "d", 3); /* watermark 10:15: closes 10:00 */
  assert_int_equal(g.n, 2);
  assert_true(g.value[0] == 2.0);
  assert_int_equal(ks_engine_watermark(e, 0), t10 + KS_TK_MIN(15));
  ks_engine_free(e);
}

static void unseen_partition_holds_watermark_until_idle(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine(&g, 2, 0, "1h");
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600);
  q(e, 0, t10 + KS_TK_MIN(1), "a", 0);
  q(e, 0, t10 + KS_TK_MIN(40), "b", 1);
  assert_int_equal(g.n, 0); /* events.chat has told us nothing yet */
  assert_int_equal(ks_engine_watermark(e, 0), INT64_MIN);
  q(e, 1, t10 + KS_TK_MIN(20), "c", 0); /* min(10:40, 10:20) = 10:20 */
  assert_int_equal(ks_engine_watermark(e, 0), t10 + KS_TK_MIN(20));
  assert_int_equal(g.n, 2);       /* 10:00 closed */
  ks_engine_set_idle(e, 0, 1, 1); /* chat caught up: only voice counts */
  ks_engine_advance(e);
  assert_int_equal(ks_engine_watermark(e, 0), t10 + KS_TK_MIN(40));
  assert_int_equal(g.n, 4); /* 10:15 closed (chat's event); 10:30 ends after 10:40 */
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.intervals_closed, 2); /* 10:00, 10:15 */
  ks_engine_free(e);
}

static void quiet_intervals_close_in_order(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine(&g, 1, 0, "1h");
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600);
  q(e, 0, t10 + KS_TK_MIN(1), "a", 0);
  q(e, 0, t10 + KS_TK_MIN(61), "b", 1);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.intervals_closed, 4); /* 10:00 10:15 10:30 10:45 */
  assert_int_equal(g.n, 2);                 /* only 10:00 had data */
  ks_engine_free(e);
}

static void commit_offset_is_first_offset_of_open_interval(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine(&g, 1, 0, "1h");
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600);
  assert_int_equal(ks_engine_commit_offset(e, 0, 0), -1);
  q(e, 0, t10 + KS_TK_MIN(1), "a", 100);
  q(e, 0, t10 + KS_TK_MIN(2), "b", 101);
  assert_int_equal(ks_engine_commit_offset(e, 0, 0), 100); /* 10:00 still open */
  q(e, 0, t10 + KS_TK_MIN(16), "c", 102);
  assert_int_equal(ks_engine_commit_offset(e, 0, 0), 102); /* 10:00 closed, 10:15 open */
  ks_engine_flush_all(e);
  assert_int_equal(ks_engine_commit_offset(e, 0, 0), 103); /* all closed: next unread */
  ks_engine_free(e);
}

static void keyed_state_expires_by_event_time(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine(&g, 1, 0, "30m");
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600);
  q(e, 0, t10 + KS_TK_MIN(1), "same", 0);  /* new */
  q(e, 0, t10 + KS_TK_MIN(20), "same", 1); /* seen 19 min ago: not new */
  q(e, 0, t10 + KS_TK_MIN(55), "x", 2);    /* closes 10:15, 10:30; sweep: "same" idle 35 min */
  q(e, 0, t10 + KS_TK_MIN(58), "same", 3); /* expired, so new again */
  ks_engine_flush_all(e);
  /* results: 10:00 (1 event, 1 new), 10:15 (1, 0), 10:45 (2, 2) */
  assert_int_equal(g.n, 6);
  assert_true(g.value[1] == 1.0);
  assert_true(g.value[3] == 0.0);
  assert_true(g.value[4] == 2.0 && g.value[5] == 2.0);
  ks_engine_free(e);
}

static void garbage_is_rejected_not_fatal(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine(&g, 1, 0, "1h");
  char reason[128] = "";
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02};
  assert_int_equal(ks_engine_process(e, 0, 0, 0, junk, sizeof junk, reason, sizeof reason),
                   KS_REJECTED);
  assert_non_null(strstr(reason, "protobuf decode failed"));
  /* a valid envelope with no body */
  Kpistream__V1__Event ev = ks_tk_event(KS_TK_T0, "acme", 1, "q", "c", "", "");
  uint8_t buf[256];
  size_t n = ks_tk_pack(&ev, buf, sizeof buf);
  assert_int_equal(ks_engine_process(e, 0, 0, 1, buf, n, reason, sizeof reason), KS_REJECTED);
  assert_string_equal(reason, "missing body");
  /* unknown task */
  assert_int_equal(ks_engine_process(e, 7, 0, 1, buf, n, reason, sizeof reason), KS_EINVAL);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_rejected, 2);
  ks_engine_free(e);
}

#define Y2099 INT64_C(4070908800000) /* 2099-01-01: the decoder accepts it */

/* intervals.max_future_skew: an event more than the skew ahead of both the
 * task's highest event time and its record time is refused before it can
 * move the watermark; the bound is inclusive. */
static void far_future_is_refused_before_the_watermark(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine_skew(&g, 1, 0, "1h", KS_TK_MIN(60));
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600);
  char reason[256] = "", want[256];
  assert_int_equal(qr(e, 0, t10 + KS_TK_MIN(1), t10 + KS_TK_MIN(1), "a", 0, reason), KS_PROCESSED);
  assert_int_equal(qr(e, 0, Y2099, t10 + KS_TK_MIN(2), "b", 1, reason), KS_REJECTED);
  /* bound = max(10:01, 10:02) + 1 h = 11:02 */
  snprintf(want, sizeof want,
           "event_time_ms 4070908800000 beyond bound %lld: intervals.max_future_skew 3600000 ms "
           "after max(highest event time %lld, record time %lld); watermark %lld",
           (long long)(t10 + KS_TK_MIN(62)), (long long)(t10 + KS_TK_MIN(1)),
           (long long)(t10 + KS_TK_MIN(2)), (long long)(t10 + KS_TK_MIN(1)));
  assert_string_equal(reason, want);
  assert_int_equal(ks_engine_watermark(e, 0), t10 + KS_TK_MIN(1));
  assert_int_equal(ks_engine_partition_time(e, 0, 0), t10 + KS_TK_MIN(1));
  assert_int_equal(g.n, 0);
  /* the stream goes on as if the 2099 event had not been there */
  assert_int_equal(qr(e, 0, t10 + KS_TK_MIN(5), t10 + KS_TK_MIN(5), "c", 2, reason), KS_PROCESSED);
  /* 11:05:00.001 with record time 10:00: beyond max(10:05, 10:00) + 1 h */
  assert_int_equal(qr(e, 0, t10 + KS_TK_MIN(65) + 1, t10, "d", 3, reason), KS_REJECTED);
  assert_int_equal(qr(e, 0, t10 + KS_TK_MIN(65), t10, "d", 4, reason), KS_PROCESSED);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_rejected, 2);
  assert_int_equal(st.events_late, 0);
  assert_int_equal(st.events_dispatched, 3);
  /* 11:05 closed 10:00 with its two events (a, c): nothing of b or d */
  assert_int_equal(g.n, 2);
  assert_true(g.value[0] == 2.0);
  ks_engine_free(e);
}

/* A real quiet period longer than the skew: the record time vouches for the
 * jump. Without a record time, only the task's own history counts. */
static void record_time_lets_a_task_resume_after_a_gap(void **state) {
  (void)state;
  got g = {0};
  ks_engine *e = engine_skew(&g, 1, 0, "1h", KS_TK_MIN(60));
  int64_t t10 = KS_TK_T0 + KS_TK_MIN(600), day = KS_TK_MIN(24 * 60);
  char reason[256] = "";
  /* a new task and no record time: nothing to compare with */
  assert_true(ks_engine_time_limit(e, 0, -1) == INT64_MAX);
  assert_true(ks_engine_time_limit(e, 0, t10) == t10 + KS_TK_MIN(60));
  assert_int_equal(qr(e, 0, t10, t10, "a", 0, reason), KS_PROCESSED);
  assert_int_equal(qr(e, 0, t10 + 2 * day, t10 + 2 * day, "b", 1, reason), KS_PROCESSED);
  assert_int_equal(ks_engine_watermark(e, 0), t10 + 2 * day);
  assert_int_equal(qr(e, 0, t10 + 4 * day, -1, "c", 2, reason), KS_REJECTED);
  assert_non_null(strstr(reason, "record time none"));
  assert_int_equal(ks_engine_watermark(e, 0), t10 + 2 * day);
  /* max_future_skew 0: no bound */
  got g0 = {0};
  ks_engine *e0 = engine(&g0, 1, 0, "1h");
  assert_true(ks_engine_time_limit(e0, 0, t10) == INT64_MAX);
  assert_int_equal(qr(e0, 0, t10, t10, "a", 0, reason), KS_PROCESSED);
  assert_int_equal(qr(e0, 0, Y2099, t10, "b", 1, reason), KS_PROCESSED);
  ks_engine_free(e0);
  ks_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(closes_when_watermark_passes_end),
      cmocka_unit_test(lateness_delays_closing),
      cmocka_unit_test(unseen_partition_holds_watermark_until_idle),
      cmocka_unit_test(quiet_intervals_close_in_order),
      cmocka_unit_test(commit_offset_is_first_offset_of_open_interval),
      cmocka_unit_test(keyed_state_expires_by_event_time),
      cmocka_unit_test(garbage_is_rejected_not_fatal),
      cmocka_unit_test(far_future_is_refused_before_the_watermark),
      cmocka_unit_test(record_time_lets_a_task_resume_after_a_gap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
