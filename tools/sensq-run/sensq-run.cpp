//===- sensq-run.cpp - Run, evaluate and calibrate sensq models -----------===//
//
//   sensq-run generate MODEL.mlir --gguf MODEL.gguf --steps N [--prompt TEXT]
//   sensq-run perplexity MODEL.mlir --gguf MODEL.gguf --text FILE
//       [--skip-docs N] [--max-docs N]
//   sensq-run calibrate MODEL.mlir --gguf MODEL.gguf --text FILE -o OUT
//       [--skip-docs N] [--max-docs N]
//   sensq-run merge-stats A.safetensors B.safetensors ... -o OUT
//
// Documents are the non-empty lines of the text file; --skip-docs and
// --max-docs select the same documents in perplexity and calibrate, so that
// calibration and evaluation can use disjoint parts of one file.
//
//===----------------------------------------------------------------------===//

#include "sensq/Numeric/ActivationStats.h"
#include "sensq/Runtime/Evaluation.h"
#include "sensq/Runtime/ModelRunner.h"
#include "sensq/Runtime/Tokenizer.h"
#include "sensq/Target/GGUF/GGUFFile.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <optional>

using namespace sensq;
namespace cl = llvm::cl;

static cl::OptionCategory runCategory("sensq-run options");

static cl::SubCommand generateCommand("generate",
                                      "Print greedily generated text");
static cl::SubCommand
    perplexityCommand("perplexity",
                      "Print the perplexity of the model over a text file");
static cl::SubCommand calibrateCommand(
    "calibrate", "Write the statistics of every named matmul's input over a "
                 "text file");
static cl::SubCommand mergeCommand("merge-stats",
                                   "Merge statistics files into one");

static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::sub(generateCommand),
                                      cl::sub(perplexityCommand),
                                      cl::sub(calibrateCommand),
                                      cl::cat(runCategory));
static cl::opt<std::string>
    ggufPath("gguf",
             cl::desc("GGUF file whose tokenizer encodes and decodes text"),
             cl::value_desc("file"), cl::sub(generateCommand),
             cl::sub(perplexityCommand), cl::sub(calibrateCommand),
             cl::cat(runCategory));
static cl::opt<int64_t> steps("steps",
                              cl::desc("Tokens to generate (default: 256)"),
                              cl::init(256), cl::sub(generateCommand),
                              cl::cat(runCategory));
static cl::opt<std::string> prompt("prompt",
                                   cl::desc("Text to continue (default: "
                                            "none, start from BOS)"),
                                   cl::sub(generateCommand),
                                   cl::cat(runCategory));
static cl::opt<std::string>
    textPath("text", cl::desc("Text file with one document per line"),
             cl::value_desc("file"), cl::sub(perplexityCommand),
             cl::sub(calibrateCommand), cl::cat(runCategory));
static cl::opt<int64_t>
    skipDocs("skip-docs",
             cl::desc("Documents to skip at the start of the text file "
                      "(default: 0)"),
             cl::init(0), cl::sub(perplexityCommand), cl::sub(calibrateCommand),
             cl::cat(runCategory));
static cl::opt<int64_t>
    maxDocs("max-docs",
            cl::desc("Documents to use after the skipped ones (default: all)"),
            cl::init(0), cl::sub(perplexityCommand), cl::sub(calibrateCommand),
            cl::cat(runCategory));
static cl::opt<std::string> outputPath("o", cl::desc("Output statistics file"),
                                       cl::value_desc("file"),
                                       cl::sub(calibrateCommand),
                                       cl::sub(mergeCommand),
                                       cl::cat(runCategory));
static cl::list<std::string> mergeInputs(cl::Positional,
                                         cl::desc("<stats.safetensors>..."),
                                         cl::sub(mergeCommand),
                                         cl::cat(runCategory));
static cl::opt<bool>
    vectorize("vectorize",
              cl::desc("Tile and vectorize the model; false runs scalar loops "
                       "(default: true)"),
              cl::init(true), cl::sub(generateCommand),
              cl::sub(perplexityCommand), cl::sub(calibrateCommand),
              cl::cat(runCategory));
static cl::opt<bool> printTimings(
    "timings",
    cl::desc("Print parse, compile and run times to stderr (default: false)"),
    cl::init(false), cl::sub(generateCommand), cl::sub(perplexityCommand),
    cl::sub(calibrateCommand), cl::cat(runCategory));

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static llvm::Error requireOption(bool present, llvm::StringRef option,
                                 llvm::StringRef command) {
  if (present)
    return llvm::Error::success();
  return makeError(llvm::formatv("{0} needs {1}", command, option));
}

