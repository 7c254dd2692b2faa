#include "ops.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <yaml.h>

#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "runner_internal.h"

/* ---- where the plugins are ---------------------------------------------- */

char *ks_ops_default_plugin_dir(void) {
  char exe[PATH_MAX];
  size_t n = sizeof exe;
  if (uv_exepath(exe, &n) == 0) {
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';
      char dir[PATH_MAX + sizeof KS_PLUGIN_DIR_FROM_BIN + 1];
      snprintf(dir, sizeof dir, "%s/%s", exe, KS_PLUGIN_DIR_FROM_BIN);
      struct stat st;
      if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return realpath(dir, NULL);
    }
  }
  return strdup(KS_PLUGIN_DIR_INSTALL);
}

/* ---- systemd notification protocol -------------------------------------- */

int ks_notify_open(ks_notify *n, const char *sock, const char *wd_usec, const char *wd_pid,
                   char *err, size_t errsz) {
  memset(n, 0, sizeof *n);
  n->fd = -1;
  if (sock == NULL || sock[0] == '\0')
    return 0;
  size_t len = strlen(sock);
  if ((sock[0] != '/' && sock[0] != '@') || len >= sizeof n->addr.sun_path) {
    snprintf(err, errsz, "NOTIFY_SOCKET '%s': not an absolute path or @abstract name", sock);
    return KS_EINVAL;
  }
  n->addr.sun_family = AF_UNIX;
  memcpy(n->addr.sun_path, sock, len);
  if (sock[0] == '@')
    n->addr.sun_path[0] = '\0'; /* abstract namespace */
  n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (sock[0] == '/'));
  if (wd_usec && wd_usec[0]) {
    char *end;
    errno = 0;
    unsigned long long us = strtoull(wd_usec, &end, 10);
    int mine =
        wd_pid == NULL || wd_pid[0] == '\0' || strtoll(wd_pid, NULL, 10) == (long long)getpid();
    if (errno || *end || us == 0) {
      snprintf(err, errsz, "WATCHDOG_USEC '%s': not a positive number of microseconds", wd_usec);
      return KS_EINVAL;
    }
    n->watchdog_usec = mine ? us : 0;
  }
  n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (n->fd < 0) {
    snprintf(err, errsz, "NOTIFY_SOCKET %s: socket: %s", sock, strerror(errno));
    return KS_EINVAL;
  }
  return 0;
}

int ks_notify_send(const ks_notify *n, const char *state) {
  if (n == NULL || n->fd < 0)
    return 0;
  ssize_t w = sendto(n->fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
                     n->addrlen);
  return w < 0 ? -errno : 0;
}

void ks_notify_close(ks_notify *n) {
  if (n->fd >= 0)
    close(n->fd);
  n->fd = -1;
}

/* ---- configuration keys, flattened (reload) ----------------------------- */

typedef struct flat {
  char *s;
  size_t len, cap;
  int oom;
} flat;

static void flat_put(flat *f, const char *a, size_t n) {
  if (f->oom)
    return;
  if (f->len + n + 1 > f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 1024;
    while (cap < f->len + n + 1)
      cap *= 2;
    char *s = realloc(f->s, cap);
    if (s == NULL) {
      f->oom = 1;
      return;
    }
    f->s = s;
    f->cap = cap;
  }
  memcpy(f->s + f->len, a, n);
  f->len += n;
  f->s[f->len] = '\0';
}

