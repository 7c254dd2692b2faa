/*
 * test_workforce — the workforce KPI plugin, driven through the real engine:
 * agent states, schedule segments, HR events, wrap-ups and QA evaluations
 * in; results decoded from the protobuf bytes the sink receives; values
 * asserted exactly. Every expected number is worked out by hand in the
 * comments, in minutes where the events are (ratios are the same in
 * seconds; num/den checks are in seconds).
 *
 * Times: M(m) = KS_TK_T0 + m minutes (KS_TK_T0 = 2026-11-23T00:00:00Z, a Monday);
 * I(k) is the k-th 15-minute interval from KS_TK_T0.
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

#define PLUGIN KS_TEST_PLUGIN_DIR "/kpi_workforce.so"
#define IV_MS  KS_TK_MIN(15)
#define I(k)   (KS_TK_T0 + (int64_t)(k)*IV_MS)
#define M(m)   (KS_TK_T0 + KS_TK_MIN(m))
#define DAY(d) ((int64_t)(d)*86400000)

#define AST(x) KPISTREAM__V1__AGENT_STATE__AGENT_##x
#define AUX(x) KPISTREAM__V1__AUX_REASON__AUX_##x
#define ACT(x) KPISTREAM__V1__ACTIVITY__ACTIVITY_##x
#define HR(x)  KPISTREAM__V1__HR_EVENT_TYPE__HR_##x
#define SEP(x) KPISTREAM__V1__SEPARATION_KIND__SEPARATION_##x

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
  if (ks_testkit_add_plugin(f->k, PLUGIN, NULL, kv, n, err, sizeof err) != 0)
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
    assert_string_equal(ks_testkit_result_at(f->k, i)->topic, "kpi.workforce");
}

/* The result for these dimensions ("" = none), or NULL; fails on a repeat. */
static const got *find(const fx *f, const char *metric, const char *tenant, const char *agent,
                       const char *labels, int64_t start) {
  const got *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++) {
    const got *g = ks_testkit_result_at(f->k, i);
    if (strcmp(g->metric, metric) == 0 && strcmp(g->tenant, tenant) == 0 &&
        strcmp(g->agent, agent) == 0 && strcmp(g->labels, labels) == 0 && g->start_ms == start) {
      if (hit)
        fail_msg("%s %s/%s/%s at %lld emitted twice", metric, tenant, agent, labels,
                 (long long)start);
      hit = g;
    }
  }
  return hit;
}

