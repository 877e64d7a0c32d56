//===- SensitivityQuantize.cpp - The sensitivity-quantize pipeline --------===//

#include "sensq/Dialect/SensQ/Transforms/Passes.h"

#include "sensq/Conversion/Passes.h"

using namespace mlir;
using namespace mlir::sensq;

void mlir::sensq::registerSensQPassesAndPipelines() {
  registerSensQExposeMatmulInputs();
  registerSensQConversionPasses();
}
