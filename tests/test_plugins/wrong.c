/*
 * A plugin built wrong on purpose for test_loader; CMakeLists.txt compiles it
 * several times, each with one defect chosen by these macros:
 *   WRONG_NAME   plugin name          WRONG_MINOR  abi_minor (e.g. minor + 1)
 *   WRONG_MAJOR  abi_major (major+1)  WRONG_SIZE   struct_size (e.g. 16)
 *   WRONG_INIT   what init() returns (e.g. KS_EINVAL)
 *   WRONG_API    1: init() calls emit and every other host API function
 *                wrongly (NULL arguments, no task, bad values) and returns
 *                KS_EINVAL when the host refused each call, KS_EPLUGIN when
 *                it accepted one; 2: init() is fine, on_event() and
 *                on_interval_close() misuse the API the same way (wrong
 *                phase, task, kind, key) and fail when a call is accepted,
 *                destroy() calls the API too (aborts if accepted); 3:
 *                on_event() emits a result whose struct_size (12) ends
 *                inside the padding before `metric`, from a 12-byte heap
 *                block: the host must refuse it without reading past it
 *                (valgrind and ASan see a read of `metric`).
 */
#include "kpistream/plugin.h"

#ifndef WRONG_MAJOR
#define WRONG_MAJOR KS_PLUGIN_ABI_MAJOR
#endif
#ifndef WRONG_MINOR
#define WRONG_MINOR KS_PLUGIN_ABI_MINOR
#endif
#ifndef WRONG_SIZE
#define WRONG_SIZE sizeof(ks_plugin_descriptor)
#endif
#ifndef WRONG_INIT
#define WRONG_INIT 0
#endif
#ifndef WRONG_API
#define WRONG_API 0
#endif

#include <stdlib.h>
#include <string.h>

/* One misuse: the host must refuse it (not_ok true), else count it. */
#define MUST_REFUSE(bad, not_ok)                                                                   \
  do {                                                                                             \
    if (!(not_ok)) {                                                                               \
      api->log(ctx, KS_LOG_ERROR, "the host accepted %s", #bad);                                   \
      (*accepted)++;                                                                               \
    }                                                                                              \
  } while (0)

typedef struct wrong_data {
  ks_plugin_ctx *ctx;
  const ks_host_api *api;
  ks_table *keyed, *windowed;
  ks_task *last_task;
} wrong_data;

static int misuse_everywhere(ks_plugin_ctx *ctx, const ks_host_api *api, ks_task *task,
                             const wrong_data *d, int *accepted) {
  ks_result r = KS_RESULT_INIT;
  r.metric = "m";
  r.tenant = "t";
  r.interval_start_ms = 0;
  r.interval_end_ms = 900000;
  r.aggregation = KS_AGG_SUM;
  int64_t i64 = 0;
  double dbl = 0;
  static const char key[KS_KEY_MAX + 1] = "k";
  MUST_REFUSE(emit(ctx, NULL, &r), api->emit(ctx, NULL, &r) < 0);
  MUST_REFUSE(emit(NULL, task, &r), api->emit(NULL, task, &r) < 0);
  MUST_REFUSE(emit(ctx, task, NULL), api->emit(ctx, task, NULL) < 0);
  MUST_REFUSE(emit_to(ctx, NULL, "alerts", &r), api->emit_to(ctx, NULL, "alerts", &r) < 0);
  MUST_REFUSE(emit_to(ctx, task, NULL, &r), api->emit_to(ctx, task, NULL, &r) < 0);
  MUST_REFUSE(config_get(ctx, NULL), api->config_get(ctx, NULL) == NULL);
  MUST_REFUSE(config_get(NULL, "x"), api->config_get(NULL, "x") == NULL);
  MUST_REFUSE(config_get_int(ctx, "x", 0, NULL), api->config_get_int(ctx, "x", 0, NULL) < 0);
  MUST_REFUSE(config_get_int(ctx, NULL), api->config_get_int(ctx, NULL, 0, &i64) < 0);
  MUST_REFUSE(config_get_double(NULL), api->config_get_double(NULL, "x", 0, &dbl) < 0);
  MUST_REFUSE(config_get_bool(ctx, NULL out), api->config_get_bool(ctx, "x", 0, NULL) < 0);
  MUST_REFUSE(config_get_duration_ms(ctx, NULL out),
              api->config_get_duration_ms(ctx, "x", 0, NULL) < 0);
  MUST_REFUSE(table_declare(NULL), api->table_declare(NULL, "t", KS_TABLE_KEYED, 8, 1, 0) == NULL);
  MUST_REFUSE(table_declare(bad kind), api->table_declare(ctx, "t", 99, 8, 1, 0) == NULL);
  MUST_REFUSE(table_declare(size 0), api->table_declare(ctx, "t", KS_TABLE_KEYED, 0, 1, 0) == NULL);
  MUST_REFUSE(table_declare(NULL name),
              api->table_declare(ctx, NULL, KS_TABLE_KEYED, 8, 1, 0) == NULL);
  MUST_REFUSE(keyed_get(no table), api->keyed_get(task, NULL, "k", 1, 1) == NULL);
  MUST_REFUSE(keyed_get(no task), api->keyed_get(NULL, d->keyed, "k", 1, 1) == NULL);
  MUST_REFUSE(keyed_get(NULL key), api->keyed_get(task, d->keyed, NULL, 4, 1) == NULL);
  MUST_REFUSE(keyed_get(long key), api->keyed_get(task, d->keyed, key, sizeof key, 1) == NULL);
  MUST_REFUSE(keyed_get(windowed table), api->keyed_get(task, d->windowed, "k", 1, 1) == NULL);
  MUST_REFUSE(keyed_remove(no task), api->keyed_remove(NULL, d->keyed, "k", 1) < 0);
  MUST_REFUSE(window_get(no task), api->window_get(NULL, d->windowed, 0, "k", 1, 1) == NULL);
  MUST_REFUSE(window_get(keyed table), api->window_get(task, d->keyed, 0, "k", 1, 1) == NULL);
  MUST_REFUSE(window_foreach(NULL cb), api->window_foreach(task, d->windowed, 0, NULL, NULL) < 0);
  MUST_REFUSE(keyed_foreach(no task), api->keyed_foreach(NULL, d->keyed, NULL, NULL) < 0);
  MUST_REFUSE(interval_length_ms(NULL), api->interval_length_ms(NULL) < 0);
  MUST_REFUSE(task_id(NULL), api->task_id(NULL) < 0);
  api->log(NULL, KS_LOG_ERROR, "%s", "to nobody"); /* ignored, no crash */
  return 0;
}

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, 0};

