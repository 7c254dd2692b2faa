/* decoder_fast: hand-built wire bytes for every field type and every case it
 * declines (ks_decode_event then answers as protobuf-c's path always did).
 * The sweep of truncated and mutated events: test_decoder_fast_sweep.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoder.h"
#include "decoder_fast.h"
#include "testkit_engine.h"

#define EVD (&kpistream__v1__event__descriptor)

/* ---- a small wire writer -------------------------------------------------- */

typedef struct wbuf {
  uint8_t b[512];
  size_t n;
} wbuf;

static void put_raw(wbuf *w, const void *p, size_t n) {
  assert_true(w->n + n <= sizeof w->b);
  memcpy(w->b + w->n, p, n);
  w->n += n;
}
static void put_varint(wbuf *w, uint64_t v) {
  for (; v >= 0x80; v >>= 7)
    put_raw(w, &(uint8_t){(uint8_t)(v | 0x80)}, 1);
  put_raw(w, &(uint8_t){(uint8_t)v}, 1);
}
static void put_tag(wbuf *w, uint32_t field, unsigned wt) {
  put_varint(w, (uint64_t)field << 3 | wt);
}
static void put_int(wbuf *w, uint32_t field, uint64_t v) {
  put_tag(w, field, 0);
  put_varint(w, v);
}
static void put_bytes(wbuf *w, uint32_t field, const void *s, size_t n) {
  put_tag(w, field, 2);
  put_varint(w, n);
  put_raw(w, s, n);
}
static void put_str(wbuf *w, uint32_t field, const char *s) {
  put_bytes(w, field, s, strlen(s));
}
static void put_double(wbuf *w, uint32_t field, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  put_tag(w, field, 1);
  for (int i = 0; i < 8; i++)
    put_raw(w, &(uint8_t){(uint8_t)(u >> (8 * i))}, 1);
}
static void put_msg(wbuf *w, uint32_t field, const wbuf *sub) {
  put_tag(w, field, 2);
  put_varint(w, sub->n);
  put_raw(w, sub->b, sub->n);
}
/* A buffer holding the envelope every validation rule accepts. */
static wbuf envelope(void) {
  wbuf w0 = {0}, *w = &w0;
  put_str(w, 1, "ev-1");
  put_int(w, 2, (uint64_t)KS_TK_T0);
  put_str(w, 3, "acme");
  put_int(w, 4, 1); /* channel VOICE */
  put_str(w, 5, "c-1");
  return w0;
}

/* ---- oracles ---------------------------------------------------------------- */

/* a and b pack to the same bytes (and the same size). */
static void assert_same_packing(const ProtobufCMessage *a, const ProtobufCMessage *b) {
  uint8_t pa[8192], pb[8192];
  size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
  assert_int_equal(na, nb);
  assert_true(na <= sizeof pa);
  assert_int_equal(protobuf_c_message_pack(a, pa), na);
  assert_int_equal(protobuf_c_message_pack(b, pb), nb);
  assert_memory_equal(pa, pb, na);
}

/* The fast decoder takes w, and protobuf-c decodes it to the same message. */
static const void *fast_ok(ks_arena *a, const ProtobufCMessageDescriptor *d, const wbuf *w) {
  ks_arena_reset(a);
  ProtobufCMessage *m = NULL;
  assert_int_equal(ks_pb_decode_fast(a, d, w->b, w->n, &m), 1);
  assert_non_null(m);
  assert_ptr_equal(m->descriptor, d);
  assert_int_equal(m->n_unknown_fields, 0);
  ProtobufCMessage *ref = protobuf_c_message_unpack(d, &a->pb, w->n, w->b);
  assert_non_null(ref);
  assert_same_packing(m, ref);
  return m;
}

/* The fast decoder declines w; ks_decode_event then refuses it with
 * want_reason, or (want_reason NULL) accepts it as protobuf-c decodes it.
 * Returns the accepted event. */
static const Kpistream__V1__Event *declined(ks_arena *a, const wbuf *w, const char *want_reason) {
  ks_arena_reset(a);
  ProtobufCMessage *m = NULL;
  assert_int_equal(ks_pb_decode_fast(a, EVD, w->b, w->n, &m), 0);
  char reason[128] = "";
  const Kpistream__V1__Event *ev = ks_decode_event(a, w->b, w->n, reason, sizeof reason);
  if (want_reason != NULL) {
    if (ev != NULL)
      fail_msg("accepted; expected \"%s\"", want_reason);
    assert_string_equal(reason, want_reason);
    return NULL;
  }
  if (ev == NULL)
    fail_msg("refused: %s", reason);
  Kpistream__V1__Event *ref = kpistream__v1__event__unpack(&a->pb, w->n, w->b);
  assert_non_null(ref);
  assert_same_packing(&ev->base, &ref->base);
  return ev;
}

