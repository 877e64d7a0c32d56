// RUN: echo '{"layer0.weight": {"rows": [[1.0, -2.0, 0.5], [3.0, 0.0, -0.5]]}, "layer1.weight": {"rows": [[1.0, 2.0]]}}' > %t.json
// RUN: %python %sensq_src/test/Inputs/write_stats.py %t.json %t.safetensors
// RUN: sensq-opt %s --sensq-attach-stats="stats=%t.safetensors" | FileCheck %s

// RUN: echo '{"layer0.weight": {"rows": [[1.0, -2.0, 0.5]]}}' > %t.missing.json
// RUN: %python %sensq_src/test/Inputs/write_stats.py %t.missing.json %t.missing.safetensors
// RUN: not sensq-opt %s --sensq-attach-stats="stats=%t.missing.safetensors" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: sensq-opt %s --sensq-attach-stats="stats=%t.missing.safetensors skip=layer1.weight" | FileCheck %s --check-prefix=SKIP

// RUN: echo '{"layer0.weight": {"rows": [[1.0, -2.0]]}, "layer1.weight": {"rows": [[1.0, 2.0, 3.0]]}}' > %t.shape.json
// RUN: %python %sensq_src/test/Inputs/write_stats.py %t.shape.json %t.shape.safetensors
// RUN: not sensq-opt %s --sensq-attach-stats="stats=%t.shape.safetensors" 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not sensq-opt %s --sensq-attach-stats="stats=%t.safetensors skip=layer1.wieght" 2>&1 | FileCheck %s --check-prefix=MISSPELLED

// RUN: echo '{"layer0.weight": {"count": 1, "abs_sum": [1.0, NaN, 0.5], "sq_sum": [1.0, 4.0, 0.25], "gram": [1, 0, 0, 0, 4, 0, 0, 0, 0.25]}}' > %t.nan.json
// RUN: %python %sensq_src/test/Inputs/write_stats.py %t.nan.json %t.nan.safetensors
// RUN: not sensq-opt %s --sensq-attach-stats="stats=%t.nan.safetensors" 2>&1 | FileCheck %s --check-prefix=NAN

// RUN: rm -f %t.out.mlir
// RUN: not sensq-opt %s --sensq-attach-stats="stats=%t.does-not-exist" -o %t.out.mlir 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not ls %t.out.mlir
// RUN: not sensq-opt %s --sensq-attach-stats 2>&1 | FileCheck %s --check-prefix=NOOPTION

// Statistics are sums over tokens: abs_sum = [4, 2, 1], sq_sum = [10, 4, 0.5]
// and gram = X^T X for the two rows of layer0.weight.

// CHECK-LABEL: func.func @two_layers
// CHECK: linalg.matmul
// CHECK-SAME: sensq.activation_stats = #sensq.activation_stats<count = 2,
// CHECK-SAME: abs_sum = dense<[4.000000e+00, 2.000000e+00, 1.000000e+00]> : tensor<3xf64>,
// CHECK-SAME: sq_sum = dense<[1.000000e+01, 4.000000e+00, 5.000000e-01]> : tensor<3xf64>,
// CHECK-SAME: gram = dense<{{\[}}[1.000000e+01, -2.000000e+00, -1.000000e+00], [-2.000000e+00, 4.000000e+00, -1.000000e+00], [-1.000000e+00, -1.000000e+00, 5.000000e-01]]> : tensor<3x3xf64>>
// CHECK-SAME: sensq.weight = "layer0.weight"
// CHECK: linalg.matmul
// CHECK-SAME: sensq.activation_stats = #sensq.activation_stats<count = 1,
// CHECK-SAME: sensq.weight = "layer1.weight"
// The unnamed matmul has nothing to match statistics by.
// CHECK: linalg.matmul
// CHECK-NOT: sensq.activation_stats
// CHECK-SAME: ins(

// MISSING: error: no statistics for 'layer1.weight' in '{{.*}}.missing.safetensors'; calibrate this model again or list the layer in 'skip'

// SKIP: sensq.activation_stats = #sensq.activation_stats<count = 1,
// SKIP-SAME: sensq.weight = "layer0.weight"
// SKIP-NOT: sensq.activation_stats

// SHAPE: error: expected statistics of 3 input channels for 'layer0.weight', but '{{.*}}.shape.safetensors' has 2; the file was calibrated on another model
// SHAPE-NOT: error:
// SHAPE: note: 1 more matmuls have missing or mismatched statistics

// A misspelled name in 'skip' is an error, not a silent no-op.
// MISSPELLED: error: 'skip' lists 'layer1.wieght', which names no matmul; did you mean 'layer1.weight'?

// NAN: {{.*}}.nan.safetensors{{.*}}layer0.weight{{.*}}

// NOFILE: error: {{.*}}does-not-exist

// NOOPTION: error: missing the 'stats' option: pass the statistics file written by 'sensq-run calibrate'

func.func @two_layers(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w0 = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %w1 = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %h = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer0.weight"}
         ins(%x, %w0 : tensor<4x3xf32>, tensor<2x3xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer1.weight"}
         ins(%h, %w1 : tensor<4x2xf32>, tensor<2x2xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %z = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%y, %w1 : tensor<4x2xf32>, tensor<2x2xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %z : tensor<4x2xf32>
}
