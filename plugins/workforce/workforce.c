/*
 * workforce — the workforce KPI family: occupancy, utilization, schedule
 * adherence and conformance, planned and unplanned shrinkage (by reason),
 * absenteeism and technical downtime per interval and agent / team /
 * tenant; agent proficiency per day; attrition per month.
 *
 * Formulas, attribution rules and configuration: docs/metrics-workforce.md.
 *
 * Inputs: AgentStateChanged (state time), ScheduleSegment (the schedule),
 * HrEvent (headcount, hires, separations), AfterContactWorkEnded (handled
 * and resolved contacts per agent) and QaEvaluation (QA score per agent).
 *
 * Robustness: events without an agent id (teams for HrEvent) or with ids
 * too long for the state key are ignored; a state change older than the
 * agent's current state is ignored (its time has been attributed);
 * AfterContactWorkEnded, QaEvaluation and HrEvent duplicates are recognised
 * by event id among the last few of the agent (team).
 */
#include <math.h>
#include <string.h>

#include "workforce_internal.h"

_Static_assert(sizeof(wf_seg) == 32, "wf_seg layout");
_Static_assert(sizeof(wf_day) == 56, "wf_day layout");
_Static_assert(sizeof(wf_agent) % 8 == 0, "wf_agent layout");
_Static_assert(sizeof(wf_acc) % 8 == 0, "wf_acc layout");

#define AST(x) KPISTREAM__V1__AGENT_STATE__AGENT_##x

static const uint32_t wf_interests[] = {KPISTREAM__V1__EVENT__BODY_AGENT_STATE,
                                        KPISTREAM__V1__EVENT__BODY_SCHEDULE,
                                        KPISTREAM__V1__EVENT__BODY_HR,
                                        KPISTREAM__V1__EVENT__BODY_ACW_ENDED,
                                        KPISTREAM__V1__EVENT__BODY_QA_EVALUATION,
                                        0};

/* ---- small helpers --------------------------------------------------------- */

/* Remember the last team named for the agent (cut at WF_TEAM - 1 bytes). */
static void team_note(wf_agent *ag, const char *team) {
  if (team == NULL || team[0] == '\0' || strncmp(ag->team, team, WF_TEAM - 1) == 0)
    return;
  size_t n = strlen(team);
  if (n > WF_TEAM - 1)
    n = WF_TEAM - 1;
  memcpy(ag->team, team, n);
  ag->team[n] = '\0';
}

/* 1 when event id `id` is among the last n remembered in ring (and
 * remembers it otherwise). Events without an id are never duplicates. */
static int seen_before(uint64_t *ring, uint32_t *next, uint32_t n, const char *id) {
  if (id == NULL || id[0] == '\0')
    return 0;
  uint64_t h = ks_fnv1a(id);
  if (h == 0)
    h = 1;
  for (uint32_t i = 0; i < n; i++)
    if (ring[i] == h)
      return 1;
  ring[*next % n] = h;
  *next = (*next + 1) % n;
  return 0;
}

/* Key (tenant, id) with both parts shorter than WF_ID_MAX; 0 when unusable. */
static int pair_key(ks_key *k, const char *tenant, const char *id, int need_id) {
  if ((need_id && id[0] == '\0') || strlen(tenant) >= WF_ID_MAX || strlen(id) >= WF_ID_MAX)
    return 0;
  ks_key_reset(k);
  ks_key_add_str(k, tenant);
  ks_key_add_str(k, id);
  return !k->overflow;
}

/* ---- accrual ------------------------------------------------------------------ */

static inline int is_handling(int state) {
  return state == AST(ON_CONTACT) || state == AST(AFTER_CONTACT_WORK);
}

/* Accrue the agent's current state over [from, to), split at interval
 * boundaries into by_agent, and its handle time into the day slots. */
static void accrue(wf_plugin *p, ks_task *task, wf_agent *ag, const ks_key *k, int64_t from,
                   int64_t to) {
  const int64_t len = p->cfg.interval_ms;
  if (to - from > p->cfg.agent_ttl_ms)
    from = to - p->cfg.agent_ttl_ms; /* never more than the TTL back */
  for (int64_t t = from; t < to;) {
    const int64_t ivs = ks_interval_floor(t, len);
    const int64_t end = wf_min(to, ivs + len);
    /* NULL only for an interval that has closed (time before the last
     * close is accrued there already) or out of memory */
    wf_acc *acc = p->api->window_get(task, p->by_agent, ivs, k->buf, k->len, 1);
    if (acc) {
      wf_span_add(&p->cfg, ag, acc, t, end, ag->state, ag->aux);
      memcpy(acc->team, ag->team, sizeof acc->team);
    }
    if (is_handling(ag->state)) {
      wf_day *d = wf_day_slot(ag, ks_interval_floor(t, WF_DAY_MS), 1);
      if (d)
        d->handle_ms += end - t;
    }
    t = end;
  }
}

