#include "state.h"

#include <stdlib.h>
#include <string.h>

typedef struct ks_entry ks_entry;
struct ks_entry {
  uint64_t hash;
  int64_t interval;
  int64_t touched_ms;
  int64_t listed_ms; /* keyed: touched_ms when the entry last went to the list's tail */
  ks_entry *prev;    /* list of the entry's interval (or the keyed list), insertion order */
  ks_entry *next;
  uint16_t keylen;
  uint16_t key_pad;                  /* key bytes rounded up to 16 */
  _Alignas(16) unsigned char data[]; /* key, padding, record */
};

typedef struct ks_list {
  int64_t interval;
  ks_entry *head;
  ks_entry *tail;
  size_t count;
} ks_list;

typedef struct ks_slot {
  uint64_t hash; /* copy of e->hash, so probing touches no entry */
  ks_entry *e;   /* NULL: empty */
} ks_slot;

#define KS_KEY_CLASSES (KS_KEY_MAX / 16 + 1)

struct ks_store {
  uint32_t record_size;
  int64_t ttl_ms;
  int64_t clock_ms; /* highest now_ms seen: keyed foreach skips records idle past the TTL */
  ks_entry *free_lists[KS_KEY_CLASSES]; /* recycled entries by key_pad / 16 */
  ks_slot *slots;                       /* open addressing, linear probing */
  size_t cap;                           /* power of two */
  size_t count;
  size_t bytes;
  ks_list *lists; /* one per interval; keyed tables use one list */
  size_t n_lists;
  size_t cap_lists;
  uint64_t expired;
};

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

static uint64_t entry_hash(int64_t interval, const void *key, size_t keylen) {
  return ks_hash_bytes(key, keylen, (uint64_t)interval);
}

static void *entry_record(ks_entry *e) {
  return e->data + e->key_pad;
}

ks_store *ks_store_new(uint32_t record_size, int64_t ttl_ms) {
  ks_store *s = calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->record_size = record_size;
  s->ttl_ms = ttl_ms;
  s->cap = 64;
  s->slots = calloc(s->cap, sizeof *s->slots);
  if (s->slots == NULL) {
    free(s);
    return NULL;
  }
  s->bytes = s->cap * sizeof *s->slots;
  return s;
}

void ks_store_free(ks_store *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_lists; i++) {
    ks_entry *e = s->lists[i].head;
    while (e) {
      ks_entry *n = e->next;
      free(e);
      e = n;
    }
  }
  for (size_t c = 0; c < KS_KEY_CLASSES; c++) {
    ks_entry *e = s->free_lists[c];
    while (e) {
      ks_entry *n = e->next;
      free(e);
      e = n;
    }
  }
  free(s->lists);
  free(s->slots);
  free(s);
}

static ks_list *list_find(ks_store *s, int64_t interval, int create) {
  for (size_t i = 0; i < s->n_lists; i++)
    if (s->lists[i].interval == interval)
      return &s->lists[i];
  if (!create)
    return NULL;
  if (s->n_lists == s->cap_lists) {
    size_t nc = s->cap_lists ? s->cap_lists * 2 : 4;
    ks_list *nl = realloc(s->lists, nc * sizeof *nl);
    if (nl == NULL)
      return NULL;
    s->lists = nl;
    s->cap_lists = nc;
  }
  ks_list *l = &s->lists[s->n_lists++];
  l->interval = interval;
  l->head = l->tail = NULL;
  l->count = 0;
  return l;
}

static void list_unlink(ks_list *l, ks_entry *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    l->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    l->tail = e->prev;
  e->prev = e->next = NULL;
  l->count--;
}

static void list_append(ks_list *l, ks_entry *e) {
  e->next = NULL;
  e->prev = l->tail;
  if (l->tail)
    l->tail->next = e;
  else
    l->head = e;
  l->tail = e;
  l->count++;
}

