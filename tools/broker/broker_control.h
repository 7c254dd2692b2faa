/*
 * broker_control — the fault-injection channel of `kpistream broker`
 * (--control PATH, --control-ack PATH).
 *
 * Reads one command per line from a FIFO (created with mkfifo when PATH does
 * not exist; reopened each time its last writer closes, so several
 * `echo CMD > PATH` work one after another) or, once, from an existing
 * regular file, and applies them in order to the mock cluster with
 * librdkafka's mock API:
 *
 *   down ID | up ID              rd_kafka_mock_broker_set_down / _up
 *   rtt ID MS                    rd_kafka_mock_broker_set_rtt
 *   leader TOPIC PARTITION ID    rd_kafka_mock_partition_set_leader
 *   errors API COUNT ERRNAME     rd_kafka_mock_push_request_errors_array
 *   errors API 0                 rd_kafka_mock_clear_request_errors
 *   sync                         appends "ok N" (N-th sync) to --control-ack
 *
 * Each command is logged on stderr as "broker: control: CMD: ok" or with
 * the reason it failed; a bad command is ignored. Blank lines and lines
 * starting with '#' are skipped.
 *
 * Everything runs on the broker's libuv loop, except the mock calls
 * themselves: they wait for the mock cluster's thread, so each runs on a
 * libuv worker thread, one at a time, in order.
 *
 * Ownership: the returned object is owned by the caller and must outlive
 * the loop run: ks_broker_control_stop() closes its handles (the loop then
 * ends once a command in progress finishes); ks_broker_control_free(),
 * after uv_run() has returned, removes a FIFO it created and frees it.
 */
#ifndef KS_BROKER_CONTROL_H
#define KS_BROKER_CONTROL_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

typedef struct ks_broker_control ks_broker_control;

/* Opens (creating if needed) the channel at path and starts reading it on
 * loop. bootstrap is the cluster's bootstrap list; n_brokers its size (ids
 * 1..n_brokers). ack_path may be NULL; when set, the file is truncated now.
 * Returns 0, or -1 after printing the reason on stderr; either way a
 * non-NULL *out is to be stopped and freed like a started channel. mc is
 * borrowed. */
int ks_broker_control_start(ks_broker_control **out, uv_loop_t *loop, rd_kafka_mock_cluster_t *mc,
                            const char *bootstrap, int n_brokers, const char *path,
                            const char *ack_path);

/* Stops reading and drops commands not yet applied. NULL is fine. */
void ks_broker_control_stop(ks_broker_control *c);

/* After the loop has ended. NULL is fine. */
void ks_broker_control_free(ks_broker_control *c);

#endif
