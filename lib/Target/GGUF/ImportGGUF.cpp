//===- ImportGGUF.cpp - GGUF Llama model to MLIR importer -----------------===//
//
// The forward pass follows llama2.c and llama.cpp for the `llama`
// architecture, with D = embedding length, H query heads and Hkv key/value
// heads of size hd = D / H, feed-forward length F and vocabulary V:
//
//   x = embedding[tokens]
//   for each block:
//     h = rmsNorm(x, attn_norm)
//     q, k, v = h Wq^T, h Wk^T, h Wv^T        (then RoPE on q and k)
//     x = x + attention(q, k, v) Wo^T
//     h = rmsNorm(x, ffn_norm)
//     x = x + (silu(h Wgate^T) * (h Wup^T)) Wdown^T
//   logits = rmsNorm(x, output_norm) Wout^T
//
// Wout is `output.weight` when the file has it, else the embedding matrix
// `token_embd.weight` (tied embeddings).
//
//===----------------------------------------------------------------------===//

#include "sensq/Target/GGUF/ImportGGUF.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace sensq;
using llvm::Error;
using llvm::Expected;

/// Longest supported sequence: the attention scores of one block take
/// H * T^2 floats, so a larger T cannot run anyway.
static constexpr int64_t kMaxSeqLen = int64_t(1) << 20;
/// Upper bound of every model dimension, which keeps products of dimensions
/// far from int64 overflow.
static constexpr uint64_t kMaxModelDim = uint64_t(1) << 24;

void sensq::registerImportGGUFDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
                  math::MathDialect, tensor::TensorDialect>();
}

//===----------------------------------------------------------------------===//
// Model configuration
//===----------------------------------------------------------------------===//

namespace {
/// Hyperparameters of a Llama model.
struct LlamaConfig {
  int64_t dim;        // D, embedding length.
  int64_t numLayers;  // Number of transformer blocks.
  int64_t numHeads;   // H, query heads.
  int64_t numKVHeads; // Hkv, key/value heads; H is a multiple of it.
  int64_t headDim;    // hd = D / H.
  int64_t ffnDim;     // F, feed-forward length.
  int64_t vocabSize;  // V, rows of the embedding matrix.
  int64_t contextLength;
  double rmsEpsilon;
  double ropeBase;
  /// Weight of the output projection: output.weight or token_embd.weight.
  std::string outputWeight;
};

/// A tensor the model needs, with its row-major shape (the reverse of the
/// ggml dims).
struct ExpectedTensor {
  std::string name;
  SmallVector<int64_t> shape;
};
} // namespace

static Error makeError(const gguf::GGUFFile &file, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 file.getPath() + ": " + message);
}

/// Reads a positive dimension from `key`, or `defaultValue` when the key is
/// absent and a default exists.
static Expected<int64_t> readDim(const gguf::GGUFFile &file, StringRef key,
                                 std::optional<int64_t> defaultValue = {}) {
  if (defaultValue && !file.hasKey(key))
    return *defaultValue;
  Expected<uint64_t> value = file.getUInt(key);
  if (!value)
    return value.takeError();
  if (*value == 0 || *value > kMaxModelDim)
    return makeError(file, llvm::formatv("key '{0}' is {1}; expected a value "
                                         "from 1 to {2}",
                                         key, *value, kMaxModelDim)
                               .str());
  return static_cast<int64_t>(*value);
}

