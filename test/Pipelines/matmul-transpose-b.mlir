// Runs linalg.matmul with a transposed B operand, C = A * B^T, through the
// CPU pipeline. Small tile sizes leave partial tiles along every loop, which
// are vectorized with masks; the default tiles are checked on a larger
// problem against a scalar reference.

// RUN: sensq-opt %s --sensq-cpu-codegen="vector-width=4 m-tile=2 reduction-tile=4" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen="vectorize=false" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

#mapA = affine_map<(m, n, k) -> (m, k)>
#mapB = affine_map<(m, n, k) -> (n, k)>
#mapC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(i, j) -> (i, j)>

func.func @small(%a: tensor<5x6xf32>, %b: tensor<7x6xf32>) -> tensor<5x7xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x7xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<5x7xf32>) -> tensor<5x7xf32>
  %r = linalg.matmul indexing_maps = [#mapA, #mapB, #mapC]
         ins(%a, %b : tensor<5x6xf32>, tensor<7x6xf32>)
         outs(%f : tensor<5x7xf32>) -> tensor<5x7xf32>
  return %r : tensor<5x7xf32>
}

func.func @large(%a: tensor<37x72xf32>, %b: tensor<50x72xf32>) -> tensor<37x50xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x50xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<37x50xf32>) -> tensor<37x50xf32>
  %r = linalg.matmul indexing_maps = [#mapA, #mapB, #mapC]
         ins(%a, %b : tensor<37x72xf32>, tensor<50x72xf32>)
         outs(%f : tensor<37x50xf32>) -> tensor<37x50xf32>
  return %r : tensor<37x50xf32>
}

// C[i, j] = sum_k A[i, k] * B[j, k] with scalar loops.
func.func @reference(%a: tensor<37x72xf32>, %b: tensor<50x72xf32>) -> tensor<37x50xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cm = arith.constant 37 : index
  %cn = arith.constant 50 : index
  %ck = arith.constant 72 : index
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<37x50xf32>
  %r = scf.for %i = %c0 to %cm step %c1 iter_args(%t = %e) -> tensor<37x50xf32> {
    %row = scf.for %j = %c0 to %cn step %c1 iter_args(%u = %t) -> tensor<37x50xf32> {
      %dot = scf.for %k = %c0 to %ck step %c1 iter_args(%acc = %zero) -> f32 {
        %x = tensor.extract %a[%i, %k] : tensor<37x72xf32>
        %y = tensor.extract %b[%j, %k] : tensor<50x72xf32>
        %xy = arith.mulf %x, %y : f32
        %next = arith.addf %acc, %xy : f32
        scf.yield %next : f32
      }
      %v = tensor.insert %dot into %u[%i, %j] : tensor<37x50xf32>
      scf.yield %v : tensor<37x50xf32>
    }
    scf.yield %row : tensor<37x50xf32>
  }
  return %r : tensor<37x50xf32>
}

