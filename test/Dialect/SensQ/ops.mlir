// RUN: sensq-opt %s --split-input-file | sensq-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @sensitivity_act_magnitude
// CHECK: sensq.sensitivity %{{.*}} metric <act_magnitude> channels dense<[1.000000e+00, 2.000000e+00, 0.000000e+00]> : tensor<3xf32> : tensor<2x3xf32>
func.func @sensitivity_act_magnitude(%w: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = sensq.sensitivity %w metric <act_magnitude> channels dense<[1.0, 2.0, 0.0]> : tensor<3xf32> : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
