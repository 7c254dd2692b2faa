/*
 * kv — a key/value option: a plugin's configuration entry, a librdkafka
 * property. Strings are borrowed; whoever keeps one copies it.
 */
#ifndef KS_KV_H
#define KS_KV_H

typedef struct ks_kv {
  const char *key;
  const char *value;
} ks_kv;

#endif
