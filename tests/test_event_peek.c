/*
 * test_event_peek — ks_peek_event_time() (core/engine/event_peek.c), the
 * event time the runner's merge orders by, read without decoding:
 *   - hand-built protobuf bytes (varints written out by hand, checked with
 *     an independent encoder): a lone time, non-minimal tags, the largest
 *     and negative times (10-byte varints), the last of two times;
 *   - field number 0 and unknown fields of every wire type before the time
 *     are skipped;
 *   - a body (length-delimited) holding a field-2 varint of its own is never
 *     taken for the event time;
 *   - truncated varints, lengths past the end, truncated fixed fields, an
 *     11-byte varint, wrong wire types for field 2, group and reserved wire
 *     types, an empty buffer: -1;
 *   - agreement with the real decoder: every crafted message protobuf-c
 *     unpacks with a time peeks the same time, and every event of the
 *     project's simulated sample input (all six topics) peeks exactly the
 *     time ks_decode_event() decodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decoder.h"
#include "event_peek.h"
#include "kpistream/testkit.h"
#include "sim_world.h"

typedef struct peek_case {
  const char *what;
  uint8_t bytes[40];
  size_t len;
  int rc;       /* expected return */
  int64_t want; /* expected time when rc == 0 */
} peek_case;

#define C(what, rc, want, ...)                                                                     \
  { what, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), rc, want }

/* 1795392000000 = 2026-11-23T00:00:00Z (KS_TK_T0) as a varint. */
#define T0 0x80, 0xA0, 0xCF, 0xAD, 0xA0, 0x34
/* -1 as an int64 varint: ten bytes. */
#define MINUS1 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01

static const peek_case cases[] = {
    /* well-formed */
    C("time 1", 0, 1, 0x10, 0x01),
    C("time 300 (two-byte varint)", 0, 300, 0x10, 0xAC, 0x02),
    C("time KS_TK_T0", 0, KS_TK_T0, 0x10, T0),
    C("time 0", 0, 0, 0x10, 0x00),
    C("time -1 (ten-byte varint)", 0, -1, 0x10, MINUS1),
    C("time INT64_MAX", 0, INT64_MAX, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F),
    C("time in a non-minimal two-byte tag", 0, 7, 0x90, 0x00, 0x07),
    C("the last of two times wins", 0, 9, 0x10, 0x05, 0x10, 0x09),
    /* field number 0 is skipped like any unknown field */
    C("field 0 varint before the time", 0, 7, 0x00, 0x05, 0x10, 0x07),
    C("field 0 bytes before the time", 0, 7, 0x02, 0x01, 0xFF, 0x10, 0x07),
    C("field 0 in a two-byte tag", 0, 7, 0x80, 0x00, 0x05, 0x10, 0x07),
    C("field 0 alone", -1, 0, 0x00, 0x05),
    /* unknown and other known fields before the time */
    C("event_id before the time", 0, 300, 0x0A, 0x03, 'e', '-', '1', 0x10, 0xAC, 0x02),
    C("tenant after the time", 0, 300, 0x10, 0xAC, 0x02, 0x1A, 0x04, 'a', 'c', 'm', 'e'),
    C("unknown field 99 varint (two-byte tag)", 0, 7, 0x98, 0x06, 0xAC, 0x02, 0x10, 0x07),
    C("unknown field 1000 fixed64", 0, 7, 0xC1, 0x3E, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x07),
    C("unknown field 15 fixed32", 0, 7, 0x7D, 1, 2, 3, 4, 0x10, 0x07),
    C("unknown field 536870911 (largest) bytes", 0, 7, 0xFA, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x10,
      0x07),
    C("empty bytes field", 0, 7, 0x0A, 0x00, 0x10, 0x07),
    /* a body holding its own field 2 is skipped whole */
    C("contact_offered{accepted} before the time", 0, 300, 0xAA, 0x01, 0x02, 0x10, 0x01, 0x10, 0xAC,
      0x02),
    C("contact_offered{accepted} after the time", 0, 300, 0x10, 0xAC, 0x02, 0xAA, 0x01, 0x02, 0x10,
      0x01),
    C("only a body's field 2", -1, 0, 0xAA, 0x01, 0x02, 0x10, 0x01),
    C("time bytes inside a string", -1, 0, 0x0A, 0x02, 0x10, 0x07),
    /* truncated */
    C("empty", -1, 0, 0x00), /* len set to 0 below */
    C("time varint cut after a continuation byte", -1, 0, 0x10, 0x80),
    C("time varint cut after five bytes", -1, 0, 0x10, 0x80, 0xA0, 0xCF, 0xAD, 0xA0),
    C("tag cut", -1, 0, 0x90),
    C("time then a cut tag", -1, 0, 0x10, 0x07, 0x98),
    C("length varint cut", -1, 0, 0x0A, 0x80),
    C("length past the end", -1, 0, 0x0A, 0x05, 'a', 0x10, 0x07),
    C("time, then a length past the end", -1, 0, 0x10, 0x07, 0x0A, 0x05, 'a'),
    C("length 2^64-1", -1, 0, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
    C("fixed64 cut", -1, 0, 0x10, 0x07, 0x09, 1, 2, 3, 4, 5, 6, 7),
    C("fixed32 cut", -1, 0, 0x10, 0x07, 0x0D, 1, 2, 3),
    C("eleven-byte varint", -1, 0, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
      0x01),
    C("time, then an eleven-byte varint", -1, 0, 0x10, 0x07, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
      0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
    /* wrong wire types */
    C("field 2 as bytes", -1, 0, 0x12, 0x01, 0x07),
    C("field 2 as fixed64", -1, 0, 0x11, 7, 0, 0, 0, 0, 0, 0, 0),
    C("field 2 as fixed32", -1, 0, 0x15, 7, 0, 0, 0),
    C("field 2 start group", -1, 0, 0x13, 0x14),
    C("field 2 end group", -1, 0, 0x14),
    C("wire type 6", -1, 0, 0x16, 0x07),
    C("wire type 7", -1, 0, 0x17, 0x07),
    C("time, then wire type 3", -1, 0, 0x10, 0x07, 0x0B, 0x0C),
};

static size_t case_len(const peek_case *c) {
  return strcmp(c->what, "empty") == 0 ? 0 : c->len;
}

static void hand_built_bytes(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const peek_case *c = &cases[i];
    int64_t t = INT64_MIN + 12345;
    int rc = ks_peek_event_time(c->bytes, case_len(c), &t);
    if (rc != c->rc)
      fail_msg("%s: returned %d, expected %d", c->what, rc, c->rc);
    if (rc == 0 && t != c->want)
      fail_msg("%s: time %lld, expected %lld", c->what, (long long)t, (long long)c->want);
  }
  int64_t t = 5;
  assert_int_equal(ks_peek_event_time(NULL, 0, &t), -1);
}

/* The varint constants above, re-derived from their value. */
static void varints_are_what_they_say(void **state) {
  (void)state;
  static const uint8_t t0[] = {T0}, m1[] = {MINUS1};
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof t0; i++)
    v |= (uint64_t)(t0[i] & 0x7F) << (7 * i);
  assert_true(v == (uint64_t)KS_TK_T0);
  v = 0;
  for (size_t i = 0; i < sizeof m1; i++)
    v |= (uint64_t)(m1[i] & 0x7F) << (7 * i);
  assert_true(v == UINT64_MAX);
}

