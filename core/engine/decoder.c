/*
 * decoder — one decode into the arena (decoder_fast.c's single pass, or
 * protobuf-c's unpack where that declines), then the schema checks of
 * docs/schema.md ("Validation"). Every refusal writes a reason that names the
 * field and its value ("survey.score 7 outside scale 1-5"); the runner puts
 * it in the dead-letter header kpistream.reason. Strings must be well-formed
 * UTF-8 (proto3; utf8.h) without a NUL byte, which protobuf-c's unpack does
 * not check (and cuts a string at its first NUL): the string walk over the
 * wire bytes does, and the single pass declines such strings so that the
 * walk names the field.
 */
#include "decoder.h"

#include "decoder_fast.h"
#include "kpistream/plugin.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Where a refusal's reason goes (caller-owned, may be NULL). */
typedef struct why {
  char *s;
  size_t n;
} why;

static int refuse(const why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(const why *w, const char *fmt, ...) {
  if (w->s && w->n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->s, w->n, fmt, ap);
    va_end(ap);
  }
  return 1;
}

const char *ks_body_name(uint32_t body_case) {
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field(&kpistream__v1__event__descriptor, body_case);
  if (f == NULL || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
    return NULL;
  return f->name;
}

/* ---- value checks: 0 = fine, 1 = refused (reason written) ----------------- */

#define TIME_RANGE "2000-01-01..2100-01-01"

static int check_time(const why *w, const char *field, int64_t ms) {
  if (!ks_event_time_in_range(ms))
    return refuse(w, "%s %" PRId64 " outside " TIME_RANGE, field, ms);
  return 0;
}

/* An optional time: 0 means not set; anything else must be a sane time. */
static int check_opt_time(const why *w, const char *field, int64_t ms) {
  return ms != 0 && check_time(w, field, ms);
}

static int check_finite(const why *w, const char *field, double v) {
  if (!isfinite(v))
    return refuse(w, "%s %.15g not finite", field, v);
  return 0;
}

static int check_nonneg(const why *w, const char *field, double v) {
  if (check_finite(w, field, v))
    return 1;
  if (v < 0)
    return refuse(w, "%s %.15g negative", field, v);
  return 0;
}

static int check_nonneg_int(const why *w, const char *field, int64_t v) {
  if (v < 0)
    return refuse(w, "%s %" PRId64 " negative", field, v);
  return 0;
}

/* -1..1 inclusive; NaN fails the comparison and is refused too. */
static int check_unit(const why *w, const char *field, double v) {
  if (!(v >= -1.0 && v <= 1.0))
    return refuse(w, "%s %.15g outside -1..1", field, v);
  return 0;
}

/* Periods: both ends optional; when both are set, the end is not before the start. */
static int check_period(const why *w, const char *body, int64_t start, int64_t end) {
  char f[64];
  snprintf(f, sizeof f, "%s.period_start_ms", body);
  if (check_opt_time(w, f, start))
    return 1;
  snprintf(f, sizeof f, "%s.period_end_ms", body);
  if (check_opt_time(w, f, end))
    return 1;
  if (start != 0 && end != 0 && end < start)
    return refuse(w, "%s.period_end_ms %" PRId64 " before period_start_ms %" PRId64, body, end,
                  start);
  return 0;
}

/* Every singular enum field of m must hold a value its enum declares (proto3
 * enums are open: protobuf-c keeps undeclared numbers as they came). */
static int check_enums(const why *w, const char *prefix, const ProtobufCMessage *m) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_ENUM || f->label == PROTOBUF_C_LABEL_REPEATED)
      continue;
    int v = *(const int *)(const void *)((const char *)m + f->offset);
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    if (protobuf_c_enum_descriptor_get_value(ed, v) == NULL)
      return refuse(w, "%s%s%s %d not a known %s", prefix, *prefix ? "." : "", f->name, v,
                    ed->short_name);
  }
  return 0;
}

/* ---- bodies -------------------------------------------------------------- */

/* Supported survey scales (docs/schema.md): NPS 0-10; CES 1-5 or 1-7; CSAT
 * and unspecified types: lowest answer 0 or 1, highest above it and at most
 * 10. No scale at all (0-0) means 0-10, the widest supported one. */
#define SURVEY_TOP 10

