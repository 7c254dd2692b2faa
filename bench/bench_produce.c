/*
 * bench_produce — the cost of each output record of `kpistream run`, alone
 * (a program, not a test; docs/benchmarks.md, "The cost of a result").
 *
 * 1. Runs the engine with the operations plugin over the benchmark's
 *    generated events (bench_gen.c) and keeps every result it emits (topic,
 *    key, MetricResult bytes, interval end): the records `run` publishes.
 * 2. Starts `kpistream broker` (a child process) with the output topic.
 * 3. For each variant of the producer's properties, publishes all of them
 *    through the runner's own path: a commit barrier opened and counted per
 *    result, ks_result_send (format, content-type header, timestamp),
 *    ks_producer_send_at, and the delivery reports served by the libuv loop
 *    every --batch results (as `run` serves them between consumer batches)
 *    and by a final flush. Nothing else runs: no consumer, no engine.
 *
 * Printed per variant (medians of --runs): wall time; CPU per result of the
 * producing thread, split into the send calls and the serving of delivery
 * reports; CPU per result of librdkafka's threads (rdk:broker*: batching,
 * compression, requests; rdk:main and the rest); the broker process's CPU
 * per result.
 *
 * Everything lives in main()'s bench struct: no global mutable state.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "barrier.h"
#include "bench_engine.h"
#include "bench_gen.h"
#include "bench_kafka.h"
#include "engine.h"
#include "kafka_producer.h"
#include "result_format.h"

#ifndef KS_BENCH_PLUGIN_DIR
#define KS_BENCH_PLUGIN_DIR "plugins"
#endif
#ifndef KS_BENCH_KPISTREAM
#define KS_BENCH_KPISTREAM "app/kpistream"
#endif

#define SEED          UINT64_C(20261123)
#define MAX_VARIANTS  32
#define MAX_PROPS     16
#define MAX_RUNS      16
#define OUT_PARTS     "8"
#define FLUSH_WAIT_MS 120000

/* ---- the results, kept -------------------------------------------------------- */

typedef struct kept {
  uint8_t *data; /* per result: u32 keylen, u32 valuelen, i64 interval end, key, value */
  size_t len, cap;
  size_t *at; /* offset of result i in data */
  size_t n, n_cap;
  char topic[128]; /* the operations plugin publishes to one topic */
  uint64_t key_bytes, value_bytes;
} kept;

static int kept_add(kept *k, const void *key, size_t keylen, const void *value, size_t valuelen,
                    int64_t ts) {
  size_t need = 16 + keylen + valuelen;
  if (k->len + need > k->cap) {
    size_t nc = k->cap ? k->cap * 2 : (size_t)64 << 20;
    uint8_t *nd = realloc(k->data, nc);
    if (nd == NULL)
      return KS_ENOMEM;
    k->data = nd;
    k->cap = nc;
  }
  if (k->n == k->n_cap) {
    size_t nc = k->n_cap ? k->n_cap * 2 : 1 << 20;
    size_t *na = realloc(k->at, nc * sizeof *na);
    if (na == NULL)
      return KS_ENOMEM;
    k->at = na;
    k->n_cap = nc;
  }
  uint8_t *p = k->data + k->len;
  uint32_t kl = (uint32_t)keylen, vl = (uint32_t)valuelen;
  memcpy(p, &kl, 4);
  memcpy(p + 4, &vl, 4);
  memcpy(p + 8, &ts, 8);
  memcpy(p + 16, key, keylen);
  memcpy(p + 16 + keylen, value, valuelen);
  k->at[k->n++] = k->len;
  k->len += need;
  k->key_bytes += keylen;
  k->value_bytes += valuelen;
  return 0;
}

/* Result i of k: its key, value and interval end. */
static void kept_get(const kept *k, size_t i, const uint8_t **key, uint32_t *kl,
                     const uint8_t **value, uint32_t *vl, int64_t *ts) {
  const uint8_t *r = k->data + k->at[i];
  memcpy(kl, r, 4);
  memcpy(vl, r + 4, 4);
  memcpy(ts, r + 8, 8);
  *key = r + 16;
  *value = r + 16 + *kl;
}

static int keep_sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                     size_t valuelen, const ks_result *r) {
  kept *k = ud;
  if (k->topic[0] == '\0')
    snprintf(k->topic, sizeof k->topic, "%s", topic);
  else if (strcmp(k->topic, topic) != 0)
    return KS_EINVAL; /* one topic only, as the operations plugin */
  return kept_add(k, key, keylen, value, valuelen, r->interval_end_ms);
}

