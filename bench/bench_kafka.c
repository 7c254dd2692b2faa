#include "bench_kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ; /* libc's; passed through to the children unchanged */

#define BK_ARGV_MAX            64
#define BK_OUTPUT_PARTITIONS   8
#define BK_MAX_PARTITION_BYTES (4u * 1024u * 1024u) /* the mock keeps ~5 MiB per partition */
#define BK_RECORD_OVERHEAD     12 /* bytes a v2 record adds to key + value (varints, attrs) */
#define BK_BATCH               1024
#define BK_RUN_TIMEOUT_S       300.0

double bk_clock_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void) {
  return bk_clock_s(CLOCK_MONOTONIC);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errsz, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errsz, fmt, ap);
  va_end(ap);
}

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("  .. ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

double bk_proc_cpu_s(pid_t pid) {
  char path[64], line[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0;
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = '\0';
  const char *p = strrchr(line, ')');
  if (p == NULL)
    return 0;
  unsigned long long ut = 0, st = 0;
  /* fields after the command: state(3) ... utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- child processes ---------------------------------------------------- */

typedef struct child {
  pid_t pid;
  int fd;    /* read end of the captured stream */
  FILE *log; /* where captured lines are copied */
  char buf[16384];
  size_t len;
  int eof;
} child;

/* Spawn argv with stdin from /dev/null; capture stdout (which == 1) or
 * stderr (which == 2) through a pipe, the other stream appended to log_path. */
static int child_spawn(child *c, char *const argv[], int which, const char *log_path, char *err,
                       size_t errsz) {
  memset(c, 0, sizeof *c);
  c->pid = -1;
  c->fd = -1;
  int pfd[2];
  if (pipe(pfd) != 0) {
    seterr(err, errsz, "pipe: %s", strerror(errno));
    return -1;
  }
  fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
  fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
  int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logfd < 0) {
    seterr(err, errsz, "%s: %s", log_path, strerror(errno));
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, which == 1 ? pfd[1] : logfd, 1);
  posix_spawn_file_actions_adddup2(&fa, which == 1 ? logfd : pfd[1], 2);
  int rc = posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pfd[1]);
  close(logfd);
  if (rc != 0) {
    seterr(err, errsz, "cannot start %s: %s", argv[0], strerror(rc));
    close(pfd[0]);
    c->pid = -1;
    return -1;
  }
  c->fd = pfd[0];
  c->log = fopen(log_path, "a");
  return 0;
}

/* Next line of the captured stream (NUL-terminated in line), with the time
 * the bytes completing it were read. Returns 1, 0 at end of stream, -1 when
 * the deadline passed. */
static int child_line(child *c, char *line, size_t size, double deadline, double *t_line) {
  for (;;) {
    char *nl = memchr(c->buf, '\n', c->len);
    if (nl == NULL && (c->eof || c->len == sizeof c->buf) && c->len)
      nl = c->buf + c->len - 1; /* last partial line, or an overlong one */
    if (nl) {
      size_t n = (size_t)(nl - c->buf) + 1;
      size_t k = n < size ? n : size - 1;
      memcpy(line, c->buf, k);
      line[k] = '\0';
      if (k && line[k - 1] == '\n')
        line[k - 1] = '\0';
      memmove(c->buf, c->buf + n, c->len - n);
      c->len -= n;
      if (c->log) {
        fprintf(c->log, "%s\n", line);
        fflush(c->log);
      }
      return 1;
    }
    if (c->eof)
      return 0;
    double left = deadline - now_s();
    if (left <= 0)
      return -1;
    struct pollfd p = {c->fd, POLLIN, 0};
    int pr = poll(&p, 1, (int)(left * 1000) + 1);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr <= 0)
      continue;
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    *t_line = now_s();
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      c->eof = 1;
    else
      c->len += (size_t)r;
  }
}

/* Wait for the child to exit (killing it after timeout_s); returns its exit
 * status (128 + signal when killed), rusage in ru. */
