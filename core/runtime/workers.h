/*
 * workers — the fork-join pool of processing.threads.
 *
 * ks_workers_run() hands n items to N threads, the caller's and N-1 worker
 * threads, and returns once every item is done: item i is always done by
 * thread (i + 1) mod N (thread 0 the caller's: the workers take the first
 * items, so a lone item runs on a worker), so the runner's task i stays on
 * one thread (its state in that core's caches, and which thread runs it is
 * known: the tests rely on it), as Kafka Streams keeps a task on one stream
 * thread. What the callback does with one item must not conflict with what
 * it does with another (the runner: one item = one task). Everything
 * the caller did before ks_workers_run() happens before the items, and
 * everything the items did happens before it returns (a mutex and condition
 * variables order them), so the caller's state stays single-threaded
 * outside the run.
 *
 * Ownership: the caller owns the pool (ks_workers_new / ks_workers_free); the
 * pool owns its threads, joined by ks_workers_free. Use one pool from one
 * thread.
 */
#ifndef KS_WORKERS_H
#define KS_WORKERS_H

#include <stddef.h>

#define KS_WORKERS_MAX 64 /* threads of one pool, the caller's included */

typedef struct ks_workers ks_workers;

/* Do item `item` on thread `thread` (0: the caller's, 1..N-1: the workers). */
typedef void (*ks_work_fn)(void *ud, size_t thread, size_t item);

/* What each started thread runs first and last, with its number (NULL: nothing). */
typedef void (*ks_worker_hook)(void *ud, size_t thread);

/* A pool of n_threads (2..KS_WORKERS_MAX) threads: the caller's and
 * n_threads - 1 started now. on_start runs first on each started thread,
 * before ks_workers_new returns (e.g. to note the thread's fatal.h record),
 * on_stop last, in ks_workers_free; either may be NULL. 0, or a negative
 * error with the reason in errstr (nothing is left running). */
int ks_workers_new(ks_workers **out, size_t n_threads, ks_worker_hook on_start,
                   ks_worker_hook on_stop, void *ud, char *errstr, size_t errstr_size);

/* Threads of the pool, the caller's included. */
size_t ks_workers_threads(const ks_workers *w);

/* fn(ud, thread, i) for every i < n_items, spread over the threads; returns
 * when all are done. */
void ks_workers_run(ks_workers *w, size_t n_items, ks_work_fn fn, void *ud);

/* Stop and join the threads, free the pool. NULL is fine. */
void ks_workers_free(ks_workers *w);

#endif
