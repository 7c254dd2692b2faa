/*
 * test_operations_more — the operations plugin's split contact state: a
 * contact's third and fourth queue and second and third agent leg live in a
 * second record (table contacts_more); the names of its current queue and
 * agent stay in the contact for events that omit them. Driven through the real engine like
 * test_operations.c; every expected number is worked out by hand in the
 * comments.
 *
 * Times: KS_TK_T0 is 2026-11-23T00:00:00Z, aligned to 15 minutes; I(k) is the
 * k-th 15-minute interval from there. S(s) = KS_TK_T0 + s seconds.
 */
#include <math.h>
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
#define IV_MS  KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV_MS)
#define S(s)   (KS_TK_T0 + KS_TK_SEC(s))
#define VOICE  KPISTREAM__V1__CHANNEL__CHANNEL_VOICE

/* ---- result collection ------------------------------------------------------ */

/* Results are the kit's (kpistream/testkit.h): plain structs decoded from
 * the protobuf bytes the sink receives. */
typedef ks_testkit_result got;

typedef struct fx {
  ks_testkit *k;
} fx;

/* A kit with the operations plugin (15-minute intervals). */
static void fx_init(fx *f, const ks_testkit_kv *kv, size_t n) {
  memset(f, 0, sizeof *f);
  const ks_testkit_options o = {.interval_ms = IV_MS};
  char err[512];
  assert_int_equal(ks_testkit_new(&f->k, &o, err, sizeof err), 0);
  if (ks_testkit_add_plugin(f->k, PLUGIN, NULL, kv, n, err, sizeof err) != 0)
    fail_msg("add_plugin: %s", err);
}

static void fx_free(fx *f) {
  ks_testkit_free(f->k);
  memset(f, 0, sizeof *f);
}

/* Close every interval; no plugin error, every result on kpi.operations. */
static void flush(fx *f) {
  if (ks_testkit_flush(f->k) != 0)
    fail_msg("%s", ks_testkit_error(f->k));
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    assert_string_equal(ks_testkit_result_at(f->k, i)->topic, "kpi.operations");
}

static const got *find(const fx *f, const char *metric, const char *queue, const char *agent,
                       int64_t start) {
  const got *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++) {
    const got *g = ks_testkit_result_at(f->k, i);
    if (strcmp(g->metric, metric) == 0 && strcmp(g->queue, queue) == 0 &&
        strcmp(g->agent, agent ? agent : "") == 0 && g->start_ms == start) {
      if (hit)
        fail_msg("%s %s/%s emitted twice", metric, queue, agent ? agent : "");
      hit = g;
    }
  }
  return hit;
}

/* want: the value, or NAN for "no value" (null result). */
static void expect_at(const fx *f, const char *metric, const char *queue, const char *agent,
                      int64_t start, double want, const char *file, int line) {
  const got *g = find(f, metric, queue, agent, start);
  if (g == NULL) {
    print_error("%s:%d: no result %s queue='%s' agent='%s'\n", file, line, metric, queue,
                agent ? agent : "");
    _fail(file, line);
  }
  int ok = isnan(want) ? !g->has_value
                       : g->has_value && fabs(g->value - want) <= 1e-9 * fmax(1.0, fabs(want));
  if (!ok) {
    print_error("%s:%d: %s %s/%s: want %.9g, got %s%.9g\n", file, line, metric, queue,
                agent ? agent : "", want, g->has_value ? "" : "null ", g->value);
    _fail(file, line);
  }
}

#define EXPECT(f, m, q, iv, v)        expect_at(f, m, q, NULL, iv, v, __FILE__, __LINE__)
#define EXPECT_A(f, m, ag, iv, v)     expect_at(f, m, "", ag, iv, v, __FILE__, __LINE__)
#define EXPECT_QA(f, m, q, ag, iv, v) expect_at(f, m, q, ag, iv, v, __FILE__, __LINE__)

/* ---- four queues, three legs, then events that omit the names ------------- */

