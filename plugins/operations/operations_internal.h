/*
 * operations plugin — internal declarations shared by operations.c,
 * operations_contact.c, operations_config.c and operations_emit.c. Not part
 * of the SDK.
 *
 * State layout (all host-owned, fixed-size, pointer-free records):
 *
 *   contacts       KEYED (tenant, contact_id), TTL contact_ttl
 *                  queue-side life of a contact: created/queued times, the
 *                  first two queues it visited (offered/answered/abandoned
 *                  once per queue and episode), reopens, the wrap-up its FCR
 *                  was counted at, first response, first resolution,
 *                  customer, its current queue and agent names.
 *   customers      KEYED (tenant, hash(customer_id)[, channel]), TTL fcr.window
 *                  last handled contact of the customer (FCR repeat proxy).
 *   by_queue       WINDOWED (tenant, channel, queue): interval aggregates.
 *   by_agent       WINDOWED (tenant, channel, queue, agent): interval
 *                  aggregates; channel 0 / queue "" when per_agent rolls
 *                  them up.
 *   contacts_more  KEYED (tenant, contact_id), TTL contact_ttl
 *                  queue slots 2-3 of a contact that needed them
 *                  (C_HAS_MORE); fetched with the contact, so both TTLs are
 *                  renewed together.
 *   legs           KEYED (tenant, contact_id), TTL contact_ttl
 *                  the contact's agent events (offer, answer, hold, end,
 *                  transfer, escalation, wrap-up) as a deduplicated set; the
 *                  legs' and offers' figures are derived from it
 *                  (op_legs_derive, op_offers_derive); the name of the agent
 *                  the first resolution named (per-agent reopen_rate).
 *
 * The host's records never move: a pointer it returns stays valid until that
 * record is removed or expires, and expiry runs only between callbacks, so a
 * handler may hold the contact while it fetches its more-record or a window
 * record.
 */
#ifndef KS_OPERATIONS_INTERNAL_H
#define KS_OPERATIONS_INTERNAL_H

#include <stdatomic.h>

#include "kpistream/plugin.h"
#include "kpistream/service_level.h"

#define OP_PLUGIN_NAME    "operations"
#define OP_PLUGIN_VERSION "1.0.0"

/* ---- configuration ------------------------------------------------------ */

typedef enum op_abandon_den {
  OP_ABD_OFFERED = 0,             /* abandoned / offered (Genesys) */
  OP_ABD_QUEUED,                  /* abandoned / queued (Amazon Connect) */
  OP_ABD_ANSWERED_PLUS_ABANDONED, /* abandoned / (answered + abandoned) */
  OP_ABD_HANDLED_PLUS_ABANDONED   /* abandoned / (handled + abandoned) (Google CCAI) */
} op_abandon_den;

typedef enum op_sl_variant {
  OP_SL_ANSWERED_OVER_ANSWERED_PLUS_ABANDONED = 0, /* textbook */
  OP_SL_ABANDONS_IGNORED,                          /* Cisco "ignored" */
  OP_SL_ABANDONS_NEGATIVE,                         /* Cisco "negative" */
  OP_SL_SHORT_ABANDONS_EXCLUDED,                   /* Talkdesk, Genesys option */
  OP_SL_ABANDONS_POSITIVE                          /* Cisco "positive", Connect */
} op_sl_variant;

typedef enum op_per_agent {
  OP_AGENT_OFF = 0, /* no per-agent results */
  OP_AGENT_ALL,     /* tenant x agent (all channels, all queues) */
  OP_AGENT_CHANNEL, /* tenant x channel x agent (all queues) */
  OP_AGENT_QUEUE    /* tenant x channel x queue x agent */
} op_per_agent;

typedef struct op_config {
  int64_t short_abandon_ms;   /* short_abandon_threshold */
  int short_abandon_exclude;  /* short_abandon_exclude */
  op_abandon_den abandon_den; /* abandon_rate_denominator */
  ks_sl_thresholds sl_t;      /* service_level.threshold[.voice|.chat|.email] */
  ks_sl_thresholds frt_t;     /* first_response.threshold[.chat|.email] */
  op_sl_variant sl_variant;   /* service_level.variant */
  double sl_target;           /* service_level.target (validated, reserved) */
  int64_t fcr_window_ms;      /* fcr.window */
  int fcr_same_channel;       /* fcr.scope == same_channel */
  int fcr_xfer_unresolved;    /* fcr.transfers == unresolved */
  int hold_over_held;         /* hold_average_over == held */
  int64_t contact_ttl_ms;     /* contact_ttl */
  op_per_agent per_agent;     /* per_agent */
  int64_t interval_ms;        /* host interval length */
} op_config;

