/* Result encoder: the direct MetricResult encoder writes exactly the bytes
 * protobuf-c's generated packer writes (the independent reference), and the
 * upsert key escapes its separators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpistream/v1/result.pb-c.h"
#include "result_encoder.h"
#include "result_format.h"

/* The reference: the same result through the generated struct and packer. */
static size_t reference(const ks_result *r, const char *key, uint8_t *out) {
  Kpistream__V1__MetricResult m = KPISTREAM__V1__METRIC_RESULT__INIT;
  Kpistream__V1__Label ls[16], *lp[16];
  m.key = (char *)key;
  m.family = "operations";
  m.metric = (char *)r->metric;
  m.interval_start_ms = r->interval_start_ms;
  m.interval_end_ms = r->interval_end_ms;
  m.tenant = (char *)r->tenant;
  m.channel = (Kpistream__V1__Channel)r->channel;
  m.queue = (char *)(r->queue ? r->queue : "");
  m.agent_id = (char *)(r->agent_id ? r->agent_id : "");
  m.team = (char *)(r->team ? r->team : "");
  for (size_t i = 0; i < r->n_labels; i++) {
    Kpistream__V1__Label l = KPISTREAM__V1__LABEL__INIT;
    l.key = (char *)r->labels[i].key;
    l.value = (char *)r->labels[i].value;
    ls[i] = l;
    lp[i] = &ls[i];
  }
  m.n_labels = r->n_labels;
  m.labels = lp;
  /* a ratio has a value only over a positive denominator */
  if (r->aggregation == KS_AGG_RATIO ? r->denominator > 0 : r->has_value) {
    m.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
    m.value = r->aggregation == KS_AGG_RATIO ? r->numerator / r->denominator : r->value;
  }
  m.numerator = r->numerator;
  m.denominator = r->denominator;
  m.count = r->count;
  m.aggregation = (Kpistream__V1__Aggregation)r->aggregation;
  m.unit = (char *)(r->unit ? r->unit : "");
  m.revision = 3;
  m.plugin_version = "1.0.0";
  if (r->struct_size >= sizeof *r) /* a 1.1 plugin's smaller struct has no level */
    m.level = (Kpistream__V1__Level)r->level;
  return kpistream__v1__metric_result__pack(&m, out);
}

static void check(const ks_result *r) {
  uint8_t *buf = NULL;
  size_t cap = 0;
  char *key = NULL;
  size_t kcap = 0;
  assert_null(ks_result_validate(r));
  assert_true(ks_result_key("operations", r, &key, &kcap) > 0);
  long n = ks_result_encode("operations", "1.0.0", r, key, 3, &buf, &cap);
  uint8_t ref[4096];
  size_t rn = reference(r, key, ref);
  assert_int_equal((size_t)n, rn);
  assert_memory_equal(buf, ref, rn);
  free(buf);
  free(key);
}

static void bytes_match_protobuf_c(void **state) {
  (void)state;
  ks_label labels[2] = {{"reason", "billing"}, {"tier", "2"}};
  ks_result r = KS_RESULT_INIT;
  r.metric = "service_level";
  r.interval_start_ms = 1795428000000;
  r.interval_end_ms = 1795428900000;
  r.tenant = "acme";
  r.channel = 1;
  r.queue = "sales";
  r.aggregation = KS_AGG_RATIO;
  r.numerator = 2;
  r.denominator = 5;
  r.count = 5;
  r.unit = "ratio";
  check(&r); /* ratio with a value */
  r.numerator = 0;
  r.denominator = 0;
  check(&r); /* ratio with a zero denominator: no value */
  r.aggregation = KS_AGG_MAX;
  r.has_value = 1;
  r.value = 0.0;
  check(&r); /* an explicit 0 is a value, kept */
  r.value = -12.5;
  r.count = -3;
  r.agent_id = "agent-7";
  r.team = "team-a";
  r.labels = labels;
  r.n_labels = 2;
  check(&r); /* negatives, labels, agent and team */
  r.has_value = 0;
  r.channel = 0;
  r.queue = "";
  check(&r); /* null value, all channels, all queues */
}

