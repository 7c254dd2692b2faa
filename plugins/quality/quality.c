/*
 * quality — the quality & compliance KPI family, from QA evaluations
 * (QaEvaluation): weighted scorecard score, category scores (service
 * attitude, communication, brand, product knowledge, process compliance,
 * and any other category a form uses), auto-fail count and rate, compliance
 * rate and evaluation counts, per interval and tenant, channel x queue,
 * team, agent and (optionally) evaluator.
 *
 * Formulas, attribution rules and configuration: docs/metrics-quality.md.
 *
 * Attribution: an evaluation lands in the interval of its event time (when
 * the evaluation was published). QaEvaluation carries no contact time, so
 * "interval of the evaluated contact" is not available.
 *
 * Robustness: evaluations are de-duplicated by tenant + evaluation_id (else
 * event_id) for dedupe_window of event time, the first copy counting; item
 * values that are not finite are ignored, points clamped (quality_score.c);
 * groups whose key would exceed the state key size are skipped.
 */
#include <string.h>

#include "quality_internal.h"

_Static_assert(sizeof(qa_agg) % 8 == 0, "qa_agg layout");
_Static_assert(sizeof(qa_seen) == 16, "qa_seen layout");

/* Bump when a record layout changes (checkpoints of another version are
 * refused by the host). */
#define QA_STATE_VERSION 2 /* 2: qa_agg.team_ms, no team on qa_cagg */

static const uint32_t qa_interests[] = {KPISTREAM__V1__EVENT__BODY_QA_EVALUATION, 0};

/* Dimensions of one group: what goes into its key. */
typedef struct qa_dims {
  uint8_t level;
  int channel;
  const char *queue;
  const char *agent;
  const char *extra; /* team (team level) or evaluator id (evaluator level) */
  const char *team;  /* stored on agent-level records */
} qa_dims;

/* The largest key any plugin builds (with a category appended, below):
 * identifiers of at most KS_ID_MAX bytes always fit, so it never overflows. */
_Static_assert(2 * 2 + 5 * (1 + KS_ID_MAX) <= sizeof(((ks_key *)0)->buf),
               "quality's category key must hold KS_ID_MAX-byte identifiers");

static inline void group_key(ks_key *k, const char *tenant, const qa_dims *d) {
  const uint8_t ch = (uint8_t)d->channel;
  ks_key_reset(k);
  ks_key_add(k, &d->level, 1);
  ks_key_add_str(k, tenant);
  ks_key_add(k, &ch, 1);
  ks_key_add_str(k, d->queue);
  ks_key_add_str(k, d->agent);
  ks_key_add_str(k, d->extra);
}

/* Add one scored evaluation to a dimension group (and its categories). */
static int add_group(qa_plugin *p, ks_task *task, int64_t iv, int64_t time_ms, const char *tenant,
                     const qa_dims *d, const qa_eval *e) {
  const qa_config *cfg = &p->cfg;
  ks_key k;
  group_key(&k, tenant, d);
  if (k.overflow)
    return 0; /* ids too long for a state key: this group is skipped */
  qa_agg *a = p->api->window_get(task, p->by_group, iv, k.buf, k.len, 1);
  if (a == NULL)
    return KS_ENOMEM;
  a->evaluations++;
  if (e->scored) {
    a->scored++;
    a->score_sum += e->score;
  }
  a->auto_failed += e->auto_failed;
  const int in_den = cfg->compliance_over_with ? e->has_compliance : 1;
  a->compliance_den += in_den;
  a->compliant += in_den && !e->compliance_failed;
  /* The interval's last evaluation by event time names the agent's team, so
   * the result does not depend on arrival order (ties: the greater name). */
  if (d->team && d->team[0]) {
    char cand[QA_NAME_MAX];
    ks_name_copy(cand, QA_NAME_MAX, d->team);
    if (a->team[0] == '\0' || time_ms > a->team_ms ||
        (time_ms == a->team_ms && strcmp(cand, a->team) > 0)) {
      memcpy(a->team, cand, sizeof a->team);
      a->team_ms = time_ms;
    }
  }
  /* a is not used past this point */

  if (!cfg->per_category || d->level == QA_LVL_EVALUATOR)
    return 0;
  const uint8_t base_len = k.len;
  for (int i = 0; i < e->n_cats; i++) {
    const qa_cat *c = &e->cats[i];
    k.len = base_len;
    k.overflow = 0;
    ks_key_add_str(&k, c->name);
    if (k.overflow)
      continue;
    qa_cagg *g = p->api->window_get(task, p->by_category, iv, k.buf, k.len, 1);
    if (g == NULL)
      return KS_ENOMEM;
    if (c->scored) {
      g->n++;
      g->sum += c->score;
    }
  }
  return 0;
}

/* 1 when the evaluation was counted before (and records it as seen). */
static int seen_before(qa_plugin *p, ks_task *task, const ks_event *ev, int *err) {
  const Kpistream__V1__Event *m = ev->msg;
  const char *id = ks_nz(m->qa_evaluation->evaluation_id);
  if (id[0] == '\0')
    id = ks_nz(m->event_id);
  if (p->seen == NULL || id[0] == '\0')
    return 0;
  ks_key k;
  ks_key_reset(&k);
  ks_key_add_str(&k, ks_nz(m->tenant));
  ks_key_add_str(&k, id);
  if (k.overflow)
    return 0;
  qa_seen *s = p->api->keyed_get(task, p->seen, k.buf, k.len, 1);
  if (s == NULL) {
    *err = KS_ENOMEM;
    return 1;
  }
  if (s->seen)
    return 1;
  s->seen = 1;
  s->first_ms = ev->time_ms;
  return 0;
}

