/*
 * test_experience — the experience KPI plugin, driven through the real
 * engine: hand-made event sequences in, results decoded from the protobuf
 * bytes the sink receives (what goes on the wire), values asserted exactly.
 * Every expected number is worked out by hand in the comments.
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

#define PLUGIN KS_TEST_PLUGIN_DIR "/kpi_experience.so"
#define IV_MS  KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV_MS)
#define S(s)   (KS_TK_T0 + KS_TK_SEC(s))

#define VOICE KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define EMAIL KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL
#define CHAT  KPISTREAM__V1__CHANNEL__CHANNEL_CHAT
#define CSAT  KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT
#define NPS   KPISTREAM__V1__SURVEY_TYPE__SURVEY_NPS
#define CES   KPISTREAM__V1__SURVEY_TYPE__SURVEY_CES

/* ---- result collection ---------------------------------------------------- */

/* Results are the kit's (kpistream/testkit.h): plain structs decoded from
 * the protobuf bytes the sink receives. */
typedef ks_testkit_result got;

typedef struct fx {
  ks_testkit *k;
  const char *tenant; /* of the events the helpers build */
  int lax;            /* helpers accept late and refused events too */
} fx;

static void fx_init_lat(fx *f, const ks_testkit_kv *kv, size_t n, int64_t lateness_ms) {
  memset(f, 0, sizeof *f);
  f->tenant = KS_TK_TENANT;
  ks_testkit_options o = {0};
  o.interval_ms = IV_MS;
  o.lateness_ms = lateness_ms;
  char err[512];
  assert_int_equal(ks_testkit_new(&f->k, &o, err, sizeof err), 0);
  if (ks_testkit_add_plugin(f->k, PLUGIN, NULL, kv, n, err, sizeof err) != 0)
    fail_msg("add_plugin: %s", err);
}

static void fx_init(fx *f, const ks_testkit_kv *kv, size_t n) {
  fx_init_lat(f, kv, n, 0);
}

static void flush(fx *f);

/* init with options, feed a scenario, flush */
static void run(fx *f, const ks_testkit_kv *kv, size_t n, void (*scenario)(fx *)) {
  fx_init(f, kv, n);
  scenario(f);
  flush(f);
}

static void fx_free(fx *f) {
  ks_testkit_free(f->k);
  memset(f, 0, sizeof *f);
}

static void flush(fx *f) {
  if (ks_testkit_flush(f->k) != 0)
    fail_msg("%s", ks_testkit_error(f->k));
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    assert_string_equal(ks_testkit_result_at(f->k, i)->topic, "kpi.experience");
}

/* The result for tenant T and these dimensions and labels, or NULL. */
static const got *find_t(const fx *f, const char *tenant, const char *metric, int ch,
                         const char *queue, const char *agent, const char *labels, int64_t start) {
  const got *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++) {
    const got *g = ks_testkit_result_at(f->k, i);
    if (strcmp(g->metric, metric) == 0 && strcmp(g->tenant, tenant) == 0 && g->channel == ch &&
        strcmp(g->queue, queue) == 0 && strcmp(g->agent, agent ? agent : "") == 0 &&
        strcmp(g->labels, labels ? labels : "") == 0 && g->start_ms == start) {
      if (hit)
        fail_msg("%s %s/%s [%s] emitted twice", metric, queue, agent ? agent : "",
                 labels ? labels : "");
      hit = g;
    }
  }
  return hit;
}

static const got *find(const fx *f, const char *metric, int ch, const char *queue,
                       const char *agent, const char *labels, int64_t start) {
  return find_t(f, KS_TK_TENANT, metric, ch, queue, agent, labels, start);
}

