//===- SensQOps.h - sensq dialect operations --------------------*- C++ -*-===//

#ifndef SENSQ_DIALECT_SENSQ_IR_SENSQOPS_H
#define SENSQ_DIALECT_SENSQ_IR_SENSQOPS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "sensq/Dialect/SensQ/IR/SensQDialect.h"

#define GET_OP_CLASSES
#include "sensq/Dialect/SensQ/IR/SensQOps.h.inc"

#endif // SENSQ_DIALECT_SENSQ_IR_SENSQOPS_H
