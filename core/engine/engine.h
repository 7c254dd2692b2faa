/*
 * engine — the Kafka-free core of kpistream: decode once, route by body,
 * keep per-task watermarks and intervals, call plugins, hand results to a
 * sink. The Kafka runner, the tests and the benchmark all drive this.
 *
 * Ownership: the caller owns the ks_engine (ks_engine_new/ks_engine_free).
 * The engine owns loaded plugins, tasks and all state tables. Buffers passed
 * to ks_engine_process() are borrowed for the call only.
 * Threading: one thread drives an engine, unless its tasks are bound to
 * lanes (see "Threads" below): then the tasks of different lanes may be
 * processed at the same time, one thread per lane.
 */
#ifndef KS_ENGINE_H
#define KS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "fatal.h"
#include "kpistream/plugin.h"
#include "kv.h"
#include "partitioner.h"

typedef struct ks_engine ks_engine;
typedef struct ks_engine_lane ks_engine_lane;

/* Plugin options are ks_kv (kv.h); ks_engine_add_plugin() copies them. */

/*
 * Where results go. Called once per emitted result, with the encoded
 * MetricResult (protobuf) and its deterministic key; both are valid only for
 * the call. `r` is the plugin's result as given (strings borrowed).
 * Return 0, or a negative error (the plugin's emit() then fails).
 */
typedef int (*ks_sink_fn)(void *ud, const char *topic, const void *key, size_t keylen,
                          const void *value, size_t valuelen, const ks_result *r);

/* Called after a plugin callback returned an error (counted and logged,
 * rate-limited, by the engine): `plugin` is the plugin's index (the order of
 * ks_engine_add_plugin), `rc` what it returned, `call` the callback, task,
 * and the event's topic and offset (on_event) or the interval (others).
 * The engine goes on with the other plugins either way. */
typedef void (*ks_plugin_error_fn)(void *ud, size_t plugin, int rc, const ks_plugin_call *call);

/* Called when the engine has finished closing one interval of one task (all
 * plugins called, all results handed to the sink). */
typedef void (*ks_interval_closed_fn)(void *ud, int32_t task, int64_t start_ms, int64_t end_ms);

typedef struct ks_engine_options {
  int64_t interval_ms;       /* tumbling interval length; default 15 min */
  int64_t lateness_ms;       /* allowed out-of-orderness behind the max event time */
  int64_t grace_ms;          /* extra wait after interval end + lateness */
  const char *const *topics; /* input topic names; index = topic_index below */
  size_t n_topics;
  ks_sink_fn sink;
  void *sink_ud;
  ks_interval_closed_fn on_closed; /* optional */
  void *on_closed_ud;
  int log_level;                      /* KS_LOG_* ; default KS_LOG_INFO */
  int64_t restate_ms;                 /* restatement horizon after an interval closes; 0 = none */
  ks_plugin_error_fn on_plugin_error; /* optional */
  void *on_plugin_error_ud;
  ks_plugin_call *call; /* optional: where the engine records the plugin callback
                           it runs (fatal.h); NULL = a record of its own */
  /* Clock-skew bound (intervals.max_future_skew); 0 = none. An event more
   * than this ahead of both its task's highest event time and its message's
   * record timestamp is refused (see ks_engine_time_limit). */
  int64_t max_future_skew_ms;
} ks_engine_options;

/* Outcome of processing one message. */
typedef enum ks_process_result {
  KS_PROCESSED = 0, /* dispatched (or no plugin wanted it) */
  KS_REJECTED = 1,  /* undecodable / schema-invalid: send to the dead-letter topic */
  KS_LATE = 2,      /* its interval had closed beyond the restatement horizon:
                       counted, not dispatched (the runner dead-letters it) */
  KS_RESTATED = 3,  /* late within the horizon: dispatched to restatable plugins,
                       whose results for its interval were published again */
  KS_MISROUTED = 4  /* decoded, but breaks the partitioning contract (its key is not
                       its tenant, or it is not on its partitioner's partition):
                       counted, not dispatched (the runner dead-letters it) */
} ks_process_result;

typedef struct ks_engine_stats {
  uint64_t events_in;
  uint64_t events_dispatched; /* events passed to at least one plugin */
  uint64_t events_rejected;   /* undecodable, schema-invalid, or events_future */
  uint64_t events_future;     /* of events_rejected: event time beyond intervals.max_future_skew */
  uint64_t events_late;
  uint64_t events_unrouted; /* decoded fine, no plugin interested */
  uint64_t results_out;
  uint64_t plugin_errors;
  uint64_t intervals_closed;
  uint64_t events_restated;  /* late events within the restatement horizon */
  uint64_t restatements;     /* intervals re-closed with a higher revision */
  uint64_t events_misrouted; /* KS_MISROUTED: partitioning contract broken */
  uint64_t api_refusals;     /* host API calls refused: bad argument, wrong phase, a key
                                longer than KS_KEY_MAX (each logged) */
} ks_engine_stats;

