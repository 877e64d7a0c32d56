//===- OptimizeVectorTransfers.cpp - Hoist and forward vector transfers ---===//
//
// After bufferization, a tiled reduction reads its output tile, updates it
// and writes it back in every iteration of the reduction loop. Hoisting the
// read before the loop and the write after it keeps the tile in registers.
// The hoisting analysis only matches transfers on the same memref value, so
// view ops (memref.subview, expand_shape, ...) are first folded into the
// transfer indices.
//
//===----------------------------------------------------------------------===//

#include "sensq/Pipelines/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

#define DEBUG_TYPE "sensq-optimize-vector-transfers"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQOPTIMIZEVECTORTRANSFERS
#include "sensq/Pipelines/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;

namespace {

struct OptimizeVectorTransfersPass
    : public sensq::impl::SensQOptimizeVectorTransfersBase<
          OptimizeVectorTransfersPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();

    // Masked transfers become transfers with a mask operand. Region-based
    // masks would also keep buffer deallocation from placing its ops.
    RewritePatternSet maskPatterns(ctx);
    vector::populateVectorMaskLoweringPatternsForSideEffectingOps(maskPatterns);
    // Hitting the greedy driver's iteration limit leaves valid IR with
    // fewer folded transfers, which is only a missed optimization.
    (void)applyPatternsGreedily(func, std::move(maskPatterns));

    // Masked transfers keep their views: folding a rank-reducing view into
    // a masked transfer gives it a permutation map with dropped dimensions,
    // whose lowering builds masks of the wrong shape. They are not hoisted
    // anyway.
    SmallVector<Operation *> candidates;
    func.walk([&](Operation *op) {
      if (auto transfer = dyn_cast<VectorTransferOpInterface>(op))
        if (transfer.getMask())
          return;
      candidates.push_back(op);
    });
    RewritePatternSet patterns(ctx);
    memref::populateFoldMemRefAliasOpPatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    (void)applyOpPatternsGreedily(
        candidates, std::move(patterns),
        GreedyRewriteConfig().setStrictness(
            GreedyRewriteStrictness::ExistingAndNewOps));

    func.walk(
        [](LoopLikeOpInterface loop) { (void)moveLoopInvariantCode(loop); });
    // Loops from tiling have static, non-empty ranges; verifying the trip
    // count keeps the hoisting correct for any other loop.
    linalg::hoistRedundantVectorTransfers(func, /*verifyNonZeroTrip=*/true);
    IRRewriter rewriter(ctx);
    vector::transferOpflowOpt(rewriter, func);
  }
};

} // namespace
