/*
 * legacy — a plugin built against an older ABI's descriptor layout, to
 * prove that this host still loads it unchanged: LEGACY_MINOR 2 (default)
 * lays the descriptor out as SDK 1.2 did (through on_result), 0 as SDK 1.0
 * did (through options). The struct is written out here because the
 * installed header only describes the newest layout; the host reads nothing
 * past struct_size (valgrind and ASan would see a read of the static
 * descriptor's end).
 *
 * Per interval and tenant it counts the events it sees ("legacy_events",
 * SUM) times the option `scale` (default 1), read with config_get_int.
 */
#include <stdint.h>

#include "kpistream/plugin.h"

#ifndef LEGACY_MINOR
#define LEGACY_MINOR 2
#endif

typedef struct legacy_descriptor {
  uint32_t abi_major, abi_minor, struct_size;
  const char *name, *version, *description;
  const uint32_t *interests;
  int (*init)(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data);
  int (*on_event)(void *plugin_data, ks_task *task, const ks_event *ev);
  int (*on_interval_close)(void *plugin_data, ks_task *task, const ks_interval *iv);
  void (*destroy)(void *plugin_data);
  const char *const *options;
#if LEGACY_MINOR >= 1
  uint32_t flags;
  int (*on_result)(void *plugin_data, ks_task *task, const char *family, const ks_result *r);
#endif
} legacy_descriptor;

typedef struct legacy {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  ks_table *counts;
  int64_t scale;
} legacy;

typedef struct legacy_rec {
  int64_t n;
} legacy_rec;

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, 0};
static const char *const options[] = {"scale", NULL};

static int l_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data) {
  legacy *l = api->alloc(sizeof *l);
  if (l == NULL)
    return KS_ENOMEM;
  l->api = api;
  l->ctx = ctx;
  l->counts = api->table_declare(ctx, "counts", KS_TABLE_WINDOWED, sizeof(legacy_rec), 1, 0);
  if (l->counts == NULL || api->config_get_int(ctx, "scale", 1, &l->scale) != 0) {
    api->free(l);
    return KS_EINVAL;
  }
  *data = l;
  return 0;
}

static int l_event(void *data, ks_task *task, const ks_event *ev) {
  legacy *l = data;
  const char *tenant = ev->msg->tenant;
  legacy_rec *r =
      l->api->window_get(task, l->counts, ev->interval_start_ms, tenant, strlen(tenant), 1);
  if (r == NULL)
    return KS_ENOMEM;
  r->n++;
  return 0;
}

typedef struct close_ctx {
  legacy *l;
  ks_task *task;
  const ks_interval *iv;
} close_ctx;

static int l_emit(void *ud, const void *key, size_t keylen, void *record) {
  close_ctx *c = ud;
  char tenant[KS_ID_MAX + 1];
  size_t n = keylen < KS_ID_MAX ? keylen : KS_ID_MAX;
  memcpy(tenant, key, n);
  tenant[n] = '\0';
  /* the 1.1 result layout: through unit, without level */
  ks_result r = KS_RESULT_INIT;
  r.struct_size = (uint32_t)(offsetof(ks_result, unit) + sizeof r.unit);
  r.metric = "legacy_events";
  r.interval_start_ms = c->iv->start_ms;
  r.interval_end_ms = c->iv->end_ms;
  r.tenant = tenant;
  r.has_value = 1;
  r.value = (double)(((legacy_rec *)record)->n * c->l->scale);
  r.numerator = r.value;
  r.count = ((legacy_rec *)record)->n;
  r.aggregation = KS_AGG_SUM;
  return c->l->api->emit(c->l->ctx, c->task, &r) == 0 ? 0 : 1;
}

static int l_close(void *data, ks_task *task, const ks_interval *iv) {
  legacy *l = data;
  close_ctx c = {l, task, iv};
  return l->api->window_foreach(task, l->counts, iv->start_ms, l_emit, &c) == 0 ? 0 : KS_EPLUGIN;
}

static void l_destroy(void *data) {
  legacy *l = data;
  if (l)
    l->api->free(l);
}

static const legacy_descriptor desc = {
    .abi_major = 1,
    .abi_minor = LEGACY_MINOR,
    .struct_size = sizeof(legacy_descriptor),
    .name = WRONG_NAME,
    .version = "1.2.0",
    .description = "built against an older descriptor layout",
    .interests = interests,
    .init = l_init,
    .on_event = l_event,
    .on_interval_close = l_close,
    .destroy = l_destroy,
    .options = options,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  const void *d = &desc;
  return d;
}
