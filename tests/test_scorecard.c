/*
 * test_scorecard — the scorecard plugin, driven through the real engine with
 * the producer plugins it reads (operations, experience, workforce, loaded
 * first): events in, the producers' results passed in process to the
 * scorecard, its results decoded from the protobuf bytes the sink receives.
 * Every expected number is worked out by hand in the comments.
 *
 * Times: KS_TK_T0 is 2026-11-23T00:00:00Z; I(k) is the k-th 15-minute interval
 * from there, S(s) = KS_TK_T0 + s seconds, D(d) = the start of day d.
 *
 * Default catalogue levels used below: service_level target 0.8 floor 0.5
 * (higher is better), aht 300 / 600 s (lower), abandonment_rate 0.05 / 0.15
 * (lower), csat 0.85 / 0.5, occupancy band 0.75..0.85 floors 0.45..0.95,
 * proficiency 1.1 / 0.8. Score = 100 × clamp((v − floor) / (target − floor)).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "kpistream/v1/result.pb-c.h"
#include "testkit_engine.h"

#define IV_MS  KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV_MS)
#define S(s)   (KS_TK_T0 + KS_TK_SEC(s))
#define D(d)   (KS_TK_T0 + (int64_t)(d)*86400000)
#define VOICE  KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define AST(x) KPISTREAM__V1__AGENT_STATE__AGENT_##x

static const char *const producers[] = {"operations", "experience", "workforce"};

/* ---- result collection ---------------------------------------------------- */

/* Results are the kit's (kpistream/testkit.h), the producers' own too; the
 * helpers below read those on kpi.scorecard and kpi.alerts. */
typedef ks_testkit_result got;

typedef struct fx {
  ks_testkit *k;
} fx;

/* The producers loaded before the scorecard: the real families, or the
 * feed test plugin as family "operations" (metrics of producers not at hand). */
typedef struct prods {
  const char *const *names; /* "feed_operations" = tests/test_plugins/feed_operations.so */
  size_t n;
} prods;
static const prods real = {producers, sizeof producers / sizeof producers[0]};
static const char *const fed_names[] = {"feed_operations", "experience"};
static const prods fed = {fed_names, 2};

static void fx_engine(fx *f, const prods *pr, const ks_testkit_kv *kv, size_t n, int *rc, char *err,
                      size_t errsz) {
  const ks_testkit_options o = {.interval_ms = IV_MS};
  assert_int_equal(ks_testkit_new(&f->k, &o, err, errsz), 0);
  for (size_t i = 0; i < pr->n; i++) {
    char path[512];
    if (strncmp(pr->names[i], "feed_", 5) == 0)
      snprintf(path, sizeof path, "%s/%s.so", KS_TEST_PLUGIN_BUILD_DIR, pr->names[i]);
    else
      snprintf(path, sizeof path, "%s/kpi_%s.so", KS_TEST_PLUGIN_DIR, pr->names[i]);
    if (ks_testkit_add_plugin(f->k, path, NULL, NULL, 0, err, errsz) != 0)
      fail_msg("add_plugin %s: %s", path, err);
  }
  *rc =
      ks_testkit_add_plugin(f->k, KS_TEST_PLUGIN_DIR "/kpi_scorecard.so", NULL, kv, n, err, errsz);
}

static int fx_try(fx *f, const ks_testkit_kv *kv, size_t n, char *err, size_t errsz) {
  memset(f, 0, sizeof *f);
  int rc;
  fx_engine(f, &real, kv, n, &rc, err, errsz);
  return rc;
}

static void fx_init_with(fx *f, const prods *pr, const ks_testkit_kv *kv, size_t n) {
  char err[512];
  int rc;
  memset(f, 0, sizeof *f);
  fx_engine(f, pr, kv, n, &rc, err, sizeof err);
  if (rc != 0)
    fail_msg("add_plugin scorecard: %s", err);
}

static void fx_init(fx *f, const ks_testkit_kv *kv, size_t n) {
  fx_init_with(f, &real, kv, n);
}

/* A checkpoint and a restart: every plugin's state snapshotted, the engine
 * replaced by a new one restored from the snapshots (the results so far are
 * kept). */
static void fx_restart(fx *f) {
  char err[512];
  if (ks_testkit_restart(f->k, err, sizeof err) != 0)
    fail_msg("restart: %s", err);
}

static void fx_free(fx *f) {
  ks_testkit_free(f->k);
  memset(f, 0, sizeof *f);
}

static int scorecard_topic(const char *topic) {
  return strcmp(topic, "kpi.scorecard") == 0 || strcmp(topic, "kpi.alerts") == 0;
}

/* Close every interval; no plugin error, the scorecard's family on its topics. */
static void flush(fx *f) {
  if (ks_testkit_flush(f->k) != 0)
    fail_msg("%s", ks_testkit_error(f->k));
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    if (scorecard_topic(ks_testkit_result_at(f->k, i)->topic))
      assert_string_equal(ks_testkit_result_at(f->k, i)->family, "scorecard");
}

/* The result "scorecard/<key>|<start>", or NULL. */
static const got *find(const fx *f, const char *key, int64_t start) {
  char k[256];
  snprintf(k, sizeof k, "scorecard/%s|%lld", key, (long long)start);
  const got *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    if (strcmp((*ks_testkit_result_at(f->k, i)).key, k) == 0) {
      if (hit)
        fail_msg("%s emitted twice", k);
      hit = ks_testkit_result_at(f->k, i);
    }
  return hit;
}

static const got *must(const fx *f, const char *key, int64_t start, const char *file, int line) {
  const got *g = find(f, key, start);
  if (g == NULL) {
    print_error("%s:%d: no result %s at %lld\n", file, line, key, (long long)start);
    for (size_t i = 0; i < ks_testkit_result_count(f->k) && i < 400; i++)
      if (scorecard_topic(ks_testkit_result_at(f->k, i)->topic))
        print_error("  have %s\n", ks_testkit_result_at(f->k, i)->key);
    _fail(file, line);
  }
  return g;
}

static void expect_v(const fx *f, const char *key, int64_t start, double want, const char *file,
                     int line) {
  const got *g = must(f, key, start, file, line);
  if (!g->has_value || fabs(g->value - want) > 1e-9 * fmax(1.0, fabs(want))) {
    print_error("%s:%d: %s: want %.12g, got %s%.12g\n", file, line, key, want,
                g->has_value ? "" : "null ", g->value);
    _fail(file, line);
  }
}

static void expect_null(const fx *f, const char *key, int64_t start, const char *file, int line) {
  const got *g = must(f, key, start, file, line);
  if (g->has_value) {
    print_error("%s:%d: %s: want null, got %.12g\n", file, line, key, g->value);
    _fail(file, line);
  }
}

#define EXPECT(f, key, iv, v) expect_v(f, key, iv, v, __FILE__, __LINE__)
#define NULLV(f, key, iv)     expect_null(f, key, iv, __FILE__, __LINE__)
#define NONE(f, key, iv)      assert_null(find(f, key, iv))

static size_t count_prefix(const fx *f, const char *topic, const char *prefix) {
  size_t n = 0;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    n += strcmp((*ks_testkit_result_at(f->k, i)).topic, topic) == 0 &&
         strncmp((*ks_testkit_result_at(f->k, i)).key, prefix, strlen(prefix)) == 0;
  return n;
}

/* ---- events ------------------------------------------------------------------ */

