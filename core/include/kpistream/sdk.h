/*
 * kpistream plugin SDK — header-only helpers every plugin uses, so that none
 * writes its own: composite keys (ks_key_*), the host-API member check
 * (KS_API_HAS), result setters and an emitter that fill value, numerator,
 * denominator, count and aggregation consistently (ks_result_set_*,
 * ks_emit_*), the (tenant, channel, queue) dimension key (ks_dims_key) and
 * the contact key (ks_contact_key), ks_nz, ks_name_copy and FNV-1a
 * (ks_fnv1a). Time: the interval floor and the UTC calendar
 * are in kpistream/calendar.h, included here.
 *
 * kpistream/plugin.h includes this header at its end, so a plugin still
 * includes only <kpistream/plugin.h>; including this one first works too.
 * Nothing here allocates; every pointer is borrowed for the call.
 */
#ifndef KPISTREAM_SDK_H
#define KPISTREAM_SDK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kpistream/calendar.h"
#include "kpistream/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Host API members --------------------------------------------------- */

/* Whether the host's service table has `member` (a field name of
 * ks_host_api): the table only grows at the end, and a host of an older minor
 * hands a smaller one (struct_size). Check in init() for every member newer
 * than 1.0's first ones you call, e.g.
 *
 *     if (!KS_API_HAS(api, keyed_foreach)) return KS_EABI;
 *
 * A NULL api has no member. */
#define KS_API_HAS(api, member)                                                                    \
  ((api) != NULL &&                                                                                \
   (api)->struct_size >= offsetof(ks_host_api, member) + sizeof(((ks_host_api *)0)->member))

/* ---- Strings and hashes ------------------------------------------------- */

/* s, or "" for NULL (protobuf-c leaves unset strings NULL or ""). */
static inline const char *ks_nz(const char *s) {
  return s ? s : "";
}

/* Copy src (NULL as "") into dst of dstsz (> 0) bytes, cut to dstsz - 1
 * bytes and NUL-terminated: names kept in fixed record fields. src may
 * overlap dst. Returns the length of src (> dstsz - 1: it was cut). */
static inline size_t ks_name_copy(char *dst, size_t dstsz, const char *src) {
  src = ks_nz(src);
  const size_t len = strlen(src);
  const size_t n = len < dstsz - 1 ? len : dstsz - 1;
  memmove(dst, src, n);
  dst[n] = '\0';
  return len;
}

#define KS_FNV1A_OFFSET UINT64_C(0xcbf29ce484222325)
#define KS_FNV1A_PRIME  UINT64_C(0x100000001b3)

/* 64-bit FNV-1a of the NUL-terminated s (NULL hashes as ""). Stable across
 * builds and hosts: fit for hashes kept in records and checkpoints. */
static inline uint64_t ks_fnv1a(const char *s) {
  uint64_t h = KS_FNV1A_OFFSET;
  for (const unsigned char *p = (const unsigned char *)ks_nz(s); *p; p++) {
    h ^= *p;
    h *= KS_FNV1A_PRIME;
  }
  return h;
}

/* ---- Composite keys ------------------------------------------------------ */

/*
 * Key limits, exactly:
 *   - the host's table calls take keys of 1 to KS_KEY_MAX (256) bytes; a
 *     longer one is refused (plugin.h, ks_host_api);
 *   - a ks_key (what the helpers below build) holds at most KS_KEY_BUF_MAX
 *     (254) bytes, since its struct is KS_KEY_MAX bytes with the len and
 *     overflow bytes: a part of n bytes takes n + 1 (its length byte), so
 *     parts fit while the sum of (n + 1) is <= 254. One that does not fit
 *     sets overflow and leaves the key as it was; a key with overflow set is
 *     unusable (do not store it).
 * With the host's strings (each at most KS_ID_MAX = 47 bytes) five string
 * parts and a few small fixed ones always fit (5 * 48 + 2 * 2 = 244).
 */
#define KS_KEY_BUF_MAX (KS_KEY_MAX - 2)

