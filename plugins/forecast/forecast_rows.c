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
    d->offered = ks_add_i64(d->offered, s->offered);
    d->handled = ks_add_i64(d->handled, s->handled);
    d->handle_ms = ks_add_i64(d->handle_ms, s->handle_ms);
    d->logged_ms = ks_add_i64(d->logged_ms, s->logged_ms);
    d->onq_ms = ks_add_i64(d->onq_ms, s->onq_ms);
    d->agents_now = ks_add_i64(d->agents_now, s->agents_now);
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
  if (ks_emitter_dims(&e->em, k->buf, k->len, 0) != 0)
    return 0;
  /* queue rows; staffing rows above them per channel or for the tenant */
  e->em.r.level = e->em.queue[0] != 0    ? KS_LEVEL_QUEUE
                  : e->em.r.channel != 0 ? KS_LEVEL_CHANNEL
                                         : KS_LEVEL_TENANT;
  return 1;
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
  ks_emit_ratio(&e->em, "required_agents", row->req_agents * len_s, den,
                ks_i64_of_double(row->req_agents), "agents");
  ks_emit_ratio(&e->em, "required_staff", row->req_staff * len_s, den,
                ks_i64_of_double(row->req_agents), "agents");
  if (!(row->flags & R_PRESENCE))
    return;
  const double logged_s = (double)row->logged_ms / 1000.0;
  const double onq_s = (double)row->onq_ms / 1000.0;
  ks_emit_ratio(&e->em, "logged_in_agents", logged_s, len_s, row->agents_now, "agents");
  ks_emit_ratio(&e->em, "on_queue_agents", onq_s, len_s, row->agents_now, "agents");
  const double gap_s = cfg->compare == FC_CMP_ON_QUEUE ? onq_s - row->req_agents * len_s
                                                       : logged_s - row->req_staff * len_s;
  ks_emit_ratio(&e->em, "staffing_gap", known ? gap_s : 0.0, den, row->agents_now, "agents");
}
