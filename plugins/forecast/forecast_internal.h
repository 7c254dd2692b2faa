/*
 * forecast plugin — internal declarations shared by its source files. Not
 * part of the SDK. Formulas and options: docs/metrics-forecast.md.
 *
 * State layout (all host-owned, fixed-size, pointer-free records):
 *
 *   contacts   KEYED (tenant, contact_id), TTL contact_ttl
 *              queues the contact was offered to (offered once per contact
 *              and queue) and up to FC_LEGS agent legs (answer time, wrap-up).
 *   agents     KEYED (tenant, agent_id), TTL agent_ttl
 *              current state, since when, how far its logged-in time has
 *              been credited to intervals, the dims its events carry.
 *   forecasts  KEYED (tenant, channel, queue, host interval start),
 *              TTL forecast_ttl: the forecast in force for one host interval
 *              (parts of one publication), removed when the interval closes.
 *   queues     KEYED (tenant, channel, queue), TTL max(history_ttl,
 *              forecast_ttl): day accumulators (accuracy, peak) and a ring of
 *              8 days of offered volumes per interval (trend).
 *   by_dims    WINDOWED (tenant, channel, queue): offered, handled, handle
 *              time and agent presence of the interval.
 */
#ifndef KS_FORECAST_INTERNAL_H
#define KS_FORECAST_INTERNAL_H

#include "kpistream/plugin.h"
#include "kpistream/service_level.h"

#define FC_PLUGIN_NAME    "forecast"
#define FC_PLUGIN_VERSION "1.0.0"
#define FC_STATE_VERSION  1

#define FC_DAY_MS       INT64_C(86400000)
#define FC_HISTORY_DAYS 8
#define FC_MAX_AGENTS   1000000 /* Erlang C search limit */

/* ---- configuration ------------------------------------------------------ */

typedef enum fc_basis { FC_BASIS_ACTUAL = 0, FC_BASIS_FORECAST } fc_basis;
typedef enum fc_compare { FC_CMP_LOGGED_IN = 0, FC_CMP_ON_QUEUE } fc_compare;
typedef enum fc_peak { FC_PEAK_ERLANGS = 0, FC_PEAK_OFFERED } fc_peak;

typedef struct fc_config {
  double sl_target;      /* service_level.target, share (0, 1) */
  ks_sl_thresholds sl_t; /* service_level.threshold[.voice|.chat|.email] */
  int64_t max_asa_ms;    /* max_asa, 0 = off */
  double max_occupancy;  /* max_occupancy, share (0, 1] */
  double shrinkage;      /* shrinkage, share [0, 1) */
  fc_basis basis;        /* staffing_basis */
  fc_compare compare;    /* staffing_compare */
  fc_peak peak_by;       /* peak_by */
  int64_t contact_ttl_ms;
  int64_t agent_ttl_ms;
  int64_t forecast_ttl_ms;
  int64_t history_ttl_ms;
  int64_t interval_ms;    /* host interval length */
  uint32_t n_slots;       /* history ring: FC_HISTORY_DAYS of intervals */
  uint32_t slots_per_day; /* intervals per day */
} fc_config;

/* Every option the plugin accepts (the descriptor's option_map). */
extern const ks_option fc_option_map[];
/* Read and validate every option; KS_EINVAL with the first bad value in
 * errstr (or logged by the host's reader). */
int fc_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, fc_config *cfg, char *errstr,
                   size_t errstr_size);

/* ---- state records -------------------------------------------------------- */

#define FC_NAME_MAX 48 /* stored queue names */
#define FC_QSLOTS   4  /* queues remembered per contact */
#define FC_LEGS     3  /* agent legs remembered per contact */
#define FC_MAXPARTS 12 /* forecast parts per host interval */

/* fc_leg.flags */
#define L_USED     0x1u
#define L_ANSWERED 0x2u
#define L_HANDLED  0x4u
#define L_PENDING  0x8u /* wrap-up seen before the answer */

