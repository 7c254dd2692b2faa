/*
 * runner_merge — a task's input partitions merged in event-time order.
 *
 * Each assigned partition buffers the messages the consumer delivered. A
 * task processes the buffered message with the least (event time, topic
 * index) as long as every one of its partitions has a buffered message or is
 * known to have none coming (at its end in a bounded run, or quiet for
 * intervals.idle_timeout). This is a k-way merge whose result depends only
 * on each partition's sequence, never on how fetches interleave: a restarted
 * instance, or another instance after a rebalance, processes the same events
 * in the same order and publishes the same results (Kafka Streams picks the
 * least head timestamp of a task the same way).
 *
 * Only a time the task will accept orders a message. A head whose time is
 * unreadable, outside the decoder's range (ks_event_time_in_range) or beyond
 * the task's clock-skew bound (ks_engine_time_limit, evaluated when it is a
 * head, against the same task state the engine then checks) goes first: it
 * is refused and dead-lettered at once, so it neither holds the messages
 * behind it nor lets the task's other partitions run ahead of them.
 *
 * A partition at its end in a bounded run stops holding the task's watermark
 * (ks_engine_set_idle) only once its buffered messages are processed.
 *
 * A partition buffering more than KS_MERGE_HIGH messages is paused
 * (rd_kafka_pause_partitions) until it drains below KS_MERGE_LOW, so memory
 * stays bounded while another partition of its task lags.
 *
 * Ownership: queued rd_kafka_message_t are owned by their part_state until
 * processed (then destroyed here) or dropped on revoke/shutdown.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "event_peek.h"
#include "log.h"
#include "runner_internal.h"

/* Pause or resume ps in Kafka to match its two reasons to be paused. */
static void apply_pause(runner *r, part_state *ps) {
  int want = ps->paused || ps->budget_paused;
  if (want == ps->kafka_paused || r->consumer == NULL)
    return;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, r->cfg.topics[ps->topic], ps->partition);
  rd_kafka_t *rk = ks_consumer_handle(r->consumer);
  rd_kafka_resp_err_t err =
      want ? rd_kafka_pause_partitions(rk, l) : rd_kafka_resume_partitions(rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) {
    ks_runner_log(r, KS_LOG_WARN, "%s %s [%d]: %s", want ? "pause" : "resume",
                  r->cfg.topics[ps->topic], ps->partition, rd_kafka_err2str(err));
    return;
  }
  ps->kafka_paused = want;
  if (!want)
    ps->last_msg_ms = uv_now(&r->loop); /* quiet is counted from the resume */
  r->pauses += want;
  ks_runner_log(r, KS_LOG_DEBUG, "%s %s [%d] (%zu buffered)", want ? "paused" : "resumed",
                r->cfg.topics[ps->topic], ps->partition, ps->q_len);
}

static void pause_part(runner *r, part_state *ps, int pause) {
  ps->paused = pause;
  apply_pause(r, ps);
}

static void resume_all(runner *r) {
  size_t total = (size_t)r->n_partitions * r->cfg.n_topics;
  for (size_t i = 0; i < total; i++)
    if (r->parts[i].budget_paused) {
      r->parts[i].budget_paused = 0;
      apply_pause(r, &r->parts[i]);
    }
  r->budget_paused = 0;
}

void ks_budget_check(runner *r) {
  if (r->cfg.memory_budget == 0 || r->engine == NULL)
    return;
  size_t bytes = ks_engine_state_bytes(r->engine);
  ks_engine_stats st;
  ks_engine_get_stats(r->engine, &st);
  int progressed = st.events_in != r->budget_last_events;
  r->budget_last_events = st.events_in;
  r->state_bytes = bytes;
  uint64_t budget = r->cfg.memory_budget;
  size_t total = (size_t)r->n_partitions * r->cfg.n_topics;
  if (r->budget_paused && bytes >= budget / 10 * 9 && !progressed) {
    /* The buffered input is used up and state is still over budget: it is
     * keyed state that only event time (TTLs) shrinks, and event time only
     * moves with input. Resume rather than stall; pause again only once state
     * has grown by another quarter. */
    ks_runner_log(r, KS_LOG_ERROR,
                  "state holds %zu bytes, over state.memory_budget %" PRIu64
                  ", and pausing the input cannot bring it down (keyed state: open contacts, "
                  "customers); resuming; raise the budget, shorten the plugins' TTLs or add "
                  "instances",
                  bytes, budget);
    resume_all(r);
    r->budget_stuck = bytes + bytes / 4;
    return;
  }
  if (!r->budget_paused && bytes > budget && bytes > r->budget_stuck) {
    /* Stop fetching; what is buffered is still processed in event-time
     * order, closing intervals and expiring keyed records. */
    int n = 0;
    for (size_t i = 0; i < total; i++)
      if (r->parts[i].assigned) {
        r->parts[i].budget_paused = 1;
        apply_pause(r, &r->parts[i]);
        n++;
      }
    r->budget_paused = 1;
    r->budget_pauses++;
    ks_runner_log(r, KS_LOG_WARN,
                  "state holds %zu bytes, over state.memory_budget %" PRIu64
                  ": paused %d input partitions until it drops below 90%%",
                  bytes, budget, n);
  } else if (r->budget_paused && bytes < budget / 10 * 9) {
    resume_all(r);
    r->budget_stuck = 0;
    ks_runner_log(r, KS_LOG_INFO, "state back to %zu bytes (budget %" PRIu64 "): resumed", bytes,
                  budget);
  }
}

