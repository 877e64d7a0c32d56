//===- Evaluation.h - Generation, perplexity and calibration ----*- C++ -*-===//
//
// Drivers that run a compiled model over text: greedy generation,
// perplexity over documents and accumulation of matmul input statistics.
//
// Documents are the non-empty lines of a text file. Each is encoded with
// BOS first. A document longer than the model's T positions is cut into
// windows of T tokens overlapping by one token, each run from an empty
// context, so that every token after the first of the document is
// predicted exactly once.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_RUNTIME_EVALUATION_H
#define SENSQ_RUNTIME_EVALUATION_H

#include "sensq/Numeric/ActivationStats.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sensq {
class ModelRunner;
class Tokenizer;

/// Tokens [begin, begin + length) of a document fed to one forward call.
/// Row t of its logits predicts token begin + t + 1, for t < length - 1.
struct TokenWindow {
  int64_t begin;
  int64_t length;
};

/// Splits a document of `numTokens` tokens into windows of at most
/// `windowSize` tokens (>= 2) that overlap by one token. Window i starts at
/// i * (windowSize - 1). A document of fewer than two tokens predicts
/// nothing and gets no window.
std::vector<TokenWindow> makeWindows(int64_t numTokens, int64_t windowSize);

/// Returns -log softmax(logits)[target], computed in double with the
/// maximum subtracted before exponentiation.
double negativeLogLikelihood(llvm::ArrayRef<float> logits, int32_t target);

/// Reads the documents of a text file: its lines that hold more than white
/// space, with trailing white space (including '\r') removed. Fails, naming
/// the file, when it cannot be read or contains no document.
llvm::Expected<std::vector<std::string>> readDocuments(llvm::StringRef path);

/// Returns documents [skip, skip + max) of `documents` (all remaining ones
/// when `max` is not set). Fails, naming `path`, when the selection is
/// empty.
llvm::Expected<std::vector<std::string>>
selectDocuments(std::vector<std::string> documents, int64_t skip,
                std::optional<int64_t> max, llvm::StringRef path);

struct PerplexityResult {
  /// exp(meanNll).
  double perplexity = 0;
  /// Mean negative log-likelihood per predicted token, in nats.
  double meanNll = 0;
  int64_t numPredicted = 0;
  int64_t numDocuments = 0;
};

/// Perplexity of the model over `documents`.
llvm::Expected<PerplexityResult>
evaluatePerplexity(ModelRunner &runner, const Tokenizer &tokenizer,
                   llvm::ArrayRef<std::string> documents);

/// Greedy decoding: BOS, then the tokens of `prompt` (none when empty),
/// then up to `steps` tokens each the argmax of the logits of the last
/// position. Stops early at EOS, at BOS or when the context of T positions
/// is full. Calls `onToken` with each generated token. Returns all tokens
/// including BOS and the prompt.
llvm::Expected<std::vector<int32_t>>
generateGreedy(ModelRunner &runner, const Tokenizer &tokenizer,
               llvm::StringRef prompt, int64_t steps,
               const std::function<void(int32_t)> &onToken = nullptr);

/// Runs a model whose extra results are exposed matmul inputs over
/// `documents`, windowed as for perplexity. For each weight name, the input
/// rows of the real tokens of every window are accumulated, and padding
/// rows are never counted.
llvm::Expected<StatsMap> calibrate(ModelRunner &runner,
                                   const Tokenizer &tokenizer,
                                   llvm::ArrayRef<std::string> documents);

} // namespace sensq

#endif // SENSQ_RUNTIME_EVALUATION_H
