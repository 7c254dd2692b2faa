/*
 * sim_talk — the conversation and what follows it: answer, the planned steps
 * of the conversation (holds, responses and internal notes, escalations,
 * next-best-action offers), its end (ContactEnded, or a transfer that
 * re-queues the contact), after-contact work, resolution, follow-ups and the
 * call-back list entry of an unresolved contact.
 */
#include "sim_internal.h"

#define CH_VOICE KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define CH_EMAIL KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL
#define CH_CHAT  KPISTREAM__V1__CHANNEL__CHANNEL_CHAT

/* first resolution probability per queue */
static const double p_resolve[KS_SIM_NQUEUES] = {0.86, 0.72, 0.80, 0.76, 0.86, 0.75};
static const double p_escalate[KS_SIM_NQUEUES] = {0.02, 0.05, 0.05, 0.03, 0.02, 0.03};
static const double p_nba[KS_SIM_NQUEUES] = {0.45, 0.30, 0.30, 0, 0.40, 0.25};

void ks_sim_answer(ks_sim *s, int tenant, uint32_t ag) {
  ks_sim_tenant *tn = &s->tenants[tenant];
  ks_sim_agent *a = &tn->agents[ag];
  ks_sim_contact *c = &s->contacts[a->cslot];
  ks_sim_rng *r = &tn->rng;
  const int q = c->queue;
  c->state = SIM_C_TALKING;
  c->wait_ms += s->now - c->queued_ms;
  a->state = SIM_A_TALK;
  a->leg_start_ms = s->now;
  ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED, a);
  s->st.answered++;
  ks_sim_agent_state(s, tenant, ag, KPISTREAM__V1__AGENT_STATE__AGENT_ON_CONTACT, 0, 0);

  double talk = ks_sim_lognormal(r, ks_sim_talk_mean_s(q), 0.6);
  double min_talk = c->channel == CH_EMAIL ? 60 : 20;
  if (talk < min_talk)
    talk = min_talk;
  const int64_t t0 = s->now, tok = a->leg_token;
  int64_t total = ks_sim_ms(talk);
  /* holds are inserted into the conversation (voice) */
  if (c->channel == CH_VOICE && ks_sim_chance(r, ks_sim_hold_p(q))) {
    int nh = ks_sim_chance(r, 0.3) ? 2 : 1;
    double at = 0.1 + 0.4 * ks_sim_unif(r);
    for (int h = 0; h < nh; h++) {
      int64_t len = ks_sim_ms(5.0 + ks_sim_lognormal(r, 40.0, 0.7));
      int64_t start = t0 + ks_sim_ms(at * talk) + (total - ks_sim_ms(talk));
      ks_sim_push(s, start, SIM_K_TALK_STEP, tenant, 0, ag, (uint32_t)tok, SIM_STEP_HOLD_START, 0);
      ks_sim_push(s, start + len, SIM_K_TALK_STEP, tenant, 0, ag, (uint32_t)tok, SIM_STEP_HOLD_END,
                  0);
      total += len;
      at += (1.0 - at) * (0.3 + 0.4 * ks_sim_unif(r));
    }
  }
  if (c->channel == CH_CHAT) {
    ks_sim_push(s, t0 + ks_sim_ms(5.0 + 35.0 * ks_sim_unif(r)), SIM_K_TALK_STEP, tenant, 0, ag,
                (uint32_t)tok, SIM_STEP_RESPONSE, 0);
    int more = 1 + (int)ks_sim_below(r, 3);
    for (int k = 0; k < more; k++)
      ks_sim_push(s, t0 + (int64_t)((double)total * (0.2 + 0.75 * ks_sim_unif(r))), SIM_K_TALK_STEP,
                  tenant, 0, ag, (uint32_t)tok, SIM_STEP_RESPONSE, 0);
  } else if (c->channel == CH_EMAIL) {
    if (ks_sim_chance(r, 0.1))
      ks_sim_push(s, t0 + total * 2 / 5, SIM_K_TALK_STEP, tenant, 0, ag, (uint32_t)tok,
                  SIM_STEP_NOTE, 0);
    ks_sim_push(s, t0 + total * 17 / 20, SIM_K_TALK_STEP, tenant, 0, ag, (uint32_t)tok,
                SIM_STEP_RESPONSE, 0);
  }
  if (ks_sim_chance(r, p_escalate[q]))
    ks_sim_push(s, t0 + (int64_t)((double)total * (0.3 + 0.6 * ks_sim_unif(r))), SIM_K_TALK_STEP,
                tenant, 0, ag, (uint32_t)tok, SIM_STEP_ESCALATE, 0);
  if (ks_sim_chance(r, p_nba[q]))
    ks_sim_push(s, t0 + (int64_t)((double)total * (0.5 + 0.45 * ks_sim_unif(r))), SIM_K_TALK_STEP,
                tenant, 0, ag, (uint32_t)tok, SIM_STEP_NBA, 0);
  /* a transfer ends this agent's part of the conversation */
  static const int xfer_to[KS_SIM_NQUEUES] = {KS_SIM_Q_VOICE_SUPPORT, KS_SIM_Q_VOICE_BILLING,
                                              KS_SIM_Q_VOICE_SUPPORT, -1,
                                              KS_SIM_Q_CHAT_SUPPORT,  KS_SIM_Q_CHAT_SALES};
  static const double p_xfer[KS_SIM_NQUEUES] = {0.06, 0.07, 0.05, 0, 0.03, 0.04};
  if (xfer_to[q] >= 0 && c->transfers < 2 && ks_sim_chance(r, p_xfer[q]))
    a->leg_xfer_to = (uint8_t)xfer_to[q];
  ks_sim_push(s, t0 + total, SIM_K_TALK_END, tenant, 0, ag, (uint32_t)tok, 0, 0);
}

