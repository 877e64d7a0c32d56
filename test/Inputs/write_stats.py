#!/usr/bin/env python3
"""Write a sensq activation statistics file from activation rows given as JSON.

Usage: write_stats.py SPEC.json OUT.safetensors

SPEC maps a weight name to {"rows": [[x_0, ..., x_{K-1}], ...]}: the
activations that reach that matmul, one token per row. The sums are computed
here in double precision, so a test can state its inputs as activations and
check what the passes derive from them. A layer may instead give "count",
"abs_sum", "sq_sum" and "gram" directly to write inconsistent or non-finite
statistics on purpose.
"""

import json
import struct
import sys


def tensor_bytes(dtype, values):
    code = {"F64": "d", "I64": "q"}[dtype]
    return struct.pack("<%d%s" % (len(values), code), *values)


def layer_tensors(name, spec):
    if "rows" in spec:
        rows = spec["rows"]
        k = len(rows[0])
        count = len(rows)
        abs_sum = [sum(abs(r[j]) for r in rows) for j in range(k)]
        sq_sum = [sum(r[j] * r[j] for r in rows) for j in range(k)]
        gram = [sum(r[i] * r[j] for r in rows) for i in range(k) for j in range(k)]
    else:
        count = spec["count"]
        abs_sum = spec["abs_sum"]
        sq_sum = spec["sq_sum"]
        gram = spec["gram"]
        k = len(abs_sum)
    gram_rows = len(gram) // k if k else 0
    return [
        (name + ".count", "I64", [1], [count]),
        (name + ".abs_sum", "F64", [len(abs_sum)], abs_sum),
        (name + ".sq_sum", "F64", [len(sq_sum)], sq_sum),
        (name + ".gram", "F64", [gram_rows, k], gram),
    ]


def main():
    spec_path, out_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)

    tensors = []
    for name, layer in spec.items():
        tensors.extend(layer_tensors(name, layer))

    header = {"__metadata__": {"format": "sensq-activation-stats", "version": "1"}}
    data = b""
    for name, dtype, shape, values in tensors:
        blob = tensor_bytes(dtype, [float(v) if dtype == "F64" else int(v)
                                    for v in values])
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob

    header_bytes = json.dumps(header).encode()
    with open(out_path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        f.write(data)


if __name__ == "__main__":
    main()
