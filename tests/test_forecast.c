/*
 * test_forecast — the forecast & staffing KPI plugin, driven through the
 * real engine: hand-made event sequences in, results decoded from the
 * protobuf bytes the sink receives, values asserted exactly. The Erlang
 * formulas are also checked directly against published table values (each
 * recomputed independently with exact rational arithmetic in Python).
 *
 * Times: KS_TK_T0 is 2026-11-23T00:00:00Z (a Monday, the start of a UTC day),
 * I(k) the k-th 15-minute interval from there, S(s) = KS_TK_T0 + s seconds.
 * Interval length 900 s.
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

#include "../plugins/forecast/forecast_erlang.h"
#include "engine.h"
#include "kpistream/v1/result.pb-c.h"
#include "testkit_engine.h"

#define PLUGIN KS_TEST_PLUGIN_DIR "/kpi_forecast.so"
#define IV_MS  KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV_MS)
#define S(s)   (KS_TK_T0 + KS_TK_SEC(s))
#define DAY(d) ((int64_t)(d)*86400000)

#define VOICE  KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define EMAIL  KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL
#define CHAT   KPISTREAM__V1__CHANNEL__CHANNEL_CHAT
#define AST(x) KPISTREAM__V1__AGENT_STATE__AGENT_##x

/* ---- result collection ---------------------------------------------------- */

/* A result as it went on the wire, decoded by the kit (kpistream/testkit.h). */
typedef ks_testkit_result got;
#define HAS_VALUE(g) ((g)->has_value)

typedef struct fx {
  ks_testkit *k;
} fx;

static int fx_try_len(fx *f, const ks_testkit_kv *kv, size_t n, int quiet, int64_t interval_ms) {
  memset(f, 0, sizeof *f);
  ks_testkit_options o = {0};
  o.interval_ms = interval_ms;
  o.log_level = quiet ? 1 : KS_LOG_WARN; /* quiet: for options refused on purpose */
  char err[512];
  assert_int_equal(ks_testkit_new(&f->k, &o, err, sizeof err), 0);
  return ks_testkit_add_plugin(f->k, PLUGIN, NULL, kv, n, err, sizeof err);
}

static int fx_try(fx *f, const ks_testkit_kv *kv, size_t n, int quiet) {
  return fx_try_len(f, kv, n, quiet, IV_MS);
}

static void fx_init(fx *f, const ks_testkit_kv *kv, size_t n) {
  if (fx_try(f, kv, n, 0) != 0)
    fail_msg("add_plugin refused the options");
}

static void fx_free(fx *f) {
  ks_testkit_free(f->k);
  memset(f, 0, sizeof *f);
}

/* Close every interval; no plugin error, every result on kpi.forecast. */
static void flush(fx *f) {
  if (ks_testkit_flush(f->k) != 0)
    fail_msg("%s", ks_testkit_error(f->k));
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    assert_string_equal(ks_testkit_result_at(f->k, i)->topic, "kpi.forecast");
}

static const got *find_t(const fx *f, const char *tenant, const char *metric, int ch,
                         const char *queue, int64_t start) {
  const got *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++) {
    const got *g = ks_testkit_result_at(f->k, i);
    if (strcmp(g->metric, metric) == 0 && strcmp(g->tenant, tenant) == 0 && (int)g->channel == ch &&
        strcmp(g->queue, queue) == 0 && g->start_ms == start) {
      if (hit)
        fail_msg("%s %s/%d/%s at %lld emitted twice", metric, tenant, ch, queue, (long long)start);
      hit = g;
    }
  }
  return hit;
}

static const got *find(const fx *f, const char *metric, int ch, const char *queue, int64_t start) {
  return find_t(f, KS_TK_TENANT, metric, ch, queue, start);
}

static const got *must(const fx *f, const char *tenant, const char *metric, int ch,
                       const char *queue, int64_t start, const char *file, int line) {
  const got *g = find_t(f, tenant, metric, ch, queue, start);
  if (g == NULL) {
    print_error("%s:%d: no result %s %s ch=%d queue='%s' start=%lld\n", file, line, metric, tenant,
                ch, queue, (long long)start);
    _fail(file, line);
  }
  return g;
}