static Expected<LlamaConfig> readConfig(const gguf::GGUFFile &file) {
  Expected<std::string> arch = file.getString("general.architecture");
  if (!arch)
    return arch.takeError();
  if (*arch != "llama")
    return makeError(file, "model architecture is " +
                               gguf::quoteForMessage(*arch) +
                               "; expected 'llama'");

  LlamaConfig config;
  auto readInto = [&](int64_t &field, StringRef key,
                      std::optional<int64_t> defaultValue = {}) -> Error {
    Expected<int64_t> value = readDim(file, key, defaultValue);
    if (!value)
      return value.takeError();
    field = *value;
    return Error::success();
  };
  if (Error err = readInto(config.dim, "llama.embedding_length"))
    return std::move(err);
  if (Error err = readInto(config.numLayers, "llama.block_count"))
    return std::move(err);
  if (Error err = readInto(config.numHeads, "llama.attention.head_count"))
    return std::move(err);
  if (Error err = readInto(config.numKVHeads, "llama.attention.head_count_kv",
                           config.numHeads))
    return std::move(err);
  if (Error err = readInto(config.ffnDim, "llama.feed_forward_length"))
    return std::move(err);
  if (Error err = readInto(config.contextLength, "llama.context_length"))
    return std::move(err);

  if (config.dim % config.numHeads != 0)
    return makeError(file, llvm::formatv("embedding length {0} is not a "
                                         "multiple of the head count {1}",
                                         config.dim, config.numHeads)
                               .str());
  if (config.numHeads % config.numKVHeads != 0)
    return makeError(file, llvm::formatv("head count {0} is not a multiple of "
                                         "the key/value head count {1}",
                                         config.numHeads, config.numKVHeads)
                               .str());
  config.headDim = config.dim / config.numHeads;
  if (config.headDim % 2 != 0)
    return makeError(file, llvm::formatv("head size {0} is odd; RoPE rotates "
                                         "pairs of elements",
                                         config.headDim)
                               .str());

  // Variants this importer does not implement: separate key/value head
  // sizes, partial rotary embeddings, RoPE scaling and mixtures of experts.
  for (StringRef key :
       {"llama.attention.key_length", "llama.attention.value_length",
        "llama.rope.dimension_count"}) {
    if (!file.hasKey(key))
      continue;
    Expected<int64_t> value = readDim(file, key);
    if (!value)
      return value.takeError();
    if (*value != config.headDim)
      return makeError(file, llvm::formatv("key '{0}' is {1}; only the head "
                                           "size {2} is supported",
                                           key, *value, config.headDim)
                                 .str());
  }
  if (file.hasKey("llama.rope.scaling.type")) {
    Expected<std::string> scaling = file.getString("llama.rope.scaling.type");
    if (!scaling)
      return scaling.takeError();
    if (*scaling != "none")
      return makeError(file, "RoPE scaling " + gguf::quoteForMessage(*scaling) +
                                 " is not supported; expected 'none'");
  }
  if (file.hasKey("llama.expert_count")) {
    Expected<uint64_t> experts = file.getUInt("llama.expert_count");
    if (!experts)
      return experts.takeError();
    if (*experts != 0)
      return makeError(file,
                       "mixture-of-experts models (llama.expert_count = " +
                           llvm::Twine(*experts) + ") are not supported");
  }

  Expected<double> epsilon =
      file.getFloat("llama.attention.layer_norm_rms_epsilon");
  if (!epsilon)
    return epsilon.takeError();
  if (!(*epsilon > 0.0 && *epsilon < 1.0))
    return makeError(file, llvm::formatv("key "
                                         "'llama.attention.layer_norm_rms_"
                                         "epsilon' is {0}; expected a value "
                                         "in (0, 1)",
                                         *epsilon)
                               .str());
  config.rmsEpsilon = *epsilon;

  config.ropeBase = 10000.0;
  if (file.hasKey("llama.rope.freq_base")) {
    Expected<double> base = file.getFloat("llama.rope.freq_base");
    if (!base)
      return base.takeError();
    if (!(*base > 1.0 && std::isfinite(*base)))
      return makeError(file, llvm::formatv("key 'llama.rope.freq_base' is "
                                           "{0}; expected a finite value "
                                           "above 1",
                                           *base)
                                 .str());
    config.ropeBase = *base;
  }

  // The vocabulary size is the row count of the embedding matrix.
  const gguf::TensorInfo *embedding = file.findTensor("token_embd.weight");
  if (!embedding)
    return makeError(file, "tensor 'token_embd.weight' not found");
  if (embedding->dims.size() != 2 || embedding->dims[1] == 0 ||
      embedding->dims[1] > kMaxModelDim)
    return makeError(file, "tensor 'token_embd.weight' is not a matrix with "
                           "1 to " +
                               llvm::Twine(kMaxModelDim) + " rows");
  config.vocabSize = static_cast<int64_t>(embedding->dims[1]);
  config.outputWeight =
      file.findTensor("output.weight") ? "output.weight" : "token_embd.weight";
  return config;
}

