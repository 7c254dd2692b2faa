/*
 * utf8 — RFC 3629 well-formedness (Table 3-7 of the Unicode standard):
 *   00..7F
 *   C2..DF 80..BF
 *   E0     A0..BF 80..BF      (E0 80..9F would be overlong)
 *   E1..EC 80..BF 80..BF
 *   ED     80..9F 80..BF      (ED A0..BF would be a surrogate)
 *   EE..EF 80..BF 80..BF
 *   F0     90..BF 80..BF 80..BF (F0 80..8F would be overlong)
 *   F1..F3 80..BF 80..BF 80..BF
 *   F4     80..8F 80..BF 80..BF (F4 90.. would be above U+10FFFF)
 * C0, C1 and F5..FF never occur; a continuation byte 80..BF never starts one.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#define HIGH_BITS UINT64_C(0x8080808080808080)

int ks_utf8_valid(const void *buf, size_t n, size_t *bad_at) {
  const unsigned char *const s = buf;
  size_t i = 0;
  while (i < n) {
    /* the common case: ASCII, 8 bytes per test */
    while (n - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, sizeof w);
      if (w & HIGH_BITS)
        break;
      i += 8;
    }
    if (i == n)
      break;
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    } else {
      goto bad;
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
      goto bad;
    for (size_t k = 2; k < len; k++)
      if ((s[i + k] & 0xc0) != 0x80)
        goto bad;
    i += len;
  }
  return 1;
bad:
  if (bad_at)
    *bad_at = i;
  return 0;
}

int ks_utf8_valid_str(const char *s) {
  return s == NULL || ks_utf8_valid(s, strlen(s), NULL);
}

int ks_utf8_text(const void *buf, size_t n, size_t *bad_at) {
  if (n == 0)
    return 1;
  size_t ill = n;
  int valid = ks_utf8_valid(buf, n, &ill);
  const unsigned char *nul = memchr(buf, 0, ill); /* only before the ill-formed byte */
  if (nul == NULL && valid)
    return 1;
  if (bad_at)
    *bad_at = nul ? (size_t)(nul - (const unsigned char *)buf) : ill;
  return 0;
}
