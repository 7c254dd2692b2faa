/*
 * watch_table — see watch_table.h. Everything allocated here is
 * freed before ks_watch_table_render() returns; the results are borrowed.
 * Values and headings: watch_format.c.
 */
#include "watch_table.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- text helpers ---------------------------------------------------------- */

/* Display width of UTF-8 text: code points (no East Asian wide forms here). */
static size_t text_width(const char *s) {
  size_t w = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80)
      w++;
  return w;
}

#define CELL_MAX       64
#define NAME_MAX_WIDTH 32

/* Copies s into a cell: control characters and broken UTF-8 become '?' (a
 * topic is not a trusted source of terminal escapes); at most NAME_MAX_WIDTH
 * code points, the last one replaced by "…" when cut. */
static void cell_text(char *dst, size_t size, const char *s) {
  static const char ellipsis[] = "…";
  size_t o = 0, w = 0, last = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t len = *p >= 0xF8 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
    int bad = (*p >= 0x80 && *p < 0xC0) || *p >= 0xF8 || *p < 0x20 || *p == 0x7f;
    for (size_t k = 1; k < len; k++)
      if ((p[k] & 0xC0) != 0x80) {
        len = k;
        bad = 1;
        break;
      }
    if (w == NAME_MAX_WIDTH || o + len + sizeof ellipsis > size) {
      o = w > 0 ? last : 0;
      memcpy(dst + o, ellipsis, sizeof ellipsis - 1);
      o += sizeof ellipsis - 1;
      break;
    }
    last = o;
    if (bad)
      dst[o++] = '?';
    else {
      memcpy(dst + o, p, len);
      o += len;
    }
    p += len;
    w++;
  }
  dst[o] = '\0';
}

static void put_padded(FILE *out, const char *s, size_t width, int right) {
  size_t w = text_width(s);
  size_t pad = width > w ? width - w : 0;
  if (right)
    fprintf(out, "%*s%s", (int)pad, "", s);
  else
    fprintf(out, "%s%*s", s, (int)pad, "");
}

void ks_watch_safe_text(char *dst, size_t size, const char *s) {
  cell_text(dst, size, s);
}

static const char *channel_name(int ch) {
  switch (ch) {
  case KPISTREAM__V1__CHANNEL__CHANNEL_VOICE:
    return "voice";
  case KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL:
    return "email";
  case KPISTREAM__V1__CHANNEL__CHANNEL_CHAT:
    return "chat";
  case KPISTREAM__V1__CHANNEL__CHANNEL_UNSPECIFIED:
    return "all";
  default:
    return NULL;
  }
}

static int channel_rank(int ch) {
  switch (ch) {
  case KPISTREAM__V1__CHANNEL__CHANNEL_VOICE:
    return 0;
  case KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL:
    return 1;
  case KPISTREAM__V1__CHANNEL__CHANNEL_CHAT:
    return 2;
  case KPISTREAM__V1__CHANNEL__CHANNEL_UNSPECIFIED:
    return 1000000;
  default:
    return 3 + (ch < 0 ? 0 : ch);
  }
}

void ks_watch_channel_text(char *buf, size_t size, int channel) {
  const char *ch = channel_name(channel);
  if (ch)
    snprintf(buf, size, "%s", ch);
  else
    snprintf(buf, size, "ch%d", channel);
}

const char *ks_watch_label(const Kpistream__V1__MetricResult *r, const char *key) {
  for (size_t i = 0; i < r->n_labels; i++)
    if (strcmp(r->labels[i]->key, key) == 0)
      return r->labels[i]->value;
  return NULL;
}

/* In a NULL-terminated list (NULL: empty). */
static int in_strv(const char *s, const char *const *v) {
  for (; v && *v; v++)
    if (strcmp(s, *v) == 0)
      return 1;
  return 0;
}

