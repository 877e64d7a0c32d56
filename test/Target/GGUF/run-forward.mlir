// Runs the imported model on the CPU with upstream MLIR and checks the
// greedy next token of every position. The model continues "<s>" with
// " Once upon a time, there": token ids 403 407 261 378 432 383 286 261.

// RUN: sensq-translate --import-gguf %model --seq-len=8 -o %t.mlir
// RUN: %python %S/Inputs/add_driver.py %t.mlir %s > %t.main.mlir
// RUN: mlir-opt %t.main.mlir \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   --convert-linalg-to-loops --convert-scf-to-cf --expand-strided-metadata \
// RUN:   --finalize-memref-to-llvm --convert-math-to-llvm --convert-arith-to-llvm \
// RUN:   --convert-cf-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// F16 weights give the same tokens.
// RUN: %python %S/Inputs/edit_gguf.py %model %t.f16.gguf --to-f16
// RUN: sensq-translate --import-gguf %t.f16.gguf --seq-len=8 -o %t.f16.mlir
// RUN: %python %S/Inputs/add_driver.py %t.f16.mlir %s > %t.f16.main.mlir
// RUN: mlir-opt %t.f16.main.mlir \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   --convert-linalg-to-loops --convert-scf-to-cf --expand-strided-metadata \
// RUN:   --finalize-memref-to-llvm --convert-math-to-llvm --convert-arith-to-llvm \
// RUN:   --convert-cf-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// The story prefix predicts its own continuation.
// CHECK: [403, 407, 261, 378, 432, 383, 286, 261]
// Padding after the first four tokens leaves their rows unchanged.
// CHECK: [403, 407, 261, 378, {{-?[0-9]+}}, {{-?[0-9]+}}, {{-?[0-9]+}}, {{-?[0-9]+}}]

func.func private @printMemrefI32(tensor<*xi32>)

// Returns the index of the largest logit of each row.
func.func @argmax(%logits: tensor<8x512xf32>) -> tensor<8xi32> {
  %neg_inf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0 : i32
  %max_init = tensor.empty() : tensor<8xf32>
  %max = linalg.fill ins(%neg_inf : f32) outs(%max_init : tensor<8xf32>) -> tensor<8xf32>
  %index_init = tensor.empty() : tensor<8xi32>
  %index = linalg.fill ins(%zero : i32) outs(%index_init : tensor<8xi32>) -> tensor<8xi32>
  %result:2 = linalg.generic {
      indexing_maps = [affine_map<(t, v) -> (t, v)>, affine_map<(t, v) -> (t)>,
                       affine_map<(t, v) -> (t)>],
      iterator_types = ["parallel", "reduction"]}
      ins(%logits : tensor<8x512xf32>)
      outs(%max, %index : tensor<8xf32>, tensor<8xi32>) {
  ^bb0(%x: f32, %best: f32, %best_index: i32):
    %v = linalg.index 1 : index
    %v_i32 = arith.index_cast %v : index to i32
    %greater = arith.cmpf ogt, %x, %best : f32
    %new_best = arith.select %greater, %x, %best : f32
    %new_index = arith.select %greater, %v_i32, %best_index : i32
    linalg.yield %new_best, %new_index : f32, i32
  } -> (tensor<8xf32>, tensor<8xi32>)
  return %result#1 : tensor<8xi32>
}

func.func @print_argmax(%tokens: tensor<8xi32>) {
  %logits = call @forward(%tokens) : (tensor<8xi32>) -> tensor<8x512xf32>
  %ids = call @argmax(%logits) : (tensor<8x512xf32>) -> tensor<8xi32>
  %unranked = tensor.cast %ids : tensor<8xi32> to tensor<*xi32>
  call @printMemrefI32(%unranked) : (tensor<*xi32>) -> ()
  return
}

func.func @main() {
  %story = arith.constant dense<[1, 403, 407, 261, 378, 432, 383, 286]> : tensor<8xi32>
  call @print_argmax(%story) : (tensor<8xi32>) -> ()
  %padded = arith.constant dense<[1, 403, 407, 261, 0, 0, 0, 0]> : tensor<8xi32>
  call @print_argmax(%padded) : (tensor<8xi32>) -> ()
  return
}
