//===- QuantizeTest.cpp - Tests for the RTN and AWQ quantizers ------------===//

#include "sensq/Numeric/Quantize.h"

#include "sensq/Numeric/Sensitivity.h"

#include "gtest/gtest.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace sensq;

namespace {

QuantizedMatrix quantizeOrFail(llvm::ArrayRef<float> weight, int64_t rows,
                               int64_t cols, const QuantizationConfig &config,
                               llvm::ArrayRef<float> inputScales = {}) {
  llvm::Expected<QuantizedMatrix> result =
      quantizeRTN(weight, rows, cols, config, inputScales);
  if (!result) {
    ADD_FAILURE() << llvm::toString(result.takeError());
    return QuantizedMatrix();
  }
  return std::move(*result);
}

std::string rtnError(llvm::ArrayRef<float> weight, int64_t rows, int64_t cols,
                     const QuantizationConfig &config,
                     llvm::ArrayRef<float> inputScales = {}) {
  llvm::Expected<QuantizedMatrix> result =
      quantizeRTN(weight, rows, cols, config, inputScales);
  if (result)
    return "";
  return llvm::toString(result.takeError());
}

std::vector<float> makeNormal(int64_t count, unsigned seed,
                              float stddev = 1.0f) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> values(count);
  for (float &value : values)
    value = normal(generator);
  return values;
}

//===----------------------------------------------------------------------===//
// RTN known results
//===----------------------------------------------------------------------===//

TEST(QuantizeRTNTest, AsymmetricFourBitPerChannel) {
  // Row 0: lo = -1, hi = 2.75, scale = 3.75 / 15 = 0.25, zero point
  // round(1 / 0.25) = 4. Codes: -1 -> -4 + 4 = 0, 0.3 -> round(1.2) + 4 = 5,
  // 0.75 -> 3 + 4 = 7, 2.75 -> 11 + 4 = 15, 0 -> 4.
  // Row 1: lo = min(0.5, 0) = 0, hi = 3.75, scale 0.25, zero point 0.
  std::vector<float> weight = {-1, 0.3f, 0.75f, 2.75f, 0,
                               0.5f, 1, 1.5f, 3.75f, 2};
  QuantizedMatrix q =
      quantizeOrFail(weight, 2, 5, {/*bits=*/4, /*groupSize=*/0, false});
  EXPECT_EQ(q.rows, 2);
  EXPECT_EQ(q.cols, 5);
  EXPECT_EQ(q.groupSize, 5);
  EXPECT_EQ(q.numGroups, 1);
  EXPECT_EQ(q.bits, 4u);
  EXPECT_FALSE(q.symmetric);
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{0, 5, 7, 15, 4, 2, 4, 6, 15, 8}));
  EXPECT_EQ(q.scales, (std::vector<float>{0.25f, 0.25f}));
  EXPECT_EQ(q.zeroPoints, (std::vector<uint8_t>{4, 0}));
  EXPECT_TRUE(q.inputScales.empty());
  EXPECT_EQ(q.dequantize(), (std::vector<float>{-1, 0.25f, 0.75f, 2.75f, 0,
                                                0.5f, 1, 1.5f, 3.75f, 2}));
}

TEST(QuantizeRTNTest, SymmetricFourBitPerChannel) {
  // max |w| = 3.5, scale = 3.5 / 7 = 0.5, zero point 8. Codes:
  // -3.5 -> -7 + 8 = 1, 1 -> 2 + 8 = 10, 0.2 -> round(0.4) + 8 = 8,
  // -0.75 -> round(-1.5) + 8 = 6, 1.75 -> round(3.5) + 8 = 12
  // (halves round away from zero).
  std::vector<float> weight = {-3.5f, 1, 0.2f, -0.75f, 1.75f};
  QuantizedMatrix q = quantizeOrFail(weight, 1, 5, {4, 0, true});
  EXPECT_TRUE(q.symmetric);
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{1, 10, 8, 6, 12}));
  EXPECT_EQ(q.scales, (std::vector<float>{0.5f}));
  EXPECT_EQ(q.zeroPoints, (std::vector<uint8_t>{8}));
  EXPECT_EQ(q.dequantize(),
            (std::vector<float>{-3.5f, 1, 0, -1, 2}));
}

