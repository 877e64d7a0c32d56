//===- EvaluationTest.cpp - Tests of windowing and scoring ----------------===//

#include "sensq/Runtime/Evaluation.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace sensq;

namespace {

/// Returns how often each target position 0..numTokens-1 is predicted by
/// the windows: row t of a window predicts position begin + t + 1.
std::vector<int> countPredictions(llvm::ArrayRef<TokenWindow> windows,
                                  int64_t numTokens) {
  std::vector<int> counts(numTokens, 0);
  for (TokenWindow window : windows)
    for (int64_t t = 0; t + 1 < window.length; ++t)
      ++counts[window.begin + t + 1];
  return counts;
}

TEST(WindowTest, ShortDocumentsHaveNoWindow) {
  EXPECT_TRUE(makeWindows(0, 8).empty());
  EXPECT_TRUE(makeWindows(1, 8).empty());
}

TEST(WindowTest, DocumentFitsOneWindow) {
  std::vector<TokenWindow> windows = makeWindows(5, 8);
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].begin, 0);
  EXPECT_EQ(windows[0].length, 5);

  windows = makeWindows(8, 8);
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].length, 8);
}

TEST(WindowTest, WindowsOverlapByOneToken) {
  // 10 tokens, windows of 4: [0, 4), [3, 7), [6, 10).
  std::vector<TokenWindow> windows = makeWindows(10, 4);
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0].begin, 0);
  EXPECT_EQ(windows[0].length, 4);
  EXPECT_EQ(windows[1].begin, 3);
  EXPECT_EQ(windows[1].length, 4);
  EXPECT_EQ(windows[2].begin, 6);
  EXPECT_EQ(windows[2].length, 4);

  // One token past a full window adds a window of two tokens.
  windows = makeWindows(11, 4);
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_EQ(windows[3].begin, 9);
  EXPECT_EQ(windows[3].length, 2);
}

TEST(WindowTest, EveryTargetPredictedOnce) {
  for (int64_t windowSize : {2, 3, 4, 7, 16, 512}) {
    for (int64_t numTokens = 0; numTokens < 1200; ++numTokens) {
      std::vector<TokenWindow> windows = makeWindows(numTokens, windowSize);
      std::vector<int> counts = countPredictions(windows, numTokens);
      // Position 0 (BOS) has nothing before it; every later token is
      // predicted exactly once.
      if (numTokens > 0)
        EXPECT_EQ(counts[0], 0);
      for (int64_t position = 1; position < numTokens; ++position)
        ASSERT_EQ(counts[position], 1)
            << "position " << position << " of " << numTokens
            << " tokens, windows of " << windowSize;
      for (TokenWindow window : windows) {
        EXPECT_GE(window.length, 2);
        EXPECT_LE(window.length, windowSize);
        EXPECT_LE(window.begin + window.length, numTokens);
      }
    }
  }
}

TEST(WindowTest, RejectsWindowsTooShortToPredict) {
  EXPECT_TRUE(makeWindows(10, 1).empty());
  EXPECT_TRUE(makeWindows(10, 0).empty());
}

TEST(NegativeLogLikelihoodTest, UniformLogitsGiveLogVocabulary) {
  std::vector<float> logits(512, 3.5f);
  EXPECT_NEAR(negativeLogLikelihood(logits, 7), std::log(512.0), 1e-12);
}

TEST(NegativeLogLikelihoodTest, MatchesDirectFormula) {
  std::vector<float> logits = {0.5f, -1.25f, 2.0f, 0.0f};
  double sum = 0;
  for (float logit : logits)
    sum += std::exp(static_cast<double>(logit));
  EXPECT_NEAR(negativeLogLikelihood(logits, 2), -(2.0 - std::log(sum)), 1e-12);
  EXPECT_NEAR(negativeLogLikelihood(logits, 1), -(-1.25 - std::log(sum)),
              1e-12);
}