/* A voice call in `queue`, seconds from base: queued q, answered a by agent,
 * ended e, wrap-up ended w (handle = w − a). */
static void call(ks_testkit *e, int64_t base, const char *queue, const char *id, const char *agent,
                 int q, int a, int end, int w) {
  assert_int_equal(ks_tk_queued(e, base + KS_TK_SEC(q), VOICE, queue, id, id), KS_PROCESSED);
  assert_int_equal(ks_tk_answered(e, base + KS_TK_SEC(a), VOICE, queue, id, agent), KS_PROCESSED);
  assert_int_equal(ks_tk_ended(e, base + KS_TK_SEC(end), VOICE, queue, id, agent), KS_PROCESSED);
  assert_int_equal(ks_tk_acw_ended(e, base + KS_TK_SEC(w), VOICE, queue, id, agent, "", 1),
                   KS_PROCESSED);
}

static void abandon(ks_testkit *e, int64_t base, const char *queue, const char *id, int q, int ab) {
  assert_int_equal(ks_tk_queued(e, base + KS_TK_SEC(q), VOICE, queue, id, id), KS_PROCESSED);
  assert_int_equal(ks_tk_abandoned(e, base + KS_TK_SEC(ab), VOICE, queue, id), KS_PROCESSED);
}

/* CSAT on 1-5 about contact id (channel 0 and queue NULL: nothing known). */
static void csat_on(ks_testkit *e, int64_t t, int channel, const char *queue, const char *id,
                    int score) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, channel, queue, id, NULL, NULL);
  Kpistream__V1__SurveyResponse b = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  b.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT;
  b.scale_min = 1;
  b.scale_max = 5;
  b.score = score;
  b.survey_id = (char *)id;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &b;
  assert_int_equal(ks_testkit_feed(e, &ev), KS_PROCESSED);
}

static void csat(ks_testkit *e, int64_t t, const char *queue, const char *id, int score) {
  csat_on(e, t, VOICE, queue, id, score);
}

static void agent_state(ks_testkit *e, int64_t t, const char *agent, const char *team, int st) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, 0, NULL, NULL, NULL, agent);
  ev.team = (char *)team;
  Kpistream__V1__AgentStateChanged b = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
  b.state = (Kpistream__V1__AgentState)st;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_STATE;
  ev.agent_state = &b;
  assert_int_equal(ks_testkit_feed(e, &ev), KS_PROCESSED);
}

/* Service level 2/3 in queue "sales" of the interval at base, AHT 420:
 *   x1 queued 0, answered 10 (wait 10 ≤ 20 s) by a1, handle 310 − 10 = 300
 *   x2 queued 0, answered 15 (wait 15) by a2, handle 555 − 15 = 540
 *   x3 queued 5, abandoned 60 (wait 55: counted, not short)
 * SL = 2 / (2 answered + 1 abandoned); AHT = (300 + 540) / 2 = 420;
 * abandonment = 1 / 3 offered. */
static void sl_two_thirds(ks_testkit *e, int64_t base, const char *p) {
  char id[3][16];
  for (int i = 0; i < 3; i++)
    snprintf(id[i], sizeof id[i], "%s%d", p, i + 1);
  call(e, base, "sales", id[0], "a1", 0, 10, 250, 310);
  call(e, base, "sales", id[1], "a2", 0, 15, 455, 555);
  abandon(e, base, "sales", id[2], 5, 60);
}

/* ---- composite, missing KPIs, renormalised weights, scopes ------------------- */

static void test_composite_missing_and_rollup(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "service_level:40,aht:30,csat:30"},
                              {"scopes", "queue,tenant"},
                              {"alerts", "none"},
                              {"trend", "false"},
                              {"min_sample", "csat=1"}}; /* one answer scored (test_min_sample) */
  fx f;
  fx_init(&f, kv, 5);
  sl_two_thirds(f.k, I(0), "c");
  csat(f.k, S(100), "support", "s1", 5); /* 5 on 1-5: satisfied, csat 1/1 */
  flush(&f);
  const int64_t i0 = I(0);
  /* sales: SL 2/3 -> score 100 × (2/3 − 0.5) / 0.3 = 500/9 = 55.56;
   * AHT 420 -> 100 × (420 − 600) / (300 − 600) = 60; no CSAT in sales:
   * composite = (40 × 500/9 + 30 × 60) / (40 + 30) = 36200/630 = 57.46 */
  const char *q = "acme|voice|sales||";
  char k[160];
  snprintf(k, sizeof k, "composite|%smissing=csat", q);
  EXPECT(&f, k, i0, 36200.0 / 630.0);
  const got *g = find(&f, k, i0);
  assert_true(fabs(g->numerator - (20000.0 / 9.0 + 1800.0)) < 1e-9 && g->denominator == 70 &&
              g->count == 2);
  assert_string_equal(g->unit, "score");
  EXPECT(&f, "kpi_value|acme|voice|sales||kpi=service_level", i0, 2.0 / 3.0);
  g = find(&f, "kpi_value|acme|voice|sales||kpi=service_level", i0);
  assert_true(g->numerator == 2 && g->denominator == 3 && g->count == 3);
  EXPECT(&f, "kpi_target|acme|voice|sales||kpi=service_level", i0, 0.8);
  EXPECT(&f, "kpi_floor|acme|voice|sales||kpi=service_level", i0, 0.5);
  EXPECT(&f, "kpi_attainment|acme|voice|sales||kpi=service_level", i0, 5.0 / 9.0);
  EXPECT(&f, "kpi_score|acme|voice|sales||kpi=service_level", i0, 500.0 / 9.0);
  EXPECT(&f, "kpi_weight|acme|voice|sales||kpi=service_level", i0, 4000.0 / 70.0); /* 57.14 % */
  /* 57.14 % × 55.56 / 100 = 31.75 points; with aht's 42.86 % × 60 = 25.71: 57.46 */
  EXPECT(&f, "kpi_contribution|acme|voice|sales||kpi=service_level", i0, 4000.0 / 70 * 5 / 9);
  EXPECT(&f, "kpi_value|acme|voice|sales||kpi=aht", i0, 420);
  g = find(&f, "kpi_value|acme|voice|sales||kpi=aht", i0);
  assert_string_equal(g->unit, "seconds");
  EXPECT(&f, "kpi_attainment|acme|voice|sales||kpi=aht", i0, 0.6);
  EXPECT(&f, "kpi_score|acme|voice|sales||kpi=aht", i0, 60);
  EXPECT(&f, "kpi_contribution|acme|voice|sales||kpi=aht", i0, 3000.0 / 70 * 0.6);
  NONE(&f, "kpi_value|acme|voice|sales||kpi=csat", i0);
  /* support: only CSAT 1 -> attainment (1 − 0.5) / 0.35, score 100 */
  EXPECT(&f, "composite|acme|voice|support||missing=service_level\\,aht", i0, 100);
  EXPECT(&f, "kpi_attainment|acme|voice|support||kpi=csat", i0, 0.5 / 0.35);
  EXPECT(&f, "kpi_weight|acme|voice|support||kpi=csat", i0, 100);
  /* tenant: the queues summed: SL 2/3, AHT 420, CSAT 1, nothing missing:
   * (40 × 500/9 + 30 × 60 + 30 × 100) / 100 = 632/9 = 70.22 */
  EXPECT(&f, "composite|acme|all|||", i0, 632.0 / 9.0);
  EXPECT(&f, "kpi_value|acme|all|||kpi=csat", i0, 1);
  /* agent and team scopes not asked for; no alerts */
  assert_int_equal(count_prefix(&f, "kpi.scorecard", "scorecard/composite|acme|all||a1"), 0);
  assert_int_equal(count_prefix(&f, "kpi.alerts", ""), 0);
  NONE(&f, "kpi_change_prev|acme|all|||kpi=csat", i0); /* trend: false */
  fx_free(&f);

  /* detail: compact keeps value, score and contribution only */
  const ks_testkit_kv compact[] = {{"kpis", "service_level:40,aht:30,csat:30"},
                                   {"scopes", "queue"},
                                   {"detail", "compact"},
                                   {"alerts", "none"}};
  fx_init(&f, compact, 4);
  sl_two_thirds(f.k, I(0), "c");
  flush(&f);
  EXPECT(&f, "kpi_score|acme|voice|sales||kpi=aht", i0, 60);
  EXPECT(&f, "kpi_contribution|acme|voice|sales||kpi=aht", i0, 3000.0 / 70 * 0.6);
  NONE(&f, "kpi_target|acme|voice|sales||kpi=aht", i0);
  NONE(&f, "kpi_change_prev|acme|voice|sales||kpi=aht", i0);
  NULLV(&f, "composite_change_prev|acme|voice|sales||", i0); /* first interval: unknown */
  fx_free(&f);
}

