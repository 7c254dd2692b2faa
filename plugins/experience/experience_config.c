/*
 * experience plugin — configuration. Every key is read here, once, in
 * init(); a bad value is logged with its key and refused with KS_EINVAL.
 * Keys and defaults are documented in docs/metrics-experience.md.
 */
#include <stdio.h>
#include <string.h>

#include "experience_internal.h"

typedef struct ex_choice {
  const char *name;
  int value;
} ex_choice;

static const ex_choice ces_dir_choices[] = {{"event", EX_CES_EVENT},
                                            {"high_easy", EX_CES_HIGH_EASY},
                                            {"low_easy", EX_CES_LOW_EASY},
                                            {NULL, 0}};

static const ex_choice change_choices[] = {{"difference", 0}, {"half_difference", 1}, {NULL, 0}};

static const ex_choice reason_source_choices[] = {{"wrap_up", EX_REASON_WRAP_UP},
                                                  {"detected", EX_REASON_DETECTED},
                                                  {"first", EX_REASON_FIRST},
                                                  {NULL, 0}};

static const ex_choice reasons_by_choices[] = {
    {"queue", EX_RBY_QUEUE}, {"channel", EX_RBY_CHANNEL}, {"tenant", EX_RBY_TENANT}, {NULL, 0}};

static const ex_choice per_agent_choices[] = {{"channel", EX_AGENT_CHANNEL},
                                              {"queue", EX_AGENT_QUEUE},
                                              {"agent", EX_AGENT_ALL},
                                              {"off", EX_AGENT_OFF},
                                              {NULL, 0}};

/* Read a string option that must be one of `choices`. */
static int get_choice(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key,
                      const ex_choice *choices, int def, int *out) {
  const char *v = api->config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  for (const ex_choice *c = choices; c->name; c++)
    if (strcmp(v, c->name) == 0) {
      *out = c->value;
      return 0;
    }
  char valid[256];
  size_t n = 0;
  valid[0] = '\0';
  for (const ex_choice *c = choices; c->name && n < sizeof valid; c++) {
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

/* An integer option within [lo, hi]. */
static int get_int(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, int def, int lo,
                   int hi, int *out) {
  int64_t v;
  if (api->config_get_int(ctx, key, def, &v))
    return KS_EINVAL;
  if (v < lo || v > hi) {
    char why[64];
    snprintf(why, sizeof why, "is not between %d and %d", lo, hi);
    return refuse(ctx, api, key, why);
  }
  *out = (int)v;
  return 0;
}

/* A number within [lo, hi]. */
static int get_double(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, double def,
                      double lo, double hi, double *out) {
  if (api->config_get_double(ctx, key, def, out))
    return KS_EINVAL;
  if (!(*out >= lo && *out <= hi)) {
    char why[64];
    snprintf(why, sizeof why, "is not between %g and %g", lo, hi);
    return refuse(ctx, api, key, why);
  }
  return 0;
}

/* "a, b,c" -> codes; blanks around a code are dropped. */
static int load_self_service(ks_plugin_ctx *ctx, const ks_host_api *api, ex_config *cfg) {
  static const char *const key = "self_service_reasons";
  const char *v = api->config_get(ctx, key);
  cfg->n_self = 0;
  if (v == NULL)
    return 0;
  const char *s = v;
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '\0')
    return 0; /* an empty list: no self-service share */
  for (;;) {
    const char *end = strchr(s, ',');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
      s++;
      n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
      n--;
    if (n == 0)
      return refuse(ctx, api, key, "has an empty code (write codes separated by commas)");
    if (n >= EX_CODE_MAX)
      return refuse(ctx, api, key, "has a code longer than 63 bytes");
    if (cfg->n_self == EX_SELF_MAX)
      return refuse(ctx, api, key, "lists more than 32 codes");
    memcpy(cfg->self_service[cfg->n_self], s, n);
    cfg->self_service[cfg->n_self][n] = '\0';
    cfg->n_self++;
    if (end == NULL)
      break;
    s = end + 1;
  }
  return 0;
}

int ex_is_self_service(const ex_config *cfg, const char *code, size_t len) {
  for (int i = 0; i < cfg->n_self; i++)
    if (strlen(cfg->self_service[i]) == len && memcmp(cfg->self_service[i], code, len) == 0)
      return 1;
  return 0;
}

int ex_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, ex_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  /* CSAT: the lowest satisfied answer per scale (top-box / top-2-box). */
  if (get_int(ctx, api, "csat_satisfied_min_3", 3, 1, 3, &cfg->csat_sat_min[EX_CSAT_3]) ||
      get_int(ctx, api, "csat_satisfied_min_5", 4, 1, 5, &cfg->csat_sat_min[EX_CSAT_5]) ||
      get_int(ctx, api, "csat_satisfied_min_10", 9, 1, 10, &cfg->csat_sat_min[EX_CSAT_10]))
    return KS_EINVAL;

  /* CES */
  if (get_int(ctx, api, "ces_scale", 7, 5, 7, &cfg->ces_scale))
    return KS_EINVAL;
  if (cfg->ces_scale != 5 && cfg->ces_scale != 7)
    return refuse(ctx, api, "ces_scale", "is not 5 or 7");
  if (get_choice(ctx, api, "ces_direction", ces_dir_choices, EX_CES_EVENT, &v))
    return KS_EINVAL;
  cfg->ces_dir = (ex_ces_dir)v;
  if (get_int(ctx, api, "ces_easy_min_7", 5, 1, 7, &cfg->ces_easy_min7) ||
      get_int(ctx, api, "ces_easy_min_5", 4, 1, 5, &cfg->ces_easy_min5))
    return KS_EINVAL;

  /* Sentiment */
  if (get_double(ctx, api, "sentiment_positive_min", 0.25, -1.0, 1.0, &cfg->sen_pos_min) ||
      get_double(ctx, api, "sentiment_negative_max", -0.25, -1.0, 1.0, &cfg->sen_neg_max))
    return KS_EINVAL;
  if (!(cfg->sen_neg_max < cfg->sen_pos_min))
    return refuse(ctx, api, "sentiment_negative_max",
                  "must be below sentiment_positive_min (a score cannot be both)");
  if (get_choice(ctx, api, "sentiment_change_method", change_choices, 0, &cfg->sen_change_half))
    return KS_EINVAL;

  /* Contact reasons */
  if (get_choice(ctx, api, "reason_source", reason_source_choices, EX_REASON_WRAP_UP, &v))
    return KS_EINVAL;
  cfg->reason_source = (ex_reason_source)v;
  if (get_choice(ctx, api, "reasons_by", reasons_by_choices, EX_RBY_QUEUE, &v))
    return KS_EINVAL;
  cfg->reasons_by = (ex_reasons_by)v;
  if (get_int(ctx, api, "top_reasons", 5, 0, EX_TOP_MAX, &cfg->top_reasons))
    return KS_EINVAL;
  if (load_self_service(ctx, api, cfg))
    return KS_EINVAL;

  /* Dimensions and state */
  if (get_choice(ctx, api, "per_agent", per_agent_choices, EX_AGENT_CHANNEL, &v))
    return KS_EINVAL;
  cfg->per_agent = (ex_per_agent)v;
  if (api->config_get_duration_ms(ctx, "contact_ttl", INT64_C(3) * 86400000, &cfg->contact_ttl_ms))
    return KS_EINVAL;
  if (cfg->contact_ttl_ms <= 0)
    return refuse(ctx, api, "contact_ttl", "must be longer than 0");
  return 0;
}
