/* Unit tests for tools/watch/watch_table.c, watch_format.c and
 * watch_family.c (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "watch_family.h"
#include "watch_table.h"

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

/* A row marked unattributed (empty queue, not a total) is shown as "(none)",
 * not as the "(all)" of a total. */
static void test_unattributed_row(void **state) {
  (void)state;
  mr rs[] = {mk("offered", "contacts", 1, 15, 1, "billing", ""),
             mk("offered", "contacts", 1, 2, 0, "", "")};
  rs[0].level = KPISTREAM__V1__LEVEL__LEVEL_QUEUE;
  rs[1].level = KPISTREAM__V1__LEVEL__LEVEL_UNATTRIBUTED;
  ks_watch_table_opts o = {0};
  char *out = render(rs, 2, &o);
  const char *want = "acme · 2026-11-23 10:00–10:15 UTC\n"
                     "channel  queue    offered\n"
                     "voice    billing       15\n"
                     "all      (none)         2\n"
                     "\n";
  assert_string_equal(out, want);
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

/* ---- families ---------------------------------------------------------------- */

/* Label storage for one result (results are borrowed, so it lives in the test). */
typedef struct lab {
  Kpistream__V1__Label l[4];
  Kpistream__V1__Label *p[4];
} lab;

static void label(mr *r, lab *s, const char *key, const char *value) {
  size_t i = r->n_labels;
  Kpistream__V1__Label init = KPISTREAM__V1__LABEL__INIT;
  s->l[i] = init;
  s->l[i].key = (char *)key;
  s->l[i].value = (char *)value;
  s->p[i] = &s->l[i];
  r->labels = s->p;
  r->n_labels = i + 1;
}

static mr mkf(const char *family, const char *metric, const char *unit, double v, int ch,
              const char *queue) {
  mr r = mk(metric, unit, 1, v, ch, queue, "");
  r.family = (char *)family;
  return r;
}

static char *render_group(mr *rs, size_t n, const ks_watch_group_opts *o) {
  const mr *ptrs[64];
  for (size_t i = 0; i < n; i++)
    ptrs[i] = &rs[i];
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int rows = ks_watch_group_render(f, ptrs, n, o);
  fclose(f);
  assert_true(rows >= 0);
  return buf;
}

static char *alert_line(const mr *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ks_watch_alert_print(f, r);
  fclose(f);
  return buf;
}

static void test_format_units(void **state) {
  (void)state;
  fmt_is(mk("csat_mean", "score", 1, 78.333, 1, "q", ""), "78.3");
  fmt_is(mk("nps", "score", 1, -12.5, 1, "q", ""), "-12.5");
  fmt_is(mk("sentiment_avg", "score", 1, 0.254, 1, "q", ""), "0.25");
  fmt_is(mk("kpi_score", "score", 1, 0, 1, "q", ""), "0.0");
  fmt_is(mk("operating_cost", "currency", 1, 38189.3, 0, "", ""), "38189");
  fmt_is(mk("cost_per_contact", "currency", 1, 8.281, 0, "", ""), "8.28");
  fmt_is(mk("technical_downtime", "h", 1, 0.114, 0, "", ""), "0.1h");
  fmt_is(mk("day_peak_interval_start", "epoch_ms", 1, 1795441500000, 1, "q", ""), "13:45");
  fmt_is(mk("evaluations", "evaluations", 1, 3, 0, "", ""), "3");
  fmt_is(mk("nba_offered", "offers", 1, 12, 1, "q", ""), "12");
  fmt_is(mk("evaluation_score", "%", 1, 73.21, 0, "", ""), "73.2%");
  fmt_is(mk("logged_in_agents", "agents", 1, 80.34, 0, "", ""), "80.3");
}

/* One topic, one family: the plain table, exactly as ks_watch_table_render. */
static void test_group_single_family_is_plain(void **state) {
  (void)state;
  mr rs[] = {
      mkf("operations", "offered", "contacts", 15, 1, "billing"),
      mkf("operations", "asa", "seconds", 4.9, 2, "support"),
      mkf("operations", "offered", "contacts", 10, 2, "support"),
  };
  ks_watch_group_opts g = {.note = "late"};
  char *out = render_group(rs, 3, &g);
  const char *want = "acme · 2026-11-23 10:00–10:15 UTC  [late]\n"
                     "channel  queue    offered   ASA\n"
                     "voice    billing       15     ·\n"
                     "email    support       10  4.9s\n"
                     "\n";
  assert_string_equal(out, want);
  free(out);

  /* another family alone: its own columns, still no title line */
  lab L[1];
  mr ex[] = {
      mkf("experience", "reason_volume", "contacts", 4, 1, "billing"),
      mkf("experience", "net_sentiment", "ratio", 0.2, 1, "billing"),
  };
  label(&ex[0], &L[0], "reason", "refund");
  ks_watch_group_opts g2 = {0};
  out = render_group(ex, 2, &g2);
  assert_string_equal(out, "acme · 2026-11-23 10:00–10:15 UTC\n"
                           "channel  queue    net sent.\n"
                           "voice    billing      20.0%\n"
                           "\n");
  free(out);
}

static void test_group_families(void **state) {
  (void)state;
  lab L[8];
  mr rs[] = {
      /* experience first: tables still come in family order */
      mkf("experience", "csat", "ratio", 0.75, 1, "billing"),
      mkf("experience", "nps", "score", -12.5, 1, "billing"),
      mkf("experience", "complaint_rate", "ratio", 0, 2, "support"),
      mkf("experience", "reason_volume", "contacts", 4, 1, "billing"), /* by reason: out */
      mkf("operations", "offered", "contacts", 17, 1, "billing"),
      mkf("operations", "service_level", "ratio", 0.875, 1, "billing"),
      mkf("workforce", "occupancy", "ratio", 0.56, 0, ""),
      mkf("workforce", "occupancy", "ratio", 0.682, 0, ""),
      mkf("workforce", "adherence", "ratio", 0.931, 0, ""),
      mkf("workforce", "shrinkage_unplanned", "ratio", 0.051, 0, ""), /* by reason: out */
      mkf("mystery", "widgets", "count", 3, 0, ""),
  };
  label(&rs[3], &L[0], "reason", "refund");
  label(&rs[6], &L[1], "team", "digital");
  rs[6].team = "digital";
  label(&rs[9], &L[2], "reason", "absence");
  ks_watch_group_opts g = {.family_titles = 1};
  char *out = render_group(rs, sizeof rs / sizeof rs[0], &g);
  const char *want = "acme · 2026-11-23 10:00–10:15 UTC\n"
                     "── operations\n"
                     "channel  queue    offered     SL\n"
                     "voice    billing       17  87.5%\n"
                     "\n"
                     "── experience\n"
                     "channel  queue     csat    NPS  compl%\n"
                     "voice    billing  75.0%  -12.5       ·\n"
                     "email    support      ·      ·    0.0%\n"
                     "\n"
                     "── workforce\n"
                     "team     occup.  adher.\n"
                     "digital   56.0%       ·\n"
                     "(all)     68.2%   93.1%\n"
                     "\n"
                     "── mystery\n"
                     "channel  queue  widgets\n"
                     "all      (all)        3\n"
                     "\n";
  assert_string_equal(out, want);
  free(out);
}

/* Quality: queue rows, team rows and the tenant's row; agents on request. */
static void test_group_quality_teams_agents(void **state) {
  (void)state;
  lab L[4];
  mr rs[] = {
      mkf("quality", "evaluations", "evaluations", 2, 0, ""),
      mkf("quality", "evaluation_score", "%", 73.2, 0, ""),
      mkf("quality", "evaluations", "evaluations", 2, 0, ""),
      mkf("quality", "evaluations", "evaluations", 1, 1, "billing"),
      mkf("quality", "category_score", "%", 80, 0, ""), /* by category: out */
      mkf("quality", "evaluations", "evaluations", 1, 0, ""),
  };
  label(&rs[2], &L[0], "team", "voice-care");
  rs[2].team = "voice-care";
  label(&rs[4], &L[1], "category", "brand");
  rs[5].agent_id = "a-7";
  rs[5].team = "voice-care";
  ks_watch_group_opts g = {.family_titles = 1};
  char *out = render_group(rs, sizeof rs / sizeof rs[0], &g);
  const char *want = "acme · 2026-11-23 10:00–10:15 UTC\n"
                     "── quality\n"
                     "channel  queue    team        evals  QA score\n"
                     "voice    billing                  1         ·\n"
                     "all      (all)    voice-care      2         ·\n"
                     "all      (all)                    2     73.2%\n"
                     "\n";
  assert_string_equal(out, want);
  free(out);

  g.show_agents = 1;
  out = render_group(rs, sizeof rs / sizeof rs[0], &g);
  const char *want2 = "acme · 2026-11-23 10:00–10:15 UTC\n"
                      "── quality\n"
                      "channel  queue    team        agent  evals  QA score\n"
                      "voice    billing                         1         ·\n"
                      "all      (all)    voice-care             2         ·\n"
                      "all      (all)    voice-care  a-7        1         ·\n"
                      "all      (all)                           2     73.2%\n"
                      "\n";
  assert_string_equal(out, want2);
  free(out);
}

/* Scorecard: composite, then one column per kpi_score in the KPI order. */
static void test_group_scorecard_pivot(void **state) {
  (void)state;
  lab L[8];
  mr rs[] = {
      mkf("scorecard", "kpi_score", "score", 78.2, 0, ""),
      mkf("scorecard", "composite", "score", 95, 0, ""),
      mkf("scorecard", "kpi_score", "score", 100, 0, ""),
      mkf("scorecard", "kpi_value", "seconds", 301, 0, ""), /* not a default column */
      mkf("scorecard", "composite", "score", 92.2, 0, ""),
      mkf("scorecard", "kpi_score", "score", 92.2, 0, ""),
      mkf("scorecard", "composite", "score", 87.2, 1, "billing"),
      mkf("scorecard", "kpi_score", "score", 0, 1, "billing"),
  };
  label(&rs[0], &L[0], "kpi", "aht");
  label(&rs[2], &L[1], "kpi", "service_level");
  label(&rs[3], &L[2], "kpi", "aht");
  label(&rs[4], &L[3], "team", "voice-care");
  label(&rs[4], &L[3], "missing", "aht,service_level");
  label(&rs[5], &L[4], "kpi", "adherence");
  label(&rs[5], &L[4], "team", "voice-care");
  label(&rs[7], &L[5], "kpi", "service_level");
  ks_watch_group_opts g = {.family_titles = 1};
  char *out = render_group(rs, sizeof rs / sizeof rs[0], &g);
  const char *want = "acme · 2026-11-23 10:00–10:15 UTC\n"
                     "── scorecard\n"
                     "channel  queue    team        score     SL   AHT  adher.\n"
                     "voice    billing               87.2    0.0     ·       ·\n"
                     "all      (all)    voice-care   92.2      ·     ·    92.2\n"
                     "all      (all)                 95.0  100.0  78.2       ·\n"
                     "\n";
  assert_string_equal(out, want);
  free(out);
}

static void set_day(mr *r) {
  r->interval_start_ms = 1795392000000; /* 2026-11-23T00:00Z */
  r->interval_end_ms = 1795478400000;
}

static void test_group_rollup(void **state) {
  (void)state;
  lab L[2];
  mr rs[] = {
      mkf("forecast", "day_offered_wape", "ratio", 0.269, 1, "billing"),
      mkf("forecast", "day_peak_interval_start", "epoch_ms", 1795441500000, 1, "billing"),
      mkf("forecast", "offered", "contacts", 5, 1, "billing"), /* an interval column */
      mkf("value", "cost_per_contact", "currency", 8.281, 0, ""),
      mkf("value", "operating_cost", "currency", 38189.3, 0, ""),
      mkf("value", "operating_cost", "currency", 1440, 0, ""), /* by category: out */
      mkf("workforce", "proficiency", "score", 0.96, 0, ""),   /* an agent's: hidden */
  };
  for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++)
    set_day(&rs[i]);
  label(&rs[5], &L[0], "category", "facilities");
  rs[6].agent_id = "a-1";
  assert_true(ks_watch_is_rollup(&rs[0]));
  ks_watch_group_opts g = {.family_titles = 1};
  char *out = render_group(rs, sizeof rs / sizeof rs[0], &g);
  const char *want = "acme · 2026-11-23 UTC (day)\n"
                     "── value\n"
                     "channel  queue   cost  cost/contact\n"
                     "all      (all)  38189          8.28\n"
                     "\n"
                     "── forecast\n"
                     "channel  queue     WAPE  peak at\n"
                     "voice    billing  26.9%    13:45\n"
                     "\n";
  assert_string_equal(out, want);
  free(out);

  /* nothing to show: nothing printed, not even the heading */
  out = render_group(rs + 6, 1, &g);
  assert_string_equal(out, "");
  free(out);
}

