/*
 * testkit — an in-process engine for plugin tests (kpistream/testkit.h):
 * plugins loaded by path, events fed as protobuf bytes, results collected
 * from the engine's sink and decoded back from the bytes a Kafka producer
 * would send, restarts through the engine's checkpoint format.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "kpistream/testkit.h"
#include "kpistream/v1/result.pb-c.h"
#include "testkit_engine.h"

typedef struct tk_plugin {
  char *path;
  char *topic; /* NULL: kpi.<name> */
  ks_kv *options;
  size_t n_options;
} tk_plugin;

struct ks_testkit {
  ks_engine *e;
  int owns_engine; /* 0: attached to a caller's engine (testkit_engine.h) */
  ks_engine_options eo;
  tk_plugin *plugins;
  size_t n_plugins;
  int32_t *tasks; /* the tasks the kit opened, for restarts */
  size_t n_tasks;
  ks_testkit_result *res;
  size_t n_res, cap_res;
  uint64_t errors; /* plugin callbacks that failed */
  char reason[256];
  char error[512];
};

static const char *const tk_topics[] = {"events"};

/* The kit's outcomes are the engine's. */
_Static_assert(KS_TESTKIT_PROCESSED == KS_PROCESSED && KS_TESTKIT_REJECTED == KS_REJECTED &&
                   KS_TESTKIT_LATE == KS_LATE && KS_TESTKIT_RESTATED == KS_RESTATED,
               "testkit.h outcomes differ from ks_process_result");

static void tk_set_error(ks_testkit *tk, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tk_set_error(ks_testkit *tk, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tk->error, sizeof tk->error, fmt, ap);
  va_end(ap);
}

/* Copy src into dst (cap bytes); 0, or -1 (an error named after `what`)
 * when it does not fit. */
static int tk_copy(ks_testkit *tk, char *dst, size_t cap, const char *src, const char *what,
                   const char *metric) {
  size_t n = strlen(src);
  if (n >= cap) {
    tk_set_error(tk, "result %s: %s of %zu bytes does not fit the kit's %zu", metric, what, n,
                 cap - 1);
    return -1;
  }
  memcpy(dst, src, n + 1);
  return 0;
}

static int tk_sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                   size_t valuelen, const ks_result *r) {
  ks_testkit *tk = ud;
  Kpistream__V1__MetricResult *m = kpistream__v1__metric_result__unpack(NULL, valuelen, value);
  if (m == NULL) {
    tk_set_error(tk, "result %s on %s: the encoded record does not decode", r->metric, topic);
    return KS_EDECODE;
  }
  int rc = KS_EINVAL;
  if (keylen != strlen(m->key) || memcmp(key, m->key, keylen) != 0) {
    tk_set_error(tk, "result %s on %s: the Kafka key is not the record's key '%s'", m->metric,
                 topic, m->key);
    goto out;
  }
  if (tk->n_res == tk->cap_res) {
    size_t cap = tk->cap_res ? tk->cap_res * 2 : 256;
    ks_testkit_result *res = realloc(tk->res, cap * sizeof *res);
    if (res == NULL) {
      rc = KS_ENOMEM;
      tk_set_error(tk, "result %s: out of memory for %zu results", m->metric, cap);
      goto out;
    }
    tk->res = res;
    tk->cap_res = cap;
  }
  ks_testkit_result *g = &tk->res[tk->n_res];
  memset(g, 0, sizeof *g);
  const char *mt = m->metric;
  if (tk_copy(tk, g->topic, sizeof g->topic, topic, "topic", mt) ||
      tk_copy(tk, g->key, sizeof g->key, m->key, "key", mt) ||
      tk_copy(tk, g->family, sizeof g->family, m->family, "family", mt) ||
      tk_copy(tk, g->metric, sizeof g->metric, m->metric, "metric", mt) ||
      tk_copy(tk, g->tenant, sizeof g->tenant, m->tenant, "tenant", mt) ||
      tk_copy(tk, g->queue, sizeof g->queue, m->queue, "queue", mt) ||
      tk_copy(tk, g->agent, sizeof g->agent, m->agent_id, "agent", mt) ||
      tk_copy(tk, g->team, sizeof g->team, m->team, "team", mt) ||
      tk_copy(tk, g->unit, sizeof g->unit, m->unit, "unit", mt) ||
      tk_copy(tk, g->plugin_version, sizeof g->plugin_version, m->plugin_version, "plugin_version",
              mt))
    goto out;
  size_t off = 0;
  for (size_t i = 0; i < m->n_labels; i++) {
    int w = snprintf(g->labels + off, sizeof g->labels - off, "%s%s=%s", i ? "," : "",
                     m->labels[i]->key, m->labels[i]->value);
    if (w < 0 || (size_t)w >= sizeof g->labels - off) {
      tk_set_error(tk, "result %s: labels longer than the kit's %zu bytes", mt,
                   sizeof g->labels - 1);
      goto out;
    }
    off += (size_t)w;
  }
  g->n_labels = m->n_labels;
  g->channel = m->channel;
  g->start_ms = m->interval_start_ms;
  g->end_ms = m->interval_end_ms;
  g->has_value = m->result_case == KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
  g->value = m->value;
  g->numerator = m->numerator;
  g->denominator = m->denominator;
  g->count = m->count;
  g->aggregation = m->aggregation;
  g->revision = m->revision;
  g->level = m->level;
  tk->n_res++;
  rc = 0;
out:
  kpistream__v1__metric_result__free_unpacked(m, NULL);
  return rc;
}

