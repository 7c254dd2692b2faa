/*
 * host_api — the service table handed to plugins (ks_host_api). Every
 * function here checks its arguments: a plugin bug becomes a logged error,
 * not a host crash.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "engine_internal.h"
#include "log.h"

static void api_log(ks_plugin_ctx *ctx, int level, const char *fmt, ...) {
  char comp[96];
  snprintf(comp, sizeof comp, "plugin %s", ctx->name);
  va_list ap;
  va_start(ap, fmt);
  ks_logv(ctx->engine->opts.log_level, level, comp, fmt, ap);
  va_end(ap);
}

static const char *api_config_get(ks_plugin_ctx *ctx, const char *key) {
  for (size_t i = 0; i < ctx->n_config; i++)
    if (strcmp(ctx->config[i].key, key) == 0)
      return ctx->config[i].value;
  return NULL;
}

static int bad_value(ks_plugin_ctx *ctx, const char *key, const char *v, const char *want) {
  api_log(ctx, KS_LOG_ERROR, "option '%s': '%s' is not %s", key, v, want);
  return KS_EINVAL;
}

static int api_config_get_int(ks_plugin_ctx *ctx, const char *key, int64_t def, int64_t *out) {
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_int(v, out) == 0 ? 0 : bad_value(ctx, key, v, "an integer");
}

static int api_config_get_double(ks_plugin_ctx *ctx, const char *key, double def, double *out) {
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_double(v, out) == 0 ? 0 : bad_value(ctx, key, v, "a number");
}

static int api_config_get_bool(ks_plugin_ctx *ctx, const char *key, int def, int *out) {
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_bool(v, out) == 0 ? 0 : bad_value(ctx, key, v, "a boolean (true/false)");
}

static int api_config_get_duration_ms(ks_plugin_ctx *ctx, const char *key, int64_t def,
                                      int64_t *out) {
  const char *v = api_config_get(ctx, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  return ks_parse_duration_ms(v, out) == 0
             ? 0
             : bad_value(ctx, key, v, "a duration (e.g. 250ms, 20s, 15m, 2h, 7d)");
}

static ks_table *api_table_declare(ks_plugin_ctx *ctx, const char *name, ks_table_kind kind,
                                   uint32_t record_size, uint32_t version, int64_t ttl_ms) {
  ks_engine *e = ctx->engine;
  if (!ctx->in_init) {
    api_log(ctx, KS_LOG_ERROR, "table_declare('%s') outside init()", name ? name : "?");
    return NULL;
  }
  if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(((ks_table *)0)->name) ||
      (kind != KS_TABLE_KEYED && kind != KS_TABLE_WINDOWED) || record_size == 0 ||
      record_size > 65536 || ttl_ms < 0) {
    api_log(ctx, KS_LOG_ERROR,
            "table_declare('%s'): bad arguments (kind %d, record_size %u, ttl %lld)",
            name ? name : "?", (int)kind, record_size, (long long)ttl_ms);
    return NULL;
  }
  for (size_t i = 0; i < e->n_tables; i++)
    if (e->tables[i]->owner == ctx && strcmp(e->tables[i]->name, name) == 0) {
      api_log(ctx, KS_LOG_ERROR, "table '%s' declared twice", name);
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

static int table_ok(ks_task *task, ks_table *t, ks_table_kind kind) {
  if (task == NULL || t == NULL)
    return 0;
  if (t->kind != kind) {
    ks_engine_log(task->engine, KS_LOG_ERROR, "state",
                  "table '%s' of plugin %s used as the wrong kind", t->name, t->owner->name);
    return 0;
  }
  return 1;
}

static void *api_keyed_get(ks_task *task, ks_table *t, const void *key, size_t keylen, int create) {
  if (!table_ok(task, t, KS_TABLE_KEYED))
    return NULL;
  ks_store *s = ks_task_store(task, t);
  return s ? ks_store_get(s, KS_STORE_NO_INTERVAL, key, keylen, create, task->now_ms) : NULL;
}

static int api_keyed_remove(ks_task *task, ks_table *t, const void *key, size_t keylen) {
  if (!table_ok(task, t, KS_TABLE_KEYED))
    return KS_ESTATE;
  ks_store *s = ks_task_store(task, t);
  return s ? ks_store_remove(s, KS_STORE_NO_INTERVAL, key, keylen) : KS_ENOENT;
}

static void *api_window_get(ks_task *task, ks_table *t, int64_t start, const void *key,
                            size_t keylen, int create) {
  if (!table_ok(task, t, KS_TABLE_WINDOWED))
    return NULL;
  if (start == task->cur_istart) { /* the event's own interval: checked and touched */
    ks_store *s = ks_task_store(task, t);
    return s ? ks_store_get(s, start, key, keylen, create, task->now_ms) : NULL;
  }
  ks_engine *e = task->engine;
  if (ks_interval_floor(start, e->opts.interval_ms) != start) {
    ks_engine_log(e, KS_LOG_ERROR, "state", "plugin %s: %lld is not an interval start",
                  t->owner->name, (long long)start);
    return NULL;
  }
  int closed = ks_clock_is_late(&task->clock, start, task->wm.value);
  /* A closed interval is writable only while it is kept for restatement. */
  if (closed && !(t->owner->restatable && ks_task_retained(task, start)))
    return NULL;
  ks_store *s = ks_task_store(task, t);
  if (s == NULL)
    return NULL;
  void *rec = ks_store_get(s, start, key, keylen, create, task->now_ms);
  if (rec && create && !closed &&
      ks_clock_touch(&task->clock, start, task->cur_part, task->cur_offset) != 0)
    return NULL;
  return rec;
}

static int api_window_foreach(ks_task *task, ks_table *t, int64_t start, ks_record_cb cb,
                              void *ud) {
  if (!table_ok(task, t, KS_TABLE_WINDOWED) || cb == NULL)
    return KS_ESTATE;
  ks_store *s = ks_task_store(task, t);
  return s ? ks_store_foreach(s, start, task->now_ms, cb, ud) : 0;
}

static int api_keyed_foreach(ks_task *task, ks_table *t, ks_record_cb cb, void *ud) {
  if (!table_ok(task, t, KS_TABLE_KEYED) || cb == NULL)
    return KS_ESTATE;
  ks_store *s = ks_task_store(task, t);
  return s ? ks_store_foreach(s, KS_STORE_NO_INTERVAL, task->now_ms, cb, ud) : 0;
}

static int32_t api_task_id(const ks_task *task) {
  return task ? task->id : -1;
}
static int64_t api_task_watermark(const ks_task *task) {
  return task ? task->wm.value : 0;
}
static int64_t api_interval_length(const ks_plugin_ctx *ctx) {
  return ctx->engine->opts.interval_ms;
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
  api->log = api_log;
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
  api->emit = ks_engine_emit;
  api->task_id = api_task_id;
  api->task_watermark_ms = api_task_watermark;
  api->interval_length_ms = api_interval_length;
  api->alloc = api_alloc;
  api->free = api_free;
  api->keyed_foreach = api_keyed_foreach;
  api->emit_to = ks_engine_emit_to;
}
