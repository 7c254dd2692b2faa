#include "kafka_conf.h"

#include <inttypes.h>
#include <stdio.h>
#include <uv.h>

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

rd_kafka_conf_t *ks_kafka_conf_build_cli(const ks_kv *const *lists, const size_t *counts,
                                         size_t n_lists, const char *const *props, size_t n_props,
                                         char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = ks_kafka_conf_build(lists, counts, n_lists, errstr, errstr_size);
  for (size_t i = 0; conf && i < n_props; i++) {
    const char *eq = strchr(props[i], '=');
    char key[256];
    if (eq == NULL || eq == props[i] || (size_t)(eq - props[i]) >= sizeof key) {
      snprintf(errstr, errstr_size, "kafka property '%s': expected KEY=VALUE", props[i]);
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
    snprintf(key, sizeof key, "%.*s", (int)(eq - props[i]), props[i]);
    if (ks_kafka_conf_set(conf, key, eq + 1, errstr, errstr_size) != 0) {
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
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
static void log_with(int settings, const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf) {
  ks_log(KS_LOG_DEBUG | settings, level > KS_LOG_DEBUG ? KS_LOG_DEBUG : level, "kafka", "%s %s: %s",
         rd_kafka_name(rk), fac, buf);
}

/* librdkafka's log callback has no opaque of its own: one callback per
 * format. */
static void log_cb_text(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  log_with(0, rk, level, fac, buf);
}

static void log_cb_json(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  log_with(KS_LOG_JSON, rk, level, fac, buf);
}

void ks_kafka_conf_route_logs(rd_kafka_conf_t *conf, int level) {
  char lv[4];
  snprintf(lv, sizeof lv, "%d", level & KS_LOG_LEVEL_MASK);
  rd_kafka_conf_set(conf, "log_level", lv, NULL, 0);
  rd_kafka_conf_set_log_cb(conf, (level & KS_LOG_JSON) ? log_cb_json : log_cb_text);
}

/* ---- broker reachability ---------------------------------------------------- */

static uint64_t now_ms(void) {
  return uv_hrtime() / 1000000u;
}

void ks_broker_watch_init(ks_broker_watch *w, const char *client, int log_level) {
  *w = (ks_broker_watch){.client = client, .log_level = log_level};
}

void ks_broker_watch_error(ks_broker_watch *w, int err, const char *reason) {
  uint64_t now = now_ms();
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    ks_log(w->log_level, KS_LOG_ERROR, "kafka", "%s: fatal error: %s", w->client, reason);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !w->down) {
    w->down = 1;
    w->down_since_ms = w->last_said_ms = now;
    w->quiet = 0;
    ks_log(w->log_level, KS_LOG_ERROR, "kafka",
           "%s: every broker is unreachable (%s); retrying: nothing is delivered or committed "
           "until one is back",
           w->client, reason);
    return;
  }
  if (now - w->last_said_ms < KS_BROKER_DOWN_REPEAT_MS) {
    w->quiet++;
    return;
  }
  char more[48] = "";
  if (w->quiet)
    snprintf(more, sizeof more, " (and %" PRIu64 " errors not shown)", w->quiet);
  if (w->down)
    ks_log(w->log_level, KS_LOG_ERROR, "kafka",
           "%s: brokers still unreachable after %" PRIu64 " s: %s%s; retrying", w->client,
           (now - w->down_since_ms) / 1000, reason, more);
  else
    ks_log(w->log_level, KS_LOG_WARN, "kafka", "%s: %s%s", w->client, reason, more);
  w->last_said_ms = now;
  w->quiet = 0;
}

void ks_broker_watch_up(ks_broker_watch *w) {
  if (!w->down)
    return;
  ks_log(w->log_level, KS_LOG_INFO, "kafka", "%s: brokers reachable again after %" PRIu64 " s",
         w->client, (now_ms() - w->down_since_ms) / 1000);
  w->down = 0;
}

uint64_t ks_broker_watch_down_ms(const ks_broker_watch *w) {
  return w->down ? now_ms() - w->down_since_ms : 0;
}
