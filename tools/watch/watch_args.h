/*
 * watch_args — `kpistream watch` command line: options, --help, parsing.
 * The loop and the Kafka side are in watch.c.
 */
#ifndef KS_CMD_WATCH_ARGS_H
#define KS_CMD_WATCH_ARGS_H

#include <stddef.h>
#include <stdint.h>

#define KS_WATCH_QUIET_MS      500 /* an interval's group is printed after this much quiet */
#define KS_WATCH_DEFAULT_TOPIC "kpi.operations"

typedef struct watch_opts {
  const char *bootstrap;      /* borrowed from argv */
  const char *bootstrap_file; /* borrowed from argv */
  int64_t file_timeout_ms;
  const char **topics; /* owned array, strings borrowed from argv */
  size_t n_topics;
  const char **props; /* owned array of "key=value", borrowed from argv */
  size_t n_props;
  char **metrics; /* owned, split from --metrics */
  size_t n_metrics;
  int all_metrics;
  int from_beginning;
  int agents;
  int no_rollups;               /* --no-rollups: day/week/month results not shown */
  int64_t exit_after_intervals; /* 0: none */
  int64_t exit_after_ms;        /* 0: none */
  int mode;                     /* --mode: KS_WATCH_MODE_* (auto: screen when stdout is a tty) */
} watch_opts;

enum { KS_WATCH_MODE_AUTO = 0, KS_WATCH_MODE_SCREEN, KS_WATCH_MODE_LINES };

/* Fills o (zeroed by the caller) from argv. Returns -1 to go on, else the
 * exit status (0 after --help or --version, KS_EXIT_USAGE (cli.h) for a bad
 * command line, 1 when out of memory); free_opts is needed either way. */
int ks_watch_parse_args(watch_opts *o, int argc, char **argv);

void ks_watch_free_opts(watch_opts *o);

#endif
