/*
 * run_args — the command line of `kpistream run`: its options, --help, and
 * what they override in the configuration file.
 *
 * Ownership: a ks_run_args borrows every string from argv (-X edits an
 * argument in place while it is applied, and puts it back).
 */
#ifndef KS_RUN_ARGS_H
#define KS_RUN_ARGS_H

#include <stddef.h>

#include "config.h"

#define KS_RUN_MAX_PROPS 64

typedef struct ks_run_args {
  const char *config_path;
  const char *bootstrap;      /* -b: kafka bootstrap.servers */
  const char *bootstrap_file; /* --bootstrap-file: read bootstrap.servers from it */
  const char *group;          /* -g: the consumer's group.id */
  const char *plugin_dir;
  const char *log_level;
  int until_eof;
  int check_only;
  char *props[KS_RUN_MAX_PROPS]; /* -X KEY=VALUE, in order */
  size_t n_props;
} ks_run_args;

/* Fills a from argv. Returns -1 to go on, else the exit status: 0 after
 * --help or --version, KS_EXIT_USAGE after a bad command line (reported on
 * stderr with the usage). */
int ks_run_args_parse(ks_run_args *a, int argc, char **argv);

/* Load the configuration file and apply the command line's overrides (log
 * level, bootstrap servers or file, -X properties, group, plugin directory;
 * ks_ops_default_plugin_dir() when none is set). 0, or an error with the
 * reason in err; cfg is the caller's to free either way. */
int ks_run_args_configure(const ks_run_args *a, ks_config *cfg, char *err, size_t errsz);

#endif
