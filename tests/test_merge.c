/* The event-time merge of a task's input partitions (merge.c) and the peek
 * of an encoded event's time (event_peek.c).
 *
 * Part one drives the merge alone, with hand-made callbacks: the order it
 * hands messages over in, what the end of a partition, quiet and pulling
 * (fill) do, and that the order never depends on how input arrives. Part two puts the real engine
 * with the `counter` test plugin behind it, as the runner does (refused messages are only counted:
 * no dead-letter topic), with the record timestamps the tests choose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "decoder.h"
#include "event_peek.h"
#include "log.h"
#include "merge.h"
#include "testkit_engine.h"

#define Y3000 INT64_C(32503680000000)     /* 3000-01-01: outside the decoder's range */
#define Y2099 INT64_C(4070908800000)      /* 2099-01-01: inside it */
#define T10   (KS_TK_T0 + KS_TK_MIN(600)) /* 2026-11-23T10:00:00Z */
#define HOUR  KS_TK_MIN(60)
#define NMSG  64

static const char *const topic_names[] = {"m.a", "m.b", "m.c"};

/* ---- messages and the merge's callbacks ---------------------------------- */

typedef struct spec {
  uint32_t topic; /* index into topic_names */
  int64_t event_ms;
  int64_t record_ms; /* the record timestamp (CreateTime) */
} spec;

static size_t encode(int64_t t, uint8_t *buf, size_t cap) {
  Kpistream__V1__Event ev = ks_tk_event(t, "acme", 1, "sales", "c1", "cust", NULL);
  Kpistream__V1__ContactQueued body = KPISTREAM__V1__CONTACT_QUEUED__INIT;
  ev.body_case = KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED;
  ev.contact_queued = &body;
  size_t n = ks_tk_pack(&ev, buf, cap);
  assert_true(n > 0);
  return n;
}

/* A message as the merge sees it: an opaque pointer (here into the
 * fixture), its bytes and its record timestamp. */
typedef struct tmsg {
  uint32_t topic;
  int64_t offset; /* per topic, in push order */
  int64_t rec;
  size_t len;
  uint8_t buf[256];
} tmsg;

typedef struct results {
  int n;
  int64_t start[64];
  double value[64];
  char metric[64][32];
} results;

/* What the callbacks saw. */
typedef struct fixture {
  ks_merge m;
  tmsg msg[NMSG];
  size_t n_msg;
  int order[NMSG]; /* index into msg[] of each message processed, in order */
  int n_order;
  int dropped;
  int stop_after; /* process asks to stop after this many (0: never) */
  int64_t limit;  /* time_limit's answer without an engine */
  int idle[3];    /* set_idle calls per topic (task 0) */
  /* what fill pulls from (src[topic]): staged messages, of which `arrived`
   * have reached the partition's queue, then its end once eof_arrived */
  struct {
    int idx[NMSG];
    int n, pos, arrived, eof_arrived, eof_given;
  } src[3];
  int chunk;    /* messages one fill returns at most (0: all arrived) */
  int fills[3]; /* fill calls per topic */
  /* part two */
  ks_engine *e;
  ks_partitioner partitioner;
  results g;
} fixture;

static int fx_process(void *ud, ks_merge_part *p, void *msg) {
  fixture *fx = ud;
  tmsg *m = msg;
  assert_int_equal(p->topic, m->topic);
  assert_true(fx->n_order < NMSG);
  fx->order[fx->n_order++] = (int)(m - fx->msg);
  if (fx->e) {
    char reason[256];
    ks_msg_origin from = {"acme", 4, 1, fx->partitioner, m->rec};
    ks_engine_process_from(fx->e, p->partition, p->topic, m->offset, &from, m->buf, m->len, reason,
                           sizeof reason);
  }
  return fx->stop_after && fx->n_order >= fx->stop_after;
}

static void fx_drop(void *ud, void *msg) {
  (void)msg;
  ((fixture *)ud)->dropped++;
}

static int64_t fx_time_limit(void *ud, int32_t task, int64_t rec) {
  fixture *fx = ud;
  return fx->e ? ks_engine_time_limit(fx->e, task, rec) : fx->limit;
}

