/*
 * test_value — the value (cost & value) KPI plugin, driven through the real
 * engine: hand-made event sequences in, results decoded from the protobuf
 * bytes the sink receives, values asserted exactly. Every expected number is
 * worked out by hand in the comments.
 *
 * Times: KS_TK_T0 is Monday 2026-11-23T00:00:00Z; I(k) is the k-th 15-minute
 * interval from there, S(s) = KS_TK_T0 + s seconds, D(d) = KS_TK_T0 + d days.
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

#define PLUGIN KS_TEST_PLUGIN_DIR "/kpi_value.so"
#define IV_MS  KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV_MS)
#define S(s)   (KS_TK_T0 + KS_TK_SEC(s))
#define H(h)   (KS_TK_T0 + (int64_t)(h)*3600000)
#define D(d)   (KS_TK_T0 + (int64_t)(d)*86400000)
#define NOV1   INT64_C(1793491200000)
#define DEC1   INT64_C(1796083200000)
#define Y2026  INT64_C(1767225600000)
#define Y2027  INT64_C(1798761600000)

#define VOICE KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define CHAT  KPISTREAM__V1__CHANNEL__CHANNEL_CHAT
#define FIXED KPISTREAM__V1__COST_KIND__COST_FIXED
#define VAR   KPISTREAM__V1__COST_KIND__COST_VARIABLE
#define ACC   KPISTREAM__V1__REACTION__REACTION_ACCEPTED
#define REJ   KPISTREAM__V1__REACTION__REACTION_REJECTED
#define IGN   KPISTREAM__V1__REACTION__REACTION_IGNORED

/* ---- result collection ---------------------------------------------------- */

/* Results are the kit's (kpistream/testkit.h): plain structs decoded from
 * the protobuf bytes the sink receives. */
typedef ks_testkit_result got;

typedef struct fx {
  ks_testkit *k;
} fx;

static void fx_init(fx *f, const ks_testkit_kv *kv, size_t n) {
  memset(f, 0, sizeof *f);
  ks_testkit_options o = {0};
  o.interval_ms = IV_MS;
  char err[512];
  assert_int_equal(ks_testkit_new(&f->k, &o, err, sizeof err), 0);
  if (ks_testkit_add_plugin(f->k, PLUGIN, NULL, kv, n, err, sizeof err) != 0)
    fail_msg("add_plugin: %s", err);
}

static void fx_free(fx *f) {
  ks_testkit_free(f->k);
  memset(f, 0, sizeof *f);
}

static void flush(fx *f) {
  if (ks_testkit_flush(f->k) != 0)
    fail_msg("%s", ks_testkit_error(f->k));
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++) {
    const got *g = ks_testkit_result_at(f->k, i);
    assert_string_equal(g->topic, "kpi.value");
    assert_string_equal(g->family, "value");
    assert_true(g->n_labels <= 1); /* the helpers compare the one label */
  }
}

/* The result for these dimensions (label "" = none), or NULL. */
static const got *find_t(const fx *f, const char *tenant, const char *metric, int ch,
                         const char *queue, const char *agent, const char *label, int64_t start) {
  const got *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++) {
    const got *g = ks_testkit_result_at(f->k, i);
    if (strcmp(g->metric, metric) == 0 && strcmp(g->tenant, tenant) == 0 && g->channel == ch &&
        strcmp(g->queue, queue) == 0 && strcmp(g->agent, agent) == 0 &&
        strcmp(g->labels, label) == 0 && g->start_ms == start) {
      if (hit)
        fail_msg("%s %s/%s/%s at %lld emitted twice", metric, queue, agent, label,
                 (long long)start);
      hit = g;
    }
  }
  return hit;
}

/* want NAN: the result must have no value (null). */
static void expect_v(const fx *f, const char *tenant, const char *metric, int ch, const char *q,
                     const char *agent, const char *label, int64_t start, double want,
                     const char *file, int line) {
  const got *g = find_t(f, tenant, metric, ch, q, agent, label, start);
  if (g == NULL) {
    print_error("%s:%d: no result %s %s ch=%d queue='%s' agent='%s' label='%s' at %lld\n", file,
                line, tenant, metric, ch, q, agent, label, (long long)start);
    _fail(file, line);
    return;
  }
  const int ok = isnan(want)
                     ? !g->has_value
                     : g->has_value && fabs(g->value - want) <= 1e-9 * fmax(1.0, fabs(want));
  if (!ok) {
    print_error("%s:%d: %s %s/%s/%s: want %.12g, got %s%.12g (num %.12g den %.12g)\n", file, line,
                metric, q, agent, label, want, g->has_value ? "" : "null ", g->value, g->numerator,
                g->denominator);
    _fail(file, line);
  }
}

/* Shorthands: tenant acme (T: any tenant, all channels); A: an agent; L: a label. */
#define EXPECT(f, m, ch, q, iv, v) expect_v(f, "acme", m, ch, q, "", "", iv, v, __FILE__, __LINE__)
#define EXPECT_A(f, m, ch, q, a, iv, v)                                                            \
  expect_v(f, "acme", m, ch, q, a, "", iv, v, __FILE__, __LINE__)
#define EXPECT_L(f, m, ch, q, l, iv, v)                                                            \
  expect_v(f, "acme", m, ch, q, "", l, iv, v, __FILE__, __LINE__)
#define EXPECT_T(f, t, m, l, iv, v) expect_v(f, t, m, 0, "", "", l, iv, v, __FILE__, __LINE__)
#define EXPECT_NULL(f, m, ch, q, l, iv)                                                            \
  expect_v(f, "acme", m, ch, q, "", l, iv, NAN, __FILE__, __LINE__)
#define EXPECT_NULL_T(f, t, m, l, iv) expect_v(f, t, m, 0, "", "", l, iv, NAN, __FILE__, __LINE__)
#define FIND(f, m, ch, q, a, l, iv)   find_t(f, "acme", m, ch, q, a, l, iv)

/* ---- event builders (tenant acme unless given) ------------------------------- */

#define BODY(CASE, field, Type, INIT)                                                              \
  Type b = INIT;                                                                                   \
  ev.body_case = KPISTREAM__V1__EVENT__BODY_##CASE;                                                \
  ev.field = &b

static void feed(ks_testkit *e, Kpistream__V1__Event *ev) {
  assert_int_equal(ks_testkit_feed(e, ev), KS_PROCESSED);
}

static void acw(ks_testkit *e, int64_t t, int ch, const char *q, const char *contact,
                const char *cust, const char *agent) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, ch, q, contact, cust, agent);
  BODY(ACW_ENDED, acw_ended, Kpistream__V1__AfterContactWorkEnded,
       KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT);
  feed(e, &ev);
}

