/* Config: a full file loads with defaults filled; every error names the
 * file, line, column and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

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
  assert_int_equal(c.memory_budget, 0);
  ks_config_free(&c);
  const char *y = "input: {topics: [a]}\nplugins: [{name: operations}]\n"
                  "intervals: {restatement_horizon: 2h, idle_timeout: 0s}\n"
                  "checkpoint: {enabled: false, interval: 250ms, topic_prefix: acme.kpis}\n"
                  "state: {memory_budget: 1.5GiB}\n";
  assert_int_equal(load(y, &c, err), 0);
  assert_int_equal(c.restate_ms, 7200000);
  assert_int_equal(c.idle_timeout_ms, 0);
  assert_int_equal(c.checkpoint_enabled, 0);
  assert_int_equal(c.checkpoint_interval_ms, 250);
  assert_string_equal(c.checkpoint_prefix, "acme.kpis");
  assert_int_equal(c.memory_budget, 1610612736); /* 1.5 x 1024^3 */
  ks_config_free(&c);
}

static void expect_error(const char *yaml, const char *want) {
  ks_config c;
  char err[512] = "";
  assert_int_equal(load(yaml, &c, err), KS_ECONFIG);
  if (strstr(err, want) == NULL)
    fail_msg("error '%s' does not contain '%s'", err, want);
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
  expect_error("input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {every: 1s}\n",
               "unknown key 'every' in checkpoint");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_config_loads),
      cmocka_unit_test(errors_name_the_place),
      cmocka_unit_test(reliability_keys),
      cmocka_unit_test(max_future_skew),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
