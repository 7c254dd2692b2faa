/*
 * operations — the operations KPI family: offered, answered, handled,
 * abandoned, short abandoned, abandonment rate, ASA, longest wait, first
 * response time, AHT (talk, hold, ACW), service level, FCR, transfer and
 * escalation rates, traffic intensity, resolution and full resolution time,
 * reopens, per interval and (tenant, channel, queue), and per agent where
 * meaningful.
 *
 * Formulas, attribution rules and configuration: docs/metrics.md.
 *
 * Attribution in one line: a metric lands in the interval of the event that
 * completes it (answer for ASA and SL, abandon for abandons, end of
 * after-contact work for handle time, FCR, transfers and escalations, first
 * public human reply for FRT, first ContactResolved for resolution time).
 *
 * Any delivery order (docs/metrics.md, "Delivery order and duplicates"):
 * what a contact counted, and where, is a function of its events' times,
 * not of their arrival. A contact's agent events are kept as a set and its
 * legs derived from it; when a late event changes something already
 * counted (a leg's figures, the wrap-up FCR is counted at, the first reply
 * or resolution, a queue's outcome or wait, the offer's interval), the old
 * contribution is taken out where it was counted and the new one put in,
 * while that interval is open or kept for restatement.
 *
 * Robustness: events without a contact id, or with ids too long for a state
 * key, are ignored; negative durations (clock skew, reordering) are clamped
 * to 0; duplicates are absorbed by event id (agent events) and per-contact
 * flags (the rest).
 */
#include <stdio.h>
#include <string.h>

#include "operations_internal.h"

_Static_assert(offsetof(op_qagg, handled) == 64 && offsetof(op_qagg, fcr_n) == 128,
               "op_qagg layout");

/* Bump when a record layout changes (checkpoints of another version are
 * refused by the host). 2: op_contact laid out by cache line. 3: op_contact
 * cut to 320 bytes; its third and fourth queues, second and third legs in
 * contacts_more. 4: a contact's agent events kept as a set (table legs), legs
 * derived from it; reopen episodes; reopen and full resolution sums. 5: offers
 * (ContactOffered) in the set, 24-byte agent events, 32 of them; the first
 * response's and resolution's agents, the FCR agent and one-touch on the
 * contact; callback flag on queue slots; new interval sums. */
#define OP_STATE_VERSION 5

static const uint32_t op_interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED,
                                        KPISTREAM__V1__EVENT__BODY_AGENT_RESPONSE,
                                        KPISTREAM__V1__EVENT__BODY_HOLD_STARTED,
                                        KPISTREAM__V1__EVENT__BODY_HOLD_ENDED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED,
                                        KPISTREAM__V1__EVENT__BODY_ACW_ENDED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_REOPENED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_OFFERED,
                                        0};

/* ---- small helpers --------------------------------------------------------- */

static inline int64_t clamp0(int64_t v) {
  return v < 0 ? 0 : v;
}

static inline int contact_start_known(const op_contact *c) {
  return (c->flags & (C_CREATED | C_QUEUED)) != 0;
}

/* Start of a contact for FRT and resolution time: created, else first queued. */
static inline int64_t contact_start(const op_contact *c) {
  return (c->flags & C_CREATED) ? c->created_ms : c->first_queued_ms;
}

/* The event's queue, else the contact's current one (copied into buf,
 * OP_NAME_MAX bytes). */
static inline const char *event_queue(const op_contact *c, const Kpistream__V1__Event *m,
                                      char *buf) {
  const char *qn = ks_nz(m->queue);
  if (qn[0] != '\0')
    return qn;
  op_name_get(c, 0, buf);
  return buf;
}

/* Dimension key of by_agent, per the per_agent option. Returns 0 when off
 * or unusable. */
static inline int agent_key(ks_key *k, const op_config *cfg, const char *tenant, int channel,
                            const char *queue, const char *agent) {
  if (cfg->per_agent == OP_AGENT_OFF || agent[0] == '\0')
    return 0;
  uint8_t ch = cfg->per_agent == OP_AGENT_ALL ? 0 : (uint8_t)channel;
  ks_key_reset(k);
  ks_key_add_str(k, tenant);
  ks_key_add(k, &ch, 1);
  ks_key_add_str(k, cfg->per_agent == OP_AGENT_QUEUE ? queue : "");
  ks_key_add_str(k, agent);
  return !k->overflow;
}

/* Wait outcome of an answered/abandoned queue slot, applied to an interval. */
typedef struct op_wait {
  int kind; /* 0 none, 1 answered, 2 abandoned */
  int known;
  int64_t wait_ms;
  int64_t iv;
  int callback; /* the slot is a callback request (QS2_CALLBACK) */
} op_wait;

/* Add (sign 1) or take out (-1) an outcome: its count when count_event,
 * its wait when known, judged against the channel's service-level threshold.
 * A maximum cannot be taken out: max_wait_ms keeps it. */
static void apply_wait(const op_config *cfg, op_qagg *a, const op_wait *w, int count_event,
                       int sign, int channel) {
  const int64_t sl_t = ks_sl_threshold_ms(&cfg->sl_t, channel);
  if (w->kind == 1) {
    if (count_event) {
      a->answered += sign;
      a->cb_answered += sign * (w->callback != 0);
    }
    if (w->known) {
      a->ans_known += sign;
      a->wait_sum_ms += sign * w->wait_ms;
      a->ans_in_t += sign * (w->wait_ms <= sl_t);
    }
  } else if (w->kind == 2) {
    if (count_event)
      a->ab_all += sign;
    if (w->known) {
      int is_short = w->wait_ms < cfg->short_abandon_ms;
      int in_t = w->wait_ms <= sl_t;
      a->ab_known += sign;
      a->ab_wait_ms += sign * w->wait_ms;
      a->ab_short += sign * is_short;
      a->ab_short_wait_ms += sign * (is_short ? w->wait_ms : 0);
      a->ab_in_t += sign * in_t;
      a->ab_short_in_t += sign * (is_short && in_t);
    }
  }
  if (w->kind && w->known) {
    if (sign > 0 && (a->n_waits == 0 || w->wait_ms > a->max_wait_ms))
      a->max_wait_ms = w->wait_ms;
    a->n_waits += sign;
  }
}

static inline op_qagg *qagg_get(op_plugin *p, ks_task *task, int64_t iv, const ks_key *dk) {
  return p->api->window_get(task, p->by_queue, iv, dk->buf, dk->len, 1);
}

/* The outcome a queue slot counted (kind 0 when none), as an op_wait in
 * the interval it was counted in. */
static op_wait slot_outcome(const op_config *cfg, const op_qslot *s) {
  op_wait w = {0, 0, 0, 0, 0};
  if (!(s->flags & (QS_ANSWERED | QS_ABANDONED)))
    return w;
  w.callback = (s->flags2 & QS2_CALLBACK) != 0;
  w.kind = (s->flags & QS_ANSWERED) ? 1 : 2;
  w.known = (s->flags & QS_START_KNOWN) && !(s->flags & QS_WAIT_PENDING);
  w.wait_ms = w.known ? clamp0(s->done_ms - s->queued_ms) : 0;
  w.iv = ks_interval_floor(s->done_ms, cfg->interval_ms);
  return w;
}

/* Apply w (sign, count_event as apply_wait) to queue qn in channel ch of
 * its interval; a closed interval keeps what it published. */
static int wait_apply(op_plugin *p, ks_task *task, const ks_event *ev, const op_wait *w, int ch,
                      const char *qn, int count_event, int sign) {
  ks_key dk;
  if (!w->kind || !ks_dims_key(&dk, ks_nz(ev->msg->tenant), ch, qn))
    return 0;
  op_qagg *a = qagg_get(p, task, w->iv, &dk);
  if (a == NULL)
    return w->iv == ev->interval_start_ms ? KS_ENOMEM : 0;
  apply_wait(&p->cfg, a, w, count_event, sign, ch);
  return 0;
}

