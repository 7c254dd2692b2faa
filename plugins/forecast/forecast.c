/*
 * forecast — the forecast & staffing KPI family: forecast accuracy (WAPE,
 * MAPE, bias of offered volume and AHT, per interval and per UTC day), the
 * day's peak interval and its traffic, the offered-volume trend against the
 * day and the week before, and the Erlang C staffing requirement beside the
 * agents actually logged in, per interval and (tenant, channel, queue).
 *
 * Formulas, attribution rules and configuration: docs/metrics-forecast.md.
 *
 * Sources: forecast_contacts.c (offered, handled, handle time),
 * forecast_agents.c (agents logged in), forecast_publish.c (forecasts),
 * forecast_close.c + forecast_queue.c (results at interval close),
 * forecast_rows.c (close-time rows, emitters), forecast_erlang.h (Erlang C),
 * forecast_config.c (options).
 */
#include <string.h>

#include "forecast_internal.h"

_Static_assert(sizeof(fc_leg) == 40, "fc_leg layout");
_Static_assert(sizeof(fc_contact) % 8 == 0, "fc_contact layout");
_Static_assert(sizeof(fc_queue) % 8 == 0, "fc_queue layout");
_Static_assert(sizeof(fc_slot) == 8, "fc_slot layout");

static const uint32_t fc_interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_CREATED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED,
                                        KPISTREAM__V1__EVENT__BODY_CONTACT_ANSWERED,
                                        KPISTREAM__V1__EVENT__BODY_ACW_ENDED,
                                        KPISTREAM__V1__EVENT__BODY_AGENT_STATE,
                                        KPISTREAM__V1__EVENT__BODY_FORECAST,
                                        0};

static int fc_on_event(void *data, ks_task *task, const ks_event *ev) {
  fc_plugin *p = data;
  if (p == NULL || ev == NULL || ev->msg == NULL)
    return 0;
  switch (ev->body) {
  case KPISTREAM__V1__EVENT__BODY_AGENT_STATE:
    return fc_on_agent_state(p, task, ev);
  case KPISTREAM__V1__EVENT__BODY_FORECAST:
    return fc_on_forecast(p, task, ev);
  default:
    return fc_on_contact(p, task, ev);
  }
}

static int fc_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **plugin_data, char *errstr,
                   size_t errstr_size) {
  if (api == NULL || api->abi_major != KS_PLUGIN_ABI_MAJOR || !KS_API_HAS(api, config_get_choice))
    return KS_EABI;
  fc_plugin *p = api->alloc(sizeof *p);
  if (p == NULL)
    return KS_ENOMEM;
  memset(p, 0, sizeof *p);
  p->api = api;
  p->ctx = ctx;
  if (fc_config_load(ctx, api, &p->cfg, errstr, errstr_size) != 0) {
    api->free(p);
    return KS_EINVAL;
  }
  const fc_config *cfg = &p->cfg;
  const int64_t queue_ttl =
      cfg->history_ttl_ms > cfg->forecast_ttl_ms ? cfg->history_ttl_ms : cfg->forecast_ttl_ms;
  const uint32_t queue_size = (uint32_t)(sizeof(fc_queue) + cfg->n_slots * sizeof(fc_slot));
  p->contacts = api->table_declare(ctx, "contacts", KS_TABLE_KEYED, sizeof(fc_contact),
                                   FC_STATE_VERSION, cfg->contact_ttl_ms);
  p->agents = api->table_declare(ctx, "agents", KS_TABLE_KEYED, sizeof(fc_agent), FC_STATE_VERSION,
                                 cfg->agent_ttl_ms);
  p->forecasts = api->table_declare(ctx, "forecasts", KS_TABLE_KEYED, sizeof(fc_fcst),
                                    FC_STATE_VERSION, cfg->forecast_ttl_ms);
  p->queues =
      api->table_declare(ctx, "queues", KS_TABLE_KEYED, queue_size, FC_STATE_VERSION, queue_ttl);
  p->by_dims =
      api->table_declare(ctx, "by_dims", KS_TABLE_WINDOWED, sizeof(fc_win), FC_STATE_VERSION, 0);
  if (!p->contacts || !p->agents || !p->forecasts || !p->queues || !p->by_dims) {
    api->log(ctx, KS_LOG_ERROR, "could not declare the state tables");
    api->free(p);
    return KS_EINVAL;
  }
  api->log(ctx, KS_LOG_DEBUG,
           "service_level=%.4f/%lldms shrinkage=%.4f basis=%d compare=%d peak_by=%d "
           "interval=%lldms history=%u slots",
           cfg->sl_target, (long long)cfg->sl_t.ms[1], cfg->shrinkage, (int)cfg->basis,
           (int)cfg->compare, (int)cfg->peak_by, (long long)cfg->interval_ms, cfg->n_slots);
  *plugin_data = p;
  return 0;
}

static void fc_destroy(void *data) {
  fc_plugin *p = data;
  if (p)
    p->api->free(p);
}

static const ks_plugin_descriptor fc_descriptor = {
    .abi_major = KS_PLUGIN_ABI_MAJOR,
    .abi_minor = KS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(ks_plugin_descriptor),
    .name = FC_PLUGIN_NAME,
    .version = FC_PLUGIN_VERSION,
    .description = "forecast & staffing KPIs: forecast accuracy, peak traffic, volume trend, "
                   "Erlang C staffing",
    .interests = fc_interests,
    .init_ex = fc_init,
    .on_event = fc_on_event,
    .on_interval_close = fc_on_interval_close,
    .destroy = fc_destroy,
    .option_map = fc_option_map /* forecast_config.c */,
    .flags = 0,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &fc_descriptor;
}
