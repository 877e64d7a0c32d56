//===- GGUFFile.h - GGUF model file reader ----------------------*- C++ -*-===//
//
// Reads GGUF files, the container format of ggml and llama.cpp models:
// a header, typed key/value metadata, tensor descriptions and an aligned
// data section. Versions 1, 2 and 3 are supported in little-endian byte
// order. Version 1 stores counts and string lengths as 32-bit integers,
// later versions as 64-bit integers.
//
// Opening a file validates every count, length, type id and tensor data
// range against the file size, so a truncated or corrupt file yields an
// error naming the file and the field instead of a crash or a huge
// allocation.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_TARGET_GGUF_GGUFFILE_H
#define SENSQ_TARGET_GGUF_GGUFFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sensq::gguf {

/// Tensor element types, with the numeric ids ggml stores in files.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // Ids 4 and 5 (Q4_2, Q4_3) were removed from ggml.
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  // Ids 31 to 33 (repacked Q4_0 layouts) were removed from files.
  TQ1_0 = 34,
  TQ2_0 = 35,
  // Ids 36 to 38 (repacked IQ4_NL layouts) were removed from files.
  MXFP4 = 39,
};

/// Returns the ggml name of `type` ("F32", "Q4_K", ...), or "unknown" for
/// an id that names no type.
llvm::StringRef stringifyTensorType(TensorType type);

/// Returns `text` in single quotes for a one-line error message, with quotes,
/// backslashes and non-printable bytes escaped and text beyond 80 bytes cut.
std::string quoteForMessage(llvm::StringRef text);

/// Storage layout of a tensor type: `blockBytes` bytes hold `blockSize`
/// consecutive elements of the fastest varying dimension.
struct TensorTypeLayout {
  uint64_t blockSize;
  uint64_t blockBytes;
};

/// Returns the layout of `type`, or std::nullopt for an unknown id.
std::optional<TensorTypeLayout> getTensorTypeLayout(TensorType type);

/// Metadata value types, with the numeric ids GGUF stores in files.
enum class ValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// Returns the GGUF name of `type` ("uint32", "string", ...).
llvm::StringRef stringifyValueType(ValueType type);

/// Description of one tensor of the file.
struct TensorInfo {
  std::string name;
  /// Dimensions in ggml order: dims[0] varies fastest. A matrix of R rows
  /// of C elements has dims {C, R}.
  llvm::SmallVector<uint64_t> dims;
  TensorType type;
  /// Absolute byte offset of the tensor data in the file.
  uint64_t offset;
  /// Byte size of the tensor data.
  uint64_t numBytes;

  uint64_t getNumElements() const;
};

/// A GGUF file mapped into memory, with its metadata parsed and validated.
class GGUFFile {
public:
  /// Maps and validates the file at `path`.
  static llvm::Expected<std::unique_ptr<GGUFFile>> open(llvm::StringRef path);

  /// Validates the GGUF data in `buffer`. The buffer identifier names the
  /// file in error messages.
  static llvm::Expected<std::unique_ptr<GGUFFile>>
  create(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// Path or buffer identifier the file was opened from.
  llvm::StringRef getPath() const { return path; }
  uint32_t getVersion() const { return version; }
  /// Alignment of the data section and of each tensor in bytes
  /// (`general.alignment`, 32 when absent).
  uint64_t getAlignment() const { return alignment; }
  /// Absolute byte offset of the data section.
  uint64_t getDataOffset() const { return dataOffset; }

  /// Metadata keys in file order.
  llvm::SmallVector<llvm::StringRef> getKeys() const;
  bool hasKey(llvm::StringRef key) const;
  /// Type of the value of `key`, or std::nullopt if the key is absent.
  std::optional<ValueType> getValueType(llvm::StringRef key) const;
  /// Element type of the array value of `key`, or std::nullopt if the key
  /// is absent or its value is not an array.
  std::optional<ValueType> getArrayElementType(llvm::StringRef key) const;

  /// Integer value of any integer type that is non-negative and fits 64
  /// bits unsigned.
  llvm::Expected<uint64_t> getUInt(llvm::StringRef key) const;
  /// Float32 or float64 value, as double.
  llvm::Expected<double> getFloat(llvm::StringRef key) const;
  llvm::Expected<bool> getBool(llvm::StringRef key) const;
  llvm::Expected<std::string> getString(llvm::StringRef key) const;
  llvm::Expected<std::vector<std::string>>
  getStringArray(llvm::StringRef key) const;
  /// Array of float32 or float64 values, as float.
  llvm::Expected<std::vector<float>> getFloatArray(llvm::StringRef key) const;
  /// Array of any integer type whose values all fit int32.
  llvm::Expected<std::vector<int32_t>> getIntArray(llvm::StringRef key) const;

  /// Tensors in file order.
  llvm::ArrayRef<TensorInfo> getTensors() const { return tensors; }
  /// Returns the tensor named `name`, or nullptr.
  const TensorInfo *findTensor(llvm::StringRef name) const;
  /// Raw bytes of the tensor data.
  llvm::ArrayRef<uint8_t> getTensorData(const TensorInfo &tensor) const;
  /// Reads an F32 or F16 tensor as float32, converting F16 exactly. Fails
  /// naming the tensor and its type for any other type.
  llvm::Expected<std::vector<float>>
  readTensorAsF32(const TensorInfo &tensor) const;

  /// Value of a metadata entry: its type and where its payload starts.
  struct Value {
    ValueType type;
    /// Element type and element count of an array.
    ValueType elementType = ValueType::UInt8;
    uint64_t count = 0;
    /// Absolute byte offset of the payload: the scalar, the string length
    /// field, or the first array element.
    uint64_t offset = 0;
  };

private:
  GGUFFile() = default;
  llvm::Error parse();
  llvm::Expected<const Value *> lookup(llvm::StringRef key) const;
  llvm::Error makeError(const llvm::Twine &message) const;
  llvm::ArrayRef<uint8_t> getBytes() const {
    return llvm::arrayRefFromStringRef(buffer->getBuffer());
  }

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::string path;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t dataOffset = 0;
  std::vector<std::string> keys;
  llvm::StringMap<Value> values;
  std::vector<TensorInfo> tensors;
  llvm::StringMap<size_t> tensorIndex;
};

} // namespace sensq::gguf

#endif // SENSQ_TARGET_GGUF_GGUFFILE_H
