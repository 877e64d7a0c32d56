//===- ActivationStats.h - Matmul input statistics --------------*- C++ -*-===//
//
// Sufficient statistics of the input X [T, K] of one linear layer y = W x,
// accumulated over calibration tokens in double precision. They determine
// the activation-based sensitivity metrics and the expected output error of
// any weight perturbation dW, E ||dW x||^2 = trace(dW G dW^T) / n with
// G = X^T X.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_NUMERIC_ACTIVATIONSTATS_H
#define SENSQ_NUMERIC_ACTIVATIONSTATS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sensq {

/// Statistics of the K input channels of one matmul over n tokens:
///   count      n
///   absSum[j]  sum over tokens of |x_j|
///   sqSum[j]   sum over tokens of x_j^2
///   gram[i][j] sum over tokens of x_i x_j, the K x K matrix X^T X, stored
///              row-major and kept exactly symmetric
class ActivationStats {
public:
  /// Creates empty statistics (n = 0) for `numChannels` input channels.
  explicit ActivationStats(int64_t numChannels = 0);

  /// Builds statistics from stored sums. Fails when the sizes disagree with
  /// `absSum.size()`, the count is not positive, a value is NaN or infinite,
  /// a sum of |x| or x^2 is negative, or the Gram matrix is not symmetric or
  /// its diagonal differs from `sqSum` (both up to a relative 1e-6). `name`
  /// prefixes error messages.
  static llvm::Expected<ActivationStats>
  fromSums(int64_t count, llvm::ArrayRef<double> absSum,
           llvm::ArrayRef<double> sqSum, llvm::ArrayRef<double> gram,
           llvm::StringRef name = "activation statistics");

  /// Accumulates a row-major [numRows, K] block of float activations, one
  /// token per row. The Gram update is a rank-numRows update in double.
  void add(const float *rows, int64_t numRows);

  /// Adds the statistics of another token set over the same channels.
  /// Fails when the channel counts differ.
  llvm::Error merge(const ActivationStats &other);

  int64_t getNumChannels() const { return numChannels; }
  int64_t getCount() const { return count; }
  llvm::ArrayRef<double> getAbsSum() const { return absSum; }
  llvm::ArrayRef<double> getSqSum() const { return sqSum; }
  /// Row-major K x K matrix X^T X.
  llvm::ArrayRef<double> getGram() const { return gram; }
  double getGram(int64_t i, int64_t j) const {
    return gram[i * numChannels + j];
  }

  /// Per-channel E|x_j| = absSum[j] / n; all zeros when n = 0.
  std::vector<double> getMeanAbs() const;
  /// Per-channel E[x_j^2] = sqSum[j] / n; all zeros when n = 0.
  std::vector<double> getMeanSquare() const;
  /// Second-moment matrix E[x x^T] = X^T X / n, row-major; zeros when n = 0.
  std::vector<double> getMeanGram() const;

  /// Returns true when every accumulated value is finite. Activations that
  /// contain NaN or infinity make this false.
  bool isFinite() const;

private:
  int64_t numChannels;
  int64_t count = 0;
  std::vector<double> absSum;
  std::vector<double> sqSum;
  std::vector<double> gram;
};

/// Statistics per weight name, e.g. "blk.0.ffn_down.weight".
using StatsMap = std::map<std::string, ActivationStats>;

/// Reads a statistics file. It is a safetensors file with metadata
/// {"format": "sensq-activation-stats", "version": "1"} and, for each weight
/// name, the tensors <name>.count (I64 [1]), <name>.abs_sum (F64 [K]),
/// <name>.sq_sum (F64 [K]) and <name>.gram (F64 [K, K]). Fails, naming the
/// file and the layer, on a missing or extra tensor, a wrong dtype or
/// shape, a non-positive count, NaN or infinity, or an asymmetric Gram
/// matrix.
llvm::Expected<StatsMap> readStatsFile(llvm::StringRef path);

/// Writes `stats` in the format readStatsFile reads, through a temporary
/// file renamed over `path`. Fails without touching `path` when a layer has
/// no tokens or non-finite values.
llvm::Error writeStatsFile(llvm::StringRef path, const StatsMap &stats);

/// Adds every layer of `source` into `target`: layers present in both are
/// merged, the others copied. Fails without changing `target` when a layer
/// has different channel counts in the two maps.
llvm::Error mergeStatsMaps(StatsMap &target, const StatsMap &source);

/// Reads several statistics files and merges them into one map. Fails,
/// naming the file and the layer, when the files do not cover the same
/// layers, because such files come from different models.
llvm::Expected<StatsMap> mergeStatsFiles(llvm::ArrayRef<std::string> paths);

} // namespace sensq

#endif // SENSQ_NUMERIC_ACTIVATIONSTATS_H
