#include "bench_engine.h"

#include <string.h>

#include "bench_gen.h"
#include "log.h"

int bench_engine_new(ks_engine **out, ks_sink_fn sink, void *ud, const char *plugin,
                     const ks_kv *popts, size_t n_popts, int tasks, char *err, size_t errsz) {
  const char *topics[BG_N_TOPICS];
  for (unsigned t = 0; t < BG_N_TOPICS; t++)
    topics[t] = bg_topic_name(t);
  ks_engine_options eo;
  memset(&eo, 0, sizeof eo);
  eo.interval_ms = BENCH_INTERVAL_MS;
  eo.lateness_ms = BENCH_LATENESS_MS;
  eo.topics = topics;
  eo.n_topics = BG_N_TOPICS;
  eo.sink = sink;
  eo.sink_ud = ud;
  eo.log_level = KS_LOG_WARN;
  *out = NULL;
  int rc = ks_engine_new(out, &eo, err, errsz);
  if (rc == 0 && plugin)
    rc = ks_engine_add_plugin(*out, plugin, NULL, popts, n_popts, err, errsz);
  for (int t = 0; rc == 0 && t < tasks; t++)
    rc = ks_engine_task_open(*out, t);
  if (rc != 0) {
    ks_engine_free(*out);
    *out = NULL;
  }
  return rc;
}
