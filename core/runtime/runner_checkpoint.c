/*
 * runner_checkpoint — what the commit barriers of `kpistream run` carry:
 * the checkpoints and offsets a barrier is sealed with, and the restore of
 * a task on assignment.
 *
 * See barrier.h for the barrier rule and checkpoint.h for the changelog
 * format. With checkpoints on (the default), offsets are committed
 * only as "the next offsets a restored checkpoint resumes from"; without,
 * as the engine's safe offsets (the first offset still feeding an open
 * interval), which loses keyed state that spans intervals on a restart.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "runner_internal.h"

/* ---- the barrier chain's callbacks ---------------------------------------- */

int ks_runner_send_checkpoint(runner *r, ks_ckpt_msg *msgs, size_t n, void *opaque,
                              size_t *n_sent) {
  char err[RUN_ERRSZ];
  *n_sent = 0;
  for (size_t i = 0; i < n; i++) {
    ks_ckpt_msg *m = &msgs[i];
    /* each chunk's buffer goes to librdkafka as is (m->value NULL after) */
    if (ks_producer_give_to(r->producer, r->ckpt_topics[m->plugin], m->partition, m->key,
                            strlen(m->key), &m->value, m->len, opaque, err, sizeof err) != 0) {
      ks_runner_log(r, KS_LOG_ERROR, "checkpoint not written: %s", err);
      return KS_EKAFKA;
    }
    ++*n_sent;
  }
  if (n)
    r->checkpoints++;
  return 0;
}

static int chain_send(void *ud, ks_ckpt_msg *msgs, size_t n, void *opaque, size_t *n_sent) {
  return ks_runner_send_checkpoint(ud, msgs, n, opaque, n_sent);
}

static void chain_commit(void *ud, const rd_kafka_topic_partition_list_t *offsets) {
  runner *r = ud;
  if (ks_consumer_commit(r->consumer, offsets, !r->sync_commits) == 0)
    r->commits++;
}

static int chain_flush(void *ud, int timeout_ms) {
  runner *r = ud;
  return ks_producer_flush(r->producer, timeout_ms);
}

const ks_barrier_ops ks_runner_barrier_ops = {chain_send, chain_commit, chain_flush, NULL};

/* ---- sealing ---------------------------------------------------------------- */

static int task_assigned(runner *r, int32_t p, const rd_kafka_topic_partition_list_t *only) {
  for (size_t t = 0; t < r->cfg.n_topics; t++) {
    ks_merge_part *mp = ks_merge_part_get(&r->merge, (uint32_t)t, p);
    if (mp && mp->assigned &&
        (only == NULL || rd_kafka_topic_partition_list_find(only, r->cfg.topics[t], p) != NULL))
      return 1;
  }
  return 0;
}

/* Append the checkpoint messages of task p to *msgs: a delta of its chain,
 * or a full snapshot (checkpoint.h). */
static int add_checkpoint(runner *r, ks_ckpt_msg **msgs, size_t *n_msgs, int32_t p) {
  ks_ckpt_msg *task_msgs = NULL;
  size_t n = 0;
  ks_ckpt_ident next = r->ckpt_ids[p];
  if (next.epoch == 0) /* a task that did not come through ks_ckpt_on_assign() */
    next = (ks_ckpt_ident){1, r->ckpt_nonce, next.id};
  next.id++;
  const ks_ckpt_policy policy = {r->cfg.checkpoint_full_every, r->cfg.checkpoint_full_ratio};
  int full = 1;
  int rc = ks_ckpt_build_next(r->engine, r->ckpt_parts, p, &policy, &r->ckpt_chains[p], &next,
                              ks_ckpt_chunk_max(ks_producer_max_message_bytes(r->producer)),
                              &task_msgs, &n, &full);
  if (rc != 0)
    return rc;
  r->ckpt_ids[p] = next; /* used, written or not */
  ks_ckpt_msg *all = realloc(*msgs, (*n_msgs + n) * sizeof *all);
  if (all == NULL) {
    ks_ckpt_msgs_free(task_msgs, n);
    ks_ckpt_forget(r->engine, p); /* the next delta would follow a checkpoint never written */
    return KS_ENOMEM;
  }
  memcpy(all + *n_msgs, task_msgs, n * sizeof *task_msgs);
  free(task_msgs); /* the values moved into *msgs */
  *msgs = all;
  *n_msgs += n;
  if (full)
    r->ckpt_full++;
  else
    r->ckpt_delta++;
  return 0;
}

