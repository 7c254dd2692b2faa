/*
 * kafka_producer — librdkafka producer driven by a libuv loop: delivery
 * reports are served when librdkafka signals its queue through a pipe that
 * a uv_poll_t watches (no busy polling).
 *
 * Ownership: the caller owns the ks_producer (ks_producer_new /
 * ks_producer_close then ks_producer_free after the loop ran the close
 * callbacks). The producer owns its rd_kafka_t, topic handles and uv handles.
 * Message payloads are copied by librdkafka, except ks_producer_give_to's,
 * handed over without a copy; header lists passed to ks_producer_send are
 * owned by the producer from then on.
 */
#ifndef KS_KAFKA_PRODUCER_H
#define KS_KAFKA_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "kpistream/plugin.h"
#include "kv.h"

typedef struct ks_producer ks_producer;

/* ks_producer_send's refusal of a message larger than the producer's
 * message.max.bytes (as errno's EMSGSIZE, like KS_EINVAL and KS_ENOMEM). */
#define KS_EMSGSIZE (-90)

/* Called for each delivery report, on the loop thread. */
typedef void (*ks_delivery_fn)(void *ud, void *msg_opaque, rd_kafka_resp_err_t err,
                               const rd_kafka_message_t *msg);

/* The producer's configuration: kpistream's defaults, then the lists (later
 * lists win). NULL on a refused property, with the reason in errstr and
 * *bad (when bad is not NULL) pointing at the list entry at fault. The conf
 * is caller-owned (rd_kafka_conf_destroy or rd_kafka_new). */
rd_kafka_conf_t *ks_producer_conf_new(const ks_kv *const *lists, const size_t *counts,
                                      size_t n_lists, const ks_kv **bad, char *errstr,
                                      size_t errstr_size);

/* Create an idempotent producer from property lists (later lists win). */
int ks_producer_new(ks_producer **out, uv_loop_t *loop, const ks_kv *const *lists,
                    const size_t *counts, size_t n_lists, int log_level, ks_delivery_fn dr,
                    void *dr_ud, char *errstr, size_t errstr_size);

/* Queue one message. Blocks briefly (serving delivery reports) while the
 * local queue is full. Returns 0, KS_EMSGSIZE (key, value and headers
 * exceed message.max.bytes) or KS_EKAFKA (logged by the caller). */
int ks_producer_send(ks_producer *p, const char *topic, const void *key, size_t keylen,
                     const void *value, size_t valuelen, rd_kafka_headers_t *headers, void *opaque,
                     char *errstr, size_t errstr_size);

/* The same with the record's Kafka timestamp (CreateTime) set to
 * timestamp_ms (0: the time of the call, as ks_producer_send). */
int ks_producer_send_at(ks_producer *p, const char *topic, const void *key, size_t keylen,
                        const void *value, size_t valuelen, rd_kafka_headers_t *headers,
                        int64_t timestamp_ms, void *opaque, char *errstr, size_t errstr_size);

/* The same, to an explicit partition, handing the malloc'd *value over
 * without a copy (checkpoint chunks; RD_KAFKA_MSG_F_FREE). On 0 librdkafka
 * owns it (freed once delivered or failed, after the delivery report) and
 * *value is set to NULL; on a refusal (KS_EMSGSIZE, KS_EKAFKA) *value is
 * untouched and still the caller's to free. */
int ks_producer_give_to(ks_producer *p, const char *topic, int32_t partition, const void *key,
                        size_t keylen, uint8_t **value, size_t valuelen, void *opaque, char *errstr,
                        size_t errstr_size);

/* Serve pending delivery reports without blocking. */
void ks_producer_poll(ks_producer *p);

/* Wait up to timeout_ms for every queued message to be delivered.
 * Returns 0, or KS_EKAFKA on timeout. */
int ks_producer_flush(ks_producer *p, int timeout_ms);

/* The producer's message.max.bytes: the largest record it accepts,
 * framing, key, value and headers included. */
size_t ks_producer_max_message_bytes(ks_producer *p);

/* Messages queued but not yet delivered. */
int ks_producer_outq_len(ks_producer *p);
/* 1 while every broker is unreachable (librdkafka's error callback said so)
 * and no delivery was acknowledged since; 0 otherwise (kafka_conf.h). */
int ks_producer_brokers_down(const ks_producer *p);

rd_kafka_t *ks_producer_handle(ks_producer *p);

/* Stop watching (uv handles closed asynchronously); then, once the loop has
 * run, ks_producer_free destroys the client. */
void ks_producer_close(ks_producer *p);
void ks_producer_free(ks_producer *p);

#endif
