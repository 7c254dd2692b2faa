/*
 * experience plugin — configuration. Every key is declared once in the option map
 * (the host checks types and choices before init) and read here, once, in
 * init_ex(); a value out of range is refused into errstr.
 * Keys and defaults are documented in docs/metrics-experience.md.
 */
#include <stdio.h>
#include <string.h>

#include "experience_internal.h"

/* Choices in the order of their enum values: config_get_choice's index is
 * the value. */
static const char *const ces_dir_choices[] = {"event", "high_easy", "low_easy", NULL};
static const char *const change_choices[] = {"difference", "half_difference", NULL};
static const char *const reason_source_choices[] = {"wrap_up", "detected", "first", NULL};
static const char *const reasons_by_choices[] = {"queue", "channel", "tenant", NULL};
static const char *const per_agent_choices[] = {"off", "agent", "channel", "queue", NULL};

const ks_option ex_option_map[] = {
    {"csat_satisfied_min_3", KS_OPT_INT, "3", "lowest satisfied answer on a 1-3 scale", NULL},
    {"csat_satisfied_min_5", KS_OPT_INT, "4", "lowest satisfied answer on a 1-5 scale", NULL},
    {"csat_satisfied_min_10", KS_OPT_INT, "9", "lowest satisfied answer on a 1-10 scale", NULL},
    {"ces_scale", KS_OPT_INT, "7", "the CES scale: 5 or 7", NULL},
    {"ces_direction", KS_OPT_CHOICE, "event", "which end of the CES scale is easy",
     ces_dir_choices},
    {"ces_easy_min_7", KS_OPT_INT, "5", "lowest easy answer on a 1-7 scale", NULL},
    {"ces_easy_min_5", KS_OPT_INT, "4", "lowest easy answer on a 1-5 scale", NULL},
    {"sentiment_positive_min", KS_OPT_DOUBLE, "0.25", "a score at least this is positive", NULL},
    {"sentiment_negative_max", KS_OPT_DOUBLE, "-0.25", "a score at most this is negative", NULL},
    {"sentiment_change_method", KS_OPT_CHOICE, "difference", "how a sentiment change is measured",
     change_choices},
    {"reason_source", KS_OPT_CHOICE, "wrap_up", "where a contact's reason comes from",
     reason_source_choices},
    {"reasons_by", KS_OPT_CHOICE, "queue", "the dimensions of contact-reason results",
     reasons_by_choices},
    {"top_reasons", KS_OPT_INT, "5", "how many top reasons are published", NULL},
    {"self_service_reasons", KS_OPT_STRING, NULL,
     "reason codes that self-service could have handled, comma-separated", NULL},
    {"per_agent", KS_OPT_CHOICE, "channel", "the dimensions of per-agent results",
     per_agent_choices},
    {"contact_ttl", KS_OPT_DURATION, "3d", "how long an idle contact's state is kept", NULL},
    {NULL, 0, NULL, NULL, NULL}};

/* An integer option within [lo, hi]. */
static int get_int(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, int def, int lo,
                   int hi, int *out, char *errstr, size_t errstr_size) {
  int64_t v;
  if (api->config_get_int(ctx, key, def, &v))
    return KS_EINVAL;
  if (v < lo || v > hi) {
    char why[64];
    snprintf(why, sizeof why, "is not between %d and %d", lo, hi);
    return ks_option_refuse(ctx, api, key, why, errstr, errstr_size);
  }
  *out = (int)v;
  return 0;
}

/* A number within [lo, hi]. */
static int get_double(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key, double def,
                      double lo, double hi, double *out, char *errstr, size_t errstr_size) {
  if (api->config_get_double(ctx, key, def, out))
    return KS_EINVAL;
  if (!(*out >= lo && *out <= hi)) {
    char why[64];
    snprintf(why, sizeof why, "is not between %g and %g", lo, hi);
    return ks_option_refuse(ctx, api, key, why, errstr, errstr_size);
  }
  return 0;
}

