/*
 * events — the event builders of the test kit (kpistream/testkit.h): an
 * envelope, protobuf packing, and one shorthand per leg of a contact.
 * Encoding goes through protobuf-c's generated packer, so the engine under
 * test decodes real wire bytes.
 */
#include <string.h>

#include "kpistream/testkit.h"

static char *s_or_empty(const char *s) {
  return (char *)(s ? s : "");
}

Kpistream__V1__Event ks_tk_event(int64_t time_ms, const char *tenant, int channel,
                                 const char *queue, const char *contact_id, const char *customer_id,
                                 const char *agent_id) {
  Kpistream__V1__Event ev = KPISTREAM__V1__EVENT__INIT;
  ev.event_id = "";
  ev.event_time_ms = time_ms;
  ev.tenant = s_or_empty(tenant);
  ev.channel = (Kpistream__V1__Channel)channel;
  ev.queue = s_or_empty(queue);
  ev.contact_id = s_or_empty(contact_id);
  ev.customer_id = s_or_empty(customer_id);
  ev.agent_id = s_or_empty(agent_id);
  ev.team = "";
  return ev;
}

size_t ks_tk_pack(const Kpistream__V1__Event *ev, uint8_t *buf, size_t cap) {
  size_t n = kpistream__v1__event__get_packed_size(ev);
  if (n > cap)
    return 0;
  return kpistream__v1__event__pack(ev, buf);
}

#define TK_BODY(name, CASE, field, Type, INIT)                                                     \
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, channel, queue, contact, NULL, NULL);     \
  Type body = INIT;                                                                                \
  ev.body_case = KPISTREAM__V1__EVENT__BODY_##CASE;                                                \
  ev.field = &body

