/*
 * ops_reference — the operations formulas of docs/metrics.md computed from a
 * whole log at once (see ops_reference.h). Written from the documentation,
 * not from the plugin: per contact, its events sorted by time; queue visits,
 * legs, FCR, first response, resolutions and reopens read off that list.
 */
#include "ops_reference.h"

#include <stdlib.h>
#include <string.h>

#include "kpistream/v1/events.pb-c.h"

#define B(x) KPISTREAM__V1__EVENT__BODY_##x

/* The plugin's defaults (docs/metrics.md, "Configuration"). */
/* service_level.threshold.<channel> defaults (docs/metrics.md): 20 s for
 * voice and chat, 1 h for email (channel 2) */
#define SL_T_MS(ch) ((ch) == 2 ? INT64_C(3600000) : INT64_C(20000))
/* first_response.threshold.<channel>: defaults to the channel's T */
#define FRT_T_MS(ch) SL_T_MS(ch)
#define SHORT_MS     5000                    /* short_abandon_threshold */
#define FCR_WINDOW   (INT64_C(7) * 86400000) /* fcr.window */

typedef struct qrec {
  int64_t iv;
  int channel;
  char queue[16];
  int64_t offered, answered, ans_known, ans_in_t, wait_ms, max_wait, n_waits;
  int64_t handled, handle, talk, hold, held, acw, xfer, esc, fcr_n, fcr_rep;
  int64_t ab_all, ab_known, ab_short, ab_wait; /* ab_wait: of the abandons not short */
  int64_t frt_n, frt_ms, frt_in_t, res_n, res_ms, res_ot, reopened, fres_n, fres_ms;
  int64_t callbacks, cb_answered;
} qrec;

typedef struct arec {
  int64_t iv;
  int channel;
  char queue[16];
  char agent[16];
  int64_t answered, handled, handle, hold, held, acw, xfer;
  int64_t fcr_n, fcr_rep, frt_n, frt_ms, frt_in_t, res_n, res_ms, res_ot;
  int64_t offers, rna, ring_in_t, ring_unk, reopened;
} arec;

typedef struct ref {
  int64_t ivms;
  ops_per_agent per_agent;
  qrec *q;
  size_t nq, capq;
  arec *a;
  size_t na, capa;
} ref;

static int64_t iv_of(const ref *r, int64_t t) {
  int64_t m = t % r->ivms;
  if (m < 0)
    m += r->ivms;
  return t - m;
}

/* The next element (zeroed) of a growing array whose pointer is at *arr
 * (any element pointer type: copied through memcpy); aborts when out of
 * memory (test code). */
static void *grow(void *arr, size_t *n, size_t *cap, size_t elem) {
  char *base;
  memcpy(&base, arr, sizeof base);
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 64;
    base = realloc(base, c * elem);
    if (base == NULL)
      abort();
    memcpy(arr, &base, sizeof base);
    *cap = c;
  }
  char *e = base + (*n)++ * elem;
  memset(e, 0, elem);
  return e;
}

static qrec *qget(ref *r, int64_t t, int channel, const char *queue) {
  const int64_t iv = iv_of(r, t);
  for (size_t i = 0; i < r->nq; i++)
    if (r->q[i].iv == iv && r->q[i].channel == channel && strcmp(r->q[i].queue, queue) == 0)
      return &r->q[i];
  qrec *q = grow(&r->q, &r->nq, &r->capq, sizeof *q);
  q->iv = iv;
  q->channel = channel;
  strcpy(q->queue, queue);
  return q;
}

/* The per-agent record of an event in (channel, queue), per the per_agent
 * option: tenant x channel x agent, x queue as well, or all channels. */
