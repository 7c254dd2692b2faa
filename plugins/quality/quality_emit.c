/*
 * quality plugin — results of a closed interval: one ks_result per metric
 * and dimension group, from the by_group and by_category windowed tables.
 *
 *   group level   channel  queue   agent   team      labels
 *   tenant        all      ""      ""      ""        -
 *   queue         event's  event's ""      ""        -
 *   team          all      ""      ""      team      team=<team>
 *   agent         per per_agent    agent   last*     -   (* by event time)
 *   evaluator     all      ""      ""      ""        evaluator=<id>
 *
 * category_score adds the label category=<category> (first) to its group's
 * dimensions. The team travels in a label because the result key has no
 * team field. An agent's category rows carry the team of the agent's group
 * record (one team per agent and interval), looked up by the group's key,
 * which is the category key without its last part.
 */
#include <stdlib.h>
#include <string.h>

#include "quality_internal.h"

/* An agent group's key and team, valid while the interval is being closed. */
typedef struct qa_team_ref {
  const uint8_t *key;
  size_t len;
  const char *team; /* the record's NUL-padded team (QA_NAME_MAX bytes) */
} qa_team_ref;

typedef struct qa_emitter {
  qa_plugin *p;
  qa_team_ref *teams; /* agent groups of the interval, sorted by key */
  size_t n_teams, cap_teams;
  ks_emitter em; /* task, the result's dimensions */
  const char *score_unit;
  ks_label labels[2];
  char level[4];
  char channel[4];
  char tenant[KS_KEY_MAX];
  char queue[KS_KEY_MAX];
  char agent[KS_KEY_MAX];
  char extra[KS_KEY_MAX];
  char category[KS_KEY_MAX];
  char team[QA_NAME_MAX];
} qa_emitter;

/* The result level of a group level. A queue group without a queue (the
 * evaluation named only a channel) is unattributed; evaluations naming
 * neither are in the tenant group only (their queue group would have the
 * tenant's key). */
static ks_level qa_result_level(int level, int has_queue) {
  switch (level) {
  case QA_LVL_TENANT:
    return KS_LEVEL_TENANT;
  case QA_LVL_QUEUE:
    return has_queue ? KS_LEVEL_QUEUE : KS_LEVEL_UNATTRIBUTED;
  case QA_LVL_TEAM:
    return KS_LEVEL_TEAM;
  case QA_LVL_AGENT:
    return KS_LEVEL_AGENT;
  case QA_LVL_EVALUATOR:
    return KS_LEVEL_EVALUATOR;
  default:
    return KS_LEVEL_UNSPECIFIED;
  }
}

/* Read the group's dimensions back from its key and set them on e->em.r
 * (labels after `first_labels` already placed ones). Returns 0 when the key
 * is malformed. */
static int read_dims(qa_emitter *e, const void *key, size_t keylen, size_t first_labels) {
  if (ks_key_part(key, keylen, QA_KP_LEVEL, e->level, sizeof e->level) != 1 ||
      ks_key_part(key, keylen, QA_KP_TENANT, e->tenant, sizeof e->tenant) < 0 ||
      ks_key_part(key, keylen, QA_KP_CHANNEL, e->channel, sizeof e->channel) != 1 ||
      ks_key_part(key, keylen, QA_KP_QUEUE, e->queue, sizeof e->queue) < 0 ||
      ks_key_part(key, keylen, QA_KP_AGENT, e->agent, sizeof e->agent) < 0 ||
      ks_key_part(key, keylen, QA_KP_EXTRA, e->extra, sizeof e->extra) < 0)
    return 0;
  const int level = (unsigned char)e->level[0];
  e->em.r.tenant = e->tenant;
  e->em.r.channel = (unsigned char)e->channel[0];
  e->em.r.queue = e->queue;
  e->em.r.agent_id = e->agent[0] ? e->agent : NULL;
  e->em.r.team = NULL;
  e->em.r.level = qa_result_level(level, e->queue[0] != 0);
  e->em.r.labels = e->labels;
  e->em.r.n_labels = first_labels;
  if (level == QA_LVL_TEAM) {
    e->labels[e->em.r.n_labels].key = "team";
    e->labels[e->em.r.n_labels].value = e->extra;
    e->em.r.n_labels++;
    e->em.r.team = e->extra;
  } else if (level == QA_LVL_EVALUATOR) {
    e->labels[e->em.r.n_labels].key = "evaluator";
    e->labels[e->em.r.n_labels].value = e->extra;
    e->em.r.n_labels++;
  }
  if (e->em.r.n_labels == 0)
    e->em.r.labels = NULL;
  return 1;
}

