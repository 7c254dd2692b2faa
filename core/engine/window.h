/*
 * window — event-time bookkeeping of one task: the watermark over its
 * partitions and the clock of tumbling intervals that closes them in order.
 *
 * Watermark: for each partition the highest event time seen; the task's
 * watermark is the least of those over partitions that are not idle, minus
 * the allowed lateness, and never moves backwards. A partition with no data
 * yet that is not known idle holds the watermark at its initial value.
 *
 * Interval clock: intervals are [start, start + len) aligned to the epoch
 * (UTC). An interval closes when watermark >= end + grace; they close one
 * after another, quiet ones included, so plugins see every interval.
 *
 * Ownership: the task embeds these structs; *_init allocates arrays that
 * *_free releases.
 */
#ifndef KS_WINDOW_H
#define KS_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "kpistream/calendar.h" /* ks_interval_floor: the SDK's, one home */

#define KS_NO_TIME INT64_MIN

/* Largest run of empty intervals closed one by one before skipping ahead. */
#define KS_MAX_EMPTY_CLOSES 2880

typedef struct ks_watermark {
  size_t n_parts;
  int64_t *max_time; /* per partition, KS_NO_TIME before any event */
  unsigned char *idle;
  int64_t lateness_ms;
  int64_t value; /* KS_NO_TIME until every partition has data or is idle */
} ks_watermark;

int ks_watermark_init(ks_watermark *w, size_t n_parts, int64_t lateness_ms);
void ks_watermark_free(ks_watermark *w);
void ks_watermark_observe(ks_watermark *w, size_t part, int64_t t_ms);
void ks_watermark_set_idle(ks_watermark *w, size_t part, int idle);
/* Recompute; returns the (monotonic) watermark. */
int64_t ks_watermark_update(ks_watermark *w);
/* Force the watermark to t (end of a bounded input). */
void ks_watermark_force(ks_watermark *w, int64_t t_ms);

typedef struct ks_open_interval {
  int64_t start;
  int64_t *first_offset; /* per partition: first offset that touched it, or -1 */
} ks_open_interval;

typedef struct ks_interval_clock {
  int64_t len_ms;
  int64_t grace_ms;
  int64_t next_close; /* start of the oldest interval not yet closed; KS_NO_TIME before data */
  size_t n_parts;
  ks_open_interval *open; /* intervals holding data, ascending by start */
  size_t n_open;
  size_t cap_open;
} ks_interval_clock;

int ks_clock_init(ks_interval_clock *c, int64_t len_ms, int64_t grace_ms, size_t n_parts);
void ks_clock_free(ks_interval_clock *c);

/* Is the interval starting at `start` past closing for this watermark? */
int ks_clock_is_late(const ks_interval_clock *c, int64_t start, int64_t watermark);

/* Record that partition `part` at `offset` put data into interval `start`
 * (offset < 0: no offset to remember). Returns 0 or KS_ENOMEM. */
int ks_clock_touch(ks_interval_clock *c, int64_t start, size_t part, int64_t offset);

/* The next interval due for closing under `watermark`: returns 1 and sets
 * *start, or 0 when none is due. Skips long runs of empty intervals. */
int ks_clock_next_due(ks_interval_clock *c, int64_t watermark, int64_t *start);

/* Mark the oldest interval (== *start from next_due) closed. */
void ks_clock_mark_closed(ks_interval_clock *c, int64_t start);

/* Offset to commit for a partition: the first offset of the oldest open
 * interval it contributed to, else next_offset (the next unread offset). */
int64_t ks_clock_commit_offset(const ks_interval_clock *c, size_t part, int64_t next_offset);

#endif