static int close_enough(double a, double b) {
  return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

/* The result must exist and be null (want_null) or equal want. */
static void fc_check(const fx *f, const char *tenant, const char *metric, int ch, const char *queue,
                     int64_t start, int want_null, double want, const char *file, int line) {
  const got *g = must(f, tenant, metric, ch, queue, start, file, line);
  if (want_null ? HAS_VALUE(g) : !HAS_VALUE(g) || !close_enough(g->value, want)) {
    print_error("%s:%d: %s %s/%s: want %s%.12g, got %s%.12g (num %.12g den %.12g)\n", file, line,
                metric, tenant, queue, want_null ? "null " : "", want, HAS_VALUE(g) ? "" : "null ",
                g->value, g->numerator, g->denominator);
    _fail(file, line);
  }
}

#define EXPECT(f, m, ch, q, iv, v)      fc_check(f, KS_TK_TENANT, m, ch, q, iv, 0, v, __FILE__, __LINE__)
#define EXPECT_T(f, t, m, ch, q, iv, v) fc_check(f, t, m, ch, q, iv, 0, v, __FILE__, __LINE__)
#define EXPECT_NULL(f, m, ch, q, iv)                                                               \
  fc_check(f, KS_TK_TENANT, m, ch, q, iv, 1, 0, __FILE__, __LINE__)
#define ABSENT(f, m, ch, q, iv) assert_null(find(f, m, ch, q, iv))

/* ---- event helpers (task 0, topic 0) ------------------------------------------ */

static void feed(fx *f, Kpistream__V1__Event *ev) {
  assert_int_equal(ks_testkit_feed(f->k, ev), KS_PROCESSED);
}

/* Feed an event with one body; msg is the body message (the bodies share
 * the Event's oneof union, so one pointer member sets any of them). */
static void put(fx *f, int64_t t, const char *tenant, int ch, const char *q, const char *contact,
                const char *agent, int body, void *msg) {
  Kpistream__V1__Event ev = ks_tk_event(t, tenant, ch, q, contact, NULL, agent);
  ev.body_case = (Kpistream__V1__Event__BodyCase)body;
  ev.contact_queued = msg;
  feed(f, &ev);
}

static void queued_t(fx *f, const char *tenant, int64_t t, int ch, const char *q, const char *c) {
  Kpistream__V1__ContactQueued b = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  put(f, t, tenant, ch, q, c, NULL, KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, &b);
}

static void queued(fx *f, int64_t t, int ch, const char *q, const char *c) {
  queued_t(f, KS_TK_TENANT, t, ch, q, c);
}

static void answered_t(fx *f, const char *tenant, int64_t t, int ch, const char *q, const char *c,
                       const char *agent) {
  Kpistream__V1__ContactAnswered b = KPISTREAM__V1__CONTACT_ANSWERED__INIT;
  put(f, t, tenant, ch, q, c, agent, KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED, &b);
}

static void acw_t(fx *f, const char *tenant, int64_t t, int ch, const char *q, const char *c,
                  const char *agent) {
  Kpistream__V1__AfterContactWorkEnded b = KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT;
  put(f, t, tenant, ch, q, c, agent, KPISTREAM__V1__EVENT__BODY_ACW_ENDED, &b);
}

/* A handled leg: answered at ta, wrap-up ended at tw (handle = tw - ta). */
static void handled_t(fx *f, const char *tenant, int64_t ta, int64_t tw, int ch, const char *q,
                      const char *c, const char *agent) {
  answered_t(f, tenant, ta, ch, q, c, agent);
  acw_t(f, tenant, tw, ch, q, c, agent);
}

static void handled(fx *f, int64_t ta, int64_t tw, int ch, const char *q, const char *c,
                    const char *agent) {
  handled_t(f, KS_TK_TENANT, ta, tw, ch, q, c, agent);
}

static void agent_t(fx *f, const char *tenant, int64_t t, int ch, const char *q, const char *agent,
                    int state) {
  Kpistream__V1__AgentStateChanged b = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
  b.state = (Kpistream__V1__AgentState)state;
  put(f, t, tenant, ch, q, NULL, agent, KPISTREAM__V1__EVENT__BODY_AGENT_STATE, &b);
}

static void agent(fx *f, int64_t t, const char *a, int state) {
  agent_t(f, KS_TK_TENANT, t, 0, NULL, a, state);
}

static void forecast_t(fx *f, const char *tenant, int64_t t_pub, int ch, const char *q,
                       int64_t start, int len_s, double offered, double aht_s, const char *fid) {
  Kpistream__V1__ForecastPublished b = KPISTREAM__V1__FORECAST_PUBLISHED__INIT;
  b.interval_start_ms = start;
  b.interval_length_s = len_s;
  b.offered = offered;
  b.aht_s = aht_s;
  b.forecast_id = (char *)fid;
  put(f, t_pub, tenant, ch, q, NULL, NULL, KPISTREAM__V1__EVENT__BODY_FORECAST, &b);
}

static void forecast(fx *f, int64_t t_pub, int ch, const char *q, int64_t start, int len_s,
                     double offered, double aht_s, const char *fid) {
  forecast_t(f, KS_TK_TENANT, t_pub, ch, q, start, len_s, offered, aht_s, fid);
}

/* An event the plugin does not consume: moves event time forward only. */
static void tick(fx *f, int64_t t) {
  Kpistream__V1__SurveyResponse b = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  put(f, t, "zz-clock", 0, NULL, NULL, NULL, KPISTREAM__V1__EVENT__BODY_SURVEY, &b);
}

/* n contacts "<prefix><i>" queued from t, one second apart. */
static void queue_many(fx *f, int64_t t, int ch, const char *q, const char *prefix, int n) {
  for (int i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "%s%d", prefix, i);
    queued(f, t + KS_TK_SEC(i), ch, q, id);
  }
}

/* ---- Erlang formulas against table values ------------------------------------ */

/*
 * P(wait) = Erlang C, checked against values computed independently with
 * exact fractions (Python, C = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + that)):
 *   A=2,  N=3:  4/9                         = 0.444444...
 *   A=10, N=11: 15625000/22906587           = 0.682118...
 *   A=10, N=12: 78125000/173847457          = 0.449388...
 *   A=10, N=13: 390625000/1369314613        = 0.285270...
 *   A=10, N=14: 976562500/5608175823        = 0.174132...
 * Erlang B: B(10, 10) = 0.214582 (the classic table value 21.46 %),
 * B(2, 3) = 4/19 = 0.210526.
 */
static void test_erlang_table_values(void **state) {
  (void)state;
  assert_true(fabs(fc_erlang_c(2, 3) - 4.0 / 9.0) < 1e-12);
  assert_true(fabs(fc_erlang_c(10, 11) - 15625000.0 / 22906587.0) < 1e-12);
  assert_true(fabs(fc_erlang_c(10, 12) - 78125000.0 / 173847457.0) < 1e-12);
  assert_true(fabs(fc_erlang_c(10, 13) - 390625000.0 / 1369314613.0) < 1e-12);
  assert_true(fabs(fc_erlang_c(10, 14) - 976562500.0 / 5608175823.0) < 1e-12);
  assert_true(fabs(fc_erlang_c(10, 11) - 0.6821) < 5e-5); /* the rounded table figures */
  assert_true(fabs(fc_erlang_c(10, 12) - 0.4494) < 5e-5);
  assert_true(fabs(fc_erlang_c(10, 13) - 0.2853) < 5e-5);
  assert_true(fabs(fc_erlang_b(10, 10) - 0.21458234310734733) < 1e-12);
  assert_true(fabs(fc_erlang_b(2, 3) - 4.0 / 19.0) < 1e-12);
  /* no traffic: nobody waits; N <= A: everybody waits */
  assert_true(fc_erlang_c(0, 5) == 0.0);
  assert_true(fc_erlang_c(10, 10) == 1.0);
  assert_true(fc_erlang_c(10, 9) == 1.0);
  /* large traffic stays finite and exact (A^N/N! would overflow a double):
   * Python exact: C(1000, 1030) = 0.248908785843602,
   *               C(1000, 1050) = 0.07440177403742837,
   *               C(5000, 5100) = 0.10288141360093403 */
  assert_true(fabs(fc_erlang_c(1000, 1030) - 0.248908785843602) < 1e-9);
  assert_true(fabs(fc_erlang_c(1000, 1050) - 0.07440177403742837) < 1e-9);
  assert_true(fabs(fc_erlang_c(5000, 5100) - 0.10288141360093403) < 1e-9);
}

/*
 * The textbook case: 100 calls in 30 minutes at AHT 180 s = A 10 Erlangs,
 * target 80 % in 20 s. SL(N) = 1 − C e^{−(N−A)·20/180}:
 *   N=13: 1 − 0.285270 · e^{−1/3} = 0.795595 (< 0.8)
 *   N=14: 1 − 0.174132 · e^{−4/9} = 0.888350 (>= 0.8)  → 14 agents
 * ASA = C · 180 / (N − 10): N=13 17.116 s, N=14 7.836 s, N=15 3.674 s.
 */
