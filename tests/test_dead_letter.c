/* Dead-letter records (dead_letter.c): original headers with the kpistream.
 * namespace renamed, the authoritative headers last; the bounded record of a
 * message larger than message.max.bytes, checked against librdkafka's own
 * size check and delivered through a real producer (in-process mock
 * cluster); the delivery report naming the input message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "dead_letter.h"
#include "kafka_producer.h"

/* "name=value,name=value" (null values as name=(null)), like kcat's %h */
static void headers_str(const rd_kafka_headers_t *h, char *buf, size_t size) {
  const char *name;
  const void *value;
  size_t vlen, o = 0;
  buf[0] = '\0';
  for (size_t i = 0; h && rd_kafka_header_get_all(h, i, &name, &value, &vlen) == 0; i++)
    o += (size_t)snprintf(buf + o, size - o, "%s%s=%.*s", i ? "," : "", name, value ? (int)vlen : 6,
                          value ? (const char *)value : "(null)");
}

static rd_kafka_headers_t *forged(void) {
  rd_kafka_headers_t *h = rd_kafka_headers_new(8);
  rd_kafka_header_add(h, "x-app", -1, "1", -1);
  rd_kafka_header_add(h, "kpistream.reason", -1, "all good", -1);
  rd_kafka_header_add(h, "kpistream.source.offset", -1, "0", -1);
  rd_kafka_header_add(h, "Kpistream.reason", -1, "other case", -1);
  rd_kafka_header_add(h, "kpistream.original.reason", -1, "replayed", -1);
  rd_kafka_header_add(h, "kpistream", -1, "no dot", -1);
  rd_kafka_header_add(h, "trace", -1, NULL, 0);
  return h;
}

#define REASON "protobuf decode failed (not a kpistream.v1.Event)"
#define OWN                                                                                        \
  "kpistream.reason=" REASON ",kpistream.source.topic=events.voice,kpistream.source.partition=3,"  \
  "kpistream.source.offset=42"

static void whole_record_renames_forged_headers(void **state) {
  (void)state;
  rd_kafka_headers_t *h = forged();
  ks_dlq_source src = {"events.voice", 3, 42, "acme", 4, "payload", 7, h, NULL};
  ks_dlq_record rec;
  char err[256], got[2048];
  assert_int_equal(ks_dlq_record_build(&rec, &src, REASON, 0, err, sizeof err), 0);
  assert_ptr_equal(rec.key, src.key);
  assert_int_equal(rec.key_len, 4);
  assert_ptr_equal(rec.value, src.value);
  assert_int_equal(rec.value_len, 7);
  assert_int_equal(rec.bounded, 0);
  assert_int_equal(rec.headers_dropped, 0);
  headers_str(rec.headers, got, sizeof got);
  assert_string_equal(got, "x-app=1,kpistream.original.reason=all good,"
                           "kpistream.original.source.offset=0,Kpistream.reason=other case,"
                           "kpistream.original.original.reason=replayed,kpistream=no dot,"
                           "trace=(null)," OWN);
  /* exactly one of each authoritative header */
  const void *v;
  size_t n;
  assert_int_equal(rd_kafka_header_get(rec.headers, 1, "kpistream.reason", &v, &n),
                   RD_KAFKA_RESP_ERR__NOENT);
  assert_int_equal(rd_kafka_header_get_last(rec.headers, "kpistream.reason", &v, &n), 0);
  assert_memory_equal(v, REASON, n);
  ks_dlq_record_free(&rec);
  /* a keyless message without headers */
  ks_dlq_source bare = {"events.voice", 3, 42, NULL, 0, "p", 1, NULL, NULL};
  assert_int_equal(ks_dlq_record_build(&rec, &bare, REASON, 0, err, sizeof err), 0);
  assert_null(rec.key);
  headers_str(rec.headers, got, sizeof got);
  assert_string_equal(got, OWN);
  ks_dlq_record_free(&rec);
  rd_kafka_headers_destroy(h);
}