static int close_enough(double a, double b) {
  return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

/* want_null: expect no value; else expect `want`. */
static void ex_expect(const fx *f, const char *tenant, const char *metric, int ch,
                      const char *queue, const char *agent, const char *labels, int64_t start,
                      int want_null, double want, const char *file, int line) {
  const got *g = find_t(f, tenant, metric, ch, queue, agent, labels, start);
  if (g == NULL) {
    print_error("%s:%d: no result %s ch=%d queue='%s' agent='%s' labels='%s'\n", file, line, metric,
                ch, queue, agent ? agent : "", labels ? labels : "");
    _fail(file, line);
  }
  if (want_null ? g->has_value : (!g->has_value || !close_enough(g->value, want))) {
    print_error("%s:%d: %s %s/%s [%s]: want %s%.9g, got %s%.9g (num %.9g den %.9g)\n", file, line,
                metric, queue, agent ? agent : "", labels ? labels : "", want_null ? "null " : "",
                want, g->has_value ? "" : "null ", g->value, g->numerator, g->denominator);
    _fail(file, line);
  }
}

/* Queue-level (agent ""), agent-level, labelled and null shorthands. */
#define EXPECT(f, m, ch, q, iv, v)                                                                 \
  ex_expect(f, KS_TK_TENANT, m, ch, q, NULL, NULL, iv, 0, v, __FILE__, __LINE__)
#define EXPECT_A(f, m, ch, q, ag, iv, v)                                                           \
  ex_expect(f, KS_TK_TENANT, m, ch, q, ag, NULL, iv, 0, v, __FILE__, __LINE__)
#define EXPECT_L(f, m, ch, q, lab, iv, v)                                                          \
  ex_expect(f, KS_TK_TENANT, m, ch, q, NULL, lab, iv, 0, v, __FILE__, __LINE__)
#define EXPECT_NULL(f, m, ch, q, iv)                                                               \
  ex_expect(f, KS_TK_TENANT, m, ch, q, NULL, NULL, iv, 1, 0, __FILE__, __LINE__)
#define EXPECT_NULL_L(f, m, ch, q, lab, iv)                                                        \
  ex_expect(f, KS_TK_TENANT, m, ch, q, NULL, lab, iv, 1, 0, __FILE__, __LINE__)

/* ---- event helpers (tenant f->tenant, topic 0, task 0) ----------------------------- */

static Kpistream__V1__Event env(const fx *f, int64_t t, int ch, const char *q, const char *contact,
                                const char *agent) {
  return ks_tk_event(t, f->tenant, ch, q, contact, NULL, agent);
}

static void feed(fx *f, Kpistream__V1__Event *ev) {
  const int rc = ks_testkit_feed(f->k, ev);
  if (f->lax) /* the host refuses bad scores, drops late events */
    assert_true(rc == KS_PROCESSED || rc == KS_LATE || rc == KS_REJECTED);
  else
    assert_int_equal(rc, KS_PROCESSED);
}

static void survey(fx *f, int64_t t, int ch, const char *q, const char *contact, const char *agent,
                   int type, int lo, int hi, int score, int lower, const char *sid) {
  Kpistream__V1__Event ev = env(f, t, ch, q, contact, agent);
  Kpistream__V1__SurveyResponse b = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  b.type = (Kpistream__V1__SurveyType)type;
  b.scale_min = lo;
  b.scale_max = hi;
  b.score = score;
  b.lower_is_better = lower;
  b.survey_id = (char *)(sid ? sid : "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &b;
  feed(f, &ev);
}

static void senti(fx *f, int64_t t, int ch, const char *q, const char *contact, const char *agent,
                  double overall, int se, double start, double end) {
  Kpistream__V1__Event ev = env(f, t, ch, q, contact, agent);
  Kpistream__V1__SentimentScore b = KPISTREAM__V1__SENTIMENT_SCORE__INIT;
  b.overall = overall;
  b.has_start_end = se;
  b.start = start;
  b.end = end;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SENTIMENT;
  ev.sentiment = &b;
  feed(f, &ev);
}

static void complaint(fx *f, int64_t t, int ch, const char *q, const char *contact,
                      const char *agent, const char *category) {
  Kpistream__V1__Event ev = env(f, t, ch, q, contact, agent);
  Kpistream__V1__Complaint b = KPISTREAM__V1__COMPLAINT__INIT;
  b.category = (char *)category;
  b.severity = (char *)"low";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_COMPLAINT;
  ev.complaint = &b;
  feed(f, &ev);
}

static void acw(fx *f, int64_t t, int ch, const char *q, const char *contact, const char *agent,
                const char *reason) {
  Kpistream__V1__Event ev = env(f, t, ch, q, contact, agent);
  Kpistream__V1__AfterContactWorkEnded b = KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT;
  b.reason_code = (char *)(reason ? reason : "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_ACW_ENDED;
  ev.acw_ended = &b;
  feed(f, &ev);
}

/* A detected reason: ContactQueued, or ContactCreated when `created`. */
static void detected(fx *f, int64_t t, int ch, const char *q, const char *contact,
                     const char *reason, int created) {
  Kpistream__V1__Event ev = env(f, t, ch, q, contact, NULL);
  Kpistream__V1__ContactQueued cq = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  Kpistream__V1__ContactCreated cc = KPISTREAM__V1__CONTACT_CREATED__INIT;
  cq.reason_code = cc.subject_reason = (char *)(reason ? reason : "");
  ev.body_case = created ? KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED
                         : KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  if (created)
    ev.contact_created = &cc;
  else
    ev.contact_queued = &cq;
  feed(f, &ev);
}
#define queued(f, t, ch, q, c, r)  detected(f, t, ch, q, c, r, 0)
#define created(f, t, ch, q, c, r) detected(f, t, ch, q, c, r, 1)

/* ---- CSAT ------------------------------------------------------------------------------ */

/*
 * All in I(0), queue "sales", voice, survey ids s1..:
 *   1-5:  5, 4, 3, 1, and 2 with lower_is_better (-> 4)
 *   1-3:  3, 2
 *   1-10: 10, 9, 8
 * Left out: 4 on 1-7, on 0-10 and with no scale (0-10 for the host): no
 * such CSAT scale; a survey of type 0; a resent s1. (Scores outside their
 * scale never arrive: the host refuses them.) Responses 5 + 2 + 3 = 10.
 */
static void feed_csat(fx *f) {
  static const struct {
    int type, lo, hi, score, lower;
    const char *id;
  } a[] = {{CSAT, 1, 5, 5, 0, "s1"},   {CSAT, 1, 5, 4, 0, "s2"},   {CSAT, 1, 5, 3, 0, "s3"},
           {CSAT, 1, 5, 1, 0, "s4"},   {CSAT, 1, 5, 2, 1, "s5"},   {CSAT, 1, 3, 3, 0, "s6"},
           {CSAT, 1, 3, 2, 0, "s7"},   {CSAT, 1, 10, 10, 0, "s8"}, {CSAT, 1, 10, 9, 0, "s9"},
           {CSAT, 1, 10, 8, 0, "s10"}, /* ignored from here */
           {CSAT, 1, 7, 4, 0, "x1"},   {CSAT, 0, 0, 4, 0, "x2"},   {CSAT, 0, 10, 4, 0, "x3"},
           {0, 1, 5, 4, 0, "x4"},      {CSAT, 1, 5, 1, 0, "s1"}};
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
    survey(f, S(10 + (int)i), VOICE, "sales", NULL, NULL, a[i].type, a[i].lo, a[i].hi, a[i].score,
           a[i].lower, a[i].id);
}

static void test_csat(void **state) {
  (void)state;
  fx f;
  run(&f, NULL, 0, feed_csat);
  const int64_t i0 = I(0);
  /* satisfied (top-2-box): 1-5 {5, 4, 4 flipped} = 3, 1-3 {3} = 1,
   * 1-10 {10, 9} = 2 -> 6 of 10 */
  EXPECT(&f, "csat", VOICE, "sales", i0, 0.6);
  /* normalised: 1-5 (s-1)/4*100: 100 + 75 + 50 + 0 + 75 = 300;
   * 1-3 (s-1)/2*100: 100 + 50 = 150; 1-10 (s-1)/9*100: 100 + 800/9 + 700/9
   * = 2400/9. Sum 450 + 2400/9 = 6450/9, over 10 = 645/9 */
  EXPECT(&f, "csat_mean", VOICE, "sales", i0, 645.0 / 9.0);
  /* raw means per scale: (5+4+3+1+4)/5 = 3.4, (3+2)/2 = 2.5, 27/3 = 9 */
  EXPECT_L(&f, "csat_mean_raw", VOICE, "sales", "scale=1-5", i0, 3.4);
  EXPECT_L(&f, "csat_mean_raw", VOICE, "sales", "scale=1-3", i0, 2.5);
  EXPECT_L(&f, "csat_mean_raw", VOICE, "sales", "scale=1-10", i0, 9.0);
  const got *g = find(&f, "csat", VOICE, "sales", NULL, NULL, i0);
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_RATIO);
  assert_string_equal(g->unit, "ratio");
  assert_true(g->numerator == 6 && g->denominator == 10 && g->count == 10);
  assert_string_equal(g->family, "experience");
  assert_int_equal(g->end_ms, I(1));
  char want_key[128];
  snprintf(want_key, sizeof want_key, "experience/csat|acme|voice|sales|||%lld", (long long)i0);
  assert_string_equal(g->key, want_key);
  g = find(&f, "csat_mean_raw", VOICE, "sales", NULL, "scale=1-10", i0);
  assert_string_equal(g->unit, "score");
  assert_int_equal(g->count, 3);
  /* no other section had input: no NPS, CES, sentiment, complaints, reasons;
   * 10 responses (no contact id: each one), nothing handled: rate null */
  /* csat, csat_mean, three csat_mean_raw, survey_responses (+ rate) */
  assert_int_equal(ks_testkit_result_count(f.k), 7);
  EXPECT(&f, "survey_responses", VOICE, "sales", i0, 10);
  EXPECT_NULL(&f, "survey_response_rate", VOICE, "sales", i0);
  fx_free(&f);
}

static void test_csat_cuts(void **state) {
  (void)state;
  /* top-box on 1-5 (5 only), top-2 on 1-3 (2..3), top-3 on 1-10 (8..10):
   * 1-5: {5, 4, 3, 1, 4 flipped}: satisfied {5} = 1; 1-3: {3, 2} = 2;
   * 1-10: {10, 9, 8} = 3 -> 6 of 10; the means do not change */
  const ks_testkit_kv kv[] = {
      {"csat_satisfied_min_5", "5"}, {"csat_satisfied_min_3", "2"}, {"csat_satisfied_min_10", "8"}};
  fx f;
  run(&f, kv, 3, feed_csat);
  EXPECT(&f, "csat", VOICE, "sales", I(0), 0.6);
  EXPECT(&f, "csat_mean", VOICE, "sales", I(0), 645.0 / 9.0);
  fx_free(&f);

  /* top-box everywhere: 1-5 {5}, 1-3 {3}, 1-10 {10} -> 3 of 10 */
  const ks_testkit_kv top[] = {{"csat_satisfied_min_5", "5"}, {"csat_satisfied_min_10", "10"}};
  run(&f, top, 2, feed_csat);
  EXPECT(&f, "csat", VOICE, "sales", I(0), 0.3);
  fx_free(&f);
}

/* ---- NPS ------------------------------------------------------------------------------- */

static void test_nps(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  const char *Q = "sales";
  /* 10, 9, 9 promoters; 8, 7 passives; 6, 0 detractors; 10 with no scale
   * sent (0-10) promoter; 1 with lower_is_better (-> 9) promoter; resent n1
   * ignored */
  static const int scores[] = {10, 9, 9, 8, 7, 6, 0};
  char id[8];
  for (int i = 0; i < 7; i++) {
    snprintf(id, sizeof id, "n%d", i + 1);
    survey(&f, S(10 + i), CHAT, Q, NULL, NULL, NPS, 0, 10, scores[i], 0, id);
  }
  survey(&f, S(30), CHAT, Q, NULL, NULL, NPS, 0, 0, 10, 0, "n8");
  survey(&f, S(31), CHAT, Q, NULL, NULL, NPS, 0, 10, 1, 1, "n10");
  survey(&f, S(33), CHAT, Q, NULL, NULL, NPS, 0, 10, 0, 0, "n1");
  /* I(1): one detractor only */
  survey(&f, I(1) + KS_TK_SEC(5), CHAT, Q, NULL, NULL, NPS, 0, 10, 3, 0, "n9");
  flush(&f);
  /* P = 5, passives 2, D = 2, N = 9: (5 - 2) / 9 * 100 = 100/3 */
  EXPECT(&f, "nps", CHAT, Q, I(0), 100.0 / 3.0);
  EXPECT(&f, "nps_promoters", CHAT, Q, I(0), 5);
  EXPECT(&f, "nps_passives", CHAT, Q, I(0), 2);
  EXPECT(&f, "nps_detractors", CHAT, Q, I(0), 2);
  const got *g = find(&f, "nps", CHAT, Q, NULL, NULL, I(0));
  assert_true(g->numerator == 300 && g->denominator == 9 && g->count == 9);
  assert_string_equal(g->unit, "score");
  /* 0 - 1 of 1: -100 */
  EXPECT(&f, "nps", CHAT, Q, I(1), -100.0);
  EXPECT(&f, "nps_promoters", CHAT, Q, I(1), 0);
  fx_free(&f);
}

/* ---- CES ------------------------------------------------------------------------------- */

/*
 * Queue "support", email, I(0):
 *   1-7 (high = easy): 7, 5, 4, 1
 *   1-5 lower_is_better: 1, 2, 4 (-> 5, 4, 2 with direction `event`)
 *   1-5 high = easy: 5
 *   ignored: 6 with no scale sent (0-10 for the host: not a CES scale)
 */
static void feed_ces(fx *f) {
  static const struct {
    int hi, score, lower;
  } a[] = {{7, 7, 0}, {7, 5, 0}, {7, 4, 0}, {7, 1, 0}, {5, 1, 1},
           {5, 2, 1}, {5, 4, 1}, {5, 5, 0}, {0, 6, 0}};
  char id[8];
  for (int i = 0; i < 9; i++) {
    snprintf(id, sizeof id, "c%d", i);
    survey(f, S(10 + i), EMAIL, "support", NULL, NULL, CES, a[i].hi ? 1 : 0, a[i].hi, a[i].score,
           a[i].lower, id);
  }
}

static void test_ces(void **state) {
  (void)state;
  fx f;
  run(&f, NULL, 0, feed_ces);
  /* easy: 1-7 >= 5: {7, 5}; 1-5 >= 4: {5, 4} flipped + {5} -> 5 of 8.
   * Mean on 1-7: 7+5+4+1 = 17; 1-5 answers mapped by 1 + (s-1)*1.5:
   * 5 -> 7, 4 -> 5.5, 2 -> 2.5, 5 -> 7 = 22 -> 39 / 8 */
  EXPECT(&f, "ces_easy_share", EMAIL, "support", I(0), 5.0 / 8.0);
  EXPECT(&f, "ces_mean", EMAIL, "support", I(0), 39.0 / 8.0);
  fx_free(&f);

  /* every answer high = easy: legacy 1, 2, 4 stay: easy {4} only -> 4 of 8;
   * mapped 1, 2.5, 5.5: sum 17 + 9 + 7 = 33 -> 33/8 */
  const ks_testkit_kv hi[] = {{"ces_direction", "high_easy"}};
  run(&f, hi, 1, feed_ces);
  EXPECT(&f, "ces_easy_share", EMAIL, "support", I(0), 0.5);
  EXPECT(&f, "ces_mean", EMAIL, "support", I(0), 33.0 / 8.0);
  fx_free(&f);

  /* every answer low = easy: 1-7 7,5,4,1 -> 1,3,4,7: easy (>= 5) {7} = 1;
   * 1-5 1,2,4 -> 5,4,2 easy 2; 5 -> 1 not: 3 of 8.
   * mean: 15 + (7 + 5.5 + 2.5 + 1) = 31 -> 31/8 */
  const ks_testkit_kv lo[] = {{"ces_direction", "low_easy"}};
  run(&f, lo, 1, feed_ces);
  EXPECT(&f, "ces_easy_share", EMAIL, "support", I(0), 3.0 / 8.0);
  EXPECT(&f, "ces_mean", EMAIL, "support", I(0), 31.0 / 8.0);
  fx_free(&f);

  /* reported on 1-5: 1-7 mapped by 1 + (s-1)*4/6: 7 -> 5, 5 -> 11/3, 4 -> 3, 1 -> 1 = 38/3;
   * 1-5: 5 + 4 + 2 + 5 = 16 -> (38/3 + 16) / 8 = 43/12. Easy with
   * ces_easy_min_7 = 7 and ces_easy_min_5 = 5: {7} + {5 flipped, 5} = 3 of 8 */
  const ks_testkit_kv k5[] = {{"ces_scale", "5"}, {"ces_easy_min_7", "7"}, {"ces_easy_min_5", "5"}};
  run(&f, k5, 3, feed_ces);
  EXPECT(&f, "ces_mean", EMAIL, "support", I(0), 43.0 / 12.0);
  EXPECT(&f, "ces_easy_share", EMAIL, "support", I(0), 3.0 / 8.0);
  fx_free(&f);
}

/* ---- sentiment ------------------------------------------------------------------------- */

/*
 * Queue "sales", voice, I(0), thresholds +-0.25:
 *   c1 a1  0.5   start -0.2 end  0.6 (change  0.8)  positive
 *   c2 a1 -0.5   start  0.1 end -0.7 (change -0.8)  negative
 *   c3 a2  0.1   no start/end                        neutral
 *   c4 a2  0.25  start  0   end  0.5 (change  0.5)  positive (>= 0.25)
 *   c5 a2 -0.25  no start/end                        negative (<= -0.25)
 *   c6 a1  0.0   no start/end                        neutral
 *   ignored: c1/a1 again (duplicate)
 * Queue "web", chat: one 0.3 without start/end, no contact id.
 */
static void feed_senti(fx *f) {
  const char *Q = "sales";
  senti(f, S(10), VOICE, Q, "c1", "a1", 0.5, 1, -0.2, 0.6);
  senti(f, S(11), VOICE, Q, "c2", "a1", -0.5, 1, 0.1, -0.7);
  senti(f, S(12), VOICE, Q, "c3", "a2", 0.1, 0, 0, 0);
  senti(f, S(13), VOICE, Q, "c4", "a2", 0.25, 1, 0.0, 0.5);
  senti(f, S(14), VOICE, Q, "c5", "a2", -0.25, 0, 0, 0);
  senti(f, S(15), VOICE, Q, "c6", "a1", 0.0, 0, 0, 0);
  senti(f, S(18), VOICE, Q, "c1", "a1", -1.0, 0, 0, 0);
  senti(f, S(19), CHAT, "web", NULL, NULL, 0.3, 0, 0, 0);
}

static void test_sentiment(void **state) {
  (void)state;
  fx f;
  run(&f, NULL, 0, feed_senti);
  const int64_t i0 = I(0);
  /* 6 scores: sum 0.5 - 0.5 + 0.1 + 0.25 - 0.25 + 0 = 0.1 -> 0.1 / 6 */
  EXPECT(&f, "sentiment_avg", VOICE, "sales", i0, 0.1 / 6.0);
  /* positive {c1, c4} - negative {c2, c5}: both thresholds inclusive -> 0 */
  EXPECT(&f, "net_sentiment", VOICE, "sales", i0, 0.0);
  /* (0.8 - 0.8 + 0.5) / 3 scores with start and end */
  EXPECT(&f, "sentiment_change", VOICE, "sales", i0, 0.5 / 3.0);
  const got *g = find(&f, "sentiment_change", VOICE, "sales", NULL, NULL, i0);
  assert_int_equal(g->count, 3);
  g = find(&f, "sentiment_avg", VOICE, "sales", NULL, NULL, i0);
  assert_int_equal(g->count, 6);
  assert_string_equal(g->unit, "score");
  /* a1: c1, c2, c6: sum 0 -> 0; net (1 - 1) / 3 = 0; change (0.8 - 0.8) / 2 */
  EXPECT_A(&f, "sentiment_avg", VOICE, "", "a1", i0, 0.0);
  EXPECT_A(&f, "net_sentiment", VOICE, "", "a1", i0, 0.0);
  EXPECT_A(&f, "sentiment_change", VOICE, "", "a1", i0, 0.0);
  /* a2: c3, c4, c5: 0.1 / 3; net (1 - 1) / 3 = 0; change 0.5 / 1 */
  EXPECT_A(&f, "sentiment_avg", VOICE, "", "a2", i0, 0.1 / 3.0);
  EXPECT_A(&f, "net_sentiment", VOICE, "", "a2", i0, 0.0);
  EXPECT_A(&f, "sentiment_change", VOICE, "", "a2", i0, 0.5);
  /* web: 0.3, no start/end: change has no value */
  EXPECT(&f, "sentiment_avg", CHAT, "web", i0, 0.3);
  EXPECT(&f, "net_sentiment", CHAT, "web", i0, 1.0);
  EXPECT_NULL(&f, "sentiment_change", CHAT, "web", i0);
  fx_free(&f);

  /* Genesys-style half difference; positive >= 0.3, negative <= -0.15:
   * change 0.5 / 2 / 3 = 1/12; positive {c1}, negative {c2, c5}: -1/6 */
  const ks_testkit_kv kv[] = {{"sentiment_change_method", "half_difference"},
                              {"sentiment_positive_min", "0.3"},
                              {"sentiment_negative_max", "-0.15"}};
  run(&f, kv, 3, feed_senti);
  EXPECT(&f, "sentiment_change", VOICE, "sales", i0, 1.0 / 12.0);
  EXPECT(&f, "net_sentiment", VOICE, "sales", i0, -1.0 / 6.0);
  EXPECT(&f, "sentiment_avg", VOICE, "sales", i0, 0.1 / 6.0);
  fx_free(&f);
}

/* ---- complaints and handled contacts --------------------------------------------------- */

static void test_complaints(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  const char *Q = "sales";
  /* handled legs: c1/a1, c2/a1, c3/a2, c4/a2, c4/a3 (transferred: two legs);
   * the c1/a1 wrap-up delivered again (same time) is a duplicate -> 5 */
  acw(&f, S(10), VOICE, Q, "c1", "a1", NULL);
  acw(&f, S(11), VOICE, Q, "c2", "a1", NULL);
  acw(&f, S(12), VOICE, Q, "c3", "a2", NULL);
  acw(&f, S(13), VOICE, Q, "c4", "a2", NULL);
  acw(&f, S(14), VOICE, Q, "c4", "a3", NULL);
  acw(&f, S(10), VOICE, Q, "c1", "a1", NULL);
  /* complaints: c1 long_wait (and again: duplicate), c2 billing_error,
   * c3 long_wait, c4 agent_behaviour without channel, queue or agent (taken
   * from the contact: voice, sales, a3, its last handling agent) */
  complaint(&f, S(100), VOICE, Q, "c1", "a1", "long_wait");
  complaint(&f, S(101), VOICE, Q, "c1", "a1", "long_wait");
  complaint(&f, S(102), VOICE, Q, "c2", "a1", "billing_error");
  complaint(&f, S(103), VOICE, Q, "c3", "a2", "long_wait");
  complaint(&f, S(104), 0, NULL, "c4", NULL, "agent_behaviour");
  /* queue "support": two complaints without contact (no de-duplication)
   * or category ("unspecified"), nothing handled */
  complaint(&f, S(110), VOICE, "support", NULL, NULL, "");
  complaint(&f, S(111), VOICE, "support", NULL, NULL, NULL);
  /* email "mail": handled, no complaint */
  acw(&f, S(120), EMAIL, "mail", "e1", "a4", NULL);
  /* I(1): a complaint for c2, nothing handled there */
  complaint(&f, I(1) + KS_TK_SEC(1), VOICE, Q, "c2", "a1", "product_quality");
  flush(&f);
  const int64_t i0 = I(0);
  EXPECT(&f, "complaints", VOICE, Q, i0, 4);
  EXPECT(&f, "complaint_rate", VOICE, Q, i0, 0.8); /* 4 / 5 handled */
  const got *g = find(&f, "complaint_rate", VOICE, Q, NULL, NULL, i0);
  assert_true(g->numerator == 4 && g->denominator == 5 && g->count == 5);
  EXPECT_L(&f, "complaints_by_category", VOICE, Q, "category=long_wait", i0, 2);
  EXPECT_L(&f, "complaint_rate_by_category", VOICE, Q, "category=long_wait", i0, 0.4);
  EXPECT_L(&f, "complaint_rate_by_category", VOICE, Q, "category=billing_error", i0, 0.2);
  EXPECT_L(&f, "complaint_rate_by_category", VOICE, Q, "category=agent_behaviour", i0, 0.2);
  /* support: 2 complaints, 0 handled -> no value */
  EXPECT(&f, "complaints", VOICE, "support", i0, 2);
  EXPECT_NULL(&f, "complaint_rate", VOICE, "support", i0);
  EXPECT_L(&f, "complaints_by_category", VOICE, "support", "category=unspecified", i0, 2);
  EXPECT_NULL_L(&f, "complaint_rate_by_category", VOICE, "support", "category=unspecified", i0);
  /* mail: 0 of 1 handled = 0, a value */
  EXPECT(&f, "complaints", EMAIL, "mail", i0, 0);
  EXPECT(&f, "complaint_rate", EMAIL, "mail", i0, 0.0);
  /* per agent (voice, all queues): a1 2 of 2, a2 1 of 2 (c3; c4's
   * complaint went to a3), a3 1 of 1 */
  EXPECT_A(&f, "complaint_rate", VOICE, "", "a1", i0, 1.0);
  EXPECT_A(&f, "complaint_rate", VOICE, "", "a2", i0, 0.5);
  EXPECT_A(&f, "complaint_rate", VOICE, "", "a3", i0, 1.0);
  EXPECT_A(&f, "complaints", VOICE, "", "a2", i0, 1);
  /* I(1): 1 complaint, nothing handled */
  EXPECT(&f, "complaints", VOICE, Q, I(1), 1);
  EXPECT_NULL(&f, "complaint_rate", VOICE, Q, I(1));
  EXPECT_NULL_L(&f, "complaint_rate_by_category", VOICE, Q, "category=product_quality", I(1));
  fx_free(&f);
}

/* ---- survey response rate ------------------------------------------------------------ */

/*
 * A response is a handled contact's first usable survey answer of any type;
 * a non-response is a handled leg without one (the schema has no "survey
 * sent, not answered" event: the denominator is handled legs).
 * I(0), voice "sales": legs c1/a1, c2/a1, c3/a2, c4/a2, c5/a2 (5).
 *   c1: CSAT s1 and NPS n1 (one response, a1); s1 again (duplicate)
 *   c3: CSAT naming no agent -> its handling agent a2 (one response)
 *   c4: CSAT on 1-7 (no such scale: not a response)
 *   s9: CSAT without contact id in sales, no agent (a response, queue only)
 *   zz: CSAT about an unknown contact, no channel/queue (unattributed)
 * Email "mail": e1/a3 handled, no survey.
 * I(1): c1's second NPS (n2): already responded, nothing handled.
 * queue sales 3 / 5 = 0.6; mail 0 / 1; unattributed 1 response, 0 handled
 * (null); agents (per_agent channel) a1 1 / 2, a2 1 / 3, a3 (email) 0 / 1.
 * The tenant (queue rows + unattributed) is 4 / 6.
 */
static void test_survey_response_rate(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  const char *Q = "sales";
  acw(&f, S(10), VOICE, Q, "c1", "a1", NULL);
  acw(&f, S(11), VOICE, Q, "c2", "a1", NULL);
  acw(&f, S(12), VOICE, Q, "c3", "a2", NULL);
  acw(&f, S(13), VOICE, Q, "c4", "a2", NULL);
  acw(&f, S(14), VOICE, Q, "c5", "a2", NULL);
  acw(&f, S(15), EMAIL, "mail", "e1", "a3", NULL);
  survey(&f, S(100), VOICE, Q, "c1", "a1", CSAT, 1, 5, 5, 0, "s1");
  survey(&f, S(101), VOICE, Q, "c1", "a1", NPS, 0, 10, 9, 0, "n1");
  survey(&f, S(102), VOICE, Q, "c1", "a1", CSAT, 1, 5, 5, 0, "s1");
  survey(&f, S(103), VOICE, Q, "c3", NULL, CSAT, 1, 5, 2, 0, "s3");
  survey(&f, S(104), VOICE, Q, "c4", "a2", CSAT, 1, 7, 6, 0, "s4");
  survey(&f, S(105), VOICE, Q, NULL, NULL, CSAT, 1, 5, 4, 0, "s9");
  survey(&f, S(106), 0, NULL, "zz", NULL, CSAT, 1, 5, 4, 0, "sz");
  survey(&f, I(1) + KS_TK_SEC(5), VOICE, Q, "c1", "a1", NPS, 0, 10, 3, 0, "n2");
  flush(&f);
  const int64_t i0 = I(0);
  EXPECT(&f, "survey_responses", VOICE, Q, i0, 3);
  EXPECT(&f, "survey_response_rate", VOICE, Q, i0, 0.6);
  const got *g = find(&f, "survey_response_rate", VOICE, Q, NULL, NULL, i0);
  assert_true(g->numerator == 3 && g->denominator == 5 && g->count == 5 &&
              g->level == KPISTREAM__V1__LEVEL__LEVEL_QUEUE);
  EXPECT(&f, "survey_response_rate", EMAIL, "mail", i0, 0.0);
  EXPECT(&f, "survey_responses", 0, "", i0, 1);
  EXPECT_NULL(&f, "survey_response_rate", 0, "", i0);
  assert_int_equal(find(&f, "survey_response_rate", 0, "", NULL, NULL, i0)->level,
                   KPISTREAM__V1__LEVEL__LEVEL_UNATTRIBUTED);
  EXPECT_A(&f, "survey_response_rate", VOICE, "", "a1", i0, 0.5);
  EXPECT_A(&f, "survey_response_rate", VOICE, "", "a2", i0, 1.0 / 3.0);
  EXPECT_A(&f, "survey_responses", VOICE, "", "a2", i0, 1);
  EXPECT_A(&f, "survey_response_rate", EMAIL, "", "a3", i0, 0.0);
  g = find(&f, "survey_response_rate", VOICE, "", "a2", NULL, i0);
  assert_int_equal(g->level, KPISTREAM__V1__LEVEL__LEVEL_AGENT);
  /* tenant = Σ queue rows + unattributed rows: 4 / 6 */
  double num = 0, den = 0;
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
    if (strcmp((*ks_testkit_result_at(f.k, i)).metric, "survey_response_rate") == 0 &&
        (*ks_testkit_result_at(f.k, i)).start_ms == i0 &&
        ((*ks_testkit_result_at(f.k, i)).level == KPISTREAM__V1__LEVEL__LEVEL_QUEUE ||
         (*ks_testkit_result_at(f.k, i)).level == KPISTREAM__V1__LEVEL__LEVEL_UNATTRIBUTED))
      num += (*ks_testkit_result_at(f.k, i)).numerator,
          den += (*ks_testkit_result_at(f.k, i)).denominator;
  assert_true(num == 4 && den == 6);
  /* I(1): n2 is c1's second answer, nothing handled: no section */
  assert_null(find(&f, "survey_responses", VOICE, Q, NULL, NULL, I(1)));
  assert_non_null(find(&f, "nps", VOICE, Q, NULL, NULL, I(1)));
  fx_free(&f);
}

/* ---- contact reasons ------------------------------------------------------------------- */

/* Wrap-up reasons: sales billing x3 (c1, c2, c5), outage x2 (c3, c6),
 * how_to x2 (c4, c8); c7 has none; c8's second leg says refund (the contact
 * is counted once); c1's wrap-up delivered again (duplicate). A detected reason on
 * c9's ContactQueued. Email "mail": e1 refund. */
static void feed_reasons(fx *f) {
  const char *Q = "sales";
  acw(f, S(10), VOICE, Q, "c1", "a1", "billing");
  acw(f, S(11), VOICE, Q, "c2", "a1", "billing");
  acw(f, S(12), VOICE, Q, "c3", "a2", "outage");
  acw(f, S(13), VOICE, Q, "c4", "a2", "how_to");
  acw(f, S(14), VOICE, Q, "c5", "a1", "billing");
  acw(f, S(15), VOICE, Q, "c6", "a2", "outage");
  acw(f, S(16), VOICE, Q, "c7", "a1", "");
  acw(f, S(17), VOICE, Q, "c8", "a1", "how_to");
  acw(f, S(18), VOICE, Q, "c8", "a2", "refund");
  acw(f, S(10), VOICE, Q, "c1", "a1", "billing");
  queued(f, S(20), VOICE, Q, "c9", "refund");
  acw(f, S(30), EMAIL, "mail", "e1", "a3", "refund");
}

static void test_reasons(void **state) {
  (void)state;
  fx f;
  run(&f, NULL, 0, feed_reasons);
  const int64_t i0 = I(0);
  EXPECT_L(&f, "reason_volume", VOICE, "sales", "reason=billing", i0, 3);
  EXPECT_L(&f, "reason_volume", VOICE, "sales", "reason=outage", i0, 2);
  EXPECT_L(&f, "reason_volume", VOICE, "sales", "reason=how_to", i0, 2);
  assert_null(find(&f, "reason_volume", VOICE, "sales", NULL, "reason=refund", i0));
  EXPECT(&f, "reason_contacts", VOICE, "sales", i0, 7);
  /* ranked by volume, ties by code: billing 3/7, how_to 2/7, outage 2/7 */
  EXPECT_L(&f, "top_reason", VOICE, "sales", "rank=1,reason=billing", i0, 3.0 / 7.0);
  EXPECT_L(&f, "top_reason", VOICE, "sales", "rank=2,reason=how_to", i0, 2.0 / 7.0);
  EXPECT_L(&f, "top_reason", VOICE, "sales", "rank=3,reason=outage", i0, 2.0 / 7.0);
  EXPECT_L(&f, "top_reason", EMAIL, "mail", "rank=1,reason=refund", i0, 1.0);
  /* no self-service list: no share */
  assert_null(find(&f, "self_service_share", VOICE, "sales", NULL, NULL, i0));
  const got *g = find(&f, "top_reason", VOICE, "sales", NULL, "rank=1,reason=billing", i0);
  char want_key[160];
  snprintf(want_key, sizeof want_key,
           "experience/top_reason|acme|voice|sales||rank=1,reason=billing|%lld", (long long)i0);
  assert_string_equal(g->key, want_key);
  /* handled legs: 9 distinct in sales (c1..c8, c8 twice), not a reason count */
  EXPECT(&f, "complaint_rate", VOICE, "sales", i0, 0.0);
  g = find(&f, "complaint_rate", VOICE, "sales", NULL, NULL, i0);
  assert_true(g->denominator == 9);
  fx_free(&f);

  /* top 2 and a self-service list: sales how_to + outage = 4 of 7; mail 0 of 1 */
  const ks_testkit_kv kv[] = {{"top_reasons", "2"}, {"self_service_reasons", " how_to, outage "}};
  run(&f, kv, 2, feed_reasons);
  assert_null(find(&f, "top_reason", VOICE, "sales", NULL, "rank=3,reason=outage", i0));
  EXPECT_L(&f, "top_reason", VOICE, "sales", "rank=2,reason=how_to", i0, 2.0 / 7.0);
  EXPECT(&f, "self_service_share", VOICE, "sales", i0, 4.0 / 7.0);
  EXPECT(&f, "self_service_share", EMAIL, "mail", i0, 0.0);
  fx_free(&f);

  /* per tenant: billing 3, how_to 2, outage 2, refund 1 of 8 */
  const ks_testkit_kv kt[] = {{"reasons_by", "tenant"}, {"top_reasons", "0"}};
  run(&f, kt, 2, feed_reasons);
  EXPECT(&f, "reason_contacts", 0, "", i0, 8);
  EXPECT_L(&f, "reason_volume", 0, "", "reason=refund", i0, 1);
  assert_null(find(&f, "reason_contacts", VOICE, "sales", NULL, NULL, i0));
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
    assert_string_not_equal((*ks_testkit_result_at(f.k, i)).metric,
                            "top_reason"); /* top_reasons: 0 */
  fx_free(&f);

  /* per channel: voice (queue "") 7, email 1 */
  const ks_testkit_kv kc[] = {{"reasons_by", "channel"}};
  run(&f, kc, 1, feed_reasons);
  EXPECT(&f, "reason_contacts", VOICE, "", i0, 7);
  EXPECT(&f, "reason_contacts", EMAIL, "", i0, 1);
  fx_free(&f);
}

static void test_reason_sources(void **state) {
  (void)state;
  fx f;
  /* detected: c1 queued "billing" (its second queued "other" is the same
   * contact), e1 created "refund"; c2's wrap-up reason is not a detected one */
  const ks_testkit_kv kd[] = {{"reason_source", "detected"}};
  fx_init(&f, kd, 1);
  queued(&f, S(1), VOICE, "sales", "c1", "billing");
  created(&f, S(2), EMAIL, "mail", "e1", "refund");
  queued(&f, S(3), VOICE, "sales", "c2", "");
  acw(&f, S(4), VOICE, "sales", "c2", "a1", "outage");
  queued(&f, S(5), VOICE, "sales", "c1", "other");
  flush(&f);
  EXPECT(&f, "reason_contacts", VOICE, "sales", I(0), 1);
  EXPECT_L(&f, "reason_volume", VOICE, "sales", "reason=billing", I(0), 1);
  EXPECT_L(&f, "reason_volume", EMAIL, "mail", "reason=refund", I(0), 1);
  fx_free(&f);

  /* first: c2's wrap-up "outage" comes before its queued "billing"; c1's
   * queued "billing" before its wrap-up "refund": billing 1, outage 1 */
  const ks_testkit_kv kf[] = {{"reason_source", "first"}};
  fx_init(&f, kf, 1);
  acw(&f, S(1), VOICE, "sales", "c2", "a1", "outage");
  queued(&f, S(2), VOICE, "sales", "c2", "billing");
  queued(&f, S(3), VOICE, "sales", "c1", "billing");
  acw(&f, S(4), VOICE, "sales", "c1", "a1", "refund");
  flush(&f);
  EXPECT(&f, "reason_contacts", VOICE, "sales", I(0), 2);
  EXPECT_L(&f, "top_reason", VOICE, "sales", "rank=1,reason=billing", I(0), 0.5);
  EXPECT_L(&f, "top_reason", VOICE, "sales", "rank=2,reason=outage", I(0), 0.5);
  fx_free(&f);
}

/* ---- dimensions ------------------------------------------------------------------------ */

static void test_dimensions(void **state) {
  (void)state;
  static const struct {
    const char *per_agent;
    int ch;
    const char *queue; /* of the agent result; NULL: none expected */
  } cases[] = {
      {"channel", VOICE, ""}, {"queue", VOICE, "sales"}, {"agent", 0, ""}, {"off", 0, NULL}};
  for (size_t i = 0; i < 4; i++) {
    const ks_testkit_kv kv[] = {{"per_agent", cases[i].per_agent}};
    fx f;
    fx_init(&f, kv, 1);
    /* c1 handled by a1 in sales; its survey names neither channel, queue nor
     * agent: all three come from the contact. A second tenant's answer in
     * the same queue stays apart. 5 on 1-5 -> 1 of 1; 2 -> 0 of 1. */
    acw(&f, S(1), VOICE, "sales", "c1", "a1", NULL);
    survey(&f, S(60), 0, NULL, "c1", NULL, CSAT, 1, 5, 5, 0, "s1");
    f.tenant = "beta";
    survey(&f, S(61), VOICE, "sales", "c1", "a1", CSAT, 1, 5, 2, 0, "s1");
    flush(&f);
    EXPECT(&f, "csat", VOICE, "sales", I(0), 1.0);
    ex_expect(&f, "beta", "csat", VOICE, "sales", NULL, NULL, I(0), 0, 0.0, __FILE__, __LINE__);
    size_t n_agent = 0;
    for (size_t k = 0; k < ks_testkit_result_count(f.k); k++)
      n_agent += (*ks_testkit_result_at(f.k, k)).agent[0] != '\0';
    if (cases[i].queue == NULL) {
      assert_int_equal(n_agent, 0);
    } else {
      /* acme a1: csat, csat_mean, complaints, complaint_rate, survey_responses,
       * survey_response_rate; beta a1: the same but complaints (nothing handled) */
      assert_int_equal(n_agent, 10);
      EXPECT_A(&f, "csat", cases[i].ch, cases[i].queue, "a1", I(0), 1.0);
      EXPECT_A(&f, "complaint_rate", cases[i].ch, cases[i].queue, "a1", I(0), 0.0);
      assert_null(find(&f, "csat_mean_raw", cases[i].ch, cases[i].queue, "a1", "scale=1-5", I(0)));
    }
    fx_free(&f);
  }
}

/* Under the default reason_source (wrap_up) a contact is known from its
 * ContactQueued/ContactCreated too: feedback and wrap-ups that omit the
 * queue take the contact's, never queue "" (all in I(0)):
 *   c1 queued voice/q (reason billing); a complaint naming only c1 at 300 s
 *      -> complaints (voice, q) = 1
 *   c2 queued voice/q; its wrap-up by a1 with no queue at 180 s
 *      -> complaint_rate (voice, q) = 0 complaints / 1 handled = 0
 *   c3 created email/m (subject billing); a CSAT 5 on 1-5 naming only c3 at 300 s
 *      -> csat (email, m) = 1/1 */
static void test_contact_known_from_queue(void **state) {
  (void)state;
  const char *sources[] = {NULL, "wrap_up", "detected", "first"};
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
    const ks_testkit_kv kv[] = {{"reason_source", sources[i]}};
    fx f;
    fx_init(&f, kv, sources[i] ? 1 : 0);
    queued(&f, S(0), VOICE, "q", "c1", "billing");
    complaint(&f, S(300), 0, NULL, "c1", NULL, "billing");
    queued(&f, S(1), VOICE, "q", "c2", "billing");
    acw(&f, S(181), VOICE, NULL, "c2", "a1", NULL);
    created(&f, S(2), EMAIL, "m", "c3", "billing");
    survey(&f, S(302), 0, NULL, "c3", NULL, CSAT, 1, 5, 5, 0, "s3");
    flush(&f);
    EXPECT(&f, "complaints", VOICE, "q", I(0), 1.0);
    EXPECT(&f, "complaint_rate", VOICE, "q", I(0), 1.0); /* c1's complaint, c2 handled */
    EXPECT(&f, "csat", EMAIL, "m", I(0), 1.0);
    for (size_t k = 0; k < ks_testkit_result_count(f.k); k++)
      if ((*ks_testkit_result_at(f.k, k)).agent[0] == '\0' &&
          (*ks_testkit_result_at(f.k, k)).labels[0] == '\0')
        assert_true((*ks_testkit_result_at(f.k, k)).queue[0] != '\0' ||
                    (*ks_testkit_result_at(f.k, k)).channel == 0);
    assert_null(find(&f, "complaints", 0, "", NULL, NULL, I(0))); /* nothing unattributed */
    fx_free(&f);
  }
}

/* Feedback before the contact is known, and events after their interval. */
static void test_order_and_late(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  /* c1's complaint arrives before its wrap-up and names no queue: the
   * contact is unknown then, so it lands under channel 0, queue "" */
  complaint(&f, S(5), 0, NULL, "c1", NULL, "long_wait");
  acw(&f, S(10), VOICE, "sales", "c1", "a1", NULL);
  /* an I(1) answer moves the watermark past I(0) (lateness 0) */
  survey(&f, I(1) + KS_TK_SEC(1), VOICE, "sales", "c1", "a1", CSAT, 1, 5, 5, 0, "s1");
  f.lax = 1; /* a 1 for I(0), now late */
  survey(&f, S(20), VOICE, "sales", "c2", "a1", CSAT, 1, 5, 1, 0, "s2");
  ks_engine_stats st;
  ks_engine_get_stats(ks_testkit_engine(f.k), &st);
  assert_int_equal(st.events_late, 1);
  flush(&f);
  EXPECT(&f, "complaints", 0, "", I(0), 1);
  EXPECT_NULL(&f, "complaint_rate", 0, "", I(0));
  EXPECT(&f, "complaint_rate", VOICE, "sales", I(0), 0.0); /* 0 of 1 */
  EXPECT(&f, "csat", VOICE, "sales", I(1), 1.0);           /* the late 1 is not in */
  assert_null(find(&f, "csat", VOICE, "sales", NULL, NULL, I(0)));
  fx_free(&f);
}

/* ---- random input ---------------------------------------------------------------------- */

static uint32_t lcg(uint32_t *st) {
  *st = *st * 1664525u + 1013904223u;
  return *st >> 8;
}

static void test_random_input_survives(void **state) {
  (void)state;
  static const char *const qs[] = {"", "q1", "q2"}, *const ags[] = {"", "a1", "a2"};
  static const char *const codes[] = {"", "billing", "outage", "how_to"};
  const ks_testkit_kv kv[] = {{"per_agent", "queue"},
                              {"self_service_reasons", "how_to"},
                              {"reason_source", "first"},
                              {"contact_ttl", "20m"}};
  fx f;
  fx_init_lat(&f, kv, 4, KS_TK_MIN(3));
  f.lax = 1;
  uint32_t st = 7;
  int64_t t = KS_TK_T0;
  for (int i = 0; i < 20000; i++) {
    t += (int64_t)(lcg(&st) % 4000);
    const int64_t et = t - (int64_t)(lcg(&st) % 240000);
    char contact[24] = "", sid[24] = "";
    if (lcg(&st) % 8)
      snprintf(contact, sizeof contact, "c%u", lcg(&st) % 300);
    if (lcg(&st) % 2)
      snprintf(sid, sizeof sid, "s%u", lcg(&st) % 500);
    const int ch = (int)(lcg(&st) % 4);
    const char *q = qs[lcg(&st) % 3], *ag = ags[lcg(&st) % 3], *code = codes[lcg(&st) % 4];
    const uint32_t r1 = lcg(&st), r2 = lcg(&st), r3 = lcg(&st);
    switch (lcg(&st) % 5) {
    case 0: /* any type, scale and score; bad ones are refused by the host */
      survey(&f, et, ch, q, contact, ag, (int)(r1 % 5), (int)(r1 / 5 % 3) - 1, (int)(r2 % 12),
             (int)(r2 / 12 % 13) - 1, (int)(r3 % 2), sid);
      break;
    case 1: /* -1.2 .. 1.2 */
      senti(&f, et, ch, q, contact, ag, ((double)(r1 % 2401) - 1200) / 1000, (int)(r3 % 2),
            ((double)(r2 % 2001) - 1000) / 1000, ((double)(r2 / 2001 % 2001) - 1000) / 1000);
      break;
    case 2:
      complaint(&f, et, ch, q, contact, ag, code);
      break;
    case 3:
      acw(&f, et, ch, q, contact, ag, code);
      break;
    default:
      detected(&f, et, ch, q, contact, code, (int)(r3 % 2));
      break;
    }
  }
  flush(&f);
  assert_true(ks_testkit_result_count(f.k) > 1000);
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++) {
    const got *g = ks_testkit_result_at(f.k, i);
    assert_true(isfinite(g->numerator) && isfinite(g->denominator) && isfinite(g->value) &&
                g->count >= 0);
    if (!g->has_value)
      continue;
    const double v = g->value;
    int ok = 1;
    if (strcmp(g->metric, "nps") == 0)
      ok = v >= -100 && v <= 100;
    else if (strcmp(g->metric, "net_sentiment") == 0 || strcmp(g->metric, "sentiment_avg") == 0)
      ok = v >= -1 && v <= 1;
    else if (strcmp(g->metric, "sentiment_change") == 0)
      ok = v >= -2 && v <= 2;
    else if (strcmp(g->metric, "csat_mean") == 0)
      ok = v >= 0 && v <= 100;
    else if (strcmp(g->metric, "ces_mean") == 0 || strcmp(g->metric, "csat_mean_raw") == 0)
      ok = v >= 1 && v <= 10;
    else if (strcmp(g->unit, "ratio") == 0 && strncmp(g->metric, "complaint_rate", 14) != 0)
      ok = v >= 0 && v <= 1; /* shares of their own responses or contacts */
    else
      ok = v >= 0;
    if (!ok)
      fail_msg("%s = %g out of range", g->metric, v);
  }
  fx_free(&f);
}

