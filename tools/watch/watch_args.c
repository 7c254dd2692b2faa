/*
 * watch_args — see watch_args.h.
 */
#include "watch_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duration.h"

#define KS_WATCH_DEFAULT_FILE_TIMEOUT_MS 30000

/* ---- argument parsing ------------------------------------------------------ */

static void print_help(FILE *f) {
  fprintf(f,
          "Usage: kpistream watch (-b SERVERS | --bootstrap-file PATH) [OPTIONS]\n"
          "\n"
          "Shows KPI results (kpistream.v1.MetricResult) from result topics, per interval\n"
          "and tenant, printed once the interval is complete: a result of a later\n"
          "interval arrived, or %d ms passed without a new result for it (and no\n"
          "partition is still behind it).\n"
          "\n"
          "One table per KPI family (the results' `family`), with its headline metrics:\n"
          "  operations  offered answered abandoned aband%% ASA max-wait SL AHT FCR xfer%%\n"
          "  experience  csat, csat mean, NPS, CES, net sentiment, complaint rate\n"
          "  workforce   occupancy utilization adherence conformance shrinkage absenteeism\n"
          "  quality     evaluations, QA score, auto-fail rate, compliance rate\n"
          "  value       conversions, conversion/registration rate, revenue, NBA offers\n"
          "              and acceptance\n"
          "  forecast    offered, forecast, WAPE, Erlangs, required, logged in, gap\n"
          "  scorecard   composite score and one column per KPI score\n"
          "  other       every metric present (at most 10)\n"
          "Rows: channel + queue; team (and evaluator, segment) rows where the family\n"
          "has them, the tenant's row last. Breakdowns by other labels (reasons,\n"
          "categories, actions) are left out; with --metrics every result of the named\n"
          "metrics is shown, its labels in a column.\n"
          "Day/week/month results (proficiency, attrition, cost per contact, budget,\n"
          "retention, CLV, forecast accuracy per day) are shown once, when they arrive,\n"
          "in a table of their own headed e.g. \"acme · 2026-11-23 UTC (day)\".\n"
          "Alerts (topic kpi.alerts) are printed one line each as they arrive, after\n"
          "the tables of their interval (alone when those were shown already):\n"
          "  ALERT fired   acme voice/support service_level 72.0%% < 80.0%%  10:15–10:30\n"
          "Cells: rates as %%, seconds as 12.3s, counts as integers, \"—\" for a null\n"
          "value (zero denominator), \"·\" for no result. With one topic and one family\n"
          "the table has no family title line.\n"
          "\n"
          "Options:\n"
          "  -b, --bootstrap-servers LIST  Kafka bootstrap servers (host:port,...)\n"
          "      --bootstrap-file PATH     read them from PATH (as written by\n"
          "                                `kpistream broker --bootstrap-file`), waiting\n"
          "                                for it to appear\n"
          "      --bootstrap-timeout DUR   how long to wait for that file (default 30s)\n"
          "  -t, --topic NAME              result topic (repeatable; default %s)\n"
          "  -X KEY=VALUE                  librdkafka consumer property (repeatable)\n"
          "      --from-beginning          start at the oldest retained result, not the end\n"
          "      --metrics A,B,...         columns, in order (repeatable; \"all\": every\n"
          "                                metric present); each family's table shows\n"
          "                                those it has (one topic, one family: all)\n"
          "      --agents                  also show per-agent rows\n"
          "      --no-rollups              leave day/week/month results out\n"
          "      --exit-after-intervals N  exit 0 after printing N intervals (rollup\n"
          "                                tables and late results do not count)\n"
          "      --exit-after DUR          stop after DUR (\"90\", \"30s\", \"5m\"); exits 1\n"
          "                                if --exit-after-intervals was not reached\n"
          "      --mode auto|screen|lines  screen: one frame redrawn in place, fitted to\n"
          "                                the terminal; lines: each interval as it\n"
          "                                closes; auto (default): screen on a terminal\n"
          "  -h, --help                    this help\n"
          "  -V, --version                 print the version\n"
          "\n"
          "No consumer group is joined and no offsets are committed: each viewer assigns\n"
          "itself all partitions of its topics.\n"
          "\n"
          "Examples:\n"
          "  kpistream watch --bootstrap-file /tmp/ks.bootstrap -t kpi.operations\n"
          "  kpistream watch --bootstrap-file /tmp/ks.bootstrap -t kpi.operations \\\n"
          "      -t kpi.experience -t kpi.workforce -t kpi.scorecard -t kpi.alerts\n",
          KS_WATCH_QUIET_MS, KS_WATCH_DEFAULT_TOPIC);
}

static int add_metrics(watch_opts *o, const char *list) {
  const char *p = list;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    while (len && (*p == ' ')) {
      p++;
      len--;
    }
    while (len && p[len - 1] == ' ')
      len--;
    if (len == 0) {
      fprintf(stderr, "kpistream watch: --metrics '%s': empty metric name\n", list);
      return -1;
    }
    if (len == 3 && strncmp(p, "all", 3) == 0) {
      o->all_metrics = 1;
    } else {
      char **grown = realloc(o->metrics, (o->n_metrics + 1) * sizeof *grown);
      if (!grown)
        return -1;
      o->metrics = grown;
      o->metrics[o->n_metrics] = strndup(p, len);
      if (!o->metrics[o->n_metrics])
        return -1;
      o->n_metrics++;
    }
    if (!comma)
      return 0;
    p = comma + 1;
  }
}

