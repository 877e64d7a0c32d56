//===- TokenizerTest.cpp - Tests of the SentencePiece-style tokenizer -----===//

#include "sensq/Runtime/Tokenizer.h"

#include "sensq/Runtime/Evaluation.h"
#include "sensq/Target/GGUF/GGUFFile.h"

#include "gtest/gtest.h"

using namespace sensq;

namespace {

const char *const kModelPath = SENSQ_SOURCE_DIR "/data/stories260K-f32.gguf";
const char *const kTextPath =
    SENSQ_SOURCE_DIR "/data/tinystories-valid-sample.txt";

/// Tokenizer of the stories260K model, loaded once.
const Tokenizer &getModelTokenizer() {
  static std::optional<Tokenizer> tokenizer = [] {
    llvm::Expected<std::unique_ptr<gguf::GGUFFile>> file =
        gguf::GGUFFile::open(kModelPath);
    EXPECT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
    llvm::Expected<Tokenizer> result = Tokenizer::fromGGUF(**file);
    EXPECT_TRUE(static_cast<bool>(result))
        << llvm::toString(result.takeError());
    return std::optional<Tokenizer>(std::move(*result));
  }();
  return *tokenizer;
}

std::vector<std::string> piecesOf(const Tokenizer &tokenizer,
                                  llvm::ArrayRef<int32_t> ids) {
  std::vector<std::string> pieces;
  for (int32_t id : ids)
    pieces.push_back(tokenizer.getPiece(id).str());
  return pieces;
}

TEST(TokenizerTest, ReadsModelVocabulary) {
  const Tokenizer &tokenizer = getModelTokenizer();
  EXPECT_EQ(tokenizer.getVocabSize(), 512);
  EXPECT_EQ(tokenizer.getBosId(), 1);
  EXPECT_EQ(tokenizer.getEosId(), 2);
  EXPECT_EQ(tokenizer.getPiece(3), "<0x00>");
  EXPECT_EQ(tokenizer.getPiece(265), "\xE2\x96\x81the");
}

TEST(TokenizerTest, EncodesKnownPieces) {
  const Tokenizer &tokenizer = getModelTokenizer();
  std::vector<int32_t> ids = tokenizer.encode("Once upon a time", true);
  std::vector<std::string> expected = {"<s>", "\xE2\x96\x81Once",
                                       "\xE2\x96\x81upon",
                                       "\xE2\x96\x81"
                                       "a",
                                       "\xE2\x96\x81time"};
  EXPECT_EQ(piecesOf(tokenizer, ids), expected);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids[3], 261);
}

TEST(TokenizerTest, EncodesWithoutBos) {
  const Tokenizer &tokenizer = getModelTokenizer();
  std::vector<int32_t> ids = tokenizer.encode("the", false);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], 265);
}

TEST(TokenizerTest, EmptyTextGivesOnlyBos) {
  const Tokenizer &tokenizer = getModelTokenizer();
  EXPECT_EQ(tokenizer.encode("", true), std::vector<int32_t>{1});
  EXPECT_TRUE(tokenizer.encode("", false).empty());
}

TEST(TokenizerTest, FallsBackToBytes) {
  const Tokenizer &tokenizer = getModelTokenizer();
  // U+732B (a CJK character, UTF-8 E7 8C AB) has no piece of its own.
  std::vector<int32_t> ids = tokenizer.encode("\xE7\x8C\xAB", false);
  std::vector<std::string> expected = {"\xE2\x96\x81", "<0xE7>", "<0x8C>",
                                       "<0xAB>"};
  EXPECT_EQ(piecesOf(tokenizer, ids), expected);
  EXPECT_EQ(tokenizer.decode(ids), " \xE7\x8C\xAB");
}

TEST(TokenizerTest, KeepsInvalidUtf8Bytes) {
  const Tokenizer &tokenizer = getModelTokenizer();
  // A lone continuation byte and a truncated two-byte sequence.
  std::string text = "a\x80"
                     "b\xC3";
  std::vector<int32_t> ids = tokenizer.encode(text, true);
  EXPECT_EQ(tokenizer.decode(ids), text);
}

TEST(TokenizerTest, DecodeStripsSpaceAfterBos) {
  const Tokenizer &tokenizer = getModelTokenizer();
  EXPECT_EQ(tokenizer.decodeToken(1, 265), "the");
  EXPECT_EQ(tokenizer.decodeToken(265, 265), " the");
  EXPECT_EQ(tokenizer.decodeToken(265, 1), "");
  EXPECT_EQ(tokenizer.decodeToken(265, 2), "");
  EXPECT_EQ(tokenizer.decodeToken(265, 3 + 'A'), "A");
  EXPECT_EQ(tokenizer.decodeToken(265, 512), "");
  EXPECT_EQ(tokenizer.decodeToken(265, -1), "");
}

