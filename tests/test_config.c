/* Config: a full file loads with defaults filled; every error names the
 * file, line, column and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "kpistream/plugin.h"
#include "log.h"
#include "result_format.h"

static int load(const char *yaml, ks_config *cfg, char *err) {
  return ks_config_load_string(cfg, yaml, strlen(yaml), "test.yaml", err, 512);
}

static void full_config_loads(void **state) {
  (void)state;
  const char *y = "kafka:\n"
                  "  bootstrap.servers: 127.0.0.1:9092\n"
                  "  consumer:\n"
                  "    group.id: g1\n"
                  "  producer: {linger.ms: 20}\n"
                  "input:\n"
                  "  topics: [events.voice, events.chat]\n"
                  "  dead_letter_topic: dlq\n"
                  "intervals: {length: 30m, allowed_lateness: 2m}\n"
                  "plugin_dir: /opt/p\n"
                  "plugins:\n"
                  "  - name: operations\n"
                  "    options:\n"
                  "      service_level.threshold: 30s\n"
                  "  - name: other\n"
                  "    path: /x/y.so\n"
                  "    topic: out.other\n"
                  "log_level: debug\n";
  ks_config c;
  char err[512] = "";
  assert_int_equal(load(y, &c, err), 0);
  assert_string_equal(ks_config_kafka_get(&c, "bootstrap.servers"), "127.0.0.1:9092");
  assert_int_equal(c.n_consumer, 1);
  assert_string_equal(c.consumer[0].value, "g1");
  assert_string_equal(c.producer[0].key, "linger.ms");
  assert_int_equal(c.n_topics, 2);
  assert_string_equal(c.topics[1], "events.chat");
  assert_string_equal(c.dead_letter_topic, "dlq");
  assert_int_equal(c.partitioner, KS_PARTITIONER_ANY); /* default: the partition is not checked */
  assert_int_equal(c.interval_ms, 30 * 60000);
  assert_int_equal(c.lateness_ms, 120000);
  assert_int_equal(c.grace_ms, 0);
  assert_int_equal(c.log_level, KS_LOG_DEBUG);
  assert_int_equal(c.n_plugins, 2);
  assert_string_equal(c.plugins[0].options[0].key, "service_level.threshold");
  char path[256];
  ks_config_plugin_path(&c, &c.plugins[0], path, sizeof path);
  assert_string_equal(path, "/opt/p/kpi_operations.so");
  ks_config_plugin_path(&c, &c.plugins[1], path, sizeof path);
  assert_string_equal(path, "/x/y.so");
  assert_int_equal(ks_config_set_kafka(&c, "bootstrap.servers", "h:1"), 0);
  assert_string_equal(ks_config_kafka_get(&c, "bootstrap.servers"), "h:1");
  ks_config_free(&c);
}

/* The reliability keys: defaults, then every one set. */
static void reliability_keys(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("input: {topics: [a]}\nplugins: [{name: operations}]\n", &c, err), 0);
  assert_int_equal(c.restate_ms, 3600000);
  assert_int_equal(c.idle_timeout_ms, 30000);
  assert_int_equal(c.checkpoint_enabled, 1);
  assert_int_equal(c.checkpoint_interval_ms, 5000);
  assert_null(c.checkpoint_prefix);
  assert_int_equal(c.checkpoint_full_every, 10);
  assert_true(c.checkpoint_full_ratio == 0.5);
  assert_int_equal(c.commit_interval_ms, 1000);
  assert_int_equal(c.memory_budget, 0);
  ks_config_free(&c);
  const char *y = "input: {topics: [a]}\nplugins: [{name: operations}]\n"
                  "intervals: {restatement_horizon: 2h, idle_timeout: 0s}\n"
                  "checkpoint: {enabled: false, interval: 250ms, topic_prefix: acme.kpis,\n"
                  "             full_every: 1, full_ratio: 0.25}\n"
                  "commit: {interval: 250ms}\n"
                  "state: {memory_budget: 1.5GiB}\n";
  assert_int_equal(load(y, &c, err), 0);
  assert_int_equal(c.commit_interval_ms, 250);
  assert_int_equal(c.restate_ms, 7200000);
  assert_int_equal(c.idle_timeout_ms, 0);
  assert_int_equal(c.checkpoint_enabled, 0);
  assert_int_equal(c.checkpoint_interval_ms, 250);
  assert_string_equal(c.checkpoint_prefix, "acme.kpis");
  assert_int_equal(c.checkpoint_full_every, 1);
  assert_true(c.checkpoint_full_ratio == 0.25);
  assert_int_equal(c.memory_budget, 1610612736); /* 1.5 x 1024^3 */
  ks_config_free(&c);
}

