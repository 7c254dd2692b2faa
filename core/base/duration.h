/*
 * duration — parsing of the scalar configuration values shared by the host
 * config and the plugin config readers. One home for every number a
 * configuration holds: each parser takes the whole string or refuses it
 * (KS_EINVAL), and refuses blanks, '+', hex, inf, nan, values that
 * overflow and unknown unit suffixes.
 */
#ifndef KS_DURATION_H
#define KS_DURATION_H

#include <stdint.h>

/* Largest duration accepted (about 285,000 years), so sums of a few
 * durations stay far from INT64_MAX. */
#define KS_DURATION_MAX_MS INT64_C(9000000000000000)
/* Largest size accepted: 1 EiB (exact as a double). */
#define KS_SIZE_MAX (UINT64_C(1) << 60)

/* "250ms", "20s", "15m", "2h", "7d", or a bare number of seconds ("1.5").
 * Rounded to the millisecond; refused: negative, empty, trailing junk, above
 * KS_DURATION_MAX_MS, or a non-zero value that rounds to 0 ms ("0.1ms"). */
int ks_parse_duration_ms(const char *s, int64_t *out_ms);
/* A byte count: "1048576", "64KiB", "512MiB", "1.5GiB", "2TiB" (KB/MB/GB/TB
 * are taken as powers of 1024 too). Refused: negative, a fraction of a byte
 * ("0.5"), above KS_SIZE_MAX, unknown units. */
int ks_parse_size(const char *s, uint64_t *out);
/* Decimal integer, optional '-', whole string, within int64. */
int ks_parse_int(const char *s, int64_t *out);
/* Finite decimal number, optional '-', whole string ("1e3" accepted). */
int ks_parse_double(const char *s, double *out);
/* true/false/yes/no/on/off/1/0 (any case). */
int ks_parse_bool(const char *s, int *out);

#endif
