//===- DistinctResultBuffers.cpp - One allocation per returned buffer -----===//
//
// buffer-results-to-out-params replaces a returned allocation by an output
// parameter and expects each result to be a distinct allocation made in the
// function. This pass copies every other returned buffer into such an
// allocation.
//
//===----------------------------------------------------------------------===//

#include "sensq/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallPtrSet.h"

#define DEBUG_TYPE "sensq-distinct-result-buffers"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQDISTINCTRESULTBUFFERS
#include "sensq/Pipelines/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;

namespace {

struct DistinctResultBuffersPass
    : public sensq::impl::SensQDistinctResultBuffersBase<
          DistinctResultBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    func.walk([&](func::ReturnOp ret) {
      OpBuilder builder(ret);
      llvm::SmallPtrSet<Value, 8> returned;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        auto type = dyn_cast<MemRefType>(value.getType());
        if (!type)
          continue;
        bool isOwnAlloc = value.getDefiningOp<memref::AllocOp>() != nullptr;
        if (returned.insert(value).second && isOwnAlloc)
          continue;
        // A copy needs a static identity-layout type to allocate.
        if (!type.hasStaticShape() || !type.getLayout().isIdentity())
          continue;
        auto copy = memref::AllocOp::create(builder, ret.getLoc(), type);
        memref::CopyOp::create(builder, ret.getLoc(), value, copy);
        operand.set(copy);
      }
    });
  }
};

} // namespace
