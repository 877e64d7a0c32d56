//===- ModelRunnerTest.cpp - Tests of JIT model execution -----------------===//

#include "sensq/Runtime/ModelRunner.h"

#include "sensq/Runtime/Evaluation.h"
#include "sensq/Runtime/Tokenizer.h"
#include "sensq/Target/GGUF/GGUFFile.h"
#include "sensq/Target/GGUF/ImportGGUF.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace sensq;

namespace {

const char *const kModelPath = SENSQ_SOURCE_DIR "/data/stories260K-f32.gguf";

/// logits[t, v] = 10 * tokens[t] + v over T = 4 positions and V = 5.
constexpr const char *kAffineModel = R"mlir(
module attributes {sensq.vocab_size = 5 : i64} {
  func.func @forward(%tokens: tensor<4xi32>) -> tensor<4x5xf32> {
    %c10 = arith.constant 10 : i32
    %e = tensor.empty() : tensor<4x5xf32>
    %r = linalg.generic {
        indexing_maps = [affine_map<(t, v) -> (t)>, affine_map<(t, v) -> (t, v)>],
        iterator_types = ["parallel", "parallel"]}
        ins(%tokens : tensor<4xi32>) outs(%e : tensor<4x5xf32>) {
    ^bb0(%tok: i32, %out: f32):
      %v = linalg.index 1 : index
      %vi = arith.index_cast %v : index to i32
      %t10 = arith.muli %tok, %c10 : i32
      %s = arith.addi %t10, %vi : i32
      %f = arith.sitofp %s : i32 to f32
      linalg.yield %f : f32
    } -> tensor<4x5xf32>
    return %r : tensor<4x5xf32>
  }
}
)mlir";

std::unique_ptr<ModelRunner>
compileOrFail(llvm::StringRef source, const ModelRunnerOptions &options = {}) {
  llvm::Expected<std::unique_ptr<ModelRunner>> runner =
      ModelRunner::fromString(source, "test.mlir", options);
  EXPECT_TRUE(static_cast<bool>(runner)) << llvm::toString(runner.takeError());
  return runner ? std::move(*runner) : nullptr;
}

std::string compileError(llvm::StringRef source) {
  llvm::Expected<std::unique_ptr<ModelRunner>> runner =
      ModelRunner::fromString(source, "test.mlir");
  if (runner)
    return "<compiled>";
  return llvm::toString(runner.takeError());
}

TEST(ModelRunnerTest, RunsForwardWithPadding) {
  std::unique_ptr<ModelRunner> runner = compileOrFail(kAffineModel);
  ASSERT_TRUE(runner);
  EXPECT_EQ(runner->getSeqLen(), 4);
  EXPECT_EQ(runner->getVocabSize(), 5);
  EXPECT_TRUE(runner->getSignature().extraColumns.empty());

  ForwardResult result;
  ASSERT_FALSE(static_cast<bool>(runner->forward({3, 1}, result, 2)));
  ASSERT_EQ(result.logits.size(), 20u);
  // Rows 0 and 1 hold tokens 3 and 1; rows 2 and 3 the padding token 2.
  std::vector<int32_t> rowTokens = {3, 1, 2, 2};
  for (int t = 0; t < 4; ++t)
    for (int v = 0; v < 5; ++v)
      EXPECT_EQ(result.logits[t * 5 + v], 10.0f * rowTokens[t] + v)
          << "row " << t << " column " << v;
}

TEST(ModelRunnerTest, RejectsBadTokens) {
  std::unique_ptr<ModelRunner> runner = compileOrFail(kAffineModel);
  ASSERT_TRUE(runner);
  ForwardResult result;
  EXPECT_EQ(llvm::toString(runner->forward({}, result)),
            "test.mlir: forward got 0 tokens; expected 1 to 4");
  EXPECT_EQ(llvm::toString(runner->forward({1, 2, 3, 4, 0}, result)),
            "test.mlir: forward got 5 tokens; expected 1 to 4");
  EXPECT_EQ(llvm::toString(runner->forward({1, 5}, result)),
            "test.mlir: token 5 at position 1 is outside the vocabulary of 5");
  EXPECT_EQ(llvm::toString(runner->forward({-1}, result)),
            "test.mlir: token -1 at position 0 is outside the vocabulary of 5");
  EXPECT_EQ(llvm::toString(runner->forward({1}, result, 9)),
            "test.mlir: padding token 9 is outside the vocabulary of 5");
}