/* ---- what it decodes -------------------------------------------------------- */

static void typical_contact_event(void **state) {
  ks_arena *a = *state;
  wbuf body = {0}, w = envelope();
  put_int(&body, 1, 3);         /* priority */
  put_str(&body, 2, "billing"); /* reason_code */
  put_int(&body, 3, 1);         /* callback */
  put_str(&w, 7, "support");    /* queue */
  put_msg(&w, 20, &body);       /* contact_queued */
  assert_int_equal(w.n, 51);    /* envelope 26, queue 9, body 3 + 13 */
  const Kpistream__V1__Event *ev = fast_ok(a, EVD, &w);
  assert_string_equal(ev->event_id, "ev-1");
  assert_true(ev->event_time_ms == INT64_C(1795392000000));
  assert_string_equal(ev->tenant, "acme");
  assert_int_equal(ev->channel, KPISTREAM__V1__CHANNEL__CHANNEL_VOICE);
  assert_string_equal(ev->contact_id, "c-1");
  assert_string_equal(ev->customer_id, ""); /* proto3 default */
  assert_string_equal(ev->queue, "support");
  assert_int_equal(ev->body_case, KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED);
  assert_int_equal(ev->contact_queued->priority, 3);
  assert_string_equal(ev->contact_queued->reason_code, "billing");
  assert_int_equal(ev->contact_queued->callback, 1);
  /* ks_decode_event takes the same bytes */
  char reason[128] = "";
  ks_arena_reset(a);
  const Kpistream__V1__Event *d = ks_decode_event(a, w.b, w.n, reason, sizeof reason);
  assert_non_null(d);
  assert_string_equal(d->contact_queued->reason_code, "billing");
}

static void every_field_type(void **state) {
  ks_arena *a = *state;
  /* schedule: int64, int64, enum, bool, string, int32 */
  wbuf s = {0}, w = envelope();
  put_int(&s, 1, (uint64_t)KS_TK_T0);
  put_int(&s, 2, (uint64_t)(KS_TK_T0 + 3600000));
  put_int(&s, 3, 7); /* ACTIVITY_PLANNED_LEAVE */
  put_int(&s, 4, 1);
  put_str(&s, 5, "sched-9");
  put_int(&s, 6, 12);
  put_msg(&w, 41, &s);
  const Kpistream__V1__Event *ev = fast_ok(a, EVD, &w);
  assert_int_equal(ev->body_case, KPISTREAM__V1__EVENT__BODY_SCHEDULE);
  assert_true(ev->schedule->end_ms == INT64_C(1795395600000));
  assert_int_equal(ev->schedule->activity, KPISTREAM__V1__ACTIVITY__ACTIVITY_PLANNED_LEAVE);
  assert_int_equal(ev->schedule->paid, 1);
  assert_string_equal(ev->schedule->schedule_id, "sched-9");
  assert_int_equal(ev->schedule->revision, 12);
  /* sentiment: doubles (negative, fractional), bool; an empty string field */
  wbuf se = {0};
  put_double(&se, 1, -0.75);
  put_int(&se, 2, 1);
  put_double(&se, 3, 0.125);
  put_double(&se, 4, -1.0);
  put_double(&se, 5, 2.5e10);
  w = envelope();
  put_str(&w, 9, ""); /* team, explicitly empty */
  put_msg(&w, 51, &se);
  ev = fast_ok(a, EVD, &w);
  assert_true(ev->sentiment->overall == -0.75);
  assert_int_equal(ev->sentiment->has_start_end, 1);
  assert_true(ev->sentiment->start == 0.125 && ev->sentiment->end == -1.0);
  assert_true(ev->sentiment->magnitude == 2.5e10);
  assert_string_equal(ev->team, "");
  /* an empty body message still sets the case */
  w = envelope();
  put_msg(&w, 22, &(wbuf){0}); /* contact_answered {} */
  ev = fast_ok(a, EVD, &w);
  assert_int_equal(ev->body_case, KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED);
  assert_non_null(ev->contact_answered);
}