static int qa_on_event(void *data, ks_task *task, const ks_event *ev) {
  qa_plugin *p = data;
  if (p == NULL || ev == NULL || ev->msg == NULL ||
      ev->body != KPISTREAM__V1__EVENT__BODY_QA_EVALUATION || ev->msg->qa_evaluation == NULL)
    return 0;
  const qa_config *cfg = &p->cfg;
  const Kpistream__V1__Event *m = ev->msg;
  int err = 0;
  if (seen_before(p, task, ev, &err))
    return err; /* a duplicate (0), or out of state memory */

  qa_eval e;
  qa_score(cfg, m->qa_evaluation, &e);

  const char *tenant = ks_nz(m->tenant);
  const char *queue = ks_nz(m->queue);
  const char *agent = ks_nz(m->agent_id);
  const char *team = ks_nz(m->team);
  const char *evaluator = ks_nz(m->qa_evaluation->evaluator_id);
  const int channel = (int)m->channel;
  const int64_t iv = ev->interval_start_ms;
  int rc;

  qa_dims d = {QA_LVL_TENANT, 0, "", "", "", NULL};
  if ((rc = add_group(p, task, iv, ev->time_ms, tenant, &d, &e)) != 0)
    return rc;
  /* channel 0 + no queue would be the tenant's own key: tenant level only */
  if (cfg->per_queue && (channel != 0 || queue[0])) {
    qa_dims q = {QA_LVL_QUEUE, channel, queue, "", "", NULL};
    if ((rc = add_group(p, task, iv, ev->time_ms, tenant, &q, &e)) != 0)
      return rc;
  }
  if (cfg->per_team && team[0]) {
    qa_dims t = {QA_LVL_TEAM, 0, "", "", team, team};
    if ((rc = add_group(p, task, iv, ev->time_ms, tenant, &t, &e)) != 0)
      return rc;
  }
  if (cfg->per_agent != QA_AGENT_OFF && agent[0]) {
    qa_dims a = {QA_LVL_AGENT, 0, "", agent, "", team};
    if (cfg->per_agent != QA_AGENT_ALL)
      a.channel = channel;
    if (cfg->per_agent == QA_AGENT_QUEUE)
      a.queue = queue;
    if ((rc = add_group(p, task, iv, ev->time_ms, tenant, &a, &e)) != 0)
      return rc;
  }
  if (cfg->per_evaluator && evaluator[0]) {
    qa_dims v = {QA_LVL_EVALUATOR, 0, "", "", evaluator, NULL};
    if ((rc = add_group(p, task, iv, ev->time_ms, tenant, &v, &e)) != 0)
      return rc;
  }
  return 0;
}

static int qa_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  return qa_emit_interval(data, task, iv);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int qa_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                   size_t errstr_size) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, config_get_choice))
    return KS_EABI;
  qa_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  p->api = api;
  p->ctx = ctx;
  if (qa_config_load(ctx, api, &p->cfg, errstr, errstr_size) != 0) {
    api->free(p);
    return KS_EINVAL;
  }
  const qa_config *cfg = &p->cfg;
  if (cfg->dedupe_ms > 0)
    p->seen = api->table_declare(ctx, "seen", KS_TABLE_KEYED, sizeof(qa_seen), QA_STATE_VERSION,
                                 cfg->dedupe_ms);
  p->by_group =
      api->table_declare(ctx, "by_group", KS_TABLE_WINDOWED, sizeof(qa_agg), QA_STATE_VERSION, 0);
  p->by_category = api->table_declare(ctx, "by_category", KS_TABLE_WINDOWED, sizeof(qa_cagg),
                                      QA_STATE_VERSION, 0);
  if ((cfg->dedupe_ms > 0 && !p->seen) || !p->by_group || !p->by_category) {
    api->log(ctx, KS_LOG_ERROR, "could not declare the state tables");
    api->free(p);
    return KS_EINVAL;
  }
  api->log(ctx, KS_LOG_DEBUG, "score_scale=%g dedupe_window=%lldms", cfg->scale,
           (long long)cfg->dedupe_ms);
  *plugin_data = p;
  return 0;
}

static void qa_destroy(void *data) {
  qa_plugin *p = data;
  if (p)
    p->api->free(p);
}

static const ks_plugin_descriptor qa_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = QA_PLUGIN_NAME,
    .version = QA_PLUGIN_VERSION,
    .description = "quality & compliance KPIs: weighted QA score, category scores, auto-fail and "
                   "compliance rates",
    .interests = qa_interests,
    .init_ex = qa_init,
    .on_event = qa_on_event,
    .on_interval_close = qa_on_interval_close,
    .destroy = qa_destroy,
    .option_map = qa_option_map /* quality_config.c */,
    .flags = 0,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &qa_descriptor;
}