void ks_sim_on_talk_step(ks_sim *s, const ks_sim_item *it) {
  ks_sim_agent *a = ks_sim_leg_agent(s, it, SIM_A_TALK);
  if (a == NULL)
    return;
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_contact *c = ks_sim_contact_get(s, a->cslot, a->cgen);
  if (c == NULL)
    return;
  ks_sim_out *o;
  switch (it->c) {
  case SIM_STEP_HOLD_START:
    ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_HOLD_STARTED, a);
    break;
  case SIM_STEP_HOLD_END:
    ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_HOLD_ENDED, a);
    break;
  case SIM_STEP_RESPONSE:
  case SIM_STEP_NOTE:
    o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_AGENT_RESPONSE, a);
    if (o)
      o->u.resp.is_public = it->c == SIM_STEP_RESPONSE;
    break;
  case SIM_STEP_ESCALATE:
    c->flags |= SIM_CF_ESCALATED;
    o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED, a);
    if (o) {
      o->u.esc.tier = ks_sim_chance(&tn->rng, 0.7) ? 0 : 1;
      o->u.esc.reason = (uint8_t)ks_sim_below(&tn->rng, SIM_NESC_REASONS);
    }
    break;
  case SIM_STEP_NBA:
    a->nba_no = ++tn->nba_no;
    a->nba_action = (uint8_t)ks_sim_below(&tn->rng, SIM_NNBA_ACTIONS);
    o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_NBA_OFFER, a);
    if (o) {
      o->u.nba.no = a->nba_no;
      o->u.nba.action = a->nba_action;
    }
    break;
  default:
    break;
  }
}

static void nba_reaction(ks_sim *s, ks_sim_tenant *tn, ks_sim_agent *a, ks_sim_contact *c) {
  if (a->nba_no == 0)
    return;
  static const double w[3] = {0.25, 0.55, 0.20};
  int r = 1 + ks_sim_pick(&tn->rng, w, 3);
  ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_NBA_REACTION, a);
  if (o) {
    o->u.nba.no = a->nba_no;
    o->u.nba.action = a->nba_action;
    o->u.nba.reaction = (uint8_t)r;
  }
  if (r == KPISTREAM__V1__REACTION__REACTION_ACCEPTED)
    c->flags |= SIM_CF_NBA_ACCEPTED;
  a->nba_no = 0;
}

