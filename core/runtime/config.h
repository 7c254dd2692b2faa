/*
 * config — the kpistream YAML configuration file (parsed with libyaml).
 *
 *   kafka:                      # librdkafka properties for both clients
 *     bootstrap.servers: host:9092
 *     consumer: {group.id: kpistream}   # consumer-only properties
 *     producer: {linger.ms: 5}          # producer-only properties
 *   input:
 *     topics: [events.voice, events.email, events.chat]
 *     dead_letter_topic: kpistream.dlq
 *     partitioner: murmur2              # the producers'; default any (not checked)
 *   intervals: {length: 15m, allowed_lateness: 30s, grace: 0s}
 *   plugin_dir: /usr/lib/x86_64-linux-gnu/kpistream/plugins
 *   plugins:
 *     - name: operations              # loads <plugin_dir>/kpi_operations.so
 *       instance: ops_fast            # default the name; names topics, changelog, logs
 *       topic: kpi.ops_fast           # default kpi.<instance>
 *       options: {service_level.threshold: 20s}
 *       on_error: skip                # or stop
 *   output:                     # result topics' wire format (docs/warehouses.md)
 *     format: json              # protobuf (default), json, confluent_protobuf
 *     schema_id: 42             # confluent_protobuf: the Schema Registry id
 *     topics: {kpi.value: {format: confluent_protobuf, schema_id: 7}}
 *   log_level: info
 *   log: {format: text}         # or json: one JSON object a line (log.h)
 *   stats_interval: 30s
 *   shutdown: {timeout: 10s}
 *
 * Errors name the file, line, column, key and reason; a key given twice in
 * one mapping is refused, naming both places. See docs/configuration.md.
 *
 * Ownership: ks_config_load fills a caller-owned ks_config whose strings it
 * owns; ks_config_free releases them.
 */
#ifndef KS_CONFIG_H
#define KS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "partitioner.h"

typedef struct ks_config_plugin {
  char *name;
  char *instance; /* NULL: the name; one plugin listed twice needs two instance names */
  char *path;     /* absolute or relative to plugin_dir; default kpi_<name>.so */
  char *topic;
  ks_kv *options;
  size_t n_options;
  int on_error;        /* KS_ON_ERROR_*: what a callback error does (default skip) */
  char **option_where; /* per option: "file:line:col" of its value (see ks_config_where) */
  char *where;         /* "file:line:col" of the entry's name */
} ks_config_plugin;

/* output: the wire format of one result topic, or of all (topic NULL) */
typedef struct ks_config_output {
  char *topic;        /* output.topics key; NULL for output.format itself */
  int format;         /* ks_format (result_format.h); default KS_FORMAT_PROTOBUF */
  uint32_t schema_id; /* confluent_protobuf's Schema Registry id (1..2^31-1); 0 = none */
} ks_config_output;

/* plugins[].on_error (docs/plugins.md#errors) */
#define KS_ON_ERROR_SKIP 0 /* count, log, dead-letter the event, go on */
#define KS_ON_ERROR_STOP 1 /* stop the service; nothing from the event on is committed */

#define KS_CONFIG_THREADS_MAX 64 /* processing.threads (= KS_WORKERS_MAX) */

typedef struct ks_config {
  char *source;
  ks_kv *kafka;
  size_t n_kafka;
  ks_kv *consumer;
  size_t n_consumer;
  ks_kv *producer;
  size_t n_producer;
  char **topics;
  size_t n_topics;
  char *dead_letter_topic;    /* NULL: no dead-letter topic (rejects are logged and skipped) */
  ks_partitioner partitioner; /* input.partitioner: the producers' (default any: unchecked) */
  int64_t interval_ms;
  int64_t lateness_ms;
  int64_t grace_ms;
  int64_t idle_timeout_ms;        /* wall-clock quiet time before a partition stops holding
                                     the watermark; 0 = never (default 30s) */
  int64_t restate_ms;             /* intervals.restatement_horizon (default 1h; 0 = off) */
  int64_t max_future_skew_ms;     /* intervals.max_future_skew (default 1h; 0 = off) */
  int64_t checkpoint_interval_ms; /* 0 = only at shutdown and rebalance (default 5s) */
  char *checkpoint_prefix; /* changelog topics are <prefix>.<plugin>; NULL = <group.id>.changelog */
  int checkpoint_enabled;  /* default 1 */
  uint32_t checkpoint_full_every; /* a full snapshot every N checkpoints, deltas between (10) */
  double checkpoint_full_ratio;   /* ... or when more than this share of records changed (0.5) */
  uint64_t memory_budget;         /* state.memory_budget in bytes; 0 = unlimited (default) */
  int64_t commit_interval_ms; /* commit.interval: least time between the commits that closed
                                 intervals ask for, without checkpoints; 0 = each (default 1s) */
  int threads; /* processing.threads: threads running tasks, the loop's included (default 1,
                  1..KS_CONFIG_THREADS_MAX) */
  char *plugin_dir;
  ks_config_plugin *plugins;
  size_t n_plugins;
  ks_config_output output;         /* output.format / output.schema_id: every result topic */
  ks_config_output *output_topics; /* output.topics: per topic, overriding `output` */
  size_t n_output_topics;
  int log_level; /* KS_LOG_* (log_level), or'd with KS_LOG_JSON (log.format: json); log.h */
  int64_t stats_interval_ms;
  int64_t shutdown_timeout_ms; /* shutdown.timeout: bound on a stop's delivery (default 10s) */
  char *http_listen;           /* http.listen "HOST:PORT" (http_server.h); NULL = off (default) */
  /* Where each kafka, consumer and producer property was set: "file:line:col",
   * or NULL for the command line (-X, -b, --group). Parallel to the lists. */
  char **kafka_where;
  char **consumer_where;
  char **producer_where;
} ks_config;

/* Defaults for every field (no topics, no plugins). */
void ks_config_init(ks_config *cfg);
int ks_config_load_file(ks_config *cfg, const char *path, char *errstr, size_t errstr_size);
int ks_config_load_string(ks_config *cfg, const char *yaml, size_t len, const char *name,
                          char *errstr, size_t errstr_size);
/* Override/add a common librdkafka property ("-X key=value"). */
int ks_config_set_kafka(ks_config *cfg, const char *key, const char *value);
/* Override/add a consumer-only property (e.g. group.id from --group). */
int ks_config_set_consumer(ks_config *cfg, const char *key, const char *value);
/* "file:line:col" where entry (a pointer into one of cfg's kafka, consumer,
 * producer or plugin option lists) was set; NULL when it came from the
 * command line or is not one of cfg's entries. Owned by cfg. */
const char *ks_config_where(const ks_config *cfg, const ks_kv *entry);
/* Value of a kafka property, searching common properties; NULL if unset. */
const char *ks_config_kafka_get(const ks_config *cfg, const char *key);
/* The entry's instance name: `instance`, else `name`. */
const char *ks_config_plugin_instance(const ks_config_plugin *p);
/* The output format of a result topic: its output.topics entry, else the
 * default. Owned by cfg. */
const ks_config_output *ks_config_output_for(const ks_config *cfg, const char *topic);
/* Resolve a plugin's path against plugin_dir into buf. */
void ks_config_plugin_path(const ks_config *cfg, const ks_config_plugin *p, char *buf, size_t size);
void ks_config_free(ks_config *cfg);

#endif
