//===- Quantize.h - Weight quantizers ---------------------------*- C++ -*-===//
//
// Round-to-nearest (RTN) and activation-aware (AWQ) weight quantization of
// one linear layer y = W x. W is row-major [N, K]: N output channels (rows),
// K input channels (columns), as PyTorch and GGUF store it. Each row is cut
// into groups of `groupSize` consecutive input channels that share one
// scale and zero point:
//
//   W_hat[n][k] = (code[n][k] - zeroPoint[n][g]) * scale[n][g] / s_k,
//   g = k / groupSize,
//
// where s_k are optional per-input-channel scales (AWQ), 1 when absent.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_NUMERIC_QUANTIZE_H
#define SENSQ_NUMERIC_QUANTIZE_H

#include "sensq/Numeric/ActivationStats.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace sensq {

struct QuantizationConfig {
  /// Bits per code, 2 to 8. Codes are unsigned in [0, 2^bits - 1].
  unsigned bits = 4;
  /// Input channels per group; 0 means one group spanning all K channels
  /// of a row (per-output-channel quantization).
  int64_t groupSize = 0;
  /// Symmetric quantization fixes the zero point at 2^(bits-1); asymmetric
  /// chooses it per group from the group's min and max.
  bool symmetric = false;
};

/// A quantized [rows, cols] weight with unpacked codes, one byte per code.
struct QuantizedMatrix {
  /// N and K.
  int64_t rows = 0, cols = 0;
  /// Effective group size: K when QuantizationConfig::groupSize is 0.
  int64_t groupSize = 0;
  /// ceil(K / groupSize) groups per row; the last group is shorter when
  /// groupSize does not divide K.
  int64_t numGroups = 0;
  unsigned bits = 0;
  bool symmetric = false;
  /// rows * cols codes in [0, 2^bits - 1], row-major.
  std::vector<uint8_t> codes;
  /// rows * numGroups positive scales, row-major.
  std::vector<float> scales;
  /// rows * numGroups zero points in [0, 2^bits - 1]; all 2^(bits-1) when
  /// symmetric.
  std::vector<uint8_t> zeroPoints;
  /// K positive per-input-channel scales s_k that multiplied column k before
  /// quantization; empty when none were applied.
  std::vector<float> inputScales;

  /// Reconstructs W_hat, row-major [rows, cols], in float arithmetic:
  /// float(code - zeroPoint) * scale, then divided by s_k when input scales
  /// are present.
  std::vector<float> dequantize() const;
};

/// Checks `config` against a matrix with `cols` input channels: bits in
/// [2, 8] and groupSize in [0, cols].
llvm::Error validateQuantizationConfig(const QuantizationConfig &config,
                                       int64_t cols);

/// Quantizes `weight` (row-major [rows, cols]) by rounding to the nearest
/// code of each group's grid. With `inputScales` s (K positive finite
/// values) it quantizes W diag(s) and stores s so that dequantize() divides
/// it out. Fails on an invalid config, a size mismatch, or a NaN or
/// infinite weight (the message gives its row and column).
llvm::Expected<QuantizedMatrix>
quantizeRTN(llvm::ArrayRef<float> weight, int64_t rows, int64_t cols,
            const QuantizationConfig &config,
            llvm::ArrayRef<float> inputScales = {});

/// Computes the mean squared output error over the calibration tokens,
///   (1 / n) sum_t ||(W - W_hat) x_t||^2 = trace(dW G dW^T) / n,
/// with G = X^T X from `stats`. `weight` and `approx` are row-major
/// [rows, cols] and stats must cover `cols` channels with n > 0. Returns NaN
/// when these sizes do not match (and asserts in builds with assertions).
double outputError(llvm::ArrayRef<float> weight, llvm::ArrayRef<float> approx,
                   int64_t rows, int64_t cols, const ActivationStats &stats);

/// Computes the AWQ input-channel scales for exponent `alpha`:
/// s_j = S_j^alpha with S_j clamped below at 1e-6 max_j S_j, divided by
/// sqrt(max_j s_j * min_j s_j) so that the scales are centered around 1 on
/// a log scale. All scales are 1 when alpha is 0 or every S_j is 0.
/// `sensitivity` must be non-negative and finite.
std::vector<float> computeAWQScales(llvm::ArrayRef<double> sensitivity,
                                    double alpha);

struct AWQResult {
  /// Quantization at the best alpha. Plain RTN (no input scales) when the
  /// best alpha is 0.
  QuantizedMatrix quantized;
  /// Best exponent, i / gridSize.
  double alpha = 0;
  /// outputError of `quantized`.
  double error = 0;
  /// outputError of plain RTN, the alpha = 0 point of the grid.
  double rtnError = 0;
  /// outputError for each alpha = i / gridSize, i = 0..gridSize, or
  /// infinity where W diag(s) overflowed float.
  std::vector<double> gridErrors;
};

/// Searches the AWQ scale exponent alpha over {0, 1/gridSize, ..., 1}:
/// each candidate quantizes W diag(s(alpha)) by RTN and is scored by
/// its output error against W on `stats`. The smallest error wins, and ties
/// go to the smaller alpha. Because alpha = 0 is plain RTN, the result's
/// error never exceeds RTN's on these statistics. Fails on the quantizeRTN errors,
/// gridSize < 1, a sensitivity vector that is not K non-negative finite
/// values, or statistics over other than K channels or with no tokens.
llvm::Expected<AWQResult>
quantizeAWQ(llvm::ArrayRef<float> weight, int64_t rows, int64_t cols,
            const QuantizationConfig &config,
            llvm::ArrayRef<double> sensitivity, const ActivationStats &stats,
            int64_t gridSize = 20);

} // namespace sensq

#endif // SENSQ_NUMERIC_QUANTIZE_H