/// Lists every tensor the model reads, with its row-major shape.
static std::vector<ExpectedTensor> listTensors(const LlamaConfig &c) {
  int64_t qDim = c.numHeads * c.headDim;
  int64_t kvDim = c.numKVHeads * c.headDim;
  std::vector<ExpectedTensor> result;
  result.push_back({"token_embd.weight", {c.vocabSize, c.dim}});
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string prefix = "blk." + std::to_string(l) + ".";
    result.push_back({prefix + "attn_norm.weight", {c.dim}});
    result.push_back({prefix + "attn_q.weight", {qDim, c.dim}});
    result.push_back({prefix + "attn_k.weight", {kvDim, c.dim}});
    result.push_back({prefix + "attn_v.weight", {kvDim, c.dim}});
    result.push_back({prefix + "attn_output.weight", {c.dim, qDim}});
    result.push_back({prefix + "ffn_norm.weight", {c.dim}});
    result.push_back({prefix + "ffn_gate.weight", {c.ffnDim, c.dim}});
    result.push_back({prefix + "ffn_up.weight", {c.ffnDim, c.dim}});
    result.push_back({prefix + "ffn_down.weight", {c.dim, c.ffnDim}});
  }
  result.push_back({"output_norm.weight", {c.dim}});
  if (c.outputWeight == "output.weight")
    result.push_back({"output.weight", {c.vocabSize, c.dim}});
  return result;
}

/// Formats a shape as "AxB".
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::interleave(shape, os, "x");
  return result;
}

/// Formats ggml dims as "[A, B]".
static std::string formatDims(ArrayRef<uint64_t> dims) {
  std::string result;
  llvm::raw_string_ostream os(result);
  os << "[";
  llvm::interleaveComma(dims, os);
  os << "]";
  return result;
}

/// Checks presence, shape and type of every tensor the model reads, and that
/// the file has no tensor the importer would ignore (such as biases).
static Error checkTensors(const gguf::GGUFFile &file, const LlamaConfig &config,
                          ArrayRef<ExpectedTensor> expected) {
  llvm::StringSet<> names;
  for (const ExpectedTensor &tensor : expected) {
    names.insert(tensor.name);
    SmallVector<uint64_t> dims(llvm::reverse(tensor.shape));
    const gguf::TensorInfo *info = file.findTensor(tensor.name);
    if (!info)
      return makeError(file,
                       llvm::formatv("tensor '{0}' not found; expected "
                                     "shape {1} (ggml dims {2})",
                                     tensor.name, formatShape(tensor.shape),
                                     formatDims(dims))
                           .str());
    if (ArrayRef<uint64_t>(info->dims) != ArrayRef<uint64_t>(dims))
      return makeError(file, llvm::formatv("tensor '{0}' has ggml dims {1}; "
                                           "expected {2} (shape {3})",
                                           tensor.name, formatDims(info->dims),
                                           formatDims(dims),
                                           formatShape(tensor.shape))
                                 .str());
    if (info->type != gguf::TensorType::F32 &&
        info->type != gguf::TensorType::F16)
      return makeError(file,
                       llvm::formatv("tensor '{0}' has type {1}; "
                                     "expected F32 or F16",
                                     tensor.name,
                                     gguf::stringifyTensorType(info->type))
                           .str());
  }
  for (const gguf::TensorInfo &info : file.getTensors())
    if (!names.contains(info.name))
      return makeError(
          file, "unexpected tensor " + gguf::quoteForMessage(info.name) +
                    "; a llama model with " + llvm::Twine(config.numLayers) +
                    " blocks has no such tensor");
  return Error::success();
}

//===----------------------------------------------------------------------===//
// IR construction
//===----------------------------------------------------------------------===//

namespace {
/// Builds @forward. Weights must have been checked by checkTensors and
/// loaded into `weights`, so building cannot fail.
class LlamaBuilder {
public:
  LlamaBuilder(ImplicitLocOpBuilder &b, const LlamaConfig &config,
               int64_t seqLen, const llvm::StringMap<ElementsAttr> &weights)
      : b(b), config(config), seqLen(seqLen), weights(weights),
        f32(b.getF32Type()) {}

