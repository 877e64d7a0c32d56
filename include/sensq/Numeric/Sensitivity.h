//===- Sensitivity.h - Per-channel sensitivity metrics ----------*- C++ -*-===//
//
// A sensitivity metric scores how much the layer output y = W x changes
// when the weights of one input channel j (column j of W) are perturbed.
// Quantization protects the highest-scoring channels, for example through
// the AWQ per-channel scales in Quantize.h.
//
// First-order model: perturbing column j by dW_{:,j} changes the loss by
// about g^T dW_{:,j} x_j, where g = dL/dy is the output gradient. Its
// expected square, averaged over tokens and over perturbation directions
// of fixed norm, is proportional to
//
//   S_j = E[ ||g||^2 x_j^2 ].
//
// If g is independent of x and E||g||^2 is the same for every token, then
// S_j = E||g||^2 E[x_j^2], so the ranking of channels depends only on the
// second moment E[x_j^2]. That is ActSecondMoment, the diagonal of
// X^T X / n, which llama.cpp collects as its importance matrix. AWQ ranks
// channels by the mean magnitude E|x_j| instead (ActMagnitude). This first
// moment is a cheaper proxy that rare large values dominate less. It orders
// channels like E[x_j^2] whenever x_j = c_j z for one shared distribution
// of z, because then E|x_j| = c_j E|z| and E[x_j^2] = c_j^2 E[z^2].
//
// Later metrics extend SensitivityMetric and SensitivityInputs. The
// empirical Fisher diagonal E[g_i^2 x_j^2] needs output-gradient
// statistics. The GPTQ Hessian diagonal 2 G_jj / n needs only the Gram
// matrix. OBD (w_ij^2 H_jj / 2) and OBS (w_ij^2 / [H^-1]_jj) also need the
// weights and score each weight rather than each channel.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_NUMERIC_SENSITIVITY_H
#define SENSQ_NUMERIC_SENSITIVITY_H

#include "sensq/Numeric/ActivationStats.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <vector>

namespace sensq {

enum class SensitivityMetric {
  /// E|x_j|, the activation magnitude AWQ scales by.
  ActMagnitude,
  /// E[x_j^2], the diagonal of X^T X / n (llama.cpp's importance matrix).
  ActSecondMoment,
};

/// Returns the command-line spelling: "act-magnitude" or
/// "act-second-moment".
llvm::StringRef getSensitivityMetricName(SensitivityMetric metric);

/// Parses a command-line spelling returned by getSensitivityMetricName.
std::optional<SensitivityMetric>
parseSensitivityMetric(llvm::StringRef name);

/// Data a metric may use. The activation-only metrics read `activations`;
/// later metrics add gradient statistics or the weight here.
struct SensitivityInputs {
  const ActivationStats *activations = nullptr;
};

/// Computes one non-negative score per input channel (K scores). Fails when
/// an input the metric needs is missing or contains no tokens.
llvm::Expected<std::vector<double>>
computeSensitivity(SensitivityMetric metric, const SensitivityInputs &inputs);

/// Computes an activation-only metric. Returns all zeros when `stats`
/// contains no tokens.
std::vector<double> computeSensitivity(SensitivityMetric metric,
                                       const ActivationStats &stats);

} // namespace sensq

#endif // SENSQ_NUMERIC_SENSITIVITY_H
