/*
 * experience plugin — internal declarations shared by experience.c,
 * experience_feedback.c, experience_emit.c and experience_config.c. Not part
 * of the SDK.
 *
 * State layout (all host-owned, fixed-size, pointer-free records):
 *
 *   contacts    KEYED (tenant, contact_id), TTL contact_ttl
 *               agents whose leg was handled (handled de-duplication), the
 *               "reason counted" flag, the contact's last channel, queue and
 *               handling agent (for feedback events that omit them).
 *   seen        KEYED (kind, tenant, id...), TTL contact_ttl
 *               at-least-once de-duplication of surveys (survey id, else
 *               contact + type), responding contacts (contact), sentiment
 *               (contact + agent) and complaints (contact + category).
 *   by_queue    WINDOWED (tenant, channel, queue): survey, response,
 *               sentiment, complaint and handled sums (ex_agg).
 *   by_agent    WINDOWED (tenant, channel, queue, agent), channel 0 / queue ""
 *               when per_agent rolls them up: the same sums.
 *   by_reason   WINDOWED (tenant, channel, queue, reason) per reasons_by:
 *               contacts per reason code.
 *   by_category WINDOWED (tenant, channel, queue, category): complaints.
 *
 * Record pointers are used only until the next state call on the task: every
 * handler copies what it needs from one record before asking for the next.
 */
#ifndef KS_EXPERIENCE_INTERNAL_H
#define KS_EXPERIENCE_INTERNAL_H

#include "kpistream/plugin.h"

#define EX_PLUGIN_NAME    "experience"
#define EX_PLUGIN_VERSION "1.0.0"

/* Bump when a record layout changes (checkpoints of another version are
 * refused by the host). */
#define EX_STATE_VERSION 2 /* 2: ex_agg.responses */

#define EX_NAME_MAX 48 /* stored queue/agent names (fallback only) */
#define EX_LEGS     4  /* handled agent legs remembered per contact */
#define EX_CODE_MAX 64 /* a self-service reason code, NUL included */
#define EX_SELF_MAX 32 /* self-service reason codes */
#define EX_TOP_MAX  50 /* top_reasons upper bound */

/* CSAT scales: 1-3, 1-5, 1-10 (index into per-scale arrays). */
enum { EX_CSAT_3 = 0, EX_CSAT_5, EX_CSAT_10, EX_CSAT_NSCALES };

/* ---- configuration ------------------------------------------------------ */

typedef enum ex_ces_dir {
  EX_CES_EVENT = 0, /* each survey's lower_is_better flag decides */
  EX_CES_HIGH_EASY, /* every CES answer: high = easy */
  EX_CES_LOW_EASY   /* every CES answer: low = easy (legacy CES) */
} ex_ces_dir;

typedef enum ex_reason_source {
  EX_REASON_WRAP_UP = 0, /* AfterContactWorkEnded.reason_code */
  EX_REASON_DETECTED,    /* ContactQueued.reason_code / ContactCreated.subject_reason */
  EX_REASON_FIRST        /* whichever of the above arrives first */
} ex_reason_source;

typedef enum ex_reasons_by {
  EX_RBY_QUEUE = 0, /* tenant x channel x queue */
  EX_RBY_CHANNEL,   /* tenant x channel */
  EX_RBY_TENANT     /* tenant */
} ex_reasons_by;

typedef enum ex_per_agent {
  EX_AGENT_OFF = 0, /* no per-agent results */
  EX_AGENT_ALL,     /* tenant x agent (all channels, all queues) */
  EX_AGENT_CHANNEL, /* tenant x channel x agent (all queues) */
  EX_AGENT_QUEUE    /* tenant x channel x queue x agent */
} ex_per_agent;

typedef struct ex_config {
  int csat_sat_min[EX_CSAT_NSCALES]; /* csat_satisfied_min_3/_5/_10 */
  int ces_scale;                     /* ces_scale: 5 or 7 */
  ex_ces_dir ces_dir;                /* ces_direction */
  int ces_easy_min5;                 /* ces_easy_min_5 */
  int ces_easy_min7;                 /* ces_easy_min_7 */
  double sen_pos_min;                /* sentiment_positive_min */
  double sen_neg_max;                /* sentiment_negative_max */
  int sen_change_half;               /* sentiment_change_method == half_difference */
  ex_reason_source reason_source;    /* reason_source */
  ex_reasons_by reasons_by;          /* reasons_by */
  int top_reasons;                   /* top_reasons (0 = off) */
  int n_self;                        /* self_service_reasons */
  char self_service[EX_SELF_MAX][EX_CODE_MAX];
  ex_per_agent per_agent; /* per_agent */
  int64_t contact_ttl_ms; /* contact_ttl */
} ex_config;