static void test_erlang_required_agents(void **state) {
  (void)state;
  assert_true(fabs(fc_erlang_sl(10, 13, 180, 20) - 0.7955947884177831) < 1e-12);
  assert_true(fabs(fc_erlang_sl(10, 14, 180, 20) - 0.8883500191794669) < 1e-12);
  assert_true(fabs(fc_erlang_asa(10, 14, 180) - 7.835937011777243) < 1e-9);
  assert_true(fabs(fc_erlang_asa(10, 13, 180) - 17.11622718218958) < 1e-9);
  assert_int_equal(fc_erlang_required(10, 180, 0.8, 20, 0, 1.0, 1000000), 14);
  assert_int_equal(fc_erlang_required(10, 180, 0.75, 20, 0, 1.0, 1000000), 13);
  /* a 60 s threshold: SL(12) = 0.7693, SL(13) = 0.8951 → 13 */
  assert_int_equal(fc_erlang_required(10, 180, 0.8, 60, 0, 1.0, 1000000), 13);
  /* max ASA 10 s: 13 gives 17.1 s → 14; 5 s → 15 (3.67 s) */
  assert_int_equal(fc_erlang_required(10, 180, 0.75, 20, 10, 1.0, 1000000), 14);
  assert_int_equal(fc_erlang_required(10, 180, 0.8, 20, 5, 1.0, 1000000), 15);
  /* occupancy cap 70 %: N >= 10 / 0.7 = 14.3 → 15 */
  assert_int_equal(fc_erlang_required(10, 180, 0.8, 20, 0, 0.7, 1000000), 15);
  /* AHT 90 s at A 10: SL(13) = 1 − 0.285270 · e^{−3·20/90} = 0.853537 → 13 */
  assert_int_equal(fc_erlang_required(10, 90, 0.8, 20, 0, 1.0, 1000000), 13);
  /* A = 1000 at 180 s: Python finds 1011 (SL 0.81380) */
  assert_int_equal(fc_erlang_required(1000, 180, 0.8, 20, 0, 1.0, 1000000), 1011);
  /* no traffic: 0 agents; unusable input or an unreachable cap: -1 */
  assert_int_equal(fc_erlang_required(0, 180, 0.8, 20, 0, 1.0, 1000000), 0);
  assert_int_equal(fc_erlang_required(10, 0, 0.8, 20, 0, 1.0, 1000000), -1);
  assert_int_equal(fc_erlang_required(NAN, 180, 0.8, 20, 0, 1.0, 1000000), -1);
  assert_int_equal(fc_erlang_required(10, 180, 0.8, 20, 0, 1.0, 12), -1);
}

/* ---- forecast accuracy, peak, day rollup -------------------------------------- */

/*
 * Queue "sales", voice. Forecast f1 published at 00:00: I(0) 10 contacts at
 * AHT 200 s, I(1) 5 contacts at AHT 300 s; nothing for I(2).
 *   I(0): 8 offered (c0..c7); c0 handled 20→200 s (180 s), c1 30→270 s
 *         (240 s): AHT a = 210
 *   I(1): nothing offered
 *   I(2): 10 offered (d0..d9); d0 handled +20→+120 s (100 s)
 * A tick at the next midnight closes the day.
 */
static void feed_accuracy(fx *f) {
  forecast(f, S(0), VOICE, "sales", I(0), 900, 10, 200, "f1");
  forecast(f, S(0), VOICE, "sales", I(1), 900, 5, 300, "f1");
  queue_many(f, S(10), VOICE, "sales", "c", 8);
  handled(f, S(20), S(200), VOICE, "sales", "c0", "a1");
  handled(f, S(30), S(270), VOICE, "sales", "c1", "a2");
  queue_many(f, I(2) + KS_TK_SEC(10), VOICE, "sales", "d", 10);
  handled(f, I(2) + KS_TK_SEC(20), I(2) + KS_TK_SEC(120), VOICE, "sales", "d0", "a1");
  tick(f, KS_TK_T0 + DAY(1));
}

