/* Decoder: valid events decode once into the arena; every kind of bad
 * input is refused with a reason, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decoder.h"
#include "engine.h"
#include "testkit_engine.h"

static const Kpistream__V1__Event *decode(ks_arena *a, const Kpistream__V1__Event *ev,
                                          char *reason) {
  uint8_t buf[1024];
  size_t n = ks_tk_pack(ev, buf, sizeof buf);
  ks_arena_reset(a);
  return ks_decode_event(a, buf, n, reason, 128);
}

static void valid_event_round_trips(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = ks_tk_event(KS_TK_T0, "acme", 2, "support", "c1", "u1", "ag1");
  Kpistream__V1__ContactQueued q = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  q.reason_code = "billing";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  char reason[128] = "";
  const Kpistream__V1__Event *d = decode(&a, &ev, reason);
  assert_non_null(d);
  assert_string_equal(d->tenant, "acme");
  assert_int_equal(d->channel, KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL);
  assert_string_equal(d->contact_queued->reason_code, "billing");
  assert_true(a.used_total > 0);
  assert_string_equal(ks_body_name(KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED), "contact_queued");
  assert_null(ks_body_name(1)); /* event_id is not a body */
  ks_arena_free(&a);
}

static void invalid_events_are_refused(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  char reason[128];
  Kpistream__V1__ContactQueued q = KPISTREAM__V1__CONTACT_QUEUED__INIT;

  Kpistream__V1__Event ev = ks_tk_event(KS_TK_T0, "", 1, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "missing tenant");

  ev = ks_tk_event(1000, "acme", 1, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "event_time_ms 1000 outside 2000-01-01..2100-01-01");

  ev = ks_tk_event(KS_TK_T0, "acme", 9, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "channel 9 not a known Channel");

  Kpistream__V1__SurveyResponse s = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  s.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT;
  s.scale_min = 1;
  s.scale_max = 5;
  s.score = 6;
  ev = ks_tk_event(KS_TK_T0, "acme", 1, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &s;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "survey.score 6 outside scale 1-5");

  Kpistream__V1__SentimentScore se = KPISTREAM__V1__SENTIMENT_SCORE__INIT;
  se.overall = 1.5;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SENTIMENT;
  ev.sentiment = &se;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "sentiment.overall 1.5 outside -1..1");
  ks_arena_free(&a);
}

static void garbage_and_truncation_are_refused(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  char reason[128];
  assert_null(ks_decode_event(&a, NULL, 0, reason, sizeof reason));
  assert_string_equal(reason, "empty message");
  const uint8_t junk[] = "this is not protobuf at all";
  assert_null(ks_decode_event(&a, junk, sizeof junk - 1, reason, sizeof reason));
  assert_non_null(strstr(reason, "protobuf decode failed"));
  /* every truncation of a valid event is refused or decodes; none crashes */
  Kpistream__V1__Event ev = ks_tk_event(KS_TK_T0, "acme", 1, "support", "contact-1", "u", "a");
  Kpistream__V1__AfterContactWorkEnded w = KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT;
  w.reason_code = "billing";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_ACW_ENDED;
  ev.acw_ended = &w;
  uint8_t buf[256];
  size_t n = ks_tk_pack(&ev, buf, sizeof buf);
  int refused = 0;
  for (size_t cut = 1; cut < n; cut++) {
    ks_arena_reset(&a);
    refused += ks_decode_event(&a, buf, cut, reason, sizeof reason) == NULL;
  }
  assert_true(refused > 0);
  /* an unknown body field (number 62 is known; 57 is not) */
  const uint8_t unknown_body[] = {0x10, 0x80, 0xa0, 0xe5, 0xd2, 0x9e, 0x34, /* time */
                                  0x1a, 0x01, 'x',                          /* tenant */
                                  0xca, 0x03, 0x00};                        /* field 57, len 0 */
  ks_arena_reset(&a);
  assert_null(ks_decode_event(&a, unknown_body, sizeof unknown_body, reason, sizeof reason));
  assert_string_equal(reason, "unknown body field 57 (newer schema?)");
  ks_arena_free(&a);
}

/* ---- validation rules (docs/schema.md, "Validation"): one test per body,
 * each rule with its exact reason, and the boundary values accepted ---- */

static void refused_as(ks_arena *a, const Kpistream__V1__Event *ev, const char *want) {
  char reason[128] = "";
  if (decode(a, ev, reason) != NULL)
    fail_msg("accepted; expected refusal \"%s\"", want);
  assert_string_equal(reason, want);
}

static void accepted(ks_arena *a, const Kpistream__V1__Event *ev) {
  char reason[128] = "";
  if (decode(a, ev, reason) == NULL)
    fail_msg("refused: %s", reason);
}

/* An envelope every rule accepts, with no body. */
static Kpistream__V1__Event envelope(void) {
  return ks_tk_event(KS_TK_T0, "acme", 1, "sales", "c1", "u1", "a1");
}

