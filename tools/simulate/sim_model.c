/*
 * sim_model — options, the pending-action heap, the output FIFO, the arrival
 * curve and the public ks_sim_* API. The PRNG and calendar are in
 * sim_util.c, the contact lifecycle in sim_contacts.c and sim_talk.c, agents
 * and schedules in sim_agents.c, feedback and business bodies in
 * sim_business.c, protobuf materialisation in sim_emit.c (see
 * sim_internal.h for the structure).
 */
#include "sim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/plugin.h"

/* ---- names, queues, the arrival curve ----------------------------------------- */

static const char *const topic_names[KS_SIM_NTOPICS] = {"events.voice",    "events.email",
                                                        "events.chat",     "events.agent",
                                                        "events.feedback", "events.business"};
static const char *const queue_names[KS_SIM_NQUEUES] = {"sales",   "support", "billing",
                                                        "support", "sales",   "support"};
static const char *const queue_labels[KS_SIM_NQUEUES] = {
    "voice/sales", "voice/support", "voice/billing", "email/support", "chat/sales", "chat/support"};
static const char *const team_names[SIM_NTEAMS] = {"voice-sales", "voice-care", "digital"};
static const char *const tenant_names[] = {"acme",  "globex",  "initech", "umbrella",
                                           "hooli", "soylent", "wonka",   "tyrell"};
/* contacts per hour at the daily peak, for a tenant of factor 1 */
static const double queue_peak[KS_SIM_NQUEUES] = {90, 150, 60, 50, 40, 70};
/* mean talk (email: work) and after-contact work, seconds; hold share, mean hold */
static const double queue_talk[KS_SIM_NQUEUES] = {330, 420, 360, 360, 480, 600};
static const double queue_acw[KS_SIM_NQUEUES] = {45, 75, 60, 60, 40, 50};
static const double queue_hold_p[KS_SIM_NQUEUES] = {0.15, 0.30, 0.25, 0, 0, 0};
/* weight of each hour of the day (UTC), at the hour's midpoint */
static const double hour_w[24] = {0.05, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.40,
                                  0.75, 0.95, 1.00, 0.92, 0.75, 0.85, 0.95, 0.88,
                                  0.75, 0.55, 0.40, 0.30, 0.22, 0.15, 0.10, 0.07};
/* Monday .. Sunday */
static const double dow_f[7] = {1.10, 1.00, 0.97, 0.95, 0.90, 0.55, 0.40};
#define DOW_MAX 1.10

const char *ks_sim_topic_name(ks_sim_topic t) {
  return (unsigned)t < KS_SIM_NTOPICS ? topic_names[t] : "";
}
const char *ks_sim_queue_name(int q) {
  return q >= 0 && q < KS_SIM_NQUEUES ? queue_names[q] : "";
}
const char *ks_sim_queue_label(int q) {
  return q >= 0 && q < KS_SIM_NQUEUES ? queue_labels[q] : "";
}
const char *sim_team_name(int team) {
  return team >= 0 && team < SIM_NTEAMS ? team_names[team] : "";
}

Kpistream__V1__Channel ks_sim_queue_channel(int q) {
  if (q == KS_SIM_Q_EMAIL_SUPPORT)
    return KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL;
  if (q == KS_SIM_Q_CHAT_SALES || q == KS_SIM_Q_CHAT_SUPPORT)
    return KPISTREAM__V1__CHANNEL__CHANNEL_CHAT;
  return KPISTREAM__V1__CHANNEL__CHANNEL_VOICE;
}

int sim_queue_team(int q) {
  if (q == KS_SIM_Q_VOICE_SALES)
    return SIM_TEAM_VOICE_SALES;
  if (q == KS_SIM_Q_VOICE_SUPPORT || q == KS_SIM_Q_VOICE_BILLING)
    return SIM_TEAM_VOICE_CARE;
  return SIM_TEAM_DIGITAL;
}

double sim_aht_s(int q) {
  return queue_talk[q] + queue_acw[q] + queue_hold_p[q] * 1.3 * 40.0;
}
double sim_talk_mean_s(int q) {
  return queue_talk[q];
}
double sim_acw_mean_s(int q) {
  return queue_acw[q];
}
double sim_hold_p(int q) {
  return queue_hold_p[q];
}

