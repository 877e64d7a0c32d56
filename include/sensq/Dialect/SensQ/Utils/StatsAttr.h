//===- StatsAttr.h - Activation statistics as attributes --------*- C++ -*-===//

#ifndef SENSQ_DIALECT_SENSQ_UTILS_STATSATTR_H
#define SENSQ_DIALECT_SENSQ_UTILS_STATSATTR_H

#include "sensq/Dialect/SensQ/IR/SensQDialect.h"
#include "sensq/Numeric/ActivationStats.h"

namespace mlir {
namespace sensq {

/// Builds the `#sensq.activation_stats` attribute holding `stats`.
ActivationStatsAttr getActivationStatsAttr(MLIRContext *context,
                                           const ::sensq::ActivationStats &stats);

/// Reads statistics back from the attribute. `name` prefixes error messages.
llvm::Expected<::sensq::ActivationStats>
getActivationStats(ActivationStatsAttr attr, StringRef name);

} // namespace sensq
} // namespace mlir

#endif // SENSQ_DIALECT_SENSQ_UTILS_STATSATTR_H