static void order(ks_testkit *e, const char *tenant, int64_t t, const char *cust, const char *id,
                  double amount, double margin, const char *segment) {
  Kpistream__V1__Event ev = ks_tk_event(t, tenant, 0, NULL, NULL, cust, NULL);
  BODY(ORDER, order, Kpistream__V1__Order, KPISTREAM__V1__ORDER__INIT);
  b.order_id = (char *)id;
  b.amount = amount;
  b.margin = margin;
  b.segment = (char *)segment;
  feed(e, &ev);
}

static void reg(ks_testkit *e, const char *tenant, int64_t t, const char *cust,
                const char *segment) {
  Kpistream__V1__Event ev = ks_tk_event(t, tenant, 0, NULL, NULL, cust, NULL);
  BODY(CUSTOMER_REGISTERED, customer_registered, Kpistream__V1__CustomerRegistered,
       KPISTREAM__V1__CUSTOMER_REGISTERED__INIT);
  b.segment = (char *)segment;
  feed(e, &ev);
}

static void base(ks_testkit *e, const char *tenant, int64_t t, int64_t active,
                 const char *segment) {
  Kpistream__V1__Event ev = ks_tk_event(t, tenant, 0, NULL, NULL, NULL, NULL);
  BODY(CUSTOMER_BASE, customer_base, Kpistream__V1__CustomerBaseSnapshot,
       KPISTREAM__V1__CUSTOMER_BASE_SNAPSHOT__INIT);
  b.active_customers = active;
  b.segment = (char *)segment;
  feed(e, &ev);
}

static void offer(ks_testkit *e, int64_t t, const char *agent, const char *id, const char *action) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, VOICE, "sales", "cx", "ux", agent);
  BODY(NBA_OFFER, nba_offer, Kpistream__V1__NextBestActionOffer,
       KPISTREAM__V1__NEXT_BEST_ACTION_OFFER__INIT);
  b.offer_id = (char *)id;
  b.action = (char *)action;
  feed(e, &ev);
}

static void react(ks_testkit *e, int64_t t, const char *id, int reaction) {
  /* the reaction's own envelope is deliberately different: the offer's counts */
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, CHAT, "other", "cx", "ux", "zz");
  BODY(NBA_REACTION, nba_reaction, Kpistream__V1__NextBestActionReaction,
       KPISTREAM__V1__NEXT_BEST_ACTION_REACTION__INIT);
  b.offer_id = (char *)id;
  b.reaction = (Kpistream__V1__Reaction)reaction;
  feed(e, &ev);
}

static void cost(ks_testkit *e, const char *tenant, int64_t t, int ch, const char *q,
                 const char *center, int kind, const char *category, double amount, int64_t ps,
                 int64_t pe) {
  Kpistream__V1__Event ev = ks_tk_event(t, tenant, ch, q, NULL, NULL, NULL);
  BODY(COST, cost, Kpistream__V1__CostRecord, KPISTREAM__V1__COST_RECORD__INIT);
  b.cost_center = (char *)center;
  b.kind = (Kpistream__V1__CostKind)kind;
  b.category = (char *)category;
  b.amount = amount;
  b.period_start_ms = ps;
  b.period_end_ms = pe;
  feed(e, &ev);
}

static void budget(ks_testkit *e, const char *tenant, int64_t t, const char *center, double amount,
                   int64_t ps, int64_t pe) {
  Kpistream__V1__Event ev = ks_tk_event(t, tenant, 0, NULL, NULL, NULL, NULL);
  BODY(BUDGET, budget, Kpistream__V1__BudgetRecord, KPISTREAM__V1__BUDGET_RECORD__INIT);
  b.cost_center = (char *)center;
  b.amount = amount;
  b.period_start_ms = ps;
  b.period_end_ms = pe;
  feed(e, &ev);
}

/* An event the plugin does not consume: moves the watermark to t. */
static void tick(ks_testkit *e, int64_t t) {
  assert_int_equal(ks_tk_answered(e, t, VOICE, "x", "tick", "a"), KS_PROCESSED);
}

/* ---- conversions ----------------------------------------------------------------- */

/*
 * Voice "sales" and chat "support", window 24 h (default):
 *   c1 u1 queued 0, wrap-up by a1 at 100; order u1 at 200 (100): I0, a1
 *   c8 u8 queued 5, legs a1 (110) and a2 (210); order u8 at 250 (40): I0, a2
 *   c2 u2 queued 10, a2 at 300; orders at 20 min (50) and 25 min (30): I1, a2
 *      (one conversion, revenue 80)
 *   c3 u3 queued 20, a1 at 400; no order
 *   c7 u7 created chat 100, a3 at 200; registration u7 at 300: I0 chat
 *   c4 u4 created chat 30, a3 at 500; order after 2 days: beyond the window
 *   c6 u6 created chat 700; order at 850 (60) fed BEFORE the wrap-up at 800:
 *      credited at max(850, 800) -> I0 chat
 *   c5 u5 queued 600; order at 650 (80) during the contact; wrap-up by a2 at
 *      16 min -> credited at the wrap-up, I1 voice
 *   orders without a customer or by a never-contacted customer: no credit
 */
static void feed_conv(ks_testkit *e) {
  assert_int_equal(ks_tk_queued(e, S(0), VOICE, "sales", "c1", "u1"), KS_PROCESSED);
  ks_tk_queued(e, S(5), VOICE, "sales", "c8", "u8");
  ks_tk_queued(e, S(10), VOICE, "sales", "c2", "u2");
  ks_tk_queued(e, S(20), VOICE, "sales", "c3", "u3");
  ks_tk_created(e, S(30), CHAT, "support", "c4", "u4");
  ks_tk_created(e, S(100), CHAT, "support", "c7", "u7");
  acw(e, S(100), VOICE, "sales", "c1", NULL, "a1"); /* customer from ContactQueued */
  acw(e, S(110), VOICE, "sales", "c8", "u8", "a1");
  order(e, KS_TK_TENANT, S(200), "u1", "o1", 100, 0, "");
  acw(e, S(200), CHAT, "support", "c7", "u7", "a3");
  acw(e, S(210), VOICE, "sales", "c8", "u8", "a2");
  order(e, KS_TK_TENANT, S(250), "u8", "o8", 40, 0, "");
  order(e, KS_TK_TENANT, S(260), NULL, "o-anon", 999, 0, "");
  order(e, KS_TK_TENANT, S(270), "u9", "o9", 999, 0, "");
  acw(e, S(300), VOICE, "sales", "c2", "u2", "a2");
  reg(e, KS_TK_TENANT, S(300), "u7", "consumer");
  acw(e, S(400), VOICE, "sales", "c3", "u3", "a1");
  acw(e, S(500), CHAT, "support", "c4", "u4", "a3");
  ks_tk_queued(e, S(600), VOICE, "sales", "c5", "u5");
  order(e, KS_TK_TENANT, S(650), "u5", "o5", 80, 0, "");
  ks_tk_created(e, S(700), CHAT, "support", "c6", "u6");
  order(e, KS_TK_TENANT, S(850), "u6", "o6", 60, 0, "");
  acw(e, S(800), CHAT, "support", "c6", "u6", "a3");
  acw(e, S(960), VOICE, "sales", "c5", "u5", "a2");
  order(e, KS_TK_TENANT, S(1200), "u2", "o2a", 50, 0, "");
  order(e, KS_TK_TENANT, S(1500), "u2", "o2b", 30, 0, "");
  order(e, KS_TK_TENANT, D(2), "u4", "o4", 70, 0, "");
}

