#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "duration.h"
#include "http_server.h"
#include "log.h"
#include "result_format.h"
#include "str.h"

typedef struct parse_ctx {
  yaml_document_t *doc;
  const char *name;
  char *errstr;
  size_t errsize;
} parse_ctx;

static int fail(parse_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(parse_ctx *c, const yaml_node_t *n, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n)
    snprintf(c->errstr, c->errsize, "%s:%zu:%zu: %s", c->name, n->start_mark.line + 1,
             n->start_mark.column + 1, msg);
  else
    snprintf(c->errstr, c->errsize, "%s: %s", c->name, msg);
  return KS_ECONFIG;
}

void ks_config_init(ks_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->interval_ms = 15 * 60 * 1000;
  cfg->lateness_ms = 30 * 1000;
  cfg->grace_ms = 0;
  cfg->idle_timeout_ms = 30 * 1000;
  cfg->restate_ms = 60 * 60 * 1000;
  cfg->max_future_skew_ms = 60 * 60 * 1000;
  cfg->checkpoint_interval_ms = 5000;
  cfg->threads = 1;
  cfg->checkpoint_enabled = 1;
  cfg->checkpoint_full_every = 10;
  cfg->checkpoint_full_ratio = 0.5;
  cfg->commit_interval_ms = 1000;
  cfg->log_level = KS_LOG_INFO;
  cfg->stats_interval_ms = 60 * 1000;
  cfg->shutdown_timeout_ms = 10000;
}

static void kv_free(ks_kv *kv, char **where, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free((char *)kv[i].key);
    free((char *)kv[i].value);
    if (where)
      free(where[i]);
  }
  free(kv);
  free(where);
}

void ks_config_free(ks_config *cfg) {
  free(cfg->source);
  kv_free(cfg->kafka, cfg->kafka_where, cfg->n_kafka);
  kv_free(cfg->consumer, cfg->consumer_where, cfg->n_consumer);
  kv_free(cfg->producer, cfg->producer_where, cfg->n_producer);
  for (size_t i = 0; i < cfg->n_topics; i++)
    free(cfg->topics[i]);
  free(cfg->topics);
  free(cfg->dead_letter_topic);
  free(cfg->plugin_dir);
  free(cfg->http_listen);
  free(cfg->checkpoint_prefix);
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    ks_config_plugin *p = &cfg->plugins[i];
    free(p->name);
    free(p->instance);
    free(p->path);
    free(p->topic);
    free(p->where);
    kv_free(p->options, p->option_where, p->n_options);
  }
  free(cfg->plugins);
  for (size_t i = 0; i < cfg->n_output_topics; i++)
    free(cfg->output_topics[i].topic);
  free(cfg->output_topics);
  ks_config_init(cfg);
}

/* Set key in (kv, where): a later value replaces an earlier one (command-line
 * overrides; the file itself may not repeat a key). w: where the value comes
 * from ("file:line:col"), NULL for the command line. */
static int kv_set(ks_kv **kv, char ***where, size_t *n, const char *key, const char *value,
                  const char *w) {
  char *v = ks_strdup(value), *wc = w ? ks_strdup(w) : NULL;
  if (v == NULL || (w && wc == NULL)) {
    free(v);
    free(wc);
    return KS_ENOMEM;
  }
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*kv)[i].key, key) == 0) {
      free((char *)(*kv)[i].value);
      free((*where)[i]);
      (*kv)[i].value = v;
      (*where)[i] = wc;
      return 0;
    }
  ks_kv *nk = realloc(*kv, (*n + 1) * sizeof *nk);
  if (nk)
    *kv = nk;
  char **nw = nk ? realloc(*where, (*n + 1) * sizeof *nw) : NULL;
  if (nw)
    *where = nw;
  char *k = ks_strdup(key);
  if (nk == NULL || nw == NULL || k == NULL) {
    free(k);
    free(v);
    free(wc);
    return KS_ENOMEM;
  }
  nk[*n].key = k;
  nk[*n].value = v;
  nw[*n] = wc;
  (*n)++;
  return 0;
}

int ks_config_set_kafka(ks_config *cfg, const char *key, const char *value) {
  return kv_set(&cfg->kafka, &cfg->kafka_where, &cfg->n_kafka, key, value, NULL);
}

