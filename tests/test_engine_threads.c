/* One engine driven from two threads (processing.threads, engine.h
 * "Threads"): eight tasks fed the same simulated tenant, each drain cycle's
 * tasks spread over a pool of two threads (workers.h), each task bound to
 * its thread's lane. Every plugin family is loaded (scorecard reads the
 * others' results in process). Each task must publish exactly the results
 * of a single-threaded engine's one task, in the same order (a digest of
 * its results, the sink telling tasks apart by the lane's current task),
 * and the folded counters must add up. Run under ThreadSanitizer too
 * (KS_TSAN, scripts/test.sh): any data race between the two threads in the
 * engine or a plugin fails it there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "kpistream/testkit.h"
#include "log.h"
#include "sim_world.h"
#include "state.h"
#include "workers.h"

#define TASKS 8
#define CHUNK 700 /* messages per drain cycle */

static const char *const families[] = {"operations", "experience", "workforce", "quality",
                                       "value",      "forecast",   "scorecard"};

/* One lane's sink: the task it runs now and where each task's digest of
 * its results, in order, is kept (shared by the lanes: a task runs on one
 * thread at a time, and the pool's join orders the cycles). */
typedef struct lane_out {
  _Alignas(64) int32_t task;
  uint64_t *digest; /* per task */
  uint64_t results;
} lane_out;

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)r;
  lane_out *o = ud;
  uint64_t *d = &o->digest[o->task];
  *d = ks_hash_bytes(topic, strlen(topic), *d);
  *d = ks_hash_bytes(key, keylen, *d);
  *d = ks_hash_bytes(value, valuelen, *d);
  o->results++;
  return 0;
}

static ks_engine *engine_new(const sim_world *w, lane_out *own, size_t *n_plugins) {
  ks_engine_options eo = {0};
  eo.interval_ms = 15 * 60 * 1000;
  eo.lateness_ms = 60000;
  eo.restate_ms = 3600000;
  eo.topics = w->topics;
  eo.n_topics = KS_SIM_NTOPICS;
  eo.sink = sink;
  eo.sink_ud = own;
  eo.log_level = KS_LOG_WARN;
  ks_engine *e = NULL;
  char err[512];
  assert_int_equal(ks_engine_new(&e, &eo, err, sizeof err), 0);
  size_t n = 0;
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/kpi_%s.so", KS_TEST_PLUGIN_DIR, families[i]);
    if (access(path, R_OK) != 0)
      continue;
    if (ks_engine_add_plugin(e, path, NULL, NULL, 0, err, sizeof err) != 0)
      fail_msg("add_plugin %s: %s", path, err);
    n++;
  }
  assert_true(n >= 2);
  *n_plugins = n;
  return e;
}

typedef struct cycle {
  ks_engine *e;
  const sim_world *w;
  lane_out *out;         /* per thread */
  ks_engine_lane **lane; /* per thread: [0] NULL (the engine's own) */
  size_t from, to;       /* the cycle's messages; from == to: the final flush */
} cycle;

/* Task `item` of the cycle on thread `thread` (ks_workers_run). */
static void cycle_task(void *ud, size_t thread, size_t item) {
  cycle *c = ud;
  int32_t task = (int32_t)item;
  assert_int_equal(ks_engine_task_bind(c->e, task, c->lane[thread]), 0);
  c->out[thread].task = task;
  char reason[256];
  if (c->from == c->to)
    ks_engine_flush_task(c->e, task);
  for (size_t i = c->from; i < c->to; i++) {
    const sim_msg *m = &c->w->msgs[i];
    int rc =
        ks_engine_process(c->e, task, m->topic, m->offset, m->buf, m->len, reason, sizeof reason);
    if (rc < 0)
      fail_msg("task %d message %zu: %d %s", task, i, rc, reason);
  }
  assert_int_equal(ks_engine_task_bind(c->e, task, NULL), 0);
}

