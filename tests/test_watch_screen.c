/* Unit tests for tools/watch/watch_screen.c (cmocka): the screen model and
 * the frames `kpistream watch` draws on a terminal, at 80 and 132 columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "watch_screen.h"

typedef Kpistream__V1__MetricResult mr;

#define T10 INT64_C(1795428000000) /* 2026-11-23T10:00Z */
#define MIN INT64_C(60000)

/* A result as the consumer has it: decoded from bytes, owned by the caller
 * (freed with free_unpacked). */
static mr *own(const char *tenant, const char *family, const char *metric, const char *unit,
               double v, int ch, const char *queue, int64_t start, const char *team) {
  mr r = KPISTREAM__V1__METRIC_RESULT__INIT;
  Kpistream__V1__Label l = KPISTREAM__V1__LABEL__INIT, *lp = &l;
  r.tenant = (char *)tenant;
  r.family = (char *)family;
  r.metric = (char *)metric;
  r.unit = (char *)unit;
  r.interval_start_ms = start;
  r.interval_end_ms = start + 15 * MIN;
  r.channel = ch;
  r.queue = (char *)queue;
  r.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
  r.value = v;
  if (team) {
    l.key = "team";
    l.value = (char *)team;
    r.labels = &lp;
    r.n_labels = 1;
  }
  uint8_t buf[1024];
  size_t n = kpistream__v1__metric_result__pack(&r, buf);
  mr *out = kpistream__v1__metric_result__unpack(NULL, n, buf);
  assert_non_null(out);
  return out;
}

/* The operations headline metrics of one (channel, queue) row. */
static void ops_row(ks_watch_screen *s, const char *tenant, int ch, const char *queue,
                    int64_t start, double offered) {
  assert_int_equal(ks_watch_screen_add(s, own(tenant, "operations", "offered", "contacts", offered,
                                              ch, queue, start, NULL)),
                   0);
  static const struct {
    const char *metric, *unit;
    double v;
  } m[] = {
      {"answered", "contacts", 110},
      {"abandoned", "contacts", 10},
      {"abandonment_rate", "ratio", 0.083},
      {"asa", "seconds", 23.4},
      {"longest_wait", "seconds", 181},
      {"service_level", "ratio", 0.812},
      {"aht", "seconds", 312.5},
      {"fcr", "ratio", 0.71},
      {"transfer_rate", "ratio", 0.055},
  };
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    assert_int_equal(ks_watch_screen_add(s, own(tenant, "operations", m[i].metric, m[i].unit,
                                                m[i].v, ch, queue, start, NULL)),
                     0);
}

static void wf_row(ks_watch_screen *s, const char *team, int64_t start) {
  static const char *const m[] = {"occupancy",   "utilization", "adherence",
                                  "conformance", "shrinkage",   "absenteeism"};
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(ks_watch_screen_add(s, own("acme", "workforce", m[i], "ratio",
                                                0.5 + 0.05 * (double)i, 0, "", start, team)),
                     0);
}

/* acme: operations of 10:00 (an older 09:45 interval replaced), workforce of
 * 09:45 (its latest); beta: operations of 10:00; one alert. */
static void fill(ks_watch_screen *s) {
  static const ks_watch_group_opts o = {0};
  ks_watch_screen_init(s, &o);
  ops_row(s, "acme", 1, "billing", T10 - 15 * MIN, 999); /* replaced below */
  wf_row(s, "digital", T10 - 15 * MIN);
  wf_row(s, NULL, T10 - 15 * MIN);
  ops_row(s, "acme", 1, "billing", T10, 120);
  ops_row(s, "acme", 0, "", T10, 150);
  ops_row(s, "beta", 3, "sales", T10, 7);
  ops_row(s, "acme", 1, "billing", T10 - 30 * MIN, 555); /* older: dropped */
  mr a = KPISTREAM__V1__METRIC_RESULT__INIT;
  Kpistream__V1__Label l[3] = {KPISTREAM__V1__LABEL__INIT, KPISTREAM__V1__LABEL__INIT,
                               KPISTREAM__V1__LABEL__INIT};
  Kpistream__V1__Label *lp[3] = {&l[0], &l[1], &l[2]};
  l[0].key = "kpi";
  l[0].value = "service_level";
  l[1].key = "rule";
  l[1].value = "service_level<0.8";
  l[2].key = "state";
  l[2].value = "fire";
  a.tenant = "acme";
  a.family = "scorecard";
  a.metric = "alert";
  a.unit = "ratio";
  a.channel = 1;
  a.queue = "support";
  a.interval_start_ms = T10;
  a.interval_end_ms = T10 + 15 * MIN;
  a.result_case = KPISTREAM__V1__METRIC_RESULT__RESULT_VALUE;
  a.value = 0.72;
  a.labels = lp;
  a.n_labels = 3;
  assert_int_equal(ks_watch_screen_alert(s, &a), 0); /* borrowed */
}

