/*
 * cmd_watch_table — see cmd_watch_table.h. Everything allocated here is
 * freed before ks_watch_table_render() returns; the results are borrowed.
 */
#include "cmd_watch_table.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const ks_watch_default_metrics[] = {
    "offered",       "answered", "abandoned", "abandonment_rate", "asa", "longest_wait",
    "service_level", "aht",      "fcr",       "transfer_rate",
};
const size_t ks_watch_n_default_metrics =
    sizeof ks_watch_default_metrics / sizeof ks_watch_default_metrics[0];

static const struct {
  const char *metric;
  const char *heading;
} headings[] = {
    {"abandonment_rate", "aband%"},
    {"short_abandoned", "short ab"},
    {"asa", "ASA"},
    {"longest_wait", "max wait"},
    {"service_level", "SL"},
    {"aht", "AHT"},
    {"avg_talk", "talk"},
    {"avg_hold", "hold"},
    {"avg_acw", "ACW"},
    {"fcr", "FCR"},
    {"transfer_rate", "xfer%"},
    {"escalation_rate", "esc%"},
    {"first_response_time", "1st resp"},
    {"traffic_erlangs", "Erlangs"},
    {"resolution_time", "resolution"},
};

const char *ks_watch_metric_heading(const char *metric) {
  for (size_t i = 0; i < sizeof headings / sizeof headings[0]; i++)
    if (strcmp(headings[i].metric, metric) == 0)
      return headings[i].heading;
  return metric;
}

/* ---- value formatting ------------------------------------------------------ */

enum value_kind {
  KIND_PERCENT_OF_RATIO,
  KIND_PERCENT,
  KIND_SECONDS,
  KIND_MILLIS,
  KIND_COUNT,
  KIND_DECIMAL,
  KIND_AUTO
};

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcasecmp(s, *list) == 0)
      return 1;
  return 0;
}

static enum value_kind kind_of(const Kpistream__V1__MetricResult *r) {
  static const char *const ratio_units[] = {"ratio", "fraction", NULL};
  static const char *const pct_units[] = {"percent", "pct", "%", NULL};
  static const char *const sec_units[] = {"seconds", "second", "s", "sec", "secs", NULL};
  static const char *const ms_units[] = {"milliseconds", "millis", "ms", NULL};
  static const char *const count_units[] = {"contacts",  "count",       "events",
                                            "agents",    "customers",   "items",
                                            "transfers", "escalations", NULL};
  static const char *const dec_units[] = {"erlangs", "erlang", "score", "points", NULL};
  const char *unit = r->unit ? r->unit : "";
  if (in_list(unit, ratio_units))
    return KIND_PERCENT_OF_RATIO;
  if (in_list(unit, pct_units))
    return KIND_PERCENT;
  if (in_list(unit, sec_units))
    return KIND_SECONDS;
  if (in_list(unit, ms_units))
    return KIND_MILLIS;
  if (in_list(unit, count_units))
    return KIND_COUNT;
  if (in_list(unit, dec_units))
    return KIND_DECIMAL;

  /* No (known) unit: go by the metric's name. */
  static const char *const ratio_names[] = {
      "service_level", "fcr", "occupancy", "utilization", "adherence", "shrinkage", NULL};
  static const char *const sec_names[] = {"asa", "aht", "longest_wait", NULL};
  const char *m = r->metric ? r->metric : "";
  if (in_list(m, ratio_names) || ends_with(m, "_rate") || ends_with(m, "_ratio"))
    return KIND_PERCENT_OF_RATIO;
  if (in_list(m, sec_names) || ends_with(m, "_time") || ends_with(m, "_seconds") ||
      strncmp(m, "avg_", 4) == 0 || strncmp(m, "average_", 8) == 0)
    return KIND_SECONDS;
  return KIND_AUTO;
}

void ks_watch_format_value(const Kpistream__V1__MetricResult *r, char *buf, size_t size) {
  if (size == 0)
    return;
  if (r->result_case != KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE) {
    snprintf(buf, size, "—");
    return;
  }
  double v = r->value;
  if (!isfinite(v)) { /* never produced by a correct plugin: show it as is */
    snprintf(buf, size, "%g", v);
    return;
  }
  switch (kind_of(r)) {
  case KIND_PERCENT_OF_RATIO:
    snprintf(buf, size, "%.1f%%", v * 100.0);
    break;
  case KIND_PERCENT:
    snprintf(buf, size, "%.1f%%", v);
    break;
  case KIND_MILLIS:
    v /= 1000.0;
    /* fall through */
  case KIND_SECONDS:
    if (fabs(v) < 9999.95)
      snprintf(buf, size, "%.1fs", v);
    else
      snprintf(buf, size, "%.0fs", v);
    break;
  case KIND_COUNT:
    if (fabs(v - round(v)) < 1e-9)
      snprintf(buf, size, "%.0f", v);
    else
      snprintf(buf, size, "%.1f", v);
    break;
  case KIND_DECIMAL:
    snprintf(buf, size, "%.2f", v);
    break;
  case KIND_AUTO:
  default:
    if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
      snprintf(buf, size, "%.0f", v);
    else
      snprintf(buf, size, "%.2f", v);
    break;
  }
}

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

