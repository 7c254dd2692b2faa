#include "result_encoder.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/v1/result.pb-c.h"

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

const char *ks_result_validate(const ks_result *r) {
  if (r == NULL || r->struct_size < offsetof(ks_result, unit) + sizeof(const char *))
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
  if (!isfinite(r->numerator) || !isfinite(r->denominator) ||
      (r->aggregation != KS_AGG_RATIO && r->has_value && !isfinite(r->value)))
    return "result with a non-finite number";
  return NULL;
}

typedef struct sbuf {
  char **buf;
  size_t *cap;
  size_t len;
  int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > *b->cap) {
    size_t nc = *b->cap ? *b->cap : 128;
    while (b->len + n + 1 > nc)
      nc *= 2;
    char *nb = realloc(*b->buf, nc);
    if (nb == NULL) {
      b->oom = 1;
      return;
    }
    *b->buf = nb;
    *b->cap = nc;
  }
  memcpy(*b->buf + b->len, s, n);
  b->len += n;
  (*b->buf)[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) {
  sb_put(b, s, strlen(s));
}

static void sb_escaped(sbuf *b, const char *s) {
  if (s == NULL)
    return;
  while (*s) {
    size_t run = strcspn(s, "|,=\\");
    sb_put(b, s, run);
    s += run;
    if (*s) {
      char esc[2] = {'\\', *s++};
      sb_put(b, esc, 2);
    }
  }
}

long ks_result_key(const char *family, const ks_result *r, char **buf, size_t *cap) {
  sbuf b = {buf, cap, 0, 0};
  sb_str(&b, family);
  sb_put(&b, "/", 1);
  sb_str(&b, r->metric);
  sb_put(&b, "|", 1);
  sb_escaped(&b, r->tenant);
  sb_put(&b, "|", 1);
  sb_str(&b, ks_channel_name(r->channel));
  sb_put(&b, "|", 1);
  sb_escaped(&b, r->queue);
  sb_put(&b, "|", 1);
  sb_escaped(&b, r->agent_id);
  sb_put(&b, "|", 1);
  for (size_t i = 0; i < r->n_labels; i++) {
    if (i)
      sb_put(&b, ",", 1);
    sb_escaped(&b, r->labels[i].key);
    sb_put(&b, "=", 1);
    sb_escaped(&b, r->labels[i].value);
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
  sb_put(&b, q, (size_t)(num + sizeof num - q));
  return b.oom ? -1 : (long)b.len;
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

static inline uint8_t *put_str(uint8_t *p, unsigned field, const char *s) {
  if (s == NULL || s[0] == '\0')
    return p;
  size_t n = strlen(s);
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

static inline size_t slen(const char *s) {
  return s ? strlen(s) : 0;
}

long ks_result_encode(const char *family, const char *plugin_version, const ks_result *r,
                      const char *key, uint32_t revision, uint8_t **buf, size_t *cap) {
  size_t nl = r->n_labels < 16 ? r->n_labels : 16;
  size_t bound = 160 + slen(key) + slen(family) + slen(r->metric) + slen(r->tenant) +
                 slen(r->queue) + slen(r->agent_id) + slen(r->team) + slen(r->unit) +
                 slen(plugin_version);
  for (size_t i = 0; i < nl; i++)
    bound += 16 + slen(r->labels[i].key) + slen(r->labels[i].value);
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
  p = put_str(p, 1, key);
  p = put_str(p, 2, family);
  p = put_str(p, 3, r->metric);
  p = put_u64(p, 4, (uint64_t)r->interval_start_ms);
  p = put_u64(p, 5, (uint64_t)r->interval_end_ms);
  p = put_str(p, 6, r->tenant);
  p = put_u64(p, 7, (uint64_t)(int64_t)r->channel);
  p = put_str(p, 8, r->queue);
  p = put_str(p, 9, r->agent_id);
  p = put_str(p, 10, r->team);
  for (size_t i = 0; i < nl; i++) {
    size_t kl = slen(r->labels[i].key), vl = slen(r->labels[i].value);
    size_t inner = (kl ? 1 + (kl < 128 ? 1 : 2) + kl : 0) + (vl ? 1 + (vl < 128 ? 1 : 2) + vl : 0);
    *p++ = 11 << 3 | 2;
    p = put_varint(p, inner);
    p = put_str(p, 1, r->labels[i].key);
    p = put_str(p, 2, r->labels[i].value);
  }
  if (r->aggregation == KS_AGG_RATIO) {
    if (r->denominator != 0.0)
      p = put_double(p, 12, r->numerator / r->denominator, 1);
  } else if (r->has_value) {
    p = put_double(p, 12, r->value, 1);
  }
  p = put_double(p, 13, r->numerator, 0);
  p = put_double(p, 14, r->denominator, 0);
  p = put_u64(p, 15, (uint64_t)r->count);
  p = put_u64(p, 16, (uint64_t)(int64_t)r->aggregation);
  p = put_str(p, 17, r->unit);
  p = put_u64(p, 18, revision);
  p = put_str(p, 19, plugin_version);
  return (long)(p - *buf);
}
