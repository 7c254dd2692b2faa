/* The partitioning contract (partitioner.c) and its check in the engine:
 * partitions against values computed independently (zlib's CRC-32, Kafka's
 * Java murmur2, FNV-1a) and against where a real librdkafka producer puts
 * each key; the exact reasons; a misrouted event neither dispatched nor
 * moving the watermark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "partitioner.h"
#include "testkit_engine.h"

static void parses_names(void **state) {
  (void)state;
  ks_partitioner p;
  static const char *const names[] = {"any", "murmur2", "crc32", "fnv1a"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(ks_partitioner_parse(names[i], &p), 0);
    assert_int_equal(p, i);
    assert_string_equal(ks_partitioner_name(p), names[i]);
  }
  assert_int_equal(ks_partitioner_parse("murmur2_random", &p), KS_EINVAL);
  assert_int_equal(ks_partitioner_parse("", &p), KS_EINVAL);
}

static int32_t part(ks_partitioner p, const char *key, int32_t n) {
  return ks_partitioner_partition(p, key, strlen(key), n);
}

/* Expected values computed outside kpistream:
 * crc32: Python's zlib.crc32 ("123456789" is CRC-32's check value 0xCBF43926);
 * murmur2: Kafka's Utils.murmur2 (the values Kafka's UtilsTest and
 *   librdkafka's unit test assert: "21" -973932308, "foobar" -790332482,
 *   "abc" 479470107, "kafka" -798503068 & 0x7fffffff = 1348980580), then
 *   (h & 0x7fffffff) % n;
 * fnv1a: FNV-1a 32 ("a" 0xe40c292c, "foobar" 0xbf9cf968), as int32, absolute
 *   value (Sarama), % n. */
static void partitions_match_independent_values(void **state) {
  (void)state;
  assert_int_equal(part(KS_PARTITIONER_CRC32, "123456789", 1000), 3421780262u % 1000); /* 262 */
  assert_int_equal(part(KS_PARTITIONER_CRC32, "acme", 1000), 96778814 % 1000);
  assert_int_equal(part(KS_PARTITIONER_CRC32, "acme", 4), 2);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "21", 1000), 340);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "foobar", 1000), 166);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "abc", 1000), 107);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "kafka", 1000), 580);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "amqp", 1000), 138);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "giberish123456789", 1000), 820);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "acme", 1000), 268);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "acme", 4), 0);
  assert_int_equal(part(KS_PARTITIONER_FNV1A, "a", 1000), 76);
  assert_int_equal(part(KS_PARTITIONER_FNV1A, "foobar", 1000), 576);
  assert_int_equal(part(KS_PARTITIONER_FNV1A, "acme", 1000), 615);
  assert_int_equal(part(KS_PARTITIONER_ANY, "acme", 4), -1);
  assert_int_equal(part(KS_PARTITIONER_MURMUR2, "acme", 0), -1);
}

/* ---- against a librdkafka producer (in-process mock cluster) -------------- */

#define NKEYS  300
#define NPARTS 7

typedef struct dr_log {
  int32_t partition[NKEYS];
  int n, errors;
} dr_log;

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  dr_log *log = opaque;
  size_t i = (size_t)(uintptr_t)m->_private;
  if (m->err || i >= NKEYS)
    log->errors++;
  else
    log->partition[i] = m->partition;
  log->n++;
}

static void key_of(int i, char *buf, size_t size, size_t *len) {
  if (i % 3 == 2) { /* binary keys too: every byte value appears */
    for (size_t j = 0; j < 9 && j < size; j++)
      buf[j] = (char)((i * 37 + (int)j * 101) & 0xff);
    *len = 9;
  } else
    *len = (size_t)snprintf(buf, size, i % 3 ? "tenant-%d" : "t%d", i);
}

static void producer_agrees(const char *rdkafka_partitioner, ks_partitioner p) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  dr_log log = {0};
  assert_int_equal(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err), 0);
  assert_int_equal(rd_kafka_conf_set(conf, "partitioner", rdkafka_partitioner, err, sizeof err), 0);
  assert_int_equal(rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof err), 0);
  rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
  rd_kafka_conf_set_opaque(conf, &log);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  assert_non_null(rk);
  rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
  assert_non_null(mc);
  assert_int_equal(rd_kafka_mock_topic_create(mc, "t", NPARTS, 1), 0);
  for (int i = 0; i < NKEYS; i++) {
    char key[32];
    size_t len;
    key_of(i, key, sizeof key, &len);
    assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_KEY(key, len),
                                       RD_KAFKA_V_VALUE("v", 1),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i), RD_KAFKA_V_END),
                     0);
  }
  assert_int_equal(rd_kafka_flush(rk, 30000), 0);
  assert_int_equal(log.n, NKEYS);
  assert_int_equal(log.errors, 0);
  int used[NPARTS] = {0};
  for (int i = 0; i < NKEYS; i++) {
    char key[32];
    size_t len;
    key_of(i, key, sizeof key, &len);
    assert_int_equal(ks_partitioner_partition(p, key, len, NPARTS), log.partition[i]);
    used[log.partition[i]] = 1;
  }
  for (int i = 0; i < NPARTS; i++)
    assert_true(used[i]); /* the keys spread: the comparison means something */
  rd_kafka_destroy(rk);
}