static void test_alerts(void **state) {
  (void)state;
  lab L[4];
  mr a = mkf("scorecard", "alert", "ratio", 0.72, 1, "support");
  label(&a, &L[0], "kpi", "service_level");
  label(&a, &L[0], "rule", "service_level<0.8");
  label(&a, &L[0], "state", "fire");
  assert_true(ks_watch_is_alert("kpi.alerts", &a));
  char *out = alert_line(&a);
  assert_string_equal(out, "ALERT fired   acme voice/support service_level 72.0% < 80.0%  "
                           "10:00–10:15\n");
  free(out);

  mr b = mkf("scorecard", "alert", "ratio", 0.84, 0, "");
  b.team = "digital";
  label(&b, &L[1], "kpi", "occupancy");
  label(&b, &L[1], "team", "digital");
  label(&b, &L[1], "rule", "occupancy>0.85");
  label(&b, &L[1], "state", "clear");
  out = alert_line(&b);
  assert_string_equal(out, "ALERT cleared acme team=digital occupancy 84.0% <= 85.0%  "
                           "10:00–10:15\n");
  free(out);

  mr c = mkf("scorecard", "alert", "seconds", 412, 0, "");
  c.agent_id = "a-1\033";
  label(&c, &L[2], "kpi", "aht");
  label(&c, &L[2], "rule", "aht>=target");
  label(&c, &L[2], "state", "fire");
  label(&c, &L[2], "extra", "x");
  out = alert_line(&c);
  assert_string_equal(out, "ALERT fired   acme agent=a-1? aht 412.0s >= target  10:00–10:15  "
                           "extra=x\n");
  free(out);

  mr d = mkf("other", "queue_backlog", "count", 9, 0, "");
  assert_false(ks_watch_is_alert("kpi.operations", &d));
  assert_true(ks_watch_is_alert("alerts", &d));
  out = alert_line(&d);
  assert_string_equal(out, "ALERT         acme tenant queue_backlog 9  10:00–10:15\n");
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_unattributed_row),
      cmocka_unit_test(test_other_family_and_revision),
      cmocka_unit_test(test_hostile_names),
      cmocka_unit_test(test_long_names),
      cmocka_unit_test(test_format_units),
      cmocka_unit_test(test_group_single_family_is_plain),
      cmocka_unit_test(test_group_families),
      cmocka_unit_test(test_group_quality_teams_agents),
      cmocka_unit_test(test_group_scorecard_pivot),
      cmocka_unit_test(test_group_rollup),
      cmocka_unit_test(test_alerts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
