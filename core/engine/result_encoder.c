#include "result_encoder.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/v1/result.pb-c.h"
#include "loader.h"

const char *ks_channel_name(int channel) {
  switch (channel) {
  case KPISTREAM__V1__CHANNEL__CHANNEL_VOICE:
    return "voice";
  case KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL:
    return "email";
  case KPISTREAM__V1__CHANNEL__CHANNEL_CHAT:
    return "chat";
  default:
    return "all";
  }
}

/* The smallest ks_result a plugin may pass: the 1.0/1.1 struct, up to unit. */
#define KS_RESULT_SIZE_1_1 KS_SIZE_THROUGH(ks_result, unit)

const char *ks_result_metric(const ks_result *r) {
  if (r == NULL || r->struct_size < KS_SIZE_THROUGH(ks_result, metric))
    return NULL;
  return r->metric;
}

const ks_result *ks_result_full(const ks_result *r, ks_result *tmp) {
  if (r == NULL || r->struct_size < KS_RESULT_SIZE_1_1 || r->struct_size >= sizeof *r)
    return r;
  memset(tmp, 0, sizeof *tmp);
  memcpy(tmp, r, r->struct_size);
  tmp->struct_size = sizeof *tmp;
  return tmp;
}

const char *ks_result_validate(const ks_result *r) {
  if (r == NULL || r->struct_size < KS_RESULT_SIZE_1_1)
    return "result struct too small (use KS_RESULT_INIT)";
  if (r->metric == NULL || r->metric[0] == '\0')
    return "result without a metric name";
  if (r->tenant == NULL)
    return "result without a tenant";
  if (r->interval_end_ms <= r->interval_start_ms)
    return "result interval end not after start";
  if (r->n_labels > 16)
    return "result with more than 16 labels";
  if (r->n_labels && r->labels == NULL)
    return "result with n_labels but no labels";
  for (size_t i = 0; i < r->n_labels; i++)
    if ((r->labels[i].key && strlen(r->labels[i].key) > 255) ||
        (r->labels[i].value && strlen(r->labels[i].value) > 255))
      return "result label longer than 255 bytes";
  if (r->aggregation < KS_AGG_RATIO || r->aggregation > KS_AGG_GAUGE)
    return "result with an unknown aggregation";
  if (r->struct_size >= KS_SIZE_THROUGH(ks_result, level) &&
      ((unsigned)r->level > (unsigned)KS_LEVEL_EVALUATOR))
    return "result with an unknown level";
  if (!isfinite(r->numerator) || !isfinite(r->denominator) ||
      (r->aggregation != KS_AGG_RATIO && r->has_value && !isfinite(r->value)))
    return "result with a non-finite number";
  return NULL;
}

/* The n bytes of s with '|', ',', '=' and '\\' escaped by a backslash (at
 * most 2n bytes). */
static inline char *put_escaped(char *p, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '|' || c == ',' || c == '=' || c == '\\')
      *p++ = '\\';
    *p++ = c;
  }
  return p;
}