/*
 * Voice contact c1 (customer u1), all in I(0):
 *   q1 queued 0, answered 10 by a1 (wait 10)     slot 0, leg 0 (contact)
 *   a1 transfers at 40 (ends a1's talk: 30), a1's wrap-up ends 60 naming q1
 *        and a1: talk 30, acw 20, handle 50, transferred; the contact's
 *        FCR is counted here (u1, no earlier contact: no repeat)
 *   q2 queued 41, answered 50 by a2 (wait 9)     slot 1, leg 1 (more)
 *   a2 transfers at 100 (talk 50), wrap-up ends 110 naming q2 and a2:
 *        acw 10, handle 60, transferred
 *   q3 queued 101                                slot 2 (more)
 *   q4 queued 131, never answered                slot 3 (more)
 *   q3 answered 141 by a3 (wait 40)              slot 2, leg 2 (more)
 * From here on no event names a queue or agent: the contact's current ones
 * (q3, a3), kept in the contact, take them:
 *   hold 150..170 (20), escalated 180, ended 200, wrap-up ends 230:
 *   a3 talk = 200 - 141 - 20 = 39, hold 20, acw 30, handle 89, escalated.
 * A duplicate of a2's wrap-up (naming q2, a2) at 235 finds a2's handled leg
 * and is ignored.
 */
static void feed_four_queues_head(ks_testkit *e) {
  assert_int_equal(ks_tk_queued(e, S(0), VOICE, "q1", "c1", "u1"), KS_PROCESSED);
  assert_int_equal(ks_tk_answered(e, S(10), VOICE, "q1", "c1", "a1"), KS_PROCESSED);
  assert_int_equal(ks_tk_transferred(e, S(40), VOICE, "q1", "c1", "a1", "q2"), KS_PROCESSED);
  assert_int_equal(ks_tk_queued(e, S(41), VOICE, "q2", "c1", "u1"), KS_PROCESSED);
  assert_int_equal(ks_tk_answered(e, S(50), VOICE, "q2", "c1", "a2"), KS_PROCESSED);
  assert_int_equal(ks_tk_acw_ended(e, S(60), VOICE, "q1", "c1", "a1", "", 0), KS_PROCESSED);
  assert_int_equal(ks_tk_transferred(e, S(100), VOICE, "q2", "c1", "a2", "q3"), KS_PROCESSED);
  assert_int_equal(ks_tk_queued(e, S(101), VOICE, "q3", "c1", "u1"), KS_PROCESSED);
  assert_int_equal(ks_tk_acw_ended(e, S(110), VOICE, "q2", "c1", "a2", "", 0), KS_PROCESSED);
  assert_int_equal(ks_tk_queued(e, S(131), VOICE, "q4", "c1", "u1"), KS_PROCESSED);
  assert_int_equal(ks_tk_answered(e, S(141), VOICE, "q3", "c1", "a3"), KS_PROCESSED);
}

static void feed_four_queues_tail(ks_testkit *e) {
  assert_int_equal(ks_tk_hold(e, S(150), VOICE, NULL, "c1", NULL, 1), KS_PROCESSED);
  assert_int_equal(ks_tk_hold(e, S(170), VOICE, NULL, "c1", NULL, 0), KS_PROCESSED);
  assert_int_equal(ks_tk_escalated(e, S(180), VOICE, NULL, "c1", NULL), KS_PROCESSED);
  assert_int_equal(ks_tk_ended(e, S(200), VOICE, NULL, "c1", NULL), KS_PROCESSED);
  assert_int_equal(ks_tk_acw_ended(e, S(230), VOICE, NULL, "c1", NULL, "", 0), KS_PROCESSED);
  assert_int_equal(ks_tk_acw_ended(e, S(235), VOICE, "q2", "c1", "a2", "", 0), KS_PROCESSED);
}