/* The agent-level team stored on the record (NUL-terminated copy). */
static void set_record_team(qa_emitter *e, const char *team) {
  if (e->em.r.team != NULL || (unsigned char)e->level[0] != QA_LVL_AGENT)
    return;
  memcpy(e->team, team, QA_NAME_MAX);
  e->team[QA_NAME_MAX - 1] = '\0';
  if (e->team[0])
    e->em.r.team = e->team;
}

static int team_ref_cmp(const void *x, const void *y) {
  const qa_team_ref *a = x, *b = y;
  if (a->len != b->len)
    return a->len < b->len ? -1 : 1;
  return memcmp(a->key, b->key, a->len);
}

static int is_agent_group(const void *key, size_t keylen) {
  return keylen >= 2 && ((const uint8_t *)key)[0] == 1 && ((const uint8_t *)key)[1] == QA_LVL_AGENT;
}

static int count_agent_group(void *ud, const void *key, size_t keylen, void *record) {
  (void)record;
  ((qa_emitter *)ud)->cap_teams += (size_t)is_agent_group(key, keylen);
  return 0;
}

static int emit_group(void *ud, const void *key, size_t keylen, void *record) {
  qa_emitter *e = ud;
  const qa_agg *a = record;
  if (!read_dims(e, key, keylen, 0))
    return 0;
  set_record_team(e, a->team);
  if (is_agent_group(key, keylen) && e->n_teams < e->cap_teams)
    e->teams[e->n_teams++] = (qa_team_ref){key, keylen, a->team};
  ks_emit_count(&e->em, "evaluations", a->evaluations, "evaluations");
  ks_emit_ratio(&e->em, "evaluation_score", a->score_sum, (double)a->scored, a->scored,
                e->score_unit);
  ks_emit_count(&e->em, "auto_fail_count", a->auto_failed, "evaluations");
  ks_emit_ratio(&e->em, "auto_fail_rate", (double)a->auto_failed, (double)a->evaluations,
                a->evaluations, "ratio");
  ks_emit_ratio(&e->em, "compliance_rate", (double)a->compliant, (double)a->compliance_den,
                a->compliance_den, "ratio");
  return 0;
}

static int emit_category(void *ud, const void *key, size_t keylen, void *record) {
  qa_emitter *e = ud;
  const qa_cagg *g = record;
  const int catlen = ks_key_part(key, keylen, QA_KP_CAT, e->category, sizeof e->category);
  if (catlen < 0)
    return 0;
  e->labels[0].key = "category";
  e->labels[0].value = e->category;
  if (!read_dims(e, key, keylen, 1))
    return 0;
  if (is_agent_group(key, keylen) && e->n_teams > 0) {
    const qa_team_ref want = {key, keylen - 1 - (size_t)catlen, NULL};
    const qa_team_ref *t = bsearch(&want, e->teams, e->n_teams, sizeof *e->teams, team_ref_cmp);
    if (t != NULL)
      set_record_team(e, t->team);
  }
  ks_emit_ratio(&e->em, "category_score", g->sum, (double)g->n, g->n, e->score_unit);
  return 0;
}

int qa_emit_interval(qa_plugin *p, ks_task *task, const ks_interval *iv) {
  qa_emitter *e = p->api->alloc(sizeof *e); /* once per interval, not per event */
  if (e == NULL)
    return KS_ENOMEM;
  memset(e, 0, sizeof *e);
  e->p = p;
  ks_emitter_init(&e->em, p->api, p->ctx, task, iv);
  e->score_unit = p->cfg.scale == 1.0 ? "ratio" : "%";
  int rc = 0;
  if (p->cfg.per_category) {
    rc = p->api->window_foreach(task, p->by_group, iv->start_ms, count_agent_group, e);
    if (rc == 0 && e->cap_teams > 0 &&
        (e->teams = p->api->alloc(e->cap_teams * sizeof *e->teams)) == NULL)
      rc = KS_ENOMEM;
  }
  if (rc == 0)
    rc = p->api->window_foreach(task, p->by_group, iv->start_ms, emit_group, e);
  if (rc == 0 && p->cfg.per_category) {
    if (e->n_teams > 1)
      qsort(e->teams, e->n_teams, sizeof *e->teams, team_ref_cmp);
    rc = p->api->window_foreach(task, p->by_category, iv->start_ms, emit_category, e);
  }
  const int failed = e->em.failed;
  if (e->teams != NULL)
    p->api->free(e->teams);
  p->api->free(e);
  return rc != 0 || failed ? KS_EPLUGIN : 0;
}