static int p_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data) {
  if (WRONG_INIT != 0)
    api->log(ctx, KS_LOG_ERROR, "init refuses on purpose");
  if (WRONG_API == 0)
    return WRONG_INIT;
  wrong_data *d = api->alloc(sizeof *d);
  if (d == NULL)
    return KS_ENOMEM;
  d->ctx = ctx;
  d->api = api;
  d->keyed = api->table_declare(ctx, "keyed", KS_TABLE_KEYED, 16, 1, 0);
  d->windowed = api->table_declare(ctx, "windowed", KS_TABLE_WINDOWED, 16, 1, 0);
  *data = d;
  int accepted = 0;
  if (d->keyed == NULL || d->windowed == NULL)
    accepted++;
  if (WRONG_API == 1) { /* init: there is no task, nothing may be emitted */
    misuse_everywhere(ctx, api, NULL, d, &accepted);
    api->free(d);
    *data = NULL;
    return accepted ? KS_EPLUGIN : KS_EINVAL;
  }
  return accepted ? KS_EPLUGIN : 0;
}

/* A result of 12 bytes: struct_size covers what precedes `metric` but
 * not the pointer itself (at offset 8 on LP64, after 4 bytes of padding). */
static int short_result(wrong_data *d, ks_task *t) {
  unsigned char *b = malloc(12);
  if (b == NULL)
    return KS_ENOMEM;
  uint32_t size = 12;
  memset(b, 0, 12);
  memcpy(b, &size, sizeof size);
  void *r = b;
  int rc = d->api->emit(d->ctx, t, (const ks_result *)r);
  free(b);
  return rc < 0 ? 0 : KS_EPLUGIN; /* accepted: wrong */
}

static int p_event(void *data, ks_task *t, const ks_event *e) {
  wrong_data *d = data;
  if (WRONG_API == 0)
    return 0;
  if (WRONG_API == 3)
    return short_result(d, t);
  ks_plugin_ctx *ctx = d->ctx;
  const ks_host_api *api = d->api;
  int n = 0, *accepted = &n;
  misuse_everywhere(ctx, api, t, d, accepted);
  MUST_REFUSE(table_declare in on_event,
              api->table_declare(ctx, "late", KS_TABLE_KEYED, 8, 1, 0) == NULL);
  MUST_REFUSE(keyed_get(another task), api->keyed_get((ks_task *)d, d->keyed, "k", 1, 1) == NULL);
  /* and the right calls still work */
  if (api->keyed_get(t, d->keyed, "k", 1, 1) == NULL ||
      api->window_get(t, d->windowed, e->interval_start_ms, "k", 1, 1) == NULL)
    n++;
  d->last_task = t;
  return n ? KS_EPLUGIN : 0;
}

static int p_close(void *data, ks_task *t, const ks_interval *iv) {
  (void)iv;
  wrong_data *d = data;
  if (WRONG_API == 0 || WRONG_API == 3)
    return 0;
  int n = 0;
  misuse_everywhere(d->ctx, d->api, t, d, &n);
  return n ? KS_EPLUGIN : 0;
}

static void p_destroy(void *data) {
  wrong_data *d = data;
  if (d == NULL)
    return;
  if (WRONG_API == 3) {
    d->api->free(d);
    return;
  }
  ks_result r = KS_RESULT_INIT;
  r.metric = "m";
  r.tenant = "t";
  r.interval_end_ms = 1;
  /* the task is gone by now: the host must not touch it */
  if (d->api->keyed_get(d->last_task, d->keyed, "k", 1, 1) != NULL ||
      d->api->emit(d->ctx, d->last_task, &r) == 0 ||
      d->api->keyed_foreach(d->last_task, d->keyed, NULL, NULL) >= 0)
    abort();
  d->api->free(d);
}

static const ks_plugin_descriptor desc = {
    .abi_major = WRONG_MAJOR,
    .abi_minor = WRONG_MINOR,
    .struct_size = WRONG_SIZE,
    .name = WRONG_NAME,
    .version = "0.0.1",
    .description = "built wrong on purpose",
    .interests = interests,
    .init = p_init,
    .on_event = p_event,
    .on_interval_close = p_close,
    .destroy = p_destroy,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &desc;
}
