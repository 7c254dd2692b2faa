/*
 * runner_internal — the state of `kpistream run`, shared by runner.c (the
 * loop, consuming, results, dead letters), runner_checkpoint.c (sealing
 * commit barriers with checkpoints, restore on assignment) and runner_txn.c
 * (transactional mode). The event-time merge (merge.h), the commit-barrier
 * chain (barrier.h) and the memory budget (budget.h) keep their own state.
 *
 * Ownership: ks_cmd_run() owns the runner and everything in it: the loop,
 * config, engine, Kafka clients, the merge, the barrier chain and the
 * per-task checkpoint ids.
 */
#ifndef KS_RUNNER_INTERNAL_H
#define KS_RUNNER_INTERNAL_H

#include <stdint.h>
#include <uv.h>

#include <librdkafka/rdkafka.h>

#include "barrier.h"
#include "budget.h"
#include "checkpoint.h"
#include "config.h"
#include "engine.h"
#include "kafka_consumer.h"
#include "kafka_producer.h"
#include "merge.h"

#define RUN_ERRSZ 1024

/* The runner's side of an input partition (indexed as merge.parts). */
typedef struct part_io {
  int budget_paused;    /* paused for the memory budget */
  int kafka_paused;     /* what rd_kafka_pause/resume_partitions last said */
  uint64_t last_msg_ms; /* loop time of the last message (idle detection) */
} part_io;

typedef struct runner {
  uv_loop_t loop;
  ks_config cfg;
  ks_engine *engine;
  ks_plugin_call *call; /* main's record of the plugin callback running (fatal.h), or NULL */
  ks_plugin_call_fn call_of_thread; /* main's records of the other threads, or NULL */
  struct run_pool *pool; /* processing.threads > 1: the worker threads (runner.c), else NULL */
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
  ks_merge merge; /* the input partitions (n_topics x n_partitions), merged per task */
  part_io *io;    /* per input partition */
  size_t n_assigned;
  ks_barrier_chain chain;
  int want_seal;
  int eof_seen;        /* a bounded run pulled a partition's end since the last advance */
  uint32_t drain_left; /* messages the current drain may still process (its budget) */
  int sync_commits;    /* commit synchronously (revoke, shutdown) */
  ks_budget budget;
  uint64_t dlq_sent, delivery_errors, commits, checkpoints, restores, pauses;
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

  /* incremental checkpoints (runner_checkpoint.c) */
  ks_ckpt_chain *ckpt_chains;     /* per task: where its chain of full snapshot + deltas stands */
  uint64_t ckpt_full, ckpt_delta; /* task checkpoints written whole, as deltas */
  /* transactions (kafka.producer transactional.id) */
  int txn_on, txn_broken;
  uint64_t txn_commits, txn_aborts;
  struct ks_ops *ops; /* i14: HTTP endpoint, systemd notify, SIGHUP (ops.h); NULL = none */
  uint8_t *out_buf;   /* results in a non-protobuf output.format (result_format.h) */
  size_t out_cap;
} runner;

void ks_runner_log(runner *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* runner_checkpoint.c */
/* The barrier chain's callbacks over r's producer and consumer. */
extern const ks_barrier_ops ks_runner_barrier_ops;
/* Produce checkpoint chunks to their changelog topics with opaque for their
 * delivery reports, each value handed to librdkafka without a copy (NULL
 * once produced; the caller frees the rest with ks_ckpt_msgs_free);
 * counts a checkpoint when all were produced. 0, or an
 * error (logged) with *n_sent set to the chunks produced before it. */
int ks_runner_send_checkpoint(runner *r, ks_ckpt_msg *msgs, size_t n, void *opaque, size_t *n_sent);
/* Seal the open barrier with the offsets that are safe to commit: with
 * checkpoints, a checkpoint of every assigned task (only those in `only`
 * when non-NULL) and its next offsets; without, the engine's safe offsets.
 * In transactional mode they commit in the open transaction instead. */
void ks_runner_seal(runner *r, const rd_kafka_topic_partition_list_t *only);
/* Setup of changelog topics and the reader; 0 or an error in err. */
int ks_ckpt_setup(runner *r, char *err, size_t errsz);
void ks_ckpt_teardown(runner *r);
/* The changelog topics (<prefix>.<plugin>) of e's plugins and their
 * partition counts, into malloc'd arrays the caller owns (free with
 * ks_ckpt_topics_free); 0 or an error in err. */
int ks_ckpt_topics_new(runner *r, const ks_engine *e, char ***topics, int32_t **parts, char *err,
                       size_t errsz);
void ks_ckpt_topics_free(char **topics, int32_t *parts, size_t n);

/* runner.c: a new engine for cfg with its plugins loaded (init runs), its
 * callbacks the runner's; *out is the caller's even on error (NULL or to
 * free). 0 or an error in err. */
int ks_runner_engine_new(runner *r, const ks_config *cfg, ks_engine **out, char *err, size_t errsz);

/* reload.c: SIGHUP with a change of plugins[] or intervals.*: cut and commit
 * a checkpoint of every assigned task (waiting for its acknowledgement),
 * build an engine from next (plugins, intervals; plugin_dir stays the
 * running one), carry every task's state over to it, swap it in and take
 * next's plugins and intervals into r->cfg (next gets the old ones back, to
 * free). The consumer stays open: no rebalance. On any error the running
 * engine is kept and err says why. */
int ks_runner_reload_engine(runner *r, ks_config *next, char *err, size_t errsz);
/* On assignment: restore each new task and set its partitions' offsets. */
int ks_ckpt_on_assign(runner *r, rd_kafka_topic_partition_list_t *parts);

/* runner_txn.c: start the transactional producer (init + begin). */
int ks_txn_init(runner *r, char *err, size_t errsz);
/* Produce the checkpoint chunks, add the offsets and commit the open
 * transaction, then begin the next. 0, or an error after stopping the run. */
int ks_txn_commit(runner *r, rd_kafka_topic_partition_list_t *offsets, ks_ckpt_msg *msgs,
                  size_t n_msgs);

#endif
