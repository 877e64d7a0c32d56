//===- Tokenizer.cpp - SentencePiece-style tokenizer ----------------------===//

#include "sensq/Runtime/Tokenizer.h"

#include "sensq/Target/GGUF/GGUFFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <queue>

using namespace sensq;

/// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
static constexpr llvm::StringLiteral kSpaceMark = "\xE2\x96\x81";

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Parses a byte piece `<0xNN>` (two hex digits).
static std::optional<uint8_t> parseBytePiece(llvm::StringRef piece) {
  if (piece.size() != 6 || !piece.starts_with("<0x") || !piece.ends_with(">"))
    return std::nullopt;
  unsigned value;
  if (piece.substr(3, 2).getAsInteger(16, value) || value > 255)
    return std::nullopt;
  return static_cast<uint8_t>(value);
}

/// Returns the byte length of the UTF-8 character starting at `text[pos]`,
/// or 1 for a byte that does not start a well-formed character (it then
/// goes through byte fallback on its own).
static size_t getUtf8CharLength(llvm::StringRef text, size_t pos) {
  auto lead = static_cast<uint8_t>(text[pos]);
  size_t length;
  if (lead < 0x80)
    return 1;
  if ((lead & 0xE0) == 0xC0)
    length = 2;
  else if ((lead & 0xF0) == 0xE0)
    length = 3;
  else if ((lead & 0xF8) == 0xF0)
    length = 4;
  else
    return 1;
  if (pos + length > text.size())
    return 1;
  for (size_t i = 1; i < length; ++i)
    if ((static_cast<uint8_t>(text[pos + i]) & 0xC0) != 0x80)
      return 1;
  return length;
}

llvm::Expected<Tokenizer>
Tokenizer::create(std::vector<std::string> pieces, std::vector<float> scores,
                  std::vector<int32_t> types, int32_t bosId, int32_t eosId,
                  std::optional<int32_t> unknownId, llvm::StringRef name) {
  int64_t size = pieces.size();
  if (size == 0)
    return makeError(name + ": tokenizer vocabulary is empty");
  if (static_cast<int64_t>(scores.size()) != size)
    return makeError(llvm::formatv("{0}: tokenizer has {1} scores for {2} "
                                   "pieces; expected one score per piece",
                                   name, scores.size(), size));
  if (!types.empty() && static_cast<int64_t>(types.size()) != size)
    return makeError(llvm::formatv("{0}: tokenizer has {1} token types for "
                                   "{2} pieces; expected one type per piece",
                                   name, types.size(), size));
  auto checkId = [&](int32_t id, llvm::StringRef what) -> llvm::Error {
    if (id < 0 || id >= size)
      return makeError(llvm::formatv("{0}: {1} token id {2} is outside the "
                                     "vocabulary of {3} pieces",
                                     name, what, id, size));
    return llvm::Error::success();
  };
  if (llvm::Error err = checkId(bosId, "BOS"))
    return std::move(err);
  if (llvm::Error err = checkId(eosId, "EOS"))
    return std::move(err);
  if (unknownId)
    if (llvm::Error err = checkId(*unknownId, "unknown"))
      return std::move(err);

  Tokenizer tokenizer;
  tokenizer.byteIds.fill(-1);
  tokenizer.types.reserve(size);
  for (int64_t id = 0; id < size; ++id) {
    TokenType type = TokenType::Normal;
    if (!types.empty()) {
      int32_t raw = types[id];
      if (raw < 1 || raw > 6)
        return makeError(llvm::formatv("{0}: token {1} ('{2}') has type {3}; "
                                       "expected 1 to 6",
                                       name, id, pieces[id], raw));
      type = static_cast<TokenType>(raw);
    } else if (parseBytePiece(pieces[id])) {
      type = TokenType::Byte;
    }
    tokenizer.types.push_back(type);

    if (type == TokenType::Byte) {
      std::optional<uint8_t> byte = parseBytePiece(pieces[id]);
      if (!byte)
        return makeError(llvm::formatv("{0}: byte token {1} is '{2}'; "
                                       "expected <0xNN>",
                                       name, id, pieces[id]));
      tokenizer.byteIds[*byte] = id;
      continue;
    }
    if (type != TokenType::Normal && type != TokenType::UserDefined)
      continue;
    if (!tokenizer.pieceIds.try_emplace(pieces[id], id).second)
      return makeError(llvm::formatv(
          "{0}: piece '{1}' appears twice, as "
          "tokens {2} and {3}",
          name, pieces[id], tokenizer.pieceIds.lookup(pieces[id]), id));
  }
  tokenizer.pieces = std::move(pieces);
  tokenizer.scores = std::move(scores);
  tokenizer.bosId = bosId;
  tokenizer.eosId = eosId;
  tokenizer.unknownId = unknownId;
  return std::move(tokenizer);
}