static void envelope_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__ContactQueued q = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  Kpistream__V1__Event ev = envelope();
  refused_as(&a, &ev, "missing body");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  accepted(&a, &ev);
  ev.tenant = "";
  refused_as(&a, &ev, "missing tenant");
  ev.tenant = "acme";
  ev.event_time_ms = 0;
  refused_as(&a, &ev, "event_time_ms 0 outside 2000-01-01..2100-01-01");
  ev.event_time_ms = -1;
  refused_as(&a, &ev, "event_time_ms -1 outside 2000-01-01..2100-01-01");
  ev.event_time_ms = KS_EVENT_TIME_MIN_MS - 1;
  refused_as(&a, &ev, "event_time_ms 946684799999 outside 2000-01-01..2100-01-01");
  ev.event_time_ms = KS_EVENT_TIME_MIN_MS; /* 2000-01-01T00:00:00Z */
  accepted(&a, &ev);
  ev.event_time_ms = KS_EVENT_TIME_MAX_MS - 1; /* 2099-12-31T23:59:59.999Z */
  accepted(&a, &ev);
  ev.event_time_ms = KS_EVENT_TIME_MAX_MS;
  refused_as(&a, &ev, "event_time_ms 4102444800000 outside 2000-01-01..2100-01-01");
  ev.event_time_ms = KS_TK_T0;
  ev.channel = (Kpistream__V1__Channel)4;
  refused_as(&a, &ev, "channel 4 not a known Channel");
  ev.channel = (Kpistream__V1__Channel)-1;
  refused_as(&a, &ev, "channel -1 not a known Channel");
  ev.channel = KPISTREAM__V1__CHANNEL__CHANNEL_UNSPECIFIED;
  accepted(&a, &ev);
  ev.channel = KPISTREAM__V1__CHANNEL__CHANNEL_CHAT;
  accepted(&a, &ev);
  /* contact ids, queue, agent are optional in the envelope */
  Kpistream__V1__Event bare = ks_tk_event(KS_TK_T0, "acme", 0, NULL, NULL, NULL, NULL);
  bare.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  bare.contact_queued = &q;
  accepted(&a, &bare);
  ks_arena_free(&a);
}

static void unknown_body_names_the_field(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  char reason[128];
  /* tenant "x", time, then field 19 (free, below the bodies) and field 64
   * (above them) as the only "body" */
  const uint8_t f19[] = {0x10, 0x80, 0xa0, 0xe5, 0xd2, 0x9e, 0x34,
                         0x1a, 0x01, 'x',  0x9a, 0x01, 0x00};
  assert_null(ks_decode_event(&a, f19, sizeof f19, reason, sizeof reason));
  assert_string_equal(reason, "unknown body field 19 (newer schema?)");
  ks_arena_reset(&a);
  const uint8_t f64[] = {0x10, 0x80, 0xa0, 0xe5, 0xd2, 0x9e, 0x34,
                         0x1a, 0x01, 'x',  0x82, 0x04, 0x00};
  assert_null(ks_decode_event(&a, f64, sizeof f64, reason, sizeof reason));
  assert_string_equal(reason, "unknown body field 64 (newer schema?)");
  /* an unknown varint field is not a body: the body is missing */
  ks_arena_reset(&a);
  const uint8_t f10[] = {0x10, 0x80, 0xa0, 0xe5, 0xd2, 0x9e, 0x34, 0x1a, 0x01, 'x', 0x50, 0x07};
  assert_null(ks_decode_event(&a, f10, sizeof f10, reason, sizeof reason));
  assert_string_equal(reason, "missing body");
  /* a known body next to an unknown field (a newer envelope) is accepted */
  ks_arena_reset(&a);
  const uint8_t known[] = {
      0x10, 0x80, 0xa0, 0xe5, 0xd2, 0x9e, 0x34, 0x1a,
      0x01, 'x',  0x50, 0x07, 0xa2, 0x01, 0x00}; /* field 10, contact_queued {} */
  const Kpistream__V1__Event *d = ks_decode_event(&a, known, sizeof known, reason, sizeof reason);
  assert_non_null(d);
  assert_int_equal(d->body_case, KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED);
  ks_arena_free(&a);
}

