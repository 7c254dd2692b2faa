/*
 * sim_business — everything around the contacts: the day's forecast per
 * queue and 15-minute interval (the expectation with forecast error), HR
 * (separations replaced by hires, headcount snapshots), the customer base
 * (registrations, churn, daily snapshots), cost records for the day gone by
 * and the budget for the new day, orders (after sales contacts, accepted
 * next-best-action offers, and organic), registrations, surveys (CSAT on the
 * tenant's scale, NPS, CES), sentiment, complaints and QA evaluations.
 */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

#define LABOUR_RATE    28.0  /* per paid agent hour */
#define TELEPHONY_RATE 0.012 /* per voice minute */
#define LICENCE_DAY    3.5   /* per agent in the pool and day */
#define FACILITIES_DAY 900.0

static double clamp(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static int segment_of(uint32_t customer) {
  /* 15% business customers, by a fixed hash of the number */
  uint32_t h = customer * 2654435761u;
  return (h >> 16) % 100 < 15 ? 1 : 0;
}

/* ---- the day: costs, HR, customer base, forecast ------------------------------------ */

static void emit_cost(ks_sim *s, int tenant, int cc, int kind, int category, double amount,
                      int64_t from, int64_t to) {
  ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_COST);
  if (o == NULL)
    return;
  o->u.cost.amount = round(amount * 100.0) / 100.0;
  o->u.cost.start = from;
  o->u.cost.end = to;
  o->u.cost.cc = (uint8_t)cc;
  o->u.cost.kind = (uint8_t)kind;
  o->u.cost.category = (uint8_t)category;
}

static uint32_t cc_agents(const ks_sim_tenant *tn, int cc) {
  return cc == SIM_CC_DIGITAL ? tn->team[SIM_TEAM_DIGITAL].n
                              : tn->team[SIM_TEAM_VOICE_SALES].n + tn->team[SIM_TEAM_VOICE_CARE].n;
}

static void day_costs(ks_sim *s, int tenant, int64_t day) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  for (uint32_t i = 0; i < tn->nagents; i++) { /* paid time of agents still logged in */
    ks_sim_agent *a = &tn->agents[i];
    if (a->state != SIM_A_OFF) {
      tn->paid_s[a->team == SIM_TEAM_DIGITAL ? SIM_CC_DIGITAL : SIM_CC_VOICE] +=
          (double)(s->now - a->acct_ms) / 1000.0;
      a->acct_ms = s->now;
    }
  }
  const int64_t from = day - SIM_DAY;
  for (int cc = 0; cc < SIM_NCC; cc++) {
    emit_cost(s, tenant, cc, KPISTREAM__V1__COST_KIND__COST_VARIABLE, 0,
              tn->paid_s[cc] / 3600.0 * LABOUR_RATE, from, day);
    if (cc == SIM_CC_VOICE)
      emit_cost(s, tenant, cc, KPISTREAM__V1__COST_KIND__COST_VARIABLE, 1,
                tn->talk_voice_s / 60.0 * TELEPHONY_RATE, from, day);
    emit_cost(s, tenant, cc, KPISTREAM__V1__COST_KIND__COST_FIXED, 2,
              cc_agents(tn, cc) * LICENCE_DAY, from, day);
    emit_cost(s, tenant, cc, KPISTREAM__V1__COST_KIND__COST_FIXED, 3,
              FACILITIES_DAY * tn->factor * s->o.rate_scale * (cc == SIM_CC_VOICE ? 1.0 : 0.6),
              from, day);
    tn->paid_s[cc] = 0;
  }
  tn->talk_voice_s = 0;
}

static void emit_hr(ks_sim *s, int tenant, const ks_sim_agent *a, int team, int type, int sep,
                    int headcount) {
  ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_HR);
  if (o == NULL)
    return;
  if (a)
    o->agent_no = a->no;
  o->team = (uint8_t)team;
  o->u.hr.type = (uint8_t)type;
  o->u.hr.sep = (uint8_t)sep;
  o->u.hr.headcount = headcount;
}