static void test_conversion(void **state) {
  fx f;
  fx_init(&f, NULL, 0);
  feed_conv(f.k);
  flush(&f);
  /* I0 voice sales: handled legs c1, c8 (a1), c8 (a2), c2, c3 = 5; c1, c8 converted */
  EXPECT(&f, "conversions", VOICE, "sales", I(0), 2);
  EXPECT(&f, "conversion_rate", VOICE, "sales", I(0), 2.0 / 5.0);
  EXPECT(&f, "attributed_revenue", VOICE, "sales", I(0), 140); /* 100 + 40 */
  EXPECT(&f, "contact_registrations", VOICE, "sales", I(0), 0);
  EXPECT(&f, "registration_rate", VOICE, "sales", I(0), 0);
  /* I1 voice sales: handled c5 = 1; c5 and c2 converted there: 2 / 1 (a
   * conversion lands where it completes, so one interval can exceed 1) */
  EXPECT(&f, "conversions", VOICE, "sales", I(1), 2);
  EXPECT(&f, "conversion_rate", VOICE, "sales", I(1), 2.0);
  EXPECT(&f, "attributed_revenue", VOICE, "sales", I(1), 160); /* 80 + 50 + 30 */
  /* I0 chat support: handled c7, c4, c6 = 3; c6 converted, c7 registered */
  EXPECT(&f, "conversions", CHAT, "support", I(0), 1);
  EXPECT(&f, "conversion_rate", CHAT, "support", I(0), 1.0 / 3.0);
  EXPECT(&f, "attributed_revenue", CHAT, "support", I(0), 60);
  EXPECT(&f, "contact_registrations", CHAT, "support", I(0), 1);
  EXPECT(&f, "registration_rate", CHAT, "support", I(0), 1.0 / 3.0);
  /* per agent (default: tenant x channel x agent) */
  EXPECT_A(&f, "conversion_rate", VOICE, "", "a1", I(0), 1.0 / 3.0); /* c1 of c1, c8, c3 */
  EXPECT_A(&f, "attributed_revenue", VOICE, "", "a1", I(0), 100);
  EXPECT_A(&f, "conversion_rate", VOICE, "", "a2", I(0), 0.5); /* c8 of c8, c2 */
  EXPECT_A(&f, "conversions", VOICE, "", "a2", I(1), 2);
  EXPECT_A(&f, "attributed_revenue", VOICE, "", "a2", I(1), 160);
  EXPECT_A(&f, "contact_registrations", CHAT, "", "a3", I(0), 1);
  assert_null(FIND(&f, "conversions", VOICE, "sales", "a1", "", I(0)));
  /* the late order after two days credits nothing anywhere */
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
    assert_true((*ks_testkit_result_at(f.k, i)).start_ms < I(2));
  /* shape */
  const got *g = FIND(&f, "conversion_rate", VOICE, "sales", "", "", I(0));
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_RATIO);
  assert_string_equal(g->unit, "ratio");
  assert_true(g->numerator == 2 && g->denominator == 5 && g->count == 5);
  assert_int_equal(g->end_ms, I(1));
  char want[96];
  snprintf(want, sizeof want, "value/conversion_rate|acme|voice|sales|||%lld", (long long)I(0));
  assert_string_equal(g->key, want);
  g = FIND(&f, "attributed_revenue", VOICE, "sales", "", "", I(1));
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_SUM);
  assert_string_equal(g->unit, "currency");
  assert_int_equal(g->count, 3); /* three orders */
  fx_free(&f);
}

static void test_conversion_window_and_agents(void **state) {
  static const struct {
    const char *window;
    double want;
  } cases[] = {{"1h", 0}, {"2h", 1}, {"24h", 1}}; /* the order comes exactly 2 h later */
  for (size_t i = 0; i < 3; i++) {
    const ks_testkit_kv kv[] = {{"conversion.window", cases[i].window}};
    fx f;
    fx_init(&f, kv, 1);
    acw(f.k, S(100), VOICE, "sales", "c1", "u1", "a1");
    order(f.k, KS_TK_TENANT, S(100) + H(2) - KS_TK_T0, "u1", "o1", 10, 0, "");
    flush(&f);
    EXPECT(&f, "conversions", VOICE, "sales", I(0), 0); /* stamped where it completes */
    if (cases[i].want > 0)
      EXPECT(&f, "conversions", VOICE, "sales", I(8), 1); /* 100 s + 2 h is in I(8) */
    else
      assert_null(FIND(&f, "conversions", VOICE, "sales", "", "", I(8)));
    fx_free(&f);
  }
  /* per_agent: queue (tenant x channel x queue x agent), agent (all channels), off */
  const char *modes[] = {"queue", "agent", "off"};
  for (size_t i = 0; i < 3; i++) {
    const ks_testkit_kv kv[] = {{"per_agent", modes[i]}};
    fx f;
    fx_init(&f, kv, 1);
    feed_conv(f.k);
    flush(&f);
    if (i == 0) {
      EXPECT_A(&f, "conversion_rate", VOICE, "sales", "a1", I(0), 1.0 / 3.0);
      assert_null(FIND(&f, "conversion_rate", VOICE, "", "a1", "", I(0)));
    } else if (i == 1) {
      /* a2 in I0: voice c8, c2; a3: chat 3 legs: separate agents */
      EXPECT_A(&f, "conversion_rate", 0, "", "a2", I(0), 0.5);
      EXPECT_A(&f, "conversion_rate", 0, "", "a3", I(0), 1.0 / 3.0);
    } else {
      for (size_t k = 0; k < ks_testkit_result_count(f.k); k++)
        assert_string_equal((*ks_testkit_result_at(f.k, k)).agent, "");
    }
    EXPECT(&f, "conversion_rate", VOICE, "sales", I(0), 2.0 / 5.0); /* queue level unchanged */
    fx_free(&f);
  }
}

/* ---- next-best-action ----------------------------------------------------------------- */

