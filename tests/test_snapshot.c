/*
 * test_snapshot — checkpoints of task state (snapshot.c) through the real
 * engine and every KPI plugin that is built: a run cut at any point,
 * snapshotted, thrown away and restored into a fresh engine must publish
 * exactly the bytes of an uninterrupted run (same results, same order).
 * Also: refusals of truncated, foreign and mismatched snapshots.
 *
 * Input: the traffic simulator, all six input topics, one task:
 *   - 3 simulated hours of one tenant (seed 3) cut at 6 points;
 *   - the restore sweep: several seeds and tenant counts, across UTC
 *     midnight (day roll-ups, the next day's forecasts and shift plans),
 *     with short TTLs so keyed records expire in the middle of the stream,
 *     15- and 5-minute intervals, with and without a restatement horizon.
 *     Each stream is cut right before and right after every interval close,
 *     at two points inside every interval, and right after every event that
 *     expired a keyed record; at each cut every plugin is snapshotted, the
 *     engine destroyed and a fresh one (fresh plugin instances, as a restart
 *     does) restored. One run takes every cut in a row (so every restore
 *     after the first restores a restored engine; some cuts restore twice
 *     with no event in between); then single cuts from an uninterrupted
 *     start. All results must equal the uninterrupted run's byte for byte,
 *     and a snapshot taken right after a restore must equal the snapshot
 *     restored (nothing lost, nothing reordered).
 * Under valgrind and the sanitizers the sweep runs on smaller streams.
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

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
/* Sanitizer and valgrind runs sweep smaller streams (the full sweep runs
 * in the plain build). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMALL_RUN 1
#endif
#endif
#if !defined(SMALL_RUN) && defined(__SANITIZE_ADDRESS__)
#define SMALL_RUN 1
#endif
#ifndef SMALL_RUN
#define SMALL_RUN RUNNING_ON_VALGRIND
#endif

#include "engine.h"
#include "engine_internal.h" /* the stores' expiry counters, to cut right after an expiry */
#include "sim_model.h"
#include "sim_world.h"

/* the scorecard last: it reads the others' results */
static const char *const families[] = {"operations", "experience", "workforce", "quality",
                                       "value",      "forecast",   "scorecard"};
#define N_FAMILIES (sizeof families / sizeof families[0])

/* Short TTLs (same order as families), so keyed records expire within a
 * few simulated hours: idle agents, finished contacts, de-duplication
 * entries, next-best-action offers, forecasts. */
static const ks_kv short_ttl[N_FAMILIES][3] = {
    {{"contact_ttl", "40m"}},
    {{"contact_ttl", "40m"}},
    {{"agent_ttl", "30m"}},
    {{"dedupe_window", "20m"}},
    {{"contact_ttl", "40m"}, {"nba.ttl", "20m"}, {"dedupe_window", "15m"}},
    {{"contact_ttl", "40m"}, {"agent_ttl", "20m"}, {"forecast_ttl", "2h"}},
    {{"state_ttl", "1d"}},
};

struct out {
  uint8_t **rec; /* topic '\0' key '\0' value */
  size_t *len;
  size_t n, cap;
};

/* One simulated stream and how the engine runs it. */
typedef struct spec {
  const char *name;
  uint64_t seed;
  int tenants;
  const char *start; /* simulated clock start, UTC */
  int64_t duration_ms;
  int64_t interval_ms;
  int64_t restate_ms;
  int short_ttl;
} spec;

typedef struct out out;

typedef struct world {
  spec sp;
  sim_world *sw;       /* the stream (tests/support/sim_world.c) */
  const sim_msg *msgs; /* sw's, for short */
  size_t n;
  const char *const *topics;
  out *ref; /* the uninterrupted run's results, once computed (world_ref) */
} world;

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

