/* The fork-join pool of processing.threads (workers.c): every item done
 * exactly once per run, item i on thread (i + 1) mod N, the items of one run
 * really on two threads at once, what the items wrote visible to the caller
 * after the run, bad sizes refused. Run under ThreadSanitizer too
 * (KS_TSAN, scripts/test.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "kpistream/plugin.h"
#include "workers.h"

#define ITEMS 1000
#define RUNS  50

typedef struct count_ud {
  int done[ITEMS];  /* plain ints: each item is one thread's, the run's end publishes them */
  size_t by[ITEMS]; /* the thread that did it */
  size_t threads;
  int started[KS_WORKERS_MAX];
  int stopped[KS_WORKERS_MAX];
} count_ud;

static void on_start(void *ud, size_t thread) {
  count_ud *c = ud;
  c->started[thread]++;
}

static void on_stop(void *ud, size_t thread) {
  count_ud *c = ud;
  c->stopped[thread]++;
}

static void count_item(void *ud, size_t thread, size_t item) {
  count_ud *c = ud;
  c->done[item]++;
  c->by[item] = thread;
}

/* Every item exactly once per run, over many runs; on_start once per
 * started thread (1..n-1) before ks_workers_new returned, on_stop once per
 * started thread by the time ks_workers_free returned. */
static void every_item_once(void **state) {
  (void)state;
  static count_ud c;
  memset(&c, 0, sizeof c);
  char err[256];
  ks_workers *w;
  assert_int_equal(ks_workers_new(&w, 3, on_start, on_stop, &c, err, sizeof err), 0);
  assert_int_equal(ks_workers_threads(w), 3);
  assert_int_equal(c.started[0], 0); /* the caller's thread is not started */
  assert_int_equal(c.started[1], 1);
  assert_int_equal(c.started[2], 1);
  for (int r = 0; r < RUNS; r++) {
    ks_workers_run(w, ITEMS, count_item, &c);
    for (size_t i = 0; i < ITEMS; i++) {
      assert_int_equal(c.done[i], r + 1);
      assert_int_equal(c.by[i], (i + 1) % 3); /* item i always on thread (i + 1) mod 3 */
    }
  }
  ks_workers_run(w, 0, count_item, &c); /* nothing to do: returns */
  assert_int_equal(c.stopped[1], 0);
  ks_workers_free(w);
  assert_int_equal(c.stopped[0], 0);
  assert_int_equal(c.stopped[1], 1);
  assert_int_equal(c.stopped[2], 1);
}

/* Two items that each wait until the other has started can only finish on
 * two threads at once (bounded: 30 s, then the test fails). */
typedef struct meet_ud {
  _Atomic int arrived;
  _Atomic int timed_out;
  size_t thread_of[2];
} meet_ud;

static void meet_item(void *ud, size_t thread, size_t item) {
  meet_ud *m = ud;
  m->thread_of[item] = thread;
  atomic_fetch_add(&m->arrived, 1);
  uint64_t until = uv_hrtime() + UINT64_C(30000000000);
  while (atomic_load(&m->arrived) < 2) {
    if (uv_hrtime() > until) {
      atomic_store(&m->timed_out, 1);
      return;
    }
    uv_sleep(1);
  }
}

static void items_run_in_parallel(void **state) {
  (void)state;
  char err[256];
  ks_workers *w;
  assert_int_equal(ks_workers_new(&w, 2, NULL, NULL, NULL, err, sizeof err), 0);
  for (int r = 0; r < 3; r++) {
    meet_ud m;
    memset(&m, 0, sizeof m);
    atomic_init(&m.arrived, 0);
    atomic_init(&m.timed_out, 0);
    ks_workers_run(w, 2, meet_item, &m);
    assert_int_equal(atomic_load(&m.timed_out), 0);
    assert_int_not_equal(m.thread_of[0], m.thread_of[1]);
  }
  ks_workers_free(w);
}

static void sizes_are_checked(void **state) {
  (void)state;
  char err[256] = "";
  ks_workers *w = (ks_workers *)&err;
  assert_int_equal(ks_workers_new(&w, 1, NULL, NULL, NULL, err, sizeof err), KS_EINVAL);
  assert_null(w);
  assert_string_equal(err, "workers: 1 threads (2 to 64)");
  assert_int_equal(ks_workers_new(&w, KS_WORKERS_MAX + 1, NULL, NULL, NULL, err, sizeof err),
                   KS_EINVAL);
  assert_string_equal(err, "workers: 65 threads (2 to 64)");
  ks_workers_free(NULL);
  assert_int_equal(ks_workers_threads(NULL), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_item_once),
      cmocka_unit_test(items_run_in_parallel),
      cmocka_unit_test(sizes_are_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
