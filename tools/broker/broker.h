/*
 * broker — `kpistream broker`: an embedded Kafka-protocol cluster (librdkafka's mock) on loopback,
 * with a fault-injection control channel. A tool, not the service: it uses the engine and the
 * runtime, never the reverse.
 */
#ifndef KS_TOOL_BROKER_H
#define KS_TOOL_BROKER_H

/* argv[0] is the subcommand name; returns the process exit status. Prints
 * its own --help. */
int ks_cmd_broker(int argc, char **argv);

#endif
