/*
 * forecast plugin — configuration. Every key is declared once in the option map
 * (the host checks types and choices before init) and read here, once, in
 * init_ex(); a value out of range is refused into errstr. Keys and
 * defaults are documented in docs/metrics-forecast.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "forecast_internal.h"

/* Choices in the order of their enum values: config_get_choice's index is
 * the value. */
static const char *const basis_choices[] = {"actual", "forecast", NULL};
static const char *const compare_choices[] = {"logged_in", "on_queue", NULL};
static const char *const peak_choices[] = {"erlangs", "offered", NULL};

const ks_option fc_option_map[] = {
    {"service_level.target", KS_OPT_DOUBLE, "0.8",
     "the service-level goal: a share (0.8) or a percentage (80)", NULL},
    KS_SL_THRESHOLD_OPTIONS,
    {"max_asa", KS_OPT_DURATION, "0s", "an upper bound on the average speed of answer (0: none)",
     NULL},
    {"max_occupancy", KS_OPT_DOUBLE, "1", "the highest occupancy staffing may assume (share or %)",
     NULL},
    {"shrinkage", KS_OPT_DOUBLE, "0.3", "the share of paid time not available (share or %)", NULL},
    {"staffing_basis", KS_OPT_CHOICE, "actual", "staff for the actual or the forecast volume",
     basis_choices},
    {"staffing_compare", KS_OPT_CHOICE, "logged_in",
     "which agents the required staff is compared with", compare_choices},
    {"peak_by", KS_OPT_CHOICE, "erlangs", "what makes an interval the peak", peak_choices},
    {"contact_ttl", KS_OPT_DURATION, "3d", "how long an idle contact's state is kept", NULL},
    {"agent_ttl", KS_OPT_DURATION, "1d", "how long an idle agent's state is kept", NULL},
    {"forecast_ttl", KS_OPT_DURATION, "8d", "how long a forecast is kept", NULL},
    {"history_ttl", KS_OPT_DURATION, "8d", "how long volume history is kept (at least 8d)", NULL},
    {NULL, 0, NULL, NULL, NULL}};

/* A share written either as a fraction (0.8) or as a percentage (80): a
 * value <= 1 is a fraction, a value > 1 a percentage. Returns the share. */
static int get_share(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, double def,
                     double *out, char *errstr, size_t errstr_size) {
  double v;
  if (api->config_get_double(ctx, key, def, &v))
    return KS_EINVAL;
  if (!isfinite(v) || v < 0.0 || v > 100.0)
    return ks_option_refuse(ctx, api, key, "is not a share (0..1) or a percentage (1..100)", errstr,
                            errstr_size);
  *out = v > 1.0 ? v / 100.0 : v;
  return 0;
}

static int get_ttl(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, int64_t def,
                   int64_t min, const char *why, int64_t *out, char *errstr, size_t errstr_size) {
  if (api->config_get_duration_ms(ctx, key, def, out))
    return KS_EINVAL;
  if (*out < min)
    return ks_option_refuse(ctx, api, key, why, errstr, errstr_size);
  return 0;
}

static int load_service_level(ks_plugin_ctx *ctx, const ks_host_api *api, fc_config *cfg,
                              char *errstr, size_t errstr_size) {
  if (get_share(ctx, api, "service_level.target", 0.8, &cfg->sl_target, errstr, errstr_size))
    return KS_EINVAL;
  if (!(cfg->sl_target > 0.0 && cfg->sl_target < 1.0))
    return ks_option_refuse(ctx, api, "service_level.target",
                            "must be above 0 and below 100 % (Erlang C never reaches 100 %)",
                            errstr, errstr_size);
  if (ks_sl_thresholds_load(ctx, api, &cfg->sl_t))
    return KS_EINVAL;
  if (api->config_get_duration_ms(ctx, "max_asa", 0, &cfg->max_asa_ms))
    return KS_EINVAL;
  if (cfg->max_asa_ms < 0)
    return ks_option_refuse(ctx, api, "max_asa", "must not be negative (0 = no ASA limit)", errstr,
                            errstr_size);
  if (get_share(ctx, api, "max_occupancy", 1.0, &cfg->max_occupancy, errstr, errstr_size))
    return KS_EINVAL;
  if (!(cfg->max_occupancy > 0.0))
    return ks_option_refuse(ctx, api, "max_occupancy", "must be above 0", errstr, errstr_size);
  if (get_share(ctx, api, "shrinkage", 0.3, &cfg->shrinkage, errstr, errstr_size))
    return KS_EINVAL;
  if (!(cfg->shrinkage < 1.0))
    return ks_option_refuse(ctx, api, "shrinkage", "must be below 100 %", errstr, errstr_size);
  return 0;
}

int fc_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, fc_config *cfg, char *errstr,
                   size_t errstr_size) {
  memset(cfg, 0, sizeof *cfg);
  int v;
  if (load_service_level(ctx, api, cfg, errstr, errstr_size))
    return KS_EINVAL;
  if (api->config_get_choice(ctx, "staffing_basis", &v))
    return KS_EINVAL;
  cfg->basis = (fc_basis)v;
  if (api->config_get_choice(ctx, "staffing_compare", &v))
    return KS_EINVAL;
  cfg->compare = (fc_compare)v;
  if (api->config_get_choice(ctx, "peak_by", &v))
    return KS_EINVAL;
  cfg->peak_by = (fc_peak)v;

  if (get_ttl(ctx, api, "contact_ttl", 3 * FC_DAY_MS, 1, "must be longer than 0",
              &cfg->contact_ttl_ms, errstr, errstr_size) ||
      get_ttl(ctx, api, "agent_ttl", FC_DAY_MS, 1, "must be longer than 0", &cfg->agent_ttl_ms,
              errstr, errstr_size) ||
      get_ttl(ctx, api, "forecast_ttl", FC_HISTORY_DAYS * FC_DAY_MS, 1, "must be longer than 0",
              &cfg->forecast_ttl_ms, errstr, errstr_size) ||
      get_ttl(ctx, api, "history_ttl", FC_HISTORY_DAYS * FC_DAY_MS, FC_HISTORY_DAYS * FC_DAY_MS,
              "must be at least 8d (the week-on-week trend looks 7 days back)",
              &cfg->history_ttl_ms, errstr, errstr_size))
    return KS_EINVAL;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms < 60000 || FC_DAY_MS % cfg->interval_ms != 0) {
    snprintf(errstr, errstr_size,
             "host interval length %lld ms is not usable (whole minutes dividing a day)",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  cfg->slots_per_day = (uint32_t)(FC_DAY_MS / cfg->interval_ms);
  cfg->n_slots = FC_HISTORY_DAYS * cfg->slots_per_day;
  if (sizeof(fc_queue) + (size_t)cfg->n_slots * sizeof(fc_slot) > 65536) {
    snprintf(errstr, errstr_size, "host interval length %lld ms: volume history too large",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  return 0;
}