/* A composite key built from length-prefixed parts, so ("ab","c") and
 * ("a","bc") never collide. */
typedef struct ks_key {
  uint8_t len;
  uint8_t overflow;
  uint8_t buf[KS_KEY_BUF_MAX];
} ks_key;

static inline void ks_key_reset(ks_key *k) {
  k->len = 0;
  k->overflow = 0;
}

/* Append a part of n bytes (n + 1 bytes of the key); sets overflow when it
 * does not fit. */
static inline void ks_key_add(ks_key *k, const void *data, size_t n) {
  if ((size_t)k->len + 1 + n > sizeof(k->buf)) {
    k->overflow = 1;
    return;
  }
  k->buf[k->len++] = (uint8_t)n;
  memcpy(k->buf + k->len, data, n);
  k->len = (uint8_t)(k->len + n);
}

/* A string part (NULL as ""). */
static inline void ks_key_add_str(ks_key *k, const char *s) {
  ks_key_add(k, s ? s : "", s ? strlen(s) : 0);
}

/* An int64 part: 8 bytes in the host's byte order (keys are compared as
 * bytes, never ordered); read it back with ks_key_part_i64. */
static inline void ks_key_add_i64(ks_key *k, int64_t v) {
  ks_key_add(k, &v, sizeof v);
}

/* Part `index` (0-based) of a key built with ks_key_add*: *data points into
 * key, *n is its length. Returns 0, or -1 when there is no such part or the
 * key is malformed. */
static inline int ks_key_part_ref(const void *key, size_t keylen, int index, const uint8_t **data,
                                  size_t *n) {
  const uint8_t *p = (const uint8_t *)key;
  if (p == NULL)
    return -1;
  size_t off = 0;
  for (int i = 0; off < keylen; i++) {
    const size_t len = p[off];
    if (off + 1 + len > keylen)
      return -1;
    if (i == index) {
      *data = p + off + 1;
      *n = len;
      return 0;
    }
    off += 1 + len;
  }
  return -1;
}

/* Read back part `index` (0-based); copies it NUL-terminated into out (at
 * most outsz-1 bytes). Returns the part length or -1 when there is no such
 * part. */
static inline int ks_key_part(const void *key, size_t keylen, int index, char *out, size_t outsz) {
  const uint8_t *d;
  size_t n;
  if (out == NULL || outsz == 0 || ks_key_part_ref(key, keylen, index, &d, &n) != 0)
    return -1;
  const size_t c = n < outsz - 1 ? n : outsz - 1;
  memcpy(out, d, c);
  out[c] = '\0';
  return (int)n;
}

/* Read back an int64 part added with ks_key_add_i64. Returns 0, or -1 when
 * there is no such part or it is not 8 bytes long. */
static inline int ks_key_part_i64(const void *key, size_t keylen, int index, int64_t *out) {
  const uint8_t *d;
  size_t n;
  if (out == NULL || ks_key_part_ref(key, keylen, index, &d, &n) != 0 || n != sizeof *out)
    return -1;
  memcpy(out, d, sizeof *out);
  return 0;
}

/* The dimension key of a (tenant, channel, queue) group: the tenant, the
 * channel as one byte, the queue. Append more parts (an agent) after it.
 * Returns 1, or 0 when the key overflowed. */
static inline int ks_dims_key(ks_key *k, const char *tenant, int channel, const char *queue) {
  const uint8_t ch = (uint8_t)channel;
  ks_key_reset(k);
  ks_key_add_str(k, tenant);
  ks_key_add(k, &ch, 1);
  ks_key_add_str(k, queue);
  return !k->overflow;
}

/* The key of the event's contact: (tenant, contact_id). Returns 1, or 0 when
 * the event names no contact (or the key overflowed). */
static inline int ks_contact_key(ks_key *k, const Kpistream__V1__Event *m) {
  const char *cid = ks_nz(m->contact_id);
  if (cid[0] == '\0')
    return 0;
  ks_key_reset(k);
  ks_key_add_str(k, ks_nz(m->tenant));
  ks_key_add_str(k, cid);
  return !k->overflow;
}

