//===- Passes.h - sensq conversion passes -----------------------*- C++ -*-===//

#ifndef SENSQ_CONVERSION_PASSES_H
#define SENSQ_CONVERSION_PASSES_H

#include "sensq/Conversion/SensQToLinalg/SensQToLinalg.h"

namespace mlir {
namespace sensq {

#define GEN_PASS_REGISTRATION
#include "sensq/Conversion/Passes.h.inc"

} // namespace sensq
} // namespace mlir

#endif // SENSQ_CONVERSION_PASSES_H
