#include "duration.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kpistream/plugin.h"

/* A plain decimal number: optional '-' (when allowed), digits with at most
 * one '.', an optional exponent; no blanks, '+', hex, inf or nan (strtod
 * would take all of those). Returns the end of the number, or NULL. */
static const char *decimal_end(const char *s, int allow_minus) {
  const char *p = s;
  if (*p == '-' && allow_minus)
    p++;
  size_t digits = strspn(p, "0123456789");
  p += digits;
  if (*p == '.') {
    size_t frac = strspn(p + 1, "0123456789");
    digits += frac;
    p += 1 + frac;
  }
  if (digits == 0)
    return NULL;
  if (*p == 'e' || *p == 'E') {
    const char *q = p + 1;
    if (*q == '-' || *q == '+')
      q++;
    size_t exp = strspn(q, "0123456789");
    if (exp == 0)
      return NULL;
    p = q + exp;
  }
  return p;
}

/* The number at the start of s and where its unit begins; finite, no overflow. */
static int number_unit(const char *s, int allow_minus, double *v, const char **unit) {
  if (s == NULL || (*unit = decimal_end(s, allow_minus)) == NULL)
    return KS_EINVAL;
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  if (end != *unit || errno == ERANGE || !isfinite(*v))
    return KS_EINVAL;
  return 0;
}

int ks_parse_double(const char *s, double *out) {
  double v;
  const char *unit;
  if (number_unit(s, 1, &v, &unit) != 0 || *unit != '\0')
    return KS_EINVAL;
  *out = v;
  return 0;
}

int ks_parse_int(const char *s, int64_t *out) {
  if (s == NULL || *s == '\0' || (*s == '-' ? s[1] : s[0]) < '0' || (*s == '-' ? s[1] : s[0]) > '9')
    return KS_EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end != '\0')
    return KS_EINVAL;
  *out = (int64_t)v;
  return 0;
}

/* A non-negative number with a unit from units (mult 0 ends the list), at
 * most max after scaling. `whole`: the scaled value must be a whole number;
 * otherwise it is rounded, and a non-zero value must not round to 0 (0 often
 * means "off" or "unlimited"). */
typedef struct unit_mult {
  const char *unit;
  double mult;
} unit_mult;

static int parse_scaled(const char *s, const unit_mult *units, double max, int whole, double *out) {
  double v;
  const char *unit;
  if (number_unit(s, 0, &v, &unit) != 0)
    return KS_EINVAL;
  for (const unit_mult *u = units; u->mult != 0; u++)
    if (strcmp(unit, u->unit) == 0) {
      double x = round(v * u->mult);
      if (!(x <= max) || (x == 0 && v != 0) || (whole && x != v * u->mult))
        return KS_EINVAL;
      *out = x;
      return 0;
    }
  return KS_EINVAL;
}

int ks_parse_duration_ms(const char *s, int64_t *out_ms) {
  static const unit_mult units[] = {{"", 1000.0},      {"s", 1000.0},    {"ms", 1.0},
                                    {"m", 60000.0},    {"min", 60000.0}, {"h", 3600000.0},
                                    {"d", 86400000.0}, {NULL, 0}};
  double ms;
  if (parse_scaled(s, units, (double)KS_DURATION_MAX_MS, 0, &ms) != 0)
    return KS_EINVAL;
  *out_ms = (int64_t)ms;
  return 0;
}

int ks_parse_size(const char *s, uint64_t *out) {
  static const unit_mult units[] = {{"", 1.0},
                                    {"B", 1.0},
                                    {"KiB", 1024.0},
                                    {"KB", 1024.0},
                                    {"MiB", 1048576.0},
                                    {"MB", 1048576.0},
                                    {"GiB", 1073741824.0},
                                    {"GB", 1073741824.0},
                                    {"TiB", 1099511627776.0},
                                    {"TB", 1099511627776.0},
                                    {NULL, 0}};
  double n;
  if (parse_scaled(s, units, (double)KS_SIZE_MAX, 1, &n) != 0)
    return KS_EINVAL;
  *out = (uint64_t)n;
  return 0;
}

int ks_parse_bool(const char *s, int *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  if (s == NULL)
    return KS_EINVAL;
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = 1;
      return 0;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = 0;
      return 0;
    }
  }
  return KS_EINVAL;
}
