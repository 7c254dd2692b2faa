/* The commit-barrier chain (barrier.c), without Kafka: the producer, the
 * consumer and the broker's acknowledgements are the test's callbacks.
 * Offsets lists are librdkafka's data structure only (no client). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "barrier.h"

#define MAX_OUT 32

/* The broker as the test plays it: every message produced is outstanding
 * until the test (or flush) acknowledges it. */
typedef struct world {
  ks_barrier_chain c;
  ks_barrier *out[MAX_OUT]; /* outstanding messages, by their barrier */
  size_t n_out;
  int64_t commits[MAX_OUT]; /* the first offset of each commit, in order */
  int n_commits;
  int sends;           /* send_checkpoint calls */
  size_t chunks_sent;  /* chunks produced */
  int send_fail_after; /* produce this many chunks, then fail (-1: never) */
  int flushes;
  int flush_delivers; /* flush acknowledges what is outstanding */
  int flush_fails;
  uint64_t now_ms; /* the chain's clock when paced (w_clock) */
} world;

static int w_send(void *ud, ks_ckpt_msg *msgs, size_t n, void *opaque, size_t *n_sent) {
  world *w = ud;
  w->sends++;
  *n_sent = 0;
  for (size_t i = 0; i < n; i++) {
    assert_non_null(msgs[i].value);
    if (w->send_fail_after >= 0 && w->chunks_sent == (size_t)w->send_fail_after)
      return -1;
    assert_true(w->n_out < MAX_OUT);
    w->out[w->n_out++] = opaque;
    w->chunks_sent++;
    ++*n_sent;
  }
  return 0;
}

static void w_commit(void *ud, const rd_kafka_topic_partition_list_t *offsets) {
  world *w = ud;
  assert_true(offsets->cnt > 0);
  w->commits[w->n_commits++] = offsets->elems[0].offset;
}

/* Acknowledge the outstanding message at i (in the order produced). */
static void ack_at(world *w, size_t i, int failed) {
  assert_true(i < w->n_out);
  ks_barrier *b = w->out[i];
  memmove(&w->out[i], &w->out[i + 1], (w->n_out - i - 1) * sizeof w->out[0]);
  w->n_out--;
  ks_barrier_delivered(&w->c, b, failed);
}

static int w_flush(void *ud, int timeout_ms) {
  world *w = ud;
  assert_true(timeout_ms >= 0);
  w->flushes++;
  if (w->flush_fails)
    return -1;
  /* one stage: what is outstanding now (not what its acks release) */
  size_t n = w->flush_delivers ? w->n_out : 0;
  for (size_t i = 0; i < n; i++)
    ack_at(w, 0, 0);
  return 0;
}

static void world_init(world *w) {
  memset(w, 0, sizeof *w);
  w->send_fail_after = -1;
  ks_barrier_ops ops = {w_send, w_commit, w_flush, w};
  ks_barrier_chain_init(&w->c, &ops);
}

/* A result (or dead letter) produced now: counts in the open barrier. */
static ks_barrier *produce(world *w) {
  ks_barrier *b = ks_barrier_open(&w->c);
  assert_non_null(b);
  ks_barrier_produced(b);
  assert_true(w->n_out < MAX_OUT);
  w->out[w->n_out++] = b;
  return b;
}

static rd_kafka_topic_partition_list_t *offsets(int64_t off) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, "events.voice", 0)->offset = off;
  return l;
}

static ks_ckpt_msg *chunks(size_t n) {
  ks_ckpt_msg *m = calloc(n, sizeof *m);
  assert_non_null(m);
  for (size_t i = 0; i < n; i++) {
    m[i].value = malloc(8);
    assert_non_null(m[i].value);
    m[i].len = 8;
    snprintf(m[i].key, sizeof m[i].key, "task/0/ckpt/1/chunk/%zu", i);
  }
  return m;
}

static void seal(world *w, int64_t off, size_t n_chunks) {
  assert_int_equal(ks_barrier_seal(&w->c, off >= 0 ? offsets(off) : NULL,
                                   n_chunks ? chunks(n_chunks) : NULL, n_chunks),
                   0);
}

/* Offsets commit in barrier order, each only once every message produced
 * before its seal, in its barrier and all earlier ones, is acknowledged. */