static char *frame(const ks_watch_screen *s, int width, int height) {
  char *out = NULL;
  size_t len = 0;
  assert_int_equal(ks_watch_screen_frame(s, width, height, &out, &len), 0);
  assert_int_equal(strlen(out), len);
  /* never wider than the width */
  const char *p = out;
  while (*p) {
    const char *nl = strchr(p, '\n');
    assert_non_null(nl);
    assert_true(ks_watch_text_width(p, (size_t)(nl - p)) <= (size_t)width);
    p = nl + 1;
  }
  if (getenv("KS_PRINT_FRAMES"))
    fprintf(stderr, "---- %d\n%s----\n", width, out);
  return out;
}

/* The first 9 lines of the frame at 80 columns. */
#define FRAME80_TOP                                                                                \
  "kpistream watch · latest closed interval per tenant and family\n"                              \
  "\n"                                                                                             \
  "acme · 2026-11-23 10:00–10:15 UTC\n"                                                         \
  "── operations\n"                                                                            \
  "channel  queue    offered  answered  abandoned  aband%    ASA  max wait     SL\n"               \
  "voice    billing      120       110         10    8.3%  23.4s    181.0s  81.2%\n"               \
  "all      (all)        150       110         10    8.3%  23.4s    181.0s  81.2%\n"               \
  "\n"                                                                                             \
  "acme · 2026-11-23 09:45–10:00 UTC\n"

static void test_frame_80(void **state) {
  (void)state;
  ks_watch_screen s;
  fill(&s);
  char *out = frame(&s, 80, 0);
  const char *want =
      FRAME80_TOP "── workforce\n"
                  "team     occup.  util.  adher.  conform.  shrink.  absent.\n"
                  "digital   50.0%  55.0%   60.0%     65.0%    70.0%    75.0%\n"
                  "(all)     50.0%  55.0%   60.0%     65.0%    70.0%    75.0%\n"
                  "\n"
                  "beta · 2026-11-23 10:00–10:15 UTC\n"
                  "── operations\n"
                  "channel  queue  offered  answered  abandoned  aband%    ASA  max wait     SL\n"
                  "chat     sales        7       110         10    8.3%  23.4s    181.0s  81.2%\n"
                  "\n"
                  "── alerts (last 1 of 1)\n"
                  "ALERT fired   acme voice/support service_level 72.0% < 80.0%  10:00–10:15\n";
  assert_string_equal(out, want);
  free(out);
  ks_watch_screen_free(&s);
}

static void test_frame_132(void **state) {
  (void)state;
  ks_watch_screen s;
  fill(&s);
  char *out = frame(&s, 132, 0);
  const char *want = "kpistream watch · latest closed interval per tenant and family\n"
                     "\n"
                     "acme · 2026-11-23 10:00–10:15 UTC\n"
                     "── operations\n"
                     "channel  queue    offered  answered  abandoned  aband%    ASA  max wait     "
                     "SL     AHT    FCR  xfer%\n"
                     "voice    billing      120       110         10    8.3%  23.4s    181.0s  "
                     "81.2%  312.5s  71.0%   5.5%\n"
                     "all      (all)        150       110         10    8.3%  23.4s    181.0s  "
                     "81.2%  312.5s  71.0%   5.5%\n"
                     "\n"
                     "acme · 2026-11-23 09:45–10:00 UTC\n"
                     "── workforce\n"
                     "team     occup.  util.  adher.  conform.  shrink.  absent.\n"
                     "digital   50.0%  55.0%   60.0%     65.0%    70.0%    75.0%\n"
                     "(all)     50.0%  55.0%   60.0%     65.0%    70.0%    75.0%\n"
                     "\n"
                     "beta · 2026-11-23 10:00–10:15 UTC\n"
                     "── operations\n"
                     "channel  queue  offered  answered  abandoned  aband%    ASA  max wait     SL "
                     "    AHT    FCR  xfer%\n"
                     "chat     sales        7       110         10    8.3%  23.4s    181.0s  81.2% "
                     " 312.5s  71.0%   5.5%\n"
                     "\n"
                     "── alerts (last 1 of 1)\n"
                     "ALERT fired   acme voice/support service_level 72.0% < 80.0%  10:00–10:15\n";
  assert_string_equal(out, want);
  free(out);
  ks_watch_screen_free(&s);
}

/* Narrower than any table: one metric column is kept, the rest of each line cut. */
static void test_frame_narrow(void **state) {
  (void)state;
  ks_watch_screen s;
  fill(&s);
  char *out = frame(&s, 30, 0);
  assert_non_null(strstr(out, "\nchannel  queue    offered\n"));
  assert_non_null(strstr(out, "\nvoice    billing      120\n"));
  assert_non_null(strstr(out, "\nteam     occup.  util.  adher.\n"));
  assert_non_null(strstr(out, "\nacme · 2026-11-23 10:00–10:15 \n")); /* cut at 30 */
  free(out);
  ks_watch_screen_free(&s);
}

