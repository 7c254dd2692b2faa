/*
 * engine_internal — the structures shared by engine.c, loader.c and
 * host_api.c. Not part of any public interface.
 *
 * Ownership: the engine owns its plugin contexts, tables, tasks and its own
 * lane; a plugin context owns its copied config strings and its uv_lib_t; a
 * task owns its stores and window bookkeeping; a lane owns its arena,
 * buffers and counters (the caller of ks_engine_lane_new owns the lane).
 *
 * Threads (engine.h "Threads"): what a plugin callback touches is its
 * task's (stores, clock, watermark, cur_*) or its lane's (decode arena,
 * encode buffers, counters, call record, the callback running); plugin
 * contexts, tables and routes are read-only once tasks open, except the
 * error counters below, which are atomic.
 */
#ifndef KS_ENGINE_INTERNAL_H
#define KS_ENGINE_INTERNAL_H

#include <stdatomic.h>
#include <uv.h>

#include "arena.h"
#include "decoder.h"
#include "engine.h"
#include "state.h"
#include "state_pages.h"
#include "window.h"

struct ks_table {
  uint32_t index; /* into engine->tables and task->stores */
  ks_table_kind kind;
  uint32_t record_size;
  uint32_t version;
  int64_t ttl_ms;
  char name[64];
  ks_plugin_ctx *owner;
};

/* The plugin callback the host is in, per plugin (ks_plugin_ctx.phase). */
typedef enum ks_phase {
  KS_PHASE_NONE = 0, /* between callbacks */
  KS_PHASE_INIT,
  KS_PHASE_EVENT,
  KS_PHASE_CLOSE,
  KS_PHASE_RESULT,
  KS_PHASE_DESTROY
} ks_phase;

struct ks_plugin_ctx {
  ks_engine *engine;
  size_t index;
  char *path;
  char *name; /* the instance name: logs, changelog, dead-letter header, call records */
  char *topic;
  ks_kv *config; /* owned copies */
  size_t n_config;
  char **config_where;          /* owned copies: "file:line:col" of each option, or NULL */
  char *where;                  /* owned copy: "file:line:col" of the plugin's entry, or NULL */
  char init_error[320];         /* the first option value refused during init, or "" */
  const char *init_error_where; /* its config_where entry (borrowed), or NULL */
  uv_lib_t lib;
  int lib_open;
  const ks_plugin_descriptor *desc;
  void *data;
  int initialized;
  ks_phase phase; /* KS_PHASE_INIT or _DESTROY while they run (one thread), else NONE;
                     the callbacks with a task are the lane's (ks_engine_lane.cur_*) */
  int restatable; /* KS_PLUGIN_F_RESTATABLE */
  int (*on_result)(void *plugin_data, ks_task *task, const char *family, const ks_result *r);
  const ks_option *option_map; /* 1.3: the plugin's typed options, or NULL */
  int (*init_ex)(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                 size_t errstr_size); /* 1.3, or NULL */
  /* counted from any lane's thread (relaxed atomics: only counts) */
  _Atomic uint64_t errors;       /* failures + refused emits: their logging's rate limit */
  _Atomic uint64_t api_refusals; /* host API calls refused (bad argument, wrong phase):
                                    their sum is stats.api_refusals */
  _Atomic uint64_t failures;     /* callbacks that returned an error (stats.plugin_errors) */
};

/* Results emitted to one output topic (ks_engine_output_topic). */
typedef struct ks_topic_count {
  char *topic; /* owned */
  uint64_t results;
} ks_topic_count;

/* A closed interval whose restatable plugins' windowed records are kept. */
typedef struct ks_retained {
  int64_t start;
  uint32_t revision; /* revision of the results last published for it */
  uint32_t changed;  /* a restatable plugin wrote to it during this event's dispatch: publish
                        it again once the dispatch is done (not checkpointed: never set
                        between events) */
} ks_retained;