/* An answer (kind 1) or abandon (2) at the event in slot s: the slot's
 * outcome is its earliest one; one earlier than the one counted replaces it
 * (taken out where it was counted). Returns 0 or an error. */
static int slot_done(op_plugin *p, ks_task *task, const ks_event *ev, op_qslot *s, int kind,
                     int channel, const char *qn) {
  const int64_t t = ev->time_ms;
  if (s->flags & (QS_ANSWERED | QS_ABANDONED)) {
    if (t >= s->done_ms)
      return 0; /* a duplicate, or a later answer/abandon: not the outcome */
    const op_wait old = slot_outcome(&p->cfg, s);
    int rc = wait_apply(p, task, ev, &old, s->done_channel, qn, 1, -1);
    if (rc != 0)
      return rc;
    s->flags &= ~(QS_ANSWERED | QS_ABANDONED);
  }
  s->flags |= kind == 1 ? QS_ANSWERED : QS_ABANDONED;
  s->done_ms = t;
  s->done_channel = (uint8_t)channel;
  if (!(s->flags & QS_START_KNOWN))
    s->flags |= QS_WAIT_PENDING;
  const op_wait w = slot_outcome(&p->cfg, s);
  return wait_apply(p, task, ev, &w, channel, qn, 1, 1);
}

/* ---- agent events: legs, handle time, FCR ----------------------------------- */

/* Hash of the event's id, 0 when it has none (then a duplicate is an event
 * of the same body, time and agent). */
static inline uint32_t event_idh(const Kpistream__V1__Event *m) {
  const char *id = ks_nz(m->event_id);
  return id[0] ? (uint32_t)ks_fnv1a(id) | 1u : 0;
}

/* Episode of an event at t: 0, or the latest reopen's once t reaches it. */
static inline uint8_t episode_of(const op_contact *c, int64_t t) {
  return c->n_reopen && t >= c->reopen_ms ? c->n_reopen : 0;
}

/* Queue slots are per queue and episode: a reopened contact queued again in
 * the same queue is offered (and answered or abandoned) there again. */
static inline uint64_t slot_key(const op_contact *c, uint64_t qhash, int64_t t) {
  return qhash ^ (UINT64_C(0x9e3779b97f4a7c15) * episode_of(c, t));
}

/* What an event of the agent set `g` knows about names, to find the queue
 * name of a wrap-up counted earlier. */
typedef struct leg_ctx {
  op_plugin *p;
  ks_task *task;
  const ks_event *ev;
  op_cref *r;
  const char *tenant;
  const char *agent; /* the event's agent (every figure changed is this agent's) */
  const char *qn;    /* the event's queue (or the contact's current one) */
  uint64_t qnh;
} leg_ctx;

typedef struct qname_find {
  const char *tenant;
  int channel;
  uint64_t nh;
  char *out; /* KS_KEY_MAX bytes */
  int found;
} qname_find;

static int qname_cb(void *ud, const void *key, size_t keylen, void *record) {
  (void)record;
  qname_find *q = ud;
  char tenant[KS_KEY_MAX], ch[4];
  if (ks_key_part(key, keylen, 0, tenant, sizeof tenant) < 0 || strcmp(tenant, q->tenant) != 0 ||
      ks_key_part(key, keylen, 1, ch, sizeof ch) != 1 || (uint8_t)ch[0] != (uint8_t)q->channel ||
      ks_key_part(key, keylen, 2, q->out, KS_KEY_MAX) < 0)
    return 0;
  uint64_t nh;
  (void)fnv1a_nh(q->out, &nh);
  if (nh != q->nh)
    return 0;
  q->found = 1;
  return 1;
}

/* The name of queue hash nh counted in (iv, channel): the event's (qn,
 * qnh), the contact's current one, else the one a record of that interval
 * carries. NULL when none does (the interval has closed). buf: KS_KEY_MAX
 * bytes. */
static const char *queue_name_of(op_plugin *p, ks_task *task, const char *tenant,
                                 const op_contact *c, const char *qn, uint64_t qnh, uint64_t nh,
                                 int64_t iv, int channel, char *buf) {
  if (nh == qnh)
    return qn;
  if (nh == 0)
    return "";
  if (nh == c->queue_nh) {
    op_name_get(c, 0, buf);
    return buf;
  }
  qname_find q = {tenant, channel, nh, buf, 0};
  p->api->window_foreach(task, p->by_queue, iv, qname_cb, &q);
  return q.found ? buf : NULL;
}

static const char *queue_name(const leg_ctx *x, uint64_t nh, int64_t iv, int channel, char *buf) {
  return queue_name_of(x->p, x->task, x->tenant, x->r->c, x->qn, x->qnh, nh, iv, channel, buf);
}

/* ---- per-agent records found by the agent's hash -------------------------------- */

typedef struct arec_find {
  const char *tenant;
  uint8_t channel; /* per the per_agent option */
  const char *queue;
  uint64_t anh; /* fnv1a of the agent id */
  op_aagg *out;
} arec_find;

static int arec_cb(void *ud, const void *key, size_t keylen, void *record) {
  arec_find *f = ud;
  char part[KS_KEY_MAX], ch[4];
  if (ks_key_part(key, keylen, 1, ch, sizeof ch) != 1 || (uint8_t)ch[0] != f->channel ||
      ks_key_part(key, keylen, 3, part, sizeof part) < 0 || ks_fnv1a(part) != f->anh ||
      ks_key_part(key, keylen, 0, part, sizeof part) < 0 || strcmp(part, f->tenant) != 0 ||
      ks_key_part(key, keylen, 2, part, sizeof part) < 0 || strcmp(part, f->queue) != 0)
    return 0;
  f->out = record;
  return 1;
}

/* The by_agent record of agent hash anh in (iv, channel, queue qn), per the
 * per_agent option: made when `name` (may be NULL) is that agent's id, else
 * the one the interval already holds (an agent credited there before).
 * NULL when per_agent is off, the record cannot be had or the interval has
 * closed. */
static op_aagg *agent_rec(op_plugin *p, ks_task *task, const char *tenant, int64_t iv, int channel,
                          const char *qn, uint64_t anh, const char *name) {
  const op_config *cfg = &p->cfg;
  if (cfg->per_agent == OP_AGENT_OFF || anh == 0)
    return NULL;
  ks_key dk;
  if (name && name[0] && ks_fnv1a(name) == anh) {
    if (!agent_key(&dk, cfg, tenant, channel, qn, name))
      return NULL;
    return p->api->window_get(task, p->by_agent, iv, dk.buf, dk.len, 1);
  }
  arec_find f = {tenant, cfg->per_agent == OP_AGENT_ALL ? 0 : (uint8_t)channel,
                 cfg->per_agent == OP_AGENT_QUEUE ? qn : "", anh, NULL};
  p->api->window_foreach(task, p->by_agent, iv, arec_cb, &f);
  return f.out;
}

/* ---- first response, first resolution ----------------------------------------- */

/* Where a contact's first response (which 0) or first resolution (1) is. */
typedef struct first_ref {
  int64_t *t;
  uint8_t *channel;
  uint64_t *qnh;
  uint64_t *anh; /* its agent's hash */
  uint32_t done, pending;
} first_ref;

static first_ref first_of(op_contact *c, int which) {
  if (which == 0)
    return (first_ref){&c->frt_ms,  &c->frt_channel, &c->frt_qnh,
                       &c->frt_anh, C_FRT_DONE,      C_FRT_PENDING};
  return (first_ref){&c->res_ms,  &c->res_channel, &c->res_qnh,
                     &c->res_anh, C_RES_DONE,      C_RES_PENDING};
}