static void fx_set_idle(void *ud, int32_t task, uint32_t topic) {
  fixture *fx = ud;
  assert_int_equal(task, 0);
  fx->idle[topic]++;
  if (fx->e)
    ks_engine_set_idle(fx->e, task, topic, 1);
}

/* The runner's pull from a partition's librdkafka queue: what has arrived,
 * at most `chunk` messages, then the partition's end. */
static void fx_fill(void *ud, ks_merge_part *p) {
  fixture *fx = ud;
  assert_int_equal(p->q_len, 0); /* only an empty partition is asked */
  fx->fills[p->topic]++;
  int k = 0;
  while (fx->src[p->topic].pos < fx->src[p->topic].arrived && (fx->chunk == 0 || k < fx->chunk)) {
    tmsg *m = &fx->msg[fx->src[p->topic].idx[fx->src[p->topic].pos++]];
    assert_int_equal(ks_merge_push(&fx->m, p, m, m->buf, m->len, m->rec), 0);
    k++;
  }
  if (fx->src[p->topic].pos == fx->src[p->topic].n && fx->src[p->topic].eof_arrived &&
      !fx->src[p->topic].eof_given && (fx->chunk == 0 || k < fx->chunk)) {
    fx->src[p->topic].eof_given = 1;
    ks_merge_eof(&fx->m, p);
  }
}

/* A merge of n_topics topics with one partition (task 0) each, all assigned,
 * time limit far away (no engine). */
static void fixture_init(fixture *fx, size_t n_topics, int bounded) {
  memset(fx, 0, sizeof *fx);
  fx->limit = INT64_MAX;
  ks_merge_ops ops = {fx_process, fx_drop, fx_time_limit, fx_set_idle, fx_fill, fx};
  assert_int_equal(ks_merge_init(&fx->m, n_topics, 1, bounded, &ops), 0);
  for (uint32_t t = 0; t < n_topics; t++)
    ks_merge_assign(&fx->m, ks_merge_part_get(&fx->m, t, 0));
}

static ks_merge_part *part(fixture *fx, uint32_t topic) {
  return ks_merge_part_get(&fx->m, topic, 0);
}

/* A message of topic with event time t (INT64_MIN: bytes that are no
 * event) and record timestamp rec, not given to the merge; returns its index
 * in fx->msg. */
static int make(fixture *fx, uint32_t topic, int64_t t, int64_t rec) {
  assert_true(fx->n_msg < NMSG);
  tmsg *m = &fx->msg[fx->n_msg];
  m->topic = topic;
  m->rec = rec;
  m->offset = 0;
  for (size_t i = 0; i < fx->n_msg; i++)
    m->offset += fx->msg[i].topic == topic;
  if (t == INT64_MIN) {
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    memcpy(m->buf, junk, sizeof junk);
    m->len = sizeof junk;
  } else
    m->len = encode(t, m->buf, sizeof m->buf);
  return (int)fx->n_msg++;
}

/* Push one message (see make); returns its index in fx->msg. */
static int push(fixture *fx, uint32_t topic, int64_t t, int64_t rec) {
  int i = make(fx, topic, t, rec);
  tmsg *m = &fx->msg[i];
  assert_int_equal(ks_merge_push(&fx->m, part(fx, topic), m, m->buf, m->len, rec), 0);
  return i;
}

/* Stage one message for fill to pull once it has arrived. */
static int stage(fixture *fx, uint32_t topic, int64_t t) {
  int i = make(fx, topic, t, -1);
  fx->src[topic].idx[fx->src[topic].n++] = i;
  return i;
}

static void expect_order(const fixture *fx, const int *want, int n) {
  assert_int_equal(fx->n_order, n);
  for (int i = 0; i < n; i++)
    assert_int_equal(fx->order[i], want[i]);
}

static void fixture_free(fixture *fx) {
  ks_merge_free(&fx->m);
  ks_engine_free(fx->e);
}

/* ---- the engine behind the merge (part two) ------------------------------- */

