/*
 * kpistream broker — an embedded Kafka-protocol broker for demos and tests.
 *
 * Starts librdkafka's mock cluster (it listens on 127.0.0.1, random ports),
 * creates the project's topics, prints the bootstrap address on stdout (one
 * line, flushed) and optionally writes it to a file (temp file + rename, so a
 * reader never sees a partial line), then waits in a libuv loop for SIGINT or
 * SIGTERM (or --exit-after), destroys the cluster and removes the file.
 *
 * The mock cluster runs on its own librdkafka thread; the loop only waits for
 * the stop signal. Everything lives in one struct broker_app owned by
 * ks_cmd_broker(): no global mutable state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "broker.h"
#include "broker_control.h"
#include "cli.h"
#include "duration.h"
#include "log.h"

#define BROKER_LOG                "broker"
#define BROKER_MAX_TOPICS         256
#define BROKER_TOPIC_NAME_MAX     249 /* Kafka's limit */
#define BROKER_MAX_PARTITIONS     1024
#define BROKER_MAX_BROKERS        16
#define BROKER_DEFAULT_PARTITIONS 4

/* The default topic set: inputs, outputs, dead letters. */
static const char *const default_topics[] = {
    "events.voice",    "events.email",   "events.chat",    "events.agent",  "events.feedback",
    "events.business", "kpi.operations", "kpi.experience", "kpi.workforce", "kpi.quality",
    "kpi.value",       "kpi.forecast",   "kpi.scorecard",  "kpi.alerts",    "kpistream.dlq",
};
#define N_DEFAULT_TOPICS (sizeof default_topics / sizeof default_topics[0])

typedef struct broker_topic {
  char name[BROKER_TOPIC_NAME_MAX + 1];
  int partitions; /* 0: use --partitions */
} broker_topic;

typedef struct broker_opts {
  int partitions;
  int brokers;
  int no_default_topics;
  const char *bootstrap_file; /* borrowed from argv */
  int64_t exit_after_ms;      /* 0: run until a signal */
  const char *control;        /* --control PATH, borrowed from argv */
  const char *control_ack;    /* --control-ack PATH, borrowed from argv */
  broker_topic *extra;        /* owned; --topic in order */
  size_t n_extra;
} broker_opts;

typedef struct broker_app {
  broker_opts opts;
  broker_topic *topics; /* owned: the resolved set actually created */
  size_t n_topics;

  rd_kafka_t *rk;              /* owned: hosts the mock cluster */
  rd_kafka_mock_cluster_t *mc; /* owned: destroyed before rk */
  char *bootstrap;             /* owned copy of the bootstrap string */
  int file_written;            /* the bootstrap file is ours to remove */

  uv_loop_t loop; /* owned; closed after every handle below */
  uv_signal_t sig_int;
  uv_signal_t sig_term;
  uv_timer_t exit_timer;
  const char *stop_reason;
  ks_broker_control *ctl; /* owned; --control */
} broker_app;

/* ---- argument parsing ------------------------------------------------------ */

/*
 * Matches argv[*i] against "--lng", "--lng=VALUE", "-s", "-sVALUE" (shrt may
 * be 0). For options with a value, *val gets it, consuming the next argument
 * when needed. Returns 1 on a match, 0 when it is another option, -1 when the
 * value is missing (reported).
 */