static void day_hr(ks_sim *s, int tenant) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_rng *r = &tn->rng;
  for (int t = 0; t < SIM_NTEAMS; t++) {
    ks_sim_team *tm = &tn->team[t];
    for (uint32_t i = tm->first; i < tm->first + tm->n; i++) {
      ks_sim_agent *a = &tn->agents[i];
      /* ~3.5% a month leave; only between shifts */
      if (a->state != SIM_A_OFF || a->free_ms - 11 * SIM_HOUR > s->now || !ks_sim_chance(r, 0.0012))
        continue;
      emit_hr(s, tenant, a, t, KPISTREAM__V1__HR_EVENT_TYPE__HR_SEPARATION,
              ks_sim_chance(r, 0.8) ? KPISTREAM__V1__SEPARATION_KIND__SEPARATION_VOLUNTARY
                                    : KPISTREAM__V1__SEPARATION_KIND__SEPARATION_INVOLUNTARY,
              0);
      /* the seat is filled by a new hire (same slot, new id) */
      a->no = ++tn->agent_no;
      a->quality = (uint8_t)ks_sim_below(r, 121); /* new hires start below the team */
      memset(a->shift, 0, sizeof a->shift);
      a->pend_unpl_ms = 0;
      a->unpl_until = 0;
      emit_hr(s, tenant, a, t, KPISTREAM__V1__HR_EVENT_TYPE__HR_HIRE, 0, 0);
    }
    emit_hr(s, tenant, NULL, t, KPISTREAM__V1__HR_EVENT_TYPE__HR_HEADCOUNT, 0, (int)tm->n);
  }
}

static void day_customers(ks_sim *s, int tenant) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  double active = (double)(tn->cust_hi - tn->cust_lo);
  double churn = active * 0.001 + tn->churn_carry; /* ~3% a month */
  uint32_t n = (uint32_t)floor(churn);
  tn->churn_carry = churn - n;
  if (n >= tn->cust_hi - tn->cust_lo)
    n = 0;
  tn->cust_lo += n;
  int64_t total = (int64_t)(tn->cust_hi - tn->cust_lo);
  int64_t business = total * 15 / 100;
  const int64_t counts[3] = {total, total - business, business};
  for (int seg = 0; seg < 3; seg++) {
    ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_CUSTOMER_BASE);
    if (o == NULL)
      return;
    o->u.base.active = counts[seg];
    o->u.base.segment = (uint8_t)seg; /* all, consumer, business */
  }
}

static void day_forecast(ks_sim *s, int tenant, int64_t day) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  const uint32_t ymd = ks_sim_yyyymmdd(day);
  for (int q = 0; q < KS_SIM_NQUEUES; q++)
    for (int k = 0; k < 96; k++) {
      int64_t from = day + (int64_t)k * 15 * SIM_MIN;
      double exp_n = ks_sim_expected_arrivals(s, tenant, q, from, from + 15 * SIM_MIN);
      double f = exp_n * ks_sim_lognormal(&tn->rng, 1.0, 0.08);
      double aht = ks_sim_aht_s(q) * clamp(1.0 + 0.05 * ks_sim_normal(&tn->rng), 0.8, 1.2);
      tn->fc[q][k] = (float)f;
      ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_FORECAST);
      if (o == NULL)
        return;
      o->channel = (uint8_t)ks_sim_queue_channel(q);
      o->queue = (uint8_t)q;
      o->u.fc.start = from;
      o->u.fc.len_s = 900;
      o->u.fc.offered = round(f * 100.0) / 100.0;
      o->u.fc.aht_s = round(aht * 10.0) / 10.0;
      o->u.fc.required = ks_sim_erlang_c_agents(f * aht / 900.0, aht,
                                                q == KS_SIM_Q_EMAIL_SUPPORT ? 3600.0 : 20.0, 0.8);
      o->u.fc.day = ymd;
    }
}

void ks_sim_on_day_business(ks_sim *s, int tenant, int64_t day, int first) {
  if (!first)
    day_costs(s, tenant, day);
  day_hr(s, tenant);
  day_customers(s, tenant);
  day_forecast(s, tenant, day);
}