static int sink(void *ud, const char *topic, const void *key, size_t keylen, const void *value,
                size_t valuelen, const ks_result *r) {
  (void)topic, (void)key, (void)keylen, (void)value, (void)valuelen;
  results *g = ud;
  assert_true(g->n < 64);
  g->start[g->n] = r->interval_start_ms;
  g->value[g->n] = r->value;
  snprintf(g->metric[g->n], sizeof g->metric[0], "%s", r->metric);
  g->n++;
  return 0;
}

/* One task (partition 0) of two topics, bounded (--until-eof), lateness 0,
 * intervals 15 min, intervals.max_future_skew 1 h, the engine with the
 * counter plugin behind the merge, which holds the specs' messages; nothing
 * processed yet. */
static void fixture_start(fixture *fx, const spec *s, size_t n) {
  fixture_init(fx, 2, 1);
  ks_config cfg;
  ks_config_init(&cfg);
  fx->partitioner = cfg.partitioner;
  ks_engine_options o = {0};
  o.interval_ms = KS_TK_MIN(15);
  o.topics = topic_names;
  o.n_topics = 2;
  o.sink = sink;
  o.sink_ud = &fx->g;
  o.log_level = KS_LOG_ERROR;
  o.max_future_skew_ms = HOUR;
  char err[256];
  assert_int_equal(ks_engine_new(&fx->e, &o, err, sizeof err), 0);
  assert_int_equal(ks_engine_add_plugin(fx->e, KS_TEST_PLUGIN_BUILD_DIR "/counter.so", NULL, NULL,
                                        0, err, sizeof err),
                   0);
  assert_int_equal(ks_engine_task_open(fx->e, 0), 0);
  for (size_t i = 0; i < n; i++)
    push(fx, s[i].topic, s[i].event_ms, s[i].record_ms);
}

/* Both partitions reach their end (m.a first), then the end of the input
 * closes every open interval. */
static void fixture_end(fixture *fx) {
  for (uint32_t t = 0; t < 2; t++) {
    ks_merge_eof(&fx->m, part(fx, t));
    ks_merge_drain(&fx->m, 0);
  }
  ks_engine_flush_all(fx->e);
}

/* The engine's counts so far: events in, rejected, late. */
static void expect_counts(const fixture *fx, uint64_t in, uint64_t rejected, uint64_t late) {
  ks_engine_stats st;
  ks_engine_get_stats(fx->e, &st);
  assert_int_equal(st.events_in, in);
  assert_int_equal(st.events_rejected, rejected);
  assert_int_equal(st.events_late, late);
}

/* the number of "events" the counter plugin published for the interval at start */
static double events_in(const results *g, int64_t start) {
  for (int i = 0; i < g->n; i++)
    if (g->start[i] == start && strcmp(g->metric[i], "events") == 0)
      return g->value[i];
  return -1;
}

/* ---- part one: the merge alone --------------------------------------------- */

/* Three partitions of one task in a live run: the least event time first,
 * ties to the lower topic index; an empty partition holds the task until it
 * delivers or is quiet; its end alone does not let the task go on. */
