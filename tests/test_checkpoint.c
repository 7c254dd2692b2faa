/*
 * test_checkpoint — changelog records to a restored task (checkpoint.c's
 * collector and selection, snapshot.c's restore) with real snapshots of the
 * operations and experience plugins, and crafted records:
 *   - a chunk whose offset + length wraps around 2^64, a chunk longer than
 *     its snapshot, a truncated header, an unknown format, chunks that
 *     overlap, a chunk missing, a chunk twice with different bytes, a
 *     flipped byte (checksum), a snapshot whose counts disagree with its
 *     length: each refused with changelog, partition, offset and checkpoint
 *     named, and the task restores the previous complete checkpoint;
 *   - a checkpoint id reused by a second instance (issue 10, defect 4): the
 *     restore never combines plugins or chunks of different checkpoints;
 *   - nothing usable at all: KS_CKPT_UNUSABLE; nothing of the task: NONE;
 *   - the record framing byte by byte: keys, partitions, every header field
 *     of format 2 and format 1 at its offset, chunks tiling the snapshot,
 *     CRC-32C against its check values, each refusal's exact text.
 * The expected state is always checked the same way: the restored task's
 * snapshots are byte-identical to the snapshots the checkpoint was built
 * from. With KS_CKPT_SEED_DIR set, it also writes the fuzzer's seed corpus
 * (fuzz/fuzz_checkpoint.c explains the framing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "engine.h"
#include "sim_world.h"

#define NP 2 /* plugins: operations, experience */

static const char *const families[NP] = {"operations", "experience"};
static char topic_ops[] = "g.changelog.operations", topic_exp[] = "g.changelog.experience";
static char *const ck_topics[NP] = {topic_ops, topic_exp};
static const int32_t ck_parts[NP] = {0, 0};

static int drop_sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                     size_t valuelen, const ks_result *r) {
  (void)ud, (void)topic, (void)key, (void)keylen, (void)value, (void)valuelen, (void)r;
  return 0;
}

static ks_engine *engine_new(sim_world *w, int64_t interval_ms) {
  ks_engine_options eo = {0};
  eo.interval_ms = interval_ms;
  eo.lateness_ms = 60000;
  eo.topics = w->topics;
  eo.n_topics = KS_SIM_NTOPICS;
  eo.sink = drop_sink;
  eo.log_level = KS_LOG_WARN;
  ks_engine *e = NULL;
  char err[512];
  assert_int_equal(ks_engine_new(&e, &eo, err, sizeof err), 0);
  for (size_t i = 0; i < NP; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/kpi_%s.so", KS_TEST_PLUGIN_DIR, families[i]);
    if (ks_engine_add_plugin(e, path, NULL, NULL, 0, err, sizeof err) != 0)
      fail_msg("add_plugin %s: %s", path, err);
  }
  return e;
}

static int world_setup(void **state) {
  sim_world *w = sim_world_new(5, 40 * 60 * 1000);
  assert_true(w->n > 300);
  *state = w;
  return 0;
}

static int world_teardown(void **state) {
  sim_world_free(*state);
  return 0;
}

/* ---- checkpoints as the changelog holds them ------------------------------ */

typedef struct ckpt {
  ks_ckpt_msg *m;
  size_t n;
  uint8_t *snap[NP]; /* what each plugin's snapshot was */
  size_t len[NP];
} ckpt;

static void ckpt_take(ks_engine *e, ckpt *c, uint64_t epoch, uint64_t nonce, int64_t id) {
  const int32_t parts[NP] = {1, 1};
  ks_ckpt_ident ident = {epoch, nonce, id};
  assert_int_equal(ks_ckpt_build(e, parts, 0, &ident, 0, &c->m, &c->n), 0);
  assert_int_equal(c->n, NP); /* one chunk each: these snapshots are small */
  for (size_t p = 0; p < NP; p++)
    assert_int_equal(ks_engine_snapshot(e, 0, p, &c->snap[p], &c->len[p]), 0);
}

static void ckpt_free(ckpt *c) {
  ks_ckpt_msgs_free(c->m, c->n);
  for (size_t p = 0; p < NP; p++)
    free(c->snap[p]);
}

/* The changelog: records per plugin in the order they were written. */
typedef struct changelog {
  ks_ckpt_collect *c;
  int64_t next[NP]; /* next offset per plugin's partition */
  int refused;
  char last_err[1024];
} changelog;

static void log_open(changelog *l) {
  memset(l, 0, sizeof *l);
  l->c = ks_ckpt_collect_new(NP, ck_topics, ck_parts, 0);
  assert_non_null(l->c);
}

/* Append one record to plugin's changelog; returns the collector's answer. */
static int log_add(changelog *l, size_t plugin, const uint8_t *v, size_t len) {
  char err[1024] = "";
  int rc = ks_ckpt_collect_add(l->c, plugin, l->next[plugin]++, v, len, err, sizeof err);
  assert_true(rc == 0 || rc == KS_ESTATE);
  if (rc != 0) {
    assert_true(err[0] != '\0'); /* a refusal says why */
    l->refused++;
    snprintf(l->last_err, sizeof l->last_err, "%s", err);
  }
  return rc;
}

/* Every record of c that belongs to one of `plugins` (bit mask). */
static void log_ckpt(changelog *l, const ckpt *c, unsigned plugins) {
  for (size_t i = 0; i < c->n; i++)
    if (plugins & (1u << c->m[i].plugin))
      assert_int_equal(log_add(l, c->m[i].plugin, c->m[i].value, c->m[i].len), 0);
}

/* Restore into a fresh engine; on KS_CKPT_RESTORED, the task's snapshots
 * must be exactly `expect`'s. */
static int log_restore(changelog *l, sim_world *w, const ckpt *expect, ks_ckpt_ident *id) {
  ks_engine *e = engine_new(w, 15 * 60000);
  char err[1024] = "";
  int rc = ks_ckpt_collect_restore(l->c, e, KS_LOG_ERROR, id, err, sizeof err);
  if (rc == KS_CKPT_RESTORED) {
    assert_non_null(expect);
    for (size_t p = 0; p < NP; p++) {
      uint8_t *s;
      size_t n;
      assert_int_equal(ks_engine_snapshot(e, 0, p, &s, &n), 0);
      if (n != expect->len[p] || memcmp(s, expect->snap[p], n) != 0)
        fail_msg("plugin %zu restored a state other than the checkpoint's", p);
      free(s);
    }
  } else {
    snprintf(l->last_err, sizeof l->last_err, "%s", err);
    assert_false(ks_engine_task_exists(e, 0));
  }
  ks_engine_free(e);
  ks_ckpt_collect_free(l->c);
  l->c = NULL;
  return rc;
}

/* ---- crafting records ----------------------------------------------------- */

static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define HDR2 64
#define HDR1 44

/* A format-2 record (the layout of checkpoint.h, written out by hand). */
static size_t rec2(uint8_t *out, uint64_t epoch, uint64_t nonce, int64_t id, uint32_t chunk,
                   uint32_t n_chunks, uint64_t off, uint64_t total, uint32_t crc,
                   const uint8_t *bytes, size_t clen) {
  memcpy(out, "SKCK", 4);
  wr32(out + 4, 2);
  wr64(out + 8, epoch);
  wr64(out + 16, nonce);
  wr64(out + 24, (uint64_t)id);
  wr32(out + 32, 0); /* task */
  wr32(out + 36, chunk);
  wr32(out + 40, n_chunks);
  wr64(out + 44, off);
  wr64(out + 52, total);
  wr32(out + 60, crc);
  memcpy(out + HDR2, bytes, clen);
  return HDR2 + clen;
}