static void tk_plugin_error(void *ud, size_t plugin, int rc, const ks_plugin_call *call) {
  ks_testkit *tk = ud;
  tk->errors++;
  char where[96] = "";
  if (call->offset >= 0)
    snprintf(where, sizeof where, " at task %" PRId32 " offset %" PRId64, call->task, call->offset);
  else if (call->interval != INT64_MIN)
    snprintf(where, sizeof where, " at task %" PRId32 " interval %" PRId64, call->task,
             call->interval);
  tk_set_error(tk, "plugin %zu (%s): %s returned %d%s", plugin, call->plugin ? call->plugin : "?",
               call->callback ? call->callback : "?", rc, where);
}

static int tk_engine_new(ks_testkit *tk, char *errstr, size_t errstr_size) {
  return ks_engine_new(&tk->e, &tk->eo, errstr, errstr_size);
}

int ks_testkit_new(ks_testkit **out, const ks_testkit_options *opts, char *errstr,
                   size_t errstr_size) {
  *out = NULL;
  ks_testkit *tk = calloc(1, sizeof *tk);
  if (tk == NULL) {
    snprintf(errstr, errstr_size, "testkit: out of memory");
    return KS_ENOMEM;
  }
  ks_testkit_options o = {0};
  if (opts)
    o = *opts;
  tk->eo.interval_ms = o.interval_ms > 0 ? o.interval_ms : KS_TK_MIN(15);
  tk->eo.lateness_ms = o.lateness_ms;
  tk->eo.grace_ms = o.grace_ms;
  tk->eo.restate_ms = o.restate_ms;
  tk->eo.log_level = o.log_level ? o.log_level : KS_LOG_WARN;
  tk->eo.topics = tk_topics;
  tk->eo.n_topics = 1;
  tk->eo.sink = tk_sink;
  tk->eo.sink_ud = tk;
  tk->eo.on_plugin_error = tk_plugin_error;
  tk->eo.on_plugin_error_ud = tk;
  tk->owns_engine = 1;
  int rc = tk_engine_new(tk, errstr, errstr_size);
  if (rc != 0) {
    free(tk);
    return rc;
  }
  *out = tk;
  return 0;
}

int ks_testkit_attach(ks_testkit **out, ks_engine *e) {
  *out = calloc(1, sizeof **out);
  if (*out == NULL)
    return KS_ENOMEM;
  (*out)->e = e;
  return 0;
}

ks_engine *ks_testkit_engine(ks_testkit *tk) {
  return tk->e;
}

static void tk_plugin_clear(tk_plugin *p) {
  free(p->path);
  free(p->topic);
  for (size_t j = 0; j < p->n_options; j++) {
    free((char *)p->options[j].key);
    free((char *)p->options[j].value);
  }
  free(p->options);
}

static void tk_plugins_free(ks_testkit *tk) {
  for (size_t i = 0; i < tk->n_plugins; i++)
    tk_plugin_clear(&tk->plugins[i]);
  free(tk->plugins);
}

