#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/plugin.h"

void ks_metrics_init(ks_metrics *m) {
  memset(m, 0, sizeof *m);
}

void ks_metrics_free(ks_metrics *m) {
  free(m->buf);
  ks_metrics_init(m);
}

static void fail(ks_metrics *m, int err, const char *name) {
  if (m->error)
    return;
  m->error = err;
  snprintf(m->error_name, sizeof m->error_name, "%s", name ? name : "");
}

static int reserve(ks_metrics *m, size_t more) {
  if (m->error)
    return -1;
  if (m->len + more + 1 <= m->cap)
    return 0;
  size_t cap = m->cap ? m->cap : 4096;
  while (cap < m->len + more + 1)
    cap *= 2;
  char *b = realloc(m->buf, cap);
  if (b == NULL) {
    fail(m, KS_ENOMEM, NULL);
    return -1;
  }
  m->buf = b;
  m->cap = cap;
  return 0;
}

static void put(ks_metrics *m, const char *s, size_t n) {
  if (reserve(m, n) != 0)
    return;
  memcpy(m->buf + m->len, s, n);
  m->len += n;
  m->buf[m->len] = '\0';
}

static void puts_(ks_metrics *m, const char *s) {
  put(m, s, strlen(s));
}

static void printf_(ks_metrics *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(ks_metrics *m, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0)
    put(m, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static int valid_name(const char *s, int label) {
  if (s == NULL || *s == '\0')
    return 0;
  for (const char *p = s; *p; p++) {
    int alpha =
        (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (!label && *p == ':');
    if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
      return 0;
  }
  return !(label && s[0] == '_' && s[1] == '_'); /* __ is reserved for labels */
}

/* Escape s: backslash and newline always, double quote in label values. */
static void escaped(ks_metrics *m, const char *s, int quote) {
  for (const char *p = s; *p; p++) {
    if (*p == '\\')
      puts_(m, "\\\\");
    else if (*p == '\n')
      puts_(m, "\\n");
    else if (quote && *p == '"')
      puts_(m, "\\\"");
    else
      put(m, p, 1);
  }
}

void ks_metrics_family(ks_metrics *m, const char *name, const char *type, const char *help) {
  size_t n = name ? strlen(name) : 0;
  int counter = type && strcmp(type, KS_METRIC_COUNTER) == 0;
  if (!valid_name(name, 0) || (counter && (n < 6 || strcmp(name + n - 6, "_total") != 0)) ||
      (!counter && (type == NULL || strcmp(type, KS_METRIC_GAUGE) != 0))) {
    fail(m, KS_EINVAL, name);
    return;
  }
  puts_(m, "# HELP ");
  puts_(m, name);
  puts_(m, " ");
  escaped(m, help ? help : "", 0);
  puts_(m, "\n# TYPE ");
  puts_(m, name);
  puts_(m, " ");
  puts_(m, type);
  puts_(m, "\n");
}

static void head(ks_metrics *m, const char *name, const char *const *labels) {
  if (!valid_name(name, 0)) {
    fail(m, KS_EINVAL, name);
    return;
  }
  puts_(m, name);
  if (labels && labels[0]) {
    puts_(m, "{");
    for (size_t i = 0; labels[i]; i += 2) {
      if (!valid_name(labels[i], 1) || labels[i + 1] == NULL) {
        fail(m, KS_EINVAL, labels[i]);
        return;
      }
      if (i)
        puts_(m, ",");
      puts_(m, labels[i]);
      puts_(m, "=\"");
      escaped(m, labels[i + 1], 1);
      puts_(m, "\"");
    }
    puts_(m, "}");
  }
  puts_(m, " ");
}

void ks_metrics_u64(ks_metrics *m, const char *name, const char *const *labels, uint64_t v) {
  head(m, name, labels);
  printf_(m, "%" PRIu64 "\n", v);
}

void ks_metrics_f64(ks_metrics *m, const char *name, const char *const *labels, double v) {
  head(m, name, labels);
  if (isnan(v))
    puts_(m, "NaN\n");
  else if (isinf(v))
    puts_(m, v > 0 ? "+Inf\n" : "-Inf\n");
  else {
    char tmp[40]; /* the shortest of %.15g and %.17g that reads back as v */
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
      snprintf(tmp, sizeof tmp, "%.17g", v);
    puts_(m, tmp);
    puts_(m, "\n");
  }
}

void ks_metrics_one_u64(ks_metrics *m, const char *name, const char *type, const char *help,
                        uint64_t v) {
  ks_metrics_family(m, name, type, help);
  ks_metrics_u64(m, name, NULL, v);
}

void ks_metrics_one_f64(ks_metrics *m, const char *name, const char *type, const char *help,
                        double v) {
  ks_metrics_family(m, name, type, help);
  ks_metrics_f64(m, name, NULL, v);
}

void ks_metrics_u64_by(ks_metrics *m, const char *name, const char *type, const char *help,
                       const char *label, const char *const *values, const uint64_t *counts,
                       size_t n) {
  ks_metrics_family(m, name, type, help);
  for (size_t i = 0; i < n; i++) {
    const char *lab[] = {label, values[i], NULL};
    ks_metrics_u64(m, name, lab, counts[i]);
  }
}

int ks_metrics_error(const ks_metrics *m, const char **name) {
  if (name)
    *name = m->error_name;
  return m->error;
}