static void flatten(yaml_document_t *d, yaml_node_t *nd, char *path, size_t plen, size_t psz,
                    flat *f, int depth) {
  if (nd == NULL || depth > 32)
    return;
  if (nd->type == YAML_SCALAR_NODE) {
    flat_put(f, path, plen);
    flat_put(f, "=", 1);
    /* one line per key: a newline in a value would split it */
    for (size_t i = 0; i < nd->data.scalar.length; i++) {
      char ch = (char)nd->data.scalar.value[i];
      flat_put(f, ch == '\n' ? "\\n" : &ch, ch == '\n' ? 2 : 1);
    }
    flat_put(f, "\n", 1);
  } else if (nd->type == YAML_SEQUENCE_NODE) {
    size_t i = 0;
    for (yaml_node_item_t *it = nd->data.sequence.items.start; it < nd->data.sequence.items.top;
         it++, i++) {
      int n = snprintf(path + plen, psz - plen, "[%zu]", i);
      if (n > 0 && (size_t)n < psz - plen)
        flatten(d, yaml_document_get_node(d, *it), path, plen + (size_t)n, psz, f, depth + 1);
    }
    if (i == 0) {
      flat_put(f, path, plen);
      flat_put(f, "=[]\n", 4);
    }
  } else if (nd->type == YAML_MAPPING_NODE) {
    for (yaml_node_pair_t *p = nd->data.mapping.pairs.start; p < nd->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(d, p->key);
      if (k == NULL || k->type != YAML_SCALAR_NODE)
        continue;
      int n = snprintf(path + plen, psz - plen, "%s%s", plen ? "." : "",
                       (const char *)k->data.scalar.value);
      if (n > 0 && (size_t)n < psz - plen)
        flatten(d, yaml_document_get_node(d, p->value), path, plen + (size_t)n, psz, f, depth + 1);
    }
  }
  path[plen] = '\0';
}

char *ks_ops_flatten_yaml(const char *text, size_t len, char *err, size_t errsz) {
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) {
    snprintf(err, errsz, "out of memory");
    return NULL;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    snprintf(err, errsz, "YAML error at line %zu: %s", parser.problem_mark.line + 1,
             parser.problem ? parser.problem : "unknown problem");
    yaml_parser_delete(&parser);
    return NULL;
  }
  flat f = {0};
  flat_put(&f, "", 0);
  char path[1024] = "";
  flatten(&doc, yaml_document_get_root_node(&doc), path, 0, sizeof path, &f, 0);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (f.oom || f.s == NULL) {
    free(f.s);
    snprintf(err, errsz, "out of memory");
    return NULL;
  }
  return f.s;
}

/* The value line of key in flat ("key=value\n"), or NULL. */
static const char *flat_find(const char *flat_s, const char *key, size_t klen) {
  for (const char *l = flat_s; l && *l;) {
    const char *eq = strchr(l, '=');
    const char *nl = strchr(l, '\n');
    if (eq && nl && eq < nl && (size_t)(eq - l) == klen && memcmp(l, key, klen) == 0)
      return l;
    l = nl ? nl + 1 : NULL;
  }
  return NULL;
}

static int same_line(const char *a, const char *b) {
  const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
  return ea - a == eb - b && memcmp(a, b, (size_t)(ea - a)) == 0;
}

static size_t diff_into(const char *from, const char *to, char *out, size_t outsz, size_t *used,
                        int added_only) {
  size_t n = 0;
  for (const char *l = from; l && *l;) {
    const char *eq = strchr(l, '=');
    const char *nl = strchr(l, '\n');
    if (eq == NULL || nl == NULL || eq > nl)
      break;
    const char *other = flat_find(to, l, (size_t)(eq - l));
    if (added_only ? other == NULL : (other == NULL || !same_line(l, other))) {
      n++;
      int w = snprintf(out + *used, outsz - *used, "%.*s\n", (int)(eq - l), l);
      if (w > 0 && (size_t)w < outsz - *used)
        *used += (size_t)w;
    }
    l = nl + 1;
  }
  return n;
}

size_t ks_ops_changed_keys(const char *old_flat, const char *new_flat, char *out, size_t outsz) {
  size_t used = 0;
  if (outsz)
    out[0] = '\0';
  size_t n = diff_into(old_flat, new_flat, out, outsz, &used, 0); /* changed or removed */
  n += diff_into(new_flat, old_flat, out, outsz, &used, 1);       /* added */
  return n;
}

/* ---- the runner's side -------------------------------------------------- */

typedef struct ks_ops {
  ks_http *http;
  ks_notify notify;
  uv_timer_t tick;
  uv_signal_t sighup;
  char *config_path;
  char *flat; /* the configuration file's keys as running (ks_ops_flatten_yaml) */
  int assigned, ready_sent, stopping;
  uint64_t tick_ms;
  double start_unix_s;
  uint64_t last_commits, last_checkpoints;
  uint64_t last_commit_ms, last_checkpoint_ms; /* loop time of the last seen change */
  uint64_t last_lag_log_ms;                    /* loop time of the last lag line */
} ks_ops;

