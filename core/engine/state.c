#include "state.h"

#include "state_pages.h"

#include <stdlib.h>
#include <string.h>

/*
 * Layout, chosen for the cache (docs/benchmarks.md):
 *
 * - One hash index per interval (keyed records: the interval
 *   KS_STORE_NO_INTERVAL), so a probe compares only the key, and dropping an
 *   interval frees its index whole instead of deleting slot by slot.
 * - Slots hold the key's 64-bit hash next to the entry pointer: a probe
 *   touches an entry only when the hashes match.
 * - Entries are carved from 64-byte aligned slabs with a 64-byte multiple
 *   stride; the 40-byte header and the key share the entry's first cache
 *   line for keys up to 24 bytes, and the record follows, 16-byte aligned,
 *   or 64-byte aligned when it is 128 bytes or more (so a plugin that puts
 *   its hot fields first touches as few lines as it can).
 */

typedef struct ks_entry ks_entry;
struct ks_entry {
  ks_entry *prev; /* list of the entry's index, insertion order */
  ks_entry *next; /* (also the free-list link) */
  int64_t touched_ms;
  int64_t listed_ms; /* keyed: touched_ms when the entry last went to the list's tail */
  uint16_t keylen;
  uint16_t key_pad; /* bytes from data[0] to the record */
  uint8_t cls;      /* size class */
  uint8_t flags;    /* E_* change tracking since the last ks_store_mark_clean() */
  uint16_t spare;
  unsigned char data[]; /* key, padding, record */
};

/* Change tracking (incremental checkpoints, docs/reliability.md). Since the
 * last ks_store_mark_clean() (the baseline): */
#define E_NEW      1u /* created: absent from the baseline (no tombstone when removed) */
#define E_APPENDED 2u /* put at its list's tail (created, or moved by the TTL sweep) */
#define E_DIRTY    4u /* handed out writable, or changed by a foreach callback */

#define KS_HDR 40u
_Static_assert(offsetof(ks_entry, data) == KS_HDR, "ks_entry header size");
#define KS_LINE    64u
#define KS_CLASSES ((KS_HDR + KS_KEY_MAX + KS_LINE - 1u) / 16u + 1u)
#define KS_SLAB    (64u * 1024u)

typedef struct ks_slot {
  uint64_t hash; /* copy of the key's hash, so probing touches no entry */
  ks_entry *e;   /* NULL: empty */
} ks_slot;

typedef struct ks_index {
  int64_t interval;
  ks_slot *slots; /* open addressing, linear probing */
  size_t cap;     /* power of two */
  size_t count;
  ks_entry *head; /* insertion order (keyed: order of listed_ms) */
  ks_entry *tail;
  int fresh; /* created since the baseline: no drop to record when dropped */
} ks_index;

/* An entry handed out writable since the baseline, in its interval. The
 * entry may be released later (its flags are then cleared) or reused (then
 * E_APPENDED): only an entry still E_DIRTY and not E_APPENDED is a change
 * in place, which is how stale items are told apart. */
typedef struct ks_dirty {
  ks_entry *e;
  int64_t interval;
} ks_dirty;

typedef struct ks_slab {
  void *p;
  size_t n;
} ks_slab;

typedef struct ks_class {
  ks_entry *free; /* recycled entries */
  unsigned char *bump, *end;
  size_t next_slab; /* bytes of the next slab */
} ks_class;

struct ks_store {
  /* first line: all a lookup in the interval of the previous one reads
   * when the record exists (a copy of that index's slots and mask) */
  ks_slot *hot_slots; /* NULL: no valid copy */
  size_t hot_mask;
  int64_t hot_interval;
  size_t hot; /* position of that index in ix */
  int64_t ttl_ms;
  uint32_t record_size;
  uint32_t pf_lines; /* record lines to prefetch with the entry (at most 3) */
  ks_index *ix;      /* one per interval */
  size_t n_ix, cap_ix;
  size_t hint_cap; /* slot capacity for a new interval: that of the last one dropped */
  size_t count;
  size_t bytes;
  uint64_t expired;
  ks_class cls[KS_CLASSES];
  ks_slab *slabs;
  size_t n_slabs, cap_slabs;
  ks_pages *pages; /* borrowed from the engine, or NULL: malloc */
  /* changes since the baseline (see ks_store_visit_changes) */
  ks_dirty *dirty; /* entries changed in place (first change order) */
  size_t len_dirty, cap_dirty;
  unsigned char *tomb; /* removed baseline records: i64 interval, u16 keylen, key */
  size_t tomb_len, tomb_cap, n_tomb;
  int64_t *drops; /* baseline intervals dropped */
  size_t n_drops, cap_drops;
  size_t n_appended; /* entries E_APPENDED now */
  size_t n_dirty;    /* entries E_DIRTY and not E_APPENDED now (changes in place) */
  int lost;          /* out of memory while recording a change: no delta until the next baseline */
};

