#include "kafka_conf.h"

#include <stdio.h>

#include "kpistream/plugin.h"
#include "log.h"

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

int ks_kafka_conf_try(rd_kafka_type_t type, const rd_kafka_conf_t *conf, char *errstr,
                      size_t errstr_size) {
  rd_kafka_conf_t *copy = rd_kafka_conf_dup(conf);
  char why[512];
  if (rd_kafka_conf_set(copy, "bootstrap.servers", "", why, sizeof why) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(copy);
    snprintf(errstr, errstr_size, "kafka: %s", why);
    return KS_ECONFIG;
  }
  rd_kafka_conf_set(copy, "log_level", "0", NULL, 0); /* no brokers: nothing worth saying */
  rd_kafka_t *rk = rd_kafka_new(type, copy, why, sizeof why);
  if (rk == NULL) {
    rd_kafka_conf_destroy(copy);
    snprintf(errstr, errstr_size, "kafka %s: %s",
             type == RD_KAFKA_CONSUMER ? "consumer" : "producer", why);
    return KS_ECONFIG;
  }
  rd_kafka_destroy(rk);
  return 0;
}

/* Called on librdkafka's threads: ks_log formats into a stack buffer and
 * writes one line, which is safe from any thread. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  ks_log(KS_LOG_DEBUG, level > KS_LOG_DEBUG ? KS_LOG_DEBUG : level, "kafka", "%s %s: %s",
         rd_kafka_name(rk), fac, buf);
}

void ks_kafka_conf_route_logs(rd_kafka_conf_t *conf, int level) {
  char lv[4];
  snprintf(lv, sizeof lv, "%d", level);
  rd_kafka_conf_set(conf, "log_level", lv, NULL, 0);
  rd_kafka_conf_set_log_cb(conf, log_cb);
}