/* --grouped: the design the output contract does not have, for scale: one
 * record per dimension group and interval (the result key without its
 * metric: "family|tenant|channel|queue|agent|labels|start"), its value the
 * group's consecutive MetricResults as a message of `repeated MetricResult
 * results = 1` (tag 0x0a, length, bytes each). */
static int group_results(const kept *in, kept *out) {
  snprintf(out->topic, sizeof out->topic, "%s", in->topic);
  uint8_t *val = NULL;
  size_t vcap = 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < in->n;) {
    const uint8_t *key, *value;
    uint32_t kl, vl;
    int64_t ts;
    kept_get(in, i, &key, &kl, &value, &vl, &ts);
    const uint8_t *slash = memchr(key, '/', kl), *bar = memchr(key, '|', kl);
    size_t head = slash ? (size_t)(slash - key) : 0, tail = bar ? (size_t)(bar - key) : kl;
    size_t vlen = 0;
    size_t j = i;
    for (; j < in->n; j++) {
      const uint8_t *k2, *v2;
      uint32_t kl2, vl2;
      int64_t ts2;
      kept_get(in, j, &k2, &kl2, &v2, &vl2, &ts2);
      const uint8_t *bar2 = memchr(k2, '|', kl2);
      size_t tail2 = bar2 ? (size_t)(bar2 - k2) : kl2;
      if (j > i && (ts2 != ts || kl2 - tail2 != kl - tail || memcmp(k2, key, head) != 0 ||
                    memcmp(k2 + tail2, key + tail, kl - tail) != 0))
        break;
      if (vlen + vl2 + 11 > vcap) {
        size_t nc = vcap ? vcap * 2 : 65536;
        while (nc < vlen + vl2 + 11)
          nc *= 2;
        uint8_t *nv = realloc(val, nc);
        if (nv == NULL) {
          rc = KS_ENOMEM;
          break;
        }
        val = nv;
        vcap = nc;
      }
      val[vlen++] = 0x0a; /* field 1, length-delimited */
      for (uint32_t x = vl2;; x >>= 7) {
        val[vlen++] = (uint8_t)(x < 0x80 ? x : (x & 0x7f) | 0x80);
        if (x < 0x80)
          break;
      }
      memcpy(val + vlen, v2, vl2);
      vlen += vl2;
    }
    uint8_t gkey[1024];
    size_t gl = head + (kl - tail);
    if (rc == 0 && gl <= sizeof gkey) {
      memcpy(gkey, key, head);
      memcpy(gkey + head, key + tail, kl - tail);
      rc = kept_add(out, gkey, gl, val, vlen, ts);
    } else if (rc == 0) {
      rc = KS_EINVAL;
    }
    i = j;
  }
  free(val);
  return rc;
}

static int keep_results(kept *k, const bg_msgs *m, int partitions, const char *plugin, char *err,
                        size_t errsz) {
  ks_engine *e = NULL;
  int rc = bench_engine_new(&e, keep_sink, k, plugin, NULL, 0, partitions, err, errsz);
  int64_t *offsets = calloc((size_t)partitions * BG_N_TOPICS, sizeof *offsets);
  for (size_t i = 0; rc == 0 && offsets && i < m->n; i++) {
    size_t len;
    const uint8_t *p = bg_msg(m, i, &len);
    int32_t task = (int32_t)(m->tenant[i] % (unsigned)partitions);
    int64_t *off = &offsets[(size_t)task * BG_N_TOPICS + m->topic[i]];
    if (ks_engine_process(e, task, m->topic[i], (*off)++, p, len, err, errsz) != KS_PROCESSED)
      rc = KS_EINVAL;
  }
  if (rc == 0 && offsets)
    ks_engine_flush_all(e);
  if (offsets == NULL && rc == 0) {
    snprintf(err, errsz, "out of memory");
    rc = KS_ENOMEM;
  }
  free(offsets);
  ks_engine_free(e);
  return rc;
}

/* ---- clocks ------------------------------------------------------------------- */

static double now_s(void) {
  return bk_clock_s(CLOCK_MONOTONIC);
}