static size_t strv_len(const char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

/* A row's identity: "k=v,k=v" of every label (a family table: of its row
 * labels); "" without labels. Caller frees. */
static char *labels_text(const Kpistream__V1__MetricResult *r, const ks_watch_family *f) {
  size_t len = 1;
  for (size_t i = 0; i < r->n_labels; i++)
    len += strlen(r->labels[i]->key) + strlen(r->labels[i]->value) + 2;
  char *s = malloc(len);
  if (!s)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < r->n_labels; i++)
    if (!f || in_strv(r->labels[i]->key, f->row_labels))
      o += (size_t)snprintf(s + o, len - o, "%s%s=%s", o ? "," : "", r->labels[i]->key,
                            r->labels[i]->value);
  s[o] = '\0';
  return s;
}

/* The pivot column a result fills (its pivot label's value), else NULL. */
static const char *pivot_of(const Kpistream__V1__MetricResult *r, const ks_watch_family *f) {
  if (!f || !f->pivot_metric || !f->pivot_label || strcmp(r->metric, f->pivot_metric) != 0)
    return NULL;
  return ks_watch_label(r, f->pivot_label);
}

/* A family table leaves out results with labels it does not show. */
static int labels_fit(const Kpistream__V1__MetricResult *r, const ks_watch_family *f,
                      const char *pivot) {
  if (!f)
    return 1;
  for (size_t i = 0; i < r->n_labels; i++) {
    const char *k = r->labels[i]->key;
    if (!in_strv(k, f->row_labels) && !in_strv(k, f->ignored_labels) &&
        !(pivot && strcmp(k, f->pivot_label) == 0))
      return 0;
  }
  return 1;
}

static void format_interval(char *buf, size_t size, int64_t start_ms, int64_t end_ms) {
  time_t s = (time_t)(start_ms / 1000), e = (time_t)(end_ms / 1000);
  struct tm ts, te;
  gmtime_r(&s, &ts);
  gmtime_r(&e, &te);
  int midnights = ts.tm_hour == 0 && ts.tm_min == 0 && ts.tm_sec == 0 && te.tm_hour == 0 &&
                  te.tm_min == 0 && te.tm_sec == 0;
  int months = (te.tm_year - ts.tm_year) * 12 + te.tm_mon - ts.tm_mon;
  if (midnights && end_ms - start_ms == 86400000) /* a UTC day */
    snprintf(buf, size, "%04d-%02d-%02d UTC (day)", ts.tm_year + 1900, ts.tm_mon + 1, ts.tm_mday);
  else if (midnights && ts.tm_mday == 1 && te.tm_mday == 1 && months == 1)
    snprintf(buf, size, "%04d-%02d UTC (month)", ts.tm_year + 1900, ts.tm_mon + 1);
  else if (midnights && ts.tm_yday == 0 && te.tm_yday == 0 && months == 12)
    snprintf(buf, size, "%04d UTC (year)", ts.tm_year + 1900);
  else if ((ts.tm_year == te.tm_year && ts.tm_yday == te.tm_yday) ||
           (te.tm_hour == 0 && te.tm_min == 0 && end_ms - start_ms <= 86400000))
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d–%02d:%02d UTC", ts.tm_year + 1900, ts.tm_mon + 1,
             ts.tm_mday, ts.tm_hour, ts.tm_min, te.tm_hour, te.tm_min);
  else
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d – %04d-%02d-%02d %02d:%02d UTC",
             ts.tm_year + 1900, ts.tm_mon + 1, ts.tm_mday, ts.tm_hour, ts.tm_min, te.tm_year + 1900,
             te.tm_mon + 1, te.tm_mday, te.tm_hour, te.tm_min);
}

void ks_watch_heading(FILE *out, const Kpistream__V1__MetricResult *first, const char *note) {
  char when[96], who[CELL_MAX];
  format_interval(when, sizeof when, first->interval_start_ms, first->interval_end_ms);
  cell_text(who, sizeof who, first->tenant[0] ? first->tenant : "(no tenant)");
  fprintf(out, "%s · %s", who, when);
  if (note && *note)
    fprintf(out, "  [%s]", note);
  fputc('\n', out);
}

/* ---- rows and columns ------------------------------------------------------ */

typedef struct table_col {
  const char *metric; /* borrowed from a result or the options */
  const char *pivot;  /* borrowed; the pivot label's value; NULL: a plain metric */
} table_col;