static int close_enough(double a, double b) {
  return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

/* mode 'v': value == a; 'n': null; 'd': numerator == a, denominator == b. */
static void check(const fx *f, const char *metric, const char *tenant, const char *agent,
                  const char *labels, int64_t start, int mode, double a, double b, const char *file,
                  int line) {
  const got *g = find(f, metric, tenant, agent, labels, start);
  if (g == NULL) {
    print_error("%s:%d: no result %s tenant=%s agent='%s' labels='%s' interval=%lld\n", file, line,
                metric, tenant, agent, labels, (long long)start);
    _fail(file, line);
  } else if ((mode == 'v' && (!g->has_value || !close_enough(g->value, a))) ||
             (mode == 'n' && g->has_value) ||
             (mode == 'd' &&
              (!close_enough(g->numerator, a) || !close_enough(g->denominator, b)))) {
    print_error("%s:%d: %s %s/%s/%s: want %c %.9g %.9g, got %s%.9g (num %.9g den %.9g)\n", file,
                line, metric, tenant, agent, labels, mode, a, b, g->has_value ? "" : "null ",
                g->value, g->numerator, g->denominator);
    _fail(file, line);
  }
}

/* Agent-level (A), team-level (T), tenant-level (N) shorthands for "acme". */
#define EXP(f, m, ag, lab, iv, v)                                                                  \
  check(f, m, KS_TK_TENANT, ag, lab, iv, 'v', v, 0, __FILE__, __LINE__)
#define EXP_T(f, m, tn, ag, lab, iv, v) check(f, m, tn, ag, lab, iv, 'v', v, 0, __FILE__, __LINE__)
#define EXP_NULL(f, m, ag, lab, iv)                                                                \
  check(f, m, KS_TK_TENANT, ag, lab, iv, 'n', 0, 0, __FILE__, __LINE__)
#define EXP_NULL_T(f, m, tn, ag, lab, iv)                                                          \
  check(f, m, tn, ag, lab, iv, 'n', 0, 0, __FILE__, __LINE__)
#define EXP_ND(f, m, ag, lab, iv, n, d)                                                            \
  check(f, m, KS_TK_TENANT, ag, lab, iv, 'd', n, d, __FILE__, __LINE__)

static size_t count_where(const fx *f, const char *agent, int64_t start) {
  size_t n = 0;
  for (size_t i = 0; i < ks_testkit_result_count(f->k); i++)
    n += strcmp((*ks_testkit_result_at(f->k, i)).agent, agent) == 0 &&
         (*ks_testkit_result_at(f->k, i)).start_ms == start;
  return n;
}

/* ---- event builders ----------------------------------------------------------- */

static Kpistream__V1__Event envelope(int64_t t, const char *tenant, const char *agent,
                                     const char *team, const char *event_id) {
  Kpistream__V1__Event ev = ks_tk_event(t, tenant, 0, NULL, NULL, NULL, agent);
  ev.team = (char *)(team ? team : "");
  ev.event_id = (char *)(event_id ? event_id : "");
  return ev;
}

static void feed(ks_testkit *e, const Kpistream__V1__Event *ev) {
  assert_int_equal(ks_testkit_feed(e, ev), KS_PROCESSED);
}

static void state_tn(ks_testkit *e, int64_t t, const char *tenant, const char *agent,
                     const char *team, int state, int aux) {
  Kpistream__V1__Event ev = envelope(t, tenant, agent, team, NULL);
  Kpistream__V1__AgentStateChanged b = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
  b.state = (Kpistream__V1__AgentState)state;
  b.aux_reason = (Kpistream__V1__AuxReason)aux;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_STATE;
  ev.agent_state = &b;
  feed(e, &ev);
}

/* The same for tenant KS_TK_TENANT: the kit's builder. */
static void state(ks_testkit *e, int64_t t, const char *agent, const char *team, int st, int aux) {
  assert_int_equal(ks_tk_agent_state(e, t, agent, team, st, aux), KS_PROCESSED);
}

/* A segment [from, to) minutes of schedule `id`, published at t. */
static void seg(ks_testkit *e, int64_t t, const char *agent, const char *team, int from, int to,
                int activity, int paid, const char *id, int rev) {
  Kpistream__V1__Event ev = envelope(t, KS_TK_TENANT, agent, team, NULL);
  Kpistream__V1__ScheduleSegment b = KPISTREAM__V1__SCHEDULE_SEGMENT__INIT;
  b.start_ms = M(from);
  b.end_ms = M(to);
  b.activity = (Kpistream__V1__Activity)activity;
  b.paid = paid;
  b.schedule_id = (char *)id;
  b.revision = rev;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SCHEDULE;
  ev.schedule = &b;
  feed(e, &ev);
}

static void hr(ks_testkit *e, int64_t t, const char *tenant, const char *team, int type, int sep,
               int headcount, const char *eid) {
  Kpistream__V1__Event ev = envelope(t, tenant, type == HR(HEADCOUNT) ? NULL : "x", team, eid);
  Kpistream__V1__HrEvent b = KPISTREAM__V1__HR_EVENT__INIT;
  b.type = (Kpistream__V1__HrEventType)type;
  b.separation = (Kpistream__V1__SeparationKind)sep;
  b.headcount = headcount;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_HR;
  ev.hr = &b;
  feed(e, &ev);
}

static void acw(ks_testkit *e, int64_t t, const char *agent, const char *team, int resolved,
                const char *eid) {
  Kpistream__V1__Event ev = envelope(t, KS_TK_TENANT, agent, team, eid);
  ev.channel = KPISTREAM__V1__CHANNEL__CHANNEL_VOICE;
  ev.contact_id = (char *)"c";
  Kpistream__V1__AfterContactWorkEnded b = KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT;
  b.resolved = resolved;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_ACW_ENDED;
  ev.acw_ended = &b;
  feed(e, &ev);
}

/* A one-section evaluation scoring points / possible; with crit_failed a
 * critical item (possible 0) failed. */
static void qa(ks_testkit *e, int64_t t, const char *agent, const char *team, double points,
               double possible, int crit_failed) {
  Kpistream__V1__Event ev = envelope(t, KS_TK_TENANT, agent, team, NULL);
  Kpistream__V1__QaItem it[2] = {KPISTREAM__V1__QA_ITEM__INIT, KPISTREAM__V1__QA_ITEM__INIT};
  Kpistream__V1__QaItem *itp[2] = {&it[0], &it[1]};
  it[0].points = points;
  it[0].possible = possible;
  it[1].critical = 1;
  it[1].failed = crit_failed;
  Kpistream__V1__QaSection s = KPISTREAM__V1__QA_SECTION__INIT;
  Kpistream__V1__QaSection *sp = &s;
  s.weight = 1;
  s.n_items = 2;
  s.items = itp;
  Kpistream__V1__QaEvaluation b = KPISTREAM__V1__QA_EVALUATION__INIT;
  b.n_sections = 1;
  b.sections = &sp;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_QA_EVALUATION;
  ev.qa_evaluation = &b;
  feed(e, &ev);
}

/* ---- the main scenario: one agent, one schedule, three intervals ------------ */

/*
 * a1 (team t1), schedule s1: on queue [0,20), break [20,30), on queue
 * [30,45), all paid. States: available 2, on contact 5, ACW 10, available
 * 12, aux break 18 (early), available 31 (late), aux technical outage 36,
 * available 40 and still available when I(2) closes (open span).
 */
static void feed_main(ks_testkit *e) {
  seg(e, M(0), "a1", "t1", 0, 20, ACT(ON_QUEUE), 1, "s1", 1);
  seg(e, M(0), "a1", "t1", 20, 30, ACT(BREAK), 1, "s1", 1);
  seg(e, M(0), "a1", "t1", 30, 45, ACT(ON_QUEUE), 1, "s1", 1);
  state(e, M(2), "a1", "t1", AST(AVAILABLE), 0);
  state(e, M(5), "a1", "t1", AST(ON_CONTACT), 0);
  state(e, M(10), "a1", "t1", AST(AFTER_CONTACT_WORK), 0);
  state(e, M(12), "a1", "t1", AST(AVAILABLE), 0);
  state(e, M(18), "a1", "t1", AST(AUX), AUX(BREAK));
  state(e, M(31), "a1", "t1", AST(AVAILABLE), 0);
  state(e, M(36), "a1", "t1", AST(AUX), AUX(TECHNICAL_OUTAGE));
  state(e, M(40), "a1", "t1", AST(AVAILABLE), 0);
}

static void test_main_interval_metrics(void **st) {
  (void)st;
  fx f;
  fx_init(&f, NULL, 0);
  feed_main(f.k);
  flush(&f);
  const char *lv[3][2] = {{"a1", ""}, {"", "team=t1"}, {"", ""}}; /* agent, team, tenant */
  for (int l = 0; l < 3; l++) {
    const char *ag = lv[l][0], *lab = lv[l][1];
    /* I(0): available [2,5)+[12,15) = 6, on contact [5,10) = 5, ACW [10,12) = 2;
     * logged in 13 of 15 scheduled on queue (not logged in [0,2)) */
    EXP(&f, "occupancy", ag, lab, I(0), 7.0 / 13.0); /* handle 7 / (7 + available 6) */
    EXP_ND(&f, "occupancy", ag, lab, I(0), 420, 780);
    EXP(&f, "utilization", ag, lab, I(0), 13.0 / 15.0); /* (7 + 6) / paid 15 */
    EXP(&f, "adherence", ag, lab, I(0), 13.0 / 15.0);   /* on queue [2,15) */
    EXP(&f, "conformance", ag, lab, I(0), 13.0 / 15.0);
    EXP(&f, "shrinkage", ag, lab, I(0), 2.0 / 15.0); /* not logged in 2 */
    EXP(&f, "shrinkage_planned", ag, lab, I(0), 0);
    EXP(&f, "shrinkage_unplanned", ag, lab, I(0), 2.0 / 15.0);
    EXP(&f, "absenteeism", ag, lab, I(0), 0);
    EXP(&f, "technical_downtime", ag, lab, I(0), 0);
    EXP(&f, "technical_downtime_share", ag, lab, I(0), 0);
    /* I(1): available [15,18) = 3, aux break [18,30) = 12; schedule: on
     * queue [15,20) = 5, break [20,30) = 10 */
    EXP(&f, "occupancy", ag, lab, I(1), 0); /* 0 / (0 + 3) */
    EXP_ND(&f, "occupancy", ag, lab, I(1), 0, 180);
    EXP(&f, "utilization", ag, lab, I(1), 3.0 / 15.0);
    /* on queue [15,18) 3 + on break [20,30) 10 */
    EXP(&f, "adherence", ag, lab, I(1), 13.0 / 15.0);
    EXP(&f, "conformance", ag, lab, I(1), 3.0 / 5.0);
    /* planned: break 10; unplanned: aux break in on-queue time [18,20) = 2 */
    EXP(&f, "shrinkage", ag, lab, I(1), 12.0 / 15.0);
    EXP(&f, "shrinkage_planned", ag, lab, I(1), 10.0 / 15.0);
    EXP(&f, "shrinkage_unplanned", ag, lab, I(1), 2.0 / 15.0);
    /* I(2): aux break [30,31) = 1, available [31,36) + [40,45) = 10 (the
     * last 5 accrued at close), technical outage [36,40) = 4 */
    EXP(&f, "occupancy", ag, lab, I(2), 0);
    EXP_ND(&f, "occupancy", ag, lab, I(2), 0, 600);
    EXP(&f, "utilization", ag, lab, I(2), 10.0 / 15.0);
    EXP(&f, "adherence", ag, lab, I(2), 10.0 / 15.0);
    EXP(&f, "conformance", ag, lab, I(2), 10.0 / 15.0);
    EXP(&f, "shrinkage", ag, lab, I(2), 5.0 / 15.0); /* aux break 1 + outage 4 */
    EXP(&f, "shrinkage_unplanned", ag, lab, I(2), 5.0 / 15.0);
    EXP(&f, "technical_downtime", ag, lab, I(2), 4.0 / 60.0); /* hours */
    EXP(&f, "technical_downtime_share", ag, lab, I(2), 4.0 / 15.0);
    EXP_ND(&f, "technical_downtime_share", ag, lab, I(2), 240, 900);
  }
  /* by reason: team and tenant only, reasons with time only */
  EXP(&f, "shrinkage_unplanned", "", "team=t1,reason=not_logged_in", I(0), 2.0 / 15.0);
  EXP(&f, "shrinkage_planned", "", "team=t1,reason=break", I(1), 10.0 / 15.0);
  EXP(&f, "shrinkage_planned", "", "reason=break", I(1), 10.0 / 15.0);
  EXP(&f, "shrinkage_unplanned", "", "team=t1,reason=aux_break", I(1), 2.0 / 15.0);
  EXP(&f, "shrinkage_unplanned", "", "reason=aux_break", I(2), 1.0 / 15.0);
  EXP(&f, "shrinkage_unplanned", "", "reason=aux_technical_outage", I(2), 4.0 / 15.0);
  assert_null(find(&f, "shrinkage_planned", KS_TK_TENANT, "", "reason=break", I(0)));
  assert_null(find(&f, "shrinkage_unplanned", KS_TK_TENANT, "", "reason=not_logged_in", I(1)));
  /* ten metrics per agent and interval, nothing after I(2) */
  assert_int_equal(count_where(&f, "a1", I(0)), 10);
  assert_int_equal(count_where(&f, "a1", I(2)), 10);
  assert_int_equal(count_where(&f, "", I(3)) + count_where(&f, "a1", I(3)), 0);

  /* result shape */
  const got *g = find(&f, "occupancy", KS_TK_TENANT, "a1", "", I(0));
  assert_string_equal(g->family, "workforce");
  assert_string_equal(g->team, "t1");
  assert_string_equal(g->unit, "ratio");
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_RATIO);
  assert_int_equal(g->count, 1);
  assert_int_equal(g->end_ms, I(1));
  char want[128];
  snprintf(want, sizeof want, "workforce/occupancy|acme|all||a1||%lld", (long long)I(0));
  assert_string_equal(g->key, want);
  g = find(&f, "occupancy", KS_TK_TENANT, "", "team=t1", I(0));
  assert_string_equal(g->team, "t1");
  snprintf(want, sizeof want, "workforce/occupancy|acme|all|||team=t1|%lld", (long long)I(0));
  assert_string_equal(g->key, want);
  g = find(&f, "technical_downtime", KS_TK_TENANT, "", "", I(2));
  assert_string_equal(g->unit, "h");
  assert_string_equal(g->team, "");
  assert_int_equal(g->aggregation, KPISTREAM__V1__AGGREGATION__AGG_SUM);
  fx_free(&f);
}