static ks_engine *engine_new_ex(const world *w, out *o, int64_t interval_ms, size_t *n_plugins,
                                ks_interval_closed_fn on_closed, void *closed_ud) {
  ks_engine_options eo = {0};
  eo.interval_ms = interval_ms;
  eo.lateness_ms = 60000;
  eo.restate_ms = w->sp.restate_ms;
  eo.topics = w->topics;
  eo.n_topics = KS_SIM_NTOPICS;
  eo.sink = sink;
  eo.sink_ud = o;
  eo.on_closed = on_closed;
  eo.on_closed_ud = closed_ud;
  eo.log_level = KS_LOG_WARN;
  ks_engine *e = NULL;
  char err[512];
  assert_int_equal(ks_engine_new(&e, &eo, err, sizeof err), 0);
  size_t n = 0;
  for (size_t i = 0; i < N_FAMILIES; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/kpi_%s.so", KS_TEST_PLUGIN_DIR, families[i]);
    if (access(path, R_OK) != 0)
      continue;
    size_t nkv = 0;
    while (w->sp.short_ttl && nkv < 3 && short_ttl[i][nkv].key)
      nkv++;
    if (ks_engine_add_plugin(e, path, NULL, short_ttl[i], nkv, err, sizeof err) != 0)
      fail_msg("add_plugin %s: %s", path, err);
    n++;
  }
  assert_true(n >= 1);
  *n_plugins = n;
  return e;
}

static ks_engine *engine_new(const world *w, out *o, int64_t interval_ms, size_t *n_plugins) {
  return engine_new_ex(w, o, interval_ms, n_plugins, NULL, NULL);
}

static world *world_new(const spec *sp) {
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->sp = *sp;
  w->sw = sim_world_new_at(sp->seed, sp->tenants, sp->start, sp->duration_ms);
  w->msgs = w->sw->msgs;
  w->n = w->sw->n;
  w->topics = w->sw->topics;
  return w;
}

static void world_free(world *w) {
  sim_world_free(w->sw);
  if (w->ref) {
    out_free(w->ref);
    free(w->ref);
  }
  free(w);
}

static int world_setup(void **state) {
  const spec sp = {"seed 3, 1 tenant, 3 h", 3, 1, NULL, 3 * 3600 * 1000, 15 * 60000, 0, 0};
  world *w = world_new(&sp);
  assert_true(w->n > 5000);
  *state = w;
  return 0;
}

static int world_teardown(void **state) {
  world_free(*state);
  return 0;
}

static void feed(ks_engine *e, const world *w, size_t from, size_t to) {
  char reason[256];
  for (size_t i = from; i < to; i++) {
    int rc = ks_engine_process(e, 0, w->msgs[i].topic, w->msgs[i].offset, w->msgs[i].buf,
                               w->msgs[i].len, reason, sizeof reason);
    assert_true(rc >= 0);
  }
}

/* Feed the events from `from` on, close every interval, check that no
 * plugin failed, free the engine. */
static void run_to_end(ks_engine *e, const world *w, size_t from) {
  feed(e, w, from, w->n);
  assert_int_equal(ks_engine_flush_all(e), 0);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.plugin_errors, 0);
  ks_engine_free(e);
}

/* Result i of o equals result i of ref; otherwise the first difference,
 * with its topic, key and the last cut before it (marks[k]: results
 * published before cut k). */
static void compare(const out *ref, const out *o, const char *what, const size_t *cuts,
                    const size_t *marks, size_t n_cuts) {
  size_t n = o->n < ref->n ? o->n : ref->n;
  size_t i = 0;
  while (i < n && o->len[i] == ref->len[i] && memcmp(o->rec[i], ref->rec[i], o->len[i]) == 0)
    i++;
  if (i == n && o->n == ref->n)
    return;
  size_t k = n_cuts;
  while (k > 0 && marks[k - 1] > i)
    k--;
  const char *where = i < n ? "differs" : i < ref->n ? "is missing" : "is extra";
  const uint8_t *r = i < o->n ? o->rec[i] : ref->rec[i];
  fail_msg("%s: result %zu of %zu %s (%s %s), after the cut at event %zu (cut %zu of %zu); "
           "the restored run published %zu results",
           what, i, ref->n, where, (const char *)r, (const char *)r + strlen((const char *)r) + 1,
           k ? cuts[k - 1] : 0, k, n_cuts, o->n);
}

