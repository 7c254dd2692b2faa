/*
 * state_pages — large, huge-page backed blocks for the state stores.
 *
 * A task's keyed state (open contacts, customers) is hundreds of MB spread
 * over 4 KiB pages; every lookup then also misses the TLB, and in a VM each
 * TLB miss is a two-dimensional page walk. The stores of an engine take
 * their 64 KiB entry slabs and their large index arrays from here instead:
 * regions of KS_PAGES_REGION bytes, 2 MiB aligned, marked MADV_HUGEPAGE (the
 * kernel backs them with 2 MiB pages where transparent huge pages are
 * "always" or "madvise", Debian's default), carved into power-of-two blocks.
 * A returned block is kept for reuse by the next request of its size; the
 * regions are unmapped only by ks_pages_free. Where huge pages are off the
 * blocks are ordinary pages and everything still works.
 *
 * Ownership: the engine owns the ks_pages and frees it after every store;
 * a store owns the blocks it got until it puts them back. Thread-safe (a
 * lock): the stores of tasks on different threads (processing.threads) share it.
 */
#ifndef KS_STATE_PAGES_H
#define KS_STATE_PAGES_H

#include <stddef.h>

#define KS_PAGES_MIN    ((size_t)64 * 1024)        /* smallest block served */
#define KS_PAGES_REGION ((size_t)32 * 1024 * 1024) /* bytes mapped at a time */

typedef struct ks_pages ks_pages;

/* A new, empty page source; NULL when out of memory. Maps nothing yet. */
ks_pages *ks_pages_new(void);
/* Unmap every region. Blocks still held by stores become invalid. */
void ks_pages_free(ks_pages *p);

/* Is n a size ks_pages_get serves (a power of two >= KS_PAGES_MIN)? */
int ks_pages_serves(size_t n);

/* A block of n bytes (ks_pages_serves(n)), aligned to n up to 2 MiB,
 * zero-filled when zero != 0 (a reused block holds what it held before);
 * NULL when out of memory. Blocks larger than half a region are mapped on
 * their own. */
void *ks_pages_get(ks_pages *p, size_t n, int zero);
/* Give back a block of n bytes got from ks_pages_get. */
void ks_pages_put(ks_pages *p, void *block, size_t n);

/* Bytes mapped (regions and large blocks), for diagnostics. */
size_t ks_pages_mapped(const ks_pages *p);

#endif
