// RUN: sensq-opt %s --split-input-file --sensq-quantize-weights="method=awq group-size=2" --verify-diagnostics
// RUN: not sensq-opt %s --sensq-quantize-weights="bits=9" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not sensq-opt %s --sensq-quantize-weights="group-size=-4" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not sensq-opt %s --sensq-quantize-weights="method=gptq" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not sensq-opt %s --sensq-quantize-weights="skip=layer.nann" 2>&1 | FileCheck %s --check-prefix=SKIP
// RUN: not sensq-opt %s --sensq-quantize-weights="skip=nope" 2>&1 | FileCheck %s --check-prefix=SKIP-FAR

// BITS: error: invalid 'bits' option 9: expected an integer from 2 to 8
// GROUP: error: invalid 'group-size' option -4: expected 0 (per channel) or a positive group size
// METHOD: for the --method option: Cannot find option named 'gptq'!
// SKIP: error: 'skip' lists 'layer.nann', which names no matmul; did you mean 'layer.nan'?
// SKIP-FAR: error: 'skip' lists 'nope', which names no matmul; expected a 'sensq.weight' name such as '{{.*}}'

func.func @weight_with_nan(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0, 0x7FC00000]]> : tensor<1x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  // expected-error @+1 {{expected finite weights in 'layer.nan', but element [0, 1] is nan}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer.nan"}
         ins(%x, %w : tensor<1x2xf32>, tensor<1x2xf32>) outs(%init : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @group_larger_than_k(%x: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0]]> : tensor<1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  // expected-error @+1 {{cannot use group size 2 for 'layer.narrow' with K = 1 input channels; use a group size of at most 1 or 0 for per-channel quantization}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer.narrow"}
         ins(%x, %w : tensor<1x1xf32>, tensor<1x1xf32>) outs(%init : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @awq_without_sensitivity(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  // expected-error @+1 {{cannot quantize 'layer.plain' with awq: it needs activation statistics and a sensq.sensitivity weight; run sensq-attach-stats and sensq-compute-sensitivity first or list the layer in 'skip'}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer.plain"}
         ins(%x, %w : tensor<1x2xf32>, tensor<1x2xf32>) outs(%init : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