void ks_sim_day_budget(ks_sim *s, int tenant, int64_t day) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  for (int cc = 0; cc < SIM_NCC; cc++) {
    double amount =
        tn->budget_hours[cc] * LABOUR_RATE + cc_agents(tn, cc) * LICENCE_DAY +
        FACILITIES_DAY * tn->factor * s->o.rate_scale * (cc == SIM_CC_VOICE ? 1.0 : 0.6);
    if (cc == SIM_CC_VOICE) /* expected voice minutes */
      for (int q = KS_SIM_Q_VOICE_SALES; q <= KS_SIM_Q_VOICE_BILLING; q++) {
        double n = 0;
        for (int k = 0; k < 96; k++)
          n += tn->fc[q][k];
        amount += n * ks_sim_talk_mean_s(q) / 60.0 * TELEPHONY_RATE;
      }
    ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_BUDGET);
    if (o == NULL)
      return;
    o->u.budget.amount = round(amount * 100.0) / 100.0;
    o->u.budget.start = day;
    o->u.budget.end = day + SIM_DAY;
    o->u.budget.cc = (uint8_t)cc;
    tn->budget_hours[cc] = 0;
  }
}

/* ---- orders and registrations -------------------------------------------------------- */

static void emit_order(ks_sim *s, int tenant, const ks_sim_agent *a, const ks_sim_contact *c,
                       uint32_t customer, double mean) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_ORDER);
  if (o == NULL)
    return;
  if (c) {
    o->channel = c->channel;
    o->queue = c->queue;
    o->contact_no = c->no;
  }
  if (a) {
    o->agent_no = a->no;
    o->team = a->team;
  }
  o->customer_no = customer;
  o->u.order.no = ++tn->order_no;
  o->u.order.amount = round(ks_sim_lognormal(&tn->rng, mean, 0.8) * 100.0) / 100.0;
  o->u.order.margin = round((0.25 + 0.25 * ks_sim_unif(&tn->rng)) * 1000.0) / 1000.0;
  o->u.order.segment = (uint8_t)(1 + segment_of(customer));
}

static void emit_registration(ks_sim *s, int tenant, const ks_sim_agent *a, const ks_sim_contact *c,
                              uint32_t customer) {
  ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_CUSTOMER_REGISTERED);
  if (o == NULL)
    return;
  if (c) {
    o->channel = c->channel;
    o->queue = c->queue;
    o->contact_no = c->no;
  }
  if (a) {
    o->agent_no = a->no;
    o->team = a->team;
  }
  o->customer_no = customer;
  o->u.reg.segment = (uint8_t)(1 + segment_of(customer));
}

void ks_sim_on_organic(ks_sim *s, const ks_sim_item *it) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  if (ks_sim_chance(&tn->rng, 0.2)) {
    emit_registration(s, it->tenant, NULL, NULL, tn->cust_hi++);
    return;
  }
  uint32_t customer = tn->cust_lo + ks_sim_below(&tn->rng, tn->cust_hi - tn->cust_lo);
  emit_order(s, it->tenant, NULL, NULL, customer, 80.0);
}

/* ---- after a contact --------------------------------------------------------------------- */

