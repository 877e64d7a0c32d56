//===- ModelRunner.cpp - JIT execution of a model module ------------------===//

#include "sensq/Runtime/ModelRunner.h"

#include "sensq/Dialect/SensQ/IR/SensQDialect.h"
#include "sensq/Dialect/SensQ/Transforms/Passes.h"
#include "sensq/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

using namespace sensq;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

namespace {
/// Keeps the first error diagnostic, as "line:col: message" when it has a
/// file location, so failures become one-line errors.
class FirstErrorCollector {
public:
  explicit FirstErrorCollector(mlir::MLIRContext *context)
      : handler(context, [this](mlir::Diagnostic &diag) {
          if (diag.getSeverity() == mlir::DiagnosticSeverity::Error &&
              message.empty()) {
            llvm::raw_string_ostream os(message);
            if (auto loc =
                    llvm::dyn_cast<mlir::FileLineColLoc>(diag.getLocation()))
              os << loc.getLine() << ":" << loc.getColumn() << ": ";
            os << diag.str();
            // Keep the message on one line.
            for (char &c : message)
              if (c == '\n')
                c = ' ';
          }
          return mlir::success();
        }) {}

  /// Returns the message, or `fallback` when no error was reported.
  std::string take(llvm::StringRef fallback) const {
    return message.empty() ? fallback.str() : message;
  }

private:
  std::string message;
  mlir::ScopedDiagnosticHandler handler;
};
} // namespace

namespace {
/// Allocator behind the buffers of compiled models. A forward call
/// allocates and frees the same intermediate buffers every time. Large
/// blocks from malloc come and go through mmap and munmap, and the page
/// faults on fresh pages took half the time of a stories260K forward pass
/// (54 ms with malloc, 27 ms with this cache). Freed blocks are therefore
/// kept by size and handed out again.
class BufferCache {
public:
  static BufferCache &get() {
    static BufferCache cache;
    return cache;
  }

  void *allocate(uint64_t size, uint64_t alignment) {
    // Sizes are rounded up to whole cache lines so that nearby sizes share
    // blocks. Every block is aligned to at least a cache line.
    uint64_t rounded = std::max<uint64_t>(llvm::alignTo(size, kLine), kLine);
    alignment = std::max<uint64_t>(alignment, kLine);
    std::lock_guard<std::mutex> lock(mutex);
    if (alignment == kLine) {
      auto it = freeBlocks.find(rounded);
      if (it != freeBlocks.end()) {
        void *block = it->second;
        freeBlocks.erase(it);
        cachedBytes -= rounded;
        liveSizes[block] = rounded;
        return block;
      }
    }
    void *block =
        std::aligned_alloc(alignment, llvm::alignTo(rounded, alignment));
    if (block)
      liveSizes[block] = alignment == kLine ? rounded : 0;
    return block;
  }

  void release(void *block) {
    if (!block)
      return;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = liveSizes.find(block);
    uint64_t size = it == liveSizes.end() ? 0 : it->second;
    if (it != liveSizes.end())
      liveSizes.erase(it);
    if (size == 0 || cachedBytes + size > kMaxCachedBytes) {
      std::free(block);
      return;
    }
    freeBlocks.emplace(size, block);
    cachedBytes += size;
  }

  int64_t getLiveCount() {
    std::lock_guard<std::mutex> lock(mutex);
    return liveSizes.size();
  }

  /// Returns every cached block to the system.
  void trim() {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto &[size, block] : freeBlocks)
      std::free(block);
    freeBlocks.clear();
    cachedBytes = 0;
  }

private:
  static constexpr uint64_t kLine = 64;
  /// Upper bound of memory kept for reuse: 2 GiB.
  static constexpr uint64_t kMaxCachedBytes = uint64_t(2) << 30;

  std::mutex mutex;
  std::unordered_map<void *, uint64_t> liveSizes;
  std::unordered_multimap<uint64_t, void *> freeBlocks;
  uint64_t cachedBytes = 0;
};
} // namespace

extern "C" {
static void *sensqBufferAlloc(uint64_t size) {
  return BufferCache::get().allocate(size, 0);
}
static void *sensqBufferAlignedAlloc(uint64_t alignment, uint64_t size) {
  return BufferCache::get().allocate(size, alignment);
}
static void sensqBufferFree(void *block) { BufferCache::get().release(block); }
}