static arec *aget(ref *r, int64_t t, int channel, const char *queue, const char *agent) {
  const int64_t iv = iv_of(r, t);
  if (r->per_agent == OPS_AGENT_ALL)
    channel = 0;
  if (r->per_agent != OPS_AGENT_QUEUE)
    queue = "";
  for (size_t i = 0; i < r->na; i++)
    if (r->a[i].iv == iv && r->a[i].channel == channel && strcmp(r->a[i].queue, queue) == 0 &&
        strcmp(r->a[i].agent, agent) == 0)
      return &r->a[i];
  arec *a = grow(&r->a, &r->na, &r->capa, sizeof *a);
  a->iv = iv;
  a->channel = channel;
  strcpy(a->queue, queue);
  strcpy(a->agent, agent);
  return a;
}

static int64_t clamp0(int64_t v) {
  return v < 0 ? 0 : v;
}

/* Order of events of equal time within a leg (docs: an answer opens it, a
 * wrap-up closes it). */
static int rank(uint32_t body) {
  switch (body) {
  case B(CONTACT_ANSWERED):
    return 1;
  case B(HOLD_STARTED):
    return 2;
  case B(HOLD_ENDED):
    return 3;
  case B(CONTACT_ENDED):
    return 4;
  case B(CONTACT_TRANSFERRED):
    return 5;
  case B(CONTACT_ESCALATED):
    return 6;
  case B(ACW_ENDED):
    return 7;
  default:
    return 0;
  }
}

static int by_id(const void *a, const void *b) {
  const ops_ev *x = *(const ops_ev *const *)a, *y = *(const ops_ev *const *)b;
  return strcmp(x->id, y->id);
}

static int by_contact_time(const void *a, const void *b) {
  const ops_ev *x = *(const ops_ev *const *)a, *y = *(const ops_ev *const *)b;
  int c = strcmp(x->contact, y->contact);
  if (c)
    return c;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return rank(x->body) - rank(y->body);
}

/* A counted FCR handling: the customer's, for repeats. */
typedef struct handling {
  const char *customer;
  const char *contact;
  int64_t t;
} handling;

/* What one contact's events say. ev[0..n) sorted by time. */
typedef struct contact {
  const ops_ev **ev;
  size_t n;
  int64_t start;
  int start_known;
  int64_t reopen;
  int reopened;
} contact;

static int episode(const contact *c, int64_t t) {
  return c->reopened && t >= c->reopen ? 1 : 0;
}

static int is_text(int ch) {
  return ch == KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL || ch == KPISTREAM__V1__CHANNEL__CHANNEL_CHAT;
}

/* Offered, answered, abandoned per (queue, episode) of the contact. */
static void queues(ref *r, const contact *c) {
  for (size_t i = 0; i < c->n; i++) {
    const ops_ev *e = c->ev[i];
    const int starts = e->body == B(CONTACT_QUEUED) ||
                       (e->body == B(CONTACT_CREATED) && is_text(e->channel) && e->queue[0]);
    if (!starts)
      continue;
    /* the first start event of this (queue, episode) offers it */
    int first = 1;
    for (size_t j = 0; j < i && first; j++) {
      const ops_ev *f = c->ev[j];
      if ((f->body == B(CONTACT_QUEUED) ||
           (f->body == B(CONTACT_CREATED) && is_text(f->channel) && f->queue[0])) &&
          strcmp(f->queue, e->queue) == 0 && episode(c, f->t) == episode(c, e->t))
        first = 0;
    }
    if (!first)
      continue;
    qget(r, e->t, e->channel, e->queue)->offered++;
    /* a callback request: the first ContactQueued of the visit with callback set */
    int callback = 0;
    for (size_t j = 0; j < c->n && !callback; j++) {
      const ops_ev *f = c->ev[j];
      if (f->body == B(CONTACT_QUEUED) && f->arg && strcmp(f->queue, e->queue) == 0 &&
          episode(c, f->t) == episode(c, e->t)) {
        qget(r, f->t, f->channel, f->queue)->callbacks++;
        callback = 1;
      }
    }
    /* entry: the ContactQueued time, else the ContactCreated time */
    int64_t entry = e->t;
    for (size_t j = 0; j < c->n; j++) {
      const ops_ev *f = c->ev[j];
      if (f->body == B(CONTACT_QUEUED) && strcmp(f->queue, e->queue) == 0 &&
          episode(c, f->t) == episode(c, e->t)) {
        entry = f->t;
        break;
      }
    }
    /* the outcome: the first answer or abandon there */
    for (size_t j = 0; j < c->n; j++) {
      const ops_ev *f = c->ev[j];
      if ((f->body != B(CONTACT_ANSWERED) && f->body != B(CONTACT_ABANDONED)) ||
          strcmp(f->queue, e->queue) != 0 || episode(c, f->t) != episode(c, e->t))
        continue;
      qrec *q = qget(r, f->t, f->channel, f->queue);
      const int64_t wait = clamp0(f->t - entry);
      if (f->body == B(CONTACT_ANSWERED)) {
        q->answered++;
        q->ans_known++;
        q->wait_ms += wait;
        q->ans_in_t += wait <= SL_T_MS(f->channel);
        q->cb_answered += callback;
      } else {
        q->ab_all++;
        q->ab_known++;
        q->ab_short += wait < SHORT_MS;
        q->ab_wait += wait < SHORT_MS ? 0 : wait;
      }
      if (q->n_waits == 0 || wait > q->max_wait)
        q->max_wait = wait;
      q->n_waits++;
      break;
    }
  }
}