int ks_config_set_consumer(ks_config *cfg, const char *key, const char *value) {
  return kv_set(&cfg->consumer, &cfg->consumer_where, &cfg->n_consumer, key, value, NULL);
}

static const char *where_in(const ks_kv *kv, char *const *where, size_t n, const ks_kv *e) {
  for (size_t i = 0; i < n; i++)
    if (&kv[i] == e)
      return where[i];
  return NULL;
}

const char *ks_config_where(const ks_config *cfg, const ks_kv *entry) {
  const char *w = NULL;
  if (entry == NULL)
    return NULL;
  if ((w = where_in(cfg->kafka, cfg->kafka_where, cfg->n_kafka, entry)) ||
      (w = where_in(cfg->consumer, cfg->consumer_where, cfg->n_consumer, entry)) ||
      (w = where_in(cfg->producer, cfg->producer_where, cfg->n_producer, entry)))
    return w;
  for (size_t i = 0; i < cfg->n_plugins; i++)
    if ((w = where_in(cfg->plugins[i].options, cfg->plugins[i].option_where,
                      cfg->plugins[i].n_options, entry)))
      return w;
  return NULL;
}

const char *ks_config_kafka_get(const ks_config *cfg, const char *key) {
  for (size_t i = 0; i < cfg->n_kafka; i++)
    if (strcmp(cfg->kafka[i].key, key) == 0)
      return cfg->kafka[i].value;
  return NULL;
}

const char *ks_config_plugin_instance(const ks_config_plugin *p) {
  return p->instance ? p->instance : p->name;
}

void ks_config_plugin_path(const ks_config *cfg, const ks_config_plugin *p, char *buf,
                           size_t size) {
  char def[300];
  const char *path = p->path;
  if (path == NULL) {
    snprintf(def, sizeof def, "kpi_%s.so", p->name);
    path = def;
  }
  if (path[0] == '/' || cfg->plugin_dir == NULL)
    snprintf(buf, size, "%s", path);
  else
    snprintf(buf, size, "%s/%s", cfg->plugin_dir, path);
}

/* ---- node helpers ------------------------------------------------------- */

static const char *scalar(parse_ctx *c, yaml_node_t *n, const char *key) {
  if (n == NULL || n->type != YAML_SCALAR_NODE) {
    fail(c, n, "'%s' must be a single value", key);
    return NULL;
  }
  return (const char *)n->data.scalar.value;
}

/* "file:line:col" of a node, into buf. */
static const char *where(parse_ctx *c, const yaml_node_t *n, char *buf, size_t size) {
  snprintf(buf, size, "%s:%zu:%zu", c->name, n->start_mark.line + 1, n->start_mark.column + 1);
  return buf;
}

static yaml_node_t *node(parse_ctx *c, int id) {
  return yaml_document_get_node(c->doc, id);
}

static int set_str(parse_ctx *c, yaml_node_t *v, const char *key, char **out) {
  const char *s = scalar(c, v, key);
  if (s == NULL)
    return KS_ECONFIG;
  if (s[0] == '\0')
    return fail(c, v, "'%s' must not be empty", key);
  free(*out);
  *out = ks_strdup(s);
  return *out ? 0 : KS_ENOMEM;
}

static int set_duration(parse_ctx *c, yaml_node_t *v, const char *key, int64_t *out) {
  const char *s = scalar(c, v, key);
  if (s == NULL)
    return KS_ECONFIG;
  if (ks_parse_duration_ms(s, out) != 0)
    return fail(c, v,
                "'%s': '%s' is not a duration (e.g. 500ms, 30s, 15m, 1h; not negative, at "
                "least 1ms unless 0)",
                key, s);
  return 0;
}

static int check_unique(parse_ctx *c, yaml_node_t *m, const char *section);

/* Flat map of scalars into kv (librdkafka properties, plugin options),
 * remembering where each value is. */
static int load_kv_map(parse_ctx *c, yaml_node_t *m, const char *section, ks_kv **kv,
                       char ***where_of, size_t *n, const char *const *skip) {
  if (m->type != YAML_MAPPING_NODE)
    return fail(c, m, "'%s' must be a mapping of key: value", section);
  int rc = check_unique(c, m, section);
  if (rc)
    return rc;
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
    const char *ks = scalar(c, k, section);
    if (ks == NULL)
      return KS_ECONFIG;
    int skipped = 0;
    for (const char *const *s = skip; s && *s; s++)
      skipped |= strcmp(*s, ks) == 0;
    if (skipped)
      continue;
    if (v->type != YAML_SCALAR_NODE)
      return fail(c, v, "'%s.%s' must be a single value", section, ks);
    char w[320];
    if (kv_set(kv, where_of, n, ks, (const char *)v->data.scalar.value, where(c, v, w, sizeof w)))
      return KS_ENOMEM;
  }
  return 0;
}