/* ---- configuration --------------------------------------------------------------------- */

static void expect_refused(const char *key, const char *value) {
  ks_testkit *e;
  const ks_testkit_options o = {.interval_ms = IV_MS};
  char err[512];
  assert_int_equal(ks_testkit_new(&e, &o, err, sizeof err), 0);
  const ks_testkit_kv kv[] = {{key, value}};
  const int rc = ks_testkit_add_plugin(e, PLUGIN, NULL, kv, 1, err, sizeof err);
  if (rc != KS_EINVAL)
    fail_msg("%s=%s: want KS_EINVAL, got %d", key, value, rc);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(e)), 0);
  ks_testkit_free(e);
}

/* ---- issue 11: legs per assignment, the unattributed level ---------------------------- */

/*
 * c1 is handled by a1, transferred to a2, and back to a1: three legs, a1's
 * two wrap-ups at S(10) and S(30). a1's S(30) wrap-up delivered again is a
 * duplicate. A complaint about c1: complaint_rate 1 / 3 handled legs (a
 * de-duplication per contact and agent counted 2 and gave 1 / 2).
 */
static void test_legs_per_assignment(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  acw(&f, S(10), VOICE, "sales", "c1", "a1", NULL);
  acw(&f, S(20), VOICE, "sales", "c1", "a2", NULL);
  acw(&f, S(30), VOICE, "sales", "c1", "a1", NULL);
  acw(&f, S(30), VOICE, "sales", "c1", "a1", NULL); /* redelivered */
  complaint(&f, S(40), VOICE, "sales", "c1", "a1", "long_wait");
  flush(&f);
  EXPECT(&f, "complaint_rate", VOICE, "sales", I(0), 1.0 / 3.0);
  const got *g = find(&f, "complaint_rate", VOICE, "sales", NULL, NULL, I(0));
  assert_true(g->numerator == 1 && g->denominator == 3);
  /* per agent (default per_agent: channel): a1 handled two legs */
  EXPECT_A(&f, "complaint_rate", VOICE, "", "a1", I(0), 0.5);
  fx_free(&f);
}