/* One agent's legs, read off its events in time order; each handled leg is
 * counted where its wrap-up ended. first_acw[ep] gets the earliest wrap-up
 * of each episode (and its event), for FCR. */
static void legs(ref *r, const contact *c, const char *agent, int64_t first_acw[2],
                 const ops_ev *first_ev[2], int ep_xfer[2]) {
  int open = 0, answered = 0, ended = 0, hold_open = 0, held = 0, xfer = 0, esc = 0, done = 0;
  int64_t ans = 0, end = 0, hold_t = 0, hold = 0;
  for (size_t i = 0; i < c->n; i++) {
    const ops_ev *e = c->ev[i];
    if (rank(e->body) == 0 || strcmp(e->agent, agent) != 0)
      continue;
    if (e->body == B(CONTACT_ANSWERED)) {
      aget(r, e->t, e->channel, e->queue, agent)->answered++; /* legs answered by the agent */
      if (open && (answered || done)) {
        answered = ended = hold_open = held = xfer = esc = done = 0;
        hold = 0;
      }
      open = answered = 1;
      ans = e->t;
      continue;
    }
    open = 1;
    if (done)
      continue; /* after the leg's wrap-up */
    const int ends =
        e->body == B(CONTACT_ENDED) || e->body == B(CONTACT_TRANSFERRED) || e->body == B(ACW_ENDED);
    if (e->body == B(HOLD_STARTED) && !ended && !hold_open) {
      hold_open = 1;
      hold_t = e->t;
    } else if (e->body == B(HOLD_ENDED) && !ended && hold_open) {
      hold += clamp0(e->t - hold_t);
      hold_open = 0;
      held = 1;
    } else if (e->body == B(CONTACT_ESCALATED)) {
      esc = 1;
    }
    if (e->body == B(CONTACT_TRANSFERRED))
      xfer = 1;
    if (ends && !ended) {
      ended = 1;
      end = e->t;
      if (hold_open) { /* a hold still open is closed at the end */
        hold += clamp0(e->t - hold_t);
        hold_open = 0;
        held = 1;
      }
    }
    if (e->body != B(ACW_ENDED))
      continue;
    done = 1;
    const int64_t talk = answered ? clamp0(end - ans - hold) : 0;
    const int64_t acw = clamp0(e->t - end);
    const int64_t handle = talk + hold + acw;
    const int h = held || hold > 0;
    qrec *q = qget(r, e->t, e->channel, e->queue);
    q->handled++;
    q->handle += handle;
    q->talk += talk;
    q->hold += hold;
    q->held += h;
    q->acw += acw;
    q->xfer += xfer;
    q->esc += esc;
    arec *a = aget(r, e->t, e->channel, e->queue, agent);
    a->handled++;
    a->handle += handle;
    a->hold += hold;
    a->held += h;
    a->acw += acw;
    a->xfer += xfer;
    const int ep = episode(c, e->t);
    ep_xfer[ep] |= xfer || esc;
    if (first_ev[ep] == NULL || e->t < first_acw[ep]) {
      first_acw[ep] = e->t;
      first_ev[ep] = e;
    }
  }
}

