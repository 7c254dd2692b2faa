/*
 * experience plugin — interval close: one result per metric, dimension group
 * and interval, from the windowed tables. A section (CSAT, NPS, CES,
 * sentiment, complaints) is emitted for a group when the group had input for
 * it in the interval; its ratios may still be null (zero denominator).
 * Reasons are ranked within their group here (top_reasons), complaint
 * categories are divided by their queue's handled contacts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experience_internal.h"

typedef struct ex_emitter {
  ex_plugin *p;
  ks_emitter em; /* task, the result's dimensions */
  char lval[2][KS_KEY_MAX];
  ks_label labels[2];
} ex_emitter;

/* Labels for the next results (0, 1 or 2 of them). */
static void em_labels(ex_emitter *e, size_t n, const char *k0, const char *k1) {
  e->labels[0].key = k0;
  e->labels[0].value = e->lval[0];
  e->labels[1].key = k1;
  e->labels[1].value = e->lval[1];
  e->em.r.labels = n ? e->labels : NULL;
  e->em.r.n_labels = n;
}

static const char *const scale_names[EX_CSAT_NSCALES] = {"1-3", "1-5", "1-10"};

/* Every section of one group; `queue_level` adds the per-scale CSAT means. */
static void emit_agg(ex_emitter *e, const ex_agg *a, int queue_level) {
  em_labels(e, 0, NULL, NULL);
  if (a->csat_n > 0) {
    ks_emit_ratio(&e->em, "csat", (double)a->csat_sat, (double)a->csat_n, a->csat_n, "ratio");
    ks_emit_ratio(&e->em, "csat_mean", a->csat_norm_sum, (double)a->csat_n, a->csat_n, "score");
    for (int i = 0; queue_level && i < EX_CSAT_NSCALES; i++) {
      if (a->csat_scale_n[i] == 0)
        continue;
      snprintf(e->lval[0], sizeof e->lval[0], "%s", scale_names[i]);
      em_labels(e, 1, "scale", NULL);
      ks_emit_ratio(&e->em, "csat_mean_raw", (double)a->csat_scale_sum[i],
                    (double)a->csat_scale_n[i], a->csat_scale_n[i], "score");
      em_labels(e, 0, NULL, NULL);
    }
  }
  const int64_t nps_n = ks_add3_i64(a->nps_pro, a->nps_pas, a->nps_det);
  if (nps_n > 0) {
    ks_emit_ratio(&e->em, "nps", 100.0 * (double)ks_sub_i64(a->nps_pro, a->nps_det), (double)nps_n,
                  nps_n, "score");
    ks_emit_count(&e->em, "nps_promoters", a->nps_pro, "count");
    ks_emit_count(&e->em, "nps_passives", a->nps_pas, "count");
    ks_emit_count(&e->em, "nps_detractors", a->nps_det, "count");
  }
  if (a->ces_n > 0) {
    ks_emit_ratio(&e->em, "ces_mean", a->ces_sum, (double)a->ces_n, a->ces_n, "score");
    ks_emit_ratio(&e->em, "ces_easy_share", (double)a->ces_easy, (double)a->ces_n, a->ces_n,
                  "ratio");
  }
  if (a->sen_n > 0) {
    ks_emit_ratio(&e->em, "sentiment_avg", a->sen_sum, (double)a->sen_n, a->sen_n, "score");
    ks_emit_ratio(&e->em, "net_sentiment", (double)ks_sub_i64(a->sen_pos, a->sen_neg),
                  (double)a->sen_n, a->sen_n, "ratio");
    ks_emit_ratio(&e->em, "sentiment_change", a->sen_change_sum, (double)a->sen_se_n, a->sen_se_n,
                  "score");
  }
  if (a->handled > 0 || a->complaints > 0) {
    ks_emit_count(&e->em, "complaints", a->complaints, "count");
    ks_emit_ratio(&e->em, "complaint_rate", (double)a->complaints, (double)a->handled, a->handled,
                  "ratio");
  }
  if (a->handled > 0 || a->responses > 0) {
    ks_emit_count(&e->em, "survey_responses", a->responses, "count");
    ks_emit_ratio(&e->em, "survey_response_rate", (double)a->responses, (double)a->handled,
                  a->handled, "ratio");
  }
}

