/*
 * quality plugin — internal declarations shared by quality.c,
 * quality_config.c, quality_score.c and quality_emit.c. Not part of the SDK.
 *
 * State layout (all host-owned, fixed-size, pointer-free records):
 *
 *   seen        KEYED (tenant, evaluation id), TTL dedupe_window
 *               evaluations already counted (at-least-once delivery);
 *               not declared when dedupe_window is 0.
 *   by_group    WINDOWED (level, tenant, channel, queue, agent, extra):
 *               per interval and dimension group, the evaluation sums.
 *   by_category WINDOWED (level, tenant, channel, queue, agent, extra,
 *               category): per interval, group and category, the category
 *               score sums.
 *
 * `level` says which dimension group a record belongs to (tenant, queue,
 * team, agent, evaluator); `extra` is the team name (team level) or the
 * evaluator id (evaluator level), empty otherwise.
 */
#ifndef KS_QUALITY_INTERNAL_H
#define KS_QUALITY_INTERNAL_H

#include "kpistream/plugin.h"

#define QA_PLUGIN_NAME    "quality"
#define QA_PLUGIN_VERSION "1.0.0"

/* ---- configuration ------------------------------------------------------ */

typedef enum qa_auto_fail {
  QA_AF_ZERO = 0, /* an auto-failed evaluation scores 0 (Genesys, Connect) */
  QA_AF_SCORE,    /* it keeps its points score; auto-fail only counted */
  QA_AF_EXCLUDE   /* it is left out of the score means */
} qa_auto_fail;

typedef enum qa_weighting {
  QA_W_POINTS = 0,   /* Σ(points × weight) / Σ(possible × weight) (Genesys) */
  QA_W_SECTION_SHARE /* Σ(weight × section points/possible) / Σ weight */
} qa_weighting;

typedef enum qa_per_agent {
  QA_AGENT_OFF = 0, /* no per-agent results */
  QA_AGENT_ALL,     /* tenant x agent (all channels, all queues) */
  QA_AGENT_CHANNEL, /* tenant x channel x agent */
  QA_AGENT_QUEUE    /* tenant x channel x queue x agent */
} qa_per_agent;

typedef struct qa_config {
  double scale;             /* score_scale: 100 (value 0..100, "%") or 1 ("ratio") */
  qa_auto_fail auto_fail;   /* auto_fail_scoring */
  qa_weighting weighting;   /* weighting */
  int compliance_over_with; /* compliance_denominator == with_compliance_items */
  qa_per_agent per_agent;   /* per_agent */
  int per_queue;            /* per_queue */
  int per_team;             /* per_team */
  int per_evaluator;        /* per_evaluator */
  int per_category;         /* per_category */
  int64_t dedupe_ms;        /* dedupe_window; 0 = no de-duplication */
} qa_config;

/* Parse and validate every configuration key; logs and returns KS_EINVAL on
 * the first bad value. */
/* Every option the plugin accepts (the descriptor's option_map). */
extern const ks_option qa_option_map[];
/* Read and validate every option; KS_EINVAL with the first bad value in
 * errstr (or logged by the host's reader). */
int qa_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, qa_config *cfg, char *errstr,
                   size_t errstr_size);

/* ---- one evaluation, scored (quality_score.c) ----------------------------- */

#define QA_NAME_MAX 48 /* stored names (team of an agent; category labels) */
#define QA_MAX_CATS 16 /* distinct categories scored per evaluation */

typedef struct qa_cat {
  char name[QA_NAME_MAX]; /* normalised category */
  double points;          /* applicable items' points (clamped) */
  double possible;        /* applicable items' possible points */
  int auto_failed;        /* holds a failed critical item */
  int scored;             /* counts in category_score (after the auto-fail rule) */
  double score;           /* 0..scale when scored */
} qa_cat;

typedef struct qa_eval {
  int scored;            /* counts in evaluation_score (after the auto-fail rule) */
  double score;          /* 0..scale when scored */
  int auto_failed;       /* a critical item failed */
  int has_compliance;    /* at least one applicable compliance item */
  int compliance_failed; /* an applicable compliance item failed */
  int n_cats;
  int cats_dropped; /* distinct categories beyond QA_MAX_CATS */
  qa_cat cats[QA_MAX_CATS];
} qa_eval;

/* Score one evaluation per the configuration (pure function). */
void qa_score(const qa_config *cfg, const Kpistream__V1__QaEvaluation *qa, qa_eval *out);

/* Normalise a category name into out (QA_NAME_MAX): ASCII lower case,
 * spaces and hyphens to '_', empty to "uncategorized". */
void qa_category_name(const char *in, char *out);

/* ---- plugin and state records ------------------------------------------- */

typedef struct qa_plugin {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  qa_config cfg;
  ks_table *seen;
  ks_table *by_group;
  ks_table *by_category;
} qa_plugin;

/* Dimension groups (first key part). */
enum {
  QA_LVL_TENANT = 1, /* tenant (all channels, all queues) */
  QA_LVL_QUEUE,      /* tenant x channel x queue */
  QA_LVL_TEAM,       /* tenant x team (label team=...) */
  QA_LVL_AGENT,      /* tenant x agent (x channel x queue per per_agent) */
  QA_LVL_EVALUATOR   /* tenant x evaluator (label evaluator=...) */
};

/* Key parts of by_group; by_category adds the category as part 6. */
enum {
  QA_KP_LEVEL = 0,
  QA_KP_TENANT,
  QA_KP_CHANNEL,
  QA_KP_QUEUE,
  QA_KP_AGENT,
  QA_KP_EXTRA,
  QA_KP_CAT
};

typedef struct qa_seen {
  int64_t first_ms; /* event time of the first copy */
  uint32_t seen;
  uint32_t pad;
} qa_seen;

/* Per interval and dimension group. */
typedef struct qa_agg {
  int64_t evaluations;    /* evaluations counted */
  int64_t scored;         /* ... with a score (denominator of evaluation_score) */
  double score_sum;       /* Σ scores, 0..scale each */
  int64_t auto_failed;    /* evaluations with a failed critical item */
  int64_t compliant;      /* numerator of compliance_rate */
  int64_t compliance_den; /* denominator of compliance_rate */
  int64_t team_ms;        /* agent level: event time of the evaluation that set team */
  char team[QA_NAME_MAX]; /* agent level: the team of the interval's last evaluation (by event
                             time; ties: the greater name) that named one */
} qa_agg;

/* Per interval, dimension group and category. */
typedef struct qa_cagg {
  int64_t n;  /* evaluations scored in the category */
  double sum; /* Σ category scores, 0..scale each */
} qa_cagg;    /* agent level: the team is the agent group's (qa_agg.team) */

/* Emit every result of the interval (quality_emit.c). */
int qa_emit_interval(qa_plugin *p, ks_task *task, const ks_interval *iv);

/* A stored name holds any identifier the host passes (plugin.h, KS_ID_MAX). */
_Static_assert(QA_NAME_MAX >= KS_ID_MAX + 1, "QA_NAME_MAX must hold KS_ID_MAX bytes");

#endif
