// A quantized matmul in the form sensq.quantized_matmul lowers to: the
// input is padded to whole groups and reshaped to [M, G, P, H], two 4-bit
// codes share a byte of the [G, P, N] weight, and the body extracts a code
// with linalg.index, subtracts the group's zero point and multiplies by its
// scale. K = 40 with groups of 16 pads the last group by 8 channels whose
// codes equal the zero point. Scales are powers of two and inputs small
// integers, so every result is exact.

// RUN: sensq-opt %s --sensq-cpu-codegen="vector-width=8 m-tile=2 reduction-tile=4" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen="vectorize=false" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// The generic is vectorized along the output channels: i8 codes are loaded
// as vectors and no linalg op is left.
// RUN: sensq-opt %s --pass-pipeline="builtin.module(func.func(sensq-tile-and-vectorize))" \
// RUN: | FileCheck %s --check-prefix=IR
// IR-LABEL: func.func @quantized_matmul
// IR-NOT: linalg.generic
// IR: vector.transfer_read {{.*}} : tensor<3x8x20xi8>, vector<{{.*}}xi8>
// IR: arith.shrui {{.*}} : vector<{{.*}}xi32>
// IR: vector.multi_reduction <add>
// IR-NOT: linalg.generic
// IR-LABEL: func.func @main

#x = affine_map<(m, g, p, h, n) -> (m, g, p, h)>
#codes = affine_map<(m, g, p, h, n) -> (g, p, n)>
#group = affine_map<(m, g, p, h, n) -> (g, n)>
#out = affine_map<(m, g, p, h, n) -> (m, n)>

func.func @quantized_matmul(%input: tensor<5x40xf32>) -> tensor<5x20xf32> {
  %packed = arith.constant dense<[[[74, -83, 11, -67, -1, 43, -44, -30, 109, 40, -100, -54, 1, -23, -53, -19, -117, 52, 120, 81], [28, -18, -66, 74, 41, 55, 102, 106, -85, 39, 118, -14, -9, -18, 58, -108, 6, 46, -67, -20], [50, -101, 53, -31, 52, -9, -128, -24, -78, 56, 106, 104, 8, 99, 10, 31, -51, 1, -9, 58], [27, 87, 31, -52, -118, -90, -106, 127, -96, 14, -60, 7, 46, 41, -86, 84, 109, 116, -95, 82], [22, 39, -106, -52, 95, -10, -89, 104, -18, -38, 27, -126, 34, 15, 60, -33, -116, -111, -67, 106], [-46, -7, 116, -13, 96, -16, -40, 78, -64, 72, 4, 66, -113, -23, 6, -102, 26, -124, 108, -27], [45, -22, -52, 28, 75, 43, 20, 61, -102, 113, -126, 28, -126, -30, -119, -119, -113, 61, -112, -111], [39, 41, 47, 38, -112, -61, -21, -20, 50, 83, 93, 12, 103, -56, 43, -56, 75, 35, 98, -68]], [[29, -45, -27, -26, -126, -10, 77, 42, 55, 24, 33, -103, -25, 102, -52, -105, 38, 105, 111, -22], [115, -91, -116, 53, 91, -43, 4, -41, -126, 101, -100, 39, -49, 34, -78, -49, 120, -116, 105, 53], [-63, -12, -44, 26, 123, 42, 94, 98, 24, -103, -105, -60, -14, -124, -115, 83, -52, 7, -25, 32], [113, 29, -40, 3, 122, -20, 64, 57, -123, -106, -31, -6, 25, 75, -127, 37, -34, -112, -121, 40], [65, -94, -53, 52, 118, 44, 69, -76, -44, 94, 85, -108, 38, 56, 19, -10, 9, -114, 57, -37], [-39, -70, 71, 11, 124, 85, 63, -124, -56, -72, -24, 20, -92, 123, 73, -25, 20, 122, 95, 99], [52, -17, 82, 98, -10, 4, -95, -28, -12, -128, -128, 77, -104, -1, -121, -22, -3, 127, -9, -68], [89, 34, 116, 76, 11, -28, 63, 55, 42, 1, -85, 112, 4, 12, -83, 77, 15, 7, 29, -39]], [[99, -8, 7, -72, -128, -12, 113, -4, 24, 96, 122, 2, 31, 5, -74, 118, -62, -99, -60, 18], [59, 18, 95, -5, -113, 75, -122, 117, -43, 127, -111, 65, -113, -17, 13, 82, -18, 1, 97, 111], [18, -23, -104, 51, -74, 4, 49, -43, -126, 62, -74, 59, 99, -100, 108, 42, 55, -10, 64, -21], [-10, -55, 64, -17, -66, 48, 14, -84, 32, -3, 5, -20, -97, -44, 18, 122, 71, 45, 29, -90], [0, -52, 17, 17, 34, -120, -120, -103, 0, -1, -120, 68, 0, 119, -18, 102, 119, 17, 85, 34], [0, -52, 17, 17, 34, -120, -120, -103, 0, -1, -120, 68, 0, 119, -18, 102, 119, 17, 85, 34], [0, -52, 17, 17, 34, -120, -120, -103, 0, -1, -120, 68, 0, 119, -18, 102, 119, 17, 85, 34], [0, -52, 17, 17, 34, -120, -120, -103, 0, -1, -120, 68, 0, 119, -18, 102, 119, 17, 85, 34]]]> : tensor<3x8x20xi8>
  %scales = arith.constant dense<[[1.0, 0.25, 2.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 0.5, 1.0, 1.0, 0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.25], [0.25, 2.0, 0.5, 2.0, 0.25, 1.0, 1.0, 2.0, 0.5, 1.0, 0.25, 0.5, 2.0, 0.25, 2.0, 1.0, 0.25, 0.25, 2.0, 0.25], [0.5, 2.0, 0.5, 2.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 2.0, 0.5, 0.25, 2.0, 1.0, 0.5, 0.5, 1.0, 1.0, 1.0]]> : tensor<3x20xf32>
  %zero_points = arith.constant dense<[[11, 13, 1, 14, 8, 10, 10, 10, 0, 7, 14, 13, 15, 9, 10, 11, 12, 13, 15, 13], [15, 7, 12, 2, 6, 11, 1, 8, 2, 3, 12, 15, 5, 4, 10, 2, 5, 2, 10, 3], [0, 12, 1, 1, 2, 8, 8, 9, 0, 15, 8, 4, 0, 7, 14, 6, 7, 1, 5, 2]]> : tensor<3x20xi8>
  %c4_i32 = arith.constant 4 : i32
  %c15_i32 = arith.constant 15 : i32
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %input low[0, 0] high[0, 8] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<5x40xf32> to tensor<5x48xf32>
  %grouped = tensor.expand_shape %padded [[0], [1, 2, 3]] output_shape [5, 3, 8, 2]
      : tensor<5x48xf32> into tensor<5x3x8x2xf32>
  %e = tensor.empty() : tensor<5x20xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<5x20xf32>) -> tensor<5x20xf32>
  %y = linalg.generic {indexing_maps = [#x, #codes, #group, #group, #out],
                       iterator_types = ["parallel", "reduction", "reduction", "reduction", "parallel"]}
         ins(%grouped, %packed, %scales, %zero_points
             : tensor<5x3x8x2xf32>, tensor<3x8x20xi8>, tensor<3x20xf32>, tensor<3x20xi8>)
         outs(%init : tensor<5x20xf32>) {
  ^bb0(%xv: f32, %byte: i8, %scale: f32, %zp: i8, %acc: f32):
    %wide = arith.extui %byte : i8 to i32
    %h = linalg.index 3 : index
    %h32 = arith.index_cast %h : index to i32
    %shift = arith.muli %h32, %c4_i32 : i32
    %shifted = arith.shrui %wide, %shift : i32
    %code = arith.andi %shifted, %c15_i32 : i32
    %zpw = arith.extui %zp : i8 to i32
    %centered = arith.subi %code, %zpw : i32
    %cf = arith.sitofp %centered : i32 to f32
    %w = arith.mulf %cf, %scale : f32
    %prod = arith.mulf %xv, %w : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  } -> tensor<5x20xf32>
  return %y : tensor<5x20xf32>
}