static void long_varints(void **state) {
  ks_arena *a = *state;
  /* event_time_ms -1: ten bytes */
  wbuf w = {0};
  put_int(&w, 2, UINT64_MAX);
  assert_int_equal(w.n, 11);
  const Kpistream__V1__Event *ev = fast_ok(a, EVD, &w);
  assert_true(ev->event_time_ms == -1);
  /* byte 9 contributes bit 63 only: 80 x9, 03 -> INT64_MIN */
  static const uint8_t min64[] = {0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x03};
  w.n = 0;
  put_raw(&w, min64, sizeof min64);
  ev = fast_ok(a, EVD, &w);
  assert_true(ev->event_time_ms == INT64_MIN);
  /* survey.score -5 as a ten-byte varint; scale_min 5 bytes with a high nibble */
  wbuf s = {0};
  put_int(&s, 2, (uint64_t)(int64_t)-5);
  static const uint8_t lo32[] = {0x18, 0x80, 0x80, 0x80, 0x80, 0x7f}; /* low 32: 0xF0000000 */
  put_raw(&s, lo32, sizeof lo32);
  w.n = 0;
  put_msg(&w, 50, &s);
  ev = fast_ok(a, EVD, &w);
  assert_int_equal(ev->survey->score, -5);
  assert_int_equal(ev->survey->scale_min, (int32_t)0xF0000000u);
}

static void bools_as_protobuf_c_reads_them(void **state) {
  ks_arena *a = *state;
  static const uint8_t t2[] = {0x18, 0x80, 0x01}; /* callback = 0x80 0x01 */
  static const uint8_t f2[] = {0x18, 0x80, 0x00}; /* callback = 0x80 0x00 */
  static const uint8_t t10[] = {0x18, 0x80, 0x80, 0x80, 0x80, 0x80,
                                0x80, 0x80, 0x80, 0x80, 0x02}; /* value 0 in 64 bits */
  const uint8_t *cases[] = {t2, f2, t10};
  const size_t sizes[] = {sizeof t2, sizeof f2, sizeof t10};
  const int want[] = {1, 0, 1};
  for (int i = 0; i < 3; i++) {
    wbuf q = {0}, w = {0};
    put_raw(&q, cases[i], sizes[i]);
    put_msg(&w, 20, &q);
    const Kpistream__V1__Event *ev = fast_ok(a, EVD, &w);
    assert_int_equal(ev->contact_queued->callback, want[i]);
  }
}

static void fields_out_of_order(void **state) {
  ks_arena *a = *state;
  wbuf q = {0}, w = {0};
  put_str(&q, 2, "r");
  put_int(&q, 1, 4);
  put_msg(&w, 20, &q); /* the body first */
  put_str(&w, 8, "agent-7");
  put_str(&w, 3, "acme");
  put_int(&w, 2, (uint64_t)KS_TK_T0);
  put_str(&w, 1, "e");
  const Kpistream__V1__Event *ev = fast_ok(a, EVD, &w);
  assert_string_equal(ev->agent_id, "agent-7");
  assert_string_equal(ev->tenant, "acme");
  assert_string_equal(ev->event_id, "e");
  assert_int_equal(ev->contact_queued->priority, 4);
  assert_string_equal(ev->contact_queued->reason_code, "r");
}

/* ---- what it declines ------------------------------------------------------- */

#define DECODE_FAILED "protobuf decode failed (not a kpistream.v1.Event)"

