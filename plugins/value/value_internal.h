/*
 * value plugin — internal declarations shared by value*.c. Not part of the
 * SDK.
 *
 * State layout (all host-owned, fixed-size, pointer-free records):
 *
 *   contacts   KEYED (tenant, contact_id), TTL contact_ttl
 *              start time, customer, queue and the agents whose leg is
 *              handled (the operations "handled" unit, de-duplicated).
 *   customers  KEYED (tenant, hash(customer_id)), TTL conversion.window
 *              the customer's last handled contact (its start, handled time
 *              and dimensions) and an order/registration still waiting for
 *              a contact (out-of-order input, sale during the contact).
 *   offers     KEYED (tenant, offer_id), TTL nba.ttl
 *              a next-best-action offer (dimensions, action) and its reaction.
 *   dedupe     KEYED (kind, tenant, id), TTL dedupe_window
 *              order ids and registered customer ids already counted.
 *   cost_lines KEYED (tenant, channel, queue, kind, cost center, category,
 *              period), TTL period state TTL: the amount last applied, so a
 *              repeated line replaces the earlier one instead of adding up.
 *   cost_periods KEYED (tenant, channel, queue, type, name, period start)
 *              per cost period (day/week/month) and scope: fixed, variable,
 *              budget, handled contacts; type T (total), C (category), K
 *              (cost center).
 *   cust_periods KEYED (tenant, segment, period start): customer base
 *              snapshots (S, E), registrations (N), orders, revenue, margin,
 *              distinct buyers, per customer period.
 *   buyers     KEYED (tenant, segment, period start, hash(customer)): the
 *              customer already counted as a buyer in that period.
 *   by_dims    WINDOWED (tenant, channel, queue, agent, action): interval
 *              aggregates (handled, conversions, revenue, registrations,
 *              next-best-action offers and reactions).
 *
 * Record pointers are valid only until the next state call on the task, so
 * every handler finishes with one record before asking for the next.
 */
#ifndef KS_VALUE_INTERNAL_H
#define KS_VALUE_INTERNAL_H

#include "kpistream/plugin.h"

#define VA_PLUGIN_NAME    "value"
#define VA_PLUGIN_VERSION "1.0.0"
#define VA_STATE_VERSION  2 /* 2: va_cperiod.n_fixed, n_variable */

#define VA_NAME_MAX 48 /* stored queue/agent/action names */
#define VA_LEGS     4  /* handled agent legs remembered per contact */

#define VA_DAY_MS INT64_C(86400000)
/* Parts of a cost or budget record for periods starting later than this
 * after its event time are dropped (state for them would be kept too long). */
#define VA_LOOKAHEAD_MS (62 * VA_DAY_MS)
/* At most this many periods per cost or budget record (a year of days). */
#define VA_MAX_PERIODS 400

/* ---- configuration ------------------------------------------------------ */

typedef enum va_period {
  VA_PERIOD_DAY = 0,
  VA_PERIOD_WEEK, /* ISO week, Monday 00:00 UTC */
  VA_PERIOD_MONTH,
  VA_PERIOD_YEAR
} va_period;

typedef enum va_per_agent {
  VA_AGENT_OFF = 0,
  VA_AGENT_ALL,     /* tenant x agent */
  VA_AGENT_CHANNEL, /* tenant x channel x agent */
  VA_AGENT_QUEUE    /* tenant x channel x queue x agent */
} va_per_agent;

typedef struct va_config {
  va_per_agent per_agent;          /* per_agent */
  int64_t contact_ttl_ms;          /* contact_ttl */
  int64_t conv_window_ms;          /* conversion.window */
  int nba_over_responded;          /* nba.rate_denominator == accepted_plus_rejected */
  int64_t nba_ttl_ms;              /* nba.ttl */
  va_period cost_period;           /* cost.period */
  int cost_per_leg;                /* cost.per == legs (default: contacts) */
  va_period cust_period;           /* customer_period */
  int64_t settle_ms;               /* period_settle */
  char total_segment[VA_NAME_MAX]; /* total_segment */
  double lifespan_years;           /* clv.lifespan_years */
  int lifespan_from_retention;     /* clv.lifespan_source == retention */
  double margin;                   /* clv.margin */
  int margin_from_orders;          /* clv.margin_source == order */
  int64_t dedupe_ms;               /* dedupe_window, 0 = off */
  int64_t interval_ms;             /* host interval length */
} va_config;

