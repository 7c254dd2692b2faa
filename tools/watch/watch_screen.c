/*
 * watch_screen — see watch_screen.h.
 */
#include "watch_screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCREEN_MIN_WIDTH 20
#define SCREEN_TITLE     "kpistream watch · latest closed interval per tenant and family"

typedef Kpistream__V1__MetricResult metric_result;

void ks_watch_screen_init(ks_watch_screen *s, const ks_watch_group_opts *opts) {
  memset(s, 0, sizeof *s);
  s->opts = *opts;
}

static void entry_clear(ks_watch_screen_entry *e) {
  for (size_t i = 0; i < e->n; i++)
    kpistream__v1__metric_result__free_unpacked(e->results[i], NULL);
  e->n = 0;
}

void ks_watch_screen_free(ks_watch_screen *s) {
  for (size_t i = 0; i < s->n_entries; i++) {
    entry_clear(&s->entries[i]);
    free(s->entries[i].results);
    free(s->entries[i].tenant);
    free(s->entries[i].family);
  }
  free(s->entries);
  for (size_t i = 0; i < KS_WATCH_SCREEN_ALERTS; i++)
    free(s->alerts[i]);
  memset(s, 0, sizeof *s);
}

static ks_watch_screen_entry *entry_get(ks_watch_screen *s, const metric_result *r) {
  for (size_t i = 0; i < s->n_entries; i++)
    if (strcmp(s->entries[i].tenant, r->tenant) == 0 &&
        strcmp(s->entries[i].family, r->family) == 0)
      return &s->entries[i];
  if (s->n_entries == s->cap_entries) {
    size_t cap = s->cap_entries ? s->cap_entries * 2 : 8;
    ks_watch_screen_entry *grown = realloc(s->entries, cap * sizeof *grown);
    if (!grown)
      return NULL;
    s->entries = grown;
    s->cap_entries = cap;
  }
  ks_watch_screen_entry *e = &s->entries[s->n_entries];
  memset(e, 0, sizeof *e);
  e->tenant = strdup(r->tenant);
  e->family = strdup(r->family);
  if (!e->tenant || !e->family) {
    free(e->tenant);
    free(e->family);
    return NULL;
  }
  e->start_ms = r->interval_start_ms;
  e->end_ms = r->interval_end_ms;
  s->n_entries++;
  return e;
}

int ks_watch_screen_add(ks_watch_screen *s, metric_result *r) {
  if (ks_watch_is_rollup(r)) {
    kpistream__v1__metric_result__free_unpacked(r, NULL);
    return 0;
  }
  ks_watch_screen_entry *e = entry_get(s, r);
  if (!e) {
    kpistream__v1__metric_result__free_unpacked(r, NULL);
    return -1;
  }
  if (r->interval_start_ms < e->start_ms) { /* older than what is shown */
    kpistream__v1__metric_result__free_unpacked(r, NULL);
    return 0;
  }
  if (r->interval_start_ms > e->start_ms || r->interval_end_ms != e->end_ms) {
    entry_clear(e);
    e->start_ms = r->interval_start_ms;
    e->end_ms = r->interval_end_ms;
  }
  if (e->n == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 32;
    metric_result **grown = realloc(e->results, cap * sizeof *grown);
    if (!grown) {
      kpistream__v1__metric_result__free_unpacked(r, NULL);
      return -1;
    }
    e->results = grown;
    e->cap = cap;
  }
  e->results[e->n++] = r;
  return 0;
}

int ks_watch_screen_alert(ks_watch_screen *s, const metric_result *r) {
  char *line = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&line, &len);
  if (!mem)
    return -1;
  ks_watch_alert_print(mem, r);
  if (fclose(mem) != 0) {
    free(line);
    return -1;
  }
  if (len > 0 && line[len - 1] == '\n')
    line[len - 1] = '\0';
  size_t slot = (size_t)(s->n_alerts % KS_WATCH_SCREEN_ALERTS);
  free(s->alerts[slot]);
  s->alerts[slot] = line;
  s->n_alerts++;
  return 0;
}

/* ---- frame ------------------------------------------------------------------- */

