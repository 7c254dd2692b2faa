/*
 * kpistream plugin SDK — the only header a KPI plugin includes.
 *
 * A plugin is a shared object that exports one function,
 *
 *     const ks_plugin_descriptor *kpistream_plugin_entry(void);
 *
 * returning a pointer to a static, versioned descriptor (ABI major/minor,
 * struct size, name, version, the event bodies it wants, its callbacks).
 * The host passes its services in as a function table (ks_host_api) that only
 * ever grows at the end, so a plugin never links against the host binary.
 *
 * Compatibility (checked by the loader, see docs/plugins.md):
 *   - abi_major must equal KS_PLUGIN_ABI_MAJOR of the host;
 *   - abi_minor must be <= the host's minor (a plugin built against a newer
 *     SDK may call services this host does not have);
 *   - struct_size must be >= the size of the 1.0 descriptor.
 * The host reads a field newer than 1.0 only when abi_minor and struct_size
 * both say the plugin has it, so 1.0-1.2 plugins load unchanged.
 *
 * Ownership, in librdkafka's manner, is written on every call below. In
 * short: the host owns every pointer it hands to a plugin, and those pointers
 * are valid only for the duration of the callback unless said otherwise; the
 * plugin owns its `plugin_data` and frees it in destroy().
 *
 * State: a plugin keeps no mutable globals and no private hash tables. All
 * per-contact, per-agent, per-customer and per-interval aggregates live in
 * host-owned tables of fixed-size, pointer-free records (see ks_table_*), so
 * the host can checkpoint, restore and move them between instances.
 */
#ifndef KPISTREAM_PLUGIN_H
#define KPISTREAM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kpistream/v1/events.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KS_PLUGIN_ABI_MAJOR 1
#define KS_PLUGIN_ABI_MINOR 3

/* Name of the symbol every plugin exports. */
#define KS_PLUGIN_ENTRY_SYMBOL "kpistream_plugin_entry"

#if defined(_WIN32)
#define KS_PLUGIN_EXPORT __declspec(dllexport)
#else
#define KS_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Error codes: 0 is success, errors are negative (libuv style). ------- */
#define KS_OK      0
#define KS_EINVAL  (-22)   /* invalid argument or configuration value */
#define KS_ENOMEM  (-12)   /* out of memory or state budget */
#define KS_ENOENT  (-2)    /* no such key / plugin / symbol */
#define KS_EABI    (-1001) /* ABI mismatch */
#define KS_EDECODE (-1002) /* undecodable or schema-invalid input */
#define KS_ELATE   (-1003) /* event later than its interval's close */
#define KS_EPLUGIN (-1004) /* a plugin callback failed */
#define KS_EKAFKA  (-1005) /* a Kafka client error */
#define KS_ECONFIG (-1006) /* bad configuration */
#define KS_ESTATE  (-1007) /* state table misuse (wrong size, wrong kind) */

/* Longest text ks_strerror() writes, NUL included. */
#define KS_STRERROR_SIZE 48

/* The text of an error code (1.3), into buf (size bytes, KS_STRERROR_SIZE
 * hold every one): "invalid argument" for KS_EINVAL and one text for each
 * KS_E* above,
 * "success" for KS_OK, and "unknown error N" for any other N, so a message
 * always names the number it was given. Returns buf. Header-only: nothing
 * is called in the host. */