/* Snapshot every plugin of task 0, destroy the engine, restore into a fresh
 * one. The fresh engine's snapshots must be the ones restored: the first
 * that is not goes into *mismatch (reported after the results, which say
 * more). */
static ks_engine *crash_restore(ks_engine *a, const world *w, out *o, size_t cut, char *mismatch,
                                size_t mismatch_size) {
  size_t np = ks_engine_plugin_count(a);
  uint8_t *snap[N_FAMILIES];
  size_t len[N_FAMILIES];
  for (size_t p = 0; p < np; p++)
    assert_int_equal(ks_engine_snapshot(a, 0, p, &snap[p], &len[p]), 0);
  ks_engine_stats sa;
  ks_engine_get_stats(a, &sa);
  assert_int_equal(sa.plugin_errors, 0);
  ks_engine_free(a);
  ks_engine *b = engine_new(w, o, w->sp.interval_ms, &np);
  char err[512];
  for (size_t p = 0; p < np; p++)
    if (ks_engine_restore(b, 0, p, snap[p], len[p], err, sizeof err) != 0)
      fail_msg("%s: restore of plugin %s at event %zu: %s", w->sp.name, ks_engine_plugin_name(b, p),
               cut, err);
  for (size_t p = 0; p < np; p++) {
    uint8_t *again;
    size_t alen;
    assert_int_equal(ks_engine_snapshot(b, 0, p, &again, &alen), 0);
    if (!mismatch[0] && (alen != len[p] || memcmp(again, snap[p], alen) != 0)) {
      size_t d = 0;
      while (d < alen && d < len[p] && again[d] == snap[p][d])
        d++;
      snprintf(mismatch, mismatch_size,
               "%s: plugin %s restored at event %zu snapshots differently (%zu bytes, was %zu; "
               "first difference at byte %zu)",
               w->sp.name, ks_engine_plugin_name(b, p), cut, alen, len[p], d);
    }
    free(again);
    free(snap[p]);
  }
  return b;
}

/* A run cut at `cut`, snapshotted and restored, publishes what an
 * uninterrupted run publishes, byte for byte and in the same order. */
static void check_cut(world *w, const out *ref, size_t cut) {
  out o = {0};
  size_t np;
  ks_engine *a = engine_new(w, &o, w->sp.interval_ms, &np);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  feed(a, w, 0, cut);
  char mismatch[512] = "";
  ks_engine *b = crash_restore(a, w, &o, cut, mismatch, sizeof mismatch);
  for (uint32_t t = 0; t < KS_SIM_NTOPICS; t++) {
    /* next offsets resume right after the cut */
    int64_t expect = -1;
    for (size_t i = 0; i < cut; i++)
      if (w->msgs[i].topic == t)
        expect = w->msgs[i].offset + 1;
    assert_int_equal(ks_engine_next_offset(b, 0, t), expect);
  }
  size_t mark = o.n;
  run_to_end(b, w, cut);
  char what[160];
  snprintf(what, sizeof what, "%s, one cut at event %zu", w->sp.name, cut);
  compare(ref, &o, what, &cut, &mark, 1);
  if (mismatch[0])
    fail_msg("%s", mismatch);
  out_free(&o);
}

/* The uninterrupted run of w (computed once). */
static const out *world_ref(world *w) {
  if (w->ref == NULL) {
    w->ref = calloc(1, sizeof *w->ref);
    assert_non_null(w->ref);
    size_t np;
    ks_engine *e = engine_new(w, w->ref, w->sp.interval_ms, &np);
    assert_int_equal(ks_engine_task_open(e, 0), 0);
    run_to_end(e, w, 0);
    assert_true(w->ref->n > 100);
  }
  return w->ref;
}