static int parse_count(const char *opt, const char *s, int lo, int hi, int *out) {
  int64_t v;
  if (ks_parse_int(s, &v) != 0 || v < lo || v > hi) {
    fprintf(stderr, "kpistream broker: %s: '%s' is not a whole number from %d to %d\n", opt, s, lo,
            hi);
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* Kafka topic names: 1..249 of [A-Za-z0-9._-], not "." or "..". */
static int topic_name_ok(const char *s, size_t n) {
  if (n == 0 || n > BROKER_TOPIC_NAME_MAX)
    return 0;
  if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* "NAME" or "NAME:PARTITIONS" -> appended to opts->extra. */
static int add_topic_arg(broker_opts *o, const char *arg) {
  const char *colon = strrchr(arg, ':');
  size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
  if (!topic_name_ok(arg, n)) {
    fprintf(stderr,
            "kpistream broker: --topic '%s': a topic name is 1 to %d characters of "
            "[A-Za-z0-9._-] (optionally followed by :PARTITIONS)\n",
            arg, BROKER_TOPIC_NAME_MAX);
    return -1;
  }
  int parts = 0;
  if (colon && parse_count("--topic NAME:PARTITIONS", colon + 1, 1, BROKER_MAX_PARTITIONS, &parts))
    return -1;
  if (o->n_extra >= BROKER_MAX_TOPICS) {
    fprintf(stderr, "kpistream broker: --topic: at most %d topics\n", BROKER_MAX_TOPICS);
    return -1;
  }
  broker_topic *t = &o->extra[o->n_extra++];
  memcpy(t->name, arg, n);
  t->name[n] = '\0';
  t->partitions = parts;
  return 0;
}

static void print_help(FILE *f) {
  fprintf(f,
          "Usage: kpistream broker [OPTIONS]\n"
          "\n"
          "Runs an embedded Kafka-protocol broker (librdkafka's mock cluster) on 127.0.0.1\n"
          "for demos and tests, prints its bootstrap address on stdout and serves until\n"
          "SIGINT/SIGTERM. Data lives only as long as this process.\n"
          "\n"
          "Options:\n"
          "  --partitions N          partitions per topic (default %d)\n"
          "  --brokers N             brokers in the cluster (default 1, at most %d)\n"
          "  --topic NAME[:PARTS]    also create NAME (repeatable); a default topic named\n"
          "                          again takes the given partition count\n"
          "  --no-default-topics     create only the --topic topics\n"
          "  --bootstrap-file PATH   also write the bootstrap address to PATH (atomically);\n"
          "                          removed at exit\n"
          "  --exit-after DURATION   stop by itself after DURATION (\"90\", \"30s\", \"5m\");\n"
          "                          a safety net for tests (default: never)\n"
          "  --control PATH          fault injection: read newline-terminated commands from the\n"
          "                          FIFO PATH (created if missing, removed at exit) or a file\n"
          "      down ID | up ID            broker ID (1..N) refuses | accepts clients\n"
          "      rtt ID MS                  broker ID delays every response by MS\n"
          "      leader TOPIC PARTITION ID  move a partition's leadership to broker ID\n"
          "      errors API COUNT ERRNAME   the next COUNT requests of API (Produce, Fetch,\n"
          "                                 Metadata, OffsetCommit, Heartbeat, ...) fail with\n"
          "                                 ERRNAME (NOT_LEADER_FOR_PARTITION, ...); 0 clears\n"
          "      sync                       append \"ok N\" (the N-th sync) to --control-ack\n"
          "                          each is logged as \"broker: control: ...\"; bad ones ignored\n"
          "  --control-ack PATH      where sync acknowledges (truncated at start)\n"
          "  -h, --help              this help\n"
          "  -V, --version           print the version\n"
          "\n"
          "Default topics:\n"
          "  inputs       events.voice events.email events.chat events.agent\n"
          "               events.feedback events.business\n"
          "  outputs      kpi.operations kpi.experience kpi.workforce kpi.quality kpi.value\n"
          "               kpi.forecast kpi.scorecard kpi.alerts\n"
          "  dead letters kpistream.dlq\n"
          "\n"
          "Example:\n"
          "  kpistream broker --bootstrap-file /tmp/ks.bootstrap &\n"
          "  kcat -b \"$(cat /tmp/ks.bootstrap)\" -L\n"
          "  kpistream broker --brokers 3 --control /tmp/ks.ctl --control-ack /tmp/ks.ack &\n"
          "  echo 'down 2' > /tmp/ks.ctl; echo sync > /tmp/ks.ctl; grep -qx 'ok 1' /tmp/ks.ack\n",
          BROKER_DEFAULT_PARTITIONS, BROKER_MAX_BROKERS);
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(broker_opts *o, int argc, char **argv) {
  enum {
    O_PARTITIONS = 256,
    O_BROKERS,
    O_TOPIC,
    O_NO_DEFAULTS,
    O_BFILE,
    O_EXIT_AFTER,
    O_CONTROL,
    O_CONTROL_ACK
  };
  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, 'V'},
                                           {"partitions", required_argument, NULL, O_PARTITIONS},
                                           {"brokers", required_argument, NULL, O_BROKERS},
                                           {"topic", required_argument, NULL, O_TOPIC},
                                           {"no-default-topics", no_argument, NULL, O_NO_DEFAULTS},
                                           {"bootstrap-file", required_argument, NULL, O_BFILE},
                                           {"exit-after", required_argument, NULL, O_EXIT_AFTER},
                                           {"control", required_argument, NULL, O_CONTROL},
                                           {"control-ack", required_argument, NULL, O_CONTROL_ACK},
                                           {NULL, 0, NULL, 0}};
  o->partitions = BROKER_DEFAULT_PARTITIONS;
  o->brokers = 1;
  ks_cli cli;
  ks_cli_init(&cli, "broker", argc, argv, "hV", longopts);
  const char *v;
  int c;
  while ((c = ks_cli_next(&cli, &v)) != KS_CLI_END) {
    switch (c) {
    case 'h':
      print_help(stdout);
      return 0;
    case 'V':
      return ks_cli_version();
    case O_PARTITIONS:
      if (parse_count("--partitions", v, 1, BROKER_MAX_PARTITIONS, &o->partitions))
        return KS_EXIT_USAGE;
      break;
    case O_BROKERS:
      if (parse_count("--brokers", v, 1, BROKER_MAX_BROKERS, &o->brokers))
        return KS_EXIT_USAGE;
      break;
    case O_TOPIC:
      if (add_topic_arg(o, v))
        return KS_EXIT_USAGE;
      break;
    case O_NO_DEFAULTS:
      o->no_default_topics = 1;
      break;
    case O_BFILE:
      if (*v == '\0') {
        fprintf(stderr, "kpistream broker: --bootstrap-file: empty path\n");
        return KS_EXIT_USAGE;
      }
      o->bootstrap_file = v;
      break;
    case O_EXIT_AFTER:
      if (ks_parse_duration_ms(v, &o->exit_after_ms) != 0 || o->exit_after_ms <= 0) {
        fprintf(stderr,
                "kpistream broker: --exit-after: '%s' is not a positive duration "
                "(seconds, or with a unit: 500ms, 30s, 5m, 1h)\n",
                v);
        return KS_EXIT_USAGE;
      }
      break;
    case O_CONTROL:
      o->control = v;
      break;
    case O_CONTROL_ACK:
      o->control_ack = v;
      break;
    case KS_CLI_ARG:
      fprintf(stderr, "kpistream broker: unknown argument '%s' (see --help)\n", v);
      return KS_EXIT_USAGE;
    default:
      return KS_EXIT_USAGE;
    }
  }
  if (o->control_ack && !o->control) {
    fprintf(stderr, "kpistream broker: --control-ack needs --control\n");
    return KS_EXIT_USAGE;
  }
  return -1;
}

/* Defaults (unless --no-default-topics), then --topic in order; a repeated
 * name keeps its first position and takes the latest partition count. */
static int resolve_topics(broker_app *app) {
  const broker_opts *o = &app->opts;
  app->topics = calloc(N_DEFAULT_TOPICS + o->n_extra + 1, sizeof *app->topics);
  if (!app->topics)
    return -1;
  if (!o->no_default_topics) {
    for (size_t i = 0; i < N_DEFAULT_TOPICS; i++) {
      broker_topic *t = &app->topics[app->n_topics++];
      snprintf(t->name, sizeof t->name, "%s", default_topics[i]);
      t->partitions = o->partitions;
    }
  }
  for (size_t i = 0; i < o->n_extra; i++) {
    const broker_topic *e = &o->extra[i];
    int parts = e->partitions ? e->partitions : o->partitions;
    size_t j;
    for (j = 0; j < app->n_topics; j++)
      if (strcmp(app->topics[j].name, e->name) == 0)
        break;
    if (j == app->n_topics)
      snprintf(app->topics[app->n_topics++].name, sizeof app->topics[j].name, "%s", e->name);
    app->topics[j].partitions = parts;
  }
  return 0;
}

/* ---- bootstrap file -------------------------------------------------------- */

static int write_bootstrap_file(const char *path, const char *bootstrap) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  if (!tmp)
    return -1;
  snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "kpistream broker: --bootstrap-file %s: cannot create %s: %s\n", path, tmp,
            strerror(errno));
    free(tmp);
    return -1;
  }
  size_t len = strlen(bootstrap);
  char *line = malloc(len + 2);
  int ok = line != NULL;
  if (ok) {
    memcpy(line, bootstrap, len);
    line[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
      ssize_t w = write(fd, line + off, len + 1 - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        ok = 0;
        break;
      }
      off += (size_t)w;
    }
  }
  int saved = errno;
  free(line);
  if (close(fd) != 0 && ok) {
    ok = 0;
    saved = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = 0;
    saved = errno;
  }
  if (!ok) {
    fprintf(stderr, "kpistream broker: --bootstrap-file %s: cannot write: %s\n", path,
            strerror(saved));
    unlink(tmp);
  }
  free(tmp);
  return ok ? 0 : -1;
}