/* "a, b,c" -> codes; blanks around a code are dropped. */
static int load_self_service(ks_plugin_ctx *ctx, const ks_host_api *api, ex_config *cfg,
                             char *errstr, size_t errstr_size) {
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
      return ks_option_refuse(ctx, api, key, "has an empty code (write codes separated by commas)",
                              errstr, errstr_size);
    if (n >= EX_CODE_MAX)
      return ks_option_refuse(ctx, api, key, "has a code longer than 63 bytes", errstr,
                              errstr_size);
    if (cfg->n_self == EX_SELF_MAX)
      return ks_option_refuse(ctx, api, key, "lists more than 32 codes", errstr, errstr_size);
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

int ex_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, ex_config *cfg, char *errstr,
                   size_t errstr_size) {
  memset(cfg, 0, sizeof *cfg);
  int v;

  /* CSAT: the lowest satisfied answer per scale (top-box / top-2-box). */
  if (get_int(ctx, api, "csat_satisfied_min_3", 3, 1, 3, &cfg->csat_sat_min[EX_CSAT_3], errstr,
              errstr_size) ||
      get_int(ctx, api, "csat_satisfied_min_5", 4, 1, 5, &cfg->csat_sat_min[EX_CSAT_5], errstr,
              errstr_size) ||
      get_int(ctx, api, "csat_satisfied_min_10", 9, 1, 10, &cfg->csat_sat_min[EX_CSAT_10], errstr,
              errstr_size))
    return KS_EINVAL;

  /* CES */
  if (get_int(ctx, api, "ces_scale", 7, 5, 7, &cfg->ces_scale, errstr, errstr_size))
    return KS_EINVAL;
  if (cfg->ces_scale != 5 && cfg->ces_scale != 7)
    return ks_option_refuse(ctx, api, "ces_scale", "is not 5 or 7", errstr, errstr_size);
  if (api->config_get_choice(ctx, "ces_direction", &v))
    return KS_EINVAL;
  cfg->ces_dir = (ex_ces_dir)v;
  if (get_int(ctx, api, "ces_easy_min_7", 5, 1, 7, &cfg->ces_easy_min7, errstr, errstr_size) ||
      get_int(ctx, api, "ces_easy_min_5", 4, 1, 5, &cfg->ces_easy_min5, errstr, errstr_size))
    return KS_EINVAL;

  /* Sentiment */
  if (get_double(ctx, api, "sentiment_positive_min", 0.25, -1.0, 1.0, &cfg->sen_pos_min, errstr,
                 errstr_size) ||
      get_double(ctx, api, "sentiment_negative_max", -0.25, -1.0, 1.0, &cfg->sen_neg_max, errstr,
                 errstr_size))
    return KS_EINVAL;
  if (!(cfg->sen_neg_max < cfg->sen_pos_min))
    return ks_option_refuse(ctx, api, "sentiment_negative_max",
                            "must be below sentiment_positive_min (a score cannot be both)", errstr,
                            errstr_size);
  if (api->config_get_choice(ctx, "sentiment_change_method", &cfg->sen_change_half))
    return KS_EINVAL;

  /* Contact reasons */
  if (api->config_get_choice(ctx, "reason_source", &v))
    return KS_EINVAL;
  cfg->reason_source = (ex_reason_source)v;
  if (api->config_get_choice(ctx, "reasons_by", &v))
    return KS_EINVAL;
  cfg->reasons_by = (ex_reasons_by)v;
  if (get_int(ctx, api, "top_reasons", 5, 0, EX_TOP_MAX, &cfg->top_reasons, errstr, errstr_size))
    return KS_EINVAL;
  if (load_self_service(ctx, api, cfg, errstr, errstr_size))
    return KS_EINVAL;

  /* Dimensions and state */
  if (api->config_get_choice(ctx, "per_agent", &v))
    return KS_EINVAL;
  cfg->per_agent = (ex_per_agent)v;
  if (api->config_get_duration_ms(ctx, "contact_ttl", INT64_C(3) * 86400000, &cfg->contact_ttl_ms))
    return KS_EINVAL;
  if (cfg->contact_ttl_ms <= 0)
    return ks_option_refuse(ctx, api, "contact_ttl", "must be longer than 0", errstr, errstr_size);
  return 0;
}