  void buildForward(func::FuncOp func);

private:
  RankedTensorType tensorType(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, f32);
  }
  Value f32Constant(double value) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
  }
  Value emptyTensor(ArrayRef<int64_t> shape) {
    return tensor::EmptyOp::create(b, shape, f32);
  }
  Value filledTensor(ArrayRef<int64_t> shape, double value) {
    return linalg::FillOp::create(b, ValueRange{f32Constant(value)},
                                  ValueRange{emptyTensor(shape)})
        .getResult(0);
  }
  Value weight(StringRef name) {
    return arith::ConstantOp::create(b, cast<TypedAttr>(weights.lookup(name)));
  }
  /// Affine map of `numDims` loops to the loop dimensions `results`.
  AffineMap map(unsigned numDims, ArrayRef<unsigned> results) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : results)
      exprs.push_back(b.getAffineDimExpr(d));
    return AffineMap::get(numDims, 0, exprs, b.getContext());
  }
  Value generic(ArrayRef<int64_t> resultShape, ValueRange inputs, Value init,
                ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    auto op = linalg::GenericOp::create(
        b, TypeRange{tensorType(resultShape)}, inputs, ValueRange{init}, maps,
        iterators, [&](OpBuilder &nb, Location loc, ValueRange args) {
          linalg::YieldOp::create(nb, loc, body(nb, loc, args));
        });
    return op.getResult(0);
  }

  Value embed(Value tokens);
  Value rmsNorm(Value x, StringRef weightName);
  Value matmul(Value x, StringRef weightName);
  Value rope(Value x, int64_t numHeads);
  Value attention(Value q, Value k, Value v);
  Value feedForward(Value x, StringRef prefix);
  Value add(Value lhs, Value rhs);

  ImplicitLocOpBuilder &b;
  const LlamaConfig &config;
  int64_t seqLen;
  const llvm::StringMap<ElementsAttr> &weights;
  Type f32;
};
} // namespace

static constexpr utils::IteratorType kParallel = utils::IteratorType::parallel;
static constexpr utils::IteratorType kReduction =
    utils::IteratorType::reduction;

/// x[t, d] = embedding[clamp(tokens[t], 0, V - 1), d]. Clamping keeps an
/// out-of-range id from reading outside the table.
Value LlamaBuilder::embed(Value tokens) {
  int64_t vocab = config.vocabSize;
  Value table = weight("token_embd.weight");
  return generic(
      {seqLen, config.dim}, tokens, emptyTensor({seqLen, config.dim}),
      {map(2, {0}), map(2, {0, 1})}, {kParallel, kParallel},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value zero = arith::ConstantIntOp::create(nb, loc, 0, 32);
        Value last = arith::ConstantIntOp::create(nb, loc, vocab - 1, 32);
        Value token = arith::MinSIOp::create(
            nb, loc, arith::MaxSIOp::create(nb, loc, args[0], zero), last);
        Value row =
            arith::IndexCastOp::create(nb, loc, nb.getIndexType(), token);
        Value col = linalg::IndexOp::create(nb, loc, 1);
        return tensor::ExtractOp::create(nb, loc, table, ValueRange{row, col})
            .getResult();
      });
}

/// y[t, d] = x[t, d] / sqrt(mean_d(x[t, d]^2) + eps) * w[d].
Value LlamaBuilder::rmsNorm(Value x, StringRef weightName) {
  int64_t dim = config.dim;
  Value sumSquares = generic(
      {seqLen}, x, filledTensor({seqLen}, 0.0), {map(2, {0, 1}), map(2, {0})},
      {kParallel, kReduction},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value square = arith::MulFOp::create(nb, loc, args[0], args[0]);
        return arith::AddFOp::create(nb, loc, args[1], square).getResult();
      });
  Value w = weight(weightName);
  Value invDim = f32Constant(1.0 / static_cast<double>(dim));
  Value epsilon = f32Constant(config.rmsEpsilon);
  return generic(
      {seqLen, dim}, ValueRange{x, sumSquares, w}, emptyTensor({seqLen, dim}),
      {map(2, {0, 1}), map(2, {0}), map(2, {1}), map(2, {0, 1})},
      {kParallel, kParallel},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value mean = arith::MulFOp::create(nb, loc, args[1], invDim);
        Value scale = math::RsqrtOp::create(
            nb, loc, arith::AddFOp::create(nb, loc, mean, epsilon));
        Value normalized = arith::MulFOp::create(nb, loc, args[0], scale);
        return arith::MulFOp::create(nb, loc, normalized, args[2]).getResult();
      });
}

