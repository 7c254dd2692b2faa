/* Unit tests for core/src/cmd_watch_table.c (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd_watch_table.h"

/* GCC 12 mistakes the buffer open_memstream() hands back for a pointer to
 * render()'s local variable. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

typedef Kpistream__V1__MetricResult mr;

static mr mk(const char *metric, const char *unit, int has, double v, int ch, const char *queue,
             const char *agent) {
  mr r = KPISTREAM__V1__METRIC_RESULT__INIT;
  r.metric = (char *)metric;
  r.unit = (char *)unit;
  r.tenant = "acme";
  r.interval_start_ms = 1795428000000; /* 2026-11-23T10:00Z */
  r.interval_end_ms = 1795428900000;
  r.channel = ch;
  r.queue = (char *)queue;
  r.agent_id = (char *)agent;
  if (has) {
    r.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
    r.value = v;
  }
  return r;
}

static void fmt_is(mr r, const char *want) {
  char buf[64];
  ks_watch_format_value(&r, buf, sizeof buf);
  assert_string_equal(buf, want);
}

static void test_format(void **state) {
  (void)state;
  fmt_is(mk("service_level", "ratio", 1, 0.8123, 1, "q", ""), "81.2%");
  fmt_is(mk("service_level", "ratio", 0, 0, 1, "q", ""), "—");
  fmt_is(mk("asa", "seconds", 1, 12.34, 1, "q", ""), "12.3s");
  fmt_is(mk("aht", "seconds", 1, 312.5, 1, "q", ""), "312.5s");
  fmt_is(mk("aht", "seconds", 1, 12345, 1, "q", ""), "12345s");
  fmt_is(mk("x", "ms", 1, 1500, 1, "q", ""), "1.5s");
  fmt_is(mk("offered", "contacts", 1, 42, 1, "q", ""), "42");
  fmt_is(mk("traffic_erlangs", "erlangs", 1, 3.214, 1, "q", ""), "3.21");
  fmt_is(mk("transfer_rate", "", 1, 0.055, 1, "q", ""), "5.5%"); /* by name */
  fmt_is(mk("longest_wait", "", 1, 9.96, 1, "q", ""), "10.0s");
  fmt_is(mk("mystery", "", 1, 7, 1, "q", ""), "7");
  fmt_is(mk("mystery", "", 1, 7.125, 1, "q", ""), "7.12");
}

static char *render(mr *rs, size_t n, const ks_watch_table_opts *o) {
  const mr *ptrs[64];
  for (size_t i = 0; i < n; i++)
    ptrs[i] = &rs[i];
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int rows = ks_watch_table_render(f, ptrs, n, o);
  fclose(f);
  assert_true(rows >= 0);
  return buf;
}

static void test_table(void **state) {
  (void)state;
  mr rs[] = {
      mk("asa", "seconds", 1, 4.9, 2, "support", ""),
      mk("offered", "contacts", 1, 15, 1, "billing", ""),
      mk("offered", "contacts", 1, 10, 2, "support", ""),
      mk("service_level", "ratio", 0, 0, 1, "billing", ""),
      mk("offered", "contacts", 1, 99, 0, "", ""),
      mk("aht", "seconds", 1, 290, 1, "billing", "a-1"), /* agent row: hidden */
      mk("unknown_metric", "", 1, 1, 1, "billing", ""),  /* not a default column */
  };
  ks_watch_table_opts o = {0};
  char *out = render(rs, sizeof rs / sizeof rs[0], &o);
  const char *want = "acme · 2026-11-23 10:00–10:15 UTC\n"
                     "channel  queue    offered   ASA  SL\n"
                     "voice    billing       15     ·   —\n"
                     "email    support       10  4.9s   ·\n"
                     "all      (all)         99     ·   ·\n"
                     "\n";
  assert_string_equal(out, want);
  free(out);

  const char *metrics[] = {"aht", "offered"};
  ks_watch_table_opts o2 = {.metrics = metrics, .n_metrics = 2, .show_agents = 1, .note = "late"};
  out = render(rs, sizeof rs / sizeof rs[0], &o2);
  const char *want2 = "acme · 2026-11-23 10:00–10:15 UTC  [late]\n"
                      "channel  queue    agent     AHT  offered\n"
                      "voice    billing              ·       15\n"
                      "voice    billing  a-1    290.0s        ·\n"
                      "email    support              ·       10\n"
                      "all      (all)                ·       99\n"
                      "\n";
  assert_string_equal(out, want2);
  free(out);
}

static void test_other_family_and_revision(void **state) {
  (void)state;
  mr rs[] = {mk("csat", "ratio", 1, 0.5, 1, "q", ""), mk("csat", "ratio", 1, 0.9, 1, "q", "")};
  rs[0].revision = 2; /* the higher revision wins even when it came first */
  rs[1].revision = 1;
  ks_watch_table_opts o = {0};
  char *out = render(rs, 2, &o);
  assert_non_null(strstr(out, "csat"));
  assert_non_null(strstr(out, "50.0%"));
  assert_null(strstr(out, "90.0%"));
  free(out);
}

static void test_hostile_names(void **state) {
  (void)state;
  mr rs[] = {mk("offered", "contacts", 1, 1, 1, "a\033[31mb", "")};
  ks_watch_table_opts o = {0};
  char *out = render(rs, 1, &o);
  assert_null(strchr(out, '\033'));
  assert_non_null(strstr(out, "a?[31mb"));
  free(out);
}

static void test_long_names(void **state) {
  (void)state;
  char q[128] = "";
  for (int i = 0; i < 40; i++)
    strcat(q, "\xc3\xa9"); /* é */
  mr rs[] = {mk("offered", "contacts", 1, 1, 1, q, ""),
             mk("offered", "contacts", 1, 2, 1, "abcdefghijklmnopqrstuvwxyz0123456789", "")};
  ks_watch_table_opts o = {0};
  char *out = render(rs, 2, &o);
  assert_non_null(strstr(out, "abcdefghijklmnopqrstuvwxyz01234\xe2\x80\xa6")); /* 31 + … */
  assert_non_null(strstr(out, "\xc3\xa9"));
  size_t pos = (size_t)(strstr(out, "\xc3\xa9") - out), n = 0;
  while (out[pos] == '\xc3' && out[pos + 1] == '\xa9') {
    pos += 2;
    n++;
  }
  assert_true(n < 32);
  assert_memory_equal(out + pos, "\xe2\x80\xa6", 3);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_other_family_and_revision),
      cmocka_unit_test(test_hostile_names),
      cmocka_unit_test(test_long_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
