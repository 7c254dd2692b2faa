/*
 * test_quality — the quality KPI plugin, driven through the real engine:
 * hand-made QA evaluations in, results decoded from the protobuf bytes the
 * sink receives, values asserted exactly. Every expected number is worked
 * out by hand in the comments.
 *
 * Times: KS_TK_T0 is 2026-11-23T00:00:00Z, aligned to 15 minutes; I(k) is the
 * k-th 15-minute interval from there. M(m) = KS_TK_T0 + m minutes.
 *
 * The standard form F used below (weights 1,2,1,2,2; every item out of 5):
 *   service_attitude   w1: greeting, empathy
 *   communication      w2: clarity, listening, summary
 *   brand              w1: brand_language, upsell
 *   product_knowledge  w2: accuracy, fit
 *   process_compliance w2: identity (critical + compliance), disclosure
 *                          (compliance), data_entry
 * Score = Σ(w × P) / Σ(w × M) × 100; all applicable: Σ(w × M) = 10+30+10+20+30 = 100.
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

#define PLUGIN KS_TEST_PLUGIN_DIR "/kpi_quality.so"
#define IV_MS  KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV_MS)
#define M(m)   (KS_TK_T0 + KS_TK_MIN(m))

#define VOICE KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define EMAIL KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL
#define CHAT  KPISTREAM__V1__CHANNEL__CHANNEL_CHAT

/* ---- result collection ---------------------------------------------------- */

/* Results are the kit's (kpistream/testkit.h): plain structs decoded from
 * the protobuf bytes the sink receives. */
typedef ks_testkit_result got;

typedef struct fx {
  ks_testkit *k;
} fx;

static void fx_init_lat(fx *f, const ks_testkit_kv *kv, size_t n, int64_t lateness_ms) {
  memset(f, 0, sizeof *f);
  ks_testkit_options o = {0};
  o.interval_ms = IV_MS;
  o.lateness_ms = lateness_ms;
  char err[512];
  assert_int_equal(ks_testkit_new(&f->k, &o, err, sizeof err), 0);
  int rc = ks_testkit_add_plugin(f->k, PLUGIN, NULL, kv, n, err, sizeof err);
  if (rc != 0)
    fail_msg("add_plugin: %s", err);
}

static void fx_init(fx *f, const ks_testkit_kv *kv, size_t n) {
  fx_init_lat(f, kv, n, 0);
}

static void fx_free(fx *f) {
  ks_testkit_free(f->k);
  memset(f, 0, sizeof *f);
}

static void flush(fx *f) {
  if (ks_testkit_flush(f->k) != 0)
    fail_msg("%s", ks_testkit_error(f->k));
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    assert_string_equal(ks_testkit_result_at(f->k, i)->topic, "kpi.quality");
}

/* Dimensions of a result. */
typedef struct dm {
  const char *tenant;
  int ch;
  const char *queue;
  const char *agent;
  const char *labels;
} dm;
#define TEN(t)     ((dm){t, 0, "", "", ""})
#define ACME       TEN(KS_TK_TENANT)
#define QUE(ch, q) ((dm){KS_TK_TENANT, ch, q, "", ""})
#define TEAM(t)    ((dm){KS_TK_TENANT, 0, "", "", "team=" t})
#define AGT(a)     ((dm){KS_TK_TENANT, 0, "", a, ""})
#define CAT(c)     ((dm){KS_TK_TENANT, 0, "", "", "category=" c})

static const got *find(const fx *f, const char *metric, dm d, int64_t start) {
  const got *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++) {
    const got *g = ks_testkit_result_at(f->k, i);
    if (strcmp(g->metric, metric) == 0 && strcmp(g->tenant, d.tenant) == 0 && g->channel == d.ch &&
        strcmp(g->queue, d.queue) == 0 && strcmp(g->agent, d.agent) == 0 &&
        strcmp(g->labels, d.labels) == 0 && g->start_ms == start) {
      if (hit)
        fail_msg("%s %s emitted twice", metric, g->key);
      hit = g;
    }
  }
  return hit;
}

static const got *must_find(const fx *f, const char *metric, dm d, int64_t start, const char *file,
                            int line) {
  const got *g = find(f, metric, d, start);
  if (g == NULL) {
    print_error("%s:%d: no result %s tenant=%s ch=%d queue='%s' agent='%s' labels='%s' at %lld\n",
                file, line, metric, d.tenant, d.ch, d.queue, d.agent, d.labels, (long long)start);
    _fail(file, line);
  }
  return g;
}

