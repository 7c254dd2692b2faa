/*
 * libFuzzer target: the fast decoder against protobuf-c. Whenever
 * ks_pb_decode_fast decodes the bytes, protobuf-c's unpack must decode them
 * too, to a message that packs to the same bytes. Whenever the decoder
 * accepts them (ks_decode_event), ks_peek_event_time reads the accepted
 * event time from the bytes (the runner's merge orders by it). Anything else
 * abort()s. Crashes, leaks and sanitizer reports are bugs as well.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "decoder.h"
#include "decoder_fast.h"
#include "event_peek.h"
#include "kpistream/v1/events.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Pack m into arena memory; returns its size and sets *out. */
static size_t pack(ks_arena *a, const ProtobufCMessage *m, uint8_t **out) {
  size_t n = protobuf_c_message_get_packed_size(m);
  *out = ks_arena_alloc(a, n + 1);
  if (*out == NULL || protobuf_c_message_pack(m, *out) != n)
    abort();
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ks_arena arena;
  if (ks_arena_init(&arena, 0) != 0)
    return 0;
  const ProtobufCMessageDescriptor *d = &kpistream__v1__event__descriptor;
  ProtobufCMessage *fast = NULL;
  if (ks_pb_decode_fast(&arena, d, data, size, &fast)) {
    ProtobufCMessage *ref = protobuf_c_message_unpack(d, &arena.pb, size, data);
    if (ref == NULL)
      abort(); /* the fast decoder took bytes protobuf-c refuses */
    uint8_t *pf, *pr;
    size_t nf = pack(&arena, fast, &pf), nr = pack(&arena, ref, &pr);
    if (nf != nr || memcmp(pf, pr, nf) != 0)
      abort(); /* decoded to a different message */
  }
  const Kpistream__V1__Event *ev = ks_decode_event(&arena, data, size, NULL, 0);
  int64_t t = 0;
  if (ev != NULL && (ks_peek_event_time(data, size, &t) != 0 || t != ev->event_time_ms))
    abort(); /* the merge would order it by another time than the engine checks */
  ks_arena_free(&arena);
  return 0;
}