/* Levels and negative denominators (issue 11): the level is field 20, every
 * level encodes as protobuf-c does; a ratio over a denominator <= 0 has no
 * value but keeps its numerator and denominator (the interval's exact
 * contribution, negative for a correction). */
static void level_and_negative_denominator(void **state) {
  (void)state;
  ks_result r = KS_RESULT_INIT;
  r.metric = "abandonment_rate";
  r.interval_start_ms = 1795428900000;
  r.interval_end_ms = 1795429800000;
  r.tenant = "acme";
  r.channel = 1;
  r.queue = "sales";
  r.aggregation = KS_AGG_RATIO;
  r.numerator = 0;
  r.denominator = -1;
  r.count = -1;
  r.unit = "ratio";
  for (int l = KS_LEVEL_UNSPECIFIED; l <= KS_LEVEL_EVALUATOR; l++) {
    r.level = (ks_level)l;
    check(&r);
  }
  /* decoded back: no value, denominator -1, level queue */
  r.level = KS_LEVEL_QUEUE;
  uint8_t *buf = NULL;
  size_t cap = 0;
  long n = ks_result_encode("operations", "1.0.0", &r, "k", 0, &buf, &cap);
  assert_true(n > 0);
  Kpistream__V1__MetricResult *m = kpistream__v1__metric_result__unpack(NULL, (size_t)n, buf);
  assert_non_null(m);
  assert_int_equal(m->result_case, KPISTREAM__V1__METRIC_RESULT__RESULT__NOT_SET);
  assert_true(m->denominator == -1.0);
  assert_int_equal(m->count, -1);
  assert_int_equal(m->level, KPISTREAM__V1__LEVEL__LEVEL_QUEUE);
  kpistream__v1__metric_result__free_unpacked(m, NULL);
  free(buf);
  /* an unknown level is refused */
  r.level = (ks_level)9;
  assert_string_equal(ks_result_validate(&r), "result with an unknown level");
}

/* A plugin built against SDK 1.1 passes a ks_result that ends at `unit`:
 * the host reads no level from it (whatever follows in memory) and
 * publishes none, exactly like the 1.1 encoder. */
static void result_of_an_older_plugin(void **state) {
  (void)state;
  struct {
    ks_result r;
    unsigned char junk[16];
  } old;
  memset(&old, 0xAB, sizeof old);
  old.r.struct_size = (uint32_t)(offsetof(ks_result, unit) + sizeof(const char *));
  old.r.metric = "offered";
  old.r.interval_start_ms = 1795428000000;
  old.r.interval_end_ms = 1795428900000;
  old.r.tenant = "acme";
  old.r.channel = 1;
  old.r.queue = "sales";
  old.r.agent_id = NULL;
  old.r.team = NULL;
  old.r.labels = NULL;
  old.r.n_labels = 0;
  old.r.has_value = 1;
  old.r.value = 3;
  old.r.numerator = 3;
  old.r.denominator = 0;
  old.r.count = 3;
  old.r.aggregation = KS_AGG_SUM;
  old.r.unit = "contacts";
  assert_null(ks_result_validate(&old.r));
  ks_result tmp;
  const ks_result *full = ks_result_full(&old.r, &tmp);
  assert_ptr_equal(full, &tmp);
  assert_int_equal(full->struct_size, sizeof(ks_result));
  assert_int_equal(full->level, KS_LEVEL_UNSPECIFIED);
  assert_string_equal(full->unit, "contacts");
  check(full);
  /* the encoder itself never reads past a small struct either */
  uint8_t *a = NULL, *b = NULL;
  size_t ca = 0, cb = 0;
  long na = ks_result_encode("operations", "1.0.0", &old.r, "k", 0, &a, &ca);
  long nb = ks_result_encode("operations", "1.0.0", full, "k", 0, &b, &cb);
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, (size_t)na);
  free(a);
  free(b);
  /* a current struct is used as it is */
  ks_result cur = KS_RESULT_INIT;
  assert_ptr_equal(ks_result_full(&cur, &tmp), &cur);
}