static int close_enough(double a, double b) {
  return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

static void qa_expect_value(const fx *f, const char *metric, dm d, int64_t start, double want,
                            const char *file, int line) {
  const got *g = must_find(f, metric, d, start, file, line);
  if (!g->has_value || !close_enough(g->value, want)) {
    print_error("%s:%d: %s: want %.12g, got %s%.12g (num %.12g den %.12g)\n", file, line, g->key,
                want, g->has_value ? "" : "null ", g->value, g->numerator, g->denominator);
    _fail(file, line);
  }
}

static void qa_expect_null(const fx *f, const char *metric, dm d, int64_t start, const char *file,
                           int line) {
  const got *g = must_find(f, metric, d, start, file, line);
  if (g->has_value) {
    print_error("%s:%d: %s: want null, got %.12g\n", file, line, g->key, g->value);
    _fail(file, line);
  }
}

#define EXPECT(f, m, d, iv, v)   qa_expect_value(f, m, d, iv, v, __FILE__, __LINE__)
#define EXPECT_NULL(f, m, d, iv) qa_expect_null(f, m, d, iv, __FILE__, __LINE__)

/* ---- building evaluations ------------------------------------------------ */

#define NA   0x1u /* not applicable */
#define CRIT 0x2u /* critical (auto-fail) */
#define FAIL 0x4u /* failed */
#define COMP 0x8u /* compliance item */

typedef struct item_s {
  double pts, poss;
  unsigned fl;
} item_s;

typedef struct sec_s {
  const char *cat;
  double w;
  int n;
  item_s it[4];
} sec_s;

/* Where and by whom: envelope of an evaluation. */
typedef struct who {
  const char *tenant;
  int ch;
  const char *queue;
  const char *team;
  const char *agent;
  const char *evaluator;
} who;

#define MAX_SEC 20
static int feed_qa(ks_testkit *e, int64_t t, who w, const char *eval_id, const char *event_id,
                   const sec_s *secs, int nsec) {
  Kpistream__V1__QaItem items[MAX_SEC][4];
  Kpistream__V1__QaItem *itemp[MAX_SEC][4];
  Kpistream__V1__QaSection sec[MAX_SEC];
  Kpistream__V1__QaSection *secp[MAX_SEC];
  assert_true(nsec <= MAX_SEC);
  for (int i = 0; i < nsec; i++) {
    kpistream__v1__qa_section__init(&sec[i]);
    sec[i].name = (char *)"s";
    sec[i].category = (char *)(secs[i].cat ? secs[i].cat : "");
    sec[i].weight = secs[i].w;
    for (int k = 0; k < secs[i].n; k++) {
      Kpistream__V1__QaItem *it = &items[i][k];
      kpistream__v1__qa_item__init(it);
      it->id = (char *)"item";
      it->points = secs[i].it[k].pts;
      it->possible = secs[i].it[k].poss;
      it->not_applicable = (secs[i].it[k].fl & NA) != 0;
      it->critical = (secs[i].it[k].fl & CRIT) != 0;
      it->failed = (secs[i].it[k].fl & FAIL) != 0;
      it->compliance = (secs[i].it[k].fl & COMP) != 0;
      itemp[i][k] = it;
    }
    sec[i].n_items = (size_t)secs[i].n;
    sec[i].items = itemp[i];
    secp[i] = &sec[i];
  }
  Kpistream__V1__QaEvaluation qa = KPISTREAM__V1__QA_EVALUATION__INIT;
  qa.evaluation_id = (char *)(eval_id ? eval_id : "");
  qa.form_id = (char *)"form";
  qa.evaluator_id = (char *)(w.evaluator ? w.evaluator : "");
  qa.n_sections = (size_t)nsec;
  qa.sections = secp;
  Kpistream__V1__Event ev =
      ks_tk_event(t, w.tenant ? w.tenant : KS_TK_TENANT, w.ch, w.queue, "c", "u", w.agent);
  ev.event_id = (char *)(event_id ? event_id : "");
  ev.team = (char *)(w.team ? w.team : "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_QA_EVALUATION;
  ev.qa_evaluation = &qa;
  return ks_testkit_feed(e, &ev);
}

/* Form F with the twelve items' points in order; `ident` and `disc` are the
 * extra flags of the identity and disclosure items (FAIL, NA), `upsell` of
 * the upsell item. */
static void form_f(sec_s s[5], const double p[12], unsigned upsell, unsigned ident, unsigned disc) {
  const sec_s f[5] = {{"service_attitude", 1, 2, {{p[0], 5, 0}, {p[1], 5, 0}}},
                      {"communication", 2, 3, {{p[2], 5, 0}, {p[3], 5, 0}, {p[4], 5, 0}}},
                      {"brand", 1, 2, {{p[5], 5, 0}, {p[6], 5, upsell}}},
                      {"product_knowledge", 2, 2, {{p[7], 5, 0}, {p[8], 5, 0}}},
                      {"process_compliance",
                       2,
                       3,
                       {{p[9], 5, CRIT | COMP | ident}, {p[10], 5, COMP | disc}, {p[11], 5, 0}}}};
  memcpy(s, f, sizeof f);
}

static const who W1 = {KS_TK_TENANT, VOICE, "sales", "t1", "a1", "q1"};
static const who W2 = {KS_TK_TENANT, VOICE, "sales", "t1", "a1", "q2"};
static const who W3 = {KS_TK_TENANT, CHAT, "support", "t2", "a2", "q1"};
static const who W4 = {KS_TK_TENANT, VOICE, "billing", "t2", "a3", "q1"};

/*
 * The main scenario, all in I(0):
 *   E1 (W1): 5 4 | 4 5 3 | 5 3 | 4 4 | 5 5 4
 *      w×P: 9 + 2×12 + 8 + 2×8 + 2×14 = 85 of 100 -> 85
 *      categories: 90, 80, 80, 80, 14/15 = 93.33
 *   E2 (W2): 4 4 | 5 5 5 | 4 NA | 5 3 | 5 0(disclosure FAILED) 5
 *      w×P: 8 + 30 + 4 + 16 + 2×10 = 78; w×M: 10 + 30 + 5 + 20 + 30 = 95 -> 7800/95
 *      categories: 80, 100, 80, 80, 10/15 = 66.67; non-compliant
 *   E3 (W3): 5 5 | 4 4 4 | 5 5 | 4 4 | 0(identity FAILED) NA(disclosure) 5
 *      raw w×P: 10 + 24 + 10 + 16 + 2×5 = 70 of 10+30+10+20+20 = 90 -> 77.78,
 *      auto-fail -> 0; categories: 100, 80, 100, 80, process_compliance 0
 *      (raw 5/10 = 50); non-compliant (identity is a compliance item)
 *   E4 (W4): all 5 -> 100, every category 100
 */
static void feed_main(ks_testkit *e) {
  sec_s s[5];
  form_f(s, (const double[12]){5, 4, 4, 5, 3, 5, 3, 4, 4, 5, 5, 4}, 0, 0, 0);
  assert_int_equal(feed_qa(e, M(1), W1, "e1", "x1", s, 5), KS_PROCESSED);
  form_f(s, (const double[12]){4, 4, 5, 5, 5, 4, 0, 5, 3, 5, 0, 5}, NA, 0, FAIL);
  assert_int_equal(feed_qa(e, M(2), W2, "e2", "x2", s, 5), KS_PROCESSED);
  form_f(s, (const double[12]){5, 5, 4, 4, 4, 5, 5, 4, 4, 0, 0, 5}, 0, FAIL, NA);
  assert_int_equal(feed_qa(e, M(3), W3, "e3", "x3", s, 5), KS_PROCESSED);
  form_f(s, (const double[12]){5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 0, 0, 0);
  assert_int_equal(feed_qa(e, M(4), W4, "e4", "x4", s, 5), KS_PROCESSED);
}

#define E2 (7800.0 / 95.0)

/* ---- the main scenario ------------------------------------------------------ */

static void test_main_scenario(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  feed_main(f.k);
  flush(&f);
  const int64_t i0 = I(0);
  /* tenant: scores 85, 82.105, 0 (auto-fail), 100 */
  EXPECT(&f, "evaluations", ACME, i0, 4);
  EXPECT(&f, "evaluation_score", ACME, i0, (85 + E2 + 0 + 100) / 4); /* 66.776 */
  EXPECT(&f, "auto_fail_count", ACME, i0, 1);                        /* E3 */
  EXPECT(&f, "auto_fail_rate", ACME, i0, 0.25);                      /* 1 / 4 */
  EXPECT(&f, "compliance_rate", ACME, i0, 0.5);                      /* E1, E4 of 4 */
  /* per queue */
  EXPECT(&f, "evaluations", QUE(VOICE, "sales"), i0, 2);
  EXPECT(&f, "evaluation_score", QUE(VOICE, "sales"), i0, (85 + E2) / 2); /* 83.55 */
  EXPECT(&f, "auto_fail_rate", QUE(VOICE, "sales"), i0, 0);
  EXPECT(&f, "compliance_rate", QUE(VOICE, "sales"), i0, 0.5); /* E2 failed disclosure */
  EXPECT(&f, "evaluation_score", QUE(CHAT, "support"), i0, 0); /* auto-failed E3 */
  EXPECT(&f, "auto_fail_rate", QUE(CHAT, "support"), i0, 1);
  EXPECT(&f, "compliance_rate", QUE(CHAT, "support"), i0, 0);
  EXPECT(&f, "evaluation_score", QUE(VOICE, "billing"), i0, 100);
  EXPECT(&f, "compliance_rate", QUE(VOICE, "billing"), i0, 1);
  /* per team */
  EXPECT(&f, "evaluation_score", TEAM("t1"), i0, (85 + E2) / 2);
  EXPECT(&f, "evaluation_score", TEAM("t2"), i0, 50); /* (0 + 100) / 2 */
  EXPECT(&f, "auto_fail_count", TEAM("t2"), i0, 1);
  EXPECT(&f, "compliance_rate", TEAM("t2"), i0, 0.5);
  /* per agent (tenant x agent by default) */
  EXPECT(&f, "evaluations", AGT("a1"), i0, 2);
  EXPECT(&f, "evaluation_score", AGT("a1"), i0, (85 + E2) / 2);
  EXPECT(&f, "evaluation_score", AGT("a2"), i0, 0);
  EXPECT(&f, "evaluation_score", AGT("a3"), i0, 100);
  /* categories, tenant level */
  EXPECT(&f, "category_score", CAT("service_attitude"), i0, 92.5); /* (90+80+100+100)/4 */
  EXPECT(&f, "category_score", CAT("communication"), i0, 90);      /* (80+100+80+100)/4 */
  EXPECT(&f, "category_score", CAT("brand"), i0, 90);              /* (80+80+100+100)/4 */
  EXPECT(&f, "category_score", CAT("product_knowledge"), i0, 85);  /* (80+80+80+100)/4 */
  EXPECT(&f, "category_score", CAT("process_compliance"), i0, 65); /* (93.3+66.7+0+100)/4 */
  /* categories per team and agent */
  const dm t2pc = {KS_TK_TENANT, 0, "", "", "category=process_compliance,team=t2"};
  EXPECT(&f, "category_score", t2pc, i0, 50); /* (0 + 100) / 2 */
  const dm a1pc = {KS_TK_TENANT, 0, "", "a1", "category=process_compliance"};
  EXPECT(&f, "category_score", a1pc, i0, 80); /* (14/15 + 10/15) / 2 = 0.8 */
  const dm qcat = {KS_TK_TENANT, VOICE, "sales", "", "category=brand"};
  EXPECT(&f, "category_score", qcat, i0, 80); /* 8/10, 4/5 */

  /* result shape */
  const got *g = find(&f, "evaluation_score", ACME, i0);
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_RATIO);
  assert_string_equal(g->unit, "%");
  assert_string_equal(g->family, "quality");
  assert_true(close_enough(g->numerator, 85 + E2 + 100));
  assert_true(close_enough(g->denominator, 4));
  assert_int_equal(g->count, 4);
  assert_int_equal(g->end_ms, I(1));
  char want[160];
  snprintf(want, sizeof want, "quality/evaluation_score|acme|all||||%lld", (long long)i0);
  assert_string_equal(g->key, want);
  g = find(&f, "evaluations", ACME, i0);
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_SUM);
  assert_string_equal(g->unit, "evaluations");
  g = find(&f, "auto_fail_rate", ACME, i0);
  assert_string_equal(g->unit, "ratio");
  g = find(&f, "evaluation_score", TEAM("t2"), i0);
  assert_string_equal(g->team, "t2");
  snprintf(want, sizeof want, "quality/evaluation_score|acme|all|||team=t2|%lld", (long long)i0);
  assert_string_equal(g->key, want);
  g = find(&f, "evaluation_score", AGT("a2"), i0);
  assert_string_equal(g->team, "t2"); /* the agent's team rides along */
  g = find(&f, "category_score", a1pc, i0);
  assert_string_equal(g->team, "t1");
  g = find(&f, "category_score", CAT("brand"), i0);
  snprintf(want, sizeof want, "quality/category_score|acme|all|||category=brand|%lld",
           (long long)i0);
  assert_string_equal(g->key, want);
  assert_int_equal(g->count, 4);
  /* 5 group levels: tenant 1 + queues 3 + teams 2 + agents 3 = 9 groups x 5 metrics,
   * 9 groups x 5 categories = 45 category results */
  assert_int_equal(ks_testkit_result_count(f.k), 9 * 5 + 9 * 5);
  /* no per-evaluator results by default, nothing in I(1) */
  assert_null(find(&f, "evaluations", ((dm){KS_TK_TENANT, 0, "", "", "evaluator=q1"}), i0));
  assert_null(find(&f, "evaluations", ACME, I(1)));
  fx_free(&f);
}

/* ---- auto-fail scoring variants ----------------------------------------------- */

static void test_auto_fail_score(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"auto_fail_scoring", "score"}};
  fx f;
  fx_init(&f, kv, 1);
  feed_main(f.k);
  flush(&f);
  const int64_t i0 = I(0);
  /* E3 keeps its points score 70/90 */
  EXPECT(&f, "evaluation_score", ACME, i0, (85 + E2 + 7000.0 / 90 + 100) / 4);
  EXPECT(&f, "evaluation_score", QUE(CHAT, "support"), i0, 7000.0 / 90); /* 77.78 */
  EXPECT(&f, "auto_fail_count", ACME, i0, 1);                            /* still counted */
  EXPECT(&f, "auto_fail_rate", ACME, i0, 0.25);
  /* process_compliance of E3 keeps 5/10: (93.33 + 66.67 + 50 + 100) / 4 */
  EXPECT(&f, "category_score", CAT("process_compliance"), i0, 77.5);
  fx_free(&f);
}