/*
 * Feedback about a contact experience never saw (no channel, no queue):
 * its row has channel all and no queue, and says LEVEL_UNATTRIBUTED, so no
 * reader takes it for the tenant's total; the queue row says LEVEL_QUEUE.
 * CSAT: sales 5 and 4 (2/2), unknown 1 (0/1).
 */
static void test_unknown_contact_is_unattributed(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  survey(&f, S(10), VOICE, "sales", "c1", NULL, CSAT, 1, 5, 5, 0, "s1");
  survey(&f, S(11), VOICE, "sales", "c2", NULL, CSAT, 1, 5, 4, 0, "s2");
  survey(&f, S(12), 0, NULL, "zz", NULL, CSAT, 1, 5, 1, 0, "s3");
  flush(&f);
  EXPECT(&f, "csat", VOICE, "sales", I(0), 1);
  EXPECT(&f, "csat", 0, "", I(0), 0);
  assert_int_equal(find(&f, "csat", VOICE, "sales", NULL, NULL, I(0))->level,
                   KPISTREAM__V1__LEVEL__LEVEL_QUEUE);
  assert_int_equal(find(&f, "csat", 0, "", NULL, NULL, I(0))->level,
                   KPISTREAM__V1__LEVEL__LEVEL_UNATTRIBUTED);
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
    assert_int_not_equal((*ks_testkit_result_at(f.k, i)).level,
                         KPISTREAM__V1__LEVEL__LEVEL_UNSPECIFIED);
  fx_free(&f);
}

