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
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/DenseSet.h"
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
  /// True for a contraction tile: only the vector, row and reduction loops
  /// have more than one iteration.
  bool isContraction = false;
};

/// Returns the loop that indexes result dimension `resultDim` of `map`, or
/// std::nullopt when that result is not a plain loop dimension.
std::optional<unsigned> getLoopOfResult(AffineMap map, unsigned resultDim) {
  if (auto dimExpr = dyn_cast<AffineDimExpr>(map.getResult(resultDim)))
    return dimExpr.getPosition();
  return std::nullopt;
}

/// Returns true when `map` has only results among `dims` and uses `required`.
bool usesOnlyDims(AffineMap map, ArrayRef<unsigned> dims, unsigned required) {
  bool usesRequired = false;
  for (AffineExpr expr : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim || !llvm::is_contained(dims, dim.getPosition()))
      return false;
    usesRequired |= dim.getPosition() == required;
  }
  return usesRequired;
}

/// Replaces a floating-point generic that computes C(m, n) += A * B over
/// loops (m, n, k), with A indexed by m and k and B by n and k in any order,
/// by linalg.matmul with the same indexing maps. Returns std::nullopt and
/// leaves `op` alone otherwise.
std::optional<linalg::MatmulOp> convertToMatmul(RewriterBase &rewriter,
                                                linalg::GenericOp op) {
  if (op.getNumLoops() != 3 || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics())
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators[0] != utils::IteratorType::parallel ||
      iterators[1] != utils::IteratorType::parallel ||
      iterators[2] != utils::IteratorType::reduction)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!usesOnlyDims(maps[0], {0, 2}, 2) || maps[0].getNumResults() != 2 ||
      !usesOnlyDims(maps[1], {1, 2}, 2) || maps[1].getNumResults() != 2 ||
      maps[2] != AffineMap::getMultiDimIdentityMap(3, op.getContext())
                     .getSubMap({0, 1}))
    return std::nullopt;

  // The body must be exactly yield(addf(acc, mulf(a, b))) on one float type.
  Block *body = op.getBody();
  if (body->getOperations().size() != 3)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value acc = body->getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  if ((add.getLhs() != acc && add.getRhs() != acc) || product == acc)
    return std::nullopt;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || !((mul.getLhs() == body->getArgument(0) &&
                 mul.getRhs() == body->getArgument(1)) ||
                (mul.getLhs() == body->getArgument(1) &&
                 mul.getRhs() == body->getArgument(0))))
    return std::nullopt;
  Type elementType = body->getArgument(2).getType();
  if (!isa<FloatType>(elementType) ||
      body->getArgument(0).getType() != elementType ||
      body->getArgument(1).getType() != elementType)
    return std::nullopt;

  rewriter.setInsertionPoint(op);
  auto matmul = linalg::MatmulOp::create(
      rewriter, op.getLoc(), op.getResultTypes(), op.getDpsInputs(),
      op.getDpsInits(),
      {rewriter.getNamedAttr("indexing_maps", op.getIndexingMaps())});
  // The checks above admit only valid matmul maps; should the verifier
  // still reject the op, the generic is kept and the diagnostic dropped.
  LogicalResult verified = success();
  {
    ScopedDiagnosticHandler silence(op.getContext(),
                                    [](Diagnostic &) { return success(); });
    verified = mlir::verify(matmul);
  }
  if (failed(verified)) {
    rewriter.eraseOp(matmul);
    return std::nullopt;
  }
  rewriter.replaceOp(op, matmul->getResults());
  return matmul;
}