int ks_merge_push(runner *r, part_state *ps, rd_kafka_message_t *m) {
  if (ps->q_len == ps->q_cap) {
    size_t nc = ps->q_cap ? ps->q_cap * 2 : 256;
    ks_qent *nq = malloc(nc * sizeof *nq);
    if (nq == NULL)
      return KS_ENOMEM;
    for (size_t i = 0; i < ps->q_len; i++)
      nq[i] = ps->q[(ps->q_head + i) % ps->q_cap];
    free(ps->q);
    ps->q = nq;
    ps->q_cap = nc;
    ps->q_head = 0;
  }
  int64_t t;
  if (ks_peek_event_time(m->payload, m->len, &t) != 0 || !ks_event_time_in_range(t))
    t = INT64_MIN; /* unreadable or refused: first, so it is dead-lettered at once */
  ps->q[(ps->q_head + ps->q_len) % ps->q_cap] =
      (ks_qent){m, t, rd_kafka_message_timestamp(m, NULL)};
  ps->q_len++;
  if (ps->q_len > KS_MERGE_HIGH && !ps->paused)
    pause_part(r, ps, 1);
  return 0;
}

/* Can the task go on without a message from this partition? */
static int may_skip(const runner *r, const part_state *ps) {
  return (r->until_eof && ps->eof) || ps->quiet;
}

void ks_merge_eof(runner *r, part_state *ps) {
  ps->eof = 1;
  /* A live run waits intervals.idle_timeout of quiet instead, so a consumer
   * that merely caught up does not make the producer's next events late. */
  if (r->until_eof && ps->q_len == 0)
    ks_engine_set_idle(r->engine, ps->partition, ps->topic, 1);
}

/* The time the head of ps is ordered by: INT64_MIN for one the task will
 * refuse (see the top of this file). */
static int64_t head_time(const runner *r, const part_state *ps) {
  const ks_qent *q = &ps->q[ps->q_head];
  if (q->t != INT64_MIN && q->t > ks_engine_time_limit(r->engine, ps->partition, q->rec))
    return INT64_MIN;
  return q->t;
}

void ks_merge_drain(runner *r, int32_t p) {
  size_t nt = r->cfg.n_topics;
  for (;;) {
    part_state *best = NULL;
    int64_t best_t = 0;
    for (size_t t = 0; t < nt; t++) {
      part_state *ps = ks_runner_part(r, (uint32_t)t, p);
      if (!ps->assigned)
        continue;
      if (ps->q_len == 0) {
        if (may_skip(r, ps))
          continue;
        return; /* wait for this partition */
      }
      int64_t ht = head_time(r, ps);
      if (best == NULL || ht < best_t) {
        best = ps; /* ties: the lower topic index first */
        best_t = ht;
      }
    }
    if (best == NULL || r->stopping)
      return;
    rd_kafka_message_t *m = best->q[best->q_head].m;
    best->q_head = (best->q_head + 1) % best->q_cap;
    best->q_len--;
    ks_runner_process(r, best, m);
    rd_kafka_message_destroy(m);
    if (best->paused && best->q_len < KS_MERGE_LOW)
      pause_part(r, best, 0);
    if (best->eof && best->q_len == 0)
      ks_merge_eof(r, best); /* its end was seen while it still held messages */
  }
}

void ks_merge_drain_all(runner *r) {
  for (int32_t p = 0; p < r->n_partitions && !r->stopping; p++)
    ks_merge_drain(r, p);
}

void ks_merge_drop(runner *r, part_state *ps) {
  for (size_t i = 0; i < ps->q_len; i++)
    rd_kafka_message_destroy(ps->q[(ps->q_head + i) % ps->q_cap].m);
  ps->q_len = ps->q_head = 0;
  ps->paused = ps->budget_paused = 0;
  apply_pause(r, ps);
}

size_t ks_merge_buffered(const runner *r) {
  size_t n = 0, total = (size_t)r->n_partitions * r->cfg.n_topics;
  for (size_t i = 0; r->parts && i < total; i++)
    n += r->parts[i].q_len;
  return n;
}
