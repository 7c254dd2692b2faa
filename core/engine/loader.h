/*
 * loader — opens a plugin shared object with uv_dlopen, finds the
 * well-known entry function and refuses what this host cannot run.
 *
 * Refusals, each naming the file and both versions:
 *   - no `kpistream_plugin_entry` symbol, or it returns NULL;
 *   - abi_major != host major;
 *   - abi_minor > host minor (the plugin may need newer services);
 *   - struct_size < the 1.0 descriptor size;
 *   - a missing name, on_event, on_interval_close or interests, or
 *     neither init nor (1.3) init_ex;
 *   - (1.3) an option map entry without a name's type, or a choice option
 *     without choices, or a default its own type refuses.
 * The functions live in engine_internal.h (they fill a ks_plugin_ctx).
 */
#ifndef KS_LOADER_H
#define KS_LOADER_H

#include <stddef.h>

#include "kpistream/plugin.h"

/* The bytes of a struct up to and including `field`: what a struct_size
 * must cover for the field to be there (offsetof, so padding counts). */
#define KS_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Size of the 1.0 descriptor: anything smaller is refused. */
#define KS_DESCRIPTOR_SIZE_1_0 KS_SIZE_THROUGH(ks_plugin_descriptor, options)

/* The descriptor d has `field`, added in minor `minor`: the plugin was
 * built against that minor or a later one, and its struct covers it. */
#define KS_DESC_HAS(d, minor, field)                                                               \
  ((d)->abi_minor >= (minor) && (d)->struct_size >= KS_SIZE_THROUGH(ks_plugin_descriptor, field))

#endif
