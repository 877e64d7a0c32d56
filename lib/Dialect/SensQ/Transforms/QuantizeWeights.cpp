//===- QuantizeWeights.cpp - Quantize constant matmul weights -------------===//
//
// Replaces matmuls x * W^T with a constant W by sensq.quantized_matmul. The
// numbers come from the numeric core (sensq/Numeric/Quantize.h); this pass
// only matches IR, checks it and builds the constants.
//
//===----------------------------------------------------------------------===//

#include "sensq/Dialect/SensQ/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "sensq/Dialect/SensQ/IR/SensQOps.h"
#include "sensq/Dialect/SensQ/Utils/StatsAttr.h"
#include "sensq/Dialect/SensQ/Utils/WeightMatmul.h"
#include "sensq/Numeric/Quantize.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"

#include <cmath>

#define DEBUG_TYPE "sensq-quantize-weights"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQQUANTIZEWEIGHTS
#include "sensq/Dialect/SensQ/Transforms/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;
using namespace mlir::sensq;

/// Returns true when `init` is a tensor filled with zero, so that the matmul
/// computes x * W^T and not init + x * W^T.
static bool isZeroFilled(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

/// Creates a constant of unsigned `bits`-bit codes with the given shape.
static Value createCodeConstant(OpBuilder &builder, Location loc,
                                ArrayRef<int64_t> shape, unsigned bits,
                                ArrayRef<uint8_t> codes) {
  auto type = RankedTensorType::get(
      shape, IntegerType::get(builder.getContext(), bits, IntegerType::Unsigned));
  SmallVector<APInt> values;
  values.reserve(codes.size());
  for (uint8_t code : codes)
    values.emplace_back(bits, code);
  return arith::ConstantOp::create(builder, loc, type,
                                   DenseElementsAttr::get(type, values));
}

static Value createF32Constant(OpBuilder &builder, Location loc,
                               ArrayRef<int64_t> shape, ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  return arith::ConstantOp::create(builder, loc, type,
                                   DenseElementsAttr::get(type, values));
}

namespace {
struct QuantizeWeightsPass
    : public mlir::sensq::impl::SensQQuantizeWeightsBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (bits < 2 || bits > 8) {
      mlir::emitError(getOperation().getLoc(), "invalid 'bits' option ")
          << static_cast<int64_t>(bits) << ": expected an integer from 2 to 8";
      return signalPassFailure();
    }
    if (groupSize < 0) {
      mlir::emitError(getOperation().getLoc(), "invalid 'group-size' option ")
          << static_cast<int64_t>(groupSize) << ": expected 0 (per channel) or a positive group size";
      return signalPassFailure();
    }
    if (gridSize < 1) {
      mlir::emitError(getOperation().getLoc(), "invalid 'grid-size' option ")
          << static_cast<int64_t>(gridSize) << ": expected a positive number of alpha steps";
      return signalPassFailure();
    }

    if (failed(verifyWeightNames(getOperation(), skip, "skip")))
      return signalPassFailure();
    llvm::StringSet<> skipped(llvm::from_range, skip);
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });

    for (linalg::MatmulOp op : matmuls) {
      std::string reason;
      FailureOr<WeightMatmul> matmul = matchWeightMatmul(op, &reason);
      if (failed(matmul)) {
        LLVM_DEBUG(llvm::dbgs() << "skipping " << op.getLoc() << ": " << reason
                                << "\n");
        continue;
      }
      if (!matmul->name.empty() && skipped.contains(matmul->name)) {
        LLVM_DEBUG(llvm::dbgs() << "keeping '" << matmul->name
                                << "' in float: listed in 'skip'\n");
        continue;
      }
      if (failed(quantize(*matmul)))
        return signalPassFailure();
    }

    // Running on an already quantized module, or on one whose weights are
    // not constants, is almost always a mistake worth a word.
    if (numQuantized == 0)
      emitWarning(getOperation().getLoc())
          << "quantized no matmul: expected a linalg.matmul x * W^T with a "
             "constant f32 weight that 'skip' does not list";
  }

