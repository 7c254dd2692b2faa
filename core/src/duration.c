#include "duration.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kpistream/plugin.h"

int ks_parse_double(const char *s, double *out) {
  if (s == NULL || *s == '\0')
    return KS_EINVAL;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end != '\0' || !isfinite(v))
    return KS_EINVAL;
  *out = v;
  return 0;
}

int ks_parse_int(const char *s, int64_t *out) {
  if (s == NULL || *s == '\0')
    return KS_EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end != '\0')
    return KS_EINVAL;
  *out = (int64_t)v;
  return 0;
}

int ks_parse_duration_ms(const char *s, int64_t *out_ms) {
  if (s == NULL || *s == '\0')
    return KS_EINVAL;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !isfinite(v) || v < 0)
    return KS_EINVAL;
  double mult;
  if (*end == '\0' || strcmp(end, "s") == 0)
    mult = 1000.0;
  else if (strcmp(end, "ms") == 0)
    mult = 1.0;
  else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
    mult = 60000.0;
  else if (strcmp(end, "h") == 0)
    mult = 3600000.0;
  else if (strcmp(end, "d") == 0)
    mult = 86400000.0;
  else
    return KS_EINVAL;
  double ms = v * mult;
  if (ms > 9.0e15)
    return KS_EINVAL;
  *out_ms = (int64_t)llround(ms);
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
