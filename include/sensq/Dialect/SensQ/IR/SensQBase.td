//===- SensQBase.td - sensq dialect, enums and attributes --*- tablegen -*-===//
//
// The sensq dialect: activation sensitivity of matmul weights and matmuls
// with quantized weights.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_DIALECT_SENSQ_IR_SENSQBASE_TD
#define SENSQ_DIALECT_SENSQ_IR_SENSQBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def SensQ_Dialect : Dialect {
  let name = "sensq";
  let cppNamespace = "::mlir::sensq";
  let summary = "Sensitivity-guided post-training quantization of matmul weights";
  let description = [{
    The `sensq` dialect carries what post-training weight quantization needs
    between analysis and code generation:

    * `sensq.sensitivity` attaches a per-input-channel sensitivity vector to a
      matmul weight, computed from calibration statistics by a named metric;
    * `sensq.quantized_matmul` is a matmul whose weight is stored as integer
      codes with per-channel or per-group scales and zero points.

    Calibration statistics travel as the discardable attribute
    `sensq.activation_stats` on the matmul whose input they describe, and the
    matmul's weight name as the discardable attribute `sensq.weight`.

    Every op lowers to upstream dialects (`linalg`, `tensor`, `arith`), so any
    MLIR compiler can continue from the result.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let extraClassDeclaration = [{
    /// Discardable attribute naming the weight of a matmul, as the importer
    /// writes it (for example "blk.0.ffn_down.weight").
    static constexpr ::llvm::StringLiteral kWeightNameAttrName = "sensq.weight";
    /// Discardable attribute holding a matmul's calibration statistics.
    static constexpr ::llvm::StringLiteral kActivationStatsAttrName =
        "sensq.activation_stats";
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def SensQ_ActMagnitude : I32EnumAttrCase<"ActMagnitude", 0, "act_magnitude">;
def SensQ_ActSecondMoment
    : I32EnumAttrCase<"ActSecondMoment", 1, "act_second_moment">;

def SensQ_SensitivityMetric : I32EnumAttr<"SensitivityMetric",
    "per-input-channel sensitivity metric", [
      SensQ_ActMagnitude, SensQ_ActSecondMoment
    ]> {
  let cppNamespace = "::mlir::sensq";
  let genSpecializedAttr = 0;
}

def SensQ_SensitivityMetricAttr
    : EnumAttr<SensQ_Dialect, SensQ_SensitivityMetric, "metric"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def SensQ_ActivationStatsAttr : AttrDef<SensQ_Dialect, "ActivationStats"> {
  let mnemonic = "activation_stats";
  let summary = "sufficient statistics of a matmul's input activations";
  let description = [{
    Statistics of the K input channels of a matmul, accumulated over `count`
    calibration tokens in double precision: `abs_sum[j] = sum |x_j|`,
    `sq_sum[j] = sum x_j^2` and `gram[i][j] = sum x_i x_j` (X^T X). Sums rather
    than means are stored so that statistics from several runs merge by
    addition.

    ```mlir
    #sensq.activation_stats<count = 128,
        abs_sum = dense<[...]> : tensor<64xf64>,
        sq_sum = dense<[...]> : tensor<64xf64>,
        gram = dense<[...]> : tensor<64x64xf64>>
    ```
  }];
  let parameters = (ins
    "int64_t":$count,
    "::mlir::DenseFPElementsAttr":$abs_sum,
    "::mlir::DenseFPElementsAttr":$sq_sum,
    "::mlir::DenseFPElementsAttr":$gram
  );
  let assemblyFormat = [{
    `<` `count` `=` $count `,` `abs_sum` `=` $abs_sum `,` `sq_sum` `=` $sq_sum
    `,` `gram` `=` $gram `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of input channels K.
    int64_t getNumChannels() const;
  }];
}

#endif // SENSQ_DIALECT_SENSQ_IR_SENSQBASE_TD
