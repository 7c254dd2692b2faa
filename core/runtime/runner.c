/*
 * runner — `kpistream run`: setup, the loop's callbacks, teardown. See
 * runner.h; the event-time merge is merge.c, the commit barriers barrier.c
 * (with runner_checkpoint.c for what they carry), the memory budget
 * budget.c, the command line run_args.c.
 */
#include "runner.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "config.h"
#include "dead_letter.h"
#include "engine.h"
#include "kafka_conf.h"
#include "kafka_consumer.h"
#include "kafka_producer.h"
#include "log.h"
#include "ops.h" /* i14: the operator's side (ops.h) */
#include "result_format.h"
#include "run_args.h"
#include "runner_internal.h"
#include "workers.h"

#define rlog ks_runner_log

#define KS_DRAIN_BUDGET 16384u /* messages processed before the loop runs its other handles */

void ks_runner_log(runner *r, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ks_logv(r->cfg.log_level, level, "runner", fmt, ap);
  va_end(ap);
}

static ks_merge_part *part_get(runner *r, uint32_t topic, int32_t p) {
  return ks_merge_part_get(&r->merge, topic, p);
}

static part_io *io_of(runner *r, const ks_merge_part *mp) {
  return &r->io[mp - r->merge.parts];
}

/* Milliseconds left of shutdown.timeout once the stop began; normal_ms before. */
static int stop_budget_ms(runner *r, int normal_ms) {
  if (r->stop_deadline_ns == 0)
    return normal_ms;
  uint64_t now = uv_hrtime();
  return now >= r->stop_deadline_ns ? 0 : (int)((r->stop_deadline_ns - now) / 1000000u);
}

static int topic_index_by_name(runner *r, const char *name) {
  for (size_t i = 0; i < r->cfg.n_topics; i++)
    if (strcmp(r->cfg.topics[i], name) == 0)
      return (int)i;
  return -1;
}

static int topic_index(runner *r, rd_kafka_topic_t *rkt) {
  for (size_t i = 0; i < r->n_rkt; i++)
    if (r->rkt_cache[i] == rkt)
      return (int)r->rkt_index[i];
  int idx = topic_index_by_name(r, rd_kafka_topic_name(rkt));
  if (idx >= 0 && r->n_rkt < 64) {
    r->rkt_cache[r->n_rkt] = rkt;
    r->rkt_index[r->n_rkt++] = (uint32_t)idx;
  }
  return idx;
}

static void on_delivery(void *ud, void *opaque, rd_kafka_resp_err_t err,
                        const rd_kafka_message_t *m) {
  runner *r = ud;
  if (err) {
    r->delivery_errors++;
    char src[512];
    int dl = ks_dlq_describe(m, src, sizeof src);
    rlog(r, KS_LOG_ERROR,
         "delivery%s%s to %s failed: %s%s; stopping without committing past it (input will be "
         "re-read on restart)",
         dl ? " of the dead letter of " : "", dl ? src : "",
         m->rkt ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(err),
         dl && err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
             ? " (the topic's max.message.bytes is below kafka.producer.message.max.bytes)"
             : "");
    r->exit_code = 1;
    if (!r->stopping)
      uv_stop(&r->loop);
  }
  /* A failure poisons the barrier chain: nothing after this point may commit. */
  ks_barrier_delivered(&r->chain, opaque, err != 0);
}

/* ---- results and dead letters -------------------------------------------- */

/* Produce one result (on the loop thread), counted in the open barrier. */
static int send_result(runner *r, const char *topic, const void *key, size_t keylen,
                       const void *value, size_t valuelen, int64_t interval_end_ms) {
  ks_barrier *b = ks_barrier_open(&r->chain);
  if (b == NULL)
    return KS_ENOMEM;
  char err[RUN_ERRSZ];
  const ks_config_output *o = ks_config_output_for(&r->cfg, topic);
  int rc =
      ks_result_send(r->producer, topic, (ks_format)o->format, o->schema_id, key, keylen, value,
                     valuelen, interval_end_ms, &r->out_buf, &r->out_cap, b, err, sizeof err);
  if (rc != 0) {
    rlog(r, KS_LOG_ERROR, "%s", err);
    return rc;
  }
  ks_barrier_produced(b);
  return 0;
}

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *res) {
  return send_result(ud, topic, key, keylen, value, valuelen, res->interval_end_ms);
}

static void on_interval_closed(void *ud, int32_t task, int64_t start, int64_t end) {
  runner *r = ud;
  (void)end;
  if (!r->ckpt_on)
    r->want_seal = 1; /* without checkpoints, commit once an interval closes (commit.interval) */
  rlog(r, KS_LOG_DEBUG, "task %d: interval %" PRId64 " closed", task, start);
}

static void dead_letter(runner *r, const rd_kafka_message_t *m, const char *reason,
                        const char *plugin) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  if (r->cfg.dead_letter_topic == NULL) {
    rlog(r, KS_LOG_WARN, "rejected %s [%d] offset %" PRId64 ": %s (no dead_letter_topic set)",
         topic, m->partition, m->offset, reason);
    return;
  }
  /* the original headers (tracing, provenance) travel with the message */
  rd_kafka_headers_t *orig = NULL;
  if (rd_kafka_message_headers(m, &orig) != RD_KAFKA_RESP_ERR_NO_ERROR)
    orig = NULL;
  ks_dlq_source src = {topic,      m->partition, m->offset, m->key, m->key_len,
                       m->payload, m->len,       orig,      plugin};
  ks_dlq_record sent;
  ks_barrier *b = ks_barrier_open(&r->chain);
  char err[RUN_ERRSZ];
  if (b == NULL || ks_dlq_send(r->producer, r->cfg.dead_letter_topic, &src, reason, b, &sent, err,
                               sizeof err) != 0) {
    rlog(r, KS_LOG_ERROR, "cannot dead-letter %s [%d] offset %" PRId64 ": %s", topic, m->partition,
         m->offset, b ? err : "out of memory");
    r->exit_code = 1;
    uv_stop(&r->loop);
    return;
  }
  ks_barrier_produced(b);
  r->dlq_sent++;
  if (sent.bounded) {
    r->dlq_truncated++;
    rlog(r, KS_LOG_WARN,
         "rejected %s [%d] offset %" PRId64
         ": %s -> %s, cut to fit message.max.bytes %zu: value %zu"
         " of %zu bytes, key %zu of %zu, %zu original headers left out",
         topic, m->partition, m->offset, reason, r->cfg.dead_letter_topic,
         ks_producer_max_message_bytes(r->producer), sent.value_len, m->len, sent.key_len,
         m->key_len, sent.headers_dropped);
    return;
  }
  rlog(r, KS_LOG_WARN, "rejected %s [%d] offset %" PRId64 ": %s -> %s", topic, m->partition,
       m->offset, reason, r->cfg.dead_letter_topic);
}

/* ---- consuming ----------------------------------------------------------- */

static size_t n_parts(const runner *r) {
  return r->io ? (size_t)r->n_partitions * r->cfg.n_topics : 0;
}

static int all_eof(runner *r) {
  if (r->n_assigned == 0)
    return 0;
  for (size_t i = 0; i < n_parts(r); i++)
    if (r->merge.parts[i].assigned && !r->merge.parts[i].eof)
      return 0;
  return 1;
}