static void check_four_queues(const fx *f) {
  const int64_t i0 = I(0);
  const char *q[] = {"q1", "q2", "q3", "q4"};
  const double offered[] = {1, 1, 1, 1}, answered[] = {1, 1, 1, 0}, handled[] = {1, 1, 1, 0};
  for (int i = 0; i < 4; i++) {
    EXPECT(f, "offered", q[i], i0, offered[i]);
    EXPECT(f, "answered", q[i], i0, answered[i]);
    EXPECT(f, "handled", q[i], i0, handled[i]);
  }
  EXPECT(f, "asa", "q1", i0, 10);
  EXPECT(f, "asa", "q2", i0, 9);
  EXPECT(f, "asa", "q3", i0, 40);
  EXPECT(f, "asa", "q4", i0, NAN);
  EXPECT(f, "aht", "q1", i0, 50);
  EXPECT(f, "aht", "q2", i0, 60);
  EXPECT(f, "aht", "q3", i0, 89);
  EXPECT(f, "aht", "q4", i0, NAN);
  EXPECT(f, "avg_talk", "q3", i0, 39);
  EXPECT(f, "avg_hold", "q3", i0, 20);
  EXPECT(f, "avg_acw", "q3", i0, 30);
  EXPECT(f, "transfer_rate", "q1", i0, 1);
  EXPECT(f, "transfer_rate", "q2", i0, 1);
  EXPECT(f, "transfer_rate", "q3", i0, 0);
  EXPECT(f, "escalation_rate", "q3", i0, 1);
  EXPECT(f, "fcr", "q1", i0, 1); /* counted once, at the first wrap-up */
  EXPECT(f, "fcr", "q3", i0, NAN);
  EXPECT_A(f, "answered", "a1", i0, 1);
  EXPECT_A(f, "answered", "a2", i0, 1);
  EXPECT_A(f, "answered", "a3", i0, 1);
  EXPECT_A(f, "aht", "a1", i0, 50);
  EXPECT_A(f, "aht", "a2", i0, 60);
  EXPECT_A(f, "aht", "a3", i0, 89);
  EXPECT_A(f, "avg_hold", "a3", i0, 20);
  EXPECT_A(f, "transfer_rate", "a1", i0, 1);
  EXPECT_A(f, "transfer_rate", "a3", i0, 0);
  /* nothing fell back to an empty queue name */
  assert_null(find(f, "handled", "", NULL, i0));
}

static void test_four_queues_three_legs_omitted_names(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  feed_four_queues_head(f.k);
  feed_four_queues_tail(f.k);
  flush(&f);
  check_four_queues(&f);
  fx_free(&f);
}

/* The same contact cut after a3's answer (its more-record and the names are
 * in state), checkpointed, thrown away and restored into a fresh engine:
 * the same results as the uninterrupted run, value for value. */
static void test_four_queues_checkpoint(void **state) {
  (void)state;
  fx ref, b;
  fx_init(&ref, NULL, 0);
  feed_four_queues_head(ref.k);
  feed_four_queues_tail(ref.k);
  flush(&ref);

  fx_init(&b, NULL, 0);
  feed_four_queues_head(b.k);
  assert_int_equal(ks_testkit_result_count(b.k), 0); /* I(0) is still open */
  char err[512];
  if (ks_testkit_restart(b.k, err, sizeof err) != 0)
    fail_msg("restart: %s", err);
  feed_four_queues_tail(b.k);
  flush(&b);
  check_four_queues(&b);
  assert_int_equal(ks_testkit_result_count(b.k), ks_testkit_result_count(ref.k));
  for (size_t i = 0; i < ks_testkit_result_count(ref.k); i++) {
    assert_string_equal((*ks_testkit_result_at(b.k, i)).key, (*ks_testkit_result_at(ref.k, i)).key);
    assert_int_equal((*ks_testkit_result_at(b.k, i)).has_value,
                     (*ks_testkit_result_at(ref.k, i)).has_value);
    assert_true((*ks_testkit_result_at(b.k, i)).numerator ==
                    (*ks_testkit_result_at(ref.k, i)).numerator &&
                (*ks_testkit_result_at(b.k, i)).denominator ==
                    (*ks_testkit_result_at(ref.k, i)).denominator);
    assert_int_equal((*ks_testkit_result_at(b.k, i)).count,
                     (*ks_testkit_result_at(ref.k, i)).count);
  }
  fx_free(&b);
  fx_free(&ref);
}

