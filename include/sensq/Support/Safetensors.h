//===- Safetensors.h - Safetensors reader and writer ------------*- C++ -*-===//
//
// The safetensors format stores named dense tensors in one file:
//
//   bytes [0, 8)        header length H, unsigned 64-bit little-endian
//   bytes [8, 8 + H)    UTF-8 JSON object; each key other than "__metadata__"
//                       names a tensor and maps to
//                       {"dtype": "F32", "shape": [2, 3],
//                        "data_offsets": [begin, end]}
//                       with offsets relative to the start of the data
//                       section; "__metadata__" maps strings to strings
//   bytes [8 + H, EOF)  data section, little-endian, row-major
//
// The reader requires the tensors to tile the data section exactly: sorted
// by offset, each tensor starts where the previous one ends, the last one
// ends at the end of the file, and each byte range has the size its dtype
// and shape imply.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_SUPPORT_SAFETENSORS_H
#define SENSQ_SUPPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sensq::safetensors {

/// Element types, spelled in files as the enumerator names.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8,
                   BOOL };

/// Returns the size of one element in bytes.
int64_t getElementSize(DType dtype);

/// Returns the name used in the JSON header, e.g. "F32".
llvm::StringRef getDTypeName(DType dtype);

/// Parses a JSON header dtype name; names are case-sensitive.
std::optional<DType> parseDType(llvm::StringRef name);

/// One tensor: element type, shape and little-endian row-major bytes.
struct Tensor {
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t> shape;
  std::vector<char> data;

  /// Product of the dimensions; 1 for a rank-0 tensor.
  int64_t getNumElements() const;

  /// Builds tensors from host values. The number of values must equal the
  /// product of `shape`.
  static Tensor fromF64(llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<double> values);
  static Tensor fromF32(llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<float> values);
  static Tensor fromI64(llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<int64_t> values);

  /// Decodes the elements. Each requires the matching dtype (asserted);
  /// callers check `dtype` first when the tensor comes from a file.
  std::vector<double> toF64() const;
  std::vector<float> toF32() const;
  std::vector<int64_t> toI64() const;
};

/// Contents of one safetensors file. std::map keeps the names sorted, so
/// writing the same File twice gives identical bytes.
struct File {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Reads and validates a whole file. Errors start with the path and name
/// the offending tensor.
llvm::Expected<File> readFile(llvm::StringRef path);

/// Parses a file already in memory; `bufferName` prefixes error messages.
llvm::Expected<File> parseBuffer(llvm::StringRef buffer,
                                 llvm::StringRef bufferName);

/// Serializes `file` to bytes: the header lists the tensors in name order,
/// is padded with spaces to a multiple of 8 bytes, and is followed by the
/// tensor data in the same order. Fails when a tensor's data size does not
/// match its dtype and shape or a name is empty or "__metadata__".
llvm::Expected<std::string> serialize(const File &file);

/// Writes `file` to `path` through a temporary file beside it that is
/// renamed over `path` only after every byte is written, so `path` contains
/// either its old contents or the complete new file.
llvm::Error writeFile(llvm::StringRef path, const File &file);

} // namespace sensq::safetensors

#endif // SENSQ_SUPPORT_SAFETENSORS_H
