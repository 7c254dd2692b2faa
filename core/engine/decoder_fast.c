/*
 * decoder_fast — one pass over the wire bytes, driven by protobuf-c's
 * descriptors (no per-message code), writing straight into arena memory.
 *
 * protobuf-c's unpack scans a message twice (once to find and count the
 * fields, once to parse them) and allocates every string on its own; here
 * each field is parsed where it is met, fields are looked up with a cursor
 * that expects ascending field numbers, and all strings of a message share
 * one arena block. Whatever this decoder is not sure to decode exactly as
 * protobuf-c 1.4.1 would, it declines (decoder_fast.h lists the cases) and
 * protobuf-c decides.
 *
 * Semantics it copies from protobuf-c 1.4.1 (protobuf-c.c):
 *   tag            a varint of at most 5 bytes; field number = value >> 3
 *   varint         at most 10 bytes; the 64-bit value is the OR of each
 *                  byte's low 7 bits << 7*i (byte 9 keeps only bit 63)
 *   int32, enum    the low 32 bits of that value
 *   bool           true iff some byte of the varint has a nonzero low 7 bits
 *   double         8 bytes, little-endian
 *   length prefix  a varint of at most 5 bytes, not past the end
 *   string         the bytes copied and NUL-terminated; protobuf-c does
 *                  not check UTF-8 and cuts a string at its first NUL byte:
 *                  this decoder declines a string that is not UTF-8 or
 *                  holds a NUL byte (ks_utf8_text) so that decoder.c's walk
 *                  over the wire bytes refuses it naming the field
 */
#include "decoder_fast.h"

#include <string.h>

#include "utf8.h"

/* Size of the seen-fields bitmap: messages with more fields are declined. */
#define MAX_FIELDS 256

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2 };

typedef struct fast_ctx {
  ks_arena *arena;
  const uint8_t *end; /* end of the whole input: no string lies past it */
  char *pool;         /* string bytes not handed out yet */
  size_t pool_left;
  size_t longest; /* bytes of the longest string decoded */
} fast_ctx;

/* A length prefix (at most 5 bytes) and the n bytes after it; NULL when
 * malformed or past end. */
static inline const uint8_t *get_length(const uint8_t *p, const uint8_t *end, size_t *n) {
  uint64_t v;
  const uint8_t *q = ks_pb_varint(p, end, &v);
  if (q == NULL || q - p > 5 || v > (uint64_t)(end - q))
    return NULL;
  *n = (size_t)v;
  return q;
}

/* Index of the field numbered id, or -1: the next few after the cursor
 * first (encoders write fields in ascending order), else protobuf-c's
 * binary search. */
static inline int find_field(const ProtobufCMessageDescriptor *d, uint32_t id, unsigned *cursor) {
  const ProtobufCFieldDescriptor *fs = d->fields;
  unsigned stop = *cursor + 4 < d->n_fields ? *cursor + 4 : d->n_fields;
  for (unsigned i = *cursor; i < stop && fs[i].id <= id; i++) {
    if (fs[i].id == id) {
      *cursor = i + 1;
      return (int)i;
    }
  }
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, id);
  if (f == NULL)
    return -1;
  *cursor = (unsigned)(f - fs) + 1;
  return (int)*cursor - 1;
}

static inline int enum_known(const ProtobufCEnumDescriptor *ed, int32_t v) {
  if (v >= 0 && (unsigned)v < ed->n_values && ed->values[v].value == v)
    return 1;
  return protobuf_c_enum_descriptor_get_value(ed, v) != NULL;
}

/* n + 1 bytes for a string whose bytes start at p. The first string of an
 * input takes one block for it and every string after it: they all lie in
 * [p, end), each later one behind a header of at least two bytes, so
 * end - p + 1 bytes hold them all with their NULs. */
static inline char *string_space(fast_ctx *c, const uint8_t *p, size_t n) {
  if (c->pool_left < n + 1) {
    size_t want = (size_t)(c->end - p) + 1;
    c->pool = ks_arena_alloc(c->arena, want);
    if (c->pool == NULL)
      return NULL;
    c->pool_left = want;
  }
  char *s = c->pool;
  c->pool += n + 1;
  c->pool_left -= n + 1;
  return s;
}