static void commit_waits_for_all_earlier_acks(void **state) {
  (void)state;
  world w;
  world_init(&w);
  ks_barrier *b1 = produce(&w);
  assert_ptr_equal(produce(&w), b1); /* the open barrier until sealed */
  seal(&w, 10, 0);
  assert_int_equal(w.n_commits, 0);
  ks_barrier *b2 = produce(&w);
  assert_ptr_not_equal(b2, b1); /* the seal closed b1: a new one opens */
  seal(&w, 20, 0);
  ack_at(&w, 2, 0); /* b2's only message: b2 is acknowledged, b1 is not */
  assert_int_equal(w.n_commits, 0);
  ack_at(&w, 0, 0);
  assert_int_equal(w.n_commits, 0);
  ack_at(&w, 0, 0); /* b1 complete: its offsets, then b2's */
  assert_int_equal(w.n_commits, 2);
  assert_int_equal(w.commits[0], 10);
  assert_int_equal(w.commits[1], 20);
  /* an open (unsealed) barrier never commits, acknowledged or not */
  produce(&w);
  ack_at(&w, 0, 0);
  assert_int_equal(w.n_commits, 2);
  seal(&w, 30, 0); /* sealed with nothing outstanding: commits at once */
  assert_int_equal(w.n_commits, 3);
  assert_int_equal(w.commits[2], 30);
  seal(&w, -1, 0); /* no offsets: nothing to commit */
  assert_int_equal(w.n_commits, 3);
  ks_barrier_delivered(&w.c, NULL, 0); /* a message no barrier tracks */
  assert_int_equal(w.n_commits, 3);
  ks_barrier_chain_free(&w.c);
}

/* A checkpoint is produced only after the results before it are
 * acknowledged, and its offsets commit only after the checkpoint is. */
static void checkpoint_after_results_commit_after_checkpoint(void **state) {
  (void)state;
  world w;
  world_init(&w);
  ks_barrier *b1 = produce(&w);
  seal(&w, 10, 2);
  assert_int_equal(w.sends, 0);
  ack_at(&w, 0, 0);
  assert_int_equal(w.sends, 1); /* both chunks in one call, with b1 */
  assert_int_equal(w.chunks_sent, 2);
  assert_ptr_equal(w.out[0], b1);
  assert_ptr_equal(w.out[1], b1);
  assert_int_equal(w.n_commits, 0);
  produce(&w); /* a later barrier's result */
  seal(&w, 20, 0);
  ack_at(&w, 2, 0);
  ack_at(&w, 0, 0);
  assert_int_equal(w.n_commits, 0); /* one chunk still outstanding */
  ack_at(&w, 0, 0);
  assert_int_equal(w.n_commits, 2);
  assert_int_equal(w.commits[0], 10);
  assert_int_equal(w.commits[1], 20);
  assert_int_equal(w.sends, 1);
  ks_barrier_chain_free(&w.c);
}

/* A failed delivery poisons the chain: no barrier in it produces its
 * checkpoint or commits; the runner seals nothing after a failure, and a
 * barrier opened later is not affected. */
static void failed_delivery_poisons_the_chain(void **state) {
  (void)state;
  world w;
  world_init(&w);
  produce(&w);
  seal(&w, 10, 2);
  produce(&w);
  seal(&w, 20, 1);
  ack_at(&w, 0, 1); /* b1's result: refused */
  ack_at(&w, 0, 0);
  assert_int_equal(w.sends, 0);
  assert_int_equal(w.n_commits, 0);
  assert_null(w.c.head); /* both completed without committing */
  produce(&w);
  seal(&w, 30, 0);
  ack_at(&w, 0, 0);
  assert_int_equal(w.n_commits, 1);
  assert_int_equal(w.commits[0], 30);
  ks_barrier_chain_free(&w.c);
}

/* The producer refuses a chunk: the chunks produced before it still count,
 * and nothing in the chain commits. */
static void checkpoint_not_written_poisons(void **state) {
  (void)state;
  world w;
  world_init(&w);
  w.send_fail_after = 1;
  produce(&w);
  seal(&w, 10, 3);
  produce(&w);
  seal(&w, 20, 0);
  ack_at(&w, 0, 0); /* b1's result: 1 of its 3 chunks produced, then a refusal */
  assert_int_equal(w.sends, 1);
  assert_int_equal(w.chunks_sent, 1);
  assert_int_equal(w.n_out, 2); /* b2's result and b1's chunk */
  ack_at(&w, 0, 0);
  ack_at(&w, 0, 0);
  assert_int_equal(w.n_commits, 0);
  assert_null(w.c.head);
  ks_barrier_chain_free(&w.c);
}

/* Drain: each flush delivers one stage; a sealed chain with a checkpoint
 * takes two (results, then the chunks their acknowledgement released). */
