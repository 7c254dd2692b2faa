/*
 * kpistream/testkit.h — test a KPI plugin without Kafka (the model is Kafka
 * Streams' TopologyTestDriver). A ks_testkit loads plugin .so files into an
 * in-process engine (the same engine `kpistream run` drives), feeds it events
 * built with the helpers below, advances the watermark or closes every
 * interval, and hands back the results as plain structs for assertions. It
 * can checkpoint every plugin's state through the engine's snapshot and
 * restart from it, so a plugin's restore path is testable too.
 *
 * Link: CMake `find_package(Kpistream)` + `target_link_libraries(t PRIVATE
 * Kpistream::testkit)`, or `pkg-config --cflags --libs kpistream-testkit`.
 * The kit is a host: link it into a test program, never into a plugin.
 *
 * Ownership: the caller owns a ks_testkit (ks_testkit_new/ks_testkit_free);
 * the kit owns its engine, the loaded plugins, copies of their options and
 * the results. Pointers into the results stay valid until the next call
 * that feeds, advances, flushes, restarts or clears the kit. Events and
 * their strings are borrowed for the call that feeds them.
 * Errors: negative codes of kpistream/plugin.h (KS_E*), with a reason a
 * human reads in errstr (errstr, errstr_size) where a function takes one.
 */
#ifndef KPISTREAM_TESTKIT_H
#define KPISTREAM_TESTKIT_H

#include <stddef.h>
#include <stdint.h>

#include "kpistream/plugin.h"
#include "kpistream/v1/events.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_testkit ks_testkit;

/* One plugin option (key = value), as in the plugin's `options:` in
 * kpistream.yaml. Strings are copied by ks_testkit_add_plugin(). */
typedef struct ks_testkit_kv {
  const char *key;
  const char *value;
} ks_testkit_kv;

typedef struct ks_testkit_options {
  int64_t interval_ms; /* tumbling interval; 0 = 15 minutes */
  int64_t lateness_ms; /* allowed out-of-orderness behind the highest event time */
  int64_t grace_ms;    /* extra wait after interval end + lateness */
  int64_t restate_ms;  /* restatement horizon after an interval closes; 0 = none */
  int log_level;       /* KS_LOG_*; 0 = KS_LOG_WARN */
} ks_testkit_options;

/* Create a kit with an empty engine (one input topic, index 0). opts NULL:
 * all defaults. */
int ks_testkit_new(ks_testkit **out, const ks_testkit_options *opts, char *errstr,
                   size_t errstr_size);
void ks_testkit_free(ks_testkit *tk);

/* Load the plugin at `path` (its init() runs with the options). Results go
 * to output_topic (NULL: "kpi.<name>"). Plugins are indexed 0, 1, ... in
 * the order they were added. Returns 0, or a negative error with the file,
 * the option or the ABI versions at fault in errstr. */
int ks_testkit_add_plugin(ks_testkit *tk, const char *path, const char *output_topic,
                          const ks_testkit_kv *options, size_t n_options, char *errstr,
                          size_t errstr_size);

/* ---- feeding ---------------------------------------------------------------
 * Each returns what the engine made of the message (>= 0):
 *   KS_TESTKIT_PROCESSED  dispatched (or no plugin wanted it)
 *   KS_TESTKIT_REJECTED   undecodable or schema-invalid (dead-lettered in production)
 *   KS_TESTKIT_LATE       its interval had closed beyond the restatement horizon
 *   KS_TESTKIT_RESTATED   late within the horizon: its interval published again
 * or a negative error. ks_testkit_reason() says why an event was refused.
 * A task (input partition) is opened the first time an event is fed to it. */
#define KS_TESTKIT_PROCESSED 0
#define KS_TESTKIT_REJECTED  1
#define KS_TESTKIT_LATE      2
#define KS_TESTKIT_RESTATED  3

/* Encode ev (protobuf) and process it as the next message of task 0,
 * topic 0; the offset is the event time (offsets only need to increase). */
