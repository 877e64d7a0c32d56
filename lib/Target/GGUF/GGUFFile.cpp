//===- GGUFFile.cpp - GGUF model file reader ------------------------------===//
//
// File layout (all integers little-endian; "len" is uint32 in version 1 and
// uint64 in versions 2 and 3):
//
//   "GGUF" magic, uint32 version, len tensor count, len key/value count,
//   key/value pairs: string key, uint32 value type, value,
//   tensor infos: string name, uint32 n_dims, n_dims x len dims,
//                 uint32 type, uint64 offset relative to the data section,
//   padding to the alignment, data section.
//
// A string is a len byte count followed by the bytes. An array value is a
// uint32 element type, a len element count and the elements.
//
//===----------------------------------------------------------------------===//

#include "sensq/Target/GGUF/GGUFFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace sensq::gguf;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using llvm::Twine;

/// Dimension limit of ggml tensors (GGML_MAX_DIMS).
static constexpr uint32_t kMaxDims = 4;
/// Maximum nesting depth of array values. ggml itself writes no nested arrays.
static constexpr unsigned kMaxArrayDepth = 4;

//===----------------------------------------------------------------------===//
// Type tables
//===----------------------------------------------------------------------===//

StringRef sensq::gguf::stringifyTensorType(TensorType type) {
  switch (type) {
  case TensorType::F32:
    return "F32";
  case TensorType::F16:
    return "F16";
  case TensorType::Q4_0:
    return "Q4_0";
  case TensorType::Q4_1:
    return "Q4_1";
  case TensorType::Q5_0:
    return "Q5_0";
  case TensorType::Q5_1:
    return "Q5_1";
  case TensorType::Q8_0:
    return "Q8_0";
  case TensorType::Q8_1:
    return "Q8_1";
  case TensorType::Q2_K:
    return "Q2_K";
  case TensorType::Q3_K:
    return "Q3_K";
  case TensorType::Q4_K:
    return "Q4_K";
  case TensorType::Q5_K:
    return "Q5_K";
  case TensorType::Q6_K:
    return "Q6_K";
  case TensorType::Q8_K:
    return "Q8_K";
  case TensorType::IQ2_XXS:
    return "IQ2_XXS";
  case TensorType::IQ2_XS:
    return "IQ2_XS";
  case TensorType::IQ3_XXS:
    return "IQ3_XXS";
  case TensorType::IQ1_S:
    return "IQ1_S";
  case TensorType::IQ4_NL:
    return "IQ4_NL";
  case TensorType::IQ3_S:
    return "IQ3_S";
  case TensorType::IQ2_S:
    return "IQ2_S";
  case TensorType::IQ4_XS:
    return "IQ4_XS";
  case TensorType::I8:
    return "I8";
  case TensorType::I16:
    return "I16";
  case TensorType::I32:
    return "I32";
  case TensorType::I64:
    return "I64";
  case TensorType::F64:
    return "F64";
  case TensorType::IQ1_M:
    return "IQ1_M";
  case TensorType::BF16:
    return "BF16";
  case TensorType::TQ1_0:
    return "TQ1_0";
  case TensorType::TQ2_0:
    return "TQ2_0";
  case TensorType::MXFP4:
    return "MXFP4";
  }
  return "unknown";
}

