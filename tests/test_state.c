/* State store: create/find/remove, many keys (index growth and
 * backward-shift deletion), windowed drop, keyed TTL order, keyed visits at
 * a given clock, a store loaded from its visit (restore). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- incremental checkpoints ------------------------------------------------ */

/* Everything ks_store_visit reports, as bytes: interval, times, key,
 * record, in visit order (what a full snapshot holds). */
typedef struct dump {
  unsigned char *p;
  size_t n, cap;
  uint32_t rsize;
} dump;

static void dump_put(dump *d, const void *v, size_t n) {
  if (d->n + n > d->cap) {
    d->cap = (d->n + n) * 2;
    d->p = realloc(d->p, d->cap);
    assert_non_null(d->p);
  }
  memcpy(d->p + d->n, v, n);
  d->n += n;
}

static int dump_cb(void *ud, int64_t interval, const void *key, size_t keylen, const void *record,
                   int64_t touched_ms, int64_t listed_ms) {
  dump *d = ud;
  int64_t h[4] = {interval, touched_ms, listed_ms, (int64_t)keylen};
  dump_put(d, h, sizeof h);
  dump_put(d, key, keylen);
  dump_put(d, record, d->rsize);
  return 0;
}

static void dump_of(const ks_store *s, dump *d) {
  d->n = 0;
  d->rsize = sizeof(rec);
  assert_int_equal(ks_store_visit(s, dump_cb, d), 0);
}

/* Replays every change of `from` on `to` (what a restore of a delta does). */
typedef struct replay {
  ks_store *to;
  size_t n; /* changes replayed */
} replay;

static int apply_cb(void *ud, ks_change_kind kind, int64_t interval, const void *key, size_t keylen,
                    const void *record, int64_t touched_ms, int64_t listed_ms) {
  replay *r = ud;
  void *dst = NULL;
  r->n++;
  int rc = ks_store_apply(r->to, kind, interval, key, keylen, touched_ms, listed_ms,
                          kind >= KS_CHANGE_UPDATE ? &dst : NULL);
  if (rc == 0 && dst)
    memcpy(dst, record, sizeof(rec));
  return rc;
}

