/*
 * host_api — the service table handed to plugins (ks_host_api). Every
 * function here checks its arguments and the callback it is called from
 * (the phases plugin.h lists for it): a plugin bug becomes a refused call —
 * an error code or NULL, logged and counted in ks_engine_stats.api_refusals
 * and the plugin's context — not a host crash. Pointers are checked for
 * NULL and against the host's own (the current task, the table's kind);
 * a pointer that is neither NULL nor the host's cannot be told from a good
 * one.
 *
 * "The current callback" is a lane's (engine_internal.h): a task pointer is
 * compared with the engine's own lane's current task when there is one
 * lane, else looked up among the open tasks before its lane is read
 * (ks_engine_lane_running): never dereferenced unless it is one. With
 * several lanes a plugin that passes the task of another lane's running
 * callback of its own is not told apart (the contract of docs/plugins.md
 * forbids keeping task pointers across callbacks). A table call is the
 * table owner's own: from another plugin's callback (an on_result reading
 * the emitter's table) it is refused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "engine_internal.h"
#include "log.h"

static void api_log(ks_plugin_ctx *ctx, int level, const char *fmt, ...) {
  if (ctx == NULL || fmt == NULL)
    return;
  char comp[96];
  snprintf(comp, sizeof comp, "plugin %s", ctx->name);
  va_list ap;
  va_start(ap, fmt);
  ks_logv(ctx->engine->opts.log_level, level, comp, fmt, ap);
  va_end(ap);
}

/* api->log: the plugin's own lines. The first error it logs in init is kept
 * for the engine's refusal ("init failed: <it>"), so a value the plugin
 * refuses (out of its range, a bad choice) is named at the plugin's place in
 * the configuration, not only in the log above. */
static void plugin_log(ks_plugin_ctx *ctx, int level, const char *fmt, ...) {
  if (ctx == NULL || fmt == NULL)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (ctx->phase == KS_PHASE_INIT && level <= KS_LOG_ERROR && ctx->init_error[0] == '\0') {
    size_t n = strnlen(msg, sizeof ctx->init_error - 1);
    memcpy(ctx->init_error, msg, n);
    ctx->init_error[n] = '\0';
  }
  api_log(ctx, level, "%s", msg);
}

#define PH(x)        (1u << (x))
#define PH_WITH_TASK (PH(KS_PHASE_EVENT) | PH(KS_PHASE_CLOSE) | PH(KS_PHASE_RESULT))

static const char *phase_name(ks_phase p) {
  static const char *const names[] = {"outside any callback", "init",      "on_event",
                                      "on_interval_close",    "on_result", "destroy"};
  return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "?";
}

