//===- SensQToLinalg.cpp - Lower sensq ops to linalg ----------------------===//

#include "sensq/Conversion/SensQToLinalg/SensQToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "sensq/Dialect/SensQ/IR/SensQDialect.h"
#include "sensq/Dialect/SensQ/IR/SensQOps.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "convert-sensq-to-linalg"

namespace mlir {
namespace sensq {
#define GEN_PASS_DEF_CONVERTSENSQTOLINALG
#include "sensq/Conversion/Passes.h.inc"
} // namespace sensq
} // namespace mlir

using namespace mlir;
using namespace mlir::sensq;

namespace {

/// Packing geometry of a quantized weight of shape [N, K].
struct PackedLayout {
  int64_t n, k, bits;
  /// Channels per group and number of groups G.
  int64_t groupSize, numGroups;
  /// Codes per byte, 8 / bits.
  int64_t codesPerByte;
  /// Bytes per group, ceil(groupSize / codesPerByte).
  int64_t bytesPerGroup;

  PackedLayout(QuantizedMatmulOp op)
      : n(op.getNumOutputChannels()), k(op.getNumInputChannels()),
        bits(static_cast<int64_t>(op.getBits())),
        groupSize(op.getEffectiveGroupSize()), numGroups(op.getNumGroups()),
        codesPerByte(8 / bits),
        bytesPerGroup(llvm::divideCeil(groupSize, codesPerByte)) {}

  /// Channels per group after padding to whole bytes.
  int64_t paddedGroupSize() const { return bytesPerGroup * codesPerByte; }
};

/// Returns the integer values of a constant of unsigned codes, or failure.
static FailureOr<SmallVector<uint8_t>> getConstantCodes(Value value) {
  DenseIntElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return failure();
  SmallVector<uint8_t> codes;
  codes.reserve(attr.getNumElements());
  for (const APInt &code : attr.getValues<APInt>())
    codes.push_back(static_cast<uint8_t>(code.getZExtValue()));
  return codes;
}

/// Returns the values of a constant f32 tensor, or failure.
static FailureOr<SmallVector<float>> getConstantFloats(Value value) {
  DenseFPElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return failure();
  return llvm::to_vector(attr.getValues<float>());
}

/// Transposes a row-major [N, G] table to [G, N].
template <typename T>
static SmallVector<T> transposeTable(ArrayRef<T> table, int64_t n, int64_t g) {
  SmallVector<T> result(table.size());
  for (int64_t row = 0; row < n; ++row)
    for (int64_t group = 0; group < g; ++group)
      result[group * n + row] = table[row * g + group];
  return result;
}

/// Packs codes [N, K] into bytes [G, P, N]. Byte (g, p, n) contains the codes
/// of channels k = g * groupSize + p * codesPerByte + h for
/// h = 0..codesPerByte-1, code h in bits [h * bits, (h + 1) * bits).
/// Positions past the end of a group or of K contain the group's zero point,
/// so they dequantize to zero.
static SmallVector<int8_t> packCodes(const PackedLayout &layout,
                                     ArrayRef<uint8_t> codes,
                                     ArrayRef<uint8_t> zeroPoints) {
  SmallVector<int8_t> packed(layout.numGroups * layout.bytesPerGroup * layout.n);
  for (int64_t row = 0; row < layout.n; ++row) {
    for (int64_t group = 0; group < layout.numGroups; ++group) {
      int64_t groupBegin = group * layout.groupSize;
      int64_t groupEnd = std::min(groupBegin + layout.groupSize, layout.k);
      uint8_t zeroPoint = zeroPoints[row * layout.numGroups + group];
      for (int64_t byte = 0; byte < layout.bytesPerGroup; ++byte) {
        unsigned value = 0;
        for (int64_t h = 0; h < layout.codesPerByte; ++h) {
          int64_t channel = groupBegin + byte * layout.codesPerByte + h;
          unsigned code = channel < groupEnd ? codes[row * layout.k + channel]
                                             : zeroPoint;
          value |= code << (h * layout.bits);
        }
        packed[(group * layout.bytesPerGroup + byte) * layout.n + row] =
            static_cast<int8_t>(static_cast<uint8_t>(value));
      }
    }
  }
  return packed;
}

/// Creates an `arith.constant` of the given shape and element type.
template <typename T>
static Value createConstant(OpBuilder &builder, Location loc,
                            ArrayRef<int64_t> shape, Type elementType,
                            ArrayRef<T> values) {
  auto type = RankedTensorType::get(shape, elementType);
  return arith::ConstantOp::create(builder, loc, type,
                                   DenseElementsAttr::get(type, values));
}

/// Replaces `sensq.sensitivity` by the weight it annotates.
struct LowerSensitivity : public OpConversionPattern<SensitivityOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SensitivityOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getWeight());
    return success();
  }
};

