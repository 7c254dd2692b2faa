#include "checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include "kafka_conf.h"
#include "log.h"

#define CK_MAGIC        0x4B434B53u /* "SKCK" little-endian bytes: S K C K */
#define CK_FORMAT       2u
#define CK_HDR          (4 + 4 + 8 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 4)
#define CK_FORMAT_DELTA 3u /* a delta: the format-2 header, then its chain */
#define CK_HDR_DELTA    (CK_HDR + 4 + 24 + 24 + 4)
#define CK_FORMAT_V1    1u /* read for upgrades: no epoch, nonce or checksum */
#define CK_HDR_V1       (4 + 4 + 8 + 4 + 4 + 4 + 8 + 8)
#define CK_KEEP         4 /* newest full snapshots (with their deltas) kept per plugin while reading */
#define CK_POLL_MS      100
#define CK_LOG          "checkpoint"
#define CK_LOG_MAX      20 /* refused records logged one by one per restore */

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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CK_CRC_HW 1
/* The same with SSE 4.2's crc32 instruction (~20x the table's speed: a full
 * snapshot of 1 GB is checksummed in a fraction of a second). */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const uint8_t *p, size_t n) {
  uint64_t c = 0xFFFFFFFFu;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  uint32_t c32 = (uint32_t)c;
  while (n--)
    c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}
#endif

/* CRC-32C (Castagnoli, reflected), the checksum Kafka itself uses. */
static uint32_t crc32c(const uint8_t *p, size_t n) {
#ifdef CK_CRC_HW
  if (__builtin_cpu_supports("sse4.2"))
    return crc32c_hw(p, n);
#endif
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    table[i] = c;
  }
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++)
    c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return ~c;
}

/* The checksums of a checkpoint's plugins, in plugin order, as one: a delta
 * names its predecessor's, so it follows that content, not only its
 * identity. */
static uint32_t crc_combine(uint32_t sum, uint32_t crc) {
  uint8_t b[8];
  wr32(b, sum);
  wr32(b + 4, crc);
  return crc32c(b, sizeof b);
}

uint64_t ks_ckpt_nonce(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v || v == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = ((uint64_t)ts.tv_sec * 1000000007u) ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid();
    v |= 1; /* never 0, which marks format 1 */
  }
  return v;
}

void ks_ckpt_msgs_free(ks_ckpt_msg *m, size_t n) {
  for (size_t i = 0; m && i < n; i++)
    free(m[i].value);
  free(m);
}

size_t ks_ckpt_chunk_max(size_t message_max_bytes) {
  /* key (< 64 bytes), CK_HDR, record framing and batch overhead: 1 KiB */
  const size_t overhead = 1024;
  if (message_max_bytes < 2 * overhead)
    return overhead;
  const size_t room = message_max_bytes - overhead;
  return room < KS_CKPT_CHUNK ? room : KS_CKPT_CHUNK;
}

/* The messages of checkpoint `ident` of `task`: every plugin's full
 * snapshot (chain NULL) or its delta after chain->last (format 3). */
static int build(ks_engine *e, const int32_t *parts, int32_t task, const ks_ckpt_ident *ident,
                 size_t chunk_max, const ks_ckpt_chain *chain, ks_ckpt_msg **out, size_t *n_out,
                 uint32_t *sum) {
  const size_t cmax = chunk_max ? chunk_max : KS_CKPT_CHUNK;
  const size_t hdr = chain ? CK_HDR_DELTA : CK_HDR;
  ks_ckpt_msg *msgs = NULL;
  size_t n = 0, cap = 0;
  for (size_t pi = 0; pi < ks_engine_plugin_count(e); pi++) {
    uint8_t *snap = NULL;
    size_t len = 0;
    int rc = chain ? ks_engine_delta(e, task, pi, &snap, &len)
                   : ks_engine_snapshot(e, task, pi, &snap, &len);
    if (rc != 0) {
      ks_ckpt_msgs_free(msgs, n);
      return rc;
    }
    uint32_t chunks = (uint32_t)((len + cmax - 1) / cmax);
    if (chunks == 0)
      chunks = 1;
    uint32_t crc = crc32c(snap, len);
    if (sum)
      *sum = crc_combine(pi ? *sum : 0, crc);
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
      size_t off = (size_t)c * cmax;
      size_t clen = len - off < cmax ? len - off : cmax;
      ks_ckpt_msg *m = &msgs[n];
      m->plugin = pi;
      m->partition = task % parts[pi];
      if (chain) /* under its chain's slot: the full snapshot's */
        snprintf(m->key, sizeof m->key, "task/%d/ckpt/%d/delta/%u/chunk/%u", task,
                 (int)(chain->base.id & 1), chain->deltas + 1, c);
      else
        snprintf(m->key, sizeof m->key, "task/%d/ckpt/%d/chunk/%u", task, (int)(ident->id & 1), c);
      m->len = hdr + clen;
      m->value = malloc(m->len);
      if (m->value == NULL) {
        free(snap);
        ks_ckpt_msgs_free(msgs, n);
        return KS_ENOMEM;
      }
      n++;
      uint8_t *h = m->value;
      wr32(h, CK_MAGIC);
      wr32(h + 4, chain ? CK_FORMAT_DELTA : CK_FORMAT);
      wr64(h + 8, ident->epoch);
      wr64(h + 16, ident->nonce);
      wr64(h + 24, (uint64_t)ident->id);
      wr32(h + 32, (uint32_t)task);
      wr32(h + 36, c);
      wr32(h + 40, chunks);
      wr64(h + 44, off);
      wr64(h + 52, len);
      wr32(h + 60, crc);
      if (chain) {
        wr32(h + 64, chain->deltas + 1);
        wr64(h + 68, chain->base.epoch);
        wr64(h + 76, chain->base.nonce);
        wr64(h + 84, (uint64_t)chain->base.id);
        wr64(h + 92, chain->last.epoch);
        wr64(h + 100, chain->last.nonce);
        wr64(h + 108, (uint64_t)chain->last.id);
        wr32(h + 116, chain->last_sum);
      }
      if (clen)
        memcpy(h + hdr, snap + off, clen);
    }
    free(snap);
  }
  *out = msgs;
  *n_out = n;
  return 0;
}