/* Log (the first 10, then every power of two) and count a refused call. */
static void api_refuse(ks_plugin_ctx *ctx, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void api_refuse(ks_plugin_ctx *ctx, const char *fn, const char *fmt, ...) {
  uint64_t n = atomic_fetch_add_explicit(&ctx->api_refusals, 1, memory_order_relaxed) + 1;
  if (n > 10 && (n & (n - 1)) != 0)
    return;
  char why[320];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  api_log(ctx, KS_LOG_ERROR, "%s refused: %s (%llu host API calls refused so far)", fn, why,
          (unsigned long long)n);
}

/* The callback of ctx running now: init and destroy (one thread, no task),
 * else the one a lane runs for task with ctx (NONE when there is none). */
static ks_phase phase_of(const ks_plugin_ctx *ctx, const ks_task *task) {
  if (ctx->phase != KS_PHASE_NONE)
    return ctx->phase;
  const ks_engine_lane *l = ks_engine_lane_running(ctx->engine, task);
  if (l == NULL || atomic_load_explicit(&l->cur_plugin, memory_order_relaxed) != ctx)
    return KS_PHASE_NONE;
  return (ks_phase)atomic_load_explicit(&l->cur_phase, memory_order_relaxed);
}

/* For a message: the callback of ctx that some lane runs (the one, when
 * there is one lane), or ctx->phase. */
static ks_phase phase_any(const ks_plugin_ctx *ctx) {
  const ks_engine *e = ctx->engine;
  for (size_t i = 0; ctx->phase == KS_PHASE_NONE && i < e->n_lanes; i++)
    if (atomic_load_explicit(&e->lanes[i]->cur_plugin, memory_order_relaxed) == ctx)
      return (ks_phase)atomic_load_explicit(&e->lanes[i]->cur_phase, memory_order_relaxed);
  return ctx->phase;
}

/* The call is allowed in the plugin's current callback (mask of PH()). */
static int phase_ok(ks_plugin_ctx *ctx, ks_phase phase, unsigned allowed, const char *fn,
                    const char *where_ok) {
  if (PH(phase) & allowed)
    return 1;
  api_refuse(ctx, fn, "called from %s; allowed from %s", phase_name(phase), where_ok);
  return 0;
}

/* A call that needs a task: from a callback of ctx with one, for its task.
 * phase_of() finds ctx's callback through the task: a task no lane runs
 * with ctx is not the current callback's. */
static int with_task_ok(ks_plugin_ctx *ctx, const ks_task *task, const char *fn) {
  if (PH(phase_of(ctx, task)) & PH_WITH_TASK)
    return 1;
  if (ctx->phase != KS_PHASE_NONE) /* init, destroy */
    return phase_ok(ctx, ctx->phase, PH_WITH_TASK, fn, "on_event, on_interval_close, on_result");
  api_refuse(ctx, fn, "%s task", task ? "not the current callback's" : "NULL");
  return 0;
}

/* The configured value of key, else (1.3) its option map default, else
 * NULL. The readers below take their `def` argument only for NULL. */
static const char *api_config_get(ks_plugin_ctx *ctx, const char *key) {
  if (ctx == NULL)
    return NULL;
  if (key == NULL) {
    api_refuse(ctx, "config_get", "NULL key");
    return NULL;
  }
  for (size_t i = 0; i < ctx->n_config; i++)
    if (strcmp(ctx->config[i].key, key) == 0)
      return ctx->config[i].value;
  const ks_option *o = ks_option_find(ctx->option_map, key);
  return o ? o->def : NULL;
}

/* The arguments of a typed configuration reader. */
static int getter_ok(ks_plugin_ctx *ctx, const char *key, const void *out, const char *fn) {
  if (ctx == NULL)
    return 0;
  if (key == NULL || out == NULL) {
    api_refuse(ctx, fn, "NULL %s", key == NULL ? "key" : "out");
    return 0;
  }
  return 1;
}

/* A refused option value: logged at its place in the configuration, and
 * kept (the first one during init) for the engine's refusal message. */
static int bad_value(ks_plugin_ctx *ctx, const char *key, const char *v, const char *want) {
  const char *where = NULL;
  for (size_t i = 0; i < ctx->n_config; i++)
    if (strcmp(ctx->config[i].key, key) == 0 && ctx->config_where)
      where = ctx->config_where[i];
  if (ctx->phase == KS_PHASE_INIT && ctx->init_error[0] == '\0') {
    snprintf(ctx->init_error, sizeof ctx->init_error, "option '%s': '%s' is not %s", key, v, want);
    ctx->init_error_where = where;
  }
  api_log(ctx, KS_LOG_ERROR, "%s%soption '%s': '%s' is not %s", where ? where : "",
          where ? ": " : "", key, v, want);
  return KS_EINVAL;
}

static int api_config_get_int(ks_plugin_ctx *ctx, const char *key, int64_t def, int64_t *out) {
  if (!getter_ok(ctx, key, out, "config_get_int"))
    return KS_EINVAL;
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_int(v, out) == 0 ? 0 : bad_value(ctx, key, v, "an integer");
}

static int api_config_get_double(ks_plugin_ctx *ctx, const char *key, double def, double *out) {
  if (!getter_ok(ctx, key, out, "config_get_double"))
    return KS_EINVAL;
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_double(v, out) == 0 ? 0 : bad_value(ctx, key, v, "a number");
}

static int api_config_get_bool(ks_plugin_ctx *ctx, const char *key, int def, int *out) {
  if (!getter_ok(ctx, key, out, "config_get_bool"))
    return KS_EINVAL;
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_bool(v, out) == 0 ? 0 : bad_value(ctx, key, v, "a boolean (true/false)");
}

static int api_config_get_duration_ms(ks_plugin_ctx *ctx, const char *key, int64_t def,
                                      int64_t *out) {
  if (!getter_ok(ctx, key, out, "config_get_duration_ms"))
    return KS_EINVAL;
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_duration_ms(v, out) == 0
             ? 0
             : bad_value(ctx, key, v, "a duration (e.g. 250ms, 20s, 15m, 2h, 7d)");
}

static int api_config_get_choice(ks_plugin_ctx *ctx, const char *key, int *index) {
  if (!getter_ok(ctx, key, index, "config_get_choice"))
    return KS_EINVAL;
  const ks_option *o = ks_option_find(ctx->option_map, key);
  if (o == NULL || o->type != KS_OPT_CHOICE) {
    api_refuse(ctx, "config_get_choice", "'%s' is not a choice option of the plugin's option map",
               key);
    return KS_EINVAL;
  }
  const char *v = api_config_get(ctx, key);
  for (int i = 0; v && o->choices[i]; i++)
    if (strcmp(o->choices[i], v) == 0) {
      *index = i;
      return 0;
    }
  /* unset without a default (checked values are always among the choices) */
  api_refuse(ctx, "config_get_choice", "'%s' is unset and has no default", key);
  return KS_EINVAL;
}

static ks_table *api_table_declare(ks_plugin_ctx *ctx, const char *name, ks_table_kind kind,
                                   uint32_t record_size, uint32_t version, int64_t ttl_ms) {
  if (ctx == NULL || (ctx->phase != KS_PHASE_INIT &&
                      !phase_ok(ctx, phase_any(ctx), PH(KS_PHASE_INIT), "table_declare", "init")))
    return NULL;
  ks_engine *e = ctx->engine;
  if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(((ks_table *)0)->name) ||
      (kind != KS_TABLE_KEYED && kind != KS_TABLE_WINDOWED) || record_size == 0 ||
      record_size > 65536 || ttl_ms < 0) {
    api_refuse(ctx, "table_declare", "bad arguments: name '%s', kind %d, record_size %u, ttl %lld",
               name ? name : "(null)", (int)kind, record_size, (long long)ttl_ms);
    return NULL;
  }
  for (size_t i = 0; i < e->n_tables; i++)
    if (e->tables[i]->owner == ctx && strcmp(e->tables[i]->name, name) == 0) {
      api_refuse(ctx, "table_declare", "table '%s' declared twice", name);
      return NULL;
    }
  ks_table **nt = realloc(e->tables, (e->n_tables + 1) * sizeof *nt);
  if (nt == NULL)
    return NULL;
  e->tables = nt;
  ks_table *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NULL;
  t->index = (uint32_t)e->n_tables;
  t->kind = kind;
  t->record_size = record_size;
  t->version = version;
  t->ttl_ms = kind == KS_TABLE_KEYED ? ttl_ms : 0;
  snprintf(t->name, sizeof t->name, "%s", name);
  t->owner = ctx;
  e->tables[e->n_tables++] = t;
  return t;
}

