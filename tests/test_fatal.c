/*
 * test_fatal — core/base/fatal.c's per-thread alternate signal stack: any
 * buffer is accepted and its start rounded up to 16 bytes (ASan aborted a
 * worker thread whose stack started 4 bytes off when a plugin called exit()
 * there: e2e_plugin_fault exit2 in the sanitizer build), a buffer too small
 * once aligned is refused, NULL disables it.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fatal.h"

static void misaligned_buffer_is_aligned(void **state) {
  (void)state;
  static _Alignas(16) char buf[64 * 1024 + 16];
  for (size_t off = 0; off < 16; off++) {
    assert_int_equal(ks_fatal_thread_stack(buf + off, sizeof buf - 16), 0);
    stack_t ss;
    assert_int_equal(sigaltstack(NULL, &ss), 0);
    assert_int_equal(ss.ss_flags & SS_DISABLE, 0);
    assert_int_equal((uintptr_t)ss.ss_sp % 16, 0);
    /* the aligned start, and the end stays inside the buffer */
    assert_ptr_equal(ss.ss_sp, buf + (off ? 16 : 0));
    assert_true((char *)ss.ss_sp + ss.ss_size <= buf + off + sizeof buf - 16);
  }
  assert_int_equal(ks_fatal_thread_stack(NULL, 0), 0);
  stack_t ss;
  assert_int_equal(sigaltstack(NULL, &ss), 0);
  assert_int_not_equal(ss.ss_flags & SS_DISABLE, 0);
}

static void too_small_is_refused(void **state) {
  (void)state;
  static _Alignas(16) char buf[64];
  assert_int_equal(ks_fatal_thread_stack(buf + 1, 20), -1);
  assert_int_equal(ks_fatal_thread_stack(buf + 1, 10), -1); /* smaller than the rounding */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(misaligned_buffer_is_aligned),
      cmocka_unit_test(too_small_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