static inline char *put_raw(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

static inline size_t slen(const char *s) {
  return s ? strlen(s) : 0;
}

/* One pass: the lengths first (escaping at most doubles a part), one
 * capacity check, then the bytes. */
long ks_result_key(const char *family, const ks_result *r, char **buf, size_t *cap) {
  const char *channel = ks_channel_name(r->channel);
  size_t lf = strlen(family), lm = strlen(r->metric), lt = slen(r->tenant), lc = strlen(channel),
         lq = slen(r->queue), la = slen(r->agent_id);
  size_t bound = lf + lm + 2 * (lt + lq + la) + lc + 6 + 22 + 1;
  for (size_t i = 0; i < r->n_labels; i++)
    bound += 2 + 2 * (slen(r->labels[i].key) + slen(r->labels[i].value));
  if (bound > *cap) {
    size_t nc = *cap ? *cap : 128;
    while (nc < bound)
      nc *= 2;
    char *nb = realloc(*buf, nc);
    if (nb == NULL)
      return -1;
    *buf = nb;
    *cap = nc;
  }
  char *p = *buf;
  p = put_raw(p, family, lf);
  *p++ = '/';
  p = put_raw(p, r->metric, lm);
  *p++ = '|';
  p = put_escaped(p, r->tenant, lt);
  *p++ = '|';
  p = put_raw(p, channel, lc);
  *p++ = '|';
  p = put_escaped(p, r->queue, lq);
  *p++ = '|';
  p = put_escaped(p, r->agent_id, la);
  *p++ = '|';
  for (size_t i = 0; i < r->n_labels; i++) {
    if (i)
      *p++ = ',';
    p = put_escaped(p, r->labels[i].key, slen(r->labels[i].key));
    *p++ = '=';
    p = put_escaped(p, r->labels[i].value, slen(r->labels[i].value));
  }
  char num[24], *q = num + sizeof num;
  uint64_t v = r->interval_start_ms < 0 ? (uint64_t)0 - (uint64_t)r->interval_start_ms
                                        : (uint64_t)r->interval_start_ms;
  do {
    *--q = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  if (r->interval_start_ms < 0)
    *--q = '-';
  *--q = '|';
  p = put_raw(p, q, (size_t)(num + sizeof num - q));
  *p = '\0';
  return (long)(p - *buf);
}

/* ---- a direct, single-pass MetricResult encoder -------------------------
 * Writes the fields in field-number order and skips proto3 defaults exactly
 * as protobuf-c's pack does, so the bytes are identical (checked against
 * kpistream__v1__metric_result__pack on 170k operations results), without
 * building a message struct, walking descriptors or sizing it first. */

static inline uint8_t *put_varint(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

/* A string field of n bytes (n = strlen(s), 0 for NULL: omitted, as
 * protobuf-c omits proto3 defaults). */
static inline uint8_t *put_str(uint8_t *p, unsigned field, const char *s, size_t n) {
  if (n == 0)
    return p;
  p = put_varint(p, (uint64_t)field << 3 | 2);
  p = put_varint(p, n);
  memcpy(p, s, n);
  return p + n;
}

static inline uint8_t *put_u64(uint8_t *p, unsigned field, uint64_t v) {
  if (v == 0)
    return p;
  p = put_varint(p, (uint64_t)field << 3);
  return put_varint(p, v);
}

static inline uint8_t *put_double(uint8_t *p, unsigned field, double d, int always) {
  if (d == 0.0 && !always) /* as protobuf-c: -0.0 is a default too */
    return p;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  p = put_varint(p, (uint64_t)field << 3 | 1);
  memcpy(p, &bits, 8);
  return p + 8;
}

long ks_result_encode(const char *family, const char *plugin_version, const ks_result *r,
                      const char *key, uint32_t revision, uint8_t **buf, size_t *cap) {
  size_t nl = r->n_labels < 16 ? r->n_labels : 16;
  /* every length once: for the bound and for the fields */
  size_t l_key = slen(key), l_family = slen(family), l_metric = slen(r->metric),
         l_tenant = slen(r->tenant), l_queue = slen(r->queue), l_agent = slen(r->agent_id),
         l_team = slen(r->team), l_unit = slen(r->unit), l_version = slen(plugin_version);
  size_t kl[16], vl[16];
  size_t bound = 160 + l_key + l_family + l_metric + l_tenant + l_queue + l_agent + l_team +
                 l_unit + l_version;
  for (size_t i = 0; i < nl; i++) {
    kl[i] = slen(r->labels[i].key);
    vl[i] = slen(r->labels[i].value);
    bound += 16 + kl[i] + vl[i];
  }
  if (bound > *cap) {
    size_t nc = *cap ? *cap : 256;
    while (nc < bound)
      nc *= 2;
    uint8_t *nb = realloc(*buf, nc);
    if (nb == NULL)
      return -1;
    *buf = nb;
    *cap = nc;
  }
  uint8_t *p = *buf;
  p = put_str(p, 1, key, l_key);
  p = put_str(p, 2, family, l_family);
  p = put_str(p, 3, r->metric, l_metric);
  p = put_u64(p, 4, (uint64_t)r->interval_start_ms);
  p = put_u64(p, 5, (uint64_t)r->interval_end_ms);
  p = put_str(p, 6, r->tenant, l_tenant);
  p = put_u64(p, 7, (uint64_t)(int64_t)r->channel);
  p = put_str(p, 8, r->queue, l_queue);
  p = put_str(p, 9, r->agent_id, l_agent);
  p = put_str(p, 10, r->team, l_team);
  for (size_t i = 0; i < nl; i++) {
    size_t inner = (kl[i] ? 1 + (kl[i] < 128 ? 1 : 2) + kl[i] : 0) +
                   (vl[i] ? 1 + (vl[i] < 128 ? 1 : 2) + vl[i] : 0);
    *p++ = 11 << 3 | 2;
    p = put_varint(p, inner);
    p = put_str(p, 1, r->labels[i].key, kl[i]);
    p = put_str(p, 2, r->labels[i].value, vl[i]);
  }
  if (r->aggregation == KS_AGG_RATIO) {
    /* no value where the interval's own denominator is <= 0 (a correction) */
    if (r->denominator > 0.0)
      p = put_double(p, 12, r->numerator / r->denominator, 1);
  } else if (r->has_value) {
    p = put_double(p, 12, r->value, 1);
  }
  p = put_double(p, 13, r->numerator, 0);
  p = put_double(p, 14, r->denominator, 0);
  p = put_u64(p, 15, (uint64_t)r->count);
  p = put_u64(p, 16, (uint64_t)(int64_t)r->aggregation);
  p = put_str(p, 17, r->unit, l_unit);
  p = put_u64(p, 18, revision);
  p = put_str(p, 19, plugin_version, l_version);
  if (r->struct_size >=
      KS_SIZE_THROUGH(ks_result, level)) /* 1.2: level; a smaller struct has none */
    p = put_u64(p, 20, (uint64_t)(int64_t)r->level);
  return (long)(p - *buf);
}
