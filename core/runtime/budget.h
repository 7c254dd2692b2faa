/*
 * budget — state.memory_budget: while the engine's state is over the budget,
 * the input partitions are paused (what is already buffered is still
 * processed, in event-time order, closing intervals and expiring keyed
 * records); they resume below 90 % of it. When processing the buffer did not
 * help (no event processed since the last check and state still at 90 % or
 * more: keyed state that only input can expire), they resume anyway, logged
 * as an error, and pause again only once state has grown by another quarter.
 *
 * The budget only decides; pausing and resuming is the caller's, through
 * the pause callback. No Kafka, no engine: ks_budget_check() is given the
 * state size and the events processed so far.
 *
 * Ownership: a ks_budget owns nothing; it lives in its caller and borrows
 * the log level.
 */
#ifndef KS_BUDGET_H
#define KS_BUDGET_H

#include <stddef.h>
#include <stdint.h>

/* Pause (pause = 1) or resume (0) the input for the budget; returns how many
 * partitions it paused (logged), or anything when resuming. */
typedef int (*ks_budget_pause_fn)(void *ud, int pause);

typedef struct ks_budget {
  uint64_t limit;       /* bytes; 0: no budget */
  const int *log_level; /* the caller's, read at each message (a reload may change it) */
  ks_budget_pause_fn pause;
  void *ud;
  int paused;           /* the input is paused for the budget */
  uint64_t pauses;      /* times the budget was hit */
  uint64_t last_events; /* events processed at the last check */
  size_t stuck;         /* state size at which pausing could not help; 0: none */
} ks_budget;

void ks_budget_init(ks_budget *b, uint64_t limit, const int *log_level, ks_budget_pause_fn pause,
                    void *ud);

/* Compare state_bytes with the budget and pause or resume the input;
 * events_in is the count of events processed so far (ks_engine_stats). */
void ks_budget_check(ks_budget *b, size_t state_bytes, uint64_t events_in);

#endif
