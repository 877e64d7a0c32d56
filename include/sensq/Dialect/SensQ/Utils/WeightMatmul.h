//===- WeightMatmul.h - Matching matmuls with a weight operand --*- C++ -*-===//
//
// The sensq passes operate on linear layers written as `linalg.matmul` in the
// transposed-B form y = x * W^T, with an f32 input x of shape [M, K] and an f32
// weight W of shape [N, K] (PyTorch and GGUF layout). This header names that
// shape once so every pass matches it the same way.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_DIALECT_SENSQ_UTILS_WEIGHTMATMUL_H
#define SENSQ_DIALECT_SENSQ_UTILS_WEIGHTMATMUL_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/LLVM.h"

namespace mlir {
namespace sensq {

/// A matmul computing `input * weight^T` into `init`.
struct WeightMatmul {
  linalg::MatmulOp op;
  Value input;
  Value weight;
  Value init;
  /// Value of the `sensq.weight` attribute, or empty when the matmul is
  /// unnamed.
  StringRef name;

  int64_t getNumInputChannels() const;
  int64_t getNumOutputChannels() const;
};

/// Matches `op` as a transposed-B matmul on f32 tensors with a statically
/// shaped 2-D weight. On failure, `reason` (when given) receives what did not
/// match, for -debug-only logs and match-failure messages.
FailureOr<WeightMatmul> matchWeightMatmul(linalg::MatmulOp op,
                                          std::string *reason = nullptr);

/// Returns the row-major f32 values of the constant behind `weight`, looking
/// through `sensq.sensitivity`. Handles `dense` and `dense_resource`
/// constants; returns std::nullopt when the weight is not a constant or a
/// resource blob is missing.
std::optional<std::vector<float>> getConstantWeightValues(Value weight);

/// Checks that every entry of `names` is the `sensq.weight` name of a
/// `linalg.matmul` under `root`. A misspelled name would otherwise be ignored
/// without notice, so the error names the first unknown entry, the option it
/// came from and the closest known name.
LogicalResult verifyWeightNames(Operation *root, ArrayRef<std::string> names,
                                StringRef optionName);

/// Returns the indexing maps of a transposed-B matmul:
/// (m, n, k) -> (m, k), (n, k), (m, n).
SmallVector<AffineMap> getTransposedBMatmulMaps(MLIRContext *context);

} // namespace sensq
} // namespace mlir

#endif // SENSQ_DIALECT_SENSQ_UTILS_WEIGHTMATMUL_H