std::optional<TensorTypeLayout>
sensq::gguf::getTensorTypeLayout(TensorType type) {
  // Super-block quantizations pack 256 elements (QK_K) per block. The
  // legacy and non-linear quantizations pack 32.
  switch (type) {
  case TensorType::F32:
  case TensorType::I32:
    return TensorTypeLayout{1, 4};
  case TensorType::F16:
  case TensorType::BF16:
  case TensorType::I16:
    return TensorTypeLayout{1, 2};
  case TensorType::I8:
    return TensorTypeLayout{1, 1};
  case TensorType::I64:
  case TensorType::F64:
    return TensorTypeLayout{1, 8};
  case TensorType::Q4_0:
  case TensorType::IQ4_NL:
    return TensorTypeLayout{32, 18};
  case TensorType::Q4_1:
    return TensorTypeLayout{32, 20};
  case TensorType::Q5_0:
    return TensorTypeLayout{32, 22};
  case TensorType::Q5_1:
    return TensorTypeLayout{32, 24};
  case TensorType::Q8_0:
    return TensorTypeLayout{32, 34};
  case TensorType::Q8_1:
    return TensorTypeLayout{32, 36};
  case TensorType::MXFP4:
    return TensorTypeLayout{32, 17};
  case TensorType::Q2_K:
    return TensorTypeLayout{256, 84};
  case TensorType::Q3_K:
  case TensorType::IQ3_S:
    return TensorTypeLayout{256, 110};
  case TensorType::Q4_K:
    return TensorTypeLayout{256, 144};
  case TensorType::Q5_K:
    return TensorTypeLayout{256, 176};
  case TensorType::Q6_K:
    return TensorTypeLayout{256, 210};
  case TensorType::Q8_K:
    return TensorTypeLayout{256, 292};
  case TensorType::IQ2_XXS:
  case TensorType::TQ2_0:
    return TensorTypeLayout{256, 66};
  case TensorType::IQ2_XS:
    return TensorTypeLayout{256, 74};
  case TensorType::IQ3_XXS:
    return TensorTypeLayout{256, 98};
  case TensorType::IQ1_S:
    return TensorTypeLayout{256, 50};
  case TensorType::IQ2_S:
    return TensorTypeLayout{256, 82};
  case TensorType::IQ4_XS:
    return TensorTypeLayout{256, 136};
  case TensorType::IQ1_M:
    return TensorTypeLayout{256, 56};
  case TensorType::TQ1_0:
    return TensorTypeLayout{256, 54};
  }
  return std::nullopt;
}

StringRef sensq::gguf::stringifyValueType(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
    return "uint8";
  case ValueType::Int8:
    return "int8";
  case ValueType::UInt16:
    return "uint16";
  case ValueType::Int16:
    return "int16";
  case ValueType::UInt32:
    return "uint32";
  case ValueType::Int32:
    return "int32";
  case ValueType::Float32:
    return "float32";
  case ValueType::Bool:
    return "bool";
  case ValueType::String:
    return "string";
  case ValueType::Array:
    return "array";
  case ValueType::UInt64:
    return "uint64";
  case ValueType::Int64:
    return "int64";
  case ValueType::Float64:
    return "float64";
  }
  return "unknown";
}

std::string sensq::gguf::quoteForMessage(StringRef text) {
  // Names read from a corrupt file may be megabytes of binary data.
  constexpr size_t kMaxShownBytes = 80;
  std::string result = "'";
  for (unsigned char c : text.take_front(kMaxShownBytes)) {
    if (c == '\\' || c == '\'') {
      result += '\\';
      result += static_cast<char>(c);
    } else if (llvm::isPrint(c)) {
      result += static_cast<char>(c);
    } else {
      result += llvm::formatv("\\x{0:x-2}", c).str();
    }
  }
  if (text.size() > kMaxShownBytes)
    return result + "...' (" + std::to_string(text.size()) + " bytes)";
  return result + "'";
}

/// Returns the byte size of a scalar value type, or 0 for string, array and
/// unknown ids.
static uint64_t getScalarSize(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
  case ValueType::Int8:
  case ValueType::Bool:
    return 1;
  case ValueType::UInt16:
  case ValueType::Int16:
    return 2;
  case ValueType::UInt32:
  case ValueType::Int32:
  case ValueType::Float32:
    return 4;
  case ValueType::UInt64:
  case ValueType::Int64:
  case ValueType::Float64:
    return 8;
  case ValueType::String:
  case ValueType::Array:
    return 0;
  }
  return 0;
}

static bool isKnownValueType(uint32_t id) {
  return id <= static_cast<uint32_t>(ValueType::Float64);
}

static bool isIntegerType(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
  case ValueType::Int8:
  case ValueType::UInt16:
  case ValueType::Int16:
  case ValueType::UInt32:
  case ValueType::Int32:
  case ValueType::UInt64:
  case ValueType::Int64:
    return true;
  default:
    return false;
  }
}