/* input.partitioner: the producers' partitioner, checked per message. */
static void partitioner_key(void **state) {
  (void)state;
  static const char *const names[] = {"any", "murmur2", "crc32", "fnv1a"};
  for (int i = 0; i < 4; i++) {
    char y[256], err[512] = "";
    snprintf(y, sizeof y, "input: {topics: [a], partitioner: %s}\nplugins: [{name: o}]\n",
             names[i]);
    ks_config c;
    assert_int_equal(load(y, &c, err), 0);
    assert_int_equal(c.partitioner, i);
    ks_config_free(&c);
  }
}

static void expect_error(const char *yaml, const char *want) {
  ks_config c;
  char err[512] = "";
  assert_int_equal(load(yaml, &c, err), KS_ECONFIG);
  if (strstr(err, want) == NULL)
    fail_msg("error '%s' does not contain '%s'", err, want);
}

/* plugins[].on_error and shutdown.timeout: defaults, set, refused. */
static void fault_keys(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("input: {topics: [a]}\nplugins: [{name: operations}]\n", &c, err), 0);
  assert_int_equal(c.plugins[0].on_error, KS_ON_ERROR_SKIP);
  assert_int_equal(c.shutdown_timeout_ms, 10000);
  ks_config_free(&c);
  const char *y = "input: {topics: [a]}\nshutdown: {timeout: 3s}\n"
                  "plugins: [{name: a, on_error: stop}, {name: b, on_error: skip}]\n";
  assert_int_equal(load(y, &c, err), 0);
  assert_int_equal(c.plugins[0].on_error, KS_ON_ERROR_STOP);
  assert_int_equal(c.plugins[1].on_error, KS_ON_ERROR_SKIP);
  assert_int_equal(c.shutdown_timeout_ms, 3000);
  ks_config_free(&c);
  expect_error("input: {topics: [a]}\nplugins: [{name: a, on_error: retry}]\n",
               "test.yaml:2:31: 'plugins[].on_error' of 'a': 'retry' is not skip or stop");
  expect_error("input: {topics: [a]}\nplugins: [{name: a}]\nshutdown: {timeout: 500ms}\n",
               "test.yaml:3:21: 'shutdown.timeout' must be at least 1s");
  expect_error("input: {topics: [a]}\nplugins: [{name: a}]\nshutdown: {grace: 1s}\n",
               "unknown key 'grace' in shutdown");
}

/* log.format: text by default, json or'd into log_level, refused when unknown. */
static void log_format(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("input: {topics: [a]}\nplugins: [{name: a}]\n", &c, err), 0);
  assert_int_equal(c.log_level, KS_LOG_INFO);
  ks_config_free(&c);
  assert_int_equal(load("input: {topics: [a]}\nplugins: [{name: a}]\nlog: {format: json}\n"
                        "log_level: warn\n",
                        &c, err),
                   0);
  assert_int_equal(c.log_level, KS_LOG_WARN | KS_LOG_JSON);
  ks_config_free(&c);
  assert_int_equal(
      load("input: {topics: [a]}\nplugins: [{name: a}]\nlog: {format: text}\n", &c, err), 0);
  assert_int_equal(c.log_level, KS_LOG_INFO);
  ks_config_free(&c);
  expect_error("input: {topics: [a]}\nplugins: [{name: a}]\nlog: {format: logfmt}\n",
               "test.yaml:3:15: 'log.format': 'logfmt' is not one of text, json");
  expect_error("input: {topics: [a]}\nplugins: [{name: a}]\nlog: {level: info}\n",
               "unknown key 'level' in log");
}