static void test_accuracy_interval_and_day(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  feed_accuracy(&f);
  flush(&f);
  const char *Q = "sales";
  /* I(0): A = 8, F = 10, a = 210, f = 200 */
  EXPECT(&f, "offered", VOICE, Q, I(0), 8);
  EXPECT(&f, "aht", VOICE, Q, I(0), 210); /* (180 + 240) / 2 */
  EXPECT(&f, "forecast_offered", VOICE, Q, I(0), 10);
  EXPECT(&f, "forecast_aht", VOICE, Q, I(0), 200);    /* 2000 / 10 */
  EXPECT(&f, "offered_wape", VOICE, Q, I(0), 0.25);   /* |8 − 10| / 8 */
  EXPECT(&f, "offered_mape", VOICE, Q, I(0), 0.25);   /* one interval: = APE */
  EXPECT(&f, "offered_bias", VOICE, Q, I(0), 0.25);   /* (10 − 8) / 8: over-forecast */
  EXPECT(&f, "aht_wape", VOICE, Q, I(0), 10.0 / 210); /* |210 − 200| / 210 */
  EXPECT(&f, "aht_mape", VOICE, Q, I(0), 10.0 / 210);
  EXPECT(&f, "aht_bias", VOICE, Q, I(0), -10.0 / 210); /* (200 − 210) / 210 */
  /* traffic 8 × 210 / 900 = 1.8667 E → Erlang C 80/20 at AHT 210: 4 agents
   * (Python: SL(4) = 0.88344); grossed up 4 / (1 − 0.30) */
  EXPECT(&f, "traffic_erlangs", VOICE, Q, I(0), 1680.0 / 900);
  EXPECT(&f, "required_agents", VOICE, Q, I(0), 4);
  EXPECT(&f, "required_staff", VOICE, Q, I(0), 4 / 0.7);
  /* the first day: nothing to compare with */
  EXPECT_NULL(&f, "offered_change_day", VOICE, Q, I(0));
  EXPECT_NULL(&f, "offered_change_day_ratio", VOICE, Q, I(0));
  EXPECT_NULL(&f, "offered_change_week", VOICE, Q, I(0));
  EXPECT_NULL(&f, "offered_change_week_ratio", VOICE, Q, I(0));

  /* I(1): forecast 5, nothing offered: every ratio over A is null */
  EXPECT(&f, "offered", VOICE, Q, I(1), 0);
  EXPECT_NULL(&f, "aht", VOICE, Q, I(1));
  EXPECT(&f, "forecast_offered", VOICE, Q, I(1), 5);
  EXPECT(&f, "forecast_aht", VOICE, Q, I(1), 300);
  EXPECT_NULL(&f, "offered_wape", VOICE, Q, I(1));
  EXPECT_NULL(&f, "offered_mape", VOICE, Q, I(1));
  EXPECT_NULL(&f, "offered_bias", VOICE, Q, I(1));
  EXPECT_NULL(&f, "aht_wape", VOICE, Q, I(1));
  EXPECT_NULL(&f, "aht_bias", VOICE, Q, I(1));
  EXPECT(&f, "traffic_erlangs", VOICE, Q, I(1), 0); /* no contacts: no traffic */
  EXPECT(&f, "required_agents", VOICE, Q, I(1), 0);
  EXPECT(&f, "required_staff", VOICE, Q, I(1), 0);

  /* I(2): no forecast: no accuracy results, traffic 10 × 100 / 900 = 1.111 E
   * → 3 agents (Python: SL(3) = 0.91950) */
  EXPECT(&f, "offered", VOICE, Q, I(2), 10);
  EXPECT(&f, "aht", VOICE, Q, I(2), 100);
  ABSENT(&f, "forecast_offered", VOICE, Q, I(2));
  ABSENT(&f, "offered_wape", VOICE, Q, I(2));
  EXPECT(&f, "traffic_erlangs", VOICE, Q, I(2), 1000.0 / 900);
  EXPECT(&f, "required_agents", VOICE, Q, I(2), 3);
  /* I(3): quiet, no forecast: nothing */
  ABSENT(&f, "offered", VOICE, Q, I(3));

  /* the day (results stamped [00:00, 24:00)): forecast intervals I(0), I(1)
   *   WAPE = (|8 − 10| + |0 − 5|) / (8 + 0) = 7/8
   *   MAPE = mean over intervals with A > 0 = 0.25 (I(1) has A = 0)
   *   bias = ((10 − 8) + (5 − 0)) / 8 = 7/8
   *   AHT: only I(0) has both: 10/210, bias −10/210 */
  const int64_t d0 = KS_TK_T0;
  EXPECT(&f, "day_offered_wape", VOICE, Q, d0, 7.0 / 8);
  EXPECT(&f, "day_offered_mape", VOICE, Q, d0, 0.25);
  EXPECT(&f, "day_offered_bias", VOICE, Q, d0, 7.0 / 8);
  EXPECT(&f, "day_aht_wape", VOICE, Q, d0, 10.0 / 210);
  EXPECT(&f, "day_aht_mape", VOICE, Q, d0, 10.0 / 210);
  EXPECT(&f, "day_aht_bias", VOICE, Q, d0, -10.0 / 210);
  /* peak by Erlangs: I(0) 1.867 E beats I(2) 1.111 E */
  EXPECT(&f, "day_peak_offered", VOICE, Q, d0, 8);
  EXPECT(&f, "day_peak_traffic_erlangs", VOICE, Q, d0, 1680.0 / 900);
  EXPECT(&f, "day_peak_interval_start", VOICE, Q, d0, (double)I(0));

  /* result shape */
  const got *g = find(&f, "offered_wape", VOICE, Q, I(0));
  assert_string_equal(g->family, "forecast");
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_RATIO);
  assert_string_equal(g->unit, "ratio");
  assert_true(close_enough(g->numerator, 2) && close_enough(g->denominator, 8));
  char want_key[96];
  snprintf(want_key, sizeof want_key, "forecast/offered_wape|acme|voice|sales|||%lld",
           (long long)I(0));
  assert_string_equal(g->key, want_key);
  g = find(&f, "offered", VOICE, Q, I(0));
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_SUM);
  assert_string_equal(g->unit, "contacts");
  assert_int_equal(g->end_ms, I(1));
  g = find(&f, "required_agents", VOICE, Q, I(0));
  assert_string_equal(g->unit, "agents");
  assert_true(close_enough(g->numerator, 4 * 900.0) && close_enough(g->denominator, 900));
  g = find(&f, "day_offered_wape", VOICE, Q, d0);
  assert_int_equal(g->end_ms, KS_TK_T0 + DAY(1));
  assert_int_equal(g->count, 2); /* two forecast intervals */
  g = find(&f, "day_peak_interval_start", VOICE, Q, d0);
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_GAUGE);
  assert_string_equal(g->unit, "epoch_ms");
  assert_int_equal(find(&f, "day_peak_offered", VOICE, Q, d0)->aggregation,
                   KPISTREAM__V1__AGGREGATION__AGG_MAX);
  /* no agent data at all: no staffing rows above the queue */
  ABSENT(&f, "required_agents", 0, "", I(0));
  ABSENT(&f, "logged_in_agents", VOICE, Q, I(0));
  fx_free(&f);
}

/* peak_by: offered picks I(2) (10 contacts, 1.111 E) over I(0) (8, 1.867 E). */
static void test_peak_by_offered(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"peak_by", "offered"}};
  fx f;
  fx_init(&f, kv, 1);
  feed_accuracy(&f);
  flush(&f);
  EXPECT(&f, "day_peak_offered", VOICE, "sales", KS_TK_T0, 10);
  EXPECT(&f, "day_peak_traffic_erlangs", VOICE, "sales", KS_TK_T0, 1000.0 / 900);
  EXPECT(&f, "day_peak_interval_start", VOICE, "sales", KS_TK_T0, (double)I(2));
  fx_free(&f);
  /* a tie keeps the earliest interval: 5 contacts in I(1) and in I(3) */
  fx_init(&f, kv, 1);
  queue_many(&f, I(1), VOICE, "care", "a", 5);
  queue_many(&f, I(3), VOICE, "care", "b", 5);
  tick(&f, KS_TK_T0 + DAY(1));
  flush(&f);
  EXPECT(&f, "day_peak_interval_start", VOICE, "care", KS_TK_T0, (double)I(1));
  EXPECT_NULL(&f, "day_peak_traffic_erlangs", VOICE, "care", KS_TK_T0); /* no AHT known */
  ABSENT(&f, "day_offered_wape", VOICE, "care", KS_TK_T0);              /* no forecast all day */
  fx_free(&f);
}

/* ---- staffing ----------------------------------------------------------------- */

/*
 * Queue "sales", voice, I(0): 50 contacts offered, two handled at 180 s:
 * traffic 50 × 180 / 900 = 10 E → 14 agents at 80/20 (see the Erlang test),
 * required staff 14 / (1 − 0.3) = 20.
 * Agents (no channel or queue: tenant level):
 *   a1 AVAILABLE from 0 s ............ 900 s in I(0), 900 s in I(1)
 *   a2 AVAILABLE 450 s, LOGGED_OUT 600 s: 150 s in I(0)
 *   a3 AUX from 0 s, LOGGED_OUT at I(1) + 450 s: 900 s + 450 s, never on queue
 *   I(0): logged in (900 + 150 + 900) / 900 = 2.1667, on queue 1050 / 900
 *   I(1): logged in (900 + 450) / 900 = 1.5, on queue 1; no demand: 0 required
 */