static void declines_what_protobuf_c_decides(void **state) {
  ks_arena *a = *state;
  wbuf w = envelope(), b = {0};
  /* unknown fields: a body of a newer schema; a newer envelope field */
  put_msg(&w, 57, &b);
  declined(a, &w, "unknown body field 57 (newer schema?)");
  w = envelope();
  put_int(&w, 15, 7);
  put_tag(&w, 16, 5);
  put_raw(&w, "\1\2\3\4", 4);
  put_msg(&w, 22, &b);
  declined(a, &w, NULL);
  /* enums the enum does not declare, envelope and body */
  w.n = 0;
  put_int(&w, 2, (uint64_t)KS_TK_T0);
  put_str(&w, 3, "acme");
  put_int(&w, 4, 9);
  put_msg(&w, 22, &b);
  declined(a, &w, "channel 9 not a known Channel");
  w.n = 0;
  put_int(&w, 2, (uint64_t)KS_TK_T0);
  put_str(&w, 3, "acme");
  put_int(&w, 4, UINT64_MAX);
  put_msg(&w, 22, &b);
  declined(a, &w, "channel -1 not a known Channel");
  put_int(&b, 1, 9); /* contact_abandoned.stage 9 */
  w = envelope();
  put_msg(&w, 28, &b);
  declined(a, &w, "contact_abandoned.stage 9 not a known AbandonStage");
  /* a field twice: the last one wins */
  w = (wbuf){0};
  put_str(&w, 3, "x");
  wbuf env = envelope();
  put_raw(&w, env.b, env.n);
  put_msg(&w, 22, &(wbuf){0});
  const Kpistream__V1__Event *ev = declined(a, &w, NULL);
  assert_string_equal(ev->tenant, "acme");
  /* two members of the oneof, then the same member twice */
  b.n = 0;
  put_str(&b, 2, "q1");
  w = envelope();
  put_msg(&w, 20, &b);
  put_msg(&w, 22, &(wbuf){0});
  ev = declined(a, &w, NULL);
  assert_int_equal(ev->body_case, KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED);
  w = envelope();
  put_msg(&w, 20, &b);
  b.n = 0;
  put_int(&b, 1, 6);
  put_msg(&w, 20, &b);
  ev = declined(a, &w, NULL);
  assert_int_equal(ev->contact_queued->priority, 6);
  /* a repeated field (QaEvaluation.sections) */
  wbuf sec = {0}, qa = {0};
  put_str(&sec, 1, "greeting");
  put_double(&sec, 3, 1.0);
  put_str(&qa, 1, "qa-1");
  put_msg(&qa, 4, &sec);
  w = envelope();
  put_msg(&w, 52, &qa);
  ev = declined(a, &w, NULL);
  assert_int_equal(ev->qa_evaluation->n_sections, 1);
  assert_string_equal(ev->qa_evaluation->sections[0]->name, "greeting");
  /* a bool in a 32-bit wire type: protobuf-c reads it anyway */
  b.n = 0;
  put_tag(&b, 3, 5);
  put_raw(&b, "\0\0\0\1", 4);
  w = envelope();
  put_msg(&w, 20, &b);
  ev = declined(a, &w, NULL);
  assert_int_equal(ev->contact_queued->callback, 1);
}

