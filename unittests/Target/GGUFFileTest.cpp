//===- GGUFFileTest.cpp - Tests of the GGUF reader ------------------------===//

#include "sensq/Target/GGUF/GGUFFile.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>

using namespace sensq::gguf;

namespace {

/// Writes GGUF files byte by byte, so tests can also write broken ones.
class Builder {
public:
  explicit Builder(uint32_t version) : version(version) {}

  std::string bytes;

  void u8(uint8_t v) { bytes.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) {
    u8(v & 0xff);
    u8(v >> 8);
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      u8((v >> (8 * i)) & 0xff);
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      u8((v >> (8 * i)) & 0xff);
  }
  void f32(float v) { u32(llvm::bit_cast<uint32_t>(v)); }
  void f64(double v) { u64(llvm::bit_cast<uint64_t>(v)); }
  /// A count or string length: 32-bit in version 1, 64-bit later.
  void len(uint64_t v) {
    if (version == 1)
      u32(static_cast<uint32_t>(v));
    else
      u64(v);
  }
  void str(llvm::StringRef s) {
    len(s.size());
    bytes += s.str();
  }

  void header(uint64_t numTensors, uint64_t numKeys) {
    bytes += "GGUF";
    u32(version);
    len(numTensors);
    len(numKeys);
  }
  void key(llvm::StringRef name, ValueType type) {
    str(name);
    u32(static_cast<uint32_t>(type));
  }
  void keyU32(llvm::StringRef name, uint32_t v) {
    key(name, ValueType::UInt32);
    u32(v);
  }
  void keyString(llvm::StringRef name, llvm::StringRef v) {
    key(name, ValueType::String);
    str(v);
  }
  void arrayHeader(llvm::StringRef name, ValueType elementType,
                   uint64_t count) {
    key(name, ValueType::Array);
    u32(static_cast<uint32_t>(elementType));
    len(count);
  }
  void tensorInfo(llvm::StringRef name, llvm::ArrayRef<uint64_t> dims,
                  TensorType type, uint64_t offset) {
    str(name);
    u32(dims.size());
    for (uint64_t d : dims)
      len(d);
    u32(static_cast<uint32_t>(type));
    u64(offset);
  }
  void padTo(uint64_t alignment) {
    while (bytes.size() % alignment)
      u8(0);
  }

private:
  uint32_t version;
};

/// Half-precision bit patterns and the floats they encode.
constexpr uint16_t kHalfBits[] = {0x3c00, 0xc000, 0x3800, 0x7bff,
                                  0x0001, 0x8000, 0x0000, 0x7c00};
const float kHalfValues[] = {1.0f,     -2.0f, 0.5f, 65504.0f,
                             0x1p-24f, -0.0f, 0.0f, INFINITY};

/// Builds a valid file with every value type, an F32 matrix of 2 rows of 3
/// and an F16 vector of 8, at alignment `alignment` (0: key absent).
std::string buildSample(uint32_t version, uint32_t alignment = 0) {
  Builder b(version);
  b.header(/*numTensors=*/2, /*numKeys=*/alignment ? 17 : 16);
  b.keyString("general.architecture", "llama");
  b.keyU32("llama.context_length", 512);

  b.key("u8", ValueType::UInt8);
  b.u8(200);
  b.key("i8", ValueType::Int8);
  b.u8(0xfe); // -2
  b.key("u16", ValueType::UInt16);
  b.u16(60000);
  b.key("i16", ValueType::Int16);
  b.u16(7);
  b.key("i32", ValueType::Int32);
  b.u32(static_cast<uint32_t>(-5));
  b.key("u64", ValueType::UInt64);
  b.u64(uint64_t(1) << 40);
  b.key("i64", ValueType::Int64);
  b.u64(123);
  b.key("f32", ValueType::Float32);
  b.f32(1e-5f);
  b.key("f64", ValueType::Float64);
  b.f64(0.25);
  b.key("flag", ValueType::Bool);
  b.u8(1);

  b.arrayHeader("tokens", ValueType::String, 3);
  b.str("<unk>");
  b.str("<s>");
  b.str("\xe2\x96\x81the");
  b.arrayHeader("scores", ValueType::Float32, 2);
  b.f32(-1.5f);
  b.f32(2.0f);
  b.arrayHeader("types", ValueType::Int32, 3);
  b.u32(1);
  b.u32(static_cast<uint32_t>(-3));
  b.u32(6);
  b.arrayHeader("big", ValueType::UInt32, 1);
  b.u32(3000000000u);
  if (alignment)
    b.keyU32("general.alignment", alignment);

  uint64_t align = alignment ? alignment : 32;
  b.tensorInfo("matrix", {3, 2}, TensorType::F32, 0);
  b.tensorInfo("halves", {8}, TensorType::F16, align);
  b.padTo(align);
  for (int i = 0; i < 6; ++i)
    b.f32(0.5f * i - 1.0f);
  b.padTo(align);
  for (uint16_t h : kHalfBits)
    b.u16(h);
  return b.bytes;
}

llvm::Expected<std::unique_ptr<GGUFFile>>
openBytes(llvm::StringRef bytes, llvm::StringRef name = "sample.gguf") {
  return GGUFFile::create(llvm::MemoryBuffer::getMemBufferCopy(bytes, name));
}

/// Expects `value` to be an error whose message contains every string of
/// `parts`, and returns the message.
template <typename T>
std::string expectError(llvm::Expected<T> value,
                        std::initializer_list<llvm::StringRef> parts) {
  if (value) {
    ADD_FAILURE() << "expected an error containing '" << parts.begin()->str()
                  << "'";
    return "";
  }
  std::string message = llvm::toString(value.takeError());
  for (llvm::StringRef part : parts)
    EXPECT_NE(message.find(part.str()), std::string::npos)
        << "message '" << message << "' lacks '" << part.str() << "'";
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

class GGUFVersionTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GGUFVersionTest, ReadsMetadataAndTensors) {
  auto file = openBytes(buildSample(GetParam()));
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  const GGUFFile &f = **file;
  EXPECT_EQ(f.getVersion(), GetParam());
  EXPECT_EQ(f.getPath(), "sample.gguf");
  EXPECT_EQ(f.getAlignment(), 32u);
  EXPECT_EQ(f.getKeys().size(), 16u);
  EXPECT_EQ(f.getKeys().front(), "general.architecture");