/*
 * Offers in voice "sales": o1 upgrade (a1) at 100, accepted 200; o2 upgrade
 * (a1) at 120, rejected 220; o3 insurance (a2) at 130, ignored at 900 (I1);
 * o4 insurance (a2): the acceptance at 300 arrives before the offer at 250.
 * Repeats: o1 offered again at 150, o1 rejected at 210 (ignored: the first
 * reaction counts), an unspecified reaction to o2 (ignored).
 */
static void feed_nba(ks_testkit *e) {
  offer(e, S(100), "a1", "o1", "upgrade");
  offer(e, S(120), "a1", "o2", "upgrade");
  offer(e, S(130), "a2", "o3", "insurance");
  offer(e, S(150), "a1", "o1", "upgrade");
  react(e, S(200), "o1", ACC);
  react(e, S(210), "o1", REJ);
  react(e, S(215), "o2", 0);
  react(e, S(220), "o2", REJ);
  react(e, S(300), "o4", ACC);
  offer(e, S(250), "a2", "o4", "insurance");
  react(e, S(900), "o3", IGN);
}

static void test_nba(void **state) {
  fx f;
  fx_init(&f, NULL, 0);
  feed_nba(f.k);
  flush(&f);
  /* I0: offered o1..o4 = 4, accepted o1, o4 = 2 (o3's reaction is in I1) */
  EXPECT(&f, "nba_offered", VOICE, "sales", I(0), 4);
  EXPECT(&f, "nba_accepted", VOICE, "sales", I(0), 2);
  EXPECT(&f, "nba_acceptance_rate", VOICE, "sales", I(0), 0.5);
  EXPECT_L(&f, "nba_offered", VOICE, "sales", "action=upgrade", I(0), 2);
  EXPECT_L(&f, "nba_acceptance_rate", VOICE, "sales", "action=upgrade", I(0), 0.5);   /* o1/2 */
  EXPECT_L(&f, "nba_acceptance_rate", VOICE, "sales", "action=insurance", I(0), 0.5); /* o4 */
  EXPECT_A(&f, "nba_acceptance_rate", VOICE, "", "a1", I(0), 0.5);
  EXPECT_A(&f, "nba_offered", VOICE, "", "a2", I(0), 2);
  /* I1: only o3's "ignored": nothing offered there, so no rate (null) */
  EXPECT(&f, "nba_offered", VOICE, "sales", I(1), 0);
  EXPECT_NULL(&f, "nba_acceptance_rate", VOICE, "sales", "", I(1));
  EXPECT_NULL(&f, "nba_acceptance_rate", VOICE, "sales", "action=insurance", I(1));
  /* the reaction's own envelope (chat "other") is not used */
  assert_null(FIND(&f, "nba_offered", CHAT, "other", "", "", I(0)));
  /* no contact data: no conversion metrics for these dimensions */
  assert_null(FIND(&f, "conversion_rate", VOICE, "sales", "", "", I(0)));
  fx_free(&f);

  /* accepted / (accepted + rejected): I0 2 / (2 + 1); I1: 0 / 0 -> null */
  const ks_testkit_kv kv[] = {{"nba.rate_denominator", "accepted_plus_rejected"}};
  fx_init(&f, kv, 1);
  feed_nba(f.k);
  flush(&f);
  EXPECT(&f, "nba_acceptance_rate", VOICE, "sales", I(0), 2.0 / 3.0);
  EXPECT_L(&f, "nba_acceptance_rate", VOICE, "sales", "action=upgrade", I(0), 0.5);
  EXPECT_L(&f, "nba_acceptance_rate", VOICE, "sales", "action=insurance", I(0), 1.0);
  EXPECT_NULL(&f, "nba_acceptance_rate", VOICE, "sales", "", I(1));
  fx_free(&f);
}

/* ---- cost and budget ------------------------------------------------------------------ */

/*
 * Day D0 (cost.period day, period_settle 1h). Handled on D0: 2 voice, 2 chat.
 * Budgets at 1 s: cc-voice 1000 for D0; cc-digital 700 for a week (100 a day).
 * Costs at D1 00:00 for D0: cc-voice labour 500 (variable), telephony 20
 * (variable), licences 35 (fixed), misc 5 (kind unspecified); cc-digital
 * facilities 540 (fixed) and rent 3000 for November (fixed: 3000 / 30 =
 * 100 a day; the days before D0 are emitted already and dropped). At D1
 * 00:10 labour is restated as 520 (+20). At D1 01:00 D0 is emitted; a labour
 * line of 600 at 01:05 is late and dropped.
 */
static void feed_costs(ks_testkit *e) {
  acw(e, S(100), VOICE, "sales", "c1", "u1", "a1");
  acw(e, S(200), VOICE, "sales", "c2", "u2", "a2");
  acw(e, S(300), CHAT, "support", "c3", "u3", "a3");
  acw(e, S(400), CHAT, "support", "c4", "u4", "a3");
  budget(e, KS_TK_TENANT, S(1), "cc-voice", 1000, D(0), D(1));
  budget(e, KS_TK_TENANT, S(1), "cc-digital", 700, D(0), D(7));
  cost(e, KS_TK_TENANT, D(1), 0, NULL, "cc-voice", VAR, "labour", 500, D(0), D(1));
  cost(e, KS_TK_TENANT, D(1), 0, NULL, "cc-voice", VAR, "telephony", 20, D(0), D(1));
  cost(e, KS_TK_TENANT, D(1), 0, NULL, "cc-voice", FIXED, "licences", 35, D(0), D(1));
  cost(e, KS_TK_TENANT, D(1), 0, NULL, "cc-voice", 0, "misc", 5, D(0), D(1));
  cost(e, KS_TK_TENANT, D(1), 0, NULL, "cc-digital", FIXED, "facilities", 540, D(0), D(1));
  cost(e, KS_TK_TENANT, D(1), 0, NULL, "cc-digital", FIXED, "rent", 3000, NOV1, DEC1);
  cost(e, KS_TK_TENANT, D(1) + KS_TK_MIN(10), 0, NULL, "cc-voice", VAR, "labour", 520, D(0), D(1));
  tick(e, D(1) + KS_TK_MIN(60));
  cost(e, KS_TK_TENANT, D(1) + KS_TK_MIN(65), 0, NULL, "cc-voice", VAR, "labour", 600, D(0), D(1));
}

