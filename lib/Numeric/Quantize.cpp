//===- Quantize.cpp - Weight quantizers -----------------------------------===//

#include "sensq/Numeric/Quantize.h"

#include "llvm/Support/FormatVariadic.h"

#include <Eigen/Core>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

using namespace sensq;
using llvm::Error;
using llvm::Expected;

namespace {

constexpr unsigned kMinBits = 2;
constexpr unsigned kMaxBits = 8;

/// AWQ clamps the sensitivity of each channel to at least this fraction of
/// the maximum, so channels that never activate get a small positive scale
/// instead of 0 (which would zero their weights).
constexpr double kMinRelativeSensitivity = 1e-6;

Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

Error validateShape(size_t weightSize, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return makeError(llvm::formatv("weight shape [{0}, {1}] is invalid; "
                                   "expected positive rows and columns",
                                   rows, cols));
  if (rows > std::numeric_limits<int64_t>::max() / cols)
    return makeError(llvm::formatv("weight shape [{0}, {1}] has more "
                                   "elements than fit in 64 bits",
                                   rows, cols));
  if (static_cast<int64_t>(weightSize) != rows * cols)
    return makeError(llvm::formatv("weight has {0} elements; expected "
                                   "{1} x {2} = {3}",
                                   weightSize, rows, cols, rows * cols));
  return Error::success();
}

/// Grid parameters of one group.
struct GroupGrid {
  float scale;
  uint8_t zeroPoint;
};

// Asymmetric grid. An unsigned b-bit code q in [0, Q], Q = 2^b - 1,
// represents w = (q - z) s. Mapping q = 0 to lo and q = Q to hi gives
//   s = (hi - lo) / Q  and  z = -lo / s.
// z is rounded to an integer so that w = 0 has the exact code z, which
// keeps zeros (padding, pruned weights) exact. The range is widened to
// include 0, lo = min(min w, 0) and hi = max(max w, 0), so that
// -lo / s lies in [0, Q] and the rounded z is a valid code. Rounding z
// shifts the grid by at most s/2, so values at the ends clip by at most
// s/2 and every element stays within s/2 of its reconstruction.
GroupGrid computeAsymmetricGrid(double lo, double hi, unsigned bits) {
  const double maxCode = static_cast<double>((1u << bits) - 1);
  float scale = static_cast<float>((hi - lo) / maxCode);
  if (!(scale > 0.0f))
    return {1.0f, 0};
  double zeroPoint = std::round(-lo / static_cast<double>(scale));
  zeroPoint = std::clamp(zeroPoint, 0.0, maxCode);
  return {scale, static_cast<uint8_t>(zeroPoint)};
}

// Symmetric grid. The zero point is fixed at the middle code z = 2^(b-1),
// so q - z spans [-2^(b-1), 2^(b-1) - 1]. Using only the symmetric part
// [-(2^(b-1) - 1), 2^(b-1) - 1] makes the grid symmetric about 0, and
// mapping max |w| to its end gives s = max |w| / (2^(b-1) - 1). Code 0 is
// then never produced, and every element is within s/2 of its
// reconstruction.
GroupGrid computeSymmetricGrid(double maxAbs, unsigned bits) {
  const uint8_t zeroPoint = static_cast<uint8_t>(1u << (bits - 1));
  const double maxLevel = static_cast<double>((1u << (bits - 1)) - 1);
  float scale = static_cast<float>(maxAbs / maxLevel);
  if (!(scale > 0.0f))
    return {1.0f, zeroPoint};
  return {scale, zeroPoint};
}

/// Rounds w / s to the nearest integer with halves away from zero (the
/// std::round convention), shifts by the zero point and clamps to
/// [0, 2^b - 1]. The branch-free form (truncate, then test the exact
/// fraction) ran about twice as fast as std::round, a libm call at the
/// default x86-64 target, in a micro-benchmark on random weights.
uint8_t encode(float value, const GroupGrid &grid, unsigned bits) {
  const double maxCode = static_cast<double>((1u << bits) - 1);
  double quotient =
      static_cast<double>(value) / static_cast<double>(grid.scale);
  double truncated = std::trunc(quotient);
  double fraction = quotient - truncated;
  double rounded = truncated + static_cast<double>(fraction >= 0.5) -
                   static_cast<double>(fraction <= -0.5);
  return static_cast<uint8_t>(
      std::clamp(rounded + grid.zeroPoint, 0.0, maxCode));
}

} // namespace

