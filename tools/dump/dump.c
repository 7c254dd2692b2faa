/*
 * kpistream dump — every MetricResult of one or more result topics, one line
 * each, from the beginning to the end, for comparing whole outputs in tests:
 *
 *   KEY <TAB> REVISION <TAB> VALUE|null <TAB> NUMERATOR <TAB> DENOMINATOR <TAB> COUNT
 *
 * Doubles are printed with %.17g, which reads back to the same double. Lines
 * come in topic (command-line order), partition, offset order. Control
 * characters in a key are printed as \xHH so a line stays one line.
 *
 * How: no consumer group. The end of each partition is its high watermark
 * when the dump starts (rd_kafka_query_watermark_offsets); every partition is
 * assigned from its low watermark, and the dump stops once each has
 * delivered everything below its end (or reported partition EOF there).
 * Partitions are consumed together and each one's lines are kept in memory
 * (an open_memstream buffer) until all are done, then printed in order.
 * A blocking program: there is nothing else to serve while it runs.
 *
 * Ownership: everything lives in one struct dump_app owned by ks_cmd_dump().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "cli.h"
#include "dump.h"
#include "duration.h"
#include "kafka_conf.h"
#include "kpistream/v1/result.pb-c.h"

#define DUMP_DEFAULT_TIMEOUT_MS 60000
#define DUMP_POLL_MS            100
#define DUMP_BAD_LOG_MAX        20 /* undecodable messages reported one by one, then counted */

typedef Kpistream__V1__MetricResult metric_result;

typedef struct dump_part {
  int64_t lo, hi; /* watermarks at start: the dump covers [lo, hi) */
  int64_t next;   /* next offset expected */
  int done;
  FILE *out; /* open_memstream over buf/len */
  char *buf;
  size_t len;
} dump_part;

typedef struct dump_topic {
  const char *name; /* borrowed from argv */
  int32_t n_parts;
  dump_part *parts; /* owned, indexed by partition id */
} dump_topic;

typedef struct dump_app {
  const char *bootstrap_file; /* borrowed from argv */
  const char *bootstrap;      /* argv, or bs_buf */
  char bs_buf[4096];
  int64_t timeout_ms;
  int offsets;        /* --offsets: append TOPIC, PARTITION, OFFSET */
  const char **props; /* owned array of "key=value", borrowed from argv */
  size_t n_props;
  dump_topic *topics; /* owned */
  size_t n_topics;
  rd_kafka_t *rk; /* owned */
  uint64_t n_results, n_bad;
  size_t n_pending; /* partitions not done */
} dump_app;

static void print_help(FILE *f) {
  fprintf(
      f,
      "Usage: kpistream dump (-b SERVERS | --bootstrap-file PATH) [OPTIONS] [TOPIC...]\n"
      "\n"
      "Prints every kpistream.v1.MetricResult of the result topics, from the beginning\n"
      "to the end as it stands when the dump starts, one line each:\n"
      "  KEY<TAB>REVISION<TAB>VALUE|null<TAB>NUMERATOR<TAB>DENOMINATOR<TAB>COUNT\n"
      "in topic, partition and offset order; doubles with %%.17g (exact round trip).\n"
      "Undecodable messages are reported on stderr with topic, partition and offset.\n"
      "\n"
      "Options:\n"
      "  -b, --bootstrap-servers LIST  Kafka bootstrap servers (host:port,...)\n"
      "      --bootstrap-file PATH     read them from the first line of PATH (as\n"
      "                                written by `kpistream broker --bootstrap-file`)\n"
      "  -t, --topic NAME              result topic (repeatable, or as arguments;\n"
      "                                default kpi.operations)\n"
      "  -X KEY=VALUE                  librdkafka consumer property (repeatable)\n"
      "      --offsets                 append <TAB>TOPIC<TAB>PARTITION<TAB>OFFSET to each line\n"
      "      --timeout DUR             give up after DUR (default %d s)\n"
      "  -h, --help                    this help\n"
      "  -V, --version                 print the version\n"
      "\n"
      "Exit status: 0 when every message was a MetricResult, 1 when some were not or\n"
      "the end was not reached in time, 2 on a usage error.\n"
      "\n"
      "Example:\n"
      "  kpistream dump --bootstrap-file /tmp/ks.bootstrap kpi.operations | sort\n",
      DUMP_DEFAULT_TIMEOUT_MS / 1000);
}

