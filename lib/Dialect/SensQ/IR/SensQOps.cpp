//===- SensQOps.cpp - sensq dialect operations ----------------------------===//

#include "sensq/Dialect/SensQ/IR/SensQOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/APFloat.h"

using namespace mlir;
using namespace mlir::sensq;

//===----------------------------------------------------------------------===//
// SensitivityOp
//===----------------------------------------------------------------------===//

LogicalResult SensitivityOp::verify() {
  auto weightType = getWeight().getType();
  auto channelsType = cast<ShapedType>(getChannels().getType());
  if (channelsType.getRank() != 1)
    return emitOpError("expected 'channels' to be 1-D, but got ")
           << channelsType;
  int64_t k = weightType.getDimSize(1);
  if (!ShapedType::isDynamic(k) && channelsType.getDimSize(0) != k)
    return emitOpError("expected ")
           << k << " sensitivity channels to match the weight's input "
           << "channels, but got " << channelsType.getDimSize(0);

  for (auto [index, value] : llvm::enumerate(getChannels().getValues<float>())) {
    if (!std::isfinite(value) || value < 0.0f)
      return emitOpError("expected finite non-negative sensitivities, but "
                         "channel ")
             << index << " is " << value;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizedMatmulOp
//===----------------------------------------------------------------------===//

int64_t QuantizedMatmulOp::getEffectiveGroupSize() {
  int64_t groupSize = static_cast<int64_t>(getGroupSize());
  return groupSize == 0 ? getNumInputChannels() : groupSize;
}

int64_t QuantizedMatmulOp::getNumGroups() {
  return llvm::divideCeil(getNumInputChannels(), getEffectiveGroupSize());
}

LogicalResult QuantizedMatmulOp::verify() {
  auto inputType = getInput().getType();
  auto weightType = getWeight().getType();
  auto scalesType = getScales().getType();
  auto resultType = getResult().getType();
  int64_t bits = static_cast<int64_t>(getBits());

  // Step 1: the weight fixes K, N and the code width.
  if (!weightType.hasStaticShape())
    return emitOpError("expected a statically shaped weight, but got ")
           << weightType;
  int64_t n = weightType.getDimSize(0);
  int64_t k = weightType.getDimSize(1);
  if (weightType.getElementType().getIntOrFloatBitWidth() != bits)
    return emitOpError("expected weight codes of ")
           << bits << " bits to match 'bits', but got "
           << weightType.getElementType();

  // Step 2: input and result agree with the weight.
  if (!ShapedType::isDynamic(inputType.getDimSize(1)) &&
      inputType.getDimSize(1) != k)
    return emitOpError("expected input with ")
           << k << " channels to match the weight's [N, K] = [" << n << ", "
           << k << "], but got " << inputType;
  if (!ShapedType::isDynamic(resultType.getDimSize(1)) &&
      resultType.getDimSize(1) != n)
    return emitOpError("expected result with ")
           << n << " columns, one per output channel, but got " << resultType;
  if (!ShapedType::isDynamic(resultType.getDimSize(0)) &&
      !ShapedType::isDynamic(inputType.getDimSize(0)) &&
      resultType.getDimSize(0) != inputType.getDimSize(0))
    return emitOpError("expected result with ")
           << inputType.getDimSize(0) << " rows like the input, but got "
           << resultType;

  // Step 3: groups.
  int64_t groupSize = static_cast<int64_t>(getGroupSize());
  if (groupSize > k)
    return emitOpError("expected 'group_size' of at most K = ")
           << k << " (or 0 for one group per output channel), but got "
           << groupSize;
  int64_t numGroups = getNumGroups();
  if (scalesType.getDimSize(0) != n || scalesType.getDimSize(1) != numGroups)
    return emitOpError("expected scales of shape ")
           << n << "x" << numGroups << " (N x ceil(K / group_size)), but got "
           << scalesType;

  // Step 4: zero points exist exactly for asymmetric quantization.
  if (getSymmetric() && getZeroPoints())
    return emitOpError("expected no 'zero_points' with 'symmetric', whose "
                       "zero point is 2^(bits-1)");
  if (!getSymmetric() && !getZeroPoints())
    return emitOpError("expected 'zero_points' unless 'symmetric' is set");
  if (Value zeroPoints = getZeroPoints()) {
    auto zpType = cast<RankedTensorType>(zeroPoints.getType());
    if (zpType.getShape() != scalesType.getShape())
      return emitOpError("expected zero points of shape ")
             << n << "x" << numGroups << " like the scales, but got " << zpType;
    if (zpType.getElementType() != weightType.getElementType())
      return emitOpError("expected zero points of type ")
             << weightType.getElementType() << " like the weight codes, but got "
             << zpType.getElementType();
  }

  // Step 5: optional per-input-channel scales.
  if (Value inputScales = getInputScales()) {
    auto type = cast<RankedTensorType>(inputScales.getType());
    if (type.getDimSize(0) != k)
      return emitOpError("expected ")
             << k << " input scales, one per input channel, but got " << type;
  }
  return success();
}

#define GET_OP_CLASSES
#include "sensq/Dialect/SensQ/IR/SensQOps.cpp.inc"