/// Checks that the directory of an output file exists, so that a long
/// calibration does not fail only when it writes its result.
static llvm::Error checkOutputDirectory(llvm::StringRef path) {
  llvm::StringRef directory = llvm::sys::path::parent_path(path);
  if (directory.empty() || llvm::sys::fs::is_directory(directory))
    return llvm::Error::success();
  return makeError(llvm::formatv("{0}: output directory '{1}' does not exist",
                                 path, directory));
}

/// A compiled model with the tokenizer of its GGUF file.
struct LoadedModel {
  std::unique_ptr<ModelRunner> runner;
  std::optional<Tokenizer> tokenizer;
};

static llvm::Expected<LoadedModel> loadModel(llvm::StringRef command,
                                             bool exposeMatmulInputs) {
  if (llvm::Error err =
          requireOption(!modelPath.empty(), "a model file", command))
    return std::move(err);
  if (llvm::Error err = requireOption(!ggufPath.empty(), "--gguf", command))
    return std::move(err);

  // The tokenizer and the model file are checked before the slow compile.
  llvm::Expected<std::unique_ptr<gguf::GGUFFile>> gguf =
      gguf::GGUFFile::open(ggufPath);
  if (!gguf)
    return gguf.takeError();
  LoadedModel loaded;
  llvm::Expected<Tokenizer> tokenizer = Tokenizer::fromGGUF(**gguf);
  if (!tokenizer)
    return tokenizer.takeError();
  loaded.tokenizer = std::move(*tokenizer);

  ModelRunnerOptions options;
  options.exposeMatmulInputs = exposeMatmulInputs;
  options.vectorize = vectorize;
  llvm::Expected<std::unique_ptr<ModelRunner>> runner =
      ModelRunner::fromFile(modelPath, options);
  if (!runner)
    return runner.takeError();
  loaded.runner = std::move(*runner);

  if (loaded.tokenizer->getVocabSize() != loaded.runner->getVocabSize())
    return makeError(llvm::formatv(
        "{0}: vocabulary has {1} pieces but the logits of {2} have {3} "
        "columns",
        ggufPath, loaded.tokenizer->getVocabSize(), modelPath,
        loaded.runner->getVocabSize()));
  if (printTimings) {
    const ModelTimings &timings = loaded.runner->getTimings();
    llvm::errs() << llvm::formatv("time: parse {0:f3} s, lower {1:f3} s, "
                                  "jit {2:f3} s\n",
                                  timings.parseSeconds, timings.lowerSeconds,
                                  timings.jitSeconds);
  }
  return std::move(loaded);
}

static llvm::Expected<std::vector<std::string>> loadDocuments() {
  llvm::Expected<std::vector<std::string>> documents = readDocuments(textPath);
  if (!documents)
    return documents.takeError();
  std::optional<int64_t> max;
  if (maxDocs.getNumOccurrences())
    max = maxDocs;
  return selectDocuments(std::move(*documents), skipDocs, max, textPath);
}

