#include "checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"

#define CK_MAGIC   0x4B434B53u /* "SKCK" little-endian bytes: S K C K */
#define CK_FORMAT  1u
#define CK_HDR     (4 + 4 + 8 + 4 + 4 + 4 + 8 + 8)
#define CK_KEEP    4 /* newest checkpoint ids kept per plugin while reading */
#define CK_POLL_MS 100

static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t rd32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

void ks_ckpt_msgs_free(ks_ckpt_msg *m, size_t n) {
  for (size_t i = 0; m && i < n; i++)
    free(m[i].value);
  free(m);
}

int ks_ckpt_build(ks_engine *e, const int32_t *parts, int32_t task, int64_t id, ks_ckpt_msg **out,
                  size_t *n_out) {
  ks_ckpt_msg *msgs = NULL;
  size_t n = 0, cap = 0;
  for (size_t pi = 0; pi < ks_engine_plugin_count(e); pi++) {
    uint8_t *snap = NULL;
    size_t len = 0;
    int rc = ks_engine_snapshot(e, task, pi, &snap, &len);
    if (rc != 0) {
      ks_ckpt_msgs_free(msgs, n);
      return rc;
    }
    uint32_t chunks = (uint32_t)((len + KS_CKPT_CHUNK - 1) / KS_CKPT_CHUNK);
    if (chunks == 0)
      chunks = 1;
    for (uint32_t c = 0; c < chunks; c++) {
      if (n == cap) {
        cap = cap ? cap * 2 : 8;
        ks_ckpt_msg *nm = realloc(msgs, cap * sizeof *nm);
        if (nm == NULL) {
          free(snap);
          ks_ckpt_msgs_free(msgs, n);
          return KS_ENOMEM;
        }
        msgs = nm;
      }
      size_t off = (size_t)c * KS_CKPT_CHUNK;
      size_t clen = len - off < KS_CKPT_CHUNK ? len - off : KS_CKPT_CHUNK;
      ks_ckpt_msg *m = &msgs[n];
      m->plugin = pi;
      m->partition = task % parts[pi];
      snprintf(m->key, sizeof m->key, "task/%d/chunk/%u", task, c);
      m->len = CK_HDR + clen;
      m->value = malloc(m->len);
      if (m->value == NULL) {
        free(snap);
        ks_ckpt_msgs_free(msgs, n);
        return KS_ENOMEM;
      }
      n++;
      uint8_t *h = m->value;
      wr32(h, CK_MAGIC);
      wr32(h + 4, CK_FORMAT);
      wr64(h + 8, (uint64_t)id);
      wr32(h + 16, (uint32_t)task);
      wr32(h + 20, c);
      wr32(h + 24, chunks);
      wr64(h + 28, off);
      wr64(h + 36, len);
      memcpy(h + CK_HDR, snap + off, clen);
    }
    free(snap);
  }
  *out = msgs;
  *n_out = n;
  return 0;
}

rd_kafka_t *ks_ckpt_reader_new(const ks_kv *const *lists, const size_t *counts, size_t n_lists,
                               int log_level, char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = ks_kafka_conf_build(lists, counts, n_lists, errstr, errstr_size);
  if (conf == NULL)
    return NULL;
  ks_kafka_conf_route_logs(conf, log_level);
  static const char *const fixed[][2] = {{"group.id", "kpistream.changelog-reader"},
                                         {"enable.auto.commit", "false"},
                                         {"enable.auto.offset.store", "false"},
                                         {"enable.partition.eof", "false"},
                                         {"fetch.wait.max.ms", "50"}};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (ks_kafka_conf_set(conf, fixed[i][0], fixed[i][1], errstr, errstr_size) != 0) {
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
  if (rk == NULL)
    rd_kafka_conf_destroy(conf);
  return rk;
}

int32_t ks_ckpt_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                                 size_t errstr_size) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  if (rkt == NULL) {
    snprintf(errstr, errstr_size, "changelog topic '%s': cannot create a handle", topic);
    return KS_EKAFKA;
  }
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int32_t n = 0;
  /* A topic being auto-created answers "leader not available" for a moment. */
  for (int attempt = 0; attempt < 20; attempt++) {
    err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
      err = md->topics[0].err;
      n = md->topics[0].partition_cnt;
    }
    if (md)
      rd_kafka_metadata_destroy(md);
    md = NULL;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && n > 0)
      break;
    rd_kafka_poll(rk, 100);
  }
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || n <= 0) {
    snprintf(errstr, errstr_size,
             "changelog topic '%s' is not available (%s): create it (compacted, any partition "
             "count) or allow topic auto-creation",
             topic, err ? rd_kafka_err2str(err) : "no partitions");
    return KS_EKAFKA;
  }
  return n;
}

