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
  ks_task *task;
  ks_result r;
  int failed;
  char tenant[KS_KEY_MAX];
  char queue[KS_KEY_MAX];
  char agent[KS_KEY_MAX];
} op_emitter;

static void em_put(op_emitter *e, const char *metric, const char *unit) {
  e->r.metric = metric;
  e->r.unit = unit;
  if (e->p->api->emit(e->p->ctx, e->task, &e->r) != 0)
    e->failed = 1;
}

/* A count or total: value = numerator. */
static void em_sum(op_emitter *e, const char *metric, int64_t n, const char *unit) {
  e->r.aggregation = KS_AGG_SUM;
  e->r.has_value = 1;
  e->r.value = (double)n;
  e->r.numerator = (double)n;
  e->r.denominator = 0;
  e->r.count = n;
  em_put(e, metric, unit);
}

/* value = num / den, null when den <= 0 (as the host publishes it). */
static void em_ratio(op_emitter *e, const char *metric, double num, double den, int64_t count,
                     const char *unit) {
  ks_result_set_ratio(&e->r, num, den, count);
  em_put(e, metric, unit);
}

static void em_max(op_emitter *e, const char *metric, double v, int64_t count, const char *unit) {
  e->r.aggregation = KS_AGG_MAX;
  e->r.has_value = count > 0;
  e->r.value = count > 0 ? v : 0.0;
  e->r.numerator = count > 0 ? v : 0.0;
  e->r.denominator = 0;
  e->r.count = count;
  em_put(e, metric, unit);
}

static inline double sec(int64_t ms) {
  return (double)ms / 1000.0;
}

static int read_dims(op_emitter *e, const void *key, size_t keylen, int with_agent) {
  char ch[4];
  if (ks_key_part(key, keylen, 0, e->tenant, sizeof e->tenant) < 0 ||
      ks_key_part(key, keylen, 1, ch, sizeof ch) != 1 ||
      ks_key_part(key, keylen, 2, e->queue, sizeof e->queue) < 0)
    return 0;
  e->agent[0] = '\0';
  if (with_agent && ks_key_part(key, keylen, 3, e->agent, sizeof e->agent) < 0)
    return 0;
  e->r.tenant = e->tenant;
  e->r.channel = (unsigned char)ch[0];
  e->r.queue = e->queue;
  e->r.agent_id = with_agent ? e->agent : NULL;
  /* a queue row without a queue holds what no queue row does */
  e->r.level = with_agent         ? KS_LEVEL_AGENT
               : e->queue[0] != 0 ? KS_LEVEL_QUEUE
                                  : KS_LEVEL_UNATTRIBUTED;
  return 1;
}

static int emit_queue(void *ud, const void *key, size_t keylen, void *record) {
  op_emitter *e = ud;
  const op_config *cfg = &e->p->cfg;
  const op_qagg *a = record;
  if (!read_dims(e, key, keylen, 0))
    return 0;

  const int64_t excl_short = cfg->short_abandon_exclude ? a->ab_short : 0;
  const int64_t abandoned = a->ab_all - excl_short;

  em_sum(e, "offered", a->offered, "contacts");
  em_sum(e, "answered", a->answered, "contacts");
  em_sum(e, "handled", a->handled, "contacts");
  em_sum(e, "abandoned", abandoned, "contacts");
  em_sum(e, "short_abandoned", a->ab_short, "contacts");

  int64_t abd = 0;
  switch (cfg->abandon_den) {
  case OP_ABD_OFFERED: /* excluded short abandons leave both sides */
    abd = a->offered - excl_short;
    break;
  case OP_ABD_QUEUED:
    abd = a->queued - excl_short;
    break;
  case OP_ABD_ANSWERED_PLUS_ABANDONED:
    abd = a->answered + abandoned;
    break;
  case OP_ABD_HANDLED_PLUS_ABANDONED:
    abd = a->handled + abandoned;
    break;
  }
  /* Not clamped: a negative denominator is this interval's exact
   * contribution (a short abandon of a contact queued in the previous
   * interval); the host publishes no value for it and roll-ups stay exact. */
  em_ratio(e, "abandonment_rate", (double)abandoned, (double)abd, abd, "ratio");

  /* the abandons `abandoned` counts, with a known wait */
  const int64_t tta_n = a->ab_known - excl_short;
  em_ratio(e, "avg_time_to_abandon", sec(a->ab_wait_ms - (excl_short ? a->ab_short_wait_ms : 0)),
           (double)tta_n, tta_n, "seconds");
  em_sum(e, "callbacks", a->callbacks, "contacts");
  /* both stamped where the contact was queued (callback flag) / offered */
  em_ratio(e, "callback_rate", (double)a->callbacks, (double)a->offered, a->offered, "ratio");
  em_sum(e, "callbacks_answered", a->cb_answered, "contacts");
  em_ratio(e, "asa", sec(a->wait_sum_ms), (double)a->ans_known, a->ans_known, "seconds");
  em_max(e, "longest_wait", sec(a->max_wait_ms), a->n_waits, "seconds");
  if (is_text_channel(e->r.channel)) {
    em_ratio(e, "first_response_time", sec(a->frt_sum_ms), (double)a->frt_n, a->frt_n, "seconds");
    em_ratio(e, "first_response_sla", (double)a->frt_in_t, (double)a->frt_n, a->frt_n, "ratio");
  }

  em_ratio(e, "aht", sec(a->handle_ms), (double)a->handled, a->handled, "seconds");
  em_ratio(e, "avg_talk", sec(a->talk_ms), (double)a->handled, a->handled, "seconds");
  const int64_t hold_den = cfg->hold_over_held ? a->held : a->handled;
  em_ratio(e, "avg_hold", sec(a->hold_ms), (double)hold_den, hold_den, "seconds");
  em_ratio(e, "avg_acw", sec(a->acw_ms), (double)a->handled, a->handled, "seconds");

  /* Service level over contacts with a known queue wait. */
  int64_t sl_num = a->ans_in_t, sl_den = 0;
  switch (cfg->sl_variant) {
  case OP_SL_ANSWERED_OVER_ANSWERED_PLUS_ABANDONED:
    sl_den = a->ans_known + a->ab_known;
    break;
  case OP_SL_ABANDONS_IGNORED:
    sl_den = a->offered - a->ab_in_t;
    break;
  case OP_SL_ABANDONS_NEGATIVE:
    sl_den = a->offered;
    break;
  case OP_SL_SHORT_ABANDONS_EXCLUDED:
    sl_den = a->ans_known + a->ab_known - a->ab_short;
    break;
  case OP_SL_ABANDONS_POSITIVE:
    sl_num = a->ans_in_t + a->ab_in_t;
    sl_den = a->ans_known + a->ab_known;
    break;
  }
  /* may be negative (abandons_ignored: abandoned here, queued before): kept */
  em_ratio(e, "service_level", (double)sl_num, (double)sl_den, sl_den, "ratio");

  em_ratio(e, "fcr", (double)(a->fcr_n - a->fcr_repeats), (double)a->fcr_n, a->fcr_n, "ratio");
  em_ratio(e, "transfer_rate", (double)a->transferred, (double)a->handled, a->handled, "ratio");
  em_ratio(e, "escalation_rate", (double)a->escalated, (double)a->handled, a->handled, "ratio");
  em_ratio(e, "traffic_erlangs", sec(a->handle_ms), sec(cfg->interval_ms), a->handled, "erlangs");
  em_ratio(e, "resolution_time", sec(a->res_sum_ms), (double)a->res_n, a->res_n, "seconds");
  em_ratio(e, "resolution_rate", (double)a->res_n, (double)a->handled, a->handled, "ratio");
  em_ratio(e, "one_touch_resolution_rate", (double)a->res_ot, (double)a->res_n, a->res_n, "ratio");
  em_sum(e, "reopened", a->reopened, "contacts");
  em_ratio(e, "reopen_rate", (double)a->reopened, (double)a->fres_n, a->fres_n, "ratio");
  em_ratio(e, "full_resolution_time", sec(a->fres_sum_ms), (double)a->fres_n, a->fres_n, "seconds");
  return 0;
}

