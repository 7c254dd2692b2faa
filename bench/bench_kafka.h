/*
 * bench_kafka — the end-to-end half of bench_pipeline: an embedded broker in
 * a child process, the benchmark's messages produced into it (and verified),
 * then (b1) a plain librdkafka consumer that only counts and (b2) the real
 * `kpistream run --until-eof` in a child process, over the same topics.
 *
 * Ownership: bk_run_all fills a caller-owned bk_result; everything else it
 * starts (children, temporary files, Kafka handles) it stops and removes
 * before returning.
 */
#ifndef KS_BENCH_KAFKA_H
#define KS_BENCH_KAFKA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "bench_gen.h"
#include "engine.h"

#define BK_MAX_RUNS 16

typedef struct bk_opts {
  const bg_msgs *msgs;
  int partitions;              /* per input topic; message i goes to tenant[i] % partitions */
  int runs;                    /* runs of b1 and of b2 (interleaved) */
  const char *const *launcher; /* argv prefix for a kpistream subcommand, NULL-terminated */
  const char *plugin_name;
  const char *plugin_path;
  const ks_kv *plugin_options; /* written into the run config */
  size_t n_plugin_options;
  int keep; /* keep the work directory (config, logs) */
} bk_opts;

typedef struct bk_run {
  int ok;
  double join_s;       /* start (b1: rd_kafka_new; b2: spawn) -> partitions assigned */
  double work_s;       /* assigned -> every assigned partition at its end (all consumed) */
  double tail_s;       /* b2: end of input -> results delivered, offsets committed, "stopped" */
  double total_s;      /* start -> exit */
  double cpu_s;        /* CPU time of the consumer's process (user + system) */
  double broker_cpu_s; /* CPU time the broker process used meanwhile */
  double rss_mib;      /* b2: peak resident set of `kpistream run` (ru_maxrss) */
  uint64_t events;     /* messages counted (b1) / events processed (b2) */
  uint64_t results, rejected, late, plugin_errors;
} bk_run;

typedef struct bk_result {
  double broker_start_s;
  double produce_s;
  uint64_t produced;
  int n_partitions_total;
  uint64_t max_partition_bytes; /* estimated bytes in the fullest partition */
  char verify[256];             /* what was verified, or why verification failed */
  int verified;
  bk_run b1[BK_MAX_RUNS], b2[BK_MAX_RUNS];
  int n_runs;
  char workdir[256];
} bk_result;

/* clock_gettime(clock) in seconds. */
double bk_clock_s(clockid_t clock);

/* CPU seconds (user + system) a process has used so far, from /proc; 0
 * when it cannot be read. */
double bk_proc_cpu_s(pid_t pid);

/* Returns 0, or -1 with errstr (results gathered so far stay in out). */
int bk_run_all(const bk_opts *o, bk_result *out, char *errstr, size_t errstr_size);

#endif
