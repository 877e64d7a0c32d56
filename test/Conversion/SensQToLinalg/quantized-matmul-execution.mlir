// RUN: sensq-opt %s --convert-sensq-to-linalg \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   --convert-linalg-to-loops --convert-scf-to-cf --expand-strided-metadata --lower-affine \
// RUN:   --finalize-memref-to-llvm --convert-math-to-llvm --convert-arith-to-llvm --convert-cf-to-llvm \
// RUN:   --convert-func-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// Executes the lowered quantized matmuls and compares them with results
// worked out by hand from the dequantization formula
// w[n][k] = (code - zp[n][g]) * scale[n][g] / s[k].

func.func @asymmetric_groups(%x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  // Groups of 2, 2 and 1 channels. Row 0 dequantizes to
  // [-1, 0, 0, 0.5, 24], row 1 to [-1, -0.75, -2, -1, 0], row 2 to
  // [18, 20, -8, -6, 24].
  %q = arith.constant dense<[[0, 1, 2, 3, 15], [4, 5, 6, 7, 8], [9, 10, 11, 12, 13]]> : tensor<3x5xui4>
  %s = arith.constant dense<[[1.0, 0.5, 2.0], [0.25, 1.0, 1.0], [2.0, 2.0, 4.0]]> : tensor<3x3xf32>
  %z = arith.constant dense<[[1, 2, 3], [8, 8, 8], [0, 15, 7]]> : tensor<3x3xui4>
  %y = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 2 : i64}
         : (tensor<2x5xf32>, tensor<3x5xui4>, tensor<3x3xf32>, tensor<3x3xui4>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

func.func @symmetric_8bit_input_scales(%x: tensor<2x5xf32>) -> tensor<2x1xf32> {
  // Codes minus 128 are [2, -1, 0, 4, -8]; times 0.5 and divided by
  // s = [1, 2, 1, 4, 8] the weight is [1, -0.25, 0, 0.5, -0.5].
  %q = arith.constant dense<[[130, 127, 128, 132, 120]]> : tensor<1x5xui8>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf32>
  %is = arith.constant dense<[1.0, 2.0, 1.0, 4.0, 8.0]> : tensor<5xf32>
  %y = sensq.quantized_matmul %x, %q scales %s input_scales %is {bits = 8 : i64, group_size = 0 : i64, symmetric}
         : (tensor<2x5xf32>, tensor<1x5xui8>, tensor<1x1xf32>, tensor<5xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

func.func @dynamic_rows(%x: tensor<?x5xf32>) -> tensor<?x1xf32> {
  // The weight of @symmetric_8bit_input_scales in groups of 2, 2 and 1 with
  // equal scales, and a dynamic number of input rows.
  %q = arith.constant dense<[[130, 127, 128, 132, 120]]> : tensor<1x5xui8>
  %s = arith.constant dense<[[0.5, 0.5, 0.5]]> : tensor<1x3xf32>
  %is = arith.constant dense<[1.0, 2.0, 1.0, 4.0, 8.0]> : tensor<5xf32>
  %y = sensq.quantized_matmul %x, %q scales %s input_scales %is {bits = 8 : i64, group_size = 2 : i64, symmetric}
         : (tensor<?x5xf32>, tensor<1x5xui8>, tensor<1x3xf32>, tensor<5xf32>) -> tensor<?x1xf32>
  return %y : tensor<?x1xf32>
}

func.func @main() {
  %x = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0], [-1.0, 0.5, 0.25, 2.0, -3.0]]> : tensor<2x5xf32>
  %a = call @asymmetric_groups(%x) : (tensor<2x5xf32>) -> tensor<2x3xf32>
  %ua = tensor.cast %a : tensor<2x3xf32> to tensor<*xf32>
  // CHECK: {{\[}}[121,   -12.5,   130],
  // CHECK-NEXT: [-70,   -1.875,   -94]]
  call @printMemrefF32(%ua) : (tensor<*xf32>) -> ()
  %b = call @symmetric_8bit_input_scales(%x) : (tensor<2x5xf32>) -> tensor<2x1xf32>
  %ub = tensor.cast %b : tensor<2x1xf32> to tensor<*xf32>
  // CHECK: {{\[}}[0],
  // CHECK-NEXT: [1.375]]
  call @printMemrefF32(%ub) : (tensor<*xf32>) -> ()
  %xd = tensor.cast %x : tensor<2x5xf32> to tensor<?x5xf32>
  %d = call @dynamic_rows(%xd) : (tensor<?x5xf32>) -> tensor<?x1xf32>
  %ud = tensor.cast %d : tensor<?x1xf32> to tensor<*xf32>
  // CHECK: {{\[}}[0],
  // CHECK-NEXT: [1.375]]
  call @printMemrefF32(%ud) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
