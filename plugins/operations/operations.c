/*
 * operations — the operations KPI family: offered, answered, handled,
 * abandoned, short abandoned, abandonment rate, ASA, longest wait, first
 * response time, AHT (talk, hold, ACW), service level, FCR, transfer and
 * escalation rates, traffic intensity and resolution time, per interval and
 * (tenant, channel, queue), and per agent where meaningful.
 *
 * Formulas, attribution rules and configuration: docs/metrics.md.
 *
 * Attribution in one line: a metric lands in the interval of the event that
 * completes it (answer for ASA and SL, abandon for abandons, end of
 * after-contact work for handle time, FCR, transfers and escalations, first
 * public human reply for FRT, first ContactResolved for resolution time).
 * When the event that *starts* a measurement (ContactQueued/ContactCreated)
 * arrives after the one that completes it, the measurement is added to the
 * completing event's interval if that interval is still open, else dropped.
 *
 * Robustness: events without a contact id, or with ids too long for a state
 * key, are ignored; negative durations (clock skew, reordering) are clamped
 * to 0; duplicates are absorbed by per-contact flags; leg events after the
 * leg's AfterContactWorkEnded are ignored.
 */
#include <string.h>

#include "operations_internal.h"

_Static_assert(offsetof(op_qagg, handled) == 64 && offsetof(op_qagg, fcr_n) == 128,
               "op_qagg layout");

/* Bump when a record layout changes (checkpoints of another version are
 * refused by the host). 2: op_contact laid out by cache line. 3: op_contact
 * cut to 320 bytes; its third and fourth queues, second and third legs in
 * contacts_more. */
#define OP_STATE_VERSION 3

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
                                        0};

/* ---- small helpers --------------------------------------------------------- */

static inline const char *nz(const char *s) {
  return s ? s : "";
}

static inline int64_t clamp0(int64_t v) {
  return v < 0 ? 0 : v;
}

/* Start of the interval t falls in (intervals are aligned to the epoch, as
 * the host's ev->interval_start_ms). */
static inline int64_t iv_of(const op_config *cfg, int64_t t) {
  int64_t r = t % cfg->interval_ms;
  if (r < 0)
    r += cfg->interval_ms;
  return t - r;
}

/* Key of the contact: (tenant, contact_id). Returns 0 when unusable. */
static inline int contact_key(ks_key *k, const Kpistream__V1__Event *m) {
  const char *cid = nz(m->contact_id);
  if (cid[0] == '\0')
    return 0;
  ks_key_reset(k);
  ks_key_add_str(k, nz(m->tenant));
  ks_key_add_str(k, cid);
  return !k->overflow;
}

/* Dimension key of the by_queue table: (tenant, channel byte, queue). */
static inline int dims_key(ks_key *k, const char *tenant, int channel, const char *queue) {
  uint8_t ch = (uint8_t)channel;
  ks_key_reset(k);
  ks_key_add_str(k, tenant);
  ks_key_add(k, &ch, 1);
  ks_key_add_str(k, queue);
  return !k->overflow;
}

static inline int contact_start_known(const op_contact *c) {
  return (c->flags & (C_CREATED | C_QUEUED)) != 0;
}

/* Start of a contact for FRT and resolution time: created, else first queued. */
static inline int64_t contact_start(const op_contact *c) {
  return (c->flags & C_CREATED) ? c->created_ms : c->first_queued_ms;
}

static inline void leg_close_hold(op_leg *l, int64_t at) {
  if (l->flags & L_HOLD_OPEN) {
    l->hold_ms += clamp0(at - l->hold_start_ms);
    l->flags &= ~L_HOLD_OPEN;
    l->flags |= L_HELD;
  }
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
} op_wait;

