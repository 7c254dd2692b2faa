/*
 * bench_pipeline — kpistream's throughput benchmark (a program, not a test).
 *
 * One run measures, on this machine:
 *   (a) in process, one thread, over N pre-encoded events of a realistic mix:
 *       a1  protobuf-c decode alone (malloc + free_unpacked; into a reset arena;
 *           the host's ks_decode_event = arena + validation)
 *       a2  ks_engine_process: decode + route + aggregate, with no plugin and
 *           with the operations plugin (or a given one), results dropped
 *   (d) with --threads N: the engine's tasks fed in batches, as kpistream
 *       run drains them, on 1 and on N threads (processing.threads), and the
 *       speed-up; both must publish the same results task by task
 *   (b) end to end through the embedded broker (a separate process):
 *       b1  a plain librdkafka consumer that only counts the N messages
 *       b2  `kpistream run --until-eof` over the same topics
 *       and the ratio b2/b1.
 * What each number means and how to reproduce it: docs/benchmarks.md.
 *
 * Everything lives in main()'s bench struct: no global mutable state.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "bench_engine.h"
#include "bench_gen.h"
#include "bench_kafka.h"
#include "broker.h"
#include "decoder.h"
#include "engine.h"
#include "runner.h"
#include "state.h"
#include "workers.h"

#ifndef KS_BENCH_PLUGIN_DIR
#define KS_BENCH_PLUGIN_DIR "plugins"
#endif
#ifndef KS_BENCH_KPISTREAM
#define KS_BENCH_KPISTREAM "app/kpistream"
#endif
#ifndef KS_BENCH_BUILD_TYPE
#define KS_BENCH_BUILD_TYPE "unknown"
#endif

#define MAX_RUNS            32
#define DEFAULT_EVENTS      2000000
#define DEFAULT_RUNS        5
#define DEFAULT_BROKER_RUNS 3
#define TARGET_INPROC       1500000.0
#define TARGET_RATIO        0.6
#define TARGET_THREADS      1.7 /* (d): N threads over 1, on this machine's 2 cores */
#define SEED                UINT64_C(20261123)

typedef struct options {
  size_t events;
  int runs;
  int broker_runs;
  int skip_broker;
  int tenants; /* = partitions per input topic */
  int keep;
  int only_engine;    /* --only-engine: just a2 with the plugin (for profilers) */
  int digest;         /* --digest: hash every result (topic, key, value) in order */
  int threads;        /* --threads N: (d) on 1 and N threads (1: no (d)) */
  const char *plugin; /* NULL: operations, else the counter test plugin */
  ks_kv popts[16];    /* --plugin-option KEY=VALUE (strings point into argv) */
  size_t n_popts;
  const char *kpistream; /* NULL: the built binary if present, else this program */
} options;

typedef struct engine_outcome {
  _Alignas(64) ks_engine_stats st; /* one per thread in (d): no line shared between two */
  uint64_t result_bytes;
  int digest_on;
  uint64_t digest; /* of every result in order, with --digest */
  /* (d): each task's results in order, whichever thread ran it */
  uint64_t *task_digest; /* per task, shared by the lanes of one engine; NULL: not kept */
  int32_t cur_task;      /* the task whose results the lane's sink gets now */
  uint64_t cur_digest;   /* its digest so far (task_digest[cur_task] once the task is done) */
} engine_outcome;

/* Wall-clock seconds of each run, and the thread's CPU seconds beside them
 * (the machine may be shared: CPU time shows what preemption hides). */
typedef struct series {
  const char *label;
  double t[MAX_RUNS];
  double cpu[MAX_RUNS];
  int n;
} series;

typedef struct stopwatch {
  double wall, cpu;
} stopwatch;

/* CPU used by the whole machine vs by this program and its reaped children,
 * to tell how much other processes took while a part ran. */
typedef struct load_probe {
  double wall, busy, own;
} load_probe;

typedef struct bench {
  options o;
  bg_msgs msgs;
  char self[1024];
  char plugin_path[1024];
  char plugin_name[64];
  char plugin_note[1024];
  char engine_label[128];
  char ref_path[1024]; /* the tests' counter plugin, as a minimal-plugin reference */
  const char *launcher[3];
  engine_outcome with_plugin, no_plugin, with_ref, with_plugin_warm;
  series s_malloc, s_arena, s_validate, s_engine0, s_engine_ref, s_engine, s_engine_warm;
  series s_thr1, s_thrn; /* (d): wall time, process CPU time */
  char thr1_label[128], thrn_label[128];
  engine_outcome thr1, thrn;
  uint64_t thr1_digest, thrn_digest; /* every task's digest, in task order */
  char warm_label[128];
  double other_cores_a, other_cores_b; /* other processes' CPU during (a), (b), in cores */
  bk_result kafka;
  int kafka_ran;
  char kafka_err[1024];
} bench;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static stopwatch sw_start(void) {
  stopwatch w = {now_s(), cpu_s()};
  return w;
}

/* Seconds since w; the CPU seconds go to *cpu. */
static double sw_stop(stopwatch w, double *cpu) {
  *cpu = cpu_s() - w.cpu;
  return now_s() - w.wall;
}

static void series_add(series *s, double wall, double cpu) {
  s->t[s->n] = wall;
  s->cpu[s->n++] = cpu;
}

static double machine_busy_s(void) {
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL)
    return 0;
  unsigned long long us = 0, ni = 0, sy = 0, id = 0, io = 0, irq = 0, sirq = 0;
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &us, &ni, &sy, &id, &io, &irq, &sirq);
  fclose(f);
  if (n != 7)
    return 0;
  return (double)(us + ni + sy + irq + sirq) / (double)sysconf(_SC_CLK_TCK);
}

static double rusage_s(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static load_probe probe_now(void) {
  load_probe p = {now_s(), machine_busy_s(), rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN)};
  return p;
}

