/*
 * reload — SIGHUP with a change of plugins[] or intervals.* (see
 * runner_internal.h and docs/operations.md "Reload"): the new engine is
 * built first, the running one's state is checkpointed and committed through
 * the barrier chain, carried over task by task, and only then swapped in.
 * The consumer is never closed: no rebalance, consuming resumes where the
 * committed checkpoint left off (input the merge still buffers was not
 * processed, so the checkpoint's next offsets are where it starts).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "runner_internal.h"

/* Index of plugin `name` in e, or -1. */
static long plugin_index(const ks_engine *e, const char *name) {
  for (size_t i = 0; i < ks_engine_plugin_count(e); i++)
    if (strcmp(ks_engine_plugin_name(e, i), name) == 0)
      return (long)i;
  return -1;
}

/* Load into ne every task of the running engine, plugin by plugin (matched
 * by instance name), from the snapshot the committed checkpoint was cut
 * from. A plugin new in ne starts with empty tables. */
static int carry_state(runner *r, ks_engine *ne, char *err, size_t errsz) {
  for (int32_t p = 0; p < r->n_partitions; p++) {
    if (!ks_engine_task_exists(r->engine, p))
      continue;
    for (size_t j = 0; j < ks_engine_plugin_count(ne); j++) {
      long i = plugin_index(r->engine, ks_engine_plugin_name(ne, j));
      if (i < 0)
        continue;
      uint8_t *buf = NULL;
      size_t len = 0;
      char why[512] = "";
      int rc = ks_engine_snapshot(r->engine, p, (size_t)i, &buf, &len);
      if (rc == 0)
        rc = ks_engine_restore(ne, p, j, buf, len, why, sizeof why);
      free(buf);
      if (rc != 0) {
        snprintf(err, errsz, "task %d, plugin %s: its state does not carry over: %s", p,
                 ks_engine_plugin_name(ne, j), why[0] ? why : "out of memory");
        return rc;
      }
    }
  }
  return 0;
}

static void swap_i64(int64_t *a, int64_t *b) {
  int64_t t = *a;
  *a = *b;
  *b = t;
}

/* r->cfg takes next's plugins and intervals; next gets the old ones. */
static void swap_engine_keys(ks_config *cur, ks_config *next) {
  ks_config_plugin *pl = cur->plugins;
  size_t np = cur->n_plugins;
  cur->plugins = next->plugins;
  cur->n_plugins = next->n_plugins;
  next->plugins = pl;
  next->n_plugins = np;
  swap_i64(&cur->interval_ms, &next->interval_ms);
  swap_i64(&cur->lateness_ms, &next->lateness_ms);
  swap_i64(&cur->grace_ms, &next->grace_ms);
  swap_i64(&cur->idle_timeout_ms, &next->idle_timeout_ms);
  swap_i64(&cur->restate_ms, &next->restate_ms);
  swap_i64(&cur->max_future_skew_ms, &next->max_future_skew_ms);
}

int ks_runner_reload_engine(runner *r, ks_config *next, char *err, size_t errsz) {
  if (r->stopping || r->exit_code != 0 || r->consumer == NULL || r->engine == NULL) {
    snprintf(err, errsz, "the service is stopping");
    return KS_EINVAL;
  }
  /* Built from next's plugins and intervals, with the running topics and
   * plugin_dir (the command line's --plugin-dir, if given, still holds). */
  ks_config build = *next;
  build.topics = r->cfg.topics;
  build.n_topics = r->cfg.n_topics;
  build.plugin_dir = r->cfg.plugin_dir;
  ks_engine *ne = NULL;
  char **ct = NULL;
  int32_t *cp = NULL;
  int rc = ks_runner_engine_new(r, &build, &ne, err, errsz);
  if (rc == 0 && r->ckpt_on)
    rc = ks_ckpt_topics_new(r, ne, &ct, &cp, err, errsz);
  size_t common = 0;
  for (size_t j = 0; rc == 0 && j < ks_engine_plugin_count(ne); j++)
    common += plugin_index(r->engine, ks_engine_plugin_name(ne, j)) >= 0;
  if (rc == 0 && common == 0) {
    snprintf(err, errsz,
             "no plugin instance of the running configuration is kept, so no state carries "
             "over; that takes a restart");
    rc = KS_ECONFIG;
  }
  if (rc == 0) {
    /* The safe point: no callback runs (this is the loop's signal handler).
     * Checkpoint and commit every assigned task, and wait for it. */
    r->sync_commits = 1;
    ks_runner_seal(r, NULL);
    int budget = 30000;
    if (ks_barrier_drain(&r->chain, budget) != 0 || r->exit_code != 0) {
      snprintf(err, errsz, "the checkpoint before the reload was not acknowledged within %d ms",
               budget);
      rc = KS_EKAFKA;
    }
    r->sync_commits = 0;
  }
  if (rc == 0)
    rc = carry_state(r, ne, err, errsz);
  if (rc != 0) {
    ks_ckpt_topics_free(ct, cp, ne ? ks_engine_plugin_count(ne) : 0);
    ks_engine_free(ne);
    return rc;
  }
  if (r->ckpt_on) {
    ks_ckpt_topics_free(r->ckpt_topics, r->ckpt_parts, ks_engine_plugin_count(r->engine));
    r->ckpt_topics = ct;
    r->ckpt_parts = cp;
  }
  ks_engine_free(r->engine);
  r->engine = ne;
  swap_engine_keys(&r->cfg, next);
  ks_runner_log(r, KS_LOG_INFO,
                "reload: engine rebuilt with %zu plugins (%zu carried over), every task resumed "
                "from the checkpoint just committed; the consumer stayed in its group",
                ks_engine_plugin_count(ne), common);
  return 0;
}
