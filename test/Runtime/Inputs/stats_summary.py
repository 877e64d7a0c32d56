"""Summarizes sensq statistics files (safetensors) for the lit tests.

Usage: stats_summary.py FIRST SECOND MERGED
"""

import json
import struct
import sys


def read_header(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    return header, data[8 + length :]


def read_counts(path):
    header, data = read_header(path)
    counts = {}
    for name, info in header.items():
        if name.endswith(".count"):
            begin, end = info["data_offsets"]
            (counts[name[: -len(".count")]],) = struct.unpack("<q", data[begin:end])
    return header, counts


def main():
    first, second, merged = (read_counts(p) for p in sys.argv[1:4])
    print("layers:", len(first[1]), len(second[1]), len(merged[1]))
    print("format:", merged[0]["__metadata__"]["format"])
    header = merged[0]
    widths = {}
    for name in merged[1]:
        k = header[name + ".abs_sum"]["shape"][0]
        widths[k] = widths.get(k, 0) + 1
    print("channels:", ", ".join("%d x %d" % (widths[k], k) for k in sorted(widths)))
    print("ffn_down channels:", header["blk.0.ffn_down.weight.abs_sum"]["shape"][0])
    summed = all(merged[1][n] == first[1][n] + second[1][n] for n in merged[1])
    print("merged count equals the sum:", summed)
    print("counts equal across layers:", len(set(merged[1].values())) == 1)


if __name__ == "__main__":
    main()
