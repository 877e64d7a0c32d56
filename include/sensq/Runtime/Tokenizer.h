//===- Tokenizer.h - SentencePiece-style tokenizer --------------*- C++ -*-===//
//
// Byte-pair tokenizer over a SentencePiece vocabulary as stored in GGUF
// files (`tokenizer.ggml.*`): pieces spell spaces as U+2581, characters
// outside the vocabulary fall back to `<0xNN>` byte pieces, and encoding
// repeatedly merges the adjacent pair whose merged piece has the highest
// score, as llama2.c does.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_RUNTIME_TOKENIZER_H
#define SENSQ_RUNTIME_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sensq {
namespace gguf {
class GGUFFile;
} // namespace gguf

/// Token kinds, with the ids of `tokenizer.ggml.token_type`.
enum class TokenType : int32_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

class Tokenizer {
public:
  /// Builds a tokenizer from pieces, their merge scores and types (empty
  /// `types` means all normal, except `<0xNN>` pieces, which are bytes).
  /// Fails when the sizes differ, an id is out of range or a piece repeats.
  /// `name` prefixes error messages.
  static llvm::Expected<Tokenizer>
  create(std::vector<std::string> pieces, std::vector<float> scores,
         std::vector<int32_t> types, int32_t bosId, int32_t eosId,
         std::optional<int32_t> unknownId, llvm::StringRef name);

  /// Reads `tokenizer.ggml.tokens`, `tokenizer.ggml.scores`,
  /// `tokenizer.ggml.token_type` and the BOS, EOS and unknown token ids.
  static llvm::Expected<Tokenizer> fromGGUF(const gguf::GGUFFile &file);

  /// Encodes UTF-8 text: a space is prepended (SentencePiece's dummy
  /// prefix) unless the text is empty, spaces become U+2581, each UTF-8
  /// character becomes its piece or its bytes' `<0xNN>` pieces, then the
  /// highest-scoring merges are applied until none is left. With `addBos`
  /// the result starts with the BOS token.
  std::vector<int32_t> encode(llvm::StringRef text, bool addBos) const;

  /// Returns the text of `token` following `previous`: U+2581 becomes a
  /// space, a byte piece becomes its byte, control and unknown tokens give
  /// nothing, and the leading space of the first piece after BOS is
  /// dropped. Out-of-range ids give nothing.
  std::string decodeToken(int32_t previous, int32_t token) const;

  /// Decodes a token sequence; a leading BOS counts as the previous token of
  /// the first one and produces no text.
  std::string decode(llvm::ArrayRef<int32_t> tokens) const;

  int64_t getVocabSize() const { return pieces.size(); }
  int32_t getBosId() const { return bosId; }
  int32_t getEosId() const { return eosId; }
  llvm::StringRef getPiece(int32_t id) const { return pieces[id]; }
  float getScore(int32_t id) const { return scores[id]; }
  /// Returns the id of `piece` if it is a mergeable (normal, user-defined
  /// or byte) piece.
  std::optional<int32_t> lookup(llvm::StringRef piece) const;

private:
  Tokenizer() = default;

  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<TokenType> types;
  llvm::StringMap<int32_t> pieceIds;
  /// Token id of each byte value's `<0xNN>` piece, -1 when absent.
  std::array<int32_t, 256> byteIds;
  int32_t bosId = 1;
  int32_t eosId = 2;
  std::optional<int32_t> unknownId;
};

} // namespace sensq

#endif // SENSQ_RUNTIME_TOKENIZER_H
