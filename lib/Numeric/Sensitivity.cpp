//===- Sensitivity.cpp - Per-channel sensitivity metrics ------------------===//

#include "sensq/Numeric/Sensitivity.h"

using namespace sensq;

llvm::StringRef sensq::getSensitivityMetricName(SensitivityMetric metric) {
  switch (metric) {
  case SensitivityMetric::ActMagnitude:
    return "act-magnitude";
  case SensitivityMetric::ActSecondMoment:
    return "act-second-moment";
  }
  llvm_unreachable("unknown sensitivity metric");
}

std::optional<SensitivityMetric>
sensq::parseSensitivityMetric(llvm::StringRef name) {
  for (SensitivityMetric metric :
       {SensitivityMetric::ActMagnitude, SensitivityMetric::ActSecondMoment})
    if (name == getSensitivityMetricName(metric))
      return metric;
  return std::nullopt;
}

std::vector<double> sensq::computeSensitivity(SensitivityMetric metric,
                                              const ActivationStats &stats) {
  switch (metric) {
  case SensitivityMetric::ActMagnitude:
    return stats.getMeanAbs();
  case SensitivityMetric::ActSecondMoment:
    return stats.getMeanSquare();
  }
  llvm_unreachable("unknown sensitivity metric");
}

llvm::Expected<std::vector<double>>
sensq::computeSensitivity(SensitivityMetric metric,
                          const SensitivityInputs &inputs) {
  llvm::StringRef name = getSensitivityMetricName(metric);
  if (!inputs.activations)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "sensitivity metric '%s' needs activation statistics; none were "
        "given",
        name.str().c_str());
  if (inputs.activations->getCount() <= 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "sensitivity metric '%s' needs activation statistics of at least one "
        "token; the statistics are empty",
        name.str().c_str());
  return computeSensitivity(metric, *inputs.activations);
}
