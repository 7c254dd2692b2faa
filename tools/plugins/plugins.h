/*
 * plugins — `kpistream plugins list|describe`: the plugins of a plugin
 * directory with their version and ABI, and one plugin's options (name,
 * type, default, description, choices) from its option map. A tool, not the
 * service: it uses the engine's loader checks (ks_plugin_probe), never the
 * reverse, and calls nothing in a plugin but its entry point.
 */
#ifndef KS_TOOL_PLUGINS_H
#define KS_TOOL_PLUGINS_H

/* argv[0] is the subcommand name; returns the process exit status (0, 1
 * when a plugin is refused, 2 on a usage error). Prints its own --help. */
int ks_cmd_plugins(int argc, char **argv);

#endif
