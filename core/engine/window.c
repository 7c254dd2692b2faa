#include "window.h"

#include <stdlib.h>
#include <string.h>

#include "kpistream/plugin.h"

int ks_watermark_init(ks_watermark *w, size_t n_parts, int64_t lateness_ms) {
  memset(w, 0, sizeof *w);
  w->n_parts = n_parts;
  w->lateness_ms = lateness_ms;
  w->value = KS_NO_TIME;
  w->max_time = malloc(n_parts * sizeof *w->max_time);
  w->idle = calloc(n_parts, 1);
  if (w->max_time == NULL || w->idle == NULL) {
    ks_watermark_free(w);
    return KS_ENOMEM;
  }
  for (size_t i = 0; i < n_parts; i++)
    w->max_time[i] = KS_NO_TIME;
  return 0;
}

void ks_watermark_free(ks_watermark *w) {
  free(w->max_time);
  free(w->idle);
  w->max_time = NULL;
  w->idle = NULL;
}

void ks_watermark_observe(ks_watermark *w, size_t part, int64_t t) {
  if (t > w->max_time[part])
    w->max_time[part] = t;
  w->idle[part] = 0;
}

void ks_watermark_set_idle(ks_watermark *w, size_t part, int idle) {
  w->idle[part] = idle != 0;
}

int64_t ks_watermark_update(ks_watermark *w) {
  int64_t lo = INT64_MAX, hi = KS_NO_TIME;
  int any_active = 0;
  for (size_t i = 0; i < w->n_parts; i++) {
    int64_t m = w->max_time[i];
    if (m > hi)
      hi = m;
    if (w->idle[i])
      continue;
    if (m == KS_NO_TIME)
      return w->value; /* a partition we know nothing of holds the watermark */
    any_active = 1;
    if (m < lo)
      lo = m;
  }
  int64_t cand = any_active ? lo : hi;
  if (cand == KS_NO_TIME)
    return w->value;
  cand -= w->lateness_ms;
  if (cand > w->value)
    w->value = cand;
  return w->value;
}

void ks_watermark_force(ks_watermark *w, int64_t t) {
  if (t > w->value)
    w->value = t;
}

int ks_clock_init(ks_interval_clock *c, int64_t len_ms, int64_t grace_ms, size_t n_parts) {
  memset(c, 0, sizeof *c);
  c->len_ms = len_ms;
  c->grace_ms = grace_ms;
  c->next_close = KS_NO_TIME;
  c->n_parts = n_parts;
  return 0;
}

void ks_clock_free(ks_interval_clock *c) {
  for (size_t i = 0; i < c->n_open; i++)
    free(c->open[i].first_offset);
  free(c->open);
  c->open = NULL;
  c->n_open = c->cap_open = 0;
}

int ks_clock_is_late(const ks_interval_clock *c, int64_t start, int64_t watermark) {
  if (watermark == KS_NO_TIME)
    return 0;
  /* end + grace <= watermark, written to avoid overflow near INT64_MAX */
  return start <= watermark - c->grace_ms - c->len_ms;
}

int ks_clock_touch(ks_interval_clock *c, int64_t start, size_t part, int64_t offset) {
  if (c->next_close == KS_NO_TIME || start < c->next_close)
    c->next_close = start;
  size_t i = c->n_open;
  /* usually the newest interval: search from the back */
  while (i > 0 && c->open[i - 1].start > start)
    i--;
  if (i > 0 && c->open[i - 1].start == start) {
    ks_open_interval *o = &c->open[i - 1];
    if (offset >= 0 && (o->first_offset[part] < 0 || offset < o->first_offset[part]))
      o->first_offset[part] = offset;
    return 0;
  }
  if (c->n_open == c->cap_open) {
    size_t nc = c->cap_open ? c->cap_open * 2 : 4;
    ks_open_interval *no = realloc(c->open, nc * sizeof *no);
    if (no == NULL)
      return KS_ENOMEM;
    c->open = no;
    c->cap_open = nc;
  }
  int64_t *fo = malloc(c->n_parts * sizeof *fo);
  if (fo == NULL)
    return KS_ENOMEM;
  for (size_t p = 0; p < c->n_parts; p++)
    fo[p] = -1;
  if (offset >= 0)
    fo[part] = offset;
  memmove(&c->open[i + 1], &c->open[i], (c->n_open - i) * sizeof *c->open);
  c->open[i].start = start;
  c->open[i].first_offset = fo;
  c->n_open++;
  return 0;
}

int ks_clock_next_due(ks_interval_clock *c, int64_t watermark, int64_t *start) {
  if (c->next_close == KS_NO_TIME || !ks_clock_is_late(c, c->next_close, watermark))
    return 0;
  /* Skip a long quiet stretch: close at most KS_MAX_EMPTY_CLOSES empty
   * intervals before the next one that holds data (or the watermark). */
  int64_t target = c->n_open ? c->open[0].start
                             : ks_interval_floor(watermark - c->grace_ms - c->len_ms, c->len_ms);
  int64_t span = KS_MAX_EMPTY_CLOSES * c->len_ms;
  if (target - c->next_close > span)
    c->next_close = target - span;
  *start = c->next_close;
  return 1;
}

void ks_clock_mark_closed(ks_interval_clock *c, int64_t start) {
  if (c->n_open && c->open[0].start == start) {
    free(c->open[0].first_offset);
    memmove(&c->open[0], &c->open[1], (c->n_open - 1) * sizeof *c->open);
    c->n_open--;
  }
  c->next_close = start + c->len_ms;
}

int64_t ks_clock_commit_offset(const ks_interval_clock *c, size_t part, int64_t next_offset) {
  int64_t best = next_offset;
  for (size_t i = 0; i < c->n_open; i++) {
    int64_t fo = c->open[i].first_offset[part];
    if (fo >= 0 && (best < 0 || fo < best))
      best = fo;
  }
  return best;
}
