/*
 * partitioner — the partitioning contract of the input (docs/partitioning.md)
 * checked per message: the Kafka key is the envelope's tenant, and, when
 * `input.partitioner` names the producers' partitioner, the message is on
 * the partition that partitioner picks for that key.
 *
 * The partitioners are librdkafka's own (rd_kafka_msg_partitioner_murmur2,
 * _consistent, _fnv1a), so the choice is by construction the one a
 * librdkafka producer makes: murmur2 is Kafka's Java client's default for
 * keyed messages ((murmur2(key) & 0x7fffffff) % partitions), crc32 is
 * librdkafka's default (consistent_random: crc32(key) % partitions for keyed
 * messages), fnv1a is librdkafka's fnv1a (FNV-1a 32, as Sarama's default).
 *
 * Ownership: pure functions; nothing is allocated or kept.
 */
#ifndef KS_PARTITIONER_H
#define KS_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

typedef enum ks_partitioner {
  KS_PARTITIONER_ANY = 0, /* the partition is not checked (any partitioner) */
  KS_PARTITIONER_MURMUR2, /* Kafka's Java client, librdkafka murmur2 / murmur2_random */
  KS_PARTITIONER_CRC32,   /* librdkafka's default: consistent / consistent_random */
  KS_PARTITIONER_FNV1A    /* librdkafka fnv1a / fnv1a_random, Sarama's hash partitioner */
} ks_partitioner;

/* "any", "murmur2", "crc32", "fnv1a" -> *out; 0, or KS_EINVAL for another name. */
int ks_partitioner_parse(const char *name, ks_partitioner *out);
const char *ks_partitioner_name(ks_partitioner p);

/* The partition p's producer picks for key (keylen bytes) among
 * n_partitions; -1 for KS_PARTITIONER_ANY or n_partitions < 1. */
int32_t ks_partitioner_partition(ks_partitioner p, const void *key, size_t keylen,
                                 int32_t n_partitions);

/*
 * The contract for one decoded input event of `tenant` that arrived on
 * `partition` of a topic with n_partitions, with Kafka key `key` (NULL: the
 * message had no key). 0 when it holds; 1 when it is broken, with the reason
 * (key and tenant quoted, cut at 64 bytes, bytes outside printable ASCII,
 * \ and ' as \xNN) in reason:
 *   no message key (events are keyed by tenant: 'acme')
 *   message key 'globex' is not the tenant 'acme'
 *   on partition 1, but the crc32 partitioner puts key 'acme' on partition 3 of 4
 */
int ks_copartition_check(ks_partitioner p, int32_t n_partitions, int32_t partition, const void *key,
                         size_t keylen, const char *tenant, char *reason, size_t reason_size);

#endif
