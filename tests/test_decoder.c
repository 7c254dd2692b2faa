/* Decoder: valid events decode once into the arena; every kind of bad
 * input is refused with a reason, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decoder.h"
#include "event_builder.h"

static const Kpistream__V1__Event *decode(ks_arena *a, const Kpistream__V1__Event *ev,
                                          char *reason) {
  uint8_t buf[1024];
  size_t n = eb_pack(ev, buf, sizeof buf);
  ks_arena_reset(a);
  return ks_decode_event(a, buf, n, reason, 128);
}

static void valid_event_round_trips(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  Kpistream__V1__Event ev = eb_event(EB_T0, "acme", 2, "support", "c1", "u1", "ag1");
  Kpistream__V1__ContactQueued q = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  q.reason_code = "billing";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  char reason[128] = "";
  const Kpistream__V1__Event *d = decode(&a, &ev, reason);
  assert_non_null(d);
  assert_string_equal(d->tenant, "acme");
  assert_int_equal(d->channel, KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL);
  assert_string_equal(d->contact_queued->reason_code, "billing");
  assert_true(a.used_total > 0);
  assert_string_equal(ks_body_name(KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED), "contact_queued");
  assert_null(ks_body_name(1)); /* event_id is not a body */
  ks_arena_free(&a);
}

static void invalid_events_are_refused(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  char reason[128];
  Kpistream__V1__ContactQueued q = KPISTREAM__V1__CONTACT_QUEUED__INIT;

  Kpistream__V1__Event ev = eb_event(EB_T0, "", 1, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "missing tenant");

  ev = eb_event(1000, "acme", 1, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "event_time_ms outside 2000-01-01..2100-01-01");

  ev = eb_event(EB_T0, "acme", 9, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &q;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "unknown channel");

  Kpistream__V1__SurveyResponse s = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  s.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT;
  s.scale_min = 1;
  s.scale_max = 5;
  s.score = 6;
  ev = eb_event(EB_T0, "acme", 1, "q", "c", "u", "");
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
  ev.survey = &s;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "survey score outside its scale");

  Kpistream__V1__SentimentScore se = KPISTREAM__V1__SENTIMENT_SCORE__INIT;
  se.overall = 1.5;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_SENTIMENT;
  ev.sentiment = &se;
  assert_null(decode(&a, &ev, reason));
  assert_string_equal(reason, "sentiment overall outside -1..1");
  ks_arena_free(&a);
}

static void garbage_and_truncation_are_refused(void **state) {
  (void)state;
  ks_arena a;
  ks_arena_init(&a, 0);
  char reason[128];
  assert_null(ks_decode_event(&a, NULL, 0, reason, sizeof reason));
  assert_string_equal(reason, "empty message");
  const uint8_t junk[] = "this is not protobuf at all";
  assert_null(ks_decode_event(&a, junk, sizeof junk - 1, reason, sizeof reason));
  assert_non_null(strstr(reason, "protobuf decode failed"));
  /* every truncation of a valid event is refused or decodes; none crashes */
  Kpistream__V1__Event ev = eb_event(EB_T0, "acme", 1, "support", "contact-1", "u", "a");
  Kpistream__V1__AfterContactWorkEnded w = KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT;
  w.reason_code = "billing";
  ev.body_case = KPISTREAM__V1__EVENT__BODY_ACW_ENDED;
  ev.acw_ended = &w;
  uint8_t buf[256];
  size_t n = eb_pack(&ev, buf, sizeof buf);
  int refused = 0;
  for (size_t cut = 1; cut < n; cut++) {
    ks_arena_reset(&a);
    refused += ks_decode_event(&a, buf, cut, reason, sizeof reason) == NULL;
  }
  assert_true(refused > 0);
  /* an unknown body field (number 62 is known; 57 is not) */
  const uint8_t unknown_body[] = {0x10, 0x80, 0xa0, 0xe5, 0xd2, 0x9e, 0x34, /* time */
                                  0x1a, 0x01, 'x',                          /* tenant */
                                  0xca, 0x03, 0x00};                        /* field 57, len 0 */
  ks_arena_reset(&a);
  assert_null(ks_decode_event(&a, unknown_body, sizeof unknown_body, reason, sizeof reason));
  assert_string_equal(reason, "unknown body type (newer schema?)");
  ks_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_event_round_trips),
      cmocka_unit_test(invalid_events_are_refused),
      cmocka_unit_test(garbage_and_truncation_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