/* Average number of cores other processes kept busy since p. */
static double probe_other_cores(load_probe p) {
  load_probe q = probe_now();
  double other = (q.busy - p.busy) - (q.own - p.own);
  return q.wall > p.wall && other > 0 ? other / (q.wall - p.wall) : 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(const double *v, int n) {
  double s[MAX_RUNS > BK_MAX_RUNS ? MAX_RUNS : BK_MAX_RUNS];
  memcpy(s, v, (size_t)n * sizeof *v);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double minimum(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++)
    if (v[i] < m)
      m = v[i];
  return m;
}

/* ---- (a1) decode alone ----------------------------------------------------- */

static double decode_malloc(const bg_msgs *m, uint64_t *check, double *cpu) {
  uint64_t sum = 0;
  stopwatch w = sw_start();
  for (size_t i = 0; i < m->n; i++) {
    size_t len;
    const uint8_t *p = bg_msg(m, i, &len);
    Kpistream__V1__Event *ev = kpistream__v1__event__unpack(NULL, len, p);
    if (ev == NULL)
      abort();
    sum += (uint64_t)ev->body_case + (uint64_t)ev->event_time_ms;
    kpistream__v1__event__free_unpacked(ev, NULL);
  }
  double t = sw_stop(w, cpu);
  *check += sum;
  return t;
}

static double decode_arena(const bg_msgs *m, ks_arena *a, uint64_t *check, double *cpu) {
  uint64_t sum = 0;
  stopwatch w = sw_start();
  for (size_t i = 0; i < m->n; i++) {
    size_t len;
    const uint8_t *p = bg_msg(m, i, &len);
    ks_arena_reset(a);
    Kpistream__V1__Event *ev = kpistream__v1__event__unpack(&a->pb, len, p);
    if (ev == NULL)
      abort();
    sum += (uint64_t)ev->body_case + (uint64_t)ev->event_time_ms;
  }
  double t = sw_stop(w, cpu);
  *check += sum;
  return t;
}

static double decode_validate(const bg_msgs *m, ks_arena *a, uint64_t *check, double *cpu) {
  uint64_t sum = 0;
  char reason[128];
  stopwatch w = sw_start();
  for (size_t i = 0; i < m->n; i++) {
    size_t len;
    const uint8_t *p = bg_msg(m, i, &len);
    ks_arena_reset(a);
    const Kpistream__V1__Event *ev = ks_decode_event(a, p, len, reason, sizeof reason);
    if (ev == NULL) {
      fprintf(stderr, "bench: message %zu refused: %s\n", i, reason);
      abort();
    }
    sum += (uint64_t)ev->body_case + (uint64_t)ev->event_time_ms;
  }
  double t = sw_stop(w, cpu);
  *check += sum;
  return t;
}

/* ---- (a2) the engine --------------------------------------------------------- */

static int drop_sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                     size_t valuelen, const ks_result *r) {
  (void)r;
  engine_outcome *o = ud;
  o->result_bytes += keylen + valuelen;
  if (o->digest_on) {
    o->digest = ks_hash_bytes(topic, strlen(topic), o->digest);
    o->digest = ks_hash_bytes(key, keylen, o->digest);
    o->digest = ks_hash_bytes(value, valuelen, o->digest);
  }
  if (o->task_digest) {
    o->cur_digest = ks_hash_bytes(topic, strlen(topic), o->cur_digest);
    o->cur_digest = ks_hash_bytes(key, keylen, o->cur_digest);
    o->cur_digest = ks_hash_bytes(value, valuelen, o->cur_digest);
  }
  return 0;
}

static int engine_make(ks_engine **e, engine_outcome *out, const char *plugin, const ks_kv *popts,
                       size_t n_popts, int tasks, char *err, size_t errsz) {
  return bench_engine_new(e, drop_sink, out, plugin, popts, n_popts, tasks, err, errsz);
}

/* Feed every message as kpistream run would (task = partition = tenant mod
 * partitions, topic by kind, offsets counting up per partition), then close
 * every interval. Times the feeding and the final close. */
/* Feed every message once, as kpistream run would. Returns the number of
 * messages not processed (the first one's index and reason in *first_bad). */
static uint64_t engine_feed(ks_engine *e, const bg_msgs *m, int partitions, int64_t *offsets,
                            size_t *first_bad, char *reason, size_t reason_size) {
  uint64_t bad = 0;
  memset(offsets, 0, (size_t)partitions * BG_N_TOPICS * sizeof *offsets);
  for (size_t i = 0; i < m->n; i++) {
    size_t len;
    const uint8_t *p = bg_msg(m, i, &len);
    int32_t task = (int32_t)(m->tenant[i] % (unsigned)partitions);
    uint32_t topic = m->topic[i];
    int64_t *off = &offsets[(size_t)task * BG_N_TOPICS + topic];
    int rc = ks_engine_process(e, task, topic, (*off)++, p, len, reason, reason_size);
    if (rc != KS_PROCESSED && bad++ == 0)
      *first_bad = i;
  }
  ks_engine_flush_all(e);
  return bad;
}

/* warm: feed everything once untimed, close and reopen every task (their
 * state memory goes back to the engine's page source, as the records a
 * long-running instance expires do), then time a second, identical pass:
 * the state grows into memory already mapped instead of fresh pages. */
static int engine_run(const bg_msgs *m, int partitions, const char *plugin, const options *o,
                      int warm, double *secs, double *cpu, engine_outcome *out, char *err,
                      size_t errsz) {
  memset(out, 0, sizeof *out);
  out->digest_on = o->digest;
  ks_engine *e = NULL;
  if (engine_make(&e, out, plugin, o->popts, o->n_popts, partitions, err, errsz) != 0)
    return -1;
  int64_t *offsets = calloc((size_t)partitions * BG_N_TOPICS, sizeof *offsets);
  if (offsets == NULL) {
    ks_engine_free(e);
    snprintf(err, errsz, "out of memory");
    return -1;
  }
  char reason[256];
  uint64_t bad = 0;
  size_t first_bad = 0;
  ks_engine_stats before;
  memset(&before, 0, sizeof before);
  if (warm) {
    bad = engine_feed(e, m, partitions, offsets, &first_bad, reason, sizeof reason);
    for (int t = 0; t < partitions; t++)
      if (ks_engine_task_close(e, t) != 0 || ks_engine_task_open(e, t) != 0)
        bad++;
    ks_engine_get_stats(e, &before);
    int on = out->digest_on;
    memset(out, 0, sizeof *out);
    out->digest_on = on;
  }
  stopwatch w = sw_start();
  bad += engine_feed(e, m, partitions, offsets, &first_bad, reason, sizeof reason);
  *secs = sw_stop(w, cpu);
  ks_engine_get_stats(e, &out->st);
  /* the timed pass's counts only */
  out->st.events_dispatched -= before.events_dispatched;
  out->st.events_unrouted -= before.events_unrouted;
  out->st.intervals_closed -= before.intervals_closed;
  out->st.results_out -= before.results_out;
  out->st.plugin_errors -= before.plugin_errors;
  ks_engine_free(e);
  free(offsets);
  if (bad) {
    snprintf(err, errsz, "%" PRIu64 " events not processed (first: message %zu: %s)", bad,
             first_bad, reason);
    return -1;
  }
  return 0;
}

