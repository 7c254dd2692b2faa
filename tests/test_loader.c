/* Loader: a good plugin loads; plugins built wrong are refused with the
 * file and both versions named, and nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "engine.h"
#include "fatal.h"
#include "testkit_engine.h"

static int null_sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                     size_t valuelen, const ks_result *r) {
  (void)ud, (void)topic, (void)key, (void)keylen, (void)value, (void)valuelen, (void)r;
  return 0;
}

static ks_engine *new_engine(void) {
  static const char *const topics[] = {"events"};
  ks_engine_options o = {0};
  o.topics = topics;
  o.n_topics = 1;
  o.sink = null_sink;
  o.log_level = KS_LOG_ERROR;
  ks_engine *e = NULL;
  char err[256];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  return e;
}

static int load(const char *file, char *err, size_t errsz) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", KS_TEST_PLUGIN_BUILD_DIR, file);
  ks_engine *e = new_engine();
  int rc = ks_engine_add_plugin(e, path, NULL, NULL, 0, err, errsz);
  ks_engine_free(e);
  return rc;
}

static void good_plugin_loads(void **state) {
  (void)state;
  char err[512] = "";
  char path[512];
  snprintf(path, sizeof path, "%s/counter.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_engine *e = new_engine();
  assert_int_equal(ks_engine_add_plugin(e, path, NULL, NULL, 0, err, sizeof err), 0);
  assert_int_equal(ks_engine_plugin_count(e), 1);
  assert_string_equal(ks_engine_plugin_name(e, 0), "counter");
  assert_string_equal(ks_engine_plugin_topic(e, 0), "kpi.counter");
  /* the same family twice is refused */
  assert_int_not_equal(ks_engine_add_plugin(e, path, "x", NULL, 0, err, sizeof err), 0);
  assert_non_null(strstr(err, "already loaded"));
  ks_engine_free(e);
}

static void missing_entry_point_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("no_entry.so", err, sizeof err), KS_ENOENT);
  assert_non_null(strstr(err, "no_entry.so"));
  assert_non_null(strstr(err, "no entry point 'kpistream_plugin_entry'"));
}

static void other_major_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("abi_major.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "abi_major.so"));
  assert_non_null(strstr(err, "plugin ABI 2.2 is incompatible with host ABI 1.2"));
}

static void newer_minor_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("abi_minor.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "abi_minor.so"));
  assert_non_null(strstr(err, "plugin ABI 1.3 is newer than host ABI 1.2"));
}

static void small_descriptor_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("small_desc.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "small_desc.so"));
  assert_non_null(strstr(err, "descriptor is 16 bytes, smaller than the ABI 1.0 descriptor"));
  assert_non_null(strstr(err, "plugin ABI 1.2, host ABI 1.2"));
}

static void failing_init_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("init_fails.so", err, sizeof err), KS_EINVAL);
  assert_non_null(strstr(err, "init_fails.so (init_fails 0.0.1): init failed with -22"));
}

static void missing_file_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("does_not_exist.so", err, sizeof err), KS_ENOENT);
  assert_non_null(strstr(err, "does_not_exist.so: cannot load"));
}