/// y[m, n] = sum_k x[m, k] * W[n, k], i.e. y = x W^T with W of shape [N, K]
/// as stored in GGUF. The op is marked with the weight's tensor name.
Value LlamaBuilder::matmul(Value x, StringRef weightName) {
  Value w = weight(weightName);
  int64_t rows = cast<RankedTensorType>(w.getType()).getDimSize(0);
  Value init = filledTensor({seqLen, rows}, 0.0);
  MLIRContext *context = b.getContext();
  AffineExpr m = getAffineDimExpr(0, context);
  AffineExpr n = getAffineDimExpr(1, context);
  AffineExpr k = getAffineDimExpr(2, context);
  auto mapOf = [&](ArrayRef<AffineExpr> exprs) -> Attribute {
    return AffineMapAttr::get(AffineMap::get(3, 0, exprs, context));
  };
  ArrayAttr maps =
      b.getArrayAttr({mapOf({m, k}), mapOf({n, k}), mapOf({m, n})});
  auto op = linalg::MatmulOp::create(
      b, TypeRange{tensorType({seqLen, rows})}, ValueRange{x, w},
      ValueRange{init},
      {b.getNamedAttr("indexing_maps", maps),
       b.getNamedAttr(kWeightAttrName, b.getStringAttr(weightName))});
  return op.getResult(0);
}

/// Rotary position embedding of adjacent pairs within each head (the Meta
/// layout of q and k). Pair p of position t rotates by t * theta_p with
/// theta_p = base^(-2p / hd):
///   y[2p]     = x[2p] cos - x[2p+1] sin
///   y[2p + 1] = x[2p] sin + x[2p+1] cos
Value LlamaBuilder::rope(Value x, int64_t numHeads) {
  int64_t hd = config.headDim;
  int64_t width = numHeads * hd;
  // theta of each element of a head, computed in double and rounded once.
  SmallVector<float> thetas;
  for (int64_t i = 0; i < hd; ++i)
    thetas.push_back(static_cast<float>(
        std::pow(config.ropeBase, -static_cast<double>(i / 2 * 2) / hd)));
  auto thetaType = tensorType({hd});
  Value theta = arith::ConstantOp::create(
      b, DenseElementsAttr::get(thetaType, ArrayRef<float>(thetas)));

  Value heads = tensor::ExpandShapeOp::create(
      b, tensorType({seqLen, numHeads, hd}), x,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  Value rotated = generic(
      {seqLen, numHeads, hd}, ValueRange{heads, theta},
      emptyTensor({seqLen, numHeads, hd}),
      {map(3, {0, 1, 2}), map(3, {2}), map(3, {0, 1, 2})},
      {kParallel, kParallel, kParallel},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value t = linalg::IndexOp::create(nb, loc, 0);
        Value h = linalg::IndexOp::create(nb, loc, 1);
        Value i = linalg::IndexOp::create(nb, loc, 2);
        Value one = arith::ConstantIndexOp::create(nb, loc, 1);
        Value position = arith::UIToFPOp::create(
            nb, loc, f32,
            arith::IndexCastUIOp::create(nb, loc, nb.getI64Type(), t));
        Value angle = arith::MulFOp::create(nb, loc, position, args[1]);
        Value cos = math::CosOp::create(nb, loc, angle);
        Value sin = math::SinOp::create(nb, loc, angle);
        // The partner of element i is i ^ 1. Even elements subtract its
        // rotated share and odd elements add it.
        Value partnerIndex = arith::XOrIOp::create(nb, loc, i, one);
        Value partner = tensor::ExtractOp::create(
            nb, loc, heads, ValueRange{t, h, partnerIndex});
        Value isOdd =
            arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::ne,
                                  arith::AndIOp::create(nb, loc, i, one),
                                  arith::ConstantIndexOp::create(nb, loc, 0));
        Value signedSin = arith::SelectOp::create(
            nb, loc, isOdd, sin, arith::NegFOp::create(nb, loc, sin));
        return arith::AddFOp::create(
                   nb, loc, arith::MulFOp::create(nb, loc, args[0], cos),
                   arith::MulFOp::create(nb, loc, partner, signedSin))
            .getResult();
      });
  return tensor::CollapseShapeOp::create(
      b, tensorType({seqLen, width}), rotated,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
}

