/* Arena: alignment, growth past a chunk, reuse after reset, decode into it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static void aligned_and_distinct(void **state) {
  (void)state;
  ks_arena a;
  assert_int_equal(ks_arena_init(&a, 256), 0);
  char *p = ks_arena_alloc(&a, 3), *q = ks_arena_alloc(&a, 5);
  assert_int_equal((uintptr_t)p % 16, 0);
  assert_int_equal((uintptr_t)q % 16, 0);
  assert_int_equal(q - p, 16);
  assert_int_equal(a.used_total, 32);
  ks_arena_free(&a);
}

static void grows_and_reuses(void **state) {
  (void)state;
  ks_arena a;
  assert_int_equal(ks_arena_init(&a, 256), 0);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 100; i++) { /* 100 x 48 bytes = 4800 > 256 */
      unsigned char *p = ks_arena_alloc(&a, 40);
      assert_non_null(p);
      memset(p, i, 40);
    }
    unsigned char *big = ks_arena_alloc(&a, 10000); /* larger than a chunk */
    assert_non_null(big);
    memset(big, 1, 10000);
    assert_int_equal(a.used_total, 100 * 48 + 10000);
    ks_arena_reset(&a);
    assert_int_equal(a.used_total, 0);
  }
  assert_int_equal(a.high_water, 100 * 48 + 10000);
  ks_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(aligned_and_distinct),
      cmocka_unit_test(grows_and_reuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