static void murmur2_is_librdkafkas(void **state) {
  (void)state;
  producer_agrees("murmur2_random", KS_PARTITIONER_MURMUR2);
  producer_agrees("murmur2", KS_PARTITIONER_MURMUR2);
}
static void crc32_is_librdkafkas_default(void **state) {
  (void)state;
  producer_agrees("consistent_random", KS_PARTITIONER_CRC32);
}
static void fnv1a_is_librdkafkas(void **state) {
  (void)state;
  producer_agrees("fnv1a_random", KS_PARTITIONER_FNV1A);
}

/* ---- the contract and its reasons ----------------------------------------- */

static int check(ks_partitioner p, int32_t partition, const char *key, size_t keylen,
                 const char *tenant, char *reason) {
  strcpy(reason, "(unchanged)");
  return ks_copartition_check(p, 4, partition, key, keylen, tenant, reason, 256);
}

static void reasons(void **state) {
  (void)state;
  char r[256];
  /* held: key is the tenant; any partition without a partitioner */
  for (int32_t p = 0; p < 4; p++)
    assert_int_equal(check(KS_PARTITIONER_ANY, p, "acme", 4, "acme", r), 0);
  assert_string_equal(r, "(unchanged)");
  assert_int_equal(check(KS_PARTITIONER_CRC32, 2, "acme", 4, "acme", r), 0);
  assert_int_equal(check(KS_PARTITIONER_MURMUR2, 0, "acme", 4, "acme", r), 0);
  assert_int_equal(check(KS_PARTITIONER_FNV1A, 3, "acme", 4, "acme", r), 0);
  /* broken */
  assert_int_equal(check(KS_PARTITIONER_ANY, 0, NULL, 0, "acme", r), 1);
  assert_string_equal(r, "no message key (events are keyed by tenant: 'acme')");
  assert_int_equal(check(KS_PARTITIONER_ANY, 0, "", 0, "acme", r), 1);
  assert_string_equal(r, "message key '' is not the tenant 'acme'");
  assert_int_equal(check(KS_PARTITIONER_ANY, 0, "globex", 6, "acme", r), 1);
  assert_string_equal(r, "message key 'globex' is not the tenant 'acme'");
  assert_int_equal(check(KS_PARTITIONER_ANY, 0, "acm", 3, "acme", r), 1);
  assert_string_equal(r, "message key 'acm' is not the tenant 'acme'");
  assert_int_equal(check(KS_PARTITIONER_ANY, 0, "acme\0", 5, "acme", r), 1);
  assert_string_equal(r, "message key 'acme\\x00' is not the tenant 'acme'");
  assert_int_equal(check(KS_PARTITIONER_ANY, 0, "a\001\\'\377", 5, "a\"b", r), 1);
  assert_string_equal(r, "message key 'a\\x01\\x5c\\x27\\xff' is not the tenant 'a\"b'");
  assert_int_equal(check(KS_PARTITIONER_CRC32, 1, "acme", 4, "acme", r), 1);
  assert_string_equal(r, "on partition 1, but the crc32 partitioner puts key 'acme' on partition 2 "
                         "of 4");
  assert_int_equal(check(KS_PARTITIONER_MURMUR2, 2, "acme", 4, "acme", r), 1);
  assert_string_equal(r, "on partition 2, but the murmur2 partitioner puts key 'acme' on partition "
                         "0 of 4");
  /* long keys and tenants are cut at 64 bytes */
  char longkey[200];
  memset(longkey, 'k', sizeof longkey);
  assert_int_equal(check(KS_PARTITIONER_ANY, 0, longkey, sizeof longkey, "acme", r), 1);
  assert_string_equal(r, "message key "
                         "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...' "
                         "is not the tenant 'acme'");
  /* the worst case: 64 escaped bytes each */
  char bin[100];
  memset(bin, 1, sizeof bin);
  char t[101];
  memset(t, 2, 100);
  t[100] = '\0';
  char big[1024];
  assert_int_equal(
      ks_copartition_check(KS_PARTITIONER_ANY, 4, 0, bin, sizeof bin, t, big, sizeof big), 1);
  assert_int_equal(strlen(big), strlen("message key '' is not the tenant ''") + 2 * (64 * 4 + 3));
}

