/*
 * checkpoint — task snapshots to and from Kafka changelog topics.
 *
 * Each plugin has a changelog topic <prefix>.<plugin>. A checkpoint of task
 * p is one snapshot per plugin (snapshot.c: the host's offsets, watermark and
 * open intervals plus the plugin's tables), written to partition
 * p % partitions as chunks of at most KS_CKPT_CHUNK bytes:
 *   key   "task/<p>/ckpt/<id % 2>/chunk/<i>" (a compacted topic keeps the
 *         newest of each: the two newest checkpoints, so a damaged or partly
 *         written newest one leaves the one before it to fall back to)
 *   value "SKCK", u32 format (2), u64 epoch, u64 nonce, i64 id, u32 task,
 *         u32 chunk, u32 n_chunks, u64 chunk offset, u64 total length,
 *         u32 CRC-32C of the whole snapshot, then the chunk's bytes
 *         (integers little-endian; a 64-byte header).
 * Incremental checkpoints. Most checkpoints are deltas: per plugin, the
 * host's bookkeeping whole and only the records changed since the previous
 * checkpoint (snapshot.c), as format 3 records, keyed
 *   "task/<p>/ckpt/<s>/delta/<k>/chunk/<i>"
 * under the slot s of their chain's full snapshot (k: the delta's place in
 * the chain, from 1), their value the 64-byte header above (format 3) then
 * u32 k, the base's identity (u64 epoch, u64 nonce, i64 id), the previous
 * checkpoint's (the base itself for k = 1) and u32 the CRC-32Cs of the
 * previous checkpoint's snapshots or deltas (every plugin's, in plugin
 * order, combined by CRC-32C of each 4-byte pair): a 120-byte header. So a
 * delta follows its predecessor by identity and by content. A
 * chain is a full snapshot (format 2) and the deltas after it; a full
 * snapshot starts a new chain every checkpoint.full_every checkpoints, when
 * more than checkpoint.full_ratio of the task's records changed, and as the
 * first checkpoint after a restore or a reload. Its id is chosen with the
 * other parity than the chain before, so the two newest chains use both
 * slots and a compacted changelog keeps both (the older one is the fallback
 * while the newer one is written). A restore loads a full snapshot and then
 * every delta after it in order; a delta is usable only when every
 * checkpoint of its chain before it is complete and verified, and each must
 * fit the state it is applied to (snapshot.c), else the newest usable
 * checkpoint before it is taken.
 *
 * Format 1 (no epoch, nonce or CRC: "SKCK", 1, i64 id, u32 task, u32 chunk,
 * u32 n_chunks, u64 offset, u64 total: 44 bytes) is still read, as epoch 0;
 * any other format is refused with its number.
 *
 * Identity. A checkpoint is (epoch, nonce, id). An instance that takes a task
 * over writes its checkpoints with epoch = 1 + the highest epoch of any record
 * of the task it read while restoring, its own random nonce, and ids counting
 * on from the one it restored. So no two instances (a restart, a zombie, two
 * members that both restored the same checkpoint) ever write different
 * content under one identity, and a successor's checkpoints rank above its
 * predecessor's: newest = highest (epoch, id), then nonce.
 *
 * A restore reads the task's partition of every changelog from its start to
 * its end and loads the newest checkpoint that is complete, consistent and
 * with the same identity in every plugin's changelog; chunks and plugins of
 * different checkpoints are never combined. Every size, offset and count read
 * from a record is checked without overflow: a record that does not fit, a
 * chunk seen twice with different bytes, chunks that overlap or leave a gap,
 * a checksum mismatch or a snapshot the engine refuses as corrupt disqualify
 * that checkpoint (logged with topic, partition, offset and checkpoint) and
 * the next older one is tried. When the changelog holds records of the task
 * but no usable checkpoint, ks_ckpt_restore() says so (KS_CKPT_UNUSABLE) and
 * the caller starts the task over from the beginning of its input.
 *
 * Ownership: ks_ckpt_build() returns messages the caller frees with
 * ks_ckpt_msgs_free(); the reader handle passed to ks_ckpt_restore() is the
 * caller's (a consumer without a group, see ks_ckpt_reader_new()). A
 * ks_ckpt_collect owns copies of the records it keeps and borrows the topic
 * names and partitions given to ks_ckpt_collect_new() (they must outlive it).
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
  char key[64];
  uint8_t *value; /* malloc'd */
  size_t len;
} ks_ckpt_msg;

/* The identity of a checkpoint (see above). Epoch 0 and nonce 0: format 1. */
typedef struct ks_ckpt_ident {
  uint64_t epoch;
  uint64_t nonce;
  int64_t id;
} ks_ckpt_ident;

/* Epochs and ids above this are refused as corrupt (so epoch + 1 never wraps). */
#define KS_CKPT_MAX_ORDINAL (UINT64_C(1) << 62)

/* The messages of checkpoint `ident` of `task`, every plugin; parts[i] is the
 * partition count of plugin i's changelog. A chunk holds at most chunk_max
 * snapshot bytes (0: KS_CKPT_CHUNK; the runner passes what the producer's
 * message.max.bytes leaves, see ks_ckpt_chunk_max). Returns 0 or KS_ENOMEM. */
int ks_ckpt_build(ks_engine *e, const int32_t *parts, int32_t task, const ks_ckpt_ident *ident,
                  size_t chunk_max, ks_ckpt_msg **out, size_t *n_out);