static void orders_by_event_time_across_partitions(void **state) {
  (void)state;
  fixture fx;
  fixture_init(&fx, 3, 0);
  push(&fx, 0, T10, -1);                 /* 0 */
  push(&fx, 0, T10 + KS_TK_MIN(5), -1);  /* 1 */
  push(&fx, 0, T10 + KS_TK_MIN(20), -1); /* 2 */
  push(&fx, 1, T10 + KS_TK_MIN(1), -1);  /* 3 */
  push(&fx, 1, T10 + KS_TK_MIN(5), -1);  /* 4 */
  push(&fx, 2, T10 + KS_TK_MIN(3), -1);  /* 5 */
  assert_int_equal(ks_merge_drain(&fx.m, 0), 0);
  /* 10:00 a, 10:01 b, 10:03 c; then m.c is empty: wait */
  expect_order(&fx, (const int[]){0, 3, 5}, 3);
  assert_int_equal(ks_merge_buffered(&fx.m), 3);
  push(&fx, 2, T10 + KS_TK_MIN(30), -1); /* 6 */
  ks_merge_drain(&fx.m, 0);
  /* 10:05 a and 10:05 b tie: m.a first; then 10:05 b; m.b empty: wait */
  expect_order(&fx, (const int[]){0, 3, 5, 1, 4}, 5);
  ks_merge_quiet(&fx.m, part(&fx, 1)); /* m.b is quiet: the task goes on without it */
  assert_int_equal(fx.idle[1], 1);
  ks_merge_drain(&fx.m, 0);
  expect_order(&fx, (const int[]){0, 3, 5, 1, 4, 2}, 6); /* 10:20 a; m.a empty: wait */
  ks_merge_eof(&fx.m, part(&fx, 0)); /* a live run waits for quiet, not for the end */
  ks_merge_drain(&fx.m, 0);
  assert_int_equal(fx.n_order, 6);
  assert_int_equal(fx.idle[0], 0);
  ks_merge_quiet(&fx.m, part(&fx, 0));
  ks_merge_drain(&fx.m, 0);
  expect_order(&fx, (const int[]){0, 3, 5, 1, 4, 2, 6}, 7); /* 10:30 c */
  assert_int_equal(ks_merge_buffered(&fx.m), 0);
  /* a message makes a quiet partition hold the task again */
  push(&fx, 1, T10 + KS_TK_MIN(40), -1); /* 7 */
  assert_int_equal(part(&fx, 1)->quiet, 0);
  ks_merge_drain(&fx.m, 0); /* m.c (not quiet, empty) holds it */
  assert_int_equal(fx.n_order, 7);
  assert_int_equal(fx.dropped, 0);
  fixture_free(&fx);
}

/* A bounded run: a partition at its end with nothing buffered stops holding
 * the task (and the watermark: set_idle) at once; one that still buffers
 * messages only once they are processed; a message after its end makes it
 * active again. */
static void end_of_input_in_a_bounded_run(void **state) {
  (void)state;
  fixture fx;
  fixture_init(&fx, 2, 1);
  push(&fx, 0, T10, -1);                 /* 0 */
  push(&fx, 0, T10 + KS_TK_MIN(10), -1); /* 1 */
  ks_merge_drain(&fx.m, 0);
  assert_int_equal(fx.n_order, 0); /* m.b: empty, not at its end */
  ks_merge_eof(&fx.m, part(&fx, 1));
  assert_int_equal(fx.idle[1], 1);
  ks_merge_drain(&fx.m, 0);
  expect_order(&fx, (const int[]){0, 1}, 2);
  ks_merge_eof(&fx.m, part(&fx, 0));
  assert_int_equal(fx.idle[0], 1);
  push(&fx, 1, T10 + KS_TK_MIN(20), -1); /* 2: m.b active again */
  assert_int_equal(part(&fx, 1)->eof, 0);
  ks_merge_eof(&fx.m, part(&fx, 1));     /* its end seen while it holds 10:20 */
  assert_int_equal(fx.idle[1], 1);       /* not yet */
  push(&fx, 0, T10 + KS_TK_MIN(30), -1); /* 3 */
  ks_merge_drain(&fx.m, 0);
  /* 10:20 b (then m.b is drained at its end: idle), 10:30 a; m.a empty and
   * no longer at its end: wait */
  expect_order(&fx, (const int[]){0, 1, 2, 3}, 4);
  assert_int_equal(fx.idle[1], 2);
  assert_int_equal(fx.idle[0], 1);
  fixture_free(&fx);
}

/* A partition is pulled only when its buffer is empty: once per drain
 * while it stays empty, and again when a message taken from it leaves it
 * empty; a pull with nothing makes the task wait, a later drain asks
 * again; a revoke drops what it buffers and a revoked partition is never
 * pulled. */