static yaml_node_t *map_get(parse_ctx *c, yaml_node_t *m, const char *key) {
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(c, p->key);
    if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
      return node(c, p->value);
  }
  return NULL;
}

/* Refuse a key given twice in one mapping (YAML says keys are unique;
 * libyaml keeps both and a lookup would silently take the first). */
static int check_unique(parse_ctx *c, yaml_node_t *m, const char *section) {
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(c, p->key);
    if (k == NULL || k->type != YAML_SCALAR_NODE)
      continue; /* refused by the caller as not a single value */
    for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
      yaml_node_t *f = node(c, q->key);
      if (f && f->type == YAML_SCALAR_NODE &&
          strcmp((const char *)f->data.scalar.value, (const char *)k->data.scalar.value) == 0) {
        char first[320];
        return fail(c, k, "duplicate key '%s' in %s (first at %s); a key may appear once",
                    (const char *)k->data.scalar.value, section, where(c, f, first, sizeof first));
      }
    }
  }
  return 0;
}

/* Refuse keys of a section not in `known` (typos fail loudly) or repeated. */
static int check_keys(parse_ctx *c, yaml_node_t *m, const char *section, const char *const *known,
                      const char *expected) {
  if (m->type != YAML_MAPPING_NODE)
    return fail(c, m, "'%s' must be a mapping", section);
  int rc = check_unique(c, m, section);
  if (rc)
    return rc;
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(c, p->key);
    const char *ks = scalar(c, k, section);
    if (ks == NULL)
      return KS_ECONFIG;
    int ok = 0;
    for (const char *const *s = known; *s; s++)
      ok |= strcmp(*s, ks) == 0;
    if (!ok)
      return fail(c, k, "unknown key '%s' in %s (expected one of: %s)", ks, section, expected);
  }
  return 0;
}

static int load_kafka(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const skip[] = {"consumer", "producer", NULL};
  int rc = load_kv_map(c, m, "kafka", &cfg->kafka, &cfg->kafka_where, &cfg->n_kafka, skip);
  yaml_node_t *v;
  if (rc == 0 && (v = map_get(c, m, "consumer")) != NULL)
    rc = load_kv_map(c, v, "kafka.consumer", &cfg->consumer, &cfg->consumer_where, &cfg->n_consumer,
                     NULL);
  if (rc == 0 && (v = map_get(c, m, "producer")) != NULL)
    rc = load_kv_map(c, v, "kafka.producer", &cfg->producer, &cfg->producer_where, &cfg->n_producer,
                     NULL);
  return rc;
}

static int load_input(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"topics", "dead_letter_topic", "partitioner", NULL};
  int rc = check_keys(c, m, "input", known, "topics, dead_letter_topic, partitioner");
  if (rc)
    return rc;
  yaml_node_t *t = map_get(c, m, "topics");
  if (t) {
    if (t->type != YAML_SEQUENCE_NODE)
      return fail(c, t, "'input.topics' must be a list of topic names");
    for (yaml_node_item_t *i = t->data.sequence.items.start; i < t->data.sequence.items.top; i++) {
      const char *s = scalar(c, node(c, *i), "input.topics[]");
      if (s == NULL)
        return KS_ECONFIG;
      if (s[0] == '\0')
        return fail(c, node(c, *i), "'input.topics' has an empty topic name");
      for (size_t j = 0; j < cfg->n_topics; j++)
        if (strcmp(cfg->topics[j], s) == 0)
          return fail(c, node(c, *i), "'input.topics' lists '%s' twice", s);
      char **nt = realloc(cfg->topics, (cfg->n_topics + 1) * sizeof *nt);
      if (nt == NULL)
        return KS_ENOMEM;
      cfg->topics = nt;
      if ((nt[cfg->n_topics] = ks_strdup(s)) == NULL)
        return KS_ENOMEM;
      cfg->n_topics++;
    }
  }
  yaml_node_t *d = map_get(c, m, "dead_letter_topic");
  if (d && (rc = set_str(c, d, "input.dead_letter_topic", &cfg->dead_letter_topic)) != 0)
    return rc;
  yaml_node_t *v = map_get(c, m, "partitioner");
  if (v) {
    const char *s = scalar(c, v, "input.partitioner");
    if (s == NULL)
      return KS_ECONFIG;
    if (ks_partitioner_parse(s, &cfg->partitioner) != 0)
      return fail(c, v, "'input.partitioner': '%s' is not one of any, murmur2, crc32, fnv1a", s);
  }
  return 0;
}

