//===- ForwardBenchmark.cpp - Speed of a model's forward pass -------------===//
//
// Times one call of @forward (T tokens to T x V logits) for each module given
// on the command line, JIT-compiled by the same path as `sensq-run`:
//
//   sensq-bench-forward [--scalar-baseline] model.mlir q4.mlir ...
//       [--benchmark_... flags]
//
// --scalar-baseline also times the first module lowered to scalar loops
// (`sensq-cpu-codegen` with vectorization off), the speed-up reference of
// the vectorizing pipeline.
//
// All modules are timed in one process, one after another, so their ratios
// are comparable even on a noisy machine. scripts/bench.sh prepares the
// modules and runs this program.
//
//===----------------------------------------------------------------------===//

#include "sensq/Runtime/ModelRunner.h"

#include "benchmark/benchmark.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

using namespace sensq;

/// Calls forward on a fixed pseudo-random token sequence.
static void runForward(benchmark::State &state, ModelRunner *runner) {
  std::vector<int32_t> tokens(runner->getSeqLen());
  uint32_t seed = 12345;
  for (int32_t &token : tokens) {
    seed = seed * 1664525u + 1013904223u;
    token = static_cast<int32_t>((seed >> 8) % runner->getVocabSize());
  }
  ForwardResult result;
  for (auto _ : state) {
    if (llvm::Error error = runner->forward(tokens, result)) {
      state.SkipWithError(llvm::toString(std::move(error)).c_str());
      return;
    }
    benchmark::DoNotOptimize(result.logits.data());
  }
  state.SetItemsProcessed(state.iterations() * runner->getSeqLen());
  state.counters["compile_s"] = runner->getTimings().lowerSeconds +
                                runner->getTimings().jitSeconds;
}

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (argc < 2) {
    llvm::errs() << "usage: sensq-bench-forward [--scalar-baseline] "
                    "MODEL.mlir... [--benchmark_... flags]\n";
    return 2;
  }

  std::vector<std::string> paths;
  bool scalarBaseline = false;
  for (int i = 1; i < argc; ++i) {
    if (llvm::StringRef(argv[i]) == "--scalar-baseline")
      scalarBaseline = true;
    else
      paths.push_back(argv[i]);
  }

  std::vector<std::unique_ptr<ModelRunner>> runners;
  auto addModel = [&](const std::string &path, bool vectorize) -> bool {
    ModelRunnerOptions options;
    options.vectorize = vectorize;
    llvm::Expected<std::unique_ptr<ModelRunner>> runner =
        ModelRunner::fromFile(path, options);
    if (!runner) {
      llvm::errs() << "sensq-bench-forward: "
                   << llvm::toString(runner.takeError()) << "\n";
      return false;
    }
    std::string name = ("forward/" + llvm::sys::path::stem(path) +
                        (vectorize ? "" : "-scalar"))
                           .str();
    benchmark::RegisterBenchmark(name.c_str(), runForward, runner->get())
        ->Unit(benchmark::kMillisecond);
    runners.push_back(std::move(*runner));
    return true;
  };
  for (const std::string &path : paths)
    if (!addModel(path, /*vectorize=*/true))
      return 1;
  if (scalarBaseline && !addModel(paths.front(), /*vectorize=*/false))
    return 1;

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