static void drain_delivers_stage_by_stage(void **state) {
  (void)state;
  world w;
  world_init(&w);
  w.flush_delivers = 1;
  produce(&w);
  produce(&w);
  seal(&w, 10, 2);
  assert_int_equal(ks_barrier_drain(&w.c, 1000), 0);
  assert_int_equal(w.flushes, 2);
  assert_int_equal(w.n_commits, 1);
  assert_int_equal(w.commits[0], 10);
  /* only an open barrier left: nothing to drain */
  produce(&w);
  assert_int_equal(ks_barrier_drain(&w.c, 1000), 0);
  assert_int_equal(w.flushes, 2);
  /* the broker acknowledges nothing: four rounds, then KS_EKAFKA */
  w.flush_delivers = 0;
  seal(&w, 20, 0);
  assert_int_equal(ks_barrier_drain(&w.c, 0), KS_EKAFKA);
  assert_int_equal(w.flushes, 6);
  assert_int_equal(w.n_commits, 1);
  /* flush itself fails: at once */
  w.flush_fails = 1;
  assert_int_equal(ks_barrier_drain(&w.c, 1000), KS_EKAFKA);
  assert_int_equal(w.flushes, 7);
  ks_barrier_chain_free(&w.c); /* frees b2 with its offsets */
}

static uint64_t w_clock(void *ud) {
  return ((world *)ud)->now_ms;
}

/* commit.interval: the runner seals when an interval closed (`want`) and the
 * chain says a seal is due. Over 10 s of a closing interval every 10 ms,
 * with every result acknowledged 20 ms after it was produced, a 1 s pace
 * makes 10 commits, at least 1 s apart, the last covering the results
 * produced up to its seal; a forced seal (revoke, reload, shutdown,
 * checkpoint) happens at once and restarts the pace. */
static void commits_paced_by_interval(void **state) {
  (void)state;
  world w;
  world_init(&w);
  w.now_ms = 5000;
  ks_barrier_pace(&w.c, 1000, w_clock, &w);
  assert_int_equal(ks_barrier_seal_due(&w.c), 0); /* the pace counts from ks_barrier_pace */
  uint64_t sealed_at[MAX_OUT];
  int n_seals = 0;
  for (int64_t t = 10; t <= 10000; t += 10) {
    w.now_ms = 5000 + (uint64_t)t;
    while (w.n_out > 2) /* acknowledged 20 ms after it was produced */
      ack_at(&w, 0, 0);
    produce(&w);
    if (ks_barrier_seal_due(&w.c)) { /* an interval closed every 10 ms: always wanted */
      assert_true(n_seals < MAX_OUT);
      sealed_at[n_seals++] = w.now_ms;
      seal(&w, t, 0);
      assert_true(w.n_commits < n_seals); /* its own result is not acknowledged yet */
    }
  }
  while (w.n_out)
    ack_at(&w, 0, 0);
  assert_int_equal(n_seals, 10);
  assert_int_equal(w.n_commits, 10);
  for (int i = 0; i < n_seals; i++) {
    assert_int_equal(sealed_at[i], 6000 + 1000 * (uint64_t)i);
    assert_int_equal(w.commits[i], 1000 + 1000 * i); /* offsets as sealed, in order */
  }
  /* a forced seal at 15.5 s: at once, and the next paced one 1 s after it */
  w.now_ms = 15500;
  produce(&w);
  seal(&w, 10500, 0);
  ack_at(&w, 0, 0);
  assert_int_equal(w.n_commits, 11);
  w.now_ms = 16000;
  assert_int_equal(ks_barrier_seal_due(&w.c), 0);
  w.now_ms = 16499;
  assert_int_equal(ks_barrier_seal_due(&w.c), 0);
  w.now_ms = 16500;
  assert_int_equal(ks_barrier_seal_due(&w.c), 1);
  /* commit.interval 0: every seal is due (each closed interval commits) */
  ks_barrier_pace(&w.c, 0, w_clock, &w);
  assert_int_equal(ks_barrier_seal_due(&w.c), 1);
  seal(&w, 10600, 0);
  assert_int_equal(ks_barrier_seal_due(&w.c), 1);
  ks_barrier_chain_free(&w.c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(commit_waits_for_all_earlier_acks),
      cmocka_unit_test(checkpoint_after_results_commit_after_checkpoint),
      cmocka_unit_test(failed_delivery_poisons_the_chain),
      cmocka_unit_test(checkpoint_not_written_poisons),
      cmocka_unit_test(drain_delivers_stage_by_stage),
      cmocka_unit_test(commits_paced_by_interval),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