uint64_t TensorInfo::getNumElements() const {
  uint64_t count = 1;
  for (uint64_t dim : dims)
    count *= dim;
  return count;
}

/// Converts an IEEE half-precision value to float. Every half value is exactly
/// representable as a float.
static float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half >> 15) << 31;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24.
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  uint32_t bits;
  if (exponent == 0x1f)
    bits = sign | 0x7f800000u | (mantissa << 13); // Inf or NaN.
  else
    bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  return llvm::bit_cast<float>(bits);
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

namespace {
/// Bounds-checked little-endian reader over the file bytes.
class Reader {
public:
  Reader(StringRef path, llvm::ArrayRef<uint8_t> data, bool wideLengths,
         uint64_t pos = 0)
      : path(path), data(data), wideLengths(wideLengths), pos(pos) {}

  uint64_t getPos() const { return pos; }
  uint64_t getRemaining() const { return data.size() - pos; }
  /// Byte size of a count or string length field.
  uint64_t getLengthSize() const { return wideLengths ? 8 : 4; }

  Error error(const Twine &message) const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + message);
  }

  /// Fails unless `size` more bytes are available for `what`.
  Error need(uint64_t size, const Twine &what) const {
    if (size <= getRemaining())
      return Error::success();
    return error(llvm::formatv("file is truncated: {0} at byte {1} needs {2} "
                               "bytes but only {3} remain",
                               what.str(), pos, size, getRemaining())
                     .str());
  }

  Error skip(uint64_t size, const Twine &what) {
    if (Error err = need(size, what))
      return err;
    pos += size;
    return Error::success();
  }

  template <typename T> Expected<T> read(const Twine &what) {
    if (Error err = need(sizeof(T), what))
      return std::move(err);
    T value = llvm::support::endian::read<T, llvm::endianness::little>(
        data.data() + pos);
    pos += sizeof(T);
    return value;
  }

  /// Reads a count or string length: uint32 in version 1, uint64 later.
  Expected<uint64_t> readLength(const Twine &what) {
    if (wideLengths)
      return read<uint64_t>(what);
    return read<uint32_t>(what);
  }

  Expected<StringRef> readString(const Twine &what) {
    Expected<uint64_t> length = readLength(Twine("length of ") + what);
    if (!length)
      return length.takeError();
    if (Error err = need(*length, what))
      return std::move(err);
    StringRef result(reinterpret_cast<const char *>(data.data() + pos),
                     *length);
    pos += *length;
    return result;
  }

private:
  StringRef path;
  llvm::ArrayRef<uint8_t> data;
  bool wideLengths;
  uint64_t pos;
};
} // namespace

/// Checks a count read from the file against the bytes left, given that
/// each counted item takes at least `minItemSize` bytes. Callers check
/// counts before reserving memory, so the file size bounds every allocation.
static Error checkCount(const Reader &reader, uint64_t count,
                        uint64_t minItemSize, const Twine &what) {
  if (minItemSize == 0 || count <= reader.getRemaining() / minItemSize)
    return Error::success();
  return reader.error(
      llvm::formatv("file is truncated or corrupt: {0} is {1}, but the {2} "
                    "bytes left at byte {3} cannot hold that many",
                    what.str(), count, reader.getRemaining(), reader.getPos())
          .str());
}

