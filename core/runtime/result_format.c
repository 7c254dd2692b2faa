#include "result_format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "arena.h"
#include "kpistream/v1/result.pb-c.h"
#include "utf8.h"

typedef Kpistream__V1__MetricResult metric_result;

/* CT: a content type and its length (known here, not counted per result) */
#define CT(s) s, sizeof(s) - 1
static const struct {
  const char *name, *content_type;
  size_t content_type_len;
} formats[] = {
    [KS_FORMAT_PROTOBUF] = {"protobuf",
                            CT("application/x-protobuf; message=kpistream.v1.MetricResult")},
    [KS_FORMAT_JSON] = {"json", CT("application/json; message=kpistream.v1.MetricResult")},
    [KS_FORMAT_CONFLUENT_PROTOBUF] = {"confluent_protobuf",
                                      CT("application/vnd.confluent.protobuf; "
                                         "message=kpistream.v1.MetricResult")},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

int ks_format_parse(const char *name, ks_format *out) {
  for (size_t i = 0; name && i < N_FORMATS; i++)
    if (strcmp(name, formats[i].name) == 0) {
      *out = (ks_format)i;
      return 0;
    }
  return KS_EINVAL;
}

const char *ks_format_name(ks_format f) {
  return (unsigned)f < N_FORMATS ? formats[f].name : "?";
}

const char *ks_format_content_type(ks_format f) {
  return (unsigned)f < N_FORMATS ? formats[f].content_type : "application/octet-stream";
}

int ks_format_from_content_type(const void *value, size_t n, ks_format *out) {
  for (size_t i = 0; value && i < N_FORMATS; i++)
    if (formats[i].content_type_len == n && memcmp(formats[i].content_type, value, n) == 0) {
      *out = (ks_format)i;
      return 0;
    }
  return KS_EINVAL;
}

ks_format ks_format_sniff(const void *value, size_t len) {
  const unsigned char *b = value;
  if (len > 0 && b[0] == '{')
    return KS_FORMAT_JSON;
  if (len > 0 && b[0] == 0x00)
    return KS_FORMAT_CONFLUENT_PROTOBUF;
  return KS_FORMAT_PROTOBUF;
}

static int reserve(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return 0;
  size_t nc = *cap ? *cap : 256;
  while (nc < need)
    nc *= 2;
  uint8_t *nb = realloc(*buf, nc);
  if (nb == NULL)
    return KS_ENOMEM;
  *buf = nb;
  *cap = nc;
  return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

/* d as n decimal digits, zero-padded */
static char *put_digits(char *p, unsigned d, int n) {
  for (int i = n - 1; i >= 0; i--, d /= 10)
    p[i] = (char)('0' + d % 10);
  return p + n;
}

/* Seconds of 1000-01-01T00:00:00Z and 10000-01-01T00:00:00Z. */
#define RFC3339_FAST_FROM INT64_C(-30610224000)
#define RFC3339_FAST_TO   INT64_C(253402300800)

size_t ks_format_rfc3339(int64_t ms, char *buf, size_t size) {
  int64_t s = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    s--;
  }
  if (size < 32)
    return 0;
  if (s >= RFC3339_FAST_FROM && s < RFC3339_FAST_TO) {
    /* four-digit years, by hand (civil_from_days, H. Hinnant): what
     * gmtime_r and strftime write, without their cost per result */
    int64_t days = (s >= 0 ? s : s - 86399) / 86400, sod = s - days * 86400;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t mday = doy - (153 * mp + 2) / 5 + 1, mon = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (mon <= 2);
    char *p = put_digits(buf, (unsigned)year, 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)mon, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)mday, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)(sod / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(sod % 60), 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)frac, 3);
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - buf);
  }
  time_t t = (time_t)s;
  struct tm tm;
  size_t n;
  if (gmtime_r(&t, &tm) == NULL || (n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
    return 0;
  return n + (size_t)snprintf(buf + n, size - n, ".%03dZ", (int)frac);
}

/* The JSON text is written directly, in one pass into a buffer reserved
 * once: byte for byte what jansson's json_dumpb(JSON_COMPACT |
 * JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) writes for the same object
 * (it did until issue 16; test_result_encoder compares both), at a
 * fraction of the cost (docs/benchmarks.md, "The cost of a result"). */

/* Bytes a string of n bytes takes at most as a JSON string: a control
 * character becomes \u00XX, six bytes; the quotes. */
#define JSON_STR_MAX(n) (6 * (n) + 2)
/* A %.17g double with jansson's ".0": sign, 17 digits, point, e-308. */
#define JSON_REAL_MAX 32

static char *jw_lit(char *p, const char *lit, size_t n) {
  memcpy(p, lit, n);
  return p + n;
}
#define JW_LIT(p, lit) jw_lit((p), (lit), sizeof(lit) - 1)
/* ,"name": before a field's value (a string literal name) */
#define JW_KEY(p, name) JW_LIT(p, ",\"" name "\":")

/* A valid UTF-8 string as jansson writes it: ", \\ and the control
 * characters escaped (\b \f \n \r \t, else \u00XX in upper-case hex),
 * everything else (non-ASCII included) as it is. */
static char *jw_str(char *p, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  *p++ = '"';
  for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
    if (*c >= 0x20 && *c != '"' && *c != '\\') {
      *p++ = (char)*c;
      continue;
    }
    *p++ = '\\';
    switch (*c) {
    case '"':
    case '\\':
      *p++ = (char)*c;
      break;
    case '\b':
      *p++ = 'b';
      break;
    case '\f':
      *p++ = 'f';
      break;
    case '\n':
      *p++ = 'n';
      break;
    case '\r':
      *p++ = 'r';
      break;
    case '\t':
      *p++ = 't';
      break;
    default:
      p = JW_LIT(p, "u00");
      *p++ = hex[*c >> 4];
      *p++ = hex[*c & 15];
    }
  }
  *p++ = '"';
  return p;
}

