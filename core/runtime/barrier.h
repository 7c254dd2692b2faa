/*
 * barrier — the commit-barrier chain of `kpistream run`.
 *
 * Everything produced while a barrier is the open one (the tail of the
 * chain) counts in it, until its delivery report comes back. Sealing the open
 * barrier attaches what it makes safe: the input offsets to commit and, with
 * checkpoints, the checkpoint chunks covering them; the next message produced
 * opens a new barrier. Sealed barriers complete in order: when a sealed
 * barrier and every one before it are acknowledged, its checkpoint chunks
 * (if any) are produced, counting in it, and once those are acknowledged too
 * its offsets are committed and it leaves the chain. So a checkpoint is never
 * visible before the results it follows, and offsets are never committed
 * before the checkpoint that covers them (or the results they produced).
 *
 * A failed delivery poisons the chain: no barrier in it commits offsets or
 * produces checkpoint chunks any more (a restart re-reads that input).
 *
 * The chain knows neither the producer nor the consumer: it produces and
 * commits through the callbacks of ks_barrier_ops, and whoever produces a
 * message tracked by a barrier reports its delivery with
 * ks_barrier_delivered().
 *
 * Ownership: the chain owns its barriers; a sealed barrier owns the offsets
 * list and checkpoint chunks given to ks_barrier_seal() until it has
 * committed or is freed (ks_barrier_chain_free()).
 */
#ifndef KS_BARRIER_H
#define KS_BARRIER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "checkpoint.h"

typedef struct ks_barrier ks_barrier; /* one barrier of the chain */

typedef struct ks_barrier_ops {
  /* Produce the n checkpoint chunks, each with `opaque` (a ks_barrier *) for
   * its delivery report. Returns 0, or an error with *n_sent set to the
   * chunks produced before it (the chain is then poisoned). It may take a
   * chunk's value (setting it to NULL): the barrier frees what is left. */
  int (*send_checkpoint)(void *ud, ks_ckpt_msg *msgs, size_t n, void *opaque, size_t *n_sent);
  /* Commit offsets (their results and checkpoint are acknowledged). */
  void (*commit)(void *ud, const rd_kafka_topic_partition_list_t *offsets);
  /* Serve delivery reports for up to timeout_ms (ks_producer_flush); 0 or
   * an error. */
  int (*flush)(void *ud, int timeout_ms);
  void *ud;
} ks_barrier_ops;

typedef struct ks_barrier_chain {
  ks_barrier *head, *tail; /* FIFO; an unsealed tail is the open barrier */
  ks_barrier_ops ops;
  /* Pacing (ks_barrier_pace): commit.interval, its clock, the last seal. */
  int64_t pace_ms; /* 0: every seal is due */
  uint64_t (*clock_ms)(void *ud);
  void *clock_ud;
  uint64_t last_seal_ms;
} ks_barrier_chain;

void ks_barrier_chain_init(ks_barrier_chain *c, const ks_barrier_ops *ops);
/* Frees every barrier with what it holds; nothing is committed. */
void ks_barrier_chain_free(ks_barrier_chain *c);

/* The open barrier (a new one when the tail is sealed or the chain empty),
 * or NULL when out of memory. */
ks_barrier *ks_barrier_open(ks_barrier_chain *c);
/* One more message produced with b as its opaque: it counts in b until
 * ks_barrier_delivered(c, b, ...). */
void ks_barrier_produced(ks_barrier *b);
/* The delivery report of a message produced with opaque b (NULL: one the
 * chain does not track); failed: the broker did not take it, and the chain
 * is poisoned. Completes the barriers that are now acknowledged. */
void ks_barrier_delivered(ks_barrier_chain *c, ks_barrier *b, int failed);

/* Seal the open barrier (opened if needed) with the offsets its completion
 * commits (NULL: none) and the checkpoint chunks it then produces (n may be
 * 0); the barrier owns both from now on. Completes what is acknowledged
 * already. 0, or KS_ENOMEM (then the caller still owns them). */
int ks_barrier_seal(ks_barrier_chain *c, rd_kafka_topic_partition_list_t *offsets,
                    ks_ckpt_msg *msgs, size_t n);

/* Pace the seals that nothing forces (commit.interval): from now on
 * ks_barrier_seal_due() says whether interval_ms have passed since the last
 * seal of any kind, forced ones (revoke, shutdown, reload, checkpoint)
 * included, on clock_ms(clock_ud) (NULL: the monotonic clock, uv_hrtime).
 * Pacing decides only when a seal happens; what it commits and when stay
 * the barrier rule's. Without pacing (interval_ms 0) every seal is due. */
void ks_barrier_pace(ks_barrier_chain *c, int64_t interval_ms, uint64_t (*clock_ms)(void *ud),
                     void *clock_ud);
/* 1 when a seal now keeps to the pace set by ks_barrier_pace(), else 0. */
int ks_barrier_seal_due(const ks_barrier_chain *c);

/* Poison the chain after a failed delivery: nothing in it commits. */
void ks_barrier_poison(ks_barrier_chain *c);

/* Serve deliveries (flush) until every sealed barrier has completed, within
 * timeout_ms in all. 0, or KS_EKAFKA when some have not. */
int ks_barrier_drain(ks_barrier_chain *c, int timeout_ms);

#endif