/* The contact's handled legs (of every agent) with their wrap-up at or
 * before t: the wrap-ups that end a leg, read off each agent's events. */
static int legs_by(const contact *c, int64_t t) {
  int n = 0;
  for (size_t i = 0; i < c->n; i++) {
    const ops_ev *e = c->ev[i];
    if (e->body != B(ACW_ENDED) || e->t > t)
      continue;
    /* it ends a leg unless an earlier wrap-up of the agent ended the same
     * leg (no answer of the agent between them) */
    int ends = 1;
    for (size_t j = 0; j < i && ends; j++) {
      const ops_ev *f = c->ev[j];
      if (f->body != B(ACW_ENDED) || strcmp(f->agent, e->agent) != 0)
        continue;
      int answer_between = 0;
      for (size_t k = j + 1; k < i && !answer_between; k++)
        answer_between =
            c->ev[k]->body == B(CONTACT_ANSWERED) && strcmp(c->ev[k]->agent, e->agent) == 0;
      ends = answer_between;
    }
    n += ends;
  }
  return n;
}

/* The agent's ContactOffered events: answered when the agent's next offer
 * or answer of the contact (offers before answers at equal times) is an
 * answer, no later than the ring end when ring_ms is known; counted at the
 * ring end (offer time + ring_ms). */
static void offers(ref *r, const contact *c, const char *agent) {
  for (size_t i = 0; i < c->n; i++) {
    const ops_ev *e = c->ev[i];
    if (e->body != B(CONTACT_OFFERED) || strcmp(e->agent, agent) != 0)
      continue;
    int answered = 0;
    for (size_t j = 0; j < c->n; j++) {
      const ops_ev *f = c->ev[j];
      if ((f->body != B(CONTACT_OFFERED) && f->body != B(CONTACT_ANSWERED)) || f == e ||
          strcmp(f->agent, agent) != 0)
        continue;
      /* after e in (time, offer-before-answer) order */
      const int after = f->t > e->t || (f->t == e->t && f->body == B(CONTACT_ANSWERED)) ||
                        (f->t == e->t && f->body == e->body && j > i);
      if (!after)
        continue;
      /* within the ring when its length is known */
      answered = f->body == B(CONTACT_ANSWERED) && (e->arg == 0 || f->t <= e->t + e->arg);
      break; /* c->ev is in time order: the first after e */
    }
    arec *a = aget(r, e->t + e->arg, e->channel, e->queue, agent);
    a->offers++;
    a->rna += !answered;
    if (answered && e->arg > 0)
      a->ring_in_t += e->arg <= SL_T_MS(e->channel);
    else if (answered)
      a->ring_unk++;
  }
}

