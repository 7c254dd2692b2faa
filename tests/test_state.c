/* State store: create/find/remove, many keys (index growth and
 * backward-shift deletion), windowed drop, keyed TTL order, keyed visits at
 * a given clock, a store loaded from its visit (restore). */
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
  ks_store_foreach(s, 900, 0, sum_cb, &sum);
  assert_int_equal(sum, 3);
  ks_store_drop_interval(s, 900);
  sum = 0;
  ks_store_foreach(s, 900, 0, sum_cb, &sum);
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

/* ---- layout and index behaviour (added with the per-interval indexes) ---- */

typedef struct big {
  int64_t v[20]; /* 160 bytes: starts on a cache line */
} big;

static void records_are_aligned_and_zeroed_on_reuse(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  ks_store *b = ks_store_new(sizeof(big), 0);
  char key[KS_KEY_MAX];
  memset(key, 'k', sizeof key);
  for (size_t n = 0; n <= KS_KEY_MAX; n++) {
    rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, key, n, 1, 0);
    big *g = ks_store_get(b, 7200, key, n, 1, 0);
    assert_non_null(r);
    assert_non_null(g);
    assert_int_equal((uintptr_t)r % 16, 0);
    assert_int_equal((uintptr_t)g % 64, 0);
    assert_int_equal(r->a | r->b, 0);
    r->a = (int64_t)n + 1;
    g->v[19] = (int64_t)n + 1;
  }
  for (size_t n = 0; n <= KS_KEY_MAX; n++) {
    rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, key, n, 0, 0);
    big *g = ks_store_get(b, 7200, key, n, 0, 0);
    assert_true(r && r->a == (int64_t)n + 1);
    assert_true(g && g->v[19] == (int64_t)n + 1);
  }
  /* recycled entries come back zero-filled */
  ks_store_drop_interval(b, 7200);
  for (size_t n = 0; n <= KS_KEY_MAX; n++) {
    assert_int_equal(ks_store_remove(s, KS_STORE_NO_INTERVAL, key, n), 0);
    rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, key, n, 1, 0);
    big *g = ks_store_get(b, 8100, key, n, 1, 0);
    assert_true(r && r->a == 0 && r->b == 0);
    for (int i = 0; i < 20; i++)
      assert_int_equal(g->v[i], 0);
  }
  ks_store_free(s);
  ks_store_free(b);
}

static void records_never_move(void **state) {
  (void)state;
  enum { N = 5000 };
  ks_store *s = ks_store_new(sizeof(rec), 0);
  static rec *keyed[N], *win[N];
  char key[32];
  for (int i = 0; i < N; i++) {
    int n = snprintf(key, sizeof key, "c-%d", i);
    keyed[i] = ks_store_get(s, KS_STORE_NO_INTERVAL, key, (size_t)n, 1, 0);
    win[i] = ks_store_get(s, 900 * (i % 3), key, (size_t)n, 1, 0); /* three intervals */
    assert_non_null(keyed[i]);
    assert_non_null(win[i]);
    keyed[i]->a = i;
    win[i]->a = -i;
  }
  for (int i = 0; i < N; i++) {
    int n = snprintf(key, sizeof key, "c-%d", i);
    assert_ptr_equal(ks_store_get(s, KS_STORE_NO_INTERVAL, key, (size_t)n, 0, 0), keyed[i]);
    assert_ptr_equal(ks_store_get(s, 900 * (i % 3), key, (size_t)n, 1, 0), win[i]);
    assert_int_equal(keyed[i]->a, i);
    assert_int_equal(win[i]->a, -i);
  }
  ks_store_stats st;
  ks_store_get_stats(s, &st);
  assert_int_equal(st.records, 2 * N);
  assert_int_equal(st.intervals, 3);
  ks_store_free(s);
}

typedef struct seen {
  char keys[16][8];
  int n;
} seen;

static int order_cb(void *ud, const void *key, size_t keylen, void *record) {
  (void)record;
  seen *o = ud;
  if (o->n < 16) {
    memcpy(o->keys[o->n], key, keylen < 7 ? keylen : 7);
    o->keys[o->n][keylen < 7 ? keylen : 7] = '\0';
  }
  o->n++;
  return 0;
}

