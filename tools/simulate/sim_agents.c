/*
 * sim_agents — the agent pool of each team, the daily staffing plan (Erlang C
 * per hour from the published forecast, grossed up for shrinkage, covered
 * greedily by 8.5-hour shifts), the assignment of shifts to agents (longest
 * rested first, 11 hours' rest), the published schedule segments (breaks,
 * lunch, training/meeting/coaching, planned leave; unplanned absences as
 * revision 2), and the agent state machine: login, available, on contact,
 * after-contact work, aux (scheduled activities and unplanned: technical
 * outages, personal time, missed offers), logout. Breaks due while busy are
 * taken after the contact, logins and returns drift a little: adherence is
 * imperfect, as in life.
 */
#include "sim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SHIFT_MS    (8 * SIM_HOUR + 30 * SIM_MIN) /* 8 h paid + 30 min unpaid lunch */
#define SHIFT_HOURS 8                             /* hours a shift covers in the plan */
#define REST_MS     (11 * SIM_HOUR)
#define SHRINKAGE   0.18

#define ACT(x) KPISTREAM__V1__ACTIVITY__ACTIVITY_##x
#define AUX(x) KPISTREAM__V1__AUX_REASON__AUX_##x
#define AST(x) KPISTREAM__V1__AGENT_STATE__AGENT_##x

/* ---- Erlang C ------------------------------------------------------------------- */

double ks_sim_erlang_c_agents(double a, double aht_s, double t_s, double target) {
  if (!(a > 0) || !(aht_s > 0))
    return 0;
  /* Erlang B by recursion, then C = N B / (N - A (1 - B)) */
  double b = 1.0;
  int n = 0;
  const int start = (int)floor(a) + 1;
  while (n < start) {
    n++;
    b = a * b / (n + a * b);
  }
  for (; n < 100000; n++, b = a * b / (n + a * b)) {
    double c = n * b / (n - a * (1.0 - b));
    double sl = 1.0 - c * exp(-(n - a) * t_s / aht_s);
    if (sl >= target)
      return n;
  }
  return n;
}

double ks_sim_expected_arrivals(const ks_sim *s, int tenant, int queue, int64_t from, int64_t to) {
  double sum = 0;
  const int64_t step = SIM_MIN;
  for (int64_t t = from; t < to; t += step) {
    int64_t len = to - t < step ? to - t : step;
    sum += ks_sim_arrival_rate(s, tenant, queue, t + len / 2) * (double)len / (double)SIM_HOUR;
  }
  return sum;
}

/* Agents needed on shift per hour for one team, from 96 interval forecasts. */
static void team_need(const float fc[KS_SIM_NQUEUES][96], int team, int need[24]) {
  for (int h = 0; h < 24; h++) {
    double live_a = 0, live_aht_w = 0, email_a = 0;
    for (int q = 0; q < KS_SIM_NQUEUES; q++) {
      if (ks_sim_queue_team(q) != team)
        continue;
      double n = 0;
      for (int k = 0; k < 4; k++)
        n += fc[q][h * 4 + k];
      double a = n * ks_sim_aht_s(q) / 3600.0;
      if (q == KS_SIM_Q_EMAIL_SUPPORT) {
        email_a += a;
      } else {
        live_a += a;
        live_aht_w += a * ks_sim_aht_s(q);
      }
    }
    double aht = live_a > 0 ? live_aht_w / live_a : 300.0;
    double t_s = team == SIM_TEAM_DIGITAL ? 30.0 : 20.0;
    double n = ks_sim_erlang_c_agents(live_a, aht, t_s, 0.8) + ceil(email_a * 1.1);
    int staff = (int)ceil(n / (1.0 - SHRINKAGE));
    need[h] = staff < 1 ? 1 : staff;
  }
}

/* Greedy cover: shifts start at the first hour still short. Returns the
 * number of shifts; starts[h] gets the shifts starting at hour h; carry (the
 * coverage reaching into the next day) is updated. */
static int cover(const int need[24], int carry[12], int starts[24]) {
  int cov[24 + 12] = {0};
  for (int h = 0; h < 12; h++)
    cov[h] = carry[h];
  int n = 0;
  for (int h = 0; h < 24; h++) {
    starts[h] = need[h] > cov[h] ? need[h] - cov[h] : 0;
    for (int k = 0; k < SHIFT_HOURS; k++)
      cov[h + k] += starts[h];
    n += starts[h];
  }
  for (int h = 0; h < 12; h++)
    carry[h] = cov[24 + h];
  return n;
}