/* First response, first resolution, each episode's first resolution, reopens. */
static void firsts(ref *r, const contact *c) {
  const ops_ev *frt = NULL, *res = NULL, *fres[2] = {NULL, NULL}, *reopen = NULL;
  for (size_t i = 0; i < c->n; i++) {
    const ops_ev *e = c->ev[i];
    if (e->body == B(AGENT_RESPONSE) && e->arg && is_text(e->channel) && frt == NULL)
      frt = e;
    if (e->body == B(CONTACT_RESOLVED)) {
      const int ep = episode(c, e->t);
      if (ep == 0 && res == NULL)
        res = e;
      if (fres[ep] == NULL)
        fres[ep] = e;
    }
    if (e->body == B(CONTACT_REOPENED)) {
      qget(r, e->t, e->channel, e->queue)->reopened++;
      if (reopen == NULL)
        reopen = e;
    }
  }
  /* the first reopen, charged to the agent the first resolution named */
  if (reopen && res && res->agent[0] && res->t <= reopen->t)
    aget(r, reopen->t, reopen->channel, reopen->queue, res->agent)->reopened++;
  if (!c->start_known)
    return;
  if (frt) {
    qrec *q = qget(r, frt->t, frt->channel, frt->queue);
    const int64_t d = clamp0(frt->t - c->start);
    q->frt_n++;
    q->frt_ms += d;
    q->frt_in_t += d <= FRT_T_MS(frt->channel);
    if (frt->agent[0]) { /* credited to the agent who sent it */
      arec *a = aget(r, frt->t, frt->channel, frt->queue, frt->agent);
      a->frt_n++;
      a->frt_ms += d;
      a->frt_in_t += d <= FRT_T_MS(frt->channel);
    }
  }
  if (res) {
    qrec *q = qget(r, res->t, res->channel, res->queue);
    const int64_t d = clamp0(res->t - c->start);
    const int ot = legs_by(c, res->t) == 1; /* one-touch: one handled leg before */
    q->res_n++;
    q->res_ms += d;
    q->res_ot += ot;
    if (res->agent[0]) { /* credited to the agent the resolution names */
      arec *a = aget(r, res->t, res->channel, res->queue, res->agent);
      a->res_n++;
      a->res_ms += d;
      a->res_ot += ot;
    }
  }
  for (int ep = 0; ep < 2; ep++)
    if (fres[ep]) {
      qrec *q = qget(r, fres[ep]->t, fres[ep]->channel, fres[ep]->queue);
      q->fres_n++;
      q->fres_ms += clamp0(fres[ep]->t - c->start);
    }
}

typedef struct figs {
  ops_fig *f;
  size_t n, cap;
} figs;

static void put(figs *o, const char *metric, int64_t iv, int channel, const char *queue,
                const char *agent, int has_value, double num, double den) {
  ops_fig *f = grow(&o->f, &o->n, &o->cap, sizeof *f);
  strcpy(f->metric, metric);
  f->iv = iv;
  f->channel = channel;
  strcpy(f->queue, queue);
  strcpy(f->agent, agent);
  f->has_value = has_value;
  f->num = num;
  f->den = den;
}

#define SUM(m, v)      put(o, m, iv, ch, qn, ag, 1, (double)(v), 0)
#define RATIO(m, n, d) put(o, m, iv, ch, qn, ag, (d) > 0, (double)(n), (double)(d))
#define SEC(ms)        ((double)(ms) / 1000.0)

