/*
 * experience — the customer-experience KPI family: CSAT (top-box share and
 * mean on 1-3, 1-5 and 1-10 scales), NPS, CES, sentiment (average, net,
 * start-to-end change), contact reasons (volume, top reasons, self-service
 * share) and complaints (count, rate over handled contacts), per interval
 * and (tenant, channel, queue), and per agent.
 *
 * Formulas, attribution rules and configuration: docs/metrics-experience.md.
 *
 * This file: descriptor, init/destroy, dispatch, the contact lifecycle events
 * (AfterContactWorkEnded: handled legs and wrap-up reasons; ContactQueued and
 * ContactCreated: detected reasons) and the helpers shared with
 * experience_feedback.c (dimensions, per-interval sums, de-duplication).
 */
#include <string.h>

#include "experience_internal.h"

_Static_assert(sizeof(ex_contact) % 8 == 0, "ex_contact layout");
_Static_assert(sizeof(ex_agg) % 8 == 0, "ex_agg layout");

static const uint32_t ex_interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED,
                                        KPISTREAM__V1__EVENT__BODY_ACW_ENDED,
                                        KPISTREAM__V1__EVENT__BODY_SURVEY,
                                        KPISTREAM__V1__EVENT__BODY_SENTIMENT,
                                        KPISTREAM__V1__EVENT__BODY_COMPLAINT,
                                        0};

/* ---- shared helpers ---------------------------------------------------------- */

void ex_dims_resolve(ex_plugin *p, ks_task *task, const Kpistream__V1__Event *m, ex_dims *d) {
  d->tenant = ks_nz(m->tenant);
  d->channel = (int)m->channel;
  d->queue = ks_nz(m->queue);
  d->agent = ks_nz(m->agent_id);
  d->qbuf[0] = d->abuf[0] = '\0';
  if (d->channel != 0 && d->queue[0] && d->agent[0])
    return;
  ks_key ck;
  if (!ks_contact_key(&ck, m))
    return;
  const ex_contact *c = p->api->keyed_get(task, p->contacts, ck.buf, ck.len, 0);
  if (c == NULL)
    return;
  if (d->channel == 0)
    d->channel = c->channel;
  if (d->queue[0] == '\0') {
    memcpy(d->qbuf, c->queue, sizeof d->qbuf);
    d->queue = d->qbuf;
  }
  if (d->agent[0] == '\0') {
    memcpy(d->abuf, c->agent, sizeof d->abuf);
    d->agent = d->abuf;
  }
}

static void agg_add(ex_agg *a, const ex_agg *d) {
  a->csat_n += d->csat_n;
  a->csat_sat += d->csat_sat;
  a->csat_norm_sum += d->csat_norm_sum;
  for (int i = 0; i < EX_CSAT_NSCALES; i++) {
    a->csat_scale_n[i] += d->csat_scale_n[i];
    a->csat_scale_sum[i] += d->csat_scale_sum[i];
  }
  a->nps_pro += d->nps_pro;
  a->nps_pas += d->nps_pas;
  a->nps_det += d->nps_det;
  a->ces_n += d->ces_n;
  a->ces_easy += d->ces_easy;
  a->ces_sum += d->ces_sum;
  a->sen_n += d->sen_n;
  a->sen_pos += d->sen_pos;
  a->sen_neg += d->sen_neg;
  a->sen_sum += d->sen_sum;
  a->sen_se_n += d->sen_se_n;
  a->sen_change_sum += d->sen_change_sum;
  a->handled += d->handled;
  a->complaints += d->complaints;
  a->responses += d->responses;
}

/* Dimension key of by_agent, per the per_agent option. Returns 0 when off
 * or unusable. */
static int agent_key(ks_key *k, const ex_config *cfg, const ex_dims *d) {
  if (cfg->per_agent == EX_AGENT_OFF || d->agent[0] == '\0')
    return 0;
  uint8_t ch = cfg->per_agent == EX_AGENT_ALL ? 0 : (uint8_t)d->channel;
  ks_key_reset(k);
  ks_key_add_str(k, d->tenant);
  ks_key_add(k, &ch, 1);
  ks_key_add_str(k, cfg->per_agent == EX_AGENT_QUEUE ? d->queue : "");
  ks_key_add_str(k, d->agent);
  return !k->overflow;
}

int ex_apply(ex_plugin *p, ks_task *task, int64_t iv, const ex_dims *d, const ex_agg *delta) {
  ks_key k;
  if (!ks_dims_key(&k, d->tenant, d->channel, d->queue))
    return 0;
  ex_agg *a = p->api->window_get(task, p->by_queue, iv, k.buf, k.len, 1);
  if (a == NULL)
    return KS_ENOMEM;
  agg_add(a, delta);
  if (agent_key(&k, &p->cfg, d)) {
    a = p->api->window_get(task, p->by_agent, iv, k.buf, k.len, 1);
    if (a == NULL)
      return KS_ENOMEM;
    agg_add(a, delta);
  }
  return 0;
}

