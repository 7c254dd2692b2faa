/*
 * workforce plugin — interval close: occupancy, utilization, adherence,
 * conformance, shrinkage (planned / unplanned, by reason), absenteeism and
 * technical downtime per agent, team and tenant.
 *
 * The host no longer hands out the closing interval's window records to
 * window_get(), so the closer builds a scratch array for the call:
 *   1. every by_agent record of the interval (state time accrued by events);
 *   2. every agent of the agents table: the part of its current state that
 *      falls in the interval (accrued now, accrued_to moves to the interval
 *      end), and what its schedule says about the interval; schedule
 *      segments that have ended are dropped;
 *   3. sorted by (tenant, team, agent): per-agent results, then team and
 *      tenant sums of the per-agent parts.
 */
#include <stdlib.h>
#include <string.h>

#include "workforce_internal.h"

#define ACT(x) KPISTREAM__V1__ACTIVITY__ACTIVITY_##x
#define AUX(x) KPISTREAM__V1__AUX_REASON__AUX_##x

typedef struct wf_row {
  char tenant[WF_ID_MAX];
  char agent[WF_ID_MAX];
  char team[WF_TEAM];
  wf_acc acc;
  wf_sched sch;
} wf_row;

/* The numerators and denominators of one agent, summed for teams/tenants. */
typedef struct wf_parts {
  int64_t agents;
  int64_t handle, available, logged_in, productive, paid;
  int64_t adh_num, adh_den, onq_actual, onq_sched;
  int64_t planned[WF_NACT]; /* paid planned shrinkage by activity */
  int64_t absence, leave, not_logged_in;
  int64_t unpl_aux[WF_NAUX];
  int64_t tech;
} wf_parts;

typedef struct wf_rows {
  wf_plugin *p;
  int64_t start, end;
  wf_row *v;
  size_t n, cap, nsorted;
  int oom;
} wf_rows;