static void test_utilization_basis_and_per_agent_off(void **st) {
  (void)st;
  const ks_testkit_kv kv[] = {{"utilization.basis", "logged_in"}, {"per_agent", "false"}};
  fx f;
  fx_init(&f, kv, 2);
  feed_main(f.k);
  flush(&f);
  /* I(1): logged in 15 (available 3 + aux break 12) / paid 15 */
  EXP(&f, "utilization", "", "team=t1", I(1), 1.0);
  EXP(&f, "utilization", "", "", I(2), 1.0); /* 15 / 15 */
  EXP(&f, "utilization", "", "", I(0), 13.0 / 15.0);
  assert_int_equal(count_where(&f, "a1", I(0)), 0); /* no per-agent results */
  fx_free(&f);
}

/* ---- state that began in an interval that has closed ---------------------- */

/*
 * a2 (no team) available from 5 until 50, with no event of its own in
 * between: I(0), I(1) and I(2) close with it still available (accrued at
 * each close); at 50 the rest, [45,50), goes to I(3). a3 (team t9) keeps the
 * watermark moving and is still available when I(3) closes.
 */
static void test_state_from_closed_interval(void **st) {
  (void)st;
  fx f;
  fx_init(&f, NULL, 0);
  state(f.k, M(5), "a2", "", AST(AVAILABLE), 0);
  state(f.k, M(20), "a3", "t9", AST(AVAILABLE), 0);
  state(f.k, M(35), "a3", "t9", AST(AVAILABLE), 0); /* same state again: no change */
  state(f.k, M(50), "a2", "", AST(ON_CONTACT), 0);
  state(f.k, M(55), "a2", "", AST(LOGGED_OUT), 0);
  flush(&f);
  EXP_ND(&f, "occupancy", "a2", "", I(0), 0, 600); /* available [5,15) */
  EXP_ND(&f, "occupancy", "a2", "", I(1), 0, 900);
  EXP_ND(&f, "occupancy", "a2", "", I(2), 0, 900);
  EXP(&f, "occupancy", "a2", "", I(3), 0.5); /* on contact 5 / (5 + available [45,50) 5) */
  EXP_ND(&f, "occupancy", "a2", "", I(3), 300, 600);
  /* no schedule: every schedule-based ratio has no value */
  EXP_NULL(&f, "utilization", "a2", "", I(0));
  EXP_NULL(&f, "adherence", "a2", "", I(0));
  EXP_NULL(&f, "conformance", "a2", "", I(0));
  EXP_NULL(&f, "shrinkage", "a2", "", I(0));
  EXP_NULL(&f, "shrinkage_planned", "a2", "", I(0));
  EXP_NULL(&f, "shrinkage_unplanned", "a2", "", I(0));
  EXP_NULL(&f, "absenteeism", "a2", "", I(0));
  EXP(&f, "technical_downtime_share", "a2", "", I(0), 0); /* 0 / 600 */
  EXP_ND(&f, "occupancy", "a3", "", I(1), 0, 600);        /* [20,30) */
  EXP_ND(&f, "occupancy", "a3", "", I(3), 0, 900);        /* open at close */
  /* tenant I(3): 300 / (a2 600 + a3 900) */
  EXP(&f, "occupancy", "", "", I(3), 0.2);
  EXP(&f, "occupancy", "", "team=t9", I(3), 0);
  /* a2 has no team: in the tenant's sums, no team-level result of its own */
  EXP_ND(&f, "occupancy", "", "", I(0), 0, 600);
  assert_null(find(&f, "occupancy", KS_TK_TENANT, "", "team=", I(0)));
  assert_null(find(&f, "occupancy", KS_TK_TENANT, "", "team=t9", I(0)));
  fx_free(&f);
}