llvm::Expected<Tokenizer> Tokenizer::fromGGUF(const gguf::GGUFFile &file) {
  llvm::StringRef path = file.getPath();
  if (file.hasKey("tokenizer.ggml.model")) {
    llvm::Expected<std::string> model = file.getString("tokenizer.ggml.model");
    if (!model)
      return model.takeError();
    if (*model != "llama")
      return makeError(llvm::formatv("{0}: tokenizer model is '{1}'; expected "
                                     "'llama' (SentencePiece)",
                                     path, *model));
  }

  llvm::Expected<std::vector<std::string>> pieces =
      file.getStringArray("tokenizer.ggml.tokens");
  if (!pieces)
    return pieces.takeError();
  llvm::Expected<std::vector<float>> scores =
      file.getFloatArray("tokenizer.ggml.scores");
  if (!scores)
    return scores.takeError();
  std::vector<int32_t> types;
  if (file.hasKey("tokenizer.ggml.token_type")) {
    llvm::Expected<std::vector<int32_t>> read =
        file.getIntArray("tokenizer.ggml.token_type");
    if (!read)
      return read.takeError();
    types = std::move(*read);
  }

  auto readId = [&](llvm::StringRef key, std::optional<int32_t> fallback)
      -> llvm::Expected<std::optional<int32_t>> {
    if (!file.hasKey(key))
      return fallback;
    llvm::Expected<uint64_t> value = file.getUInt(key);
    if (!value)
      return value.takeError();
    if (*value > static_cast<uint64_t>(INT32_MAX))
      return makeError(llvm::formatv("{0}: {1} is {2}; expected a token id",
                                     path, key, *value));
    return static_cast<int32_t>(*value);
  };

  // SentencePiece's defaults: <unk> = 0, <s> = 1, </s> = 2.
  llvm::Expected<std::optional<int32_t>> bos =
      readId("tokenizer.ggml.bos_token_id", 1);
  if (!bos)
    return bos.takeError();
  llvm::Expected<std::optional<int32_t>> eos =
      readId("tokenizer.ggml.eos_token_id", 2);
  if (!eos)
    return eos.takeError();
  llvm::Expected<std::optional<int32_t>> unknown =
      readId("tokenizer.ggml.unknown_token_id", std::nullopt);
  if (!unknown)
    return unknown.takeError();

  return create(std::move(*pieces), std::move(*scores), std::move(types), **bos,
                **eos, *unknown, path);
}

std::optional<int32_t> Tokenizer::lookup(llvm::StringRef piece) const {
  auto it = pieceIds.find(piece);
  if (it == pieceIds.end())
    return std::nullopt;
  return it->second;
}

namespace {
/// A candidate merge of two adjacent symbols. Symbols keep the index of
/// their first character, so the leftmost pair has the smallest `left`.
struct MergeCandidate {
  float score;
  int64_t left;
  int64_t right;
  int32_t leftId;
  int32_t rightId;
  int32_t mergedId;
};

/// Orders candidates so that the queue top is the highest score, and the
/// leftmost pair among equal scores, matching a left-to-right scan that
/// keeps the first best pair.
struct CandidateOrder {
  bool operator()(const MergeCandidate &a, const MergeCandidate &b) const {
    if (a.score != b.score)
      return a.score < b.score;
    return a.left > b.left;
  }
};
} // namespace