typedef struct table_row {
  int channel;
  const char *queue;                      /* borrowed from a result */
  const char *agent;                      /* borrowed from a result */
  const char *team;                       /* family tables: label team, else an agent's team; "" */
  char *labels;                           /* owned */
  const Kpistream__V1__MetricResult *rep; /* the row's first result */
  int family;                             /* sort as a family table */
} table_row;

static int cmp_empty_last(const char *a, const char *b) {
  int ea = a[0] == '\0', eb = b[0] == '\0';
  if (ea != eb)
    return ea - eb;
  return strcmp(a, b);
}

static int row_cmp(const void *pa, const void *pb) {
  const table_row *a = pa, *b = pb;
  int ra = channel_rank(a->channel), rb = channel_rank(b->channel);
  if (ra != rb)
    return ra < rb ? -1 : 1;
  int qa = a->queue[0] == '\0', qb = b->queue[0] == '\0'; /* all-queues last */
  if (qa != qb)
    return qa - qb;
  int c = strcmp(a->queue, b->queue);
  if (c)
    return c;
  if (a->family) { /* team, other row labels (the tenant's row last), then agents */
    if ((c = cmp_empty_last(a->team, b->team)) != 0 ||
        (c = cmp_empty_last(a->labels, b->labels)) != 0)
      return c;
    return strcmp(a->agent, b->agent);
  }
  c = strcmp(a->agent, b->agent); /* "" (queue row) first */
  if (c)
    return c;
  return strcmp(a->labels, b->labels);
}

static int row_matches(const table_row *row, const Kpistream__V1__MetricResult *r,
                       const char *labels) {
  return row->channel == (int)r->channel && strcmp(row->queue, r->queue) == 0 &&
         strcmp(row->agent, r->agent_id) == 0 && strcmp(row->labels, labels) == 0;
}

static long find_col(const table_col *cols, size_t ncols, const char *metric, const char *pivot) {
  for (size_t i = 0; i < ncols; i++)
    if (strcmp(cols[i].metric, metric) == 0 &&
        (cols[i].pivot == pivot || (cols[i].pivot && pivot && strcmp(cols[i].pivot, pivot) == 0)))
      return (long)i;
  return -1;
}

static void add_col(table_col *cols, size_t *ncols, const char *metric, const char *pivot) {
  if (find_col(cols, *ncols, metric, pivot) < 0) {
    cols[*ncols].metric = metric;
    cols[*ncols].pivot = pivot;
    (*ncols)++;
  }
}

/* The columns of `metric` among the results taking part: itself, or one per
 * pivot value. */
static void add_present(table_col *cols, size_t *ncols,
                        const Kpistream__V1__MetricResult *const *rs, size_t n,
                        const char *const *pivots, const unsigned char *takes, const char *metric) {
  for (size_t i = 0; i < n; i++)
    if (takes[i] && strcmp(rs[i]->metric, metric) == 0)
      add_col(cols, ncols, metric, pivots[i]);
}

static size_t pivot_rank(const char *value, const char *const *order) {
  size_t i = 0;
  while (order && order[i] && strcmp(order[i], value) != 0)
    i++;
  return i;
}

/* The columns of `metric` present, a pivot metric's in its family's order. */
static void add_metric(table_col *cols, size_t *ncols, const Kpistream__V1__MetricResult *const *rs,
                       size_t n, const char *const *pivots, const unsigned char *takes,
                       const char *metric, const ks_watch_family *f) {
  size_t from = *ncols;
  add_present(cols, ncols, rs, n, pivots, takes, metric);
  if (!f || !f->pivot_metric || strcmp(metric, f->pivot_metric) != 0)
    return;
  for (size_t i = from + 1; i < *ncols; i++) { /* insertion sort: a few columns */
    table_col c = cols[i];
    size_t j = i;
    while (j > from && cols[j - 1].pivot && c.pivot) {
      size_t ra = pivot_rank(cols[j - 1].pivot, f->pivot_order);
      size_t rb = pivot_rank(c.pivot, f->pivot_order);
      if (ra < rb || (ra == rb && strcmp(cols[j - 1].pivot, c.pivot) <= 0))
        break;
      cols[j] = cols[j - 1];
      j--;
    }
    cols[j] = c;
  }
}