/* ---- levels: an unattributed row is not the tenant's total (issue 11) -------------- */

/*
 * Two CSAT answers on voice/sales (5 and 4: satisfied) and one about an
 * unknown contact (1: not satisfied). Experience publishes the sales row
 * (2/2, level queue) and the unattributed row (0/1, channel all, no queue,
 * level unattributed). The tenant is the queue rows plus the unattributed
 * ones: CSAT 2/3, score 100 × (2/3 − 0.5) / (0.85 − 0.5) = 47.62, the
 * composite the same (the only KPI). Taking the unattributed row as the
 * tenant's own gave CSAT 0/1 = 0 and composite 0.
 */
static void test_unattributed_row_is_not_the_tenant(void **state) {
  (void)state;
  /* min_sample 1: three answers are scored here (the default for csat is 5) */
  const ks_testkit_kv kv[] = {{"kpis", "csat:100"},
                              {"scopes", "queue,tenant"},
                              {"alerts", "none"},
                              {"trend", "false"},
                              {"min_sample", "1"}};
  fx f;
  fx_init(&f, kv, 5);
  csat(f.k, S(100), "sales", "s1", 5);
  csat(f.k, S(110), "sales", "s2", 4);
  csat_on(f.k, S(120), 0, NULL, "zz", 1); /* a contact experience never saw */
  flush(&f);
  const int64_t i0 = I(0);
  EXPECT(&f, "kpi_value|acme|all|||kpi=csat", i0, 2.0 / 3.0);
  const got *g = find(&f, "kpi_value|acme|all|||kpi=csat", i0);
  assert_true(g->numerator == 2 && g->denominator == 3);
  EXPECT(&f, "kpi_score|acme|all|||kpi=csat", i0, 100.0 * (2.0 / 3.0 - 0.5) / 0.35);
  EXPECT(&f, "composite|acme|all|||", i0, 100.0 * (2.0 / 3.0 - 0.5) / 0.35);
  /* the queue keeps its own rows; there is no queue scope for "no queue" */
  EXPECT(&f, "kpi_value|acme|voice|sales||kpi=csat", i0, 1);
  NONE(&f, "composite|acme|all|||missing=csat", i0);
  fx_free(&f);
}

/* ---- trend and ramped targets ---------------------------------------------------- */

static void test_trend_and_ramp(void **state) {
  (void)state;
  /* service level alone, ramping 0.6 -> 0.8 over 4 days from the queue's
   * first day: target day 0 = 0.6, day 2 = 0.7, day >= 4 = 0.8 */
  const ks_testkit_kv kv[] = {{"kpis", "service_level:100"},
                              {"ramp", "service_level=0.6..0.8/4"},
                              {"scopes", "queue"},
                              {"alerts", "none"}};
  fx f;
  fx_init(&f, kv, 4);
  sl_two_thirds(f.k, I(0), "c");                       /* SL 2/3 */
  call(f.k, I(1), "sales", "d1", "a1", 0, 10, 60, 60); /* SL 1/2 in I(1) */
  abandon(f.k, I(1), "sales", "d2", 0, 30);
  sl_two_thirds(f.k, D(2), "e");                       /* day 2: SL 2/3 */
  call(f.k, D(7), "sales", "g1", "a1", 0, 10, 60, 60); /* I(0) + 7 days: SL 1 */
  flush(&f);
  const char *Q = "acme|voice|sales||";
  char k[160];
#define K(m, lab) (snprintf(k, sizeof k, "%s|%s%s", m, Q, lab), k)
  /* I(0): target 0.6, attainment (2/3 − 0.5) / 0.1 = 5/3, score 100 */
  EXPECT(&f, K("kpi_target", "kpi=service_level"), I(0), 0.6);
  EXPECT(&f, K("kpi_attainment", "kpi=service_level"), I(0), 5.0 / 3.0);
  EXPECT(&f, K("composite", ""), I(0), 100);
  NULLV(&f, K("kpi_change_prev", "kpi=service_level"), I(0));
  NULLV(&f, K("kpi_change_prev_ratio", "kpi=service_level"), I(0));
  NULLV(&f, K("kpi_change_week", "kpi=service_level"), I(0));
  NULLV(&f, K("composite_change_week_ratio", ""), I(0));
  /* I(1): SL 1/2, below the floor: score 0; against I(0): 1/2 − 2/3 = −1/6,
   * / |2/3| = −0.25; composite 0 − 100 = −100, −100 / 100 = −1 */
  EXPECT(&f, K("kpi_score", "kpi=service_level"), I(1), 0);
  EXPECT(&f, K("kpi_change_prev", "kpi=service_level"), I(1), -1.0 / 6.0);
  EXPECT(&f, K("kpi_change_prev_ratio", "kpi=service_level"), I(1), -0.25);
  EXPECT(&f, K("composite_change_prev", ""), I(1), -100);
  EXPECT(&f, K("composite_change_prev_ratio", ""), I(1), -1);
  NULLV(&f, K("composite_change_week", ""), I(1));
  /* day 2: target 0.6 + 0.2 × 2/4 = 0.7; score 100 × (1/6) / 0.2 = 83.33;
   * the interval before (quiet) is unknown */
  EXPECT(&f, K("kpi_target", "kpi=service_level"), D(2), 0.7);
  EXPECT(&f, K("kpi_score", "kpi=service_level"), D(2), 250.0 / 3.0);
  NULLV(&f, K("composite_change_prev", ""), D(2));
  /* day 7, same interval as I(0): target 0.8 (ramp over); SL 1, score 100;
   * week: 1 − 2/3 = 1/3, / (2/3) = 0.5; composite 100 − 100 = 0 */
  EXPECT(&f, K("kpi_target", "kpi=service_level"), D(7), 0.8);
  EXPECT(&f, K("kpi_change_week", "kpi=service_level"), D(7), 1.0 / 3.0);
  EXPECT(&f, K("kpi_change_week_ratio", "kpi=service_level"), D(7), 0.5);
  EXPECT(&f, K("composite_change_week", ""), D(7), 0);
  NULLV(&f, K("kpi_change_prev", "kpi=service_level"), D(7));
  fx_free(&f);

  /* a fixed ramp start two days before I(0): I(0) is day 2, target 0.7 */
  const ks_testkit_kv fixed[] = {{"kpis", "service_level:100"},
                                 {"ramp", "service_level=0.6..0.8/4"},
                                 {"ramp_start", "2026-11-21"},
                                 {"scopes", "queue"},
                                 {"alerts", "none"}};
  fx_init(&f, fixed, 5);
  sl_two_thirds(f.k, I(0), "c");
  flush(&f);
  EXPECT(&f, K("kpi_target", "kpi=service_level"), I(0), 0.7);
  EXPECT(&f, K("composite", ""), I(0), 250.0 / 3.0);
#undef K
  fx_free(&f);
}