static void pulls_only_an_empty_partition(void **state) {
  (void)state;
  fixture fx;
  fixture_init(&fx, 2, 0);
  fx.chunk = 2;
  for (int i = 0; i < 3; i++)
    stage(&fx, 0, T10 + KS_TK_MIN(i)); /* 0, 1, 2 */
  stage(&fx, 1, T10 + KS_TK_MIN(10));  /* 3 */
  fx.src[0].arrived = 3;
  ks_merge_drain(&fx.m, 0);
  /* both asked; m.b has nothing yet: wait, holding m.a's first pull */
  assert_int_equal(fx.fills[0], 1);
  assert_int_equal(fx.fills[1], 1);
  assert_int_equal(fx.n_order, 0);
  assert_int_equal(part(&fx, 0)->q_len, 2);
  ks_merge_drain(&fx.m, 0); /* m.a holds messages: only m.b is asked */
  assert_int_equal(fx.fills[0], 1);
  assert_int_equal(fx.fills[1], 2);
  fx.src[1].arrived = 1;
  ks_merge_drain(&fx.m, 0);
  /* m.a's 10:00 and 10:01 (then empty: pulled again, 10:02), 10:02; m.a
   * empty and pulled in vain: wait, holding m.b's 10:10 */
  expect_order(&fx, (const int[]){0, 1, 2}, 3);
  assert_int_equal(fx.fills[0], 3);
  assert_int_equal(fx.fills[1], 3);
  assert_int_equal(ks_merge_buffered(&fx.m), 1);
  ks_merge_revoke(&fx.m, part(&fx, 1));
  assert_int_equal(fx.dropped, 1);
  assert_int_equal(part(&fx, 1)->assigned, 0);
  stage(&fx, 1, T10 + KS_TK_MIN(11)); /* 4 */
  fx.src[1].arrived = 2;
  ks_merge_drain(&fx.m, 0);
  assert_int_equal(fx.fills[1], 3); /* not assigned: never pulled */
  assert_int_equal(fx.n_order, 3);
  fixture_free(&fx);
}

/* The order a bounded run processes a task in depends only on what each
 * partition holds, never on when it arrives or how much one pull returns:
 * 300 random schedules of arrivals (messages, then the partition's end),
 * pull sizes and drains process the 46 messages of three partitions
 * (out-of-order times, ties, an unreadable one, a sparse partition) in the
 * order of one drain over everything; each partition stops holding the
 * watermark exactly once, and the merge never holds more than one pull of a
 * partition. */
static void order_does_not_depend_on_arrival(void **state) {
  (void)state;
  static const int n_of[3] = {24, 16, 6};
  int want[NMSG], n_want = 0;
  uint64_t rnd = 0x9e3779b97f4a7c15u;
  for (int run = 0; run <= 300; run++) {
    fixture fx;
    fixture_init(&fx, 3, 1);
    for (uint32_t t = 0; t < 3; t++)
      for (int i = 0; i < n_of[t]; i++) {
        /* 10:00 + 2 min steps with 5-minute jitter back (out of order
         * within the partition), ties across partitions; one junk message */
        int64_t at = T10 + KS_TK_MIN(2 * i * (int)(t + 1)) - KS_TK_MIN((i * 7 + (int)t) % 3 * 5);
        stage(&fx, t, t == 1 && i == 5 ? INT64_MIN : at);
      }
    if (run == 0) { /* the reference: everything there, one drain */
      fx.chunk = 0;
      for (int t = 0; t < 3; t++)
        fx.src[t].arrived = fx.src[t].n, fx.src[t].eof_arrived = 1;
      ks_merge_drain(&fx.m, 0);
      assert_int_equal(fx.n_order, 46);
      memcpy(want, fx.order, sizeof want);
      n_want = fx.n_order;
      fixture_free(&fx);
      continue;
    }
    rnd = rnd * 6364136223846793005u + 1442695040888963407u;
    fx.chunk = 1 + (int)(rnd >> 60) % 5;
    for (int step = 0; fx.n_order < n_want; step++) {
      assert_true(step < 10000);
      rnd = rnd * 6364136223846793005u + 1442695040888963407u;
      int t = (int)(rnd >> 33) % 3;
      int more = 1 + (int)(rnd >> 40) % 4;
      if (fx.src[t].arrived < fx.src[t].n)
        fx.src[t].arrived =
            fx.src[t].arrived + more > fx.src[t].n ? fx.src[t].n : fx.src[t].arrived + more;
      else
        fx.src[t].eof_arrived = 1;
      if ((rnd >> 50) & 1)
        ks_merge_drain(&fx.m, 0);
      for (uint32_t k = 0; k < 3; k++)
        assert_true(part(&fx, k)->q_len <= (size_t)fx.chunk);
    }
    for (int t = 0; t < 3; t++)
      fx.src[t].eof_arrived = 1;
    ks_merge_drain(&fx.m, 0); /* the ends not pulled yet */
    expect_order(&fx, want, n_want);
    for (int t = 0; t < 3; t++)
      assert_int_equal(fx.idle[t], 1);
    fixture_free(&fx);
  }
}