void ks_sim_followups(ks_sim *s, int tenant, const ks_sim_agent *a, const ks_sim_contact *c) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_rng *r = &tn->rng;
  const int sales = c->queue == KS_SIM_Q_VOICE_SALES || c->queue == KS_SIM_Q_CHAT_SALES;
  double p_order =
      sales ? (c->channel == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT ? 0.18 : 0.25) : 0.02;
  if (c->flags & SIM_CF_NBA_ACCEPTED)
    p_order += 0.5;
  if (ks_sim_chance(r, p_order)) {
    if (c->flags & SIM_CF_PROSPECT)
      emit_registration(s, tenant, a, c, c->customer);
    emit_order(s, tenant, a, c, c->customer, sales ? 150.0 : 40.0);
  }
  const uint32_t wait_s = (uint32_t)clamp((double)c->wait_ms / 1000.0, 0, 65535);
  const uint32_t bits = (a->leg_resolved ? SIM_FU_RESOLVED : 0) |
                        ((c->flags & SIM_CF_ESCALATED) ? SIM_FU_ESCALATED : 0) |
                        (c->transfers ? SIM_FU_TRANSFERRED : 0) | (wait_s << SIM_FU_WAIT_SHIFT) |
                        ((uint32_t)a->quality << SIM_FU_QUALITY_SHIFT);
  if (ks_sim_chance(r, s->o.survey_rate)) /* answered; the others never reply */
    ks_sim_push(s, s->now + SIM_MIN + ks_sim_ms(ks_sim_exp(r, 1800.0)), SIM_K_SURVEY, tenant,
                c->queue, a->no, bits, c->customer, c->no);
  double p_complaint = 0.008 + (a->leg_resolved ? 0 : 0.04) + (wait_s > 300 ? 0.03 : 0);
  if (ks_sim_chance(r, p_complaint))
    ks_sim_push(s, s->now + 5 * SIM_MIN + ks_sim_ms(ks_sim_exp(r, 7200.0)), SIM_K_COMPLAINT, tenant,
                c->queue, a->no, bits, c->customer, c->no);
  if (ks_sim_chance(r, 0.04))
    ks_sim_push(s, s->now + 2 * SIM_HOUR + ks_sim_ms(86400.0 * ks_sim_unif(r)), SIM_K_QA, tenant,
                c->queue, a->no, bits, c->customer, c->no);
}

void ks_sim_sentiment(ks_sim *s, int tenant, const ks_sim_agent *a, const ks_sim_contact *c) {
  ks_sim_rng *r = &s->tenants[tenant].rng;
  double start = clamp(-0.1 + 0.35 * ks_sim_normal(r) - (double)c->wait_ms / 600000.0, -1, 1);
  double end =
      clamp(start + 0.25 + ((double)a->quality - 100.0) / 400.0 + 0.3 * ks_sim_normal(r), -1, 1);
  ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_SENTIMENT);
  if (o == NULL)
    return;
  o->channel = c->channel;
  o->queue = c->queue;
  o->contact_no = c->no;
  o->customer_no = c->customer;
  o->agent_no = a->no;
  o->team = a->team;
  o->u.senti.overall = round((0.4 * start + 0.6 * end) * 1000.0) / 1000.0;
  o->u.senti.has_se = c->channel == KPISTREAM__V1__CHANNEL__CHANNEL_VOICE || ks_sim_chance(r, 0.5);
  if (o->u.senti.has_se) {
    o->u.senti.start = round(start * 1000.0) / 1000.0;
    o->u.senti.end = round(end * 1000.0) / 1000.0;
  }
  o->u.senti.magnitude =
      round((0.2 + fabs(o->u.senti.overall) + 0.3 * ks_sim_unif(r)) * 1000.0) / 1000.0;
}

/* The envelope of a follow-up: the contact and the agent who handled it. */
static ks_sim_out *emit_fu(ks_sim *s, const ks_sim_item *it, int body) {
  ks_sim_out *o = ks_sim_emit(s, it->tenant, body);
  if (o == NULL)
    return NULL;
  o->channel = (uint8_t)ks_sim_queue_channel(it->q);
  o->queue = it->q;
  o->contact_no = it->x;
  o->customer_no = it->c;
  o->agent_no = it->a;
  o->team = (uint8_t)ks_sim_queue_team(it->q);
  return o;
}