/* Create an engine. On error returns a negative code and writes a
 * human-readable reason into errstr. */
int ks_engine_new(ks_engine **out, const ks_engine_options *opts, char *errstr, size_t errstr_size);
void ks_engine_free(ks_engine *e);

/* Load a plugin from a shared object and call its init(). output_topic NULL
 * means "kpi.<name>". Refusals (missing entry, ABI mismatch, small
 * descriptor, init failure) return a negative error with the file and both
 * versions in errstr. */
int ks_engine_add_plugin(ks_engine *e, const char *path, const char *output_topic,
                         const ks_kv *config, size_t n_config, char *errstr, size_t errstr_size);
/* The same, saying where the plugin and its options were configured: where
 * ("file:line:col" of the plugin's entry) prefixes every refusal of the
 * plugin, option_where[i] (may be NULL, or hold NULLs) every refusal of
 * config[i]: an unknown key, or a value the plugin's config_get_* refused
 * (that message then replaces "init failed"). The strings are copied. */
int ks_engine_add_plugin_at(ks_engine *e, const char *path, const char *output_topic,
                            const ks_kv *config, size_t n_config, const char *where,
                            const char *const *option_where, char *errstr, size_t errstr_size);

/* A plugin to load, everything the configuration says of it. Only path is
 * required; the strings are copied. */
typedef struct ks_plugin_spec {
  const char *path;
  /* The instance name ([a-z0-9_]+, default the plugin's own name): one
   * plugin may be loaded several times under different instance names with
   * different options. It names the plugin in logs, call records, the
   * dead-letter header kpistream.plugin, the changelog topic
   * (<prefix>.<instance>) and the default output topic (kpi.<instance>);
   * results keep the plugin's name as their family. */
  const char *instance;
  const char *output_topic; /* NULL: "kpi.<instance>" */
  const ks_kv *config;
  size_t n_config;
  const char *where;               /* "file:line:col" of the plugin's entry, or NULL */
  const char *const *option_where; /* per config[i], or NULL */
} ks_plugin_spec;

/* Load and init the plugin of spec (ks_engine_add_plugin_at with an
 * instance name). Refused besides what ks_engine_add_plugin_at refuses:
 * an instance name already loaded or not [a-z0-9_]+, and two instances of
 * one plugin writing to the same output topic (their result keys would
 * collide). */
int ks_engine_load_plugin(ks_engine *e, const ks_plugin_spec *spec, char *errstr,
                          size_t errstr_size);

/* ---- Inspecting a plugin without running it (tools: `plugins list`) ---- */

/* Open the plugin at path with the loader's checks (ABI, descriptor), call
 * nothing in it. *out is owned by the caller: ks_plugin_probe_close(). */
int ks_plugin_probe(const char *path, ks_plugin_ctx **out, char *errstr, size_t errstr_size);
/* The probed plugin's descriptor (valid until ks_plugin_probe_close), and
 * its option map when it has one (1.3), else NULL. */
const ks_plugin_descriptor *ks_plugin_probe_descriptor(const ks_plugin_ctx *p);
const ks_option *ks_plugin_probe_options(const ks_plugin_ctx *p);
void ks_plugin_probe_close(ks_plugin_ctx *p);

/* Option map helpers (loader.c). ks_option_check: 0 when value is valid
 * for option o's type (and choices), else KS_EINVAL with "option 'k': 'v'
 * is not ..." in errstr (may be NULL). */
int ks_option_check(const ks_option *o, const char *value, char *errstr, size_t errstr_size);
/* The entry of key in a NULL-name-terminated map, or NULL. */
const ks_option *ks_option_find(const ks_option *map, const char *key);
/* "string", "int", "double", "bool", "duration", "choice". */
const char *ks_option_type_name(ks_option_type t);

/* Tasks (= input partition numbers). A task must be opened before messages
 * of its partitions are processed; closing it drops its state (issue 3 adds
 * checkpoints). */
int ks_engine_task_open(ks_engine *e, int32_t task);
int ks_engine_task_close(ks_engine *e, int32_t task);
int ks_engine_task_exists(const ks_engine *e, int32_t task);

/* Process one input message of topic `topic_index`, partition `task`.
 * Returns a ks_process_result (>= 0) or a negative error. On KS_REJECTED
 * and KS_LATE, reason (if non-NULL) receives a human-readable cause (256
 * bytes hold every one). */
int ks_engine_process(ks_engine *e, int32_t task, uint32_t topic_index, int64_t offset,
                      const void *buf, size_t len, char *reason, size_t reason_size);
