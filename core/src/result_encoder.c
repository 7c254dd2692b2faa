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

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_escaped(sbuf *b, const char *s) {
  if (s == NULL)
    return;
  for (const char *p = s; *p; p++) {
    if (*p == '|' || *p == ',' || *p == '=' || *p == '\\')
      sb_put(b, "\\", 1);
    sb_put(b, p, 1);
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
  char num[32];
  snprintf(num, sizeof num, "|%" PRId64, r->interval_start_ms);
  sb_str(&b, num);
  return b.oom ? -1 : (long)b.len;
}

static char *s_or_empty(const char *s) { return (char *)(s ? s : ""); }

long ks_result_encode(const char *family, const char *plugin_version, const ks_result *r,
                      const char *key, uint32_t revision, uint8_t **buf, size_t *cap) {
  Kpistream__V1__MetricResult m = KPISTREAM__V1__METRIC_RESULT__INIT;
  Kpistream__V1__Label labels_store[16];
  Kpistream__V1__Label *label_ptrs[16];
  m.key = (char *)key;
  m.family = (char *)family;
  m.metric = (char *)r->metric;
  m.interval_start_ms = r->interval_start_ms;
  m.interval_end_ms = r->interval_end_ms;
  m.tenant = s_or_empty(r->tenant);
  m.channel = (Kpistream__V1__Channel)r->channel;
  m.queue = s_or_empty(r->queue);
  m.agent_id = s_or_empty(r->agent_id);
  m.team = s_or_empty(r->team);
  size_t nl = r->n_labels < 16 ? r->n_labels : 16;
  for (size_t i = 0; i < nl; i++) {
    Kpistream__V1__Label l = KPISTREAM__V1__LABEL__INIT;
    l.key = s_or_empty(r->labels[i].key);
    l.value = s_or_empty(r->labels[i].value);
    labels_store[i] = l;
    label_ptrs[i] = &labels_store[i];
  }
  m.n_labels = nl;
  m.labels = nl ? label_ptrs : NULL;
  if (r->aggregation == KS_AGG_RATIO) {
    if (r->denominator != 0.0) {
      m.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
      m.value = r->numerator / r->denominator;
    }
  } else if (r->has_value) {
    m.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
    m.value = r->value;
  }
  m.numerator = r->numerator;
  m.denominator = r->denominator;
  m.count = r->count;
  m.aggregation = (Kpistream__V1__Aggregation)r->aggregation;
  m.unit = s_or_empty(r->unit);
  m.revision = revision;
  m.plugin_version = s_or_empty(plugin_version);
  size_t n = kpistream__v1__metric_result__get_packed_size(&m);
  if (n > *cap) {
    size_t nc = *cap ? *cap : 256;
    while (nc < n)
      nc *= 2;
    uint8_t *nb = realloc(*buf, nc);
    if (nb == NULL)
      return -1;
    *buf = nb;
    *cap = nc;
  }
  return (long)kpistream__v1__metric_result__pack(&m, *buf);
}