static void feed_staffing(fx *f) {
  agent(f, S(0), "a1", AST(AVAILABLE));
  agent(f, S(0), "a3", AST(AUX));
  queue_many(f, S(1), VOICE, "sales", "c", 50);
  handled(f, S(60), S(240), VOICE, "sales", "c0", "x1");
  handled(f, S(70), S(250), VOICE, "sales", "c1", "x2");
  agent(f, S(450), "a2", AST(AVAILABLE));
  agent(f, S(600), "a2", AST(LOGGED_OUT));
  agent(f, I(1) + KS_TK_SEC(450), "a3", AST(LOGGED_OUT));
}

static void test_staffing_tenant_level(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  feed_staffing(&f);
  flush(&f);
  EXPECT(&f, "traffic_erlangs", VOICE, "sales", I(0), 10);
  EXPECT(&f, "required_agents", VOICE, "sales", I(0), 14);
  EXPECT(&f, "required_staff", VOICE, "sales", I(0), 20);
  ABSENT(&f, "logged_in_agents", VOICE, "sales", I(0)); /* agents are not per queue here */
  ABSENT(&f, "staffing_gap", VOICE, "sales", I(0));
  /* tenant row: the queue's requirement beside all agents */
  EXPECT(&f, "required_agents", 0, "", I(0), 14);
  EXPECT(&f, "required_staff", 0, "", I(0), 20);
  EXPECT(&f, "logged_in_agents", 0, "", I(0), 1950.0 / 900);
  EXPECT(&f, "on_queue_agents", 0, "", I(0), 1050.0 / 900);
  EXPECT(&f, "staffing_gap", 0, "", I(0), 1950.0 / 900 - 20); /* −17.83: short */
  const got *g = find(&f, "logged_in_agents", 0, "", I(0));
  assert_int_equal(g->count, 2); /* a1 and a3 logged in at the end of I(0) */
  assert_true(close_enough(g->numerator, 1950) && close_enough(g->denominator, 900));
  /* I(1): quiet queue, nothing required, a1 and half of a3 */
  ABSENT(&f, "offered", VOICE, "sales", I(1));
  EXPECT(&f, "required_agents", 0, "", I(1), 0);
  EXPECT(&f, "logged_in_agents", 0, "", I(1), 1.5);
  EXPECT(&f, "on_queue_agents", 0, "", I(1), 1);
  EXPECT(&f, "staffing_gap", 0, "", I(1), 1.5);
  fx_free(&f);
}

/* The staffing options on the same traffic (A = 10 E, AHT 180 s). */
static void staffing_with(const ks_testkit_kv *kv, size_t n, double want_n, double want_staff,
                          double want_gap) {
  fx f;
  fx_init(&f, kv, n);
  feed_staffing(&f);
  flush(&f);
  EXPECT(&f, "required_agents", VOICE, "sales", I(0), want_n);
  EXPECT(&f, "required_staff", VOICE, "sales", I(0), want_staff);
  EXPECT(&f, "staffing_gap", 0, "", I(0), want_gap);
  fx_free(&f);
}

static void test_staffing_options(void **state) {
  (void)state;
  const double logged = 1950.0 / 900, onq = 1050.0 / 900;
  typedef struct scase {
    const char *k[2], *v[2];
    double n, staff; /* required agents and staff (shrinkage 30 % unless set) */
    int onq;         /* the gap compares on-queue agents with the net requirement */
  } scase;
  /* clang-format off */
  static const scase cases[] = {
      {{"service_level.target"}, {"75"}, 13, 13 / 0.7, 0},   /* SL(13) = 0.7956 */
      {{"service_level.target"}, {"0.75"}, 13, 13 / 0.7, 0}, /* the same, as a share */
      {{"service_level.threshold"}, {"60s"}, 13, 13 / 0.7, 0}, /* SL(13) = 0.8951 */
      {{"service_level.target", "max_asa"}, {"75", "10s"}, 14, 20, 0}, /* ASA(13) = 17.1 s */
      {{"max_occupancy"}, {"70"}, 15, 15 / 0.7, 0},          /* 10 / 14 = 71 % */
      {{"shrinkage"}, {"25"}, 14, 14 / 0.75, 0},
      {{"shrinkage"}, {"0"}, 14, 14, 0},
      {{"staffing_compare"}, {"on_queue"}, 14, 20, 1},       /* 1.1667 − 14 */
      /* chat and email thresholds do not touch a voice queue */
      {{"service_level.threshold.chat", "service_level.threshold.email"}, {"1s", "1s"}, 14, 20, 0}};
  /* clang-format on */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const scase *c = &cases[i];
    const ks_testkit_kv kv[2] = {{c->k[0], c->v[0]}, {c->k[1], c->v[1]}};
    staffing_with(kv, c->k[1] ? 2 : 1, c->n, c->staff, c->onq ? onq - c->n : logged - c->staff);
  }
}

/*
 * Per-channel thresholds: 50 contacts at 180 s (A = 10 E) in a voice, a
 * chat and an email queue (email offered by ContactCreated). Defaults: voice
 * and chat 20 s → 14; email 1 h → 11 (SL(11) = 1 − 0.682 e^{−20} ≈ 1).
 * With threshold.chat 60 s → 13 (SL(13) = 0.895), threshold.email 20 s → 14.
 */
static void feed_channels(fx *f) {
  queue_many(f, S(0), VOICE, "q", "v", 50);
  queue_many(f, S(0), CHAT, "q", "c", 50);
  for (int i = 0; i < 50; i++) {
    char id[32];
    snprintf(id, sizeof id, "e%d", i);
    Kpistream__V1__ContactCreated b = KPISTREAM__V1__CONTACT_CREATED__INIT;
    put(f, S(i), KS_TK_TENANT, EMAIL, "q", id, NULL, KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED,
        &b);
  }
  handled(f, S(60), S(240), VOICE, "q", "v0", "x");
  handled(f, S(60), S(240), CHAT, "q", "c0", "x");
  handled(f, S(60), S(240), EMAIL, "q", "e0", "x");
}