static int child_reap(child *c, double timeout_s, struct rusage *ru) {
  int status = 0;
  double deadline = now_s() + timeout_s;
  int killed = 0;
  struct rusage dummy;
  if (ru == NULL)
    ru = &dummy;
  for (;;) {
    pid_t w = wait4(c->pid, &status, WNOHANG, ru);
    if (w == c->pid)
      break;
    if (w < 0 && errno != EINTR) {
      status = 0;
      break;
    }
    if (now_s() > deadline && killed < 2) {
      kill(c->pid, killed ? SIGKILL : SIGTERM);
      killed++;
      deadline = now_s() + 10;
    }
    sleep_ms(20);
  }
  if (c->fd >= 0)
    close(c->fd);
  if (c->log)
    fclose(c->log);
  c->fd = -1;
  c->log = NULL;
  c->pid = -1;
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* launcher + args, NULL-terminated, into argv (pointers borrowed). */
static size_t build_argv(const bk_opts *o, char **argv, const char *const *args) {
  size_t n = 0;
  for (const char *const *p = o->launcher; *p && n < BK_ARGV_MAX - 1; p++)
    argv[n++] = (char *)*p;
  for (const char *const *p = args; *p && n < BK_ARGV_MAX - 1; p++)
    argv[n++] = (char *)*p;
  argv[n] = NULL;
  return n;
}

/* ---- the broker ------------------------------------------------------------ */

typedef struct broker {
  child c;
  char bootstrap[512];
} broker;

static int broker_start(const bk_opts *o, broker *b, const char *workdir, char *err, size_t errsz) {
  char parts[16], outtopic[128], logp[300];
  snprintf(parts, sizeof parts, "%d", o->partitions);
  snprintf(outtopic, sizeof outtopic, "kpi.%s:%d", o->plugin_name, BK_OUTPUT_PARTITIONS);
  snprintf(logp, sizeof logp, "%s/broker.log", workdir);
  const char *args[32];
  size_t k = 0;
  args[k++] = "broker";
  args[k++] = "--no-default-topics";
  args[k++] = "--partitions";
  args[k++] = parts;
  for (unsigned t = 0; t < BG_N_TOPICS; t++) {
    args[k++] = "--topic";
    args[k++] = bg_topic_name(t);
  }
  args[k++] = "--topic";
  args[k++] = outtopic;
  args[k] = NULL;
  char *argv[BK_ARGV_MAX];
  build_argv(o, argv, args);
  if (child_spawn(&b->c, argv, 1, logp, err, errsz) != 0)
    return -1;
  double t_line = 0;
  int rc = child_line(&b->c, b->bootstrap, sizeof b->bootstrap, now_s() + 30, &t_line);
  if (rc != 1 || strchr(b->bootstrap, ':') == NULL) {
    seterr(err, errsz, "the broker printed no bootstrap address within 30 s (see %s)", logp);
    kill(b->c.pid, SIGTERM);
    child_reap(&b->c, 10, NULL);
    return -1;
  }
  return 0;
}

static void broker_stop(broker *b) {
  if (b->c.pid <= 0)
    return;
  kill(b->c.pid, SIGTERM);
  child_reap(&b->c, 20, NULL);
}

/* ---- librdkafka helpers ------------------------------------------------------- */

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errsz) {
  char why[256];
  if (rd_kafka_conf_set(conf, k, v, why, sizeof why) != RD_KAFKA_CONF_OK) {
    seterr(err, errsz, "kafka property %s=%s: %s", k, v, why);
    return -1;
  }
  return 0;
}

static int conf_set_all(rd_kafka_conf_t *conf, const char *const (*kv)[2], size_t n, char *err,
                        size_t errsz) {
  for (size_t i = 0; i < n; i++)
    if (conf_set(conf, kv[i][0], kv[i][1], err, errsz) != 0)
      return -1;
  return 0;
}

/* ---- loading the input topics ---------------------------------------------------- */

typedef struct prod_state {
  uint64_t delivered, failed;
  rd_kafka_resp_err_t first_err;
} prod_state;

static void prod_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  prod_state *s = opaque;
  if (m->err) {
    if (s->failed++ == 0)
      s->first_err = m->err;
  } else {
    s->delivered++;
  }
}

