// RUN: sensq-opt %s --split-input-file --verify-diagnostics

func.func @sensitivity_channel_count(%w: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{expected 3 sensitivity channels to match the weight's input channels, but got 2}}
  %0 = sensq.sensitivity %w metric <act_magnitude> channels dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @sensitivity_negative(%w: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{expected finite non-negative sensitivities, but channel 1 is -2}}
  %0 = sensq.sensitivity %w metric <act_second_moment> channels dense<[1.0, -2.0, 0.0]> : tensor<3xf32> : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @sensitivity_nan(%w: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{expected finite non-negative sensitivities, but channel 2 is nan}}
  %0 = sensq.sensitivity %w metric <act_magnitude> channels dense<[1.0, 2.0, 0x7FC00000]> : tensor<3xf32> : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @sensitivity_unknown_metric(%w: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{expected ::mlir::sensq::SensitivityMetric to be one of: act_magnitude, act_second_moment}}
  // expected-error @+1 {{failed to parse SensQ_SensitivityMetricAttr parameter 'value'}}
  %0 = sensq.sensitivity %w metric <fisher> channels dense<[1.0, 2.0, 0.0]> : tensor<3xf32> : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @quantized_matmul_code_width(%x: tensor<4x6xf32>, %q: tensor<3x6xui8>, %s: tensor<3x2xf32>, %z: tensor<3x2xui8>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected weight codes of 4 bits to match 'bits', but got 'ui8'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui8>, tensor<3x2xf32>, tensor<3x2xui8>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_bits_out_of_range(%x: tensor<4x6xf32>, %q: tensor<3x6xui8>, %s: tensor<3x2xf32>, %z: tensor<3x2xui8>) -> tensor<4x3xf32> {
  // expected-error @+1 {{attribute 'bits' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 2 whose maximum value is 8}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 9 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui8>, tensor<3x2xf32>, tensor<3x2xui8>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_input_channels(%x: tensor<4x5xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui4>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected input with 6 channels to match the weight's [N, K] = [3, 6], but got 'tensor<4x5xf32>'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x5xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x2xui4>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_result_columns(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui4>) -> tensor<4x2xf32> {
  // expected-error @+1 {{expected result with 3 columns, one per output channel, but got 'tensor<4x2xf32>'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x2xui4>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @quantized_matmul_result_rows(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui4>) -> tensor<5x3xf32> {
  // expected-error @+1 {{expected result with 4 rows like the input, but got 'tensor<5x3xf32>'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x2xui4>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

func.func @quantized_matmul_group_larger_than_k(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x1xf32>, %z: tensor<3x1xui4>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected 'group_size' of at most K = 6 (or 0 for one group per output channel), but got 8}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 8 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x1xf32>, tensor<3x1xui4>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_scale_groups(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui4>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected scales of shape 3x3 (N x ceil(K / group_size)), but got 'tensor<3x2xf32>'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 2 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x2xui4>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_scale_last_group_short(%x: tensor<4x5xf32>, %q: tensor<3x5xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui4>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected scales of shape 3x3 (N x ceil(K / group_size)), but got 'tensor<3x2xf32>'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 2 : i64} : (tensor<4x5xf32>, tensor<3x5xui4>, tensor<3x2xf32>, tensor<3x2xui4>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_symmetric_with_zero_points(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui4>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected no 'zero_points' with 'symmetric', whose zero point is 2^(bits-1)}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64, symmetric} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x2xui4>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_missing_zero_points(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected 'zero_points' unless 'symmetric' is set}}
  %0 = sensq.quantized_matmul %x, %q scales %s {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_zero_point_shape(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x1xui4>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected zero points of shape 3x2 like the scales, but got 'tensor<3x1xui4>'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x1xui4>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_zero_point_type(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui8>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected zero points of type 'ui4' like the weight codes, but got 'ui8'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x2xui8>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_input_scale_count(%x: tensor<4x6xf32>, %q: tensor<3x6xui4>, %s: tensor<3x2xf32>, %z: tensor<3x2xui4>, %is: tensor<5xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{expected 6 input scales, one per input channel, but got 'tensor<5xf32>'}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z input_scales %is {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xui4>, tensor<3x2xf32>, tensor<3x2xui4>, tensor<5xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @quantized_matmul_signed_codes(%x: tensor<4x6xf32>, %q: tensor<3x6xi4>, %s: tensor<3x2xf32>, %z: tensor<3x2xi4>) -> tensor<4x3xf32> {
  // expected-error @+1 {{operand #1 must be 2D tensor of}}
  %0 = sensq.quantized_matmul %x, %q scales %s zero_points %z {bits = 4 : i64, group_size = 3 : i64} : (tensor<4x6xf32>, tensor<3x6xi4>, tensor<3x2xf32>, tensor<3x2xi4>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @activation_stats_count() attributes {
  // expected-error @+1 {{expected a positive token count, but got 0}}
  stats = #sensq.activation_stats<count = 0, abs_sum = dense<[1.0]> : tensor<1xf64>, sq_sum = dense<[1.0]> : tensor<1xf64>, gram = dense<[[1.0]]> : tensor<1x1xf64>>
} {
  return
}

// -----

func.func @activation_stats_gram_shape() attributes {
  // expected-error @+1 {{expected 'gram' of shape 2x2, but got 'tensor<1x2xf64>'}}
  stats = #sensq.activation_stats<count = 3, abs_sum = dense<[1.0, 2.0]> : tensor<2xf64>, sq_sum = dense<[1.0, 2.0]> : tensor<2xf64>, gram = dense<[[1.0, 2.0]]> : tensor<1x2xf64>>
} {
  return
}

// -----

func.func @activation_stats_sq_sum_channels() attributes {
  // expected-error @+1 {{expected 'sq_sum' to have 2 channels like 'abs_sum', but got 3}}
  stats = #sensq.activation_stats<count = 3, abs_sum = dense<[1.0, 2.0]> : tensor<2xf64>, sq_sum = dense<[1.0, 2.0, 3.0]> : tensor<3xf64>, gram = dense<[[1.0, 2.0], [2.0, 1.0]]> : tensor<2x2xf64>>
} {
  return
}
