#include "bench_gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/v1/events.pb-c.h"

/* 2026-11-23T08:00:00Z: the simulated day starts at 08:00 UTC. */
#define BG_T0_MS INT64_C(1795420800000)
/* Agents by skill: per tenant 44 voice, 20 chat, 16 email agents; each
 * serves two of the four queues of its channel. */
#define BG_AGENTS_PER_TENANT    80
#define BG_VOICE_AGENTS         44
#define BG_CHAT_AGENTS          20
#define BG_EMAIL_AGENTS         16
#define BG_CUSTOMERS_PER_TENANT 20000
#define BG_QUEUES               4
/* Contacts per second of event time, per tenant (~900 an hour). */
#define BG_CONTACT_RATE_PER_TENANT 0.25
/* Agent aux breaks per contact (each yields two agent_state events). */
#define BG_BREAKS_PER_CONTACT 0.06

static const char *const topic_names[BG_N_TOPICS] = {"events.voice", "events.email", "events.chat",
                                                     "events.agent", "events.feedback"};
static const char *const queue_names[BG_QUEUES] = {"sales", "support", "billing", "retention"};
static const char *const dispositions[] = {"info-given", "sale", "fixed", "follow-up", "refund"};
static const char *const reasons[] = {"billing-question", "order-status", "technical-issue",
                                      "cancel-request",   "new-purchase", "address-change"};

const char *bg_topic_name(unsigned topic) {
  return topic < BG_N_TOPICS ? topic_names[topic] : NULL;
}

/* ---- deterministic randomness (splitmix64) ------------------------------- */

typedef struct bg_rng {
  uint64_t s;
} bg_rng;

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static uint64_t rng_next(bg_rng *r) {
  r->s += UINT64_C(0x9e3779b97f4a7c15);
  return mix64(r->s);
}