static void test_costs_day(void **state) {
  fx f;
  fx_init(&f, NULL, 0);
  feed_costs(f.k);
  flush(&f);
  const int64_t d0 = D(0);
  /* fixed 35 + 540 + 100 = 675; variable 520 + 20 = 540; misc 5 */
  EXPECT(&f, "operating_cost", 0, "", d0, 1220);
  EXPECT(&f, "fixed_cost", 0, "", d0, 675);
  EXPECT(&f, "variable_cost", 0, "", d0, 540);
  EXPECT(&f, "budget", 0, "", d0, 1100);                          /* 1000 + 100 */
  EXPECT(&f, "budget_variance", 0, "", d0, 120);                  /* 1220 - 1100 */
  EXPECT(&f, "budget_variance_ratio", 0, "", d0, 120.0 / 1100.0); /* over budget: > 0 */
  EXPECT(&f, "cost_per_contact", 0, "", d0, 305);                 /* 1220 / 4 handled */
  EXPECT_L(&f, "operating_cost", 0, "", "category=labour", d0, 520);
  EXPECT_L(&f, "operating_cost", 0, "", "category=telephony", d0, 20);
  EXPECT_L(&f, "operating_cost", 0, "", "category=rent", d0, 100);
  EXPECT_L(&f, "operating_cost", 0, "", "category=misc", d0, 5);
  /* cc-voice: 520 + 20 + 35 + 5 = 580 vs 1000; cc-digital: 540 + 100 vs 100 */
  EXPECT_L(&f, "operating_cost", 0, "", "cost_center=cc-voice", d0, 580);
  EXPECT_L(&f, "budget_variance", 0, "", "cost_center=cc-voice", d0, -420);
  EXPECT_L(&f, "budget_variance_ratio", 0, "", "cost_center=cc-voice", d0, -0.42);
  EXPECT_L(&f, "budget", 0, "", "cost_center=cc-digital", d0, 100);
  EXPECT_L(&f, "budget_variance_ratio", 0, "", "cost_center=cc-digital", d0, 5.4);
  const got *g = FIND(&f, "operating_cost", 0, "", "", "", d0);
  assert_int_equal(g->end_ms, D(1)); /* the day's bounds */
  assert_int_equal(g->count, 6);     /* six cost lines (the restatement is not a new one) */
  assert_string_equal(g->unit, "currency");
  /* count = the records behind the value: fixed licences, facilities, rent;
   * variable labour, telephony; budget + variance: 2 budget lines (+ 6 costs) */
  assert_int_equal(FIND(&f, "fixed_cost", 0, "", "", "", d0)->count, 3);
  assert_int_equal(FIND(&f, "variable_cost", 0, "", "", "", d0)->count, 2);
  assert_int_equal(FIND(&f, "budget", 0, "", "", "", d0)->count, 2);
  assert_int_equal(FIND(&f, "budget_variance", 0, "", "", "", d0)->count, 8);
  g = FIND(&f, "cost_per_contact", 0, "", "", "", d0);
  assert_true(g->numerator == 1220 && g->denominator == 4 &&
              g->aggregation == KPISTREAM__V1__AGGREGATION__AGG_RATIO);
  /* costs were recorded for the tenant only: no channel-level cost results,
   * and only D0 is due (the later days of the rent and the weekly budget
   * are not) */
  assert_null(FIND(&f, "operating_cost", VOICE, "", "", "", d0));
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++)
    assert_true((*ks_testkit_result_at(f.k, i)).start_ms == d0 ||
                (*ks_testkit_result_at(f.k, i)).end_ms - (*ks_testkit_result_at(f.k, i)).start_ms ==
                    IV_MS);
  fx_free(&f);
}

/*
 * Scopes: acme handles voice "sales" (1), voice "billing" (1), chat (1) on
 * D0; costs for D0: 300 for voice/sales, 60 for voice (all queues), 100 for
 * the tenant. beta: cost 50, nothing handled. gamma: a budget only.
 */
static void test_cost_scopes_and_nulls(void **state) {
  fx f;
  fx_init(&f, NULL, 0);
  acw(f.k, S(100), VOICE, "sales", "c1", "u1", "a1");
  acw(f.k, S(200), VOICE, "billing", "c2", "u2", "a1");
  acw(f.k, S(300), CHAT, "support", "c3", "u3", "a2");
  budget(f.k, "gamma", S(400), "cc", 500, D(0), D(1));
  cost(f.k, "beta", S(500), 0, NULL, "cc", FIXED, "facilities", 50, 0, 0); /* no period: D0 */
  cost(f.k, KS_TK_TENANT, D(1), VOICE, "sales", "cc", VAR, "labour", 300, D(0), D(1));
  cost(f.k, KS_TK_TENANT, D(1), VOICE, NULL, "cc", FIXED, "telephony", 60, D(0), D(1));
  cost(f.k, KS_TK_TENANT, D(1), 0, NULL, "cc", FIXED, "facilities", 100, D(0), D(1));
  tick(f.k, D(1) + H(1) - KS_TK_T0);
  flush(&f);
  const int64_t d0 = D(0);
  EXPECT(&f, "operating_cost", VOICE, "sales", d0, 300);
  EXPECT(&f, "cost_per_contact", VOICE, "sales", d0, 300); /* 300 / 1 */
  EXPECT(&f, "operating_cost", VOICE, "", d0, 360);        /* 300 + 60 */
  EXPECT(&f, "cost_per_contact", VOICE, "", d0, 180);      /* 360 / 2 */
  EXPECT(&f, "operating_cost", 0, "", d0, 460);            /* 300 + 60 + 100 */
  EXPECT(&f, "cost_per_contact", 0, "", d0, 460.0 / 3.0);  /* 3 handled */
  EXPECT_L(&f, "operating_cost", VOICE, "", "category=telephony", d0, 60);
  EXPECT_NULL(&f, "budget", VOICE, "sales", "", d0); /* no budget */
  EXPECT_NULL(&f, "budget_variance", VOICE, "sales", "", d0);
  EXPECT_NULL(&f, "budget_variance_ratio", 0, "", "", d0);
  assert_null(FIND(&f, "operating_cost", CHAT, "support", "", "", d0)); /* handled, no cost */
  EXPECT_T(&f, "beta", "operating_cost", "", d0, 50);
  EXPECT_NULL_T(&f, "beta", "cost_per_contact", "", d0); /* 50 / 0 handled */
  EXPECT_NULL_T(&f, "gamma", "operating_cost", "", d0);  /* costs unknown, not 0 */
  EXPECT_T(&f, "gamma", "budget", "", d0, 500);
  EXPECT_NULL_T(&f, "gamma", "budget_variance", "", d0);
  EXPECT_NULL_T(&f, "gamma", "cost_per_contact", "", d0);
  fx_free(&f);
}

