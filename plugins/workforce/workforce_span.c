/*
 * workforce plugin — time arithmetic: what a state span and what the
 * published schedule contribute to one interval, the schedule segment store
 * with its revision rule, the day and month slots (UTC months: kpistream/calendar.h).
 *
 * A segment [s, e) of an adherence-relevant activity has a start tolerance
 * zone [s, s + start_tolerance) and an end tolerance zone
 * [e - end_tolerance, e): time in them counts as adherent whatever the
 * agent does (taken from the schedule at interval close); outside them
 * (the "core") only time in the matching state counts (taken from the state
 * spans as they are accrued).
 */
#include <string.h>

#include "workforce_internal.h"

#define AST(x) KPISTREAM__V1__AGENT_STATE__AGENT_##x
#define AUX(x) KPISTREAM__V1__AUX_REASON__AUX_##x
#define ACT(x) KPISTREAM__V1__ACTIVITY__ACTIVITY_##x

/* ---- activities and states ------------------------------------------------- */

int wf_adherence_relevant(int activity) {
  return activity >= ACT(ON_QUEUE) && activity <= ACT(OFFLINE_WORK) &&
         activity != ACT(PLANNED_LEAVE) && activity != ACT(UNPLANNED_ABSENCE);
}

/* Is (state, aux) what the activity asks for? */
static int state_matches(int activity, int state, int aux) {
  if (activity == ACT(ON_QUEUE))
    return wf_is_on_queue_state(state);
  if (state != AST(AUX))
    return 0;
  switch (activity) {
  case ACT(BREAK):
    return aux == AUX(BREAK);
  case ACT(LUNCH):
    return aux == AUX(LUNCH);
  case ACT(TRAINING):
    return aux == AUX(TRAINING);
  case ACT(MEETING):
    return aux == AUX(MEETING);
  case ACT(COACHING):
    return aux == AUX(COACHING);
  case ACT(OFFLINE_WORK):
    return aux == AUX(OFFLINE_WORK);
  default:
    return 0;
  }
}

const char *wf_activity_name(int activity) {
  static const char *const names[WF_NACT] = {"unspecified", "on_queue",      "break",
                                             "lunch",       "training",      "meeting",
                                             "coaching",    "planned_leave", "unplanned_absence",
                                             "offline_work"};
  return activity >= 0 && activity < WF_NACT ? names[activity] : "unspecified";
}

const char *wf_aux_label(int aux) {
  static const char *const names[WF_NAUX] = {
      "aux_unspecified",      "aux_break",    "aux_lunch",
      "aux_training",         "aux_meeting",  "aux_coaching",
      "aux_technical_outage", "aux_personal", "aux_offline_work"};
  return aux >= 0 && aux < WF_NAUX ? names[aux] : "aux_unspecified";
}

/* The core of a segment: outside both tolerance zones; empty when b <= a. */
static void seg_core(const wf_config *cfg, const wf_seg *g, int64_t *a, int64_t *b) {
  *a = g->start_ms + cfg->tol_start_ms;
  *b = g->end_ms - cfg->tol_end_ms;
}

/* ---- a state span against the schedule ------------------------------------- */

void wf_span_add(const wf_config *cfg, const wf_agent *ag, wf_acc *acc, int64_t a, int64_t b,
                 int state, int aux) {
  const int64_t dur = b - a;
  if (dur <= 0)
    return;
  if (aux < 0 || aux >= WF_NAUX)
    aux = 0;
  if (wf_is_logged_in(state))
    acc->logged_in += dur;
  switch (state) {
  case AST(AVAILABLE):
    acc->available += dur;
    break;
  case AST(ON_CONTACT):
    acc->on_contact += dur;
    break;
  case AST(AFTER_CONTACT_WORK):
    acc->acw += dur;
    break;
  case AST(AUX):
    acc->aux[aux] += dur;
    break;
  default:
    break;
  }
  /* utilization's numerator: productive time inside paid time only, so it
   * never exceeds its denominator (paid), for an agent or summed */
  const int productive = cfg->util_logged_in ? wf_is_logged_in(state)
                                             : wf_is_on_queue_state(state) ||
                                                   (state == AST(AUX) && aux == AUX(OFFLINE_WORK));
  for (int i = 0; i < WF_SEGS; i++) {
    const wf_seg *g = &ag->seg[i];
    if (!g->used)
      continue;
    const int64_t ov = wf_overlap(a, b, g->start_ms, g->end_ms);
    if (ov == 0)
      continue;
    if (g->paid && productive)
      acc->prod_paid += ov;
    if (wf_adherence_relevant(g->activity) && state_matches(g->activity, state, aux)) {
      int64_t ca, cb;
      seg_core(cfg, g, &ca, &cb);
      acc->adh_in += wf_overlap(a, b, ca, cb);
    }
    if (g->activity == ACT(ON_QUEUE) && g->paid) {
      if (wf_is_on_queue_state(state))
        acc->onq_in_sched += ov;
      else if (state == AST(AUX))
        acc->unpl_aux[aux] += ov;
    }
  }
}

