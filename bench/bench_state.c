/*
 * bench_state — benchmark (c) of issue 16: state at scale and incremental
 * checkpoints, in process (no broker: the embedded broker keeps about
 * 5 MiB per partition, far less than the state measured here).
 *
 * The generator's stream (bench_gen.c) goes through the engine with the
 * operations plugin and long TTLs (contact_ttl 30 d by default), all on one
 * task (one instance's state), three times:
 *   off   no checkpoints;
 *   incr  a checkpoint every --checkpoint-ms of wall time (default 5000) as
 *         `kpistream run` builds it (ks_ckpt_build_next: a delta, a full
 *         snapshot every --full-every, or above --full-ratio of records
 *         changed), chunked as for the changelog; the chunks are counted and
 *         dropped, except the current chain's, kept for the restore;
 *   full  the same with every checkpoint a full snapshot (full_every 1).
 * It reports throughput of each (and incr/off, full/off), the bytes of each
 * checkpoint (full snapshots and deltas apart), the time spent building
 * them, and the restore of the last checkpoint of incr (its full snapshot
 * and every delta after it, through ks_ckpt_collect_* as a restart does)
 * into a fresh engine, whose snapshot must equal the running engine's.
 * Results of the three runs must be identical (digest).
 *
 * usage: bench_state [--events N] [--tenants T] [--checkpoint-ms MS]
 *                    [--full-every K] [--full-ratio R] [--rate N]
 *                    [--plugin-option K=V]...
 * --rate paces the stream at N events per second of wall time (a live input
 * instead of a backlog read as fast as possible): then compare the CPU
 * seconds of the runs. Unpaced, 5 s of wall time hold millions of events
 * (days of event time), so deltas are as large as they can get.
 * A small run (--events 300000) takes seconds; --events 30000000 builds
 * more than 1 GB of state (docs/benchmarks.md "Incremental checkpoints").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <getopt.h>

#include "bench_engine.h"
#include "bench_gen.h"
#include "checkpoint.h"
#include "engine.h"
#include "state.h"

#define MAX_OPTS 16

typedef struct opts {
  size_t events;
  int tenants;
  int64_t checkpoint_ms;
  uint32_t full_every;
  double full_ratio;
  double rate; /* events per second of wall time (0: as fast as it goes) */
  ks_kv popts[MAX_OPTS];
  size_t n_popts;
} opts;

typedef struct outcome {
  uint64_t digest, results;
} outcome;

typedef struct run_stats {
  const char *label;
  double seconds, cpu_seconds, ckpt_seconds, max_ckpt_seconds;
  uint64_t n_full, n_delta, full_bytes, delta_bytes, max_full, max_delta;
  size_t state_bytes;
  outcome out;
} run_stats;

/* The messages of the current chain (its full snapshot and deltas since). */
typedef struct chain_keep {
  ks_ckpt_msg **m;
  size_t *n;
  size_t len, cap;
} chain_keep;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)r;
  outcome *o = ud;
  o->digest = ks_hash_bytes(topic, strlen(topic), o->digest);
  o->digest = ks_hash_bytes(key, keylen, o->digest);
  o->digest = ks_hash_bytes(value, valuelen, o->digest);
  o->results++;
  return 0;
}

static ks_engine *engine_make(const opts *o, outcome *out) {
  ks_engine *e = NULL;
  char err[512] = "";
  if (bench_engine_new(&e, sink, out, KS_BENCH_PLUGIN_DIR "/kpi_operations.so", o->popts,
                       o->n_popts, 1, err, sizeof err) != 0) {
    fprintf(stderr, "bench_state: engine: %s\n", err);
    exit(1);
  }
  return e;
}

static void keep_clear(chain_keep *k) {
  for (size_t i = 0; i < k->len; i++)
    ks_ckpt_msgs_free(k->m[i], k->n[i]);
  k->len = 0;
}

