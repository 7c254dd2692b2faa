#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *level_name(int level) {
  switch (level) {
  case KS_LOG_ERROR:
    return "ERROR";
  case KS_LOG_WARN:
    return "WARN ";
  case KS_LOG_INFO:
    return "INFO ";
  default:
    return "DEBUG";
  }
}

void ks_logv(int min_level, int level, const char *component, const char *fmt, va_list ap) {
  if (level > min_level)
    return;
  char line[2048];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  int n =
      snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
               level_name(level), component);
  if (n < 0)
    return;
  if ((size_t)n < sizeof line)
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  fprintf(stderr, "%s\n", line);
}

void ks_log(int min_level, int level, const char *component, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ks_logv(min_level, level, component, fmt, ap);
  va_end(ap);
}

int ks_log_level_parse(const char *s) {
  if (strcasecmp(s, "error") == 0)
    return KS_LOG_ERROR;
  if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
    return KS_LOG_WARN;
  if (strcasecmp(s, "info") == 0)
    return KS_LOG_INFO;
  if (strcasecmp(s, "debug") == 0)
    return KS_LOG_DEBUG;
  return -1;
}

void ks_errstr_prefix(char *errstr, size_t errstr_size, const char *prefix) {
  if (prefix == NULL || errstr == NULL || errstr_size == 0)
    return;
  size_t pl = strlen(prefix) + 2, ml = strnlen(errstr, errstr_size - 1);
  if (pl >= errstr_size)
    pl = errstr_size - 1;
  if (pl + ml >= errstr_size)
    ml = errstr_size - 1 - pl;
  memmove(errstr + pl, errstr, ml);
  errstr[pl + ml] = '\0';
  memcpy(errstr, prefix, pl >= 2 ? pl - 2 : 0);
  if (pl >= 2) {
    errstr[pl - 2] = ':';
    errstr[pl - 1] = ' ';
  }
}
