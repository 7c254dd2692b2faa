#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
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

static const char *level_word(int level) {
  switch (level) {
  case KS_LOG_ERROR:
    return "error";
  case KS_LOG_WARN:
    return "warn";
  case KS_LOG_INFO:
    return "info";
  default:
    return "debug";
  }
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not one (RFC 3629: no overlongs, surrogates or code points
 * above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80)
    return 1;
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return len;
}

/* msg's first n bytes as valid UTF-8 (malloc'd; each stray byte becomes
 * U+FFFD), or NULL when out of memory. */
static char *utf8_clean(const char *msg, size_t n, size_t *out_len) {
  char *o = malloc(n * 3 + 1);
  if (o == NULL)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_seq((const unsigned char *)msg + i, n - i);
    if (l == 0) {
      memcpy(o + k, "\xEF\xBF\xBD", 3);
      k += 3;
      i++;
    } else {
      memcpy(o + k, msg + i, l);
      k += l;
      i += l;
    }
  }
  o[k] = '\0';
  *out_len = k;
  return o;
}

/* The JSON object for one line into out; 0 when it does not fit or memory
 * ran out. */
static size_t format_json(char *out, size_t out_size, const char *time, int level,
                          const char *component, const char *msg, size_t msg_len) {
  size_t clen, n = 0;
  char *clean = utf8_clean(msg, msg_len, &clen);
  char *comp = utf8_clean(component, strlen(component), &(size_t){0});
  json_t *o = json_object();
  if (clean && comp && o && json_object_set_new(o, "time", json_string(time)) == 0 &&
      json_object_set_new(o, "level", json_string(level_word(level))) == 0 &&
      json_object_set_new(o, "component", json_string(comp)) == 0 &&
      json_object_set_new(o, "msg", json_stringn(clean, clen)) == 0) {
    n = json_dumpb(o, out, out_size, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (n >= out_size)
      n = 0;
    else
      out[n] = '\0';
  }
  json_decref(o);
  free(comp);
  free(clean);
  return n;
}

size_t ks_log_format(char *out, size_t out_size, int settings, int level,
                     const struct timespec *when, const char *component, const char *msg) {
  if (out_size == 0)
    return 0;
  struct tm tm;
  gmtime_r(&when->tv_sec, &tm);
  char time[96];
  snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, when->tv_nsec / 1000000);
  if (settings & KS_LOG_JSON) {
    /* a message too long for out is shortened until the object fits */
    for (size_t len = strlen(msg);; len /= 2) {
      size_t n = format_json(out, out_size, time, level, component, msg, len);
      if (n > 0 || len == 0)
        return n;
    }
  }
  int n = snprintf(out, out_size, "%s %s %s: %s", time, level_name(level), component, msg);
  if (n < 0) {
    out[0] = '\0';
    return 0;
  }
  return (size_t)n < out_size ? (size_t)n : out_size - 1;
}

void ks_logv(int min_level, int level, const char *component, const char *fmt, va_list ap) {
  if (level > (min_level & KS_LOG_LEVEL_MASK))
    return;
  char msg[2048];
  vsnprintf(msg, sizeof msg, fmt, ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  /* room for every byte of msg escaped as \u00XX */
  char line[sizeof msg * 6 + 256];
  size_t n = ks_log_format(line, sizeof line - 1, min_level, level, &ts, component, msg);
  line[n] = '\n';
  fwrite(line, 1, n + 1, stderr);
}

void ks_log(int min_level, int level, const char *component, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ks_logv(min_level, level, component, fmt, ap);
  va_end(ap);
}

int ks_log_format_parse(const char *s) {
  if (strcasecmp(s, "text") == 0)
    return 0;
  if (strcasecmp(s, "json") == 0)
    return KS_LOG_JSON;
  return -1;
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