/* A format-1 record, as kpistream wrote them before epochs. */
static size_t rec1(uint8_t *out, int64_t id, uint32_t chunk, uint32_t n_chunks, uint64_t off,
                   uint64_t total, const uint8_t *bytes, size_t clen) {
  memcpy(out, "SKCK", 4);
  wr32(out + 4, 1);
  wr64(out + 8, (uint64_t)id);
  wr32(out + 16, 0);
  wr32(out + 20, chunk);
  wr32(out + 24, n_chunks);
  wr64(out + 28, off);
  wr64(out + 36, total);
  memcpy(out + HDR1, bytes, clen);
  return HDR1 + clen;
}

/* A checkpoint of this engine in format 1 (both plugins, one chunk each). */
static void log_ckpt_v1(changelog *l, const ckpt *c, int64_t id, unsigned plugins) {
  for (size_t p = 0; p < NP; p++) {
    if (!(plugins & (1u << p)))
      continue;
    uint8_t *r = malloc(HDR1 + c->len[p]);
    assert_non_null(r);
    size_t n = rec1(r, id, 0, 1, 0, c->len[p], c->snap[p], c->len[p]);
    assert_int_equal(log_add(l, p, r, n), 0);
    free(r);
  }
}

/* The state of a run at two points: checkpoints 1 and 2 of instance A. */
typedef struct two {
  ckpt c1, c2;
} two;

static void two_take(sim_world *w, two *t) {
  ks_engine *a = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  sim_world_feed(a, w, 0, w->n / 3);
  ckpt_take(a, &t->c1, 1, 0xA, 1);
  sim_world_feed(a, w, w->n / 3, (2 * w->n) / 3);
  ckpt_take(a, &t->c2, 1, 0xA, 2);
  ks_engine_free(a);
  assert_true(t->c1.len[0] != t->c2.len[0] || memcmp(t->c1.snap[0], t->c2.snap[0], t->c1.len[0]));
}

static void two_free(two *t) {
  ckpt_free(&t->c1);
  ckpt_free(&t->c2);
}

/* ---- tests ---------------------------------------------------------------- */

