/*
 * event_peek — the event time of an encoded kpistream.v1.Event without
 * decoding it: a scan of the top-level fields for field 2 (event_time_ms).
 * The runner orders a task's input by event time before the one real
 * decode (decoder.c) happens.
 */
#ifndef KS_EVENT_PEEK_H
#define KS_EVENT_PEEK_H

#include <stddef.h>
#include <stdint.h>

/* 0 and *out on success; -1 when the bytes are not a well-formed message
 * or carry no event time (the real decode will reject or report them). */
int ks_peek_event_time(const void *buf, size_t len, int64_t *out);

#endif
