/*
 * forecast plugin — the closing interval's rows (plugin memory, freed when
 * on_interval_close returns) and the result emitters.
 */
#include <stdlib.h>
#include <string.h>

#include "forecast_internal.h"

/* ---- rows ---------------------------------------------------------------------- */

fc_row *fc_rows_add(fc_rows *r, const void *key, size_t keylen) {
  if (keylen > sizeof r->v[0].key.buf) {
    r->oom = 1;
    return NULL;
  }
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 64;
    fc_row *nv = r->api->alloc(nc * sizeof *nv);
    if (nv == NULL) {
      r->oom = 1;
      return NULL;
    }
    if (r->n)
      memcpy(nv, r->v, r->n * sizeof *nv);
    r->api->free(r->v);
    r->v = nv;
    r->cap = nc;
  }
  fc_row *row = &r->v[r->n++];
  memset(row, 0, sizeof *row);
  memcpy(row->key.buf, key, keylen);
  row->key.len = (uint8_t)keylen;
  return row;
}

static int key_cmp(const ks_key *a, const void *b, size_t blen) {
  size_t n = a->len < blen ? a->len : blen;
  int c = n ? memcmp(a->buf, b, n) : 0;
  if (c)
    return c;
  return (a->len > blen) - (a->len < blen);
}

static int row_cmp(const void *x, const void *y) {
  const fc_row *a = x, *b = y;
  return key_cmp(&a->key, b->key.buf, b->key.len);
}

void fc_rows_merge(fc_rows *r) {
  if (r->n < 2)
    return;
  qsort(r->v, r->n, sizeof *r->v, row_cmp);
  size_t w = 0;
  for (size_t i = 1; i < r->n; i++) {
    fc_row *d = &r->v[w];
    const fc_row *s = &r->v[i];
    if (row_cmp(d, s) != 0) {
      r->v[++w] = *s;
      continue;
    }
    d->offered += s->offered;
    d->handled += s->handled;
    d->handle_ms += s->handle_ms;
    d->logged_ms += s->logged_ms;
    d->onq_ms += s->onq_ms;
    d->agents_now += s->agents_now;
    d->flags |= s->flags;
    d->req_unknown |= s->req_unknown;
    d->req_agents += s->req_agents;
    d->req_staff += s->req_staff;
    if (d->reg == NULL)
      d->reg = s->reg;
  }
  r->n = w + 1;
}

fc_row *fc_rows_find(const fc_rows *r, const void *key, size_t keylen) {
  size_t lo = 0, hi = r->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = key_cmp(&r->v[mid].key, key, keylen);
    if (c == 0)
      return &r->v[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

void fc_rows_free(fc_rows *r) {
  r->api->free(r->v);
  r->v = NULL;
  r->n = r->cap = 0;
}

/* ---- emitters ---------------------------------------------------------------------- */

int fc_em_dims(fc_emitter *e, const ks_key *k) {
  char ch[4];
  if (ks_key_part(k->buf, k->len, 0, e->tenant, sizeof e->tenant) < 0 ||
      ks_key_part(k->buf, k->len, 1, ch, sizeof ch) != 1 ||
      ks_key_part(k->buf, k->len, 2, e->queue, sizeof e->queue) < 0)
    return 0;
  e->r.tenant = e->tenant;
  e->r.channel = (unsigned char)ch[0];
  e->r.queue = e->queue;
  /* queue rows; staffing rows above them per channel or for the tenant */
  e->r.level = e->queue[0] != 0    ? KS_LEVEL_QUEUE
               : e->r.channel != 0 ? KS_LEVEL_CHANNEL
                                   : KS_LEVEL_TENANT;
  return 1;
}

static void put(fc_emitter *e, const char *metric, const char *unit) {
  e->r.metric = metric;
  e->r.unit = unit;
  if (e->p->api->emit(e->p->ctx, e->task, &e->r) != 0)
    e->failed = 1;
}

/* A count or total (value = numerator); has = 0 publishes no value. */
void fc_em_sum(fc_emitter *e, const char *metric, int has, double v, int64_t count,
               const char *unit) {
  e->r.aggregation = KS_AGG_SUM;
  e->r.has_value = has;
  e->r.value = has ? v : 0.0;
  e->r.numerator = has ? v : 0.0;
  e->r.denominator = 0;
  e->r.count = count;
  put(e, metric, unit);
}

/* value = num / den, null when den <= 0 (as the host publishes it). */
void fc_em_ratio(fc_emitter *e, const char *metric, double num, double den, int64_t count,
                 const char *unit) {
  ks_result_set_ratio(&e->r, num, den, count);
  put(e, metric, unit);
}

static void em_plain(fc_emitter *e, ks_agg agg, const char *metric, int has, double v,
                     int64_t count, const char *unit) {
  e->r.aggregation = agg;
  e->r.has_value = has;
  e->r.value = has ? v : 0.0;
  e->r.numerator = has ? v : 0.0;
  e->r.denominator = 0;
  e->r.count = count;
  put(e, metric, unit);
}

void fc_em_max(fc_emitter *e, const char *metric, int has, double v, int64_t count,
               const char *unit) {
  em_plain(e, KS_AGG_MAX, metric, has, v, count, unit);
}

void fc_em_gauge(fc_emitter *e, const char *metric, int has, double v, int64_t count,
                 const char *unit) {
  em_plain(e, KS_AGG_GAUGE, metric, has, v, count, unit);
}

/*
 * Staffing of one row: agents as time averages over the interval, each a
 * ratio of agent-seconds to interval seconds (so hours and days roll up as
 * Σ numerators / Σ denominators, queues by summing numerators).
 */
void fc_em_staffing(fc_emitter *e, const fc_row *row, double len_s) {
  const fc_config *cfg = &e->p->cfg;
  const int known = !row->req_unknown;
  const double den = known ? len_s : 0.0;
  fc_em_ratio(e, "required_agents", row->req_agents * len_s, den, (int64_t)row->req_agents,
              "agents");
  fc_em_ratio(e, "required_staff", row->req_staff * len_s, den, (int64_t)row->req_agents, "agents");
  if (!(row->flags & R_PRESENCE))
    return;
  const double logged_s = (double)row->logged_ms / 1000.0;
  const double onq_s = (double)row->onq_ms / 1000.0;
  fc_em_ratio(e, "logged_in_agents", logged_s, len_s, row->agents_now, "agents");
  fc_em_ratio(e, "on_queue_agents", onq_s, len_s, row->agents_now, "agents");
  const double gap_s = cfg->compare == FC_CMP_ON_QUEUE ? onq_s - row->req_agents * len_s
                                                       : logged_s - row->req_staff * len_s;
  fc_em_ratio(e, "staffing_gap", known ? gap_s : 0.0, den, row->agents_now, "agents");
}
