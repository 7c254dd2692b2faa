/*
 * value plugin — configuration. Every key is read here, once, in init(); a
 * bad value is logged with its key and refused with KS_EINVAL. Keys and
 * defaults are documented in docs/metrics-value.md.
 */
#include <stdio.h>
#include <string.h>

#include "value_internal.h"

typedef struct va_choice {
  const char *name;
  int value;
} va_choice;

static const va_choice per_agent_choices[] = {{"channel", VA_AGENT_CHANNEL},
                                              {"queue", VA_AGENT_QUEUE},
                                              {"agent", VA_AGENT_ALL},
                                              {"off", VA_AGENT_OFF},
                                              {NULL, 0}};

static const va_choice period_choices[] = {{"day", VA_PERIOD_DAY},
                                           {"week", VA_PERIOD_WEEK},
                                           {"month", VA_PERIOD_MONTH},
                                           {"year", VA_PERIOD_YEAR},
                                           {NULL, 0}};

static const va_choice nba_den_choices[] = {
    {"offered", 0}, {"accepted_plus_rejected", 1}, {NULL, 0}};

/* cost.per: 0 = contacts (each once, at its first handled leg), 1 = legs */
static const va_choice cost_per_choices[] = {{"contacts", 0}, {"legs", 1}, {NULL, 0}};

static const va_choice lifespan_choices[] = {{"fixed", 0}, {"retention", 1}, {NULL, 0}};

static const va_choice margin_choices[] = {{"order", 1}, {"fixed", 0}, {NULL, 0}};

/* Read a string option that must be one of `choices`. */
static int get_choice(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key,
                      const va_choice *choices, int def, int *out) {
  const char *v = api->config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  for (const va_choice *c = choices; c->name; c++)
    if (strcmp(v, c->name) == 0) {
      *out = c->value;
      return 0;
    }
  char valid[256];
  size_t n = 0;
  valid[0] = '\0';
  for (const va_choice *c = choices; c->name && n < sizeof valid; c++) {
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

/* A duration option that must be > 0 (or >= 0 with allow_zero). */
static int get_duration(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, int64_t def,
                        int allow_zero, int64_t *out) {
  if (api->config_get_duration_ms(ctx, key, def, out))
    return KS_EINVAL;
  if (*out < 0 || (*out == 0 && !allow_zero))
    return refuse(ctx, api, key, allow_zero ? "must not be negative" : "must be longer than 0");
  return 0;
}

int va_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, va_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  if (get_choice(ctx, api, "per_agent", per_agent_choices, VA_AGENT_CHANNEL, &v))
    return KS_EINVAL;
  cfg->per_agent = (va_per_agent)v;
  if (get_duration(ctx, api, "contact_ttl", 3 * VA_DAY_MS, 0, &cfg->contact_ttl_ms))
    return KS_EINVAL;
  if (get_duration(ctx, api, "conversion.window", VA_DAY_MS, 0, &cfg->conv_window_ms))
    return KS_EINVAL;

  if (get_choice(ctx, api, "nba.rate_denominator", nba_den_choices, 0, &cfg->nba_over_responded))
    return KS_EINVAL;
  if (get_duration(ctx, api, "nba.ttl", VA_DAY_MS, 0, &cfg->nba_ttl_ms))
    return KS_EINVAL;

  if (get_choice(ctx, api, "cost.period", period_choices, VA_PERIOD_DAY, &v))
    return KS_EINVAL;
  cfg->cost_period = (va_period)v;
  if (get_choice(ctx, api, "cost.per", cost_per_choices, 0, &cfg->cost_per_leg))
    return KS_EINVAL;
  if (get_choice(ctx, api, "customer_period", period_choices, VA_PERIOD_MONTH, &v))
    return KS_EINVAL;
  cfg->cust_period = (va_period)v;
  if (get_duration(ctx, api, "period_settle", 3600000, 1, &cfg->settle_ms))
    return KS_EINVAL;
  if (cfg->settle_ms > 31 * VA_DAY_MS)
    return refuse(ctx, api, "period_settle", "is longer than 31 days");

  const char *seg = api->config_get(ctx, "total_segment");
  if (seg == NULL)
    seg = "all";
  if (strlen(seg) >= VA_NAME_MAX)
    return refuse(ctx, api, "total_segment", "is longer than 47 bytes");
  snprintf(cfg->total_segment, sizeof cfg->total_segment, "%s", seg);

  if (api->config_get_double(ctx, "clv.lifespan_years", 3.0, &cfg->lifespan_years))
    return KS_EINVAL;
  if (!(cfg->lifespan_years > 0.0 && cfg->lifespan_years <= 100.0))
    return refuse(ctx, api, "clv.lifespan_years", "is not a number of years above 0 and <= 100");
  if (get_choice(ctx, api, "clv.lifespan_source", lifespan_choices, 0,
                 &cfg->lifespan_from_retention))
    return KS_EINVAL;
  if (api->config_get_double(ctx, "clv.margin", 1.0, &cfg->margin))
    return KS_EINVAL;
  if (!(cfg->margin > 0.0 && cfg->margin <= 1.0))
    return refuse(ctx, api, "clv.margin", "is not a share above 0 and <= 1");
  if (get_choice(ctx, api, "clv.margin_source", margin_choices, 1, &cfg->margin_from_orders))
    return KS_EINVAL;

  if (get_duration(ctx, api, "dedupe_window", VA_DAY_MS, 1, &cfg->dedupe_ms))
    return KS_EINVAL;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms <= 0 || VA_DAY_MS % cfg->interval_ms != 0) {
    api->log(ctx, KS_LOG_ERROR, "host interval length %lld ms does not divide a day",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  return 0;
}
