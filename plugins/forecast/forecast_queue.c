/*
 * forecast plugin — one queue at the close of an interval: the forecast in
 * force against the actual offered volume and AHT (WAPE, MAPE, bias), the
 * trend against the same interval a day and a week earlier, the offered
 * traffic, the Erlang C requirement, and the day's rollup (accuracy and
 * peak) when the interval ends a UTC day.
 *
 * Notation: A = contacts offered in the interval, F = forecast offered,
 * a = actual AHT (handle seconds / handled), f = forecast AHT.
 */
#include <math.h>
#include <string.h>

#include "forecast_erlang.h"
#include "forecast_internal.h"

/* The history slot of interval number iv_no (NULL when not recorded). */
static const fc_slot *slot_at(const fc_config *cfg, fc_queue *q, int64_t iv_no) {
  if (iv_no <= 0)
    return NULL;
  const fc_slot *s = &fc_queue_ring(q)[iv_no % cfg->n_slots];
  return s->iv_no == (int32_t)iv_no ? s : NULL;
}

static void emit_trend(fc_emitter *e, fc_queue *q, int64_t iv_no, int64_t offered) {
  const fc_config *cfg = &e->p->cfg;
  static const char *const names[2][2] = {{"offered_change_day", "offered_change_day_ratio"},
                                          {"offered_change_week", "offered_change_week_ratio"}};
  const int64_t back[2] = {cfg->slots_per_day, 7 * (int64_t)cfg->slots_per_day};
  for (int i = 0; i < 2; i++) {
    const fc_slot *s = slot_at(cfg, q, iv_no - back[i]);
    const double prev = s ? (double)s->offered : 0.0;
    const double delta = (double)offered - prev;
    ks_emit_value(&e->em, names[i][0], KS_AGG_SUM, s != NULL, delta, s ? 1 : 0, "contacts");
    ks_emit_ratio(&e->em, names[i][1], s ? delta : 0.0, prev, s ? s->offered : 0, "ratio");
  }
}

/* Forecast accuracy of the interval; adds it to the day. */
static void emit_accuracy(fc_emitter *e, fc_day *d, double A, double F, int n_parts, double F_work,
                          int has_a, double a) {
  const double err = fabs(A - F);
  ks_emit_value(&e->em, "forecast_offered", KS_AGG_SUM, 1, F, n_parts, "contacts");
  ks_emit_ratio(&e->em, "forecast_aht", F_work, F, n_parts, "seconds");
  ks_emit_ratio(&e->em, "offered_wape", err, A, 1, "ratio");
  ks_emit_ratio(&e->em, "offered_mape", A > 0.0 ? err / A : 0.0, A > 0.0 ? 1.0 : 0.0, 1, "ratio");
  ks_emit_ratio(&e->em, "offered_bias", F - A, A, 1, "ratio");
  d->n_fc++;
  d->vol_abs += err;
  d->vol_act += A;
  d->vol_signed += F - A;
  if (A > 0.0) {
    d->vol_ape += err / A;
    d->vol_ape_n++;
  }
  const int both = has_a && F > 0.0;
  const double f = F > 0.0 ? F_work / F : 0.0;
  const double aerr = both ? fabs(a - f) : 0.0;
  const double aden = both ? a : 0.0;
  ks_emit_ratio(&e->em, "aht_wape", aerr, aden, both, "ratio");
  ks_emit_ratio(&e->em, "aht_mape", aden > 0.0 ? aerr / aden : 0.0, aden > 0.0 ? 1.0 : 0.0, both,
                "ratio");
  ks_emit_ratio(&e->em, "aht_bias", both ? f - a : 0.0, aden, both, "ratio");
  if (both) {
    d->aht_n++;
    d->aht_abs += aerr;
    d->aht_act += a;
    d->aht_signed += f - a;
    if (a > 0.0) {
      d->aht_ape += aerr / a;
      d->aht_ape_n++;
    }
  }
}

static void emit_day(fc_emitter *e, const fc_day *d, double len_s) {
  if (d->n_fc > 0) {
    ks_emit_ratio(&e->em, "day_offered_wape", d->vol_abs, d->vol_act, d->n_fc, "ratio");
    ks_emit_ratio(&e->em, "day_offered_mape", d->vol_ape, (double)d->vol_ape_n, d->vol_ape_n,
                  "ratio");
    ks_emit_ratio(&e->em, "day_offered_bias", d->vol_signed, d->vol_act, d->n_fc, "ratio");
    ks_emit_ratio(&e->em, "day_aht_wape", d->aht_abs, d->aht_act, d->aht_n, "ratio");
    ks_emit_ratio(&e->em, "day_aht_mape", d->aht_ape, (double)d->aht_ape_n, d->aht_ape_n, "ratio");
    ks_emit_ratio(&e->em, "day_aht_bias", d->aht_signed, d->aht_act, d->aht_n, "ratio");
  }
  if (d->flags & D_PEAK) {
    const int64_t n = (int64_t)llround(d->peak_offered);
    ks_emit_value(&e->em, "day_peak_offered", KS_AGG_MAX, 1, d->peak_offered, n, "contacts");
    ks_emit_value(&e->em, "day_peak_traffic_erlangs", KS_AGG_MAX, (d->flags & D_PEAK_WORK) != 0,
                  d->peak_work_s / len_s, n, "erlangs");
    ks_emit_value(&e->em, "day_peak_interval_start", KS_AGG_GAUGE, 1, (double)d->peak_iv, n,
                  "epoch_ms");
  }
}