typedef struct fc_leg {
  uint64_t agent_hash;
  int64_t answered_ms;
  int64_t acw_ms; /* wrap-up end, with L_PENDING */
  int64_t acw_iv; /* its interval, with L_PENDING */
  uint32_t flags;
  uint32_t pad;
} fc_leg;

/* fc_contact.flags */
#define C_HAS_AGENT 0x1u

typedef struct fc_contact {
  uint32_t flags;
  int32_t channel;
  uint8_t next_q;
  uint8_t next_leg;
  uint8_t pad[6];
  uint64_t last_agent;       /* hash of the last answering agent */
  uint64_t qhash[FC_QSLOTS]; /* queues offered to (0 = free) */
  fc_leg legs[FC_LEGS];      /* agent legs */
  char queue[FC_NAME_MAX];   /* current queue, for events that omit it */
} fc_contact;

/* fc_agent.flags */
#define A_SEEN 0x1u

typedef struct fc_agent {
  int64_t since_ms;    /* time of the state in force */
  int64_t credited_ms; /* logged-in time is credited to intervals up to here */
  int32_t state;       /* Kpistream__V1__AgentState */
  int32_t channel;     /* dims of the agent's events (0 = none) */
  uint32_t flags;
  uint32_t pad;
  char queue[FC_NAME_MAX]; /* "" = none */
} fc_agent;

typedef struct fc_part {
  int64_t fc_start;     /* start of the forecast interval it came from */
  int64_t published_ms; /* event time of the ForecastPublished */
  double offered;       /* share of the forecast volume in this host interval */
  double work_s;        /* offered x forecast AHT, seconds */
} fc_part;

/* fc_fcst.flags */
#define F_USED 0x1u

typedef struct fc_fcst {
  uint64_t fid;         /* hash of the forecast_id in force */
  int64_t published_ms; /* latest publication time seen for it */
  uint32_t flags;
  uint32_t n_parts;
  fc_part parts[FC_MAXPARTS];
} fc_fcst;

/* fc_day.flags */
#define D_PEAK      0x1u /* a peak interval is set */
#define D_PEAK_WORK 0x2u /* its traffic is known */

typedef struct fc_day {
  double vol_abs;    /* Σ |A − F| over intervals with a forecast */
  double vol_act;    /* Σ A */
  double vol_signed; /* Σ (F − A) */
  double vol_ape;    /* Σ |A − F| / A over intervals with A > 0 */
  int64_t vol_ape_n;
  int64_t n_fc; /* intervals with a forecast */
  double aht_abs;
  double aht_act;
  double aht_signed;
  double aht_ape;
  int64_t aht_ape_n;
  int64_t aht_n; /* intervals with both AHTs known */
  int64_t peak_iv;
  double peak_offered;
  double peak_work_s;
  uint32_t flags;
  uint32_t pad;
} fc_day;

/* fc_queue.flags */
#define Q_CLOSED 0x1u /* closed_iv is set */

/* One slot of the volume history ring. */
typedef struct fc_slot {
  int32_t iv_no;   /* interval start / interval length; 0 = empty */
  int32_t offered; /* contacts offered in it */
} fc_slot;

/* Registry record of a queue; the history ring (cfg.n_slots fc_slot)
 * follows it in the same record. */
typedef struct fc_queue {
  int64_t day_start; /* day the accumulators belong to */
  int64_t closed_iv; /* last interval processed (with Q_CLOSED) */
  uint32_t flags;
  uint32_t pad;
  fc_day day;
} fc_queue;

static inline fc_slot *fc_queue_ring(fc_queue *q) {
  return (fc_slot *)(void *)(q + 1);
}

/* by_dims.flags */
#define W_PRESENCE 0x1u

typedef struct fc_win {
  int64_t offered;
  int64_t handled;
  int64_t handle_ms;
  int64_t logged_ms; /* agent-milliseconds logged in */
  int64_t onq_ms;    /* agent-milliseconds on queue */
  uint32_t flags;
  uint32_t pad;
} fc_win;

/* ---- the plugin ------------------------------------------------------------ */