int ks_ckpt_build(ks_engine *e, const int32_t *parts, int32_t task, const ks_ckpt_ident *ident,
                  size_t chunk_max, ks_ckpt_msg **out, size_t *n_out) {
  return build(e, parts, task, ident, chunk_max, NULL, out, n_out, NULL);
}

/* The engine's baseline tag of checkpoint id (never 0, which means none). */
static uint64_t ident_tag(const ks_ckpt_ident *id) {
  uint64_t t = id->epoch * UINT64_C(0x9E3779B97F4A7C15) ^ id->nonce ^
               (uint64_t)id->id * UINT64_C(0xC2B2AE3D27D4EB4F);
  return t ? t : 1;
}

int ks_ckpt_build_next(ks_engine *e, const int32_t *parts, int32_t task,
                       const ks_ckpt_policy *policy, ks_ckpt_chain *chain, ks_ckpt_ident *ident,
                       size_t chunk_max, ks_ckpt_msg **out, size_t *n_out, int *full) {
  /* A delta only after a checkpoint of this chain taken from this very
   * state (the engine's baseline), within full_every and full_ratio. */
  int delta = chain->base.id != 0 && policy->full_every > 1 &&
              chain->deltas + 1 < policy->full_every &&
              ks_engine_task_baseline(e, task) == ident_tag(&chain->last);
  size_t changes = 0, records = 0;
  if (delta && (ks_engine_task_changes(e, task, &changes, &records) != 0 || changes == SIZE_MAX ||
                (double)changes > policy->full_ratio * (double)records))
    delta = 0;
  ks_ckpt_ident id = *ident;
  int rc = KS_ESTATE;
  uint32_t sum = 0;
  if (delta)
    rc = build(e, parts, task, &id, chunk_max, chain, out, n_out, &sum);
  if (rc == KS_ESTATE) { /* a full snapshot: decided, or a change was not recorded */
    delta = 0;
    /* under the other slot than the chain before it, which stays whole as
     * the fallback while this one is written */
    if (chain->base.id != 0 && ((id.id ^ chain->base.id) & 1) == 0)
      id.id++;
    rc = build(e, parts, task, &id, chunk_max, NULL, out, n_out, &sum);
  }
  if (rc != 0)
    return rc;
  ks_engine_task_mark_clean(e, task, ident_tag(&id));
  if (delta) {
    chain->deltas++;
  } else {
    chain->base = id;
    chain->deltas = 0;
  }
  chain->last = id;
  chain->last_sum = sum;
  *ident = id;
  *full = !delta;
  return 0;
}

