/*
 * decoder_fast — a single-pass protobuf decoder over protobuf-c descriptors,
 * for the common shape of an input event; protobuf-c's own unpack stays the
 * authority for everything else.
 *
 * It handles proto3 singular fields of type string, int64, int32, enum, bool,
 * double and message (oneof members included) and declines, returning 0,
 * on anything else: an unknown field number, a field seen twice, a second
 * member of a oneof, a wire type that does not match the field, a repeated
 * or proto2-labelled field, any other field type, an enum value the enum
 * does not declare, a string that is not well-formed UTF-8 or holds a NUL
 * byte (ks_utf8_text: a char * cannot hold it, protobuf-c cuts it there),
 * malformed or truncated input, nesting deeper than KS_PB_FAST_MAX_DEPTH. When it decodes (returns
 * 1), the message equals what protobuf-c 1.4.1's unpack gives for the same bytes (same values, same
 * packed bytes), with no unknown fields and every enum known.
 *
 * Ownership: everything it returns lives in the caller's arena, valid until
 * the arena is reset. A declined input may leave unreferenced memory in the
 * arena (released by the next reset).
 */
#ifndef KS_DECODER_FAST_H
#define KS_DECODER_FAST_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Messages nested deeper than this are declined (Event nests 3 levels). */
#define KS_PB_FAST_MAX_DEPTH 8

/* A varint of at most 10 bytes at p (protobuf-c 1.4.1's reading: the OR of
 * each byte's low 7 bits << 7*i); returns the byte after it, or NULL when
 * truncated or longer. */
static inline const uint8_t *ks_pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
  if (p < end && p[0] < 0x80) {
    *v = p[0];
    return p + 1;
  }
  uint64_t r = 0;
  for (unsigned i = 0; i < 10 && p + i < end; i++) {
    r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (p[i] < 0x80) {
      *v = r;
      return p + i + 1;
    }
  }
  return NULL;
}

/* Returns 1 with *out set when it decoded buf itself, 0 when it declines
 * (the caller then asks protobuf-c, which decides). */
int ks_pb_decode_fast(ks_arena *arena, const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                      size_t len, ProtobufCMessage **out);
/* The same, also storing the byte length of the longest string it decoded
 * (0 when none) in *longest_string, so the caller's length rule costs
 * nothing for the usual event. */
int ks_pb_decode_fast_ex(ks_arena *arena, const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                         size_t len, ProtobufCMessage **out, size_t *longest_string);

#endif