int ks_testkit_feed(ks_testkit *tk, const Kpistream__V1__Event *ev);
/* The same for (task, topic_index). */
int ks_testkit_feed_to(ks_testkit *tk, int32_t task, uint32_t topic_index,
                       const Kpistream__V1__Event *ev);
/* Raw bytes (e.g. a malformed message) as message `offset` of (task, topic_index). */
int ks_testkit_feed_bytes(ks_testkit *tk, int32_t task, uint32_t topic_index, int64_t offset,
                          const void *buf, size_t len);
/* Why the last fed message was refused ("" when it was not). */
const char *ks_testkit_reason(const ks_testkit *tk);

/* ---- time ------------------------------------------------------------------ */

/* Move the watermark of `task` to at least watermark_ms (as if its input had
 * been quiet that long) and close every interval that ends at or before
 * it. Needs an event fed to the task first (KS_EINVAL otherwise). */
int ks_testkit_advance_to(ks_testkit *tk, int32_t task, int64_t watermark_ms);
/* End of input: close every open interval of every task. Returns 0, or
 * KS_EPLUGIN when a plugin callback failed since the kit was created (or
 * since the last ks_testkit_restart), naming the plugin, the callback and
 * the code in ks_testkit_error(). */
int ks_testkit_flush(ks_testkit *tk);
/* The last failure the kit saw: a plugin callback that returned an error,
 * a result it could not hold. "" when none. */
const char *ks_testkit_error(const ks_testkit *tk);
/* Plugin callbacks that returned an error so far. */
uint64_t ks_testkit_plugin_errors(const ks_testkit *tk);

/* ---- results ----------------------------------------------------------------
 * Every result any plugin emitted, in emission order, decoded from the
 * protobuf bytes the Kafka producer would send. A string longer than its
 * field is not cut: the emit fails (a plugin error) and ks_testkit_error()
 * names it. */
#define KS_TESTKIT_STR 192

typedef struct ks_testkit_result {
  char topic[KS_TESTKIT_STR];
  char key[2 * KS_KEY_MAX]; /* the record's upsert key (also its Kafka key) */
  char family[64];
  char metric[64];
  char tenant[KS_TESTKIT_STR];
  int channel; /* Kpistream__V1__Channel; 0 = all channels */
  char queue[KS_TESTKIT_STR];
  char agent[KS_TESTKIT_STR];
  char team[KS_TESTKIT_STR];
  size_t n_labels;
  char labels[2 * KS_TESTKIT_STR]; /* "k=v,k=v" in the plugin's order; "" none */
  int64_t start_ms, end_ms;        /* the interval */
  int has_value;                   /* 0: the value is null */
  double value;
  double numerator, denominator;
  int64_t count;
  int aggregation; /* KS_AGG_* */
  char unit[32];
  uint32_t revision; /* 0 first; restatements count up */
  int level;         /* KS_LEVEL_* */
  char plugin_version[32];
} ks_testkit_result;

/* The results so far (n receives how many; NULL when none). */
const ks_testkit_result *ks_testkit_results(const ks_testkit *tk, size_t *n);
/* How many results so far, and result i (< that count). */
size_t ks_testkit_result_count(const ks_testkit *tk);
const ks_testkit_result *ks_testkit_result_at(const ks_testkit *tk, size_t i);
/* Forget the results so far (the plugins' state stays). */
void ks_testkit_clear_results(ks_testkit *tk);

/* ---- checkpoint and restore -------------------------------------------------
 * Snapshot every plugin's state of every open task through the engine's
 * checkpoint format, free the engine, build a new one with the same options
 * and plugins, and restore the snapshots into it: what a restart of
 * `kpistream run` from its last checkpoint does. The results so far are
 * kept. Returns 0, or a negative error with the task and plugin at fault in
 * errstr. */
int ks_testkit_restart(ks_testkit *tk, char *errstr, size_t errstr_size);

/* ---- event builders ---------------------------------------------------------
 * A fixed test epoch and durations in milliseconds. */
