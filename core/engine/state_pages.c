#include "state_pages.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
  return calloc(1, sizeof(ks_pages));
}

void ks_pages_free(ks_pages *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n_maps; i++)
    munmap(p->maps[i].addr, p->maps[i].len);
  free(p->maps);
  free(p);
}

size_t ks_pages_mapped(const ks_pages *p) {
  return p ? p->mapped : 0;
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
    ks_pages_put(p, p->bump, b);
    p->bump += b;
  }
}

void *ks_pages_get(ks_pages *p, size_t n, int zero) {
  if (p == NULL || !ks_pages_serves(n))
    return NULL;
  unsigned k = log2_of(n);
  free_block *f = p->free[k];
  if (f) {
    p->free[k] = f->next;
    if (zero)
      memset(f, 0, n);
    else
      f->next = NULL; /* no stale link in a block handed out */
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
  unsigned k = log2_of(n);
  free_block *f = block;
  f->next = p->free[k];
  p->free[k] = f;
}
