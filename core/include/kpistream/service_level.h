/*
 * kpistream plugin SDK — service-level thresholds per channel: the one home
 * of their option names and defaults, read the same way by every family
 * that uses them (operations' service_level, forecast's Erlang staffing).
 *
 *   service_level.threshold.voice   T for voice      default 20 s
 *   service_level.threshold.chat    T for chat       default 20 s
 *   service_level.threshold.email   T for email      default 1 h
 *   service_level.threshold         the default of all three (and of contacts
 *                                   whose channel is unknown, else 20 s)
 *
 * A per-channel key wins over service_level.threshold, which wins over the
 * built-in default. Email SLAs run in hours (Zendesk, Connect), so a 20 s
 * email threshold scores every accepted email as late.
 *
 * First-response SLA (email and chat: a first public reply within T):
 *
 *   first_response.threshold.chat   T for chat       default: the chat T above
 *   first_response.threshold.email  T for email      default: the email T above
 *   first_response.threshold        the default of both
 *
 * read with ks_frt_thresholds_load(), defaulting to the service-level
 * thresholds so that a deployment sets one number per channel unless its
 * reply target differs from its answer target.
 *
 * Header-only; include after kpistream/plugin.h. Nothing is allocated.
 */
#ifndef KPISTREAM_SERVICE_LEVEL_H
#define KPISTREAM_SERVICE_LEVEL_H

#include <stdint.h>

#include "kpistream/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KS_SL_THRESHOLD_KEY       "service_level.threshold"
#define KS_SL_THRESHOLD_VOICE_KEY "service_level.threshold.voice"
#define KS_SL_THRESHOLD_CHAT_KEY  "service_level.threshold.chat"
#define KS_SL_THRESHOLD_EMAIL_KEY "service_level.threshold.email"

#define KS_FRT_THRESHOLD_KEY       "first_response.threshold"
#define KS_FRT_THRESHOLD_CHAT_KEY  "first_response.threshold.chat"
#define KS_FRT_THRESHOLD_EMAIL_KEY "first_response.threshold.email"

/* Their entries of a plugin's option map (1.3), in one place: no map
 * default, as "unset" means "the more general key's value". */
#define KS_SL_THRESHOLD_OPTIONS                                                                    \
  {KS_SL_THRESHOLD_KEY, KS_OPT_DURATION, NULL,                                                     \
   "service-level threshold of every channel (default 20s; email 1h)", NULL},                      \
      {KS_SL_THRESHOLD_VOICE_KEY, KS_OPT_DURATION, NULL,                                           \
       "service-level threshold of voice (default service_level.threshold, else 20s)", NULL},      \
      {KS_SL_THRESHOLD_CHAT_KEY, KS_OPT_DURATION, NULL,                                            \
       "service-level threshold of chat (default service_level.threshold, else 20s)", NULL},       \
  {                                                                                                \
    KS_SL_THRESHOLD_EMAIL_KEY, KS_OPT_DURATION, NULL,                                              \
        "service-level threshold of email (default service_level.threshold, else 1h)", NULL        \
  }
#define KS_FRT_THRESHOLD_OPTIONS                                                                   \
  {KS_FRT_THRESHOLD_KEY, KS_OPT_DURATION, NULL,                                                    \
   "first-response threshold of chat and email (default: their service-level threshold)", NULL},   \
      {KS_FRT_THRESHOLD_CHAT_KEY, KS_OPT_DURATION, NULL,                                           \
       "first-response threshold of chat (default first_response.threshold)", NULL},               \
  {                                                                                                \
    KS_FRT_THRESHOLD_EMAIL_KEY, KS_OPT_DURATION, NULL,                                             \
        "first-response threshold of email (default first_response.threshold)", NULL               \
  }

/* Built-in defaults, milliseconds. */
#define KS_SL_THRESHOLD_DEFAULT_MS INT64_C(20000)   /* voice, chat, unknown channel */
#define KS_SL_THRESHOLD_EMAIL_MS   INT64_C(3600000) /* email */