typedef struct op_plugin {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  op_config cfg;
  ks_table *contacts;
  ks_table *customers;
  ks_table *by_queue;
  ks_table *by_agent;
  ks_table *contacts_more;
  ks_table *legs;
  /* agent events not kept (the contact's set was full), for the log's rate
   * limit: the one field written after init, by every task, hence atomic
   * (docs/plugins.md "Threads") */
  _Atomic int64_t legs_full;
} op_plugin;

/* Every option the plugin accepts (the descriptor's option_map). */
extern const ks_option op_option_map[];

/* Read and validate every option; returns KS_EINVAL with the first bad
 * value in errstr (or logged by the host's reader). */
int op_config_load(ks_plugin_ctx *ctx, const ks_host_api *api, op_config *cfg, char *errstr,
                   size_t errstr_size);

/* ---- state records -------------------------------------------------------- */

#define OP_NAME_MAX 64 /* stored queue/agent names (fallback only) */
#define OP_QSLOTS   4  /* queues remembered per contact */
#define OP_LEGS     3  /* agent legs remembered per contact */

/* op_qslot.flags */
#define QS_USED          0x01u
#define QS_OFFERED       0x02u /* counted in offered */
#define QS_QUEUED        0x04u /* counted in queued (a ContactQueued was seen) */
#define QS_START_KNOWN   0x08u /* queued_ms holds the queue-entry time */
#define QS_START_CREATED 0x10u /* ... taken from ContactCreated (email/chat) */
#define QS_ANSWERED      0x20u
#define QS_ABANDONED     0x40u
#define QS_WAIT_PENDING  0x80u /* answered/abandoned before the entry time was known */

/* One queue a contact visited. The interval of the answer or abandon is the
 * one done_ms falls in (intervals are aligned to the epoch); the offer's is
 * the one its earliest start event (ContactCreated, ContactQueued) falls in. */
typedef struct op_qslot {
  uint64_t qhash;    /* FNV-1a of the queue name */
  int64_t queued_ms; /* queue entry */
  int64_t done_ms;   /* answer or abandon time */
  uint8_t flags;
  uint8_t done_channel;  /* channel it was counted under (the dims key keeps a byte) */
  uint8_t flags2;        /* QS2_* */
  uint8_t offer_channel; /* channel the offer was counted under */
  uint8_t pad[4];
} op_qslot;

/* op_qslot.flags2 */
#define QS2_BY_CREATED 0x01u /* a ContactCreated named this queue (the offer may be its time) */
#define QS2_CALLBACK   0x02u /* a ContactQueued with callback set named it (counted in callbacks) */

/* ---- legs: the contact's agent events, kept as a set ------------------------------
 *
 * A leg is one assignment of the contact to an agent: it starts at a
 * ContactAnswered by that agent (a second answer by the same agent is a
 * second leg) and runs to its first AfterContactWorkEnded. The contact keeps
 * every agent event it received (op_legs, deduplicated by event id), and a
 * leg's figures are a pure function of that set, computed in event-time
 * order (op_legs_derive): so they do not depend on the order the events
 * arrived in. When an event changes a leg whose wrap-up was already counted,
 * the plugin takes the old figures out of the wrap-up's interval and puts
 * the new ones in (while that interval is open or kept for restatement).
 * When the set is full, the events of the oldest handled legs whose
 * wrap-up interval has closed (their figures can no longer change) are
 * dropped and their agent sealed up to that wrap-up: a later copy of such
 * an event is ignored.
 */

/* op_legev.kind, in the order events of equal time are applied */
#define LK_ANSWER     1
#define LK_HOLD_START 2
#define LK_HOLD_END   3
#define LK_END        4
#define LK_TRANSFER   5
#define LK_ESCALATE   6
#define LK_ACW        7
#define LK_OFFER      8 /* ContactOffered to the agent (ordered before an answer of equal time) */

#define OP_LEG_EVENTS 32 /* agent events kept per contact */
#define OP_LEG_AGENTS 6  /* distinct agents per contact */
#define OP_LEG_QUEUES 6  /* distinct wrap-up queues per contact */

