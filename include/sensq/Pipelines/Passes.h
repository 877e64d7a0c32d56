//===- Passes.h - sensq CPU code generation passes --------------*- C++ -*-===//
//
// Passes and the `sensq-cpu-codegen` pipeline that lower a module on tensors
// (linalg, tensor, arith, math, func) to the LLVM dialect for the host CPU.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_PIPELINES_PASSES_H
#define SENSQ_PIPELINES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;

namespace sensq {

#define GEN_PASS_DECL
#include "sensq/Pipelines/Passes.h.inc"

/// Options of the `sensq-cpu-codegen` pipeline.
struct CPUCodegenOptions : public PassPipelineOptions<CPUCodegenOptions> {
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("Elements per tile along the vector dimension "
                     "(default: 16, one 512-bit register of f32)"),
      llvm::cl::init(16)};
  Option<int64_t> mTile{*this, "m-tile",
                        llvm::cl::desc("Output rows per contraction tile "
                                       "(default: 8)"),
                        llvm::cl::init(8)};
  Option<int64_t> reductionTile{
      *this, "reduction-tile",
      llvm::cl::desc("Elements of the reduction loops per tile, innermost "
                     "loop first (default: 16)"),
      llvm::cl::init(16)};
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("Tile and vectorize linalg ops; false "
                                        "lowers them to scalar loops "
                                        "(default: true)"),
                         llvm::cl::init(true)};
  Option<bool> genericAllocFunctions{
      *this, "generic-alloc-functions",
      llvm::cl::desc(
          "Allocate and free buffers through "
          "_mlir_memref_to_llvm_alloc and _mlir_memref_to_llvm_free, "
          "which the caller provides, instead of malloc and free "
          "(default: false)"),
      llvm::cl::init(false)};
  Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("Replace transcendental math ops by polynomial "
                     "approximations (default: true)"),
      llvm::cl::init(true)};
};

/// Adds the passes that lower a tensor-level module to the LLVM dialect:
/// tiling and vectorization on tensors, bufferization with results turned
/// into caller-provided output buffers and deallocation of intermediates,
/// transfer hoisting, staged vector lowering and conversion to LLVM.
void buildCPUCodegenPipeline(OpPassManager &pm,
                             const CPUCodegenOptions &options);

#define GEN_PASS_REGISTRATION
#include "sensq/Pipelines/Passes.h.inc"

/// Registers the passes above and the `sensq-cpu-codegen` pipeline.
void registerCPUCodegenPipeline();

} // namespace sensq
} // namespace mlir

#endif // SENSQ_PIPELINES_PASSES_H
