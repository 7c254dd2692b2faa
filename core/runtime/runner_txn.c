/*
 * runner_txn — transactional mode of `kpistream run` (kafka.producer
 * transactional.id set): results, dead letters, checkpoint chunks and the
 * consumed offsets of one commit interval go in one Kafka transaction, so a
 * read_committed consumer sees each result once.
 *
 * Error handling (librdkafka's transactional API contract):
 *   - retriable (e.g. a commit timeout): the same call is retried, up to
 *     TXN_RETRIES times;
 *   - abortable: the transaction is aborted and the process stops with exit
 *     status 1; a restart restores the last committed checkpoint and
 *     re-reads from the last committed offsets, so nothing is lost and the
 *     aborted records are invisible to read_committed consumers;
 *   - fatal (e.g. fenced by a newer instance with the same transactional.id):
 *     the process stops with exit status 1 and says so.
 * The librdkafka mock cluster accepts these calls but does not enforce
 * transactions: docs/reliability.md says what is verified where.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "runner_internal.h"

#define TXN_TIMEOUT_MS 30000
#define TXN_RETRIES    5

/* Handle a transactional error: returns 1 to retry, 0 when stopped. */
static int txn_failed(runner *r, const char *what, rd_kafka_error_t *error) {
  rd_kafka_t *rk = ks_producer_handle(r->producer);
  const char *msg = rd_kafka_error_string(error);
  if (rd_kafka_error_is_retriable(error)) {
    ks_runner_log(r, KS_LOG_WARN, "transaction: %s: %s (retrying)", what, msg);
    rd_kafka_error_destroy(error);
    return 1;
  }
  if (rd_kafka_error_txn_requires_abort(error)) {
    ks_runner_log(r, KS_LOG_ERROR,
                  "transaction: %s: %s; aborting the transaction and stopping (a restart "
                  "resumes from the last committed checkpoint)",
                  what, msg);
    rd_kafka_error_t *e2 = rd_kafka_abort_transaction(rk, TXN_TIMEOUT_MS);
    if (e2) {
      ks_runner_log(r, KS_LOG_ERROR, "transaction: abort failed: %s", rd_kafka_error_string(e2));
      rd_kafka_error_destroy(e2);
    }
    r->txn_aborts++;
  } else {
    ks_runner_log(r, KS_LOG_ERROR, "transaction: %s: %s (fatal%s); stopping", what, msg,
                  rd_kafka_error_is_fatal(error) ? ", e.g. fenced by a newer instance" : "");
  }
  rd_kafka_error_destroy(error);
  r->txn_broken = 1;
  r->exit_code = 1;
  if (!r->stopping) {
    r->stopping = 1;
    uv_stop(&r->loop);
  }
  return 0;
}

int ks_txn_init(runner *r, char *err, size_t errsz) {
  rd_kafka_t *rk = ks_producer_handle(r->producer);
  rd_kafka_error_t *error = rd_kafka_init_transactions(rk, TXN_TIMEOUT_MS);
  if (error == NULL)
    error = rd_kafka_begin_transaction(rk);
  if (error) {
    snprintf(err, errsz, "transactional producer: %s", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return KS_EKAFKA;
  }
  r->txn_on = 1;
  ks_runner_log(r, KS_LOG_INFO,
                "transactional mode: results, checkpoints and offsets commit "
                "together");
  return 0;
}

int ks_txn_commit(runner *r, rd_kafka_topic_partition_list_t *offsets, ks_ckpt_msg *msgs,
                  size_t n_msgs) {
  if (r->txn_broken)
    return KS_EKAFKA;
  rd_kafka_t *rk = ks_producer_handle(r->producer);
  size_t sent;
  if (ks_runner_send_checkpoint(r, msgs, n_msgs, NULL, &sent) != 0) {
    r->exit_code = 1;
    r->txn_broken = 1;
    return KS_EKAFKA;
  }
  rd_kafka_error_t *error = NULL;
  if (offsets && offsets->cnt) {
    rd_kafka_consumer_group_metadata_t *cgmd =
        rd_kafka_consumer_group_metadata(ks_consumer_handle(r->consumer));
    for (int attempt = 0; attempt < TXN_RETRIES; attempt++) {
      error = rd_kafka_send_offsets_to_transaction(rk, offsets, cgmd, TXN_TIMEOUT_MS);
      if (error == NULL || !txn_failed(r, "send offsets", error))
        break;
      error = NULL;
    }
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    if (r->txn_broken)
      return KS_EKAFKA;
  }
  for (int attempt = 0;; attempt++) {
    error = rd_kafka_commit_transaction(rk, TXN_TIMEOUT_MS);
    if (error == NULL)
      break;
    if (!txn_failed(r, "commit", error))
      return KS_EKAFKA;
    if (attempt + 1 == TXN_RETRIES) {
      ks_runner_log(r, KS_LOG_ERROR, "transaction: commit still failing after %d attempts",
                    TXN_RETRIES);
      r->exit_code = 1;
      r->txn_broken = 1;
      return KS_EKAFKA;
    }
  }
  r->txn_commits++;
  if (offsets && offsets->cnt)
    r->commits++;
  error = rd_kafka_begin_transaction(rk);
  if (error) {
    txn_failed(r, "begin", error);
    return KS_EKAFKA;
  }
  return 0;
}
