#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

#include "kpistream/plugin.h"

struct ks_arena_chunk {
  ks_arena_chunk *next;
  size_t cap;
  size_t used;
  _Alignas(16) unsigned char mem[];
};

static ks_arena_chunk *chunk_new(size_t cap) {
  ks_arena_chunk *c = malloc(sizeof *c + cap);
  if (c == NULL)
    return NULL;
  c->next = NULL;
  c->cap = cap;
  c->used = 0;
  return c;
}

/* protobuf-c calls this for every sub-message and string (~8 times per
 * event): the common case is a bump in the current chunk, inlined here. */
static void *pb_alloc(void *ud, size_t n) {
  ks_arena *a = ud;
  ks_arena_chunk *c = a->head;
  size_t need = (n + 15u) & ~(size_t)15u;
  if (c != NULL && need >= n && c->cap - c->used >= need) {
    void *p = c->mem + c->used;
    c->used += need;
    a->used_total += need;
    return p;
  }
  return ks_arena_alloc(a, n);
}
static void pb_free(void *ud, void *p) {
  (void)ud;
  (void)p; /* released wholesale by ks_arena_reset */
}

int ks_arena_init(ks_arena *a, size_t chunk_size) {
  a->chunk_size = chunk_size ? chunk_size : 16384;
  a->spare = NULL;
  a->used_total = 0;
  a->high_water = 0;
  a->head = chunk_new(a->chunk_size);
  a->pb.alloc = pb_alloc;
  a->pb.free = pb_free;
  a->pb.allocator_data = a;
  return a->head ? 0 : KS_ENOMEM;
}

static void chain_free(ks_arena_chunk *c) {
  while (c) {
    ks_arena_chunk *n = c->next;
    free(c);
    c = n;
  }
}

void ks_arena_free(ks_arena *a) {
  chain_free(a->head);
  chain_free(a->spare);
  a->head = a->spare = NULL;
}

/* high_water is brought up to date here and in ks_arena_reset (the fast
 * path in pb_alloc leaves it to them). */
void *ks_arena_alloc(ks_arena *a, size_t n) {
  size_t need = (n + 15u) & ~(size_t)15u;
  if (need < n)
    return NULL; /* overflow */
  ks_arena_chunk *c = a->head;
  if (c == NULL || c->cap - c->used < need) {
    ks_arena_chunk *fresh = NULL;
    if (need <= a->chunk_size && a->spare) {
      fresh = a->spare;
      a->spare = fresh->next;
      fresh->used = 0;
    } else {
      fresh = chunk_new(need > a->chunk_size ? need : a->chunk_size);
      if (fresh == NULL)
        return NULL;
    }
    fresh->next = c;
    a->head = fresh;
    c = fresh;
  }
  void *p = c->mem + c->used;
  c->used += need;
  a->used_total += need;
  if (a->used_total > a->high_water)
    a->high_water = a->used_total;
  return p;
}

void ks_arena_reset(ks_arena *a) {
  if (a->used_total > a->high_water)
    a->high_water = a->used_total;
  ks_arena_chunk *c = a->head;
  if (c == NULL)
    return;
  /* keep the newest chunk as head; move the rest (standard-size ones) to spare */
  ks_arena_chunk *rest = c->next;
  c->next = NULL;
  c->used = 0;
  while (rest) {
    ks_arena_chunk *n = rest->next;
    if (rest->cap == a->chunk_size) {
      rest->next = a->spare;
      a->spare = rest;
    } else {
      free(rest);
    }
    rest = n;
  }
  if (c->cap != a->chunk_size) {
    /* an oversized head: swap in a standard chunk */
    free(c);
    a->head = NULL;
    if (a->spare) {
      a->head = a->spare;
      a->spare = a->head->next;
      a->head->next = NULL;
      a->head->used = 0;
    }
  }
  a->used_total = 0;
}
