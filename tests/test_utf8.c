/* utf8: ks_utf8_valid against the definition. Every code point, encoded by
 * the textbook encoder below, is valid unless it is a surrogate or above
 * U+10FFFF; counted over every 2-byte string, every 3-byte string with a
 * 3-byte lead and the 4-byte strings of each 4-byte lead, exactly the
 * encodings of code points pass (the counts are the sizes of the Unicode
 * ranges); the offset of the first bad byte; the word-at-a-time ASCII skip
 * at every alignment, reading nothing past the buffer (ASan, valgrind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

/* The RFC 3629 bit layout, without any range check: b holds 1-4 bytes. */
static size_t encode(uint32_t cp, uint8_t b[4]) {
  if (cp < 0x80) {
    b[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    b[0] = (uint8_t)(0xc0 | cp >> 6);
    b[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    b[0] = (uint8_t)(0xe0 | cp >> 12);
    b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    b[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
  }
  b[0] = (uint8_t)(0xf0 | (cp >> 18 & 0x07));
  b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
  b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
  b[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

/* The n bytes of s in a heap block of exactly n bytes (over-reads trap). */
static int valid_exact(const void *s, size_t n, size_t *bad_at) {
  uint8_t *p = malloc(n ? n : 1);
  assert_non_null(p);
  if (n)
    memcpy(p, s, n);
  int ok = ks_utf8_valid(p, n, bad_at);
  free(p);
  return ok;
}

static void every_code_point(void **state) {
  (void)state;
  uint8_t b[4];
  for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
    size_t n = encode(cp, b);
    int want = !(cp >= 0xd800 && cp <= 0xdfff);
    if (ks_utf8_valid(b, n, NULL) != want)
      fail_msg("U+%04X: valid %d, want %d", (unsigned)cp, !want, want);
    /* every proper prefix of a multi-byte sequence is truncated */
    for (size_t k = 1; k < n; k++)
      assert_int_equal(ks_utf8_valid(b, k, NULL), 0);
  }
  /* above U+10FFFF, in the 4-byte layout: F4 90 80 80 .. F7 BF BF BF */
  for (uint32_t cp = 0x110000; cp < 0x200000; cp += 0x3f)
    assert_int_equal(ks_utf8_valid(b, encode(cp, b), NULL), 0);
  /* overlong: every code point below 0x800 in 3 bytes, below 0x80 in 2 */
  for (uint32_t cp = 0; cp < 0x800; cp++) {
    uint8_t o[3] = {0xe0, (uint8_t)(0x80 | cp >> 6), (uint8_t)(0x80 | (cp & 0x3f))};
    assert_int_equal(ks_utf8_valid(o, 3, NULL), 0);
    if (cp < 0x80) {
      uint8_t o2[2] = {(uint8_t)(0xc0 | cp >> 6), (uint8_t)(0x80 | (cp & 0x3f))};
      assert_int_equal(ks_utf8_valid(o2, 2, NULL), 0);
    }
  }
}

static void counts_over_all_strings(void **state) {
  (void)state;
  uint8_t b[4];
  size_t two = 0, three = 0, four = 0;
  for (unsigned x = 0; x < 0x10000; x++) {
    b[0] = (uint8_t)(x >> 8), b[1] = (uint8_t)x;
    two += (size_t)ks_utf8_valid(b, 2, NULL);
  }
  /* 128 * 128 ASCII pairs + U+0080..U+07FF */
  assert_int_equal(two, 128 * 128 + 0x780);
  for (unsigned lead = 0xe0; lead <= 0xef; lead++)
    for (unsigned x = 0; x < 0x10000; x++) {
      b[0] = (uint8_t)lead, b[1] = (uint8_t)(x >> 8), b[2] = (uint8_t)x;
      three += (size_t)ks_utf8_valid(b, 3, NULL);
    }
  /* U+0800..U+FFFF without the 2048 surrogates */
  assert_int_equal(three, 0x10000 - 0x800 - 0x800);
  for (unsigned lead = 0xf0; lead <= 0xff; lead++)
    for (unsigned x = 0; x < 0x10000; x++) {
      b[0] = (uint8_t)lead, b[1] = (uint8_t)(x >> 8), b[2] = (uint8_t)x, b[3] = 0x80;
      four += (size_t)ks_utf8_valid(b, 4, NULL);
    }
  /* U+10000..U+10FFFF with the last byte 0x80: one in 64 */
  assert_int_equal(four, (0x110000 - 0x10000) / 64);
  /* C0, C1, F5..FF and 80..BF never start a sequence */
  for (unsigned c = 0x80; c <= 0xff; c++) {
    b[0] = (uint8_t)c, b[1] = 0x80, b[2] = 0x80, b[3] = 0x80;
    size_t len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    /* with 80 as second byte: E0 80 and F0 80 would be overlong */
    int want = (c >= 0xc2 && c <= 0xdf) || (c >= 0xe1 && c <= 0xef) || (c >= 0xf1 && c <= 0xf4);
    assert_int_equal(ks_utf8_valid(b, len, NULL), want);
  }
}

static void offset_of_the_first_bad_byte(void **state) {
  (void)state;
  static const struct {
    const char *s;
    size_t at;
  } cases[] = {
      {"\xff", 0},
      {"ab\x80", 2},
      {"\xc3\xa9\xc0\xaf", 2},
      {"\xe6\x97\xa5\xed\xa0\x80", 3},
      {"0123456789abcdef\xe6\x97", 16},
      {"0123456789abcdef\xe6\x97x", 16},
      {"\xf0\x9f\x98\x80\xf4\x90\x80\x80", 4},
      {"\xf0\x9f\x98\x80\xf0\x8f\xbf\xbf", 4},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t at = 999;
    assert_int_equal(valid_exact(cases[i].s, strlen(cases[i].s), &at), 0);
    assert_int_equal(at, cases[i].at);
  }
  size_t at = 999;
  assert_int_equal(valid_exact("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", 17, &at),
                   1);
  assert_int_equal(at, 999); /* untouched when valid */
  assert_int_equal(ks_utf8_valid(NULL, 0, NULL), 1);
  assert_int_equal(valid_exact("a\0b", 3, NULL), 1); /* U+0000 is a code point */
  assert_int_equal(ks_utf8_valid_str(NULL), 1);
  assert_int_equal(ks_utf8_valid_str(""), 1);
  assert_int_equal(ks_utf8_valid_str("\xe6\x97\xa5"), 1);
  assert_int_equal(ks_utf8_valid_str("ok\xff"), 0);
}

/* The word-at-a-time skip: a bad byte or a multi-byte character at every
 * position of ASCII strings up to 40 bytes, each in a block of exactly its
 * size. */
static void every_alignment(void **state) {
  (void)state;
  char s[48];
  for (size_t n = 1; n <= 40; n++) {
    memset(s, 'a', n);
    assert_int_equal(valid_exact(s, n, NULL), 1);
    for (size_t k = 0; k < n; k++) {
      memset(s, 'a', n);
      s[k] = (char)0xff;
      size_t at = 999;
      assert_int_equal(valid_exact(s, n, &at), 0);
      assert_int_equal(at, k);
      if (k + 2 <= n) {
        memset(s, 'a', n);
        s[k] = (char)0xc3, s[k + 1] = (char)0xa9;
        assert_int_equal(valid_exact(s, n, NULL), 1);
      }
      if (k + 2 == n + 1) { /* a 2-byte lead as the last byte: truncated */
        memset(s, 'a', n);
        s[k] = (char)0xc3;
        assert_int_equal(valid_exact(s, n, &at), 0);
        assert_int_equal(at, k);
      }
    }
  }
}

/* The input events' string rule: UTF-8 without a NUL byte. Every byte value
 * at every position of strings up to 24 bytes (each in a block of exactly
 * its size): ks_utf8_is_text_ascii against its definition, ks_utf8_text
 * against ks_utf8_valid and a byte-by-byte search for the NUL. */
static void text_has_no_nul(void **state) {
  (void)state;
  char s[24];
  for (size_t n = 1; n <= sizeof s; n++) {
    for (size_t k = 0; k < n; k++) {
      for (unsigned c = 0; c <= 0xff; c++) {
        memset(s, 'a', n);
        s[k] = (char)c;
        uint8_t *p = malloc(n);
        assert_non_null(p);
        memcpy(p, s, n);
        assert_int_equal(ks_utf8_is_text_ascii(p, n), c >= 0x01 && c <= 0x7f);
        size_t at = 999, ill = 999;
        int valid = ks_utf8_valid(p, n, &ill);
        assert_int_equal(ks_utf8_text(p, n, &at), valid && c != 0);
        if (c == 0)
          assert_int_equal(at, k);
        else if (!valid)
          assert_int_equal(at, ill);
        else
          assert_int_equal(at, 999);
        free(p);
      }
    }
  }
  /* whichever comes first */
  size_t at = 999;
  assert_int_equal(ks_utf8_text("ab\0\xff", 4, &at), 0);
  assert_int_equal(at, 2);
  assert_int_equal(ks_utf8_text("ab\xff\0", 4, &at), 0);
  assert_int_equal(at, 2);
  assert_int_equal(ks_utf8_text("caf\xc3\xa9\0", 6, &at), 0);
  assert_int_equal(at, 5);
  assert_int_equal(ks_utf8_text("caf\xc3\xa9", 5, NULL), 1);
  assert_int_equal(ks_utf8_text(NULL, 0, NULL), 1);
  assert_int_equal(ks_utf8_is_text_ascii(NULL, 0), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_code_point),
      cmocka_unit_test(counts_over_all_strings),
      cmocka_unit_test(offset_of_the_first_bad_byte),
      cmocka_unit_test(every_alignment),
      cmocka_unit_test(text_has_no_nul),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
