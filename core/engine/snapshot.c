/*
 * snapshot — one plugin's state of one task as bytes, and back.
 *
 * The format (little-endian, versioned by SNAP_FORMAT):
 *   magic "KSSN", u32 format, u32 task, i64 interval_ms,
 *   u32 n_topics, n x (str topic, i64 next_offset),
 *   i64 watermark, n x i64 max event time (same topic order),
 *   i64 now_ms, i64 next_close, u32 n_open, n x i64 open interval start,
 *   u32 n_retained, n x (i64 start, u32 revision) (closed, kept for restatement),
 *   str plugin name, u32 n_tables,
 *   per table: str name, u32 kind, u32 record_size, u32 version, u64 n_records,
 *              per record: i64 interval, i64 touched_ms, i64 listed_ms,
 *                          u16 keylen, key, record
 * Strings are u16 length + bytes. Records are in the store's list order
 * with both of its times (touched: the TTL; listed: when the record went to
 * its list's tail, the order the TTL sweep follows), so a restored store
 * visits, sweeps and snapshots exactly as the one checkpointed; nothing is
 * expired at restore (records idle past their TTL are invisible at the
 * restored event time anyway, and are swept at the next close as they
 * would have been). Format 1 lacked listed_ms: it is read with
 * listed_ms = touched_ms (the order of later sweeps may then differ). Every plugin's snapshot
 * repeats the host header, so one plugin can be restored alone (all copies are identical).
 *
 * A delta (incremental checkpoints) holds what changed since the baseline
 * the task's stores track (state.h "Change tracking"):
 *   magic "KSSD", u32 format (1), u32 task, the host's bookkeeping whole
 *   (as above, from interval_ms to the plugin name), u32 n_tables,
 *   per table: str name, u32 kind, u32 record_size, u32 version,
 *              u64 records after the changes, u64 n_changes,
 *              per change: u8 kind (ks_change_kind), i64 interval,
 *                          unless a drop: u16 keylen, key,
 *                          for update, move, add: i64 touched_ms,
 *                          i64 listed_ms, record
 * in the order ks_store_apply() replays them. Every change must fit the
 * state it is applied to (a removed or updated record present, an added one
 * absent) and the record count must match after it, so a delta applied to
 * any other base is refused rather than yielding another state.
 *
 * Ownership: ks_engine_snapshot() returns a malloc'd buffer the caller
 * frees; ks_engine_restore() copies what it keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define SNAP_MAGIC   0x4E53534Bu /* "KSSN" */
#define SNAP_FORMAT  2u          /* 1: no listed_ms; still read */
#define DELTA_MAGIC  0x4453534Bu /* "KSSD" */
#define DELTA_FORMAT 1u

typedef struct wbuf {
  uint8_t *p;
  size_t n, cap;
  int oom;
} wbuf;

static void put(wbuf *b, const void *d, size_t n) {
  if (b->oom)
    return;
  if (b->n + n > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->n + n)
      nc *= 2;
    uint8_t *np = realloc(b->p, nc);
    if (np == NULL) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, d, n);
  b->n += n;
}
static void put_u16(wbuf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  put(b, x, 2);
}
static void put_u32(wbuf *b, uint32_t v) {
  uint8_t x[4];
  for (int i = 0; i < 4; i++)
    x[i] = (uint8_t)(v >> (8 * i));
  put(b, x, 4);
}
static void put_i64(wbuf *b, int64_t v) {
  uint8_t x[8];
  uint64_t u = (uint64_t)v;
  for (int i = 0; i < 8; i++)
    x[i] = (uint8_t)(u >> (8 * i));
  put(b, x, 8);
}
static void put_str(wbuf *b, const char *s) {
  size_t n = strlen(s);
  put_u16(b, (uint16_t)n);
  put(b, s, n);
}

typedef struct rbuf {
  const uint8_t *p;
  size_t n, off;
  int bad;
} rbuf;

static const uint8_t *get(rbuf *r, size_t n) {
  if (r->bad || r->n - r->off < n) {
    r->bad = 1;
    return NULL;
  }
  const uint8_t *p = r->p + r->off;
  r->off += n;
  return p;
}
static uint16_t get_u16(rbuf *r) {
  const uint8_t *p = get(r, 2);
  return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}
