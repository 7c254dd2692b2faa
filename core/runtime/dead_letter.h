/*
 * dead_letter — the record that carries a refused input message to the
 * dead-letter topic (docs/schema.md, "Dead-letter messages").
 *
 * A dead letter is the original key and value with the original headers,
 * those in the `kpistream.` namespace renamed `kpistream.original.<rest>`
 * (so no input can forge the host's own), followed by the authoritative
 * kpistream.reason, kpistream.source.topic, kpistream.source.partition and
 * kpistream.source.offset (and kpistream.plugin when a plugin failed on
 * it). When the producer refuses that record as larger
 * than its message.max.bytes, a bounded record goes instead: the same
 * headers plus kpistream.truncated=<original value size>, and, in order of
 * priority, as much as fits of the key (kpistream.truncated.key=<original
 * key size> when cut), of the original headers (each whole or not at all;
 * kpistream.truncated.headers=<how many were left out>) and of the value
 * (its first bytes).
 *
 * Ownership: a ks_dlq_record borrows key and value from its source and owns
 * its header list until ks_producer_send takes it (or ks_dlq_record_free).
 */
#ifndef KS_DEAD_LETTER_H
#define KS_DEAD_LETTER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kafka_producer.h"

/* The refused input message. */
typedef struct ks_dlq_source {
  const char *topic;
  int32_t partition;
  int64_t offset;
  const void *key; /* NULL: no key */
  size_t key_len;
  const void *value;
  size_t value_len;
  const rd_kafka_headers_t *headers; /* NULL: none */
  const char *plugin;                /* the plugin that failed on it (kpistream.plugin); NULL */
} ks_dlq_source;

typedef struct ks_dlq_record {
  const void *key; /* borrowed from the source; NULL: no key */
  size_t key_len;
  const void *value; /* borrowed from the source */
  size_t value_len;
  rd_kafka_headers_t *headers; /* owned */
  int bounded;                 /* a bounded record (kpistream.truncated) */
  size_t headers_dropped;      /* original headers left out of a bounded record */
} ks_dlq_record;

/* Build the dead letter of src refused with reason: the whole record when
 * max_bytes is 0, else the bounded record, which librdkafka accepts under
 * message.max.bytes = max_bytes. 0, or KS_EINVAL (max_bytes too small for
 * the kpistream.* headers alone) / KS_ENOMEM with errstr. */
int ks_dlq_record_build(ks_dlq_record *out, const ks_dlq_source *src, const char *reason,
                        size_t max_bytes, char *errstr, size_t errstr_size);
void ks_dlq_record_free(ks_dlq_record *rec);

/* Produce the dead letter of src to topic (delivery report with opaque):
 * the whole record or, when the producer refuses it as too large, the
 * bounded record (described in *sent: key, value sizes and what was left
 * out; its headers are the producer's). 0, or a negative error with errstr. */
int ks_dlq_send(ks_producer *p, const char *topic, const ks_dlq_source *src, const char *reason,
                void *opaque, ks_dlq_record *sent, char *errstr, size_t errstr_size);

/* For the delivery report of a dead letter: "events.voice [0] offset 3"
 * from its kpistream.source.* headers into buf, and 1; 0 for any other
 * message. */
int ks_dlq_describe(const rd_kafka_message_t *dr, char *buf, size_t size);

#endif
