/*
 * kpistream — contact-center KPIs from Kafka event streams.
 * main() only dispatches to a subcommand (commands.h).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kpistream/plugin.h"

static void usage(FILE *f) {
  fprintf(f, "usage: kpistream <command> [options]\n"
             "\n"
             "commands:\n"
             "  run        consume events, compute KPIs, publish results (the service)\n"
             "  broker     start an embedded Kafka-protocol broker (librdkafka mock) on 127.0.0.1\n"
             "  simulate   publish a simulated contact center's events\n"
             "  watch      show result topics as tables on the terminal\n"
             "  dump       print every result of result topics, one line each (for tests)\n"
             "\n"
             "  kpistream <command> --help   options of a command\n"
             "  kpistream --version          print the version\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    printf("kpistream %s (plugin ABI %d.%d)\n", KS_VERSION, KS_PLUGIN_ABI_MAJOR,
           KS_PLUGIN_ABI_MINOR);
    return 0;
  }
  if (strcmp(cmd, "run") == 0)
    return ks_cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "broker") == 0)
    return ks_cmd_broker(argc - 1, argv + 1);
  if (strcmp(cmd, "simulate") == 0)
    return ks_cmd_simulate(argc - 1, argv + 1);
  if (strcmp(cmd, "watch") == 0)
    return ks_cmd_watch(argc - 1, argv + 1);
  if (strcmp(cmd, "dump") == 0)
    return ks_cmd_dump(argc - 1, argv + 1);
  fprintf(stderr, "kpistream: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return 2;
}