static int produce_all(const bk_opts *o, const char *bootstrap, bk_result *res, char *err,
                       size_t errsz) {
  const bg_msgs *m = o->msgs;
  static const char *const props[][2] = {{"linger.ms", "50"},
                                         {"batch.num.messages", "10000"},
                                         {"batch.size", "1000000"},
                                         {"queue.buffering.max.messages", "1000000"},
                                         {"queue.buffering.max.kbytes", "1048576"},
                                         {"enable.idempotence", "false"},
                                         {"compression.type", "none"},
                                         {"acks", "all"}};
  prod_state st = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (conf_set(conf, "bootstrap.servers", bootstrap, err, errsz) != 0 ||
      conf_set_all(conf, props, sizeof props / sizeof props[0], err, errsz) != 0) {
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, prod_dr);
  rd_kafka_conf_set_opaque(conf, &st);
  char why[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (rk == NULL) {
    seterr(err, errsz, "producer: %s", why);
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  rd_kafka_topic_t *rkt[BG_N_TOPICS];
  for (unsigned t = 0; t < BG_N_TOPICS; t++)
    rkt[t] = rd_kafka_topic_new(rk, bg_topic_name(t), NULL);
  /* Produce partition by partition (each partition's messages in their
   * original order), so producer batches fill up (batch.num.messages) the
   * way a busy topic's log looks on a real broker; interleaved sends would
   * leave tens of messages per batch, and the mock serves one batch per
   * partition per fetch. */
  size_t np = (size_t)BG_N_TOPICS * (size_t)o->partitions;
  size_t *start = calloc(np + 1, sizeof *start);
  uint32_t *order = malloc(m->n * sizeof *order);
  int rc = 0;
  if (start == NULL || order == NULL) {
    seterr(err, errsz, "out of memory");
    rc = -1;
  }
  for (size_t i = 0; rc == 0 && i < m->n; i++)
    start[(size_t)m->topic[i] * (size_t)o->partitions + m->tenant[i] % (unsigned)o->partitions +
          1]++;
  for (size_t k = 0; rc == 0 && k < np; k++)
    start[k + 1] += start[k];
  for (size_t i = 0; rc == 0 && i < m->n; i++)
    order[start[(size_t)m->topic[i] * (size_t)o->partitions +
                m->tenant[i] % (unsigned)o->partitions]++] = (uint32_t)i;
  double t0 = now_s();
  for (size_t j = 0; j < m->n && rc == 0; j++) {
    size_t i = order[j];
    size_t len;
    const uint8_t *p = bg_msg(m, i, &len);
    const char *key = m->tenant_name[m->tenant[i]];
    int32_t part = (int32_t)(m->tenant[i] % (unsigned)o->partitions);
    /* msgflags 0: librdkafka neither copies nor frees; the buffer outlives the flush */
    while (rd_kafka_produce(rkt[m->topic[i]], part, 0, (void *)p, len, key, strlen(key), NULL) !=
           0) {
      rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        seterr(err, errsz, "produce: %s", rd_kafka_err2str(e));
        rc = -1;
        break;
      }
      rd_kafka_poll(rk, 5);
    }
    if ((j & 4095) == 0)
      rd_kafka_poll(rk, 0);
  }
  free(start);
  free(order);
  if (rc == 0 && rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    seterr(err, errsz, "produce: %d messages not delivered within 120 s", rd_kafka_outq_len(rk));
    rc = -1;
  }
  res->produce_s = now_s() - t0;
  res->produced = st.delivered;
  if (rc == 0 && st.failed) {
    seterr(err, errsz, "produce: %" PRIu64 " messages failed (%s)", st.failed,
           rd_kafka_err2str(st.first_err));
    rc = -1;
  }

  /* Verify: every partition holds exactly what was sent to it from offset 0,
   * so the mock's retention dropped nothing. */
  uint64_t *want = calloc(np, sizeof *want);
  if (rc == 0 && want == NULL) {
    seterr(err, errsz, "out of memory");
    rc = -1;
  }
  for (size_t i = 0; rc == 0 && i < m->n; i++)
    want[(size_t)m->topic[i] * (size_t)o->partitions + m->tenant[i] % (unsigned)o->partitions]++;
  uint64_t total = 0;
  int bad = 0;
  for (unsigned t = 0; rc == 0 && t < BG_N_TOPICS; t++)
    for (int p = 0; p < o->partitions; p++) {
      int64_t lo = -1, hi = -1;
      rd_kafka_resp_err_t e =
          rd_kafka_query_watermark_offsets(rk, bg_topic_name(t), p, &lo, &hi, 10000);
      uint64_t w = want[(size_t)t * (size_t)o->partitions + (size_t)p];
      if (e || lo != 0 || hi < 0 || (uint64_t)hi != w) {
        if (bad++ == 0)
          snprintf(res->verify, sizeof res->verify,
                   "%s [%d]: offsets %" PRId64 "..%" PRId64 ", expected 0..%" PRIu64 "%s%s",
                   bg_topic_name(t), p, lo, hi, w, e ? ": " : "", e ? rd_kafka_err2str(e) : "");
      } else {
        total += (uint64_t)(hi - lo);
      }
    }
  if (rc == 0) {
    res->verified = bad == 0 && total == m->n;
    if (res->verified)
      snprintf(res->verify, sizeof res->verify,
               "%d partitions hold %" PRIu64 " messages from offset 0, as sent: none dropped",
               (int)np, total);
    else if (bad == 0)
      snprintf(res->verify, sizeof res->verify, "partitions hold %" PRIu64 " messages, sent %zu",
               total, m->n);
  }
  free(want);
  for (unsigned t = 0; t < BG_N_TOPICS; t++)
    rd_kafka_topic_destroy(rkt[t]);
  rd_kafka_destroy(rk);
  return rc;
}

/* ---- b1: a consumer that only counts -------------------------------------------- */

typedef struct counter_state {
  int partitions;
  double t_assign;
  int assigned;
  int n_eof;
  uint8_t eof[BG_N_TOPICS * 4096];
} counter_state;

static void counter_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                              rd_kafka_topic_partition_list_t *parts, void *opaque) {
  counter_state *s = opaque;
  if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (s->t_assign == 0)
      s->t_assign = now_s();
    s->assigned += parts->cnt;
    rd_kafka_assign(rk, parts);
  } else {
    s->assigned = 0;
    rd_kafka_assign(rk, NULL);
  }
}