TEST(ModelRunnerTest, RejectsUnparsableModule) {
  std::string message = compileError("func.func @forward(");
  EXPECT_EQ(message.rfind("test.mlir: cannot parse the module: 1:", 0), 0u)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(ModelRunnerTest, RejectsMissingFile) {
  llvm::Expected<std::unique_ptr<ModelRunner>> runner =
      ModelRunner::fromFile("/nonexistent/model.mlir");
  ASSERT_FALSE(static_cast<bool>(runner));
  std::string message = llvm::toString(runner.takeError());
  EXPECT_EQ(
      message.rfind("/nonexistent/model.mlir: cannot read the module: ", 0), 0u)
      << message;
}

TEST(ModelRunnerTest, RejectsMissingEntryFunction) {
  EXPECT_EQ(compileError("func.func @other(%t: tensor<4xi32>) -> "
                         "tensor<4xi32> { return %t : tensor<4xi32> }"),
            "test.mlir: module has no function @forward");
  EXPECT_EQ(compileError("func.func private @forward(%t: tensor<4xi32>) -> "
                         "tensor<4x5xf32>"),
            "test.mlir: module has no function @forward");
}

TEST(ModelRunnerTest, RejectsWrongSignature) {
  EXPECT_EQ(compileError(R"mlir(
    func.func @forward(%t: tensor<4xf32>) -> tensor<4x5xf32> {
      %e = tensor.empty() : tensor<4x5xf32>
      return %e : tensor<4x5xf32>
    })mlir"),
            "test.mlir: @forward takes tensor<4xf32>; expected tensor<Txi32> "
            "with a static T >= 1");
  EXPECT_EQ(compileError(R"mlir(
    func.func @forward(%t: tensor<4xi32>, %u: tensor<4xi32>) -> tensor<4x5xf32> {
      %e = tensor.empty() : tensor<4x5xf32>
      return %e : tensor<4x5xf32>
    })mlir"),
            "test.mlir: @forward takes 2 arguments; expected one "
            "tensor<Txi32> of token ids");
  EXPECT_EQ(compileError(R"mlir(
    func.func @forward(%t: tensor<4xi32>) {
      return
    })mlir"),
            "test.mlir: @forward returns nothing; expected tensor<4xVxf32> "
            "logits");
  EXPECT_EQ(compileError(R"mlir(
    func.func @forward(%t: tensor<4xi32>) -> tensor<3x5xf32> {
      %e = tensor.empty() : tensor<3x5xf32>
      return %e : tensor<3x5xf32>
    })mlir"),
            "test.mlir: result 0 of @forward is tensor<3x5xf32>; expected "
            "tensor<4xNxf32>");
  EXPECT_EQ(compileError(R"mlir(
    func.func @forward(%t: tensor<4xi32>) -> (tensor<4x5xf32>, tensor<4x2x2xf32>) {
      %e = tensor.empty() : tensor<4x5xf32>
      %f = tensor.empty() : tensor<4x2x2xf32>
      return %e, %f : tensor<4x5xf32>, tensor<4x2x2xf32>
    })mlir"),
            "test.mlir: result 1 of @forward is tensor<4x2x2xf32>; expected "
            "tensor<4xNxf32>");
}

TEST(ModelRunnerTest, RejectsVocabularyAttributeMismatch) {
  EXPECT_EQ(compileError(R"mlir(
    module attributes {sensq.vocab_size = 7 : i64} {
      func.func @forward(%t: tensor<4xi32>) -> tensor<4x5xf32> {
        %e = tensor.empty() : tensor<4x5xf32>
        return %e : tensor<4x5xf32>
      }
    })mlir"),
            "test.mlir: module attribute sensq.vocab_size is 7 but the logits "
            "of @forward have 5 columns");
}

TEST(ModelRunnerTest, RejectsMismatchedExposedNames) {
  EXPECT_EQ(compileError(R"mlir(
    func.func @forward(%t: tensor<4xi32>) -> (tensor<4x5xf32>, tensor<4x2xf32>)
        attributes {sensq.exposed_inputs = ["a", "b"]} {
      %e = tensor.empty() : tensor<4x5xf32>
      %f = tensor.empty() : tensor<4x2xf32>
      return %e, %f : tensor<4x5xf32>, tensor<4x2xf32>
    })mlir"),
            "test.mlir: sensq.exposed_inputs of @forward names 2 results; the "
            "function has 1 results after the logits");
}

/// A model with intermediate buffers: two matmuls and an elementwise op.
constexpr const char *kBufferModel = R"mlir(
#mA = affine_map<(m, n, k) -> (m, k)>
#mB = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @forward(%tokens: tensor<16xi32>) -> tensor<16x24xf32> {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<0.5> : tensor<32x16xf32>
  %w2 = arith.constant dense<0.25> : tensor<24x32xf32>
  %e0 = tensor.empty() : tensor<16x16xf32>
  %x = linalg.generic {
      indexing_maps = [affine_map<(t, d) -> (t)>, affine_map<(t, d) -> (t, d)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%tokens : tensor<16xi32>) outs(%e0 : tensor<16x16xf32>) {
  ^bb0(%tok: i32, %out: f32):
    %f = arith.sitofp %tok : i32 to f32
    linalg.yield %f : f32
  } -> tensor<16x16xf32>
  %e1 = tensor.empty() : tensor<16x32xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<16x32xf32>) -> tensor<16x32xf32>
  %h = linalg.matmul indexing_maps = [#mA, #mB, #mC]
         ins(%x, %w1 : tensor<16x16xf32>, tensor<32x16xf32>)
         outs(%f1 : tensor<16x32xf32>) -> tensor<16x32xf32>
  %e2 = tensor.empty() : tensor<16x32xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(t, d) -> (t, d)>, affine_map<(t, d) -> (t, d)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<16x32xf32>) outs(%e2 : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<16x32xf32>
  %e3 = tensor.empty() : tensor<16x24xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<16x24xf32>) -> tensor<16x24xf32>
  %y = linalg.matmul indexing_maps = [#mA, #mB, #mC]
         ins(%r, %w2 : tensor<16x32xf32>, tensor<24x32xf32>)
         outs(%f3 : tensor<16x24xf32>) -> tensor<16x24xf32>
  return %y : tensor<16x24xf32>
}
)mlir";