/* http.listen: off by default, set, refused where it is wrong (i14). */
static void http_listen(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("input: {topics: [a]}\nplugins: [{name: a}]\n", &c, err), 0);
  assert_null(c.http_listen);
  ks_config_free(&c);
  assert_int_equal(
      load("input: {topics: [a]}\nplugins: [{name: a}]\nhttp: {listen: \"127.0.0.1:9464\"}\n", &c,
           err),
      0);
  assert_string_equal(c.http_listen, "127.0.0.1:9464");
  ks_config_free(&c);
  expect_error("input: {topics: [a]}\nplugins: [{name: a}]\nhttp: {listen: 9464}\n",
               "test.yaml:3:16: http.listen '9464': expected HOST:PORT (e.g. 127.0.0.1:9464)");
  expect_error("input: {topics: [a]}\nplugins: [{name: a}]\nhttp: {listen: \"h:99999\"}\n",
               "test.yaml:3:16: http.listen 'h:99999': port '99999' is not a number in 0..65535");
  expect_error("input: {topics: [a]}\nplugins: [{name: a}]\nhttp: {port: 9464}\n",
               "test.yaml:3:8: unknown key 'port' in http (expected one of: listen)");
}

/* output: the default format, per-topic overrides inheriting schema_id, refusals. */
static void output_formats(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("input: {topics: [a]}\nplugins: [{name: o}]\n", &c, err), 0);
  assert_int_equal(ks_config_output_for(&c, "kpi.o")->format, KS_FORMAT_PROTOBUF);
  assert_int_equal(ks_config_output_for(&c, "kpi.o")->schema_id, 0);
  ks_config_free(&c);
  const char *y = "input: {topics: [a]}\nplugins: [{name: o}]\n"
                  "output:\n  format: json\n  schema_id: 7\n  topics:\n"
                  "    kpi.cf: {format: confluent_protobuf}\n"
                  "    kpi.pb: {format: protobuf, schema_id: 2147483647}\n";
  assert_int_equal(load(y, &c, err), 0);
  assert_int_equal(ks_config_output_for(&c, "kpi.o")->format, KS_FORMAT_JSON);
  assert_int_equal(ks_config_output_for(&c, "kpi.cf")->format, KS_FORMAT_CONFLUENT_PROTOBUF);
  assert_int_equal(ks_config_output_for(&c, "kpi.cf")->schema_id, 7); /* inherited */
  assert_int_equal(ks_config_output_for(&c, "kpi.pb")->format, KS_FORMAT_PROTOBUF);
  assert_int_equal(ks_config_output_for(&c, "kpi.pb")->schema_id, 2147483647u);
  ks_config_free(&c);
  /* plugins[].format: the plugin's topic (its `topic`, else kpi.<instance>),
   * inheriting output's schema_id; both places for one topic is refused */
  y = "input: {topics: [a]}\noutput: {schema_id: 9}\nplugins:\n"
      "  - {name: o, format: json}\n"
      "  - {name: o, instance: o2, topic: kpi.x, format: confluent_protobuf}\n"
      "  - {name: q}\n";
  assert_int_equal(load(y, &c, err), 0);
  assert_int_equal(ks_config_output_for(&c, "kpi.o")->format, KS_FORMAT_JSON);
  assert_int_equal(ks_config_output_for(&c, "kpi.x")->format, KS_FORMAT_CONFLUENT_PROTOBUF);
  assert_int_equal(ks_config_output_for(&c, "kpi.x")->schema_id, 9);
  assert_int_equal(ks_config_output_for(&c, "kpi.q")->format, KS_FORMAT_PROTOBUF);
  ks_config_free(&c);
  expect_error("input: {topics: [a]}\noutput: {topics: {kpi.o: {format: json}}}\n"
               "plugins: [{name: o, format: protobuf}]\n",
               "test.yaml:3:29: the format of topic 'kpi.o' is set twice: in plugins[] ('o') and "
               "in output.topics; keep one");
  expect_error("input: {topics: [a]}\nplugins: [{name: o, format: avro}]\n",
               "test.yaml:2:29: 'plugins[].format': 'avro' is not protobuf, json or "
               "confluent_protobuf");
  expect_error("input: {topics: [a]}\nplugins: [{name: o, format: confluent_protobuf}]\n",
               "test.yaml:2:29: 'plugins[].format' confluent_protobuf needs a schema_id");
  const char *base = "input: {topics: [a]}\nplugins: [{name: o}]\n";
  static const char *const bad[][2] = {
      {"output: {format: avro}",
       "test.yaml:3:18: 'output.format': 'avro' is not protobuf, json or confluent_protobuf"},
      {"output: {format: confluent_protobuf}",
       "test.yaml:3:18: 'output.format' confluent_protobuf needs a schema_id"},
      {"output: {schema_id: 0}", "'output.schema_id': '0' is not a Schema Registry id"},
      {"output: {schema_id: 2147483648}",
       "'output.schema_id': '2147483648' is not a Schema Registry id"},
      {"output: {schema_id: 12x}", "'output.schema_id': '12x' is not a Schema Registry id"},
      {"output: {topics: {kpi.a: {format: confluent_protobuf}}}",
       "'output.topics.kpi.a.format' confluent_protobuf needs a schema_id"},
      {"output: {topics: {kpi.a: {topics: {}}}}", "unknown key 'topics' in output.topics.kpi.a"},
      {"output: {topics: [kpi.a]}", "'output.topics' must be a mapping of topic"},
      {"output: {fmt: json}", "unknown key 'fmt' in output"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char y2[512];
    snprintf(y2, sizeof y2, "%s%s\n", base, bad[i][0]);
    expect_error(y2, bad[i][1]);
  }
}

