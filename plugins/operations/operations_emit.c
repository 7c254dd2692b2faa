/*
 * operations_emit — the operations plugin's interval close: one result per
 * metric and dimension group (queue; agent when per_agent is on), with the
 * numerator, denominator and count each came from. The formulas are in
 * docs/metrics.md.
 */
#include "operations_internal.h"
#include <string.h>

/* ---- interval close: emit --------------------------------------------------------- */

typedef struct op_emitter {
  op_plugin *p;
  ks_emitter em; /* task, the result's dimensions */
} op_emitter;

static inline double sec(int64_t ms) {
  return (double)ms / 1000.0;
}

static int emit_queue(void *ud, const void *key, size_t keylen, void *record) {
  op_emitter *e = ud;
  const op_config *cfg = &e->p->cfg;
  const op_qagg *a = record;
  if (ks_emitter_dims(&e->em, key, keylen, 0) != 0)
    return 0;

  const int64_t excl_short = cfg->short_abandon_exclude ? a->ab_short : 0;
  const int64_t abandoned = ks_sub_i64(a->ab_all, excl_short);

  ks_emit_count(&e->em, "offered", a->offered, "contacts");
  ks_emit_count(&e->em, "answered", a->answered, "contacts");
  ks_emit_count(&e->em, "handled", a->handled, "contacts");
  ks_emit_count(&e->em, "abandoned", abandoned, "contacts");
  ks_emit_count(&e->em, "short_abandoned", a->ab_short, "contacts");

  int64_t abd = 0;
  switch (cfg->abandon_den) {
  case OP_ABD_OFFERED: /* excluded short abandons leave both sides */
    abd = ks_sub_i64(a->offered, excl_short);
    break;
  case OP_ABD_QUEUED:
    abd = ks_sub_i64(a->queued, excl_short);
    break;
  case OP_ABD_ANSWERED_PLUS_ABANDONED:
    abd = ks_add_i64(a->answered, abandoned);
    break;
  case OP_ABD_HANDLED_PLUS_ABANDONED:
    abd = ks_add_i64(a->handled, abandoned);
    break;
  }
  /* Not clamped: a negative denominator is this interval's exact
   * contribution (a short abandon of a contact queued in the previous
   * interval); the host publishes no value for it and roll-ups stay exact. */
  ks_emit_ratio(&e->em, "abandonment_rate", (double)abandoned, (double)abd, abd, "ratio");

  /* the abandons `abandoned` counts, with a known wait */
  const int64_t tta_n = ks_sub_i64(a->ab_known, excl_short);
  ks_emit_ratio(&e->em, "avg_time_to_abandon",
                sec(ks_sub_i64(a->ab_wait_ms, excl_short ? a->ab_short_wait_ms : 0)), (double)tta_n,
                tta_n, "seconds");
  ks_emit_count(&e->em, "callbacks", a->callbacks, "contacts");
  /* both stamped where the contact was queued (callback flag) / offered */
  ks_emit_ratio(&e->em, "callback_rate", (double)a->callbacks, (double)a->offered, a->offered,
                "ratio");
  ks_emit_count(&e->em, "callbacks_answered", a->cb_answered, "contacts");
  ks_emit_ratio(&e->em, "asa", sec(a->wait_sum_ms), (double)a->ans_known, a->ans_known, "seconds");
  ks_emit_value(&e->em, "longest_wait", KS_AGG_MAX, a->n_waits > 0, sec(a->max_wait_ms), a->n_waits,
                "seconds");
  if (is_text_channel(e->em.r.channel)) {
    ks_emit_ratio(&e->em, "first_response_time", sec(a->frt_sum_ms), (double)a->frt_n, a->frt_n,
                  "seconds");
    ks_emit_ratio(&e->em, "first_response_sla", (double)a->frt_in_t, (double)a->frt_n, a->frt_n,
                  "ratio");
  }

  ks_emit_ratio(&e->em, "aht", sec(a->handle_ms), (double)a->handled, a->handled, "seconds");
  ks_emit_ratio(&e->em, "avg_talk", sec(a->talk_ms), (double)a->handled, a->handled, "seconds");
  const int64_t hold_den = cfg->hold_over_held ? a->held : a->handled;
  ks_emit_ratio(&e->em, "avg_hold", sec(a->hold_ms), (double)hold_den, hold_den, "seconds");
  ks_emit_ratio(&e->em, "avg_acw", sec(a->acw_ms), (double)a->handled, a->handled, "seconds");

  /* Service level over contacts with a known queue wait. */
  int64_t sl_num = a->ans_in_t, sl_den = 0;
  switch (cfg->sl_variant) {
  case OP_SL_ANSWERED_OVER_ANSWERED_PLUS_ABANDONED:
    sl_den = ks_add_i64(a->ans_known, a->ab_known);
    break;
  case OP_SL_ABANDONS_IGNORED:
    sl_den = ks_sub_i64(a->offered, a->ab_in_t);
    break;
  case OP_SL_ABANDONS_NEGATIVE:
    sl_den = a->offered;
    break;
  case OP_SL_SHORT_ABANDONS_EXCLUDED:
    sl_den = ks_sub_i64(ks_add_i64(a->ans_known, a->ab_known), a->ab_short);
    break;
  case OP_SL_ABANDONS_POSITIVE:
    sl_num = ks_add_i64(a->ans_in_t, a->ab_in_t);
    sl_den = ks_add_i64(a->ans_known, a->ab_known);
    break;
  }
  /* may be negative (abandons_ignored: abandoned here, queued before): kept */
  ks_emit_ratio(&e->em, "service_level", (double)sl_num, (double)sl_den, sl_den, "ratio");

  ks_emit_ratio(&e->em, "fcr", (double)ks_sub_i64(a->fcr_n, a->fcr_repeats), (double)a->fcr_n,
                a->fcr_n, "ratio");
  ks_emit_ratio(&e->em, "transfer_rate", (double)a->transferred, (double)a->handled, a->handled,
                "ratio");
  ks_emit_ratio(&e->em, "escalation_rate", (double)a->escalated, (double)a->handled, a->handled,
                "ratio");
  ks_emit_ratio(&e->em, "traffic_erlangs", sec(a->handle_ms), sec(cfg->interval_ms), a->handled,
                "erlangs");
  ks_emit_ratio(&e->em, "resolution_time", sec(a->res_sum_ms), (double)a->res_n, a->res_n,
                "seconds");
  ks_emit_ratio(&e->em, "resolution_rate", (double)a->res_n, (double)a->handled, a->handled,
                "ratio");
  ks_emit_ratio(&e->em, "one_touch_resolution_rate", (double)a->res_ot, (double)a->res_n, a->res_n,
                "ratio");
  ks_emit_count(&e->em, "reopened", a->reopened, "contacts");
  ks_emit_ratio(&e->em, "reopen_rate", (double)a->reopened, (double)a->fres_n, a->fres_n, "ratio");
  ks_emit_ratio(&e->em, "full_resolution_time", sec(a->fres_sum_ms), (double)a->fres_n, a->fres_n,
                "seconds");
  return 0;
}