#define OPS(r) ((ks_ops *)(r)->ops)

static void olog(runner *r, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void olog(runner *r, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ks_logv(r->cfg.log_level, level, "ops", fmt, ap);
  va_end(ap);
}

static int is_ready(runner *r, const char **why) {
  ks_ops *o = OPS(r);
  *why = o->stopping || r->stopping ? "stopping"
         : r->exit_code != 0        ? "failed: stopping with an error"
         : r->consumer && ks_consumer_brokers_down(r->consumer)
             ? "broker unreachable: the consumer reaches no broker"
         : r->producer && ks_producer_brokers_down(r->producer)
             ? "broker unreachable: the producer reaches no broker"
         : !o->assigned ? "waiting for the consumer group's assignment and restore"
                        : NULL;
  return *why == NULL;
}

static void u64(ks_metrics *m, const char *name, const char *type, const char *help, uint64_t v) {
  ks_metrics_one_u64(m, name, type, help, v);
}

/* See ops.h (ks_ops_partition_lag): the lag of an assigned partition. */
static int part_lag(runner *r, const ks_merge_part *ps, int64_t *lag) {
  rd_kafka_t *rk = r->consumer ? ks_consumer_handle(r->consumer) : NULL;
  if (rk == NULL || !ps->assigned)
    return 0;
  const char *topic = r->cfg.topics[ps->topic];
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  if (l == NULL)
    return 0;
  rd_kafka_topic_partition_list_add(l, topic, ps->partition);
  int64_t lo = -1, hi = -1, pos = -1;
  if (rd_kafka_position(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR)
    pos = l->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(l);
  if (rd_kafka_get_watermark_offsets(rk, topic, ps->partition, &lo, &hi) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      hi < 0 || (pos < 0 && hi != lo))
    return 0;
  *lag = pos >= 0 && hi > pos ? hi - pos : 0;
  return 1;
}

int ks_ops_partition_lag(runner *r, size_t i, int64_t *lag) {
  return part_lag(r, &r->merge.parts[i], lag);
}

static double wall_now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec * 1000.0 + (double)tv.tv_usec / 1000.0;
}

/* Wall clock minus the task's event-time watermark, in seconds; 1 when the
 * task exists and has a watermark. */
static int task_watermark_lag(runner *r, int32_t task, double wall_ms, double *lag_s) {
  if (r->engine == NULL || !ks_engine_task_exists(r->engine, task))
    return 0;
  int64_t wm = ks_engine_watermark(r->engine, task);
  if (wm <= 0 || wm == INT64_MAX)
    return 0;
  *lag_s = (wall_ms - (double)wm) / 1000.0;
  return 1;
}

/* Every stats_interval, next to the runner's stats line: the consumer lag
 * (total, and the partition furthest behind) and the largest watermark lag. */
static void log_lag(runner *r) {
  int64_t total = 0, worst = -1;
  const ks_merge_part *at = NULL;
  size_t n = r->io ? (size_t)r->n_partitions * r->cfg.n_topics : 0;
  for (size_t i = 0; i < n; i++) {
    int64_t lag;
    if (part_lag(r, &r->merge.parts[i], &lag)) {
      total += lag;
      if (lag > worst) {
        worst = lag;
        at = &r->merge.parts[i];
      }
    }
  }
  double wall_ms = wall_now_ms(), wm_worst = -1;
  int32_t wm_task = -1;
  for (int32_t p = 0; p < r->n_partitions; p++) {
    double s;
    if (task_watermark_lag(r, p, wall_ms, &s) && s > wm_worst) {
      wm_worst = s;
      wm_task = p;
    }
  }
  char wm[64] = "no watermark yet";
  if (wm_task >= 0)
    snprintf(wm, sizeof wm, "%.0f s (task %d)", wm_worst, wm_task);
  if (at)
    olog(r, KS_LOG_INFO,
         "consumer lag %" PRId64 " messages (most: %" PRId64 " on %s [%d]), watermark lag %s",
         total, worst, r->cfg.topics[at->topic], at->partition, wm);
  else
    olog(r, KS_LOG_INFO, "consumer lag unknown (nothing fetched yet), watermark lag %s", wm);
}

/* kpistream_events_consumed_total{topic}: every input topic of the
 * configuration, 0 before the engine exists. */
static void by_input_topic(runner *r, ks_metrics *m) {
  size_t n = r->cfg.n_topics;
  uint64_t *counts = calloc(n ? n : 1, sizeof *counts);
  if (counts == NULL) {
    m->error = KS_ENOMEM;
    return;
  }
  for (size_t i = 0; r->engine && i < n; i++)
    counts[i] = ks_engine_topic_events(r->engine, (uint32_t)i);
  ks_metrics_u64_by(m, "kpistream_events_consumed_total", KS_METRIC_COUNTER,
                    "Input events read from Kafka, per input topic.", "topic",
                    (const char *const *)r->cfg.topics, counts, n);
  free(counts);
}

/* kpistream_plugin_errors_total{plugin} (instance names) and
 * kpistream_results_produced_total{topic}: each plugin's topic (0 until its
 * first result), then the emit_to topics results went to. */
static void by_plugin_and_output(runner *r, ks_metrics *m) {
  size_t np = r->engine ? ks_engine_plugin_count(r->engine) : 0, no = 0;
  uint64_t res;
  while (r->engine && ks_engine_output_topic(r->engine, no, &res))
    no++;
  const char **names = calloc(np + no + 1, sizeof *names);
  uint64_t *counts = calloc(np + no + 1, sizeof *counts);
  if (names == NULL || counts == NULL) {
    free(names);
    free(counts);
    m->error = KS_ENOMEM;
    return;
  }
  for (size_t i = 0; i < np; i++) {
    names[i] = ks_engine_plugin_name(r->engine, i);
    counts[i] = ks_engine_plugin_failures(r->engine, i);
  }
  ks_metrics_u64_by(m, "kpistream_plugin_errors_total", KS_METRIC_COUNTER,
                    "Plugin callbacks that returned an error, per plugin instance.", "plugin",
                    names, counts, np);
  for (size_t i = 0; i < np; i++)
    counts[i] = ks_engine_plugin_state_bytes(r->engine, i);
  ks_metrics_u64_by(m, "kpistream_plugin_state_bytes", KS_METRIC_GAUGE,
                    "Bytes of plugin state (all tasks), per plugin instance.", "plugin", names,
                    counts, np);
  size_t n = 0;
  for (size_t i = 0; i < np + no; i++) {
    const char *t = i < np ? ks_engine_plugin_topic(r->engine, i)
                           : ks_engine_output_topic(r->engine, i - np, &res);
    size_t k = 0;
    while (k < n && strcmp(names[k], t) != 0)
      k++;
    if (k == n) {
      names[n] = t;
      counts[n++] = 0;
    }
    if (i >= np)
      counts[k] = res;
  }
  ks_metrics_u64_by(m, "kpistream_results_produced_total", KS_METRIC_COUNTER,
                    "Results produced, per output topic.", "topic", names, counts, n);
  free(names);
  free(counts);
}

static void render_metrics(runner *r, ks_metrics *m) {
  ks_ops *o = OPS(r);
  ks_engine_stats st = {0};
  if (r->engine)
    ks_engine_get_stats(r->engine, &st);
  const char *C = KS_METRIC_COUNTER, *G = KS_METRIC_GAUGE;
  ks_metrics_family(m, "kpistream_build_info", G, "Version of the running binary (value 1).");
  const char *ver[] = {"version", KS_VERSION, NULL};
  ks_metrics_u64(m, "kpistream_build_info", ver, 1);
  const char *why;
  u64(m, "kpistream_ready", G, "1 when /readyz answers 200.", (uint64_t)is_ready(r, &why));
  by_input_topic(r, m);
  u64(m, "kpistream_events_dispatched_total", C, "Input events passed to at least one plugin.",
      st.events_dispatched);
  const char *reasons[] = {"invalid", "future_time"};
  uint64_t refused[] = {st.events_rejected - st.events_future, st.events_future};
  ks_metrics_u64_by(m, "kpistream_events_rejected_total", C,
                    "Input messages refused, by reason: invalid (undecodable, schema-invalid), "
                    "future_time (beyond intervals.max_future_skew).",
                    "reason", reasons, refused, 2);
  u64(m, "kpistream_events_late_total", C,
      "Events beyond the restatement horizon (to the dead-letter topic).", st.events_late);
  u64(m, "kpistream_events_restated_total", C,
      "Late events within the restatement horizon (their interval restated).", st.events_restated);
  u64(m, "kpistream_events_misrouted_total", C,
      "Events on a partition their tenant does not map to.", st.events_misrouted);
  u64(m, "kpistream_dead_letters_total", C, "Messages produced to the dead-letter topic.",
      r->dlq_sent);
  u64(m, "kpistream_dead_letters_truncated_total", C, "Dead letters cut to fit message.max.bytes.",
      r->dlq_truncated);
  by_plugin_and_output(r, m);
  u64(m, "kpistream_delivery_failures_total", C,
      "Messages the broker did not acknowledge (the run stops without committing past them).",
      r->delivery_errors);
  u64(m, "kpistream_intervals_closed_total", C, "Intervals closed (all tasks).",
      st.intervals_closed);
  u64(m, "kpistream_restatements_total", C, "Intervals re-closed with a higher revision.",
      st.restatements);
  u64(m, "kpistream_commits_total", C, "Input offset commits.", r->commits);
  u64(m, "kpistream_checkpoints_total", C, "Checkpoints written (all tasks).", r->checkpoints);
  u64(m, "kpistream_restores_total", C, "Tasks restored from a checkpoint.", r->restores);
  u64(m, "kpistream_transactions_total", C, "Kafka transactions committed.", r->txn_commits);
  u64(m, "kpistream_transactions_aborted_total", C, "Kafka transactions aborted.", r->txn_aborts);
  u64(m, "kpistream_budget_pauses_total", C, "Times state.memory_budget paused the input.",
      r->budget.pauses);
  uint64_t now = uv_now(&r->loop);
  ks_metrics_one_f64(m, "kpistream_last_commit_age_seconds", G,
                     "Seconds since the commit count last grew (since start before the first).",
                     (double)(now - o->last_commit_ms) / 1000.0);
  ks_metrics_one_f64(m, "kpistream_last_checkpoint_age_seconds", G,
                     "Seconds since the checkpoint count last grew (since start before the first).",
                     (double)(now - o->last_checkpoint_ms) / 1000.0);
  u64(m, "kpistream_assigned_partitions", G, "Input partitions assigned to this instance.",
      r->n_assigned);
  uint64_t paused = 0;
  size_t total = r->io ? (size_t)r->n_partitions * r->cfg.n_topics : 0;
  for (size_t i = 0; i < total; i++)
    paused += r->merge.parts[i].assigned && r->io[i].kafka_paused;
  u64(m, "kpistream_paused_partitions", G, "Assigned input partitions paused (buffer or budget).",
      paused);
  u64(m, "kpistream_buffered_messages", G, "Input messages buffered for the event-time merge.",
      ks_merge_buffered(&r->merge));
  u64(m, "kpistream_state_bytes", G, "Bytes of plugin state (all tasks and plugins).",
      r->engine ? ks_engine_state_bytes(r->engine) : 0);
  u64(m, "kpistream_producer_queue_messages", G, "Messages produced, not yet acknowledged.",
      r->producer ? (uint64_t)ks_producer_outq_len(r->producer) : 0);
  ks_metrics_family(m, "kpistream_consumer_lag_messages", G,
                    "High watermark minus position, per assigned input partition.");
  for (size_t i = 0; i < total; i++) {
    int64_t lag;
    if (!part_lag(r, &r->merge.parts[i], &lag))
      continue;
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%d", r->merge.parts[i].partition);
    const char *lab[] = {"topic", r->cfg.topics[r->merge.parts[i].topic], "partition", pbuf, NULL};
    ks_metrics_u64(m, "kpistream_consumer_lag_messages", lab, (uint64_t)lag);
  }
  ks_metrics_family(m, "kpistream_watermark_lag_seconds", G,
                    "Wall clock minus the task's event-time watermark, per assigned task.");
  double wall_ms = wall_now_ms();
  for (int32_t p = 0; p < r->n_partitions; p++) {
    double lag_s;
    if (!task_watermark_lag(r, p, wall_ms, &lag_s))
      continue;
    char tbuf[16];
    snprintf(tbuf, sizeof tbuf, "%d", p);
    const char *lab[] = {"task", tbuf, NULL};
    ks_metrics_f64(m, "kpistream_watermark_lag_seconds", lab, lag_s);
  }
  /* the process */
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    ks_metrics_one_f64(m, "kpistream_process_cpu_seconds_total", C,
                       "User and system CPU time of the process.",
                       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  size_t rss = 0;
  if (uv_resident_set_memory(&rss) == 0)
    u64(m, "kpistream_process_resident_memory_bytes", G, "Resident set size of the process.",
        (uint64_t)rss);
  ks_metrics_one_f64(m, "kpistream_process_start_time_seconds", G,
                     "Start time of the process since the Unix epoch.", o->start_unix_s);
}

static void publish(runner *r) {
  ks_ops *o = OPS(r);
  if (o->http == NULL)
    return;
  ks_metrics m;
  ks_metrics_init(&m);
  render_metrics(r, &m);
  const char *bad;
  if (ks_metrics_error(&m, &bad) == 0)
    ks_http_publish(o->http, KS_HTTP_METRICS, 200, KS_METRICS_CONTENT_TYPE, m.buf, m.len);
  else
    olog(r, KS_LOG_ERROR, "metrics: cannot render '%s' (%d); /metrics keeps its last page", bad,
         m.error);
  ks_metrics_free(&m);
  const char *why;
  char body[512];
  int ok = is_ready(r, &why);
  int n =
      ok ? snprintf(body, sizeof body, "{\"status\":\"ready\",\"assigned_partitions\":%zu}\n",
                    r->n_assigned)
         : snprintf(body, sizeof body,
                    "{\"status\":\"not ready\",\"reason\":\"%s\",\"assigned_partitions\":%zu}\n",
                    why, r->n_assigned);
  ks_http_publish(o->http, KS_HTTP_READYZ, ok ? 200 : 503, "application/json", body, (size_t)n);
}

static void on_tick(uv_timer_t *t) {
  runner *r = t->data;
  ks_ops *o = OPS(r);
  uint64_t now = uv_now(&r->loop);
  if (r->commits != o->last_commits) {
    o->last_commits = r->commits;
    o->last_commit_ms = now;
  }
  if (r->checkpoints != o->last_checkpoints) {
    o->last_checkpoints = r->checkpoints;
    o->last_checkpoint_ms = now;
  }
  if (r->cfg.stats_interval_ms > 0 && r->n_assigned &&
      now - o->last_lag_log_ms >= (uint64_t)r->cfg.stats_interval_ms) {
    o->last_lag_log_ms = now;
    log_lag(r);
  }
  ks_http_heartbeat(o->http, ks_http_now_ms());
  if (o->notify.watchdog_usec)
    ks_notify_send(&o->notify, "WATCHDOG=1");
  publish(r);
}

/* The whole file (at most 16 MiB, as config.c reads it), or NULL with the
 * reason in err. */
static char *slurp(const char *path, size_t *len, char *err, size_t errsz) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = NULL;
  long sz = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && sz <= (16L << 20) &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)sz + 1)) != NULL) {
    *len = fread(buf, 1, (size_t)sz, f);
    if (ferror(f)) {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  if (buf == NULL)
    snprintf(err, errsz, "%s: cannot read it (or larger than 16 MiB)", path);
  return buf;
}

/* SIGHUP: validate the file as a whole (as run does at start), then compare
 * its keys with the running file's; apply only when every changed key can
 * change at run time. */
static const char *const reloadable[] = {"log_level", "stats_interval", "shutdown.timeout", NULL};

/* Keys only the engine uses: a change rebuilds it (reload.c). */
static int engine_key(const char *k) {
  return strncmp(k, "plugins[", 8) == 0 || strcmp(k, "plugins") == 0 ||
         (strncmp(k, "intervals.", 10) == 0 && strcmp(k, "intervals.length") != 0);
}

static void reload(runner *r) {
  ks_ops *o = OPS(r);
  char err[RUN_ERRSZ];
  ks_config next;
  size_t len = 0;
  char *text = slurp(o->config_path, &len, err, sizeof err);
  /* validated exactly as at start; one read, so both views are of one file */
  if (text == NULL ||
      ks_config_load_string(&next, text, len, o->config_path, err, sizeof err) != 0) {
    olog(r, KS_LOG_ERROR, "reload refused: %s; still running the previous configuration", err);
    free(text);
    return;
  }
  char *flat_new = ks_ops_flatten_yaml(text, len, err, sizeof err);
  free(text);
  if (flat_new == NULL) {
    olog(r, KS_LOG_ERROR, "reload refused: %s: %s; still running the previous configuration",
         o->config_path, err);
    ks_config_free(&next);
    return;
  }
  char changed[4096];
  size_t n = ks_ops_changed_keys(o->flat, flat_new, changed, sizeof changed);
  char refused[2048] = "";
  size_t nref = 0, used = 0;
  int rebuild = 0;
  for (char *k = changed; *k;) {
    char *nl = strchr(k, '\n');
    *nl = '\0';
    int ok = 0;
    for (const char *const *s = reloadable; *s; s++)
      ok |= strcmp(*s, k) == 0;
    if (engine_key(k))
      ok = rebuild = 1;
    /* stats_interval can change, or turn off, but not turn on: its timer is the runner's */
    if (ok && strcmp(k, "stats_interval") == 0 && r->cfg.stats_interval_ms == 0 &&
        next.stats_interval_ms > 0)
      ok = 0;
    if (!ok) {
      int w = snprintf(refused + used, sizeof refused - used, "%s'%s'", nref ? ", " : "", k);
      if (w > 0 && (size_t)w < sizeof refused - used)
        used += (size_t)w;
      nref++;
    }
    *nl = '\n';
    k = nl + 1;
  }
  if (nref) {
    olog(r, KS_LOG_ERROR,
         "reload refused: %s: %s changed, which takes a restart (only log_level, stats_interval, "
         "shutdown.timeout, plugins and intervals but intervals.length change at run time); "
         "nothing applied, still "
         "running the previous configuration",
         o->config_path, refused);
    free(flat_new);
    ks_config_free(&next);
    return;
  }
  if (rebuild && ks_runner_reload_engine(r, &next, err, sizeof err) != 0) {
    olog(r, KS_LOG_ERROR,
         "reload refused: %s: the engine cannot be rebuilt from it: %s; nothing applied, still "
         "running the previous configuration",
         o->config_path, err);
    free(flat_new);
    ks_config_free(&next);
    return;
  }
  int old_level = r->cfg.log_level;
  r->cfg.log_level = next.log_level;
  if (r->engine)
    ks_engine_set_log_level(r->engine, next.log_level);
  if (next.stats_interval_ms != r->cfg.stats_interval_ms) {
    r->cfg.stats_interval_ms = next.stats_interval_ms;
    if (next.stats_interval_ms == 0)
      uv_timer_stop(&r->stats_timer);
    else {
      uv_timer_set_repeat(&r->stats_timer, (uint64_t)next.stats_interval_ms);
      uv_timer_again(&r->stats_timer);
    }
  }
  r->cfg.shutdown_timeout_ms = next.shutdown_timeout_ms;
  free(o->flat);
  o->flat = flat_new;
  ks_config_free(&next);
  /* logged at the more verbose of the two levels, so that it shows either way */
  int lv = old_level > r->cfg.log_level ? old_level : r->cfg.log_level;
  for (char *c = changed; *c; c++)
    if (*c == '\n')
      *c = c[1] ? ',' : '\0';
  ks_log(lv, KS_LOG_INFO, "ops", "reloaded %s: %zu keys changed%s%s", o->config_path, n,
         n ? ": " : "", changed);
}

static void on_sighup(uv_signal_t *s, int signum) {
  (void)signum;
  reload(s->data);
}

/* A second stop signal: the first one's stop is bounded, but the operator
 * wants out now. Async-signal-safe: write(2) and _exit(2) only. */
static void on_second_signal(int sig) {
  static const char msg[] = "kpistream: second stop signal: exiting at once (status 1); results "
                            "after the last committed checkpoint are computed again on restart\n";
  (void)sig;
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)w;
  _exit(1);
}

