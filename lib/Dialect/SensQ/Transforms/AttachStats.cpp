//===- AttachStats.cpp - Attach calibration statistics to matmuls ---------===//

#include "sensq/Dialect/SensQ/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "sensq/Dialect/SensQ/Utils/StatsAttr.h"
#include "sensq/Dialect/SensQ/Utils/WeightMatmul.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "sensq-attach-stats"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQATTACHSTATS
#include "sensq/Dialect/SensQ/Transforms/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;
using namespace mlir::sensq;

namespace {
struct AttachStatsPass
    : public mlir::sensq::impl::SensQAttachStatsBase<AttachStatsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (statsFile.empty()) {
      mlir::emitError(module.getLoc(), "missing the 'stats' option: pass the statistics file "
                       "written by 'sensq-run calibrate'");
      return signalPassFailure();
    }

    llvm::Expected<::sensq::StatsMap> stats = ::sensq::readStatsFile(statsFile);
    if (!stats) {
      mlir::emitError(module.getLoc(), llvm::toString(stats.takeError()));
      return signalPassFailure();
    }
    llvm::StringSet<> skipped(llvm::from_range, skip);

    bool failedAny = false;
    module.walk([&](linalg::MatmulOp op) {
      std::string reason;
      FailureOr<WeightMatmul> matmul = matchWeightMatmul(op, &reason);
      if (failed(matmul) || matmul->name.empty() ||
          !matchPattern(matmul->weight, m_Constant())) {
        LLVM_DEBUG(llvm::dbgs()
                   << "skipping " << op.getLoc() << ": "
                   << (failed(matmul)          ? reason
                       : matmul->name.empty()  ? "no sensq.weight name"
                                               : "weight is not a constant")
                   << "\n");
        return;
      }
      if (skipped.contains(matmul->name)) {
        LLVM_DEBUG(llvm::dbgs() << "skipping '" << matmul->name
                                << "': listed in 'skip'\n");
        return;
      }

      auto it = stats->find(matmul->name.str());
      if (it == stats->end()) {
        op.emitOpError("has no statistics for '")
            << matmul->name << "' in '" << statsFile
            << "'; calibrate this model again or list the layer in 'skip'";
        failedAny = true;
        return;
      }
      int64_t k = matmul->getNumInputChannels();
      if (it->second.getNumChannels() != k) {
        op.emitOpError("expected statistics of ")
            << k << " input channels for '" << matmul->name << "', but '"
            << statsFile << "' has " << it->second.getNumChannels();
        failedAny = true;
        return;
      }
      op->setAttr(SensQDialect::kActivationStatsAttrName,
                  getActivationStatsAttr(&getContext(), it->second));
      LLVM_DEBUG(llvm::dbgs() << "attached statistics of "
                              << it->second.getCount() << " tokens to '"
                              << matmul->name << "'\n");
    });
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