/// Rewrites a guarded reduction update
///
///   %new = <combine> %acc, %x ; %r = arith.select %c, %new, %acc
///
/// into the equivalent unguarded update
///
///   %x' = arith.select %c, %x, <neutral> ; %r = <combine> %acc, %x'
///
/// where <neutral> is the neutral element of the combiner (-0.0 for addf,
/// -inf for maximumf, ...). Causal masks inside softmax reductions take the
/// first form, which the vectorizer does not recognize as a reduction.
void rewriteGuardedReductions(RewriterBase &rewriter, linalg::GenericOp op) {
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  for (OpOperand &init : op.getDpsInitsMutable()) {
    unsigned resultIndex = init.getOperandNumber() - op.getNumDpsInputs();
    BlockArgument acc = op.getMatchingBlockArgument(&init);
    Value yielded = yield->getOperand(resultIndex);
    auto select = yielded.getDefiningOp<arith::SelectOp>();
    if (!select || select->getBlock() != body)
      continue;
    bool keepOnTrue;
    Value updated;
    if (select.getFalseValue() == acc) {
      keepOnTrue = true;
      updated = select.getTrueValue();
    } else if (select.getTrueValue() == acc) {
      keepOnTrue = false;
      updated = select.getFalseValue();
    } else {
      continue;
    }
    Operation *combiner = updated.getDefiningOp();
    if (!combiner || combiner->getBlock() != body ||
        combiner->getNumOperands() != 2 || combiner->getNumResults() != 1 ||
        !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
             arith::AddIOp, arith::MulIOp>(combiner))
      continue;
    unsigned accIndex;
    if (combiner->getOperand(0) == acc && combiner->getOperand(1) != acc)
      accIndex = 0;
    else if (combiner->getOperand(1) == acc && combiner->getOperand(0) != acc)
      accIndex = 1;
    else
      continue;
    std::optional<TypedAttr> neutral = arith::getNeutralElement(combiner);
    if (!neutral)
      continue;

    rewriter.setInsertionPoint(yield);
    Location loc = combiner->getLoc();
    Value x = combiner->getOperand(1 - accIndex);
    Value identity = arith::ConstantOp::create(rewriter, loc, *neutral);
    Value guarded =
        keepOnTrue ? arith::SelectOp::create(rewriter, loc,
                                             select.getCondition(), x, identity)
                   : arith::SelectOp::create(
                         rewriter, loc, select.getCondition(), identity, x);
    IRMapping mapping;
    mapping.map(x, guarded);
    Operation *newCombiner = rewriter.clone(*combiner, mapping);
    rewriter.modifyOpInPlace(yield, [&] {
      yield->setOperand(resultIndex, newCombiner->getResult(0));
    });
    if (select->use_empty())
      rewriter.eraseOp(select);
    if (combiner->use_empty())
      rewriter.eraseOp(combiner);
  }
}