/* Removes the file only if it still holds our address: another broker may
 * have replaced it since. */
static void remove_bootstrap_file(const char *path, const char *bootstrap) {
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\r\n")] = '\0';
  if (strcmp(buf, bootstrap) == 0)
    unlink(path);
}

/* ---- loop ------------------------------------------------------------------ */

static void on_close_noop(uv_handle_t *h) {
  (void)h;
}

static void stop_loop(broker_app *app, const char *reason) {
  if (app->stop_reason)
    return;
  app->stop_reason = reason;
  uv_close((uv_handle_t *)&app->sig_int, on_close_noop);
  uv_close((uv_handle_t *)&app->sig_term, on_close_noop);
  uv_close((uv_handle_t *)&app->exit_timer, on_close_noop);
  ks_broker_control_stop(app->ctl);
}

static void on_signal(uv_signal_t *h, int signum) {
  broker_app *app = h->data;
  stop_loop(app, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_exit_timer(uv_timer_t *t) {
  broker_app *app = t->data;
  stop_loop(app, "--exit-after");
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- start / stop the mock cluster ---------------------------------------- */

/*
 * Control ops and lost wake-ups. rd_kafka_mock_topic_create() hands an op to
 * the mock cluster's thread and waits for it. In librdkafka 2.0.2 that thread, after serving its op
 * queue, drains its wake-up pipe — including the byte written for an op enqueued meanwhile — and
 * then sleeps in poll() for up to 1 s with that op queued. Measured: about one op in four waited 1
 * s, so creating the 15 default topics one after another took 2-6 s.
 *
 * Two remedies, both outside librdkafka:
 *  - the topics are created from parallel threads, so ops stuck behind one
 *    lost wake-up are served together;
 *  - while ops are outstanding, a "kicker" thread opens (and closes) a TCP
 *    connection to the first mock broker every BROKER_KICK_MS: the listening
 *    socket wakes the mock thread's poll(), which then serves its op queue.
 * Start-up then took 3-40 ms over 60 measured starts (before: 4 ms to 6 s).
 */
#define BROKER_KICK_MS 20

typedef struct kicker {
  uv_thread_t tid;
  uv_mutex_t mu;
  uv_cond_t cv;
  int stop;                /* under mu */
  struct sockaddr_in addr; /* the first broker's listener */
  int running;
} kicker;

static void kick_once(const struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return;
  /* Non-blocking: on loopback the SYN reaching the listener is what wakes it. */
  (void)connect(fd, (const struct sockaddr *)addr, sizeof *addr);
  close(fd);
}

static void kicker_main(void *arg) {
  kicker *k = arg;
  uv_mutex_lock(&k->mu);
  while (!k->stop) {
    if (uv_cond_timedwait(&k->cv, &k->mu, (uint64_t)BROKER_KICK_MS * 1000000u) == UV_ETIMEDOUT &&
        !k->stop) {
      uv_mutex_unlock(&k->mu);
      kick_once(&k->addr);
      uv_mutex_lock(&k->mu);
    }
  }
  uv_mutex_unlock(&k->mu);
}

/* Starts kicking the broker at the head of `bootstraps` ("127.0.0.1:PORT,...").
 * Without a parsable address or a thread, does nothing (ops just run slower). */
static void kicker_start(kicker *k, const char *bootstraps) {
  memset(k, 0, sizeof *k);
  const char *colon = bootstraps ? strchr(bootstraps, ':') : NULL;
  if (!colon)
    return;
  char host[64];
  size_t hl = (size_t)(colon - bootstraps);
  long port = strtol(colon + 1, NULL, 10);
  if (hl >= sizeof host || port <= 0 || port > 65535)
    return;
  memcpy(host, bootstraps, hl);
  host[hl] = '\0';
  k->addr.sin_family = AF_INET;
  k->addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &k->addr.sin_addr) != 1)
    return;
  if (uv_mutex_init(&k->mu) != 0)
    return;
  if (uv_cond_init(&k->cv) != 0) {
    uv_mutex_destroy(&k->mu);
    return;
  }
  if (uv_thread_create(&k->tid, kicker_main, k) != 0) {
    uv_cond_destroy(&k->cv);
    uv_mutex_destroy(&k->mu);
    return;
  }
  k->running = 1;
}

static void kicker_stop(kicker *k) {
  if (!k->running)
    return;
  uv_mutex_lock(&k->mu);
  k->stop = 1;
  uv_cond_signal(&k->cv);
  uv_mutex_unlock(&k->mu);
  uv_thread_join(&k->tid);
  uv_cond_destroy(&k->cv);
  uv_mutex_destroy(&k->mu);
  k->running = 0;
}

#define BROKER_CREATE_THREADS 16

typedef struct create_job {
  rd_kafka_mock_cluster_t *mc; /* borrowed */
  const broker_topic *topics;  /* borrowed: the app's resolved set */
  rd_kafka_resp_err_t *errs;   /* borrowed: one per topic, written by one thread each */
  size_t n_topics;
  size_t first, stride; /* this job creates topics first, first+stride, ... */
  int replication;
} create_job;

static void create_topics_thread(void *arg) {
  const create_job *job = arg;
  for (size_t i = job->first; i < job->n_topics; i += job->stride)
    job->errs[i] = rd_kafka_mock_topic_create(job->mc, job->topics[i].name,
                                              job->topics[i].partitions, job->replication);
}

static int create_topics(broker_app *app) {
  size_t n = app->n_topics;
  if (n == 0)
    return 0;
  size_t nthreads = n < BROKER_CREATE_THREADS ? n : BROKER_CREATE_THREADS;
  rd_kafka_resp_err_t *errs = calloc(n, sizeof *errs);
  create_job jobs[BROKER_CREATE_THREADS];
  uv_thread_t tids[BROKER_CREATE_THREADS];
  int started[BROKER_CREATE_THREADS] = {0};
  if (!errs) {
    fprintf(stderr, "kpistream broker: out of memory\n");
    return -1;
  }
  for (size_t t = 0; t < nthreads; t++) {
    jobs[t] = (create_job){.mc = app->mc,
                           .topics = app->topics,
                           .errs = errs,
                           .n_topics = n,
                           .first = t,
                           .stride = nthreads,
                           .replication = app->opts.brokers < 3 ? app->opts.brokers : 3};
    started[t] = uv_thread_create(&tids[t], create_topics_thread, &jobs[t]) == 0;
    if (!started[t]) /* no thread: create this slice here */
      create_topics_thread(&jobs[t]);
  }
  for (size_t t = 0; t < nthreads; t++)
    if (started[t])
      uv_thread_join(&tids[t]);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    if (errs[i]) {
      fprintf(stderr, "kpistream broker: cannot create topic %s (%d partitions): %s\n",
              app->topics[i].name, app->topics[i].partitions, rd_kafka_err2str(errs[i]));
      rc = -1;
    }
  }
  free(errs);
  return rc;
}

