/*
 * log — one line per message on stderr, as text:
 *   2026-11-23T12:00:00.123Z WARN  engine: text
 * or, with KS_LOG_JSON (config log.format: json), one JSON object a line:
 *   {"time":"2026-11-23T12:00:00.123Z","level":"warn","component":"engine","msg":"text"}
 * The caller passes the logger's settings as min_level: a KS_LOG_* level,
 * or'd with KS_LOG_JSON for JSON lines. They are kept in the engine/runner
 * that owns them and travel with the level, so there is no global logger
 * state.
 */
#ifndef KS_LOG_H
#define KS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include "kpistream/plugin.h"

#define KS_LOG_LEVEL_MASK 0xff  /* the KS_LOG_* level within min_level */
#define KS_LOG_JSON       0x100 /* or'd into min_level: JSON lines */

void ks_logv(int min_level, int level, const char *component, const char *fmt, va_list ap);
void ks_log(int min_level, int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format one log line (without the newline) into out, as text or, when
 * settings has KS_LOG_JSON, as a JSON object. msg need not be valid UTF-8:
 * in JSON each byte that is not part of a valid UTF-8 sequence becomes
 * U+FFFD. A line longer than out is cut (a JSON line is then still one
 * valid object, with its message shortened). Returns the line's length. */
size_t ks_log_format(char *out, size_t out_size, int settings, int level,
                     const struct timespec *when, const char *component, const char *msg);

/* Put "prefix: " in front of the message in errstr (librdkafka's errstr,
 * errstr_size convention), cutting the message's end if it no longer fits.
 * A NULL prefix leaves errstr as it is. */
void ks_errstr_prefix(char *errstr, size_t errstr_size, const char *prefix);

/* "error", "warn", "info", "debug" -> KS_LOG_*; -1 when unknown. */
int ks_log_level_parse(const char *s);

/* "text" -> 0, "json" -> KS_LOG_JSON; -1 when unknown. */
int ks_log_format_parse(const char *s);

#endif
