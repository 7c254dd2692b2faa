/*
 * forecast plugin — the actual side from the contact lifecycle:
 *
 *   offered   once per contact and queue, in the interval of its
 *             ContactQueued, or for email and chat of a ContactCreated that
 *             names a queue (the operations family's `offered`);
 *   handled   per agent leg, in the interval of its AfterContactWorkEnded,
 *             with handle time = talk + hold + ACW = wrap-up end − answer
 *             (the operations family's handle time of an answered leg).
 *
 * A leg whose answer was never seen is left out of the AHT (its handle time
 * is unknown); a wrap-up that arrives before its answer is completed when
 * the answer arrives, if the wrap-up's interval is still open. Duplicates are
 * absorbed by per-contact flags; events without a contact id are ignored.
 */
#include <string.h>

#include "forecast_internal.h"

static inline int is_text_channel(int ch) {
  return ch == KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL || ch == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT;
}

static inline int64_t clamp0(int64_t v) {
  return v < 0 ? 0 : v;
}

/* The contact's record, created when new; channel noted. */
static fc_contact *contact_fetch(fc_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  ks_key ck;
  if (!ks_contact_key(&ck, m))
    return NULL;
  fc_contact *c = p->api->keyed_get(task, p->contacts, ck.buf, ck.len, 1);
  if (c && m->channel != 0)
    c->channel = (int32_t)m->channel;
  return c;
}

/* The leg of agent ah; a new one takes a free slot, else replaces the
 * oldest handled leg, else the oldest leg. */
static fc_leg *leg_get(fc_contact *c, uint64_t ah) {
  for (int i = 0; i < FC_LEGS; i++)
    if ((c->legs[i].flags & L_USED) && c->legs[i].agent_hash == ah)
      return &c->legs[i];
  int pick = -1;
  for (int i = 0; i < FC_LEGS && pick < 0; i++)
    if (!(c->legs[i].flags & L_USED))
      pick = i;
  for (int k = 0; k < FC_LEGS && pick < 0; k++) {
    int i = (c->next_leg + k) % FC_LEGS;
    if (c->legs[i].flags & L_HANDLED)
      pick = i;
  }
  if (pick < 0)
    pick = c->next_leg % FC_LEGS;
  c->next_leg = (uint8_t)((pick + 1) % FC_LEGS);
  fc_leg *l = &c->legs[pick];
  memset(l, 0, sizeof *l);
  l->flags = L_USED;
  l->agent_hash = ah;
  return l;
}

/* Count one handled leg in interval iv of the contact's dims. */
static int add_handled(fc_plugin *p, ks_task *task, int64_t iv, const char *tenant, int channel,
                       const char *queue, int64_t handle_ms) {
  ks_key dk;
  if (queue[0] == '\0' || !ks_dims_key(&dk, tenant, channel, queue))
    return 0; /* no queue known: not comparable with a queue's forecast */
  fc_win *w = fc_win_get(p, task, iv, &dk);
  if (w == NULL)
    return 0; /* that interval has closed: dropped */
  w->handled++;
  w->handle_ms += handle_ms;
  return 0;
}

