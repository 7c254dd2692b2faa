/*
 * sim_contacts — the contact lifecycle: arrivals (with IVR hang-ups, chat
 * bots, e-mail auto-acknowledgements), queueing with patience, routing to the
 * longest-idle agent, ringing (accepted, rung out, abandoned while ringing),
 * call-backs offered on a long estimated wait, e-mail and chat reopens, and
 * the call-back list that turns abandons and unresolved contacts into repeat
 * contacts. The conversation itself is in sim_talk.c.
 */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define CH_VOICE         KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define CH_EMAIL         KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL
#define CH_CHAT          KPISTREAM__V1__CHANNEL__CHANNEL_CHAT
#define SHORT_ABANDON_MS (10 * SIM_SEC)

const char *const ks_sim_reason_codes[SIM_NREASONS + 1] = {
    "new_purchase",     "upgrade",       "pricing_question", "cancellation",   "technical_issue",
    "how_to",           "outage",        "device_setup",     "account_access", "delivery_status",
    "invoice_question", "payment_issue", "refund",           "plan_change",    NULL};

int ks_sim_queue_reason_first(int queue, int *count) {
  switch (queue) {
  case KS_SIM_Q_VOICE_SALES:
  case KS_SIM_Q_CHAT_SALES:
    *count = 4;
    return 0;
  case KS_SIM_Q_VOICE_BILLING:
    *count = 4;
    return 10;
  default:
    *count = 6;
    return 4;
  }
}

/* ---- slots ---------------------------------------------------------------------- */

static uint32_t contact_alloc(ks_sim *s) {
  uint32_t i;
  if (s->free_contact != SIM_NIL) {
    i = s->free_contact;
    s->free_contact = s->contacts[i].next;
  } else {
    if (s->ncontacts == s->capcontacts) {
      uint32_t ncap = s->capcontacts ? s->capcontacts * 2 : 256;
      ks_sim_contact *nc = realloc(s->contacts, (size_t)ncap * sizeof *nc);
      if (nc == NULL) {
        s->oom = 1;
        return SIM_NIL;
      }
      s->contacts = nc;
      s->capcontacts = ncap;
    }
    i = s->ncontacts++;
    s->contacts[i].gen = 0;
  }
  ks_sim_contact *c = &s->contacts[i];
  uint32_t gen = c->gen;
  memset(c, 0, sizeof *c);
  c->gen = gen;
  c->prev = c->next = SIM_NIL;
  c->created_ms = c->queued_ms = s->now;
  c->deadline_ms = SIM_NEVER;
  s->live_contacts++;
  return i;
}

void ks_sim_contact_release(ks_sim *s, uint32_t i) {
  ks_sim_contact *c = &s->contacts[i];
  c->state = SIM_C_FREE;
  c->gen++;
  c->next = s->free_contact;
  s->free_contact = i;
  s->live_contacts--;
}

void ks_sim_contacts_free(ks_sim *s) {
  free(s->contacts);
}

ks_sim_contact *ks_sim_contact_get(ks_sim *s, uint32_t slot, uint32_t gen) {
  if (slot >= s->ncontacts || s->contacts[slot].gen != gen || s->contacts[slot].state == SIM_C_FREE)
    return NULL;
  return &s->contacts[slot];
}

/* ---- queue FIFOs (ordered by queue entry time) ----------------------------------- */

static void queue_insert(ks_sim *s, ks_sim_queue *q, uint32_t slot) {
  ks_sim_contact *c = &s->contacts[slot];
  uint32_t after = q->tail;
  while (after != SIM_NIL && s->contacts[after].queued_ms > c->queued_ms)
    after = s->contacts[after].prev;
  c->prev = after;
  c->next = after == SIM_NIL ? q->head : s->contacts[after].next;
  if (c->next != SIM_NIL)
    s->contacts[c->next].prev = slot;
  else
    q->tail = slot;
  if (after != SIM_NIL)
    s->contacts[after].next = slot;
  else
    q->head = slot;
  q->n++;
}