TEST(QuantizeRTNTest, SymmetricEightBit) {
  // max |w| = 127, scale = 127 / 127 = 1, zero point 128.
  std::vector<float> weight = {127, -63.5f, 0.4f, 1.5f, -127};
  QuantizedMatrix q = quantizeOrFail(weight, 1, 5, {8, 0, true});
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{255, 64, 128, 130, 1}));
  EXPECT_EQ(q.scales, (std::vector<float>{1.0f}));
  EXPECT_EQ(q.zeroPoints, (std::vector<uint8_t>{128}));
}

TEST(QuantizeRTNTest, AsymmetricEightBit) {
  // lo = -51, hi = 204, scale = 255 / 255 = 1, zero point 51.
  std::vector<float> weight = {-51, 0, 204, 1.4f, 100.5f};
  QuantizedMatrix q = quantizeOrFail(weight, 1, 5, {8, 0, false});
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{0, 51, 255, 52, 152}));
  EXPECT_EQ(q.scales, (std::vector<float>{1.0f}));
  EXPECT_EQ(q.zeroPoints, (std::vector<uint8_t>{51}));
}

TEST(QuantizeRTNTest, AsymmetricGroupsWithShortLastGroup) {
  // K = 5, group size 2: groups {0, 1}, {2, 3}, {4}.
  // Row 0: group 0 lo = -1.5, hi = 2.25 -> scale 0.25, zero point 6;
  //        group 1 lo = 0, hi = 3.75 -> scale 0.25, zero point 0;
  //        group 2 lo = -3.75, hi = 0 -> scale 0.25, zero point 15.
  // Row 1: groups 0 and 2 are all zero -> scale 1, zero point 0, codes 0;
  //        group 1 lo = -2.25, hi = 1.5 -> scale 0.25, zero point 9.
  std::vector<float> weight = {-1.5f, 2.25f, 0.5f, 3.75f, -3.75f,
                               0,     0,     1.5f, -2.25f, 0};
  QuantizedMatrix q = quantizeOrFail(weight, 2, 5, {4, 2, false});
  EXPECT_EQ(q.groupSize, 2);
  EXPECT_EQ(q.numGroups, 3);
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{0, 15, 2, 15, 0, 0, 0, 15, 0, 0}));
  EXPECT_EQ(q.scales,
            (std::vector<float>{0.25f, 0.25f, 0.25f, 1.0f, 0.25f, 1.0f}));
  EXPECT_EQ(q.zeroPoints, (std::vector<uint8_t>{6, 0, 15, 0, 9, 0}));
  EXPECT_EQ(q.dequantize(), weight);
}

TEST(QuantizeRTNTest, SymmetricGroupsWithZeroGroup) {
  // Group {0, 1}: max |w| = 1.75, scale 0.25 with 4 bits, zero point 8.
  // Group {2, 3}: all zero, so codes equal the zero point 8.
  // Group {4}: max |w| = 7, scale 1.
  std::vector<float> weight = {-1.75f, 0.5f, 0, 0, 7};
  QuantizedMatrix q = quantizeOrFail(weight, 1, 5, {4, 2, true});
  EXPECT_EQ(q.numGroups, 3);
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{1, 10, 8, 8, 15}));
  EXPECT_EQ(q.zeroPoints, (std::vector<uint8_t>{8, 8, 8}));
  EXPECT_EQ(q.scales[0], 0.25f);
  EXPECT_GT(q.scales[1], 0.0f);
  EXPECT_EQ(q.scales[2], 1.0f);
  std::vector<float> dequantized = q.dequantize();
  EXPECT_EQ(dequantized, weight);
  // Exactly +0.0 (no -0.0 or rounding residue) for the zero group.
  EXPECT_FALSE(std::signbit(dequantized[2]));
}