static int load_intervals(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"length",
                                      "allowed_lateness",
                                      "grace",
                                      "idle_timeout",
                                      "restatement_horizon",
                                      "max_future_skew",
                                      NULL};
  int rc = check_keys(c, m, "intervals", known,
                      "length, allowed_lateness, grace, idle_timeout, restatement_horizon, "
                      "max_future_skew");
  if (rc)
    return rc;
  yaml_node_t *v;
  if ((v = map_get(c, m, "length")) != NULL) {
    if ((rc = set_duration(c, v, "intervals.length", &cfg->interval_ms)) != 0)
      return rc;
    int64_t l = cfg->interval_ms;
    if (l != 5 * 60000 && l != 15 * 60000 && l != 30 * 60000 && l != 60 * 60000)
      return fail(c, v, "'intervals.length': %s is not one of 5m, 15m, 30m, 60m",
                  (const char *)v->data.scalar.value);
  }
  if ((v = map_get(c, m, "allowed_lateness")) != NULL &&
      (rc = set_duration(c, v, "intervals.allowed_lateness", &cfg->lateness_ms)) != 0)
    return rc;
  if ((v = map_get(c, m, "grace")) != NULL &&
      (rc = set_duration(c, v, "intervals.grace", &cfg->grace_ms)) != 0)
    return rc;
  if ((v = map_get(c, m, "restatement_horizon")) != NULL &&
      (rc = set_duration(c, v, "intervals.restatement_horizon", &cfg->restate_ms)) != 0)
    return rc;
  if ((v = map_get(c, m, "idle_timeout")) != NULL &&
      (rc = set_duration(c, v, "intervals.idle_timeout", &cfg->idle_timeout_ms)) != 0)
    return rc;
  if ((v = map_get(c, m, "max_future_skew")) != NULL &&
      (rc = set_duration(c, v, "intervals.max_future_skew", &cfg->max_future_skew_ms)) != 0)
    return rc;
  return 0;
}

static int set_size(parse_ctx *c, yaml_node_t *v, const char *key, uint64_t *out) {
  const char *s = scalar(c, v, key);
  if (s == NULL)
    return KS_ECONFIG;
  if (ks_parse_size(s, out) != 0)
    return fail(c, v,
                "'%s': '%s' is not a size (a whole number of bytes up to 1 EiB, e.g. 512MiB, "
                "1.5GiB; 0 = unlimited)",
                key, s);
  return 0;
}

static int load_state(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"memory_budget", NULL};
  int rc = check_keys(c, m, "state", known, "memory_budget");
  if (rc)
    return rc;
  yaml_node_t *v = map_get(c, m, "memory_budget");
  return v ? set_size(c, v, "state.memory_budget", &cfg->memory_budget) : 0;
}

/* processing: {threads: N} — threads that run tasks (issue 16; Kafka
 * Streams' num.stream.threads), the loop thread's included. */
static int load_processing(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"threads", NULL};
  int rc = check_keys(c, m, "processing", known, "threads");
  if (rc)
    return rc;
  yaml_node_t *v = map_get(c, m, "threads");
  if (v == NULL)
    return 0;
  const char *s = scalar(c, v, "processing.threads");
  if (s == NULL)
    return KS_ECONFIG;
  int64_t n;
  if (ks_parse_int(s, &n) != 0 || n < 1 || n > KS_CONFIG_THREADS_MAX)
    return fail(c, v, "'processing.threads': '%s' is not a whole number from 1 to %d", s,
                KS_CONFIG_THREADS_MAX);
  cfg->threads = (int)n;
  return 0;
}