static void apply_wait(const op_config *cfg, op_qagg *a, const op_wait *w, int count_event,
                       int channel) {
  const int64_t sl_t = ks_sl_threshold_ms(&cfg->sl_t, channel);
  if (w->kind == 1) {
    if (count_event)
      a->answered++;
    if (w->known) {
      a->ans_known++;
      a->wait_sum_ms += w->wait_ms;
      a->ans_in_t += w->wait_ms <= sl_t;
    }
  } else if (w->kind == 2) {
    if (count_event)
      a->ab_all++;
    if (w->known) {
      int is_short = w->wait_ms < cfg->short_abandon_ms;
      int in_t = w->wait_ms <= sl_t;
      a->ab_known++;
      a->ab_short += is_short;
      a->ab_in_t += in_t;
      a->ab_short_in_t += is_short && in_t;
    }
  }
  if (w->kind && w->known) {
    if (a->n_waits == 0 || w->wait_ms > a->max_wait_ms)
      a->max_wait_ms = w->wait_ms;
    a->n_waits++;
  }
}

static inline op_qagg *qagg_get(op_plugin *p, ks_task *task, int64_t iv, const ks_key *dk) {
  return p->api->window_get(task, p->by_queue, iv, dk->buf, dk->len, 1);
}

/* A late start time completes a measurement stamped in an earlier (still
 * open) interval: add `add_ms` to a sum and 1 to its count there. */
static int apply_late_sum(op_plugin *p, ks_task *task, int64_t iv, const ks_key *dk, int which,
                          int64_t add_ms) {
  op_qagg *a = qagg_get(p, task, iv, dk);
  if (a == NULL)
    return 0; /* that interval has closed: the measurement is dropped */
  if (which == 0) {
    a->frt_n++;
    a->frt_sum_ms += add_ms;
  } else {
    a->res_n++;
    a->res_sum_ms += add_ms;
  }
  return 0;
}

/* ---- ContactCreated / ContactQueued ---------------------------------------- */