/* processing.threads: default 1, 1..64, refused at its file:line:col
 * otherwise (issue 16). */
static void processing_threads(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("input: {topics: [a]}\nplugins: [{name: o}]\n", &c, err), 0);
  assert_int_equal(c.threads, 1);
  ks_config_free(&c);
  assert_int_equal(
      load("input: {topics: [a]}\nplugins: [{name: o}]\nprocessing: {threads: 64}\n", &c, err), 0);
  assert_int_equal(c.threads, 64);
  ks_config_free(&c);
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nprocessing: {threads: 0}\n",
               "test.yaml:3:23: 'processing.threads': '0' is not a whole number from 1 to 64");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nprocessing:\n  threads: 65\n",
               "test.yaml:4:12: 'processing.threads': '65' is not a whole number from 1 to 64");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nprocessing: {threads: two}\n",
               "test.yaml:3:23: 'processing.threads': 'two' is not a whole number");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nprocessing: {thread: 2}\n",
               "test.yaml:3:14: ");
}

/* intervals.max_future_skew: default 1 h, set, 0 (off), refused when not a duration. */
static void max_future_skew(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  const char *base = "input: {topics: [a]}\nplugins: [{name: operations}]\n";
  assert_int_equal(load(base, &c, err), 0);
  assert_int_equal(c.max_future_skew_ms, 3600000);
  ks_config_free(&c);
  assert_int_equal(
      load("input: {topics: [a]}\nplugins: [{name: o}]\nintervals: {max_future_skew: 10m}\n", &c,
           err),
      0);
  assert_int_equal(c.max_future_skew_ms, 600000);
  ks_config_free(&c);
  assert_int_equal(
      load("input: {topics: [a]}\nplugins: [{name: o}]\nintervals: {max_future_skew: 0s}\n", &c,
           err),
      0);
  assert_int_equal(c.max_future_skew_ms, 0);
  ks_config_free(&c);
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nintervals:\n  max_future_skew: 1y\n",
               "test.yaml:4:20: 'intervals.max_future_skew': '1y' is not a duration");
}