/* The plain case: the newest complete checkpoint, exactly. */
static void test_roundtrip(void **state) {
  sim_world *w = *state;
  two t;
  two_take(w, &t);
  changelog l;
  log_open(&l);
  log_ckpt(&l, &t.c1, 3);
  log_ckpt(&l, &t.c2, 3);
  assert_int_equal(ks_ckpt_collect_max_epoch(l.c), 1);
  ks_ckpt_ident id;
  assert_int_equal(log_restore(&l, w, &t.c2, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.epoch, 1);
  assert_int_equal(id.nonce, 0xA);
  assert_int_equal(id.id, 2);
  assert_int_equal(l.refused, 0);
  two_free(&t);
}

/* A producer with a small message.max.bytes: the checkpoint is cut into
 * chunks that fit it (before, 512 KiB chunks were refused as too large and
 * no checkpoint was ever written) and restores exactly. */
static void test_small_chunks(void **state) {
  sim_world *w = *state;
  assert_int_equal(ks_ckpt_chunk_max(1000000), KS_CKPT_CHUNK);
  assert_int_equal(ks_ckpt_chunk_max(100000), 100000 - 1024);
  assert_int_equal(ks_ckpt_chunk_max(10), 1024);
  two t;
  two_take(w, &t);
  ks_engine *a = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  sim_world_feed(a, w, 0, (2 * w->n) / 3);
  const int32_t parts[NP] = {1, 1};
  ks_ckpt_ident ident = {1, 0xA, 2};
  ckpt small = {0};
  const size_t limit = 4096;
  assert_int_equal(ks_ckpt_build(a, parts, 0, &ident, ks_ckpt_chunk_max(limit), &small.m, &small.n),
                   0);
  ks_engine_free(a);
  assert_true(small.n > NP); /* several chunks per plugin */
  for (size_t i = 0; i < small.n; i++)
    assert_true(small.m[i].len + sizeof small.m[i].key <= limit);
  changelog l;
  log_open(&l);
  log_ckpt(&l, &small, 3);
  ks_ckpt_ident id;
  assert_int_equal(log_restore(&l, w, &t.c2, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 2);
  ks_ckpt_msgs_free(small.m, small.n);
  two_free(&t);
}

/* Defect 3: chunk offset 2^64 - 16 with 32 bytes "fits" a 64-byte snapshot
 * when offset + length wraps; before, the copy wrote 2^64 - 16 bytes past the
 * reassembly buffer. Now refused, and checkpoint 1 is restored. */
static void test_wraparound_offset(void **state) {
  sim_world *w = *state;
  two t;
  two_take(w, &t);
  uint8_t bytes[32], r[HDR2 + 200];
  memset(bytes, 0xEE, sizeof bytes);
  changelog l;
  log_open(&l);
  log_ckpt(&l, &t.c1, 3);
  size_t n = rec2(r, 1, 0xA, 2, 0, 1, UINT64_MAX - 15, 64, 0, bytes, 32);
  assert_int_equal(log_add(&l, 0, r, n), KS_ESTATE);
  assert_string_equal(l.last_err,
                      "changelog g.changelog.operations [0] offset 1: checkpoint 1.2 (instance "
                      "000000000000000a) of task 0: chunk 0 of 1 at byte 18446744073709551600 "
                      "with 32 bytes does not fit its 64-byte snapshot; record ignored");
  /* the same in the old format */
  n = rec1(r, 2, 0, 1, UINT64_MAX - 15, 64, bytes, 32);
  assert_int_equal(log_add(&l, 1, r, n), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint 2 (format 1) of task 0: chunk 0 of 1"));
  /* longer than its total; chunk index beyond its count; no chunks at all */
  n = rec2(r, 1, 0xA, 2, 0, 1, 0, 20, 0, bytes, 32);
  assert_int_equal(log_add(&l, 0, r, n), KS_ESTATE);
  n = rec2(r, 1, 0xA, 2, 1, 1, 0, 32, 0, bytes, 32);
  assert_int_equal(log_add(&l, 0, r, n), KS_ESTATE);
  n = rec2(r, 1, 0xA, 2, 0, 0, 0, 32, 0, bytes, 32);
  assert_int_equal(log_add(&l, 0, r, n), KS_ESTATE);
  /* a header cut short, an unknown format, a foreign record, an id of 0 */
  assert_int_equal(log_add(&l, 0, r, 30), KS_ESTATE);
  assert_string_equal(l.last_err, "changelog g.changelog.operations [0] offset 5: checkpoint "
                                  "record of 30 bytes, shorter than its 64-byte header; record "
                                  "ignored");
  wr32(r + 4, 4);
  assert_int_equal(log_add(&l, 0, r, n), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "offset 6: checkpoint record format 4; this build reads "
                                     "formats 1 to 3"));
  assert_int_equal(log_add(&l, 0, (const uint8_t *)"hello", 5), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "bad magic"));
  n = rec2(r, 1, 0xA, 0, 0, 1, 0, 32, 0, bytes, 32);
  assert_int_equal(log_add(&l, 0, r, n), KS_ESTATE);
  assert_int_equal(log_add(&l, 0, NULL, 0), KS_ESTATE);
  ks_ckpt_ident id;
  assert_int_equal(log_restore(&l, w, &t.c1, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 1);
  two_free(&t);
}

/* Checkpoint 2 of plugin 0 re-cut into two chunks by hand (the CRC of the
 * whole snapshot stays the header's), with `mode` damaging it. */
enum {
  SPLIT_OK,
  SPLIT_RETRY,
  SPLIT_DIFFERENT,
  SPLIT_OVERLAP,
  SPLIT_MISSING,
  SPLIT_FLIP,
  SPLIT_SIZE
};

static void log_split(changelog *l, const ckpt *c2, int mode) {
  const uint8_t *v = c2->m[0].value;
  assert_int_equal(c2->m[0].plugin, 0);
  uint32_t crc = rd32(v + 60);
  const uint8_t *s = c2->snap[0];
  size_t total = c2->len[0], half = total / 2;
  uint8_t *r = malloc(HDR2 + total + 16), *copy = malloc(total);
  assert_true(r && copy);
  memcpy(copy, s, total);
  if (mode == SPLIT_FLIP)
    copy[total - 1] ^= 0x01;
  size_t n = rec2(r, 1, 0xA, 2, 0, 2, 0, total, crc, copy, half);
  assert_int_equal(log_add(l, 0, r, n), 0);
  if (mode == SPLIT_SIZE) { /* chunk 1 claims a larger snapshot */
    n = rec2(r, 1, 0xA, 2, 1, 2, half, total + 8, crc, copy + half, total - half);
    assert_int_equal(log_add(l, 0, r, n), KS_ESTATE);
    assert_non_null(strstr(l->last_err, "disagree on its size"));
  } else if (mode == SPLIT_OVERLAP) { /* chunk 1 starts 8 bytes early; its count still fits */
    n = rec2(r, 1, 0xA, 2, 1, 2, half - 8, total, crc, copy + half - 8, total - half + 8);
    assert_int_equal(log_add(l, 0, r, n), KS_ESTATE);
    assert_non_null(strstr(l->last_err, "overlapping or missing bytes"));
  } else if (mode == SPLIT_DIFFERENT) {
    n = rec2(r, 1, 0xA, 2, 0, 2, 0, total, crc, copy + 1, half);
    assert_int_equal(log_add(l, 0, r, n), KS_ESTATE);
    assert_non_null(strstr(l->last_err, "chunk 0 appears twice with different content"));
  } else if (mode != SPLIT_MISSING) {
    if (mode == SPLIT_RETRY) /* the same chunk twice: a producer retry */
      assert_int_equal(log_add(l, 0, r, n), 0);
    n = rec2(r, 1, 0xA, 2, 1, 2, half, total, crc, copy + half, total - half);
    if (mode == SPLIT_FLIP) {
      assert_int_equal(log_add(l, 0, r, n), KS_ESTATE);
      assert_non_null(strstr(l->last_err, "checksum mismatch"));
    } else {
      assert_int_equal(log_add(l, 0, r, n), 0);
    }
  }
  free(r);
  free(copy);
}

static void test_chunk_damage(void **state) {
  sim_world *w = *state;
  two t;
  two_take(w, &t);
  for (int mode = SPLIT_OK; mode <= SPLIT_SIZE; mode++) {
    changelog l;
    log_open(&l);
    log_ckpt(&l, &t.c1, 3);
    log_split(&l, &t.c2, mode);
    log_ckpt(&l, &t.c2, 2); /* plugin 1's checkpoint 2 is fine */
    ks_ckpt_ident id;
    int good = mode == SPLIT_OK || mode == SPLIT_RETRY;
    assert_int_equal(log_restore(&l, w, good ? &t.c2 : &t.c1, &id), KS_CKPT_RESTORED);
    if (id.id != (good ? 2 : 1))
      fail_msg("mode %d: restored checkpoint %lld", mode, (long long)id.id);
  }
  two_free(&t);
}

/* Offsets of fields of a snapshot of snapshot.c's format (walked by hand). */
typedef struct snap_fields {
  size_t n_open, n_retained, n_records, end;
} snap_fields;

static size_t str_at(const uint8_t *s, size_t at) {
  return at + 2 + (size_t)(s[at] | s[at + 1] << 8);
}

static snap_fields walk(const uint8_t *s, size_t len) {
  snap_fields f = {0};
  size_t at = 4 + 4 + 4 + 8;
  uint32_t n_topics = rd32(s + at);
  at += 4;
  for (uint32_t i = 0; i < n_topics; i++)
    at = str_at(s, at) + 8;
  at += 8 + 8 * (size_t)n_topics + 8 + 8;
  f.n_open = at;
  at += 4 + 8 * (size_t)rd32(s + at);
  f.n_retained = at;
  at += 4 + 12 * (size_t)rd32(s + at);
  at = str_at(s, at); /* plugin */
  assert_true(rd32(s + at) >= 1);
  at = str_at(s, at + 4) + 12; /* first table: name, kind, size, version */
  f.n_records = at;
  f.end = len;
  assert_true(at + 8 <= len);
  assert_true(s[at] != 0 || s[at + 1] != 0); /* at least one record to damage */
  return f;
}

/* Snapshots whose counts disagree with their length, through the engine
 * directly and through a format-1 checkpoint (no checksum to stop them). */
static void test_snapshot_counts(void **state) {
  sim_world *w = *state;
  two t;
  two_take(w, &t);
  const uint8_t *s = t.c2.snap[0];
  size_t len = t.c2.len[0];
  snap_fields f = walk(s, len);
  uint8_t *bad = malloc(len + 8);
  assert_non_null(bad);
  struct {
    size_t at, width;
    uint64_t value;
    const char *why;
  } cases[] = {
      {f.n_open, 4, UINT32_MAX, "open intervals in its last"},
      {f.n_retained, 4, 1000000, "retained intervals in its last"},
      {f.n_records, 8, UINT64_C(1) << 62, "records in its last"},
      {f.n_records, 8, UINT64_MAX, "records in its last"}, /* negative */
      {len, 5, 0, "bytes after its last table"},           /* trailing bytes */
      /* a record (snapshot format 2): interval, touched, listed, key length */
      {f.n_records + 8 + 24, 2, 300, "a 300-byte key"}, /* longer than KS_KEY_MAX */
      {f.n_records + 8 + 8, 8, (uint64_t)INT64_MIN, "touched at -9223372036854775808"},
      {f.n_records + 8 + 16, 8, (uint64_t)INT64_MIN, "listed at -9223372036854775808"},
      {f.n_open - 8, 8, 1, "next close 1 (corrupt)"}, /* not on the interval grid */
      {f.n_open - 8, 8, INT64_MAX, "next close"},     /* overflows interval arithmetic */
  };
  ks_engine *e = engine_new(w, 15 * 60000);
  char err[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memcpy(bad, s, len);
    size_t blen = len;
    if (cases[i].at == len) {
      memset(bad + len, 0, cases[i].width);
      blen += cases[i].width;
    } else if (cases[i].width == 2) {
      bad[cases[i].at] = (uint8_t)cases[i].value;
      bad[cases[i].at + 1] = (uint8_t)(cases[i].value >> 8);
    } else if (cases[i].width == 4) {
      wr32(bad + cases[i].at, (uint32_t)cases[i].value);
    } else {
      wr64(bad + cases[i].at, cases[i].value);
    }
    assert_int_equal(ks_engine_restore(e, 0, 0, bad, blen, err, sizeof err), KS_ESTATE);
    if (strstr(err, cases[i].why) == NULL)
      fail_msg("case %zu: %s", i, err);
    ks_engine_task_close(e, 0);

    /* as checkpoint 2 in format 1, after a good checkpoint 1 */
    changelog l;
    log_open(&l);
    log_ckpt_v1(&l, &t.c1, 1, 3);
    uint8_t *r = malloc(HDR1 + blen);
    assert_non_null(r);
    size_t n = rec1(r, 2, 0, 1, 0, blen, bad, blen);
    assert_int_equal(log_add(&l, 0, r, n), 0);
    free(r);
    log_ckpt_v1(&l, &t.c2, 2, 2);
    ks_ckpt_ident id;
    assert_int_equal(log_restore(&l, w, &t.c1, &id), KS_CKPT_RESTORED);
    assert_int_equal(id.id, 1);
    assert_int_equal(id.epoch, 0);
  }
  /* one byte short: truncated */
  assert_int_equal(ks_engine_restore(e, 0, 0, s, len - 1, err, sizeof err), KS_ESTATE);
  assert_non_null(strstr(err, "truncated"));
  ks_engine_free(e);
  /* the intact one restores (the walk found real fields) */
  e = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_restore(e, 0, 0, s, len, err, sizeof err), 0);
  ks_engine_free(e);
  free(bad);
  two_free(&t);
}

/* Defect 4. Instance A completes checkpoint 1 in both changelogs; its
 * checkpoint 2 reaches only the experience changelog (the operations
 * changelog's leader is down) and A dies. B restores checkpoint 1 and writes
 * its own checkpoint 2 (different state) to both. C must restore B's, whole;
 * before, it combined B's operations snapshot with A's experience one. */
static void test_identity_reuse(void **state) {
  sim_world *w = *state;
  two a;
  two_take(w, &a); /* A: checkpoint 1 at n/3, checkpoint 2 at 2n/3 */
  /* B: from checkpoint 1, a little further than A got */
  ks_engine *b = engine_new(w, 15 * 60000);
  char err[512];
  for (size_t p = 0; p < NP; p++)
    assert_int_equal(ks_engine_restore(b, 0, p, a.c1.snap[p], a.c1.len[p], err, sizeof err), 0);
  sim_world_feed(b, w, w->n / 3, (5 * w->n) / 6);

  /* what B finds, and so its epoch */
  changelog l;
  log_open(&l);
  log_ckpt(&l, &a.c1, 3);
  log_ckpt(&l, &a.c2, 2);
  ks_ckpt_ident id;
  uint64_t max_epoch = ks_ckpt_collect_max_epoch(l.c);
  assert_int_equal(log_restore(&l, w, &a.c1, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 1);
  ckpt bc2;
  ckpt_take(b, &bc2, max_epoch + 1, 0xB, id.id + 1);
  ks_engine_free(b);

  /* what C finds */
  log_open(&l);
  log_ckpt(&l, &a.c1, 3);
  log_ckpt(&l, &a.c2, 2);
  log_ckpt(&l, &bc2, 3);
  assert_int_equal(log_restore(&l, w, &bc2, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.epoch, 2);
  assert_int_equal(id.nonce, 0xB);
  assert_int_equal(id.id, 2);

  /* a zombie A still writing checkpoint 3 of epoch 1 ranks below B's */
  ckpt a3;
  ks_engine *z = engine_new(w, 15 * 60000);
  for (size_t p = 0; p < NP; p++)
    assert_int_equal(ks_engine_restore(z, 0, p, a.c2.snap[p], a.c2.len[p], err, sizeof err), 0);
  sim_world_feed(z, w, (2 * w->n) / 3, w->n);
  ckpt_take(z, &a3, 1, 0xA, 3);
  ks_engine_free(z);
  log_open(&l);
  log_ckpt(&l, &a.c1, 3);
  log_ckpt(&l, &a.c2, 2);
  log_ckpt(&l, &bc2, 3);
  log_ckpt(&l, &a3, 3);
  assert_int_equal(log_restore(&l, w, &bc2, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.epoch, 2);

  /* two instances that both restored epoch 1 write the same (epoch, id):
   * their nonces keep them apart; one of them, whole */
  ckpt b2;
  b = engine_new(w, 15 * 60000);
  for (size_t p = 0; p < NP; p++)
    assert_int_equal(ks_engine_restore(b, 0, p, a.c1.snap[p], a.c1.len[p], err, sizeof err), 0);
  sim_world_feed(b, w, w->n / 3, w->n / 2);
  ckpt_take(b, &b2, 2, 0xC, 2);
  ks_engine_free(b);
  log_open(&l);
  log_ckpt(&l, &a.c1, 3);
  log_ckpt(&l, &bc2, 1);
  log_ckpt(&l, &b2, 3);
  log_ckpt(&l, &bc2, 2);
  assert_int_equal(log_restore(&l, w, &b2, &id), KS_CKPT_RESTORED); /* 0xC > 0xB */
  assert_int_equal(id.nonce, 0xC);
  log_open(&l);
  log_ckpt(&l, &a.c1, 3);
  log_ckpt(&l, &bc2, 1);
  log_ckpt(&l, &b2, 2); /* neither complete in both */
  assert_int_equal(log_restore(&l, w, &a.c1, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 1);

  /* the same story in format 1 (one id, no epoch, as kpistream wrote it
   * before): C cannot tell A's checkpoint 2 from B's; the experience
   * changelog holds both, so checkpoint 2 is refused and 1 restored */
  log_open(&l);
  log_ckpt_v1(&l, &a.c1, 1, 3);
  log_ckpt_v1(&l, &a.c2, 2, 2);
  log_ckpt_v1(&l, &bc2, 2, 1);
  uint8_t *r = malloc(HDR1 + bc2.len[1]);
  assert_non_null(r);
  size_t n = rec1(r, 2, 0, 1, 0, bc2.len[1], bc2.snap[1], bc2.len[1]);
  assert_int_equal(log_add(&l, 1, r, n), KS_ESTATE);
  assert_true(strstr(l.last_err, "appears twice with different content") != NULL ||
              strstr(l.last_err, "disagree on its size") != NULL);
  free(r);
  assert_int_equal(log_restore(&l, w, &a.c1, &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 1);
  ckpt_free(&a3);
  ckpt_free(&b2);
  ckpt_free(&bc2);
  two_free(&a);
}

/* Nothing usable: UNUSABLE with the reason; nothing of the task: NONE;
 * another interval: KS_ECONFIG (stop, an older one would not do either). */
static void test_fallbacks(void **state) {
  sim_world *w = *state;
  two t;
  two_take(w, &t);
  changelog l;
  log_open(&l);
  log_ckpt(&l, &t.c2, 1); /* plugin 1 never got it */
  ks_ckpt_ident id;
  assert_int_equal(log_restore(&l, w, NULL, &id), KS_CKPT_UNUSABLE);
  assert_string_equal(l.last_err,
                      "changelog of task 0 holds 1 checkpoint records but no checkpoint "
                      "complete and valid in every plugin's changelog; newest refused: "
                      "checkpoint 1.2 (instance 000000000000000a) of task 0 is not usable in "
                      "changelog g.changelog.experience [0]: absent");
  /* records of task 1 only (it shares the partition) */
  log_open(&l);
  uint8_t r[HDR2 + 8];
  size_t n = rec2(r, 1, 0xA, 1, 0, 1, 0, 8, 0, (const uint8_t *)"12345678", 8);
  wr32(r + 32, 1);
  assert_int_equal(log_add(&l, 0, r, n), 0);
  assert_int_equal(log_restore(&l, w, NULL, &id), KS_CKPT_NONE);
  /* a checkpoint taken with 15-minute intervals, restored with 30 */
  log_open(&l);
  log_ckpt(&l, &t.c1, 3);
  ks_engine *e = engine_new(w, 30 * 60000);
  char err[1024];
  assert_int_equal(ks_ckpt_collect_restore(l.c, e, KS_LOG_ERROR, &id, err, sizeof err), KS_ECONFIG);
  assert_non_null(strstr(err, "changelog g.changelog.operations [0] offsets 0-0, task 0, "
                              "checkpoint 1.1 (instance 000000000000000a): checkpoint was taken "
                              "with 900000 ms intervals, this run uses 1800000 ms"));
  ks_engine_free(e);
  ks_ckpt_collect_free(l.c);
  two_free(&t);
}

/* ---- record framing, byte by byte ----------------------------------------- */

static uint64_t rd64(const uint8_t *p) {
  return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* CRC-32C bit by bit (reflected polynomial 0x82F63B78), independent of
 * checkpoint.c's table; its check value is pinned below. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n) {
  uint32_t c = ~0u;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++)
      c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

/* Checkpoint `ident` of `task` cut into chunks of chunk_max bytes: every
 * record's key, partition, header field and payload as checkpoint.h lays
 * them out, the chunks tiling each plugin's snapshot exactly. */
static void check_layout(ks_engine *e, int32_t task, const int32_t *parts,
                         const ks_ckpt_ident *ident, size_t chunk_max) {
  ks_ckpt_msg *m;
  size_t n, i = 0;
  assert_int_equal(ks_ckpt_build(e, parts, task, ident, chunk_max, &m, &n), 0);
  const size_t cmax = chunk_max ? chunk_max : KS_CKPT_CHUNK;
  for (size_t p = 0; p < NP; p++) {
    uint8_t *snap;
    size_t len;
    assert_int_equal(ks_engine_snapshot(e, task, p, &snap, &len), 0);
    const uint32_t chunks = len ? (uint32_t)((len + cmax - 1) / cmax) : 1;
    for (uint32_t c = 0; c < chunks; c++, i++) {
      assert_true(i < n);
      const ks_ckpt_msg *r = &m[i];
      const uint8_t *v = r->value;
      const size_t off = (size_t)c * cmax, clen = len - off < cmax ? len - off : cmax;
      char key[64];
      snprintf(key, sizeof key, "task/%d/ckpt/%d/chunk/%u", task, (int)(ident->id % 2), c);
      assert_string_equal(r->key, key);
      assert_int_equal(r->plugin, p);
      assert_int_equal(r->partition, task % parts[p]);
      assert_int_equal(r->len, HDR2 + clen);
      assert_memory_equal(v, "SKCK", 4);
      assert_int_equal(rd32(v + 4), 2);
      assert_true(rd64(v + 8) == ident->epoch);
      assert_true(rd64(v + 16) == ident->nonce);
      assert_true(rd64(v + 24) == (uint64_t)ident->id);
      assert_int_equal(rd32(v + 32), (uint32_t)task);
      assert_int_equal(rd32(v + 36), c);
      assert_int_equal(rd32(v + 40), chunks);
      assert_true(rd64(v + 44) == off);
      assert_true(rd64(v + 52) == len);
      assert_int_equal(rd32(v + 60), crc32c_bitwise(snap, len));
      if (clen)
        assert_memory_equal(v + HDR2, snap + off, clen);
    }
    free(snap);
  }
  assert_int_equal(i, n);
  ks_ckpt_msgs_free(m, n);
}

static void test_framing_layout(void **state) {
  sim_world *w = *state;
  ks_engine *e = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  assert_int_equal(ks_engine_task_open(e, 5), 0);
  sim_world_feed(e, w, 0, w->n / 2);
  uint8_t *snap;
  size_t len;
  assert_int_equal(ks_engine_snapshot(e, 0, 0, &snap, &len), 0);
  free(snap);
  assert_true(len > 300);
  const int32_t one[NP] = {1, 1}, parts[NP] = {4, 3};
  const ks_ckpt_ident odd = {5, UINT64_C(0x1122334455667788), 7}, even = {1, 2, 8};
  check_layout(e, 0, one, &odd, 0);       /* one chunk per plugin */
  check_layout(e, 0, parts, &even, 100);  /* several, the last one shorter */
  check_layout(e, 0, one, &odd, len / 3); /* plugin 0: three, or four with the remainder */
  check_layout(e, 0, one, &odd, len);     /* plugin 0: exactly one full chunk */
  check_layout(e, 5, parts, &odd, 16);    /* an empty task: partitions 1 and 2 */
  check_layout(e, 5, parts, &even, 1 << 20);
  ks_engine_free(e);
}

/* A format-2 record of task 0, one chunk holding the whole snapshot `s`. */
static int add_whole(changelog *l, int64_t id, const char *s, uint32_t crc) {
  uint8_t r[HDR2 + 64];
  size_t len = strlen(s);
  assert_true(len <= 64);
  return log_add(l, 0, r, rec2(r, 1, 0xA, id, 0, 1, 0, len, crc, (const uint8_t *)s, len));
}

/* CRC-32C: the check value of "123456789" is 0xE3069283 (and RFC 3720's
 * vectors); the collector computes the same and names it on a mismatch. */
static void test_framing_crc32c(void **state) {
  (void)state;
  uint8_t zeros[32] = {0}, ones[32], inc[32];
  memset(ones, 0xFF, sizeof ones);
  for (int i = 0; i < 32; i++)
    inc[i] = (uint8_t)i;
  assert_int_equal(crc32c_bitwise((const uint8_t *)"123456789", 9), 0xE3069283u);
  assert_int_equal(crc32c_bitwise(zeros, 32), 0x8A9136AAu);
  assert_int_equal(crc32c_bitwise(ones, 32), 0x62A8AB43u);
  assert_int_equal(crc32c_bitwise(inc, 32), 0x46DD794Eu);
  assert_int_equal(crc32c_bitwise(NULL, 0), 0);
  changelog l;
  log_open(&l);
  assert_int_equal(add_whole(&l, 1, "123456789", 0), KS_ESTATE);
  assert_string_equal(l.last_err, "changelog g.changelog.operations [0] offset 0: checkpoint 1.1 "
                                  "(instance 000000000000000a) of task 0 refused: checksum "
                                  "mismatch (CRC-32C e3069283, header says 00000000)");
  assert_int_equal(add_whole(&l, 2, "123456789", 0xE3069283u), 0);
  assert_int_equal(add_whole(&l, 3, "123456788", 0xE3069283u), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checksum mismatch"));
  assert_int_equal(l.refused, 2);
  ks_ckpt_collect_free(l.c);
}

/* The chunks of a checkpoint must tile [0, total) in index order. */
static void test_framing_tiling(void **state) {
  (void)state;
  const uint8_t *b = (const uint8_t *)"abcdefghij";
  uint8_t r[HDR2 + 16];
  changelog l;
  log_open(&l);
  /* a gap: chunk 1 starts at 5, chunk 0 ended at 4 */
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 1, 0, 2, 0, 10, 0, b, 4)), 0);
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 1, 1, 2, 5, 10, 0, b + 5, 5)), KS_ESTATE);
  assert_string_equal(l.last_err, "changelog g.changelog.operations [0] offset 1: checkpoint 1.1 "
                                  "(instance 000000000000000a) of task 0 refused: chunk 1 starts "
                                  "at byte 5, where chunk 0 ended at byte 4 (overlapping or "
                                  "missing bytes)");
  /* an overlap, chunks received out of order */
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 2, 1, 2, 3, 10, 0, b + 3, 7)), 0);
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 2, 0, 2, 0, 10, 0, b, 5)), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint 1.2 (instance 000000000000000a) of task 0 "
                                     "refused: chunk 1 starts at byte 3, where chunk 0 ended at "
                                     "byte 5 (overlapping or missing bytes)"));
  /* every chunk there, contiguous, but short of the total */
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 3, 0, 2, 0, 10, 0, b, 4)), 0);
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 3, 1, 2, 4, 10, 0, b + 4, 4)), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint 1.3 (instance 000000000000000a) of task 0 "
                                     "refused: its 2 chunks hold 8 bytes, not 10"));
  /* records of one checkpoint disagreeing on its size */
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 4, 0, 2, 0, 10, 0, b, 5)), 0);
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 4, 1, 3, 5, 10, 0, b + 5, 5)), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint 1.4 (instance 000000000000000a) of task 0 "
                                     "refused: its records disagree on its size (2 chunks, 10 "
                                     "bytes at offset 6; 3 chunks, 10 bytes here)"));
  /* (a delta's chain is checked the same way: test_delta_chains) */
  /* a chunk that does not fit: index past the count, no chunks, empty chunk */
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 5, 2, 2, 0, 10, 0, b, 5)), KS_ESTATE);
  assert_string_equal(l.last_err, "changelog g.changelog.operations [0] offset 8: checkpoint 1.5 "
                                  "(instance 000000000000000a) of task 0: chunk 2 of 2 at byte 0 "
                                  "with 5 bytes does not fit its 10-byte snapshot; record ignored");
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 5, 0, 0, 0, 10, 0, b, 5)), KS_ESTATE);
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 5, 0, 1, 0, 10, 0, b, 0)), KS_ESTATE);
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 5, 0, 1, 6, 10, 0, b, 5)), KS_ESTATE);
  /* an empty snapshot is one empty chunk (CRC-32C of nothing: 0) */
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 6, 0, 1, 0, 0, 0, b, 0)), 0);
  /* another task's record sharing the partition: not ours, no refusal */
  size_t n = rec2(r, 9, 0xA, 7, 0, 1, 0, 10, 0, b, 10);
  wr32(r + 32, 1);
  assert_int_equal(log_add(&l, 0, r, n), 0);
  assert_int_equal(ks_ckpt_collect_max_epoch(l.c), 1); /* epoch 9 was task 1's */
  /* the header's ranges: epoch 0 in format 2, id 0, id 2^62 */
  assert_int_equal(log_add(&l, 0, r, rec2(r, 0, 0xA, 8, 0, 1, 0, 10, 0, b, 10)), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint record with epoch 0, id 8 (out of range)"));
  assert_int_equal(log_add(&l, 0, r, rec2(r, 1, 0xA, 0, 0, 1, 0, 10, 0, b, 10)), KS_ESTATE);
  assert_int_equal(
      log_add(&l, 0, r, rec2(r, 1, 0xA, (int64_t)KS_CKPT_MAX_ORDINAL, 0, 1, 0, 10, 0, b, 10)),
      KS_ESTATE);
  assert_int_equal(log_add(&l, 0, r, rec2(r, KS_CKPT_MAX_ORDINAL, 0xA, 8, 0, 1, 0, 10, 0, b, 10)),
                   KS_ESTATE);
  /* the header cut one byte short */
  assert_int_equal(log_add(&l, 0, r, HDR2 - 1), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint record of 63 bytes, shorter than its 64-byte "
                                     "header; record ignored"));
  ks_ckpt_collect_free(l.c);
}

