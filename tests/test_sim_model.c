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

#include "event_builder.h"
#include "sim_model.h"

#define HOUR_MS  INT64_C(3600000)
#define DAY_MS   (24 * HOUR_MS)
#define START_MS (EB_T0 + 8 * HOUR_MS) /* 2026-11-23T08:00:00Z, the default */

#define VOICE   KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define BODY(x) KPISTREAM__V1__EVENT__BODY_##x

/* ---- a small string -> int64 map (open addressing) ------------------------- */

typedef struct smap {
  char (*keys)[48];
  int64_t *vals;
  size_t cap, n;
} smap;

static void smap_init(smap *m, size_t cap) {
  m->keys = calloc(cap, sizeof *m->keys);
  m->vals = calloc(cap, sizeof *m->vals);
  m->cap = cap;
  m->n = 0;
  assert_non_null(m->keys);
  assert_non_null(m->vals);
}

static void smap_free(smap *m) {
  free(m->keys);
  free(m->vals);
}

/* The value slot for key; *found tells whether it existed. */
static int64_t *smap_get(smap *m, const char *key, int *found) {
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
    m->vals[i] = 0;
    m->n++;
  }
  return &m->vals[i];
}

/* ---- helpers ---------------------------------------------------------------- */

static ks_sim *make(uint64_t seed, int tenants, int64_t duration_ms) {
  ks_sim_options o;
  ks_sim_options_default(&o);
  o.seed = seed;
  o.tenants = tenants;
  o.duration_ms = duration_ms;
  ks_sim *s = ks_sim_new(&o);
  assert_non_null(s);
  return s;
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
  assert_null(ks_sim_new(NULL));
}

static void test_parse_time(void **st) {
  (void)st;
  int64_t t;
  assert_int_equal(ks_sim_parse_time("2026-11-23T08:00:00Z", &t), 0);
  assert_int_equal(t, START_MS);
  assert_int_equal(ks_sim_parse_time("2026-11-23", &t), 0);
  assert_int_equal(t, EB_T0);
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
  smap_init(&queued, 1 << 17);
  smap_init(&ids, 1 << 19);
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
      *smap_get(&queued, key, &found) = 1;
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_validation),
      cmocka_unit_test(test_parse_time),
      cmocka_unit_test(test_determinism),
      cmocka_unit_test(test_tenant_independence),
      cmocka_unit_test(test_one_day),
      cmocka_unit_test(test_memory_bounded),
      cmocka_unit_test(test_duration_and_rate_scale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