std::vector<float> QuantizedMatrix::dequantize() const {
  std::vector<float> result(rows * cols);
  for (int64_t n = 0; n < rows; ++n) {
    for (int64_t g = 0; g < numGroups; ++g) {
      int64_t begin = g * groupSize;
      int64_t end = std::min(begin + groupSize, cols);
      int zeroPoint = zeroPoints[n * numGroups + g];
      float scale = scales[n * numGroups + g];
      for (int64_t k = begin; k < end; ++k) {
        int code = codes[n * cols + k];
        result[n * cols + k] = static_cast<float>(code - zeroPoint) * scale;
      }
    }
  }
  if (!inputScales.empty())
    for (int64_t n = 0; n < rows; ++n)
      for (int64_t k = 0; k < cols; ++k)
        result[n * cols + k] /= inputScales[k];
  return result;
}

Error sensq::validateQuantizationConfig(const QuantizationConfig &config,
                                        int64_t cols) {
  if (config.bits < kMinBits || config.bits > kMaxBits)
    return makeError(llvm::formatv("quantization bit width {0} is out of "
                                   "range; expected {1} to {2}",
                                   config.bits, kMinBits, kMaxBits));
  if (config.groupSize < 0)
    return makeError(llvm::formatv("group size {0} is negative; expected 0 "
                                   "(one group per row) or 1 to {1}",
                                   config.groupSize, cols));
  if (config.groupSize > cols)
    return makeError(llvm::formatv("group size {0} is larger than the {1} "
                                   "input channels; expected 0 (one group "
                                   "per row) or 1 to {1}",
                                   config.groupSize, cols));
  return Error::success();
}

Expected<QuantizedMatrix>
sensq::quantizeRTN(llvm::ArrayRef<float> weight, int64_t rows, int64_t cols,
                   const QuantizationConfig &config,
                   llvm::ArrayRef<float> inputScales) {
  if (Error err = validateShape(weight.size(), rows, cols))
    return std::move(err);
  if (Error err = validateQuantizationConfig(config, cols))
    return std::move(err);
  if (!inputScales.empty()) {
    if (static_cast<int64_t>(inputScales.size()) != cols)
      return makeError(llvm::formatv("{0} input scales given; expected one "
                                     "per input channel ({1})",
                                     inputScales.size(), cols));
    for (int64_t k = 0; k < cols; ++k)
      if (!std::isfinite(inputScales[k]) || !(inputScales[k] > 0.0f))
        return makeError(llvm::formatv("input scale {0} is {1}; expected a "
                                       "positive finite value",
                                       k, inputScales[k]));
  }
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t k = 0; k < cols; ++k)
      if (!std::isfinite(weight[n * cols + k]))
        return makeError(llvm::formatv("weight row {0} column {1} is {2}; "
                                       "expected a finite value",
                                       n, k, weight[n * cols + k]));

  QuantizedMatrix result;
  result.rows = rows;
  result.cols = cols;
  result.groupSize = config.groupSize == 0 ? cols : config.groupSize;
  result.numGroups = (cols + result.groupSize - 1) / result.groupSize;
  result.bits = config.bits;
  result.symmetric = config.symmetric;
  result.codes.resize(rows * cols);
  result.scales.resize(rows * result.numGroups);
  result.zeroPoints.resize(rows * result.numGroups);
  result.inputScales.assign(inputScales.begin(), inputScales.end());

  // W' = W diag(s): column k multiplied by s_k in float, the precision the
  // dequantized weights are used in.
  std::vector<float> scaled(weight.begin(), weight.end());
  if (!inputScales.empty()) {
    for (int64_t n = 0; n < rows; ++n) {
      for (int64_t k = 0; k < cols; ++k) {
        float &value = scaled[n * cols + k];
        value *= inputScales[k];
        if (!std::isfinite(value))
          return makeError(llvm::formatv(
              "weight row {0} column {1} times input scale {2} overflows to "
              "{3}; expected a finite value",
              n, k, inputScales[k], value));
      }
    }
  }

  for (int64_t n = 0; n < rows; ++n) {
    for (int64_t g = 0; g < result.numGroups; ++g) {
      int64_t begin = g * result.groupSize;
      int64_t end = std::min(begin + result.groupSize, cols);
      const float *values = scaled.data() + n * cols;

      GroupGrid grid;
      if (config.symmetric) {
        double maxAbs = 0.0;
        for (int64_t k = begin; k < end; ++k)
          maxAbs = std::max(maxAbs, std::abs(static_cast<double>(values[k])));
        grid = computeSymmetricGrid(maxAbs, config.bits);
      } else {
        double lo = 0.0, hi = 0.0;
        for (int64_t k = begin; k < end; ++k) {
          lo = std::min(lo, static_cast<double>(values[k]));
          hi = std::max(hi, static_cast<double>(values[k]));
        }
        grid = computeAsymmetricGrid(lo, hi, config.bits);
      }

      result.scales[n * result.numGroups + g] = grid.scale;
      result.zeroPoints[n * result.numGroups + g] = grid.zeroPoint;
      for (int64_t k = begin; k < end; ++k)
        result.codes[n * cols + k] = encode(values[k], grid, config.bits);
    }
  }
  return result;
}

