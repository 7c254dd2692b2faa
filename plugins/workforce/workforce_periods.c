/*
 * workforce plugin — calendar periods: agent proficiency when a UTC day
 * closes, the daily headcount sample, attrition when a UTC month closes.
 *
 * Both closers copy the period's slots out of the keyed tables into a
 * scratch array for the call (clearing them), sort it by (tenant, team,
 * agent) and emit from it: proficiency compares each agent with the sums of
 * its team; attrition is emitted per team and summed per tenant.
 */
#include <stdlib.h>
#include <string.h>

#include "workforce_internal.h"

typedef struct wf_prow {
  char tenant[WF_ID_MAX];
  char name[WF_ID_MAX]; /* agent (day) or team (month) */
  char team[WF_TEAM];
  wf_day d;
  wf_month m;
  int64_t closing;
  uint32_t closing_known;
  uint32_t pad;
} wf_prow;

typedef struct wf_prows {
  wf_plugin *p;
  int64_t period;
  wf_prow *v;
  size_t n, cap;
  int oom;
} wf_prows;

static wf_prow *prows_add(wf_prows *rs) {
  if (rs->n == rs->cap) {
    size_t nc = rs->cap ? rs->cap * 2 : 64;
    wf_prow *nv = rs->p->api->alloc(nc * sizeof *nv);
    if (nv == NULL) {
      rs->oom = 1;
      return NULL;
    }
    if (rs->v) {
      memcpy(nv, rs->v, rs->n * sizeof *nv);
      rs->p->api->free(rs->v);
    }
    rs->v = nv;
    rs->cap = nc;
  }
  wf_prow *r = &rs->v[rs->n++];
  memset(r, 0, sizeof *r);
  return r;
}

static int prow_cmp(const void *a, const void *b) {
  const wf_prow *x = a, *y = b;
  int c = strcmp(x->tenant, y->tenant);
  if (c == 0)
    c = strcmp(x->team, y->team);
  return c ? c : strcmp(x->name, y->name);
}

static wf_emitter *emitter_new(wf_plugin *p, ks_task *task) {
  wf_emitter *e = p->api->alloc(sizeof *e);
  if (e) {
    e->p = p;
    ks_emitter_init(&e->em, p->api, p->ctx, task, NULL);
  }
  return e;
}

/* Emit with `fn` over the sorted rows, then free them. */
static int prows_finish(wf_prows *rs, ks_task *task, int rc,
                        void (*fn)(wf_emitter *, const wf_prows *)) {
  int failed = rc != 0 || rs->oom;
  if (!failed && rs->n) {
    qsort(rs->v, rs->n, sizeof *rs->v, prow_cmp);
    wf_emitter *e = emitter_new(rs->p, task);
    if (e == NULL) {
      failed = 1;
    } else {
      fn(e, rs);
      failed = e->em.failed;
      rs->p->api->free(e);
    }
  }
  if (rs->v)
    rs->p->api->free(rs->v);
  return failed ? KS_EPLUGIN : 0;
}

/* ---- proficiency (day close) ----------------------------------------------- */

static int collect_day(void *ud, const void *key, size_t keylen, void *record) {
  wf_prows *rs = ud;
  wf_agent *ag = record;
  for (int i = 0; i < 2; i++) {
    wf_day *d = &ag->day[i];
    if (!d->used || d->day_start > rs->period)
      continue;
    if (d->day_start == rs->period && (d->handled > 0 || d->qa_n > 0 || d->handle_ms > 0)) {
      wf_prow *r = prows_add(rs);
      if (r == NULL)
        return 1;
      if (ks_key_part(key, keylen, 0, r->tenant, WF_ID_MAX) < 0 ||
          ks_key_part(key, keylen, 1, r->name, WF_ID_MAX) < 0) {
        rs->n--;
      } else {
        memcpy(r->team, ag->team, sizeof r->team);
        r->d = *d;
      }
    }
    memset(d, 0, sizeof *d); /* emitted, or a stale day */
  }
  return 0;
}

/* value of x / y in *out; 0 when undefined */
static int avg(double x, double y, double *out) {
  if (!(y > 0))
    return 0;
  *out = x / y;
  return 1;
}

