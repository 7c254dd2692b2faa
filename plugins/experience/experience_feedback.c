/*
 * experience plugin — the feedback bodies: SurveyResponse (CSAT, NPS, CES),
 * SentimentScore and Complaint. Each is validated, de-duplicated (at-least-
 * once delivery), given its dimensions (the envelope's, completed from the
 * contact's record) and added to the interval of its own event time.
 */
#include <math.h>
#include <string.h>

#include "experience_internal.h"

/* Key kinds of the `seen` table. */
#define SEEN_SURVEY    'S'
#define SEEN_SENTIMENT 'M'
#define SEEN_COMPLAINT 'C'
#define SEEN_RESPONSE  'R'

static void seen_key(ks_key *k, char kind, const char *tenant) {
  ks_key_reset(k);
  ks_key_add(k, &kind, 1);
  ks_key_add_str(k, tenant);
}

/* ---- surveys -------------------------------------------------------------------- */

/* Fill delta from a CSAT answer; 0 when it is not a usable answer. */
static int csat_delta(const ex_config *cfg, const Kpistream__V1__SurveyResponse *b, ex_agg *d) {
  const int lo = b->scale_min, hi = b->scale_max;
  int s = b->score;
  int idx = hi == 3 ? EX_CSAT_3 : hi == 5 ? EX_CSAT_5 : hi == 10 ? EX_CSAT_10 : -1;
  if (lo != 1 || idx < 0)
    return 0; /* an unsupported scale */
  if (s < lo || s > hi)
    return 0; /* out of range (the host already refuses these) */
  if (b->lower_is_better)
    s = lo + hi - s;
  d->csat_n = 1;
  d->csat_sat = s >= cfg->csat_sat_min[idx];
  d->csat_norm_sum = (double)(s - lo) * 100.0 / (double)(hi - lo);
  d->csat_scale_n[idx] = 1;
  d->csat_scale_sum[idx] = s;
  return 1;
}

static int nps_delta(const Kpistream__V1__SurveyResponse *b, ex_agg *d) {
  int s = b->score;
  if (!(b->scale_min == 0 && (b->scale_max == 10 || b->scale_max == 0)))
    return 0; /* NPS is 0-10 only; no scale sent means 0-10 (docs/schema.md) */
  if (s < 0 || s > 10)
    return 0;
  if (b->lower_is_better)
    s = 10 - s;
  if (s >= 9)
    d->nps_pro = 1;
  else if (s >= 7)
    d->nps_pas = 1;
  else
    d->nps_det = 1;
  return 1;
}

static int ces_delta(const ex_config *cfg, const Kpistream__V1__SurveyResponse *b, ex_agg *d) {
  const int lo = b->scale_min, hi = b->scale_max;
  int s = b->score;
  if (lo != 1 || (hi != 5 && hi != 7))
    return 0;
  if (s < lo || s > hi)
    return 0;
  int low_easy =
      cfg->ces_dir == EX_CES_EVENT ? (b->lower_is_better != 0) : cfg->ces_dir == EX_CES_LOW_EASY;
  if (low_easy)
    s = lo + hi - s; /* now high = easy */
  d->ces_n = 1;
  d->ces_easy = s >= (hi == 7 ? cfg->ces_easy_min7 : cfg->ces_easy_min5);
  /* onto the reporting scale 1..K, linearly */
  const int k = cfg->ces_scale;
  d->ces_sum = 1.0 + (double)(s - 1) * (double)(k - 1) / (double)(hi - 1);
  return 1;
}

