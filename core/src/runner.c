#include "runner.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "kafka_consumer.h"
#include "kafka_producer.h"
#include "log.h"

#define RUN_ERRSZ 1024

typedef struct barrier {
  struct barrier *next;
  size_t pending; /* produced, not yet acknowledged */
  int sealed;
  rd_kafka_topic_partition_list_t *offsets;
} barrier;

typedef struct part_state {
  int32_t partition;
  uint32_t topic;
  int assigned;
  int eof;
} part_state;

typedef struct runner {
  uv_loop_t loop;
  ks_config cfg;
  ks_engine *engine;
  ks_producer *producer;
  ks_consumer *consumer;
  uv_signal_t sigint, sigterm;
  uv_timer_t stats_timer;
  int until_eof;
  int stopping;
  int exit_code;
  int32_t n_partitions;
  part_state *parts; /* n_topics * n_partitions */
  size_t n_assigned;
  barrier *head, *tail; /* FIFO; tail is the open barrier */
  int want_seal;
  uint64_t dlq_sent, delivery_errors, commits;
  rd_kafka_topic_t *rkt_cache[64];
  uint32_t rkt_index[64];
  size_t n_rkt;
  uint64_t last_events;
  uint64_t last_stats_ms;
} runner;

static void rlog(runner *r, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rlog(runner *r, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ks_logv(r->cfg.log_level, level, "runner", fmt, ap);
  va_end(ap);
}

static part_state *part_get(runner *r, uint32_t topic, int32_t p) {
  if (p < 0 || p >= r->n_partitions || topic >= r->cfg.n_topics)
    return NULL;
  return &r->parts[(size_t)topic * (size_t)r->n_partitions + (size_t)p];
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

/* ---- barriers --------------------------------------------------------- */

static barrier *barrier_open(runner *r) {
  if (r->tail && !r->tail->sealed)
    return r->tail;
  barrier *b = calloc(1, sizeof *b);
  if (b == NULL)
    return NULL;
  if (r->tail)
    r->tail->next = b;
  else
    r->head = b;
  r->tail = b;
  return b;
}

static void barrier_pop_ready(runner *r) {
  while (r->head && r->head->sealed && r->head->pending == 0) {
    barrier *b = r->head;
    if (b->offsets && b->offsets->cnt) {
      if (ks_consumer_commit(r->consumer, b->offsets, 1) == 0)
        r->commits++;
    }
    r->head = b->next;
    if (r->tail == b)
      r->tail = NULL;
    if (b->offsets)
      rd_kafka_topic_partition_list_destroy(b->offsets);
    free(b);
  }
}

/* Offsets that are safe to commit now for every assigned partition. */
static rd_kafka_topic_partition_list_t *safe_offsets(runner *r, int only_revoked,
                                                     const rd_kafka_topic_partition_list_t *rev) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
  for (size_t t = 0; t < r->cfg.n_topics; t++)
    for (int32_t p = 0; p < r->n_partitions; p++) {
      part_state *ps = part_get(r, (uint32_t)t, p);
      if (!ps->assigned)
        continue;
      if (only_revoked && !rd_kafka_topic_partition_list_find(rev, r->cfg.topics[t], p))
        continue;
      int64_t off = ks_engine_commit_offset(r->engine, p, (uint32_t)t);
      if (off >= 0)
        rd_kafka_topic_partition_list_add(l, r->cfg.topics[t], p)->offset = off;
    }
  return l;
}

static void barrier_seal(runner *r) {
  barrier *b = barrier_open(r);
  if (b == NULL)
    return;
  b->offsets = safe_offsets(r, 0, NULL);
  b->sealed = 1;
  r->want_seal = 0;
  barrier_pop_ready(r);
}

static void on_delivery(void *ud, void *opaque, rd_kafka_resp_err_t err,
                        const rd_kafka_message_t *m) {
  runner *r = ud;
  barrier *b = opaque;
  if (err) {
    r->delivery_errors++;
    rlog(r, KS_LOG_ERROR,
         "delivery to %s failed: %s; stopping without committing past it (input will be "
         "re-read on restart)",
         m->rkt ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(err));
    r->exit_code = 1;
    /* Poison the barrier chain: nothing after this point may commit. */
    for (barrier *x = r->head; x; x = x->next)
      if (x->offsets) {
        rd_kafka_topic_partition_list_destroy(x->offsets);
        x->offsets = NULL;
      }
    if (!r->stopping)
      uv_stop(&r->loop);
  }
  if (b && b->pending)
    b->pending--;
  barrier_pop_ready(r);
}

/* ---- results and dead letters -------------------------------------------- */

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *res) {
  (void)res;
  runner *r = ud;
  barrier *b = barrier_open(r);
  if (b == NULL)
    return KS_ENOMEM;
  char err[RUN_ERRSZ];
  int rc =
      ks_producer_send(r->producer, topic, key, keylen, value, valuelen, NULL, b, err, sizeof err);
  if (rc != 0) {
    rlog(r, KS_LOG_ERROR, "%s", err);
    return rc;
  }
  b->pending++;
  return 0;
}

