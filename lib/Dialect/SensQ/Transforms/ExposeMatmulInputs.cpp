//===- ExposeMatmulInputs.cpp - Return matmul inputs for calibration ------===//
//
// Calibration needs the activations that reach each named matmul. Rather than
// calling back into the runtime from generated code, the entry function
// returns them as extra results: the instrumented module stays in upstream
// dialects and is compiled by the same pipeline as the model itself.
//
//===----------------------------------------------------------------------===//

#include "sensq/Dialect/SensQ/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "sensq/Dialect/SensQ/Utils/WeightMatmul.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "sensq-expose-matmul-inputs"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_SENSQEXPOSEMATMULINPUTS
#include "sensq/Dialect/SensQ/Transforms/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;
using namespace mlir::sensq;

namespace {
struct ExposeMatmulInputsPass
    : public mlir::sensq::impl::SensQExposeMatmulInputsBase<ExposeMatmulInputsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(function);
    if (!func || func.isExternal()) {
      mlir::emitError(module.getLoc()) << "expected a function '" << function
                         << "' with a body to instrument";
      return signalPassFailure();
    }
    if (!llvm::hasSingleElement(func.getBody())) {
      func.emitOpError("expected a single block to instrument");
      return signalPassFailure();
    }

    // Step 1: collect the named matmuls in program order.
    SmallVector<Value> exposed;
    SmallVector<Attribute> names;
    llvm::StringSet<> seen;
    WalkResult walk = func.walk([&](linalg::MatmulOp op) -> WalkResult {
      std::string reason;
      FailureOr<WeightMatmul> matmul = matchWeightMatmul(op, &reason);
      if (failed(matmul) || matmul->name.empty()) {
        LLVM_DEBUG(llvm::dbgs() << "skipping " << op->getLoc() << ": "
                                << (reason.empty() ? "unnamed" : reason)
                                << "\n");
        return WalkResult::advance();
      }
      if (!seen.insert(matmul->name).second) {
        op.emitOpError("expected a unique weight name, but '")
            << matmul->name << "' names more than one matmul";
        return WalkResult::interrupt();
      }
      exposed.push_back(matmul->input);
      names.push_back(StringAttr::get(op.getContext(), matmul->name));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    // Step 2: append them to every return and to the signature.
    auto returnOp = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    SmallVector<Value> results(returnOp.getOperands());
    results.append(exposed);
    OpBuilder builder(returnOp);
    func::ReturnOp::create(builder, returnOp.getLoc(), results);
    returnOp.erase();

    SmallVector<Type> resultTypes(func.getResultTypes());
    for (Value value : exposed)
      resultTypes.push_back(value.getType());
    func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                   resultTypes));
    func->setAttr("sensq.exposed_inputs", builder.getArrayAttr(names));
  }
};
} // namespace