/* Lateness 20 min: several intervals open, a stale state change ignored. */
static void test_out_of_order_and_odd_input(void **st) {
  (void)st;
  fx f;
  fx_init_lat(&f, NULL, 0, KS_TK_MIN(20));
  state(f.k, M(0), "a1", "t1", AST(AVAILABLE), 0);
  state(f.k, M(10), "a1", "t1", AST(ON_CONTACT), 0);
  state(f.k, M(5), "a1", "t1", AST(AUX), AUX(BREAK)); /* older than the state of 10: ignored */
  state(f.k, M(20), "a1", "t1", AST(LOGGED_OUT), 0);  /* accrues [10,20) over I(0) and I(1) */
  state(f.k, M(21), "a1", "t1", 0, 0);                /* unspecified: no information */
  state(f.k, M(22), "", "t1", AST(AVAILABLE), 0);     /* no agent: ignored */
  flush(&f);
  /* I(0): available [0,10) 10, on contact [10,15) 5 */
  EXP(&f, "occupancy", "a1", "", I(0), 5.0 / 15.0);
  EXP_ND(&f, "occupancy", "a1", "", I(0), 300, 900);
  EXP(&f, "occupancy", "a1", "", I(1), 1.0); /* on contact [15,20) 5 / 5 */
  EXP_ND(&f, "technical_downtime_share", "a1", "", I(1), 0, 300);
  EXP_NULL(&f, "conformance", "a1", "", I(1));     /* no schedule */
  assert_int_equal(count_where(&f, "", I(0)), 20); /* team + tenant, 10 each */
  fx_free(&f);
}

/* ---- tolerance, absence, leave, revisions ------------------------------------ */

/*
 * Team t2, I(0), start tolerance 2 min, end tolerance 1 min:
 *   b1: schedule d1 revision 1 on queue [0,15), replaced by revision 2
 *       unplanned absence [0,15); revision 1 sent again afterwards (stale).
 *   b2: planned leave [0,15).
 *   b3: on queue [0,10) paid, lunch [10,15) unpaid; available 1, aux lunch 8.
 * b3 adherence: on queue core [2,9) ∩ available [1,8) = 6, lunch core
 * [12,14) ∩ lunch = 2, tolerance zones [0,2) [9,10) [10,12) [14,15) = 6:
 * 14 / 15 (strict: available [1,8) 7 + lunch [10,15) 5 = 12 / 15).
 * b3 shrinkage: aux lunch in on-queue time [8,10) = 2, not logged in [0,1)
 * = 1; paid 10 (the lunch is unpaid).
 */
static void feed_t2(ks_testkit *e) {
  seg(e, M(0), "b1", "t2", 0, 15, ACT(ON_QUEUE), 1, "d1", 1);
  seg(e, M(0), "b1", "t2", 0, 15, ACT(UNPLANNED_ABSENCE), 1, "d1", 2);
  seg(e, M(0), "b1", "t2", 0, 15, ACT(ON_QUEUE), 1, "d1", 1); /* stale */
  seg(e, M(0), "b2", "t2", 0, 15, ACT(PLANNED_LEAVE), 1, "d2", 1);
  seg(e, M(0), "b3", "t2", 0, 10, ACT(ON_QUEUE), 1, "d3", 1);
  seg(e, M(0), "b3", "t2", 10, 15, ACT(LUNCH), 0, "d3", 1);
  state(e, M(1), "b3", "t2", AST(AVAILABLE), 0);
  state(e, M(8), "b3", "t2", AST(AUX), AUX(LUNCH));
}

/*
 * Utilization never exceeds 1 (issue 11). Team t3, I(0):
 *   w1: paid on queue [0,10), unpaid lunch [10,15); available [0,15) (works
 *       through the lunch): productive in paid time 10 of paid 10 -> 1
 *       (counting all productive time gave 15 / 10 = 1.5).
 *   w2: no schedule, available [0,15): paid 0 -> no value; adds 0 to the
 *       team (it added 15 productive minutes to a 10-minute denominator).
 *   team t3 = 10 / 10 = 1 (was (15 + 15) / 10 = 3).
 */
static void test_utilization_within_paid_time(void **st) {
  (void)st;
  fx f;
  fx_init(&f, NULL, 0);
  seg(f.k, M(0), "w1", "t3", 0, 10, ACT(ON_QUEUE), 1, "u1", 1);
  seg(f.k, M(0), "w1", "t3", 10, 15, ACT(LUNCH), 0, "u1", 1);
  state(f.k, M(0), "w1", "t3", AST(AVAILABLE), 0);
  state(f.k, M(0), "w2", "t3", AST(AVAILABLE), 0);
  state(f.k, M(20), "w1", "t3", AST(LOGGED_OUT), 0);
  state(f.k, M(20), "w2", "t3", AST(LOGGED_OUT), 0);
  flush(&f);
  EXP_ND(&f, "utilization", "w1", "", I(0), 600, 600);
  EXP_ND(&f, "utilization", "w2", "", I(0), 0, 0);
  EXP_NULL(&f, "utilization", "w2", "", I(0));
  EXP_ND(&f, "utilization", "", "team=t3", I(0), 600, 600);
  EXP(&f, "utilization", "", "team=t3", I(0), 1.0);
  fx_free(&f);
}

