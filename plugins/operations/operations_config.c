/*
 * operations plugin — configuration. Every key is declared once in
 * op_option_map (the host checks types and choices before init) and read
 * here, once, in init_ex(); a value out of range is refused into errstr.
 * Keys and defaults are documented in docs/metrics.md ("Operations").
 */
#include <stdio.h>
#include <string.h>

#include "operations_internal.h"

/* Choices in the order of their enum values: config_get_choice's index is
 * the value. */
static const char *const abandon_den_choices[] = {"offered", "queued", "answered_plus_abandoned",
                                                  "handled_plus_abandoned", NULL};
static const char *const sl_variant_choices[] = {"answered_over_answered_plus_abandoned",
                                                 "abandons_ignored",
                                                 "abandons_negative",
                                                 "short_abandons_excluded",
                                                 "abandons_positive",
                                                 NULL};
static const char *const fcr_scope_choices[] = {"any_channel", "same_channel", NULL};
/* fcr.transfers: ignore (Genesys: only a repeat contact is unresolved) or
 * unresolved (a transferred or escalated contact was not resolved first time) */
static const char *const fcr_transfers_choices[] = {"ignore", "unresolved", NULL};
static const char *const per_agent_choices[] = {"off", "agent", "channel", "queue", NULL};
static const char *const hold_over_choices[] = {"all", "held", NULL};

const ks_option op_option_map[] = {
    {"short_abandon_threshold", KS_OPT_DURATION, "5s",
     "an abandon after less waiting than this is a short abandon", NULL},
    {"short_abandon_exclude", KS_OPT_BOOL, "true",
     "leave short abandons out of the abandonment rate", NULL},
    {"abandon_rate_denominator", KS_OPT_CHOICE, "offered", "what abandons are divided by",
     abandon_den_choices},
    KS_SL_THRESHOLD_OPTIONS,
    {"service_level.variant", KS_OPT_CHOICE, "answered_over_answered_plus_abandoned",
     "how abandons count in the service level", sl_variant_choices},
    {"service_level.target", KS_OPT_DOUBLE, "0.8", "the service-level goal, a share 0..1", NULL},
    KS_FRT_THRESHOLD_OPTIONS,
    {"fcr.window", KS_OPT_DURATION, "7d", "a repeat contact within this is not a first resolution",
     NULL},
    {"fcr.scope", KS_OPT_CHOICE, "any_channel", "which earlier contacts make a repeat",
     fcr_scope_choices},
    {"fcr.transfers", KS_OPT_CHOICE, "ignore", "whether a transferred contact is unresolved",
     fcr_transfers_choices},
    {"hold_average_over", KS_OPT_CHOICE, "all", "average hold time over all or held contacts",
     hold_over_choices},
    {"contact_ttl", KS_OPT_DURATION, "3d", "how long an idle contact's state is kept", NULL},
    {"per_agent", KS_OPT_CHOICE, "channel", "the dimensions of per-agent results",
     per_agent_choices},
    {NULL, 0, NULL, NULL, NULL}};

int op_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, op_config *cfg, char *errstr,
                   size_t errstr_size) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  if (api->config_get_duration_ms(ctx, "short_abandon_threshold", 5000, &cfg->short_abandon_ms))
    return KS_EINVAL;
  if (api->config_get_bool(ctx, "short_abandon_exclude", 1, &cfg->short_abandon_exclude))
    return KS_EINVAL;
  if (api->config_get_choice(ctx, "abandon_rate_denominator", &v))
    return KS_EINVAL;
  cfg->abandon_den = (op_abandon_den)v;

  if (ks_sl_thresholds_load(ctx, api, &cfg->sl_t))
    return KS_EINVAL;
  if (ks_frt_thresholds_load(ctx, api, &cfg->sl_t, &cfg->frt_t))
    return KS_EINVAL;
  if (api->config_get_choice(ctx, "service_level.variant", &v))
    return KS_EINVAL;
  cfg->sl_variant = (op_sl_variant)v;
  if (api->config_get_double(ctx, "service_level.target", 0.8, &cfg->sl_target))
    return KS_EINVAL;
  if (!(cfg->sl_target >= 0.0 && cfg->sl_target <= 1.0))
    return ks_option_refuse(ctx, api, "service_level.target", "is not a share between 0 and 1",
                            errstr, errstr_size);

  if (api->config_get_duration_ms(ctx, "fcr.window", INT64_C(7) * 86400000, &cfg->fcr_window_ms))
    return KS_EINVAL;
  if (cfg->fcr_window_ms <= 0)
    return ks_option_refuse(ctx, api, "fcr.window", "must be longer than 0", errstr, errstr_size);
  if (api->config_get_choice(ctx, "fcr.scope", &cfg->fcr_same_channel))
    return KS_EINVAL;
  if (api->config_get_choice(ctx, "fcr.transfers", &cfg->fcr_xfer_unresolved))
    return KS_EINVAL;

  if (api->config_get_choice(ctx, "hold_average_over", &cfg->hold_over_held))
    return KS_EINVAL;

  if (api->config_get_duration_ms(ctx, "contact_ttl", INT64_C(3) * 86400000, &cfg->contact_ttl_ms))
    return KS_EINVAL;
  if (cfg->contact_ttl_ms <= 0)
    return ks_option_refuse(ctx, api, "contact_ttl", "must be longer than 0", errstr, errstr_size);

  if (api->config_get_choice(ctx, "per_agent", &v))
    return KS_EINVAL;
  cfg->per_agent = (op_per_agent)v;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms <= 0) {
    snprintf(errstr, errstr_size, "host interval length %lld ms is not usable",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }

  return 0;
}
