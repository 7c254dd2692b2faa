/*
 * sim_model — a deterministic discrete-event model of a contact center's day,
 * the traffic source behind `kpistream simulate`. No Kafka, no clock, no I/O:
 * it only turns (options, seed) into a time-ordered stream of
 * kpistream.v1.Event messages, so it is unit-testable.
 *
 * What it models, per tenant (all in UTC; tenant i has a size factor, 1 for
 * the first, 0.3..1 for the others):
 *   - queues: voice sales/support/billing, email support, chat sales/support;
 *     Poisson arrivals per queue (thinning) with an intra-day curve (night
 *     trough, peaks mid-morning and early afternoon; e-mail flatter, chat an
 *     hour later) and a day-of-week factor (Monday busiest); peak rates per
 *     hour 90/150/60/50/40/70 x tenant factor x rate scale;
 *   - forecasts: at each day's start, per queue and 15-minute interval, the
 *     integral of that rate with forecast error (lognormal, cv 8%);
 *   - teams (voice-sales, voice-care, digital) with a finite agent pool (sized
 *     once for a Monday), a daily shift plan sized by Erlang C per hour from
 *     the published forecast (80/20, chat 80/30) grossed up for shrinkage and
 *     covered greedily by 8.5-hour shifts, assigned to the longest-rested
 *     agents (11 hours' rest), published as ScheduleSegment events at the
 *     start of each day (on queue, breaks, unpaid lunch, training/meeting/
 *     coaching, planned leave; unplanned absences are published as revision
 *     2 of the agent's day shortly before the shift);
 *   - agent states: login (AVAILABLE), ON_CONTACT, AFTER_CONTACT_WORK, AUX
 *     with a reason (scheduled: break, lunch, training, meeting, coaching;
 *     unplanned: technical outage, personal time, a missed offer), LOGGED_OUT;
 *     logins and returns drift by minutes and breaks due while busy are
 *     taken after the contact, so adherence is imperfect;
 *   - routing: the longest-idle agent of the queue's team takes a new
 *     contact; a freed agent takes the longest-waiting live contact (voice,
 *     chat) of its team's queues, e-mail only when no live contact waits;
 *   - customer patience (exponential, with a short-patience minority, so
 *     there are short abandons; transferred contacts are more patient, e-mail
 *     and call-back requests never abandon), abandons in queue and while
 *     ringing, IVR hang-ups (ABANDON_IN_IVR, no queue);
 *   - ring-no-answer: options.ring_no_answer of the voice and chat offers
 *     ring out (15 s voice, 20 s chat: ContactOffered accepted=false); the
 *     contact goes back to routing (the next idle agent, or its place in the
 *     queue) and the agent is set not ready (AUX personal, missed offer) for
 *     a minute;
 *   - call-backs: a voice caller whose estimated wait (callers already
 *     waiting for the team, plus one, x the queue's mean handle time / the
 *     team's logged-in agents; 0 when an agent is free) exceeds
 *     options.callback_wait_s is offered a call-back and takes it with
 *     probability options.callback_accept: ContactQueued callback=true; it
 *     keeps its place in the queue, never abandons and is answered by an
 *     agent when its turn comes;
 *   - talk/hold/wrap times (lognormal), holds, transfers (re-queued, at most
 *     two), escalations, resolution per queue and agent quality;
 *   - customers from a finite pool (about 400,000 x tenant factor x rate
 *     scale, with churn and registrations); customers who abandoned (back
 *     after 10 minutes or more) or were not resolved (after 4 hours or more)
 *     go on call-back lists, and a share of later arrivals are those
 *     customers (repeat contacts), so the arrival process stays Poisson;
 *   - email/chat: ContactCreated, bot replies (is_bot=true, agent_id "bot";
 *     the chat bot resolves some chats alone), agent responses (public,
 *     sometimes internal notes);
 *   - reopens: options.reopen_rate of the resolved e-mail and chat contacts
 *     (bot-resolved chats included) are reopened by the customer, e-mail
 *     1-24 h and chat 5 min-4 h after the resolution (uniform):
 *     ContactReopened, then ContactQueued on the contact's last queue, and
 *     the contact is routed and handled again (voice customers who come
 *     back are new contacts: the call-back lists below);
 *   - feedback: surveys (CSAT on 1-5, 1-10 or 1-3 by tenant, NPS 0-10, CES
 *     1-7 or legacy 1-5 lower-is-better by tenant) answered for
 *     options.survey_rate of the handled contacts (final legs wrapped up;
 *     the others never reply, and no event says that a survey was sent, so a
 *     response rate is responses / handled), sentiment with start/end,
 *     complaints, QA evaluations (weighted sections, critical and compliance
 *     items, N/A items), all delayed after the contact as in life;
 *   - business: orders (after sales contacts, accepted next-best-action
 *     offers, and organic), registrations (prospects who buy, organic),
 *     next-best-action offers and reactions, daily budget and cost records
 *     per cost center, customer-base snapshots, forecasts, HR
 *     hires/separations/headcount.
 *
 * Event sequence of one contact (envelope: tenant, channel, queue, contact,
 * customer; agent and team once an agent is involved):
 *   voice: ContactQueued [callback] -> ContactOffered -> ContactAnswered
 *          [-> HoldStarted -> HoldEnded]* [-> ContactEscalated]
 *          [-> NextBestActionOffer] -> ContactEnded [-> NextBestActionReaction]
 *          -> AfterContactWorkEnded [-> ContactResolved]
 *          or ... -> ContactTransferred (ends that agent's leg; that agent's
 *          AfterContactWorkEnded follows with disposition "transferred") ->
 *          ContactQueued on the new queue, same contact_id -> ...
 *          or ContactQueued -> ContactAbandoned (IN_QUEUE, or RINGING after
 *          a ContactOffered with accepted=false), or just ContactAbandoned
 *          (IN_IVR) for an IVR hang-up. An offer that rings out
 *          (ContactOffered accepted=false, no abandon at its ring end) is
 *          followed by another ContactOffered or a ContactAbandoned IN_QUEUE.
 *   email: ContactCreated [-> AgentResponse(bot)] -> ContactQueued ->
 *          ContactAnswered -> AgentResponse(s) -> ContactEnded -> ... as voice;
 *          a resolved email may later get ContactReopened -> ContactQueued
 *          -> ... as before (a new episode of the same contact_id).
 *   chat:  ContactCreated [-> AgentResponse(bot)] -> ContactQueued (or, when
 *          the bot resolves it, ContactEnded -> ContactResolved) ->
 *          ContactOffered -> ContactAnswered -> AgentResponse(s) -> ... as voice;
 *          reopened like e-mail.
 *   Agent state events carry agent_id and team, no contact.
 *
 * Time: the simulated clock starts at options.start_ms; every event has
 * event_time_ms >= the previous one (globally, hence per tenant). Events at
 * or after start_ms + duration_ms are never produced.
 *
 * Determinism: one xoshiro256** generator per tenant, seeded from
 * options.seed and the tenant index; no global state. The same options give
 * the same events byte for byte (event ids included); a tenant's events do
 * not depend on how many other tenants are simulated.
 *
 * Ownership: ks_sim_new() returns a model the caller owns and releases with
 * ks_sim_free(). The Event returned by ks_sim_next() and every string and
 * sub-message it points to belong to the model and stay valid until the next
 * ks_sim_next()/ks_sim_peek_time()/ks_sim_free() call; the topic name is a
 * static string. Memory is pooled inside the model (pending-event heap,
 * output queue, contact slots, agents, fixed-size call-back lists) and grows
 * only to the high-water mark of work in flight, so it stays bounded over a
 * run of any length (ks_sim_stats.pool_bytes).
 */
