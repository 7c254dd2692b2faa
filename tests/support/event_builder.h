/*
 * event_builder — build, encode and feed kpistream.v1.Event messages in
 * tests. Encoding goes through protobuf-c's generated packer, so the engine
 * under test decodes real wire bytes.
 *
 * Ownership: eb_event() returns a value; bodies are caller-owned (usually on
 * the test's stack) and must outlive eb_feed().
 */
#ifndef KS_EVENT_BUILDER_H
#define KS_EVENT_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "kpistream/v1/events.pb-c.h"

/* Minutes and seconds as milliseconds, from a fixed test epoch
 * (2026-11-23T00:00:00Z = 1795392000000 ms). */
#define EB_T0     INT64_C(1795392000000)
#define EB_MIN(m) ((int64_t)(m)*60000)
#define EB_SEC(s) ((int64_t)(s)*1000)

/* An envelope with no body. Strings are borrowed. NULL strings become "". */
Kpistream__V1__Event eb_event(int64_t time_ms, const char *tenant, int channel, const char *queue,
                              const char *contact_id, const char *customer_id,
                              const char *agent_id);

/* Pack ev into buf (cap bytes); returns the length, or 0 if it does not fit. */
size_t eb_pack(const Kpistream__V1__Event *ev, uint8_t *buf, size_t cap);

/* Pack ev and process it as the next message of (task, topic_index).
 * Returns what ks_engine_process() returned. Offsets count up per call. */
int eb_feed(ks_engine *e, int32_t task, uint32_t topic_index, const Kpistream__V1__Event *ev);

/* Shorthands that set one body and feed it (topic 0, task 0). Each returns
 * what ks_engine_process() returned. */
int eb_queued(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
              const char *customer);
int eb_answered(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                const char *agent);
int eb_abandoned(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact);
int eb_hold(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
            const char *agent, int started);
int eb_ended(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
             const char *agent);
int eb_acw_ended(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                 const char *agent, const char *reason_code, int resolved);
int eb_transferred(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                   const char *agent, const char *to_queue);
int eb_escalated(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                 const char *agent);
int eb_created(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
               const char *customer);
int eb_agent_response(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                      const char *agent, int is_bot);
int eb_resolved(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact);

/* More shorthands (topic 0, task 0), added for the operations tests. */
/* An abandon at a given stage (Kpistream__V1__AbandonStage). */
int eb_abandoned_stage(ks_engine *e, int64_t t, int channel, const char *queue, const char *contact,
                       int stage);
/* An agent response with explicit bot/public flags. */
int eb_agent_response_ex(ks_engine *e, int64_t t, int channel, const char *queue,
                         const char *contact, const char *agent, int is_bot, int is_public);

/* Storage for one body of each contact-lifecycle kind, default fields. */
typedef struct eb_bodies {
  Kpistream__V1__ContactCreated created;
  Kpistream__V1__ContactQueued queued;
  Kpistream__V1__ContactOffered offered;
  Kpistream__V1__ContactAnswered answered;
  Kpistream__V1__AgentResponse response;
  Kpistream__V1__HoldStarted hold_started;
  Kpistream__V1__HoldEnded hold_ended;
  Kpistream__V1__ContactTransferred transferred;
  Kpistream__V1__ContactEscalated escalated;
  Kpistream__V1__ContactAbandoned abandoned;
  Kpistream__V1__ContactEnded ended;
  Kpistream__V1__AfterContactWorkEnded acw;
  Kpistream__V1__ContactResolved resolved;
  Kpistream__V1__ContactReopened reopened;
} eb_bodies;

/* Initialise every body of b and make ev carry the one of `body`
 * (KPISTREAM__V1__EVENT__BODY_*, a contact-lifecycle body; aborts on any
 * other). b must outlive the use of ev; set its fields after the call. */
void eb_set_body(Kpistream__V1__Event *ev, eb_bodies *b, uint32_t body);

/* Any contact-lifecycle body with its default fields, an event id (NULL:
 * "") and tenant EB_TENANT, fed to task 0, topic 0. `arg` is the abandon
 * stage for CONTACT_ABANDONED (0: in queue), is_public for AGENT_RESPONSE
 * (never a bot), ring_ms for CONTACT_OFFERED and callback (non-zero) for
 * CONTACT_QUEUED; ignored otherwise. Returns what ks_engine_process()
 * returned. */
int eb_lifecycle(ks_engine *e, const char *event_id, uint32_t body, int64_t t, int channel,
                 const char *queue, const char *contact, const char *customer, const char *agent,
                 int arg);

/* Tenant used by the shorthands. */
#define EB_TENANT "acme"

#endif