/* ---- pool ----------------------------------------------------------------------- */

int ks_sim_agents_init(ks_sim *s, ks_sim_tenant *tn, int tenant) {
  /* size each team for a Monday (the busiest day) without forecast error */
  int64_t day = ks_sim_day_start(s->o.start_ms);
  while ((((day / SIM_DAY) % 7) + 7 + 3) % 7 != 0)
    day += SIM_DAY;
  float fc[KS_SIM_NQUEUES][96];
  for (int q = 0; q < KS_SIM_NQUEUES; q++)
    for (int k = 0; k < 96; k++)
      fc[q][k] = (float)ks_sim_expected_arrivals(s, tenant, q, day + k * 15 * SIM_MIN,
                                                 day + (k + 1) * 15 * SIM_MIN);
  uint32_t size[SIM_NTEAMS], total = 0;
  int starts[24];
  for (int t = 0; t < SIM_NTEAMS; t++) {
    int need[24], carry[12] = {0};
    team_need((const float(*)[96])fc, t, need);
    cover(need, carry, starts);
    int n = cover(need, carry, starts); /* steady state: with yesterday's carry */
    size[t] = (uint32_t)ceil(n * 1.45) + 2;
    total += size[t];
  }
  tn->agents = calloc(total, sizeof *tn->agents);
  if (tn->agents == NULL)
    return KS_ENOMEM;
  tn->nagents = total;
  uint32_t first = 0;
  for (int t = 0; t < SIM_NTEAMS; t++) {
    ks_sim_team *tm = &tn->team[t];
    tm->first = first;
    tm->n = size[t];
    tm->idle_head = tm->idle_tail = SIM_NIL;
    for (uint32_t i = first; i < first + size[t]; i++) {
      ks_sim_agent *a = &tn->agents[i];
      a->no = ++tn->agent_no;
      a->tenant = (uint8_t)tenant;
      a->team = (uint8_t)t;
      a->prev = a->next = SIM_NIL;
      a->cslot = SIM_NIL;
      a->state = SIM_A_OFF;
      a->ostate = AST(LOGGED_OUT);
      a->quality = (uint8_t)(ks_sim_below(&tn->rng, 201));
      a->free_ms = INT64_MIN / 2;
    }
    first += size[t];
  }
  return 0;
}

/* ---- idle lists ------------------------------------------------------------------ */

static void idle_append(ks_sim_tenant *tn, uint32_t ag) {
  ks_sim_agent *a = &tn->agents[ag];
  if (a->in_idle)
    return;
  ks_sim_team *tm = &tn->team[a->team];
  a->prev = tm->idle_tail;
  a->next = SIM_NIL;
  if (tm->idle_tail != SIM_NIL)
    tn->agents[tm->idle_tail].next = ag;
  else
    tm->idle_head = ag;
  tm->idle_tail = ag;
  a->in_idle = 1;
}

void ks_sim_idle_remove(ks_sim_tenant *tn, uint32_t ag) {
  ks_sim_agent *a = &tn->agents[ag];
  if (!a->in_idle)
    return;
  ks_sim_team *tm = &tn->team[a->team];
  if (a->prev != SIM_NIL)
    tn->agents[a->prev].next = a->next;
  else
    tm->idle_head = a->next;
  if (a->next != SIM_NIL)
    tn->agents[a->next].prev = a->prev;
  else
    tm->idle_tail = a->prev;
  a->prev = a->next = SIM_NIL;
  a->in_idle = 0;
}

/* ---- state publication and the state machine -------------------------------------- */

void ks_sim_agent_state(ks_sim *s, int tenant, uint32_t ag, int state, int aux, int detail) {
  ks_sim_agent *a = &s->tenants[tenant].agents[ag];
  a->ostate = (uint8_t)state;
  a->oaux = (uint8_t)aux;
  ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_AGENT_STATE);
  if (o == NULL)
    return;
  o->agent_no = a->no;
  o->team = a->team;
  o->u.astate.state = (uint8_t)state;
  o->u.astate.aux = (uint8_t)aux;
  o->u.astate.detail = (uint8_t)detail;
}

static int cost_center(int team) {
  return team == SIM_TEAM_DIGITAL ? SIM_CC_DIGITAL : SIM_CC_VOICE;
}

