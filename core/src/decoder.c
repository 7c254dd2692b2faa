#include "decoder.h"

#include <math.h>
#include <stdio.h>

static void set_reason(char *reason, size_t n, const char *msg) {
  if (reason && n)
    snprintf(reason, n, "%s", msg);
}

const char *ks_body_name(uint32_t body_case) {
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field(&kpistream__v1__event__descriptor, body_case);
  if (f == NULL || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
    return NULL;
  return f->name;
}

/* Negative or non-finite numbers where the schema means a quantity. */
static const char *check_body(const Kpistream__V1__Event *ev) {
  switch (ev->body_case) {
  case KPISTREAM__V1__EVENT__BODY_SURVEY: {
    const Kpistream__V1__SurveyResponse *s = ev->survey;
    if (s->scale_max <= s->scale_min && s->scale_max != 0)
      return "survey scale_max must exceed scale_min";
    if (s->scale_max != 0 && (s->score < s->scale_min || s->score > s->scale_max))
      return "survey score outside its scale";
    break;
  }
  case KPISTREAM__V1__EVENT__BODY_SENTIMENT: {
    const Kpistream__V1__SentimentScore *s = ev->sentiment;
    if (!isfinite(s->overall) || s->overall < -1.0 || s->overall > 1.0)
      return "sentiment overall outside -1..1";
    if (s->has_start_end && (!isfinite(s->start) || !isfinite(s->end) || s->start < -1.0 ||
                             s->start > 1.0 || s->end < -1.0 || s->end > 1.0))
      return "sentiment start/end outside -1..1";
    break;
  }
  case KPISTREAM__V1__EVENT__BODY_SCHEDULE:
    if (ev->schedule->end_ms < ev->schedule->start_ms)
      return "schedule segment ends before it starts";
    break;
  case KPISTREAM__V1__EVENT__BODY_FORECAST:
    if (!isfinite(ev->forecast->offered) || ev->forecast->offered < 0 ||
        !isfinite(ev->forecast->aht_s) || ev->forecast->aht_s < 0)
      return "forecast with a negative or non-finite value";
    break;
  case KPISTREAM__V1__EVENT__BODY_COST:
    if (!isfinite(ev->cost->amount))
      return "cost amount is not finite";
    break;
  case KPISTREAM__V1__EVENT__BODY_BUDGET:
    if (!isfinite(ev->budget->amount))
      return "budget amount is not finite";
    break;
  case KPISTREAM__V1__EVENT__BODY_ORDER:
    if (!isfinite(ev->order->amount) || ev->order->amount < 0)
      return "order amount negative or not finite";
    break;
  default:
    break;
  }
  return NULL;
}

const Kpistream__V1__Event *ks_decode_event(ks_arena *arena, const void *buf, size_t len,
                                            char *reason, size_t reason_size) {
  if (buf == NULL || len == 0) {
    set_reason(reason, reason_size, "empty message");
    return NULL;
  }
  Kpistream__V1__Event *ev = kpistream__v1__event__unpack(&arena->pb, len, buf);
  if (ev == NULL) {
    set_reason(reason, reason_size, "protobuf decode failed (not a kpistream.v1.Event)");
    return NULL;
  }
  if (ev->body_case == KPISTREAM__V1__EVENT__BODY__NOT_SET) {
    set_reason(reason, reason_size,
               ev->base.n_unknown_fields ? "unknown body type (newer schema?)" : "missing body");
    return NULL;
  }
  if (ev->tenant == NULL || ev->tenant[0] == '\0') {
    set_reason(reason, reason_size, "missing tenant");
    return NULL;
  }
  if (ev->event_time_ms < KS_EVENT_TIME_MIN_MS || ev->event_time_ms >= KS_EVENT_TIME_MAX_MS) {
    set_reason(reason, reason_size, "event_time_ms outside 2000-01-01..2100-01-01");
    return NULL;
  }
  if ((int)ev->channel < 0 || ev->channel > KPISTREAM__V1__CHANNEL__CHANNEL_CHAT) {
    set_reason(reason, reason_size, "unknown channel");
    return NULL;
  }
  const char *bad = check_body(ev);
  if (bad) {
    set_reason(reason, reason_size, bad);
    return NULL;
  }
  return ev;
}