void ks_runner_seal(runner *r, const rd_kafka_topic_partition_list_t *only) {
  if (r->exit_code != 0)
    return; /* after a failure (delivery, plugin with on_error: stop) nothing more commits */
  if (ks_barrier_open(&r->chain) == NULL)
    return;
  ks_ckpt_msg *msgs = NULL;
  size_t n_msgs = 0;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
  for (int32_t p = 0; p < r->n_partitions; p++) {
    if (!task_assigned(r, p, only) || !ks_engine_task_exists(r->engine, p))
      continue;
    if (r->ckpt_on && add_checkpoint(r, &msgs, &n_msgs, p) != 0) {
      ks_runner_log(r, KS_LOG_ERROR, "task %d: checkpoint failed (out of memory); not committing",
                    p);
      continue;
    }
    for (size_t t = 0; t < r->cfg.n_topics; t++) {
      ks_merge_part *mp = ks_merge_part_get(&r->merge, (uint32_t)t, p);
      if (!mp->assigned)
        continue;
      int64_t off = r->ckpt_on ? ks_engine_next_offset(r->engine, p, (uint32_t)t)
                               : ks_engine_commit_offset(r->engine, p, (uint32_t)t);
      if (off >= 0)
        rd_kafka_topic_partition_list_add(l, r->cfg.topics[t], p)->offset = off;
    }
  }
  if (r->txn_on) {
    /* Everything produced so far, the checkpoint and the offsets commit in
     * one transaction; the barrier then only tracks deliveries. */
    ks_txn_commit(r, l, msgs, n_msgs);
    rd_kafka_topic_partition_list_destroy(l);
    ks_ckpt_msgs_free(msgs, n_msgs);
    msgs = NULL;
    n_msgs = 0;
    l = NULL;
  }
  r->want_seal = 0;
  ks_barrier_seal(&r->chain, l, msgs, n_msgs); /* the open barrier exists: cannot fail */
}

/* ---- changelog setup and restore ------------------------------------------ */

static const char *ckpt_prefix(const runner *r, char *buf, size_t size) {
  if (r->cfg.checkpoint_prefix != NULL)
    return r->cfg.checkpoint_prefix;
  const char *group = NULL;
  for (size_t i = 0; i < r->cfg.n_consumer; i++)
    if (strcmp(r->cfg.consumer[i].key, "group.id") == 0)
      group = r->cfg.consumer[i].value;
  snprintf(buf, size, "%s.changelog", group ? group : "kpistream");
  return buf;
}

void ks_ckpt_topics_free(char **topics, int32_t *parts, size_t n) {
  for (size_t i = 0; topics && i < n; i++)
    free(topics[i]);
  free(topics);
  free(parts);
}

int ks_ckpt_topics_new(runner *r, const ks_engine *e, char ***topics_out, int32_t **parts_out,
                       char *err, size_t errsz) {
  size_t np = ks_engine_plugin_count(e);
  char **topics = calloc(np + 1, sizeof *topics);
  int32_t *parts = calloc(np + 1, sizeof *parts);
  *topics_out = NULL;
  *parts_out = NULL;
  if (topics == NULL || parts == NULL) {
    ks_ckpt_topics_free(topics, parts, np);
    snprintf(err, errsz, "out of memory");
    return KS_ENOMEM;
  }
  char defprefix[512];
  const char *prefix = ckpt_prefix(r, defprefix, sizeof defprefix);
  for (size_t i = 0; i < np; i++) {
    size_t n = strlen(prefix) + strlen(ks_engine_plugin_name(e, i)) + 2;
    if ((topics[i] = malloc(n)) == NULL) {
      ks_ckpt_topics_free(topics, parts, np);
      snprintf(err, errsz, "out of memory");
      return KS_ENOMEM;
    }
    snprintf(topics[i], n, "%s.%s", prefix, ks_engine_plugin_name(e, i));
    parts[i] =
        ks_ckpt_topic_partitions(ks_producer_handle(r->producer), topics[i], 5000, err, errsz);
    if (parts[i] < 0) {
      ks_ckpt_topics_free(topics, parts, np);
      return KS_ECONFIG;
    }
  }
  *topics_out = topics;
  *parts_out = parts;
  return 0;
}