static void undeclared_enum_values_are_refused(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();

  Kpistream__V1__ContactAbandoned ab = KPISTREAM__V1__CONTACT_ABANDONED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED;
  ev.contact_abandoned = &ab;
  ab.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_IVR;
  accepted(&a, &ev);
  ab.stage = (Kpistream__V1__AbandonStage)4;
  refused_as(&a, &ev, "contact_abandoned.stage 4 not a known AbandonStage");

  Kpistream__V1__ContactTransferred tr = KPISTREAM__V1__CONTACT_TRANSFERRED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED;
  ev.contact_transferred = &tr;
  tr.type = KPISTREAM__V1__TRANSFER_TYPE__TRANSFER_CONSULT;
  accepted(&a, &ev);
  tr.type = (Kpistream__V1__TransferType)3;
  refused_as(&a, &ev, "contact_transferred.type 3 not a known TransferType");

  Kpistream__V1__ContactEnded en = KPISTREAM__V1__CONTACT_ENDED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED;
  ev.contact_ended = &en;
  en.disconnected_by = KPISTREAM__V1__PARTY__PARTY_SYSTEM;
  accepted(&a, &ev);
  en.disconnected_by = (Kpistream__V1__Party)-3;
  refused_as(&a, &ev, "contact_ended.disconnected_by -3 not a known Party");

  Kpistream__V1__AgentStateChanged st = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_STATE;
  ev.agent_state = &st;
  st.state = KPISTREAM__V1__AGENT_STATE__AGENT_AUX;
  st.aux_reason = KPISTREAM__V1__AUX_REASON__AUX_OFFLINE_WORK;
  accepted(&a, &ev);
  st.state = (Kpistream__V1__AgentState)6;
  refused_as(&a, &ev, "agent_state.state 6 not a known AgentState");
  st.state = KPISTREAM__V1__AGENT_STATE__AGENT_AUX;
  st.aux_reason = (Kpistream__V1__AuxReason)9;
  refused_as(&a, &ev, "agent_state.aux_reason 9 not a known AuxReason");

  Kpistream__V1__HrEvent hr = KPISTREAM__V1__HR_EVENT__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_HR;
  ev.hr = &hr;
  hr.type = KPISTREAM__V1__HR_EVENT_TYPE__HR_SEPARATION;
  hr.separation = KPISTREAM__V1__SEPARATION_KIND__SEPARATION_INVOLUNTARY;
  accepted(&a, &ev);
  hr.type = (Kpistream__V1__HrEventType)4;
  refused_as(&a, &ev, "hr.type 4 not a known HrEventType");
  hr.type = KPISTREAM__V1__HR_EVENT_TYPE__HR_SEPARATION;
  hr.separation = (Kpistream__V1__SeparationKind)3;
  refused_as(&a, &ev, "hr.separation 3 not a known SeparationKind");

  Kpistream__V1__NextBestActionReaction re = KPISTREAM__V1__NEXT_BEST_ACTION_REACTION__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_NBA_REACTION;
  ev.nba_reaction = &re;
  re.reaction = KPISTREAM__V1__REACTION__REACTION_IGNORED;
  accepted(&a, &ev);
  re.reaction = (Kpistream__V1__Reaction)4;
  refused_as(&a, &ev, "nba_reaction.reaction 4 not a known Reaction");

  Kpistream__V1__CostRecord co = KPISTREAM__V1__COST_RECORD__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_COST;
  ev.cost = &co;
  co.kind = KPISTREAM__V1__COST_KIND__COST_VARIABLE;
  accepted(&a, &ev);
  co.kind = (Kpistream__V1__CostKind)3;
  refused_as(&a, &ev, "cost.kind 3 not a known CostKind");

  Kpistream__V1__ScheduleSegment sg = KPISTREAM__V1__SCHEDULE_SEGMENT__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SCHEDULE;
  ev.schedule = &sg;
  sg.start_ms = KS_TK_T0;
  sg.end_ms = KS_TK_T0 + KS_TK_MIN(30);
  sg.activity = KPISTREAM__V1__ACTIVITY__ACTIVITY_OFFLINE_WORK;
  accepted(&a, &ev);
  sg.activity = (Kpistream__V1__Activity)10;
  refused_as(&a, &ev, "schedule.activity 10 not a known Activity");

  Kpistream__V1__SurveyResponse sv = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &sv;
  sv.type = (Kpistream__V1__SurveyType)4;
  refused_as(&a, &ev, "survey.type 4 not a known SurveyType");
  ks_arena_free(&a);
}

static void contact_offered_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__ContactOffered of = KPISTREAM__V1__CONTACT_OFFERED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_OFFERED;
  ev.contact_offered = &of;
  of.ring_ms = -1;
  refused_as(&a, &ev, "contact_offered.ring_ms -1 negative");
  of.ring_ms = 0; /* not known */
  accepted(&a, &ev);
  of.ring_ms = 45000;
  accepted(&a, &ev);
  ks_arena_free(&a);
}

static void schedule_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__ScheduleSegment sg = KPISTREAM__V1__SCHEDULE_SEGMENT__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SCHEDULE;
  ev.schedule = &sg;
  sg.start_ms = 0;
  sg.end_ms = KS_TK_T0;
  refused_as(&a, &ev, "schedule.start_ms 0 outside 2000-01-01..2100-01-01");
  sg.start_ms = KS_TK_T0;
  sg.end_ms = KS_EVENT_TIME_MAX_MS;
  refused_as(&a, &ev, "schedule.end_ms 4102444800000 outside 2000-01-01..2100-01-01");
  sg.end_ms = KS_TK_T0 - 1;
  refused_as(&a, &ev, "schedule.end_ms 1795391999999 before start_ms 1795392000000");
  sg.end_ms = KS_TK_T0; /* empty segment */
  accepted(&a, &ev);
  sg.end_ms = KS_TK_T0 + KS_TK_MIN(60 * 24 * 14); /* two weeks of planned leave */
  sg.revision = -1;                               /* revisions are the producer's business */
  accepted(&a, &ev);
  ks_arena_free(&a);
}

static void forecast_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__ForecastPublished fc = KPISTREAM__V1__FORECAST_PUBLISHED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_FORECAST;
  ev.forecast = &fc;
  refused_as(&a, &ev, "forecast.interval_start_ms 0 outside 2000-01-01..2100-01-01");
  fc.interval_start_ms = KS_TK_T0;
  accepted(&a, &ev); /* every number 0: a quiet interval */
  fc.interval_length_s = -900;
  refused_as(&a, &ev, "forecast.interval_length_s -900 negative");
  fc.interval_length_s = 900;
  fc.offered = -1;
  refused_as(&a, &ev, "forecast.offered -1 negative");
  fc.offered = INFINITY;
  refused_as(&a, &ev, "forecast.offered inf not finite");
  fc.offered = 12.5;
  fc.aht_s = NAN;
  refused_as(&a, &ev, "forecast.aht_s nan not finite");
  fc.aht_s = 300;
  fc.required_agents = -0.5;
  refused_as(&a, &ev, "forecast.required_agents -0.5 negative");
  fc.required_agents = 4;
  accepted(&a, &ev);
  ks_arena_free(&a);
}

