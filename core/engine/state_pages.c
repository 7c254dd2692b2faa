#include "state_pages.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <uv.h>

#define HUGE_2M ((size_t)2 * 1024 * 1024)
#define N_CLASS 48 /* log2 sizes */

/* A free block: the link lives in the block itself. */
typedef struct free_block {
  struct free_block *next;
} free_block;

typedef struct mapping {
  void *addr;
  size_t len;
} mapping;

struct ks_pages {
  uv_mutex_t lock;           /* the stores of tasks on different threads (processing.threads) */
  unsigned char *bump, *end; /* the region being carved */
  free_block *free[N_CLASS]; /* returned blocks by log2 size */
  mapping *maps;             /* every mmap, for ks_pages_free */
  size_t n_maps, cap_maps;
  size_t mapped;
};

static unsigned log2_of(size_t n) {
  unsigned k = 0;
  while (((size_t)1 << k) < n)
    k++;
  return k;
}

int ks_pages_serves(size_t n) {
  return n >= KS_PAGES_MIN && (n & (n - 1)) == 0 && log2_of(n) < N_CLASS;
}

ks_pages *ks_pages_new(void) {
  ks_pages *p = calloc(1, sizeof(ks_pages));
  if (p && uv_mutex_init(&p->lock) != 0) {
    free(p);
    return NULL;
  }
  return p;
}

void ks_pages_free(ks_pages *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n_maps; i++)
    munmap(p->maps[i].addr, p->maps[i].len);
  free(p->maps);
  uv_mutex_destroy(&p->lock);
  free(p);
}

size_t ks_pages_mapped(const ks_pages *p) {
  if (p == NULL)
    return 0;
  uv_mutex_lock((uv_mutex_t *)&p->lock);
  size_t n = p->mapped;
  uv_mutex_unlock((uv_mutex_t *)&p->lock);
  return n;
}

static void put_locked(ks_pages *p, void *block, unsigned k) {
  free_block *f = block;
  f->next = p->free[k];
  p->free[k] = f;
}

/* Map len bytes (a multiple of 2 MiB) aligned to 2 MiB, huge-page advised. */
static void *map_aligned(ks_pages *p, size_t len) {
  if (p->n_maps == p->cap_maps) {
    size_t nc = p->cap_maps ? p->cap_maps * 2 : 16;
    mapping *nm = realloc(p->maps, nc * sizeof *nm);
    if (nm == NULL)
      return NULL;
    p->maps = nm;
    p->cap_maps = nc;
  }
  size_t over = len + HUGE_2M;
  unsigned char *raw =
      mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED)
    return NULL;
  unsigned char *a = (unsigned char *)(((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
  size_t head = (size_t)(a - raw), tail = over - head - len;
  if (head)
    munmap(raw, head);
  if (tail)
    munmap(a + len, tail);
#ifdef MADV_HUGEPAGE
  (void)madvise(a, len, MADV_HUGEPAGE); /* advice: refused where THP is off */
#endif
  p->maps[p->n_maps++] = (mapping){a, len};
  p->mapped += len;
  return a;
}

/* Hand [bump, upto) to the free lists as the largest aligned blocks that
 * fit (bump and upto are multiples of KS_PAGES_MIN). */
static void spill(ks_pages *p, unsigned char *upto) {
  while (p->bump && p->bump + KS_PAGES_MIN <= upto) {
    size_t left = (size_t)(upto - p->bump), b = KS_PAGES_MIN;
    while (b * 2 <= left && b * 2 <= HUGE_2M && ((uintptr_t)p->bump & (b * 2 - 1)) == 0)
      b *= 2;
    put_locked(p, p->bump, log2_of(b));
    p->bump += b;
  }
}

static void *get_locked(ks_pages *p, size_t n, int *reused);

void *ks_pages_get(ks_pages *p, size_t n, int zero) {
  if (p == NULL || !ks_pages_serves(n))
    return NULL;
  int reused = 0;
  uv_mutex_lock(&p->lock);
  void *b = get_locked(p, n, &reused);
  uv_mutex_unlock(&p->lock);
  if (b && reused && zero)
    memset(b, 0, n); /* ours alone now: zeroed outside the lock */
  return b;
}

/* A block of n bytes; *reused: one given back before (fresh memory is zero). */
static void *get_locked(ks_pages *p, size_t n, int *reused) {
  unsigned k = log2_of(n);
  free_block *f = p->free[k];
  if (f) {
    p->free[k] = f->next;
    f->next = NULL; /* no stale link in a block handed out */
    *reused = 1;
    return f;
  }
  if (n > KS_PAGES_REGION / 2) /* large: a mapping of its own (fresh, so zero) */
    return map_aligned(p, (n + HUGE_2M - 1) & ~(HUGE_2M - 1));
  size_t align = n < HUGE_2M ? n : HUGE_2M;
  unsigned char *at =
      p->bump ? (unsigned char *)(((uintptr_t)p->bump + align - 1) & ~(uintptr_t)(align - 1))
              : NULL;
  if (at == NULL || at + n > p->end) {
    spill(p, p->end); /* the rest of this region */
    unsigned char *r = map_aligned(p, KS_PAGES_REGION);
    if (r == NULL)
      return NULL;
    p->bump = r;
    p->end = r + KS_PAGES_REGION;
    at = r;
  }
  spill(p, at); /* the alignment gap */
  p->bump = at + n;
  return at; /* never handed out before: still zero */
}

void ks_pages_put(ks_pages *p, void *block, size_t n) {
  if (p == NULL || block == NULL || !ks_pages_serves(n))
    return;
  uv_mutex_lock(&p->lock);
  put_locked(p, block, log2_of(n));
  uv_mutex_unlock(&p->lock);
}