static void test_auto_fail_exclude(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"auto_fail_scoring", "exclude"}};
  fx f;
  fx_init(&f, kv, 1);
  feed_main(f.k);
  flush(&f);
  const int64_t i0 = I(0);
  EXPECT(&f, "evaluations", ACME, i0, 4);
  EXPECT(&f, "evaluation_score", ACME, i0, (85 + E2 + 100) / 3); /* E3 left out */
  assert_int_equal(find(&f, "evaluation_score", ACME, i0)->count, 3);
  /* the auto-failed evaluation alone: no score at all */
  EXPECT_NULL(&f, "evaluation_score", QUE(CHAT, "support"), i0);
  EXPECT(&f, "evaluations", QUE(CHAT, "support"), i0, 1);
  EXPECT(&f, "auto_fail_rate", QUE(CHAT, "support"), i0, 1);
  /* E3 leaves only its failing category: (93.33 + 66.67 + 100) / 3 */
  EXPECT(&f, "category_score", CAT("process_compliance"), i0, 260.0 / 3);
  EXPECT(&f, "category_score", CAT("service_attitude"), i0, 92.5); /* all four */
  EXPECT_NULL(&f, "category_score",
              ((dm){KS_TK_TENANT, 0, "", "a2", "category=process_compliance"}), i0);
  fx_free(&f);
}

