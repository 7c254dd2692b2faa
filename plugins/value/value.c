/*
 * value — the cost and value KPI family: operating cost (fixed, variable, per
 * category), budget and budget variance, cost per contact per cost period;
 * customer retention and customer lifetime value per customer period and
 * segment; conversion (sales and registrations after a contact) and
 * next-best-action acceptance per interval and (tenant, channel, queue), and
 * per agent.
 *
 * Formulas, attribution rules and configuration: docs/metrics-value.md.
 *
 * Attribution in one line: interval metrics land in the interval of the
 * event that completes them (a conversion: the later in event time of the
 * contact's wrap-up and the order; a reaction: the later of the offer and
 * the reaction); period metrics (cost, retention, CLV) are emitted once, when
 * the interval ending at the period's end plus period_settle closes, with
 * the period's bounds as interval bounds.
 */
#include <string.h>

#include "value_internal.h"

_Static_assert(sizeof(va_contact) % 8 == 0, "va_contact layout");
_Static_assert(sizeof(va_customer) % 8 == 0, "va_customer layout");
_Static_assert(sizeof(va_offer) % 8 == 0, "va_offer layout");
_Static_assert(sizeof(va_cperiod) % 8 == 0, "va_cperiod layout");
_Static_assert(sizeof(va_uperiod) % 8 == 0, "va_uperiod layout");
_Static_assert(sizeof(va_iagg) % 8 == 0, "va_iagg layout");

static const uint32_t va_interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED,
                                        KPISTREAM__V1__EVENT__BODY_ACW_ENDED,
                                        KPISTREAM__V1__EVENT__BODY_ORDER,
                                        KPISTREAM__V1__EVENT__BODY_CUSTOMER_REGISTERED,
                                        KPISTREAM__V1__EVENT__BODY_NBA_OFFER,
                                        KPISTREAM__V1__EVENT__BODY_NBA_REACTION,
                                        KPISTREAM__V1__EVENT__BODY_COST,
                                        KPISTREAM__V1__EVENT__BODY_BUDGET,
                                        KPISTREAM__V1__EVENT__BODY_CUSTOMER_BASE,
                                        0};

/* ---- emitting ------------------------------------------------------------------ */

void va_em_label(va_emitter *e, const char *key, const char *value) {
  if (key == NULL) {
    e->em.r.labels = NULL;
    e->em.r.n_labels = 0;
    return;
  }
  size_t n = strlen(key);
  if (n >= sizeof e->lkey)
    n = sizeof e->lkey - 1;
  memcpy(e->lkey, key, n);
  e->lkey[n] = '\0';
  if (value != e->lvalue) {
    n = strlen(value);
    if (n >= sizeof e->lvalue)
      n = sizeof e->lvalue - 1;
    memcpy(e->lvalue, value, n);
    e->lvalue[n] = '\0';
  }
  e->label.key = e->lkey;
  e->label.value = e->lvalue;
  e->em.r.labels = &e->label;
  e->em.r.n_labels = 1;
}

/* ---- dispatch ------------------------------------------------------------------- */