static void queue_remove(ks_sim *s, ks_sim_queue *q, uint32_t slot) {
  ks_sim_contact *c = &s->contacts[slot];
  if (c->prev != SIM_NIL)
    s->contacts[c->prev].next = c->next;
  else
    q->head = c->next;
  if (c->next != SIM_NIL)
    s->contacts[c->next].prev = c->prev;
  else
    q->tail = c->prev;
  c->prev = c->next = SIM_NIL;
  q->n--;
}

/* ---- call-back list: customers who will come back ---------------------------------- */

void ks_sim_repeat_push(ks_sim *s, ks_sim_tenant *tn, int list, uint32_t customer, int reason,
                        int queue) {
  if (tn->rep_n[list] == SIM_REPEAT_CAP)
    return; /* full: this one does not come back */
  ks_sim_repeat *r = &tn->rep[list][(tn->rep_head[list] + tn->rep_n[list]++) % SIM_REPEAT_CAP];
  r->ready_ms = s->now + (list == SIM_BACK_SOON ? 10 * SIM_MIN : 4 * SIM_HOUR);
  r->customer = customer;
  r->reason = (uint8_t)reason;
  r->queue = (uint8_t)queue;
}

static int repeat_take_from(ks_sim *s, ks_sim_tenant *tn, int list, ks_sim_repeat *out) {
  ks_sim_repeat *ring = tn->rep[list];
  while (tn->rep_n[list] && ring[tn->rep_head[list]].ready_ms + 7 * SIM_DAY < s->now) {
    tn->rep_head[list] = (tn->rep_head[list] + 1) % SIM_REPEAT_CAP; /* gave up after a week */
    tn->rep_n[list]--;
  }
  if (tn->rep_n[list] == 0 || ring[tn->rep_head[list]].ready_ms > s->now)
    return 0;
  *out = ring[tn->rep_head[list]];
  tn->rep_head[list] = (tn->rep_head[list] + 1) % SIM_REPEAT_CAP;
  tn->rep_n[list]--;
  return 1;
}

/* A returning customer for this arrival, if one is ready (and the draw says
 * this arrival is one): those who abandoned first, then the unresolved. */
static int repeat_take(ks_sim *s, ks_sim_tenant *tn, ks_sim_repeat *out) {
  if (!ks_sim_chance(&tn->rng, 0.5))
    return 0;
  return repeat_take_from(s, tn, SIM_BACK_SOON, out) ||
         repeat_take_from(s, tn, SIM_BACK_LATER, out);
}

/* ---- emitting ---------------------------------------------------------------------- */

ks_sim_out *ks_sim_emit_c(ks_sim *s, const ks_sim_contact *c, int body, const ks_sim_agent *a) {
  ks_sim_out *o = ks_sim_emit(s, c->tenant, body);
  if (o == NULL)
    return NULL;
  o->channel = c->channel;
  o->queue = c->queue;
  o->contact_no = c->no;
  o->customer_no = c->customer;
  if (a) {
    o->agent_no = a->no;
    o->team = a->team;
  }
  return o;
}

/* The envelope of the agent's current leg (the contact may have moved on). */
ks_sim_out *ks_sim_emit_leg(ks_sim *s, int tenant, const ks_sim_agent *a, int body) {
  ks_sim_out *o = ks_sim_emit(s, tenant, body);
  if (o == NULL)
    return NULL;
  o->channel = a->leg_channel;
  o->queue = a->leg_queue;
  o->contact_no = a->leg_contact;
  o->customer_no = a->leg_customer;
  o->agent_no = a->no;
  o->team = a->team;
  return o;
}

static void count_abandon(ks_sim *s, const ks_sim_contact *c) {
  s->st.abandoned++;
  if (s->now - c->queued_ms <= SHORT_ABANDON_MS)
    s->st.short_abandons++;
}

/* ---- routing ---------------------------------------------------------------------- */