static inline const char *ks_strerror_r(int err, char *buf, size_t size) {
  const char *s;
  switch (err) {
  case KS_OK:
    s = "success";
    break;
  case KS_EINVAL:
    s = "invalid argument";
    break;
  case KS_ENOMEM:
    s = "out of memory";
    break;
  case KS_ENOENT:
    s = "not found";
    break;
  case KS_EABI:
    s = "plugin ABI mismatch";
    break;
  case KS_EDECODE:
    s = "undecodable input";
    break;
  case KS_ELATE:
    s = "event after its interval closed";
    break;
  case KS_EPLUGIN:
    s = "plugin callback failed";
    break;
  case KS_EKAFKA:
    s = "Kafka client error";
    break;
  case KS_ECONFIG:
    s = "bad configuration";
    break;
  case KS_ESTATE:
    s = "state table misuse";
    break;
  default:
    s = NULL;
    break;
  }
  if (buf == NULL || size == 0)
    return "";
  size_t i = 0;
  if (s != NULL) {
    for (; s[i] && i + 1 < size; i++)
      buf[i] = s[i];
    buf[i] = '\0';
    return buf;
  }
  /* "unknown error N", without stdio */
  static const char pre[] = "unknown error ";
  char num[16];
  size_t n = 0;
  unsigned long long u = err < 0 ? 0ULL - (unsigned long long)err : (unsigned long long)err;
  do
    num[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0 && n < sizeof num);
  for (; pre[i] && i + 1 < size; i++)
    buf[i] = pre[i];
  if (err < 0 && i + 1 < size)
    buf[i++] = '-';
  while (n > 0 && i + 1 < size)
    buf[i++] = num[--n];
  buf[i] = '\0';
  return buf;
}

/* ks_strerror(err): the same text, in a buffer that lives until the end of
 * the enclosing block (a C99 compound literal), e.g.
 *     api->log(ctx, KS_LOG_ERROR, "read failed: %s", ks_strerror(rc));  */
#ifndef __cplusplus /* C++ has no compound literals: use ks_strerror_r */
#define ks_strerror(err) ks_strerror_r((err), (char[KS_STRERROR_SIZE]){0}, KS_STRERROR_SIZE)
#endif

/* ---- Opaque host objects ------------------------------------------------ */
typedef struct ks_plugin_ctx ks_plugin_ctx; /* one per loaded plugin; host-owned */
typedef struct ks_task ks_task;             /* one per input partition number; host-owned */
typedef struct ks_table ks_table;           /* a declared state table; host-owned */

/* ---- Events as the host hands them to on_event ------------------------- */
typedef struct ks_event {
  const Kpistream__V1__Event *msg; /* decoded once by the host; valid during the call */
  uint32_t body;                   /* == msg->body_case */
  int64_t time_ms;                 /* == msg->event_time_ms */
  int64_t interval_start_ms;       /* interval the event time falls in */
  int64_t interval_end_ms;
  const char *topic; /* input topic it came from */
  int32_t partition;
  int64_t offset;
} ks_event;

/* ---- Results ----------------------------------------------------------- */
typedef enum ks_agg {
  KS_AGG_RATIO = 1, /* value = numerator / denominator */
  KS_AGG_SUM = 2,   /* value = numerator */
  KS_AGG_MAX = 3,
  KS_AGG_MIN = 4,
  KS_AGG_GAUGE = 5
} ks_agg;

/* The aggregation level of a result (kpistream.v1.Level, docs/metrics.md
 * "Levels"). Readers select rows by level, never by which dimensions are
 * empty. The rows of one level partition a metric's measurements; what no
 * queue or agent row could hold (feedback about an unknown contact, a
 * contact with no queue) is in KS_LEVEL_UNATTRIBUTED rows, so the tenant
 * total is the sum of one level's rows plus the unattributed ones. The level
 * is not part of the result key: two rows of one metric and interval must
 * differ in their dimensions or labels, not only in their level. */
typedef enum ks_level {
  KS_LEVEL_UNSPECIFIED = 0, /* not said (plugins built against 1.1) */
  KS_LEVEL_CONTACT = 1,
  KS_LEVEL_AGENT = 2,
  KS_LEVEL_TEAM = 3,
  KS_LEVEL_QUEUE = 4,
  KS_LEVEL_CHANNEL = 5,
  KS_LEVEL_TENANT = 6,
  KS_LEVEL_UNATTRIBUTED = 7,
  KS_LEVEL_EVALUATOR = 8
} ks_level;

typedef struct ks_label {
  const char *key;
  const char *value;
} ks_label;

/*
 * One result. All strings are borrowed for the duration of emit(); the host
 * copies what it keeps. Set struct_size = sizeof(ks_result) (KS_RESULT_INIT).
 * A RATIO is published without a value (null), never 0, when its denominator
 * is <= 0; numerator and denominator are published as they are (negative
 * when the interval holds a correction), so roll-ups can sum them. Fields are
 * only appended (1.2: level); the host reads a field only when struct_size
 * covers it and treats a missing one as 0.
 */