/* A short terminal: the tables are cut, the alerts stay at the bottom.
 * 17 table lines, 2 alert lines: height 12 leaves 12 - 3 - 2 = 7. */
static void test_frame_height(void **state) {
  (void)state;
  ks_watch_screen s;
  fill(&s);
  char *out = frame(&s, 80, 12);
  const char *want =
      FRAME80_TOP "… 10 more lines (a taller terminal shows them)\n"
                  "── alerts (last 1 of 1)\n"
                  "ALERT fired   acme voice/support service_level 72.0% < 80.0%  10:00–10:15\n";
  assert_string_equal(out, want);
  free(out);
  ks_watch_screen_free(&s);
}

/* Late results of the interval shown join its table; a rollup is not shown. */
static void test_late_and_rollup(void **state) {
  (void)state;
  ks_watch_screen s;
  fill(&s);
  char *before = frame(&s, 132, 0);
  mr *day = own("acme", "operations", "offered", "contacts", 3, 1, "billing", T10, NULL);
  day->interval_end_ms = T10 + 24 * 60 * MIN;
  assert_int_equal(ks_watch_screen_add(&s, day), 0);
  char *after = frame(&s, 132, 0);
  assert_string_equal(before, after);
  assert_int_equal(ks_watch_screen_add(&s, own("acme", "operations", "offered", "contacts", 42, 1,
                                               "support", T10, NULL)),
                   0);
  char *late = frame(&s, 132, 0);
  assert_non_null(strstr(late, "\nvoice    support       42         ·          ·       ·      ·"));
  free(before);
  free(after);
  free(late);
  ks_watch_screen_free(&s);
}

static void test_empty_and_alert_ring(void **state) {
  (void)state;
  ks_watch_screen s;
  static const ks_watch_group_opts o = {0};
  ks_watch_screen_init(&s, &o);
  char *out = frame(&s, 80, 0);
  assert_string_equal(out, "kpistream watch · latest closed interval per tenant and family\n"
                           "\n"
                           "  (waiting for results)\n");
  free(out);
  for (int i = 0; i < KS_WATCH_SCREEN_ALERTS + 2; i++) {
    mr *a = own("acme", "scorecard", "alert", "ratio", 0.1 * i, 0, "", T10 + i * 15 * MIN, NULL);
    assert_int_equal(ks_watch_screen_alert(&s, a), 0);
    kpistream__v1__metric_result__free_unpacked(a, NULL);
  }
  out = frame(&s, 80, 0);
  /* the last 5 of 7, oldest first: 10:30 ... 11:30 */
  assert_non_null(strstr(out, "── alerts (last 5 of 7)\n"
                              "ALERT         acme tenant alert 20.0%  10:30–10:45\n"));
  assert_non_null(strstr(out, "ALERT         acme tenant alert 60.0%  11:30–11:45\n"));
  assert_null(strstr(out, "10:15–10:30"));
  free(out);
  ks_watch_screen_free(&s);
}

static void test_paint(void **state) {
  (void)state;
  char *p = NULL;
  size_t n = 0;
  /* "ab" fills the width: no erase after it (it would eat the 'b') */
  assert_int_equal(ks_watch_screen_paint("ab\nc\n", 5, 2, &p, &n), 0);
  assert_string_equal(p, "\x1b[Hab\nc\x1b[K\x1b[J");
  assert_int_equal(n, strlen(p));
  free(p);
}

static void test_width_and_text(void **state) {
  (void)state;
  assert_int_equal(ks_watch_screen_width(100, "50"), 100);
  assert_int_equal(ks_watch_screen_width(0, "50"), 50);
  assert_int_equal(ks_watch_screen_width(0, "5x"), 80);
  assert_int_equal(ks_watch_screen_width(0, NULL), 80);
  const char *s = "a·b—"; /* 1 + 2 + 1 + 3 bytes, 4 columns */
  assert_int_equal(ks_watch_text_width(s, strlen(s)), 4);
  assert_int_equal(ks_watch_text_fit(s, strlen(s), 2), 3);
  assert_int_equal(ks_watch_text_fit(s, strlen(s), 3), 4);
  assert_int_equal(ks_watch_text_fit(s, strlen(s), 9), strlen(s));
  assert_int_equal(ks_watch_text_max_width("ab\n·····\nc", 13), 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_frame_80),        cmocka_unit_test(test_frame_132),
      cmocka_unit_test(test_frame_narrow),    cmocka_unit_test(test_frame_height),
      cmocka_unit_test(test_late_and_rollup), cmocka_unit_test(test_empty_and_alert_ring),
      cmocka_unit_test(test_paint),           cmocka_unit_test(test_width_and_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