static void hr_and_customer_base_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__HrEvent hr = KPISTREAM__V1__HR_EVENT__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_HR;
  ev.hr = &hr;
  hr.type = KPISTREAM__V1__HR_EVENT_TYPE__HR_HEADCOUNT;
  hr.headcount = -1;
  refused_as(&a, &ev, "hr.headcount -1 negative");
  hr.headcount = 0;
  accepted(&a, &ev);
  Kpistream__V1__CustomerBaseSnapshot cb = KPISTREAM__V1__CUSTOMER_BASE_SNAPSHOT__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CUSTOMER_BASE;
  ev.customer_base = &cb;
  cb.active_customers = -5;
  refused_as(&a, &ev, "customer_base.active_customers -5 negative");
  cb.active_customers = 0;
  accepted(&a, &ev);
  ks_arena_free(&a);
}

static void cost_and_budget_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__CostRecord co = KPISTREAM__V1__COST_RECORD__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_COST;
  ev.cost = &co;
  co.amount = -12.5; /* a credit note: accepted */
  accepted(&a, &ev);
  co.amount = -INFINITY;
  refused_as(&a, &ev, "cost.amount -inf not finite");
  co.amount = 100;
  co.period_start_ms = 1;
  refused_as(&a, &ev, "cost.period_start_ms 1 outside 2000-01-01..2100-01-01");
  co.period_start_ms = KS_TK_T0;
  co.period_end_ms = KS_TK_T0 - 1000;
  refused_as(&a, &ev, "cost.period_end_ms 1795391999000 before period_start_ms 1795392000000");
  co.period_end_ms = KS_TK_T0; /* an instant */
  accepted(&a, &ev);
  co.period_start_ms = 0; /* no period: at event time */
  co.period_end_ms = 0;
  accepted(&a, &ev);

  Kpistream__V1__BudgetRecord bu = KPISTREAM__V1__BUDGET_RECORD__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_BUDGET;
  ev.budget = &bu;
  bu.amount = -0.01;
  refused_as(&a, &ev, "budget.amount -0.01 negative");
  bu.amount = NAN;
  refused_as(&a, &ev, "budget.amount nan not finite");
  bu.amount = 0;
  accepted(&a, &ev);
  bu.period_start_ms = KS_TK_T0;
  bu.period_end_ms = 5000000000000; /* 2128 */
  refused_as(&a, &ev, "budget.period_end_ms 5000000000000 outside 2000-01-01..2100-01-01");
  bu.period_end_ms = KS_TK_T0 + KS_TK_MIN(60 * 24);
  accepted(&a, &ev);
  ks_arena_free(&a);
}

static void order_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__Order o = KPISTREAM__V1__ORDER__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_ORDER;
  ev.order = &o;
  accepted(&a, &ev); /* amount 0, margin unknown */
  o.amount = -0.01;
  refused_as(&a, &ev, "order.amount -0.01 negative");
  o.amount = NAN;
  refused_as(&a, &ev, "order.amount nan not finite");
  o.amount = 59.9;
  o.margin = 35;
  refused_as(&a, &ev, "order.margin 35 above 1 (a share 0..1, not a percentage)");
  o.margin = INFINITY;
  refused_as(&a, &ev, "order.margin inf not finite");
  o.margin = 1;
  accepted(&a, &ev);
  o.margin = -0.2; /* sold at a loss */
  accepted(&a, &ev);
  ks_arena_free(&a);
}

static void survey_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__SurveyResponse s = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &s;
  /* CSAT 1-5 */
  s.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT;
  s.scale_min = 1;
  s.scale_max = 5;
  s.score = 7;
  refused_as(&a, &ev, "survey.score 7 outside scale 1-5");
  s.score = 0;
  refused_as(&a, &ev, "survey.score 0 outside scale 1-5");
  s.score = 1;
  accepted(&a, &ev);
  s.score = 5;
  accepted(&a, &ev);
  /* other CSAT scales: 1-3, 1-10, 0-10, good/bad 0-1 */
  s.scale_max = 3;
  s.score = 3;
  accepted(&a, &ev);
  s.scale_max = 10;
  s.score = 10;
  accepted(&a, &ev);
  s.scale_min = 0;
  s.score = 0;
  accepted(&a, &ev);
  s.scale_max = 1;
  accepted(&a, &ev);
  s.scale_min = 1;
  s.scale_max = 100;
  s.score = 80;
  refused_as(&a, &ev,
             "survey.scale 1-100 not supported (lowest 0 or 1, highest above it, at most 10)");
  s.scale_min = 2;
  s.scale_max = 5;
  s.score = 3;
  refused_as(&a, &ev,
             "survey.scale 2-5 not supported (lowest 0 or 1, highest above it, at most 10)");
  s.scale_min = 5;
  s.scale_max = 1;
  refused_as(&a, &ev,
             "survey.scale 5-1 not supported (lowest 0 or 1, highest above it, at most 10)");
  s.scale_min = 1;
  s.scale_max = 0;
  s.score = 1;
  refused_as(&a, &ev,
             "survey.scale 1-0 not supported (lowest 0 or 1, highest above it, at most 10)");
  /* NPS: 0-10 only */
  s.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_NPS;
  s.scale_min = 0;
  s.scale_max = 10;
  s.score = 11;
  refused_as(&a, &ev, "survey.score 11 outside scale 0-10");
  s.score = -1;
  refused_as(&a, &ev, "survey.score -1 outside scale 0-10");
  s.score = 0;
  accepted(&a, &ev);
  s.score = 10;
  accepted(&a, &ev);
  s.scale_min = 1;
  refused_as(&a, &ev, "survey.scale 1-10 not supported for NPS (0-10)");
  /* CES: 1-7 (CES 2.0) or 1-5 (legacy, lower is better) */
  s.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CES;
  s.scale_max = 7;
  s.score = 7;
  accepted(&a, &ev);
  s.scale_max = 5;
  s.score = 1;
  s.lower_is_better = 1;
  accepted(&a, &ev);
  s.score = 6;
  refused_as(&a, &ev, "survey.score 6 outside scale 1-5");
  s.scale_min = 0;
  s.scale_max = 7;
  refused_as(&a, &ev, "survey.scale 0-7 not supported for CES (1-5 or 1-7)");
  s.scale_min = 1;
  s.scale_max = 10;
  refused_as(&a, &ev, "survey.scale 1-10 not supported for CES (1-5 or 1-7)");
  /* no scale given (0-0): within 0-10, the widest supported scale */
  s.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_UNSPECIFIED;
  s.scale_min = 0;
  s.scale_max = 0;
  s.score = 10;
  accepted(&a, &ev);
  s.score = 0;
  accepted(&a, &ev);
  s.score = 11;
  refused_as(&a, &ev, "survey.score 11 outside scale 0-10");
  ks_arena_free(&a);
}