func.func @main() {
  %x = arith.constant dense<[[-4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0], [3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0], [1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0, 4.0, -2.0, 1.0], [-1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0, 2.0, -4.0, -1.0], [-3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0]]> : tensor<5x40xf32>
  %y = call @quantized_matmul(%x) : (tensor<5x40xf32>) -> tensor<5x20xf32>
  %u = tensor.cast %y : tensor<5x20xf32> to tensor<*xf32>
  // CHECK: sizes = [5, 20]
  // CHECK: {{\[}}[112,   -21.5,   -296,   -8,   -75.5,   111,   103,   6,   -78.5,   -71,   277,   133,   -160.25,   -39.5,   238,   -170.25,   0.25,   26,   170,   -50],
  // CHECK-NEXT: [78.75,   -28.5,   223.5,   115.5,   24,   54,   18,   -55.5,   10.5,   73.5,   -92.25,   57,   90,   -36.75,   -66,   24.75,   1.5,   6,   100.5,   -53.25],
  // CHECK-NEXT: [-190.75,   50,   72.5,   -107.5,   51.5,   -165,   -121,   49.5,   68,   -2.5,   -184.75,   -190,   70.25,   76.25,   -172,   145.5,   -1.75,   -32,   -270.5,   103.25],
  // CHECK-NEXT: [7.75,   110.5,   -348.5,   -519.5,   -65,   57,   -161,   136.5,   -176,   -42.5,   141.25,   139,   -46.25,   -13.25,   145,   -60,   -7.25,   -47.5,   -83.5,   12.25],
  // CHECK-NEXT: [12.75,   -51.75,   -85.5,   198,   -17.25,   0,   123,   -37.5,   43.5,   -51,   114,   -31.5,   -102,   5.25,   79.5,   -67.5,   3,   33.75,   76.5,   -4.5]]
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
