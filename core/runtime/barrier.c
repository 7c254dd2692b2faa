/*
 * barrier — see barrier.h.
 */
#include "barrier.h"

#include <stdlib.h>
#include <uv.h>

#include "kpistream/plugin.h"

struct ks_barrier {
  struct ks_barrier *next;
  size_t pending; /* produced, not yet acknowledged */
  int sealed;
  rd_kafka_topic_partition_list_t *offsets;
  ks_ckpt_msg *msgs; /* checkpoint chunks to produce once everything before is acked */
  size_t n_msgs;
  int msgs_sent;
};

void ks_barrier_chain_init(ks_barrier_chain *c, const ks_barrier_ops *ops) {
  *c = (ks_barrier_chain){.ops = *ops};
}

static void barrier_free(ks_barrier *b) {
  if (b->offsets)
    rd_kafka_topic_partition_list_destroy(b->offsets);
  ks_ckpt_msgs_free(b->msgs, b->n_msgs);
  free(b);
}

void ks_barrier_chain_free(ks_barrier_chain *c) {
  while (c->head) {
    ks_barrier *b = c->head;
    c->head = b->next;
    barrier_free(b);
  }
  c->tail = NULL;
}

ks_barrier *ks_barrier_open(ks_barrier_chain *c) {
  if (c->tail && !c->tail->sealed)
    return c->tail;
  ks_barrier *b = calloc(1, sizeof *b);
  if (b == NULL)
    return NULL;
  if (c->tail)
    c->tail->next = b;
  else
    c->head = b;
  c->tail = b;
  return b;
}

void ks_barrier_produced(ks_barrier *b) {
  b->pending++;
}

/* Produce a sealed barrier's checkpoint chunks; they count in its pending. */
static void send_checkpoint(ks_barrier_chain *c, ks_barrier *b) {
  b->msgs_sent = 1;
  size_t sent = 0;
  int rc = c->ops.send_checkpoint(c->ops.ud, b->msgs, b->n_msgs, b, &sent);
  b->pending += sent;
  if (rc != 0)
    ks_barrier_poison(c);
}

/* Complete the acknowledged barriers at the head of the chain, in order. */
static void pop_ready(ks_barrier_chain *c) {
  while (c->head && c->head->sealed && c->head->pending == 0) {
    ks_barrier *b = c->head;
    if (b->n_msgs && !b->msgs_sent) {
      send_checkpoint(c, b);
      if (b->pending)
        return;
    }
    if (b->offsets && b->offsets->cnt)
      c->ops.commit(c->ops.ud, b->offsets);
    c->head = b->next;
    if (c->tail == b)
      c->tail = NULL;
    barrier_free(b);
  }
}

void ks_barrier_delivered(ks_barrier_chain *c, ks_barrier *b, int failed) {
  if (failed)
    ks_barrier_poison(c);
  if (b && b->pending)
    b->pending--;
  pop_ready(c);
}

static uint64_t chain_now_ms(const ks_barrier_chain *c) {
  return c->clock_ms ? c->clock_ms(c->clock_ud) : uv_hrtime() / 1000000u;
}

void ks_barrier_pace(ks_barrier_chain *c, int64_t interval_ms, uint64_t (*clock_ms)(void *ud),
                     void *clock_ud) {
  c->pace_ms = interval_ms > 0 ? interval_ms : 0;
  c->clock_ms = clock_ms;
  c->clock_ud = clock_ud;
  c->last_seal_ms = chain_now_ms(c);
}

int ks_barrier_seal_due(const ks_barrier_chain *c) {
  return c->pace_ms == 0 || chain_now_ms(c) - c->last_seal_ms >= (uint64_t)c->pace_ms;
}

int ks_barrier_seal(ks_barrier_chain *c, rd_kafka_topic_partition_list_t *offsets,
                    ks_ckpt_msg *msgs, size_t n) {
  ks_barrier *b = ks_barrier_open(c);
  if (b == NULL)
    return KS_ENOMEM;
  if (c->pace_ms)
    c->last_seal_ms = chain_now_ms(c);
  b->offsets = offsets;
  b->msgs = msgs;
  b->n_msgs = n;
  b->sealed = 1;
  pop_ready(c);
  return 0;
}

void ks_barrier_poison(ks_barrier_chain *c) {
  for (ks_barrier *x = c->head; x; x = x->next) {
    if (x->offsets) {
      rd_kafka_topic_partition_list_destroy(x->offsets);
      x->offsets = NULL;
    }
    if (!x->msgs_sent) {
      ks_ckpt_msgs_free(x->msgs, x->n_msgs);
      x->msgs = NULL;
      x->n_msgs = 0;
    }
  }
}

int ks_barrier_drain(ks_barrier_chain *c, int timeout_ms) {
  /* Each flush delivers one stage (results, then the checkpoint chunks that
   * their acknowledgement released); three rounds cover a sealed chain, all
   * within timeout_ms. */
  uint64_t deadline = uv_hrtime() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
  for (int round = 0; round < 4 && c->head && c->head->sealed; round++) {
    uint64_t now = uv_hrtime();
    int left = now < deadline ? (int)((deadline - now) / 1000000u) : 0;
    if (c->ops.flush(c->ops.ud, left) != 0)
      return KS_EKAFKA;
    pop_ready(c);
  }
  return c->head && c->head->sealed ? KS_EKAFKA : 0;
}