static void bad_plugin_option_is_refused(void **state) {
  (void)state;
  char err[512] = "", path[512];
  snprintf(path, sizeof path, "%s/counter.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_engine *e = new_engine();
  ks_kv opt = {"contact_ttl", "soon"};
  assert_int_equal(ks_engine_add_plugin(e, path, NULL, &opt, 1, err, sizeof err), KS_EINVAL);
  assert_non_null(strstr(err, "init failed"));
  assert_int_equal(ks_engine_plugin_count(e), 0);
  ks_engine_free(e);
}

static void unknown_option_is_refused(void **state) {
  (void)state;
  char err[512] = "", path[512];
  snprintf(path, sizeof path, "%s/counter.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_engine *e = new_engine();
  ks_kv opt = {"contact_tll", "1h"};
  assert_int_equal(ks_engine_add_plugin(e, path, NULL, &opt, 1, err, sizeof err), KS_EINVAL);
  assert_non_null(strstr(
      err, "counter.so (counter): unknown option 'contact_tll' (accepted: contact_ttl, fail_queue, "
           "fail_every, fail_close, crash_queue, exit_queue)"));
  ks_engine_free(e);
}

/* What the engine reports of a failing callback: the call as recorded. */
typedef struct seen {
  int n;
  size_t plugin;
  int rc;
  ks_plugin_call call; /* a copy, strings borrowed from the engine */
  int same_record;     /* the record is the one given in the options */
  ks_plugin_call *given;
} seen;

static void record_error(void *ud, size_t plugin, int rc, const ks_plugin_call *c) {
  seen *s = ud;
  s->n++;
  s->plugin = plugin;
  s->rc = rc;
  s->call = *c;
  s->same_record = c == s->given;
}

static void errors_are_reported_with_the_call(void **state) {
  (void)state;
  static const char *const topics[] = {"events"};
  ks_plugin_call call = KS_PLUGIN_CALL_NONE;
  seen s = {.given = &call};
  ks_engine_options o = {0};
  o.topics = topics;
  o.n_topics = 1;
  o.sink = null_sink;
  o.log_level = KS_LOG_ERROR;
  o.on_plugin_error = record_error;
  o.on_plugin_error_ud = &s;
  o.call = &call;
  ks_engine *e = NULL;
  char err[512] = "", path[512];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  snprintf(path, sizeof path, "%s/counter.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_kv opts[] = {{"fail_queue", "bad"}, {"fail_close", "true"}};
  assert_int_equal(ks_engine_add_plugin(e, path, NULL, opts, 2, err, sizeof err), 0);
  assert_null(call.plugin); /* init ran and was cleared */
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  ks_testkit *k;
  assert_int_equal(ks_testkit_attach(&k, e), 0);
  int64_t t = KS_TK_T0 + KS_TK_MIN(1);
  assert_int_equal(ks_tk_queued(k, t, 1, "sales", "c1", NULL), KS_PROCESSED);
  assert_int_equal(s.n, 0);
  /* on_event: topic, task and the offset (the kit feeds the event time as the offset) */
  assert_int_equal(ks_tk_queued(k, t + 1000, 1, "bad", "c2", NULL), KS_PROCESSED);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.plugin, 0);
  assert_int_equal(s.rc, KS_EPLUGIN);
  assert_true(s.same_record);
  assert_string_equal(s.call.plugin, "counter");
  assert_string_equal(s.call.callback, "on_event");
  assert_string_equal(s.call.topic, "events");
  assert_int_equal(s.call.task, 0);
  assert_int_equal(s.call.offset, t + 1000);
  assert_int_equal(s.call.interval, KS_TK_T0);
  assert_null(call.plugin); /* cleared after the dispatch */
  /* on_interval_close: no topic or offset, the interval */
  assert_int_equal(ks_tk_queued(k, KS_TK_T0 + KS_TK_MIN(20), 1, "sales", "c3", NULL), KS_PROCESSED);
  assert_int_equal(s.n, 2);
  assert_string_equal(s.call.callback, "on_interval_close");
  assert_null(s.call.topic);
  assert_int_equal(s.call.offset, -1);
  assert_int_equal(s.call.task, 0);
  assert_int_equal(s.call.interval, KS_TK_T0);
  assert_null(call.plugin);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.plugin_errors, 2);
  ks_testkit_free(k);
  ks_engine_free(e);
  assert_null(call.plugin); /* destroy ran and was cleared */
}

/* The fatal line, as the signal and exit handlers write it. */
static void fatal_line_names_the_call(void **state) {
  (void)state;
  int fd[2];
  assert_int_equal(pipe(fd), 0);
  ks_plugin_call c = {"counter", "on_event", "events.voice", 3, 1234567890123, 0};
  ks_fatal_write(fd[1], "fatal signal ", ks_fatal_signame(SIGSEGV), &c, "; re-raised");
  ks_plugin_call at_close = {"ops", "on_interval_close", NULL, 0, -1, -1795392000000};
  ks_fatal_write(fd[1], "exit() called", "", &at_close, ".");
  ks_plugin_call none = KS_PLUGIN_CALL_NONE;
  ks_fatal_write(fd[1], "fatal signal ", ks_fatal_signame(SIGABRT), &none, "");
  close(fd[1]);
  char buf[1024] = "";
  ssize_t n = read(fd[0], buf, sizeof buf - 1);
  close(fd[0]);
  assert_true(n > 0);
  assert_string_equal(
      buf, "kpistream: fatal signal SIGSEGV in plugin counter, callback on_event at "
           "events.voice [3] offset 1234567890123; re-raised\n"
           "kpistream: exit() called in plugin ops, callback on_interval_close at task 0, "
           "interval -1795392000000.\n"
           "kpistream: fatal signal SIGABRT outside any plugin callback\n");
}

/* api->emit() and every other host API call made wrongly from init are
 * refused with an error code (the plugin returns KS_EINVAL only when each
 * was refused, KS_EPLUGIN when one was accepted); nothing crashes. */
static void api_misuse_in_init_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("api_abuse.so", err, sizeof err), KS_EINVAL);
  assert_non_null(strstr(err, "api_abuse.so (api_abuse 0.0.1): init failed with -22"));
}