static int topic_index(const char *name) {
  for (unsigned t = 0; t < BG_N_TOPICS; t++)
    if (strcmp(name, bg_topic_name(t)) == 0)
      return (int)t;
  return -1;
}

static int run_counter(const bk_opts *o, const char *bootstrap, pid_t broker_pid, int k, bk_run *r,
                       char *err, size_t errsz) {
  /* The same settings kpistream's consumer uses (core/runtime/kafka_consumer.c). */
  static const char *const props[][2] = {
      {"auto.offset.reset", "earliest"}, {"partition.assignment.strategy", "range"},
      {"queued.min.messages", "200000"}, {"queued.max.messages.kbytes", "262144"},
      {"fetch.wait.max.ms", "100"},      {"session.timeout.ms", "10000"},
      {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"}};
  memset(r, 0, sizeof *r);
  if (o->partitions > 4096) {
    seterr(err, errsz, "b1: at most 4096 partitions");
    return -1;
  }
  counter_state *s = calloc(1, sizeof *s);
  if (s == NULL) {
    seterr(err, errsz, "out of memory");
    return -1;
  }
  s->partitions = o->partitions;
  char group[64];
  snprintf(group, sizeof group, "bench-count-%d-%d", (int)getpid(), k);
  double cpu0 = self_cpu_s(), bcpu0 = bk_proc_cpu_s(broker_pid);
  double t0 = now_s();
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (conf_set(conf, "bootstrap.servers", bootstrap, err, errsz) != 0 ||
      conf_set(conf, "group.id", group, err, errsz) != 0 ||
      conf_set_all(conf, props, sizeof props / sizeof props[0], err, errsz) != 0) {
    rd_kafka_conf_destroy(conf);
    free(s);
    return -1;
  }
  rd_kafka_conf_set_rebalance_cb(conf, counter_rebalance);
  rd_kafka_conf_set_opaque(conf, s);
  char why[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (rk == NULL) {
    seterr(err, errsz, "consumer: %s", why);
    rd_kafka_conf_destroy(conf);
    free(s);
    return -1;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
  rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(BG_N_TOPICS);
  for (unsigned t = 0; t < BG_N_TOPICS; t++)
    rd_kafka_topic_partition_list_add(sub, bg_topic_name(t), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t se = rd_kafka_subscribe(rk, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  int rc = 0;
  if (se) {
    seterr(err, errsz, "subscribe: %s", rd_kafka_err2str(se));
    rc = -1;
  }
  rd_kafka_message_t *msgs[BK_BATCH];
  uint64_t count = 0;
  double t_end = 0, deadline = t0 + BK_RUN_TIMEOUT_S;
  while (rc == 0) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, BK_BATCH);
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *msg = msgs[i];
      if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        count++;
      } else if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        int t = msg->rkt ? topic_index(rd_kafka_topic_name(msg->rkt)) : -1;
        if (t >= 0 && msg->partition >= 0 && msg->partition < s->partitions) {
          uint8_t *e = &s->eof[(size_t)t * (size_t)s->partitions + (size_t)msg->partition];
          if (!*e) {
            *e = 1;
            s->n_eof++;
          }
        }
      } else {
        fprintf(stderr, "b1: kafka: %s\n", rd_kafka_err2str(msg->err));
      }
      rd_kafka_message_destroy(msg);
    }
    if (s->assigned > 0 && s->n_eof >= s->assigned) {
      t_end = now_s();
      break;
    }
    if (now_s() > deadline) {
      seterr(err, errsz,
             "b1: not at the end of every partition after %.0f s (%" PRIu64 " messages counted)",
             BK_RUN_TIMEOUT_S, count);
      rc = -1;
    }
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  double t_done = now_s();
  if (rc == 0) {
    r->ok = count == o->msgs->n;
    r->join_s = s->t_assign - t0;
    r->work_s = t_end - s->t_assign;
    r->tail_s = t_done - t_end;
    r->total_s = t_done - t0;
    r->cpu_s = self_cpu_s() - cpu0;
    r->broker_cpu_s = bk_proc_cpu_s(broker_pid) - bcpu0;
    r->events = count;
    if (!r->ok)
      fprintf(stderr, "b1: counted %" PRIu64 " messages, expected %zu\n", count, o->msgs->n);
  }
  free(s);
  return rc;
}

/* ---- b2: kpistream run --until-eof ------------------------------------------------ */

static int write_config(const bk_opts *o, const char *path, const char *bootstrap, char *err,
                        size_t errsz) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    seterr(err, errsz, "%s: %s", path, strerror(errno));
    return -1;
  }
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", o->plugin_path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  fprintf(f,
          "# written by bench_pipeline\n"
          "kafka:\n"
          "  bootstrap.servers: \"%s\"\n"
          "input:\n"
          "  topics: [",
          bootstrap);
  for (unsigned t = 0; t < BG_N_TOPICS; t++)
    fprintf(f, "%s%s", t ? ", " : "", bg_topic_name(t));
  fprintf(f,
          "]\n"
          "intervals:\n"
          "  length: 15m\n"
          "  allowed_lateness: 30s\n"
          "  grace: 0s\n"
          "plugin_dir: \"%s\"\n"
          "plugins:\n"
          "  - name: %s\n"
          "    path: \"%s\"\n",
          dir, o->plugin_name, o->plugin_path);
  if (o->n_plugin_options) {
    fprintf(f, "    options:\n");
    for (size_t i = 0; i < o->n_plugin_options; i++)
      fprintf(f, "      \"%s\": \"%s\"\n", o->plugin_options[i].key, o->plugin_options[i].value);
  }
  fprintf(f, "log_level: info\n"
             "stats_interval: 0s\n");
  return fclose(f) == 0 ? 0 : -1;
}