/* "k=v,k=v"; "" without labels. Caller frees. */
static char *labels_text(const Kpistream__V1__MetricResult *r) {
  size_t len = 1;
  for (size_t i = 0; i < r->n_labels; i++)
    len += strlen(r->labels[i]->key) + strlen(r->labels[i]->value) + 2;
  char *s = malloc(len);
  if (!s)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < r->n_labels; i++)
    o += (size_t)snprintf(s + o, len - o, "%s%s=%s", i ? "," : "", r->labels[i]->key,
                          r->labels[i]->value);
  s[o] = '\0';
  return s;
}

static void format_interval(char *buf, size_t size, int64_t start_ms, int64_t end_ms) {
  time_t s = (time_t)(start_ms / 1000), e = (time_t)(end_ms / 1000);
  struct tm ts, te;
  gmtime_r(&s, &ts);
  gmtime_r(&e, &te);
  int same_day = ts.tm_year == te.tm_year && ts.tm_yday == te.tm_yday;
  int ends_at_midnight = te.tm_hour == 0 && te.tm_min == 0 && end_ms - start_ms <= 86400000;
  if (same_day || ends_at_midnight)
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d–%02d:%02d UTC", ts.tm_year + 1900, ts.tm_mon + 1,
             ts.tm_mday, ts.tm_hour, ts.tm_min, te.tm_hour, te.tm_min);
  else
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d – %04d-%02d-%02d %02d:%02d UTC",
             ts.tm_year + 1900, ts.tm_mon + 1, ts.tm_mday, ts.tm_hour, ts.tm_min, te.tm_year + 1900,
             te.tm_mon + 1, te.tm_mday, te.tm_hour, te.tm_min);
}

/* ---- rows and columns ------------------------------------------------------ */

typedef struct table_row {
  int channel;
  const char *queue; /* borrowed from a result */
  const char *agent; /* borrowed from a result */
  char *labels;      /* owned */
} table_row;

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

static long find_col(const char *const *cols, size_t ncols, const char *metric) {
  for (size_t i = 0; i < ncols; i++)
    if (strcmp(cols[i], metric) == 0)
      return (long)i;
  return -1;
}

