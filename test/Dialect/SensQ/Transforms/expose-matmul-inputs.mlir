// RUN: sensq-opt %s --split-input-file --sensq-expose-matmul-inputs --verify-diagnostics | FileCheck %s

// The inputs of named matmuls follow the original results, in program order;
// unnamed matmuls are not exposed.

// CHECK-LABEL: func.func @forward
// CHECK-SAME: -> (tensor<4x2xf32>, tensor<4x3xf32>, tensor<4x2xf32>)
// CHECK-SAME: sensq.exposed_inputs = ["layer0.weight", "layer1.weight"]
// CHECK: %[[H:.*]] = linalg.matmul {{.*}}ins(%[[X:.*]], %{{.*}} :
// CHECK: %[[Y:.*]] = linalg.matmul {{.*}}ins(%[[H]], %{{.*}} :
// CHECK: %[[Z:.*]] = linalg.matmul {{.*}}ins(%[[Y]], %{{.*}} :
// CHECK: return %[[Z]], %[[X]], %[[H]]
func.func @forward(%x: tensor<4x3xf32>, %w0: tensor<2x3xf32>, %w1: tensor<2x2xf32>) -> tensor<4x2xf32> {
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

// -----

// expected-error @+1 {{expected a function 'forward' with a body to instrument}}
module {
  func.func private @forward(tensor<4x3xf32>) -> tensor<4x2xf32>
}

// -----

func.func @forward(%x: tensor<4x3xf32>, %w0: tensor<2x3xf32>) -> tensor<4x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %h = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer0.weight"}
         ins(%x, %w0 : tensor<4x3xf32>, tensor<2x3xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-error @+1 {{expected a unique weight name, but 'layer0.weight' names more than one matmul}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer0.weight"}
         ins(%x, %w0 : tensor<4x3xf32>, tensor<2x3xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
