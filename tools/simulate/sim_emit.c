/*
 * ks_sim_emit — turns one output record (ks_sim_out) into a kpistream.v1.Event in
 * model-owned scratch storage: the envelope's ids and names, and the body.
 * Everything here is a pure function of the record (QA details come from a
 * generator seeded by the record), so materialising never touches the
 * model's generators.
 *
 * Ids: event "<tenant>-e<n>", contact "<tenant>-c<n>", customer
 * "<tenant>-u<n>", agent "<tenant>-a<n>" (the bot is "bot"), schedule
 * "<tenant>-sch-<yyyymmdd>", forecast "<tenant>-fc-<yyyymmdd>", order
 * "<tenant>-o<n>", offer "<tenant>-nba<n>", survey "<tenant>-s<n>",
 * evaluation "<tenant>-qa<n>".
 */
#include "sim_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kpistream/plugin.h"

#define QA_NSEC  5
#define QA_NITEM 3

struct ks_sim_scratch {
  Kpistream__V1__Event ev;
  Kpistream__V1__ContactQueued queued;
  Kpistream__V1__ContactOffered offered;
  Kpistream__V1__ContactAnswered answered;
  Kpistream__V1__AgentResponse resp;
  Kpistream__V1__HoldStarted hold_started;
  Kpistream__V1__HoldEnded hold_ended;
  Kpistream__V1__ContactTransferred xfer;
  Kpistream__V1__ContactEscalated esc;
  Kpistream__V1__ContactAbandoned aband;
  Kpistream__V1__ContactEnded ended;
  Kpistream__V1__AfterContactWorkEnded acw;
  Kpistream__V1__ContactResolved resolved;
  Kpistream__V1__ContactReopened reopened;
  Kpistream__V1__ContactCreated created;
  Kpistream__V1__AgentStateChanged astate;
  Kpistream__V1__ScheduleSegment sched;
  Kpistream__V1__ForecastPublished fc;
  Kpistream__V1__HrEvent hr;
  Kpistream__V1__CostRecord cost;
  Kpistream__V1__BudgetRecord budget;
  Kpistream__V1__CustomerBaseSnapshot base;
  Kpistream__V1__SurveyResponse survey;
  Kpistream__V1__SentimentScore senti;
  Kpistream__V1__QaEvaluation qa;
  Kpistream__V1__QaSection sec[QA_NSEC];
  Kpistream__V1__QaSection *secp[QA_NSEC];
  Kpistream__V1__QaItem item[QA_NSEC][QA_NITEM];
  Kpistream__V1__QaItem *itemp[QA_NSEC][QA_NITEM];
  Kpistream__V1__Complaint complaint;
  Kpistream__V1__Order order;
  Kpistream__V1__CustomerRegistered reg;
  Kpistream__V1__NextBestActionOffer nba_offer;
  Kpistream__V1__NextBestActionReaction nba_reaction;
  char event_id[48], contact_id[48], customer_id[48], agent_id[48];
  char id1[64], id2[64];
};

static const char *const wrap_codes[] = {"RES", "FUP", "XFR", "ESC"};
static const char *const dispositions[] = {"resolved", "follow_up_required", "callback_scheduled",
                                           "transferred", "escalated"};
static const char *const tiers[SIM_NTIERS] = {"tier2", "supervisor"};
static const char *const esc_reasons[SIM_NESC_REASONS] = {"complex_issue", "customer_request",
                                                          "policy_exception", "technical_fault"};
static const char *const details[] = {
    "", "missed_offer", "network_outage", "crm_unavailable", "personal", "scheduled"};
static const char *const cost_centers[SIM_NCC] = {"cc-voice", "cc-digital"};
static const char *const cost_categories[] = {"labour", "telephony", "licences", "facilities"};
static const char *const segments[] = {"all", "consumer", "business"};
static const char *const complaint_cats[SIM_NCOMPLAINT_CATS] = {
    "long_wait", "unresolved_issue", "agent_behaviour", "billing_error", "product_quality"};
static const char *const severities[] = {"low", "medium", "high"};
static const char *const nba_actions[SIM_NNBA_ACTIONS] = {
    "upgrade_plan", "add_insurance", "loyalty_discount", "paperless_billing", "premium_support"};