static void test_tolerance_absence_leave(void **st) {
  (void)st;
  const ks_testkit_kv kv[] = {{"adherence.start_tolerance", "2m"},
                              {"adherence.end_tolerance", "60s"}};
  fx f;
  fx_init(&f, kv, 2);
  feed_t2(f.k);
  flush(&f);
  const int64_t i0 = I(0);
  EXP(&f, "adherence", "b3", "", i0, 14.0 / 15.0);
  EXP(&f, "utilization", "b3", "", i0, 0.7); /* available 7 / paid 10 */
  EXP_ND(&f, "occupancy", "b3", "", i0, 0, 420);
  EXP(&f, "conformance", "b3", "", i0, 0.7);
  EXP(&f, "shrinkage", "b3", "", i0, 0.3); /* (2 + 1) / 10 */
  EXP(&f, "shrinkage_planned", "b3", "", i0, 0);
  EXP(&f, "absenteeism", "b3", "", i0, 0);
  /* b1: absent all interval; the stale revision 1 was refused (paid 15, not 30) */
  EXP_NULL(&f, "adherence", "b1", "", i0);
  EXP_NULL(&f, "conformance", "b1", "", i0);
  EXP_NULL(&f, "occupancy", "b1", "", i0);
  EXP_ND(&f, "utilization", "b1", "", i0, 0, 900);
  EXP(&f, "shrinkage_unplanned", "b1", "", i0, 1.0);
  EXP(&f, "absenteeism", "b1", "", i0, 1.0);
  EXP_NULL(&f, "technical_downtime_share", "b1", "", i0);
  /* b2: on leave: planned shrinkage; absenteeism 0 / (15 - 15 leave) */
  EXP(&f, "shrinkage_planned", "b2", "", i0, 1.0);
  EXP(&f, "utilization", "b2", "", i0, 0);
  EXP_NULL(&f, "absenteeism", "b2", "", i0);
  /* team t2: paid 10 + 15 + 15 = 40 */
  const char *T = "team=t2";
  EXP(&f, "utilization", "", T, i0, 7.0 / 40.0);
  EXP(&f, "adherence", "", T, i0, 14.0 / 15.0); /* b3 only: leave and absence are not judged */
  EXP(&f, "conformance", "", T, i0, 0.7);
  EXP(&f, "shrinkage", "", T, i0, 33.0 / 40.0); /* leave 15 + absence 15 + 2 + 1 */
  EXP(&f, "shrinkage_planned", "", T, i0, 15.0 / 40.0);
  EXP(&f, "shrinkage_unplanned", "", T, i0, 18.0 / 40.0);
  EXP(&f, "absenteeism", "", T, i0, 0.6); /* 15 / (40 - 15 leave) */
  EXP_ND(&f, "absenteeism", "", T, i0, 900, 1500);
  EXP(&f, "occupancy", "", T, i0, 0);
  EXP(&f, "shrinkage_planned", "", "team=t2,reason=planned_leave", i0, 15.0 / 40.0);
  EXP(&f, "shrinkage_unplanned", "", "team=t2,reason=absence", i0, 15.0 / 40.0);
  EXP(&f, "shrinkage_unplanned", "", "team=t2,reason=not_logged_in", i0, 1.0 / 40.0);
  EXP(&f, "shrinkage_unplanned", "", "team=t2,reason=aux_lunch", i0, 2.0 / 40.0);
  assert_int_equal(find(&f, "adherence", KS_TK_TENANT, "", T, i0)->count, 3);
  fx_free(&f);

  fx_init(&f, NULL, 0); /* no tolerance */
  feed_t2(f.k);
  flush(&f);
  EXP(&f, "adherence", "b3", "", i0, 12.0 / 15.0);
  fx_free(&f);
}

/* The worked example of docs/metrics.md (Schedule adherence): a paid
 * ON_QUEUE segment [0, 30) minutes; the agent is available [0, 10), then
 * logged out. Time in a tolerance zone counts once, whether or not the agent
 * was in the scheduled state (union, not sum):
 *   strict             I(0) 600 / 900   I(1)   0 / 900
 *   start 5m           I(0) 600 / 900   ([0,5) was adherent anyway; not 900)
 *                      I(1)   0 / 900
 *   end 5m             I(0) 600 / 900   I(1) 300 / 900  ([25,30))
 *   start 5m + end 5m  I(0) 600 / 900   I(1) 300 / 900 */
static void test_adherence_tolerance_example(void **st) {
  (void)st;
  static const struct {
    const char *start, *end;
    double i1;
  } cases[] = {{"0s", "0s", 0}, {"5m", "0s", 0}, {"0s", "5m", 300}, {"5m", "5m", 300}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const ks_testkit_kv kv[] = {{"adherence.start_tolerance", cases[i].start},
                                {"adherence.end_tolerance", cases[i].end}};
    fx f;
    fx_init(&f, kv, 2);
    seg(f.k, M(0), "c1", "t3", 0, 30, ACT(ON_QUEUE), 1, "d9", 1);
    state(f.k, M(0), "c1", "t3", AST(AVAILABLE), 0);
    state(f.k, M(10), "c1", "t3", AST(LOGGED_OUT), 0);
    state(f.k, M(31), "z9", "t9", AST(AVAILABLE), 0); /* event time reaches I(2) */
    flush(&f);
    EXP_ND(&f, "adherence", "c1", "", I(0), 600, 900);
    EXP_ND(&f, "adherence", "c1", "", I(1), cases[i].i1, 900);
    fx_free(&f);
  }
}

/* 32 segments are kept per agent: f1 gets 33 one-minute on-queue segments
 * [k, k+1), k = 0..32, in order (the 33rd, farthest ahead, is refused); f2
 * the same in reverse order ([0,1), sent last, evicts [32,33)). */
static void test_schedule_capacity(void **st) {
  (void)st;
  fx f;
  fx_init(&f, NULL, 0);
  for (int k = 0; k <= 32; k++) {
    seg(f.k, M(0), "f1", "t3", k, k + 1, ACT(ON_QUEUE), 1, "c1", 1);
    seg(f.k, M(0), "f2", "t3", 32 - k, 33 - k, ACT(ON_QUEUE), 1, "c2", 1);
  }
  state(f.k, M(40), "x", "t0", AST(LOGGED_OUT), 0); /* moves time to I(2) */
  flush(&f);
  EXP_ND(&f, "utilization", "f1", "", I(0), 0, 900); /* [0,15) */
  EXP_ND(&f, "utilization", "f1", "", I(2), 0, 120); /* [30,32): [32,33) was refused */
  EXP_ND(&f, "utilization", "f2", "", I(2), 0, 120); /* [30,32): [32,33) was evicted */
  EXP(&f, "shrinkage_unplanned", "", "team=t3,reason=not_logged_in", I(2), 1.0);
  fx_free(&f);
}

/* ---- proficiency ---------------------------------------------------------------- */

