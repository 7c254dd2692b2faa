/*
 * forecast plugin — configuration. Every key is read here, once, in init();
 * a bad value is logged with its key and refused with KS_EINVAL. Keys and
 * defaults are documented in docs/metrics-forecast.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "forecast_internal.h"

typedef struct fc_choice {
  const char *name;
  int value;
} fc_choice;

static const fc_choice basis_choices[] = {
    {"actual", FC_BASIS_ACTUAL}, {"forecast", FC_BASIS_FORECAST}, {NULL, 0}};
static const fc_choice compare_choices[] = {
    {"logged_in", FC_CMP_LOGGED_IN}, {"on_queue", FC_CMP_ON_QUEUE}, {NULL, 0}};
static const fc_choice peak_choices[] = {
    {"erlangs", FC_PEAK_ERLANGS}, {"offered", FC_PEAK_OFFERED}, {NULL, 0}};

/* Read a string option that must be one of `choices`. */
static int get_choice(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key,
                      const fc_choice *choices, int def, int *out) {
  const char *v = api->config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  for (const fc_choice *c = choices; c->name; c++)
    if (strcmp(v, c->name) == 0) {
      *out = c->value;
      return 0;
    }
  char valid[128];
  size_t n = 0;
  valid[0] = '\0';
  for (const fc_choice *c = choices; c->name && n < sizeof valid; c++) {
    int w = snprintf(valid + n, sizeof valid - n, "%s%s", c == choices ? "" : ", ", c->name);
    if (w < 0)
      break;
    n += (size_t)w;
  }
  api->log(ctx, KS_LOG_ERROR, "option '%s': unknown value '%s' (valid: %s)", key, v, valid);
  return KS_EINVAL;
}

static int refuse(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, const char *why) {
  const char *v = api->config_get(ctx, key);
  api->log(ctx, KS_LOG_ERROR, "option '%s': '%s' %s", key, v ? v : "(default)", why);
  return KS_EINVAL;
}

/* A share written either as a fraction (0.8) or as a percentage (80): a
 * value <= 1 is a fraction, a value > 1 a percentage. Returns the share. */
static int get_share(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, double def,
                     double *out) {
  double v;
  if (api->config_get_double(ctx, key, def, &v))
    return KS_EINVAL;
  if (!isfinite(v) || v < 0.0 || v > 100.0)
    return refuse(ctx, api, key, "is not a share (0..1) or a percentage (1..100)");
  *out = v > 1.0 ? v / 100.0 : v;
  return 0;
}

static int get_ttl(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, int64_t def,
                   int64_t min, const char *why, int64_t *out) {
  if (api->config_get_duration_ms(ctx, key, def, out))
    return KS_EINVAL;
  if (*out < min)
    return refuse(ctx, api, key, why);
  return 0;
}

static int load_service_level(ks_plugin_ctx *ctx, const ks_host_api *api, fc_config *cfg) {
  if (get_share(ctx, api, "service_level.target", 0.8, &cfg->sl_target))
    return KS_EINVAL;
  if (!(cfg->sl_target > 0.0 && cfg->sl_target < 1.0))
    return refuse(ctx, api, "service_level.target",
                  "must be above 0 and below 100 % (Erlang C never reaches 100 %)");
  if (ks_sl_thresholds_load(ctx, api, &cfg->sl_t))
    return KS_EINVAL;
  if (api->config_get_duration_ms(ctx, "max_asa", 0, &cfg->max_asa_ms))
    return KS_EINVAL;
  if (cfg->max_asa_ms < 0)
    return refuse(ctx, api, "max_asa", "must not be negative (0 = no ASA limit)");
  if (get_share(ctx, api, "max_occupancy", 1.0, &cfg->max_occupancy))
    return KS_EINVAL;
  if (!(cfg->max_occupancy > 0.0))
    return refuse(ctx, api, "max_occupancy", "must be above 0");
  if (get_share(ctx, api, "shrinkage", 0.3, &cfg->shrinkage))
    return KS_EINVAL;
  if (!(cfg->shrinkage < 1.0))
    return refuse(ctx, api, "shrinkage", "must be below 100 %");
  return 0;
}

int fc_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, fc_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  int v;
  if (load_service_level(ctx, api, cfg))
    return KS_EINVAL;
  if (get_choice(ctx, api, "staffing_basis", basis_choices, FC_BASIS_ACTUAL, &v))
    return KS_EINVAL;
  cfg->basis = (fc_basis)v;
  if (get_choice(ctx, api, "staffing_compare", compare_choices, FC_CMP_LOGGED_IN, &v))
    return KS_EINVAL;
  cfg->compare = (fc_compare)v;
  if (get_choice(ctx, api, "peak_by", peak_choices, FC_PEAK_ERLANGS, &v))
    return KS_EINVAL;
  cfg->peak_by = (fc_peak)v;

  if (get_ttl(ctx, api, "contact_ttl", 3 * FC_DAY_MS, 1, "must be longer than 0",
              &cfg->contact_ttl_ms) ||
      get_ttl(ctx, api, "agent_ttl", FC_DAY_MS, 1, "must be longer than 0", &cfg->agent_ttl_ms) ||
      get_ttl(ctx, api, "forecast_ttl", FC_HISTORY_DAYS * FC_DAY_MS, 1, "must be longer than 0",
              &cfg->forecast_ttl_ms) ||
      get_ttl(ctx, api, "history_ttl", FC_HISTORY_DAYS * FC_DAY_MS, FC_HISTORY_DAYS * FC_DAY_MS,
              "must be at least 8d (the week-on-week trend looks 7 days back)",
              &cfg->history_ttl_ms))
    return KS_EINVAL;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms < 60000 || FC_DAY_MS % cfg->interval_ms != 0) {
    api->log(ctx, KS_LOG_ERROR,
             "host interval length %lld ms is not usable (whole minutes dividing a day)",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  cfg->slots_per_day = (uint32_t)(FC_DAY_MS / cfg->interval_ms);
  cfg->n_slots = FC_HISTORY_DAYS * cfg->slots_per_day;
  if (sizeof(fc_queue) + (size_t)cfg->n_slots * sizeof(fc_slot) > 65536) {
    api->log(ctx, KS_LOG_ERROR, "host interval length %lld ms: volume history too large",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  return 0;
}