static void emit(const ref *r, figs *o) {
  for (size_t i = 0; i < r->nq; i++) {
    const qrec *q = &r->q[i];
    const int64_t iv = q->iv;
    const int ch = q->channel;
    const char *qn = q->queue, *ag = "";
    const int64_t abandoned = q->ab_all - q->ab_short; /* short abandons excluded */
    SUM("offered", q->offered);
    SUM("answered", q->answered);
    SUM("handled", q->handled);
    SUM("abandoned", abandoned);
    SUM("short_abandoned", q->ab_short);
    RATIO("abandonment_rate", abandoned, q->offered - q->ab_short);
    RATIO("avg_time_to_abandon", SEC(q->ab_wait), q->ab_all - q->ab_short);
    SUM("callbacks", q->callbacks);
    RATIO("callback_rate", q->callbacks, q->offered);
    SUM("callbacks_answered", q->cb_answered);
    RATIO("asa", SEC(q->wait_ms), q->ans_known);
    put(o, "longest_wait", iv, ch, qn, ag, q->n_waits > 0, SEC(q->max_wait), 0);
    if (is_text(ch)) {
      RATIO("first_response_time", SEC(q->frt_ms), q->frt_n);
      RATIO("first_response_sla", q->frt_in_t, q->frt_n);
    }
    RATIO("aht", SEC(q->handle), q->handled);
    RATIO("avg_talk", SEC(q->talk), q->handled);
    RATIO("avg_hold", SEC(q->hold), q->handled);
    RATIO("avg_acw", SEC(q->acw), q->handled);
    RATIO("service_level", q->ans_in_t, q->ans_known + q->ab_known);
    RATIO("fcr", q->fcr_n - q->fcr_rep, q->fcr_n);
    RATIO("transfer_rate", q->xfer, q->handled);
    RATIO("escalation_rate", q->esc, q->handled);
    RATIO("traffic_erlangs", SEC(q->handle), SEC(r->ivms));
    RATIO("resolution_time", SEC(q->res_ms), q->res_n);
    RATIO("resolution_rate", q->res_n, q->handled);
    RATIO("one_touch_resolution_rate", q->res_ot, q->res_n);
    SUM("reopened", q->reopened);
    RATIO("reopen_rate", q->reopened, q->fres_n);
    RATIO("full_resolution_time", SEC(q->fres_ms), q->fres_n);
  }
  for (size_t i = 0; i < r->na; i++) {
    const arec *a = &r->a[i];
    const int64_t iv = a->iv;
    const int ch = a->channel;
    const char *qn = a->queue, *ag = a->agent;
    SUM("answered", a->answered);
    SUM("handled", a->handled);
    RATIO("aht", SEC(a->handle), a->handled);
    RATIO("avg_hold", SEC(a->hold), a->handled);
    RATIO("avg_acw", SEC(a->acw), a->handled);
    RATIO("transfer_rate", a->xfer, a->handled);
    RATIO("fcr", a->fcr_n - a->fcr_rep, a->fcr_n);
    if (ch == 0 || is_text(ch)) {
      RATIO("first_response_time", SEC(a->frt_ms), a->frt_n);
      RATIO("first_response_sla", a->frt_in_t, a->frt_n);
    }
    RATIO("resolution_time", SEC(a->res_ms), a->res_n);
    RATIO("resolution_rate", a->res_n, a->handled);
    RATIO("one_touch_resolution_rate", a->res_ot, a->res_n);
    RATIO("reopen_rate", a->reopened, a->res_n);
    RATIO("service_level", a->ring_in_t, a->offers - a->ring_unk);
    SUM("ring_no_answer", a->rna);
    RATIO("ring_no_answer_rate", a->rna, a->offers);
  }
}

