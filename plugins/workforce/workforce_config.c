/*
 * workforce plugin — configuration. Every key is declared once in the option map
 * (the host checks types and choices before init) and read here, once, in
 * init_ex(); a value out of range is refused into errstr.
 * Keys and defaults are documented in docs/metrics-workforce.md.
 */
#include <stdio.h>
#include <string.h>

#include "workforce_internal.h"

static const char *const basis_choices[] = {"productive", "logged_in", NULL};
static const char *const headcount_choices[] = {"start_end", "daily_mean", NULL};

const ks_option wf_option_map[] = {
    {"per_agent", KS_OPT_BOOL, "true", "publish per-agent results", NULL},
    {"agent_ttl", KS_OPT_DURATION, "2d", "how long an idle agent's state is kept", NULL},
    {"utilization.basis", KS_OPT_CHOICE, "productive", "what utilization is divided by",
     basis_choices},
    {"adherence.start_tolerance", KS_OPT_DURATION, "0s",
     "a scheduled activity may start this late and still adhere", NULL},
    {"adherence.end_tolerance", KS_OPT_DURATION, "0s",
     "a scheduled activity may end this early and still adhere", NULL},
    {"proficiency.weight.aht", KS_OPT_DOUBLE, "1", "weight of handle time in proficiency", NULL},
    {"proficiency.weight.fcr", KS_OPT_DOUBLE, "1", "weight of FCR in proficiency", NULL},
    {"proficiency.weight.qa", KS_OPT_DOUBLE, "1", "weight of QA score in proficiency", NULL},
    {"proficiency.qa_auto_fail", KS_OPT_BOOL, "true", "an auto-failed evaluation scores 0", NULL},
    {"attrition.headcount", KS_OPT_CHOICE, "start_end", "the headcount attrition is divided by",
     headcount_choices},
    {NULL, 0, NULL, NULL, NULL}};

static int get_weight(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, double *out,
                      char *errstr, size_t errstr_size) {
  if (api->config_get_double(ctx, key, 1.0, out))
    return KS_EINVAL;
  if (!(*out >= 0.0 && *out <= 1e6))
    return ks_option_refuse(ctx, api, key, "is not a weight between 0 and 1000000", errstr,
                            errstr_size);
  return 0;
}

int wf_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, wf_config *cfg, char *errstr,
                   size_t errstr_size) {
  memset(cfg, 0, sizeof *cfg);

  if (api->config_get_bool(ctx, "per_agent", 1, &cfg->per_agent))
    return KS_EINVAL;
  if (api->config_get_duration_ms(ctx, "agent_ttl", 2 * WF_DAY_MS, &cfg->agent_ttl_ms))
    return KS_EINVAL;
  if (cfg->agent_ttl_ms <= 0)
    return ks_option_refuse(ctx, api, "agent_ttl", "must be longer than 0", errstr, errstr_size);
  cfg->hr_ttl_ms = 400 * WF_DAY_MS;

  if (api->config_get_choice(ctx, "utilization.basis", &cfg->util_logged_in))
    return KS_EINVAL;

  if (api->config_get_duration_ms(ctx, "adherence.start_tolerance", 0, &cfg->tol_start_ms))
    return KS_EINVAL;
  if (cfg->tol_start_ms < 0)
    return ks_option_refuse(ctx, api, "adherence.start_tolerance", "must not be negative", errstr,
                            errstr_size);
  if (api->config_get_duration_ms(ctx, "adherence.end_tolerance", 0, &cfg->tol_end_ms))
    return KS_EINVAL;
  if (cfg->tol_end_ms < 0)
    return ks_option_refuse(ctx, api, "adherence.end_tolerance", "must not be negative", errstr,
                            errstr_size);

  if (get_weight(ctx, api, "proficiency.weight.aht", &cfg->w_aht, errstr, errstr_size) ||
      get_weight(ctx, api, "proficiency.weight.fcr", &cfg->w_fcr, errstr, errstr_size) ||
      get_weight(ctx, api, "proficiency.weight.qa", &cfg->w_qa, errstr, errstr_size))
    return KS_EINVAL;
  if (cfg->w_aht + cfg->w_fcr + cfg->w_qa <= 0.0)
    return ks_option_refuse(ctx, api, "proficiency.weight.qa",
                            "leaves every proficiency weight at 0 (at least one must be > 0)",
                            errstr, errstr_size);
  if (api->config_get_bool(ctx, "proficiency.qa_auto_fail", 1, &cfg->qa_auto_fail))
    return KS_EINVAL;

  if (api->config_get_choice(ctx, "attrition.headcount", &cfg->hc_daily_mean))
    return KS_EINVAL;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms <= 0 || WF_DAY_MS % cfg->interval_ms != 0) {
    snprintf(errstr, errstr_size, "host interval length %lld ms does not divide a day",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  return 0;
}
