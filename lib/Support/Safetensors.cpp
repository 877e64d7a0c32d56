//===- Safetensors.cpp - Safetensors reader and writer --------------------===//

#include "sensq/Support/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <cstring>
#include <limits>

using namespace sensq::safetensors;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

constexpr StringRef kMetadataKey = "__metadata__";

struct DTypeInfo {
  DType dtype;
  const char *name;
  int64_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8},   {DType::F32, "F32", 4},  {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8},  {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},    {DType::U64, "U64", 8},
    {DType::U32, "U32", 4},   {DType::U16, "U16", 2},  {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
};

const DTypeInfo &getInfo(DType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return info;
  llvm_unreachable("unknown safetensors dtype");
}

Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  return "[" + llvm::join(llvm::map_range(shape, [](int64_t d) {
                            return std::to_string(d);
                          }),
                          ", ") +
         "]";
}

/// Multiplies the dimensions, or returns std::nullopt when the product
/// overflows int64_t or a dimension is negative.
std::optional<int64_t> getCheckedNumElements(llvm::ArrayRef<int64_t> shape) {
  int64_t product = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return std::nullopt;
    if (dim != 0 && product > std::numeric_limits<int64_t>::max() / dim)
      return std::nullopt;
    product *= dim;
  }
  return product;
}

/// Location of one tensor's bytes in the data section, in bytes.
struct ByteRange {
  std::string name;
  uint64_t begin;
  uint64_t end;
};

/// Parses the JSON description of one tensor (without its data).
Expected<Tensor> parseTensorInfo(StringRef bufferName, StringRef name,
                                 const llvm::json::Value &value,
                                 ByteRange &range) {
  auto fail = [&](const llvm::Twine &what) {
    return makeError(bufferName + ": tensor '" + name + "' " + what);
  };

  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return fail("is not a JSON object; expected {\"dtype\", \"shape\", "
                "\"data_offsets\"}");
  for (const auto &entry : *object) {
    StringRef key = entry.first;
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      return fail("has unknown field '" + key +
                  "'; expected only dtype, shape and data_offsets");
  }

  Tensor tensor;
  std::optional<StringRef> dtypeName = object->getString("dtype");
  if (!dtypeName)
    return fail("has no string field 'dtype'");
  std::optional<DType> dtype = parseDType(*dtypeName);
  if (!dtype)
    return fail("has unsupported dtype '" + *dtypeName +
                "'; expected one of F64, F32, F16, BF16, I64, I32, I16, I8, "
                "U64, U32, U16, U8, BOOL");
  tensor.dtype = *dtype;

  const llvm::json::Array *shape = object->getArray("shape");
  if (!shape)
    return fail("has no array field 'shape'");
  for (const llvm::json::Value &dim : *shape) {
    std::optional<int64_t> size = dim.getAsInteger();
    if (!size || *size < 0)
      return fail("has an invalid shape entry; expected non-negative "
                  "integers");
    tensor.shape.push_back(*size);
  }

  const llvm::json::Array *offsets = object->getArray("data_offsets");
  if (!offsets)
    return fail("has no array field 'data_offsets'");
  if (offsets->size() != 2)
    return fail("has " + llvm::Twine(offsets->size()) +
                " data_offsets; expected 2 (begin, end)");
  std::optional<uint64_t> begin = (*offsets)[0].getAsUINT64();
  std::optional<uint64_t> end = (*offsets)[1].getAsUINT64();
  if (!begin || !end)
    return fail("has invalid data_offsets; expected non-negative integers");
  if (*begin > *end)
    return fail(llvm::formatv("has data_offsets [{0}, {1}] with begin after "
                              "end",
                              *begin, *end));

  std::optional<int64_t> numElements = getCheckedNumElements(tensor.shape);
  int64_t elementSize = getElementSize(tensor.dtype);
  if (!numElements ||
      *numElements > std::numeric_limits<int64_t>::max() / elementSize)
    return fail("has shape " + formatShape(tensor.shape) +
                " whose byte size overflows 64 bits");
  uint64_t expectedBytes = static_cast<uint64_t>(*numElements * elementSize);
  if (*end - *begin != expectedBytes)
    return fail(llvm::formatv("has data_offsets [{0}, {1}] spanning {2} "
                              "bytes; expected {3} bytes for {4} {5}",
                              *begin, *end, *end - *begin, expectedBytes,
                              *dtypeName, formatShape(tensor.shape)));

  range = ByteRange{name.str(), *begin, *end};
  return tensor;
}

Error parseMetadata(StringRef bufferName, const llvm::json::Value &value,
                    std::map<std::string, std::string> &metadata) {
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return makeError(bufferName +
                     ": __metadata__ is not a JSON object of strings");
  for (const auto &entry : *object) {
    std::optional<StringRef> text = entry.second.getAsString();
    if (!text)
      return makeError(bufferName + ": __metadata__ entry '" +
                       StringRef(entry.first) +
                       "' is not a string; expected string values only");
    metadata[entry.first.str()] = text->str();
  }
  return Error::success();
}

