//===- WeightMatmul.cpp - Matching matmuls with a weight operand ----------===//

#include "sensq/Dialect/SensQ/Utils/WeightMatmul.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "sensq/Dialect/SensQ/IR/SensQDialect.h"
#include "sensq/Dialect/SensQ/IR/SensQOps.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::sensq;

int64_t WeightMatmul::getNumInputChannels() const {
  return cast<RankedTensorType>(weight.getType()).getDimSize(1);
}

int64_t WeightMatmul::getNumOutputChannels() const {
  return cast<RankedTensorType>(weight.getType()).getDimSize(0);
}

SmallVector<AffineMap> mlir::sensq::getTransposedBMatmulMaps(MLIRContext *ctx) {
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  return {AffineMap::get(3, 0, {m, k}, ctx), AffineMap::get(3, 0, {n, k}, ctx),
          AffineMap::get(3, 0, {m, n}, ctx)};
}

FailureOr<WeightMatmul> mlir::sensq::matchWeightMatmul(linalg::MatmulOp op,
                                                       std::string *reason) {
  auto fail = [&](const Twine &message) -> FailureOr<WeightMatmul> {
    if (reason)
      *reason = message.str();
    return failure();
  };

  if (!op.hasPureTensorSemantics())
    return fail("expected tensor operands");
  if (op.getIndexingMapsArray() != getTransposedBMatmulMaps(op.getContext()))
    return fail("expected the transposed-B form x * W^T");

  Value input = op.getDpsInputOperand(0)->get();
  Value weight = op.getDpsInputOperand(1)->get();
  auto inputType = dyn_cast<RankedTensorType>(input.getType());
  auto weightType = dyn_cast<RankedTensorType>(weight.getType());
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!inputType || !weightType || !resultType ||
      !inputType.getElementType().isF32() ||
      !weightType.getElementType().isF32() ||
      !resultType.getElementType().isF32())
    return fail("expected f32 input, weight and result");
  if (!weightType.hasStaticShape())
    return fail("expected a statically shaped weight");

  WeightMatmul match;
  match.op = op;
  match.input = input;
  match.weight = weight;
  match.init = op.getDpsInitOperand(0)->get();
  if (auto name = op->getAttrOfType<StringAttr>(
          SensQDialect::kWeightNameAttrName))
    match.name = name.getValue();
  return match;
}

std::optional<std::vector<float>>
mlir::sensq::getConstantWeightValues(Value weight) {
  if (auto sensitivity = weight.getDefiningOp<SensitivityOp>())
    weight = sensitivity.getWeight();
  Attribute value;
  if (!matchPattern(weight, m_Constant(&value)))
    return std::nullopt;

  if (auto elements = dyn_cast<DenseFPElementsAttr>(value)) {
    if (!elements.getElementType().isF32())
      return std::nullopt;
    auto values = elements.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(value)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data)
      return std::nullopt;
    return std::vector<float>(data->begin(), data->end());
  }
  return std::nullopt;
}

LogicalResult mlir::sensq::verifyWeightNames(Operation *root,
                                             ArrayRef<std::string> names,
                                             StringRef optionName) {
  if (names.empty())
    return success();
  llvm::StringSet<> known;
  root->walk([&](linalg::MatmulOp op) {
    if (auto name = op->getAttrOfType<StringAttr>(
            SensQDialect::kWeightNameAttrName))
      known.insert(name.getValue());
  });

  for (const std::string &name : names) {
    if (known.contains(name))
      continue;
    InFlightDiagnostic diag = emitError(root->getLoc())
                              << "'" << optionName << "' lists '" << name
                              << "', which names no matmul";
    StringRef closest;
    unsigned closestDistance = ~0u;
    for (const auto &entry : known) {
      unsigned distance = StringRef(name).edit_distance(entry.getKey());
      if (distance < closestDistance) {
        closest = entry.getKey();
        closestDistance = distance;
      }
    }
    // Suggest only a near miss; a distant name would mislead.
    unsigned maxDistance = std::max<unsigned>(2, name.size() / 3);
    if (known.empty())
      diag << "; the module has no matmul with a 'sensq.weight' name";
    else if (closestDistance <= maxDistance)
      diag << "; did you mean '" << closest << "'?";
    else
      diag << "; expected a 'sensq.weight' name such as '" << closest << "'";
    return failure();
  }
  return success();
}
