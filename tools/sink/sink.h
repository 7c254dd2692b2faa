/*
 * sink — `kpistream sink postgres`: keeps a PostgreSQL table of the results
 * of result topics (any output format), exactly once: rows are upserted by
 * key where the revision is newer, and the consumed offsets are written in
 * the same database transaction, so a restart resumes from the database's
 * offsets. docs/warehouses.md.
 * A tool, not the service: it uses the runtime, never the reverse.
 */
#ifndef KS_TOOL_SINK_H
#define KS_TOOL_SINK_H

/* argv[0] is the subcommand name ("sink"); returns the process exit status.
 * Prints its own --help. */
int ks_cmd_sink(int argc, char **argv);

#endif