struct TileAndVectorizePass
    : public sensq::impl::SensQTileAndVectorizeBase<TileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  std::optional<TilePlan> planTiles(linalg::LinalgOp op) const;
  void processOp(RewriterBase &rewriter, linalg::LinalgOp op,
                 llvm::DenseSet<Operation *> &erased);
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

  // Reduction loops advance `reductionTile` elements per tile in total,
  // taken from the innermost reduction loop outwards.
  int64_t remaining = std::max<int64_t>(reductionTile, 1);
  bool hasReduction = false;
  for (unsigned loop = numLoops; loop-- > 0;) {
    if (isParallel(loop))
      continue;
    hasReduction = true;
    if (remaining <= 1)
      continue;
    tiles[loop] = std::min(ranges[loop], remaining);
    remaining /= tiles[loop];
  }

  // The vector dimension is the loop that walks the innermost dimension of
  // the first output, so that stores are contiguous. Output loops are
  // listed from the innermost output dimension outwards.
  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap initMap = op.getMatchingIndexingMap(init);
  SmallVector<unsigned> outputLoops;
  for (unsigned r = initMap.getNumResults(); r-- > 0;)
    if (std::optional<unsigned> loop = getLoopOfResult(initMap, r))
      if (isParallel(*loop) && !llvm::is_contained(outputLoops, *loop))
        outputLoops.push_back(*loop);

  // A contraction reads some input independently of a parallel output loop
  // (B of a matmul does not depend on the rows of the output), so a tile of
  // several rows of that loop reuses each loaded element. Its tile covers
  // `mTile` rows of such a loop, the vector width along the vector
  // dimension and the reduction tile, and one iteration of every other
  // loop, so that unit loops can be dropped and the tile is a plain
  // [m, n, k] matmul.
  auto isReusedAcross = [&](unsigned loop) {
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      if (map.getNumResults() > 0 && !map.isFunctionOfDim(loop))
        return true;
    }
    return false;
  };
  // Only plain multiply-accumulate bodies qualify: any other body (such as
  // a dequantization) is evaluated once per element of the iteration tile,
  // so extra rows multiply its cost instead of sharing loads.
  std::optional<unsigned> rowLoop;
  if (hasReduction && !outputLoops.empty() &&
      linalg::isaContractionOpInterface(op)) {
    for (unsigned loop : llvm::drop_begin(outputLoops)) {
      if (!isReusedAcross(loop))
        continue;
      if (!rowLoop || ranges[loop] > ranges[*rowLoop])
        rowLoop = loop;
      if (ranges[loop] >= mTile)
        break;
    }
  }

  if (rowLoop) {
    unsigned vectorLoop = outputLoops.front();
    tiles[vectorLoop] =
        std::min(ranges[vectorLoop], std::max<int64_t>(vectorWidth, 1));
    tiles[*rowLoop] = std::min(ranges[*rowLoop], std::max<int64_t>(mTile, 1));
  } else {
    // Elementwise ops and plain reductions (a row sum reads every input
    // element once): loops of outer output dimensions share what is left of
    // the vector width when the innermost one is shorter.
    remaining = std::max<int64_t>(vectorWidth, 1);
    for (unsigned loop : outputLoops) {
      if (remaining <= 1)
        break;
      tiles[loop] = std::min(ranges[loop], remaining);
      remaining /= tiles[loop];
    }
  }

  TilePlan plan;
  plan.isContraction = rowLoop.has_value();
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
                                     linalg::LinalgOp op,
                                     llvm::DenseSet<Operation *> &erased) {
  std::optional<TilePlan> plan = planTiles(op);
  if (!plan)
    return;

  // A zero fill of the output can move into the tile loop when every output
  // element belongs to exactly one tile, that is, when no reduction loop is
  // tiled. The tile then starts from the fill value instead of reading a
  // buffer that a separate pass over memory filled.
  linalg::FillOp outputFill;
  if (op.getNumDpsInits() == 1) {
    outputFill = op.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
    bool reductionTiled = false;
    for (auto [loop, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      if (iterator != utils::IteratorType::parallel &&
          plan->tileSizes[loop] != 0)
        reductionTiled = true;
    if (outputFill && (reductionTiled || !outputFill->hasOneUse() ||
                       !outputFill.hasPureTensorSemantics()))
      outputFill = nullptr;
  }

  Operation *target = op;
  // Value of the output fill moved into the tiles, if any.
  Value fillValue;
  if (llvm::any_of(plan->tileSizes, [](int64_t t) { return t != 0; })) {
    scf::SCFTilingOptions options;
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    options.setTileSizes(
        getAsIndexOpFoldResult(op->getContext(), plan->tileSizes));
    // Reduction loops innermost: the output tile is then read once before
    // and written once after them (the accumulator stays in registers)
    // instead of once per reduction step.
    SmallVector<int64_t> interchange;
    for (auto [loop, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      if (iterator == utils::IteratorType::parallel)
        interchange.push_back(loop);
    for (auto [loop, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      if (iterator != utils::IteratorType::parallel)
        interchange.push_back(loop);
    options.setInterchange(interchange);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled) || tiled->tiledOps.size() != 1) {
      LLVM_DEBUG(llvm::dbgs() << "tiling failed: " << *op << "\n");
      return;
    }
    rewriter.replaceOp(op, tiled->replacements);
    target = tiled->tiledOps.front();

    if (outputFill && !tiled->loops.empty()) {
      auto outerLoop = cast<scf::ForOp>(tiled->loops.front().getOperation());
      Value filled = outputFill.getResult(0);
      Value unfilled = outputFill.getDpsInitOperand(0)->get();
      for (OpOperand &loopInit : outerLoop.getInitArgsMutable())
        if (loopInit.get() == filled)
          rewriter.modifyOpInPlace(outerLoop, [&] { loopInit.set(unfilled); });
      fillValue = outputFill.getInputs().front();
      if (outputFill->use_empty()) {
        erased.insert(outputFill);
        rewriter.eraseOp(outputFill);
      }
    }
  }

  // Loops of one iteration are dropped from contraction tiles, so that the
  // tile becomes a plain [m, n, k] vector.contract that lowers to outer
  // products. With unit loops in between it would lower to one dot product
  // per output. Bodies with tensor.extract are left alone because dropping
  // unit loops from such gathers gave wrong results in testing.
  SmallVector<int64_t> loopSizes = plan->vectorSizes;
  if (auto generic = dyn_cast<linalg::GenericOp>(target);
      generic && plan->isContraction &&
      generic.getBody()->getOps<tensor::ExtractOp>().empty() &&
      llvm::is_contained(loopSizes, 1) &&
      llvm::any_of(loopSizes, [](int64_t s) { return s != 1; })) {
    linalg::ControlDropUnitDims control;
    control.rankReductionStrategy =
        linalg::ControlDropUnitDims::RankReductionStrategy::ExtractInsertSlice;
    rewriter.setInsertionPoint(generic);
    FailureOr<linalg::DropUnitDimsResult> dropped =
        linalg::dropUnitDims(rewriter, generic, control);
    if (succeeded(dropped)) {
      rewriter.replaceOp(generic, dropped->replacements);
      target = dropped->resultOp;
      llvm::erase(loopSizes, 1);
    }
    // A generic multiply-accumulate becomes linalg.matmul with the same
    // indexing maps, which vectorizes straight to vector.contract.
    if (auto reduced = dyn_cast<linalg::GenericOp>(target))
      if (std::optional<linalg::MatmulOp> matmul =
              convertToMatmul(rewriter, reduced))
        target = *matmul;
  }

  // Static tiles vectorize to their own shape; partial tiles need the
  // vector sizes to build masks from the dynamic sizes.
  SmallVector<int64_t> vectorSizes;
  if (plan->needsMasking)
    vectorSizes = loopSizes;

  // The moved fill writes the output tile just before the op reads it, so
  // that after vectorization the read folds into the fill value.
  if (fillValue) {
    auto tiledOp = cast<linalg::LinalgOp>(target);
    OpOperand *tileInit = tiledOp.getDpsInitOperand(0);
    rewriter.setInsertionPoint(target);
    auto tileFill = linalg::FillOp::create(rewriter, target->getLoc(),
                                           ValueRange{fillValue},
                                           ValueRange{tileInit->get()});
    rewriter.modifyOpInPlace(target,
                             [&] { tileInit->set(tileFill.getResult(0)); });
    if (vectorize) {
      SmallVector<int64_t> fillSizes;
      if (!vectorSizes.empty())
        for (AffineExpr expr :
             tiledOp.getMatchingIndexingMap(tileInit).getResults())
          fillSizes.push_back(
              vectorSizes[cast<AffineDimExpr>(expr).getPosition()]);
      SmallVector<bool> fillScalable(fillSizes.size(), false);
      rewriter.setInsertionPoint(tileFill);
      FailureOr<linalg::VectorizationResult> filled =
          linalg::vectorize(rewriter, tileFill, fillSizes, fillScalable);
      if (succeeded(filled))
        rewriter.replaceOp(tileFill, filled->replacements);
    }
  }
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
    // On buffers the op has no results to replace.
    if (op->getNumResults() > 0 &&
        llvm::all_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>))
      aggregates.push_back(op);
  });
  for (linalg::AggregatedOpInterface op : aggregates) {
    rewriter.setInsertionPoint(op);
    FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
    if (succeeded(values))
      rewriter.replaceOp(op, *values);
  }

  if (!vectorize)
    return;

  SmallVector<linalg::GenericOp> generics;
  func.walk([&](linalg::GenericOp op) {
    if (op.hasPureTensorSemantics())
      generics.push_back(op);
  });
  for (linalg::GenericOp op : generics)
    rewriteGuardedReductions(rewriter, op);

  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) {
    if (op.hasPureTensorSemantics() && isa<TilingInterface>(op.getOperation()))
      ops.push_back(op);
  });
  // Consumers come first, so that the fill of an output is still a
  // linalg.fill when its consumer is tiled and can move into the tiles.
  llvm::DenseSet<Operation *> erased;
  for (linalg::LinalgOp op : llvm::reverse(ops))
    if (!erased.contains(op))
      processOp(rewriter, op, erased);

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
  // Hitting the greedy driver's iteration limit leaves valid IR.
  (void)applyPatternsGreedily(func, std::move(patterns));
}
