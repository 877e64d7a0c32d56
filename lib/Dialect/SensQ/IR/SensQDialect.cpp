//===- SensQDialect.cpp - sensq dialect -----------------------------------===//

#include "sensq/Dialect/SensQ/IR/SensQDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "sensq/Dialect/SensQ/IR/SensQOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::sensq;

#include "sensq/Dialect/SensQ/IR/SensQOpsDialect.cpp.inc"

#include "sensq/Dialect/SensQ/IR/SensQEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "sensq/Dialect/SensQ/IR/SensQAttrs.cpp.inc"

void SensQDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "sensq/Dialect/SensQ/IR/SensQOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "sensq/Dialect/SensQ/IR/SensQAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// ActivationStatsAttr
//===----------------------------------------------------------------------===//

int64_t ActivationStatsAttr::getNumChannels() const {
  return getAbsSum().getType().getDimSize(0);
}

/// Returns failure unless `attr` is a static f64 tensor of `rank` dimensions.
static LogicalResult
verifyF64Tensor(function_ref<InFlightDiagnostic()> emitError,
                DenseFPElementsAttr attr, StringRef name, int64_t rank) {
  auto type = attr.getType();
  if (!type.getElementType().isF64() || type.getRank() != rank ||
      !type.hasStaticShape())
    return emitError() << "expected '" << name << "' to be a static " << rank
                       << "-D tensor of f64, but got " << type;
  return success();
}

LogicalResult
ActivationStatsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            int64_t count, DenseFPElementsAttr absSum,
                            DenseFPElementsAttr sqSum,
                            DenseFPElementsAttr gram) {
  if (count <= 0)
    return emitError() << "expected a positive token count, but got " << count;
  if (failed(verifyF64Tensor(emitError, absSum, "abs_sum", 1)) ||
      failed(verifyF64Tensor(emitError, sqSum, "sq_sum", 1)) ||
      failed(verifyF64Tensor(emitError, gram, "gram", 2)))
    return failure();

  int64_t k = absSum.getType().getDimSize(0);
  if (sqSum.getType().getDimSize(0) != k)
    return emitError() << "expected 'sq_sum' to have " << k
                       << " channels like 'abs_sum', but got "
                       << sqSum.getType().getDimSize(0);
  if (gram.getType().getDimSize(0) != k || gram.getType().getDimSize(1) != k)
    return emitError() << "expected 'gram' of shape " << k << "x" << k
                       << ", but got " << gram.getType();
  return success();
}
