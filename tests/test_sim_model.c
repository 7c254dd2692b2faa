/*
 * test_sim_model — the traffic simulator's model (no Kafka): determinism,
 * time order, contact-lifecycle consistency, abandonment, the arrival
 * process against its own rate curve, wire validity of every event, and
 * bounded memory over several simulated days.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_model.h"
#include "testkit_engine.h"

#define HOUR_MS  INT64_C(3600000)
#define DAY_MS   (24 * HOUR_MS)
#define START_MS (KS_TK_T0 + 8 * HOUR_MS) /* 2026-11-23T08:00:00Z, the default */

#define VOICE   KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define BODY(x) KPISTREAM__V1__EVENT__BODY_##x

/* ---- a small string -> value map (open addressing, values of a fixed size) --- */

typedef struct smap {
  char (*keys)[48];
  unsigned char *vals;
  size_t cap, n, vsize;
} smap;

static void smap_init(smap *m, size_t cap, size_t vsize) {
  m->keys = calloc(cap, sizeof *m->keys);
  m->vals = calloc(cap, vsize);
  m->cap = cap;
  m->n = 0;
  m->vsize = vsize;
  assert_non_null(m->keys);
  assert_non_null(m->vals);
}

static void smap_free(smap *m) {
  free(m->keys);
  free(m->vals);
}