  EXPECT_EQ(llvm::cantFail(f.getString("general.architecture")), "llama");
  EXPECT_EQ(llvm::cantFail(f.getUInt("llama.context_length")), 512u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("u8")), 200u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("u16")), 60000u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("i16")), 7u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("u64")), uint64_t(1) << 40);
  EXPECT_EQ(llvm::cantFail(f.getUInt("i64")), 123u);
  EXPECT_FLOAT_EQ(llvm::cantFail(f.getFloat("f32")), 1e-5f);
  EXPECT_EQ(llvm::cantFail(f.getFloat("f64")), 0.25);
  EXPECT_TRUE(llvm::cantFail(f.getBool("flag")));
  EXPECT_TRUE(f.hasKey("tokens"));
  EXPECT_FALSE(f.hasKey("missing"));
  EXPECT_EQ(f.getValueType("tokens"), ValueType::Array);
  EXPECT_EQ(f.getArrayElementType("tokens"), ValueType::String);
  EXPECT_EQ(f.getArrayElementType("u8"), std::nullopt);

  std::vector<std::string> tokens = llvm::cantFail(f.getStringArray("tokens"));
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "\xe2\x96\x81the");
  EXPECT_EQ(llvm::cantFail(f.getFloatArray("scores")),
            (std::vector<float>{-1.5f, 2.0f}));
  EXPECT_EQ(llvm::cantFail(f.getIntArray("types")),
            (std::vector<int32_t>{1, -3, 6}));

  ASSERT_EQ(f.getTensors().size(), 2u);
  const TensorInfo *matrix = f.findTensor("matrix");
  ASSERT_NE(matrix, nullptr);
  EXPECT_EQ(matrix->dims, (llvm::SmallVector<uint64_t>{3, 2}));
  EXPECT_EQ(matrix->type, TensorType::F32);
  EXPECT_EQ(matrix->getNumElements(), 6u);
  EXPECT_EQ(matrix->numBytes, 24u);
  EXPECT_EQ(matrix->offset, f.getDataOffset());
  EXPECT_EQ(f.getDataOffset() % 32, 0u);
  std::vector<float> values = llvm::cantFail(f.readTensorAsF32(*matrix));
  EXPECT_EQ(values, (std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}));
  EXPECT_EQ(f.findTensor("absent"), nullptr);
}