/* ---- scale, weighting, compliance denominator ---------------------------------- */

static void test_score_scale_one(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"score_scale", "1"}};
  fx f;
  fx_init(&f, kv, 1);
  feed_main(f.k);
  flush(&f);
  const int64_t i0 = I(0);
  EXPECT(&f, "evaluation_score", ACME, i0, (0.85 + E2 / 100 + 0 + 1) / 4);
  EXPECT(&f, "category_score", CAT("service_attitude"), i0, 0.925);
  assert_string_equal(find(&f, "evaluation_score", ACME, i0)->unit, "ratio");
  assert_string_equal(find(&f, "category_score", CAT("brand"), i0)->unit, "ratio");
  EXPECT(&f, "auto_fail_rate", ACME, i0, 0.25); /* rates are always 0..1 */
  fx_free(&f);
}

static void test_weighting_section_share(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"weighting", "section_share"}};
  fx f;
  fx_init(&f, kv, 1);
  sec_s s[5];
  /* E1: section shares .9 .8 .8 .8 14/15, weights 1 2 1 2 2 (Σ 8):
   * (0.9 + 1.6 + 0.8 + 1.6 + 28/15) / 8 = 84.583 (points weighting: 85) */
  form_f(s, (const double[12]){5, 4, 4, 5, 3, 5, 3, 4, 4, 5, 5, 4}, 0, 0, 0);
  feed_qa(f.k, M(1), W1, "e1", NULL, s, 5);
  /* E2 in I(1): brand 4/5 with upsell N/A; sections .8 1 .8 .8 10/15:
   * (0.8 + 2 + 0.8 + 1.6 + 20/15) / 8 = 81.667 (points: 82.105) */
  form_f(s, (const double[12]){4, 4, 5, 5, 5, 4, 0, 5, 3, 5, 0, 5}, NA, 0, FAIL);
  feed_qa(f.k, M(16), W1, "e2", NULL, s, 5);
  /* a section with nothing applicable is left out with its weight:
   * S1 3/5 w1, S2 all N/A w3 -> 0.6 */
  const sec_s t[2] = {{"a", 1, 1, {{3, 5, 0}}}, {"b", 3, 1, {{5, 5, NA}}}};
  feed_qa(f.k, M(31), W1, "e3", NULL, t, 2);
  flush(&f);
  EXPECT(&f, "evaluation_score", ACME, I(0), (0.9 + 1.6 + 0.8 + 1.6 + 28.0 / 15) / 8 * 100);
  EXPECT(&f, "evaluation_score", ACME, I(1), (0.8 + 2 + 0.8 + 1.6 + 20.0 / 15) / 8 * 100);
  EXPECT(&f, "evaluation_score", ACME, I(2), 60);
  /* category scores are Σ P / Σ M whatever the weighting */
  EXPECT(&f, "category_score", CAT("process_compliance"), I(0), 1400.0 / 15);
  EXPECT_NULL(&f, "category_score", CAT("b"), I(2)); /* all N/A */
  fx_free(&f);
}