/* ---- (d) tasks on worker threads ------------------------------------------------ */

#define THREAD_BATCH 16384 /* messages per drain: what kpistream run consumes per wake-up */
#define OFF_STRIDE   ((BG_N_TOPICS + 7) / 8 * 8) /* a task's offsets: whole cache lines */

static double proc_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The messages of each batch grouped by task, in order (made before the clock
 * starts, as the consumer's routing into partitions is not the engine's work). */
typedef struct thr_plan {
  size_t *idx;   /* message indices: batch by batch, task by task, in order */
  size_t *start; /* [batch * tasks + task]: where its messages start in idx; one more at the end */
  size_t n_batches;
  int tasks;
} thr_plan;

typedef struct thr_run {
  const bg_msgs *m;
  const thr_plan *plan;
  ks_engine *e;
  engine_outcome *out;   /* per thread: [0] the engine's own lane's sink */
  ks_engine_lane **lane; /* per thread; [0] NULL: the engine's own */
  int64_t *offsets;      /* per task and topic */
  size_t batch;          /* the batch being drained; n_batches: the final flush */
  _Atomic uint64_t bad;
} thr_run;

static int plan_make(thr_plan *p, const bg_msgs *m, int tasks) {
  p->tasks = tasks;
  p->n_batches = (m->n + THREAD_BATCH - 1) / THREAD_BATCH;
  p->idx = malloc((m->n ? m->n : 1) * sizeof *p->idx);
  p->start = calloc(p->n_batches * (size_t)tasks + 1, sizeof *p->start);
  if (p->idx == NULL || p->start == NULL)
    return -1;
  for (size_t i = 0; i < m->n; i++) /* counts, then prefix sums */
    p->start[(i / THREAD_BATCH) * (size_t)tasks + m->tenant[i] % (unsigned)tasks + 1]++;
  size_t cells = p->n_batches * (size_t)tasks;
  for (size_t c = 0; c < cells; c++)
    p->start[c + 1] += p->start[c];
  size_t *fill = malloc((cells ? cells : 1) * sizeof *fill);
  if (fill == NULL)
    return -1;
  memcpy(fill, p->start, cells * sizeof *fill);
  for (size_t i = 0; i < m->n; i++)
    p->idx[fill[(i / THREAD_BATCH) * (size_t)tasks + m->tenant[i] % (unsigned)tasks]++] = i;
  free(fill);
  return 0;
}

static void plan_free(thr_plan *p) {
  free(p->idx);
  free(p->start);
}

/* One task of the current batch (or its final flush), on thread `thread`. */
static void thr_task(void *ud, size_t thread, size_t item) {
  thr_run *r = ud;
  int32_t task = (int32_t)item;
  engine_outcome *o = &r->out[thread];
  ks_engine_task_bind(r->e, task, r->lane[thread]);
  o->cur_task = task;
  o->cur_digest = o->task_digest[task];
  if (r->batch == r->plan->n_batches) {
    ks_engine_flush_task(r->e, task);
  } else {
    const size_t *s = &r->plan->start[r->batch * (size_t)r->plan->tasks + (size_t)task];
    char reason[256];
    for (size_t k = s[0]; k < s[1]; k++) {
      size_t i = r->plan->idx[k], len;
      const uint8_t *p = bg_msg(r->m, i, &len);
      int64_t *off = &r->offsets[(size_t)task * OFF_STRIDE + r->m->topic[i]];
      if (ks_engine_process(r->e, task, r->m->topic[i], (*off)++, p, len, reason, sizeof reason) !=
          KS_PROCESSED)
        atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
    }
  }
  o->task_digest[task] = o->cur_digest;
  ks_engine_task_bind(r->e, task, NULL);
}

/* Feed every message batch by batch, each batch's tasks spread over
 * `threads` threads (1: this one alone, no pool), then flush every task the
 * same way. *secs and *cpu: wall and process CPU time; out: stats, bytes;
 * *digest: every task's results digest in task order. */