void ks_sim_on_survey(ks_sim *s, const ks_sim_item *it) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_rng *r = &tn->rng;
  const uint32_t b = it->b;
  double wait_s = (double)((b >> SIM_FU_WAIT_SHIFT) & 0xFFFF);
  double sat = ((b & SIM_FU_RESOLVED) ? 0.78 : 0.35) - clamp(wait_s / 900.0, 0, 0.3) -
               ((b & SIM_FU_ESCALATED) ? 0.05 : 0) - ((b & SIM_FU_TRANSFERRED) ? 0.05 : 0) +
               ((double)(b >> SIM_FU_QUALITY_SHIFT) - 100.0) / 1000.0 + 0.15 * ks_sim_normal(r);
  sat = clamp(sat, 0, 1);
  static const double w[3] = {0.60, 0.25, 0.15};
  int type = 1 + ks_sim_pick(r, w, 3);
  ks_sim_out *o = emit_fu(s, it, KPISTREAM__V1__EVENT__BODY_SURVEY);
  if (o == NULL)
    return;
  s->st.surveys++;
  o->u.survey.no = ++tn->survey_no;
  o->u.survey.type = (uint8_t)type;
  if (type == KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT) {
    static const int32_t maxes[3] = {5, 10, 3}; /* per tenant: 1-5, 1-10, 1-3 */
    o->u.survey.min = 1;
    o->u.survey.max = maxes[it->tenant % 3];
    o->u.survey.score = 1 + (int32_t)lround(sat * (o->u.survey.max - 1));
  } else if (type == KPISTREAM__V1__SURVEY_TYPE__SURVEY_NPS) {
    o->u.survey.min = 0;
    o->u.survey.max = 10;
    o->u.survey.score = (int32_t)lround(clamp(sat * 10.0 + 0.8 * ks_sim_normal(r), 0, 10));
  } else if (it->tenant % 2 == 0) { /* CES 2.0: 1-7 agreement that it was easy */
    o->u.survey.min = 1;
    o->u.survey.max = 7;
    o->u.survey.score = 1 + (int32_t)lround(sat * 6.0);
  } else { /* legacy CES: 1-5 effort, lower is better */
    o->u.survey.min = 1;
    o->u.survey.max = 5;
    o->u.survey.lower_better = 1;
    o->u.survey.score = 5 - (int32_t)lround(sat * 4.0);
  }
}

void ks_sim_on_complaint(ks_sim *s, const ks_sim_item *it) {
  ks_sim_rng *r = &s->tenants[it->tenant].rng;
  /* long_wait, unresolved_issue, agent_behaviour, billing_error, product_quality */
  double w[SIM_NCOMPLAINT_CATS] = {0.5, 0.5, 0.3, 0.3, 0.4};
  if (!(it->b & SIM_FU_RESOLVED))
    w[1] += 2.0;
  if (((it->b >> SIM_FU_WAIT_SHIFT) & 0xFFFF) > 300)
    w[0] += 2.0;
  if (it->q == KS_SIM_Q_VOICE_BILLING)
    w[3] += 1.5;
  static const double sev[3] = {0.6, 0.3, 0.1};
  int cat = ks_sim_pick(r, w, SIM_NCOMPLAINT_CATS);
  int severity = ks_sim_pick(r, sev, 3);
  ks_sim_out *o = emit_fu(s, it, KPISTREAM__V1__EVENT__BODY_COMPLAINT);
  if (o == NULL)
    return;
  o->u.complaint.category = (uint8_t)cat;
  o->u.complaint.severity = (uint8_t)severity;
}

void ks_sim_on_qa(ks_sim *s, const ks_sim_item *it) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_out *o = emit_fu(s, it, KPISTREAM__V1__EVENT__BODY_QA_EVALUATION);
  if (o == NULL)
    return;
  o->u.qa.no = ++tn->qa_no;
  o->u.qa.seed = ks_sim_rng_next(&tn->rng);
  o->u.qa.form = ks_sim_queue_channel(it->q) == KPISTREAM__V1__CHANNEL__CHANNEL_VOICE ? 0 : 1;
  o->u.qa.evaluator = (uint8_t)(1 + ks_sim_below(&tn->rng, 6));
  o->u.qa.quality = (uint8_t)(it->b >> SIM_FU_QUALITY_SHIFT);
  o->u.qa.na_sales = it->q != KS_SIM_Q_VOICE_SALES && it->q != KS_SIM_Q_CHAT_SALES;
}