// Inputs are t[i, j] = (i * p + j * q) mod r - s, integers that keep every
// product and sum exact in f32.
func.func @main() {
  %a_e = tensor.empty() : tensor<5x6xf32>
  %a = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
         outs(%a_e : tensor<5x6xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %p = arith.constant 6 : index
    %q = arith.constant 1 : index
    %r = arith.constant 7 : index
    %s = arith.constant 3 : index
    %ip = arith.muli %i, %p : index
    %jq = arith.muli %j, %q : index
    %sum = arith.addi %ip, %jq : index
    %mod = arith.remui %sum, %r : index
    %v = arith.subi %mod, %s : index
    %vi = arith.index_cast %v : index to i32
    %vf = arith.sitofp %vi : i32 to f32
    linalg.yield %vf : f32
  } -> tensor<5x6xf32>
  %b_e = tensor.empty() : tensor<7x6xf32>
  %b = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
         outs(%b_e : tensor<7x6xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %p = arith.constant 5 : index
    %q = arith.constant 2 : index
    %r = arith.constant 9 : index
    %s = arith.constant 4 : index
    %ip = arith.muli %i, %p : index
    %jq = arith.muli %j, %q : index
    %sum = arith.addi %ip, %jq : index
    %mod = arith.remui %sum, %r : index
    %v = arith.subi %mod, %s : index
    %vi = arith.index_cast %v : index to i32
    %vf = arith.sitofp %vi : i32 to f32
    linalg.yield %vf : f32
  } -> tensor<7x6xf32>
  %small = call @small(%a, %b) : (tensor<5x6xf32>, tensor<7x6xf32>) -> tensor<5x7xf32>
  %us = tensor.cast %small : tensor<5x7xf32> to tensor<*xf32>
  // CHECK: sizes = [5, 7]
  // CHECK-NEXT: {{\[}}[14,   -1,   2,   -4,   -1,   11,   -4],
  // CHECK-NEXT: [-11,   6,   -13,   4,   -15,   29,   -8],
  // CHECK-NEXT: [-22,   27,   -14,   26,   -15,   -2,   2],
  // CHECK-NEXT: [-19,   -1,   -1,   -1,   -1,   -19,   26],
  // CHECK-NEXT: [-2,   -15,   26,   -14,   27,   -22,   1]]
  call @printMemrefF32(%us) : (tensor<*xf32>) -> ()

  %A_e = tensor.empty() : tensor<37x72xf32>
  %A = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
         outs(%A_e : tensor<37x72xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %p = arith.constant 7 : index
    %q = arith.constant 3 : index
    %r = arith.constant 13 : index
    %s = arith.constant 6 : index
    %ip = arith.muli %i, %p : index
    %jq = arith.muli %j, %q : index
    %sum = arith.addi %ip, %jq : index
    %mod = arith.remui %sum, %r : index
    %v = arith.subi %mod, %s : index
    %vi = arith.index_cast %v : index to i32
    %vf = arith.sitofp %vi : i32 to f32
    linalg.yield %vf : f32
  } -> tensor<37x72xf32>
  %B_e = tensor.empty() : tensor<50x72xf32>
  %B = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
         outs(%B_e : tensor<50x72xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %p = arith.constant 5 : index
    %q = arith.constant 4 : index
    %r = arith.constant 9 : index
    %s = arith.constant 4 : index
    %ip = arith.muli %i, %p : index
    %jq = arith.muli %j, %q : index
    %sum = arith.addi %ip, %jq : index
    %mod = arith.remui %sum, %r : index
    %v = arith.subi %mod, %s : index
    %vi = arith.index_cast %v : index to i32
    %vf = arith.sitofp %vi : i32 to f32
    linalg.yield %vf : f32
  } -> tensor<50x72xf32>
  %large = call @large(%A, %B) : (tensor<37x72xf32>, tensor<50x72xf32>) -> tensor<37x50xf32>
  %ref = call @reference(%A, %B) : (tensor<37x72xf32>, tensor<50x72xf32>) -> tensor<37x50xf32>
  %diff = call @max_abs_diff(%large, %ref) : (tensor<37x50xf32>, tensor<37x50xf32>) -> f32
  // CHECK: max abs diff: 0
  vector.print str "max abs diff: "
  vector.print %diff : f32
  return
}

func.func @max_abs_diff(%x: tensor<37x50xf32>, %y: tensor<37x50xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cm = arith.constant 37 : index
  %cn = arith.constant 50 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %i = %c0 to %cm step %c1 iter_args(%m = %zero) -> f32 {
    %row = scf.for %j = %c0 to %cn step %c1 iter_args(%n = %m) -> f32 {
      %a = tensor.extract %x[%i, %j] : tensor<37x50xf32>
      %b = tensor.extract %y[%i, %j] : tensor<37x50xf32>
      %d = arith.subf %a, %b : f32
      %ad = math.absf %d : f32
      %mx = arith.maximumf %n, %ad : f32
      scf.yield %mx : f32
    }
    scf.yield %row : f32
  }
  return %r : f32
}

func.func private @printMemrefF32(tensor<*xf32>)
