/*
 * workforce plugin — internal declarations shared by its source files. Not
 * part of the SDK.
 *
 * Files:
 *   workforce.c           descriptor, init/destroy, event handlers
 *   workforce_config.c    options
 *   workforce_span.c      time arithmetic: a state span or the schedule
 *                         against an interval (adherence, shrinkage parts)
 *   workforce_interval.c  interval close: per agent / team / tenant results
 *   workforce_periods.c   day close (proficiency) and month close (attrition)
 *   workforce_emit.c      result helpers shared by the closers
 *
 * State layout (all host-owned, fixed-size, pointer-free records):
 *
 *   agents    KEYED (tenant, agent), TTL agent_ttl: current state and since
 *             when, how far it has been accrued, last team, the published
 *             schedule segments still to come, proficiency day slots.
 *   by_agent  WINDOWED (tenant, agent): state time accrued into the interval
 *             by state changes (wf_acc).
 *   hr        KEYED (tenant, team), TTL 400 days: running headcount and the
 *             month slots of hires and separations.
 *
 * Time in a state is accrued when the state changes (split at interval
 * boundaries into by_agent) and, for agents still in a state, when the
 * interval closes. At close the host no longer hands out the closing
 * interval's window records, so the closer joins by_agent with the open
 * spans of the agents table in a scratch array that lives for the call.
 */
#ifndef KS_WORKFORCE_INTERNAL_H
#define KS_WORKFORCE_INTERNAL_H

#include "kpistream/plugin.h"

#define WF_PLUGIN_NAME    "workforce"
#define WF_PLUGIN_VERSION "1.0.0"

/* Bump when a record layout changes (checkpoints of another version are
 * refused by the host). */
#define WF_STATE_VERSION 2 /* 2: wf_acc.prod_paid */

#define WF_DAY_MS INT64_C(86400000)
#define WF_ID_MAX 128 /* tenant and agent ids must be shorter than this */
#define WF_TEAM   48  /* team names are cut at 47 bytes */
#define WF_SEGS   32  /* schedule segments kept per agent */
#define WF_RECENT 8   /* recent event ids remembered (duplicates) */
#define WF_NAUX   9   /* AuxReason 0..8 */
#define WF_NACT   10  /* Activity 0..9 */

/* ---- configuration ------------------------------------------------------ */

typedef struct wf_config {
  int per_agent;             /* per_agent */
  int64_t agent_ttl_ms;      /* agent_ttl */
  int64_t hr_ttl_ms;         /* hr_ttl */
  int util_logged_in;        /* utilization.basis == logged_in */
  int64_t tol_start_ms;      /* adherence.start_tolerance */
  int64_t tol_end_ms;        /* adherence.end_tolerance */
  double w_aht, w_fcr, w_qa; /* proficiency.weight.* */
  int qa_auto_fail;          /* proficiency.qa_auto_fail */
  int hc_daily_mean;         /* attrition.headcount == daily_mean */
  int64_t interval_ms;       /* host interval length */
} wf_config;

/* Every option the plugin accepts (the descriptor's option_map). */
extern const ks_option wf_option_map[];
/* Read and validate every option; KS_EINVAL with the first bad value in
 * errstr (or logged by the host's reader). */
int wf_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, wf_config *cfg, char *errstr,
                   size_t errstr_size);

/* ---- state records ------------------------------------------------------- */

/* One published schedule segment. */
typedef struct wf_seg {
  int64_t start_ms;
  int64_t end_ms;
  uint64_t sched_hash; /* FNV-1a of schedule_id */
  int32_t revision;
  uint8_t activity;
  uint8_t paid;
  uint8_t used;
  uint8_t pad;
} wf_seg;

/* Proficiency inputs of one UTC day. */
typedef struct wf_day {
  int64_t day_start;
  int64_t handle_ms; /* on contact + after-contact work (state time) */
  int64_t handled;   /* AfterContactWorkEnded of the agent */
  int64_t resolved;  /* ... with resolved = true */
  double qa_sum;     /* sum of evaluation scores (0..1) */
  int64_t qa_n;
  uint32_t used;
  uint32_t pad;
} wf_day;

#define AG_STATE 0x1u /* a state is known */

typedef struct wf_agent {
  int64_t state_since; /* start of the current state */
  int64_t accrued_to;  /* the current state is accrued up to here */
  int32_t state;       /* Kpistream__V1__AgentState */
  int32_t aux;         /* Kpistream__V1__AuxReason, with AGENT_AUX */
  uint32_t flags;
  uint32_t recent_next;
  uint64_t recent[WF_RECENT]; /* hashes of recent ACW/QA event ids */
  char team[WF_TEAM];
  wf_seg seg[WF_SEGS];
  wf_day day[2];
} wf_agent;

/* Interval accumulators of one agent (milliseconds). */
typedef struct wf_acc {
  int64_t logged_in;
  int64_t available;
  int64_t on_contact;
  int64_t acw;
  int64_t aux[WF_NAUX];
  int64_t adh_in;            /* in the scheduled state, outside the tolerance zones */
  int64_t onq_in_sched;      /* on queue during paid scheduled on-queue time */
  int64_t unpl_aux[WF_NAUX]; /* in aux (by reason) during paid scheduled on-queue time */
  int64_t prod_paid;         /* productive (utilization.basis) during paid segments */
  char team[WF_TEAM];
} wf_acc;