static void test_cost_month_and_week(void **state) {
  /* month: November's rent 3000 arrives on Dec 1; one contact on Nov 23 */
  const ks_testkit_kv km[] = {{"cost.period", "month"}};
  fx f;
  fx_init(&f, km, 1);
  acw(f.k, S(100), VOICE, "sales", "c1", "u1", "a1");
  cost(f.k, KS_TK_TENANT, DEC1, 0, NULL, "cc", FIXED, "rent", 3000, NOV1, DEC1);
  tick(f.k, DEC1 + 3600000);
  flush(&f);
  EXPECT(&f, "operating_cost", 0, "", NOV1, 3000);
  EXPECT(&f, "cost_per_contact", 0, "", NOV1, 3000); /* 3000 / 1 */
  assert_int_equal(FIND(&f, "operating_cost", 0, "", "", "", NOV1)->end_ms, DEC1);
  fx_free(&f);

  /* ISO week from Monday Nov 23: budget 3000 for November, received on the
   * 23rd: 7 of its 30 days = 700; cost 700 for the week; variance 0 */
  const ks_testkit_kv kw[] = {{"cost.period", "week"}, {"period_settle", "0s"}};
  fx_init(&f, kw, 2);
  budget(f.k, KS_TK_TENANT, S(10), "cc", 3000, NOV1, DEC1);
  cost(f.k, KS_TK_TENANT, D(6) + H(23) - KS_TK_T0, 0, NULL, "cc", VAR, "labour", 700, D(0), D(7));
  tick(f.k, D(7));
  flush(&f);
  EXPECT(&f, "budget", 0, "", D(0), 700);
  EXPECT(&f, "budget_variance", 0, "", D(0), 0);
  EXPECT(&f, "budget_variance_ratio", 0, "", D(0), 0);
  EXPECT_NULL(&f, "cost_per_contact", 0, "", "", D(0)); /* nothing handled */
  assert_int_equal(FIND(&f, "budget", 0, "", "", "", D(0))->end_ms, D(7));
  fx_free(&f);

  /* year: a budget for 2026 received in November counts whole for 2026 */
  const ks_testkit_kv ky[] = {{"cost.period", "year"}};
  fx_init(&f, ky, 1);
  budget(f.k, KS_TK_TENANT, S(10), "cc", 3650, Y2026, Y2027);
  tick(f.k, Y2027 + 3600000);
  flush(&f);
  EXPECT(&f, "budget", 0, "", Y2026, 3650);
  assert_int_equal(FIND(&f, "budget", 0, "", "", "", Y2026)->end_ms, Y2027);
  fx_free(&f);
}

/* ---- retention and CLV ------------------------------------------------------------------- */

/*
 * customer_period day. D0 00:00 snapshots: all 1000, consumer 850, business
 * 150. Registrations: consumer x3, business x1, no segment x1 (+ a repeat of
 * r1). Orders: u1 consumer 100 (margin 0.4 -> 40), u1 consumer 50 (margin
 * unknown -> clv.margin 1 -> 50), u2 business 200 (0.5 -> 100), no customer
 * consumer 30, and a repeat of o1. D1 00:00 snapshots: 990, 840, 148.
 */
static void feed_base(ks_testkit *e) {
  base(e, KS_TK_TENANT, D(0), 1000, "all");
  base(e, KS_TK_TENANT, D(0), 850, "consumer");
  base(e, KS_TK_TENANT, D(0), 150, "business");
  order(e, KS_TK_TENANT, S(1000), "u1", "o1", 100, 0.4, "consumer");
  order(e, KS_TK_TENANT, S(2000), "u1", "o2", 50, 0, "consumer");
  order(e, KS_TK_TENANT, S(3000), "u2", "o3", 200, 0.5, "business");
  reg(e, KS_TK_TENANT, S(3600), "r1", "consumer");
  order(e, KS_TK_TENANT, S(4000), NULL, "o4", 30, 0.2, "consumer");
  order(e, KS_TK_TENANT, S(4100), "u1", "o1", 100, 0.4, "consumer");
  reg(e, KS_TK_TENANT, S(7200), "r2", "consumer");
  reg(e, KS_TK_TENANT, S(7300), "r3", "consumer");
  reg(e, KS_TK_TENANT, S(8000), "r4", "business");
  reg(e, KS_TK_TENANT, S(9000), "r5", "");
  reg(e, KS_TK_TENANT, S(9100), "r1", "consumer");
  base(e, KS_TK_TENANT, D(1), 990, "all");
  base(e, KS_TK_TENANT, D(1), 840, "consumer");
  base(e, KS_TK_TENANT, D(1), 148, "business");
  tick(e, D(1) + 3600000);
}

static void test_retention_clv(void **state) {
  const ks_testkit_kv kv[] = {{"customer_period", "day"}};
  fx f;
  fx_init(&f, kv, 1);
  feed_base(f.k);
  flush(&f);
  const int64_t d0 = D(0);
  EXPECT_T(&f, "acme", "customers_start", "", d0, 1000);
  EXPECT_T(&f, "acme", "customers_end", "", d0, 990);
  EXPECT_T(&f, "acme", "new_customers", "", d0, 5);
  EXPECT_T(&f, "acme", "retention_rate", "", d0, 0.985); /* (990 - 5) / 1000 */
  EXPECT_T(&f, "acme", "retention_rate", "segment=consumer", d0, 837.0 / 850.0);
  EXPECT_T(&f, "acme", "retention_rate", "segment=business", d0, 0.98); /* 147 / 150 */
  EXPECT_T(&f, "acme", "new_customers", "segment=business", d0, 1);
  /* total: 4 orders, 380; 3 with a customer, 2 buyers; margin 40 + 50 + 100 */
  EXPECT_T(&f, "acme", "orders", "", d0, 4);
  EXPECT_T(&f, "acme", "revenue", "", d0, 380);
  EXPECT_T(&f, "acme", "average_order_value", "", d0, 95);
  EXPECT_T(&f, "acme", "purchase_frequency", "", d0, 1.5);
  EXPECT_T(&f, "acme", "clv", "", d0, 190.0 * 1095.0 / 2.0);               /* 3 years of days */
  EXPECT_T(&f, "acme", "average_order_value", "segment=consumer", d0, 60); /* 180 / 3 */
  EXPECT_T(&f, "acme", "purchase_frequency", "segment=consumer", d0, 2);   /* 2 / 1 buyer */
  EXPECT_T(&f, "acme", "clv", "segment=consumer", d0, 90.0 * 1095.0);
  EXPECT_T(&f, "acme", "clv", "segment=business", d0, 100.0 * 1095.0);
  const got *g = find_t(&f, "acme", "customers_end", 0, "", "", "", d0);
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_GAUGE);
  assert_int_equal(g->end_ms, D(1));
  g = find_t(&f, "acme", "retention_rate", 0, "", "", "", d0);
  assert_true(g->numerator == 985 && g->denominator == 1000);
  /* D1 is not due yet; "all" is the total, not a segment */
  assert_null(find_t(&f, "acme", "customers_start", 0, "", "", "", D(1)));
  assert_null(find_t(&f, "acme", "orders", 0, "", "", "segment=all", d0));
  fx_free(&f);

  /* lifespan from retention: 1 / (1 - r) days */
  const ks_testkit_kv kr[] = {{"customer_period", "day"}, {"clv.lifespan_source", "retention"}};
  fx_init(&f, kr, 2);
  feed_base(f.k);
  flush(&f);
  EXPECT_T(&f, "acme", "clv", "", d0, 190.0 / 0.015 / 2.0);
  EXPECT_T(&f, "acme", "clv", "segment=consumer", d0, 90.0 * 850.0 / 13.0);
  EXPECT_T(&f, "acme", "clv", "segment=business", d0, 100.0 * 50.0);
  fx_free(&f);

  /* fixed margin 0.5 for every order, 2 years: 0.5 x 350 x 730 / 2 */
  const ks_testkit_kv km[] = {{"customer_period", "day"},
                              {"clv.margin_source", "fixed"},
                              {"clv.margin", "0.5"},
                              {"clv.lifespan_years", "2"}};
  fx_init(&f, km, 4);
  feed_base(f.k);
  flush(&f);
  EXPECT_T(&f, "acme", "clv", "", d0, 175.0 * 730.0 / 2.0);
  fx_free(&f);
}