/* Wherever protobuf-c (the decoder's fallback and reference) unpacks a
 * crafted message with a non-zero time, the peek gives the same time. */
static void agrees_with_protobuf_c_on_crafted_bytes(void **state) {
  (void)state;
  int unpacked = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const peek_case *c = &cases[i];
    Kpistream__V1__Event *ev = kpistream__v1__event__unpack(NULL, case_len(c), c->bytes);
    if (ev == NULL)
      continue;
    unpacked++;
    int64_t t = 0;
    int rc = ks_peek_event_time(c->bytes, case_len(c), &t);
    if (ev->event_time_ms != 0 && (rc != 0 || t != ev->event_time_ms))
      fail_msg("%s: protobuf-c reads time %lld, the peek %d/%lld", c->what,
               (long long)ev->event_time_ms, rc, (long long)t);
    if (rc == 0 && t != ev->event_time_ms)
      fail_msg("%s: the peek reads time %lld, protobuf-c %lld", c->what, (long long)t,
               (long long)ev->event_time_ms);
    kpistream__v1__event__free_unpacked(ev, NULL);
  }
  assert_true(unpacked >= 15); /* the comparison did happen */
}

/* The project's sample input: every simulated event of every topic. */
static void agrees_with_the_decoder_on_sample_events(void **state) {
  (void)state;
  sim_world *w = sim_world_new_at(7, 2, "2026-11-23T22:00:00Z", 4 * 3600 * 1000);
  assert_true(w->n > 1000);
  ks_arena a;
  ks_arena_init(&a, 0);
  unsigned bodies[64] = {0};
  for (size_t i = 0; i < w->n; i++) {
    ks_arena_reset(&a);
    char reason[128] = "";
    const Kpistream__V1__Event *ev =
        ks_decode_event(&a, w->msgs[i].buf, w->msgs[i].len, reason, sizeof reason);
    if (ev == NULL)
      fail_msg("sample event %zu refused: %s", i, reason);
    int64_t t = 0;
    assert_int_equal(ks_peek_event_time(w->msgs[i].buf, w->msgs[i].len, &t), 0);
    if (t != ev->event_time_ms)
      fail_msg("sample event %zu: peek %lld, decoder %lld", i, (long long)t,
               (long long)ev->event_time_ms);
    bodies[ev->body_case % 64] = 1;
    /* a byte short: never a different time */
    if (ks_peek_event_time(w->msgs[i].buf, w->msgs[i].len - 1, &t) == 0 && t != ev->event_time_ms)
      fail_msg("sample event %zu cut by a byte peeks %lld", i, (long long)t);
  }
  unsigned kinds = 0;
  for (size_t b = 0; b < 64; b++)
    kinds += bodies[b];
  assert_true(kinds >= 20); /* many bodies, so many layouts before and after the time */
  ks_arena_free(&a);
  sim_world_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hand_built_bytes),
      cmocka_unit_test(varints_are_what_they_say),
      cmocka_unit_test(agrees_with_protobuf_c_on_crafted_bytes),
      cmocka_unit_test(agrees_with_the_decoder_on_sample_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