static int decode_message(fast_ctx *c, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                          const uint8_t *end, unsigned depth, ProtobufCMessage **out) {
  if (depth > KS_PB_FAST_MAX_DEPTH || d->n_fields > MAX_FIELDS || d->message_init == NULL)
    return 0;
  ProtobufCMessage *m = ks_arena_alloc(c->arena, d->sizeof_message);
  if (m == NULL)
    return 0;
  d->message_init(m);
  char *base = (char *)m;
  uint64_t seen[MAX_FIELDS / 64] = {0};
  unsigned cursor = 0;

  while (p < end) {
    uint64_t key;
    const uint8_t *q = ks_pb_varint(p, end, &key);
    if (q == NULL || q - p > 5)
      return 0;
    p = q;
    int at = find_field(d, (uint32_t)(key >> 3), &cursor);
    if (at < 0)
      return 0; /* unknown: protobuf-c keeps it */
    const ProtobufCFieldDescriptor *f = &d->fields[at];
    if (f->label != PROTOBUF_C_LABEL_NONE)
      return 0; /* not a proto3 singular field */
    unsigned idx = (unsigned)at;
    uint64_t bit = UINT64_C(1) << (idx % 64);
    if (seen[idx / 64] & bit)
      return 0; /* last-wins / merge: protobuf-c's business */
    seen[idx / 64] |= bit;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      uint32_t which;
      memcpy(&which, base + f->quantifier_offset, sizeof which);
      if (which != 0)
        return 0; /* a second member of the oneof */
      memcpy(base + f->quantifier_offset, &f->id, sizeof f->id);
    }
    void *member = base + f->offset;
    unsigned wt = (unsigned)(key & 7);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_BOOL: {
      uint64_t v;
      const uint8_t *start = p;
      if (wt != WT_VARINT || (p = ks_pb_varint(p, end, &v)) == NULL)
        return 0;
      if (f->type == PROTOBUF_C_TYPE_INT64) {
        int64_t x = (int64_t)v;
        memcpy(member, &x, sizeof x);
      } else if (f->type == PROTOBUF_C_TYPE_BOOL) {
        unsigned any = 0;
        for (const uint8_t *b = start; b < p; b++)
          any |= *b & 0x7fu;
        protobuf_c_boolean x = any != 0;
        memcpy(member, &x, sizeof x);
      } else {
        int32_t x = (int32_t)(uint32_t)v;
        if (f->type == PROTOBUF_C_TYPE_ENUM && !enum_known(f->descriptor, x))
          return 0;
        memcpy(member, &x, sizeof x);
      }
      break;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
      if (wt != WT_64BIT || end - p < 8)
        return 0;
      uint64_t bits = 0;
      for (int k = 7; k >= 0; k--)
        bits = bits << 8 | p[k];
      memcpy(member, &bits, sizeof bits);
      p += 8;
      break;
    }
    case PROTOBUF_C_TYPE_STRING: {
      size_t n;
      if (wt != WT_LEN || (p = get_length(p, end, &n)) == NULL ||
          (!ks_utf8_is_text_ascii(p, n) && !ks_utf8_text(p, n, NULL)))
        return 0;
      char *s = string_space(c, p, n);
      if (s == NULL)
        return 0;
      if (n > c->longest)
        c->longest = n;
      memcpy(s, p, n);
      s[n] = '\0';
      memcpy(member, &s, sizeof s);
      p += n;
      break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
      size_t n;
      ProtobufCMessage *sub;
      if (wt != WT_LEN || (p = get_length(p, end, &n)) == NULL ||
          !decode_message(c, f->descriptor, p, p + n, depth + 1, &sub))
        return 0;
      memcpy(member, &sub, sizeof sub);
      p += n;
      break;
    }
    default:
      return 0; /* a type this decoder does not handle */
    }
  }
  *out = m;
  return 1;
}

int ks_pb_decode_fast_ex(ks_arena *arena, const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                         size_t len, ProtobufCMessage **out, size_t *longest_string) {
  static const uint8_t nothing[1];
  if (buf == NULL) {
    if (len != 0)
      return 0;
    buf = nothing; /* no arithmetic on a null pointer */
  }
  fast_ctx c = {arena, buf + len, NULL, 0, 0};
  int rc = decode_message(&c, d, buf, buf + len, 1, out);
  if (longest_string)
    *longest_string = c.longest;
  return rc;
}

int ks_pb_decode_fast(ks_arena *arena, const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                      size_t len, ProtobufCMessage **out) {
  return ks_pb_decode_fast_ex(arena, d, buf, len, out, NULL);
}