static void errors_name_the_place(void **state) {
  (void)state;
  const char *base = "input: {topics: [a]}\nplugins: [{name: operations}]\n";
  (void)base;
  expect_error("input: {topics: [a]}\nplugins: [{name: operations}]\nintervalz: {}\n",
               "test.yaml:3:1: unknown key 'intervalz' in the top level");
  expect_error("input: {topics: [a]}\nplugins: [{name: operations}]\nintervals:\n  length: 7m\n",
               "test.yaml:4:11: 'intervals.length': 7m is not one of 5m, 15m, 30m, 60m");
  expect_error("input: {topics: [a]}\nplugins: [{name: operations}]\nintervals:\n  grace: soon\n",
               "test.yaml:4:10: 'intervals.grace': 'soon' is not a duration");
  expect_error("input: {topics: [a, a]}\nplugins: [{name: operations}]\n",
               "test.yaml:1:21: 'input.topics' lists 'a' twice");
  expect_error("input: {topics: [a]}\nplugins: [{path: x.so}]\n",
               "test.yaml:2:11: plugin entry without 'name'");
  expect_error("plugins: [{name: operations}]\n", "'input.topics' must list at least one topic");
  expect_error("input: {topics: [a]}\n", "'plugins' must list at least one plugin");
  expect_error("input: [\n", "test.yaml:2:1: YAML syntax error");
  expect_error("input: {topics: [a]}\nplugins: [{name: operations}]\nlog_level: loud\n",
               "test.yaml:3:12: 'log_level': 'loud' is not one of");
  expect_error("kafka: {consumer: [1]}\ninput: {topics: [a]}\nplugins: [{name: o}]\n",
               "test.yaml:1:19: 'kafka.consumer' must be a mapping");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nstate: {memory_budget: lots}\n",
               "test.yaml:3:24: 'state.memory_budget': 'lots' is not a size");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {enabled: maybe}\n",
               "'checkpoint.enabled': 'maybe' is not true or false");
  expect_error("input: {topics: [a], partitioner: murmur2_random}\nplugins: [{name: o}]\n",
               "test.yaml:1:35: 'input.partitioner': 'murmur2_random' is not one of any, murmur2, "
               "crc32, fnv1a");
  expect_error("input: {topics: [a], partitions: 4}\nplugins: [{name: o}]\n",
               "topics, dead_letter_topic, partitioner");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {every: 1s}\n",
               "unknown key 'every' in checkpoint");
  /* incremental checkpoints: a whole number from 1, a share from 0 to 1 */
  static const char *const bad_every[] = {"0", "-1", "1.5", "ten", "1000001", "1e3", ""};
  for (size_t i = 0; i < sizeof bad_every / sizeof bad_every[0]; i++) {
    char y[256];
    snprintf(y, sizeof y,
             "input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {full_every: '%s'}\n",
             bad_every[i]);
    expect_error(y, "test.yaml:3:26: 'checkpoint.full_every': '");
  }
  static const char *const bad_ratio[] = {"-0.1", "1.01", "nan", "inf", "half", "50%"};
  for (size_t i = 0; i < sizeof bad_ratio / sizeof bad_ratio[0]; i++) {
    char y[256];
    snprintf(y, sizeof y,
             "input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {full_ratio: '%s'}\n",
             bad_ratio[i]);
    expect_error(y, "test.yaml:3:26: 'checkpoint.full_ratio': '");
  }
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {full_every: 0}\n",
               "'checkpoint.full_every': '0' is not a whole number from 1 to 1000000");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {full_ratio: 2}\n",
               "'checkpoint.full_ratio': '2' is not a number from 0 to 1");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncommit: {interval: soon}\n",
               "test.yaml:3:20: 'commit.interval': 'soon' is not a duration");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncommit: {every: 1s}\n",
               "test.yaml:3:10: unknown key 'every' in commit (expected one of: interval)");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncommit: 1s\n",
               "test.yaml:3:9: 'commit' must be a mapping");
}

/* A key given twice in one mapping is refused, naming both places (libyaml
 * keeps both pairs; a lookup used to take the first silently). */