static size_t probe_find(const ks_store *s, uint64_t h, int64_t interval, const void *key,
                         size_t keylen, int *found) {
  size_t mask = s->cap - 1;
  size_t i = (size_t)h & mask;
  for (;;) {
    ks_entry *e = s->slots[i].e;
    if (e == NULL) {
      *found = 0;
      return i;
    }
    if (s->slots[i].hash == h && e->interval == interval && e->keylen == keylen &&
        memcmp(e->data, key, keylen) == 0) {
      *found = 1;
      return i;
    }
    i = (i + 1) & mask;
  }
}

static int grow(ks_store *s) {
  size_t ncap = s->cap * 2;
  ks_slot *ns = calloc(ncap, sizeof *ns);
  if (ns == NULL)
    return KS_ENOMEM;
  for (size_t i = 0; i < s->cap; i++) {
    if (s->slots[i].e == NULL)
      continue;
    size_t j = (size_t)s->slots[i].hash & (ncap - 1);
    while (ns[j].e)
      j = (j + 1) & (ncap - 1);
    ns[j] = s->slots[i];
  }
  s->bytes += (ncap - s->cap) * sizeof *ns;
  free(s->slots);
  s->slots = ns;
  s->cap = ncap;
  return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void slot_delete(ks_store *s, size_t i) {
  size_t mask = s->cap - 1;
  size_t j = i;
  s->slots[i].e = NULL;
  for (;;) {
    j = (j + 1) & mask;
    if (s->slots[j].e == NULL)
      return;
    size_t home = (size_t)s->slots[j].hash & mask;
    /* move slot j back to i if its home is not in (i, j] cyclically */
    int between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      s->slots[i] = s->slots[j];
      s->slots[j].e = NULL;
      i = j;
    }
  }
}

static size_t entry_size(const ks_store *s, size_t key_pad) {
  return sizeof(ks_entry) + key_pad + s->record_size;
}

static void entry_destroy(ks_store *s, ks_list *l, ks_entry *e, int unlink_from_index);

void *ks_store_get(ks_store *s, int64_t interval, const void *key, size_t keylen, int create,
                   int64_t now_ms) {
  if (keylen > KS_KEY_MAX)
    return NULL;
  if (now_ms > s->clock_ms)
    s->clock_ms = now_ms;
  uint64_t h = entry_hash(interval, key, keylen);
  int found;
  size_t i = probe_find(s, h, interval, key, keylen, &found);
  if (found) {
    ks_entry *e = s->slots[i].e;
    if (interval == KS_STORE_NO_INTERVAL && s->ttl_ms > 0 && now_ms - e->touched_ms > s->ttl_ms) {
      /* idle past its TTL, not swept yet: it is gone (exact TTL on read) */
      slot_delete(s, i);
      entry_destroy(s, list_find(s, KS_STORE_NO_INTERVAL, 0), e, 0);
      s->expired++;
      if (!create)
        return NULL;
      i = probe_find(s, h, interval, key, keylen, &found);
    } else {
      if (now_ms > e->touched_ms)
        e->touched_ms = now_ms; /* renews the TTL */
      return entry_record(e);
    }
  }
  if (!create)
    return NULL;
  if ((s->count + 1) * 4 > s->cap * 3) {
    if (grow(s) != 0)
      return NULL;
    i = probe_find(s, h, interval, key, keylen, &found);
  }
  ks_list *l = list_find(s, interval, 1);
  if (l == NULL)
    return NULL;
  size_t key_pad = (keylen + 15u) & ~(size_t)15u;
  ks_entry *e = s->free_lists[key_pad / 16];
  if (e) {
    s->free_lists[key_pad / 16] = e->next;
    memset(e, 0, entry_size(s, key_pad));
  } else if ((e = calloc(1, entry_size(s, key_pad))) == NULL) {
    return NULL;
  }
  e->hash = h;
  e->interval = interval;
  e->touched_ms = now_ms;
  e->listed_ms = now_ms;
  e->keylen = (uint16_t)keylen;
  e->key_pad = (uint16_t)key_pad;
  memcpy(e->data, key, keylen);
  list_append(l, e);
  s->slots[i].hash = h;
  s->slots[i].e = e;
  s->count++;
  s->bytes += entry_size(s, key_pad);
  return entry_record(e);
}

