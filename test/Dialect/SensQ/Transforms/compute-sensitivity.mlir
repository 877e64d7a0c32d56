// RUN: sensq-opt %s --split-input-file --sensq-compute-sensitivity | FileCheck %s --check-prefix=MAGNITUDE
// RUN: sensq-opt %s --split-input-file --sensq-compute-sensitivity="metric=act-second-moment" | FileCheck %s --check-prefix=SECOND
// RUN: not sensq-opt %s --split-input-file --sensq-compute-sensitivity="metric=fisher" 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// Two tokens with abs_sum = [4, 2, 1] and sq_sum = [10, 4, 0.5]: the mean
// magnitude is [2, 1, 0.5] and the mean square [5, 2, 0.25].

// MAGNITUDE-LABEL: func.func @matmul_with_stats
// MAGNITUDE-SAME: (%[[X:.*]]: tensor<4x3xf32>)
// MAGNITUDE: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<2x3xf32>
// MAGNITUDE: %[[S:.*]] = sensq.sensitivity %[[W]] metric <act_magnitude> channels dense<[2.000000e+00, 1.000000e+00, 5.000000e-01]> : tensor<3xf32> : tensor<2x3xf32>
// MAGNITUDE: linalg.matmul {{.*}} ins(%[[X]], %[[S]] :

// SECOND-LABEL: func.func @matmul_with_stats
// SECOND: sensq.sensitivity %{{.*}} metric <act_second_moment> channels dense<[5.000000e+00, 2.000000e+00, 2.500000e-01]> : tensor<3xf32> : tensor<2x3xf32>

// UNKNOWN: for the --metric option: Cannot find option named 'fisher'!

func.func @matmul_with_stats(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer0.weight",
          sensq.activation_stats = #sensq.activation_stats<count = 2,
            abs_sum = dense<[4.0, 2.0, 1.0]> : tensor<3xf64>,
            sq_sum = dense<[10.0, 4.0, 0.5]> : tensor<3xf64>,
            gram = dense<[[10.0, -2.0, -1.0], [-2.0, 4.0, -1.0], [-1.0, -1.0, 0.5]]> : tensor<3x3xf64>>}
         ins(%x, %w : tensor<4x3xf32>, tensor<2x3xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// Matmuls without statistics are left alone.

// MAGNITUDE-LABEL: func.func @matmul_without_stats
// MAGNITUDE-NOT: sensq.sensitivity
func.func @matmul_without_stats(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<4x3xf32>, tensor<2x3xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
