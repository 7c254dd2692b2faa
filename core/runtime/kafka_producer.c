#include "kafka_producer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_conf.h"

typedef struct topic_ref {
  char *name;
  rd_kafka_topic_t *rkt;
} topic_ref;

struct ks_producer {
  rd_kafka_t *rk;
  rd_kafka_queue_t *mainq;
  int pipefd[2];
  uv_poll_t poll;
  int poll_active;
  ks_delivery_fn dr;
  void *dr_ud;
  topic_ref *topics;
  size_t n_topics;
  ks_broker_watch watch;
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  ks_producer *p = opaque;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
    ks_broker_watch_ok(&p->watch);
  if (p->dr)
    p->dr(p->dr_ud, m->_private, m->err, m);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)rk;
  ks_producer *p = opaque;
  ks_broker_watch_error(&p->watch, err, reason);
}

static void drain_pipe(int fd) {
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  ks_producer *p = h->data;
  drain_pipe(p->pipefd[0]);
  rd_kafka_poll(p->rk, 0);
}

rd_kafka_conf_t *ks_producer_conf_new(const ks_kv *const *lists, const size_t *counts,
                                      size_t n_lists, const ks_kv **bad, char *errstr,
                                      size_t errstr_size) {
  if (bad)
    *bad = NULL;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* Defaults first, so the user's lists can override them. */
  static const char *const defaults[][2] = {{"enable.idempotence", "true"},
                                            {"linger.ms", "5"},
                                            {"compression.type", "lz4"},
                                            /* Java's default: the same key lands on the same
                                             * partition as from a Java producer, and it is
                                             * cheaper than consistent_random's CRC32 */
                                            {"partitioner", "murmur2_random"},
                                            {"queue.buffering.max.messages", "1000000"}};
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    if (ks_kafka_conf_set(conf, defaults[i][0], defaults[i][1], errstr, errstr_size) != 0)
      goto fail_conf;
  for (size_t l = 0; l < n_lists; l++)
    for (size_t i = 0; i < counts[l]; i++) {
      if (bad)
        *bad = &lists[l][i];
      if (ks_kafka_conf_set(conf, lists[l][i].key, lists[l][i].value, errstr, errstr_size))
        goto fail_conf;
    }
  if (bad)
    *bad = NULL;
  return conf;
fail_conf:
  rd_kafka_conf_destroy(conf);
  return NULL;
}

int ks_producer_new(ks_producer **out, uv_loop_t *loop, const ks_kv *const *lists,
                    const size_t *counts, size_t n_lists, int log_level, ks_delivery_fn dr,
                    void *dr_ud, char *errstr, size_t errstr_size) {
  *out = NULL;
  rd_kafka_conf_t *conf = ks_producer_conf_new(lists, counts, n_lists, NULL, errstr, errstr_size);
  if (conf == NULL)
    return KS_ECONFIG;
  ks_producer *p = calloc(1, sizeof *p);
  if (p == NULL) {
    rd_kafka_conf_destroy(conf);
    return KS_ENOMEM;
  }
  p->pipefd[0] = p->pipefd[1] = -1;
  p->dr = dr;
  p->dr_ud = dr_ud;
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  ks_broker_watch_init(&p->watch, "producer", log_level);
  ks_kafka_conf_route_logs(conf, log_level);
  rd_kafka_conf_set_opaque(conf, p);
  char why[512];
  p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (p->rk == NULL) {
    snprintf(errstr, errstr_size, "kafka producer: %s", why);
    goto fail_conf;
  }
  if (pipe(p->pipefd) != 0) {
    snprintf(errstr, errstr_size, "kafka producer: pipe: %s", strerror(errno));
    ks_producer_free(p);
    return KS_EKAFKA;
  }
  fcntl(p->pipefd[0], F_SETFL, O_NONBLOCK);
  fcntl(p->pipefd[1], F_SETFL, O_NONBLOCK);
  p->mainq = rd_kafka_queue_get_main(p->rk);
  rd_kafka_queue_io_event_enable(p->mainq, p->pipefd[1], "1", 1);
  uv_poll_init(loop, &p->poll, p->pipefd[0]);
  p->poll.data = p;
  uv_poll_start(&p->poll, UV_READABLE, on_readable);
  p->poll_active = 1;
  *out = p;
  return 0;
fail_conf:
  rd_kafka_conf_destroy(conf);
  free(p);
  return KS_ECONFIG;
}

static rd_kafka_topic_t *topic_get(ks_producer *p, const char *name) {
  for (size_t i = 0; i < p->n_topics; i++)
    if (strcmp(p->topics[i].name, name) == 0)
      return p->topics[i].rkt;
  topic_ref *nt = realloc(p->topics, (p->n_topics + 1) * sizeof *nt);
  if (nt == NULL)
    return NULL;
  p->topics = nt;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, name, NULL);
  char *dup = strdup(name);
  if (rkt == NULL || dup == NULL) {
    if (rkt)
      rd_kafka_topic_destroy(rkt);
    free(dup);
    return NULL;
  }
  nt[p->n_topics].name = dup;
  nt[p->n_topics].rkt = rkt;
  p->n_topics++;
  return rkt;
}