/// Checks that the byte ranges tile [0, dataSize) without gaps or overlaps.
Error checkTiling(StringRef bufferName, std::vector<ByteRange> &ranges,
                  uint64_t dataSize) {
  llvm::sort(ranges, [](const ByteRange &a, const ByteRange &b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t position = 0;
  const ByteRange *previous = nullptr;
  for (const ByteRange &range : ranges) {
    if (range.end > dataSize)
      return makeError(llvm::formatv(
          "{0}: tensor '{1}' has data_offsets [{2}, {3}] past the end of the "
          "{4}-byte data section",
          bufferName, range.name, range.begin, range.end, dataSize));
    if (range.begin < position)
      return makeError(llvm::formatv(
          "{0}: tensor '{1}' data_offsets [{2}, {3}] overlap tensor '{4}' "
          "[{5}, {6}]",
          bufferName, range.name, range.begin, range.end, previous->name,
          previous->begin, previous->end));
    if (range.begin > position)
      return makeError(llvm::formatv(
          "{0}: bytes [{1}, {2}) of the data section belong to no tensor; "
          "expected tensors to cover the data section without gaps",
          bufferName, position, range.begin));
    position = range.end;
    previous = &range;
  }
  if (position != dataSize)
    return makeError(llvm::formatv(
        "{0}: bytes [{1}, {2}) of the data section belong to no tensor; "
        "expected tensors to cover the data section without gaps",
        bufferName, position, dataSize));
  return Error::success();
}

template <typename T>
Tensor encodeValues(DType dtype, llvm::ArrayRef<int64_t> shape,
                    llvm::ArrayRef<T> values) {
  Tensor tensor;
  tensor.dtype = dtype;
  tensor.shape.assign(shape.begin(), shape.end());
  assert(getCheckedNumElements(shape) &&
         *getCheckedNumElements(shape) == static_cast<int64_t>(values.size()) &&
         "value count does not match the shape");
  tensor.data.resize(values.size() * sizeof(T));
  char *out = tensor.data.data();
  for (T value : values) {
    llvm::support::endian::write<T>(out, value, llvm::endianness::little);
    out += sizeof(T);
  }
  return tensor;
}

template <typename T> std::vector<T> decodeValues(const Tensor &tensor) {
  assert(tensor.data.size() % sizeof(T) == 0 && "truncated tensor data");
  std::vector<T> values(tensor.data.size() / sizeof(T));
  const char *in = tensor.data.data();
  for (T &value : values) {
    value = llvm::support::endian::read<T>(in, llvm::endianness::little);
    in += sizeof(T);
  }
  return values;
}

} // namespace

int64_t sensq::safetensors::getElementSize(DType dtype) {
  return getInfo(dtype).size;
}

StringRef sensq::safetensors::getDTypeName(DType dtype) {
  return getInfo(dtype).name;
}

std::optional<DType> sensq::safetensors::parseDType(StringRef name) {
  for (const DTypeInfo &info : kDTypes)
    if (name == info.name)
      return info.dtype;
  return std::nullopt;
}

int64_t Tensor::getNumElements() const {
  int64_t product = 1;
  for (int64_t dim : shape)
    product *= dim;
  return product;
}

Tensor Tensor::fromF64(llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<double> values) {
  return encodeValues(DType::F64, shape, values);
}

Tensor Tensor::fromF32(llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<float> values) {
  return encodeValues(DType::F32, shape, values);
}

Tensor Tensor::fromI64(llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<int64_t> values) {
  return encodeValues(DType::I64, shape, values);
}

std::vector<double> Tensor::toF64() const {
  assert(dtype == DType::F64 && "tensor is not F64");
  return decodeValues<double>(*this);
}

std::vector<float> Tensor::toF32() const {
  assert(dtype == DType::F32 && "tensor is not F32");
  return decodeValues<float>(*this);
}

std::vector<int64_t> Tensor::toI64() const {
  assert(dtype == DType::I64 && "tensor is not I64");
  return decodeValues<int64_t>(*this);
}

Expected<File> sensq::safetensors::parseBuffer(StringRef buffer,
                                               StringRef bufferName) {
  if (buffer.size() < 8)
    return makeError(llvm::formatv("{0}: file is {1} bytes; expected at least "
                                   "8 for the header length",
                                   bufferName, buffer.size()));
  uint64_t headerSize = llvm::support::endian::read64le(buffer.data());
  uint64_t available = buffer.size() - 8;
  if (headerSize > available)
    return makeError(llvm::formatv(
        "{0}: header length is {1} bytes but only {2} bytes follow the "
        "length field; the file is truncated or not in safetensors format",
        bufferName, headerSize, available));
  if (headerSize < 2)
    return makeError(llvm::formatv("{0}: header length is {1} bytes; expected "
                                   "a JSON object of at least 2 bytes",
                                   bufferName, headerSize));

  StringRef headerText = buffer.substr(8, headerSize);
  StringRef data = buffer.substr(8 + headerSize);
  // NOTE: llvm::json::parse keeps the last value of a duplicated key. A
  // tensor listed twice with different offsets still fails the tiling check
  // below because the dropped entry leaves a gap, but exact duplicates and
  // duplicated metadata keys pass unnoticed.
  Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return makeError(bufferName + ": invalid JSON header: " +
                     llvm::toString(header.takeError()));
  const llvm::json::Object *root = header->getAsObject();
  if (!root)
    return makeError(bufferName + ": JSON header is not an object; expected "
                                  "an object mapping tensor names to "
                                  "descriptions");

  File file;
  std::vector<ByteRange> ranges;
  for (const auto &entry : *root) {
    StringRef name = entry.first;
    if (name == kMetadataKey) {
      if (Error err = parseMetadata(bufferName, entry.second, file.metadata))
        return std::move(err);
      continue;
    }
    if (name.empty())
      return makeError(bufferName + ": header has a tensor with an empty "
                                    "name");
    ByteRange range;
    Expected<Tensor> tensor =
        parseTensorInfo(bufferName, name, entry.second, range);
    if (!tensor)
      return tensor.takeError();
    ranges.push_back(range);
    file.tensors.emplace(name.str(), std::move(*tensor));
  }

  if (Error err = checkTiling(bufferName, ranges, data.size()))
    return std::move(err);

  for (const ByteRange &range : ranges) {
    Tensor &tensor = file.tensors[range.name];
    tensor.data.assign(data.begin() + range.begin, data.begin() + range.end);
  }
  return file;
}

Expected<File> sensq::safetensors::readFile(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": cannot open file: " +
                     buffer.getError().message());
  return parseBuffer((*buffer)->getBuffer(), path);
}