const char *ks_sim_tenant_name(const ks_sim *s, int tenant) {
  return tenant >= 0 && tenant < s->ntenants ? s->tenants[tenant].name : "";
}

static double hour_curve(double hours) {
  /* piecewise linear between hour midpoints, wrapping at midnight */
  double x = hours - 0.5;
  double f = floor(x);
  int h0 = ((int)f % 24 + 24) % 24;
  double a = x - f;
  return hour_w[h0] * (1.0 - a) + hour_w[(h0 + 1) % 24] * a;
}

double sim_curve(int queue, int64_t t_ms) {
  int64_t day = sim_day_start(t_ms);
  double hours = (double)(t_ms - day) / (double)SIM_HOUR;
  int dow = (int)(((day / SIM_DAY) % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
  double w;
  if (ks_sim_queue_channel(queue) == KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL)
    w = 0.35 + 0.65 * hour_curve(hours); /* e-mail is flatter */
  else if (ks_sim_queue_channel(queue) == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT)
    w = hour_curve(hours - 1.0); /* chat peaks an hour later */
  else
    w = hour_curve(hours);
  return w * dow_f[dow];
}

double ks_sim_arrival_rate(const ks_sim *s, int tenant, int queue, int64_t t_ms) {
  if (tenant < 0 || tenant >= s->ntenants || queue < 0 || queue >= KS_SIM_NQUEUES)
    return 0;
  return s->tenants[tenant].q[queue].peak_per_hour * sim_curve(queue, t_ms);
}

/* ---- the heap of pending actions ---------------------------------------------- */

static int item_less(const sim_item *a, const sim_item *b) {
  if (a->t != b->t)
    return a->t < b->t;
  if (a->tenant != b->tenant)
    return a->tenant < b->tenant;
  return a->seq < b->seq;
}

int sim_push(ks_sim *s, int64_t t, int kind, int tenant, int q, uint32_t a, uint32_t b, uint32_t c,
             uint64_t x) {
  if (s->nheap == s->capheap) {
    size_t ncap = s->capheap ? s->capheap * 2 : 1024;
    sim_item *nh = realloc(s->heap, ncap * sizeof *nh);
    if (nh == NULL) {
      s->oom = 1;
      return KS_ENOMEM;
    }
    s->heap = nh;
    s->capheap = ncap;
  }
  if (t < s->now)
    t = s->now;
  sim_item it = {
      t, ++s->tenants[tenant].seq, (uint8_t)kind, (uint8_t)tenant, (uint8_t)q, 0, a, b, c, x};
  size_t i = s->nheap++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!item_less(&it, &s->heap[p]))
      break;
    s->heap[i] = s->heap[p];
    i = p;
  }
  s->heap[i] = it;
  return 0;
}

static void heap_pop(ks_sim *s, sim_item *out) {
  *out = s->heap[0];
  sim_item last = s->heap[--s->nheap];
  size_t i = 0, n = s->nheap;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const sim_item *best = &last;
    if (l < n && item_less(&s->heap[l], best)) {
      m = l;
      best = &s->heap[l];
    }
    if (r < n && item_less(&s->heap[r], best))
      m = r;
    if (m == i)
      break;
    s->heap[i] = s->heap[m];
    i = m;
  }
  if (n)
    s->heap[i] = last;
}

/* ---- the output FIFO ------------------------------------------------------------ */

sim_out *sim_emit(ks_sim *s, int tenant, int body) {
  if (s->out_n == s->out_cap) {
    size_t ncap = s->out_cap ? s->out_cap * 2 : 1024;
    sim_out *no = malloc(ncap * sizeof *no);
    if (no == NULL) {
      s->oom = 1;
      return NULL;
    }
    for (size_t i = 0; i < s->out_n; i++)
      no[i] = s->out[(s->out_head + i) % s->out_cap];
    free(s->out);
    s->out = no;
    s->out_cap = ncap;
    s->out_head = 0;
  }
  sim_out *o = &s->out[(s->out_head + s->out_n++) % s->out_cap];
  memset(o, 0, sizeof *o);
  o->t = s->now;
  o->tenant = (uint8_t)tenant;
  o->ev_no = ++s->tenants[tenant].ev_no;
  o->body = (uint8_t)body;
  o->queue = o->team = SIM_NONE8;
  return o;
}