static void key_escapes_separators(void **state) {
  (void)state;
  ks_label l = {"a=b", "c,d"};
  ks_result r = KS_RESULT_INIT;
  r.metric = "offered";
  r.interval_start_ms = 1795428000000;
  r.interval_end_ms = 1795428900000;
  r.tenant = "ac|me";
  r.channel = 3;
  r.queue = "q\\1";
  r.labels = &l;
  r.n_labels = 1;
  r.aggregation = KS_AGG_SUM;
  char *key = NULL;
  size_t cap = 0;
  assert_true(ks_result_key("operations", &r, &key, &cap) > 0);
  assert_string_equal(key, "operations/offered|ac\\|me|chat|q\\\\1||a\\=b=c\\,d|1795428000000");
  free(key);
}

static void bad_results_are_refused(void **state) {
  (void)state;
  ks_result r = KS_RESULT_INIT;
  r.metric = "x";
  r.tenant = "t";
  r.interval_start_ms = 10;
  r.interval_end_ms = 5;
  r.aggregation = KS_AGG_SUM;
  assert_string_equal(ks_result_validate(&r), "result interval end not after start");
  r.interval_end_ms = 20;
  r.aggregation = 9;
  assert_string_equal(ks_result_validate(&r), "result with an unknown aggregation");
  r.aggregation = KS_AGG_SUM;
  r.has_value = 1;
  r.value = 1.0 / 0.0;
  assert_string_equal(ks_result_validate(&r), "result with a non-finite number");
  r.struct_size = 8;
  assert_string_equal(ks_result_validate(&r), "result struct too small (use KS_RESULT_INIT)");
}

/* ---- output formats (result_format.c) ----------------------------------- */

/* The protobuf of a queue-level service level: 3 of 4 within threshold. */
static long sample_pb(const char *tenant, double num, double den, uint8_t **pb, size_t *cap) {
  ks_label l = {"reason", "billing"};
  ks_result r = KS_RESULT_INIT;
  r.metric = "service_level";
  r.tenant = tenant;
  r.channel = 1; /* CHANNEL_VOICE */
  r.queue = "sales";
  r.labels = &l;
  r.n_labels = 1;
  r.interval_start_ms = 1795428000000; /* 2026-11-23T10:00:00Z */
  r.interval_end_ms = 1795428900000;
  r.numerator = num;
  r.denominator = den;
  r.count = 4;
  r.aggregation = KS_AGG_RATIO;
  r.unit = "ratio";
  r.level = KS_LEVEL_QUEUE;
  char *key = NULL;
  size_t kcap = 0;
  assert_true(ks_result_key("operations", &r, &key, &kcap) > 0);
  long n = ks_result_encode("operations", "1.0.0", &r, key, 3, pb, cap);
  free(key);
  return n;
}

static const char sample_json[] =
    "{\"key\":\"operations/service_level|acme|voice|sales||reason=billing|1795428000000\","
    "\"family\":\"operations\",\"metric\":\"service_level\",\"level\":\"LEVEL_QUEUE\","
    "\"tenant\":\"acme\",\"channel\":\"CHANNEL_VOICE\",\"queue\":\"sales\",\"agent_id\":\"\","
    "\"team\":\"\",\"labels\":[{\"key\":\"reason\",\"value\":\"billing\"}],"
    "\"interval_start_ms\":1795428000000,\"interval_end_ms\":1795428900000,"
    "\"interval_start\":\"2026-11-23T10:00:00.000Z\",\"interval_end\":\"2026-11-23T10:15:00.000Z\","
    "\"value\":0.75,\"numerator\":3.0,\"denominator\":4.0,\"count\":4,\"aggregation\":\"AGG_"
    "RATIO\","
    "\"unit\":\"ratio\",\"revision\":3,\"plugin_version\":\"1.0.0\"}";