/* Add (sign 1) or take out (-1) the contact's first response (which 0) /
 * resolution (1) measured from `start` where it was counted, in its queue
 * and for its agent; which 2: only its one-touch count. The first
 * resolution is its episode's first too (full resolution time). A closed
 * interval is left as published. agent: the event's agent id ("" when none). */
static int first_apply(op_plugin *p, ks_task *task, const ks_event *ev, op_contact *c, int which,
                       int64_t start, int sign, const char *qn, uint64_t qnh, const char *agent) {
  const Kpistream__V1__Event *m = ev->msg;
  const first_ref f = first_of(c, which == 0 ? 0 : 1);
  const int64_t iv = ks_interval_floor(*f.t, p->cfg.interval_ms);
  char buf[KS_KEY_MAX];
  const char *name =
      queue_name_of(p, task, ks_nz(m->tenant), c, qn, qnh, *f.qnh, iv, *f.channel, buf);
  ks_key dk;
  if (name == NULL || !ks_dims_key(&dk, ks_nz(m->tenant), *f.channel, name))
    return 0;
  op_qagg *a = qagg_get(p, task, iv, &dk);
  if (a == NULL)
    return iv == ev->interval_start_ms ? KS_ENOMEM : 0;
  const int64_t d = clamp0(*f.t - start), v = sign * d;
  const int64_t in_t = d <= ks_sl_threshold_ms(&p->cfg.frt_t, *f.channel);
  const int64_t ot = which == 2 || (c->flags & C_ONE_TOUCH) != 0;
  op_aagg *g = agent_rec(p, task, ks_nz(m->tenant), iv, *f.channel, name, *f.anh, agent);
  if (g == NULL && iv == ev->interval_start_ms && agent[0] && *f.anh == ks_fnv1a(agent) &&
      p->cfg.per_agent != OP_AGENT_OFF)
    return KS_ENOMEM;
  if (which == 0) {
    a->frt_n += sign;
    a->frt_sum_ms += v;
    a->frt_in_t += sign * in_t;
    if (g) {
      g->frt_n += sign;
      g->frt_sum_ms += v;
      g->frt_in_t += sign * in_t;
    }
  } else if (which == 1) {
    a->res_n += sign;
    a->res_sum_ms += v;
    a->fres_n += sign;
    a->fres_sum_ms += v;
    a->res_ot += sign * ot;
    if (g) {
      g->res_n += sign;
      g->res_sum_ms += v;
      g->res_ot += sign * ot;
    }
  } else {
    a->res_ot += sign;
    if (g)
      g->res_ot += sign;
  }
  return 0;
}

/* The contact's start moved from old_start (old_known: it had one) to its
 * current one: its first response and resolution are measured again. */
