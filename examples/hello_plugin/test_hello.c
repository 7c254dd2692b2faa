/*
 * test_hello — the hello plugin under the plugin test kit (kpistream/testkit.h):
 * no broker, the real engine in process. HELLO_PLUGIN is the path of the
 * built kpi_hello.so (CMakeLists.txt passes it). Exit status 0 = pass.
 */
#include <stdio.h>
#include <string.h>

#include <kpistream/testkit.h>

#define VOICE KPISTREAM__V1__CHANNEL__CHANNEL_VOICE
#define CHAT  KPISTREAM__V1__CHANNEL__CHANNEL_CHAT
#define IV    KS_TK_MIN(15)

static int failures;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

/* The "queued" result of queue q on channel ch for the interval at start. */
static const ks_testkit_result *queued(const ks_testkit *tk, const char *q, int ch, int64_t start) {
  const ks_testkit_result *hit = NULL;
  for (size_t i = 0; i < ks_testkit_result_count(tk); i++) {
    const ks_testkit_result *r = ks_testkit_result_at(tk, i);
    if (strcmp(r->metric, "queued") == 0 && strcmp(r->queue, q) == 0 && r->channel == ch &&
        r->start_ms == start) {
      CHECK(hit == NULL); /* one record per tenant, queue and channel */
      hit = r;
    }
  }
  return hit;
}

/* A kit with the plugin loaded with `opts` (n of them); NULL on refusal,
 * with the message in err. */
static ks_testkit *kit_with(const ks_testkit_kv *opts, size_t n, char *err, size_t errsz) {
  ks_testkit *tk;
  if (ks_testkit_new(&tk, NULL, err, errsz) != 0)
    return NULL;
  if (ks_testkit_add_plugin(tk, HELLO_PLUGIN, NULL, opts, n, err, errsz) != 0) {
    ks_testkit_free(tk);
    return NULL;
  }
  return tk;
}

static ks_testkit *kit(void) {
  char err[512];
  ks_testkit *tk = kit_with(NULL, 0, err, sizeof err);
  if (tk == NULL)
    fprintf(stderr, "kit: %s\n", err);
  return tk;
}

/* Voice and chat contacts queued in the same queue are two records, each
 * with its own channel and count: 2 voice, 1 chat in "sales", 1 voice in
 * "support". */
static void test_keyed_by_channel(void) {
  ks_testkit *tk = kit();
  if (tk == NULL) {
    failures++;
    return;
  }
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(10), VOICE, "sales", "c1", "u1") ==
        KS_TESTKIT_PROCESSED);
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(20), CHAT, "sales", "c2", "u2") ==
        KS_TESTKIT_PROCESSED);
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(30), VOICE, "sales", "c3", "u3") ==
        KS_TESTKIT_PROCESSED);
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(40), VOICE, "support", "c4", "u4") ==
        KS_TESTKIT_PROCESSED);
  /* an answer is no queued contact: the plugin does not ask for it */
  CHECK(ks_tk_answered(tk, KS_TK_T0 + KS_TK_SEC(50), VOICE, "sales", "c1", "a1") ==
        KS_TESTKIT_PROCESSED);
  /* nothing before the interval closes */
  CHECK(ks_testkit_result_count(tk) == 0);
  CHECK(ks_testkit_advance_to(tk, 0, KS_TK_T0 + IV) == 0);
  CHECK(ks_testkit_result_count(tk) == 3);
  const ks_testkit_result *v = queued(tk, "sales", VOICE, KS_TK_T0);
  const ks_testkit_result *c = queued(tk, "sales", CHAT, KS_TK_T0);
  const ks_testkit_result *s = queued(tk, "support", VOICE, KS_TK_T0);
  CHECK(v && v->has_value && v->value == 2.0 && v->count == 2);
  CHECK(c && c->has_value && c->value == 1.0 && c->count == 1);
  CHECK(s && s->has_value && s->value == 1.0);
  CHECK(v && strcmp(v->topic, "kpi.hello") == 0 && strcmp(v->tenant, KS_TK_TENANT) == 0);
  CHECK(v && v->end_ms == KS_TK_T0 + IV && v->aggregation == KS_AGG_SUM && v->revision == 0);
  CHECK(ks_testkit_flush(tk) == 0);
  ks_testkit_free(tk);
}

/* The interval's counts survive a restart from a checkpoint: 1 queued
 * before, 1 after, 2 in the one record. */
static void test_restart(void) {
  ks_testkit *tk = kit();
  if (tk == NULL) {
    failures++;
    return;
  }
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(10), CHAT, "sales", "c1", "u1") == 0);
  char err[512];
  if (ks_testkit_restart(tk, err, sizeof err) != 0) {
    fprintf(stderr, "restart: %s\n", err);
    failures++;
  }
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(20), CHAT, "sales", "c2", "u2") == 0);
  CHECK(ks_testkit_flush(tk) == 0);
  CHECK(ks_testkit_result_count(tk) == 1);
  const ks_testkit_result *c = queued(tk, "sales", CHAT, KS_TK_T0);
  CHECK(c && c->value == 2.0);
  ks_testkit_free(tk);
}

/* min_count: 2 publishes only the group that queued two contacts; the host
 * refuses a value that is no integer (the option map) and the plugin one
 * below 1 (init_ex), each naming the option. */
static void test_min_count(void) {
  char err[512];
  const ks_testkit_kv two[] = {{"min_count", "2"}};
  ks_testkit *tk = kit_with(two, 1, err, sizeof err);
  if (tk == NULL) {
    fprintf(stderr, "kit: %s\n", err);
    failures++;
    return;
  }
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(10), VOICE, "sales", "c1", "u1") == 0);
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(20), VOICE, "sales", "c2", "u2") == 0);
  CHECK(ks_tk_queued(tk, KS_TK_T0 + KS_TK_SEC(30), CHAT, "sales", "c3", "u3") == 0);
  CHECK(ks_testkit_flush(tk) == 0);
  CHECK(ks_testkit_result_count(tk) == 1);
  const ks_testkit_result *v = queued(tk, "sales", VOICE, KS_TK_T0);
  CHECK(v && v->value == 2.0);
  ks_testkit_free(tk);

  const ks_testkit_kv word[] = {{"min_count", "two"}};
  CHECK(kit_with(word, 1, err, sizeof err) == NULL && strstr(err, "min_count") != NULL);
  const ks_testkit_kv zero[] = {{"min_count", "0"}};
  CHECK(kit_with(zero, 1, err, sizeof err) == NULL && strstr(err, "must be at least 1") != NULL);
  const ks_testkit_kv typo[] = {{"min_cuont", "2"}};
  CHECK(kit_with(typo, 1, err, sizeof err) == NULL && strstr(err, "min_cuont") != NULL);
}

int main(void) {
  test_keyed_by_channel();
  test_restart();
  test_min_count();
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("test_hello: all checks passed\n");
  return failures ? 1 : 0;
}