TEST_P(GGUFVersionTest, ConvertsF16Exactly) {
  auto file = openBytes(buildSample(GetParam()));
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  const TensorInfo *halves = (*file)->findTensor("halves");
  ASSERT_NE(halves, nullptr);
  EXPECT_EQ(halves->type, TensorType::F16);
  EXPECT_EQ(halves->numBytes, 16u);
  EXPECT_EQ(halves->offset, (*file)->getDataOffset() + 32);
  std::vector<float> values = llvm::cantFail((*file)->readTensorAsF32(*halves));
  ASSERT_EQ(values.size(), 8u);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i], kHalfValues[i]) << "element " << i;
    EXPECT_EQ(std::signbit(values[i]), std::signbit(kHalfValues[i]));
  }
}

TEST_P(GGUFVersionTest, FailsOnEveryTruncation) {
  std::string bytes = buildSample(GetParam());
  for (size_t size = 0; size < bytes.size(); ++size) {
    auto file = openBytes(llvm::StringRef(bytes).take_front(size));
    ASSERT_FALSE(static_cast<bool>(file)) << "truncated to " << size;
    std::string message = llvm::toString(file.takeError());
    EXPECT_EQ(message.rfind("sample.gguf: ", 0), 0u) << message;
  }
}

TEST_P(GGUFVersionTest, HonoursAlignmentKey) {
  auto file = openBytes(buildSample(GetParam(), 64));
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->getAlignment(), 64u);
  EXPECT_EQ((*file)->getDataOffset() % 64, 0u);
  const TensorInfo *halves = (*file)->findTensor("halves");
  EXPECT_EQ(halves->offset, (*file)->getDataOffset() + 64);
  EXPECT_EQ(llvm::cantFail((*file)->readTensorAsF32(*halves))[0], 1.0f);
}

INSTANTIATE_TEST_SUITE_P(AllVersions, GGUFVersionTest,
                         ::testing::Values(1u, 2u, 3u));

TEST(GGUFFileTest, OpensFromDisk) {
  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("sensq-gguf-test", "gguf", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << buildSample(3);
  }
  auto file = GGUFFile::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->getPath(), path.str());
  EXPECT_EQ((*file)->getTensors().size(), 2u);
  llvm::sys::fs::remove(path);
}

TEST(GGUFFileTest, MissingFile) {
  expectError(GGUFFile::open("/nonexistent/model.gguf"),
              {"/nonexistent/model.gguf: cannot open file"});
}

TEST(GGUFFileTest, BadMagic) {
  std::string bytes = buildSample(2);
  bytes[0] = 'g';
  expectError(openBytes(bytes),
              {"sample.gguf: not a GGUF file", "67 47 55 46"});
}

TEST(GGUFFileTest, BadVersion) {
  for (uint32_t version : {0u, 4u, 1000u}) {
    Builder b(version);
    b.header(0, 0);
    expectError(openBytes(b.bytes),
                {"unsupported GGUF version " + std::to_string(version)});
  }
  Builder b(3);
  b.header(0, 0);
  std::swap(b.bytes[4], b.bytes[7]);
  expectError(openBytes(b.bytes), {"big-endian"});
}

TEST(GGUFFileTest, EmptyFileIsValid) {
  for (uint32_t version : {1u, 2u, 3u}) {
    Builder b(version);
    b.header(0, 0);
    auto file = openBytes(b.bytes);
    ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
    EXPECT_TRUE((*file)->getTensors().empty());
  }
}

