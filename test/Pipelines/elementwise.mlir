// Elementwise and gather ops through the CPU pipeline: a row softmax (as
// generics and as linalg.softmax, which is decomposed first) and SiLU, whose
// exp is replaced by a polynomial approximation (checked
// against double-precision references to 2e-6), and an embedding lookup by
// token id, a linalg.generic with tensor.extract that vectorizes to a
// gather.

// RUN: sensq-opt %s --sensq-cpu-codegen="vector-width=4 m-tile=2 reduction-tile=4" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// RUN: sensq-opt %s --sensq-cpu-codegen="vectorize=false approximate-math=false" \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>

func.func @softmax(%x: tensor<3x21xf32>) -> tensor<3x21xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<3xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%e0 : tensor<3xf32>) -> tensor<3xf32>
  %max = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
           ins(%x : tensor<3x21xf32>) outs(%m0 : tensor<3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<3xf32>
  %e1 = tensor.empty() : tensor<3xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<3xf32>) -> tensor<3xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "reduction"]}
           ins(%x, %max : tensor<3x21xf32>, tensor<3xf32>) outs(%s0 : tensor<3xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %d = arith.subf %in, %m : f32
    %e = math.exp %d : f32
    %r = arith.addf %out, %e : f32
    linalg.yield %r : f32
  } -> tensor<3xf32>
  %e2 = tensor.empty() : tensor<3x21xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #row, #id], iterator_types = ["parallel", "parallel"]}
         ins(%x, %max, %sum : tensor<3x21xf32>, tensor<3xf32>, tensor<3xf32>)
         outs(%e2 : tensor<3x21xf32>) {
  ^bb0(%in: f32, %m: f32, %s: f32, %out: f32):
    %d = arith.subf %in, %m : f32
    %e = math.exp %d : f32
    %r = arith.divf %e, %s : f32
    linalg.yield %r : f32
  } -> tensor<3x21xf32>
  return %y : tensor<3x21xf32>
}

func.func @named_softmax(%x: tensor<3x21xf32>) -> tensor<3x21xf32> {
  %e = tensor.empty() : tensor<3x21xf32>
  %y = linalg.softmax dimension(1) ins(%x : tensor<3x21xf32>)
         outs(%e : tensor<3x21xf32>) -> tensor<3x21xf32>
  return %y : tensor<3x21xf32>
}

func.func @silu(%x: tensor<3x21xf32>) -> tensor<3x21xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<3x21xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
         ins(%x : tensor<3x21xf32>) outs(%e : tensor<3x21xf32>) {
  ^bb0(%in: f32, %out: f32):
    %neg = arith.negf %in : f32
    %exp = math.exp %neg : f32
    %den = arith.addf %one, %exp : f32
    %r = arith.divf %in, %den : f32
    linalg.yield %r : f32
  } -> tensor<3x21xf32>
  return %y : tensor<3x21xf32>
}

// out[t, d] = table[clamp(tokens[t], 0, 10), d].
func.func @embed(%tokens: tensor<9xi32>) -> tensor<9x6xf32> {
  %table = arith.constant dense<[[0.000000000e+00, 1.000000000e+00, 2.000000000e+00, 3.000000000e+00, 4.000000000e+00, 5.000000000e+00], [1.000000000e+01, 1.100000000e+01, 1.200000000e+01, 1.300000000e+01, 1.400000000e+01, 1.500000000e+01], [2.000000000e+01, 2.100000000e+01, 2.200000000e+01, 2.300000000e+01, 2.400000000e+01, 2.500000000e+01], [3.000000000e+01, 3.100000000e+01, 3.200000000e+01, 3.300000000e+01, 3.400000000e+01, 3.500000000e+01], [4.000000000e+01, 4.100000000e+01, 4.200000000e+01, 4.300000000e+01, 4.400000000e+01, 4.500000000e+01], [5.000000000e+01, 5.100000000e+01, 5.200000000e+01, 5.300000000e+01, 5.400000000e+01, 5.500000000e+01], [6.000000000e+01, 6.100000000e+01, 6.200000000e+01, 6.300000000e+01, 6.400000000e+01, 6.500000000e+01], [7.000000000e+01, 7.100000000e+01, 7.200000000e+01, 7.300000000e+01, 7.400000000e+01, 7.500000000e+01], [8.000000000e+01, 8.100000000e+01, 8.200000000e+01, 8.300000000e+01, 8.400000000e+01, 8.500000000e+01], [9.000000000e+01, 9.100000000e+01, 9.200000000e+01, 9.300000000e+01, 9.400000000e+01, 9.500000000e+01], [1.000000000e+02, 1.010000000e+02, 1.020000000e+02, 1.030000000e+02, 1.040000000e+02, 1.050000000e+02]]> : tensor<11x6xf32>
  %e = tensor.empty() : tensor<9x6xf32>
  %y = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
         ins(%tokens : tensor<9xi32>) outs(%e : tensor<9x6xf32>) {
  ^bb0(%tok: i32, %out: f32):
    %c0 = arith.constant 0 : i32
    %cmax = arith.constant 10 : i32
    %lo = arith.maxsi %tok, %c0 : i32
    %t = arith.minsi %lo, %cmax : i32
    %ti = arith.index_cast %t : i32 to index
    %d = linalg.index 1 : index
    %v = tensor.extract %table[%ti, %d] : tensor<11x6xf32>
    linalg.yield %v : f32
  } -> tensor<9x6xf32>
  return %y : tensor<9x6xf32>
}