_Static_assert(offsetof(ks_store, ix) + sizeof(ks_index *) <= KS_LINE, "ks_store first line");

uint64_t ks_hash_bytes(const void *data, size_t n, uint64_t seed) {
  /* 8 bytes at a time with a strong 64-bit mixer (murmur3 finaliser). */
  const unsigned char *p = data;
  uint64_t h = seed ^ (n * UINT64_C(0x9E3779B97F4A7C15));
  while (n >= 8) {
    uint64_t k;
    memcpy(&k, p, 8);
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 32;
    h = (h ^ k) * UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t k = 0;
  memcpy(&k, p, n);
  h ^= k * UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= UINT64_C(0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h;
}

static inline void *entry_record(ks_entry *e) {
  return e->data + e->key_pad;
}

/* Key bytes from data[0] to the record (aligned as said above). */
static inline size_t key_pad_of(const ks_store *s, size_t keylen) {
  size_t a = s->record_size >= 2 * KS_LINE ? KS_LINE : 16u;
  return ((KS_HDR + keylen + a - 1) & ~(a - 1)) - KS_HDR;
}

static inline size_t class_of(size_t key_pad) {
  return (KS_HDR + key_pad) / 16u;
}

/* Entries never span more cache lines than their size needs: up to 64
 * bytes a power of two, up to 96 bytes 96 (two lines wherever it starts),
 * else a multiple of 64. */
static inline size_t stride_of(const ks_store *s, size_t key_pad) {
  size_t n = KS_HDR + key_pad + s->record_size;
  if (n <= KS_LINE)
    return n <= 32 ? 32 : KS_LINE;
  if (n <= 96)
    return 96;
  return (n + KS_LINE - 1) & ~(size_t)(KS_LINE - 1);
}

/* The index's hash of a key (not ks_hash_bytes, which is kept as it is for
 * its other users): a multiply-fold hash in the manner of wyhash, ~25
 * instructions for the 20-40 byte keys plugins build. */
static inline uint64_t mum(uint64_t a, uint64_t b) {
  unsigned __int128 r = (unsigned __int128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rd64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint64_t rd32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

#define KS_K0 UINT64_C(0xa0761d6478bd642f)
#define KS_K1 UINT64_C(0xe7037ed1a0b428db)
#define KS_K2 UINT64_C(0x8ebc6af09c88c6e3)

static uint64_t key_hash(const void *key, size_t n) {
  const unsigned char *p = key;
  uint64_t seed = mum(KS_K0 ^ n, KS_K1), a, b;
  if (n <= 16) {
    if (n >= 4) {
      size_t m = (n >> 3) << 2;
      a = rd32(p) << 32 | rd32(p + m);
      b = rd32(p + n - 4) << 32 | rd32(p + n - 4 - m);
    } else if (n > 0) {
      a = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t i = n;
    for (; i > 16; i -= 16, p += 16)
      seed = mum(rd64(p) ^ KS_K1, rd64(p + 8) ^ seed);
    a = rd64(p + i - 16);
    b = rd64(p + i - 8);
  }
  return mum(KS_K1 ^ n ^ mum(a ^ KS_K1, b ^ seed), KS_K2);
}

static inline int key_eq(const unsigned char *a, const unsigned char *b, size_t n) {
  uint64_t diff = 0;
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    diff |= x ^ y;
  }
  if (n >= 4) {
    uint32_t x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    diff |= x ^ y;
    a += 4;
    b += 4;
    n -= 4;
  }
  while (n--)
    diff |= (uint64_t)(*a++ ^ *b++);
  return diff == 0;
}

/* Memory of n bytes for slots (zeroed) or a slab: from the page source when
 * it serves that size, else from malloc; mem_put tells them apart by n. */
static void *mem_get(ks_store *s, size_t n, int zero) {
  if (s->pages && ks_pages_serves(n))
    return ks_pages_get(s->pages, n, zero); /* slabs need no zeroing: entries are */
  if (zero)
    return calloc(1, n);
  return aligned_alloc(KS_LINE, n);
}

static void mem_put(ks_store *s, void *p, size_t n) {
  if (s->pages && ks_pages_serves(n))
    ks_pages_put(s->pages, p, n);
  else
    free(p);
}

ks_store *ks_store_new_in(ks_pages *pages, uint32_t record_size, int64_t ttl_ms) {
  ks_store *s = ks_store_new(record_size, ttl_ms);
  if (s)
    s->pages = pages;
  return s;
}

ks_store *ks_store_new(uint32_t record_size, int64_t ttl_ms) {
  /* on a cache line of its own: the first line is all a lookup reads */
  size_t n = (sizeof(ks_store) + KS_LINE - 1) & ~(size_t)(KS_LINE - 1);
  ks_store *s = aligned_alloc(KS_LINE, n);
  if (s == NULL)
    return NULL;
  memset(s, 0, n);
  s->record_size = record_size;
  s->ttl_ms = ttl_ms;
  s->hint_cap = 16;
  /* the record's lines (it starts on the entry's second line for keys of
   * up to 24 bytes), at most 3 */
  size_t more = (record_size + KS_LINE - 1) / KS_LINE;
  s->pf_lines = (uint32_t)(more < 3 ? more : 3);
  return s;
}

void ks_store_free(ks_store *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_ix; i++)
    mem_put(s, s->ix[i].slots, s->ix[i].cap * sizeof(ks_slot));
  for (size_t i = 0; i < s->n_slabs; i++)
    mem_put(s, s->slabs[i].p, s->slabs[i].n);
  free(s->slabs);
  free(s->ix);
  free(s->dirty);
  free(s->tomb);
  free(s->drops);
  free(s);
}

/* ---- entries ------------------------------------------------------------ */

static ks_entry *entry_alloc(ks_store *s, size_t key_pad) {
  ks_class *c = &s->cls[class_of(key_pad)];
  ks_entry *e = c->free;
  if (e) {
    c->free = e->next;
    return e;
  }
  size_t stride = stride_of(s, key_pad);
  if ((size_t)(c->end - c->bump) < stride) {
    /* slabs grow from ~4 KiB to 64 KiB: small stores stay small */
    size_t n = c->next_slab ? c->next_slab : 4096;
    if (n < stride)
      n = stride;
    n = (n + KS_LINE - 1) & ~(size_t)(KS_LINE - 1);
    if (s->n_slabs == s->cap_slabs) {
      size_t nc = s->cap_slabs ? s->cap_slabs * 2 : 8;
      ks_slab *ns = realloc(s->slabs, nc * sizeof *ns);
      if (ns == NULL)
        return NULL;
      s->slabs = ns;
      s->cap_slabs = nc;
    }
    unsigned char *slab = mem_get(s, n, 0);
    if (slab == NULL)
      return NULL;
    s->slabs[s->n_slabs++] = (ks_slab){slab, n};
    c->bump = slab;
    c->end = slab + n;
    c->next_slab = n * 2 > KS_SLAB ? (n > KS_SLAB ? n : KS_SLAB) : n * 2;
  }
  e = (ks_entry *)(void *)c->bump;
  c->bump += stride;
  return e;
}

static void entry_release(ks_store *s, ks_entry *e) {
  ks_class *c = &s->cls[e->cls];
  if (e->flags & E_APPENDED)
    s->n_appended--;
  else if (e->flags & E_DIRTY)
    s->n_dirty--;
  e->flags = 0; /* any stale ks_dirty item pointing here is now ignored */
  e->next = c->free;
  c->free = e;
  s->count--;
  s->bytes -= stride_of(s, e->key_pad);
}

static void list_unlink(ks_index *x, ks_entry *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    x->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    x->tail = e->prev;
  x->count--;
}

static void list_append(ks_index *x, ks_entry *e) {
  e->next = NULL;
  e->prev = x->tail;
  if (x->tail)
    x->tail->next = e;
  else
    x->head = e;
  x->tail = e;
  x->count++;
}

/* ---- change tracking -------------------------------------------------------- */

static int grow_buf(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return 0;
  size_t nc = *cap ? *cap * 2 : 64;
  while (nc < need)
    nc *= 2;
  void *np = realloc(*p, nc * elem);
  if (np == NULL)
    return KS_ENOMEM;
  *p = np;
  *cap = nc;
  return 0;
}

/* e (in interval) is handed out writable for the first time since the
 * baseline. Kept out of line: the hot path only tests the flags. */
static __attribute__((noinline)) void mark_dirty(ks_store *s, ks_entry *e, int64_t interval) {
  e->flags |= E_DIRTY;
  s->n_dirty++;
  if (grow_buf((void **)&s->dirty, &s->cap_dirty, s->len_dirty + 1, sizeof *s->dirty) != 0) {
    s->lost = 1;
    return;
  }
  s->dirty[s->len_dirty++] = (ks_dirty){e, interval};
}

/* e was just put at its list's tail (the TTL sweep, a replayed move). */
static void mark_appended(ks_store *s, ks_entry *e) {
  if (e->flags & E_APPENDED)
    return;
  if (e->flags & E_DIRTY)
    s->n_dirty--; /* now reported as a move */
  e->flags |= E_APPENDED;
  s->n_appended++;
}

/* e leaves interval x one by one (removed or expired): a baseline record
 * needs a tombstone. */
static void record_removal(ks_store *s, const ks_index *x, const ks_entry *e) {
  if (e->flags & E_NEW)
    return;
  size_t n = 8 + 2 + e->keylen;
  if (grow_buf((void **)&s->tomb, &s->tomb_cap, s->tomb_len + n, 1) != 0) {
    s->lost = 1;
    return;
  }
  unsigned char *p = s->tomb + s->tomb_len;
  memcpy(p, &x->interval, 8);
  uint16_t kl = e->keylen;
  memcpy(p + 8, &kl, 2);
  memcpy(p + 10, e->data, e->keylen);
  s->tomb_len += n;
  s->n_tomb++;
}

/* ---- indexes -------------------------------------------------------------- */

static void hot_set(ks_store *s, size_t i) {
  s->hot = i;
  s->hot_interval = s->ix[i].interval;
  s->hot_slots = s->ix[i].slots;
  s->hot_mask = s->ix[i].cap - 1;
}

static ks_index *index_find(ks_store *s, int64_t interval) {
  if (s->hot_slots && s->hot_interval == interval)
    return &s->ix[s->hot];
  for (size_t i = 0; i < s->n_ix; i++)
    if (s->ix[i].interval == interval) {
      hot_set(s, i);
      return &s->ix[i];
    }
  return NULL;
}

static ks_index *index_add(ks_store *s, int64_t interval) {
  if (s->n_ix == s->cap_ix) {
    size_t nc = s->cap_ix ? s->cap_ix * 2 : 4;
    ks_index *ni = realloc(s->ix, nc * sizeof *ni);
    if (ni == NULL)
      return NULL;
    s->ix = ni;
    s->cap_ix = nc;
  }
  size_t cap = interval == KS_STORE_NO_INTERVAL ? 64 : s->hint_cap;
  ks_slot *slots = mem_get(s, cap * sizeof *slots, 1);
  if (slots == NULL)
    return NULL;
  ks_index *x = &s->ix[s->n_ix];
  memset(x, 0, sizeof *x);
  x->fresh = 1;
  x->interval = interval;
  x->slots = slots;
  x->cap = cap;
  s->bytes += cap * sizeof *slots;
  hot_set(s, s->n_ix++);
  return x;
}

/* The slot holding key, or -1 (then *empty is where it would go). When a
 * slot's hash matches, the first pf lines of the record are prefetched
 * before the entry's header and key are compared: their cache misses then
 * overlap instead of following one another (the caller reads the record
 * next). */
static inline long probe(const ks_slot *slots, size_t mask, uint64_t h, const void *key,
                         size_t keylen, size_t *empty, unsigned pf) {
  size_t i = (size_t)h & mask;
  for (;;) {
    const ks_slot *sl = &slots[i];
    const ks_entry *e = sl->e;
    if (e == NULL) {
      *empty = i;
      return -1;
    }
    if (sl->hash == h) {
      for (unsigned k = 1; k <= pf; k++)
        __builtin_prefetch((const char *)e + k * KS_LINE);
      if (e->keylen == keylen && key_eq(e->data, key, keylen))
        return (long)i;
    }
    i = (i + 1) & mask;
  }
}

static int grow(ks_store *s, ks_index *x) {
  size_t ncap = x->cap * 2;
  ks_slot *ns = mem_get(s, ncap * sizeof *ns, 1);
  if (ns == NULL)
    return KS_ENOMEM;
  for (size_t i = 0; i < x->cap; i++) {
    if (x->slots[i].e == NULL)
      continue;
    size_t j = (size_t)x->slots[i].hash & (ncap - 1);
    while (ns[j].e)
      j = (j + 1) & (ncap - 1);
    ns[j] = x->slots[i];
  }
  s->bytes += (ncap - x->cap) * sizeof *ns;
  mem_put(s, x->slots, x->cap * sizeof *x->slots);
  x->slots = ns;
  x->cap = ncap;
  hot_set(s, (size_t)(x - s->ix));
  return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void slot_delete(ks_index *x, size_t i) {
  size_t mask = x->cap - 1;
  size_t j = i;
  x->slots[i].e = NULL;
  for (;;) {
    j = (j + 1) & mask;
    if (x->slots[j].e == NULL)
      return;
    size_t home = (size_t)x->slots[j].hash & mask;
    /* move slot j back to i if its home is not in (i, j] cyclically */
    int between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      x->slots[i] = x->slots[j];
      x->slots[j].e = NULL;
      i = j;
    }
  }
}

/* Remove e from x's slots (found by pointer) and list; recycle it. */
static void entry_destroy(ks_store *s, ks_index *x, ks_entry *e) {
  size_t mask = x->cap - 1;
  size_t i = (size_t)key_hash(e->data, e->keylen) & mask;
  while (x->slots[i].e != e && x->slots[i].e != NULL)
    i = (i + 1) & mask;
  if (x->slots[i].e == e)
    slot_delete(x, i);
  list_unlink(x, e);
  record_removal(s, x, e);
  entry_release(s, e);
}

/* ---- the public functions -------------------------------------------------- */

/* Create the record for key in x, where slot i is free for hash h. */
static void *entry_create(ks_store *s, ks_index *x, size_t i, uint64_t h, const void *key,
                          size_t keylen, int64_t now_ms) {
  if ((x->count + 1) * 4 > x->cap * 3) {
    if (grow(s, x) != 0)
      return NULL;
    (void)probe(x->slots, x->cap - 1, h, key, keylen, &i, 0);
  }
  size_t key_pad = key_pad_of(s, keylen);
  ks_entry *e = entry_alloc(s, key_pad);
  if (e == NULL)
    return NULL;
  e->touched_ms = now_ms;
  e->listed_ms = now_ms;
  e->keylen = (uint16_t)keylen;
  e->key_pad = (uint16_t)key_pad;
  e->cls = (uint8_t)class_of(key_pad);
  e->flags = E_NEW | E_APPENDED;
  s->n_appended++;
  memcpy(e->data, key, keylen);
  void *rec = entry_record(e);
  memset(rec, 0, s->record_size);
  list_append(x, e);
  x->slots[i].hash = h;
  x->slots[i].e = e;
  s->count++;
  s->bytes += stride_of(s, key_pad);
  return rec;
}

void *ks_store_get(ks_store *s, int64_t interval, const void *key, size_t keylen, int create,
                   int64_t now_ms) {
  if (keylen > KS_KEY_MAX)
    return NULL;
  if (!(s->hot_slots && s->hot_interval == interval) && index_find(s, interval) == NULL) {
    if (!create)
      return NULL;
    ks_index *x = index_add(s, interval);
    if (x == NULL)
      return NULL;
    size_t i = 0;
    uint64_t h = key_hash(key, keylen);
    (void)probe(x->slots, x->cap - 1, h, key, keylen, &i, 0);
    return entry_create(s, x, i, h, key, keylen, now_ms);
  }
  /* the index of interval is the hot one */
  uint64_t h = key_hash(key, keylen);
  size_t i = 0;
  long at = probe(s->hot_slots, s->hot_mask, h, key, keylen, &i, s->pf_lines);
  if (at >= 0) {
    ks_entry *e = s->hot_slots[at].e;
    if (interval != KS_STORE_NO_INTERVAL || s->ttl_ms <= 0 || now_ms - e->touched_ms <= s->ttl_ms) {
      if (now_ms > e->touched_ms)
        e->touched_ms = now_ms; /* renews the TTL */
      if (!(e->flags & (E_DIRTY | E_APPENDED)))
        mark_dirty(s, e, interval); /* the caller may write through the pointer */
      return entry_record(e);
    }
    /* idle past its TTL, not swept yet: it is gone (exact TTL on read) */
    ks_index *x = &s->ix[s->hot];
    slot_delete(x, (size_t)at);
    list_unlink(x, e);
    record_removal(s, x, e);
    entry_release(s, e);
    s->expired++;
    if (!create)
      return NULL;
    (void)probe(x->slots, x->cap - 1, h, key, keylen, &i, 0);
  }
  if (!create)
    return NULL;
  return entry_create(s, &s->ix[s->hot], i, h, key, keylen, now_ms);
}

int ks_store_load(ks_store *s, int64_t interval, const void *key, size_t keylen, int64_t touched_ms,
                  int64_t listed_ms, void **record) {
  *record = NULL;
  if (keylen > KS_KEY_MAX)
    return KS_ESTATE;
  ks_index *x = index_find(s, interval);
  if (x == NULL && (x = index_add(s, interval)) == NULL)
    return KS_ENOMEM;
  size_t i = 0;
  uint64_t h = key_hash(key, keylen);
  if (probe(x->slots, x->cap - 1, h, key, keylen, &i, 0) >= 0)
    return KS_ESTATE; /* the key twice */
  void *rec = entry_create(s, x, i, h, key, keylen, touched_ms);
  if (rec == NULL)
    return KS_ENOMEM;
  x->tail->listed_ms = listed_ms;
  *record = rec;
  return 0;
}

/* The entry of (interval, key), its index and slot; NULL when absent. */
static ks_entry *entry_find(ks_store *s, int64_t interval, const void *key, size_t keylen,
                            ks_index **xp, size_t *slot) {
  if (keylen > KS_KEY_MAX)
    return NULL;
  ks_index *x = index_find(s, interval);
  if (x == NULL)
    return NULL;
  size_t i = 0;
  long at = probe(x->slots, x->cap - 1, key_hash(key, keylen), key, keylen, &i, 0);
  if (at < 0)
    return NULL;
  *xp = x;
  *slot = (size_t)at;
  return x->slots[at].e;
}

int ks_store_remove(ks_store *s, int64_t interval, const void *key, size_t keylen) {
  ks_index *x;
  size_t at;
  ks_entry *e = entry_find(s, interval, key, keylen, &x, &at);
  if (e == NULL)
    return KS_ENOENT;
  slot_delete(x, at);
  list_unlink(x, e);
  record_removal(s, x, e);
  entry_release(s, e);
  return 0;
}

int ks_store_foreach(ks_store *s, int64_t interval, int64_t now_ms, ks_record_cb cb, void *ud) {
  ks_index *x = index_find(s, interval);
  if (x == NULL)
    return 0;
  int skip_idle = interval == KS_STORE_NO_INTERVAL && s->ttl_ms > 0;
  /* The callback gets a writable record: a record it changes is a change
   * since the baseline, found by comparing it with a copy (records not yet
   * marked only; a copy that cannot be made marks the record). */
  unsigned char small[512], *copy = small;
  if (s->record_size > sizeof small && (copy = malloc(s->record_size)) == NULL)
    copy = NULL;
  int rc = 0;
  for (ks_entry *e = x->head; e; e = e->next) {
    if (skip_idle && now_ms - e->touched_ms > s->ttl_ms)
      continue; /* expired, not swept yet: ks_store_get would find it gone */
    void *rec = entry_record(e);
    int watch = !(e->flags & (E_DIRTY | E_APPENDED));
    if (watch && copy)
      memcpy(copy, rec, s->record_size);
    rc = cb(ud, e->data, e->keylen, rec);
    if (watch && (copy == NULL || memcmp(copy, rec, s->record_size) != 0))
      mark_dirty(s, e, interval);
    if (rc)
      break;
  }
  if (copy != small)
    free(copy);
  return rc;
}

int ks_store_drop_interval(ks_store *s, int64_t interval) {
  ks_index *x = index_find(s, interval);
  if (x == NULL)
    return KS_ENOENT;
  if (!x->fresh) {
    if (grow_buf((void **)&s->drops, &s->cap_drops, s->n_drops + 1, sizeof *s->drops) != 0)
      s->lost = 1;
    else
      s->drops[s->n_drops++] = interval;
  }
  for (ks_entry *e = x->head, *n; e; e = n) {
    n = e->next;
    entry_release(s, e);
  }
  if (interval != KS_STORE_NO_INTERVAL)
    s->hint_cap = x->cap; /* the next interval will likely be as large */
  s->bytes -= x->cap * sizeof *x->slots;
  mem_put(s, x->slots, x->cap * sizeof *x->slots);
  *x = s->ix[--s->n_ix];
  s->hot_slots = NULL;
  return 0;
}

size_t ks_store_expire(ks_store *s, int64_t now_ms) {
  if (s->ttl_ms <= 0)
    return 0;
  ks_index *x = index_find(s, KS_STORE_NO_INTERVAL);
  if (x == NULL)
    return 0;
  /* The list is ordered by listed_ms (touching a record does not move it,
   * which keeps the hot path free of list surgery). Only entries listed
   * longer than the TTL ago are looked at: expired ones go, touched ones
   * move to the tail with listed_ms = touched_ms. Cost: O(expired + moved),
   * not O(records), per closed interval. */
  size_t n = 0;
  while (x->head && now_ms - x->head->listed_ms > s->ttl_ms) {
    ks_entry *e = x->head;
    if (now_ms - e->touched_ms > s->ttl_ms) {
      entry_destroy(s, x, e);
      n++;
    } else {
      list_unlink(x, e);
      e->listed_ms = e->touched_ms;
      list_append(x, e);
      mark_appended(s, e);
    }
  }
  s->expired += n;
  return n;
}

void ks_store_get_stats(const ks_store *s, ks_store_stats *out) {
  out->records = s->count;
  out->bytes = s->bytes;
  out->intervals = 0;
  for (size_t i = 0; i < s->n_ix; i++)
    if (s->ix[i].interval != KS_STORE_NO_INTERVAL)
      out->intervals++;
  out->expired = s->expired;
}

/* The position in s->ix of the interval following `after` in ascending
 * order (first: the lowest), or n_ix. Indexes are few (open and retained
 * intervals), so visits take them in interval order without allocating:
 * the order of s->ix depends on drops and restores, the visit's must not. */
static size_t next_index(const ks_store *s, int first, int64_t after) {
  size_t best = s->n_ix;
  for (size_t i = 0; i < s->n_ix; i++)
    if ((first || s->ix[i].interval > after) &&
        (best == s->n_ix || s->ix[i].interval < s->ix[best].interval))
      best = i;
  return best;
}

int ks_store_visit(const ks_store *s, ks_store_visit_cb cb, void *ud) {
  for (size_t i = next_index(s, 1, 0); i < s->n_ix; i = next_index(s, 0, s->ix[i].interval))
    for (ks_entry *e = s->ix[i].head; e; e = e->next) {
      int rc = cb(ud, s->ix[i].interval, e->data, e->keylen, entry_record(e), e->touched_ms,
                  e->listed_ms);
      if (rc)
        return rc;
    }
  return 0;
}

/* ---- incremental checkpoints ------------------------------------------------ */

/* The first entry of x's appended suffix (appends go to the tail, so the
 * entries appended since the baseline are the list's last ones), or NULL. */
static ks_entry *appended_suffix(const ks_index *x) {
  ks_entry *first = NULL;
  for (ks_entry *e = x->tail; e && (e->flags & E_APPENDED); e = e->prev)
    first = e;
  return first;
}

size_t ks_store_changes(const ks_store *s) {
  if (s->lost)
    return SIZE_MAX;
  return s->n_dirty + s->n_appended + s->n_tomb + s->n_drops;
}

int ks_store_visit_changes(const ks_store *s, ks_store_change_cb cb, void *ud) {
  if (s->lost)
    return KS_ESTATE;
  int rc = 0;
  for (size_t at = 0; rc == 0 && at < s->tomb_len;) {
    int64_t interval;
    uint16_t kl;
    memcpy(&interval, s->tomb + at, 8);
    memcpy(&kl, s->tomb + at + 8, 2);
    rc = cb(ud, KS_CHANGE_REMOVE, interval, s->tomb + at + 10, kl, NULL, 0, 0);
    at += 10u + kl;
  }
  for (size_t i = 0; rc == 0 && i < s->n_drops; i++)
    rc = cb(ud, KS_CHANGE_DROP, s->drops[i], NULL, 0, NULL, 0, 0);
  for (size_t i = 0; rc == 0 && i < s->len_dirty; i++) {
    ks_entry *e = s->dirty[i].e;
    if ((e->flags & (E_DIRTY | E_APPENDED)) == E_DIRTY)
      rc = cb(ud, KS_CHANGE_UPDATE, s->dirty[i].interval, e->data, e->keylen, entry_record(e),
              e->touched_ms, e->listed_ms);
  }
  for (size_t i = next_index(s, 1, 0); rc == 0 && i < s->n_ix;
       i = next_index(s, 0, s->ix[i].interval))
    for (ks_entry *e = appended_suffix(&s->ix[i]); rc == 0 && e; e = e->next)
      rc = cb(ud, (e->flags & E_NEW) ? KS_CHANGE_ADD : KS_CHANGE_MOVE, s->ix[i].interval, e->data,
              e->keylen, entry_record(e), e->touched_ms, e->listed_ms);
  return rc;
}

void ks_store_mark_clean(ks_store *s) {
  for (size_t i = 0; i < s->len_dirty; i++)
    if ((s->dirty[i].e->flags & (E_DIRTY | E_APPENDED)) == E_DIRTY)
      s->dirty[i].e->flags = 0;
  for (size_t i = 0; i < s->n_ix; i++) {
    for (ks_entry *e = s->ix[i].tail; e && (e->flags & E_APPENDED); e = e->prev)
      e->flags = 0;
    s->ix[i].fresh = 0;
  }
  s->len_dirty = s->n_dirty = s->tomb_len = s->n_tomb = s->n_drops = s->n_appended = 0;
  s->lost = 0;
  /* the buffers are kept for the next round, unless a burst made them large */
  if (s->cap_dirty > 65536) {
    free(s->dirty);
    s->dirty = NULL;
    s->cap_dirty = 0;
  }
  if (s->tomb_cap > (1u << 20)) {
    free(s->tomb);
    s->tomb = NULL;
    s->tomb_cap = 0;
  }
}

int ks_store_apply(ks_store *s, ks_change_kind kind, int64_t interval, const void *key,
                   size_t keylen, int64_t touched_ms, int64_t listed_ms, void **record) {
  if (record)
    *record = NULL;
  if (kind == KS_CHANGE_DROP)
    return ks_store_drop_interval(s, interval) == 0 ? 0 : KS_ESTATE;
  if (keylen > KS_KEY_MAX)
    return KS_ESTATE;
  if (kind == KS_CHANGE_ADD)
    return ks_store_load(s, interval, key, keylen, touched_ms, listed_ms, record);
  if (kind == KS_CHANGE_REMOVE)
    return ks_store_remove(s, interval, key, keylen) == 0 ? 0 : KS_ESTATE;
  ks_index *x;
  size_t at;
  ks_entry *e = entry_find(s, interval, key, keylen, &x, &at);
  if (e == NULL)
    return KS_ESTATE; /* the delta changes a record its base does not hold */
  switch (kind) {
  case KS_CHANGE_MOVE:
    list_unlink(x, e);
    list_append(x, e);
    mark_appended(s, e);
    break;
  case KS_CHANGE_UPDATE:
    if (!(e->flags & (E_DIRTY | E_APPENDED)))
      mark_dirty(s, e, interval);
    break;
  default:
    return KS_ESTATE;
  }
  e->touched_ms = touched_ms;
  e->listed_ms = listed_ms;
  *record = entry_record(e);
  return 0;
}