/* A table call: the table (its owner is the caller), the phase, the current
 * task, the table's kind. A NULL table leaves no plugin to blame: refused
 * without a log. The checks are on every state access: the fast path is
 * inline, the refusal (which finds the reason) is not. */
__attribute__((noinline, cold)) static int table_refuse(ks_task *task, ks_table *t,
                                                        ks_table_kind kind, const char *fn) {
  if (t == NULL)
    return 0;
  ks_plugin_ctx *ctx = t->owner;
  if (!with_task_ok(ctx, task, fn))
    return 0;
  if (t->kind != kind)
    api_refuse(ctx, fn, "table '%s' is %s", t->name,
               t->kind == KS_TABLE_KEYED ? "keyed, not windowed" : "windowed, not keyed");
  return 0;
}

/* The fast path: the table's owner runs a callback with a task on the
 * task's lane (one compare when there is one lane). */
static inline int table_ok(ks_task *task, ks_table *t, ks_table_kind kind, const char *fn) {
  if (t != NULL && task != NULL && t->kind == kind) {
    const ks_engine_lane *l = ks_engine_lane_running(t->owner->engine, task);
    if (l && atomic_load_explicit(&l->cur_plugin, memory_order_relaxed) == t->owner &&
        (PH(atomic_load_explicit(&l->cur_phase, memory_order_relaxed)) & PH_WITH_TASK))
      return 1;
  }
  return table_refuse(task, t, kind, fn);
}