static void offer(ks_sim *s, int tenant, uint32_t ag, uint32_t slot) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_agent *a = &tn->agents[ag];
  ks_sim_contact *c = &s->contacts[slot];
  ks_sim_idle_remove(tn, ag);
  a->state = SIM_A_RESERVED;
  a->leg_token++;
  a->cslot = slot;
  a->cgen = c->gen;
  a->leg_contact = c->no;
  a->leg_customer = c->customer;
  a->leg_queue = c->queue;
  a->leg_channel = c->channel;
  a->leg_xfer_to = SIM_NONE8;
  a->nba_no = 0;
  if (c->channel == CH_EMAIL) { /* assigned, no ringing */
    ks_sim_answer(s, tenant, ag);
    return;
  }
  int64_t ring = c->channel == CH_VOICE ? ks_sim_ms(2.0 + 5.0 * ks_sim_unif(&tn->rng))
                                        : ks_sim_ms(2.0 + 13.0 * ks_sim_unif(&tn->rng));
  a->leg_outcome = SIM_RING_ACCEPT;
  if (ks_sim_chance(&tn->rng, s->o.ring_no_answer)) { /* rings out: the ring-no-answer timeout */
    a->leg_outcome = SIM_RING_MISS;
    ring = c->channel == CH_VOICE ? 15 * SIM_SEC : 20 * SIM_SEC;
  }
  if (c->deadline_ms <= s->now + ring) {
    a->leg_outcome = SIM_RING_ABANDON;
    ring = c->deadline_ms - s->now;
  }
  if (a->leg_outcome == SIM_RING_MISS)
    s->st.ring_no_answer++;
  c->state = SIM_C_RINGING;
  ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_OFFERED, a);
  if (o) {
    o->u.offered.ring_ms = ring;
    o->u.offered.accepted = a->leg_outcome == SIM_RING_ACCEPT;
  }
  ks_sim_push(s, s->now + ring, SIM_K_RING_END, tenant, 0, ag, a->leg_token, 0, 0);
}

/* Give a waiting contact to the longest-idle agent of its team, or queue it.
 * Email is a backlog, not live work: it waits in the inbox (mean 10 min of
 * triage) before an idle agent picks it up, unless an agent finishing other
 * work takes it first (ks_sim_agent_take_work). */
static void dispatch(ks_sim *s, int tenant, uint32_t slot) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_contact *c = &s->contacts[slot];
  ks_sim_team *tm = &tn->team[ks_sim_queue_team(c->queue)];
  if (c->channel == CH_EMAIL) {
    queue_insert(s, &tn->q[c->queue], slot);
    ks_sim_push(s, s->now + 1 + ks_sim_ms(ks_sim_exp(&tn->rng, 600.0)), SIM_K_EMAIL_PICKUP, tenant,
                0, slot, c->gen, c->wait_token, 0);
    return;
  }
  if (tm->idle_head != SIM_NIL)
    offer(s, tenant, tm->idle_head, slot);
  else
    queue_insert(s, &tn->q[c->queue], slot);
}

void ks_sim_enqueue(ks_sim *s, int tenant, uint32_t slot, int reason_known, int callback) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_contact *c = &s->contacts[slot];
  c->state = SIM_C_WAITING;
  c->queued_ms = s->now;
  c->wait_token++;
  c->deadline_ms = SIM_NEVER;
  if (callback)
    c->flags |= SIM_CF_CALLBACK;
  if (c->channel != CH_EMAIL && !callback) {
    int voice = c->channel == CH_VOICE;
    double mean = voice ? 150.0 : 200.0;
    if (ks_sim_chance(&tn->rng, voice ? 0.05 : 0.04))
      mean = voice ? 8.0 : 12.0; /* the impatient minority: short abandons */
    if (c->transfers)
      mean *= 2.0; /* already talked to someone: more patient */
    c->deadline_ms = s->now + 1 + ks_sim_ms(ks_sim_exp(&tn->rng, mean));
  }
  ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, NULL);
  if (o) {
    o->u.queued.priority = c->transfers ? 1 : 0;
    o->u.queued.reason = reason_known || c->transfers ? c->reason : SIM_NONE8;
    o->u.queued.callback = (uint8_t)callback;
  }
  if (c->transfers == 0 && !(c->flags & SIM_CF_REOPENED))
    s->st.offered++;
  if (c->deadline_ms != SIM_NEVER)
    ks_sim_push(s, c->deadline_ms, SIM_K_PATIENCE, tenant, 0, slot, c->gen, c->wait_token, 0);
  dispatch(s, tenant, slot);
}