static void begin_stop(runner *r, const char *why) {
  if (r->stopping)
    return;
  r->stopping = 1;
  rlog(r, KS_LOG_INFO, "stopping: %s", why);
  uv_stop(&r->loop);
}

/* Why a plugin with on_error: stop stopped the run (logged once). */
static void log_plugin_stop(runner *r, int rc, const ks_plugin_call *c) {
  if (c->topic && c->offset >= 0)
    rlog(r, KS_LOG_ERROR,
         "plugin %s: %s failed with %d at %s [%d] offset %" PRId64
         " (on_error: stop): stopping; nothing from this event on is committed, a restart "
         "processes it again",
         c->plugin, c->callback, rc, c->topic, c->task, c->offset);
  else
    rlog(r, KS_LOG_ERROR,
         "plugin %s: %s failed with %d at task %d, interval %" PRId64
         " (on_error: stop): stopping; the interval's close is not committed, a restart "
         "closes it again",
         c->plugin, c->callback, rc, c->task, c->interval);
}

static int stops_on_error(const runner *r, size_t plugin) {
  return plugin < r->cfg.n_plugins && r->cfg.plugins[plugin].on_error == KS_ON_ERROR_STOP;
}

/* on_error: skip of an event's callback: the dead-letter reason, or 0 when
 * the failed call was not about m (an interval's close). */
static int skip_reason(const rd_kafka_message_t *m, int rc, const ks_plugin_call *c, char *reason,
                       size_t size) {
  if (m == NULL || c->topic == NULL || c->offset != m->offset)
    return 0;
  snprintf(reason, size, "plugin %s: %s failed with %d (on_error: skip)", c->plugin, c->callback,
           rc);
  return 1;
}

/* A plugin callback returned an error (the engine counted and logged it).
 * on_error: skip — an event's callback: the event goes to the dead-letter
 * topic naming the plugin and error (once per plugin), and its offset is
 * committed as usual; other callbacks have no event to dead-letter.
 * on_error: stop — the service stops (exit 1) and seals nothing more, so
 * nothing from this event (or this interval's close) on is committed and a
 * restart processes it again. */
static void on_plugin_error(void *ud, size_t plugin, int rc, const ks_plugin_call *c) {
  runner *r = ud;
  if (stops_on_error(r, plugin)) {
    if (r->exit_code == 0)
      log_plugin_stop(r, rc, c);
    r->exit_code = 1;
    begin_stop(r, "a plugin failed (on_error: stop)");
    return;
  }
  char reason[256];
  if (skip_reason(r->cur_msg, rc, c, reason, sizeof reason))
    dead_letter(r, r->cur_msg, reason, c->plugin); /* one per plugin that failed on it */
}

/* ---- tasks on worker threads (processing.threads) ------------------------ */

/* With processing.threads N > 1, each drain of the merge is a fork-join:
 * the loop thread and N - 1 workers (workers.h) run the tasks (task p on thread (p + 1) mod N),
 * each task bound to its thread's engine lane, and the loop thread waits
 * for all before it commits, checkpoints or pauses anything, so all of
 * that stays single-threaded. The loop thread does all Kafka I/O: a
 * worker's lane keeps its results, dead letters and the messages they
 * need in an outbox, in order, which the loop thread produces after the
 * join (its own tasks produce at once, as with one thread); pauses asked
 * for by a worker's task are applied after the join too. */

typedef enum ob_kind { OB_RESULT, OB_DEAD_LETTER, OB_RELEASE } ob_kind;

/* One deferred action; its strings and bytes are in the lane's `bytes`. */
typedef struct ob_entry {
  ob_kind kind;
  rd_kafka_message_t *m; /* OB_DEAD_LETTER, OB_RELEASE */
  size_t off;            /* OB_RESULT: topic NUL key value; OB_DEAD_LETTER: reason NUL plugin NUL */
  size_t keylen, valuelen;
  int64_t interval_end_ms;
  int has_plugin;
} ob_entry;

typedef struct run_lane {
  runner *r;
  size_t thread;        /* 1..N-1 */
  ks_plugin_call *call; /* the thread's fatal.h record, or NULL */
  rd_kafka_message_t *cur_msg;
  int keep_msg; /* cur_msg has a dead letter queued: released after it */
  ob_entry *ob;
  size_t n_ob, cap_ob;
  uint8_t *bytes;
  size_t n_bytes, cap_bytes;
  int failed;           /* stop the run after the join */
  const char *stop_why; /* static */
  int want_seal;
  uint64_t events;           /* messages its thread processed (the loop's: lanes[0]) */
  uint32_t drain_left;       /* messages its current task may still process this drain */
  int budget_hit;            /* a task of this drain stopped at its budget */
  int eof_seen;              /* a pulled partition reached its end (r->eof_seen after the join) */
  char alt_stack[64 * 1024]; /* the thread's sigaltstack (fatal.h) */
} run_lane;

struct run_pool {
  ks_workers *workers;
  size_t n;             /* threads, the loop's included */
  run_lane *lanes;      /* [n]; [0] unused: the loop thread produces at once */
  run_lane **task_lane; /* per task: the worker lane draining it now, else NULL */
  _Atomic int stop;     /* every thread: stop draining */
};

static run_lane *lane_of(const runner *r, int32_t task) {
  return r->pool ? r->pool->task_lane[task] : NULL;
}

static void lane_fail(run_lane *l, const char *why) {
  if (!l->failed)
    l->stop_why = why;
  l->failed = 1;
  atomic_store_explicit(&l->r->pool->stop, 1, memory_order_relaxed);
}

/* Room for n more entries and len more bytes; 0 or KS_ENOMEM. */
static int ob_reserve(run_lane *l, size_t n, size_t len) {
  if (l->n_ob + n > l->cap_ob) {
    size_t cap = l->cap_ob ? 2 * l->cap_ob : 256;
    while (cap < l->n_ob + n)
      cap *= 2;
    ob_entry *no = realloc(l->ob, cap * sizeof *no);
    if (no == NULL)
      return KS_ENOMEM;
    l->ob = no;
    l->cap_ob = cap;
  }
  if (l->n_bytes + len > l->cap_bytes) {
    size_t cap = l->cap_bytes ? 2 * l->cap_bytes : 65536;
    while (cap < l->n_bytes + len)
      cap *= 2;
    uint8_t *nb = realloc(l->bytes, cap);
    if (nb == NULL)
      return KS_ENOMEM;
    l->bytes = nb;
    l->cap_bytes = cap;
  }
  return 0;
}

static void ob_put(run_lane *l, const void *p, size_t n) {
  if (n)
    memcpy(l->bytes + l->n_bytes, p, n);
  l->n_bytes += n;
}

/* The worker lanes' sink: the result waits in the outbox. */
static int lane_sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                     size_t valuelen, const ks_result *res) {
  run_lane *l = ud;
  size_t tlen = strlen(topic) + 1;
  /* keep_msg: the message's release (merge_process) keeps its room */
  if (ob_reserve(l, 1 + (size_t)l->keep_msg, tlen + keylen + valuelen) != 0) {
    lane_fail(l, "out of memory keeping a worker's results");
    return KS_ENOMEM;
  }
  l->ob[l->n_ob++] = (ob_entry){.kind = OB_RESULT,
                                .off = l->n_bytes,
                                .keylen = keylen,
                                .valuelen = valuelen,
                                .interval_end_ms = res->interval_end_ms};
  ob_put(l, topic, tlen);
  ob_put(l, key, keylen);
  ob_put(l, value, valuelen);
  return 0;
}

