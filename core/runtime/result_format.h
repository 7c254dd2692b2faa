/*
 * result_format — the wire formats of result topics (config `output.format`,
 * docs/warehouses.md), and the way back from each of them to the protobuf:
 *
 *   protobuf            the kpistream.v1.MetricResult bytes of result_encoder.c
 *                       (unchanged: the default)
 *   json                one JSON object per result (jansson's bytes, written
 *                       directly; jansson reads it back), fields in a
 *                       fixed order, snake_case names, enums by their names
 *   confluent_protobuf  the Confluent Schema Registry wire format: byte 0x00,
 *                       the schema id (big-endian 4 bytes), the message-index
 *                       array of MetricResult ([1]: zigzag varints 02 02),
 *                       then the protobuf bytes
 *
 * Every result record carries a `content-type` header naming its format and
 * message type (ks_format_content_type), and its Kafka timestamp is the
 * result's interval end (ks_result_send). Dead letters and checkpoints do not
 * come here.
 *
 * Ownership: output buffers are caller-owned and grown with realloc; the
 * caller frees them. Nothing is kept between calls.
 */
#ifndef KS_RESULT_FORMAT_H
#define KS_RESULT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "kafka_producer.h"
#include "kpistream/v1/result.pb-c.h"

typedef enum ks_format {
  KS_FORMAT_PROTOBUF = 0,
  KS_FORMAT_JSON = 1,
  KS_FORMAT_CONFLUENT_PROTOBUF = 2,
} ks_format;

/* The header every result record carries. */
#define KS_CONTENT_TYPE_HEADER "content-type"

/* The message index of MetricResult in result.proto (Label is 0), as the
 * Confluent framing names it. */
#define KS_CONFLUENT_MESSAGE_INDEX 1
/* Bytes before the protobuf in the Confluent framing: magic, id, indexes. */
#define KS_CONFLUENT_PREFIX_LEN 7

/* "protobuf", "json", "confluent_protobuf" to *out: 0, or KS_EINVAL. */
int ks_format_parse(const char *name, ks_format *out);
const char *ks_format_name(ks_format f);

/* The content-type header's value, e.g.
 * "application/json; message=kpistream.v1.MetricResult". */
const char *ks_format_content_type(ks_format f);

/* The format a content-type header value (n bytes, not NUL-terminated)
 * names: 0, or KS_EINVAL when it names none of them. */
int ks_format_from_content_type(const void *value, size_t n, ks_format *out);

/* A value's format from its first byte, for records without the header:
 * '{' is JSON, 0x00 the Confluent magic byte, anything else protobuf (a
 * MetricResult starts with a field tag, never 0x00 or '{'). */
ks_format ks_format_sniff(const void *value, size_t len);

/* The MetricResult protobuf bytes pb (len bytes) in format f, into *buf.
 * Returns the length, or KS_ENOMEM, or KS_EINVAL (pb is not a
 * MetricResult, or for JSON a string of it is not UTF-8) with the reason in
 * errstr. For KS_FORMAT_PROTOBUF the bytes are copied as they are. */
long ks_format_encode(ks_format f, uint32_t schema_id, const void *pb, size_t len, uint8_t **buf,
                      size_t *cap, char *errstr, size_t errstr_size);

/* The reverse: a value in format f to MetricResult protobuf bytes in *buf
 * (JSON is packed by protobuf-c; the Confluent prefix is checked and cut,
 * its schema id stored in *schema_id when not NULL). Returns the length, or
 * KS_ENOMEM, or KS_EINVAL with the reason (field and what is wrong) in
 * errstr. */
long ks_format_decode(ks_format f, const void *value, size_t len, uint8_t **buf, size_t *cap,
                      uint32_t *schema_id, char *errstr, size_t errstr_size);

/* The first string field of m that is not well-formed UTF-8 ("key",
 * "queue", ..., "labels"), or NULL when all are: proto3 requires UTF-8, and
 * JSON and PostgreSQL's text refuse anything else. */
const char *ks_format_non_utf8_field(const Kpistream__V1__MetricResult *m);

/* Epoch milliseconds as RFC 3339 UTC with milliseconds,
 * "2026-11-23T10:00:00.000Z", into buf (at least 32 bytes); returns the
 * length, 0 when it cannot be written. */
size_t ks_format_rfc3339(int64_t ms, char *buf, size_t size);

/* Send one result (pb: its protobuf bytes) to topic in format f, with the
 * content-type header and timestamp_ms (the interval end) as its Kafka
 * timestamp (CreateTime). buf and cap: the caller's scratch buffer. Returns
 * as ks_producer_send. */
int ks_result_send(ks_producer *p, const char *topic, ks_format f, uint32_t schema_id,
                   const void *key, size_t keylen, const void *pb, size_t len, int64_t timestamp_ms,
                   uint8_t **buf, size_t *cap, void *opaque, char *errstr, size_t errstr_size);

#endif
