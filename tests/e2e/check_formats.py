#!/usr/bin/env python3
"""Checks one run's results in the three output formats, with tools that are
not kpistream's: kcat reads the records (timestamp, headers, payload), protoc
decodes the protobuf (through the installed descriptor set and through the
.proto, which must agree), Python's json module parses the JSON.

usage: check_formats.py BOOTSTRAP PROTO_DIR DESCRIPTOR_SET PB_TOPIC JSON_TOPIC CF_TOPIC SCHEMA_ID

Asserts, per result: the JSON object holds exactly the fields protoc decodes
(same strings, enum names, numbers as doubles, value null when absent, the
RFC 3339 twins of the interval times); the Confluent record is 0x00, the
schema id big-endian, 02 02, then byte for byte the protobuf record; every
record's Kafka timestamp is its interval end and its content-type header
names its format; the three topics hold the same results.
"""
import datetime
import json
import subprocess
import sys

CT = {
    "protobuf": "application/x-protobuf; message=kpistream.v1.MetricResult",
    "json": "application/json; message=kpistream.v1.MetricResult",
    "confluent_protobuf": "application/vnd.confluent.protobuf; message=kpistream.v1.MetricResult",
}
ENUM_DEFAULT = {"level": "LEVEL_UNSPECIFIED", "channel": "CHANNEL_UNSPECIFIED",
                "aggregation": "AGGREGATION_UNSPECIFIED"}
STRINGS = ["key", "family", "metric", "tenant", "queue", "agent_id", "team", "unit", "plugin_version"]
INTS = ["interval_start_ms", "interval_end_ms", "count", "revision"]
DOUBLES = ["numerator", "denominator"]