TEST(ModelRunnerTest, FreesIntermediatesOnEveryCall) {
  std::unique_ptr<ModelRunner> runner = compileOrFail(kBufferModel);
  ASSERT_TRUE(runner);
  ForwardResult result;
  for (int call = 0; call < 3000; ++call) {
    int32_t token = call % 24;
    ASSERT_FALSE(static_cast<bool>(runner->forward({token}, result)));
    ASSERT_EQ(ModelRunner::getLiveBufferCount(), 0) << "call " << call;
    // Row 0: x = token (16 columns), h = 8 * token, y = 8 * token * 8.
    ASSERT_EQ(result.logits[0], 64.0f * token) << "call " << call;
  }
}

TEST(ModelRunnerTest, ScalarAndVectorCodeAgree) {
  ModelRunnerOptions scalar;
  scalar.vectorize = false;
  std::unique_ptr<ModelRunner> vectorRunner = compileOrFail(kBufferModel);
  std::unique_ptr<ModelRunner> scalarRunner =
      compileOrFail(kBufferModel, scalar);
  ASSERT_TRUE(vectorRunner);
  ASSERT_TRUE(scalarRunner);
  std::vector<int32_t> tokens = {3, 7, 1, 0, 5, 9, 2, 8, 4, 6, 11, 13, 17};
  ForwardResult a, b;
  ASSERT_FALSE(static_cast<bool>(vectorRunner->forward(tokens, a)));
  ASSERT_FALSE(static_cast<bool>(scalarRunner->forward(tokens, b)));
  EXPECT_EQ(a.logits, b.logits);
}

