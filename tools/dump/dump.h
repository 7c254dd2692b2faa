/*
 * dump — `kpistream dump`: every result of result topics, one line each (for tests and scripts).
 * A tool, not the service: it uses the engine and the runtime, never the
 * reverse.
 */
#ifndef KS_TOOL_DUMP_H
#define KS_TOOL_DUMP_H

/* argv[0] is the subcommand name; returns the process exit status. Prints
 * its own --help. */
int ks_cmd_dump(int argc, char **argv);

#endif
