#include "event_builder.h"

#include <stdlib.h>
#include <string.h>

static char *s_or_empty(const char *s) {
  return (char *)(s ? s : "");
}

Kpistream__V1__Event eb_event(int64_t time_ms, const char *tenant, int channel, const char *queue,
                              const char *contact_id, const char *customer_id,
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

size_t eb_pack(const Kpistream__V1__Event *ev, uint8_t *buf, size_t cap) {
  size_t n = kpistream__v1__event__get_packed_size(ev);
  if (n > cap)
    return 0;
  return kpistream__v1__event__pack(ev, buf);
}

int eb_feed(ks_engine *e, int32_t task, uint32_t topic_index, const Kpistream__V1__Event *ev) {
  /* Offsets only need to be increasing; a per-engine counter would be state
   * in the test support, so derive one from the event time. */
  uint8_t buf[4096];
  size_t n = eb_pack(ev, buf, sizeof buf);
  if (n == 0)
    abort();
  char reason[128];
  return ks_engine_process(e, task, topic_index, ev->event_time_ms, buf, n, reason, sizeof reason);
}

#define EB_BODY(name, CASE, field, Type, INIT)                                                     \
  Kpistream__V1__Event ev = eb_event(t, EB_TENANT, channel, queue, contact, NULL, NULL);           \
  Type body = INIT;                                                                                \
  ev.body_case = KPISTREAM__V1__EVENT__BODY_##CASE;                                                \
  ev.field = &body

int eb_queued(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
              const char *customer) {
  EB_BODY(q, CONTACT_QUEUED, contact_queued, Kpistream__V1__ContactQueued,
          KPISTREAM__V1__CONTACT_QUEUED__INIT);
  ev.customer_id = s_or_empty(customer);
  return eb_feed(e, 0, 0, &ev);
}

int eb_created(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
               const char *customer) {
  EB_BODY(c, CONTACT_CREATED, contact_created, Kpistream__V1__ContactCreated,
          KPISTREAM__V1__CONTACT_CREATED__INIT);
  ev.customer_id = s_or_empty(customer);
  return eb_feed(e, 0, 0, &ev);
}

int eb_answered(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                const char *agent) {
  EB_BODY(a, CONTACT_ANSWERED, contact_answered, Kpistream__V1__ContactAnswered,
          KPISTREAM__V1__CONTACT_ANSWERED__INIT);
  ev.agent_id = s_or_empty(agent);
  return eb_feed(e, 0, 0, &ev);
}

int eb_abandoned(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact) {
  EB_BODY(a, CONTACT_ABANDONED, contact_abandoned, Kpistream__V1__ContactAbandoned,
          KPISTREAM__V1__CONTACT_ABANDONED__INIT);
  body.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_QUEUE;
  return eb_feed(e, 0, 0, &ev);
}

int eb_hold(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
            const char *agent, int started) {
  Kpistream__V1__Event ev = eb_event(t, EB_TENANT, channel, queue, contact, NULL, agent);
  Kpistream__V1__HoldStarted hs = KPISTREAM__V1__HOLD_STARTED__INIT;
  Kpistream__V1__HoldEnded he = KPISTREAM__V1__HOLD_ENDED__INIT;
  if (started) {
    ev.body_case = KPISTREAM__V1__EVENT__BODY_HOLD_STARTED;
    ev.hold_started = &hs;
  } else {
    ev.body_case = KPISTREAM__V1__EVENT__BODY_HOLD_ENDED;
    ev.hold_ended = &he;
  }
  return eb_feed(e, 0, 0, &ev);
}

int eb_ended(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
             const char *agent) {
  EB_BODY(x, CONTACT_ENDED, contact_ended, Kpistream__V1__ContactEnded,
          KPISTREAM__V1__CONTACT_ENDED__INIT);
  ev.agent_id = s_or_empty(agent);
  body.disconnected_by = KPISTREAM__V1__PARTY__PARTY_CUSTOMER;
  return eb_feed(e, 0, 0, &ev);
}

int eb_acw_ended(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                 const char *agent, const char *reason_code, int resolved) {
  EB_BODY(w, ACW_ENDED, acw_ended, Kpistream__V1__AfterContactWorkEnded,
          KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT);
  ev.agent_id = s_or_empty(agent);
  body.reason_code = s_or_empty(reason_code);
  body.resolved = resolved ? 1 : 0;
  return eb_feed(e, 0, 0, &ev);
}

int eb_transferred(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                   const char *agent, const char *to_queue) {
  EB_BODY(x, CONTACT_TRANSFERRED, contact_transferred, Kpistream__V1__ContactTransferred,
          KPISTREAM__V1__CONTACT_TRANSFERRED__INIT);
  ev.agent_id = s_or_empty(agent);
  body.to_queue = s_or_empty(to_queue);
  return eb_feed(e, 0, 0, &ev);
}

int eb_escalated(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                 const char *agent) {
  EB_BODY(x, CONTACT_ESCALATED, contact_escalated, Kpistream__V1__ContactEscalated,
          KPISTREAM__V1__CONTACT_ESCALATED__INIT);
  ev.agent_id = s_or_empty(agent);
  return eb_feed(e, 0, 0, &ev);
}

int eb_agent_response(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                      const char *agent, int is_bot) {
  EB_BODY(x, AGENT_RESPONSE, agent_response, Kpistream__V1__AgentResponse,
          KPISTREAM__V1__AGENT_RESPONSE__INIT);
  ev.agent_id = s_or_empty(agent);
  body.is_bot = is_bot ? 1 : 0;
  body.is_public = 1;
  return eb_feed(e, 0, 0, &ev);
}

int eb_resolved(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact) {
  EB_BODY(x, CONTACT_RESOLVED, contact_resolved, Kpistream__V1__ContactResolved,
          KPISTREAM__V1__CONTACT_RESOLVED__INIT);
  return eb_feed(e, 0, 0, &ev);
}

int eb_abandoned_stage(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                       int stage) {
  EB_BODY(a, CONTACT_ABANDONED, contact_abandoned, Kpistream__V1__ContactAbandoned,
          KPISTREAM__V1__CONTACT_ABANDONED__INIT);
  body.stage = (Kpistream__V1__AbandonStage)stage;
  return eb_feed(e, 0, 0, &ev);
}

int eb_agent_response_ex(ks_engine *e, int64_t t, int channel, const char *queue,
                         const char *contact, const char *agent, int is_bot, int is_public) {
  EB_BODY(x, AGENT_RESPONSE, agent_response, Kpistream__V1__AgentResponse,
          KPISTREAM__V1__AGENT_RESPONSE__INIT);
  ev.agent_id = s_or_empty(agent);
  body.is_bot = is_bot ? 1 : 0;
  body.is_public = is_public ? 1 : 0;
  return eb_feed(e, 0, 0, &ev);
}

void eb_set_body(Kpistream__V1__Event *ev, eb_bodies *b, uint32_t body) {
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
  ev->body_case = (Kpistream__V1__Event__BodyCase)body;
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
    abort();
  }
}

int eb_lifecycle(ks_engine *e, const char *event_id, uint32_t body, int64_t t, int channel,
                 const char *queue, const char *contact, const char *customer, const char *agent,
                 int arg) {
  Kpistream__V1__Event ev = eb_event(t, EB_TENANT, channel, queue, contact, customer, agent);
  ev.event_id = s_or_empty(event_id);
  eb_bodies b;
  eb_set_body(&ev, &b, body);
  b.response.is_public = arg ? 1 : 0;
  b.offered.ring_ms = arg;
  b.offered.accepted = 0; /* not read: the answer tells */
  b.queued.callback = arg ? 1 : 0;
  if (arg)
    b.abandoned.stage = (Kpistream__V1__AbandonStage)arg;
  else
    b.abandoned.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_QUEUE;
  return eb_feed(e, 0, 0, &ev);
}