/* The highest event time `task` accepts now from a message with record
 * timestamp record_ms (< 0: none):
 *   max(highest event time the task has accepted, record_ms) + max_future_skew_ms.
 * INT64_MAX when there is no bound (max_future_skew_ms 0, or neither time is
 * known: a new task and a message without a record timestamp). A later event
 * is refused (KS_REJECTED) before it can move the watermark. Both times are
 * part of the input (the task's own history and the log), never the wall
 * clock, so a replay decides the same way; the record timestamp lets a task
 * resume after a real quiet period longer than the bound. The runner's merge
 * uses it too: an event this refuses is not ordered by its time. */
int64_t ks_engine_time_limit(const ks_engine *e, int32_t task, int64_t record_ms);

/* Where an input message came from, for the partitioning contract
 * (partitioner.h): its Kafka key and how the producers partition. */
typedef struct ks_msg_origin {
  const void *key; /* NULL: the message has no key */
  size_t key_len;
  int32_t n_partitions;       /* partitions of each input topic */
  ks_partitioner partitioner; /* input.partitioner */
  int64_t record_ms;          /* its record timestamp (CreateTime or LogAppendTime); < 0: none */
} ks_msg_origin;

/* ks_engine_process for a message from Kafka: right after the decode (the
 * only one), before the event can touch the watermark or a plugin, check
 * ks_copartition_check(); a violation returns KS_MISROUTED with its reason.
 * Then the clock-skew bound with origin's record time (ks_engine_time_limit).
 * origin NULL checks no partitioning and has no record time (ks_engine_process). */
int ks_engine_process_from(ks_engine *e, int32_t task, uint32_t topic_index, int64_t offset,
                           const ks_msg_origin *origin, const void *buf, size_t len, char *reason,
                           size_t reason_size);

/* Mark a partition of a task idle (caught up, no data): idle partitions do
 * not hold the task's watermark back. Any message clears the mark. */
void ks_engine_set_idle(ks_engine *e, int32_t task, uint32_t topic_index, int idle);

/* Wall-clock idleness: every partition of the task has been quiet for
 * quiet_ms of wall time, so move its watermark to the highest event time
 * seen + quiet_ms - lateness (never backwards) and close what is due.
 * Returns the watermark. */
int64_t ks_engine_idle_advance(ks_engine *e, int32_t task, int64_t quiet_ms);
/* Advance watermarks and close every interval that is due, for all tasks. */
int ks_engine_advance(ks_engine *e);

/* End of a bounded input: close every open interval of every task. */
int ks_engine_flush_all(ks_engine *e);
/* The same for one task (on its lane: see "Threads"). */
int ks_engine_flush_task(ks_engine *e, int32_t task);

/* The offset to commit for (task, topic): the first offset still feeding an
 * open interval, else the next unread offset; -1 when nothing was read. */
int64_t ks_engine_commit_offset(const ks_engine *e, int32_t task, uint32_t topic_index);

/* Checkpoints (snapshot.c). ks_engine_snapshot() serialises the host's
 * bookkeeping of a task (next offsets, watermark, open intervals) and plugin
 * `plugin`'s tables for that task into a malloc'd buffer the caller frees.
 * ks_engine_restore() opens the task if needed and loads such a buffer;
 * mismatches (interval length, table layout or version, truncation) return
 * KS_ESTATE with the reason in errstr. */
int ks_engine_snapshot(ks_engine *e, int32_t task, size_t plugin, uint8_t **out, size_t *outlen);
int ks_engine_restore(ks_engine *e, int32_t task, size_t plugin, const uint8_t *buf, size_t len,
                      char *errstr, size_t errstr_size);
/* Incremental checkpoints (snapshot.c). ks_engine_task_mark_clean() makes
 * the task's state as it is now the baseline, tagged `tag` (non-zero; the
 * checkpoint just built from it). ks_engine_delta() serialises the host's
 * bookkeeping (whole) and what changed in plugin's tables since the
 * baseline, into a malloc'd buffer the caller frees: KS_ESTATE when the task
 * has no baseline (opened or restored since) or a change could not be
 * recorded; then only a full snapshot is right. ks_engine_restore_delta()
 * applies one to the task restored from its base (and the deltas before
 * it), refusing with KS_ESTATE one that does not fit it.
 * ks_engine_task_changes(): changes recorded since the baseline (an upper
 * bound, SIZE_MAX when one was lost) and the records the task holds. */
void ks_engine_task_mark_clean(ks_engine *e, int32_t task, uint64_t tag);
uint64_t ks_engine_task_baseline(const ks_engine *e, int32_t task);
int ks_engine_task_changes(const ks_engine *e, int32_t task, size_t *changes, size_t *records);
int ks_engine_delta(ks_engine *e, int32_t task, size_t plugin, uint8_t **out, size_t *outlen);
int ks_engine_restore_delta(ks_engine *e, int32_t task, size_t plugin, const uint8_t *buf,
                            size_t len, char *errstr, size_t errstr_size);