static int threads_run(const bg_msgs *m, const thr_plan *plan, const char *plugin, const options *o,
                       int threads, double *secs, double *cpu, engine_outcome *out,
                       uint64_t *digest, char *err, size_t errsz) {
  int tasks = plan->tasks;
  engine_outcome lanes_out[KS_WORKERS_MAX];
  ks_engine_lane *lanes[KS_WORKERS_MAX] = {NULL};
  memset(lanes_out, 0, sizeof lanes_out);
  uint64_t *task_digest = calloc((size_t)tasks, sizeof *task_digest);
  thr_run r = {.m = m, .plan = plan, .out = lanes_out, .lane = lanes};
  size_t off_bytes = (size_t)tasks * OFF_STRIDE * sizeof *r.offsets;
  r.offsets = aligned_alloc(64, off_bytes);
  if (r.offsets)
    memset(r.offsets, 0, off_bytes);
  atomic_init(&r.bad, 0);
  ks_workers *pool = NULL;
  int rc = task_digest && r.offsets ? 0 : -1;
  if (rc != 0)
    snprintf(err, errsz, "out of memory");
  if (rc == 0)
    rc = engine_make(&r.e, &lanes_out[0], plugin, o->popts, o->n_popts, tasks, err, errsz);
  for (int t = 0; t < threads; t++)
    lanes_out[t].task_digest = task_digest;
  for (int t = 1; rc == 0 && t < threads; t++) {
    ks_engine_lane_options lo = {.sink = drop_sink, .ud = &lanes_out[t]};
    if ((rc = ks_engine_lane_new(r.e, &lo, &lanes[t])) != 0)
      snprintf(err, errsz, "out of memory");
  }
  if (rc == 0 && threads > 1)
    rc = ks_workers_new(&pool, (size_t)threads, NULL, NULL, NULL, err, errsz);
  ks_engine_stats before;
  memset(&before, 0, sizeof before);
  /* warm, as a2 warm: an untimed pass, every task closed and opened again
   * (its state memory back to the engine's page source), then the timed one */
  for (int pass = 0; rc == 0 && pass < 2; pass++) {
    if (pass == 1) {
      for (int t = 0; t < tasks; t++)
        if (ks_engine_task_close(r.e, t) != 0 || ks_engine_task_open(r.e, t) != 0)
          atomic_fetch_add_explicit(&r.bad, 1, memory_order_relaxed);
      memset(task_digest, 0, (size_t)tasks * sizeof *task_digest);
      memset(r.offsets, 0, off_bytes);
      for (int t = 0; t < threads; t++)
        lanes_out[t].result_bytes = 0;
      ks_engine_get_stats(r.e, &before);
    }
    double t0 = now_s(), c0 = proc_cpu_s();
    for (r.batch = 0; r.batch <= plan->n_batches; r.batch++) {
      if (pool)
        ks_workers_run(pool, (size_t)tasks, thr_task, &r);
      else
        for (int t = 0; t < tasks; t++)
          thr_task(&r, 0, (size_t)t);
      for (int t = 1; t < threads; t++) /* the join point: counters into the engine's */
        ks_engine_lane_fold(lanes[t]);
    }
    *secs = now_s() - t0;
    *cpu = proc_cpu_s() - c0;
  }
  if (rc == 0) {
    memset(out, 0, sizeof *out);
    ks_engine_get_stats(r.e, &out->st);
    /* the timed pass's counts only */
    const uint64_t *b0 = (const uint64_t *)&before;
    uint64_t *o0 = (uint64_t *)&out->st;
    for (size_t k = 0; k < sizeof before / sizeof *b0; k++)
      o0[k] -= b0[k];
    for (int t = 0; t < threads; t++)
      out->result_bytes += lanes_out[t].result_bytes;
    *digest = 0;
    for (int t = 0; t < tasks; t++)
      *digest = ks_hash_bytes(&task_digest[t], sizeof task_digest[t], *digest);
    uint64_t bad = atomic_load(&r.bad);
    if (bad) {
      snprintf(err, errsz, "%" PRIu64 " events not processed", bad);
      rc = -1;
    }
  }
  ks_workers_free(pool);
  ks_engine_free(r.e); /* and its lanes */
  free(r.offsets);
  free(task_digest);
  return rc;
}

/* Is this plugin loadable? Fills its name, or why not. */
static int plugin_probe(const char *path, const options *o, char *name, size_t namesz, char *why,
                        size_t whysz) {
  engine_outcome out;
  ks_engine *e = NULL;
  if (access(path, R_OK) != 0) {
    snprintf(why, whysz, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (engine_make(&e, &out, path, o->popts, o->n_popts, 0, why, whysz) != 0)
    return -1;
  snprintf(name, namesz, "%s", ks_engine_plugin_name(e, 0));
  ks_engine_free(e);
  return 0;
}

static int choose_plugin(bench *b) {
  char why[512] = "";
  if (b->o.plugin) {
    snprintf(b->plugin_path, sizeof b->plugin_path, "%s", b->o.plugin);
    if (plugin_probe(b->plugin_path, &b->o, b->plugin_name, sizeof b->plugin_name, why,
                     sizeof why)) {
      fprintf(stderr, "bench_pipeline: --plugin: %s\n", why);
      return -1;
    }
    snprintf(b->plugin_note, sizeof b->plugin_note, "given with --plugin");
    return 0;
  }
  snprintf(b->plugin_path, sizeof b->plugin_path, "%s/kpi_operations.so", KS_BENCH_PLUGIN_DIR);
  if (plugin_probe(b->plugin_path, &b->o, b->plugin_name, sizeof b->plugin_name, why, sizeof why) ==
      0) {
    snprintf(b->plugin_note, sizeof b->plugin_note, "the operations KPI family");
#ifdef KS_BENCH_TEST_PLUGIN_DIR
    snprintf(b->ref_path, sizeof b->ref_path, "%s/counter.so", KS_BENCH_TEST_PLUGIN_DIR);
    if (access(b->ref_path, R_OK) != 0)
      b->ref_path[0] = '\0';
#endif
    return 0;
  }
#ifdef KS_BENCH_TEST_PLUGIN_DIR
  char why2[512] = "";
  snprintf(b->plugin_path, sizeof b->plugin_path, "%s/counter.so", KS_BENCH_TEST_PLUGIN_DIR);
  if (plugin_probe(b->plugin_path, &b->o, b->plugin_name, sizeof b->plugin_name, why2,
                   sizeof why2) == 0) {
    snprintf(b->plugin_note, sizeof b->plugin_note,
             "STAND-IN: the operations plugin is not usable yet (%.400s); using the tests' counter "
             "plugin, so the a2/b2 numbers do NOT meet the issue's definition",
             why);
    fprintf(stderr, "bench_pipeline: warning: %s\n", b->plugin_note);
    return 0;
  }
  fprintf(stderr, "bench_pipeline: no usable plugin: %s; %s\n", why, why2);
#else
  fprintf(stderr, "bench_pipeline: no usable plugin: %s\n", why);
#endif
  return -1;
}

/* ---- reporting ------------------------------------------------------------------ */

static void read_field(const char *file, const char *key, char *out, size_t size) {
  snprintf(out, size, "?");
  FILE *f = fopen(file, "r");
  if (f == NULL)
    return;
  char line[512];
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) != 0)
      continue;
    const char *v = strchr(line, ':');
    if (v == NULL)
      continue;
    v++;
    while (*v == ' ' || *v == '\t')
      v++;
    snprintf(out, size, "%s", v);
    out[strcspn(out, "\n")] = '\0';
    break;
  }
  fclose(f);
}