/* Dead-letter m: at once on the loop thread (l NULL), else after the join
 * (m is then released after it, not by merge_process). */
static void lane_dead_letter(runner *r, run_lane *l, rd_kafka_message_t *m, const char *reason,
                             const char *plugin) {
  if (l == NULL) {
    dead_letter(r, m, reason, plugin);
    return;
  }
  size_t rlen = strlen(reason) + 1, plen = plugin ? strlen(plugin) + 1 : 0;
  if (ob_reserve(l, 2, rlen + plen) != 0) { /* 2: room for m's release too */
    rlog(r, KS_LOG_ERROR, "cannot dead-letter %s [%d] offset %" PRId64 ": out of memory",
         rd_kafka_topic_name(m->rkt), m->partition, m->offset);
    lane_fail(l, "out of memory keeping a worker's dead letters");
    return;
  }
  l->ob[l->n_ob++] =
      (ob_entry){.kind = OB_DEAD_LETTER, .m = m, .off = l->n_bytes, .has_plugin = plugin != NULL};
  ob_put(l, reason, rlen);
  ob_put(l, plugin, plen);
  l->keep_msg = 1;
}

static void lane_closed(void *ud, int32_t task, int64_t start, int64_t end) {
  run_lane *l = ud;
  (void)end;
  if (!l->r->ckpt_on)
    l->want_seal = 1;
  rlog(l->r, KS_LOG_DEBUG, "task %d: interval %" PRId64 " closed", task, start);
}

static void lane_plugin_error(void *ud, size_t plugin, int rc, const ks_plugin_call *c) {
  run_lane *l = ud;
  runner *r = l->r;
  if (stops_on_error(r, plugin)) {
    if (!l->failed)
      log_plugin_stop(r, rc, c);
    lane_fail(l, "a plugin failed (on_error: stop)");
    return;
  }
  char reason[256];
  if (skip_reason(l->cur_msg, rc, c, reason, sizeof reason))
    lane_dead_letter(r, l, l->cur_msg, reason, c->plugin);
}

/* After the join: what a worker's lane left for the loop thread, in order. */
static void lane_replay(runner *r, run_lane *l) {
  for (size_t i = 0; i < l->n_ob; i++) {
    const ob_entry *e = &l->ob[i];
    const char *s = (const char *)l->bytes + e->off;
    if (e->kind == OB_RESULT) {
      const uint8_t *key = (const uint8_t *)s + strlen(s) + 1;
      if (send_result(r, s, key, e->keylen, key + e->keylen, e->valuelen, e->interval_end_ms) !=
          0) {
        r->exit_code = 1; /* not silently dropped: nothing after it is committed */
        begin_stop(r, "a worker's result could not be produced");
      }
    } else if (e->kind == OB_DEAD_LETTER)
      dead_letter(r, e->m, s, e->has_plugin ? s + strlen(s) + 1 : NULL);
    else
      rd_kafka_message_destroy(e->m);
  }
  l->n_ob = l->n_bytes = 0;
  if (l->want_seal)
    r->want_seal = 1;
  l->want_seal = 0;
  if (l->failed) {
    r->exit_code = 1;
    begin_stop(r, l->stop_why);
  }
  l->failed = 0;
}

/* The worker threads' start: their fatal.h record and alternate stack;
 * and their end: the stack given back. */
static void lane_thread_start(void *ud, size_t thread) {
  struct run_pool *p = ud;
  run_lane *l = &p->lanes[thread];
  runner *r = l->r;
  if (r->call_of_thread) {
    l->call = r->call_of_thread();
    (void)ks_fatal_thread_stack(l->alt_stack, sizeof l->alt_stack);
  }
}

static void lane_thread_stop(void *ud, size_t thread) {
  struct run_pool *p = ud;
  if (p->lanes[thread].r->call_of_thread)
    (void)ks_fatal_thread_stack(NULL, 0);
}

/* e's lanes for the worker threads (lane i runs on thread i). 0 or an error. */
static int pool_lanes(runner *r, ks_engine *e, char *err, size_t errsz) {
  for (size_t i = 1; r->pool && i < r->pool->n; i++) {
    run_lane *l = &r->pool->lanes[i];
    ks_engine_lane_options lo = {lane_sink, lane_closed, lane_plugin_error, l, l->call};
    ks_engine_lane *el;
    if (ks_engine_lane_new(e, &lo, &el) != 0) {
      snprintf(err, errsz, "processing.threads: out of memory");
      return KS_ENOMEM;
    }
  }
  return 0;
}

static void pool_free(runner *r) {
  struct run_pool *p = r->pool;
  if (p == NULL)
    return;
  ks_workers_free(p->workers);
  char per[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < p->n && used < sizeof per; i++)
    used += (size_t)snprintf(per + used, sizeof per - used, "%s%s %" PRIu64, i ? ", " : "",
                             i ? "worker" : "loop thread", p->lanes[i].events);
  rlog(r, KS_LOG_INFO, "processing.threads %zu: messages processed per thread: %s", p->n, per);
  for (size_t i = 1; i < p->n; i++) {
    for (size_t k = 0; k < p->lanes[i].n_ob; k++) /* never replayed: only the messages */
      if (p->lanes[i].ob[k].kind == OB_RELEASE)
        rd_kafka_message_destroy(p->lanes[i].ob[k].m);
    free(p->lanes[i].ob);
    free(p->lanes[i].bytes);
  }
  free(p->lanes);
  free(p->task_lane);
  free(p);
  r->pool = NULL;
}

/* processing.threads > 1: start the workers and give r->engine its lanes. */
static int pool_new(runner *r, char *err, size_t errsz) {
  size_t n = (size_t)r->cfg.threads;
  struct run_pool *p = calloc(1, sizeof *p);
  if (p == NULL || (p->lanes = calloc(n, sizeof *p->lanes)) == NULL ||
      (p->task_lane = calloc((size_t)r->n_partitions + 1, sizeof *p->task_lane)) == NULL) {
    if (p)
      free(p->lanes);
    free(p);
    snprintf(err, errsz, "processing.threads: out of memory");
    return KS_ENOMEM;
  }
  p->n = n;
  atomic_init(&p->stop, 0);
  for (size_t i = 0; i < n; i++)
    p->lanes[i] = (run_lane){.r = r, .thread = i};
  r->pool = p;
  int rc = ks_workers_new(&p->workers, n, lane_thread_start, lane_thread_stop, p, err, errsz);
  if (rc == 0)
    rc = pool_lanes(r, r->engine, err, errsz);
  if (rc != 0)
    return rc; /* pool_free in teardown */
  rlog(r, KS_LOG_INFO, "processing.threads %zu: tasks run on the loop thread and %zu workers", n,
       n - 1);
  return 0;
}

/* Drain task `item` on thread `thread` (ks_workers_run), at most its share
 * of KS_DRAIN_BUDGET: every task gets its turn in each drain, however busy
 * the others, and a drain stays bounded. */
