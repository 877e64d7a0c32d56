//===- Evaluation.cpp - Generation, perplexity and calibration ------------===//

#include "sensq/Runtime/Evaluation.h"

#include "sensq/Runtime/ModelRunner.h"
#include "sensq/Runtime/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

using namespace sensq;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::vector<TokenWindow> sensq::makeWindows(int64_t numTokens,
                                            int64_t windowSize) {
  std::vector<TokenWindow> windows;
  if (windowSize < 2)
    return windows;
  // Consecutive windows share one token. The last input of a window is the
  // first input of the next, which then predicts the tokens after it, so no
  // target is skipped or predicted twice.
  for (int64_t begin = 0; begin + 1 < numTokens; begin += windowSize - 1)
    windows.push_back({begin, std::min(windowSize, numTokens - begin)});
  return windows;
}

double sensq::negativeLogLikelihood(llvm::ArrayRef<float> logits,
                                    int32_t target) {
  // -log p(target) = log(sum_j exp(l_j - m)) + m - l_target, m = max_j l_j.
  double maxLogit = -INFINITY;
  for (float logit : logits)
    maxLogit = std::max(maxLogit, static_cast<double>(logit));
  double sum = 0;
  for (float logit : logits)
    sum += std::exp(static_cast<double>(logit) - maxLogit);
  return std::log(sum) + maxLogit - static_cast<double>(logits[target]);
}

llvm::Expected<std::vector<std::string>>
sensq::readDocuments(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(llvm::formatv("{0}: cannot read the text file: {1}", path,
                                   buffer.getError().message()));
  // A binary file passed by mistake (a GGUF model, say) would otherwise be
  // split at its newline bytes and evaluated without complaint.
  llvm::StringRef text = (*buffer)->getBuffer();
  size_t nul = text.find('\0');
  if (nul != llvm::StringRef::npos)
    return makeError(llvm::formatv("{0}: not a text file: byte {1} is NUL; "
                                   "expected UTF-8 text with one document "
                                   "per line",
                                   path, nul));
  if (!llvm::json::isUTF8(text))
    return makeError(llvm::formatv("{0}: not a text file: invalid UTF-8; "
                                   "expected UTF-8 text with one document "
                                   "per line",
                                   path));

  std::vector<std::string> documents;
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    line = line.rtrim();
    if (!line.trim().empty())
      documents.push_back(line.str());
  }
  if (documents.empty())
    return makeError(llvm::formatv("{0}: text file contains no document; "
                                   "expected one document per non-empty line",
                                   path));
  return documents;
}

llvm::Expected<std::vector<std::string>>
sensq::selectDocuments(std::vector<std::string> documents, int64_t skip,
                       std::optional<int64_t> max, llvm::StringRef path) {
  int64_t total = documents.size();
  if (skip < 0)
    return makeError(llvm::formatv("{0}: invalid --skip-docs {1}; expected "
                                   "a number of documents >= 0",
                                   path, skip));
  if (max && *max < 1)
    return makeError(llvm::formatv("{0}: invalid --max-docs {1}; expected "
                                   "a number of documents >= 1",
                                   path, *max));
  if (skip >= total)
    return makeError(llvm::formatv("{0}: skipping {1} documents leaves none; "
                                   "the file contains {2}",
                                   path, skip, total));
  int64_t end = max ? std::min(total, skip + *max) : total;
  return std::vector<std::string>(
      std::make_move_iterator(documents.begin() + skip),
      std::make_move_iterator(documents.begin() + end));
}

/// Checks that the first `rows` rows of the logits are finite.
static llvm::Error checkFinite(const ForwardResult &result, int64_t rows,
                               int64_t vocabSize, size_t document,
                               int64_t begin, llvm::StringRef name) {
  for (int64_t i = 0; i < rows * vocabSize; ++i)
    if (!std::isfinite(result.logits[i]))
      return makeError(llvm::formatv(
          "{0}: model produced a non-finite logit for document {1} at token "
          "{2}",
          name, document, begin + i / vocabSize));
  return llvm::Error::success();
}

/// Fails when windows of the model's T positions cannot predict anything.
static llvm::Error checkWindowSize(const ModelRunner &runner) {
  if (runner.getSeqLen() >= 2)
    return llvm::Error::success();
  return makeError(llvm::formatv("{0}: model takes {1} token position; "
                                 "windows need at least 2 (one input, one "
                                 "target)",
                                 runner.getName(), runner.getSeqLen()));
}