TEST(QuantizeRTNTest, AllZeroMatrix) {
  std::vector<float> weight(6, 0.0f);
  for (bool symmetric : {false, true}) {
    SCOPED_TRACE(symmetric);
    QuantizedMatrix q = quantizeOrFail(weight, 2, 3, {3, 0, symmetric});
    for (size_t i = 0; i < q.codes.size(); ++i)
      EXPECT_EQ(q.codes[i], q.zeroPoints[i / 3]);
    for (float scale : q.scales)
      EXPECT_GT(scale, 0.0f);
    EXPECT_EQ(q.dequantize(), weight);
  }
}

TEST(QuantizeRTNTest, TwoBitSymmetric) {
  // 2 bits: zero point 2, scale = max |w| / 1. Codes lie in [1, 3].
  std::vector<float> weight = {-2, 0.9f, 1.1f, 2};
  QuantizedMatrix q = quantizeOrFail(weight, 1, 4, {2, 0, true});
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{1, 2, 3, 3}));
  EXPECT_EQ(q.scales, (std::vector<float>{2.0f}));
  EXPECT_EQ(q.zeroPoints, (std::vector<uint8_t>{2}));
}

TEST(QuantizeRTNTest, ErrorBoundedByHalfScale) {
  const int64_t rows = 9, cols = 37;
  std::vector<float> weight = makeNormal(rows * cols, 7);
  weight[5] = 0.0f;
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    for (int64_t groupSize : {int64_t(0), int64_t(1), int64_t(8),
                              int64_t(10), cols}) {
      for (bool symmetric : {false, true}) {
        SCOPED_TRACE(testing::Message() << "bits " << bits << " group "
                                        << groupSize << " symmetric "
                                        << symmetric);
        QuantizedMatrix q =
            quantizeOrFail(weight, rows, cols, {bits, groupSize, symmetric});
        std::vector<float> dequantized = q.dequantize();
        uint8_t maxCode = static_cast<uint8_t>((1u << bits) - 1);
        for (int64_t n = 0; n < rows; ++n) {
          for (int64_t k = 0; k < cols; ++k) {
            int64_t group = n * q.numGroups + k / q.groupSize;
            float scale = q.scales[group];
            float error = std::abs(weight[n * cols + k] -
                                   dequantized[n * cols + k]);
            ASSERT_LE(error, 0.5f * scale * (1 + 1e-5f))
                << "row " << n << " column " << k;
            ASSERT_LE(q.codes[n * cols + k], maxCode);
          }
        }
        // Zero stays exactly zero.
        EXPECT_EQ(dequantized[5], 0.0f);
      }
    }
  }
}

TEST(QuantizeRTNTest, InputScalesQuantizeScaledWeight) {
  const int64_t rows = 3, cols = 4;
  std::vector<float> weight = makeNormal(rows * cols, 11);
  std::vector<float> inputScales = {2.0f, 0.5f, 1.0f, 4.0f};
  std::vector<float> scaled = weight;
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t k = 0; k < cols; ++k)
      scaled[n * cols + k] *= inputScales[k];

  QuantizationConfig config{4, 2, false};
  QuantizedMatrix withScales =
      quantizeOrFail(weight, rows, cols, config, inputScales);
  QuantizedMatrix reference = quantizeOrFail(scaled, rows, cols, config);
  EXPECT_EQ(withScales.codes, reference.codes);
  EXPECT_EQ(withScales.scales, reference.scales);
  EXPECT_EQ(withScales.zeroPoints, reference.zeroPoints);
  EXPECT_EQ(withScales.inputScales, inputScales);

  std::vector<float> dequantized = withScales.dequantize();
  std::vector<float> referenceDequantized = reference.dequantize();
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t k = 0; k < cols; ++k)
      EXPECT_EQ(dequantized[n * cols + k],
                referenceDequantized[n * cols + k] / inputScales[k]);
}

