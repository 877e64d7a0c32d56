//===- StatsAttr.cpp - Activation statistics as attributes ----------------===//

#include "sensq/Dialect/SensQ/Utils/StatsAttr.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::sensq;

static DenseFPElementsAttr getF64Elements(MLIRContext *context,
                                          ArrayRef<int64_t> shape,
                                          ArrayRef<double> values) {
  auto type = RankedTensorType::get(shape, Float64Type::get(context));
  return cast<DenseFPElementsAttr>(DenseElementsAttr::get(type, values));
}

ActivationStatsAttr
mlir::sensq::getActivationStatsAttr(MLIRContext *context,
                                    const ::sensq::ActivationStats &stats) {
  int64_t k = stats.getNumChannels();
  return ActivationStatsAttr::get(
      context, stats.getCount(), getF64Elements(context, {k}, stats.getAbsSum()),
      getF64Elements(context, {k}, stats.getSqSum()),
      getF64Elements(context, {k, k}, stats.getGram()));
}

llvm::Expected<::sensq::ActivationStats>
mlir::sensq::getActivationStats(ActivationStatsAttr attr, StringRef name) {
  auto values = [](DenseFPElementsAttr elements) {
    return llvm::to_vector(elements.getValues<double>());
  };
  return ::sensq::ActivationStats::fromSums(
      attr.getCount(), values(attr.getAbsSum()), values(attr.getSqSum()),
      values(attr.getGram()), name);
}
