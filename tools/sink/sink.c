/*
 * kpistream sink postgres — results of result topics into a PostgreSQL
 * table, exactly once (docs/warehouses.md, "The PostgreSQL sink"):
 *
 *   - no consumer group: every partition of the topics is assigned by hand,
 *     from the offsets stored in the database (kpistream.sink_offsets, one
 *     row per sink group, topic and partition), or from the beginning;
 *   - records are decoded whatever their format (content-type header, else
 *     the first byte: result_format.h) and collected into a batch;
 *   - one transaction per batch: COPY into a temporary staging table, one
 *     INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE the stored revision is
 *     lower, and the batch's next offsets upserted into sink_offsets; COMMIT.
 *     A kill at any point leaves either the whole batch and its offsets or
 *     neither; the next start seeks to the stored offsets.
 *   - a failed batch (connection lost, server restarted) is rolled back by
 *     the server; the sink reconnects with backoff, reads the offsets back
 *     and seeks there, so nothing is half-applied and nothing is skipped.
 *   - one sink per group at a time: a session advisory lock on the group.
 *
 * A blocking program (like dump): SIGINT and SIGTERM are blocked and polled
 * between records, so a stop commits the batch in hand and exits 0.
 *
 * Ownership: everything lives in one struct sink_app owned by ks_cmd_sink().
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "cli.h"
#include "config.h"
#include "duration.h"
#include "kafka_conf.h"
#include "kpistream/v1/result.pb-c.h"
#include "result_format.h"
#include "sink.h"

#define SINK_SCHEMA_VERSION   1
#define SINK_DEFAULT_BATCH    5000
#define SINK_DEFAULT_BATCH_MS 1000
#define SINK_DEFAULT_RETRY_MS 60000
#define SINK_POLL_MS          100
#define SINK_BAD_LOG_MAX      20
#define SINK_MAX_FAILURES     5 /* a batch failing this often in a row stops the sink */

typedef Kpistream__V1__MetricResult metric_result;

typedef struct sink_part {
  int64_t hi;        /* high watermark at start (--until-eof stops there) */
  int64_t next;      /* next offset to read (after the last one batched) */
  int64_t committed; /* next offset as stored in the database */
  int done;          /* --until-eof: read up to hi */
} sink_part;

typedef struct sink_topic {
  const char *name; /* borrowed from argv */
  int32_t n_parts;
  sink_part *parts; /* owned, indexed by partition id */
} sink_topic;

typedef struct sink_app {
  const char *bootstrap_file, *bootstrap, *conninfo, *group, *config_path;
  ks_config cfg; /* -c: its kafka properties and plugins' topics (owned) */
  int has_cfg;
  char bs_buf[4096];
  const char **props; /* owned array, strings borrowed from argv */
  size_t n_props;
  sink_topic *topics; /* owned */
  size_t n_topics;
  int init, until_eof, skip_bad;
  long batch_max;
  int64_t batch_ms, retry_ms;
  rd_kafka_t *rk; /* owned */
  PGconn *db;     /* owned */
  sigset_t stop_signals;
  int stop;
  /* the batch in hand: COPY text in an open_memstream */
  FILE *copy;
  char *copy_buf;
  size_t copy_len;
  long batch_rows;
  uint64_t batch_started_ms;
  uint8_t *pb; /* decode scratch (caller-owned buffer of result_format.h) */
  size_t pb_cap;
  uint64_t rows, batches, bad, reconnects;
  size_t n_pending; /* --until-eof: partitions not done */
} sink_app;

static uint64_t now_ms(void) {
  return uv_hrtime() / 1000000u;
}

static void print_help(FILE *f) {
  fprintf(
      f,
      "Usage: kpistream sink postgres (-b SERVERS | --bootstrap-file PATH | -c FILE) [OPTIONS]\n"
      "                               [-t TOPIC...]\n"
      "\n"
      "Keeps a PostgreSQL table of the results of result topics (any output format:\n"
      "protobuf, json, confluent_protobuf), exactly once: a row per result key holding\n"
      "its highest revision, and the consumed offsets stored in the same transaction as\n"
      "the rows; a restart resumes from the database's offsets.\n"
      "\n"
      "The database: libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD\n"
      "or PGPASSFILE, ...) or -d CONNINFO (a connection string or URI; keep passwords\n"
      "out of it: use PGPASSFILE).\n"
      "\n"
      "Options:\n"
      "  -b, --bootstrap-servers LIST  Kafka bootstrap servers (host:port,...)\n"
      "      --bootstrap-file PATH     read them from the first line of PATH\n"
      "  -c, --config FILE             a `kpistream run` configuration: its kafka and\n"
      "                                kafka.consumer properties, and by default every\n"
      "                                plugin's topic\n"
      "  -t, --topic NAME              result topic (repeatable, or as arguments)\n"
      "  -X KEY=VALUE                  librdkafka consumer property (repeatable)\n"
      "  -d, --dbname CONNINFO         libpq connection string (default: the environment)\n"
      "  -g, --group NAME              sink group: whose offsets (default kpistream-sink)\n"
      "      --init                    create the schema kpistream (tables, indexes, roll-up\n"
      "                                views) if missing, then exit\n"
      "      --until-eof               stop once every partition is read to its end as it\n"
      "                                was at start\n"
      "      --batch N                 rows per transaction at most (default %d)\n"
      "      --batch-time DUR          commit a batch at least this often (default %d ms)\n"
      "      --retry-for DUR           keep reconnecting to the database this long before\n"
      "                                giving up (default %d s)\n"
      "      --skip-undecodable        log and skip records that are not results (default:\n"
      "                                stop, exit 1, nothing committed past them)\n"
      "  -h, --help                    this help\n"
      "\n"
      "Exit status: 0 on a clean stop (SIGINT, SIGTERM, --until-eof), 1 on an error,\n"
      "2 on a usage error.\n"
      "\n"
      "Example:\n"
      "  PGHOST=/run/postgresql PGDATABASE=kpi kpistream sink postgres --init\n"
      "  PGHOST=/run/postgresql PGDATABASE=kpi kpistream sink postgres -b kafka:9092 \\\n"
      "      -t kpi.operations -t kpi.experience\n",
      SINK_DEFAULT_BATCH, SINK_DEFAULT_BATCH_MS, SINK_DEFAULT_RETRY_MS / 1000);
}