static int check_survey(const why *w, const Kpistream__V1__SurveyResponse *s) {
  int32_t lo = s->scale_min, hi = s->scale_max;
  if (lo == 0 && hi == 0) {
    hi = SURVEY_TOP;
  } else if (s->type == KPISTREAM__V1__SURVEY_TYPE__SURVEY_NPS) {
    if (lo != 0 || hi != 10)
      return refuse(w, "survey.scale %" PRId32 "-%" PRId32 " not supported for NPS (0-10)", lo, hi);
  } else if (s->type == KPISTREAM__V1__SURVEY_TYPE__SURVEY_CES) {
    if (lo != 1 || (hi != 5 && hi != 7))
      return refuse(w, "survey.scale %" PRId32 "-%" PRId32 " not supported for CES (1-5 or 1-7)",
                    lo, hi);
  } else if ((lo != 0 && lo != 1) || hi <= lo || hi > SURVEY_TOP) {
    return refuse(w,
                  "survey.scale %" PRId32 "-%" PRId32
                  " not supported (lowest 0 or 1, highest above it, at most 10)",
                  lo, hi);
  }
  if (s->score < lo || s->score > hi)
    return refuse(w, "survey.score %" PRId32 " outside scale %" PRId32 "-%" PRId32, s->score, lo,
                  hi);
  return 0;
}

static int check_sentiment(const why *w, const Kpistream__V1__SentimentScore *s) {
  if (check_unit(w, "sentiment.overall", s->overall))
    return 1;
  if (s->has_start_end &&
      (check_unit(w, "sentiment.start", s->start) || check_unit(w, "sentiment.end", s->end)))
    return 1;
  return check_nonneg(w, "sentiment.magnitude", s->magnitude);
}

static int check_qa(const why *w, const Kpistream__V1__QaEvaluation *qa) {
  char f[96];
  for (size_t i = 0; i < qa->n_sections; i++) {
    const Kpistream__V1__QaSection *sec = qa->sections[i];
    snprintf(f, sizeof f, "qa_evaluation.sections[%zu].weight", i);
    if (check_nonneg(w, f, sec->weight))
      return 1;
    for (size_t k = 0; k < sec->n_items; k++) {
      const Kpistream__V1__QaItem *it = sec->items[k];
      snprintf(f, sizeof f, "qa_evaluation.sections[%zu].items[%zu].points", i, k);
      if (check_nonneg(w, f, it->points))
        return 1;
      snprintf(f, sizeof f, "qa_evaluation.sections[%zu].items[%zu].possible", i, k);
      if (check_nonneg(w, f, it->possible))
        return 1;
      if (!it->not_applicable && it->points > it->possible)
        return refuse(w, "qa_evaluation.sections[%zu].items[%zu].points %.15g above possible %.15g",
                      i, k, it->points, it->possible);
    }
  }
  return 0;
}

static int check_schedule(const why *w, const Kpistream__V1__ScheduleSegment *s) {
  if (check_time(w, "schedule.start_ms", s->start_ms) ||
      check_time(w, "schedule.end_ms", s->end_ms))
    return 1;
  if (s->end_ms < s->start_ms)
    return refuse(w, "schedule.end_ms %" PRId64 " before start_ms %" PRId64, s->end_ms,
                  s->start_ms);
  return 0;
}

static int check_forecast(const why *w, const Kpistream__V1__ForecastPublished *fc) {
  return check_time(w, "forecast.interval_start_ms", fc->interval_start_ms) ||
         check_nonneg_int(w, "forecast.interval_length_s", fc->interval_length_s) ||
         check_nonneg(w, "forecast.offered", fc->offered) ||
         check_nonneg(w, "forecast.aht_s", fc->aht_s) ||
         check_nonneg(w, "forecast.required_agents", fc->required_agents);
}

static int check_order(const why *w, const Kpistream__V1__Order *o) {
  if (check_nonneg(w, "order.amount", o->amount) || check_finite(w, "order.margin", o->margin))
    return 1;
  if (o->margin > 1.0)
    return refuse(w, "order.margin %.15g above 1 (a share 0..1, not a percentage)", o->margin);
  return 0;
}

/* Range checks of the body's numbers (enums are checked generically). */
static int check_body(const why *w, const Kpistream__V1__Event *ev) {
  switch (ev->body_case) {
  case KPISTREAM__V1__EVENT__BODY_CONTACT_OFFERED:
    return check_nonneg_int(w, "contact_offered.ring_ms", ev->contact_offered->ring_ms);
  case KPISTREAM__V1__EVENT__BODY_SCHEDULE:
    return check_schedule(w, ev->schedule);
  case KPISTREAM__V1__EVENT__BODY_FORECAST:
    return check_forecast(w, ev->forecast);
  case KPISTREAM__V1__EVENT__BODY_HR:
    return check_nonneg_int(w, "hr.headcount", ev->hr->headcount);
  case KPISTREAM__V1__EVENT__BODY_COST: /* negative: a credit or correction */
    return check_finite(w, "cost.amount", ev->cost->amount) ||
           check_period(w, "cost", ev->cost->period_start_ms, ev->cost->period_end_ms);
  case KPISTREAM__V1__EVENT__BODY_BUDGET:
    return check_nonneg(w, "budget.amount", ev->budget->amount) ||
           check_period(w, "budget", ev->budget->period_start_ms, ev->budget->period_end_ms);
  case KPISTREAM__V1__EVENT__BODY_CUSTOMER_BASE:
    return check_nonneg_int(w, "customer_base.active_customers",
                            ev->customer_base->active_customers);
  case KPISTREAM__V1__EVENT__BODY_SURVEY:
    return check_survey(w, ev->survey);
  case KPISTREAM__V1__EVENT__BODY_SENTIMENT:
    return check_sentiment(w, ev->sentiment);
  case KPISTREAM__V1__EVENT__BODY_QA_EVALUATION:
    return check_qa(w, ev->qa_evaluation);
  case KPISTREAM__V1__EVENT__BODY_ORDER:
    return check_order(w, ev->order);
  default:
    return 0;
  }
}