/// Reads the signature of `func`: tensor<Txi32> -> (tensor<TxVxf32>,
/// tensor<TxKxf32>...).
static llvm::Expected<ModelSignature> readSignature(mlir::ModuleOp module,
                                                    mlir::func::FuncOp func,
                                                    llvm::StringRef name) {
  std::string funcName = ("@" + func.getSymName()).str();
  mlir::FunctionType type = func.getFunctionType();
  auto describe = [](mlir::Type t) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << t;
    return s;
  };
  if (type.getNumInputs() != 1)
    return makeError(llvm::formatv("{0}: {1} takes {2} arguments; expected "
                                   "one tensor<Txi32> of token ids",
                                   name, funcName, type.getNumInputs()));
  auto tokens = llvm::dyn_cast<mlir::RankedTensorType>(type.getInput(0));
  if (!tokens || tokens.getRank() != 1 || !tokens.hasStaticShape() ||
      !tokens.getElementType().isInteger(32) || tokens.getDimSize(0) < 1)
    return makeError(llvm::formatv("{0}: {1} takes {2}; expected "
                                   "tensor<Txi32> with a static T >= 1",
                                   name, funcName, describe(type.getInput(0))));
  ModelSignature signature;
  signature.seqLen = tokens.getDimSize(0);

  if (type.getNumResults() < 1)
    return makeError(llvm::formatv("{0}: {1} returns nothing; expected "
                                   "tensor<{2}xVxf32> logits",
                                   name, funcName, signature.seqLen));
  for (auto [index, resultType] : llvm::enumerate(type.getResults())) {
    auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(resultType);
    if (!tensor || tensor.getRank() != 2 || !tensor.hasStaticShape() ||
        !tensor.getElementType().isF32() ||
        tensor.getDimSize(0) != signature.seqLen || tensor.getDimSize(1) < 1)
      return makeError(llvm::formatv(
          "{0}: result {1} of {2} is {3}; expected tensor<{4}xNxf32>", name,
          index, funcName, describe(resultType), signature.seqLen));
    if (index == 0)
      signature.vocabSize = tensor.getDimSize(1);
    else
      signature.extraColumns.push_back(tensor.getDimSize(1));
  }

  size_t numExtras = signature.extraColumns.size();
  if (auto names =
          func->getAttrOfType<mlir::ArrayAttr>("sensq.exposed_inputs")) {
    if (names.size() != numExtras)
      return makeError(llvm::formatv(
          "{0}: sensq.exposed_inputs of {1} names {2} results; the function "
          "has {3} results after the logits",
          name, funcName, names.size(), numExtras));
    for (mlir::Attribute attr : names) {
      auto str = llvm::dyn_cast<mlir::StringAttr>(attr);
      if (!str)
        return makeError(llvm::formatv("{0}: sensq.exposed_inputs of {1} "
                                       "contains a non-string entry",
                                       name, funcName));
      signature.extraNames.push_back(str.str());
    }
  } else {
    for (size_t i = 0; i < numExtras; ++i)
      signature.extraNames.push_back(("result" + llvm::Twine(i + 1)).str());
  }

  if (auto vocab =
          module->getAttrOfType<mlir::IntegerAttr>("sensq.vocab_size")) {
    if (vocab.getInt() != signature.vocabSize)
      return makeError(llvm::formatv(
          "{0}: module attribute sensq.vocab_size is {1} but the logits of "
          "{2} have {3} columns",
          name, vocab.getInt(), funcName, signature.vocabSize));
  }
  return signature;
}

int64_t ModelRunner::getLiveBufferCount() {
  return BufferCache::get().getLiveCount();
}

/// Returns the f32 elements of one vector register of the host: 16 with
/// AVX-512, 8 otherwise.
static int64_t getHostVectorWidth() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return features.lookup("avx512f") ? 16 : 8;
}

ModelRunner::ModelRunner() = default;
ModelRunner::~ModelRunner() {
  engine.reset();
  BufferCache::get().trim();
}

llvm::Expected<std::unique_ptr<ModelRunner>>
ModelRunner::fromFile(llvm::StringRef path, const ModelRunnerOptions &options) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/true);
  if (!buffer)
    return makeError(llvm::formatv("{0}: cannot read the module: {1}", path,
                                   buffer.getError().message()));
  return fromString((*buffer)->getBuffer(), path, options);
}

