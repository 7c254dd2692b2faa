/*
 * merge — a task's input partitions merged in event-time order.
 *
 * Each assigned partition buffers the messages the consumer delivered. A
 * task processes the buffered message with the least (event time, topic
 * index) as long as every one of its partitions has a buffered message or is
 * known to have none coming (at its end in a bounded run, or quiet for
 * intervals.idle_timeout). This is a k-way merge whose result depends only
 * on each partition's sequence, never on how fetches interleave: a restarted
 * instance, or another instance after a rebalance, processes the same events
 * in the same order and publishes the same results (Kafka Streams picks the
 * least head timestamp of a task the same way).
 *
 * Only a time the task will accept orders a message. A head whose time is
 * unreadable, outside the decoder's range (ks_event_time_in_range) or beyond
 * the task's clock-skew bound (the time_limit callback, ks_engine_time_limit,
 * evaluated when it is a head, against the same task state the engine then
 * checks) goes first: it is refused and dead-lettered at once, so it neither
 * holds the messages behind it nor lets the task's other partitions run
 * ahead of them.
 *
 * A partition at its end in a bounded run stops holding the task's watermark
 * (the set_idle callback) only once its buffered messages are processed.
 *
 * Read-ahead is pulled, not pushed: when a partition's buffer is empty the
 * drain asks for more (the fill callback: the runner takes at most
 * KS_MERGE_PULL messages from the partition's own librdkafka queue), so
 * the merge holds at most one pull per partition and the rest waits in
 * librdkafka, whose fetcher stops at its per-partition bound
 * (queued.max.messages.kbytes, queued.min.messages). A partition is pulled
 * only when its buffer is empty, and what a drain does depends only on
 * what each partition's sequence holds, never on how much a pull returned.
 *
 * The merge knows no Kafka: a message is an opaque pointer with its payload
 * (read once, for its event time, when it is pushed) and its record
 * timestamp; the caller processes and frees it through the callbacks.
 *
 * Ownership: the merge owns its partitions' buffers and, from a successful
 * ks_merge_push() on, the messages in them until it hands each to process
 * (which then owns it) or to drop (revoke, shutdown, ks_merge_free).
 */
#ifndef KS_MERGE_H
#define KS_MERGE_H

#include <stddef.h>
#include <stdint.h>

#define KS_MERGE_PULL 256 /* messages a fill takes from a partition at most */

/* A buffered message, the event time it is ordered by (INT64_MIN: none the
 * decoder accepts) and its record timestamp (-1: none). */
typedef struct ks_merge_ent {
  void *msg;
  int64_t t;
  int64_t rec;
} ks_merge_ent;

/* One input partition (topic index, partition = task). The flags are the
 * merge's; its user reads them. */
typedef struct ks_merge_part {
  int32_t partition;
  uint32_t topic;
  int assigned;
  int eof;         /* at its end (RD_KAFKA_RESP_ERR__PARTITION_EOF) */
  int quiet;       /* no message for intervals.idle_timeout (ks_merge_quiet) */
  ks_merge_ent *q; /* ring buffer of messages not yet processed */
  size_t q_head, q_len, q_cap;
} ks_merge_part;

typedef struct ks_merge_ops {
  /* Process msg of p (the callee owns it from now on); nonzero stops the
   * drain (the run is stopping). */
  int (*process)(void *ud, ks_merge_part *p, void *msg);
  /* Free a message that is never processed (revoke, shutdown). */
  void (*drop)(void *ud, void *msg);
  /* The latest event time task accepts now for a message whose record
   * timestamp is rec (ks_engine_time_limit). */
  int64_t (*time_limit)(void *ud, int32_t task, int64_t rec);
  /* (topic, task) no longer holds its task's watermark (ks_engine_set_idle). */
  void (*set_idle)(void *ud, int32_t task, uint32_t topic);
  /* p's buffer is empty: push what its partition has ready (at most
   * KS_MERGE_PULL messages, with ks_merge_push; its end with ks_merge_eof).
   * NULL: the caller pushes. */
  void (*fill)(void *ud, ks_merge_part *p);
  void *ud;
} ks_merge_ops;

typedef struct ks_merge {
  ks_merge_ops ops;
  size_t n_topics;
  int32_t n_partitions;
  int bounded;          /* --until-eof: a partition at its end has no more data */
  int32_t next_task;    /* where ks_merge_drain_all starts (the one it stopped at) */
  ks_merge_part *parts; /* [topic * n_partitions + partition] */
} ks_merge;

/* n_topics x n_partitions partitions, none assigned. 0 or KS_ENOMEM. */
int ks_merge_init(ks_merge *m, size_t n_topics, int32_t n_partitions, int bounded,
                  const ks_merge_ops *ops);
/* Drops every buffered message; m can be initialised again. */
void ks_merge_free(ks_merge *m);

/* The partition, or NULL when out of range. */
ks_merge_part *ks_merge_part_get(ks_merge *m, uint32_t topic, int32_t partition);

/* p takes part in its task's merge (again), not at its end. */
void ks_merge_assign(ks_merge *m, ks_merge_part *p);
/* p no longer does: its buffered messages are dropped (the next owner reads
 * them again). */
void ks_merge_revoke(ks_merge *m, ks_merge_part *p);

/* Buffer msg (payload of len bytes, record timestamp rec) behind p's others;
 * p is active again (not at its end, not quiet). 0 (the merge owns msg) or
 * KS_ENOMEM (the caller still does). */
int ks_merge_push(ks_merge *m, ks_merge_part *p, void *msg, const void *payload, size_t len,
                  int64_t rec);

/* p reached its end: in a bounded run it stops holding its task's watermark
 * once its buffered messages are processed, not before. */
void ks_merge_eof(ks_merge *m, ks_merge_part *p);
/* p has been quiet for intervals.idle_timeout: the task goes on without it
 * and it stops holding the watermark, until its next message. */
void ks_merge_quiet(ks_merge *m, ks_merge_part *p);

/* Process the task's messages in order while it can, filling each empty
 * partition first. Returns 1 when process asked to stop, else 0. */
int ks_merge_drain(ks_merge *m, int32_t task);
/* The same for every task, until process asks to stop; the next call
 * starts with the task it stopped at, so a caller that stops at a budget
 * serves every task in turn. */
int ks_merge_drain_all(ks_merge *m);
/* Fill p if its buffer is empty; returns p's buffered count after. */
size_t ks_merge_fill(ks_merge *m, ks_merge_part *p);

/* Drop p's buffered messages (shutdown: never processed, not committed). */
void ks_merge_drop(ks_merge *m, ks_merge_part *p);

/* Messages buffered in all partitions. */
size_t ks_merge_buffered(const ks_merge *m);

#endif