static int load_checkpoint(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"enabled",    "interval",   "topic_prefix",
                                      "full_every", "full_ratio", NULL};
  int rc = check_keys(c, m, "checkpoint", known,
                      "enabled, interval, topic_prefix, full_every, full_ratio");
  if (rc)
    return rc;
  yaml_node_t *v;
  if ((v = map_get(c, m, "enabled")) != NULL) {
    const char *s = scalar(c, v, "checkpoint.enabled");
    if (s == NULL)
      return KS_ECONFIG;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0)
      cfg->checkpoint_enabled = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0)
      cfg->checkpoint_enabled = 0;
    else
      return fail(c, v, "'checkpoint.enabled': '%s' is not true or false", s);
  }
  if ((v = map_get(c, m, "interval")) != NULL &&
      (rc = set_duration(c, v, "checkpoint.interval", &cfg->checkpoint_interval_ms)) != 0)
    return rc;
  if ((v = map_get(c, m, "topic_prefix")) != NULL &&
      (rc = set_str(c, v, "checkpoint.topic_prefix", &cfg->checkpoint_prefix)) != 0)
    return rc;
  if ((v = map_get(c, m, "full_every")) != NULL) {
    const char *s = scalar(c, v, "checkpoint.full_every");
    int64_t n;
    if (s == NULL)
      return KS_ECONFIG;
    if (ks_parse_int(s, &n) != 0 || n < 1 || n > 1000000)
      return fail(c, v,
                  "'checkpoint.full_every': '%s' is not a whole number from 1 to 1000000 (1: "
                  "every checkpoint is a full snapshot)",
                  s);
    cfg->checkpoint_full_every = (uint32_t)n;
  }
  if ((v = map_get(c, m, "full_ratio")) != NULL) {
    const char *s = scalar(c, v, "checkpoint.full_ratio");
    double d;
    if (s == NULL)
      return KS_ECONFIG;
    if (ks_parse_double(s, &d) != 0 || !(d >= 0 && d <= 1))
      return fail(c, v,
                  "'checkpoint.full_ratio': '%s' is not a number from 0 to 1 (the share of a "
                  "task's records changed above which a full snapshot is written)",
                  s);
    cfg->checkpoint_full_ratio = d;
  }
  return 0;
}

static int load_output_format(parse_ctx *c, yaml_node_t *m, const char *section,
                              ks_config_output *o, int allow_topics);

static int load_commit(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"interval", NULL};
  int rc = check_keys(c, m, "commit", known, "interval");
  if (rc)
    return rc;
  yaml_node_t *v = map_get(c, m, "interval");
  return v ? set_duration(c, v, "commit.interval", &cfg->commit_interval_ms) : 0;
}

/* plugins[].format / .schema_id: the format of the plugin's output topic
 * (`topic`, default kpi.<instance>), the same as an output.topics entry for
 * it; setting both for one topic is refused. Needs `output` loaded. */
static int load_plugin_format(parse_ctx *c, ks_config *cfg, const ks_config_plugin *p,
                              yaml_node_t *m) {
  yaml_node_t *f = map_get(c, m, "format"), *v = map_get(c, m, "schema_id");
  if (f == NULL && v == NULL)
    return 0;
  char topic[320];
  if (p->topic)
    snprintf(topic, sizeof topic, "%s", p->topic);
  else
    snprintf(topic, sizeof topic, "kpi.%s", ks_config_plugin_instance(p));
  for (size_t i = 0; i < cfg->n_output_topics; i++)
    if (strcmp(cfg->output_topics[i].topic, topic) == 0)
      return fail(c, f ? f : v,
                  "the format of topic '%s' is set twice: in plugins[] ('%s') and in "
                  "output.topics; keep one",
                  topic, ks_config_plugin_instance(p));
  ks_config_output *no = realloc(cfg->output_topics, (cfg->n_output_topics + 1) * sizeof *no);
  if (no == NULL)
    return KS_ENOMEM;
  cfg->output_topics = no;
  ks_config_output *o = &no[cfg->n_output_topics];
  *o = cfg->output; /* what the entry does not set comes from `output` */
  if ((o->topic = ks_strdup(topic)) == NULL)
    return KS_ENOMEM;
  cfg->n_output_topics++;
  return load_output_format(c, m, "plugins[]", o, -1);
}

