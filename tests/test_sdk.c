/*
 * The plugin SDK's header-only helpers (kpistream/sdk.h, kpistream/calendar.h)
 * against values worked out by hand or by an independent tool (Python's
 * datetime for the calendar, the published FNV-1a test vectors): the key
 * limits exactly as docs/plugins.md states them, the int64 key part, the
 * dimension key's bytes, KS_API_HAS, the result setters and the emitter, and
 * the saturating counter arithmetic (ks_add_i64, ks_sub_i64).
 * The host's own limit (keys of up to KS_KEY_MAX bytes, longer refused) is
 * tested in test_state.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpistream/plugin.h"

/* ---- keys ------------------------------------------------------------------------ */

static void test_key_limit_is_254_bytes(void **state) {
  (void)state;
  ks_key k;
  /* the struct is KS_KEY_MAX bytes: len, overflow and KS_KEY_BUF_MAX = 254 */
  assert_int_equal(KS_KEY_BUF_MAX, 254);
  assert_int_equal(sizeof k.buf, 254);
  assert_int_equal(sizeof k, KS_KEY_MAX);
  char part[300];
  memset(part, 'x', sizeof part);
  /* one part of 253 bytes takes 254: fits exactly */
  ks_key_reset(&k);
  ks_key_add(&k, part, 253);
  assert_int_equal(k.overflow, 0);
  assert_int_equal(k.len, 254);
  /* 254 bytes take 255: overflow, the key left as it was */
  ks_key_reset(&k);
  ks_key_add(&k, part, 254);
  assert_int_equal(k.overflow, 1);
  assert_int_equal(k.len, 0);
  /* parts add up: (100 + 1) + (152 + 1) = 254 fits, one more byte does not */
  ks_key_reset(&k);
  ks_key_add(&k, part, 100);
  ks_key_add(&k, part, 152);
  assert_int_equal(k.overflow, 0);
  assert_int_equal(k.len, 254);
  ks_key_add(&k, part, 0);
  assert_int_equal(k.overflow, 1);
  assert_int_equal(k.len, 254);
  /* a part longer than 255 bytes overflows (never wraps its length byte) */
  ks_key_reset(&k);
  ks_key_add(&k, part, 300);
  assert_int_equal(k.overflow, 1);
  assert_int_equal(k.len, 0);
  /* five KS_ID_MAX strings and two one-byte parts: 5 * 48 + 2 * 2 = 244 */
  char id[KS_ID_MAX + 1];
  memset(id, 'i', KS_ID_MAX);
  id[KS_ID_MAX] = '\0';
  const uint8_t one = 1;
  ks_key_reset(&k);
  ks_key_add(&k, &one, 1);
  ks_key_add(&k, &one, 1);
  for (int i = 0; i < 5; i++)
    ks_key_add_str(&k, id);
  assert_int_equal(k.overflow, 0);
  assert_int_equal(k.len, 244);
}

static void test_key_int64_part(void **state) {
  (void)state;
  ks_key k;
  ks_key_reset(&k);
  ks_key_add_str(&k, "t");
  ks_key_add_i64(&k, INT64_C(-5));
  ks_key_add_i64(&k, INT64_MAX);
  assert_int_equal(k.len, 2 + 9 + 9);
  int64_t v = 0;
  assert_int_equal(ks_key_part_i64(k.buf, k.len, 1, &v), 0);
  assert_true(v == INT64_C(-5));
  assert_int_equal(ks_key_part_i64(k.buf, k.len, 2, &v), 0);
  assert_true(v == INT64_MAX);
  /* part 0 is one byte, not an int64; part 3 does not exist */
  v = 7;
  assert_int_equal(ks_key_part_i64(k.buf, k.len, 0, &v), -1);
  assert_int_equal(ks_key_part_i64(k.buf, k.len, 3, &v), -1);
  assert_true(v == 7);
  /* a truncated key is refused, never read past its end */
  assert_int_equal(ks_key_part_i64(k.buf, k.len - 1, 2, &v), -1);
  char s[8];
  assert_int_equal(ks_key_part(k.buf, k.len, 0, s, sizeof s), 1);
  assert_string_equal(s, "t");
}

