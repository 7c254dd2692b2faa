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

/* An engine with one input topic whose results go to sink(ud). */
static ks_engine *engine_with(ks_sink_fn sink, void *ud) {
  static const char *const topics[] = {"events"};
  ks_engine_options o = {0};
  o.topics = topics;
  o.n_topics = 1;
  o.sink = sink;
  o.sink_ud = ud;
  o.log_level = KS_LOG_ERROR;
  ks_engine *e = NULL;
  char err[256];
  assert_int_equal(ks_engine_new(&e, &o, err, sizeof err), 0);
  return e;
}

static ks_engine *new_engine(void) {
  return engine_with(null_sink, NULL);
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
  assert_non_null(strstr(err, "plugin ABI 2.3 is incompatible with host ABI 1.3"));
}

static void newer_minor_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("abi_minor.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "abi_minor.so"));
  assert_non_null(strstr(err, "plugin ABI 1.4 is newer than host ABI 1.3"));
}

static void small_descriptor_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("small_desc.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "small_desc.so"));
  assert_non_null(strstr(err, "descriptor is 16 bytes, smaller than the ABI 1.0 descriptor"));
  assert_non_null(strstr(err, "plugin ABI 1.3, host ABI 1.3"));
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
  /* the same, per plugin and per topic (/metrics' labelled families) */
  assert_int_equal(ks_engine_plugin_failures(e, 0), 2);
  assert_int_equal(ks_engine_plugin_failures(e, 1), 0);
  assert_int_equal(ks_engine_topic_events(e, 0), 3);
  assert_int_equal(ks_engine_topic_events(e, 1), 0);
  uint64_t res = 0;
  assert_int_equal(st.results_out, 2); /* emitted before its close failed */
  assert_string_equal(ks_engine_output_topic(e, 0, &res), "kpi.counter");
  assert_int_equal(res, 2);
  assert_null(ks_engine_output_topic(e, 1, &res));
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

/* One queued event (channel 1, queue "q", no customer) through engine e. */
static int queued(ks_engine *e, int64_t t, const char *contact) {
  ks_testkit *k;
  if (ks_testkit_attach(&k, e) != 0)
    return -1;
  int rc = ks_tk_queued(k, t, 1, "q", contact, NULL);
  ks_testkit_free(k);
  return rc;
}

/* An engine with the test plugin `file` loaded and one event processed;
 * *st: the engine's stats after it. */
static ks_engine *one_event_through(const char *file, ks_engine_stats *st) {
  char err[512] = "", path[512];
  snprintf(path, sizeof path, "%s/%s", KS_TEST_PLUGIN_BUILD_DIR, file);
  ks_engine *e = new_engine();
  assert_int_equal(ks_engine_add_plugin(e, path, NULL, NULL, 0, err, sizeof err), 0);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  ks_testkit *k;
  assert_int_equal(ks_testkit_attach(&k, e), 0);
  assert_int_equal(ks_tk_queued(k, KS_TK_T0, 1, "q", "c1", "cu"), KS_PROCESSED);
  ks_testkit_free(k);
  ks_engine_get_stats(e, st);
  return e;
}

/* Results per output topic: the plugin's topic (kpi.<name>), counted as
 * they reach the sink. */
static void results_per_output_topic(void **state) {
  (void)state;
  ks_engine_stats st;
  ks_engine *e = one_event_through("counter.so", &st);
  uint64_t res = 99;
  assert_null(ks_engine_output_topic(e, 0, &res)); /* nothing emitted before the close */
  /* the one plugin holds all the state (its part is the whole), none past the end */
  assert_true(ks_engine_state_bytes(e) > 0);
  assert_int_equal(ks_engine_plugin_state_bytes(e, 0), ks_engine_state_bytes(e));
  assert_int_equal(ks_engine_plugin_state_bytes(e, 1), 0);
  ks_engine_flush_all(e);
  ks_engine_get_stats(e, &st);
  assert_true(st.results_out > 0);
  assert_string_equal(ks_engine_output_topic(e, 0, &res), "kpi.counter");
  assert_int_equal(res, st.results_out);
  assert_null(ks_engine_output_topic(e, 1, &res));
  assert_int_equal(ks_engine_topic_events(e, 0), 1);
  ks_engine_free(e);
}

/* In on_event and on_interval_close: the wrong phase (table_declare), no or
 * another task, NULL keys and callbacks, keys longer than KS_KEY_MAX, the
 * wrong table kind, a NULL result: each refused, logged and counted in
 * api_refusals; the right calls still work; destroy() gets refusals for
 * its calls too (the plugin aborts otherwise). */
static void api_misuse_in_callbacks_is_refused(void **state) {
  (void)state;
  ks_engine_stats st;
  ks_engine *e = one_event_through("api_phases.so", &st);
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

/* A result whose struct_size (12) stops inside the padding before
 * `metric` (which ends at byte 16): refused, and the host reads nothing of
 * it past those 12 bytes (the plugin allocates exactly 12: valgrind and
 * ASan catch a read of `metric`). */
static void result_smaller_than_its_metric_is_refused(void **state) {
  (void)state;
  ks_engine_stats st;
  ks_engine *e = one_event_through("short_result.so", &st);
  assert_int_equal(st.plugin_errors, 0); /* the emit was refused */
  assert_int_equal(st.api_refusals, 1);
  assert_int_equal(st.results_out, 0);
  ks_engine_free(e);
}

/* ---- errors ---------------------------------------------------------------- */

/* Every KS_E* code has its own text; any other number is named. */
static void strerror_names_every_code(void **state) {
  (void)state;
  static const int codes[] = {KS_OK,    KS_EINVAL,  KS_ENOMEM, KS_ENOENT,  KS_EABI,  KS_EDECODE,
                              KS_ELATE, KS_EPLUGIN, KS_EKAFKA, KS_ECONFIG, KS_ESTATE};
  static const char *const want[] = {"success",
                                     "invalid argument",
                                     "out of memory",
                                     "not found",
                                     "plugin ABI mismatch",
                                     "undecodable input",
                                     "event after its interval closed",
                                     "plugin callback failed",
                                     "Kafka client error",
                                     "bad configuration",
                                     "state table misuse"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    assert_string_equal(ks_strerror(codes[i]), want[i]);
  assert_string_equal(ks_strerror(-5), "unknown error -5");
  assert_string_equal(ks_strerror(7), "unknown error 7");
  assert_string_equal(ks_strerror(-2147483647 - 1), "unknown error -2147483648");
  /* every text fits KS_STRERROR_SIZE; a small buffer is cut, terminated */
  char small[8];
  assert_string_equal(ks_strerror_r(KS_EINVAL, small, sizeof small), "invalid");
  assert_string_equal(ks_strerror_r(-1234, small, sizeof small), "unknown");
  assert_string_equal(ks_strerror_r(KS_EINVAL, NULL, 0), "");
}

/* ---- older descriptor layouts -------------------------------------------------- */

typedef struct captured {
  int n;
  char topic[64];
  char key[256];
  double value, numerator, denominator;
  int64_t count;
  char label[2][32];
} captured;

static int capture_sink(void *ud, const char *topic, const void *key, size_t keylen,
                        const void *value, size_t valuelen, const ks_result *r) {
  (void)value, (void)valuelen;
  captured *c = (captured *)ud + ((captured *)ud)->n; /* ud[0].n counts, one slot per result */
  ((captured *)ud)->n++;
  snprintf(c->topic, sizeof c->topic, "%s", topic);
  snprintf(c->key, sizeof c->key, "%.*s", (int)keylen, (const char *)key);
  c->value = r->value;
  c->numerator = r->numerator;
  c->denominator = r->denominator;
  c->count = r->count;
  for (size_t i = 0; i < 2 && i < r->n_labels; i++)
    snprintf(c->label[i], sizeof c->label[i], "%s", r->labels[i].value);
  return 0;
}

static ks_engine *capture_engine(captured *slots) {
  return engine_with(capture_sink, slots);
}

/* Plugins built against the 1.2 and the 1.0 descriptor (abi_minor 2 and 0,
 * their own smaller struct_size) load, read their options, publish, and
 * their option list still refuses an unknown key as before. */
static void older_layouts_still_load(void **state) {
  (void)state;
  static const char *const files[] = {"legacy12.so", "legacy10.so"};
  static const char *const names[] = {"legacy12", "legacy10"};
  for (int i = 0; i < 2; i++) {
    captured c[4] = {0};
    char err[512] = "", path[512];
    snprintf(path, sizeof path, "%s/%s", KS_TEST_PLUGIN_BUILD_DIR, files[i]);
    ks_engine *e = capture_engine(c);
    ks_kv opt = {"scale", "3"};
    assert_int_equal(ks_engine_add_plugin(e, path, NULL, &opt, 1, err, sizeof err), 0);
    assert_string_equal(ks_engine_plugin_name(e, 0), names[i]);
    assert_int_equal(ks_engine_task_open(e, 0), 0);
    assert_int_equal(queued(e, KS_TK_T0, "c1"), KS_PROCESSED);
    assert_int_equal(queued(e, KS_TK_T0 + 1000, "c2"), KS_PROCESSED);
    ks_engine_flush_all(e);
    assert_int_equal(c[0].n, 1);
    assert_float_equal(c[0].value, 6.0, 0); /* 2 events x scale 3 */
    char topic[64];
    snprintf(topic, sizeof topic, "kpi.%s", names[i]);
    assert_string_equal(c[0].topic, topic);
    ks_engine_free(e);
    /* an unknown key: refused by the 1.0 option list */
    e = capture_engine(c);
    ks_kv typo = {"scael", "3"};
    assert_int_equal(ks_engine_add_plugin(e, path, NULL, &typo, 1, err, sizeof err), KS_EINVAL);
    assert_non_null(strstr(err, "unknown option 'scael' (accepted: scale)"));
    ks_engine_free(e);
  }
}

/* ---- the option map (1.3) ------------------------------------------------------ */

static int load_mapped(ks_engine *e, const char *instance, const char *topic, const ks_kv *kv,
                       size_t n, const char *const *where, char *err, size_t errsz) {
  char path[512];
  snprintf(path, sizeof path, "%s/mapped.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_plugin_spec spec = {path, instance, topic, kv, n, "cfg.yaml:3:5", where};
  return ks_engine_load_plugin(e, &spec, err, errsz);
}

/* Unset options read as the map's defaults (not the readers' own); set
 * ones as given, typed. */
static void option_map_gives_typed_values(void **state) {
  (void)state;
  captured c[4] = {0};
  char err[512] = "";
  ks_engine *e = capture_engine(c);
  assert_int_equal(load_mapped(e, NULL, NULL, NULL, 0, NULL, err, sizeof err), 0);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  assert_int_equal(queued(e, KS_TK_T0, "c1"), KS_PROCESSED);
  ks_engine_flush_all(e);
  assert_int_equal(c[0].n, 1);
  assert_float_equal(c[0].value, 3.5, 0);          /* count 3 + ratio 0.5 */
  assert_float_equal(c[0].numerator, 900000.0, 0); /* window 15m */
  assert_float_equal(c[0].denominator, 1.0, 0);    /* enabled true */
  assert_int_equal(c[0].count, 0);                 /* mode fast */
  assert_string_equal(c[0].label[0], "none");
  assert_string_equal(c[0].label[1], "fast");
  ks_engine_free(e);

  memset(c, 0, sizeof c);
  e = capture_engine(c);
  ks_kv kv[] = {{"count", "7"},   {"ratio", "0.25"}, {"enabled", "false"},
                {"window", "1h"}, {"mode", "off"},   {"label", "x"}};
  assert_int_equal(load_mapped(e, NULL, NULL, kv, 6, NULL, err, sizeof err), 0);
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  assert_int_equal(queued(e, KS_TK_T0, "c1"), KS_PROCESSED);
  ks_engine_flush_all(e);
  assert_int_equal(c[0].n, 1);
  assert_float_equal(c[0].value, 7.25, 0);
  assert_float_equal(c[0].numerator, 3600000.0, 0);
  assert_float_equal(c[0].denominator, 0.0, 0);
  assert_int_equal(c[0].count, 2);
  assert_string_equal(c[0].label[0], "x");
  assert_string_equal(c[0].label[1], "off");
  ks_engine_free(e);
}

/* The host refuses, before init and at the value's place: an unknown key
 * (listing the map's keys), a value of the wrong type, a choice not among
 * the choices. */
static void option_map_refusals_name_the_value(void **state) {
  (void)state;
  static const struct {
    const char *key, *value, *want;
  } bad[] = {
      {"mdoe", "fast",
       "cfg.yaml:4:7: plugin %s (mapped): unknown option 'mdoe' (accepted: label, count, ratio, "
       "enabled, window, mode, fail_init)"},
      {"count", "three",
       "cfg.yaml:4:7: plugin %s (mapped 1.3.0): init failed with -22 (invalid argument): option "
       "'count': 'three' is not an integer"},
      {"ratio", "half",
       "cfg.yaml:4:7: plugin %s (mapped 1.3.0): init failed with -22 (invalid argument): option "
       "'ratio': 'half' is not a number"},
      {"enabled", "maybe",
       "cfg.yaml:4:7: plugin %s (mapped 1.3.0): init failed with -22 (invalid argument): option "
       "'enabled': 'maybe' is not a boolean (true/false)"},
      {"window", "soon",
       "cfg.yaml:4:7: plugin %s (mapped 1.3.0): init failed with -22 (invalid argument): option "
       "'window': 'soon' is not a duration (e.g. 250ms, 20s, 15m, 2h, 7d)"},
      {"mode", "medium",
       "cfg.yaml:4:7: plugin %s (mapped 1.3.0): init failed with -22 (invalid argument): option "
       "'mode': 'medium' is not one of: fast, slow or off"},
  };
  char path[512];
  snprintf(path, sizeof path, "%s/mapped.so", KS_TEST_PLUGIN_BUILD_DIR);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    captured c[1] = {0};
    char err[512] = "", want[1024];
    ks_engine *e = capture_engine(c);
    ks_kv kv = {bad[i].key, bad[i].value};
    const char *where[] = {"cfg.yaml:4:7"};
    assert_int_equal(load_mapped(e, NULL, NULL, &kv, 1, where, err, sizeof err), KS_EINVAL);
    snprintf(want, sizeof want, bad[i].want, path);
    assert_string_equal(err, want);
    assert_int_equal(ks_engine_plugin_count(e), 0);
    ks_engine_free(e);
  }
}

/* A map whose own default its type refuses: the loader refuses the plugin
 * (a default is never checked against a user's value, so it must be right). */
static void option_map_bad_default_is_refused(void **state) {
  (void)state;
  char err[512] = "";
  assert_int_equal(load("mapped_bad_default.so", err, sizeof err), KS_EABI);
  assert_non_null(strstr(err, "mapped_bad_default.so: descriptor 'mapped': option map entry "
                              "'count' has a default its own type refuses"));
}

/* init_ex's errstr reaches the refusal, at the plugin's entry. */
static void init_ex_message_is_reported(void **state) {
  (void)state;
  captured c[1] = {0};
  char err[512] = "", want[1024], path[512];
  snprintf(path, sizeof path, "%s/mapped.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_engine *e = capture_engine(c);
  ks_kv kv = {"fail_init", "true"};
  assert_int_equal(load_mapped(e, NULL, NULL, &kv, 1, NULL, err, sizeof err), KS_EINVAL);
  snprintf(want, sizeof want,
           "cfg.yaml:3:5: plugin %s (mapped 1.3.0): init failed with -22 (invalid argument): "
           "fail_init is set: refusing on purpose (count 3)",
           path);
  assert_string_equal(err, want);
  ks_engine_free(e);
}

/* ---- instances ------------------------------------------------------------------ */

/* One plugin twice, under two instance names with different options:
 * each its own topic and results; the family in the key stays the
 * plugin's. A repeated instance name, a bad one, and two instances on one
 * topic are refused. */
static void one_plugin_two_instances(void **state) {
  (void)state;
  captured c[4] = {0};
  char err[512] = "";
  ks_engine *e = capture_engine(c);
  ks_kv fast = {"mode", "fast"}, slow = {"mode", "slow"};
  assert_int_equal(load_mapped(e, "ops_fast", NULL, &fast, 1, NULL, err, sizeof err), 0);
  assert_int_equal(load_mapped(e, "ops_slow", NULL, &slow, 1, NULL, err, sizeof err), 0);
  assert_int_equal(load_mapped(e, "ops_slow", "kpi.other", NULL, 0, NULL, err, sizeof err),
                   KS_EINVAL);
  assert_non_null(strstr(err, "a plugin named 'ops_slow' is already loaded"));
  assert_int_equal(load_mapped(e, "Ops-Slow", "kpi.other", NULL, 0, NULL, err, sizeof err),
                   KS_EINVAL);
  assert_non_null(strstr(err, "instance name 'Ops-Slow' must match [a-z0-9_]+"));
  assert_int_equal(load_mapped(e, "third", "kpi.ops_fast", NULL, 0, NULL, err, sizeof err),
                   KS_EINVAL);
  assert_non_null(strstr(err, "instances 'ops_fast' and 'third' of plugin 'mapped' both write to "
                              "topic kpi.ops_fast"));
  assert_int_equal(ks_engine_plugin_count(e), 2);
  assert_string_equal(ks_engine_plugin_name(e, 0), "ops_fast");
  assert_string_equal(ks_engine_plugin_name(e, 1), "ops_slow");
  assert_string_equal(ks_engine_plugin_topic(e, 1), "kpi.ops_slow");
  assert_int_equal(ks_engine_task_open(e, 0), 0);
  assert_int_equal(queued(e, KS_TK_T0, "c1"), KS_PROCESSED);
  ks_engine_flush_all(e);
  assert_int_equal(c[0].n, 2);
  assert_string_equal(c[0].topic, "kpi.ops_fast");
  assert_int_equal(c[0].count, 0);
  assert_string_equal(c[1].topic, "kpi.ops_slow");
  assert_int_equal(c[1].count, 1);
  /* the family in the key is the plugin's, not the instance's */
  assert_string_equal(c[0].key, "mapped/mapped|acme|all|||label=none,mode=fast|1795392000000");
  assert_string_equal(c[1].key, "mapped/mapped|acme|all|||label=none,mode=slow|1795392000000");
  ks_engine_free(e);
}

/* `plugins describe` reads a plugin without running it. */
static void probe_reads_the_descriptor(void **state) {
  (void)state;
  char err[512] = "", path[512];
  snprintf(path, sizeof path, "%s/mapped.so", KS_TEST_PLUGIN_BUILD_DIR);
  ks_plugin_ctx *p = NULL;
  assert_int_equal(ks_plugin_probe(path, &p, err, sizeof err), 0);
  assert_string_equal(ks_plugin_probe_descriptor(p)->name, "mapped");
  const ks_option *o = ks_plugin_probe_options(p);
  assert_non_null(o);
  assert_string_equal(o[5].name, "mode");
  assert_string_equal(ks_option_type_name(o[5].type), "choice");
  ks_plugin_probe_close(p);
  snprintf(path, sizeof path, "%s/legacy12.so", KS_TEST_PLUGIN_BUILD_DIR);
  assert_int_equal(ks_plugin_probe(path, &p, err, sizeof err), 0);
  assert_null(ks_plugin_probe_options(p)); /* 1.2: no map */
  ks_plugin_probe_close(p);
  snprintf(path, sizeof path, "%s/abi_major.so", KS_TEST_PLUGIN_BUILD_DIR);
  assert_int_equal(ks_plugin_probe(path, &p, err, sizeof err), KS_EABI);
  assert_null(p);
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
      cmocka_unit_test(results_per_output_topic),
      cmocka_unit_test(result_smaller_than_its_metric_is_refused),
      cmocka_unit_test(strerror_names_every_code),
      cmocka_unit_test(older_layouts_still_load),
      cmocka_unit_test(option_map_gives_typed_values),
      cmocka_unit_test(option_map_refusals_name_the_value),
      cmocka_unit_test(option_map_bad_default_is_refused),
      cmocka_unit_test(init_ex_message_is_reported),
      cmocka_unit_test(one_plugin_two_instances),
      cmocka_unit_test(probe_reads_the_descriptor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