double sensq::outputError(llvm::ArrayRef<float> weight,
                          llvm::ArrayRef<float> approx, int64_t rows,
                          int64_t cols, const ActivationStats &stats) {
  bool valid = rows > 0 && cols > 0 &&
               static_cast<int64_t>(weight.size()) == rows * cols &&
               static_cast<int64_t>(approx.size()) == rows * cols &&
               stats.getNumChannels() == cols && stats.getCount() > 0;
  assert(valid && "outputError: sizes of weight, approximation and "
                  "statistics do not match or the statistics are empty");
  if (!valid)
    return std::numeric_limits<double>::quiet_NaN();

  using RowMajorFloat =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMajorFloat> w(weight.data(), rows, cols);
  Eigen::Map<const RowMajorFloat> wHat(approx.data(), rows, cols);
  Eigen::Map<const Eigen::MatrixXd> gram(stats.getGram().data(), cols, cols);

  // trace(dW G dW^T) = <G, dW^T dW>, the elementwise product summed. The
  // symmetric K x K product dW^T dW takes N K^2 / 2 multiply-adds as a
  // rank-N update of its lower triangle, half of forming dW G directly.
  Eigen::MatrixXd delta = (w - wHat).cast<double>();
  Eigen::MatrixXd deltaGram = Eigen::MatrixXd::Zero(cols, cols);
  deltaGram.selfadjointView<Eigen::Lower>().rankUpdate(delta.transpose());
  double total = 0.0;
  for (int64_t j = 0; j < cols; ++j) {
    total += gram(j, j) * deltaGram(j, j);
    for (int64_t i = j + 1; i < cols; ++i)
      total += 2.0 * gram(i, j) * deltaGram(i, j);
  }
  // G is positive semidefinite, so a negative total is rounding noise.
  return std::max(total, 0.0) / static_cast<double>(stats.getCount());
}