#ifndef KS_SIM_MODEL_H
#define KS_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kpistream/v1/events.pb-c.h"

#define KS_SIM_MAX_TENANTS 64

/* Queues of every tenant, in this order. */
enum {
  KS_SIM_Q_VOICE_SALES = 0,
  KS_SIM_Q_VOICE_SUPPORT,
  KS_SIM_Q_VOICE_BILLING,
  KS_SIM_Q_EMAIL_SUPPORT,
  KS_SIM_Q_CHAT_SALES,
  KS_SIM_Q_CHAT_SUPPORT,
  KS_SIM_NQUEUES
};

/* Output topics (input topics of kpistream). */
typedef enum ks_sim_topic {
  KS_SIM_TOPIC_VOICE = 0, /* "events.voice": voice contact lifecycle */
  KS_SIM_TOPIC_EMAIL,     /* "events.email" */
  KS_SIM_TOPIC_CHAT,      /* "events.chat" */
  KS_SIM_TOPIC_AGENT,     /* "events.agent": agent states, schedules, HR */
  KS_SIM_TOPIC_FEEDBACK,  /* "events.feedback": surveys, sentiment, QA, complaints */
  KS_SIM_TOPIC_BUSINESS,  /* "events.business": orders, registrations, NBA,
                             cost, budget, customer base, forecasts */
  KS_SIM_NTOPICS
} ks_sim_topic;

typedef struct ks_sim_options {
  uint64_t seed;
  int64_t start_ms;    /* simulated clock start, epoch ms UTC */
  int64_t duration_ms; /* <= 0: run forever */
  double rate_scale;   /* multiplies every arrival rate (and so the staffing and
                          the customer pool); (0, 100] */
  int tenants;         /* 1..KS_SIM_MAX_TENANTS */
  /* The behaviours the resolution, routing and experience KPIs read (defaults
   * from ks_sim_options_default, chosen so that each KPI shows in the demo): */
  double reopen_rate;     /* share of resolved e-mail and chat contacts the
                             customer reopens (e-mail 1-24 h, chat 5 min-4 h
                             after the resolution); [0, 1], default 0.08 */
  double callback_wait_s; /* a voice caller whose estimated wait exceeds this
                             is offered a call-back; [0, 86400], default 30 */
  double callback_accept; /* share of those callers who take it; [0, 1],
                             default 0.5 */
  double ring_no_answer;  /* share of voice and chat offers the agent lets ring
                             out (15 s voice, 20 s chat); [0, 1], default 0.03 */
  double survey_rate;     /* share of handled contacts whose customer answers
                             the survey; [0, 1], default 0.18 */
} ks_sim_options;