/*
 * Team t1, day 0. Handle time from states, handled/resolved from wrap-ups,
 * QA from evaluations:
 *   p1: on contact [0,4) + ACW [4,6) = 360 s, 2 handled (both resolved; one
 *       wrap-up arrives twice), QA 0.9 → AHT 180, FCR 1
 *   p2: [10,18) + [18,20) = 600 s, 2 handled, 1 resolved, QA 0.6 and an
 *       auto-failed evaluation (0) → AHT 300, FCR 0.5, QA 0.3
 *   p3: QA 0.5 only: (4×0.25 + 2×0.75) / (5×0.25 + 5×0.75); an N/A item and a
 *       section of weight 0 do not count
 * Team: AHT 960 / 4 = 240, FCR 3 / 4 = 0.75, QA (0.9 + 0.6 + 0 + 0.5) / 4 = 0.5
 */
static void qa_weighted(ks_testkit *e, int64_t t, const char *agent, const char *team) {
  Kpistream__V1__Event ev = envelope(t, KS_TK_TENANT, agent, team, NULL);
  Kpistream__V1__QaItem it[4] = {KPISTREAM__V1__QA_ITEM__INIT, KPISTREAM__V1__QA_ITEM__INIT,
                                 KPISTREAM__V1__QA_ITEM__INIT, KPISTREAM__V1__QA_ITEM__INIT};
  Kpistream__V1__QaItem *a[1] = {&it[0]}, *b[2] = {&it[1], &it[2]}, *c[1] = {&it[3]};
  it[0].points = 4, it[0].possible = 5;
  it[1].points = 2, it[1].possible = 5;
  /* N/A: not scored, and its failed critical flag does not auto-fail */
  it[2].possible = 5, it[2].not_applicable = 1, it[2].critical = 1, it[2].failed = 1;
  it[3].possible = 5; /* 0 of 5 in a section of weight 0: counts 0 */
  Kpistream__V1__QaSection s[3] = {KPISTREAM__V1__QA_SECTION__INIT, KPISTREAM__V1__QA_SECTION__INIT,
                                   KPISTREAM__V1__QA_SECTION__INIT};
  Kpistream__V1__QaSection *sp[3] = {&s[0], &s[1], &s[2]};
  s[0].weight = 0.25, s[0].n_items = 1, s[0].items = a;
  s[1].weight = 0.75, s[1].n_items = 2, s[1].items = b;
  s[2].weight = 0, s[2].n_items = 1, s[2].items = c;
  Kpistream__V1__QaEvaluation q = KPISTREAM__V1__QA_EVALUATION__INIT;
  q.n_sections = 3;
  q.sections = sp;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_QA_EVALUATION;
  ev.qa_evaluation = &q;
  feed(e, &ev);
}

static void feed_day(ks_testkit *e) {
  state(e, M(0), "p1", "t1", AST(ON_CONTACT), 0);
  state(e, M(4), "p1", "t1", AST(AFTER_CONTACT_WORK), 0);
  acw(e, M(5), "p1", "t1", 1, "e1");
  acw(e, M(5), "p1", "t1", 1, "e1"); /* duplicate */
  state(e, M(6), "p1", "t1", AST(AVAILABLE), 0);
  acw(e, M(6), "p1", "t1", 1, "e2");
  qa(e, M(7), "p1", "t1", 9, 10, 0);
  state(e, M(10), "p2", "t1", AST(ON_CONTACT), 0);
  state(e, M(18), "p2", "t1", AST(AFTER_CONTACT_WORK), 0);
  acw(e, M(19), "p2", "t1", 1, "e3");
  state(e, M(20), "p2", "t1", AST(AVAILABLE), 0);
  acw(e, M(20), "p2", "t1", 0, "e4");
  state(e, M(21), "p2", "t1", AST(LOGGED_OUT), 0);
  qa(e, M(22), "p2", "t1", 6, 10, 0);
  qa(e, M(23), "p2", "t1", 10, 10, 1);              /* critical item failed */
  qa_weighted(e, M(24), "p3", "t1");                /* (4×0.25 + 2×0.75) / (5×0.25 + 5×0.75) */
  state(e, M(1445), "z", "t0", AST(LOGGED_OUT), 0); /* day 1: day 0 closes */
}

static void test_proficiency(void **st) {
  (void)st;
  fx f;
  fx_init(&f, NULL, 0);
  feed_day(f.k);
  flush(&f);
  const int64_t d0 = KS_TK_T0;
  /* p1: (240/180 + 1/0.75 + 0.9/0.5) / 3 = (4/3 + 4/3 + 9/5) / 3 = 67/45 */
  EXP(&f, "proficiency", "p1", "", d0, 67.0 / 45.0);
  EXP(&f, "proficiency_aht_index", "p1", "", d0, 4.0 / 3.0);
  EXP_ND(&f, "proficiency_aht_index", "p1", "", d0, 240, 180); /* team AHT / agent AHT */
  EXP(&f, "proficiency_fcr_index", "p1", "", d0, 4.0 / 3.0);
  EXP(&f, "proficiency_qa_index", "p1", "", d0, 1.8);
  /* p2: (240/300 + 0.5/0.75 + 0.3/0.5) / 3 = (4/5 + 2/3 + 3/5) / 3 = 31/45 */
  EXP(&f, "proficiency", "p2", "", d0, 31.0 / 45.0);
  EXP(&f, "proficiency_aht_index", "p2", "", d0, 0.8);
  EXP(&f, "proficiency_fcr_index", "p2", "", d0, 2.0 / 3.0);
  EXP(&f, "proficiency_qa_index", "p2", "", d0, 0.6);
  /* p3: QA only: 0.5 / 0.5 */
  EXP(&f, "proficiency", "p3", "", d0, 1.0);
  EXP_NULL(&f, "proficiency_aht_index", "p3", "", d0);
  EXP_NULL(&f, "proficiency_fcr_index", "p3", "", d0);
  EXP(&f, "proficiency_qa_index", "p3", "", d0, 1.0);
  const got *g = find(&f, "proficiency", KS_TK_TENANT, "p1", "", d0);
  assert_int_equal(g->end_ms, d0 + DAY(1));
  assert_string_equal(g->unit, "score");
  assert_string_equal(g->team, "t1");
  assert_int_equal(g->count, 3); /* 2 handled + 1 evaluation */
  assert_null(find(&f, "proficiency", KS_TK_TENANT, "z", "", d0));
  assert_null(find(&f, "proficiency", KS_TK_TENANT, "", "team=t1", d0));
  fx_free(&f);

  /* weights 2/1/0 and no auto-fail: QA team (0.9 + 0.6 + 1 + 0.5) / 4 = 0.75 */
  const ks_testkit_kv kv[] = {{"proficiency.weight.aht", "2"},
                              {"proficiency.weight.fcr", "1"},
                              {"proficiency.weight.qa", "0"},
                              {"proficiency.qa_auto_fail", "false"}};
  fx_init(&f, kv, 4);
  feed_day(f.k);
  flush(&f);
  EXP(&f, "proficiency", "p1", "", d0, 4.0 / 3.0);            /* (2×4/3 + 4/3) / 3 */
  EXP(&f, "proficiency", "p2", "", d0, 34.0 / 45.0);          /* (2×4/5 + 2/3) / 3 */
  EXP_NULL(&f, "proficiency", "p3", "", d0);                  /* only QA, weighted 0 */
  EXP(&f, "proficiency_qa_index", "p2", "", d0, 16.0 / 15.0); /* (0.6 + 1) / 2 / 0.75 */
  EXP(&f, "proficiency_qa_index", "p1", "", d0, 1.2);
  fx_free(&f);
}

