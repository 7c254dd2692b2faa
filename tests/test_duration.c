/*
 * test_duration — core/base/duration.c, the one parser of every number a
 * configuration holds (durations, sizes, integers, doubles, booleans):
 * every unit with its value worked out by hand, the limits and one past
 * them, rounding, bad and mis-cased suffixes, empty strings, signs, blanks
 * anywhere, hex/inf/nan; and the exact error text the YAML configuration
 * prints for a duration and a size it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "duration.h"
#include "kpistream/plugin.h"

typedef struct dur_case {
  const char *s;
  int64_t ms;
} dur_case;

static void durations_every_unit(void **state) {
  (void)state;
  static const dur_case good[] = {
      {"0", 0},
      {"0s", 0},
      {"0ms", 0},
      {"7", 7000}, /* a bare number is seconds */
      {"1.5", 1500},
      {".5", 500},
      {"20s", 20000},
      {"250ms", 250},
      {"15m", 900000},
      {"15min", 900000},
      {"2h", 7200000},
      {"7d", 604800000},
      {"1.5h", 5400000},
      {".5m", 30000},
      {"1e3ms", 1000},
      {"1E1", 10000},
      {"2.5e-1s", 250},
      {"1.5ms", 2},                                  /* rounded half away from zero */
      {"0.5ms", 1},                                  /* rounds up to 1, not down to 0 */
      {"2.4999ms", 2},                               /* rounded to the nearest */
      {"0.0015", 2},                                 /* 1.5 ms as seconds */
      {"0001s", 1000},                               /* leading zeros are digits */
      {"9000000000000s", INT64_C(9000000000000000)}, /* KS_DURATION_MAX_MS exactly */
      {"104166666d", INT64_C(8999999942400000)},     /* 104166666 x 86400000 */
      {"2500000000h", INT64_C(9000000000000000)},    /* 2.5e9 x 3600000 */
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    int64_t ms = -12345;
    if (ks_parse_duration_ms(good[i].s, &ms) != 0)
      fail_msg("'%s' refused", good[i].s);
    if (ms != good[i].ms)
      fail_msg("'%s' = %lld ms, expected %lld", good[i].s, (long long)ms, (long long)good[i].ms);
  }
  assert_true(KS_DURATION_MAX_MS == INT64_C(9000000000000000));
}

static void durations_refused(void **state) {
  (void)state;
  static const char *const bad[] = {
      /* empty, blanks */
      "",
      " ",
      " 5s",
      "5s ",
      "5 s",
      "\t5s",
      "5s\n",
      "5\n",
      /* negative, signs */
      "-1",
      "-1s",
      "-0",
      "-0s",
      "+5s",
      "+5",
      "--5s",
      /* overflow, one past the limit */
      "9000000000001s",
      "9000000000000001ms",
      "104166667d",
      "2500000001h",
      "1e300s",
      "1e400",
      "99999999999999999999999999d",
      /* a non-zero value that rounds to 0 ms */
      "0.4ms",
      "0.0004",
      "1e-400",
      "0.00049s",
      /* bad suffixes, wrong case */
      "5S",
      "5MS",
      "5H",
      "5D",
      "5M",
      "5sec",
      "5secs",
      "5mins",
      "5hr",
      "5hours",
      "5ss",
      "5msms",
      "5us",
      "5ns",
      "5w",
      "5y",
      "5 ms",
      "5s5",
      "5m30s",
      "1h30m",
      /* numbers that are not plain decimals */
      "s",
      "ms",
      ".",
      ".s",
      "e3",
      "1e",
      "1e+",
      "1e-s",
      "0x10",
      "0x10s",
      "1,5s",
      "1..5s",
      "1.5.s",
      "nan",
      "nans",
      "inf",
      "infs",
      "-inf",
      "infinity",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t ms = -12345;
    if (ks_parse_duration_ms(bad[i], &ms) != KS_EINVAL)
      fail_msg("'%s' accepted as %lld ms", bad[i], (long long)ms);
    if (ms != -12345)
      fail_msg("'%s' refused but wrote %lld", bad[i], (long long)ms);
  }
  int64_t ms = 0;
  assert_int_equal(ks_parse_duration_ms(NULL, &ms), KS_EINVAL);
}