/* The QA form: sections, their category and weight, their items. */
typedef struct qa_sec_def {
  const char *name, *category;
  double weight;
  int n;
  const char *items[QA_NITEM];
} qa_sec_def;
static const qa_sec_def qa_form[QA_NSEC] = {
    {"Greeting and tone", "service_attitude", 0.20, 2, {"greeting", "empathy", NULL}},
    {"Communication", "communication", 0.25, 3, {"clarity", "active_listening", "summary"}},
    {"Brand", "brand", 0.10, 2, {"brand_language", "upsell_attempt", NULL}},
    {"Product knowledge", "product_knowledge", 0.25, 2, {"accuracy", "solution_fit", NULL}},
    {"Process compliance",
     "process_compliance",
     0.20,
     3,
     {"identity_verification", "recording_disclosure", "data_entry"}}};

#define S(x) ((char *)(x))

int ks_sim_scratch_new(ks_sim *s) {
  s->scr = calloc(1, sizeof *s->scr);
  return s->scr ? 0 : KS_ENOMEM;
}

void ks_sim_scratch_free(ks_sim *s) {
  free(s->scr);
  s->scr = NULL;
}

static void qa_fill(ks_sim_scratch *sc, const ks_sim_out *o) {
  ks_sim_rng r;
  ks_sim_rng_seed(&r, o->u.qa.seed);
  const double skill = 0.8 + ((double)o->u.qa.quality - 100.0) / 1000.0;
  const int voice = o->u.qa.form == 0;
  for (int i = 0; i < QA_NSEC; i++) {
    Kpistream__V1__QaSection *sec = &sc->sec[i];
    kpistream__v1__qa_section__init(sec);
    sec->name = S(qa_form[i].name);
    sec->category = S(qa_form[i].category);
    sec->weight = qa_form[i].weight;
    sec->n_items = (size_t)qa_form[i].n;
    sec->items = sc->itemp[i];
    for (int k = 0; k < qa_form[i].n; k++) {
      Kpistream__V1__QaItem *it = &sc->item[i][k];
      kpistream__v1__qa_item__init(it);
      sc->itemp[i][k] = it;
      const char *id = qa_form[i].items[k];
      it->id = S(id);
      it->possible = 5;
      double v = skill + 0.15 * ks_sim_normal(&r);
      it->points = fmin(5.0, fmax(0.0, round(v * 5.0)));
      if (i == 2 && k == 1 && o->u.qa.na_sales) {
        it->not_applicable = 1; /* no upsell expected outside sales */
        it->points = 0;
      } else if (i == 4 && k == 0) {
        it->critical = 1;
        it->compliance = 1;
        it->failed = ks_sim_unif(&r) < 0.02;
      } else if (i == 4 && k == 1) {
        it->compliance = 1;
        if (!voice) {
          it->not_applicable = 1; /* no recording outside voice */
          it->points = 0;
        } else {
          it->failed = ks_sim_unif(&r) < 0.03;
        }
      }
      if (it->failed)
        it->points = 0;
      else if (it->critical || it->compliance)
        it->points = it->not_applicable ? 0 : 5;
    }
    sc->secp[i] = sec;
  }
  sc->qa.n_sections = QA_NSEC;
  sc->qa.sections = sc->secp;
}