static int add_topic(dump_app *app, const char *name) {
  if (*name == '\0') {
    fprintf(stderr, "kpistream dump: empty topic name\n");
    return -1;
  }
  dump_topic *grown = realloc(app->topics, (app->n_topics + 1) * sizeof *grown);
  if (!grown)
    return -1;
  app->topics = grown;
  grown[app->n_topics++] = (dump_topic){.name = name};
  return 0;
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(dump_app *app, int argc, char **argv) {
  enum { O_BFILE = 256, O_OFFSETS, O_TIMEOUT };
  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, 'V'},
                                           {"bootstrap-servers", required_argument, NULL, 'b'},
                                           {"bootstrap-file", required_argument, NULL, O_BFILE},
                                           {"topic", required_argument, NULL, 't'},
                                           {"X", required_argument, NULL, 'X'},
                                           {"offsets", no_argument, NULL, O_OFFSETS},
                                           {"timeout", required_argument, NULL, O_TIMEOUT},
                                           {NULL, 0, NULL, 0}};
  app->timeout_ms = DUMP_DEFAULT_TIMEOUT_MS;
  ks_cli cli;
  ks_cli_init(&cli, "dump", argc, argv, "hVb:t:X:", longopts);
  const char *v;
  int c;
  while ((c = ks_cli_next(&cli, &v)) != KS_CLI_END) {
    switch (c) {
    case 'h':
      print_help(stdout);
      return 0;
    case 'V':
      return ks_cli_version();
    case 'b':
      app->bootstrap = v;
      break;
    case O_BFILE:
      app->bootstrap_file = v;
      break;
    case 't':
    case KS_CLI_ARG: /* topics as arguments, in command-line order with -t's */
      if (add_topic(app, v))
        return KS_EXIT_USAGE;
      break;
    case 'X': {
      int rc = ks_cli_property("dump", v, &app->props, &app->n_props);
      if (rc)
        return rc;
      break;
    }
    case O_OFFSETS:
      app->offsets = 1;
      break;
    case O_TIMEOUT:
      if (ks_parse_duration_ms(v, &app->timeout_ms) != 0 || app->timeout_ms <= 0) {
        fprintf(stderr, "kpistream dump: --timeout: '%s' is not a positive duration\n", v);
        return KS_EXIT_USAGE;
      }
      break;
    default:
      return KS_EXIT_USAGE;
    }
  }
  if (!app->bootstrap == !app->bootstrap_file || (app->bootstrap && !*app->bootstrap)) {
    fprintf(stderr, "kpistream dump: give exactly one of --bootstrap-servers (-b) and "
                    "--bootstrap-file (see --help)\n");
    return KS_EXIT_USAGE;
  }
  if (app->bootstrap_file) {
    if (ks_cli_read_bootstrap(app->bootstrap_file, app->bs_buf, sizeof app->bs_buf) != 0) {
      fprintf(stderr, "kpistream dump: --bootstrap-file %s: no bootstrap address in it\n",
              app->bootstrap_file);
      return 1;
    }
    app->bootstrap = app->bs_buf;
  }
  if (app->n_topics == 0 && add_topic(app, "kpi.operations"))
    return 1;
  return -1;
}