void ks_ckpt_forget(ks_engine *e, int32_t task) {
  ks_engine_task_mark_clean(e, task, 0); /* no baseline: the next checkpoint is full */
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

/* ---- collecting a task's records ------------------------------------------ */

static int ident_cmp(const ks_ckpt_ident *a, const ks_ckpt_ident *b) {
  if (a->epoch != b->epoch)
    return a->epoch < b->epoch ? -1 : 1;
  if (a->id != b->id)
    return a->id < b->id ? -1 : 1;
  if (a->nonce != b->nonce)
    return a->nonce < b->nonce ? -1 : 1;
  return 0;
}

typedef struct header {
  uint32_t format;
  ks_ckpt_ident ident;
  uint32_t task, chunk, n_chunks, crc;
  uint64_t off, total;
  int delta;                /* format 3: a delta */
  uint32_t seq;             /* its place in its chain (1: right after the full snapshot) */
  ks_ckpt_ident base, prev; /* its chain's full snapshot and the checkpoint it follows */
  uint32_t prev_sum;        /* the checksums of prev (crc_combine) */
  size_t len;               /* header bytes */
} header;

static ks_ckpt_ident rd_ident(const uint8_t *p) {
  return (ks_ckpt_ident){rd64(p), rd64(p + 8), (int64_t)rd64(p + 16)};
}

static int ident_bad(const ks_ckpt_ident *id, uint32_t format) {
  return id->id <= 0 || (uint64_t)id->id >= KS_CKPT_MAX_ORDINAL ||
         id->epoch >= KS_CKPT_MAX_ORDINAL || (format >= CK_FORMAT && id->epoch == 0);
}

/* The header of a record, every field range-checked on its own (the chunk's
 * fit in its snapshot is checked by the caller). */
static int parse_header(const uint8_t *v, size_t len, header *h, char *why, size_t whysz) {
  memset(h, 0, sizeof *h);
  if (len < 8 || rd32(v) != CK_MAGIC) {
    snprintf(why, whysz, "not a kpistream checkpoint record (%zu bytes, bad magic)", len);
    return KS_ESTATE;
  }
  h->format = rd32(v + 4);
  if (h->format == CK_FORMAT || h->format == CK_FORMAT_DELTA) {
    h->len = h->format == CK_FORMAT ? CK_HDR : CK_HDR_DELTA;
    if (len >= h->len) {
      h->ident.epoch = rd64(v + 8);
      h->ident.nonce = rd64(v + 16);
      h->ident.id = (int64_t)rd64(v + 24);
      h->task = rd32(v + 32);
      h->chunk = rd32(v + 36);
      h->n_chunks = rd32(v + 40);
      h->off = rd64(v + 44);
      h->total = rd64(v + 52);
      h->crc = rd32(v + 60);
    }
    if (h->format == CK_FORMAT_DELTA && len >= h->len) {
      h->delta = 1;
      h->seq = rd32(v + 64);
      h->base = rd_ident(v + 68);
      h->prev = rd_ident(v + 92);
      h->prev_sum = rd32(v + 116);
    }
  } else if (h->format == CK_FORMAT_V1) {
    h->len = CK_HDR_V1;
    if (len >= CK_HDR_V1) {
      h->ident.id = (int64_t)rd64(v + 8);
      h->task = rd32(v + 16);
      h->chunk = rd32(v + 20);
      h->n_chunks = rd32(v + 24);
      h->off = rd64(v + 28);
      h->total = rd64(v + 36);
    }
  } else {
    snprintf(why, whysz,
             "checkpoint record format %u; this build reads formats %u to %u (written by a "
             "newer kpistream?)",
             h->format, CK_FORMAT_V1, CK_FORMAT_DELTA);
    return KS_ESTATE;
  }
  if (len < h->len) {
    snprintf(why, whysz, "checkpoint record of %zu bytes, shorter than its %zu-byte header", len,
             h->len);
    return KS_ESTATE;
  }
  if (ident_bad(&h->ident, h->format)) {
    snprintf(why, whysz, "checkpoint record with epoch %" PRIu64 ", id %" PRId64 " (out of range)",
             h->ident.epoch, h->ident.id);
    return KS_ESTATE;
  }
  if (!h->delta) {
    h->base = h->ident;
    return 0;
  }
  /* a delta follows its chain's full snapshot (place 1) or the delta before */
  if (ident_bad(&h->base, h->format) || ident_bad(&h->prev, h->format) || h->seq == 0 ||
      ident_cmp(&h->prev, &h->ident) >= 0 || ident_cmp(&h->base, &h->prev) > 0 ||
      (h->seq == 1) != (ident_cmp(&h->base, &h->prev) == 0)) {
    snprintf(why, whysz,
             "checkpoint delta record with id %" PRId64 ", place %u, base id %" PRId64
             ", previous id %" PRId64 " (out of range)",
             h->ident.id, h->seq, h->base.id, h->prev.id);
    return KS_ESTATE;
  }
  return 0;
}

typedef struct piece {
  uint32_t index;
  uint64_t off;
  size_t len;
  uint8_t *bytes; /* malloc'd copy */
  int64_t offset; /* of the record in the changelog */
} piece;

typedef struct assembly {
  ks_ckpt_ident ident;
  uint32_t format, n_chunks, crc;
  uint64_t total;
  int delta;                /* a delta of the chain of base, following prev */
  uint32_t seq;             /* its place in that chain */
  ks_ckpt_ident base, prev; /* a full snapshot: base = ident */
  uint32_t prev_sum;        /* the checksums of prev */
  piece *pieces;            /* received chunks, distinct indexes < n_chunks */
  size_t n, cap;
  int64_t first_offset, last_offset; /* changelog offsets of its records */
  int bad;                           /* refused: why */
  char why[256];
  uint8_t *buf; /* the snapshot, once every chunk arrived and it verified */
} assembly;

/* The checkpoints kept of one plugin's changelog: the CK_KEEP newest full
 * snapshots and the deltas of their chains (a delta whose full snapshot is
 * not kept cannot be restored). */
typedef struct kept {
  assembly *a;
  size_t n, cap;
} kept;

struct ks_ckpt_collect {
  size_t n_plugins;
  char *const *topics;
  const int32_t *partitions;
  int32_t task;
  kept *plugins; /* n_plugins */
  uint64_t max_epoch;
  size_t records;      /* records of this task (valid header) */
  size_t orphans;      /* delta records whose full snapshot was not kept */
  ks_ckpt_chain chain; /* what the last KS_CKPT_RESTORED restored */
};

/* Drop what a refused checkpoint holds; its identity stays so later records
 * of it are recognised and dropped too. */
static void asm_refuse(assembly *a) {
  for (size_t i = 0; i < a->n; i++)
    free(a->pieces[i].bytes);
  free(a->pieces);
  free(a->buf);
  a->pieces = NULL;
  a->buf = NULL;
  a->n = a->cap = 0;
  a->bad = 1;
}

static void asm_free(assembly *a) {
  asm_refuse(a);
  memset(a, 0, sizeof *a);
}

static const char *ident_str(const ks_ckpt_ident *id, char *buf, size_t n) {
  if (id->epoch == 0)
    snprintf(buf, n, "%" PRId64 " (format 1)", id->id);
  else
    snprintf(buf, n, "%" PRIu64 ".%" PRId64 " (instance %016" PRIx64 ")", id->epoch, id->id,
             id->nonce);
  return buf;
}

ks_ckpt_collect *ks_ckpt_collect_new(size_t n_plugins, char *const *topics,
                                     const int32_t *partitions, int32_t task) {
  ks_ckpt_collect *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->plugins = calloc(n_plugins ? n_plugins : 1, sizeof *c->plugins);
  if (c->plugins == NULL) {
    free(c);
    return NULL;
  }
  c->n_plugins = n_plugins;
  c->topics = topics;
  c->partitions = partitions;
  c->task = task;
  return c;
}

void ks_ckpt_collect_free(ks_ckpt_collect *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n_plugins; i++) {
    for (size_t k = 0; k < c->plugins[i].n; k++)
      asm_free(&c->plugins[i].a[k]);
    free(c->plugins[i].a);
  }
  free(c->plugins);
  free(c);
}

