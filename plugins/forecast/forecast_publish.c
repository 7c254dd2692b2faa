/*
 * forecast plugin — published forecasts (ForecastPublished).
 *
 * A forecast names the tenant, channel and queue in its envelope and one
 * forecast interval [interval_start_ms, + interval_length_s) in its body,
 * with the contacts expected (offered) and their AHT. It is mapped onto the
 * host's intervals: a forecast interval longer than the host interval is
 * split in proportion to the overlap (a 30-minute forecast of 40 contacts is
 * 20 + 20 in two 15-minute intervals), shorter ones add up (two 15-minute
 * forecasts make one 30-minute interval). Each host interval keeps the parts
 * of ONE publication (forecast_id): a part from the same forecast_id replaces
 * the part of the same forecast interval; a different forecast_id published
 * at the same time or later replaces all parts; an older one is ignored.
 * Forecasts for an interval of the queue that has closed are ignored.
 */
#include <math.h>
#include <string.h>

#include "forecast_internal.h"

/* Key of a forecast record: dims + host interval start. */
static int fcst_key(ks_key *k, const ks_key *dk, int64_t iv) {
  *k = *dk;
  ks_key_add_i64(k, iv);
  return !k->overflow;
}

/* Put one part into the host interval's record. */
static void put_part(fc_fcst *f, uint64_t fid, int64_t t, const fc_part *part) {
  if (!(f->flags & F_USED) || (fid != f->fid && t >= f->published_ms)) {
    memset(f, 0, sizeof *f); /* first, or a newer publication */
    f->flags = F_USED;
    f->fid = fid;
  } else if (fid != f->fid) {
    return; /* an older publication */
  }
  if (t > f->published_ms)
    f->published_ms = t;
  for (uint32_t i = 0; i < f->n_parts; i++)
    if (f->parts[i].fc_start == part->fc_start) {
      if (t >= f->parts[i].published_ms)
        f->parts[i] = *part; /* a revision of the same forecast interval */
      return;
    }
  if (f->n_parts < FC_MAXPARTS)
    f->parts[f->n_parts++] = *part;
}

int fc_on_forecast(fc_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  const Kpistream__V1__ForecastPublished *b = m->forecast;
  if (b == NULL)
    return 0;
  const char *queue = ks_nz(m->queue);
  if (queue[0] == '\0')
    return 0; /* a forecast is per queue */
  const int64_t len = p->cfg.interval_ms;
  const int64_t fstart = b->interval_start_ms;
  const int64_t flen = b->interval_length_s > 0 ? (int64_t)b->interval_length_s * 1000 : len;
  if (!isfinite(b->offered) || b->offered < 0.0 || !isfinite(b->aht_s) || b->aht_s < 0.0 ||
      flen > 31 * FC_DAY_MS || fstart > INT64_MAX - flen)
    return 0; /* unusable figures */
  ks_key dk;
  if (!ks_dims_key(&dk, ks_nz(m->tenant), (int)m->channel, queue))
    return 0;
  /* the queue's registry record: created, or renewed, by each forecast */
  fc_queue *q = p->api->keyed_get(task, p->queues, dk.buf, dk.len, 1);
  if (q == NULL)
    return KS_ENOMEM;
  const int closed = (q->flags & Q_CLOSED) != 0;
  const int64_t closed_iv = q->closed_iv;
  const uint64_t fid = ks_fnv1a(ks_nz(b->forecast_id));
  const int64_t fend = fstart + flen;
  for (int64_t iv = ks_interval_floor(fstart, len); iv < fend; iv += len) {
    if (closed && iv <= closed_iv)
      continue; /* that interval has been reported */
    const int64_t lo = fstart > iv ? fstart : iv;
    const int64_t hi = fend < iv + len ? fend : iv + len;
    const double share = (double)(hi - lo) / (double)flen;
    fc_part part = {fstart, ev->time_ms, b->offered * share, b->offered * share * b->aht_s};
    ks_key fk;
    if (!fcst_key(&fk, &dk, iv))
      return 0;
    fc_fcst *f = p->api->keyed_get(task, p->forecasts, fk.buf, fk.len, 1);
    if (f == NULL)
      return KS_ENOMEM;
    put_part(f, fid, ev->time_ms, &part);
  }
  return 0;
}

int fc_forecast_take(fc_plugin *p, ks_task *task, const ks_key *dk, int64_t iv, double *offered,
                     double *work_s) {
  *offered = 0.0;
  *work_s = 0.0;
  ks_key fk;
  if (!fcst_key(&fk, dk, iv))
    return 0;
  fc_fcst *f = p->api->keyed_get(task, p->forecasts, fk.buf, fk.len, 0);
  if (f == NULL)
    return 0;
  int n = (int)f->n_parts;
  for (int i = 0; i < n; i++) {
    *offered += f->parts[i].offered;
    *work_s += f->parts[i].work_s;
  }
  p->api->keyed_remove(task, p->forecasts, fk.buf, fk.len);
  return n;
}