static void duplicate_keys_are_refused(void **state) {
  (void)state;
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nintervals:\n  length: 15m\n"
               "  length: 30m\n",
               "test.yaml:5:3: duplicate key 'length' in intervals (first at test.yaml:4:3)");
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\nstate: {}\ninput: {topics: [b]}\n",
               "test.yaml:4:1: duplicate key 'input' in the top level (first at test.yaml:1:1)");
  expect_error(
      "kafka:\n  bootstrap.servers: a:1\n  bootstrap.servers: b:1\n"
      "input: {topics: [a]}\nplugins: [{name: o}]\n",
      "test.yaml:3:3: duplicate key 'bootstrap.servers' in kafka (first at test.yaml:2:3)");
  expect_error("kafka:\n  consumer: {group.id: a}\n  consumer: {group.id: b}\n"
               "input: {topics: [a]}\nplugins: [{name: o}]\n",
               "test.yaml:3:3: duplicate key 'consumer' in kafka (first at test.yaml:2:3)");
  expect_error("kafka: {producer: {linger.ms: 1, linger.ms: 2}}\n"
               "input: {topics: [a]}\nplugins: [{name: o}]\n",
               "test.yaml:1:34: duplicate key 'linger.ms' in kafka.producer (first at "
               "test.yaml:1:20)");
  expect_error("input: {topics: [a]}\nplugins:\n  - name: o\n    options:\n      x: 1\n"
               "      x: 2\n",
               "test.yaml:6:7: duplicate key 'x' in plugins[].options (first at test.yaml:5:7)");
  expect_error("input: {topics: [a]}\nplugins:\n  - name: o\n    name: p\n",
               "test.yaml:4:5: duplicate key 'name' in plugins[] (first at test.yaml:3:5)");
  expect_error("input: {topics: [a], topics: [b]}\nplugins: [{name: o}]\n",
               "test.yaml:1:22: duplicate key 'topics' in input (first at test.yaml:1:9)");
}

/* Sizes: overflow-safe, whole bytes, no nan/inf/negative/unknown units. */
static void sizes_are_checked(void **state) {
  (void)state;
  static const char *const bad[] = {
      "nan",   "inf",         "-inf",    "1e30", "99999999999999999999GiB",
      "0.5",   "-1",          "-0.5GiB", "5XB",  "0x10",
      "1GiBx", " 5",          "+5",      "",     "1e-400",
      "2EiB",  "1.0000000001"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char y[256];
    snprintf(y, sizeof y,
             "input: {topics: [a]}\nplugins: [{name: o}]\nstate: {memory_budget: '%s'}\n", bad[i]);
    expect_error(y, "test.yaml:3:24: 'state.memory_budget': '");
  }
  static const struct {
    const char *s;
    uint64_t want;
  } good[] = {{"0", 0},
              {"1", 1},
              {"64KiB", 65536},
              {"1.5GiB", 1610612736},
              {"512MB", 536870912},
              {"2TiB", 2199023255552ULL},
              {"1048576B", 1048576}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char y[256], err[512] = "";
    snprintf(y, sizeof y,
             "input: {topics: [a]}\nplugins: [{name: o}]\nstate: {memory_budget: %s}\n", good[i].s);
    ks_config c;
    assert_int_equal(load(y, &c, err), 0);
    assert_true(c.memory_budget == good[i].want);
    ks_config_free(&c);
  }
}

/* Durations: no nan/inf/negative/overflow/unknown units, and a non-zero
 * value may not round to 0 ms (0 turns several keys off). */