static void json_format_exact(void **state) {
  (void)state;
  uint8_t *pb = NULL, *out = NULL, *back = NULL;
  size_t pcap = 0, ocap = 0, bcap = 0;
  char err[256];
  long n = sample_pb("acme", 3, 4, &pb, &pcap);
  long j = ks_format_encode(KS_FORMAT_JSON, 0, pb, (size_t)n, &out, &ocap, err, sizeof err);
  assert_int_equal(j, (long)strlen(sample_json));
  assert_memory_equal(out, sample_json, (size_t)j);
  /* and back: protobuf-c packs the very bytes result_encoder wrote */
  long b = ks_format_decode(KS_FORMAT_JSON, out, (size_t)j, &back, &bcap, NULL, err, sizeof err);
  assert_int_equal(b, n);
  assert_memory_equal(back, pb, (size_t)n);

  /* no value over a zero denominator: null; doubles with 17 digits */
  n = sample_pb("acme", 0.1, 0, &pb, &pcap);
  j = ks_format_encode(KS_FORMAT_JSON, 0, pb, (size_t)n, &out, &ocap, err, sizeof err);
  assert_true(j > 0);
  out[j - 1] = '\0'; /* the closing brace: the text is now NUL-terminated */
  assert_non_null(strstr((char *)out, "\"value\":null,\"numerator\":0.10000000000000001,"
                                      "\"denominator\":0.0,"));
  out[j - 1] = '}';
  b = ks_format_decode(KS_FORMAT_JSON, out, (size_t)j, &back, &bcap, NULL, err, sizeof err);
  assert_int_equal(b, n);
  assert_memory_equal(back, pb, (size_t)n);

  /* a string that is not UTF-8 cannot be JSON: refused, naming the field */
  n = sample_pb("ac\xffme", 3, 4, &pb, &pcap);
  assert_int_equal(ks_format_encode(KS_FORMAT_JSON, 0, pb, (size_t)n, &out, &ocap, err, sizeof err),
                   KS_EINVAL);
  assert_non_null(
      strstr(err, "'key' cannot be written as JSON (not UTF-8")); /* the first such field */
  free(pb);
  free(out);
  free(back);
}

static void confluent_format_exact(void **state) {
  (void)state;
  uint8_t *pb = NULL, *out = NULL, *back = NULL;
  size_t pcap = 0, ocap = 0, bcap = 0;
  char err[256];
  long n = sample_pb("acme", 3, 4, &pb, &pcap);
  long c = ks_format_encode(KS_FORMAT_CONFLUENT_PROTOBUF, 42, pb, (size_t)n, &out, &ocap, err,
                            sizeof err);
  assert_int_equal(c, n + 7);
  static const uint8_t prefix[7] = {0x00, 0x00, 0x00, 0x00, 0x2a, 0x02, 0x02};
  assert_memory_equal(out, prefix, 7);
  assert_memory_equal(out + 7, pb, (size_t)n);
  uint32_t id = 0;
  long b = ks_format_decode(KS_FORMAT_CONFLUENT_PROTOBUF, out, (size_t)c, &back, &bcap, &id, err,
                            sizeof err);
  assert_int_equal(b, n);
  assert_int_equal(id, 42);
  assert_memory_equal(back, pb, (size_t)n);
  /* the default format is the bytes as they are */
  assert_int_equal(
      ks_format_encode(KS_FORMAT_PROTOBUF, 0, pb, (size_t)n, &out, &ocap, err, sizeof err), n);
  assert_memory_equal(out, pb, (size_t)n);
  /* another message index ([0], a Label) is refused */
  uint8_t label[8] = {0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x0a, 0x00};
  assert_int_equal(ks_format_decode(KS_FORMAT_CONFLUENT_PROTOBUF, label, sizeof label, &back, &bcap,
                                    NULL, err, sizeof err),
                   KS_EINVAL);
  assert_non_null(strstr(err, "not a Confluent-framed MetricResult"));
  free(pb);
  free(out);
  free(back);
}