/* Read tenant, channel and queue back from a key built with ks_dims_key
 * (tenant and queue copied NUL-terminated, cut to their buffers). Returns 0,
 * or -1 when the key has no such parts. */
static inline int ks_dims_read(const void *key, size_t keylen, char *tenant, size_t tenantsz,
                               int *channel, char *queue, size_t queuesz) {
  char ch[4];
  if (ks_key_part(key, keylen, 0, tenant, tenantsz) < 0 ||
      ks_key_part(key, keylen, 1, ch, sizeof ch) != 1 ||
      ks_key_part(key, keylen, 2, queue, queuesz) < 0)
    return -1;
  *channel = (unsigned char)ch[0];
  return 0;
}

/* ---- Result setters ------------------------------------------------------- */

/* A SUM (a count or total): value = numerator = v, denominator 0. */
static inline void ks_result_set_sum(ks_result *r, double v, int64_t count) {
  r->aggregation = KS_AGG_SUM;
  r->has_value = 1;
  r->value = v;
  r->numerator = v;
  r->denominator = 0;
  r->count = count;
}

/* A non-RATIO value of kind agg (SUM, MAX, MIN, GAUGE): value = numerator =
 * v when has, else no value (null) with value and numerator 0; denominator 0.
 * For RATIOs use ks_result_set_ratio (plugin.h). */
static inline void ks_result_set_value(ks_result *r, ks_agg agg, int has, double v, int64_t count) {
  r->aggregation = agg;
  r->has_value = has != 0;
  r->value = has ? v : 0.0;
  r->numerator = has ? v : 0.0;
  r->denominator = 0;
  r->count = count;
}

/* ---- Emitter -------------------------------------------------------------- */

/*
 * What a plugin's interval close keeps to emit many results of one group:
 * set r's dimensions (tenant, channel, queue, agent, team, labels, level,
 * interval) once, then call ks_emit_* per metric. The emitter borrows api,
 * ctx and task for the callback it is used in.
 */
typedef struct ks_emitter {
  const ks_host_api *api;
  ks_plugin_ctx *ctx;
  ks_task *task;
  ks_result r;
  int failed; /* 1 once an emit returned an error */
  /* r's tenant, queue and agent when set by ks_emitter_dims */
  char tenant[KS_KEY_MAX];
  char queue[KS_KEY_MAX];
  char agent[KS_KEY_MAX];
} ks_emitter;

/* Start an emitter for task: r is KS_RESULT_INIT with the bounds of iv (when
 * not NULL; else set r's interval before emitting). */
static inline void ks_emitter_init(ks_emitter *e, const ks_host_api *api, ks_plugin_ctx *ctx,
                                   ks_task *task, const ks_interval *iv) {
  memset(e, 0, sizeof *e);
  e->api = api;
  e->ctx = ctx;
  e->task = task;
  e->r.struct_size = sizeof(ks_result); /* as KS_RESULT_INIT */
  if (iv != NULL) {
    e->r.interval_start_ms = iv->start_ms;
    e->r.interval_end_ms = iv->end_ms;
  }
}

/* Set e->r's tenant, channel and queue from a key built with ks_dims_key,
 * and with_agent its agent_id from the part after them (else NULL); the
 * strings are copied into the emitter. The level is the usual one of such a
 * group: KS_LEVEL_AGENT with an agent, KS_LEVEL_QUEUE with a queue, else
 * KS_LEVEL_UNATTRIBUTED (a queue row without a queue is no total); change
 * it after the call when your rows say otherwise. Returns 0, or -1 when the
 * key has no such parts (r unchanged but for the copied strings). */
