/*
 * workforce plugin — result helpers shared by the interval, day and month
 * closers: dimensions (tenant / team / agent), the team and reason labels,
 * ratios and sums.
 */
#include <string.h>

#include "workforce_internal.h"

void wf_em_dims(wf_emitter *e, int64_t start, int64_t end, const char *tenant, const char *team,
                const char *agent, int team_level) {
  e->r.interval_start_ms = start;
  e->r.interval_end_ms = end;
  e->r.tenant = tenant;
  e->r.channel = 0;
  e->r.queue = "";
  e->r.agent_id = agent;
  e->r.team = team;
  e->r.level = agent && agent[0] ? KS_LEVEL_AGENT : team_level ? KS_LEVEL_TEAM : KS_LEVEL_TENANT;
  e->r.n_labels = 0;
  e->r.labels = e->labels;
  if (team_level) {
    e->labels[0].key = "team";
    e->labels[0].value = team;
    e->r.n_labels = 1;
  }
}

void wf_em_reason(wf_emitter *e, const char *reason) {
  /* the reason label follows the team label, if any */
  size_t base = (e->r.n_labels > 0 && strcmp(e->labels[0].key, "team") == 0) ? 1 : 0;
  if (reason == NULL) {
    e->r.n_labels = base;
    return;
  }
  e->labels[base].key = "reason";
  e->labels[base].value = reason;
  e->r.n_labels = base + 1;
}

static void em_put(wf_emitter *e, const char *metric, const char *unit) {
  e->r.metric = metric;
  e->r.unit = unit;
  if (e->p->api->emit(e->p->ctx, e->task, &e->r) != 0)
    e->failed = 1;
}

void wf_em_ratio(wf_emitter *e, const char *metric, double num, double den, int64_t count,
                 const char *unit) {
  ks_result_set_ratio(&e->r, num, den, count);
  em_put(e, metric, unit);
}

void wf_em_sum(wf_emitter *e, const char *metric, double v, int64_t count, const char *unit) {
  e->r.aggregation = KS_AGG_SUM;
  e->r.has_value = 1;
  e->r.value = v;
  e->r.numerator = v;
  e->r.denominator = 0;
  e->r.count = count;
  em_put(e, metric, unit);
}
