/*
 * loader — opens a plugin shared object with uv_dlopen, finds the
 * well-known entry function and refuses what this host cannot run.
 *
 * Refusals, each naming the file and both versions:
 *   - no `kpistream_plugin_entry` symbol, or it returns NULL;
 *   - abi_major != host major;
 *   - abi_minor > host minor (the plugin may need newer services);
 *   - struct_size < the 1.0 descriptor size;
 *   - a missing name, init, on_event or interests.
 * The functions live in engine_internal.h (they fill a ks_plugin_ctx).
 */
#ifndef KS_LOADER_H
#define KS_LOADER_H

#include <stddef.h>

#include "kpistream/plugin.h"

/* Size of the 1.0 descriptor: anything smaller is refused. */
#define KS_DESCRIPTOR_SIZE_1_0                                                                     \
  (offsetof(ks_plugin_descriptor, options) + sizeof(const char *const *))

#endif