static wf_row *rows_add(wf_rows *rs) {
  if (rs->n == rs->cap) {
    size_t nc = rs->cap ? rs->cap * 2 : 64;
    wf_row *nv = rs->p->api->alloc(nc * sizeof *nv);
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
  wf_row *r = &rs->v[rs->n++];
  memset(r, 0, sizeof *r);
  return r;
}

static int by_tenant_agent(const void *a, const void *b) {
  const wf_row *x = a, *y = b;
  int c = strcmp(x->tenant, y->tenant);
  return c ? c : strcmp(x->agent, y->agent);
}

static int by_tenant_team_agent(const void *a, const void *b) {
  const wf_row *x = a, *y = b;
  int c = strcmp(x->tenant, y->tenant);
  if (c == 0)
    c = strcmp(x->team, y->team);
  return c ? c : strcmp(x->agent, y->agent);
}

static int key_names(const void *key, size_t keylen, char *tenant, char *agent) {
  return ks_key_part(key, keylen, 0, tenant, WF_ID_MAX) >= 0 &&
         ks_key_part(key, keylen, 1, agent, WF_ID_MAX) >= 0;
}

/* 1. the state time events accrued into the interval */
static int collect_window(void *ud, const void *key, size_t keylen, void *record) {
  wf_rows *rs = ud;
  const wf_acc *a = record;
  wf_row *r = rows_add(rs);
  if (r == NULL)
    return 1;
  if (!key_names(key, keylen, r->tenant, r->agent)) {
    rs->n--;
    return 0;
  }
  r->acc = *a;
  memcpy(r->team, a->team, sizeof r->team);
  r->team[WF_TEAM - 1] = '\0';
  return 0;
}

static void acc_add(wf_acc *d, const wf_acc *s) {
  d->logged_in += s->logged_in;
  d->available += s->available;
  d->on_contact += s->on_contact;
  d->acw += s->acw;
  d->adh_in += s->adh_in;
  d->onq_in_sched += s->onq_in_sched;
  d->prod_paid += s->prod_paid;
  for (int i = 0; i < WF_NAUX; i++) {
    d->aux[i] += s->aux[i];
    d->unpl_aux[i] += s->unpl_aux[i];
  }
}

/* 2. the open state and the schedule of every agent */
static int collect_agent(void *ud, const void *key, size_t keylen, void *record) {
  wf_rows *rs = ud;
  const wf_config *cfg = &rs->p->cfg;
  wf_agent *ag = record;
  wf_acc extra;
  wf_sched sch;
  memset(&extra, 0, sizeof extra);
  memset(&sch, 0, sizeof sch);
  if (ag->flags & AG_STATE) {
    const int64_t from = wf_max(wf_max(ag->accrued_to, ag->state_since), rs->start);
    if (rs->end > from) {
      wf_span_add(cfg, ag, &extra, from, rs->end, ag->state, ag->aux);
      if (ag->state == KPISTREAM__V1__AGENT_STATE__AGENT_ON_CONTACT ||
          ag->state == KPISTREAM__V1__AGENT_STATE__AGENT_AFTER_CONTACT_WORK) {
        wf_day *d = wf_day_slot(ag, ks_interval_floor(from, WF_DAY_MS), 1);
        if (d)
          d->handle_ms += rs->end - from;
      }
      ag->accrued_to = rs->end;
    }
  }
  wf_sched_add(cfg, ag, &sch, rs->start, rs->end);
  wf_sched_prune(ag, rs->end);
  if (extra.logged_in == 0 && sch.scheduled == 0 && ag->team[0] == '\0')
    return 0;
  wf_row probe;
  if (!key_names(key, keylen, probe.tenant, probe.agent))
    return 0;
  wf_row *r =
      rs->nsorted ? bsearch(&probe, rs->v, rs->nsorted, sizeof *rs->v, by_tenant_agent) : NULL;
  if (r == NULL) {
    if (extra.logged_in == 0 && sch.scheduled == 0)
      return 0;
    if ((r = rows_add(rs)) == NULL)
      return 1;
    memcpy(r->tenant, probe.tenant, sizeof r->tenant);
    memcpy(r->agent, probe.agent, sizeof r->agent);
  }
  acc_add(&r->acc, &extra);
  r->sch = sch;
  if (ag->team[0])
    memcpy(r->team, ag->team, sizeof r->team);
  return 0;
}

/* ---- parts and results ------------------------------------------------------ */

static int planned_activity(int act) {
  return act != ACT(ON_QUEUE) && act != ACT(UNPLANNED_ABSENCE);
}

static void parts_of(const wf_row *r, wf_parts *o) {
  const wf_acc *a = &r->acc;
  const wf_sched *s = &r->sch;
  memset(o, 0, sizeof *o);
  o->agents = 1;
  o->handle = ks_add_i64(a->on_contact, a->acw);
  o->available = a->available;
  o->logged_in = a->logged_in;
  o->productive = a->prod_paid; /* per utilization.basis, inside paid segments */
  o->paid = s->paid;
  o->adh_den = s->adh;
  o->adh_num = wf_min(ks_add_i64(a->adh_in, s->tol_credit), s->adh);
  o->onq_actual = ks_add3_i64(a->available, a->on_contact, a->acw);
  o->onq_sched = s->onq;
  for (int i = 0; i < WF_NACT; i++)
    if (planned_activity(i))
      o->planned[i] = s->paid_act[i];
  o->absence = s->paid_act[ACT(UNPLANNED_ABSENCE)];
  o->leave = s->paid_act[ACT(PLANNED_LEAVE)];
  int64_t aux_sum = 0;
  for (int i = 0; i < WF_NAUX; i++) {
    o->unpl_aux[i] = a->unpl_aux[i];
    aux_sum = ks_add_i64(aux_sum, a->unpl_aux[i]);
  }
  o->not_logged_in =
      wf_max(0, ks_sub_i64(ks_sub_i64(s->paid_act[ACT(ON_QUEUE)], a->onq_in_sched), aux_sum));
  o->tech = a->aux[AUX(TECHNICAL_OUTAGE)];
}

static void parts_add(wf_parts *d, const wf_parts *s) {
  int64_t *dp = (int64_t *)d;
  const int64_t *sp = (const int64_t *)s;
  for (size_t i = 0; i < sizeof *d / sizeof(int64_t); i++)
    dp[i] = ks_add_i64(dp[i], sp[i]);
}

static void emit_parts(wf_emitter *e, const wf_parts *o, int by_reason) {
  const int64_t n = o->agents;
  int64_t planned = 0, unplanned = ks_add_i64(o->absence, o->not_logged_in);
  for (int i = 0; i < WF_NACT; i++)
    planned = ks_add_i64(planned, o->planned[i]);
  for (int i = 0; i < WF_NAUX; i++)
    unplanned = ks_add_i64(unplanned, o->unpl_aux[i]);
  const double paid = wf_sec(o->paid);
  ks_emit_ratio(&e->em, "occupancy", wf_sec(o->handle), wf_sec(ks_add_i64(o->handle, o->available)),
                n, "ratio");
  ks_emit_ratio(&e->em, "utilization", wf_sec(o->productive), paid, n, "ratio");
  ks_emit_ratio(&e->em, "adherence", wf_sec(o->adh_num), wf_sec(o->adh_den), n, "ratio");
  ks_emit_ratio(&e->em, "conformance", wf_sec(o->onq_actual), wf_sec(o->onq_sched), n, "ratio");
  ks_emit_ratio(&e->em, "shrinkage", wf_sec(ks_add_i64(planned, unplanned)), paid, n, "ratio");
  ks_emit_ratio(&e->em, "shrinkage_planned", wf_sec(planned), paid, n, "ratio");
  ks_emit_ratio(&e->em, "shrinkage_unplanned", wf_sec(unplanned), paid, n, "ratio");
  ks_emit_ratio(&e->em, "absenteeism", wf_sec(o->absence), wf_sec(ks_sub_i64(o->paid, o->leave)), n,
                "ratio");
  ks_emit_sum(&e->em, "technical_downtime", (double)o->tech / 3600000.0, n, "h");
  ks_emit_ratio(&e->em, "technical_downtime_share", wf_sec(o->tech), wf_sec(o->logged_in), n,
                "ratio");
  if (!by_reason || o->paid == 0)
    return;
  for (int i = 0; i < WF_NACT; i++)
    if (o->planned[i] > 0) {
      wf_em_reason(e, wf_activity_name(i));
      ks_emit_ratio(&e->em, "shrinkage_planned", wf_sec(o->planned[i]), paid, n, "ratio");
    }
  if (o->absence > 0) {
    wf_em_reason(e, "absence");
    ks_emit_ratio(&e->em, "shrinkage_unplanned", wf_sec(o->absence), paid, n, "ratio");
  }
  if (o->not_logged_in > 0) {
    wf_em_reason(e, "not_logged_in");
    ks_emit_ratio(&e->em, "shrinkage_unplanned", wf_sec(o->not_logged_in), paid, n, "ratio");
  }
  for (int i = 0; i < WF_NAUX; i++)
    if (o->unpl_aux[i] > 0) {
      wf_em_reason(e, wf_aux_label(i));
      ks_emit_ratio(&e->em, "shrinkage_unplanned", wf_sec(o->unpl_aux[i]), paid, n, "ratio");
    }
  wf_em_reason(e, NULL);
}

static void emit_rows(wf_emitter *e, wf_rows *rs) {
  const wf_config *cfg = &e->p->cfg;
  wf_parts team, tenant, one;
  memset(&team, 0, sizeof team);
  memset(&tenant, 0, sizeof tenant);
  for (size_t i = 0; i < rs->n; i++) {
    const wf_row *r = &rs->v[i];
    if (r->acc.logged_in == 0 && r->sch.scheduled == 0)
      continue; /* nothing happened or was scheduled (possibly a stray record) */
    parts_of(r, &one);
    if (cfg->per_agent) {
      wf_em_dims(e, rs->start, rs->end, r->tenant, r->team, r->agent, 0);
      emit_parts(e, &one, 0);
    }
    parts_add(&team, &one);
    parts_add(&tenant, &one);
    /* the next emitted row decides whether a group ends here */
    size_t j = i + 1;
    while (j < rs->n && rs->v[j].acc.logged_in == 0 && rs->v[j].sch.scheduled == 0)
      j++;
    const wf_row *nx = j < rs->n ? &rs->v[j] : NULL;
    const int tenant_ends = nx == NULL || strcmp(nx->tenant, r->tenant) != 0;
    if (tenant_ends || strcmp(nx->team, r->team) != 0) {
      if (r->team[0] && team.agents) {
        wf_em_dims(e, rs->start, rs->end, r->tenant, r->team, "", 1);
        emit_parts(e, &team, 1);
      }
      memset(&team, 0, sizeof team);
    }
    if (tenant_ends) {
      wf_em_dims(e, rs->start, rs->end, r->tenant, "", "", 0);
      emit_parts(e, &tenant, 1);
      memset(&tenant, 0, sizeof tenant);
    }
    i = j - 1;
  }
}

int wf_close_interval(wf_plugin *p, ks_task *task, const ks_interval *iv) {
  wf_rows rs;
  memset(&rs, 0, sizeof rs);
  rs.p = p;
  rs.start = iv->start_ms;
  rs.end = iv->end_ms;
  int rc = p->api->window_foreach(task, p->by_agent, iv->start_ms, collect_window, &rs);
  if (rc == 0 && !rs.oom) {
    if (rs.n)
      qsort(rs.v, rs.n, sizeof *rs.v, by_tenant_agent);
    rs.nsorted = rs.n;
    rc = p->api->keyed_foreach(task, p->agents, collect_agent, &rs);
  }
  int failed = rc != 0 || rs.oom;
  if (!failed && rs.n) {
    qsort(rs.v, rs.n, sizeof *rs.v, by_tenant_team_agent);
    wf_emitter *e = p->api->alloc(sizeof *e);
    if (e == NULL) {
      failed = 1;
    } else {
      e->p = p;
      ks_emitter_init(&e->em, p->api, p->ctx, task, NULL);
      emit_rows(e, &rs);
      failed = e->em.failed;
      p->api->free(e);
    }
  }
  if (rs.v)
    p->api->free(rs.v);
  if (failed)
    p->api->log(p->ctx, KS_LOG_ERROR, "interval %lld: results incomplete (out of memory?)",
                (long long)iv->start_ms);
  return failed ? KS_EPLUGIN : 0;
}