int ks_sim_agent_take_work(ks_sim *s, int tenant, uint32_t ag) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_agent *a = &tn->agents[ag];
  static const int qs[SIM_NTEAMS][3] = {
      {KS_SIM_Q_VOICE_SALES, -1, -1},
      {KS_SIM_Q_VOICE_SUPPORT, KS_SIM_Q_VOICE_BILLING, -1},
      {KS_SIM_Q_CHAT_SALES, KS_SIM_Q_CHAT_SUPPORT, KS_SIM_Q_EMAIL_SUPPORT}};
  int best = -1;
  for (int i = 0; i < 3; i++) {
    int q = qs[a->team][i];
    if (q < 0 || tn->q[q].head == SIM_NIL)
      continue;
    if (q == KS_SIM_Q_EMAIL_SUPPORT && best >= 0)
      continue; /* live work first */
    if (best < 0 || s->contacts[tn->q[q].head].queued_ms < s->contacts[tn->q[best].head].queued_ms)
      best = q;
  }
  if (best < 0)
    return 0;
  uint32_t slot = tn->q[best].head;
  queue_remove(s, &tn->q[best], slot);
  offer(s, tenant, ag, slot);
  return 1;
}

/* ---- arrivals ------------------------------------------------------------------------ */

static int pick_reason(ks_sim_rng *r, int queue) {
  int n, first = ks_sim_queue_reason_first(queue, &n);
  double w[8];
  for (int i = 0; i < n; i++)
    w[i] = 1.0 / (1.0 + i);
  return first + ks_sim_pick(r, w, n);
}

/* The wait the ACD announces to a caller joining voice queue q now: the
 * callers already waiting for the queue's team, plus this one, times the
 * queue's mean handle time, spread over the team's logged-in agents; 0 when
 * an agent is free. */
static double expected_wait_s(const ks_sim_tenant *tn, int q) {
  const int team = ks_sim_queue_team(q);
  const ks_sim_team *tm = &tn->team[team];
  if (tm->idle_head != SIM_NIL)
    return 0;
  uint32_t ahead = 0;
  for (int i = 0; i < KS_SIM_NQUEUES; i++)
    if (ks_sim_queue_team(i) == team && ks_sim_queue_channel(i) == CH_VOICE)
      ahead += tn->q[i].n;
  return (double)(ahead + 1) * ks_sim_aht_s(q) / (double)(tm->logged_in ? tm->logged_in : 1);
}