typedef struct ks_result {
  uint32_t struct_size;
  const char *metric;
  int64_t interval_start_ms;
  int64_t interval_end_ms;
  const char *tenant;
  int channel; /* Kpistream__V1__Channel; 0 = all channels */
  const char *queue;
  const char *agent_id;
  const char *team;
  const ks_label *labels;
  size_t n_labels;
  int has_value; /* for non-RATIO results: 0 publishes a null value */
  double value;  /* ignored for RATIO (computed by the host) */
  double numerator;
  double denominator;
  int64_t count;
  ks_agg aggregation;
  const char *unit;
  /* -- 1.2 ---------------------------------------------------------------- */
  ks_level level; /* set it on every result; a 1.1 plugin's results carry 0 */
} ks_result;

#define KS_RESULT_INIT                                                                             \
  { .struct_size = sizeof(ks_result) }

/* Set the value part of a RATIO result as the host publishes it: value =
 * num / den, none (has_value 0) when den <= 0. num and den are kept as they
 * are, negative ones included: they are the interval's exact contributions. */
static inline void ks_result_set_ratio(ks_result *r, double num, double den, int64_t count) {
  r->aggregation = KS_AGG_RATIO;
  r->has_value = den > 0.0;
  r->value = den > 0.0 ? num / den : 0.0;
  r->numerator = num;
  r->denominator = den;
  r->count = count;
}

/* ---- State tables ------------------------------------------------------- */
typedef enum ks_table_kind {
  /* Keyed: one record per key per task, kept until removed or idle for
   * longer than ttl_ms of event time (0 = no TTL). */
  KS_TABLE_KEYED = 1,
  /* Windowed: one record per key per interval per task; the host drops the
   * interval's records after on_interval_close() returns. */
  KS_TABLE_WINDOWED = 2
} ks_table_kind;

#define KS_KEY_MAX 256

/*
 * Longest identifier or code the host passes to a plugin: every string field
 * of an Event (tenant, contact_id, customer_id, queue, agent_id, team,
 * event_id and the ids, codes and names of the bodies). Longer ones are
 * refused at decode (dead-lettered with the reason), never silently dropped
 * by a plugin. It is what every state key and stored name can hold: a
 * ks_key has 254 bytes, the largest a plugin builds (quality's category
 * rows: two one-byte parts, tenant, queue, agent, team or evaluator, and a
 * category, each with its length byte) takes 2*2 + 5*(1 + 47) = 244 bytes;
 * names kept in records (a contact's queue, an agent's team) are
 * char[KS_ID_MAX + 1]. Size your own fields from it.
 */
#define KS_ID_MAX 47

/* Called for each record of a windowed interval, or each keyed record.
 * key/record are host-owned. Return 0 to go on, non-zero to stop. */
typedef int (*ks_record_cb)(void *ud, const void *key, size_t keylen, void *record);

/* ---- Log levels (syslog numbers) --------------------------------------- */
#define KS_LOG_ERROR 3
#define KS_LOG_WARN  4
#define KS_LOG_INFO  6
#define KS_LOG_DEBUG 7

/*
 * Services the host offers. Append-only: a new minor adds members at the end
 * and raises struct_size; check api->struct_size before calling a member
 * newer than your abi_minor.
 *
 * Every member checks its arguments and the callback it is called from
 * ("Phases:" below; init, on_event, on_interval_close, on_result, destroy).
 * A call with a NULL or wrong argument (no task, another callback's task,
 * the other kind of table, a key longer than KS_KEY_MAX, a result without
 * KS_RESULT_INIT...) or from a phase not listed is refused: it returns a
 * negative error (or NULL, or -1 as said), is logged with the plugin's name
 * and counted (the engine's api_refusals), and changes nothing. Pointers
 * that are neither NULL nor the host's own cannot be told apart: pass only
 * what the host handed you.
 */