Kpistream__V1__Event *ks_sim_materialize(ks_sim *s, const ks_sim_out *o) {
  ks_sim_scratch *sc = s->scr;
  ks_sim_tenant *tn = &s->tenants[o->tenant];
  Kpistream__V1__Event *ev = &sc->ev;
  kpistream__v1__event__init(ev);
  snprintf(sc->event_id, sizeof sc->event_id, "%s-e%" PRIu64, tn->name, o->ev_no);
  ev->event_id = sc->event_id;
  ev->event_time_ms = o->t;
  ev->tenant = tn->name;
  ev->channel = (Kpistream__V1__Channel)o->channel;
  if (o->contact_no) {
    snprintf(sc->contact_id, sizeof sc->contact_id, "%s-c%08" PRIu64, tn->name, o->contact_no);
    ev->contact_id = sc->contact_id;
  }
  if (o->customer_no) {
    snprintf(sc->customer_id, sizeof sc->customer_id, "%s-u%07" PRIu32, tn->name, o->customer_no);
    ev->customer_id = sc->customer_id;
  }
  if (o->queue != SIM_NONE8)
    ev->queue = S(ks_sim_queue_name(o->queue));
  if (o->agent_no == SIM_AGENT_BOT) {
    ev->agent_id = S("bot");
  } else if (o->agent_no) {
    snprintf(sc->agent_id, sizeof sc->agent_id, "%s-a%04" PRIu32, tn->name, o->agent_no);
    ev->agent_id = sc->agent_id;
  }
  if (o->team != SIM_NONE8)
    ev->team = S(ks_sim_team_name(o->team));
  ev->body_case = (Kpistream__V1__Event__BodyCase)o->body;

  switch (o->body) {
  case KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED:
    kpistream__v1__contact_queued__init(&sc->queued);
    sc->queued.priority = o->u.queued.priority;
    if (o->u.queued.reason < SIM_NREASONS)
      sc->queued.reason_code = S(ks_sim_reason_codes[o->u.queued.reason]);
    sc->queued.callback = o->u.queued.callback;
    ev->contact_queued = &sc->queued;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_OFFERED:
    kpistream__v1__contact_offered__init(&sc->offered);
    sc->offered.ring_ms = o->u.offered.ring_ms;
    sc->offered.accepted = o->u.offered.accepted;
    ev->contact_offered = &sc->offered;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED:
    kpistream__v1__contact_answered__init(&sc->answered);
    ev->contact_answered = &sc->answered;
    break;
  case KPISTREAM__V1__EVENT__BODY_AGENT_RESPONSE:
    kpistream__v1__agent_response__init(&sc->resp);
    sc->resp.is_bot = o->u.resp.is_bot;
    sc->resp.is_public = o->u.resp.is_public;
    ev->agent_response = &sc->resp;
    break;
  case KPISTREAM__V1__EVENT__BODY_HOLD_STARTED:
    kpistream__v1__hold_started__init(&sc->hold_started);
    ev->hold_started = &sc->hold_started;
    break;
  case KPISTREAM__V1__EVENT__BODY_HOLD_ENDED:
    kpistream__v1__hold_ended__init(&sc->hold_ended);
    ev->hold_ended = &sc->hold_ended;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED:
    kpistream__v1__contact_transferred__init(&sc->xfer);
    sc->xfer.to_queue = S(ks_sim_queue_name(o->u.xfer.to_queue));
    sc->xfer.type = (Kpistream__V1__TransferType)o->u.xfer.type;
    ev->contact_transferred = &sc->xfer;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED:
    kpistream__v1__contact_escalated__init(&sc->esc);
    sc->esc.to_tier = S(tiers[o->u.esc.tier % SIM_NTIERS]);
    sc->esc.reason = S(esc_reasons[o->u.esc.reason % SIM_NESC_REASONS]);
    ev->contact_escalated = &sc->esc;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED:
    kpistream__v1__contact_abandoned__init(&sc->aband);
    sc->aband.stage = (Kpistream__V1__AbandonStage)o->u.aband.stage;
    ev->contact_abandoned = &sc->aband;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED:
    kpistream__v1__contact_ended__init(&sc->ended);
    sc->ended.disconnected_by = (Kpistream__V1__Party)o->u.ended.party;
    ev->contact_ended = &sc->ended;
    break;
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    kpistream__v1__after_contact_work_ended__init(&sc->acw);
    sc->acw.wrap_up_code = S(wrap_codes[o->u.acw.wrap % 4]);
    sc->acw.disposition = S(dispositions[o->u.acw.disp % 5]);
    if (o->u.acw.reason < SIM_NREASONS)
      sc->acw.reason_code = S(ks_sim_reason_codes[o->u.acw.reason]);
    sc->acw.resolved = o->u.acw.resolved;
    ev->acw_ended = &sc->acw;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED:
    kpistream__v1__contact_resolved__init(&sc->resolved);
    ev->contact_resolved = &sc->resolved;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_REOPENED:
    kpistream__v1__contact_reopened__init(&sc->reopened);
    ev->contact_reopened = &sc->reopened;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED:
    kpistream__v1__contact_created__init(&sc->created);
    if (o->u.created.reason < SIM_NREASONS)
      sc->created.subject_reason = S(ks_sim_reason_codes[o->u.created.reason]);
    ev->contact_created = &sc->created;
    break;
  case KPISTREAM__V1__EVENT__BODY_AGENT_STATE:
    kpistream__v1__agent_state_changed__init(&sc->astate);
    sc->astate.state = (Kpistream__V1__AgentState)o->u.astate.state;
    sc->astate.aux_reason = (Kpistream__V1__AuxReason)o->u.astate.aux;
    sc->astate.reason_detail =
        S(details[o->u.astate.detail % (sizeof details / sizeof details[0])]);
    ev->agent_state = &sc->astate;
    break;
  case KPISTREAM__V1__EVENT__BODY_SCHEDULE:
    kpistream__v1__schedule_segment__init(&sc->sched);
    sc->sched.start_ms = o->u.sched.start;
    sc->sched.end_ms = o->u.sched.end;
    sc->sched.activity = (Kpistream__V1__Activity)o->u.sched.activity;
    sc->sched.paid = o->u.sched.paid;
    snprintf(sc->id1, sizeof sc->id1, "%s-sch-%08" PRIu32, tn->name, o->u.sched.day);
    sc->sched.schedule_id = sc->id1;
    sc->sched.revision = o->u.sched.revision;
    ev->schedule = &sc->sched;
    break;
  case KPISTREAM__V1__EVENT__BODY_FORECAST:
    kpistream__v1__forecast_published__init(&sc->fc);
    sc->fc.interval_start_ms = o->u.fc.start;
    sc->fc.interval_length_s = o->u.fc.len_s;
    sc->fc.offered = o->u.fc.offered;
    sc->fc.aht_s = o->u.fc.aht_s;
    snprintf(sc->id1, sizeof sc->id1, "%s-fc-%08" PRIu32, tn->name, o->u.fc.day);
    sc->fc.forecast_id = sc->id1;
    sc->fc.required_agents = o->u.fc.required;
    ev->forecast = &sc->fc;
    break;
  case KPISTREAM__V1__EVENT__BODY_HR:
    kpistream__v1__hr_event__init(&sc->hr);
    sc->hr.type = (Kpistream__V1__HrEventType)o->u.hr.type;
    sc->hr.separation = (Kpistream__V1__SeparationKind)o->u.hr.sep;
    sc->hr.headcount = o->u.hr.headcount;
    ev->hr = &sc->hr;
    break;
  case KPISTREAM__V1__EVENT__BODY_COST:
    kpistream__v1__cost_record__init(&sc->cost);
    sc->cost.cost_center = S(cost_centers[o->u.cost.cc % SIM_NCC]);
    sc->cost.kind = (Kpistream__V1__CostKind)o->u.cost.kind;
    sc->cost.category = S(cost_categories[o->u.cost.category % 4]);
    sc->cost.amount = o->u.cost.amount;
    sc->cost.currency = tn->currency;
    sc->cost.period_start_ms = o->u.cost.start;
    sc->cost.period_end_ms = o->u.cost.end;
    ev->cost = &sc->cost;
    break;
  case KPISTREAM__V1__EVENT__BODY_BUDGET:
    kpistream__v1__budget_record__init(&sc->budget);
    sc->budget.cost_center = S(cost_centers[o->u.budget.cc % SIM_NCC]);
    sc->budget.amount = o->u.budget.amount;
    sc->budget.currency = tn->currency;
    sc->budget.period_start_ms = o->u.budget.start;
    sc->budget.period_end_ms = o->u.budget.end;
    ev->budget = &sc->budget;
    break;
  case KPISTREAM__V1__EVENT__BODY_CUSTOMER_BASE:
    kpistream__v1__customer_base_snapshot__init(&sc->base);
    sc->base.active_customers = o->u.base.active;
    sc->base.segment = S(segments[o->u.base.segment % 3]);
    ev->customer_base = &sc->base;
    break;
  case KPISTREAM__V1__EVENT__BODY_SURVEY:
    kpistream__v1__survey_response__init(&sc->survey);
    sc->survey.type = (Kpistream__V1__SurveyType)o->u.survey.type;
    sc->survey.score = o->u.survey.score;
    sc->survey.scale_min = o->u.survey.min;
    sc->survey.scale_max = o->u.survey.max;
    sc->survey.lower_is_better = o->u.survey.lower_better;
    snprintf(sc->id1, sizeof sc->id1, "%s-s%" PRIu64, tn->name, o->u.survey.no);
    sc->survey.survey_id = sc->id1;
    ev->survey = &sc->survey;
    break;
  case KPISTREAM__V1__EVENT__BODY_SENTIMENT:
    kpistream__v1__sentiment_score__init(&sc->senti);
    sc->senti.overall = o->u.senti.overall;
    sc->senti.has_start_end = o->u.senti.has_se;
    sc->senti.start = o->u.senti.start;
    sc->senti.end = o->u.senti.end;
    sc->senti.magnitude = o->u.senti.magnitude;
    ev->sentiment = &sc->senti;
    break;
  case KPISTREAM__V1__EVENT__BODY_QA_EVALUATION:
    kpistream__v1__qa_evaluation__init(&sc->qa);
    snprintf(sc->id1, sizeof sc->id1, "%s-qa%" PRIu64, tn->name, o->u.qa.no);
    sc->qa.evaluation_id = sc->id1;
    sc->qa.form_id = S(o->u.qa.form == 0 ? "form-voice-v3" : "form-digital-v2");
    snprintf(sc->id2, sizeof sc->id2, "%s-qa-evaluator-%u", tn->name, (unsigned)o->u.qa.evaluator);
    sc->qa.evaluator_id = sc->id2;
    qa_fill(sc, o);
    ev->qa_evaluation = &sc->qa;
    break;
  case KPISTREAM__V1__EVENT__BODY_COMPLAINT:
    kpistream__v1__complaint__init(&sc->complaint);
    sc->complaint.category = S(complaint_cats[o->u.complaint.category % SIM_NCOMPLAINT_CATS]);
    sc->complaint.severity = S(severities[o->u.complaint.severity % 3]);
    ev->complaint = &sc->complaint;
    break;
  case KPISTREAM__V1__EVENT__BODY_ORDER:
    kpistream__v1__order__init(&sc->order);
    snprintf(sc->id1, sizeof sc->id1, "%s-o%" PRIu64, tn->name, o->u.order.no);
    sc->order.order_id = sc->id1;
    sc->order.amount = o->u.order.amount;
    sc->order.currency = tn->currency;
    sc->order.margin = o->u.order.margin;
    sc->order.segment = S(segments[o->u.order.segment % 3]);
    ev->order = &sc->order;
    break;
  case KPISTREAM__V1__EVENT__BODY_CUSTOMER_REGISTERED:
    kpistream__v1__customer_registered__init(&sc->reg);
    sc->reg.segment = S(segments[o->u.reg.segment % 3]);
    ev->customer_registered = &sc->reg;
    break;
  case KPISTREAM__V1__EVENT__BODY_NBA_OFFER:
    kpistream__v1__next_best_action_offer__init(&sc->nba_offer);
    snprintf(sc->id1, sizeof sc->id1, "%s-nba%" PRIu64, tn->name, o->u.nba.no);
    sc->nba_offer.offer_id = sc->id1;
    sc->nba_offer.action = S(nba_actions[o->u.nba.action % SIM_NNBA_ACTIONS]);
    ev->nba_offer = &sc->nba_offer;
    break;
  case KPISTREAM__V1__EVENT__BODY_NBA_REACTION:
    kpistream__v1__next_best_action_reaction__init(&sc->nba_reaction);
    snprintf(sc->id1, sizeof sc->id1, "%s-nba%" PRIu64, tn->name, o->u.nba.no);
    sc->nba_reaction.offer_id = sc->id1;
    sc->nba_reaction.reaction = (Kpistream__V1__Reaction)o->u.nba.reaction;
    ev->nba_reaction = &sc->nba_reaction;
    break;
  default:
    return NULL;
  }
  return ev;
}