static void test_channel_thresholds(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  feed_channels(&f);
  flush(&f);
  EXPECT(&f, "offered", EMAIL, "q", I(0), 50);
  EXPECT(&f, "required_agents", VOICE, "q", I(0), 14);
  EXPECT(&f, "required_agents", CHAT, "q", I(0), 14);
  EXPECT(&f, "required_agents", EMAIL, "q", I(0), 11);
  fx_free(&f);
  const ks_testkit_kv kv[] = {{"service_level.threshold.chat", "60s"},
                              {"service_level.threshold.email", "20s"}};
  fx_init(&f, kv, 2);
  feed_channels(&f);
  flush(&f);
  EXPECT(&f, "required_agents", VOICE, "q", I(0), 14);
  EXPECT(&f, "required_agents", CHAT, "q", I(0), 13);
  EXPECT(&f, "required_agents", EMAIL, "q", I(0), 14);
  fx_free(&f);
}

/* staffing_basis: forecast — 100 contacts at AHT 90 s = 10 E → 13 agents
 * (SL(13) = 0.8535), whatever was actually offered. */
static void test_staffing_basis_forecast(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"staffing_basis", "forecast"}};
  fx f;
  fx_init(&f, kv, 1);
  forecast(&f, S(0), VOICE, "sales", I(0), 900, 100, 90, "f1");
  feed_staffing(&f);
  flush(&f);
  EXPECT(&f, "traffic_erlangs", VOICE, "sales", I(0), 10); /* actual traffic, still */
  EXPECT(&f, "required_agents", VOICE, "sales", I(0), 13);
  EXPECT(&f, "required_staff", 0, "", I(0), 13 / 0.7);
  /* I(1): a quiet queue (no forecast, no contacts) needs nobody */
  EXPECT(&f, "logged_in_agents", 0, "", I(1), 1.5);
  EXPECT(&f, "required_agents", 0, "", I(1), 0);
  fx_free(&f);
}

/*
 * Agents that name their channel and queue count there and at every level
 * above: q1 (voice, sales), v1 (voice only), c1 (chat only), t1 (none), all
 * AVAILABLE from 0 s; a second tenant "beta" has its own agent and queue.
 * Demand: acme voice sales 50 contacts at 180 s (14 agents, 20 staff).
 */
static void test_staffing_levels_and_tenants(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  agent_t(&f, KS_TK_TENANT, S(0), VOICE, "sales", "q1", AST(AVAILABLE));
  agent_t(&f, KS_TK_TENANT, S(0), VOICE, NULL, "v1", AST(AVAILABLE));
  agent_t(&f, KS_TK_TENANT, S(0), CHAT, NULL, "c1", AST(AVAILABLE));
  agent_t(&f, KS_TK_TENANT, S(0), 0, "sales", "t1", AST(AVAILABLE)); /* queue without channel */
  agent_t(&f, "beta", S(0), 0, NULL, "b1", AST(AVAILABLE));
  queue_many(&f, S(1), VOICE, "sales", "c", 50);
  handled(&f, S(60), S(240), VOICE, "sales", "c0", "x1");
  handled(&f, S(70), S(250), VOICE, "sales", "c1", "x2");
  queued_t(&f, "beta", S(5), VOICE, "sales", "b-c1");
  agent_t(&f, KS_TK_TENANT, I(1) - 1, 0, NULL, "t1", AST(AUX)); /* 1 ms before the end */
  flush(&f);
  const int64_t i0 = I(0);
  /* queue row: q1 only */
  EXPECT(&f, "logged_in_agents", VOICE, "sales", i0, 1);
  EXPECT(&f, "staffing_gap", VOICE, "sales", i0, 1 - 20.0);
  /* voice row: q1 + v1, the voice queues' requirement */
  EXPECT(&f, "logged_in_agents", VOICE, "", i0, 2);
  EXPECT(&f, "required_agents", VOICE, "", i0, 14);
  EXPECT(&f, "staffing_gap", VOICE, "", i0, 2 - 20.0);
  /* chat row: c1, no chat demand */
  EXPECT(&f, "logged_in_agents", CHAT, "", i0, 1);
  EXPECT(&f, "required_agents", CHAT, "", i0, 0);
  EXPECT(&f, "staffing_gap", CHAT, "", i0, 1);
  /* tenant row: all four (t1's queue is dropped: no channel) */
  EXPECT(&f, "logged_in_agents", 0, "", i0, 4);
  EXPECT(&f, "on_queue_agents", 0, "", i0, 4 - 1.0 / 900000); /* t1 in AUX for 1 ms */
  EXPECT(&f, "required_agents", 0, "", i0, 14);
  EXPECT(&f, "staffing_gap", 0, "", i0, 4 - 20.0);
  assert_null(find(&f, "logged_in_agents", 0, "sales", i0));
  /* beta: its own queue (1 contact, AHT unknown → requirement unknown) */
  EXPECT_T(&f, "beta", "offered", VOICE, "sales", i0, 1);
  EXPECT_T(&f, "beta", "logged_in_agents", 0, "", i0, 1);
  assert_false(must(&f, "beta", "required_agents", 0, "", i0, __FILE__, __LINE__)->has_value);
  assert_false(must(&f, "beta", "staffing_gap", 0, "", i0, __FILE__, __LINE__)->has_value);
  fx_free(&f);
}

/* ---- trend ---------------------------------------------------------------------- */

/*
 * Queue "sales" at 01:00 (I(4)): day 0 4 contacts, day 1 6, day 7 2 (every
 * interval in between closes quietly and is remembered as 0).
 *   day 1: vs day 0 +2 (+50 %); a week before: unknown
 *   day 7: vs day 6 (quiet, 0) +2 (ratio over 0: null); vs day 0 −2 (−50 %)
 */
static void test_trend(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  queue_many(&f, I(4), VOICE, "sales", "d0-", 4);
  queue_many(&f, I(4) + DAY(1), VOICE, "sales", "d1-", 6);
  queue_many(&f, I(4) + DAY(7), VOICE, "sales", "d7-", 2);
  flush(&f);
  EXPECT_NULL(&f, "offered_change_day", VOICE, "sales", I(4));
  EXPECT_NULL(&f, "offered_change_week", VOICE, "sales", I(4));
  const int64_t d1 = I(4) + DAY(1), d7 = I(4) + DAY(7);
  EXPECT(&f, "offered_change_day", VOICE, "sales", d1, 2);
  EXPECT(&f, "offered_change_day_ratio", VOICE, "sales", d1, 0.5);
  EXPECT_NULL(&f, "offered_change_week", VOICE, "sales", d1);
  EXPECT_NULL(&f, "offered_change_week_ratio", VOICE, "sales", d1);
  EXPECT(&f, "offered_change_day", VOICE, "sales", d7, 2);
  EXPECT_NULL(&f, "offered_change_day_ratio", VOICE, "sales", d7);
  EXPECT(&f, "offered_change_week", VOICE, "sales", d7, -2);
  EXPECT(&f, "offered_change_week_ratio", VOICE, "sales", d7, -0.5);
  const got *g = find(&f, "offered_change_week_ratio", VOICE, "sales", d7);
  assert_true(close_enough(g->numerator, -2) && close_enough(g->denominator, 4));
  /* quiet intervals emit nothing */
  ABSENT(&f, "offered", VOICE, "sales", I(5));
  ABSENT(&f, "offered_change_day", VOICE, "sales", I(4) + DAY(6));
  fx_free(&f);
}