static void keep_add(chain_keep *k, ks_ckpt_msg *m, size_t n) {
  if (k->len == k->cap) {
    k->cap = k->cap ? k->cap * 2 : 16;
    k->m = realloc(k->m, k->cap * sizeof *k->m);
    k->n = realloc(k->n, k->cap * sizeof *k->n);
    if (k->m == NULL || k->n == NULL)
      abort();
  }
  k->m[k->len] = m;
  k->n[k->len++] = n;
}

/* One checkpoint of task 0; its messages go to keep (a full snapshot
 * starts a new chain) or are freed. */
static void checkpoint(ks_engine *e, const ks_ckpt_policy *pol, ks_ckpt_chain *chain,
                       ks_ckpt_ident *id, run_stats *st, chain_keep *keep) {
  const int32_t parts[1] = {1};
  ks_ckpt_msg *m = NULL;
  size_t n = 0;
  int full = 0;
  id->id++;
  double t0 = now_s();
  if (ks_ckpt_build_next(e, parts, 0, pol, chain, id, 0, &m, &n, &full) != 0) {
    fprintf(stderr, "bench_state: checkpoint failed (out of memory)\n");
    exit(1);
  }
  double dt = now_s() - t0;
  st->ckpt_seconds += dt;
  if (dt > st->max_ckpt_seconds)
    st->max_ckpt_seconds = dt;
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; i++)
    bytes += m[i].len;
  if (full) {
    st->n_full++;
    st->full_bytes += bytes;
    if (bytes > st->max_full)
      st->max_full = bytes;
  } else {
    st->n_delta++;
    st->delta_bytes += bytes;
    if (bytes > st->max_delta)
      st->max_delta = bytes;
  }
  if (keep) {
    if (full)
      keep_clear(keep);
    keep_add(keep, m, n);
  } else {
    ks_ckpt_msgs_free(m, n);
  }
}

/* Feed every message to task 0 (offsets per topic), checkpointing every
 * ckpt_ms of wall time (0: never) and once at the end. The engine is
 * returned for the restore check. */