static void drain_task(void *ud, size_t thread, size_t item) {
  runner *r = ud;
  struct run_pool *p = r->pool;
  int32_t task = (int32_t)item;
  if (atomic_load_explicit(&p->stop, memory_order_relaxed) ||
      !ks_engine_task_exists(r->engine, task))
    return;
  run_lane *l = thread ? &p->lanes[thread] : NULL;
  if (l) {
    ks_engine_task_bind(r->engine, task, ks_engine_lane_at(r->engine, thread));
    p->task_lane[task] = l;
  }
  size_t share = KS_DRAIN_BUDGET * p->n / (size_t)(r->n_partitions > 0 ? r->n_partitions : 1);
  p->lanes[thread].drain_left = (uint32_t)(share < 256 ? 256 : share);
  if (ks_merge_drain(&r->merge, task) && p->lanes[thread].drain_left == 0)
    p->lanes[thread].budget_hit = 1;
  if (l) {
    p->task_lane[task] = NULL;
    ks_engine_task_bind(r->engine, task, NULL);
  }
}

/* Every task's drain on the threads, then, joined, what the workers left.
 * 1 when a task stopped at its budget (more is ready). */
static int pool_drain(runner *r) {
  struct run_pool *p = r->pool;
  int more = 0;
  atomic_store_explicit(&p->stop, 0, memory_order_relaxed);
  for (size_t i = 0; i < p->n; i++)
    p->lanes[i].budget_hit = 0;
  ks_workers_run(p->workers, (size_t)r->n_partitions, drain_task, r);
  for (size_t i = 0; i < p->n; i++) {
    more |= p->lanes[i].budget_hit;
    if (i == 0)
      continue;
    ks_engine_lane_fold(ks_engine_lane_at(r->engine, i));
    r->eof_seen |= p->lanes[i].eof_seen;
    p->lanes[i].eof_seen = 0;
    lane_replay(r, &p->lanes[i]);
  }
  return more;
}

/* Should a drain stop (the run is stopping)? On the loop thread (l NULL)
 * r->stopping, which then stops the workers too; on a worker, that. */
static int drain_stop(runner *r, const run_lane *l) {
  if (r->pool == NULL)
    return r->stopping;
  if (l == NULL && r->stopping)
    atomic_store_explicit(&r->pool->stop, 1, memory_order_relaxed);
  return atomic_load_explicit(&r->pool->stop, memory_order_relaxed);
}

/* Process one input message of topic (decode, dispatch, dead-letter), on
 * the loop thread (l NULL) or a worker's lane. */
static void process(runner *r, run_lane *l, uint32_t topic, rd_kafka_message_t *m) {
  char reason[256];
  ks_msg_origin from = {m->key, m->key_len, r->n_partitions, r->cfg.partitioner,
                        rd_kafka_message_timestamp(m, NULL)};
  rd_kafka_message_t **cur = l ? &l->cur_msg : &r->cur_msg;
  *cur = m;
  int rc = ks_engine_process_from(r->engine, m->partition, topic, m->offset, &from, m->payload,
                                  m->len, reason, sizeof reason);
  *cur = NULL;
  if (rc == KS_REJECTED || rc == KS_MISROUTED) {
    lane_dead_letter(r, l, m, reason, NULL);
  } else if (rc == KS_LATE) {
    /* beyond the restatement horizon: kept on the dead-letter topic */
    lane_dead_letter(r, l, m, reason, NULL);
  } else if (rc < 0) {
    rlog(r, KS_LOG_ERROR, "%s [%d] offset %" PRId64 ": processing failed (%d)",
         rd_kafka_topic_name(m->rkt), m->partition, m->offset, rc);
    if (l)
      lane_fail(l, "processing error");
    else {
      r->exit_code = 1;
      begin_stop(r, "processing error");
    }
  }
}

/* ---- the merge's and the budget's callbacks -------------------------------- */

/* Pause or resume mp in Kafka for the memory budget. librdkafka drops what
 * its queue holds of a paused partition and fetches it again from the last
 * message pulled once resumed. */
static void apply_pause(runner *r, ks_merge_part *mp) {
  part_io *io = io_of(r, mp);
  int want = io->budget_paused;
  if (want == io->kafka_paused || r->consumer == NULL)
    return;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, r->cfg.topics[mp->topic], mp->partition);
  rd_kafka_t *rk = ks_consumer_handle(r->consumer);
  rd_kafka_resp_err_t err =
      want ? rd_kafka_pause_partitions(rk, l) : rd_kafka_resume_partitions(rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) {
    rlog(r, KS_LOG_WARN, "%s %s [%d]: %s", want ? "pause" : "resume", r->cfg.topics[mp->topic],
         mp->partition, rd_kafka_err2str(err));
    return;
  }
  io->kafka_paused = want;
  if (!want)
    io->last_msg_ms = uv_now(&r->loop); /* quiet is counted from the resume */
  r->pauses += want;
  rlog(r, KS_LOG_DEBUG, "%s %s [%d] (%zu buffered)", want ? "paused" : "resumed",
       r->cfg.topics[mp->topic], mp->partition, mp->q_len);
}

static int merge_process(void *ud, ks_merge_part *mp, void *msg) {
  runner *r = ud;
  run_lane *l = lane_of(r, mp->partition);
  if (r->pool)
    (l ? l : &r->pool->lanes[0])->events++;
  process(r, l, mp->topic, msg);
  if (l && l->keep_msg) { /* its dead letter is produced after the join: released then */
    l->ob[l->n_ob++] = (ob_entry){.kind = OB_RELEASE, .m = msg}; /* room reserved */
    l->keep_msg = 0;
  } else
    rd_kafka_message_destroy(msg); /* at once: librdkafka reuses the fetch buffer */
  if (drain_stop(r, l))
    return 1;
  uint32_t *left = r->pool ? &r->pool->lanes[l ? l->thread : 0].drain_left : &r->drain_left;
  return --*left == 0;
}

/* Stop the run: at once on the loop thread (l NULL), after the join on a
 * worker's. */
static void input_fail(runner *r, run_lane *l, const char *why) {
  if (l)
    lane_fail(l, why);
  else {
    r->exit_code = 1;
    begin_stop(r, why);
  }
}

/* One message or event of mp's partition, in its order; takes msg. */
static void input(runner *r, ks_merge_part *mp, rd_kafka_message_t *m) {
  run_lane *l = lane_of(r, mp->partition); /* a worker's task, pulled in its drain */
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    /* A bounded run (--until-eof) knows a partition at its end has no more
     * data once its buffered messages are processed. */
    ks_merge_eof(&r->merge, mp);
    if (l)
      l->eof_seen |= r->until_eof; /* r's after the join */
    else
      r->eof_seen |= r->until_eof;
  } else if (m->err) {
    rlog(r, KS_LOG_WARN, "kafka: %s on %s [%d]", rd_kafka_err2str(m->err), r->cfg.topics[mp->topic],
         mp->partition);
    if (m->err == RD_KAFKA_RESP_ERR__FATAL)
      input_fail(r, l, "fatal Kafka error");
  } else if (mp->assigned) {
    io_of(r, mp)->last_msg_ms = uv_now(&r->loop);
    if (ks_merge_push(&r->merge, mp, m, m->payload, m->len, rd_kafka_message_timestamp(m, NULL)) ==
        0)
      return; /* buffered: processed in event-time order */
    input_fail(r, l, "out of memory buffering input");
  }
  rd_kafka_message_destroy(m);
}