/* ---- attrition ---------------------------------------------------------------------- */

/*
 * November 30 (D7) to the close of the month (Dec 1 = D8):
 *   team v: headcount 10 at 00:00, voluntary separation 10:00 (sent twice),
 *           involuntary 11:00, hire 12:00 → closing 9, average (10 + 9) / 2
 *   team d: hire 09:00 before any snapshot, headcount 5 at 10:00 → opening
 *           5 - 1 = 4, closing 5, average 4.5
 *   no team: a separation (tenant sums only, no headcount)
 *   tenant beta, team x: a separation, no headcount → no value
 */
static void feed_month(ks_testkit *e) {
  const int64_t d7 = KS_TK_T0 + DAY(7), h = KS_TK_MIN(60);
  hr(e, d7, "acme", "v", HR(HEADCOUNT), 0, 10, "h1");
  hr(e, d7 + 9 * h, "acme", "d", HR(HIRE), 0, 0, "h2");
  hr(e, d7 + 10 * h, "acme", "v", HR(SEPARATION), SEP(VOLUNTARY), 0, "h3");
  hr(e, d7 + 10 * h, "acme", "v", HR(SEPARATION), SEP(VOLUNTARY), 0, "h3"); /* duplicate */
  hr(e, d7 + 10 * h, "acme", "d", HR(HEADCOUNT), 0, 5, "h4");
  hr(e, d7 + 11 * h, "acme", "v", HR(SEPARATION), SEP(INVOLUNTARY), 0, "h5");
  hr(e, d7 + 12 * h, "acme", "v", HR(HIRE), 0, 0, "h6");
  hr(e, d7 + 13 * h, "acme", "", HR(SEPARATION), 0, 0, "h7");
  hr(e, d7 + 13 * h, "beta", "x", HR(SEPARATION), SEP(VOLUNTARY), 0, "h8");
  state(e, KS_TK_T0 + DAY(8) + KS_TK_MIN(5), "z", "t0", AST(LOGGED_OUT), 0);
}

static void test_attrition(void **st) {
  (void)st;
  fx f;
  fx_init(&f, NULL, 0);
  feed_month(f.k);
  flush(&f);
  const int64_t nov = KS_TK_T0 - DAY(22); /* 2026-11-01T00:00:00Z */
  EXP(&f, "attrition", "", "team=v", nov, 2.0 / 9.5);
  EXP_ND(&f, "attrition", "", "team=v", nov, 2, 9.5);
  EXP(&f, "attrition_voluntary", "", "team=v", nov, 1.0 / 9.5);
  EXP(&f, "attrition_involuntary", "", "team=v", nov, 1.0 / 9.5);
  EXP(&f, "attrition_annualised", "", "team=v", nov, 24.0 / 9.5);
  EXP(&f, "separations", "", "team=v", nov, 2);
  EXP(&f, "hires", "", "team=v", nov, 1);
  EXP_ND(&f, "attrition", "", "team=d", nov, 0, 4.5);
  EXP(&f, "hires", "", "team=d", nov, 1);
  /* tenant: separations of teams with a headcount / 9.5 + 4.5 */
  EXP(&f, "attrition", "", "", nov, 2.0 / 14.0);
  EXP(&f, "separations", "", "", nov, 3); /* every separation */
  EXP(&f, "hires", "", "", nov, 2);
  assert_null(find(&f, "attrition", KS_TK_TENANT, "", "team=", nov));
  EXP_T(&f, "separations", "beta", "", "team=x", nov, 1);
  EXP_NULL_T(&f, "attrition", "beta", "", "team=x", nov);
  EXP_NULL_T(&f, "attrition", "beta", "", "", nov);
  const got *g = find(&f, "attrition", KS_TK_TENANT, "", "team=v", nov);
  assert_int_equal(g->end_ms, KS_TK_T0 + DAY(8));
  assert_string_equal(g->team, "v");
  fx_free(&f);

  /* daily mean: team v sampled once (9 at the close of Nov 30), d 5 */
  const ks_testkit_kv kv[] = {{"attrition.headcount", "daily_mean"}};
  fx_init(&f, kv, 1);
  feed_month(f.k);
  flush(&f);
  EXP(&f, "attrition", "", "team=v", nov, 2.0 / 9.0);
  EXP_ND(&f, "attrition", "", "team=d", nov, 0, 5);
  EXP(&f, "attrition", "", "", nov, 2.0 / 14.0);
  fx_free(&f);
}

/* ---- tenants and teams -------------------------------------------------------------- */

static void test_tenants_and_teams(void **st) {
  (void)st;
  fx f;
  fx_init(&f, NULL, 0);
  state_tn(f.k, M(0), "acme", "a1", "t1", AST(AVAILABLE), 0);
  state_tn(f.k, M(0), "acme", "a2", "t2", AST(ON_CONTACT), 0);
  state_tn(f.k, M(0), "acme", "a3", "", AST(AVAILABLE), 0);
  state_tn(f.k, M(0), "beta", "a1", "t1", AST(AVAILABLE), 0);
  flush(&f);
  EXP(&f, "occupancy", "", "", I(0), 1.0 / 3.0); /* acme: 15 / (15 + 15 + 15) */
  EXP(&f, "occupancy", "", "team=t1", I(0), 0);
  EXP(&f, "occupancy", "", "team=t2", I(0), 1.0);
  EXP(&f, "occupancy", "a2", "", I(0), 1.0);
  EXP_T(&f, "occupancy", "beta", "", "", I(0), 0);
  EXP_T(&f, "occupancy", "beta", "a1", "", I(0), 0);
  assert_int_equal(find(&f, "occupancy", KS_TK_TENANT, "", "", I(0))->count, 3);
  fx_free(&f);
}

/* Random states, segments, HR events, wrap-ups and evaluations (some late,
 * some rejected by the host): no plugin error, no crash, bounded ratios. */