TEST(GGUFFileTest, HugeCounts) {
  {
    Builder b(3);
    b.header(uint64_t(1) << 60, 0);
    expectError(openBytes(b.bytes), {"tensor count is 1152921504606846976"});
  }
  {
    Builder b(3);
    b.header(0, ~uint64_t(0));
    expectError(openBytes(b.bytes), {"key count"});
  }
  {
    Builder b(1);
    b.header(0, 0xffffffffu);
    expectError(openBytes(b.bytes), {"key count is 4294967295"});
  }
  {
    Builder b(3);
    b.header(0, 1);
    b.len(uint64_t(1) << 62);
    b.bytes += "a key of some length";
    expectError(openBytes(b.bytes), {"truncated", "key #0"});
  }
  {
    Builder b(3);
    b.header(0, 1);
    b.arrayHeader("scores", ValueType::Float32, uint64_t(1) << 61);
    expectError(openBytes(b.bytes), {"element count of key 'scores'"});
  }
  {
    Builder b(2);
    b.header(0, 1);
    b.arrayHeader("tokens", ValueType::String, uint64_t(1) << 40);
    b.str("a");
    expectError(openBytes(b.bytes), {"element count of key 'tokens'"});
  }
  {
    Builder b(3);
    b.header(0, 1);
    b.key("name", ValueType::String);
    b.len(~uint64_t(0));
    expectError(openBytes(b.bytes), {"truncated", "key 'name'"});
  }
}

TEST(GGUFFileTest, UnknownValueType) {
  Builder b(3);
  b.header(0, 1);
  b.str("weird");
  b.u32(13);
  b.u32(0);
  expectError(openBytes(b.bytes), {"key 'weird' has unknown value type 13"});

  Builder c(3);
  c.header(0, 1);
  c.str("weird");
  c.u32(static_cast<uint32_t>(ValueType::Array));
  c.u32(99);
  c.len(0);
  expectError(openBytes(c.bytes), {"unknown array element type 99"});
}

TEST(GGUFFileTest, NestedArrays) {
  // One level of nesting is read and skipped.
  Builder b(3);
  b.header(0, 2);
  b.arrayHeader("nested", ValueType::Array, 2);
  b.u32(static_cast<uint32_t>(ValueType::UInt8));
  b.len(2);
  b.u8(1);
  b.u8(2);
  b.u32(static_cast<uint32_t>(ValueType::String));
  b.len(1);
  b.str("x");
  b.keyU32("after", 9);
  auto file = openBytes(b.bytes);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  EXPECT_EQ(llvm::cantFail((*file)->getUInt("after")), 9u);
  expectError((*file)->getStringArray("nested"),
              {"key 'nested' has type array of array; expected array of "
               "string"});

  // Deep nesting is rejected rather than recursed into.
  Builder c(3);
  c.header(0, 1);
  c.arrayHeader("deep", ValueType::Array, 1);
  for (int i = 0; i < 10; ++i) {
    c.u32(static_cast<uint32_t>(ValueType::Array));
    c.len(1);
  }
  expectError(openBytes(c.bytes), {"nests arrays deeper than"});
}

TEST(GGUFFileTest, DuplicateKeyAndTensor) {
  Builder b(3);
  b.header(0, 2);
  b.keyU32("a", 1);
  b.keyU32("a", 2);
  expectError(openBytes(b.bytes), {"duplicate key 'a'"});

  Builder c(3);
  c.header(2, 0);
  c.tensorInfo("t", {8}, TensorType::F32, 0);
  c.tensorInfo("t", {8}, TensorType::F32, 32);
  c.padTo(32);
  c.bytes.append(64, '\0');
  expectError(openBytes(c.bytes), {"duplicate tensor 't'"});
}

/// A file with one tensor "w" of `dims`, type id `type` and `offset`, and
/// `dataBytes` bytes of data.
std::string buildOneTensor(uint32_t version, llvm::ArrayRef<uint64_t> dims,
                           uint32_t type, uint64_t offset, size_t dataBytes,
                           std::optional<uint32_t> alignment = std::nullopt) {
  Builder b(version);
  b.header(1, alignment ? 1 : 0);
  if (alignment)
    b.keyU32("general.alignment", *alignment);
  b.tensorInfo("w", dims, static_cast<TensorType>(type), offset);
  b.padTo(alignment && *alignment ? *alignment : 32);
  b.bytes.append(dataBytes, '\0');
  return b.bytes;
}

