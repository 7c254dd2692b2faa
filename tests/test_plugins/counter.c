/*
 * counter — a minimal, correct plugin used by the engine tests: per
 * interval and (tenant, channel, queue) it counts events ("events") and
 * contacts seen for the first time within the TTL ("new_contacts"), using a
 * windowed and a keyed host table. Options: contact_ttl (default 1h);
 * fail_queue: on_event returns KS_EPLUGIN for events of that queue (to test
 * the host's isolation of a failing plugin). Wrong on purpose, for the
 * host's fault handling (docs/plugins.md), each off by default:
 *   fail_every N    on_event returns KS_EPLUGIN for every event whose
 *                   offset + 1 is a multiple of N (deterministic on restart)
 *   fail_close      on_interval_close returns KS_EPLUGIN after emitting
 *   crash_queue Q   on_event segfaults on an event of queue Q
 *   exit_queue Q    on_event calls exit(0) on an event of queue Q
 */
#include <stdint.h>
#include <stdlib.h>

#include "kpistream/plugin.h"

typedef struct counter_rec {
  int64_t events;
  int64_t new_contacts;
  int32_t channel;
} counter_rec;

typedef struct contact_rec {
  int64_t first_seen_ms;
} contact_rec;

typedef struct counter {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  ks_table *per_interval;
  ks_table *contacts;
  const char *fail_queue; /* host-owned config string, or NULL */
  int64_t fail_every;     /* 0 = never */
  int fail_close;
  const char *crash_queue; /* host-owned config string, or NULL */
  const char *exit_queue;  /* host-owned config string, or NULL */
} counter;

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED,
                                     KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED,
                                     KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED, 0};

static int c_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data) {
  int64_t ttl;
  if (api->config_get_duration_ms(ctx, "contact_ttl", 3600000, &ttl) != 0)
    return KS_EINVAL;
  counter *c = api->alloc(sizeof *c);
  if (c == NULL)
    return KS_ENOMEM;
  c->api = api;
  c->ctx = ctx;
  c->fail_queue = api->config_get(ctx, "fail_queue");
  c->crash_queue = api->config_get(ctx, "crash_queue");
  c->exit_queue = api->config_get(ctx, "exit_queue");
  if (api->config_get_int(ctx, "fail_every", 0, &c->fail_every) != 0 ||
      api->config_get_bool(ctx, "fail_close", 0, &c->fail_close) != 0) {
    api->free(c);
    return KS_EINVAL;
  }
  c->per_interval =
      api->table_declare(ctx, "per_interval", KS_TABLE_WINDOWED, sizeof(counter_rec), 1, 0);
  c->contacts = api->table_declare(ctx, "contacts", KS_TABLE_KEYED, sizeof(contact_rec), 1, ttl);
  if (c->per_interval == NULL || c->contacts == NULL) {
    api->free(c);
    return KS_EINVAL;
  }
  *data = c;
  return 0;
}

static int c_event(void *data, ks_task *task, const ks_event *ev) {
  counter *c = data;
  const Kpistream__V1__Event *m = ev->msg;
  if (c->fail_queue && m->queue && strcmp(m->queue, c->fail_queue) == 0)
    return KS_EPLUGIN;
  if (c->fail_every > 0 && (ev->offset + 1) % c->fail_every == 0)
    return KS_EPLUGIN;
  if (c->crash_queue && m->queue && strcmp(m->queue, c->crash_queue) == 0) {
    volatile uintptr_t nowhere = 16; /* unmapped; volatile: a real fault at run time */
    *(volatile int *)nowhere = 1;
  }
  if (c->exit_queue && m->queue && strcmp(m->queue, c->exit_queue) == 0)
    exit(0);
  ks_key k;
  ks_key_reset(&k);
  ks_key_add_str(&k, m->tenant);
  ks_key_add_str(&k, m->queue);
  ks_key_add_i64(&k, m->channel);
  counter_rec *r =
      c->api->window_get(task, c->per_interval, ev->interval_start_ms, k.buf, k.len, 1);
  if (r == NULL)
    return KS_ENOMEM;
  r->events++;
  r->channel = m->channel;
  ks_key ck;
  ks_key_reset(&ck);
  ks_key_add_str(&ck, m->tenant);
  ks_key_add_str(&ck, m->contact_id);
  if (c->api->keyed_get(task, c->contacts, ck.buf, ck.len, 0) == NULL) {
    contact_rec *cr = c->api->keyed_get(task, c->contacts, ck.buf, ck.len, 1);
    if (cr == NULL)
      return KS_ENOMEM;
    cr->first_seen_ms = ev->time_ms;
    r->new_contacts++;
  }
  return 0;
}

typedef struct emit_ctx {
  counter *c;
  ks_task *task;
  const ks_interval *iv;
} emit_ctx;

static int emit_one(void *ud, const void *key, size_t keylen, void *record) {
  emit_ctx *e = ud;
  counter_rec *r = record;
  char tenant[64], queue[64];
  ks_key_part(key, keylen, 0, tenant, sizeof tenant);
  ks_key_part(key, keylen, 1, queue, sizeof queue);
  ks_result res = KS_RESULT_INIT;
  res.interval_start_ms = e->iv->start_ms;
  res.interval_end_ms = e->iv->end_ms;
  res.tenant = tenant;
  res.queue = queue;
  res.channel = r->channel;
  res.aggregation = KS_AGG_SUM;
  res.unit = "events";
  res.metric = "events";
  res.has_value = 1;
  res.value = res.numerator = (double)r->events;
  res.count = r->events;
  if (e->c->api->emit(e->c->ctx, e->task, &res) != 0)
    return 1;
  res.metric = "new_contacts";
  res.value = res.numerator = (double)r->new_contacts;
  return e->c->api->emit(e->c->ctx, e->task, &res) != 0;
}

static int c_close(void *data, ks_task *task, const ks_interval *iv) {
  counter *c = data;
  emit_ctx e = {c, task, iv};
  if (c->api->window_foreach(task, c->per_interval, iv->start_ms, emit_one, &e) != 0)
    return KS_EPLUGIN;
  return c->fail_close ? KS_EPLUGIN : 0;
}

static void c_destroy(void *data) {
  counter *c = data;
  if (c)
    c->api->free(c);
}

static const char *const options[] = {"contact_ttl", "fail_queue", "fail_every", "fail_close",
                                      "crash_queue", "exit_queue", NULL};

static const ks_plugin_descriptor desc = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = "counter",
    .version = "1.0.0",
    .description = "test plugin: events and new contacts per queue",
    .interests = interests,
    .init = c_init,
    .on_event = c_event,
    .on_interval_close = c_close,
    .destroy = c_destroy,
    .options = options,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &desc;
}
