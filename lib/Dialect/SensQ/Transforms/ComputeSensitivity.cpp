//===- ComputeSensitivity.cpp - Per-channel sensitivity of weights --------===//

#include "sensq/Dialect/SensQ/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "sensq/Dialect/SensQ/IR/SensQOps.h"
#include "sensq/Dialect/SensQ/Utils/StatsAttr.h"
#include "sensq/Dialect/SensQ/Utils/WeightMatmul.h"
#include "sensq/Numeric/Sensitivity.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "sensq-compute-sensitivity"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQCOMPUTESENSITIVITY
#include "sensq/Dialect/SensQ/Transforms/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;
using namespace mlir::sensq;

/// Maps the dialect's metric enum to the numeric core's.
static ::sensq::SensitivityMetric toNumericMetric(SensitivityMetric metric) {
  switch (metric) {
  case SensitivityMetric::ActMagnitude:
    return ::sensq::SensitivityMetric::ActMagnitude;
  case SensitivityMetric::ActSecondMoment:
    return ::sensq::SensitivityMetric::ActSecondMoment;
  }
  llvm_unreachable("unknown sensitivity metric");
}

namespace {
struct ComputeSensitivityPass
    : public mlir::sensq::impl::SensQComputeSensitivityBase<ComputeSensitivityPass> {
  using Base::Base;

  void runOnOperation() override {
    bool failedAny = false;
    getOperation().walk([&](linalg::MatmulOp op) {
      auto statsAttr = op->getAttrOfType<ActivationStatsAttr>(
          SensQDialect::kActivationStatsAttrName);
      if (!statsAttr)
        return;
      FailureOr<WeightMatmul> matmul = matchWeightMatmul(op);
      if (failed(matmul)) {
        emitError(op.getLoc(), "matmul carries activation statistics but is "
                               "not x * W^T with a static f32 weight");
        failedAny = true;
        return;
      }
      if (matmul->weight.getDefiningOp<SensitivityOp>()) {
        LLVM_DEBUG(llvm::dbgs() << "skipping '" << matmul->name
                                << "': sensitivity already computed\n");
        return;
      }

      StringRef name = matmul->name.empty() ? "matmul" : matmul->name;
      llvm::Expected<::sensq::ActivationStats> stats =
          getActivationStats(statsAttr, name);
      if (!stats) {
        emitError(op.getLoc(), llvm::toString(stats.takeError()));
        failedAny = true;
        return;
      }
      if (stats->getNumChannels() != matmul->getNumInputChannels()) {
        emitError(op.getLoc(), "expected statistics of ")
            << matmul->getNumInputChannels() << " input channels for '" << name
            << "', but got " << stats->getNumChannels();
        failedAny = true;
        return;
      }

      std::vector<double> scores =
          ::sensq::computeSensitivity(toNumericMetric(metric), *stats);
      SmallVector<float> channels(scores.begin(), scores.end());
      auto channelsType = RankedTensorType::get(
          {static_cast<int64_t>(channels.size())}, Float32Type::get(&getContext()));

      OpBuilder builder(op);
      auto sensitivity = SensitivityOp::create(
          builder, op.getLoc(), matmul->weight,
          SensitivityMetricAttr::get(&getContext(), metric),
          DenseElementsAttr::get(channelsType, ArrayRef<float>(channels)));
      op->setOperand(1, sensitivity.getResult());
      LLVM_DEBUG(llvm::dbgs() << "computed " << stringifySensitivityMetric(metric)
                              << " for '" << name << "'\n");
    });
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
