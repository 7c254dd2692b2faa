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

#include "kpistream/plugin.h"
#include "kv.h"

/* Apply each list in order (later ones win). Returns NULL with errstr set
 * ("kafka property 'x' = 'y': <librdkafka's reason>") on the first error. */
rd_kafka_conf_t *ks_kafka_conf_build(const ks_kv *const *lists, const size_t *counts,
                                     size_t n_lists, char *errstr, size_t errstr_size);

/* A tool's conf: the lists (its defaults, a configuration file's), then the
 * command line's -X "key=value" strings (later ones win), with the same
 * error format. */
rd_kafka_conf_t *ks_kafka_conf_build_cli(const ks_kv *const *lists, const size_t *counts,
                                         size_t n_lists, const char *const *props, size_t n_props,
                                         char *errstr, size_t errstr_size);

/* Set one property on an existing conf, with the same error format. */
int ks_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size);

/*
 * Broker reachability of one client, told by librdkafka's error callback:
 * when every broker is down (RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) it logs
 * one ERROR line at once, then one every KS_BROKER_DOWN_REPEAT_MS while the
 * errors go on, and an INFO line when the client works again (a message
 * fetched or delivered). Other errors are logged as warnings, at most one
 * per KS_BROKER_DOWN_REPEAT_MS (librdkafka's own log lines say more).
 * librdkafka keeps reconnecting by itself; nothing here gives up.
 * Used from the thread serving the client's queue (the loop thread).
 */
#define KS_BROKER_DOWN_REPEAT_MS 30000

typedef struct ks_broker_watch {
  const char *client; /* "consumer", "producer" (static) */
  int log_level;
  int down;               /* every broker unreachable, and no success since */
  uint64_t down_since_ms; /* uv_hrtime() / 1e6 */
  uint64_t last_said_ms;
  uint64_t quiet; /* errors not logged since last_said_ms */
} ks_broker_watch;

void ks_broker_watch_init(ks_broker_watch *w, const char *client, int log_level);
/* From the client's error_cb. */
void ks_broker_watch_error(ks_broker_watch *w, int err, const char *reason);
/* The client worked (a message fetched, a delivery acknowledged): logs
 * that the brokers are back if they were down. Cheap when they were not. */
void ks_broker_watch_up(ks_broker_watch *w);
static inline void ks_broker_watch_ok(ks_broker_watch *w) {
  if (w->down)
    ks_broker_watch_up(w);
}
/* Milliseconds every broker has been unreachable, 0 when not. */
uint64_t ks_broker_watch_down_ms(const ks_broker_watch *w);
/* librdkafka's own checks across properties (e.g. acks with idempotence),
 * which it makes only when a client is created: creates one of `type` from
 * a copy of conf with no brokers (so nothing connects) and destroys it.
 * 0, or KS_ECONFIG with "kafka <what>: <librdkafka's reason>" in errstr. */
int ks_kafka_conf_try(rd_kafka_type_t type, const rd_kafka_conf_t *conf, char *errstr,
                      size_t errstr_size);

/* Route librdkafka's own log lines through kpistream's log format, at most
 * as verbose as level (KS_LOG_*, or'd with KS_LOG_JSON for JSON lines). */
void ks_kafka_conf_route_logs(rd_kafka_conf_t *conf, int level);

#endif
