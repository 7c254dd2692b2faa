/*
 * arena — a bump-pointer allocator for decoding one message at a time.
 *
 * protobuf-c allocates every sub-message and string of a decoded Event
 * through a ProtobufCAllocator; pointing it at an arena that is reset before
 * each message removes every malloc/free from the hot path.
 *
 * Ownership: the caller owns the ks_arena (ks_arena_init/ks_arena_free). It
 * owns its chunks. Memory handed out is valid until the next ks_arena_reset.
 */
#ifndef KS_ARENA_H
#define KS_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct ks_arena_chunk ks_arena_chunk;

typedef struct ks_arena {
  ks_arena_chunk *head;  /* chunk being filled */
  ks_arena_chunk *spare; /* chunks kept for reuse after a reset */
  size_t chunk_size;
  size_t used_total;     /* bytes handed out since the last reset */
  size_t high_water;     /* largest used_total seen (brought up to date by each reset) */
  ProtobufCAllocator pb; /* allocator view for protobuf-c */
} ks_arena;

/* chunk_size 0 picks 16 KiB. Returns 0 or KS_ENOMEM. */
int ks_arena_init(ks_arena *a, size_t chunk_size);
void ks_arena_free(ks_arena *a);

/* 16-byte aligned memory, or NULL when the system is out of memory. */
void *ks_arena_alloc(ks_arena *a, size_t n);

/* Forget everything handed out; keep the chunks for reuse. */
void ks_arena_reset(ks_arena *a);

#endif
