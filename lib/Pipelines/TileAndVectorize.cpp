//===- TileAndVectorize.cpp - Tile linalg ops and vectorize the tiles -----===//
//
// Tiles each linalg op on tensors to a few vector registers' worth of work
// and vectorizes the tile. Vectorizing an untiled op would create vectors of
// the whole iteration space (millions of elements for a [512, 512] output),
// which makes the later vector lowering and LLVM code generation explode.
//
//===----------------------------------------------------------------------===//

#include "sensq/Pipelines/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "sensq-tile-and-vectorize"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQTILEANDVECTORIZE
#include "sensq/Pipelines/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;

namespace {

/// Tile sizes for the loops of one linalg op; 0 leaves a loop untiled.
struct TilePlan {
  SmallVector<int64_t> tileSizes;
  /// Vector size per loop: the tile size, or the whole range of an untiled
  /// loop.
  SmallVector<int64_t> vectorSizes;
  /// True when some tile size does not divide its loop range, so the tiled
  /// op has dynamic shapes and needs masked vectorization.
  bool needsMasking = false;
};

/// Returns the loop that indexes result dimension `resultDim` of `map`, or
/// std::nullopt when that result is not a plain loop dimension.
std::optional<unsigned> getLoopOfResult(AffineMap map, unsigned resultDim) {
  if (auto dimExpr = dyn_cast<AffineDimExpr>(map.getResult(resultDim)))
    return dimExpr.getPosition();
  return std::nullopt;
}

struct TileAndVectorizePass
    : public sensq::impl::SensQTileAndVectorizeBase<TileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  std::optional<TilePlan> planTiles(linalg::LinalgOp op) const;
  void processOp(RewriterBase &rewriter, linalg::LinalgOp op);
};

} // namespace

std::optional<TilePlan>
TileAndVectorizePass::planTiles(linalg::LinalgOp op) const {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned numLoops = ranges.size();
  if (numLoops == 0 || op.getNumDpsInits() == 0)
    return std::nullopt;
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  if (llvm::any_of(ranges, [](int64_t r) { return r <= 0; }))
    return std::nullopt;

  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  auto isParallel = [&](unsigned loop) {
    return iterators[loop] == utils::IteratorType::parallel;
  };
  SmallVector<int64_t> tiles(numLoops, 1);

  // Every reduction loop advances one iteration per tile except the
  // innermost one, which advances `reductionTile` elements.
  std::optional<unsigned> innerReduction;
  for (unsigned loop = 0; loop < numLoops; ++loop)
    if (!isParallel(loop))
      innerReduction = loop;
  if (innerReduction)
    tiles[*innerReduction] =
        std::min(ranges[*innerReduction], std::max<int64_t>(reductionTile, 1));

  // The vector dimension is the loop that walks the innermost dimension of
  // the first output, so that stores are contiguous. Loops of outer output
  // dimensions share what is left of the vector width when it is shorter.
  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap initMap = op.getMatchingIndexingMap(init);
  SmallVector<unsigned> outputLoops;
  for (unsigned r = initMap.getNumResults(); r-- > 0;)
    if (std::optional<unsigned> loop = getLoopOfResult(initMap, r))
      if (isParallel(*loop) && !llvm::is_contained(outputLoops, *loop))
        outputLoops.push_back(*loop);

  int64_t remaining = std::max<int64_t>(vectorWidth, 1);
  for (unsigned loop : outputLoops) {
    if (remaining <= 1)
      break;
    tiles[loop] = std::min(ranges[loop], remaining);
    remaining /= tiles[loop];
  }

  // A contraction reuses each input element across a tile of the output:
  // take `mTile` rows of the output per tile, the loop of the output
  // dimension next to the vector dimension.
  bool isContraction = innerReduction && outputLoops.size() >= 2;
  if (isContraction) {
    unsigned rowLoop = outputLoops[1];
    tiles[rowLoop] =
        std::max(tiles[rowLoop], std::min(ranges[rowLoop], mTile.getValue()));
  }

  TilePlan plan;
  plan.vectorSizes = tiles;
  for (unsigned loop = 0; loop < numLoops; ++loop) {
    if (tiles[loop] >= ranges[loop]) {
      plan.tileSizes.push_back(0);
      plan.vectorSizes[loop] = ranges[loop];
      continue;
    }
    plan.tileSizes.push_back(tiles[loop]);
    if (ranges[loop] % tiles[loop] != 0)
      plan.needsMasking = true;
  }
  LLVM_DEBUG({
    llvm::dbgs() << "tile sizes for " << op->getName() << ":";
    for (int64_t t : plan.tileSizes)
      llvm::dbgs() << " " << t;
    llvm::dbgs() << (plan.needsMasking ? " (masked)\n" : "\n");
  });
  return plan;
}

