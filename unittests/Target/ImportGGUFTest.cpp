//===- ImportGGUFTest.cpp - Tests of the GGUF Llama importer --------------===//

#include "sensq/Target/GGUF/ImportGGUF.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace sensq;

#ifdef SENSQ_SOURCE_DIR
namespace {

std::unique_ptr<gguf::GGUFFile> openModel() {
  llvm::SmallString<256> path(SENSQ_SOURCE_DIR);
  llvm::sys::path::append(path, "data", "stories260K-f32.gguf");
  auto file = gguf::GGUFFile::open(path);
  if (!file) {
    ADD_FAILURE() << llvm::toString(file.takeError());
    return nullptr;
  }
  return std::move(*file);
}

/// Returns the blob key of the dense_resource constant `value`, or "".
std::string getResourceKey(Value value) {
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return "";
  auto attr = dyn_cast<DenseResourceElementsAttr>(constant.getValue());
  if (!attr)
    return "";
  return attr.getRawHandle().getKey().str();
}

TEST(ImportGGUFTest, RealModelStructure) {
  std::unique_ptr<gguf::GGUFFile> file = openModel();
  ASSERT_TRUE(file);
  MLIRContext context;
  ImportOptions options;
  options.seqLen = 4;
  auto module = importGGUF(*file, &context, options);
  ASSERT_TRUE(static_cast<bool>(module)) << llvm::toString(module.takeError());
  ModuleOp moduleOp = module->get();
  EXPECT_TRUE(succeeded(verify(moduleOp)));

  EXPECT_EQ(moduleOp->getAttrOfType<IntegerAttr>(kVocabSizeAttrName).getInt(),
            512);
  EXPECT_EQ(moduleOp->getAttrOfType<IntegerAttr>(kSeqLenAttrName).getInt(), 4);
  EXPECT_EQ(moduleOp->getAttrOfType<StringAttr>(kModelAttrName).getValue(),
            "tinyllamas-stories-260k");

  auto forward = moduleOp.lookupSymbol<func::FuncOp>("forward");
  ASSERT_TRUE(forward);
  EXPECT_TRUE(forward->hasAttr("llvm.emit_c_interface"));
  FunctionType type = forward.getFunctionType();
  ASSERT_EQ(type.getNumInputs(), 1u);
  ASSERT_EQ(type.getNumResults(), 1u);
  EXPECT_EQ(cast<RankedTensorType>(type.getInput(0)).getShape(),
            ArrayRef<int64_t>({4}));
  EXPECT_TRUE(
      cast<RankedTensorType>(type.getInput(0)).getElementType().isInteger(32));
  EXPECT_EQ(cast<RankedTensorType>(type.getResult(0)).getShape(),
            ArrayRef<int64_t>({4, 512}));

  // Every matmul is x W^T with a named dense_resource weight of [N, K].
  std::vector<std::string> names;
  forward.walk([&](linalg::MatmulOp matmul) {
    auto name = matmul->getAttrOfType<StringAttr>(kWeightAttrName);
    ASSERT_TRUE(name);
    names.push_back(name.str());
    EXPECT_EQ(getResourceKey(matmul.getInputs()[1]), name.str());
    auto x = cast<RankedTensorType>(matmul.getInputs()[0].getType());
    auto w = cast<RankedTensorType>(matmul.getInputs()[1].getType());
    auto y = cast<RankedTensorType>(matmul.getResult(0).getType());
    EXPECT_EQ(x.getDimSize(0), 4);
    EXPECT_EQ(x.getDimSize(1), w.getDimSize(1)) << name.str();
    EXPECT_EQ(y.getDimSize(1), w.getDimSize(0)) << name.str();
    const gguf::TensorInfo *info = file->findTensor(name.str());
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(static_cast<int64_t>(info->dims[0]), w.getDimSize(1));
    EXPECT_EQ(static_cast<int64_t>(info->dims[1]), w.getDimSize(0));

    SmallVector<AffineMap> maps = matmul.getIndexingMapsArray();
    MLIRContext *ctx = matmul.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    EXPECT_EQ(maps[0], AffineMap::get(3, 0, {m, k}, ctx));
    EXPECT_EQ(maps[1], AffineMap::get(3, 0, {n, k}, ctx));
    EXPECT_EQ(maps[2], AffineMap::get(3, 0, {m, n}, ctx));
  });
  ASSERT_EQ(names.size(), 36u);
  EXPECT_EQ(names[0], "blk.0.attn_q.weight");
  EXPECT_EQ(names[6], "blk.0.ffn_down.weight");
  EXPECT_EQ(names[35], "output.weight");

  // The blob of a weight contains the float32 data of the tensor.
  auto &blobManager =
      DenseResourceElementsHandle::getManagerInterface(&context);
  auto *entry = blobManager.getBlobManager().lookup("blk.0.attn_q.weight");
  ASSERT_NE(entry, nullptr);
  ASSERT_NE(entry->getBlob(), nullptr);
  std::vector<float> expected = llvm::cantFail(
      file->readTensorAsF32(*file->findTensor("blk.0.attn_q.weight")));
  ArrayRef<float> data = entry->getBlob()->getDataAs<float>();
  EXPECT_EQ(std::vector<float>(data.begin(), data.end()), expected);
}

TEST(ImportGGUFTest, DefaultSeqLenIsContextLength) {
  std::unique_ptr<gguf::GGUFFile> file = openModel();
  ASSERT_TRUE(file);
  MLIRContext context;
  auto module = importGGUF(*file, &context, ImportOptions());
  ASSERT_TRUE(static_cast<bool>(module)) << llvm::toString(module.takeError());
  EXPECT_EQ(module->get()->getAttrOfType<IntegerAttr>(kSeqLenAttrName).getInt(),
            512);
}

TEST(ImportGGUFTest, SecondImportRenamesBlobs) {
  std::unique_ptr<gguf::GGUFFile> file = openModel();
  ASSERT_TRUE(file);
  MLIRContext context;
  ImportOptions options;
  options.seqLen = 2;
  auto first = importGGUF(*file, &context, options);
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());
  auto second = importGGUF(*file, &context, options);
  ASSERT_TRUE(static_cast<bool>(second)) << llvm::toString(second.takeError());
  (*second)->walk([&](linalg::MatmulOp matmul) {
    std::string name = matmul->getAttrOfType<StringAttr>(kWeightAttrName).str();
    std::string key = getResourceKey(matmul.getInputs()[1]);
    EXPECT_NE(key, name);
    EXPECT_EQ(llvm::StringRef(key).starts_with(name), true) << key;
  });
}

TEST(ImportGGUFTest, RejectsBadSeqLen) {
  std::unique_ptr<gguf::GGUFFile> file = openModel();
  ASSERT_TRUE(file);
  MLIRContext context;
  ImportOptions options;
  options.seqLen = 513;
  auto tooLong = importGGUF(*file, &context, options);
  ASSERT_FALSE(static_cast<bool>(tooLong));
  EXPECT_NE(llvm::toString(tooLong.takeError())
                .find("stories260K-f32.gguf: sequence length 513 exceeds the "
                      "context length 512 of the model"),
            std::string::npos);
  options.seqLen = -1;
  auto negative = importGGUF(*file, &context, options);
  ASSERT_FALSE(static_cast<bool>(negative));
  EXPECT_NE(llvm::toString(negative.takeError())
                .find("sequence length -1 is out of range"),
            std::string::npos);
}

} // namespace
#endif
