/*
 * quality plugin — configuration. Every key is read here, once, in init();
 * a bad value is logged with its key and refused with KS_EINVAL. Keys and
 * defaults are documented in docs/metrics-quality.md.
 */
#include <stdio.h>
#include <string.h>

#include "quality_internal.h"

typedef struct qa_choice {
  const char *name;
  int value;
} qa_choice;

static const qa_choice auto_fail_choices[] = {
    {"zero", QA_AF_ZERO}, {"score", QA_AF_SCORE}, {"exclude", QA_AF_EXCLUDE}, {NULL, 0}};

static const qa_choice weighting_choices[] = {
    {"points", QA_W_POINTS}, {"section_share", QA_W_SECTION_SHARE}, {NULL, 0}};

static const qa_choice compliance_den_choices[] = {
    {"evaluations", 0}, {"with_compliance_items", 1}, {NULL, 0}};

static const qa_choice per_agent_choices[] = {{"agent", QA_AGENT_ALL},
                                              {"channel", QA_AGENT_CHANNEL},
                                              {"queue", QA_AGENT_QUEUE},
                                              {"off", QA_AGENT_OFF},
                                              {NULL, 0}};

/* Read a string option that must be one of `choices`. */
static int get_choice(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key,
                      const qa_choice *choices, int def, int *out) {
  const char *v = api->config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  for (const qa_choice *c = choices; c->name; c++)
    if (strcmp(v, c->name) == 0) {
      *out = c->value;
      return 0;
    }
  char valid[256];
  size_t n = 0;
  valid[0] = '\0';
  for (const qa_choice *c = choices; c->name && n < sizeof valid; c++) {
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

int qa_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, qa_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  int64_t scale;
  if (api->config_get_int(ctx, "score_scale", 100, &scale))
    return KS_EINVAL;
  if (scale != 100 && scale != 1)
    return refuse(ctx, api, "score_scale", "must be 100 (0-100) or 1 (0-1)");
  cfg->scale = (double)scale;

  if (get_choice(ctx, api, "auto_fail_scoring", auto_fail_choices, QA_AF_ZERO, &v))
    return KS_EINVAL;
  cfg->auto_fail = (qa_auto_fail)v;
  if (get_choice(ctx, api, "weighting", weighting_choices, QA_W_POINTS, &v))
    return KS_EINVAL;
  cfg->weighting = (qa_weighting)v;
  if (get_choice(ctx, api, "compliance_denominator", compliance_den_choices, 0,
                 &cfg->compliance_over_with))
    return KS_EINVAL;

  if (get_choice(ctx, api, "per_agent", per_agent_choices, QA_AGENT_ALL, &v))
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
    return refuse(ctx, api, "dedupe_window", "must not be negative (0 turns de-duplication off)");
  return 0;
}
