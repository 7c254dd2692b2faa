/*
 * fuzz_engine — what the libFuzzer targets that drive an engine share: the
 * entry points libFuzzer calls and a result sink that drops everything.
 */
#ifndef KS_FUZZ_ENGINE_H
#define KS_FUZZ_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int ks_fuzz_drop_sink(void *ud, const char *topic, const void *key, size_t keylen,
                                    const void *value, size_t valuelen, const ks_result *r) {
  (void)ud, (void)topic, (void)key, (void)keylen, (void)value, (void)valuelen, (void)r;
  return 0;
}

#endif