void TileAndVectorizePass::processOp(RewriterBase &rewriter,
                                     linalg::LinalgOp op) {
  std::optional<TilePlan> plan = planTiles(op);
  if (!plan)
    return;

  Operation *target = op;
  if (llvm::any_of(plan->tileSizes, [](int64_t t) { return t != 0; })) {
    scf::SCFTilingOptions options;
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    options.setTileSizes(
        getAsIndexOpFoldResult(op->getContext(), plan->tileSizes));
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled) || tiled->tiledOps.size() != 1) {
      LLVM_DEBUG(llvm::dbgs() << "tiling failed: " << *op << "\n");
      return;
    }
    rewriter.replaceOp(op, tiled->replacements);
    target = tiled->tiledOps.front();
  }

  if (!vectorize)
    return;
  // Static tiles vectorize to their own shape; partial tiles need the
  // vector sizes to build masks from the dynamic sizes.
  SmallVector<int64_t> vectorSizes;
  if (plan->needsMasking)
    vectorSizes = plan->vectorSizes;
  // One scalable-dimension flag per vector size: with an empty list the
  // vectorized linalg.index ops fail verification after canonicalization.
  SmallVector<bool> scalableDims(vectorSizes.size(), false);
  if (failed(linalg::vectorizeOpPrecondition(target, vectorSizes, scalableDims,
                                             /*vectorizeNDExtract=*/true))) {
    LLVM_DEBUG(llvm::dbgs() << "not vectorizable: " << *target << "\n");
    return;
  }
  rewriter.setInsertionPoint(target);
  FailureOr<linalg::VectorizationResult> result =
      linalg::vectorize(rewriter, target, vectorSizes, scalableDims,
                        /*vectorizeNDExtract=*/true,
                        /*flatten1DDepthwiseConv=*/false,
                        /*assumeDynamicDimsMatchVecSizes=*/false,
                        /*createNamedContraction=*/true);
  if (failed(result)) {
    LLVM_DEBUG(llvm::dbgs() << "vectorization failed: " << *target << "\n");
    return;
  }
  rewriter.replaceOp(target, result->replacements);
}

void TileAndVectorizePass::runOnOperation() {
  func::FuncOp func = getOperation();
  MLIRContext *ctx = &getContext();
  IRRewriter rewriter(ctx);

  // Ops such as linalg.softmax are decomposed into the generic ops they
  // stand for, which tile and vectorize like any other.
  SmallVector<linalg::AggregatedOpInterface> aggregates;
  func.walk([&](linalg::AggregatedOpInterface op) {
    if (cast<linalg::LinalgOp>(op.getOperation()).hasPureTensorSemantics())
      aggregates.push_back(op);
  });
  for (linalg::AggregatedOpInterface op : aggregates) {
    rewriter.setInsertionPoint(op);
    FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
    if (succeeded(values))
      rewriter.replaceOp(op, *values);
  }

  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) {
    if (op.hasPureTensorSemantics() && isa<TilingInterface>(op.getOperation()))
      ops.push_back(op);
  });
  for (linalg::LinalgOp op : ops)
    processOp(rewriter, op);

  // Read and write whole tensors at tile offsets instead of going through
  // extract_slice/insert_slice, so that bufferization gives transfers on
  // the original buffers rather than on subviews.
  RewritePatternSet patterns(ctx);
  tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
  tensor::populateFoldTensorSubsetOpPatterns(patterns);
  linalg::populatePadOpVectorizationPatterns(patterns);
  for (Dialect *dialect : ctx->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName name : ctx->getRegisteredOperations())
    name.getCanonicalizationPatterns(patterns, ctx);
  if (failed(applyPatternsGreedily(func, std::move(patterns))))
    return signalPassFailure();
}