/* ---- restore ------------------------------------------------------------- */

typedef struct assembly {
  int64_t id; /* 0: unused */
  uint32_t n_chunks, got;
  uint64_t total;
  uint8_t *buf;
  uint8_t *have; /* per chunk */
} assembly;

static void asm_free(assembly *a) {
  free(a->buf);
  free(a->have);
  memset(a, 0, sizeof *a);
}

/* The assembly for id in slots (CK_KEEP of them), evicting the oldest. */
static assembly *asm_slot(assembly *slots, int64_t id, uint32_t n_chunks, uint64_t total) {
  assembly *free_slot = NULL, *oldest = NULL;
  for (int i = 0; i < CK_KEEP; i++) {
    if (slots[i].id == id)
      return (slots[i].n_chunks == n_chunks && slots[i].total == total) ? &slots[i] : NULL;
    if (slots[i].id == 0 && free_slot == NULL)
      free_slot = &slots[i];
    if (slots[i].id != 0 && (oldest == NULL || slots[i].id < oldest->id))
      oldest = &slots[i];
  }
  assembly *a = free_slot;
  if (a == NULL) {
    if (oldest->id > id)
      return NULL; /* older than everything kept */
    asm_free(oldest);
    a = oldest;
  }
  a->buf = malloc(total ? total : 1);
  a->have = calloc(n_chunks, 1);
  if (a->buf == NULL || a->have == NULL) {
    asm_free(a);
    return NULL;
  }
  a->id = id;
  a->n_chunks = n_chunks;
  a->total = total;
  return a;
}

static void absorb(assembly *slots, const rd_kafka_message_t *m, int32_t task) {
  const uint8_t *v = m->payload;
  if (m->len < CK_HDR || rd32(v) != CK_MAGIC || rd32(v + 4) != CK_FORMAT)
    return;
  if ((int32_t)rd32(v + 16) != task)
    return;
  int64_t id = (int64_t)rd64(v + 8);
  uint32_t chunk = rd32(v + 20), n_chunks = rd32(v + 24);
  uint64_t off = rd64(v + 28), total = rd64(v + 36);
  size_t clen = m->len - CK_HDR;
  if (id <= 0 || chunk >= n_chunks || off + clen > total)
    return;
  assembly *a = asm_slot(slots, id, n_chunks, total);
  if (a == NULL || a->have[chunk])
    return;
  memcpy(a->buf + off, v + CK_HDR, clen);
  a->have[chunk] = 1;
  a->got++;
}

static int complete(const assembly *slots, int64_t id) {
  for (int i = 0; i < CK_KEEP; i++)
    if (slots[i].id == id)
      return slots[i].got == slots[i].n_chunks;
  return 0;
}