typedef struct op_legev {
  int64_t t;
  uint32_t idh;    /* hash of the event id (0 when the event has none) */
  uint8_t kind;    /* LK_* */
  uint8_t agent;   /* index into op_legs.agent_hash */
  uint8_t channel; /* of the event (the contact's when it names none) */
  uint8_t queue;   /* index into op_legs.queue_nh (LK_ACW, LK_OFFER) */
  int32_t ring_ms; /* LK_OFFER: ContactOffered.ring_ms (0: not known) */
  uint32_t pad;
} op_legev;

typedef struct op_legs {
  uint64_t agent_hash[OP_LEG_AGENTS]; /* FNV-1a of the agent id ("" allowed) */
  uint64_t queue_nh[OP_LEG_QUEUES];   /* name hashes (fnv1a_nh) of wrap-up queues */
  int64_t sealed_ms[OP_LEG_AGENTS];   /* agent events up to this time are final */
  uint8_t n_agents;
  uint8_t n_queues;
  uint8_t n_ev;
  uint8_t pad[5];
  char res_agent[KS_ID_MAX + 1]; /* the agent the first resolution names ("" none) */
  op_legev ev[OP_LEG_EVENTS];
} op_legs;

/* What one handled leg adds to the interval of its wrap-up. */
typedef struct op_legfig {
  int64_t iv;    /* interval of the wrap-up */
  int64_t acw_t; /* wrap-up end */
  uint8_t channel;
  uint8_t queue; /* index into op_legs.queue_nh */
  uint8_t agent; /* index into op_legs.agent_hash */
  uint8_t held;
  uint8_t transferred;
  uint8_t escalated;
  uint8_t pad[2];
  int64_t talk_ms, hold_ms, acw_ms;
} op_legfig;

/* The handled legs of agent index `agent` (every agent when agent < 0) of
 * the set, in event-time order: fills out[] (at most max) and returns the
 * count. interval_ms places each wrap-up in its interval. */
int op_legs_derive(const op_legs *g, int agent, int64_t interval_ms, op_legfig *out, int max);

/* What one ContactOffered to an agent adds to the interval of its ring end
 * (offer time + ring_ms). */
typedef struct op_offig {
  int64_t iv; /* interval of the ring end */
  int32_t ring_ms;
  uint8_t channel;
  uint8_t queue; /* index into op_legs.queue_nh */
  uint8_t agent;
  uint8_t answered; /* the agent's next offer-or-answer of the contact is an answer */
} op_offig;

/* The offers of agent index `agent` (every agent when < 0), in event-time
 * order: fills out[] (at most max) and returns the count. */
int op_offers_derive(const op_legs *g, int agent, int64_t interval_ms, op_offig *out, int max);

/* op_contact.flags */
#define C_CREATED      0x001u
#define C_QUEUED       0x002u
#define C_HAS_CUSTOMER 0x004u
#define C_FRT_DONE     0x008u
#define C_FRT_PENDING  0x010u
#define C_RES_DONE     0x020u
#define C_RES_PENDING  0x040u
#define C_FCR_COUNTED  0x080u
#define C_HAS_MORE     0x100u /* the contact has an op_contact_more */
#define C_FCR_REPEAT   0x200u /* the counted FCR contact was a repeat */
#define C_FRES_DONE    0x400u /* a full resolution was counted (episode fres_ep) */
#define C_FCR_XFER                                                                                 \
  0x800u /* fcr.transfers unresolved: the counted episode was transferred or                       \
              escalated (so counted as not resolved first time) */
#define C_ONE_TOUCH                                                                                \
  0x1000u /* the first resolution had exactly one handled leg (wrap-up) at or                      \
               before it */

/*
 * The contact (320 bytes), laid out by cache line (the host starts records
 * of 128 bytes or more on a line): line 0 holds what every event reads,
 * line 1 the first two queue slots, line 2 reopen, FCR and resolution
 * bookkeeping, lines 3-4 the names of the current queue and agent (copies
 * for events that omit them; their hashes in line 0 spare reading them when
 * an event repeats the stored name). Later slots live in the contact's
 * op_contact_more, which exists only for contacts that needed them
 * (C_HAS_MORE); its agent events in op_legs (table `legs`). Slots are used in
 * index order (n_slots counts them), so lookups never read unused ones.
 *
 * Episodes: a contact starts in episode 0; each ContactReopened starts the
 * next. Queue slots are per queue and episode, FCR counts each episode's
 * first wrap-up, and full resolution each episode's first ContactResolved.
 */
