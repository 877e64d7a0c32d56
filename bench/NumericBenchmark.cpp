//===- NumericBenchmark.cpp - Speed of the numeric core -------------------===//
//
// Times statistics accumulation and the quantizers on the matrix shapes of
// the stories260K model. Run: build/bench/sensq-bench-numeric.
//
//===----------------------------------------------------------------------===//

#include "sensq/Numeric/ActivationStats.h"
#include "sensq/Numeric/Quantize.h"
#include "sensq/Numeric/Sensitivity.h"

#include "benchmark/benchmark.h"

#include <random>
#include <vector>

using namespace sensq;

static std::vector<float> makeNormal(int64_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(size);
  for (float &value : values)
    value = normal(generator);
  return values;
}

/// Times accumulating 512 tokens of K channels, one forward window of the
/// model.
static void BM_StatsAdd(benchmark::State &state) {
  int64_t k = state.range(0);
  std::vector<float> rows = makeNormal(512 * k, 1);
  for (auto _ : state) {
    ActivationStats stats(k);
    stats.add(rows.data(), 512);
    benchmark::DoNotOptimize(stats.getGram().data());
  }
  state.SetItemsProcessed(state.iterations() * 512);
}
BENCHMARK(BM_StatsAdd)->Arg(64)->Arg(172);

static ActivationStats makeStats(int64_t k) {
  ActivationStats stats(k);
  std::vector<float> rows = makeNormal(512 * k, 2);
  stats.add(rows.data(), 512);
  return stats;
}

/// Times round to nearest, 4 bits, groups of 32, of an [N, K] weight.
static void BM_QuantizeRTN(benchmark::State &state) {
  int64_t n = state.range(0), k = state.range(1);
  std::vector<float> weight = makeNormal(n * k, 3);
  for (auto _ : state) {
    auto result = quantizeRTN(weight, n, k, {4, 32, false});
    if (!result)
      state.SkipWithError(llvm::toString(result.takeError()).c_str());
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_QuantizeRTN)->Args({512, 64})->Args({64, 172})->Args({172, 64});

/// Times the AWQ grid search (21 alphas), 4 bits, groups of 32.
static void BM_QuantizeAWQ(benchmark::State &state) {
  int64_t n = state.range(0), k = state.range(1);
  std::vector<float> weight = makeNormal(n * k, 4);
  ActivationStats stats = makeStats(k);
  std::vector<double> sensitivity =
      computeSensitivity(SensitivityMetric::ActMagnitude, stats);
  for (auto _ : state) {
    auto result = quantizeAWQ(weight, n, k, {4, 32, false}, sensitivity, stats,
                              20);
    if (!result)
      state.SkipWithError(llvm::toString(result.takeError()).c_str());
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_QuantizeAWQ)->Args({512, 64})->Args({64, 172})->Args({172, 64});

BENCHMARK_MAIN();