static int emit_agent(void *ud, const void *key, size_t keylen, void *record) {
  op_emitter *e = ud;
  const op_config *cfg = &e->p->cfg;
  const op_aagg *g = record;
  if (!read_dims(e, key, keylen, 1))
    return 0;
  em_sum(e, "answered", g->answered, "contacts");
  em_sum(e, "handled", g->handled, "contacts");
  em_ratio(e, "aht", sec(g->handle_ms), (double)g->handled, g->handled, "seconds");
  const int64_t hold_den = cfg->hold_over_held ? g->held : g->handled;
  em_ratio(e, "avg_hold", sec(g->hold_ms), (double)hold_den, hold_den, "seconds");
  em_ratio(e, "avg_acw", sec(g->acw_ms), (double)g->handled, g->handled, "seconds");
  em_ratio(e, "transfer_rate", (double)g->transferred, (double)g->handled, g->handled, "ratio");
  em_ratio(e, "fcr", (double)(g->fcr_n - g->fcr_repeats), (double)g->fcr_n, g->fcr_n, "ratio");
  /* email and chat rows, and rows of all channels (per_agent: agent) */
  if (e->r.channel == 0 || is_text_channel(e->r.channel)) {
    em_ratio(e, "first_response_time", sec(g->frt_sum_ms), (double)g->frt_n, g->frt_n, "seconds");
    em_ratio(e, "first_response_sla", (double)g->frt_in_t, (double)g->frt_n, g->frt_n, "ratio");
  }
  em_ratio(e, "resolution_time", sec(g->res_sum_ms), (double)g->res_n, g->res_n, "seconds");
  em_ratio(e, "resolution_rate", (double)g->res_n, (double)g->handled, g->handled, "ratio");
  em_ratio(e, "one_touch_resolution_rate", (double)g->res_ot, (double)g->res_n, g->res_n, "ratio");
  em_ratio(e, "reopen_rate", (double)g->reopened, (double)g->res_n, g->res_n, "ratio");
  /* offers answered within T of ringing / offers (those answered with an
   * unknown ring time left out) */
  const int64_t sl_den = g->offers - g->ring_unk;
  em_ratio(e, "service_level", (double)g->ring_in_t, (double)sl_den, sl_den, "ratio");
  em_sum(e, "ring_no_answer", g->rna, "contacts");
  em_ratio(e, "ring_no_answer_rate", (double)g->rna, (double)g->offers, g->offers, "ratio");
  return 0;
}

int op_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  op_plugin *p = data;
  op_emitter *e = p->api->alloc(sizeof *e); /* once per interval, not per event */
  if (e == NULL)
    return KS_ENOMEM;
  const ks_result init = KS_RESULT_INIT;
  e->p = p;
  e->task = task;
  e->r = init;
  e->r.interval_start_ms = iv->start_ms;
  e->r.interval_end_ms = iv->end_ms;
  int rc = p->api->window_foreach(task, p->by_queue, iv->start_ms, emit_queue, e);
  if (rc == 0 && p->cfg.per_agent != OP_AGENT_OFF)
    rc = p->api->window_foreach(task, p->by_agent, iv->start_ms, emit_agent, e);
  const int failed = e->failed;
  p->api->free(e);
  return rc != 0 || failed ? KS_EPLUGIN : 0;
}
