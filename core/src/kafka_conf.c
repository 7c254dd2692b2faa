#include "kafka_conf.h"

#include <stdio.h>

#include "kpistream/plugin.h"

int ks_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size) {
  char why[512];
  if (rd_kafka_conf_set(conf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
    snprintf(errstr, errstr_size, "kafka property '%s' = '%s': %s", key, value, why);
    return KS_ECONFIG;
  }
  return 0;
}

rd_kafka_conf_t *ks_kafka_conf_build(const ks_kv *const *lists, const size_t *counts,
                                     size_t n_lists, char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  for (size_t l = 0; l < n_lists; l++)
    for (size_t i = 0; i < counts[l]; i++)
      if (ks_kafka_conf_set(conf, lists[l][i].key, lists[l][i].value, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
      }
  return conf;
}