static void emit_agent_day(wf_emitter *e, const wf_day *a, const wf_day *t) {
  const wf_config *cfg = &e->p->cfg;
  double aa, ta, af, tf, aq, tq;
  const int has_aht = avg((double)a->handle_ms / 1000.0, (double)a->handled, &aa) && aa > 0 &&
                      avg((double)t->handle_ms / 1000.0, (double)t->handled, &ta);
  const int has_fcr = avg((double)a->resolved, (double)a->handled, &af) &&
                      avg((double)t->resolved, (double)t->handled, &tf) && tf > 0;
  const int has_qa =
      avg(a->qa_sum, (double)a->qa_n, &aq) && avg(t->qa_sum, (double)t->qa_n, &tq) && tq > 0;
  /* each component oriented so that higher is better, 1 = the team */
  double num = 0, den = 0;
  if (has_aht && cfg->w_aht > 0) {
    num += cfg->w_aht * (ta / aa);
    den += cfg->w_aht;
  }
  if (has_fcr && cfg->w_fcr > 0) {
    num += cfg->w_fcr * (af / tf);
    den += cfg->w_fcr;
  }
  if (has_qa && cfg->w_qa > 0) {
    num += cfg->w_qa * (aq / tq);
    den += cfg->w_qa;
  }
  ks_emit_ratio(&e->em, "proficiency", num, den, ks_add_i64(a->handled, a->qa_n), "score");
  ks_emit_ratio(&e->em, "proficiency_aht_index", has_aht ? ta : 0, has_aht ? aa : 0, a->handled,
                "ratio");
  ks_emit_ratio(&e->em, "proficiency_fcr_index", has_fcr ? af : 0, has_fcr ? tf : 0, a->handled,
                "ratio");
  ks_emit_ratio(&e->em, "proficiency_qa_index", has_qa ? aq : 0, has_qa ? tq : 0, a->qa_n, "ratio");
}

static void day_add(wf_day *d, const wf_day *s) {
  d->handle_ms = ks_add_i64(d->handle_ms, s->handle_ms);
  d->handled = ks_add_i64(d->handled, s->handled);
  d->resolved = ks_add_i64(d->resolved, s->resolved);
  d->qa_sum += s->qa_sum;
  d->qa_n = ks_add_i64(d->qa_n, s->qa_n);
}

static void emit_days(wf_emitter *e, const wf_prows *rs) {
  const int64_t end = rs->period + WF_DAY_MS;
  for (size_t i = 0; i < rs->n;) {
    size_t j = i;
    wf_day team;
    memset(&team, 0, sizeof team);
    while (j < rs->n && strcmp(rs->v[j].tenant, rs->v[i].tenant) == 0 &&
           strcmp(rs->v[j].team, rs->v[i].team) == 0)
      day_add(&team, &rs->v[j++].d);
    for (size_t k = i; k < j; k++) {
      const wf_prow *r = &rs->v[k];
      if (r->d.handled == 0 && r->d.qa_n == 0)
        continue; /* state time only: nothing to compare */
      wf_em_dims(e, rs->period, end, r->tenant, r->team, r->name, 0);
      emit_agent_day(e, &r->d, &team);
    }
    i = j;
  }
}

int wf_close_day(wf_plugin *p, ks_task *task, int64_t day_start) {
  wf_prows rs;
  memset(&rs, 0, sizeof rs);
  rs.p = p;
  rs.period = day_start;
  int rc = p->api->keyed_foreach(task, p->agents, collect_day, &rs);
  return prows_finish(&rs, task, rc, emit_days);
}

/* ---- headcount sample (day close) ------------------------------------------ */

static int sample_one(void *ud, const void *key, size_t keylen, void *record) {
  const int64_t *month = ud;
  wf_hr *h = record;
  (void)key;
  (void)keylen;
  if (!h->hc_known)
    return 0;
  wf_month *m = wf_month_slot(h, *month, 1);
  if (m) {
    m->daily_sum += h->hc;
    m->daily_n++;
  }
  return 0;
}

int wf_sample_headcount(wf_plugin *p, ks_task *task, int64_t day_start) {
  int64_t month = ks_month_start(day_start, 0);
  return p->api->keyed_foreach(task, p->hr, sample_one, &month) != 0 ? KS_EPLUGIN : 0;
}

/* ---- attrition (month close) ------------------------------------------------ */

