//===- Passes.td - sensq transformation passes -------------*- tablegen -*-===//

#ifndef SENSQ_DIALECT_SENSQ_TRANSFORMS_PASSES_TD
#define SENSQ_DIALECT_SENSQ_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SensQAttachStats : Pass<"sensq-attach-stats", "ModuleOp"> {
  let summary = "Attach calibration statistics to the matmuls they describe";
  let description = [{
    Reads a statistics file written by `sensq-run calibrate` (safetensors with
    `<name>.count`, `<name>.abs_sum`, `<name>.sq_sum` and `<name>.gram` per
    weight name) and attaches the statistics of each matmul's input as the
    attribute `sensq.activation_stats`. A matmul is identified by the
    `sensq.weight` attribute the importer puts on it.

    Every named matmul with a constant weight must have statistics of the
    right shape unless it is listed in `skip`; otherwise the pass fails and
    names the matmul.
  }];
  let options = [
    Option<"statsFile", "stats", "std::string", /*default=*/"",
           "Path of the safetensors statistics file (required)">,
    ListOption<"skip", "skip", "std::string",
               "Comma-separated weight names to leave without statistics "
               "(default: none)">
  ];
  let dependentDialects = ["::mlir::sensq::SensQDialect"];
}

def SensQComputeSensitivity
    : Pass<"sensq-compute-sensitivity", "ModuleOp"> {
  let summary = "Compute per-input-channel weight sensitivity from statistics";
  let description = [{
    For every matmul carrying `sensq.activation_stats`, wraps its constant
    weight in `sensq.sensitivity` holding the chosen metric, one value per
    input channel.
  }];
  let options = [
    Option<"metric", "metric", "::mlir::sensq::SensitivityMetric",
           /*default=*/"::mlir::sensq::SensitivityMetric::ActMagnitude",
           "Sensitivity metric (default: act-magnitude)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::sensq::SensitivityMetric::ActMagnitude,
                        "act-magnitude", "mean |x_j|, as AWQ"),
             clEnumValN(::mlir::sensq::SensitivityMetric::ActSecondMoment,
                        "act-second-moment",
                        "mean x_j^2, as llama.cpp's importance matrix"))}]>
  ];
  let dependentDialects = ["::mlir::sensq::SensQDialect"];
}

def SensQQuantizeWeights : Pass<"sensq-quantize-weights", "ModuleOp"> {
  let summary = "Quantize constant matmul weights into sensq.quantized_matmul";
  let description = [{
    Replaces every `linalg.matmul` that computes `x * W^T` with a constant
    weight W (optionally wrapped in `sensq.sensitivity`) by
    `sensq.quantized_matmul` with constant codes, scales and zero points.

    * `rtn` rounds each weight to the nearest level of its group's grid.
    * `awq` scales input channel j by s_j = S_j^alpha, where S is the
      sensitivity attached by `sensq-compute-sensitivity`, and quantizes
      W diag(s) by round to nearest. It keeps the alpha from an evenly spaced
      grid on [0, 1] that minimizes the layer's output error on the
      calibration statistics. Because alpha = 0 is plain round to nearest,
      AWQ never does worse than RTN on that error.

    Matmuls listed in `skip` stay in float.
  }];
  let options = [
    Option<"method", "method", "::mlir::sensq::QuantMethod",
           /*default=*/"::mlir::sensq::QuantMethod::RTN",
           "Quantization method (default: rtn)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::sensq::QuantMethod::RTN, "rtn",
                        "round to nearest"),
             clEnumValN(::mlir::sensq::QuantMethod::AWQ, "awq",
                        "activation-aware scale search, then round to nearest"))}]>,
    Option<"bits", "bits", "int64_t", /*default=*/"4",
           "Bits per weight code, 2 to 8 (default: 4)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"32",
           "Input channels per group; 0 quantizes each output channel as one "
           "group (default: 32)">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"false",
           "Use a zero point of 2^(bits-1) instead of a fitted one "
           "(default: false)">,
    Option<"gridSize", "grid-size", "int64_t", /*default=*/"20",
           "Number of alpha steps searched by awq, alpha = i / grid-size for "
           "i = 0..grid-size (default: 20)">,
    ListOption<"skip", "skip", "std::string",
               "Comma-separated weight names to leave in float "
               "(default: none)">
  ];
  let dependentDialects = [
    "::mlir::sensq::SensQDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def SensQExposeMatmulInputs
    : Pass<"sensq-expose-matmul-inputs", "ModuleOp"> {
  let summary = "Return the input of every named matmul from the entry function";
  let description = [{
    Instruments a model for calibration: each `linalg.matmul` in `function`
    that carries `sensq.weight` has its input tensor appended to the
    function's results, and the function gets the attribute
    `sensq.exposed_inputs`, an array of the weight names in result order.
    The calibration runtime executes the instrumented function and
    accumulates statistics from these results.
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "Name of the entry function (default: forward)">
  ];
  let dependentDialects = ["::mlir::sensq::SensQDialect"];
}

#endif // SENSQ_DIALECT_SENSQ_TRANSFORMS_PASSES_TD