static ks_sim_topic topic_of(int body, int channel) {
  if (body >= 20 && body < 40) {
    if (channel == KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL)
      return KS_SIM_TOPIC_EMAIL;
    if (channel == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT)
      return KS_SIM_TOPIC_CHAT;
    return KS_SIM_TOPIC_VOICE;
  }
  switch (body) {
  case KPISTREAM__V1__EVENT__BODY_AGENT_STATE:
  case KPISTREAM__V1__EVENT__BODY_SCHEDULE:
  case KPISTREAM__V1__EVENT__BODY_HR:
    return KS_SIM_TOPIC_AGENT;
  case KPISTREAM__V1__EVENT__BODY_SURVEY:
  case KPISTREAM__V1__EVENT__BODY_SENTIMENT:
  case KPISTREAM__V1__EVENT__BODY_QA_EVALUATION:
  case KPISTREAM__V1__EVENT__BODY_COMPLAINT:
    return KS_SIM_TOPIC_FEEDBACK;
  default:
    return KS_SIM_TOPIC_BUSINESS;
  }
}

/* ---- options, create, free ---------------------------------------------------------- */

void ks_sim_options_default(ks_sim_options *o) {
  memset(o, 0, sizeof *o);
  o->seed = 1;
  o->start_ms = ks_days_from_civil(2026, 11, 23) * SIM_DAY + 8 * SIM_HOUR;
  o->duration_ms = 0;
  o->rate_scale = 1.0;
  o->tenants = 2;
  o->reopen_rate = 0.08;
  o->callback_wait_s = 30;
  o->callback_accept = 0.5;
  o->ring_no_answer = 0.03;
  o->survey_rate = 0.18;
}

static int share_ok(double v) {
  return v >= 0 && v <= 1; /* false for NaN */
}

static int options_ok(const ks_sim_options *o) {
  return o->tenants >= 1 && o->tenants <= KS_SIM_MAX_TENANTS && isfinite(o->rate_scale) &&
         o->rate_scale > 0 && o->rate_scale <= 100 && o->start_ms >= 0 &&
         o->start_ms <= INT64_C(253402300799000) /* 9999-12-31 */
         && share_ok(o->reopen_rate) && share_ok(o->callback_accept) &&
         share_ok(o->ring_no_answer) && share_ok(o->survey_rate) && o->callback_wait_s >= 0 &&
         o->callback_wait_s <= 86400;
}

static double tenant_factor(int i) {
  if (i == 0)
    return 1.0;
  double f = (double)i * 0.6180339887498949;
  return 0.3 + 0.7 * (f - floor(f));
}

static int tenant_init(ks_sim *s, int i) {
  sim_tenant *tn = &s->tenants[i];
  if (i < (int)(sizeof tenant_names / sizeof tenant_names[0]))
    snprintf(tn->name, sizeof tn->name, "%s", tenant_names[i]);
  else
    snprintf(tn->name, sizeof tn->name, "tenant-%02d", i + 1);
  snprintf(tn->currency, sizeof tn->currency, "%s", i % 2 ? "USD" : "EUR");
  tn->factor = tenant_factor(i);
  sim_rng_seed(&tn->rng, s->o.seed ^ (UINT64_C(0xD1B54A32D192ED03) * (uint64_t)(i + 1)));
  for (int q = 0; q < KS_SIM_NQUEUES; q++) {
    tn->q[q].head = tn->q[q].tail = SIM_NIL;
    tn->q[q].peak_per_hour = queue_peak[q] * tn->factor * s->o.rate_scale;
  }
  double pool = 400000.0 * tn->factor * s->o.rate_scale;
  tn->cust_lo = 1;
  tn->cust_hi = 1 + (uint32_t)(pool < 1000 ? 1000 : pool > 4e9 ? 4e9 : pool);
  tn->rep[0] = calloc(SIM_REPEAT_CAP, sizeof *tn->rep[0]);
  tn->rep[1] = calloc(SIM_REPEAT_CAP, sizeof *tn->rep[1]);
  if (tn->rep[0] == NULL || tn->rep[1] == NULL)
    return KS_ENOMEM;
  return sim_agents_init(s, tn, i);
}

/* Per-queue upper bound of the arrival rate (per ms) for thinning. */
static double lambda_max_per_ms(const ks_sim *s, int tenant, int q) {
  return s->tenants[tenant].q[q].peak_per_hour * DOW_MAX / (double)SIM_HOUR;
}
static double organic_rate_per_hour(const ks_sim *s, int tenant) {
  return 30.0 * s->tenants[tenant].factor * s->o.rate_scale;
}