/* Read every message of the assigned partitions up to their high watermarks. */
static int read_all(rd_kafka_t *reader, rd_kafka_topic_partition_list_t *l, assembly *slots,
                    int32_t task, int timeout_ms, char *errstr, size_t errsz) {
  int64_t *high = calloc((size_t)l->cnt, sizeof *high);
  int64_t *pos = calloc((size_t)l->cnt, sizeof *pos);
  int rc = 0;
  if (high == NULL || pos == NULL)
    rc = KS_ENOMEM;
  int pending = 0;
  for (int i = 0; rc == 0 && i < l->cnt; i++) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        reader, l->elems[i].topic, l->elems[i].partition, &lo, &hi, timeout_ms);
    if (err) {
      snprintf(errstr, errsz, "changelog %s [%d]: cannot read its offsets: %s", l->elems[i].topic,
               l->elems[i].partition, rd_kafka_err2str(err));
      rc = KS_EKAFKA;
      break;
    }
    high[i] = hi;
    pos[i] = lo;
    l->elems[i].offset = lo;
    pending += hi > lo;
  }
  if (rc == 0 && pending && rd_kafka_assign(reader, l) != 0)
    rc = KS_EKAFKA;
  int waited = 0;
  while (rc == 0 && pending > 0) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(reader, CK_POLL_MS);
    if (m == NULL) {
      if ((waited += CK_POLL_MS) > timeout_ms) {
        snprintf(errstr, errsz, "changelog of task %d: not read to its end within %d ms", task,
                 timeout_ms);
        rc = KS_EKAFKA;
      }
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].partition == m->partition &&
            strcmp(l->elems[i].topic, rd_kafka_topic_name(m->rkt)) == 0 && pos[i] < high[i]) {
          absorb(&slots[i * CK_KEEP], m, task);
          pos[i] = m->offset + 1;
          if (pos[i] >= high[i])
            pending--;
        }
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      snprintf(errstr, errsz, "changelog of task %d: %s", task, rd_kafka_message_errstr(m));
      rc = KS_EKAFKA;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(reader, NULL);
  free(high);
  free(pos);
  return rc;
}

int ks_ckpt_restore(rd_kafka_t *reader, ks_engine *e, char *const *topics, const int32_t *parts,
                    int32_t task, int timeout_ms, int64_t *id, char *errstr, size_t errsz) {
  size_t np = ks_engine_plugin_count(e);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)np);
  for (size_t i = 0; i < np; i++)
    rd_kafka_topic_partition_list_add(l, topics[i], task % parts[i]);
  assembly *slots = calloc(np * CK_KEEP, sizeof *slots);
  int rc = slots ? read_all(reader, l, slots, task, timeout_ms, errstr, errsz) : KS_ENOMEM;
  /* The newest id complete in every plugin that has any checkpoint. */
  int64_t best = 0;
  for (size_t i = 0; rc == 0 && i < np; i++)
    for (int k = 0; k < CK_KEEP; k++) {
      int64_t cand = slots[i * CK_KEEP + k].id;
      if (cand <= best || !complete(&slots[i * CK_KEEP], cand))
        continue;
      int ok = 1;
      for (size_t j = 0; j < np && ok; j++) {
        int any = 0;
        for (int q = 0; q < CK_KEEP; q++)
          any |= slots[j * CK_KEEP + q].id != 0;
        ok = !any || complete(&slots[j * CK_KEEP], cand);
      }
      if (ok)
        best = cand;
    }
  int any_data = 0;
  for (size_t i = 0; slots && i < np * CK_KEEP; i++)
    any_data |= slots[i].id != 0;
  if (rc == 0 && best == 0 && any_data) {
    snprintf(errstr, errsz,
             "changelog of task %d holds checkpoints but none complete for every plugin", task);
    rc = KS_ESTATE;
  }
  for (size_t i = 0; rc == 0 && best && i < np; i++)
    for (int k = 0; k < CK_KEEP; k++) {
      assembly *a = &slots[i * CK_KEEP + k];
      if (a->id != best)
        continue;
      char why[512];
      int r2 = ks_engine_restore(e, task, i, a->buf, (size_t)a->total, why, sizeof why);
      if (r2 != 0) {
        snprintf(errstr, errsz, "changelog %s, task %d, checkpoint %" PRId64 ": %s", topics[i],
                 task, best, why);
        rc = r2;
      }
    }
  for (size_t i = 0; slots && i < np * CK_KEEP; i++)
    asm_free(&slots[i]);
  free(slots);
  rd_kafka_topic_partition_list_destroy(l);
  if (rc != 0)
    return rc;
  *id = best;
  return best ? 1 : 0;
}