static void test_dims_key_bytes(void **state) {
  (void)state;
  ks_key k;
  assert_int_equal(ks_dims_key(&k, "ab", 3, "q"), 1);
  const uint8_t want[] = {2, 'a', 'b', 1, 3, 1, 'q'};
  assert_int_equal(k.len, sizeof want);
  assert_memory_equal(k.buf, want, sizeof want);
  char tenant[8], queue[8];
  int ch = -1;
  assert_int_equal(ks_dims_read(k.buf, k.len, tenant, sizeof tenant, &ch, queue, sizeof queue), 0);
  assert_string_equal(tenant, "ab");
  assert_int_equal(ch, 3);
  assert_string_equal(queue, "q");
  /* NULL parts are "" */
  assert_int_equal(ks_dims_key(&k, NULL, 0, NULL), 1);
  const uint8_t empty[] = {0, 1, 0, 0};
  assert_int_equal(k.len, sizeof empty);
  assert_memory_equal(k.buf, empty, sizeof empty);
  /* a key of one part has no dimensions */
  ks_key_reset(&k);
  ks_key_add_str(&k, "ab");
  assert_int_equal(ks_dims_read(k.buf, k.len, tenant, sizeof tenant, &ch, queue, sizeof queue), -1);
}

/* ---- strings, hashes, time ------------------------------------------------------- */

static void test_nz_fnv1a(void **state) {
  (void)state;
  assert_string_equal(ks_nz(NULL), "");
  assert_string_equal(ks_nz("x"), "x");
  /* the FNV-1a 64 test vectors */
  assert_true(ks_fnv1a("") == UINT64_C(0xcbf29ce484222325));
  assert_true(ks_fnv1a("a") == UINT64_C(0xaf63dc4c8601ec8c));
  assert_true(ks_fnv1a("foobar") == UINT64_C(0x85944171f73967e8));
  assert_true(ks_fnv1a(NULL) == ks_fnv1a(""));
}

static void test_name_copy_and_contact_key(void **state) {
  (void)state;
  char name[4];
  assert_int_equal(ks_name_copy(name, sizeof name, "abc"), 3);
  assert_string_equal(name, "abc");
  assert_int_equal(ks_name_copy(name, sizeof name, "abcdef"), 6); /* cut */
  assert_string_equal(name, "abc");
  assert_int_equal(ks_name_copy(name, sizeof name, NULL), 0);
  assert_string_equal(name, "");
  char buf[8] = "xyz";
  ks_name_copy(buf, 3, buf + 1); /* overlapping: "yz" cut to 2 bytes */
  assert_string_equal(buf, "yz");

  Kpistream__V1__Event m = KPISTREAM__V1__EVENT__INIT;
  ks_key k;
  m.tenant = "t";
  m.contact_id = "";
  assert_int_equal(ks_contact_key(&k, &m), 0); /* no contact */
  m.contact_id = NULL;
  assert_int_equal(ks_contact_key(&k, &m), 0);
  m.contact_id = "c9";
  assert_int_equal(ks_contact_key(&k, &m), 1);
  const uint8_t want[] = {1, 't', 2, 'c', '9'};
  assert_int_equal(k.len, sizeof want);
  assert_memory_equal(k.buf, want, sizeof want);
}

static void test_interval_floor_and_calendar(void **state) {
  (void)state;
  const int64_t len = 900000; /* 15 minutes */
  assert_true(ks_interval_floor(0, len) == 0);
  assert_true(ks_interval_floor(899999, len) == 0);
  assert_true(ks_interval_floor(900000, len) == 900000);
  assert_true(ks_interval_floor(-1, len) == -900000);
  assert_true(ks_interval_floor(-900000, len) == -900000);
  /* days since 1970-01-01 from Python's datetime.date */
  assert_true(ks_days_from_civil(2026, 11, 23) == 20780);
  assert_true(ks_days_from_civil(1969, 12, 31) == -1);
  assert_true(ks_days_from_civil(2024, 2, 29) == 19782);
  int64_t y;
  int m;
  ks_civil_from_days(19782, &y, &m);
  assert_true(y == 2024 && m == 2);
  ks_civil_from_days(-1, &y, &m);
  assert_true(y == 1969 && m == 12);
  int d;
  ks_civil_date(20780, &y, &m, &d);
  assert_true(y == 2026 && m == 11 && d == 23);
  ks_civil_date(-1, &y, &m, &d);
  assert_true(y == 1969 && m == 12 && d == 31);
  /* 2026-11-23 is a Monday; the month of 2024-02-29 12:00 starts 2024-02-01 */
  assert_true(ks_week_start(20780 * KS_DAY_MS + 5) == 20780 * KS_DAY_MS);
  assert_true(ks_month_start(19782 * KS_DAY_MS + 43200000, 0) == 19754 * KS_DAY_MS);
  assert_true(ks_month_start(19782 * KS_DAY_MS, 1) == 19783 * KS_DAY_MS);
}

/* ---- host API members -------------------------------------------------------------- */

