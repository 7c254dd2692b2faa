#include "kafka_consumer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_conf.h"
#include "log.h"

#define KS_BATCH              1024
#define KS_BATCHES_PER_WAKEUP 16
#define KS_CLOSE_ASSIGN_MS    5000u

struct ks_consumer {
  rd_kafka_t *rk;
  rd_kafka_queue_t *q;
  int pipefd[2];
  uv_poll_t poll;
  uv_idle_t idle;
  uv_timer_t timer;
  int handles_active;
  int closed;
  int log_level;
  /* the close runs on its own thread (see ks_consumer_close) */
  uv_mutex_t close_mu;
  uv_cond_t close_cv;
  int close_done;        /* under close_mu */
  uint64_t assign_since; /* under close_mu: uv_hrtime() of a close-time assign, 0 if none */
  int close_stuck;       /* librdkafka never returned: the handle is abandoned */
  int close_timeout_ms;  /* bound of close_serve() */
  int close_unfinished;  /* the group leave did not complete within it */
  ks_consumer_handlers h;
  void *ud;
  ks_broker_watch watch;
  char *const *topics; /* borrowed (ks_consumer_subscribe) */
  size_t n_topics;
  int32_t n_partitions;
  rd_kafka_queue_t **pq; /* [topic * n_partitions + partition]: assigned ones */
  rd_kafka_message_t *msgs[KS_BATCH];
};

/* The slot of a partition's queue, or NULL for a partition not subscribed. */
static rd_kafka_queue_t **pq_slot(ks_consumer *c, const char *topic, int32_t partition) {
  if (c->pq == NULL || partition < 0 || partition >= c->n_partitions)
    return NULL;
  for (size_t t = 0; t < c->n_topics; t++)
    if (strcmp(c->topics[t], topic) == 0)
      return &c->pq[t * (size_t)c->n_partitions + (size_t)partition];
  return NULL;
}

/* Read the partition through a queue of its own from now on: forwarding to
 * the consumer queue is removed before rd_kafka_assign starts the fetch
 * (librdkafka keeps an application's forwarding choice, RD_KAFKA_Q_F_FWD_APP,
 * so the fetch start does not forward it again). */
static void pq_open(ks_consumer *c, const char *topic, int32_t partition) {
  rd_kafka_queue_t **slot = pq_slot(c, topic, partition);
  if (slot == NULL || *slot != NULL)
    return;
  rd_kafka_queue_t *q = rd_kafka_queue_get_partition(c->rk, topic, partition);
  if (q == NULL) {
    ks_log(c->log_level, KS_LOG_ERROR, "kafka",
           "%s [%d]: no partition queue; its messages come through the consumer queue", topic,
           partition);
    return;
  }
  rd_kafka_queue_forward(q, NULL);
  rd_kafka_queue_io_event_enable(q, c->pipefd[1], "1", 1);
  *slot = q;
}

static void pq_close(rd_kafka_queue_t **slot) {
  if (slot == NULL || *slot == NULL)
    return;
  rd_kafka_queue_io_event_enable(*slot, -1, NULL, 0);
  rd_kafka_queue_destroy(*slot);
  *slot = NULL;
}

/* rd_kafka_assign, timed while closing (see ks_consumer_close). */
static void assign(ks_consumer *c, rd_kafka_topic_partition_list_t *parts) {
  if (c->closed) {
    uv_mutex_lock(&c->close_mu);
    c->assign_since = uv_hrtime();
    uv_mutex_unlock(&c->close_mu);
  }
  rd_kafka_assign(c->rk, parts);
  if (c->closed) {
    uv_mutex_lock(&c->close_mu);
    c->assign_since = 0;
    uv_mutex_unlock(&c->close_mu);
  }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
  (void)rk;
  ks_consumer *c = opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (c->h.on_assign)
      c->h.on_assign(c->ud, parts);
    for (int i = 0; i < parts->cnt; i++)
      pq_open(c, parts->elems[i].topic, parts->elems[i].partition);
    assign(c, parts);
  } else {
    if (c->h.on_revoke)
      c->h.on_revoke(c->ud, parts);
    /* before the unassign: librdkafka stops the fetch with no handle left */
    for (int i = 0; i < parts->cnt; i++)
      pq_close(pq_slot(c, parts->elems[i].topic, parts->elems[i].partition));
    assign(c, NULL);
  }
}