/* ---- long names omitted later ------------------------------------------------ */

/*
 * Queue and agent ids at the identifier limit (KS_ID_MAX, 47 bytes): the
 * contact keeps them whole (it holds 63), so events that omit them count
 * under the same names as those that give them. Longer ids never reach the
 * plugin (the decoder refuses the event), so no name is ever cut.
 * c1: queued 0 in LQ, answered 10 by LA, a second agent a2 answers at 20
 * (leg 1, in the more-record), ended 70 and wrap-up 100 omit queue and
 * agent: the contact's current agent is a2 (the last answer), its queue LQ:
 * a2's leg is handled (talk 70 - 20 = 50, acw 30, handle 80) under LQ.
 * c2: queued 200 in LQ, answered 210 by LA, ended 270 and wrap-up 300 omit
 * both: the agent falls back to LA, whole, so its answered leg is handled:
 * talk 270 - 210 = 60, acw 30, handle 90, per agent under (LQ, LA).
 */
static void test_long_names_omitted(void **state) {
  (void)state;
  char lq[KS_ID_MAX + 1], la[KS_ID_MAX + 1], over[KS_ID_MAX + 2];
  memset(lq, 'q', KS_ID_MAX);
  lq[KS_ID_MAX] = '\0';
  memset(la, 'a', KS_ID_MAX);
  la[KS_ID_MAX] = '\0';
  memset(over, 'a', KS_ID_MAX + 1);
  over[KS_ID_MAX + 1] = '\0';
  fx f;
  const ks_testkit_kv kv[] = {{"per_agent", "queue"}};
  fx_init(&f, kv, 1);
  ks_tk_queued(f.k, S(0), VOICE, lq, "c1", "u1");
  ks_tk_answered(f.k, S(10), VOICE, lq, "c1", la);
  ks_tk_answered(f.k, S(20), VOICE, lq, "c1", "a2");
  ks_tk_ended(f.k, S(70), VOICE, NULL, "c1", NULL);
  ks_tk_acw_ended(f.k, S(100), VOICE, NULL, "c1", NULL, "", 0);
  ks_tk_queued(f.k, S(200), VOICE, lq, "c2", "u2");
  ks_tk_answered(f.k, S(210), VOICE, lq, "c2", la);
  ks_tk_ended(f.k, S(270), VOICE, NULL, "c2", NULL);
  ks_tk_acw_ended(f.k, S(300), VOICE, NULL, "c2", NULL, "", 0);
  /* one byte longer: refused before the plugin, counted nowhere in it */
  assert_int_equal(ks_tk_answered(f.k, S(280), VOICE, lq, "c2", over), KS_REJECTED);
  flush(&f);
  const int64_t i0 = I(0);
  EXPECT(&f, "offered", lq, i0, 2);
  EXPECT(&f, "answered", lq, i0, 2);
  EXPECT(&f, "asa", lq, i0, 10); /* (10 + 10) / 2 */
  EXPECT(&f, "handled", lq, i0, 2);
  EXPECT(&f, "aht", lq, i0, 85);      /* (80 + 90) / 2 */
  EXPECT(&f, "avg_talk", lq, i0, 55); /* (50 + 60) / 2 */
  EXPECT(&f, "avg_acw", lq, i0, 30);
  EXPECT_QA(&f, "answered", lq, la, i0, 2);
  EXPECT_QA(&f, "answered", lq, "a2", i0, 1);
  EXPECT_QA(&f, "aht", lq, "a2", i0, 80);
  EXPECT_QA(&f, "aht", lq, la, i0, 90);
  fx_free(&f);
}

