// RUN: echo '{"layer.skewed": {"rows": [[100.0, 0.01, -0.02, 0.01], [-90.0, 0.02, 0.01, -0.01], [110.0, -0.01, 0.02, 0.02]]}, "layer.tied": {"rows": [[1.0, 2.0]]}}' > %t.json
// RUN: %python %sensq_src/test/Inputs/write_stats.py %t.json %t.safetensors
// RUN: sensq-opt %s --sensq-attach-stats="stats=%t.safetensors" --sensq-compute-sensitivity --sensq-quantize-weights="method=awq group-size=0" | FileCheck %s --check-prefix=AWQ
// RUN: sensq-opt %s --sensitivity-quantize="stats=%t.safetensors method=awq bits=4 group-size=2 skip=layer.tied" | FileCheck %s --check-prefix=PIPELINE
// RUN: not sensq-opt %s --sensitivity-quantize="stats=%t.safetensors metric=fisher" 2>&1 | FileCheck %s --check-prefix=BAD-METRIC
// RUN: sensq-opt %s --sensitivity-quantize="method=rtn bits=8 group-size=0" | FileCheck %s --check-prefix=RTN-NO-STATS
// RUN: not sensq-opt %s --sensitivity-quantize="method=awq" 2>&1 | FileCheck %s --check-prefix=AWQ-NO-STATS

// Channel 0 carries activations about 10^4 times larger than the others, but
// its weights are small, so round to nearest flushes them to the grid's
// nearest level and the output error is dominated by channel 0. AWQ scales
// channel 0 up before quantization and divides the input by the same factor.

// AWQ-LABEL: func.func @awq_protects_large_channel
// AWQ: %[[S:.*]] = sensq.sensitivity %{{.*}} metric <act_magnitude> channels dense<[1.000000e+02, 0.0133333337, 0.0166666675, 0.0133333337]> : tensor<4xf32> : tensor<2x4xf32>
// AWQ: %[[INPUT_SCALES:.*]] = arith.constant dense<[{{.*}}]> : tensor<4xf32>
// AWQ: sensq.quantized_matmul %{{.*}}, %{{.*}} scales %{{.*}} zero_points %{{.*}} input_scales %[[INPUT_SCALES]] {bits = 4 : i64, group_size = 0 : i64, sensq.weight = "layer.skewed"}

// The pipeline ends in upstream dialects: no sensq op and no statistics
// remain, and the matmul listed in `skip` stays in float.

// PIPELINE-LABEL: func.func @awq_protects_large_channel
// PIPELINE-NOT: sensq.
// PIPELINE: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// PIPELINE: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction", "reduction", "parallel"]
// PIPELINE-NOT: sensq.activation_stats
// PIPELINE: linalg.matmul
// PIPELINE-SAME: sensq.weight = "layer.tied"
// PIPELINE-NOT: sensq.activation_stats

// BAD-METRIC: Cannot find option named 'fisher'!

// Round to nearest reads no statistics; AWQ cannot run without them.

// RTN-NO-STATS-LABEL: func.func @awq_protects_large_channel
// RTN-NO-STATS-NOT: linalg.matmul
// RTN-NO-STATS-NOT: sensq.

// AWQ-NO-STATS: error: missing the 'stats' option: pass the statistics file written by 'sensq-run calibrate'

func.func @awq_protects_large_channel(%x: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[0.013, 1.0, -1.0, 0.5], [-0.021, 0.7, 0.9, -0.6]]> : tensor<2x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer.skewed"}
         ins(%x, %w : tensor<4x4xf32>, tensor<2x4xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %t = arith.constant dense<[[1.0, 0.5], [0.25, 2.0]]> : tensor<2x2xf32>
  %z = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {sensq.weight = "layer.tied"}
         ins(%y, %t : tensor<4x2xf32>, tensor<2x2xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %z : tensor<4x2xf32>
}
