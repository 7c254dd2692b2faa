/*
 * mapped — a plugin of ABI 1.3: its options are an option map (one of each
 * type) and its init is init_ex, which writes why it fails into errstr.
 * At each interval close it publishes one result "mapped" per tenant seen
 * with what it read: value = count + ratio, numerator = window (ms),
 * denominator = enabled, count = the index of `mode`, labels label=<label>
 * and mode=<mode>. Options:
 *   label STRING (default "none"), count INT (3), ratio DOUBLE (0.5),
 *   enabled BOOL (true), window DURATION (15m), mode CHOICE fast|slow|off
 *   (fast), fail_init BOOL (false): init_ex fails with a message.
 * Built with MAPPED_BAD_DEFAULT, the map gives count the default "three",
 * which its own type refuses: the loader refuses the plugin.
 */
#include <stdint.h>
#include <stdio.h>

#include "kpistream/plugin.h"

static const char *const modes[] = {"fast", "slow", "off", NULL};

static const ks_option option_map[] = {
    {"label", KS_OPT_STRING, "none", "a label copied to every result", NULL},
#ifdef MAPPED_BAD_DEFAULT
    {"count", KS_OPT_INT, "three", "an integer", NULL},
#else
    {"count", KS_OPT_INT, "3", "an integer", NULL},
#endif
    {"ratio", KS_OPT_DOUBLE, "0.5", "a number", NULL},
    {"enabled", KS_OPT_BOOL, "true", "a boolean", NULL},
    {"window", KS_OPT_DURATION, "15m", "a duration", NULL},
    {"mode", KS_OPT_CHOICE, "fast", "one of three", modes},
    {"fail_init", KS_OPT_BOOL, "false", "init_ex fails on purpose", NULL},
    {NULL, 0, NULL, NULL, NULL}};

typedef struct mapped {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  ks_table *seen;
  const char *label;
  int64_t count, window_ms;
  double ratio;
  int enabled, mode;
} mapped;

typedef struct seen_rec {
  int64_t n;
} seen_rec;

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, 0};

static int m_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data, char *errstr,
                  size_t errstr_size) {
  mapped *m = api->alloc(sizeof *m);
  if (m == NULL)
    return KS_ENOMEM;
  m->api = api;
  m->ctx = ctx;
  int fail = 0;
  m->label = api->config_get(ctx, "label");
  /* the defaults passed here are not the map's: the map's win */
  if (api->config_get_int(ctx, "count", -1, &m->count) ||
      api->config_get_double(ctx, "ratio", -1, &m->ratio) ||
      api->config_get_bool(ctx, "enabled", 0, &m->enabled) ||
      api->config_get_duration_ms(ctx, "window", -1, &m->window_ms) ||
      api->config_get_choice(ctx, "mode", &m->mode) ||
      api->config_get_bool(ctx, "fail_init", 0, &fail)) {
    api->free(m);
    snprintf(errstr, errstr_size, "a typed reader refused a value the host had checked");
    return KS_EPLUGIN;
  }
  if (fail) {
    snprintf(errstr, errstr_size, "fail_init is set: refusing on purpose (count %lld)",
             (long long)m->count);
    api->free(m);
    return KS_EINVAL;
  }
  m->seen = api->table_declare(ctx, "seen", KS_TABLE_WINDOWED, sizeof(seen_rec), 1, 0);
  if (m->seen == NULL) {
    api->free(m);
    snprintf(errstr, errstr_size, "cannot declare the table");
    return KS_EINVAL;
  }
  *data = m;
  return 0;
}

static int m_event(void *data, ks_task *task, const ks_event *ev) {
  mapped *m = data;
  const char *t = ev->msg->tenant;
  seen_rec *r = m->api->window_get(task, m->seen, ev->interval_start_ms, t, strlen(t), 1);
  if (r == NULL)
    return KS_ENOMEM;
  r->n++;
  return 0;
}

typedef struct close_ctx {
  mapped *m;
  ks_task *task;
  const ks_interval *iv;
} close_ctx;

static int m_emit(void *ud, const void *key, size_t keylen, void *record) {
  (void)record;
  close_ctx *c = ud;
  mapped *m = c->m;
  char tenant[KS_ID_MAX + 1];
  size_t n = keylen < KS_ID_MAX ? keylen : KS_ID_MAX;
  memcpy(tenant, key, n);
  tenant[n] = '\0';
  ks_label labels[] = {{"label", m->label}, {"mode", modes[m->mode]}};
  ks_result r = KS_RESULT_INIT;
  r.metric = "mapped";
  r.interval_start_ms = c->iv->start_ms;
  r.interval_end_ms = c->iv->end_ms;
  r.tenant = tenant;
  r.labels = labels;
  r.n_labels = 2;
  r.has_value = 1;
  r.value = (double)m->count + m->ratio;
  r.numerator = (double)m->window_ms;
  r.denominator = m->enabled;
  r.count = m->mode;
  r.aggregation = KS_AGG_GAUGE;
  r.level = KS_LEVEL_TENANT;
  return m->api->emit(m->ctx, c->task, &r) == 0 ? 0 : 1;
}

static int m_close(void *data, ks_task *task, const ks_interval *iv) {
  mapped *m = data;
  close_ctx c = {m, task, iv};
  return m->api->window_foreach(task, m->seen, iv->start_ms, m_emit, &c) == 0 ? 0 : KS_EPLUGIN;
}

static void m_destroy(void *data) {
  mapped *m = data;
  if (m)
    m->api->free(m);
}

static const ks_plugin_descriptor desc = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = "mapped",
    .version = "1.3.0",
    .description = "option map and init_ex (ABI 1.3)",
    .interests = interests,
    .init_ex = m_init,
    .on_event = m_event,
    .on_interval_close = m_close,
    .destroy = m_destroy,
    .option_map = option_map,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &desc;
}