/* librdkafka's own verdict on a record under message.max.bytes = max */
static rd_kafka_resp_err_t produce(rd_kafka_t *rk, const ks_dlq_record *rec) {
  rd_kafka_headers_t *h = rd_kafka_headers_copy(rec->headers);
  rd_kafka_resp_err_t err =
      rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("dlq"), RD_KAFKA_V_KEY(rec->key, rec->key_len),
                        RD_KAFKA_V_VALUE((void *)rec->value, rec->value_len), RD_KAFKA_V_HEADERS(h),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (err)
    rd_kafka_headers_destroy(h); /* librdkafka takes them only on success */
  return err;
}

static rd_kafka_t *producer(size_t max) {
  char err[512], v[32];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  snprintf(v, sizeof v, "%zu", max);
  assert_int_equal(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err), 0);
  assert_int_equal(rd_kafka_conf_set(conf, "message.max.bytes", v, err, sizeof err), 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  assert_non_null(rk);
  return rk;
}

static void bounded_record_fits_message_max_bytes(void **state) {
  (void)state;
  static const size_t maxes[] = {1000, 1500, 4096, 100000};
  static const size_t keys[] = {0, 4, 3000};
  size_t vlen = 300000;
  char *value = malloc(vlen), *key = malloc(3000), *big = malloc(2000);
  assert_non_null(value);
  assert_non_null(key);
  assert_non_null(big);
  for (size_t i = 0; i < vlen; i++)
    value[i] = (char)(i * 7);
  memset(key, 'k', 3000);
  memset(big, 'h', 2000);
  char err[256], got[4096], want[4096];
  for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
    rd_kafka_t *rk = producer(maxes[m]);
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
      for (int hv = 0; hv < 3; hv++) { /* no headers; forged ones; a 2000-byte one in between */
        rd_kafka_headers_t *h = hv ? forged() : NULL;
        if (hv == 2)
          rd_kafka_header_add(h, "huge", -1, big, 2000);
        if (hv == 2)
          rd_kafka_header_add(h, "after", -1, "small", -1);
        ks_dlq_source src = {"events.voice", 3, 42,  keys[k] ? key : NULL, keys[k], value,
                             vlen,           h, NULL};
        ks_dlq_record rec;
        /* the whole record is too large for librdkafka */
        assert_int_equal(ks_dlq_record_build(&rec, &src, REASON, 0, err, sizeof err), 0);
        assert_int_equal(produce(rk, &rec), RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
        ks_dlq_record_free(&rec);
        /* the bounded one fits, and uses most of the room */
        assert_int_equal(ks_dlq_record_build(&rec, &src, REASON, maxes[m], err, sizeof err), 0);
        assert_int_equal(rec.bounded, 1);
        assert_int_equal(produce(rk, &rec), RD_KAFKA_RESP_ERR_NO_ERROR);
        size_t hbytes = 0;
        const char *name;
        const void *v;
        size_t n;
        for (size_t i = 0; rd_kafka_header_get_all(rec.headers, i, &name, &v, &n) == 0; i++)
          hbytes += strlen(name) + n;
        assert_true(rec.key_len + rec.value_len + hbytes + 600 >= maxes[m]);
        assert_ptr_equal(rec.value, value); /* the first bytes */
        /* key first, then original headers that fit, then the value */
        if (rec.key_len < keys[k])
          assert_int_equal(rec.value_len, 0);
        if (rec.headers_dropped) /* less room left than a dropped header needed */
          assert_true(rec.value_len < 2100);
        headers_str(rec.headers, got, sizeof got);
        snprintf(want, sizeof want, OWN ",kpistream.truncated=%zu", vlen);
        if (rec.key_len < keys[k])
          snprintf(want + strlen(want), sizeof want - strlen(want), ",kpistream.truncated.key=%zu",
                   keys[k]);
        if (rec.headers_dropped)
          snprintf(want + strlen(want), sizeof want - strlen(want),
                   ",kpistream.truncated.headers=%zu", rec.headers_dropped);
        assert_true(strlen(got) >= strlen(want));
        assert_string_equal(got + strlen(got) - strlen(want), want);
        if (hv && rec.headers_dropped == 0) /* the original headers come first */
          assert_true(strncmp(got, "x-app=1,", 8) == 0);
        if (hv == 2 && maxes[m] == 1500 && keys[k] == 4) { /* room for all but "huge" */
          assert_int_equal(rec.headers_dropped, 1);
          assert_non_null(strstr(got, ",trace=(null),after=small,kpistream.reason="));
        }
        if (maxes[m] == 100000 && keys[k] == 3000 && hv == 1)
          assert_int_equal(rec.key_len, 3000);
        if (maxes[m] == 1000 && keys[k] == 3000)
          assert_true(rec.key_len > 0 && rec.key_len < 1000);
        ks_dlq_record_free(&rec);
        if (h)
          rd_kafka_headers_destroy(h);
      }
    assert_int_equal(rd_kafka_flush(rk, 30000), 0); /* and the mock broker took them */
    rd_kafka_destroy(rk);
  }
  /* too small for the kpistream.* headers alone: an error naming the message */
  char reason[300];
  memset(reason, 'r', 255);
  reason[255] = '\0';
  char topic[250];
  memset(topic, 't', 249);
  topic[249] = '\0';
  ks_dlq_source src = {topic, 3, 42, NULL, 0, value, vlen, NULL, NULL};
  ks_dlq_record rec;
  char long_err[1024];
  assert_int_equal(ks_dlq_record_build(&rec, &src, reason, 700, long_err, sizeof long_err),
                   KS_EINVAL);
  assert_non_null(strstr(long_err, "tttt [3] offset 42: message.max.bytes 700 leaves no room"));
  assert_null(rec.headers);
  /* ... but the smallest message.max.bytes librdkafka allows (1000) always has room */
  assert_int_equal(ks_dlq_record_build(&rec, &src, reason, 1000, err, sizeof err), 0);
  ks_dlq_record_free(&rec);
  free(value);
  free(key);
  free(big);
}

