/* The event-time merge of a task's input partitions (runner_merge.c) and the
 * peek of an encoded event's time (event_peek.c). The messages are real
 * librdkafka messages, produced to and fetched from librdkafka's in-process
 * mock cluster with the record timestamps the tests choose; the runner state
 * around the merge is built here (no consumer, no producer: refused messages
 * are logged, not dead-lettered), and the real engine with the `counter` test
 * plugin processes what the merge hands it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "decoder.h"
#include "event_peek.h"
#include "log.h"
#include "runner_internal.h"
#include "testkit_engine.h"

#define Y3000 INT64_C(32503680000000)     /* 3000-01-01: outside the decoder's range */
#define Y2099 INT64_C(4070908800000)      /* 2099-01-01: inside it */
#define T10   (KS_TK_T0 + KS_TK_MIN(600)) /* 2026-11-23T10:00:00Z */
#define HOUR  KS_TK_MIN(60)

static const char *const topic_names[] = {"m.a", "m.b"};

/* ---- messages through the mock cluster ----------------------------------- */

typedef struct spec {
  uint32_t topic; /* index into topic_names */
  int64_t event_ms;
  int64_t record_ms; /* the record timestamp (CreateTime) */
} spec;

static size_t encode(int64_t t, uint8_t *buf, size_t cap) {
  Kpistream__V1__Event ev = ks_tk_event(t, "acme", 1, "sales", "c1", "cust", NULL);
  Kpistream__V1__ContactQueued body = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &body;
  size_t n = ks_tk_pack(&ev, buf, cap);
  assert_true(n > 0);
  return n;
}

typedef struct kafka {
  rd_kafka_t *producer; /* hosts the mock cluster */
  rd_kafka_t *consumer;
} kafka;

static rd_kafka_t *client(rd_kafka_type_t type, const char *const *kv) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  for (; *kv; kv += 2)
    assert_int_equal(rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof err), RD_KAFKA_CONF_OK);
  rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == NULL)
    fail_msg("rd_kafka_new: %s", err);
  return rk;
}

/* Produce the specs (each topic has one partition, 0) and fetch them back:
 * out[i] is the message of specs[i] (per topic, offsets follow the order). */