std::vector<int32_t> Tokenizer::encode(llvm::StringRef text,
                                       bool addBos) const {
  std::vector<int32_t> result;
  if (addBos)
    result.push_back(bosId);
  if (text.empty())
    return result;

  // SentencePiece normalization: a dummy prefix space, then every space
  // spelled as U+2581.
  std::string normalized(kSpaceMark);
  for (char c : text) {
    if (c == ' ')
      normalized += kSpaceMark;
    else
      normalized += c;
  }

  // One symbol per character, or one per byte for characters without a
  // piece of their own.
  std::vector<int32_t> symbols;
  llvm::StringRef rest(normalized);
  for (size_t pos = 0; pos < rest.size();) {
    size_t length = getUtf8CharLength(rest, pos);
    if (std::optional<int32_t> id = lookup(rest.substr(pos, length))) {
      symbols.push_back(*id);
    } else {
      for (size_t i = 0; i < length; ++i) {
        int32_t byteId = byteIds[static_cast<uint8_t>(rest[pos + i])];
        symbols.push_back(byteId >= 0 ? byteId : unknownId.value_or(0));
      }
    }
    pos += length;
  }

  // Greedy merging with a priority queue over adjacent pairs. Stale
  // candidates, whose sides were merged away or changed, are skipped.
  int64_t numSymbols = symbols.size();
  std::vector<int64_t> next(numSymbols), prev(numSymbols);
  std::vector<bool> alive(numSymbols, true);
  for (int64_t i = 0; i < numSymbols; ++i) {
    next[i] = i + 1 < numSymbols ? i + 1 : -1;
    prev[i] = i - 1;
  }
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>,
                      CandidateOrder>
      queue;
  llvm::SmallString<64> merged;
  auto pushCandidate = [&](int64_t left, int64_t right) {
    if (left < 0 || right < 0)
      return;
    merged = pieces[symbols[left]];
    merged += pieces[symbols[right]];
    if (std::optional<int32_t> id = lookup(merged))
      queue.push(
          {scores[*id], left, right, symbols[left], symbols[right], *id});
  };
  for (int64_t i = 0; i + 1 < numSymbols; ++i)
    pushCandidate(i, i + 1);
  while (!queue.empty()) {
    MergeCandidate candidate = queue.top();
    queue.pop();
    if (!alive[candidate.left] || !alive[candidate.right] ||
        next[candidate.left] != candidate.right ||
        symbols[candidate.left] != candidate.leftId ||
        symbols[candidate.right] != candidate.rightId)
      continue;
    symbols[candidate.left] = candidate.mergedId;
    alive[candidate.right] = false;
    next[candidate.left] = next[candidate.right];
    if (next[candidate.left] >= 0)
      prev[next[candidate.left]] = candidate.left;
    pushCandidate(prev[candidate.left], candidate.left);
    pushCandidate(candidate.left, next[candidate.left]);
  }
  for (int64_t i = 0; i < numSymbols; ++i)
    if (alive[i])
      result.push_back(symbols[i]);
  return result;
}

std::string Tokenizer::decodeToken(int32_t previous, int32_t token) const {
  if (token < 0 || token >= getVocabSize() || token == bosId || token == eosId)
    return "";
  switch (types[token]) {
  case TokenType::Byte:
    return std::string(1, static_cast<char>(*parseBytePiece(pieces[token])));
  case TokenType::Control:
  case TokenType::Unknown:
  case TokenType::Unused:
    return "";
  case TokenType::Normal:
  case TokenType::UserDefined:
    break;
  }
  std::string text;
  llvm::StringRef piece = pieces[token];
  while (!piece.empty()) {
    if (piece.starts_with(kSpaceMark)) {
      text += ' ';
      piece = piece.drop_front(kSpaceMark.size());
    } else {
      text += piece.front();
      piece = piece.drop_front();
    }
  }
  if (previous == bosId && !text.empty() && text.front() == ' ')
    text.erase(0, 1);
  return text;
}

std::string Tokenizer::decode(llvm::ArrayRef<int32_t> tokens) const {
  std::string text;
  int32_t previous = -1;
  for (int32_t token : tokens) {
    text += decodeToken(previous, token);
    previous = token;
  }
  return text;
}