static double rng_unit(bg_rng *r) {
  return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static uint32_t rng_below(bg_rng *r, uint32_t n) {
  return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Exponentially distributed milliseconds with the given mean (seconds). */
static int64_t rng_exp_ms(bg_rng *r, double mean_s) {
  return (int64_t)(-log(1.0 - rng_unit(r)) * mean_s * 1000.0);
}

/* ---- lifecycle steps on a min-heap ---------------------------------------- */

enum step_kind {
  K_CREATED,
  K_QUEUED,
  K_ANSWERED,
  K_RESPONSE,
  K_HOLD_START,
  K_HOLD_END,
  K_TRANSFER,
  K_ESCALATE,
  K_ABANDON,
  K_ENDED,
  K_ACW_ENDED,
  K_RESOLVED,
  K_SURVEY,
  K_AGENT_AVAILABLE, /* after a contact's wrap-up */
  K_AGENT_AUX,       /* a break starts (ref = tenant << 16 | agent) */
  K_AGENT_BACK       /* the break ends */
};

typedef struct step {
  int64_t t;
  uint64_t seq; /* insertion order: ties keep a deterministic order */
  uint32_t ref; /* contact slot, or tenant << 16 | agent */
  uint8_t kind;
  uint8_t arg;
} step;

typedef struct contact {
  uint32_t id;
  uint32_t customer;
  uint16_t tenant;
  uint16_t agent;
  uint8_t channel;
  uint8_t queue;
  uint8_t resolved;
  uint8_t pending; /* steps of this contact still on the heap */
} contact;

typedef struct gen {
  bg_rng rng;
  bg_msgs *m;
  size_t cap_msgs;
  size_t cap_data;
  step *heap;
  size_t n_heap, cap_heap;
  uint64_t seq;
  contact *contacts;
  size_t n_contacts, cap_contacts;
  uint32_t *free_slots;
  size_t n_free;
  uint32_t next_contact_id;
  uint64_t next_event_id;
} gen;

static int less(const step *a, const step *b) {
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(gen *g, int64_t t, uint32_t ref, int kind, int arg) {
  if (g->n_heap == g->cap_heap) {
    size_t nc = g->cap_heap ? g->cap_heap * 2 : 4096;
    step *nh = realloc(g->heap, nc * sizeof *nh);
    if (nh == NULL)
      return -1;
    g->heap = nh;
    g->cap_heap = nc;
  }
  step s = {t, g->seq++, ref, (uint8_t)kind, (uint8_t)arg};
  size_t i = g->n_heap++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!less(&s, &g->heap[p]))
      break;
    g->heap[i] = g->heap[p];
    i = p;
  }
  g->heap[i] = s;
  return 0;
}

static step heap_pop(gen *g) {
  step top = g->heap[0];
  step last = g->heap[--g->n_heap];
  size_t i = 0, n = g->n_heap;
  for (;;) {
    size_t l = 2 * i + 1;
    if (l >= n)
      break;
    size_t c = (l + 1 < n && less(&g->heap[l + 1], &g->heap[l])) ? l + 1 : l;
    if (!less(&g->heap[c], &last))
      break;
    g->heap[i] = g->heap[c];
    i = c;
  }
  if (n)
    g->heap[i] = last;
  return top;
}

static int contact_new(gen *g, uint32_t *slot) {
  if (g->n_free) {
    *slot = g->free_slots[--g->n_free];
    return 0;
  }
  if (g->n_contacts == g->cap_contacts) {
    size_t nc = g->cap_contacts ? g->cap_contacts * 2 : 4096;
    contact *ncs = realloc(g->contacts, nc * sizeof *ncs);
    uint32_t *nf = realloc(g->free_slots, nc * sizeof *nf);
    if (ncs)
      g->contacts = ncs;
    if (nf)
      g->free_slots = nf;
    if (ncs == NULL || nf == NULL)
      return -1;
    g->cap_contacts = nc;
  }
  *slot = (uint32_t)g->n_contacts++;
  return 0;
}

static int cpush(gen *g, uint32_t slot, int64_t t, int kind, int arg) {
  g->contacts[slot].pending++;
  return heap_push(g, t, slot, kind, arg);
}

/* An agent with the skill: agent j of a channel serves queues j % 4 and
 * (j + 1) % 4. */
static uint16_t pick_agent(bg_rng *r, int channel, unsigned queue) {
  unsigned lo = 0, n = BG_VOICE_AGENTS;
  if (channel == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT) {
    lo = BG_VOICE_AGENTS;
    n = BG_CHAT_AGENTS;
  } else if (channel == KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL) {
    lo = BG_VOICE_AGENTS + BG_CHAT_AGENTS;
    n = BG_EMAIL_AGENTS;
  }
  for (;;) {
    unsigned j = rng_below(r, n);
    if (j % BG_QUEUES == queue || (j + 1) % BG_QUEUES == queue)
      return (uint16_t)(lo + j);
  }
}

/* Schedule one contact's whole lifecycle from its arrival at t0. */
static int start_contact(gen *g, int64_t t0) {
  bg_rng *r = &g->rng;
  uint32_t slot;
  if (contact_new(g, &slot) != 0)
    return -1;
  contact *c = &g->contacts[slot];
  memset(c, 0, sizeof *c);
  c->id = g->next_contact_id++;
  c->tenant = (uint16_t)rng_below(r, (uint32_t)g->m->n_tenants);
  c->customer = rng_below(r, BG_CUSTOMERS_PER_TENANT);
  c->queue = (uint8_t)rng_below(r, BG_QUEUES);
  double u = rng_unit(r);
  int ch = u < 0.55 ? KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
                    : (u < 0.80 ? KPISTREAM__V1__CHANNEL__CHANNEL_CHAT
                                : KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL);
  c->channel = (uint8_t)ch;
  c->agent = pick_agent(r, ch, c->queue);
  c->resolved = rng_unit(r) < 0.8;
  g->m->contacts++;
  int voice = ch == KPISTREAM__V1__CHANNEL__CHANNEL_VOICE;
  int chat = ch == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT;
  int rc = 0;
  int64_t t = t0;
  if (!voice) {
    rc |= cpush(g, slot, t, K_CREATED, 0);
    t += chat ? 1000 + rng_below(r, 4000) : 2000 + rng_below(r, 30000);
  }
  rc |= cpush(g, slot, t, K_QUEUED, 0);
  double p_abandon = voice ? 0.12 : (chat ? 0.08 : 0.02);
  if (rng_unit(r) < p_abandon) {
    t += 3000 + rng_exp_ms(r, voice ? 50 : (chat ? 90 : 1800));
    return rc | cpush(g, slot, t, K_ABANDON, 0);
  }
  t += voice ? rng_exp_ms(r, 25) : (chat ? rng_exp_ms(r, 45) : 120000 + rng_exp_ms(r, 1200));
  rc |= cpush(g, slot, t, K_ANSWERED, 0);
  if (voice) {
    int64_t talk = 20000 + rng_exp_ms(r, 200);
    if (rng_unit(r) < 0.30) {
      int64_t hs = t + talk / 4 + rng_below(r, (uint32_t)(talk / 3));
      int64_t he = hs + 10000 + rng_exp_ms(r, 50);
      rc |= cpush(g, slot, hs, K_HOLD_START, 0);
      rc |= cpush(g, slot, he, K_HOLD_END, 0);
      talk += he - hs;
    }
    if (rng_unit(r) < 0.06)
      rc |= cpush(g, slot, t + talk - 2000, K_TRANSFER, (int)rng_below(r, BG_QUEUES));
    t += talk;
  } else {
    int n_resp = chat ? 1 + (int)rng_below(r, 4) : 1 + (rng_unit(r) < 0.3);
    for (int i = 0; i < n_resp; i++) {
      t += chat ? 15000 + rng_exp_ms(r, 50) : 60000 + rng_exp_ms(r, 360);
      /* a bot's first reply now and then (never a first response) */
      rc |= cpush(g, slot, t, K_RESPONSE, i == 0 && chat && rng_unit(r) < 0.05);
    }
    if (rng_unit(r) < 0.03) {
      t += 1000;
      rc |= cpush(g, slot, t, K_ESCALATE, 0);
    }
    t += chat ? 20000 + rng_exp_ms(r, 60) : 30000;
  }
  rc |= cpush(g, slot, t, K_ENDED, rng_unit(r) < 0.6);
  t += voice ? 5000 + rng_exp_ms(r, 40) : 3000 + rng_exp_ms(r, 25);
  rc |= cpush(g, slot, t, K_ACW_ENDED, (int)rng_below(r, 6));
  if (!voice && c->resolved && rng_unit(r) < 0.6)
    rc |= cpush(g, slot, t + 1000, K_RESOLVED, 0);
  if (rng_unit(r) < 0.15)
    rc |= cpush(g, slot, t + 30000 + rng_exp_ms(r, 600), K_SURVEY, (int)rng_below(r, 10));
  if (rng_unit(r) < 0.35)
    rc |= cpush(g, slot, t + 1, K_AGENT_AVAILABLE, 0);
  return rc;
}

static int start_break(gen *g, int64_t t) {
  bg_rng *r = &g->rng;
  uint32_t tenant = rng_below(r, (uint32_t)g->m->n_tenants);
  uint32_t agent = rng_below(r, BG_AGENTS_PER_TENANT);
  uint32_t ref = tenant << 16 | agent;
  int reason = 1 + (int)rng_below(r, 5); /* break, lunch, training, meeting, coaching */
  return heap_push(g, t, ref, K_AGENT_AUX, reason) |
         heap_push(g, t + 300000 + rng_exp_ms(r, 900), ref, K_AGENT_BACK, 0);
}

/* ---- encoding ------------------------------------------------------------- */

static int append(gen *g, const Kpistream__V1__Event *ev, unsigned topic, unsigned tenant) {
  bg_msgs *m = g->m;
  size_t len = kpistream__v1__event__get_packed_size(ev);
  uint64_t at = m->off[m->n];
  if (at + len > g->cap_data) {
    size_t nc = g->cap_data * 2;
    while (at + len > nc)
      nc *= 2;
    uint8_t *nd = realloc(m->data, nc);
    if (nd == NULL)
      return -1;
    m->data = nd;
    g->cap_data = nc;
  }
  kpistream__v1__event__pack(ev, m->data + at);
  m->tenant[m->n] = (uint16_t)tenant;
  m->topic[m->n] = (uint8_t)topic;
  m->off[m->n + 1] = at + len;
  if (m->n == 0)
    m->t_first_ms = ev->event_time_ms;
  m->t_last_ms = ev->event_time_ms;
  m->per_topic[topic]++;
  m->per_body[ev->body_case]++;
  m->n++;
  return 0;
}

static unsigned channel_topic(int channel) {
  switch (channel) {
  case KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL:
    return 1;
  case KPISTREAM__V1__CHANNEL__CHANNEL_CHAT:
    return 2;
  default:
    return 0;
  }
}

static int emit_step(gen *g, const step *s) {
  bg_msgs *m = g->m;
  Kpistream__V1__Event ev = KPISTREAM__V1__EVENT__INIT;
  char event_id[20], contact_id[16], customer_id[16], agent_id[16], team[16];
  snprintf(event_id, sizeof event_id, "%016llx",
           (unsigned long long)mix64(g->next_event_id++ ^ UINT64_C(0x6b73)));
  ev.event_id = event_id;
  ev.event_time_ms = s->t;

  if (s->kind == K_AGENT_AUX || s->kind == K_AGENT_BACK) {
    unsigned tenant = s->ref >> 16, agent = s->ref & 0xffff;
    Kpistream__V1__AgentStateChanged st = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
    snprintf(agent_id, sizeof agent_id, "agent-%03u", agent);
    snprintf(team, sizeof team, "team-%u", agent / 10);
    ev.tenant = m->tenant_name[tenant];
    ev.agent_id = agent_id;
    ev.team = team;
    st.state = s->kind == K_AGENT_AUX ? KPISTREAM__V1__AGENT_STATE__AGENT_AUX
                                      : KPISTREAM__V1__AGENT_STATE__AGENT_AVAILABLE;
    st.aux_reason = s->kind == K_AGENT_AUX ? (Kpistream__V1__AuxReason)s->arg
                                           : KPISTREAM__V1__AUX_REASON__AUX_UNSPECIFIED;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_STATE;
    ev.agent_state = &st;
    return append(g, &ev, 3, tenant);
  }

  contact *c = &g->contacts[s->ref];
  snprintf(contact_id, sizeof contact_id, "c-%08x", c->id);
  snprintf(customer_id, sizeof customer_id, "cust-%05u", c->customer);
  snprintf(agent_id, sizeof agent_id, "agent-%03u", c->agent);
  snprintf(team, sizeof team, "team-%u", c->agent / 10);
  ev.tenant = m->tenant_name[c->tenant];
  ev.channel = (Kpistream__V1__Channel)c->channel;
  ev.contact_id = contact_id;
  ev.customer_id = customer_id;
  ev.queue = (char *)queue_names[c->queue];
  int has_agent = s->kind != K_CREATED && s->kind != K_QUEUED && s->kind != K_ABANDON;
  if (has_agent)
    ev.agent_id = agent_id;
  unsigned topic = channel_topic(c->channel);

  Kpistream__V1__ContactCreated created = KPISTREAM__V1__CONTACT_CREATED__INIT;
  Kpistream__V1__ContactQueued queued = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  Kpistream__V1__ContactAnswered answered = KPISTREAM__V1__CONTACT_ANSWERED__INIT;
  Kpistream__V1__AgentResponse resp = KPISTREAM__V1__AGENT_RESPONSE__INIT;
  Kpistream__V1__HoldStarted hs = KPISTREAM__V1__HOLD_STARTED__INIT;
  Kpistream__V1__HoldEnded he = KPISTREAM__V1__HOLD_ENDED__INIT;
  Kpistream__V1__ContactTransferred tr = KPISTREAM__V1__CONTACT_TRANSFERRED__INIT;
  Kpistream__V1__ContactEscalated esc = KPISTREAM__V1__CONTACT_ESCALATED__INIT;
  Kpistream__V1__ContactAbandoned ab = KPISTREAM__V1__CONTACT_ABANDONED__INIT;
  Kpistream__V1__ContactEnded end = KPISTREAM__V1__CONTACT_ENDED__INIT;
  Kpistream__V1__AfterContactWorkEnded acw = KPISTREAM__V1__AFTER_CONTACT_WORK_ENDED__INIT;
  Kpistream__V1__ContactResolved res = KPISTREAM__V1__CONTACT_RESOLVED__INIT;
  Kpistream__V1__SurveyResponse sv = KPISTREAM__V1__SURVEY_RESPONSE__INIT;
  Kpistream__V1__AgentStateChanged st = KPISTREAM__V1__AGENT_STATE_CHANGED__INIT;
  char wrap[16];

  switch (s->kind) {
  case K_CREATED:
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED;
    ev.contact_created = &created;
    break;
  case K_QUEUED:
    queued.priority = c->queue == 3;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
    ev.contact_queued = &queued;
    break;
  case K_ANSWERED:
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED;
    ev.contact_answered = &answered;
    break;
  case K_RESPONSE:
    resp.is_bot = s->arg != 0;
    resp.is_public = 1;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_RESPONSE;
    ev.agent_response = &resp;
    break;
  case K_HOLD_START:
    ev.body_case = KPISTREAM__V1__EVENT__BODY_HOLD_STARTED;
    ev.hold_started = &hs;
    break;
  case K_HOLD_END:
    ev.body_case = KPISTREAM__V1__EVENT__BODY_HOLD_ENDED;
    ev.hold_ended = &he;
    break;
  case K_TRANSFER:
    tr.to_queue = (char *)queue_names[s->arg % BG_QUEUES];
    tr.type = KPISTREAM__V1__TRANSFER_TYPE__TRANSFER_BLIND;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_TRANSFERRED;
    ev.contact_transferred = &tr;
    break;
  case K_ESCALATE:
    esc.to_tier = "tier-2";
    esc.reason = "complex-case";
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_ESCALATED;
    ev.contact_escalated = &esc;
    break;
  case K_ABANDON:
    ab.stage = KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_QUEUE;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_ABANDONED;
    ev.contact_abandoned = &ab;
    break;
  case K_ENDED:
    end.disconnected_by =
        s->arg ? KPISTREAM__V1__PARTY__PARTY_CUSTOMER : KPISTREAM__V1__PARTY__PARTY_AGENT;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_ENDED;
    ev.contact_ended = &end;
    break;
  case K_ACW_ENDED:
    snprintf(wrap, sizeof wrap, "wrap-%02u", (unsigned)s->arg * 7u % 20u);
    acw.wrap_up_code = wrap;
    acw.disposition = (char *)dispositions[s->arg % 5];
    acw.reason_code = (char *)reasons[s->arg % 6];
    acw.resolved = c->resolved;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_ACW_ENDED;
    ev.acw_ended = &acw;
    break;
  case K_RESOLVED:
    ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_RESOLVED;
    ev.contact_resolved = &res;
    break;
  case K_SURVEY: {
    unsigned a = s->arg; /* 0..9: 6 CSAT, 3 NPS, 1 CES */
    if (a < 6) {
      sv.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CSAT;
      sv.scale_min = 1;
      sv.scale_max = 5;
      sv.score = (int32_t)(c->resolved ? 3 + (c->id + a) % 3 : 1 + (c->id + a) % 4);
    } else if (a < 9) {
      sv.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_NPS;
      sv.scale_min = 0;
      sv.scale_max = 10;
      sv.score = (int32_t)((c->id * 7u + a) % 11u);
    } else {
      sv.type = KPISTREAM__V1__SURVEY_TYPE__SURVEY_CES;
      sv.scale_min = 1;
      sv.scale_max = 7;
      sv.score = (int32_t)(1 + c->id % 7u);
    }
    sv.survey_id = "post-contact";
    ev.body_case = KPISTREAM__V1__EVENT__BODY_SURVEY;
    ev.survey = &sv;
    topic = 4;
    break;
  }
  case K_AGENT_AVAILABLE:
    ev.contact_id = ev.customer_id = ev.queue = "";
    ev.channel = KPISTREAM__V1__CHANNEL__CHANNEL_UNSPECIFIED;
    ev.team = team;
    st.state = KPISTREAM__V1__AGENT_STATE__AGENT_AVAILABLE;
    ev.body_case = KPISTREAM__V1__EVENT__BODY_AGENT_STATE;
    ev.agent_state = &st;
    topic = 3;
    break;
  default:
    return -1;
  }
  return append(g, &ev, topic, c->tenant);
}

/* ---- driver ------------------------------------------------------------------ */

int bg_generate(bg_msgs *m, size_t n, int n_tenants, uint64_t seed, char *errstr,
                size_t errstr_size) {
  memset(m, 0, sizeof *m);
  if (n == 0 || n_tenants <= 0 || n_tenants > 65535) {
    snprintf(errstr, errstr_size, "generator: need n > 0 and 1..65535 tenants");
    return -1;
  }
  gen g;
  memset(&g, 0, sizeof g);
  g.rng.s = seed;
  g.m = m;
  g.cap_data = n * 100 + 4096;
  m->n_tenants = n_tenants;
  m->data = malloc(g.cap_data);
  m->off = malloc((n + 1) * sizeof *m->off);
  m->tenant = malloc(n * sizeof *m->tenant);
  m->topic = malloc(n);
  m->tenant_name = calloc((size_t)n_tenants, sizeof *m->tenant_name);
  int rc = (m->data && m->off && m->tenant && m->topic && m->tenant_name) ? 0 : -1;
  if (rc == 0) {
    m->off[0] = 0;
    for (int i = 0; i < n_tenants; i++)
      snprintf(m->tenant_name[i], BG_TENANT_MAX, "tenant-%03d", i);
  }
  double contact_ia_ms = 1000.0 / (BG_CONTACT_RATE_PER_TENANT * n_tenants);
  double break_ia_ms = contact_ia_ms / BG_BREAKS_PER_CONTACT;
  double next_contact = (double)BG_T0_MS, next_break = (double)BG_T0_MS + break_ia_ms / 2;
  while (rc == 0 && m->n < n) {
    int64_t tc = (int64_t)next_contact, tb = (int64_t)next_break;
    int64_t tnext = tc < tb ? tc : tb;
    if (g.n_heap && g.heap[0].t <= tnext) {
      step s = heap_pop(&g);
      rc = emit_step(&g, &s);
      if (s.kind != K_AGENT_AUX && s.kind != K_AGENT_BACK && --g.contacts[s.ref].pending == 0)
        g.free_slots[g.n_free++] = s.ref;
    } else if (tc <= tb) {
      rc = start_contact(&g, tc);
      next_contact += -log(1.0 - rng_unit(&g.rng)) * contact_ia_ms;
    } else {
      rc = start_break(&g, tb);
      next_break += -log(1.0 - rng_unit(&g.rng)) * break_ia_ms;
    }
  }
  free(g.heap);
  free(g.contacts);
  free(g.free_slots);
  if (rc != 0) {
    snprintf(errstr, errstr_size, "generator: out of memory");
    bg_free(m);
    return -1;
  }
  return 0;
}

void bg_free(bg_msgs *m) {
  free(m->data);
  free(m->off);
  free(m->tenant);
  free(m->topic);
  free(m->tenant_name);
  memset(m, 0, sizeof *m);
}