static void test_api_has(void **state) {
  (void)state;
  ks_host_api api;
  memset(&api, 0, sizeof api);
  api.struct_size = sizeof api;
  assert_true(KS_API_HAS(&api, emit_to));
  assert_true(KS_API_HAS(&api, log));
  /* a 1.0 host: its table ends after keyed_foreach */
  api.struct_size = (uint32_t)offsetof(ks_host_api, emit_to);
  assert_false(KS_API_HAS(&api, emit_to));
  assert_true(KS_API_HAS(&api, keyed_foreach));
  /* one byte short of a member is not having it */
  api.struct_size = (uint32_t)(offsetof(ks_host_api, keyed_foreach) + sizeof api.keyed_foreach - 1);
  assert_false(KS_API_HAS(&api, keyed_foreach));
  assert_true(KS_API_HAS(&api, free));
  const ks_host_api *none = NULL;
  assert_false(KS_API_HAS(none, log));
}

/* ---- results ------------------------------------------------------------------------- */

typedef struct sink {
  ks_result last;
  int n;
  int rc;
} sink;

static int fake_emit(ks_plugin_ctx *ctx, ks_task *task, const ks_result *r) {
  sink *s = (sink *)(void *)ctx;
  (void)task;
  s->last = *r;
  s->n++;
  return s->rc;
}

static void test_setters_and_emitter(void **state) {
  (void)state;
  ks_result r = KS_RESULT_INIT;
  ks_result_set_value(&r, KS_AGG_MAX, 0, 5.0, 0);
  assert_int_equal(r.aggregation, KS_AGG_MAX);
  assert_int_equal(r.has_value, 0);
  assert_true(r.value == 0.0 && r.numerator == 0.0 && r.denominator == 0.0);
  ks_result_set_value(&r, KS_AGG_GAUGE, 1, -2.5, 1);
  assert_int_equal(r.has_value, 1);
  assert_true(r.value == -2.5 && r.numerator == -2.5 && r.count == 1);
  ks_result_set_sum(&r, 7.0, 3);
  assert_int_equal(r.aggregation, KS_AGG_SUM);
  assert_true(r.has_value == 1 && r.value == 7.0 && r.numerator == 7.0 && r.count == 3);

  sink s = {.rc = 0};
  ks_host_api api;
  memset(&api, 0, sizeof api);
  api.struct_size = sizeof api;
  api.emit = fake_emit;
  ks_emitter e;
  const ks_interval iv = {900000, 1800000};
  ks_emitter_init(&e, &api, (ks_plugin_ctx *)(void *)&s, NULL, &iv);
  assert_int_equal(e.r.struct_size, sizeof(ks_result));
  assert_true(e.r.interval_start_ms == 900000 && e.r.interval_end_ms == 1800000);
  e.r.tenant = "t1";
  assert_int_equal(ks_emit_count(&e, "offered", 4, "contacts"), 0);
  assert_string_equal(s.last.metric, "offered");
  assert_string_equal(s.last.unit, "contacts");
  assert_string_equal(s.last.tenant, "t1");
  assert_true(s.last.value == 4.0 && s.last.numerator == 4.0 && s.last.count == 4);
  /* a ratio over a zero denominator has no value; num and den as they are */
  assert_int_equal(ks_emit_ratio(&e, "asa", -3.0, 0.0, 2, "seconds"), 0);
  assert_int_equal(s.last.aggregation, KS_AGG_RATIO);
  assert_int_equal(s.last.has_value, 0);
  assert_true(s.last.numerator == -3.0 && s.last.denominator == 0.0 && s.last.count == 2);
  assert_int_equal(ks_emit_ratio(&e, "asa", 3.0, 2.0, 2, "seconds"), 0);
  assert_true(s.last.has_value == 1 && s.last.value == 1.5);
  assert_int_equal(ks_emit_null(&e, "budget", KS_AGG_SUM, "currency"), 0);
  assert_true(s.last.has_value == 0 && s.last.count == 0 && s.last.numerator == 0.0);
  assert_int_equal(e.failed, 0);
  /* an emit the host refuses marks the emitter failed */
  s.rc = KS_EINVAL;
  assert_int_equal(ks_emit_value(&e, "longest_wait", KS_AGG_MAX, 1, 9.0, 1, "seconds"), KS_EINVAL);
  assert_int_equal(e.failed, 1);
  assert_int_equal(s.n, 5);
}