/* What the schedule says about one interval (milliseconds). */
typedef struct wf_sched {
  int64_t scheduled;         /* every segment */
  int64_t paid;              /* paid segments */
  int64_t paid_act[WF_NACT]; /* paid, by activity */
  int64_t onq;               /* on-queue segments, paid or not (conformance) */
  int64_t adh;               /* adherence-relevant segments */
  int64_t tol_credit;        /* ... inside the start/end tolerance zones */
} wf_sched;

/* Attrition inputs of one UTC month. */
typedef struct wf_month {
  int64_t month_start;
  int64_t opening; /* headcount when the month began */
  int64_t hires;
  int64_t seps[3];   /* by SeparationKind: unspecified, voluntary, involuntary */
  int64_t daily_sum; /* headcount sampled at each day close */
  int64_t daily_n;
  uint32_t used;
  uint32_t opening_known;
} wf_month;

#define WF_HR_RECENT 16

typedef struct wf_hr {
  int64_t hc; /* running headcount: last snapshot + hires - separations */
  uint32_t hc_known;
  uint32_t recent_next;
  uint64_t recent[WF_HR_RECENT];
  wf_month m[2];
} wf_hr;

typedef struct wf_plugin {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  wf_config cfg;
  ks_table *agents;
  ks_table *by_agent;
  ks_table *hr;
} wf_plugin;

/* ---- helpers (workforce_span.c) ------------------------------------------ */

static inline int64_t wf_min(int64_t a, int64_t b) {
  return a < b ? a : b;
}
static inline int64_t wf_max(int64_t a, int64_t b) {
  return a > b ? a : b;
}

/* Length of [a1, b1) ∩ [a2, b2). */
static inline int64_t wf_overlap(int64_t a1, int64_t b1, int64_t a2, int64_t b2) {
  int64_t d = wf_min(b1, b2) - wf_max(a1, a2);
  return d > 0 ? d : 0;
}

static inline int wf_is_on_queue_state(int state) {
  return state == KPISTREAM__V1__AGENT_STATE__AGENT_AVAILABLE ||
         state == KPISTREAM__V1__AGENT_STATE__AGENT_ON_CONTACT ||
         state == KPISTREAM__V1__AGENT_STATE__AGENT_AFTER_CONTACT_WORK;
}

static inline int wf_is_logged_in(int state) {
  return wf_is_on_queue_state(state) || state == KPISTREAM__V1__AGENT_STATE__AGENT_AUX;
}

/* Activities adherence is measured against (not leave, absence, unknown). */
int wf_adherence_relevant(int activity);

/* Add what the state span [a, b) in (state, aux) contributes to acc, judged
 * against the agent's schedule. [a, b) lies inside one interval. */
void wf_span_add(const wf_config *cfg, const wf_agent *ag, wf_acc *acc, int64_t a, int64_t b,
                 int state, int aux);

/* Add what the agent's schedule says about [s, e) to out. */
void wf_sched_add(const wf_config *cfg, const wf_agent *ag, wf_sched *out, int64_t s, int64_t e);

/* Drop segments that end at or before t. */
void wf_sched_prune(wf_agent *ag, int64_t t);

/* Store a segment, applying the revision rule. Returns 0, 1 when a later
 * revision is in force, 2 when all slots hold nearer segments. */
int wf_sched_put(wf_agent *ag, const wf_seg *g);

/* The day slot of day_start (created when free); NULL when both slots hold
 * other days. */
wf_day *wf_day_slot(wf_agent *ag, int64_t day_start, int create);

/* The month slot of month_start in h (created when free); NULL when both
 * hold other months. A new slot opens with the running headcount. */
wf_month *wf_month_slot(wf_hr *h, int64_t month_start, int create);

/* Names used in labels. */
const char *wf_activity_name(int activity);
const char *wf_aux_label(int aux);

/* ---- closers ------------------------------------------------------------- */

int wf_close_interval(wf_plugin *p, ks_task *task, const ks_interval *iv);
int wf_close_day(wf_plugin *p, ks_task *task, int64_t day_start);
int wf_sample_headcount(wf_plugin *p, ks_task *task, int64_t day_start);
int wf_close_month(wf_plugin *p, ks_task *task, int64_t month_start);

/* ---- emitting (workforce_emit.c) ------------------------------------------ */

typedef struct wf_emitter {
  wf_plugin *p;
  ks_emitter em; /* task, the result's dimensions */
  ks_label labels[2];
} wf_emitter;

/* Start results for [start, end) and dimensions tenant / team / agent
 * (team and agent may be ""); a team-level result (agent "" and team set)
 * carries the label team=<team> so that it keys apart from the tenant's. */
void wf_em_dims(wf_emitter *e, int64_t start, int64_t end, const char *tenant, const char *team,
                const char *agent, int team_level);
/* Add a reason=<reason> label to the next results (NULL removes it). */
void wf_em_reason(wf_emitter *e, const char *reason);

static inline double wf_sec(int64_t ms) {
  return (double)ms / 1000.0;
}

/* A stored name holds any identifier the host passes (plugin.h, KS_ID_MAX). */
_Static_assert(WF_TEAM >= KS_ID_MAX + 1, "WF_TEAM must hold KS_ID_MAX bytes");

#endif
