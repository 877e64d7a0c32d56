//===- SensQDialect.h - sensq dialect ---------------------------*- C++ -*-===//

#ifndef SENSQ_DIALECT_SENSQ_IR_SENSQDIALECT_H
#define SENSQ_DIALECT_SENSQ_IR_SENSQDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "sensq/Dialect/SensQ/IR/SensQOpsDialect.h.inc"

#include "sensq/Dialect/SensQ/IR/SensQEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "sensq/Dialect/SensQ/IR/SensQAttrs.h.inc"

#endif // SENSQ_DIALECT_SENSQ_IR_SENSQDIALECT_H
