//===- Passes.h - sensq transformation passes -------------------*- C++ -*-===//

#ifndef SENSQ_DIALECT_SENSQ_TRANSFORMS_PASSES_H
#define SENSQ_DIALECT_SENSQ_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "sensq/Dialect/SensQ/IR/SensQDialect.h"

namespace mlir {
class ModuleOp;
namespace sensq {

/// Weight quantization methods of `sensq-quantize-weights`.
enum class QuantMethod { RTN, AWQ };

#define GEN_PASS_DECL
#include "sensq/Dialect/SensQ/Transforms/Passes.h.inc"

/// Options of the `sensitivity-quantize` pipeline.
struct SensitivityQuantizeOptions
    : public PassPipelineOptions<SensitivityQuantizeOptions> {
  Option<std::string> stats{*this, "stats",
                            llvm::cl::desc("Path of the safetensors statistics "
                                           "file written by sensq-run calibrate "
                                           "(required unless method=rtn)")};
  Option<SensitivityMetric> metric{
      *this, "metric",
      llvm::cl::desc("Sensitivity metric (default: act-magnitude)"),
      llvm::cl::init(SensitivityMetric::ActMagnitude),
      llvm::cl::values(
          clEnumValN(SensitivityMetric::ActMagnitude, "act-magnitude",
                     "mean |x_j|, as AWQ"),
          clEnumValN(SensitivityMetric::ActSecondMoment, "act-second-moment",
                     "mean x_j^2, as llama.cpp's importance matrix"))};
  Option<QuantMethod> method{
      *this, "method", llvm::cl::desc("Quantization method (default: rtn)"),
      llvm::cl::init(QuantMethod::RTN),
      llvm::cl::values(
          clEnumValN(QuantMethod::RTN, "rtn", "round to nearest"),
          clEnumValN(QuantMethod::AWQ, "awq",
                     "activation-aware scale search, then round to nearest"))};
  Option<int64_t> bits{*this, "bits",
                       llvm::cl::desc("Bits per weight code, 2 to 8 "
                                      "(default: 4)"),
                       llvm::cl::init(4)};
  Option<int64_t> groupSize{
      *this, "group-size",
      llvm::cl::desc("Input channels per group; 0 quantizes each output "
                     "channel as one group (default: 32)"),
      llvm::cl::init(32)};
  Option<bool> symmetric{*this, "symmetric",
                         llvm::cl::desc("Use a zero point of 2^(bits-1) "
                                        "(default: false)"),
                         llvm::cl::init(false)};
  Option<int64_t> gridSize{*this, "grid-size",
                           llvm::cl::desc("Number of alpha steps searched by "
                                          "awq (default: 20)"),
                           llvm::cl::init(20)};
  ListOption<std::string> skip{
      *this, "skip",
      llvm::cl::desc("Comma-separated weight names to leave in float "
                     "(default: none)")};
};

/// Adds the passes of `sensitivity-quantize`: attach statistics, compute
/// sensitivity, quantize weights, lower sensq ops to linalg.
void buildSensitivityQuantizePipeline(OpPassManager &pm,
                                      const SensitivityQuantizeOptions &options);

#define GEN_PASS_REGISTRATION
#include "sensq/Dialect/SensQ/Transforms/Passes.h.inc"

/// Registers the sensq passes and the `sensitivity-quantize` pipeline.
void registerSensQPassesAndPipelines();

} // namespace sensq
} // namespace mlir

#endif // SENSQ_DIALECT_SENSQ_TRANSFORMS_PASSES_H