typedef struct op_contact {
  /* line 0 */
  uint32_t flags;
  int32_t channel;
  uint8_t next_slot; /* queue slot to reuse next */
  uint8_t n_reopen;  /* ContactReopened seen (episodes - 1) */
  uint8_t n_slots;   /* queue slots in use (0..OP_QSLOTS) */
  uint8_t fcr_ep;    /* episode of the counted FCR contact (C_FCR_COUNTED) */
  uint8_t fres_ep;   /* episode of the last full resolution (C_FRES_DONE) */
  uint8_t fcr_queue; /* op_legs.queue_nh index of the counted FCR wrap-up */
  uint8_t fcr_channel;
  uint8_t fcr_agent; /* op_legs.agent_hash index of the counted FCR wrap-up's agent */
  uint64_t customer_hash;
  int64_t created_ms;
  int64_t first_queued_ms;
  uint64_t queue_nh; /* name hash of the current queue (0: none) */
  uint64_t agent_nh; /* name hash of the current agent (0: none) */
  int64_t frt_ms;    /* first public human response */
  /* line 1 */
  op_qslot q01[2]; /* queue slots 0 and 1 */
  /* line 2 */
  int64_t res_ms;      /* first ContactResolved */
  int64_t reopen_ms;   /* latest ContactReopened */
  int64_t fcr_acw_ms;  /* wrap-up the FCR contact was counted at */
  uint32_t reopen_idh; /* event id hash of the latest ContactReopened */
  uint8_t frt_channel; /* where the first response was counted */
  uint8_t res_channel; /* where the first resolution was counted */
  uint8_t pad1[2];
  uint64_t frt_qnh; /* ... and in which queue (name hash) */
  uint64_t res_qnh;
  uint64_t frt_anh; /* FNV-1a of the first response's agent (0: none) */
  uint64_t res_anh; /* ... of the agent named on the first resolution */
  /* lines 3-4 */
  char queue[OP_NAME_MAX]; /* current queue, for events that omit it */
  char agent[OP_NAME_MAX]; /* current agent, for events that omit it */
} op_contact;

/* Queue slots 2-3 of a contact (same key, same TTL). */
typedef struct op_contact_more {
  op_qslot q23[2]; /* queue slots 2 and 3 */
} op_contact_more;

typedef struct op_customer {
  int64_t last_handled_ms;
  uint64_t last_contact_hash;
  uint32_t seen;
  uint32_t pad;
} op_customer;

/* Per interval and (tenant, channel, queue). Times in milliseconds. The
 * host starts a record this size on a cache line; the fields are grouped by
 * the events that update them (answer: line 0, wrap-up: lines 1-2, abandon:
 * lines 0 and 2). */
typedef struct op_qagg {
  /* line 0 */
  int64_t offered;
  int64_t queued;
  int64_t answered;    /* first answer per contact and queue */
  int64_t ans_known;   /* ... whose queue wait is known */
  int64_t ans_in_t;    /* ... answered within the SL threshold */
  int64_t wait_sum_ms; /* queue wait of ans_known */
  int64_t max_wait_ms; /* over answered and abandoned with a known wait */
  int64_t n_waits;
  /* line 1 */
  int64_t handled;
  int64_t handle_ms;
  int64_t talk_ms;
  int64_t hold_ms;
  int64_t held;
  int64_t acw_ms;
  int64_t transferred;
  int64_t escalated;
  /* line 2 */
  int64_t fcr_n;
  int64_t fcr_repeats;
  int64_t ab_all;        /* every in-queue/ringing abandon */
  int64_t ab_known;      /* ... with a known wait */
  int64_t ab_short;      /* ... with wait < short_abandon_threshold */
  int64_t ab_in_t;       /* ... with wait <= SL threshold */
  int64_t ab_short_in_t; /* short and within the SL threshold */
  int64_t frt_n;
  /* line 3 */
  int64_t frt_sum_ms;
  int64_t res_n;
  int64_t res_sum_ms;
  int64_t reopened;    /* ContactReopened */
  int64_t fres_n;      /* first resolution of each episode */
  int64_t fres_sum_ms; /* ... its time since the contact's start */
  int64_t res_ot;      /* first resolutions that were one-touch (C_ONE_TOUCH) */
  int64_t frt_in_t;    /* first responses within first_response.threshold */
  /* line 4 */
  int64_t ab_wait_ms;       /* wait of ab_known */
  int64_t ab_short_wait_ms; /* ... of ab_short */
  int64_t callbacks;        /* callback requests (ContactQueued.callback), once per queue */
  int64_t cb_answered;      /* ... answered in the queue */
  int64_t pad[4];
} op_qagg;