/* mp's buffer is empty: pull what its partition queue holds, at most
 * KS_MERGE_PULL messages (the rest stays in librdkafka). */
static void merge_fill(void *ud, ks_merge_part *mp) {
  runner *r = ud;
  rd_kafka_message_t *msgs[KS_MERGE_PULL];
  if (r->consumer == NULL)
    return;
  size_t n = ks_consumer_pull(r->consumer, mp->topic, mp->partition, msgs, KS_MERGE_PULL);
  for (size_t i = 0; i < n; i++)
    input(r, mp, msgs[i]);
}

static void merge_drop(void *ud, void *msg) {
  (void)ud;
  rd_kafka_message_destroy(msg);
}

static int64_t merge_time_limit(void *ud, int32_t task, int64_t rec) {
  runner *r = ud;
  return ks_engine_time_limit(r->engine, task, rec);
}

static void merge_set_idle(void *ud, int32_t task, uint32_t topic) {
  runner *r = ud;
  ks_engine_set_idle(r->engine, task, topic, 1);
}

/* Pause every assigned input partition for the memory budget, or resume
 * those it paused; returns how many it paused. */
static int budget_pause(void *ud, int pause) {
  runner *r = ud;
  int n = 0;
  for (size_t i = 0; i < n_parts(r); i++) {
    ks_merge_part *mp = &r->merge.parts[i];
    if (pause ? !mp->assigned : !r->io[i].budget_paused)
      continue;
    r->io[i].budget_paused = pause;
    apply_pause(r, mp);
    n++;
  }
  return n;
}

static void budget_check(runner *r) {
  if (r->budget.limit == 0 || r->engine == NULL)
    return;
  size_t bytes = ks_engine_state_bytes(r->engine);
  ks_engine_stats st;
  ks_engine_get_stats(r->engine, &st);
  ks_budget_check(&r->budget, bytes, st.events_in);
}

/* Drop a partition's buffered messages (never processed, not committed) and
 * resume it. */
static void drop_part(runner *r, ks_merge_part *mp, int revoke) {
  io_of(r, mp)->budget_paused = 0;
  if (revoke)
    ks_merge_revoke(&r->merge, mp);
  else
    ks_merge_drop(&r->merge, mp);
}

/* Process what the merge can, at most KS_DRAIN_BUDGET messages; 1 when it
 * stopped at the budget. */
static int drain_all(runner *r) {
  if (r->stopping)
    return 0;
  if (r->pool)
    return pool_drain(r) && !r->stopping;
  r->drain_left = KS_DRAIN_BUDGET;
  return ks_merge_drain_all(&r->merge) && !r->stopping;
}

/* Input not processed yet (the stats line): what the merge holds and each
 * assigned partition's consumer lag (what waits in librdkafka's queue or on
 * the broker, up to the high watermark of the last fetch response). */
static size_t pending_input(runner *r) {
  size_t n = ks_merge_buffered(&r->merge);
  for (size_t i = 0; r->consumer && i < n_parts(r); i++) {
    int64_t lag = 0;
    if (r->merge.parts[i].assigned && ks_ops_partition_lag(r, i, &lag))
      n += (size_t)lag;
  }
  return n;
}

/* The seal an interval's close asked for, at most once per commit.interval
 * (barrier.h: ks_barrier_pace); revoke, shutdown, reload and checkpoints
 * seal at once. */
static void seal_when_due(runner *r) {
  if (r->want_seal && !r->stopping && ks_barrier_seal_due(&r->chain))
    ks_runner_seal(r, NULL);
}

/* After input was processed: the memory budget, the end of the partitions
 * of a bounded run, sealing, the stop of a bounded run. */
static void after_input(runner *r) {
  /* After every drain, not only on the housekeeping timer: whether the
   * budget is noticed must not depend on how fast the host is. */
  budget_check(r);
  if (r->eof_seen) {
    r->eof_seen = 0;
    ks_engine_advance(r->engine);
  }
  seal_when_due(r);
  if (r->until_eof && !r->stopping && all_eof(r) && ks_merge_buffered(&r->merge) == 0)
    begin_stop(r, "all assigned partitions reached their end (--until-eof)");
}

/* ---- consuming (the consumer's callbacks) -------------------------------- */

/* The consumer queue: rebalances are served inside the consume call; what
 * reaches here is errors (a partition's messages and its end come through
 * its own queue, merge_fill). */
static void on_batch(void *ud, rd_kafka_message_t **msgs, size_t n) {
  runner *r = ud;
  for (size_t i = 0; i < n && !r->stopping; i++) {
    rd_kafka_message_t *m = msgs[i];
    int t = m->rkt ? topic_index(r, m->rkt) : -1;
    ks_merge_part *mp = t >= 0 ? part_get(r, (uint32_t)t, m->partition) : NULL;
    if (mp != NULL) {
      msgs[i] = NULL;
      input(r, mp, m); /* in its partition's order: its queue was not forwarded */
      continue;
    }
    if (m->err) {
      rlog(r, KS_LOG_WARN, "kafka: %s%s%s", rd_kafka_err2str(m->err), m->rkt ? " on " : "",
           m->rkt ? rd_kafka_topic_name(m->rkt) : "");
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        r->exit_code = 1;
        begin_stop(r, "fatal Kafka error");
      }
    }
  }
  after_input(r);
}

/* A partition queue has news: process what the merge can. */
static int on_ready(void *ud) {
  runner *r = ud;
  int more = drain_all(r);
  after_input(r);
  return more && !r->stopping;
}

static void on_assign(void *ud, rd_kafka_topic_partition_list_t *parts) {
  runner *r = ud;
  if (r->ckpt_on && ks_ckpt_on_assign(r, parts) != 0) {
    r->exit_code = 1;
    begin_stop(r, "state restore failed");
  }
  for (int i = 0; i < parts->cnt; i++) {
    int t = topic_index_by_name(r, parts->elems[i].topic);
    ks_merge_part *mp = t >= 0 ? part_get(r, (uint32_t)t, parts->elems[i].partition) : NULL;
    if (mp == NULL)
      continue;
    if (!ks_engine_task_exists(r->engine, mp->partition))
      ks_engine_task_open(r->engine, mp->partition);
    ks_merge_assign(&r->merge, mp);
    io_of(r, mp)->last_msg_ms = uv_now(&r->loop);
    r->n_assigned++;
  }
  rlog(r, KS_LOG_INFO, "assigned %d partitions (%zu now)", parts->cnt, r->n_assigned);
  if (r->exit_code == 0)
    ks_ops_assigned(r); /* i14: ready (/readyz, systemd READY=1) */
}