int ks_ops_start(runner *r, const char *config_path, int check_only, char *err, size_t errsz) {
  if (check_only)
    return 0;
  ks_ops *o = calloc(1, sizeof *o);
  if (o == NULL || (o->config_path = strdup(config_path)) == NULL) {
    free(o);
    snprintf(err, errsz, "out of memory");
    return KS_ENOMEM;
  }
  r->ops = o;
  o->notify.fd = -1;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  o->start_unix_s = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  o->last_commit_ms = o->last_checkpoint_ms = o->last_lag_log_ms = uv_now(&r->loop);
  size_t len = 0;
  char *text = slurp(config_path, &len, err, errsz);
  o->flat = text ? ks_ops_flatten_yaml(text, len, err, errsz) : NULL;
  free(text);
  if (o->flat == NULL)
    return KS_ECONFIG;
  int rc = ks_notify_open(&o->notify, getenv("NOTIFY_SOCKET"), getenv("WATCHDOG_USEC"),
                          getenv("WATCHDOG_PID"), err, errsz);
  if (rc != 0)
    return rc;
  if (r->cfg.http_listen) {
    ks_http_limits lim = {0};
    if (o->notify.watchdog_usec) /* liveness fails before systemd's watchdog fires */
      lim.stall_ms = o->notify.watchdog_usec / 1000;
    if ((rc = ks_http_start(&o->http, r->cfg.http_listen, &lim, err, errsz)) != 0)
      return rc;
    olog(r, KS_LOG_INFO, "http: serving /metrics, /healthz, /readyz on %s (port %u)",
         r->cfg.http_listen, (unsigned)ks_http_port(o->http));
  }
  /* the tick feeds the watchdog at least twice per WatchdogSec */
  o->tick_ms = 1000;
  if (o->notify.watchdog_usec && o->notify.watchdog_usec / 2000 < o->tick_ms)
    o->tick_ms = o->notify.watchdog_usec / 2000 ? o->notify.watchdog_usec / 2000 : 1;
  uv_timer_init(&r->loop, &o->tick);
  o->tick.data = r;
  uv_timer_start(&o->tick, on_tick, 0, o->tick_ms);
  uv_signal_init(&r->loop, &o->sighup);
  o->sighup.data = r;
  uv_signal_start(&o->sighup, on_sighup, SIGHUP);
  return 0;
}

void ks_ops_assigned(runner *r) {
  ks_ops *o = OPS(r);
  if (o == NULL)
    return;
  o->assigned = 1;
  const char *why;
  if (!o->ready_sent && is_ready(r, &why)) {
    o->ready_sent = 1;
    ks_notify_send(&o->notify, "READY=1\nSTATUS=processing");
  }
  publish(r);
}

void ks_ops_stopping(runner *r) {
  ks_ops *o = OPS(r);
  if (o == NULL || o->stopping)
    return;
  o->stopping = 1;
  ks_notify_send(&o->notify, "STOPPING=1\nSTATUS=stopping: delivering, checkpointing, committing");
  publish(r);
  /* libuv's watchers only run inside uv_run, and the stop runs outside it:
   * hand SIGINT and SIGTERM to a plain handler for the rest of the stop. */
  uv_signal_stop(&r->sigint);
  uv_signal_stop(&r->sigterm);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_second_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

void ks_ops_free(runner *r) {
  ks_ops *o = OPS(r);
  if (o == NULL)
    return;
  ks_http_stop(o->http);
  ks_notify_close(&o->notify);
  free(o->flat);
  free(o->config_path);
  free(o);
  r->ops = NULL;
}