/* ---- through ks_producer: whole, else bounded; delivery names the source -- */

typedef struct drs {
  int n, errors;
  char described[4][128];
  size_t len[4];
  const void *payload[4]; /* the record's bytes as librdkafka holds them */
} drs;

static void on_dr(void *ud, void *opaque, rd_kafka_resp_err_t err, const rd_kafka_message_t *m) {
  drs *d = ud;
  size_t i = (size_t)(uintptr_t)opaque; /* reports of different topics come in any order */
  if (err)
    d->errors++;
  if (i < 4) {
    if (!ks_dlq_describe(m, d->described[i], sizeof d->described[0]))
      strcpy(d->described[i], "(not a dead letter)");
    d->len[i] = m->len;
    d->payload[i] = m->payload;
  }
  d->n++;
}

/* A producer on an in-process mock cluster with message.max.bytes 20000,
 * its delivery reports counted in *d. */
static ks_producer *mock_producer(uv_loop_t *loop, drs *d) {
  uv_loop_init(loop);
  ks_kv props[] = {{"test.mock.num.brokers", "1"}, {"message.max.bytes", "20000"}};
  const ks_kv *lists[] = {props};
  size_t counts[] = {2};
  ks_producer *p = NULL;
  char err[512];
  assert_int_equal(
      ks_producer_new(&p, loop, lists, counts, 1, KS_LOG_ERROR, on_dr, d, err, sizeof err), 0);
  return p;
}