/* ---- forecast publication and mapping ------------------------------------------ */

/*
 * Queue "sales", voice, nothing offered; only the forecast side:
 *   30-min forecast of 40 at 100 s from I(0) → 20 in I(0), 20 in I(1)
 *   5-min forecasts in I(2): 2 @ 60 s, 3 @ 120 s, 4 @ 90 s → 9, AHT 840/9
 *   I(3): f1 7, then f1 revised to 9 (same forecast interval, later) → 9
 *   I(4): f1 5, then f2 6 (newer publication) → 6; f3 8 published before f2
 *         → ignored
 *   chat "sales" I(0): 3 (a different queue: its own channel)
 *   I(5): 4 with no interval length: taken as one host interval
 *   no queue: ignored (negative figures never pass the host's decoder)
 */
static void test_forecast_mapping(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  forecast(&f, S(0), VOICE, "sales", I(0), 1800, 40, 100, "f1");
  forecast(&f, S(0), VOICE, "sales", I(2), 300, 2, 60, "f1");
  forecast(&f, S(0), VOICE, "sales", I(2) + KS_TK_MIN(5), 300, 3, 120, "f1");
  forecast(&f, S(0), VOICE, "sales", I(2) + KS_TK_MIN(10), 300, 4, 90, "f1");
  forecast(&f, S(0), VOICE, "sales", I(3), 900, 7, 100, "f1");
  forecast(&f, S(0), VOICE, "sales", I(4), 900, 5, 100, "f1");
  forecast(&f, S(0), CHAT, "sales", I(0), 900, 3, 100, "f1");
  forecast(&f, S(0), VOICE, NULL, I(0), 900, 50, 100, "f1");
  forecast(&f, S(0), VOICE, "sales", I(5), 0, 4, 100, "f1");
  forecast(&f, S(60), VOICE, "sales", I(3), 900, 9, 100, "f1");
  forecast(&f, S(60), VOICE, "sales", I(4), 900, 6, 100, "f2");
  forecast(&f, S(30), VOICE, "sales", I(4), 900, 8, 100, "f3");
  tick(&f, I(6));
  flush(&f);
  EXPECT(&f, "forecast_offered", VOICE, "sales", I(0), 20);
  EXPECT(&f, "forecast_offered", VOICE, "sales", I(1), 20);
  EXPECT(&f, "forecast_aht", VOICE, "sales", I(1), 100);
  EXPECT(&f, "forecast_offered", VOICE, "sales", I(2), 9);
  EXPECT(&f, "forecast_aht", VOICE, "sales", I(2), 840.0 / 9); /* 120 + 360 + 360 */
  assert_int_equal(find(&f, "forecast_offered", VOICE, "sales", I(2))->count, 3);
  EXPECT(&f, "forecast_offered", VOICE, "sales", I(3), 9);
  EXPECT(&f, "forecast_offered", VOICE, "sales", I(4), 6);
  EXPECT(&f, "forecast_offered", VOICE, "sales", I(5), 4); /* no length: one host interval */
  EXPECT(&f, "forecast_offered", CHAT, "sales", I(0), 3);
  ABSENT(&f, "forecast_offered", VOICE, "", I(0));
  /* nothing offered: WAPE is null, the day's WAPE sums |0 − F| over 0 */
  EXPECT_NULL(&f, "offered_wape", VOICE, "sales", I(0));
  EXPECT(&f, "offered", VOICE, "sales", I(0), 0);
  fx_free(&f);
}

/* ---- unknown AHT, nulls ------------------------------------------------------------ */

/*
 * Queue "billing", voice, no handled contacts:
 *   I(0) 3 offered, no forecast: AHT unknown → traffic, requirement null
 *   I(1) 2 offered, forecast 4 at 120 s: the forecast AHT stands in →
 *        traffic 2 × 120 / 900 = 0.2667 E → 2 agents (Python: SL(1) =
 *        0.764, SL(2) = 0.9765); the AHT accuracy is null (no actual AHT)
 * One tenant-level agent: the tenant row's requirement is null in I(0).
 */
static void test_unknown_aht(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  agent(&f, S(0), "t1", AST(AVAILABLE));
  queue_many(&f, S(10), VOICE, "billing", "c", 3);
  forecast(&f, S(20), VOICE, "billing", I(1), 900, 4, 120, "f1");
  queue_many(&f, I(1), VOICE, "billing", "d", 2);
  flush(&f);
  EXPECT(&f, "offered", VOICE, "billing", I(0), 3);
  EXPECT_NULL(&f, "aht", VOICE, "billing", I(0));
  EXPECT_NULL(&f, "traffic_erlangs", VOICE, "billing", I(0));
  EXPECT_NULL(&f, "required_agents", VOICE, "billing", I(0));
  EXPECT_NULL(&f, "required_staff", VOICE, "billing", I(0));
  EXPECT_NULL(&f, "required_agents", 0, "", I(0));
  EXPECT_NULL(&f, "staffing_gap", 0, "", I(0));
  EXPECT(&f, "logged_in_agents", 0, "", I(0), 1);
  EXPECT(&f, "traffic_erlangs", VOICE, "billing", I(1), 240.0 / 900);
  EXPECT(&f, "required_agents", VOICE, "billing", I(1), 2);
  EXPECT(&f, "offered_wape", VOICE, "billing", I(1), 1); /* |2 − 4| / 2 */
  EXPECT(&f, "offered_bias", VOICE, "billing", I(1), 1);
  EXPECT_NULL(&f, "aht_wape", VOICE, "billing", I(1));
  EXPECT_NULL(&f, "aht_mape", VOICE, "billing", I(1));
  EXPECT(&f, "staffing_gap", 0, "", I(1), 1 - 2 / 0.7);
  fx_free(&f);
}

/* ---- robustness -------------------------------------------------------------------- */