#define KS_TK_T0     INT64_C(1795392000000) /* 2026-11-23T00:00:00Z, a Monday */
#define KS_TK_MIN(m) ((int64_t)(m)*60000)
#define KS_TK_SEC(s) ((int64_t)(s)*1000)
/* The tenant the shorthands below use. */
#define KS_TK_TENANT "acme"

/* An envelope with no body. Strings are borrowed; NULL becomes "". */
Kpistream__V1__Event ks_tk_event(int64_t time_ms, const char *tenant, int channel,
                                 const char *queue, const char *contact_id, const char *customer_id,
                                 const char *agent_id);
/* Pack ev into buf (cap bytes); returns the length, or 0 if it does not fit. */
size_t ks_tk_pack(const Kpistream__V1__Event *ev, uint8_t *buf, size_t cap);

/* Storage for one body of each contact-lifecycle kind, default fields. */
typedef struct ks_tk_bodies {
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
} ks_tk_bodies;

/* Initialise every body of b and make ev carry the one of `body`
 * (KPISTREAM__V1__EVENT__BODY_*, a contact-lifecycle body). Returns 0, or
 * KS_EINVAL for any other body (ev unchanged). b must outlive the use of
 * ev; set its fields after the call. */
int ks_tk_set_body(Kpistream__V1__Event *ev, ks_tk_bodies *b, uint32_t body);

/* Shorthands: one event of one leg of a contact (tenant KS_TK_TENANT) with
 * default fields, fed to task 0, topic 0. Each returns what
 * ks_testkit_feed() returned. */
int ks_tk_created(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                  const char *customer);
int ks_tk_queued(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                 const char *customer);
int ks_tk_answered(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                   const char *agent);
/* Abandoned in the queue. */
int ks_tk_abandoned(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact);
/* Abandoned at a stage (Kpistream__V1__AbandonStage). */
int ks_tk_abandoned_stage(ks_testkit *tk, int64_t t, int channel, const char *queue,
                          const char *contact, int stage);
/* HoldStarted (started != 0) or HoldEnded. */
int ks_tk_hold(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
               const char *agent, int started);
/* Ended, disconnected by the customer. */
int ks_tk_ended(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                const char *agent);
int ks_tk_acw_ended(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                    const char *agent, const char *reason_code, int resolved);
int ks_tk_transferred(ks_testkit *tk, int64_t t, int channel, const char *queue,
                      const char *contact, const char *agent, const char *to_queue);
int ks_tk_escalated(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                    const char *agent);
/* A public agent response (email/chat). */
int ks_tk_agent_response(ks_testkit *tk, int64_t t, int channel, const char *queue,
                         const char *contact, const char *agent, int is_bot);
int ks_tk_agent_response_ex(ks_testkit *tk, int64_t t, int channel, const char *queue,
                            const char *contact, const char *agent, int is_bot, int is_public);
int ks_tk_resolved(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact);
/* Any contact-lifecycle body with its default fields and an event id (NULL:
 * ""). `arg` is the abandon stage for CONTACT_ABANDONED (0: in queue),
 * is_public for AGENT_RESPONSE (never a bot), ring_ms for CONTACT_OFFERED
 * and callback (non-zero) for CONTACT_QUEUED; ignored otherwise. */
int ks_tk_lifecycle(ks_testkit *tk, const char *event_id, uint32_t body, int64_t t, int channel,
                    const char *queue, const char *contact, const char *customer, const char *agent,
                    int arg);
/* An agent's state change (Kpistream__V1__AgentState) in a team; aux_reason
 * a Kpistream__V1__AuxReason (0 none). */
int ks_tk_agent_state(ks_testkit *tk, int64_t t, const char *agent, const char *team, int state,
                      int aux_reason);
/* A survey answer (Kpistream__V1__SurveyType) about a contact: score on a
 * scale_min..scale_max scale, higher is better. */
int ks_tk_survey(ks_testkit *tk, int64_t t, int channel, const char *queue, const char *contact,
                 const char *agent, int type, int scale_min, int scale_max, int score);

#ifdef __cplusplus
}
#endif

#endif
