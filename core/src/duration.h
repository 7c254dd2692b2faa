/*
 * duration — parsing of the scalar configuration values shared by the host
 * config and the plugin config readers.
 */
#ifndef KS_DURATION_H
#define KS_DURATION_H

#include <stdint.h>

/* "250ms", "20s", "15m", "2h", "7d", or a bare number of seconds ("1.5").
 * Returns 0 or KS_EINVAL (negative, empty, trailing junk, overflow). */
int ks_parse_duration_ms(const char *s, int64_t *out_ms);
/* Decimal integer, whole string. */
int ks_parse_int(const char *s, int64_t *out);
/* Finite decimal number, whole string. */
int ks_parse_double(const char *s, double *out);
/* true/false/yes/no/on/off/1/0 (any case). */
int ks_parse_bool(const char *s, int *out);

#endif