/* ---- the schedule of an interval ------------------------------------------- */

void wf_sched_add(const wf_config *cfg, const wf_agent *ag, wf_sched *out, int64_t s, int64_t e) {
  for (int i = 0; i < WF_SEGS; i++) {
    const wf_seg *g = &ag->seg[i];
    if (!g->used)
      continue;
    const int64_t ov = wf_overlap(s, e, g->start_ms, g->end_ms);
    if (ov == 0)
      continue;
    const int act = g->activity < WF_NACT ? g->activity : 0;
    out->scheduled += ov;
    if (g->paid) {
      out->paid += ov;
      out->paid_act[act] += ov;
    }
    if (act == ACT(ON_QUEUE))
      out->onq += ov;
    if (wf_adherence_relevant(act)) {
      int64_t ca, cb;
      seg_core(cfg, g, &ca, &cb);
      out->adh += ov;
      out->tol_credit += ov - wf_overlap(s, e, wf_max(ca, g->start_ms), wf_min(cb, g->end_ms));
    }
  }
}

void wf_sched_prune(wf_agent *ag, int64_t t) {
  for (int i = 0; i < WF_SEGS; i++)
    if (ag->seg[i].used && ag->seg[i].end_ms <= t)
      memset(&ag->seg[i], 0, sizeof ag->seg[i]);
}

int wf_sched_put(wf_agent *ag, const wf_seg *g) {
  for (int i = 0; i < WF_SEGS; i++) {
    const wf_seg *o = &ag->seg[i];
    if (o->used && o->sched_hash == g->sched_hash && o->revision > g->revision)
      return 1; /* a later revision of this schedule is in force */
  }
  wf_seg *slot = NULL;
  for (int i = 0; i < WF_SEGS; i++) {
    wf_seg *o = &ag->seg[i];
    if (!o->used || o->sched_hash != g->sched_hash)
      continue;
    if (o->revision < g->revision)
      memset(o, 0, sizeof *o); /* replaced by the new revision */
    else if (o->start_ms == g->start_ms && o->end_ms == g->end_ms)
      slot = o; /* the same segment again: replace it */
  }
  for (int i = 0; i < WF_SEGS && slot == NULL; i++)
    if (!ag->seg[i].used)
      slot = &ag->seg[i];
  if (slot == NULL) { /* full: the segment that starts last is dropped */
    slot = &ag->seg[0];
    for (int i = 1; i < WF_SEGS; i++)
      if (ag->seg[i].start_ms > slot->start_ms)
        slot = &ag->seg[i];
    if (g->start_ms >= slot->start_ms)
      return 2; /* the new one is the farthest ahead */
  }
  *slot = *g;
  slot->used = 1;
  return 0;
}

/* ---- period slots -------------------------------------------------------------
 *
 * Two per record: the period being filled and, with allowed lateness, the one
 * before it that has not closed yet. A slot more than one period old was
 * never closed (the host skipped a long quiet stretch) and is reused.
 */

wf_day *wf_day_slot(wf_agent *ag, int64_t day_start, int create) {
  for (int i = 0; i < 2; i++)
    if (ag->day[i].used && ag->day[i].day_start == day_start)
      return &ag->day[i];
  if (!create)
    return NULL;
  for (int i = 0; i < 2; i++)
    if (!ag->day[i].used || ag->day[i].day_start < day_start - WF_DAY_MS) { /* free or stale */
      memset(&ag->day[i], 0, sizeof ag->day[i]);
      ag->day[i].used = 1;
      ag->day[i].day_start = day_start;
      return &ag->day[i];
    }
  return NULL;
}

wf_month *wf_month_slot(wf_hr *h, int64_t month_start, int create) {
  for (int i = 0; i < 2; i++)
    if (h->m[i].used && h->m[i].month_start == month_start)
      return &h->m[i];
  if (!create)
    return NULL;
  const int64_t prev = ks_month_start(month_start - 1, 0);
  for (int i = 0; i < 2; i++)
    if (!h->m[i].used || h->m[i].month_start < prev) { /* free, or stale (its close was skipped) */
      wf_month *m = &h->m[i];
      memset(m, 0, sizeof *m);
      m->used = 1;
      m->month_start = month_start;
      m->opening = h->hc;
      m->opening_known = h->hc_known;
      return m;
    }
  return NULL;
}