static int add_topic(sink_app *app, const char *name) {
  if (*name == '\0') {
    fprintf(stderr, "kpistream sink: empty topic name\n");
    return -1;
  }
  sink_topic *grown = realloc(app->topics, (app->n_topics + 1) * sizeof *grown);
  if (!grown)
    return -1;
  app->topics = grown;
  grown[app->n_topics++] = (sink_topic){.name = name};
  return 0;
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(sink_app *app, int argc, char **argv) {
  app->group = "kpistream-sink";
  app->batch_max = SINK_DEFAULT_BATCH;
  app->batch_ms = SINK_DEFAULT_BATCH_MS;
  app->retry_ms = SINK_DEFAULT_RETRY_MS;
  if (argc < 2 || strcmp(argv[1], "postgres") != 0) {
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
      print_help(stdout);
      return 0;
    }
    fprintf(stderr, "kpistream sink: the only sink is 'postgres' (kpistream sink postgres "
                    "--help)\n");
    return KS_EXIT_USAGE;
  }
  enum { O_BFILE = 256, O_INIT, O_UNTIL_EOF, O_SKIP_BAD, O_BATCH, O_BATCH_TIME, O_RETRY_FOR };
  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                           {"bootstrap-servers", required_argument, NULL, 'b'},
                                           {"bootstrap-file", required_argument, NULL, O_BFILE},
                                           {"topic", required_argument, NULL, 't'},
                                           {"X", required_argument, NULL, 'X'},
                                           {"config", required_argument, NULL, 'c'},
                                           {"dbname", required_argument, NULL, 'd'},
                                           {"group", required_argument, NULL, 'g'},
                                           {"init", no_argument, NULL, O_INIT},
                                           {"until-eof", no_argument, NULL, O_UNTIL_EOF},
                                           {"skip-undecodable", no_argument, NULL, O_SKIP_BAD},
                                           {"batch", required_argument, NULL, O_BATCH},
                                           {"batch-time", required_argument, NULL, O_BATCH_TIME},
                                           {"retry-for", required_argument, NULL, O_RETRY_FOR},
                                           {NULL, 0, NULL, 0}};
  ks_cli cli; /* after "postgres" */
  ks_cli_init(&cli, "sink", argc - 1, argv + 1, "hb:t:X:c:d:g:", longopts);
  const char *v;
  int c;
  while ((c = ks_cli_next(&cli, &v)) != KS_CLI_END) {
    switch (c) {
    case 'h':
      print_help(stdout);
      return 0;
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
      int rc = ks_cli_property("sink", v, &app->props, &app->n_props);
      if (rc)
        return rc;
      break;
    }
    case 'c':
      app->config_path = v;
      break;
    case 'd':
      app->conninfo = v;
      break;
    case 'g':
      if (!*v) {
        fprintf(stderr, "kpistream sink: --group needs a name\n");
        return KS_EXIT_USAGE;
      }
      app->group = v;
      break;
    case O_INIT:
      app->init = 1;
      break;
    case O_UNTIL_EOF:
      app->until_eof = 1;
      break;
    case O_SKIP_BAD:
      app->skip_bad = 1;
      break;
    case O_BATCH: {
      char *end = NULL;
      app->batch_max = strtol(v, &end, 10);
      if (end == v || *end || app->batch_max < 1 || app->batch_max > 10000000) {
        fprintf(stderr, "kpistream sink: --batch: '%s' is not a count 1..10000000\n", v);
        return KS_EXIT_USAGE;
      }
      break;
    }
    case O_BATCH_TIME:
      if (ks_parse_duration_ms(v, &app->batch_ms) != 0 || app->batch_ms <= 0) {
        fprintf(stderr, "kpistream sink: --batch-time: '%s' is not a positive duration\n", v);
        return KS_EXIT_USAGE;
      }
      break;
    case O_RETRY_FOR:
      if (ks_parse_duration_ms(v, &app->retry_ms) != 0 || app->retry_ms <= 0) {
        fprintf(stderr, "kpistream sink: --retry-for: '%s' is not a positive duration\n", v);
        return KS_EXIT_USAGE;
      }
      break;
    default:
      return KS_EXIT_USAGE;
    }
  }
  if (app->init)
    return -1; /* the schema only: no Kafka */
  if (app->config_path) {
    char err[1024];
    if (ks_config_load_file(&app->cfg, app->config_path, err, sizeof err) != 0) {
      fprintf(stderr, "kpistream sink: %s\n", err);
      return KS_EXIT_USAGE;
    }
    app->has_cfg = 1;
  }
  const char *cfg_bs = app->has_cfg ? ks_config_kafka_get(&app->cfg, "bootstrap.servers") : NULL;
  if ((app->bootstrap && app->bootstrap_file) || (app->bootstrap && !*app->bootstrap) ||
      (!app->bootstrap && !app->bootstrap_file && !cfg_bs)) {
    fprintf(stderr, "kpistream sink: give one of --bootstrap-servers (-b) and --bootstrap-file, "
                    "or -c with kafka.bootstrap.servers (see --help)\n");
    return KS_EXIT_USAGE;
  }
  if (!app->bootstrap && !app->bootstrap_file)
    app->bootstrap = cfg_bs;
  for (size_t i = 0, given = app->n_topics; app->has_cfg && !given && i < app->cfg.n_plugins; i++) {
    ks_config_plugin *p = &app->cfg.plugins[i];
    if (p->topic == NULL) { /* the default, kpi.<name>; freed with cfg */
      size_t n = strlen(p->name) + sizeof "kpi.";
      if ((p->topic = malloc(n)) == NULL)
        return 1;
      snprintf(p->topic, n, "kpi.%s", p->name);
    }
    if (add_topic(app, p->topic))
      return 1;
  }
  if (app->n_topics == 0) {
    fprintf(stderr, "kpistream sink: no result topic (-t TOPIC, or -c FILE)\n");
    return KS_EXIT_USAGE;
  }
  if (app->bootstrap_file) {
    if (ks_cli_read_bootstrap(app->bootstrap_file, app->bs_buf, sizeof app->bs_buf) != 0) {
      fprintf(stderr, "kpistream sink: --bootstrap-file %s: no bootstrap address in it\n",
              app->bootstrap_file);
      return 1;
    }
    app->bootstrap = app->bs_buf;
  }
  return -1;
}

