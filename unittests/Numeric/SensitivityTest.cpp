//===- SensitivityTest.cpp - Tests for sensitivity metrics ----------------===//

#include "sensq/Numeric/Sensitivity.h"

#include "gtest/gtest.h"

#include <vector>

using namespace sensq;

namespace {

// X = [[1, -2], [3, 4], [-5, 6]]: E|x| = [3, 4], E[x^2] = [35/3, 56/3].
ActivationStats makeKnownStats() {
  std::vector<float> rows = {1, -2, 3, 4, -5, 6};
  ActivationStats stats(2);
  stats.add(rows.data(), 3);
  return stats;
}

TEST(SensitivityTest, ActMagnitudeIsMeanAbs) {
  EXPECT_EQ(computeSensitivity(SensitivityMetric::ActMagnitude,
                               makeKnownStats()),
            (std::vector<double>{3, 4}));
}

TEST(SensitivityTest, ActSecondMomentIsMeanSquare) {
  EXPECT_EQ(computeSensitivity(SensitivityMetric::ActSecondMoment,
                               makeKnownStats()),
            (std::vector<double>{35.0 / 3, 56.0 / 3}));
}

TEST(SensitivityTest, InputsOverloadMatches) {
  ActivationStats stats = makeKnownStats();
  SensitivityInputs inputs;
  inputs.activations = &stats;
  llvm::Expected<std::vector<double>> scores =
      computeSensitivity(SensitivityMetric::ActSecondMoment, inputs);
  ASSERT_TRUE(bool(scores)) << llvm::toString(scores.takeError());
  EXPECT_EQ(*scores, (std::vector<double>{35.0 / 3, 56.0 / 3}));
}

TEST(SensitivityTest, MissingOrEmptyStatsAreRejected) {
  SensitivityInputs none;
  llvm::Expected<std::vector<double>> missing =
      computeSensitivity(SensitivityMetric::ActMagnitude, none);
  ASSERT_FALSE(bool(missing));
  std::string message = llvm::toString(missing.takeError());
  EXPECT_NE(message.find("'act-magnitude'"), std::string::npos) << message;

  ActivationStats empty(4);
  SensitivityInputs emptyInputs;
  emptyInputs.activations = &empty;
  llvm::Expected<std::vector<double>> noTokens =
      computeSensitivity(SensitivityMetric::ActSecondMoment, emptyInputs);
  ASSERT_FALSE(bool(noTokens));
  llvm::consumeError(noTokens.takeError());
}

TEST(SensitivityTest, MetricNamesRoundTrip) {
  for (SensitivityMetric metric :
       {SensitivityMetric::ActMagnitude, SensitivityMetric::ActSecondMoment}) {
    std::optional<SensitivityMetric> parsed =
        parseSensitivityMetric(getSensitivityMetricName(metric));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, metric);
  }
  EXPECT_EQ(getSensitivityMetricName(SensitivityMetric::ActMagnitude),
            "act-magnitude");
  EXPECT_EQ(getSensitivityMetricName(SensitivityMetric::ActSecondMoment),
            "act-second-moment");
  EXPECT_FALSE(parseSensitivityMetric("fisher").has_value());
}

} // namespace