/* Next unread offset of (task, topic) as processed: last offset + 1, or -1. */
int64_t ks_engine_next_offset(const ks_engine *e, int32_t task, uint32_t topic_index);

/* Bytes held by all state tables of all tasks (records, keys, indexes). */
size_t ks_engine_state_bytes(const ks_engine *e);
/* Highest event time seen on (task, topic), INT64_MIN before any. */
int64_t ks_engine_partition_time(const ks_engine *e, int32_t task, uint32_t topic_index);

/* Current watermark of a task (INT64_MIN before any event). */
int64_t ks_engine_watermark(const ks_engine *e, int32_t task);

void ks_engine_get_stats(const ks_engine *e, ks_engine_stats *out);
/* The engine's and its plugins' log level from now on (SIGHUP reload, ops.h). */
void ks_engine_set_log_level(ks_engine *e, int level);
/* Plugin errors so far (cheap: for a check after every message). */
uint64_t ks_engine_plugin_errors(const ks_engine *e);

/* ---- Threads (processing.threads) ------------------------------------------
 *
 * A lane is one thread's context for running tasks: its decode arena and
 * encode buffers, its counters, the record of the plugin callback it runs
 * (fatal.h) and the sink, on_closed and on_plugin_error its tasks call.
 * A task is bound to one lane at a time (the engine's own by default); its
 * processing (ks_engine_process*, ks_engine_set_idle, ks_engine_time_limit,
 * ks_engine_idle_advance of that task) runs on its lane, so the tasks of
 * different lanes may be processed by different threads at the same time,
 * one thread per lane; the callbacks of one task never run concurrently.
 * Everything else (plugins, task open and close, binding, folding,
 * ks_engine_advance, ks_engine_flush_all, snapshots, the getters) runs only
 * while no lane processes anything: the caller's join point orders it. The
 * engine's page source is locked; nothing else is shared.
 *
 * Ownership: the caller owns a lane (ks_engine_lane_free); ks_engine_free
 * frees the lanes left. */

typedef struct ks_engine_lane_options {
  /* The lane's callbacks, each with ud; NULL: the engine's (with its ud). */
  ks_sink_fn sink;
  ks_interval_closed_fn on_closed;
  ks_plugin_error_fn on_plugin_error;
  void *ud;
  ks_plugin_call *call; /* where the lane records plugin callbacks (fatal.h): the record of
                           the thread that runs it; NULL: a record of its own */
} ks_engine_lane_options;

/* A new lane of e (o may be NULL: the engine's callbacks). 0 or KS_ENOMEM. */
int ks_engine_lane_new(ks_engine *e, const ks_engine_lane_options *o, ks_engine_lane **out);
/* The i-th lane of e: 0 is the engine's own, then those of ks_engine_lane_new
 * in the order they were made (and not freed); NULL past the end. */
ks_engine_lane *ks_engine_lane_at(const ks_engine *e, size_t i);
/* Fold the lane's counters into the engine's (stats, topic events, output
 * topics): what the getters report. Call at each join point. */
void ks_engine_lane_fold(ks_engine_lane *l);
/* Fold, then free. NULL is fine. */
void ks_engine_lane_free(ks_engine_lane *l);
/* Run task's callbacks on l from now on (NULL: the engine's own lane).
 * KS_ENOENT when the task is not open. */
int ks_engine_task_bind(ks_engine *e, int32_t task, ks_engine_lane *l);

/* Number of loaded plugins, and the output topic of plugin i. */
size_t ks_engine_plugin_count(const ks_engine *e);
const char *ks_engine_plugin_topic(const ks_engine *e, size_t i);
const char *ks_engine_plugin_name(const ks_engine *e, size_t i);
/* Callbacks of plugin i that returned an error (its part of
 * stats.plugin_errors); 0 past the end. */
uint64_t ks_engine_plugin_failures(const ks_engine *e, size_t i);
/* Bytes of state in the tables plugin i declared, over every task (its part
 * of ks_engine_state_bytes); 0 past the end. */
size_t ks_engine_plugin_state_bytes(const ks_engine *e, size_t i);
/* Events counted in stats.events_in that came from input topic topic_index
 * (opts.topics' order); 0 past the end. */
uint64_t ks_engine_topic_events(const ks_engine *e, uint32_t topic_index);
/* The i-th output topic results went to (in the order of their first
 * result; the string is the engine's), with its count of results in
 * *results; NULL past the end. */
const char *ks_engine_output_topic(const ks_engine *e, size_t i, uint64_t *results);

#endif
