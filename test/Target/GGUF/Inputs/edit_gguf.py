"""Writes a modified copy of a little-endian GGUF file (versions 1 to 3).

The importer tests use it to derive broken or converted models from the
real one:

  edit_gguf.py IN OUT [--set-string KEY=VALUE] [--set-uint KEY=VALUE]
                      [--drop-tensor NAME] [--set-type NAME=TYPE_ID]
                      [--set-dims NAME=D0,D1] [--poison NAME]
                      [--add-tensor NAME=D0[,D1]] [--to-f16]

Edits apply in the order given. --set-type changes only the type field, so
the data keeps its F32 bytes. --to-f16 converts every F32 tensor to F16.
The output is rewritten from scratch, so tensor offsets and the data
section alignment stay valid after tensors are added, dropped or resized.
"""

import argparse
import struct

SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f",
                  7: "?", 10: "Q", 11: "q", 12: "d"}
STRING_TYPE = 8
ARRAY_TYPE = 9
F32_TYPE = 0
F16_TYPE = 1


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.wide = True

    def read(self, fmt):
        value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def length(self):
        return self.read("Q" if self.wide else "I")

    def string(self):
        size = self.length()
        value = self.data[self.pos:self.pos + size]
        self.pos += size
        return value

    def skip_value(self, value_type):
        if value_type in SCALAR_FORMATS:
            self.read(SCALAR_FORMATS[value_type])
        elif value_type == STRING_TYPE:
            self.string()
        elif value_type == ARRAY_TYPE:
            element_type = self.read("I")
            for _ in range(self.length()):
                self.skip_value(element_type)
        else:
            raise ValueError("unknown value type %d" % value_type)


class Model:
    """Key/value pairs as raw bytes and tensors as dicts with their data."""

    def __init__(self, data):
        reader = Reader(data)
        assert data[:4] == b"GGUF", "not a GGUF file"
        reader.pos = 4
        self.version = reader.read("I")
        reader.wide = self.version >= 2
        self.wide = reader.wide
        num_tensors = reader.length()
        num_keys = reader.length()

        self.keys = []  # (name, type, raw value bytes)
        for _ in range(num_keys):
            name = reader.string().decode()
            value_type = reader.read("I")
            start = reader.pos
            reader.skip_value(value_type)
            self.keys.append([name, value_type, data[start:reader.pos]])
        self.alignment = 32
        for name, value_type, raw in self.keys:
            if name == "general.alignment":
                self.alignment = struct.unpack("<" + SCALAR_FORMATS[value_type],
                                               raw)[0]

        infos = []
        for _ in range(num_tensors):
            name = reader.string().decode()
            dims = [reader.length() for _ in range(reader.read("I"))]
            tensor_type = reader.read("I")
            offset = reader.read("Q")
            infos.append((name, dims, tensor_type, offset))

        data_start = -(-reader.pos // self.alignment) * self.alignment
        # Each tensor's data runs to the next tensor's offset (or the end).
        offsets = sorted(info[3] for info in infos) + [len(data) - data_start]
        self.tensors = []
        for name, dims, tensor_type, offset in infos:
            end = min(o for o in offsets if o > offset)
            self.tensors.append({
                "name": name, "dims": dims, "type": tensor_type,
                "data": data[data_start + offset:data_start + end]})

    def find(self, name):
        for tensor in self.tensors:
            if tensor["name"] == name:
                return tensor
        raise KeyError("no tensor " + name)

    def length_bytes(self, value):
        return struct.pack("<Q" if self.wide else "<I", value)

    def string_bytes(self, text):
        raw = text.encode()
        return self.length_bytes(len(raw)) + raw

    def serialize(self):
        out = bytearray(b"GGUF")
        out += struct.pack("<I", self.version)
        out += self.length_bytes(len(self.tensors))
        out += self.length_bytes(len(self.keys))
        for name, value_type, raw in self.keys:
            out += self.string_bytes(name) + struct.pack("<I", value_type) + raw
        offset = 0
        blobs = []
        for tensor in self.tensors:
            out += self.string_bytes(tensor["name"])
            out += struct.pack("<I", len(tensor["dims"]))
            for dim in tensor["dims"]:
                out += self.length_bytes(dim)
            out += struct.pack("<I", tensor["type"]) + struct.pack("<Q", offset)
            padded = tensor["data"] + b"\0" * (-len(tensor["data"]) %
                                               self.alignment)
            blobs.append(padded)
            offset += len(padded)
        out += b"\0" * (-len(out) % self.alignment)
        for blob in blobs:
            out += blob
        return bytes(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--set-string", action="append", default=[])
    parser.add_argument("--set-uint", action="append", default=[])
    parser.add_argument("--drop-tensor", action="append", default=[])
    parser.add_argument("--set-type", action="append", default=[])
    parser.add_argument("--set-dims", action="append", default=[])
    parser.add_argument("--poison", action="append", default=[])
    parser.add_argument("--add-tensor", action="append", default=[])
    parser.add_argument("--to-f16", action="store_true")
    args = parser.parse_args()

    with open(args.input, "rb") as f:
        model = Model(f.read())
    for edit in args.set_string:
        key, value = edit.split("=", 1)
        for entry in model.keys:
            if entry[0] == key:
                entry[1], entry[2] = STRING_TYPE, model.string_bytes(value)
    for edit in args.set_uint:
        key, value = edit.split("=", 1)
        for entry in model.keys:
            if entry[0] == key:
                entry[1], entry[2] = 4, struct.pack("<I", int(value))
    for name in args.drop_tensor:
        model.tensors.remove(model.find(name))
    for edit in args.set_type:
        name, type_id = edit.split("=", 1)
        model.find(name)["type"] = int(type_id)
    for edit in args.set_dims:
        name, dims = edit.split("=", 1)
        model.find(name)["dims"] = [int(d) for d in dims.split(",")]
    for name in args.poison:
        tensor = model.find(name)
        tensor["data"] = struct.pack("<f", float("nan")) + tensor["data"][4:]
    for edit in args.add_tensor:
        name, dims = edit.split("=", 1)
        dims = [int(d) for d in dims.split(",")]
        count = 1
        for dim in dims:
            count *= dim
        model.tensors.append({"name": name, "dims": dims, "type": F32_TYPE,
                              "data": b"\0" * (4 * count)})
    if args.to_f16:
        for tensor in model.tensors:
            if tensor["type"] != F32_TYPE:
                continue
            count = 1
            for dim in tensor["dims"]:
                count *= dim
            values = struct.unpack_from("<%df" % count, tensor["data"])
            tensor["data"] = struct.pack("<%de" % count, *values)
            tensor["type"] = F16_TYPE
    with open(args.output, "wb") as f:
        f.write(model.serialize())


if __name__ == "__main__":
    main()
