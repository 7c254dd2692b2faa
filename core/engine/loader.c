#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "engine_internal.h"
#include "loader.h"

static int refuse(ks_plugin_ctx *ctx, char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(ks_plugin_ctx *ctx, char *errstr, size_t errstr_size, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(errstr, errstr_size, "plugin %s: %s", ctx->path, why);
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
  int (*init_ex)(ks_plugin_ctx *, const ks_host_api *, void **, char *, size_t) =
      KS_DESC_HAS(d, 3, init_ex) ? d->init_ex : NULL;
  if ((d->init == NULL && init_ex == NULL) || d->on_event == NULL || d->on_interval_close == NULL)
    return refuse(ctx, errstr, errstr_size,
                  "descriptor '%s' lacks init (or init_ex), on_event or "
                  "on_interval_close",
                  d->name);
  if (d->interests == NULL)
    return refuse(ctx, errstr, errstr_size, "descriptor '%s' declares no interests", d->name);
  for (const uint32_t *i = d->interests; *i; i++)
    if (*i > KS_BODY_MAX || ks_body_name(*i) == NULL)
      return refuse(ctx, errstr, errstr_size,
                    "descriptor '%s' is interested in body %u, unknown to this host's schema",
                    d->name, *i);
  const ks_option *map = KS_DESC_HAS(d, 3, option_map) ? d->option_map : NULL;
  for (const ks_option *o = map; o && o->name; o++) {
    const char *bad = o->type < KS_OPT_STRING || o->type > KS_OPT_CHOICE ? "has an unknown type"
                      : o->type == KS_OPT_CHOICE && (o->choices == NULL || o->choices[0] == NULL)
                          ? "is a choice without choices"
                      : o->def && ks_option_check(o, o->def, NULL, 0) != 0
                          ? "has a default its own type refuses"
                          : NULL;
    if (bad)
      return refuse(ctx, errstr, errstr_size, "descriptor '%s': option map entry '%s' %s", d->name,
                    o->name, bad);
  }
  ctx->desc = d;
  /* 1.1 and later fields, read only when the plugin's descriptor has them. */
  if (KS_DESC_HAS(d, 1, flags))
    ctx->restatable = (d->flags & KS_PLUGIN_F_RESTATABLE) != 0;
  if (KS_DESC_HAS(d, 1, on_result))
    ctx->on_result = d->on_result;
  ctx->option_map = map;
  ctx->init_ex = init_ex;
  return 0;
}

int ks_option_check(const ks_option *o, const char *value, char *errstr, size_t errstr_size) {
  int64_t i;
  double x;
  int b;
  const char *want = NULL;
  switch (o->type) {
  case KS_OPT_STRING:
    return 0;
  case KS_OPT_INT:
    want = ks_parse_int(value, &i) == 0 ? NULL : "an integer";
    break;
  case KS_OPT_DOUBLE:
    want = ks_parse_double(value, &x) == 0 ? NULL : "a number";
    break;
  case KS_OPT_BOOL:
    want = ks_parse_bool(value, &b) == 0 ? NULL : "a boolean (true/false)";
    break;
  case KS_OPT_DURATION:
    want =
        ks_parse_duration_ms(value, &i) == 0 ? NULL : "a duration (e.g. 250ms, 20s, 15m, 2h, 7d)";
    break;
  case KS_OPT_CHOICE:
    for (const char *const *c = o->choices; c && *c; c++)
      if (strcmp(*c, value) == 0)
        return 0;
    if (errstr && errstr_size) {
      size_t off = (size_t)snprintf(errstr, errstr_size,
                                    "option '%s': '%s' is not one of: ", o->name, value);
      for (const char *const *c = o->choices; c && *c && off < errstr_size; c++)
        off += (size_t)snprintf(errstr + off, errstr_size - off, "%s%s",
                                c == o->choices ? ""
                                : c[1]          ? ", "
                                                : " or ",
                                *c);
    }
    return KS_EINVAL;
  default:
    want = "of a known type";
  }
  if (want == NULL)
    return 0;
  if (errstr && errstr_size)
    snprintf(errstr, errstr_size, "option '%s': '%s' is not %s", o->name, value, want);
  return KS_EINVAL;
}

const ks_option *ks_option_find(const ks_option *map, const char *key) {
  for (const ks_option *o = map; o && o->name && key; o++)
    if (strcmp(o->name, key) == 0)
      return o;
  return NULL;
}

const char *ks_option_type_name(ks_option_type t) {
  static const char *const names[] = {"?", "string", "int", "double", "bool", "duration", "choice"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

void ks_loader_close(ks_plugin_ctx *ctx) {
  if (ctx->lib_open) {
    uv_dlclose(&ctx->lib);
    ctx->lib_open = 0;
  }
}
