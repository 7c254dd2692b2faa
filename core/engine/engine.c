#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "engine_internal.h"
#include "log.h"
#include "result_encoder.h"
#include "str.h"

#define KS_DEFAULT_INTERVAL_MS (15 * 60 * 1000)

void ks_engine_log(const ks_engine *e, int level, const char *component, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ks_logv(e->opts.log_level, level, component, fmt, ap);
  va_end(ap);
}

/* ---- lanes -------------------------------------------------------------- */

static int lane_init(ks_engine *e, ks_engine_lane *l, const ks_engine_lane_options *o) {
  static const ks_engine_lane_options none = {0};
  const ks_engine_options *eo = &e->opts;
  if (o == NULL)
    o = &none;
  l->engine = e;
  l->sink = o->sink ? o->sink : eo->sink;
  l->sink_ud = o->sink ? o->ud : eo->sink_ud;
  l->on_closed = o->on_closed ? o->on_closed : eo->on_closed;
  l->on_closed_ud = o->on_closed ? o->ud : eo->on_closed_ud;
  l->on_plugin_error = o->on_plugin_error ? o->on_plugin_error : eo->on_plugin_error;
  l->on_plugin_error_ud = o->on_plugin_error ? o->ud : eo->on_plugin_error_ud;
  l->own_call = (ks_plugin_call)KS_PLUGIN_CALL_NONE;
  l->call = o->call ? o->call : &l->own_call;
  atomic_init(&l->cur_task, NULL);
  atomic_init(&l->cur_plugin, NULL);
  atomic_init(&l->cur_phase, KS_PHASE_NONE);
  size_t nt = e->opts.n_topics ? e->opts.n_topics : 1;
  l->topic_events = calloc(nt, sizeof *l->topic_events);
  return l->topic_events ? ks_arena_init(&l->arena, 0) : KS_ENOMEM;
}

/* n zeroed bytes on cache lines of their own (free() frees them): lanes and
 * tasks are written all the time by the thread running them, and two of
 * them must not share a line between two threads. */
static void *zalloc_lines(size_t n) {
  size_t size = (n + KS_CACHE_LINE - 1) / KS_CACHE_LINE * KS_CACHE_LINE;
  void *p = aligned_alloc(KS_CACHE_LINE, size);
  if (p)
    memset(p, 0, size);
  return p;
}

static ks_engine_lane *lane_alloc(void) {
  return zalloc_lines(sizeof(ks_engine_lane));
}

static void lane_clear(ks_engine_lane *l) {
  free(l->topic_events);
  for (size_t i = 0; i < l->n_out_topics; i++)
    free(l->out_topics[i].topic);
  free(l->out_topics);
  ks_arena_free(&l->arena);
  free(l->encode_buf);
  free(l->key_buf);
}

int ks_engine_lane_new(ks_engine *e, const ks_engine_lane_options *o, ks_engine_lane **out) {
  *out = NULL;
  if (e->n_lanes == e->cap_lanes) {
    ks_engine_lane **nl = realloc(e->lanes, 2 * e->cap_lanes * sizeof *nl);
    if (nl == NULL)
      return KS_ENOMEM;
    e->lanes = nl;
    e->cap_lanes *= 2;
  }
  ks_engine_lane *l = lane_alloc();
  if (l == NULL)
    return KS_ENOMEM;
  if (lane_init(e, l, o) != 0) {
    lane_clear(l);
    free(l);
    return KS_ENOMEM;
  }
  e->lanes[e->n_lanes++] = l;
  *out = l;
  return 0;
}

static void count_output_n(ks_engine_lane *l, const char *topic, uint64_t n);

/* ks_engine_lane_fold adds the stats up as an array of counters */
_Static_assert(sizeof(ks_engine_stats) % sizeof(uint64_t) == 0, "ks_engine_stats: uint64_t only");

void ks_engine_lane_fold(ks_engine_lane *l) {
  ks_engine_lane *to = l->engine->own;
  if (l == to)
    return;
  const uint64_t *a = (const uint64_t *)&l->stats;
  uint64_t *b = (uint64_t *)&to->stats;
  for (size_t i = 0; i < sizeof l->stats / sizeof *a; i++)
    b[i] += a[i];
  memset(&l->stats, 0, sizeof l->stats);
  for (size_t i = 0; i < l->engine->opts.n_topics; i++) {
    to->topic_events[i] += l->topic_events[i];
    l->topic_events[i] = 0;
  }
  for (size_t i = 0; i < l->n_out_topics; i++) {
    count_output_n(to, l->out_topics[i].topic, l->out_topics[i].results);
    l->out_topics[i].results = 0;
  }
}

void ks_engine_lane_free(ks_engine_lane *l) {
  if (l == NULL || l->own)
    return;
  ks_engine *e = l->engine;
  ks_engine_lane_fold(l);
  for (size_t i = 0; i < e->cap_tasks; i++)
    if (e->tasks[i] && e->tasks[i]->lane == l)
      e->tasks[i]->lane = e->own;
  for (size_t i = 0; i < e->n_lanes; i++)
    if (e->lanes[i] == l) {
      memmove(e->lanes + i, e->lanes + i + 1, (e->n_lanes - i - 1) * sizeof *e->lanes);
      e->n_lanes--;
      break;
    }
  lane_clear(l);
  free(l);
}

ks_engine_lane *ks_engine_lane_at(const ks_engine *e, size_t i) {
  return i < e->n_lanes ? e->lanes[i] : NULL;
}

int ks_engine_task_bind(ks_engine *e, int32_t task, ks_engine_lane *l) {
  if (task < 0 || (size_t)task >= e->cap_tasks || e->tasks[task] == NULL)
    return KS_ENOENT;
  e->tasks[task]->lane = l ? l : e->own;
  return 0;
}