static int start_cluster(broker_app *app) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only hosts the cluster; it never connects anywhere, so keep
   * librdkafka's "no bootstrap.servers" notice out of the log. */
  if (rd_kafka_conf_set(conf, "client.id", "kpistream-broker", errstr, sizeof errstr) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "kpistream broker: librdkafka configuration: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  app->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr); /* takes conf */
  if (!app->rk) {
    fprintf(stderr, "kpistream broker: cannot create the librdkafka handle: %s\n", errstr);
    return -1;
  }
  app->mc = rd_kafka_mock_cluster_new(app->rk, app->opts.brokers);
  if (!app->mc) {
    fprintf(stderr, "kpistream broker: cannot start the mock cluster with %d broker(s)\n",
            app->opts.brokers);
    return -1;
  }
  const char *bs = rd_kafka_mock_cluster_bootstraps(app->mc);
  app->bootstrap = strdup(bs ? bs : "");
  if (!app->bootstrap || !*app->bootstrap) {
    fprintf(stderr, "kpistream broker: the mock cluster reported no bootstrap address\n");
    return -1;
  }
  kicker k;
  kicker_start(&k, app->bootstrap);
  int rc = create_topics(app);
  kicker_stop(&k);
  return rc;
}

static void stop_cluster(broker_app *app) {
  /* Up to ~1 s: the mock thread joins an internal broker thread that waits
   * out a 1 s timed wait at times (seen in gdb); nothing to kick there. */
  if (app->mc)
    rd_kafka_mock_cluster_destroy(app->mc);
  app->mc = NULL;
  if (app->rk)
    rd_kafka_destroy(app->rk);
  app->rk = NULL;
}

