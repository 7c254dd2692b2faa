/*
 * Subcommands of the kpistream binary. Each takes the arguments after the
 * subcommand name (argv[0] is the subcommand) and returns the process exit
 * status. Each prints its own --help.
 */
#ifndef KS_COMMANDS_H
#define KS_COMMANDS_H

int ks_cmd_run(int argc, char **argv);      /* the stream processor (runner.c) */
int ks_cmd_broker(int argc, char **argv);   /* embedded mock Kafka cluster (cmd_broker.c) */
int ks_cmd_simulate(int argc, char **argv); /* contact-center traffic simulator (cmd_simulate.c) */
int ks_cmd_watch(int argc, char **argv);    /* terminal view of result topics (cmd_watch.c) */
int ks_cmd_dump(int argc, char **argv);     /* result topics as lines, for tests (cmd_dump.c) */

#endif