/* Per interval and agent (dimensions per the per_agent option). */
typedef struct op_aagg {
  int64_t answered; /* legs answered by the agent */
  int64_t handled;
  int64_t handle_ms;
  int64_t hold_ms;
  int64_t held;
  int64_t acw_ms;
  int64_t transferred;
  int64_t fcr_n; /* FCR contacts whose counted wrap-up was the agent's */
  int64_t fcr_repeats;
  int64_t frt_n; /* first responses the agent sent */
  int64_t frt_sum_ms;
  int64_t frt_in_t;
  int64_t res_n; /* first resolutions naming the agent */
  int64_t res_sum_ms;
  int64_t res_ot;
  int64_t offers;    /* ContactOffered to the agent (at the ring end) */
  int64_t rna;       /* ... not followed by the agent's answer */
  int64_t ring_in_t; /* ... answered with a known ring time <= T */
  int64_t ring_unk;  /* ... answered with the ring time not known (0) */
  int64_t reopened;  /* first reopens of contacts whose first resolution was the agent's */
} op_aagg;

/* FNV-1a of s; *nh gets its name hash: the FNV-1a of the part a name record
 * keeps (OP_NAME_MAX - 1 bytes) xor that of "", so "" (a zeroed record) is 0. */
static inline uint64_t fnv1a_nh(const char *s, uint64_t *nh) {
  uint64_t h = KS_FNV1A_OFFSET, kept = 0;
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
    if (n == OP_NAME_MAX - 1)
      kept = h;
    h ^= *p;
    h *= KS_FNV1A_PRIME;
  }
  *nh = (n < OP_NAME_MAX ? h : kept) ^ KS_FNV1A_OFFSET;
  return h;
}

/* Email and chat: first response and resolution apply. */
static inline int is_text_channel(int ch) {
  return ch == KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL || ch == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT;
}

/* ---- the contact's records (operations_contact.c) ------------------------ */

/* A contact being handled: where its records are. more is NULL until the
 * contact has one (fetched with the contact when C_HAS_MORE, else created
 * when a third queue slot or a second leg is needed). */
typedef struct op_cref {
  op_plugin *p;
  ks_task *task;
  const ks_key *ck; /* the contact's key (also the more-record's) */
  op_contact *c;
  op_contact_more *more;
  op_legs *legs; /* NULL until op_legs_of() */
} op_cref;

/* Fetch (create when new) the contact of key ck into r, with its
 * more-record when it has one, noting what the event says about it
 * (channel, customer). Returns r->c, or NULL when out of state memory. */
op_contact *op_contact_fetch(op_cref *r, op_plugin *p, ks_task *task, const ks_key *ck,
                             const Kpistream__V1__Event *m);

/* The slot of queue hash h; a new one replaces the oldest when all are used.
 * NULL only when a needed more-record cannot be had (out of state memory). */
op_qslot *op_slot_get(op_cref *r, uint64_t h);

/* The contact's agent events (created empty when it has none). NULL only
 * when out of state memory. */
op_legs *op_legs_of(op_cref *r);

/* Make name (with name hash nh from fnv1a_nh) the contact's current queue
 * (agent = 0) or agent (agent = 1): when the hash differs from the stored
 * one, copies the name (cut at OP_NAME_MAX - 1 bytes) and its hash into the
 * contact. Equal hashes are taken as equal names, as queue slots and legs
 * do. Returns 0. */
int op_name_set(op_cref *r, int agent, const char *name, uint64_t nh);

/* Copy the contact's current queue (agent = 0) or agent (agent = 1) name
 * into buf (OP_NAME_MAX bytes); "" when it has none. */
void op_name_get(const op_contact *c, int agent, char *buf);

/* operations_emit.c: the interval close (results). */
int op_on_interval_close(void *data, ks_task *task, const ks_interval *iv);

/* A stored name holds any identifier the host passes (plugin.h, KS_ID_MAX). */
_Static_assert(OP_NAME_MAX >= KS_ID_MAX + 1, "OP_NAME_MAX must hold KS_ID_MAX bytes");

#endif