static double thread_cpu_s(void) {
  return bk_clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* CPU seconds of this process's threads by name: [0] rdk:broker*, [1] every
 * other thread but the calling one (rdk:main, ...). From schedstat (ns). */
static void librdkafka_threads_s(double out[2]) {
  out[0] = out[1] = 0;
  pid_t self = (pid_t)syscall(SYS_gettid);
  DIR *d = opendir("/proc/self/task");
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || atoi(de->d_name) == self)
      continue;
    char path[300], comm[64] = "";
    unsigned long long ns = 0;
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
    FILE *f = fopen(path, "r");
    if (f) {
      if (fgets(comm, sizeof comm, f) == NULL)
        comm[0] = '\0';
      fclose(f);
    }
    snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", de->d_name);
    f = fopen(path, "r");
    if (f) {
      if (fscanf(f, "%llu", &ns) != 1)
        ns = 0;
      fclose(f);
    }
    out[strncmp(comm, "rdk:broker", 10) == 0 ? 0 : 1] += (double)ns / 1e9;
  }
  if (d)
    closedir(d);
}

/* ---- the broker ------------------------------------------------------------------ */

static pid_t broker_start(const char *kpistream, const char *topic, const char *bsfile,
                          char *bootstrap, size_t size, char *err, size_t errsz) {
  char topic_arg[200];
  snprintf(topic_arg, sizeof topic_arg, "%s:%s", topic, OUT_PARTS);
  unlink(bsfile);
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(kpistream, kpistream, "broker", "--no-default-topics", "--topic", topic_arg,
          "--bootstrap-file", bsfile, "--exit-after", "1h", (char *)NULL);
    _exit(127);
  }
  if (pid < 0) {
    snprintf(err, errsz, "fork: %s", strerror(errno));
    return -1;
  }
  for (int i = 0; i < 300; i++) {
    FILE *f = fopen(bsfile, "r");
    if (f) {
      int ok = fgets(bootstrap, (int)size, f) != NULL;
      fclose(f);
      if (ok) {
        bootstrap[strcspn(bootstrap, "\n")] = '\0';
        return pid;
      }
    }
    usleep(100000);
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  snprintf(err, errsz, "%s broker wrote no bootstrap address to %s within 30 s", kpistream, bsfile);
  return -1;
}

/* ---- one variant -------------------------------------------------------------- */

typedef struct variant {
  const char *name;
  ks_kv props[MAX_PROPS];
  size_t n_props;
} variant;

typedef struct measure {
  double wall, send_cpu, serve_cpu, rdk_broker_cpu, rdk_other_cpu, broker_cpu;
  double spent; /* --gap-ns: the CPU spent between results (not counted above) */
} measure;

typedef struct pub {
  ks_barrier_chain chain;
  uint64_t delivered, failed;
} pub;

static void on_delivery(void *ud, void *opaque, rd_kafka_resp_err_t err,
                        const rd_kafka_message_t *m) {
  (void)m;
  pub *p = ud;
  if (err)
    p->failed++;
  else
    p->delivered++;
  ks_barrier_delivered(&p->chain, opaque, err != 0);
}

static int no_ckpt(void *ud, ks_ckpt_msg *msgs, size_t n, void *opaque, size_t *n_sent) {
  (void)ud, (void)msgs, (void)n, (void)opaque;
  *n_sent = 0;
  return 0;
}

static void no_commit(void *ud, const rd_kafka_topic_partition_list_t *offsets) {
  (void)ud, (void)offsets;
}

static int no_flush(void *ud, int timeout_ms) {
  (void)ud, (void)timeout_ms;
  return 0;
}

/* n steps of a dependent multiply-add chain: the engine's work between two
 * results, for --gap-ns (calibrated in main). */
static uint64_t spin(uint64_t n, uint64_t x) {
  for (uint64_t i = 0; i < n; i++)
    x = x * 6364136223846793005u + 1442695040888963407u;
  return x;
}

