/*
 * checkpoint — task snapshots to and from Kafka changelog topics.
 *
 * Each plugin has a changelog topic <prefix>.<plugin>. A checkpoint of task
 * p is one snapshot per plugin (snapshot.c: the host's offsets, watermark and
 * open intervals plus the plugin's tables), written to partition
 * p % partitions as chunks of at most KS_CKPT_CHUNK bytes:
 *   key   "task/<p>/chunk/<i>"  (so a compacted topic keeps the newest of each)
 *   value "KSCK", u32 format, i64 checkpoint id, u32 task, u32 chunk,
 *         u32 n_chunks, u64 chunk offset, u64 total length, then the bytes.
 * A restore reads the task's partition of every changelog from its start to
 * its end, keeps the newest checkpoint id that is complete for every plugin
 * that has one, and loads it into the engine. Any partition count works; the
 * broker must keep at least the newest checkpoint (compaction, or retention
 * larger than two checkpoints).
 *
 * Ownership: ks_ckpt_build() returns messages the caller frees with
 * ks_ckpt_msgs_free(); the reader handle passed to ks_ckpt_restore() is the
 * caller's (a consumer without a group, see ks_ckpt_reader_new()).
 */
#ifndef KS_CHECKPOINT_H
#define KS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "engine.h"

#define KS_CKPT_CHUNK (512 * 1024)

typedef struct ks_ckpt_msg {
  size_t plugin; /* index of the plugin (its changelog topic) */
  int32_t partition;
  char key[48];
  uint8_t *value; /* malloc'd */
  size_t len;
} ks_ckpt_msg;

/* The messages of checkpoint `id` of `task`, every plugin; parts[i] is the
 * partition count of plugin i's changelog. Returns 0 or KS_ENOMEM. */
int ks_ckpt_build(ks_engine *e, const int32_t *parts, int32_t task, int64_t id, ks_ckpt_msg **out,
                  size_t *n_out);
void ks_ckpt_msgs_free(ks_ckpt_msg *m, size_t n);

/* A consumer for reading changelogs (no group, no commits), built from the
 * same configuration lists as the main consumer. NULL on error (errstr). */
rd_kafka_t *ks_ckpt_reader_new(const ks_kv *const *lists, const size_t *counts, size_t n_lists,
                               int log_level, char *errstr, size_t errstr_size);

/* Partition count of `topic` as the cluster reports it through handle rk (a
 * producer's metadata request may create it where the cluster auto-creates
 * topics). Returns > 0, or a negative error with the reason in errstr. */
int32_t ks_ckpt_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                                 size_t errstr_size);

/* Restore task from the changelogs (topics[i] with parts[i] partitions for
 * plugin i). Returns 1 and the checkpoint id when restored, 0 when there is
 * no checkpoint, or a negative error with the reason in errstr. */
int ks_ckpt_restore(rd_kafka_t *reader, ks_engine *e, char *const *topics, const int32_t *parts,
                    int32_t task, int timeout_ms, int64_t *id, char *errstr, size_t errstr_size);

#endif