static void test_compliance_denominator(void **state) {
  (void)state;
  /* Ea: a compliance item passed; Eb: no compliance item; Ec: the only
   * compliance item N/A; Ed (I(1)): no compliance item at all */
  const sec_s ea[1] = {{"x", 1, 2, {{5, 5, COMP}, {4, 5, 0}}}};
  const sec_s eb[1] = {{"x", 1, 1, {{4, 5, 0}}}};
  const sec_s ec[1] = {{"x", 1, 2, {{0, 5, COMP | NA | FAIL}, {4, 5, 0}}}};
  for (int v = 0; v < 2; v++) {
    const ks_testkit_kv kv[] = {
        {"compliance_denominator", v ? "with_compliance_items" : "evaluations"}};
    fx f;
    fx_init(&f, kv, 1);
    feed_qa(f.k, M(1), W1, "ea", NULL, ea, 1);
    feed_qa(f.k, M(2), W1, "eb", NULL, eb, 1);
    feed_qa(f.k, M(3), W1, "ec", NULL, ec, 1);
    feed_qa(f.k, M(16), W1, "ed", NULL, eb, 1);
    flush(&f);
    if (v == 0) {
      EXPECT(&f, "compliance_rate", ACME, I(0), 1); /* 3 / 3: none failed */
      assert_int_equal(find(&f, "compliance_rate", ACME, I(0))->count, 3);
      EXPECT(&f, "compliance_rate", ACME, I(1), 1); /* 1 / 1 */
    } else {
      EXPECT(&f, "compliance_rate", ACME, I(0), 1); /* 1 / 1: only Ea has one */
      assert_int_equal(find(&f, "compliance_rate", ACME, I(0))->count, 1);
      EXPECT_NULL(&f, "compliance_rate", ACME, I(1)); /* 0 / 0 */
    }
    /* an N/A failed item neither fails compliance nor auto-fails */
    EXPECT(&f, "auto_fail_count", ACME, I(0), 0);
    fx_free(&f);
  }
}

/* ---- N/A items, odd values, categories ------------------------------------------ */

static void test_items_and_weights(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  const who w = {KS_TK_TENANT, EMAIL, "mail", "", "", ""};
  /* I(0): no section weighted -> unweighted: (3 + 5) / (5 + 5) = 80 */
  const sec_s a[2] = {{"Service Attitude", 0, 1, {{3, 5, 0}}}, {"", 0, 1, {{5, 5, 0}}}};
  feed_qa(f.k, M(1), w, "a", NULL, a, 2);
  /* I(1): a zero weight beside a positive one -> only S2 (w 1): (5 + 0) / (5 + 0) = 100;
   * an item worth 0 of 0 counts nothing */
  const sec_s b[2] = {{"process-compliance", 0, 1, {{0, 5, 0}}},
                      {"Process Compliance", 1, 2, {{5, 5, 0}, {0, 0, 0}}}};
  assert_int_equal(feed_qa(f.k, M(16), w, "b", NULL, b, 2), KS_PROCESSED);
  /* the host refuses what cannot be scored (docs/schema.md): a negative or
   * non-finite weight, points or possible, points above possible; none of
   * these reach the plugin or count */
  const sec_s bad[5][1] = {{{"x", -1, 1, {{1, 5, 0}}}},
                           {{"x", NAN, 1, {{1, 5, 0}}}},
                           {{"x", 1, 1, {{NAN, 5, 0}}}},
                           {{"x", 1, 1, {{7, 5, 0}}}},
                           {{"x", 1, 1, {{1, -5, 0}}}}};
  for (int i = 0; i < 5; i++)
    assert_int_equal(feed_qa(f.k, M(17), w, "bad", NULL, bad[i], 1), KS_REJECTED);
  /* I(2): weight 2 and 1: (2 x 4 + 1 x 1) / (2 x 5 + 1 x 5) = 9 / 15 = 60;
   * an item worth 0 points counts nothing; an unknown category keeps its name */
  const sec_s c[2] = {{"empathy_plus", 2, 2, {{4, 5, 0}, {0, 0, 0}}}, {"brand", 1, 1, {{1, 5, 0}}}};
  feed_qa(f.k, M(31), w, "c", NULL, c, 2);
  /* I(3): a critical item failed with no points at all still auto-fails */
  const sec_s d[2] = {{"brand", 1, 1, {{5, 5, 0}}}, {"legal", 0, 1, {{0, 0, CRIT | FAIL}}}};
  feed_qa(f.k, M(46), w, "d", NULL, d, 2);
  flush(&f);
  EXPECT(&f, "evaluation_score", ACME, I(0), 80);
  EXPECT(&f, "category_score", CAT("service_attitude"), I(0), 60); /* normalised name */
  EXPECT(&f, "category_score", CAT("uncategorized"), I(0), 100);   /* empty category */
  EXPECT(&f, "evaluation_score", ACME, I(1), 100);
  EXPECT(&f, "evaluations", ACME, I(1), 1); /* "b" only */
  /* both spellings are one category: (0 + 5 + 0) / (5 + 5 + 0) = 50 */
  EXPECT(&f, "category_score", CAT("process_compliance"), I(1), 50);
  assert_null(find(&f, "category_score", CAT("x"), I(1)));
  EXPECT(&f, "evaluation_score", ACME, I(2), 60);
  EXPECT(&f, "category_score", CAT("empathy_plus"), I(2), 80);
  EXPECT(&f, "category_score", CAT("brand"), I(2), 20);
  EXPECT(&f, "evaluation_score", ACME, I(3), 0);
  EXPECT(&f, "auto_fail_count", ACME, I(3), 1);
  EXPECT(&f, "category_score", CAT("legal"), I(3), 0); /* the failing section's category */
  EXPECT(&f, "category_score", CAT("brand"), I(3), 100);
  /* queue level carries the channel; no team, no agent: no such results */
  EXPECT(&f, "evaluations", QUE(EMAIL, "mail"), I(0), 1);
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
    assert_true((*ks_testkit_result_at(f.k, i)).agent[0] == '\0' &&
                strstr((*ks_testkit_result_at(f.k, i)).labels, "team=") == NULL);
  fx_free(&f);
}