/* Bytes that are no event, and an event beyond the task's time limit, go
 * first where they stand, before any ordered head. */
static void unreadable_and_too_far_go_first(void **state) {
  (void)state;
  fixture fx;
  fixture_init(&fx, 2, 0);
  fx.limit = T10 + KS_TK_MIN(30);
  push(&fx, 0, T10, -1);                 /* 0 */
  push(&fx, 0, T10 + KS_TK_MIN(50), -1); /* 1: beyond the limit */
  push(&fx, 1, INT64_MIN, -1);           /* 2: no event */
  push(&fx, 1, T10 + KS_TK_MIN(5), -1);  /* 3 */
  push(&fx, 1, Y3000, -1);               /* 4: outside the decoder's range */
  ks_merge_drain(&fx.m, 0);
  /* junk b; 10:00 a; then a's head (10:50) is beyond the limit: first;
   * m.a empty: wait (10:05 b and year 3000 stay) */
  expect_order(&fx, (const int[]){2, 0, 1}, 3);
  push(&fx, 0, T10 + KS_TK_MIN(10), -1); /* 5 */
  fx.limit = INT64_MAX;                  /* no bound: only the decoder's range refuses year 3000 */
  ks_merge_drain(&fx.m, 0);
  /* 10:05 b, then year 3000 b ahead of 10:10 a; m.b empty: wait */
  expect_order(&fx, (const int[]){2, 0, 1, 3, 4}, 5);
  fixture_free(&fx);
}

/* process asks to stop (the run is stopping): the drain stops after that
 * message, and ks_merge_free() drops what is left. */
static void process_stops_the_drain(void **state) {
  (void)state;
  fixture fx;
  fixture_init(&fx, 1, 0);
  for (int i = 0; i < 3; i++)
    push(&fx, 0, T10 + KS_TK_MIN(i), -1);
  fx.stop_after = 2;
  assert_int_equal(ks_merge_drain_all(&fx.m), 1);
  expect_order(&fx, (const int[]){0, 1}, 2);
  assert_int_equal(ks_merge_buffered(&fx.m), 1);
  ks_merge_free(&fx.m);
  assert_int_equal(fx.dropped, 1);
  fixture_free(&fx);
}

/* ---- part two: the engine behind the merge ------------------------------ */

/* ---- tests ---------------------------------------------------------------- */

static void peek_reads_the_time_the_decoder_reads(void **state) {
  (void)state;
  uint8_t buf[512];
  size_t n = encode(T10, buf, sizeof buf);
  int64_t t = 0;
  assert_int_equal(ks_peek_event_time(buf, n, &t), 0);
  assert_true(t == T10);
  n = encode(Y3000, buf, sizeof buf);
  assert_int_equal(ks_peek_event_time(buf, n, &t), 0);
  assert_true(t == Y3000);
  assert_false(ks_event_time_in_range(Y3000)); /* the decoder's rule: refused */
  assert_true(ks_event_time_in_range(Y2099));
  /* a later field 2 wins, as in protobuf: 0x10 = field 2, varint */
  buf[n] = 0x10;
  buf[n + 1] = 0x05;
  assert_int_equal(ks_peek_event_time(buf, n + 2, &t), 0);
  assert_true(t == 5);
  /* cut inside a field, or no time at all: unreadable */
  assert_int_equal(ks_peek_event_time(buf, n - 1, &t), -1);
  static const uint8_t no_time[] = {0x1a, 0x01, 'x'}; /* tenant "x" only */
  assert_int_equal(ks_peek_event_time(no_time, sizeof no_time, &t), -1);
  /* field number 0 (here written as the two bytes 0x80 0x00): protobuf-c
   * skips it as an unknown field, and so does the peek (it used to give up) */
  static const uint8_t field0[] = {0x80, 0x00, 0x07, 0x10, 0x05};
  assert_int_equal(ks_peek_event_time(field0, sizeof field0, &t), 0);
  assert_true(t == 5);
}

