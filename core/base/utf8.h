/*
 * utf8 — the one check that a string is well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF).
 * proto3 requires every string field to be UTF-8 (Java, Go and Python refuse
 * messages where one is not), JSON too: the decoder refuses input events
 * with such a string, the JSON result encoder and `kpistream sink postgres`
 * refuse results with one.
 *
 * Pure functions, no allocation; the bytes stay the caller's.
 */
#ifndef KS_UTF8_H
#define KS_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Returns 1 when the n bytes at s (NUL bytes included, as any other code
 * point) are well-formed UTF-8, else 0 and, when bad_at is not NULL, stores
 * the offset of the first byte of the first ill-formed sequence there.
 * ASCII runs are skipped a word at a time. s may be NULL when n is 0. */
int ks_utf8_valid(const void *s, size_t n, size_t *bad_at);

/* The same for a NUL-terminated string; NULL counts as "" (valid). */
int ks_utf8_valid_str(const char *s);

/* 1 when none of the n bytes at s has its high bit set (ASCII, so UTF-8):
 * inline, for the decoder's fast path to test every string without a call;
 * only strings that are not ASCII need ks_utf8_valid. */
static inline int ks_utf8_is_ascii(const void *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  uint64_t any = 0;
  size_t i = 0;
  for (; n - i >= 8; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, sizeof w);
    any |= w;
  }
  for (; i < n; i++)
    any |= p[i];
  return (any & UINT64_C(0x8080808080808080)) == 0;
}

#endif