static void print_machine(const bench *b) {
  char cpu[256], mem[64];
  read_field("/proc/cpuinfo", "model name", cpu, sizeof cpu);
  read_field("/proc/meminfo", "MemTotal", mem, sizeof mem);
  double la[3] = {0, 0, 0};
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
      la[0] = la[1] = la[2] = 0;
    fclose(f);
  }
  printf("machine : %ld CPUs online, %s, MemTotal %s; load average at the end %.2f %.2f %.2f\n",
         sysconf(_SC_NPROCESSORS_ONLN), cpu, mem, la[0], la[1], la[2]);
  printf("build   : %s, cc %s, librdkafka %s, protobuf-c %s\n", KS_BENCH_BUILD_TYPE, __VERSION__,
         rd_kafka_version_str(), protobuf_c_version());
  printf("plugin  : %s (%s) — %s\n", b->plugin_name, b->plugin_path, b->plugin_note);
  if (b->o.n_popts) {
    printf("options :");
    for (size_t i = 0; i < b->o.n_popts; i++)
      printf(" %s=%s", b->o.popts[i].key, b->o.popts[i].value);
    printf("\n");
  }
}

static void print_mix(const bench *b) {
  const bg_msgs *m = &b->msgs;
  double n = (double)m->n;
  printf("events  : %zu, %.1f bytes on average, %" PRIu64 " contacts, %d tenants = partitions "
         "per topic\n",
         m->n, (double)m->off[m->n] / n, m->contacts, m->n_tenants);
  printf("          event time %.2f h (%" PRId64 " intervals of 15 min), monotonic\n",
         (double)(m->t_last_ms - m->t_first_ms) / 3600000.0,
         (m->t_last_ms - m->t_first_ms) / BENCH_INTERVAL_MS + 1);
  printf("topics  :");
  for (unsigned t = 0; t < BG_N_TOPICS; t++)
    printf(" %s %.1f%%", bg_topic_name(t), 100.0 * (double)m->per_topic[t] / n);
  printf("\nbodies  :");
  int col = 10;
  for (unsigned k = 0; k < BG_N_BODIES; k++) {
    if (m->per_body[k] == 0)
      continue;
    char item[80];
    int w = snprintf(item, sizeof item, " %s %.1f%%", ks_body_name(k) ? ks_body_name(k) : "?",
                     100.0 * (double)m->per_body[k] / n);
    if (col + w > 100) {
      printf("\n         ");
      col = 9;
    }
    fputs(item, stdout);
    col += w;
  }
  printf("\n");
}

static void print_series(const series *s, size_t n, const char *note) {
  if (s->n == 0)
    return;
  double med = median(s->t, s->n), best = minimum(s->t, s->n), cpu = median(s->cpu, s->n);
  printf("  %-46s %11.0f %8.1f %11.0f %8.1f  %s\n", s->label, (double)n / med,
         med * 1e9 / (double)n, (double)n / best, cpu * 1e9 / (double)n, note);
}

static void print_inproc(const bench *b) {
  size_t n = b->msgs.n;
  printf("\n(a) in process, one thread, %zu events, %d runs (median and best); other "
         "processes kept %.2f cores busy meanwhile\n",
         n, b->s_engine.n, b->other_cores_a);
  printf("  %-46s %11s %8s %11s %8s\n", "", "events/s", "ns/event", "best ev/s", "CPU ns");
  print_series(&b->s_malloc, n, "");
  print_series(&b->s_arena, n, "");
  print_series(&b->s_validate, n, "");
  print_series(&b->s_engine0, n, "");
  print_series(&b->s_engine_ref, n, "reference: host + a trivial plugin");
  for (int k = 0; k < 2; k++) {
    const series *s = k ? &b->s_engine_warm : &b->s_engine;
    double rate = s->n ? (double)n / median(s->t, s->n) : 0;
    char note[160];
    snprintf(note, sizeof note, "target >= 1,500,000: %s%s",
             rate >= TARGET_INPROC ? "MET" : "MISSED",
             strcmp(b->plugin_name, "operations") ? " (stand-in plugin!)" : "");
    print_series(s, n, note);
  }
  printf("  (cold: a new engine, so every state page is touched for the first time; warm: the\n"
         "   same engine after a full untimed pass whose tasks were closed, so the state reuses\n"
         "   mapped memory as a long-running instance's does; both publish identical results)\n");
  const ks_engine_stats *st = &b->with_plugin.st;
  printf("  per run with %s: %" PRIu64 " dispatched, %" PRIu64 " unrouted, %" PRIu64
         " intervals closed, %" PRIu64 " results (%.1f MB encoded, dropped), %" PRIu64
         " plugin errors\n",
         b->plugin_name, st->events_dispatched, st->events_unrouted, st->intervals_closed,
         st->results_out, (double)b->with_plugin.result_bytes / 1e6, st->plugin_errors);
  if (b->o.digest)
    printf("  digest of every result (topic, key, value, in order): %016" PRIx64 "\n",
           b->with_plugin.digest);
}

static void print_threads(const bench *b) {
  if (b->o.threads <= 1 || b->s_thrn.n == 0)
    return;
  size_t n = b->msgs.n;
  printf("\n(d) tasks on worker threads (processing.threads): %zu events, %d tasks, drained in "
         "batches of %d\n    messages as kpistream run does, warm (as a2 warm), %d runs (median); "
         "CPU = the process's, all threads\n",
         n, b->o.tenants, THREAD_BATCH, b->s_thrn.n);
  printf("  %-46s %11s %8s %11s %8s\n", "", "events/s", "ns/event", "best ev/s", "CPU ns");
  print_series(&b->s_thr1, n, "");
  print_series(&b->s_thrn, n, "");
  double sp = median(b->s_thr1.t, b->s_thr1.n) / median(b->s_thrn.t, b->s_thrn.n);
  printf("  speed-up %d threads / 1 = %.2f  target >= %.1f on 2 cores: %s\n", b->o.threads, sp,
         TARGET_THREADS, sp >= TARGET_THREADS ? "MET" : "MISSED");
  printf("  results identical task by task: %" PRIu64 " results, digest per task %016" PRIx64 "\n",
         b->thrn.st.results_out, b->thrn_digest);
}