ks_sim *ks_sim_new(const ks_sim_options *o) {
  if (o == NULL || !options_ok(o))
    return NULL;
  ks_sim *s = calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->o = *o;
  s->now = o->start_ms;
  s->end_ms = o->duration_ms > 0 && o->duration_ms < SIM_NEVER - o->start_ms
                  ? o->start_ms + o->duration_ms
                  : SIM_NEVER;
  s->free_contact = SIM_NIL;
  s->ntenants = o->tenants;
  s->tenants = calloc((size_t)o->tenants, sizeof *s->tenants);
  if (s->tenants == NULL || sim_scratch_new(s) != 0)
    goto fail;
  for (int i = 0; i < s->ntenants; i++) {
    if (tenant_init(s, i) != 0)
      goto fail;
    sim_tenant *tn = &s->tenants[i];
    sim_push(s, o->start_ms, SIM_K_DAY, i, 0, 1, 0, 0, 0);
    for (int q = 0; q < KS_SIM_NQUEUES; q++)
      sim_push(s, o->start_ms + (int64_t)ceil(sim_exp(&tn->rng, 1.0 / lambda_max_per_ms(s, i, q))),
               SIM_K_ARRIVAL, i, q, 0, 0, 0, 0);
    sim_push(
        s, o->start_ms + sim_ms(sim_exp(&tn->rng, 3600.0 / organic_rate_per_hour(s, i) / DOW_MAX)),
        SIM_K_ORGANIC, i, 0, 0, 0, 0, 0);
  }
  if (s->oom)
    goto fail;
  return s;
fail:
  ks_sim_free(s);
  return NULL;
}

void ks_sim_free(ks_sim *s) {
  if (s == NULL)
    return;
  if (s->tenants)
    for (int i = 0; i < s->ntenants; i++) {
      free(s->tenants[i].agents);
      free(s->tenants[i].rep[0]);
      free(s->tenants[i].rep[1]);
    }
  free(s->tenants);
  free(s->heap);
  free(s->out);
  sim_contacts_free(s);
  sim_scratch_free(s);
  free(s);
}

/* ---- running ---------------------------------------------------------------------- */

static void on_arrival_candidate(ks_sim *s, const sim_item *it) {
  sim_tenant *tn = &s->tenants[it->tenant];
  double lmax = lambda_max_per_ms(s, it->tenant, it->q);
  double rate = ks_sim_arrival_rate(s, it->tenant, it->q, it->t) / (double)SIM_HOUR;
  if (sim_unif(&tn->rng) * lmax < rate)
    sim_on_arrival(s, it);
  double gap = sim_exp(&tn->rng, 1.0 / lmax);
  sim_push(s, it->t + 1 + (int64_t)gap, SIM_K_ARRIVAL, it->tenant, it->q, 0, 0, 0, 0);
}

static void on_organic_candidate(ks_sim *s, const sim_item *it) {
  sim_tenant *tn = &s->tenants[it->tenant];
  double rmax = organic_rate_per_hour(s, it->tenant) * DOW_MAX;
  /* organic activity follows the web, i.e. the e-mail curve */
  double rate = organic_rate_per_hour(s, it->tenant) * sim_curve(KS_SIM_Q_EMAIL_SUPPORT, it->t);
  if (sim_unif(&tn->rng) * rmax < rate)
    sim_on_organic(s, it);
  sim_push(s, it->t + 1 + sim_ms(sim_exp(&tn->rng, 3600.0 / rmax)), SIM_K_ORGANIC, it->tenant, 0, 0,
           0, 0, 0);
}

static void on_day(ks_sim *s, const sim_item *it) {
  int64_t day = sim_day_start(it->t);
  int first = it->a == 1;
  s->tenants[it->tenant].day_start = day;
  sim_on_day_business(s, it->tenant, day, first);
  sim_plan_day(s, it->tenant);
  sim_day_budget(s, it->tenant, day);
  sim_push(s, day + SIM_DAY, SIM_K_DAY, it->tenant, 0, 0, 0, 0, 0);
}