static void intervals_keep_insertion_order(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  const char *names[] = {"e", "b", "d", "a", "c"};
  for (int64_t iv = 0; iv < 5; iv++)
    for (int i = 0; i < 5; i++)
      assert_non_null(ks_store_get(s, iv * 900, names[i], 1, 1, 0));
  ks_store_drop_interval(s, 900); /* one in the middle */
  assert_int_equal(ks_store_remove(s, 2700, "d", 1), 0);
  assert_int_equal(ks_store_remove(s, 2700, "d", 1), KS_ENOENT);
  assert_int_equal(ks_store_remove(s, 900, "e", 1), KS_ENOENT); /* dropped */
  assert_non_null(ks_store_get(s, 2700, "d", 1, 1, 0));         /* now last */
  seen o = {0};
  ks_store_foreach(s, 2700, 0, order_cb, &o);
  assert_int_equal(o.n, 5);
  const char *want[] = {"e", "b", "a", "c", "d"};
  for (int i = 0; i < 5; i++)
    assert_string_equal(o.keys[i], want[i]);
  memset(&o, 0, sizeof o);
  ks_store_foreach(s, 900, 0, order_cb, &o);
  assert_int_equal(o.n, 0);
  memset(&o, 0, sizeof o);
  ks_store_foreach(s, 3600, 0, order_cb, &o);
  assert_int_equal(o.n, 5);
  assert_string_equal(o.keys[0], "e");
  ks_store_stats st;
  ks_store_get_stats(s, &st);
  assert_int_equal(st.records, 20);
  assert_int_equal(st.intervals, 4);
  for (int64_t iv = 0; iv < 5; iv++)
    ks_store_drop_interval(s, iv * 900);
  ks_store_get_stats(s, &st);
  assert_int_equal(st.records, 0);
  assert_int_equal(st.intervals, 0);
  ks_store_free(s);
}

/* A keyed visit hides records idle past the TTL at the clock it is given
 * (the task's), not at the last time the store itself was used: before,
 * the store kept its own clock, which lagged the task's when no record of
 * the table had been read since, and a restored store's clock started at
 * the task's, so the same visit saw a record before a restore and not
 * after (forecast's logged-in agents counted 9, then 8). */
static void keyed_visit_uses_the_given_clock(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 100);
  ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 1, 1000);
  ks_store_get(s, KS_STORE_NO_INTERVAL, "b", 1, 1, 1050);
  seen o = {0};
  ks_store_foreach(s, KS_STORE_NO_INTERVAL, 1100, order_cb, &o); /* a idle 100: live */
  assert_int_equal(o.n, 2);
  memset(&o, 0, sizeof o);
  ks_store_foreach(s, KS_STORE_NO_INTERVAL, 1101, order_cb, &o); /* a idle 101: gone */
  assert_int_equal(o.n, 1);
  assert_string_equal(o.keys[0], "b");
  memset(&o, 0, sizeof o);
  ks_store_foreach(s, KS_STORE_NO_INTERVAL, 1200, order_cb, &o);
  assert_int_equal(o.n, 0);
  ks_store_free(s);
}

typedef struct copy_ctx {
  ks_store *to;
  uint32_t record_size;
  int64_t listed_override; /* >= 0: load every record as listed then (touched if 1) */
} copy_ctx;

static int copy_cb(void *ud, int64_t interval, const void *key, size_t keylen, const void *record,
                   int64_t touched_ms, int64_t listed_ms) {
  copy_ctx *c = ud;
  void *dst;
  int64_t listed = c->listed_override == 1 ? touched_ms : listed_ms;
  assert_int_equal(ks_store_load(c->to, interval, key, keylen, touched_ms, listed, &dst), 0);
  memcpy(dst, record, c->record_size);
  return 0;
}

static void order_at(ks_store *s, int64_t now, seen *o) {
  memset(o, 0, sizeof *o);
  ks_store_expire(s, now);
  ks_store_foreach(s, KS_STORE_NO_INTERVAL, now, order_cb, o);
}

