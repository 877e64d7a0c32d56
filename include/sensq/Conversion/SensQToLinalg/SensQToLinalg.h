//===- SensQToLinalg.h - Lower sensq ops to linalg --------------*- C++ -*-===//

#ifndef SENSQ_CONVERSION_SENSQTOLINALG_SENSQTOLINALG_H
#define SENSQ_CONVERSION_SENSQTOLINALG_SENSQTOLINALG_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace sensq {

#define GEN_PASS_DECL_CONVERTSENSQTOLINALG
#include "sensq/Conversion/Passes.h.inc"

/// Adds the patterns lowering `sensq.sensitivity` and
/// `sensq.quantized_matmul` to linalg, tensor and arith.
void populateSensQToLinalgPatterns(RewritePatternSet &patterns);

} // namespace sensq
} // namespace mlir

#endif // SENSQ_CONVERSION_SENSQTOLINALG_SENSQTOLINALG_H
