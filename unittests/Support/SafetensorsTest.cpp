//===- SafetensorsTest.cpp - Tests for the safetensors reader and writer --===//

#include "sensq/Support/Safetensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace sensq::safetensors;

namespace {

/// Builds a file image from a JSON header and a data section.
std::string makeImage(llvm::StringRef header, llvm::StringRef data) {
  char lengthField[8];
  llvm::support::endian::write64le(lengthField, header.size());
  std::string image(lengthField, sizeof(lengthField));
  image += header;
  image += data;
  return image;
}

/// Returns the error message of a failed parse, or "" when it succeeded.
std::string parseError(llvm::StringRef image) {
  llvm::Expected<File> file = parseBuffer(image, "model.safetensors");
  if (file)
    return "";
  return llvm::toString(file.takeError());
}

File makeSampleFile() {
  File file;
  file.tensors["weights"] =
      Tensor::fromF64({2, 3}, {1.0, -2.5, 3.25, 0.0, 1e300, -1e-300});
  file.tensors["bias"] = Tensor::fromF32({3}, {0.5f, -0.25f, 7.0f});
  file.tensors["count"] = Tensor::fromI64({1}, {int64_t(1) << 40});
  file.tensors["scalar"] = Tensor::fromF32({}, {42.0f});
  file.tensors["empty"] = Tensor::fromF32({0, 3}, {});
  file.metadata["format"] = "test";
  file.metadata["note"] = "quotes \" and unicode \u00e9";
  return file;
}

class SafetensorsFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::error_code ec =
        llvm::sys::fs::createUniqueDirectory("sensq-safetensors-test", dir);
    ASSERT_FALSE(ec) << ec.message();
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string pathFor(llvm::StringRef name) const {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

  std::vector<std::string> listDirectory() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec))
      names.push_back(std::string(llvm::sys::path::filename(it->path())));
    return names;
  }

  llvm::SmallString<128> dir;
};

TEST(SafetensorsTest, DTypeNamesRoundTrip) {
  for (DType dtype : {DType::F64, DType::F32, DType::F16, DType::BF16,
                      DType::I64, DType::I32, DType::I16, DType::I8,
                      DType::U64, DType::U32, DType::U16, DType::U8,
                      DType::BOOL}) {
    std::optional<DType> parsed = parseDType(getDTypeName(dtype));
    ASSERT_TRUE(parsed.has_value()) << getDTypeName(dtype).str();
    EXPECT_EQ(*parsed, dtype);
  }
  EXPECT_EQ(getElementSize(DType::F64), 8);
  EXPECT_EQ(getElementSize(DType::BF16), 2);
  EXPECT_EQ(getElementSize(DType::BOOL), 1);
  EXPECT_FALSE(parseDType("f32").has_value());
  EXPECT_FALSE(parseDType("Q4_K").has_value());
}

TEST(SafetensorsTest, ParsesHandWrittenFile) {
  std::string data;
  char bytes[8];
  llvm::support::endian::write<float>(bytes, 1.5f, llvm::endianness::little);
  llvm::support::endian::write<float>(bytes + 4, -2.0f,
                                      llvm::endianness::little);
  data.append(bytes, 8);
  llvm::support::endian::write<int64_t>(bytes, -7, llvm::endianness::little);
  data.append(bytes, 8);
  std::string image = makeImage(
      R"({"__metadata__":{"k":"v"},)"
      R"("b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   )",
      data);

  llvm::Expected<File> file = parseBuffer(image, "hand.safetensors");
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors.size(), 2u);
  EXPECT_EQ(file->metadata.at("k"), "v");

  const Tensor &a = file->tensors.at("a");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (llvm::SmallVector<int64_t>{2}));
  EXPECT_EQ(a.toF32(), (std::vector<float>{1.5f, -2.0f}));

  const Tensor &b = file->tensors.at("b");
  EXPECT_EQ(b.dtype, DType::I64);
  EXPECT_EQ(b.toI64(), (std::vector<int64_t>{-7}));
}

TEST(SafetensorsTest, SerializeAlignsDataSection) {
  llvm::Expected<std::string> bytes = serialize(makeSampleFile());
  ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());
  uint64_t headerSize = llvm::support::endian::read64le(bytes->data());
  EXPECT_EQ((8 + headerSize) % 8, 0u);
  // 6 F64 + 3 F32 + 1 I64 + 1 F32 + 0 bytes of data.
  EXPECT_EQ(bytes->size(), 8 + headerSize + 48 + 12 + 8 + 4);
}