static size_t task_slot(const ks_task *t, size_t cap) {
  return (size_t)(((uint64_t)(uintptr_t)t >> 4) * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (cap - 1);
}

/* Is t one of the open tasks? (Compared, never dereferenced.) */
static int task_known(const ks_engine *e, const ks_task *t) {
  for (size_t i = e->task_set_cap ? task_slot(t, e->task_set_cap) : 0; e->task_set_cap;
       i = (i + 1) & (e->task_set_cap - 1)) {
    if (e->task_set[i] == t)
      return 1;
    if (e->task_set[i] == NULL)
      return 0;
  }
  return 0;
}

/* Rebuild the set after a task opened or closed. 0 or KS_ENOMEM. */
static int task_set_rebuild(ks_engine *e) {
  size_t n = 0;
  for (size_t i = 0; i < e->cap_tasks; i++)
    n += e->tasks[i] != NULL;
  size_t cap = 16;
  while (cap < 2 * n)
    cap *= 2;
  ks_task **set = calloc(cap, sizeof *set);
  if (set == NULL)
    return KS_ENOMEM;
  for (size_t i = 0; i < e->cap_tasks; i++) {
    if (e->tasks[i] == NULL)
      continue;
    size_t k = task_slot(e->tasks[i], cap);
    while (set[k])
      k = (k + 1) & (cap - 1);
    set[k] = e->tasks[i];
  }
  free(e->task_set);
  e->task_set = set;
  e->task_set_cap = cap;
  return 0;
}

ks_engine_lane *ks_engine_lane_running(const ks_engine *e, const ks_task *task) {
  if (task == NULL)
    return NULL;
  if (e->n_lanes == 1) /* one thread: the engine's own lane, one compare */
    return atomic_load_explicit(&e->own->cur_task, memory_order_relaxed) == task
               ? (ks_engine_lane *)e->own
               : NULL;
  /* Several: a task pointer is looked up before it is read; its own lane's
   * record is the caller's own thread's (no other core's cache line). */
  if (!task_known(e, task))
    return NULL;
  ks_engine_lane *l = task->lane;
  return atomic_load_explicit(&l->cur_task, memory_order_relaxed) == task ? l : NULL;
}

/* The lane l runs ctx's callback `phase` for task t now (t NULL: none);
 * returns what it ran before, to put back with lane_leave. */
typedef struct lane_cur {
  ks_task *task;
  ks_plugin_ctx *plugin;
  int phase;
} lane_cur;

static lane_cur lane_enter(ks_engine_lane *l, ks_task *t, ks_plugin_ctx *p, ks_phase phase) {
  lane_cur was = {atomic_load_explicit(&l->cur_task, memory_order_relaxed),
                  atomic_load_explicit(&l->cur_plugin, memory_order_relaxed),
                  atomic_load_explicit(&l->cur_phase, memory_order_relaxed)};
  atomic_store_explicit(&l->cur_task, t, memory_order_relaxed);
  atomic_store_explicit(&l->cur_plugin, p, memory_order_relaxed);
  atomic_store_explicit(&l->cur_phase, (int)phase, memory_order_relaxed);
  return was;
}

static void lane_leave(ks_engine_lane *l, lane_cur was) {
  atomic_store_explicit(&l->cur_task, was.task, memory_order_relaxed);
  atomic_store_explicit(&l->cur_plugin, was.plugin, memory_order_relaxed);
  atomic_store_explicit(&l->cur_phase, was.phase, memory_order_relaxed);
}

int ks_engine_new(ks_engine **out, const ks_engine_options *opts, char *errstr,
                  size_t errstr_size) {
  *out = NULL;
  if (opts == NULL || opts->n_topics == 0 || opts->topics == NULL || opts->sink == NULL) {
    snprintf(errstr, errstr_size, "engine: need at least one input topic and a result sink");
    return KS_EINVAL;
  }
  if (opts->interval_ms < 0 || opts->lateness_ms < 0 || opts->grace_ms < 0 ||
      opts->max_future_skew_ms < 0) {
    snprintf(errstr, errstr_size,
             "engine: interval, lateness, grace and max future skew must not be negative");
    return KS_EINVAL;
  }
  ks_engine *e = calloc(1, sizeof *e);
  if (e == NULL) {
    snprintf(errstr, errstr_size, "engine: out of memory");
    return KS_ENOMEM;
  }
  e->opts = *opts;
  if (e->opts.interval_ms == 0)
    e->opts.interval_ms = KS_DEFAULT_INTERVAL_MS;
  if (e->opts.log_level == 0)
    e->opts.log_level = KS_LOG_INFO;
  e->topics = calloc(opts->n_topics, sizeof *e->topics);
  e->pages = ks_pages_new();
  ks_engine_lane_options own = {.call = opts->call};
  e->own = lane_alloc();
  int rc = e->topics && e->pages && e->own ? lane_init(e, e->own, &own) : KS_ENOMEM;
  if (e->own)
    e->own->own = 1;
  e->lanes = rc == 0 ? malloc(4 * sizeof *e->lanes) : NULL;
  if (e->lanes) {
    e->lanes[e->n_lanes++] = e->own;
    e->cap_lanes = 4;
  } else
    rc = KS_ENOMEM;
  for (size_t i = 0; rc == 0 && i < opts->n_topics; i++)
    if ((e->topics[i] = ks_strdup(opts->topics[i])) == NULL)
      rc = KS_ENOMEM;
  if (rc != 0) {
    snprintf(errstr, errstr_size, "engine: out of memory");
    ks_engine_free(e);
    return rc;
  }
  e->opts.topics = (const char *const *)e->topics;
  ks_host_api_init(&e->api);
  *out = e;
  return 0;
}

static void task_free(ks_task *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n_stores; i++)
    ks_store_free(t->stores[i]);
  free(t->stores);
  free(t->next_offset);
  ks_watermark_free(&t->wm);
  ks_clock_free(&t->clock);
  free(t->retained);
  free(t);
}

static void plugin_free(ks_plugin_ctx *p) {
  if (p == NULL)
    return;
  if (p->initialized && p->desc->destroy) {
    ks_plugin_call *c = p->engine->own->call, saved = *c;
    c->plugin = p->name;
    c->callback = "destroy";
    p->phase = KS_PHASE_DESTROY;
    p->desc->destroy(p->data);
    *c = saved;
  }
  ks_loader_close(p);
  for (size_t i = 0; i < p->n_config; i++) {
    free((char *)p->config[i].key);
    free((char *)p->config[i].value);
    if (p->config_where)
      free(p->config_where[i]);
  }
  free(p->config);
  free(p->config_where);
  free(p->where);
  free(p->path);
  free(p->name);
  free(p->topic);
  free(p);
}

void ks_engine_free(ks_engine *e) {
  if (e == NULL)
    return;
  while (e->n_lanes > 1) /* lanes the caller did not free */
    ks_engine_lane_free(e->lanes[e->n_lanes - 1]);
  for (size_t i = 0; i < e->cap_tasks; i++)
    task_free(e->tasks[i]);
  free(e->tasks);
  free(e->task_set);
  for (size_t i = 0; i < e->n_plugins; i++)
    plugin_free(e->plugins[i]);
  free(e->plugins);
  for (size_t i = 0; i < e->n_tables; i++)
    free(e->tables[i]);
  free(e->tables);
  for (size_t i = 0; i <= KS_BODY_MAX_ROUTE; i++)
    free(e->routes[i].plugins);
  if (e->topics)
    for (size_t i = 0; i < e->opts.n_topics; i++)
      free(e->topics[i]);
  free(e->topics);
  free(e->lanes); /* after destroy: its refused calls look at the lanes */
  if (e->own)
    lane_clear(e->own);
  free(e->own);
  ks_pages_free(e->pages); /* after every task's stores */
  free(e);
}

