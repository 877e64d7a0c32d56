//===- ActivationStatsTest.cpp - Tests for activation statistics ----------===//

#include "sensq/Numeric/ActivationStats.h"

#include "sensq/Support/Safetensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace sensq;

namespace {

// X = [[1, -2], [3, 4], [-5, 6]]:
//   abs_sum = [1 + 3 + 5, 2 + 4 + 6] = [9, 12]
//   sq_sum  = [1 + 9 + 25, 4 + 16 + 36] = [35, 56]
//   gram    = [[35, -2 + 12 - 30], [-20, 56]] = [[35, -20], [-20, 56]]
const std::vector<float> kBlock = {1, -2, 3, 4, -5, 6};

std::vector<float> makeRandomRows(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(rows * cols);
  for (float &value : values)
    value = normal(generator);
  return values;
}

/// Computes the sums in the most direct way, for comparison.
ActivationStats computeReference(const std::vector<float> &rows, int64_t k) {
  int64_t n = rows.size() / k;
  std::vector<double> absSum(k, 0.0), sqSum(k, 0.0), gram(k * k, 0.0);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < k; ++i) {
      double xi = rows[t * k + i];
      absSum[i] += std::abs(xi);
      sqSum[i] += xi * xi;
      for (int64_t j = 0; j < k; ++j)
        gram[i * k + j] += xi * rows[t * k + j];
    }
  }
  return llvm::cantFail(ActivationStats::fromSums(n, absSum, sqSum, gram));
}

void expectNear(const ActivationStats &actual, const ActivationStats &expected,
                double relativeTolerance) {
  ASSERT_EQ(actual.getNumChannels(), expected.getNumChannels());
  EXPECT_EQ(actual.getCount(), expected.getCount());
  auto check = [&](llvm::ArrayRef<double> a, llvm::ArrayRef<double> b,
                   const char *field) {
    ASSERT_EQ(a.size(), b.size()) << field;
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a[i], b[i], relativeTolerance * (1.0 + std::abs(b[i])))
          << field << "[" << i << "]";
  };
  check(actual.getAbsSum(), expected.getAbsSum(), "abs_sum");
  check(actual.getSqSum(), expected.getSqSum(), "sq_sum");
  check(actual.getGram(), expected.getGram(), "gram");
}

std::string errorMessage(llvm::Error err) {
  return err ? llvm::toString(std::move(err)) : std::string();
}

template <typename T> std::string errorMessage(llvm::Expected<T> value) {
  if (value)
    return "";
  return llvm::toString(value.takeError());
}

TEST(ActivationStatsTest, SmallBlockKnownAnswer) {
  ActivationStats stats(2);
  stats.add(kBlock.data(), 3);

  EXPECT_EQ(stats.getNumChannels(), 2);
  EXPECT_EQ(stats.getCount(), 3);
  EXPECT_EQ(stats.getAbsSum().vec(), (std::vector<double>{9, 12}));
  EXPECT_EQ(stats.getSqSum().vec(), (std::vector<double>{35, 56}));
  EXPECT_EQ(stats.getGram().vec(), (std::vector<double>{35, -20, -20, 56}));
  EXPECT_EQ(stats.getGram(0, 1), -20);
  EXPECT_EQ(stats.getMeanAbs(), (std::vector<double>{3, 4}));
  EXPECT_EQ(stats.getMeanSquare(), (std::vector<double>{35.0 / 3, 56.0 / 3}));
  EXPECT_EQ(stats.getMeanGram(),
            (std::vector<double>{35.0 / 3, -20.0 / 3, -20.0 / 3, 56.0 / 3}));
  EXPECT_TRUE(stats.isFinite());
}

