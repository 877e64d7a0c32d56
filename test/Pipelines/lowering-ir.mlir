// The pipeline's output: FMAs on 16 x f32 vectors (one 512-bit register)
// for a matmul, exp as a polynomial on vectors rather than a libm call per
// element, results written into caller-provided buffers (the function
// returns nothing), and every intermediate buffer freed.

// RUN: sensq-opt %s --sensq-cpu-codegen | FileCheck %s

// The result is a third memref descriptor argument, not a return value.
// CHECK-LABEL: llvm.func @matmul_silu(
// CHECK-SAME: %arg14: !llvm.ptr, %arg15: !llvm.ptr,
// CHECK-SAME: %arg20: i64) attributes
// CHECK-NOT: llvm.intr.exp
// CHECK-DAG: llvm.intr.fmuladd{{.*}}vector<16xf32>
// CHECK-DAG: llvm.call @malloc
// CHECK-DAG: llvm.call @free
// CHECK: llvm.return
// CHECK-NOT: llvm.intr.exp
// CHECK-LABEL: llvm.func @_mlir_ciface_matmul_silu(

// Tiling and vectorization alone leave no linalg op behind.
// RUN: sensq-opt %s --pass-pipeline="builtin.module(func.func(sensq-tile-and-vectorize))" \
// RUN: | FileCheck %s --check-prefix=TILED
// TILED-LABEL: func.func @matmul_silu
// TILED-NOT: linalg.
// TILED: vector.contract
// TILED-NOT: linalg.
// TILED: math.exp {{.*}} : vector<
// TILED-NOT: linalg.

#mapA = affine_map<(m, n, k) -> (m, k)>
#mapB = affine_map<(m, n, k) -> (n, k)>
#mapC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(i, j) -> (i, j)>

func.func @matmul_silu(%x: tensor<64x64xf32>, %w: tensor<128x64xf32>) -> tensor<64x128xf32>
    attributes {llvm.emit_c_interface} {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %y = linalg.matmul indexing_maps = [#mapA, #mapB, #mapC]
         ins(%x, %w : tensor<64x64xf32>, tensor<128x64xf32>)
         outs(%f : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x128xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
         ins(%y : tensor<64x128xf32>) outs(%e2 : tensor<64x128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %neg = arith.negf %in : f32
    %exp = math.exp %neg : f32
    %den = arith.addf %one, %exp : f32
    %silu = arith.divf %in, %den : f32
    linalg.yield %silu : f32
  } -> tensor<64x128xf32>
  return %s : tensor<64x128xf32>
}