/*
 * period_settle 0: D0 is emitted when the interval ending at D1 00:00
 * closes, i.e. before the D1 00:00 snapshot is applied: E is the last
 * snapshot seen (the opening one). beta has no opening snapshot: S is its
 * first one (08:00, 500) and the registration before it is not in N.
 */
static void test_retention_settle_and_fallback(void **state) {
  const ks_testkit_kv kv[] = {{"customer_period", "day"}, {"period_settle", "0"}};
  fx f;
  fx_init(&f, kv, 2);
  reg(f.k, KS_TK_TENANT, S(50), "n0", ""); /* before the opening snapshot is seen */
  base(f.k, KS_TK_TENANT, D(0), 1000, "");
  reg(f.k, KS_TK_TENANT, S(100), "n1", "");
  reg(f.k, "beta", H(7), "b1", "");
  base(f.k, "beta", H(8), 500, "");
  reg(f.k, "beta", H(9), "b2", "");
  reg(f.k, "beta", H(9) + 1000, "b9", "vip");
  reg(f.k, "beta", H(10), "b3", "");
  base(f.k, "beta", H(20), 505, "");
  base(f.k, KS_TK_TENANT, D(1), 990, "");
  flush(&f);
  EXPECT_T(&f, "acme", "customers_end", "", D(0), 1000);
  /* the snapshot at the period start is exact: n0 counts, (1000 - 2) / 1000 */
  EXPECT_T(&f, "acme", "retention_rate", "", D(0), 0.998);
  EXPECT_T(&f, "beta", "customers_start", "", D(0), 500);
  EXPECT_T(&f, "beta", "new_customers", "", D(0), 3);            /* b2, b9, b3 */
  EXPECT_T(&f, "beta", "retention_rate", "", D(0), 502.0 / 500); /* (505 - 3) / 500 */
  /* a segment with registrations only: no snapshots -> no rate */
  EXPECT_T(&f, "beta", "new_customers", "segment=vip", D(0), 1);
  EXPECT_NULL_T(&f, "beta", "customers_start", "segment=vip", D(0));
  EXPECT_NULL_T(&f, "beta", "retention_rate", "segment=vip", D(0));
  assert_null(find_t(&f, "beta", "clv", 0, "", "", "", D(0))); /* no orders */
  fx_free(&f);
}

/* ---- issue 11: legs per assignment, cost per contact --------------------------------------- */

/*
 * c1 is handled by a1, transferred to a2 and back to a1 (three legs: a1's
 * wrap-ups at S(100) and S(300)); c2 by a2. Cost 300 for D0.
 *   conversion_rate den = handled legs in sales = 4 (a per-(contact, agent)
 *   de-duplication counted 3); c1's customer orders: 1 conversion -> 1 / 4.
 *   cost_per_contact (default cost.per: contacts) = 300 / 2 contacts = 150;
 *   cost.per: legs = 300 / 4 legs = 75 (the leg count the docs call the
 *   operations unit; before: 300 / 3 = 100, a transferred contact counted
 *   once per distinct agent).
 */
static void feed_three_legs(ks_testkit *e) {
  acw(e, S(100), VOICE, "sales", "c1", "u1", "a1");
  acw(e, S(200), VOICE, "sales", "c1", "u1", "a2");
  acw(e, S(300), VOICE, "sales", "c1", "u1", "a1");
  acw(e, S(300), VOICE, "sales", "c1", "u1", "a1"); /* redelivered */
  acw(e, S(400), VOICE, "sales", "c2", "u2", "a2");
  order(e, KS_TK_TENANT, S(500), "u1", "o1", 10, 0, "");
  cost(e, KS_TK_TENANT, D(1), 0, NULL, "cc", VAR, "labour", 300, D(0), D(1));
  tick(e, D(1) + KS_TK_MIN(60));
}

static void test_legs_and_cost_per_contact(void **state) {
  (void)state;
  fx f;
  fx_init(&f, NULL, 0);
  feed_three_legs(f.k);
  flush(&f);
  const got *g = FIND(&f, "conversion_rate", VOICE, "sales", "", "", I(0));
  assert_non_null(g);
  assert_true(g->numerator == 1 && g->denominator == 4);
  EXPECT(&f, "cost_per_contact", 0, "", D(0), 150);
  g = FIND(&f, "cost_per_contact", 0, "", "", "", D(0));
  assert_true(g->numerator == 300 && g->denominator == 2);
  fx_free(&f);

  const ks_testkit_kv kv[] = {{"cost.per", "legs"}};
  fx_init(&f, kv, 1);
  feed_three_legs(f.k);
  flush(&f);
  EXPECT(&f, "cost_per_contact", 0, "", D(0), 75);
  fx_free(&f);
}

/* ---- duplicates, odd input, configuration --------------------------------------------------- */

static void test_duplicates(void **state) {
  for (int off = 0; off < 2; off++) {
    const ks_testkit_kv kv[] = {{"customer_period", "day"}, {"dedupe_window", off ? "0" : "1d"}};
    fx f;
    fx_init(&f, kv, 2);
    acw(f.k, S(100), VOICE, "sales", "c1", "u1", "a1");
    acw(f.k, S(100), VOICE, "sales", "c1", "u1", "a1"); /* the wrap-up delivered again */
    order(f.k, KS_TK_TENANT, S(200), "u1", "o1", 10, 0, "");
    order(f.k, KS_TK_TENANT, S(201), "u1", "o1", 10, 0, ""); /* repeated order id */
    tick(f.k, D(1) + 3600000);
    flush(&f);
    EXPECT(&f, "conversion_rate", VOICE, "sales", I(0), 1.0); /* 1 / 1 handled, both ways */
    EXPECT(&f, "attributed_revenue", VOICE, "sales", I(0), off ? 20 : 10);
    EXPECT_T(&f, "acme", "orders", "", D(0), off ? 2 : 1);
    fx_free(&f);
  }
}