/* ContactQueued, or ContactCreated naming a queue (email, chat). */
static int on_offered(fc_plugin *p, ks_task *task, const ks_event *ev, int created) {
  const Kpistream__V1__Event *m = ev->msg;
  fc_contact *c = contact_fetch(p, task, ev);
  if (c == NULL)
    return 0;
  const int channel = m->channel ? (int)m->channel : c->channel;
  char qbuf[FC_NAME_MAX];
  const char *qn = ks_nz(m->queue);
  if (created && (qn[0] == '\0' || !is_text_channel(channel)))
    return 0;
  if (qn[0] == '\0') { /* a ContactQueued without a queue: the current one */
    memcpy(qbuf, c->queue, sizeof qbuf);
    qn = qbuf;
  }
  if (qn[0] == '\0')
    return 0;
  const uint64_t h = ks_fnv1a(qn);
  int seen = 0;
  for (int i = 0; i < FC_QSLOTS; i++)
    seen |= c->qhash[i] == h;
  if (qn != qbuf)
    ks_name_copy(c->queue, FC_NAME_MAX, qn);
  if (seen)
    return 0; /* offered once per contact and queue */
  c->qhash[c->next_q % FC_QSLOTS] = h;
  c->next_q = (uint8_t)((c->next_q + 1) % FC_QSLOTS);
  /* c is not used past this point */
  ks_key dk;
  if (!ks_dims_key(&dk, ks_nz(m->tenant), channel, qn))
    return 0;
  fc_win *w = fc_win_get(p, task, ev->interval_start_ms, &dk);
  if (w == NULL)
    return KS_ENOMEM;
  w->offered++;
  return 0;
}

static int on_answered(fc_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  const char *agent = ks_nz(m->agent_id);
  fc_contact *c = contact_fetch(p, task, ev);
  if (c == NULL)
    return 0;
  if (m->queue && m->queue[0])
    ks_name_copy(c->queue, FC_NAME_MAX, m->queue);
  if (agent[0] == '\0')
    return 0;
  const uint64_t ah = ks_fnv1a(agent);
  c->last_agent = ah;
  c->flags |= C_HAS_AGENT;
  fc_leg *l = leg_get(c, ah);
  if (l->flags & L_ANSWERED)
    return 0; /* the first answer of the leg counts */
  l->flags |= L_ANSWERED;
  l->answered_ms = ev->time_ms;
  if (!(l->flags & L_PENDING))
    return 0;
  /* its wrap-up arrived first: count it in the wrap-up's interval */
  l->flags = (l->flags & ~L_PENDING) | L_HANDLED;
  const int64_t handle = clamp0(l->acw_ms - l->answered_ms);
  const int64_t iv = l->acw_iv;
  char qbuf[FC_NAME_MAX];
  memcpy(qbuf, c->queue, sizeof qbuf);
  const int channel = c->channel;
  /* c and l are not used past this point */
  return add_handled(p, task, iv, ks_nz(m->tenant), channel, qbuf, handle);
}

static int on_acw_ended(fc_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  fc_contact *c = contact_fetch(p, task, ev);
  if (c == NULL)
    return 0;
  const char *agent = ks_nz(m->agent_id);
  uint64_t ah;
  if (agent[0])
    ah = ks_fnv1a(agent);
  else if (c->flags & C_HAS_AGENT)
    ah = c->last_agent;
  else
    return 0; /* no agent: no leg to close */
  if (m->queue && m->queue[0])
    ks_name_copy(c->queue, FC_NAME_MAX, m->queue);
  fc_leg *l = leg_get(c, ah);
  if (l->flags & (L_HANDLED | L_PENDING))
    return 0; /* duplicate wrap-up */
  if (!(l->flags & L_ANSWERED)) {
    l->flags |= L_PENDING; /* completed by its answer, if that arrives */
    l->acw_ms = ev->time_ms;
    l->acw_iv = ev->interval_start_ms;
    return 0;
  }
  l->flags |= L_HANDLED;
  const int64_t handle = clamp0(ev->time_ms - l->answered_ms);
  const int channel = m->channel ? (int)m->channel : c->channel;
  char qbuf[FC_NAME_MAX];
  memcpy(qbuf, c->queue, sizeof qbuf);
  /* c and l are not used past this point */
  return add_handled(p, task, ev->interval_start_ms, ks_nz(m->tenant), channel, qbuf, handle);
}

int fc_on_contact(fc_plugin *p, ks_task *task, const ks_event *ev) {
  switch (ev->body) {
  case KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED:
    return on_offered(p, task, ev, 0);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED:
    return on_offered(p, task, ev, 1);
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED:
    return on_answered(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    return on_acw_ended(p, task, ev);
  default:
    return 0;
  }
}