/* The value slot for key (zeroed when new); *found tells whether it existed. */
static void *smap_get(smap *m, const char *key, int *found) {
  assert_true(strlen(key) < 48);
  uint64_t h = 1469598103934665603u;
  for (const char *p = key; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211u;
  size_t i = (size_t)(h % m->cap);
  while (m->keys[i][0] && strcmp(m->keys[i], key) != 0)
    i = (i + 1) % m->cap;
  *found = m->keys[i][0] != 0;
  if (!*found) {
    assert_true(m->n + 1 < m->cap * 3 / 4);
    strcpy(m->keys[i], key);
    memset(m->vals + i * m->vsize, 0, m->vsize);
    m->n++;
  }
  return m->vals + i * m->vsize;
}

/* ---- helpers ---------------------------------------------------------------- */

/* The default options with a seed, tenants and a duration. */
static ks_sim_options opts(uint64_t seed, int tenants, int64_t duration_ms) {
  ks_sim_options o;
  ks_sim_options_default(&o);
  o.seed = seed;
  o.tenants = tenants;
  o.duration_ms = duration_ms;
  return o;
}

static ks_sim *make_from(const ks_sim_options *o) {
  ks_sim *s = ks_sim_new(o);
  assert_non_null(s);
  return s;
}

static ks_sim *make(uint64_t seed, int tenants, int64_t duration_ms) {
  ks_sim_options o = opts(seed, tenants, duration_ms);
  return make_from(&o);
}

static size_t pack(const Kpistream__V1__Event *ev, uint8_t **buf, size_t *cap) {
  size_t n = kpistream__v1__event__get_packed_size(ev);
  if (n > *cap) {
    *cap = n * 2;
    *buf = realloc(*buf, *cap);
    assert_non_null(*buf);
  }
  return kpistream__v1__event__pack(ev, *buf);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_defaults_and_validation(void **st) {
  (void)st;
  ks_sim_options o;
  ks_sim_options_default(&o);
  assert_int_equal(o.start_ms, START_MS);
  assert_int_equal(o.tenants, 2);
  assert_int_equal(o.seed, 1);
  ks_sim_options bad = o;
  bad.tenants = 0;
  assert_null(ks_sim_new(&bad));
  bad = o;
  bad.tenants = KS_SIM_MAX_TENANTS + 1;
  assert_null(ks_sim_new(&bad));
  bad = o;
  bad.rate_scale = 0;
  assert_null(ks_sim_new(&bad));
  bad = o;
  bad.rate_scale = NAN;
  assert_null(ks_sim_new(&bad));
  /* the behaviour rates */
  assert_true(o.reopen_rate == 0.08 && o.callback_wait_s == 30 && o.callback_accept == 0.5 &&
              o.ring_no_answer == 0.03 && o.survey_rate == 0.18);
  double *shares[] = {&bad.reopen_rate, &bad.callback_accept, &bad.ring_no_answer,
                      &bad.survey_rate};
  for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++) {
    const double wrong[] = {-0.01, 1.01, NAN};
    for (size_t j = 0; j < 3; j++) {
      bad = o;
      *shares[i] = wrong[j]; /* points into bad */
      assert_null(ks_sim_new(&bad));
    }
  }
  bad = o;
  bad.callback_wait_s = -1;
  assert_null(ks_sim_new(&bad));
  bad.callback_wait_s = 86401;
  assert_null(ks_sim_new(&bad));
  bad.callback_wait_s = NAN;
  assert_null(ks_sim_new(&bad));
  assert_null(ks_sim_new(NULL));
}

static void test_parse_time(void **st) {
  (void)st;
  int64_t t;
  assert_int_equal(ks_sim_parse_time("2026-11-23T08:00:00Z", &t), 0);
  assert_int_equal(t, START_MS);
  assert_int_equal(ks_sim_parse_time("2026-11-23", &t), 0);
  assert_int_equal(t, KS_TK_T0);
  assert_int_equal(ks_sim_parse_time("2026-11-23T09:00:00+01:00", &t), 0);
  assert_int_equal(t, START_MS);
  assert_int_equal(ks_sim_parse_time("2026-11-23T08:00:00.250Z", &t), 0);
  assert_int_equal(t, START_MS + 250);
  assert_int_equal(ks_sim_parse_time("2026-11-23T08:00Z", &t), 0);
  assert_int_equal(t, START_MS);
  assert_int_not_equal(ks_sim_parse_time("2026-02-30T00:00:00Z", &t), 0);
  assert_int_not_equal(ks_sim_parse_time("2026-11-23T25:00:00Z", &t), 0);
  assert_int_not_equal(ks_sim_parse_time("yesterday", &t), 0);
  assert_int_not_equal(ks_sim_parse_time("2026-11-23T08:00:00Zjunk", &t), 0);
  char buf[32];
  assert_string_equal(ks_sim_format_time(START_MS + 61000, buf, sizeof buf),
                      "2026-11-23T08:01:01Z");
}

/* Same options, byte-identical packed streams; another seed, another stream. */
static void test_determinism(void **st) {
  (void)st;
  ks_sim *a = make(42, 2, 6 * HOUR_MS), *b = make(42, 2, 6 * HOUR_MS),
         *c = make(43, 2, 6 * HOUR_MS);
  uint8_t *ba = NULL, *bb = NULL, *bc = NULL;
  size_t ca = 0, cb = 0, cc = 0;
  Kpistream__V1__Event *ea, *eb, *ec;
  const char *ta, *tb, *tc;
  uint64_t n = 0, differ = 0;
  int ra, rb, rc = 1;
  for (;;) {
    ra = ks_sim_next(a, &ea, &ta);
    rb = ks_sim_next(b, &eb, &tb);
    assert_int_equal(ra, rb);
    if (ra != 1)
      break;
    size_t la = pack(ea, &ba, &ca), lb = pack(eb, &bb, &cb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    assert_string_equal(ta, tb);
    if (rc == 1 && (rc = ks_sim_next(c, &ec, &tc)) == 1) {
      size_t lc = pack(ec, &bc, &cc);
      differ += lc != la || memcmp(ba, bc, la) != 0;
    }
    n++;
  }
  assert_int_equal(ra, 0);
  assert_true(n > 10000);
  assert_true(differ > n / 2);
  free(ba);
  free(bb);
  free(bc);
  ks_sim_free(a);
  ks_sim_free(b);
  ks_sim_free(c);
}

/* A tenant's events do not depend on how many other tenants are simulated. */
static void test_tenant_independence(void **st) {
  (void)st;
  ks_sim *one = make(9, 1, 4 * HOUR_MS), *three = make(9, 3, 4 * HOUR_MS);
  uint8_t *b1 = NULL, *b3 = NULL;
  size_t c1 = 0, c3 = 0;
  Kpistream__V1__Event *e1, *e3;
  uint64_t n = 0;
  while (ks_sim_next(one, &e1, NULL) == 1) {
    size_t l1 = pack(e1, &b1, &c1), l3;
    do {
      assert_int_equal(ks_sim_next(three, &e3, NULL), 1);
    } while (strcmp(e3->tenant, e1->tenant) != 0);
    l3 = pack(e3, &b3, &c3);
    assert_int_equal(l1, l3);
    assert_memory_equal(b1, b3, l1);
    n++;
  }
  assert_true(n > 1000);
  free(b1);
  free(b3);
  ks_sim_free(one);
  ks_sim_free(three);
}

/* One simulated day: order, envelope, lifecycle consistency, abandons,
 * arrivals against the curve, and every event through the wire format. */
static void test_one_day(void **st) {
  (void)st;
  ks_sim *s = make(1, 2, DAY_MS);
  smap queued, ids;
  smap_init(&queued, 1 << 17, sizeof(int64_t));
  smap_init(&ids, 1 << 19, 1);
  uint8_t *buf = NULL;
  size_t cap = 0;
  Kpistream__V1__Event *ev;
  const char *topic;
  int64_t last = START_MS;
  uint64_t n = 0, answered = 0, abandons = 0, offered = 0, arrivals = 0,
           per_topic[KS_SIM_NTOPICS] = {0};
  int rc, found;
  while ((rc = ks_sim_next(s, &ev, &topic)) == 1) {
    n++;
    /* time order and range */
    assert_true(ev->event_time_ms >= last);
    assert_true(ev->event_time_ms < START_MS + DAY_MS);
    last = ev->event_time_ms;
    /* envelope */
    assert_true(ev->tenant[0] != '\0');
    assert_true(ev->body_case != KPISTREAM__V1__EVENT__BODY__NOT_SET);
    (void)smap_get(&ids, ev->event_id, &found);
    assert_false(found); /* event ids are unique */
    per_topic[ks_sim_current_topic(s)]++;
    assert_string_equal(topic, ks_sim_topic_name(ks_sim_current_topic(s)));
    if (ev->body_case < 40) {
      assert_true(ev->contact_id[0] != '\0');
      assert_true(ev->channel != KPISTREAM__V1__CHANNEL__CHANNEL_UNSPECIFIED);
    }
    if (ev->body_case == BODY(AGENT_STATE) || ev->body_case == BODY(SCHEDULE)) {
      assert_true(ev->agent_id[0] != '\0');
      assert_true(ev->team[0] != '\0');
      assert_string_equal(topic, "events.agent");
    }
    /* wire: pack, unpack, re-pack gives the same bytes */
    size_t len = pack(ev, &buf, &cap);
    Kpistream__V1__Event *back = kpistream__v1__event__unpack(NULL, len, buf);
    assert_non_null(back);
    assert_int_equal(back->body_case, ev->body_case);
    assert_int_equal(back->event_time_ms, ev->event_time_ms);
    assert_string_equal(back->event_id, ev->event_id);
    uint8_t *again = malloc(len ? len : 1);
    assert_int_equal(kpistream__v1__event__pack(back, again), len);
    assert_memory_equal(again, buf, len);
    free(again);
    kpistream__v1__event__free_unpacked(back, NULL);
    /* lifecycle: key = contact id + queue */
    char key[48];
    snprintf(key, sizeof key, "%.38s/%.8s", ev->contact_id, ev->queue);
    switch (ev->body_case) {
    case BODY(CONTACT_QUEUED):
      *(int64_t *)smap_get(&queued, key, &found) = 1;
      if (ev->channel == VOICE && ev->contact_queued->priority == 0)
        arrivals++, offered++;
      else if (ev->channel != VOICE && ev->contact_queued->priority == 0)
        offered++;
      break;
    case BODY(CONTACT_CREATED):
      arrivals++;
      break;
    case BODY(CONTACT_ANSWERED): {
      int64_t *v = smap_get(&queued, key, &found);
      assert_true(found && *v == 1); /* queued before, and not yet answered */
      *v = 2;
      assert_true(ev->agent_id[0] != '\0');
      answered++;
      break;
    }
    case BODY(CONTACT_ABANDONED):
      if (ev->contact_abandoned->stage == KPISTREAM__V1__ABANDON_STAGE__ABANDON_IN_IVR) {
        arrivals++;
        assert_string_equal(ev->queue, "");
      } else {
        int64_t *v = smap_get(&queued, key, &found);
        assert_true(found && *v == 1);
        *v = 3;
        abandons++;
      }
      break;
    default:
      break;
    }
  }
  assert_int_equal(rc, 0);
  assert_int_equal(ks_sim_next(s, &ev, &topic), 0); /* and ever after */
  assert_true(ks_sim_peek_time(s) == INT64_MAX);

  ks_sim_stats stats;
  ks_sim_get_stats(s, &stats);
  assert_int_equal(stats.events, n);
  assert_int_equal(stats.answered, answered);
  assert_int_equal(stats.abandoned, abandons);
  assert_int_equal(stats.arrivals, arrivals);
  for (int t = 0; t < KS_SIM_NTOPICS; t++) {
    assert_int_equal(stats.per_topic[t], per_topic[t]);
    assert_true(per_topic[t] > 0); /* every topic gets traffic */
  }
  /* abandonment happens, including short abandons, but is not the norm */
  assert_true(abandons > 0);
  assert_true(abandons < offered / 4);
  assert_true(stats.short_abandons > 0 && stats.short_abandons < abandons);
  assert_true(stats.repeats > 0);
  /* every body of the schema shows up in a day */
  static const int bodies[] = {20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 40,
                               41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 60, 61, 62, 63};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
    if (stats.per_body[bodies[i]] == 0)
      fail_msg("no event with body %d in a day", bodies[i]);

  /* arrivals against the integral of the model's own rate curve */
  double expected = 0;
  for (int t = 0; t < 2; t++)
    for (int q = 0; q < KS_SIM_NQUEUES; q++)
      for (int64_t m = 0; m < 24 * 60; m++)
        expected += ks_sim_arrival_rate(s, t, q, START_MS + m * 60000 + 30000) / 60.0;
  double sigma = sqrt(expected);
  print_message("arrivals %" PRIu64 ", expected %.1f (sigma %.1f), offered %" PRIu64
                ", answered %" PRIu64 ", abandoned %" PRIu64 " (short %" PRIu64
                "), repeats %" PRIu64 ", events %" PRIu64 "\n",
                stats.arrivals, expected, sigma, offered, answered, abandons, stats.short_abandons,
                stats.repeats, n);
  assert_true(expected > 1000);
  assert_true(fabs((double)stats.arrivals - expected) <= 5 * sigma);
  free(buf);
  smap_free(&queued);
  smap_free(&ids);
  ks_sim_free(s);
}

/* Three simulated days: the pools stop growing after the first. */
static void test_memory_bounded(void **st) {
  (void)st;
  ks_sim *s = make(5, 2, 3 * DAY_MS);
  Kpistream__V1__Event *ev;
  ks_sim_stats stats;
  size_t day1_bytes = 0, max_bytes = 0, max_pending = 0;
  uint32_t max_live = 0;
  uint64_t n = 0;
  int rc;
  while ((rc = ks_sim_next(s, &ev, NULL)) == 1) {
    if ((++n & 255) != 0)
      continue;
    ks_sim_get_stats(s, &stats);
    if (ev->event_time_ms < START_MS + DAY_MS)
      day1_bytes = stats.pool_bytes;
    else if (stats.pool_bytes > max_bytes)
      max_bytes = stats.pool_bytes;
    if (stats.pending > max_pending)
      max_pending = stats.pending;
    if (stats.contacts_in_flight > max_live)
      max_live = stats.contacts_in_flight;
  }
  assert_int_equal(rc, 0);
  ks_sim_get_stats(s, &stats);
  print_message("3 days: %" PRIu64 " events, pools %zu bytes after day 1, at most %zu later; "
                "pending at most %zu, contacts in flight at most %u, agents %u\n",
                stats.events, day1_bytes, max_bytes, max_pending, max_live, stats.agents_total);
  assert_true(stats.events > 250000);
  assert_true(day1_bytes > 0);
  assert_true(max_bytes <= day1_bytes * 2);
  assert_true(max_bytes < 16u << 20);
  assert_true(max_pending < 50000);
  assert_true(max_live < 5000);
  ks_sim_free(s);
}

/* A duration ends the stream; rate scale scales arrivals. */
static void test_duration_and_rate_scale(void **st) {
  (void)st;
  ks_sim_options o;
  ks_sim_options_default(&o);
  o.tenants = 1;
  o.duration_ms = 2 * HOUR_MS;
  o.rate_scale = 3.0;
  ks_sim *s = ks_sim_new(&o);
  assert_non_null(s);
  assert_true(ks_sim_peek_time(s) >= START_MS);
  assert_true(fabs(ks_sim_arrival_rate(s, 0, KS_SIM_Q_VOICE_SUPPORT, START_MS + 90 * 60000) / 3.0 -
                   150.0 * 0.95 * 1.10) < 1.0); /* peak x 09:30 weight x Monday */
  Kpistream__V1__Event *ev;
  int64_t last = 0;
  while (ks_sim_next(s, &ev, NULL) == 1)
    last = ev->event_time_ms;
  assert_true(last < START_MS + 2 * HOUR_MS);
  assert_true(last > START_MS + HOUR_MS);
  assert_string_equal(ks_sim_tenant_name(s, 0), "acme");
  assert_string_equal(ks_sim_queue_label(KS_SIM_Q_CHAT_SALES), "chat/sales");
  assert_int_equal(ks_sim_queue_channel(KS_SIM_Q_EMAIL_SUPPORT),
                   KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL);
  ks_sim_free(s);
}

/* ---- the KPI-facing behaviours: reopens, call-backs, ring-no-answer, surveys -- */

#define EMAIL  KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL
#define CHAT   KPISTREAM__V1__CHANNEL__CHANNEL_CHAT
#define MIN_MS INT64_C(60000)

/* What one contact has shown so far (key: contact id). */
typedef struct cst {
  int64_t t_last;       /* last lifecycle event */
  int64_t t_resolved;   /* a resolution not yet reopened (0: none) */
  int64_t t_handled;    /* the last final wrap-up (0: none) */
  int64_t t_offer;      /* the pending offer: when it started ringing */
  int64_t ring_ms;      /* and how long it rang */
  int64_t t_queued;     /* entry into the first queue (voice) */
  int64_t t_reopened;   /* a reopen waiting for its ContactQueued (0: none) */
  uint64_t offer_agent; /* hash of the pending offer's agent */
  uint8_t last_body;    /* last lifecycle body */
  uint8_t offer_state;  /* 0 none, 1 accepted (answer due), 2 not accepted */
  uint8_t callback;     /* queued as a call-back, not answered yet */
  uint8_t live;         /* queued live on its first voice queue, not answered yet */
  uint8_t surveyed;     /* the last handling has its survey */
  uint8_t channel;
} cst;

typedef struct kpi_counts {
  uint64_t resolved[2], reopened[2]; /* email, chat: resolutions early enough to be reopened */
  uint64_t reopens[2];               /* ContactReopened events */
  uint64_t offers, ring_abandons, ring_outs, pending_ring_outs;
  uint64_t callback_offers, callback_ring_outs; /* call-backs: the customer never hangs up */
  uint64_t callbacks, callbacks_answered, live_answered;
  double callback_wait_s, live_wait_s; /* sums of the wait until answered */
  int64_t callback_max_wait_ms;
  uint64_t handled, surveyed, surveys; /* final handlings early enough, of them surveyed */
  uint64_t events;
} kpi_counts;

static uint64_t hash_str(const char *p) {
  uint64_t h = 1469598103934665603u;
  for (; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211u;
  return h;
}

static int channel_ix(int ch) {
  return ch == EMAIL ? 0 : ch == CHAT ? 1 : -1;
}

/* Latest resolution time that can still be seen reopened, and the delay
 * bounds of a reopen, per channel (documented in sim_model.h). */
static const int64_t reopen_min_ms[2] = {HOUR_MS, 5 * MIN_MS};
static const int64_t reopen_max_ms[2] = {24 * HOUR_MS, 4 * HOUR_MS + 5 * MIN_MS};
#define SURVEY_HORIZON_MS (6 * HOUR_MS)

static void account_handling(kpi_counts *k, cst *c, int64_t end) {
  if (c->t_handled && c->t_handled <= end - SURVEY_HORIZON_MS) {
    k->handled++;
    k->surveyed += c->surveyed;
  }
  c->t_handled = 0;
  c->surveyed = 0;
}

/* Runs s to its end (end_ms) checking that every contact's events form a
 * valid lifecycle around the four behaviours, and counts them. */
static void kpi_walk(ks_sim *s, int64_t end_ms, kpi_counts *k) {
  memset(k, 0, sizeof *k);
  smap m;
  smap_init(&m, 1 << 19, sizeof(cst));
  Kpistream__V1__Event *ev;
  int rc, found;
  while ((rc = ks_sim_next(s, &ev, NULL)) == 1) {
    k->events++;
    const int64_t t = ev->event_time_ms;
    const int body = ev->body_case;
    if (body == BODY(SURVEY)) {
      assert_true(ev->contact_id[0] != '\0');
      cst *c = smap_get(&m, ev->contact_id, &found);
      if (!found || c->t_handled == 0 || t <= c->t_handled)
        fail_msg("survey for %s at %" PRId64 " without a handling before it", ev->contact_id, t);
      k->surveys++;
      c->surveyed = 1;
      continue;
    }
    if (body < 20 || body > 33 || ev->contact_id[0] == '\0')
      continue;
    if (body == BODY(ACW_ENDED) && strcmp(ev->acw_ended->disposition, "transferred") == 0)
      continue; /* the wrap-up of a leg the contact has left: not part of its routing */
    cst *c = smap_get(&m, ev->contact_id, &found);
    const int ix = channel_ix(ev->channel);
    if (c->t_reopened) { /* a reopen is re-queued at once */
      if (body != BODY(CONTACT_QUEUED) || t != c->t_reopened)
        fail_msg("%s: reopened at %" PRId64 ", then body %d at %" PRId64, ev->contact_id,
                 c->t_reopened, body, t);
      c->t_reopened = 0;
    }
    if (c->offer_state == 1) { /* accepted: the answer is next, when the ring ends */
      if (body != BODY(CONTACT_ANSWERED) || t != c->t_offer + c->ring_ms ||
          hash_str(ev->agent_id) != c->offer_agent)
        fail_msg("%s: accepted offer at %" PRId64 " (ring %" PRId64
                 " ms), then body %d at %" PRId64,
                 ev->contact_id, c->t_offer, c->ring_ms, body, t);
    } else if (c->offer_state == 2) { /* not accepted: another offer, or an abandon */
      if (body == BODY(CONTACT_ABANDONED) &&
          ev->contact_abandoned->stage == KPISTREAM__V1__ABANDON_STAGE__ABANDON_RINGING) {
        assert_int_equal(t, c->t_offer + c->ring_ms); /* hung up while it rang */
        assert_int_equal(hash_str(ev->agent_id), c->offer_agent);
        k->ring_abandons++;
      } else if (body == BODY(CONTACT_OFFERED) || body == BODY(CONTACT_ABANDONED)) {
        assert_true(t >= c->t_offer + c->ring_ms); /* rang out, back to routing */
        k->ring_outs++;
        k->callback_ring_outs += c->callback;
      } else {
        fail_msg("%s: offer not accepted at %" PRId64 ", then body %d at %" PRId64, ev->contact_id,
                 c->t_offer, body, t);
      }
    }
    c->offer_state = 0;
    switch (body) {
    case BODY(CONTACT_QUEUED):
      if (ev->contact_queued->callback) {
        assert_int_equal(ev->channel, VOICE); /* a call-back is a phone call */
        assert_int_equal(ev->contact_queued->priority, 0);
        assert_false(found); /* requested when the caller first reaches a queue */
        c->callback = 1;
        c->t_queued = t;
        k->callbacks++;
      } else if (ev->channel == VOICE && !found) {
        c->live = 1;
        c->t_queued = t;
      }
      break;
    case BODY(CONTACT_OFFERED):
      assert_int_not_equal(ev->channel, EMAIL); /* e-mail is assigned, it does not ring */
      assert_true(ev->contact_offered->ring_ms > 0);
      k->offers++;
      k->callback_offers += c->callback;
      c->offer_state = ev->contact_offered->accepted ? 1 : 2;
      c->t_offer = t;
      c->ring_ms = ev->contact_offered->ring_ms;
      c->offer_agent = hash_str(ev->agent_id);
      break;
    case BODY(CONTACT_ANSWERED):
      if (ev->channel != EMAIL && c->last_body != BODY(CONTACT_OFFERED))
        fail_msg("%s answered at %" PRId64 " without an offer", ev->contact_id, t);
      if (c->callback) {
        k->callbacks_answered++;
        k->callback_wait_s += (double)(t - c->t_queued) / 1000.0;
        if (t - c->t_queued > k->callback_max_wait_ms)
          k->callback_max_wait_ms = t - c->t_queued;
      } else if (c->live) {
        k->live_answered++;
        k->live_wait_s += (double)(t - c->t_queued) / 1000.0;
      }
      c->callback = c->live = 0;
      break;
    case BODY(CONTACT_ABANDONED):
      if (c->callback)
        fail_msg("%s: a call-back request abandoned at %" PRId64, ev->contact_id, t);
      c->live = 0;
      break;
    case BODY(ACW_ENDED): /* a final wrap-up: the contact is handled */
      account_handling(k, c, end_ms);
      c->t_handled = t;
      break;
    case BODY(CONTACT_RESOLVED):
      if (ix >= 0)
        c->t_resolved = t;
      break;
    case BODY(CONTACT_REOPENED):
      if (ix < 0)
        fail_msg("%s: a channel %d contact reopened", ev->contact_id, (int)ev->channel);
      if (!found || c->last_body != BODY(CONTACT_RESOLVED) || c->t_resolved == 0)
        fail_msg("%s reopened at %" PRId64 " without a resolution before", ev->contact_id, t);
      assert_true(t - c->t_resolved >= reopen_min_ms[ix]);
      assert_true(t - c->t_resolved <= reopen_max_ms[ix]);
      k->reopens[ix]++;
      if (c->t_resolved <= end_ms - reopen_max_ms[ix]) {
        k->resolved[ix]++;
        k->reopened[ix]++;
      }
      c->t_resolved = 0;
      c->t_reopened = t;
      break;
    default:
      break;
    }
    c->last_body = (uint8_t)body;
    c->t_last = t;
    c->channel = (uint8_t)ev->channel;
  }
  assert_int_equal(rc, 0);
  /* what was still open at the end */
  for (size_t i = 0; i < m.cap; i++) {
    if (!m.keys[i][0])
      continue;
    cst *c = (cst *)(m.vals + i * m.vsize);
    account_handling(k, c, end_ms);
    const int ix = channel_ix(c->channel);
    if (c->t_resolved && ix >= 0 && c->t_resolved <= end_ms - reopen_max_ms[ix])
      k->resolved[ix]++; /* resolved early enough, never reopened */
    if (c->offer_state == 2) {
      if (c->t_offer < end_ms - HOUR_MS)
        fail_msg("%s: an offer not accepted at %" PRId64 " never followed", m.keys[i], c->t_offer);
      k->pending_ring_outs++;
    }
    if (c->callback && c->t_queued < end_ms - 4 * HOUR_MS)
      fail_msg("%s: a call-back queued at %" PRId64 " never answered", m.keys[i], c->t_queued);
  }
  smap_free(&m);
}

static void print_kpi(const char *what, const kpi_counts *k) {
  print_message("%s: %" PRIu64 " events; reopens email %" PRIu64 " chat %" PRIu64
                ", reopened/resolved email %" PRIu64 "/%" PRIu64 " chat %" PRIu64 "/%" PRIu64
                "; offers %" PRIu64 ", ring-outs %" PRIu64 " (+%" PRIu64
                " at the end), ringing abandons %" PRIu64 "; call-backs %" PRIu64
                " (answered %" PRIu64 ", mean wait %.0f s, max %.0f s), live mean wait %.1f s"
                "; surveyed/handled %" PRIu64 "/%" PRIu64 " (%" PRIu64 " surveys)\n",
                what, k->events, k->reopens[0], k->reopens[1], k->reopened[0], k->resolved[0],
                k->reopened[1], k->resolved[1], k->offers, k->ring_outs, k->pending_ring_outs,
                k->ring_abandons, k->callbacks, k->callbacks_answered,
                k->callbacks_answered ? k->callback_wait_s / (double)k->callbacks_answered : 0,
                (double)k->callback_max_wait_ms / 1000.0,
                k->live_answered ? k->live_wait_s / (double)k->live_answered : 0, k->surveyed,
                k->handled, k->surveys);
}

/* Two simulated days with the default options: every behaviour the KPIs of
 * resolution, ring-no-answer, call-backs and survey response need shows up,
 * at a realistic share, and its events form valid lifecycles. */
static void test_kpi_defaults_visible(void **st) {
  (void)st;
  ks_sim *s = make(3, 2, 2 * DAY_MS);
  kpi_counts k;
  kpi_walk(s, START_MS + 2 * DAY_MS, &k);
  print_kpi("defaults, 2 days", &k);
  for (int ix = 0; ix < 2; ix++) { /* e-mail and chat are reopened, some 5-15 % */
    assert_true(k.reopens[ix] > 0);
    assert_true(k.resolved[ix] > 100);
    double share = (double)k.reopened[ix] / (double)k.resolved[ix];
    assert_true(share > 0.03 && share < 0.15);
  }
  /* agents let a few offers ring out */
  assert_true(k.ring_outs > 0);
  double rona = (double)k.ring_outs / (double)(k.offers - k.ring_abandons);
  assert_true(rona > 0.01 && rona < 0.06);
  /* call-backs are taken by callers facing a long wait, and answered */
  assert_true(k.callbacks > 50);
  assert_true(k.callbacks_answered > 50);
  assert_true(k.callback_wait_s / (double)k.callbacks_answered >
              3.0 * k.live_wait_s / (double)k.live_answered);
  /* some customers answer the survey, most do not */
  double resp = (double)k.surveyed / (double)k.handled;
  assert_true(resp > 0.10 && resp < 0.30);
  ks_sim_free(s);
}

/* |measured - p| within 4 standard deviations of a binomial(n, p) share. */
static void assert_share(const char *what, uint64_t hits, uint64_t n, double p) {
  assert_true(n > 0);
  double share = (double)hits / (double)n, sigma = sqrt(p * (1 - p) / (double)n);
  print_message("%s: %" PRIu64 "/%" PRIu64 " = %.4f, configured %.4f (sigma %.4f)\n", what, hits, n,
                share, p, sigma);
  if (fabs(share - p) > 4 * sigma)
    fail_msg("%s: %.4f is not %.4f within 4 sigma (%.4f)", what, share, p, sigma);
}

static ks_sim *make_rates(double reopen, double cb_wait_s, double cb_accept, double rona,
                          double survey, int64_t duration_ms) {
  ks_sim_options o = opts(17, 2, duration_ms);
  o.reopen_rate = reopen;
  o.callback_wait_s = cb_wait_s;
  o.callback_accept = cb_accept;
  o.ring_no_answer = rona;
  o.survey_rate = survey;
  return make_from(&o);
}

/* Other rates than the defaults: each behaviour follows its option over a
 * long run, and the stats count what the events show. */
static void test_kpi_rates_configured(void **st) {
  (void)st;
  const int64_t dur = 3 * DAY_MS;
  ks_sim *s = make_rates(0.2, 10, 0.7, 0.1, 0.25, dur);
  kpi_counts k;
  kpi_walk(s, START_MS + dur, &k);
  print_kpi("configured, 3 days", &k);
  ks_sim_stats stats;
  ks_sim_get_stats(s, &stats);
  assert_share("reopened e-mail", k.reopened[0], k.resolved[0], 0.2);
  assert_share("reopened chat", k.reopened[1], k.resolved[1], 0.2);
  assert_int_equal(stats.reopened, k.reopens[0] + k.reopens[1]);
  /* an agent lets 10 % of its offers ring out: exactly so for call-backs, whose
   * customer never hangs up; of the others, those the customer hangs up on
   * while they ring (more often in a 15 s ring-out than in a 2-7 s ring) are
   * ringing abandons, so fewer are seen to ring out */
  assert_true(k.callback_offers > 500);
  assert_share("call-backs rung out", k.callback_ring_outs, k.callback_offers, 0.1);
  double rona = (double)(k.ring_outs + k.pending_ring_outs) / (double)(k.offers - k.ring_abandons);
  assert_true(rona > 0.1 * 0.85 && rona < 0.1 * 1.02);
  assert_int_equal(stats.ring_no_answer, k.ring_outs + k.pending_ring_outs);
  assert_share("call-backs taken", stats.callbacks, stats.callbacks_offered, 0.7);
  assert_int_equal(stats.callbacks, k.callbacks);
  assert_share("surveyed", k.surveyed, k.handled, 0.25);
  assert_int_equal(stats.surveys, k.surveys);
  ks_sim_free(s);
}

/* Rates of 0 turn each behaviour off; a call-back threshold of a day never
 * offers one. */
static void test_kpi_rates_off(void **st) {
  (void)st;
  ks_sim *s = make_rates(0, 86400, 1, 0, 0, DAY_MS);
  kpi_counts k;
  kpi_walk(s, START_MS + DAY_MS, &k);
  ks_sim_stats stats;
  ks_sim_get_stats(s, &stats);
  assert_true(k.offers > 1000 && k.handled > 1000);
  assert_int_equal(k.reopens[0] + k.reopens[1], 0);
  assert_int_equal(k.ring_outs + k.pending_ring_outs, 0);
  assert_true(k.ring_abandons > 0); /* customers still hang up while it rings */
  assert_int_equal(stats.callbacks_offered, 0);
  assert_int_equal(k.callbacks, 0);
  assert_int_equal(k.surveys, 0);
  ks_sim_free(s);
  /* every voice caller who would wait at all is offered one; all take it */
  s = make_rates(0, 0, 1, 0, 0, DAY_MS);
  kpi_walk(s, START_MS + DAY_MS, &k);
  ks_sim_get_stats(s, &stats);
  assert_true(stats.callbacks > 100);
  assert_int_equal(stats.callbacks, stats.callbacks_offered);
  ks_sim_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_validation),
      cmocka_unit_test(test_parse_time),
      cmocka_unit_test(test_determinism),
      cmocka_unit_test(test_tenant_independence),
      cmocka_unit_test(test_one_day),
      cmocka_unit_test(test_memory_bounded),
      cmocka_unit_test(test_duration_and_rate_scale),
      cmocka_unit_test(test_kpi_defaults_visible),
      cmocka_unit_test(test_kpi_rates_configured),
      cmocka_unit_test(test_kpi_rates_off),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