static size_t choose_columns(table_col *cols, const Kpistream__V1__MetricResult *const *rs,
                             size_t n, const char *const *pivots, const unsigned char *takes,
                             const ks_watch_table_opts *opts) {
  const ks_watch_family *f = opts->family;
  size_t ncols = 0;
  if (opts->all_metrics) {
    for (size_t i = 0; i < n; i++)
      if (takes[i] && rs[i]->metric[0])
        add_col(cols, &ncols, rs[i]->metric, pivots[i]);
    return ncols;
  }
  if (opts->n_metrics > 0) {
    for (size_t i = 0; i < opts->n_metrics; i++) {
      const char *m = opts->metrics[i];
      if (opts->only_present || (f && f->pivot_metric && strcmp(m, f->pivot_metric) == 0))
        add_metric(cols, &ncols, rs, n, pivots, takes, m, f);
      else
        add_col(cols, &ncols, m, NULL);
    }
    return ncols;
  }
  const char *const *defs = ks_watch_default_metrics;
  size_t ndefs = ks_watch_n_default_metrics;
  if (f) {
    defs = opts->rollup ? f->rollup_metrics : f->metrics;
    ndefs = strv_len(defs);
  }
  for (size_t d = 0; d < ndefs; d++)
    add_metric(cols, &ncols, rs, n, pivots, takes, defs[d], f);
  if (ncols == 0) /* another family: show what there is */
    for (size_t i = 0; i < n; i++)
      if (takes[i] && rs[i]->metric[0])
        add_col(cols, &ncols, rs[i]->metric, pivots[i]);
  if (opts->max_columns > 0 && ncols > opts->max_columns)
    ncols = opts->max_columns;
  return ncols;
}

/* Key columns of a table. */
#define MAX_KEY_COLS 8
typedef struct key_cols {
  int chq;                         /* channel and queue */
  const char *label[MAX_KEY_COLS]; /* family tables: row label keys shown */
  size_t nlabel;
  int agent;
  int labels; /* legacy: all labels in one column */
} key_cols;

/* A row the producer marked unattributed (e.g. feedback about an unknown
 * contact): empty dimensions, but not a total. */
static int is_unattributed(const table_row *row) {
  return row->rep->level == KPISTREAM__V1__LEVEL__LEVEL_UNATTRIBUTED;
}

static int is_tenant_row(const table_row *row) {
  return row->channel == 0 && row->queue[0] == '\0' && row->agent[0] == '\0' &&
         row->labels[0] == '\0' && !is_unattributed(row);
}

/* Text of family key column `key` for a row. */
static const char *row_label_text(const table_row *row, const char *key, const key_cols *k) {
  const char *v = ks_watch_label(row->rep, key);
  if (v)
    return v;
  if (row->agent[0])
    return strcmp(key, "team") == 0 ? row->rep->team : "";
  /* the tenant's row, where this is the only name shown */
  return !k->chq && k->nlabel > 0 && strcmp(k->label[0], key) == 0 && is_tenant_row(row) ? "(all)"
                                                                                         : "";
}

static void choose_keys(key_cols *k, const table_row *rows, size_t nrows,
                        const ks_watch_table_opts *opts) {
  memset(k, 0, sizeof *k);
  const ks_watch_family *f = opts->family;
  for (size_t j = 0; j < nrows; j++) {
    k->agent |= rows[j].agent[0] != '\0';
    if (!f) {
      k->labels |= rows[j].labels[0] != '\0';
      continue;
    }
    k->chq |= rows[j].channel != 0 || rows[j].queue[0] != '\0';
  }
  if (!f) {
    k->chq = 1;
    return;
  }
  for (size_t i = 0; f->row_labels && f->row_labels[i] && k->nlabel < MAX_KEY_COLS; i++) {
    const char *key = f->row_labels[i];
    int shown = 0;
    for (size_t j = 0; j < nrows && !shown; j++)
      shown = ks_watch_label(rows[j].rep, key) != NULL ||
              (rows[j].agent[0] && strcmp(key, "team") == 0 && rows[j].rep->team[0]);
    if (shown)
      k->label[k->nlabel++] = key;
  }
  if (k->nlabel == 0 && !k->agent)
    k->chq = 1; /* only the tenant's row: "all (all)" */
}