void ks_testkit_free(ks_testkit *tk) {
  if (tk == NULL)
    return;
  if (tk->owns_engine)
    ks_engine_free(tk->e);
  tk_plugins_free(tk);
  free(tk->tasks);
  free(tk->res);
  free(tk);
}

int ks_testkit_add_plugin(ks_testkit *tk, const char *path, const char *output_topic,
                          const ks_testkit_kv *options, size_t n_options, char *errstr,
                          size_t errstr_size) {
  if (!tk->owns_engine) {
    snprintf(errstr, errstr_size, "testkit: an attached engine's plugins are its owner's");
    return KS_EINVAL;
  }
  for (size_t i = 0; i < n_options; i++)
    if (options[i].key == NULL || options[i].value == NULL) {
      snprintf(errstr, errstr_size, "%s: option %zu has no %s", path, i,
               options[i].key ? "value" : "key");
      return KS_EINVAL;
    }
  tk_plugin *ps = realloc(tk->plugins, (tk->n_plugins + 1) * sizeof *ps);
  if (ps == NULL) {
    snprintf(errstr, errstr_size, "testkit: out of memory loading %s", path);
    return KS_ENOMEM;
  }
  tk->plugins = ps;
  tk_plugin *p = &ps[tk->n_plugins];
  memset(p, 0, sizeof *p);
  p->path = strdup(path);
  p->topic = output_topic ? strdup(output_topic) : NULL;
  p->options = n_options ? calloc(n_options, sizeof *p->options) : NULL;
  int oom = p->path == NULL || (output_topic && p->topic == NULL) || (n_options && !p->options);
  for (size_t i = 0; !oom && i < n_options; i++) {
    p->options[i].key = strdup(options[i].key);
    p->options[i].value = strdup(options[i].value);
    p->n_options = i + 1;
    oom = p->options[i].key == NULL || p->options[i].value == NULL;
  }
  int rc = oom ? KS_ENOMEM
               : ks_engine_add_plugin(tk->e, p->path, p->topic, p->options, p->n_options, errstr,
                                      errstr_size);
  if (rc == KS_ENOMEM && oom)
    snprintf(errstr, errstr_size, "testkit: out of memory loading %s", path);
  if (rc != 0)
    tk_plugin_clear(p);
  else
    tk->n_plugins++;
  return rc;
}

/* Open `task` in the engine the first time an event goes to it. */
static int tk_task(ks_testkit *tk, int32_t task) {
  if (ks_engine_task_exists(tk->e, task))
    return 0;
  int32_t *ts = realloc(tk->tasks, (tk->n_tasks + 1) * sizeof *ts);
  if (ts == NULL)
    return KS_ENOMEM;
  tk->tasks = ts;
  int rc = ks_engine_task_open(tk->e, task);
  if (rc == 0)
    ts[tk->n_tasks++] = task;
  return rc;
}

int ks_testkit_feed_bytes(ks_testkit *tk, int32_t task, uint32_t topic_index, int64_t offset,
                          const void *buf, size_t len) {
  tk->reason[0] = '\0';
  int rc = tk_task(tk, task);
  if (rc != 0)
    return rc;
  return ks_engine_process(tk->e, task, topic_index, offset, buf, len, tk->reason,
                           sizeof tk->reason);
}

int ks_testkit_feed_to(ks_testkit *tk, int32_t task, uint32_t topic_index,
                       const Kpistream__V1__Event *ev) {
  size_t n = kpistream__v1__event__get_packed_size(ev);
  uint8_t stack[4096];
  uint8_t *buf = n <= sizeof stack ? stack : malloc(n);
  if (buf == NULL)
    return KS_ENOMEM;
  ks_tk_pack(ev, buf, n);
  int rc = ks_testkit_feed_bytes(tk, task, topic_index, ev->event_time_ms, buf, n);
  if (buf != stack)
    free(buf);
  return rc;
}

int ks_testkit_feed(ks_testkit *tk, const Kpistream__V1__Event *ev) {
  return ks_testkit_feed_to(tk, 0, 0, ev);
}

const char *ks_testkit_reason(const ks_testkit *tk) {
  return tk->reason;
}