static void test_zero_denominators(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  /* every item N/A: counted, no score */
  const sec_s a[2] = {{"brand", 1, 1, {{5, 5, NA}}}, {"communication", 1, 1, {{0, 5, NA}}}};
  feed_qa(f.k, M(1), W1, "a", NULL, a, 2);
  /* no sections at all */
  feed_qa(f.k, M(2), W1, "b", NULL, NULL, 0);
  flush(&f);
  EXPECT(&f, "evaluations", ACME, I(0), 2);
  EXPECT_NULL(&f, "evaluation_score", ACME, I(0));
  EXPECT_NULL(&f, "category_score", CAT("brand"), I(0));
  EXPECT_NULL(&f, "category_score", CAT("communication"), I(0));
  EXPECT(&f, "auto_fail_rate", ACME, I(0), 0);
  EXPECT(&f, "compliance_rate", ACME, I(0), 1); /* nothing failed */
  EXPECT_NULL(&f, "evaluation_score", AGT("a1"), I(0));
  fx_free(&f);
}

static void test_too_many_categories(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  /* 18 sections, 18 categories c0..c17 each 1 of 5 except c17: 5 of 5.
   * Score: (17 + 5) / 90 = 24.44; only the first 16 categories are reported */
  sec_s s[18];
  char names[18][8];
  for (int i = 0; i < 18; i++) {
    snprintf(names[i], sizeof names[i], "c%d", i);
    s[i] = (sec_s){names[i], 1, 1, {{i == 17 ? 5 : 1, 5, 0}}};
  }
  feed_qa(f.k, M(1), W1, "a", NULL, s, 18);
  flush(&f);
  EXPECT(&f, "evaluation_score", ACME, I(0), 2200.0 / 90);
  EXPECT(&f, "category_score", CAT("c15"), I(0), 20);
  assert_null(find(&f, "category_score", CAT("c16"), I(0)));
  assert_null(find(&f, "category_score", CAT("c17"), I(0)));
  fx_free(&f);
}

/* ---- de-duplication ---------------------------------------------------------- */

static void test_dedupe(void **state) {
  (void)state;
  const sec_s s80[1] = {{"x", 1, 1, {{4, 5, 0}}}};
  const sec_s s40[1] = {{"x", 1, 1, {{2, 5, 0}}}};
  const who beta = {"beta", VOICE, "sales", "", "", ""};
  for (int off = 0; off < 2; off++) {
    const ks_testkit_kv kv[] = {{"dedupe_window", off ? "0" : "2d"}};
    fx f;
    fx_init(&f, kv, 1);
    feed_qa(f.k, M(1), W1, "e1", "x1", s80, 1);
    feed_qa(f.k, M(2), W1, "e1", "x9", s40, 1); /* same evaluation id: a copy */
    feed_qa(f.k, M(3), W1, "", "x2", s40, 1);   /* no evaluation id: event id */
    feed_qa(f.k, M(4), W1, "", "x2", s40, 1);   /* same event id: a copy */
    feed_qa(f.k, M(5), W1, "", "", s80, 1);     /* no id at all: always counted */
    feed_qa(f.k, M(6), W1, "", "", s80, 1);
    feed_qa(f.k, M(7), beta, "e1", "x1", s40, 1); /* another tenant's e1 */
    feed_qa(f.k, M(20), W1, "e1", "x1", s40, 1);  /* e1 again, next interval */
    flush(&f);
    if (!off) {
      /* acme I(0): e1 (80), x2 (40), two id-less (80, 80) = 280 / 4 */
      EXPECT(&f, "evaluations", ACME, I(0), 4);
      EXPECT(&f, "evaluation_score", ACME, I(0), 70);
      assert_null(find(&f, "evaluations", ACME, I(1)));
    } else {
      /* no de-duplication: 80 + 40 + 40 + 40 + 80 + 80 = 360 / 6 in I(0) */
      EXPECT(&f, "evaluations", ACME, I(0), 6);
      EXPECT(&f, "evaluation_score", ACME, I(0), 60);
      EXPECT(&f, "evaluations", ACME, I(1), 1);
    }
    EXPECT(&f, "evaluations", TEN("beta"), I(0), 1);
    EXPECT(&f, "evaluation_score", TEN("beta"), I(0), 40);
    fx_free(&f);
  }
}

/* ---- intervals, out of order, tenants --------------------------------------------- */

static void test_intervals_and_order(void **state) {
  (void)state;
  fx f;
  fx_init_lat(&f, NULL, 0, KS_TK_MIN(5));
  const sec_s s100[1] = {{"x", 1, 1, {{5, 5, 0}}}};
  const sec_s s60[1] = {{"x", 1, 1, {{3, 5, 0}}}};
  const who wb = {"beta", VOICE, "sales", "t1", "a1", ""};
  feed_qa(f.k, M(14), W1, "e1", NULL, s100, 1);
  feed_qa(f.k, M(16), W1, "e2", NULL, s60, 1);
  /* out of order, within the 5-minute lateness: counted in I(0) */
  assert_int_equal(feed_qa(f.k, M(12), W1, "e3", NULL, s60, 1), KS_PROCESSED);
  feed_qa(f.k, M(17), wb, "e1", NULL, s60, 1);
  /* 25 minutes: the watermark (25 - 5 = 20) passes the end of I(0) ... */
  feed_qa(f.k, M(25), W1, "e4", NULL, s100, 1);
  /* ... so an evaluation stamped in I(0) is late and never counted */
  assert_int_equal(feed_qa(f.k, M(13), W1, "e5", NULL, s60, 1), KS_LATE);
  flush(&f);
  EXPECT(&f, "evaluations", ACME, I(0), 2);
  EXPECT(&f, "evaluation_score", ACME, I(0), 80); /* (100 + 60) / 2 */
  EXPECT(&f, "evaluations", ACME, I(1), 2);       /* e2, e4 */
  EXPECT(&f, "evaluation_score", ACME, I(1), 80);
  EXPECT(&f, "evaluation_score", TEN("beta"), I(1), 60);
  EXPECT(&f, "evaluation_score", ((dm){"beta", 0, "", "a1", ""}), I(1), 60);
  EXPECT(&f, "evaluation_score", ((dm){"beta", 0, "", "", "team=t1"}), I(1), 60);
  assert_null(find(&f, "evaluations", TEN("beta"), I(0)));
  fx_free(&f);
}