/* v in decimal, as "%lld" writes it */
static char *jw_int(char *p, long long v) {
  char tmp[24], *q = tmp + sizeof tmp;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do {
    *--q = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    *--q = '-';
  return jw_lit(p, q, (size_t)(tmp + sizeof tmp - q));
}

/* jansson's real: %.17g, ".0" when there is neither a point nor an
 * exponent, and the exponent without '+' or leading zeros ("1e-5", "1e21"). */
static char *jw_real(char *p, double d) {
  char buf[JSON_REAL_MAX + 8];
  int n = snprintf(buf, sizeof buf, "%.17g", d);
  char *e = strchr(buf, 'e');
  if (e == NULL && strchr(buf, '.') == NULL) {
    memcpy(buf + n, ".0", 3);
    n += 2;
  }
  if (e) {
    char *from = e + 1, *to = e + 1;
    if (*from == '-')
      *to++ = *from++;
    else if (*from == '+')
      from++;
    while (*from == '0' && from[1] != '\0')
      from++;
    memmove(to, from, strlen(from) + 1);
    n = (int)strlen(buf);
  }
  return jw_lit(p, buf, (size_t)n);
}

/* An enum value by its name in the .proto, or its number when this build
 * does not know it (a newer plugin). */
static char *jw_enum(char *p, const ProtobufCEnumDescriptor *d, int v) {
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
  return ev ? jw_str(p, ev->name) : jw_int(p, v);
}

static char *jw_time(char *p, int64_t ms) {
  char buf[64];
  return ks_format_rfc3339(ms, buf, sizeof buf) ? jw_str(p, buf) : JW_LIT(p, "null");
}

static size_t slen(const char *s) {
  return s ? strlen(s) : 0;
}

/* The result's JSON text into *buf: its length, or KS_ENOMEM, or KS_EINVAL
 * naming the first field JSON cannot hold (a string that is not UTF-8, a
 * number that is not finite). */
static long result_json(const metric_result *m, uint8_t **buf, size_t *cap, char *errstr,
                        size_t errstr_size) {
  const char *bad = ks_format_non_utf8_field(m);
  if (bad == NULL && !isfinite(m->value) &&
      m->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE)
    bad = "value";
  else if (bad == NULL && !isfinite(m->numerator))
    bad = "numerator";
  else if (bad == NULL && !isfinite(m->denominator))
    bad = "denominator";
  if (bad) {
    snprintf(errstr, errstr_size,
             "result field '%s' cannot be written as JSON (not UTF-8, or "
             "not a finite number)",
             bad);
    return KS_EINVAL;
  }
  const char *strs[] = {m->key,      m->family, m->metric, m->tenant,        m->queue,
                        m->agent_id, m->team,   m->unit,   m->plugin_version};
  size_t need = 1024 + 8 * 64; /* field names, numbers, enums, times */
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    need += JSON_STR_MAX(slen(strs[i]));
  for (size_t i = 0; i < m->n_labels; i++)
    need += 32 + JSON_STR_MAX(slen(m->labels[i]->key)) + JSON_STR_MAX(slen(m->labels[i]->value));
  if (reserve(buf, cap, need) != 0)
    return KS_ENOMEM;
  char *p = (char *)*buf;
  p = jw_str(JW_LIT(p, "{\"key\":"), m->key);
  p = jw_str(JW_KEY(p, "family"), m->family);
  p = jw_str(JW_KEY(p, "metric"), m->metric);
  p = jw_enum(JW_KEY(p, "level"), &kpistream__v1__level__descriptor, m->level);
  p = jw_str(JW_KEY(p, "tenant"), m->tenant);
  p = jw_enum(JW_KEY(p, "channel"), &kpistream__v1__channel__descriptor, m->channel);
  p = jw_str(JW_KEY(p, "queue"), m->queue);
  p = jw_str(JW_KEY(p, "agent_id"), m->agent_id);
  p = jw_str(JW_KEY(p, "team"), m->team);
  p = JW_LIT(JW_KEY(p, "labels"), "[");
  for (size_t i = 0; i < m->n_labels; i++) {
    if (i)
      *p++ = ',';
    p = jw_str(JW_LIT(p, "{\"key\":"), m->labels[i]->key);
    p = jw_str(JW_KEY(p, "value"), m->labels[i]->value);
    *p++ = '}';
  }
  *p++ = ']';
  p = jw_int(JW_KEY(p, "interval_start_ms"), m->interval_start_ms);
  p = jw_int(JW_KEY(p, "interval_end_ms"), m->interval_end_ms);
  p = jw_time(JW_KEY(p, "interval_start"), m->interval_start_ms);
  p = jw_time(JW_KEY(p, "interval_end"), m->interval_end_ms);
  p = JW_KEY(p, "value");
  p = m->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE ? jw_real(p, m->value)
                                                                   : JW_LIT(p, "null");
  p = jw_real(JW_KEY(p, "numerator"), m->numerator);
  p = jw_real(JW_KEY(p, "denominator"), m->denominator);
  p = jw_int(JW_KEY(p, "count"), m->count);
  p = jw_enum(JW_KEY(p, "aggregation"), &kpistream__v1__aggregation__descriptor, m->aggregation);
  p = jw_str(JW_KEY(p, "unit"), m->unit);
  p = jw_int(JW_KEY(p, "revision"), m->revision);
  p = jw_str(JW_KEY(p, "plugin_version"), m->plugin_version);
  *p++ = '}';
  return (long)(p - (char *)*buf);
}

static long encode_json(const void *pb, size_t len, uint8_t **buf, size_t *cap, char *errstr,
                        size_t errstr_size) {
  /* unpacked into one arena block (one malloc, not one per string) */
  ks_arena a;
  if (ks_arena_init(&a, 4096) != 0) {
    ks_arena_free(&a);
    return KS_ENOMEM;
  }
  metric_result *m = kpistream__v1__metric_result__unpack(&a.pb, len, pb);
  long rc;
  if (m == NULL) {
    snprintf(errstr, errstr_size, "not a kpistream.v1.MetricResult (%zu bytes)", len);
    rc = KS_EINVAL;
  } else {
    rc = result_json(m, buf, cap, errstr, errstr_size);
  }
  ks_arena_free(&a);
  return rc;
}

/* ---- JSON back to protobuf ------------------------------------------------ */

static int bad(char *errstr, size_t errstr_size, const char *field, const char *what) {
  snprintf(errstr, errstr_size, "JSON result: '%s' %s", field, what);
  return KS_EINVAL;
}

static int get_str(json_t *o, const char *name, char **out, char *errstr, size_t errstr_size) {
  json_t *v = json_object_get(o, name);
  if (v == NULL || json_is_null(v))
    return 0; /* absent: the proto3 default, "" */
  if (!json_is_string(v))
    return bad(errstr, errstr_size, name, "is not a string");
  *out = (char *)json_string_value(v);
  return 0;
}

static int get_int(json_t *o, const char *name, int64_t *out, char *errstr, size_t errstr_size) {
  json_t *v = json_object_get(o, name);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_integer(v))
    return bad(errstr, errstr_size, name, "is not an integer");
  *out = (int64_t)json_integer_value(v);
  return 0;
}