/* ---- alerts -------------------------------------------------------------------------- */

static void test_alerts_fire_and_clear_once(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "service_level:50,abandonment_rate:50"},
                              {"scopes", "queue"},
                              {"alert_scopes", "queue,tenant"},
                              {"alerts", "service_level < target, abandonment_rate>0.05"}};
  fx f;
  fx_init(&f, kv, 4);
  sl_two_thirds(f.k, I(0), "c");                       /* SL 2/3 < 0.8: fire; abandons 1/3: fire */
  call(f.k, I(1), "sales", "d1", "a1", 0, 10, 60, 60); /* SL 1/2, abandons 1/2: still on */
  abandon(f.k, I(1), "sales", "d2", 0, 30);
  /* I(2): no data: no change */
  call(f.k, I(3), "sales", "e1", "a1", 0, 10, 60, 60); /* SL 1, abandons 0/1: both clear */
  call(f.k, I(4), "sales", "h1", "a1", 0, 10, 60, 60); /* still clear: nothing */
  flush(&f);
  const char *sl = "kpi=service_level,rule=service_level<target,state=";
  const char *ab = "kpi=abandonment_rate,rule=abandonment_rate>0.05,state=";
  char k[200];
  for (int t = 0; t < 2; t++) { /* the queue, then the tenant: one queue, same values */
    const char *dims = t == 0 ? "acme|voice|sales||" : "acme|all|||";
    snprintf(k, sizeof k, "alert|%s%sfire", dims, sl);
    EXPECT(&f, k, I(0), 2.0 / 3.0);
    const got *g = find(&f, k, I(0));
    assert_string_equal(g->topic, "kpi.alerts");
    assert_true(g->numerator == 2 && g->denominator == 3 && g->count == 3);
    snprintf(k, sizeof k, "alert|%s%sclear", dims, sl);
    EXPECT(&f, k, I(3), 1);
    snprintf(k, sizeof k, "alert|%s%sfire", dims, ab);
    EXPECT(&f, k, I(0), 1.0 / 3.0);
    snprintf(k, sizeof k, "alert|%s%sclear", dims, ab);
    EXPECT(&f, k, I(3), 0);
  }
  /* exactly these eight records: once at the start, once at the end */
  assert_int_equal(count_prefix(&f, "kpi.alerts", "scorecard/alert|"), 8);
  assert_int_equal(count_prefix(&f, "kpi.scorecard", "scorecard/alert|"), 0);
  /* tenant scorecards were not asked for, only its alerts */
  NONE(&f, "composite|acme|all|||", I(0));
  fx_free(&f);
}

/* ---- peers and team roll-up ------------------------------------------------------------ */

static void test_peers_and_teams(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "aht:100"}, {"scopes", "agent,team"}, {"alerts", "none"}};
  fx f;
  fx_init(&f, kv, 3);
  /* teams come from the workforce rows of the agents' state events */
  const char *agents[] = {"a1", "a2", "a3", "a5", "a4", "a6"};
  const char *teams[] = {"t1", "t1", "t1", "t1", "t2", "t2"};
  for (int i = 0; i < 6; i++)
    agent_state(f.k, S(1), agents[i], teams[i], AST(AVAILABLE));
  /* handle times (w − a): a1 300, a2 420, a3 540, a5 420 | a4 600, a6 500 */
  const int wrap[] = {310, 430, 550, 430, 610, 510};
  for (int i = 0; i < 6; i++) {
    char id[8];
    snprintf(id, sizeof id, "p%d", i);
    call(f.k, I(0), "sales", id, agents[i], 2, 10, wrap[i] - 60, wrap[i]);
  }
  flush(&f);
  const int64_t i0 = I(0);
  /* agent scores: 100 × (600 − aht) / 300 */
  EXPECT(&f, "composite|acme|all||a1|", i0, 100);
  EXPECT(&f, "composite|acme|all||a3|", i0, 20);
  EXPECT(&f, "composite|acme|all||a4|", i0, 0);
  assert_string_equal(find(&f, "composite|acme|all||a1|", i0)->team, "t1");
  /* t1 (n = 4, lower is better): a1 beats 3 -> 100 × 3/3 = 100; a2 beats a3
   * and ties a5 -> 100 × (1 + 0.5) / 3 = 50, a5 the same; a3 0 */
  EXPECT(&f, "peer_rank|acme|all||a1|kpi=aht,peers=team", i0, 100);
  EXPECT(&f, "peer_rank|acme|all||a2|kpi=aht,peers=team", i0, 50);
  EXPECT(&f, "peer_rank|acme|all||a5|kpi=aht,peers=team", i0, 50);
  EXPECT(&f, "peer_rank|acme|all||a3|kpi=aht,peers=team", i0, 0);
  EXPECT(&f, "peer_rank|acme|all||a6|kpi=aht,peers=team", i0, 100); /* t2: 500 beats 600 */
  EXPECT(&f, "peer_rank|acme|all||a4|kpi=aht,peers=team", i0, 0);
  assert_int_equal(find(&f, "peer_rank|acme|all||a2|kpi=aht,peers=team", i0)->count, 4);
  /* medians: t1 (300, 420, 420, 540) -> 420; t2 (500, 600) -> 550 */
  EXPECT(&f, "peer_median|acme|all|||kpi=aht,team=t1", i0, 420);
  EXPECT(&f, "peer_median|acme|all|||kpi=aht,team=t2", i0, 550);
  /* teams: agents' handle times summed: t1 1680 / 4 = 420 -> 60;
   * t2 1100 / 2 = 550 -> 100 × 50 / 300 = 16.67 */
  EXPECT(&f, "kpi_value|acme|all|||kpi=aht,team=t1", i0, 420);
  EXPECT(&f, "composite|acme|all|||team=t1", i0, 60);
  EXPECT(&f, "composite|acme|all|||team=t2", i0, 50.0 / 3.0);
  assert_string_equal(find(&f, "composite|acme|all|||team=t2", i0)->team, "t2");
  NONE(&f, "composite|acme|voice|sales||", i0); /* queue scope not asked for */
  fx_free(&f);

  /* alone in its group: no rank */
  const ks_testkit_kv one[] = {{"kpis", "aht:100"}, {"scopes", "agent"}, {"alerts", "none"}};
  fx_init(&f, one, 3);
  call(f.k, I(0), "sales", "q1", "z9", 2, 10, 200, 250);
  flush(&f);
  NULLV(&f, "peer_rank|acme|all||z9|kpi=aht,peers=tenant", I(0));
  EXPECT(&f, "peer_median|acme|all|||kpi=aht", I(0), 240);
  fx_free(&f);
}