static void on_revoke(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  runner *r = ud;
  /* Checkpoint the revoked tasks, deliver everything, commit their offsets,
   * then drop their state: the next owner restores the checkpoint. */
  if (r->exit_code == 0) {
    r->sync_commits = 1;
    ks_runner_seal(r, parts);
    int budget = stop_budget_ms(r, 30000);
    if (ks_barrier_drain(&r->chain, budget) != 0)
      rlog(r, KS_LOG_WARN, "revoke: results not all delivered within %d ms; not committing",
           budget);
    r->sync_commits = 0;
  }
  for (int i = 0; i < parts->cnt; i++) {
    int t = topic_index_by_name(r, parts->elems[i].topic);
    ks_merge_part *mp = t >= 0 ? part_get(r, (uint32_t)t, parts->elems[i].partition) : NULL;
    if (mp && mp->assigned) {
      drop_part(r, mp, 1); /* unprocessed: the next owner reads them again */
      r->n_assigned--;
    }
  }
  for (int i = 0; i < parts->cnt; i++) {
    int32_t p = parts->elems[i].partition;
    int still = 0;
    for (size_t t = 0; t < r->cfg.n_topics; t++)
      still |= part_get(r, (uint32_t)t, p) && part_get(r, (uint32_t)t, p)->assigned;
    if (!still && ks_engine_task_exists(r->engine, p))
      ks_engine_task_close(r->engine, p);
  }
  rlog(r, KS_LOG_INFO, "revoked %d partitions (%zu left)", parts->cnt, r->n_assigned);
}

/* ---- timers and signals -------------------------------------------------- */