int ops_reference(const ops_ev *log, size_t n, int64_t interval_ms, ops_per_agent per_agent,
                  int fcr_xfer_unresolved, ops_fig **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  const ops_ev **ev = malloc((n ? n : 1) * sizeof *ev);
  handling *hs = malloc((n ? n : 1) * sizeof *hs);
  ref r = {0};
  figs o = {0};
  int rc = -1;
  if (ev == NULL || hs == NULL)
    goto done;
  r.ivms = interval_ms;
  r.per_agent = per_agent;
  /* duplicates: one event per id */
  for (size_t i = 0; i < n; i++)
    ev[i] = &log[i];
  qsort(ev, n, sizeof *ev, by_id);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (m == 0 || strcmp(ev[m - 1]->id, ev[i]->id) != 0)
      ev[m++] = ev[i];
  qsort(ev, m, sizeof *ev, by_contact_time);

  /* pass 1: every contact's FCR handlings (for repeats); pass 2: counting */
  size_t nh = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < m;) {
      size_t j = i;
      while (j < m && strcmp(ev[j]->contact, ev[i]->contact) == 0)
        j++;
      contact c = {ev + i, j - i, 0, 0, 0, 0};
      const char *customer = "";
      int64_t created = 0, queued = 0;
      int has_created = 0, has_queued = 0;
      for (size_t k = 0; k < c.n; k++) {
        const ops_ev *e = c.ev[k];
        if (e->customer[0])
          customer = e->customer;
        if (e->body == B(CONTACT_CREATED) && !has_created) {
          created = e->t;
          has_created = 1;
        }
        if (e->body == B(CONTACT_QUEUED) && !has_queued) {
          queued = e->t;
          has_queued = 1;
        }
        if (e->body == B(CONTACT_REOPENED) && !c.reopened) {
          c.reopen = e->t;
          c.reopened = 1;
        }
      }
      c.start_known = has_created || has_queued;
      c.start = has_created ? created : queued;
      ref scratch = {0};
      scratch.ivms = interval_ms;
      scratch.per_agent = per_agent;
      ref *into = pass == 0 ? &scratch : &r;
      /* legs, agent by agent */
      int64_t first_acw[2] = {0, 0};
      const ops_ev *first_ev[2] = {NULL, NULL};
      int ep_xfer[2] = {0, 0}; /* a handled leg of the episode transferred or escalated */
      for (size_t k = 0; k < c.n; k++) {
        const ops_ev *e = c.ev[k];
        int seen = rank(e->body) == 0;
        for (size_t l = 0; l < k && !seen; l++)
          seen = rank(c.ev[l]->body) != 0 && strcmp(c.ev[l]->agent, e->agent) == 0;
        if (!seen)
          legs(into, &c, e->agent, first_acw, first_ev, ep_xfer);
      }
      free(scratch.q);
      free(scratch.a);
      if (pass == 0) {
        for (int ep = 0; ep < 2; ep++)
          if (first_ev[ep] && customer[0])
            hs[nh++] = (handling){customer, c.ev[0]->contact, first_acw[ep]};
      } else {
        queues(&r, &c);
        firsts(&r, &c);
        /* offers, agent by agent */
        for (size_t k = 0; k < c.n; k++) {
          const ops_ev *e = c.ev[k];
          int seen = e->body != B(CONTACT_OFFERED);
          for (size_t l = 0; l < k && !seen; l++)
            seen = c.ev[l]->body == B(CONTACT_OFFERED) && strcmp(c.ev[l]->agent, e->agent) == 0;
          if (!seen)
            offers(&r, &c, e->agent);
        }
        /* FCR: each episode's first wrap-up; a reopened episode repeats,
         * else another contact of the customer handled within the window
         * before this one */
        for (int ep = 0; ep < 2 && customer[0]; ep++) {
          if (first_ev[ep] == NULL)
            continue;
          /* fcr.transfers unresolved: a transferred or escalated episode
           * was not resolved on first contact */
          int repeat = ep > 0 || (fcr_xfer_unresolved && ep_xfer[ep]);
          for (size_t h = 0; h < nh && !repeat; h++)
            repeat = strcmp(hs[h].customer, customer) == 0 &&
                     strcmp(hs[h].contact, c.ev[0]->contact) != 0 && hs[h].t <= first_acw[ep] &&
                     first_acw[ep] - hs[h].t <= FCR_WINDOW;
          qrec *q = qget(&r, first_ev[ep]->t, first_ev[ep]->channel, first_ev[ep]->queue);
          q->fcr_n++;
          q->fcr_rep += repeat;
          /* credited to the agent of that first wrap-up */
          arec *a = aget(&r, first_ev[ep]->t, first_ev[ep]->channel, first_ev[ep]->queue,
                         first_ev[ep]->agent);
          a->fcr_n++;
          a->fcr_rep += repeat;
        }
      }
      i = j;
    }
  }
  emit(&r, &o);
  *out = o.f;
  *nout = o.n;
  o.f = NULL;
  rc = 0;
done:
  free(o.f);
  free(r.q);
  free(r.a);
  free(ev);
  free(hs);
  return rc;
}
