/*
 * runner_internal — the state of `kpistream run`, shared by runner.c (the
 * loop, consuming, results, dead letters) and runner_checkpoint.c (commit
 * barriers, checkpoints to the changelog topics, restore on assignment).
 *
 * Ownership: ks_cmd_run() owns the runner and everything in it: the loop,
 * config, engine, Kafka clients, the barrier chain (each barrier owns its
 * offsets list and checkpoint messages) and the per-task checkpoint ids.
 */
#ifndef KS_RUNNER_INTERNAL_H
#define KS_RUNNER_INTERNAL_H

#include <stdint.h>
#include <uv.h>

#include <librdkafka/rdkafka.h>

#include "checkpoint.h"
#include "config.h"
#include "engine.h"
#include "kafka_consumer.h"
#include "kafka_producer.h"

#define RUN_ERRSZ 1024

/*
 * A commit barrier: everything produced while it was the open (tail)
 * barrier counts in `pending`. Sealed barriers complete in order: when a
 * sealed barrier and all before it are acknowledged, its checkpoint messages
 * (if any) are produced, and once those are acknowledged too its offsets are
 * committed. So a checkpoint is never visible before the results it follows,
 * and offsets are never committed before the checkpoint that covers them.
 */
typedef struct barrier {
  struct barrier *next;
  size_t pending; /* produced, not yet acknowledged */
  int sealed;
  rd_kafka_topic_partition_list_t *offsets;
  ks_ckpt_msg *msgs; /* checkpoint chunks to produce once everything before is acked */
  size_t n_msgs;
  int msgs_sent;
} barrier;

/* A buffered input message, the event time it is ordered by (INT64_MIN:
 * none the decoder accepts) and its record timestamp (-1: none). */
typedef struct ks_qent {
  rd_kafka_message_t *m;
  int64_t t;
  int64_t rec;
} ks_qent;

#define KS_MERGE_HIGH 100000 /* buffered messages that pause a partition */
#define KS_MERGE_LOW  20000  /* ... and resume it */

typedef struct part_state {
  int32_t partition;
  uint32_t topic;
  int assigned;
  int eof;
  int quiet;            /* no message for intervals.idle_timeout */
  int paused;           /* too much buffered (runner_merge.c) */
  int budget_paused;    /* state over its memory budget (runner_merge.c) */
  int kafka_paused;     /* what rd_kafka_pause/resume_partitions last said */
  uint64_t last_msg_ms; /* loop time of the last message (idle detection) */
  ks_qent *q;           /* ring buffer of messages not yet processed */
  size_t q_head, q_len, q_cap;
} part_state;

typedef struct runner {
  uv_loop_t loop;
  ks_config cfg;
  ks_engine *engine;
  ks_plugin_call *call; /* main's record of the plugin callback running (fatal.h), or NULL */
  ks_producer *producer;
  ks_consumer *consumer;
  uv_signal_t sigint, sigterm;
  uv_timer_t stats_timer;
  uv_timer_t ckpt_timer;
  uv_timer_t idle_timer;
  int until_eof;
  int stopping;
  int exit_code;
  int32_t n_partitions;
  part_state *parts; /* n_topics * n_partitions */
  size_t n_assigned;
  barrier *head, *tail; /* FIFO; tail is the open barrier */
  int want_seal;
  int sync_commits; /* commit synchronously (revoke, shutdown) */
  uint64_t dlq_sent, delivery_errors, commits, checkpoints, restores, pauses;
  int budget_paused;           /* partitions are paused for the memory budget */
  uint64_t budget_pauses;      /* times the budget was hit */
  size_t state_bytes;          /* last measured */
  uint64_t budget_last_events; /* events_in at the last budget check */
  size_t budget_stuck;         /* state size at which pausing could not help */
  rd_kafka_topic_t *rkt_cache[64];
  uint32_t rkt_index[64];
  size_t n_rkt;
  uint64_t dlq_truncated; /* dead letters cut to fit message.max.bytes (dead_letter.c) */
  uint64_t last_events;
  uint64_t last_stats_ms;
  /* checkpoints (checkpoint.enabled) */
  int ckpt_on;
  rd_kafka_t *ckpt_reader;
  char **ckpt_topics;          /* per plugin: <prefix>.<plugin> */
  int32_t *ckpt_parts;         /* per plugin: partitions of its changelog */
  ks_ckpt_ident *ckpt_ids;     /* per task: last checkpoint written or restored, with this
                                  instance's epoch for the task and nonce (checkpoint.h) */
  uint64_t ckpt_nonce;         /* this instance's, random */
  rd_kafka_message_t *cur_msg; /* the input message being processed, or NULL */
  uint64_t stop_deadline_ns;   /* uv_hrtime() bound of the stop (shutdown.timeout), 0 before */
  /* transactions (kafka.producer transactional.id) */
  int txn_on, txn_broken;
  uint64_t txn_commits, txn_aborts;
  struct ks_ops *ops; /* i14: HTTP endpoint, systemd notify, SIGHUP (ops.h); NULL = none */
  uint8_t *out_buf; /* results in a non-protobuf output.format (result_format.h) */
  size_t out_cap;
} runner;