/* ---- the more-record lives as long as its contact ------------------------------ */

/*
 * contact_ttl 10 minutes. c1 (voice): q1 queued 0, answered 10 by a1, a1
 * transfers at 60 and wraps up at 90 (q1: handle 50 + 30 = 80); queued in
 * q2 at 61 and in q3 at 120 (slot 2: the more-record is made at 120).
 * Then only a1's leg (in the contact record) hears from it: hold events at
 * 480, 960 and 1440 s (ignored after a1's wrap-up, but they touch the
 * contact), each within 10 minutes of the one before. At 1500 s a2
 * answers in q3: 1380 s after the more-record was last written, yet it is
 * still there, with q3's entry time: wait 1380 s, in I(1). a2 ends at 1560
 * and wraps up at 1600 without naming queue or agent: q3 handled, talk 60,
 * acw 40, handle 100.
 * c2: queued in r1, r2, r3 at 0, 5, 10 (more-record made at 10), then
 * nothing for 1490 s: both records are forgotten, so r3's answer at 1500
 * is a fresh contact's, with no known wait.
 */
static void test_more_record_kept_with_contact(void **state) {
  (void)state;
  fx f;
  const ks_testkit_kv kv[] = {{"contact_ttl", "10m"}};
  fx_init(&f, kv, 1);
  ks_tk_queued(f.k, S(0), VOICE, "q1", "c1", "u1");
  ks_tk_queued(f.k, S(0), VOICE, "r1", "c2", "u2");
  ks_tk_queued(f.k, S(5), VOICE, "r2", "c2", "u2");
  ks_tk_queued(f.k, S(10), VOICE, "r3", "c2", "u2");
  ks_tk_answered(f.k, S(10), VOICE, "q1", "c1", "a1");
  ks_tk_transferred(f.k, S(60), VOICE, "q1", "c1", "a1", "q2");
  ks_tk_queued(f.k, S(61), VOICE, "q2", "c1", "u1");
  ks_tk_acw_ended(f.k, S(90), VOICE, "q1", "c1", "a1", "", 0);
  ks_tk_queued(f.k, S(120), VOICE, "q3", "c1", "u1");
  for (int t = 480; t <= 1440; t += 480)
    assert_int_equal(ks_tk_hold(f.k, S(t), VOICE, NULL, "c1", "a1", 1), KS_PROCESSED);
  ks_tk_answered(f.k, S(1500), VOICE, "q3", "c1", "a2");
  ks_tk_answered(f.k, S(1500), VOICE, "r3", "c2", "a3");
  ks_tk_ended(f.k, S(1560), VOICE, NULL, "c1", NULL);
  ks_tk_acw_ended(f.k, S(1600), VOICE, NULL, "c1", NULL, "", 0);
  flush(&f);
  EXPECT(&f, "offered", "q3", I(0), 1);
  EXPECT(&f, "aht", "q1", I(0), 80);
  EXPECT(&f, "answered", "q3", I(1), 1);
  EXPECT(&f, "asa", "q3", I(1), 1380);
  EXPECT(&f, "longest_wait", "q3", I(1), 1380);
  EXPECT(&f, "handled", "q3", I(1), 1);
  EXPECT(&f, "aht", "q3", I(1), 100);
  EXPECT(&f, "avg_talk", "q3", I(1), 60);
  EXPECT_A(&f, "aht", "a2", I(1), 100);
  /* c2 was forgotten: r3's answer has no known wait */
  EXPECT(&f, "offered", "r3", I(0), 1);
  EXPECT(&f, "answered", "r3", I(1), 1);
  EXPECT(&f, "asa", "r3", I(1), NAN);
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_four_queues_three_legs_omitted_names),
      cmocka_unit_test(test_four_queues_checkpoint),
      cmocka_unit_test(test_long_names_omitted),
      cmocka_unit_test(test_more_record_kept_with_contact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