/* Drop the tables a failed plugin declared (they are the newest ones). */
static void drop_tables_of(ks_engine *e, ks_plugin_ctx *p) {
  while (e->n_tables && e->tables[e->n_tables - 1]->owner == p)
    free(e->tables[--e->n_tables]);
}

int ks_engine_add_plugin(ks_engine *e, const char *path, const char *output_topic,
                         const ks_kv *config, size_t n_config, char *errstr, size_t errstr_size) {
  return ks_engine_add_plugin_at(e, path, output_topic, config, n_config, NULL, NULL, errstr,
                                 errstr_size);
}

int ks_engine_add_plugin_at(ks_engine *e, const char *path, const char *output_topic,
                            const ks_kv *config, size_t n_config, const char *where,
                            const char *const *option_where, char *errstr, size_t errstr_size) {
  ks_plugin_spec spec = {path, NULL, output_topic, config, n_config, where, option_where};
  return ks_engine_load_plugin(e, &spec, errstr, errstr_size);
}

static int add_plugin(ks_engine *e, ks_plugin_ctx *p, const ks_plugin_spec *spec, int *located,
                      char *errstr, size_t errstr_size);

int ks_engine_load_plugin(ks_engine *e, const ks_plugin_spec *spec, char *errstr,
                          size_t errstr_size) {
  const char *path = spec->path;
  for (size_t i = 0; i < e->cap_tasks; i++)
    if (e->tasks[i]) {
      snprintf(errstr, errstr_size, "plugin %s: plugins must be added before tasks open", path);
      return KS_EINVAL;
    }
  ks_plugin_ctx *p = calloc(1, sizeof *p);
  if (p == NULL || (p->path = ks_strdup(path)) == NULL ||
      (spec->where && !(p->where = ks_strdup(spec->where)))) {
    if (p)
      free(p->path);
    free(p);
    snprintf(errstr, errstr_size, "plugin %s: out of memory", path);
    return KS_ENOMEM;
  }
  p->engine = e;
  p->index = e->n_plugins;
  int located = 0; /* errstr names an option's own place already */
  int rc = add_plugin(e, p, spec, &located, errstr, errstr_size);
  if (rc != 0 && !located)
    ks_errstr_prefix(errstr, errstr_size, spec->where);
  if (rc != 0 && !p->initialized)
    plugin_free(p); /* else owned by the engine already */
  return rc;
}

/* "plugin PATH (NAME VERSION[, instance I])": how refusals name a plugin. */
static void plugin_label(const ks_plugin_ctx *p, char *buf, size_t size) {
  const ks_plugin_descriptor *d = p->desc;
  int other = p->name && strcmp(p->name, d->name) != 0;
  snprintf(buf, size, "plugin %s (%s %s%s%s)", p->path, d->name, d->version ? d->version : "?",
           other ? ", instance " : "", other ? p->name : "");
}

/* The configured options against the plugin's option map (1.3) or its
 * list of keys (1.0-1.2): an unknown key, a value its type refuses, a
 * choice not among the choices. The refusal is prefixed with the value's
 * place when known (*located). */
static int check_options(ks_plugin_ctx *p, int *located, char *errstr, size_t errstr_size) {
  const ks_plugin_descriptor *d = p->desc;
  if (p->option_map == NULL && d->options == NULL)
    return 0; /* a plugin that does not say: not checked */
  char label[512];
  plugin_label(p, label, sizeof label);
  for (size_t i = 0; i < p->n_config; i++) {
    const char *key = p->config[i].key;
    const ks_option *o = ks_option_find(p->option_map, key);
    int known = o != NULL;
    for (const char *const *k = p->option_map ? NULL : d->options; k && *k && !known; k++)
      known = strcmp(*k, key) == 0;
    char why[600];
    int rc = 0;
    if (!known) {
      char list[512] = "";
      size_t off = 0;
      if (p->option_map)
        for (const ks_option *m = p->option_map; m->name && off < sizeof list; m++)
          off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                  m == p->option_map ? "" : ", ", m->name);
      else
        for (const char *const *k = d->options; *k && off < sizeof list; k++)
          off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                  k == d->options ? "" : ", ", *k);
      snprintf(why, sizeof why, "unknown option '%s' (accepted: %s)", key, list);
      rc = KS_EINVAL;
      snprintf(errstr, errstr_size, "plugin %s (%s): %s", p->path, p->name, why);
    } else if (o && (rc = ks_option_check(o, p->config[i].value, why, sizeof why)) != 0)
      snprintf(errstr, errstr_size, "%s: init failed with %d (%s): %s", label, rc, ks_strerror(rc),
               why);
    if (rc != 0) {
      /* logged as the readers log a refused value, and returned */
      ks_engine_log(p->engine, KS_LOG_ERROR, p->name, "%s%s%s",
                    p->config_where[i] ? p->config_where[i] : "", p->config_where[i] ? ": " : "",
                    why);
      ks_errstr_prefix(errstr, errstr_size, p->config_where[i]);
      *located = p->config_where[i] != NULL;
      return rc;
    }
  }
  return 0;
}

/* Where the option a plugin's message starts with ("option 'KEY'...", as
 * ks_option_refuse writes) was configured, or NULL. */
static const char *option_place(const ks_plugin_ctx *p, const char *msg) {
  static const char pre[] = "option '";
  if (msg == NULL || strncmp(msg, pre, sizeof pre - 1) != 0)
    return NULL;
  const char *key = msg + sizeof pre - 1, *end = strchr(key, '\'');
  for (size_t i = 0; end && i < p->n_config; i++)
    if (strlen(p->config[i].key) == (size_t)(end - key) &&
        strncmp(p->config[i].key, key, (size_t)(end - key)) == 0)
      return p->config_where[i];
  return NULL;
}