static void tasks_on_two_threads_publish_what_one_does(void **state) {
  (void)state;
  sim_world *w = sim_world_new(16, 3 * 3600 * 1000);
  assert_true(w->n > 2 * CHUNK);
  size_t n_plugins;

  /* reference: one task, one thread */
  static lane_out ref;
  uint64_t ref_digest[1] = {0};
  memset(&ref, 0, sizeof ref);
  ref.digest = ref_digest;
  ks_engine *e1 = engine_new(w, &ref, &n_plugins);
  assert_int_equal(ks_engine_task_open(e1, 0), 0);
  sim_world_feed(e1, w, 0, w->n);
  ks_engine_flush_all(e1);
  ks_engine_stats st1;
  ks_engine_get_stats(e1, &st1);
  assert_true(st1.results_out > 100);
  assert_int_equal(st1.plugin_errors, 0);
  assert_int_equal(st1.results_out, ref.results);
  ks_engine_free(e1);

  /* TASKS tasks on a pool of two threads, cycle by cycle */
  static lane_out out[2];
  uint64_t digest[TASKS] = {0};
  memset(out, 0, sizeof out);
  out[0].digest = out[1].digest = digest;
  ks_engine *e = engine_new(w, &out[0], &n_plugins);
  for (int32_t t = 0; t < TASKS; t++)
    assert_int_equal(ks_engine_task_open(e, t), 0);
  ks_engine_lane *lanes[2] = {NULL, NULL};
  ks_engine_lane_options lo = {.sink = sink, .ud = &out[1]};
  assert_int_equal(ks_engine_lane_new(e, &lo, &lanes[1]), 0);
  assert_ptr_equal(ks_engine_lane_at(e, 1), lanes[1]);
  assert_null(ks_engine_lane_at(e, 2));
  assert_int_equal(ks_engine_task_bind(e, TASKS, lanes[1]), KS_ENOENT);
  ks_workers *pool;
  char err[256];
  assert_int_equal(ks_workers_new(&pool, 2, NULL, NULL, NULL, err, sizeof err), 0);
  cycle c = {e, w, out, lanes, 0, 0};
  for (size_t from = 0;; from += CHUNK) {
    c.from = from < w->n ? from : w->n;
    c.to = from + CHUNK < w->n ? from + CHUNK : w->n;
    ks_workers_run(pool, TASKS, cycle_task, &c); /* from == to: the final flush */
    ks_engine_lane_fold(lanes[1]);
    if (c.from == c.to)
      break;
  }
  ks_workers_free(pool);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_in, TASKS * st1.events_in);
  assert_int_equal(st.events_dispatched, TASKS * st1.events_dispatched);
  assert_int_equal(st.results_out, TASKS * st1.results_out);
  assert_int_equal(st.intervals_closed, TASKS * st1.intervals_closed);
  assert_int_equal(st.plugin_errors, 0);
  assert_int_equal(st.api_refusals, 0);
  assert_int_equal(out[0].results + out[1].results, TASKS * ref.results);
  assert_true(out[1].results > 0); /* the worker thread did run tasks */
  for (int32_t t = 0; t < TASKS; t++)
    if (digest[t] != ref_digest[0])
      fail_msg("task %d published other results than the single-threaded engine", t);
  uint64_t per_output = 0, res;
  for (size_t i = 0; ks_engine_output_topic(e, i, &res); i++)
    per_output += res;
  assert_int_equal(per_output, st.results_out);
  ks_engine_lane_free(lanes[1]);
  ks_engine_free(e);
  sim_world_free(w);
}

/* A contact with more agent events than operations keeps (OP_LEG_EVENTS,
 * 32) on every task at once: the plugin counts the events it cannot keep
 * for its log lines. That count was a plain field of the plugin's private
 * data, shared by all tasks: two threads incremented it at once (a data
 * race ThreadSanitizer reports). Now an atomic. */
#define HOLDS 40
static void full_leg_sets_on_two_threads(void **state) {
  (void)state;
  static uint8_t buf[2 + 2 * HOLDS][256];
  size_t len[2 + 2 * HOLDS], n = 0;
  static const uint32_t bodies[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED,
                                    KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED};
  for (size_t i = 0; i < 2 + 2 * HOLDS; i++) {
    Kpistream__V1__Event ev = ks_tk_event(KS_TK_T0 + KS_TK_SEC(10 + (int64_t)i), KS_TK_TENANT, 1,
                                          "sales", "c1", "u1", i ? "a1" : NULL);
    ks_tk_bodies b;
    uint32_t body = i < 2              ? bodies[i]
                    : (i - 2) % 2 == 0 ? KPISTREAM__V1__EVENT__BODY_HOLD_STARTED
                                       : KPISTREAM__V1__EVENT__BODY_HOLD_ENDED;
    assert_int_equal(ks_tk_set_body(&ev, &b, body), 0);
    len[n] = ks_tk_pack(&ev, buf[n], sizeof buf[n]);
    assert_true(len[n] > 0);
    n++;
  }
  const char *topics[] = {"t"};
  static lane_out out[2];
  uint64_t digest[TASKS] = {0};
  memset(out, 0, sizeof out);
  out[0].digest = out[1].digest = digest;
  ks_engine_options eo = {0};
  eo.topics = topics;
  eo.n_topics = 1;
  eo.sink = sink;
  eo.sink_ud = &out[0];
  eo.log_level = KS_LOG_ERROR; /* the plugin warns about the events it drops */
  ks_engine *e = NULL;
  char err[512];
  assert_int_equal(ks_engine_new(&e, &eo, err, sizeof err), 0);
  char path[1024];
  snprintf(path, sizeof path, "%s/kpi_operations.so", KS_TEST_PLUGIN_DIR);
  if (ks_engine_add_plugin(e, path, NULL, NULL, 0, err, sizeof err) != 0)
    fail_msg("%s", err);
  for (int32_t t = 0; t < TASKS; t++)
    assert_int_equal(ks_engine_task_open(e, t), 0);
  ks_engine_lane *lanes[2] = {NULL, NULL};
  ks_engine_lane_options lo = {.sink = sink, .ud = &out[1]};
  assert_int_equal(ks_engine_lane_new(e, &lo, &lanes[1]), 0);
  ks_workers *pool;
  assert_int_equal(ks_workers_new(&pool, 2, NULL, NULL, NULL, err, sizeof err), 0);
  /* the messages as a world of one topic */
  static sim_msg msgs[2 + 2 * HOLDS];
  for (size_t i = 0; i < n; i++)
    msgs[i] = (sim_msg){0, (int64_t)i, buf[i], len[i]};
  sim_world w = {.msgs = msgs, .n = n};
  cycle c = {e, &w, out, lanes, 0, n};
  ks_workers_run(pool, TASKS, cycle_task, &c);
  c.from = c.to;
  ks_workers_run(pool, TASKS, cycle_task, &c); /* the final flush */
  ks_workers_free(pool);
  ks_engine_lane_fold(lanes[1]);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.events_in, TASKS * n);
  assert_int_equal(st.plugin_errors, 0);
  for (int32_t t = 1; t < TASKS; t++)
    assert_true(digest[t] == digest[0]);
  ks_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tasks_on_two_threads_publish_what_one_does),
      cmocka_unit_test(full_leg_sets_on_two_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