Expected<std::string> sensq::safetensors::serialize(const File &file) {
  llvm::json::Object header;
  uint64_t offset = 0;
  for (const auto &[name, tensor] : file.tensors) {
    if (name.empty() || name == kMetadataKey)
      return makeError(llvm::Twine("cannot write tensor named '") + name +
                       "'; names must be non-empty and not " + kMetadataKey);
    std::optional<int64_t> numElements = getCheckedNumElements(tensor.shape);
    int64_t elementSize = getElementSize(tensor.dtype);
    if (!numElements ||
        *numElements > std::numeric_limits<int64_t>::max() / elementSize ||
        static_cast<uint64_t>(*numElements * elementSize) !=
            tensor.data.size())
      return makeError(llvm::formatv(
          "cannot write tensor '{0}': it has {1} data bytes; expected the "
          "byte size of {2} {3}",
          name, tensor.data.size(), getDTypeName(tensor.dtype),
          formatShape(tensor.shape)));

    llvm::json::Array shape;
    for (int64_t dim : tensor.shape)
      shape.push_back(dim);
    uint64_t end = offset + tensor.data.size();
    header[name] = llvm::json::Object{
        {"dtype", getDTypeName(tensor.dtype)},
        {"shape", std::move(shape)},
        {"data_offsets", llvm::json::Array{offset, end}},
    };
    offset = end;
  }
  if (!file.metadata.empty()) {
    llvm::json::Object metadata;
    for (const auto &[key, value] : file.metadata)
      metadata[key] = value;
    header[kMetadataKey] = std::move(metadata);
  }

  std::string headerText;
  llvm::raw_string_ostream(headerText) << llvm::json::Value(std::move(header));
  // Space padding aligns the data section to 8 bytes, which lets readers
  // that map the file view F64 and I64 tensors in place.
  headerText.append((8 - headerText.size() % 8) % 8, ' ');

  std::string bytes;
  bytes.reserve(8 + headerText.size() + offset);
  char lengthField[8];
  llvm::support::endian::write64le(lengthField, headerText.size());
  bytes.append(lengthField, sizeof(lengthField));
  bytes += headerText;
  for (const auto &entry : file.tensors)
    bytes.append(entry.second.data.begin(), entry.second.data.end());
  return bytes;
}

Error sensq::safetensors::writeFile(StringRef path, const File &file) {
  Expected<std::string> bytes = serialize(file);
  if (!bytes)
    return makeError(path + ": " + llvm::toString(bytes.takeError()));

  Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!temp)
    return makeError(path + ": cannot create a temporary file beside it: " +
                     llvm::toString(temp.takeError()));

  std::string writeError;
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    os << *bytes;
    os.flush();
    if (os.has_error()) {
      writeError = os.error().message();
      os.clear_error();
    }
  }
  if (!writeError.empty()) {
    llvm::consumeError(temp->discard());
    return makeError(path + ": failed to write the temporary file: " +
                     writeError);
  }
  // keep() removes the temporary file itself when the rename fails.
  if (Error err = temp->keep(path))
    return makeError(path + ": failed to rename the temporary file: " +
                     llvm::toString(std::move(err)));
  return Error::success();
}