/* Thresholds indexed by Kpistream__V1__Channel (0 = unknown channel). */
typedef struct ks_sl_thresholds {
  int64_t ms[4];
} ks_sl_thresholds;

/* Read the four keys. Returns 0, or KS_EINVAL after the host (or this
 * function, for a negative value) logged the key and value at fault. */
static inline int ks_sl_thresholds_load(ks_plugin_ctx *ctx, const ks_host_api *api,
                                        ks_sl_thresholds *out) {
  static const char *const keys[4] = {KS_SL_THRESHOLD_KEY, KS_SL_THRESHOLD_VOICE_KEY,
                                      KS_SL_THRESHOLD_EMAIL_KEY, KS_SL_THRESHOLD_CHAT_KEY};
  int64_t all;
  if (api->config_get_duration_ms(ctx, keys[0], -1, &all))
    return KS_EINVAL;
  const int all_set = api->config_get(ctx, keys[0]) != NULL;
  for (int ch = 0; ch < 4; ch++) {
    /* index = channel: 1 voice, 2 email, 3 chat */
    const int64_t builtin = ch == KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL
                                ? KS_SL_THRESHOLD_EMAIL_MS
                                : KS_SL_THRESHOLD_DEFAULT_MS;
    const int64_t def = all_set ? all : builtin;
    if (ch == 0)
      out->ms[0] = def;
    else if (api->config_get_duration_ms(ctx, keys[ch], def, &out->ms[ch]))
      return KS_EINVAL;
    if (out->ms[ch] < 0) {
      const char *key = ch == 0 ? keys[0] : keys[ch];
      api->log(ctx, KS_LOG_ERROR, "option '%s': '%s' must not be negative", key,
               api->config_get(ctx, key) ? api->config_get(ctx, key) : "(default)");
      return KS_EINVAL;
    }
  }
  return 0;
}

/* Read the first-response keys into out (indexed by channel as
 * ks_sl_thresholds), each defaulting to first_response.threshold, else to
 * the channel's service-level threshold in sl. Voice (no first response)
 * and unknown channels keep sl's. Returns 0 or KS_EINVAL (logged). */
static inline int ks_frt_thresholds_load(ks_plugin_ctx *ctx, const ks_host_api *api,
                                         const ks_sl_thresholds *sl, ks_sl_thresholds *out) {
  *out = *sl;
  const int all_set = api->config_get(ctx, KS_FRT_THRESHOLD_KEY) != NULL;
  int64_t all = 0;
  if (all_set && api->config_get_duration_ms(ctx, KS_FRT_THRESHOLD_KEY, 0, &all))
    return KS_EINVAL;
  static const int chans[2] = {KPISTREAM__V1__CHANNEL__CHANNEL_CHAT,
                               KPISTREAM__V1__CHANNEL__CHANNEL_EMAIL};
  static const char *const keys[2] = {KS_FRT_THRESHOLD_CHAT_KEY, KS_FRT_THRESHOLD_EMAIL_KEY};
  for (int i = 0; i < 2; i++) {
    const int ch = chans[i];
    if (api->config_get_duration_ms(ctx, keys[i], all_set ? all : sl->ms[ch], &out->ms[ch]))
      return KS_EINVAL;
    if (out->ms[ch] < 0 || all < 0) {
      const char *key = all < 0 ? KS_FRT_THRESHOLD_KEY : keys[i];
      api->log(ctx, KS_LOG_ERROR, "option '%s': '%s' must not be negative", key,
               api->config_get(ctx, key) ? api->config_get(ctx, key) : "(default)");
      return KS_EINVAL;
    }
  }
  return 0;
}

/* T of a channel (an unknown or out-of-range channel gets the default). */
static inline int64_t ks_sl_threshold_ms(const ks_sl_thresholds *t, int channel) {
  return t->ms[channel > 0 && channel < 4 ? channel : 0];
}

#ifdef __cplusplus
}
#endif
#endif /* KPISTREAM_SERVICE_LEVEL_H */