TEST(NegativeLogLikelihoodTest, StaysFiniteForLargeLogits) {
  // exp(1000) overflows a double; subtracting the maximum keeps it finite.
  std::vector<float> logits = {1000.0f, 0.0f, 999.0f};
  double nll = negativeLogLikelihood(logits, 0);
  EXPECT_TRUE(std::isfinite(nll));
  EXPECT_NEAR(nll, std::log(1.0 + std::exp(-1.0) + std::exp(-1000.0)), 1e-12);
  EXPECT_NEAR(negativeLogLikelihood(logits, 1), 1000.0 + nll, 1e-9);
}

/// Writes `contents` to a fresh temporary file and returns its path.
std::string writeTempFile(llvm::StringRef contents) {
  llvm::SmallString<128> path;
  int fd;
  EXPECT_FALSE(
      llvm::sys::fs::createTemporaryFile("sensq-docs", "txt", fd, path));
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << contents;
  return path.str().str();
}

TEST(DocumentsTest, ReadsNonEmptyLines) {
  std::string path = writeTempFile("first doc\r\n\n   \nsecond doc  \nthird");
  llvm::Expected<std::vector<std::string>> documents = readDocuments(path);
  ASSERT_TRUE(static_cast<bool>(documents))
      << llvm::toString(documents.takeError());
  EXPECT_EQ(*documents,
            (std::vector<std::string>{"first doc", "second doc", "third"}));
  llvm::sys::fs::remove(path);
}

TEST(DocumentsTest, RejectsEmptyFile) {
  std::string path = writeTempFile("\n  \n");
  llvm::Expected<std::vector<std::string>> documents = readDocuments(path);
  ASSERT_FALSE(static_cast<bool>(documents));
  EXPECT_EQ(llvm::toString(documents.takeError()),
            path + ": text file contains no document; expected one document "
                   "per non-empty line");
  llvm::sys::fs::remove(path);
}

TEST(DocumentsTest, RejectsMissingFile) {
  llvm::Expected<std::vector<std::string>> documents =
      readDocuments("/nonexistent/sensq/docs.txt");
  ASSERT_FALSE(static_cast<bool>(documents));
  std::string message = llvm::toString(documents.takeError());
  EXPECT_EQ(message.rfind("/nonexistent/sensq/docs.txt: cannot read the text "
                          "file: ",
                          0),
            0u)
      << message;
}

TEST(DocumentsTest, SelectsSkipAndMax) {
  std::vector<std::string> all = {"a", "b", "c", "d", "e"};
  llvm::Expected<std::vector<std::string>> middle =
      selectDocuments(all, 1, 2, "f.txt");
  ASSERT_TRUE(static_cast<bool>(middle));
  EXPECT_EQ(*middle, (std::vector<std::string>{"b", "c"}));

  llvm::Expected<std::vector<std::string>> rest =
      selectDocuments(all, 3, std::nullopt, "f.txt");
  ASSERT_TRUE(static_cast<bool>(rest));
  EXPECT_EQ(*rest, (std::vector<std::string>{"d", "e"}));

  llvm::Expected<std::vector<std::string>> clipped =
      selectDocuments(all, 4, 10, "f.txt");
  ASSERT_TRUE(static_cast<bool>(clipped));
  EXPECT_EQ(*clipped, (std::vector<std::string>{"e"}));
}

TEST(DocumentsTest, RejectsEmptySelection) {
  llvm::Expected<std::vector<std::string>> none =
      selectDocuments({"a", "b"}, 2, std::nullopt, "f.txt");
  ASSERT_FALSE(static_cast<bool>(none));
  EXPECT_EQ(llvm::toString(none.takeError()),
            "f.txt: skipping 2 documents leaves none; the file contains 2");

  llvm::Expected<std::vector<std::string>> zero =
      selectDocuments({"a", "b"}, 0, 0, "f.txt");
  ASSERT_FALSE(static_cast<bool>(zero));
  EXPECT_EQ(llvm::toString(zero.takeError()),
            "f.txt: invalid --max-docs 0; expected a number of documents "
            ">= 1");

  llvm::Expected<std::vector<std::string>> negative =
      selectDocuments({"a", "b"}, -2, std::nullopt, "f.txt");
  ASSERT_FALSE(static_cast<bool>(negative));
  EXPECT_EQ(llvm::toString(negative.takeError()),
            "f.txt: invalid --skip-docs -2; expected a number of documents "
            ">= 0");
}

} // namespace