/* Texts and widths: fixed key columns, then one per metric column. */
typedef struct table_text {
  char *cells; /* (nrows + 1) x ntot cells of CELL_MAX */
  size_t ntot;
} table_text;

#define TEXT(t, row, col) ((t)->cells + ((size_t)(row) * (t)->ntot + (col)) * CELL_MAX)

static size_t fill_keys(table_text *t, size_t j, const table_row *row, const key_cols *k) {
  size_t c = 0;
  if (!row) { /* the heading */
    if (k->chq) {
      snprintf(TEXT(t, 0, c++), CELL_MAX, "channel");
      snprintf(TEXT(t, 0, c++), CELL_MAX, "queue");
    }
    for (size_t i = 0; i < k->nlabel; i++)
      cell_text(TEXT(t, 0, c++), CELL_MAX, k->label[i]);
    if (k->agent)
      snprintf(TEXT(t, 0, c++), CELL_MAX, "agent");
    if (k->labels)
      snprintf(TEXT(t, 0, c++), CELL_MAX, "labels");
    return c;
  }
  if (k->chq) {
    ks_watch_channel_text(TEXT(t, j, c++), CELL_MAX, row->channel);
    cell_text(TEXT(t, j, c++), CELL_MAX,
              row->queue[0]          ? row->queue
              : is_unattributed(row) ? "(none)"
                                     : "(all)");
  }
  for (size_t i = 0; i < k->nlabel; i++)
    cell_text(TEXT(t, j, c++), CELL_MAX, row_label_text(row, k->label[i], k));
  if (k->agent)
    cell_text(TEXT(t, j, c++), CELL_MAX, row->agent);
  if (k->labels)
    cell_text(TEXT(t, j, c++), CELL_MAX, row->labels);
  return c;
}

static void print_table(FILE *out, const table_text *t, size_t nrows, size_t nfixed) {
  size_t *width = calloc(t->ntot, sizeof *width);
  if (!width)
    return;
  for (size_t j = 0; j <= nrows; j++)
    for (size_t c = 0; c < t->ntot; c++) {
      size_t w = text_width(TEXT(t, j, c));
      if (w > width[c])
        width[c] = w;
    }
  for (size_t j = 0; j <= nrows; j++) {
    for (size_t c = 0; c < t->ntot; c++) {
      if (c)
        fputs("  ", out);
      /* names left-aligned; numbers right-aligned; the last column unpadded
       * when left-aligned */
      int right = c >= nfixed;
      if (!right && c + 1 == t->ntot)
        fputs(TEXT(t, j, c), out);
      else
        put_padded(out, TEXT(t, j, c), width[c], right);
    }
    fputc('\n', out);
  }
  fputc('\n', out);
  free(width);
}