/* ---- the database ------------------------------------------------------------ */

/* The schema, version 1. Idempotent (--init on an existing schema of this
 * version changes nothing). */
static const char schema_sql[] =
    "CREATE SCHEMA IF NOT EXISTS kpistream;\n"
    "CREATE TABLE IF NOT EXISTS kpistream.schema_version (version integer NOT NULL);\n"
    "INSERT INTO kpistream.schema_version SELECT 1\n"
    "  WHERE NOT EXISTS (SELECT 1 FROM kpistream.schema_version);\n"
    "CREATE TABLE IF NOT EXISTS kpistream.results (\n"
    "  key text PRIMARY KEY,\n"
    "  family text NOT NULL,\n"
    "  metric text NOT NULL,\n"
    "  level text NOT NULL,\n"
    "  tenant text NOT NULL,\n"
    "  channel text NOT NULL,\n"
    "  queue text NOT NULL,\n"
    "  agent_id text NOT NULL,\n"
    "  team text NOT NULL,\n"
    "  labels jsonb NOT NULL,\n"
    "  interval_start timestamptz NOT NULL,\n"
    "  interval_end timestamptz NOT NULL,\n"
    "  value double precision,\n"
    "  numerator double precision NOT NULL,\n"
    "  denominator double precision NOT NULL,\n"
    "  count bigint NOT NULL,\n"
    "  aggregation text NOT NULL,\n"
    "  unit text NOT NULL,\n"
    "  revision bigint NOT NULL,\n"
    "  plugin_version text NOT NULL,\n"
    "  topic text NOT NULL,\n"
    "  kafka_partition integer NOT NULL,\n"
    "  kafka_offset bigint NOT NULL,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now());\n"
    "CREATE INDEX IF NOT EXISTS results_time ON kpistream.results (interval_start);\n"
    "CREATE INDEX IF NOT EXISTS results_metric ON kpistream.results\n"
    "  (tenant, family, metric, level, interval_start);\n"
    "CREATE INDEX IF NOT EXISTS results_queue ON kpistream.results (tenant, queue, "
    "interval_start);\n"
    "CREATE INDEX IF NOT EXISTS results_agent ON kpistream.results (tenant, agent_id, "
    "interval_start)\n"
    "  WHERE agent_id <> '';\n"
    "CREATE TABLE IF NOT EXISTS kpistream.sink_offsets (\n"
    "  sink_group text NOT NULL,\n"
    "  topic text NOT NULL,\n"
    "  kafka_partition integer NOT NULL,\n"
    "  next_offset bigint NOT NULL,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now(),\n"
    "  PRIMARY KEY (sink_group, topic, kafka_partition));\n";

/* One roll-up view per period: the rows of one level, metric and dimensions
 * summed over the period by their aggregation kind (docs/metrics.md). */
static const char rollup_sql[] =
    "CREATE OR REPLACE VIEW kpistream.results_%s AS\n"
    "SELECT family, metric, level, tenant, channel, queue, agent_id, team, labels,\n"
    "  date_trunc('%s', interval_start, 'UTC') AS period_start, aggregation, unit,\n"
    "  CASE aggregation\n"
    "    WHEN 'AGG_RATIO' THEN CASE WHEN sum(denominator) > 0 THEN sum(numerator) / "
    "sum(denominator) END\n"
    "    WHEN 'AGG_SUM' THEN sum(numerator)\n"
    "    WHEN 'AGG_MAX' THEN max(value)\n"
    "    WHEN 'AGG_MIN' THEN min(value)\n"
    "    WHEN 'AGG_GAUGE' THEN (array_agg(value ORDER BY interval_start DESC))[1]\n"
    "  END AS value,\n"
    "  sum(numerator) AS numerator, sum(denominator) AS denominator, sum(count) AS count,\n"
    "  count(*) AS intervals, max(revision) AS max_revision\n"
    "FROM kpistream.results\n"
    "GROUP BY family, metric, level, tenant, channel, queue, agent_id, team, labels,\n"
    "  date_trunc('%s', interval_start, 'UTC'), aggregation, unit;\n";