typedef struct ex_plugin {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  ex_config cfg;
  ks_table *contacts;
  ks_table *seen;
  ks_table *by_queue;
  ks_table *by_agent;
  ks_table *by_reason;
  ks_table *by_category;
} ex_plugin;

/* Parse and validate every configuration key; logs and returns KS_EINVAL on
 * the first bad value. */
/* Every option the plugin accepts (the descriptor's option_map). */
extern const ks_option ex_option_map[];
/* Read and validate every option; KS_EINVAL with the first bad value in
 * errstr (or logged by the host's reader). */
int ex_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, ex_config *cfg, char *errstr,
                   size_t errstr_size);

/* 1 when code is one of the self_service_reasons. */
int ex_is_self_service(const ex_config *cfg, const char *code, size_t len);

/* ---- state records -------------------------------------------------------- */

/* ex_contact.flags */
#define EXC_REASON 0x01u /* the contact's reason has been counted */

typedef struct ex_contact {
  uint32_t flags;
  int32_t channel;
  uint8_t next_leg; /* leg slot to reuse next */
  uint8_t pad[7];
  uint64_t legs[EX_LEGS];  /* handled legs: hash of agent and wrap-up time, | 1; 0 = free */
  char queue[EX_NAME_MAX]; /* last queue seen */
  char agent[EX_NAME_MAX]; /* last handling agent */
} ex_contact;

typedef struct ex_seen {
  int64_t first_ms;
} ex_seen;

/* Per interval and dimensions: everything but reasons and categories. */
typedef struct ex_agg {
  /* CSAT: responses, satisfied, Σ normalised score (0..100), per scale */
  int64_t csat_n;
  int64_t csat_sat;
  double csat_norm_sum;
  int64_t csat_scale_n[EX_CSAT_NSCALES];
  int64_t csat_scale_sum[EX_CSAT_NSCALES]; /* raw points */
  /* NPS */
  int64_t nps_pro;
  int64_t nps_pas;
  int64_t nps_det;
  /* CES, on the reporting scale, high = easy */
  int64_t ces_n;
  int64_t ces_easy;
  double ces_sum;
  /* sentiment */
  int64_t sen_n;
  int64_t sen_pos;
  int64_t sen_neg;
  double sen_sum;
  int64_t sen_se_n; /* scores with start and end */
  double sen_change_sum;
  /* complaints */
  int64_t handled;
  int64_t complaints;
  /* survey response rate: contacts with a usable answer / handled */
  int64_t responses;
} ex_agg;

typedef struct ex_count {
  int64_t n;
} ex_count;

/* ---- shared helpers ------------------------------------------------------- */

/* The dimensions of one event: the envelope's, completed from the contact. */
typedef struct ex_dims {
  const char *tenant;
  int channel;
  const char *queue;
  const char *agent;
  char qbuf[EX_NAME_MAX];
  char abuf[EX_NAME_MAX];
} ex_dims;

/* Fill d from the event; a missing channel, queue or agent is taken from the
 * contact's record when the event names a known contact. */
void ex_dims_resolve(ex_plugin *p, ks_task *task, const Kpistream__V1__Event *m, ex_dims *d);

/* Add delta to the interval's by_queue record of d and to its by_agent
 * record (per the per_agent option). */
int ex_apply(ex_plugin *p, ks_task *task, int64_t iv, const ex_dims *d, const ex_agg *delta);

/* Count once: 1 when the key (kind, tenant, parts...) is new (and remember
 * it), 0 when it was seen before; -1 when out of state memory. */
int ex_first_time(ex_plugin *p, ks_task *task, const ks_key *k, int64_t t);

/* Event handlers (experience_feedback.c). */
int ex_on_survey(ex_plugin *p, ks_task *task, const ks_event *ev);
int ex_on_sentiment(ex_plugin *p, ks_task *task, const ks_event *ev);
int ex_on_complaint(ex_plugin *p, ks_task *task, const ks_event *ev);

/* Interval close (experience_emit.c). */
int ex_emit_interval(ex_plugin *p, ks_task *task, const ks_interval *iv);

/* A stored name holds any identifier the host passes (plugin.h, KS_ID_MAX). */
_Static_assert(EX_NAME_MAX >= KS_ID_MAX + 1, "EX_NAME_MAX must hold KS_ID_MAX bytes");

#endif