static int get_num(json_t *o, const char *name, double *out, int *present, char *errstr,
                   size_t errstr_size) {
  json_t *v = json_object_get(o, name);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_number(v))
    return bad(errstr, errstr_size, name, "is not a number");
  *out = json_number_value(v);
  if (present)
    *present = 1;
  return 0;
}

static int get_enum(json_t *o, const char *name, const ProtobufCEnumDescriptor *d, int *out,
                    char *errstr, size_t errstr_size) {
  json_t *v = json_object_get(o, name);
  if (v == NULL || json_is_null(v))
    return 0;
  if (json_is_integer(v)) {
    *out = (int)json_integer_value(v);
    return 0;
  }
  const ProtobufCEnumValue *ev =
      json_is_string(v) ? protobuf_c_enum_descriptor_get_value_by_name(d, json_string_value(v))
                        : NULL;
  if (ev == NULL)
    return bad(errstr, errstr_size, name, "is not a value of its enum");
  *out = ev->value;
  return 0;
}

static long decode_json(const void *value, size_t len, uint8_t **buf, size_t *cap, char *errstr,
                        size_t errstr_size) {
  json_error_t jerr;
  json_t *o = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
  if (o == NULL || !json_is_object(o)) {
    if (o)
      snprintf(errstr, errstr_size, "JSON result: not an object");
    else
      snprintf(errstr, errstr_size, "JSON result: line %d column %d: %s", jerr.line, jerr.column,
               jerr.text);
    json_decref(o);
    return KS_EINVAL;
  }
  metric_result m = KPISTREAM__V1__METRIC_RESULT__INIT;
  Kpistream__V1__Label lab[16], *labp[16];
  int64_t count = 0, revision = 0;
  int level = 0, channel = 0, aggregation = 0, has_value = 0;
  long rc = 0;
  json_t *labels = json_object_get(o, "labels");
  if (get_str(o, "key", &m.key, errstr, errstr_size) ||
      get_str(o, "family", &m.family, errstr, errstr_size) ||
      get_str(o, "metric", &m.metric, errstr, errstr_size) ||
      get_enum(o, "level", &kpistream__v1__level__descriptor, &level, errstr, errstr_size) ||
      get_str(o, "tenant", &m.tenant, errstr, errstr_size) ||
      get_enum(o, "channel", &kpistream__v1__channel__descriptor, &channel, errstr, errstr_size) ||
      get_str(o, "queue", &m.queue, errstr, errstr_size) ||
      get_str(o, "agent_id", &m.agent_id, errstr, errstr_size) ||
      get_str(o, "team", &m.team, errstr, errstr_size) ||
      get_int(o, "interval_start_ms", &m.interval_start_ms, errstr, errstr_size) ||
      get_int(o, "interval_end_ms", &m.interval_end_ms, errstr, errstr_size) ||
      get_num(o, "value", &m.value, &has_value, errstr, errstr_size) ||
      get_num(o, "numerator", &m.numerator, NULL, errstr, errstr_size) ||
      get_num(o, "denominator", &m.denominator, NULL, errstr, errstr_size) ||
      get_int(o, "count", &count, errstr, errstr_size) ||
      get_enum(o, "aggregation", &kpistream__v1__aggregation__descriptor, &aggregation, errstr,
               errstr_size) ||
      get_str(o, "unit", &m.unit, errstr, errstr_size) ||
      get_int(o, "revision", &revision, errstr, errstr_size) ||
      get_str(o, "plugin_version", &m.plugin_version, errstr, errstr_size))
    rc = KS_EINVAL;
  else if (revision < 0 || revision > UINT32_MAX)
    rc = bad(errstr, errstr_size, "revision", "is outside 0..4294967295");
  else if (labels && !json_is_null(labels) &&
           (!json_is_array(labels) || json_array_size(labels) > 16))
    rc = bad(errstr, errstr_size, "labels", "is not an array of at most 16 {key, value}");
  for (size_t i = 0; rc == 0 && labels && i < json_array_size(labels); i++) {
    json_t *l = json_array_get(labels, i);
    kpistream__v1__label__init(&lab[i]);
    labp[i] = &lab[i];
    if (!json_is_object(l) || get_str(l, "key", &lab[i].key, errstr, errstr_size) ||
        get_str(l, "value", &lab[i].value, errstr, errstr_size))
      rc = bad(errstr, errstr_size, "labels", "holds an entry that is not {key, value} strings");
    m.n_labels = i + 1;
  }
  if (rc == 0) {
    m.labels = m.n_labels ? labp : NULL;
    m.level = (Kpistream__V1__Level)level;
    m.channel = (Kpistream__V1__Channel)channel;
    m.aggregation = (Kpistream__V1__Aggregation)aggregation;
    m.count = count;
    m.revision = (uint32_t)revision;
    m.result_case = has_value ? KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE
                              : KPISTREAM__V1__METRIC_RESULT__RESULT__NOT_SET;
    size_t n = kpistream__v1__metric_result__get_packed_size(&m);
    if (reserve(buf, cap, n ? n : 1) != 0)
      rc = KS_ENOMEM;
    else
      rc = (long)kpistream__v1__metric_result__pack(&m, *buf);
  }
  json_decref(o);
  return rc;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

const char *ks_format_non_utf8_field(const Kpistream__V1__MetricResult *m) {
  const struct {
    const char *name, *value;
  } f[] = {{"key", m->key},       {"family", m->family}, {"metric", m->metric},
           {"tenant", m->tenant}, {"queue", m->queue},   {"agent_id", m->agent_id},
           {"team", m->team},     {"unit", m->unit},     {"plugin_version", m->plugin_version}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    if (!ks_utf8_valid_str(f[i].value))
      return f[i].name;
  for (size_t i = 0; i < m->n_labels; i++)
    if (!ks_utf8_valid_str(m->labels[i]->key) || !ks_utf8_valid_str(m->labels[i]->value))
      return "labels";
  return NULL;
}

/* ---- the formats ---------------------------------------------------------- */

long ks_format_encode(ks_format f, uint32_t schema_id, const void *pb, size_t len, uint8_t **buf,
                      size_t *cap, char *errstr, size_t errstr_size) {
  switch (f) {
  case KS_FORMAT_PROTOBUF:
    if (reserve(buf, cap, len ? len : 1) != 0)
      return KS_ENOMEM;
    memcpy(*buf, pb, len);
    return (long)len;
  case KS_FORMAT_JSON:
    return encode_json(pb, len, buf, cap, errstr, errstr_size);
  case KS_FORMAT_CONFLUENT_PROTOBUF: {
    if (reserve(buf, cap, KS_CONFLUENT_PREFIX_LEN + len) != 0)
      return KS_ENOMEM;
    uint8_t *p = *buf;
    p[0] = 0x00; /* magic byte */
    p[1] = (uint8_t)(schema_id >> 24);
    p[2] = (uint8_t)(schema_id >> 16);
    p[3] = (uint8_t)(schema_id >> 8);
    p[4] = (uint8_t)schema_id;
    p[5] = 2;                              /* one index (zigzag varint 1 = 2) */
    p[6] = 2 * KS_CONFLUENT_MESSAGE_INDEX; /* MetricResult, zigzag */
    memcpy(p + KS_CONFLUENT_PREFIX_LEN, pb, len);
    return (long)(KS_CONFLUENT_PREFIX_LEN + len);
  }
  }
  snprintf(errstr, errstr_size, "unknown output format %d", (int)f);
  return KS_EINVAL;
}

long ks_format_decode(ks_format f, const void *value, size_t len, uint8_t **buf, size_t *cap,
                      uint32_t *schema_id, char *errstr, size_t errstr_size) {
  const uint8_t *b = value;
  switch (f) {
  case KS_FORMAT_JSON:
    return decode_json(value, len, buf, cap, errstr, errstr_size);
  case KS_FORMAT_CONFLUENT_PROTOBUF:
    if (len < KS_CONFLUENT_PREFIX_LEN || b[0] != 0x00 || b[5] != 2 ||
        b[6] != 2 * KS_CONFLUENT_MESSAGE_INDEX) {
      snprintf(errstr, errstr_size,
               "not a Confluent-framed MetricResult (expected 00, a 4-byte schema id, then "
               "message indexes 02 02; %zu bytes)",
               len);
      return KS_EINVAL;
    }
    if (schema_id)
      *schema_id = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
    return ks_format_encode(KS_FORMAT_PROTOBUF, 0, b + KS_CONFLUENT_PREFIX_LEN,
                            len - KS_CONFLUENT_PREFIX_LEN, buf, cap, errstr, errstr_size);
  case KS_FORMAT_PROTOBUF:
    return ks_format_encode(KS_FORMAT_PROTOBUF, 0, value, len, buf, cap, errstr, errstr_size);
  }
  snprintf(errstr, errstr_size, "unknown format %d", (int)f);
  return KS_EINVAL;
}

int ks_result_send(ks_producer *p, const char *topic, ks_format f, uint32_t schema_id,
                   const void *key, size_t keylen, const void *pb, size_t len, int64_t timestamp_ms,
                   uint8_t **buf, size_t *cap, void *opaque, char *errstr, size_t errstr_size) {
  const void *value = pb;
  size_t vlen = len;
  if (f != KS_FORMAT_PROTOBUF) {
    long n = ks_format_encode(f, schema_id, pb, len, buf, cap, errstr, errstr_size);
    if (n < 0) {
      char why[256];
      snprintf(why, sizeof why, "%s", errstr);
      snprintf(errstr, errstr_size, "result %.*s for %s as %s: %s", (int)keylen, (const char *)key,
               topic, ks_format_name(f), why);
      return (int)n;
    }
    value = *buf;
    vlen = (size_t)n;
  }
  /* f is a known format here: ks_format_encode refused any other */
  rd_kafka_headers_t *h = rd_kafka_headers_new(1);
  if (h == NULL)
    return KS_ENOMEM;
  rd_kafka_header_add(h, KS_CONTENT_TYPE_HEADER, sizeof KS_CONTENT_TYPE_HEADER - 1,
                      formats[f].content_type, (ssize_t)formats[f].content_type_len);
  return ks_producer_send_at(p, topic, key, keylen, value, vlen, h, timestamp_ms, opaque, errstr,
                             errstr_size);
}