static void declines_malformed_input(void **state) {
  ks_arena *a = *state;
  static const struct {
    uint8_t b[16];
    size_t n;
  } bad[] = {
      {{0x1a, 0x80}, 2},                   /* tenant: wire type 2, length truncated */
      {{0x18, 0x01}, 2},                   /* tenant (a string) as a varint */
      {{0x12, 0x01, 0x00}, 3},             /* event_time_ms as a length-prefixed field */
      {{0x15, 1, 2, 3, 4}, 5},             /* event_time_ms as 32-bit: wire type 5 */
      {{0x11, 1, 2, 3, 4, 5, 6, 7, 8}, 9}, /* event_time_ms as 64-bit */
      {{0x0b}, 1},                         /* wire type 3 (start group) */
      {{0x0c}, 1},                         /* wire type 4 (end group) */
      {{0x0e}, 1},                         /* wire type 6 */
      {{0x10, 0x80}, 2},                   /* varint truncated */
      {{0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 12}, /* 11 bytes */
      {{0x1a, 0x0a, 'a', 'c', 'm', 'e'}, 6},           /* length past the end */
      {{0x1a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 7}, /* 6-byte length prefix */
      {{0x90, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01}, 7}, /* 6-byte tag of event_time_ms */
      {{0xa2, 0x01, 0x05, 0x18, 0x01}, 5},             /* body longer than its bytes */
      {{0xa2, 0x01, 0x01, 0x18}, 4},                   /* body cut inside: a tag, no value */
      {{0x99, 0x03, 0, 0, 0, 0, 0, 0, 0, 0}, 10},      /* sentiment (a message) as 64-bit */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wbuf w = {0};
    put_raw(&w, bad[i].b, bad[i].n);
    declined(a, &w, DECODE_FAILED);
  }
  /* a double cut short (7 of 8 bytes) inside sentiment */
  wbuf w = {0};
  static const uint8_t cut[] = {0x9a, 0x03, 0x08, 0x09, 1, 2, 3, 4, 5, 6, 7};
  put_raw(&w, cut, sizeof cut);
  declined(a, &w, DECODE_FAILED);
  /* field number 0 */
  ProtobufCMessage *m = NULL;
  static const uint8_t zero[] = {0x00, 0x01};
  ks_arena_reset(a);
  assert_int_equal(ks_pb_decode_fast(a, EVD, zero, sizeof zero, &m), 0);
}

/* Strings that are not well-formed UTF-8 (RFC 3629) are declined, so that
 * ks_decode_event refuses them on protobuf-c's path with the field named;
 * multi-byte characters decode here. */
static void declines_strings_not_utf8(void **state) {
  ks_arena *a = *state;
  static const char *const good[] = {"caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
                                     "\xf0\x9f\x98\x80 ok", "\xf4\x8f\xbf\xbf",
                                     "long ascii run, then \xc3\xa9"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    wbuf body = {0}, w = envelope();
    put_str(&w, 7, good[i]);    /* queue */
    put_str(&body, 2, good[i]); /* reason_code */
    put_msg(&w, 20, &body);     /* contact_queued */
    const Kpistream__V1__Event *ev = fast_ok(a, EVD, &w);
    assert_string_equal(ev->queue, good[i]);
    assert_string_equal(ev->contact_queued->reason_code, good[i]);
  }
  static const struct {
    const char *s, *why;
  } bad[] = {
      {"q\xff", "at byte 1 (0xff)"},    {"\x80", "at byte 0 (0x80)"},
      {"\xc0\xaf", "at byte 0 (0xc0)"}, {"\xed\xa0\x80", "at byte 0 (0xed)"},
      {"\xe6\x97", "at byte 0 (0xe6)"}, {"twelve bytes\xf4\x90\x80\x80", "at byte 12 (0xf4)"},
  };
  char want[128];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wbuf body = {0}, w = envelope();
    put_str(&w, 7, bad[i].s); /* queue */
    put_msg(&w, 20, &body);
    snprintf(want, sizeof want, "queue not UTF-8 %s", bad[i].why);
    declined(a, &w, want);
    w = envelope();
    put_str(&w, 8, bad[i].s); /* agent_id */
    put_msg(&w, 20, &body);
    snprintf(want, sizeof want, "agent_id not UTF-8 %s", bad[i].why);
    declined(a, &w, want);
    w = envelope();
    put_str(&body, 2, bad[i].s); /* reason_code, in the body */
    put_msg(&w, 20, &body);
    snprintf(want, sizeof want, "contact_queued.reason_code not UTF-8 %s", bad[i].why);
    declined(a, &w, want);
  }
}

/* Strings holding a NUL byte (valid UTF-8, but protobuf-c's char * would
 * end there: "ab\0x" would become "ab", another key) are declined, so that
 * ks_decode_event refuses them on protobuf-c's path with the field and the
 * offset named; whichever of a NUL byte and an ill-formed sequence comes
 * first is the one named. */
static void declines_strings_with_nul(void **state) {
  ks_arena *a = *state;
  static const struct {
    const char *s;
    size_t n;
    const char *why;
  } bad[] = {
      {"\0ab", 3, "holds a NUL byte at byte 0"},
      {"a\0b", 3, "holds a NUL byte at byte 1"},
      {"ab\0", 3, "holds a NUL byte at byte 2"},
      {"\0", 1, "holds a NUL byte at byte 0"},
      {"sixteen bytes ok\0", 17, "holds a NUL byte at byte 16"},
      {"caf\xc3\xa9\0", 6, "holds a NUL byte at byte 5"},
      {"\0\xff", 2, "holds a NUL byte at byte 0"},
      {"\xff\0", 2, "not UTF-8 at byte 0 (0xff)"},
  };
  char want[128];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    static const struct {
      uint32_t field;
      const char *name;
    } env[] = {{1, "event_id"}, {3, "tenant"},   {5, "contact_id"}, {6, "customer_id"},
               {7, "queue"},    {8, "agent_id"}, {9, "team"}};
    for (size_t k = 0; k < sizeof env / sizeof env[0]; k++) {
      wbuf body = {0}, w = {0};
      /* the envelope() fields, the one under test holding the bad bytes */
      const char *vals[10] = {[1] = "ev-1", [3] = "acme", [5] = "c-1"};
      for (uint32_t f = 1; f <= 9; f++) {
        if (f == env[k].field)
          put_bytes(&w, f, bad[i].s, bad[i].n);
        else if (vals[f] != NULL)
          put_str(&w, f, vals[f]);
        if (f == 2)
          put_int(&w, 2, (uint64_t)KS_TK_T0);
        if (f == 4)
          put_int(&w, 4, 1);
      }
      put_msg(&w, 20, &body);
      snprintf(want, sizeof want, "%s %s", env[k].name, bad[i].why);
      declined(a, &w, want);
    }
    wbuf body = {0}, w = envelope();
    put_bytes(&body, 2, bad[i].s, bad[i].n); /* reason_code, in the body */
    put_msg(&w, 20, &body);
    snprintf(want, sizeof want, "contact_queued.reason_code %s", bad[i].why);
    declined(a, &w, want);
  }
  /* a string without one still decodes here, whole */
  wbuf body = {0}, w = envelope();
  put_str(&w, 7, "ab");
  put_msg(&w, 20, &body);
  const Kpistream__V1__Event *ev = fast_ok(a, EVD, &w);
  assert_string_equal(ev->queue, "ab");
}