void ks_sim_agent_settle(ks_sim *s, int tenant, uint32_t ag) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_agent *a = &tn->agents[ag];
  if (a->state == SIM_A_RESERVED || a->state == SIM_A_TALK || a->state == SIM_A_ACW)
    return; /* busy: settled again when the contact is done */
  if (a->want == SIM_WANT_OFF) {
    if (a->state == SIM_A_OFF)
      return;
    ks_sim_idle_remove(tn, ag);
    a->state = SIM_A_OFF;
    a->unpl_until = 0;
    a->pend_unpl_ms = 0;
    tn->paid_s[cost_center(a->team)] += (double)(s->now - a->acct_ms) / 1000.0;
    tn->team[a->team].logged_in--;
    ks_sim_agent_state(s, tenant, ag, AST(LOGGED_OUT), 0, 0);
    return;
  }
  if (a->state == SIM_A_OFF) { /* logging in */
    a->login_ms = a->acct_ms = s->now;
    tn->team[a->team].logged_in++;
    a->state = SIM_A_AUX; /* provisional; published below */
  }
  if (a->unpl_until <= s->now && a->want == SIM_WANT_ONQ && a->pend_unpl_ms > 0) {
    a->unpl_aux = a->pend_unpl_aux;
    a->unpl_detail = a->pend_unpl_detail;
    a->unpl_until = s->now + a->pend_unpl_ms;
    a->pend_unpl_ms = 0;
    ks_sim_push(s, a->unpl_until, SIM_K_UNPLANNED_END, tenant, 0, ag, ++a->unpl_token, 0, 0);
  }
  int aux = -1, detail = SIM_DET_NONE;
  if (a->unpl_until > s->now) {
    aux = a->unpl_aux;
    detail = a->unpl_detail;
  } else if (a->want == SIM_WANT_AUX) {
    aux = a->want_aux;
    detail = SIM_DET_SCHEDULED;
  }
  if (aux >= 0) {
    ks_sim_idle_remove(tn, ag);
    a->state = SIM_A_AUX;
    if (a->ostate != AST(AUX) || a->oaux != aux)
      ks_sim_agent_state(s, tenant, ag, AST(AUX), aux, detail);
    return;
  }
  a->state = SIM_A_IDLE;
  if (a->ostate != AST(AVAILABLE))
    ks_sim_agent_state(s, tenant, ag, AST(AVAILABLE), 0, SIM_DET_NONE);
  if (a->in_idle)
    return;
  if (!ks_sim_agent_take_work(s, tenant, ag))
    idle_append(tn, ag);
}

/* ---- shifts and their segments ------------------------------------------------------ */

static int shift_segments(const ks_sim_shift *sh, ks_sim_seg *sg) {
  const int64_t S = sh->start, b = (int64_t)sh->boff * 15 * SIM_MIN;
  int n = 0;
#define SEG(from, to, act, pay) (sg[n++] = (ks_sim_seg){(from), (to), (uint8_t)(act), (pay)})
  if (sh->status == SIM_SHIFT_LEAVE) {
    SEG(S, sh->end, ACT(PLANNED_LEAVE), 1);
    return n;
  }
  SEG(S, S + 2 * SIM_HOUR + b, ACT(ON_QUEUE), 1);
  SEG(S + 2 * SIM_HOUR + b, S + 2 * SIM_HOUR + 15 * SIM_MIN + b, ACT(BREAK), 1);
  SEG(S + 2 * SIM_HOUR + 15 * SIM_MIN + b, S + 4 * SIM_HOUR + b, ACT(ON_QUEUE), 1);
  SEG(S + 4 * SIM_HOUR + b, S + 4 * SIM_HOUR + 30 * SIM_MIN + b, ACT(LUNCH), 0);
  if (sh->extra) {
    SEG(S + 4 * SIM_HOUR + 30 * SIM_MIN + b, S + 5 * SIM_HOUR + b, ACT(ON_QUEUE), 1);
    SEG(S + 5 * SIM_HOUR + b, S + 5 * SIM_HOUR + 30 * SIM_MIN + b, sh->extra, 1);
    SEG(S + 5 * SIM_HOUR + 30 * SIM_MIN + b, S + 6 * SIM_HOUR + 30 * SIM_MIN + b, ACT(ON_QUEUE), 1);
  } else {
    SEG(S + 4 * SIM_HOUR + 30 * SIM_MIN + b, S + 6 * SIM_HOUR + 30 * SIM_MIN + b, ACT(ON_QUEUE), 1);
  }
  SEG(S + 6 * SIM_HOUR + 30 * SIM_MIN + b, S + 6 * SIM_HOUR + 45 * SIM_MIN + b, ACT(BREAK), 1);
  SEG(S + 6 * SIM_HOUR + 45 * SIM_MIN + b, sh->end, ACT(ON_QUEUE), 1);
#undef SEG
  return n;
}