static void on_interval_closed(void *ud, int32_t task, int64_t start, int64_t end) {
  runner *r = ud;
  (void)end;
  r->want_seal = 1;
  rlog(r, KS_LOG_DEBUG, "task %d: interval %" PRId64 " closed", task, start);
}

static void dead_letter(runner *r, const rd_kafka_message_t *m, const char *reason) {
  const char *topic = rd_kafka_topic_name(m->rkt);
  if (r->cfg.dead_letter_topic == NULL) {
    rlog(r, KS_LOG_WARN, "rejected %s [%d] offset %" PRId64 ": %s (no dead_letter_topic set)",
         topic, m->partition, m->offset, reason);
    return;
  }
  rd_kafka_headers_t *h = rd_kafka_headers_new(4);
  char part[16], off[32];
  snprintf(part, sizeof part, "%d", m->partition);
  snprintf(off, sizeof off, "%" PRId64, m->offset);
  rd_kafka_header_add(h, "kpistream.reason", -1, reason, -1);
  rd_kafka_header_add(h, "kpistream.source.topic", -1, topic, -1);
  rd_kafka_header_add(h, "kpistream.source.partition", -1, part, -1);
  rd_kafka_header_add(h, "kpistream.source.offset", -1, off, -1);
  barrier *b = barrier_open(r);
  char err[RUN_ERRSZ];
  if (b == NULL || ks_producer_send(r->producer, r->cfg.dead_letter_topic, m->key, m->key_len,
                                    m->payload, m->len, h, b, err, sizeof err) != 0) {
    rlog(r, KS_LOG_ERROR, "cannot dead-letter %s [%d] offset %" PRId64 ": %s", topic, m->partition,
         m->offset, b ? err : "out of memory");
    r->exit_code = 1;
    uv_stop(&r->loop);
    return;
  }
  b->pending++;
  r->dlq_sent++;
  rlog(r, KS_LOG_WARN, "rejected %s [%d] offset %" PRId64 ": %s -> %s", topic, m->partition,
       m->offset, reason, r->cfg.dead_letter_topic);
}

/* ---- consuming ----------------------------------------------------------- */

static int all_eof(runner *r) {
  if (r->n_assigned == 0)
    return 0;
  size_t n = (size_t)r->n_partitions * r->cfg.n_topics;
  for (size_t i = 0; i < n; i++)
    if (r->parts[i].assigned && !r->parts[i].eof)
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

static void on_batch(void *ud, rd_kafka_message_t **msgs, size_t n) {
  runner *r = ud;
  char reason[256];
  int eof_seen = 0;
  for (size_t i = 0; i < n && !r->stopping; i++) {
    rd_kafka_message_t *m = msgs[i];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      int t = m->rkt ? topic_index(r, m->rkt) : -1;
      part_state *ps = t >= 0 ? part_get(r, (uint32_t)t, m->partition) : NULL;
      if (ps) {
        ps->eof = 1;
        ks_engine_set_idle(r->engine, m->partition, (uint32_t)t, 1);
        eof_seen = 1;
      }
      continue;
    }
    if (m->err) {
      rlog(r, KS_LOG_WARN, "kafka: %s%s%s", rd_kafka_err2str(m->err), m->rkt ? " on " : "",
           m->rkt ? rd_kafka_topic_name(m->rkt) : "");
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        r->exit_code = 1;
        begin_stop(r, "fatal Kafka error");
      }
      continue;
    }
    int t = topic_index(r, m->rkt);
    part_state *ps = t >= 0 ? part_get(r, (uint32_t)t, m->partition) : NULL;
    if (ps == NULL)
      continue;
    ps->eof = 0;
    int rc = ks_engine_process(r->engine, m->partition, (uint32_t)t, m->offset, m->payload, m->len,
                               reason, sizeof reason);
    if (rc == KS_REJECTED) {
      dead_letter(r, m, reason);
    } else if (rc == KS_LATE) {
      ks_engine_stats st;
      ks_engine_get_stats(r->engine, &st);
      if (st.events_late <= 10 || (st.events_late & (st.events_late - 1)) == 0)
        rlog(r, KS_LOG_WARN, "%s [%d] offset %" PRId64 ": %s (%" PRIu64 " late so far)",
             rd_kafka_topic_name(m->rkt), m->partition, m->offset, reason, st.events_late);
    } else if (rc < 0) {
      rlog(r, KS_LOG_ERROR, "%s [%d] offset %" PRId64 ": processing failed (%d)",
           rd_kafka_topic_name(m->rkt), m->partition, m->offset, rc);
      r->exit_code = 1;
      begin_stop(r, "processing error");
    }
  }
  if (eof_seen)
    ks_engine_advance(r->engine);
  if (r->want_seal)
    barrier_seal(r);
  if (r->until_eof && !r->stopping && all_eof(r))
    begin_stop(r, "all assigned partitions reached their end (--until-eof)");
}