static int load_plugins(parse_ctx *c, ks_config *cfg, yaml_node_t *s) {
  static const char *const known[] = {"name",     "instance", "path",      "topic", "options",
                                      "on_error", "format",   "schema_id", NULL};
  if (s->type != YAML_SEQUENCE_NODE)
    return fail(c, s,
                "'plugins' must be a list of {name, instance, path, topic, options, on_error, "
                "format, schema_id}");
  for (yaml_node_item_t *i = s->data.sequence.items.start; i < s->data.sequence.items.top; i++) {
    yaml_node_t *m = node(c, *i);
    int rc = check_keys(c, m, "plugins[]", known,
                        "name, instance, path, topic, options, on_error, format, schema_id");
    if (rc)
      return rc;
    ks_config_plugin *np = realloc(cfg->plugins, (cfg->n_plugins + 1) * sizeof *np);
    if (np == NULL)
      return KS_ENOMEM;
    cfg->plugins = np;
    ks_config_plugin *p = &np[cfg->n_plugins++];
    memset(p, 0, sizeof *p);
    yaml_node_t *v;
    if ((v = map_get(c, m, "name")) == NULL)
      return fail(c, m, "plugin entry without 'name'");
    if ((rc = set_str(c, v, "plugins[].name", &p->name)) != 0)
      return rc;
    char w[320];
    if ((p->where = ks_strdup(where(c, v, w, sizeof w))) == NULL)
      return KS_ENOMEM;
    yaml_node_t *in = map_get(c, m, "instance");
    if (in && (rc = set_str(c, in, "plugins[].instance", &p->instance)) != 0)
      return rc;
    if (in && strspn(p->instance, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(p->instance))
      return fail(c, in, "'plugins[].instance': '%s' must match [a-z0-9_]+ (it names topics)",
                  p->instance);
    for (size_t j = 0; j + 1 < cfg->n_plugins; j++)
      if (strcmp(ks_config_plugin_instance(&cfg->plugins[j]), ks_config_plugin_instance(p)) == 0)
        return fail(c, in ? in : v,
                    "plugin instance '%s' is listed twice; give each entry of one plugin its own "
                    "'instance:'",
                    ks_config_plugin_instance(p));
    if ((v = map_get(c, m, "path")) != NULL && (rc = set_str(c, v, "plugins[].path", &p->path)))
      return rc;
    if ((v = map_get(c, m, "topic")) != NULL && (rc = set_str(c, v, "plugins[].topic", &p->topic)))
      return rc;
    if ((v = map_get(c, m, "options")) != NULL &&
        (rc = load_kv_map(c, v, "plugins[].options", &p->options, &p->option_where, &p->n_options,
                          NULL)))
      return rc;
    if ((v = map_get(c, m, "on_error")) != NULL) {
      const char *e = scalar(c, v, "plugins[].on_error");
      if (e == NULL)
        return KS_ECONFIG;
      if (strcmp(e, "skip") != 0 && strcmp(e, "stop") != 0)
        return fail(c, v, "'plugins[].on_error' of '%s': '%s' is not skip or stop", p->name, e);
      p->on_error = strcmp(e, "stop") == 0 ? KS_ON_ERROR_STOP : KS_ON_ERROR_SKIP;
    }
    if ((rc = load_plugin_format(c, cfg, p, m)) != 0)
      return rc;
  }
  return 0;
}

static int load_shutdown(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"timeout", NULL};
  int rc = check_keys(c, m, "shutdown", known, "timeout");
  if (rc)
    return rc;
  yaml_node_t *v = map_get(c, m, "timeout");
  if (v && (rc = set_duration(c, v, "shutdown.timeout", &cfg->shutdown_timeout_ms)) != 0)
    return rc;
  if (cfg->shutdown_timeout_ms < 1000)
    return fail(c, v, "'shutdown.timeout' must be at least 1s");
  return 0;
}

/* log: {format: text | json} — or'd into log_level (log.h) */
static int load_log(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"format", NULL};
  int rc = check_keys(c, m, "log", known, "format");
  if (rc)
    return rc;
  yaml_node_t *v = map_get(c, m, "format");
  if (v == NULL)
    return 0;
  const char *s = scalar(c, v, "log.format");
  if (s == NULL)
    return KS_ECONFIG;
  int f = ks_log_format_parse(s);
  if (f < 0)
    return fail(c, v, "'log.format': '%s' is not one of text, json", s);
  cfg->log_level |= f;
  return 0;
}