/* A fetch worked: the brokers are back. */
static void saw_fetch(ks_consumer *c, rd_kafka_message_t *const *msgs, size_t n) {
  for (size_t i = 0; c->watch.down && i < n; i++)
    if (!msgs[i]->err || msgs[i]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      ks_broker_watch_up(&c->watch);
}

size_t ks_consumer_pull(ks_consumer *c, uint32_t topic, int32_t partition,
                        rd_kafka_message_t **msgs, size_t max) {
  if (c->pq == NULL || topic >= c->n_topics || partition < 0 || partition >= c->n_partitions)
    return 0;
  rd_kafka_queue_t *q = c->pq[topic * (size_t)c->n_partitions + (size_t)partition];
  if (q == NULL || c->closed)
    return 0;
  ssize_t n = rd_kafka_consume_batch_queue(q, 0, msgs, max);
  if (n <= 0)
    return 0;
  saw_fetch(c, msgs, (size_t)n);
  return (size_t)n;
}

/* Hand a batch of the consumer queue to on_batch; 1 if it was full. */
static int served(ks_consumer *c, ssize_t n) {
  saw_fetch(c, c->msgs, (size_t)n);
  c->h.on_batch(c->ud, c->msgs, (size_t)n);
  for (ssize_t i = 0; i < n; i++)
    if (c->msgs[i]) /* the handler keeps what it set to NULL */
      rd_kafka_message_destroy(c->msgs[i]);
  return n == KS_BATCH;
}

/* Serve the consumer queue (rebalances, errors), then the caller's pulls;
 * returns 1 if either stopped at its budget. */
static int drain(ks_consumer *c) {
  int more = 1;
  for (int b = 0; b < KS_BATCHES_PER_WAKEUP && more; b++) {
    ssize_t n = rd_kafka_consume_batch_queue(c->q, 0, c->msgs, KS_BATCH);
    if (n <= 0)
      more = 0;
    else
      more = served(c, n);
  }
  if (c->closed)
    return 0;
  int ready_more = c->h.on_ready ? c->h.on_ready(c->ud) : 0;
  return more || ready_more;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)rk;
  ks_consumer *c = opaque;
  ks_broker_watch_error(&c->watch, err, reason);
}

static void on_idle(uv_idle_t *h) {
  ks_consumer *c = h->data;
  if (c->closed || !drain(c))
    uv_idle_stop(&c->idle);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  ks_consumer *c = h->data;
  char buf[64];
  while (read(c->pipefd[0], buf, sizeof buf) > 0) {
  }
  if (!c->closed && drain(c))
    uv_idle_start(&c->idle, on_idle);
}

static void on_timer(uv_timer_t *t) {
  ks_consumer *c = t->data;
  if (!c->closed && drain(c))
    uv_idle_start(&c->idle, on_idle);
}