/* In on_event and on_interval_close: the wrong phase (table_declare), no or
 * another task, NULL keys and callbacks, keys longer than KS_KEY_MAX, the
 * wrong table kind, a NULL result: each refused, logged and counted in
 * api_refusals; the right calls still work; destroy() gets refusals for
 * its calls too (the plugin aborts otherwise). */
static void api_misuse_in_callbacks_is_refused(void **state) {
  (void)state;
  char err[512] = "", path[512];
  snprintf(path, sizeof path, "%s/api_phases.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_engine *e = new_engine();
  assert_int_equal(ks_engine_add_plugin(e, path, NULL, NULL, 0, err, sizeof err), 0);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  ks_testkit *k;
  assert_int_equal(ks_testkit_attach(&k, e), 0);
  assert_int_equal(ks_tk_queued(k, KS_TK_T0, 1, "q", "c1", "cu"), KS_PROCESSED);
  ks_testkit_free(k);
  ks_engine_stats st;
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.plugin_errors, 0); /* no misuse accepted, the right calls worked */
  /* counted (a NULL context or table leaves no plugin to count against):
   * 21 in the shared list + table_declare in on_event + another task */
  assert_int_equal(st.api_refusals, 23);
  ks_engine_flush_all(e);
  ks_engine_get_stats(e, &st);
  assert_int_equal(st.intervals_closed, 1);
  assert_int_equal(st.plugin_errors, 0);
  assert_int_equal(st.api_refusals, 23 + 21);
  ks_engine_free(e); /* destroy() aborts if its calls are accepted */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_plugin_loads),
      cmocka_unit_test(missing_entry_point_is_refused),
      cmocka_unit_test(other_major_is_refused),
      cmocka_unit_test(newer_minor_is_refused),
      cmocka_unit_test(small_descriptor_is_refused),
      cmocka_unit_test(failing_init_is_refused),
      cmocka_unit_test(missing_file_is_refused),
      cmocka_unit_test(bad_plugin_option_is_refused),
      cmocka_unit_test(unknown_option_is_refused),
      cmocka_unit_test(errors_are_reported_with_the_call),
      cmocka_unit_test(fatal_line_names_the_call),
      cmocka_unit_test(api_misuse_in_init_is_refused),
      cmocka_unit_test(api_misuse_in_callbacks_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