TEST(ActivationStatsTest, EmptyStatsHaveZeroMeans) {
  ActivationStats stats(3);
  stats.add(nullptr, 0);
  EXPECT_EQ(stats.getCount(), 0);
  EXPECT_EQ(stats.getMeanAbs(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(stats.getMeanSquare(), (std::vector<double>{0, 0, 0}));
}

TEST(ActivationStatsTest, SplitAddEqualsSingleAdd) {
  ActivationStats whole(2);
  whole.add(kBlock.data(), 3);

  ActivationStats split(2);
  split.add(kBlock.data(), 1);
  split.add(kBlock.data() + 2, 2);

  EXPECT_EQ(split.getCount(), whole.getCount());
  EXPECT_EQ(split.getAbsSum().vec(), whole.getAbsSum().vec());
  EXPECT_EQ(split.getSqSum().vec(), whole.getSqSum().vec());
  EXPECT_EQ(split.getGram().vec(), whole.getGram().vec());
}

TEST(ActivationStatsTest, MergeEqualsAccumulatingAll) {
  ActivationStats whole(2);
  whole.add(kBlock.data(), 3);

  ActivationStats first(2), second(2);
  first.add(kBlock.data(), 2);
  second.add(kBlock.data() + 4, 1);
  ASSERT_FALSE(bool(first.merge(second)));

  EXPECT_EQ(first.getCount(), 3);
  EXPECT_EQ(first.getAbsSum().vec(), whole.getAbsSum().vec());
  EXPECT_EQ(first.getSqSum().vec(), whole.getSqSum().vec());
  EXPECT_EQ(first.getGram().vec(), whole.getGram().vec());
}

TEST(ActivationStatsTest, MergeRejectsChannelMismatch) {
  ActivationStats a(2), b(3);
  std::string message = errorMessage(a.merge(b));
  EXPECT_NE(message.find("3 channels"), std::string::npos) << message;
  EXPECT_NE(message.find("2 channels"), std::string::npos) << message;
  EXPECT_EQ(a.getCount(), 0);
}

TEST(ActivationStatsTest, LargeBlockMatchesReference) {
  // 600 rows span several internal chunks, including a partial one.
  const int64_t k = 7;
  std::vector<float> rows = makeRandomRows(600, k, 1);
  ActivationStats stats(k);
  stats.add(rows.data(), 600);
  expectNear(stats, computeReference(rows, k), 1e-12);

  // The Gram matrix is exactly symmetric.
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      EXPECT_EQ(stats.getGram(i, j), stats.getGram(j, i));
}

TEST(ActivationStatsTest, NonFiniteActivationsAreDetected) {
  ActivationStats stats(2);
  std::vector<float> rows = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  stats.add(rows.data(), 1);
  EXPECT_FALSE(stats.isFinite());
}

TEST(ActivationStatsTest, FromSumsValidates) {
  std::vector<double> absSum = {9, 12}, sqSum = {35, 56};
  std::vector<double> gram = {35, -20, -20, 56};
  EXPECT_TRUE(bool(ActivationStats::fromSums(3, absSum, sqSum, gram)));

  std::string zeroCount =
      errorMessage(ActivationStats::fromSums(0, absSum, sqSum, gram, "L"));
  EXPECT_NE(zeroCount.find("token count is 0"), std::string::npos)
      << zeroCount;

  std::vector<double> nanAbs = {9, std::nan("")};
  std::string nan =
      errorMessage(ActivationStats::fromSums(3, nanAbs, sqSum, gram, "L"));
  EXPECT_NE(nan.find("abs_sum[1]"), std::string::npos) << nan;

  std::vector<double> negativeSq = {35, -56};
  std::string negative =
      errorMessage(ActivationStats::fromSums(3, absSum, negativeSq, gram));
  EXPECT_NE(negative.find("non-negative"), std::string::npos) << negative;

  std::vector<double> asymmetric = {35, -20, -21, 56};
  std::string symmetric =
      errorMessage(ActivationStats::fromSums(3, absSum, sqSum, asymmetric));
  EXPECT_NE(symmetric.find("symmetric"), std::string::npos) << symmetric;

  std::vector<double> wrongDiagonal = {36, -20, -20, 56};
  std::string diagonal =
      errorMessage(ActivationStats::fromSums(3, absSum, sqSum, wrongDiagonal));
  EXPECT_NE(diagonal.find("sq_sum[0]"), std::string::npos) << diagonal;

  std::vector<double> shortGram = {35, -20, -20};
  std::string size =
      errorMessage(ActivationStats::fromSums(3, absSum, sqSum, shortGram));
  EXPECT_NE(size.find("gram has 3 entries"), std::string::npos) << size;
}

class StatsFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::error_code ec =
        llvm::sys::fs::createUniqueDirectory("sensq-stats-test", dir);
    ASSERT_FALSE(ec) << ec.message();
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string pathFor(llvm::StringRef name) const {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

  /// Writes a statistics file with one layer "blk.0.ffn_down.weight" over
  /// the known 3x2 block, then lets `edit` change the raw tensors.
  std::string writeEditedFile(
      llvm::function_ref<void(safetensors::File &)> edit) {
    StatsMap stats;
    stats.try_emplace("blk.0.ffn_down.weight", 2);
    stats.at("blk.0.ffn_down.weight").add(kBlock.data(), 3);
    std::string path = pathFor("edited.safetensors");
    EXPECT_FALSE(bool(writeStatsFile(path, stats)));
    llvm::Expected<safetensors::File> file = safetensors::readFile(path);
    EXPECT_TRUE(bool(file));
    if (!file) {
      llvm::consumeError(file.takeError());
      return path;
    }
    edit(*file);
    EXPECT_FALSE(bool(safetensors::writeFile(path, *file)));
    return path;
  }

  llvm::SmallString<128> dir;
};

TEST_F(StatsFileTest, RoundTripIsExact) {
  StatsMap stats;
  stats.try_emplace("blk.0.ffn_down.weight", 2);
  stats.at("blk.0.ffn_down.weight").add(kBlock.data(), 3);
  std::vector<float> rows = makeRandomRows(50, 5, 2);
  stats.try_emplace("blk.1.attn_q.weight", 5);
  stats.at("blk.1.attn_q.weight").add(rows.data(), 50);

  std::string path = pathFor("stats.safetensors");
  ASSERT_FALSE(bool(writeStatsFile(path, stats)));
  llvm::Expected<StatsMap> read = readStatsFile(path);
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  ASSERT_EQ(read->size(), 2u);
  for (const auto &[name, layer] : stats) {
    SCOPED_TRACE(name);
    const ActivationStats &copy = read->at(name);
    EXPECT_EQ(copy.getCount(), layer.getCount());
    EXPECT_EQ(copy.getAbsSum().vec(), layer.getAbsSum().vec());
    EXPECT_EQ(copy.getSqSum().vec(), layer.getSqSum().vec());
    EXPECT_EQ(copy.getGram().vec(), layer.getGram().vec());
  }

  llvm::Expected<safetensors::File> raw = safetensors::readFile(path);
  ASSERT_TRUE(bool(raw)) << llvm::toString(raw.takeError());
  EXPECT_EQ(raw->metadata.at("format"), "sensq-activation-stats");
  EXPECT_EQ(raw->metadata.at("version"), "1");
  const safetensors::Tensor &count =
      raw->tensors.at("blk.0.ffn_down.weight.count");
  EXPECT_EQ(count.dtype, safetensors::DType::I64);
  EXPECT_EQ(count.toI64(), (std::vector<int64_t>{3}));
  EXPECT_EQ(raw->tensors.at("blk.1.attn_q.weight.gram").shape,
            (llvm::SmallVector<int64_t>{5, 5}));
}

TEST_F(StatsFileTest, NaNIsRejectedNamingLayer) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    file.tensors["blk.0.ffn_down.weight.abs_sum"] =
        safetensors::Tensor::fromF64({2}, {9.0, std::nan("")});
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("'blk.0.ffn_down.weight'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("abs_sum[1]"), std::string::npos) << message;
}

TEST_F(StatsFileTest, InfinityInGramIsRejected) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    double inf = std::numeric_limits<double>::infinity();
    file.tensors["blk.0.ffn_down.weight.gram"] =
        safetensors::Tensor::fromF64({2, 2}, {35, inf, inf, 56});
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find("'blk.0.ffn_down.weight'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("gram[0][1]"), std::string::npos) << message;
}

TEST_F(StatsFileTest, MissingGramIsRejected) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    file.tensors.erase("blk.0.ffn_down.weight.gram");
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("'blk.0.ffn_down.weight.gram' is missing"),
            std::string::npos)
      << message;
}