int ks_tk_queued(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                 const char *customer) {
  TK_BODY(q, CONTACT_QUEUED, contact_queued, Kpistream__V1__ContactQueued,
          KPISTREAM__V1__CONTACT_QUEUED__INIT);
  ev.customer_id = s_or_empty(customer);
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_created(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                  const char *customer) {
  TK_BODY(c, CONTACT_CREATED, contact_created, Kpistream__V1__ContactCreated,
          KPISTREAM__V1__CONTACT_CREATED__INIT);
  ev.customer_id = s_or_empty(customer);
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_answered(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                   const char *agent) {
  TK_BODY(a, CONTACT_ANSWERED, contact_answered, Kpistream__V1__ContactAnswered,
          KPISTREAM__V1__CONTACT_ANSWERED__INIT);
  ev.agent_id = s_or_empty(agent);
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_abandoned(ks_testkit *tk, int64_t t, int channel, const char *queue,
                    const char *contact) {
  TK_BODY(a, CONTACT_ABANDONED, contact_abandoned, Kpistream__V1__ContactAbandoned,
          KPISTREAM__V1__CONTACT_ABANDONED__INIT);
  body.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_QUEUE;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_hold(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
               const char *agent, int started) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, channel, queue, contact, NULL, agent);
  Kpistream__V1__HoldStarted hs = KPISTREAM__V1__HOLD_STARTED__INIT;
  Kpistream__V1__HoldEnded he = KPISTREAM__V1__HOLD_ENDED__INIT;
  if (started) {
    ev.body_case = KPISTREAM__V1__EVENT__BODY_HOLD_STARTED;
    ev.hold_started = &hs;
  } else {
    ev.body_case = KPISTREAM__V1__EVENT__BODY_HOLD_ENDED;
    ev.hold_ended = &he;
  }
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_ended(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                const char *agent) {
  TK_BODY(x, CONTACT_ENDED, contact_ended, Kpistream__V1__ContactEnded,
          KPISTREAM__V1__CONTACT_ENDED__INIT);
  ev.agent_id = s_or_empty(agent);
  body.disconnected_by = KPISTREAM__V1__PARTY__PARTY_CUSTOMER;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_acw_ended(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                    const char *agent, const char *reason_code, int resolved) {
  TK_BODY(w, ACW_ENDED, acw_ended, Kpistream__V1__AfterContactWorkEnded,
          KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT);
  ev.agent_id = s_or_empty(agent);
  body.reason_code = s_or_empty(reason_code);
  body.resolved = resolved ? 1 : 0;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_transferred(ks_testkit *tk, int64_t t, int channel, const char *queue,
                      const char *contact, const char *agent, const char *to_queue) {
  TK_BODY(x, CONTACT_TRANSFERRED, contact_transferred, Kpistream__V1__ContactTransferred,
          KPISTREAM__V1__CONTACT_TRANSFERRED__INIT);
  ev.agent_id = s_or_empty(agent);
  body.to_queue = s_or_empty(to_queue);
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_escalated(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                    const char *agent) {
  TK_BODY(x, CONTACT_ESCALATED, contact_escalated, Kpistream__V1__ContactEscalated,
          KPISTREAM__V1__CONTACT_ESCALATED__INIT);
  ev.agent_id = s_or_empty(agent);
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_agent_response(ks_testkit *tk, int64_t t, int channel, const char *queue,
                         const char *contact, const char *agent, int is_bot) {
  TK_BODY(x, AGENT_RESPONSE, agent_response, Kpistream__V1__AgentResponse,
          KPISTREAM__V1__AGENT_RESPONSE__INIT);
  ev.agent_id = s_or_empty(agent);
  body.is_bot = is_bot ? 1 : 0;
  body.is_public = 1;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_resolved(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact) {
  TK_BODY(x, CONTACT_RESOLVED, contact_resolved, Kpistream__V1__ContactResolved,
          KPISTREAM__V1__CONTACT_RESOLVED__INIT);
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_abandoned_stage(ks_testkit *tk, int64_t t, int channel, const char *queue,
                          const char *contact, int stage) {
  TK_BODY(a, CONTACT_ABANDONED, contact_abandoned, Kpistream__V1__ContactAbandoned,
          KPISTREAM__V1__CONTACT_ABANDONED__INIT);
  body.stage = (Kpistream__V1__AbandonStage)stage;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_agent_response_ex(ks_testkit *tk, int64_t t, int channel, const char *queue,
                            const char *contact, const char *agent, int is_bot, int is_public) {
  TK_BODY(x, AGENT_RESPONSE, agent_response, Kpistream__V1__AgentResponse,
          KPISTREAM__V1__AGENT_RESPONSE__INIT);
  ev.agent_id = s_or_empty(agent);
  body.is_bot = is_bot ? 1 : 0;
  body.is_public = is_public ? 1 : 0;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_set_body(Kpistream__V1__Event *ev, ks_tk_bodies *b, uint32_t body) {
  kpistream__v1__contact_created__init(&b->created);
  kpistream__v1__contact_queued__init(&b->queued);
  kpistream__v1__contact_offered__init(&b->offered);
  kpistream__v1__contact_answered__init(&b->answered);
  kpistream__v1__agent_response__init(&b->response);
  kpistream__v1__hold_started__init(&b->hold_started);
  kpistream__v1__hold_ended__init(&b->hold_ended);
  kpistream__v1__contact_transferred__init(&b->transferred);
  kpistream__v1__contact_escalated__init(&b->escalated);
  kpistream__v1__contact_abandoned__init(&b->abandoned);
  kpistream__v1__contact_ended__init(&b->ended);
  kpistream__v1__after_contact_work_ended__init(&b->acw);
  kpistream__v1__contact_resolved__init(&b->resolved);
  kpistream__v1__contact_reopened__init(&b->reopened);
  switch (body) {
  case KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED:
    ev->contact_created = &b->created;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED:
    ev->contact_queued = &b->queued;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_OFFERED:
    ev->contact_offered = &b->offered;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED:
    ev->contact_answered = &b->answered;
    break;
  case KPISTREAM__V1__EVENT__BODY_AGENT_RESPONSE:
    ev->agent_response = &b->response;
    break;
  case KPISTREAM__V1__EVENT__BODY_HOLD_STARTED:
    ev->hold_started = &b->hold_started;
    break;
  case KPISTREAM__V1__EVENT__BODY_HOLD_ENDED:
    ev->hold_ended = &b->hold_ended;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED:
    ev->contact_transferred = &b->transferred;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED:
    ev->contact_escalated = &b->escalated;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED:
    ev->contact_abandoned = &b->abandoned;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED:
    ev->contact_ended = &b->ended;
    break;
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    ev->acw_ended = &b->acw;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED:
    ev->contact_resolved = &b->resolved;
    break;
  case KPISTREAM__V1__EVENT__BODY_CONTACT_REOPENED:
    ev->contact_reopened = &b->reopened;
    break;
  default:
    return KS_EINVAL;
  }
  ev->body_case = (Kpistream__V1__Event__BodyCase)body;
  return 0;
}

int ks_tk_lifecycle(ks_testkit *tk, const char *event_id, uint32_t body, int64_t t, int channel,
                    const char *queue, const char *contact, const char *customer, const char *agent,
                    int arg) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, channel, queue, contact, customer, agent);
  ev.event_id = s_or_empty(event_id);
  ks_tk_bodies b;
  int rc = ks_tk_set_body(&ev, &b, body);
  if (rc != 0)
    return rc;
  b.response.is_public = arg ? 1 : 0;
  b.offered.ring_ms = arg;
  b.offered.accepted = 0; /* not read: the answer tells */
  b.queued.callback = arg ? 1 : 0;
  if (arg)
    b.abandoned.stage = (Kpistream__V1__AbandonStage)arg;
  else
    b.abandoned.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_QUEUE;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_agent_state(ks_testkit *tk, int64_t t, const char *agent, const char *team, int state,
                      int aux_reason) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, 0, NULL, NULL, NULL, agent);
  ev.team = s_or_empty(team);
  Kpistream__V1__AgentStateChanged body = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
  body.state = (Kpistream__V1__AgentState)state;
  body.aux_reason = (Kpistream__V1__AuxReason)aux_reason;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_STATE;
  ev.agent_state = &body;
  return ks_testkit_feed(tk, &ev);
}

int ks_tk_survey(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                 const char *agent, int type, int scale_min, int scale_max, int score) {
  Kpistream__V1__Event ev = ks_tk_event(t, KS_TK_TENANT, channel, queue, contact, NULL, agent);
  Kpistream__V1__SurveyResponse body = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  body.type = (Kpistream__V1__SurveyType)type;
  body.scale_min = scale_min;
  body.scale_max = scale_max;
  body.score = score;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &body;
  return ks_testkit_feed(tk, &ev);
}