std::vector<float> sensq::computeAWQScales(llvm::ArrayRef<double> sensitivity,
                                           double alpha) {
  std::vector<float> scales(sensitivity.size(), 1.0f);
  double maxSensitivity = 0.0;
  for (double value : sensitivity)
    maxSensitivity = std::max(maxSensitivity, value);
  if (alpha == 0.0 || !(maxSensitivity > 0.0))
    return scales;

  double floor = kMinRelativeSensitivity * maxSensitivity;
  std::vector<double> raw(sensitivity.size());
  double maxScale = 0.0, minScale = std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < sensitivity.size(); ++j) {
    raw[j] = std::pow(std::max(sensitivity[j], floor), alpha);
    maxScale = std::max(maxScale, raw[j]);
    minScale = std::min(minScale, raw[j]);
  }
  // Dividing by the geometric mean of the extremes keeps the scales near 1
  // whatever the units of the sensitivity, so W diag(s) stays in the range
  // of W.
  double normalizer = std::sqrt(maxScale * minScale);
  for (size_t j = 0; j < sensitivity.size(); ++j)
    scales[j] = static_cast<float>(raw[j] / normalizer);
  return scales;
}

// The search follows AWQ (Lin et al., 2023, "AWQ: Activation-aware Weight
// Quantization for LLM Compression and Acceleration", arXiv:2306.00978).
// Scaling input channel j of W up by s_j before quantization, and dividing
// the activation (here, the dequantized weight) by s_j, leaves W x
// unchanged. It shrinks the relative rounding error of the salient
// channels. The
// scales are s = S^alpha for activation statistics S, with alpha found by
// grid search on the output error. AWQ measures that error by running the
// layer on calibration activations; the Gram matrix gives the same mean
// squared error without the tokens.
Expected<AWQResult>
sensq::quantizeAWQ(llvm::ArrayRef<float> weight, int64_t rows, int64_t cols,
                   const QuantizationConfig &config,
                   llvm::ArrayRef<double> sensitivity,
                   const ActivationStats &stats, int64_t gridSize) {
  if (Error err = validateShape(weight.size(), rows, cols))
    return std::move(err);
  if (gridSize < 1)
    return makeError(llvm::formatv("AWQ grid size {0} is invalid; expected "
                                   "at least 1 step",
                                   gridSize));
  if (static_cast<int64_t>(sensitivity.size()) != cols)
    return makeError(llvm::formatv("sensitivity has {0} entries; expected "
                                   "one per input channel ({1})",
                                   sensitivity.size(), cols));
  for (int64_t j = 0; j < cols; ++j)
    if (!std::isfinite(sensitivity[j]) || sensitivity[j] < 0.0)
      return makeError(llvm::formatv("sensitivity of input channel {0} is "
                                     "{1}; expected a non-negative finite "
                                     "value",
                                     j, sensitivity[j]));
  if (stats.getNumChannels() != cols)
    return makeError(llvm::formatv("activation statistics cover {0} "
                                   "channels; expected {1} input channels",
                                   stats.getNumChannels(), cols));
  if (stats.getCount() <= 0)
    return makeError("activation statistics contain no tokens; expected at "
                     "least one calibration token");

  Expected<QuantizedMatrix> rtn = quantizeRTN(weight, rows, cols, config);
  if (!rtn)
    return rtn.takeError();

  AWQResult result;
  result.rtnError = outputError(weight, rtn->dequantize(), rows, cols, stats);
  result.gridErrors.push_back(result.rtnError);
  result.error = result.rtnError;
  result.alpha = 0.0;
  result.quantized = std::move(*rtn);

  for (int64_t i = 1; i <= gridSize; ++i) {
    double alpha = static_cast<double>(i) / static_cast<double>(gridSize);
    std::vector<float> scales = computeAWQScales(sensitivity, alpha);
    Expected<QuantizedMatrix> candidate =
        quantizeRTN(weight, rows, cols, config, scales);
    // The plain RTN call above validated everything else, so a failure here
    // means W diag(s) overflowed float, and this alpha is skipped.
    if (!candidate) {
      llvm::consumeError(candidate.takeError());
      result.gridErrors.push_back(std::numeric_limits<double>::infinity());
      continue;
    }
    double error =
        outputError(weight, candidate->dequantize(), rows, cols, stats);
    result.gridErrors.push_back(error);
    if (error < result.error) {
      result.error = error;
      result.alpha = alpha;
      result.quantized = std::move(*candidate);
    }
  }
  return result;
}
