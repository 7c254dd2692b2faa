/*
 * sim_world — a simulated input (the traffic simulator) as encoded Kafka
 * messages with their topics and offsets, for tests that feed an engine
 * and cut, snapshot and restore it.
 *
 * Ownership: sim_world_new() returns a world the caller frees with
 * sim_world_free(); its messages and topic names live as long as it.
 */
#ifndef KS_SIM_WORLD_H
#define KS_SIM_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "sim_model.h"

typedef struct sim_msg {
  uint32_t topic; /* index into topics */
  int64_t offset;
  uint8_t *buf;
  size_t len;
} sim_msg;

typedef struct sim_world {
  sim_msg *msgs;
  size_t n;
  const char *topics[KS_SIM_NTOPICS];
} sim_world;

/* One tenant's events for duration_ms, all six topics (fails the test on error). */
sim_world *sim_world_new(uint64_t seed, int64_t duration_ms);
/* The same for `tenants` tenants from `start` (UTC, "2026-11-23T22:00:00Z";
 * NULL: the simulator's default). */
sim_world *sim_world_new_at(uint64_t seed, int tenants, const char *start, int64_t duration_ms);
void sim_world_free(sim_world *w);

/* Messages [from, to) into task 0 of e; each must be accepted (rc >= 0). */
void sim_world_feed(ks_engine *e, const sim_world *w, size_t from, size_t to);

#endif