static void roundtrip(kafka *k, const spec *s, size_t n, rd_kafka_message_t **out) {
  static const char *const pconf[] = {"test.mock.num.brokers", "1", "log_level", "3", NULL};
  k->producer = client(RD_KAFKA_PRODUCER, pconf);
  rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(k->producer);
  assert_non_null(mc);
  for (size_t t = 0; t < 2; t++)
    assert_int_equal(rd_kafka_mock_topic_create(mc, topic_names[t], 1, 1), 0);
  for (size_t i = 0; i < n; i++) {
    uint8_t buf[512];
    size_t len = encode(s[i].event_ms, buf, sizeof buf);
    assert_int_equal(rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(topic_names[s[i].topic]),
                                       RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY("acme", 4),
                                       RD_KAFKA_V_VALUE(buf, len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_TIMESTAMP(s[i].record_ms), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  assert_int_equal(rd_kafka_flush(k->producer, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);

  const char *cconf[] = {"bootstrap.servers",
                         rd_kafka_mock_cluster_bootstraps(mc),
                         "group.id",
                         "test-merge",
                         "enable.auto.commit",
                         "false",
                         "log_level",
                         "3",
                         NULL};
  k->consumer = client(RD_KAFKA_CONSUMER, cconf);
  rd_kafka_poll_set_consumer(k->consumer);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
  for (size_t t = 0; t < 2; t++)
    rd_kafka_topic_partition_list_add(l, topic_names[t], 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  assert_int_equal(rd_kafka_assign(k->consumer, l), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(l);
  memset(out, 0, n * sizeof *out);
  size_t got = 0;
  for (int polls = 0; got < n && polls < 600; polls++) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, 100);
    if (m == NULL)
      continue;
    if (m->err) {
      rd_kafka_message_destroy(m);
      continue;
    }
    uint32_t t = strcmp(rd_kafka_topic_name(m->rkt), topic_names[0]) == 0 ? 0 : 1;
    /* the offset-th message of topic t among the specs */
    int64_t k_th = -1;
    size_t i = 0;
    for (; i < n; i++)
      if (s[i].topic == t && ++k_th == m->offset)
        break;
    assert_true(i < n && out[i] == NULL);
    out[i] = m;
    got++;
  }
  assert_int_equal(got, n);
}

static void kafka_close(kafka *k) {
  rd_kafka_consumer_close(k->consumer);
  rd_kafka_destroy(k->consumer);
  rd_kafka_destroy(k->producer);
}

/* ---- the runner around the merge ----------------------------------------- */

typedef struct results {
  int n;
  int64_t start[64];
  double value[64];
  char metric[64][32];
} results;

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)topic, (void)key, (void)keylen, (void)value, (void)valuelen;
  results *g = ud;
  assert_true(g->n < 64);
  g->start[g->n] = r->interval_start_ms;
  g->value[g->n] = r->value;
  snprintf(g->metric[g->n], sizeof g->metric[0], "%s", r->metric);
  g->n++;
  return 0;
}

/* One task (partition 0) of two topics, bounded (--until-eof), lateness 0,
 * intervals 15 min, intervals.max_future_skew 1 h. */
static runner *runner_new(results *g) {
  runner *r = calloc(1, sizeof *r);
  assert_non_null(r);
  ks_config_init(&r->cfg);
  r->cfg.log_level = KS_LOG_ERROR;
  r->cfg.topics = (char **)topic_names;
  r->cfg.n_topics = 2;
  r->until_eof = 1;
  r->n_partitions = 1;
  r->parts = calloc(2, sizeof *r->parts);
  assert_non_null(r->parts);
  for (uint32_t t = 0; t < 2; t++)
    r->parts[t] = (part_state){.partition = 0, .topic = t, .assigned = 1};
  ks_engine_options o = {0};
  o.interval_ms = KS_TK_MIN(15);
  o.topics = topic_names;
  o.n_topics = 2;
  o.sink = sink;
  o.sink_ud = g;
  o.log_level = KS_LOG_ERROR;
  o.max_future_skew_ms = HOUR;
  char err[256];
  assert_int_equal(ks_engine_new(&r->engine, &o, err, sizeof err), 0);
  assert_int_equal(ks_engine_add_plugin(r->engine, KS_TEST_PLUGIN_BUILD_DIR "/counter.so", NULL,
                                        NULL, 0, err, sizeof err),
                   0);
  assert_int_equal(ks_engine_task_open(r->engine, 0), 0);
  return r;
}

static void runner_free(runner *r) {
  for (uint32_t t = 0; t < 2; t++) {
    ks_merge_drop(r, &r->parts[t]);
    free(r->parts[t].q);
  }
  free(r->parts);
  ks_engine_free(r->engine);
  free(r);
}

/* A runner whose merge holds the specs' messages, fetched through Kafka;
 * nothing processed yet. The fixture stays where it is (the engine's sink
 * writes to g). */
typedef struct fixture {
  kafka k;
  results g;
  runner *r;
} fixture;

static void fixture_start(fixture *fx, const spec *s, size_t n) {
  rd_kafka_message_t *m[16];
  assert_true(n <= 16);
  roundtrip(&fx->k, s, n, m);
  memset(&fx->g, 0, sizeof fx->g);
  fx->r = runner_new(&fx->g);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(ks_merge_push(fx->r, &fx->r->parts[s[i].topic], m[i]), 0); /* owns it */
}

/* Both partitions reach their end (m.a first), then the end of the input
 * closes every open interval. */
static void fixture_end(fixture *fx) {
  for (uint32_t t = 0; t < 2; t++) {
    ks_merge_eof(fx->r, &fx->r->parts[t]);
    ks_merge_drain(fx->r, 0);
  }
  ks_engine_flush_all(fx->r->engine);
}

static void fixture_free(fixture *fx) {
  runner_free(fx->r);
  kafka_close(&fx->k);
}

/* The engine's counts so far: events in, rejected, late. */
static void expect_counts(const fixture *fx, uint64_t in, uint64_t rejected, uint64_t late) {
  ks_engine_stats st;
  ks_engine_get_stats(fx->r->engine, &st);
  assert_int_equal(st.events_in, in);
  assert_int_equal(st.events_rejected, rejected);
  assert_int_equal(st.events_late, late);
}

/* the number of "events" the counter plugin published for the interval at start */
static double events_in(const results *g, int64_t start) {
  for (int i = 0; i < g->n; i++)
    if (g->start[i] == start && strcmp(g->metric[i], "events") == 0)
      return g->value[i];
  return -1;
}

/* ---- tests ---------------------------------------------------------------- */

static void peek_reads_the_time_the_decoder_reads(void **state) {
  (void)state;
  uint8_t buf[512];
  size_t n = encode(T10, buf, sizeof buf);
  int64_t t = 0;
  assert_int_equal(ks_peek_event_time(buf, n, &t), 0);
  assert_true(t == T10);
  n = encode(Y3000, buf, sizeof buf);
  assert_int_equal(ks_peek_event_time(buf, n, &t), 0);
  assert_true(t == Y3000);
  assert_false(ks_event_time_in_range(Y3000)); /* the decoder's rule: refused */
  assert_true(ks_event_time_in_range(Y2099));
  /* a later field 2 wins, as in protobuf: 0x10 = field 2, varint */
  buf[n] = 0x10;
  buf[n + 1] = 0x05;
  assert_int_equal(ks_peek_event_time(buf, n + 2, &t), 0);
  assert_true(t == 5);
  /* cut inside a field, or no time at all: unreadable */
  assert_int_equal(ks_peek_event_time(buf, n - 1, &t), -1);
  static const uint8_t no_time[] = {0x1a, 0x01, 'x'}; /* tenant "x" only */
  assert_int_equal(ks_peek_event_time(no_time, sizeof no_time, &t), -1);
  /* field number 0 (here written as the two bytes 0x80 0x00): protobuf-c
   * skips it as an unknown field, and so does the peek (it used to give up) */
  static const uint8_t field0[] = {0x80, 0x00, 0x07, 0x10, 0x05};
  assert_int_equal(ks_peek_event_time(field0, sizeof field0, &t), 0);
  assert_true(t == 5);
}

/* A year-3000 event at the head of m.a: refused at once, the events behind it
 * merge in time order with m.b's. Before: ordered by its time, it held all of
 * m.a while m.b ran on alone (3 events processed, not 6). */
static void year_3000_does_not_hold_the_merge(void **state) {
  (void)state;
  const spec s[] = {{0, Y3000, T10},
                    {0, T10, T10},
                    {0, T10 + KS_TK_MIN(5), T10},
                    {0, T10 + KS_TK_MIN(20), T10},
                    {1, T10 + KS_TK_MIN(1), T10},
                    {1, T10 + KS_TK_MIN(16), T10},
                    {1, T10 + KS_TK_MIN(31), T10}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  runner *r = fx.r;
  ks_merge_drain(r, 0);
  /* Y3000 (refused), 10:00 a, 10:01 b, 10:05 a, 10:16 b, 10:20 a; then m.a
   * is empty and not at its end: 10:31 b waits */
  expect_counts(&fx, 6, 1, 0);
  assert_true(ks_engine_partition_time(r->engine, 0, 0) == T10 + KS_TK_MIN(20));
  assert_true(ks_engine_partition_time(r->engine, 0, 1) == T10 + KS_TK_MIN(16));
  assert_true(ks_engine_watermark(r->engine, 0) == T10 + KS_TK_MIN(16));
  assert_int_equal(r->parts[1].q_len, 1);
  /* the ends: 10:31 b, then everything closes */
  fixture_end(&fx);
  expect_counts(&fx, 7, 1, 0);
  assert_true(events_in(&fx.g, T10) == 3.0);
  assert_true(events_in(&fx.g, T10 + KS_TK_MIN(15)) == 2.0);
  assert_true(events_in(&fx.g, T10 + KS_TK_MIN(30)) == 1.0);
  fixture_free(&fx);
}

/* A 2099 event (the decoder accepts it) in the middle of m.a, more than
 * intervals.max_future_skew ahead of the task and of its record timestamp:
 * refused where it stands, never ordered by its time, so it neither holds
 * m.a nor closes the task's intervals. Before: it held m.a until m.b was
 * drained, then was accepted and closed every interval through 2099. */
static void far_future_is_refused_in_place(void **state) {
  (void)state;
  const spec s[] = {{0, T10, T10},
                    {0, Y2099, T10 + KS_TK_MIN(1)},
                    {0, T10 + KS_TK_MIN(10), T10 + KS_TK_MIN(10)},
                    {1, T10 + KS_TK_MIN(2), T10 + KS_TK_MIN(2)},
                    {1, T10 + KS_TK_MIN(12), T10 + KS_TK_MIN(12)},
                    {1, T10 + KS_TK_MIN(14), T10 + KS_TK_MIN(14)}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  runner *r = fx.r;
  ks_merge_drain(r, 0);
  /* 10:00 a, 2099 a (refused), 10:02 b, 10:10 a; m.a empty: wait */
  expect_counts(&fx, 4, 1, 0);
  assert_true(ks_engine_partition_time(r->engine, 0, 0) == T10 + KS_TK_MIN(10));
  assert_true(ks_engine_watermark(r->engine, 0) == T10 + KS_TK_MIN(2));
  fixture_end(&fx);
  expect_counts(&fx, 6, 1, 0);
  ks_engine_stats st;
  ks_engine_get_stats(r->engine, &st);
  assert_int_equal(st.intervals_closed, 1);
  assert_true(events_in(&fx.g, T10) == 5.0);
  fixture_free(&fx);
}

/* The merge orders by a time only while the engine would accept it: the
 * bound grows with the task. An event 50 min ahead of the task waits in time
 * order (it is not refused); one 70 min ahead of both the task and its record
 * time is refused. */
static void the_bound_follows_the_task(void **state) {
  (void)state;
  const spec s[] = {{0, T10, T10},
                    {0, T10 + KS_TK_MIN(50), T10},
                    {0, T10 + KS_TK_MIN(130), T10 + KS_TK_MIN(40)},
                    {1, T10 + KS_TK_MIN(5), T10},
                    {1, T10 + KS_TK_MIN(55), T10}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  runner *r = fx.r;
  ks_merge_drain(r, 0);
  /* 10:00 a, 10:05 b, 10:50 a (within max(10:05, 10:00) + 1 h: ordered by
   * its time, after 10:05 b); then the head of m.a is 12:10, beyond
   * max(10:50, record time 10:40) + 1 h = 11:50: refused before 10:55 b,
   * which then waits for m.a */
  expect_counts(&fx, 4, 1, 0);
  assert_true(ks_engine_partition_time(r->engine, 0, 0) == T10 + KS_TK_MIN(50));
  assert_true(ks_engine_partition_time(r->engine, 0, 1) == T10 + KS_TK_MIN(5));
  assert_int_equal(r->parts[1].q_len, 1);
  assert_true(ks_engine_time_limit(r->engine, 0, T10) == T10 + KS_TK_MIN(110));
  assert_true(ks_engine_time_limit(r->engine, 0, T10 + KS_TK_MIN(70)) == T10 + KS_TK_MIN(130));
  fixture_free(&fx);
}

/* A partition whose end is seen while it still buffers messages stops
 * holding the watermark only once they are processed. Before, it was marked
 * idle at once; its first processed message made it active again, and it then
 * held the watermark at its last time until the end of the run. */
static void end_of_partition_counts_after_its_buffer(void **state) {
  (void)state;
  const spec s[] = {{0, T10, T10},
                    {0, T10 + KS_TK_MIN(20), T10},
                    {0, T10 + KS_TK_MIN(40), T10},
                    {1, T10 + KS_TK_MIN(1), T10}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  runner *r = fx.r;
  ks_merge_eof(r, &r->parts[1]); /* m.b at its end, 10:01 still buffered */
  assert_true(ks_engine_watermark(r->engine, 0) == INT64_MIN);
  ks_merge_drain(r, 0);
  /* 10:00 a, 10:01 b (m.b now drained at its end: idle), 10:20 a, 10:40 a:
   * the watermark follows m.a alone and closes 10:00 and 10:15 */
  expect_counts(&fx, 4, 0, 0);
  assert_true(ks_engine_watermark(r->engine, 0) == T10 + KS_TK_MIN(40));
  ks_engine_stats st;
  ks_engine_get_stats(r->engine, &st);
  assert_int_equal(st.intervals_closed, 2);
  assert_true(events_in(&fx.g, T10) == 2.0);
  assert_true(events_in(&fx.g, T10 + KS_TK_MIN(15)) == 1.0);
  fixture_free(&fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(peek_reads_the_time_the_decoder_reads),
      cmocka_unit_test(year_3000_does_not_hold_the_merge),
      cmocka_unit_test(far_future_is_refused_in_place),
      cmocka_unit_test(the_bound_follows_the_task),
      cmocka_unit_test(end_of_partition_counts_after_its_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
