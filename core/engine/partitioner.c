#include "partitioner.h"

#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kpistream/plugin.h"

static const char *const names[] = {"any", "murmur2", "crc32", "fnv1a"};

int ks_partitioner_parse(const char *name, ks_partitioner *out) {
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (ks_partitioner)i;
      return 0;
    }
  return KS_EINVAL;
}

const char *ks_partitioner_name(ks_partitioner p) {
  return (size_t)p < sizeof names / sizeof names[0] ? names[p] : "?";
}

int32_t ks_partitioner_partition(ks_partitioner p, const void *key, size_t keylen,
                                 int32_t n_partitions) {
  if (n_partitions < 1)
    return -1;
  /* These three partitioners read neither the topic handle nor the opaques
   * (only their *_random variants do, for keyless messages). */
  switch (p) {
  case KS_PARTITIONER_MURMUR2:
    return rd_kafka_msg_partitioner_murmur2(NULL, key, keylen, n_partitions, NULL, NULL);
  case KS_PARTITIONER_CRC32:
    return rd_kafka_msg_partitioner_consistent(NULL, key, keylen, n_partitions, NULL, NULL);
  case KS_PARTITIONER_FNV1A:
    return rd_kafka_msg_partitioner_fnv1a(NULL, key, keylen, n_partitions, NULL, NULL);
  case KS_PARTITIONER_ANY:
    break;
  }
  return -1;
}

/* 'bytes' for a reason: at most 64 of them, \xNN outside printable ASCII
 * and for \ and ' (so the quoted text is unambiguous). */
static void quote(char *buf, size_t size, const void *bytes, size_t len) {
  const unsigned char *s = bytes;
  size_t o = 0, show = len > 64 ? 64 : len;
  buf[o++] = '\'';
  for (size_t i = 0; i < show && o + 5 < size; i++) {
    if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' && s[i] != '\'')
      buf[o++] = (char)s[i];
    else
      o += (size_t)snprintf(buf + o, size - o, "\\x%02x", s[i]);
  }
  snprintf(buf + o, size - o, "%s'", show < len ? "..." : "");
}

int ks_copartition_check(ks_partitioner p, int32_t n_partitions, int32_t partition, const void *key,
                         size_t keylen, const char *tenant, char *reason, size_t reason_size) {
  size_t tlen = strlen(tenant);
  int keyed = key != NULL && keylen == tlen && memcmp(key, tenant, tlen) == 0;
  int32_t want = keyed ? ks_partitioner_partition(p, key, keylen, n_partitions) : -1;
  if (keyed && (want < 0 || want == partition))
    return 0;
  char t[300], k[300]; /* quoted: at most 64 bytes as \xNN, quotes and "..." */
  quote(t, sizeof t, tenant, tlen);
  if (key == NULL)
    snprintf(reason, reason_size, "no message key (events are keyed by tenant: %s)", t);
  else if (!keyed) {
    quote(k, sizeof k, key, keylen);
    snprintf(reason, reason_size, "message key %s is not the tenant %s", k, t);
  } else
    snprintf(reason, reason_size,
             "on partition %d, but the %s partitioner puts key %s on partition %d of %d",
             (int)partition, ks_partitioner_name(p), t, (int)want, (int)n_partitions);
  return 1;
}