rd_kafka_conf_t *ks_consumer_conf_new(const ks_kv *const *lists, const size_t *counts,
                                      size_t n_lists, const ks_kv **bad, char *errstr,
                                      size_t errstr_size) {
  if (bad)
    *bad = NULL;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* Defaults (see docs/configuration.md); the user's lists override them,
   * except the three the processing guarantees depend on, set after. */
  static const char *const defaults[][2] = {{"group.id", "kpistream"},
                                            {"auto.offset.reset", "earliest"},
                                            {"partition.assignment.strategy", "range"},
                                            {"queued.min.messages", "100000"},
                                            {"queued.max.messages.kbytes", "8192"},
                                            {"fetch.wait.max.ms", "100"},
                                            {"session.timeout.ms", "10000"}};
  static const char *const forced[][2] = {{"enable.auto.commit", "false"},
                                          {"enable.auto.offset.store", "false"},
                                          {"enable.partition.eof", "true"}};
  const ks_kv *strategy = NULL; /* the entry that set the assignment strategy */
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    if (ks_kafka_conf_set(conf, defaults[i][0], defaults[i][1], errstr, errstr_size))
      goto fail_conf;
  for (size_t l = 0; l < n_lists; l++)
    for (size_t i = 0; i < counts[l]; i++) {
      const char *k = lists[l][i].key;
      if (bad)
        *bad = &lists[l][i];
      for (size_t f = 0; f < sizeof forced / sizeof forced[0]; f++)
        if (strcmp(k, forced[f][0]) == 0) {
          snprintf(errstr, errstr_size,
                   "kafka property '%s' is managed by kpistream (offsets are committed only "
                   "after results are delivered) and cannot be set",
                   k);
          goto fail_conf;
        }
      if (ks_kafka_conf_set(conf, k, lists[l][i].value, errstr, errstr_size))
        goto fail_conf;
      if (strcmp(k, "partition.assignment.strategy") == 0)
        strategy = &lists[l][i];
    }
  if (bad)
    *bad = NULL;
  for (size_t f = 0; f < sizeof forced / sizeof forced[0]; f++)
    if (ks_kafka_conf_set(conf, forced[f][0], forced[f][1], errstr, errstr_size))
      goto fail_conf;
  char strat[128];
  size_t sz = sizeof strat;
  if (rd_kafka_conf_get(conf, "partition.assignment.strategy", strat, &sz) == RD_KAFKA_CONF_OK &&
      strcmp(strat, "range") != 0) {
    snprintf(errstr, errstr_size,
             "kafka property 'partition.assignment.strategy' = '%s': only 'range' keeps "
             "partition p of every input topic on one instance (the task contract)",
             strat);
    if (bad)
      *bad = strategy;
    goto fail_conf;
  }
  return conf;
fail_conf:
  rd_kafka_conf_destroy(conf);
  return NULL;
}

int ks_consumer_new(ks_consumer **out, uv_loop_t *loop, const ks_kv *const *lists,
                    const size_t *counts, size_t n_lists, int log_level,
                    const ks_consumer_handlers *h, void *ud, char *errstr, size_t errstr_size) {
  *out = NULL;
  rd_kafka_conf_t *conf = ks_consumer_conf_new(lists, counts, n_lists, NULL, errstr, errstr_size);
  if (conf == NULL)
    return KS_ECONFIG;
  ks_consumer *c = calloc(1, sizeof *c);
  if (c == NULL) {
    rd_kafka_conf_destroy(conf);
    return KS_ENOMEM;
  }
  c->pipefd[0] = c->pipefd[1] = -1;
  c->h = *h;
  c->ud = ud;
  c->log_level = log_level;
  rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  ks_broker_watch_init(&c->watch, "consumer", log_level);
  ks_kafka_conf_route_logs(conf, log_level);
  rd_kafka_conf_set_opaque(conf, c);
  char why[512];
  c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (c->rk == NULL) {
    snprintf(errstr, errstr_size, "kafka consumer: %s", why);
    goto fail_conf;
  }
  rd_kafka_poll_set_consumer(c->rk);
  c->q = rd_kafka_queue_get_consumer(c->rk);
  if (pipe(c->pipefd) != 0) {
    snprintf(errstr, errstr_size, "kafka consumer: pipe: %s", strerror(errno));
    ks_consumer_free(c);
    return KS_EKAFKA;
  }
  fcntl(c->pipefd[0], F_SETFL, O_NONBLOCK);
  fcntl(c->pipefd[1], F_SETFL, O_NONBLOCK);
  rd_kafka_queue_io_event_enable(c->q, c->pipefd[1], "1", 1);
  uv_poll_init(loop, &c->poll, c->pipefd[0]);
  uv_idle_init(loop, &c->idle);
  uv_timer_init(loop, &c->timer);
  c->poll.data = c->idle.data = c->timer.data = c;
  c->handles_active = 1;
  *out = c;
  return 0;
fail_conf:
  rd_kafka_conf_destroy(conf);
  free(c);
  return KS_ECONFIG;
}