/* http: {listen: HOST:PORT} — the operator's endpoint (ops.h, http_server.h) */
static int load_http(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  static const char *const known[] = {"listen", NULL};
  int rc = check_keys(c, m, "http", known, "listen");
  if (rc)
    return rc;
  yaml_node_t *v = map_get(c, m, "listen");
  if (v == NULL || (rc = set_str(c, v, "http.listen", &cfg->http_listen)) != 0)
    return rc;
  struct sockaddr_storage addr;
  socklen_t alen;
  char why[256];
  if (ks_http_parse_listen(cfg->http_listen, &addr, &alen, why, sizeof why) != 0)
    return fail(c, v, "%s", why);
  return 0;
}

/* ---- output: result topics' formats ---------------------------------------- */

const ks_config_output *ks_config_output_for(const ks_config *cfg, const char *topic) {
  for (size_t i = 0; topic && i < cfg->n_output_topics; i++)
    if (strcmp(cfg->output_topics[i].topic, topic) == 0)
      return &cfg->output_topics[i];
  return &cfg->output;
}

/* {format, schema_id} of `section` into o (which holds the inherited values). */
/* allow_topics: 1 = output (may hold topics), 0 = output.topics.<t>, -1 = a
 * plugins[] entry (whose other keys load_plugins checks). */
static int load_output_format(parse_ctx *c, yaml_node_t *m, const char *section,
                              ks_config_output *o, int allow_topics) {
  static const char *const known[] = {"format", "schema_id", "topics", NULL};
  static const char *const known_topic[] = {"format", "schema_id", NULL};
  int rc = allow_topics < 0
               ? 0
               : check_keys(c, m, section, allow_topics ? known : known_topic,
                            allow_topics ? "format, schema_id, topics" : "format, schema_id");
  if (rc)
    return rc;
  yaml_node_t *f = map_get(c, m, "format"), *v = map_get(c, m, "schema_id");
  if (f) {
    const char *s = scalar(c, f, "output.format");
    ks_format fmt;
    if (s == NULL)
      return KS_ECONFIG;
    if (ks_format_parse(s, &fmt) != 0)
      return fail(c, f, "'%s.format': '%s' is not protobuf, json or confluent_protobuf", section,
                  s);
    o->format = (int)fmt;
  }
  if (v) {
    const char *s = scalar(c, v, "output.schema_id");
    char *end = NULL;
    if (s == NULL)
      return KS_ECONFIG;
    errno = 0;
    long long id = strtoll(s, &end, 10);
    if (errno || end == s || *end || id < 1 || id > INT32_MAX)
      return fail(c, v, "'%s.schema_id': '%s' is not a Schema Registry id (1..2147483647)", section,
                  s);
    o->schema_id = (uint32_t)id;
  }
  if (o->format == KS_FORMAT_CONFLUENT_PROTOBUF && o->schema_id == 0)
    return fail(c, f ? f : m,
                "'%s.format' confluent_protobuf needs a schema_id (the id the Schema Registry "
                "gave kpistream/v1/result.proto)",
                section);
  return 0;
}

static int load_output(parse_ctx *c, ks_config *cfg, yaml_node_t *m) {
  int rc = load_output_format(c, m, "output", &cfg->output, 1);
  yaml_node_t *t = rc == 0 ? map_get(c, m, "topics") : NULL;
  if (t && t->type != YAML_MAPPING_NODE)
    return fail(c, t, "'output.topics' must be a mapping of topic: {format, schema_id}");
  if (t && (rc = check_unique(c, t, "output.topics")) != 0)
    return rc;
  for (yaml_node_pair_t *p = t ? t->data.mapping.pairs.start : NULL;
       p && p < t->data.mapping.pairs.top; p++) {
    const char *name = scalar(c, node(c, p->key), "output.topics");
    if (name == NULL)
      return KS_ECONFIG;
    ks_config_output *no = realloc(cfg->output_topics, (cfg->n_output_topics + 1) * sizeof *no);
    if (no == NULL)
      return KS_ENOMEM;
    cfg->output_topics = no;
    ks_config_output *o = &no[cfg->n_output_topics];
    *o = cfg->output; /* a topic inherits what it does not set */
    if ((o->topic = ks_strdup(name)) == NULL)
      return KS_ENOMEM;
    cfg->n_output_topics++;
    char section[320];
    snprintf(section, sizeof section, "output.topics.%s", name);
    if ((rc = load_output_format(c, node(c, p->value), section, o, 0)) != 0)
      return rc;
  }
  return rc;
}

