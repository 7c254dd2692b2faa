/*
 * watch — `kpistream watch`: result topics as tables on the terminal.
 * A tool, not the service: it uses the engine and the runtime, never the
 * reverse.
 */
#ifndef KS_TOOL_WATCH_H
#define KS_TOOL_WATCH_H

/* argv[0] is the subcommand name; returns the process exit status. Prints
 * its own --help. */
int ks_cmd_watch(int argc, char **argv);

#endif