#define COLUMNS                                                                                    \
  "key, family, metric, level, tenant, channel, queue, agent_id, team, labels, interval_start, "   \
  "interval_end, value, numerator, denominator, count, aggregation, unit, revision, "              \
  "plugin_version, topic, kafka_partition, kafka_offset"

static const char upsert_sql[] =
    "INSERT INTO kpistream.results (" COLUMNS ")\n"
    "SELECT DISTINCT ON (key) " COLUMNS " FROM pg_temp.sink_staging\n"
    "ORDER BY key, revision DESC, kafka_offset DESC\n"
    "ON CONFLICT (key) DO UPDATE SET family = EXCLUDED.family, metric = EXCLUDED.metric,\n"
    "  level = EXCLUDED.level, tenant = EXCLUDED.tenant, channel = EXCLUDED.channel,\n"
    "  queue = EXCLUDED.queue, agent_id = EXCLUDED.agent_id, team = EXCLUDED.team,\n"
    "  labels = EXCLUDED.labels, interval_start = EXCLUDED.interval_start,\n"
    "  interval_end = EXCLUDED.interval_end, value = EXCLUDED.value,\n"
    "  numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator,\n"
    "  count = EXCLUDED.count, aggregation = EXCLUDED.aggregation, unit = EXCLUDED.unit,\n"
    "  revision = EXCLUDED.revision, plugin_version = EXCLUDED.plugin_version,\n"
    "  topic = EXCLUDED.topic, kafka_partition = EXCLUDED.kafka_partition,\n"
    "  kafka_offset = EXCLUDED.kafka_offset, updated_at = now()\n"
    "WHERE kpistream.results.revision < EXCLUDED.revision";

static const char offsets_sql[] =
    "INSERT INTO kpistream.sink_offsets (sink_group, topic, kafka_partition, next_offset)\n"
    "VALUES ($1, $2, $3, $4)\n"
    "ON CONFLICT (sink_group, topic, kafka_partition)\n"
    "DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()";

static const char *db_name(PGconn *db) {
  const char *d = db ? PQdb(db) : NULL;
  return d && *d ? d : "(default)";
}

/* The error of the last command, one line. */
static const char *db_error(PGconn *db) {
  static const char none[] = "unknown error";
  const char *e = db ? PQerrorMessage(db) : NULL;
  return e && *e ? e : none;
}

/* Run sql; 0, or -1 with the error printed (what: what it was doing). */
static int db_exec(sink_app *app, const char *sql, const char *what) {
  PGresult *r = PQexec(app->db, sql);
  ExecStatusType st = PQresultStatus(r);
  int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok)
    fprintf(stderr, "kpistream sink: database %s: %s: %s", db_name(app->db), what,
            PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : db_error(app->db));
  PQclear(r);
  return ok ? 0 : -1;
}

static int db_connect(sink_app *app) {
  if (app->db)
    PQfinish(app->db);
  /* application_name: visible in pg_stat_activity */
  const char *keys[] = {"dbname", "application_name", "fallback_application_name", NULL};
  const char *vals[] = {app->conninfo ? app->conninfo : "", "kpistream-sink", "kpistream-sink",
                        NULL};
  app->db = PQconnectdbParams(keys, vals, 1);
  if (PQstatus(app->db) != CONNECTION_OK) {
    fprintf(stderr, "kpistream sink: cannot connect to PostgreSQL (database %s, host %s): %s",
            db_name(app->db), PQhost(app->db) ? PQhost(app->db) : "?", db_error(app->db));
    return -1;
  }
  return 0;
}

static int db_init(sink_app *app) {
  if (db_exec(app, "BEGIN", "BEGIN") || db_exec(app, schema_sql, "creating the schema"))
    return -1;
  static const char *const periods[] = {"hour", "day", "week", "month"};
  for (size_t i = 0; i < 4; i++) {
    char sql[sizeof rollup_sql + 64];
    snprintf(sql, sizeof sql, rollup_sql, periods[i], periods[i], periods[i]);
    if (db_exec(app, sql, "creating the roll-up views"))
      return -1;
  }
  return db_exec(app, "COMMIT", "COMMIT");
}

/* The schema is there and of our version; the staging table; the group's
 * lock. */
