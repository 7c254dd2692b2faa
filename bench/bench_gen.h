/*
 * bench_gen — a deterministic, realistic contact-center event stream for the
 * benchmark, pre-encoded as kpistream.v1.Event protobuf messages.
 *
 * Contacts arrive as a Poisson process over several tenants, channels
 * (voice, chat, email) and queues; each contact's lifecycle (created,
 * queued, answered or abandoned, agent responses, hold, transfer,
 * escalation, ended, after-contact work ended, resolved, survey) is
 * scheduled on a min-heap and emitted in event-time order, so event time
 * advances monotonically across the whole stream and intervals close. Agent
 * state changes (aux/break and back to available) and survey responses are
 * mixed in. Same seed, same bytes.
 *
 * Messages go to five co-partitioned input topics by kind (see
 * bg_topic_name); the Kafka key is the tenant name and the partition is
 * tenant index mod partitions, identical for every topic.
 *
 * Ownership: bg_generate fills a caller-owned bg_msgs whose arrays it owns;
 * bg_free releases them.
 */
#ifndef KS_BENCH_GEN_H
#define KS_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#define BG_N_TOPICS   5 /* events.voice, events.email, events.chat, events.agent, events.feedback */
#define BG_N_BODIES   64 /* body case numbers are < 64 */
#define BG_TENANT_MAX 16 /* bytes of a tenant name, NUL included */

typedef struct bg_msgs {
  uint8_t *data;    /* all encoded messages, back to back */
  uint64_t *off;    /* n + 1 offsets into data: message i is data[off[i] .. off[i+1]) */
  uint16_t *tenant; /* tenant index of message i */
  uint8_t *topic;   /* input topic index of message i (0 .. BG_N_TOPICS-1) */
  size_t n;
  int n_tenants;
  char (*tenant_name)[BG_TENANT_MAX];
  int64_t t_first_ms, t_last_ms; /* event time of the first and last message */
  uint64_t per_topic[BG_N_TOPICS];
  uint64_t per_body[BG_N_BODIES];
  uint64_t contacts; /* contacts started */
} bg_msgs;

/* Generate n messages for n_tenants tenants. Returns 0, or -1 with errstr. */
int bg_generate(bg_msgs *m, size_t n, int n_tenants, uint64_t seed, char *errstr,
                size_t errstr_size);
void bg_free(bg_msgs *m);

/* Input topic names, by index. */
const char *bg_topic_name(unsigned topic);

static inline const uint8_t *bg_msg(const bg_msgs *m, size_t i, size_t *len) {
  *len = (size_t)(m->off[i + 1] - m->off[i]);
  return m->data + m->off[i];
}

#endif
