/*
 * cli — the one command-line parser of the subcommands (`run`, `broker`,
 * `simulate`, `watch`, `dump`): getopt_long with kpistream's conventions, and
 * small helpers shared by their command lines.
 *
 * getopt_long keeps its state in process-wide variables (optind, optarg);
 * ks_cli_init() resets them (optind = 0: a full reinitialisation), so a
 * subcommand can be parsed again in the same process (the benchmark calls
 * ks_cmd_broker and ks_cmd_run in process). A ks_cli borrows its strings.
 */
#ifndef KS_CLI_H
#define KS_CLI_H

#include <getopt.h>
#include <stddef.h>

/* Exit status of a command-line or configuration error, for every
 * subcommand (0: success, 1: a runtime error). */
#define KS_EXIT_USAGE 2

/* What ks_cli_next() returns besides an option's `val` (or short letter). */
#define KS_CLI_END -1  /* no more arguments */
#define KS_CLI_ARG 1   /* a non-option argument, in *arg */
#define KS_CLI_BAD '?' /* an unknown option or a missing value, reported on stderr */

typedef struct ks_cli {
  const char *prog; /* "watch": messages start with "kpistream watch: " */
  int argc;
  char **argv;
  const struct option *longopts; /* getopt_long's, terminated by a zero entry */
  char optstring[64];            /* "-:" + the short options */
  int rest;                      /* after "--": the rest are arguments */
} ks_cli;

/* Start parsing argv[1..argc-1] (argv[0] is the subcommand's name). shortopts
 * are getopt's ("b:X:hV"), at most 60 characters; an option with `val` above
 * 255 has no short form. */
void ks_cli_init(ks_cli *c, const char *prog, int argc, char **argv, const char *shortopts,
                 const struct option *longopts);

/* The next option or argument, in command-line order: the option's `val`
 * with its value (if it takes one) in *arg; KS_CLI_ARG with a non-option
 * argument in *arg (every argument after "--" is one); KS_CLI_END at the end;
 * KS_CLI_BAD after reporting "kpistream PROG: unknown option '--x' (see
 * --help)" or "kpistream PROG: option --x needs a value (see --help)" on
 * stderr. Unique prefixes of long options are accepted (getopt_long). */
int ks_cli_next(ks_cli *c, const char **arg);

/* Print the version line of a subcommand's -V/--version on stdout; returns
 * its exit status (0). */
int ks_cli_version(void);

/* Append s to the growable array *arr of *n borrowed strings (realloc'd;
 * the caller frees the array, not the strings). Returns 0, or -1 when out of
 * memory. */
int ks_cli_push(const char ***arr, size_t *n, const char *s);

/* A tool's -X KEY=VALUE (a librdkafka property): checked and appended with
 * ks_cli_push. Returns 0; KS_EXIT_USAGE after reporting "kpistream PROG: -X
 * 'v': expected KEY=VALUE" or, for bootstrap.servers, "kpistream PROG: -X
 * bootstrap.servers: use -b or --bootstrap-file"; 1 when out of memory. */
int ks_cli_property(const char *prog, const char *v, const char ***props, size_t *n);

/* The first line of a bootstrap file written by `kpistream broker`, without
 * surrounding blanks, into buf. Returns 0, or -1 when the file cannot be
 * read or its first line is empty. */
int ks_cli_read_bootstrap(const char *path, char *buf, size_t size);

#endif