int ex_first_time(ex_plugin *p, ks_task *task, const ks_key *k, int64_t t) {
  if (k->overflow)
    return 1; /* cannot be remembered: counted every time */
  ex_seen *s = p->api->keyed_get(task, p->seen, k->buf, k->len, 0);
  if (s != NULL)
    return 0;
  s = p->api->keyed_get(task, p->seen, k->buf, k->len, 1);
  if (s == NULL)
    return -1;
  s->first_ms = t;
  return 1;
}

/* Count one contact under its reason code, in the interval of `iv`. */
static int count_reason(ex_plugin *p, ks_task *task, int64_t iv, const char *tenant, int channel,
                        const char *queue, const char *reason) {
  const ex_config *cfg = &p->cfg;
  ks_key k;
  if (!ks_dims_key(&k, tenant, cfg->reasons_by == EX_RBY_TENANT ? 0 : channel,
                   cfg->reasons_by == EX_RBY_QUEUE ? queue : ""))
    return 0;
  ks_key_add_str(&k, reason);
  if (k.overflow)
    return 0;
  ex_count *c = p->api->window_get(task, p->by_reason, iv, k.buf, k.len, 1);
  if (c == NULL)
    return KS_ENOMEM;
  c->n++;
  return 0;
}

/* ---- AfterContactWorkEnded: a handled leg, the wrap-up reason ------------------ */

static int on_acw_ended(ex_plugin *p, ks_task *task, const ks_event *ev, const ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const Kpistream__V1__AfterContactWorkEnded *b = m->acw_ended;
  ex_contact *c = p->api->keyed_get(task, p->contacts, ck->buf, ck->len, 1);
  if (c == NULL)
    return KS_ENOMEM;
  ex_dims d;
  d.tenant = ks_nz(m->tenant);
  d.channel = m->channel ? (int)m->channel : c->channel;
  d.queue = ks_nz(m->queue);
  d.agent = ks_nz(m->agent_id);
  if (d.queue[0] == '\0') {
    memcpy(d.qbuf, c->queue, sizeof d.qbuf);
    d.queue = d.qbuf;
  }
  if (d.agent[0] == '\0') {
    memcpy(d.abuf, c->agent, sizeof d.abuf);
    d.agent = d.abuf;
  }
  if (m->channel)
    c->channel = (int32_t)m->channel;
  if (d.queue != d.qbuf)
    ks_name_copy(c->queue, EX_NAME_MAX, d.queue);
  if (d.agent != d.abuf)
    ks_name_copy(c->agent, EX_NAME_MAX, d.agent);

  /* one handled leg per assignment: a redelivered wrap-up (same agent and
   * time) is absorbed, the same agent's next leg (a1 -> a2 -> a1) counts */
  const uint64_t ah =
      (ks_fnv1a(d.agent) ^ ((uint64_t)ev->time_ms * UINT64_C(0x9e3779b97f4a7c15))) | 1u;
  int handled = 1;
  for (int i = 0; i < EX_LEGS; i++)
    if (c->legs[i] == ah)
      handled = 0;
  if (handled) {
    unsigned i = c->next_leg % EX_LEGS;
    c->legs[i] = ah;
    c->next_leg = (uint8_t)((i + 1) % EX_LEGS);
  }
  const char *reason = b ? ks_nz(b->reason_code) : "";
  int count = 0;
  if (p->cfg.reason_source != EX_REASON_DETECTED && reason[0] && !(c->flags & EXC_REASON)) {
    c->flags |= EXC_REASON;
    count = 1;
  }
  /* c is not used past this point */

  if (handled) {
    ex_agg delta;
    memset(&delta, 0, sizeof delta);
    delta.handled = 1;
    int rc = ex_apply(p, task, ev->interval_start_ms, &d, &delta);
    if (rc)
      return rc;
  }
  if (count)
    return count_reason(p, task, ev->interval_start_ms, d.tenant, d.channel, d.queue, reason);
  return 0;
}

/* ---- ContactQueued / ContactCreated: the contact's channel and queue, a detected
 * reason --------------------------------------------------------------------------- */