/* Format 1 (before epochs: no epoch, nonce or CRC) is still read, from its
 * own offsets. */
static void test_framing_format1(void **state) {
  (void)state;
  const uint8_t *b = (const uint8_t *)"123456789";
  uint8_t r[HDR1 + 16];
  changelog l;
  log_open(&l);
  /* id at 8, task 16, chunk 20, n_chunks 24, offset 28, total 36 */
  size_t n = rec1(r, 7, 1, 3, 4, 8, b, 9);
  assert_int_equal(log_add(&l, 0, r, n), KS_ESTATE);
  assert_string_equal(l.last_err, "changelog g.changelog.operations [0] offset 0: checkpoint 7 "
                                  "(format 1) of task 0: chunk 1 of 3 at byte 4 with 9 bytes "
                                  "does not fit its 8-byte snapshot; record ignored");
  /* no checksum to check: any bytes tile, in two chunks */
  assert_int_equal(log_add(&l, 0, r, rec1(r, 8, 1, 2, 4, 9, b + 4, 5)), 0);
  assert_int_equal(log_add(&l, 0, r, rec1(r, 8, 0, 2, 0, 9, b, 4)), 0);
  assert_int_equal(ks_ckpt_collect_max_epoch(l.c), 0);
  /* and a gap is still refused */
  assert_int_equal(log_add(&l, 0, r, rec1(r, 9, 1, 2, 5, 9, b + 5, 4)), 0);
  assert_int_equal(log_add(&l, 0, r, rec1(r, 9, 0, 2, 0, 9, b, 4)), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint 9 (format 1) of task 0 refused: chunk 1 starts "
                                     "at byte 5, where chunk 0 ended at byte 4"));
  assert_int_equal(log_add(&l, 0, r, HDR1 - 1), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint record of 43 bytes, shorter than its 44-byte "
                                     "header"));
  wr32(r + 4, 0);
  assert_int_equal(log_add(&l, 0, r, HDR1), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint record format 0; this build reads formats 1 to "
                                     "3 (written by a newer kpistream?)"));
  ks_ckpt_collect_free(l.c);
}