TEST(QuantizeRTNTest, InvalidInputsAreRejected) {
  std::vector<float> weight(10, 1.0f);
  EXPECT_NE(rtnError(weight, 2, 5, {1, 0, false}).find("bit width 1"),
            std::string::npos);
  EXPECT_NE(rtnError(weight, 2, 5, {9, 0, false}).find("bit width 9"),
            std::string::npos);
  EXPECT_NE(rtnError(weight, 2, 5, {4, -1, false}).find("group size -1"),
            std::string::npos);
  EXPECT_NE(rtnError(weight, 2, 5, {4, 6, false}).find("group size 6"),
            std::string::npos);
  EXPECT_NE(rtnError(weight, 3, 5, {4, 0, false}).find("10 elements"),
            std::string::npos);
  EXPECT_NE(rtnError(weight, 0, 5, {4, 0, false}).find("[0, 5]"),
            std::string::npos);
  EXPECT_NE(rtnError(weight, 2, 5, {4, 0, false}, {1.0f, 1.0f})
                .find("2 input scales"),
            std::string::npos);
  EXPECT_NE(rtnError(weight, 2, 5, {4, 0, false}, {1, 1, 0, 1, 1})
                .find("input scale 2"),
            std::string::npos);

  std::vector<float> nan = weight;
  nan[1 * 5 + 2] = std::numeric_limits<float>::quiet_NaN();
  std::string nanMessage = rtnError(nan, 2, 5, {4, 0, false});
  EXPECT_NE(nanMessage.find("row 1 column 2"), std::string::npos)
      << nanMessage;

  std::vector<float> inf = weight;
  inf[3] = -std::numeric_limits<float>::infinity();
  std::string infMessage = rtnError(inf, 2, 5, {4, 0, true});
  EXPECT_NE(infMessage.find("row 0 column 3"), std::string::npos)
      << infMessage;

  std::vector<float> huge(10, 3e38f);
  std::string overflow =
      rtnError(huge, 2, 5, {4, 0, false}, {1, 1, 1, 1, 10});
  EXPECT_NE(overflow.find("row 0 column 4"), std::string::npos) << overflow;
}

//===----------------------------------------------------------------------===//
// Output error
//===----------------------------------------------------------------------===//

TEST(OutputErrorTest, MatchesBruteForceOverTokens) {
  const int64_t rows = 3, cols = 5, tokens = 7;
  std::vector<float> weight = makeNormal(rows * cols, 21);
  std::vector<float> noise = makeNormal(rows * cols, 22, 0.1f);
  std::vector<float> approx = weight;
  for (size_t i = 0; i < approx.size(); ++i)
    approx[i] += noise[i];
  std::vector<float> activations = makeNormal(tokens * cols, 23, 2.0f);
  ActivationStats stats(cols);
  stats.add(activations.data(), tokens);

  double expected = 0.0;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t n = 0; n < rows; ++n) {
      double dot = 0.0;
      for (int64_t k = 0; k < cols; ++k)
        dot += (static_cast<double>(weight[n * cols + k]) -
                approx[n * cols + k]) *
               activations[t * cols + k];
      expected += dot * dot;
    }
  }
  expected /= tokens;

  double actual = outputError(weight, approx, rows, cols, stats);
  EXPECT_NEAR(actual, expected, 1e-12 * expected);
  EXPECT_EQ(outputError(weight, weight, rows, cols, stats), 0.0);
}

//===----------------------------------------------------------------------===//
// AWQ
//===----------------------------------------------------------------------===//