static uint32_t get_u32(rbuf *r) {
  const uint8_t *p = get(r, 4);
  uint32_t v = 0;
  for (int i = 0; p && i < 4; i++)
    v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static int64_t get_i64(rbuf *r) {
  const uint8_t *p = get(r, 8);
  uint64_t v = 0;
  for (int i = 0; p && i < 8; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return (int64_t)v;
}
/* A string into out (NUL-terminated, truncated to outsz - 1). */
static void get_str(rbuf *r, char *out, size_t outsz) {
  uint16_t n = get_u16(r);
  const uint8_t *p = get(r, n);
  size_t c = p ? (n < outsz - 1 ? n : outsz - 1) : 0;
  if (c)
    memcpy(out, p, c);
  out[c] = '\0';
}

/* ---- writing ------------------------------------------------------------- */

/* Room for n more bytes at once (a snapshot of 1 GB is not copied over and
 * over as the buffer doubles). */
static void reserve(wbuf *b, size_t n) {
  if (b->oom || b->cap - b->n >= n)
    return;
  uint8_t *np = realloc(b->p, b->n + n);
  if (np == NULL) {
    b->oom = 1;
    return;
  }
  b->p = np;
  b->cap = b->n + n;
}

typedef struct write_ctx {
  wbuf *b;
  uint32_t record_size;
} write_ctx;

static int write_cb(void *ud, int64_t interval, const void *key, size_t keylen, const void *rec,
                    int64_t touched, int64_t listed) {
  write_ctx *w = ud;
  put_i64(w->b, interval);
  put_i64(w->b, touched);
  put_i64(w->b, listed);
  put_u16(w->b, (uint16_t)keylen);
  put(w->b, key, keylen);
  put(w->b, rec, w->record_size);
  return 0;
}

static ks_task *task_of(const ks_engine *e, int32_t task) {
  return task >= 0 && (size_t)task < e->cap_tasks ? e->tasks[task] : NULL;
}

/* Magic, format, task, the host's bookkeeping of t from interval_ms to the
 * plugin name (the same in a full snapshot and a delta: it is small, so
 * always written whole) and the number of p's tables. */
static void put_head(wbuf *b, uint32_t magic, uint32_t format, const ks_engine *e, const ks_task *t,
                     const ks_plugin_ctx *p) {
  put_u32(b, magic);
  put_u32(b, format);
  put_u32(b, (uint32_t)t->id);
  put_i64(b, e->opts.interval_ms);
  put_u32(b, (uint32_t)e->opts.n_topics);
  for (size_t i = 0; i < e->opts.n_topics; i++) {
    put_str(b, e->topics[i]);
    put_i64(b, t->next_offset[i]);
  }
  put_i64(b, t->wm.value);
  for (size_t i = 0; i < e->opts.n_topics; i++)
    put_i64(b, t->wm.max_time[i]);
  put_i64(b, t->now_ms);
  put_i64(b, t->clock.next_close);
  put_u32(b, (uint32_t)t->clock.n_open);
  for (size_t i = 0; i < t->clock.n_open; i++)
    put_i64(b, t->clock.open[i].start);
  put_u32(b, (uint32_t)t->n_retained);
  for (size_t i = 0; i < t->n_retained; i++) {
    put_i64(b, t->retained[i].start);
    put_u32(b, t->retained[i].revision);
  }
  put_str(b, p->name);
  uint32_t n_tables = 0;
  for (size_t i = 0; i < e->n_tables; i++)
    n_tables += e->tables[i]->owner == p;
  put_u32(b, n_tables);
}

static void put_table_head(wbuf *b, const ks_table *tb) {
  put_str(b, tb->name);
  put_u32(b, (uint32_t)tb->kind);
  put_u32(b, tb->record_size);
  put_u32(b, tb->version);
}

int ks_engine_snapshot(ks_engine *e, int32_t task, size_t plugin, uint8_t **out, size_t *outlen) {
  ks_task *t = task_of(e, task);
  if (t == NULL || plugin >= e->n_plugins)
    return KS_ENOENT;
  ks_plugin_ctx *p = e->plugins[plugin];
  wbuf b = {0};
  put_head(&b, SNAP_MAGIC, SNAP_FORMAT, e, t, p);
  for (size_t i = 0; i < e->n_tables; i++) {
    ks_table *tb = e->tables[i];
    if (tb->owner != p)
      continue;
    ks_store *s = i < t->n_stores ? t->stores[i] : NULL;
    ks_store_stats st = {0};
    if (s)
      ks_store_get_stats(s, &st);
    put_table_head(&b, tb);
    put_i64(&b, (int64_t)st.records);
    /* each record: 3 times, key length, key (~24 bytes), record */
    reserve(&b, st.records * (26 + 24 + (size_t)tb->record_size));
    write_ctx w = {&b, tb->record_size};
    if (s)
      ks_store_visit(s, write_cb, &w);
  }
  if (b.oom) {
    free(b.p);
    return KS_ENOMEM;
  }
  *out = b.p;
  *outlen = b.n;
  return 0;
}

/* ---- reading ------------------------------------------------------------- */

static ks_table *table_by_name(ks_engine *e, ks_plugin_ctx *p, const char *name) {
  for (size_t i = 0; i < e->n_tables; i++)
    if (e->tables[i]->owner == p && strcmp(e->tables[i]->name, name) == 0)
      return e->tables[i];
  return NULL;
}

/* A damaged or inconsistent snapshot (KS_ESTATE: the caller may fall back
 * to an older checkpoint) and one taken with another configuration
 * (KS_ECONFIG: an older one would not do either). */
#define BAD(...)                                                                                   \
  do {                                                                                             \
    snprintf(errstr, errstr_size, __VA_ARGS__);                                                    \
    return KS_ESTATE;                                                                              \
  } while (0)
#define NOMEM()                                                                                    \
  do {                                                                                             \
    snprintf(errstr, errstr_size, "out of memory while restoring a checkpoint of task %d", t->id); \
    return KS_ENOMEM;                                                                              \
  } while (0)
#define INCOMPATIBLE(...)                                                                          \
  do {                                                                                             \
    snprintf(errstr, errstr_size, __VA_ARGS__);                                                    \
    return KS_ECONFIG;                                                                             \
  } while (0)

/* Times a snapshot may hold: KS_NO_TIME, or within ~35 years of the event
 * times the decoder accepts, so no interval arithmetic on them overflows. */
#define SNAP_TIME_SLACK_MS (INT64_C(1) << 40)
static int time_ok(int64_t t) {
  return t == KS_NO_TIME || (t >= KS_EVENT_TIME_MIN_MS - SNAP_TIME_SLACK_MS &&
                             t <= KS_EVENT_TIME_MAX_MS + SNAP_TIME_SLACK_MS);
}
/* An interval start: such a time on this run's interval grid. */
static int start_ok(const ks_engine *e, int64_t t) {
  return t != KS_NO_TIME && time_ok(t) && ks_interval_floor(t, e->opts.interval_ms) == t;
}

/* Bytes not read yet: every count read is checked against them before it
 * sizes a loop or an allocation. */
static size_t left(const rbuf *r) {
  return r->bad ? 0 : r->n - r->off;
}

static int restore_host(ks_engine *e, ks_task *t, rbuf *r, char *errstr, size_t errstr_size) {
  int64_t interval_ms = get_i64(r);
  if (interval_ms != e->opts.interval_ms)
    INCOMPATIBLE("checkpoint was taken with %lld ms intervals, this run uses %lld ms",
                 (long long)interval_ms, (long long)e->opts.interval_ms);
  uint32_t n_topics = get_u32(r);
  int map[256];
  if (n_topics > 256)
    BAD("checkpoint lists %u topics (corrupt)", n_topics);
  for (uint32_t i = 0; i < n_topics && !r->bad; i++) {
    char name[256];
    get_str(r, name, sizeof name);
    int64_t next = get_i64(r);
    map[i] = -1;
    for (size_t k = 0; k < e->opts.n_topics; k++)
      if (strcmp(e->topics[k], name) == 0) {
        map[i] = (int)k;
        t->next_offset[k] = next;
      }
  }
  int64_t wm = get_i64(r);
  if (!time_ok(wm))
    BAD("checkpoint has watermark %lld (corrupt)", (long long)wm);
  for (uint32_t i = 0; i < n_topics && !r->bad; i++) {
    int64_t mt = get_i64(r);
    if (!time_ok(mt))
      BAD("checkpoint has event time %lld for topic %u (corrupt)", (long long)mt, i);
    if (map[i] >= 0)
      t->wm.max_time[map[i]] = mt;
  }
  t->wm.value = wm;
  t->now_ms = get_i64(r);
  int64_t next_close = get_i64(r);
  if (!time_ok(t->now_ms) || (next_close != KS_NO_TIME && !start_ok(e, next_close)))
    BAD("checkpoint has task time %lld, next close %lld (corrupt)", (long long)t->now_ms,
        (long long)next_close);
  uint32_t n_open = get_u32(r);
  if (n_open > left(r) / 8)
    BAD("checkpoint lists %u open intervals in its last %zu bytes (corrupt)", n_open, left(r));
  for (uint32_t i = 0; i < n_open && !r->bad; i++) {
    int64_t start = get_i64(r);
    if (!r->bad && !start_ok(e, start))
      BAD("checkpoint has open interval %lld, not an interval start (corrupt)", (long long)start);
    if (ks_clock_touch(&t->clock, start, 0, -1) != 0)
      NOMEM();
  }
  t->clock.next_close = next_close;
  uint32_t n_ret = get_u32(r);
  if (n_ret > left(r) / 12)
    BAD("checkpoint lists %u retained intervals in its last %zu bytes (corrupt)", n_ret, left(r));
  ks_retained *ret = n_ret ? malloc(n_ret * sizeof *ret) : NULL;
  if (n_ret && ret == NULL)
    NOMEM();
  for (uint32_t i = 0; i < n_ret && !r->bad; i++) {
    int64_t start = ret[i].start = get_i64(r);
    ret[i].revision = get_u32(r);
    ret[i].changed = 0;
    if (!r->bad && !start_ok(e, start)) {
      free(ret);
      BAD("checkpoint has retained interval %lld, not an interval start (corrupt)",
          (long long)start);
    }
  }
  free(t->retained);
  t->retained = ret;
  t->n_retained = t->cap_retained = n_ret;
  return r->bad ? KS_ESTATE : 0;
}

/* The snapshot's (or delta's) magic, format and task, then the host's
 * bookkeeping, the plugin's name and its number of tables (*n_tables). *fmt:
 * the format read. */
static int restore_head(ks_engine *e, ks_task *t, ks_plugin_ctx *p, rbuf *r, uint32_t magic,
                        uint32_t max_fmt, uint32_t *fmt, uint32_t *n_tables, char *errstr,
                        size_t errstr_size) {
  const char *what = magic == SNAP_MAGIC ? "checkpoint" : "checkpoint delta";
  if (get_u32(r) != magic)
    BAD("not a kpistream %s (bad magic)", what);
  *fmt = get_u32(r);
  if (*fmt < 1 || *fmt > max_fmt)
    BAD("%s format %u, this build reads formats 1 to %u", what, *fmt, max_fmt);
  uint32_t stask = get_u32(r);
  if (stask != (uint32_t)t->id)
    BAD("%s is of task %u, not task %d", what, stask, t->id);
  int rc = restore_host(e, t, r, errstr, errstr_size);
  if (rc != 0) {
    if (!errstr[0])
      snprintf(errstr, errstr_size, "%s header is truncated", what);
    return rc;
  }
  char name[256];
  get_str(r, name, sizeof name);
  if (strcmp(name, p->name) != 0)
    BAD("%s is of plugin '%s', not '%s'", what, name, p->name);
  *n_tables = get_u32(r);
  return 0;
}

/* A table's head: its name, kind, record size and version, which must be
 * those the plugin declares now. */
static int restore_table_head(ks_engine *e, ks_plugin_ctx *p, rbuf *r, ks_table **out, char *errstr,
                              size_t errstr_size) {
  char tname[64];
  get_str(r, tname, sizeof tname);
  uint32_t kind = get_u32(r), rsize = get_u32(r), version = get_u32(r);
  *out = NULL;
  if (r->bad)
    return 0; /* the caller reports the truncation */
  ks_table *tb = table_by_name(e, p, tname);
  if (tb == NULL)
    INCOMPATIBLE("plugin %s: checkpoint holds table '%s', which the plugin no longer declares",
                 p->name, tname);
  if ((uint32_t)tb->kind != kind || tb->record_size != rsize || tb->version != version)
    INCOMPATIBLE("plugin %s table '%s': checkpoint has kind %u, %u-byte records, version %u; the "
                 "plugin declares kind %d, %u bytes, version %u (reset the state: new group id or "
                 "empty changelog)",
                 p->name, tname, kind, rsize, version, (int)tb->kind, tb->record_size, tb->version);
  *out = tb;
  return 0;
}

/* A record's place and times as a snapshot or delta may hold them. */
static int record_ok(const ks_engine *e, const ks_table *tb, int64_t interval, int64_t touched,
                     int64_t listed, size_t keylen) {
  return (tb->kind == KS_TABLE_KEYED ? interval == KS_STORE_NO_INTERVAL : start_ok(e, interval)) &&
         touched != KS_NO_TIME && time_ok(touched) && listed != KS_NO_TIME && time_ok(listed) &&
         keylen <= KS_KEY_MAX;
}

int ks_engine_restore(ks_engine *e, int32_t task, size_t plugin, const uint8_t *buf, size_t len,
                      char *errstr, size_t errstr_size) {
  if (plugin >= e->n_plugins)
    return KS_ENOENT;
  ks_plugin_ctx *p = e->plugins[plugin];
  if (errstr_size)
    errstr[0] = '\0';
  if (ks_engine_task_open(e, task) != 0) {
    snprintf(errstr, errstr_size, "task %d: cannot open it (out of memory)", task);
    return KS_ENOMEM;
  }
  ks_task *t = e->tasks[task];
  rbuf r = {buf, len, 0, 0};
  uint32_t fmt;
  uint32_t n_tables;
  int rc = restore_head(e, t, p, &r, SNAP_MAGIC, SNAP_FORMAT, &fmt, &n_tables, errstr, errstr_size);
  if (rc != 0)
    return rc;
  for (uint32_t i = 0; i < n_tables && !r.bad; i++) {
    ks_table *tb;
    if ((rc = restore_table_head(e, p, &r, &tb, errstr, errstr_size)) != 0)
      return rc;
    int64_t n = get_i64(&r);
    if (r.bad)
      break;
    uint32_t rsize = tb->record_size;
    const char *tname = tb->name;
    /* a record is at least interval, touched, (listed,) key length and the record */
    if (n < 0 || (uint64_t)n > left(&r) / ((fmt >= 2 ? 24 : 16) + 2 + (uint64_t)rsize))
      BAD("plugin %s table '%s': checkpoint claims %lld records in its last %zu bytes (corrupt)",
          p->name, tname, (long long)n, left(&r));
    ks_store *s = ks_task_store(t, tb);
    if (s == NULL)
      NOMEM();
    for (int64_t k = 0; k < n && !r.bad; k++) {
      int64_t interval = get_i64(&r), touched = get_i64(&r);
      int64_t listed = fmt >= 2 ? get_i64(&r) : touched;
      uint16_t keylen = get_u16(&r);
      const uint8_t *key = get(&r, keylen);
      const uint8_t *rec = get(&r, rsize);
      if (r.bad)
        break;
      if (!record_ok(e, tb, interval, touched, listed, keylen))
        BAD("plugin %s table '%s': record %lld has interval %lld, touched at %lld, listed at "
            "%lld, a %u-byte key (corrupt)",
            p->name, tname, (long long)k, (long long)interval, (long long)touched,
            (long long)listed, keylen);
      void *dst;
      int lrc = ks_store_load(s, interval, key, keylen, touched, listed, &dst);
      if (lrc == KS_ESTATE)
        BAD("plugin %s table '%s': record %lld of task %d repeats a key or its key is %u bytes "
            "(corrupt)",
            p->name, tname, (long long)k, task, keylen);
      if (lrc != 0)
        NOMEM();
      memcpy(dst, rec, rsize);
    }
  }
  if (r.bad)
    BAD("plugin %s: checkpoint of task %d is truncated at byte %zu of %zu", p->name, task, r.off,
        len);
  if (r.off != len)
    BAD("plugin %s: checkpoint of task %d has %zu bytes after its last table (corrupt)", p->name,
        task, len - r.off);
  return 0;
}

/* ---- deltas (incremental checkpoints) ------------------------------------ */

static void put_u8(wbuf *b, uint8_t v) {
  put(b, &v, 1);
}
/* Overwrite the 8 bytes at `at` (written earlier as a placeholder). */
static void patch_i64(wbuf *b, size_t at, int64_t v) {
  if (b->oom)
    return;
  uint64_t u = (uint64_t)v;
  for (int i = 0; i < 8; i++)
    b->p[at + (size_t)i] = (uint8_t)(u >> (8 * i));
}

typedef struct delta_ctx {
  wbuf *b;
  uint32_t record_size;
  int64_t n;
} delta_ctx;

static int delta_cb(void *ud, ks_change_kind kind, int64_t interval, const void *key, size_t keylen,
                    const void *rec, int64_t touched, int64_t listed) {
  delta_ctx *d = ud;
  put_u8(d->b, (uint8_t)kind);
  put_i64(d->b, interval);
  if (kind != KS_CHANGE_DROP) {
    put_u16(d->b, (uint16_t)keylen);
    put(d->b, key, keylen);
  }
  if (kind >= KS_CHANGE_UPDATE) {
    put_i64(d->b, touched);
    put_i64(d->b, listed);
    put(d->b, rec, d->record_size);
  }
  d->n++;
  return 0;
}

int ks_engine_delta(ks_engine *e, int32_t task, size_t plugin, uint8_t **out, size_t *outlen) {
  ks_task *t = task_of(e, task);
  if (t == NULL || plugin >= e->n_plugins)
    return KS_ENOENT;
  if (t->ckpt_baseline == 0)
    return KS_ESTATE; /* no baseline: only a full snapshot is right */
  ks_plugin_ctx *p = e->plugins[plugin];
  wbuf b = {0};
  put_head(&b, DELTA_MAGIC, DELTA_FORMAT, e, t, p);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < e->n_tables; i++) {
    ks_table *tb = e->tables[i];
    if (tb->owner != p)
      continue;
    ks_store *s = i < t->n_stores ? t->stores[i] : NULL;
    ks_store_stats st = {0};
    if (s)
      ks_store_get_stats(s, &st);
    put_table_head(&b, tb);
    put_i64(&b, (int64_t)st.records); /* after the changes: checked at restore */
    size_t at = b.n;
    put_i64(&b, 0); /* the number of changes, patched below */
    delta_ctx d = {&b, tb->record_size, 0};
    if (s)
      rc = ks_store_visit_changes(s, delta_cb, &d);
    patch_i64(&b, at, d.n);
  }
  if (rc != 0 || b.oom) {
    free(b.p);
    return rc != 0 ? rc : KS_ENOMEM;
  }
  *out = b.p;
  *outlen = b.n;
  return 0;
}

static const char *change_name(unsigned kind) {
  switch (kind) {
  case KS_CHANGE_REMOVE:
    return "removal";
  case KS_CHANGE_DROP:
    return "interval drop";
  case KS_CHANGE_UPDATE:
    return "update";
  case KS_CHANGE_MOVE:
    return "move";
  case KS_CHANGE_ADD:
    return "addition";
  default:
    return "unknown change";
  }
}

int ks_engine_restore_delta(ks_engine *e, int32_t task, size_t plugin, const uint8_t *buf,
                            size_t len, char *errstr, size_t errstr_size) {
  if (plugin >= e->n_plugins)
    return KS_ENOENT;
  ks_plugin_ctx *p = e->plugins[plugin];
  if (errstr_size)
    errstr[0] = '\0';
  ks_task *t = task_of(e, task);
  if (t == NULL) {
    snprintf(errstr, errstr_size, "task %d: a checkpoint delta needs its base restored first",
             task);
    return KS_ESTATE;
  }
  rbuf r = {buf, len, 0, 0};
  /* the open intervals are replaced, not merged (some closed since the base) */
  ks_clock_free(&t->clock);
  t->clock.next_close = KS_NO_TIME;
  uint32_t fmt;
  uint32_t n_tables;
  int rc =
      restore_head(e, t, p, &r, DELTA_MAGIC, DELTA_FORMAT, &fmt, &n_tables, errstr, errstr_size);
  if (rc != 0)
    return rc;
  for (uint32_t i = 0; i < n_tables && !r.bad; i++) {
    ks_table *tb;
    if ((rc = restore_table_head(e, p, &r, &tb, errstr, errstr_size)) != 0)
      return rc;
    int64_t after = get_i64(&r), n = get_i64(&r);
    if (r.bad)
      break;
    const char *tname = tb->name;
    uint32_t rsize = tb->record_size;
    /* a change is at least its kind and interval */
    if (after < 0 || n < 0 || (uint64_t)n > left(&r) / 9)
      BAD("plugin %s table '%s': checkpoint delta claims %lld changes in its last %zu bytes, "
          "%lld records after them (corrupt)",
          p->name, tname, (long long)n, left(&r), (long long)after);
    ks_store *s = ks_task_store(t, tb);
    if (s == NULL)
      NOMEM();
    for (int64_t k = 0; k < n && !r.bad; k++) {
      const uint8_t *kp = get(&r, 1);
      unsigned kind = kp ? *kp : 0;
      int64_t interval = get_i64(&r), touched = KS_NO_TIME + 1, listed = KS_NO_TIME + 1;
      uint16_t keylen = 0;
      const uint8_t *key = NULL, *rec = NULL;
      if (kind != KS_CHANGE_DROP) {
        keylen = get_u16(&r);
        key = get(&r, keylen);
      }
      if (kind >= KS_CHANGE_UPDATE) {
        touched = get_i64(&r);
        listed = get_i64(&r);
        rec = get(&r, rsize);
      }
      if (r.bad)
        break;
      int fits = kind >= KS_CHANGE_REMOVE && kind <= KS_CHANGE_ADD &&
                 (kind != KS_CHANGE_DROP || tb->kind == KS_TABLE_WINDOWED);
      if (fits && kind < KS_CHANGE_UPDATE) /* no times: check the place only */
        fits = record_ok(e, tb, interval, KS_EVENT_TIME_MIN_MS, KS_EVENT_TIME_MIN_MS, keylen);
      else if (fits)
        fits = record_ok(e, tb, interval, touched, listed, keylen);
      if (!fits)
        BAD("plugin %s table '%s': change %lld of the checkpoint delta (kind %u, interval %lld, "
            "a %u-byte key) is not a valid change (corrupt)",
            p->name, tname, (long long)k, kind, (long long)interval, keylen);
      void *dst = NULL;
      int arc = ks_store_apply(s, (ks_change_kind)kind, interval, key, keylen, touched, listed,
                               kind >= KS_CHANGE_UPDATE ? &dst : NULL);
      if (arc == KS_ESTATE)
        BAD("plugin %s table '%s': change %lld of the checkpoint delta (%s of a %u-byte key in "
            "interval %lld) does not fit the state it follows (not the delta of this base)",
            p->name, tname, (long long)k, change_name(kind), keylen, (long long)interval);
      if (arc != 0)
        NOMEM();
      if (dst)
        memcpy(dst, rec, rsize);
    }
    if (r.bad)
      break;
    ks_store_stats st;
    ks_store_get_stats(s, &st);
    if ((uint64_t)after != st.records)
      BAD("plugin %s table '%s': after the checkpoint delta the table holds %zu records, the "
          "delta says %lld (not the delta of this base)",
          p->name, tname, st.records, (long long)after);
  }
  if (r.bad)
    BAD("plugin %s: checkpoint delta of task %d is truncated at byte %zu of %zu", p->name, task,
        r.off, len);
  if (r.off != len)
    BAD("plugin %s: checkpoint delta of task %d has %zu bytes after its last table (corrupt)",
        p->name, task, len - r.off);
  return 0;
}

void ks_engine_task_mark_clean(ks_engine *e, int32_t task, uint64_t tag) {
  ks_task *t = task_of(e, task);
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n_stores; i++)
    if (t->stores[i])
      ks_store_mark_clean(t->stores[i]);
  t->ckpt_baseline = tag;
}

uint64_t ks_engine_task_baseline(const ks_engine *e, int32_t task) {
  const ks_task *t = task_of(e, task);
  return t ? t->ckpt_baseline : 0;
}

int ks_engine_task_changes(const ks_engine *e, int32_t task, size_t *changes, size_t *records) {
  const ks_task *t = task_of(e, task);
  if (t == NULL)
    return KS_ENOENT;
  size_t c = 0, n = 0;
  for (size_t i = 0; i < t->n_stores; i++) {
    if (t->stores[i] == NULL)
      continue;
    size_t k = ks_store_changes(t->stores[i]);
    ks_store_stats st;
    ks_store_get_stats(t->stores[i], &st);
    c = k == SIZE_MAX || c + k < c ? SIZE_MAX : c + k;
    n += st.records;
  }
  *changes = c;
  *records = n;
  return 0;
}

int64_t ks_engine_next_offset(const ks_engine *e, int32_t task, uint32_t topic_index) {
  ks_task *t = task >= 0 && (size_t)task < e->cap_tasks ? e->tasks[task] : NULL;
  if (t == NULL || topic_index >= e->opts.n_topics)
    return -1;
  return t->next_offset[topic_index];
}