int ks_watch_table_render(FILE *out, const Kpistream__V1__MetricResult *const *results, size_t n,
                          const ks_watch_table_opts *opts) {
  if (n == 0)
    return 0;
  const Kpistream__V1__MetricResult *first = results[0];
  int rc = -1;
  const char **cols = calloc(n + ks_watch_n_default_metrics + opts->n_metrics + 1, sizeof *cols);
  table_row *rows = calloc(n, sizeof *rows);
  char **labels = calloc(n, sizeof *labels); /* per result */
  long *cells = NULL;
  char *texts = NULL;
  size_t ncols = 0, nrows = 0;
  if (!cols || !rows || !labels)
    goto out;

    /* Which results take part: agent rows only on request. */
#define TAKES_PART(r) (opts->show_agents || (r)->agent_id[0] == '\0')

  /* Columns. */
  if (opts->all_metrics) {
    for (size_t i = 0; i < n; i++)
      if (TAKES_PART(results[i]) && results[i]->metric[0] &&
          find_col(cols, ncols, results[i]->metric) < 0)
        cols[ncols++] = results[i]->metric;
  } else if (opts->n_metrics > 0) {
    for (size_t i = 0; i < opts->n_metrics; i++)
      if (find_col(cols, ncols, opts->metrics[i]) < 0)
        cols[ncols++] = opts->metrics[i];
  } else {
    for (size_t d = 0; d < ks_watch_n_default_metrics; d++)
      for (size_t i = 0; i < n; i++)
        if (TAKES_PART(results[i]) &&
            strcmp(results[i]->metric, ks_watch_default_metrics[d]) == 0) {
          cols[ncols++] = ks_watch_default_metrics[d];
          break;
        }
    if (ncols == 0) /* another family: show what there is */
      for (size_t i = 0; i < n; i++)
        if (TAKES_PART(results[i]) && results[i]->metric[0] &&
            find_col(cols, ncols, results[i]->metric) < 0)
          cols[ncols++] = results[i]->metric;
  }

  /* Rows: distinct dimensions among results that fill a column. */
  int any_agent = 0, any_labels = 0;
  for (size_t i = 0; i < n; i++) {
    const Kpistream__V1__MetricResult *r = results[i];
    if (!TAKES_PART(r) || find_col(cols, ncols, r->metric) < 0)
      continue;
    labels[i] = labels_text(r);
    if (!labels[i])
      goto out;
    size_t j;
    for (j = 0; j < nrows; j++)
      if (row_matches(&rows[j], r, labels[i]))
        break;
    if (j == nrows) {
      rows[nrows].channel = (int)r->channel;
      rows[nrows].queue = r->queue;
      rows[nrows].agent = r->agent_id;
      rows[nrows].labels = strdup(labels[i]);
      if (!rows[nrows].labels)
        goto out;
      nrows++;
      any_agent |= r->agent_id[0] != '\0';
      any_labels |= labels[i][0] != '\0';
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
    long c = find_col(cols, ncols, r->metric);
    for (size_t j = 0; j < nrows; j++) {
      if (!row_matches(&rows[j], r, labels[i]))
        continue;
      long *cell = &cells[j * ncols + (size_t)c];
      if (*cell < 0 || results[*cell]->revision <= r->revision)
        *cell = (long)i;
      break;
    }
  }

  /* Texts and widths: fixed columns channel, queue, [agent], [labels]. */
  size_t nfixed = 2 + (size_t)any_agent + (size_t)any_labels;
  size_t ntot = nfixed + ncols;
  texts = malloc((nrows + 1) * ntot * CELL_MAX);
  size_t *width = calloc(ntot, sizeof *width);
  if (!texts || !width) {
    free(width);
    goto out;
  }
#define TEXT(row, col) (texts + ((size_t)(row)*ntot + (col)) * CELL_MAX)
  {
    size_t c = 0;
    snprintf(TEXT(0, c++), CELL_MAX, "channel");
    snprintf(TEXT(0, c++), CELL_MAX, "queue");
    if (any_agent)
      snprintf(TEXT(0, c++), CELL_MAX, "agent");
    if (any_labels)
      snprintf(TEXT(0, c++), CELL_MAX, "labels");
    for (size_t k = 0; k < ncols; k++)
      cell_text(TEXT(0, c++), CELL_MAX, ks_watch_metric_heading(cols[k]));
  }
  for (size_t j = 0; j < nrows; j++) {
    const table_row *row = &rows[j];
    size_t c = 0;
    const char *ch = channel_name(row->channel);
    if (ch)
      snprintf(TEXT(j + 1, c++), CELL_MAX, "%s", ch);
    else
      snprintf(TEXT(j + 1, c++), CELL_MAX, "ch%d", row->channel);
    cell_text(TEXT(j + 1, c++), CELL_MAX, row->queue[0] ? row->queue : "(all)");
    if (any_agent)
      cell_text(TEXT(j + 1, c++), CELL_MAX, row->agent);
    if (any_labels)
      cell_text(TEXT(j + 1, c++), CELL_MAX, row->labels);
    for (size_t k = 0; k < ncols; k++) {
      long idx = cells[j * ncols + k];
      if (idx < 0)
        snprintf(TEXT(j + 1, c++), CELL_MAX, "·");
      else
        ks_watch_format_value(results[idx], TEXT(j + 1, c++), CELL_MAX);
    }
  }
  for (size_t j = 0; j <= nrows; j++)
    for (size_t c = 0; c < ntot; c++) {
      size_t w = text_width(TEXT(j, c));
      if (w > width[c])
        width[c] = w;
    }

  /* Heading. */
  char when[96], who[CELL_MAX];
  format_interval(when, sizeof when, first->interval_start_ms, first->interval_end_ms);
  cell_text(who, sizeof who, first->tenant[0] ? first->tenant : "(no tenant)");
  fprintf(out, "%s · %s", who, when);
  if (opts->note && *opts->note)
    fprintf(out, "  [%s]", opts->note);
  fputc('\n', out);

  if (nrows == 0) {
    fprintf(out, "  (no rows)\n\n");
  } else {
    for (size_t j = 0; j <= nrows; j++) {
      for (size_t c = 0; c < ntot; c++) {
        if (c)
          fputs("  ", out);
        /* names left-aligned; numbers right-aligned; the last column unpadded
         * when left-aligned */
        int right = c >= nfixed;
        if (!right && c + 1 == ntot)
          fputs(TEXT(j, c), out);
        else
          put_padded(out, TEXT(j, c), width[c], right);
      }
      fputc('\n', out);
    }
    fputc('\n', out);
  }
#undef TEXT
#undef TAKES_PART
  free(width);
  rc = (int)nrows;

out:
  if (rows)
    for (size_t j = 0; j < nrows; j++)
      free(rows[j].labels);
  if (labels)
    for (size_t i = 0; i < n; i++)
      free(labels[i]);
  free(texts);
  free(cells);
  free(labels);
  free(rows);
  free(cols);
  return rc;
}
