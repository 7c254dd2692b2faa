/* state.memory_budget's decisions (budget.c), without Kafka or an engine:
 * the state sizes and event counts are the test's, pausing is a callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "budget.h"
#include "log.h"

static const int quiet = KS_LOG_ERROR; /* the error only */
static const int silent = 0;           /* nothing */

typedef struct input {
  int calls;
  int last; /* 1: paused, 0: resumed */
} input;

static int on_pause(void *ud, int pause) {
  input *in = ud;
  in->calls++;
  in->last = pause;
  return 6; /* partitions paused */
}

/* Budget 1000 bytes: pause above it, resume below 900. */
static void pauses_above_resumes_below_90_percent(void **state) {
  (void)state;
  input in = {0, -1};
  ks_budget b;
  ks_budget_init(&b, 1000, &quiet, on_pause, &in);
  ks_budget_check(&b, 1000, 1); /* at the budget: not over */
  assert_int_equal(in.calls, 0);
  ks_budget_check(&b, 1001, 2);
  assert_int_equal(in.calls, 1);
  assert_int_equal(in.last, 1);
  assert_int_equal(b.paused, 1);
  assert_int_equal(b.pauses, 1);
  ks_budget_check(&b, 2000, 3); /* still over, still processing: no new call */
  ks_budget_check(&b, 900, 4);  /* 90 %: not below it */
  assert_int_equal(in.calls, 1);
  ks_budget_check(&b, 899, 5);
  assert_int_equal(in.calls, 2);
  assert_int_equal(in.last, 0);
  assert_int_equal(b.paused, 0);
  assert_int_equal(b.pauses, 1);
}

/* Paused, nothing processed since the last check, state still at 90 % or
 * more: pausing cannot help. Resume, and pause again only above 1.25 x the
 * state at that point. */
static void resumes_when_pausing_cannot_help(void **state) {
  (void)state;
  input in = {0, -1};
  ks_budget b;
  ks_budget_init(&b, 1000, &silent, on_pause, &in);
  ks_budget_check(&b, 1200, 10);
  assert_int_equal(b.paused, 1);
  ks_budget_check(&b, 1200, 10); /* no event processed since */
  assert_int_equal(in.calls, 2);
  assert_int_equal(in.last, 0);
  assert_int_equal(b.paused, 0);
  assert_int_equal(b.stuck, 1500); /* 1200 + 1200 / 4 */
  ks_budget_check(&b, 1500, 11);   /* over budget, not above 1500 */
  assert_int_equal(in.calls, 2);
  ks_budget_check(&b, 1501, 12);
  assert_int_equal(in.calls, 3);
  assert_int_equal(in.last, 1);
  assert_int_equal(b.pauses, 2);
  ks_budget_check(&b, 800, 13); /* resumed below 90 %: the mark is forgotten */
  assert_int_equal(b.stuck, 0);
  ks_budget_check(&b, 1001, 14);
  assert_int_equal(b.pauses, 3);
}

static void no_budget_never_pauses(void **state) {
  (void)state;
  input in = {0, -1};
  ks_budget b;
  ks_budget_init(&b, 0, &quiet, on_pause, &in);
  ks_budget_check(&b, (size_t)1 << 40, 1);
  ks_budget_check(&b, (size_t)1 << 40, 1);
  assert_int_equal(in.calls, 0);
  assert_int_equal(b.paused, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pauses_above_resumes_below_90_percent),
      cmocka_unit_test(resumes_when_pausing_cannot_help),
      cmocka_unit_test(no_budget_never_pauses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