static ks_sim_shift *shift_by_token(ks_sim_agent *a, uint32_t token) {
  for (int i = 0; i < 2; i++)
    if (a->shift[i].start && a->shift[i].token == token)
      return &a->shift[i];
  return NULL;
}

static void publish_segment(ks_sim *s, int tenant, const ks_sim_agent *a, const ks_sim_seg *g,
                            uint32_t day, int revision) {
  ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_SCHEDULE);
  if (o == NULL)
    return;
  o->agent_no = a->no;
  o->team = a->team;
  o->u.sched.start = g->start;
  o->u.sched.end = g->end;
  o->u.sched.day = day;
  o->u.sched.activity = g->activity;
  o->u.sched.paid = g->paid;
  o->u.sched.revision = (uint8_t)revision;
}

static int seg_at(const ks_sim_seg *sg, int n, int64_t t) {
  int i = 0;
  while (i < n && sg[i].end <= t)
    i++;
  return i;
}

static void assign_shift(ks_sim *s, int tenant, int team, int64_t start) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_team *tm = &tn->team[team];
  ks_sim_rng *r = &tn->rng;
  const int64_t end = start + SHIFT_MS;
  tn->budget_hours[cost_center(team)] += 8.0;
  if (end <= s->now)
    return; /* already over when the simulation starts */
  /* Shifts are assigned in order of start, so agents taken round-robin are
   * taken longest-rested first: if the next one is not rested, nobody is. */
  const uint32_t best = tm->first + tm->rr;
  ks_sim_agent *a = &tn->agents[best];
  if (a->free_ms > start)
    return; /* the shift stays open */
  /* the older of the two slots ended before the newer one began */
  int slot = a->shift[0].start == 0 || a->shift[0].end <= s->now ? 0 : 1;
  if (a->shift[slot].start && a->shift[slot].end > s->now)
    return;
  tm->rr = (tm->rr + 1) % tm->n;
  a->free_ms = end + REST_MS;
  ks_sim_shift *sh = &a->shift[slot];
  memset(sh, 0, sizeof *sh);
  sh->start = start;
  sh->end = end;
  sh->token = ++tn->shift_token;
  sh->boff = (uint8_t)ks_sim_below(r, 3);
  double u = ks_sim_unif(r);
  sh->status = u < 0.03 ? SIM_SHIFT_LEAVE : u < 0.07 ? SIM_SHIFT_ABSENT : SIM_SHIFT_WORK;
  if (ks_sim_chance(r, 0.25)) {
    static const uint8_t extra[3] = {ACT(TRAINING), ACT(MEETING), ACT(COACHING)};
    sh->extra = extra[ks_sim_below(r, 3)];
  }
  ks_sim_seg sg[SIM_MAX_SEGS];
  int n = shift_segments(sh, sg);
  uint32_t day = ks_sim_yyyymmdd(tn->day_start);
  for (int i = 0; i < n; i++)
    publish_segment(s, tenant, a, &sg[i], day, 1);
  if (sh->status == SIM_SHIFT_LEAVE)
    return;
  if (sh->status == SIM_SHIFT_ABSENT) {
    ks_sim_push(s, start - 10 * SIM_MIN - ks_sim_ms(4800.0 * ks_sim_unif(r)), SIM_K_ABSENCE, tenant,
                0, best, sh->token, 0, 0);
    return;
  }
  int64_t login = start;
  if (start >= s->now)
    login += ks_sim_chance(r, 0.75) ? ks_sim_ms(180.0 * ks_sim_unif(r) - 120.0)
                                    : ks_sim_ms(ks_sim_exp(r, 240.0));
  int idx = seg_at(sg, n, login > s->now ? login : s->now);
  ks_sim_push(s, login, SIM_K_SEG, tenant, 0, best, sh->token, (uint32_t)idx, 0);
  /* unplanned not-ready time somewhere in the shift */
  if (ks_sim_chance(r, 0.12))
    ks_sim_push(s, start + SIM_HOUR / 2 + ks_sim_ms(27000.0 * ks_sim_unif(r)), SIM_K_UNPLANNED,
                tenant, 0, best, sh->token, AUX(TECHNICAL_OUTAGE),
                (uint64_t)ks_sim_ms(60.0 + ks_sim_lognormal(r, 660.0, 0.6)) |
                    ((uint64_t)(ks_sim_chance(r, 0.5) ? SIM_DET_NETWORK : SIM_DET_CRM_DOWN) << 48));
  if (ks_sim_chance(r, 0.30))
    ks_sim_push(s, start + SIM_HOUR / 2 + ks_sim_ms(27000.0 * ks_sim_unif(r)), SIM_K_UNPLANNED,
                tenant, 0, best, sh->token, AUX(PERSONAL),
                (uint64_t)ks_sim_ms(180.0 + 420.0 * ks_sim_unif(r)) |
                    ((uint64_t)SIM_DET_PERSONAL << 48));
}

