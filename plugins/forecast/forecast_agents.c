/*
 * forecast plugin — agents logged in, from AgentStateChanged.
 *
 * Logged in = AVAILABLE, ON_CONTACT, AFTER_CONTACT_WORK or AUX; on queue =
 * AVAILABLE, ON_CONTACT or AFTER_CONTACT_WORK. Each agent's logged-in (and
 * on-queue) milliseconds are credited to the intervals they fall in: the
 * span of a state is credited when the next state change arrives, and the
 * span of a state still in force is credited up to the interval's end when
 * the interval closes. The interval's time-weighted average is then
 * agent-milliseconds / interval length ("average agents logged in").
 *
 * An agent counts under the channel and queue its events carry (both needed
 * for a queue, a channel alone for a channel, neither: the tenant). A state
 * change older than the agent's state in force is stale and ignored.
 */
#include <string.h>

#include "forecast_internal.h"

#define AST(x) KPISTREAM__V1__AGENT_STATE__AGENT_##x

static inline int logged_in(int st) {
  return st == AST(AVAILABLE) || st == AST(ON_CONTACT) || st == AST(AFTER_CONTACT_WORK) ||
         st == AST(AUX);
}

static inline int on_queue(int st) {
  return st == AST(AVAILABLE) || st == AST(ON_CONTACT) || st == AST(AFTER_CONTACT_WORK);
}

/* Largest number of intervals one span is spread over. */
#define FC_MAX_SPAN_INTERVALS 2880

/* Dims of an agent: channel and queue as its events carry them. */
static int agent_dims(ks_key *k, const char *tenant, int channel, const char *queue) {
  if (channel == 0)
    queue = ""; /* a queue without its channel cannot match a queue's demand */
  return ks_dims_key(k, tenant, channel, queue);
}

/* Credit [from, to) of a logged-in state to the open intervals it covers. */
static int credit_span(fc_plugin *p, ks_task *task, const ks_key *dk, int64_t from, int64_t to,
                       int onq) {
  const int64_t len = p->cfg.interval_ms;
  if (to - from > FC_MAX_SPAN_INTERVALS * len)
    from = to - FC_MAX_SPAN_INTERVALS * len;
  for (int64_t iv = ks_interval_floor(from, len); iv < to; iv += len) {
    const int64_t lo = from > iv ? from : iv;
    const int64_t hi = to < iv + len ? to : iv + len;
    if (hi <= lo)
      continue;
    fc_win *w = fc_win_get(p, task, iv, dk);
    if (w == NULL)
      continue; /* closed: credited at its close already */
    w->logged_ms += hi - lo;
    if (onq)
      w->onq_ms += hi - lo;
    w->flags |= W_PRESENCE;
  }
  return 0;
}

int fc_on_agent_state(fc_plugin *p, ks_task *task, const ks_event *ev) {
  const Kpistream__V1__Event *m = ev->msg;
  if (m->agent_state == NULL)
    return 0;
  const int state = (int)m->agent_state->state;
  if (state == AST(STATE_UNSPECIFIED))
    return 0;
  const char *agent = ks_nz(m->agent_id);
  if (agent[0] == '\0')
    return 0;
  const char *tenant = ks_nz(m->tenant);
  ks_key ak;
  ks_key_reset(&ak);
  ks_key_add_str(&ak, tenant);
  ks_key_add_str(&ak, agent);
  if (ak.overflow)
    return 0;
  fc_agent *a = p->api->keyed_get(task, p->agents, ak.buf, ak.len, 1);
  if (a == NULL)
    return KS_ENOMEM;
  const int64_t t = ev->time_ms;
  if ((a->flags & A_SEEN) && t < a->since_ms)
    return 0; /* stale: older than the state in force */
  if ((a->flags & A_SEEN) && logged_in(a->state)) {
    const int64_t from = a->since_ms > a->credited_ms ? a->since_ms : a->credited_ms;
    ks_key dk;
    if (t > from && agent_dims(&dk, tenant, a->channel, a->queue))
      credit_span(p, task, &dk, from, t, on_queue(a->state));
  }
  if (t > a->credited_ms)
    a->credited_ms = t;
  a->state = state;
  a->since_ms = t;
  a->channel = (int32_t)m->channel;
  ks_name_copy(a->queue, FC_NAME_MAX, ks_nz(m->queue));
  a->flags |= A_SEEN;
  return 0;
}

/* ---- interval close -------------------------------------------------------------- */

typedef struct close_ud {
  fc_plugin *p;
  const ks_interval *iv;
  fc_rows *rows;
  char tenant[KS_KEY_MAX];
} close_ud;

static int close_agent(void *ud, const void *key, size_t keylen, void *record) {
  close_ud *u = ud;
  fc_agent *a = record;
  if (!(a->flags & A_SEEN) || ks_key_part(key, keylen, 0, u->tenant, sizeof u->tenant) < 0)
    return 0;
  ks_key dk;
  if (!agent_dims(&dk, u->tenant, a->channel, a->queue))
    return 0;
  fc_row *r = fc_rows_add(u->rows, dk.buf, dk.len);
  if (r == NULL)
    return 1;
  r->flags |= R_PRESENCE; /* agent data known here, even with nobody logged in */
  const int64_t end = u->iv->end_ms;
  if (logged_in(a->state) && a->since_ms < end) {
    int64_t from = a->since_ms > a->credited_ms ? a->since_ms : a->credited_ms;
    if (from < u->iv->start_ms)
      from = u->iv->start_ms;
    if (from < end) {
      r->logged_ms += end - from;
      if (on_queue(a->state))
        r->onq_ms += end - from;
    }
    r->agents_now = 1;
  }
  if (a->credited_ms < end)
    a->credited_ms = end;
  return 0;
}

int fc_agents_close(fc_plugin *p, ks_task *task, const ks_interval *iv, fc_rows *rows) {
  close_ud u = {p, iv, rows, {0}};
  int rc = p->api->keyed_foreach(task, p->agents, close_agent, &u);
  return rc != 0 || rows->oom ? KS_ENOMEM : 0;
}