/* ---- strings, on the wire ------------------------------------------------ */

/* The string rules are checked on the wire bytes, not on the decoded
 * message: protobuf-c's char * ends at a string's first NUL byte, so only
 * the wire knows a string's length. Fields are read as protobuf-c 1.4.1
 * reads them (decoder_fast.c lists the semantics); the walk runs after a
 * decode succeeded, so the bytes are well-formed, and anything it does not
 * understand ends the walk of that message. */

#define STR_DEPTH 4 /* Event > qa_evaluation > sections > items > id */

/* Where walk_strings found a bad string: the fields down to it, each with
 * the bytes of the message holding it and where its own tag starts (to
 * count a repeated field's index, only when refusing), and what is wrong. */
typedef struct str_path {
  const ProtobufCFieldDescriptor *f[STR_DEPTH];
  const uint8_t *msg[STR_DEPTH], *tag[STR_DEPTH];
  int depth;
  size_t bad_at; /* NUL or not UTF-8: offset of the byte at fault */
  unsigned bad_byte;
} str_path;

enum { STR_OK, STR_LONG, STR_NUL, STR_NOT_UTF8 };

/* One field at p in [p, end): its number, wire type and, for a length-
 * delimited one, its bytes. Returns the byte after it, or NULL. */
static const uint8_t *wire_field(const uint8_t *p, const uint8_t *end, uint32_t *id, unsigned *wt,
                                 const uint8_t **val, size_t *n) {
  uint64_t key, v;
  if ((p = ks_pb_varint(p, end, &key)) == NULL)
    return NULL;
  *id = (uint32_t)(key >> 3);
  *wt = (unsigned)(key & 7);
  switch (*wt) {
  case PROTOBUF_C_WIRE_TYPE_VARINT:
    return ks_pb_varint(p, end, &v);
  case PROTOBUF_C_WIRE_TYPE_64BIT:
    return end - p >= 8 ? p + 8 : NULL;
  case PROTOBUF_C_WIRE_TYPE_32BIT:
    return end - p >= 4 ? p + 4 : NULL;
  case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
    if ((p = ks_pb_varint(p, end, &v)) == NULL || v > (uint64_t)(end - p))
      return NULL;
    *val = p;
    *n = (size_t)v;
    return p + v;
  default:
    return NULL; /* groups: protobuf-c refuses them */
  }
}

/* How many fields numbered id the message bytes [p, q) hold. */
static size_t occurrences(const uint8_t *p, const uint8_t *q, uint32_t id) {
  size_t k = 0;
  uint32_t fid;
  unsigned wt;
  const uint8_t *val;
  size_t n;
  while (p < q && (p = wire_field(p, q, &fid, &wt, &val, &n)) != NULL)
    k += fid == id;
  return k;
}

/* Whether the n bytes at s break a string rule (KS_ID_MAX, utf8.h's
 * ks_utf8_text). */
static int bad_string(const uint8_t *s, size_t n, str_path *at) {
  if (n > KS_ID_MAX)
    return STR_LONG;
  if (ks_utf8_is_text_ascii(s, n) || ks_utf8_text(s, n, &at->bad_at))
    return STR_OK;
  at->bad_byte = s[at->bad_at];
  return at->bad_byte == 0 ? STR_NUL : STR_NOT_UTF8;
}

/* Every string field of the message d in [p, end), and of the messages in
 * it (down to STR_DEPTH levels), repeated and oneof members included, every
 * occurrence on the wire (also one a later occurrence replaces, as Java's
 * and Go's parsers check them): at most KS_ID_MAX bytes (plugin.h), an
 * identifier or code every state key and stored name can hold; UTF-8, as
 * proto3 requires; no NUL byte. On the first bad one, fills *at and
 * returns what is wrong (STR_*). No formatting here: it runs for every
 * event the single pass does not decode. */