static int parse_duration_opt(const char *opt, const char *v, int64_t *out) {
  if (ks_parse_duration_ms(v, out) != 0 || *out <= 0) {
    fprintf(stderr,
            "kpistream watch: %s: '%s' is not a positive duration (seconds, or with a unit: "
            "500ms, 30s, 5m)\n",
            opt, v);
    return -1;
  }
  return 0;
}

/* Returns -1 to continue, else an exit status. */
int ks_watch_parse_args(watch_opts *o, int argc, char **argv) {
  enum {
    O_BFILE = 256,
    O_BTIMEOUT,
    O_FROM_BEGINNING,
    O_METRICS,
    O_AGENTS,
    O_NO_ROLLUPS,
    O_EXIT_N,
    O_EXIT_AFTER,
    O_MODE
  };
  static const struct option longopts[] = {
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {"bootstrap-servers", required_argument, NULL, 'b'},
      {"bootstrap-file", required_argument, NULL, O_BFILE},
      {"bootstrap-timeout", required_argument, NULL, O_BTIMEOUT},
      {"topic", required_argument, NULL, 't'},
      {"X", required_argument, NULL, 'X'},
      {"from-beginning", no_argument, NULL, O_FROM_BEGINNING},
      {"metrics", required_argument, NULL, O_METRICS},
      {"agents", no_argument, NULL, O_AGENTS},
      {"no-rollups", no_argument, NULL, O_NO_ROLLUPS},
      {"exit-after-intervals", required_argument, NULL, O_EXIT_N},
      {"exit-after", required_argument, NULL, O_EXIT_AFTER},
      {"mode", required_argument, NULL, O_MODE},
      {NULL, 0, NULL, 0}};
  o->file_timeout_ms = KS_WATCH_DEFAULT_FILE_TIMEOUT_MS;
  ks_cli cli;
  ks_cli_init(&cli, "watch", argc, argv, "hVb:t:X:", longopts);
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
      if (*v == '\0') {
        fprintf(stderr, "kpistream watch: --bootstrap-servers: empty list\n");
        return KS_EXIT_USAGE;
      }
      o->bootstrap = v;
      break;
    case O_BFILE:
      if (*v == '\0') {
        fprintf(stderr, "kpistream watch: --bootstrap-file: empty path\n");
        return KS_EXIT_USAGE;
      }
      o->bootstrap_file = v;
      break;
    case O_BTIMEOUT:
      if (parse_duration_opt("--bootstrap-timeout", v, &o->file_timeout_ms))
        return KS_EXIT_USAGE;
      break;
    case 't':
      if (*v == '\0') {
        fprintf(stderr, "kpistream watch: --topic: empty topic name\n");
        return KS_EXIT_USAGE;
      }
      if (ks_cli_push(&o->topics, &o->n_topics, v))
        return 1;
      break;
    case 'X': {
      int rc = ks_cli_property("watch", v, &o->props, &o->n_props);
      if (rc)
        return rc;
      break;
    }
    case O_FROM_BEGINNING:
      o->from_beginning = 1;
      break;
    case O_METRICS:
      if (add_metrics(o, v))
        return KS_EXIT_USAGE;
      break;
    case O_AGENTS:
      o->agents = 1;
      break;
    case O_NO_ROLLUPS:
      o->no_rollups = 1;
      break;
    case O_EXIT_N:
      if (ks_parse_int(v, &o->exit_after_intervals) != 0 || o->exit_after_intervals <= 0) {
        fprintf(stderr,
                "kpistream watch: --exit-after-intervals: '%s' is not a positive "
                "whole number\n",
                v);
        return KS_EXIT_USAGE;
      }
      break;
    case O_EXIT_AFTER:
      if (parse_duration_opt("--exit-after", v, &o->exit_after_ms))
        return KS_EXIT_USAGE;
      break;
    case O_MODE: {
      static const char *const modes[] = {"auto", "screen", "lines"};
      o->mode = -1;
      for (int k = 0; k < 3; k++)
        if (strcmp(v, modes[k]) == 0)
          o->mode = k;
      if (o->mode < 0) {
        fprintf(stderr, "kpistream watch: --mode: '%s' is not auto, screen or lines\n", v);
        return KS_EXIT_USAGE;
      }
      break;
    }
    case KS_CLI_ARG:
      fprintf(stderr, "kpistream watch: unknown argument '%s' (see --help)\n", v);
      return KS_EXIT_USAGE;
    default:
      return KS_EXIT_USAGE;
    }
  }
  if (!o->bootstrap == !o->bootstrap_file) {
    fprintf(stderr, "kpistream watch: give exactly one of --bootstrap-servers (-b) and "
                    "--bootstrap-file (see --help)\n");
    return KS_EXIT_USAGE;
  }
  if (o->n_topics == 0 && ks_cli_push(&o->topics, &o->n_topics, KS_WATCH_DEFAULT_TOPIC))
    return 1;
  return -1;
}

void ks_watch_free_opts(watch_opts *o) {
  for (size_t i = 0; i < o->n_metrics; i++)
    free(o->metrics[i]);
  free(o->metrics);
  free(o->topics);
  free(o->props);
}