static void sizes(void **state) {
  (void)state;
  static const struct {
    const char *s;
    uint64_t n;
  } good[] = {
      {"0", 0},
      {"1048576", 1048576},
      {"0B", 0},
      {"100B", 100},
      {"64KiB", 65536},
      {"64KB", 65536},
      {"512MiB", 536870912},
      {"512MB", 536870912},
      {"1.5GiB", 1610612736},
      {"1.5GB", 1610612736},
      {"2TiB", UINT64_C(2199023255552)},
      {"2TB", UINT64_C(2199023255552)},
      {"0.5KiB", 512},
      {"1e3", 1000},
      {"1048576TiB", UINT64_C(1152921504606846976)}, /* 2^60 = KS_SIZE_MAX */
      {"1152921504606846976", UINT64_C(1152921504606846976)},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    uint64_t n = 12345;
    if (ks_parse_size(good[i].s, &n) != 0)
      fail_msg("size '%s' refused", good[i].s);
    if (n != good[i].n)
      fail_msg("size '%s' = %llu, expected %llu", good[i].s, (unsigned long long)n,
               (unsigned long long)good[i].n);
  }
  assert_true(KS_SIZE_MAX == UINT64_C(1152921504606846976));
  static const char *const bad[] = {"",     " 1",     "1 ",    "1 KiB",     "-1",
                                    "+1",   "0.5",    "0.5B",  "1.0001KiB", "1048577TiB",
                                    "1EiB", "1PiB",   "64kib", "64kb",      "64K",
                                    "64k",  "64KIB",  "1b",    "1e300",     "1152921504606847232",
                                    "nan",  "inf",    "0x10",  "KiB",       "1.5",
                                    "1iB",  "1KiBKi", "1Ki",   "1.2.3",     "2e-1KiB"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint64_t n = 12345;
    if (ks_parse_size(bad[i], &n) != KS_EINVAL)
      fail_msg("size '%s' accepted as %llu", bad[i], (unsigned long long)n);
    assert_true(n == 12345);
  }
  uint64_t n;
  assert_int_equal(ks_parse_size(NULL, &n), KS_EINVAL);
}

static void integers_and_doubles(void **state) {
  (void)state;
  int64_t i = 0;
  assert_int_equal(ks_parse_int("0", &i), 0);
  assert_int_equal(i, 0);
  assert_int_equal(ks_parse_int("007", &i), 0);
  assert_int_equal(i, 7);
  assert_int_equal(ks_parse_int("-42", &i), 0);
  assert_int_equal(i, -42);
  assert_int_equal(ks_parse_int("9223372036854775807", &i), 0);
  assert_true(i == INT64_MAX);
  assert_int_equal(ks_parse_int("-9223372036854775808", &i), 0);
  assert_true(i == INT64_MIN);
  static const char *const bad_int[] = {"",
                                        "-",
                                        "+1",
                                        " 1",
                                        "1 ",
                                        "1.0",
                                        "1e3",
                                        "0x10",
                                        "1_0",
                                        "--1",
                                        "- 1",
                                        "9223372036854775808",
                                        "-9223372036854775809",
                                        "a",
                                        "1a"};
  for (size_t k = 0; k < sizeof bad_int / sizeof bad_int[0]; k++) {
    i = 12345;
    if (ks_parse_int(bad_int[k], &i) != KS_EINVAL)
      fail_msg("int '%s' accepted as %lld", bad_int[k], (long long)i);
    assert_int_equal(i, 12345);
  }
  assert_int_equal(ks_parse_int(NULL, &i), KS_EINVAL);

  static const struct {
    const char *s;
    double v;
  } good_d[] = {{"0", 0.0},      {"-2.5", -2.5},
                {".5", 0.5},     {"-.5", -0.5},
                {"1e3", 1000.0}, {"1E-3", 0.001},
                {"0.1", 0.1},    {"5.", 5.0},
                {"1e+2", 100.0}, {"1.7976931348623157e308", 1.7976931348623157e308}};
  for (size_t k = 0; k < sizeof good_d / sizeof good_d[0]; k++) {
    double d = -1;
    if (ks_parse_double(good_d[k].s, &d) != 0)
      fail_msg("double '%s' refused", good_d[k].s);
    if (d != good_d[k].v)
      fail_msg("double '%s' = %.17g", good_d[k].s, d);
  }
  static const char *const bad_d[] = {"",    " 1",    "1 ",    "+1",    "nan",    "NaN",
                                      "inf", "-inf",  "0x1p3", "1e400", "1e-400", "1e",
                                      "1,5", "1.5.2", ".",     "-",     "e5",     "1.5s"};
  for (size_t k = 0; k < sizeof bad_d / sizeof bad_d[0]; k++) {
    double d = -1;
    if (ks_parse_double(bad_d[k], &d) != KS_EINVAL)
      fail_msg("double '%s' accepted as %g", bad_d[k], d);
    assert_true(d == -1);
  }
  double d;
  assert_int_equal(ks_parse_double(NULL, &d), KS_EINVAL);
}