/* Random events of every body: no plugin error, every ratio consistent. */
static void test_random_input_survives(void **state) {
  const ks_testkit_kv kv[] = {
      {"customer_period", "week"}, {"contact_ttl", "20m"}, {"per_agent", "queue"}};
  fx f;
  fx_init(&f, kv, 3);
  uint64_t x = 42;
  int64_t t = KS_TK_T0;
  char id[4][16];
  for (int i = 0; i < 6000; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    const unsigned r = (unsigned)(x >> 33);
    t += (int64_t)(r % 90) * 1000;
    for (int k = 0; k < 4; k++)
      snprintf(id[k], sizeof id[k], "%c%u", "cuoa"[k], (r >> (4 + 3 * k)) % 9);
    const char *tn = (r & 1) ? "acme" : "beta";
    const int ch = 1 + (int)((r >> 3) % 3);
    switch ((r >> 20) % 9) {
    case 0:
      ks_tk_queued(f.k, t, ch, (r & 2) ? "q1" : "", id[0], id[1]);
      break;
    case 1:
      acw(f.k, t, ch, (r & 4) ? "q1" : "", id[0], (r & 8) ? id[1] : NULL, id[3]);
      break;
    case 2:
      order(f.k, tn, t, (r & 16) ? id[1] : NULL, id[2], (double)(r % 500), 0.1 * (r % 11), "s1");
      break;
    case 3:
      reg(f.k, tn, t, id[1], (r & 2) ? "s1" : "");
      break;
    case 4:
      offer(f.k, t, id[3], id[2], (r & 2) ? "x" : "");
      break;
    case 5:
      react(f.k, t, id[2], (int)(r % 4));
      break;
    case 6:
      cost(f.k, tn, t, (r & 2) ? ch : 0, (r & 4) ? "q1" : NULL, id[1], (int)(r % 3), id[2],
           (double)(r % 1000) - 100, t - (int64_t)(r % 3) * 86400000,
           t + (int64_t)(r % 5) * 3600000);
      break;
    case 7:
      budget(f.k, tn, t, id[1], (double)(r % 1000), (r & 2) ? 0 : t - 86400000, (r & 2) ? 0 : t);
      break;
    default:
      base(f.k, tn, t, (int64_t)(r % 10000), (r & 2) ? "s1" : "all");
      break;
    }
  }
  flush(&f);
  size_t periods = 0;
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++) {
    const got *g = ks_testkit_result_at(f.k, i);
    assert_true(g->end_ms > g->start_ms);
    if (g->aggregation == KPISTREAM__V1__AGGREGATION__AGG_RATIO) {
      assert_int_equal(g->has_value, g->denominator != 0);
      if (g->has_value)
        assert_true(fabs(g->value - g->numerator / g->denominator) <=
                    1e-9 * fmax(1.0, fabs(g->value)));
    }
    periods += g->end_ms - g->start_ms > IV_MS;
  }
  assert_true(periods > 0); /* some days and weeks were emitted too */
  fx_free(&f);
}

static void expect_refused(const char *key, const char *value) {
  ks_testkit *e;
  const ks_testkit_options o = {.interval_ms = IV_MS};
  char err[512];
  assert_int_equal(ks_testkit_new(&e, &o, err, sizeof err), 0);
  const ks_testkit_kv kv[] = {{key, value}};
  int rc = ks_testkit_add_plugin(e, PLUGIN, NULL, kv, 1, err, sizeof err);
  if (rc != KS_EINVAL)
    fail_msg("%s=%s: want KS_EINVAL, got %d", key, value, rc);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(e)), 0);
  ks_testkit_free(e);
}

static void test_bad_config_refused(void **state) {
  const char *bad = /* key=value|... */
      "per_agent=yes|contact_ttl=0s|conversion.window=0|conversion.window=a day|"
      "nba.rate_denominator=presented|nba.ttl=-1h|cost.period=quarter|cost.per=agents|"
      "customer_period=quarter|period_settle=-5m|period_settle=40d|"
      "total_segment=a-segment-name-that-is-far-too-long-for-the-state-record|"
      "clv.lifespan_years=0|clv.lifespan_years=many|clv.lifespan_source=survey|"
      "clv.margin=30|clv.margin=0|clv.margin_source=product|dedupe_window=-1s|"
      "no_such_option=1|";
  while (*bad) {
    char key[64], value[96];
    const char *eq = strchr(bad, '='), *bar = strchr(bad, '|');
    snprintf(key, sizeof key, "%.*s", (int)(eq - bad), bad);
    snprintf(value, sizeof value, "%.*s", (int)(bar - eq - 1), eq + 1);
    expect_refused(key, value);
    bad = bar + 1;
  }
}

static void test_good_config_accepted(void **state) {
  const ks_testkit_kv kv[] = {{"per_agent", "agent"},
                              {"contact_ttl", "12h"},
                              {"conversion.window", "7d"},
                              {"nba.rate_denominator", "offered"},
                              {"nba.ttl", "2h"},
                              {"cost.period", "month"},
                              {"customer_period", "week"},
                              {"period_settle", "6h"},
                              {"total_segment", ""},
                              {"clv.lifespan_years", "2.5"},
                              {"clv.lifespan_source", "fixed"},
                              {"clv.margin", "0.3"},
                              {"clv.margin_source", "order"},
                              {"dedupe_window", "0"}};
  fx f;
  fx_init(&f, kv, sizeof kv / sizeof kv[0]);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(f.k)), 1);
  assert_string_equal(ks_engine_plugin_name(ks_testkit_engine(f.k), 0), "value");
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conversion),
      cmocka_unit_test(test_conversion_window_and_agents),
      cmocka_unit_test(test_nba),
      cmocka_unit_test(test_costs_day),
      cmocka_unit_test(test_cost_scopes_and_nulls),
      cmocka_unit_test(test_cost_month_and_week),
      cmocka_unit_test(test_retention_clv),
      cmocka_unit_test(test_retention_settle_and_fallback),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_legs_and_cost_per_contact),
      cmocka_unit_test(test_random_input_survives),
      cmocka_unit_test(test_bad_config_refused),
      cmocka_unit_test(test_good_config_accepted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