TEST(GGUFFileTest, TensorPastEndOfFile) {
  expectError(openBytes(buildOneTensor(3, {8, 4}, 0, 0, 127)),
              {"tensor 'w' data (128 bytes", "extends past the end"});
  expectError(openBytes(buildOneTensor(3, {8}, 0, 64, 32)),
              {"tensor 'w'", "extends past the end"});
  expectError(openBytes(buildOneTensor(3, {8}, 0, ~uint64_t(31), 32)),
              {"tensor 'w'", "extends past the end"});
  auto ok = openBytes(buildOneTensor(3, {8, 4}, 0, 0, 128));
  EXPECT_TRUE(static_cast<bool>(ok)) << llvm::toString(ok.takeError());
}

TEST(GGUFFileTest, MisalignedTensor) {
  expectError(openBytes(buildOneTensor(3, {8}, 0, 4, 64)),
              {"tensor 'w' has data offset 4", "alignment 32"});
}

TEST(GGUFFileTest, BadAlignment) {
  expectError(openBytes(buildOneTensor(3, {8}, 0, 0, 32, 3)),
              {"general.alignment is 3"});
  expectError(openBytes(buildOneTensor(3, {8}, 0, 0, 32, 0)),
              {"general.alignment is 0"});
}

TEST(GGUFFileTest, BadTensorShapesAndTypes) {
  expectError(openBytes(buildOneTensor(3, {8}, 1000, 0, 64)),
              {"tensor 'w' has unknown type id 1000"});
  expectError(openBytes(buildOneTensor(3, {8}, 4, 0, 64)),
              {"tensor 'w' has unknown type id 4"});
  expectError(openBytes(buildOneTensor(3, {1, 1, 1, 1, 1}, 0, 0, 64)),
              {"tensor 'w' has 5 dimensions; expected at most 4"});
  expectError(openBytes(buildOneTensor(
                  3, {uint64_t(1) << 32, uint64_t(1) << 32}, 0, 0, 64)),
              {"tensor 'w' has too many elements"});
  expectError(openBytes(buildOneTensor(3, {33}, 2, 0, 64)),
              {"rows of 33 elements; type Q4_0 stores blocks of 32"});
  // 2^61 F64 elements fit int64 but their 2^64 bytes do not fit uint64.
  expectError(openBytes(buildOneTensor(3, {uint64_t(1) << 61}, 28, 0, 64)),
              {"tensor 'w' is too large"});
}

TEST(GGUFFileTest, QuantizedTensorLayout) {
  // Two rows of 256 Q4_K elements: two 144-byte blocks.
  auto file = openBytes(buildOneTensor(3, {256, 2}, 12, 0, 288));
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  const TensorInfo &w = (*file)->getTensors()[0];
  EXPECT_EQ(w.numBytes, 288u);
  EXPECT_EQ(stringifyTensorType(w.type), "Q4_K");
  EXPECT_EQ((*file)->getTensorData(w).size(), 288u);
  expectError((*file)->readTensorAsF32(w),
              {"sample.gguf: tensor 'w' has type Q4_K; expected F32 or F16"});
}

TEST(GGUFFileTest, GetterErrors) {
  auto file = openBytes(buildSample(3));
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  const GGUFFile &f = **file;
  expectError(f.getUInt("missing"), {"sample.gguf: key 'missing' not found"});
  expectError(f.getUInt("general.architecture"),
              {"key 'general.architecture' has type string; expected an "
               "integer"});
  expectError(f.getUInt("i8"), {"key 'i8' is -2; expected a non-negative"});
  expectError(f.getUInt("i32"), {"key 'i32' is -5"});
  expectError(f.getFloat("u8"), {"key 'u8' has type uint8"});
  expectError(f.getString("f32"), {"key 'f32' has type float32"});
  expectError(f.getBool("u8"), {"expected bool"});
  expectError(f.getStringArray("scores"),
              {"key 'scores' has type array of float32; expected array of "
               "string"});
  expectError(f.getFloatArray("u8"), {"key 'u8' has type uint8"});
  expectError(f.getIntArray("tokens"), {"array of integers"});
  expectError(f.getIntArray("big"),
              {"element 0 of key 'big' is 3000000000; expected a value that "
               "fits int32"});
}