static int walk_strings(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                        str_path *at) {
  const int depth = at->depth;
  const uint8_t *const msg = p;
  while (p < end) {
    const uint8_t *tag = p, *val = NULL;
    uint32_t id;
    unsigned wt;
    size_t n = 0;
    if ((p = wire_field(p, end, &id, &wt, &val, &n)) == NULL)
      return STR_OK;
    if (wt != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
      continue;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, id);
    if (f == NULL || (f->type != PROTOBUF_C_TYPE_STRING &&
                      (f->type != PROTOBUF_C_TYPE_MESSAGE || depth + 1 == STR_DEPTH)))
      continue;
    at->f[depth] = f;
    at->msg[depth] = msg;
    at->tag[depth] = tag;
    at->depth = depth + 1;
    int bad = f->type == PROTOBUF_C_TYPE_STRING ? bad_string(val, n, at)
                                                : walk_strings(f->descriptor, val, val + n, at);
    if (bad != STR_OK)
      return bad;
    at->depth = depth;
  }
  return STR_OK;
}

static int check_strings(const why *w, const uint8_t *buf, size_t len) {
  str_path at = {.depth = 0};
  int bad = walk_strings(&kpistream__v1__event__descriptor, buf, buf + len, &at);
  if (bad == STR_OK)
    return 0;
  char path[160];
  size_t off = 0;
  for (int i = 0; i < at.depth && off < sizeof path; i++) {
    const ProtobufCFieldDescriptor *f = at.f[i];
    off += (size_t)snprintf(path + off, sizeof path - off, "%s%s", off ? "." : "", f->name);
    if (f->label == PROTOBUF_C_LABEL_REPEATED && off < sizeof path)
      off += (size_t)snprintf(path + off, sizeof path - off, "[%zu]",
                              occurrences(at.msg[i], at.tag[i], f->id));
  }
  if (bad == STR_NUL)
    return refuse(w, "%s holds a NUL byte at byte %zu", path, at.bad_at);
  if (bad == STR_NOT_UTF8)
    return refuse(w, "%s not UTF-8 at byte %zu (0x%02x)", path, at.bad_at, at.bad_byte);
  return refuse(w, "%s longer than %d bytes (KS_ID_MAX, what plugin state keys hold)", path,
                KS_ID_MAX);
}

/* The body message of ev (its oneof member), or NULL. */
static const ProtobufCMessage *body_of(const Kpistream__V1__Event *ev) {
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
      &kpistream__v1__event__descriptor, (unsigned)ev->body_case);
  if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
    return NULL;
  return *(const ProtobufCMessage *const *)(const void *)((const char *)ev + f->offset);
}

/* No known body: name the unknown length-delimited field (a body case of a
 * newer schema), else the body is missing. */
static int refuse_bodyless(const why *w, const Kpistream__V1__Event *ev) {
  for (unsigned i = 0; i < ev->base.n_unknown_fields; i++)
    if (ev->base.unknown_fields[i].wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
      return refuse(w, "unknown body field %" PRIu32 " (newer schema?)",
                    ev->base.unknown_fields[i].tag);
  return refuse(w, "missing body");
}

const Kpistream__V1__Event *ks_decode_event(ks_arena *arena, const void *buf, size_t len,
                                            char *reason, size_t reason_size) {
  const why w = {reason, reason_size};
  if (buf == NULL || len == 0) {
    refuse(&w, "empty message");
    return NULL;
  }
  /* The single-pass decoder first; when it declines, protobuf-c decides.
   * Its success guarantees every enum is declared: check_enums is skipped. */
  ProtobufCMessage *m = NULL;
  size_t longest = 0;
  const int fast =
      ks_pb_decode_fast_ex(arena, &kpistream__v1__event__descriptor, buf, len, &m, &longest);
  Kpistream__V1__Event *ev =
      fast ? (Kpistream__V1__Event *)m : kpistream__v1__event__unpack(&arena->pb, len, buf);
  if (ev == NULL) {
    refuse(&w, "protobuf decode failed (not a kpistream.v1.Event)");
    return NULL;
  }
  /* The strings first: a tenant "\0x" is one holding a NUL byte, not a
   * missing one. The single pass saw every string's length and declined
   * strings that are not UTF-8 or hold a NUL byte: walk only when needed. */
  if ((!fast || longest > KS_ID_MAX) && check_strings(&w, buf, len))
    return NULL;
  if (ev->body_case == KPISTREAM__V1__EVENT__BODY__NOT_SET) {
    refuse_bodyless(&w, ev);
    return NULL;
  }
  if (ev->tenant == NULL || ev->tenant[0] == '\0') {
    refuse(&w, "missing tenant");
    return NULL;
  }
  const ProtobufCMessage *body = body_of(ev);
  if (body == NULL) {
    refuse(&w, "missing body");
    return NULL;
  }
  if (check_time(&w, "event_time_ms", ev->event_time_ms) ||
      (!fast && (check_enums(&w, "", &ev->base) ||
                 check_enums(&w, ks_body_name((uint32_t)ev->body_case), body))) ||
      check_body(&w, ev))
    return NULL;
  return ev;
}