private:
  /// Matmuls replaced by sensq.quantized_matmul in this run.
  int64_t numQuantized = 0;

  /// Quantizes one matmul whose weight may or may not be constant.
  LogicalResult quantize(WeightMatmul &matmul) {
    linalg::MatmulOp op = matmul.op;
    StringRef name = matmul.name.empty() ? StringRef("matmul") : matmul.name;
    std::optional<std::vector<float>> weight =
        getConstantWeightValues(matmul.weight);
    if (!weight) {
      LLVM_DEBUG(llvm::dbgs() << "skipping '" << name
                              << "': weight is not a constant\n");
      return success();
    }
    int64_t n = matmul.getNumOutputChannels();
    int64_t k = matmul.getNumInputChannels();

    // Step 1: check the options against this layer and the weight values.
    if (groupSize > k)
      return emitError(op.getLoc(), "cannot use group size ")
             << static_cast<int64_t>(groupSize) << " for '" << name << "' with K = " << k
             << " input channels; use a group size of at most " << k
             << " or 0 for per-channel quantization";
    for (int64_t i = 0, e = weight->size(); i < e; ++i) {
      if (!std::isfinite((*weight)[i]))
        return emitError(op.getLoc(), "expected finite weights in '")
               << name << "', but element [" << i / k << ", " << i % k
               << "] is " << (*weight)[i];
    }

    // Step 2: quantize with the numeric core.
    ::sensq::QuantizationConfig config;
    config.bits = static_cast<unsigned>(bits);
    config.groupSize = groupSize;
    config.symmetric = symmetric;
    FailureOr<::sensq::QuantizedMatrix> quantized =
        method == QuantMethod::AWQ ? quantizeAWQ(matmul, *weight, config, name)
                                   : quantizeRTN(matmul, *weight, config, name);
    if (failed(quantized))
      return failure();

    // Step 3: build sensq.quantized_matmul and its constants.
    OpBuilder builder(op);
    Location loc = op.getLoc();
    int64_t numGroups = quantized->numGroups;
    Value codes = createCodeConstant(builder, loc, {n, k}, config.bits,
                                     quantized->codes);
    Value scales =
        createF32Constant(builder, loc, {n, numGroups}, quantized->scales);
    Value zeroPoints;
    if (!symmetric)
      zeroPoints = createCodeConstant(builder, loc, {n, numGroups}, config.bits,
                                      quantized->zeroPoints);
    Value inputScales;
    if (!quantized->inputScales.empty())
      inputScales = createF32Constant(builder, loc, {k}, quantized->inputScales);

    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto quantizedOp = QuantizedMatmulOp::create(
        builder, loc, resultType, matmul.input, codes, scales, zeroPoints,
        inputScales, builder.getI64IntegerAttr(bits),
        builder.getI64IntegerAttr(groupSize),
        symmetric ? builder.getUnitAttr() : UnitAttr());
    if (!matmul.name.empty())
      quantizedOp->setAttr(SensQDialect::kWeightNameAttrName,
                           builder.getStringAttr(matmul.name));

    // A matmul accumulating into a non-zero tensor adds that tensor.
    Value result = quantizedOp.getResult();
    if (!isZeroFilled(matmul.init))
      result = linalg::AddOp::create(builder, loc, ValueRange{result, matmul.init},
                                     ValueRange{matmul.init})
                   .getResult(0);
    op->getResult(0).replaceAllUsesWith(result);
    op.erase();
    ++numQuantized;
    return success();
  }

  FailureOr<::sensq::QuantizedMatrix>
  quantizeRTN(WeightMatmul &matmul, ArrayRef<float> weight,
              const ::sensq::QuantizationConfig &config, StringRef name) {
    llvm::Expected<::sensq::QuantizedMatrix> quantized = ::sensq::quantizeRTN(
        weight, matmul.getNumOutputChannels(), matmul.getNumInputChannels(),
        config);
    if (!quantized) {
      emitError(matmul.op.getLoc(), "cannot quantize '")
          << name << "': " << llvm::toString(quantized.takeError());
      return failure();
    }
    LLVM_DEBUG(llvm::dbgs() << "rtn '" << name << "'\n");
    return std::move(*quantized);
  }

  /// AWQ needs the sensitivity (to shape the scales) and the activation
  /// statistics (to measure the output error of each alpha).
  FailureOr<::sensq::QuantizedMatrix>
  quantizeAWQ(WeightMatmul &matmul, ArrayRef<float> weight,
              const ::sensq::QuantizationConfig &config, StringRef name) {
    linalg::MatmulOp op = matmul.op;
    auto sensitivity = matmul.weight.getDefiningOp<SensitivityOp>();
    auto statsAttr = op->getAttrOfType<ActivationStatsAttr>(
        SensQDialect::kActivationStatsAttrName);
    if (!sensitivity || !statsAttr) {
      emitError(op.getLoc(), "cannot quantize '")
          << name << "' with awq: it needs activation statistics and a "
          << "sensq.sensitivity weight; run sensq-attach-stats and "
          << "sensq-compute-sensitivity first or list the layer in 'skip'";
      return failure();
    }
    llvm::Expected<::sensq::ActivationStats> stats =
        getActivationStats(statsAttr, name);
    if (!stats) {
      emitError(op.getLoc(), llvm::toString(stats.takeError()));
      return failure();
    }
    SmallVector<double> scores;
    for (float value : sensitivity.getChannels().getValues<float>())
      scores.push_back(value);

    llvm::Expected<::sensq::AWQResult> result = ::sensq::quantizeAWQ(
        weight, matmul.getNumOutputChannels(), matmul.getNumInputChannels(),
        config, scores, *stats, gridSize);
    if (!result) {
      emitError(op.getLoc(), "cannot quantize '")
          << name << "': " << llvm::toString(result.takeError());
      return failure();
    }
    LLVM_DEBUG(llvm::dbgs() << "awq '" << name << "': alpha " << result->alpha
                            << ", output error " << result->error
                            << " (rtn " << result->rtnError << ")\n");
    return std::move(result->quantized);
  }
};
} // namespace