static int tenant_cmp(const void *pa, const void *pb) {
  return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* The tables: tenants A–Z, each tenant's intervals newest first. */
static int render_body(const ks_watch_screen *s, FILE *out, int width) {
  if (s->n_entries == 0) {
    fputs("  (waiting for results)\n", out);
    return 0;
  }
  size_t total = 0;
  for (size_t i = 0; i < s->n_entries; i++)
    total += s->entries[i].n;
  const char **tenants = malloc(s->n_entries * sizeof *tenants);
  const metric_result **sub = malloc((total ? total : 1) * sizeof *sub);
  unsigned char *done = calloc(s->n_entries, 1);
  int rc = -1;
  if (!tenants || !sub || !done)
    goto out;
  size_t nt = 0;
  for (size_t i = 0; i < s->n_entries; i++) {
    size_t k = 0;
    while (k < nt && strcmp(tenants[k], s->entries[i].tenant) != 0)
      k++;
    if (k == nt)
      tenants[nt++] = s->entries[i].tenant;
  }
  qsort(tenants, nt, sizeof *tenants, tenant_cmp);
  ks_watch_group_opts o = s->opts;
  o.family_titles = 1;
  o.width = width;
  o.no_heading = 0;
  o.note = NULL;
  for (size_t t = 0; t < nt; t++) {
    for (;;) { /* the newest interval of this tenant not yet shown */
      const ks_watch_screen_entry *newest = NULL;
      for (size_t i = 0; i < s->n_entries; i++) {
        const ks_watch_screen_entry *e = &s->entries[i];
        if (!done[i] && e->n > 0 && strcmp(e->tenant, tenants[t]) == 0 &&
            (!newest || e->start_ms > newest->start_ms ||
             (e->start_ms == newest->start_ms && e->end_ms > newest->end_ms)))
          newest = e;
      }
      if (!newest)
        break;
      size_t m = 0;
      int64_t start = newest->start_ms, end = newest->end_ms;
      for (size_t i = 0; i < s->n_entries; i++) {
        const ks_watch_screen_entry *e = &s->entries[i];
        if (!done[i] && strcmp(e->tenant, tenants[t]) == 0 && e->start_ms == start &&
            e->end_ms == end) {
          for (size_t j = 0; j < e->n; j++)
            sub[m++] = e->results[j];
          done[i] = 1;
        }
      }
      if (ks_watch_group_render(out, sub, m, &o) < 0)
        goto out;
    }
  }
  rc = 0;
out:
  free(done);
  free(sub);
  free(tenants);
  return rc;
}

/* Appends line[0..len), cut to width, and a newline. */
static void put_line(FILE *out, const char *line, size_t len, size_t width) {
  fwrite(line, 1, ks_watch_text_fit(line, len, width), out);
  fputc('\n', out);
}

int ks_watch_screen_frame(const ks_watch_screen *s, int width, int height, char **out,
                          size_t *len) {
  size_t w = (size_t)(width < SCREEN_MIN_WIDTH ? SCREEN_MIN_WIDTH : width);
  char *body = NULL;
  size_t body_len = 0;
  FILE *mem = open_memstream(&body, &body_len);
  if (!mem)
    return -1;
  int rc = render_body(s, mem, (int)w);
  if (fclose(mem) != 0 || rc != 0) {
    free(body);
    return -1;
  }
  size_t body_lines = 0;
  for (size_t i = 0; i < body_len; i++)
    body_lines += body[i] == '\n';

  size_t shown_alerts =
      s->n_alerts < KS_WATCH_SCREEN_ALERTS ? (size_t)s->n_alerts : KS_WATCH_SCREEN_ALERTS;
  size_t alert_lines = shown_alerts ? shown_alerts + 1 : 0;
  size_t keep = body_lines; /* body lines shown */
  int cut = 0;
  if (height > 0 && 2 + body_lines + alert_lines > (size_t)height) {
    size_t room = (size_t)height > 3 + alert_lines ? (size_t)height - 3 - alert_lines : 0;
    keep = room < body_lines ? room : body_lines;
    cut = 1;
  }

  mem = open_memstream(out, len);
  if (!mem) {
    free(body);
    return -1;
  }
  size_t budget = height > 0 ? (size_t)height : SIZE_MAX; /* lines left */
  if (budget > 0) {
    put_line(mem, SCREEN_TITLE, strlen(SCREEN_TITLE), w);
    budget--;
  }
  if (budget > 0) {
    fputc('\n', mem);
    budget--;
  }
  const char *p = body;
  for (size_t i = 0; i < keep && budget > 0; i++, budget--) {
    const char *nl = memchr(p, '\n', (size_t)(body + body_len - p));
    put_line(mem, p, (size_t)(nl - p), w);
    p = nl + 1;
  }
  if (cut && budget > 0) {
    char more[96];
    int n = snprintf(more, sizeof more, "… %zu more lines (a taller terminal shows them)",
                     body_lines - keep);
    put_line(mem, more, (size_t)n, w);
    budget--;
  }
  if (shown_alerts && budget > 0) {
    char title[96];
    int n = snprintf(title, sizeof title, "── alerts (last %zu of %llu)", shown_alerts,
                     (unsigned long long)s->n_alerts);
    put_line(mem, title, (size_t)n, w);
    budget--;
    for (uint64_t a = s->n_alerts - shown_alerts; a < s->n_alerts && budget > 0; a++, budget--) {
      const char *line = s->alerts[a % KS_WATCH_SCREEN_ALERTS];
      put_line(mem, line, strlen(line), w);
    }
  }
  free(body);
  if (fclose(mem) != 0) {
    free(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

int ks_watch_screen_paint(const char *frame, size_t len, int width, char **out, size_t *out_len) {
  FILE *mem = open_memstream(out, out_len);
  if (!mem)
    return -1;
  fputs(KS_WATCH_SCREEN_HOME, mem);
  const char *p = frame, *end = frame + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    fwrite(p, 1, n, mem);
    if (width <= 0 || ks_watch_text_width(p, n) < (size_t)width)
      fputs(KS_WATCH_SCREEN_EOL, mem);
    p += n;
    if (nl && nl + 1 < end)
      fputc('\n', mem);
    if (nl)
      p++;
  }
  fputs(KS_WATCH_SCREEN_EOS, mem);
  if (fclose(mem) != 0) {
    free(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

int ks_watch_screen_width(int tty_cols, const char *cols_env) {
  if (tty_cols > 0)
    return tty_cols;
  if (cols_env && *cols_env) {
    char *endp = NULL;
    long v = strtol(cols_env, &endp, 10);
    if (*endp == '\0' && v > 0 && v < 100000)
      return (int)v;
  }
  return 80;
}
