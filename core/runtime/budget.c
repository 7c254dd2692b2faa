/*
 * budget — see budget.h.
 */
#include "budget.h"

#include <inttypes.h>

#include "log.h"

#define BUDGET_LOG "runner"

void ks_budget_init(ks_budget *b, uint64_t limit, const int *log_level, ks_budget_pause_fn pause,
                    void *ud) {
  *b = (ks_budget){.limit = limit, .log_level = log_level, .pause = pause, .ud = ud};
}

void ks_budget_check(ks_budget *b, size_t bytes, uint64_t events_in) {
  if (b->limit == 0)
    return;
  int progressed = events_in != b->last_events;
  b->last_events = events_in;
  uint64_t budget = b->limit;
  if (b->paused && bytes >= budget / 10 * 9 && !progressed) {
    /* The buffered input is used up and state is still over budget: it is
     * keyed state that only event time (TTLs) shrinks, and event time only
     * moves with input. Resume rather than stall; pause again only once state
     * has grown by another quarter. */
    ks_log(*b->log_level, KS_LOG_ERROR, BUDGET_LOG,
           "state holds %zu bytes, over state.memory_budget %" PRIu64
           ", and pausing the input cannot bring it down (keyed state: open contacts, "
           "customers); resuming; raise the budget, shorten the plugins' TTLs or add "
           "instances",
           bytes, budget);
    b->pause(b->ud, 0);
    b->paused = 0;
    b->stuck = bytes + bytes / 4;
    return;
  }
  if (!b->paused && bytes > budget && bytes > b->stuck) {
    /* Stop fetching; what is buffered is still processed in event-time
     * order, closing intervals and expiring keyed records. */
    int n = b->pause(b->ud, 1);
    b->paused = 1;
    b->pauses++;
    ks_log(*b->log_level, KS_LOG_WARN, BUDGET_LOG,
           "state holds %zu bytes, over state.memory_budget %" PRIu64
           ": paused %d input partitions until it drops below 90%%",
           bytes, budget, n);
  } else if (b->paused && bytes < budget / 10 * 9) {
    b->pause(b->ud, 0);
    b->paused = 0;
    b->stuck = 0;
    ks_log(*b->log_level, KS_LOG_INFO, BUDGET_LOG,
           "state back to %zu bytes (budget %" PRIu64 "): resumed", bytes, budget);
  }
}
