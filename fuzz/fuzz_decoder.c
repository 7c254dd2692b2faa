/*
 * libFuzzer target: arbitrary bytes through the decoder and, when they
 * decode, through the engine with the operations plugin loaded, as one
 * message of a task — the path every Kafka message takes. Any crash, leak,
 * sanitizer report or hang is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"
#include "decoder.h"
#include "engine.h"
#include "fuzz_engine.h"

/* The engine lives for the whole fuzzing run: libFuzzer's harness has no
 * other place to keep it, and loading the plugin once matters because
 * libFuzzer cannot cope with instrumented code being dlclose()d. */
static ks_engine *engine;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  static const char *const topics[] = {"events.voice"};
  ks_engine_options o = {0};
  o.topics = topics;
  o.n_topics = 1;
  o.sink = ks_fuzz_drop_sink;
  o.log_level = KS_LOG_ERROR - 1; /* quiet */
  char err[256];
  if (ks_engine_new(&engine, &o, err, sizeof err) != 0 ||
      ks_engine_add_plugin(engine, KS_FUZZ_PLUGIN_DIR "/kpi_operations.so", NULL, NULL, 0, err,
                           sizeof err) != 0)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ks_arena arena;
  if (ks_arena_init(&arena, 0) != 0)
    return 0;
  char reason[128];
  ks_decode_event(&arena, data, size, reason, sizeof reason);
  ks_arena_free(&arena);

  /* The same bytes twice through a fresh task (the second time, its state
   * exists), then every interval closed. */
  if (ks_engine_task_open(engine, 0) != 0)
    abort();
  ks_engine_process(engine, 0, 0, 0, data, size, reason, sizeof reason);
  ks_engine_process(engine, 0, 0, 1, data, size, reason, sizeof reason);
  ks_engine_flush_all(engine);
  ks_engine_task_close(engine, 0);
  return 0;
}