/// Zero logits over the real vocabulary, T = 8, and one exposed input per
/// position: [1, token id].
constexpr const char *kCalibrationModel = R"mlir(
module attributes {sensq.vocab_size = 512 : i64} {
  func.func @forward(%tokens: tensor<8xi32>) -> (tensor<8x512xf32>, tensor<8x2xf32>)
      attributes {sensq.exposed_inputs = ["probe.weight"]} {
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %e = tensor.empty() : tensor<8x512xf32>
    %logits = linalg.fill ins(%zero : f32) outs(%e : tensor<8x512xf32>) -> tensor<8x512xf32>
    %e2 = tensor.empty() : tensor<8x2xf32>
    %probe = linalg.generic {
        indexing_maps = [affine_map<(t, c) -> (t)>, affine_map<(t, c) -> (t, c)>],
        iterator_types = ["parallel", "parallel"]}
        ins(%tokens : tensor<8xi32>) outs(%e2 : tensor<8x2xf32>) {
    ^bb0(%tok: i32, %out: f32):
      %c = linalg.index 1 : index
      %c0 = arith.constant 0 : index
      %first = arith.cmpi eq, %c, %c0 : index
      %f = arith.sitofp %tok : i32 to f32
      %v = arith.select %first, %one, %f : f32
      linalg.yield %v : f32
    } -> tensor<8x2xf32>
    return %logits, %probe : tensor<8x512xf32>, tensor<8x2xf32>
  }
}
)mlir";

/// Tokenizer of the stories260K model.
std::optional<Tokenizer> loadModelTokenizer() {
  llvm::Expected<std::unique_ptr<gguf::GGUFFile>> file =
      gguf::GGUFFile::open(kModelPath);
  if (!file) {
    ADD_FAILURE() << llvm::toString(file.takeError());
    return std::nullopt;
  }
  llvm::Expected<Tokenizer> tokenizer = Tokenizer::fromGGUF(**file);
  if (!tokenizer) {
    ADD_FAILURE() << llvm::toString(tokenizer.takeError());
    return std::nullopt;
  }
  return std::move(*tokenizer);
}

TEST(EvaluationRunTest, UniformModelHasVocabularyPerplexity) {
  std::unique_ptr<ModelRunner> runner = compileOrFail(kCalibrationModel);
  std::optional<Tokenizer> tokenizer = loadModelTokenizer();
  ASSERT_TRUE(runner);
  ASSERT_TRUE(tokenizer);
  std::vector<std::string> documents = {"Once upon a time, there was a dog.",
                                        "Hi", "The end of a long story."};
  llvm::Expected<PerplexityResult> result =
      evaluatePerplexity(*runner, *tokenizer, documents);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  EXPECT_NEAR(result->perplexity, 512.0, 1e-9);
  int64_t expected = 0;
  for (const std::string &document : documents)
    expected += tokenizer->encode(document, true).size() - 1;
  EXPECT_EQ(result->numPredicted, expected);
  EXPECT_EQ(result->numDocuments, 3);
}

TEST(EvaluationRunTest, CalibrationCountsOnlyRealTokens) {
  std::unique_ptr<ModelRunner> runner = compileOrFail(kCalibrationModel);
  std::optional<Tokenizer> tokenizer = loadModelTokenizer();
  ASSERT_TRUE(runner);
  ASSERT_TRUE(tokenizer);
  ASSERT_EQ(runner->getSignature().extraNames,
            std::vector<std::string>{"probe.weight"});
  // The long document needs several windows of 8; "Hi" needs a partial one.
  std::vector<std::string> documents = {
      "Once upon a time, there was a little girl who liked to run.", "Hi"};
  llvm::Expected<StatsMap> stats = calibrate(*runner, *tokenizer, documents);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
  ASSERT_EQ(stats->size(), 1u);
  const ActivationStats &probe = stats->at("probe.weight");

  int64_t rows = 0;
  double tokenSum = 0;
  for (const std::string &document : documents) {
    std::vector<int32_t> tokens = tokenizer->encode(document, true);
    for (TokenWindow window : makeWindows(tokens.size(), 8)) {
      rows += window.length;
      for (int64_t i = 0; i < window.length; ++i)
        tokenSum += tokens[window.begin + i];
    }
  }
  EXPECT_GT(rows, 8);
  // Padding rows would add 1 to the count and to the first channel each.
  EXPECT_EQ(probe.getCount(), rows);
  EXPECT_DOUBLE_EQ(probe.getAbsSum()[0], static_cast<double>(rows));
  EXPECT_DOUBLE_EQ(probe.getAbsSum()[1], tokenSum);
}