int ks_consumer_check_topics(ks_consumer *c, char *const *topics, size_t n, int timeout_ms,
                             int32_t *partitions, char *errstr, size_t errstr_size) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 1, NULL, &md, timeout_ms);
  if (err) {
    snprintf(errstr, errstr_size, "kafka: cannot read cluster metadata: %s", rd_kafka_err2str(err));
    return KS_EKAFKA;
  }
  int rc = 0;
  int32_t first = -1;
  const char *first_name = NULL;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const struct rd_kafka_metadata_topic *t = NULL;
    for (int j = 0; j < md->topic_cnt; j++)
      if (strcmp(md->topics[j].topic, topics[i]) == 0)
        t = &md->topics[j];
    if (t == NULL || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      snprintf(errstr, errstr_size, "input topic '%s' does not exist on the cluster", topics[i]);
      rc = KS_ECONFIG;
    } else if (t->err) {
      snprintf(errstr, errstr_size, "input topic '%s': %s", topics[i], rd_kafka_err2str(t->err));
      rc = KS_EKAFKA;
    } else if (first < 0) {
      first = t->partition_cnt;
      first_name = topics[i];
    } else if (t->partition_cnt != first) {
      snprintf(errstr, errstr_size,
               "input topics are not co-partitioned: '%s' has %d partitions, '%s' has %d; "
               "every input topic must have the same partition count (docs/partitioning.md)",
               first_name, first, topics[i], t->partition_cnt);
      rc = KS_ECONFIG;
    }
  }
  rd_kafka_metadata_destroy(md);
  if (rc == 0)
    *partitions = first;
  return rc;
}

int ks_consumer_subscribe(ks_consumer *c, char *const *topics, size_t n, int32_t partitions,
                          char *errstr, size_t errstr_size) {
  if (partitions < 0)
    partitions = 0;
  c->pq = calloc(n * (size_t)partitions + 1, sizeof *c->pq);
  if (c->pq == NULL) {
    snprintf(errstr, errstr_size, "kafka: subscribe: out of memory");
    return KS_ENOMEM;
  }
  c->topics = topics;
  c->n_topics = n;
  c->n_partitions = partitions;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
  for (size_t i = 0; i < n; i++)
    rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) {
    snprintf(errstr, errstr_size, "kafka: subscribe failed: %s", rd_kafka_err2str(err));
    return KS_EKAFKA;
  }
  uv_poll_start(&c->poll, UV_READABLE, on_readable);
  uv_timer_start(&c->timer, on_timer, 0, 500);
  return 0;
}

int ks_consumer_commit(ks_consumer *c, const rd_kafka_topic_partition_list_t *offsets, int async) {
  if (offsets == NULL || offsets->cnt == 0)
    return 0;
  rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, offsets, async);
  return err ? KS_EKAFKA : 0;
}

static void stop_handles(ks_consumer *c) {
  if (!c->handles_active)
    return;
  uv_poll_stop(&c->poll);
  uv_idle_stop(&c->idle);
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->poll, NULL);
  uv_close((uv_handle_t *)&c->idle, NULL);
  uv_close((uv_handle_t *)&c->timer, NULL);
  c->handles_active = 0;
}

/* Leave the group and serve the final revoke through rebalance_cb, for at
 * most close_timeout_ms: a broker that is gone must not keep a stopping
 * process alive. Runs on the close thread. */
static void close_serve(ks_consumer *c) {
  rd_kafka_queue_t *cq = rd_kafka_queue_new(c->rk);
  rd_kafka_error_t *err = rd_kafka_consumer_close_queue(c->rk, cq);
  if (err) {
    rd_kafka_error_destroy(err);
  } else {
    uint64_t deadline = uv_hrtime() + (uint64_t)c->close_timeout_ms * 1000000u;
    /* The event API, not rd_kafka_queue_poll_callback(): fetch results and
     * partition-EOF errors still arriving while closing come back as events
     * to drop (the callback API asserts on them); the final revoke comes
     * back as an event too and is served by rebalance_cb(). */
    while (!rd_kafka_consumer_closed(c->rk) && uv_hrtime() < deadline) {
      rd_kafka_event_t *ev = rd_kafka_queue_poll(cq, 100);
      if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
        rebalance_cb(c->rk, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev), c);
      if (ev)
        rd_kafka_event_destroy(ev);
    }
  }
  c->close_unfinished = !rd_kafka_consumer_closed(c->rk);
  rd_kafka_queue_destroy(cq);
}