static void print_kafka(const bench *b) {
  const bk_result *k = &b->kafka;
  size_t n = b->msgs.n;
  printf("\n(b) end to end through the mock broker (a separate process; 2 cores shared)");
  if (b->kafka_ran)
    printf("; other processes kept %.2f cores busy meanwhile", b->other_cores_b);
  printf("\n");
  if (!b->kafka_ran) {
    printf("  skipped (--skip-broker)\n");
    return;
  }
  printf("  broker up in %.2f s; produced %" PRIu64 " messages in %.2f s (%.0f msg/s);\n"
         "  verified: %s; fullest partition ~%.2f MiB\n",
         k->broker_start_s, k->produced, k->produce_s,
         k->produce_s > 0 ? (double)k->produced / k->produce_s : 0.0, k->verify,
         (double)k->max_partition_bytes / 1048576.0);
  if (k->n_runs == 0) {
    printf("  no complete run: %s\n", b->kafka_err);
    return;
  }
  double w1[BK_MAX_RUNS], w2[BK_MAX_RUNS], j1[BK_MAX_RUNS], j2[BK_MAX_RUNS], t1[BK_MAX_RUNS],
      t2[BK_MAX_RUNS], c1[BK_MAX_RUNS], c2[BK_MAX_RUNS], bc1[BK_MAX_RUNS], bc2[BK_MAX_RUNS],
      wt2[BK_MAX_RUNS], rss2[BK_MAX_RUNS];
  int ok = 1;
  for (int i = 0; i < k->n_runs; i++) {
    w1[i] = k->b1[i].work_s;
    w2[i] = k->b2[i].work_s;
    j1[i] = k->b1[i].join_s;
    j2[i] = k->b2[i].join_s;
    t1[i] = k->b1[i].tail_s;
    t2[i] = k->b2[i].tail_s;
    c1[i] = k->b1[i].cpu_s;
    c2[i] = k->b2[i].cpu_s;
    bc1[i] = k->b1[i].broker_cpu_s;
    bc2[i] = k->b2[i].broker_cpu_s;
    wt2[i] = k->b2[i].work_s + k->b2[i].tail_s;
    rss2[i] = k->b2[i].rss_mib;
    ok &= k->b1[i].ok && k->b2[i].ok;
  }
  int r = k->n_runs;
  double r1 = (double)n / median(w1, r), r2 = (double)n / median(w2, r);
  printf("  %d runs each, interleaved; medians. 'consume' = partitions assigned -> every "
         "partition at its end\n",
         r);
  printf("  %-32s %7s %9s %12s %9s %8s %9s %9s\n", "", "join s", "consume s", "events/s",
         "ns/event", "tail s", "proc CPU", "brk CPU");
  printf("  %-32s %7.2f %9.3f %12.0f %9.1f %8.2f %9.2f %9.2f\n", "b1 counting consumer",
         median(j1, r), median(w1, r), r1, median(w1, r) * 1e9 / (double)n, median(t1, r),
         median(c1, r), median(bc1, r));
  printf("  %-32s %7.2f %9.3f %12.0f %9.1f %8.2f %9.2f %9.2f\n", "b2 kpistream run --until-eof",
         median(j2, r), median(w2, r), r2, median(w2, r) * 1e9 / (double)n, median(t2, r),
         median(c2, r), median(bc2, r));
  printf("  per run, consume s:  b1");
  for (int i = 0; i < r; i++)
    printf(" %.3f", w1[i]);
  printf("   b2");
  for (int i = 0; i < r; i++)
    printf(" %.3f", w2[i]);
  printf("\n  b2 with its tail (last intervals closed, results delivered, offsets committed, "
         "group left): %.0f events/s\n",
         (double)n / median(wt2, r));
  printf("  b2 `run`: CPU %.2f us/event (target <= 1.2: %s), peak RSS %.0f MiB (medians)\n",
         median(c2, r) * 1e6 / (double)n, median(c2, r) * 1e6 / (double)n <= 1.2 ? "MET" : "MISSED",
         median(rss2, r));
  printf("  b2: %" PRIu64 " events, %" PRIu64 " results, %" PRIu64 " rejected, %" PRIu64
         " late, %" PRIu64 " plugin errors (last run)%s\n",
         k->b2[r - 1].events, k->b2[r - 1].results, k->b2[r - 1].rejected, k->b2[r - 1].late,
         k->b2[r - 1].plugin_errors, ok ? "" : "  ** COUNTS WRONG, see above **");
  if (k->b2[r - 1].results != b->with_plugin.st.results_out)
    printf("  note: in process the same events gave %" PRIu64 " results\n",
           b->with_plugin.st.results_out);
  printf("  ratio b2/b1 = %.2f  target >= 0.6: %s%s\n", r2 / r1,
         r2 / r1 >= TARGET_RATIO ? "MET" : "MISSED",
         strcmp(b->plugin_name, "operations") ? " (stand-in plugin!)" : "");
  if (b->kafka_err[0])
    printf("  stopped early: %s\n", b->kafka_err);
}

