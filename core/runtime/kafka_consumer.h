/*
 * kafka_consumer — librdkafka high-level consumer (consumer group) driven
 * by a libuv loop without busy polling.
 *
 * Every assigned partition is read through its own librdkafka queue
 * (rd_kafka_queue_get_partition, forwarding to the consumer queue removed
 * before the partition is assigned, so no message of it ever reaches the
 * consumer queue): the caller pulls from a partition only what it needs
 * (ks_consumer_pull), the rest waits in librdkafka, and librdkafka's fetcher
 * stops fetching a partition whose queue holds queued.min.messages messages
 * or queued.max.messages.kbytes (per partition, since the queues are not
 * shared). The consumer queue carries only rebalances and errors.
 *
 * librdkafka writes to a pipe when any of these queues goes from empty (or
 * served) to non-empty; a uv_poll_t wakes the loop, which serves the
 * consumer queue (rd_kafka_consume_batch_queue, on_batch) and then calls
 * on_ready. When either stopped at its budget it resumes from a uv_idle_t,
 * so timers, signals and delivery reports keep running under load. A
 * 500 ms uv_timer_t also polls, so an idle consumer keeps its group
 * membership (max.poll.interval.ms).
 *
 * Rebalances arrive inside the consume call, on the loop thread, and are
 * handed to the handlers before the assignment changes; the partition
 * queues are opened after on_assign and closed after on_revoke.
 *
 * Ownership: the caller owns the ks_consumer (new / close / free after the
 * loop ran the close callbacks); the consumer owns the partition queues.
 * Messages passed to on_batch are owned by the consumer and destroyed after
 * the callback returns; messages from ks_consumer_pull are the caller's.
 * The topic names given to ks_consumer_subscribe are borrowed until free.
 */
#ifndef KS_KAFKA_CONSUMER_H
#define KS_KAFKA_CONSUMER_H

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "kpistream/plugin.h"
#include "kv.h"

typedef struct ks_consumer ks_consumer;

typedef struct ks_consumer_handlers {
  /* What the consumer queue delivers: errors (m->err set), and the
   * messages and events of a partition whose own queue could not be
   * opened (logged). The handler may keep a message by setting its slot
   * to NULL; it then owns it (rd_kafka_message_destroy). */
  void (*on_batch)(void *ud, rd_kafka_message_t **msgs, size_t n);
  /* Called with the new partitions before they are assigned; may set each
   * element's offset (e.g. from a restored checkpoint) to start there. */
  void (*on_assign)(void *ud, rd_kafka_topic_partition_list_t *parts);
  /* Called with the partitions being taken away, before they are. */
  void (*on_revoke)(void *ud, const rd_kafka_topic_partition_list_t *parts);
  /* A partition queue may have news (or on_ready asked to be called
   * again): pull what is needed. Returns 1 to be called again soon (it
   * stopped at a budget), else 0. */
  int (*on_ready)(void *ud);
} ks_consumer_handlers;

/* The consumer's configuration: kpistream's defaults, the lists (later
 * lists win), then the three properties kpistream manages. NULL when a
 * property is refused by librdkafka or by kpistream (one it manages:
 * enable.auto.commit, enable.auto.offset.store, enable.partition.eof; an
 * assignment strategy other than range), with the reason in errstr and *bad
 * (when bad is not NULL) pointing at the list entry at fault. The conf is
 * caller-owned (rd_kafka_conf_destroy or rd_kafka_new). */
rd_kafka_conf_t *ks_consumer_conf_new(const ks_kv *const *lists, const size_t *counts,
                                      size_t n_lists, const ks_kv **bad, char *errstr,
                                      size_t errstr_size);

int ks_consumer_new(ks_consumer **out, uv_loop_t *loop, const ks_kv *const *lists,
                    const size_t *counts, size_t n_lists, int log_level,
                    const ks_consumer_handlers *h, void *ud, char *errstr, size_t errstr_size);

/* Check that every topic exists and all have the same partition count (the
 * co-partitioning contract). Sets *partitions. Waits up to timeout_ms for
 * metadata. Returns 0 or KS_ECONFIG/KS_EKAFKA with the reason in errstr. */
int ks_consumer_check_topics(ks_consumer *c, char *const *topics, size_t n, int timeout_ms,
                             int32_t *partitions, char *errstr, size_t errstr_size);

/* Subscribe to topics (indexed 0..n-1 in ks_consumer_pull), each with
 * `partitions` partitions (ks_consumer_check_topics). */
int ks_consumer_subscribe(ks_consumer *c, char *const *topics, size_t n, int32_t partitions,
                          char *errstr, size_t errstr_size);

/* Up to max messages and events (m->err set, e.g. PARTITION_EOF) of
 * (topic index, partition), in order, without waiting; the caller owns each
 * (rd_kafka_message_destroy). 0 when none is ready or the partition is not
 * assigned. */
size_t ks_consumer_pull(ks_consumer *c, uint32_t topic, int32_t partition,
                        rd_kafka_message_t **msgs, size_t max);

/* Commit explicit offsets (next offset to read). async != 0 returns at once. */
int ks_consumer_commit(ks_consumer *c, const rd_kafka_topic_partition_list_t *offsets, int async);

/* Stop reading (handles closed asynchronously) and leave the group: blocks
 * until librdkafka has revoked the assignment (handlers are called), at most
 * timeout_ms (a broker that is gone does not hold the process; the handle is
 * then destroyed without librdkafka's own, unbounded, close). */
void ks_consumer_close(ks_consumer *c, int timeout_ms);
void ks_consumer_free(ks_consumer *c);

rd_kafka_t *ks_consumer_handle(ks_consumer *c);
/* 1 while every broker is unreachable (librdkafka's error callback said so)
 * and nothing was fetched since; 0 otherwise (kafka_conf.h's watch). */
int ks_consumer_brokers_down(const ks_consumer *c);

#endif