typedef struct ks_host_api {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t struct_size;

  /* -- 1.0 ---------------------------------------------------------------- */

  /* Log a line prefixed with the plugin's name. fmt is printf-style.
   * Phases: all. A NULL ctx or fmt logs nothing. */
  void (*log)(ks_plugin_ctx *ctx, int level, const char *fmt, ...)
      __attribute__((format(printf, 3, 4)));

  /* The plugin's configuration value for key, or NULL when unset. The string
   * is host-owned and valid until destroy(). Phases: all. */
  const char *(*config_get)(ks_plugin_ctx *ctx, const char *key);

  /* Typed configuration readers. On success store into *out and return 0;
   * when the key is unset store def. A malformed value returns KS_EINVAL and
   * logs an error naming the plugin, key and value. Durations accept
   * "250ms", "20s", "15m", "2h", "7d" or a bare number of seconds; numbers
   * are plain decimals (no blanks, '+', hex, inf or nan, no overflow).
   * NULL key or out: KS_EINVAL. Phases: all (read options in init). */
  int (*config_get_int)(ks_plugin_ctx *ctx, const char *key, int64_t def, int64_t *out);
  int (*config_get_double)(ks_plugin_ctx *ctx, const char *key, double def, double *out);
  int (*config_get_bool)(ks_plugin_ctx *ctx, const char *key, int def, int *out);
  int (*config_get_duration_ms)(ks_plugin_ctx *ctx, const char *key, int64_t def_ms,
                                int64_t *out_ms);

  /* Declare a state table; only from init(). record_size is the size of the
   * plugin's fixed, pointer-free record struct; version is bumped whenever
   * its layout changes (checkpoints of another version are refused).
   * Returns a host-owned handle valid until destroy(), or NULL (logged).
   * Phases: init only. */
  ks_table *(*table_declare)(ks_plugin_ctx *ctx, const char *name, ks_table_kind kind,
                             uint32_t record_size, uint32_t version, int64_t ttl_ms);

  /* Keyed tables: the record for key in task, or NULL if absent and
   * create == 0. A created record is zero-filled. The pointer is host-owned;
   * records never move, so it stays valid until the record is removed or
   * expires (never across callbacks: TTL expiry runs between them). Touching
   * a record renews its TTL at the task's current event time. task is the
   * one the current callback received; key is not NULL and at most
   * KS_KEY_MAX bytes (a ks_key with overflow set cannot be stored).
   * Phases: on_event, on_interval_close, on_result (as for every table
   * call below). */
  void *(*keyed_get)(ks_task *task, ks_table *t, const void *key, size_t keylen, int create);
  /* Remove key; returns 0, KS_ENOENT when absent, or KS_EINVAL (refused). */
  int (*keyed_remove)(ks_task *task, ks_table *t, const void *key, size_t keylen);

  /* Windowed tables: the record for key in the interval starting at
   * interval_start_ms; valid until that interval's on_interval_close
   * returns. Returns NULL if the interval is already closed (late), which
   * includes the interval being closed during on_interval_close() and
   * on_result(): read its records there with window_foreach, and keep
   * anything computed at close in a keyed table. */
  void *(*window_get)(ks_task *task, ks_table *t, int64_t interval_start_ms, const void *key,
                      size_t keylen, int create);
  /* Visit every record of the interval in insertion order. Returns 0, the
   * callback's stop value, or KS_EINVAL (refused, e.g. a NULL cb). */
  int (*window_foreach)(ks_task *task, ks_table *t, int64_t interval_start_ms, ks_record_cb cb,
                        void *ud);

  /* Publish a result to the plugin's output topic. The host copies what it
   * needs. Returns 0 or a negative error. task is the current callback's.
   * Phases: on_event, on_interval_close, on_result (never init or destroy:
   * there is no task then, and no producer under --check-config). */
  int (*emit)(ks_plugin_ctx *ctx, ks_task *task, const ks_result *r);

  /* The task's partition number (-1 for NULL), current watermark (0 for
   * NULL) and interval length (KS_EINVAL for a NULL ctx). Phases: all
   * (task_id and task_watermark_ms need a task: not in init or destroy). */
  int32_t (*task_id)(const ks_task *task);
  int64_t (*task_watermark_ms)(const ks_task *task);
  int64_t (*interval_length_ms)(const ks_plugin_ctx *ctx);

  /* Memory for the plugin's own private, non-state data (plugin_data).
   * Phases: all. */
  void *(*alloc)(size_t size);
  void (*free)(void *ptr);

  /* Visit every live record of a keyed table of the task, in no set order (e.g.
   * contacts still waiting at interval close): records idle for longer than
   * the TTL at the task's event time are skipped, as keyed_get finds them
   * gone. The callback must not add or remove records. Returns 0, the
   * callback's non-zero stop value, or KS_EINVAL (refused). Phases: on_event,
   * on_interval_close, on_result. */
  int (*keyed_foreach)(ks_task *task, ks_table *t, ks_record_cb cb, void *ud);

  /* -- 1.1 ---------------------------------------------------------------- */

  /* Publish a result to a secondary output of the plugin. Its topic is the
   * plugin's output topic with the last dot-separated part replaced by
   * `output` ([a-z0-9_]+): kpi.scorecard -> kpi.alerts. Otherwise as emit().
   * Results emitted here are not passed to other plugins' on_result.
   * Phases: as emit(). */
  int (*emit_to)(ks_plugin_ctx *ctx, ks_task *task, const char *output, const ks_result *r);

  /* -- 1.3 ---------------------------------------------------------------- */

  /* A KS_OPT_CHOICE option of the plugin's option map (below): stores into
   * *index the position of its value (or of the map's default when unset)
   * in the option's choices. The host checked the value before init, so it
   * is always one of them. KS_EINVAL (logged) when key is not a choice
   * option of the map, or unset without a default. Phases: all. */
  int (*config_get_choice)(ks_plugin_ctx *ctx, const char *key, int *index);
} ks_host_api;