static int emit_queue(void *ud, const void *key, size_t keylen, void *record) {
  ex_emitter *e = ud;
  if (ks_emitter_dims(&e->em, key, keylen, 0) == 0)
    emit_agg(e, record, 1);
  return 0;
}

static int emit_agent(void *ud, const void *key, size_t keylen, void *record) {
  ex_emitter *e = ud;
  if (ks_emitter_dims(&e->em, key, keylen, 1) == 0)
    emit_agg(e, record, 0);
  return 0;
}

/* ---- records gathered for sorting and lookup ----------------------------------------- */

typedef struct ex_ref {
  const uint8_t *key;
  size_t keylen;
  size_t glen; /* bytes of the group part (tenant, channel, queue) */
  const void *rec;
} ex_ref;

typedef struct ex_refs {
  ex_ref *v;
  size_t n, cap;
} ex_refs;

/* Bytes of the first `parts` parts of a ks_key. */
static size_t prefix_len(const uint8_t *key, size_t keylen, int parts) {
  size_t off = 0;
  for (int i = 0; i < parts && off < keylen; i++)
    off += 1 + (size_t)key[off];
  return off < keylen ? off : keylen;
}

static int count_cb(void *ud, const void *key, size_t keylen, void *record) {
  (void)key;
  (void)keylen;
  (void)record;
  ((ex_refs *)ud)->cap++;
  return 0;
}

static int fill_cb(void *ud, const void *key, size_t keylen, void *record) {
  ex_refs *rs = ud;
  if (rs->n == rs->cap)
    return 0;
  ex_ref *r = &rs->v[rs->n++];
  r->key = key;
  r->keylen = keylen;
  r->glen = prefix_len(key, keylen, 3);
  r->rec = record;
  return 0;
}

/* Every record of the interval of table t; rs->v is NULL when there are none. */
static int gather(ex_plugin *p, ks_task *task, ks_table *t, int64_t iv, ex_refs *rs) {
  memset(rs, 0, sizeof *rs);
  int rc = p->api->window_foreach(task, t, iv, count_cb, rs);
  if (rc != 0 || rs->cap == 0)
    return rc;
  rs->v = p->api->alloc(rs->cap * sizeof *rs->v);
  if (rs->v == NULL)
    return KS_ENOMEM;
  return p->api->window_foreach(task, t, iv, fill_cb, rs);
}

static int cmp_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
  size_t n = na < nb ? na : nb;
  int c = memcmp(a, b, n);
  if (c != 0)
    return c;
  return na < nb ? -1 : na > nb;
}

static int cmp_key(const void *x, const void *y) {
  const ex_ref *a = x, *b = y;
  return cmp_bytes(a->key, a->keylen, b->key, b->keylen);
}

/* Group, then volume descending, then reason code ascending. */
static int cmp_reason(const void *x, const void *y) {
  const ex_ref *a = x, *b = y;
  int c = cmp_bytes(a->key, a->glen, b->key, b->glen);
  if (c != 0)
    return c;
  const int64_t na = ((const ex_count *)a->rec)->n, nb = ((const ex_count *)b->rec)->n;
  if (na != nb)
    return na > nb ? -1 : 1;
  /* the reason part: skip its length byte, compare the codes */
  const size_t ga = a->glen + 1, gb = b->glen + 1;
  return cmp_bytes(a->key + ga, a->keylen > ga ? a->keylen - ga : 0, b->key + gb,
                   b->keylen > gb ? b->keylen - gb : 0);
}

/* ---- complaint categories ------------------------------------------------------------- */