int ks_watch_table_render(FILE *out, const Kpistream__V1__MetricResult *const *results, size_t n,
                          const ks_watch_table_opts *opts) {
  if (n == 0)
    return 0;
  const ks_watch_family *f = opts->family;
  int rc = -1;
  table_col *cols = calloc(n + ks_watch_n_default_metrics + opts->n_metrics + 1, sizeof *cols);
  table_row *rows = calloc(n, sizeof *rows);
  char **labels = calloc(n, sizeof *labels); /* per result */
  const char **pivots = calloc(n, sizeof *pivots);
  unsigned char *takes = calloc(n, 1);
  long *cells = NULL;
  table_text text = {NULL, 0};
  size_t ncols = 0, nrows = 0;
  if (!cols || !rows || !labels || !pivots || !takes)
    goto out;

  /* Which results take part: agent rows only on request; family tables
   * leave out breakdowns by labels they do not show. */
  for (size_t i = 0; i < n; i++) {
    pivots[i] = pivot_of(results[i], f);
    takes[i] = (opts->show_agents || results[i]->agent_id[0] == '\0') &&
               labels_fit(results[i], f, pivots[i]);
  }
  ncols = choose_columns(cols, results, n, pivots, takes, opts);

  /* Rows: distinct dimensions among results that fill a column. */
  for (size_t i = 0; i < n; i++) {
    const Kpistream__V1__MetricResult *r = results[i];
    if (!takes[i] || find_col(cols, ncols, r->metric, pivots[i]) < 0)
      continue;
    labels[i] = labels_text(r, f);
    if (!labels[i])
      goto out;
    size_t j;
    for (j = 0; j < nrows; j++)
      if (row_matches(&rows[j], r, labels[i]))
        break;
    if (j == nrows) {
      table_row *row = &rows[nrows];
      row->channel = (int)r->channel;
      row->queue = r->queue;
      row->agent = r->agent_id;
      row->rep = r;
      row->family = f != NULL;
      const char *team = f ? ks_watch_label(r, "team") : NULL;
      row->team = team ? team : f && r->agent_id[0] ? r->team : "";
      row->labels = strdup(labels[i]);
      if (!row->labels)
        goto out;
      nrows++;
    }
  }
  qsort(rows, nrows, sizeof *rows, row_cmp);

  /* Cells: index of the result shown in each (row, column), -1 for none. */
  cells = malloc((nrows * ncols + 1) * sizeof *cells);
  if (!cells)
    goto out;
  for (size_t k = 0; k < nrows * ncols; k++)
    cells[k] = -1;
  for (size_t i = 0; i < n; i++) {
    const Kpistream__V1__MetricResult *r = results[i];
    if (!labels[i])
      continue; /* not taking part */
    long c = find_col(cols, ncols, r->metric, pivots[i]);
    for (size_t j = 0; j < nrows; j++) {
      if (!row_matches(&rows[j], r, labels[i]))
        continue;
      long *cell = &cells[j * ncols + (size_t)c];
      if (*cell < 0 || results[*cell]->revision <= r->revision)
        *cell = (long)i;
      break;
    }
  }
  if (!out) { /* counting only */
    rc = (int)nrows;
    goto out;
  }

  key_cols keys;
  choose_keys(&keys, rows, nrows, opts);
  size_t nfixed = (keys.chq ? 2 : 0) + keys.nlabel + (size_t)keys.agent + (size_t)keys.labels;
  text.ntot = nfixed + ncols;
  text.cells = malloc((nrows + 1) * text.ntot * CELL_MAX);
  if (!text.cells)
    goto out;
  fill_keys(&text, 0, NULL, &keys);
  for (size_t k = 0; k < ncols; k++)
    cell_text(TEXT(&text, 0, nfixed + k), CELL_MAX,
              ks_watch_metric_heading(cols[k].pivot ? cols[k].pivot : cols[k].metric));
  for (size_t j = 0; j < nrows; j++) {
    fill_keys(&text, j + 1, &rows[j], &keys);
    for (size_t k = 0; k < ncols; k++) {
      long idx = cells[j * ncols + k];
      if (idx < 0)
        snprintf(TEXT(&text, j + 1, nfixed + k), CELL_MAX, "·");
      else
        ks_watch_format_value(results[idx], TEXT(&text, j + 1, nfixed + k), CELL_MAX);
    }
  }

  if (!opts->no_heading)
    ks_watch_heading(out, results[0], opts->note);
  if (nrows == 0)
    fprintf(out, "  (no rows)\n\n");
  else
    print_table(out, &text, nrows, nfixed);
  rc = (int)nrows;

out:
  if (rows)
    for (size_t j = 0; j < nrows; j++)
      free(rows[j].labels);
  if (labels)
    for (size_t i = 0; i < n; i++)
      free(labels[i]);
  free(text.cells);
  free(cells);
  free(takes);
  free(pivots);
  free(labels);
  free(rows);
  free(cols);
  return rc;
}