/* Every option the plugin accepts (the descriptor's option_map). */
extern const ks_option va_option_map[];
/* Read and validate every option; KS_EINVAL with the first bad value in
 * errstr (or logged by the host's reader). */
int va_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, va_config *cfg, char *errstr,
                   size_t errstr_size);

typedef struct va_plugin {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  va_config cfg;
  ks_table *contacts;
  ks_table *customers;
  ks_table *offers;
  ks_table *dedupe;
  ks_table *cost_lines;
  ks_table *cost_periods;
  ks_table *cust_periods;
  ks_table *buyers;
  ks_table *by_dims;
} va_plugin;

/* ---- state records -------------------------------------------------------- */

#define VC_START    0x01u /* start_ms is known */
#define VC_CUSTOMER 0x02u /* customer_hash is known */

typedef struct va_contact {
  int64_t start_ms;
  uint64_t customer_hash;
  uint64_t legs[VA_LEGS]; /* va_leg_id of handled legs (wrap-ups) */
  uint32_t flags;
  uint32_t n_legs;
  char queue[VA_NAME_MAX];
} va_contact;

#define CU_LAST       0x01u /* start_ms/handled_ms/dims describe the last contact */
#define CU_CONVERTED  0x02u /* the last contact is credited with a sale */
#define CU_REGISTERED 0x04u /* ... with a registration */
#define CU_PEND_ORDER 0x08u /* order_ms/order_amount wait for a contact */
#define CU_PEND_REG   0x10u /* reg_ms waits for a contact */

typedef struct va_customer {
  int64_t start_ms;
  int64_t handled_ms;
  uint64_t contact_hash;
  int64_t order_ms;
  double order_amount;
  int64_t reg_ms;
  uint32_t flags;
  int32_t channel;
  char queue[VA_NAME_MAX];
  char agent[VA_NAME_MAX];
} va_customer;

#define OF_OFFERED 0x01u
#define OF_REACTED 0x02u

typedef struct va_offer {
  int64_t offer_ms;
  int64_t react_ms;
  uint32_t flags;
  int32_t reaction;
  int32_t channel;
  uint32_t pad;
  char queue[VA_NAME_MAX];
  char agent[VA_NAME_MAX];
  char action[VA_NAME_MAX];
} va_offer;

typedef struct va_seen {
  int64_t first_ms;
} va_seen;

typedef struct va_line {
  double amount; /* amount applied to the periods */
  int64_t event_ms;
  uint32_t seen;
  uint32_t pad;
} va_line;

#define CP_COST    0x01u
#define CP_BUDGET  0x02u
#define CP_EMITTED 0x04u

/* cost_periods key type byte */
#define CP_TOTAL    'T'
#define CP_CATEGORY 'C'
#define CP_CENTER   'K'

typedef struct va_cperiod {
  int64_t start_ms;
  int64_t end_ms;
  double fixed;
  double variable;
  double other; /* cost of unspecified kind */
  double budget;
  int64_t handled;
  int64_t n_cost;     /* cost records of every kind (count of operating_cost) */
  int64_t n_fixed;    /* ... COST_FIXED (count of fixed_cost) */
  int64_t n_variable; /* ... COST_VARIABLE (count of variable_cost) */
  int64_t n_budget;   /* budget records (count of budget) */
  uint32_t flags;
  uint32_t pad;
} va_cperiod;

#define UP_S_KNOWN 0x01u /* opening snapshot known */
#define UP_S_EXACT 0x02u /* ... taken at the period start exactly */
#define UP_E_KNOWN 0x04u /* closing snapshot known */
#define UP_BASE    0x08u /* snapshots or registrations seen: emit retention */
#define UP_ORDERS  0x10u /* orders seen: emit CLV */
#define UP_EMITTED 0x20u

typedef struct va_uperiod {
  int64_t start_ms;
  int64_t end_ms;
  int64_t s_value, s_ms;
  int64_t e_value, e_ms;
  int64_t regs;       /* registrations in the period */
  int64_t regs_early; /* ... of them before the opening snapshot */
  int64_t orders;
  int64_t orders_cust; /* orders with a customer id */
  double revenue;
  double gross_cust; /* sum of amount x margin over orders_cust */
  int64_t customers; /* distinct buyers */
  uint32_t flags;
  uint32_t pad;
} va_uperiod;