static double sl_threshold_s(const fc_config *cfg, int channel) {
  return (double)ks_sl_threshold_ms(&cfg->sl_t, channel) / 1000.0;
}

/* Erlang C requirement for traffic a_erl (known) at AHT aht_s; -1 unknown. */
static int required(const fc_config *cfg, int channel, double a_erl, double aht_s) {
  if (a_erl == 0.0)
    return 0;
  return fc_erlang_required(a_erl, aht_s, cfg->sl_target, sl_threshold_s(cfg, channel),
                            (double)cfg->max_asa_ms / 1000.0, cfg->max_occupancy, FC_MAX_AGENTS);
}

void fc_queue_close(fc_emitter *e, fc_row *row, const ks_interval *iv) {
  fc_plugin *p = e->p;
  const fc_config *cfg = &p->cfg;
  fc_queue *q = row->reg;
  const double len_s = (double)cfg->interval_ms / 1000.0;
  const int64_t iv_no = iv->start_ms / cfg->interval_ms;
  const int64_t day = ks_interval_floor(iv->start_ms, FC_DAY_MS);
  if (q->day_start != day) { /* a new day (or a day whose end was skipped) */
    memset(&q->day, 0, sizeof q->day);
    q->day_start = day;
  }
  double F = 0.0, F_work = 0.0;
  const int n_parts = fc_forecast_take(p, e->em.task, &row->key, iv->start_ms, &F, &F_work);
  const int has_fc = n_parts > 0;
  const int has_a = row->handled > 0;
  const double A = (double)row->offered;
  const double a = has_a ? (double)row->handle_ms / 1000.0 / (double)row->handled : 0.0;
  const int emit = row->offered > 0 || row->handled > 0 || has_fc || (row->flags & R_PRESENCE);
  const int ok = fc_em_dims(e, &row->key);
  e->em.r.interval_start_ms = iv->start_ms;
  e->em.r.interval_end_ms = iv->end_ms;

  if (emit && ok) {
    ks_emit_value(&e->em, "offered", KS_AGG_SUM, 1, A, row->offered, "contacts");
    ks_emit_ratio(&e->em, "aht", (double)row->handle_ms / 1000.0, (double)row->handled,
                  row->handled, "seconds");
    if (has_fc)
      emit_accuracy(e, &q->day, A, F, n_parts, F_work, has_a, a);
    emit_trend(e, q, iv_no, row->offered);

    /* offered traffic, at the actual AHT, else the forecast AHT */
    const int has_f = has_fc && F > 0.0;
    const double aht_used = has_a ? a : has_f ? F_work / F : 0.0;
    const int traffic_known = row->offered == 0 || has_a || has_f;
    const double work_s = traffic_known ? A * aht_used : 0.0;
    ks_emit_ratio(&e->em, "traffic_erlangs", work_s, traffic_known ? len_s : 0.0, row->offered,
                  "erlangs");

    /* Erlang C requirement on the staffing basis */
    int n = -1;
    if (cfg->basis == FC_BASIS_ACTUAL && traffic_known)
      n = required(cfg, e->em.r.channel, work_s / len_s, aht_used);
    else if (cfg->basis == FC_BASIS_FORECAST && has_fc)
      n = required(cfg, e->em.r.channel, F_work / len_s, has_f ? F_work / F : 0.0);
    row->req_unknown = n < 0;
    row->req_agents = n < 0 ? 0.0 : (double)n;
    row->req_staff = row->req_agents / (1.0 - cfg->shrinkage);
    fc_em_staffing(e, row, len_s);

    /* the day's peak interval (the earliest on ties) */
    const double score = cfg->peak_by == FC_PEAK_OFFERED ? A : work_s;
    const int candidate = cfg->peak_by == FC_PEAK_OFFERED ? A > 0.0 : traffic_known;
    fc_day *d = &q->day;
    if (candidate && score > 0.0) {
      const double best = cfg->peak_by == FC_PEAK_OFFERED ? d->peak_offered : d->peak_work_s;
      if (!(d->flags & D_PEAK) || score > best) {
        d->flags = (d->flags & ~D_PEAK_WORK) | D_PEAK | (traffic_known ? D_PEAK_WORK : 0u);
        d->peak_iv = iv->start_ms;
        d->peak_offered = A;
        d->peak_work_s = work_s;
      }
    }
  }

  /* this interval's volume joins the history (0 for a quiet queue) */
  fc_slot *s = &fc_queue_ring(q)[iv_no % cfg->n_slots];
  s->iv_no = (int32_t)iv_no;
  s->offered = (int32_t)(row->offered > INT32_MAX ? INT32_MAX : row->offered);

  if (iv->end_ms % FC_DAY_MS == 0) {
    if (ok) {
      e->em.r.interval_start_ms = iv->end_ms - FC_DAY_MS;
      e->em.r.interval_end_ms = iv->end_ms;
      emit_day(e, &q->day, len_s);
    }
    memset(&q->day, 0, sizeof q->day);
    q->day_start = iv->end_ms;
  }
}