/* ---- options ----------------------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f,
          "usage: bench_pipeline [options]\n"
          "\n"
          "kpistream's throughput benchmark: (a) in process, one thread: protobuf-c decode\n"
          "alone and decode + route + aggregate through the engine with the operations\n"
          "plugin; (b) end to end through the embedded broker: a counting consumer beside\n"
          "`kpistream run --until-eof`. See docs/benchmarks.md.\n"
          "\n"
          "options:\n"
          "  --events N        events to generate (default %d)\n"
          "  --runs K          in-process runs of each measurement (default %d; median, best)\n"
          "  --broker-runs K   end-to-end runs of b1 and b2 (default %d; median)\n"
          "  --skip-broker     only the in-process part (a)\n"
          "  --tenants T       tenants = partitions per input topic (default 64 per 4 M events)\n"
          "  --plugin PATH     plugin shared object (default: %s/kpi_operations.so)\n"
          "  --kpistream PATH  kpistream binary for (b), or 'self' to run the same code\n"
          "                    (ks_cmd_broker / ks_cmd_run) from this program\n"
          "                    (default: the built binary if present, else self)\n"
          "  --keep            keep the end-to-end work directory (config, logs)\n"
          "  --plugin-option K=V  a plugin option (repeatable; default: the plugin's defaults)\n"
          "  --only-engine     run only a2 with the plugin (implies --skip-broker; for\n"
          "                    perf record / valgrind --tool=callgrind)\n"
          "  --digest          print a digest of every result of a2 with the plugin (to\n"
          "                    compare two builds' output; costs time in the timed loop)\n"
          "  --threads N       (d): the plugin's tasks on 1 and on N threads (2..64), the\n"
          "                    speed-up; exits 1 when their results differ task by task\n"
          "  -h, --help        this help\n",
          DEFAULT_EVENTS, DEFAULT_RUNS, DEFAULT_BROKER_RUNS, KS_BENCH_PLUGIN_DIR);
}

static int parse_num(const char *opt, const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    fprintf(stderr, "bench_pipeline: %s: '%s' is not a number from %lld to %lld\n", opt, s, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

/* Returns -1 to continue, else an exit status. */
static int parse_options(options *o, int argc, char **argv) {
  static const struct option longopts[] = {{"events", required_argument, NULL, 'n'},
                                           {"runs", required_argument, NULL, 'r'},
                                           {"broker-runs", required_argument, NULL, 'R'},
                                           {"skip-broker", no_argument, NULL, 's'},
                                           {"tenants", required_argument, NULL, 't'},
                                           {"plugin", required_argument, NULL, 'p'},
                                           {"kpistream", required_argument, NULL, 'k'},
                                           {"keep", no_argument, NULL, 'K'},
                                           {"only-engine", no_argument, NULL, 'E'},
                                           {"digest", no_argument, NULL, 'D'},
                                           {"threads", required_argument, NULL, 'T'},
                                           {"plugin-option", required_argument, NULL, 'o'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->events = DEFAULT_EVENTS;
  o->runs = DEFAULT_RUNS;
  o->broker_runs = DEFAULT_BROKER_RUNS;
  int c;
  long long v;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'n':
      if (parse_num("--events", optarg, 1000, 50000000, &v))
        return 2;
      o->events = (size_t)v;
      break;
    case 'r':
      if (parse_num("--runs", optarg, 1, MAX_RUNS, &v))
        return 2;
      o->runs = (int)v;
      break;
    case 'R':
      if (parse_num("--broker-runs", optarg, 1, BK_MAX_RUNS, &v))
        return 2;
      o->broker_runs = (int)v;
      break;
    case 's':
      o->skip_broker = 1;
      break;
    case 't':
      if (parse_num("--tenants", optarg, 1, 1024, &v))
        return 2;
      o->tenants = (int)v;
      break;
    case 'p':
      o->plugin = optarg;
      break;
    case 'k':
      o->kpistream = optarg;
      break;
    case 'K':
      o->keep = 1;
      break;
    case 'o': {
      char *eq = strchr(optarg, '=');
      if (eq == NULL || eq == optarg || o->n_popts == sizeof o->popts / sizeof o->popts[0]) {
        fprintf(stderr, "bench_pipeline: --plugin-option expects KEY=VALUE (at most 16)\n");
        return 2;
      }
      *eq = '\0';
      o->popts[o->n_popts].key = optarg;
      o->popts[o->n_popts++].value = eq + 1;
      break;
    }
    case 'D':
      o->digest = 1;
      break;
    case 'T':
      if (parse_num("--threads", optarg, 1, KS_WORKERS_MAX, &v))
        return 2;
      o->threads = (int)v;
      break;
    case 'E':
      o->only_engine = 1;
      o->skip_broker = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "bench_pipeline: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
  }
  if (o->tenants == 0)
    o->tenants = 64 * (int)((o->events + 3999999) / 4000000);
  return -1;
}

/* ---- main ----------------------------------------------------------------------------- */

static int run_inproc(bench *b) {
  const bg_msgs *m = &b->msgs;
  char err[1024];
  ks_arena arena;
  if (ks_arena_init(&arena, 0) != 0)
    return -1;
  uint64_t check = 0;
  b->s_malloc.label = "a1 protobuf-c unpack, malloc + free_unpacked";
  b->s_arena.label = "a1 protobuf-c unpack into a reset arena";
  b->s_validate.label = "a1 ks_decode_event (arena + validation)";
  b->s_engine0.label = "a2 ks_engine_process, no plugin loaded";
  b->s_engine_ref.label = "a2 ks_engine_process + counter test plugin";
  options no_opts = b->o;
  no_opts.n_popts = 0;
  snprintf(b->engine_label, sizeof b->engine_label, "a2 ks_engine_process + %s, cold",
           b->plugin_name);
  b->s_engine.label = b->engine_label;
  snprintf(b->warm_label, sizeof b->warm_label, "a2 ks_engine_process + %s, warm", b->plugin_name);
  b->s_engine_warm.label = b->warm_label;
  int rc = 0;
  thr_plan plan = {0};
  snprintf(b->thr1_label, sizeof b->thr1_label, "d %s, batches on 1 thread", b->plugin_name);
  snprintf(b->thrn_label, sizeof b->thrn_label, "d %s, batches on %d threads", b->plugin_name,
           b->o.threads);
  b->s_thr1.label = b->thr1_label;
  b->s_thrn.label = b->thrn_label;
  if (b->o.threads > 1 && plan_make(&plan, m, b->o.tenants) != 0) {
    snprintf(err, sizeof err, "out of memory");
    rc = -1;
  }
  /* Interleave the variants run by run, so drift hits them alike. */
  for (int r = 0; r < b->o.runs && rc == 0; r++) {
    fprintf(stderr, "  .. in-process run %d/%d\n", r + 1, b->o.runs);
    double t, c;
    if (!b->o.only_engine) {
      t = decode_malloc(m, &check, &c);
      series_add(&b->s_malloc, t, c);
      t = decode_arena(m, &arena, &check, &c);
      series_add(&b->s_arena, t, c);
      t = decode_validate(m, &arena, &check, &c);
      series_add(&b->s_validate, t, c);
      if ((rc = engine_run(m, b->o.tenants, NULL, &b->o, 0, &t, &c, &b->no_plugin, err,
                           sizeof err)) != 0)
        break;
      series_add(&b->s_engine0, t, c);
      if (b->ref_path[0]) {
        if ((rc = engine_run(m, b->o.tenants, b->ref_path, &no_opts, 0, &t, &c, &b->with_ref, err,
                             sizeof err)) != 0)
          break;
        series_add(&b->s_engine_ref, t, c);
      }
    }
    if ((rc = engine_run(m, b->o.tenants, b->plugin_path, &b->o, 0, &t, &c, &b->with_plugin, err,
                         sizeof err)) != 0)
      break;
    series_add(&b->s_engine, t, c);
    fprintf(stderr, "  .. a2 %s, cold: %.0f events/s (CPU %.1f ns/event)\n", b->plugin_name,
            (double)m->n / t, c * 1e9 / (double)m->n);
    if ((rc = engine_run(m, b->o.tenants, b->plugin_path, &b->o, 1, &t, &c, &b->with_plugin_warm,
                         err, sizeof err)) != 0)
      break;
    series_add(&b->s_engine_warm, t, c);
    fprintf(stderr, "  .. a2 %s, warm: %.0f events/s (CPU %.1f ns/event)\n", b->plugin_name,
            (double)m->n / t, c * 1e9 / (double)m->n);
    if (b->with_plugin_warm.st.results_out != b->with_plugin.st.results_out ||
        b->with_plugin_warm.digest != b->with_plugin.digest) {
      snprintf(err, sizeof err, "the warm pass published other results than the cold one");
      rc = -1;
      break;
    }
    if (b->o.threads > 1) {
      if ((rc = threads_run(m, &plan, b->plugin_path, &b->o, 1, &t, &c, &b->thr1, &b->thr1_digest,
                            err, sizeof err)) != 0)
        break;
      series_add(&b->s_thr1, t, c);
      fprintf(stderr, "  .. d %s, 1 thread: %.0f events/s\n", b->plugin_name, (double)m->n / t);
      if ((rc = threads_run(m, &plan, b->plugin_path, &b->o, b->o.threads, &t, &c, &b->thrn,
                            &b->thrn_digest, err, sizeof err)) != 0)
        break;
      series_add(&b->s_thrn, t, c);
      fprintf(stderr, "  .. d %s, %d threads: %.0f events/s\n", b->plugin_name, b->o.threads,
              (double)m->n / t);
      if (b->thr1_digest != b->thrn_digest || b->thr1.st.results_out != b->thrn.st.results_out ||
          b->thr1.st.events_in != b->thrn.st.events_in ||
          b->thr1.st.intervals_closed != b->thrn.st.intervals_closed ||
          b->thr1.st.results_out != b->with_plugin.st.results_out) {
        snprintf(err, sizeof err,
                 "(d): %d threads published other results than 1: %" PRIu64 " vs %" PRIu64
                 " results (%" PRIu64 " in a2), digest per task %016" PRIx64 " vs %016" PRIx64,
                 b->o.threads, b->thrn.st.results_out, b->thr1.st.results_out,
                 b->with_plugin.st.results_out, b->thrn_digest, b->thr1_digest);
        rc = -1;
        break;
      }
    }
  }
  plan_free(&plan);
  ks_arena_free(&arena);
  if (rc != 0)
    fprintf(stderr, "bench_pipeline: engine: %s\n", err);
  if (check == 42) /* keeps the decode loops' results observable */
    fprintf(stderr, "!\n");
  return rc;
}

int main(int argc, char **argv) {
  /* Hidden: run a kpistream subcommand from this program (--kpistream self). */
  if (argc >= 3 && strcmp(argv[1], "__kpistream") == 0) {
    if (strcmp(argv[2], "broker") == 0)
      return ks_cmd_broker(argc - 2, argv + 2);
    if (strcmp(argv[2], "run") == 0)
      return ks_cmd_run(argc - 2, argv + 2);
    fprintf(stderr, "bench_pipeline: __kpistream: unknown subcommand '%s'\n", argv[2]);
    return 2;
  }
  bench *b = calloc(1, sizeof *b);
  if (b == NULL)
    return 1;
  int status = parse_options(&b->o, argc, argv);
  if (status >= 0) {
    free(b);
    return status;
  }
  ssize_t sl = readlink("/proc/self/exe", b->self, sizeof b->self - 1);
  if (sl <= 0) {
    fprintf(stderr, "bench_pipeline: cannot find my own executable\n");
    free(b);
    return 1;
  }
  b->self[sl] = '\0';
  if (b->o.kpistream && strcmp(b->o.kpistream, "self") != 0) {
    b->launcher[0] = b->o.kpistream;
  } else if (b->o.kpistream == NULL && access(KS_BENCH_KPISTREAM, X_OK) == 0) {
    b->launcher[0] = KS_BENCH_KPISTREAM;
  } else {
    b->launcher[0] = b->self;
    b->launcher[1] = "__kpistream";
  }
  status = 1;
  if (choose_plugin(b) != 0)
    goto out;

  char err[1024];
  fprintf(stderr, "  .. generating %zu events for %d tenants\n", b->o.events, b->o.tenants);
  double tg = now_s();
  if (bg_generate(&b->msgs, b->o.events, b->o.tenants, SEED, err, sizeof err) != 0) {
    fprintf(stderr, "bench_pipeline: %s\n", err);
    goto out;
  }
  fprintf(stderr, "  .. generated in %.1f s (%.1f MB)\n", now_s() - tg,
          (double)b->msgs.off[b->msgs.n] / 1e6);

  load_probe pa = probe_now();
  if (run_inproc(b) != 0)
    goto out;
  b->other_cores_a = probe_other_cores(pa);

  if (!b->o.skip_broker) {
    bk_opts ko;
    memset(&ko, 0, sizeof ko);
    ko.msgs = &b->msgs;
    ko.partitions = b->o.tenants;
    ko.runs = b->o.broker_runs;
    ko.launcher = b->launcher;
    ko.plugin_name = b->plugin_name;
    ko.plugin_path = b->plugin_path;
    ko.plugin_options = b->o.popts;
    ko.n_plugin_options = b->o.n_popts;
    ko.keep = b->o.keep;
    b->kafka_ran = 1;
    load_probe pb = probe_now();
    if (bk_run_all(&ko, &b->kafka, b->kafka_err, sizeof b->kafka_err) != 0)
      fprintf(stderr, "bench_pipeline: end to end: %s\n", b->kafka_err);
    b->other_cores_b = probe_other_cores(pb);
  }

  printf("\nkpistream bench_pipeline\n");
  print_machine(b);
  if (!b->o.skip_broker)
    printf("e2e     : %s%s (broker and kpistream run as child processes)\n", b->launcher[0],
           b->launcher[1] ? " __kpistream (same code as `kpistream`)" : "");
  print_mix(b);
  print_inproc(b);
  print_threads(b);
  print_kafka(b);
  if (b->kafka_ran && (b->o.keep || b->kafka_err[0]))
    printf("  work directory (config, logs): %s\n", b->kafka.workdir);
  status = b->kafka_err[0] ? 1 : 0;
out:
  bg_free(&b->msgs);
  free(b);
  return status;
}