static void durations_are_checked(void **state) {
  (void)state;
  static const char *const bad[] = {"nan", "inf", "-1s", "1e300s", "0.4ms", "0x10s",
                                    "5 s", "+5s", "5ss", "1e-400", "s",     "."};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char y[256];
    snprintf(y, sizeof y,
             "input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {interval: '%s'}\n", bad[i]);
    expect_error(y, "test.yaml:3:24: 'checkpoint.interval': '");
  }
  ks_config c;
  char err[512] = "";
  assert_int_equal(
      load("input: {topics: [a]}\nplugins: [{name: o}]\n"
           "checkpoint: {interval: 1.5ms}\nintervals: {grace: .5m, idle_timeout: 1e1}\n",
           &c, err),
      0);
  assert_int_equal(c.checkpoint_interval_ms, 2);
  assert_int_equal(c.grace_ms, 30000);
  assert_int_equal(c.idle_timeout_ms, 10000);
  ks_config_free(&c);
}

/* Where each kafka property and plugin option was set, for errors found
 * later (librdkafka's refusals, plugin init). */
static void places_are_kept(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("kafka:\n  acks: all\n  consumer:\n    group.id: g\n"
                        "input: {topics: [a]}\nplugins:\n  - name: o\n    options: {k: v}\n",
                        &c, err),
                   0);
  assert_string_equal(ks_config_where(&c, &c.kafka[0]), "test.yaml:2:9");
  assert_string_equal(ks_config_where(&c, &c.consumer[0]), "test.yaml:4:15");
  assert_string_equal(ks_config_where(&c, &c.plugins[0].options[0]), "test.yaml:8:18");
  assert_string_equal(c.plugins[0].where, "test.yaml:7:11");
  assert_int_equal(ks_config_set_kafka(&c, "acks", "1"), 0); /* the command line */
  assert_null(ks_config_where(&c, &c.kafka[0]));
  assert_null(ks_config_where(&c, NULL));
  ks_config_free(&c);
}

/* plugins[].instance: one plugin listed twice under two instance names;
 * the instance defaults to the name; a repeated or bad one is refused. */
static void plugin_instances(void **state) {
  (void)state;
  ks_config c;
  char err[512] = "";
  assert_int_equal(load("input: {topics: [a]}\nplugins:\n"
                        "  - {name: operations, instance: ops_fast, options: {k: '1'}}\n"
                        "  - {name: operations, instance: ops_slow, options: {k: '2'}}\n"
                        "  - {name: quality}\n",
                        &c, err),
                   0);
  assert_int_equal(c.n_plugins, 3);
  assert_string_equal(c.plugins[0].name, "operations");
  assert_string_equal(ks_config_plugin_instance(&c.plugins[0]), "ops_fast");
  assert_string_equal(ks_config_plugin_instance(&c.plugins[1]), "ops_slow");
  assert_string_equal(c.plugins[1].options[0].value, "2");
  assert_null(c.plugins[2].instance);
  assert_string_equal(ks_config_plugin_instance(&c.plugins[2]), "quality");
  ks_config_free(&c);
  expect_error("input: {topics: [a]}\nplugins:\n  - {name: operations}\n"
               "  - {name: operations, topic: kpi.b}\n",
               "test.yaml:4:12: plugin instance 'operations' is listed twice; give each entry of "
               "one plugin its own 'instance:'");
  expect_error("input: {topics: [a]}\nplugins:\n  - {name: operations, instance: x}\n"
               "  - {name: quality, instance: x}\n",
               "test.yaml:4:31: plugin instance 'x' is listed twice");
  expect_error("input: {topics: [a]}\nplugins: [{name: operations, instance: Ops.Fast}]\n",
               "test.yaml:2:40: 'plugins[].instance': 'Ops.Fast' must match [a-z0-9_]+");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_config_loads),  cmocka_unit_test(errors_name_the_place),
      cmocka_unit_test(reliability_keys),   cmocka_unit_test(partitioner_key),
      cmocka_unit_test(fault_keys),         cmocka_unit_test(http_listen),
      cmocka_unit_test(log_format),         cmocka_unit_test(duplicate_keys_are_refused),
      cmocka_unit_test(sizes_are_checked),  cmocka_unit_test(durations_are_checked),
      cmocka_unit_test(places_are_kept),    cmocka_unit_test(max_future_skew),
      cmocka_unit_test(processing_threads), cmocka_unit_test(plugin_instances),
      cmocka_unit_test(output_formats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