void ks_sim_plan_day(ks_sim *s, int tenant) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  int starts[24];
  for (int t = 0; t < SIM_NTEAMS; t++) {
    int need[24];
    team_need((const float(*)[96])tn->fc, t, need);
    cover(need, tn->team[t].carry, starts);
    for (int h = 0; h < 24; h++)
      for (int i = 0; i < starts[h]; i++)
        assign_shift(s, tenant, t, tn->day_start + (int64_t)h * SIM_HOUR);
  }
}

/* ---- agent actions ------------------------------------------------------------------ */

static int aux_of(int activity) {
  switch (activity) {
  case ACT(BREAK):
    return AUX(BREAK);
  case ACT(LUNCH):
    return AUX(LUNCH);
  case ACT(TRAINING):
    return AUX(TRAINING);
  case ACT(MEETING):
    return AUX(MEETING);
  case ACT(COACHING):
    return AUX(COACHING);
  case ACT(OFFLINE_WORK):
    return AUX(OFFLINE_WORK);
  default:
    return AUX(PERSONAL);
  }
}

void ks_sim_on_seg(ks_sim *s, const ks_sim_item *it) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_agent *a = &tn->agents[it->a];
  ks_sim_shift *sh = shift_by_token(a, it->b);
  if (sh == NULL || sh->status != SIM_SHIFT_WORK)
    return;
  ks_sim_seg sg[SIM_MAX_SEGS];
  int n = shift_segments(sh, sg);
  int i = (int)it->c;
  if (i >= n) {
    a->want = SIM_WANT_OFF;
    ks_sim_agent_settle(s, it->tenant, it->a);
    return;
  }
  if (sg[i].activity == ACT(ON_QUEUE)) {
    a->want = SIM_WANT_ONQ;
  } else {
    a->want = SIM_WANT_AUX;
    a->want_aux = (uint8_t)aux_of(sg[i].activity);
  }
  ks_sim_agent_settle(s, it->tenant, it->a);
  /* the next boundary, with a little drift (late returns, early breaks) */
  ks_sim_rng *r = &tn->rng;
  int64_t drift = ks_sim_chance(r, 0.7) ? ks_sim_ms(120.0 * ks_sim_unif(r) - 60.0)
                                        : ks_sim_ms(ks_sim_exp(r, 150.0));
  if (i + 1 == n)
    drift = ks_sim_ms(180.0 * ks_sim_unif(r)); /* log out at the end, a few minutes late at most */
  ks_sim_push(s, sg[i].end + drift, SIM_K_SEG, it->tenant, 0, it->a, it->b, (uint32_t)(i + 1), 0);
}

void ks_sim_on_absence(ks_sim *s, const ks_sim_item *it) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_agent *a = &tn->agents[it->a];
  ks_sim_shift *sh = shift_by_token(a, it->b);
  if (sh == NULL)
    return;
  ks_sim_seg g = {sh->start, sh->end, ACT(UNPLANNED_ABSENCE), 1};
  publish_segment(s, it->tenant, a, &g, ks_sim_yyyymmdd(sh->start), 2);
}

void ks_sim_on_unplanned(ks_sim *s, const ks_sim_item *it) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_agent *a = &tn->agents[it->a];
  ks_sim_shift *sh = shift_by_token(a, it->b);
  if (sh == NULL || a->state == SIM_A_OFF || s->now >= sh->end)
    return;
  a->pend_unpl_aux = (uint8_t)it->c;
  a->pend_unpl_detail = (uint8_t)(it->x >> 48);
  a->pend_unpl_ms = (int64_t)(it->x & ((UINT64_C(1) << 48) - 1));
  ks_sim_agent_settle(s, it->tenant, it->a);
}

void ks_sim_on_unplanned_end(ks_sim *s, const ks_sim_item *it) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_agent *a = &tn->agents[it->a];
  if (a->unpl_token != it->b)
    return;
  a->unpl_until = 0;
  ks_sim_agent_settle(s, it->tenant, it->a);
}