/// Validates and skips a value of type `typeId`.
static Error skipValue(Reader &reader, uint32_t typeId, unsigned depth,
                       const Twine &what) {
  if (!isKnownValueType(typeId))
    return reader.error(what + " has unknown value type " + Twine(typeId));
  auto type = static_cast<ValueType>(typeId);
  if (uint64_t size = getScalarSize(type))
    return reader.skip(size, what);
  if (type == ValueType::String)
    return reader.readString(what).takeError();

  if (depth >= kMaxArrayDepth)
    return reader.error(what + " nests arrays deeper than " +
                        Twine(kMaxArrayDepth) + " levels");
  Expected<uint32_t> elementTypeId =
      reader.read<uint32_t>(Twine("element type of ") + what);
  if (!elementTypeId)
    return elementTypeId.takeError();
  if (!isKnownValueType(*elementTypeId))
    return reader.error(what + " has unknown array element type " +
                        Twine(*elementTypeId));
  Expected<uint64_t> count = reader.readLength(Twine("length of ") + what);
  if (!count)
    return count.takeError();
  auto elementType = static_cast<ValueType>(*elementTypeId);
  uint64_t scalarSize = getScalarSize(elementType);
  if (scalarSize) {
    if (Error err = checkCount(reader, *count, scalarSize,
                               Twine("element count of ") + what))
      return err;
    return reader.skip(*count * scalarSize, what);
  }
  // A string element takes at least its length field. An array element
  // takes at least its element type and length fields.
  uint64_t minSize =
      reader.getLengthSize() + (elementType == ValueType::Array ? 4 : 0);
  if (Error err = checkCount(reader, *count, minSize,
                             Twine("element count of ") + what))
    return err;
  for (uint64_t i = 0; i < *count; ++i)
    if (Error err = skipValue(reader, *elementTypeId, depth + 1,
                              Twine("element ") + Twine(i) + " of " + what))
      return err;
  return Error::success();
}