static void test_bad_config_refused(void **state) {
  (void)state;
  /* clang-format off */
  static const char *const bad[][2] = {
      {"csat_satisfied_min_5", "6"}, {"csat_satisfied_min_5", "four"},
      {"csat_satisfied_min_3", "0"}, {"csat_satisfied_min_10", "11"},
      {"ces_scale", "6"}, {"ces_scale", "10"}, {"ces_direction", "up"},
      {"ces_easy_min_7", "8"}, {"ces_easy_min_5", "0"},
      {"sentiment_positive_min", "1.5"}, {"sentiment_negative_max", "x"},
      {"sentiment_negative_max", "0.3"}, {"sentiment_change_method", "trend"},
      {"reason_source", "agent"}, {"reasons_by", "agent"},
      {"top_reasons", "-1"}, {"top_reasons", "51"}, {"self_service_reasons", "a,,b"},
      {"self_service_reasons", "a,this_code_is_longer_than_sixty_three_bytes_which_is_the_limit_here"},
      {"per_agent", "yes"}, {"contact_ttl", "0s"}, {"no_such_option", "1"}};
  /* clang-format on */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_refused(bad[i][0], bad[i][1]);
}

static void test_good_config_accepted(void **state) {
  (void)state;
  /* clang-format off */
  const ks_testkit_kv kv[] = {
      {"csat_satisfied_min_3", "3"}, {"csat_satisfied_min_5", "5"},
      {"csat_satisfied_min_10", "8"}, {"ces_scale", "5"}, {"ces_direction", "low_easy"},
      {"ces_easy_min_7", "6"}, {"ces_easy_min_5", "4"}, {"sentiment_positive_min", "0"},
      {"sentiment_negative_max", "-0.5"}, {"sentiment_change_method", "difference"},
      {"reason_source", "wrap_up"}, {"reasons_by", "channel"}, {"top_reasons", "10"},
      {"self_service_reasons", ""}, {"per_agent", "agent"}, {"contact_ttl", "12h"}};
  /* clang-format on */
  fx f;
  fx_init(&f, kv, sizeof kv / sizeof kv[0]);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(f.k)), 1);
  assert_string_equal(ks_engine_plugin_name(ks_testkit_engine(f.k), 0), "experience");
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csat),
      cmocka_unit_test(test_csat_cuts),
      cmocka_unit_test(test_nps),
      cmocka_unit_test(test_ces),
      cmocka_unit_test(test_sentiment),
      cmocka_unit_test(test_complaints),
      cmocka_unit_test(test_survey_response_rate),
      cmocka_unit_test(test_legs_per_assignment),
      cmocka_unit_test(test_unknown_contact_is_unattributed),
      cmocka_unit_test(test_reasons),
      cmocka_unit_test(test_reason_sources),
      cmocka_unit_test(test_dimensions),
      cmocka_unit_test(test_order_and_late),
      cmocka_unit_test(test_random_input_survives),
      cmocka_unit_test(test_bad_config_refused),
      cmocka_unit_test(test_good_config_accepted),
      cmocka_unit_test(test_contact_known_from_queue),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
