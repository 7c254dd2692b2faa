/*
 * kafka_conf — builds an rd_kafka_conf_t from string-keyed properties and
 * reports the first refused key by name.
 *
 * Ownership: the returned conf is caller-owned until passed to rd_kafka_new.
 */
#ifndef KS_KAFKA_CONF_H
#define KS_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "engine.h"

/* Apply each list in order (later ones win). Returns NULL with errstr set
 * ("kafka property 'x' = 'y': <librdkafka's reason>") on the first error. */
rd_kafka_conf_t *ks_kafka_conf_build(const ks_kv *const *lists, const size_t *counts,
                                     size_t n_lists, char *errstr, size_t errstr_size);

/* Set one property on an existing conf, with the same error format. */
int ks_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size);

/* librdkafka's own checks across properties (e.g. acks with idempotence),
 * which it makes only when a client is created: creates one of `type` from
 * a copy of conf with no brokers (so nothing connects) and destroys it.
 * 0, or KS_ECONFIG with "kafka <what>: <librdkafka's reason>" in errstr. */
int ks_kafka_conf_try(rd_kafka_type_t type, const rd_kafka_conf_t *conf, char *errstr,
                      size_t errstr_size);

/* Route librdkafka's own log lines through kpistream's log format, at most
 * as verbose as level (KS_LOG_*). */
void ks_kafka_conf_route_logs(rd_kafka_conf_t *conf, int level);

#endif
