/*
 * decoder — turns the bytes of one Kafka message into a validated
 * kpistream.v1.Event, once, into an arena.
 *
 * Ownership: the returned Event lives in the caller's arena and is valid
 * until the arena is reset. `reason` is caller-owned.
 */
#ifndef KS_DECODER_H
#define KS_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "kpistream/v1/events.pb-c.h"

/* Event times outside [2000-01-01, 2100-01-01) are refused as invalid; the
 * same range applies to the times inside bodies (schedule, forecast, cost and
 * budget periods). A fixed range: the decoder never reads the wall clock. */
#define KS_EVENT_TIME_MIN_MS INT64_C(946684800000)
#define KS_EVENT_TIME_MAX_MS INT64_C(4102444800000)

/* The decoder's rule for every time it checks, shared with the runner's
 * merge (core/runtime/merge.c), which must not order a task's input by a time the
 * decoder will refuse. */
static inline int ks_event_time_in_range(int64_t ms) {
  return ms >= KS_EVENT_TIME_MIN_MS && ms < KS_EVENT_TIME_MAX_MS;
}

/* Decode and validate (rules: docs/schema.md, "Validation"). Returns the
 * Event, or NULL with a one-line cause in reason that names the field and its
 * value (e.g. "protobuf decode failed (not a kpistream.v1.Event)", "missing
 * tenant", "unknown body field 57 (newer schema?)", "survey.score 7 outside
 * scale 1-5"); 128 bytes hold every reason. */
const Kpistream__V1__Event *ks_decode_event(ks_arena *arena, const void *buf, size_t len,
                                            char *reason, size_t reason_size);

/* Name of a body case ("contact_queued"), or NULL for an unknown case. */
const char *ks_body_name(uint32_t body_case);

/* Highest body field number the schema knows (for routing tables). */
#define KS_BODY_MAX       63
#define KS_BODY_MAX_ROUTE KS_BODY_MAX

#endif