TEST(GGUFFileTest, QuotesNamesInMessages) {
  EXPECT_EQ(quoteForMessage("blk.0"), "'blk.0'");
  EXPECT_EQ(quoteForMessage("a'b\\c\n"), "'a\\'b\\\\c\\x0a'");
  std::string message = quoteForMessage(std::string(200, 'x'));
  EXPECT_EQ(message, "'" + std::string(80, 'x') + "...' (200 bytes)");

  // A key name with a line break still yields a one-line message.
  Builder b(3);
  b.header(0, 1);
  b.str("bad\nkey");
  b.u32(77);
  expectError(openBytes(b.bytes),
              {"key 'bad\\x0akey' has unknown value type 77"});
}

TEST(GGUFFileTest, TypeNames) {
  EXPECT_EQ(stringifyTensorType(TensorType::F32), "F32");
  EXPECT_EQ(stringifyTensorType(TensorType::IQ4_XS), "IQ4_XS");
  EXPECT_EQ(stringifyTensorType(static_cast<TensorType>(4)), "unknown");
  EXPECT_EQ(stringifyValueType(ValueType::Float64), "float64");
  for (uint32_t id = 0; id < 64; ++id) {
    auto type = static_cast<TensorType>(id);
    EXPECT_EQ(getTensorTypeLayout(type).has_value(),
              stringifyTensorType(type) != "unknown")
        << "type id " << id;
  }
}

#ifdef SENSQ_SOURCE_DIR
TEST(GGUFFileTest, RealModel) {
  llvm::SmallString<256> path(SENSQ_SOURCE_DIR);
  llvm::sys::path::append(path, "data", "stories260K-f32.gguf");
  auto file = GGUFFile::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  const GGUFFile &f = **file;
  EXPECT_EQ(f.getVersion(), 1u);
  EXPECT_EQ(llvm::cantFail(f.getString("general.architecture")), "llama");
  EXPECT_EQ(llvm::cantFail(f.getUInt("llama.embedding_length")), 64u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("llama.block_count")), 5u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("llama.attention.head_count")), 8u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("llama.attention.head_count_kv")), 4u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("llama.feed_forward_length")), 172u);
  EXPECT_EQ(llvm::cantFail(f.getUInt("llama.context_length")), 512u);
  EXPECT_NEAR(
      llvm::cantFail(f.getFloat("llama.attention.layer_norm_rms_epsilon")),
      1e-5, 1e-9);
  std::vector<std::string> tokens =
      llvm::cantFail(f.getStringArray("tokenizer.ggml.tokens"));
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(llvm::cantFail(f.getFloatArray("tokenizer.ggml.scores")).size(),
            512u);
  EXPECT_EQ(llvm::cantFail(f.getIntArray("tokenizer.ggml.token_type")).size(),
            512u);
  EXPECT_EQ(f.getDataOffset(), 11456u);

  // 5 blocks of 9 tensors, token_embd, output_norm and output.
  EXPECT_EQ(f.getTensors().size(), 48u);
  const TensorInfo *embedding = f.findTensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  EXPECT_EQ(embedding->dims, (llvm::SmallVector<uint64_t>{64, 512}));
  const TensorInfo *down = f.findTensor("blk.4.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->dims, (llvm::SmallVector<uint64_t>{172, 64}));
  uint64_t totalBytes = 0;
  for (const TensorInfo &tensor : f.getTensors()) {
    EXPECT_EQ(tensor.type, TensorType::F32) << tensor.name;
    totalBytes += tensor.numBytes;
    std::vector<float> values = llvm::cantFail(f.readTensorAsF32(tensor));
    EXPECT_EQ(values.size(), tensor.getNumElements());
    for (float v : values)
      ASSERT_TRUE(std::isfinite(v)) << tensor.name;
  }
  EXPECT_EQ(f.getDataOffset() + totalBytes, 1182656u);
}
#endif

} // namespace
