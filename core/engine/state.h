/*
 * state — the host-owned record store behind plugin state tables.
 *
 * One ks_store holds the records of one declared table for one task. A
 * record is a fixed-size, zero-initialised, pointer-free block addressed by
 * (interval, key): keyed tables use interval KS_STORE_NO_INTERVAL and expire
 * records idle for longer than the TTL in event time; windowed tables group
 * records per interval and drop a whole interval at once.
 *
 * Records never move while they exist (the index holds pointers), so a
 * record pointer stays valid until that record is removed, expired or its
 * interval dropped. Keys are copied into the store. Records are 16-byte
 * aligned; records of 128 bytes or more start on a 64-byte cache line
 * (layout notes at the top of state.c).
 *
 * Ownership: the task owns its stores (ks_store_new/ks_store_free); the store
 * owns its records and keys. Not thread-safe.
 */
#ifndef KS_STATE_H
#define KS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "kpistream/plugin.h"

#define KS_STORE_NO_INTERVAL INT64_MIN

typedef struct ks_store ks_store;

typedef struct ks_store_stats {
  size_t records;
  size_t bytes; /* records, keys and index */
  size_t intervals;
  uint64_t expired;
} ks_store_stats;

ks_store *ks_store_new(uint32_t record_size, int64_t ttl_ms);
/* The same, taking its large blocks (64 KiB slabs, index arrays of 64 KiB
 * and more) from pages, which must outlive the store (state_pages.h). */
struct ks_pages;
ks_store *ks_store_new_in(struct ks_pages *pages, uint32_t record_size, int64_t ttl_ms);
void ks_store_free(ks_store *s);

/* The record for (interval, key), created zero-filled when absent and
 * create != 0. now_ms is the task's event-time clock, used for TTL. Returns
 * NULL when absent (create == 0), when keylen > KS_KEY_MAX, or out of memory. */
void *ks_store_get(ks_store *s, int64_t interval, const void *key, size_t keylen, int create,
                   int64_t now_ms);

/* Remove one record; 0 or KS_ENOENT. */
int ks_store_remove(ks_store *s, int64_t interval, const void *key, size_t keylen);

/* Visit the records of one interval (KS_STORE_NO_INTERVAL: all keyed
 * records, in no set order). Keyed records idle for longer than the TTL at
 * now_ms (the task's event-time clock, as for ks_store_get) are skipped: the
 * store keeps no clock of its own, so what a visit sees depends only on the
 * records and now_ms, which a checkpoint carries. The callback may not add
 * or remove records. Returns 0, or the callback's non-zero stop value. */
int ks_store_foreach(ks_store *s, int64_t interval, int64_t now_ms, ks_record_cb cb, void *ud);

/* Drop every record of an interval; 0 or KS_ENOENT (no such interval). */
int ks_store_drop_interval(ks_store *s, int64_t interval);

/* Expire keyed records not touched since now_ms - ttl. Returns how many. */
size_t ks_store_expire(ks_store *s, int64_t now_ms);

void ks_store_get_stats(const ks_store *s, ks_store_stats *out);

/* Called for every record by ks_store_visit(): its interval
 * (KS_STORE_NO_INTERVAL for keyed records), key, record bytes, the event
 * time it was last touched and the event time it was put at its list's
 * tail (keyed records: the TTL sweep looks at the list in that order).
 * Return 0 to go on. */
typedef int (*ks_store_visit_cb)(void *ud, int64_t interval, const void *key, size_t keylen,
                                 const void *record, int64_t touched_ms, int64_t listed_ms);
/* Visit every record of every interval (expired ones not swept yet
 * included), intervals in ascending order (keyed records first), each
 * interval's records in list order (for checkpoints).
 * Returns 0 or the callback's non-zero value. */
int ks_store_visit(const ks_store *s, ks_store_visit_cb cb, void *ud);

/* Put back a record that ks_store_visit() reported (a restore): appended to
 * its interval's list, with the times it had, so loading a store's records
 * in visit order rebuilds the store's order and TTL bookkeeping exactly.
 * *record is the new zero-filled record for the caller to fill. Returns 0,
 * KS_ESTATE (key too long, or already present) or KS_ENOMEM. */
int ks_store_load(ks_store *s, int64_t interval, const void *key, size_t keylen, int64_t touched_ms,
                  int64_t listed_ms, void **record);

/*
 * Change tracking, for incremental checkpoints. The store remembers what
 * changed since its baseline (its creation, or the last
 * ks_store_mark_clean()): records handed out writable by ks_store_get
 * (found or created: the caller may write through the pointer), records a
 * ks_store_foreach callback changed (compared with a copy), records put at
 * their list's tail (created, or moved by the TTL sweep), baseline records
 * removed or expired (tombstones) and baseline intervals dropped. The cost
 * is a flag test per get and O(changes) memory; visiting the changes costs
 * O(changes + intervals), not O(records).
 *
 * ks_store_visit_changes() reports them in the order ks_store_apply()
 * must replay them on a copy of the baseline to rebuild this store exactly
 * (records, both times, list order): removals, drops, changes in place,
 * then per interval (ascending) the appended records in list order.
 */
typedef enum ks_change_kind {
  KS_CHANGE_REMOVE = 1, /* a baseline record removed or expired (no record) */
  KS_CHANGE_DROP = 2,   /* a baseline interval dropped (no key, no record) */
  KS_CHANGE_UPDATE = 3, /* a record changed in place (it exists in the baseline) */
  KS_CHANGE_MOVE = 4,   /* a baseline record moved to its list's tail, maybe changed */
  KS_CHANGE_ADD = 5     /* a record created since the baseline, at its list's tail */
} ks_change_kind;

typedef int (*ks_store_change_cb)(void *ud, ks_change_kind kind, int64_t interval, const void *key,
                                  size_t keylen, const void *record, int64_t touched_ms,
                                  int64_t listed_ms);
/* Visit the changes since the baseline (see above). Returns 0, the
 * callback's non-zero value, or KS_ESTATE when a change could not be
 * recorded (out of memory): then only a full snapshot is right. */
int ks_store_visit_changes(const ks_store *s, ks_store_change_cb cb, void *ud);
/* How many changes ks_store_visit_changes() would report, at most
 * (SIZE_MAX when one was lost). */
size_t ks_store_changes(const ks_store *s);
/* The store as it is now becomes the baseline. */
void ks_store_mark_clean(ks_store *s);
/* Replay one change on a copy of the baseline (a restore). For UPDATE, MOVE
 * and ADD, *record is the record for the caller to overwrite. Returns 0,
 * KS_ESTATE when the change does not fit the store (a record or interval
 * missing, or present when added: not the delta of this baseline) or
 * KS_ENOMEM. */
int ks_store_apply(ks_store *s, ks_change_kind kind, int64_t interval, const void *key,
                   size_t keylen, int64_t touched_ms, int64_t listed_ms, void **record);

/* 64-bit hash of a byte string (also used for routing keys). */
uint64_t ks_hash_bytes(const void *data, size_t n, uint64_t seed);

#endif