static void entry_destroy(ks_store *s, ks_list *l, ks_entry *e, int unlink_from_index) {
  if (unlink_from_index) {
    int found;
    size_t i = probe_find(s, e->hash, e->interval, e->data, e->keylen, &found);
    if (found)
      slot_delete(s, i);
  }
  list_unlink(l, e);
  s->count--;
  s->bytes -= entry_size(s, e->key_pad);
  /* keep it for the next record of the same key size */
  e->next = s->free_lists[e->key_pad / 16];
  s->free_lists[e->key_pad / 16] = e;
}

int ks_store_remove(ks_store *s, int64_t interval, const void *key, size_t keylen) {
  if (keylen > KS_KEY_MAX)
    return KS_ENOENT;
  uint64_t h = entry_hash(interval, key, keylen);
  int found;
  size_t i = probe_find(s, h, interval, key, keylen, &found);
  if (!found)
    return KS_ENOENT;
  ks_entry *e = s->slots[i].e;
  slot_delete(s, i);
  entry_destroy(s, list_find(s, interval, 0), e, 0);
  return 0;
}

int ks_store_foreach(ks_store *s, int64_t interval, ks_record_cb cb, void *ud) {
  ks_list *l = list_find(s, interval, 0);
  if (l == NULL)
    return 0;
  int skip_idle = interval == KS_STORE_NO_INTERVAL && s->ttl_ms > 0;
  for (ks_entry *e = l->head; e; e = e->next) {
    if (skip_idle && s->clock_ms - e->touched_ms > s->ttl_ms)
      continue; /* expired, not swept yet */
    int rc = cb(ud, e->data, e->keylen, entry_record(e));
    if (rc)
      return rc;
  }
  return 0;
}

void ks_store_drop_interval(ks_store *s, int64_t interval) {
  ks_list *l = list_find(s, interval, 0);
  if (l == NULL)
    return;
  while (l->head)
    entry_destroy(s, l, l->head, 1);
  size_t idx = (size_t)(l - s->lists);
  s->lists[idx] = s->lists[--s->n_lists];
}

size_t ks_store_expire(ks_store *s, int64_t now_ms) {
  if (s->ttl_ms <= 0)
    return 0;
  if (now_ms > s->clock_ms)
    s->clock_ms = now_ms;
  ks_list *l = list_find(s, KS_STORE_NO_INTERVAL, 0);
  if (l == NULL)
    return 0;
  /* The list is ordered by listed_ms (touching a record does not move it,
   * which keeps the hot path free of list surgery). Only entries listed
   * longer than the TTL ago are looked at: expired ones go, touched ones
   * move to the tail with listed_ms = touched_ms. Cost: O(expired + moved),
   * not O(records), per closed interval. */
  size_t n = 0;
  while (l->head && now_ms - l->head->listed_ms > s->ttl_ms) {
    ks_entry *e = l->head;
    if (now_ms - e->touched_ms > s->ttl_ms) {
      entry_destroy(s, l, e, 1);
      n++;
    } else {
      list_unlink(l, e);
      e->listed_ms = e->touched_ms;
      list_append(l, e);
    }
  }
  s->expired += n;
  return n;
}

void ks_store_get_stats(const ks_store *s, ks_store_stats *out) {
  out->records = s->count;
  out->bytes = s->bytes;
  out->intervals = 0;
  for (size_t i = 0; i < s->n_lists; i++)
    if (s->lists[i].interval != KS_STORE_NO_INTERVAL)
      out->intervals++;
  out->expired = s->expired;
}