typedef struct fc_plugin {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  fc_config cfg;
  ks_table *contacts;
  ks_table *agents;
  ks_table *forecasts;
  ks_table *queues;
  ks_table *by_dims;
} fc_plugin;

/* ---- helpers ---------------------------------------------------------------- */

/* The interval's by_dims record (created), or NULL when closed / no memory. */
static inline fc_win *fc_win_get(fc_plugin *p, ks_task *task, int64_t iv, const ks_key *dk) {
  return p->api->window_get(task, p->by_dims, iv, dk->buf, dk->len, 1);
}

/* ---- event handlers (forecast_contacts.c, forecast_agents.c,
 *      forecast_publish.c) ------------------------------------------------------ */

int fc_on_contact(fc_plugin *p, ks_task *task, const ks_event *ev);
int fc_on_agent_state(fc_plugin *p, ks_task *task, const ks_event *ev);
int fc_on_forecast(fc_plugin *p, ks_task *task, const ks_event *ev);

/* The forecast for host interval iv of the queue with dims key dk: sums its
 * parts into *offered and *work_s, removes the record and returns the
 * number of parts (0: no forecast). */
int fc_forecast_take(fc_plugin *p, ks_task *task, const ks_key *dk, int64_t iv, double *offered,
                     double *work_s);

/* ---- interval close (forecast_close.c, forecast_rows.c, forecast_queue.c,
 *      forecast_emit.c) ---------------------------------------------------------- */

/* fc_row.flags */
#define R_PRESENCE 0x1u /* agent data known for these dims */
#define R_QUEUE    0x2u /* a queue-level row (queue part non-empty) */

/* One (tenant, channel, queue) of the closing interval, in plugin memory
 * for the duration of on_interval_close only. */
typedef struct fc_row {
  ks_key key;
  fc_queue *reg; /* the queue's registry record (queue rows) */
  int64_t offered;
  int64_t handled;
  int64_t handle_ms;
  int64_t logged_ms;
  int64_t onq_ms;
  int64_t agents_now; /* agents logged in at the interval's end */
  uint32_t flags;
  uint32_t req_unknown; /* a required figure below it is unknown */
  double req_agents;    /* Erlang C requirement (net) */
  double req_staff;     /* grossed up for shrinkage */
} fc_row;

typedef struct fc_rows {
  const ks_host_api *api;
  fc_row *v;
  size_t n;
  size_t cap;
  int oom;
} fc_rows;

/* Append a zeroed row for key (NULL when out of memory; sets oom). */
fc_row *fc_rows_add(fc_rows *r, const void *key, size_t keylen);
/* Sort by key and merge rows with equal keys (sums, flags, reg). */
void fc_rows_merge(fc_rows *r);
/* The row for key in a merged list, or NULL. */
fc_row *fc_rows_find(const fc_rows *r, const void *key, size_t keylen);
void fc_rows_free(fc_rows *r);

/* Agent presence up to the interval's end, added to rows. */
int fc_agents_close(fc_plugin *p, ks_task *task, const ks_interval *iv, fc_rows *rows);

typedef struct fc_emitter {
  fc_plugin *p;
  ks_emitter em; /* task, the result's dimensions */
} fc_emitter;

/* Set tenant, channel and queue of the results from a dims key. */
int fc_em_dims(fc_emitter *e, const ks_key *k);
/* required_agents, required_staff, logged_in/on_queue agents and the gap. */
void fc_em_staffing(fc_emitter *e, const fc_row *row, double len_s);

/* Process one queue row of the closing interval: forecast, accuracy,
 * trend, traffic, staffing and the day's rollup (emitted at day end). */
void fc_queue_close(fc_emitter *e, fc_row *row, const ks_interval *iv);

int fc_on_interval_close(void *data, ks_task *task, const ks_interval *iv);

/* A stored name holds any identifier the host passes (plugin.h, KS_ID_MAX). */
_Static_assert(FC_NAME_MAX >= KS_ID_MAX + 1, "FC_NAME_MAX must hold KS_ID_MAX bytes");

#endif
