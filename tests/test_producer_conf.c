/* The producer's configuration: every property kpistream sets differently
 * from librdkafka's own default is documented, with that value, in
 * docs/configuration.md ("Kafka defaults kpistream sets"), and a user's
 * list overrides it. What kpistream sets is found independently of its
 * list of defaults: the configuration it builds is dumped and compared with
 * a fresh librdkafka one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kafka_producer.h"

#define CONFIGURATION_MD KS_TEST_DOCS_DIR "/configuration.md"

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("%s: cannot be read", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  assert_non_null(s);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}

static const char *dumped(const char **d, size_t n, const char *key) {
  for (size_t i = 0; i + 1 < n; i += 2)
    if (strcmp(d[i], key) == 0)
      return d[i + 1];
  return NULL;
}

/* librdkafka dumps a property under its canonical name; the docs use the
 * name users write. */
static const char *doc_name(const char *key) {
  static const char *const alias[][2] = {{"queue.buffering.max.ms", "linger.ms"},
                                         {"compression.codec", "compression.type"}};
  for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
    if (strcmp(key, alias[i][0]) == 0)
      return alias[i][1];
  return key;
}

/* Every property of dump `ours` that differs from `plain` has its row in
 * doc; returns how many differ. */
static int documented(const char **d_ours, size_t n_ours, const char **d_plain, size_t n_plain,
                      const char *doc) {
  int differ = 0;
  for (size_t i = 0; i + 1 < n_ours; i += 2) {
    const char *was = dumped(d_plain, n_plain, d_ours[i]);
    if ((was && strcmp(was, d_ours[i + 1]) == 0) || strcmp(d_ours[i], "default_topic_conf") == 0)
      continue; /* the same, or the pointer to the topic conf compared below */
    differ++;
    char row[256];
    snprintf(row, sizeof row, "| producer | `%s` | `%s` |", doc_name(d_ours[i]), d_ours[i + 1]);
    if (strstr(doc, row) == NULL)
      fail_msg("kpistream sets %s = %s (librdkafka: %s), but %s has no row \"%s ...\"", d_ours[i],
               d_ours[i + 1], was ? was : "unset", CONFIGURATION_MD, row);
  }
  return differ;
}

static void every_default_is_documented(void **state) {
  (void)state;
  char err[512];
  rd_kafka_conf_t *ours = ks_producer_conf_new(NULL, NULL, 0, NULL, err, sizeof err);
  assert_non_null(ours);
  rd_kafka_conf_t *plain = rd_kafka_conf_new();
  rd_kafka_topic_conf_t *plain_topic = rd_kafka_topic_conf_new();
  char *doc = slurp(CONFIGURATION_MD);
  size_t n_ours, n_plain;
  const char **d_ours = rd_kafka_conf_dump(ours, &n_ours);
  const char **d_plain = rd_kafka_conf_dump(plain, &n_plain);
  int differ = documented(d_ours, n_ours, d_plain, n_plain, doc);
  rd_kafka_conf_dump_free(d_ours, n_ours);
  rd_kafka_conf_dump_free(d_plain, n_plain);
  /* topic-level properties set on the global conf (partitioner, ...) */
  rd_kafka_topic_conf_t *topic = rd_kafka_conf_get_default_topic_conf(ours);
  if (topic) {
    d_ours = rd_kafka_topic_conf_dump(topic, &n_ours);
    d_plain = rd_kafka_topic_conf_dump(plain_topic, &n_plain);
    differ += documented(d_ours, n_ours, d_plain, n_plain, doc);
    rd_kafka_conf_dump_free(d_ours, n_ours);
    rd_kafka_conf_dump_free(d_plain, n_plain);
  }
  assert_true(differ >= 4); /* idempotence, linger, compression, partitioner at least */
  free(doc);
  rd_kafka_topic_conf_destroy(plain_topic);
  rd_kafka_conf_destroy(ours);
  rd_kafka_conf_destroy(plain);
}

static void a_users_list_overrides_them(void **state) {
  (void)state;
  char err[512];
  ks_kv user[] = {
      {"linger.ms", "20"}, {"compression.type", "none"}, {"queue.buffering.max.messages", "50000"}};
  const ks_kv *lists[] = {user};
  size_t counts[] = {3};
  rd_kafka_conf_t *c = ks_producer_conf_new(lists, counts, 1, NULL, err, sizeof err);
  assert_non_null(c);
  const char *want[][2] = {
      {"linger.ms", "20"}, {"compression.type", "none"}, {"queue.buffering.max.messages", "50000"}};
  for (size_t i = 0; i < 3; i++) {
    char v[64];
    size_t vn = sizeof v;
    assert_int_equal(rd_kafka_conf_get(c, want[i][0], v, &vn), RD_KAFKA_CONF_OK);
    assert_string_equal(v, want[i][1]);
  }
  rd_kafka_conf_destroy(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_default_is_documented),
      cmocka_unit_test(a_users_list_overrides_them),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
