/*
 * value plugin — calendar periods (UTC days, ISO weeks, months, years), interval
 * arithmetic, scopes and other small helpers.
 */
#include <string.h>

#include "kpistream/calendar.h"
#include "value_internal.h"

int64_t va_period_start(va_period p, int64_t t) {
  const int64_t day = ks_interval_floor(t, VA_DAY_MS);
  const int64_t d = day / VA_DAY_MS;
  switch (p) {
  case VA_PERIOD_WEEK:
    return ks_week_start(t);
  case VA_PERIOD_MONTH:
  case VA_PERIOD_YEAR: {
    int64_t y;
    int m;
    ks_civil_from_days(d, &y, &m);
    return ks_days_from_civil(y, p == VA_PERIOD_YEAR ? 1 : m, 1) * VA_DAY_MS;
  }
  case VA_PERIOD_DAY:
  default:
    return day;
  }
}

int64_t va_period_next(va_period p, int64_t start) {
  switch (p) {
  case VA_PERIOD_WEEK:
    return start + 7 * VA_DAY_MS;
  case VA_PERIOD_MONTH:
    return ks_month_start(start, 1);
  case VA_PERIOD_YEAR: {
    int64_t y;
    int m;
    ks_civil_from_days(ks_interval_floor(start, VA_DAY_MS) / VA_DAY_MS, &y, &m);
    return ks_days_from_civil(y + 1, 1, 1) * VA_DAY_MS;
  }
  case VA_PERIOD_DAY:
  default:
    return start + VA_DAY_MS;
  }
}

int64_t va_due_end(const va_config *cfg, int64_t end_ms) {
  const int64_t x = end_ms + cfg->settle_ms;
  const int64_t f = ks_interval_floor(x, cfg->interval_ms);
  return f == x ? x : f + cfg->interval_ms;
}

int va_period_boundary_near(const va_config *cfg, va_period p, int64_t iv_end) {
  const int64_t x = iv_end - cfg->settle_ms;
  return va_period_start(p, x) > x - cfg->interval_ms;
}

static int64_t period_max_ms(va_period p) {
  switch (p) {
  case VA_PERIOD_YEAR:
    return 366 * VA_DAY_MS;
  case VA_PERIOD_MONTH:
    return 31 * VA_DAY_MS;
  case VA_PERIOD_WEEK:
    return 7 * VA_DAY_MS;
  default:
    return VA_DAY_MS;
  }
}

int64_t va_period_ttl(const va_config *cfg, va_period p) {
  return VA_LOOKAHEAD_MS + 2 * period_max_ms(p) + cfg->settle_ms + cfg->interval_ms + VA_DAY_MS;
}

double va_periods_per_year(va_period p) {
  return p == VA_PERIOD_YEAR    ? 1.0
         : p == VA_PERIOD_MONTH ? 12.0
         : p == VA_PERIOD_WEEK  ? 52.0
                                : 365.0;
}

int va_scopes(int channel, const char *queue, va_scope out[3]) {
  int n = 0;
  if (queue[0] != '\0')
    out[n++] = (va_scope){channel, queue};
  if (channel != 0)
    out[n++] = (va_scope){channel, ""};
  out[n++] = (va_scope){0, ""};
  return n;
}

const char *va_segment(const va_config *cfg, const char *seg) {
  seg = ks_nz(seg);
  if (seg[0] == '\0' || strcmp(seg, cfg->total_segment) == 0)
    return "";
  return seg;
}