static int load_root(parse_ctx *c, ks_config *cfg) {
  static const char *const known[] = {
      "kafka",      "input",     "intervals",      "checkpoint", "commit", "state",  "plugin_dir",
      "plugins",    "log_level", "stats_interval", "shutdown",   "http",   "output", "log",
      "processing", NULL};
  yaml_node_t *root = yaml_document_get_root_node(c->doc);
  if (root == NULL)
    return fail(c, NULL, "empty configuration");
  int rc = check_keys(c, root, "the top level", known,
                      "kafka, input, intervals, checkpoint, commit, state, plugin_dir, plugins, "
                      "log_level, stats_interval, shutdown, http, output, log, processing");
  if (rc)
    return rc;
  yaml_node_t *v;
  if ((v = map_get(c, root, "kafka")) && (rc = load_kafka(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "input")) && (rc = load_input(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "intervals")) && (rc = load_intervals(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "checkpoint")) && (rc = load_checkpoint(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "commit")) && (rc = load_commit(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "state")) && (rc = load_state(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "processing")) && (rc = load_processing(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "plugin_dir")) && (rc = set_str(c, v, "plugin_dir", &cfg->plugin_dir)))
    return rc;
  /* output before plugins: a plugin's format inherits output's */
  if ((v = map_get(c, root, "output")) && (rc = load_output(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "plugins")) && (rc = load_plugins(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "shutdown")) && (rc = load_shutdown(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "http")) && (rc = load_http(c, cfg, v)))
    return rc;
  if ((v = map_get(c, root, "stats_interval")) &&
      (rc = set_duration(c, v, "stats_interval", &cfg->stats_interval_ms)))
    return rc;
  if ((v = map_get(c, root, "log_level")) != NULL) {
    const char *s = scalar(c, v, "log_level");
    if (s == NULL)
      return KS_ECONFIG;
    if ((cfg->log_level = ks_log_level_parse(s)) < 0)
      return fail(c, v, "'log_level': '%s' is not one of error, warn, info, debug", s);
  }
  if ((v = map_get(c, root, "log")) && (rc = load_log(c, cfg, v)))
    return rc;
  if (cfg->n_topics == 0)
    return fail(c, NULL, "'input.topics' must list at least one topic");
  if (cfg->n_plugins == 0)
    return fail(c, NULL, "'plugins' must list at least one plugin");
  return 0;
}

int ks_config_load_string(ks_config *cfg, const char *yaml, size_t len, const char *name,
                          char *errstr, size_t errstr_size) {
  ks_config_init(cfg);
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) {
    snprintf(errstr, errstr_size, "%s: out of memory", name);
    return KS_ENOMEM;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
  if (!yaml_parser_load(&parser, &doc)) {
    snprintf(errstr, errstr_size, "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
             parser.problem_mark.line + 1, parser.problem_mark.column + 1,
             parser.problem ? parser.problem : "unknown problem", parser.context ? " " : "",
             parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    return KS_ECONFIG;
  }
  parse_ctx c = {&doc, name, errstr, errstr_size};
  int rc = load_root(&c, cfg);
  if (rc == KS_ENOMEM)
    snprintf(errstr, errstr_size, "%s: out of memory", name);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (rc == 0 && (cfg->source = ks_strdup(name)) == NULL)
    rc = KS_ENOMEM;
  if (rc != 0)
    ks_config_free(cfg);
  return rc;
}

int ks_config_load_file(ks_config *cfg, const char *path, char *errstr, size_t errstr_size) {
  ks_config_init(cfg);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
    return KS_ECONFIG;
  }
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      if (cap > (16u << 20)) {
        fclose(f);
        free(buf);
        snprintf(errstr, errstr_size, "%s: larger than 16 MiB", path);
        return KS_ECONFIG;
      }
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        fclose(f);
        free(buf);
        return KS_ENOMEM;
      }
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    snprintf(errstr, errstr_size, "%s: read error", path);
    return KS_ECONFIG;
  }
  int rc = ks_config_load_string(cfg, buf, len, path, errstr, errstr_size);
  free(buf);
  return rc;
}