static void close_thread(void *arg) {
  ks_consumer *c = arg;
  close_serve(c);
  uv_mutex_lock(&c->close_mu);
  c->close_done = 1;
  uv_cond_signal(&c->close_cv);
  uv_mutex_unlock(&c->close_mu);
}

/*
 * librdkafka 2.0.2 can block forever in rd_kafka_assign() called for a
 * rebalance event served while the consumer closes (librdkafka issue #4884,
 * seen here when SIGTERM lands during a group rebalance). So the close runs
 * on a thread of its own while this (the loop) thread waits: for as long as
 * it makes progress (the revoke handler may checkpoint and deliver for up to
 * 30 s), but not for an assign blocked more than KS_CLOSE_ASSIGN_MS. Then
 * the handle is abandoned (ks_consumer_free leaves it to the exiting
 * process): the revoke handler has already checkpointed and committed, and
 * the group drops the member after session.timeout.ms.
 */
void ks_consumer_close(ks_consumer *c, int timeout_ms) {
  if (c == NULL || c->closed)
    return;
  c->close_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
  stop_handles(c);
  if (uv_mutex_init(&c->close_mu) != 0)
    return;
  if (uv_cond_init(&c->close_cv) != 0) {
    uv_mutex_destroy(&c->close_mu);
    return;
  }
  c->closed = 1;
  uv_thread_t tid;
  if (uv_thread_create(&tid, close_thread, c) != 0) {
    close_serve(c); /* no thread: close here, unbounded as before */
    uv_cond_destroy(&c->close_cv);
    uv_mutex_destroy(&c->close_mu);
    return;
  }
  uv_mutex_lock(&c->close_mu);
  while (!c->close_done &&
         !(c->assign_since && uv_hrtime() - c->assign_since > KS_CLOSE_ASSIGN_MS * 1000000u))
    (void)uv_cond_timedwait(&c->close_cv, &c->close_mu, 100 * 1000000u);
  int done = c->close_done;
  uv_mutex_unlock(&c->close_mu);
  if (done) {
    uv_thread_join(&tid);
    uv_cond_destroy(&c->close_cv);
    uv_mutex_destroy(&c->close_mu);
    return;
  }
  c->close_stuck = 1;
  ks_log(c->log_level, KS_LOG_WARN, "kafka",
         "consumer close: rd_kafka_assign blocked for %d ms (librdkafka issue #4884); "
         "leaving without a clean group leave (offsets and checkpoints are already written)",
         KS_CLOSE_ASSIGN_MS);
}

void ks_consumer_free(ks_consumer *c) {
  if (c == NULL || c->close_stuck)
    return; /* a librdkafka call still holds it: left to the exiting process */
  for (size_t i = 0; c->pq && i < c->n_topics * (size_t)c->n_partitions; i++)
    pq_close(&c->pq[i]); /* still assigned: the close did not revoke */
  free(c->pq);
  if (c->q) {
    rd_kafka_queue_io_event_enable(c->q, -1, NULL, 0);
    rd_kafka_queue_destroy(c->q);
  }
  if (c->rk) /* an unfinished close would be finished, unbounded, by rd_kafka_destroy() */
    rd_kafka_destroy_flags(c->rk, c->close_unfinished ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
  if (c->pipefd[0] >= 0)
    close(c->pipefd[0]);
  if (c->pipefd[1] >= 0)
    close(c->pipefd[1]);
  free(c);
}

rd_kafka_t *ks_consumer_handle(ks_consumer *c) {
  return c->rk;
}

int ks_consumer_brokers_down(const ks_consumer *c) {
  return c->watch.down;
}