/// Seconds elapsed while running `body`, printed with --timings.
template <typename Fn> static auto timed(llvm::StringRef label, Fn body) {
  auto start = std::chrono::steady_clock::now();
  auto result = body();
  if (printTimings)
    llvm::errs() << llvm::formatv(
        "time: {0} {1:f3} s\n", label,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  return result;
}

static llvm::Error runGenerate() {
  if (steps < 0)
    return makeError(
        llvm::formatv("--steps is {0}; expected >= 0", steps.getValue()));
  llvm::Expected<LoadedModel> loaded = loadModel("generate", false);
  if (!loaded)
    return loaded.takeError();
  const Tokenizer &tokenizer = *loaded->tokenizer;
  int32_t previous = tokenizer.getBosId();
  std::vector<int32_t> promptTokens = tokenizer.encode(prompt, true);

  // Check the request against the context before printing anything, so a
  // script never receives text cut short with a success status.
  int64_t seqLen = loaded->runner->getSeqLen();
  int64_t room = seqLen - static_cast<int64_t>(promptTokens.size());
  if (steps > room)
    return makeError(llvm::formatv(
        "{0}: cannot generate {1} tokens: the context has {2} positions and "
        "BOS and the prompt take {3}, leaving {4}; lower --steps or import "
        "the model with a larger --seq-len",
        modelPath, steps.getValue(), seqLen, promptTokens.size(),
        std::max<int64_t>(room, 0)));

  llvm::outs() << tokenizer.decode(promptTokens);
  if (!promptTokens.empty())
    previous = promptTokens.back();
  llvm::Expected<std::vector<int32_t>> tokens = timed("generate", [&] {
    return generateGreedy(
        *loaded->runner, tokenizer, prompt, steps, [&](int32_t token) {
          llvm::outs() << tokenizer.decodeToken(previous, token);
          llvm::outs().flush();
          previous = token;
        });
  });
  llvm::outs() << "\n";
  if (!tokens)
    return tokens.takeError();

  return llvm::Error::success();
}

static llvm::Error runPerplexity() {
  if (llvm::Error err =
          requireOption(!textPath.empty(), "--text", "perplexity"))
    return err;
  llvm::Expected<std::vector<std::string>> documents = loadDocuments();
  if (!documents)
    return documents.takeError();
  llvm::Expected<LoadedModel> loaded = loadModel("perplexity", false);
  if (!loaded)
    return loaded.takeError();
  llvm::Expected<PerplexityResult> result = timed("perplexity", [&] {
    return evaluatePerplexity(*loaded->runner, *loaded->tokenizer, *documents);
  });
  if (!result)
    return result.takeError();
  llvm::outs() << llvm::formatv("perplexity: {0:f4}\n", result->perplexity);
  llvm::outs() << llvm::formatv("tokens: {0} in {1} document(s)\n",
                                result->numPredicted, result->numDocuments);
  return llvm::Error::success();
}

static llvm::Error runCalibrate() {
  if (llvm::Error err = requireOption(!textPath.empty(), "--text", "calibrate"))
    return err;
  if (llvm::Error err = requireOption(!outputPath.empty(), "-o", "calibrate"))
    return err;
  if (llvm::Error err = checkOutputDirectory(outputPath))
    return err;
  llvm::Expected<std::vector<std::string>> documents = loadDocuments();
  if (!documents)
    return documents.takeError();
  llvm::Expected<LoadedModel> loaded = loadModel("calibrate", true);
  if (!loaded)
    return loaded.takeError();
  llvm::Expected<StatsMap> stats = timed("calibrate", [&] {
    return calibrate(*loaded->runner, *loaded->tokenizer, *documents);
  });
  if (!stats)
    return stats.takeError();
  return writeStatsFile(outputPath, *stats);
}

static llvm::Error runMerge() {
  if (llvm::Error err = requireOption(!mergeInputs.empty(), "statistics files",
                                      "merge-stats"))
    return err;
  if (llvm::Error err = requireOption(!outputPath.empty(), "-o", "merge-stats"))
    return err;
  if (llvm::Error err = checkOutputDirectory(outputPath))
    return err;
  std::vector<std::string> inputs(mergeInputs.begin(), mergeInputs.end());
  llvm::Expected<StatsMap> merged = mergeStatsFiles(inputs);
  if (!merged)
    return merged.takeError();
  return writeStatsFile(outputPath, *merged);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  for (cl::SubCommand *command :
       {&cl::SubCommand::getTopLevel(), &generateCommand, &perplexityCommand,
        &calibrateCommand, &mergeCommand})
    cl::HideUnrelatedOptions(runCategory, *command);
  cl::ParseCommandLineOptions(
      argc, argv,
      "sensq-run: run, evaluate and calibrate sensq models\n\n"
      "  generate    greedy text generation\n"
      "  perplexity  perplexity over the documents of a text file\n"
      "  calibrate   matmul input statistics over a text file\n"
      "  merge-stats merge statistics files\n");

  llvm::Error err = llvm::Error::success();
  if (generateCommand) {
    err = runGenerate();
  } else if (perplexityCommand) {
    err = runPerplexity();
  } else if (calibrateCommand) {
    err = runCalibrate();
  } else if (mergeCommand) {
    err = runMerge();
  } else {
    llvm::WithColor::error(llvm::errs(), "sensq-run")
        << "expected a subcommand: generate, perplexity, calibrate or "
           "merge-stats (see --help)\n";
    return 1;
  }
  if (err) {
    llvm::WithColor::error(llvm::errs(), "sensq-run")
        << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}
