/*
 * workforce plugin — result helpers shared by the interval, day and month
 * closers: dimensions (tenant / team / agent), the team and reason labels,
 * ratios and sums.
 */
#include <string.h>

#include "workforce_internal.h"

void wf_em_dims(wf_emitter *e, int64_t start, int64_t end, const char *tenant, const char *team,
                const char *agent, int team_level) {
  e->em.r.interval_start_ms = start;
  e->em.r.interval_end_ms = end;
  e->em.r.tenant = tenant;
  e->em.r.channel = 0;
  e->em.r.queue = "";
  e->em.r.agent_id = agent;
  e->em.r.team = team;
  e->em.r.level = agent && agent[0] ? KS_LEVEL_AGENT : team_level ? KS_LEVEL_TEAM : KS_LEVEL_TENANT;
  e->em.r.n_labels = 0;
  e->em.r.labels = e->labels;
  if (team_level) {
    e->labels[0].key = "team";
    e->labels[0].value = team;
    e->em.r.n_labels = 1;
  }
}

void wf_em_reason(wf_emitter *e, const char *reason) {
  /* the reason label follows the team label, if any */
  size_t base = (e->em.r.n_labels > 0 && strcmp(e->labels[0].key, "team") == 0) ? 1 : 0;
  if (reason == NULL) {
    e->em.r.n_labels = base;
    return;
  }
  e->labels[base].key = "reason";
  e->labels[base].value = reason;
  e->em.r.n_labels = base + 1;
}