/* A key the store can hold: not NULL, at most KS_KEY_MAX bytes. */
__attribute__((noinline, cold)) static int key_refuse(ks_table *t, const void *key, size_t keylen,
                                                      const char *fn) {
  if (key == NULL)
    api_refuse(t->owner, fn, "NULL key (table '%s')", t->name);
  else
    api_refuse(t->owner, fn, "key of %zu bytes in table '%s', longer than KS_KEY_MAX (%d)", keylen,
               t->name, KS_KEY_MAX);
  return 0;
}

static inline int key_ok(ks_table *t, const void *key, size_t keylen, const char *fn) {
  return (key != NULL && keylen <= KS_KEY_MAX) || key_refuse(t, key, keylen, fn);
}

/* A record the store could not make (out of memory). */
static inline void *record_or_refuse(ks_table *t, void *rec, int create, const char *fn) {
  if (rec == NULL && create)
    api_refuse(t->owner, fn, "out of memory for a record of table '%s'", t->name);
  return rec;
}

static void *api_keyed_get(ks_task *task, ks_table *t, const void *key, size_t keylen, int create) {
  if (!table_ok(task, t, KS_TABLE_KEYED, "keyed_get") || !key_ok(t, key, keylen, "keyed_get"))
    return NULL;
  ks_store *s = ks_task_store(task, t);
  return record_or_refuse(
      t, s ? ks_store_get(s, KS_STORE_NO_INTERVAL, key, keylen, create, task->now_ms) : NULL,
      create, "keyed_get");
}

static int api_keyed_remove(ks_task *task, ks_table *t, const void *key, size_t keylen) {
  if (!table_ok(task, t, KS_TABLE_KEYED, "keyed_remove") || !key_ok(t, key, keylen, "keyed_remove"))
    return KS_EINVAL;
  ks_store *s = ks_task_store(task, t);
  return s ? ks_store_remove(s, KS_STORE_NO_INTERVAL, key, keylen) : KS_ENOENT;
}

static void *api_window_get(ks_task *task, ks_table *t, int64_t start, const void *key,
                            size_t keylen, int create) {
  if (!table_ok(task, t, KS_TABLE_WINDOWED, "window_get") || !key_ok(t, key, keylen, "window_get"))
    return NULL;
  if (start == task->cur_istart) { /* the event's own interval: checked and touched */
    ks_store *s = ks_task_store(task, t);
    return record_or_refuse(t, s ? ks_store_get(s, start, key, keylen, create, task->now_ms) : NULL,
                            create, "window_get");
  }
  ks_engine *e = task->engine;
  if (ks_interval_floor(start, e->opts.interval_ms) != start) {
    api_refuse(t->owner, "window_get", "%lld is not an interval start", (long long)start);
    return NULL;
  }
  int closed = ks_clock_is_late(&task->clock, start, task->wm.value);
  /* A closed interval is writable only while it is kept for restatement;
   * whatever a plugin changes there is published again (engine.c). */
  ks_retained *ret = closed && t->owner->restatable ? ks_task_retained(task, start) : NULL;
  if (closed && ret == NULL)
    return NULL;
  if (ret != NULL)
    ret->changed = 1;
  ks_store *s = ks_task_store(task, t);
  if (s == NULL)
    return record_or_refuse(t, NULL, create, "window_get");
  void *rec = ks_store_get(s, start, key, keylen, create, task->now_ms);
  if (rec && create && !closed &&
      ks_clock_touch(&task->clock, start, task->cur_part, task->cur_offset) != 0)
    return record_or_refuse(t, NULL, create, "window_get");
  return record_or_refuse(t, rec, create, "window_get");
}