def fail(msg):
    print("E2E FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def read_topic(bs, topic):
    """[(timestamp_ms, {header: value}, payload bytes)] of every record."""
    raw = subprocess.run(["kcat", "-C", "-b", bs, "-t", topic, "-o", "beginning", "-e", "-q",
                          "-f", "%T\n%h\n%R%s"], check=True, capture_output=True).stdout
    out, pos = [], 0
    while pos < len(raw):
        nl = raw.index(b"\n", pos)
        ts = int(raw[pos:nl])
        nl2 = raw.index(b"\n", nl + 1)
        hdrs = {}
        for h in raw[nl + 1:nl2].decode().split(","):
            if "=" in h:
                k, v = h.split("=", 1)
                hdrs[k] = v
        n = int.from_bytes(raw[nl2 + 1:nl2 + 5], "big")
        out.append((ts, hdrs, raw[nl2 + 5:nl2 + 5 + n]))
        pos = nl2 + 5 + n
    return out


def varint(n):
    b = bytearray()
    while n >= 0x80:
        b.append(n & 0x7F | 0x80)
        n >>= 7
    b.append(n)
    return bytes(b)


def unquote(s):
    # protoc's text format: C escapes; results hold printable ASCII here
    return bytes(s[1:-1], "utf-8").decode("unicode_escape")


def protoc_decode(args, payloads):
    """protoc --decode of every payload at once (as one MetricResults)."""
    batch = b"".join(b"\x0a" + varint(len(p)) + p for p in payloads)
    text = subprocess.run(["protoc", "--decode=kpistream.v1.MetricResults"] + args +
                          ["kpistream/v1/result.proto"], input=batch, check=True,
                          capture_output=True).stdout.decode()
    results, cur, label = [], None, None
    for line in text.splitlines():
        line = line.strip()
        if line == "results {":
            cur = {"labels": []}
        elif line == "labels {":
            label = {"key": "", "value": ""}
        elif line == "}":
            if label is not None:
                cur["labels"].append(label)
                label = None
            else:
                results.append(cur)
                cur = None
        else:
            name, val = line.split(": ", 1)
            val = unquote(val) if val.startswith('"') else val
            (label if label is not None else cur)[name] = val
    return text, results


def rfc3339(ms):
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def main():
    bs, proto, desc, t_pb, t_json, t_cf, schema_id = sys.argv[1:8]
    schema_id = int(schema_id)
    pb, js, cf = read_topic(bs, t_pb), read_topic(bs, t_json), read_topic(bs, t_cf)
    if not pb:
        fail("no results on " + t_pb)
    if not (len(pb) == len(js) == len(cf)):
        fail("result counts differ: %s %d, %s %d, %s %d" % (t_pb, len(pb), t_json, len(js), t_cf, len(cf)))
    text_desc, decoded = protoc_decode(["--descriptor_set_in=" + desc], [p for _, _, p in pb])
    text_proto, _ = protoc_decode(["-I", proto], [p for _, _, p in pb])
    if text_desc != text_proto:
        fail("protoc decodes differently through the descriptor set and through the .proto")
    by_id, pb_bytes = {}, {}
    for (ts, hdrs, payload), r in zip(pb, decoded):
        rid = (r["key"], int(r.get("revision", "0")))
        by_id[rid] = r
        pb_bytes[rid] = payload
        if hdrs.get("content-type") != CT["protobuf"]:
            fail("%s: %s has content-type %r" % (t_pb, rid, hdrs.get("content-type")))
        if ts != int(r["interval_end_ms"]):
            fail("%s: %s has timestamp %d, interval end %s" % (t_pb, rid, ts, r["interval_end_ms"]))

    n_fields = 0
    for ts, hdrs, payload in js:
        if hdrs.get("content-type") != CT["json"]:
            fail("%s: content-type %r" % (t_json, hdrs.get("content-type")))
        o = json.loads(payload.decode("utf-8"))
        rid = (o["key"], o["revision"])
        r = by_id.get(rid)
        if r is None:
            fail("%s: %s is not on %s" % (t_json, rid, t_pb))
        if ts != o["interval_end_ms"]:
            fail("%s: %s has timestamp %d, interval end %d" % (t_json, rid, ts, o["interval_end_ms"]))
        want = {}
        for f in STRINGS:
            want[f] = r.get(f, "")
        for f in INTS:
            want[f] = int(r.get(f, "0"))
        for f in DOUBLES:
            want[f] = float(r.get(f, "0"))
        for f, d in ENUM_DEFAULT.items():
            want[f] = r.get(f, d)
        want["value"] = float(r["value"]) if "value" in r else None
        want["labels"] = r["labels"]
        want["interval_start"] = rfc3339(want["interval_start_ms"])
        want["interval_end"] = rfc3339(want["interval_end_ms"])
        if set(o) != set(want):
            fail("%s: %s has fields %s, want %s" % (t_json, rid, sorted(o), sorted(want)))
        for f, w in want.items():
            got = o[f]
            if isinstance(w, float) and not isinstance(got, bool) and isinstance(got, (int, float)):
                got = float(got)
            if got != w:
                fail("%s: %s field %s is %r, protoc --decode says %r" % (t_json, rid, f, o[f], w))
            n_fields += 1

    rid_of_bytes = {b: rid for rid, b in pb_bytes.items()}
    for ts, hdrs, payload in cf:
        if hdrs.get("content-type") != CT["confluent_protobuf"]:
            fail("%s: content-type %r" % (t_cf, hdrs.get("content-type")))
        prefix = b"\x00" + schema_id.to_bytes(4, "big") + b"\x02\x02"
        if payload[:7] != prefix:
            fail("%s: prefix %s, want %s" % (t_cf, payload[:7].hex(), prefix.hex()))
        rid = rid_of_bytes.get(payload[7:])
        if rid is None:
            fail("%s: a record whose protobuf is on no record of %s" % (t_cf, t_pb))
        if ts != int(by_id[rid]["interval_end_ms"]):
            fail("%s: %s has timestamp %d" % (t_cf, rid, ts))
    print("%d results in each format: %d JSON fields equal protoc --decode's, every Confluent record "
          "is 00 %08x 02 02 + the protobuf, every timestamp the interval end, every content-type right"
          % (len(pb), n_fields, schema_id))


if __name__ == "__main__":
    main()
