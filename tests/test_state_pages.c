/* The page source of the state stores (state_pages.c): sizes served,
 * alignment, zeroing, reuse, the alignment gap handed back, large blocks,
 * and a store whose slabs and indexes come from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state.h"
#include "state_pages.h"

#define K64 ((size_t)64 * 1024)
#define M1  ((size_t)1024 * 1024)
#define M2  ((size_t)2 * 1024 * 1024)

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return 0;
  return 1;
}

static void serves_powers_of_two_from_64k(void **state) {
  (void)state;
  assert_true(ks_pages_serves(K64));
  assert_true(ks_pages_serves(2 * K64));
  assert_true(ks_pages_serves(64 * M1));
  assert_false(ks_pages_serves(K64 / 2));
  assert_false(ks_pages_serves(K64 + K64 / 2));
  assert_false(ks_pages_serves(0));
  ks_pages *p = ks_pages_new();
  assert_non_null(p);
  assert_null(ks_pages_get(p, 3 * K64, 1)); /* not a power of two: refused */
  assert_int_equal(ks_pages_mapped(p), 0);
  ks_pages_free(p);
}

static void blocks_are_aligned_zeroed_and_reused(void **state) {
  (void)state;
  ks_pages *p = ks_pages_new();
  unsigned char *a = ks_pages_get(p, K64, 1);
  assert_non_null(a);
  assert_int_equal(ks_pages_mapped(p), KS_PAGES_REGION); /* one region mapped */
  assert_int_equal((uintptr_t)a % M2, 0);                /* a region starts 2 MiB aligned */
  assert_true(all_zero(a, K64));
  unsigned char *b = ks_pages_get(p, K64, 1);
  assert_ptr_equal(b, a + K64); /* carved in order */
  memset(a, 0xab, K64);
  ks_pages_put(p, a, K64);
  unsigned char *c = ks_pages_get(p, K64, 1);
  assert_ptr_equal(c, a);        /* the returned block first */
  assert_true(all_zero(c, K64)); /* zeroed again */
  memset(c, 0xcd, K64);
  ks_pages_put(p, c, K64);
  unsigned char *d = ks_pages_get(p, K64, 0); /* not zeroed when not asked */
  assert_ptr_equal(d, a);
  assert_int_equal(d[K64 - 1], 0xcd);
  ks_pages_free(p);
}

static void alignment_gap_goes_to_the_free_lists(void **state) {
  (void)state;
  ks_pages *p = ks_pages_new();
  unsigned char *a = ks_pages_get(p, K64, 1);
  unsigned char *big = ks_pages_get(p, M1, 1);
  assert_ptr_equal(big, a + M1); /* aligned to its size: the 960 KiB after a are skipped */
  assert_int_equal((uintptr_t)big % M1, 0);
  /* ... and handed back as the largest aligned blocks: 64K at +64K, 128K at
   * +128K, 256K at +256K, 512K at +512K */
  assert_ptr_equal(ks_pages_get(p, K64, 1), a + K64);
  assert_ptr_equal(ks_pages_get(p, 2 * K64, 1), a + 2 * K64);
  assert_ptr_equal(ks_pages_get(p, 4 * K64, 1), a + 4 * K64);
  assert_ptr_equal(ks_pages_get(p, 8 * K64, 1), a + 8 * K64);
  /* nothing left of the gap: the next 64K comes after the 1 MiB block */
  assert_ptr_equal(ks_pages_get(p, K64, 1), big + M1);
  assert_int_equal(ks_pages_mapped(p), KS_PAGES_REGION);
  ks_pages_free(p);
}

static void regions_and_large_blocks(void **state) {
  (void)state;
  ks_pages *p = ks_pages_new();
  size_t n = KS_PAGES_REGION / K64, got = 0;
  unsigned char *first = NULL, *last = NULL;
  for (size_t i = 0; i <= n; i++) { /* one more than a region holds */
    unsigned char *b = ks_pages_get(p, K64, 1);
    assert_non_null(b);
    b[0] = 1; /* writable */
    b[K64 - 1] = 1;
    if (i == 0)
      first = b;
    last = b;
    got++;
  }
  assert_int_equal(got, n + 1);
  assert_int_equal(ks_pages_mapped(p), 2 * KS_PAGES_REGION);
  assert_true(last < first || last >= first + KS_PAGES_REGION); /* from the second region */
  /* more than half a region: a mapping of its own, rounded to 2 MiB */
  size_t huge = KS_PAGES_REGION;
  unsigned char *h = ks_pages_get(p, huge, 1);
  assert_non_null(h);
  assert_int_equal((uintptr_t)h % M2, 0);
  assert_int_equal(ks_pages_mapped(p), 3 * KS_PAGES_REGION);
  assert_true(all_zero(h, huge));
  h[huge - 1] = 7;
  ks_pages_put(p, h, huge);
  assert_ptr_equal(ks_pages_get(p, huge, 1), h); /* reused, not mapped again */
  assert_int_equal(h[huge - 1], 0);
  assert_int_equal(ks_pages_mapped(p), 3 * KS_PAGES_REGION);
  ks_pages_free(p);
}

typedef struct big_rec {
  int64_t id;
  unsigned char pad[504];
} big_rec;

/* 20 000 records of 512 bytes: slabs and the grown index from the pages;
 * a second store after the first is freed reuses the memory. */
static void a_store_on_pages(void **state) {
  (void)state;
  ks_pages *p = ks_pages_new();
  for (int round = 0; round < 2; round++) {
    ks_store *s = ks_store_new_in(p, sizeof(big_rec), 0);
    assert_non_null(s);
    for (int64_t i = 0; i < 20000; i++) {
      char key[24];
      int n = snprintf(key, sizeof key, "contact-%lld", (long long)i);
      big_rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, key, (size_t)n, 1, 0);
      assert_non_null(r);
      assert_int_equal(r->id, 0);
      r->id = i + 1;
    }
    for (int64_t i = 0; i < 20000; i += 7) {
      char key[24];
      int n = snprintf(key, sizeof key, "contact-%lld", (long long)i);
      big_rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, key, (size_t)n, 0, 0);
      assert_non_null(r);
      assert_int_equal(r->id, i + 1);
    }
    ks_store_stats st;
    ks_store_get_stats(s, &st);
    assert_int_equal(st.records, 20000);
    /* 20 000 x 576-byte entries (~11 MiB) and a 32768-slot index (512 KiB) */
    assert_true(ks_pages_mapped(p) >= KS_PAGES_REGION);
    assert_true(ks_pages_mapped(p) <= 2 * KS_PAGES_REGION);
    ks_store_free(s);
  }
  assert_true(ks_pages_mapped(p) <= 2 * KS_PAGES_REGION); /* round 2 reused round 1's */
  ks_pages_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(serves_powers_of_two_from_64k),
      cmocka_unit_test(blocks_are_aligned_zeroed_and_reused),
      cmocka_unit_test(alignment_gap_goes_to_the_free_lists),
      cmocka_unit_test(regions_and_large_blocks),
      cmocka_unit_test(a_store_on_pages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
