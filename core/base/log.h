/*
 * log — one line per message on stderr:
 *   2026-11-23T12:00:00.123Z WARN  engine: text
 * The minimum level is passed by the caller (kept in the engine/runner that
 * owns it), so there is no global logger state.
 */
#ifndef KS_LOG_H
#define KS_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "kpistream/plugin.h"

void ks_logv(int min_level, int level, const char *component, const char *fmt, va_list ap);
void ks_log(int min_level, int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Put "prefix: " in front of the message in errstr (librdkafka's errstr,
 * errstr_size convention), cutting the message's end if it no longer fits.
 * A NULL prefix leaves errstr as it is. */
void ks_errstr_prefix(char *errstr, size_t errstr_size, const char *prefix);

/* "error", "warn", "info", "debug" -> KS_LOG_*; -1 when unknown. */
int ks_log_level_parse(const char *s);

#endif
