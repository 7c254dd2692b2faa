/*
 * workforce plugin — configuration. Every key is read here, once, in
 * init(); a bad value is logged with its key and refused with KS_EINVAL.
 * Keys and defaults are documented in docs/metrics-workforce.md.
 */
#include <stdio.h>
#include <string.h>

#include "workforce_internal.h"

typedef struct wf_choice {
  const char *name;
  int value;
} wf_choice;

static const wf_choice basis_choices[] = {{"productive", 0}, {"logged_in", 1}, {NULL, 0}};
static const wf_choice headcount_choices[] = {{"start_end", 0}, {"daily_mean", 1}, {NULL, 0}};

/* Read a string option that must be one of `choices`. */
static int get_choice(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key,
                      const wf_choice *choices, int def, int *out) {
  const char *v = api->config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  for (const wf_choice *c = choices; c->name; c++)
    if (strcmp(v, c->name) == 0) {
      *out = c->value;
      return 0;
    }
  char valid[128];
  size_t n = 0;
  valid[0] = '\0';
  for (const wf_choice *c = choices; c->name && n < sizeof valid; c++) {
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

static int get_weight(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, double *out) {
  if (api->config_get_double(ctx, key, 1.0, out))
    return KS_EINVAL;
  if (!(*out >= 0.0 && *out <= 1e6))
    return refuse(ctx, api, key, "is not a weight between 0 and 1000000");
  return 0;
}

int wf_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, wf_config *cfg) {
  memset(cfg, 0, sizeof *cfg);

  if (api->config_get_bool(ctx, "per_agent", 1, &cfg->per_agent))
    return KS_EINVAL;
  if (api->config_get_duration_ms(ctx, "agent_ttl", 2 * WF_DAY_MS, &cfg->agent_ttl_ms))
    return KS_EINVAL;
  if (cfg->agent_ttl_ms <= 0)
    return refuse(ctx, api, "agent_ttl", "must be longer than 0");
  cfg->hr_ttl_ms = 400 * WF_DAY_MS;

  if (get_choice(ctx, api, "utilization.basis", basis_choices, 0, &cfg->util_logged_in))
    return KS_EINVAL;

  if (api->config_get_duration_ms(ctx, "adherence.start_tolerance", 0, &cfg->tol_start_ms))
    return KS_EINVAL;
  if (cfg->tol_start_ms < 0)
    return refuse(ctx, api, "adherence.start_tolerance", "must not be negative");
  if (api->config_get_duration_ms(ctx, "adherence.end_tolerance", 0, &cfg->tol_end_ms))
    return KS_EINVAL;
  if (cfg->tol_end_ms < 0)
    return refuse(ctx, api, "adherence.end_tolerance", "must not be negative");

  if (get_weight(ctx, api, "proficiency.weight.aht", &cfg->w_aht) ||
      get_weight(ctx, api, "proficiency.weight.fcr", &cfg->w_fcr) ||
      get_weight(ctx, api, "proficiency.weight.qa", &cfg->w_qa))
    return KS_EINVAL;
  if (cfg->w_aht + cfg->w_fcr + cfg->w_qa <= 0.0)
    return refuse(ctx, api, "proficiency.weight.qa",
                  "leaves every proficiency weight at 0 (at least one must be > 0)");
  if (api->config_get_bool(ctx, "proficiency.qa_auto_fail", 1, &cfg->qa_auto_fail))
    return KS_EINVAL;

  if (get_choice(ctx, api, "attrition.headcount", headcount_choices, 0, &cfg->hc_daily_mean))
    return KS_EINVAL;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms <= 0 || WF_DAY_MS % cfg->interval_ms != 0) {
    api->log(ctx, KS_LOG_ERROR, "host interval length %lld ms does not divide a day",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  return 0;
}