static void test_emitter_dims(void **state) {
  (void)state;
  ks_emitter e;
  ks_emitter_init(&e, NULL, NULL, NULL, NULL);
  assert_true(e.r.interval_start_ms == 0 && e.r.interval_end_ms == 0);
  ks_key k;
  ks_dims_key(&k, "t1", 2, "");
  ks_key_add_str(&k, "a1");
  assert_int_equal(ks_emitter_dims(&e, k.buf, k.len, 1), 0);
  assert_string_equal(e.r.tenant, "t1");
  assert_int_equal(e.r.channel, 2);
  assert_string_equal(e.r.queue, "");
  assert_string_equal(e.r.agent_id, "a1");
  assert_int_equal(e.r.level, KS_LEVEL_AGENT);
  /* the same key read as a queue row: no queue, so unattributed */
  assert_int_equal(ks_emitter_dims(&e, k.buf, k.len, 0), 0);
  assert_null(e.r.agent_id);
  assert_int_equal(e.r.level, KS_LEVEL_UNATTRIBUTED);
  ks_dims_key(&k, "t1", 1, "q1");
  assert_int_equal(ks_emitter_dims(&e, k.buf, k.len, 0), 0);
  assert_string_equal(e.r.queue, "q1");
  assert_int_equal(e.r.level, KS_LEVEL_QUEUE);
  /* an agent row needs its agent part */
  assert_int_equal(ks_emitter_dims(&e, k.buf, k.len, 1), -1);
}

/* ---- counter arithmetic ------------------------------------------------------------ */

/* Sums of counters restored from a record without a checksum: exact while in
 * range, saturated at the int64 limits instead of overflowing (the values the
 * checkpoint fuzzer overflowed operations_emit.c with, regress_overflow_*). */
static void test_counter_arithmetic_saturates(void **state) {
  (void)state;
  const int64_t max = INT64_MAX, min = INT64_MIN;
  /* in range: exactly a + b, a - b */
  assert_int_equal(ks_add_i64(5, -7), -2);
  assert_int_equal(ks_sub_i64(-3, 4), -7);
  assert_int_equal(ks_add_i64(max - 1, 1), max);
  assert_int_equal(ks_add_i64(min, max), -1);
  assert_int_equal(ks_sub_i64(max, max), 0);
  assert_int_equal(ks_sub_i64(min + 1, 1), min);
  assert_int_equal(ks_sub_i64(-1, max), min);
  assert_int_equal(ks_add3_i64(4, 5, -2), 7);
  /* out of range: the limit on the side of the true result */
  assert_int_equal(ks_add_i64(max, 1), max);
  assert_int_equal(ks_add_i64(min, -1), min);
  assert_int_equal(ks_add_i64(max, max), max);
  assert_int_equal(ks_add_i64(min, min), min);
  assert_int_equal(ks_sub_i64(0, min), max); /* fcr_n - fcr_repeats, fuzzer's input */
  assert_int_equal(ks_sub_i64(-2, max), min);
  assert_int_equal(ks_sub_i64(max, -1), max);
  assert_int_equal(ks_sub_i64(min, 1), min);
  /* 6001890932696285184 + 7449286332057019762 (ans_known + ab_known, fuzzer) */
  assert_int_equal(ks_add_i64(INT64_C(6001890932696285184), INT64_C(7449286332057019762)), max);
  /* -7960447692423716345 - 8023047287439515128 (ab_known - excl_short, fuzzer) */
  assert_int_equal(ks_sub_i64(INT64_C(-7960447692423716345), INT64_C(8023047287439515128)), min);
  /* left to right: max + 1 saturates to max before - 5 */
  assert_int_equal(ks_add3_i64(max, 1, -5), max - 5);
  assert_int_equal(ks_add3_i64(min, -1, 5), min + 5);
  /* a double count: truncated as a cast while in range, else saturated */
  assert_int_equal(ks_i64_of_double(41.9), 41);
  assert_int_equal(ks_i64_of_double(-41.9), -41);
  assert_int_equal(ks_i64_of_double(9223372036854774784.0), INT64_C(9223372036854774784));
  assert_int_equal(ks_i64_of_double(9223372036854775808.0), max); /* 2^63 */
  assert_int_equal(ks_i64_of_double(1e300), max);
  assert_int_equal(ks_i64_of_double(-9223372036854775808.0), min);
  assert_int_equal(ks_i64_of_double(-1e300), min);
  assert_int_equal(ks_i64_of_double(NAN), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_limit_is_254_bytes),
      cmocka_unit_test(test_key_int64_part),
      cmocka_unit_test(test_dims_key_bytes),
      cmocka_unit_test(test_nz_fnv1a),
      cmocka_unit_test(test_name_copy_and_contact_key),
      cmocka_unit_test(test_interval_floor_and_calendar),
      cmocka_unit_test(test_api_has),
      cmocka_unit_test(test_setters_and_emitter),
      cmocka_unit_test(test_emitter_dims),
      cmocka_unit_test(test_counter_arithmetic_saturates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
