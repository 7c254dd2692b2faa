/* Built wrong on purpose for test_loader: ABI major + 1 */
#include "kpistream/plugin.h"

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, 0};
static int p_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data) {
  (void)data;
  (void)ctx;
  (void)api;
  return 0;
}
static int p_event(void *d, ks_task *t, const ks_event *e) {
  (void)d;
  (void)t;
  (void)e;
  return 0;
}
static int p_close(void *d, ks_task *t, const ks_interval *iv) {
  (void)d;
  (void)t;
  (void)iv;
  return 0;
}
static const ks_plugin_descriptor desc = {KS_PLUGIN_ABI_MAJOR + 1,
                                          KS_PLUGIN_ABI_MINOR,
                                          sizeof(ks_plugin_descriptor),
                                          "abi_major",
                                          "0.0.1",
                                          "test",
                                          interests,
                                          p_init,
                                          p_event,
                                          p_close,
                                          NULL,
                                          NULL};
KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &desc;
}