/*
 * Queue "sales", voice, I(0):
 *   c1 queued twice (once without a queue name), then in "support": 1 + 1
 *   c2 wrap-up (200 s) before its answer (50 s): handled when the answer
 *      arrives, 150 s
 *   c3 answered 10 s by z1, wrap-up 100 s twice, the second without agent: 90 s
 *   c4 wrap-up without any answer: not in the AHT
 *   c5 no contact id: ignored
 *   agent a1 AVAILABLE 100 s, then a stale LOGGED_OUT stamped 50 s: ignored
 *   agent a2 with an unspecified state, agent without id: ignored
 * AHT = (150 + 90) / 2 = 120.
 */
static void test_out_of_order_and_duplicates(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  queued(&f, S(1), VOICE, "sales", "c1");
  queued(&f, S(2), VOICE, NULL, "c1");
  queued(&f, S(3), VOICE, "support", "c1");
  queued(&f, S(4), VOICE, "sales", "c2");
  acw_t(&f, KS_TK_TENANT, S(200), VOICE, "sales", "c2", "z2");
  answered_t(&f, KS_TK_TENANT, S(50), VOICE, "sales", "c2", "z2");
  queued(&f, S(5), VOICE, "sales", "c3");
  answered_t(&f, KS_TK_TENANT, S(10), VOICE, "sales", "c3", "z1");
  acw_t(&f, KS_TK_TENANT, S(100), VOICE, "sales", "c3", NULL);
  acw_t(&f, KS_TK_TENANT, S(100), VOICE, "sales", "c3", "z1");
  acw_t(&f, KS_TK_TENANT, S(100), VOICE, "sales", "c4", "z3");
  queued(&f, S(6), VOICE, "sales", NULL);
  agent(&f, S(100), "a1", AST(AVAILABLE));
  agent(&f, S(50), "a1", AST(LOGGED_OUT));
  agent(&f, S(60), "a2", AST(STATE_UNSPECIFIED));
  agent(&f, S(60), NULL, AST(AVAILABLE));
  flush(&f);
  EXPECT(&f, "offered", VOICE, "sales", I(0), 3); /* c1, c2, c3 */
  EXPECT(&f, "offered", VOICE, "support", I(0), 1);
  EXPECT(&f, "aht", VOICE, "sales", I(0), 120);
  assert_int_equal(find(&f, "aht", VOICE, "sales", I(0))->count, 2);
  EXPECT(&f, "logged_in_agents", 0, "", I(0), 800.0 / 900);
  fx_free(&f);
}

/* A wrap-up whose answer arrives after the wrap-up's interval closed is
 * dropped; an answer in a later interval does not move it there. */
static void test_late_answer_dropped(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  queued(&f, S(1), VOICE, "sales", "c1");
  acw_t(&f, KS_TK_TENANT, S(100), VOICE, "sales", "c1", "z1");
  queued(&f, I(1) + KS_TK_SEC(1), VOICE, "sales", "c2"); /* closes I(0) */
  answered_t(&f, KS_TK_TENANT, I(1) + KS_TK_SEC(2), VOICE, "sales", "c1", "z1");
  flush(&f);
  EXPECT_NULL(&f, "aht", VOICE, "sales", I(0));
  EXPECT_NULL(&f, "aht", VOICE, "sales", I(1));
  fx_free(&f);
}

/* ---- configuration ------------------------------------------------------------------ */

static void test_bad_config_refused(void **state) {
  (void)state;
  /* clang-format off */
  static const char *const bad[] = {
      "service_level.target=100", "service_level.target=1", "service_level.target=0",
      "service_level.target=120", "service_level.target=high", "service_level.threshold=soon",
      "service_level.threshold.email=x", "service_level.threshold.chat=x", "max_asa=x",
      "max_occupancy=0", "shrinkage=100", "shrinkage=-1", "staffing_basis=plan",
      "staffing_compare=scheduled", "peak_by=volume", "contact_ttl=0", "agent_ttl=0",
      "forecast_ttl=0", "history_ttl=7d", "typo_option=1"};
  /* clang-format on */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char key[64];
    snprintf(key, sizeof key, "%s", bad[i]);
    char *eq = strchr(key, '=');
    *eq = '\0';
    const ks_testkit_kv kv = {key, eq + 1};
    fx f;
    if (fx_try(&f, &kv, 1, 1) == 0)
      fail_msg("option %s: '%s' was accepted", key, eq + 1);
    fx_free(&f);
  }
}

static void test_good_config_accepted(void **state) {
  (void)state;
  /* clang-format off */
  const ks_testkit_kv kv[] = {
      {"service_level.target", "0.9"}, {"service_level.threshold", "30s"},
      {"service_level.threshold.email", "4h"}, {"service_level.threshold.chat", "60s"},
      {"max_asa", "15s"}, {"max_occupancy", "0.85"}, {"shrinkage", "35"},
      {"staffing_basis", "forecast"}, {"staffing_compare", "on_queue"}, {"peak_by", "offered"},
      {"contact_ttl", "2d"}, {"agent_ttl", "12h"}, {"forecast_ttl", "14d"}, {"history_ttl", "9d"}};
  /* clang-format on */
  fx f;
  fx_init(&f, kv, sizeof kv / sizeof kv[0]);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(f.k)), 1);
  assert_string_equal(ks_engine_plugin_name(ks_testkit_engine(f.k), 0), "forecast");
  fx_free(&f);
}

/* An interval that does not divide a day cannot hold the day's history. */
static void test_odd_interval_refused(void **state) {
  (void)state;
  fx f;
  assert_int_not_equal(fx_try_len(&f, NULL, 0, 1, KS_TK_MIN(7)), 0);
  fx_free(&f);
  assert_int_equal(fx_try_len(&f, NULL, 0, 0, KS_TK_MIN(5)), 0); /* 8 days of 5 minutes fit */
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_erlang_table_values),
      cmocka_unit_test(test_erlang_required_agents),
      cmocka_unit_test(test_accuracy_interval_and_day),
      cmocka_unit_test(test_peak_by_offered),
      cmocka_unit_test(test_staffing_tenant_level),
      cmocka_unit_test(test_staffing_options),
      cmocka_unit_test(test_channel_thresholds),
      cmocka_unit_test(test_staffing_basis_forecast),
      cmocka_unit_test(test_staffing_levels_and_tenants),
      cmocka_unit_test(test_trend),
      cmocka_unit_test(test_forecast_mapping),
      cmocka_unit_test(test_unknown_aht),
      cmocka_unit_test(test_out_of_order_and_duplicates),
      cmocka_unit_test(test_late_answer_dropped),
      cmocka_unit_test(test_bad_config_refused),
      cmocka_unit_test(test_good_config_accepted),
      cmocka_unit_test(test_odd_interval_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