/// Causal grouped-query attention. Query head h = c * G + g (G = H / Hkv)
/// reads key/value head c:
///   s[c, g, t, u] = (q[t, c, g, :] . k[u, c, :]) / sqrt(hd)   for u <= t
///   p[c, g, t, u] = exp(s - max_u s) / sum_u exp(s - max_u s)   (0 for u > t)
///   y[t, c, g, :] = sum_u p[c, g, t, u] * v[u, c, :]
Value LlamaBuilder::attention(Value q, Value k, Value v) {
  int64_t T = seqLen;
  int64_t hd = config.headDim;
  int64_t kvHeads = config.numKVHeads;
  int64_t group = config.numHeads / kvHeads;
  Value q4 = tensor::ExpandShapeOp::create(
      b, tensorType({T, kvHeads, group, hd}), q,
      ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
  Value k3 = tensor::ExpandShapeOp::create(
      b, tensorType({T, kvHeads, hd}), k,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  Value v3 = tensor::ExpandShapeOp::create(
      b, tensorType({T, kvHeads, hd}), v,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});

  // Raw dot products, loops (c, g, t, u, i).
  Value dots = generic(
      {kvHeads, group, T, T}, ValueRange{q4, k3},
      filledTensor({kvHeads, group, T, T}, 0.0),
      {map(5, {2, 0, 1, 4}), map(5, {3, 0, 4}), map(5, {0, 1, 2, 3})},
      {kParallel, kParallel, kParallel, kParallel, kReduction},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value product = arith::MulFOp::create(nb, loc, args[0], args[1]);
        return arith::AddFOp::create(nb, loc, args[2], product).getResult();
      });

  // Loops (c, g, t, u) over the scores, with u <= t selecting the causal
  // part of row t.
  Value scale = f32Constant(1.0 / std::sqrt(static_cast<double>(hd)));
  auto isCausal = [](OpBuilder &nb, Location loc) -> Value {
    Value t = linalg::IndexOp::create(nb, loc, 2);
    Value u = linalg::IndexOp::create(nb, loc, 3);
    return arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::ule, u, t);
  };
  SmallVector<utils::IteratorType> rowReduction = {kParallel, kParallel,
                                                   kParallel, kReduction};
  SmallVector<utils::IteratorType> allParallel(4, kParallel);
  AffineMap scoreMap = map(4, {0, 1, 2, 3});
  AffineMap rowMap = map(4, {0, 1, 2});

  Value rowMax =
      generic({kvHeads, group, T}, dots,
              filledTensor({kvHeads, group, T},
                           -std::numeric_limits<double>::infinity()),
              {scoreMap, rowMap}, rowReduction,
              [&](OpBuilder &nb, Location loc, ValueRange args) {
                Value score = arith::MulFOp::create(nb, loc, args[0], scale);
                Value larger =
                    arith::MaximumFOp::create(nb, loc, args[1], score);
                return arith::SelectOp::create(nb, loc, isCausal(nb, loc),
                                               larger, args[1])
                    .getResult();
              });

  // exp(s - max) of a causal score.
  auto shiftedExp = [&](OpBuilder &nb, Location loc, Value dot, Value max) {
    Value score = arith::MulFOp::create(nb, loc, dot, scale);
    return math::ExpOp::create(nb, loc,
                               arith::SubFOp::create(nb, loc, score, max))
        .getResult();
  };
  Value rowSum = generic(
      {kvHeads, group, T}, ValueRange{dots, rowMax},
      filledTensor({kvHeads, group, T}, 0.0), {scoreMap, rowMap, rowMap},
      rowReduction, [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value sum = arith::AddFOp::create(
            nb, loc, args[2], shiftedExp(nb, loc, args[0], args[1]));
        return arith::SelectOp::create(nb, loc, isCausal(nb, loc), sum, args[2])
            .getResult();
      });
  Value probs = generic(
      {kvHeads, group, T, T}, ValueRange{dots, rowMax, rowSum},
      emptyTensor({kvHeads, group, T, T}), {scoreMap, rowMap, rowMap, scoreMap},
      allParallel, [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value p = arith::DivFOp::create(
            nb, loc, shiftedExp(nb, loc, args[0], args[1]), args[2]);
        Value zero = arith::ConstantOp::create(nb, loc, nb.getF32FloatAttr(0));
        return arith::SelectOp::create(nb, loc, isCausal(nb, loc), p, zero)
            .getResult();
      });

  // Weighted values, loops (t, c, g, i, u).
  Value heads = generic(
      {T, kvHeads, group, hd}, ValueRange{probs, v3},
      filledTensor({T, kvHeads, group, hd}, 0.0),
      {map(5, {1, 2, 0, 4}), map(5, {4, 1, 3}), map(5, {0, 1, 2, 3})},
      {kParallel, kParallel, kParallel, kParallel, kReduction},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value product = arith::MulFOp::create(nb, loc, args[0], args[1]);
        return arith::AddFOp::create(nb, loc, args[2], product).getResult();
      });
  return tensor::CollapseShapeOp::create(
      b, tensorType({T, config.numHeads * hd}), heads,
      ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
}

