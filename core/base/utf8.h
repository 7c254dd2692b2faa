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

/* The string rule of input events (docs/schema.md, Validation): the n bytes
 * at s are well-formed UTF-8 and hold no NUL byte. U+0000 is UTF-8, but
 * protobuf-c hands strings over as NUL-terminated char *: "ab\0x" would
 * become "ab", another queue or contact, silently. Returns 1 when they are,
 * else 0 and, when bad_at is not NULL, stores the offset of whichever comes
 * first: a NUL byte (s[*bad_at] == 0) or the first byte of an ill-formed
 * sequence. */
int ks_utf8_text(const void *s, size_t n, size_t *bad_at);

/* 1 when every one of the n bytes at s is 0x01..0x7f (ASCII without NUL, so
 * what ks_utf8_text accepts): inline, for the decoder's fast path to test
 * every string without a call; only the others need ks_utf8_text. A byte
 * 0x00 borrows in w - 0x01..01 and sets a high bit; so does a byte above
 * 0x80, already not ASCII. Words of 8 bytes, the last one overlapping the
 * one before (or two overlapping words of 4 for 4..7 bytes): no loop over
 * the bytes of a tail. */
static inline int ks_utf8_is_text_ascii(const void *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  const uint64_t ones = UINT64_C(0x0101010101010101);
  uint64_t any = 0, w;
  if (n >= 8) {
    for (size_t i = 0; n - i > 8; i += 8) {
      memcpy(&w, p + i, sizeof w);
      any |= w | (w - ones);
    }
    memcpy(&w, p + n - 8, sizeof w);
    any |= w | (w - ones);
  } else if (n >= 4) {
    uint32_t lo, hi;
    memcpy(&lo, p, sizeof lo);
    memcpy(&hi, p + n - 4, sizeof hi);
    w = (uint64_t)hi << 32 | lo;
    any = w | (w - ones);
  } else {
    for (size_t i = 0; i < n; i++)
      any |= (uint64_t)p[i] | (uint64_t)(unsigned char)(p[i] - 1u);
  }
  return (any & (ones << 7)) == 0;
}

#endif