/* ---- band KPIs and day results carried forward ------------------------------------------ */

static void test_band_and_daily_values(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "occupancy:50,proficiency:50"},
                              {"scopes", "agent"},
                              {"alerts", "none"},
                              {"peers", "false"},
                              {"trend", "no"}};
  fx f;
  fx_init(&f, kv, 5);
  /* I(0): available 0-30, on contact 30-800, ACW 800-840, available after:
   * handle 810 s, available 90 s -> occupancy 0.9, above the 0.85 band top */
  agent_state(f.k, S(0), "a1", "t1", AST(AVAILABLE));
  agent_state(f.k, S(30), "a1", "t1", AST(ON_CONTACT));
  agent_state(f.k, S(800), "a1", "t1", AST(AFTER_CONTACT_WORK));
  assert_int_equal(ks_tk_acw_ended(f.k, S(840), VOICE, "sales", "k1", "a1", "", 1), KS_PROCESSED);
  agent_state(f.k, S(840), "a1", "t1", AST(AVAILABLE));
  for (int d = 1; d <= 3; d++) /* the agent stays logged in */
    agent_state(f.k, D(d) + KS_TK_SEC(60), "a1", "t1", AST(AVAILABLE));
  flush(&f);
  const char *A = "acme|all||a1|";
  char k[160];
#define K(m, lab) (snprintf(k, sizeof k, "%s|%s%s", m, A, lab), k)
  /* occupancy 0.9: attainment (0.95 − 0.9) / (0.95 − 0.85) = 0.5, score 50;
   * proficiency comes per day: missing in I(0) */
  EXPECT(&f, K("kpi_value", "kpi=occupancy"), I(0), 0.9);
  EXPECT(&f, K("kpi_attainment", "kpi=occupancy"), I(0), 0.5);
  EXPECT(&f, K("kpi_target", "kpi=occupancy"), I(0), 0.75);
  EXPECT(&f, K("kpi_target_high", "kpi=occupancy"), I(0), 0.85);
  EXPECT(&f, K("kpi_floor_high", "kpi=occupancy"), I(0), 0.95);
  EXPECT(&f, K("composite", "missing=proficiency"), I(0), 50);
  /* I(1): available all along: occupancy 0, below 0.45: attainment −1.5 */
  EXPECT(&f, K("kpi_attainment", "kpi=occupancy"), I(1), -1.5);
  EXPECT(&f, K("composite", "missing=proficiency"), I(1), 0);
  /* day 0 closes with I(95): proficiency = (AHT index 1 + FCR index 1) / 2
   * = 1 (alone in its team) -> 100 × (1 − 0.8) / 0.3 = 66.67; occupancy 0:
   * composite (50 × 0 + 50 × 66.67) / 100 = 33.33 */
  EXPECT(&f, K("kpi_value", "kpi=proficiency"), I(95), 1);
  EXPECT(&f, K("composite", ""), I(95), 100.0 / 3.0);
  /* carried into day 1 and day 2 (one day's length + 1 day after it) */
  EXPECT(&f, K("kpi_value", "kpi=proficiency"), D(1), 1);
  EXPECT(&f, K("composite", ""), D(2) + IV_MS, 100.0 / 3.0);
  /* day 3: too old, missing again */
  EXPECT(&f, K("composite", "missing=proficiency"), D(3), 0);
  NONE(&f, K("kpi_value", "kpi=proficiency"), D(3));
#undef K
  fx_free(&f);
}

/* ---- results of another producer, fed by the feed test plugin ------------------------------ */

#define EMAIL KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL

/* One row of the feed plugin (family operations): metric at level
 * ("agent", "team", "queue", ...) with these numerator, denominator and
 * count, in the interval of t; queue rows on channel ch. */
static void row_span(ks_testkit *e, int64_t t, int ch, const char *queue, const char *agent,
                     const char *team, const char *metric, const char *level, double num,
                     double den, int64_t count, int span) {
  char spec[160];
  snprintf(spec, sizeof spec, "%s;%s;%.17g;%.17g;%lld;%d", metric, level, num, den,
           (long long)count, span);
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, queue ? ch : 0, queue, NULL, NULL, agent);
  ev.team = (char *)team;
  Kpistream__V1__Order b = KPISTREAM__V1__ORDER__INIT;
  b.order_id = spec;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_ORDER;
  ev.order = &b;
  assert_int_equal(ks_testkit_feed(e, &ev), KS_PROCESSED);
}

/* A row covering its one host interval. */
static void row(ks_testkit *e, int64_t t, int ch, const char *queue, const char *agent,
                const char *team, const char *metric, const char *level, double num, double den,
                int64_t count) {
  row_span(e, t, ch, queue, agent, team, metric, level, num, den, count, 1);
}

#define QROW(e, t, q, m, num, den)       row(e, t, VOICE, q, NULL, NULL, m, "queue", num, den, den)
#define AROW(e, t, a, team, m, num, den) row(e, t, 0, NULL, a, team, m, "agent", num, den, den)

/* Σ numerators and denominators of a result over the interval results that
 * start in [from, to). */
static void sum_between(const fx *f, const char *key, int64_t from, int64_t to, double *num,
                        double *den) {
  *num = *den = 0;
  for (int64_t t = from; t < to; t += IV_MS) {
    const got *g = find(f, key, t);
    if (g)
      *num += g->numerator, *den += g->denominator;
  }
}

/*
 * Day and week scorecards rolled up from the intervals, across a checkpoint.
 * resolution_rate (target 0.85, floor 0.6) and fcr (0.8 / 0.6), 50 % each,
 * queue voice/sales and the tenant. D(0) = 2026-11-23 is a Monday.
 *   D(0) I(0): resolution 3/4, fcr 1/2   -> 60, 0: composite 30
 *   D(0) I(5): resolution 1/2, fcr 2/2   -> 0, 100: composite 50
 *   (checkpoint and restart in D(0) I(10))
 *   D(1) I(0): resolution 5/6, fcr 0/1
 *   D(7) I(0): resolution 1/1, fcr 1/1 (closes the week)
 * Day D(0), from the sums: resolution 4/6 = 0.667 -> 100 × (0.667 − 0.6) /
 * 0.25 = 26.67; fcr 3/4 = 0.75 -> 75; composite 50.83 (the mean of the
 * interval composites would be 40, the mean of the interval values 0.625 and
 * 0.75). D(1): 5/6 -> 93.33, fcr 0 -> 0: composite 46.67; against D(0)
 * −4.17 (ratio −4.17 / 50.83 = −0.08197); moving average (D(0), D(1)) 48.75.
 * Week of D(0): resolution 9/12 = 0.75 -> 60, fcr 3/5 = 0.6 -> 0:
 * composite 30. Interval moving average at D(0) I(5): (30 + 50) / 2 = 40.
 */