llvm::Expected<std::unique_ptr<ModelRunner>>
ModelRunner::fromString(llvm::StringRef source, llvm::StringRef name,
                        const ModelRunnerOptions &options) {
  auto start = std::chrono::steady_clock::now();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  registry.insert<mlir::sensq::SensQDialect>();
  auto context = std::make_unique<mlir::MLIRContext>(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module;
  {
    FirstErrorCollector errors(context.get());
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(source, name,
                                         /*RequiresNullTerminator=*/false),
        llvm::SMLoc());
    mlir::ParserConfig config(context.get());
    module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, config);
    if (!module)
      return makeError(
          llvm::formatv("{0}: cannot parse the module: {1}", name,
                        errors.take("the file is not an MLIR module")));
  }
  return compile(std::move(context), std::move(module), name, options,
                 secondsSince(start));
}

llvm::Expected<std::unique_ptr<ModelRunner>>
ModelRunner::compile(std::unique_ptr<mlir::MLIRContext> context,
                     mlir::OwningOpRef<mlir::ModuleOp> module,
                     llvm::StringRef name, const ModelRunnerOptions &options,
                     double parseSeconds) {
  auto findEntry = [&]() -> llvm::Expected<mlir::func::FuncOp> {
    auto func = module->lookupSymbol<mlir::func::FuncOp>(options.entryFunction);
    if (!func || func.isExternal())
      return makeError(llvm::formatv("{0}: module has no function @{1}", name,
                                     options.entryFunction));
    return func;
  };
  llvm::Expected<mlir::func::FuncOp> entryFunc = findEntry();
  if (!entryFunc)
    return entryFunc.takeError();
  // Validates the function as written before any instrumentation.
  if (llvm::Error err = readSignature(*module, *entryFunc, name).takeError())
    return std::move(err);

  auto runner = std::unique_ptr<ModelRunner>(new ModelRunner());
  runner->timings.parseSeconds = parseSeconds;
  runner->name = name.str();

  auto start = std::chrono::steady_clock::now();
  if (options.exposeMatmulInputs) {
    FirstErrorCollector errors(context.get());
    mlir::PassManager pm(context.get());
    mlir::sensq::SensQExposeMatmulInputsOptions exposeOptions;
    exposeOptions.function = options.entryFunction;
    pm.addPass(mlir::sensq::createSensQExposeMatmulInputs(exposeOptions));
    if (mlir::failed(pm.run(*module)))
      return makeError(llvm::formatv("{0}: cannot expose the matmul inputs: "
                                     "{1}",
                                     name, errors.take("the pass failed")));
    entryFunc = findEntry();
    if (!entryFunc)
      return entryFunc.takeError();
  }
  llvm::Expected<ModelSignature> signature =
      readSignature(*module, *entryFunc, name);
  if (!signature)
    return signature.takeError();
  runner->signature = std::move(*signature);

  // The C interface takes one descriptor pointer per memref, which is what
  // forward() builds.
  (*entryFunc)
      ->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(context.get()));
  {
    FirstErrorCollector errors(context.get());
    mlir::PassManager pm(context.get());
    mlir::sensq::CPUCodegenOptions codegenOptions;
    codegenOptions.vectorize = options.vectorize;
    codegenOptions.vectorWidth =
        options.vectorWidth > 0 ? options.vectorWidth : getHostVectorWidth();
    codegenOptions.genericAllocFunctions = true;
    mlir::sensq::buildCPUCodegenPipeline(pm, codegenOptions);
    if (mlir::failed(pm.run(*module)))
      return makeError(llvm::formatv("{0}: lowering to LLVM failed: {1}", name,
                                     errors.take("a pass failed")));
  }
  runner->timings.lowerSeconds = secondsSince(start);

  start = std::chrono::steady_clock::now();
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Expected<llvm::orc::JITTargetMachineBuilder> machineBuilder =
      llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return makeError(llvm::formatv("{0}: cannot detect the host CPU: {1}", name,
                                   llvm::toString(machineBuilder.takeError())));
  unsigned optLevel = std::min(options.optLevel, 3u);
  llvm::CodeGenOptLevel codeGenLevel =
      llvm::CodeGenOpt::getLevel(optLevel).value_or(
          llvm::CodeGenOptLevel::Aggressive);
  machineBuilder->setCodeGenOptLevel(codeGenLevel);
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      machineBuilder->createTargetMachine();
  if (!machine)
    return makeError(llvm::formatv("{0}: cannot create a target machine for "
                                   "the host CPU: {1}",
                                   name, llvm::toString(machine.takeError())));
  auto transformer = mlir::makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                                     machine->get());
  mlir::ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = codeGenLevel;
  // memref.copy between non-contiguous buffers calls memrefCopy from the C
  // runner utilities.
  llvm::SmallVector<llvm::StringRef, 1> sharedLibs;
