/*
 * libFuzzer target: arbitrary bytes through the result formats' decoders
 * (what `kpistream sink` reads from a topic). The first byte picks the format
 * (protobuf, json, confluent_protobuf), the rest is the record value. A
 * refusal must say why; a JSON value that decodes must be a MetricResult
 * whose JSON encoding decodes to the very same protobuf bytes (the encoder
 * and the decoder agree on every field).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpistream/v1/result.pb-c.h"
#include "result_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  ks_format f = (ks_format)(data[0] % 3);
  uint8_t *pb = NULL, *js = NULL, *pb2 = NULL;
  size_t pcap = 0, jcap = 0, p2cap = 0;
  char err[512] = "";
  long n = ks_format_decode(f, data + 1, size - 1, &pb, &pcap, NULL, err, sizeof err);
  if (n < 0 && err[0] == '\0')
    __builtin_trap(); /* a refusal must say why */
  if (n >= 0 && f == KS_FORMAT_JSON) {
    Kpistream__V1__MetricResult *m = kpistream__v1__metric_result__unpack(NULL, (size_t)n, pb);
    if (m == NULL)
      __builtin_trap(); /* protobuf-c packed it: it must unpack */
    kpistream__v1__metric_result__free_unpacked(m, NULL);
    long j = ks_format_encode(KS_FORMAT_JSON, 0, pb, (size_t)n, &js, &jcap, err, sizeof err);
    if (j < 0)
      __builtin_trap(); /* strings from JSON are UTF-8 */
    long n2 = ks_format_decode(KS_FORMAT_JSON, js, (size_t)j, &pb2, &p2cap, NULL, err, sizeof err);
    if (n2 != n || memcmp(pb, pb2, (size_t)n) != 0)
      __builtin_trap(); /* JSON -> protobuf -> JSON -> protobuf is a fixed point */
  }
  free(pb);
  free(js);
  free(pb2);
  return 0;
}