static int db_prepare(sink_app *app) {
  PGresult *r = PQexec(app->db, "SELECT version FROM kpistream.schema_version");
  int rc = 0;
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr,
            "kpistream sink: database %s has no kpistream schema; create it with "
            "`kpistream sink postgres --init` (the server said: %s)\n",
            db_name(app->db), PQresultErrorMessage(r));
    rc = -1;
  } else if (PQntuples(r) != 1 || atoi(PQgetvalue(r, 0, 0)) != SINK_SCHEMA_VERSION) {
    fprintf(stderr,
            "kpistream sink: database %s: kpistream schema version %s, this sink writes "
            "version %d\n",
            db_name(app->db), PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "(none)",
            SINK_SCHEMA_VERSION);
    rc = -1;
  }
  PQclear(r);
  if (rc)
    return rc;
  /* a sink killed a moment ago may still hold it: its backend ends once it
   * notices the closed connection */
  uint64_t deadline = now_ms() + (uint64_t)app->retry_ms;
  int64_t wait = 100;
  for (int said = 0;; said = 1) {
    const char *params[1] = {app->group};
    r = PQexecParams(app->db, "SELECT pg_try_advisory_lock(hashtextextended($1, 15))", 1, NULL,
                     params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    int got = ok && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    if (!ok)
      fprintf(stderr, "kpistream sink: database %s: taking the lock of group '%s': %s",
              db_name(app->db), app->group, PQresultErrorMessage(r));
    PQclear(r);
    if (!ok)
      return -1;
    if (got)
      break;
    if (now_ms() >= deadline) {
      fprintf(stderr,
              "kpistream sink: database %s: another sink of group '%s' is running (its advisory "
              "lock is held; waited %.1f s, --retry-for)\n",
              db_name(app->db), app->group, (double)app->retry_ms / 1000.0);
      return -1;
    }
    if (!said)
      fprintf(stderr,
              "kpistream sink: waiting for the lock of group '%s' (another sink, or one "
              "that just died, holds it)\n",
              app->group);
    usleep((useconds_t)wait * 1000);
    wait = wait * 2 > 2000 ? 2000 : wait * 2;
  }
  return db_exec(app,
                 "CREATE TEMP TABLE sink_staging (LIKE kpistream.results INCLUDING DEFAULTS) "
                 "ON COMMIT DELETE ROWS",
                 "creating the staging table");
}

static sink_part *find_part(sink_app *app, const char *topic, int32_t partition) {
  for (size_t t = 0; topic && t < app->n_topics; t++)
    if (strcmp(app->topics[t].name, topic) == 0)
      return partition >= 0 && partition < app->topics[t].n_parts ? &app->topics[t].parts[partition]
                                                                  : NULL;
  return NULL;
}

/* The group's stored offsets into parts[].committed (the others stay at
 * RD_KAFKA_OFFSET_BEGINNING). */
static int db_read_offsets(sink_app *app) {
  for (size_t t = 0; t < app->n_topics; t++)
    for (int32_t p = 0; p < app->topics[t].n_parts; p++)
      app->topics[t].parts[p].committed = RD_KAFKA_OFFSET_BEGINNING;
  const char *params[1] = {app->group};
  PGresult *r = PQexecParams(app->db,
                             "SELECT topic, kafka_partition, next_offset FROM "
                             "kpistream.sink_offsets WHERE sink_group = $1",
                             1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "kpistream sink: database %s: reading the offsets of group '%s': %s",
            db_name(app->db), app->group, PQresultErrorMessage(r));
    PQclear(r);
    return -1;
  }
  for (int i = 0; i < PQntuples(r); i++) {
    sink_part *sp = find_part(app, PQgetvalue(r, i, 0), atoi(PQgetvalue(r, i, 1)));
    if (sp)
      sp->committed = strtoll(PQgetvalue(r, i, 2), NULL, 10);
  }
  PQclear(r);
  return 0;
}

/* ---- Kafka -------------------------------------------------------------------- */