static int first_restart(op_plugin *p, ks_task *task, const ks_event *ev, op_contact *c,
                         int old_known, int64_t old_start, const char *qn, uint64_t qnh) {
  const int64_t start = contact_start(c);
  for (int which = 0; which < 2; which++) {
    const first_ref f = first_of(c, which);
    if (!(c->flags & f.done) || (old_known && start == old_start))
      continue;
    int rc = 0;
    if (c->flags & f.pending)
      c->flags &= ~f.pending; /* measured before any start was known */
    else if (old_known)
      rc = first_apply(p, task, ev, c, which, old_start, -1, qn, qnh, "");
    if (rc == 0)
      rc = first_apply(p, task, ev, c, which, start, 1, qn, qnh, "");
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Is the contact's first resolution one-touch: exactly one handled leg
 * (of any agent) with its wrap-up at or before it? g: its agent events
 * (NULL: none). */
static int one_touch(const op_plugin *p, const op_contact *c, const op_legs *g) {
  if (g == NULL)
    return 0;
  op_legfig all[OP_LEG_EVENTS];
  const int n = op_legs_derive(g, -1, p->cfg.interval_ms, all, OP_LEG_EVENTS);
  int k = 0;
  for (int i = 0; i < n; i++)
    k += all[i].acw_t <= c->res_ms;
  /* legs dropped from a full set (sealed agents) were handled before: a
   * contact with that many agent events is not one-touch */
  for (int a = 0; a < g->n_agents; a++)
    k += 2 * (g->sealed_ms[a] != 0 && g->sealed_ms[a] <= c->res_ms);
  return k == 1;
}

/* A first response / resolution candidate at the event: it is the first when
 * none was known or it is earlier than the one counted, which it then
 * replaces. Its agent: the event's (agent, may be ""). Returns 0 or an
 * error. */
static int first_note(op_cref *r, const ks_event *ev, int which, int channel, const char *qn,
                      uint64_t qnh, const char *agent) {
  op_plugin *p = r->p;
  ks_task *task = r->task;
  op_contact *c = r->c;
  const first_ref f = first_of(c, which);
  const int64_t t = ev->time_ms;
  if ((c->flags & f.done) && t >= *f.t)
    return 0; /* only the first one counts */
  const int counted = (c->flags & f.done) && !(c->flags & f.pending);
  if (counted) {
    int rc = first_apply(p, task, ev, c, which, contact_start(c), -1, qn, qnh, agent);
    if (rc != 0)
      return rc;
  }
  c->flags |= f.done;
  *f.t = t;
  *f.channel = (uint8_t)channel;
  *f.qnh = qnh;
  *f.anh = agent[0] ? ks_fnv1a(agent) : 0;
  if (which == 1 && (agent[0] || r->legs ||
                     p->api->keyed_get(task, p->legs, r->ck->buf, r->ck->len, 0) != NULL)) {
    /* its agent's name, for the reopen that may come (per-agent reopen_rate) */
    op_legs *g = op_legs_of(r);
    if (g == NULL)
      return KS_ENOMEM;
    snprintf(g->res_agent, sizeof g->res_agent, "%s", agent);
  }
  if (which == 1) {
    const op_legs *g =
        r->legs ? r->legs : p->api->keyed_get(task, p->legs, r->ck->buf, r->ck->len, 0);
    c->flags = (c->flags & ~C_ONE_TOUCH) | (one_touch(p, c, g) ? C_ONE_TOUCH : 0u);
  }
  if (!contact_start_known(c)) {
    /* completed when ContactCreated/Queued arrives; the records are made
     * now so that its queue and agent names can be found then */
    c->flags |= f.pending;
    ks_key dk;
    if (ks_dims_key(&dk, ks_nz(ev->msg->tenant), channel, qn) &&
        qagg_get(p, task, ev->interval_start_ms, &dk) == NULL)
      return KS_ENOMEM;
    if (*f.anh && p->cfg.per_agent != OP_AGENT_OFF &&
        agent_rec(p, task, ks_nz(ev->msg->tenant), ev->interval_start_ms, channel, qn, *f.anh,
                  agent) == NULL)
      return KS_ENOMEM;
    return 0;
  }
  return first_apply(p, task, ev, c, which, contact_start(c), 1, qn, qnh, agent);
}

/* Add (sign 1) or take out (sign -1) a handled leg's figures in its
 * wrap-up's interval. A closed interval (beyond restatement) is left as
 * published. */
static int leg_apply(const leg_ctx *x, const op_legs *g, const op_legfig *f, int sign) {
  op_plugin *p = x->p;
  char buf[KS_KEY_MAX];
  const char *qn = queue_name(x, g->queue_nh[f->queue], f->iv, f->channel, buf);
  if (qn == NULL)
    return 0;
  const int own = f->iv == x->ev->interval_start_ms; /* open: NULL is out of memory */
  ks_key dk;
  if (!ks_dims_key(&dk, x->tenant, f->channel, qn))
    return 0;
  op_qagg *a = qagg_get(p, x->task, f->iv, &dk);
  if (a == NULL)
    return own ? KS_ENOMEM : 0;
  const int64_t handle = f->talk_ms + f->hold_ms + f->acw_ms;
  a->handled += sign;
  a->handle_ms += sign * handle;
  a->talk_ms += sign * f->talk_ms;
  a->hold_ms += sign * f->hold_ms;
  a->held += sign * f->held;
  a->acw_ms += sign * f->acw_ms;
  a->transferred += sign * f->transferred;
  a->escalated += sign * f->escalated;
  if (agent_key(&dk, &p->cfg, x->tenant, f->channel, qn, x->agent)) {
    op_aagg *ag = p->api->window_get(x->task, p->by_agent, f->iv, dk.buf, dk.len, 1);
    if (ag == NULL)
      return own ? KS_ENOMEM : 0;
    ag->handled += sign;
    ag->handle_ms += sign * handle;
    ag->hold_ms += sign * f->hold_ms;
    ag->held += sign * f->held;
    ag->acw_ms += sign * f->acw_ms;
    ag->transferred += sign * f->transferred;
  }
  return 0;
}

/* Add (sign 1) or take out (-1) what an offer adds to its agent in the
 * interval of its ring end (docs/metrics.md, ring-no-answer). Every offer
 * changed by an event is that event's agent's. A closed interval is left as
 * published; an offer whose agent record cannot be had is not counted. */
static void offer_apply(const leg_ctx *x, const op_legs *g, const op_offig *f, int sign) {
  op_plugin *p = x->p;
  char buf[KS_KEY_MAX];
  const char *qn = "";
  if (p->cfg.per_agent == OP_AGENT_QUEUE)
    qn = queue_name(x, g->queue_nh[f->queue], f->iv, f->channel, buf);
  if (qn == NULL)
    return;
  op_aagg *ag =
      agent_rec(p, x->task, x->tenant, f->iv, f->channel, qn, g->agent_hash[f->agent], x->agent);
  if (ag == NULL)
    return;
  const int64_t sl_t = ks_sl_threshold_ms(&p->cfg.sl_t, f->channel);
  ag->offers += sign;
  ag->rna += sign * !f->answered;
  if (f->answered && f->ring_ms > 0)
    ag->ring_in_t += sign * (f->ring_ms <= sl_t);
  else if (f->answered)
    ag->ring_unk += sign;
}

/* Judge the contact's counted wrap-up for FCR against the customer's
 * history (a reopened episode is always a repeat). Returns 1 for a repeat,
 * 0 for none, or KS_ENOMEM. */
static int fcr_judge(const leg_ctx *x, int64_t t, int channel, uint8_t ep) {
  const op_config *cfg = &x->p->cfg;
  const Kpistream__V1__Event *m = x->ev->msg;
  ks_key uk;
  const uint64_t cust = x->r->c->customer_hash;
  ks_key_reset(&uk);
  ks_key_add_str(&uk, x->tenant);
  ks_key_add(&uk, &cust, sizeof cust);
  if (cfg->fcr_same_channel) {
    uint8_t ch = (uint8_t)channel;
    ks_key_add(&uk, &ch, 1);
  }
  op_customer *u = x->p->api->keyed_get(x->task, x->p->customers, uk.buf, uk.len, 1);
  if (u == NULL)
    return KS_ENOMEM;
  const uint64_t me = ks_fnv1a(ks_nz(m->contact_id));
  int repeat = ep > 0;
  if (u->seen && u->last_contact_hash != me) {
    int64_t gap = t - u->last_handled_ms;
    if (gap < 0)
      gap = -gap; /* reordered: the later of the two is judged */
    repeat |= gap <= cfg->fcr_window_ms;
  }
  if (!u->seen || t >= u->last_handled_ms) {
    u->last_handled_ms = t;
    u->last_contact_hash = me;
  }
  u->seen = 1;
  return repeat;
}

/* fcr_n and fcr_repeats of one counted contact, in (iv of t, channel,
 * queue), and for the agent (index) of that wrap-up. */
static int fcr_apply(const leg_ctx *x, const op_legs *g, int64_t t, int channel, int queue,
                     int agent, int repeat, int sign) {
  char buf[KS_KEY_MAX];
  const int64_t iv = ks_interval_floor(t, x->p->cfg.interval_ms);
  const char *qn = queue_name(x, g->queue_nh[queue], iv, channel, buf);
  ks_key dk;
  if (qn == NULL || !ks_dims_key(&dk, x->tenant, channel, qn))
    return 0;
  op_qagg *a = qagg_get(x->p, x->task, iv, &dk);
  if (a == NULL)
    return iv == x->ev->interval_start_ms ? KS_ENOMEM : 0;
  a->fcr_n += sign;
  a->fcr_repeats += sign * repeat;
  /* the agent's record holds the wrap-up's leg (made by leg_apply) */
  op_aagg *ag =
      agent_rec(x->p, x->task, x->tenant, iv, channel, qn, g->agent_hash[agent], x->agent);
  if (ag) {
    ag->fcr_n += sign;
    ag->fcr_repeats += sign * repeat;
  }
  return 0;
}

/* FCR counts each episode of a contact with a customer once, at its first
 * wrap-up (earliest in event time): after the set changed, count the latest
 * episode's first wrap-up, or move the count to an earlier one. */
static int fcr_update(const leg_ctx *x, const op_legs *g) {
  op_contact *c = x->r->c;
  if (!(c->flags & C_HAS_CUSTOMER))
    return 0;
  op_legfig all[OP_LEG_EVENTS];
  const int n = op_legs_derive(g, -1, x->p->cfg.interval_ms, all, OP_LEG_EVENTS);
  const op_legfig *best = NULL;
  uint8_t best_ep = 0;
  for (int i = 0; i < n; i++) {
    const uint8_t ep = episode_of(c, all[i].acw_t);
    if (best == NULL || ep > best_ep || (ep == best_ep && all[i].acw_t < best->acw_t)) {
      best = &all[i];
      best_ep = ep;
    }
  }
  if (best == NULL)
    return 0;
  /* fcr.transfers unresolved: an episode with a transfer or escalation in any
   * of its legs was not resolved on first contact */
  int xfer = 0;
  if (x->p->cfg.fcr_xfer_unresolved)
    for (int i = 0; i < n; i++)
      xfer |= episode_of(c, all[i].acw_t) == best_ep && (all[i].transferred || all[i].escalated);
  const int counted = (c->flags & C_FCR_COUNTED) != 0;
  const int was_xfer = (c->flags & C_FCR_XFER) != 0;
  if (counted && (best_ep < c->fcr_ep || (best_ep == c->fcr_ep && best->acw_t >= c->fcr_acw_ms)) &&
      !(best_ep == c->fcr_ep && xfer != was_xfer))
    return 0; /* already counted at this wrap-up (or an earlier one), same verdict */
  int repeat; /* judged against the customer's history */
  if (counted && best_ep == c->fcr_ep) {
    /* an earlier wrap-up of the counted episode, or a transfer found late:
     * the count moves there / its verdict changes */
    repeat = (c->flags & C_FCR_REPEAT) != 0;
    int rc = fcr_apply(x, g, c->fcr_acw_ms, c->fcr_channel, c->fcr_queue, c->fcr_agent,
                       repeat || was_xfer, -1);
    if (rc != 0)
      return rc;
    if (best->acw_t > c->fcr_acw_ms)
      best = NULL; /* the verdict changed only: the count stays where it was */
  } else {
    repeat = fcr_judge(x, best->acw_t, best->channel, best_ep);
    if (repeat < 0)
      return repeat;
  }
  c->flags = (c->flags & ~(C_FCR_REPEAT | C_FCR_XFER)) | C_FCR_COUNTED |
             (repeat ? C_FCR_REPEAT : 0u) | (xfer ? C_FCR_XFER : 0u);
  c->fcr_ep = best_ep;
  if (best != NULL) {
    c->fcr_acw_ms = best->acw_t;
    c->fcr_channel = best->channel;
    c->fcr_queue = best->queue;
    c->fcr_agent = best->agent;
  }
  return fcr_apply(x, g, c->fcr_acw_ms, c->fcr_channel, c->fcr_queue, c->fcr_agent, repeat || xfer,
                   1);
}

/* Index of hash h in list[0..*n), added when new; -1 when the list is full. */
static int index_of(uint64_t *list, uint8_t *n, int max, uint64_t h) {
  for (int i = 0; i < *n; i++)
    if (list[i] == h)
      return i;
  if (*n >= max)
    return -1;
  list[*n] = h;
  return (*n)++;
}

/* Is the interval of handled leg f closed (its figures final)? Its record
 * exists while the interval is open (or kept for restatement): the leg's
 * wrap-up made it. */
static int leg_final(const leg_ctx *x, const op_legs *g, const op_legfig *f) {
  char buf[KS_KEY_MAX];
  const char *qn = queue_name(x, g->queue_nh[f->queue], f->iv, f->channel, buf);
  ks_key dk;
  if (qn == NULL || !ks_dims_key(&dk, x->tenant, f->channel, qn))
    return 1;
  return x->p->api->window_get(x->task, x->p->by_queue, f->iv, dk.buf, dk.len, 0) == NULL;
}

/* Is offer e final: its ring-end interval closed? Its agent's record there
 * exists while it is open (the offer made it). Every event that decides its
 * outcome is no later than its ring end, and a later copy of it would be
 * late for the host, so dropping a final offer changes nothing. */
static int offer_final(const leg_ctx *x, const op_legs *g, const op_legev *e) {
  op_plugin *p = x->p;
  const int64_t iv = ks_interval_floor(e->t + e->ring_ms, p->cfg.interval_ms);
  char buf[KS_KEY_MAX];
  const char *qn = "";
  if (p->cfg.per_agent == OP_AGENT_QUEUE)
    qn = queue_name(x, g->queue_nh[e->queue], iv, e->channel, buf);
  return qn == NULL || agent_rec(p, x->task, x->tenant, iv, e->channel, qn, g->agent_hash[e->agent],
                                 NULL) == NULL;
}

/* Make room in a full set: drop the offers that are final; else the events
 * of the oldest handled leg whose figures are final (with the agent's
 * earlier events), sealing its agent up to its wrap-up. Returns 1 when room
 * was made. */
static int legs_compact(const leg_ctx *x, op_legs *g) {
  int kept = 0;
  for (int i = 0; i < g->n_ev; i++)
    if (g->ev[i].kind != LK_OFFER || !offer_final(x, g, &g->ev[i]))
      g->ev[kept++] = g->ev[i];
  if (kept < g->n_ev) {
    memset(&g->ev[kept], 0, (size_t)(g->n_ev - kept) * sizeof g->ev[0]);
    g->n_ev = (uint8_t)kept;
    return 1;
  }
  op_legfig all[OP_LEG_EVENTS];
  const int n = op_legs_derive(g, -1, x->p->cfg.interval_ms, all, OP_LEG_EVENTS);
  const op_legfig *pick = NULL;
  for (int i = 0; i < n; i++)
    if ((pick == NULL || all[i].acw_t < pick->acw_t) && leg_final(x, g, &all[i]))
      pick = &all[i];
  if (pick == NULL)
    return 0;
  const uint8_t a = pick->agent;
  if (pick->acw_t > g->sealed_ms[a])
    g->sealed_ms[a] = pick->acw_t;
  int k = 0;
  for (int i = 0; i < g->n_ev; i++)
    if (g->ev[i].agent != a || g->ev[i].t > g->sealed_ms[a])
      g->ev[k++] = g->ev[i];
  memset(&g->ev[k], 0, (size_t)(g->n_ev - k) * sizeof g->ev[0]);
  g->n_ev = (uint8_t)k;
  return k < OP_LEG_EVENTS;
}

/*
 * An agent event of kind LK_* joins the contact's set (unless it is a
 * duplicate); the agent's handled legs are derived before and after, and
 * what changed is taken out of / put into the wrap-ups' intervals. Returns
 * 1 when the event was new, 0 for a duplicate (or one not kept), or an error.
 */
static int leg_add(op_plugin *p, ks_task *task, const ks_event *ev, op_cref *r, int kind,
                   const char *agent, const char *qn, uint64_t qnh, int channel, int32_t ring) {
  const Kpistream__V1__Event *m = ev->msg;
  op_legs *g = op_legs_of(r);
  if (g == NULL)
    return KS_ENOMEM;
  const uint32_t idh = event_idh(m);
  const uint64_t ah = ks_fnv1a(agent);
  int ai = -1, qi = 0, handled = 0; /* handled: the agent has a wrap-up in the set */
  int offered = kind == LK_OFFER;   /* the agent has an offer in the set */
  for (int i = 0; i < g->n_agents; i++)
    if (g->agent_hash[i] == ah)
      ai = i;
  if (ai >= 0)
    for (int i = 0; i < g->n_ev; i++) {
      const op_legev *e = &g->ev[i];
      if (e->agent != ai)
        continue;
      if (e->t == ev->time_ms && e->kind == kind && e->idh == idh)
        return 0; /* a duplicate */
      handled |= e->kind == LK_ACW;
      offered |= e->kind == LK_OFFER;
    }
  if (ai >= 0 && g->sealed_ms[ai] && ev->time_ms <= g->sealed_ms[ai])
    return 0; /* a leg whose figures are final */
  if (ai < 0)
    ai = index_of(g->agent_hash, &g->n_agents, OP_LEG_AGENTS, ah);
  if (kind == LK_ACW || kind == LK_OFFER)
    qi = index_of(g->queue_nh, &g->n_queues, OP_LEG_QUEUES, qnh);
  leg_ctx x = {p, task, ev, r, ks_nz(m->tenant), agent, qn, qnh};
  if (g->n_ev >= OP_LEG_EVENTS && ai >= 0 && qi >= 0) {
    (void)legs_compact(&x, g);
    if (g->sealed_ms[ai] && ev->time_ms <= g->sealed_ms[ai])
      return 0; /* its own leg was final and has been dropped */
  }
  if (ai < 0 || qi < 0 || g->n_ev >= OP_LEG_EVENTS) {
    /* logged at the 1st, 10th, 100th, ... event not kept */
    const int64_t nfull = atomic_fetch_add_explicit(&p->legs_full, 1, memory_order_relaxed) + 1;
    int64_t pow10 = 1;
    while (pow10 * 10 <= nfull)
      pow10 *= 10;
    if (nfull == pow10)
      p->api->log(p->ctx, KS_LOG_WARN,
                  "contact '%s' (tenant '%s'): more than %d agent events, %d agents or %d "
                  "wrap-up queues in open intervals; this event (%s at %lld) is not counted "
                  "(%lld so far; see the operations limits in docs/metrics.md)",
                  ks_nz(m->contact_id), ks_nz(m->tenant), OP_LEG_EVENTS, OP_LEG_AGENTS,
                  OP_LEG_QUEUES, ks_nz(m->event_id)[0] ? ks_nz(m->event_id) : "no event id",
                  (long long)ev->time_ms, (long long)nfull);
    return 0;
  }
  const int64_t ivms = p->cfg.interval_ms;
  op_legfig before[OP_LEG_EVENTS], after[OP_LEG_EVENTS];
  /* an agent with no wrap-up has no handled leg: nothing to take out, and
   * nothing counted until its wrap-up arrives */
  const int nb = handled ? op_legs_derive(g, ai, ivms, before, OP_LEG_EVENTS) : 0;
  op_offig obefore[OP_LEG_EVENTS], oafter[OP_LEG_EVENTS];
  const int nob = offered ? op_offers_derive(g, ai, ivms, obefore, OP_LEG_EVENTS) : 0;
  op_legev *e = &g->ev[g->n_ev++];
  memset(e, 0, sizeof *e);
  e->t = ev->time_ms;
  e->idh = idh;
  e->kind = (uint8_t)kind;
  e->agent = (uint8_t)ai;
  e->channel = (uint8_t)channel;
  e->queue = (uint8_t)qi;
  e->ring_ms = kind == LK_OFFER ? ring : 0;
  if (offered) {
    /* the offers whose outcome changed: out with the old, in with the new */
    const int noa = op_offers_derive(g, ai, ivms, oafter, OP_LEG_EVENTS);
    uint8_t omatched[OP_LEG_EVENTS] = {0};
    for (int i = 0; i < nob; i++) {
      int same = -1;
      for (int j = 0; j < noa && same < 0; j++)
        if (!omatched[j] && memcmp(&obefore[i], &oafter[j], sizeof obefore[i]) == 0)
          same = j;
      if (same >= 0)
        omatched[same] = 1;
      else
        offer_apply(&x, g, &obefore[i], -1);
    }
    for (int j = 0; j < noa; j++)
      if (!omatched[j])
        offer_apply(&x, g, &oafter[j], 1);
  }
  if (!handled && kind != LK_ACW)
    return 1;
  const int na = op_legs_derive(g, ai, ivms, after, OP_LEG_EVENTS);

  /* the legs whose figures changed: out with the old, in with the new */
  uint8_t matched[OP_LEG_EVENTS] = {0};
  int changed = 0;
  for (int i = 0; i < nb; i++) {
    int same = -1;
    for (int j = 0; j < na && same < 0; j++)
      if (!matched[j] && memcmp(&before[i], &after[j], sizeof before[i]) == 0)
        same = j;
    if (same >= 0) {
      matched[same] = 1;
      continue;
    }
    changed = 1;
    int rc = leg_apply(&x, g, &before[i], -1);
    if (rc != 0)
      return rc;
  }
  for (int j = 0; j < na; j++) {
    if (matched[j])
      continue;
    changed = 1;
    int rc = leg_apply(&x, g, &after[j], 1);
    if (rc != 0)
      return rc;
  }
  /* one-touch follows the wrap-ups at or before the first resolution */
  op_contact *c = r->c;
  if (changed && (c->flags & C_RES_DONE)) {
    const int ot = one_touch(p, c, g), was = (c->flags & C_ONE_TOUCH) != 0;
    if (ot != was) {
      c->flags ^= C_ONE_TOUCH;
      if (!(c->flags & C_RES_PENDING) && contact_start_known(c)) {
        int rc = first_apply(p, task, ev, c, 2, contact_start(c), ot ? 1 : -1, qn, qnh, agent);
        if (rc != 0)
          return rc;
      }
    }
  }
  /* FCR follows the wrap-ups; with fcr.transfers unresolved also a leg
   * that became (or stopped being) transferred or escalated */
  if (kind == LK_ACW || (kind == LK_ANSWER && handled) || (changed && p->cfg.fcr_xfer_unresolved)) {
    int rc = fcr_update(&x, g);
    if (rc != 0)
      return rc;
  }
  return 1;
}

/* HoldStarted, HoldEnded, ContactEnded, ContactTransferred, ContactEscalated,
 * AfterContactWorkEnded. */
static int on_leg_event(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck, int kind) {
  const Kpistream__V1__Event *m = ev->msg;
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = m->channel ? (int)m->channel : c->channel;
  /* the acting agent: the event's, else the contact's current one */
  char abuf[OP_NAME_MAX], qbuf[OP_NAME_MAX];
  const char *agent = ks_nz(m->agent_id);
  if (agent[0] == '\0') {
    op_name_get(c, 1, abuf);
    agent = abuf;
  }
  if (agent[0] == '\0' && kind != LK_ACW)
    return 0;
  const char *qn = event_queue(c, m, qbuf);
  uint64_t qnh;
  (void)fnv1a_nh(qn, &qnh);
  int rc = leg_add(p, task, ev, &r, kind, agent, qn, qnh, channel, 0);
  return rc < 0 ? rc : 0;
}

/* ---- ContactCreated / ContactQueued ---------------------------------------- */

/* When the slot was offered: its earliest start event (the contact's
 * creation when a ContactCreated named the queue, its queue entry). */
static int64_t offer_time(const op_contact *c, const op_qslot *s) {
  if ((s->flags2 & QS2_BY_CREATED) && c->created_ms < s->queued_ms)
    return c->created_ms;
  return s->queued_ms;
}

static int on_start(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck, int created) {
  const op_config *cfg = &p->cfg;
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = m->channel ? (int)m->channel : c->channel;
  const int old_known = contact_start_known(c);
  const int64_t old_start = old_known ? contact_start(c) : 0;

  if (created) {
    if (!(c->flags & C_CREATED) || t < c->created_ms)
      c->created_ms = t;
    c->flags |= C_CREATED;
  } else {
    if (!(c->flags & C_QUEUED) || t < c->first_queued_ms)
      c->first_queued_ms = t;
    c->flags |= C_QUEUED;
  }

  /* Which queue: the event's; a ContactQueued without one falls back to
   * the contact's current queue. ContactCreated offers only email and chat
   * contacts that name a queue. */
  char qbuf[OP_NAME_MAX];
  const char *qn = ks_nz(m->queue);
  int queue_part = 1;
  if (created && (qn[0] == '\0' || !is_text_channel(channel)))
    queue_part = 0;
  if (!created && qn[0] == '\0') {
    op_name_get(c, 0, qbuf);
    qn = qbuf;
  }

  int offer = 0, queued = 0, w_channel = channel;
  op_wait w = {0, 0, 0, 0, 0}, w_old = {0, 0, 0, 0, 0}; /* an outcome's wait, as it was and is */
  int cb_new = 0;                                       /* the slot became a callback request */
  if (queue_part) {
    uint64_t qnh;
    op_qslot *s = op_slot_get(&r, slot_key(c, fnv1a_nh(qn, &qnh), t));
    if (s == NULL)
      return KS_ENOMEM;
    const int64_t offered_at = (s->flags & QS_OFFERED) ? offer_time(c, s) : 0;
    if (!(s->flags & QS_OFFERED)) {
      s->flags |= QS_OFFERED;
      s->offer_channel = (uint8_t)channel;
      offer = 1;
    }
    if (created)
      s->flags2 |= QS2_BY_CREATED;
    if (!created && !(s->flags & QS_QUEUED)) {
      s->flags |= QS_QUEUED;
      queued = 1;
    }
    if (!created && m->contact_queued && m->contact_queued->callback &&
        !(s->flags2 & QS2_CALLBACK)) {
      s->flags2 |= QS2_CALLBACK;
      cb_new = 1;
    }
    w_old = slot_outcome(cfg, s); /* kind 0 while the contact waits */
    if (cb_new && w_old.kind == 1) {
      /* answered before its ContactQueued arrived: a callback answered */
      ks_key bk;
      op_qagg *a = NULL;
      if (ks_dims_key(&bk, ks_nz(m->tenant), s->done_channel, qn))
        a = qagg_get(p, task, w_old.iv, &bk);
      if (a)
        a->cb_answered++;
      else if (w_old.iv == ev->interval_start_ms)
        return KS_ENOMEM;
    }
    if (!(s->flags & QS_START_KNOWN)) {
      s->queued_ms = t;
      s->flags |= QS_START_KNOWN;
      if (created)
        s->flags |= QS_START_CREATED;
    } else if (!created && ((s->flags & QS_START_CREATED) || t < s->queued_ms) &&
               (!w_old.kind || t <= s->done_ms)) {
      /* the real queue entry replaces the creation time (or an earlier
       * duplicate replaces a later one), also when the answer or abandon
       * came first (not a queueing after it): its wait is measured again */
      s->queued_ms = t;
      s->flags &= ~QS_START_CREATED;
    }
    if (!offer && offer_time(c, s) < offered_at) {
      /* an earlier start event: the offer moves to its interval */
      op_qagg *a = NULL;
      ks_key ok;
      if (ks_dims_key(&ok, ks_nz(m->tenant), s->offer_channel, qn))
        a = qagg_get(p, task, ks_interval_floor(offered_at, cfg->interval_ms), &ok);
      if (a)
        a->offered--; /* NULL: closed, it keeps what it published */
      s->offer_channel = (uint8_t)channel;
      offer = 1;
    }
    /* answered/abandoned before this start arrived (out of order) */
    s->flags &= ~QS_WAIT_PENDING;
    w = slot_outcome(cfg, s);
    w_channel = s->done_channel;
    if (w.kind && w_old.known && w_old.wait_ms == w.wait_ms)
      w.kind = w_old.kind = 0; /* the wait did not change */
    if (op_name_set(&r, 0, qn, qnh) != 0)
      return KS_ENOMEM;
  } else if (qn[0] == '\0') {
    op_name_get(c, 0, qbuf);
    qn = qbuf;
  }
  /* first response and resolution measured from the start it had before */
  uint64_t qnh;
  (void)fnv1a_nh(qn, &qnh);
  int rc = first_restart(p, task, ev, c, old_known, old_start, qn, qnh);
  if (rc != 0)
    return rc;
  /* c is not used past this point */

  if (!offer && !queued && !cb_new && !w.kind)
    return 0;
  ks_key dk;
  if (!ks_dims_key(&dk, ks_nz(m->tenant), channel, qn))
    return 0;
  if (offer || queued || cb_new) {
    op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
    if (a == NULL)
      return KS_ENOMEM;
    a->offered += offer;
    a->queued += queued;
    a->callbacks += cb_new;
  }
  if (w.kind) {
    /* the same record the answer/abandon was counted in */
    rc = wait_apply(p, task, ev, &w_old, w_channel, qn, 0, -1);
    if (rc == 0)
      rc = wait_apply(p, task, ev, &w, w_channel, qn, 0, 1);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* ---- ContactAnswered / ContactAbandoned ------------------------------------ */

static int on_answered(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = m->channel ? (int)m->channel : c->channel;
  const char *agent = ks_nz(m->agent_id);
  char qbuf[OP_NAME_MAX];
  const char *qn = event_queue(c, m, qbuf);
  uint64_t qnh;
  /* answered without queued: a fresh slot */
  op_qslot *s = op_slot_get(&r, slot_key(c, fnv1a_nh(qn, &qnh), t));
  if (s == NULL)
    return KS_ENOMEM;
  int rc = slot_done(p, task, ev, s, 1, channel, qn);
  if (rc != 0)
    return rc;
  if (op_name_set(&r, 0, qn, qnh) != 0)
    return KS_ENOMEM;
  int leg_answer = 0;
  if (agent[0]) {
    uint64_t anh;
    (void)fnv1a_nh(agent, &anh);
    if (op_name_set(&r, 1, agent, anh) != 0)
      return KS_ENOMEM;
    leg_answer = leg_add(p, task, ev, &r, LK_ANSWER, agent, qn, qnh, channel, 0);
    if (leg_answer < 0)
      return leg_answer;
  }
  /* c is not used past this point */

  ks_key dk;
  if (leg_answer && agent_key(&dk, &p->cfg, ks_nz(m->tenant), channel, qn, agent)) {
    op_aagg *g = p->api->window_get(task, p->by_agent, ev->interval_start_ms, dk.buf, dk.len, 1);
    if (g == NULL)
      return KS_ENOMEM;
    g->answered++;
  }
  return 0;
}

static int on_abandoned(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  int stage = m->contact_abandoned ? (int)m->contact_abandoned->stage : 0;
  if (stage == KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_IVR)
    return 0; /* never an abandon */
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = m->channel ? (int)m->channel : c->channel;
  char qbuf[OP_NAME_MAX];
  const char *qn = event_queue(c, m, qbuf);
  /* Stage unspecified and no queue known: the contact never reached a
   * queue, so it is treated as an IVR disconnect. */
  if (stage == KPISTREAM__V1__ABANDON_STAGE__ABANDON_STAGE_UNSPECIFIED && qn[0] == '\0')
    return 0;
  uint64_t qnh;
  op_qslot *s = op_slot_get(&r, slot_key(c, fnv1a_nh(qn, &qnh), t));
  if (s == NULL)
    return KS_ENOMEM;
  /* an abandon after the answer (or a duplicate) is not an abandon */
  int rc = slot_done(p, task, ev, s, 2, channel, qn);
  if (rc != 0)
    return rc;
  return op_name_set(&r, 0, qn, qnh) != 0 ? KS_ENOMEM : 0;
}

/* ---- the contact of an event, with its channel and queue ---------------------- */

typedef struct op_evc {
  op_cref r;
  int channel;    /* the event's, else the contact's */
  const char *qn; /* the event's queue, else the contact's current one */
  uint64_t qnh;   /* its name hash */
  char qbuf[OP_NAME_MAX];
} op_evc;

/* Fetch the event's contact into x (see op_contact_fetch). NULL when out of
 * state memory. */
static op_contact *evc_open(op_evc *x, op_plugin *p, ks_task *task, const ks_event *ev,
                            ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  op_contact *c = op_contact_fetch(&x->r, p, task, ck, m);
  if (c == NULL)
    return NULL;
  x->channel = m->channel ? (int)m->channel : c->channel;
  x->qn = event_queue(c, m, x->qbuf);
  (void)fnv1a_nh(x->qn, &x->qnh);
  return c;
}

/* ---- ContactOffered ---------------------------------------------------------- */

/* An offer (ringing) to the agent joins the contact's agent events; its
 * outcome (answered by that agent or ring-no-answer) is derived from them. */
static int on_offered(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const char *agent = ks_nz(m->agent_id);
  if (agent[0] == '\0' || m->contact_offered == NULL || p->cfg.per_agent == OP_AGENT_OFF)
    return 0; /* an offer to nobody (or no per-agent results): nothing to count */
  op_evc x;
  if (evc_open(&x, p, task, ev, ck) == NULL)
    return KS_ENOMEM;
  const int64_t ring = m->contact_offered->ring_ms; /* >= 0: the decoder refuses negatives */
  const int32_t ring32 = ring > INT32_MAX ? INT32_MAX : ring < 0 ? 0 : (int32_t)ring;
  int rc = leg_add(p, task, ev, &x.r, LK_OFFER, agent, x.qn, x.qnh, x.channel, ring32);
  return rc < 0 ? rc : 0;
}

/* ---- AgentResponse / ContactResolved --------------------------------------- */

/* The first public human AgentResponse (email, chat). */
static int on_response(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const Kpistream__V1__AgentResponse *b = m->agent_response;
  if (b == NULL || b->is_bot || !b->is_public ||
      m->channel == KPISTREAM__V1__CHANNEL__CHANNEL_VOICE)
    return 0;
  op_evc x;
  if (evc_open(&x, p, task, ev, ck) == NULL)
    return KS_ENOMEM;
  if (x.channel == KPISTREAM__V1__CHANNEL__CHANNEL_VOICE)
    return 0;
  return first_note(&x.r, ev, 0, x.channel, x.qn, x.qnh, ks_nz(m->agent_id));
}

/* ---- ContactResolved / ContactReopened ------------------------------------- */

/* A resolution: resolution time counts the contact's first one; full
 * resolution time the first of each episode (the first, and the first after
 * each reopen), from the contact's start. */
static int on_resolved(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  op_evc x;
  op_contact *c = evc_open(&x, p, task, ev, ck);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = x.channel;
  const char *qn = x.qn;
  const uint8_t ep = episode_of(c, t);
  if (ep == 0) {
    c->flags |= C_FRES_DONE; /* episode 0's full resolution is the first resolution */
    return first_note(&x.r, ev, 1, channel, qn, x.qnh, ks_nz(m->agent_id));
  }
  if ((c->flags & C_FRES_DONE) && ep <= c->fres_ep)
    return 0; /* only the first of each episode */
  c->flags |= C_FRES_DONE;
  c->fres_ep = ep;
  if (!contact_start_known(c))
    return 0;
  ks_key dk;
  if (!ks_dims_key(&dk, ks_nz(m->tenant), channel, qn))
    return 0;
  op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
  if (a == NULL)
    return KS_ENOMEM;
  a->fres_n++;
  a->fres_sum_ms += clamp0(t - contact_start(c));
  return 0;
}

/* A reopen starts the contact's next episode (counted in the reopen's
 * interval and the contact's current queue). */
static int on_reopened(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const uint32_t idh = event_idh(m);
  if (c->n_reopen && c->reopen_ms == t && c->reopen_idh == idh)
    return 0; /* a duplicate */
  if (c->n_reopen < UINT8_MAX)
    c->n_reopen++;
  if (c->n_reopen == 1 || t >= c->reopen_ms) {
    c->reopen_ms = t;
    c->reopen_idh = idh;
  }
  const int channel = m->channel ? (int)m->channel : c->channel;
  char qbuf[OP_NAME_MAX];
  const char *qn = event_queue(c, m, qbuf);
  /* the first reopen is charged to the agent of the first resolution */
  const op_legs *g = NULL;
  if (c->n_reopen == 1 && (c->flags & C_RES_DONE) && c->res_anh && c->res_ms <= t)
    g = p->api->keyed_get(task, p->legs, ck->buf, ck->len, 0);
  if (g && ks_fnv1a(g->res_agent) == c->res_anh) {
    op_aagg *ag = agent_rec(p, task, ks_nz(m->tenant), ev->interval_start_ms, channel, qn,
                            c->res_anh, g->res_agent);
    if (ag == NULL && p->cfg.per_agent != OP_AGENT_OFF)
      return KS_ENOMEM;
    if (ag)
      ag->reopened++;
  }
  ks_key dk;
  if (!ks_dims_key(&dk, ks_nz(m->tenant), channel, qn))
    return 0;
  op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
  if (a == NULL)
    return KS_ENOMEM;
  a->reopened++;
  return 0;
}

/* ---- dispatch ------------------------------------------------------------------- */

static int op_on_event(void *data, ks_task *task, const ks_event *ev) {
  op_plugin *p = data;
  if (p == NULL || ev == NULL || ev->msg == NULL)
    return 0;
  ks_key ck;
  if (!ks_contact_key(&ck, ev->msg))
    return 0; /* no contact id (or an oversized key): nothing to correlate */
  switch (ev->body) {
  case KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED:
    return on_start(p, task, ev, &ck, 1);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED:
    return on_start(p, task, ev, &ck, 0);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED:
    return on_answered(p, task, ev, &ck);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED:
    return on_abandoned(p, task, ev, &ck);
  case KPISTREAM__V1__EVENT__BODY_AGENT_RESPONSE:
    return on_response(p, task, ev, &ck);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED:
    return on_resolved(p, task, ev, &ck);
  case KPISTREAM__V1__EVENT__BODY_HOLD_STARTED:
    return on_leg_event(p, task, ev, &ck, LK_HOLD_START);
  case KPISTREAM__V1__EVENT__BODY_HOLD_ENDED:
    return on_leg_event(p, task, ev, &ck, LK_HOLD_END);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED:
    return on_leg_event(p, task, ev, &ck, LK_END);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED:
    return on_leg_event(p, task, ev, &ck, LK_TRANSFER);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED:
    return on_leg_event(p, task, ev, &ck, LK_ESCALATE);
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    return on_leg_event(p, task, ev, &ck, LK_ACW);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_REOPENED:
    return on_reopened(p, task, ev, &ck);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_OFFERED:
    return on_offered(p, task, ev, &ck);
  default:
    return 0;
  }
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int op_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                   size_t errstr_size) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, config_get_choice))
    return KS_EABI;
  op_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  atomic_init(&p->legs_full, 0);
  p->api = api;
  p->ctx = ctx;
  if (op_config_load(ctx, api, &p->cfg, errstr, errstr_size) != 0) {
    api->free(p);
    return KS_EINVAL;
  }
  const op_config *cfg = &p->cfg;
  p->contacts = api->table_declare(ctx, "contacts", KS_TABLE_KEYED, sizeof(op_contact),
                                   OP_STATE_VERSION, cfg->contact_ttl_ms);
  p->customers = api->table_declare(ctx, "customers", KS_TABLE_KEYED, sizeof(op_customer),
                                    OP_STATE_VERSION, cfg->fcr_window_ms);
  p->by_queue =
      api->table_declare(ctx, "by_queue", KS_TABLE_WINDOWED, sizeof(op_qagg), OP_STATE_VERSION, 0);
  p->by_agent =
      api->table_declare(ctx, "by_agent", KS_TABLE_WINDOWED, sizeof(op_aagg), OP_STATE_VERSION, 0);
  /* declared after the first four, which keep their places in checkpoints */
  p->contacts_more =
      api->table_declare(ctx, "contacts_more", KS_TABLE_KEYED, sizeof(op_contact_more),
                         OP_STATE_VERSION, cfg->contact_ttl_ms);
  p->legs = api->table_declare(ctx, "legs", KS_TABLE_KEYED, sizeof(op_legs), OP_STATE_VERSION,
                               cfg->contact_ttl_ms);
  if (!p->contacts || !p->customers || !p->by_queue || !p->by_agent || !p->contacts_more ||
      !p->legs) {
    api->log(ctx, KS_LOG_ERROR, "could not declare the state tables");
    api->free(p);
    return KS_EINVAL;
  }
  api->log(
      ctx, KS_LOG_DEBUG,
      "short_abandon_threshold=%lldms service_level.threshold voice/email/chat=%lld/%lld/%lldms "
      "fcr.window=%lldms contact_ttl=%lldms interval=%lldms",
      (long long)cfg->short_abandon_ms, (long long)cfg->sl_t.ms[1], (long long)cfg->sl_t.ms[2],
      (long long)cfg->sl_t.ms[3], (long long)cfg->fcr_window_ms, (long long)cfg->contact_ttl_ms,
      (long long)cfg->interval_ms);
  *plugin_data = p;
  return 0;
}

static void op_destroy(void *data) {
  op_plugin *p = data;
  if (p)
    p->api->free(p);
}

static const ks_plugin_descriptor op_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = OP_PLUGIN_NAME,
    .version = OP_PLUGIN_VERSION,
    .description = "operations KPIs: volumes, abandonment, speed of answer, handle time, service "
                   "level, FCR, resolution, callbacks; per agent incl. ring-no-answer",
    .interests = op_interests,
    .init_ex = op_init,
    .on_event = op_on_event,
    .on_interval_close = op_on_interval_close,
    .destroy = op_destroy,
    .option_map = op_option_map, /* operations_config.c */
    /* on_interval_close only reads state and emits: late events restate */
    .flags = KS_PLUGIN_F_RESTATABLE,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &op_descriptor;
}