static void sentiment_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__SentimentScore se = KPISTREAM__V1__SENTIMENT_SCORE__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SENTIMENT;
  ev.sentiment = &se;
  se.overall = -1;
  accepted(&a, &ev);
  se.overall = 1;
  accepted(&a, &ev);
  se.overall = -1.01;
  refused_as(&a, &ev, "sentiment.overall -1.01 outside -1..1");
  se.overall = NAN;
  refused_as(&a, &ev, "sentiment.overall nan outside -1..1");
  se.overall = 0.2;
  se.start = 5; /* ignored without has_start_end */
  se.end = -7;
  accepted(&a, &ev);
  se.has_start_end = 1;
  refused_as(&a, &ev, "sentiment.start 5 outside -1..1");
  se.start = -1;
  refused_as(&a, &ev, "sentiment.end -7 outside -1..1");
  se.end = 1;
  accepted(&a, &ev);
  se.magnitude = -0.1;
  refused_as(&a, &ev, "sentiment.magnitude -0.1 negative");
  se.magnitude = INFINITY;
  refused_as(&a, &ev, "sentiment.magnitude inf not finite");
  se.magnitude = 3.7; /* unbounded above (Google's magnitude) */
  accepted(&a, &ev);
  ks_arena_free(&a);
}

static void qa_evaluation_rules(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__QaItem it[3] = {KPISTREAM__V1__QA_ITEM__INIT, KPISTREAM__V1__QA_ITEM__INIT,
                                 KPISTREAM__V1__QA_ITEM__INIT};
  Kpistream__V1__QaItem *items0[1] = {&it[0]};
  Kpistream__V1__QaItem *items1[2] = {&it[1], &it[2]};
  Kpistream__V1__QaSection sec[2] = {KPISTREAM__V1__QA_SECTION__INIT,
                                     KPISTREAM__V1__QA_SECTION__INIT};
  Kpistream__V1__QaSection *secs[2] = {&sec[0], &sec[1]};
  sec[0].n_items = 1;
  sec[0].items = items0;
  sec[0].weight = 1;
  sec[1].n_items = 2;
  sec[1].items = items1;
  sec[1].weight = 0; /* weight 0: the section does not count */
  for (int i = 0; i < 3; i++) {
    it[i].points = 5; /* points equal to possible */
    it[i].possible = 5;
  }
  Kpistream__V1__QaEvaluation qa = KPISTREAM__V1__QA_EVALUATION__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_QA_EVALUATION;
  ev.qa_evaluation = &qa;
  accepted(&a, &ev); /* no sections */
  qa.n_sections = 2;
  qa.sections = secs;
  accepted(&a, &ev);
  sec[0].weight = -1;
  refused_as(&a, &ev, "qa_evaluation.sections[0].weight -1 negative");
  sec[0].weight = NAN;
  refused_as(&a, &ev, "qa_evaluation.sections[0].weight nan not finite");
  sec[0].weight = 2;
  it[2].points = 6;
  refused_as(&a, &ev, "qa_evaluation.sections[1].items[1].points 6 above possible 5");
  it[2].not_applicable = 1; /* N/A items count 0 of 0: their points do not matter */
  accepted(&a, &ev);
  it[2].not_applicable = 0;
  it[2].points = -1;
  refused_as(&a, &ev, "qa_evaluation.sections[1].items[1].points -1 negative");
  it[2].points = 0;
  it[1].possible = INFINITY;
  refused_as(&a, &ev, "qa_evaluation.sections[1].items[0].possible inf not finite");
  it[1].possible = -5;
  refused_as(&a, &ev, "qa_evaluation.sections[1].items[0].possible -5 negative");
  it[1].possible = 0; /* a pass/fail item without points */
  it[1].points = 0;
  it[1].critical = 1;
  it[1].failed = 1;
  accepted(&a, &ev);
  ks_arena_free(&a);
}

