/* Result encoder: the direct MetricResult encoder writes exactly the bytes
 * protobuf-c's generated packer writes (the independent reference), and the
 * upsert key escapes its separators. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

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

/* ---- JSON: byte for byte what jansson writes ------------------------------- */

/* The reference: the object built with jansson's json_pack and dumped with
 * the flags the JSON format had until issue 16 (compact, insertion order,
 * doubles with 17 digits). NULL where jansson refuses (a number that is not
 * finite). */
static json_t *enum_ref(const ProtobufCEnumDescriptor *d, int v) {
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
  return ev ? json_string(ev->name) : json_integer(v);
}

static json_t *time_ref(int64_t ms) {
  char buf[64];
  return ks_format_rfc3339(ms, buf, sizeof buf) ? json_string(buf) : json_null();
}

static char *jansson_ref(const Kpistream__V1__MetricResult *m, size_t *len) {
  json_t *labels = json_array();
  for (size_t i = 0; i < m->n_labels; i++)
    json_array_append_new(
        labels, json_pack("{s:s, s:s}", "key", m->labels[i]->key, "value", m->labels[i]->value));
  json_t *value = m->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE ? json_real(m->value)
                                                                               : json_null();
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:o*, s:o*, s:o*, "
      "s:I, s:o, s:s, s:I, s:s}",
      "key", m->key, "family", m->family, "metric", m->metric, "level",
      enum_ref(&kpistream__v1__level__descriptor, m->level), "tenant", m->tenant, "channel",
      enum_ref(&kpistream__v1__channel__descriptor, m->channel), "queue", m->queue, "agent_id",
      m->agent_id, "team", m->team, "labels", labels, "interval_start_ms",
      (json_int_t)m->interval_start_ms, "interval_end_ms", (json_int_t)m->interval_end_ms,
      "interval_start", time_ref(m->interval_start_ms), "interval_end",
      time_ref(m->interval_end_ms), "value", value, "numerator", json_real(m->numerator),
      "denominator", json_real(m->denominator), "count", (json_int_t)m->count, "aggregation",
      enum_ref(&kpistream__v1__aggregation__descriptor, m->aggregation), "unit", m->unit,
      "revision", (json_int_t)m->revision, "plugin_version", m->plugin_version);
  if (o == NULL)
    return NULL;
  /* "s:o*" leaves out what jansson refused: a missing field is a refusal */
  if (json_object_size(o) != 22) {
    json_decref(o);
    return NULL;
  }
  size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17);
  *len = json_dumpb(o, NULL, 0, flags);
  char *out = malloc(*len);
  assert_int_equal(json_dumpb(o, out, *len, flags), *len);
  json_decref(o);
  return out;
}

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* A string of up to 12 pieces: ASCII, JSON's escapes, every control
 * character, DEL, and 2-, 3- and 4-byte UTF-8. */
static char *rand_str(uint64_t *s, char *buf) {
  static const char *const pieces[] = {"a",
                                       "Z",
                                       "0",
                                       " ",
                                       "/",
                                       "\"",
                                       "\\",
                                       "\b",
                                       "\f",
                                       "\n",
                                       "\r",
                                       "\t",
                                       "\x01",
                                       "\x1f",
                                       "\x7f",
                                       "|",
                                       "=",
                                       ",",
                                       "\xc3\xa9",
                                       "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80",
                                       "\xe2\x80\xa8",
                                       "u00",
                                       "{}[]:"};
  size_t n = next_rand(s) % 13, len = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = pieces[next_rand(s) % (sizeof pieces / sizeof pieces[0])];
    if (*p == '\0')
      continue;
    memcpy(buf + len, p, strlen(p));
    len += strlen(p);
  }
  buf[len] = '\0';
  return buf;
}

static double rand_double(uint64_t *s) {
  static const double special[] = {0.0,
                                   -0.0,
                                   1.0,
                                   -1.0,
                                   0.1,
                                   0.75,
                                   3.0,
                                   1e-5,
                                   1.5e-7,
                                   1e-300,
                                   5e-324,
                                   1e17,
                                   1e21,
                                   123456789012345678.0,
                                   1.7976931348623157e308,
                                   -2.5e-310,
                                   100.0,
                                   1e16,
                                   99999999999999999.0};
  uint64_t r = next_rand(s);
  if (r % 3 == 0)
    return special[(r >> 8) % (sizeof special / sizeof special[0])];
  double d;
  uint64_t bits = next_rand(s);
  memcpy(&d, &bits, sizeof d);
  return isfinite(d) ? d : (double)(int64_t)bits / 1e3;
}