uint64_t ks_ckpt_collect_max_epoch(const ks_ckpt_collect *c) {
  return c->max_epoch;
}

void ks_ckpt_collect_chain(const ks_ckpt_collect *c, ks_ckpt_chain *chain) {
  *chain = c->chain;
}

static assembly *find(kept *k, const ks_ckpt_ident *id) {
  for (size_t i = 0; i < k->n; i++)
    if (ident_cmp(&k->a[i].ident, id) == 0)
      return &k->a[i];
  return NULL;
}

/* Forget the kept checkpoint at i (moving the last one there). */
static void forget(kept *k, size_t i) {
  asm_free(&k->a[i]);
  k->a[i] = k->a[--k->n];
}

/* The assembly of h's checkpoint among plugin's, a new one, or NULL when it
 * is not worth keeping: a full snapshot older than the CK_KEEP kept ones
 * (the oldest is dropped with its deltas for a newer one), a delta whose
 * full snapshot is not kept or was refused (or out of memory). */
static assembly *slot_for(ks_ckpt_collect *c, size_t plugin, const header *h) {
  kept *k = &c->plugins[plugin];
  assembly *a = find(k, &h->ident);
  if (a != NULL)
    return a;
  if (h->delta) {
    const assembly *base = find(k, &h->base);
    if (base == NULL || base->delta || base->bad) {
      c->orphans++;
      return NULL;
    }
  } else {
    size_t fulls = 0, oldest = k->n;
    for (size_t i = 0; i < k->n; i++)
      if (!k->a[i].delta) {
        fulls++;
        if (oldest == k->n || ident_cmp(&k->a[i].ident, &k->a[oldest].ident) < 0)
          oldest = i;
      }
    if (fulls >= CK_KEEP) {
      if (ident_cmp(&k->a[oldest].ident, &h->ident) > 0)
        return NULL;
      ks_ckpt_ident gone = k->a[oldest].ident;
      forget(k, oldest);
      for (size_t i = k->n; i-- > 0;)
        if (k->a[i].delta && ident_cmp(&k->a[i].base, &gone) == 0)
          forget(k, i);
    }
  }
  if (k->n == k->cap) {
    size_t nc = k->cap ? k->cap * 2 : 8;
    assembly *na = realloc(k->a, nc * sizeof *na);
    if (na == NULL)
      return NULL;
    k->a = na;
    k->cap = nc;
  }
  a = &k->a[k->n++];
  memset(a, 0, sizeof *a);
  a->ident = h->ident;
  a->format = h->format;
  a->n_chunks = h->n_chunks;
  a->total = h->total;
  a->crc = h->crc;
  a->delta = h->delta;
  a->seq = h->seq;
  a->base = h->base;
  a->prev = h->prev;
  a->prev_sum = h->prev_sum;
  return a;
}

