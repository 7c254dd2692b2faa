/*
 * merge — see merge.h.
 */
#include "merge.h"

#include <stdlib.h>

#include "decoder.h"
#include "event_peek.h"
#include "kpistream/plugin.h"

int ks_merge_init(ks_merge *m, size_t n_topics, int32_t n_partitions, int bounded,
                  const ks_merge_ops *ops) {
  *m = (ks_merge){
      .ops = *ops, .n_topics = n_topics, .n_partitions = n_partitions, .bounded = bounded};
  size_t n = n_topics * (size_t)(n_partitions > 0 ? n_partitions : 0);
  m->parts = calloc(n ? n : 1, sizeof *m->parts);
  if (m->parts == NULL)
    return KS_ENOMEM;
  for (size_t t = 0; t < n_topics; t++)
    for (int32_t p = 0; p < n_partitions; p++) {
      ks_merge_part *mp = ks_merge_part_get(m, (uint32_t)t, p);
      mp->partition = p;
      mp->topic = (uint32_t)t;
    }
  return 0;
}

static size_t n_parts(const ks_merge *m) {
  return m->parts ? m->n_topics * (size_t)m->n_partitions : 0;
}

void ks_merge_free(ks_merge *m) {
  for (size_t i = 0; i < n_parts(m); i++) {
    ks_merge_part *p = &m->parts[i];
    for (size_t k = 0; k < p->q_len; k++)
      m->ops.drop(m->ops.ud, p->q[(p->q_head + k) % p->q_cap].msg);
    free(p->q);
  }
  free(m->parts);
  m->parts = NULL;
}

ks_merge_part *ks_merge_part_get(ks_merge *m, uint32_t topic, int32_t partition) {
  if (m->parts == NULL || partition < 0 || partition >= m->n_partitions || topic >= m->n_topics)
    return NULL;
  return &m->parts[(size_t)topic * (size_t)m->n_partitions + (size_t)partition];
}

void ks_merge_assign(ks_merge *m, ks_merge_part *p) {
  (void)m;
  p->assigned = 1;
  p->eof = 0;
}

void ks_merge_revoke(ks_merge *m, ks_merge_part *p) {
  ks_merge_drop(m, p);
  p->assigned = 0;
  p->eof = p->quiet = 0;
}

int ks_merge_push(ks_merge *m, ks_merge_part *p, void *msg, const void *payload, size_t len,
                  int64_t rec) {
  p->eof = 0;
  p->quiet = 0;
  if (p->q_len == p->q_cap) {
    size_t nc = p->q_cap ? p->q_cap * 2 : 256;
    ks_merge_ent *nq = malloc(nc * sizeof *nq);
    if (nq == NULL)
      return KS_ENOMEM;
    for (size_t i = 0; i < p->q_len; i++)
      nq[i] = p->q[(p->q_head + i) % p->q_cap];
    free(p->q);
    p->q = nq;
    p->q_cap = nc;
    p->q_head = 0;
  }
  int64_t t;
  if (ks_peek_event_time(payload, len, &t) != 0 || !ks_event_time_in_range(t))
    t = INT64_MIN; /* unreadable or refused: first, so it is dead-lettered at once */
  p->q[(p->q_head + p->q_len) % p->q_cap] = (ks_merge_ent){msg, t, rec};
  p->q_len++;
  return 0;
}

/* Can the task go on without a message from this partition? */
static int may_skip(const ks_merge *m, const ks_merge_part *p) {
  return (m->bounded && p->eof) || p->quiet;
}

void ks_merge_eof(ks_merge *m, ks_merge_part *p) {
  p->eof = 1;
  /* A live run waits intervals.idle_timeout of quiet instead, so a consumer
   * that merely caught up does not make the producer's next events late. */
  if (m->bounded && p->q_len == 0)
    m->ops.set_idle(m->ops.ud, p->partition, p->topic);
}

void ks_merge_quiet(ks_merge *m, ks_merge_part *p) {
  p->quiet = 1;
  m->ops.set_idle(m->ops.ud, p->partition, p->topic);
}

/* The time the head of p is ordered by: INT64_MIN for one the task will
 * refuse (see merge.h). */
static int64_t head_time(const ks_merge *m, const ks_merge_part *p) {
  const ks_merge_ent *e = &p->q[p->q_head];
  if (e->t != INT64_MIN && e->t > m->ops.time_limit(m->ops.ud, p->partition, e->rec))
    return INT64_MIN;
  return e->t;
}

size_t ks_merge_fill(ks_merge *m, ks_merge_part *p) {
  if (p->q_len == 0 && p->assigned && m->ops.fill)
    m->ops.fill(m->ops.ud, p);
  return p->q_len;
}

int ks_merge_drain(ks_merge *m, int32_t task) {
  /* Every empty partition is asked once per drain (a quiet or finished one
   * may have news); after that only the one a message was taken from, when
   * it runs empty. */
  for (size_t t = 0; t < m->n_topics; t++) {
    ks_merge_part *p = ks_merge_part_get(m, (uint32_t)t, task);
    if (p != NULL)
      ks_merge_fill(m, p);
  }
  for (;;) {
    ks_merge_part *best = NULL;
    int64_t best_t = 0;
    for (size_t t = 0; t < m->n_topics; t++) {
      ks_merge_part *p = ks_merge_part_get(m, (uint32_t)t, task);
      if (p == NULL || !p->assigned)
        continue;
      if (p->q_len == 0) {
        if (may_skip(m, p))
          continue;
        return 0; /* wait for this partition */
      }
      int64_t ht = head_time(m, p);
      if (best == NULL || ht < best_t) {
        best = p; /* ties: the lower topic index first */
        best_t = ht;
      }
    }
    if (best == NULL)
      return 0;
    void *msg = best->q[best->q_head].msg;
    best->q_head = (best->q_head + 1) % best->q_cap;
    best->q_len--;
    int stop = m->ops.process(m->ops.ud, best, msg);
    if (best->eof && best->q_len == 0)
      ks_merge_eof(m, best); /* its end was seen while it still held messages */
    if (stop)
      return 1;
    if (best->q_len == 0)
      ks_merge_fill(m, best);
  }
}

int ks_merge_drain_all(ks_merge *m) {
  int32_t n = m->n_partitions;
  for (int32_t i = 0; i < n; i++) {
    int32_t task = (m->next_task + i) % n;
    if (ks_merge_drain(m, task)) {
      m->next_task = task;
      return 1;
    }
  }
  return 0;
}

void ks_merge_drop(ks_merge *m, ks_merge_part *p) {
  for (size_t i = 0; i < p->q_len; i++)
    m->ops.drop(m->ops.ud, p->q[(p->q_head + i) % p->q_cap].msg);
  p->q_len = p->q_head = 0;
}

size_t ks_merge_buffered(const ks_merge *m) {
  size_t n = 0;
  for (size_t i = 0; i < n_parts(m); i++)
    n += m->parts[i].q_len;
  return n;
}