static ks_engine *run(const opts *o, const bg_msgs *m, const ks_ckpt_policy *pol, run_stats *st,
                      chain_keep *keep) {
  ks_engine *e = engine_make(o, &st->out);
  int64_t offsets[BG_N_TOPICS] = {0};
  ks_ckpt_chain chain;
  memset(&chain, 0, sizeof chain);
  ks_ckpt_ident id = {1, 0xB5, 0};
  char reason[256];
  double t0 = now_s(), c0 = cpu_s(), next = t0 + (double)o->checkpoint_ms / 1000.0;
  for (size_t i = 0; i < m->n; i++) {
    if (o->rate > 0 && (i & 1023) == 0) { /* paced: wait for the stream's clock */
      double due = t0 + (double)i / o->rate, wait = due - now_s();
      if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
    size_t len;
    const uint8_t *p = bg_msg(m, i, &len);
    uint32_t topic = m->topic[i];
    (void)ks_engine_process(e, 0, topic, offsets[topic]++, p, len, reason, sizeof reason);
    if (pol && (i & 4095) == 0 && now_s() >= next) {
      checkpoint(e, pol, &chain, &id, st, keep);
      next = now_s() + (double)o->checkpoint_ms / 1000.0;
    }
  }
  if (pol)
    checkpoint(e, pol, &chain, &id, st, keep);
  st->seconds = now_s() - t0;
  st->cpu_seconds = cpu_s() - c0;
  st->state_bytes = ks_engine_state_bytes(e);
  return e;
}

static void report(const run_stats *s, size_t events, const run_stats *off) {
  printf("  %-5s %8.2f s  %9.0f events/s; CPU %.2f s, %9.0f events per CPU-second", s->label,
         s->seconds, (double)events / s->seconds, s->cpu_seconds, (double)events / s->cpu_seconds);
  if (off && off != s)
    printf("  (%.3fx of off by wall time, %.3fx by CPU)", off->seconds / s->seconds,
           off->cpu_seconds / s->cpu_seconds);
  printf("\n");
  if (s->n_full + s->n_delta) {
    printf("        checkpoints: %" PRIu64
           " full (%.1f MB each on average, largest %.1f MB), %" PRIu64
           " deltas (%.2f MB each on average, largest %.2f MB)\n",
           s->n_full, s->n_full ? (double)s->full_bytes / (double)s->n_full / 1e6 : 0,
           (double)s->max_full / 1e6, s->n_delta,
           s->n_delta ? (double)s->delta_bytes / (double)s->n_delta / 1e6 : 0,
           (double)s->max_delta / 1e6);
    printf("        time building them: %.2f s in all (%.1f %% of the run), longest %.3f s; "
           "bytes written %.1f MB\n",
           s->ckpt_seconds, 100.0 * s->ckpt_seconds / s->seconds, s->max_ckpt_seconds,
           (double)(s->full_bytes + s->delta_bytes) / 1e6);
  }
}

/* Restore the kept chain into a fresh engine as a restart does, timed; its
 * snapshot must equal the running engine's. */
static void restore_check(const opts *o, const chain_keep *keep, ks_engine *running) {
  static char topic[] = "bench.changelog.operations";
  static char *const topics[1] = {topic};
  static const int32_t parts[1] = {0};
  outcome out = {0, 0};
  ks_engine *e = engine_make(o, &out);
  ks_engine_task_close(e, 0);
  size_t records = 0;
  uint64_t bytes = 0;
  double t0 = now_s();
  ks_ckpt_collect *c = ks_ckpt_collect_new(1, topics, parts, 0);
  char err[1024];
  int64_t offset = 0;
  for (size_t k = 0; k < keep->len; k++)
    for (size_t i = 0; i < keep->n[k]; i++) {
      const ks_ckpt_msg *msg = &keep->m[k][i];
      if (ks_ckpt_collect_add(c, 0, offset++, msg->value, msg->len, err, sizeof err) != 0) {
        fprintf(stderr, "bench_state: restore: %s\n", err);
        exit(1);
      }
      records++;
      bytes += msg->len;
    }
  double t_read = now_s() - t0;
  ks_ckpt_ident id;
  int rc = ks_ckpt_collect_restore(c, e, KS_LOG_WARN, &id, err, sizeof err);
  ks_ckpt_chain chain;
  ks_ckpt_collect_chain(c, &chain);
  ks_ckpt_collect_free(c);
  double t = now_s() - t0;
  if (rc != KS_CKPT_RESTORED) {
    fprintf(stderr, "bench_state: restore failed (%d): %s\n", rc, err);
    exit(1);
  }
  printf("  restore of the last checkpoint (full snapshot and %u deltas, %zu records, %.1f MB): "
         "%.2f s (%.2f s assembling the records, %.2f s loading the state), %.0f MB/s\n",
         chain.deltas, records, (double)bytes / 1e6, t, t_read, t - t_read,
         (double)bytes / 1e6 / t);
  uint8_t *a, *b;
  size_t la, lb;
  if (ks_engine_snapshot(running, 0, 0, &a, &la) != 0 ||
      ks_engine_snapshot(e, 0, 0, &b, &lb) != 0) {
    fprintf(stderr, "bench_state: snapshot failed\n");
    exit(1);
  }
  int same = la == lb && memcmp(a, b, la) == 0;
  printf("  restored state %s the running engine's (%zu bytes of snapshot)\n",
         same ? "equals" : "DIFFERS FROM", la);
  free(a);
  free(b);
  ks_engine_free(e);
  if (!same)
    exit(1);
}

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: bench_state [--events N] [--tenants T] [--checkpoint-ms MS] [--full-every K]\n"
      "                   [--full-ratio R] [--rate EVENTS_PER_S] [--plugin-option KEY=VALUE]...\n"
      "  --rate paces the stream (a live input rather than a backlog): compare CPU then\n"
      "  defaults: --events 2000000 --tenants 8 --checkpoint-ms 5000 --full-every 10\n"
      "            --full-ratio 0.5, operations with contact_ttl=30d\n");
}