/// SwiGLU: y = (silu(x Wgate^T) * (x Wup^T)) Wdown^T with
/// silu(a) = a / (1 + exp(-a)).
Value LlamaBuilder::feedForward(Value x, StringRef prefix) {
  Value gate = matmul(x, (prefix + "ffn_gate.weight").str());
  Value up = matmul(x, (prefix + "ffn_up.weight").str());
  int64_t ffn = config.ffnDim;
  Value one = f32Constant(1.0);
  Value hidden = generic(
      {seqLen, ffn}, ValueRange{gate, up}, emptyTensor({seqLen, ffn}),
      {map(2, {0, 1}), map(2, {0, 1}), map(2, {0, 1})}, {kParallel, kParallel},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value negated = arith::NegFOp::create(nb, loc, args[0]);
        Value denominator = arith::AddFOp::create(
            nb, loc, one, math::ExpOp::create(nb, loc, negated));
        Value silu = arith::DivFOp::create(nb, loc, args[0], denominator);
        return arith::MulFOp::create(nb, loc, silu, args[1]).getResult();
      });
  return matmul(hidden, (prefix + "ffn_down.weight").str());
}

/// y = lhs + rhs, elementwise over [T, D].
Value LlamaBuilder::add(Value lhs, Value rhs) {
  AffineMap identity = map(2, {0, 1});
  return generic(
      {seqLen, config.dim}, ValueRange{lhs, rhs},
      emptyTensor({seqLen, config.dim}), {identity, identity, identity},
      {kParallel, kParallel},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        return arith::AddFOp::create(nb, loc, args[0], args[1]).getResult();
      });
}