static int emit_agent(void *ud, const void *key, size_t keylen, void *record) {
  op_emitter *e = ud;
  const op_config *cfg = &e->p->cfg;
  const op_aagg *g = record;
  if (ks_emitter_dims(&e->em, key, keylen, 1) != 0)
    return 0;
  ks_emit_count(&e->em, "answered", g->answered, "contacts");
  ks_emit_count(&e->em, "handled", g->handled, "contacts");
  ks_emit_ratio(&e->em, "aht", sec(g->handle_ms), (double)g->handled, g->handled, "seconds");
  const int64_t hold_den = cfg->hold_over_held ? g->held : g->handled;
  ks_emit_ratio(&e->em, "avg_hold", sec(g->hold_ms), (double)hold_den, hold_den, "seconds");
  ks_emit_ratio(&e->em, "avg_acw", sec(g->acw_ms), (double)g->handled, g->handled, "seconds");
  ks_emit_ratio(&e->em, "transfer_rate", (double)g->transferred, (double)g->handled, g->handled,
                "ratio");
  ks_emit_ratio(&e->em, "fcr", (double)ks_sub_i64(g->fcr_n, g->fcr_repeats), (double)g->fcr_n,
                g->fcr_n, "ratio");
  /* email and chat rows, and rows of all channels (per_agent: agent) */
  if (e->em.r.channel == 0 || is_text_channel(e->em.r.channel)) {
    ks_emit_ratio(&e->em, "first_response_time", sec(g->frt_sum_ms), (double)g->frt_n, g->frt_n,
                  "seconds");
    ks_emit_ratio(&e->em, "first_response_sla", (double)g->frt_in_t, (double)g->frt_n, g->frt_n,
                  "ratio");
  }
  ks_emit_ratio(&e->em, "resolution_time", sec(g->res_sum_ms), (double)g->res_n, g->res_n,
                "seconds");
  ks_emit_ratio(&e->em, "resolution_rate", (double)g->res_n, (double)g->handled, g->handled,
                "ratio");
  ks_emit_ratio(&e->em, "one_touch_resolution_rate", (double)g->res_ot, (double)g->res_n, g->res_n,
                "ratio");
  ks_emit_ratio(&e->em, "reopen_rate", (double)g->reopened, (double)g->res_n, g->res_n, "ratio");
  /* offers answered within T of ringing / offers (those answered with an
   * unknown ring time left out) */
  const int64_t sl_den = ks_sub_i64(g->offers, g->ring_unk);
  ks_emit_ratio(&e->em, "service_level", (double)g->ring_in_t, (double)sl_den, sl_den, "ratio");
  ks_emit_count(&e->em, "ring_no_answer", g->rna, "contacts");
  ks_emit_ratio(&e->em, "ring_no_answer_rate", (double)g->rna, (double)g->offers, g->offers,
                "ratio");
  return 0;
}

int op_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  op_plugin *p = data;
  op_emitter *e = p->api->alloc(sizeof *e); /* once per interval, not per event */
  if (e == NULL)
    return KS_ENOMEM;
  e->p = p;
  ks_emitter_init(&e->em, p->api, p->ctx, task, iv);
  int rc = p->api->window_foreach(task, p->by_queue, iv->start_ms, emit_queue, e);
  if (rc == 0 && p->cfg.per_agent != OP_AGENT_OFF)
    rc = p->api->window_foreach(task, p->by_agent, iv->start_ms, emit_agent, e);
  const int failed = e->em.failed;
  p->api->free(e);
  return rc != 0 || failed ? KS_EPLUGIN : 0;
}
