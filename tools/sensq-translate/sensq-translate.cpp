//===- sensq-translate.cpp - sensq translation driver ---------------------===//
//
// Runs a registered translation, like mlir-translate:
//
//   sensq-translate --import-gguf model.gguf -o model.mlir [--seq-len=N]
//
// Unlike mlir-translate, it writes the output to a temporary file beside the
// target and renames it only after the translation succeeded, so a failed run
// leaves no output file and keeps an existing one intact. Every diagnostic is
// printed as a single line.
//
//===----------------------------------------------------------------------===//

#include "sensq/Target/GGUF/ImportGGUF.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static constexpr llvm::StringLiteral kToolName = "sensq-translate";

/// The options `--help` shows; LLVM's own code generation options are hidden.
static llvm::cl::OptionCategory translateCategory("sensq-translate options");

static llvm::cl::opt<std::string> inputFilename(llvm::cl::Positional,
                                                llvm::cl::desc("<input file>"),
                                                llvm::cl::init("-"),
                                                llvm::cl::cat(translateCategory));

static llvm::cl::opt<std::string>
    outputFilename("o", llvm::cl::desc("Output filename"),
                   llvm::cl::value_desc("filename"), llvm::cl::init("-"),
                   llvm::cl::cat(translateCategory));

static llvm::cl::opt<int64_t> seqLen(
    "seq-len",
    llvm::cl::desc("Token positions of the imported @forward (default: the "
                   "model's context length)"),
    llvm::cl::init(0), llvm::cl::cat(translateCategory));

/// Registers --import-gguf, which reads the input as a GGUF Llama model.
static void registerImportGGUFTranslation() {
  static TranslateToMLIRRegistration registration(
      "import-gguf", "Import a Llama model from a GGUF file",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *context) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *input =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        // The source manager keeps owning the data; the reader gets a view.
        auto file =
            sensq::gguf::GGUFFile::create(llvm::MemoryBuffer::getMemBuffer(
                input->getMemBufferRef(), /*RequiresNullTerminator=*/false));
        if (!file) {
          emitError(UnknownLoc::get(context)) << toString(file.takeError());
          return nullptr;
        }
        if (seqLen.getNumOccurrences() && seqLen <= 0) {
          emitError(UnknownLoc::get(context))
              << "--seq-len is " << seqLen.getValue()
              << "; expected a positive token count";
          return nullptr;
        }
        sensq::ImportOptions options;
        options.seqLen = seqLen;
        auto module = sensq::importGGUF(**file, context, options);
        if (!module) {
          emitError(UnknownLoc::get(context)) << toString(module.takeError());
          return nullptr;
        }
        return OwningOpRef<Operation *>(module->release());
      },
      sensq::registerImportGGUFDialects);
}

/// Prints `message` as a one-line error of the tool.
static void printError(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), kToolName) << message << "\n";
}

/// Runs `translation` on the input and writes the result to `output`.
static LogicalResult translate(const Translation &translation,
                               std::unique_ptr<llvm::MemoryBuffer> input,
                               llvm::raw_ostream &output) {
  MLIRContext context;
  context.allowUnregisteredDialects(false);
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error) {
      printError(diag.str());
    } else if (diag.getSeverity() == DiagnosticSeverity::Warning) {
      llvm::WithColor::warning(llvm::errs(), kToolName) << diag.str() << "\n";
    }
    return success();
  });
  auto sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  return translation(sourceMgr, output, &context);
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerImportGGUFTranslation();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();

  llvm::cl::opt<const Translation *, false, TranslationParser> translation(
      "", llvm::cl::desc("Translation to perform (--import-gguf)"),
      llvm::cl::Required, llvm::cl::cat(translateCategory));
  llvm::cl::HideUnrelatedOptions(translateCategory);
  llvm::cl::ParseCommandLineOptions(argc, argv, "sensq translation driver\n");

  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> input =
      llvm::MemoryBuffer::getFileOrSTDIN(inputFilename, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!input) {
    printError(inputFilename +
               ": cannot open file: " + input.getError().message());
    return 1;
  }

  if (outputFilename == "-") {
    if (failed(translate(*translation, std::move(*input), llvm::outs())))
      return 1;
    llvm::outs().flush();
    return 0;
  }

  // Write beside the target so the final rename stays on one file system.
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(outputFilename + ".tmp-%%%%%%");
  if (!temp) {
    printError(outputFilename + ": cannot create a temporary file: " +
               toString(temp.takeError()));
    return 1;
  }
  LogicalResult result = success();
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    result = translate(*translation, std::move(*input), os);
    os.flush();
    if (succeeded(result) && os.has_error()) {
      printError(outputFilename + ": cannot write: " + os.error().message());
      os.clear_error();
      result = failure();
    }
  }
  if (failed(result)) {
    llvm::consumeError(temp->discard());
    return 1;
  }
  if (llvm::Error err = temp->keep(outputFilename)) {
    printError(outputFilename + ": cannot write: " + toString(std::move(err)));
    return 1;
  }
  return 0;
}
