//===- ModelRunner.h - JIT execution of a model module ----------*- C++ -*-===//
//
// Compiles a model module (float or quantized) with the `sensq-cpu-codegen`
// pipeline, JITs it for the host CPU and runs its entry function
//
//   func.func @forward(%tokens: tensor<Txi32>)
//       -> (tensor<TxVxf32>, tensor<TxK1xf32>, ...)
//
// whose first result contains the next-token logits of every position and whose
// optional further rank-2 results (for example the matmul inputs exposed for
// calibration) share the T rows.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_RUNTIME_MODELRUNNER_H
#define SENSQ_RUNTIME_MODELRUNNER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
class MLIRContext;
class ModuleOp;
template <typename OpTy> class OwningOpRef;
} // namespace mlir

namespace sensq {

/// Shape of the entry function, read from the module before compilation.
struct ModelSignature {
  /// Number of token positions T of one call.
  int64_t seqLen = 0;
  /// Vocabulary size V, the columns of the logits.
  int64_t vocabSize = 0;
  /// Columns of each extra [T, K] result, in result order.
  std::vector<int64_t> extraColumns;
  /// Name of each extra result: the weight names of `sensq.exposed_inputs`
  /// when present, otherwise "result1", "result2", ...
  std::vector<std::string> extraNames;
};

/// Outputs of one forward call, row-major.
struct ForwardResult {
  /// [T, V] logits; row t scores the token at position t + 1.
  std::vector<float> logits;
  /// One [T, K] array per extra result.
  std::vector<std::vector<float>> extras;
};

/// Wall-clock seconds spent preparing a model.
struct ModelTimings {
  double parseSeconds = 0;
  /// Running `sensq-cpu-codegen` on the module.
  double lowerSeconds = 0;
  /// Translating to LLVM IR, optimizing and generating machine code.
  double jitSeconds = 0;
};

struct ModelRunnerOptions {
  /// Name of the entry function.
  std::string entryFunction = "forward";
  /// Appends the input of every named matmul to the entry function's
  /// results with `sensq-expose-matmul-inputs` before compiling.
  bool exposeMatmulInputs = false;
  /// Tile and vectorize; false lowers linalg ops to scalar loops.
  bool vectorize = true;
  /// f32 elements per vector tile; 0 picks 16 on hosts with AVX-512 and 8
  /// otherwise (one register).
  int64_t vectorWidth = 0;
  /// LLVM optimization level of the JIT, 0 to 3.
  unsigned optLevel = 3;
};

class ModelRunner {
public:
  ~ModelRunner();

  /// Parses the module at `path`, validates the entry function and compiles
  /// it. Errors name the file.
  static llvm::Expected<std::unique_ptr<ModelRunner>>
  fromFile(llvm::StringRef path, const ModelRunnerOptions &options = {});

  /// Parses the module in `source`; `name` stands for the file in errors.
  static llvm::Expected<std::unique_ptr<ModelRunner>>
  fromString(llvm::StringRef source, llvm::StringRef name,
             const ModelRunnerOptions &options = {});

  const ModelSignature &getSignature() const { return signature; }
  int64_t getSeqLen() const { return signature.seqLen; }
  int64_t getVocabSize() const { return signature.vocabSize; }
  const ModelTimings &getTimings() const { return timings; }
  /// Path of the module file (or the name given to fromString), which
  /// prefixes error messages.
  llvm::StringRef getName() const { return name; }

  /// Runs the entry function on `tokens` (1 to T ids, padded with
  /// `padToken` to T) and fills `result`. Rows at and after
  /// `tokens.size()` belong to padding.
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens, ForwardResult &result,
                      int32_t padToken = 0);

  /// Returns the number of buffers that compiled models have allocated and
  /// not freed. Between forward calls it is zero unless a model leaks.
  static int64_t getLiveBufferCount();

private:
  ModelRunner();

  static llvm::Expected<std::unique_ptr<ModelRunner>>
  compile(std::unique_ptr<mlir::MLIRContext> context,
          mlir::OwningOpRef<mlir::ModuleOp> module, llvm::StringRef name,
          const ModelRunnerOptions &options, double parseSeconds);

  std::string name;
  ModelSignature signature;
  ModelTimings timings;
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*entry)(void **) = nullptr;
};

} // namespace sensq

#endif // SENSQ_RUNTIME_MODELRUNNER_H