static int produce(ks_producer *p, const char *topic, int32_t partition, const void *key,
                   size_t keylen, const void *value, size_t valuelen, int msgflags,
                   rd_kafka_headers_t *headers, int64_t timestamp_ms, void *opaque, char *errstr,
                   size_t errstr_size) {
  rd_kafka_topic_t *rkt = topic_get(p, topic);
  if (rkt == NULL) {
    if (headers)
      rd_kafka_headers_destroy(headers);
    snprintf(errstr, errstr_size, "kafka producer: cannot create topic handle '%s'", topic);
    return KS_EKAFKA;
  }
  for (;;) {
    rd_kafka_resp_err_t err;
    if (headers)
      err = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_MSGFLAGS(msgflags), RD_KAFKA_V_KEY(key, keylen),
                              RD_KAFKA_V_VALUE((void *)value, valuelen),
                              RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                              RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    else
      err = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_MSGFLAGS(msgflags), RD_KAFKA_V_KEY(key, keylen),
                              RD_KAFKA_V_VALUE((void *)value, valuelen),
                              RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_OPAQUE(opaque),
                              RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      return 0;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(p->rk, 50); /* back-pressure: wait for deliveries */
      continue;
    }
    if (headers)
      rd_kafka_headers_destroy(headers);
    snprintf(errstr, errstr_size, "kafka producer: produce to '%s' failed: %s", topic,
             rd_kafka_err2str(err));
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? KS_EMSGSIZE : KS_EKAFKA;
  }
}

int ks_producer_send(ks_producer *p, const char *topic, const void *key, size_t keylen,
                     const void *value, size_t valuelen, rd_kafka_headers_t *headers, void *opaque,
                     char *errstr, size_t errstr_size) {
  return produce(p, topic, RD_KAFKA_PARTITION_UA, key, keylen, value, valuelen, RD_KAFKA_MSG_F_COPY,
                 headers, 0, opaque, errstr, errstr_size);
}

int ks_producer_send_at(ks_producer *p, const char *topic, const void *key, size_t keylen,
                        const void *value, size_t valuelen, rd_kafka_headers_t *headers,
                        int64_t timestamp_ms, void *opaque, char *errstr, size_t errstr_size) {
  return produce(p, topic, RD_KAFKA_PARTITION_UA, key, keylen, value, valuelen, RD_KAFKA_MSG_F_COPY,
                 headers, timestamp_ms, opaque, errstr, errstr_size);
}

int ks_producer_give_to(ks_producer *p, const char *topic, int32_t partition, const void *key,
                        size_t keylen, uint8_t **value, size_t valuelen, void *opaque, char *errstr,
                        size_t errstr_size) {
  /* RD_KAFKA_MSG_F_FREE: librdkafka frees the payload once the message is
   * done with (delivered or failed); a refused produce leaves it ours. */
  int rc = produce(p, topic, partition, key, keylen, *value, valuelen, RD_KAFKA_MSG_F_FREE, NULL, 0,
                   opaque, errstr, errstr_size);
  if (rc == 0)
    *value = NULL;
  return rc;
}

void ks_producer_poll(ks_producer *p) {
  rd_kafka_poll(p->rk, 0);
}

int ks_producer_flush(ks_producer *p, int timeout_ms) {
  return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : KS_EKAFKA;
}

size_t ks_producer_max_message_bytes(ks_producer *p) {
  char buf[32];
  size_t n = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(p->rk), "message.max.bytes", buf, &n) != RD_KAFKA_CONF_OK)
    return 1000000; /* librdkafka's default */
  return (size_t)strtoull(buf, NULL, 10);
}

int ks_producer_outq_len(ks_producer *p) {
  return rd_kafka_outq_len(p->rk);
}

int ks_producer_brokers_down(const ks_producer *p) {
  return p->watch.down;
}

rd_kafka_t *ks_producer_handle(ks_producer *p) {
  return p->rk;
}

void ks_producer_close(ks_producer *p) {
  if (p && p->poll_active) {
    uv_poll_stop(&p->poll);
    uv_close((uv_handle_t *)&p->poll, NULL);
    p->poll_active = 0;
  }
}

void ks_producer_free(ks_producer *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n_topics; i++) {
    rd_kafka_topic_destroy(p->topics[i].rkt);
    free(p->topics[i].name);
  }
  free(p->topics);
  if (p->mainq) {
    rd_kafka_queue_io_event_enable(p->mainq, -1, NULL, 0);
    rd_kafka_queue_destroy(p->mainq);
  }
  if (p->rk)
    rd_kafka_destroy(p->rk);
  if (p->pipefd[0] >= 0)
    close(p->pipefd[0]);
  if (p->pipefd[1] >= 0)
    close(p->pipefd[1]);
  free(p);
}