static inline int ks_emitter_dims(ks_emitter *e, const void *key, size_t keylen, int with_agent) {
  int ch;
  if (ks_dims_read(key, keylen, e->tenant, sizeof e->tenant, &ch, e->queue, sizeof e->queue) != 0)
    return -1;
  e->agent[0] = '\0';
  if (with_agent && ks_key_part(key, keylen, 3, e->agent, sizeof e->agent) < 0)
    return -1;
  e->r.tenant = e->tenant;
  e->r.channel = ch;
  e->r.queue = e->queue;
  e->r.agent_id = with_agent ? e->agent : NULL;
  e->r.level = with_agent         ? KS_LEVEL_AGENT
               : e->queue[0] != 0 ? KS_LEVEL_QUEUE
                                  : KS_LEVEL_UNATTRIBUTED;
  return 0;
}

/* Emit e->r as it is, named metric in unit. Returns api->emit's result (and
 * sets failed on an error). */
static inline int ks_emit(ks_emitter *e, const char *metric, const char *unit) {
  e->r.metric = metric;
  e->r.unit = unit;
  const int rc = e->api->emit(e->ctx, e->task, &e->r);
  if (rc != 0)
    e->failed = 1;
  return rc;
}

/* A SUM of v (ks_result_set_sum). */
static inline int ks_emit_sum(ks_emitter *e, const char *metric, double v, int64_t count,
                              const char *unit) {
  ks_result_set_sum(&e->r, v, count);
  return ks_emit(e, metric, unit);
}

/* A count: a SUM of n with count n. */
static inline int ks_emit_count(ks_emitter *e, const char *metric, int64_t n, const char *unit) {
  return ks_emit_sum(e, metric, (double)n, n, unit);
}

/* A RATIO num / den, null when den <= 0 (ks_result_set_ratio). */
static inline int ks_emit_ratio(ks_emitter *e, const char *metric, double num, double den,
                                int64_t count, const char *unit) {
  ks_result_set_ratio(&e->r, num, den, count);
  return ks_emit(e, metric, unit);
}

/* A non-RATIO value of kind agg, null unless has (ks_result_set_value). */
static inline int ks_emit_value(ks_emitter *e, const char *metric, ks_agg agg, int has, double v,
                                int64_t count, const char *unit) {
  ks_result_set_value(&e->r, agg, has, v, count);
  return ks_emit(e, metric, unit);
}

/* A result of kind agg with no value (null), nothing counted. */
static inline int ks_emit_null(ks_emitter *e, const char *metric, ks_agg agg, const char *unit) {
  return ks_emit_value(e, metric, agg, 0, 0.0, 0, unit);
}

/* ---- Counter arithmetic --------------------------------------------------- */

/*
 * Sums and differences of int64 counters a plugin reads from its state
 * (records, at interval close, in roll-ups and averages): saturated to
 * INT64_MIN / INT64_MAX instead of overflowing. A checkpoint restored from a
 * record without a checksum (changelog format 1) may hold any bytes, and a
 * bad record must publish a nonsense value, never be undefined behaviour;
 * results of state that does not overflow are exactly a + b and a - b.
 * Use these for every such sum, e.g. ks_sub_i64(a->fcr_n, a->fcr_repeats).
 */
static inline int64_t ks_add_i64(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

static inline int64_t ks_sub_i64(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    return b < 0 ? INT64_MAX : INT64_MIN;
  return r;
}

/* a + b + c, saturated as ks_add_i64 (left to right). */
static inline int64_t ks_add3_i64(int64_t a, int64_t b, int64_t c) {
  return ks_add_i64(ks_add_i64(a, b), c);
}

/* v truncated to int64 as (int64_t)v, but saturated at INT64_MIN / INT64_MAX
 * and 0 for NaN: a count from a double summed over restored state (a plain
 * cast of a value out of range is undefined behaviour). */
static inline int64_t ks_i64_of_double(double v) {
  if (!(v == v))
    return 0;
  if (v >= 9223372036854775808.0) /* 2^63 */
    return INT64_MAX;
  if (v < -9223372036854775808.0)
    return INT64_MIN;
  return (int64_t)v;
}

#ifdef __cplusplus
}
#endif
#endif /* KPISTREAM_SDK_H */
