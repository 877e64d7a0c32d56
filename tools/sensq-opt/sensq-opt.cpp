//===- sensq-opt.cpp - sensq optimizer driver -----------------------------===//
//
// mlir-opt with the sensq dialect, its passes and pipelines, and the upstream
// dialects and passes they build on.
//
// Unlike upstream mlir-opt, the input is read into memory before anything is
// written, and the output replaces the target file only after every pass
// succeeded. `sensq-opt model.mlir -o model.mlir` therefore works in place,
// and a failed run leaves an existing output file untouched.
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
#include "llvm/Support/Error.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

/// Reads the whole input without memory-mapping it, so that writing the
/// output over the same file cannot change what is being parsed.
static std::unique_ptr<llvm::MemoryBuffer> readInput(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      path == "-" ? llvm::MemoryBuffer::getSTDIN()
                  : llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                                /*RequiresNullTerminator=*/true,
                                                /*IsVolatile=*/true);
  if (!buffer) {
    llvm::WithColor::error(llvm::errs(), "sensq-opt")
        << "cannot read '" << path << "': " << buffer.getError().message()
        << "\n";
    return nullptr;
  }
  return std::move(*buffer);
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAllPasses();
  sensq::registerSensQPassesAndPipelines();
  sensq::registerCPUCodegenPipeline();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<sensq::SensQDialect>();

  auto [inputFilename, outputFilename] =
      registerAndParseCLIOptions(argc, argv, "sensq optimizer driver\n", registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();

  // Listing dialects or passes reads and writes no file: upstream handles it.
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(
        MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  std::unique_ptr<llvm::MemoryBuffer> input = readInput(inputFilename);
  if (!input)
    return EXIT_FAILURE;

  if (outputFilename == "-")
    return asMainReturnCode(
        MlirOptMain(llvm::outs(), std::move(input), registry, config));

  // Keep the output in memory until every pass succeeded, then write it
  // through a temporary file renamed over the target.
  std::string output;
  llvm::raw_string_ostream outputStream(output);
  if (failed(MlirOptMain(outputStream, std::move(input), registry, config)))
    return EXIT_FAILURE;
  if (llvm::Error error = llvm::writeToOutput(
          outputFilename, [&](llvm::raw_ostream &os) -> llvm::Error {
            os << output;
            return llvm::Error::success();
          })) {
    llvm::WithColor::error(llvm::errs(), "sensq-opt")
        << "cannot write '" << outputFilename
        << "': " << llvm::toString(std::move(error)) << "\n";
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
