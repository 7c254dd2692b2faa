#include "event_peek.h"

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end)
      return -1;
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return -1;
}

int ks_peek_event_time(const void *buf, size_t len, int64_t *out) {
  const uint8_t *p = buf, *end = p + len;
  int found = 0;
  while (p < end) {
    uint64_t tag, v;
    if (varint(&p, end, &tag) != 0)
      return -1; /* field number 0 is skipped like any unknown field, as protobuf-c does */
    switch (tag & 7) {
    case 0:
      if (varint(&p, end, &v) != 0)
        return -1;
      if ((tag >> 3) == 2) {
        *out = (int64_t)v; /* last one wins, as in protobuf */
        found = 1;
      }
      break;
    case 1:
      if (end - p < 8)
        return -1;
      p += 8;
      break;
    case 2:
      if (varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
        return -1;
      p += v;
      break;
    case 5:
      if (end - p < 4)
        return -1;
      p += 4;
      break;
    default:
      return -1;
    }
  }
  return found ? 0 : -1;
}
