/*
 * test_log — core/base/log.c: the text line and the JSON line (log.format:
 * json) byte for byte for a fixed time, with quotes, backslashes, control
 * characters, non-ASCII text and bytes that are not UTF-8 in the message;
 * a message too long for the buffer still gives one valid object; the
 * level filter still works when KS_LOG_JSON rides in min_level.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "log.h"

/* 2026-11-23T12:00:00.123Z: 1795435200 s (calendar.timegm) + 123 ms */
static const struct timespec when = {.tv_sec = 1795435200, .tv_nsec = 123456789};

static void text_line(void **state) {
  (void)state;
  char out[256];
  size_t n = ks_log_format(out, sizeof out, KS_LOG_INFO, KS_LOG_WARN, &when, "engine", "a \"b\"");
  assert_string_equal(out, "2026-11-23T12:00:00.123Z WARN  engine: a \"b\"");
  assert_int_equal(n, strlen(out));
}

static void json_line_escapes(void **state) {
  (void)state;
  char out[512];
  /* quote, backslash, newline, tab, U+0001, U+001F, é (C3 A9), 中 (E4 B8 AD), 😀 (F0 9F 98 80) */
  const char *msg = "say \"hi\" \\ x\ny\tz\x01\x1f caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80";
  size_t n =
      ks_log_format(out, sizeof out, KS_LOG_INFO | KS_LOG_JSON, KS_LOG_ERROR, &when, "runner", msg);
  assert_string_equal(out, "{\"time\":\"2026-11-23T12:00:00.123Z\",\"level\":\"error\","
                           "\"component\":\"runner\",\"msg\":\"say \\\"hi\\\" \\\\ x\\ny\\tz"
                           "\\u0001\\u001F caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"}");
  assert_int_equal(n, strlen(out));
  /* an independent parser reads the message back */
  json_error_t je;
  json_t *o = json_loads(out, 0, &je);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "msg")), msg);
  json_decref(o);
}

static void json_line_not_utf8(void **state) {
  (void)state;
  char out[512];
  /* a stray 0xFF, an overlong '/' (C0 AF), a surrogate (ED A0 80), a cut
   * sequence at the end (E2 82): each bad byte becomes U+FFFD (EF BF BD) */
  ks_log_format(out, sizeof out, KS_LOG_DEBUG | KS_LOG_JSON, KS_LOG_DEBUG, &when, "kafka",
                "a\xff"
                "b\xc0\xaf"
                "c\xed\xa0\x80"
                "d\xe2\x82");
  assert_string_equal(out, "{\"time\":\"2026-11-23T12:00:00.123Z\",\"level\":\"debug\","
                           "\"component\":\"kafka\",\"msg\":\"a\xef\xbf\xbd"
                           "b\xef\xbf\xbd\xef\xbf\xbd"
                           "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                           "d\xef\xbf\xbd\xef\xbf\xbd\"}");
}

static void json_line_cut(void **state) {
  (void)state;
  char msg[1000];
  memset(msg, 'x', sizeof msg - 1);
  msg[sizeof msg - 1] = '\0';
  char out[200];
  size_t n =
      ks_log_format(out, sizeof out, KS_LOG_INFO | KS_LOG_JSON, KS_LOG_INFO, &when, "ops", msg);
  assert_true(n > 0 && n < sizeof out);
  json_error_t je;
  json_t *o = json_loads(out, 0, &je);
  assert_non_null(o);
  const char *m = json_string_value(json_object_get(o, "msg"));
  assert_non_null(m);
  assert_true(strlen(m) > 0 && strncmp(m, msg, strlen(m)) == 0);
  json_decref(o);
}

/* What ks_log writes to stderr, captured through a temporary file. */
static size_t capture(char *buf, size_t size, int min_level, int level, const char *msg) {
  FILE *t = tmpfile();
  assert_non_null(t);
  int saved = dup(2);
  dup2(fileno(t), 2);
  ks_log(min_level, level, "test", "%s", msg);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  rewind(t);
  size_t n = fread(buf, 1, size - 1, t);
  buf[n] = '\0';
  fclose(t);
  return n;
}

static void level_filter_with_json(void **state) {
  (void)state;
  char buf[512];
  assert_int_equal(capture(buf, sizeof buf, KS_LOG_INFO | KS_LOG_JSON, KS_LOG_DEBUG, "hidden"), 0);
  assert_true(capture(buf, sizeof buf, KS_LOG_INFO | KS_LOG_JSON, KS_LOG_INFO, "shown") > 0);
  assert_int_equal(buf[0], '{');
  assert_non_null(strstr(buf, "\"msg\":\"shown\"}\n"));
  assert_true(capture(buf, sizeof buf, KS_LOG_INFO, KS_LOG_INFO, "plain") > 0);
  assert_non_null(strstr(buf, "Z INFO  test: plain\n"));
}

static void format_parse(void **state) {
  (void)state;
  assert_int_equal(ks_log_format_parse("text"), 0);
  assert_int_equal(ks_log_format_parse("JSON"), KS_LOG_JSON);
  assert_int_equal(ks_log_format_parse("logfmt"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_line),
      cmocka_unit_test(json_line_escapes),
      cmocka_unit_test(json_line_not_utf8),
      cmocka_unit_test(json_line_cut),
      cmocka_unit_test(level_filter_with_json),
      cmocka_unit_test(format_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
