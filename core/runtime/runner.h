/*
 * runner — `kpistream run`: the long-lived service. Wires the config, the
 * engine, the Kafka consumer and producer into one libuv loop.
 *
 * Delivery: results and dead-letter messages produced while intervals close
 * are tracked in commit barriers; a barrier's input offsets (the first
 * offset still feeding an open interval, per partition) are committed only
 * after every message produced before it was acknowledged by the broker.
 * A crash therefore re-reads input rather than losing it (at-least-once
 * with deterministic result keys; see docs/reliability.md).
 */
#ifndef KS_RUNNER_H
#define KS_RUNNER_H

#include "fatal.h"

int ks_cmd_run(int argc, char **argv);
/* The same, recording the plugin callback each thread runs in that thread's
 * record, call_of_thread() (main's, see fatal.h; NULL = not recorded). */
int ks_cmd_run_watched(int argc, char **argv, ks_plugin_call_fn call_of_thread);

#endif