/* Bodies without numbers, and every reason fits the runner's buffers. */
static void other_bodies_and_reason_sizes(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = envelope();
  Kpistream__V1__Complaint c = KPISTREAM__V1__COMPLAINT__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_COMPLAINT;
  ev.complaint = &c;
  accepted(&a, &ev);
  Kpistream__V1__ContactQueued q = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  q.priority = -3; /* priorities are the router's business */
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  accepted(&a, &ev);
  /* a long reason is cut, never overflows; a NULL reason buffer is fine */
  Kpistream__V1__SurveyResponse s = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  s.scale_min = INT32_MIN;
  s.scale_max = INT32_MAX;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &s;
  char reason[128];
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "survey.scale -2147483648-2147483647 not supported (lowest 0 or 1, "
                              "highest above it, at most 10)");
  uint8_t buf[256];
  size_t n = ks_tk_pack(&ev, buf, sizeof buf);
  char small[8];
  ks_arena_reset(&a);
  assert_null(ks_decode_event(&a, buf, n, small, sizeof small));
  assert_string_equal(small, "survey.");
  ks_arena_reset(&a);
  assert_null(ks_decode_event(&a, buf, n, NULL, 0));
  ks_arena_free(&a);
}

/* ---- identifiers: at most KS_ID_MAX bytes (what every state key holds) ---- */

/* A string of n copies of c (n < 300), in buf. */
static char *rep(char *buf, char c, size_t n) {
  memset(buf, c, n);
  buf[n] = '\0';
  return buf;
}

/* The envelope's strings, by name and place. */
static const struct {
  const char *name;
  size_t off;
} envelope_strings[] = {{"tenant", offsetof(Kpistream__V1__Event, tenant)},
                        {"contact_id", offsetof(Kpistream__V1__Event, contact_id)},
                        {"customer_id", offsetof(Kpistream__V1__Event, customer_id)},
                        {"queue", offsetof(Kpistream__V1__Event, queue)},
                        {"agent_id", offsetof(Kpistream__V1__Event, agent_id)},
                        {"team", offsetof(Kpistream__V1__Event, team)},
                        {"event_id", offsetof(Kpistream__V1__Event, event_id)}};

/* A QA evaluation of two empty sections sec[0], sec[1] (secs: their list). */
static Kpistream__V1__QaEvaluation two_sections(Kpistream__V1__QaSection sec[2],
                                                Kpistream__V1__QaSection *secs[2]) {
  Kpistream__V1__QaEvaluation qa = KPISTREAM__V1__QA_EVALUATION__INIT;
  for (int i = 0; i < 2; i++) {
    sec[i] = (Kpistream__V1__QaSection)KPISTREAM__V1__QA_SECTION__INIT;
    secs[i] = &sec[i];
  }
  qa.n_sections = 2;
  qa.sections = secs;
  return qa;
}

static void identifiers_at_the_limit(void **state) {
  (void)state;
  assert_int_equal(KS_ID_MAX, 47);
  ks_arena a;
  ks_arena_init(&a, 0);
  char t[300], q[300], c[300], u[300], g[300], m[300], x[300];
  Kpistream__V1__ContactQueued cq = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  Kpistream__V1__Event ev = ks_tk_event(KS_TK_T0, rep(t, 't', 47), 1, rep(q, 'q', 47),
                                        rep(c, 'c', 47), rep(u, 'u', 47), rep(g, 'g', 47));
  ev.team = rep(m, 'm', 47);
  ev.event_id = rep(x, 'e', 47);
  cq.reason_code = "billing";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &cq;
  accepted(&a, &ev); /* every identifier at the limit */
  const char *const why = " longer than 47 bytes (KS_ID_MAX, what plugin state keys hold)";
  char want[160];
  char over[300];
  rep(over, 'o', 48);
  for (size_t i = 0; i < sizeof envelope_strings / sizeof envelope_strings[0]; i++) {
    char **f = (char **)(void *)((char *)&ev + envelope_strings[i].off);
    char *was = *f;
    *f = over; /* one byte over */
    snprintf(want, sizeof want, "%s%s", envelope_strings[i].name, why);
    refused_as(&a, &ev, want);
    *f = was;
  }
  accepted(&a, &ev);
  /* body strings, nested ones included */
  cq.reason_code = over;
  snprintf(want, sizeof want, "contact_queued.reason_code%s", why);
  refused_as(&a, &ev, want);
  cq.reason_code = "";
  Kpistream__V1__QaSection sec[2], *secs[2];
  Kpistream__V1__QaEvaluation qa = two_sections(sec, secs);
  sec[1].category = rep(x, 'k', 47);
  ev.body_case = KPISTREAM__V1__EVENT__BODY_QA_EVALUATION;
  ev.qa_evaluation = &qa;
  accepted(&a, &ev);
  sec[1].category = over;
  snprintf(want, sizeof want, "qa_evaluation.sections[1].category%s", why);
  refused_as(&a, &ev, want);
  /* far over: tenant + contact beyond the whole key space */
  ev = ks_tk_event(KS_TK_T0, rep(t, 't', 200), 1, "q", rep(c, 'c', 100), "u", "g");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &cq;
  snprintf(want, sizeof want, "tenant%s", why);
  refused_as(&a, &ev, want);
  ks_arena_free(&a);
}

/* ---- strings: well-formed UTF-8 (proto3; RFC 3629) ------------------------ */

/* Ill-formed sequences, each with the offset of its first bad byte. */
static const struct {
  const char *s;
  size_t at;
  unsigned byte;
} bad_utf8[] = {
    {"q\xff", 1, 0xff},                    /* never in UTF-8 */
    {"\x80q", 0, 0x80},                    /* a lone continuation byte */
    {"ab\xc0\xaf", 2, 0xc0},               /* overlong '/' */
    {"\xe0\x80\xaf", 0, 0xe0},             /* overlong, 3 bytes */
    {"x\xed\xa0\x80", 1, 0xed},            /* surrogate U+D800 */
    {"\xe6\x97", 0, 0xe6},                 /* truncated 3-byte sequence */
    {"\xe6\x97x", 0, 0xe6},                /* ... followed by ASCII */
    {"abcdefgh\xf4\x90\x80\x80", 8, 0xf4}, /* U+110000, above U+10FFFF */
    {"\xf5\x80\x80\x80", 0, 0xf5},         /* never in UTF-8 */
};

