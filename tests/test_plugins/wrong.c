/*
 * A plugin built wrong on purpose for test_loader; CMakeLists.txt compiles it
 * several times, each with one defect chosen by these macros:
 *   WRONG_NAME   plugin name          WRONG_MINOR  abi_minor (e.g. minor + 1)
 *   WRONG_MAJOR  abi_major (major+1)  WRONG_SIZE   struct_size (e.g. 16)
 *   WRONG_INIT   what init() returns (e.g. KS_EINVAL)
 */
#include "kpistream/plugin.h"

#ifndef WRONG_MAJOR
#define WRONG_MAJOR KS_PLUGIN_ABI_MAJOR
#endif
#ifndef WRONG_MINOR
#define WRONG_MINOR KS_PLUGIN_ABI_MINOR
#endif
#ifndef WRONG_SIZE
#define WRONG_SIZE sizeof(ks_plugin_descriptor)
#endif
#ifndef WRONG_INIT
#define WRONG_INIT 0
#endif

static const uint32_t interests[] = {KPISTREAM__V1__EVENT__BODY_CONTACT_QUEUED, 0};

static int p_init(ks_plugin_ctx *ctx, const ks_host_api *api, void **data) {
  (void)data;
  if (WRONG_INIT != 0)
    api->log(ctx, KS_LOG_ERROR, "init refuses on purpose");
  return WRONG_INIT;
}

static int p_event(void *d, ks_task *t, const ks_event *e) {
  (void)d, (void)t, (void)e;
  return 0;
}

static int p_close(void *d, ks_task *t, const ks_interval *iv) {
  (void)d, (void)t, (void)iv;
  return 0;
}

static const ks_plugin_descriptor desc = {
    .abi_major = WRONG_MAJOR,
    .abi_minor = WRONG_MINOR,
    .struct_size = WRONG_SIZE,
    .name = WRONG_NAME,
    .version = "0.0.1",
    .description = "built wrong on purpose",
    .interests = interests,
    .init = p_init,
    .on_event = p_event,
    .on_interval_close = p_close,
};

KS_PLUGIN_EXPORT const ks_plugin_descriptor *kpistream_plugin_entry(void) {
  return &desc;
}