static void on_signal(uv_signal_t *s, int signum) {
  runner *r = s->data;
  begin_stop(r, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_stats(uv_timer_t *t) {
  runner *r = t->data;
  ks_engine_stats st;
  ks_engine_get_stats(r->engine, &st);
  uint64_t now = uv_now(&r->loop);
  double secs = r->last_stats_ms ? (double)(now - r->last_stats_ms) / 1000.0 : 0;
  rlog(r, KS_LOG_INFO,
       "events %" PRIu64 " (%.0f/s), rejected %" PRIu64 ", late %" PRIu64 ", restated %" PRIu64
       ", results %" PRIu64 ", intervals closed %" PRIu64 ", plugin errors %" PRIu64
       ", commits %" PRIu64 ", checkpoints %" PRIu64 ", in flight %d, buffered %zu, state %zu"
       " bytes%s, misrouted %" PRIu64 ", dead-lettered %" PRIu64 " (truncated %" PRIu64 ")",
       st.events_in, secs > 0 ? (double)(st.events_in - r->last_events) / secs : 0.0,
       st.events_rejected, st.events_late, st.events_restated, st.results_out, st.intervals_closed,
       st.plugin_errors, r->commits, r->checkpoints, ks_producer_outq_len(r->producer),
       pending_input(r), ks_engine_state_bytes(r->engine),
       r->budget.paused ? " (over budget: partitions paused)" : "", st.events_misrouted,
       r->dlq_sent, r->dlq_truncated);
  r->last_events = st.events_in;
  r->last_stats_ms = now;
}

/* Quiet partitions stop holding the watermark after intervals.idle_timeout
 * of wall time; a task whose partitions are all quiet moves its watermark on
 * with the wall clock, so night shifts and quiet queues still close. */
static void on_idle_timer(uv_timer_t *tm) {
  runner *r = tm->data;
  budget_check(r);
  seal_when_due(r); /* a wanted seal waits no longer than commit.interval for input */
  if (r->cfg.idle_timeout_ms <= 0)
    return;
  uint64_t now = uv_now(&r->loop);
  uint64_t limit = (uint64_t)r->cfg.idle_timeout_ms;
  for (int32_t p = 0; p < r->n_partitions; p++) {
    int any = 0, all_quiet = 1;
    uint64_t last = 0;
    for (size_t t = 0; t < r->cfg.n_topics; t++) {
      ks_merge_part *mp = part_get(r, (uint32_t)t, p);
      if (!mp->assigned)
        continue;
      const part_io *io = io_of(r, mp);
      any = 1;
      /* a paused partition is silent because we asked it to be; one whose
       * queue holds messages is not quiet (ks_merge_fill pulls them) */
      if (!io->kafka_paused && ks_merge_fill(&r->merge, mp) == 0 && now - io->last_msg_ms >= limit)
        ks_merge_quiet(&r->merge, mp);
      else
        all_quiet = 0;
      if (io->last_msg_ms > last)
        last = io->last_msg_ms;
    }
    if (any && all_quiet && ks_engine_task_exists(r->engine, p)) {
      int64_t before = ks_engine_watermark(r->engine, p);
      int64_t wm = ks_engine_idle_advance(r->engine, p, (int64_t)(now - last));
      if (wm != before)
        rlog(r, KS_LOG_DEBUG, "task %d: quiet for %" PRIu64 " ms, watermark now %" PRId64, p,
             now - last, wm);
    }
  }
  drain_all(r);
  ks_engine_advance(r->engine);
}

static void on_checkpoint_timer(uv_timer_t *t) {
  runner *r = t->data;
  if (!r->stopping && r->n_assigned)
    ks_runner_seal(r, NULL);
}

/* ---- start and stop ------------------------------------------------------ */

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Load cfg's plugins into e, with their options. */
static int add_plugins(const ks_config *cfg, ks_engine *e, char *err, size_t errsz) {
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    const ks_config_plugin *p = &cfg->plugins[i];
    char path[1024];
    ks_config_plugin_path(cfg, p, path, sizeof path);
    ks_plugin_spec spec = {path,
                           p->instance,
                           p->topic,
                           p->options,
                           p->n_options,
                           p->where,
                           (const char *const *)p->option_where};
    int rc = ks_engine_load_plugin(e, &spec, err, errsz);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int ks_runner_engine_new(runner *r, const ks_config *cfg, ks_engine **out, char *err,
                         size_t errsz) {
  ks_engine_options eo = {0};
  eo.interval_ms = cfg->interval_ms;
  eo.lateness_ms = cfg->lateness_ms;
  eo.grace_ms = cfg->grace_ms;
  eo.max_future_skew_ms = cfg->max_future_skew_ms;
  eo.topics = (const char *const *)cfg->topics;
  eo.n_topics = cfg->n_topics;
  eo.sink = sink;
  eo.sink_ud = r;
  eo.on_closed = on_interval_closed;
  eo.on_closed_ud = r;
  eo.log_level = cfg->log_level;
  eo.restate_ms = cfg->restate_ms;
  eo.on_plugin_error = on_plugin_error;
  eo.on_plugin_error_ud = r;
  eo.call = r->call;
  *out = NULL;
  int rc = ks_engine_new(out, &eo, err, errsz);
  if (rc == 0)
    rc = add_plugins(cfg, *out, err, errsz);
  if (rc == 0)
    rc = pool_lanes(r, *out, err, errsz); /* a reload's engine: the workers' lanes */
  return rc;
}

/* A refused Kafka property: prefix err with where it was set (file:line:col,
 * or the command line), else with the configuration file. */
static int kafka_refused(runner *r, const ks_kv *bad, char *err, size_t errsz) {
  const char *w = ks_config_where(&r->cfg, bad);
  ks_errstr_prefix(err, errsz, w ? w : bad ? "command line (-X/-b/--group)" : r->cfg.source);
  return KS_ECONFIG;
}

/* The consumer's and producer's configurations exactly as setup() builds
 * them, with every refusal of librdkafka and kpistream, and librdkafka's
 * checks across properties: creating a client without brokers connects to
 * nothing. */
static int check_kafka(runner *r, char *err, size_t errsz) {
  const ks_kv *bad = NULL;
  const ks_kv *clists[2] = {r->cfg.kafka, r->cfg.consumer};
  size_t ccounts[2] = {r->cfg.n_kafka, r->cfg.n_consumer};
  rd_kafka_conf_t *conf = ks_consumer_conf_new(clists, ccounts, 2, &bad, err, errsz);
  if (conf == NULL)
    return kafka_refused(r, bad, err, errsz);
  int rc = ks_kafka_conf_try(RD_KAFKA_CONSUMER, conf, err, errsz);
  rd_kafka_conf_destroy(conf);
  if (rc != 0)
    return kafka_refused(r, NULL, err, errsz);
  const ks_kv *plists[2] = {r->cfg.kafka, r->cfg.producer};
  size_t pcounts[2] = {r->cfg.n_kafka, r->cfg.n_producer};
  if ((conf = ks_producer_conf_new(plists, pcounts, 2, &bad, err, errsz)) == NULL)
    return kafka_refused(r, bad, err, errsz);
  rc = ks_kafka_conf_try(RD_KAFKA_PRODUCER, conf, err, errsz);
  rd_kafka_conf_destroy(conf);
  return rc != 0 ? kafka_refused(r, NULL, err, errsz) : 0;
}

/* Every check `run` makes before it connects; `--check-config` runs exactly
 * these: the engine, every plugin with its options (init runs), the Kafka
 * clients' configurations. Errors name the file and line at fault. The one
 * thing not checked here is that bootstrap.servers is set, since -b and
 * --bootstrap-file usually supply it at start (setup() refuses it missing). */
static int check_before_connect(runner *r, char *err, size_t errsz) {
  int rc = ks_runner_engine_new(r, &r->cfg, &r->engine, err, errsz);
  if (rc == 0)
    rc = check_kafka(r, err, errsz);
  return rc;
}

static int setup(runner *r, int check_only, char *err, size_t errsz) {
  int rc = check_before_connect(r, err, errsz);
  if (rc != 0 || check_only)
    return rc;
  if (ks_config_kafka_get(&r->cfg, "bootstrap.servers") == NULL) {
    snprintf(err, errsz, "%s: kafka.bootstrap.servers is not set (or use -b/--bootstrap-file)",
             r->cfg.source);
    return KS_ECONFIG;
  }
  const ks_kv *plists[2] = {r->cfg.kafka, r->cfg.producer};
  size_t pcounts[2] = {r->cfg.n_kafka, r->cfg.n_producer};
  rc = ks_producer_new(&r->producer, &r->loop, plists, pcounts, 2, r->cfg.log_level, on_delivery, r,
                       err, errsz);
  if (rc != 0)
    return rc;
  const ks_kv *clists[2] = {r->cfg.kafka, r->cfg.consumer};
  size_t ccounts[2] = {r->cfg.n_kafka, r->cfg.n_consumer};
  ks_consumer_handlers h = {on_batch, on_assign, on_revoke, on_ready};
  rc = ks_consumer_new(&r->consumer, &r->loop, clists, ccounts, 2, r->cfg.log_level, &h, r, err,
                       errsz);
  if (rc != 0)
    return rc;
  rc = ks_consumer_check_topics(r->consumer, r->cfg.topics, r->cfg.n_topics, 15000,
                                &r->n_partitions, err, errsz);
  if (rc != 0)
    return rc;
  ks_merge_ops mo = {merge_process, merge_drop, merge_time_limit, merge_set_idle, merge_fill, r};
  if ((rc = ks_merge_init(&r->merge, r->cfg.n_topics, r->n_partitions, r->until_eof, &mo)) != 0)
    return rc;
  r->io = calloc((size_t)r->n_partitions * r->cfg.n_topics + 1, sizeof *r->io);
  if (r->io == NULL)
    return KS_ENOMEM;
  if (r->cfg.threads > 1 && (rc = pool_new(r, err, errsz)) != 0)
    return rc;
  for (size_t l = 0; l < 2; l++) {
    const ks_kv *kv = l ? r->cfg.producer : r->cfg.kafka;
    size_t n = l ? r->cfg.n_producer : r->cfg.n_kafka;
    for (size_t i = 0; i < n; i++)
      if (strcmp(kv[i].key, "transactional.id") == 0 && (rc = ks_txn_init(r, err, errsz)) != 0)
        return rc;
  }
  r->ckpt_on = r->cfg.checkpoint_enabled;
  if (r->ckpt_on && (rc = ks_ckpt_setup(r, err, errsz)) != 0)
    return rc;
  rlog(r, KS_LOG_INFO,
       "%zu input topics x %d partitions (= %d tasks), %zu plugins, interval %" PRId64
       " s, lateness %" PRId64 " ms",
       r->cfg.n_topics, r->n_partitions, r->n_partitions, ks_engine_plugin_count(r->engine),
       r->cfg.interval_ms / 1000, r->cfg.lateness_ms);
  return ks_consumer_subscribe(r->consumer, r->cfg.topics, r->cfg.n_topics, r->n_partitions, err,
                               errsz);
}

/* The stop, within shutdown.timeout: deliver, checkpoint and commit what was
 * processed, leave the group (a quarter of the time, at most 2 s, is kept
 * for that), then say what was and was not delivered and committed. */
static void shutdown_clean(runner *r) {
  uint64_t t0 = uv_hrtime();
  r->stop_deadline_ns = t0 + (uint64_t)r->cfg.shutdown_timeout_ms * 1000000u;
  int64_t reserve = r->cfg.shutdown_timeout_ms / 4 < 2000 ? r->cfg.shutdown_timeout_ms / 4 : 2000;
  int late = 0; /* the final results were not acknowledged in time */
  if (r->consumer && r->producer && r->exit_code == 0) {
    if (r->until_eof)
      ks_engine_flush_all(r->engine);
    r->sync_commits = 1;
    ks_runner_seal(r, NULL); /* nothing, if flush_all met a plugin with on_error: stop */
    if (ks_barrier_drain(&r->chain, stop_budget_ms(r, 0) - (int)reserve) != 0)
      r->exit_code = late = 1;
  }
  for (size_t i = 0; i < n_parts(r); i++)
    drop_part(r, &r->merge.parts[i], 0); /* buffered, never processed: not committed */
  if (r->consumer)
    ks_consumer_close(r->consumer, stop_budget_ms(r, 0));
  int undelivered = 0;
  if (r->producer) {
    ks_producer_flush(r->producer, stop_budget_ms(r, 0));
    undelivered = ks_producer_outq_len(r->producer);
    ks_producer_close(r->producer);
  }
  uint64_t took_ms = (uv_hrtime() - t0) / 1000000u;
  if (undelivered > 0) {
    rlog(r, KS_LOG_ERROR,
         "shutdown: %d messages (results, dead letters, checkpoint chunks) not delivered within "
         "shutdown.timeout (%" PRId64 " ms); input offsets are committed only up to the last "
         "acknowledged checkpoint (%" PRIu64 " commits in this run): a restart re-reads from "
         "there and publishes what was lost again",
         undelivered, r->cfg.shutdown_timeout_ms, r->commits);
    r->exit_code = 1;
  } else if (r->exit_code != 0)
    rlog(r, KS_LOG_ERROR,
         "shutdown%s: nothing after the failure is committed (%" PRIu64
         " commits in this run); a restart resumes from the last committed checkpoint",
         late ? ": results not all acknowledged in time" : " after a failure", r->commits);
  else if (r->consumer)
    rlog(r, KS_LOG_INFO,
         "shutdown: everything delivered, the final checkpoint and offsets committed in %" PRIu64
         " ms",
         took_ms);
  ks_engine_stats st = {0};
  if (r->engine)
    ks_engine_get_stats(r->engine, &st);
  if (st.api_refusals)
    rlog(r, KS_LOG_WARN, "plugins made %" PRIu64 " host API calls the host refused (logged above)",
         st.api_refusals);
  if (r->engine)
    rlog(r, KS_LOG_INFO,
         "stopped: events %" PRIu64 ", dispatched %" PRIu64 ", rejected %" PRIu64
         " (dead-lettered %" PRIu64 "), late %" PRIu64 ", restated %" PRIu64 ", results %" PRIu64
         ", intervals closed %" PRIu64 ", plugin errors %" PRIu64 ", commits %" PRIu64
         ", checkpoints %" PRIu64 ", restores %" PRIu64 ", transactions %" PRIu64
         " (aborted %" PRIu64 "), misrouted %" PRIu64 ", dead letters truncated %" PRIu64,
         st.events_in, st.events_dispatched, st.events_rejected, r->dlq_sent, st.events_late,
         st.events_restated, st.results_out, st.intervals_closed, st.plugin_errors, r->commits,
         r->checkpoints, r->restores, r->txn_commits, r->txn_aborts, st.events_misrouted,
         r->dlq_truncated);
}

/* Everything `run` needs before its loop starts. Returns -1 to run the loop,
 * else the exit status (a failure, reported; --check-config, done). */
static int start(runner *r, const ks_run_args *args) {
  char err[RUN_ERRSZ] = "";
  /* i14 (ops.h): HTTP endpoint, systemd notify, SIGHUP; a bind error fails here */
  int rc = ks_ops_start(r, args->config_path, args->check_only, err, sizeof err);
  if (rc == 0)
    rc = setup(r, args->check_only, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "kpistream: %s\n", err);
    return (rc == KS_ECONFIG || rc == KS_EABI || rc == KS_ENOENT || rc == KS_EINVAL) ? KS_EXIT_USAGE
                                                                                     : 1;
  }
  if (args->check_only) {
    printf("configuration OK: %s (%zu topics, %zu plugins)\n", args->config_path, r->cfg.n_topics,
           ks_engine_plugin_count(r->engine));
    return 0;
  }
  uv_signal_init(&r->loop, &r->sigint);
  uv_signal_init(&r->loop, &r->sigterm);
  r->sigint.data = r->sigterm.data = r;
  uv_signal_start(&r->sigint, on_signal, SIGINT);
  uv_signal_start(&r->sigterm, on_signal, SIGTERM);
  uv_timer_init(&r->loop, &r->stats_timer);
  r->stats_timer.data = r;
  if (r->cfg.stats_interval_ms > 0)
    uv_timer_start(&r->stats_timer, on_stats, (uint64_t)r->cfg.stats_interval_ms,
                   (uint64_t)r->cfg.stats_interval_ms);
  uv_timer_init(&r->loop, &r->idle_timer);
  r->idle_timer.data = r;
  /* housekeeping: quiet partitions and the memory budget */
  uint64_t every = r->cfg.idle_timeout_ms > 0 && r->cfg.idle_timeout_ms < 1000
                       ? (uint64_t)r->cfg.idle_timeout_ms / 4 + 1
                       : 250;
  uv_timer_start(&r->idle_timer, on_idle_timer, every, every);
  uv_timer_init(&r->loop, &r->ckpt_timer);
  r->ckpt_timer.data = r;
  if (r->ckpt_on && r->cfg.checkpoint_interval_ms > 0)
    uv_timer_start(&r->ckpt_timer, on_checkpoint_timer, (uint64_t)r->cfg.checkpoint_interval_ms,
                   (uint64_t)r->cfg.checkpoint_interval_ms);
  return -1;
}

/* Close the clients and the loop's handles, free everything. */
static void teardown(runner *r, int status) {
  if (r->consumer && status != 0)
    ks_consumer_close(r->consumer, stop_budget_ms(r, (int)r->cfg.shutdown_timeout_ms));
  if (r->producer)
    ks_producer_close(r->producer);
  uv_walk(&r->loop, close_walk, NULL);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  ks_ops_free(r); /* i14 */
  ks_consumer_free(r->consumer);
  ks_producer_free(r->producer);
  ks_barrier_chain_free(&r->chain);
  ks_ckpt_teardown(r);
  pool_free(r);
  ks_engine_free(r->engine);
  uv_loop_close(&r->loop);
  ks_merge_free(&r->merge); /* emptied by shutdown_clean() */
  free(r->io);
  free(r->out_buf);
  ks_config_free(&r->cfg);
  free(r);
}

int ks_cmd_run(int argc, char **argv) {
  return ks_cmd_run_watched(argc, argv, NULL);
}

/* The runner for a parsed command line: its configuration loaded with the
 * command line's overrides. NULL with the exit status in *status (the
 * reason reported) when it cannot be. */
static runner *runner_new(const ks_run_args *args, ks_plugin_call_fn call_of_thread, int *status) {
  runner *r = calloc(1, sizeof *r);
  if (r == NULL) {
    *status = 1;
    return NULL;
  }
  r->until_eof = args->until_eof;
  r->call_of_thread = call_of_thread;
  r->call = call_of_thread ? call_of_thread() : NULL; /* the loop thread's */
  char err[RUN_ERRSZ] = "";
  if (ks_run_args_configure(args, &r->cfg, err, sizeof err) != 0) {
    fprintf(stderr, "kpistream: %s\n", err[0] ? err : "configuration error");
    ks_config_free(&r->cfg);
    free(r);
    *status = KS_EXIT_USAGE;
    return NULL;
  }
  ks_budget_init(&r->budget, r->cfg.memory_budget, &r->cfg.log_level, budget_pause, r);
  ks_barrier_ops bo = ks_runner_barrier_ops;
  bo.ud = r;
  ks_barrier_chain_init(&r->chain, &bo);
  ks_barrier_pace(&r->chain, r->cfg.commit_interval_ms, NULL, NULL);
  uv_loop_init(&r->loop);
  return r;
}

/* Serve until stopped, then the bounded shutdown. Returns the exit status. */
static int loop(runner *r) {
  uv_run(&r->loop, UV_RUN_DEFAULT);
  ks_ops_stopping(r); /* i14: STOPPING=1; a second SIGINT/SIGTERM exits at once */
  shutdown_clean(r);
  return r->exit_code;
}

int ks_cmd_run_watched(int argc, char **argv, ks_plugin_call_fn call_of_thread) {
  ks_run_args args;
  int status = ks_run_args_parse(&args, argc, argv);
  if (status >= 0)
    return status;
  runner *r = runner_new(&args, call_of_thread, &status);
  if (r == NULL)
    return status;
  status = start(r, &args);
  if (status < 0)
    status = loop(r);
  teardown(r, status);
  return status;
}
