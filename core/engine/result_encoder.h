/*
 * result_encoder — turns a plugin's ks_result into the wire form: a
 * kpistream.v1.MetricResult (protobuf) and its deterministic upsert key
 *
 *   <family>/<metric>|<tenant>|<channel>|<queue>|<agent>|<k=v,...>|<interval_start_ms>
 *
 * where '|', ',', '=' and '\' inside a value are escaped with '\'.
 *
 * Ownership: output buffers are caller-owned and grown with realloc; the
 * caller frees them.
 */
#ifndef KS_RESULT_ENCODER_H
#define KS_RESULT_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "kpistream/plugin.h"

/* The result's metric name when its struct_size covers the field (for a
 * refusal's message: a struct too small to be valid may still name it),
 * else NULL. */
const char *ks_result_metric(const ks_result *r);

/* Check a result for emit(): returns NULL if fine, else why not. */
const char *ks_result_validate(const ks_result *r);

/* r as a full-size (this SDK's) ks_result: r itself when it is one (or too
 * small to be valid), else a zero-extended copy in *tmp (caller-owned), so
 * fields newer than the plugin read as 0 (KS_LEVEL_UNSPECIFIED). */
const ks_result *ks_result_full(const ks_result *r, ks_result *tmp);

/* Build the key into *buf (NUL-terminated); returns its length or -1. */
long ks_result_key(const char *family, const ks_result *r, char **buf, size_t *cap);

/* Encode into *buf (a RATIO has a value only when its denominator is > 0);
 * returns the length or -1 (out of memory). */
long ks_result_encode(const char *family, const char *plugin_version, const ks_result *r,
                      const char *key, uint32_t revision, uint8_t **buf, size_t *cap);

/* Channel enum to the key's short name ("voice", "email", "chat", "all"). */
const char *ks_channel_name(int channel);

#endif