void ks_sim_on_arrival(ks_sim *s, const ks_sim_item *it) {
  const int tenant = it->tenant, q = it->q;
  ks_sim_tenant *tn = &s->tenants[tenant];
  const int ch = ks_sim_queue_channel(q);
  s->st.arrivals++;
  ks_sim_repeat rep;
  uint32_t customer;
  uint8_t flags = 0;
  int reason;
  if (repeat_take(s, tn, &rep)) {
    customer = rep.customer;
    reason = rep.reason;
    flags |= SIM_CF_REPEAT;
    s->st.repeats++;
  } else {
    if ((q == KS_SIM_Q_VOICE_SALES || q == KS_SIM_Q_CHAT_SALES) && ks_sim_chance(&tn->rng, 0.10)) {
      customer = tn->cust_hi++; /* a prospect, registers if it buys */
      flags |= SIM_CF_PROSPECT;
    } else {
      customer = tn->cust_lo + ks_sim_below(&tn->rng, tn->cust_hi - tn->cust_lo);
    }
    reason = pick_reason(&tn->rng, q);
  }
  uint64_t no = ++tn->contact_no;
  if (ch == CH_VOICE && ks_sim_chance(&tn->rng, 0.04)) { /* hung up in the IVR: never queued */
    ks_sim_out *o = ks_sim_emit(s, tenant, KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED);
    if (o) {
      o->channel = (uint8_t)ch;
      o->contact_no = no;
      o->customer_no = customer;
      o->u.aband.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_IVR;
    }
    return;
  }
  uint32_t slot = contact_alloc(s);
  if (slot == SIM_NIL)
    return;
  ks_sim_contact *c = &s->contacts[slot];
  c->no = no;
  c->customer = customer;
  c->tenant = (uint8_t)tenant;
  c->queue = (uint8_t)q;
  c->channel = (uint8_t)ch;
  c->reason = (uint8_t)reason;
  c->flags = flags;
  if (ch == CH_VOICE) {
    int cb = 0;
    if (expected_wait_s(tn, q) > s->o.callback_wait_s) { /* "press 1 to be called back" */
      s->st.callbacks_offered++;
      cb = ks_sim_chance(&tn->rng, s->o.callback_accept);
      s->st.callbacks += (uint64_t)cb;
    }
    ks_sim_enqueue(s, tenant, slot, ks_sim_chance(&tn->rng, 0.6), cb);
    return;
  }
  ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED, NULL);
  if (o)
    o->u.created.reason =
        ks_sim_chance(&tn->rng, ch == CH_EMAIL ? 0.5 : 0.3) ? c->reason : SIM_NONE8;
  if (ch == CH_CHAT || ks_sim_chance(&tn->rng, 0.4)) { /* bot greeting / auto-acknowledgement */
    o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_AGENT_RESPONSE, NULL);
    if (o) {
      o->agent_no = SIM_AGENT_BOT;
      o->u.resp.is_bot = 1;
      o->u.resp.is_public = 1;
    }
  }
  if (ch == CH_EMAIL) {
    ks_sim_enqueue(s, tenant, slot, 1, 0);
    return;
  }
  c->state = SIM_C_BOT;
  ks_sim_push(s, s->now + ks_sim_ms(5.0 + ks_sim_lognormal(&tn->rng, 40.0, 0.5)), SIM_K_BOT_DONE,
              tenant, 0, slot, c->gen, 0, 0);
}

void ks_sim_on_bot_done(ks_sim *s, const ks_sim_item *it) {
  ks_sim_contact *c = ks_sim_contact_get(s, it->a, it->b);
  if (c == NULL || c->state != SIM_C_BOT)
    return;
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  if (ks_sim_chance(&tn->rng, 0.15)) { /* the bot solved it */
    ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED, NULL);
    if (o)
      o->u.ended.party = KPISTREAM__V1__PARTY__PARTY_SYSTEM;
    ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED, NULL);
    ks_sim_maybe_reopen(s, it->tenant, c);
    ks_sim_contact_release(s, it->a);
    return;
  }
  ks_sim_enqueue(s, it->tenant, it->a, 1, 0);
}

void ks_sim_maybe_reopen(ks_sim *s, int tenant, const ks_sim_contact *c) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  if (c->channel == CH_VOICE || !ks_sim_chance(&tn->rng, s->o.reopen_rate))
    return;
  int64_t delay = c->channel == CH_EMAIL
                      ? SIM_HOUR + ks_sim_ms(23.0 * 3600.0 * ks_sim_unif(&tn->rng))
                      : 5 * SIM_MIN + ks_sim_ms(4.0 * 3600.0 * ks_sim_unif(&tn->rng));
  ks_sim_push(s, s->now + delay, SIM_K_REOPEN, tenant, c->queue, 0, c->reason, c->customer, c->no);
}

