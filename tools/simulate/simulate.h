/*
 * simulate — `kpistream simulate`: publishes a simulated contact center's events.
 * A tool, not the service: it uses the engine and the runtime, never the
 * reverse.
 */
#ifndef KS_TOOL_SIMULATE_H
#define KS_TOOL_SIMULATE_H

/* argv[0] is the subcommand name; returns the process exit status. Prints
 * its own --help. */
int ks_cmd_simulate(int argc, char **argv);

#endif