static int on_detected(ex_plugin *p, ks_task *task, const ks_event *ev, const ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  /* Under reason_source wrap_up the reason comes from the wrap-up, but the
   * contact's channel and queue are remembered all the same. */
  const char *reason = "";
  if (p->cfg.reason_source != EX_REASON_WRAP_UP) {
    if (ev->body == KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED && m->contact_queued)
      reason = ks_nz(m->contact_queued->reason_code);
    else if (ev->body == KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED && m->contact_created)
      reason = ks_nz(m->contact_created->subject_reason);
  }
  if (reason[0] == '\0' && m->channel == 0 && ks_nz(m->queue)[0] == '\0')
    return 0; /* nothing to remember: no state kept */
  ex_contact *c = p->api->keyed_get(task, p->contacts, ck->buf, ck->len, 1);
  if (c == NULL)
    return KS_ENOMEM;
  char qbuf[EX_NAME_MAX];
  const int channel = m->channel ? (int)m->channel : c->channel;
  const char *queue = ks_nz(m->queue);
  if (m->channel)
    c->channel = (int32_t)m->channel;
  if (queue[0]) {
    ks_name_copy(c->queue, EX_NAME_MAX, queue);
  } else {
    memcpy(qbuf, c->queue, sizeof qbuf);
    queue = qbuf;
  }
  if (reason[0] == '\0' || (c->flags & EXC_REASON))
    return 0;
  c->flags |= EXC_REASON;
  /* c is not used past this point */
  return count_reason(p, task, ev->interval_start_ms, ks_nz(m->tenant), channel, queue, reason);
}

/* ---- dispatch ------------------------------------------------------------------- */

static int ex_on_event(void *data, ks_task *task, const ks_event *ev) {
  ex_plugin *p = data;
  if (p == NULL || ev == NULL || ev->msg == NULL)
    return 0;
  ks_key ck;
  switch (ev->body) {
  case KPISTREAM__V1__EVENT__BODY_SURVEY:
    return ex_on_survey(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_SENTIMENT:
    return ex_on_sentiment(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_COMPLAINT:
    return ex_on_complaint(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    if (!ks_contact_key(&ck, ev->msg))
      return 0; /* no contact id: a leg that cannot be de-duplicated */
    return on_acw_ended(p, task, ev, &ck);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED:
  case KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED:
    if (!ks_contact_key(&ck, ev->msg))
      return 0;
    return on_detected(p, task, ev, &ck);
  default:
    return 0;
  }
}

static int ex_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  return ex_emit_interval(data, task, iv);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int ex_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                   size_t errstr_size) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, config_get_choice))
    return KS_EABI;
  ex_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  p->api = api;
  p->ctx = ctx;
  if (ex_config_load(ctx, api, &p->cfg, errstr, errstr_size) != 0) {
    api->free(p);
    return KS_EINVAL;
  }
  const int64_t ttl = p->cfg.contact_ttl_ms;
  p->contacts = api->table_declare(ctx, "contacts", KS_TABLE_KEYED, sizeof(ex_contact),
                                   EX_STATE_VERSION, ttl);
  p->seen = api->table_declare(ctx, "seen", KS_TABLE_KEYED, sizeof(ex_seen), EX_STATE_VERSION, ttl);
  p->by_queue =
      api->table_declare(ctx, "by_queue", KS_TABLE_WINDOWED, sizeof(ex_agg), EX_STATE_VERSION, 0);
  p->by_agent =
      api->table_declare(ctx, "by_agent", KS_TABLE_WINDOWED, sizeof(ex_agg), EX_STATE_VERSION, 0);
  p->by_reason = api->table_declare(ctx, "by_reason", KS_TABLE_WINDOWED, sizeof(ex_count),
                                    EX_STATE_VERSION, 0);
  p->by_category = api->table_declare(ctx, "by_category", KS_TABLE_WINDOWED, sizeof(ex_count),
                                      EX_STATE_VERSION, 0);
  if (!p->contacts || !p->seen || !p->by_queue || !p->by_agent || !p->by_reason ||
      !p->by_category) {
    api->log(ctx, KS_LOG_ERROR, "could not declare the state tables");
    api->free(p);
    return KS_EINVAL;
  }
  api->log(ctx, KS_LOG_DEBUG, "top_reasons=%d self_service_reasons=%d contact_ttl=%lldms",
           p->cfg.top_reasons, p->cfg.n_self, (long long)ttl);
  *plugin_data = p;
  return 0;
}

static void ex_destroy(void *data) {
  ex_plugin *p = data;
  if (p)
    p->api->free(p);
}

/* Designated initializers: members the SDK appends later stay zero. */
static const ks_plugin_descriptor ex_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = EX_PLUGIN_NAME,
    .version = EX_PLUGIN_VERSION,
    .description = "experience KPIs: CSAT, NPS, CES, sentiment, contact reasons, complaints",
    .interests = ex_interests,
    .init_ex = ex_init,
    .on_event = ex_on_event,
    .on_interval_close = ex_on_interval_close,
    .destroy = ex_destroy,
    .option_map = ex_option_map /* experience_config.c */};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &ex_descriptor;
}