static int on_start(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck, int created) {
  const op_config *cfg = &p->cfg;
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = m->channel ? (int)m->channel : c->channel;

  if (created) {
    if (!(c->flags & C_CREATED) || t < c->created_ms)
      c->created_ms = t;
    c->flags |= C_CREATED;
  } else {
    if (!(c->flags & C_QUEUED) || t < c->first_queued_ms)
      c->first_queued_ms = t;
    c->flags |= C_QUEUED;
  }

  /* First response / resolution stamped before any start was known. */
  int64_t frt_add = -1, frt_iv = 0, res_add = -1, res_iv = 0;
  if (c->flags & C_FRT_PENDING) {
    c->flags &= ~C_FRT_PENDING;
    frt_add = clamp0(c->frt_ms - contact_start(c));
    frt_iv = iv_of(cfg, c->frt_ms);
  }
  if (c->flags & C_RES_PENDING) {
    c->flags &= ~C_RES_PENDING;
    res_add = clamp0(c->res_ms - contact_start(c));
    res_iv = iv_of(cfg, c->res_ms);
  }

  /* Which queue: the event's; a ContactQueued without one falls back to
   * the contact's current queue. ContactCreated offers only email and chat
   * contacts that name a queue. */
  char qbuf[OP_NAME_MAX];
  const char *qn = nz(m->queue);
  int queue_part = 1;
  if (created && (qn[0] == '\0' || !is_text_channel(channel)))
    queue_part = 0;
  if (!created && qn[0] == '\0') {
    op_name_get(c, 0, qbuf);
    qn = qbuf;
  }

  int offer = 0, queued = 0, w_channel = channel;
  op_wait w = {0, 0, 0, 0};
  if (queue_part) {
    uint64_t qnh;
    op_qslot *s = op_slot_get(&r, fnv1a_nh(qn, &qnh));
    if (s == NULL)
      return KS_ENOMEM;
    if (!(s->flags & QS_OFFERED)) {
      s->flags |= QS_OFFERED;
      offer = 1;
    }
    if (!created && !(s->flags & QS_QUEUED)) {
      s->flags |= QS_QUEUED;
      queued = 1;
    }
    const int done = (s->flags & (QS_ANSWERED | QS_ABANDONED)) != 0;
    if (!(s->flags & QS_START_KNOWN)) {
      s->queued_ms = t;
      s->flags |= QS_START_KNOWN;
      if (created)
        s->flags |= QS_START_CREATED;
    } else if (!created && !done && ((s->flags & QS_START_CREATED) || t < s->queued_ms)) {
      /* the real queue entry replaces the creation time (or an earlier
       * duplicate replaces a later one) while the contact still waits */
      s->queued_ms = t;
      s->flags &= ~QS_START_CREATED;
    }
    if (s->flags & QS_WAIT_PENDING) {
      /* answered/abandoned before this start arrived (out of order) */
      s->flags &= ~QS_WAIT_PENDING;
      w.kind = (s->flags & QS_ANSWERED) ? 1 : 2;
      w.known = 1;
      w.wait_ms = clamp0(s->done_ms - s->queued_ms);
      w.iv = iv_of(cfg, s->done_ms);
      w_channel = s->done_channel;
    }
    if (op_name_set(&r, 0, qn, qnh) != 0)
      return KS_ENOMEM;
  } else if (qn[0] == '\0' && (frt_add >= 0 || res_add >= 0)) {
    op_name_get(c, 0, qbuf); /* dims of late FRT/resolution */
    qn = qbuf;
  }
  /* c is not used past this point */

  if (!offer && !queued && !w.kind && frt_add < 0 && res_add < 0)
    return 0;
  ks_key dk;
  if (!dims_key(&dk, nz(m->tenant), channel, qn))
    return 0;
  if (offer || queued) {
    op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
    if (a == NULL)
      return KS_ENOMEM;
    a->offered += offer;
    a->queued += queued;
  }
  if (w.kind) {
    /* the same record the answer/abandon was counted in */
    ks_key wk;
    if (dims_key(&wk, nz(m->tenant), w_channel, qn)) {
      op_qagg *a = qagg_get(p, task, w.iv, &wk);
      if (a)
        apply_wait(cfg, a, &w, 0, w_channel);
    }
  }
  if (frt_add >= 0)
    apply_late_sum(p, task, frt_iv, &dk, 0, frt_add);
  if (res_add >= 0)
    apply_late_sum(p, task, res_iv, &dk, 1, res_add);
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
  const char *agent = nz(m->agent_id);
  char qbuf[OP_NAME_MAX];
  const char *qn = nz(m->queue);
  if (qn[0] == '\0') {
    op_name_get(c, 0, qbuf);
    qn = qbuf;
  }
  op_wait w = {0, 0, 0, ev->interval_start_ms};
  uint64_t qnh;
  op_qslot *s = op_slot_get(&r, fnv1a_nh(qn, &qnh)); /* answered without queued: a fresh slot */
  if (s == NULL)
    return KS_ENOMEM;
  if (!(s->flags & (QS_ANSWERED | QS_ABANDONED))) {
    s->flags |= QS_ANSWERED;
    s->done_ms = t;
    s->done_channel = (uint8_t)channel;
    w.kind = 1;
    if (s->flags & QS_START_KNOWN) {
      w.known = 1;
      w.wait_ms = clamp0(t - s->queued_ms);
    } else {
      s->flags |= QS_WAIT_PENDING;
    }
  }
  if (op_name_set(&r, 0, qn, qnh) != 0)
    return KS_ENOMEM;
  int leg_answer = 0;
  if (agent[0]) {
    uint64_t anh;
    op_leg *l = op_leg_get(&r, fnv1a_nh(agent, &anh));
    if (l == NULL || op_name_set(&r, 1, agent, anh) != 0)
      return KS_ENOMEM;
    if (!(l->flags & (L_ANSWERED | L_HANDLED))) {
      l->flags |= L_ANSWERED;
      l->answered_ms = t;
      leg_answer = 1;
    }
  }
  /* c is not used past this point */

  ks_key dk;
  if (w.kind && dims_key(&dk, nz(m->tenant), channel, qn)) {
    op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
    if (a == NULL)
      return KS_ENOMEM;
    apply_wait(&p->cfg, a, &w, 1, channel);
  }
  if (leg_answer && agent_key(&dk, &p->cfg, nz(m->tenant), channel, qn, agent)) {
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
  const char *qn = nz(m->queue);
  if (qn[0] == '\0') {
    op_name_get(c, 0, qbuf);
    qn = qbuf;
  }
  /* Stage unspecified and no queue known: the contact never reached a
   * queue, so it is treated as an IVR disconnect. */
  if (stage == KPISTREAM__V1__ABANDON_STAGE__ABANDON_STAGE_UNSPECIFIED && qn[0] == '\0')
    return 0;
  uint64_t qnh;
  op_qslot *s = op_slot_get(&r, fnv1a_nh(qn, &qnh));
  if (s == NULL)
    return KS_ENOMEM;
  if (s->flags & (QS_ANSWERED | QS_ABANDONED))
    return 0; /* duplicate, or an abandon after the answer: not an abandon */
  s->flags |= QS_ABANDONED;
  s->done_ms = t;
  s->done_channel = (uint8_t)channel;
  op_wait w = {2, 0, 0, ev->interval_start_ms};
  if (s->flags & QS_START_KNOWN) {
    w.known = 1;
    w.wait_ms = clamp0(t - s->queued_ms);
  } else {
    s->flags |= QS_WAIT_PENDING;
  }
  if (op_name_set(&r, 0, qn, qnh) != 0)
    return KS_ENOMEM;
  /* c is not used past this point */

  ks_key dk;
  if (!dims_key(&dk, nz(m->tenant), channel, qn))
    return 0;
  op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
  if (a == NULL)
    return KS_ENOMEM;
  apply_wait(&p->cfg, a, &w, 1, channel);
  return 0;
}

/* ---- AgentResponse / ContactResolved --------------------------------------- */

/* which: 0 first response (FRT), 1 first resolution. */
static int on_first(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck, int which) {
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  if (which == 0) {
    const Kpistream__V1__AgentResponse *b = m->agent_response;
    if (b == NULL || b->is_bot || !b->is_public)
      return 0;
    if (m->channel == KPISTREAM__V1__CHANNEL__CHANNEL_VOICE)
      return 0;
  }
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = m->channel ? (int)m->channel : c->channel;
  if (which == 0 && channel == KPISTREAM__V1__CHANNEL__CHANNEL_VOICE)
    return 0;
  const uint32_t done = which == 0 ? C_FRT_DONE : C_RES_DONE;
  if (c->flags & done)
    return 0; /* only the first one counts */
  c->flags |= done;
  if (which == 0)
    c->frt_ms = t;
  else
    c->res_ms = t;
  if (!contact_start_known(c)) {
    c->flags |= which == 0 ? C_FRT_PENDING : C_RES_PENDING;
    return 0; /* completed when ContactCreated/Queued arrives */
  }
  const int64_t v = clamp0(t - contact_start(c));
  char qbuf[OP_NAME_MAX];
  const char *qn = nz(m->queue);
  if (qn[0] == '\0') {
    op_name_get(c, 0, qbuf);
    qn = qbuf;
  }
  /* c is not used past this point */
  ks_key dk;
  if (!dims_key(&dk, nz(m->tenant), channel, qn))
    return 0;
  op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
  if (a == NULL)
    return KS_ENOMEM;
  if (which == 0) {
    a->frt_n++;
    a->frt_sum_ms += v;
  } else {
    a->res_n++;
    a->res_sum_ms += v;
  }
  return 0;
}

/* ---- hold, end, transfer, escalation (one agent's leg) --------------------- */

static int on_leg_event(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;
  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  /* the acting agent: the event's, else the contact's current one */
  char abuf[OP_NAME_MAX];
  const char *agent = nz(m->agent_id);
  if (agent[0] == '\0') {
    op_name_get(c, 1, abuf);
    agent = abuf;
  }
  if (agent[0] == '\0')
    return 0;
  op_leg *l = op_leg_get(&r, fnv1a(agent));
  if (l == NULL)
    return KS_ENOMEM;
  if (l->flags & L_HANDLED)
    return 0; /* after wrap-up: ignored */
  switch (ev->body) {
  case KPISTREAM__V1__EVENT__BODY_HOLD_STARTED:
    if (l->flags & L_HOLD_OPEN)
      break; /* duplicate start: keep the first */
    if ((l->flags & L_HOLD_END_PENDING) && l->hold_end_ms >= t) {
      l->hold_ms += l->hold_end_ms - t; /* its end arrived first */
      l->flags = (l->flags & ~L_HOLD_END_PENDING) | L_HELD;
    } else {
      l->hold_start_ms = t;
      l->flags |= L_HOLD_OPEN;
    }
    break;
  case KPISTREAM__V1__EVENT__BODY_HOLD_ENDED:
    if (l->flags & L_HOLD_OPEN) {
      leg_close_hold(l, t);
    } else {
      l->hold_end_ms = t; /* out of order: wait for its start */
      l->flags |= L_HOLD_END_PENDING;
    }
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED:
    if (!(l->flags & L_ENDED)) {
      l->ended_ms = t;
      l->flags |= L_ENDED;
      leg_close_hold(l, t);
    }
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED:
    l->flags |= L_TRANSFERRED;
    if (!(l->flags & L_ENDED)) { /* the transfer ends this agent's talk */
      l->ended_ms = t;
      l->flags |= L_ENDED;
      leg_close_hold(l, t);
    }
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED:
    l->flags |= L_ESCALATED;
    break;
  default:
    break;
  }
  return 0;
}

/* ---- AfterContactWorkEnded: the leg is handled ------------------------------ */

static int on_acw_ended(op_plugin *p, ks_task *task, const ks_event *ev, ks_key *ck) {
  const op_config *cfg = &p->cfg;
  const Kpistream__V1__Event *m = ev->msg;
  const int64_t t = ev->time_ms;

  op_cref r;
  op_contact *c = op_contact_fetch(&r, p, task, ck, m);
  if (c == NULL)
    return KS_ENOMEM;
  const int channel = m->channel ? (int)m->channel : c->channel;
  char abuf[OP_NAME_MAX], qbuf[OP_NAME_MAX];
  const char *agent = nz(m->agent_id);
  if (agent[0] == '\0') {
    op_name_get(c, 1, abuf);
    agent = abuf;
  }
  const char *qn = nz(m->queue);
  if (qn[0] == '\0') {
    op_name_get(c, 0, qbuf);
    qn = qbuf;
  }
  op_leg *l = op_leg_get(&r, fnv1a(agent));
  if (l == NULL)
    return KS_ENOMEM;
  if (l->flags & L_HANDLED)
    return 0; /* duplicate wrap-up */
  l->flags |= L_HANDLED;
  /* No ContactEnded: the conversation ran until wrap-up ended, no ACW. */
  const int64_t end = (l->flags & L_ENDED) ? l->ended_ms : t;
  leg_close_hold(l, end);
  const int64_t hold = l->hold_ms;
  const int64_t talk = (l->flags & L_ANSWERED) ? clamp0(end - l->answered_ms - hold) : 0;
  const int64_t acw = clamp0(t - end);
  const int held = (l->flags & L_HELD) || hold > 0;
  const int transferred = (l->flags & L_TRANSFERRED) != 0;
  const int escalated = (l->flags & L_ESCALATED) != 0;
  int fcr = 0;
  const uint64_t cust = c->customer_hash;
  if ((c->flags & C_HAS_CUSTOMER) && !(c->flags & C_FCR_COUNTED)) {
    c->flags |= C_FCR_COUNTED; /* FCR counts each contact once */
    fcr = 1;
  }
  /* c and l are not used past this point */

  int repeat = 0;
  if (fcr) {
    ks_key uk;
    ks_key_reset(&uk);
    ks_key_add_str(&uk, nz(m->tenant));
    ks_key_add(&uk, &cust, sizeof cust);
    if (cfg->fcr_same_channel) {
      uint8_t ch = (uint8_t)channel;
      ks_key_add(&uk, &ch, 1);
    }
    op_customer *u = p->api->keyed_get(task, p->customers, uk.buf, uk.len, 1);
    if (u == NULL)
      return KS_ENOMEM;
    const uint64_t me = fnv1a(nz(m->contact_id));
    if (u->seen && u->last_contact_hash != me) {
      int64_t gap = t - u->last_handled_ms;
      if (gap < 0)
        gap = -gap; /* reordered: the later of the two is judged */
      repeat = gap <= cfg->fcr_window_ms;
    }
    if (!u->seen || t >= u->last_handled_ms) {
      u->last_handled_ms = t;
      u->last_contact_hash = me;
    }
    u->seen = 1;
  }
  /* fcr.transfers: unresolved — transferred or escalated is not resolved */
  if (fcr && cfg->fcr_xfer_unresolved && (transferred || escalated))
    repeat = 1;

  ks_key dk;
  if (!dims_key(&dk, nz(m->tenant), channel, qn))
    return 0;
  op_qagg *a = qagg_get(p, task, ev->interval_start_ms, &dk);
  if (a == NULL)
    return KS_ENOMEM;
  a->handled++;
  a->handle_ms += talk + hold + acw;
  a->talk_ms += talk;
  a->hold_ms += hold;
  a->held += held;
  a->acw_ms += acw;
  a->transferred += transferred;
  a->escalated += escalated;
  a->fcr_n += fcr;
  a->fcr_repeats += repeat;

  if (agent_key(&dk, cfg, nz(m->tenant), channel, qn, agent)) {
    op_aagg *g = p->api->window_get(task, p->by_agent, ev->interval_start_ms, dk.buf, dk.len, 1);
    if (g == NULL)
      return KS_ENOMEM;
    g->handled++;
    g->handle_ms += talk + hold + acw;
    g->hold_ms += hold;
    g->held += held;
    g->acw_ms += acw;
    g->transferred += transferred;
  }
  return 0;
}

/* ---- dispatch ------------------------------------------------------------------- */

static int op_on_event(void *data, ks_task *task, const ks_event *ev) {
  op_plugin *p = data;
  if (p == NULL || ev == NULL || ev->msg == NULL)
    return 0;
  ks_key ck;
  if (!contact_key(&ck, ev->msg))
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
    return on_first(p, task, ev, &ck, 0);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED:
    return on_first(p, task, ev, &ck, 1);
  case KPISTREAM__V1__EVENT__BODY_HOLD_STARTED:
  case KPISTREAM__V1__EVENT__BODY_HOLD_ENDED:
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED:
  case KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED:
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED:
    return on_leg_event(p, task, ev, &ck);
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    return on_acw_ended(p, task, ev, &ck);
  default:
    return 0;
  }
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int op_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR ||
      api->struct_size < offsetof(ks_host_api, free) + sizeof api->free)
    return KS_EABI;
  op_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  p->api = api;
  p->ctx = ctx;
  if (op_config_load(ctx, api, &p->cfg) != 0) {
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
  if (!p->contacts || !p->customers || !p->by_queue || !p->by_agent || !p->contacts_more) {
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

/* Every option key init() reads; the host refuses any other. */
static const char *const op_options[] = {"short_abandon_threshold",
                                         "short_abandon_exclude",
                                         "abandon_rate_denominator",
                                         KS_SL_THRESHOLD_KEY,
                                         KS_SL_THRESHOLD_VOICE_KEY,
                                         KS_SL_THRESHOLD_CHAT_KEY,
                                         KS_SL_THRESHOLD_EMAIL_KEY,
                                         "service_level.variant",
                                         "service_level.target",
                                         "fcr.window",
                                         "fcr.scope",
                                         "fcr.transfers",
                                         "hold_average_over",
                                         "contact_ttl",
                                         "per_agent",
                                         NULL};

static const ks_plugin_descriptor op_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = OP_PLUGIN_NAME,
    .version = OP_PLUGIN_VERSION,
    .description = "operations KPIs: volumes, abandonment, speed of answer, handle time, service "
                   "level, FCR",
    .interests = op_interests,
    .init = op_init,
    .on_event = op_on_event,
    .on_interval_close = op_on_interval_close,
    .destroy = op_destroy,
    .options = op_options,
    /* on_interval_close only reads state and emits: late events restate */
    .flags = KS_PLUGIN_F_RESTATABLE,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &op_descriptor;
}
