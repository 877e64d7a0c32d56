//===- Passes.td - sensq conversion passes -----------------*- tablegen -*-===//

#ifndef SENSQ_CONVERSION_PASSES_TD
#define SENSQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSensQToLinalg : Pass<"convert-sensq-to-linalg"> {
  let summary = "Lower sensq ops to linalg with the dequantization in the "
                "matmul body";
  let description = [{
    `sensq.sensitivity` is replaced by its weight. `sensq.quantized_matmul`
    with constant codes, scales and zero points becomes one `linalg.generic`
    whose body unpacks a code, dequantizes it and accumulates its product with
    the input, so no dequantized copy of the weight is ever materialized.

    Codes are packed `8 / bits` to a byte (two 4-bit codes, one 8-bit code),
    low bits first, in the layout `[G, P, N]`: group, packed position in the
    group, output channel. Keeping the output channel innermost makes the
    codes of neighbouring output channels contiguous, which is the dimension
    the CPU pipeline vectorizes. The input `[M, K]` is padded with zeros to G
    whole groups and reshaped to `[M, G, P, 8 / bits]`; padded weight
    positions hold the zero point, so they dequantize to exactly zero.
    Per-input-channel scales `s` are applied to the input (`x / s`, M x K
    multiplications) instead of to every dequantized weight (M x N x K).

    ```mlir
    %y = sensq.quantized_matmul %x, %codes scales %scales zero_points %zp
           {bits = 4 : i64, group_size = 32 : i64} : ...
    // becomes
    %xp = tensor.pad %x low[0, 0] high[0, 20] ...   // K = 172 -> 6 x 32
    %xe = tensor.expand_shape %xp [[0], [1, 2, 3]] : ... into tensor<Mx6x16x2xf32>
    %y = linalg.generic {iterator_types = ["parallel", "reduction",
                          "reduction", "reduction", "parallel"]}
           ins(%xe, %packed, %scales_t, %zp_t : ...) outs(%init : ...) {
      // code = (byte >> 4 * h) & 0xF; w = (code - zp) * scale; acc += x * w
    }
    ```

    NOTE: codes, scales and zero points must be constants, because packing
    happens at compile time.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // SENSQ_CONVERSION_PASSES_TD
