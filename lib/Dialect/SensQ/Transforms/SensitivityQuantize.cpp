//===- SensitivityQuantize.cpp - The sensitivity-quantize pipeline --------===//

#include "sensq/Dialect/SensQ/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "sensq/Conversion/Passes.h"

using namespace mlir;
using namespace mlir::sensq;

// The order is fixed by what each pass reads: sensitivity needs the attached
// statistics, AWQ needs the sensitivity and the statistics, and the lowering
// needs the sensq ops the quantizer produced. Round to nearest reads no
// statistics, so `stats` may be omitted with method=rtn; with method=awq the
// quantizer then reports the missing statistics per layer.
void mlir::sensq::buildSensitivityQuantizePipeline(
    OpPassManager &pm, const SensitivityQuantizeOptions &options) {
  if (!options.stats.empty() || options.method != QuantMethod::RTN) {
    SensQAttachStatsOptions attach;
    attach.statsFile = options.stats;
    attach.skip.assign(options.skip.begin(), options.skip.end());
    pm.addPass(createSensQAttachStats(attach));

    SensQComputeSensitivityOptions sensitivity;
    sensitivity.metric = options.metric;
    pm.addPass(createSensQComputeSensitivity(sensitivity));
  }

  SensQQuantizeWeightsOptions quantize;
  quantize.method = options.method;
  quantize.bits = options.bits;
  quantize.groupSize = options.groupSize;
  quantize.symmetric = options.symmetric;
  quantize.gridSize = options.gridSize;
  quantize.skip.assign(options.skip.begin(), options.skip.end());
  pm.addPass(createSensQQuantizeWeights(quantize));

  pm.addPass(createConvertSensQToLinalg());
  pm.addPass(createCanonicalizerPass());
}

void mlir::sensq::registerSensQPassesAndPipelines() {
  registerSensQPasses();
  registerSensQConversionPasses();
  PassPipelineRegistration<SensitivityQuantizeOptions>(
      "sensitivity-quantize",
      "Quantize constant matmul weights guided by activation sensitivity: "
      "attach statistics, compute sensitivity, quantize, lower to linalg",
      buildSensitivityQuantizePipeline);
}