TEST_F(StatsFileTest, WrongShapeIsRejected) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    file.tensors["blk.0.ffn_down.weight.sq_sum"] =
        safetensors::Tensor::fromF64({3}, {35, 56, 1});
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find("'blk.0.ffn_down.weight.sq_sum' is F64 [3]; "
                         "expected F64 [2]"),
            std::string::npos)
      << message;
}

TEST_F(StatsFileTest, WrongDTypeIsRejected) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    file.tensors["blk.0.ffn_down.weight.count"] =
        safetensors::Tensor::fromF64({1}, {3.0});
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find("is F64 [1]; expected I64 [1]"), std::string::npos)
      << message;
}

TEST_F(StatsFileTest, ZeroCountIsRejected) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    file.tensors["blk.0.ffn_down.weight.count"] =
        safetensors::Tensor::fromI64({1}, {0});
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find("'blk.0.ffn_down.weight'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("token count is 0"), std::string::npos) << message;
}

TEST_F(StatsFileTest, UnknownTensorIsRejected) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    file.tensors["blk.0.ffn_down.weight.max"] =
        safetensors::Tensor::fromF64({2}, {5, 6});
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find("'blk.0.ffn_down.weight.max'"), std::string::npos)
      << message;
}

TEST_F(StatsFileTest, WrongFormatIsRejected) {
  std::string path = writeEditedFile([](safetensors::File &file) {
    file.metadata["format"] = "something-else";
  });
  std::string message = errorMessage(readStatsFile(path));
  EXPECT_NE(message.find("'something-else'"), std::string::npos) << message;

  std::string versionPath = writeEditedFile([](safetensors::File &file) {
    file.metadata.erase("version");
  });
  std::string version = errorMessage(readStatsFile(versionPath));
  EXPECT_NE(version.find("'version' is missing"), std::string::npos)
      << version;
}