/* Where a task's chain of checkpoints stands (the runner keeps one per
 * task; a restore says where the restored one stood). */
typedef struct ks_ckpt_chain {
  ks_ckpt_ident base; /* its full snapshot; id 0: none (the next checkpoint is full) */
  ks_ckpt_ident last; /* its newest checkpoint: base or the last delta */
  uint32_t deltas;    /* deltas after base up to last */
  uint32_t last_sum;  /* the CRC-32Cs of last's plugins combined (named by the next delta) */
} ks_ckpt_chain;

typedef struct ks_ckpt_policy {
  uint32_t full_every; /* a full snapshot at least every this many checkpoints (1: always) */
  double full_ratio;   /* ... or when more than this share of the task's records changed */
} ks_ckpt_policy;

/* The next checkpoint of task after *chain: a delta when the chain allows
 * it (see above; the engine's baseline must be chain->last), else a full
 * snapshot. *ident: the identity to give it; on return the one given (a
 * full snapshot may take the next id, for its slot). On success the chain
 * moves on, the engine's task takes this state as its baseline and *full
 * says which it was. Returns 0 or KS_ENOMEM (the chain is unchanged). */
int ks_ckpt_build_next(ks_engine *e, const int32_t *parts, int32_t task,
                       const ks_ckpt_policy *policy, ks_ckpt_chain *chain, ks_ckpt_ident *ident,
                       size_t chunk_max, ks_ckpt_msg **out, size_t *n_out, int *full);
/* A checkpoint built by ks_ckpt_build_next() will not be written (dropped
 * before it was handed to the producer): the next one of task is full. */
void ks_ckpt_forget(ks_engine *e, int32_t task);

/* Snapshot bytes per chunk that fit a producer's message.max.bytes with the
 * chunk's key, header and framing: KS_CKPT_CHUNK, or less for a smaller
 * limit (at least 1 KiB). */
size_t ks_ckpt_chunk_max(size_t message_max_bytes);

/* A random 64-bit nonce for this instance (getrandom, else time and pid). */
uint64_t ks_ckpt_nonce(void);
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

/* Outcomes of a restore. */
#define KS_CKPT_NONE     0 /* no record of the task in any changelog */
#define KS_CKPT_RESTORED 1 /* the newest usable checkpoint is loaded */
#define KS_CKPT_UNUSABLE 2 /* records of the task, but no usable checkpoint (errstr says why) */

/* Collecting one task's changelog records, without Kafka (ks_ckpt_restore()
 * feeds it; the tests and the fuzzer feed it directly). topics[i] and
 * partitions[i] name plugin i's changelog partition in messages. NULL when
 * out of memory. */
typedef struct ks_ckpt_collect ks_ckpt_collect;
ks_ckpt_collect *ks_ckpt_collect_new(size_t n_plugins, char *const *topics,
                                     const int32_t *partitions, int32_t task);
void ks_ckpt_collect_free(ks_ckpt_collect *c);

/* One record (its value) at `offset` of plugin's changelog partition.
 * Returns 0 (kept, or not needed: another task, an older checkpoint, a
 * duplicate), KS_ESTATE when the record or the checkpoint it belongs to is
 * refused (errstr names changelog, partition, offset and checkpoint), or
 * KS_ENOMEM. */
int ks_ckpt_collect_add(ks_ckpt_collect *c, size_t plugin, int64_t offset, const void *value,
                        size_t len, char *errstr, size_t errstr_size);

/* Where the chain restored by the last KS_CKPT_RESTORED stood. */
void ks_ckpt_collect_chain(const ks_ckpt_collect *c, ks_ckpt_chain *chain);

/* The highest epoch of any record of the task seen so far (0: none). */
uint64_t ks_ckpt_collect_max_epoch(const ks_ckpt_collect *c);

/* Load the newest usable checkpoint into e's task (closing and reopening the
 * task between attempts; on KS_CKPT_UNUSABLE the task is left closed).
 * Checkpoints refused on the way are logged at ERROR (log_level is the
 * minimum level). Returns a KS_CKPT_* outcome (*ident set on
 * KS_CKPT_RESTORED), or a negative error with the reason in errstr:
 * KS_ECONFIG when the newest complete checkpoint was taken with another
 * configuration (interval, table layout), KS_ENOMEM. */
int ks_ckpt_collect_restore(ks_ckpt_collect *c, ks_engine *e, int log_level, ks_ckpt_ident *ident,
                            char *errstr, size_t errstr_size);

/* Restore task from the changelogs (topics[i] with parts[i] partitions for
 * plugin i): reads them to their end into a ks_ckpt_collect, then
 * ks_ckpt_collect_restore(). *chain: where the restored chain stood (its
 * last is the checkpoint restored; zeroed when none was). *max_epoch is the
 * highest epoch read (the next checkpoints of this task use *max_epoch + 1).
 * Returns a KS_CKPT_* outcome or a negative error (KS_EKAFKA: the changelog
 * could not be read).*/
int ks_ckpt_restore(rd_kafka_t *reader, ks_engine *e, char *const *topics, const int32_t *parts,
                    int32_t task, int timeout_ms, int log_level, ks_ckpt_chain *chain,
                    uint64_t *max_epoch, char *errstr, size_t errstr_size);

#endif