static int piece_cmp(const void *x, const void *y) {
  const piece *a = x, *b = y;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* Every chunk arrived: they must tile [0, total) in index order, and the
 * snapshot must match its checksum. Returns 0 (a->buf set) or KS_ESTATE with
 * the reason in a->why, or KS_ENOMEM. */
static int asm_finish(assembly *a) {
  qsort(a->pieces, a->n, sizeof *a->pieces, piece_cmp);
  uint64_t at = 0;
  for (size_t i = 0; i < a->n; i++) {
    const piece *p = &a->pieces[i];
    if (p->off != at) {
      snprintf(a->why, sizeof a->why,
               "chunk %u starts at byte %" PRIu64 ", where chunk %u ended at byte %" PRIu64
               " (overlapping or missing bytes)",
               p->index, p->off, i ? a->pieces[i - 1].index : 0, at);
      return KS_ESTATE;
    }
    at += p->len; /* no wrap: each piece was checked to end within total */
  }
  if (at != a->total) {
    snprintf(a->why, sizeof a->why, "its %u chunks hold %" PRIu64 " bytes, not %" PRIu64,
             a->n_chunks, at, a->total);
    return KS_ESTATE;
  }
  if ((a->buf = malloc(a->total ? (size_t)a->total : 1)) == NULL)
    return KS_ENOMEM;
  for (size_t i = 0; i < a->n; i++) {
    if (a->pieces[i].len)
      memcpy(a->buf + a->pieces[i].off, a->pieces[i].bytes, a->pieces[i].len);
    free(a->pieces[i].bytes);
    a->pieces[i].bytes = NULL;
  }
  if (a->format >= CK_FORMAT && crc32c(a->buf, (size_t)a->total) != a->crc) {
    snprintf(a->why, sizeof a->why, "checksum mismatch (CRC-32C %08x, header says %08x)",
             crc32c(a->buf, (size_t)a->total), a->crc);
    return KS_ESTATE;
  }
  return 0;
}

#define REFUSE(...)                                                                                \
  do {                                                                                             \
    snprintf(errstr, errstr_size, "changelog %s [%d] offset %" PRId64 ": " __VA_ARGS__);           \
    return KS_ESTATE;                                                                              \
  } while (0)

int ks_ckpt_collect_add(ks_ckpt_collect *c, size_t plugin, int64_t offset, const void *value,
                        size_t len, char *errstr, size_t errstr_size) {
  if (plugin >= c->n_plugins)
    return KS_ENOENT;
  const char *topic = c->topics[plugin];
  int32_t part = c->partitions[plugin];
  const uint8_t *v = value;
  header h;
  char why[200], ids[96];
  if (v == NULL)
    len = 0;
  if (parse_header(v, len, &h, why, sizeof why) != 0)
    REFUSE("%s; record ignored", topic, part, offset, why);
  if ((int32_t)h.task != c->task)
    return 0; /* another task sharing the partition */
  c->records++;
  if (h.ident.epoch > c->max_epoch)
    c->max_epoch = h.ident.epoch;
  ident_str(&h.ident, ids, sizeof ids);
  size_t clen = len - h.len;
  /* Overflow-safe: off + clen is never computed before off <= total. */
  if (h.n_chunks == 0 || h.chunk >= h.n_chunks || h.off > h.total || clen > h.total - h.off ||
      (clen == 0 && h.total != 0))
    REFUSE("checkpoint %s of task %d: chunk %u of %u at byte %" PRIu64 " with %zu bytes does "
           "not fit its %" PRIu64 "-byte snapshot; record ignored",
           topic, part, offset, ids, c->task, h.chunk, h.n_chunks, h.off, clen, h.total);
  assembly *a = slot_for(c, plugin, &h);
  if (a == NULL || a->bad)
    return 0; /* not worth keeping (see slot_for), or refused already */
  if (a->n == 0 && a->buf == NULL)
    a->first_offset = offset;
  a->last_offset = offset;
  if (a->format != h.format || a->n_chunks != h.n_chunks || a->total != h.total ||
      a->crc != h.crc || a->seq != h.seq || ident_cmp(&a->base, &h.base) != 0 ||
      ident_cmp(&a->prev, &h.prev) != 0 || a->prev_sum != h.prev_sum) {
    snprintf(a->why, sizeof a->why,
             "its records disagree on its size (%u chunks, %" PRIu64 " bytes at offset %" PRId64
             "; %u chunks, %" PRIu64 " bytes here) or chain (place %u, %u here)",
             a->n_chunks, a->total, a->first_offset, h.n_chunks, h.total, a->seq, h.seq);
    asm_refuse(a);
    REFUSE("checkpoint %s of task %d refused: %s", topic, part, offset, ids, c->task, a->why);
  }
  for (size_t i = 0; i < a->n; i++) {
    piece *p = &a->pieces[i];
    if (p->index != h.chunk)
      continue;
    /* once complete, the chunk's bytes are in the snapshot */
    const uint8_t *have = p->bytes ? p->bytes : a->buf + p->off;
    if (p->off == h.off && p->len == clen && (clen == 0 || memcmp(have, v + h.len, clen) == 0))
      return 0; /* the same chunk again (a producer retry) */
    snprintf(a->why, sizeof a->why,
             "chunk %u appears twice with different content (offsets %" PRId64 " and %" PRId64 ")",
             h.chunk, p->offset, offset);
    asm_refuse(a);
    REFUSE("checkpoint %s of task %d refused: %s", topic, part, offset, ids, c->task, a->why);
  }
  if (a->buf)
    return 0; /* not reached: a complete checkpoint has every index */
  if (a->n == a->cap) {
    size_t nc = a->cap ? a->cap * 2 : 4;
    piece *np = realloc(a->pieces, nc * sizeof *np);
    if (np == NULL)
      return KS_ENOMEM;
    a->pieces = np;
    a->cap = nc;
  }
  piece *p = &a->pieces[a->n];
  p->index = h.chunk;
  p->off = h.off;
  p->len = clen;
  p->offset = offset;
  p->bytes = malloc(clen ? clen : 1);
  if (p->bytes == NULL)
    return KS_ENOMEM;
  if (clen)
    memcpy(p->bytes, v + h.len, clen);
  a->n++;
  if (a->n < a->n_chunks)
    return 0;
  int rc = asm_finish(a);
  if (rc == KS_ESTATE) {
    asm_refuse(a);
    REFUSE("checkpoint %s of task %d refused: %s", topic, part, offset, ids, c->task, a->why);
  }
  return rc;
}

/* The chain ending at checkpoint id in plugin's changelog, oldest first
 * (its full snapshot, then every delta in order) into out[0..*n): each one
 * complete and verified, each delta in its place right after the one
 * before. Returns 0, or KS_ENOENT with the reason in why. */
static int chain_in(ks_ckpt_collect *c, size_t plugin, const ks_ckpt_ident *id, assembly **out,
                    size_t max, size_t *n, char *why, size_t whysz) {
  kept *k = &c->plugins[plugin];
  ks_ckpt_ident want = *id;
  char ids[96];
  size_t len = 0;
  uint32_t seq = 0;
  for (;;) {
    assembly *a = find(k, &want);
    if (len == 0 && (a == NULL || a->bad || a->buf == NULL)) {
      snprintf(why, whysz, "%s", a == NULL ? "absent" : a->bad ? a->why : "chunks missing");
      return KS_ENOENT;
    }
    if (len > 0 && (a == NULL || a->bad || a->buf == NULL || len == max ||
                    (a->delta ? a->seq + 1 != seq : seq != 1))) {
      snprintf(why, whysz, "%s %s of its chain %s%s%s",
               seq == 1 ? "the full snapshot" : "the delta before place",
               ident_str(&want, ids, sizeof ids),
               a == NULL        ? "is missing"
               : a->bad         ? "was refused: "
               : a->buf == NULL ? "lacks chunks"
                                : "is out of place",
               a && a->bad ? a->why : "", "");
      return KS_ENOENT;
    }
    out[len++] = a;
    if (!a->delta)
      break;
    seq = a->seq;
    want = a->prev;
  }
  for (size_t i = 0; i < len / 2; i++) { /* oldest first */
    assembly *t = out[i];
    out[i] = out[len - 1 - i];
    out[len - 1 - i] = t;
  }
  *n = len;
  return 0;
}

int ks_ckpt_collect_restore(ks_ckpt_collect *c, ks_engine *e, int log_level, ks_ckpt_ident *ident,
                            char *errstr, size_t errstr_size) {
  if (ks_engine_plugin_count(e) != c->n_plugins) {
    snprintf(errstr, errstr_size, "task %d: %zu changelogs read for %zu plugins", c->task,
             c->n_plugins, ks_engine_plugin_count(e));
    return KS_EINVAL;
  }
  size_t max = 1;
  for (size_t j = 0; j < c->n_plugins; j++)
    max += c->plugins[j].n;
  /* every plugin's chain: links[j * max + i] */
  assembly **links = malloc((c->n_plugins ? c->n_plugins : 1) * max * sizeof *links);
  if (links == NULL) {
    snprintf(errstr, errstr_size, "task %d: out of memory", c->task);
    return KS_ENOMEM;
  }
  assembly **first = links; /* plugin 0's chain: every plugin's must be the same */
  /* Candidates: every checkpoint complete in some plugin's changelog,
   * newest first; each must be complete with the same identity, and the
   * same chain, in all. */
  ks_ckpt_ident tried = {UINT64_MAX, UINT64_MAX, INT64_MAX};
  char ids[96], last[1024] = "";
  int rc = 0;
  for (;;) {
    const assembly *best = NULL;
    for (size_t j = 0; j < c->n_plugins; j++)
      for (size_t i = 0; i < c->plugins[j].n; i++) {
        const assembly *a = &c->plugins[j].a[i];
        if (a->buf && !a->bad && ident_cmp(&a->ident, &tried) < 0 &&
            (best == NULL || ident_cmp(&a->ident, &best->ident) > 0))
          best = a;
      }
    if (best == NULL)
      break;
    tried = best->ident;
    ident_str(&tried, ids, sizeof ids);
    size_t n_first = 0, missing = c->n_plugins;
    char why[512] = "";
    for (size_t j = 0; j < c->n_plugins && missing == c->n_plugins; j++) {
      size_t n = 0;
      assembly **mine = links + j * max;
      if (chain_in(c, j, &tried, mine, max, &n, why, sizeof why) != 0) {
        missing = j;
        break;
      }
      if (j == 0)
        n_first = n;
      int same = n == n_first;
      for (size_t i = 0; j && same && i < n; i++)
        same = ident_cmp(&mine[i]->ident, &first[i]->ident) == 0;
      if (!same) {
        snprintf(why, sizeof why, "its chain of deltas differs from that in %s", c->topics[0]);
        missing = j;
      }
    }
    /* each delta follows its predecessor's content: the checksums of every
     * plugin's predecessor, as the delta names them */
    for (size_t i = 1; missing == c->n_plugins && i < n_first; i++) {
      uint32_t sum = 0;
      for (size_t j = 0; j < c->n_plugins; j++)
        sum = crc_combine(j ? sum : 0, links[j * max + i - 1]->crc);
      for (size_t j = 0; j < c->n_plugins && missing == c->n_plugins; j++)
        if (links[j * max + i]->prev_sum != sum) {
          char pids[96];
          snprintf(why, sizeof why,
                   "its delta %s does not follow the content of %s (checksums %08x, the delta "
                   "names %08x)",
                   ident_str(&links[j * max + i]->ident, ids, sizeof ids),
                   ident_str(&links[j * max + i - 1]->ident, pids, sizeof pids), sum,
                   links[j * max + i]->prev_sum);
          missing = j;
        }
      ident_str(&tried, ids, sizeof ids);
    }
    if (missing < c->n_plugins) {
      snprintf(last, sizeof last, "checkpoint %s of task %d is not usable in changelog %s [%d]: %s",
               ids, c->task, c->topics[missing], c->partitions[missing], why);
      ks_log(log_level, KS_LOG_WARN, CK_LOG, "%s; trying an older one", last);
      continue;
    }
    ks_engine_task_close(e, c->task);
    rc = 0;
    for (size_t j = 0; rc == 0 && j < c->n_plugins; j++) {
      for (size_t i = 0; rc == 0 && i < n_first; i++) {
        assembly *a = links[j * max + i];
        rc = i == 0 ? ks_engine_restore(e, c->task, j, a->buf, (size_t)a->total, why, sizeof why)
                    : ks_engine_restore_delta(e, c->task, j, a->buf, (size_t)a->total, why,
                                              sizeof why);
        if (rc != 0) {
          char aids[96];
          snprintf(last, sizeof last,
                   "changelog %s [%d] offsets %" PRId64 "-%" PRId64 ", task %d, checkpoint %s%s%s: "
                   "%s",
                   c->topics[j], c->partitions[j], a->first_offset, a->last_offset, c->task, ids,
                   i ? ", its delta " : "", i ? ident_str(&a->ident, aids, sizeof aids) : "", why);
        }
      }
    }
    if (rc == 0) {
      *ident = tried;
      c->chain.base = first[0]->ident;
      c->chain.last = tried;
      c->chain.deltas = (uint32_t)(n_first - 1);
      c->chain.last_sum = 0;
      for (size_t j = 0; j < c->n_plugins; j++)
        c->chain.last_sum =
            crc_combine(j ? c->chain.last_sum : 0, links[j * max + n_first - 1]->crc);
      free(links);
      return KS_CKPT_RESTORED;
    }
    ks_engine_task_close(e, c->task);
    if (rc != KS_ESTATE) { /* another configuration, or out of memory */
      snprintf(errstr, errstr_size, "%s", last);
      free(links);
      return rc;
    }
    ks_log(log_level, KS_LOG_ERROR, CK_LOG, "%s; refused, trying an older checkpoint", last);
  }
  free(links);
  if (c->records == 0)
    return KS_CKPT_NONE;
  char orphans[128] = "";
  if (c->orphans)
    snprintf(orphans, sizeof orphans, " (%zu delta records without their full snapshot)",
             c->orphans);
  snprintf(errstr, errstr_size,
           "changelog of task %d holds %zu checkpoint records but no checkpoint complete and "
           "valid in every plugin's changelog%s%s%s",
           c->task, c->records, orphans, last[0] ? "; newest refused: " : "", last);
  return KS_CKPT_UNUSABLE;
}

/* ---- reading the changelogs ----------------------------------------------- */

/* Read every message of the assigned partitions up to their high watermarks. */
static int read_all(rd_kafka_t *reader, rd_kafka_topic_partition_list_t *l, ks_ckpt_collect *c,
                    int timeout_ms, int log_level, char *errstr, size_t errstr_size) {
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
      snprintf(errstr, errstr_size, "changelog %s [%d]: cannot read its offsets: %s",
               l->elems[i].topic, l->elems[i].partition, rd_kafka_err2str(err));
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
  size_t refused = 0;
  while (rc == 0 && pending > 0) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(reader, CK_POLL_MS);
    if (m == NULL) {
      if ((waited += CK_POLL_MS) > timeout_ms) {
        snprintf(errstr, errstr_size, "changelog of task %d: not read to its end within %d ms",
                 c->task, timeout_ms);
        rc = KS_EKAFKA;
      }
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].partition == m->partition &&
            strcmp(l->elems[i].topic, rd_kafka_topic_name(m->rkt)) == 0 && pos[i] < high[i]) {
          char why[512];
          int r2 =
              ks_ckpt_collect_add(c, (size_t)i, m->offset, m->payload, m->len, why, sizeof why);
          if (r2 == KS_ENOMEM)
            rc = r2;
          else if (r2 != 0 && ++refused <= CK_LOG_MAX)
            ks_log(log_level, KS_LOG_ERROR, CK_LOG, "%s", why);
          pos[i] = m->offset + 1;
          if (pos[i] >= high[i])
            pending--;
        }
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      snprintf(errstr, errstr_size, "changelog of task %d: %s", c->task,
               rd_kafka_message_errstr(m));
      rc = KS_EKAFKA;
    }
    rd_kafka_message_destroy(m);
  }
  if (refused > CK_LOG_MAX)
    ks_log(log_level, KS_LOG_ERROR, CK_LOG, "task %d: %zu changelog records refused in all",
           c->task, refused);
  rd_kafka_assign(reader, NULL);
  free(high);
  free(pos);
  if (rc == KS_ENOMEM)
    snprintf(errstr, errstr_size, "changelog of task %d: out of memory while reading it", c->task);
  return rc;
}