int ex_on_survey(ex_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  const Kpistream__V1__SurveyResponse *b = m->survey;
  if (b == NULL)
    return 0;
  ex_agg delta;
  memset(&delta, 0, sizeof delta);
  int ok = 0;
  switch (b->type) {
  case KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT:
    ok = csat_delta(&p->cfg, b, &delta);
    break;
  case KPISTREAM__V1__SURVEY_TYPE__SURVEY_NPS:
    ok = nps_delta(b, &delta);
    break;
  case KPISTREAM__V1__SURVEY_TYPE__SURVEY_CES:
    ok = ces_delta(&p->cfg, b, &delta);
    break;
  default:
    break;
  }
  if (!ok)
    return 0;

  /* one answer per survey id, else per contact and survey type */
  const char *sid = ks_nz(b->survey_id), *cid = ks_nz(m->contact_id);
  if (sid[0] || cid[0]) {
    ks_key k;
    seen_key(&k, SEEN_SURVEY, ks_nz(m->tenant));
    if (sid[0]) {
      ks_key_add_str(&k, sid);
    } else {
      uint8_t type = (uint8_t)b->type;
      ks_key_add_str(&k, cid);
      ks_key_add(&k, &type, 1);
    }
    int first = ex_first_time(p, task, &k, ev->time_ms);
    if (first <= 0)
      return first < 0 ? KS_ENOMEM : 0;
  }
  /* a response: the contact's first usable answer, of any type (CSAT and
   * NPS about one contact are one response); without a contact id every
   * usable answer is one */
  delta.responses = 1;
  if (cid[0]) {
    ks_key k;
    seen_key(&k, SEEN_RESPONSE, ks_nz(m->tenant));
    ks_key_add_str(&k, cid);
    int first = ex_first_time(p, task, &k, ev->time_ms);
    if (first < 0)
      return KS_ENOMEM;
    delta.responses = first;
  }
  ex_dims d;
  ex_dims_resolve(p, task, m, &d);
  return ex_apply(p, task, ev->interval_start_ms, &d, &delta);
}

/* ---- sentiment ------------------------------------------------------------------ */

static inline int unit_score(double v) {
  return isfinite(v) && v >= -1.0 && v <= 1.0;
}

int ex_on_sentiment(ex_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  const Kpistream__V1__SentimentScore *b = m->sentiment;
  const ex_config *cfg = &p->cfg;
  if (b == NULL || !unit_score(b->overall))
    return 0;
  ex_agg delta;
  memset(&delta, 0, sizeof delta);
  delta.sen_n = 1;
  delta.sen_sum = b->overall;
  delta.sen_pos = b->overall >= cfg->sen_pos_min;
  delta.sen_neg = b->overall <= cfg->sen_neg_max;
  if (b->has_start_end && unit_score(b->start) && unit_score(b->end)) {
    delta.sen_se_n = 1;
    delta.sen_change_sum = cfg->sen_change_half ? (b->end - b->start) / 2.0 : b->end - b->start;
  }
  /* one score per contact and agent */
  const char *cid = ks_nz(m->contact_id);
  if (cid[0]) {
    ks_key k;
    seen_key(&k, SEEN_SENTIMENT, ks_nz(m->tenant));
    ks_key_add_str(&k, cid);
    ks_key_add_str(&k, ks_nz(m->agent_id));
    int first = ex_first_time(p, task, &k, ev->time_ms);
    if (first <= 0)
      return first < 0 ? KS_ENOMEM : 0;
  }
  ex_dims d;
  ex_dims_resolve(p, task, m, &d);
  return ex_apply(p, task, ev->interval_start_ms, &d, &delta);
}

/* ---- complaints ----------------------------------------------------------------- */

int ex_on_complaint(ex_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  const Kpistream__V1__Complaint *b = m->complaint;
  if (b == NULL)
    return 0;
  const char *category = ks_nz(b->category);
  if (category[0] == '\0')
    category = "unspecified";
  /* one complaint per contact and category */
  const char *cid = ks_nz(m->contact_id);
  if (cid[0]) {
    ks_key k;
    seen_key(&k, SEEN_COMPLAINT, ks_nz(m->tenant));
    ks_key_add_str(&k, cid);
    ks_key_add_str(&k, category);
    int first = ex_first_time(p, task, &k, ev->time_ms);
    if (first <= 0)
      return first < 0 ? KS_ENOMEM : 0;
  }
  ex_dims d;
  ex_dims_resolve(p, task, m, &d);
  ex_agg delta;
  memset(&delta, 0, sizeof delta);
  delta.complaints = 1;
  int rc = ex_apply(p, task, ev->interval_start_ms, &d, &delta);
  if (rc)
    return rc;
  ks_key k;
  if (!ks_dims_key(&k, d.tenant, d.channel, d.queue))
    return 0;
  ks_key_add_str(&k, category);
  if (k.overflow)
    return 0;
  ex_count *c = p->api->window_get(task, p->by_category, ev->interval_start_ms, k.buf, k.len, 1);
  if (c == NULL)
    return KS_ENOMEM;
  c->n++;
  return 0;
}
