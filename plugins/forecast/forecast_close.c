/*
 * forecast plugin — on_interval_close: gathers the interval's rows (the
 * by_dims window, agent presence up to the interval's end, every known
 * queue), processes each queue (forecast_queue.c), then rolls staffing up to
 * the channel and tenant rows that have agent data.
 *
 * Rows live in plugin memory for the duration of the call only; records of
 * the host tables are reached through pointers that stay valid within it.
 */
#include <string.h>

#include "forecast_internal.h"

typedef struct close_ctx {
  fc_plugin *p;
  ks_task *task;
  const ks_interval *iv;
  fc_rows rows;
} close_ctx;

static int add_window(void *ud, const void *key, size_t keylen, void *record) {
  close_ctx *c = ud;
  const fc_win *w = record;
  fc_row *r = fc_rows_add(&c->rows, key, keylen);
  if (r == NULL)
    return 1;
  r->offered = w->offered;
  r->handled = w->handled;
  r->handle_ms = w->handle_ms;
  r->logged_ms = w->logged_ms;
  r->onq_ms = w->onq_ms;
  if (w->flags & W_PRESENCE)
    r->flags |= R_PRESENCE;
  return 0;
}

/* A queue registered earlier but absent from the rows: a quiet queue. */
static int add_queue(void *ud, const void *key, size_t keylen, void *record) {
  close_ctx *c = ud;
  fc_queue *q = record;
  if ((q->flags & Q_CLOSED) && q->closed_iv == c->iv->start_ms)
    return 0; /* already among the rows */
  q->flags |= Q_CLOSED;
  q->closed_iv = c->iv->start_ms;
  fc_row *r = fc_rows_add(&c->rows, key, keylen);
  if (r == NULL)
    return 1;
  r->reg = q;
  r->flags |= R_QUEUE;
  return 0;
}

/* Parts of a dims key: channel byte and whether the queue is non-empty. */
static int key_dims(const ks_key *k, char *tenant, size_t tsz, int *channel, int *has_queue) {
  char ch[4], qb[2];
  if (ks_key_part(k->buf, k->len, 0, tenant, tsz) < 0 ||
      ks_key_part(k->buf, k->len, 1, ch, sizeof ch) != 1)
    return 0;
  int ql = ks_key_part(k->buf, k->len, 2, qb, sizeof qb);
  if (ql < 0)
    return 0;
  *channel = (unsigned char)ch[0];
  *has_queue = ql > 0;
  return 1;
}

/* Copy agent presence of queue and channel rows up to the channel and
 * tenant rows (an agent counts at its own level and every level above). */
static void propagate_presence(close_ctx *c) {
  const size_t n = c->rows.n;
  char tenant[KS_KEY_MAX];
  for (size_t i = 0; i < n; i++) {
    int channel, has_queue;
    if (!(c->rows.v[i].flags & R_PRESENCE) ||
        !key_dims(&c->rows.v[i].key, tenant, sizeof tenant, &channel, &has_queue))
      continue;
    for (int level = 0; level < 2; level++) {
      const int ch = level == 0 ? channel : 0;
      if ((level == 0 && (!has_queue || channel == 0)) || (level == 1 && channel == 0))
        continue; /* not a level above this row */
      ks_key pk;
      if (!ks_dims_key(&pk, tenant, ch, ""))
        continue;
      const fc_row src = c->rows.v[i]; /* rows may move when one is added */
      fc_row *r = fc_rows_add(&c->rows, pk.buf, pk.len);
      if (r == NULL)
        return;
      r->logged_ms = src.logged_ms;
      r->onq_ms = src.onq_ms;
      r->agents_now = src.agents_now;
      r->flags = R_PRESENCE;
    }
  }
}

/* Add a queue row's requirement to the channel and tenant rows above it. */
static void rollup_required(close_ctx *c, const fc_row *row) {
  char tenant[KS_KEY_MAX];
  int channel, has_queue;
  if (!key_dims(&row->key, tenant, sizeof tenant, &channel, &has_queue))
    return;
  for (int level = 0; level < 2; level++) {
    if (level == 0 && channel == 0)
      continue;
    ks_key pk;
    if (!ks_dims_key(&pk, tenant, level == 0 ? channel : 0, ""))
      continue;
    fc_row *r = fc_rows_find(&c->rows, pk.buf, pk.len);
    if (r == NULL || (r->flags & R_QUEUE))
      continue;
    r->req_agents += row->req_agents;
    r->req_staff += row->req_staff;
    r->req_unknown |= row->req_unknown;
  }
}

static int gather(close_ctx *c) {
  fc_plugin *p = c->p;
  const ks_host_api *api = p->api;
  const int64_t start = c->iv->start_ms;
  int rc = api->window_foreach(c->task, p->by_dims, start, add_window, c);
  if (rc == 0)
    rc = fc_agents_close(p, c->task, c->iv, &c->rows);
  if (rc != 0 || c->rows.oom)
    return KS_ENOMEM;
  fc_rows_merge(&c->rows);
  propagate_presence(c);
  fc_rows_merge(&c->rows);
  /* every queue row gets its registry record (created, or renewed) */
  char tenant[KS_KEY_MAX];
  for (size_t i = 0; i < c->rows.n; i++) {
    fc_row *r = &c->rows.v[i];
    int channel, has_queue;
    if (!key_dims(&r->key, tenant, sizeof tenant, &channel, &has_queue) || !has_queue)
      continue;
    r->flags |= R_QUEUE;
    r->reg = api->keyed_get(c->task, p->queues, r->key.buf, r->key.len, 1);
    if (r->reg == NULL)
      return KS_ENOMEM;
    r->reg->flags |= Q_CLOSED;
    r->reg->closed_iv = start;
  }
  rc = api->keyed_foreach(c->task, p->queues, add_queue, c);
  if (rc != 0 || c->rows.oom)
    return KS_ENOMEM;
  fc_rows_merge(&c->rows);
  return 0;
}

int fc_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  fc_plugin *p = data;
  fc_emitter *e = p->api->alloc(sizeof *e); /* once per interval, not per event */
  if (e == NULL)
    return KS_ENOMEM;
  memset(e, 0, sizeof *e);
  e->p = p;
  ks_emitter_init(&e->em, p->api, p->ctx, task, NULL);
  close_ctx c = {p, task, iv, {p->api, NULL, 0, 0, 0}};
  int rc = gather(&c);
  const double len_s = (double)p->cfg.interval_ms / 1000.0;
  if (rc == 0) {
    for (size_t i = 0; i < c.rows.n; i++)
      if ((c.rows.v[i].flags & R_QUEUE) && c.rows.v[i].reg)
        fc_queue_close(e, &c.rows.v[i], iv);
    for (size_t i = 0; i < c.rows.n; i++)
      if (c.rows.v[i].flags & R_QUEUE)
        rollup_required(&c, &c.rows.v[i]);
    for (size_t i = 0; i < c.rows.n; i++) {
      const fc_row *r = &c.rows.v[i];
      if ((r->flags & R_QUEUE) || !(r->flags & R_PRESENCE) || !fc_em_dims(e, &r->key))
        continue;
      e->em.r.interval_start_ms = iv->start_ms;
      e->em.r.interval_end_ms = iv->end_ms;
      fc_em_staffing(e, r, len_s);
    }
  }
  const int failed = e->em.failed;
  fc_rows_free(&c.rows);
  p->api->free(e);
  return rc != 0 || failed ? KS_EPLUGIN : 0;
}