void ks_runner_log(runner *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

part_state *ks_runner_part(runner *r, uint32_t topic, int32_t p);
/* Milliseconds left of shutdown.timeout once the stop began; normal_ms before. */
int ks_runner_budget_ms(runner *r, int normal_ms);
/* Process one input message of ps (decode, dispatch, dead-letter). */
void ks_runner_process(runner *r, part_state *ps, rd_kafka_message_t *m);

/* runner_merge.c: per-task event-time merge of the input partitions. */
int ks_merge_push(runner *r, part_state *ps, rd_kafka_message_t *m); /* takes m on success */
void ks_merge_drain(runner *r, int32_t task);
void ks_merge_drain_all(runner *r);
void ks_merge_drop(runner *r, part_state *ps);
/* ps reached its end (RD_KAFKA_RESP_ERR__PARTITION_EOF): in a bounded run it
 * stops holding its task's watermark once its buffered messages are
 * processed, not before. */
void ks_merge_eof(runner *r, part_state *ps);
size_t ks_merge_buffered(const runner *r);
/* state.memory_budget: pause the input partitions while state is over
 * budget (buffered input is still processed); resume below 90 % of it, or
 * when processing the buffer did not help (logged as an error). */
void ks_budget_check(runner *r);

/* runner_checkpoint.c */
barrier *ks_barrier_open(runner *r);
void ks_barrier_pop_ready(runner *r);
/* Seal the open barrier with the offsets that are safe to commit: with
 * checkpoints, a checkpoint of every assigned task (only those in `only`
 * when non-NULL) and its next offsets; without, the engine's safe offsets. */
void ks_barrier_seal(runner *r, const rd_kafka_topic_partition_list_t *only);
/* Poison the chain after a failed delivery: nothing after it commits. */
void ks_barrier_poison(runner *r);
void ks_barrier_free_all(runner *r);
/* Serve deliveries until every sealed barrier has completed, within timeout_ms in all. */
int ks_barrier_drain(runner *r, int timeout_ms);
/* Setup of changelog topics and the reader; 0 or an error in err. */
int ks_ckpt_setup(runner *r, char *err, size_t errsz);
void ks_ckpt_teardown(runner *r);
/* On assignment: restore each new task and set its partitions' offsets. */
int ks_ckpt_on_assign(runner *r, rd_kafka_topic_partition_list_t *parts);

/* runner_txn.c: start the transactional producer (init + begin). */
int ks_txn_init(runner *r, char *err, size_t errsz);
/* Produce the checkpoint chunks, add the offsets and commit the open
 * transaction, then begin the next. 0, or an error after stopping the run. */
int ks_txn_commit(runner *r, rd_kafka_topic_partition_list_t *offsets, ks_ckpt_msg *msgs,
                  size_t n_msgs);

#endif