typedef struct ks_sim ks_sim;

typedef struct ks_sim_stats {
  int64_t now_ms;  /* simulated time of the last event returned */
  uint64_t events; /* events returned so far */
  uint64_t per_topic[KS_SIM_NTOPICS];
  uint64_t per_body[64];            /* indexed by Kpistream__V1__Event__BodyCase */
  uint64_t arrivals;                /* Poisson arrivals (every channel, IVR hang-ups and
                                       bot-resolved chats included); repeats are drawn
                                       from these, never added to them */
  uint64_t repeats;                 /* arrivals that were a returning customer from a
                                       call-back list (after an abandon or an unresolved
                                       contact) */
  uint64_t offered;                 /* contacts that entered their first queue */
  uint64_t abandoned;               /* in queue or ringing */
  uint64_t short_abandons;          /* of those, within 10 s of queueing */
  uint64_t answered;                /* agent legs answered (a transferred contact counts twice) */
  uint64_t handled;                 /* final legs wrapped up (a contact's handling; a
                                       reopened contact is handled again) */
  uint64_t reopened;                /* ContactReopened */
  uint64_t callbacks_offered;       /* voice callers offered a call-back (estimated wait
                                       above callback_wait_s) */
  uint64_t callbacks;               /* of those, call-backs taken (ContactQueued callback) */
  uint64_t ring_no_answer;          /* offers the agent let ring out (accepted false, the
                                       contact routed again) */
  uint64_t surveys;                 /* SurveyResponse */
  uint32_t waiting[KS_SIM_NQUEUES]; /* contacts waiting now, summed over tenants */
  uint32_t agents_logged_in;        /* now, over all tenants */
  uint32_t agents_total;            /* agent pool, over all tenants */
  uint32_t contacts_in_flight;      /* contact slots in use */
  size_t pending;                   /* items in the pending-event heap */
  size_t pool_bytes;                /* bytes held by the model's pools (heap, slots,
                                       output queue, agents, call-back lists) */
} ks_sim_stats;

/* Defaults: seed 1, start 2026-11-23T08:00:00Z, run forever, rate 1, 2 tenants,
 * and the behaviour rates above. */
void ks_sim_options_default(ks_sim_options *o);

/* NULL when an option is out of range or memory runs out. */
ks_sim *ks_sim_new(const ks_sim_options *o);
void ks_sim_free(ks_sim *s);

/* The next event in time order. Returns 1 and sets *out_event (and
 * *out_topic, if not NULL, to the topic's name); 0 when the duration is over
 * (and ever after); KS_ENOMEM when a pool cannot grow. */
int ks_sim_next(ks_sim *s, Kpistream__V1__Event **out_event, const char **out_topic);

/* Topic of the event last returned by ks_sim_next(). */
ks_sim_topic ks_sim_current_topic(const ks_sim *s);

/* Event time of the event the next ks_sim_next() will return, INT64_MAX when
 * the run is over. Advances the model's internal work, never its output. */
int64_t ks_sim_peek_time(ks_sim *s);

void ks_sim_get_stats(const ks_sim *s, ks_sim_stats *out);

/* The arrival rate (contacts per hour) the model draws from for a tenant and
 * queue at a simulated instant: peak rate x tenant factor x rate scale x
 * day-of-week factor x intra-day curve. Integrate it to get the expected
 * number of arrivals. */
double ks_sim_arrival_rate(const ks_sim *s, int tenant, int queue, int64_t t_ms);

/* Names. */
const char *ks_sim_topic_name(ks_sim_topic t);
const char *ks_sim_tenant_name(const ks_sim *s, int tenant);
const char *ks_sim_queue_name(int queue); /* "sales", ... */
Kpistream__V1__Channel ks_sim_queue_channel(int queue);
const char *ks_sim_queue_label(int queue); /* "voice/sales", ... */

/* ISO-8601 UTC: "2026-11-23T08:00:00Z", also with fractional seconds or a
 * +hh:mm / -hh:mm offset, or a date alone (midnight). 0 or KS_EINVAL. */
int ks_sim_parse_time(const char *s, int64_t *out_ms);
/* "2026-11-23T08:00:00Z" into buf (at least 21 bytes); returns buf. */
char *ks_sim_format_time(int64_t ms, char *buf, size_t cap);

#endif
