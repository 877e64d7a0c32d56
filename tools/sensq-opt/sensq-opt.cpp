//===- sensq-opt.cpp - sensq optimizer driver -----------------------------===//
//
// mlir-opt with the sensq dialect, its passes and pipelines, and the upstream
// dialects and passes they build on.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "sensq/Dialect/SensQ/IR/SensQDialect.h"
#include "sensq/Dialect/SensQ/Transforms/Passes.h"
#include "sensq/Pipelines/Passes.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::sensq::registerSensQPassesAndPipelines();
  mlir::sensq::registerCPUCodegenPipeline();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::sensq::SensQDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "sensq optimizer driver\n", registry));
}
