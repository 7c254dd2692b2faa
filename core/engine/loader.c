#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"
#include "loader.h"

static int refuse(ks_plugin_ctx *ctx, char *errstr, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(ks_plugin_ctx *ctx, char *errstr, size_t n, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(errstr, n, "plugin %s: %s", ctx->path, why);
  return KS_EABI;
}

int ks_loader_open(ks_plugin_ctx *ctx, char *errstr, size_t errstr_size) {
  if (uv_dlopen(ctx->path, &ctx->lib) != 0) {
    snprintf(errstr, errstr_size, "plugin %s: cannot load: %s", ctx->path, uv_dlerror(&ctx->lib));
    uv_dlclose(&ctx->lib);
    return KS_ENOENT;
  }
  ctx->lib_open = 1;
  void *sym = NULL;
  if (uv_dlsym(&ctx->lib, KS_PLUGIN_ENTRY_SYMBOL, &sym) != 0 || sym == NULL) {
    snprintf(errstr, errstr_size, "plugin %s: no entry point '%s' (is it a kpistream plugin? %s)",
             ctx->path, KS_PLUGIN_ENTRY_SYMBOL, uv_dlerror(&ctx->lib));
    return KS_ENOENT;
  }
  ks_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer */
  const ks_plugin_descriptor *d = entry();
  if (d == NULL)
    return refuse(ctx, errstr, errstr_size, "%s() returned no descriptor", KS_PLUGIN_ENTRY_SYMBOL);
  /* Read the three version fields first: they exist in every ABI. */
  if (d->abi_major != KS_PLUGIN_ABI_MAJOR)
    return refuse(ctx, errstr, errstr_size,
                  "plugin ABI %u.%u is incompatible with host ABI %u.%u (major versions differ); "
                  "rebuild the plugin against the kpistream %u.x SDK",
                  d->abi_major, d->abi_minor, KS_PLUGIN_ABI_MAJOR, KS_PLUGIN_ABI_MINOR,
                  KS_PLUGIN_ABI_MAJOR);
  if (d->abi_minor > KS_PLUGIN_ABI_MINOR)
    return refuse(ctx, errstr, errstr_size,
                  "plugin ABI %u.%u is newer than host ABI %u.%u; upgrade kpistream or rebuild "
                  "the plugin against SDK %u.%u",
                  d->abi_major, d->abi_minor, KS_PLUGIN_ABI_MAJOR, KS_PLUGIN_ABI_MINOR,
                  KS_PLUGIN_ABI_MAJOR, KS_PLUGIN_ABI_MINOR);
  if (d->struct_size < KS_DESCRIPTOR_SIZE_1_0)
    return refuse(ctx, errstr, errstr_size,
                  "descriptor is %u bytes, smaller than the ABI %u.0 descriptor (%zu bytes) "
                  "(plugin ABI %u.%u, host ABI %u.%u)",
                  d->struct_size, KS_PLUGIN_ABI_MAJOR, (size_t)KS_DESCRIPTOR_SIZE_1_0, d->abi_major,
                  d->abi_minor, KS_PLUGIN_ABI_MAJOR, KS_PLUGIN_ABI_MINOR);
  if (d->name == NULL || d->name[0] == '\0')
    return refuse(ctx, errstr, errstr_size, "descriptor has no name");
  for (const char *p = d->name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return refuse(ctx, errstr, errstr_size, "name '%s' must match [a-z0-9_]+", d->name);
  if (d->init == NULL || d->on_event == NULL || d->on_interval_close == NULL)
    return refuse(ctx, errstr, errstr_size,
                  "descriptor '%s' lacks init, on_event or "
                  "on_interval_close",
                  d->name);
  if (d->interests == NULL)
    return refuse(ctx, errstr, errstr_size, "descriptor '%s' declares no interests", d->name);
  for (const uint32_t *i = d->interests; *i; i++)
    if (*i > KS_BODY_MAX || ks_body_name(*i) == NULL)
      return refuse(ctx, errstr, errstr_size,
                    "descriptor '%s' is interested in body %u, unknown to this host's schema",
                    d->name, *i);
  ctx->desc = d;
  /* 1.1: flags, read only when the plugin's descriptor has them. */
  if (d->abi_minor >= 1 &&
      d->struct_size >= offsetof(ks_plugin_descriptor, flags) + sizeof(uint32_t))
    ctx->restatable = (d->flags & KS_PLUGIN_F_RESTATABLE) != 0;
  if (d->abi_minor >= 1 &&
      d->struct_size >= offsetof(ks_plugin_descriptor, on_result) + sizeof d->on_result)
    ctx->on_result = d->on_result;
  return 0;
}

void ks_loader_close(ks_plugin_ctx *ctx) {
  if (ctx->lib_open) {
    uv_dlclose(&ctx->lib);
    ctx->lib_open = 0;
  }
}
