/* The subcommands' one command-line parser (core/base/cli.c): options and
 * arguments in command-line order, values inline or apart, "--", errors,
 * and a second parse in the same process (getopt's state is reset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

enum { O_FROM = 256 };
static const struct option longopts[] = {{"topic", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"from-beginning", no_argument, NULL, O_FROM},
                                         {"bootstrap-servers", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};

/* Parse argv; out gets "<code>=<value>" per step, e.g. "t=a", "1=x", "256=". */
static int parse(int argc, char **argv, char out[][32], int max) {
  ks_cli cli;
  ks_cli_init(&cli, "test", argc, argv, "t:hb:", longopts);
  const char *v;
  int c, n = 0;
  while ((c = ks_cli_next(&cli, &v)) != KS_CLI_END) {
    assert_true(n < max);
    snprintf(out[n++], 32, "%d=%s", c, v ? v : "");
    if (c == KS_CLI_BAD)
      break;
  }
  return n;
}

static void expect(char got[][32], int n, const char *const *want, int n_want) {
  assert_int_equal(n, n_want);
  for (int i = 0; i < n; i++)
    assert_string_equal(got[i], want[i]);
}

static void in_order_values_and_the_rest(void **state) {
  (void)state;
  char a0[] = "watch", a1[] = "-t", a2[] = "a", a3[] = "x", a4[] = "--topic=b", a5[] = "-tc",
       a6[] = "--from-beginning", a7[] = "--top", a8[] = "d", a9[] = "--", a10[] = "-h";
  char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, NULL};
  const char *const want[] = {"116=a", "1=x",   "116=b", "116=c",
                              "256=",  "116=d", "1=-h"}; /* 't' = 116 */
  char got[16][32];
  int n = parse(11, argv, got, 16);
  expect(got, n, want, 7);
  /* again, in the same process: the same steps */
  n = parse(11, argv, got, 16);
  expect(got, n, want, 7);
}

static void errors_stop_with_bad(void **state) {
  (void)state;
  char a0[] = "watch", a1[] = "-h", a2[] = "--topic";
  char *missing[] = {a0, a1, a2, NULL};
  char got[8][32];
  const char *const want_missing[] = {"104=", "63="}; /* 'h', then KS_CLI_BAD */
  expect(got, parse(3, missing, got, 8), want_missing, 2);
  char b1[] = "--nope", b2[] = "x";
  char *unknown[] = {a0, b1, b2, NULL};
  const char *const want_unknown[] = {"63="};
  expect(got, parse(3, unknown, got, 8), want_unknown, 1);
  char c1[] = "--from-beginning=1";
  char *no_value[] = {a0, c1, NULL};
  expect(got, parse(2, no_value, got, 8), want_unknown, 1);
  char d1[] = "-z";
  char *short_unknown[] = {a0, d1, NULL};
  expect(got, parse(2, short_unknown, got, 8), want_unknown, 1);
  /* after an error, a fresh parse starts over */
  char e1[] = "-b", e2[] = "host:9092";
  char *fine[] = {a0, e1, e2, NULL};
  const char *const want_fine[] = {"98=host:9092"};
  expect(got, parse(3, fine, got, 8), want_fine, 1);
}

/* -X KEY=VALUE: appended in order; no '=', an empty key and
 * bootstrap.servers (that is -b's) refused with exit 2, nothing appended. */
static void properties_are_checked(void **state) {
  (void)state;
  const char **props = NULL;
  size_t n = 0;
  assert_int_equal(ks_cli_property("dump", "fetch.wait.max.ms=50", &props, &n), 0);
  assert_int_equal(ks_cli_property("dump", "client.id=a=b", &props, &n), 0);
  assert_int_equal(ks_cli_property("dump", "noequals", &props, &n), KS_EXIT_USAGE);
  assert_int_equal(ks_cli_property("dump", "=x", &props, &n), KS_EXIT_USAGE);
  assert_int_equal(ks_cli_property("dump", "bootstrap.servers=h:1", &props, &n), KS_EXIT_USAGE);
  assert_int_equal(n, 2);
  assert_string_equal(props[0], "fetch.wait.max.ms=50");
  assert_string_equal(props[1], "client.id=a=b");
  free(props);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(in_order_values_and_the_rest),
      cmocka_unit_test(errors_stop_with_bad),
      cmocka_unit_test(properties_are_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