static void on_assign(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  runner *r = ud;
  for (int i = 0; i < parts->cnt; i++) {
    int t = topic_index_by_name(r, parts->elems[i].topic);
    part_state *ps = t >= 0 ? part_get(r, (uint32_t)t, parts->elems[i].partition) : NULL;
    if (ps == NULL)
      continue;
    if (!ks_engine_task_exists(r->engine, ps->partition))
      ks_engine_task_open(r->engine, ps->partition);
    ps->assigned = 1;
    ps->eof = 0;
    r->n_assigned++;
  }
  rlog(r, KS_LOG_INFO, "assigned %d partitions (%zu now)", parts->cnt, r->n_assigned);
}

static void on_revoke(void *ud, const rd_kafka_topic_partition_list_t *parts) {
  runner *r = ud;
  /* Deliver what was produced, commit what is safe for these partitions,
   * then drop their tasks: the next owner re-reads from the safe offset. */
  if (r->want_seal)
    barrier_seal(r);
  if (ks_producer_flush(r->producer, 30000) != 0)
    rlog(r, KS_LOG_WARN, "revoke: results not all delivered within 30 s; not committing");
  else {
    rd_kafka_topic_partition_list_t *l = safe_offsets(r, 1, parts);
    if (ks_consumer_commit(r->consumer, l, 0) == 0 && l->cnt)
      r->commits++;
    rd_kafka_topic_partition_list_destroy(l);
  }
  for (int i = 0; i < parts->cnt; i++) {
    int t = topic_index_by_name(r, parts->elems[i].topic);
    part_state *ps = t >= 0 ? part_get(r, (uint32_t)t, parts->elems[i].partition) : NULL;
    if (ps && ps->assigned) {
      ps->assigned = 0;
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
       "events %" PRIu64 " (%.0f/s), rejected %" PRIu64 ", late %" PRIu64 ", results %" PRIu64
       ", intervals closed %" PRIu64 ", plugin errors %" PRIu64 ", commits %" PRIu64
       ", in flight %d",
       st.events_in, secs > 0 ? (double)(st.events_in - r->last_events) / secs : 0.0,
       st.events_rejected, st.events_late, st.results_out, st.intervals_closed, st.plugin_errors,
       r->commits, ks_producer_outq_len(r->producer));
  r->last_events = st.events_in;
  r->last_stats_ms = now;
}

/* ---- start and stop ------------------------------------------------------ */

static void usage(FILE *f) {
  fprintf(f, "usage: kpistream run -c CONFIG [options]\n"
             "\n"
             "Consume contact-center events from Kafka, compute KPIs with the configured\n"
             "plugins per event-time interval, publish the results to Kafka.\n"
             "\n"
             "options:\n"
             "  -c, --config FILE            YAML configuration (see docs/configuration.md)\n"
             "  -b, --bootstrap-servers LIST override kafka bootstrap.servers\n"
             "      --bootstrap-file FILE    read bootstrap.servers from FILE (kpistream broker)\n"
             "  -X, --property KEY=VALUE     any librdkafka property (repeatable)\n"
             "  -g, --group ID               consumer group id (default kpistream)\n"
             "      --plugin-dir DIR         where plugins are looked up\n"
             "      --until-eof              stop when every assigned partition is at its end,\n"
             "                               closing all open intervals (backfills, tests)\n"
             "      --check-config           load config and plugins, then exit\n"
             "      --log-level LEVEL        error, warn, info, debug\n"
             "  -h, --help                   this help\n"
             "  -V, --version                print the version\n"
             "\n"
             "Exit status: 0 on a clean stop, 1 on a runtime error, 2 on a usage or\n"
             "configuration error.\n");
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static int load_plugins(runner *r, char *err, size_t errsz) {
  for (size_t i = 0; i < r->cfg.n_plugins; i++) {
    ks_config_plugin *p = &r->cfg.plugins[i];
    char path[1024];
    ks_config_plugin_path(&r->cfg, p, path, sizeof path);
    int rc = ks_engine_add_plugin(r->engine, path, p->topic, p->options, p->n_options, err, errsz);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int setup(runner *r, int check_only, char *err, size_t errsz) {
  ks_engine_options eo = {0};
  eo.interval_ms = r->cfg.interval_ms;
  eo.lateness_ms = r->cfg.lateness_ms;
  eo.grace_ms = r->cfg.grace_ms;
  eo.topics = (const char *const *)r->cfg.topics;
  eo.n_topics = r->cfg.n_topics;
  eo.sink = sink;
  eo.sink_ud = r;
  eo.on_closed = on_interval_closed;
  eo.on_closed_ud = r;
  eo.log_level = r->cfg.log_level;
  int rc = ks_engine_new(&r->engine, &eo, err, errsz);
  if (rc == 0)
    rc = load_plugins(r, err, errsz);
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
  ks_consumer_handlers h = {on_batch, on_assign, on_revoke};
  rc = ks_consumer_new(&r->consumer, &r->loop, clists, ccounts, 2, r->cfg.log_level, &h, r, err,
                       errsz);
  if (rc != 0)
    return rc;
  rc = ks_consumer_check_topics(r->consumer, r->cfg.topics, r->cfg.n_topics, 15000,
                                &r->n_partitions, err, errsz);
  if (rc != 0)
    return rc;
  r->parts = calloc((size_t)r->n_partitions * r->cfg.n_topics, sizeof *r->parts);
  if (r->parts == NULL)
    return KS_ENOMEM;
  for (size_t t = 0; t < r->cfg.n_topics; t++)
    for (int32_t p = 0; p < r->n_partitions; p++) {
      part_state *ps = part_get(r, (uint32_t)t, p);
      ps->partition = p;
      ps->topic = (uint32_t)t;
    }
  rlog(r, KS_LOG_INFO,
       "%zu input topics x %d partitions (= %d tasks), %zu plugins, interval %" PRId64
       " s, lateness %" PRId64 " ms",
       r->cfg.n_topics, r->n_partitions, r->n_partitions, ks_engine_plugin_count(r->engine),
       r->cfg.interval_ms / 1000, r->cfg.lateness_ms);
  return ks_consumer_subscribe(r->consumer, r->cfg.topics, r->cfg.n_topics, err, errsz);
}

static void shutdown_clean(runner *r) {
  if (r->consumer && r->producer && r->exit_code == 0) {
    if (r->until_eof)
      ks_engine_flush_all(r->engine);
    barrier_seal(r);
    if (ks_producer_flush(r->producer, 30000) != 0) {
      rlog(r, KS_LOG_ERROR, "results not delivered within 30 s; not committing");
      r->exit_code = 1;
    } else {
      barrier_pop_ready(r);
      rd_kafka_topic_partition_list_t *l = safe_offsets(r, 0, NULL);
      if (ks_consumer_commit(r->consumer, l, 0) == 0 && l->cnt)
        r->commits++;
      rd_kafka_topic_partition_list_destroy(l);
    }
  }
  if (r->consumer)
    ks_consumer_close(r->consumer);
  if (r->producer) {
    ks_producer_flush(r->producer, 10000);
    ks_producer_close(r->producer);
  }
  ks_engine_stats st = {0};
  if (r->engine)
    ks_engine_get_stats(r->engine, &st);
  if (r->engine)
    rlog(r, KS_LOG_INFO,
         "stopped: events %" PRIu64 ", dispatched %" PRIu64 ", rejected %" PRIu64
         " (dead-lettered %" PRIu64 "), late %" PRIu64 ", results %" PRIu64
         ", intervals closed %" PRIu64 ", plugin errors %" PRIu64 ", commits %" PRIu64,
         st.events_in, st.events_dispatched, st.events_rejected, r->dlq_sent, st.events_late,
         st.results_out, st.intervals_closed, st.plugin_errors, r->commits);
}

int ks_cmd_run(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                           {"bootstrap-servers", required_argument, NULL, 'b'},
                                           {"bootstrap-file", required_argument, NULL, 'B'},
                                           {"property", required_argument, NULL, 'X'},
                                           {"group", required_argument, NULL, 'g'},
                                           {"plugin-dir", required_argument, NULL, 'P'},
                                           {"until-eof", no_argument, NULL, 'E'},
                                           {"check-config", no_argument, NULL, 'C'},
                                           {"log-level", required_argument, NULL, 'L'},
                                           {"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, 'V'},
                                           {NULL, 0, NULL, 0}};
  const char *config_path = NULL, *bootstrap = NULL, *bootstrap_file = NULL, *group = NULL;
  const char *plugin_dir = NULL, *log_level = NULL;
  int until_eof = 0, check_only = 0;
  char *props[64];
  size_t n_props = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "c:b:X:g:hV", longopts, NULL)) != -1) {
    switch (c) {
    case 'c':
      config_path = optarg;
      break;
    case 'b':
      bootstrap = optarg;
      break;
    case 'B':
      bootstrap_file = optarg;
      break;
    case 'g':
      group = optarg;
      break;
    case 'P':
      plugin_dir = optarg;
      break;
    case 'E':
      until_eof = 1;
      break;
    case 'C':
      check_only = 1;
      break;
    case 'L':
      log_level = optarg;
      break;
    case 'X':
      if (n_props == 64 || strchr(optarg, '=') == NULL) {
        fprintf(stderr, "kpistream run: -X expects KEY=VALUE (at most 64), got '%s'\n", optarg);
        return 2;
      }
      props[n_props++] = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("kpistream %s\n", KS_VERSION);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (config_path == NULL || optind < argc) {
    fprintf(stderr, "kpistream run: %s\n",
            config_path ? "unexpected argument" : "-c/--config FILE is required");
    usage(stderr);
    return 2;
  }
  runner *r = calloc(1, sizeof *r);
  if (r == NULL)
    return 1;
  r->until_eof = until_eof;
  char err[RUN_ERRSZ] = "";
  int rc = ks_config_load_file(&r->cfg, config_path, err, sizeof err);
  if (rc == 0 && log_level) {
    int lv = ks_log_level_parse(log_level);
    if (lv < 0) {
      snprintf(err, sizeof err, "--log-level: '%s' is not one of error, warn, info, debug",
               log_level);
      rc = KS_ECONFIG;
    } else
      r->cfg.log_level = lv;
  }
  char bsbuf[512];
  if (rc == 0 && bootstrap_file) {
    if (ks_cli_read_bootstrap(bootstrap_file, bsbuf, sizeof bsbuf) != 0) {
      snprintf(err, sizeof err, "--bootstrap-file %s: cannot read a bootstrap address",
               bootstrap_file);
      rc = KS_ECONFIG;
    } else
      bootstrap = bsbuf;
  }
  if (rc == 0 && bootstrap)
    rc = ks_config_set_kafka(&r->cfg, "bootstrap.servers", bootstrap);
  for (size_t i = 0; rc == 0 && i < n_props; i++) {
    char *eq = strchr(props[i], '=');
    *eq = '\0';
    rc = ks_config_set_kafka(&r->cfg, props[i], eq + 1);
    *eq = '=';
  }
  if (rc == 0 && group) {
    rc = ks_config_set_consumer(&r->cfg, "group.id", group);
  }
  if (rc == 0 && plugin_dir) {
    free(r->cfg.plugin_dir);
    r->cfg.plugin_dir = strdup(plugin_dir);
  }
  if (rc == 0 && r->cfg.plugin_dir == NULL)
    r->cfg.plugin_dir = strdup(KS_PLUGIN_DIR_INSTALL);
  if (rc != 0) {
    fprintf(stderr, "kpistream: %s\n", err[0] ? err : "configuration error");
    ks_config_free(&r->cfg);
    free(r);
    return 2;
  }
  uv_loop_init(&r->loop);
  rc = setup(r, check_only, err, sizeof err);
  int status;
  if (rc != 0) {
    fprintf(stderr, "kpistream: %s\n", err);
    status = (rc == KS_ECONFIG || rc == KS_EABI || rc == KS_ENOENT || rc == KS_EINVAL) ? 2 : 1;
  } else if (check_only) {
    printf("configuration OK: %s (%zu topics, %zu plugins)\n", config_path, r->cfg.n_topics,
           ks_engine_plugin_count(r->engine));
    status = 0;
  } else {
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
    uv_run(&r->loop, UV_RUN_DEFAULT);
    shutdown_clean(r);
    status = r->exit_code;
  }
  if (r->consumer && status != 0)
    ks_consumer_close(r->consumer);
  if (r->producer)
    ks_producer_close(r->producer);
  uv_walk(&r->loop, close_walk, NULL);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  ks_consumer_free(r->consumer);
  ks_producer_free(r->producer);
  while (r->head) {
    barrier *b = r->head;
    r->head = b->next;
    if (b->offsets)
      rd_kafka_topic_partition_list_destroy(b->offsets);
    free(b);
  }
  ks_engine_free(r->engine);
  uv_loop_close(&r->loop);
  free(r->parts);
  ks_config_free(&r->cfg);
  free(r);
  return status;
}
