/*
 * operations plugin — configuration. Every key is read here, once, in
 * init(); a bad value is logged with its key and refused with KS_EINVAL.
 * Keys and defaults are documented in docs/metrics.md ("Operations").
 */
#include <stdio.h>
#include <string.h>

#include "operations_internal.h"

typedef struct op_choice {
  const char *name;
  int value;
} op_choice;

static const op_choice abandon_den_choices[] = {
    {"offered", OP_ABD_OFFERED},
    {"queued", OP_ABD_QUEUED},
    {"answered_plus_abandoned", OP_ABD_ANSWERED_PLUS_ABANDONED},
    {"handled_plus_abandoned", OP_ABD_HANDLED_PLUS_ABANDONED},
    {NULL, 0}};

static const op_choice sl_variant_choices[] = {
    {"answered_over_answered_plus_abandoned", OP_SL_ANSWERED_OVER_ANSWERED_PLUS_ABANDONED},
    {"abandons_ignored", OP_SL_ABANDONS_IGNORED},
    {"abandons_negative", OP_SL_ABANDONS_NEGATIVE},
    {"short_abandons_excluded", OP_SL_SHORT_ABANDONS_EXCLUDED},
    {"abandons_positive", OP_SL_ABANDONS_POSITIVE},
    {NULL, 0}};

static const op_choice fcr_scope_choices[] = {{"any_channel", 0}, {"same_channel", 1}, {NULL, 0}};

/* fcr.transfers: ignore (Genesys: only a repeat contact is unresolved) or
 * unresolved (a transferred or escalated contact was not resolved first time) */
static const op_choice fcr_transfers_choices[] = {{"ignore", 0}, {"unresolved", 1}, {NULL, 0}};

static const op_choice per_agent_choices[] = {{"channel", OP_AGENT_CHANNEL},
                                              {"queue", OP_AGENT_QUEUE},
                                              {"agent", OP_AGENT_ALL},
                                              {"off", OP_AGENT_OFF},
                                              {NULL, 0}};

static const op_choice hold_over_choices[] = {{"all", 0}, {"held", 1}, {NULL, 0}};

/* Read a string option that must be one of `choices`. */
static int get_choice(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key,
                      const op_choice *choices, int def, int *out) {
  const char *v = api->config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  for (const op_choice *c = choices; c->name; c++)
    if (strcmp(v, c->name) == 0) {
      *out = c->value;
      return 0;
    }
  char valid[256];
  size_t n = 0;
  valid[0] = '\0';
  for (const op_choice *c = choices; c->name && n < sizeof valid; c++) {
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

int op_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, op_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  if (api->config_get_duration_ms(ctx, "short_abandon_threshold", 5000, &cfg->short_abandon_ms))
    return KS_EINVAL;
  if (api->config_get_bool(ctx, "short_abandon_exclude", 1, &cfg->short_abandon_exclude))
    return KS_EINVAL;
  if (get_choice(ctx, api, "abandon_rate_denominator", abandon_den_choices, OP_ABD_OFFERED, &v))
    return KS_EINVAL;
  cfg->abandon_den = (op_abandon_den)v;

  if (ks_sl_thresholds_load(ctx, api, &cfg->sl_t))
    return KS_EINVAL;
  if (ks_frt_thresholds_load(ctx, api, &cfg->sl_t, &cfg->frt_t))
    return KS_EINVAL;
  if (get_choice(ctx, api, "service_level.variant", sl_variant_choices,
                 OP_SL_ANSWERED_OVER_ANSWERED_PLUS_ABANDONED, &v))
    return KS_EINVAL;
  cfg->sl_variant = (op_sl_variant)v;
  if (api->config_get_double(ctx, "service_level.target", 0.8, &cfg->sl_target))
    return KS_EINVAL;
  if (!(cfg->sl_target >= 0.0 && cfg->sl_target <= 1.0))
    return refuse(ctx, api, "service_level.target", "is not a share between 0 and 1");

  if (api->config_get_duration_ms(ctx, "fcr.window", INT64_C(7) * 86400000, &cfg->fcr_window_ms))
    return KS_EINVAL;
  if (cfg->fcr_window_ms <= 0)
    return refuse(ctx, api, "fcr.window", "must be longer than 0");
  if (get_choice(ctx, api, "fcr.scope", fcr_scope_choices, 0, &cfg->fcr_same_channel))
    return KS_EINVAL;
  if (get_choice(ctx, api, "fcr.transfers", fcr_transfers_choices, 0, &cfg->fcr_xfer_unresolved))
    return KS_EINVAL;

  if (get_choice(ctx, api, "hold_average_over", hold_over_choices, 0, &cfg->hold_over_held))
    return KS_EINVAL;

  if (api->config_get_duration_ms(ctx, "contact_ttl", INT64_C(3) * 86400000, &cfg->contact_ttl_ms))
    return KS_EINVAL;
  if (cfg->contact_ttl_ms <= 0)
    return refuse(ctx, api, "contact_ttl", "must be longer than 0");

  if (get_choice(ctx, api, "per_agent", per_agent_choices, OP_AGENT_CHANNEL, &v))
    return KS_EINVAL;
  cfg->per_agent = (op_per_agent)v;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms <= 0) {
    api->log(ctx, KS_LOG_ERROR, "host interval length %lld ms is not usable",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }

  return 0;
}