static uint64_t rnd(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static int bump_cb(void *ud, const void *key, size_t keylen, void *record) {
  (void)key;
  uint64_t *x = ud;
  if (keylen % 3 == 0 && rnd(x) % 4 == 0)
    ((rec *)record)->b += 1; /* a write through foreach */
  return 0;
}

/* Property: random gets (written or only read), removals, TTL expiry on
 * read and by sweep, interval drops and foreach writes; at random points a
 * delta is taken and replayed on a copy that started from the same base.
 * The copy must then visit exactly as the store does (records, both times,
 * list order), at every checkpoint, for many seeds. */
static void deltas_rebuild_the_store(void **state) {
  (void)state;
  const int64_t ttl = 50, ilen = 100;
  int seeds = 60;
  size_t total_changes = 0, checkpoints = 0;
  for (uint64_t seed = 1; seed <= (uint64_t)seeds; seed++) {
    uint64_t x = seed * 0x9E3779B97F4A7C15u;
    ks_store *a = ks_store_new(sizeof(rec), ttl);
    ks_store *b = ks_store_new(sizeof(rec), ttl);
    dump da = {0}, db = {0};
    int64_t now = 1000;
    for (int step = 0; step < 3000; step++) {
      now += (int64_t)(rnd(&x) % 3);
      char key[16];
      int kl = snprintf(key, sizeof key, "k%u", (unsigned)(rnd(&x) % 120));
      int64_t interval = (rnd(&x) % 3 == 0) ? KS_STORE_NO_INTERVAL
                                            : ((now / ilen) - (int64_t)(rnd(&x) % 4)) * ilen;
      unsigned op = (unsigned)(rnd(&x) % 100);
      if (op < 55) {
        rec *r = ks_store_get(a, interval, key, (size_t)kl, op < 45, now);
        if (r && op % 2)
          r->a += step; /* some gets only read: still counted as changed */
      } else if (op < 70) {
        ks_store_remove(a, interval, key, (size_t)kl);
      } else if (op < 78) {
        ks_store_expire(a, now);
      } else if (op < 82) {
        ks_store_drop_interval(a, ((now / ilen) - 3 - (int64_t)(rnd(&x) % 3)) * ilen);
      } else if (op < 90) {
        ks_store_foreach(a, interval, now, bump_cb, &x);
      } else if (op < 93) {
        /* a checkpoint: the delta replayed on b, then both visit alike */
        size_t counted = ks_store_changes(a);
        replay rp = {b, 0};
        int rc = ks_store_visit_changes(a, apply_cb, &rp);
        if (rc != 0)
          fail_msg("seed %llu step %d: the delta does not apply (%d)", (unsigned long long)seed,
                   step, rc);
        /* the count that decides between a delta and a full snapshot is exact */
        assert_int_equal(counted, rp.n);
        total_changes += rp.n;
        ks_store_mark_clean(a);
        assert_int_equal(ks_store_changes(a), 0);
        dump_of(a, &da);
        dump_of(b, &db);
        if (da.n != db.n || (da.n && memcmp(da.p, db.p, da.n) != 0))
          fail_msg("seed %llu step %d: the store rebuilt from its deltas differs (%zu bytes, "
                   "%zu expected)",
                   (unsigned long long)seed, step, db.n, da.n);
        checkpoints++;
        /* b goes on as a (its baseline is the same state): its own tracking
         * must not matter */
        ks_store_mark_clean(b);
      }
    }
    free(da.p);
    free(db.p);
    ks_store_free(a);
    ks_store_free(b);
  }
  print_message("%d seeds, %zu checkpoints, %zu changes replayed\n", seeds, checkpoints,
                total_changes);
  assert_true(checkpoints > 1000);
}

/* A delta replayed on a state other than its base is refused, never
 * applied into another state: a removal or update of a missing record, an
 * addition of a present one, a drop of a missing interval. */
static void delta_of_another_base_is_refused(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  void *dst;
  assert_int_equal(ks_store_apply(s, KS_CHANGE_REMOVE, KS_STORE_NO_INTERVAL, "a", 1, 0, 0, NULL),
                   KS_ESTATE);
  assert_int_equal(ks_store_apply(s, KS_CHANGE_UPDATE, KS_STORE_NO_INTERVAL, "a", 1, 5, 5, &dst),
                   KS_ESTATE);
  assert_int_equal(ks_store_apply(s, KS_CHANGE_MOVE, KS_STORE_NO_INTERVAL, "a", 1, 5, 5, &dst),
                   KS_ESTATE);
  assert_int_equal(ks_store_apply(s, KS_CHANGE_DROP, 100, NULL, 0, 0, 0, NULL), KS_ESTATE);
  assert_int_equal(ks_store_apply(s, KS_CHANGE_ADD, KS_STORE_NO_INTERVAL, "a", 1, 5, 5, &dst), 0);
  assert_non_null(dst);
  assert_int_equal(ks_store_apply(s, KS_CHANGE_ADD, KS_STORE_NO_INTERVAL, "a", 1, 5, 5, &dst),
                   KS_ESTATE);
  assert_int_equal(ks_store_apply(s, 9, KS_STORE_NO_INTERVAL, "a", 1, 5, 5, &dst), KS_ESTATE);
  ks_store_free(s);
}

static int first_interval(void *ud, int64_t interval, const void *key, size_t keylen,
                          const void *record, int64_t touched_ms, int64_t listed_ms) {
  (void)key, (void)keylen, (void)record, (void)touched_ms, (void)listed_ms;
  int64_t *got = ud;
  if (got[0] < 8)
    got[1 + got[0]++] = interval;
  return 0;
}

/* Visits take intervals in ascending order (keyed records first), whatever
 * order they were created or dropped in: a store rebuilt from a snapshot
 * and deltas visits as the original. */
static void visit_takes_intervals_in_order(void **state) {
  (void)state;
  ks_store *s = ks_store_new(sizeof(rec), 0);
  assert_non_null(ks_store_get(s, 300, "a", 1, 1, 0));
  assert_non_null(ks_store_get(s, 100, "a", 1, 1, 0));
  assert_non_null(ks_store_get(s, 200, "a", 1, 1, 0));
  assert_non_null(ks_store_get(s, KS_STORE_NO_INTERVAL, "a", 1, 1, 0));
  assert_int_equal(ks_store_drop_interval(s, 100), 0);
  assert_int_equal(ks_store_drop_interval(s, 100), KS_ENOENT);
  assert_non_null(ks_store_get(s, 50, "a", 1, 1, 0));
  int64_t got[9] = {0};
  ks_store_visit(s, first_interval, got);
  assert_int_equal(got[0], 4);
  assert_true(got[1] == KS_STORE_NO_INTERVAL);
  assert_int_equal(got[2], 50);
  assert_int_equal(got[3], 200);
  assert_int_equal(got[4], 300);
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
      cmocka_unit_test(deltas_rebuild_the_store),
      cmocka_unit_test(delta_of_another_base_is_refused),
      cmocka_unit_test(visit_takes_intervals_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