llvm::Expected<PerplexityResult>
sensq::evaluatePerplexity(ModelRunner &runner, const Tokenizer &tokenizer,
                          llvm::ArrayRef<std::string> documents) {
  if (llvm::Error err = checkWindowSize(runner))
    return std::move(err);
  int64_t vocabSize = runner.getVocabSize();
  double totalNll = 0;
  PerplexityResult result;
  ForwardResult output;
  for (auto [index, document] : llvm::enumerate(documents)) {
    std::vector<int32_t> tokens = tokenizer.encode(document, /*addBos=*/true);
    for (TokenWindow window : makeWindows(tokens.size(), runner.getSeqLen())) {
      llvm::ArrayRef<int32_t> input =
          llvm::ArrayRef(tokens).slice(window.begin, window.length);
      if (llvm::Error err = runner.forward(input, output))
        return std::move(err);
      if (llvm::Error err = checkFinite(output, window.length - 1, vocabSize,
                                        index, window.begin, runner.getName()))
        return std::move(err);
      for (int64_t t = 0; t + 1 < window.length; ++t) {
        llvm::ArrayRef<float> row =
            llvm::ArrayRef(output.logits).slice(t * vocabSize, vocabSize);
        totalNll += negativeLogLikelihood(row, input[t + 1]);
        ++result.numPredicted;
      }
    }
    ++result.numDocuments;
  }
  if (result.numPredicted == 0)
    return makeError(llvm::formatv("{0}: no token to predict; every document "
                                   "encodes to fewer than two tokens",
                                   runner.getName()));
  result.meanNll = totalNll / static_cast<double>(result.numPredicted);
  result.perplexity = std::exp(result.meanNll);
  return result;
}

llvm::Expected<std::vector<int32_t>>
sensq::generateGreedy(ModelRunner &runner, const Tokenizer &tokenizer,
                      llvm::StringRef prompt, int64_t steps,
                      const std::function<void(int32_t)> &onToken) {
  std::vector<int32_t> tokens = tokenizer.encode(prompt, /*addBos=*/true);
  int64_t seqLen = runner.getSeqLen();
  int64_t vocabSize = runner.getVocabSize();
  if (static_cast<int64_t>(tokens.size()) > seqLen)
    return makeError(llvm::formatv("{0}: prompt encodes to {1} tokens with "
                                   "BOS; the model takes at most {2}",
                                   runner.getName(), tokens.size(), seqLen));
  ForwardResult output;
  for (int64_t step = 0;
       step < steps && static_cast<int64_t>(tokens.size()) < seqLen; ++step) {
    if (llvm::Error err = runner.forward(tokens, output))
      return std::move(err);
    int64_t last = tokens.size() - 1;
    const float *row = output.logits.data() + last * vocabSize;
    int32_t best = 0;
    for (int32_t id = 1; id < vocabSize; ++id)
      if (row[id] > row[best])
        best = id;
    if (!std::isfinite(row[best]))
      return makeError(llvm::formatv("{0}: model produced a non-finite logit "
                                     "at token {1}",
                                     runner.getName(), last));
    if (best == tokenizer.getEosId() || best == tokenizer.getBosId())
      break;
    tokens.push_back(best);
    if (onToken)
      onToken(best);
  }
  return tokens;
}

llvm::Expected<StatsMap>
sensq::calibrate(ModelRunner &runner, const Tokenizer &tokenizer,
                 llvm::ArrayRef<std::string> documents) {
  if (llvm::Error err = checkWindowSize(runner))
    return std::move(err);
  const ModelSignature &signature = runner.getSignature();
  if (signature.extraColumns.empty())
    return makeError(llvm::formatv("{0}: model exposes no matmul input; "
                                   "expected linalg.matmul ops carrying "
                                   "sensq.weight",
                                   runner.getName()));
  StatsMap stats;
  for (auto [name, columns] :
       llvm::zip_equal(signature.extraNames, signature.extraColumns)) {
    auto [it, inserted] = stats.try_emplace(name, columns);
    if (!inserted && it->second.getNumChannels() != columns)
      return makeError(llvm::formatv(
          "{0}: weight '{1}' is used by matmuls with {2} and {3} input "
          "channels",
          runner.getName(), name, it->second.getNumChannels(), columns));
  }

  ForwardResult output;
  for (const std::string &document : documents) {
    std::vector<int32_t> tokens = tokenizer.encode(document, /*addBos=*/true);
    for (TokenWindow window : makeWindows(tokens.size(), runner.getSeqLen())) {
      llvm::ArrayRef<int32_t> input =
          llvm::ArrayRef(tokens).slice(window.begin, window.length);
      if (llvm::Error err = runner.forward(input, output))
        return std::move(err);
      // Rows [0, length) are the real tokens of the window, and the rows
      // after them are padding.
      for (auto [name, extra] :
           llvm::zip_equal(signature.extraNames, output.extras))
        stats.at(name).add(extra.data(), window.length);
    }
  }
  for (const auto &[name, layerStats] : stats) {
    if (layerStats.getCount() == 0)
      return makeError(llvm::formatv("{0}: no token reached the input of "
                                     "'{1}'; every document encodes to fewer "
                                     "than two tokens",
                                     runner.getName(), name));
    if (!layerStats.isFinite())
      return makeError(
          llvm::formatv("{0}: input of '{1}' contains a non-finite "
                        "value",
                        runner.getName(), name));
  }
  return stats;
}