/* A self-nesting message with a uint32 field, described by hand: the depth
 * cap and a type the fast decoder does not handle. */
typedef struct node {
  ProtobufCMessage base;
  struct node *child;
  uint32_t u;
} node;
static const ProtobufCMessageDescriptor node_descriptor;
static void node_init(ProtobufCMessage *m) {
  memset(m, 0, sizeof(node));
  m->descriptor = &node_descriptor;
}
static const ProtobufCFieldDescriptor node_fields[2] = {
    {"child", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof(node, child),
     &node_descriptor, NULL, 0, 0, NULL, NULL},
    {"u", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_UINT32, 0, offsetof(node, u), NULL, NULL, 0, 0,
     NULL, NULL},
};
static const unsigned node_by_name[2] = {0, 1};
static const ProtobufCIntRange node_ranges[2] = {{1, 0}, {0, 2}};
// clang-format off
static const ProtobufCMessageDescriptor node_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.Node", "Node", "Node", "t", sizeof(node),
    2, node_fields, node_by_name, 1, node_ranges, node_init, NULL, NULL, NULL};
// clang-format on

static void depth_cap_and_other_types(void **state) {
  ks_arena *a = *state;
  wbuf chain = {0};
  for (int depth = 2; depth <= KS_PB_FAST_MAX_DEPTH + 1; depth++) {
    wbuf outer = {0};
    put_msg(&outer, 1, &chain);
    chain = outer; /* chain now holds `depth` nested messages */
    ProtobufCMessage *m = NULL;
    ks_arena_reset(a);
    int ok = ks_pb_decode_fast(a, &node_descriptor, chain.b, chain.n, &m);
    assert_int_equal(ok, depth <= KS_PB_FAST_MAX_DEPTH);
    const node *ref =
        (const node *)protobuf_c_message_unpack(&node_descriptor, &a->pb, chain.n, chain.b);
    assert_non_null(ref);
    int levels = 0;
    for (const node *n = ok ? (const node *)m : ref; n != NULL; n = n->child)
      levels++;
    assert_int_equal(levels, depth);
  }
  wbuf w = {0};
  put_int(&w, 2, 5);
  ProtobufCMessage *m = NULL;
  ks_arena_reset(a);
  assert_int_equal(ks_pb_decode_fast(a, &node_descriptor, w.b, w.n, &m), 0);
  const node *ref = (const node *)protobuf_c_message_unpack(&node_descriptor, &a->pb, w.n, w.b);
  assert_non_null(ref);
  assert_int_equal(ref->u, 5);
}

static int arena_up(void **state) {
  ks_arena *a = malloc(sizeof *a);
  if (a == NULL || ks_arena_init(a, 0) != 0) {
    free(a);
    return -1;
  }
  *state = a;
  return 0;
}
static int arena_down(void **state) {
  ks_arena_free(*state);
  free(*state);
  return 0;
}
#define T(f) cmocka_unit_test_setup_teardown(f, arena_up, arena_down)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(typical_contact_event),
      T(every_field_type),
      T(long_varints),
      T(bools_as_protobuf_c_reads_them),
      T(fields_out_of_order),
      T(declines_what_protobuf_c_decides),
      T(declines_malformed_input),
      T(depth_cap_and_other_types),
      T(declines_strings_not_utf8),
      T(declines_strings_with_nul),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