/* Run the next action. 0 when the run is over. */
static int step(ks_sim *s) {
  if (s->nheap == 0 || s->heap[0].t >= s->end_ms)
    return 0;
  sim_item it;
  heap_pop(s, &it);
  s->now = it.t;
  switch ((sim_kind)it.kind) {
  case SIM_K_DAY:
    on_day(s, &it);
    break;
  case SIM_K_ARRIVAL:
    on_arrival_candidate(s, &it);
    break;
  case SIM_K_ORGANIC:
    on_organic_candidate(s, &it);
    break;
  case SIM_K_BOT_DONE:
    sim_on_bot_done(s, &it);
    break;
  case SIM_K_PATIENCE:
    sim_on_patience(s, &it);
    break;
  case SIM_K_RING_END:
    sim_on_ring_end(s, &it);
    break;
  case SIM_K_TALK_STEP:
    sim_on_talk_step(s, &it);
    break;
  case SIM_K_TALK_END:
    sim_on_talk_end(s, &it);
    break;
  case SIM_K_ACW_END:
    sim_on_acw_end(s, &it);
    break;
  case SIM_K_SEG:
    sim_on_seg(s, &it);
    break;
  case SIM_K_ABSENCE:
    sim_on_absence(s, &it);
    break;
  case SIM_K_UNPLANNED:
    sim_on_unplanned(s, &it);
    break;
  case SIM_K_UNPLANNED_END:
    sim_on_unplanned_end(s, &it);
    break;
  case SIM_K_SURVEY:
    sim_on_survey(s, &it);
    break;
  case SIM_K_COMPLAINT:
    sim_on_complaint(s, &it);
    break;
  case SIM_K_QA:
    sim_on_qa(s, &it);
    break;
  case SIM_K_REOPEN:
    sim_on_reopen(s, &it);
    break;
  case SIM_K_EMAIL_PICKUP:
    sim_on_email_pickup(s, &it);
    break;
  default:
    break;
  }
  return 1;
}

/* Run actions until an output is ready. 1: ready, 0: over, KS_ENOMEM. */
static int fill(ks_sim *s) {
  while (s->out_n == 0) {
    if (s->oom)
      return KS_ENOMEM;
    if (s->done || !step(s)) {
      s->done = 1;
      return 0;
    }
  }
  return s->oom ? KS_ENOMEM : 1;
}

int ks_sim_next(ks_sim *s, Kpistream__V1__Event **out_event, const char **out_topic) {
  int rc = fill(s);
  if (rc != 1)
    return rc;
  sim_out o = s->out[s->out_head];
  s->out_head = (s->out_head + 1) % s->out_cap;
  s->out_n--;
  Kpistream__V1__Event *ev = sim_materialize(s, &o);
  if (ev == NULL) {
    s->oom = 1;
    return KS_ENOMEM;
  }
  s->cur_topic = topic_of(o.body, o.channel);
  s->st.events++;
  s->st.per_topic[s->cur_topic]++;
  s->st.per_body[o.body & 63]++;
  s->st.now_ms = o.t;
  *out_event = ev;
  if (out_topic)
    *out_topic = topic_names[s->cur_topic];
  return 1;
}

ks_sim_topic ks_sim_current_topic(const ks_sim *s) {
  return s->cur_topic;
}

int64_t ks_sim_peek_time(ks_sim *s) {
  if (fill(s) != 1)
    return INT64_MAX;
  return s->out[s->out_head].t;
}

void ks_sim_get_stats(const ks_sim *s, ks_sim_stats *out) {
  *out = s->st;
  memset(out->waiting, 0, sizeof out->waiting);
  out->agents_logged_in = out->agents_total = 0;
  size_t bytes = s->capheap * sizeof(sim_item) + s->out_cap * sizeof(sim_out) +
                 s->capcontacts * sizeof(sim_contact);
  for (int i = 0; i < s->ntenants; i++) {
    const sim_tenant *tn = &s->tenants[i];
    for (int q = 0; q < KS_SIM_NQUEUES; q++)
      out->waiting[q] += tn->q[q].n;
    for (int t = 0; t < SIM_NTEAMS; t++)
      out->agents_logged_in += tn->team[t].logged_in;
    out->agents_total += tn->nagents;
    bytes += tn->nagents * sizeof(sim_agent) + 2 * SIM_REPEAT_CAP * sizeof(sim_repeat);
  }
  out->contacts_in_flight = s->live_contacts;
  out->pending = s->nheap;
  out->pool_bytes = bytes;
}
