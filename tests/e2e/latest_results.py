#!/usr/bin/env python3
"""latest_results.py DUMP_A DUMP_B — compare two topics' results, from kcat
dumps -f '%k\\t%R%s' (the key, a tab, the value's 4-byte big-endian length,
the value), each of one partition. A result is the latest value of its key (an
interval's restatements re-publish it, as often as batches happen to split
the late input, so only the last one is the result, and its field 18,
revision, which counts those re-publications, is left out of the comparison:
kpistream/v1/result.proto). Prints
"KEYS_A KEYS_B ONLY_OR_DIFFERENT_IN_A ONLY_IN_B"."""
import struct
import sys


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def without_revision(msg):
    """msg's wire bytes without field 18 (the protobuf wire format's rules)."""
    out, i = bytearray(), 0
    while i < len(msg):
        start = i
        tag, i = varint(msg, i)
        wt = tag & 7
        if wt == 0:
            _, i = varint(msg, i)
        elif wt == 1:
            i += 8
        elif wt == 2:
            n, i = varint(msg, i)
            i += n
        elif wt == 5:
            i += 4
        else:
            sys.exit('wire type %d: not a MetricResult' % wt)
        if tag >> 3 != 18:
            out += msg[start:i]
    return bytes(out)


def load(path):
    raw = open(path, 'rb').read()
    out, i = {}, 0
    while i < len(raw):
        tab = raw.index(b'\t', i)
        key = raw[i:tab]
        n = struct.unpack('>I', raw[tab + 1:tab + 5])[0]
        out[key] = without_revision(raw[tab + 5:tab + 5 + n])  # the last of each key
        i = tab + 5 + n
    return out


a = load(sys.argv[1])
b = load(sys.argv[2])
print(len(a), len(b), sum(1 for k in a if b.get(k) != a[k]), sum(1 for k in b if k not in a))
