//===- LowerVectors.cpp - Staged lowering of n-D vector ops ---------------===//
//
// Lowers the vector ops produced by vectorization (contract, multi_reduction,
// transpose, mask, n-D transfers) to 1-D vector ops. Each stage is its own
// greedy rewrite, because shape_cast and broadcast lowering undo
// canonicalization patterns and vice versa. Mixed in one pattern set they do
// not converge and use memory without bound.
//
//===----------------------------------------------------------------------===//

#include "sensq/Pipelines/Passes.h"

#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "sensq-lower-vectors"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQLOWERVECTORS
#include "sensq/Pipelines/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;

namespace {

/// Adds the canonicalization patterns of the vector dialect, which fold the
/// extract/insert/broadcast chains each lowering stage leaves behind.
void addVectorCanonicalization(RewritePatternSet &patterns, MLIRContext *ctx) {
  for (RegisteredOperationName name : ctx->getRegisteredOperations())
    if (name.getDialectNamespace() == "vector")
      name.getCanonicalizationPatterns(patterns, ctx);
}

struct LowerVectorsPass
    : public sensq::impl::SensQLowerVectorsBase<LowerVectorsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Applies one stage. A stage that hits the greedy driver's iteration
  /// limit still leaves valid IR, and the later stages or
  /// convert-vector-to-llvm lower what it left.
  void runStage(llvm::function_ref<void(RewritePatternSet &)> populate) {
    RewritePatternSet patterns(&getContext());
    populate(patterns);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace

void LowerVectorsPass::runOnOperation() {
  MLIRContext *ctx = &getContext();
  if (approximateMath)
    runStage([&](RewritePatternSet &patterns) {
      // sin and cos keep their libm calls because the polynomial versions
      // lose accuracy on large arguments such as rotary angles. They are
      // also evaluated far less often than exp.
      populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
        return llvm::is_contained(
            {math::ExpOp::getOperationName(), math::ExpM1Op::getOperationName(),
             math::LogOp::getOperationName(), math::Log1pOp::getOperationName(),
             math::Log2Op::getOperationName(), math::TanhOp::getOperationName(),
             math::ErfOp::getOperationName()},
            name);
      });
    });

  // Transfers that broadcast or transpose become plain transfers followed
  // by vector.broadcast and vector.transpose, which fold into the
  // contractions that use them. Contractions over i8 or f16 inputs extended
  // to i32 or f32 absorb the extension.
  //
  // Multiply + multi_reduction chains are not turned into contractions:
  // a contraction that is not an [m, n, k] matmul lowers to one scalar
  // reduction per output element, while the multi_reduction lowers to
  // vector adds.
  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateFoldArithExtensionPatterns(patterns);
    vector::populateSinkVectorOpsPatterns(patterns);
    addVectorCanonicalization(patterns, ctx);
  });

  // Masked transfers become transfers with a mask operand. Masked
  // contractions and reductions are lowered with their masks below.
  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorMaskLoweringPatternsForSideEffectingOps(patterns);
  });

  // A contraction becomes one outer product per reduction element, which
  // lowers to FMAs of a broadcast scalar and a row of the right operand.
  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
  });

  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerParallel);
  });

  // Transfers with permutation maps become minor-identity transfers plus
  // transposes and broadcasts.
  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    addVectorCanonicalization(patterns, ctx);
  });

  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::Shuffle16x16);
  });

  // n-D transfers become unrolled 1-D transfers, then loads and stores.
  runStage([&](RewritePatternSet &patterns) {
    populateVectorToSCFConversionPatterns(
        patterns,
        VectorTransferToSCFOptions().enableFullUnroll().setTargetRank(1));
  });
  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorTransferLoweringPatterns(patterns,
                                                   /*maxTransferRank=*/1);
    addVectorCanonicalization(patterns, ctx);
  });

  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorBroadcastLoweringPatterns(patterns);
  });
  runStage([&](RewritePatternSet &patterns) {
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorInsertExtractStridedSliceTransforms(patterns);
    vector::populateVectorStepLoweringPatterns(patterns);
    vector::populateVectorGatherLoweringPatterns(patterns);
    vector::populateVectorInterleaveLoweringPatterns(patterns);
    vector::populateVectorBitCastLoweringPatterns(patterns);
  });
}