/* ---- AgentStateChanged ------------------------------------------------------- */

static int on_state(wf_plugin *p, ks_task *task, const ks_event *ev, const ks_key *k) {
  const Kpistream__V1__AgentStateChanged *b = ev->msg->agent_state;
  if (b == NULL)
    return 0;
  const int st = (int)b->state;
  if (st < AST(LOGGED_OUT) || st > AST(AUX))
    return 0; /* unspecified or unknown state: no information */
  int aux = st == AST(AUX) ? (int)b->aux_reason : 0;
  if (aux < 0 || aux >= WF_NAUX)
    aux = 0;
  wf_agent *ag = p->api->keyed_get(task, p->agents, k->buf, k->len, 1);
  if (ag == NULL)
    return KS_ENOMEM;
  team_note(ag, ev->msg->team);
  const int64_t t = ev->time_ms;
  if (ag->flags & AG_STATE) {
    if (t < ag->state_since)
      return 0; /* older than the current state: its time is attributed */
    const int64_t from = wf_max(ag->accrued_to, ag->state_since);
    if (t > from)
      accrue(p, task, ag, k, from, t);
    ag->accrued_to = wf_max(ag->accrued_to, t);
  } else {
    ag->accrued_to = t;
  }
  ag->state = st;
  ag->aux = aux;
  ag->state_since = t;
  ag->flags |= AG_STATE;
  return 0;
}

/* ---- ScheduleSegment --------------------------------------------------------- */

static int on_schedule(wf_plugin *p, ks_task *task, const ks_event *ev, const ks_key *k) {
  const Kpistream__V1__ScheduleSegment *b = ev->msg->schedule;
  if (b == NULL || b->end_ms <= b->start_ms)
    return 0;
  wf_agent *ag = p->api->keyed_get(task, p->agents, k->buf, k->len, 1);
  if (ag == NULL)
    return KS_ENOMEM;
  team_note(ag, ev->msg->team);
  wf_seg g;
  memset(&g, 0, sizeof g);
  g.start_ms = b->start_ms;
  g.end_ms = b->end_ms;
  g.sched_hash = ks_fnv1a(ks_nz(b->schedule_id));
  g.revision = b->revision;
  g.activity = (uint8_t)((int)b->activity >= 0 && (int)b->activity < WF_NACT ? b->activity : 0);
  g.paid = b->paid ? 1 : 0;
  if (wf_sched_put(ag, &g) == 2)
    p->api->log(p->ctx, KS_LOG_DEBUG, "agent %s: %d schedule segments ahead, one dropped",
                ks_nz(ev->msg->agent_id), WF_SEGS);
  return 0;
}

/* ---- AfterContactWorkEnded, QaEvaluation ------------------------------------- */

static int on_acw(wf_plugin *p, ks_task *task, const ks_event *ev, const ks_key *k) {
  const Kpistream__V1__AfterContactWorkEnded *b = ev->msg->acw_ended;
  if (b == NULL)
    return 0;
  wf_agent *ag = p->api->keyed_get(task, p->agents, k->buf, k->len, 1);
  if (ag == NULL)
    return KS_ENOMEM;
  team_note(ag, ev->msg->team);
  if (seen_before(ag->recent, &ag->recent_next, WF_RECENT, ev->msg->event_id))
    return 0;
  wf_day *d = wf_day_slot(ag, ks_interval_floor(ev->time_ms, WF_DAY_MS), 1);
  if (d) {
    d->handled++;
    d->resolved += b->resolved ? 1 : 0;
  }
  return 0;
}

/* Weighted QA score 0..1, as the quality family weighs it: Σ points × section
 * weight / Σ possible × weight over applicable items (N/A items count 0 of
 * 0; points clamped to [0, possible]); sections without a positive weight
 * count 0, unless no section has one (then each weighs 1). An applicable
 * critical item that failed scores the evaluation 0 (auto-fail) when
 * proficiency.qa_auto_fail. Returns 0 when the form has nothing to score. */