static void test_period_scorecards(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "resolution_rate:50,fcr:50"},
                              {"scopes", "queue,tenant"},
                              {"periods", "day,week"},
                              {"alerts", "none"},
                              {"peers", "false"}};
  const size_t nkv = sizeof kv / sizeof kv[0];
  fx f;
  fx_init_with(&f, &fed, kv, nkv);
  QROW(f.k, I(0) + KS_TK_SEC(60), "sales", "resolution_rate", 3, 4);
  QROW(f.k, I(0) + KS_TK_SEC(61), "sales", "fcr", 1, 2);
  QROW(f.k, I(5) + KS_TK_SEC(60), "sales", "resolution_rate", 1, 2);
  QROW(f.k, I(5) + KS_TK_SEC(61), "sales", "fcr", 2, 2);
  QROW(f.k, I(10), "sales", "volume", 1, 1); /* not a KPI: closes I(0)..I(9) */
  fx_restart(&f);                            /* the day's sums are in the checkpoint */
  QROW(f.k, D(1) + KS_TK_SEC(60), "sales", "resolution_rate", 5, 6);
  QROW(f.k, D(1) + KS_TK_SEC(61), "sales", "fcr", 0, 1);
  QROW(f.k, D(7) + KS_TK_SEC(60), "sales", "resolution_rate", 1, 1);
  QROW(f.k, D(7) + KS_TK_SEC(61), "sales", "fcr", 1, 1);
  flush(&f);
  const char *scopes[] = {"acme|voice|sales||", "acme|all|||"};
  for (int i = 0; i < 2; i++) {
    char k[200];
#define K(m, lab) (snprintf(k, sizeof k, "%s|%s%s", m, scopes[i], lab), k)
    /* intervals */
    EXPECT(&f, K("composite", ""), I(0), 30);
    EXPECT(&f, K("composite", ""), I(5), 50);
    EXPECT(&f, K("composite_moving_avg", ""), I(5), 40);
    /* the day, from Σ num / Σ den */
    EXPECT(&f, K("kpi_value", "kpi=resolution_rate,period=day"), D(0), 4.0 / 6.0);
    const got *g = find(&f, K("kpi_value", "kpi=resolution_rate,period=day"), D(0));
    assert_true(g->numerator == 4 && g->denominator == 6 && g->count == 6);
    double num, den;
    sum_between(&f, K("kpi_value", "kpi=resolution_rate"), D(0), D(1), &num, &den);
    assert_true(num == g->numerator &&
                den == g->denominator); /* = the day's own intervals summed */
    EXPECT(&f, K("kpi_value", "kpi=fcr,period=day"), D(0), 0.75);
    sum_between(&f, K("kpi_value", "kpi=fcr"), D(0), D(1), &num, &den);
    assert_true(num == 3 && den == 4);
    EXPECT(&f, K("kpi_score", "kpi=resolution_rate,period=day"), D(0), 100.0 / 0.25 / 15.0);
    EXPECT(&f, K("composite", "period=day"), D(0), (100.0 / 0.25 / 15.0 + 75.0) / 2.0);
    NULLV(&f, K("composite_change_prev", "period=day"), D(0));
    /* D(1): period over period, moving average */
    const double d0 = (100.0 / 0.25 / 15.0 + 75.0) / 2.0, d1 = (0.25 / 0.75 * 280.0) / 2.0;
    EXPECT(&f, K("kpi_score", "kpi=resolution_rate,period=day"), D(1), 0.25 / 0.75 * 280.0);
    EXPECT(&f, K("composite", "period=day"), D(1), d1);
    EXPECT(&f, K("composite_change_prev", "period=day"), D(1), d1 - d0);
    EXPECT(&f, K("composite_change_prev_ratio", "period=day"), D(1), (d1 - d0) / d0);
    EXPECT(&f, K("kpi_change_prev", "kpi=fcr,period=day"), D(1), -0.75);
    EXPECT(&f, K("composite_moving_avg", "period=day"), D(1), (d0 + d1) / 2.0);
    NONE(&f, K("composite_change_week", "period=day"), D(1)); /* periods: prev only */
    /* the week: Σ of its days' (and intervals') sums */
    EXPECT(&f, K("kpi_value", "kpi=resolution_rate,period=week"), D(0), 0.75);
    g = find(&f, K("kpi_value", "kpi=fcr,period=week"), D(0));
    assert_true(g->numerator == 3 && g->denominator == 5);
    sum_between(&f, K("kpi_value", "kpi=fcr"), D(0), D(7), &num, &den);
    assert_true(num == 3 && den == 5);
    EXPECT(&f, K("composite", "period=week"), D(0), 30);
    NULLV(&f, K("composite_change_prev", "period=week"), D(0));
    /* D(7) is open: its day and week are not scored yet */
    NONE(&f, K("composite", "period=day"), D(7));
    NONE(&f, K("composite", "period=week"), D(7));
#undef K
  }
  NONE(&f, "composite|acme|voice|sales||period=month", D(0)); /* not asked for */
  fx_free(&f);
}

/*
 * Month scorecards: UTC calendar months. D(0) is 2026-11-23, D(7) is
 * Monday 2026-11-30 (the last day of November), D(8) 2026-12-01.
 * resolution_rate 100 %: D(0) 1/2, D(7) 3/4, D(8) 1/1. November (from
 * 2026-11-01 = D(−22)): 4/6 -> 100 × (0.667 − 0.6) / 0.25 = 26.67, closed by
 * the close of D(7)'s last interval; December is still open. The week of
 * D(7) (30 Nov – 6 Dec) spans both months and is open too.
 */
static void test_month_scorecard(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "resolution_rate:100"},
                              {"scopes", "queue"},
                              {"periods", "month,week"},
                              {"alerts", "none"},
                              {"peers", "false"}};
  fx f;
  fx_init_with(&f, &fed, kv, sizeof kv / sizeof kv[0]);
  QROW(f.k, D(0) + KS_TK_SEC(60), "sales", "resolution_rate", 1, 2);
  QROW(f.k, D(7) + KS_TK_SEC(60), "sales", "resolution_rate", 3, 4);
  QROW(f.k, D(8) + KS_TK_SEC(60), "sales", "resolution_rate", 1, 1);
  flush(&f);
  const int64_t nov = D(-22);
  const got *g = find(&f, "kpi_value|acme|voice|sales||kpi=resolution_rate,period=month", nov);
  assert_non_null(g);
  assert_true(g->numerator == 4 && g->denominator == 6 && g->count == 6);
  EXPECT(&f, "composite|acme|voice|sales||period=month", nov, 100.0 / 0.25 / 15.0);
  NULLV(&f, "composite_change_prev|acme|voice|sales||period=month", nov); /* no October */
  NONE(&f, "composite|acme|voice|sales||period=month", D(8));
  /* the week of D(0) (23–29 Nov): 1/2, below the floor */
  EXPECT(&f, "composite|acme|voice|sales||period=week", D(0), 0);
  NONE(&f, "composite|acme|voice|sales||period=week", D(7));
  fx_free(&f);
}

/*
 * Minimum sample. kpis csat 50 (default min_sample 5 answers), fcr 50 (1).
 *   I(0): one CSAT 5 of 5 (1/1), fcr 1/1: csat is shown (kpi_value 1) but
 *         not scored, listed in missing; the composite is fcr's 100.
 *   I(2): four CSAT 5, 5, 4, 2 (3/4 satisfied): still under 5, no fcr:
 *         the composite has no value, missing=csat,fcr.
 *   Day D(0): CSAT 4/5 = 0.8 from 5 answers -> 100 × 0.3 / 0.35 = 85.71;
 *         fcr 1 -> 100: composite 92.86.
 */