static int va_on_event(void *data, ks_task *task, const ks_event *ev) {
  va_plugin *p = data;
  if (p == NULL || ev == NULL || ev->msg == NULL)
    return 0;
  const Kpistream__V1__Event *m = ev->msg;
  int rc;
  switch (ev->body) {
  case KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED:
  case KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED:
    return va_on_contact_start(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_ACW_ENDED:
    return va_on_acw_ended(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_ORDER:
    if (m->order == NULL)
      return 0;
    rc = va_first_seen(p, task, 'O', ks_nz(m->tenant), ks_nz(m->order->order_id), ev->time_ms);
    if (rc <= 0)
      return rc; /* a repeated order id (at-least-once delivery) */
    rc = va_on_order_base(p, task, ev);
    return rc ? rc : va_on_order_conv(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_CUSTOMER_REGISTERED:
    rc = va_first_seen(p, task, 'R', ks_nz(m->tenant), ks_nz(m->customer_id), ev->time_ms);
    if (rc <= 0)
      return rc; /* the customer registered already */
    rc = va_on_registration_base(p, task, ev);
    return rc ? rc : va_on_registration_conv(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_NBA_OFFER:
    return va_on_nba_offer(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_NBA_REACTION:
    return va_on_nba_reaction(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_COST:
    return va_on_cost(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_BUDGET:
    return va_on_budget(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_CUSTOMER_BASE:
    return va_on_snapshot(p, task, ev);
  default:
    return 0;
  }
}

/* ---- interval close ---------------------------------------------------------------- */

static int va_on_interval_close(void *data, ks_task *task, const ks_interval *iv) {
  va_plugin *p = data;
  va_emitter *e = p->api->alloc(sizeof *e); /* once per interval, not per event */
  if (e == NULL)
    return KS_ENOMEM;
  e->p = p;
  ks_emitter_init(&e->em, p->api, p->ctx, task, NULL);
  e->iv_end = iv->end_ms;
  int rc = va_emit_interval(e, iv->start_ms);
  if (rc == 0 && va_period_boundary_near(&p->cfg, p->cfg.cost_period, iv->end_ms))
    rc = va_emit_cost_periods(e);
  if (rc == 0 && va_period_boundary_near(&p->cfg, p->cfg.cust_period, iv->end_ms))
    rc = va_emit_cust_periods(e);
  const int failed = e->em.failed;
  p->api->free(e);
  return rc != 0 || failed ? KS_EPLUGIN : 0;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int va_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                   size_t errstr_size) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, config_get_choice))
    return KS_EABI;
  va_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  p->api = api;
  p->ctx = ctx;
  if (va_config_load(ctx, api, &p->cfg, errstr, errstr_size) != 0) {
    api->free(p);
    return KS_EINVAL;
  }
  const va_config *cfg = &p->cfg;
  const uint32_t V = VA_STATE_VERSION;
  p->contacts = api->table_declare(ctx, "contacts", KS_TABLE_KEYED, sizeof(va_contact), V,
                                   cfg->contact_ttl_ms);
  p->customers = api->table_declare(ctx, "customers", KS_TABLE_KEYED, sizeof(va_customer), V,
                                    cfg->conv_window_ms);
  p->offers =
      api->table_declare(ctx, "offers", KS_TABLE_KEYED, sizeof(va_offer), V, cfg->nba_ttl_ms);
  p->dedupe = cfg->dedupe_ms > 0 ? api->table_declare(ctx, "dedupe", KS_TABLE_KEYED,
                                                      sizeof(va_seen), V, cfg->dedupe_ms)
                                 : NULL;
  const int64_t cost_ttl = va_period_ttl(cfg, cfg->cost_period);
  const int64_t cust_ttl = va_period_ttl(cfg, cfg->cust_period);
  p->cost_lines =
      api->table_declare(ctx, "cost_lines", KS_TABLE_KEYED, sizeof(va_line), V, cost_ttl);
  p->cost_periods =
      api->table_declare(ctx, "cost_periods", KS_TABLE_KEYED, sizeof(va_cperiod), V, cost_ttl);
  p->cust_periods =
      api->table_declare(ctx, "cust_periods", KS_TABLE_KEYED, sizeof(va_uperiod), V, cust_ttl);
  p->buyers = api->table_declare(ctx, "buyers", KS_TABLE_KEYED, sizeof(va_seen), V, cust_ttl);
  p->by_dims = api->table_declare(ctx, "by_dims", KS_TABLE_WINDOWED, sizeof(va_iagg), V, 0);
  if (!p->contacts || !p->customers || !p->offers || (cfg->dedupe_ms > 0 && !p->dedupe) ||
      !p->cost_lines || !p->cost_periods || !p->cust_periods || !p->buyers || !p->by_dims) {
    api->log(ctx, KS_LOG_ERROR, "could not declare the state tables");
    api->free(p);
    return KS_EINVAL;
  }
  api->log(ctx, KS_LOG_DEBUG,
           "conversion.window=%lldms nba.ttl=%lldms period_settle=%lldms dedupe_window=%lldms "
           "interval=%lldms",
           (long long)cfg->conv_window_ms, (long long)cfg->nba_ttl_ms, (long long)cfg->settle_ms,
           (long long)cfg->dedupe_ms, (long long)cfg->interval_ms);
  *plugin_data = p;
  return 0;
}

static void va_destroy(void *data) {
  va_plugin *p = data;
  if (p)
    p->api->free(p);
}

static const ks_plugin_descriptor va_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = VA_PLUGIN_NAME,
    .version = VA_PLUGIN_VERSION,
    .description =
        "cost and value KPIs: operating cost, budget variance, cost per contact, retention, CLV, "
        "conversion, next-best-action acceptance",
    .interests = va_interests,
    .init_ex = va_init,
    .on_event = va_on_event,
    .on_interval_close = va_on_interval_close,
    .destroy = va_destroy,
    .option_map = va_option_map /* value_config.c */,
    .flags = 0,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &va_descriptor;
}
