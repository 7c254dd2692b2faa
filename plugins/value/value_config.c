/*
 * value plugin — configuration. Every key is declared once in the option map
 * (the host checks types and choices before init) and read here, once, in
 * init_ex(); a value out of range is refused into errstr. Keys and
 * defaults are documented in docs/metrics-value.md.
 */
#include <stdio.h>
#include <string.h>

#include "value_internal.h"

/* Choices in the order of their enum values: config_get_choice's index is
 * the value. */
static const char *const per_agent_choices[] = {"off", "agent", "channel", "queue", NULL};
static const char *const period_choices[] = {"day", "week", "month", "year", NULL};
static const char *const nba_den_choices[] = {"offered", "accepted_plus_rejected", NULL};
/* cost.per: 0 = contacts (each once, at its first handled leg), 1 = legs */
static const char *const cost_per_choices[] = {"contacts", "legs", NULL};
static const char *const lifespan_choices[] = {"fixed", "retention", NULL};
static const char *const margin_choices[] = {"fixed", "order", NULL};

const ks_option va_option_map[] = {
    {"per_agent", KS_OPT_CHOICE, "channel", "the dimensions of per-agent results",
     per_agent_choices},
    {"contact_ttl", KS_OPT_DURATION, "3d", "how long an idle contact's state is kept", NULL},
    {"conversion.window", KS_OPT_DURATION, "1d", "an order within this after a contact converts",
     NULL},
    {"nba.rate_denominator", KS_OPT_CHOICE, "offered",
     "what next-best-action acceptances are divided by", nba_den_choices},
    {"nba.ttl", KS_OPT_DURATION, "1d", "how long an offered action waits for a reaction", NULL},
    {"cost.period", KS_OPT_CHOICE, "day", "the period operating cost is published for",
     period_choices},
    {"cost.per", KS_OPT_CHOICE, "contacts", "cost per contact or per leg", cost_per_choices},
    {"customer_period", KS_OPT_CHOICE, "month", "the period customer KPIs are published for",
     period_choices},
    {"period_settle", KS_OPT_DURATION, "1h", "wait after a period ends before publishing it", NULL},
    {"total_segment", KS_OPT_STRING, "all", "the segment name of all customers together", NULL},
    {"clv.lifespan_years", KS_OPT_DOUBLE, "3", "customer lifespan in years (fixed)", NULL},
    {"clv.lifespan_source", KS_OPT_CHOICE, "fixed", "a fixed lifespan or one from retention",
     lifespan_choices},
    {"clv.margin", KS_OPT_DOUBLE, "1", "gross margin, a share above 0 and at most 1 (fixed)", NULL},
    {"clv.margin_source", KS_OPT_CHOICE, "order", "margin from each order, or the fixed one",
     margin_choices},
    {"dedupe_window", KS_OPT_DURATION, "1d", "a repeated order id within this is ignored", NULL},
    {NULL, 0, NULL, NULL, NULL}};

/* A duration option that must be > 0 (or >= 0 with allow_zero). */
static int get_duration(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, int64_t def,
                        int allow_zero, int64_t *out, char *errstr, size_t errstr_size) {
  if (api->config_get_duration_ms(ctx, key, def, out))
    return KS_EINVAL;
  if (*out < 0 || (*out == 0 && !allow_zero))
    return ks_option_refuse(ctx, api, key,
                            allow_zero ? "must not be negative" : "must be longer than 0", errstr,
                            errstr_size);
  return 0;
}

int va_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, va_config *cfg, char *errstr,
                   size_t errstr_size) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  if (api->config_get_choice(ctx, "per_agent", &v))
    return KS_EINVAL;
  cfg->per_agent = (va_per_agent)v;
  if (get_duration(ctx, api, "contact_ttl", 3 * VA_DAY_MS, 0, &cfg->contact_ttl_ms, errstr,
                   errstr_size))
    return KS_EINVAL;
  if (get_duration(ctx, api, "conversion.window", VA_DAY_MS, 0, &cfg->conv_window_ms, errstr,
                   errstr_size))
    return KS_EINVAL;

  if (api->config_get_choice(ctx, "nba.rate_denominator", &cfg->nba_over_responded))
    return KS_EINVAL;
  if (get_duration(ctx, api, "nba.ttl", VA_DAY_MS, 0, &cfg->nba_ttl_ms, errstr, errstr_size))
    return KS_EINVAL;

  if (api->config_get_choice(ctx, "cost.period", &v))
    return KS_EINVAL;
  cfg->cost_period = (va_period)v;
  if (api->config_get_choice(ctx, "cost.per", &cfg->cost_per_leg))
    return KS_EINVAL;
  if (api->config_get_choice(ctx, "customer_period", &v))
    return KS_EINVAL;
  cfg->cust_period = (va_period)v;
  if (get_duration(ctx, api, "period_settle", 3600000, 1, &cfg->settle_ms, errstr, errstr_size))
    return KS_EINVAL;
  if (cfg->settle_ms > 31 * VA_DAY_MS)
    return ks_option_refuse(ctx, api, "period_settle", "is longer than 31 days", errstr,
                            errstr_size);

  const char *seg = api->config_get(ctx, "total_segment");
  if (seg == NULL)
    seg = "all";
  if (strlen(seg) >= VA_NAME_MAX)
    return ks_option_refuse(ctx, api, "total_segment", "is longer than 47 bytes", errstr,
                            errstr_size);
  snprintf(cfg->total_segment, sizeof cfg->total_segment, "%s", seg);

  if (api->config_get_double(ctx, "clv.lifespan_years", 3.0, &cfg->lifespan_years))
    return KS_EINVAL;
  if (!(cfg->lifespan_years > 0.0 && cfg->lifespan_years <= 100.0))
    return ks_option_refuse(ctx, api, "clv.lifespan_years",
                            "is not a number of years above 0 and <= 100", errstr, errstr_size);
  if (api->config_get_choice(ctx, "clv.lifespan_source", &cfg->lifespan_from_retention))
    return KS_EINVAL;
  if (api->config_get_double(ctx, "clv.margin", 1.0, &cfg->margin))
    return KS_EINVAL;
  if (!(cfg->margin > 0.0 && cfg->margin <= 1.0))
    return ks_option_refuse(ctx, api, "clv.margin", "is not a share above 0 and <= 1", errstr,
                            errstr_size);
  if (api->config_get_choice(ctx, "clv.margin_source", &cfg->margin_from_orders))
    return KS_EINVAL;

  if (get_duration(ctx, api, "dedupe_window", VA_DAY_MS, 1, &cfg->dedupe_ms, errstr, errstr_size))
    return KS_EINVAL;

  cfg->interval_ms = api->interval_length_ms(ctx);
  if (cfg->interval_ms <= 0 || VA_DAY_MS % cfg->interval_ms != 0) {
    snprintf(errstr, errstr_size, "host interval length %lld ms does not divide a day",
             (long long)cfg->interval_ms);
    return KS_EINVAL;
  }
  return 0;
}
