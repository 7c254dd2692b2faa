/* Loader: a good plugin loads; plugins built wrong are refused with the
 * file and both versions named, and nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "event_builder.h"

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
  assert_non_null(strstr(err, "plugin ABI 2.1 is incompatible with host ABI 1.1"));
}

static void newer_minor_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("abi_minor.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "abi_minor.so"));
  assert_non_null(strstr(err, "plugin ABI 1.2 is newer than host ABI 1.1"));
}

static void small_descriptor_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("small_desc.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "small_desc.so"));
  assert_non_null(strstr(err, "descriptor is 16 bytes, smaller than the ABI 1.0 descriptor"));
  assert_non_null(strstr(err, "plugin ABI 1.1, host ABI 1.1"));
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
      err,
      "counter.so (counter): unknown option 'contact_tll' (accepted: contact_ttl, fail_queue)"));
  ks_engine_free(e);
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
  assert_int_equal(eb_queued(e, EB_T0, 1, "q", "c1", "cu"), KS_PROCESSED);
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
      cmocka_unit_test(api_misuse_in_init_is_refused),
      cmocka_unit_test(api_misuse_in_callbacks_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
