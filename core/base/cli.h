/*
 * cli — small helpers shared by the subcommands' command lines.
 */
#ifndef KS_CLI_H
#define KS_CLI_H

#include <stddef.h>

/* Match argv[*i] against "--lng", "--lng=VALUE", "-s", "-sVALUE" (shrt may
 * be 0). For options with a value, *val gets it, consuming the next argument
 * when needed. Returns 1 on a match, 0 when it is another option, -1 when the
 * value is missing (reported on stderr as "kpistream <prog>: ..."). */
int ks_cli_arg_match(const char *prog, int argc, char **argv, int *i, const char *lng, char shrt,
                     int has_value, const char **val);

/* The first line of a bootstrap file written by `kpistream broker`, without
 * surrounding blanks, into buf. Returns 0, or -1 when the file cannot be
 * read or its first line is empty. */
int ks_cli_read_bootstrap(const char *path, char *buf, size_t size);

#endif
