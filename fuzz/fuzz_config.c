/*
 * libFuzzer target: arbitrary text through the YAML configuration parser.
 * It must either load or refuse with an error message; never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ks_config cfg;
  char err[512];
  err[0] = '\0';
  if (ks_config_load_string(&cfg, (const char *)data, size, "fuzz.yaml", err, sizeof err) == 0)
    ks_config_free(&cfg);
  else if (err[0] == '\0')
    __builtin_trap(); /* a refusal must say why */
  return 0;
}
