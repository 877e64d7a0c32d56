// RUN: sensq-opt %s --split-input-file --convert-sensq-to-linalg | FileCheck %s

// Two 4-bit codes per byte, low nibble first, laid out [G, P, N]. K = 5 with
// groups of 2 gives groups of 2, 2 and 1 channels: the input is padded to 6
// and the missing code of the last group is its zero point.

// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CODES:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d4)>
// CHECK-DAG: #[[GROUP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4)>
// CHECK-LABEL: func.func @matmul_group_size_not_dividing_k
// CHECK-SAME: %[[INPUT:.*]]: tensor<2x5xf32>
// CHECK-DAG: %[[PACKED:.*]] = arith.constant dense<{{\[}}{{\[}}[16, 84, -87]], {{\[}}[50, 118, -53]], {{\[}}[63, -120, 125]]]> : tensor<3x1x3xi8>
// CHECK-DAG: %[[SCALES:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 2.500000e-01, 1.000000e+00], [5.000000e-01, 1.000000e+00, 2.000000e+00], [2.000000e+00, 1.000000e+00, 4.000000e+00]]> : tensor<3x3xf32>
// CHECK-DAG: %[[ZP:.*]] = arith.constant dense<{{\[}}[1, 8, 0], [2, 8, 15], [3, 8, 7]]> : tensor<3x3xi8>
// CHECK: %[[PADDED:.*]] = tensor.pad %[[INPUT]] low[0, 0] high[0, 1]
// CHECK: %[[GROUPED:.*]] = tensor.expand_shape %[[PADDED]] {{\[}}[0], [1, 2]] output_shape [2, 3, 2]
// CHECK: %[[BYTES:.*]] = tensor.expand_shape %[[GROUPED]] {{\[}}[0], [1], [2, 3]] output_shape [2, 3, 1, 2]
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: linalg.generic
// CHECK-SAME: indexing_maps = [#[[X]], #[[CODES]], #[[GROUP]], #[[GROUP]], #[[OUT]]]
// CHECK-SAME: iterator_types = ["parallel", "reduction", "reduction", "reduction", "parallel"]
// CHECK-SAME: ins(%[[BYTES]], %[[PACKED]], %[[SCALES]], %[[ZP]] :
// CHECK-SAME: outs(%[[INIT]] :
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[BYTE:.*]]: i8, %[[SCALE:.*]]: f32, %[[ZPV:.*]]: i8, %[[ACC:.*]]: f32):
// CHECK:   %[[WIDE:.*]] = arith.extui %[[BYTE]] : i8 to i32
// CHECK:   %[[H:.*]] = linalg.index 3
// CHECK:   %[[SHIFTED:.*]] = arith.shrui %[[WIDE]]
// CHECK:   %[[CODE:.*]] = arith.andi %[[SHIFTED]], %{{.*}}
// CHECK:   %[[ZPW:.*]] = arith.extui %[[ZPV]] : i8 to i32
// CHECK:   %[[CENTERED:.*]] = arith.subi %[[CODE]], %[[ZPW]]
// CHECK:   %[[FLOAT:.*]] = arith.sitofp %[[CENTERED]]
// CHECK:   %[[W:.*]] = arith.mulf %[[FLOAT]], %[[SCALE]]
// CHECK:   %[[P:.*]] = arith.mulf %[[XV]], %[[W]]
// CHECK:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[P]]
// CHECK:   linalg.yield %[[SUM]]
// CHECK-NOT: sensq.
func.func @matmul_group_size_not_dividing_k(%x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %q = arith.constant dense<[[0, 1, 2, 3, 15], [4, 5, 6, 7, 8], [9, 10, 11, 12, 13]]> : tensor<3x5xui4>
  %s = arith.constant dense<[[1.0, 0.5, 2.0], [0.25, 1.0, 1.0], [1.0, 2.0, 4.0]]> : tensor<3x3xf32>
  %z = arith.constant dense<[[1, 2, 3], [8, 8, 8], [0, 15, 7]]> : tensor<3x3xui4>
  %y = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 2 : i64}
         : (tensor<2x5xf32>, tensor<3x5xui4>, tensor<3x3xf32>, tensor<3x3xui4>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// 8-bit codes take a whole byte: the innermost input dimension has size 1.
// Symmetric quantization has no zero-point operand; the constant 128 stands in.

// CHECK-LABEL: func.func @matmul_8bit_symmetric_per_channel
// CHECK-DAG: arith.constant dense<{{\[}}{{\[}}[-126, 127], [-1, 0], [-128, -127]]]> : tensor<1x3x2xi8>
// CHECK-DAG: arith.constant dense<-128> : tensor<1x2xi8>
// CHECK-NOT: tensor.pad
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [4, 1, 3]
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [4, 1, 3, 1]
// CHECK: linalg.generic
func.func @matmul_8bit_symmetric_per_channel(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %q = arith.constant dense<[[130, 255, 128], [127, 0, 129]]> : tensor<2x3xui8>
  %s = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  %y = sensq.quantized_matmul %x, %q scales %s {bits = 8 : i64, group_size = 0 : i64, symmetric}
         : (tensor<4x3xf32>, tensor<2x3xui8>, tensor<2x1xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// Per-input-channel scales divide the input before the matmul.

// CHECK-LABEL: func.func @matmul_with_input_scales
// CHECK-SAME: %[[INPUT:.*]]: tensor<1x4xf32>
// CHECK-DAG: %[[RECIPROCAL:.*]] = arith.constant dense<[5.000000e-01, 1.000000e+00, 2.500000e-01, 1.000000e+00]> : tensor<4xf32>
// CHECK: %[[SCALED:.*]] = linalg.generic {{.*}} ins(%[[INPUT]], %[[RECIPROCAL]] : tensor<1x4xf32>, tensor<4xf32>)
// CHECK:   arith.mulf
// CHECK: tensor.expand_shape %[[SCALED]]
func.func @matmul_with_input_scales(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %q = arith.constant dense<[[1, 2, 3, 4]]> : tensor<1x4xui4>
  %s = arith.constant dense<[[1.0, 1.0]]> : tensor<1x2xf32>
  %z = arith.constant dense<[[0, 0]]> : tensor<1x2xui4>
  %is = arith.constant dense<[2.0, 1.0, 4.0, 1.0]> : tensor<4xf32>
  %y = sensq.quantized_matmul %x, %q scales %s zero_points %z input_scales %is {bits = 4 : i64, group_size = 2 : i64}
         : (tensor<1x4xf32>, tensor<1x4xui4>, tensor<1x2xf32>, tensor<1x2xui4>, tensor<4xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// CHECK-LABEL: func.func @sensitivity_is_forwarded
// CHECK-SAME: %[[W:.*]]: tensor<2x3xf32>
// CHECK-NEXT: return %[[W]]
func.func @sensitivity_is_forwarded(%w: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = sensq.sensitivity %w metric <act_magnitude> channels dense<[1.0, 2.0, 0.0]> : tensor<3xf32> : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