/* ---- The option map (1.3) ------------------------------------------------
 *
 * Every option a plugin accepts, declared once (Fluent Bit's config_map):
 *
 *   static const char *const scope_choices[] = {"any_channel", "same_channel", NULL};
 *   static const ks_option options[] = {
 *       {"fcr.window", KS_OPT_DURATION, "7d", "how far back a repeat contact counts"},
 *       {"fcr.scope", KS_OPT_CHOICE, "any_channel", "what a repeat is", scope_choices},
 *       {NULL}};
 *   ... .option_map = options, ...
 *
 * From it the host, before init(): refuses a key not in the map, a value
 * that does not parse as the option's type, and a choice not among its
 * choices, naming the file:line:col of the value; and answers the
 * config_get* readers: an unset option reads as the map's default (the
 * reader's own default argument is used only when the map gives none).
 * `kpistream plugins describe NAME` prints the map. */
typedef enum ks_option_type {
  KS_OPT_STRING = 1,   /* any text */
  KS_OPT_INT = 2,      /* a plain decimal integer (config_get_int) */
  KS_OPT_DOUBLE = 3,   /* a plain decimal number (config_get_double) */
  KS_OPT_BOOL = 4,     /* true/false, yes/no, on/off, 1/0 (config_get_bool) */
  KS_OPT_DURATION = 5, /* 250ms, 20s, 15m, 2h, 7d or seconds (config_get_duration_ms) */
  KS_OPT_CHOICE = 6    /* one of `choices` (config_get_choice) */
} ks_option_type;

typedef struct ks_option {
  const char *name; /* the key; NULL ends the map */
  ks_option_type type;
  const char *def;            /* the default as it would be written, or NULL: none */
  const char *description;    /* one line, for `plugins describe` */
  const char *const *choices; /* KS_OPT_CHOICE: the accepted values, NULL-terminated */
} ks_option;

/* Refuse an option's value from init_ex, after the host's type checks (a
 * range, a relation between options): writes "option 'KEY': 'VALUE' WHY"
 * (VALUE "(default)" when unset) into errstr and returns KS_EINVAL. The
 * host names the option's place in the configuration when errstr starts
 * with "option 'KEY'" for a configured KEY, else the plugin's entry. */
static inline int ks_option_refuse(ks_plugin_ctx *ctx, const ks_host_api *api, const char *key,
                                   const char *why, char *errstr, size_t errstr_size) {
  const char *v = ctx != NULL && api != NULL ? api->config_get(ctx, key) : NULL;
  if (errstr != NULL && errstr_size > 0)
    snprintf(errstr, errstr_size, "option '%s': '%s' %s", key, v ? v : "(default)", why);
  return KS_EINVAL;
}