static void booleans(void **state) {
  (void)state;
  static const char *const yes[] = {"true", "TRUE", "True", "yes", "YES", "oN", "on", "1"};
  static const char *const no[] = {"false", "FALSE", "no", "No", "off", "OFF", "0"};
  static const char *const bad[] = {"",      "2",  "y",       "n",    "t",  "f",     " true",
                                    "true ", "01", "enabled", "nope", "10", "truee", "-1"};
  int b;
  for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++) {
    b = -1;
    assert_int_equal(ks_parse_bool(yes[k], &b), 0);
    assert_int_equal(b, 1);
  }
  for (size_t k = 0; k < sizeof no / sizeof no[0]; k++) {
    b = -1;
    assert_int_equal(ks_parse_bool(no[k], &b), 0);
    assert_int_equal(b, 0);
  }
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    b = -1;
    if (ks_parse_bool(bad[k], &b) != KS_EINVAL)
      fail_msg("bool '%s' accepted", bad[k]);
    assert_int_equal(b, -1);
  }
  assert_int_equal(ks_parse_bool(NULL, &b), KS_EINVAL);
}

/* What a person reads when the configuration holds a bad duration or size:
 * file, line, column, key, the value, and what would have been right. */
static void error_text(void **state) {
  (void)state;
  static const struct {
    const char *yaml, *err;
  } cases[] = {
      {"input: {topics: [a]}\nplugins: [{name: o}]\ncheckpoint: {interval: '5 s'}\n",
       "test.yaml:3:24: 'checkpoint.interval': '5 s' is not a duration (e.g. 500ms, 30s, 15m, "
       "1h; not negative, at least 1ms unless 0)"},
      {"input: {topics: [a]}\nplugins: [{name: o}]\nintervals:\n  grace: -1s\n",
       "test.yaml:4:10: 'intervals.grace': '-1s' is not a duration (e.g. 500ms, 30s, 15m, 1h; "
       "not negative, at least 1ms unless 0)"},
      {"input: {topics: [a]}\nplugins: [{name: o}]\nintervals: {idle_timeout: 0.4ms}\n",
       "test.yaml:3:27: 'intervals.idle_timeout': '0.4ms' is not a duration (e.g. 500ms, 30s, "
       "15m, 1h; not negative, at least 1ms unless 0)"},
      {"input: {topics: [a]}\nplugins: [{name: o}]\nstate: {memory_budget: 1.5}\n",
       "test.yaml:3:24: 'state.memory_budget': '1.5' is not a size (a whole number of bytes up "
       "to 1 EiB, e.g. 512MiB, 1.5GiB; 0 = unlimited)"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    ks_config c;
    char err[512] = "";
    assert_int_equal(ks_config_load_string(&c, cases[k].yaml, strlen(cases[k].yaml), "test.yaml",
                                           err, sizeof err),
                     KS_ECONFIG);
    assert_string_equal(err, cases[k].err);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(durations_every_unit),
      cmocka_unit_test(durations_refused),
      cmocka_unit_test(sizes),
      cmocka_unit_test(integers_and_doubles),
      cmocka_unit_test(booleans),
      cmocka_unit_test(error_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