int ks_ckpt_setup(runner *r, char *err, size_t errsz) {
  r->ckpt_ids = calloc((size_t)r->n_partitions, sizeof *r->ckpt_ids);
  r->ckpt_chains = calloc((size_t)r->n_partitions, sizeof *r->ckpt_chains);
  if (r->ckpt_ids == NULL || r->ckpt_chains == NULL)
    return KS_ENOMEM;
  r->ckpt_nonce = ks_ckpt_nonce();
  int rc = ks_ckpt_topics_new(r, r->engine, &r->ckpt_topics, &r->ckpt_parts, err, errsz);
  if (rc != 0)
    return rc;
  const ks_kv *lists[1] = {r->cfg.kafka};
  size_t counts[1] = {r->cfg.n_kafka};
  r->ckpt_reader = ks_ckpt_reader_new(lists, counts, 1, r->cfg.log_level, err, errsz);
  if (r->ckpt_reader == NULL)
    return KS_ECONFIG;
  char defprefix[512];
  ks_runner_log(r, KS_LOG_INFO,
                "checkpoints every %" PRId64 " ms to %s.<plugin>; a full snapshot every %u, "
                "deltas between",
                r->cfg.checkpoint_interval_ms, ckpt_prefix(r, defprefix, sizeof defprefix),
                r->cfg.checkpoint_full_every);
  return 0;
}

void ks_ckpt_teardown(runner *r) {
  if (r->ckpt_full + r->ckpt_delta)
    ks_runner_log(r, KS_LOG_INFO,
                  "task checkpoints written: %" PRIu64 " full snapshots, %" PRIu64 " deltas",
                  r->ckpt_full, r->ckpt_delta);
  if (r->ckpt_reader) {
    rd_kafka_consumer_close(r->ckpt_reader);
    rd_kafka_destroy(r->ckpt_reader);
  }
  ks_ckpt_topics_free(r->ckpt_topics, r->ckpt_parts,
                      r->engine ? ks_engine_plugin_count(r->engine) : 0);
  free(r->ckpt_ids);
  free(r->ckpt_chains);
}

int ks_ckpt_on_assign(runner *r, rd_kafka_topic_partition_list_t *parts) {
  for (int i = 0; i < parts->cnt; i++) {
    int32_t p = parts->elems[i].partition;
    if (p < 0 || p >= r->n_partitions || ks_engine_task_exists(r->engine, p))
      continue; /* restored already (another topic of the same task) */
    char err[RUN_ERRSZ];
    ks_ckpt_chain chain;
    uint64_t max_epoch = 0;
    int rc = ks_ckpt_restore(r->ckpt_reader, r->engine, r->ckpt_topics, r->ckpt_parts, p, 30000,
                             r->cfg.log_level, &chain, &max_epoch, err, sizeof err);
    const ks_ckpt_ident id = chain.last;
    /* The next checkpoint is a full snapshot (the restored state is no
     * baseline of this engine), in the other slot than the restored chain. */
    r->ckpt_chains[p] = chain;
    if (rc < 0) {
      ks_runner_log(r, KS_LOG_ERROR, "task %d: cannot restore state: %s", p, err);
      return rc;
    }
    /* This instance's checkpoints of the task rank above every record read. */
    r->ckpt_ids[p] = (ks_ckpt_ident){max_epoch + 1, r->ckpt_nonce, id.id};
    if (rc == KS_CKPT_RESTORED) {
      r->restores++;
      ks_runner_log(r, KS_LOG_INFO,
                    "task %d: restored checkpoint %" PRIu64 ".%" PRId64 "; writing epoch %" PRIu64
                    " (restored: full snapshot %" PRId64 " and %u deltas after it)",
                    p, id.epoch, id.id, max_epoch + 1, chain.base.id, chain.deltas);
    } else if (rc == KS_CKPT_UNUSABLE) {
      /* No usable state: the only way to the same results is the whole
       * retained input again (every result recomputed, byte-identical where
       * the input is still retained); the committed offsets with empty state
       * would publish wrong values for every interval open at them. */
      ks_engine_task_open(r->engine, p);
      ks_runner_log(r, KS_LOG_ERROR,
                    "task %d: %s; starting the task over from the beginning of its input "
                    "partitions with empty state",
                    p, err);
      for (int j = 0; j < parts->cnt; j++)
        if (parts->elems[j].partition == p)
          parts->elems[j].offset = RD_KAFKA_OFFSET_BEGINNING;
    } else {
      ks_engine_task_open(r->engine, p);
      ks_runner_log(r, KS_LOG_INFO, "task %d: no checkpoint, starting from committed offsets", p);
    }
  }
  /* Resume every partition where its task's checkpoint left off. */
  for (int i = 0; i < parts->cnt; i++) {
    int32_t p = parts->elems[i].partition;
    for (size_t t = 0; t < r->cfg.n_topics; t++)
      if (strcmp(r->cfg.topics[t], parts->elems[i].topic) == 0) {
        int64_t off = ks_engine_next_offset(r->engine, p, (uint32_t)t);
        if (off >= 0)
          parts->elems[i].offset = off;
      }
  }
  return 0;
}