/* ---- Interval passed to on_interval_close ------------------------------ */
typedef struct ks_interval {
  int64_t start_ms;
  int64_t end_ms;
} ks_interval;

/* ---- The descriptor ---------------------------------------------------- */
typedef struct ks_plugin_descriptor {
  uint32_t abi_major;   /* KS_PLUGIN_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* KS_PLUGIN_ABI_MINOR the plugin was built with */
  uint32_t struct_size; /* sizeof(ks_plugin_descriptor) the plugin was built with */
  const char *name;     /* metric family, [a-z0-9_]+; also the default output topic suffix */
  const char *version;  /* the plugin's own version */
  const char *description;
  /* Body field numbers of Event the plugin wants (KPISTREAM__V1__EVENT__BODY_*),
   * terminated by 0. Events of other bodies are never passed to it. */
  const uint32_t *interests;

  /* Called once after loading. Declare tables and read configuration here;
   * store private data in *plugin_data (owned by the plugin). Return 0, or a
   * negative error after logging why: the host then refuses to start.
   * May be NULL when init_ex (1.3) is set. */
  int (*init)(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data);

  /* Called for every event of an interesting body whose interval is still
   * open. Return 0, or a negative error (logged and counted by the host). */
  int (*on_event)(void *plugin_data, ks_task *task, const ks_event *ev);

  /* Called once per task and interval when the watermark passes the
   * interval's end plus grace, in interval order. Emit results here. The
   * interval's windowed records are dropped when it returns. */
  int (*on_interval_close)(void *plugin_data, ks_task *task, const ks_interval *iv);

  /* Free plugin_data. Tables are freed by the host. */
  void (*destroy)(void *plugin_data);

  /* Option keys the plugin accepts, NULL-terminated; the host refuses any
   * other key in the plugin's configuration (typos fail at start). NULL:
   * the host does not check. Ignored when option_map (1.3) is set. */
  const char *const *options;

  /* -- 1.1 ---------------------------------------------------------------- */

  /* KS_PLUGIN_F_* bits. Read by the host only when struct_size covers it. */
  uint32_t flags;

  /* Results of the other plugins, in process (e.g. a scorecard): called for
   * every result another plugin of the same task publishes with emit(),
   * while that plugin closes an interval. A plugin with on_result closes
   * each interval after every plugin without one, so by its own
   * on_interval_close it has seen all of that interval's results. `family`
   * is the emitting plugin's name; r and its strings are valid for the call
   * only; state goes in host tables as usual. NULL: not interested. */
  int (*on_result)(void *plugin_data, ks_task *task, const char *family, const ks_result *r);

  /* -- 1.3 ---------------------------------------------------------------- */

  /* The options the plugin accepts, typed (see ks_option), ended by an
   * entry with a NULL name. When set, it replaces `options`: the host
   * validates every configured option against it before init. NULL: as in
   * 1.2 (the `options` list, or no check). */
  const ks_option *option_map;

  /* init with an error message: called instead of init when set. On
   * failure write why into errstr (errstr_size bytes, NUL-terminated;
   * librdkafka's convention) and return a negative error: the host refuses
   * to start with "<config file:line>: plugin <path> (<name> <version>):
   * init failed with <rc> (<ks_strerror(rc)>): <errstr>". */
  int (*init_ex)(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                 size_t errstr_size);
} ks_plugin_descriptor;

/*
 * The plugin's on_interval_close() only reads state (the interval's windowed
 * records, keyed records) and emits: calling it again after more events of
 * that interval yields the corrected results. The host then keeps the
 * plugin's windowed records of closed intervals for the restatement horizon
 * (intervals.restatement_horizon), passes it events that arrive late within
 * that horizon, and re-closes the interval, publishing each result again
 * with a higher revision. Without the flag, late events are not passed to
 * the plugin.
 */
#define KS_PLUGIN_F_RESTATABLE 1u

typedef const ks_plugin_descriptor *(*ks_plugin_entry_fn)(void);

/* The well-known entry point a plugin defines. */
KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void);

#ifdef __cplusplus
}
#endif

/* The SDK helpers (keys, KS_API_HAS, result setters, emitter): sdk.h. */
#include "kpistream/sdk.h"

#endif /* KPISTREAM_PLUGIN_H */