/* The instance name: [a-z0-9_]+ (it names topics), at most 64 bytes. */
static int instance_ok(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int add_plugin(ks_engine *e, ks_plugin_ctx *p, const ks_plugin_spec *spec, int *located,
                      char *errstr, size_t errstr_size) {
  const char *path = spec->path;
  int rc = ks_loader_open(p, errstr, errstr_size);
  if (rc != 0)
    return rc;
  const char *inst = spec->instance && spec->instance[0] ? spec->instance : p->desc->name;
  if (!instance_ok(inst)) {
    snprintf(errstr, errstr_size,
             "plugin %s: instance name '%s' must match [a-z0-9_]+ (at most 64)", path, inst);
    return KS_EINVAL;
  }
  for (size_t i = 0; i < e->n_plugins; i++)
    if (strcmp(e->plugins[i]->name, inst) == 0) {
      snprintf(errstr, errstr_size,
               "plugin %s: a plugin named '%s' is already loaded (%s); load it again under "
               "another instance name",
               path, inst, e->plugins[i]->path);
      return KS_EINVAL;
    }
  p->name = ks_strdup(inst);
  char deftopic[160];
  snprintf(deftopic, sizeof deftopic, "kpi.%s", inst);
  p->topic = ks_strdup(spec->output_topic && spec->output_topic[0] ? spec->output_topic : deftopic);
  size_t n_config = spec->n_config;
  p->config = calloc(n_config ? n_config : 1, sizeof *p->config);
  p->config_where = calloc(n_config ? n_config : 1, sizeof *p->config_where);
  if (p->name == NULL || p->topic == NULL || p->config == NULL || p->config_where == NULL) {
    snprintf(errstr, errstr_size, "plugin %s: out of memory", path);
    return KS_ENOMEM;
  }
  for (size_t i = 0; i < e->n_plugins; i++)
    if (strcmp(e->plugins[i]->desc->name, p->desc->name) == 0 &&
        strcmp(e->plugins[i]->topic, p->topic) == 0) {
      snprintf(errstr, errstr_size,
               "plugin %s: instances '%s' and '%s' of plugin '%s' both write to topic %s (their "
               "result keys would collide); give each its own topic",
               path, e->plugins[i]->name, inst, p->desc->name, p->topic);
      return KS_EINVAL;
    }
  for (size_t i = 0; i < n_config; i++) {
    p->config[i].key = ks_strdup(spec->config[i].key);
    p->config[i].value = ks_strdup(spec->config[i].value);
    p->n_config++;
    const char *w = spec->option_where ? spec->option_where[i] : NULL;
    if (p->config[i].key == NULL || p->config[i].value == NULL ||
        (w && (p->config_where[i] = ks_strdup(w)) == NULL)) {
      snprintf(errstr, errstr_size, "plugin %s: out of memory", path);
      return KS_ENOMEM;
    }
  }
  if ((rc = check_options(p, located, errstr, errstr_size)) != 0)
    return rc;
  ks_plugin_ctx **np = realloc(e->plugins, (e->n_plugins + 1) * sizeof *np);
  if (np == NULL) {
    snprintf(errstr, errstr_size, "plugin %s: out of memory", path);
    return KS_ENOMEM;
  }
  e->plugins = np;
  ks_plugin_call saved = *e->own->call;
  e->own->call->plugin = p->name;
  e->own->call->callback = "init";
  p->phase = KS_PHASE_INIT;
  char why[512] = "";
  if (p->init_ex)
    rc = p->init_ex(p, &e->api, &p->data, why, sizeof why);
  else
    rc = p->desc->init(p, &e->api, &p->data);
  why[sizeof why - 1] = '\0'; /* whatever the plugin wrote */
  p->phase = KS_PHASE_NONE;
  *e->own->call = saved;
  if (rc != 0) {
    char label[512];
    plugin_label(p, label, sizeof label);
    int err = rc < 0 ? rc : KS_EPLUGIN;
    /* the plugin's own message (init_ex), else the first error it logged (a
     * value a config_get_* reader refused: at that option's place) */
    const char *msg = why[0] ? why : p->init_error[0] ? p->init_error : NULL;
    if (why[0]) /* init_ex's message: logged as the plugin's own log lines are */
      ks_engine_log(e, KS_LOG_ERROR, p->name, "init failed with %d (%s): %s", rc, ks_strerror(err),
                    why);
    if (msg)
      snprintf(errstr, errstr_size, "%s: init failed with %d (%s): %s", label, rc, ks_strerror(err),
               msg);
    else
      snprintf(errstr, errstr_size, "%s: init failed with %d (%s; see the log above)", label, rc,
               ks_strerror(err));
    const char *at = !why[0] && p->init_error_where ? p->init_error_where : option_place(p, msg);
    if (at) {
      ks_errstr_prefix(errstr, errstr_size, at);
      *located = 1;
    }
    drop_tables_of(e, p);
    return err;
  }
  p->initialized = 1;
  e->plugins[e->n_plugins++] = p; /* owned by the engine from here on */
  for (const uint32_t *b = p->desc->interests; *b; b++) {
    ks_route *r = &e->routes[*b];
    int dup = 0;
    for (size_t i = 0; i < r->n; i++)
      dup |= r->plugins[i] == p;
    if (dup)
      continue;
    ks_plugin_ctx **rp = realloc(r->plugins, (r->n + 1) * sizeof *rp);
    if (rp == NULL) {
      snprintf(errstr, errstr_size, "plugin %s: out of memory", path);
      return KS_ENOMEM;
    }
    r->plugins = rp;
    r->plugins[r->n++] = p;
  }
  ks_engine_log(e, KS_LOG_INFO, "loader",
                "loaded plugin %s %s (ABI %u.%u) from %s as instance %s -> topic %s", p->desc->name,
                p->desc->version ? p->desc->version : "?", p->desc->abi_major, p->desc->abi_minor,
                path, p->name, p->topic);
  return 0;
}

int ks_plugin_probe(const char *path, ks_plugin_ctx **out, char *errstr, size_t errstr_size) {
  *out = NULL;
  ks_plugin_ctx *p = calloc(1, sizeof *p);
  if (p == NULL || (p->path = ks_strdup(path)) == NULL) {
    free(p);
    snprintf(errstr, errstr_size, "plugin %s: out of memory", path);
    return KS_ENOMEM;
  }
  int rc = ks_loader_open(p, errstr, errstr_size);
  if (rc != 0) {
    ks_plugin_probe_close(p);
    return rc;
  }
  *out = p;
  return 0;
}

const ks_plugin_descriptor *ks_plugin_probe_descriptor(const ks_plugin_ctx *p) {
  return p->desc;
}

const ks_option *ks_plugin_probe_options(const ks_plugin_ctx *p) {
  return p->option_map;
}

void ks_plugin_probe_close(ks_plugin_ctx *p) {
  if (p == NULL)
    return;
  ks_loader_close(p);
  free(p->path);
  free(p);
}

/* ---- tasks ------------------------------------------------------------ */

static ks_task *task_get(const ks_engine *e, int32_t id) {
  if (id < 0 || (size_t)id >= e->cap_tasks)
    return NULL;
  return e->tasks[id];
}

int ks_engine_task_exists(const ks_engine *e, int32_t task) {
  return task_get(e, task) != NULL;
}

int ks_engine_task_open(ks_engine *e, int32_t id) {
  if (id < 0 || id > 1000000)
    return KS_EINVAL;
  if (task_get(e, id))
    return 0;
  if ((size_t)id >= e->cap_tasks) {
    size_t nc = e->cap_tasks ? e->cap_tasks : 8;
    while (nc <= (size_t)id)
      nc *= 2;
    ks_task **nt = realloc(e->tasks, nc * sizeof *nt);
    if (nt == NULL)
      return KS_ENOMEM;
    memset(nt + e->cap_tasks, 0, (nc - e->cap_tasks) * sizeof *nt);
    e->tasks = nt;
    e->cap_tasks = nc;
  }
  ks_task *t = zalloc_lines(sizeof *t);
  if (t == NULL)
    return KS_ENOMEM;
  t->engine = e;
  t->lane = e->own;
  t->id = id;
  t->now_ms = KS_NO_TIME;
  t->cur_offset = -1;
  t->cur_istart = KS_NO_TIME;
  size_t nt = e->opts.n_topics;
  int rc = ks_watermark_init(&t->wm, nt, e->opts.lateness_ms);
  ks_clock_init(&t->clock, e->opts.interval_ms, e->opts.grace_ms, nt);
  t->next_offset = malloc(nt * sizeof *t->next_offset);
  t->n_stores = e->n_tables;
  t->stores = calloc(e->n_tables ? e->n_tables : 1, sizeof *t->stores);
  if (rc != 0 || t->next_offset == NULL || t->stores == NULL) {
    task_free(t);
    return KS_ENOMEM;
  }
  for (size_t i = 0; i < nt; i++)
    t->next_offset[i] = -1;
  e->tasks[id] = t;
  if (task_set_rebuild(e) != 0) {
    e->tasks[id] = NULL;
    task_free(t);
    return KS_ENOMEM;
  }
  return 0;
}

int ks_engine_task_close(ks_engine *e, int32_t id) {
  ks_task *t = task_get(e, id);
  if (t == NULL)
    return KS_ENOENT;
  e->tasks[id] = NULL;
  if (task_set_rebuild(e) != 0) /* out of memory: keep the old set without it */
    for (size_t i = 0; i < e->task_set_cap; i++)
      if (e->task_set[i] == t) { /* a tombstone no pointer matches, keeping the probe chains */
        e->task_set[i] = (ks_task *)&e->task_set;
        break;
      }
  task_free(t);
  return 0;
}

ks_store *ks_task_store(ks_task *t, const ks_table *table) {
  if (table->index >= t->n_stores)
    return NULL;
  ks_store *s = t->stores[table->index];
  if (s == NULL)
    s = t->stores[table->index] =
        ks_store_new_in(t->engine->pages, table->record_size, table->ttl_ms);
  return s;
}

/* ---- plugin errors ------------------------------------------------------ */

/* A callback of p returned rc on lane l; l->call still describes it.
 * Counted, logged (the first 10 of the plugin, then at every power of two),
 * reported. */
static void plugin_failed(ks_engine_lane *l, ks_plugin_ctx *p, int rc) {
  ks_engine *e = l->engine;
  const ks_plugin_call *c = l->call;
  uint64_t errors = atomic_fetch_add_explicit(&p->errors, 1, memory_order_relaxed) + 1;
  atomic_fetch_add_explicit(&p->failures, 1, memory_order_relaxed);
  l->stats.plugin_errors++;
  if (errors <= 10 || (errors & (errors - 1)) == 0) {
    if (c->topic && c->offset >= 0)
      ks_engine_log(e, KS_LOG_ERROR, p->name,
                    "%s failed with %d at %s [%d] offset %lld (%s; %llu errors so far)",
                    c->callback, rc, c->topic, c->task, (long long)c->offset, ks_strerror(rc),
                    (unsigned long long)errors);
    else
      ks_engine_log(e, KS_LOG_ERROR, p->name,
                    "%s failed with %d (task %d, interval %lld; %s; %llu errors so far)",
                    c->callback, rc, c->task, (long long)c->interval, ks_strerror(rc),
                    (unsigned long long)errors);
  }
  if (l->on_plugin_error)
    l->on_plugin_error(l->on_plugin_error_ud, p->index, rc, c);
}

/* ---- results ------------------------------------------------------------ */

/* One more result on topic. The topics are the plugins' (from the
 * configuration) and their emit_to siblings (named in the plugins' code), so
 * the list stays short; a topic that cannot be added (out of memory) is
 * counted in stats.results_out only. */
static void count_output_n(ks_engine_lane *l, const char *topic, uint64_t n) {
  for (size_t i = 0; i < l->n_out_topics; i++)
    if (strcmp(l->out_topics[i].topic, topic) == 0) {
      l->out_topics[i].results += n;
      return;
    }
  if (l->n_out_topics == l->cap_out_topics) {
    size_t cap = l->cap_out_topics ? 2 * l->cap_out_topics : 8;
    ks_topic_count *nt = realloc(l->out_topics, cap * sizeof *nt);
    if (nt == NULL)
      return;
    l->out_topics = nt;
    l->cap_out_topics = cap;
  }
  char *copy = ks_strdup(topic);
  if (copy == NULL)
    return;
  l->out_topics[l->n_out_topics++] = (ks_topic_count){.topic = copy, .results = n};
}

/* task: the current callback's (host_api.c checked it). */
static int emit_topic(ks_plugin_ctx *ctx, ks_task *task, const char *topic, const ks_result *r) {
  ks_engine *e = ctx->engine;
  ks_engine_lane *l = task->lane;
  const char *bad = ks_result_validate(r);
  if (bad) {
    const char *metric = ks_result_metric(r);
    ks_engine_log(e, KS_LOG_ERROR, ctx->name, "emit refused: %s (metric %s)", bad,
                  metric ? metric : "?");
    atomic_fetch_add_explicit(&ctx->errors, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ctx->api_refusals, 1, memory_order_relaxed);
    return KS_EINVAL;
  }
  long klen = ks_result_key(ctx->desc->name, r, &l->key_buf, &l->key_cap);
  if (klen < 0)
    return KS_ENOMEM;
  long vlen = ks_result_encode(ctx->desc->name, ctx->desc->version, r, l->key_buf,
                               task->cur_revision, &l->encode_buf, &l->encode_cap);
  if (vlen < 0)
    return KS_ENOMEM;
  int rc = l->sink(l->sink_ud, topic, l->key_buf, (size_t)klen, l->encode_buf, (size_t)vlen, r);
  if (rc == 0) {
    l->stats.results_out++;
    count_output_n(l, topic, 1);
  }
  return rc;
}

int ks_engine_emit(ks_plugin_ctx *ctx, ks_task *task, const ks_result *r) {
  ks_result full; /* a plugin built against an older SDK passes a smaller struct */
  r = ks_result_full(r, &full);
  int rc = emit_topic(ctx, task, ctx->topic, r);
  if (rc != 0 || ctx->on_result != NULL)
    return rc;
  /* in process to the plugins that read results (never their own) */
  ks_engine *e = ctx->engine;
  ks_engine_lane *l = task->lane;
  for (size_t i = 0; i < e->n_plugins; i++) {
    ks_plugin_ctx *p = e->plugins[i];
    if (p->on_result == NULL || p == ctx)
      continue;
    ks_plugin_call *c = l->call, saved = *c;
    c->plugin = p->name;
    c->callback = "on_result";
    lane_cur was = lane_enter(l, task, p, KS_PHASE_RESULT);
    int prc = p->on_result(p->data, task, ctx->desc->name, r);
    lane_leave(l, was);
    if (prc != 0)
      plugin_failed(l, p, prc);
    *c = saved;
  }
  return 0;
}

int ks_engine_emit_to(ks_plugin_ctx *ctx, ks_task *task, const char *output, const ks_result *r) {
  if (output == NULL || !*output || strlen(output) > 64 ||
      strspn(output, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(output)) {
    ks_engine_log(ctx->engine, KS_LOG_ERROR, ctx->name, "emit_to: output '%s' is not [a-z0-9_]+",
                  output ? output : "(null)");
    atomic_fetch_add_explicit(&ctx->api_refusals, 1, memory_order_relaxed);
    return KS_EINVAL;
  }
  char topic[512];
  const char *dot = strrchr(ctx->topic, '.');
  int n = dot ? (int)(dot - ctx->topic + 1) : 0;
  snprintf(topic, sizeof topic, "%.*s%s", n, ctx->topic, output);
  ks_result full;
  return emit_topic(ctx, task, topic, ks_result_full(r, &full));
}

/* ---- intervals ---------------------------------------------------------- */

ks_retained *ks_task_retained(const ks_task *t, int64_t start) {
  for (size_t i = 0; i < t->n_retained; i++)
    if (t->retained[i].start == start)
      return &t->retained[i];
  return NULL;
}

static int any_restatable(const ks_engine *e) {
  for (size_t i = 0; e->opts.restate_ms > 0 && i < e->n_plugins; i++)
    if (e->plugins[i]->restatable)
      return 1;
  return 0;
}

/* Call on_interval_close of every plugin (only the restatable ones when
 * restating), stamping results with `revision`. */
static void call_close(ks_engine *e, ks_task *t, int64_t start, int restating, uint32_t revision) {
  ks_interval iv = {start, start + e->opts.interval_ms};
  t->cur_revision = revision;
  ks_engine_lane *l = t->lane;
  ks_plugin_call *c = l->call, saved = *c;
  *c = (ks_plugin_call)KS_PLUGIN_CALL_NONE;
  c->callback = "on_interval_close";
  c->task = t->id;
  c->interval = start;
  /* plugins that read results close after the ones that produce them */
  for (size_t k = 0; k < 2 * e->n_plugins; k++) {
    ks_plugin_ctx *p = e->plugins[k % e->n_plugins];
    if ((k < e->n_plugins) != (p->on_result == NULL))
      continue;
    if (restating && !p->restatable)
      continue;
    c->plugin = p->name;
    lane_cur was = lane_enter(l, t, p, KS_PHASE_CLOSE);
    int rc = p->desc->on_interval_close(p->data, t, &iv);
    lane_leave(l, was);
    if (rc != 0)
      plugin_failed(l, p, rc);
  }
  *c = saved;
  t->cur_revision = 0;
}

static void drop_windows(ks_engine *e, ks_task *t, int64_t start, int keep_restatable) {
  for (size_t i = 0; i < t->n_stores; i++)
    if (t->stores[i] && e->tables[i]->kind == KS_TABLE_WINDOWED &&
        !(keep_restatable && e->tables[i]->owner->restatable))
      ks_store_drop_interval(t->stores[i], start);
}

static void close_interval(ks_engine *e, ks_task *t, int64_t start) {
  call_close(e, t, start, 0, 0);
  int keep = any_restatable(e);
  drop_windows(e, t, start, keep);
  if (keep) {
    if (t->n_retained == t->cap_retained) {
      size_t nc = t->cap_retained ? t->cap_retained * 2 : 8;
      ks_retained *nr = realloc(t->retained, nc * sizeof *nr);
      if (nr == NULL)
        drop_windows(e, t, start, 0); /* cannot keep it: no restatement for it */
      else {
        t->retained = nr;
        t->cap_retained = nc;
      }
    }
    if (t->n_retained < t->cap_retained)
      t->retained[t->n_retained++] = (ks_retained){start, 0, 0};
  }
  ks_clock_mark_closed(&t->clock, start);
  for (size_t i = 0; i < t->n_stores; i++)
    if (t->stores[i] && e->tables[i]->kind == KS_TABLE_KEYED)
      ks_store_expire(t->stores[i], t->now_ms);
  t->lane->stats.intervals_closed++;
  if (t->lane->on_closed)
    t->lane->on_closed(t->lane->on_closed_ud, t->id, start, start + e->opts.interval_ms);
}

/* Forget retained intervals older than the restatement horizon. */
static void expire_retained(ks_engine *e, ks_task *t) {
  size_t k = 0;
  for (size_t i = 0; i < t->n_retained; i++) {
    int64_t until =
        t->retained[i].start + e->opts.interval_ms + e->opts.grace_ms + e->opts.restate_ms;
    if (t->wm.value >= until)
      drop_windows(e, t, t->retained[i].start, 0);
    else
      t->retained[k++] = t->retained[i];
  }
  t->n_retained = k;
}

static void task_advance(ks_engine *e, ks_task *t) {
  int64_t wm = ks_watermark_update(&t->wm);
  int64_t start;
  while (ks_clock_next_due(&t->clock, wm, &start))
    close_interval(e, t, start);
  if (t->n_retained)
    expire_retained(e, t);
}

int ks_engine_advance(ks_engine *e) {
  for (size_t i = 0; i < e->cap_tasks; i++)
    if (e->tasks[i])
      task_advance(e, e->tasks[i]);
  return 0;
}

int ks_engine_flush_all(ks_engine *e) {
  for (size_t i = 0; i < e->cap_tasks; i++)
    ks_engine_flush_task(e, (int32_t)i);
  return 0;
}

int ks_engine_flush_task(ks_engine *e, int32_t task) {
  ks_task *t = task_get(e, task);
  if (t == NULL || t->clock.next_close == KS_NO_TIME)
    return 0;
  /* Close through the last interval holding data, or the current one. */
  int64_t last = t->clock.n_open ? t->clock.open[t->clock.n_open - 1].start : KS_NO_TIME;
  int64_t nowi = t->now_ms != KS_NO_TIME ? ks_interval_floor(t->now_ms, e->opts.interval_ms) : last;
  if (nowi > last)
    last = nowi;
  if (last == KS_NO_TIME || last < t->clock.next_close)
    return 0; /* closed through its newest data already (e.g. restored after a flush) */
  ks_watermark_force(&t->wm, last + e->opts.interval_ms + e->opts.grace_ms);
  int64_t start;
  while (ks_clock_next_due(&t->clock, t->wm.value, &start))
    close_interval(e, t, start);
  return 0;
}

size_t ks_engine_state_bytes(const ks_engine *e) {
  size_t n = 0;
  for (size_t i = 0; i < e->cap_tasks; i++) {
    ks_task *t = e->tasks[i];
    for (size_t k = 0; t && k < t->n_stores; k++)
      if (t->stores[k]) {
        ks_store_stats st;
        ks_store_get_stats(t->stores[k], &st);
        n += st.bytes;
      }
  }
  return n;
}

int64_t ks_engine_partition_time(const ks_engine *e, int32_t task, uint32_t topic_index) {
  ks_task *t = task_get(e, task);
  if (t == NULL || topic_index >= e->opts.n_topics)
    return KS_NO_TIME;
  return t->wm.max_time[topic_index];
}

int64_t ks_engine_idle_advance(ks_engine *e, int32_t task, int64_t quiet_ms) {
  ks_task *t = task_get(e, task);
  if (t == NULL || t->now_ms == KS_NO_TIME || quiet_ms <= 0)
    return t ? t->wm.value : KS_NO_TIME;
  ks_watermark_force(&t->wm, t->now_ms + quiet_ms - e->opts.lateness_ms);
  int64_t start;
  while (ks_clock_next_due(&t->clock, t->wm.value, &start))
    close_interval(e, t, start);
  return t->wm.value;
}

void ks_engine_set_idle(ks_engine *e, int32_t task, uint32_t topic_index, int idle) {
  ks_task *t = task_get(e, task);
  if (t && topic_index < e->opts.n_topics)
    ks_watermark_set_idle(&t->wm, topic_index, idle);
}

int64_t ks_engine_watermark(const ks_engine *e, int32_t task) {
  ks_task *t = task_get(e, task);
  return t ? t->wm.value : KS_NO_TIME;
}

int64_t ks_engine_commit_offset(const ks_engine *e, int32_t task, uint32_t topic_index) {
  ks_task *t = task_get(e, task);
  if (t == NULL || topic_index >= e->opts.n_topics)
    return -1;
  return ks_clock_commit_offset(&t->clock, topic_index, t->next_offset[topic_index]);
}

/* ---- the hot path --------------------------------------------------------- */

static void dispatch(ks_engine *e, ks_task *t, const ks_route *r, const Kpistream__V1__Event *msg,
                     uint32_t topic_index, int64_t offset, int64_t istart, int only_restatable) {
  ks_event ev = {msg,
                 msg->body_case == 0 ? 0u : (uint32_t)msg->body_case,
                 msg->event_time_ms,
                 istart,
                 istart + e->opts.interval_ms,
                 e->topics[topic_index],
                 t->id,
                 offset};
  t->cur_part = topic_index;
  t->cur_offset = offset;
  ks_engine_lane *l = t->lane;
  /* on time: ks_engine_process has checked and touched istart's interval */
  t->cur_istart = only_restatable ? KS_NO_TIME : istart;
  ks_plugin_call *c = l->call;
  *c = (ks_plugin_call){NULL, "on_event", e->topics[topic_index], t->id, offset, istart};
  for (size_t i = 0; i < r->n; i++) {
    ks_plugin_ctx *p = r->plugins[i];
    if (only_restatable && !p->restatable)
      continue;
    c->plugin = p->name;
    lane_cur was = lane_enter(l, t, p, KS_PHASE_EVENT);
    int rc = p->desc->on_event(p->data, t, &ev);
    lane_leave(l, was);
    if (rc != 0)
      plugin_failed(l, p, rc);
  }
  *c = (ks_plugin_call)KS_PLUGIN_CALL_NONE;
  t->cur_offset = -1;
  t->cur_istart = KS_NO_TIME;
}

/* Publish again, with the next revision, every retained interval a
 * restatable plugin wrote to while the event was dispatched (a late event's
 * own interval, or an earlier one whose figures an event of an open interval
 * corrected: e.g. a leg's wrap-up interval), oldest first. */
static void republish_changed(ks_engine *e, ks_task *t) {
  for (;;) {
    size_t pick = SIZE_MAX;
    for (size_t i = 0; i < t->n_retained; i++)
      if (t->retained[i].changed &&
          (pick == SIZE_MAX || t->retained[i].start < t->retained[pick].start))
        pick = i;
    if (pick == SIZE_MAX)
      return;
    t->retained[pick].changed = 0;
    int64_t start = t->retained[pick].start;
    uint32_t revision = ++t->retained[pick].revision; /* the list may move: copy first */
    call_close(e, t, start, 1, revision);
    t->lane->stats.restatements++;
  }
}

/* A late event within the horizon: pass it to the restatable plugins and
 * publish their results for its interval again with the next revision. */
static int restate(ks_engine *e, ks_task *t, const Kpistream__V1__Event *msg, uint32_t topic_index,
                   int64_t offset, int64_t istart, ks_retained *ret) {
  uint32_t body = (uint32_t)msg->body_case;
  ks_route *r = body <= KS_BODY_MAX_ROUTE ? &e->routes[body] : NULL;
  int wanted = 0;
  for (size_t i = 0; r && i < r->n; i++)
    wanted |= r->plugins[i]->restatable;
  if (!wanted) {
    t->lane->stats.events_unrouted++;
    return KS_PROCESSED;
  }
  if (msg->event_time_ms > t->now_ms)
    t->now_ms = msg->event_time_ms;
  ret->changed = 1; /* its own interval, whatever the plugins wrote */
  dispatch(e, t, r, msg, topic_index, offset, istart, 1);
  t->lane->stats.events_restated++;
  republish_changed(e, t);
  return KS_RESTATED;
}

int64_t ks_engine_time_limit(const ks_engine *e, int32_t task, int64_t record_ms) {
  const ks_task *t = task_get(e, task);
  int64_t skew = e->opts.max_future_skew_ms;
  int64_t base = t ? t->now_ms : KS_NO_TIME;
  if (record_ms >= 0 && record_ms > base)
    base = record_ms;
  if (skew <= 0 || base == KS_NO_TIME)
    return INT64_MAX;
  return base > INT64_MAX - skew ? INT64_MAX : base + skew;
}

/* "N" or "none" for a time that may be unknown. */
static const char *time_str(char *buf, size_t size, int64_t ms) {
  if (ms == KS_NO_TIME || ms < 0)
    snprintf(buf, size, "none");
  else
    snprintf(buf, size, "%lld", (long long)ms);
  return buf;
}

int ks_engine_process(ks_engine *e, int32_t task, uint32_t topic_index, int64_t offset,
                      const void *buf, size_t len, char *reason, size_t reason_size) {
  return ks_engine_process_from(e, task, topic_index, offset, NULL, buf, len, reason, reason_size);
}

int ks_engine_process_from(ks_engine *e, int32_t task, uint32_t topic_index, int64_t offset,
                           const ks_msg_origin *origin, const void *buf, size_t len, char *reason,
                           size_t reason_size) {
  ks_task *t = task_get(e, task);
  if (t == NULL || topic_index >= e->opts.n_topics)
    return KS_EINVAL;
  ks_engine_lane *l = t->lane;
  l->stats.events_in++;
  l->topic_events[topic_index]++;
  if (offset >= 0 && offset + 1 > t->next_offset[topic_index])
    t->next_offset[topic_index] = offset + 1;

  ks_arena_reset(&l->arena);
  const Kpistream__V1__Event *msg = ks_decode_event(&l->arena, buf, len, reason, reason_size);
  if (msg == NULL) {
    l->stats.events_rejected++;
    return KS_REJECTED;
  }
  /* Another task's event (or one spread over tasks) would corrupt this
   * task's results: refused before it moves the watermark. */
  char why[256];
  if (origin && ks_copartition_check(origin->partitioner, origin->n_partitions, task, origin->key,
                                     origin->key_len, msg->tenant, reason ? reason : why,
                                     reason ? reason_size : sizeof why) != 0) {
    l->stats.events_misrouted++;
    return KS_MISROUTED;
  }
  uint32_t body = (uint32_t)msg->body_case;
  int64_t ts = msg->event_time_ms;
  int64_t istart = ks_interval_floor(ts, e->opts.interval_ms);

  /* Too far ahead (a wrong clock): refused before it touches the watermark. */
  int64_t record_ms = origin ? origin->record_ms : -1;
  int64_t limit = ks_engine_time_limit(e, task, record_ms);
  if (ts > limit) {
    l->stats.events_rejected++;
    l->stats.events_future++;
    if (reason && reason_size) {
      char hi[24], rec[24], wm[24];
      snprintf(reason, reason_size,
               "event_time_ms %lld beyond bound %lld: intervals.max_future_skew %lld ms after "
               "max(highest event time %s, record time %s); watermark %s",
               (long long)ts, (long long)limit, (long long)e->opts.max_future_skew_ms,
               time_str(hi, sizeof hi, t->now_ms), time_str(rec, sizeof rec, record_ms),
               time_str(wm, sizeof wm, t->wm.value));
    }
    return KS_REJECTED;
  }
  /* A message is evidence about its partition's progress even when no
   * plugin wants it or it is late. */
  if (ks_clock_is_late(&t->clock, istart, t->wm.value)) {
    ks_watermark_observe(&t->wm, topic_index, ts);
    ks_retained *ret = ks_task_retained(t, istart);
    if (ret != NULL)
      return restate(e, t, msg, topic_index, offset, istart, ret);
    l->stats.events_late++;
    if (reason && reason_size)
      snprintf(reason, reason_size,
               "late: event time %lld is in interval %lld, closed at watermark %lld%s",
               (long long)ts, (long long)istart, (long long)t->wm.value,
               e->opts.restate_ms > 0 ? ", beyond the restatement horizon" : "");
    return KS_LATE;
  }
  ks_watermark_observe(&t->wm, topic_index, ts);
  if (ts > t->now_ms)
    t->now_ms = ts;
  task_advance(e, t);

  ks_route *r = body <= KS_BODY_MAX_ROUTE ? &e->routes[body] : NULL;
  if (r == NULL || r->n == 0) {
    l->stats.events_unrouted++;
    return KS_PROCESSED;
  }
  if (ks_clock_touch(&t->clock, istart, topic_index, offset) != 0)
    return KS_ENOMEM;
  dispatch(e, t, r, msg, topic_index, offset, istart, 0);
  l->stats.events_dispatched++;
  if (t->n_retained)
    republish_changed(e, t);
  return KS_PROCESSED;
}

uint64_t ks_engine_plugin_errors(const ks_engine *e) {
  return e->own->stats.plugin_errors;
}

void ks_engine_set_log_level(ks_engine *e, int level) {
  if (e && level >= KS_LOG_ERROR && level <= KS_LOG_DEBUG)
    e->opts.log_level = level;
}

void ks_engine_get_stats(const ks_engine *e, ks_engine_stats *out) {
  *out = e->own->stats;
  out->api_refusals = 0;
  for (size_t i = 0; i < e->n_plugins; i++)
    out->api_refusals += atomic_load_explicit(&e->plugins[i]->api_refusals, memory_order_relaxed);
}

size_t ks_engine_plugin_count(const ks_engine *e) {
  return e->n_plugins;
}
const char *ks_engine_plugin_topic(const ks_engine *e, size_t i) {
  return i < e->n_plugins ? e->plugins[i]->topic : NULL;
}
const char *ks_engine_plugin_name(const ks_engine *e, size_t i) {
  return i < e->n_plugins ? e->plugins[i]->name : NULL;
}
uint64_t ks_engine_plugin_failures(const ks_engine *e, size_t i) {
  return i < e->n_plugins ? atomic_load_explicit(&e->plugins[i]->failures, memory_order_relaxed)
                          : 0;
}
size_t ks_engine_plugin_state_bytes(const ks_engine *e, size_t i) {
  if (i >= e->n_plugins)
    return 0;
  size_t n = 0;
  for (size_t k = 0; k < e->cap_tasks; k++) {
    ks_task *t = e->tasks[k];
    for (size_t j = 0; t && j < t->n_stores && j < e->n_tables; j++)
      if (t->stores[j] && e->tables[j]->owner == e->plugins[i]) {
        ks_store_stats st;
        ks_store_get_stats(t->stores[j], &st);
        n += st.bytes;
      }
  }
  return n;
}
uint64_t ks_engine_topic_events(const ks_engine *e, uint32_t topic_index) {
  return topic_index < e->opts.n_topics ? e->own->topic_events[topic_index] : 0;
}
const char *ks_engine_output_topic(const ks_engine *e, size_t i, uint64_t *results) {
  if (i >= e->own->n_out_topics)
    return NULL;
  *results = e->own->out_topics[i].results;
  return e->own->out_topics[i].topic;
}
