/*
 * sim_internal — private types of the simulator (sim_model.c, sim_util.c,
 * sim_contacts.c, sim_talk.c, sim_agents.c, sim_business.c, sim_emit.c). Not
 * part of any public API.
 *
 * Structure: the model is a discrete-event simulation. Internal actions
 * (sim_item) wait in one binary min-heap ordered by (time, tenant, per-tenant
 * sequence). Processing an action at time T may schedule later actions and
 * emits output records (sim_out), all stamped T, into a FIFO ring; the
 * public ks_sim_next() drains that FIFO and turns one record at a time into
 * a kpistream.v1.Event held in model-owned scratch storage. Because actions
 * run in time order and every output carries its action's time, the output
 * is in non-decreasing event time.
 *
 * Determinism: each tenant has its own xoshiro256** generator and its own
 * sequence counters, and a tenant's actions are ordered only among
 * themselves by (time, sequence), so a tenant's events do not depend on the
 * other tenants. Pool indices (contact slots, heap positions) never reach
 * the output.
 */
#ifndef KS_SIM_INTERNAL_H
#define KS_SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kpistream/plugin.h"
#include "sim_model.h"

#define SIM_NIL        UINT32_MAX
#define SIM_NONE8      0xFFu
#define SIM_SEC        INT64_C(1000)
#define SIM_MIN        INT64_C(60000)
#define SIM_HOUR       INT64_C(3600000)
#define SIM_DAY        INT64_C(86400000)
#define SIM_NEVER      INT64_MAX
#define SIM_AGENT_BOT  UINT32_MAX /* agent_no of the chat/email bot: "bot" */
#define SIM_REPEAT_CAP 8192       /* entries of each call-back list of a tenant */
#define SIM_MAX_SEGS   10         /* schedule segments of one shift */

/* ---- teams ------------------------------------------------------------------ */

enum { SIM_TEAM_VOICE_SALES = 0, SIM_TEAM_VOICE_CARE, SIM_TEAM_DIGITAL, SIM_NTEAMS };
enum { SIM_CC_VOICE = 0, SIM_CC_DIGITAL, SIM_NCC }; /* cost centers */

/* ---- PRNG: xoshiro256**, seeded through splitmix64 (sim_util.c) ------------- */