static void test_min_sample(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "csat:50,fcr:50"}, {"scopes", "queue"}, {"periods", "day"},
                              {"alerts", "none"},         {"peers", "false"},  {"trend", "false"}};
  fx f;
  fx_init_with(&f, &fed, kv, sizeof kv / sizeof kv[0]);
  csat(f.k, S(100), "sales", "m1", 5);
  QROW(f.k, S(101), "sales", "fcr", 1, 1);
  const int scores[] = {5, 5, 4, 2};
  for (int i = 0; i < 4; i++) {
    char id[8];
    snprintf(id, sizeof id, "n%d", i);
    csat(f.k, I(2) + KS_TK_SEC(10 + i), "sales", id, scores[i]);
  }
  QROW(f.k, D(1), "sales", "volume", 1, 1); /* closes day 0 */
  flush(&f);
  const char *Q = "acme|voice|sales||";
  char k[200];
#define K(m, lab) (snprintf(k, sizeof k, "%s|%s%s", m, Q, lab), k)
  EXPECT(&f, K("kpi_value", "kpi=csat"), I(0), 1);
  NONE(&f, K("kpi_score", "kpi=csat"), I(0));
  NONE(&f, K("kpi_contribution", "kpi=csat"), I(0));
  EXPECT(&f, K("composite", "missing=csat"), I(0), 100);
  EXPECT(&f, K("kpi_weight", "kpi=fcr"), I(0), 100);
  EXPECT(&f, K("kpi_value", "kpi=csat"), I(2), 0.75);
  NULLV(&f, K("composite", "missing=csat\\,fcr"), I(2));
  const got *g = find(&f, K("kpi_value", "kpi=csat,period=day"), D(0));
  assert_non_null(g);
  assert_true(g->numerator == 4 && g->denominator == 5 && g->count == 5);
  EXPECT(&f, K("kpi_score", "kpi=csat,period=day"), D(0), 100.0 * 0.3 / 0.35);
  EXPECT(&f, K("composite", "period=day"), D(0), (100.0 * 0.3 / 0.35 + 100.0) / 2.0);
  fx_free(&f);

  /* csat=1: the one answer is scored (1 -> 100); a plain 2 sets every other
   * KPI: fcr from one contact is then missing too */
  const ks_testkit_kv one[] = {{"kpis", "csat:50,fcr:50"}, {"scopes", "queue"},
                               {"periods", "none"},        {"alerts", "none"},
                               {"peers", "false"},         {"min_sample", "2,csat=1"}};
  fx_init_with(&f, &fed, one, sizeof one / sizeof one[0]);
  csat(f.k, S(100), "sales", "m1", 5);
  QROW(f.k, S(101), "sales", "fcr", 1, 1);
  flush(&f);
  EXPECT(&f, K("kpi_score", "kpi=csat"), I(0), 100);
  EXPECT(&f, K("composite", "missing=fcr"), I(0), 100);
  EXPECT(&f, K("kpi_value", "kpi=fcr"), I(0), 1);
  NONE(&f, K("composite", "period=day"), D(0)); /* periods: none */
#undef K
  fx_free(&f);
}

/*
 * Rankings of teams and queues within their tenant, composite included.
 * kpis fcr 100 (target 0.8, floor 0.6). Agents: a1 (t1) 4/5, a2 (t1) 2/5,
 * a3 (t2) 9/10, a4 (t3) 7/10 -> teams (agents summed) t1 6/10 = 0.6 -> 0,
 * t2 0.9 -> 100, t3 0.7 -> 50. Queues: voice/sales 8/10 -> 100, voice/support
 * 6/10 -> 0, email/billing 7/10 -> 50 (one tenant group, all channels).
 * Ranks among 3: best 100, middle 50, worst 0; medians 0.7 and 50 points.
 */
static void test_team_and_queue_rankings(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "fcr:100"},
                              {"scopes", "agent,team,queue"},
                              {"alerts", "none"},
                              {"trend", "false"},
                              {"periods", "none"}};
  fx f;
  fx_init_with(&f, &fed, kv, sizeof kv / sizeof kv[0]);
  AROW(f.k, S(10), "a1", "t1", "fcr", 4, 5);
  AROW(f.k, S(11), "a2", "t1", "fcr", 2, 5);
  AROW(f.k, S(12), "a3", "t2", "fcr", 9, 10);
  AROW(f.k, S(13), "a4", "t3", "fcr", 7, 10);
  QROW(f.k, S(20), "sales", "fcr", 8, 10);
  QROW(f.k, S(21), "support", "fcr", 6, 10);
  row(f.k, S(22), EMAIL, "billing", NULL, NULL, "fcr", "queue", 7, 10, 10);
  flush(&f);
  const int64_t i0 = I(0);
  EXPECT(&f, "composite|acme|all|||team=t1", i0, 0);
  EXPECT(&f, "composite|acme|all|||team=t3", i0, 50);
  EXPECT(&f, "peer_rank|acme|all|||kpi=fcr,team=t2,peers=tenant", i0, 100);
  EXPECT(&f, "peer_rank|acme|all|||kpi=fcr,team=t3,peers=tenant", i0, 50);
  EXPECT(&f, "peer_rank|acme|all|||kpi=fcr,team=t1,peers=tenant", i0, 0);
  EXPECT(&f, "peer_rank|acme|all|||kpi=composite,team=t2,peers=tenant", i0, 100);
  EXPECT(&f, "peer_rank|acme|all|||kpi=composite,team=t1,peers=tenant", i0, 0);
  assert_int_equal(find(&f, "peer_rank|acme|all|||kpi=fcr,team=t1,peers=tenant", i0)->count, 3);
  EXPECT(&f, "peer_median|acme|all|||kpi=fcr,ranked=team", i0, 0.7);
  EXPECT(&f, "peer_median|acme|all|||kpi=composite,ranked=team", i0, 50);
  EXPECT(&f, "peer_rank|acme|voice|sales||kpi=fcr,peers=tenant", i0, 100);
  EXPECT(&f, "peer_rank|acme|email|billing||kpi=fcr,peers=tenant", i0, 50);
  EXPECT(&f, "peer_rank|acme|voice|support||kpi=fcr,peers=tenant", i0, 0);
  EXPECT(&f, "peer_rank|acme|voice|support||kpi=composite,peers=tenant", i0, 0);
  EXPECT(&f, "peer_median|acme|all|||kpi=fcr,ranked=queue", i0, 0.7);
  /* agents within their team (t1: a1 0.8 beats a2 0.4), composite too */
  EXPECT(&f, "peer_rank|acme|all||a1|kpi=fcr,peers=team", i0, 100);
  EXPECT(&f, "peer_rank|acme|all||a2|kpi=composite,peers=team", i0, 0);
  EXPECT(&f, "peer_median|acme|all|||kpi=composite,team=t1", i0, 50); /* 100 and 0 */
  NULLV(&f, "peer_rank|acme|all||a3|kpi=fcr,peers=team", i0);         /* alone in t2 */
  fx_free(&f);
}

/*
 * An agent whose rows name one queue (producers with per_agent: queue) keeps
 * its longer-than-interval values. a1: fcr rows of voice/sales in I(0) and
 * I(1) (the cell remembers queue sales, channel voice), and a resolution_rate
 * 29/40 = 0.725 covering I(0) and I(1) (a "period" result, like a daily
 * proficiency), filed under the agent. In I(1) it has no interval value and
 * is taken from the period: score (0.725 − 0.6) / 0.25 = 50; fcr 0.8 -> 100;
 * composite 75. The period was looked up under the agent's queue channel
 * (voice) instead of the agent scope (channel all) it was filed under: missing.
 */