/* A year-3000 event at the head of m.a: refused at once, the events behind it
 * merge in time order with m.b's. Before: ordered by its time, it held all of
 * m.a while m.b ran on alone (3 events processed, not 6). */
static void year_3000_does_not_hold_the_merge(void **state) {
  (void)state;
  const spec s[] = {{0, Y3000, T10},
                    {0, T10, T10},
                    {0, T10 + KS_TK_MIN(5), T10},
                    {0, T10 + KS_TK_MIN(20), T10},
                    {1, T10 + KS_TK_MIN(1), T10},
                    {1, T10 + KS_TK_MIN(16), T10},
                    {1, T10 + KS_TK_MIN(31), T10}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  ks_merge_drain(&fx.m, 0);
  /* Y3000 (refused), 10:00 a, 10:01 b, 10:05 a, 10:16 b, 10:20 a; then m.a
   * is empty and not at its end: 10:31 b waits */
  expect_counts(&fx, 6, 1, 0);
  assert_true(ks_engine_partition_time(fx.e, 0, 0) == T10 + KS_TK_MIN(20));
  assert_true(ks_engine_partition_time(fx.e, 0, 1) == T10 + KS_TK_MIN(16));
  assert_true(ks_engine_watermark(fx.e, 0) == T10 + KS_TK_MIN(16));
  assert_int_equal(part(&fx, 1)->q_len, 1);
  /* the ends: 10:31 b, then everything closes */
  fixture_end(&fx);
  expect_counts(&fx, 7, 1, 0);
  assert_true(events_in(&fx.g, T10) == 3.0);
  assert_true(events_in(&fx.g, T10 + KS_TK_MIN(15)) == 2.0);
  assert_true(events_in(&fx.g, T10 + KS_TK_MIN(30)) == 1.0);
  fixture_free(&fx);
}

/* A 2099 event (the decoder accepts it) in the middle of m.a, more than
 * intervals.max_future_skew ahead of the task and of its record timestamp:
 * refused where it stands, never ordered by its time, so it neither holds
 * m.a nor closes the task's intervals. Before: it held m.a until m.b was
 * drained, then was accepted and closed every interval through 2099. */
static void far_future_is_refused_in_place(void **state) {
  (void)state;
  const spec s[] = {{0, T10, T10},
                    {0, Y2099, T10 + KS_TK_MIN(1)},
                    {0, T10 + KS_TK_MIN(10), T10 + KS_TK_MIN(10)},
                    {1, T10 + KS_TK_MIN(2), T10 + KS_TK_MIN(2)},
                    {1, T10 + KS_TK_MIN(12), T10 + KS_TK_MIN(12)},
                    {1, T10 + KS_TK_MIN(14), T10 + KS_TK_MIN(14)}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  ks_merge_drain(&fx.m, 0);
  /* 10:00 a, 2099 a (refused), 10:02 b, 10:10 a; m.a empty: wait */
  expect_counts(&fx, 4, 1, 0);
  assert_true(ks_engine_partition_time(fx.e, 0, 0) == T10 + KS_TK_MIN(10));
  assert_true(ks_engine_watermark(fx.e, 0) == T10 + KS_TK_MIN(2));
  fixture_end(&fx);
  expect_counts(&fx, 6, 1, 0);
  ks_engine_stats st;
  ks_engine_get_stats(fx.e, &st);
  assert_int_equal(st.intervals_closed, 1);
  assert_true(events_in(&fx.g, T10) == 5.0);
  fixture_free(&fx);
}

/* The merge orders by a time only while the engine would accept it: the
 * bound grows with the task. An event 50 min ahead of the task waits in time
 * order (it is not refused); one 70 min ahead of both the task and its record
 * time is refused. */
static void the_bound_follows_the_task(void **state) {
  (void)state;
  const spec s[] = {{0, T10, T10},
                    {0, T10 + KS_TK_MIN(50), T10},
                    {0, T10 + KS_TK_MIN(130), T10 + KS_TK_MIN(40)},
                    {1, T10 + KS_TK_MIN(5), T10},
                    {1, T10 + KS_TK_MIN(55), T10}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  ks_merge_drain(&fx.m, 0);
  /* 10:00 a, 10:05 b, 10:50 a (within max(10:05, 10:00) + 1 h: ordered by
   * its time, after 10:05 b); then the head of m.a is 12:10, beyond
   * max(10:50, record time 10:40) + 1 h = 11:50: refused before 10:55 b,
   * which then waits for m.a */
  expect_counts(&fx, 4, 1, 0);
  assert_true(ks_engine_partition_time(fx.e, 0, 0) == T10 + KS_TK_MIN(50));
  assert_true(ks_engine_partition_time(fx.e, 0, 1) == T10 + KS_TK_MIN(5));
  assert_int_equal(part(&fx, 1)->q_len, 1);
  assert_true(ks_engine_time_limit(fx.e, 0, T10) == T10 + KS_TK_MIN(110));
  assert_true(ks_engine_time_limit(fx.e, 0, T10 + KS_TK_MIN(70)) == T10 + KS_TK_MIN(130));
  fixture_free(&fx);
}

/* A partition whose end is seen while it still buffers messages stops
 * holding the watermark only once they are processed. Before, it was marked
 * idle at once; its first processed message made it active again, and it then
 * held the watermark at its last time until the end of the run. */
static void end_of_partition_counts_after_its_buffer(void **state) {
  (void)state;
  const spec s[] = {{0, T10, T10},
                    {0, T10 + KS_TK_MIN(20), T10},
                    {0, T10 + KS_TK_MIN(40), T10},
                    {1, T10 + KS_TK_MIN(1), T10}};
  fixture fx;
  fixture_start(&fx, s, sizeof s / sizeof s[0]);
  ks_merge_eof(&fx.m, part(&fx, 1)); /* m.b at its end, 10:01 still buffered */
  assert_true(ks_engine_watermark(fx.e, 0) == INT64_MIN);
  ks_merge_drain(&fx.m, 0);
  /* 10:00 a, 10:01 b (m.b now drained at its end: idle), 10:20 a, 10:40 a:
   * the watermark follows m.a alone and closes 10:00 and 10:15 */
  expect_counts(&fx, 4, 0, 0);
  assert_true(ks_engine_watermark(fx.e, 0) == T10 + KS_TK_MIN(40));
  ks_engine_stats st;
  ks_engine_get_stats(fx.e, &st);
  assert_int_equal(st.intervals_closed, 2);
  assert_true(events_in(&fx.g, T10) == 2.0);
  assert_true(events_in(&fx.g, T10 + KS_TK_MIN(15)) == 1.0);
  fixture_free(&fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(orders_by_event_time_across_partitions),
      cmocka_unit_test(end_of_input_in_a_bounded_run),
      cmocka_unit_test(pulls_only_an_empty_partition),
      cmocka_unit_test(order_does_not_depend_on_arrival),
      cmocka_unit_test(unreadable_and_too_far_go_first),
      cmocka_unit_test(process_stops_the_drain),
      cmocka_unit_test(peek_reads_the_time_the_decoder_reads),
      cmocka_unit_test(year_3000_does_not_hold_the_merge),
      cmocka_unit_test(far_future_is_refused_in_place),
      cmocka_unit_test(the_bound_follows_the_task),
      cmocka_unit_test(end_of_partition_counts_after_its_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