static int create_consumer(dump_app *app) {
  char errstr[512], group[64];
  /* Never joined, never committed: the consumer API just needs a group.id. */
  snprintf(group, sizeof group, "kpistream-dump-%ld-%llx", (long)getpid(),
           (unsigned long long)uv_hrtime());
  const ks_kv defaults[] = {
      {"bootstrap.servers", app->bootstrap},
      {"client.id", "kpistream-dump"},
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"fetch.wait.max.ms", "50"}, /* the mock waits this long on an empty partition */
      {"log.connection.close", "false"},
  };
  char why[512];
  const ks_kv *lists[] = {defaults};
  const size_t counts[] = {sizeof defaults / sizeof defaults[0]};
  rd_kafka_conf_t *conf =
      ks_kafka_conf_build_cli(lists, counts, 1, app->props, app->n_props, why, sizeof why);
  if (conf == NULL) {
    fprintf(stderr, "kpistream dump: %s\n", why);
    return KS_EXIT_USAGE;
  }
  app->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!app->rk) {
    fprintf(stderr, "kpistream dump: cannot create the consumer: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  rd_kafka_poll_set_consumer(app->rk);
  return 0;
}

static int remaining_ms(uint64_t deadline) {
  uint64_t now = uv_hrtime() / 1000000u;
  return now >= deadline ? 0 : (int)(deadline - now);
}

/* Partitions and watermarks of every topic, then one assignment of them all. */
static int assign_all(dump_app *app, uint64_t deadline) {
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
  int rc = 0;
  for (size_t t = 0; t < app->n_topics && rc == 0; t++) {
    dump_topic *dt = &app->topics[t];
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(app->rk, dt->name, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rkt ? rd_kafka_metadata(app->rk, 0, rkt, &md, remaining_ms(deadline))
                                  : rd_kafka_last_error();
    if (!err && (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt <= 0))
      err = md->topic_cnt == 1 && md->topics[0].err ? md->topics[0].err
                                                    : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (err) {
      fprintf(stderr, "kpistream dump: topic %s: %s\n", dt->name, rd_kafka_err2str(err));
      rc = 1;
    } else {
      dt->n_parts = md->topics[0].partition_cnt; /* the mock and Kafka number them 0..n-1 */
      dt->parts = calloc((size_t)dt->n_parts, sizeof *dt->parts);
      rc = dt->parts ? 0 : 1;
    }
    for (int32_t p = 0; rc == 0 && p < dt->n_parts; p++) {
      dump_part *dp = &dt->parts[p];
      err = rd_kafka_query_watermark_offsets(app->rk, dt->name, p, &dp->lo, &dp->hi,
                                             remaining_ms(deadline));
      if (err) {
        fprintf(stderr, "kpistream dump: %s [%d]: watermarks: %s\n", dt->name, (int)p,
                rd_kafka_err2str(err));
        rc = 1;
      } else if (!(dp->out = open_memstream(&dp->buf, &dp->len))) {
        rc = 1;
      } else if (dp->lo >= dp->hi) {
        dp->done = 1;
      } else {
        dp->next = dp->lo;
        rd_kafka_topic_partition_list_add(list, dt->name, p)->offset = dp->lo;
        app->n_pending++;
      }
    }
    if (md)
      rd_kafka_metadata_destroy(md);
    if (rkt)
      rd_kafka_topic_destroy(rkt);
  }
  if (rc == 0 && list->cnt) {
    rd_kafka_resp_err_t err = rd_kafka_assign(app->rk, list);
    if (err) {
      fprintf(stderr, "kpistream dump: assign: %s\n", rd_kafka_err2str(err));
      rc = 1;
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return rc;
}

static dump_part *part_of(dump_app *app, const rd_kafka_message_t *m) {
  const char *name = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
  for (size_t t = 0; name && t < app->n_topics; t++)
    if (strcmp(app->topics[t].name, name) == 0)
      return m->partition >= 0 && m->partition < app->topics[t].n_parts
                 ? &app->topics[t].parts[m->partition]
                 : NULL;
  return NULL;
}

static void mark_done(dump_app *app, dump_part *dp) {
  if (!dp->done) {
    dp->done = 1;
    app->n_pending--;
  }
}

static void print_key(FILE *f, const char *key) {
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
    if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\x%02x", *p);
    else
      fputc(*p, f);
  }
}

static void handle(dump_app *app, const rd_kafka_message_t *m) {
  dump_part *dp = part_of(app, m);
  if (m->err) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (dp && m->offset >= dp->hi)
        mark_done(app, dp);
    } else {
      fprintf(stderr, "kpistream dump: %s%s%s\n", rd_kafka_message_errstr(m), m->rkt ? " on " : "",
              m->rkt ? rd_kafka_topic_name(m->rkt) : "");
    }
    return;
  }
  if (!dp || dp->done || m->offset < dp->next) /* not ours, past the end, or seen */
    return;
  metric_result *r = m->len ? kpistream__v1__metric_result__unpack(NULL, m->len, m->payload) : NULL;
  if (!r || r->key[0] == '\0') {
    if (++app->n_bad <= DUMP_BAD_LOG_MAX)
      fprintf(stderr, "kpistream dump: %s [%d] offset %lld: %s (%zu bytes)%s\n",
              rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
              r ? "MetricResult without a key" : "not a kpistream.v1.MetricResult", m->len,
              app->n_bad == DUMP_BAD_LOG_MAX ? "; further ones only counted" : "");
  } else {
    print_key(dp->out, r->key);
    fprintf(dp->out, "\t%u\t", (unsigned)r->revision);
    if (r->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE)
      fprintf(dp->out, "%.17g", r->value);
    else
      fputs("null", dp->out);
    fprintf(dp->out, "\t%.17g\t%.17g\t%lld", r->numerator, r->denominator, (long long)r->count);
    if (app->offsets)
      fprintf(dp->out, "\t%s\t%d\t%lld", rd_kafka_topic_name(m->rkt), (int)m->partition,
              (long long)m->offset);
    fputc('\n', dp->out);
    app->n_results++;
  }
  if (r)
    kpistream__v1__metric_result__free_unpacked(r, NULL);
  dp->next = m->offset + 1;
  if (dp->next >= dp->hi)
    mark_done(app, dp);
}

static int print_all(dump_app *app) {
  size_t n_parts = 0;
  for (size_t t = 0; t < app->n_topics; t++)
    for (int32_t p = 0; p < app->topics[t].n_parts; p++) {
      dump_part *dp = &app->topics[t].parts[p];
      if (fclose(dp->out) != 0 || fwrite(dp->buf, 1, dp->len, stdout) != dp->len)
        return -1;
      dp->out = NULL;
      n_parts++;
    }
  if (fflush(stdout) != 0)
    return -1;
  fprintf(stderr,
          "kpistream dump: %llu results from %zu topic%s (%zu partitions), %llu undecodable\n",
          (unsigned long long)app->n_results, app->n_topics, app->n_topics == 1 ? "" : "s", n_parts,
          (unsigned long long)app->n_bad);
  return 0;
}

int ks_cmd_dump(int argc, char **argv) {
  dump_app app;
  memset(&app, 0, sizeof app);
  int status = parse_args(&app, argc, argv);
  if (status >= 0) {
    free(app.topics);
    free(app.props);
    return status;
  }
  status = create_consumer(&app);
  uint64_t deadline = uv_hrtime() / 1000000u + (uint64_t)app.timeout_ms;
  if (status == 0)
    status = assign_all(&app, deadline);
  while (status == 0 && app.n_pending > 0) {
    if (remaining_ms(deadline) == 0) {
      fprintf(stderr, "kpistream dump: %zu partition%s not read to the end within %.1f s\n",
              app.n_pending, app.n_pending == 1 ? "" : "s", (double)app.timeout_ms / 1000.0);
      status = 1;
      break;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(app.rk, DUMP_POLL_MS);
    if (m) {
      handle(&app, m);
      rd_kafka_message_destroy(m);
    }
  }
  if (status == 0 && print_all(&app) != 0) {
    perror("kpistream dump: writing the output");
    status = 1;
  }
  if (status == 0 && app.n_bad)
    status = 1;
  if (app.rk) {
    rd_kafka_consumer_close(app.rk); /* nothing to leave or commit: quick */
    rd_kafka_destroy(app.rk);
  }
  for (size_t t = 0; t < app.n_topics; t++) {
    for (int32_t p = 0; p < app.topics[t].n_parts; p++) {
      if (app.topics[t].parts[p].out)
        fclose(app.topics[t].parts[p].out);
      free(app.topics[t].parts[p].buf);
    }
    free(app.topics[t].parts);
  }
  free(app.topics);
  free(app.props);
  return status;
}