static void test_agent_with_one_queue_keeps_period_values(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"kpis", "fcr:50,resolution_rate:50"},
                              {"scopes", "agent"},
                              {"alerts", "none"},
                              {"peers", "false"},
                              {"periods", "none"}};
  fx f;
  fx_init_with(&f, &fed, kv, sizeof kv / sizeof kv[0]);
  row(f.k, S(10), VOICE, "sales", "a1", NULL, "fcr", "agent", 4, 5, 5);
  row_span(f.k, S(11), 0, NULL, "a1", NULL, "resolution_rate", "agent", 29, 40, 40, 2);
  row(f.k, I(1) + KS_TK_SEC(10), VOICE, "sales", "a1", NULL, "fcr", "agent", 8, 10, 10);
  flush(&f);
  EXPECT(&f, "kpi_value|acme|all||a1|kpi=resolution_rate", I(1), 0.725);
  EXPECT(&f, "composite|acme|all||a1|", I(1), 75);
  fx_free(&f);
}

/*
 * The scenario profiles score agents on operations' per-agent metrics
 * (issue 12; read by name). Agent a1 (team t1), one interval:
 * first_response_time 600 s / 2 = 300 (target 300: 100), resolution_time
 * 3600 (target: 100), fcr 7/10 (50), resolution_rate 29/40 = 0.725 (50).
 * ecommerce: frt 25, rt 25, fcr 25 present, csat and abandonment_rate (a
 * queue KPI) missing: (100 + 100 + 50) / 3 = 83.33.
 * tech_support: rt 25, resolution_rate 20, fcr 15 present, proficiency,
 * product_knowledge, csat missing: (2500 + 1000 + 750) / 60 = 70.83.
 */
static void test_profiles_at_agent_level(void **state) {
  (void)state;
  const struct {
    const char *profile, *missing;
    double want;
  } cases[] = {{"ecommerce", "missing=csat\\,abandonment_rate", 250.0 / 3.0},
               {"tech_support", "missing=proficiency\\,product_knowledge\\,csat", 4250.0 / 60.0}};
  for (size_t i = 0; i < 2; i++) {
    const ks_testkit_kv kv[] = {{"profile", cases[i].profile},
                                {"scopes", "agent,team"},
                                {"alerts", "none"},
                                {"periods", "none"}};
    fx f;
    fx_init_with(&f, &fed, kv, sizeof kv / sizeof kv[0]);
    AROW(f.k, S(10), "a1", "t1", "first_response_time", 600, 2);
    AROW(f.k, S(11), "a1", "t1", "resolution_time", 7200, 2);
    AROW(f.k, S(12), "a1", "t1", "fcr", 7, 10);
    AROW(f.k, S(13), "a1", "t1", "resolution_rate", 29, 40);
    flush(&f);
    char k[200];
    snprintf(k, sizeof k, "composite|acme|all||a1|%s", cases[i].missing);
    EXPECT(&f, k, I(0), cases[i].want);
    snprintf(k, sizeof k, "composite|acme|all|||team=t1,%s", cases[i].missing);
    EXPECT(&f, k, I(0), cases[i].want); /* the team: its one agent rolled up */
    fx_free(&f);
  }
}

/* ---- configuration ------------------------------------------------------------------------ */

/* Load with one option and expect a refusal whose log names `want`. */
static void refused(const char *key, const char *value, const char *want) {
  const ks_testkit_kv kv[] = {{key, value}};
  fx f;
  char err[512], log[4096] = "";
  fflush(stderr);
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  const int saved = dup(2);
  dup2(fileno(tmp), 2);
  const int rc = fx_try(&f, kv, 1, err, sizeof err);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  rewind(tmp);
  size_t n = fread(log, 1, sizeof log - 1, tmp);
  log[n] = '\0';
  fclose(tmp);
  fx_free(&f);
  if (rc == 0 || strstr(log, want) == NULL)
    fail_msg("%s: %s: rc %d, log does not say '%s':\n%s", key, value, rc, want, log);
}

static void test_config(void **state) {
  (void)state;
  refused("kpis", "service_level:40,aht:30", "weights sum to 70%");
  refused("kpis", "fcr:50,fcr:50", "'fcr' is listed twice");
  refused("kpis", "fcx:100", "unknown KPI");
  refused("kpis", "fcr:0,csat:100", "needs a weight above 0");
  refused("profile", "nope", "unknown profile 'nope'");
  refused("targets", "fcr=0.5", "must be above floor 0.6");
  refused("targets", "aht=700", "must be below floor 600");
  refused("targets", "occupancy=0.8", "is a band KPI");
  refused("floors", "fcr=0.1..0.2", "is not a band KPI");
  refused("floors", "occupancy=0.8..0.9", "band");
  refused("targets", "fcr=high", "not a number");
  refused("directions", "fcr=lower", "changes direction");
  refused("directions", "fcr=up", "higher, lower or band");
  refused("ramp", "fcr=0.5..0.8/8", "ramp start");
  refused("ramp", "fcr=0.7/0", "DAYS a whole 1..365");
  refused("ramp", "occupancy=0.7/3", "bands do not ramp");
  refused("ramp_start", "2026-13-01", "first_seen, YYYY-MM-DD");
  refused("scopes", "agent,floor", "not agent, queue, team or tenant");
  refused("alerts", "csat~0.5", "KPI<VALUE");
  refused("alerts", "nps<lots", "number, target or floor");
  refused("alerts", "speed<1", "unknown KPI");
  refused("detail", "some", "full or compact");
  refused("history_ttl", "7d", "at least 8d");
  refused("peers", "maybe", "peers");
  refused("min_sample", "csat=0", "whole number 1..1e9");
  refused("min_sample", "1.5", "whole number 1..1e9");
  refused("min_sample", "nope=3", "unknown KPI");
  refused("periods", "day,year", "not day, week or month");
  refused("moving_avg", "0", "1..31");
  /* every profile loads (its weights sum to 100), also overridden */
  const char *profiles[] = {"balanced", "ecommerce",       "premium",        "tech_support",
                            "growth",   "differentiation", "cost_leadership"};
  for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
    const ks_testkit_kv kv[] = {{"profile", profiles[i]}};
    fx f;
    fx_init(&f, kv, 1);
    fx_free(&f);
  }
  const ks_testkit_kv ok[] = {{"profile", "premium"},
                              {"kpis", "csat=60, fcr=40"},
                              {"targets", "csat=0.9,occupancy=0.7..0.8"},
                              {"floors", "fcr=0.4"},
                              {"directions", "fcr=higher"},
                              {"ramp", "csat=0.7/10"},
                              {"ramp_start", "1795392000000"},
                              {"alerts", "occupancy>=0.9,fcr<=floor"},
                              {"alert_scopes", "none"},
                              {"history_ttl", "10d"}};
  fx f;
  fx_init(&f, ok, sizeof ok / sizeof ok[0]);
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_composite_missing_and_rollup),
      cmocka_unit_test(test_trend_and_ramp),
      cmocka_unit_test(test_alerts_fire_and_clear_once),
      cmocka_unit_test(test_peers_and_teams),
      cmocka_unit_test(test_band_and_daily_values),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_unattributed_row_is_not_the_tenant),
      cmocka_unit_test(test_period_scorecards),
      cmocka_unit_test(test_month_scorecard),
      cmocka_unit_test(test_min_sample),
      cmocka_unit_test(test_team_and_queue_rankings),
      cmocka_unit_test(test_profiles_at_agent_level),
      cmocka_unit_test(test_agent_with_one_queue_keeps_period_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
