/*
 * feed — a test plugin that publishes the results its input spells out, so
 * that a consumer of results (the scorecard, on_result) can be tested with
 * metrics whose producer is not at hand. Built as FEED_NAME (its family,
 * e.g. "operations"). Input: Order events whose order_id is
 * "METRIC;LEVEL;NUM;DEN;COUNT[;SPAN]" (LEVEL: agent, team, queue, tenant,
 * unattributed; SPAN: the result covers SPAN host intervals from the event's,
 * default 1, like a day-long result); the envelope gives tenant, channel,
 * queue, agent_id and team. Rows of one interval with the same metric, level and dimensions are
 * summed (numerators, denominators, counts) and published when the interval
 * closes as AGG_RATIO num / den (null when den <= 0). Anything else in
 * order_id is ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/plugin.h"

#ifndef FEED_NAME
#define FEED_NAME "feed"
#endif

typedef struct feed_rec {
  double num, den;
  int64_t count;
} feed_rec;

typedef struct feed {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  ks_table *rows;
} feed;

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_ORDER, 0};

static const char *const level_names[] = {"agent", "team", "queue", "tenant", "unattributed"};
static const ks_level levels[] = {KS_LEVEL_AGENT, KS_LEVEL_TEAM, KS_LEVEL_QUEUE, KS_LEVEL_TENANT,
                                  KS_LEVEL_UNATTRIBUTED};

static int f_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data) {
  feed *f = api->alloc(sizeof *f);
  if (f == NULL)
    return KS_ENOMEM;
  f->api = api;
  f->ctx = ctx;
  f->rows = api->table_declare(ctx, "rows", KS_TABLE_WINDOWED, sizeof(feed_rec), 1, 0);
  if (f->rows == NULL) {
    api->free(f);
    return KS_EINVAL;
  }
  *data = f;
  return 0;
}

static const char *nz(const char *s) {
  return s ? s : "";
}

static int f_event(void *data, ks_task *task, const ks_event *ev) {
  feed *f = data;
  const Kpistream__V1__Event *m = ev->msg;
  if (m->order == NULL || m->order->order_id == NULL)
    return 0;
  char metric[64], level[16];
  double num, den;
  long long count;
  int span = 1;
  const int got = sscanf(m->order->order_id, "%63[a-z0-9_];%15[a-z];%lf;%lf;%lld;%d", metric, level,
                         &num, &den, &count, &span);
  if (got < 5 || span < 1 || span > 255)
    return 0;
  int li = -1;
  for (int i = 0; i < 5; i++)
    if (strcmp(level, level_names[i]) == 0)
      li = i;
  if (li < 0)
    return 0;
  ks_key k;
  uint8_t lb = (uint8_t)li, ch = (uint8_t)m->channel, sp = (uint8_t)span;
  ks_key_reset(&k);
  ks_key_add_str(&k, metric);
  ks_key_add(&k, &lb, 1);
  ks_key_add_str(&k, nz(m->tenant));
  ks_key_add(&k, &ch, 1);
  ks_key_add_str(&k, nz(m->queue));
  ks_key_add_str(&k, nz(m->agent_id));
  ks_key_add_str(&k, nz(m->team));
  ks_key_add(&k, &sp, 1);
  if (k.overflow)
    return 0;
  feed_rec *r = f->api->window_get(task, f->rows, ev->interval_start_ms, k.buf, k.len, 1);
  if (r == NULL)
    return KS_ENOMEM;
  r->num += num;
  r->den += den;
  r->count += count;
  return 0;
}

typedef struct emit_ctx {
  feed *f;
  ks_task *task;
  const ks_interval *iv;
  int failed;
} emit_ctx;

static int emit_row(void *ud, const void *key, size_t keylen, void *record) {
  emit_ctx *e = ud;
  const feed_rec *rec = record;
  char metric[64], lb[2], tenant[KS_KEY_MAX], ch[2], queue[KS_KEY_MAX], agent[KS_KEY_MAX],
      team[KS_KEY_MAX], sp[2];
  if (ks_key_part(key, keylen, 0, metric, sizeof metric) < 0 ||
      ks_key_part(key, keylen, 1, lb, sizeof lb) != 1 ||
      ks_key_part(key, keylen, 2, tenant, sizeof tenant) < 0 ||
      ks_key_part(key, keylen, 3, ch, sizeof ch) != 1 ||
      ks_key_part(key, keylen, 4, queue, sizeof queue) < 0 ||
      ks_key_part(key, keylen, 5, agent, sizeof agent) < 0 ||
      ks_key_part(key, keylen, 6, team, sizeof team) < 0 ||
      ks_key_part(key, keylen, 7, sp, sizeof sp) != 1)
    return 0;
  ks_result r = KS_RESULT_INIT;
  r.metric = metric;
  r.unit = "ratio";
  r.tenant = tenant;
  r.channel = (unsigned char)ch[0];
  r.queue = queue;
  r.agent_id = agent;
  r.team = team;
  r.level = levels[(unsigned char)lb[0] % 5];
  r.interval_start_ms = e->iv->start_ms;
  r.interval_end_ms =
      e->iv->start_ms + (int64_t)(unsigned char)sp[0] * (e->iv->end_ms - e->iv->start_ms);
  ks_result_set_ratio(&r, rec->num, rec->den, rec->count);
  if (e->f->api->emit(e->f->ctx, e->task, &r) != 0)
    e->failed = 1;
  return 0;
}

static int f_close(void *data, ks_task *task, const ks_interval *iv) {
  feed *f = data;
  emit_ctx e = {f, task, iv, 0};
  int rc = f->api->window_foreach(task, f->rows, iv->start_ms, emit_row, &e);
  return rc != 0 || e.failed ? KS_EPLUGIN : 0;
}

static void f_destroy(void *data) {
  feed *f = data;
  if (f)
    f->api->free(f);
}

static const ks_plugin_descriptor descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = FEED_NAME,
    .version = "1.0.0",
    .description = "test plugin: publishes the results its Order events spell out",
    .interests = interests,
    .init = f_init,
    .on_event = f_event,
    .on_interval_close = f_close,
    .destroy = f_destroy,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &descriptor;
}
