/*
 * bench_engine — the in-process engine every benchmark drives: bench_gen's
 * five input topics, 15-minute intervals, 30 s of allowed lateness, one
 * plugin, tasks 0..tasks-1 open.
 *
 * Ownership: *out is the caller's (ks_engine_free); NULL on error.
 */
#ifndef KS_BENCH_ENGINE_H
#define KS_BENCH_ENGINE_H

#include "engine.h"

#define BENCH_INTERVAL_MS (15 * 60 * 1000)
#define BENCH_LATENESS_MS (30 * 1000)

/* A new engine whose results go to sink(ud), with plugin (NULL: none) and
 * its options loaded and `tasks` tasks open. 0, or an error in err. */
int bench_engine_new(ks_engine **out, ks_sink_fn sink, void *ud, const char *plugin,
                     const ks_kv *popts, size_t n_popts, int tasks, char *err, size_t errsz);

#endif