static void test_cut_anywhere(void **state) {
  world *w = *state;
  const out *ref = world_ref(w);
  size_t cuts[] = {1, w->n / 7, w->n / 3, w->n / 2, (2 * w->n) / 3, w->n - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
    check_cut(w, ref, cuts[i]);
  print_message("%zu events, %zu results, 6 cuts identical\n", w->n, ref->n);
}

/* ---- the restore sweep ----------------------------------------------------------- */

/* Keyed records expired so far in task 0 (swept, or found idle on read). */
static uint64_t expired_records(const ks_engine *e) {
  const ks_task *t = e->cap_tasks ? e->tasks[0] : NULL;
  uint64_t n = 0;
  for (size_t i = 0; t && i < t->n_stores; i++)
    if (t->stores[i]) {
      ks_store_stats st;
      ks_store_get_stats(t->stores[i], &st);
      n += st.expired;
    }
  return n;
}

typedef struct closes {
  uint64_t n;
} closes;

static void on_closed(void *ud, int32_t task, int64_t start_ms, int64_t end_ms) {
  (void)task, (void)start_ms, (void)end_ms;
  ((closes *)ud)->n++;
}

/* Cut kinds, for the report. */
enum { CUT_BEFORE_CLOSE = 1, CUT_AFTER_CLOSE = 2, CUT_MID = 4, CUT_AFTER_EXPIRY = 8 };

typedef struct plan {
  unsigned char *kind; /* per cut position 0..n (a cut at k: after k events) */
  size_t *cuts;        /* the positions with a kind, ascending */
  size_t n_cuts;
  size_t n_closes, n_expiries;
} plan;

/* Two cuts inside (from, to): a third and two thirds of the way. */
static void mark_mid(plan *pl, size_t from, size_t to) {
  if (to - from < 3)
    return;
  pl->kind[from + (to - from) / 3] |= CUT_MID;
  pl->kind[from + 2 * (to - from) / 3] |= CUT_MID;
}

/* The uninterrupted run, and where to cut: right before and right after
 * every event that closed intervals, at a third and two thirds between two
 * such events, right after every event that expired keyed records, and
 * after the last event (the restored engine then only flushes). */
static void reference_run(const world *w, out *ref, plan *pl) {
  closes c = {0};
  size_t np;
  ks_engine *e = engine_new_ex(w, ref, w->sp.interval_ms, &np, on_closed, &c);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  pl->kind = calloc(w->n + 1, 1);
  assert_non_null(pl->kind);
  size_t last_close = 0;
  uint64_t expired = 0;
  for (size_t i = 0; i < w->n; i++) {
    uint64_t before = c.n;
    feed(e, w, i, i + 1);
    uint64_t x = expired_records(e);
    if (x > expired) {
      pl->kind[i + 1] |= CUT_AFTER_EXPIRY;
      pl->n_expiries++;
    }
    expired = x;
    if (c.n == before)
      continue;
    pl->n_closes += (size_t)(c.n - before);
    pl->kind[i] |= CUT_BEFORE_CLOSE;
    pl->kind[i + 1] |= CUT_AFTER_CLOSE;
    mark_mid(pl, last_close, i);
    last_close = i;
  }
  mark_mid(pl, last_close, w->n);
  pl->kind[w->n] |= CUT_AFTER_CLOSE;
  run_to_end(e, w, w->n);
  pl->kind[0] = 0; /* nothing to cut before the first event */
  pl->cuts = malloc((w->n + 1) * sizeof *pl->cuts);
  assert_non_null(pl->cuts);
  for (size_t k = 1; k <= w->n; k++)
    if (pl->kind[k])
      pl->cuts[pl->n_cuts++] = k;
}

/* One run taking every cut of the plan in a row; cuts right after an
 * expiry restore twice (a restore of a restore with no event between). */
static void chain_run(const world *w, const out *ref, const plan *pl) {
  out o = {0};
  size_t np;
  ks_engine *e = engine_new(w, &o, w->sp.interval_ms, &np);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  size_t *marks = calloc(pl->n_cuts ? pl->n_cuts : 1, sizeof *marks);
  assert_non_null(marks);
  size_t at = 0;
  char mismatch[512] = "";
  for (size_t k = 0; k < pl->n_cuts; k++) {
    size_t cut = pl->cuts[k];
    feed(e, w, at, cut);
    at = cut;
    marks[k] = o.n;
    e = crash_restore(e, w, &o, cut, mismatch, sizeof mismatch);
    if (pl->kind[cut] & CUT_AFTER_EXPIRY)
      e = crash_restore(e, w, &o, cut, mismatch, sizeof mismatch);
  }
  run_to_end(e, w, at);
  char what[160];
  snprintf(what, sizeof what, "%s, every cut in a row", w->sp.name);
  compare(ref, &o, what, pl->cuts, marks, pl->n_cuts);
  if (mismatch[0])
    fail_msg("%s", mismatch);
  free(marks);
  out_free(&o);
}

/* ---- incremental checkpoints ------------------------------------------------ */

#define MAX_LINKS 8 /* a full snapshot and up to 7 deltas */

typedef struct ckpt_link {
  uint8_t *blob[N_FAMILIES];
  size_t len[N_FAMILIES];
} ckpt_link;

static void links_free(ckpt_link *l, size_t n, size_t np) {
  for (size_t i = 0; i < n; i++)
    for (size_t p = 0; p < np; p++)
      free(l[i].blob[p]);
}

/* A copy of the results of o so far (a restored run goes on from them). */
static void out_copy(out *dst, const out *src) {
  for (size_t i = 0; i < src->n; i++) {
    if (dst->n == dst->cap) {
      dst->cap = dst->cap ? dst->cap * 2 : 1024;
      dst->rec = realloc(dst->rec, dst->cap * sizeof *dst->rec);
      dst->len = realloc(dst->len, dst->cap * sizeof *dst->len);
      assert_non_null(dst->rec);
      assert_non_null(dst->len);
    }
    dst->rec[dst->n] = malloc(src->len[i]);
    assert_non_null(dst->rec[dst->n]);
    memcpy(dst->rec[dst->n], src->rec[i], src->len[i]);
    dst->len[dst->n++] = src->len[i];
  }
}

/* One uninterrupted run checkpointed at every cut of the plan, as the
 * runner does: a full snapshot every `every` cuts (and at the first), a
 * delta of each plugin since the previous cut at the others. At every cut a
 * fresh engine restores the chain (the full snapshot, then each delta in
 * order) and must then snapshot byte for byte as the running engine does
 * (the property: full + deltas restore the state a full snapshot holds,
 * through every plugin's writes, removals, expiry and interval drops); at
 * every fifth cut (under valgrind and the sanitizers: restored at every third
 * cut, run to the end at every sixth) the restored engine also runs to the
 * end and must publish
 * what the uninterrupted run publishes. The running engine's own results
 * must not change either (tracking changes is invisible to plugins). */
static void delta_run(const world *w, const out *ref, const plan *pl, size_t every) {
  out o = {0};
  size_t np;
  ks_engine *a = engine_new(w, &o, w->sp.interval_ms, &np);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  ckpt_link chain[MAX_LINKS];
  size_t n_links = 0, at = 0, full_bytes = 0, delta_bytes = 0, n_full = 0, n_delta = 0;
  size_t *marks = calloc(pl->n_cuts ? pl->n_cuts : 1, sizeof *marks);
  assert_non_null(marks);
  char err[512];
  for (size_t k = 0; k < pl->n_cuts; k++) {
    size_t cut = pl->cuts[k];
    feed(a, w, at, cut);
    at = cut;
    marks[k] = o.n;
    int full = n_links == 0 || n_links == every || n_links == MAX_LINKS;
    if (full) {
      links_free(chain, n_links, np);
      n_links = 0;
    }
    ckpt_link *l = &chain[n_links++];
    for (size_t p = 0; p < np; p++) {
      if (full)
        assert_int_equal(ks_engine_snapshot(a, 0, p, &l->blob[p], &l->len[p]), 0);
      else
        assert_int_equal(ks_engine_delta(a, 0, p, &l->blob[p], &l->len[p]), 0);
      *(full ? &full_bytes : &delta_bytes) += l->len[p];
    }
    *(full ? &n_full : &n_delta) += 1;
    ks_engine_task_mark_clean(a, 0, (uint64_t)k + 1);
    /* under valgrind and the sanitizers, every third cut restored (the
     * deltas are still taken at every cut) */
    if (SMALL_RUN && k % 3 != 2 && k + 1 != pl->n_cuts)
      continue;
    out ob = {0};
    if (SMALL_RUN ? k % 6 == 5 : k % 5 == 4)
      out_copy(&ob, &o);
    size_t nb;
    ks_engine *b = engine_new(w, &ob, w->sp.interval_ms, &nb);
    for (size_t p = 0; p < np; p++)
      for (size_t i = 0; i < n_links; i++) {
        int rc =
            i == 0 ? ks_engine_restore(b, 0, p, chain[i].blob[p], chain[i].len[p], err, sizeof err)
                   : ks_engine_restore_delta(b, 0, p, chain[i].blob[p], chain[i].len[p], err,
                                             sizeof err);
        if (rc != 0)
          fail_msg("%s: plugin %s, cut %zu at event %zu, link %zu of %zu: %s", w->sp.name,
                   ks_engine_plugin_name(b, p), k, cut, i, n_links, err);
      }
    for (size_t p = 0; p < np; p++) {
      uint8_t *sa, *sb;
      size_t la, lb;
      assert_int_equal(ks_engine_snapshot(a, 0, p, &sa, &la), 0);
      assert_int_equal(ks_engine_snapshot(b, 0, p, &sb, &lb), 0);
      if (la != lb || memcmp(sa, sb, la) != 0) {
        size_t d = 0;
        while (d < la && d < lb && sa[d] == sb[d])
          d++;
        fail_msg("%s: plugin %s restored from a full snapshot and %zu deltas at event %zu "
                 "snapshots differently (%zu bytes, the running engine %zu; first difference at "
                 "byte %zu)",
                 w->sp.name, ks_engine_plugin_name(b, p), n_links - 1, cut, lb, la, d);
      }
      free(sa);
      free(sb);
    }
    if (SMALL_RUN ? k % 6 == 5 : k % 5 == 4) {
      size_t mark = ob.n;
      run_to_end(b, w, cut);
      char what[160];
      snprintf(what, sizeof what, "%s, restored from %zu deltas at event %zu", w->sp.name,
               n_links - 1, cut);
      compare(ref, &ob, what, &cut, &mark, 1);
    } else {
      ks_engine_free(b);
    }
    out_free(&ob);
  }
  links_free(chain, n_links, np);
  run_to_end(a, w, at);
  char what[160];
  snprintf(what, sizeof what, "%s, checkpointed with deltas at every cut", w->sp.name);
  compare(ref, &o, what, pl->cuts, marks, pl->n_cuts);
  print_message("%s: %zu full snapshots (%zu bytes), %zu deltas (%zu bytes), full every %zu\n",
                w->sp.name, n_full, full_bytes, n_delta, delta_bytes, every);
  assert_true(n_delta > 0);
  free(marks);
  out_free(&o);
}

static void sweep(const spec *sp, size_t single_cuts) {
  world *w = world_new(sp);
  assert_true(w->n > 1000);
  out ref = {0};
  plan pl = {0};
  reference_run(w, &ref, &pl);
  assert_true(ref.n > 100);
  assert_true(pl.n_closes >= 4);
  if (sp->short_ttl)
    assert_true(pl.n_expiries > 0);
  chain_run(w, &ref, &pl);
  delta_run(w, &ref, &pl, SMALL_RUN ? 4 : MAX_LINKS);
  /* single cuts from an uninterrupted start, spread over the plan */
  size_t step = single_cuts && pl.n_cuts > single_cuts ? pl.n_cuts / single_cuts : 1;
  size_t n_single = 0;
  for (size_t k = step / 2; single_cuts && k < pl.n_cuts; k += step, n_single++)
    check_cut(w, &ref, pl.cuts[k]);
  print_message("%s: %zu events, %zu results, %zu interval closes, %zu expiring events; "
                "%zu cuts in a row and %zu single cuts identical\n",
                sp->name, w->n, ref.n, pl.n_closes, pl.n_expiries, pl.n_cuts, n_single);
  free(pl.kind);
  free(pl.cuts);
  out_free(&ref);
  world_free(w);
}

/* ---- format 1 (before listed_ms) -------------------------------------------- */

typedef struct conv {
  const uint8_t *in;
  size_t n, off;
  uint8_t *out;
  size_t olen;
} conv;

/* Copy n bytes from in to out (skip: drop them); returns where they were. */
static const uint8_t *take(conv *c, size_t n, int skip) {
  assert_true(c->off + n <= c->n);
  const uint8_t *p = c->in + c->off;
  if (!skip) {
    memcpy(c->out + c->olen, p, n);
    c->olen += n;
  }
  c->off += n;
  return p;
}
static uint64_t take_le(conv *c, size_t n) {
  const uint8_t *p = take(c, n, 0);
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}
static void take_str(conv *c) {
  take(c, (size_t)take_le(c, 2), 0);
}

/* A format 2 snapshot written as format 1 (no listed_ms per record), by an
 * independent reading of the layout documented in snapshot.c. */
static uint8_t *to_format1(const uint8_t *in, size_t n, size_t *outlen) {
  conv c = {in, n, 0, malloc(n), 0};
  assert_non_null(c.out);
  take(&c, 4, 0);                      /* magic */
  assert_int_equal(take_le(&c, 4), 2); /* format */
  c.out[c.olen - 4] = 1;
  take(&c, 4 + 8, 0); /* task, interval */
  uint64_t nt = take_le(&c, 4);
  for (uint64_t i = 0; i < nt; i++) {
    take_str(&c);
    take(&c, 8, 0);
  }
  take(&c, 8 + 8 * nt + 8 + 8, 0);  /* watermark, maxima, now, next close */
  take(&c, 8 * take_le(&c, 4), 0);  /* open intervals */
  take(&c, 12 * take_le(&c, 4), 0); /* retained */
  take_str(&c);                     /* plugin */
  uint64_t ntab = take_le(&c, 4);
  for (uint64_t t = 0; t < ntab; t++) {
    take_str(&c);
    take(&c, 4, 0);
    uint64_t rsize = take_le(&c, 4);
    take(&c, 4, 0);
    uint64_t nrec = take_le(&c, 8);
    for (uint64_t r = 0; r < nrec; r++) {
      take(&c, 16, 0); /* interval, touched */
      take(&c, 8, 1);  /* listed: not in format 1 */
      take(&c, (size_t)take_le(&c, 2) + rsize, 0);
    }
  }
  assert_int_equal(c.off, n);
  *outlen = c.olen;
  return c.out;
}

/* Checkpoints of format 1 are still restored (a record's list time taken
 * to be its last touch); an unknown format is refused with the reason. */
static void test_format1_still_read(void **state) {
  world *w = *state;
  const out *ref = world_ref(w);
  out o = {0};
  size_t np;
  ks_engine *a = engine_new(w, &o, w->sp.interval_ms, &np);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  size_t cut = w->n / 2;
  feed(a, w, 0, cut);
  ks_engine *b = engine_new(w, &o, w->sp.interval_ms, &np);
  char err[512];
  size_t total = 0, total1 = 0;
  for (size_t p = 0; p < np; p++) {
    uint8_t *snap, *v1;
    size_t len, len1;
    assert_int_equal(ks_engine_snapshot(a, 0, p, &snap, &len), 0);
    v1 = to_format1(snap, len, &len1);
    assert_true(len1 < len || len1 == len); /* shorter unless no record */
    if (ks_engine_restore(b, 0, p, v1, len1, err, sizeof err) != 0)
      fail_msg("format 1 restore of plugin %s: %s", ks_engine_plugin_name(b, p), err);
    v1[4] = 3;
    assert_int_equal(ks_engine_restore(b, 0, p, v1, len1, err, sizeof err), KS_ESTATE);
    assert_string_equal(err, "checkpoint format 3, this build reads formats 1 to 2");
    total += len;
    total1 += len1;
    free(v1);
    free(snap);
  }
  print_message("checkpoint at event %zu: %zu bytes in format 2, %zu in format 1\n", cut, total,
                total1);
  ks_engine_free(a);
  size_t mark = o.n;
  run_to_end(b, w, cut);
  compare(ref, &o, "format 1 restore (default TTLs: nothing expires)", &cut, &mark, 1);
  out_free(&o);
}

#define MIN_MS  INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)

/* Night shift across midnight, one tenant, short TTLs. */
static void test_sweep_midnight(void **state) {
  (void)state;
  const int small = SMALL_RUN;
  const spec sp = {"seed 3, 1 tenant, across midnight, 15 min, short TTLs",
                   3,
                   1,
                   small ? "2026-11-23T23:00:00Z" : "2026-11-23T22:00:00Z",
                   (small ? 2 : 4) * HOUR_MS,
                   15 * MIN_MS,
                   0,
                   1};
  sweep(&sp, small ? 1 : 12);
}

/* Three tenants, 5-minute intervals, a restatement horizon (retained
 * intervals in the snapshot), across midnight. */
static void test_sweep_tenants(void **state) {
  (void)state;
  const int small = SMALL_RUN;
  const spec sp = {"seed 11, 3 tenants, across midnight, 5 min, restate 30 min, short TTLs",
                   11,
                   3,
                   small ? "2026-11-24T23:35:00Z" : "2026-11-24T23:20:00Z",
                   (small ? 45 * MIN_MS : 2 * HOUR_MS),
                   5 * MIN_MS,
                   30 * MIN_MS,
                   1};
  sweep(&sp, small ? 1 : 8);
}

/* Daytime traffic with the default TTLs, two tenants (not under valgrind
 * or a sanitizer: the two sweeps above cover its code paths there). */
static void test_sweep_day(void **state) {
  (void)state;
  if (SMALL_RUN) {
    print_message("daytime sweep: not under valgrind or a sanitizer\n");
    return;
  }
  const spec sp = {"seed 7, 2 tenants, from 09:00, 15 min, default TTLs",
                   7,
                   2,
                   "2026-11-25T09:00:00Z",
                   2 * HOUR_MS,
                   15 * MIN_MS,
                   0,
                   0};
  sweep(&sp, 8);
}

/* Damaged or foreign snapshots are refused with the reason. */
static void test_refusals(void **state) {
  world *w = *state;
  out o = {0};
  size_t np;
  ks_engine *a = engine_new(w, &o, 15 * 60000, &np);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  feed(a, w, 0, w->n / 2);
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
      cmocka_unit_test(test_cut_anywhere),       cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_format1_still_read), cmocka_unit_test(test_sweep_midnight),
      cmocka_unit_test(test_sweep_tenants),      cmocka_unit_test(test_sweep_day),
  };
  return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