TEST_F(StatsFileTest, WriteRejectsEmptyAndNonFiniteLayers) {
  std::string path = pathFor("rejected.safetensors");

  StatsMap empty;
  empty.try_emplace("layer", 2);
  std::string noTokens = errorMessage(writeStatsFile(path, empty));
  EXPECT_NE(noTokens.find("'layer' has no tokens"), std::string::npos)
      << noTokens;

  StatsMap nonFinite;
  nonFinite.try_emplace("layer", 2);
  std::vector<float> rows = {1.0f, std::numeric_limits<float>::infinity()};
  nonFinite.at("layer").add(rows.data(), 1);
  std::string nan = errorMessage(writeStatsFile(path, nonFinite));
  EXPECT_NE(nan.find("'layer'"), std::string::npos) << nan;
  EXPECT_NE(nan.find("NaN or infinite"), std::string::npos) << nan;

  EXPECT_FALSE(llvm::sys::fs::exists(path));
}

TEST_F(StatsFileTest, MergeFilesOfSameLayersOnly) {
  const int64_t k = 4;
  std::vector<float> rows = makeRandomRows(30, k, 3);

  StatsMap first, second;
  first.try_emplace("shared", k);
  first.at("shared").add(rows.data(), 10);
  first.try_emplace("only.first", 2);
  first.at("only.first").add(kBlock.data(), 3);
  second.try_emplace("shared", k);
  second.at("shared").add(rows.data() + 10 * k, 20);

  std::string firstPath = pathFor("first.safetensors");
  std::string secondPath = pathFor("second.safetensors");
  ASSERT_FALSE(bool(writeStatsFile(firstPath, first)));
  ASSERT_FALSE(bool(writeStatsFile(secondPath, second)));

  // Files that cover different layers come from different models.
  llvm::Expected<StatsMap> mixed = mergeStatsFiles({firstPath, secondPath});
  ASSERT_FALSE(bool(mixed));
  std::string message = llvm::toString(mixed.takeError());
  EXPECT_NE(message.find("layer 'only.first'"), std::string::npos) << message;

  second.try_emplace("only.first", 2);
  second.at("only.first").add(kBlock.data(), 3);
  ASSERT_FALSE(bool(writeStatsFile(secondPath, second)));
  llvm::Expected<StatsMap> merged = mergeStatsFiles({firstPath, secondPath});
  ASSERT_TRUE(bool(merged)) << llvm::toString(merged.takeError());
  ASSERT_EQ(merged->size(), 2u);
  expectNear(merged->at("shared"), computeReference(rows, k), 1e-12);
  EXPECT_EQ(merged->at("only.first").getCount(), 6);
}

TEST(StatsMapTest, MergeMismatchLeavesTargetUnchanged) {
  StatsMap target, source;
  target.try_emplace("a", 2);
  target.at("a").add(kBlock.data(), 3);
  target.try_emplace("b", 2);
  source.try_emplace("a", 2);
  source.at("a").add(kBlock.data(), 1);
  source.try_emplace("b", 3);

  std::string message = errorMessage(mergeStatsMaps(target, source));
  EXPECT_NE(message.find("layer 'b'"), std::string::npos) << message;
  EXPECT_EQ(target.at("a").getCount(), 3);
}

} // namespace