static int publish(const kept *k, const char *bootstrap, const variant *v, ks_format fmt,
                   size_t batch, uint64_t gap, pid_t broker, measure *out, char *err,
                   size_t errsz) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ks_kv base[] = {{"bootstrap.servers", (char *)bootstrap}};
  const ks_kv *lists[] = {base, v->props};
  size_t counts[] = {1, v->n_props};
  pub p = {0};
  ks_barrier_ops ops = {no_ckpt, no_commit, no_flush, NULL};
  ks_barrier_chain_init(&p.chain, &ops);
  ks_producer *pr = NULL;
  int rc = ks_producer_new(&pr, &loop, lists, counts, 2, KS_LOG_WARN, on_delivery, &p, err, errsz);
  uint8_t *buf = NULL;
  size_t cap = 0;
  /* one record first, delivered: metadata and the idempotent producer id
   * are not part of what is measured */
  if (rc == 0) {
    rc = ks_producer_send(pr, k->topic, "warmup", 6, "x", 1, NULL, NULL, err, errsz);
    if (rc == 0 && (rc = ks_producer_flush(pr, 30000)) != 0)
      snprintf(err, errsz, "%s: the first record was not delivered within 30 s", v->name);
  }
  uint64_t base_delivered = p.delivered;
  double rdk0[2], rdk1[2];
  librdkafka_threads_s(rdk0);
  double b0 = bk_proc_cpu_s(broker), t0 = now_s(), c0 = thread_cpu_s(), serve = 0, spent = 0;
  uint64_t x = 1;
  for (size_t i = 0; rc == 0 && i < k->n; i++) {
    const uint8_t *key, *value;
    uint32_t kl, vl;
    int64_t ts;
    kept_get(k, i, &key, &kl, &value, &vl, &ts);
    ks_barrier *b = ks_barrier_open(&p.chain);
    if (b == NULL) {
      rc = KS_ENOMEM;
      break;
    }
    rc = ks_result_send(pr, k->topic, fmt, 1, key, kl, value, vl, ts, &buf, &cap, b, err, errsz);
    if (rc == 0)
      ks_barrier_produced(b);
    if (gap) {
      double g0 = thread_cpu_s();
      x = spin(gap, x);
      spent += thread_cpu_s() - g0;
    }
    if ((i + 1) % batch == 0) {
      double s0 = thread_cpu_s();
      uv_run(&loop, UV_RUN_NOWAIT);
      serve += thread_cpu_s() - s0;
    }
  }
  double s0 = thread_cpu_s();
  if (rc == 0 && ks_producer_flush(pr, FLUSH_WAIT_MS) != 0) {
    snprintf(err, errsz, "%s: not every result delivered within %d ms", v->name, FLUSH_WAIT_MS);
    rc = KS_EKAFKA;
  }
  double c1 = thread_cpu_s();
  serve += c1 - s0;
  out->wall = now_s() - t0;
  librdkafka_threads_s(rdk1);
  out->broker_cpu = bk_proc_cpu_s(broker) - b0;
  out->send_cpu = (c1 - c0) - serve - spent;
  out->spent = spent + (double)(x & 1) * 1e-12; /* x kept: the loop is not optimised away */
  out->serve_cpu = serve;
  out->rdk_broker_cpu = rdk1[0] - rdk0[0];
  out->rdk_other_cpu = rdk1[1] - rdk0[1];
  if (rc == 0 && (p.failed || p.delivered - base_delivered != k->n)) {
    snprintf(err, errsz, "%s: %" PRIu64 " delivered, %" PRIu64 " failed of %zu", v->name,
             p.delivered - base_delivered, p.failed, k->n);
    rc = KS_EKAFKA;
  }
  if (pr) {
    ks_producer_close(pr);
    uv_run(&loop, UV_RUN_DEFAULT);
    ks_producer_free(pr);
  }
  ks_barrier_chain_free(&p.chain);
  uv_loop_close(&loop);
  free(buf);
  return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_of(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "name:k=v,k=v" (the name alone: kpistream's defaults). Strings point into
 * spec, which is modified. */
static int parse_variant(char *spec, variant *v) {
  memset(v, 0, sizeof *v);
  char *colon = strchr(spec, ':');
  v->name = spec;
  if (colon == NULL)
    return 0;
  *colon = '\0';
  for (char *kv = strtok(colon + 1, ","); kv; kv = strtok(NULL, ",")) {
    char *eq = strchr(kv, '=');
    if (eq == NULL || v->n_props == MAX_PROPS)
      return -1;
    *eq = '\0';
    v->props[v->n_props].key = kv;
    v->props[v->n_props++].value = eq + 1;
  }
  return 0;
}

typedef struct bench {
  size_t events;
  int tenants, runs;
  size_t batch;
  uint64_t gap_ns;
  ks_format format;
  const char *plugin, *kpistream;
  variant variants[MAX_VARIANTS];
  size_t n_variants;
  int grouped;
  const char *dump; /* --dump FILE: every record's key and value, back to back */
  bg_msgs msgs;
  kept k;
} bench;

static void usage(void) {
  printf("Usage: bench_produce [--events N] [--tenants T] [--runs K] [--batch B]\n"
         "                     [--format protobuf|json|confluent_protobuf] [--plugin PATH]\n"
         "                     [--kpistream PATH] [--gap-ns NS] [--grouped] [--dump FILE]\n"
         "                     [--variant NAME[:KEY=VALUE,...]]...\n"
         "Publishes the results of the operations plugin over N generated events\n"
         "(default 1000000) through kpistream's result path to `kpistream broker`,\n"
         "once per variant of the producer's properties (default: kpistream's\n"
         "defaults only), and prints the CPU each result costs, by thread. --gap-ns:\n"
         "about NS ns of computation between two results on the producing thread, as\n"
         "the engine's work paces `kpistream run` (not counted in the costs).\n");
}

int main(int argc, char **argv) {
  static const struct option lo[] = {{"events", 1, 0, 'e'},
                                     {"tenants", 1, 0, 't'},
                                     {"runs", 1, 0, 'r'},
                                     {"batch", 1, 0, 'B'},
                                     {"format", 1, 0, 'f'},
                                     {"plugin", 1, 0, 'p'},
                                     {"kpistream", 1, 0, 'k'},
                                     {"variant", 1, 0, 'v'},
                                     {"gap-ns", 1, 0, 'g'},
                                     {"grouped", 0, 0, 'G'},
                                     {"dump", 1, 0, 'D'},
                                     {"help", 0, 0, 'h'},
                                     {0, 0, 0, 0}};
  bench *b = calloc(1, sizeof *b);
  if (b == NULL)
    return 1;
  b->events = 1000000;
  b->tenants = 64;
  b->runs = 1;
  b->batch = 1024;
  b->plugin = KS_BENCH_PLUGIN_DIR "/kpi_operations.so";
  b->kpistream = KS_BENCH_KPISTREAM;
  int c;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
    case 'e':
      b->events = strtoull(optarg, NULL, 10);
      break;
    case 't':
      b->tenants = atoi(optarg);
      break;
    case 'r':
      b->runs = atoi(optarg);
      break;
    case 'B':
      b->batch = strtoull(optarg, NULL, 10);
      break;
    case 'f':
      if (ks_format_parse(optarg, &b->format) != 0) {
        fprintf(stderr, "bench_produce: --format %s: unknown\n", optarg);
        return 2;
      }
      break;
    case 'p':
      b->plugin = optarg;
      break;
    case 'k':
      b->kpistream = optarg;
      break;
    case 'v':
      if (b->n_variants == MAX_VARIANTS || parse_variant(optarg, &b->variants[b->n_variants++])) {
        fprintf(stderr, "bench_produce: --variant: NAME[:KEY=VALUE,...], at most %d\n",
                MAX_VARIANTS);
        return 2;
      }
      break;
    case 'g':
      b->gap_ns = strtoull(optarg, NULL, 10);
      break;
    case 'G':
      b->grouped = 1;
      break;
    case 'D':
      b->dump = optarg;
      break;
    case 'h':
      usage();
      return 0;
    default:
      usage();
      return 2;
    }
  }
  if (b->events == 0 || b->tenants <= 0 || b->runs <= 0 || b->runs > MAX_RUNS || b->batch == 0) {
    usage();
    return 2;
  }
  if (b->n_variants == 0)
    b->variants[b->n_variants++] = (variant){.name = "kpistream defaults"};
  uint64_t gap_steps = 0;
  if (b->gap_ns) { /* steps of spin() per --gap-ns */
    double c0 = thread_cpu_s();
    uint64_t x = spin(50000000, 1);
    double per_step_ns = (thread_cpu_s() - c0) * 1e9 / 50000000.0 + (double)(x & 1) * 1e-12;
    gap_steps = (uint64_t)((double)b->gap_ns / per_step_ns);
  }
  char err[1024] = "";
  if (bg_generate(&b->msgs, b->events, b->tenants, SEED, err, sizeof err) != 0 ||
      keep_results(&b->k, &b->msgs, b->tenants, b->plugin, err, sizeof err) != 0) {
    fprintf(stderr, "bench_produce: %s\n", err);
    return 1;
  }
  bg_free(&b->msgs);
  size_t n_results = b->k.n;
  if (b->grouped) {
    kept g = {0};
    if (b->format != KS_FORMAT_PROTOBUF || group_results(&b->k, &g) != 0) {
      fprintf(stderr, "bench_produce: --grouped: only with --format protobuf, or out of memory\n");
      return 1;
    }
    free(b->k.data);
    free(b->k.at);
    b->k = g;
  }
  if (b->dump) { /* e.g. to estimate what compression saves: lz4 -1 FILE */
    FILE *f = fopen(b->dump, "wb");
    for (size_t i = 0; f && i < b->k.n; i++) {
      const uint8_t *key, *value;
      uint32_t kl, vl;
      int64_t ts;
      kept_get(&b->k, i, &key, &kl, &value, &vl, &ts);
      fwrite(key, 1, kl, f);
      fwrite(value, 1, vl, f);
    }
    if (f == NULL || fclose(f) != 0) {
      fprintf(stderr, "bench_produce: --dump %s: %s\n", b->dump, strerror(errno));
      return 1;
    }
  }
  char bsfile[] = "/tmp/bench_produce.XXXXXX", bootstrap[512];
  int fd = mkstemp(bsfile);
  if (fd >= 0)
    close(fd);
  pid_t broker =
      broker_start(b->kpistream, b->k.topic, bsfile, bootstrap, sizeof bootstrap, err, sizeof err);
  if (broker < 0) {
    fprintf(stderr, "bench_produce: %s\n", err);
    unlink(bsfile);
    return 1;
  }
  double la[3] = {0, 0, 0};
  FILE *lf = fopen("/proc/loadavg", "r");
  if (lf) {
    if (fscanf(lf, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
      la[0] = la[1] = la[2] = 0;
    fclose(lf);
  }
  printf("bench_produce: %zu events -> %zu results in %zu records%s to %s (%s), key %.1f + "
         "value %.1f bytes per record on average; delivery reports served every %zu records, "
         "%" PRIu64 " ns of other work between two records; load average %.2f %.2f %.2f\n",
         b->events, n_results, b->k.n, b->grouped ? " (--grouped)" : "", b->k.topic,
         ks_format_name(b->format), (double)b->k.key_bytes / (double)b->k.n,
         (double)b->k.value_bytes / (double)b->k.n, b->batch, b->gap_ns, la[0], la[1], la[2]);
  printf("ns per result (medians of %d runs; runs of the variants interleaved):\n", b->runs);
  printf("  %-28s %8s %8s %8s %9s %8s %8s %8s %8s\n", "variant", "wall s", "send", "serve",
         "rdk:brkr", "rdk:oth", "process", "broker", "results/s");
  measure m[MAX_VARIANTS][MAX_RUNS];
  int status = 0;
  for (int run = 0; run < b->runs && status == 0; run++)
    for (size_t v = 0; v < b->n_variants && status == 0; v++)
      if (publish(&b->k, bootstrap, &b->variants[v], b->format, b->batch, gap_steps, broker,
                  &m[v][run], err, sizeof err) != 0) {
        fprintf(stderr, "bench_produce: %s\n", err);
        status = 1;
      }
  for (size_t v = 0; v < b->n_variants && status == 0; v++) {
    double w[MAX_RUNS], s[MAX_RUNS], d[MAX_RUNS], rb[MAX_RUNS], ro[MAX_RUNS], t[MAX_RUNS],
        br[MAX_RUNS];
    for (int r = 0; r < b->runs; r++) {
      const measure *x = &m[v][r];
      w[r] = x->wall;
      s[r] = x->send_cpu;
      d[r] = x->serve_cpu;
      rb[r] = x->rdk_broker_cpu;
      ro[r] = x->rdk_other_cpu;
      t[r] = x->send_cpu + x->serve_cpu + x->rdk_broker_cpu + x->rdk_other_cpu;
      br[r] = x->broker_cpu;
    }
    double n = (double)n_results / 1e9, wall = median_of(w, b->runs);
    printf("  %-28s %8.3f %8.0f %8.0f %9.0f %8.0f %8.0f %8.0f %9.0f\n", b->variants[v].name, wall,
           median_of(s, b->runs) / n, median_of(d, b->runs) / n, median_of(rb, b->runs) / n,
           median_of(ro, b->runs) / n, median_of(t, b->runs) / n, median_of(br, b->runs) / n,
           (double)n_results / wall);
  }
  printf("  send: ks_result_send on the producing thread (header, copy, partitioner, enqueue);\n"
         "  serve: delivery reports (callbacks, message free) on it; rdk:brkr: librdkafka's\n"
         "  broker thread (batches, compression, requests, responses); process: the four;\n"
         "  broker: the `kpistream broker` process; all per result, not per record\n");
  kill(broker, SIGTERM);
  waitpid(broker, NULL, 0);
  unlink(bsfile);
  free(b->k.data);
  free(b->k.at);
  free(b);
  return status;
}