static void test_random_input_survives(void **st) {
  (void)st;
  static const char *const ags[] = {"r1", "r2", "r3", "r4", ""}, *const teams[] = {"u", "v", ""};
  fx f;
  fx_init_lat(&f, NULL, 0, KS_TK_MIN(10));
  uint64_t x = UINT64_C(88172645463325252);
  for (int i = 0; i < 4000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const int64_t t = M(i / 8) + (int64_t)(x % 600000) - 300000; /* ±5 min jitter */
    const char *ag = ags[(x >> 8) % 5], *tm = teams[(x >> 12) % 3];
    int from = (int)((x >> 16) % 1500), len = (int)((x >> 28) % 120);
    switch ((x >> 40) % 6) {
    case 0:
    case 1: {
      Kpistream__V1__Event ev = envelope(t, KS_TK_TENANT, ag, tm, NULL);
      Kpistream__V1__AgentStateChanged b = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
      b.state = (Kpistream__V1__AgentState)((x >> 44) % 6);
      b.aux_reason = (Kpistream__V1__AuxReason)((x >> 48) % 9);
      ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_STATE;
      ev.agent_state = &b;
      ks_testkit_feed(f.k, &ev);
      break;
    }
    case 2:
      if (ag[0] && t > M(0))
        seg(f.k, t, ag, tm, from, from + len, (int)((x >> 44) % 10), (int)((x >> 50) & 1),
            (x >> 52) & 1 ? "a" : "b", (int)((x >> 54) % 3));
      break;
    case 3: {
      Kpistream__V1__Event ev = envelope(t, KS_TK_TENANT, "x", tm, (x >> 44) & 1 ? "dup" : NULL);
      Kpistream__V1__HrEvent b = KPISTREAM__V1__HR_EVENT__INIT;
      b.type = (Kpistream__V1__HrEventType)((x >> 46) % 4);
      b.separation = (Kpistream__V1__SeparationKind)((x >> 50) % 3);
      b.headcount = (int32_t)((x >> 52) % 50);
      ev.body_case = KPISTREAM__V1__EVENT__BODY_HR;
      ev.hr = &b;
      ks_testkit_feed(f.k, &ev);
      break;
    }
    case 4:
      if (ag[0] && t > M(0))
        acw(f.k, t, ag, tm, (int)((x >> 44) & 1), NULL);
      break;
    default:
      if (ag[0] && t > M(0))
        qa(f.k, t, ag, tm, (double)((x >> 44) % 11), 10, (int)((x >> 50) % 7 == 0));
      break;
    }
  }
  flush(&f);
  assert_true(ks_testkit_result_count(f.k) > 0);
  for (size_t i = 0; i < ks_testkit_result_count(f.k); i++) {
    const got *g = ks_testkit_result_at(f.k, i);
    if (!g->has_value)
      continue;
    if (!isfinite(g->value) || g->value < 0)
      fail_msg("%s = %g", g->key, g->value);
    if ((strcmp(g->metric, "occupancy") == 0 || strcmp(g->metric, "adherence") == 0 ||
         strcmp(g->metric, "absenteeism") == 0 ||
         strcmp(g->metric, "technical_downtime_share") == 0) &&
        g->value > 1.0 + 1e-12)
      fail_msg("%s = %g > 1", g->key, g->value);
  }
  fx_free(&f);
}

/* ---- configuration ---------------------------------------------------------------- */

/* The plugin refuses this configuration. */
static void expect_refused_kv(const ks_testkit_kv *kv, size_t n) {
  ks_testkit *e;
  const ks_testkit_options o = {.interval_ms = IV_MS};
  char err[512];
  assert_int_equal(ks_testkit_new(&e, &o, err, sizeof err), 0);
  int rc = ks_testkit_add_plugin(e, PLUGIN, NULL, kv, n, err, sizeof err);
  if (rc != KS_EINVAL)
    fail_msg("%s=%s: want KS_EINVAL, got %d", kv[0].key, kv[0].value, rc);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(e)), 0);
  ks_testkit_free(e);
}

static void expect_refused(const char *key, const char *value) {
  const ks_testkit_kv kv[] = {{key, value}};
  expect_refused_kv(kv, 1);
}

static void test_bad_config_refused(void **st) {
  (void)st;
  expect_refused("per_agent", "sometimes");
  expect_refused("agent_ttl", "0s");
  expect_refused("agent_ttl", "long");
  expect_refused("utilization.basis", "paid");
  expect_refused("adherence.start_tolerance", "soon");
  expect_refused("adherence.end_tolerance", "-1m");
  expect_refused("proficiency.weight.aht", "-1");
  expect_refused("proficiency.weight.fcr", "heavy");
  expect_refused("proficiency.qa_auto_fail", "perhaps");
  expect_refused("attrition.headcount", "average");
  expect_refused("attrition.annualise", "simple"); /* not an option */
  const ks_testkit_kv zero[] = {{"proficiency.weight.aht", "0"},
                                {"proficiency.weight.fcr", "0"},
                                {"proficiency.weight.qa", "0"}};
  expect_refused_kv(zero, 3);
}

static void test_good_config_accepted(void **st) {
  (void)st;
  const ks_testkit_kv kv[] = {{"per_agent", "true"},
                              {"agent_ttl", "12h"},
                              {"utilization.basis", "productive"},
                              {"adherence.start_tolerance", "1m"},
                              {"adherence.end_tolerance", "30s"},
                              {"proficiency.weight.aht", "0.5"},
                              {"proficiency.weight.fcr", "0.25"},
                              {"proficiency.weight.qa", "0.25"},
                              {"proficiency.qa_auto_fail", "true"},
                              {"attrition.headcount", "start_end"}};
  fx f;
  fx_init(&f, kv, sizeof kv / sizeof kv[0]);
  assert_int_equal(ks_engine_plugin_count(ks_testkit_engine(f.k)), 1);
  assert_string_equal(ks_engine_plugin_name(ks_testkit_engine(f.k), 0), "workforce");
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_main_interval_metrics),
      cmocka_unit_test(test_utilization_basis_and_per_agent_off),
      cmocka_unit_test(test_utilization_within_paid_time),
      cmocka_unit_test(test_state_from_closed_interval),
      cmocka_unit_test(test_out_of_order_and_odd_input),
      cmocka_unit_test(test_tolerance_absence_leave),
      cmocka_unit_test(test_schedule_capacity),
      cmocka_unit_test(test_proficiency),
      cmocka_unit_test(test_attrition),
      cmocka_unit_test(test_tenants_and_teams),
      cmocka_unit_test(test_random_input_survives),
      cmocka_unit_test(test_bad_config_refused),
      cmocka_unit_test(test_good_config_accepted),
      cmocka_unit_test(test_adherence_tolerance_example),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