typedef struct sim_rng {
  uint64_t s[4];
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(sim_rng *r);
double sim_unif(sim_rng *r);                              /* [0, 1) */
uint32_t sim_below(sim_rng *r, uint32_t n);               /* [0, n), n > 0 */
int sim_chance(sim_rng *r, double p);                     /* 1 with probability p */
double sim_exp(sim_rng *r, double mean);                  /* exponential */
double sim_normal(sim_rng *r);                            /* standard normal */
double sim_lognormal(sim_rng *r, double mean, double cv); /* mean and coefficient of variation */
int sim_pick(sim_rng *r, const double *w, int n);         /* index by weight */
int64_t sim_ms(double seconds);                           /* seconds -> ms, rounded */

/* ---- codes carried by output records (strings in sim_emit.c) ---------------- */

enum { SIM_WRAP_RESOLVED = 0, SIM_WRAP_FOLLOW_UP, SIM_WRAP_TRANSFER, SIM_WRAP_ESCALATED };
enum {
  SIM_DISP_RESOLVED = 0,
  SIM_DISP_FOLLOW_UP,
  SIM_DISP_CALLBACK,
  SIM_DISP_TRANSFERRED,
  SIM_DISP_ESCALATED
};
enum {
  SIM_DET_NONE = 0,
  SIM_DET_MISSED_OFFER,
  SIM_DET_NETWORK,
  SIM_DET_CRM_DOWN,
  SIM_DET_PERSONAL,
  SIM_DET_SCHEDULED
};
#define SIM_NTIERS          2 /* tier2, supervisor */
#define SIM_NESC_REASONS    4
#define SIM_NNBA_ACTIONS    5
#define SIM_NCOMPLAINT_CATS 5
#define SIM_NREASONS        14 /* sim_reason_codes */

/* ---- internal actions --------------------------------------------------------- */

typedef enum sim_kind {
  SIM_K_DAY = 0,       /* plan and publish a day (tenant) */
  SIM_K_ARRIVAL,       /* candidate arrival on queue q (thinning) */
  SIM_K_ORGANIC,       /* candidate organic order / registration (thinning) */
  SIM_K_BOT_DONE,      /* chat bot finished: a = contact slot, b = gen */
  SIM_K_PATIENCE,      /* a = contact slot, b = gen, c = wait token */
  SIM_K_RING_END,      /* a = agent slot, b = leg token */
  SIM_K_TALK_STEP,     /* a = agent slot, b = leg token, c = sim_step */
  SIM_K_TALK_END,      /* a = agent slot, b = leg token */
  SIM_K_ACW_END,       /* a = agent slot, b = leg token */
  SIM_K_SEG,           /* a = agent slot, b = shift token, c = segment index */
  SIM_K_ABSENCE,       /* a = agent slot, b = shift token: publish revision 2 */
  SIM_K_UNPLANNED,     /* a = agent slot, b = shift token, c = aux reason, x = ms */
  SIM_K_UNPLANNED_END, /* a = agent slot, b = unplanned token */
  SIM_K_SURVEY,        /* follow-ups: x = contact no, c = customer, a = agent no, */
  SIM_K_COMPLAINT,     /*   q = queue, b = sim_followup bits */
  SIM_K_QA,
  SIM_K_REOPEN,
  SIM_K_EMAIL_PICKUP, /* a = contact slot, b = gen, c = wait token */
  SIM_NKINDS
} sim_kind;

/* Steps inside a conversation (SIM_K_TALK_STEP c). */
enum {
  SIM_STEP_HOLD_START = 0,
  SIM_STEP_HOLD_END,
  SIM_STEP_RESPONSE,
  SIM_STEP_NOTE,
  SIM_STEP_ESCALATE,
  SIM_STEP_NBA
};

/* Follow-up bits (b of SURVEY/COMPLAINT/QA/REOPEN). */
#define SIM_FU_RESOLVED      0x1u
#define SIM_FU_ESCALATED     0x2u
#define SIM_FU_TRANSFERRED   0x4u
#define SIM_FU_WAIT_SHIFT    8  /* wait in seconds, capped at 0xFFFF, bits 8..23 */
#define SIM_FU_QUALITY_SHIFT 24 /* agent quality 0..200, bits 24..31 */

typedef struct sim_item {
  int64_t t;
  uint64_t seq; /* per tenant */
  uint8_t kind, tenant, q, flags;
  uint32_t a, b, c;
  uint64_t x;
} sim_item;

/* ---- output records ------------------------------------------------------------ */

typedef struct sim_out {
  int64_t t;
  uint64_t ev_no;                       /* per tenant, for event_id */
  uint64_t contact_no;                  /* 0: none */
  uint32_t customer_no;                 /* 0: none */
  uint32_t agent_no;                    /* 0: none; SIM_AGENT_BOT: "bot" */
  uint8_t tenant, channel, queue, team; /* queue/team SIM_NONE8: none */
  uint8_t body;                         /* Kpistream__V1__Event__BodyCase */
  uint8_t topic;                        /* ks_sim_topic */
  union {
    struct {
      int32_t priority;
      uint8_t reason, callback;
    } queued;
    struct {
      int64_t ring_ms;
      uint8_t accepted;
    } offered;
    struct {
      uint8_t is_bot, is_public;
    } resp;
    struct {
      uint8_t to_queue, type;
    } xfer;
    struct {
      uint8_t tier, reason;
    } esc;
    struct {
      uint8_t stage;
    } aband;
    struct {
      uint8_t party;
    } ended;
    struct {
      uint8_t wrap, disp, reason, resolved;
    } acw;
    struct {
      uint8_t reason;
    } created;
    struct {
      uint8_t state, aux, detail;
    } astate;
    struct {
      int64_t start, end;
      uint32_t day;
      uint8_t activity, paid, revision;
    } sched;
    struct {
      int64_t start;
      double offered, aht_s, required;
      uint32_t day;
      int32_t len_s;
    } fc;
    struct {
      int32_t headcount;
      uint8_t type, sep;
    } hr;
    struct {
      double amount;
      int64_t start, end;
      uint8_t cc, kind, category;
    } cost;
    struct {
      double amount;
      int64_t start, end;
      uint8_t cc;
    } budget;
    struct {
      int64_t active;
      uint8_t segment;
    } base;
    struct {
      uint64_t no;
      int32_t score, min, max;
      uint8_t type, lower_better;
    } survey;
    struct {
      double overall, start, end, magnitude;
      uint8_t has_se;
    } senti;
    struct {
      uint64_t no, seed;
      uint8_t form, evaluator, quality, na_sales;
    } qa;
    struct {
      uint8_t category, severity;
    } complaint;
    struct {
      uint64_t no;
      double amount, margin;
      uint8_t segment;
    } order;
    struct {
      uint8_t segment;
    } reg;
    struct {
      uint64_t no;
      uint8_t action, reaction;
    } nba;
  } u;
} sim_out;

/* ---- contacts --------------------------------------------------------------------- */

enum { SIM_C_FREE = 0, SIM_C_BOT, SIM_C_WAITING, SIM_C_RINGING, SIM_C_TALKING, SIM_C_WRAP };

#define SIM_CF_REPEAT       0x01u
#define SIM_CF_PROSPECT     0x02u
#define SIM_CF_ESCALATED    0x04u
#define SIM_CF_CALLBACK     0x08u
#define SIM_CF_REOPENED     0x10u
#define SIM_CF_NBA_ACCEPTED 0x20u

typedef struct sim_contact {
  uint64_t no; /* contact number: "<tenant>-c<no>" */
  int64_t created_ms;
  int64_t queued_ms;   /* entry into the current queue */
  int64_t deadline_ms; /* patience runs out (SIM_NEVER: never) */
  int64_t wait_ms;     /* time waited over all queues so far */
  uint32_t customer;
  uint32_t gen;        /* bumped on release: stale actions are ignored */
  uint32_t prev, next; /* queue FIFO links; next links the free list */
  uint32_t wait_token; /* bumped on each queue entry */
  uint8_t tenant, queue, channel, state, reason, transfers, flags, pad;
} sim_contact;

/* ---- agents ---------------------------------------------------------------------- */

enum { SIM_A_OFF = 0, SIM_A_IDLE, SIM_A_AUX, SIM_A_RESERVED, SIM_A_TALK, SIM_A_ACW };
enum { SIM_WANT_OFF = 0, SIM_WANT_ONQ, SIM_WANT_AUX };
enum { SIM_SHIFT_WORK = 0, SIM_SHIFT_LEAVE, SIM_SHIFT_ABSENT };
enum { SIM_RING_ACCEPT = 0, SIM_RING_MISS, SIM_RING_ABANDON };

typedef struct sim_shift {
  int64_t start; /* 0: slot unused */
  int64_t end;
  uint32_t token;
  uint8_t status; /* SIM_SHIFT_* */
  uint8_t boff;   /* breaks shifted by boff quarter hours */
  uint8_t extra;  /* Activity of a 30-minute off-queue block, 0 none */
  uint8_t pad;
} sim_shift;

typedef struct sim_seg {
  int64_t start, end;
  uint8_t activity; /* Kpistream__V1__Activity */
  uint8_t paid;
} sim_seg;

typedef struct sim_agent {
  uint32_t no;         /* agent number: "<tenant>-a<no>" */
  uint32_t prev, next; /* idle list of the team */
  uint32_t leg_token;  /* bumped per offered leg */
  uint32_t unpl_token;
  uint32_t cslot, cgen; /* contact of the current leg */
  int64_t login_ms;
  int64_t acct_ms;      /* paid time counted up to here */
  int64_t free_ms;      /* may start a new shift from here (rest rule) */
  int64_t unpl_until;   /* unplanned aux until */
  int64_t pend_unpl_ms; /* unplanned aux waiting for the agent to be free */
  int64_t leg_start_ms; /* answered at */
  uint64_t leg_contact;
  uint64_t nba_no;
  sim_shift shift[2];
  uint32_t leg_customer;
  uint8_t tenant, team, state, in_idle;
  uint8_t ostate, oaux; /* last state published */
  uint8_t want, want_aux;
  uint8_t pend_unpl_aux, unpl_aux;
  uint8_t quality; /* 0..200: -0.1 .. +0.1 around the team */
  uint8_t leg_queue, leg_channel, leg_xfer_to, leg_outcome, leg_final;
  uint8_t leg_resolved, leg_reason, nba_action;
  uint8_t unpl_detail, pend_unpl_detail;
} sim_agent;

typedef struct sim_team {
  uint32_t first, n; /* agents [first, first + n) of the tenant */
  uint32_t idle_head, idle_tail;
  int carry[12]; /* planned shifts carried into the next day, per hour */
  uint32_t rr;   /* next agent to get a shift (round-robin = longest rested) */
  uint32_t logged_in;
} sim_team;

typedef struct sim_queue {
  uint32_t head, tail, n;
  double peak_per_hour; /* x tenant factor x rate scale */
} sim_queue;

typedef struct sim_repeat {
  int64_t ready_ms;
  uint32_t customer;
  uint8_t reason, queue, pad[2];
} sim_repeat;

typedef struct sim_tenant {
  char name[24];
  char currency[4];
  double factor;
  sim_rng rng;
  uint64_t seq, ev_no, contact_no, order_no, nba_no, survey_no, qa_no;
  uint32_t agent_no;
  uint32_t cust_lo, cust_hi; /* active customers: [lo, hi) */
  double churn_carry;
  int64_t day_start; /* current planned day */
  uint32_t shift_token;
  sim_queue q[KS_SIM_NQUEUES];
  sim_team team[SIM_NTEAMS];
  sim_agent *agents;
  uint32_t nagents;
  /* call-back lists (rings of SIM_REPEAT_CAP): [SIM_BACK_SOON] customers who
   * abandoned, [SIM_BACK_LATER] customers left unresolved; each has a fixed
   * delay, so each stays ordered by readiness */
  sim_repeat *rep[2];
  uint32_t rep_head[2], rep_n[2];
  /* accumulated for today's cost records */
  double paid_s[SIM_NCC];
  double talk_voice_s;
  double budget_hours[SIM_NCC];
  /* today's published forecast: contacts per queue and 15-minute interval */
  float fc[KS_SIM_NQUEUES][96];
} sim_tenant;

/* ---- the model --------------------------------------------------------------------- */

typedef struct sim_scratch sim_scratch; /* protobuf storage (sim_emit.c) */

struct ks_sim {
  ks_sim_options o;
  sim_tenant *tenants;
  int ntenants;
  int64_t now;
  int64_t end_ms; /* SIM_NEVER: no end */
  int done;
  /* pending actions */
  sim_item *heap;
  size_t nheap, capheap;
  /* output FIFO */
  sim_out *out;
  size_t out_head, out_n, out_cap;
  /* contact slots */
  sim_contact *contacts;
  uint32_t ncontacts, capcontacts, free_contact, live_contacts;
  ks_sim_topic cur_topic;
  ks_sim_stats st;
  sim_scratch *scr;
  int oom;
};

/* sim_util.c: calendar (UTC) */
int64_t sim_day_start(int64_t t_ms);
uint32_t sim_yyyymmdd(int64_t t_ms);

/* sim_model.c */
int sim_push(ks_sim *s, int64_t t, int kind, int tenant, int q, uint32_t a, uint32_t b, uint32_t c,
             uint64_t x);
sim_out *sim_emit(ks_sim *s, int tenant, int body); /* zeroed record stamped now; NULL: no memory */
double sim_curve(int queue, int64_t t_ms);          /* intra-day x day-of-week factor */
const char *sim_team_name(int team);
int sim_queue_team(int queue);
double sim_aht_s(int queue); /* mean handle time of a queue */
double sim_talk_mean_s(int queue);
double sim_acw_mean_s(int queue);
double sim_hold_p(int queue);

/* sim_contacts.c */
void sim_on_arrival(ks_sim *s, const sim_item *it);
void sim_on_bot_done(ks_sim *s, const sim_item *it);
void sim_on_patience(ks_sim *s, const sim_item *it);
void sim_on_email_pickup(ks_sim *s, const sim_item *it);
void sim_on_ring_end(ks_sim *s, const sim_item *it);
void sim_on_reopen(ks_sim *s, const sim_item *it);
/* A resolved e-mail or chat contact: the customer reopens it later with
 * probability options.reopen_rate (e-mail 1-24 h, chat 5 min-4 h later). */
void sim_maybe_reopen(ks_sim *s, int tenant, const sim_contact *c);
/* An idle agent looks for work; returns 1 if it took a contact. */
int sim_agent_take_work(ks_sim *s, int tenant, uint32_t agent);
void sim_contacts_free(ks_sim *s);
sim_contact *sim_contact_get(ks_sim *s, uint32_t slot, uint32_t gen); /* NULL when stale */
void sim_contact_release(ks_sim *s, uint32_t slot);
/* Enter the contact's current queue: ContactQueued, patience, routing. */
void sim_enqueue(ks_sim *s, int tenant, uint32_t slot, int reason_known, int callback);
enum { SIM_BACK_SOON = 0, SIM_BACK_LATER };
/* The customer will come back (list: SIM_BACK_*); dropped when the list is full. */
void sim_repeat_push(ks_sim *s, sim_tenant *tn, int list, uint32_t customer, int reason, int queue);
/* Output records with a contact's envelope (and agent, if a), or with the
 * envelope of the agent's current leg. */
sim_out *sim_emit_c(ks_sim *s, const sim_contact *c, int body, const sim_agent *a);
sim_out *sim_emit_leg(ks_sim *s, int tenant, const sim_agent *a, int body);
/* The agent an action is for, if its leg token and state still match. */
sim_agent *sim_leg_agent(ks_sim *s, const sim_item *it, int state);

/* sim_talk.c */
void sim_answer(ks_sim *s, int tenant, uint32_t agent); /* the offered contact is answered */
void sim_on_talk_step(ks_sim *s, const sim_item *it);
void sim_on_talk_end(ks_sim *s, const sim_item *it);
void sim_on_acw_end(ks_sim *s, const sim_item *it);

/* sim_agents.c */
int sim_agents_init(ks_sim *s, sim_tenant *tn, int tenant); /* size and create the pool */
void sim_plan_day(ks_sim *s, int tenant);                   /* staffing, shifts, schedules */
void sim_on_seg(ks_sim *s, const sim_item *it);
void sim_on_absence(ks_sim *s, const sim_item *it);
void sim_on_unplanned(ks_sim *s, const sim_item *it);
void sim_on_unplanned_end(ks_sim *s, const sim_item *it);
/* The agent is free (or its wish changed): publish the state it should be in
 * and, when available, look for work. */
void sim_agent_settle(ks_sim *s, int tenant, uint32_t agent);
void sim_agent_state(ks_sim *s, int tenant, uint32_t agent, int state, int aux, int detail);
void sim_idle_remove(sim_tenant *tn, uint32_t agent);
double sim_erlang_c_agents(double erlangs, double aht_s, double t_s, double target);

/* sim_business.c */
/* At a day's start, before planning: yesterday's costs, HR, customer base,
 * today's forecast (into tn->fc). After planning: today's budget. */
void sim_on_day_business(ks_sim *s, int tenant, int64_t day, int first);
void sim_day_budget(ks_sim *s, int tenant, int64_t day);
void sim_on_organic(ks_sim *s, const sim_item *it);
void sim_on_survey(ks_sim *s, const sim_item *it);
void sim_on_complaint(ks_sim *s, const sim_item *it);
void sim_on_qa(ks_sim *s, const sim_item *it);
/* After a final leg's wrap-up: orders, registrations, surveys, complaints, QA. */
void sim_followups(ks_sim *s, int tenant, const sim_agent *a, const sim_contact *c);
void sim_sentiment(ks_sim *s, int tenant, const sim_agent *a, const sim_contact *c);
/* Forecast for one queue and 15-minute interval (noise from the tenant rng). */
double sim_expected_arrivals(const ks_sim *s, int tenant, int queue, int64_t from, int64_t to);

/* sim_emit.c: record -> protobuf Event */
int sim_scratch_new(ks_sim *s);
void sim_scratch_free(ks_sim *s);
Kpistream__V1__Event *sim_materialize(ks_sim *s, const sim_out *o);

/* Names used by the emitters. */
extern const char *const sim_reason_codes[];
int sim_queue_reason_first(int queue, int *count);

#endif