static int collect_month(void *ud, const void *key, size_t keylen, void *record) {
  wf_prows *rs = ud;
  wf_hr *h = record;
  wf_month *m = wf_month_slot(h, rs->period, h->hc_known);
  if (m) {
    wf_prow *r = prows_add(rs);
    if (r == NULL)
      return 1;
    if (ks_key_part(key, keylen, 0, r->tenant, WF_ID_MAX) < 0 ||
        ks_key_part(key, keylen, 1, r->team, WF_TEAM) < 0) {
      rs->n--;
    } else {
      r->m = *m;
      r->closing = h->hc;
      r->closing_known = h->hc_known;
    }
  }
  for (int i = 0; i < 2; i++)
    if (h->m[i].used && h->m[i].month_start <= rs->period)
      memset(&h->m[i], 0, sizeof h->m[i]); /* emitted, or a stale month */
  return 0;
}

/* Average headcount of the row per attrition.headcount; 0 when unknown. */
static int avg_headcount(const wf_config *cfg, const wf_prow *r, double *out) {
  if (cfg->hc_daily_mean)
    return avg((double)r->m.daily_sum, (double)r->m.daily_n, out);
  if (!r->m.opening_known || !r->closing_known)
    return 0;
  *out = ((double)r->m.opening + (double)r->closing) / 2.0;
  return 1;
}

typedef struct wf_attr {
  double hc;   /* average headcount, summed over teams with one */
  double seps; /* separations of those teams */
  double vol, invol;
  int64_t all_seps, hires; /* of every team */
} wf_attr;

static void emit_attr(wf_emitter *e, const wf_attr *a) {
  ks_emit_ratio(&e->em, "attrition", a->seps, a->hc, ks_i64_of_double(a->seps), "ratio");
  ks_emit_ratio(&e->em, "attrition_voluntary", a->vol, a->hc, ks_i64_of_double(a->vol), "ratio");
  ks_emit_ratio(&e->em, "attrition_involuntary", a->invol, a->hc, ks_i64_of_double(a->invol),
                "ratio");
  ks_emit_ratio(&e->em, "attrition_annualised", 12.0 * a->seps, a->hc, ks_i64_of_double(a->seps),
                "ratio");
  ks_emit_sum(&e->em, "separations", (double)a->all_seps, a->all_seps, "agents");
  ks_emit_sum(&e->em, "hires", (double)a->hires, a->hires, "agents");
}

static void emit_months(wf_emitter *e, const wf_prows *rs) {
  const int64_t end = ks_month_start(rs->period, 1);
  wf_attr tenant;
  memset(&tenant, 0, sizeof tenant);
  for (size_t i = 0; i < rs->n; i++) {
    const wf_prow *r = &rs->v[i];
    wf_attr a;
    memset(&a, 0, sizeof a);
    const int64_t seps = ks_add3_i64(r->m.seps[0], r->m.seps[1], r->m.seps[2]);
    a.all_seps = seps;
    a.hires = r->m.hires;
    if (avg_headcount(&e->p->cfg, r, &a.hc) && a.hc > 0) {
      a.seps = (double)seps;
      a.vol = (double)r->m.seps[1];
      a.invol = (double)r->m.seps[2];
    } else {
      a.hc = 0;
    }
    if (r->team[0]) {
      wf_em_dims(e, rs->period, end, r->tenant, r->team, "", 1);
      emit_attr(e, &a);
    }
    tenant.hc += a.hc;
    tenant.seps += a.seps;
    tenant.vol += a.vol;
    tenant.invol += a.invol;
    tenant.all_seps = ks_add_i64(tenant.all_seps, a.all_seps);
    tenant.hires = ks_add_i64(tenant.hires, a.hires);
    if (i + 1 == rs->n || strcmp(rs->v[i + 1].tenant, r->tenant) != 0) {
      wf_em_dims(e, rs->period, end, r->tenant, "", "", 0);
      emit_attr(e, &tenant);
      memset(&tenant, 0, sizeof tenant);
    }
  }
}

int wf_close_month(wf_plugin *p, ks_task *task, int64_t month_start) {
  wf_prows rs;
  memset(&rs, 0, sizeof rs);
  rs.p = p;
  rs.period = month_start;
  int rc = p->api->keyed_foreach(task, p->hr, collect_month, &rs);
  return prows_finish(&rs, task, rc, emit_months);
}
