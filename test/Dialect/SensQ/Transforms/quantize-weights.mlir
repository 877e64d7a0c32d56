// RUN: sensq-opt %s --split-input-file --sensq-quantize-weights="method=rtn bits=4 group-size=0" | FileCheck %s --check-prefix=PER-CHANNEL
// RUN: sensq-opt %s --split-input-file --sensq-quantize-weights="method=rtn bits=4 group-size=2" | FileCheck %s --check-prefix=GROUP
// RUN: sensq-opt %s --split-input-file --sensq-quantize-weights="method=rtn bits=8 group-size=0 symmetric=true" | FileCheck %s --check-prefix=SYMMETRIC
// RUN: sensq-opt %s --sensq-quantize-weights="method=rtn bits=4 group-size=0 skip=layer.first" | FileCheck %s --check-prefix=SKIP
// RUN: sensq-opt %s --split-input-file --sensq-quantize-weights="method=rtn group-size=0" 2>&1 >/dev/null | FileCheck %s --check-prefix=NOTHING

// Asymmetric 4-bit, one group per row: row [-1, 0, 1, 2] has the range
// [-1, 2], so scale = 3 / 15 = 0.2, zero point = round(1 / 0.2) = 5 and codes
// round(w / 0.2) + 5 = [0, 5, 10, 15]. Row [0.5, 0.5, 0.5, 0.5] widens its
// range to [0, 0.5] so that zero stays exact: scale = 0.5 / 15, zero point 0,
// codes 15.

// PER-CHANNEL-LABEL: func.func @matmul_per_channel
// PER-CHANNEL-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// PER-CHANNEL-DAG: %[[CODES:.*]] = arith.constant dense<{{\[}}[0, 5, 10, 15], [15, 15, 15, 15]]> : tensor<2x4xui4>
// PER-CHANNEL-DAG: %[[SCALES:.*]] = arith.constant dense<{{\[}}[2.000000e-01], [0.0333333{{[0-9]*}}]]> : tensor<2x1xf32>
// PER-CHANNEL-DAG: %[[ZP:.*]] = arith.constant dense<{{\[}}[5], [0]]> : tensor<2x1xui4>
// PER-CHANNEL: %[[Y:.*]] = sensq.quantized_matmul %[[X]], %[[CODES]] scales %[[SCALES]] zero_points %[[ZP]] {bits = 4 : i64, group_size = 0 : i64, sensq.weight = "layer.first"}
// PER-CHANNEL-SAME: : (tensor<3x4xf32>, tensor<2x4xui4>, tensor<2x1xf32>, tensor<2x1xui4>) -> tensor<3x2xf32>
// PER-CHANNEL-NOT: linalg.matmul
// PER-CHANNEL: return %[[Y]]

// SYMMETRIC-LABEL: func.func @matmul_per_channel
// SYMMETRIC: sensq.quantized_matmul
// SYMMETRIC-NOT: zero_points
// SYMMETRIC-SAME: symmetric

// SKIP-LABEL: func.func @matmul_per_channel
// SKIP-NOT: sensq.quantized_matmul
// SKIP: linalg.matmul
func.func @matmul_per_channel(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[-1.0, 0.0, 1.0, 2.0], [0.5, 0.5, 0.5, 0.5]]> : tensor<2x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer.first"}
         ins(%x, %w : tensor<3x4xf32>, tensor<2x4xf32>) outs(%init : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// K = 5 with groups of 2 gives groups of 2, 2 and 1 channels, all with their
// own scale and zero point: [-1.5, 0] -> scale 0.1, zero point 15;
// [0, 3] -> scale 0.2, zero point 0; [-0.3] -> scale 0.02, zero point 15.

// GROUP-LABEL: func.func @matmul_group_size_not_dividing_k
// GROUP-DAG: arith.constant dense<{{\[}}[0, 15, 0, 15, 0]]> : tensor<1x5xui4>
// GROUP-DAG: arith.constant dense<{{\[}}[1.000000e-01, 2.000000e-01, 0.02000000{{[0-9]*}}]]> : tensor<1x3xf32>
// GROUP-DAG: arith.constant dense<{{\[}}[15, 0, 15]]> : tensor<1x3xui4>
// GROUP: sensq.quantized_matmul {{.*}} {bits = 4 : i64, group_size = 2 : i64}
func.func @matmul_group_size_not_dividing_k(%x: tensor<1x5xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[-1.5, 0.0, 0.0, 3.0, -0.3]]> : tensor<1x5xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x5xf32>, tensor<1x5xf32>) outs(%init : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Symmetric 8-bit: scale = max |w| / 127 = 0.01 and zero point 128, so the
// codes are round(w / 0.01) + 128.

// SYMMETRIC-LABEL: func.func @matmul_symmetric_8bit
// SYMMETRIC-DAG: %[[CODES:.*]] = arith.constant dense<{{\[}}[255, 64, 128]]> : tensor<1x3xui8>
// SYMMETRIC-DAG: %[[SCALES:.*]] = arith.constant dense<0.00999999{{[0-9]*}}> : tensor<1x1xf32>
// SYMMETRIC: sensq.quantized_matmul %{{.*}}, %[[CODES]] scales %[[SCALES]] {bits = 8 : i64, group_size = 0 : i64, symmetric}
func.func @matmul_symmetric_8bit(%x: tensor<1x3xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.27, -0.64, 0.0]]> : tensor<1x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x3xf32>, tensor<1x3xf32>) outs(%init : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// A matmul that accumulates into a non-zero tensor keeps that addend.

// PER-CHANNEL-LABEL: func.func @matmul_accumulating
// PER-CHANNEL-SAME: (%[[X:.*]]: tensor<1x2xf32>, %[[ACC:.*]]: tensor<1x1xf32>)
// PER-CHANNEL: %[[Q:.*]] = sensq.quantized_matmul %[[X]]
// PER-CHANNEL: linalg.add ins(%[[Q]], %[[ACC]] : {{.*}}) outs(%[[ACC]] :
func.func @matmul_accumulating(%x: tensor<1x2xf32>, %acc: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0, -1.0]]> : tensor<1x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x2xf32>, tensor<1x2xf32>) outs(%acc : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Weights that are not constants, and matmuls in other layouts, stay float.

// Only this case quantizes nothing, and the pass says so.
// NOTHING-NOT: warning
// NOTHING: quantize-weights.mlir:{{[0-9]+}}:{{[0-9]+}}: warning: quantized no matmul: expected a linalg.matmul x * W^T with a constant f32 weight that 'skip' does not list
// NOTHING-NOT: warning

// PER-CHANNEL-LABEL: func.func @matmul_weight_argument
// PER-CHANNEL-NOT: sensq.quantized_matmul
// PER-CHANNEL: linalg.matmul
// PER-CHANNEL: linalg.matmul
func.func @matmul_weight_argument(%x: tensor<1x2xf32>, %w: tensor<1x2xf32>, %v: tensor<2x1xf32>) -> (tensor<1x1xf32>, tensor<1x1xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x2xf32>, tensor<1x2xf32>) outs(%init : tensor<1x1xf32>) -> tensor<1x1xf32>
  %c = arith.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %z = linalg.matmul ins(%x, %c : tensor<1x2xf32>, tensor<2x1xf32>) outs(%init : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y, %z : tensor<1x1xf32>, tensor<1x1xf32>
}