/* KS_CKPT_SEED_DIR=dir: the fuzzer's seeds (fuzz/fuzz_checkpoint.c framing):
 * mode byte 0 + records (u8 plugin, u32 length, value), mode byte 1 +
 * plugin byte + a raw snapshot. */
static void write_seed(const char *dir, const char *name, const uint8_t *b, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
}

/* ---- incremental checkpoints: chains of a full snapshot and deltas -------- */

#define N_CHAIN 7

/* Checkpoints 1..N_CHAIN of task 0 as the runner takes them (full every 4,
 * any share of changes): the records, and the snapshots each stands for. */
typedef struct chain_run {
  ckpt c[N_CHAIN];
  int full[N_CHAIN];
  ks_ckpt_ident id[N_CHAIN];
} chain_run;

static void chain_take(sim_world *w, chain_run *cr) {
  ks_engine *e = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  const int32_t parts[NP] = {1, 1};
  const ks_ckpt_policy pol = {4, 1.0};
  ks_ckpt_chain chain = {0};
  ks_ckpt_ident next = {1, 0xA, 0};
  for (int k = 0; k < N_CHAIN; k++) {
    sim_world_feed(e, w, (size_t)k * w->n / N_CHAIN, (size_t)(k + 1) * w->n / N_CHAIN);
    next.id++;
    ckpt *c = &cr->c[k];
    assert_int_equal(
        ks_ckpt_build_next(e, parts, 0, &pol, &chain, &next, 0, &c->m, &c->n, &cr->full[k]), 0);
    assert_int_equal(c->n, NP);
    cr->id[k] = next;
    for (size_t p = 0; p < NP; p++)
      assert_int_equal(ks_engine_snapshot(e, 0, p, &c->snap[p], &c->len[p]), 0);
  }
  /* a task closed and opened again (a reload, a restore) has no baseline:
   * the next one is full whatever the chain says */
  ks_engine_task_close(e, 0);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  ckpt extra;
  int full = 0;
  next.id++;
  assert_int_equal(
      ks_ckpt_build_next(e, parts, 0, &pol, &chain, &next, 0, &extra.m, &extra.n, &full), 0);
  assert_true(full);
  ks_ckpt_msgs_free(extra.m, extra.n);
  ks_engine_free(e);
}