static void strings_must_be_utf8(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__ContactQueued cq = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  Kpistream__V1__Event ev = envelope();
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &cq;
  /* multi-byte characters are fine: é, 日本, an emoji, U+10FFFF */
  ev.queue = "caf\xc3\xa9";
  ev.agent_id = "\xe6\x97\xa5\xe6\x9c\xac";
  ev.contact_id = "c-\xf0\x9f\x98\x80";
  cq.reason_code = "\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80"; /* U+10FFFF U+D7FF U+E000 */
  accepted(&a, &ev);
  char want[160];
  for (size_t i = 0; i < sizeof envelope_strings / sizeof envelope_strings[0]; i++) {
    char **f = (char **)(void *)((char *)&ev + envelope_strings[i].off);
    char *was = *f;
    for (size_t k = 0; k < sizeof bad_utf8 / sizeof bad_utf8[0]; k++) {
      *f = (char *)bad_utf8[k].s;
      snprintf(want, sizeof want, "%s not UTF-8 at byte %zu (0x%02x)", envelope_strings[i].name,
               bad_utf8[k].at, bad_utf8[k].byte);
      refused_as(&a, &ev, want);
    }
    *f = was;
  }
  accepted(&a, &ev);
  /* a body string */
  cq.reason_code = "\xff";
  refused_as(&a, &ev, "contact_queued.reason_code not UTF-8 at byte 0 (0xff)");
  cq.reason_code = "";
  /* a nested one in a repeated field (protobuf-c's path: the fast one declines repeated fields) */
  Kpistream__V1__QaSection sec[2], *secs[2];
  Kpistream__V1__QaEvaluation qa = two_sections(sec, secs);
  sec[1].category = "\xe6\x97\xa5";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_QA_EVALUATION;
  ev.qa_evaluation = &qa;
  accepted(&a, &ev);
  sec[1].category = "ok\xed\xa0\x80";
  refused_as(&a, &ev, "qa_evaluation.sections[1].category not UTF-8 at byte 2 (0xed)");
  ks_arena_free(&a);
}

/* ---- strings: no NUL byte (protobuf-c's char * would end there) ---------- */

/* ev packed, every '#' of the string s (its first occurrence in the bytes)
 * turned into a NUL byte on the wire, then decoded. */
static const Kpistream__V1__Event *decode_with_nul(ks_arena *a, const Kpistream__V1__Event *ev,
                                                   const char *s, char *reason) {
  uint8_t buf[1024];
  size_t n = ks_tk_pack(ev, buf, sizeof buf), k = strlen(s), at = 0;
  while (at + k <= n && memcmp(buf + at, s, k) != 0)
    at++;
  assert_true(at + k <= n);
  for (size_t i = 0; i < k; i++)
    if (s[i] == '#')
      buf[at + i] = 0;
  ks_arena_reset(a);
  return ks_decode_event(a, buf, n, reason, 128);
}
static void refused_with_nul(ks_arena *a, const Kpistream__V1__Event *ev, const char *s,
                             const char *want) {
  char reason[128] = "";
  if (decode_with_nul(a, ev, s, reason) != NULL)
    fail_msg("accepted; expected refusal \"%s\"", want);
  assert_string_equal(reason, want);
}

/* Where the NUL byte is: first, inside, last; several ('#': a NUL byte). */
static const struct {
  const char *s;
  size_t at;
} with_nul[] = {{"#ab", 0}, {"a#b", 1}, {"ab#", 2}, {"#", 0}, {"x##y", 1}, {"caf\xc3\xa9#", 5}};

static void strings_must_not_hold_nul(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__ContactQueued cq = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  Kpistream__V1__Event ev = envelope();
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &cq;
  ev.team = "t1";
  ev.event_id = "e1";
  char want[160];
  for (size_t i = 0; i < sizeof envelope_strings / sizeof envelope_strings[0]; i++) {
    char **f = (char **)(void *)((char *)&ev + envelope_strings[i].off);
    char *was = *f;
    for (size_t k = 0; k < sizeof with_nul / sizeof with_nul[0]; k++) {
      *f = (char *)with_nul[k].s;
      accepted(&a, &ev); /* with '#' itself */
      snprintf(want, sizeof want, "%s holds a NUL byte at byte %zu", envelope_strings[i].name,
               with_nul[k].at);
      refused_with_nul(&a, &ev, with_nul[k].s, want);
    }
    *f = was;
  }
  /* a body string */
  cq.reason_code = "bill#ing";
  refused_with_nul(&a, &ev, "bill#ing", "contact_queued.reason_code holds a NUL byte at byte 4");
  cq.reason_code = "";
  /* nested ones in repeated fields (protobuf-c's path: the fast one declines repeated fields) */
  Kpistream__V1__QaSection sec[2], *secs[2];
  Kpistream__V1__QaEvaluation qa = two_sections(sec, secs);
  Kpistream__V1__QaItem item[2] = {KPISTREAM__V1__QA_ITEM__INIT, KPISTREAM__V1__QA_ITEM__INIT};
  Kpistream__V1__QaItem *items[2] = {&item[0], &item[1]};
  sec[1].n_items = 2;
  sec[1].items = items;
  sec[0].category = "brand";
  sec[1].category = "brand#x";
  item[1].id = "it#em";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_QA_EVALUATION;
  ev.qa_evaluation = &qa;
  accepted(&a, &ev);
  refused_with_nul(&a, &ev, "brand#x",
                   "qa_evaluation.sections[1].category holds a NUL byte at byte 5");
  refused_with_nul(&a, &ev, "it#em",
                   "qa_evaluation.sections[1].items[1].id holds a NUL byte at byte 2");
  /* the tenant shortened to nothing is not a missing one: the NUL is named */
  ev.tenant = "#acme";
  refused_with_nul(&a, &ev, "#acme", "tenant holds a NUL byte at byte 0");
  ks_arena_free(&a);
}