/* "events.voice, ..., kpi.x:8": names, with :N where it differs from --partitions. */
static void topics_summary(const broker_app *app, char *buf, size_t size) {
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < app->n_topics && off < size; i++) {
    const broker_topic *t = &app->topics[i];
    int n;
    if (t->partitions != app->opts.partitions)
      n = snprintf(buf + off, size - off, "%s%s:%d", i ? " " : "", t->name, t->partitions);
    else
      n = snprintf(buf + off, size - off, "%s%s", i ? " " : "", t->name);
    if (n < 0)
      break;
    off += (size_t)n;
  }
  if (off >= size && size > 4)
    memcpy(buf + size - 4, "...", 4);
}

int ks_cmd_broker(int argc, char **argv) {
  broker_app app;
  memset(&app, 0, sizeof app);
  app.opts.extra = calloc(BROKER_MAX_TOPICS, sizeof *app.opts.extra);
  if (!app.opts.extra) {
    fprintf(stderr, "kpistream broker: out of memory\n");
    return 1;
  }
  int status = parse_args(&app.opts, argc, argv);
  if (status >= 0) {
    free(app.opts.extra);
    return status;
  }
  status = 1;
  if (resolve_topics(&app) != 0) {
    fprintf(stderr, "kpistream broker: out of memory\n");
    goto out_opts;
  }

  if (uv_loop_init(&app.loop) != 0) {
    fprintf(stderr, "kpistream broker: cannot initialise the event loop\n");
    goto out_opts;
  }
  /* Signals first, so a Ctrl-C during start-up still stops cleanly. */
  uv_signal_init(&app.loop, &app.sig_int);
  uv_signal_init(&app.loop, &app.sig_term);
  uv_timer_init(&app.loop, &app.exit_timer);
  app.sig_int.data = app.sig_term.data = app.exit_timer.data = &app;
  uv_signal_start(&app.sig_int, on_signal, SIGINT);
  uv_signal_start(&app.sig_term, on_signal, SIGTERM);

  double t0 = now_s();
  if (start_cluster(&app) != 0) {
    stop_loop(&app, "start-up failure");
    goto out_loop;
  }
  double t_up = now_s() - t0;
  /* Before the bootstrap file: a script that sees the file finds the FIFO. */
  if (app.opts.control &&
      ks_broker_control_start(&app.ctl, &app.loop, app.mc, app.bootstrap, app.opts.brokers,
                              app.opts.control, app.opts.control_ack) != 0) {
    stop_loop(&app, "start-up failure");
    goto out_loop;
  }

  if (app.opts.bootstrap_file) {
    if (write_bootstrap_file(app.opts.bootstrap_file, app.bootstrap) != 0) {
      stop_loop(&app, "start-up failure");
      goto out_loop;
    }
    app.file_written = 1;
  }
  printf("%s\n", app.bootstrap);
  fflush(stdout);

  char summary[1024];
  topics_summary(&app, summary, sizeof summary);
  ks_log(KS_LOG_INFO, KS_LOG_INFO, BROKER_LOG,
         "mock cluster up in %.0f ms: %d broker%s, %zu topic%s, %d partition%s each "
         "(replication %d): %s; bootstrap %s%s%s",
         t_up * 1000.0, app.opts.brokers, app.opts.brokers == 1 ? "" : "s", app.n_topics,
         app.n_topics == 1 ? "" : "s", app.opts.partitions, app.opts.partitions == 1 ? "" : "s",
         app.opts.brokers < 3 ? app.opts.brokers : 3, app.n_topics ? summary : "(none)",
         app.bootstrap, app.opts.bootstrap_file ? " -> " : "",
         app.opts.bootstrap_file ? app.opts.bootstrap_file : "");

  uv_update_time(&app.loop); /* start-up may have taken a while */
  if (app.opts.exit_after_ms > 0)
    uv_timer_start(&app.exit_timer, on_exit_timer, (uint64_t)app.opts.exit_after_ms, 0);
  status = 0;

out_loop:
  /* Until stop_loop() closes the three handles; then drains their closes. */
  uv_run(&app.loop, UV_RUN_DEFAULT);
  if (status == 0)
    ks_log(KS_LOG_INFO, KS_LOG_INFO, BROKER_LOG, "stopping (%s)", app.stop_reason);
  double t1 = now_s();
  ks_broker_control_free(app.ctl); /* the loop is over: no command is running */
  stop_cluster(&app);
  if (app.file_written)
    remove_bootstrap_file(app.opts.bootstrap_file, app.bootstrap);
  if (status == 0)
    ks_log(KS_LOG_INFO, KS_LOG_INFO, BROKER_LOG, "stopped in %.1f s", now_s() - t1);
  if (uv_loop_close(&app.loop) != 0)
    ks_log(KS_LOG_INFO, KS_LOG_WARN, BROKER_LOG, "event loop closed with handles still open");
out_opts:
  free(app.bootstrap);
  free(app.topics);
  free(app.opts.extra);
  return status;
}