int ks_testkit_advance_to(ks_testkit *tk, int32_t task, int64_t watermark_ms) {
  if (!tk->owns_engine || !ks_engine_task_exists(tk->e, task))
    return KS_EINVAL;
  int64_t seen = INT64_MIN; /* the task's highest event time */
  for (uint32_t i = 0; i < tk->eo.n_topics; i++) {
    int64_t t = ks_engine_partition_time(tk->e, task, i);
    if (t > seen)
      seen = t;
  }
  if (seen == INT64_MIN)
    return KS_EINVAL;
  if (ks_engine_watermark(tk->e, task) >= watermark_ms)
    return 0;
  /* a quiet input moves the watermark to seen + quiet - lateness */
  int64_t quiet = watermark_ms - seen + tk->eo.lateness_ms;
  if (quiet > 0)
    ks_engine_idle_advance(tk->e, task, quiet);
  return 0;
}

int ks_testkit_flush(ks_testkit *tk) {
  int rc = ks_engine_flush_all(tk->e);
  if (rc != 0) {
    tk_set_error(tk, "closing every interval failed: %d", rc);
    return rc;
  }
  return tk->errors ? KS_EPLUGIN : 0;
}

const char *ks_testkit_error(const ks_testkit *tk) {
  return tk->error;
}

uint64_t ks_testkit_plugin_errors(const ks_testkit *tk) {
  return tk->errors;
}

const ks_testkit_result *ks_testkit_results(const ks_testkit *tk, size_t *n) {
  *n = tk->n_res;
  return tk->n_res ? tk->res : NULL;
}

size_t ks_testkit_result_count(const ks_testkit *tk) {
  return tk->n_res;
}

const ks_testkit_result *ks_testkit_result_at(const ks_testkit *tk, size_t i) {
  return i < tk->n_res ? &tk->res[i] : NULL;
}

void ks_testkit_clear_results(ks_testkit *tk) {
  tk->n_res = 0;
}

int ks_testkit_restart(ks_testkit *tk, char *errstr, size_t errstr_size) {
  if (!tk->owns_engine) {
    snprintf(errstr, errstr_size, "testkit: an attached engine restarts with its owner");
    return KS_EINVAL;
  }
  size_t n = tk->n_tasks * tk->n_plugins;
  uint8_t **snap = calloc(n ? n : 1, sizeof *snap);
  size_t *len = calloc(n ? n : 1, sizeof *len);
  int rc = 0;
  if (snap == NULL || len == NULL) {
    snprintf(errstr, errstr_size, "testkit: out of memory for %zu snapshots", n);
    rc = KS_ENOMEM;
    goto out;
  }
  for (size_t t = 0; t < tk->n_tasks && rc == 0; t++)
    for (size_t p = 0; p < tk->n_plugins && rc == 0; p++) {
      rc = ks_engine_snapshot(tk->e, tk->tasks[t], p, &snap[t * tk->n_plugins + p],
                              &len[t * tk->n_plugins + p]);
      if (rc != 0)
        snprintf(errstr, errstr_size, "testkit: snapshot of task %" PRId32 ", plugin %zu (%s): %d",
                 tk->tasks[t], p, tk->plugins[p].path, rc);
    }
  if (rc != 0)
    goto out;
  ks_engine_free(tk->e);
  tk->e = NULL;
  tk->errors = 0;
  tk->error[0] = '\0';
  rc = tk_engine_new(tk, errstr, errstr_size);
  for (size_t p = 0; p < tk->n_plugins && rc == 0; p++) {
    const tk_plugin *pl = &tk->plugins[p];
    rc = ks_engine_add_plugin(tk->e, pl->path, pl->topic, pl->options, pl->n_options, errstr,
                              errstr_size);
  }
  for (size_t t = 0; t < tk->n_tasks && rc == 0; t++)
    for (size_t p = 0; p < tk->n_plugins && rc == 0; p++) {
      char err[256];
      rc = ks_engine_restore(tk->e, tk->tasks[t], p, snap[t * tk->n_plugins + p],
                             len[t * tk->n_plugins + p], err, sizeof err);
      if (rc != 0)
        snprintf(errstr, errstr_size, "testkit: restore of task %" PRId32 ", plugin %zu (%s): %s",
                 tk->tasks[t], p, tk->plugins[p].path, err);
    }
out:
  for (size_t i = 0; snap && i < n; i++)
    free(snap[i]);
  free(snap);
  free(len);
  return rc;
}