/* Through the engine and the operations plugin: identifiers at the limit
 * give results that carry them whole; one byte over is refused (counted,
 * for the dead-letter topic); nothing is dropped in between. */
typedef struct seen {
  int offered;
  char tenant[64], queue[64];
} seen;

static int capture(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                   size_t valuelen, const ks_result *r) {
  (void)topic, (void)key, (void)keylen, (void)value, (void)valuelen;
  seen *s = ud;
  if (strcmp(r->metric, "offered") == 0 && r->channel == 1 && r->queue && r->queue[0] &&
      (r->agent_id == NULL || r->agent_id[0] == '\0') && r->count > 0) {
    s->offered += (int)r->count;
    snprintf(s->tenant, sizeof s->tenant, "%s", r->tenant);
    snprintf(s->queue, sizeof s->queue, "%s", r->queue);
  }
  return 0;
}

static void long_identifiers_are_never_dropped(void **state) {
  (void)state;
  static const char *const topics[] = {"events"};
  seen s = {0};
  ks_engine_options o = {0};
  o.topics = topics;
  o.n_topics = 1;
  o.sink = capture;
  o.sink_ud = &s;
  o.log_level = KS_LOG_ERROR;
  ks_engine *e = NULL;
  char err[512], path[512];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  snprintf(path, sizeof path, "%s/kpi_operations.so", KS_TEST_PLUGIN_DIR);
  assert_int_equal(ks_engine_add_plugin(e, path, NULL, NULL, 0, err, sizeof err), 0);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  ks_testkit *k;
  assert_int_equal(ks_testkit_attach(&k, e), 0);
  char t[64], q[64], c[64], u[64], g[64], c2[64];
  rep(t, 't', 47), rep(q, 'q', 47), rep(c, 'c', 47), rep(u, 'u', 47), rep(g, 'g', 47);
  Kpistream__V1__ContactQueued cq = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  Kpistream__V1__ContactAnswered ca = KPISTREAM__V1__CONTACT_ANSWERED__INIT;
  Kpistream__V1__Event ev = ks_tk_event(KS_TK_T0, t, 1, q, c, u, g);
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &cq;
  assert_int_equal(ks_testkit_feed(k, &ev), KS_PROCESSED);
  ev.event_time_ms = KS_TK_T0 + KS_TK_SEC(5);
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED;
  ev.contact_answered = &ca;
  assert_int_equal(ks_testkit_feed(k, &ev), KS_PROCESSED);
  /* a second contact whose id is one byte over: refused, counted */
  ev = ks_tk_event(KS_TK_T0 + KS_TK_SEC(6), t, 1, q, rep(c2, 'd', 48), u, g);
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &cq;
  assert_int_equal(ks_testkit_feed(k, &ev), KS_REJECTED);
  /* tenant plus contact beyond the whole key space (the plugin could store
   * nothing for it: it used to be accepted and then produce nothing) */
  char t2[256], c3[128];
  ev = ks_tk_event(KS_TK_T0 + KS_TK_SEC(7), rep(t2, 't', 200), 1, q, rep(c3, 'c', 100), u, g);
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &cq;
  assert_int_equal(ks_testkit_feed(k, &ev), KS_REJECTED);
  ks_engine_flush_all(e);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_in, 4);
  assert_int_equal(st.events_rejected, 2);
  assert_int_equal(st.events_dispatched, 2);
  assert_int_equal(st.plugin_errors, 0);
  assert_int_equal(st.api_refusals, 0);
  assert_int_equal(s.offered, 1); /* the accepted contact, with its identifiers whole */
  assert_string_equal(s.tenant, t);
  assert_string_equal(s.queue, q);
  ks_testkit_free(k);
  ks_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_event_round_trips),
      cmocka_unit_test(invalid_events_are_refused),
      cmocka_unit_test(garbage_and_truncation_are_refused),
      cmocka_unit_test(envelope_rules),
      cmocka_unit_test(unknown_body_names_the_field),
      cmocka_unit_test(undeclared_enum_values_are_refused),
      cmocka_unit_test(contact_offered_rules),
      cmocka_unit_test(schedule_rules),
      cmocka_unit_test(forecast_rules),
      cmocka_unit_test(hr_and_customer_base_rules),
      cmocka_unit_test(cost_and_budget_rules),
      cmocka_unit_test(order_rules),
      cmocka_unit_test(survey_rules),
      cmocka_unit_test(sentiment_rules),
      cmocka_unit_test(qa_evaluation_rules),
      cmocka_unit_test(other_bodies_and_reason_sizes),
      cmocka_unit_test(identifiers_at_the_limit),
      cmocka_unit_test(long_identifiers_are_never_dropped),
      cmocka_unit_test(strings_must_be_utf8),
      cmocka_unit_test(strings_must_not_hold_nul),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