TEST(SafetensorsTest, SerializeRejectsInconsistentTensor) {
  File file;
  Tensor tensor = Tensor::fromF32({2}, {1.0f, 2.0f});
  tensor.shape = {3};
  file.tensors["bad"] = tensor;
  llvm::Expected<std::string> bytes = serialize(file);
  ASSERT_FALSE(bool(bytes));
  std::string message = llvm::toString(bytes.takeError());
  EXPECT_NE(message.find("'bad'"), std::string::npos) << message;

  File reserved;
  reserved.tensors["__metadata__"] = Tensor::fromF32({1}, {1.0f});
  llvm::Expected<std::string> reservedBytes = serialize(reserved);
  ASSERT_FALSE(bool(reservedBytes));
  llvm::consumeError(reservedBytes.takeError());
}

TEST_F(SafetensorsFileTest, RoundTripPreservesTensorsAndMetadata) {
  File original = makeSampleFile();
  std::string path = pathFor("sample.safetensors");
  ASSERT_FALSE(bool(writeFile(path, original)));

  llvm::Expected<File> read = readFile(path);
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->metadata, original.metadata);
  ASSERT_EQ(read->tensors.size(), original.tensors.size());
  for (const auto &[name, tensor] : original.tensors) {
    SCOPED_TRACE(name);
    const Tensor &copy = read->tensors.at(name);
    EXPECT_EQ(copy.dtype, tensor.dtype);
    EXPECT_EQ(copy.shape, tensor.shape);
    EXPECT_EQ(copy.data, tensor.data);
  }
  EXPECT_EQ(read->tensors.at("weights").toF64(),
            (std::vector<double>{1.0, -2.5, 3.25, 0.0, 1e300, -1e-300}));
  EXPECT_EQ(read->tensors.at("scalar").getNumElements(), 1);
  EXPECT_EQ(read->tensors.at("empty").getNumElements(), 0);

  // Only the target remains: the temporary file was renamed onto it.
  EXPECT_EQ(listDirectory(), std::vector<std::string>{"sample.safetensors"});
}

TEST_F(SafetensorsFileTest, WriteFailureKeepsOldFile) {
  std::string path = pathFor("keep.safetensors");
  File original = makeSampleFile();
  ASSERT_FALSE(bool(writeFile(path, original)));

  File broken;
  Tensor tensor = Tensor::fromF64({2}, {1.0, 2.0});
  tensor.data.pop_back();
  broken.tensors["broken"] = tensor;
  llvm::Error err = writeFile(path, broken);
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("'broken'"), std::string::npos) << message;

  llvm::Expected<File> read = readFile(path);
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->tensors.size(), original.tensors.size());
  EXPECT_EQ(listDirectory(), std::vector<std::string>{"keep.safetensors"});
}

TEST_F(SafetensorsFileTest, WriteIntoMissingDirectoryFails) {
  std::string path = pathFor("missing/out.safetensors");
  llvm::Error err = writeFile(path, makeSampleFile());
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_TRUE(listDirectory().empty());
}

TEST_F(SafetensorsFileTest, MissingFileNamesPath) {
  std::string path = pathFor("absent.safetensors");
  llvm::Expected<File> read = readFile(path);
  ASSERT_FALSE(bool(read));
  std::string message = llvm::toString(read.takeError());
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST_F(SafetensorsFileTest, TruncatedFileIsRejected) {
  llvm::Expected<std::string> bytes = serialize(makeSampleFile());
  ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());
  std::string path = pathFor("truncated.safetensors");
  for (size_t size : {size_t(0), size_t(5), size_t(40), bytes->size() - 1}) {
    SCOPED_TRACE(size);
    {
      std::error_code ec;
      llvm::raw_fd_ostream os(path, ec);
      ASSERT_FALSE(ec) << ec.message();
      os << llvm::StringRef(*bytes).take_front(size);
    }
    llvm::Expected<File> read = readFile(path);
    ASSERT_FALSE(bool(read));
    std::string message = llvm::toString(read.takeError());
    EXPECT_NE(message.find(path), std::string::npos) << message;
  }
}

TEST(SafetensorsTest, ShortFileIsRejected) {
  std::string message = parseError("abc");
  EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("3 bytes"), std::string::npos) << message;
}