static int create_consumer(sink_app *app) {
  char errstr[512], group[128];
  /* never joined, never committed to Kafka: the database holds the offsets */
  snprintf(group, sizeof group, "kpistream-sink-%s", app->group);
  const ks_kv defaults[] = {
      {"client.id", "kpistream-sink"},       {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"}, {"enable.partition.eof", "false"},
      {"fetch.wait.max.ms", "50"},           {"log.connection.close", "false"},
  };
  char why[512];
  /* defaults, the configuration file's, the command line's servers and the
   * sink's own group id (a file's group.id is the service's), then -X */
  const ks_kv own[] = {{"bootstrap.servers", app->bootstrap}, {"group.id", group}};
  const ks_kv *lists[] = {defaults, app->cfg.kafka, app->cfg.consumer, own};
  const size_t counts[] = {sizeof defaults / sizeof defaults[0], app->cfg.n_kafka,
                           app->cfg.n_consumer, 2};
  rd_kafka_conf_t *conf =
      ks_kafka_conf_build_cli(lists, counts, 4, app->props, app->n_props, why, sizeof why);
  if (conf == NULL) {
    fprintf(stderr, "kpistream sink: %s\n", why);
    return KS_EXIT_USAGE;
  }
  app->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!app->rk) {
    fprintf(stderr, "kpistream sink: cannot create the consumer: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  rd_kafka_poll_set_consumer(app->rk);
  return 0;
}

/* Partitions (and, for --until-eof, end offsets) of every topic. */
static int discover(sink_app *app) {
  for (size_t t = 0; t < app->n_topics; t++) {
    sink_topic *st = &app->topics[t];
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(app->rk, st->name, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err =
        rkt ? rd_kafka_metadata(app->rk, 0, rkt, &md, 10000) : rd_kafka_last_error();
    if (!err && (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt <= 0))
      err = md->topic_cnt == 1 && md->topics[0].err ? md->topics[0].err
                                                    : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (!err) {
      st->n_parts = md->topics[0].partition_cnt;
      st->parts = calloc((size_t)st->n_parts, sizeof *st->parts);
    }
    if (md)
      rd_kafka_metadata_destroy(md);
    if (rkt)
      rd_kafka_topic_destroy(rkt);
    if (err || !st->parts) {
      fprintf(stderr, "kpistream sink: topic %s: %s\n", st->name,
              err ? rd_kafka_err2str(err) : "out of memory");
      return -1;
    }
    for (int32_t p = 0; app->until_eof && p < st->n_parts; p++) {
      int64_t lo;
      err = rd_kafka_query_watermark_offsets(app->rk, st->name, p, &lo, &st->parts[p].hi, 10000);
      if (err) {
        fprintf(stderr, "kpistream sink: %s [%d]: watermarks: %s\n", st->name, (int)p,
                rd_kafka_err2str(err));
        return -1;
      }
    }
  }
  return 0;
}

/* Assign every partition at its stored offset (a restart, or a failed
 * batch). */
static int seek_to_stored(sink_app *app) {
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
  app->n_pending = 0;
  for (size_t t = 0; t < app->n_topics; t++)
    for (int32_t p = 0; p < app->topics[t].n_parts; p++) {
      sink_part *sp = &app->topics[t].parts[p];
      sp->next = sp->committed;
      sp->done = app->until_eof && (sp->hi == 0 || (sp->committed >= 0 && sp->committed >= sp->hi));
      if (!sp->done)
        app->n_pending++;
      rd_kafka_topic_partition_list_add(list, app->topics[t].name, p)->offset = sp->committed;
    }
  rd_kafka_resp_err_t err = rd_kafka_assign(app->rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) {
    fprintf(stderr, "kpistream sink: assign: %s\n", rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

/* ---- the batch ------------------------------------------------------------------ */

/* s as a COPY text field: \\, tab, newline and carriage return escaped. */
static void copy_str(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '\\':
      fputs("\\\\", f);
      break;
    case '\t':
      fputs("\\t", f);
      break;
    case '\n':
      fputs("\\n", f);
      break;
    case '\r':
      fputs("\\r", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

static void copy_enum(FILE *f, const ProtobufCEnumDescriptor *d, int v) {
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
  if (ev)
    fputs(ev->name, f);
  else
    fprintf(f, "%d", v);
}

static void copy_time(FILE *f, int64_t ms) {
  char buf[64];
  if (ks_format_rfc3339(ms, buf, sizeof buf))
    fputs(buf, f);
  else
    fputs("\\N", f); /* refused by NOT NULL: the batch fails loudly */
}

/* One result as a COPY line (its strings checked for UTF-8 before). -1 on
 * out of memory. */
static int batch_add(sink_app *app, const metric_result *m, const rd_kafka_message_t *msg) {
  json_t *labels = json_object();
  for (size_t i = 0; labels && i < m->n_labels; i++)
    if (json_object_set_new(labels, m->labels[i]->key, json_string(m->labels[i]->value)) != 0) {
      json_decref(labels);
      labels = NULL;
    }
  char *lj = labels ? json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(labels);
  if (lj == NULL)
    return -1;
  FILE *f = app->copy;
  copy_str(f, m->key);
  const char *strs[] = {m->family, m->metric};
  for (size_t i = 0; i < 2; i++) {
    fputc('\t', f);
    copy_str(f, strs[i]);
  }
  fputc('\t', f);
  copy_enum(f, &kpistream__v1__level__descriptor, m->level);
  fputc('\t', f);
  copy_str(f, m->tenant);
  fputc('\t', f);
  copy_enum(f, &kpistream__v1__channel__descriptor, m->channel);
  const char *dims[] = {m->queue, m->agent_id, m->team, lj};
  for (size_t i = 0; i < 4; i++) {
    fputc('\t', f);
    copy_str(f, dims[i]);
  }
  free(lj);
  fputc('\t', f);
  copy_time(f, m->interval_start_ms);
  fputc('\t', f);
  copy_time(f, m->interval_end_ms);
  if (m->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE)
    fprintf(f, "\t%.17g", m->value);
  else
    fputs("\t\\N", f);
  fprintf(f, "\t%.17g\t%.17g\t%" PRId64 "\t", m->numerator, m->denominator, m->count);
  copy_enum(f, &kpistream__v1__aggregation__descriptor, m->aggregation);
  fputc('\t', f);
  copy_str(f, m->unit);
  fprintf(f, "\t%" PRIu32 "\t", m->revision);
  copy_str(f, m->plugin_version);
  fputc('\t', f);
  copy_str(f, rd_kafka_topic_name(msg->rkt));
  fprintf(f, "\t%d\t%" PRId64 "\n", (int)msg->partition, msg->offset);
  app->batch_rows++;
  return 0;
}

static void batch_reset(sink_app *app) {
  if (app->copy)
    fclose(app->copy);
  free(app->copy_buf);
  app->copy_buf = NULL;
  app->copy_len = 0;
  app->copy = open_memstream(&app->copy_buf, &app->copy_len);
  app->batch_rows = 0;
  app->batch_started_ms = 0;
  for (size_t t = 0; t < app->n_topics; t++)
    for (int32_t p = 0; p < app->topics[t].n_parts; p++)
      app->topics[t].parts[p].next = app->topics[t].parts[p].committed;
}

static int batch_dirty(const sink_app *app) {
  for (size_t t = 0; t < app->n_topics; t++)
    for (int32_t p = 0; p < app->topics[t].n_parts; p++)
      if (app->topics[t].parts[p].next != app->topics[t].parts[p].committed)
        return 1;
  return 0;
}

/* One transaction: COPY, upsert, offsets, COMMIT. 0, or -1 (rolled back:
 * the server aborts a transaction whose connection is lost). */
static int batch_commit(sink_app *app) {
  if (!batch_dirty(app))
    return 0;
  if (fflush(app->copy) != 0)
    return -1;
  if (db_exec(app, "BEGIN", "BEGIN"))
    return -1;
  int ok = 1;
  if (app->batch_rows) {
    PGresult *r = PQexec(app->db, "COPY pg_temp.sink_staging (" COLUMNS ") FROM STDIN");
    ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (ok)
      ok = PQputCopyData(app->db, app->copy_buf, (int)app->copy_len) == 1 &&
           PQputCopyEnd(app->db, NULL) == 1;
    if (ok) {
      r = PQgetResult(app->db);
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      if (!ok)
        fprintf(stderr, "kpistream sink: database %s: COPY of %ld rows: %s", db_name(app->db),
                app->batch_rows, PQresultErrorMessage(r));
      PQclear(r);
      while ((r = PQgetResult(app->db)) != NULL)
        PQclear(r);
    } else {
      fprintf(stderr, "kpistream sink: database %s: COPY: %s", db_name(app->db), db_error(app->db));
    }
    ok = ok && db_exec(app, upsert_sql, "upserting the batch") == 0;
  }
  for (size_t t = 0; ok && t < app->n_topics; t++)
    for (int32_t p = 0; ok && p < app->topics[t].n_parts; p++) {
      sink_part *sp = &app->topics[t].parts[p];
      if (sp->next == sp->committed)
        continue;
      char part[16], off[32];
      snprintf(part, sizeof part, "%d", (int)p);
      snprintf(off, sizeof off, "%" PRId64, sp->next);
      const char *params[4] = {app->group, app->topics[t].name, part, off};
      PGresult *r = PQexecParams(app->db, offsets_sql, 4, NULL, params, NULL, NULL, 0);
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      if (!ok)
        fprintf(stderr, "kpistream sink: database %s: storing the offset of %s [%d]: %s",
                db_name(app->db), app->topics[t].name, (int)p, PQresultErrorMessage(r));
      PQclear(r);
    }
  if (!ok || db_exec(app, "COMMIT", "COMMIT")) {
    if (PQstatus(app->db) == CONNECTION_OK)
      db_exec(app, "ROLLBACK", "ROLLBACK");
    return -1;
  }
  for (size_t t = 0; t < app->n_topics; t++)
    for (int32_t p = 0; p < app->topics[t].n_parts; p++)
      app->topics[t].parts[p].committed = app->topics[t].parts[p].next;
  app->rows += (uint64_t)app->batch_rows;
  app->batches++;
  batch_reset(app);
  return 0;
}

/* After a failed batch: reconnect with backoff (up to --retry-for), read
 * the offsets back and seek there; the batch is dropped and read again. */
static int recover(sink_app *app) {
  uint64_t deadline = now_ms() + (uint64_t)app->retry_ms;
  int64_t wait = 100;
  for (;;) {
    if (db_connect(app) == 0 && db_prepare(app) == 0 && db_read_offsets(app) == 0)
      break;
    if (now_ms() >= deadline) {
      fprintf(stderr,
              "kpistream sink: database %s: giving up after %.1f s of retries; nothing "
              "of the failed batch was applied\n",
              db_name(app->db), (double)app->retry_ms / 1000.0);
      return -1;
    }
    fprintf(stderr, "kpistream sink: retrying in %" PRId64 " ms\n", wait);
    usleep((useconds_t)wait * 1000);
    wait = wait * 2 > 5000 ? 5000 : wait * 2;
  }
  app->reconnects++;
  batch_reset(app);
  fprintf(stderr, "kpistream sink: reconnected to database %s; resuming from its offsets\n",
          db_name(app->db));
  return seek_to_stored(app);
}

/* Commit the batch; when that fails, recover (reconnect, re-seek: the
 * batch is read again). A batch that fails SINK_MAX_FAILURES times in a row
 * although the database is reachable (a row the server refuses, say) stops
 * the sink with the server's error rather than retrying for ever. */
static int commit_or_recover(sink_app *app, int *failures) {
  if (batch_commit(app) == 0) {
    *failures = 0;
    return 0;
  }
  if (++*failures >= SINK_MAX_FAILURES) {
    fprintf(stderr,
            "kpistream sink: a batch failed %d times in a row (the database's error is "
            "above); stopping, nothing of it applied\n",
            *failures);
    return -1;
  }
  return recover(app);
}

/* A record: decoded (any format) and batched, or refused. 0, or -1 to stop. */
static int handle(sink_app *app, const rd_kafka_message_t *msg) {
  const char *topic = rd_kafka_topic_name(msg->rkt);
  sink_part *sp = find_part(app, topic, msg->partition);
  if (!sp || msg->offset < sp->next)
    return 0; /* not ours, or read again after a seek */
  ks_format f;
  const void *ct = NULL;
  size_t ctlen = 0;
  rd_kafka_headers_t *h = NULL;
  if (rd_kafka_message_headers(msg, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_header_get_last(h, KS_CONTENT_TYPE_HEADER, &ct, &ctlen) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      ks_format_from_content_type(ct, ctlen, &f) != 0)
    f = ks_format_sniff(msg->payload, msg->len);
  char why[512] = "";
  long n = msg->len ? ks_format_decode(f, msg->payload, msg->len, &app->pb, &app->pb_cap, NULL, why,
                                       sizeof why)
                    : KS_EINVAL;
  metric_result *m = n >= 0 ? kpistream__v1__metric_result__unpack(NULL, (size_t)n, app->pb) : NULL;
  int rc = 0;
  const char *bad_field = m ? ks_format_non_utf8_field(m) : NULL;
  if (m == NULL || m->key[0] == '\0' || bad_field || batch_add(app, m, msg) != 0) {
    app->bad++;
    char what[128];
    if (bad_field)
      snprintf(what, sizeof what, "a string is not UTF-8 (%s)", bad_field);
    else
      snprintf(what, sizeof what, "%s",
               m == NULL ? "not a kpistream.v1.MetricResult" : "MetricResult without a key");
    if (!app->skip_bad || app->bad <= SINK_BAD_LOG_MAX)
      fprintf(stderr, "kpistream sink: %s [%d] offset %" PRId64 ": %s (%s, %zu bytes)%s\n", topic,
              (int)msg->partition, msg->offset, what, why[0] ? why : ks_format_name(f), msg->len,
              app->skip_bad ? "; skipped (--skip-undecodable)"
                            : "; stopping after committing what came before it "
                              "(--skip-undecodable to skip such records)");
    rc = app->skip_bad ? 0 : -1;
  }
  if (m)
    kpistream__v1__metric_result__free_unpacked(m, NULL);
  if (rc == 0) {
    sp->next = msg->offset + 1;
    if (app->batch_started_ms == 0)
      app->batch_started_ms = now_ms();
    if (app->until_eof && !sp->done && sp->next >= sp->hi) {
      sp->done = 1;
      app->n_pending--;
    }
  }
  return rc;
}

static int stop_requested(sink_app *app) {
  struct timespec zero = {0, 0};
  if (sigtimedwait(&app->stop_signals, NULL, &zero) > 0)
    app->stop = 1;
  return app->stop;
}

static int run(sink_app *app) {
  if (db_connect(app) || db_prepare(app) || create_consumer(app) || discover(app) ||
      db_read_offsets(app) || seek_to_stored(app))
    return 1;
  batch_reset(app);
  uint64_t t0 = now_ms();
  int status = 0, bad_record = 0, failures = 0;
  while (!stop_requested(app) && !(app->until_eof && app->n_pending == 0)) {
    rd_kafka_message_t *msg = rd_kafka_consumer_poll(app->rk, SINK_POLL_MS);
    if (msg && msg->err) {
      if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        fprintf(stderr, "kpistream sink: %s%s%s\n", rd_kafka_message_errstr(msg),
                msg->rkt ? " on " : "", msg->rkt ? rd_kafka_topic_name(msg->rkt) : "");
    } else if (msg && handle(app, msg) != 0) {
      rd_kafka_message_destroy(msg);
      bad_record = 1; /* the batch holds what came before it: commit that */
      break;
    }
    if (msg)
      rd_kafka_message_destroy(msg);
    int due =
        app->batch_rows >= app->batch_max ||
        (app->batch_started_ms && now_ms() - app->batch_started_ms >= (uint64_t)app->batch_ms) ||
        (!msg && batch_dirty(app));
    if (due && commit_or_recover(app, &failures) != 0) {
      status = 1;
      break;
    }
  }
  /* the rows in hand: commit them (a stop, the end, a refused record) */
  while (status == 0 && batch_dirty(app))
    if (commit_or_recover(app, &failures) != 0)
      status = 1;
  if (bad_record)
    status = 1;
  double secs = (double)(now_ms() - t0) / 1000.0;
  fprintf(stderr,
          "kpistream sink: %s: %" PRIu64 " rows in %" PRIu64 " transactions, %.1f s (%.0f rows/s), "
          "%" PRIu64 " undecodable, %" PRIu64 " reconnects\n",
          status ? "stopped on an error" : "stopped", app->rows, app->batches, secs,
          secs > 0 ? (double)app->rows / secs : 0.0, app->bad, app->reconnects);
  return status;
}

int ks_cmd_sink(int argc, char **argv) {
  sink_app app;
  memset(&app, 0, sizeof app);
  int status = parse_args(&app, argc, argv);
  if (status < 0) {
    sigemptyset(&app.stop_signals);
    sigaddset(&app.stop_signals, SIGINT);
    sigaddset(&app.stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &app.stop_signals, NULL);
    if (app.init)
      status = db_connect(&app) || db_init(&app) ? 1 : 0;
    else
      status = run(&app);
    if (app.init && status == 0)
      fprintf(stderr, "kpistream sink: schema kpistream (version %d) ready in database %s\n",
              SINK_SCHEMA_VERSION, db_name(app.db));
  }
  if (app.rk) {
    rd_kafka_consumer_close(app.rk);
    rd_kafka_destroy(app.rk);
  }
  if (app.db)
    PQfinish(app.db);
  if (app.copy)
    fclose(app.copy);
  free(app.copy_buf);
  free(app.pb);
  for (size_t t = 0; t < app.n_topics; t++)
    free(app.topics[t].parts);
  free(app.topics);
  free(app.props);
  if (app.has_cfg)
    ks_config_free(&app.cfg);
  return status;
}
