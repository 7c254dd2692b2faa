/*
 * quality plugin — configuration. Every key is declared once in the option map
 * (the host checks types and choices before init) and read here, once, in
 * init_ex(); a value out of range is refused into errstr. Keys and
 * defaults are documented in docs/metrics-quality.md.
 */
#include <stdio.h>
#include <string.h>

#include "quality_internal.h"

/* Choices in the order of their enum values: config_get_choice's index is
 * the value. */
static const char *const auto_fail_choices[] = {"zero", "score", "exclude", NULL};
static const char *const weighting_choices[] = {"points", "section_share", NULL};
static const char *const compliance_den_choices[] = {"evaluations", "with_compliance_items", NULL};
static const char *const per_agent_choices[] = {"off", "agent", "channel", "queue", NULL};

const ks_option qa_option_map[] = {
    {"score_scale", KS_OPT_INT, "100", "scores published on 0-100 (100) or 0-1 (1)", NULL},
    {"auto_fail_scoring", KS_OPT_CHOICE, "zero", "what an auto-failed evaluation scores",
     auto_fail_choices},
    {"weighting", KS_OPT_CHOICE, "points", "how item weights combine", weighting_choices},
    {"compliance_denominator", KS_OPT_CHOICE, "evaluations",
     "what the compliance rate is divided by", compliance_den_choices},
    {"per_agent", KS_OPT_CHOICE, "agent", "the dimensions of per-agent results", per_agent_choices},
    {"per_queue", KS_OPT_BOOL, "true", "publish per-queue results", NULL},
    {"per_team", KS_OPT_BOOL, "true", "publish per-team results", NULL},
    {"per_evaluator", KS_OPT_BOOL, "false", "publish per-evaluator results", NULL},
    {"per_category", KS_OPT_BOOL, "true", "publish per-category scores", NULL},
    {"dedupe_window", KS_OPT_DURATION, "7d",
     "a repeated evaluation id within this is ignored (0: off)", NULL},
    {NULL, 0, NULL, NULL, NULL}};

int qa_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, qa_config *cfg, char *errstr,
                   size_t errstr_size) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  int64_t scale;
  if (api->config_get_int(ctx, "score_scale", 100, &scale))
    return KS_EINVAL;
  if (scale != 100 && scale != 1)
    return ks_option_refuse(ctx, api, "score_scale", "must be 100 (0-100) or 1 (0-1)", errstr,
                            errstr_size);
  cfg->scale = (double)scale;

  if (api->config_get_choice(ctx, "auto_fail_scoring", &v))
    return KS_EINVAL;
  cfg->auto_fail = (qa_auto_fail)v;
  if (api->config_get_choice(ctx, "weighting", &v))
    return KS_EINVAL;
  cfg->weighting = (qa_weighting)v;
  if (api->config_get_choice(ctx, "compliance_denominator", &cfg->compliance_over_with))
    return KS_EINVAL;

  if (api->config_get_choice(ctx, "per_agent", &v))
    return KS_EINVAL;
  cfg->per_agent = (qa_per_agent)v;
  if (api->config_get_bool(ctx, "per_queue", 1, &cfg->per_queue))
    return KS_EINVAL;
  if (api->config_get_bool(ctx, "per_team", 1, &cfg->per_team))
    return KS_EINVAL;
  if (api->config_get_bool(ctx, "per_evaluator", 0, &cfg->per_evaluator))
    return KS_EINVAL;
  if (api->config_get_bool(ctx, "per_category", 1, &cfg->per_category))
    return KS_EINVAL;

  if (api->config_get_duration_ms(ctx, "dedupe_window", INT64_C(7) * 86400000, &cfg->dedupe_ms))
    return KS_EINVAL;
  if (cfg->dedupe_ms < 0)
    return ks_option_refuse(ctx, api, "dedupe_window",
                            "must not be negative (0 turns de-duplication off)", errstr,
                            errstr_size);
  return 0;
}
