/*
 * test_snapshot — checkpoints of task state (snapshot.c) through the real
 * engine and every KPI plugin that is built: a run cut at any point,
 * snapshotted, thrown away and restored into a fresh engine must publish
 * exactly the bytes of an uninterrupted run (same results, same order).
 * Also: refusals of truncated, foreign and mismatched snapshots.
 *
 * Input: 3 simulated hours of one tenant (the traffic simulator, seed 3),
 * all six input topics, one task.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "sim_world.h"

/* the scorecard last: it reads the others' results */
static const char *const families[] = {"operations", "experience", "workforce", "quality",
                                       "value",      "forecast",   "scorecard"};

typedef struct out {
  uint8_t **rec; /* key '\0' value, length-prefixed */
  size_t *len;
  size_t n, cap;
} out;

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)r;
  out *o = ud;
  if (o->n == o->cap) {
    o->cap = o->cap ? o->cap * 2 : 1024;
    o->rec = realloc(o->rec, o->cap * sizeof *o->rec);
    o->len = realloc(o->len, o->cap * sizeof *o->len);
    assert_non_null(o->rec);
    assert_non_null(o->len);
  }
  size_t tl = strlen(topic), n = tl + 1 + keylen + 1 + valuelen;
  uint8_t *b = malloc(n);
  assert_non_null(b);
  memcpy(b, topic, tl + 1);
  memcpy(b + tl + 1, key, keylen);
  b[tl + 1 + keylen] = 0;
  memcpy(b + tl + 2 + keylen, value, valuelen);
  o->rec[o->n] = b;
  o->len[o->n++] = n;
  return 0;
}

static void out_free(out *o) {
  for (size_t i = 0; i < o->n; i++)
    free(o->rec[i]);
  free(o->rec);
  free(o->len);
  memset(o, 0, sizeof *o);
}

static ks_engine *engine_new(sim_world *w, out *o, int64_t interval_ms, size_t *n_plugins) {
  ks_engine_options eo = {0};
  eo.interval_ms = interval_ms;
  eo.lateness_ms = 60000;
  eo.topics = w->topics;
  eo.n_topics = KS_SIM_NTOPICS;
  eo.sink = sink;
  eo.sink_ud = o;
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
  assert_true(n >= 1);
  *n_plugins = n;
  return e;
}

static int world_setup(void **state) {
  sim_world *w = sim_world_new(3, 3 * 3600 * 1000);
  assert_true(w->n > 5000);
  *state = w;
  return 0;
}

static int world_teardown(void **state) {
  sim_world_free(*state);
  return 0;
}

/* A run cut at `cut`, snapshotted and restored, publishes what an
 * uninterrupted run publishes, byte for byte and in the same order. */
static void check_cut(sim_world *w, const out *ref, size_t cut) {
  out o = {0};
  size_t np;
  ks_engine *a = engine_new(w, &o, 15 * 60000, &np);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  sim_world_feed(a, w, 0, cut);
  uint8_t *snap[8];
  size_t len[8];
  for (size_t p = 0; p < np; p++)
    assert_int_equal(ks_engine_snapshot(a, 0, p, &snap[p], &len[p]), 0);
  ks_engine_stats sa;
  ks_engine_get_stats(a, &sa);
  ks_engine_free(a); /* the crash */

  ks_engine *b = engine_new(w, &o, 15 * 60000, &np);
  char err[512];
  for (size_t p = 0; p < np; p++) {
    if (ks_engine_restore(b, 0, p, snap[p], len[p], err, sizeof err) != 0)
      fail_msg("restore plugin %zu at cut %zu: %s", p, cut, err);
    free(snap[p]);
  }
  for (uint32_t t = 0; t < KS_SIM_NTOPICS; t++) {
    /* next offsets resume right after the cut */
    int64_t expect = -1;
    for (size_t i = 0; i < cut; i++)
      if (w->msgs[i].topic == t)
        expect = w->msgs[i].offset + 1;
    assert_int_equal(ks_engine_next_offset(b, 0, t), expect);
  }
  sim_world_feed(b, w, cut, w->n);
  assert_int_equal(ks_engine_flush_all(b), 0);
  ks_engine_stats sb;
  ks_engine_get_stats(b, &sb);
  assert_int_equal(sa.plugin_errors + sb.plugin_errors, 0);
  ks_engine_free(b);

  if (o.n != ref->n)
    fail_msg("cut at %zu: %zu results, uninterrupted run has %zu", cut, o.n, ref->n);
  for (size_t i = 0; i < o.n; i++)
    if (o.len[i] != ref->len[i] || memcmp(o.rec[i], ref->rec[i], o.len[i]) != 0)
      fail_msg("cut at %zu: result %zu differs (%s vs %s)", cut, i,
               (const char *)o.rec[i] + strlen((const char *)o.rec[i]) + 1,
               (const char *)ref->rec[i] + strlen((const char *)ref->rec[i]) + 1);
  out_free(&o);
}

static void test_cut_anywhere(void **state) {
  sim_world *w = *state;
  out ref = {0};
  size_t np;
  ks_engine *e = engine_new(w, &ref, 15 * 60000, &np);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  sim_world_feed(e, w, 0, w->n);
  assert_int_equal(ks_engine_flush_all(e), 0);
  ks_engine_free(e);
  assert_true(ref.n > 100);
  size_t cuts[] = {1, w->n / 7, w->n / 3, w->n / 2, (2 * w->n) / 3, w->n - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
    check_cut(w, &ref, cuts[i]);
  print_message("%zu events, %zu plugins, %zu results, 6 cuts identical\n", w->n, np, ref.n);
  out_free(&ref);
}

/* Damaged or foreign snapshots are refused with the reason. */
static void test_refusals(void **state) {
  sim_world *w = *state;
  out o = {0};
  size_t np;
  ks_engine *a = engine_new(w, &o, 15 * 60000, &np);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  sim_world_feed(a, w, 0, w->n / 2);
  uint8_t *snap;
  size_t len;
  assert_int_equal(ks_engine_snapshot(a, 0, 0, &snap, &len), 0);
  uint8_t *none = NULL;
  size_t nlen = 0;
  assert_int_equal(ks_engine_snapshot(a, 7, 0, &none, &nlen), KS_ENOENT); /* no task 7 */
  assert_null(none);
  char err[512];
  ks_engine *b = engine_new(w, &o, 15 * 60000, &np);
  assert_int_equal(ks_engine_restore(b, 0, 0, snap, len - 3, err, sizeof err), KS_ESTATE);
  assert_non_null(strstr(err, "truncated"));
  assert_int_equal(ks_engine_restore(b, 1, 0, snap, len, err, sizeof err), KS_ESTATE);
  assert_string_equal(err, "checkpoint is of task 0, not task 1");
  uint8_t junk[16] = "not a checkpoint";
  assert_int_equal(ks_engine_restore(b, 0, 0, junk, sizeof junk, err, sizeof err), KS_ESTATE);
  assert_string_equal(err, "not a kpistream checkpoint (bad magic)");
  ks_engine_free(b);
  ks_engine *c = engine_new(w, &o, 30 * 60000, &np);
  assert_int_equal(ks_engine_restore(c, 0, 0, snap, len, err, sizeof err), KS_ECONFIG);
  assert_string_equal(err,
                      "checkpoint was taken with 900000 ms intervals, this run uses 1800000 ms");
  ks_engine_free(c);
  free(snap);
  ks_engine_free(a);
  out_free(&o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cut_anywhere),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