TEST(AWQScalesTest, KnownAnswers) {
  // S = [1, 4, 16], alpha = 0.5: S^alpha = [1, 2, 4], divided by
  // sqrt(4 * 1) = 2.
  EXPECT_EQ(computeAWQScales({1, 4, 16}, 0.5),
            (std::vector<float>{0.5f, 1.0f, 2.0f}));
  EXPECT_EQ(computeAWQScales({1, 4, 16}, 0.0),
            (std::vector<float>{1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(computeAWQScales({0, 0}, 1.0), (std::vector<float>{1.0f, 1.0f}));

  // A dead channel is clamped to 1e-6 of the maximum: raw [1e-6, 1],
  // divided by sqrt(1e-6) = 1e-3.
  std::vector<float> clamped = computeAWQScales({0, 1}, 1.0);
  ASSERT_EQ(clamped.size(), 2u);
  EXPECT_NEAR(clamped[0], 1e-3f, 1e-9f);
  EXPECT_NEAR(clamped[1], 1e3f, 1e-3f);
}

/// Activations where channel `hot` is `factor` times larger than the others.
ActivationStats makeSkewedStats(int64_t tokens, int64_t cols, int64_t hot,
                                float factor, unsigned seed) {
  std::vector<float> activations = makeNormal(tokens * cols, seed);
  for (int64_t t = 0; t < tokens; ++t)
    activations[t * cols + hot] *= factor;
  ActivationStats stats(cols);
  stats.add(activations.data(), tokens);
  return stats;
}

TEST(QuantizeAWQTest, AlphaZeroIsRTN) {
  const int64_t rows = 6, cols = 12;
  std::vector<float> weight = makeNormal(rows * cols, 31);
  ActivationStats stats = makeSkewedStats(64, cols, 3, 10.0f, 32);
  std::vector<double> sensitivity =
      computeSensitivity(SensitivityMetric::ActMagnitude, stats);
  QuantizationConfig config{4, 4, false};

  llvm::Expected<AWQResult> awq =
      quantizeAWQ(weight, rows, cols, config, sensitivity, stats, 10);
  ASSERT_TRUE(bool(awq)) << llvm::toString(awq.takeError());
  QuantizedMatrix rtn = quantizeOrFail(weight, rows, cols, config);
  double rtnOutputError =
      outputError(weight, rtn.dequantize(), rows, cols, stats);

  ASSERT_EQ(awq->gridErrors.size(), 11u);
  EXPECT_EQ(awq->gridErrors[0], rtnOutputError);
  EXPECT_EQ(awq->rtnError, rtnOutputError);
  EXPECT_LE(awq->error, awq->rtnError);
  for (double error : awq->gridErrors)
    EXPECT_LE(awq->error, error);
  EXPECT_EQ(awq->error,
            outputError(weight, awq->quantized.dequantize(), rows, cols,
                        stats));
}

TEST(QuantizeAWQTest, UniformSensitivityKeepsRTN) {
  // Equal sensitivities normalize to s = 1 for every alpha, so every grid
  // point ties with RTN and the tie goes to alpha = 0.
  const int64_t rows = 4, cols = 8;
  std::vector<float> weight = makeNormal(rows * cols, 41);
  ActivationStats stats = makeSkewedStats(32, cols, 0, 1.0f, 42);
  std::vector<double> sensitivity(cols, 0.7);
  QuantizationConfig config{3, 0, true};

  llvm::Expected<AWQResult> awq =
      quantizeAWQ(weight, rows, cols, config, sensitivity, stats, 4);
  ASSERT_TRUE(bool(awq)) << llvm::toString(awq.takeError());
  QuantizedMatrix rtn = quantizeOrFail(weight, rows, cols, config);
  EXPECT_EQ(awq->alpha, 0.0);
  EXPECT_EQ(awq->error, awq->rtnError);
  EXPECT_TRUE(awq->quantized.inputScales.empty());
  EXPECT_EQ(awq->quantized.codes, rtn.codes);
  EXPECT_EQ(awq->quantized.scales, rtn.scales);
  EXPECT_EQ(awq->quantized.zeroPoints, rtn.zeroPoints);
}

TEST(QuantizeAWQTest, ScalesUpHighActivationChannel) {
  // Per-row 3-bit grids are set by the large weights, so the small weights
  // of channel 0 round to 0 or 1 step. Channel 0 carries activations 30x
  // larger than the others, so its rounding error dominates the output
  // error. Scaling channel 0 up puts its weights on a finer relative grid.
  const int64_t rows = 16, cols = 32, hot = 0;
  std::vector<float> weight = makeNormal(rows * cols, 51);
  for (int64_t n = 0; n < rows; ++n)
    weight[n * cols + hot] *= 0.15f;
  ActivationStats stats = makeSkewedStats(256, cols, hot, 30.0f, 52);
  std::vector<double> sensitivity =
      computeSensitivity(SensitivityMetric::ActMagnitude, stats);

  llvm::Expected<AWQResult> awq = quantizeAWQ(
      weight, rows, cols, {3, 0, false}, sensitivity, stats, 20);
  ASSERT_TRUE(bool(awq)) << llvm::toString(awq.takeError());
  EXPECT_GT(awq->alpha, 0.0);
  EXPECT_LT(awq->error, 0.5 * awq->rtnError);
  ASSERT_EQ(awq->quantized.inputScales.size(), static_cast<size_t>(cols));
  for (int64_t k = 1; k < cols; ++k)
    EXPECT_GT(awq->quantized.inputScales[hot], awq->quantized.inputScales[k]);
}

TEST(QuantizeAWQTest, InvalidInputsAreRejected) {
  const int64_t rows = 2, cols = 3;
  std::vector<float> weight(rows * cols, 1.0f);
  std::vector<float> activations = {1, 2, 3};
  ActivationStats stats(cols);
  stats.add(activations.data(), 1);
  std::vector<double> sensitivity = {1, 2, 3};
  QuantizationConfig config{4, 0, false};

  auto message = [&](llvm::Expected<AWQResult> result) {
    if (result)
      return std::string();
    return llvm::toString(result.takeError());
  };
  EXPECT_NE(message(quantizeAWQ(weight, rows, cols, config, sensitivity,
                                stats, 0))
                .find("grid size 0"),
            std::string::npos);
  EXPECT_NE(message(quantizeAWQ(weight, rows, cols, config, {1, 2}, stats, 4))
                .find("sensitivity has 2 entries"),
            std::string::npos);
  EXPECT_NE(message(quantizeAWQ(weight, rows, cols, config, {1, -2, 3}, stats,
                                4))
                .find("input channel 1"),
            std::string::npos);
  ActivationStats wrongWidth(4);
  wrongWidth.add(std::vector<float>{1, 2, 3, 4}.data(), 1);
  EXPECT_NE(message(quantizeAWQ(weight, rows, cols, config, sensitivity,
                                wrongWidth, 4))
                .find("cover 4 channels"),
            std::string::npos);
  ActivationStats empty(cols);
  EXPECT_NE(message(quantizeAWQ(weight, rows, cols, config, sensitivity,
                                empty, 4))
                .find("no tokens"),
            std::string::npos);
  EXPECT_NE(message(quantizeAWQ(weight, rows, cols, {12, 0, false},
                                sensitivity, stats, 4))
                .find("bit width 12"),
            std::string::npos);
}

TEST(QuantizeAWQTest, ModelSizedSearchNoWorseThanRTN) {
  // The largest matrix shapes of the stories260K model, with groups of 32
  // that do not divide K = 172. The search time is measured by
  // bench/sensq-bench-quantize, not here.
  struct Shape {
    int64_t rows, cols;
  };
  for (Shape shape : {Shape{512, 64}, Shape{64, 172}}) {
    std::vector<float> weight = makeNormal(shape.rows * shape.cols, 61);
    ActivationStats stats = makeSkewedStats(512, shape.cols, 1, 8.0f, 62);
    std::vector<double> sensitivity =
        computeSensitivity(SensitivityMetric::ActMagnitude, stats);
    llvm::Expected<AWQResult> awq = quantizeAWQ(
        weight, shape.rows, shape.cols, {4, 32, false}, sensitivity, stats,
        20);
    ASSERT_TRUE(bool(awq)) << llvm::toString(awq.takeError());
    EXPECT_LE(awq->error, awq->rtnError);
    EXPECT_EQ(awq->quantized.numGroups, llvm::divideCeil(shape.cols, 32));
  }
}

} // namespace