/* ---- in the engine: after the one decode, before the watermark ------------ */

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)ud, (void)topic, (void)key, (void)keylen, (void)value, (void)valuelen, (void)r;
  return 0;
}

/* A contact_queued of tenant at KS_TK_T0 + minute into buf; its length. */
static size_t queued(const char *tenant, int64_t minute, uint8_t *buf, size_t cap) {
  Kpistream__V1__Event ev =
      ks_tk_event(KS_TK_T0 + KS_TK_MIN(minute), tenant, 1, "sales", "c1", NULL, NULL);
  Kpistream__V1__ContactQueued body = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &body;
  return ks_tk_pack(&ev, buf, cap);
}

static int feed(ks_engine *e, int32_t task, int64_t offset, const char *tenant, const char *key,
                ks_partitioner p, char *reason) {
  uint8_t buf[256];
  size_t n = queued(tenant, offset, buf, sizeof buf);
  ks_msg_origin from = {key, key ? strlen(key) : 0, 4, p, -1};
  return ks_engine_process_from(e, task, 0, offset, &from, buf, n, reason, 256);
}

static void engine_refuses_misrouted(void **state) {
  (void)state;
  static const char *const topics[] = {"events.voice"};
  ks_engine_options o = {0};
  o.interval_ms = KS_TK_MIN(15);
  o.topics = topics;
  o.n_topics = 1;
  o.sink = sink;
  o.log_level = KS_LOG_ERROR;
  ks_engine *e = NULL;
  char err[256], reason[256];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  assert_int_equal(ks_engine_add_plugin(e, KS_TEST_PLUGIN_DIR "/kpi_operations.so", NULL, NULL, 0,
                                        err, sizeof err),
                   0);
  for (int32_t t = 0; t < 4; t++)
    assert_int_equal(ks_engine_task_open(e, t), 0);
  /* misrouted: not dispatched, the watermark untouched, the offset consumed */
  assert_int_equal(feed(e, 0, 0, "acme", NULL, KS_PARTITIONER_ANY, reason), KS_MISROUTED);
  assert_string_equal(reason, "no message key (events are keyed by tenant: 'acme')");
  assert_int_equal(feed(e, 0, 1, "acme", "globex", KS_PARTITIONER_ANY, reason), KS_MISROUTED);
  assert_string_equal(reason, "message key 'globex' is not the tenant 'acme'");
  assert_int_equal(feed(e, 1, 0, "acme", "acme", KS_PARTITIONER_CRC32, reason), KS_MISROUTED);
  assert_string_equal(reason,
                      "on partition 1, but the crc32 partitioner puts key 'acme' on partition 2 "
                      "of 4");
  assert_true(ks_engine_partition_time(e, 0, 0) == INT64_MIN);
  assert_true(ks_engine_partition_time(e, 1, 0) == INT64_MIN);
  assert_int_equal(ks_engine_next_offset(e, 0, 0), 2);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_in, 3);
  assert_int_equal(st.events_misrouted, 3);
  assert_int_equal(st.events_rejected, 0);
  assert_int_equal(st.events_dispatched, 0);
  /* held: dispatched */
  assert_int_equal(feed(e, 2, 0, "acme", "acme", KS_PARTITIONER_CRC32, reason), KS_PROCESSED);
  assert_int_equal(feed(e, 0, 2, "acme", "acme", KS_PARTITIONER_MURMUR2, reason), KS_PROCESSED);
  assert_int_equal(feed(e, 3, 0, "acme", "acme", KS_PARTITIONER_ANY, reason), KS_PROCESSED);
  assert_true(ks_engine_partition_time(e, 2, 0) == KS_TK_T0);
  /* a refusal of the decoder comes first */
  assert_int_equal(ks_engine_process_from(e, 0, 0, 3,
                                          &(ks_msg_origin){NULL, 0, 4, KS_PARTITIONER_ANY, -1},
                                          "garbage", 7, reason, sizeof reason),
                   KS_REJECTED);
  /* without an origin (tests, benchmarks) nothing is checked */
  uint8_t buf[256];
  size_t n = queued("acme", 5, buf, sizeof buf);
  assert_int_equal(ks_engine_process(e, 1, 0, 1, buf, n, reason, sizeof reason), KS_PROCESSED);
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_misrouted, 3);
  assert_int_equal(st.events_rejected, 1);
  assert_int_equal(st.events_dispatched, 4);
  ks_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_names),
      cmocka_unit_test(partitions_match_independent_values),
      cmocka_unit_test(murmur2_is_librdkafkas),
      cmocka_unit_test(crc32_is_librdkafkas_default),
      cmocka_unit_test(fnv1a_is_librdkafkas),
      cmocka_unit_test(reasons),
      cmocka_unit_test(engine_refuses_misrouted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
