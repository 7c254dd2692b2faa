/*
 * kpistream plugin SDK — UTC calendar arithmetic for plugins that publish
 * day, week, month or year results (value's cost periods, the scorecard's
 * period scorecards): the one home of the civil-date conversions.
 *
 * Days are counted from 1970-01-01 (day 0, a Thursday), dates are proleptic
 * Gregorian (H. Hinnant's algorithms, valid for any int64 day).
 *
 * Also the interval floor (ks_interval_floor) the host aligns intervals with.
 *
 * Header-only; nothing is allocated.
 */
#ifndef KPISTREAM_CALENDAR_H
#define KPISTREAM_CALENDAR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KS_DAY_MS INT64_C(86400000)

/* floor(a / b) for b > 0, also for negative a. */
static inline int64_t ks_floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && a < 0);
}

/* Start of the interval of length len_ms (> 0) holding t_ms: intervals are
 * aligned to the epoch, so this is the host's ev->interval_start_ms. Exact
 * for negative t too (floor, not truncation). The one home of the interval
 * floor, for the host and the plugins. */
static inline int64_t ks_interval_floor(int64_t t_ms, int64_t len_ms) {
  int64_t r = t_ms % len_ms;
  if (r < 0)
    r += len_ms;
  return t_ms - r;
}

/* Days since 1970-01-01 of year y, month m (1..12), day d (1..31). */
static inline int64_t ks_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Year, month (1..12) and day of the month (1..31) of day z since
 * 1970-01-01. */
static inline void ks_civil_date(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* Year and month (1..12) of day z since 1970-01-01. */
static inline void ks_civil_from_days(int64_t z, int64_t *y, int *m) {
  int d;
  ks_civil_date(z, y, m, &d);
}

/* Start (ms) of the ISO week (Monday 00:00 UTC) holding t. */
static inline int64_t ks_week_start(int64_t t) {
  const int64_t d = ks_floor_div(t, KS_DAY_MS);
  return (d - ((d + 3) % 7 + 7) % 7) * KS_DAY_MS;
}

/* Start (ms) of the month holding t, shifted by n months (n < 0: before). */
static inline int64_t ks_month_start(int64_t t, int n) {
  int64_t y;
  int m;
  ks_civil_from_days(ks_floor_div(t, KS_DAY_MS), &y, &m);
  const int64_t mi = y * 12 + (m - 1) + n;
  return ks_days_from_civil(ks_floor_div(mi, 12), (int)(mi - ks_floor_div(mi, 12) * 12) + 1, 1) *
         KS_DAY_MS;
}

#ifdef __cplusplus
}
#endif

#endif