/// Lowers `sensq.quantized_matmul` with constant operands to a
/// `linalg.generic` that dequantizes in its body.
struct LowerQuantizedMatmul : public OpConversionPattern<QuantizedMatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizedMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PackedLayout layout(op);
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type f32 = rewriter.getF32Type();
    Type i8 = rewriter.getI8Type();
    Type i32 = rewriter.getI32Type();

    // Step 1: read the constant operands.
    FailureOr<SmallVector<uint8_t>> codes = getConstantCodes(op.getWeight());
    if (failed(codes))
      return rewriter.notifyMatchFailure(op, "expected constant weight codes");
    FailureOr<SmallVector<float>> scales = getConstantFloats(op.getScales());
    if (failed(scales))
      return rewriter.notifyMatchFailure(op, "expected constant scales");
    SmallVector<uint8_t> zeroPoints(layout.n * layout.numGroups,
                                    uint8_t(1u << (layout.bits - 1)));
    if (Value zp = op.getZeroPoints()) {
      FailureOr<SmallVector<uint8_t>> values = getConstantCodes(zp);
      if (failed(values))
        return rewriter.notifyMatchFailure(op,
                                           "expected constant zero points");
      zeroPoints = std::move(*values);
    }
    std::optional<SmallVector<float>> inputScales;
    if (Value s = op.getInputScales()) {
      FailureOr<SmallVector<float>> values = getConstantFloats(s);
      if (failed(values))
        return rewriter.notifyMatchFailure(op,
                                           "expected constant input scales");
      inputScales = std::move(*values);
    }

    // Step 2: build the packed constants. Scales and zero points are
    // transposed to [G, N] like the codes.
    Value packed = createConstant<int8_t>(
        rewriter, loc, {layout.numGroups, layout.bytesPerGroup, layout.n}, i8,
        packCodes(layout, *codes, zeroPoints));
    Value scaleTable = createConstant<float>(
        rewriter, loc, {layout.numGroups, layout.n}, f32,
        transposeTable<float>(*scales, layout.n, layout.numGroups));
    SmallVector<int8_t> zeroPointBytes;
    for (uint8_t zp : transposeTable<uint8_t>(zeroPoints, layout.n,
                                              layout.numGroups))
      zeroPointBytes.push_back(static_cast<int8_t>(zp));
    Value zeroPointTable = createConstant<int8_t>(
        rewriter, loc, {layout.numGroups, layout.n}, i8, zeroPointBytes);

    // Step 3: prepare the input: divide by the per-input-channel scales,
    // pad to whole groups of whole bytes, reshape to [M, G, P, codesPerByte].
    Value input = adaptor.getInput();
    if (inputScales) {
      SmallVector<float> reciprocal;
      for (float s : *inputScales)
        reciprocal.push_back(1.0f / s);
      input = scaleInputChannels(rewriter, loc, input, reciprocal);
    }
    input = padAndReshapeInput(rewriter, loc, input, layout);

    // Step 4: the matmul with the dequantization in its body. Loops are
    // (m, g, p, h, n): n innermost matches the [G, P, N] code layout.
    Value init = createZeroInit(rewriter, loc, op);
    AffineExpr m, g, p, h, n;
    bindDims(ctx, m, g, p, h, n);
    SmallVector<AffineMap> maps = {
        AffineMap::get(5, 0, {m, g, p, h}, ctx),
        AffineMap::get(5, 0, {g, p, n}, ctx),
        AffineMap::get(5, 0, {g, n}, ctx),
        AffineMap::get(5, 0, {g, n}, ctx),
        AffineMap::get(5, 0, {m, n}, ctx)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::reduction,
        utils::IteratorType::reduction, utils::IteratorType::reduction,
        utils::IteratorType::parallel};
    int64_t bits = layout.bits;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(),
        ValueRange{input, packed, scaleTable, zeroPointTable}, ValueRange{init},
        maps, iterators,
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          // code = (byte >> (bits * h)) & (2^bits - 1), in i32 so the byte is
          // read as unsigned.
          Value byte = arith::ExtUIOp::create(b, bodyLoc, i32, args[1]);
          Value index = linalg::IndexOp::create(b, bodyLoc, 3);
          Value position =
              arith::IndexCastOp::create(b, bodyLoc, i32, index);
          Value shift = arith::MulIOp::create(
              b, bodyLoc, position,
              arith::ConstantIntOp::create(b, bodyLoc, i32, bits));
          Value shifted = arith::ShRUIOp::create(b, bodyLoc, byte, shift);
          Value code = arith::AndIOp::create(
              b, bodyLoc, shifted,
              arith::ConstantIntOp::create(b, bodyLoc, i32, (1 << bits) - 1));
          // w = (code - zero point) * scale; acc += x * w.
          Value zeroPoint = arith::ExtUIOp::create(b, bodyLoc, i32, args[3]);
          Value centered = arith::SubIOp::create(b, bodyLoc, code, zeroPoint);
          Value weight = arith::MulFOp::create(
              b, bodyLoc, arith::SIToFPOp::create(b, bodyLoc, f32, centered),
              args[2]);
          Value product = arith::MulFOp::create(b, bodyLoc, args[0], weight);
          Value sum = arith::AddFOp::create(b, bodyLoc, args[4], product);
          linalg::YieldOp::create(b, bodyLoc, sum);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

