//===- SensQOps.td - sensq dialect operations --------------*- tablegen -*-===//

#ifndef SENSQ_DIALECT_SENSQ_IR_SENSQOPS_TD
#define SENSQ_DIALECT_SENSQ_IR_SENSQOPS_TD

include "sensq/Dialect/SensQ/IR/SensQBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

class SensQ_Op<string mnemonic, list<Trait> traits = []>
    : Op<SensQ_Dialect, mnemonic, traits>;

def SensQ_F32Matrix : 2DTensorOf<[F32]>;
def SensQ_F32Vector : 1DTensorOf<[F32]>;
def SensQ_UnsignedCodeMatrix : 2DTensorOf<[UI<2>, UI<3>, UI<4>, UI<5>, UI<6>, UI<7>, UI8]>;

//===----------------------------------------------------------------------===//
// SensitivityOp
//===----------------------------------------------------------------------===//

def SensQ_SensitivityOp : SensQ_Op<"sensitivity",
    [Pure, AllTypesMatch<["weight", "result"]>]> {
  let summary = "per-input-channel sensitivity of a matmul weight";
  let description = [{
    Returns `weight` unchanged and records how sensitive the layer output is
    to errors in each of the weight's K input channels. The weight has the
    layout `[N, K]` (output features by input features, as PyTorch and GGUF
    store a linear layer) and `channels` has K non-negative entries. `metric`
    names the quantity:

    * `act_magnitude`: mean |x_j| over the calibration tokens (the activation
      magnitude of AWQ, which is E[||g||^2 x_j^2] under uniform downstream
      gradients, up to the square);
    * `act_second_moment`: mean x_j^2 (the diagonal of X^T X / n, as in
      llama.cpp's importance matrix).

    The op exists so that the metric is computed once, can be printed and
    tested, and then drives scale search and error compensation in later
    passes. It lowers to its operand.

    ```mlir
    %w = arith.constant dense_resource<"blk.0.attn_q.weight"> : tensor<64x64xf32>
    %s = sensq.sensitivity %w metric <act_magnitude>
           channels dense<[...]> : tensor<64xf32> : tensor<64x64xf32>
    %y = linalg.matmul ... ins(%x, %s : ...)
    ```
  }];
  let arguments = (ins
    SensQ_F32Matrix:$weight,
    SensQ_SensitivityMetricAttr:$metric,
    FloatElementsAttr<32>:$channels
  );
  let results = (outs SensQ_F32Matrix:$result);
  let assemblyFormat = [{
    $weight `metric` $metric `channels` $channels attr-dict `:` type($weight)
  }];
  let hasVerifier = 1;
  let hasFolder = 0;
}

//===----------------------------------------------------------------------===//
// QuantizedMatmulOp
//===----------------------------------------------------------------------===//

def SensQ_QuantizedMatmulOp : SensQ_Op<"quantized_matmul",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "matmul with a weight stored as integer codes";
  let description = [{
    Computes `result = input * dequant(weight)^T` for an input of shape
    `[M, K]` and a weight of shape `[N, K]` stored as unsigned `bits`-bit
    codes. Input channels are split into groups of `group_size` consecutive
    channels (`group_size = 0` means one group spanning all K channels, that
    is per-output-channel quantization); when `group_size` does not divide K
    the last group is shorter. With G = ceil(K / group_size) groups,
    `scales` and `zero_points` have shape `[N, G]` and

    ```
    dequant(weight)[n, k] = (weight[n, k] - zp[n, g]) * scales[n, g] / s[k],
    g = k floordiv group_size
    ```

    where `zp` is `zero_points` for asymmetric quantization and the constant
    2^(bits-1) when `symmetric` is set (then `zero_points` is absent), and `s`
    is the optional per-input-channel scale `input_scales` (1 when absent).
    Activation-aware scaling multiplies column k of the weight by s[k] before
    quantization; dividing by s[k] here restores the product x * W^T.

    ```mlir
    %y = sensq.quantized_matmul %x, %codes scales %scales zero_points %zp
           {bits = 4 : i64, group_size = 32 : i64}
           : (tensor<16x172xf32>, tensor<64x172xui4>, tensor<64x6xf32>,
              tensor<64x6xui4>) -> tensor<16x64xf32>
    ```
  }];
  let arguments = (ins
    SensQ_F32Matrix:$input,
    SensQ_UnsignedCodeMatrix:$weight,
    SensQ_F32Matrix:$scales,
    Optional<SensQ_UnsignedCodeMatrix>:$zero_points,
    Optional<SensQ_F32Vector>:$input_scales,
    ConfinedAttr<I64Attr, [IntMinValue<2>, IntMaxValue<8>]>:$bits,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$group_size,
    UnitAttr:$symmetric
  );
  let results = (outs SensQ_F32Matrix:$result);
  let assemblyFormat = [{
    $input `,` $weight `scales` $scales
    (`zero_points` $zero_points^)? (`input_scales` $input_scales^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of input channels K.
    int64_t getNumInputChannels() { return getWeight().getType().getDimSize(1); }
    /// Number of output channels N.
    int64_t getNumOutputChannels() { return getWeight().getType().getDimSize(0); }
    /// Channels per group: `group_size`, or K when `group_size` is 0.
    int64_t getEffectiveGroupSize();
    /// Number of groups G = ceil(K / effective group size).
    int64_t getNumGroups();
  }];
}

#endif // SENSQ_DIALECT_SENSQ_IR_SENSQOPS_TD