static void json_matches_jansson(void **state) {
  (void)state;
  uint64_t seed = 0x9e3779b97f4a7c15u;
  char strs[12][128], lk[3][128], lv[3][128];
  uint8_t *pb = malloc(8192), *out = NULL;
  size_t ocap = 0;
  char err[256];
  int compared = 0;
  for (int i = 0; i < 4000; i++) {
    Kpistream__V1__MetricResult m = KPISTREAM__V1__METRIC_RESULT__INIT;
    Kpistream__V1__Label l[3], *lp[3];
    m.key = rand_str(&seed, strs[0]);
    m.family = rand_str(&seed, strs[1]);
    m.metric = rand_str(&seed, strs[2]);
    m.tenant = rand_str(&seed, strs[3]);
    m.queue = rand_str(&seed, strs[4]);
    m.agent_id = rand_str(&seed, strs[5]);
    m.team = rand_str(&seed, strs[6]);
    m.unit = rand_str(&seed, strs[7]);
    m.plugin_version = rand_str(&seed, strs[8]);
    m.level = (Kpistream__V1__Level)(next_rand(&seed) % 9);             /* some undeclared */
    m.channel = (Kpistream__V1__Channel)(next_rand(&seed) % 6);         /* some undeclared */
    m.aggregation = (Kpistream__V1__Aggregation)(next_rand(&seed) % 9); /* some undeclared */
    int64_t times[] = {0,
                       -1,
                       1795428000000,
                       -62135596800001,
                       INT64_MAX,
                       INT64_MIN,
                       (int64_t)(next_rand(&seed) >> 20)};
    m.interval_start_ms = times[next_rand(&seed) % 7];
    m.interval_end_ms = times[next_rand(&seed) % 7];
    m.count = (int64_t)next_rand(&seed) >> (next_rand(&seed) % 64);
    m.revision = (uint32_t)next_rand(&seed);
    m.numerator = rand_double(&seed);
    m.denominator = rand_double(&seed);
    if (next_rand(&seed) % 4) {
      m.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
      m.value = rand_double(&seed);
    }
    m.n_labels = next_rand(&seed) % 4;
    for (size_t k = 0; k < m.n_labels; k++) {
      kpistream__v1__label__init(&l[k]);
      l[k].key = rand_str(&seed, lk[k]);
      l[k].value = rand_str(&seed, lv[k]);
      lp[k] = &l[k];
    }
    m.labels = lp;
    size_t n = kpistream__v1__metric_result__pack(&m, pb);
    /* the reference sees what the encoder sees: the message the bytes hold
     * (protobuf-c writes no -0.0, a proto3 default) */
    Kpistream__V1__MetricResult *back = kpistream__v1__metric_result__unpack(NULL, n, pb);
    assert_non_null(back);
    size_t rlen = 0;
    char *ref = jansson_ref(back, &rlen);
    kpistream__v1__metric_result__free_unpacked(back, NULL);
    assert_non_null(ref);
    long j = ks_format_encode(KS_FORMAT_JSON, 0, pb, n, &out, &ocap, err, sizeof err);
    if (j != (long)rlen || memcmp(out, ref, rlen) != 0) {
      size_t d = 0;
      while (d < rlen && (long)d < j && out[d] == (uint8_t)ref[d])
        d++;
      size_t from = d > 40 ? d - 40 : 0;
      fail_msg(
          "result %d differs at byte %zu (lengths %ld, jansson %zu): ...%.*s| against "
          "jansson's ...%.*s|",
          i, d, j, rlen,
          (int)((j > 0 ? (size_t)j : from) - from > 80 ? 80 : (j > 0 ? (size_t)j : from) - from),
          (const char *)out + from, (int)(rlen - from > 80 ? 80 : rlen - from), ref + from);
    }
    free(ref);
    compared++;
  }
  assert_int_equal(compared, 4000);
  free(pb);
  free(out);
}

/* RFC 3339 times: what gmtime_r and strftime write (the reference), for
 * instants from year 1 to 12000 and around the edges of the by-hand range. */
static void rfc3339_matches_strftime(void **state) {
  (void)state;
  uint64_t seed = 12345;
  int64_t edges[] = {0,
                     -1,
                     1,
                     999,
                     -999,
                     -1000,
                     1000,
                     951782400000 /* 2000-02-29 */,
                     -30610224000000,
                     -30610224000001,
                     253402300799999,
                     253402300800000,
                     4107542400000 /* 2100-03-01 */,
                     -62135596800000 /* year 1 */};
  for (size_t i = 0; i < 200000 + sizeof edges / sizeof edges[0]; i++) {
    int64_t ms =
        i < sizeof edges / sizeof edges[0]
            ? edges[i]
            : (int64_t)(next_rand(&seed) % UINT64_C(440000000000000)) - INT64_C(62135596800000);
    int64_t s = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
      frac += 1000;
      s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    char want[64], got[64];
    assert_non_null(gmtime_r(&t, &tm));
    size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(want + n, sizeof want - n, ".%03dZ", (int)frac);
    size_t len = ks_format_rfc3339(ms, got, sizeof got);
    if (len != strlen(want) || strcmp(got, want) != 0)
      fail_msg("%lld ms: got \"%s\", strftime \"%s\"", (long long)ms, got, want);
  }
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
      cmocka_unit_test(json_matches_jansson),
      cmocka_unit_test(rfc3339_matches_strftime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