void LlamaBuilder::buildForward(func::FuncOp func) {
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Location fileLoc = b.getLoc();

  b.setLoc(NameLoc::get(b.getStringAttr("token_embd"), fileLoc));
  Value x = embed(entry->getArgument(0));
  for (int64_t l = 0; l < config.numLayers; ++l) {
    std::string prefix = "blk." + std::to_string(l) + ".";
    b.setLoc(
        NameLoc::get(b.getStringAttr("blk." + std::to_string(l)), fileLoc));
    Value h = rmsNorm(x, prefix + "attn_norm.weight");
    Value q = rope(matmul(h, prefix + "attn_q.weight"), config.numHeads);
    Value k = rope(matmul(h, prefix + "attn_k.weight"), config.numKVHeads);
    Value v = matmul(h, prefix + "attn_v.weight");
    Value attended = attention(q, k, v);
    x = add(x, matmul(attended, prefix + "attn_output.weight"));
    h = rmsNorm(x, prefix + "ffn_norm.weight");
    x = add(x, feedForward(h, prefix));
  }
  b.setLoc(NameLoc::get(b.getStringAttr("output"), fileLoc));
  Value logits = matmul(rmsNorm(x, "output_norm.weight"), config.outputWeight);
  func::ReturnOp::create(b, logits);
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

/// Reads tensor `tensor` as float32 into a dense_resource attribute keyed by
/// its name, failing on NaN or infinite elements.
static Expected<ElementsAttr>
loadWeight(const gguf::GGUFFile &file, const ExpectedTensor &tensor, Type f32) {
  const gguf::TensorInfo *info = file.findTensor(tensor.name);
  Expected<std::vector<float>> values = file.readTensorAsF32(*info);
  if (!values)
    return values.takeError();
  for (size_t i = 0; i < values->size(); ++i)
    if (!std::isfinite((*values)[i]))
      return makeError(file, llvm::formatv("tensor '{0}' has the non-finite "
                                           "value {1} at element {2}; "
                                           "expected finite weights",
                                           tensor.name, (*values)[i], i)
                                 .str());
  auto type = RankedTensorType::get(tensor.shape, f32);
  Attribute attr = DenseF32ResourceElementsAttr::get(
      type, tensor.name,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(*values)));
  return cast<ElementsAttr>(attr);
}

Expected<OwningOpRef<ModuleOp>>
sensq::importGGUF(const gguf::GGUFFile &file, MLIRContext *context,
                  const ImportOptions &options) {
  Expected<LlamaConfig> config = readConfig(file);
  if (!config)
    return config.takeError();

  int64_t seqLen = options.seqLen ? options.seqLen : config->contextLength;
  if (seqLen < 1 || seqLen > kMaxSeqLen)
    return makeError(file, llvm::formatv("sequence length {0} is out of "
                                         "range; expected 1 to {1}",
                                         seqLen, kMaxSeqLen)
                               .str());
  if (seqLen > config->contextLength)
    return makeError(file, llvm::formatv("sequence length {0} exceeds the "
                                         "context length {1} of the model",
                                         seqLen, config->contextLength)
                               .str());

  std::vector<ExpectedTensor> tensors = listTensors(*config);
  if (Error err = checkTensors(file, *config, tensors))
    return std::move(err);

  context->loadDialect<arith::ArithDialect, func::FuncDialect,
                       linalg::LinalgDialect, math::MathDialect,
                       tensor::TensorDialect>();

  Type f32 = Float32Type::get(context);
  llvm::StringMap<ElementsAttr> weights;
  for (const ExpectedTensor &tensor : tensors) {
    Expected<ElementsAttr> attr = loadWeight(file, tensor, f32);
    if (!attr)
      return attr.takeError();
    weights[tensor.name] = *attr;
  }

  Location fileLoc = FileLineColLoc::get(context, file.getPath(), 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  ImplicitLocOpBuilder b(fileLoc, context);
  b.setInsertionPointToEnd(module->getBody());

  std::string modelName;
  if (file.hasKey("general.name")) {
    Expected<std::string> name = file.getString("general.name");
    if (!name)
      return name.takeError();
    modelName = *name;
  }
  if (modelName.empty())
    modelName = llvm::sys::path::stem(file.getPath()).str();
  (*module)->setAttr(kVocabSizeAttrName,
                     b.getI64IntegerAttr(config->vocabSize));
  (*module)->setAttr(kSeqLenAttrName, b.getI64IntegerAttr(seqLen));
  (*module)->setAttr(kModelAttrName, b.getStringAttr(modelName));

  auto tokensType = RankedTensorType::get({seqLen}, b.getI32Type());
  auto logitsType = RankedTensorType::get({seqLen, config->vocabSize}, f32);
  auto func = func::FuncOp::create(
      b, "forward", b.getFunctionType({tokensType}, {logitsType}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());

  LlamaBuilder(b, *config, seqLen, weights).buildForward(func);
  return module;
}