int ks_ckpt_restore(rd_kafka_t *reader, ks_engine *e, char *const *topics, const int32_t *parts,
                    int32_t task, int timeout_ms, int log_level, ks_ckpt_chain *chain,
                    uint64_t *max_epoch, char *errstr, size_t errstr_size) {
  size_t np = ks_engine_plugin_count(e);
  memset(chain, 0, sizeof *chain);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)np);
  int32_t *part_of = calloc(np ? np : 1, sizeof *part_of);
  ks_ckpt_collect *c = NULL;
  int rc = KS_ENOMEM;
  if (part_of != NULL) {
    for (size_t i = 0; i < np; i++) {
      part_of[i] = task % parts[i];
      rd_kafka_topic_partition_list_add(l, topics[i], part_of[i]);
    }
    c = ks_ckpt_collect_new(np, topics, part_of, task);
  }
  if (c != NULL)
    rc = read_all(reader, l, c, timeout_ms, log_level, errstr, errstr_size);
  else
    snprintf(errstr, errstr_size, "task %d: out of memory", task);
  if (rc == 0) {
    *max_epoch = c->max_epoch;
    ks_ckpt_ident ident;
    rc = ks_ckpt_collect_restore(c, e, log_level, &ident, errstr, errstr_size);
    ks_ckpt_collect_chain(c, chain);
  }
  ks_ckpt_collect_free(c);
  free(part_of);
  rd_kafka_topic_partition_list_destroy(l);
  return rc;
}