/* A store loaded from its own visit (a checkpoint's restore) is the same
 * store: same records, same order, and the same order after later sweeps,
 * which follow the time each record went to its list's tail. Loaded with
 * the last-touch time instead (format 1 checkpoints), a record touched
 * after it was listed stays at the head where the original moves it to the
 * tail. */
static void loaded_store_sweeps_as_the_original(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 50);
  ((rec *)ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 1, 0))->a = 1;  /* listed 0 */
  ((rec *)ks_store_get(s, KS_STORE_NO_INTERVAL, "b", 1, 1, 30))->a = 2; /* listed 30 */
  ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 0, 45);                 /* touched 45 */
  ks_store *exact = ks_store_new(sizeof(rec), 50);
  ks_store *v1 = ks_store_new(sizeof(rec), 50);
  copy_ctx ce = {exact, sizeof(rec), 0}, c1 = {v1, sizeof(rec), 1};
  assert_int_equal(ks_store_visit(s, copy_cb, &ce), 0);
  assert_int_equal(ks_store_visit(s, copy_cb, &c1), 0);
  seen o, oe, o1;
  order_at(s, 60, &o); /* a listed 60 ago, touched 15 ago: to the tail */
  order_at(exact, 60, &oe);
  order_at(v1, 60, &o1);
  assert_int_equal(o.n, 2);
  assert_string_equal(o.keys[0], "b");
  assert_string_equal(o.keys[1], "a");
  assert_memory_equal(&oe, &o, sizeof o);
  assert_string_equal(o1.keys[0], "a"); /* what format 1 gave */
  assert_int_equal(((rec *)ks_store_get(exact, KS_STORE_NO_INTERVAL, "a", 1, 0, 60))->a, 1);
  assert_int_equal(((rec *)ks_store_get(exact, KS_STORE_NO_INTERVAL, "b", 1, 0, 60))->a, 2);
  /* a key twice, or one too long, is refused */
  void *dst;
  assert_int_equal(ks_store_load(exact, KS_STORE_NO_INTERVAL, "a", 1, 60, 60, &dst), KS_ESTATE);
  assert_null(dst);
  char longkey[KS_KEY_MAX + 1];
  memset(longkey, 'k', sizeof longkey);
  assert_int_equal(ks_store_load(exact, 900, longkey, sizeof longkey, 60, 60, &dst), KS_ESTATE);
  ks_store_free(s);
  ks_store_free(exact);
  ks_store_free(v1);
}

static void expired_record_is_recreated_empty(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 100);
  rec *r = ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 1, 1000);
  r->a = 5;
  ks_store_get(s, KS_STORE_NO_INTERVAL, "b", 1, 1, 1000);
  /* idle 101 > ttl: gone on read, before any sweep */
  assert_null(ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 0, 1101));
  r = ks_store_get(s, KS_STORE_NO_INTERVAL, "b", 1, 1, 1102);
  assert_non_null(r);
  assert_int_equal(r->a, 0); /* a new record */
  ks_store_stats st;
  ks_store_get_stats(s, &st);
  assert_int_equal(st.records, 1);
  assert_int_equal(st.expired, 2);
  assert_int_equal(ks_store_expire(s, 1202), 0); /* b was created at 1102 */
  assert_int_equal(ks_store_expire(s, 1203), 1);
  ks_store_get_stats(s, &st);
  assert_int_equal(st.records, 0);
  assert_int_equal(st.expired, 3);
  ks_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(create_find_remove),
      cmocka_unit_test(many_keys_survive_growth_and_deletes),
      cmocka_unit_test(windowed_intervals_are_separate),
      cmocka_unit_test(ttl_expires_least_recently_touched),
      cmocka_unit_test(oversized_key_is_refused),
      cmocka_unit_test(records_are_aligned_and_zeroed_on_reuse),
      cmocka_unit_test(records_never_move),
      cmocka_unit_test(intervals_keep_insertion_order),
      cmocka_unit_test(expired_record_is_recreated_empty),
      cmocka_unit_test(keyed_visit_uses_the_given_clock),
      cmocka_unit_test(loaded_store_sweeps_as_the_original),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