private:
  /// Returns x * diag(reciprocal) for x of shape [M, K].
  static Value scaleInputChannels(OpBuilder &builder, Location loc, Value input,
                                  ArrayRef<float> reciprocal) {
    auto type = cast<RankedTensorType>(input.getType());
    MLIRContext *ctx = builder.getContext();
    Value factors = createConstant<float>(
        builder, loc, {type.getDimSize(1)}, builder.getF32Type(), reciprocal);
    SmallVector<Value> dynamicSizes;
    if (type.isDynamicDim(0))
      dynamicSizes.push_back(tensor::DimOp::create(builder, loc, input, 0));
    Value empty = tensor::EmptyOp::create(builder, loc, type.getShape(),
                                          type.getElementType(), dynamicSizes);
    AffineExpr m, k;
    bindDims(ctx, m, k);
    SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {m, k}, ctx),
                                   AffineMap::get(2, 0, {k}, ctx),
                                   AffineMap::get(2, 0, {m, k}, ctx)};
    SmallVector<utils::IteratorType> iterators(2,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        builder, loc, type, ValueRange{input, factors}, ValueRange{empty}, maps,
        iterators, [](OpBuilder &b, Location bodyLoc, ValueRange args) {
          linalg::YieldOp::create(
              b, bodyLoc, arith::MulFOp::create(b, bodyLoc, args[0], args[1])
                              .getResult());
        });
    return generic.getResult(0);
  }

  /// Pads x [M, K] with zeros to G whole groups of whole bytes and reshapes it
  /// to [M, G, P, codesPerByte].
  static Value padAndReshapeInput(OpBuilder &builder, Location loc, Value input,
                                  const PackedLayout &layout) {
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rows = type.getDimSize(0);
    Type f32 = builder.getF32Type();
    Value zero = arith::ConstantOp::create(builder, loc, builder.getF32FloatAttr(0.0f));

    // Pad K to G * groupSize so that every group, the last one included, is
    // whole.
    int64_t wholeK = layout.numGroups * layout.groupSize;
    Value padded = input;
    if (wholeK != layout.k) {
      auto paddedType = RankedTensorType::get({rows, wholeK}, f32);
      padded = padHigh(builder, loc, paddedType, input, {0, wholeK - layout.k},
                       zero);
    }
    auto grouped = tensor::ExpandShapeOp::create(
        builder, loc,
        RankedTensorType::get({rows, layout.numGroups, layout.groupSize}, f32),
        padded, SmallVector<ReassociationIndices>{{0}, {1, 2}},
        getMixedOutputShape(builder, loc, input,
                            {rows, layout.numGroups, layout.groupSize}));

    // Pad each group to whole bytes when codesPerByte does not divide the
    // group size (for example a group of 5 channels with 4-bit codes).
    Value whole = grouped;
    int64_t paddedGroup = layout.paddedGroupSize();
    if (paddedGroup != layout.groupSize) {
      whole = padHigh(
          builder, loc,
          RankedTensorType::get({rows, layout.numGroups, paddedGroup}, f32),
          grouped, {0, 0, paddedGroup - layout.groupSize}, zero);
    }
    return tensor::ExpandShapeOp::create(
        builder, loc,
        RankedTensorType::get({rows, layout.numGroups, layout.bytesPerGroup,
                               layout.codesPerByte},
                              f32),
        whole, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}},
        getMixedOutputShape(builder, loc, input,
                            {rows, layout.numGroups, layout.bytesPerGroup,
                             layout.codesPerByte}));
  }

  /// Pads `source` with `value` after the end of each dimension.
  static Value padHigh(OpBuilder &builder, Location loc,
                       RankedTensorType resultType, Value source,
                       ArrayRef<int64_t> high, Value value) {
    SmallVector<OpFoldResult> lowSizes(high.size(), builder.getIndexAttr(0));
    SmallVector<OpFoldResult> highSizes;
    for (int64_t size : high)
      highSizes.push_back(builder.getIndexAttr(size));
    return tensor::PadOp::create(builder, loc, resultType, source, lowSizes,
                                 highSizes, value);
  }

  /// Returns the output shape of an expand_shape whose leading dimension is
  /// the (possibly dynamic) row count of `input`.
  static SmallVector<OpFoldResult> getMixedOutputShape(OpBuilder &builder,
                                                       Location loc, Value input,
                                                       ArrayRef<int64_t> shape) {
    SmallVector<OpFoldResult> result;
    for (int64_t size : shape)
      result.push_back(builder.getIndexAttr(size));
    if (ShapedType::isDynamic(shape[0]))
      result[0] = tensor::DimOp::create(builder, loc, input, 0).getResult();
    return result;
  }

  /// Returns a zero-filled [M, N] accumulator.
  static Value createZeroInit(OpBuilder &builder, Location loc,
                              QuantizedMatmulOp op) {
    auto type = op.getResult().getType();
    SmallVector<Value> dynamicSizes;
    if (type.isDynamicDim(0))
      dynamicSizes.push_back(
          tensor::DimOp::create(builder, loc, op.getInput(), 0));
    Value empty = tensor::EmptyOp::create(builder, loc, type.getShape(),
                                          type.getElementType(), dynamicSizes);
    Value zero = arith::ConstantOp::create(builder, loc,
                                           builder.getF32FloatAttr(0.0f));
    return linalg::FillOp::create(builder, loc, zero, empty).getResult(0);
  }
};

struct ConvertSensQToLinalgPass
    : public mlir::sensq::impl::ConvertSensQToLinalgBase<ConvertSensQToLinalgPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<SensQDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });

    RewritePatternSet patterns(&getContext());
    populateSensQToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();

    // Statistics are only read by the sensq passes; dropping them leaves IR
    // that parses without the sensq dialect.
    getOperation()->walk([](Operation *op) {
      op->removeAttr(SensQDialect::kActivationStatsAttrName);
    });
  }
};

} // namespace

void mlir::sensq::populateSensQToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerSensitivity, LowerQuantizedMatmul>(patterns.getContext());
}