static int emit_categories(ex_emitter *e, int64_t iv) {
  ex_plugin *p = e->p;
  ex_refs cats, queues;
  int rc = gather(p, e->em.task, p->by_category, iv, &cats);
  if (rc != 0 || cats.n == 0) {
    p->api->free(cats.v);
    return rc;
  }
  rc = gather(p, e->em.task, p->by_queue, iv, &queues);
  if (rc == 0 && queues.n > 1)
    qsort(queues.v, queues.n, sizeof *queues.v, cmp_key);
  for (size_t i = 0; rc == 0 && i < cats.n; i++) {
    const ex_ref *c = &cats.v[i];
    if (ks_emitter_dims(&e->em, c->key, c->keylen, 0) != 0 ||
        ks_key_part(c->key, c->keylen, 3, e->lval[0], sizeof e->lval[0]) < 0)
      continue;
    const ex_ref want = {c->key, c->glen, c->glen, NULL};
    const ex_ref *q = queues.n ? bsearch(&want, queues.v, queues.n, sizeof want, cmp_key) : NULL;
    const int64_t handled = q ? ((const ex_agg *)q->rec)->handled : 0;
    const int64_t n = ((const ex_count *)c->rec)->n;
    em_labels(e, 1, "category", NULL);
    ks_emit_count(&e->em, "complaints_by_category", n, "count");
    ks_emit_ratio(&e->em, "complaint_rate_by_category", (double)n, (double)handled, handled,
                  "ratio");
  }
  em_labels(e, 0, NULL, NULL);
  p->api->free(queues.v);
  p->api->free(cats.v);
  return rc;
}

/* ---- contact reasons -------------------------------------------------------------------- */

static void emit_reason_group(ex_emitter *e, const ex_ref *g, size_t n) {
  const ex_config *cfg = &e->p->cfg;
  if (ks_emitter_dims(&e->em, g[0].key, g[0].keylen, 0) != 0)
    return;
  int64_t total = 0, self = 0;
  for (size_t i = 0; i < n; i++)
    total += ((const ex_count *)g[i].rec)->n;
  for (size_t i = 0; i < n; i++) {
    const int64_t v = ((const ex_count *)g[i].rec)->n;
    int len = ks_key_part(g[i].key, g[i].keylen, 3, e->lval[0], sizeof e->lval[0]);
    if (len < 0)
      continue;
    if (cfg->n_self && ex_is_self_service(cfg, e->lval[0], (size_t)len))
      self += v;
    em_labels(e, 1, "reason", NULL);
    ks_emit_count(&e->em, "reason_volume", v, "contacts");
    if (i < (size_t)cfg->top_reasons) {
      /* labels rank, reason: the key stays "rank=1,reason=..." */
      snprintf(e->lval[1], sizeof e->lval[1], "%s", e->lval[0]);
      snprintf(e->lval[0], sizeof e->lval[0], "%zu", i + 1);
      em_labels(e, 2, "rank", "reason");
      ks_emit_ratio(&e->em, "top_reason", (double)v, (double)total, total, "ratio");
    }
  }
  em_labels(e, 0, NULL, NULL);
  ks_emit_count(&e->em, "reason_contacts", total, "contacts");
  if (cfg->n_self)
    ks_emit_ratio(&e->em, "self_service_share", (double)self, (double)total, total, "ratio");
}

static int emit_reasons(ex_emitter *e, int64_t iv) {
  ex_plugin *p = e->p;
  ex_refs rs;
  int rc = gather(p, e->em.task, p->by_reason, iv, &rs);
  if (rc == 0 && rs.n > 0) {
    qsort(rs.v, rs.n, sizeof *rs.v, cmp_reason);
    size_t i = 0;
    while (i < rs.n) {
      size_t j = i + 1;
      while (j < rs.n && cmp_bytes(rs.v[i].key, rs.v[i].glen, rs.v[j].key, rs.v[j].glen) == 0)
        j++;
      emit_reason_group(e, &rs.v[i], j - i);
      i = j;
    }
  }
  p->api->free(rs.v);
  return rc;
}

/* ---- the interval ----------------------------------------------------------------------- */

int ex_emit_interval(ex_plugin *p, ks_task *task, const ks_interval *iv) {
  ex_emitter *e = p->api->alloc(sizeof *e); /* once per interval, not per event */
  if (e == NULL)
    return KS_ENOMEM;
  memset(e, 0, sizeof *e);
  e->p = p;
  ks_emitter_init(&e->em, p->api, p->ctx, task, iv);
  int rc = p->api->window_foreach(task, p->by_queue, iv->start_ms, emit_queue, e);
  if (rc == 0 && p->cfg.per_agent != EX_AGENT_OFF)
    rc = p->api->window_foreach(task, p->by_agent, iv->start_ms, emit_agent, e);
  if (rc == 0)
    rc = emit_categories(e, iv->start_ms);
  if (rc == 0)
    rc = emit_reasons(e, iv->start_ms);
  const int failed = e->em.failed;
  p->api->free(e);
  return rc != 0 || failed ? KS_EPLUGIN : 0;
}