void ks_sim_on_talk_end(ks_sim *s, const ks_sim_item *it) {
  ks_sim_agent *a = ks_sim_leg_agent(s, it, SIM_A_TALK);
  if (a == NULL)
    return;
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_contact *c = ks_sim_contact_get(s, a->cslot, a->cgen);
  if (c == NULL)
    return;
  ks_sim_rng *r = &tn->rng;
  if (c->channel == CH_VOICE)
    tn->talk_voice_s += (double)(s->now - a->leg_start_ms) / 1000.0;
  a->state = SIM_A_ACW;
  double acw;
  if (a->leg_xfer_to != SIM_NONE8) {
    ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED, a);
    if (o) {
      o->u.xfer.to_queue = a->leg_xfer_to;
      o->u.xfer.type = ks_sim_chance(r, 0.4) ? KPISTREAM__V1__TRANSFER_TYPE__TRANSFER_CONSULT
                                             : KPISTREAM__V1__TRANSFER_TYPE__TRANSFER_BLIND;
    }
    nba_reaction(s, tn, a, c);
    a->leg_final = 0;
    ks_sim_agent_state(s, it->tenant, it->a, KPISTREAM__V1__AGENT_STATE__AGENT_AFTER_CONTACT_WORK,
                       0, 0);
    c->transfers++;
    c->queue = a->leg_xfer_to;
    ks_sim_enqueue(s, it->tenant, a->cslot, 1, 0); /* the contact moves on without this agent */
    acw = 10.0 + ks_sim_lognormal(r, 15.0, 0.5);
  } else {
    ks_sim_out *o = ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED, a);
    if (o) {
      double p_cust = c->channel == CH_VOICE ? 0.75 : c->channel == CH_CHAT ? 0.6 : 0.0;
      o->u.ended.party = ks_sim_chance(r, p_cust) ? KPISTREAM__V1__PARTY__PARTY_CUSTOMER
                                                  : KPISTREAM__V1__PARTY__PARTY_AGENT;
    }
    nba_reaction(s, tn, a, c);
    if (c->channel != CH_EMAIL && ks_sim_chance(r, 0.6))
      ks_sim_sentiment(s, it->tenant, a, c);
    a->leg_final = 1;
    c->state = SIM_C_WRAP;
    double p = p_resolve[c->queue] - ((c->flags & SIM_CF_ESCALATED) ? 0.1 : 0.0) +
               ((c->flags & SIM_CF_REPEAT) ? 0.05 : 0.0) + ((double)a->quality - 100.0) / 1000.0;
    a->leg_resolved = (uint8_t)ks_sim_chance(r, p);
    a->leg_reason = c->reason;
    ks_sim_agent_state(s, it->tenant, it->a, KPISTREAM__V1__AGENT_STATE__AGENT_AFTER_CONTACT_WORK,
                       0, 0);
    acw = 5.0 + ks_sim_lognormal(r, ks_sim_acw_mean_s(c->queue) - 5.0, 0.5);
  }
  ks_sim_push(s, s->now + ks_sim_ms(acw), SIM_K_ACW_END, it->tenant, 0, it->a, a->leg_token, 0, 0);
}

void ks_sim_on_acw_end(ks_sim *s, const ks_sim_item *it) {
  ks_sim_agent *a = ks_sim_leg_agent(s, it, SIM_A_ACW);
  if (a == NULL)
    return;
  ks_sim_tenant *tn = &s->tenants[it->tenant];
  ks_sim_contact *c = a->leg_final ? ks_sim_contact_get(s, a->cslot, a->cgen) : NULL;
  ks_sim_out *o = ks_sim_emit_leg(s, it->tenant, a, KPISTREAM__V1__EVENT__BODY_ACW_ENDED);
  if (o) {
    o->u.acw.reason = a->leg_final ? a->leg_reason : SIM_NONE8;
    if (!a->leg_final) {
      o->u.acw.wrap = SIM_WRAP_TRANSFER;
      o->u.acw.disp = SIM_DISP_TRANSFERRED;
    } else if (a->leg_resolved) {
      o->u.acw.wrap = SIM_WRAP_RESOLVED;
      o->u.acw.disp = SIM_DISP_RESOLVED;
      o->u.acw.resolved = 1;
    } else if (c && (c->flags & SIM_CF_ESCALATED)) {
      o->u.acw.wrap = SIM_WRAP_ESCALATED;
      o->u.acw.disp = SIM_DISP_ESCALATED;
    } else {
      o->u.acw.wrap = SIM_WRAP_FOLLOW_UP;
      o->u.acw.disp = ks_sim_chance(&tn->rng, 0.6) ? SIM_DISP_FOLLOW_UP : SIM_DISP_CALLBACK;
    }
  }
  if (c) {
    if (a->leg_resolved)
      ks_sim_emit_c(s, c, KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED, a);
    s->st.handled++;
    ks_sim_followups(s, it->tenant, a, c);
    if (a->leg_resolved)
      ks_sim_maybe_reopen(s, it->tenant, c);
    if (!a->leg_resolved && ks_sim_chance(&tn->rng, 0.6))
      ks_sim_repeat_push(s, tn, SIM_BACK_LATER, c->customer, c->reason, c->queue);
    ks_sim_contact_release(s, a->cslot);
  }
  a->state = SIM_A_IDLE;
  ks_sim_agent_settle(s, it->tenant, it->a);
}