#define IA_CONV 0x01u /* contact/conversion data: emit conversion metrics */
#define IA_NBA  0x02u /* next-best-action data: emit NBA metrics */

typedef struct va_iagg {
  int64_t handled;
  int64_t converted;
  int64_t registrations;
  int64_t orders; /* orders attributed */
  double revenue;
  int64_t nba_offered;
  int64_t nba_accepted;
  int64_t nba_rejected;
  int64_t nba_ignored;
  uint32_t flags;
  uint32_t pad;
} va_iagg;

/* ---- helpers (value_time.c) ---------------------------------------------- */

/* Identity of a handled leg: its agent and wrap-up time (a redelivered
 * wrap-up has both; the same agent's next leg wraps up later). Never 0. */
static inline uint64_t va_leg_id(const char *agent, int64_t wrapup_ms) {
  return (ks_fnv1a(agent) ^ ((uint64_t)wrapup_ms * UINT64_C(0x9e3779b97f4a7c15))) | 1u;
}

/* Start of the UTC calendar period holding t, and the start of the next. */
int64_t va_period_start(va_period p, int64_t t);
int64_t va_period_next(va_period p, int64_t start);
/* The end of the interval whose close emits a period ending at end_ms. */
int64_t va_due_end(const va_config *cfg, int64_t end_ms);
/* Whether the close of an interval ending at iv_end may emit periods. */
int va_period_boundary_near(const va_config *cfg, va_period p, int64_t iv_end);
/* State TTL of period tables. */
int64_t va_period_ttl(const va_config *cfg, va_period p);
/* Periods per year (day 365, week 52, month 12, year 1). */
double va_periods_per_year(va_period p);

/* Scope levels of an envelope: (ch, q), (ch, ""), (0, "") without repeats.
 * Returns how many were written (1..3). */
typedef struct va_scope {
  int channel;
  const char *queue;
} va_scope;
int va_scopes(int channel, const char *queue, va_scope out[3]);

/* Segment of a body: "" for the total (empty or total_segment). */
const char *va_segment(const va_config *cfg, const char *seg);

/* ---- emitting (value.c) ----------------------------------------------------- */

typedef struct va_emitter {
  va_plugin *p;
  ks_emitter em; /* task, the result's dimensions */
  ks_label label;
  int64_t iv_end; /* end of the interval being closed */
  char lkey[32];
  char lvalue[KS_KEY_MAX];
} va_emitter;

/* Set (or with key NULL clear) the one label of the next results. */
void va_em_label(va_emitter *e, const char *key, const char *value);

/* ---- event handlers ---------------------------------------------------------- */

/* value_conv.c: contacts, conversions, registrations attributed, NBA. */
int va_on_contact_start(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_acw_ended(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_order_conv(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_registration_conv(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_nba_offer(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_nba_reaction(va_plugin *p, ks_task *task, const ks_event *ev);
int va_emit_interval(va_emitter *e, int64_t iv_start);
/* First time (tenant, id) of this kind is seen within dedupe_window? 1 yes,
 * 0 a repeat, < 0 an error. */
int va_first_seen(va_plugin *p, ks_task *task, char kind, const char *tenant, const char *id,
                  int64_t t);

/* value_cost.c: cost and budget records, handled contacts per cost period. */
int va_on_cost(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_budget(va_plugin *p, ks_task *task, const ks_event *ev);
int va_cost_handled(va_plugin *p, ks_task *task, const char *tenant, int channel, const char *queue,
                    int64_t t);
int va_emit_cost_periods(va_emitter *e);

/* value_base.c: customer base, retention, CLV. */
int va_on_snapshot(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_registration_base(va_plugin *p, ks_task *task, const ks_event *ev);
int va_on_order_base(va_plugin *p, ks_task *task, const ks_event *ev);
int va_emit_cust_periods(va_emitter *e);

/* A stored name holds any identifier the host passes (plugin.h, KS_ID_MAX). */
_Static_assert(VA_NAME_MAX >= KS_ID_MAX + 1, "VA_NAME_MAX must hold KS_ID_MAX bytes");

#endif