static int run_kpistream(const bk_opts *o, const char *bootstrap, pid_t broker_pid,
                         const char *workdir, int k, bk_run *r, char *err, size_t errsz) {
  memset(r, 0, sizeof *r);
  char cfg[300], logp[300], group[64];
  snprintf(cfg, sizeof cfg, "%s/run.yaml", workdir);
  snprintf(logp, sizeof logp, "%s/run-%d.log", workdir, k + 1);
  snprintf(group, sizeof group, "bench-run-%d-%d", (int)getpid(), k);
  if (write_config(o, cfg, bootstrap, err, errsz) != 0)
    return -1;
  const char *args[] = {"run", "-c", cfg, "--until-eof", "-g", group, NULL};
  char *argv[BK_ARGV_MAX];
  build_argv(o, argv, args);
  double bcpu0 = bk_proc_cpu_s(broker_pid);
  double t0 = now_s();
  child c;
  if (child_spawn(&c, argv, 2, logp, err, errsz) != 0)
    return -1;
  double t_assign = 0, t_eof = 0, t_stopped = 0, t_line = 0;
  int errors = 0;
  char line[4096];
  char first_error[512] = "";
  int lr;
  while ((lr = child_line(&c, line, sizeof line, t0 + BK_RUN_TIMEOUT_S, &t_line)) == 1) {
    const char *p;
    if (t_assign == 0 && strstr(line, "runner: assigned "))
      t_assign = t_line;
    else if (t_eof == 0 && strstr(line, "runner: stopping: all assigned partitions"))
      t_eof = t_line;
    else if ((p = strstr(line, "runner: stopped: ")) != NULL) {
      t_stopped = t_line;
      unsigned long long ev = 0, disp = 0, rej = 0, dl = 0, late = 0, rst = 0, res = 0, ic = 0,
                         pe = 0;
      if (sscanf(p,
                 "runner: stopped: events %llu, dispatched %llu, rejected %llu (dead-lettered "
                 "%llu), late %llu, restated %llu, results %llu, intervals closed %llu, plugin "
                 "errors %llu",
                 &ev, &disp, &rej, &dl, &late, &rst, &res, &ic, &pe) == 9) {
        r->events = ev;
        r->rejected = rej;
        r->late = late;
        r->results = res;
        r->plugin_errors = pe;
      }
    }
    if (strstr(line, " ERROR ") && errors++ == 0)
      snprintf(first_error, sizeof first_error, "%.500s", line);
  }
  if (lr < 0) {
    kill(c.pid, SIGTERM);
    seterr(err, errsz, "b2: kpistream run did not finish within %.0f s (see %s)", BK_RUN_TIMEOUT_S,
           logp);
  }
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  int status = child_reap(&c, 30, &ru);
  double t_exit = now_s();
  if (lr < 0)
    return -1;
  if (status != 0 || t_assign == 0 || t_eof == 0 || t_stopped == 0) {
    seterr(err, errsz, "b2: kpistream run exited with %d%s%s%s%s%s (see %s)", status,
           t_assign == 0 ? "; no 'runner: assigned' line" : "",
           t_eof == 0 ? "; no 'runner: stopping: all assigned partitions' line" : "",
           t_stopped == 0 ? "; no 'runner: stopped:' line" : "",
           first_error[0] ? "; first error: " : "", first_error, logp);
    return -1;
  }
  r->join_s = t_assign - t0;
  r->work_s = t_eof - t_assign;
  r->tail_s = t_stopped - t_eof;
  r->total_s = t_exit - t0;
  r->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  r->broker_cpu_s = bk_proc_cpu_s(broker_pid) - bcpu0;
  r->rss_mib = (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
  r->ok = r->events == o->msgs->n && r->rejected == 0 && r->late == 0 && errors == 0;
  if (!r->ok)
    fprintf(stderr,
            "b2: events %" PRIu64 " (expected %zu), rejected %" PRIu64 ", late %" PRIu64
            ", error lines %d%s%s (see %s)\n",
            r->events, o->msgs->n, r->rejected, r->late, errors, errors ? ": " : "", first_error,
            logp);
  return 0;
}

/* ---- all of (b) ---------------------------------------------------------------- */

static void remove_workdir(const char *dir, int runs) {
  char p[400];
  static const char *const names[] = {"broker.log", "run.yaml"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
  for (int k = 0; k < runs; k++) {
    snprintf(p, sizeof p, "%s/run-%d.log", dir, k + 1);
    unlink(p);
  }
  rmdir(dir);
}

int bk_run_all(const bk_opts *o, bk_result *out, char *err, size_t errsz) {
  memset(out, 0, sizeof *out);
  const bg_msgs *m = o->msgs;
  int runs = o->runs < 1 ? 1 : (o->runs > BK_MAX_RUNS ? BK_MAX_RUNS : o->runs);
  out->n_partitions_total = BG_N_TOPICS * o->partitions;

  /* Will the mock keep it all? Estimate the fullest partition first. */
  size_t np = (size_t)BG_N_TOPICS * (size_t)o->partitions;
  uint64_t *bytes = calloc(np, sizeof *bytes);
  if (bytes == NULL) {
    seterr(err, errsz, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < m->n; i++) {
    size_t len;
    bg_msg(m, i, &len);
    bytes[(size_t)m->topic[i] * (size_t)o->partitions + m->tenant[i] % (unsigned)o->partitions] +=
        len + strlen(m->tenant_name[m->tenant[i]]) + BK_RECORD_OVERHEAD;
  }
  for (size_t i = 0; i < np; i++)
    if (bytes[i] > out->max_partition_bytes)
      out->max_partition_bytes = bytes[i];
  free(bytes);
  if (out->max_partition_bytes > BK_MAX_PARTITION_BYTES) {
    seterr(err, errsz,
           "the fullest input partition would hold %.1f MiB; the mock broker keeps only ~5 MiB "
           "per partition: use fewer --events or more --tenants",
           (double)out->max_partition_bytes / 1048576.0);
    return -1;
  }

  snprintf(out->workdir, sizeof out->workdir, "/tmp/kpistream-bench.XXXXXX");
  if (mkdtemp(out->workdir) == NULL) {
    seterr(err, errsz, "mkdtemp: %s", strerror(errno));
    return -1;
  }
  broker b;
  memset(&b, 0, sizeof b);
  double t0 = now_s();
  progress("starting the broker (%s broker) with %d x %d input partitions", o->launcher[0],
           BG_N_TOPICS, o->partitions);
  if (broker_start(o, &b, out->workdir, err, errsz) != 0)
    return -1;
  out->broker_start_s = now_s() - t0;
  progress("broker at %s; producing %zu messages", b.bootstrap, m->n);
  int rc = produce_all(o, b.bootstrap, out, err, errsz);
  if (rc == 0 && !out->verified) {
    seterr(err, errsz, "the broker does not hold every message: %s", out->verify);
    rc = -1;
  }
  if (rc == 0)
    progress("produced in %.2f s; verified: %s", out->produce_s, out->verify);
  for (int k = 0; rc == 0 && k < runs; k++) {
    progress("run %d/%d: b1 counting consumer", k + 1, runs);
    rc = run_counter(o, b.bootstrap, b.c.pid, k, &out->b1[k], err, errsz);
    if (rc != 0)
      break;
    progress("run %d/%d: b1 %.2f s for %" PRIu64 " messages; b2 kpistream run --until-eof", k + 1,
             runs, out->b1[k].work_s, out->b1[k].events);
    rc = run_kpistream(o, b.bootstrap, b.c.pid, out->workdir, k, &out->b2[k], err, errsz);
    if (rc != 0)
      break;
    progress("run %d/%d: b2 %.2f s for %" PRIu64 " events", k + 1, runs, out->b2[k].work_s,
             out->b2[k].events);
    out->n_runs = k + 1;
  }
  progress("stopping the broker");
  broker_stop(&b);
  if (!o->keep && rc == 0)
    remove_workdir(out->workdir, runs);
  return rc;
}