static int qa_score(const wf_config *cfg, const Kpistream__V1__QaEvaluation *q, double *out) {
  int any_weight = 0;
  for (size_t i = 0; i < q->n_sections; i++)
    if (q->sections[i] && isfinite(q->sections[i]->weight) && q->sections[i]->weight > 0)
      any_weight = 1;
  double num = 0, den = 0;
  int auto_fail = 0;
  for (size_t i = 0; i < q->n_sections; i++) {
    const Kpistream__V1__QaSection *s = q->sections[i];
    if (s == NULL)
      continue;
    const double w = !any_weight ? 1.0 : (isfinite(s->weight) && s->weight > 0 ? s->weight : 0);
    for (size_t j = 0; j < s->n_items; j++) {
      const Kpistream__V1__QaItem *it = s->items[j];
      if (it == NULL || it->not_applicable)
        continue;
      if (it->critical && it->failed)
        auto_fail = 1;
      if (!isfinite(it->possible) || !isfinite(it->points) || !(it->possible > 0))
        continue;
      const double pts = it->points < 0 ? 0 : it->points > it->possible ? it->possible : it->points;
      num += pts * w;
      den += it->possible * w;
    }
  }
  if (!(den > 0))
    return 0;
  *out = auto_fail && cfg->qa_auto_fail ? 0.0 : num / den;
  return 1;
}

static int on_qa(wf_plugin *p, ks_task *task, const ks_event *ev, const ks_key *k) {
  const Kpistream__V1__QaEvaluation *b = ev->msg->qa_evaluation;
  double score;
  if (b == NULL || !qa_score(&p->cfg, b, &score))
    return 0;
  wf_agent *ag = p->api->keyed_get(task, p->agents, k->buf, k->len, 1);
  if (ag == NULL)
    return KS_ENOMEM;
  team_note(ag, ev->msg->team);
  if (seen_before(ag->recent, &ag->recent_next, WF_RECENT, ev->msg->event_id))
    return 0;
  wf_day *d = wf_day_slot(ag, ks_interval_floor(ev->time_ms, WF_DAY_MS), 1);
  if (d) {
    d->qa_sum += score;
    d->qa_n++;
  }
  return 0;
}

/* ---- HrEvent ------------------------------------------------------------------ */

static int on_hr(wf_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__HrEvent *b = ev->msg->hr;
  if (b == NULL)
    return 0;
  ks_key k;
  char team[WF_TEAM];
  size_t n = strlen(ks_nz(ev->msg->team));
  if (n > WF_TEAM - 1)
    n = WF_TEAM - 1;
  memcpy(team, ks_nz(ev->msg->team), n);
  team[n] = '\0';
  if (!pair_key(&k, ks_nz(ev->msg->tenant), team, 0))
    return 0;
  const int type = (int)b->type;
  if (type != KPISTREAM__V1__HR_EVENT_TYPE__HR_HIRE &&
      type != KPISTREAM__V1__HR_EVENT_TYPE__HR_SEPARATION &&
      !(type == KPISTREAM__V1__HR_EVENT_TYPE__HR_HEADCOUNT && b->headcount >= 0))
    return 0;
  wf_hr *h = p->api->keyed_get(task, p->hr, k.buf, k.len, 1);
  if (h == NULL)
    return KS_ENOMEM;
  if (seen_before(h->recent, &h->recent_next, WF_HR_RECENT, ev->msg->event_id))
    return 0;
  /* the slot opens with the headcount before this event */
  wf_month *m = wf_month_slot(h, ks_month_start(ev->time_ms, 0), 1);
  switch (type) {
  case KPISTREAM__V1__HR_EVENT_TYPE__HR_HIRE:
    h->hc++;
    if (m)
      m->hires++;
    break;
  case KPISTREAM__V1__HR_EVENT_TYPE__HR_SEPARATION: {
    int kind = (int)b->separation;
    h->hc--;
    if (m)
      m->seps[kind >= 0 && kind < 3 ? kind : 0]++;
    break;
  }
  default: /* HR_HEADCOUNT */
    if (m && !m->opening_known) {
      /* first snapshot: the opening is it, less this month's changes so far */
      m->opening = ks_sub_i64(
          b->headcount, ks_sub_i64(m->hires, ks_add3_i64(m->seps[0], m->seps[1], m->seps[2])));
      m->opening_known = 1;
    }
    h->hc = b->headcount;
    h->hc_known = 1;
    break;
  }
  return 0;
}