TEST(EvaluationRunTest, CalibrationNeedsExposedInputs) {
  std::unique_ptr<ModelRunner> runner = compileOrFail(kAffineModel);
  std::optional<Tokenizer> tokenizer = loadModelTokenizer();
  ASSERT_TRUE(runner);
  ASSERT_TRUE(tokenizer);
  llvm::Expected<StatsMap> stats = calibrate(*runner, *tokenizer, {"a b"});
  ASSERT_FALSE(static_cast<bool>(stats));
  EXPECT_EQ(
      llvm::toString(stats.takeError()),
      "test.mlir: model exposes no matmul input; expected linalg.matmul ops "
      "carrying sensq.weight");
}

/// Imports the real model with `seqLen` positions and prints it.
std::string importModel(int64_t seqLen) {
  llvm::Expected<std::unique_ptr<gguf::GGUFFile>> file =
      gguf::GGUFFile::open(kModelPath);
  if (!file) {
    ADD_FAILURE() << llvm::toString(file.takeError());
    return "";
  }
  mlir::DialectRegistry registry;
  registerImportGGUFDialects(registry);
  mlir::MLIRContext context(registry);
  ImportOptions options;
  options.seqLen = seqLen;
  llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> module =
      importGGUF(**file, &context, options);
  if (!module) {
    ADD_FAILURE() << llvm::toString(module.takeError());
    return "";
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  (*module)->print(os);
  return text;
}

TEST(RealModelTest, VectorizedLogitsMatchScalarLoops) {
  std::string source = importModel(32);
  ASSERT_FALSE(source.empty());
  ModelRunnerOptions scalar;
  scalar.vectorize = false;
  std::unique_ptr<ModelRunner> vectorRunner = compileOrFail(source);
  std::unique_ptr<ModelRunner> scalarRunner = compileOrFail(source, scalar);
  std::optional<Tokenizer> tokenizer = loadModelTokenizer();
  ASSERT_TRUE(vectorRunner);
  ASSERT_TRUE(scalarRunner);
  ASSERT_TRUE(tokenizer);
  std::vector<int32_t> tokens = tokenizer->encode(
      "Once upon a time, there was a little girl named Lily.", true);
  ASSERT_LE(tokens.size(), 32u);

  ForwardResult a, b;
  ASSERT_FALSE(static_cast<bool>(vectorRunner->forward(tokens, a)));
  ASSERT_FALSE(static_cast<bool>(scalarRunner->forward(tokens, b)));
  ASSERT_EQ(a.logits.size(), b.logits.size());
  float maxDiff = 0, maxAbs = 0;
  for (size_t i = 0; i < tokens.size() * 512; ++i) {
    maxDiff = std::max(maxDiff, std::fabs(a.logits[i] - b.logits[i]));
    maxAbs = std::max(maxAbs, std::fabs(b.logits[i]));
  }
  EXPECT_GT(maxAbs, 1.0f);
  // Both use the same arithmetic up to summation order.
  EXPECT_LT(maxDiff, 1e-3f * maxAbs) << "max |logit| " << maxAbs;

  // Row 0 (after BOS) predicts "Once" (token 403) greedily.
  const float *row = a.logits.data();
  EXPECT_EQ(std::max_element(row, row + 512) - row, 403);
}

} // namespace