// Returns 1 when max |a - b| <= 2e-6.
func.func @close(%a: tensor<3x21xf32>, %b: tensor<3x21xf32>) -> i1 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cr = arith.constant 3 : index
  %cc = arith.constant 21 : index
  %zero = arith.constant 0.0 : f32
  %tol = arith.constant 2.0e-6 : f32
  %err = scf.for %i = %c0 to %cr step %c1 iter_args(%m = %zero) -> f32 {
    %row = scf.for %j = %c0 to %cc step %c1 iter_args(%n = %m) -> f32 {
      %x = tensor.extract %a[%i, %j] : tensor<3x21xf32>
      %y = tensor.extract %b[%i, %j] : tensor<3x21xf32>
      %d = arith.subf %x, %y : f32
      %ad = math.absf %d : f32
      %mx = arith.maximumf %n, %ad : f32
      scf.yield %mx : f32
    }
    scf.yield %row : f32
  }
  %ok = arith.cmpf ole, %err, %tol : f32
  return %ok : i1
}

func.func @main() {
  %x = arith.constant dense<[[-2.220000029e+00, -3.700000048e-01, 1.480000019e+00, -1.480000019e+00, 3.700000048e-01, 2.220000029e+00, -7.400000095e-01, 1.110000014e+00, -1.850000024e+00, 0.000000000e+00, 1.850000024e+00, -1.110000014e+00, 7.400000095e-01, -2.220000029e+00, -3.700000048e-01, 1.480000019e+00, -1.480000019e+00, 3.700000048e-01, 2.220000029e+00, -7.400000095e-01, 1.110000014e+00], [3.700000048e-01, 2.220000029e+00, -7.400000095e-01, 1.110000014e+00, -1.850000024e+00, 0.000000000e+00, 1.850000024e+00, -1.110000014e+00, 7.400000095e-01, -2.220000029e+00, -3.700000048e-01, 1.480000019e+00, -1.480000019e+00, 3.700000048e-01, 2.220000029e+00, -7.400000095e-01, 1.110000014e+00, -1.850000024e+00, 0.000000000e+00, 1.850000024e+00, -1.110000014e+00], [-1.850000024e+00, 0.000000000e+00, 1.850000024e+00, -1.110000014e+00, 7.400000095e-01, -2.220000029e+00, -3.700000048e-01, 1.480000019e+00, -1.480000019e+00, 3.700000048e-01, 2.220000029e+00, -7.400000095e-01, 1.110000014e+00, -1.850000024e+00, 0.000000000e+00, 1.850000024e+00, -1.110000014e+00, 7.400000095e-01, -2.220000029e+00, -3.700000048e-01, 1.480000019e+00]]> : tensor<3x21xf32>
  %softmax_ref = arith.constant dense<[[2.211300854e-03, 1.406347468e-02, 8.944116293e-02, 4.634744037e-03, 2.947613631e-02, 1.874629116e-01, 9.714124721e-03, 6.178008152e-02, 3.201376805e-03, 2.036017919e-02, 1.294870682e-01, 6.709879405e-03, 4.267362305e-02, 2.211300854e-03, 1.406347468e-02, 8.944116293e-02, 4.634744037e-03, 2.947613631e-02, 1.874629116e-01, 9.714124721e-03, 6.178008152e-02], [2.808835204e-02, 1.786368539e-01, 9.256767984e-03, 5.887137515e-02, 3.050650796e-03, 1.940158895e-02, 1.233906071e-01, 6.393967407e-03, 4.066447971e-02, 2.107189226e-03, 1.340134349e-02, 8.523012802e-02, 4.416532776e-03, 2.808835204e-02, 1.786368539e-01, 9.256767984e-03, 5.887137515e-02, 3.050650796e-03, 1.940158895e-02, 1.233906071e-01, 6.393967407e-03], [3.520456443e-03, 2.238946815e-02, 1.423929800e-01, 7.378649757e-03, 4.692688189e-02, 2.431700113e-03, 1.546517422e-02, 9.835571928e-02, 5.096686676e-03, 3.241400820e-02, 2.061472471e-01, 1.068232671e-02, 6.793767160e-02, 3.520456443e-03, 2.238946815e-02, 1.423929800e-01, 7.378649757e-03, 4.692688189e-02, 2.431700113e-03, 1.546517422e-02, 9.835571928e-02]]> : tensor<3x21xf32>
  %silu_ref = arith.constant dense<[[-2.174907427e-01, -1.511601795e-01, 1.205567439e+00, -2.744325798e-01, 2.188398253e-01, 2.002509286e+00, -2.390230679e-01, 8.348633274e-01, -2.513648575e-01, 0.000000000e+00, 1.598635166e+00, -2.751366869e-01, 5.009769416e-01, -2.174907427e-01, -1.511601795e-01, 1.205567439e+00, -2.744325798e-01, 2.188398253e-01, 2.002509286e+00, -2.390230679e-01, 8.348633274e-01], [2.188398253e-01, 2.002509286e+00, -2.390230679e-01, 8.348633274e-01, -2.513648575e-01, 0.000000000e+00, 1.598635166e+00, -2.751366869e-01, 5.009769416e-01, -2.174907427e-01, -1.511601795e-01, 1.205567439e+00, -2.744325798e-01, 2.188398253e-01, 2.002509286e+00, -2.390230679e-01, 8.348633274e-01, -2.513648575e-01, 0.000000000e+00, 1.598635166e+00, -2.751366869e-01], [-2.513648575e-01, 0.000000000e+00, 1.598635166e+00, -2.751366869e-01, 5.009769416e-01, -2.174907427e-01, -1.511601795e-01, 1.205567439e+00, -2.744325798e-01, 2.188398253e-01, 2.002509286e+00, -2.390230679e-01, 8.348633274e-01, -2.513648575e-01, 0.000000000e+00, 1.598635166e+00, -2.751366869e-01, 5.009769416e-01, -2.174907427e-01, -1.511601795e-01, 1.205567439e+00]]> : tensor<3x21xf32>

  %sm = call @softmax(%x) : (tensor<3x21xf32>) -> tensor<3x21xf32>
  %sm_ok = call @close(%sm, %softmax_ref) : (tensor<3x21xf32>, tensor<3x21xf32>) -> i1
  // CHECK: softmax within 2e-6: 1
  vector.print str "softmax within 2e-6: "
  vector.print %sm_ok : i1

  %nsm = call @named_softmax(%x) : (tensor<3x21xf32>) -> tensor<3x21xf32>
  %nsm_ok = call @close(%nsm, %softmax_ref) : (tensor<3x21xf32>, tensor<3x21xf32>) -> i1
  // CHECK: linalg.softmax within 2e-6: 1
  vector.print str "linalg.softmax within 2e-6: "
  vector.print %nsm_ok : i1

  %si = call @silu(%x) : (tensor<3x21xf32>) -> tensor<3x21xf32>
  %si_ok = call @close(%si, %silu_ref) : (tensor<3x21xf32>, tensor<3x21xf32>) -> i1
  // CHECK: silu within 2e-6: 1
  vector.print str "silu within 2e-6: "
  vector.print %si_ok : i1

  // Ids outside [0, 10] are clamped.
  %tokens = arith.constant dense<[3, -4, 10, 7, 7, 1, 90, 2, 5]> : tensor<9xi32>
  %emb = call @embed(%tokens) : (tensor<9xi32>) -> tensor<9x6xf32>
  %u = tensor.cast %emb : tensor<9x6xf32> to tensor<*xf32>
  // CHECK: sizes = [9, 6]
  // CHECK-NEXT: {{\[}}[30,   31,   32,   33,   34,   35],
  // CHECK-NEXT: [0,   1,   2,   3,   4,   5],
  // CHECK-NEXT: [100,   101,   102,   103,   104,   105],
  // CHECK-NEXT: [70,   71,   72,   73,   74,   75],
  // CHECK-NEXT: [70,   71,   72,   73,   74,   75],
  // CHECK-NEXT: [10,   11,   12,   13,   14,   15],
  // CHECK-NEXT: [100,   101,   102,   103,   104,   105],
  // CHECK-NEXT: [20,   21,   22,   23,   24,   25],
  // CHECK-NEXT: [50,   51,   52,   53,   54,   55]]
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