int main(int argc, char **argv) {
  opts o;
  memset(&o, 0, sizeof o);
  o.events = 2000000;
  o.tenants = 8;
  o.checkpoint_ms = 5000;
  o.full_every = 10;
  o.full_ratio = 0.5;
  o.popts[o.n_popts++] = (ks_kv){"contact_ttl", "30d"};
  static const struct option longopts[] = {{"events", required_argument, NULL, 'n'},
                                           {"tenants", required_argument, NULL, 't'},
                                           {"checkpoint-ms", required_argument, NULL, 'c'},
                                           {"full-every", required_argument, NULL, 'k'},
                                           {"full-ratio", required_argument, NULL, 'r'},
                                           {"rate", required_argument, NULL, 'R'},
                                           {"plugin-option", required_argument, NULL, 'o'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'n':
      o.events = strtoull(optarg, NULL, 10);
      break;
    case 't':
      o.tenants = atoi(optarg);
      break;
    case 'c':
      o.checkpoint_ms = strtoll(optarg, NULL, 10);
      break;
    case 'k':
      o.full_every = (uint32_t)strtoul(optarg, NULL, 10);
      break;
    case 'r':
      o.full_ratio = strtod(optarg, NULL);
      break;
    case 'R':
      o.rate = strtod(optarg, NULL);
      break;
    case 'o': {
      char *eq = strchr(optarg, '=');
      if (eq == NULL || o.n_popts == MAX_OPTS) {
        usage(stderr);
        return 2;
      }
      *eq = '\0';
      size_t i = 0;
      while (i < o.n_popts && strcmp(o.popts[i].key, optarg) != 0)
        i++;
      o.popts[i] = (ks_kv){optarg, eq + 1};
      o.n_popts += i == o.n_popts;
      break;
    }
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (o.events == 0 || o.tenants < 1 || o.checkpoint_ms <= 0 || o.full_every < 1 ||
      !(o.full_ratio >= 0 && o.full_ratio <= 1) || !(o.rate >= 0)) {
    usage(stderr);
    return 2;
  }
  bg_msgs m;
  char err[256];
  double t0 = now_s();
  if (bg_generate(&m, o.events, o.tenants, 42, err, sizeof err) != 0) {
    fprintf(stderr, "bench_state: %s\n", err);
    return 1;
  }
  printf("bench_state: %zu events, %d tenants, %" PRIu64 " contacts, %.1f h of event time "
         "(generated in %.1f s); one task; checkpoint every %" PRId64
         " ms, full every %u, full ratio %.2f\n",
         m.n, o.tenants, m.contacts, (double)(m.t_last_ms - m.t_first_ms) / 3.6e6, now_s() - t0,
         o.checkpoint_ms, o.full_every, o.full_ratio);
  const ks_ckpt_policy incr = {o.full_every, o.full_ratio}, full = {1, 1.0};
  run_stats s_off = {.label = "off"}, s_incr = {.label = "incr"}, s_full = {.label = "full"};
  ks_engine *e = run(&o, &m, NULL, &s_off, NULL);
  printf("  state after the run: %.1f MB in the task's tables\n", (double)s_off.state_bytes / 1e6);
  ks_engine_free(e);
  e = run(&o, &m, &full, &s_full, NULL);
  ks_engine_free(e);
  chain_keep keep;
  memset(&keep, 0, sizeof keep);
  e = run(&o, &m, &incr, &s_incr, &keep);
  report(&s_off, m.n, &s_off);
  report(&s_incr, m.n, &s_off);
  report(&s_full, m.n, &s_off);
  int same = s_off.out.digest == s_incr.out.digest && s_off.out.digest == s_full.out.digest &&
             s_off.out.results == s_incr.out.results;
  printf("  results: %" PRIu64 ", digest %016" PRIx64 " %s\n", s_off.out.results, s_off.out.digest,
         same ? "(identical in the three runs)" : "DIFFERS BETWEEN RUNS");
  restore_check(&o, &keep, e);
  keep_clear(&keep);
  free(keep.m);
  free(keep.n);
  ks_engine_free(e);
  bg_free(&m);
  return same ? 0 : 1;
}
