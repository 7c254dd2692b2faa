#include "dead_letter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/plugin.h"

/* What a header costs in a record at most: name, value and two varint
 * lengths of at most 5 bytes each (librdkafka's serialized size). */
#define HDR_COST(name_len, value_len) ((name_len) + (value_len) + 10)
/* librdkafka counts at most 36 bytes of framing per record
 * (RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD) against message.max.bytes; rounded up. */
#define RECORD_OVERHEAD 64

#define NS       "kpistream."
#define NS_LEN   (sizeof NS - 1)
#define ORIG     "original."
#define ORIG_LEN (sizeof ORIG - 1)

static int in_ns(const char *name) {
  return strncmp(name, NS, NS_LEN) == 0;
}

/* Add an original header, `kpistream.<rest>` as `kpistream.original.<rest>`. */
static int add_original(rd_kafka_headers_t *h, const char *name, const void *value, size_t size) {
  if (!in_ns(name)) {
    rd_kafka_header_add(h, name, -1, value, value ? (ssize_t)size : 0);
    return 0;
  }
  size_t n = strlen(name) + ORIG_LEN + 1;
  char *renamed = malloc(n);
  if (renamed == NULL)
    return KS_ENOMEM;
  snprintf(renamed, n, "%s%s%s", NS, ORIG, name + NS_LEN);
  rd_kafka_header_add(h, renamed, -1, value, value ? (ssize_t)size : 0);
  free(renamed);
  return 0;
}

static size_t str_cost(const char *name, const char *value) {
  return HDR_COST(strlen(name), strlen(value));
}

int ks_dlq_record_build(ks_dlq_record *out, const ks_dlq_source *src, const char *reason,
                        size_t max_bytes, char *errstr, size_t errstr_size) {
  memset(out, 0, sizeof *out);
  char part[16], off[32], vsize[32], ksize[32], dropped[32];
  snprintf(part, sizeof part, "%" PRId32, src->partition);
  snprintf(off, sizeof off, "%" PRId64, src->offset);
  snprintf(vsize, sizeof vsize, "%zu", src->value_len);
  snprintf(ksize, sizeof ksize, "%zu", src->key_len);
  /* what the host's own headers cost, the markers of a bounded record
   * reserved at their largest */
  size_t own = str_cost(NS "reason", reason) + str_cost(NS "source.topic", src->topic) +
               str_cost(NS "source.partition", part) + str_cost(NS "source.offset", off) +
               (src->plugin ? str_cost(NS "plugin", src->plugin) : 0);
  size_t room = SIZE_MAX;
  if (max_bytes) {
    own += HDR_COST(sizeof NS "truncated" - 1, 20) + HDR_COST(sizeof NS "truncated.key" - 1, 20) +
           HDR_COST(sizeof NS "truncated.headers" - 1, 20);
    if (max_bytes < RECORD_OVERHEAD + own) {
      snprintf(errstr, errstr_size,
               "dead letter of %s [%" PRId32 "] offset %" PRId64
               ": message.max.bytes %zu leaves no room for its %zu bytes of kpistream.* headers",
               src->topic, src->partition, src->offset, max_bytes, own);
      return KS_EINVAL;
    }
    room = max_bytes - RECORD_OVERHEAD - own;
    out->bounded = 1;
  }
  size_t n_orig = src->headers ? rd_kafka_header_cnt(src->headers) : 0;
  out->headers = rd_kafka_headers_new(n_orig + 8);
  if (out->headers == NULL)
    goto nomem;
  /* in order of priority: key, original headers, value */
  out->key = src->key;
  out->key_len = src->key && src->key_len > room ? room : src->key_len;
  room -= out->key_len;
  for (size_t i = 0; i < n_orig; i++) {
    const char *name;
    const void *value;
    size_t size;
    if (rd_kafka_header_get_all(src->headers, i, &name, &value, &size) != 0)
      break;
    size_t cost = HDR_COST(strlen(name) + (in_ns(name) ? ORIG_LEN : 0), size);
    if (cost > room) {
      out->headers_dropped++;
      continue;
    }
    room -= cost;
    if (add_original(out->headers, name, value, size) != 0)
      goto nomem;
  }
  out->value = src->value;
  out->value_len = src->value_len > room ? room : src->value_len;
  if (src->plugin)
    rd_kafka_header_add(out->headers, NS "plugin", -1, src->plugin, -1);
  rd_kafka_header_add(out->headers, NS "reason", -1, reason, -1);
  rd_kafka_header_add(out->headers, NS "source.topic", -1, src->topic, -1);
  rd_kafka_header_add(out->headers, NS "source.partition", -1, part, -1);
  rd_kafka_header_add(out->headers, NS "source.offset", -1, off, -1);
  if (out->bounded) {
    rd_kafka_header_add(out->headers, NS "truncated", -1, vsize, -1);
    if (out->key_len < src->key_len)
      rd_kafka_header_add(out->headers, NS "truncated.key", -1, ksize, -1);
    if (out->headers_dropped) {
      snprintf(dropped, sizeof dropped, "%zu", out->headers_dropped);
      rd_kafka_header_add(out->headers, NS "truncated.headers", -1, dropped, -1);
    }
  }
  return 0;
nomem:
  ks_dlq_record_free(out);
  snprintf(errstr, errstr_size, "dead letter of %s [%" PRId32 "] offset %" PRId64 ": out of memory",
           src->topic, src->partition, src->offset);
  return KS_ENOMEM;
}

void ks_dlq_record_free(ks_dlq_record *rec) {
  if (rec->headers)
    rd_kafka_headers_destroy(rec->headers);
  rec->headers = NULL;
}

static int send_record(ks_producer *p, const char *topic, ks_dlq_record *rec, void *opaque,
                       ks_dlq_record *sent, char *errstr, size_t errstr_size) {
  *sent = *rec;
  sent->headers = NULL; /* the producer's from here on, sent or not */
  return ks_producer_send(p, topic, rec->key, rec->key_len, rec->value, rec->value_len,
                          rec->headers, opaque, errstr, errstr_size);
}

int ks_dlq_send(ks_producer *p, const char *topic, const ks_dlq_source *src, const char *reason,
                void *opaque, ks_dlq_record *sent, char *errstr, size_t errstr_size) {
  ks_dlq_record rec;
  int rc = ks_dlq_record_build(&rec, src, reason, 0, errstr, errstr_size);
  if (rc == 0)
    rc = send_record(p, topic, &rec, opaque, sent, errstr, errstr_size);
  if (rc != KS_EMSGSIZE)
    return rc;
  /* larger than message.max.bytes: never a reason to stop the service */
  rc =
      ks_dlq_record_build(&rec, src, reason, ks_producer_max_message_bytes(p), errstr, errstr_size);
  if (rc == 0)
    rc = send_record(p, topic, &rec, opaque, sent, errstr, errstr_size);
  return rc;
}

int ks_dlq_describe(const rd_kafka_message_t *dr, char *buf, size_t size) {
  rd_kafka_headers_t *h;
  const void *t, *p, *o;
  size_t tl, pl, ol;
  if (rd_kafka_message_headers(dr, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_header_get_last(h, NS "source.topic", &t, &tl) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_header_get_last(h, NS "source.partition", &p, &pl) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_header_get_last(h, NS "source.offset", &o, &ol) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return 0;
  snprintf(buf, size, "%.*s [%.*s] offset %.*s", (int)tl, (const char *)t, (int)pl, (const char *)p,
           (int)ol, (const char *)o);
  return 1;
}