/* ---- dispatch ----------------------------------------------------------------- */

static int wf_on_event(void *data, ks_task *task, const ks_event *ev) {
  wf_plugin *p = data;
  if (p == NULL || ev == NULL || ev->msg == NULL)
    return 0;
  if (ev->body == KPISTREAM__V1__EVENT__BODY_HR)
    return on_hr(p, task, ev);
  ks_key k;
  if (!pair_key(&k, ks_nz(ev->msg->tenant), ks_nz(ev->msg->agent_id), 1))
    return 0; /* no agent (or an oversized id): nothing to attribute */
  switch (ev->body) {
  case KPISTREAM__V1__EVENT__BODY_AGENT_STATE:
    return on_state(p, task, ev, &k);
  case KPISTREAM__V1__EVENT__BODY_SCHEDULE:
    return on_schedule(p, task, ev, &k);
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    return on_acw(p, task, ev, &k);
  case KPISTREAM__V1__EVENT__BODY_QA_EVALUATION:
    return on_qa(p, task, ev, &k);
  default:
    return 0;
  }
}

static int wf_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  wf_plugin *p = data;
  int rc = wf_close_interval(p, task, iv);
  if (iv->end_ms % WF_DAY_MS == 0) {
    const int64_t day = iv->end_ms - WF_DAY_MS;
    if (wf_close_day(p, task, day) != 0)
      rc = KS_EPLUGIN;
    if (wf_sample_headcount(p, task, day) != 0)
      rc = KS_EPLUGIN;
    if (ks_month_start(iv->end_ms, 0) == iv->end_ms &&
        wf_close_month(p, task, ks_month_start(day, 0)) != 0)
      rc = KS_EPLUGIN;
  }
  return rc;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int wf_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                   size_t errstr_size) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, config_get_choice))
    return KS_EABI;
  wf_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  p->api = api;
  p->ctx = ctx;
  if (wf_config_load(ctx, api, &p->cfg, errstr, errstr_size) != 0) {
    api->free(p);
    return KS_EINVAL;
  }
  const wf_config *cfg = &p->cfg;
  p->agents = api->table_declare(ctx, "agents", KS_TABLE_KEYED, sizeof(wf_agent), WF_STATE_VERSION,
                                 cfg->agent_ttl_ms);
  p->by_agent =
      api->table_declare(ctx, "by_agent", KS_TABLE_WINDOWED, sizeof(wf_acc), WF_STATE_VERSION, 0);
  p->hr = api->table_declare(ctx, "hr", KS_TABLE_KEYED, sizeof(wf_hr), WF_STATE_VERSION,
                             cfg->hr_ttl_ms);
  if (!p->agents || !p->by_agent || !p->hr) {
    api->log(ctx, KS_LOG_ERROR, "could not declare the state tables");
    api->free(p);
    return KS_EINVAL;
  }
  api->log(ctx, KS_LOG_DEBUG,
           "per_agent=%d agent_ttl=%lldms utilization.basis=%s tolerance=%lld/%lldms "
           "weights=%g/%g/%g interval=%lldms",
           cfg->per_agent, (long long)cfg->agent_ttl_ms,
           cfg->util_logged_in ? "logged_in" : "productive", (long long)cfg->tol_start_ms,
           (long long)cfg->tol_end_ms, cfg->w_aht, cfg->w_fcr, cfg->w_qa,
           (long long)cfg->interval_ms);
  *plugin_data = p;
  return 0;
}

static void wf_destroy(void *data) {
  wf_plugin *p = data;
  if (p)
    p->api->free(p);
}

static const ks_plugin_descriptor wf_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = WF_PLUGIN_NAME,
    .version = WF_PLUGIN_VERSION,
    .description =
        "workforce KPIs: occupancy, utilization, adherence, conformance, shrinkage, absenteeism, "
        "technical downtime, proficiency, attrition",
    .interests = wf_interests,
    .init_ex = wf_init,
    .on_event = wf_on_event,
    .on_interval_close = wf_on_interval_close,
    .destroy = wf_destroy,
    .option_map = wf_option_map /* workforce_config.c */,
    .flags = 0,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &wf_descriptor;
}