/* ---- one team per agent and interval ------------------------------------------------- */

/* Every row of one agent in one interval carries the team of the interval's
 * last evaluation (by event time) that named one, category rows included:
 *   e1 22:03 agent a1 team t1, brand 4/5          -> brand 80
 *   e2 22:07 agent a1 team t2, communication 3/5  -> communication 60
 * every a1 row of I(88) (22:00) has team t2, in either arrival order. */
static void check_agent_team(int reversed) {
  fx f;
  fx_init_lat(&f, NULL, 0, KS_TK_MIN(10));
  const who w1 = {"r", VOICE, "sales", "t1", "a1", ""};
  const who w2 = {"r", VOICE, "sales", "t2", "a1", ""};
  const sec_s brand[1] = {{"brand", 1, 1, {{4, 5, 0}}}};
  const sec_s comm[1] = {{"communication", 1, 1, {{3, 5, 0}}}};
  if (!reversed) {
    assert_int_equal(feed_qa(f.k, M(22 * 60 + 3), w1, "e1", NULL, brand, 1), KS_PROCESSED);
    assert_int_equal(feed_qa(f.k, M(22 * 60 + 7), w2, "e2", NULL, comm, 1), KS_PROCESSED);
  } else {
    assert_int_equal(feed_qa(f.k, M(22 * 60 + 7), w2, "e2", NULL, comm, 1), KS_PROCESSED);
    assert_int_equal(feed_qa(f.k, M(22 * 60 + 3), w1, "e1", NULL, brand, 1), KS_PROCESSED);
  }
  flush(&f);
  const int64_t iv = I(88);
  const dm a1 = {"r", 0, "", "a1", ""};
  const dm a1brand = {"r", 0, "", "a1", "category=brand"};
  const dm a1comm = {"r", 0, "", "a1", "category=communication"};
  EXPECT(&f, "evaluations", a1, iv, 2);
  EXPECT(&f, "evaluation_score", a1, iv, 70); /* (80 + 60) / 2 */
  EXPECT(&f, "category_score", a1brand, iv, 80);
  EXPECT(&f, "category_score", a1comm, iv, 60);
  size_t rows = 0;
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
    if (strcmp((*ks_testkit_result_at(f.k, i)).tenant, "r") == 0 &&
        strcmp((*ks_testkit_result_at(f.k, i)).agent, "a1") == 0) {
      assert_string_equal((*ks_testkit_result_at(f.k, i)).team, "t2");
      rows++;
    }
  assert_int_equal(rows, 5 + 2); /* 5 group metrics + 2 categories */
  fx_free(&f);
}

static void test_agent_team_one_per_interval(void **state) {
  (void)state;
  check_agent_team(0);
  check_agent_team(1);
}

/* ---- dimension options ------------------------------------------------------------ */

static size_t count_metric(const fx *f, const char *metric) {
  size_t n = 0;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    n += strcmp((*ks_testkit_result_at(f->k, i)).metric, metric) == 0;
  return n;
}

static void test_dimension_options(void **state) {
  (void)state;
  {
    /* per-agent by channel and queue, evaluators on, categories off */
    const ks_testkit_kv kv[] = {
        {"per_agent", "queue"}, {"per_evaluator", "true"}, {"per_category", "0"}};
    fx f;
    fx_init(&f, kv, 3);
    feed_main(f.k);
    flush(&f);
    const int64_t i0 = I(0);
    EXPECT(&f, "evaluation_score", ((dm){KS_TK_TENANT, VOICE, "sales", "a1", ""}), i0,
           (85 + E2) / 2);
    EXPECT(&f, "evaluation_score", ((dm){KS_TK_TENANT, CHAT, "support", "a2", ""}), i0, 0);
    assert_null(find(&f, "evaluation_score", AGT("a1"), i0));
    /* evaluator q1 scored E1, E3, E4: (85 + 0 + 100) / 3; q2 scored E2 */
    EXPECT(&f, "evaluation_score", ((dm){KS_TK_TENANT, 0, "", "", "evaluator=q1"}), i0, 185.0 / 3);
    EXPECT(&f, "evaluation_score", ((dm){KS_TK_TENANT, 0, "", "", "evaluator=q2"}), i0, E2);
    EXPECT(&f, "auto_fail_count", ((dm){KS_TK_TENANT, 0, "", "", "evaluator=q1"}), i0, 1);
    assert_int_equal(count_metric(&f, "category_score"), 0);
    /* tenant 1 + queues 3 + teams 2 + agents 3 + evaluators 2 = 11 groups */
    assert_int_equal(count_metric(&f, "evaluations"), 11);
    fx_free(&f);
  }
  {
    /* per-agent by channel; no teams, no queues */
    const ks_testkit_kv kv[] = {
        {"per_agent", "channel"}, {"per_team", "false"}, {"per_queue", "false"}};
    fx f;
    fx_init(&f, kv, 3);
    feed_main(f.k);
    flush(&f);
    EXPECT(&f, "evaluation_score", ((dm){KS_TK_TENANT, VOICE, "", "a1", ""}), I(0), (85 + E2) / 2);
    EXPECT(&f, "evaluation_score", ACME, I(0), (85 + E2 + 0 + 100) / 4);
    /* tenant 1 + agents 3 = 4 groups */
    assert_int_equal(count_metric(&f, "evaluations"), 4);
    assert_int_equal(count_metric(&f, "category_score"), 4 * 5);
    fx_free(&f);
  }
  {
    const ks_testkit_kv kv[] = {{"per_agent", "off"}};
    fx f;
    fx_init(&f, kv, 1);
    feed_main(f.k);
    flush(&f);
    for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
      assert_string_equal((*ks_testkit_result_at(f.k, i)).agent, "");
    assert_int_equal(count_metric(&f, "evaluations"), 6); /* tenant, 3 queues, 2 teams */
    fx_free(&f);
  }
}

/* ---- random input: never an error, never out of range ---------------------------- */

static uint32_t lcg(uint32_t *st) {
  *st = *st * 1664525u + 1013904223u;
  return *st >> 8;
}

