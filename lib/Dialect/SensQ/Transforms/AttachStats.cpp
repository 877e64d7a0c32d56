//===- AttachStats.cpp - Attach calibration statistics to matmuls ---------===//

#include "sensq/Dialect/SensQ/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "sensq/Dialect/SensQ/Utils/StatsAttr.h"
#include "sensq/Dialect/SensQ/Utils/WeightMatmul.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

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
    if (failed(verifyWeightNames(module, skip, "skip")))
      return signalPassFailure();
    llvm::StringSet<> skipped(llvm::from_range, skip);

    // A stats file from another model mismatches every layer. The first
    // problem is reported in full and the others are counted in a note, so
    // the message stays readable.
    SmallVector<std::pair<Location, std::string>> problems;
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
        problems.emplace_back(
            op.getLoc(),
            llvm::formatv("no statistics for '{0}' in '{1}'; calibrate this "
                          "model again or list the layer in 'skip'",
                          matmul->name, statsFile.getValue()));
        return;
      }
      int64_t k = matmul->getNumInputChannels();
      if (it->second.getNumChannels() != k) {
        problems.emplace_back(
            op.getLoc(),
            llvm::formatv("expected statistics of {0} input channels for "
                          "'{1}', but '{2}' has {3}; the file was calibrated "
                          "on another model",
                          k, matmul->name, statsFile.getValue(),
                          it->second.getNumChannels()));
        return;
      }
      op->setAttr(SensQDialect::kActivationStatsAttrName,
                  getActivationStatsAttr(&getContext(), it->second));
      LLVM_DEBUG(llvm::dbgs() << "attached statistics of "
                              << it->second.getCount() << " tokens to '"
                              << matmul->name << "'\n");
    });

    if (problems.empty())
      return;
    InFlightDiagnostic diag = emitError(problems.front().first)
                              << problems.front().second;
    if (problems.size() > 1)
      diag.attachNote() << (problems.size() - 1)
                        << " more matmuls have missing or mismatched "
                           "statistics";
    signalPassFailure();
  }
};
} // namespace