static void chain_free(chain_run *cr) {
  for (int k = 0; k < N_CHAIN; k++)
    ckpt_free(&cr->c[k]);
}

/* Every record of checkpoints from..to-1 (skip: one plugin's records of
 * checkpoint `skip_k` left out, as if lost). */
static void chain_log(changelog *l, const chain_run *cr, int from, int to, int skip_k,
                      size_t skip_plugin) {
  for (int k = from; k < to; k++)
    for (size_t i = 0; i < cr->c[k].n; i++)
      if (!(k == skip_k && cr->c[k].m[i].plugin == skip_plugin))
        assert_int_equal(log_add(l, cr->c[k].m[i].plugin, cr->c[k].m[i].value, cr->c[k].m[i].len),
                         0);
}

static void test_delta_chains(void **state) {
  sim_world *w = *state;
  chain_run cr;
  chain_take(w, &cr);
  /* 1 full, 2-4 deltas, then a full in the other slot (its id made even:
   * 5 would share the first chain's slot), then deltas of it */
  const int full[N_CHAIN] = {1, 0, 0, 0, 1, 0, 0};
  const int64_t ids[N_CHAIN] = {1, 2, 3, 4, 6, 7, 8};
  const char *const keys[N_CHAIN] = {
      "task/0/ckpt/1/chunk/0",         "task/0/ckpt/1/delta/1/chunk/0",
      "task/0/ckpt/1/delta/2/chunk/0", "task/0/ckpt/1/delta/3/chunk/0",
      "task/0/ckpt/0/chunk/0",         "task/0/ckpt/0/delta/1/chunk/0",
      "task/0/ckpt/0/delta/2/chunk/0"};
  size_t full_bytes = 0, delta_bytes = 0;
  for (int k = 0; k < N_CHAIN; k++) {
    assert_int_equal(cr.full[k], full[k]);
    assert_int_equal(cr.id[k].id, ids[k]);
    assert_string_equal(cr.c[k].m[0].key, keys[k]);
    const uint8_t *v = cr.c[k].m[0].value;
    assert_int_equal(rd32(v + 4), full[k] ? 2 : 3); /* format */
    if (!full[k]) {                                 /* place, base id, previous id */
      const int base = k < 4 ? 0 : 4;
      assert_int_equal(rd32(v + 64), (uint32_t)(k - base));
      assert_int_equal(rd32(v + 84), (uint32_t)ids[base]);
      assert_int_equal(rd32(v + 108), (uint32_t)ids[k - 1]);
    }
    for (size_t i = 0; i < cr.c[k].n; i++)
      *(full[k] ? &full_bytes : &delta_bytes) += cr.c[k].m[i].len;
  }
  print_message("chain: %zu bytes in 2 full snapshots, %zu in 5 deltas\n", full_bytes, delta_bytes);
  changelog l;
  ks_ckpt_ident id;
  ks_ckpt_chain chain;
  /* everything: the newest delta of the second chain */
  log_open(&l);
  chain_log(&l, &cr, 0, N_CHAIN, -1, 0);
  ks_engine *e = engine_new(w, 15 * 60000);
  char err[1024];
  assert_int_equal(ks_ckpt_collect_restore(l.c, e, KS_LOG_ERROR, &id, err, sizeof err),
                   KS_CKPT_RESTORED);
  ks_ckpt_collect_chain(l.c, &chain);
  assert_int_equal(id.id, 8);
  assert_int_equal(chain.base.id, 6);
  assert_int_equal(chain.deltas, 2);
  ks_engine_free(e);
  ks_ckpt_collect_free(l.c);
  log_open(&l);
  chain_log(&l, &cr, 0, N_CHAIN, -1, 0);
  assert_int_equal(log_restore(&l, w, &cr.c[6], &id), KS_CKPT_RESTORED);
  /* the second delta lost in one plugin's changelog: the first chain up to
   * the delta before it, never the later ones (which follow it) */
  log_open(&l);
  chain_log(&l, &cr, 0, 4, 2, 1);
  assert_int_equal(log_restore(&l, w, &cr.c[1], &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 2);
  /* the third delta damaged (a flipped byte: its checksum): the second */
  log_open(&l);
  chain_log(&l, &cr, 0, 3, -1, 0);
  uint8_t *bad = malloc(cr.c[3].m[0].len);
  assert_non_null(bad);
  memcpy(bad, cr.c[3].m[0].value, cr.c[3].m[0].len);
  bad[cr.c[3].m[0].len - 1] ^= 1;
  assert_int_equal(log_add(&l, 0, bad, cr.c[3].m[0].len), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "checkpoint 1.4 (instance 000000000000000a) of task 0 "
                                     "refused: checksum mismatch"));
  assert_int_equal(log_add(&l, 1, cr.c[3].m[1].value, cr.c[3].m[1].len), 0);
  assert_int_equal(log_restore(&l, w, &cr.c[2], &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 3);
  free(bad);
  /* the deltas of a chain whose full snapshot is gone: nothing usable */
  log_open(&l);
  chain_log(&l, &cr, 1, 4, -1, 0);
  assert_int_equal(log_restore(&l, w, NULL, &id), KS_CKPT_UNUSABLE);
  assert_string_equal(l.last_err, "changelog of task 0 holds 6 checkpoint records but no "
                                  "checkpoint complete and valid in every plugin's changelog (6 "
                                  "delta records without their full snapshot)");
  /* the second chain's full snapshot lost in one plugin: the first chain
   * whole (the compacted changelog's fallback) */
  log_open(&l);
  chain_log(&l, &cr, 0, N_CHAIN, 4, 0);
  assert_int_equal(log_restore(&l, w, &cr.c[3], &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 4);
  /* a delta claiming another place (the second chain's first delta said to
   * follow the first chain's last one; its checksum covers only its
   * payload): it does not fit that state, so it is refused as applied, and
   * the first chain's last checkpoint is restored */
  log_open(&l);
  chain_log(&l, &cr, 0, 4, -1, 0);
  for (size_t i = 0; i < cr.c[5].n; i++) {
    uint8_t *forged = malloc(cr.c[5].m[i].len);
    assert_non_null(forged);
    memcpy(forged, cr.c[5].m[i].value, cr.c[5].m[i].len);
    wr64(forged + 24, 5);  /* id 5 */
    wr32(forged + 64, 4);  /* place 4 */
    wr64(forged + 84, 1);  /* base: checkpoint 1 */
    wr64(forged + 108, 4); /* after checkpoint 4 */
    assert_int_equal(log_add(&l, cr.c[5].m[i].plugin, forged, cr.c[5].m[i].len), 0);
    free(forged);
  }
  assert_int_equal(log_restore(&l, w, &cr.c[3], &id), KS_CKPT_RESTORED);
  assert_int_equal(id.id, 4);
  /* a delta record whose chain fields are inconsistent is refused as read */
  log_open(&l);
  uint8_t *odd = malloc(cr.c[1].m[0].len);
  assert_non_null(odd);
  memcpy(odd, cr.c[1].m[0].value, cr.c[1].m[0].len);
  wr32(odd + 64, 2); /* place 2, yet right after its base */
  assert_int_equal(log_add(&l, 0, odd, cr.c[1].m[0].len), KS_ESTATE);
  assert_non_null(strstr(l.last_err, "offset 0: checkpoint delta record with id 2, place 2, base "
                                     "id 1, previous id 1 (out of range); record ignored"));
  free(odd);
  ks_ckpt_collect_free(l.c);
  chain_free(&cr);
}

/* checkpoint.full_every 1 (every checkpoint whole) and full_ratio 0 (whole
 * as soon as anything changed) write no delta; a task with no change since
 * its last checkpoint writes an empty delta even at full_ratio 0. */
static void test_delta_policy(void **state) {
  sim_world *w = *state;
  ks_engine *e = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  const int32_t parts[NP] = {1, 1};
  const ks_ckpt_policy every1 = {1, 1.0}, ratio0 = {10, 0.0};
  ks_ckpt_chain chain = {0};
  ks_ckpt_ident next = {1, 0xA, 0};
  size_t changed = 0;
  for (int k = 0; k < 6; k++) {
    sim_world_feed(e, w, (size_t)k * w->n / 6, (size_t)(k + 1) * w->n / 6);
    size_t changes, records;
    assert_int_equal(ks_engine_task_changes(e, 0, &changes, &records), 0);
    changed += k >= 3 && changes > 0;
    ks_ckpt_msg *m;
    size_t n;
    int full = 0;
    next.id++;
    assert_int_equal(
        ks_ckpt_build_next(e, parts, 0, k < 3 ? &every1 : &ratio0, &chain, &next, 0, &m, &n, &full),
        0);
    assert_int_equal(full, k < 3 || changes > 0);
    ks_ckpt_msgs_free(m, n);
  }
  assert_int_equal(changed, 3);
  ks_ckpt_msg *m;
  size_t n;
  int full = 1;
  next.id++;
  assert_int_equal(ks_ckpt_build_next(e, parts, 0, &ratio0, &chain, &next, 0, &m, &n, &full), 0);
  assert_false(full); /* nothing changed */
  ks_ckpt_msgs_free(m, n);
  ks_engine_free(e);
}

static void test_write_seeds(void **state) {
  const char *dir = getenv("KS_CKPT_SEED_DIR");
  if (dir == NULL)
    skip();
  sim_world *w = *state;
  ks_engine *a = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_task_open(a, 0), 0);
  sim_world_feed(a, w, 0, 120); /* small: seeds of a few KiB */
  ckpt c1, c2;
  ckpt_take(a, &c1, 1, 0xA, 1);
  sim_world_feed(a, w, 120, 160);
  ckpt_take(a, &c2, 2, 0xB, 2);
  ks_engine_free(a);
  uint8_t *buf = malloc(1 << 20);
  assert_non_null(buf);
  const ckpt *cs[2] = {&c1, &c2};
  size_t n = 0;
  buf[n++] = 0;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < cs[k]->n; i++) {
      buf[n++] = (uint8_t)cs[k]->m[i].plugin;
      wr32(buf + n, (uint32_t)cs[k]->m[i].len);
      memcpy(buf + n + 4, cs[k]->m[i].value, cs[k]->m[i].len);
      n += 4 + cs[k]->m[i].len;
    }
  write_seed(dir, "two_checkpoints", buf, n);
  n = 0;
  buf[n++] = 0;
  for (size_t p = 0; p < NP; p++) { /* format 1: no checksum between fuzzer and snapshot */
    buf[n++] = (uint8_t)p;
    size_t rl = rec1(buf + n + 4, 1, 0, 1, 0, c1.len[p], c1.snap[p], c1.len[p]);
    wr32(buf + n, (uint32_t)rl);
    n += 4 + rl;
  }
  write_seed(dir, "format1", buf, n);
  /* a chain: a full snapshot and two deltas (format 3) */
  ks_engine *d = engine_new(w, 15 * 60000);
  assert_int_equal(ks_engine_task_open(d, 0), 0);
  const int32_t one[NP] = {1, 1};
  const ks_ckpt_policy pol = {10, 1.0};
  ks_ckpt_chain chain = {0};
  ks_ckpt_ident next = {1, 0xA, 0};
  n = 0;
  buf[n++] = 0;
  uint8_t *delta = NULL;
  size_t delta_len = 0;
  for (int k = 0; k < 3; k++) {
    sim_world_feed(d, w, (size_t)k * 40 + (w->n / 2), (size_t)(k + 1) * 40 + (w->n / 2));
    if (k == 2)
      assert_int_equal(ks_engine_delta(d, 0, 0, &delta, &delta_len), 0);
    ks_ckpt_msg *m;
    size_t nm;
    int full;
    next.id++;
    assert_int_equal(ks_ckpt_build_next(d, one, 0, &pol, &chain, &next, 0, &m, &nm, &full), 0);
    for (size_t i = 0; i < nm; i++) {
      assert_true(n + 5 + m[i].len < (1u << 20));
      buf[n++] = (uint8_t)m[i].plugin;
      wr32(buf + n, (uint32_t)m[i].len);
      memcpy(buf + n + 4, m[i].value, m[i].len);
      n += 4 + m[i].len;
    }
    ks_ckpt_msgs_free(m, nm);
  }
  ks_engine_free(d);
  write_seed(dir, "delta_chain", buf, n);
  buf[0] = 1;
  buf[1] = 0x80; /* a raw delta of the operations plugin */
  assert_true(delta_len + 2 < (1u << 20));
  memcpy(buf + 2, delta, delta_len);
  write_seed(dir, "delta_operations", buf, 2 + delta_len);
  free(delta);
  for (size_t p = 0; p < NP; p++) {
    buf[0] = 1;
    buf[1] = (uint8_t)p;
    memcpy(buf + 2, c2.snap[p], c2.len[p]);
    write_seed(dir, p ? "snapshot_experience" : "snapshot_operations", buf, 2 + c2.len[p]);
  }
  free(buf);
  ckpt_free(&c1);
  ckpt_free(&c2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_wraparound_offset),
      cmocka_unit_test(test_chunk_damage),   cmocka_unit_test(test_snapshot_counts),
      cmocka_unit_test(test_identity_reuse), cmocka_unit_test(test_fallbacks),
      cmocka_unit_test(test_small_chunks),   cmocka_unit_test(test_write_seeds),
      cmocka_unit_test(test_framing_layout), cmocka_unit_test(test_framing_crc32c),
      cmocka_unit_test(test_framing_tiling), cmocka_unit_test(test_framing_format1),
      cmocka_unit_test(test_delta_chains),   cmocka_unit_test(test_delta_policy),
  };
  return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
