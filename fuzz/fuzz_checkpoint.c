/*
 * libFuzzer target: changelog records through checkpoint reassembly and
 * selection (checkpoint.c) into a restore (snapshot.c) with the operations
 * and experience plugins loaded, then every restored interval closed (the
 * plugins run on what they wrote, or on any bytes: format-1 records and the
 * raw modes carry no checksum). Any
 * crash, leak, sanitizer report or hang is a bug; a refusal must say why.
 *
 * Input framing (the seeds in fuzz/corpus/checkpoint/ are written by
 * KS_CKPT_SEED_DIR=... tests/test_checkpoint from real checkpoints):
 *   byte 0 even: records, each u8 plugin, u32 length (little-endian), value;
 *   byte 0 odd:  byte 1 picks the plugin (bit 7 clear) and the rest is one
 *                raw snapshot given to ks_engine_restore() (format-2 records
 *                carry a checksum, so this reaches the snapshot parser with
 *                any bytes); with bit 7 set, the rest is a raw delta given
 *                to ks_engine_restore_delta() on an empty task (the delta
 *                parser and every ks_store_apply() refusal).
 * Records may be format 3 (deltas): chains of a full snapshot and deltas are
 * assembled, linked and replayed as a restore does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "engine.h"
#include "fuzz_engine.h"
#include "sim_model.h"

#define NP 2

/* The engine lives for the whole fuzzing run (see fuzz_decoder.c: plugins
 * are loaded once; libFuzzer cannot cope with instrumented code being
 * dlclose()d). */
static ks_engine *engine;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  static const char *topics[KS_SIM_NTOPICS];
  for (int t = 0; t < KS_SIM_NTOPICS; t++)
    topics[t] = ks_sim_topic_name((ks_sim_topic)t);
  ks_engine_options o = {0};
  o.interval_ms = 15 * 60000; /* as the seeds were taken */
  o.lateness_ms = 60000;
  o.topics = topics;
  o.n_topics = KS_SIM_NTOPICS;
  o.sink = ks_fuzz_drop_sink;
  o.log_level = KS_LOG_ERROR - 1; /* quiet */
  char err[256];
  if (ks_engine_new(&engine, &o, err, sizeof err) != 0 ||
      ks_engine_add_plugin(engine, KS_FUZZ_PLUGIN_DIR "/kpi_operations.so", NULL, NULL, 0, err,
                           sizeof err) != 0 ||
      ks_engine_add_plugin(engine, KS_FUZZ_PLUGIN_DIR "/kpi_experience.so", NULL, NULL, 0, err,
                           sizeof err) != 0)
    abort();
  return 0;
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  char err[1024];
  err[0] = '\0';
  int restored = 0;
  if (data[0] & 1) {
    int rc;
    if (data[1] & 0x80) {
      if (ks_engine_task_open(engine, 0) != 0)
        abort();
      rc = ks_engine_restore_delta(engine, 0, data[1] % NP, data + 2, size - 2, err, sizeof err);
    } else {
      rc = ks_engine_restore(engine, 0, data[1] % NP, data + 2, size - 2, err, sizeof err);
    }
    if (rc != 0 && err[0] == '\0')
      __builtin_trap(); /* a refusal must say why */
    /* Closed too: the raw modes skip the checksum, so the records hold any
     * bytes, as a format-1 changelog record (no checksum) may; a plugin's
     * arithmetic on garbage counters must not overflow (kpistream/sdk.h's
     * ks_add_i64, the regress_overflow_* seeds). */
    restored = rc == 0;
  } else {
    static char t0[] = "fuzz.changelog.operations", t1[] = "fuzz.changelog.experience";
    static char *const topics[NP] = {t0, t1};
    static const int32_t parts[NP] = {0, 0};
    ks_ckpt_collect *c = ks_ckpt_collect_new(NP, topics, parts, 0);
    if (c == NULL)
      abort();
    size_t at = 1;
    int64_t offset[NP] = {0, 0};
    while (size - at >= 5) {
      size_t plugin = data[at] % NP;
      size_t len = rd32(data + at + 1);
      at += 5;
      if (len > size - at)
        len = size - at;
      err[0] = '\0';
      int rc = ks_ckpt_collect_add(c, plugin, offset[plugin]++, data + at, len, err, sizeof err);
      if (rc == KS_ESTATE && err[0] == '\0')
        __builtin_trap();
      at += len;
    }
    ks_ckpt_ident id;
    err[0] = '\0';
    int rc = ks_ckpt_collect_restore(c, engine, KS_LOG_ERROR - 1, &id, err, sizeof err);
    if ((rc < 0 || rc == KS_CKPT_UNUSABLE) && err[0] == '\0')
      __builtin_trap();
    restored = rc == KS_CKPT_RESTORED; /* any format: 1 has no checksum */
    ks_ckpt_collect_free(c);
  }
  if (restored)
    ks_engine_flush_all(engine); /* every restored interval closed */
  ks_engine_task_close(engine, 0);
  return 0;
}
