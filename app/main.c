/*
 * kpistream — contact-center KPIs from Kafka event streams.
 * main() dispatches to a subcommand: `run` (core/runtime/runner.h) or a tool
 * (tools/<name>/<name>.h). For `run` it also owns the
 * process-wide state of fatal.h: the record of the plugin callback running
 * now, the fatal-signal handlers that name it, and an atexit check that keeps
 * a plugin's exit() from ending the service with success.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "cli.h"
#include "dump.h"
#include "fatal.h"
#include "kpistream/plugin.h"
#include "plugins.h"
#include "runner.h"
#include "simulate.h"
#include "sink.h"
#include "watch.h"

/* The one process-wide state of kpistream (see fatal.h): a signal handler
 * and an atexit function take no user data. The record is per thread
 * (processing.threads): a handler reads the record of the thread it runs
 * on, the one that faulted or called exit(). */
static _Thread_local ks_plugin_call current_call = KS_PLUGIN_CALL_NONE;
static volatile sig_atomic_t running; /* inside `run`, before its clean return */
static char alt_stack[64 * 1024];

static void on_fatal_signal(int sig) {
  ks_fatal_write(STDERR_FILENO, "fatal signal ", ks_fatal_signame(sig), &current_call,
                 "; re-raised (nothing after the last checkpoint is committed: a restart "
                 "restores it)");
  raise(sig); /* SA_RESETHAND: the default action, the process dies with the signal */
}

static void on_exit_check(void) {
  if (current_call.plugin == NULL && !running)
    return;
  ks_fatal_write(STDERR_FILENO, "exit() called", "", &current_call,
                 current_call.plugin
                     ? "; a plugin must not end the process: exiting with status 70"
                     : " before a clean shutdown completed: exiting with status 70");
  _exit(KS_EXIT_PLUGIN_EXIT);
}

static ks_plugin_call *thread_call(void) {
  return &current_call;
}

static int run_watched(int argc, char **argv) {
  if (ks_fatal_install(on_fatal_signal, alt_stack, sizeof alt_stack) != 0 ||
      atexit(on_exit_check) != 0)
    fprintf(stderr, "kpistream: cannot install the fatal-signal and exit handlers; a plugin "
                    "crash will not be attributed\n");
  running = 1;
  int rc = ks_cmd_run_watched(argc, argv, thread_call);
  running = 0;
  return rc;
}

static void usage(FILE *f) {
  fprintf(f, "usage: kpistream <command> [options]\n"
             "\n"
             "commands:\n"
             "  run        consume events, compute KPIs, publish results (the service)\n"
             "  broker     start an embedded Kafka-protocol broker (librdkafka mock) on 127.0.0.1\n"
             "  simulate   publish a simulated contact center's events\n"
             "  watch      show result topics as tables on the terminal\n"
             "  dump       print every result of result topics, one line each (for tests)\n"
             "  plugins    list the plugins of a plugin directory (version, ABI), or\n"
             "             describe one plugin's options (plugins describe NAME)\n"
             "  sink       keep a PostgreSQL table of result topics, exactly once (sink postgres)\n"
             "\n"
             "  kpistream <command> --help   options of a command\n"
             "  kpistream --version          print the version\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return KS_EXIT_USAGE;
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
    return run_watched(argc - 1, argv + 1);
  if (strcmp(cmd, "broker") == 0)
    return ks_cmd_broker(argc - 1, argv + 1);
  if (strcmp(cmd, "simulate") == 0)
    return ks_cmd_simulate(argc - 1, argv + 1);
  if (strcmp(cmd, "watch") == 0)
    return ks_cmd_watch(argc - 1, argv + 1);
  if (strcmp(cmd, "dump") == 0)
    return ks_cmd_dump(argc - 1, argv + 1);
  if (strcmp(cmd, "plugins") == 0)
    return ks_cmd_plugins(argc - 1, argv + 1);
  if (strcmp(cmd, "sink") == 0)
    return ks_cmd_sink(argc - 1, argv + 1);
  fprintf(stderr, "kpistream: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return KS_EXIT_USAGE;
}