/// Returns a * b, or std::nullopt on uint64 overflow.
static std::optional<uint64_t> checkedMul(uint64_t a, uint64_t b) {
  uint64_t result;
  if (__builtin_mul_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

/// Returns a + b, or std::nullopt on uint64 overflow.
static std::optional<uint64_t> checkedAdd(uint64_t a, uint64_t b) {
  uint64_t result;
  if (__builtin_add_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

//===----------------------------------------------------------------------===//
// GGUFFile
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<GGUFFile>> GGUFFile::open(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(
        buffer.getError(),
        path + ": cannot open file: " + buffer.getError().message());
  return create(std::move(*buffer));
}

Expected<std::unique_ptr<GGUFFile>>
GGUFFile::create(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  std::unique_ptr<GGUFFile> file(new GGUFFile());
  file->path = buffer->getBufferIdentifier().str();
  file->buffer = std::move(buffer);
  if (Error err = file->parse())
    return std::move(err);
  return file;
}

Error GGUFFile::makeError(const Twine &message) const {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

Error GGUFFile::parse() {
  llvm::ArrayRef<uint8_t> data = getBytes();

  // Header.
  if (data.size() < 4)
    return makeError(llvm::formatv("file is truncated: {0} bytes is too short "
                                   "for the GGUF magic",
                                   data.size())
                         .str());
  if (StringRef(reinterpret_cast<const char *>(data.data()), 4) != "GGUF")
    return makeError(
        llvm::formatv(
            "not a GGUF file: magic bytes are {0:x-2} {1:x-2} {2:x-2} "
            "{3:x-2}; expected 'GGUF'",
            data[0], data[1], data[2], data[3])
            .str());
  Reader header(path, data, /*wideLengths=*/false, 4);
  Expected<uint32_t> fileVersion = header.read<uint32_t>("GGUF version");
  if (!fileVersion)
    return fileVersion.takeError();
  if (*fileVersion < 1 || *fileVersion > 3) {
    std::string hint;
    uint32_t swapped = llvm::byteswap(*fileVersion);
    if (swapped >= 1 && swapped <= 3)
      hint = " (big-endian files are not supported)";
    return makeError("unsupported GGUF version " + Twine(*fileVersion) + hint +
                     "; expected 1, 2 or 3");
  }
  version = *fileVersion;

  Reader reader(path, data, /*wideLengths=*/version >= 2, header.getPos());
  uint64_t lengthSize = reader.getLengthSize();
  Expected<uint64_t> numTensors = reader.readLength("tensor count");
  if (!numTensors)
    return numTensors.takeError();
  Expected<uint64_t> numKeys = reader.readLength("key/value count");
  if (!numKeys)
    return numKeys.takeError();
  // A key/value pair takes at least a key length, a type and one byte. A
  // tensor info takes at least a name length, n_dims, a type and an offset.
  if (Error err = checkCount(reader, *numKeys, lengthSize + 5, "key count"))
    return err;
  if (Error err =
          checkCount(reader, *numTensors, lengthSize + 16, "tensor count"))
    return err;

  // Metadata.
  keys.reserve(*numKeys);
  for (uint64_t i = 0; i < *numKeys; ++i) {
    Expected<StringRef> key = reader.readString("key #" + Twine(i));
    if (!key)
      return key.takeError();
    if (values.count(*key))
      return makeError("duplicate key " + quoteForMessage(*key));
    std::string what = "key " + quoteForMessage(*key);
    Expected<uint32_t> typeId = reader.read<uint32_t>("value type of " + what);
    if (!typeId)
      return typeId.takeError();
    Value value;
    value.type = static_cast<ValueType>(*typeId);
    value.offset = reader.getPos();
    if (*typeId == static_cast<uint32_t>(ValueType::Array) &&
        reader.getRemaining() >= 4 + lengthSize) {
      // Record the element type and count, which skipValue validates.
      Reader peek(path, data, version >= 2, reader.getPos());
      value.elementType =
          static_cast<ValueType>(cantFail(peek.read<uint32_t>("element type")));
      value.count = cantFail(peek.readLength("element count"));
      value.offset = peek.getPos();
    }
    if (Error err = skipValue(reader, *typeId, 0, what))
      return err;
    keys.push_back(key->str());
    values[*key] = value;
  }

  if (hasKey("general.alignment")) {
    Expected<uint64_t> value = getUInt("general.alignment");
    if (!value)
      return value.takeError();
    if (!llvm::isPowerOf2_64(*value) || *value > (uint64_t(1) << 30))
      return makeError("general.alignment is " + Twine(*value) +
                       "; expected a power of two up to 2^30");
    alignment = *value;
  }

  // Recheck the tensor count against what the metadata left.
  if (Error err =
          checkCount(reader, *numTensors, lengthSize + 16, "tensor count"))
    return err;
  tensors.reserve(*numTensors);
  for (uint64_t i = 0; i < *numTensors; ++i) {
    Expected<StringRef> name = reader.readString("name of tensor #" + Twine(i));
    if (!name)
      return name.takeError();
    if (tensorIndex.count(*name))
      return makeError("duplicate tensor " + quoteForMessage(*name));
    std::string what = "tensor " + quoteForMessage(*name);
    TensorInfo info;
    info.name = name->str();
    Expected<uint32_t> numDims =
        reader.read<uint32_t>("dimension count of " + what);
    if (!numDims)
      return numDims.takeError();
    if (*numDims > kMaxDims)
      return makeError(what + " has " + Twine(*numDims) +
                       " dimensions; expected at most " + Twine(kMaxDims));
    uint64_t numElements = 1;
    for (uint32_t d = 0; d < *numDims; ++d) {
      Expected<uint64_t> dim =
          reader.readLength("dimension " + Twine(d) + " of " + what);
      if (!dim)
        return dim.takeError();
      std::optional<uint64_t> product = checkedMul(numElements, *dim);
      if (*dim > uint64_t(std::numeric_limits<int64_t>::max()) || !product ||
          *product > uint64_t(std::numeric_limits<int64_t>::max()))
        return makeError(what + " has too many elements: dimension " +
                         Twine(d) + " is " + Twine(*dim));
      numElements = *product;
      info.dims.push_back(*dim);
    }
    Expected<uint32_t> typeId = reader.read<uint32_t>("type of " + what);
    if (!typeId)
      return typeId.takeError();
    info.type = static_cast<TensorType>(*typeId);
    std::optional<TensorTypeLayout> layout = getTensorTypeLayout(info.type);
    if (!layout)
      return makeError(what + " has unknown type id " + Twine(*typeId));
    uint64_t rowLength = info.dims.empty() ? 1 : info.dims[0];
    if (rowLength % layout->blockSize != 0)
      return makeError(llvm::formatv("{0} has rows of {1} elements; type {2} "
                                     "stores blocks of {3}",
                                     what, rowLength,
                                     stringifyTensorType(info.type),
                                     layout->blockSize)
                           .str());
    std::optional<uint64_t> numBytes =
        checkedMul(numElements / layout->blockSize, layout->blockBytes);
    if (!numBytes)
      return makeError(what + " is too large");
    info.numBytes = *numBytes;
    Expected<uint64_t> offset = reader.read<uint64_t>("data offset of " + what);
    if (!offset)
      return offset.takeError();
    // Relative for now; made absolute once the data section is known.
    info.offset = *offset;
    tensorIndex[*name] = tensors.size();
    tensors.push_back(std::move(info));
  }

  // Data section: the first aligned byte after the tensor infos.
  std::optional<uint64_t> dataStart =
      checkedAdd(reader.getPos(), alignment - 1);
  if (!dataStart)
    return makeError("data section offset overflows");
  dataOffset = *dataStart / alignment * alignment;
  for (TensorInfo &info : tensors) {
    if (info.offset % alignment != 0)
      return makeError(llvm::formatv("tensor {0} has data offset {1}, which "
                                     "is not a multiple of the alignment {2}",
                                     quoteForMessage(info.name), info.offset,
                                     alignment)
                           .str());
    std::optional<uint64_t> begin = checkedAdd(dataOffset, info.offset);
    std::optional<uint64_t> end =
        begin ? checkedAdd(*begin, info.numBytes) : std::nullopt;
    if (!end || *end > data.size())
      return makeError(llvm::formatv("tensor {0} data ({1} bytes at offset "
                                     "{2} of the data section at byte {3}) "
                                     "extends past the end of the file ({4} "
                                     "bytes)",
                                     quoteForMessage(info.name), info.numBytes,
                                     info.offset, dataOffset, data.size())
                           .str());
    info.offset = *begin;
  }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Metadata access
//===----------------------------------------------------------------------===//

llvm::SmallVector<StringRef> GGUFFile::getKeys() const {
  return llvm::SmallVector<StringRef>(keys.begin(), keys.end());
}

bool GGUFFile::hasKey(StringRef key) const { return values.count(key); }

std::optional<ValueType> GGUFFile::getValueType(StringRef key) const {
  auto it = values.find(key);
  if (it == values.end())
    return std::nullopt;
  return it->second.type;
}

std::optional<ValueType> GGUFFile::getArrayElementType(StringRef key) const {
  auto it = values.find(key);
  if (it == values.end() || it->second.type != ValueType::Array)
    return std::nullopt;
  return it->second.elementType;
}

Expected<const GGUFFile::Value *> GGUFFile::lookup(StringRef key) const {
  auto it = values.find(key);
  if (it == values.end())
    return makeError("key " + quoteForMessage(key) + " not found");
  return &it->second;
}

namespace {
/// A signed or unsigned 64-bit integer read from the file.
struct Integer {
  bool isNegative;
  uint64_t magnitude;
  int64_t asSigned;
};
} // namespace

/// Reads one integer of type T at the reader position.
template <typename T>
static Expected<Integer> readIntegerAs(Reader &reader, const Twine &what) {
  Expected<T> value = reader.read<T>(what);
  if (!value)
    return value.takeError();
  if constexpr (std::is_signed_v<T>) {
    int64_t v = *value;
    uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : v;
    return Integer{v < 0, magnitude, v};
  } else {
    uint64_t v = *value;
    return Integer{false, v, static_cast<int64_t>(v)};
  }
}

/// Reads one integer of `type` at the reader position.
static Expected<Integer> readInteger(Reader &reader, ValueType type,
                                     const Twine &what) {
  switch (type) {
  case ValueType::UInt8:
    return readIntegerAs<uint8_t>(reader, what);
  case ValueType::Int8:
    return readIntegerAs<int8_t>(reader, what);
  case ValueType::UInt16:
    return readIntegerAs<uint16_t>(reader, what);
  case ValueType::Int16:
    return readIntegerAs<int16_t>(reader, what);
  case ValueType::UInt32:
    return readIntegerAs<uint32_t>(reader, what);
  case ValueType::Int32:
    return readIntegerAs<int32_t>(reader, what);
  case ValueType::UInt64:
    return readIntegerAs<uint64_t>(reader, what);
  case ValueType::Int64:
    return readIntegerAs<int64_t>(reader, what);
  default:
    return reader.error(what + " is not an integer");
  }
}

/// Reads one float32 or float64 at the reader position.
static Expected<double> readFloat(Reader &reader, ValueType type,
                                  const Twine &what) {
  if (type == ValueType::Float32) {
    Expected<uint32_t> bits = reader.read<uint32_t>(what);
    if (!bits)
      return bits.takeError();
    return llvm::bit_cast<float>(*bits);
  }
  Expected<uint64_t> bits = reader.read<uint64_t>(what);
  if (!bits)
    return bits.takeError();
  return llvm::bit_cast<double>(*bits);
}

Expected<uint64_t> GGUFFile::getUInt(StringRef key) const {
  Expected<const Value *> value = lookup(key);
  if (!value)
    return value.takeError();
  ValueType type = (*value)->type;
  if (!isIntegerType(type))
    return makeError("key " + quoteForMessage(key) + " has type " +
                     stringifyValueType(type) + "; expected an integer");
  Reader reader(path, getBytes(), version >= 2, (*value)->offset);
  Expected<Integer> integer =
      readInteger(reader, type, "key " + quoteForMessage(key));
  if (!integer)
    return integer.takeError();
  if (integer->isNegative)
    return makeError("key " + quoteForMessage(key) + " is " +
                     Twine(integer->asSigned) +
                     "; expected a non-negative integer");
  return integer->magnitude;
}

Expected<double> GGUFFile::getFloat(StringRef key) const {
  Expected<const Value *> value = lookup(key);
  if (!value)
    return value.takeError();
  ValueType type = (*value)->type;
  if (type != ValueType::Float32 && type != ValueType::Float64)
    return makeError("key " + quoteForMessage(key) + " has type " +
                     stringifyValueType(type) +
                     "; expected float32 or float64");
  Reader reader(path, getBytes(), version >= 2, (*value)->offset);
  return readFloat(reader, type, "key " + quoteForMessage(key));
}

Expected<bool> GGUFFile::getBool(StringRef key) const {
  Expected<const Value *> value = lookup(key);
  if (!value)
    return value.takeError();
  if ((*value)->type != ValueType::Bool)
    return makeError("key " + quoteForMessage(key) + " has type " +
                     stringifyValueType((*value)->type) + "; expected bool");
  return getBytes()[(*value)->offset] != 0;
}

Expected<std::string> GGUFFile::getString(StringRef key) const {
  Expected<const Value *> value = lookup(key);
  if (!value)
    return value.takeError();
  if ((*value)->type != ValueType::String)
    return makeError("key " + quoteForMessage(key) + " has type " +
                     stringifyValueType((*value)->type) + "; expected string");
  Reader reader(path, getBytes(), version >= 2, (*value)->offset);
  Expected<StringRef> result = reader.readString("key " + quoteForMessage(key));
  if (!result)
    return result.takeError();
  return result->str();
}

/// Fails unless `value` is an array whose element type satisfies `accept`.
static Error checkArray(const GGUFFile &file, StringRef key,
                        const GGUFFile::Value &value,
                        llvm::function_ref<bool(ValueType)> accept,
                        StringRef expected) {
  if (value.type == ValueType::Array && accept(value.elementType))
    return Error::success();
  std::string found =
      value.type == ValueType::Array
          ? ("array of " + stringifyValueType(value.elementType)).str()
          : stringifyValueType(value.type).str();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 file.getPath() + ": key " +
                                     quoteForMessage(key) + " has type " +
                                     found + "; expected " + expected);
}

Expected<std::vector<std::string>>
GGUFFile::getStringArray(StringRef key) const {
  Expected<const Value *> value = lookup(key);
  if (!value)
    return value.takeError();
  if (Error err = checkArray(
          *this, key, **value,
          [](ValueType type) { return type == ValueType::String; },
          "array of string"))
    return std::move(err);
  Reader reader(path, getBytes(), version >= 2, (*value)->offset);
  std::vector<std::string> result;
  result.reserve((*value)->count);
  for (uint64_t i = 0; i < (*value)->count; ++i) {
    Expected<StringRef> element = reader.readString(
        "element " + Twine(i) + " of key " + quoteForMessage(key));
    if (!element)
      return element.takeError();
    result.push_back(element->str());
  }
  return result;
}

Expected<std::vector<float>> GGUFFile::getFloatArray(StringRef key) const {
  Expected<const Value *> value = lookup(key);
  if (!value)
    return value.takeError();
  if (Error err = checkArray(
          *this, key, **value,
          [](ValueType type) {
            return type == ValueType::Float32 || type == ValueType::Float64;
          },
          "array of float32 or float64"))
    return std::move(err);
  Reader reader(path, getBytes(), version >= 2, (*value)->offset);
  std::vector<float> result;
  result.reserve((*value)->count);
  for (uint64_t i = 0; i < (*value)->count; ++i) {
    Expected<double> element =
        readFloat(reader, (*value)->elementType,
                  "element " + Twine(i) + " of key " + quoteForMessage(key));
    if (!element)
      return element.takeError();
    result.push_back(static_cast<float>(*element));
  }
  return result;
}

Expected<std::vector<int32_t>> GGUFFile::getIntArray(StringRef key) const {
  Expected<const Value *> value = lookup(key);
  if (!value)
    return value.takeError();
  if (Error err =
          checkArray(*this, key, **value, isIntegerType, "array of integers"))
    return std::move(err);
  Reader reader(path, getBytes(), version >= 2, (*value)->offset);
  std::vector<int32_t> result;
  result.reserve((*value)->count);
  for (uint64_t i = 0; i < (*value)->count; ++i) {
    Expected<Integer> element =
        readInteger(reader, (*value)->elementType,
                    "element " + Twine(i) + " of key " + quoteForMessage(key));
    if (!element)
      return element.takeError();
    bool fits = element->isNegative
                    ? element->asSigned >= std::numeric_limits<int32_t>::min()
                    : element->magnitude <=
                          uint64_t(std::numeric_limits<int32_t>::max());
    if (!fits)
      return makeError(llvm::formatv("element {0} of key {1} is {2}; "
                                     "expected a value that fits int32",
                                     i, quoteForMessage(key),
                                     element->isNegative
                                         ? std::to_string(element->asSigned)
                                         : std::to_string(element->magnitude))
                           .str());
    result.push_back(static_cast<int32_t>(element->asSigned));
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Tensor access
//===----------------------------------------------------------------------===//

const TensorInfo *GGUFFile::findTensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  if (it == tensorIndex.end())
    return nullptr;
  return &tensors[it->second];
}

llvm::ArrayRef<uint8_t>
GGUFFile::getTensorData(const TensorInfo &tensor) const {
  // Ranges were checked against the file size when it was opened.
  return getBytes().slice(tensor.offset, tensor.numBytes);
}

Expected<std::vector<float>>
GGUFFile::readTensorAsF32(const TensorInfo &tensor) const {
  if (tensor.type != TensorType::F32 && tensor.type != TensorType::F16)
    return makeError("tensor " + quoteForMessage(tensor.name) + " has type " +
                     stringifyTensorType(tensor.type) +
                     "; expected F32 or F16");
  llvm::ArrayRef<uint8_t> bytes = getTensorData(tensor);
  uint64_t numElements = tensor.getNumElements();
  std::vector<float> result(numElements);
  if (tensor.type == TensorType::F32) {
    for (uint64_t i = 0; i < numElements; ++i)
      result[i] = llvm::bit_cast<float>(
          llvm::support::endian::read32le(bytes.data() + 4 * i));
  } else {
    for (uint64_t i = 0; i < numElements; ++i)
      result[i] =
          halfToFloat(llvm::support::endian::read16le(bytes.data() + 2 * i));
  }
  return result;
}
