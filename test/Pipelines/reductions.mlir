// Reductions through the CPU pipeline: a sum of squares over the innermost
// dimension, a sum over the outer dimension, and a maximum guarded by a
// causal condition on linalg.index values (the masked softmax form, which
// the pipeline rewrites into an unguarded reduction of a select).

// RUN: sensq-opt %s --sensq-cpu-codegen="vector-width=4 m-tile=2 reduction-tile=4" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen="vectorize=false" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// The guarded maximum is vectorized, so no linalg op is left.
// RUN: sensq-opt %s --pass-pipeline="builtin.module(func.func(sensq-tile-and-vectorize))" \
// RUN: | FileCheck %s --check-prefix=IR
// IR-LABEL: func.func @guarded_row_max
// IR-NOT: linalg.generic
// IR: arith.select
// IR: vector.multi_reduction <maximumf>
// IR-NOT: linalg.generic
// IR-LABEL: func.func @main

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#col = affine_map<(i, j) -> (j)>

func.func @row_sum_squares(%x: tensor<6x37xf32>) -> tensor<6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<6xf32>) -> tensor<6xf32>
  %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
         ins(%x : tensor<6x37xf32>) outs(%f : tensor<6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %sum = arith.addf %out, %sq : f32
    linalg.yield %sum : f32
  } -> tensor<6xf32>
  return %r : tensor<6xf32>
}

func.func @column_sum(%x: tensor<6x37xf32>) -> tensor<37xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<37xf32>) -> tensor<37xf32>
  %r = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["reduction", "parallel"]}
         ins(%x : tensor<6x37xf32>) outs(%f : tensor<37xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %out, %in : f32
    linalg.yield %sum : f32
  } -> tensor<37xf32>
  return %r : tensor<37xf32>
}

// max over j <= i of 0.5 * x[i, j].
func.func @guarded_row_max(%x: tensor<6x37xf32>) -> tensor<6xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<6xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<6xf32>) -> tensor<6xf32>
  %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
         ins(%x : tensor<6x37xf32>) outs(%f : tensor<6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %scaled = arith.mulf %in, %half : f32
    %max = arith.maximumf %out, %scaled : f32
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %causal = arith.cmpi ule, %j, %i : index
    %next = arith.select %causal, %max, %out : f32
    linalg.yield %next : f32
  } -> tensor<6xf32>
  return %r : tensor<6xf32>
}

// x[i, j] = (5 i + 3 j) mod 11 - 5.
func.func @main() {
  %e = tensor.empty() : tensor<6x37xf32>
  %x = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
         outs(%e : tensor<6x37xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %c11 = arith.constant 11 : index
    %i5 = arith.muli %i, %c5 : index
    %j3 = arith.muli %j, %c3 : index
    %s = arith.addi %i5, %j3 : index
    %m = arith.remui %s, %c11 : index
    %v = arith.subi %m, %c5 : index
    %vi = arith.index_cast %v : index to i32
    %vf = arith.sitofp %vi : i32 to f32
    linalg.yield %vf : f32
  } -> tensor<6x37xf32>

  %sq = call @row_sum_squares(%x) : (tensor<6x37xf32>) -> tensor<6xf32>
  %usq = tensor.cast %sq : tensor<6xf32> to tensor<*xf32>
  // CHECK: sizes = [6]
  // CHECK-NEXT: [376,  368,  373,  369,  367,  367]
  call @printMemrefF32(%usq) : (tensor<*xf32>) -> ()

  %cols = call @column_sum(%x) : (tensor<6x37xf32>) -> tensor<37xf32>
  %ucols = tensor.cast %cols : tensor<37xf32> to tensor<*xf32>
  // CHECK: sizes = [37]
  // CHECK-NEXT: [1,  -3,  4,  0,  -4,  3,  -1,  6,  -9,  9,  -6,  1,  -3,  4,  0,  -4,  3,  -1,  6,  -9,  9,  -6,  1,  -3,  4,  0,  -4,  3,  -1,  6,  -9,  9,  -6,  1,  -3,  4,  0]
  call @printMemrefF32(%ucols) : (tensor<*xf32>) -> ()

  %gm = call @guarded_row_max(%x) : (tensor<6x37xf32>) -> tensor<6xf32>
  %ugm = tensor.cast %gm : tensor<6xf32> to tensor<*xf32>
  // CHECK: sizes = [6]
  // CHECK-NEXT: [-2.5,  1.5,  2.5,  2.5,  2.5,  2]
  call @printMemrefF32(%ugm) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