void ks_sim_on_reopen(ks_sim *s, const ks_sim_item *it) {
  uint32_t slot = contact_alloc(s);
  if (slot == SIM_NIL)
    return;
  ks_sim_contact *c = &s->contacts[slot];
  c->no = it->x;
  c->customer = it->c;
  c->tenant = it->tenant;
  c->queue = it->q;
  c->channel = (uint8_t)ks_sim_queue_channel(it->q);
  c->reason = (uint8_t)it->b;
  c->flags = SIM_CF_REOPENED | SIM_CF_REPEAT;
  s->st.reopened++;
  ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_REOPENED, NULL);
  ks_sim_enqueue(s, it->tenant, slot, 1, 0);
}

/* ---- waiting ---------------------------------------------------------------------------- */

void ks_sim_on_patience(ks_sim *s, const ks_sim_item *it) {
  ks_sim_contact *c = ks_sim_contact_get(s, it->a, it->b);
  if (c == NULL || c->state != SIM_C_WAITING || c->wait_token != it->c)
    return;
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  queue_remove(s, &tn->q[c->queue], it->a);
  c->wait_ms += s->now - c->queued_ms;
  ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED, NULL);
  if (o)
    o->u.aband.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_QUEUE;
  count_abandon(s, c);
  if (ks_sim_chance(&tn->rng, 0.5))
    ks_sim_repeat_push(s, tn, SIM_BACK_SOON, c->customer, c->reason, c->queue);
  ks_sim_contact_release(s, it->a);
}

void ks_sim_on_email_pickup(ks_sim *s, const ks_sim_item *it) {
  ks_sim_contact *c = ks_sim_contact_get(s, it->a, it->b);
  if (c == NULL || c->state != SIM_C_WAITING || c->wait_token != it->c)
    return; /* taken meanwhile */
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_team *tm = &tn->team[ks_sim_queue_team(c->queue)];
  if (tm->idle_head == SIM_NIL)
    return; /* stays in the inbox until an agent frees up */
  queue_remove(s, &tn->q[c->queue], it->a);
  offer(s, it->tenant, tm->idle_head, it->a);
}

/* ---- ringing and the conversation --------------------------------------------------------- */

ks_sim_agent *ks_sim_leg_agent(ks_sim *s, const ks_sim_item *it, int state) {
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  if (it->a >= tn->nagents)
    return NULL;
  ks_sim_agent *a = &tn->agents[it->a];
  return a->leg_token == it->b && a->state == state ? a : NULL;
}

void ks_sim_on_ring_end(ks_sim *s, const ks_sim_item *it) {
  ks_sim_agent *a = ks_sim_leg_agent(s, it, SIM_A_RESERVED);
  if (a == NULL)
    return;
  ks_sim_contact *c = ks_sim_contact_get(s, a->cslot, a->cgen);
  if (c == NULL || c->state != SIM_C_RINGING) {
    a->state = SIM_A_IDLE;
    ks_sim_agent_settle(s, it->tenant, it->a);
    return;
  }
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  switch (a->leg_outcome) {
  case SIM_RING_ACCEPT:
    ks_sim_answer(s, it->tenant, it->a);
    return;
  case SIM_RING_ABANDON: {
    c->wait_ms += s->now - c->queued_ms;
    ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED, a);
    if (o)
      o->u.aband.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_RINGING;
    count_abandon(s, c);
    if (ks_sim_chance(&tn->rng, 0.5))
      ks_sim_repeat_push(s, tn, SIM_BACK_SOON, c->customer, c->reason, c->queue);
    ks_sim_contact_release(s, a->cslot);
    a->state = SIM_A_IDLE;
    ks_sim_agent_settle(s, it->tenant, it->a);
    return;
  }
  default: /* missed: the contact waits on, the agent is set not ready for a minute */
    c->state = SIM_C_WAITING;
    a->state = SIM_A_IDLE;
    dispatch(s, it->tenant, a->cslot);
    a->pend_unpl_aux = KPISTREAM__V1__AUX_REASON__AUX_PERSONAL;
    a->pend_unpl_detail = SIM_DET_MISSED_OFFER;
    a->pend_unpl_ms = 60 * SIM_SEC;
    ks_sim_agent_settle(s, it->tenant, it->a);
    return;
  }
}