struct ks_task {
  ks_engine *engine;
  ks_engine_lane *lane; /* the lane its callbacks run on: the engine's own unless bound */
  int32_t id;
  ks_watermark wm;
  ks_interval_clock clock;
  int64_t now_ms;       /* highest event time seen: the TTL clock */
  int64_t *next_offset; /* per input topic: last processed offset + 1, or -1 */
  size_t cur_part;      /* input topic of the event being dispatched */
  int64_t cur_offset;   /* its offset, or -1 outside dispatch */
  int64_t cur_istart;   /* its interval when dispatched on time (open, aligned and already
                         * touched on the clock), else KS_NO_TIME */
  ks_store **stores;    /* per declared table */
  size_t n_stores;
  ks_retained *retained; /* closed intervals kept for restatement, ascending */
  size_t n_retained, cap_retained;
  uint32_t cur_revision;  /* revision stamped on the results it emits now */
  uint64_t ckpt_baseline; /* tag of the checkpoint the stores track changes since, 0: none */
};

typedef struct ks_route {
  ks_plugin_ctx **plugins;
  size_t n;
} ks_route;

#define KS_CACHE_LINE 64

/* One thread's context for running tasks (engine.h, ks_engine_lane_new);
 * allocated on cache lines of its own. */
struct ks_engine_lane {
  _Alignas(KS_CACHE_LINE) ks_engine *engine;
  int own;         /* the engine's own lane (lanes[0]) */
  ks_sink_fn sink; /* the lane's callbacks and their user data (the options' by default) */
  void *sink_ud;
  ks_interval_closed_fn on_closed;
  void *on_closed_ud;
  ks_plugin_error_fn on_plugin_error;
  void *on_plugin_error_ud;
  ks_plugin_call *call; /* where its plugin callbacks are recorded (fatal.h) */
  ks_plugin_call own_call;
  ks_arena arena; /* decode scratch */
  uint8_t *encode_buf;
  size_t encode_cap;
  char *key_buf;
  size_t key_cap;
  /* counters: a worker lane's go into the engine's own lane at each fold */
  ks_engine_stats stats;      /* api_refusals: in the plugin contexts */
  uint64_t *topic_events;     /* per input topic: the events counted in stats.events_in */
  ks_topic_count *out_topics; /* output topics in first-emit order (owned) */
  size_t n_out_topics, cap_out_topics;
  /* the plugin callback the lane runs now (host_api.c checks a call against
   * it): written by the lane's thread, read by a check on any lane's thread,
   * hence relaxed atomics (plain moves) */
  _Atomic(ks_task *) cur_task;
  _Atomic(ks_plugin_ctx *) cur_plugin;
  _Atomic int cur_phase; /* ks_phase */
};

struct ks_engine {
  ks_engine_options opts;
  char **topics;          /* owned copies of opts.topics */
  ks_engine_lane *own;    /* the engine's own lane: lanes[0], and every count once folded */
  ks_engine_lane **lanes; /* own first, then the lanes of ks_engine_lane_new */
  size_t n_lanes, cap_lanes;
  ks_plugin_ctx **plugins;
  size_t n_plugins;
  ks_table **tables;
  size_t n_tables;
  ks_route routes[KS_BODY_MAX_ROUTE + 1];
  ks_task **tasks; /* indexed by task id */
  size_t cap_tasks;
  ks_task **task_set;  /* the open tasks by address (open addressing; NULL = empty): is a
                          pointer a plugin passes one of them? (ks_engine_lane_running) */
  size_t task_set_cap; /* a power of two, at least twice the open tasks; 0 = none */
  ks_host_api api;
  ks_pages *pages; /* large state blocks of every task's stores (locked inside) */
};

/* engine.c: the retained (closed, restatable) interval starting at start. */
ks_retained *ks_task_retained(const ks_task *t, int64_t start);

/* loader.c: open the shared object and check its descriptor. */
int ks_loader_open(ks_plugin_ctx *ctx, char *errstr, size_t errstr_size);
void ks_loader_close(ks_plugin_ctx *ctx);

/* host_api.c: fill the service table. */
void ks_host_api_init(ks_host_api *api);

/* engine.c: used by host_api.c */
ks_store *ks_task_store(ks_task *t, const ks_table *table);
int ks_engine_emit(ks_plugin_ctx *ctx, ks_task *task, const ks_result *r);
/* The lane running task's callback with ctx now, or NULL: task is the
 * current callback's task on some lane (compared, never dereferenced). */
ks_engine_lane *ks_engine_lane_running(const ks_engine *e, const ks_task *task);
int ks_engine_emit_to(ks_plugin_ctx *ctx, ks_task *task, const char *output, const ks_result *r);
void ks_engine_log(const ks_engine *e, int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