TEST(SafetensorsTest, HeaderLengthPastEndIsRejected) {
  std::string image = makeImage(R"({"a":{}})", "");
  image.resize(image.size() - 2);
  std::string message = parseError(image);
  EXPECT_NE(message.find("header length is 8 bytes"), std::string::npos)
      << message;
}

TEST(SafetensorsTest, HugeHeaderLengthIsRejected) {
  std::string image(16, ' ');
  llvm::support::endian::write64le(image.data(), ~uint64_t(0));
  std::string message = parseError(image);
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST(SafetensorsTest, BadJsonIsRejected) {
  std::string message = parseError(makeImage(R"({"a": {"dtype": )", ""));
  EXPECT_NE(message.find("invalid JSON header"), std::string::npos)
      << message;
}

TEST(SafetensorsTest, NonObjectHeaderIsRejected) {
  std::string message = parseError(makeImage("[1, 2]", ""));
  EXPECT_NE(message.find("not an object"), std::string::npos) << message;
}

TEST(SafetensorsTest, OffsetsPastEndAreRejected) {
  std::string message = parseError(makeImage(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
      std::string(4, '\0')));
  EXPECT_NE(message.find("tensor 'a'"), std::string::npos) << message;
  EXPECT_NE(message.find("past the end"), std::string::npos) << message;
}

TEST(SafetensorsTest, WrongDTypeSizeIsRejected) {
  // Two F64 values need 16 bytes, not 8.
  std::string message = parseError(makeImage(
      R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
      std::string(8, '\0')));
  EXPECT_NE(message.find("tensor 'a'"), std::string::npos) << message;
  EXPECT_NE(message.find("expected 16 bytes"), std::string::npos) << message;
}

TEST(SafetensorsTest, UnknownDTypeIsRejected) {
  std::string message = parseError(makeImage(
      R"({"a":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,8]}})",
      std::string(8, '\0')));
  EXPECT_NE(message.find("tensor 'a'"), std::string::npos) << message;
  EXPECT_NE(message.find("'Q4_K'"), std::string::npos) << message;
}

TEST(SafetensorsTest, OverlappingOffsetsAreRejected) {
  std::string message = parseError(makeImage(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(12, '\0')));
  EXPECT_NE(message.find("overlap"), std::string::npos) << message;
  EXPECT_NE(message.find("'a'"), std::string::npos) << message;
  EXPECT_NE(message.find("'b'"), std::string::npos) << message;
}

TEST(SafetensorsTest, GapsAndTrailingBytesAreRejected) {
  std::string gap = parseError(makeImage(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
      std::string(12, '\0')));
  EXPECT_NE(gap.find("bytes [4, 8)"), std::string::npos) << gap;

  std::string trailing = parseError(makeImage(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
      std::string(6, '\0')));
  EXPECT_NE(trailing.find("bytes [4, 6)"), std::string::npos) << trailing;
}

TEST(SafetensorsTest, MalformedTensorEntriesAreRejected) {
  struct Case {
    const char *header;
    const char *expected;
  };
  const Case cases[] = {
      {R"({"a":{"shape":[1],"data_offsets":[0,4]}})", "'dtype'"},
      {R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", "'shape'"},
      {R"({"a":{"dtype":"F32","shape":[1]}})", "'data_offsets'"},
      {R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
       "shape entry"},
      {R"({"a":{"dtype":"F32","shape":["x"],"data_offsets":[0,4]}})",
       "shape entry"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
       "begin after end"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})",
       "expected 2"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})",
       "invalid data_offsets"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})",
       "unknown field 'x'"},
      {R"({"a":[1,2]})", "not a JSON object"},
      {R"({"a":{"dtype":"F32","shape":[4611686018427387904, 4],)"
       R"("data_offsets":[0,4]}})",
       "overflows"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.header);
    std::string message = parseError(makeImage(c.header, std::string(4, '\0')));
    EXPECT_NE(message.find("tensor 'a'"), std::string::npos) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
}

TEST(SafetensorsTest, NonStringMetadataIsRejected) {
  std::string message = parseError(makeImage(
      R"({"__metadata__":{"version":1},)"
      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
      std::string(4, '\0')));
  EXPECT_NE(message.find("'version'"), std::string::npos) << message;
}

TEST(SafetensorsTest, EmptyFileObjectIsAccepted) {
  llvm::Expected<File> file = parseBuffer(makeImage("{}", ""), "empty");
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_TRUE(file->tensors.empty());
  EXPECT_TRUE(file->metadata.empty());
}

} // namespace
