//===- Passes.td - sensq CPU code generation passes --------*- tablegen -*-===//

#ifndef SENSQ_PIPELINES_PASSES_TD
#define SENSQ_PIPELINES_PASSES_TD

include "mlir/Pass/PassBase.td"

def SensQTileAndVectorize
    : Pass<"sensq-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tile linalg ops on tensors into small tiles and vectorize them";
  let description = [{
    Tiles every linalg op on tensors with static loop ranges so that one
    tile fills a few vector registers, then vectorizes the tile with
    `linalg::vectorize`.

    * The vector dimension is the loop that indexes the innermost dimension
      of the first output; its tile is `vector-width` elements.
    * Reduction loops advance `reduction-tile` elements per tile in total,
      taken from the innermost reduction loop outwards, and are placed
      inside the parallel loops so that accumulators stay in registers.
    * A multiply-accumulate contraction (a matmul, or a generic whose body
      is `acc + a * b`) also takes `m-tile` rows of an output loop that some
      input does not depend on, and no other loop: after unit loops are
      dropped the tile is a plain [m, n, k] matmul, which becomes a
      `vector.contract` lowered to outer products.
    * Any other op spreads the vector width over the output loops, from the
      innermost outwards, when the innermost one is shorter.

    A tile size that does not divide its loop range produces a partial last
    tile, which is vectorized with masks. Ops with dynamic loop ranges and
    ops the vectorizer rejects keep their (tiled) linalg form, which later
    lowers to scalar loops.

    When no reduction loop is tiled, every output element belongs to one
    tile, and a `linalg.fill` of the output moves into the tile loop: each
    tile starts from the fill value instead of reading a buffer filled in a
    separate pass.

    Before tiling, aggregated ops such as `linalg.softmax` are decomposed,
    and a reduction update guarded by a select
    (`select(c, combine(acc, x), acc)`, as in a causally masked softmax) is
    rewritten to `combine(acc, select(c, x, neutral))`, which the vectorizer
    recognizes as a reduction.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Elements per tile along the vector dimension (default: 16, one "
           "512-bit register of f32)">,
    Option<"mTile", "m-tile", "int64_t", /*default=*/"8",
           "Output rows per contraction tile (default: 8)">,
    Option<"reductionTile", "reduction-tile", "int64_t", /*default=*/"16",
           "Elements of the reduction loops per tile, innermost loop first "
           "(default: 16)">,
    Option<"vectorize", "vectorize", "bool", /*default=*/"true",
           "Tile and vectorize; false only decomposes aggregated ops and "
           "leaves the rest to scalar loops (default: true)">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def SensQDistinctResultBuffers
    : Pass<"sensq-distinct-result-buffers", "::mlir::func::FuncOp"> {
  let summary = "Give every returned buffer its own allocation";
  let description = [{
    Runs on bufferized functions before `buffer-results-to-out-params`. A
    returned memref that is not the result of a `memref.alloc` in the
    function (a function argument, a view such as `memref.collapse_shape`,
    a global) or that is returned more than once is copied into a fresh
    allocation, and the copy is returned instead. Every result then
    becomes its own output parameter; a function that returns the same
    tensor twice, as an instrumented model does when several matmuls share
    an input, would otherwise hand the caller aliasing buffers.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def SensQOptimizeVectorTransfers
    : Pass<"sensq-optimize-vector-transfers", "::mlir::func::FuncOp"> {
  let summary = "Hoist and forward vector transfers on buffers";
  let description = [{
    Runs on bufferized code. Folds `memref.subview` and other view ops into
    the indices of the transfers that use them, hoists loop-invariant code,
    hoists read/write pairs of the same vector out of loops (the
    accumulator of a tiled reduction then stays in registers across the
    reduction loop) and forwards stored vectors to later reads.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def SensQLowerVectors : Pass<"sensq-lower-vectors", "::mlir::func::FuncOp"> {
  let summary = "Lower n-D vector ops to 1-D vector ops in separate stages";
  let description = [{
    Lowers contractions, multi-reductions, transposes, masks and transfers
    to operations on 1-D vectors that `convert-vector-to-llvm` maps onto
    LLVM directly. Each kind of rewrite runs as its own greedy stage: mixing
    shape-cast or broadcast lowering with canonicalization in one pattern
    set makes the rewrites undo each other and use unbounded memory.

    With `approximate-math`, `math.exp`, `math.tanh`, `math.log` and other
    transcendental functions are replaced by polynomial approximations
    built from arith ops, so that they stay vectorized instead of becoming
    one libm call per element.
  }];
  let options = [
    Option<"approximateMath", "approximate-math", "bool", /*default=*/"true",
           "Replace transcendental math ops by polynomial approximations "
           "(default: true)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // SENSQ_PIPELINES_PASSES_TD
