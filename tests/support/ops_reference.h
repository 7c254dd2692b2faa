/*
 * ops_reference — a deliberately simple second implementation of the
 * operations KPI formulas of docs/metrics.md ("Operations"), for tests: the
 * whole event log in memory, no state tables, no incremental updates. It
 * computes, from a log (in any order, duplicates included), the numerator
 * and denominator of every metric the operations plugin publishes, at both
 * levels (queue; agent, with any per_agent option), with the plugin's
 * default options otherwise.
 *
 * What it assumes of the log (the generator in tests/test_operations_order.c
 * keeps to it): one tenant (KS_TK_TENANT); every event names its channel and
 * queue, agent events their agent; at most one reopen per contact. `arg`
 * carries is_public (AgentResponse), ring_ms (ContactOffered) and callback
 * (ContactQueued); a ContactResolved may name the agent it is credited to.
 *
 * Ownership: ops_reference() returns a malloc'd array the caller frees.
 */
#ifndef KS_OPS_REFERENCE_H
#define KS_OPS_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* One input event (a contact-lifecycle body, see ks_tk_lifecycle()). */
typedef struct ops_ev {
  char id[32];
  uint32_t body; /* KPISTREAM__V1__EVENT__BODY_* */
  int64_t t;
  int channel;
  char queue[16];
  char contact[24];
  char customer[16];
  char agent[16];
  int arg; /* ks_tk_lifecycle()'s arg: is_public (AgentResponse), ring_ms (ContactOffered), callback
              (ContactQueued) */
} ops_ev;

/* One published figure: metric at (interval, channel, queue, agent). For
 * SUM and MAX metrics num is the value and den 0; has_value as published. */
typedef struct ops_fig {
  char metric[32];
  int64_t iv;
  int channel;
  char queue[16];
  char agent[16];
  int has_value;
  double num, den;
} ops_fig;

/* The per_agent option: which dimensions per-agent results have. */
typedef enum ops_per_agent {
  OPS_AGENT_CHANNEL = 0, /* tenant x channel x agent (the default) */
  OPS_AGENT_QUEUE,       /* tenant x channel x queue x agent */
  OPS_AGENT_ALL          /* tenant x agent, all channels */
} ops_per_agent;

/* The figures of the log (n events, interval length interval_ms,
 * per-agent dimensions per_agent, fcr.transfers unresolved when
 * fcr_xfer_unresolved) into
 * *out (*nout of them). Returns 0, or -1 when out of memory (a table that
 * cannot grow aborts: this is test code). */
int ops_reference(const ops_ev *log, size_t n, int64_t interval_ms, ops_per_agent per_agent,
                  int fcr_xfer_unresolved, ops_fig **out, size_t *nout);

#endif
