/* State store: create/find/remove, many keys (index growth and
 * backward-shift deletion), windowed drop, keyed TTL order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state.h"

typedef struct rec {
  int64_t a;
  int64_t b;
} rec;

static void create_find_remove(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, "k1", 2, 0, 0);
  assert_null(r);
  r = ks_store_get(s, KS_STORE_NO_INTERVAL, "k1", 2, 1, 0);
  assert_non_null(r);
  assert_int_equal(r->a, 0); /* zero-filled */
  r->a = 7;
  rec *again = ks_store_get(s, KS_STORE_NO_INTERVAL, "k1", 2, 1, 0);
  assert_ptr_equal(r, again);
  assert_int_equal(again->a, 7);
  /* "k" + "1" is a different key from "k1" of another length */
  assert_null(ks_store_get(s, KS_STORE_NO_INTERVAL, "k", 1, 0, 0));
  assert_int_equal(ks_store_remove(s, KS_STORE_NO_INTERVAL, "k1", 2), 0);
  assert_int_equal(ks_store_remove(s, KS_STORE_NO_INTERVAL, "k1", 2), KS_ENOENT);
  assert_null(ks_store_get(s, KS_STORE_NO_INTERVAL, "k1", 2, 0, 0));
  ks_store_free(s);
}

static void many_keys_survive_growth_and_deletes(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  char key[32];
  for (int i = 0; i < 20000; i++) {
    int n = snprintf(key, sizeof key, "contact-%d", i);
    rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, key, (size_t)n, 1, 0);
    assert_non_null(r);
    r->a = i;
  }
  for (int i = 0; i < 20000; i += 2) {
    int n = snprintf(key, sizeof key, "contact-%d", i);
    assert_int_equal(ks_store_remove(s, KS_STORE_NO_INTERVAL, key, (size_t)n), 0);
  }
  for (int i = 0; i < 20000; i++) {
    int n = snprintf(key, sizeof key, "contact-%d", i);
    rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, key, (size_t)n, 0, 0);
    if (i % 2)
      assert_true(r && r->a == i);
    else
      assert_null(r);
  }
  ks_store_stats st;
  ks_store_get_stats(s, &st);
  assert_int_equal(st.records, 10000);
  ks_store_free(s);
}

static int sum_cb(void *ud, const void *key, size_t keylen, void *record) {
  (void)key;
  (void)keylen;
  *(int64_t *)ud += ((rec *)record)->a;
  return 0;
}

static void windowed_intervals_are_separate(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  ((rec *)ks_store_get(s, 900, "q", 1, 1, 0))->a = 1;
  ((rec *)ks_store_get(s, 900, "r", 1, 1, 0))->a = 2;
  ((rec *)ks_store_get(s, 1800, "q", 1, 1, 0))->a = 10;
  int64_t sum = 0;
  ks_store_foreach(s, 900, sum_cb, &sum);
  assert_int_equal(sum, 3);
  ks_store_drop_interval(s, 900);
  sum = 0;
  ks_store_foreach(s, 900, sum_cb, &sum);
  assert_int_equal(sum, 0);
  assert_int_equal(((rec *)ks_store_get(s, 1800, "q", 1, 0, 0))->a, 10);
  ks_store_stats st;
  ks_store_get_stats(s, &st);
  assert_int_equal(st.records, 1);
  assert_int_equal(st.intervals, 1);
  ks_store_free(s);
}

static void ttl_expires_least_recently_touched(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 100);
  ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 1, 1000);
  ks_store_get(s, KS_STORE_NO_INTERVAL, "b", 1, 1, 1050);
  ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 0, 1080); /* touch renews a */
  assert_int_equal(ks_store_expire(s, 1150), 0);          /* b idle 100: not more than ttl */
  assert_int_equal(ks_store_expire(s, 1151), 1);          /* b idle 101 */
  assert_null(ks_store_get(s, KS_STORE_NO_INTERVAL, "b", 1, 0, 1151));
  assert_non_null(ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 0, 1151));
  ks_store_free(s);
}

static void oversized_key_is_refused(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  char big[KS_KEY_MAX + 1];
  memset(big, 'x', sizeof big);
  assert_null(ks_store_get(s, KS_STORE_NO_INTERVAL, big, sizeof big, 1, 0));
  ks_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(create_find_remove),
      cmocka_unit_test(many_keys_survive_growth_and_deletes),
      cmocka_unit_test(windowed_intervals_are_separate),
      cmocka_unit_test(ttl_expires_least_recently_touched),
      cmocka_unit_test(oversized_key_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