static void send_whole_else_bounded(void **state) {
  (void)state;
  uv_loop_t loop;
  drs d = {0};
  char err[512];
  ks_producer *p = mock_producer(&loop, &d);
  assert_int_equal(ks_producer_max_message_bytes(p), 20000);
  static char value[50000];
  memset(value, 'v', sizeof value);
  rd_kafka_headers_t *h = forged();
  ks_dlq_source small = {"events.voice", 0, 7, "acme", 4, value, 100, h, NULL};
  ks_dlq_source large = {"events.chat", 2, 1234, "acme", 4, value, sizeof value, h, NULL};
  ks_dlq_record sent;
  assert_int_equal(
      ks_dlq_send(p, "kpistream.dlq", &small, REASON, (void *)0, &sent, err, sizeof err), 0);
  assert_int_equal(sent.bounded, 0);
  assert_int_equal(sent.value_len, 100);
  assert_null(sent.headers);
  assert_int_equal(
      ks_dlq_send(p, "kpistream.dlq", &large, REASON, (void *)1, &sent, err, sizeof err), 0);
  assert_int_equal(sent.bounded, 1);
  assert_true(sent.value_len > 19000 && sent.value_len < 20000);
  assert_int_equal(sent.key_len, 4);
  assert_int_equal(sent.headers_dropped, 0);
  /* an ordinary message is not a dead letter */
  assert_int_equal(ks_producer_send(p, "kpi.x", "k", 1, "v", 1, NULL, (void *)2, err, sizeof err),
                   0);
  /* any message over message.max.bytes: KS_EMSGSIZE */
  assert_int_equal(
      ks_producer_send(p, "kpi.x", "k", 1, value, sizeof value, NULL, NULL, err, sizeof err),
      KS_EMSGSIZE);
  assert_int_equal(ks_producer_flush(p, 30000), 0);
  assert_int_equal(d.n, 3);
  assert_int_equal(d.errors, 0);
  assert_string_equal(d.described[0], "events.voice [0] offset 7");
  assert_string_equal(d.described[1], "events.chat [2] offset 1234");
  assert_string_equal(d.described[2], "(not a dead letter)");
  assert_int_equal(d.len[1], sent.value_len);
  rd_kafka_headers_destroy(h);
  ks_producer_close(p);
  uv_run(&loop, UV_RUN_DEFAULT);
  ks_producer_free(p);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* ks_producer_give_to hands a malloc'd chunk to librdkafka without a copy
 * (the delivery report sees the very buffer; librdkafka frees it, valgrind
 * and ASan check there is no leak and no double free), and leaves a refused
 * one (over message.max.bytes) with the caller, intact. */
static void give_to_hands_over_else_keeps(void **state) {
  (void)state;
  uv_loop_t loop;
  drs d = {0};
  char err[512];
  ks_producer *p = mock_producer(&loop, &d);
  uint8_t *big = malloc(50000);
  assert_non_null(big);
  memset(big, 'b', 50000);
  uint8_t *kept = big;
  assert_int_equal(ks_producer_give_to(p, "kpi.changelog", 0, "task/0/ckpt/1/chunk/0", 21, &big,
                                       50000, (void *)0, err, sizeof err),
                   KS_EMSGSIZE);
  assert_ptr_equal(big, kept); /* still ours */
  for (size_t i = 0; i < 50000; i++)
    assert_int_equal(big[i], 'b');
  free(big);
  uint8_t *chunk = malloc(100);
  assert_non_null(chunk);
  memset(chunk, 'c', 100);
  const void *given = chunk;
  assert_int_equal(ks_producer_give_to(p, "kpi.changelog", 0, "task/0/ckpt/1/chunk/0", 21, &chunk,
                                       100, (void *)0, err, sizeof err),
                   0);
  assert_null(chunk); /* librdkafka's now */
  assert_int_equal(ks_producer_flush(p, 30000), 0);
  assert_int_equal(d.n, 1);
  assert_int_equal(d.errors, 0);
  assert_int_equal(d.len[0], 100);
  assert_ptr_equal(d.payload[0], given); /* no copy */
  ks_producer_close(p);
  uv_run(&loop, UV_RUN_DEFAULT);
  ks_producer_free(p);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(whole_record_renames_forged_headers),
      cmocka_unit_test(bounded_record_fits_message_max_bytes),
      cmocka_unit_test(send_whole_else_bounded),
      cmocka_unit_test(give_to_hands_over_else_keeps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