static void format_names_and_refusals(void **state) {
  (void)state;
  for (int f = KS_FORMAT_PROTOBUF; f <= KS_FORMAT_CONFLUENT_PROTOBUF; f++) {
    ks_format got;
    assert_int_equal(ks_format_parse(ks_format_name((ks_format)f), &got), 0);
    assert_int_equal(got, f);
    const char *ct = ks_format_content_type((ks_format)f);
    assert_int_equal(ks_format_from_content_type(ct, strlen(ct), &got), 0);
    assert_int_equal(got, f);
  }
  ks_format got;
  assert_int_equal(ks_format_parse("avro", &got), KS_EINVAL);
  assert_int_equal(ks_format_from_content_type("application/json", 16, &got), KS_EINVAL);
  assert_string_equal(ks_format_content_type(KS_FORMAT_JSON),
                      "application/json; message=kpistream.v1.MetricResult");
  assert_int_equal(ks_format_sniff("{\"key\"", 6), KS_FORMAT_JSON);
  assert_int_equal(ks_format_sniff("\0\0\0\0\1\2\2", 7), KS_FORMAT_CONFLUENT_PROTOBUF);
  assert_int_equal(ks_format_sniff("\x0a\x03k", 3), KS_FORMAT_PROTOBUF);

  uint8_t *buf = NULL;
  size_t cap = 0;
  char err[256];
  static const char *const bad[][2] = {
      {"{\"key\":", "JSON result: line 1"},
      {"[1]", "JSON result: not an object"},
      {"{\"revision\":\"3\"}", "'revision' is not an integer"},
      {"{\"revision\":4294967296}", "'revision' is outside 0..4294967295"},
      {"{\"level\":\"LEVEL_GALAXY\"}", "'level' is not a value of its enum"},
      {"{\"value\":\"x\"}", "'value' is not a number"},
      {"{\"labels\":[{\"key\":1}]}", "'labels' holds an entry that is not {key, value} strings"},
      {"{\"key\":\"a\",\"key\":\"b\"}", "duplicate object key"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(ks_format_decode(KS_FORMAT_JSON, bad[i][0], strlen(bad[i][0]), &buf, &cap,
                                      NULL, err, sizeof err),
                     KS_EINVAL);
    if (strstr(err, bad[i][1]) == NULL)
      fail_msg("%s: error '%s', want '%s'", bad[i][0], err, bad[i][1]);
  }
  free(buf);
}

/* ks_format_non_utf8_field: well-formed UTF-8 only (RFC 3629). */
static void utf8_fields(void **state) {
  (void)state;
  Kpistream__V1__MetricResult m = KPISTREAM__V1__METRIC_RESULT__INIT;
  assert_null(ks_format_non_utf8_field(&m));
  static const char *const good[] = {
      "acme", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\x7f"};
  static const char *const bad[] = {"\xc0\x80",         /* overlong NUL */
                                    "\xe0\x80\xaf",     /* overlong '/' */
                                    "\xed\xa0\x80",     /* a surrogate */
                                    "\xf4\x90\x80\x80", /* above U+10FFFF */
                                    "\xe2\x82",         /* cut short */
                                    "\x80",             /* a lone continuation */
                                    "ab\xff"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    m.queue = (char *)good[i];
    assert_null(ks_format_non_utf8_field(&m));
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    m.queue = (char *)bad[i];
    const char *f = ks_format_non_utf8_field(&m);
    assert_non_null(f);
    assert_string_equal(f, "queue");
  }
  m.queue = "";
  Kpistream__V1__Label l = KPISTREAM__V1__LABEL__INIT, *lp = &l;
  l.key = "reason";
  l.value = "\xff";
  m.labels = &lp;
  m.n_labels = 1;
  assert_string_equal(ks_format_non_utf8_field(&m), "labels");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bytes_match_protobuf_c),
      cmocka_unit_test(level_and_negative_denominator),
      cmocka_unit_test(result_of_an_older_plugin),
      cmocka_unit_test(key_escapes_separators),
      cmocka_unit_test(bad_results_are_refused),
      cmocka_unit_test(json_format_exact),
      cmocka_unit_test(confluent_format_exact),
      cmocka_unit_test(format_names_and_refusals),
      cmocka_unit_test(utf8_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