static int api_window_foreach(ks_task *task, ks_table *t, int64_t start, ks_record_cb cb,
                              void *ud) {
  if (!table_ok(task, t, KS_TABLE_WINDOWED, "window_foreach"))
    return KS_EINVAL;
  if (cb == NULL) {
    api_refuse(t->owner, "window_foreach", "NULL callback");
    return KS_EINVAL;
  }
  ks_store *s = ks_task_store(task, t);
  return s ? ks_store_foreach(s, start, task->now_ms, cb, ud) : 0;
}

static int api_keyed_foreach(ks_task *task, ks_table *t, ks_record_cb cb, void *ud) {
  if (!table_ok(task, t, KS_TABLE_KEYED, "keyed_foreach"))
    return KS_EINVAL;
  if (cb == NULL) {
    api_refuse(t->owner, "keyed_foreach", "NULL callback");
    return KS_EINVAL;
  }
  ks_store *s = ks_task_store(task, t);
  return s ? ks_store_foreach(s, KS_STORE_NO_INTERVAL, task->now_ms, cb, ud) : 0;
}

/* emit and emit_to: from a callback with a task, for that task. */
static int emit_ok(ks_plugin_ctx *ctx, ks_task *task, const char *fn) {
  return ctx != NULL && with_task_ok(ctx, task, fn);
}

static int api_emit(ks_plugin_ctx *ctx, ks_task *task, const ks_result *r) {
  if (!emit_ok(ctx, task, "emit"))
    return KS_EINVAL;
  return ks_engine_emit(ctx, task, r);
}

static int api_emit_to(ks_plugin_ctx *ctx, ks_task *task, const char *output, const ks_result *r) {
  if (!emit_ok(ctx, task, "emit_to"))
    return KS_EINVAL;
  return ks_engine_emit_to(ctx, task, output, r);
}

static int32_t api_task_id(const ks_task *task) {
  return task ? task->id : -1;
}
static int64_t api_task_watermark(const ks_task *task) {
  return task ? task->wm.value : 0;
}
static int64_t api_interval_length(const ks_plugin_ctx *ctx) {
  return ctx ? ctx->engine->opts.interval_ms : KS_EINVAL;
}
static void *api_alloc(size_t n) {
  return calloc(1, n ? n : 1);
}
static void api_free(void *p) {
  free(p);
}

void ks_host_api_init(ks_host_api *api) {
  memset(api, 0, sizeof *api);
  api->abi_major = KS_PLUGIN_ABI_MAJOR;
  api->abi_minor = KS_PLUGIN_ABI_MINOR;
  api->struct_size = sizeof *api;
  api->log = plugin_log;
  api->config_get = api_config_get;
  api->config_get_int = api_config_get_int;
  api->config_get_double = api_config_get_double;
  api->config_get_bool = api_config_get_bool;
  api->config_get_duration_ms = api_config_get_duration_ms;
  api->table_declare = api_table_declare;
  api->keyed_get = api_keyed_get;
  api->keyed_remove = api_keyed_remove;
  api->window_get = api_window_get;
  api->window_foreach = api_window_foreach;
  api->emit = api_emit;
  api->task_id = api_task_id;
  api->task_watermark_ms = api_task_watermark;
  api->interval_length_ms = api_interval_length;
  api->alloc = api_alloc;
  api->free = api_free;
  api->keyed_foreach = api_keyed_foreach;
  api->emit_to = api_emit_to;
  api->config_get_choice = api_config_get_choice;
}
