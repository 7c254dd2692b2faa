/*
 * fatal — what the process says when a plugin takes it down.
 *
 * Plugins run in-process and are trusted code (docs/plugins.md): a plugin
 * that segfaults or calls exit() ends the service. What the host adds is a
 * last line naming the plugin and callback that was running, and an exit
 * status that is never success.
 *
 * The engine records the plugin callback it is running in a ks_plugin_call
 * (plain stores before and after each call). A signal handler cannot be
 * given user data, so main() — the one place allowed to own process-wide
 * state — owns that record, installs the handlers and hands the runner a
 * function giving the calling thread's record (thread-local: with
 * processing.threads > 1 each thread running plugins records into its own,
 * and a fatal signal, delivered to the thread that faulted, names that
 * thread's callback; so does exit(), whose atexit handlers run on the thread
 * that called it). The runner passes each thread's record to the engine
 * (ks_engine_options.call, ks_engine_lane_options.call).
 *
 * Ownership: a ks_plugin_call is owned by whoever declared it (main's are
 * thread-local statics); the strings it points to are the engine's (plugin names, input
 * topic names) or static, valid while the engine lives; the engine clears
 * the record when no plugin code runs.
 */
#ifndef KS_FATAL_H
#define KS_FATAL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ks_plugin_call {
  const char *plugin;   /* the plugin whose code runs now, or NULL */
  const char *callback; /* "init", "on_event", "on_interval_close", "on_result", "destroy" */
  const char *topic;    /* on_event: the event's input topic; else NULL */
  int32_t task;         /* the task, or -1 */
  int64_t offset;       /* on_event: the event's offset; else -1 */
  int64_t interval;     /* the interval's start (ms), or INT64_MIN */
} ks_plugin_call;

#define KS_PLUGIN_CALL_NONE                                                                        \
  { NULL, NULL, NULL, -1, -1, INT64_MIN }

/* The calling thread's record (main's: a thread-local static). */
typedef ks_plugin_call *(*ks_plugin_call_fn)(void);

/* Exit status of a process that a plugin ended with exit() (EX_SOFTWARE). */
#define KS_EXIT_PLUGIN_EXIT 70

/* Async-signal-safe (write(2) only, no locks, no allocation): writes one
 * line to fd, "kpistream: <what><what2> in plugin P, callback C at TOPIC
 * [TASK] offset O<tail>" (or "at task T, interval I", or "outside any plugin
 * callback"), at most 511 bytes. */
void ks_fatal_write(int fd, const char *what, const char *what2, const ks_plugin_call *c,
                    const char *tail);

/* The signal's name ("SIGSEGV"), or "signal". */
const char *ks_fatal_signame(int sig);

/* Install handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT on the
 * alternate signal stack `stack` (the caller's, alive until exit: a stack
 * overflow still gets its line), with SA_RESETHAND so that re-raising the
 * signal from the handler takes the default action. Returns 0 or -1. */
int ks_fatal_install(void (*handler)(int), void *stack, size_t stack_size);

/* The calling thread's alternate signal stack (sigaltstack is per thread):
 * a thread started after ks_fatal_install calls it with a stack of its own,
 * so its stack overflow still gets its line, and with NULL (disabled)
 * before it ends and the stack is freed (a sanitizer's runtime unmaps the
 * alternate stack it finds at thread exit). Any buffer will do: its start
 * is rounded up to 16 bytes. Returns 0, or -1 (refused, or smaller than
 * MINSIGSTKSZ once aligned). */
int ks_fatal_thread_stack(void *stack, size_t stack_size);

#endif