TEST(TokenizerTest, RoundTripsSampleDocuments) {
  const Tokenizer &tokenizer = getModelTokenizer();
  llvm::Expected<std::vector<std::string>> documents = readDocuments(kTextPath);
  ASSERT_TRUE(static_cast<bool>(documents))
      << llvm::toString(documents.takeError());
  ASSERT_FALSE(documents->empty());
  for (const std::string &document : *documents) {
    std::vector<int32_t> ids = tokenizer.encode(document, true);
    EXPECT_EQ(tokenizer.decode(ids), document);
    // Merges make the encoding shorter than one token per character.
    EXPECT_LT(ids.size(), document.size());
  }
}

TEST(TokenizerTest, RoundTripsSpacesAndPunctuation) {
  const Tokenizer &tokenizer = getModelTokenizer();
  for (const char *text :
       {" leading space", "two  spaces", "trailing ", "tab\there", "new\nline",
        "caf\xC3\xA9 5\xE2\x82\xAC!", "\xF0\x9F\x99\x82 smile"}) {
    EXPECT_EQ(tokenizer.decode(tokenizer.encode(text, true)), text) << text;
  }
}

/// A vocabulary where "abc" splits as [ab, c] or [a, bc] depending on
/// which merge scores higher.
llvm::Expected<Tokenizer> makeToyTokenizer(float abScore, float bcScore) {
  std::vector<std::string> pieces = {"<unk>", "<s>", "</s>", "a",           "b",
                                     "c",     "ab",  "bc",   "\xE2\x96\x81"};
  std::vector<float> scores = {0, 0, 0, 0, 0, 0, abScore, bcScore, 0};
  std::vector<int32_t> types = {2, 3, 3, 1, 1, 1, 1, 1, 1};
  return Tokenizer::create(pieces, scores, types, 1, 2, 0, "toy");
}

TEST(TokenizerTest, MergesHighestScoreFirst) {
  llvm::Expected<Tokenizer> preferBc = makeToyTokenizer(1, 2);
  ASSERT_TRUE(static_cast<bool>(preferBc))
      << llvm::toString(preferBc.takeError());
  EXPECT_EQ(piecesOf(*preferBc, preferBc->encode("abc", false)),
            (std::vector<std::string>{"\xE2\x96\x81", "a", "bc"}));

  llvm::Expected<Tokenizer> preferAb = makeToyTokenizer(2, 1);
  ASSERT_TRUE(static_cast<bool>(preferAb));
  EXPECT_EQ(piecesOf(*preferAb, preferAb->encode("abc", false)),
            (std::vector<std::string>{"\xE2\x96\x81", "ab", "c"}));
}

TEST(TokenizerTest, MergesLeftmostPairOnTies) {
  llvm::Expected<Tokenizer> tokenizer = makeToyTokenizer(1, 1);
  ASSERT_TRUE(static_cast<bool>(tokenizer));
  EXPECT_EQ(piecesOf(*tokenizer, tokenizer->encode("abc", false)),
            (std::vector<std::string>{"\xE2\x96\x81", "ab", "c"}));
  // Merged pieces merge again: "abab" has ab twice, and (ab)(ab) is not a
  // piece, so merging stops there.
  EXPECT_EQ(piecesOf(*tokenizer, tokenizer->encode("abab", false)),
            (std::vector<std::string>{"\xE2\x96\x81", "ab", "ab"}));
}

TEST(TokenizerTest, UsesUnknownWithoutBytePieces) {
  llvm::Expected<Tokenizer> tokenizer = makeToyTokenizer(1, 1);
  ASSERT_TRUE(static_cast<bool>(tokenizer));
  EXPECT_EQ(tokenizer->encode("z", false), (std::vector<int32_t>{8, 0}));
}

TEST(TokenizerTest, RejectsInconsistentVocabulary) {
  llvm::Expected<Tokenizer> sizes =
      Tokenizer::create({"a", "b"}, {0}, {}, 0, 1, std::nullopt, "bad");
  ASSERT_FALSE(static_cast<bool>(sizes));
  EXPECT_EQ(llvm::toString(sizes.takeError()),
            "bad: tokenizer has 1 scores for 2 pieces; expected one score "
            "per piece");

  llvm::Expected<Tokenizer> bos =
      Tokenizer::create({"a", "b"}, {0, 0}, {}, 5, 1, std::nullopt, "bad");
  ASSERT_FALSE(static_cast<bool>(bos));
  EXPECT_EQ(llvm::toString(bos.takeError()),
            "bad: BOS token id 5 is outside the vocabulary of 2 pieces");

  llvm::Expected<Tokenizer> repeated =
      Tokenizer::create({"a", "a"}, {0, 0}, {}, 0, 1, std::nullopt, "bad");
  ASSERT_FALSE(static_cast<bool>(repeated));
  EXPECT_EQ(llvm::toString(repeated.takeError()),
            "bad: piece 'a' appears twice, as tokens 0 and 1");

  llvm::Expected<Tokenizer> type =
      Tokenizer::create({"a", "b"}, {0, 0}, {1, 9}, 0, 1, std::nullopt, "bad");
  ASSERT_FALSE(static_cast<bool>(type));
  EXPECT_EQ(llvm::toString(type.takeError()),
            "bad: token 1 ('b') has type 9; expected 1 to 6");
}

} // namespace