static void test_random_input_survives(void **state) {
  (void)state;
  static const char *const cats[] = {"brand", "Communication", "", "x-y", "process_compliance"};
  static const char *const names[] = {"", "a", "b", "c"};
  static const double vals[] = {0, 1, 2.5, 5, 4, 10, 0.5, 3, 1e300, NAN}; /* NaN: refused */
  const ks_testkit_kv kv[] = {{"per_agent", "queue"}, {"per_evaluator", "true"}};
  fx f;
  fx_init_lat(&f, kv, 2, KS_TK_MIN(3));
  uint32_t st = 12345;
  int64_t t = KS_TK_T0;
  int processed = 0;
  for (int i = 0; i < 3000; i++) {
    t += (int64_t)(lcg(&st) % 20000);
    int64_t et = t - (int64_t)(lcg(&st) % 240000);
    sec_s s[6];
    int nsec = (int)(lcg(&st) % 7);
    for (int k = 0; k < nsec; k++) {
      s[k].cat = cats[lcg(&st) % 5];
      s[k].w = lcg(&st) % 64 ? vals[lcg(&st) % 9] : NAN;
      s[k].n = (int)(lcg(&st) % 5);
      for (int j = 0; j < s[k].n; j++) {
        /* points a share of possible (above it is refused), rarely NaN */
        const double poss = lcg(&st) % 64 ? vals[lcg(&st) % 9] : NAN;
        s[k].it[j] = (item_s){poss * (double)(lcg(&st) % 5) / 4.0, poss, lcg(&st) % 16};
      }
    }
    char id[16];
    snprintf(id, sizeof id, "e%u", lcg(&st) % 2000);
    const who w = {names[1 + lcg(&st) % 3], (int)(lcg(&st) % 4), names[lcg(&st) % 4],
                   names[lcg(&st) % 4],     names[lcg(&st) % 4], names[lcg(&st) % 4]};
    int rc = feed_qa(f.k, et, w, lcg(&st) % 4 ? id : "", NULL, s, nsec);
    assert_true(rc == KS_PROCESSED || rc == KS_LATE || rc == KS_REJECTED);
    processed += rc == KS_PROCESSED;
  }
  assert_true(processed > 500);
  flush(&f);
  assert_true(ks_testkit_result_count(f.k) > 1000);
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++) {
    const got *g = ks_testkit_result_at(f.k, i);
    assert_true(isfinite(g->numerator) && isfinite(g->denominator) && isfinite(g->value));
    assert_true(g->numerator >= 0 && g->denominator >= 0 && g->count >= 0);
    if (!g->has_value)
      continue;
    const double cap = strcmp(g->unit, "evaluations") == 0 ? 1e9 : (g->unit[0] == '%' ? 100 : 1);
    if (!(g->value >= 0 && g->value <= cap * (1 + 1e-12)))
      fail_msg("%s = %g out of range", g->key, g->value);
  }
  fx_free(&f);
}

/* ---- configuration ------------------------------------------------------------------ */

static void expect_refused(const char *key, const char *value, const char *needle) {
  ks_testkit *e;
  const ks_testkit_options o = {.interval_ms = IV_MS};
  char err[512];
  assert_int_equal(ks_testkit_new(&e, &o, err, sizeof err), 0);
  const ks_testkit_kv kv[] = {{key, value}};
  int rc = ks_testkit_add_plugin(e, PLUGIN, NULL, kv, 1, err, sizeof err);
  if (rc >= 0)
    fail_msg("%s=%s: want an error, got %d", key, value, rc);
  if (needle && strstr(err, needle) == NULL)
    fail_msg("%s=%s: error '%s' lacks '%s'", key, value, err, needle);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(e)), 0);
  ks_testkit_free(e);
}

static void test_bad_config_refused(void **state) {
  (void)state;
  expect_refused("score_scale", "10", NULL);
  expect_refused("score_scale", "hundred", NULL);
  expect_refused("auto_fail_scoring", "fail", NULL);
  expect_refused("weighting", "mean", NULL);
  expect_refused("compliance_denominator", "all", NULL);
  expect_refused("per_agent", "yes", NULL);
  expect_refused("per_queue", "maybe", NULL);
  expect_refused("per_team", "maybe", NULL);
  expect_refused("per_evaluator", "2", NULL);
  expect_refused("per_category", "sometimes", NULL);
  expect_refused("dedupe_window", "soon", NULL);
  expect_refused("dedupe_window", "-1s", NULL);
  expect_refused("scale", "100", "scale"); /* not an option of the plugin */
}

static void test_good_config_accepted(void **state) {
  (void)state;
  const ks_testkit_kv kv[] = {{"score_scale", "100"},   {"auto_fail_scoring", "zero"},
                              {"weighting", "points"},  {"compliance_denominator", "evaluations"},
                              {"per_agent", "agent"},   {"per_queue", "true"},
                              {"per_team", "true"},     {"per_evaluator", "false"},
                              {"per_category", "true"}, {"dedupe_window", "7d"}};
  fx f;
  fx_init(&f, kv, sizeof kv / sizeof kv[0]);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(f.k)), 1);
  assert_string_equal(ks_engine_plugin_name(ks_testkit_engine(f.k), 0), "quality");
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_main_scenario),
      cmocka_unit_test(test_auto_fail_score),
      cmocka_unit_test(test_auto_fail_exclude),
      cmocka_unit_test(test_score_scale_one),
      cmocka_unit_test(test_weighting_section_share),
      cmocka_unit_test(test_compliance_denominator),
      cmocka_unit_test(test_items_and_weights),
      cmocka_unit_test(test_zero_denominators),
      cmocka_unit_test(test_too_many_categories),
      cmocka_unit_test(test_dedupe),
      cmocka_unit_test(test_intervals_and_order),
      cmocka_unit_test(test_dimension_options),
      cmocka_unit_test(test_random_input_survives),
      cmocka_unit_test(test_bad_config_refused),
      cmocka_unit_test(test_good_config_accepted),
      cmocka_unit_test(test_agent_team_one_per_interval),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