#ifdef SENSQ_MLIR_C_RUNNER_UTILS
  if (llvm::sys::fs::exists(SENSQ_MLIR_C_RUNNER_UTILS))
    sharedLibs.push_back(SENSQ_MLIR_C_RUNNER_UTILS);
#endif
  engineOptions.sharedLibPaths = sharedLibs;
  engineOptions.enableGDBNotificationListener = false;
  engineOptions.enablePerfNotificationListener = false;
  {
    FirstErrorCollector errors(context.get());
    llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>> engine =
        mlir::ExecutionEngine::create(*module, engineOptions,
                                      std::move(*machine));
    if (!engine)
      return makeError(
          llvm::formatv("{0}: JIT compilation failed: {1}", name,
                        errors.take(llvm::toString(engine.takeError()))));
    runner->engine = std::move(*engine);
  }
  runner->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](llvm::StringRef name, auto *function) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                                 llvm::JITSymbolFlags::Exported};
    };
    add("_mlir_memref_to_llvm_alloc", &sensqBufferAlloc);
    add("_mlir_memref_to_llvm_aligned_alloc", &sensqBufferAlignedAlloc);
    add("_mlir_memref_to_llvm_free", &sensqBufferFree);
    return symbols;
  });
  runner->engine->initialize();
  std::string symbol = "_mlir_ciface_" + options.entryFunction;
  llvm::Expected<void (*)(void **)> entry =
      runner->engine->lookupPacked(symbol);
  if (!entry)
    return makeError(llvm::formatv("{0}: JIT has no symbol {1}: {2}", name,
                                   symbol, llvm::toString(entry.takeError())));
  runner->entry = *entry;
  runner->timings.jitSeconds = secondsSince(start);

  // The lowered module is no longer needed; the JIT owns the machine code.
  module = nullptr;
  runner->context = std::move(context);
  return std::move(runner);
}

llvm::Error ModelRunner::forward(llvm::ArrayRef<int32_t> tokens,
                                 ForwardResult &result, int32_t padToken) {
  int64_t seqLen = signature.seqLen;
  int64_t vocabSize = signature.vocabSize;
  if (tokens.empty() || static_cast<int64_t>(tokens.size()) > seqLen)
    return makeError(llvm::formatv("{0}: forward got {1} tokens; expected 1 "
                                   "to {2}",
                                   name, tokens.size(), seqLen));
  // The model gathers embedding rows by token id without bounds checks.
  for (auto [position, token] : llvm::enumerate(tokens))
    if (token < 0 || token >= vocabSize)
      return makeError(llvm::formatv("{0}: token {1} at position {2} is "
                                     "outside the vocabulary of {3}",
                                     name, token, position, vocabSize));
  if (padToken < 0 || padToken >= vocabSize)
    return makeError(llvm::formatv("{0}: padding token {1} is outside the "
                                   "vocabulary of {2}",
                                   name, padToken, vocabSize));

  std::vector<int32_t> input(seqLen, padToken);
  std::copy(tokens.begin(), tokens.end(), input.begin());
  result.logits.assign(seqLen * vocabSize, 0.0f);
  result.extras.resize(signature.extraColumns.size());
  for (auto [extra, columns] :
       llvm::zip_equal(result.extras, signature.extraColumns))
    extra.assign(seqLen * columns, 0.0f);

  StridedMemRefType<int32_t, 1> inputDesc{
      input.data(), input.data(), 0, {seqLen}, {1}};
  std::vector<StridedMemRefType<float, 2>> outputDescs;
  outputDescs.reserve(1 + result.extras.size());
  outputDescs.push_back({result.logits.data(),
                         result.logits.data(),
                         0,
                         {seqLen, vocabSize},
                         {vocabSize, 1}});
  for (auto [extra, columns] :
       llvm::zip_equal(result.extras, signature.extraColumns))
    outputDescs.push_back(
        {extra.data(), extra.data(), 0, {seqLen, columns}, {columns, 1}});

  // The C interface takes a pointer to each descriptor, and the packed
  // wrapper takes a pointer to each of those arguments.
  llvm::SmallVector<void *> descriptorPtrs;
  descriptorPtrs.push_back(&inputDesc);
  for (StridedMemRefType<float, 2> &desc : outputDescs)
    descriptorPtrs.push_back(&desc);
  llvm::SmallVector<void *> args;
  for (void *&ptr : descriptorPtrs)
    args.push_back(&ptr);
  entry(args.data());
  return llvm::Error::success();
}
