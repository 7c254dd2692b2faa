/*
 * testkit_engine — the test kit over an engine of the caller's, for the
 * project's own engine-level tests (not installed): they build engines with
 * options and sinks of their own and still feed them with the kit's event
 * builders.
 *
 * Ownership: a kit from ks_testkit_attach() borrows `e` (the caller frees
 * it after ks_testkit_free()); the results go to the engine's own sink, so
 * ks_testkit_results() stays empty, and plugins and restarts are the
 * owner's.
 */
#ifndef KS_TESTKIT_ENGINE_H
#define KS_TESTKIT_ENGINE_H

#include "engine.h"
#include "kpistream/testkit.h"

int ks_testkit_attach(ks_testkit **out, ks_engine *e);

/* The kit's engine, for what the kit does not wrap (stats, snapshots). */
ks_engine *ks_testkit_engine(ks_testkit *tk);

#endif
